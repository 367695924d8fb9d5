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
#   bochs3-6.12  Bochs 3.0 (tigerlake: EPT, MBEC offered) x Debian's newest
#                6.12 (~5 min; Bochs 3.0 from lab/bochs3.sh, once)
#   bochs3-series  Bochs 3.0 x our series with kvm_intel.mbec=1
#   gmet-series  QEMU with our GMET patch (SVM, NPT, GMET) x our series
#                with kvm_amd.gmet=1: KVM's TDP with GMET's U=0 leaves
# Each run's files are in $BUILD/lab/runs/<emulator>-<kernel>/, with
# summary.txt; `python3 lab/summary.py --details DIR` says more.  Exit 0
# when every run met every assertion of lab/summary.py, 1 otherwise.
set -u
LAB=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$LAB/.." && pwd)
BUILD=${BUILD:-build}
case "$BUILD" in /*) ;; *) BUILD=$TOP/$BUILD ;; esac
export BUILD
bin=$BUILD/mbecscope only=qemu-6.1,qemu-6.12,qemu-series,bochs-6.1,gmet,gmet-series,bochs3-6.12,bochs3-series
while [ $# -gt 0 ]; do
	case "$1" in
	--mbecscope) bin=$2; shift 2 ;;
	--only) only=$2; shift 2 ;;
	-h|--help) awk 'NR > 1 && !/^#/ { exit } NR > 1' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
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
if want gmet-series; then
	"$LAB/run.sh" --mbecscope "$bin" --emulator qemu-gmet --kernel series --kvm-param gmet=1 \
		2>"$BUILD/lab/gmet-series.err" || failed=1
	[ -s "$BUILD/lab/runs/qemu-gmet-series/summary.txt" ] ||
		{ echo "qemu-gmet series: no result: $(tail -1 "$BUILD/lab/gmet-series.err")"; failed=1; }
fi
for r in bochs3-6.12 bochs3-series; do
	want "$r" || continue
	case "$r" in
	*-series) k=series mbec=mbec=1 ;;
	*) k=debian-${r#bochs3-} mbec= ;;
	esac
	"$LAB/run.sh" --mbecscope "$bin" --emulator bochs3 --kernel "$k" ${mbec:+--kvm-param "$mbec"} \
		2>"$BUILD/lab/$r.err" || failed=1
	[ -s "$BUILD/lab/runs/bochs3-$k/summary.txt" ] ||
		{ echo "bochs3 $k: no result: $(tail -1 "$BUILD/lab/$r.err")"; failed=1; }
done
if [ -n "$bochs_pid" ]; then
	wait "$bochs_pid" || failed=1
	cat "$BUILD/lab/bochs-6.1.line"
	[ -s "$BUILD/lab/bochs-6.1.line" ] ||
		{ echo "bochs debian-6.1: no result: $(tail -1 "$BUILD/lab/bochs-6.1.err")"; failed=1; }
fi
echo "# lab: $((SECONDS - start))s in all; details: python3 lab/summary.py --details $BUILD/lab/runs/<run>"
exit $failed
