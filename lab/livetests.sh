#!/bin/bash
# The live tests (tests/live/*.t), run inside a lab L1 whose KVM is real
# (TDP MMU on the emulated NPT or EPT): lab/init.sh's livetests step runs
# this in a chroot of the host's root (over 9p, read-only, under a tmpfs
# overlay), in the checkout the host named.  For a host without /dev/kvm,
# tests/run.sh takes the live tests' results from here.
#
#   lab/livetests.sh RESULTS-DIR [NAME,...]
#
# NAME is a tests/live/NAME.t, or test_NAME, a unit test binary of
# $BUILD/asan/tests that needs /dev/kvm; default: all of tests/live.
# Each leaves live-NAME.log (its TAP), live-NAME.rc (its exit status) and
# live-NAME.secs in RESULTS-DIR, run as tests/run.sh would run it: the same
# environment, MBECSCOPE from the environment.
set -u
res=${1:?usage: livetests.sh RESULTS-DIR [NAME,...]}
only=${2:-}
cd "$(dirname "$0")/.." || exit 2
export BUILD=${BUILD:-build}
export MBECSCOPE=${MBECSCOPE:-$BUILD/asan/mbecscope}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
mkdir -p "$res" || exit 2
if [ -z "$only" ]; then
	for t in tests/live/*.t; do only="$only,$(basename "$t" .t)"; done
fi
for name in ${only//,/ }; do
	case "$name" in
	test_*) cmd=("$BUILD/asan/tests/$name") ;;
	*) cmd=(bash "tests/live/$name.t") ;;
	esac
	f=$res/live-$name
	start=$SECONDS
	if [ -f "${cmd[-1]}" ]; then
		"${cmd[@]}" >"$f.log" 2>&1 </dev/null
		echo $? >"$f.rc"
	else
		echo "not ok 1 - ${cmd[-1]} is missing in $PWD" >"$f.log"
		echo 2 >"$f.rc"
	fi
	echo $((SECONDS - start)) >"$f.secs"
	# (also on L1's console, the one sign of progress the host sees)
	echo "livetests: $name exit $(cat "$f.rc") in $((SECONDS - start)) s" \
		"($(grep -c '^ok' "$f.log") ok, $(grep -c '^not ok' "$f.log") not ok)" |
		tee -a /dev/console 2>/dev/null
done
