#!/bin/bash
# make lab: every run of the lab, one line each on stdout.
#
#   lab/lab.sh [--mbecscope BIN] [--only NAME,...]
#
# The runs (NAME: emulator x kernel):
#   qemu-6.1     QEMU TCG (AMD, NPT, TDP MMU) x Debian's newest 6.1
#   qemu-6.12    QEMU TCG x Debian's newest 6.12
#   qemu-series  QEMU TCG x our kernel/ series (built once, 25-55 min)
#   bochs-6.1    Bochs (Intel Haswell, EPT) x Debian's newest 6.1 (~6 min;
#                run alongside the others, it takes one core)
#   gmet         our QEMU GMET patch against AMD's rules
#                (lab/qemu/test/gmet.t; builds the patched QEMU once,
#                lab/qemu-gmet.sh, 20-40 min; then about 5 s)
# Each run's files are in $BUILD/lab/runs/<emulator>-<kernel>/, with
# summary.txt; `python3 lab/summary.py --details DIR` says more.  Exit 0
# when every run met every assertion of lab/summary.py, 1 otherwise.
set -u
LAB=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$LAB/.." && pwd)
BUILD=${BUILD:-build}
case "$BUILD" in /*) ;; *) BUILD=$TOP/$BUILD ;; esac
export BUILD
bin=$BUILD/mbecscope only=qemu-6.1,qemu-6.12,qemu-series,bochs-6.1,gmet
while [ $# -gt 0 ]; do
	case "$1" in
	--mbecscope) bin=$2; shift 2 ;;
	--only) only=$2; shift 2 ;;
	-h|--help) sed -n '2,17p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) echo "lab: unknown argument '$1' (see lab/lab.sh --help)" >&2; exit 2 ;;
	esac
done
want() { case ",$only," in *",$1,"*) return 0 ;; esac; return 1; }

failed=0
start=$SECONDS
bochs_pid=
if want bochs-6.1; then
	# Fetch first so that the background run does not race the others on apt.
	"$LAB/stock-kernel.sh" debian-6.1 >/dev/null || exit 2
	"$LAB/run.sh" --mbecscope "$bin" --emulator bochs --kernel debian-6.1 \
		>"$BUILD/lab/bochs-6.1.line" 2>"$BUILD/lab/bochs-6.1.err" &
	bochs_pid=$!
fi
if want gmet; then
	if ! "$LAB/qemu-gmet.sh" >/dev/null 2>"$BUILD/lab/gmet.err"; then
		echo "gmet  qemu patch: not built: $(tail -1 "$BUILD/lab/gmet.err")"
		failed=1
	else
		bash "$LAB/qemu/test/gmet.t" >"$BUILD/lab/gmet.tap" 2>&1 || failed=1
		echo "gmet  qemu patch: $(grep -c '^ok' "$BUILD/lab/gmet.tap") ok," \
			"$(grep -c '^not ok' "$BUILD/lab/gmet.tap") not ok ($BUILD/lab/gmet.tap)"
	fi
fi
for r in qemu-6.1 qemu-6.12 qemu-series; do
	want "$r" || continue
	k=${r#qemu-}
	case "$k" in series) ;; *) k=debian-$k ;; esac
	"$LAB/run.sh" --mbecscope "$bin" --kernel "$k" 2>"$BUILD/lab/$r.err" || failed=1
	[ -s "$BUILD/lab/runs/qemu-$k/summary.txt" ] ||
		{ echo "qemu  $k: no result: $(tail -1 "$BUILD/lab/$r.err")"; failed=1; }
done
if [ -n "$bochs_pid" ]; then
	wait "$bochs_pid" || failed=1
	cat "$BUILD/lab/bochs-6.1.line"
	[ -s "$BUILD/lab/bochs-6.1.line" ] ||
		{ echo "bochs debian-6.1: no result: $(tail -1 "$BUILD/lab/bochs-6.1.err")"; failed=1; }
fi
echo "# lab: $((SECONDS - start))s in all; details: python3 lab/summary.py --details $BUILD/lab/runs/<run>"
exit $failed
