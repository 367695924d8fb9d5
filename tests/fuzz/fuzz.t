#!/bin/bash
# Run each libFuzzer target (tests/fuzz/*.c, built by `make fuzz-build`)
# for FUZZ_SECONDS (default 4; `make fuzz` runs them longer), seeded with
# the golden fixtures.  A crash, a leak, a timeout (> 5 s on one input) or
# more than 1 GiB of memory fails the test and leaves the input in the log.
set -u
BUILD=${BUILD:-build}
secs=${FUZZ_SECONDS:-4}
fx=tests/golden/fixtures
n=0 failed=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; shift; for l in "$@"; do echo "# $l"; done; }

fuzz_one() {
	local name=$1 bin=$BUILD/fuzz/$1 corpus seeds; shift
	if [ ! -x "$bin" ]; then
		nok "$name: not built (make fuzz-build)"
		return
	fi
	if [ "${FUZZ_KEEP:-0}" = 1 ]; then
		corpus=$BUILD/fuzz/corpus-$name
	else
		corpus=$tmp/corpus-$name
	fi
	mkdir -p "$corpus" "$tmp/seed-$name"
	for seeds in "$@"; do
		cp $seeds "$tmp/seed-$name/" 2>/dev/null
	done
	"$bin" -max_total_time="$secs" -timeout=5 -rss_limit_mb=1024 -max_len=65536 \
		-artifact_prefix="$tmp/$name-" -print_final_stats=1 \
		"$corpus" "$tmp/seed-$name" >"$tmp/$name.log" 2>&1
	local rc=$? runs
	# The last figure is the fuzzer's own: a target that forks (trace.dat's
	# header probe) leaves its children's final stats in the log before it.
	runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$tmp/$name.log" | tail -n 1)
	if [ $rc -eq 0 ] && [ "${runs:-0}" -gt 0 ]; then
		ok "$name: ${runs} inputs in ${secs}s, no crash, leak or timeout"
	else
		nok "$name: exit $rc after ${runs:-0} inputs" "$(grep -E 'ERROR|SUMMARY|==[0-9]+==' \
			"$tmp/$name.log" | head -5)" \
			"input: $(ls "$tmp/$name-"* 2>/dev/null | head -1 | xargs -r base64 -w0 | head -c 400)"
	fi
}

# The recording reader: seeded with recordings of both format versions (the
# fixtures are version 1; replay -o rewrites them as version 2, zstd); the
# text importer: with text.
gzip -dc $fx/workload-capture.trace.gz | head -n 400 >"$tmp/capture-head.trace"
mkdir -p "$tmp/v2"
for f in $fx/*.mbr; do
	"${MBECSCOPE:-$BUILD/mbecscope}" replay "$f" -o "$tmp/v2/$(basename "$f" .mbr)-v2.mbr" \
		>/dev/null 2>&1
done
if ls "$tmp"/v2/*-v2.mbr >/dev/null 2>&1; then
	ok "version 2 seeds written: $(ls "$tmp"/v2/*-v2.mbr | wc -l)"
else
	nok "no version 2 seeds (is ${MBECSCOPE:-$BUILD/mbecscope} built?)"
fi
fuzz_one fuzz_recording "$fx/*.mbr" "$tmp/v2/*-v2.mbr"
fuzz_one fuzz_ftrace "$fx/*.trace" "$fx/forms/*.trace" "$tmp/capture-head.trace"
# trace.dat, over libtracecmd/libtraceevent: their own leaks while parsing
# formats are suppressed (tests/lsan-libtraceevent.supp), and a section size
# of petabytes makes libtracecmd's malloc() fail (glibc returns NULL) rather
# than ASan stop.
mkdir -p "$tmp/dat"
for f in $fx/*.dat.gz; do gzip -dc "$f" >"$tmp/dat/$(basename "$f" .gz)"; done
LSAN_OPTIONS=${LSAN_OPTIONS:+$LSAN_OPTIONS:}suppressions=$PWD/tests/lsan-libtraceevent.supp:print_suppressions=0 \
ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}allocator_may_return_null=1 \
	fuzz_one fuzz_tracedat "$fx/*.dat" "$tmp/dat/*.dat" "$fx/fuzz/*.dat"

echo "1..$n"
[ $failed -eq 0 ]
