#!/bin/bash
# Build a minimal kernel with the series and the kvm_x86_mmu KUnit suite,
# boot it under QEMU (TCG, an EPYC CPU with SVM so that kvm_amd loads with
# NPT) with a tiny initramfs, and report the suite's results as TAP.
#
#   kunit.sh [--keep]     (make kernel-kunit)
#
# The kernel is built in $BUILD/kernel/out-kunit from the cached tree
# (see lib.sh) with kernel/config/kvm.config + kernel/config/kunit.config;
# its vmlinux (with BTF) is what tests/kernel/core-btf.t resolves the BPF
# object against.  Exit 0 when the suite passed, 1 when it failed or the
# boot went wrong, 2 when the tree or QEMU cannot be had.
set -u
. "$(dirname "$0")/lib.sh"

case "${1:-}" in
-h|--help) sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
esac

ksrc_available || exit 2
QEMU=${QEMU:-qemu-system-x86_64}
command -v "$QEMU" >/dev/null || kdie "$QEMU is missing; install qemu-system-x86"
mkdir -p "$KDIR"
exec 9>"$KDIR/check.lock"
flock 9
ktree_prepare
OUT=$KDIR/out-kunit
start=$SECONDS

n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
notok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; }
echo "1..5"

mapfile -t patches < <(kseries)
ktree_reset
if git -C "$KTREE" "${GIT_IDENT[@]}" am -q "${patches[@]}" >"$KDIR/am.log" 2>&1; then
	ok "series applies (${#patches[@]} patches)"
else
	notok "series applies"
	sed 's/^/#   /' "$KDIR/am.log" | head -20
	git -C "$KTREE" am --abort >/dev/null 2>&1
	exit 1
fi
ksrc_stamps_restore "$OUT"

# Configure once per fragment content.
sum=$(cat "$KTOP"/kernel/config/kvm.config "$KTOP"/kernel/config/kunit.config | md5sum | cut -d' ' -f1)
if [ ! -f "$OUT/.config" ] || [ "$(cat "$OUT/.mbecscope-config" 2>/dev/null)" != "$sum" ]; then
	mkdir -p "$OUT"
	make -s -C "$KTREE" O="$OUT" ARCH=x86_64 tinyconfig >/dev/null &&
		"$KTREE/scripts/kconfig/merge_config.sh" -m -O "$OUT" "$OUT/.config" \
			"$KTOP/kernel/config/kvm.config" "$KTOP/kernel/config/kunit.config" >/dev/null &&
		make -s -C "$KTREE" O="$OUT" ARCH=x86_64 olddefconfig >/dev/null ||
		kdie "cannot configure the KUnit kernel"
	echo "$sum" > "$OUT/.mbecscope-config"
fi
for opt in KVM_MMU_KUNIT_TEST KVM_AMD KVM_INTEL DEBUG_INFO_BTF; do
	grep -q "^CONFIG_$opt=y" "$OUT/.config" || kdie "CONFIG_$opt did not survive olddefconfig"
done

t0=$SECONDS
log=$KDIR/kunit-build.log
if make -C "$KTREE" O="$OUT" "${KMAKE_ARGS[@]}" bzImage >"$log" 2>&1; then
	ok "kernel builds with the series and KUnit ($((SECONDS - t0))s)"
	ksrc_stamps_save "$OUT"
else
	notok "kernel builds with the series and KUnit"
	grep -E 'error' "$log" | head -10 | sed 's/^/#   /'
	tail -5 "$log" | sed 's/^/#   /'
	exit 1
fi

# initramfs: a static /init that reboots once KUnit is done.
rd=$KDIR/kunit-initramfs
rm -rf "$rd" && mkdir -p "$rd/root/dev"
gcc -static -Os -o "$rd/root/init" "$KTOP/kernel/scripts/kunit-init.c" ||
	kdie "cannot build the static init (libc6-dev provides libc.a)"
(cd "$rd/root" && find . | cpio -o -H newc --quiet) | gzip -9 > "$rd/initramfs.cpio.gz" ||
	kdie "cannot make the initramfs (cpio)"

console=$KDIR/kunit-console.log
t0=$SECONDS
timeout "${KUNIT_TIMEOUT:-900}" "$QEMU" -accel tcg -cpu EPYC,+svm -smp 1 -m 512 \
	-nographic -no-reboot -monitor none -serial stdio \
	-kernel "$OUT/arch/x86/boot/bzImage" -initrd "$rd/initramfs.cpio.gz" \
	-append "console=ttyS0 panic=-1 kunit.filter_glob=kvm_x86_mmu" \
	>"$console" 2>&1 </dev/null
rc=$?
boot=$((SECONDS - t0))
if grep -q 'mbecscope-kunit-init: done' "$console"; then
	ok "kernel boots under QEMU TCG (-cpu EPYC,+svm) to the initramfs (${boot}s)"
else
	notok "kernel boots under QEMU TCG to the initramfs (qemu exit $rc, ${boot}s)"
	tail -20 "$console" | sed 's/^/#   /'
fi
if grep -q 'kvm_amd: Nested Paging enabled' "$console"; then
	ok "kvm_amd loaded with NPT"
else
	notok "kvm_amd loaded with NPT"
	grep -E 'kvm|svm' "$console" | head -5 | sed 's/^/#   /'
fi

# The suite's own TAP, indented by KUnit; its summary line decides.
sed -n 's/^\[ *[0-9.]*\] *//; /kvm_x86_mmu\|^ *\(not \)\{0,1\}ok\|# Subtest/p' "$console" |
	grep -E '^( *# |.*ok [0-9]+ )' | sed 's/^/#   /' | grep -vE '^#    +ok ' | head -60
summary=$(grep -oE '# kvm_x86_mmu: pass:[0-9]+ fail:[0-9]+ skip:[0-9]+ total:[0-9]+' "$console" | tail -1)
if [ -n "$summary" ] && echo "$summary" | grep -q 'fail:0 ' &&
	! echo "$summary" | grep -q 'pass:0 '; then
	totals=$(grep -oE '# Totals: pass:[0-9]+ fail:[0-9]+ skip:[0-9]+ total:[0-9]+' "$console" | tail -1)
	ok "KUnit kvm_x86_mmu: ${summary#\# kvm_x86_mmu: } (cases; parameters ${totals#\# Totals: })"
else
	notok "KUnit kvm_x86_mmu: ${summary:-no summary in $console}"
	grep -E 'Expected|model|not ok' "$console" | head -30 | sed 's/^/#   /'
fi
knote "kernel-kunit took $((SECONDS - start))s (console: $console, vmlinux: $OUT/vmlinux)"
exit $((failed > 0))
