// SPDX-License-Identifier: GPL-2.0
/*
 * Layer 1 of the model (the architectural oracle) against known cases:
 * the worked examples of the spec and textbook SDM/APM situations.  Each
 * case names the rule it pins down.
 */
#include <errno.h>
#include <string.h>

#include "mbec_model.h"
#include "tap.h"

#define LP	(PTE_P | PTE_RW | PTE_US)	/* permissive legacy/NPT non-leaf */
#define EP	(EPTE_RWX | EPTE_XU)		/* permissive EPT non-leaf */

static struct mbec_outcome o;

static int walk4(const struct mbec_mode *m, uint64_t leaf, enum mbec_op op, bool user)
{
	uint64_t upper = m->mmu == MBEC_MMU_EPT ? EP : LP;
	uint64_t e[4] = { upper, upper, upper, leaf };
	struct mbec_access a = { .op = op, .user = user };

	return mbec_arch_walk(m, e, 4, &a, &o);
}

static void legacy_cases(void)
{
	struct mbec_mode m = { .mmu = MBEC_MMU_LEGACY, .levels = 4, .cr0_wp = true,
			       .efer_nx = true };
	struct mbec_access a = { .op = MBEC_OP_READ };
	uint64_t e[4];

	walk4(&m, PTE_P | PTE_US, MBEC_OP_WRITE, true);
	is_u64(o.error_code, 0x7, "legacy: user write to read-only user page -> P|W|U");
	ok(o.result == MBEC_RES_PAGE_FAULT && o.level == 1 && o.used == 4,
	   "legacy: the fault is a #PF decided at the 4K leaf");

	walk4(&m, PTE_P, MBEC_OP_WRITE, false);
	is_u64(o.error_code, 0x3, "legacy: CR0.WP=1 supervisor write to read-only page -> P|W");
	m.cr0_wp = false;
	walk4(&m, PTE_P, MBEC_OP_WRITE, false);
	ok(o.result == MBEC_RES_OK, "legacy: CR0.WP=0 supervisor write to read-only page succeeds");
	walk4(&m, PTE_P | PTE_US, MBEC_OP_WRITE, true);
	is_u64(o.error_code, 0x7, "legacy: CR0.WP=0 does not help user writes");
	m.cr0_wp = true;

	walk4(&m, PTE_P | PTE_US, MBEC_OP_READ, false);
	ok(o.result == MBEC_RES_OK, "legacy: supervisor read of user page without SMAP");
	m.cr4_smap = true;
	walk4(&m, PTE_P | PTE_US, MBEC_OP_READ, false);
	is_u64(o.error_code, 0x1, "legacy: SMAP, AC=0: supervisor read of user page -> P");
	m.eflags_ac = true;
	walk4(&m, PTE_P | PTE_US, MBEC_OP_READ, false);
	ok(o.result == MBEC_RES_OK, "legacy: SMAP with EFLAGS.AC=1 allows explicit access");
	e[0] = e[1] = e[2] = LP;
	e[3] = PTE_P | PTE_US;
	a.implicit = true;
	a.user = true;	/* implicit at CPL 3 is still supervisor */
	mbec_arch_walk(&m, e, 4, &a, &o);
	is_u64(o.error_code, 0x1, "legacy: SMAP with AC=1 still faults an implicit access");
	a.implicit = false;
	a.user = false;
	m.cr4_smap = false;
	m.eflags_ac = false;

	walk4(&m, LP | PTE_NX, MBEC_OP_FETCH, false);
	is_u64(o.error_code, 0x11, "legacy: supervisor fetch of NX page -> P|I/D");
	walk4(&m, LP | PTE_NX, MBEC_OP_FETCH, true);
	is_u64(o.error_code, 0x15, "legacy: user fetch of NX page -> P|U|I/D");
	walk4(&m, LP, MBEC_OP_FETCH, false);
	ok(o.result == MBEC_RES_OK, "legacy: supervisor fetch of user page without SMEP");
	m.cr4_smep = true;
	walk4(&m, LP, MBEC_OP_FETCH, false);
	is_u64(o.error_code, 0x11, "legacy: SMEP: supervisor fetch of user page -> P|I/D");
	walk4(&m, PTE_P | PTE_RW, MBEC_OP_FETCH, false);
	ok(o.result == MBEC_RES_OK, "legacy: SMEP allows supervisor fetch of supervisor page");
	m.cr4_smep = false;

	m.efer_nx = false;
	walk4(&m, LP | PTE_NX, MBEC_OP_READ, false);
	is_u64(o.error_code, 0x9, "legacy: NX bit without EFER.NXE is reserved -> P|RSVD");
	walk4(&m, 0, MBEC_OP_FETCH, false);
	is_u64(o.error_code, 0x0, "legacy: fetch fault without NXE/SMEP reports no I/D");
	m.efer_nx = true;

	walk4(&m, 0, MBEC_OP_WRITE, false);
	is_u64(o.error_code, 0x2, "legacy: not-present leaf -> W only");
	e[0] = LP;
	e[1] = LP & ~PTE_US;
	e[2] = LP;
	e[3] = LP;
	a.user = true;
	mbec_arch_walk(&m, e, 4, &a, &o);
	is_u64(o.error_code, 0x5, "legacy: U=0 in a non-leaf entry makes the page supervisor");

	e[0] = LP | PTE_PS;
	mbec_arch_walk(&m, e, 4, &a, &o);
	ok(o.error_code == 0xd && o.level == 4, "legacy: PS in a PML4E is reserved -> P|U|RSVD");
	e[0] = LP;
	e[1] = LP | PTE_PS;
	mbec_arch_walk(&m, e, 2, &a, &o);
	ok(o.result == MBEC_RES_OK && o.level == 3 && o.used == 2,
	   "legacy: a 1G page ends the walk after two entries");
	ok(mbec_arch_walk(&m, e, 1, &a, &o) == -EINVAL, "legacy: too few entries is -EINVAL");
	a.op = MBEC_OP_FETCH;
	a.implicit = true;
	ok(mbec_arch_walk(&m, e, 2, &a, &o) == -EINVAL, "an implicit fetch is -EINVAL");
	a.implicit = false;

	m.levels = 2;
	e[0] = PTE_P | PTE_RW | PTE_US | PTE_PS;
	a.op = MBEC_OP_WRITE;
	mbec_arch_walk(&m, e, 1, &a, &o);
	ok(o.result == MBEC_RES_OK && o.level == 2, "legacy 32-bit: a 4M page");
	e[0] = PTE_P | PTE_NX;
	ok(mbec_arch_walk(&m, e, 1, &a, &o) == -EINVAL, "legacy 32-bit: 64-bit entry is -EINVAL");
	m.levels = 3;
	e[0] = PTE_P;
	e[1] = LP;
	e[2] = PTE_P | PTE_US;
	mbec_arch_walk(&m, e, 3, &a, &o);
	is_u64(o.error_code, 0x7, "legacy PAE: user write to read-only page");
	e[0] = PTE_P | PTE_RW;
	ok(mbec_arch_walk(&m, e, 3, &a, &o) == -EINVAL, "legacy PAE: PDPTE with RW is -EINVAL");
}

static void npt_cases(void)
{
	struct mbec_mode m = { .mmu = MBEC_MMU_NPT, .levels = 4, .efer_nx = true };
	struct mbec_access a = { .op = MBEC_OP_READ, .paging_structure = true };
	uint64_t e[4] = { LP, LP, LP, PTE_P | PTE_RW };

	walk4(&m, PTE_P | PTE_RW, MBEC_OP_READ, false);
	is_u64(o.error_code, 0x100000005ULL,
	       "npt: U=0 read fault without GMET -> EXITINFO1 P|US|FINAL (spec example)");
	ok(o.result == MBEC_RES_NPF, "npt: the outcome is an #NPF");
	mbec_arch_walk(&m, e, 4, &a, &o);
	is_u64(o.error_code, 0x200000005ULL, "npt: guest page-table access reports GUEST_PAGE");
	m.gmet = true;
	walk4(&m, PTE_P | PTE_RW, MBEC_OP_READ, false);
	ok(o.result == MBEC_RES_OK, "npt: with GMET, U=0 no longer restricts reads");
	walk4(&m, LP, MBEC_OP_FETCH, false);
	is_u64(o.error_code, 0x100000011ULL,
	       "npt: GMET supervisor fetch of U=1 page -> P|ID|FINAL (spec example)");
	walk4(&m, LP, MBEC_OP_FETCH, true);
	ok(o.result == MBEC_RES_OK, "npt: GMET user fetch of U=1 page");
	walk4(&m, PTE_P, MBEC_OP_FETCH, true);
	ok(o.result == MBEC_RES_OK, "npt: GMET user fetch of U=0 page");
	walk4(&m, PTE_P, MBEC_OP_WRITE, true);
	is_u64(o.error_code, 0x100000007ULL, "npt: GMET user write to read-only page");
	m.gmet = false;
	m.efer_nx = false;
	walk4(&m, LP | PTE_NX, MBEC_OP_READ, true);
	is_u64(o.error_code, 0x10000000dULL, "npt: NX without host NXE is reserved -> RSV");
}

static void ept_cases(void)
{
	struct mbec_mode m = { .mmu = MBEC_MMU_EPT, .levels = 4, .mbec = true, .execonly = true,
			       .advanced_info = true };
	struct mbec_access a = { .op = MBEC_OP_WRITE, .paging_structure = true };
	uint64_t e[4] = { EP, EP, EP, EPTE_R };

	walk4(&m, EPTE_XU, MBEC_OP_FETCH, true);
	ok(o.result == MBEC_RES_OK, "ept: MBEC: XU-only page fetched by a user address");
	walk4(&m, EPTE_XU, MBEC_OP_FETCH, false);
	is_u64(o.exit_qual, 0x1c4, "ept: MBEC: XU-only page fetched by a supervisor address");
	walk4(&m, EPTE_R | EPTE_XS, MBEC_OP_FETCH, true);
	is_u64(o.exit_qual, 0x3ac, "ept: MBEC: XS-only page fetched by a user address");
	m.mbec = false;
	walk4(&m, EPTE_XU, MBEC_OP_FETCH, true);
	ok(o.result == MBEC_RES_EPT_VIOLATION && o.exit_qual == 0x384,
	   "ept: MBEC off: XU-only entry is not present -> violation, prot 0");
	ok(o.undefined_mask & EPT_VIOL_PROT_USER_EXEC, "ept: MBEC off: bit 6 undefined");
	walk4(&m, EPTE_R | EPTE_X, MBEC_OP_FETCH, true);
	ok(o.result == MBEC_RES_OK, "ept: MBEC off: X serves user addresses too");
	walk4(&m, EPTE_W, MBEC_OP_READ, false);
	ok(o.result == MBEC_RES_EPT_MISCONFIG, "ept: W without R is a misconfiguration");
	walk4(&m, EPTE_W | EPTE_X, MBEC_OP_READ, false);
	ok(o.result == MBEC_RES_EPT_MISCONFIG, "ept: KVM's MMIO value W|X is a misconfiguration");
	walk4(&m, EPTE_X, MBEC_OP_FETCH, false);
	ok(o.result == MBEC_RES_OK, "ept: X-only with execute-only support");
	m.execonly = false;
	walk4(&m, EPTE_X, MBEC_OP_FETCH, false);
	ok(o.result == MBEC_RES_EPT_MISCONFIG, "ept: X-only without execonly: misconfiguration");
	m.mbec = true;
	walk4(&m, EPTE_XU, MBEC_OP_FETCH, true);
	ok(o.result == MBEC_RES_EPT_MISCONFIG, "ept: XU-only follows the execute-only rule");
	walk4(&m, EPTE_R | (3ULL << EPTE_MT_SHIFT), MBEC_OP_READ, false);
	ok(o.result == MBEC_RES_EPT_MISCONFIG, "ept: memory type 3 is a misconfiguration");
	m.execonly = true;

	walk4(&m, EPTE_R | EPTE_XS, MBEC_OP_WRITE, false);
	is_u64(o.exit_qual, 0x1aa, "ept: write to R|XS page: ACC_WRITE, PROT R|X, GVA bits");
	mbec_arch_walk(&m, e, 4, &a, &o);
	is_u64(o.exit_qual, 0x8b, "ept: paging-structure write reports read+write, not translated");
	ok((o.undefined_mask & EPT_VIOL_ADVANCED) == EPT_VIOL_ADVANCED,
	   "ept: advanced bits undefined for a paging-structure access");
	e[1] = 0;
	mbec_arch_walk(&m, e, 4, &a, &o);
	ok(o.exit_qual == 0x83 && o.level == 3 && o.used == 2,
	   "ept: not-present PDPTE: prot bits 0, walk stops there");
	m.advanced_info = false;
	walk4(&m, EPTE_R, MBEC_OP_WRITE, true);
	ok(o.exit_qual == 0x18a && (o.undefined_mask & EPT_VIOL_GVA_USER),
	   "ept: without advanced info bits 9-11 are undefined");
	e[0] = EP | EPTE_PS;
	ok(mbec_arch_walk(&m, e, 4, &a, &o) == 0 && o.result == MBEC_RES_EPT_MISCONFIG,
	   "ept: PS in a PML4E is a misconfiguration");
}

/*
 * Where a walk ends: a misconfigured or reserved entry ends it at any
 * level, leaf or not, however many entries follow.
 */
static void length_cases(void)
{
	struct mbec_mode m = { .mmu = MBEC_MMU_EPT, .levels = 4 };
	struct mbec_access a = { .op = MBEC_OP_READ, .user = true };
	uint64_t e[4] = { EPTE_W, EP, EP, EPTE_R };

	ok(mbec_arch_walk_length(&m, e, 1) == 1 && mbec_arch_walk_length(&m, e, 4) == 1,
	   "length: a W-only PML4E ends the walk, alone or followed by entries");
	ok(mbec_arch_walk(&m, e, 1, &a, &o) == 0 && o.result == MBEC_RES_EPT_MISCONFIG &&
	   o.level == 4 && o.used == 1, "length: the one-entry walk is a misconfiguration at 4");
	e[0] = EP;
	e[1] = EPTE_X;
	ok(mbec_arch_walk_length(&m, e, 2) == 2 &&
	   mbec_arch_walk(&m, e, 2, &a, &o) == 0 && o.result == MBEC_RES_EPT_MISCONFIG &&
	   o.level == 3, "length: an X-only PDPTE without execonly ends the walk at 3");
	m.execonly = true;
	ok(mbec_arch_walk_length(&m, e, 2) == 3 && mbec_arch_walk(&m, e, 2, &a, &o) == -EINVAL,
	   "length: with execonly the X-only PDPTE is a table: the walk goes on");
	ok(mbec_arch_walk_length(&m, e, 4) == 4, "length: a full walk reads every entry");
	e[1] = EPTE_R | (6ULL << EPTE_MT_SHIFT);
	ok(mbec_arch_walk_length(&m, e, 2) == 2, "length: a memory type in a table entry ends it");
	e[1] = EPTE_R | EPTE_PS;
	ok(mbec_arch_walk_length(&m, e, 2) == 2, "length: a 1G leaf ends the walk");
	e[1] = 0;
	ok(mbec_arch_walk_length(&m, e, 2) == 2, "length: a not-present entry ends the walk");

	m = (struct mbec_mode){ .mmu = MBEC_MMU_LEGACY, .levels = 4 };
	e[0] = LP | PTE_NX;
	ok(mbec_arch_walk_length(&m, e, 1) == 1, "length: legacy NX without NXE ends it (RSVD)");
	m.efer_nx = true;
	ok(mbec_arch_walk_length(&m, e, 1) == 2, "length: legacy NX with NXE: the walk goes on");
	m = (struct mbec_mode){ .mmu = MBEC_MMU_NPT, .levels = 4 };
	ok(mbec_arch_walk_length(&m, e, 1) == 1, "length: NPT NX without NXE ends it (RSV)");
	ok(mbec_arch_walk_length(&m, e, 5) == -EINVAL, "length: more entries than levels");
}

static void table_cases(void)
{
	struct mbec_mode m = { .mmu = MBEC_MMU_LEGACY, .levels = 4, .cr0_wp = true,
			       .efer_nx = true, .cr4_smap = true };
	uint16_t t[16], care[16];
	unsigned int all = MBEC_ACC_ALL;

	ok(mbec_arch_perm_table(&m, t, care) == 0, "table: legacy WP SMAP NX");
	/* index 1 = W: supervisor write (SMAP applies). */
	ok(t[1] & (1u << (all & ~MBEC_ACC_WRITE)), "table: write to read-only page faults");
	ok(t[1] & (1u << all), "table: SMAP: supervisor write to user page faults");
	ok(!(t[1 | 4] & (1u << all)), "table: RSVD override lifts SMAP");
	ok(!(t[2] & (1u << all)), "table: user read of a full page");
	ok(t[2] & (1u << (all & ~MBEC_ACC_USER)), "table: user read of supervisor page faults");
	ok(t[8 | 2] & (1u << (all & ~MBEC_ACC_EXEC)), "table: user fetch of NX page faults");
	ok(care[3] == 0xaaaa && care[9] == 0, "table: care excludes !READ and W|F indices");

	m.mmu = MBEC_MMU_EPT;
	m.mbec = true;
	m.advanced_info = true;
	ok(mbec_arch_perm_table(&m, t, care) == 0, "table: ept mbec without execonly");
	ok(!(t[8 | 2] & (1u << (MBEC_ACC_READ | MBEC_ACC_USER_EXEC))),
	   "table: ept user fetch needs XU");
	ok(t[8] & (1u << (MBEC_ACC_READ | MBEC_ACC_USER_EXEC)),
	   "table: ept supervisor fetch needs XS");
	ok(!(care[0] & (1u << MBEC_ACC_WRITE)) && !(care[0] & (1u << MBEC_ACC_EXEC)),
	   "table: misconfigured entries are not cared for");
}

int main(void)
{
	legacy_cases();
	npt_cases();
	ept_cases();
	table_cases();
	length_cases();
	return done_testing();
}
