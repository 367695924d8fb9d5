#!/bin/bash
# mbecscope decode: good input for every kind (values checked through the
# JSON output), and bad input: exit 2, exactly one line on stderr, nothing
# on stdout.
. "$(dirname "$0")/lib.sh"

# ---- help ----
run --help
[ $rc -eq 0 ] && grep -q decode "$tmp/out" && ok "mbecscope --help lists decode" || nok "mbecscope --help"
run decode --help
[ $rc -eq 0 ] && grep -q "^usage: mbecscope decode" "$tmp/out" && [ ! -s "$tmp/err" ] &&
	ok "decode --help on stdout, exit 0" || nok "decode --help" "exit $rc"

# ---- exit qualification ----
expect_text "exit-qual 0x1ab names every bit" \
	'bit 8 +GVA_TRANSLATED' decode exit-qual 0x1ab --layout mbec
expect_json "exit-qual 0x1ab: names" \
	'd["names"] == "ACC_READ|ACC_WRITE|PROT_READ|PROT_EXEC|GVA_IS_VALID|GVA_TRANSLATED"' \
	decode exit-qual 0x1ab --layout mbec
expect_json "exit-qual bit 6 undefined without --mbec" \
	'[f for f in d["fields"] if f["lo"] == 6][0]["undefined"] and d["flagged_mask"] == "0x40"' \
	decode exit-qual 0x44 --layout mbec
expect_text "exit-qual text flags bit 6" '\(undefined: MBEC off\)' decode exit-qual 0x44 --layout mbec
expect_json "exit-qual bit 6 defined with --mbec" \
	'not [f for f in d["fields"] if f["lo"] == 6][0]["undefined"] and d["mbec"] and d["layout"] == "mbec"' \
	decode exit-qual 0x44 --mbec
expect_json "exit-qual bit 20 undefined" \
	'd["flagged_mask"] == "0x100000"' decode exit-qual 0x100001 --layout classic
expect_json "exit-qual: KVM's error code, classic (reads are USER)" \
	'd["kvm_error_code"] == "0x100000007"' decode exit-qual 0x1ab --layout classic
expect_json "exit-qual: KVM's error code, mbec with MBEC (bit 6 present, 7+8+9 user)" \
	'd["kvm_error_code"] == "0x100000015"' decode exit-qual 0x3c4 --mbec
expect_json "exit-qual decimal value" 'd["value"] == "0x1ab"' decode exit-qual 427 --layout mbec

# ---- error codes ----
expect_json "npf 0x100000005 is P|US|FINAL" 'd["names"] == "P|US|FINAL" and d["stage"] == "final translation"' \
	decode npf 0x100000005
expect_json "npf 0x100000011 is P|ID|FINAL" 'd["names"] == "P|ID|FINAL"' decode npf 0x100000011
expect_json "pfec 0x100000007" 'd["values"]["GUEST_FINAL"] == 1 and d["names"] == "PRESENT|WRITE|USER|GUEST_FINAL"' \
	decode pfec 0x100000007

# ---- SPTEs ----
expect_json "spte mbec EPT R|W|XS|XU" \
	'd["class"] == "present" and d["grants"] == "0xf" and d["values"]["XU"] == 1 and d["warnings"] == []' \
	decode spte 0x00a0000012345f07 --layout mbec
expect_json "spte mbec access-tracked restores R|XS|XU" \
	'd["class"] == "access-tracked" and d["saved"] == "R|XS|XU" and d["restored"] == "0x1000000001234c05"' \
	decode spte 0x5050000001234800 --layout mbec
expect_json "spte classic MMIO generation" 'd["class"] == "mmio" and d["mmio_gen"] == 0x5a5a5' \
	decode spte 0x5a5000000000052e --layout classic
expect_json "spte classic frozen" 'd["class"] == "frozen"' decode spte 0x80000000000005a0 --layout classic
expect_json "spte legacy format" 'd["format"] == "legacy" and d["grants"] == "0x6"' \
	decode spte 0x8000000001234e67 --layout classic --format legacy

# ---- guest entries ----
expect_json "gpte" 'd["present"] and d["perm"] == "wu-" and d["values"]["NX"] == 1' \
	decode gpte 0x8000000000001067
expect_json "ept-pte XU ignored without --mbec" \
	'[f for f in d["fields"] if f["name"] == "XU"][0]["ignored"]' decode ept-pte 0x407
expect_json "ept-pte XU-only present with --mbec" 'd["present"] and d["mbec"]' decode ept-pte 0x400 --mbec

# ---- role and ACC ----
expect_json "role classic" \
	'd["values"]["level"] == 4 and d["values"]["access"] == 7 and d["values"]["cr0_wp"] == 1 and d["acc_letters"] == "wux"' \
	decode role 0x01002784 --layout classic
expect_json "role mbec" \
	'd["values"]["access"] == 15 and d["values"]["cr4_smep"] == 1 and d["acc_letters"] == "rwux"' \
	decode role 0x00048f84 --layout mbec
if [ -r /sys/kernel/btf/vmlinux ]; then
	expect_json "role from the running kernel's BTF" \
		'd["layout_from"].startswith("BTF of kernel") and d["values"]["level"] == 4' decode role 0x4
else
	n=$((n + 1)); echo "ok $n - role from BTF # SKIP no /sys/kernel/btf/vmlinux"
fi
MBECSCOPE_KERNEL_BTF=/nonexistent/vmlinux expect_usage "role without BTF: one line naming the fix" \
	'kernel has no BTF \(CONFIG_DEBUG_INFO_BTF\); pass --layout classic\|mbec' decode role 0x4
MBECSCOPE_KERNEL_BTF=/nonexistent/vmlinux expect_json "role without BTF but --layout" \
	'd["values"]["level"] == 4' decode role 0x4 --layout mbec
MBECSCOPE_KERNEL_BTF=/nonexistent/vmlinux expect_json "exit-qual without BTF: mbec by default" \
	'd["layout"] == "mbec" and d["layout_from"] == "default (no kernel BTF)"' decode exit-qual 0x1ab
expect_json "acc 0xb mbec" \
	'd["letters"] == "rw-x" and d["spte_ept"] == "0x7" and d["spte_legacy"] == "0x3"' \
	decode acc 0xb --layout mbec
expect_json "acc 7 classic" 'd["letters"] == "wux" and d["spte_ept"] == "0x7"' decode acc 7 --layout classic

# a role layout read from a BTF file (clang-built: the mbec layout)
if command -v clang >/dev/null; then
	cat >"$tmp/role.c" <<-'EOF'
	union kvm_mmu_page_role {
		unsigned int word;
		struct {
			unsigned int level:4, has_4_byte_gpte:1, quadrant:2, direct:1, access:4,
				invalid:1, efer_nx:1, cr0_wp:1, cr4_smep:1, smap_andnot_wp:1,
				ad_disabled:1, guest_mode:1, passthrough:1, :4, smm:8;
		};
	} role;
	EOF
	if clang -g -O0 -target bpf -c "$tmp/role.c" -o "$tmp/role.o" 2>"$tmp/clang.err"; then
		expect_json "role with --btf FILE (mbec layout)" \
			'd["layout"] == "mbec" and d["values"]["cr4_smep"] == 1 and d["values"]["access"] == 15' \
			decode role 0x8f04 --btf "$tmp/role.o"
	else
		n=$((n + 1)); echo "ok $n - role with --btf FILE # SKIP clang cannot build BTF"
	fi
else
	n=$((n + 1)); echo "ok $n - role with --btf FILE # SKIP no clang"
fi

# ---- bad input ----
expect_usage "no arguments" 'missing KIND and VALUE' decode
expect_usage "missing VALUE" 'missing VALUE' decode pfec
expect_usage "unknown kind" "unknown KIND 'bogus'" decode bogus 1
expect_usage "not a number" "VALUE 'zz' is not a number" decode pfec zz
expect_usage "trailing junk" "VALUE '12x' is not a number" decode pfec 12x
expect_usage "negative" "unknown option '-1'" decode pfec -1
expect_usage "more than 64 bits" "out of range \(more than 64 bits\)" decode pfec 0x10000000000000000
expect_usage "role above 32 bits" "out of range for role" decode role 0x100000000 --layout mbec
expect_usage "acc above 0xf" "out of range for acc" decode acc 0x10 --layout mbec
expect_usage "unknown option" "unknown option '--bogus'" decode pfec 1 --bogus
expect_usage "option without its value" "option '--layout' needs a value" decode exit-qual 1 --layout
expect_usage "bad layout" "--layout 'x86'" decode exit-qual 1 --layout x86
expect_usage "bad format" "--format 'npt'" decode spte 1 --format npt
expect_usage "--format for a non-spte kind" "--format applies to spte only" decode pfec 1 --format ept
expect_usage "--mbec for spte" "--mbec applies to exit-qual and ept-pte only" decode spte 1 --mbec
expect_usage "--layout for pfec" "--layout applies to" decode pfec 1 --layout mbec
expect_usage "--mbec with classic layout" "--mbec conflicts with the classic layout" \
	decode exit-qual 0x44 --mbec --layout classic
expect_usage "extra argument" "unexpected argument 'more'" decode pfec 1 more
expect_usage "unknown command" "unknown command 'decod'" decod pfec 1
expect_usage "--btf not a BTF file" "cannot parse BTF /etc/passwd: BPF object format invalid" \
	decode role 1 --btf /etc/passwd
expect_json "-v accepted" 'd["values"]["level"] == 1' decode role 1 -v --layout mbec
expect_usage "--btf missing file" "cannot read BTF /nonexistent" decode role 1 --btf /nonexistent

echo "1..$n"
[ $failed -eq 0 ]
