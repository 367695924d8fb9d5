#!/bin/bash
# Show that mbecscope decodes a kernel running the series without being
# rebuilt: take the BTF of the series' KVM MMU (pahole -J on the mmu.o the
# quick check built with debug info, or the vmlinux of `make kernel-kunit`
# with --vmlinux) and
#   - decode a role with it (4-bit access, cr4_smep) and, for contrast,
#     with the running (classic) kernel's BTF;
#   - find the requested access in kvm_mmu_spte_requested's prototype;
#   - resolve the CO-RE relocations of build/gen/mbecscope.bpf.o against
#     it (bpftool gen min_core_btf) and check they landed on the mbec
#     fields (cr4_smep, 4-bit access);
#   - check that the series' SPTE/ACC constants are those of
#     include/mbec_kvm.h and decode an SPTE of the mbec layout.
# Needs the snapshots check.sh --quick leaves (series-mmu.o, series-spte.h).
#   core-btf.sh [--vmlinux] [START]     prints TAP from test number START+1
set -u
. "$(dirname "$0")/lib.sh"

use_vmlinux=0
[ "${1:-}" = --vmlinux ] && { use_vmlinux=1; shift; }
n=${1:-0}
failed=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
notok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; }
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }

M=${MBECSCOPE:-$KTOP/build/mbecscope}
case "$M" in /*) ;; *) M=$KTOP/$M ;; esac
OBJ=$BUILD/gen/mbecscope.bpf.o
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

if [ $use_vmlinux = 1 ]; then
	btf=$KDIR/out-kunit/vmlinux
	what="vmlinux of make kernel-kunit"
else
	obj=$KDIR/series-mmu.o		# saved by check.sh --quick
	what="pahole -J of the series' arch/x86/kvm/mmu/mmu.o"
	btf=$tmp/mmu.o
	if [ -f "$obj" ] && cp "$obj" "$btf" && pahole -J "$btf" >/dev/null 2>&1 &&
		bpftool btf dump file "$btf" >/dev/null 2>&1; then
		ok "BTF of the series' KVM MMU types ($what)"
	else
		notok "BTF of the series' KVM MMU types ($what: is pahole installed, was mmu.o built with debug info?)"
		exit 1
	fi
fi
[ -f "$btf" ] || { notok "BTF source $btf exists"; exit 1; }

# A TDP root role with GMET: level 4, direct, access 0xb (no USER),
# efer_nx, cr0_wp, cr4_smep - as the series' 6.12 layout places them.
role=0xeb84
out=$("$M" decode role $role --btf "$btf" --json 2>&1)
if grep -q '"layout":"mbec"' <<<"$out" && grep -q '"access":11,' <<<"$out" &&
	grep -q '"cr4_smep":1' <<<"$out" && ! grep -q smep_andnot_wp <<<"$out"; then
	ok "mbecscope decodes role $role with this BTF: layout mbec, access 0xb, cr4_smep"
else
	notok "mbecscope decodes role $role with this BTF as mbec"
	echo "$out" | head -3 | sed 's/^/#   /'
fi
if [ -r /sys/kernel/btf/vmlinux ]; then
	out=$("$M" decode role $role --btf /sys/kernel/btf/vmlinux --json 2>&1)
	if grep -q '"layout":"classic"' <<<"$out"; then
		ok "the running kernel's BTF gives the classic layout for the same word"
	elif grep -q '"layout":"mbec"' <<<"$out"; then
		skip "the running kernel's BTF gives the classic layout" "the running kernel has the series"
	else
		notok "the running kernel's BTF gives a layout"
	fi
else
	skip "the running kernel's BTF gives the classic layout" "no /sys/kernel/btf/vmlinux"
fi

# kvm_mmu_spte_requested(fault, access): the typedef BPF tp_btf programs see.
proto=$(bpftool btf dump file "$btf" format raw 2>/dev/null |
	awk '/TYPEDEF .btf_trace_kvm_mmu_spte_requested./ { t = $4; sub("type_id=", "", t) }
	     t != "" && $1 == "[" t "]" && $2 == "PTR" { p = $4; sub("type_id=", "", p) }
	     p != "" && $1 == "[" p "]" && $2 == "FUNC_PROTO" { print $NF; exit }')
if [ "$proto" = "vlen=3" ]; then
	ok "kvm_mmu_spte_requested has the requested access as a third tracepoint argument"
else
	notok "kvm_mmu_spte_requested has the requested access argument (prototype ${proto:-not found})"
fi

# CO-RE: resolve the BPF object's relocations against this BTF.
if [ ! -f "$OBJ" ]; then
	skip "CO-RE relocations of mbecscope.bpf.o resolve" "$OBJ not built (make)"
elif bpftool gen min_core_btf "$btf" "$tmp/min.btf" "$OBJ" >"$tmp/min.log" 2>&1; then
	dump=$(bpftool btf dump file "$tmp/min.btf" format raw 2>/dev/null)
	if grep -q "'cr4_smep' .*bitfield_size=1" <<<"$dump" &&
		grep -q "'access' .*bitfield_size=4" <<<"$dump" &&
		! grep -q "'smep_andnot_wp'" <<<"$dump"; then
		ok "CO-RE relocations of mbecscope.bpf.o resolve to cr4_smep and the 4-bit access"
	else
		notok "CO-RE relocations of mbecscope.bpf.o resolve to cr4_smep and the 4-bit access"
		grep -E "smep|'access'" <<<"$dump" | head -5 | sed 's/^/#   /'
	fi
	if [ -r /sys/kernel/btf/vmlinux ] &&
		bpftool gen min_core_btf /sys/kernel/btf/vmlinux "$tmp/host.btf" "$OBJ" >/dev/null 2>&1 &&
		bpftool btf dump file "$tmp/host.btf" format raw 2>/dev/null |
		grep -q "'smep_andnot_wp'"; then
		ok "the same object resolves to smep_andnot_wp against the running (classic) kernel"
	else
		skip "the same object resolves to smep_andnot_wp on the running kernel" \
			"no classic BTF here"
	fi
else
	notok "CO-RE relocations of mbecscope.bpf.o resolve (bpftool gen min_core_btf)"
	head -5 "$tmp/min.log" | sed 's/^/#   /'
fi

# The series' SPTE software bits and ACC values are include/mbec_kvm.h's
# (spte.h as check.sh --quick applied it).
spte_h=$KDIR/series-spte.h
kdef() {	# print the value of a #define NAME in the applied tree's spte.h
	sed -nE "s/^#define $1[[:space:]]+(.*)$/\1/p" "$spte_h" | head -1 |
		sed -E 's/BIT_ULL\(([0-9]+)\)/(1ULL << \1)/; s/\(SHADOW_NONPRESENT_VALUE \| (0x[0-9a-fA-F]+)ULL\)/\1ULL/'
}
cat > "$tmp/abi.c" <<CEOF
#include <stdio.h>
#include "mbec_kvm.h"
#define CHECK(what, kernel, ours) \\
	printf("%s %s\n", (unsigned long long)(kernel) == (unsigned long long)(ours) ? "same" : "DIFF", what)
int main(void)
{
	CHECK("ACC_EXEC_MASK", $(kdef ACC_EXEC_MASK), MBEC_ACC_EXEC);
	CHECK("ACC_USER_MASK", 4, MBEC_ACC_USER);
	CHECK("EPT_SPTE_HOST_WRITABLE", $(kdef EPT_SPTE_HOST_WRITABLE), MBEC_SPTE_EPT_HOST_WRITABLE);
	CHECK("EPT_SPTE_MMU_WRITABLE", $(kdef EPT_SPTE_MMU_WRITABLE), MBEC_SPTE_EPT_MMU_WRITABLE);
	CHECK("SPTE_TDP_AD_SHIFT", $(kdef SPTE_TDP_AD_SHIFT), MBEC_SPTE_TDP_AD_SHIFT);
	CHECK("SHADOW_ACC_TRACK_SAVED_BITS_SHIFT (R)", $(kdef SHADOW_ACC_TRACK_SAVED_BITS_SHIFT), MBEC_SPTE_SAVED_R_SHIFT);
	CHECK("saved XS", $(kdef SHADOW_ACC_TRACK_SAVED_BITS_SHIFT) + 2, MBEC_SPTE_SAVED_XS_SHIFT);
	CHECK("saved XU", $(kdef SHADOW_ACC_TRACK_SAVED_BITS_SHIFT) + 10, MBEC_SPTE_SAVED_XU_SHIFT);
	CHECK("MMIO_SPTE_GEN_LOW_END", $(kdef MMIO_SPTE_GEN_LOW_END), 9);
	CHECK("FROZEN_SPTE", $(kdef FROZEN_SPTE), MBEC_FROZEN_SPTE_BITS);
	return 0;
}
CEOF
if gcc -I"$KTOP/include" -o "$tmp/abi" "$tmp/abi.c" 2>"$tmp/abi.log"; then
	res=$("$tmp/abi")
	if ! grep -q DIFF <<<"$res"; then
		ok "the series' SPTE bits and ACC values equal include/mbec_kvm.h ($(wc -l <<<"$res") constants)"
	else
		notok "the series' SPTE bits and ACC values equal include/mbec_kvm.h"
		grep DIFF <<<"$res" | sed 's/^/#   /'
	fi
else
	notok "the series' SPTE constants can be read from $spte_h"
	head -5 "$tmp/abi.log" | sed 's/^/#   /'
fi

# An access-tracked EPT SPTE of the mbec layout: R/XS/XU saved at 52/54/62,
# host- and MMU-writable at 53/55, A/D disabled (61:60 = 1), shadow-present.
spte=$(printf '0x%x' $(( (1 << 52) | (1 << 54) | (1 << 62) | (1 << 53) | (1 << 55) | (1 << 60) | (1 << 11) | 0x1234000 )))
out=$("$M" decode spte "$spte" --layout mbec --format ept --json 2>&1)
if grep -q '"class":"access-tracked"' <<<"$out" && grep -q 'SAVED_XU' <<<"$out" &&
	grep -q '"warnings":\[\]' <<<"$out"; then
	ok "mbecscope decodes an access-tracked mbec-layout SPTE ($spte) with its saved XU"
else
	notok "mbecscope decodes an access-tracked mbec-layout SPTE ($spte)"
	echo "$out" | head -3 | sed 's/^/#   /'
fi
echo "# core-btf: $n tests"
exit $((failed > 0))
