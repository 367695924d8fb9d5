#!/bin/bash
# The lab under QEMU (lab/run.sh): Debian's newest stock 6.1 and 6.12
# kernels booted under TCG with an AMD CPU with SVM and NPT, KVM loaded with
# npt=1 (the TDP MMU), and mbecscope run inside L1 against that real MMU.
# For each kernel, lab/summary.py's assertions: every step ran, the
# workload passed, SPTEs checked with a reason for each coverage class,
# #NPF information checked, 0 anomalies, 0 lost events, every program on
# tp_btf or saying why not, and the negative control fired; and the nested
# workload (the guest as an SVM hypervisor: every L3 access and #NPF
# EXITINFO1 as the model says) passed with its own negative control firing
# (3 of 3 runs on each kernel passed when it was added).  About 30 s a
# kernel (the first run also downloads the two kernel packages, ~180 MB).
# The binary run in L1 is $LAB_MBECSCOPE (default $BUILD/mbecscope: the
# normal build, since an ASan binary in a 2 GiB guest tests ASan, not us).
set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-build}
case "$BUILD" in /*) ;; *) BUILD=$TOP/$BUILD ;; esac
export BUILD
bin=${LAB_MBECSCOPE:-$BUILD/mbecscope}

if ! command -v qemu-system-x86_64 >/dev/null; then
	echo "1..0 # SKIP qemu-system-x86_64 is missing (tools/deps.sh lab installs qemu-system-x86)"
	exit 0
fi
if [ ! -x "$bin" ]; then
	echo "1..0 # SKIP $bin is not built (make all)"
	exit 0
fi
# Without the kernel packages there is nothing to boot: say why and skip.
for k in debian-6.1 debian-6.12; do
	if ! "$TOP/lab/stock-kernel.sh" "$k" >/dev/null 2>"$BUILD/lab-$k.fetch.err"; then
		echo "1..0 # SKIP cannot fetch the $k kernel: $(tail -1 "$BUILD/lab-$k.fetch.err")"
		exit 0
	fi
	rm -f "$BUILD/lab-$k.fetch.err"
done

n=0 failed=0
for k in debian-6.1 debian-6.12; do
	dir=$BUILD/lab/test-qemu-$k
	"$TOP/lab/run.sh" --mbecscope "$bin" --kernel "$k" --out "$dir" --timeout 300 \
		>"$BUILD/lab/test-qemu-$k.line" 2>"$BUILD/lab/test-qemu-$k.err"
	sed 's/^/# /' "$BUILD/lab/test-qemu-$k.line" "$BUILD/lab/test-qemu-$k.err"
	python3 "$TOP/lab/summary.py" --tap "$dir" "$n" > "$BUILD/lab/test-qemu-$k.tap"
	[ $? -eq 0 ] || failed=1
	cat "$BUILD/lab/test-qemu-$k.tap"
	n=$((n + $(grep -cE '^(not )?ok ' "$BUILD/lab/test-qemu-$k.tap")))
done
echo "1..$n"
exit $failed
