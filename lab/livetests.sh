#!/bin/bash
# The live tests (tests/live/*.t), run inside a lab L1 whose KVM is real
# (TDP MMU on the emulated NPT or EPT): lab/init.sh's livetests step runs
# this in a chroot of the host's root (over 9p, read-only, under a tmpfs
# overlay), in the checkout the host named.  For a host without /dev/kvm,
# tests/run.sh takes the live tests' results from here.
#
#   lab/livetests.sh RESULTS-DIR [NAME,...]
#
# Each test NAME (default: all of tests/live) leaves live-NAME.log (its
# TAP), live-NAME.rc (its exit status) and live-NAME.secs in RESULTS-DIR, as tests/run.sh
# would run it: the same environment, MBECSCOPE from the environment.
set -u
res=${1:?usage: livetests.sh RESULTS-DIR [NAME,...]}
only=${2:-}
cd "$(dirname "$0")/.." || exit 2
export BUILD=${BUILD:-build}
export MBECSCOPE=${MBECSCOPE:-$BUILD/asan/mbecscope}
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
export MBEC_TEST_WHERE="lab L1 $(uname -r)"
mkdir -p "$res" || exit 2
for t in tests/live/*.t; do
	name=$(basename "$t" .t)
	case ",${only:-$name}," in *",$name,"*) ;; *) continue ;; esac
	start=$SECONDS
	f=$res/live-$name
	bash "$t" >"$f.log" 2>&1 </dev/null
	echo $? >"$f.rc"
	echo $((SECONDS - start)) >"$f.secs"
	# (also on L1's console, the one sign of progress the host sees)
	echo "livetests: $name exit $(cat "$f.rc") in $((SECONDS - start)) s" \
		"($(grep -c '^ok' "$f.log") ok, $(grep -c '^not ok' "$f.log") not ok)" |
		tee -a /dev/console 2>/dev/null
done
