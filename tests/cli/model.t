#!/bin/bash
# mbecscope model: good input for legacy, EPT (with and without MBEC) and
# NPT (with and without GMET), values checked through the JSON output; bad
# input: exit 2, exactly one line on stderr, nothing on stdout.
. "$(dirname "$0")/lib.sh"

# ---- help ----
run --help
[ $rc -eq 0 ] && grep -q model "$tmp/out" && ok "mbecscope --help lists model" || nok "mbecscope --help"
run model --help
[ $rc -eq 0 ] && grep -q "^usage: mbecscope model" "$tmp/out" && [ ! -s "$tmp/err" ] &&
	ok "model --help on stdout, exit 0" || nok "model --help" "exit $rc"

ALL4=0x7,0x7,0x7
EPT3=0x407,0x407,0x407

# ---- legacy (shadow paging) ----
expect_json "legacy: user write to a read-only page faults P|W|U" \
	'd["fault"] and not d["misconfig"] and d["error_code"] == "0x7" and d["agree"]' \
	model --mmu legacy --walk $ALL4,0x8000000000000005 --access write --mode user --efer-nx
expect_json "legacy: the page's ACC is r-u- and the SPTE P|US|NX" \
	'd["acc"] == 5 and d["spte"] == "0x8000000000000005"' \
	model --mmu legacy --walk $ALL4,0x8000000000000005 --access read --mode user --efer-nx
expect_json "legacy: fetch of an NX page faults with I/D" \
	'd["fault"] and d["error_code"] == "0x15"' \
	model --mmu legacy --walk $ALL4,0x8000000000000005 --access fetch --mode user --efer-nx
expect_json "legacy: SMAP stops a supervisor read of a user page" \
	'd["fault"] and d["error_code"] == "0x1"' \
	model --mmu legacy --walk $ALL4,0x7 --access read --mode supervisor --cr4-smap
expect_json "legacy: EFLAGS.AC lifts SMAP" 'not d["fault"] and d["result"] == "ok"' \
	model --mmu legacy --walk $ALL4,0x7 --access read --mode supervisor --cr4-smap --eflags-ac
expect_json "legacy: implicit access ignores EFLAGS.AC" 'd["fault"]' \
	model --mmu legacy --walk $ALL4,0x7 --access read --mode user --cr4-smap --eflags-ac --implicit
expect_json "legacy: CR0.WP=0 supervisor write to a read-only page succeeds" \
	'not d["fault"] and d["fault_acc"] & 2 and not d["fault_acc"] & 4' \
	model --mmu legacy --walk $ALL4,0x5 --access write --mode supervisor
expect_json "legacy: CR0.WP=1 faults" 'd["fault"] and d["error_code"] == "0x3"' \
	model --mmu legacy --walk $ALL4,0x5 --access write --mode supervisor --cr0-wp
expect_json "legacy: 2M page ends the walk" 'not d["fault"] and len(d["walk"]) == 3' \
	model --mmu legacy --walk 0x7,0x7,0x87 --access read --mode user
expect_json "legacy classic layout: ACC wux" 'd["layout"] == "classic" and d["acc_letters"] == "wux"' \
	model --mmu legacy --walk $ALL4,0x7 --access read --mode user --layout classic

# KVM's walker and the SDM differ on one point (docs/model.md): the text says
# so where it applies, and only there.
expect_text "32-bit paging, EFER.NX, fetch fault: KVM's I/D shown as the known difference" \
	"^  KVM's walker reports 0x15  PRESENT\|USER\|FETCH \(known: " \
	model --mmu legacy --levels 2 --walk 0x7,0x3 --access fetch --mode user --efer-nx
run model --mmu legacy --levels 4 --walk $ALL4,0x3 --access fetch --mode user --efer-nx
[ $rc -eq 0 ] && grep -q '^  error_code: 0x15' "$tmp/out" && ! grep -q "KVM's walker" "$tmp/out" &&
	ok "4-level paging: the error codes agree, no extra line" ||
	nok "4-level: no walker line" "exit $rc" "$(cat "$tmp/out")"

# ---- EPT ----
expect_json "EPT without MBEC: XU ignored, user fetch needs X" \
	'd["fault"] and d["result"] == "ept-violation" and d["exit_qual"] == "0x39c" and "error_code" not in d' \
	model --mmu ept --walk $EPT3,0x403 --access fetch --mode user
expect_json "EPT without MBEC: X allows a user fetch" 'not d["fault"]' \
	model --mmu ept --walk $EPT3,0x5 --access fetch --mode user
expect_json "EPT with MBEC: user fetch needs XU" \
	'd["fault"] and d["exit_qual"] == "0x3ac" and d["kvm_error_code"] == "0x100000015" and d["flags"]["mbec"]' \
	model --mmu ept --mbec --walk $EPT3,0x5 --access fetch --mode user
expect_json "EPT with MBEC: supervisor fetch with XS" 'not d["fault"] and d["agree"]' \
	model --mmu ept --mbec --walk $EPT3,0x405 --access fetch --mode supervisor
expect_json "EPT with MBEC: supervisor fetch without XS" \
	'd["fault"] and d["exit_qual"] == "0x1dc" and d["kvm_error_code"] == "0x100000011"' \
	model --mmu ept --mbec --walk $EPT3,0x403 --access fetch --mode supervisor
expect_json "EPT with MBEC: SPTE bits for r-u- are R|XU" \
	'd["acc"] == 5 and d["spte"] == "0x401" and d["spte_names"] == "R|XU"' \
	model --mmu ept --mbec --walk $EPT3,0x401 --access read --mode user
expect_json "EPT: W without R is a misconfiguration" \
	'd["fault"] and d["misconfig"] and d["result"] == "ept-misconfig"' \
	model --mmu ept --walk $EPT3,0x402 --access read --mode user
# A misconfigured entry ends the walk at any level, with or without entries after it.
expect_json "EPT: a W-only PML4E alone is a misconfiguration at level 4" \
	'd["result"] == "ept-misconfig" and d["misconfig"] and d["level"] == 4 and d["agree"]' \
	model --mmu ept --walk 0x2 --access read --mode user
expect_json "EPT: an X-only PDPTE without execonly is a misconfiguration at level 3" \
	'd["result"] == "ept-misconfig" and d["level"] == 3 and d["agree"]' \
	model --mmu ept --walk 0x7,0x4 --access fetch --mode supervisor
expect_usage "EPT: with execonly the X-only PDPTE is a table, the walk goes on" \
	"--walk ends at level 3 but the walk goes on" \
	model --mmu ept --execonly --walk 0x7,0x4 --access fetch --mode supervisor
expect_usage "EPT: entries after a misconfigured PML4E" \
	"--walk entry 2 follows the end of the walk \(it stops at level 4\)" \
	model --mmu ept --walk 0x2,0x7,0x7,0x7 --access read --mode user
expect_text "EPT: the text says where a misconfigured table entry ends the walk, no SPTE" \
	"^acc: none: the walk ends at level 3 on a misconfigured entry" \
	model --mmu ept --walk 0x7,0x4 --access fetch --mode supervisor
expect_json "legacy: NX without EFER.NXE in a PML4E: RSVD at level 4, both layers agree" \
	'd["fault"] and d["misconfig"] and d["error_code"] == "0xd" and d["level"] == 4 and d["agree"]' \
	model --mmu legacy --walk 0x8000000000000007 --access read --mode user
expect_json "NPT: NX without EFER.NXE in a PML4E: RSV, both layers agree" \
	'd["misconfig"] and d["agree"]' \
	model --mmu npt --walk 0x8000000000000007 --access read --mode user
expect_json "EPT: not-present leaf (user address)" 'd["fault"] and d["exit_qual"] == "0x381"' \
	model --mmu ept --walk $EPT3,0x0 --access read --mode user

# ---- NPT ----
expect_json "NPT without GMET: supervisor read of a U=0 page is P|US|FINAL" \
	'd["fault"] and d["result"] == "npf" and d["error_code"] == "0x100000005"' \
	model --mmu npt --walk $ALL4,0x3 --access read --mode supervisor
expect_json "NPT with GMET: U=0 no longer restricts reads" 'not d["fault"]' \
	model --mmu npt --gmet --walk $ALL4,0x3 --access read --mode supervisor
expect_json "NPT with GMET: supervisor fetch of a U=1 page is P|ID|FINAL" \
	'd["fault"] and d["error_code"] == "0x100000011"' \
	model --mmu npt --gmet --walk $ALL4,0x7 --access fetch --mode supervisor
expect_json "NPT with GMET: user fetch of a U=1 page" 'not d["fault"]' \
	model --mmu npt --gmet --walk $ALL4,0x7 --access fetch --mode user

expect_text "text output names the outcome" '^outcome: EPT violation at level 1' \
	model --mmu ept --mbec --walk $EPT3,0x403 --access fetch --mode supervisor
expect_text "text output gives the SPTE bits" '^spte: 0x403 +R\|W\|XU' \
	model --mmu ept --mbec --walk $EPT3,0x403 --access fetch --mode supervisor

# ---- bad input ----
expect_usage "missing --walk" "missing --walk" model --mmu ept --access read --mode user
expect_usage "missing everything" "missing --mmu" model
expect_usage "unknown mmu" "--mmu 'x86'" model --mmu x86 --walk 1 --access read --mode user
expect_usage "unknown access" "--access 'exec'" model --mmu ept --walk 1 --access exec --mode user
expect_usage "unknown mode" "--mode 'kernel'" model --mmu ept --walk 1 --access read --mode kernel
expect_usage "--gmet with --mmu ept" "--gmet applies to --mmu npt only" \
	model --mmu ept --gmet --walk $EPT3,0x407 --access read --mode user
expect_usage "--mbec with --mmu npt" "--mbec applies to --mmu ept only" \
	model --mmu npt --mbec --walk $ALL4,0x7 --access read --mode user
expect_usage "--execonly without ept" "--execonly applies to --mmu ept only" \
	model --mmu legacy --execonly --walk $ALL4,0x7 --access read --mode user
expect_usage "--cr0-wp with ept" "--cr0-wp applies to --mmu legacy only" \
	model --mmu ept --cr0-wp --walk $EPT3,0x407 --access read --mode user
expect_usage "--mbec with classic layout" "--mbec needs --layout mbec" \
	model --mmu ept --mbec --layout classic --walk $EPT3,0x407 --access read --mode user
expect_usage "--implicit fetch" "--implicit cannot be a fetch" \
	model --mmu legacy --implicit --walk $ALL4,0x7 --access fetch --mode user
expect_usage "more entries than levels" "--walk has 5 entries but a 4-level walk" \
	model --mmu ept --walk $EPT3,0x407,0x407 --access read --mode user
expect_usage "entry after a large page" "--walk entry 3 follows the end of the walk" \
	model --mmu legacy --walk 0x7,0x87,0x7 --access read --mode user
expect_usage "too few entries" "--walk ends at level 2" \
	model --mmu npt --walk 0x7,0x7,0x7 --access read --mode user
expect_usage "walk entry not a number" "--walk entry 2 'zz' is not a number" \
	model --mmu ept --walk 0x7,zz --access read --mode user
expect_usage "walk entry empty" "--walk entry 2 '' is not a number" \
	model --mmu ept --walk 0x7,,0x7 --access read --mode user
expect_usage "walk entry above 64 bits" "out of range" \
	model --mmu ept --walk 0x10000000000000000 --access read --mode user
expect_usage "32-bit paging entry above 32 bits" "does not fit a 32-bit entry" \
	model --mmu legacy --levels 2 --walk 0x100000007,0x7 --access read --mode user
expect_usage "bad --levels" "--levels '3': use 4 or 5" \
	model --mmu ept --levels 3 --walk 0x7 --access read --mode user
expect_usage "unknown option" "unknown option '--smep'" \
	model --mmu legacy --smep --walk $ALL4,0x7 --access read --mode user
expect_usage "option without value" "option '--walk' needs a value" model --mmu ept --walk

echo "1..$n"
[ $failed -eq 0 ]
