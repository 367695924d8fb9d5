// SPDX-License-Identifier: GPL-2.0
/*
 * Layer 2 of the model (KVM's way) on known cases: exit qualification ->
 * error code in both layouts, the nested EPT exit-qualification rules,
 * role flags, ACC composition and the SPTE mapping, the CR0.WP=0 trick,
 * escalation, and the spec's worked examples seen through KVM's walk.
 */
#include <errno.h>
#include <string.h>

#include "mbec_model.h"
#include "tap.h"

#define C MBEC_LAYOUT_CLASSIC
#define M MBEC_LAYOUT_MBEC

static void exit_qual_cases(void)
{
	is_u64(mbec_kvm_exit_qual_to_pfec(C, false, 0x181), PFERR_USER | PFERR_GUEST_FINAL,
	       "classic: a read is encoded as PFERR_USER");
	is_u64(mbec_kvm_exit_qual_to_pfec(M, true, 0x181), PFERR_GUEST_FINAL,
	       "mbec: a read is no longer PFERR_USER");
	is_u64(mbec_kvm_exit_qual_to_pfec(M, true, 0x381), PFERR_USER | PFERR_GUEST_FINAL,
	       "mbec: USER when bits 7, 8 and 9 are all set");
	is_u64(mbec_kvm_exit_qual_to_pfec(M, true, 0x281), PFERR_GUEST_PAGE,
	       "mbec: no USER without bit 8 (and GUEST_PAGE)");
	is_u64(mbec_kvm_exit_qual_to_pfec(C, false, 0x1c4), PFERR_FETCH | PFERR_GUEST_FINAL,
	       "classic: bit 6 does not make the fault present");
	is_u64(mbec_kvm_exit_qual_to_pfec(M, true, 0x1c4),
	       PFERR_PRESENT | PFERR_FETCH | PFERR_GUEST_FINAL,
	       "mbec with MBEC: bit 6 (XU) makes the fault present");
	is_u64(mbec_kvm_exit_qual_to_pfec(M, false, 0x1c4), PFERR_FETCH | PFERR_GUEST_FINAL,
	       "mbec without MBEC: bit 6 is undefined and ignored");
	is_u64(mbec_kvm_exit_qual_to_pfec(C, false, 0x8b),
	       PFERR_PRESENT | PFERR_WRITE | PFERR_USER | PFERR_GUEST_PAGE,
	       "classic: paging-structure write (read+write), R present -> GUEST_PAGE");
	is_u64(mbec_kvm_exit_qual_to_pfec(M, false, 0x2), PFERR_WRITE,
	       "no GVA_IS_VALID: neither GUEST_FINAL nor GUEST_PAGE");
}

static void nested_cases(void)
{
	struct mbec_nested_ept_in in = {
		.op = MBEC_OP_FETCH, .l1_prot = EPTE_R | EPTE_XU, .hw_violation = true,
		.vmcs02_qual = 0x384 | EPT_VIOL_GVA_NX, .nested_mbec = true,
		.nested_advanced_info = true,
	};

	is_u64(mbec_kvm_nested_ept_qual(M, &in), 0xbcc,
	       "nested: fetch, L1 R|XU with nested MBEC, 7-11 copied from vmcs02");
	in.nested_advanced_info = false;
	is_u64(mbec_kvm_nested_ept_qual(M, &in), 0x1cc,
	       "nested: advanced bits not copied when L1 was not offered them");
	in.nested_mbec = false;
	is_u64(mbec_kvm_nested_ept_qual(M, &in), 0x18c, "nested: bit 6 only with nested MBEC");
	in.nested_advanced_info = true;
	in.nested_mbec = true;
	is_u64(mbec_kvm_nested_ept_qual(C, &in), 0x18c,
	       "nested classic: neither bit 6 nor advanced bits");
	in.vmcs02_qual = 0x4;	/* hardware said: no linear address */
	is_u64(mbec_kvm_nested_ept_qual(M, &in) & 0xf80, 0,
	       "nested: hardware violation without GVA bits stays without them");
	in.hw_violation = false;
	is_u64(mbec_kvm_nested_ept_qual(M, &in), 0x1cc,
	       "nested synthesized: GVA_IS_VALID and GVA_TRANSLATED for a final access");
	in.op = MBEC_OP_READ;
	in.paging_structure = true;
	is_u64(mbec_kvm_nested_ept_qual(M, &in), 0xc9,
	       "nested synthesized: paging-structure read: ACC_READ, not TRANSLATED");
	in.op = MBEC_OP_WRITE;
	is_u64(mbec_kvm_nested_ept_qual(M, &in), 0xcb,
	       "nested synthesized: paging-structure write counts as read+write");
}

static void role_cases(void)
{
	struct mbec_mode m = { .mmu = MBEC_MMU_LEGACY, .levels = 4, .cr4_smep = true,
			       .cr4_smap = true };
	struct mbec_role_flags r;

	mbec_kvm_role_flags(C, MBEC_FL_SHADOW_LEGACY, &m, &r);
	ok(r.smep_andnot_wp && r.smap_andnot_wp && !r.cr0_wp && r.efer_nx && !r.cr4_smep &&
	   r.access == 7 && !r.direct, "role classic shadow: WP=0 SMEP SMAP, efer_nx forced");
	mbec_kvm_role_flags(M, MBEC_FL_SHADOW_LEGACY, &m, &r);
	ok(r.cr4_smep && !r.smep_andnot_wp && r.smap_andnot_wp && r.access == 0xf,
	   "role mbec shadow: cr4_smep replaces smep_andnot_wp");
	m.cr0_wp = true;
	mbec_kvm_role_flags(C, MBEC_FL_SHADOW_LEGACY, &m, &r);
	ok(!r.smep_andnot_wp && !r.smap_andnot_wp && r.cr0_wp, "role classic shadow: WP=1");

	m.mmu = MBEC_MMU_NPT;
	m.gmet = true;
	mbec_kvm_role_flags(M, MBEC_FL_TDP_NPT, &m, &r);
	ok(r.direct && r.cr4_smep && r.cr0_wp && r.access == MBEC_ACC_GMET_ROOT,
	   "role mbec tdp npt with GMET: root access 0xb, cr4_smep = GMET");
	mbec_kvm_role_flags(M, MBEC_FL_SHADOW_NPT, &m, &r);
	ok(r.guest_mode && r.cr0_wp && r.cr4_smep && !r.smap_andnot_wp,
	   "role mbec shadow npt: WP forced, SMAP off, SMEP = GMET");
	m.gmet = false;
	mbec_kvm_role_flags(C, MBEC_FL_SHADOW_NPT, &m, &r);
	ok(!r.cr0_wp && r.smep_andnot_wp && r.smap_andnot_wp,
	   "role classic shadow npt: from L1's CR4 with CR0 = PG only");

	memset(&m, 0, sizeof(m));
	m.mmu = MBEC_MMU_EPT;
	m.levels = 4;
	m.mbec = true;
	m.advanced_info = true;
	mbec_kvm_role_flags(M, MBEC_FL_TDP_EPT, &m, &r);
	ok(r.direct && r.cr4_smep && r.access == 0xf, "role mbec tdp ept: cr4_smep = MBEC");
	mbec_kvm_role_flags(M, MBEC_FL_SHADOW_EPT, &m, &r);
	ok(!r.direct && r.guest_mode && r.cr4_smep && !r.cr0_wp && !r.efer_nx,
	   "role mbec shadow ept: EPT consumes no CR bits, cr4_smep = nested MBEC");
}

static void acc_cases(void)
{
	struct mbec_mode m = { .mmu = MBEC_MMU_LEGACY, .levels = 4, .efer_nx = true,
			       .cr4_smep = true };
	uint64_t w[4] = { PTE_P | PTE_RW | PTE_US, PTE_P | PTE_US, PTE_P | PTE_RW | PTE_US,
			  PTE_P | PTE_RW | PTE_US | PTE_NX };
	uint64_t pfec = PFERR_WRITE;

	is_u64(mbec_kvm_compose_acc(C, MBEC_FL_SHADOW_LEGACY, &m, w, 4), CLASSIC_ACC_USER,
	       "compose classic: RW=0 above and NX at the leaf leave USER");
	is_u64(mbec_kvm_compose_acc(M, MBEC_FL_SHADOW_LEGACY, &m, w, 4),
	       MBEC_ACC_READ | MBEC_ACC_USER, "compose mbec: READ from P");
	w[1] = 0;
	is_u64(mbec_kvm_compose_acc(M, MBEC_FL_SHADOW_LEGACY, &m, w, 4),
	       MBEC_ACC_READ | MBEC_ACC_WRITE | MBEC_ACC_USER | MBEC_ACC_EXEC,
	       "compose: stops at a not-present entry");

	is_u64(mbec_kvm_gpte_access(C, MBEC_FL_SHADOW_EPT, EPTE_R | EPTE_XU), CLASSIC_ACC_USER,
	       "gpte classic EPT: R is ACC_USER, XU is nothing");
	is_u64(mbec_kvm_gpte_access(M, MBEC_FL_SHADOW_EPT, EPTE_R | EPTE_XU),
	       MBEC_ACC_READ | MBEC_ACC_USER_EXEC, "gpte mbec EPT: R -> READ, XU -> USER_EXEC");

	/* CR0.WP=0: a supervisor write to a read-only user page. */
	is_u64(mbec_kvm_fault_acc(M, MBEC_FL_SHADOW_LEGACY, &m, MBEC_ACC_READ | MBEC_ACC_USER |
				  MBEC_ACC_EXEC, pfec), MBEC_ACC_READ | MBEC_ACC_WRITE,
	       "fault acc: WP=0 supervisor write: +WRITE -USER, and -EXEC with SMEP");
	m.cr4_smep = false;
	is_u64(mbec_kvm_fault_acc(M, MBEC_FL_SHADOW_LEGACY, &m, MBEC_ACC_READ | MBEC_ACC_USER |
				  MBEC_ACC_EXEC, pfec),
	       MBEC_ACC_READ | MBEC_ACC_WRITE | MBEC_ACC_EXEC,
	       "fault acc: without SMEP EXEC stays");
	is_u64(mbec_kvm_fault_acc(M, MBEC_FL_SHADOW_LEGACY, &m, MBEC_ACC_READ,
				  pfec | PFERR_USER), MBEC_ACC_READ,
	       "fault acc: not for user writes");
	m.cr0_wp = true;
	is_u64(mbec_kvm_fault_acc(M, MBEC_FL_SHADOW_LEGACY, &m, MBEC_ACC_READ, pfec),
	       MBEC_ACC_READ, "fault acc: not with CR0.WP=1");
}

static void spte_cases(void)
{
	struct mbec_mode e = { .mmu = MBEC_MMU_EPT, .levels = 4, .mbec = true, .execonly = true,
			       .advanced_info = true };
	struct mbec_mode n = { .mmu = MBEC_MMU_NPT, .levels = 4, .efer_nx = true, .gmet = true };
	struct mbec_mode l = { .mmu = MBEC_MMU_LEGACY, .levels = 4, .efer_nx = true };

	is_u64(mbec_kvm_acc_to_spte(M, MBEC_FL_SHADOW_EPT, &e, MBEC_ACC_READ | MBEC_ACC_USER_EXEC),
	       EPTE_R | EPTE_XU, "spte shadow ept mbec: XU from USER_EXEC alone");
	is_u64(mbec_kvm_acc_to_spte(M, MBEC_FL_TDP_EPT, &e, MBEC_ACC_ALL), EPTE_RWX | EPTE_XU,
	       "spte tdp ept mbec: XS and XU together");
	is_u64(mbec_kvm_acc_to_spte(M, MBEC_FL_TDP_EPT, &e, MBEC_ACC_READ | MBEC_ACC_WRITE),
	       EPTE_R | EPTE_W, "spte tdp ept mbec: NX huge page clears both");
	is_u64(mbec_kvm_acc_to_spte(C, MBEC_FL_SHADOW_EPT, &e, CLASSIC_ACC_EXEC), EPTE_X,
	       "spte classic ept with execonly: X-only");
	e.execonly = false;
	is_u64(mbec_kvm_acc_to_spte(C, MBEC_FL_SHADOW_EPT, &e, CLASSIC_ACC_EXEC), EPTE_R | EPTE_X,
	       "spte classic ept without execonly: R is the present mask");
	is_u64(mbec_kvm_acc_to_spte(M, MBEC_FL_TDP_NPT, &n, MBEC_ACC_GMET_ROOT), PTE_P | PTE_RW,
	       "spte tdp npt GMET: U=0, executable");
	is_u64(mbec_kvm_acc_to_spte(C, MBEC_FL_SHADOW_LEGACY, &l, CLASSIC_ACC_WRITE),
	       PTE_P | PTE_RW | PTE_NX, "spte classic legacy: NX for ACC without EXEC");

	is_u64(mbec_kvm_spte_to_acc(M, MBEC_FL_SHADOW_LEGACY, PTE_P | PTE_US),
	       MBEC_ACC_READ | MBEC_ACC_USER | MBEC_ACC_EXEC,
	       "spte->acc mbec legacy: NX clear is EXEC");
	is_u64(mbec_kvm_spte_to_acc(M, MBEC_FL_SHADOW_LEGACY, PTE_RW), 0,
	       "spte->acc: not present grants nothing");
	is_u64(mbec_kvm_spte_to_acc(C, MBEC_FL_TDP_EPT, EPTE_R | EPTE_X), CLASSIC_ACC_USER |
	       CLASSIC_ACC_EXEC, "spte->acc classic ept: R -> USER");

	is_u64(mbec_kvm_acc_escalation(M, MBEC_FL_SHADOW_LEGACY, &l, MBEC_ACC_READ | MBEC_ACC_EXEC,
				       PTE_P | PTE_RW), MBEC_ACC_WRITE,
	       "escalation: writable SPTE for a read-only ACC");
	is_u64(mbec_kvm_acc_escalation(M, MBEC_FL_SHADOW_LEGACY, &l, MBEC_ACC_READ, PTE_P),
	       MBEC_ACC_EXEC, "escalation: NX clear for an ACC without EXEC");
	e.execonly = true;
	is_u64(mbec_kvm_acc_escalation(M, MBEC_FL_SHADOW_EPT, &e, MBEC_ACC_READ | MBEC_ACC_EXEC,
				       EPTE_R | EPTE_XS | EPTE_XU), MBEC_ACC_USER_EXEC,
	       "escalation: XU without USER_EXEC under MBEC");
	e.mbec = false;
	is_u64(mbec_kvm_acc_escalation(M, MBEC_FL_SHADOW_EPT, &e, MBEC_ACC_READ | MBEC_ACC_EXEC,
				       EPTE_R | EPTE_XS | EPTE_XU), 0,
	       "escalation: XU is not honoured without MBEC");
}

static void bitmask_cases(void)
{
	struct mbec_mode e = { .mmu = MBEC_MMU_EPT, .levels = 4 };
	struct mbec_mode l = { .mmu = MBEC_MMU_LEGACY, .levels = 4, .cr0_wp = true,
			       .cr4_smap = true, .efer_nx = true };
	uint16_t p[16];

	mbec_kvm_permission_bitmask(C, MBEC_FL_SHADOW_EPT, &e, p);
	ok(mbec_kvm_permission_fault(p, PFERR_USER, false, CLASSIC_ACC_EXEC) &&
	   !mbec_kvm_permission_fault(p, PFERR_USER, false, CLASSIC_ACC_USER),
	   "bitmask classic ept: a read (U) needs ACC_USER (R)");
	ok(!(p[0] | p[4]) && p[8] == 0x55, "bitmask classic ept: 8-bit, fetch needs EXEC");

	mbec_kvm_permission_bitmask(M, MBEC_FL_SHADOW_LEGACY, &l, p);
	ok(mbec_kvm_permission_fault(p, 0, false, MBEC_ACC_ALL),
	   "bitmask SMAP: supervisor read of user page with AC=0");
	ok(!mbec_kvm_permission_fault(p, 0, true, MBEC_ACC_ALL),
	   "bitmask SMAP: AC=1 sets the RSVD override");
	ok(mbec_kvm_permission_fault(p, PFERR_IMPLICIT_ACCESS, true, MBEC_ACC_ALL),
	   "bitmask SMAP: implicit access ignores AC");
	is_u64(mbec_kvm_pfec_index(PFERR_WRITE | PFERR_FETCH | PFERR_PRESENT, true), 0xd,
	       "pfec index: [4:1] plus the SMAP override");
}

static void walk_cases(void)
{
	struct mbec_mode e = { .mmu = MBEC_MMU_EPT, .levels = 4, .mbec = true, .execonly = true,
			       .advanced_info = true };
	struct mbec_mode n = { .mmu = MBEC_MMU_NPT, .levels = 4, .efer_nx = true };
	struct mbec_access a = { .op = MBEC_OP_FETCH, .user = true };
	uint64_t ew[4] = { EPTE_RWX | EPTE_XU, EPTE_RWX | EPTE_XU, EPTE_RWX | EPTE_XU, EPTE_XU };
	uint64_t nw[4] = { 7, 7, 7, PTE_P | PTE_RW };
	struct mbec_kvm_walk_out k;
	struct mbec_kvm_fault f;

	mbec_kvm_fault_for_access(M, MBEC_FL_SHADOW_EPT, &e, &a, &f);
	ok(!mbec_kvm_walk(M, MBEC_FL_SHADOW_EPT, &e, ew, 4, &f, &k) && !k.fault &&
	   k.acc == MBEC_ACC_USER_EXEC, "kvm walk: XU-only page, user fetch, MBEC: no fault");
	a.user = false;
	mbec_kvm_fault_for_access(M, MBEC_FL_SHADOW_EPT, &e, &a, &f);
	ok(!mbec_kvm_walk(M, MBEC_FL_SHADOW_EPT, &e, ew, 4, &f, &k) && k.fault &&
	   k.exit_qual == 0x1c4, "kvm walk: supervisor fetch of XU-only page injects 0x1c4");
	e.mbec = false;
	a.user = true;
	mbec_kvm_fault_for_access(M, MBEC_FL_SHADOW_EPT, &e, &a, &f);
	ok(!mbec_kvm_walk(M, MBEC_FL_SHADOW_EPT, &e, ew, 4, &f, &k) && k.fault &&
	   !k.misconfig && (k.exit_qual & 0x7f) == 0x4,
	   "kvm walk: MBEC off: XU-only entry is not present");
	ew[3] = EPTE_W | EPTE_R;
	ew[1] = EPTE_W;
	mbec_kvm_fault_for_access(M, MBEC_FL_SHADOW_EPT, &e, &a, &f);
	ok(!mbec_kvm_walk(M, MBEC_FL_SHADOW_EPT, &e, ew, 4, &f, &k) && k.misconfig &&
	   k.level == 3, "kvm walk: W without R in a PDPTE is a misconfiguration");
	ok(!mbec_kvm_walk(M, MBEC_FL_SHADOW_EPT, &e, ew, 2, &f, &k) && k.misconfig &&
	   k.level == 3 && k.used == 2,
	   "kvm walk: ...also given only the entries up to it (the walk ends there)");
	e.execonly = false;
	ew[0] = EPTE_X;
	ok(!mbec_kvm_walk(M, MBEC_FL_SHADOW_EPT, &e, ew, 1, &f, &k) && k.misconfig &&
	   k.level == 4 && k.used == 1,
	   "kvm walk: an X-only PML4E without execute-only support, alone: misconfiguration");
	e.execonly = true;
	ew[0] = EPTE_RWX | EPTE_XU;

	a.op = MBEC_OP_READ;
	a.user = false;
	mbec_kvm_fault_for_access(C, MBEC_FL_SHADOW_NPT, &n, &a, &f);
	ok(!mbec_kvm_walk(C, MBEC_FL_SHADOW_NPT, &n, nw, 4, &f, &k) &&
	   k.error_code == 0x100000005ULL, "kvm walk: shadow NPT U=0 read injects 0x100000005");
	ok(mbec_kvm_walk(C, MBEC_FL_TDP_NPT, &n, nw, 4, &f, &k) == -EINVAL,
	   "kvm walk: TDP flavours have nothing to walk");
	n.gmet = true;
	ok(mbec_kvm_walk(C, MBEC_FL_SHADOW_NPT, &n, nw, 4, &f, &k) == -EINVAL,
	   "kvm walk: classic has no GMET");
}

static void name_cases(void)
{
	struct mbec_mode e = { .mmu = MBEC_MMU_EPT, .levels = 4, .mbec = true };
	int i, good = 1;

	for (i = 0; i < MBEC_FL_NR; i++)
		good &= mbec_flavour_parse(mbec_flavour_name(i)) == i;
	ok(good && mbec_flavour_parse("nope") == -1, "flavour names round-trip");
	ok(!mbec_kvm_supported(M, MBEC_FL_TDP_EPT, &e), "supported: MBEC needs advanced info");
	e.advanced_info = true;
	ok(mbec_kvm_supported(M, MBEC_FL_TDP_EPT, &e) &&
	   !mbec_kvm_supported(C, MBEC_FL_TDP_EPT, &e),
	   "supported: MBEC only in the mbec layout");
	ok(!mbec_kvm_supported(M, MBEC_FL_SHADOW_NPT, &e), "supported: flavour needs its mmu");
}

/* Jon Kohler's layout: classic's bits 0-2, USER_EXEC at bit 3, no MBEC modelled. */
static void kohler_cases(void)
{
	const enum mbec_layout K = MBEC_LAYOUT_KOHLER;
	struct mbec_mode e = { .mmu = MBEC_MMU_EPT, .levels = 4, .execonly = true };
	struct mbec_mode l = { .mmu = MBEC_MMU_LEGACY, .levels = 4, .efer_nx = true };

	ok(mbec_kvm_acc_all(K) == 0xf, "kohler: ACC_ALL has four bits");
	is_u64(mbec_kvm_gpte_access(K, MBEC_FL_SHADOW_EPT, EPTE_R | EPTE_XS | EPTE_XU),
	       KOHLER_ACC_USER | KOHLER_ACC_EXEC | KOHLER_ACC_USER_EXEC,
	       "kohler gpte ept: R in USER (no READ bit), XS in EXEC, XU in USER_EXEC");
	is_u64(mbec_kvm_gpte_access(K, MBEC_FL_SHADOW_LEGACY, PTE_P | PTE_RW | PTE_US),
	       KOHLER_ACC_WRITE | KOHLER_ACC_USER | KOHLER_ACC_EXEC, "kohler gpte legacy: classic's");
	is_u64(mbec_kvm_acc_to_spte(K, MBEC_FL_SHADOW_LEGACY, &l, KOHLER_ACC_WRITE),
	       PTE_P | PTE_RW | PTE_NX, "kohler spte legacy: present without a READ bit");
	is_u64(mbec_kvm_acc_to_spte(K, MBEC_FL_SHADOW_EPT, &e, KOHLER_ACC_USER | KOHLER_ACC_USER_EXEC),
	       EPTE_R, "kohler spte ept: XU not modelled");
	ok(mbec_kvm_acc_honoured(K, MBEC_FL_SHADOW_EPT, &e) == CLASSIC_ACC_ALL,
	   "kohler: USER_EXEC is never judged");
	e.mbec = true;
	e.advanced_info = true;
	ok(!mbec_kvm_supported(K, MBEC_FL_SHADOW_EPT, &e), "kohler: MBEC mode is not modelled");
}

int main(void)
{
	exit_qual_cases();
	nested_cases();
	role_cases();
	acc_cases();
	spte_cases();
	bitmask_cases();
	walk_cases();
	name_cases();
	kohler_cases();
	return done_testing();
}
