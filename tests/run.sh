#!/bin/bash
# Run every test of the suite and total the TAP results.
#   unit binaries:  $BUILD/asan/tests/*      (C, linked with the library)
#   scripts:        tests/{cli,golden,live,kernel,fuzz,lab,ops}/*.t   (bash, TAP)
# The last line is "N passed, N failed, N skipped"; the exit status is
# non-zero when anything failed or a test died without saying why.
set -u
BUILD=${BUILD:-build}
export BUILD
export MBECSCOPE=${MBECSCOPE:-$BUILD/asan/mbecscope}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top" || exit 2

passed=0 failed=0 skipped=0
logdir=$BUILD/test-logs
mkdir -p "$logdir"

run_one() {
	local name=$1; shift
	local log=$logdir/$(echo "$name" | tr '/' '_').log
	local start=$SECONDS
	"$@" >"$log" 2>&1 </dev/null
	local rc=$? p=0 f=0 s=0
	p=$(grep -cE '^ok [0-9]+' "$log")
	s=$(grep -cE '^ok [0-9]+.*# *SKIP' "$log")
	f=$(grep -cE '^not ok [0-9]+' "$log")
	if grep -qE '^1\.\.0 # *SKIP' "$log"; then
		s=$((s + 1))
		echo "# SKIP $name: $(sed -n 's/^1\.\.0 # *SKIP *//p' "$log")"
	fi
	p=$((p - s))
	[ "$p" -lt 0 ] && p=0
	if [ $rc -ne 0 ] && [ $f -eq 0 ]; then
		f=1
		echo "not ok - $name exited with status $rc without a failing test"
	fi
	grep -E '^not ok|# SKIP' "$log" | sed "s|^|  $name: |"
	[ $f -ne 0 ] && { echo "  --- $name log: $log (last lines)"; tail -n 15 "$log" | sed 's/^/  | /'; }
	printf '%-40s %3d passed %3d failed %3d skipped (%ds)\n' "$name" $p $f $s $((SECONDS - start))
	passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
}

for t in "$BUILD"/asan/tests/*; do
	[ -x "$t" ] || continue
	run_one "unit/$(basename "$t")" "$t"
done
for dir in cli golden fuzz live kernel lab ops; do
	for t in tests/$dir/*.t; do
		[ -f "$t" ] || continue
		run_one "$dir/$(basename "$t" .t)" bash "$t"
	done
done

echo "$passed passed, $failed failed, $skipped skipped"
[ $failed -eq 0 ]
