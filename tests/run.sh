#!/bin/bash
# Run every test of the suite and total the TAP results.
#   unit binaries:  $BUILD/asan/tests/*      (C, linked with the library)
#   scripts:        tests/{cli,golden,live,kernel,fuzz,lab,ops}/*.t   (bash, TAP)
#                   (tests/live in the lab's L1 when this host has no
#                   /dev/kvm: live_in_lab below; MBEC_LIVE=auto|host|lab)
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

# tally NAME LOG RC SECS: count a finished test's TAP and print its line.
tally() {
	local name=$1 log=$2 rc=$3 secs=$4 p=0 f=0 s=0
	p=$(grep -cE '^ok [0-9]+' "$log")
	s=$(grep -cE '^ok [0-9]+.*# *SKIP' "$log")
	f=$(grep -cE '^not ok [0-9]+' "$log")
	if grep -qE '^1\.\.0 # *SKIP' "$log"; then
		s=$((s + 1))
		echo "# SKIP $name: $(sed -n 's/^1\.\.0 # *SKIP *//p' "$log")"
	fi
	p=$((p - s))
	[ "$p" -lt 0 ] && p=0
	if [ "$rc" != 0 ] && [ $f -eq 0 ]; then
		f=1
		echo "not ok - $name exited with status $rc without a failing test"
	fi
	grep -E '^not ok|# SKIP' "$log" | sed "s|^|  $name: |"
	[ $f -ne 0 ] && { echo "  --- $name log: $log (last lines)"; tail -n 15 "$log" | sed 's/^/  | /'; }
	printf '%-40s %3d passed %3d failed %3d skipped (%ds)\n' "$name" $p $f $s "$secs"
	passed=$((passed + p)); failed=$((failed + f)); skipped=$((skipped + s))
}

run_one() {
	local name=$1; shift
	local log=$logdir/$(echo "$name" | tr '/' '_').log
	local start=$SECONDS
	"$@" >"$log" 2>&1 </dev/null
	tally "$name" "$log" $? $((SECONDS - start))
}

# The live tests need /dev/kvm.  Where the host has none (KVM not loaded,
# or a host that is itself a guest), they run in the lab instead: an L1
# kernel under QEMU (TCG, SVM+NPT) whose KVM is real, with this checkout
# seen over 9p (lab/livetests.sh).  MBEC_LIVE=host runs them here whatever
# (they skip without /dev/kvm); MBEC_LIVE=lab runs them in the lab always.
# MBEC_LIVE_ONLY=NAME,... runs only those in the lab (a quicker look).
live_in_lab() {
	local dir=$BUILD/lab/runs/livetests rc name log
	echo "# live tests: ${why:-asked for (MBEC_LIVE=lab)}: run in the lab's L1" \
		"(lab/run.sh --steps livetests: QEMU TCG, Debian 6.12, KVM on NPT, TDP MMU)"
	local names=${MBEC_LIVE_ONLY:-}
	if [ -z "$names" ]; then
		for t in tests/live/*.t; do names="$names,$(basename "$t" .t)"; done
		names=${names#,}$lab_units
	fi
	lab/run.sh --steps livetests --testbin "$MBECSCOPE" --out "$dir" --live "$names" \
		--timeout "${MBEC_LIVE_TIMEOUT:-3000}" >"$logdir/live_lab.log" 2>&1
	rc=$?
	# An L1 that never got to the tests (TCG boot flakes have been seen:
	# a panic in early boot) is booted once more, and that is said.
	if [ $rc -ne 2 ] && ! ls "$dir"/live-*.rc >/dev/null 2>&1; then
		echo "# lab: L1 sent no result back (exit $rc; $(tail -n 1 "$dir/console.log" 2>/dev/null |
			tr -cd '[:print:]' | head -c 120)); booting it once more"
		mv "$logdir/live_lab.log" "$logdir/live_lab-1.log"
		lab/run.sh --steps livetests --testbin "$MBECSCOPE" --out "$dir" --live "$names" \
			--timeout "${MBEC_LIVE_TIMEOUT:-3000}" >"$logdir/live_lab.log" 2>&1
		rc=$?
	fi
	sed 's/^/# lab: /' "$logdir/live_lab.log" | tail -n 5
	for name in ${names//,/ }; do
		local shown=live/$name
		case "$name" in test_*) shown="unit/$name (in the lab)" ;; esac
		log=$dir/live-$name.log
		if [ -f "$dir/live-$name.rc" ]; then
			tally "$shown" "$log" "$(cat "$dir/live-$name.rc")" \
				"$(cat "$dir/live-$name.secs" 2>/dev/null || echo 0)"
		else
			echo "not ok - $shown did not run in the lab (lab/run.sh exit $rc;" \
				"$logdir/live_lab.log, $dir/console.log)"
			printf '%-40s %3d passed %3d failed %3d skipped (%ds)\n' "$shown" 0 1 0 0
			failed=$((failed + 1))
		fi
	done
}

why=
[ -c /dev/kvm ] || why="this host has no /dev/kvm"
case "${MBEC_LIVE:-auto}" in
host) why= ;;
lab) ;;
auto) [ -n "$why" ] && ! command -v qemu-system-x86_64 >/dev/null && why= ;;
*) echo "tests/run.sh: MBEC_LIVE is auto, host or lab, not '$MBEC_LIVE'" >&2; exit 2 ;;
esac
lab_units=
for t in "$BUILD"/asan/tests/*; do
	[ -x "$t" ] || continue
	# A unit test that needs /dev/kvm joins the live tests in the lab.
	if { [ -n "$why" ] || [ "${MBEC_LIVE:-auto}" = lab ]; } && [ -z "${MBEC_LIVE_ONLY:-}" ]; then
		log=$logdir/unit_$(basename "$t").log
		"$t" >"$log" 2>&1 </dev/null
		rc=$?
		if grep -qE '# *SKIP.*/dev/kvm' "$log"; then
			lab_units="$lab_units,$(basename "$t")"
			echo "# unit/$(basename "$t") needs /dev/kvm: it runs in the lab with the live tests"
			continue
		fi
		tally "unit/$(basename "$t")" "$log" $rc 0
		continue
	fi
	run_one "unit/$(basename "$t")" "$t"
done
for dir in cli golden fuzz live kernel lab ops; do
	if [ $dir = live ] && { [ -n "$why" ] || [ "${MBEC_LIVE:-auto}" = lab ]; }; then
		live_in_lab
		continue
	fi
	for t in tests/$dir/*.t; do
		[ -f "$t" ] || continue
		run_one "$dir/$(basename "$t" .t)" bash "$t"
	done
done

echo "$passed passed, $failed failed, $skipped skipped"
[ $failed -eq 0 ]
