// SPDX-License-Identifier: GPL-2.0
/*
 * The nested workload's tables and expectations (nested_matrix.c), held
 * against the architecture's rules written out here independently:
 *   NPT without GMET: every access is a user access: it needs U; a write
 *     needs W; a fetch needs NX=0.  EXITINFO1 = P | US | FINAL, plus RW
 *     for writes and ID for fetches (L2 runs with EFER.NXE).
 *   NPT with GMET: U no longer gates data accesses; a fetch needs NX=0
 *     and, at CPL 0, U=0.  US in EXITINFO1 tells CPL 3.
 *   EPT: read needs R, write W, fetch XS (with MBEC and a user-mode
 *     linear address: XU).  Qualification: the access bit, R/W/XS (and
 *     XU with MBEC) shifted to 3-6, GVA valid and translated, and the
 *     advanced bits: user at CPL 3, writable (L3's pages are).
 * Plus the spec's worked values, the L3 pages the builder grants, and
 * the tables as written into RAM.
 */
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "workload/nested.h"

static uint64_t get64_le(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

static bool npt_ok(uint64_t leaf, enum mbec_op op, bool gmet, unsigned int cpl)
{
	bool u = leaf & PTE_US, w = leaf & PTE_RW, nx = leaf & PTE_NX;

	if (!gmet && !u)
		return false;
	if (op == MBEC_OP_WRITE)
		return w;
	if (op == MBEC_OP_FETCH)
		return !nx && !(gmet && cpl == 0 && u);
	return true;
}

static uint64_t npt_info(enum mbec_op op, bool gmet, unsigned int cpl)
{
	return PFERR_PRESENT | PFERR_GUEST_FINAL | (!gmet || cpl == 3 ? PFERR_USER : 0) |
	       (op == MBEC_OP_WRITE ? PFERR_WRITE : 0) | (op == MBEC_OP_FETCH ? PFERR_FETCH : 0);
}

static bool ept_ok(uint64_t leaf, enum mbec_op op, bool mbec, unsigned int cpl)
{
	if (op == MBEC_OP_READ)
		return leaf & EPTE_R;
	if (op == MBEC_OP_WRITE)
		return leaf & EPTE_W;
	if (mbec && cpl == 3)
		return leaf & EPTE_XU;
	return leaf & EPTE_XS;
}

static uint64_t ept_qual(uint64_t leaf, enum mbec_op op, bool mbec, unsigned int cpl)
{
	uint64_t q = (op == MBEC_OP_READ ? EPT_VIOL_ACC_READ : op == MBEC_OP_WRITE ?
		      EPT_VIOL_ACC_WRITE : EPT_VIOL_ACC_INSTR) |
		     EPT_VIOL_GVA_IS_VALID | EPT_VIOL_GVA_TRANSLATED | EPT_VIOL_GVA_WRITABLE |
		     (cpl == 3 ? EPT_VIOL_GVA_USER : 0);

	q |= (leaf & EPTE_RWX) << EPT_VIOL_PROT_SHIFT;
	if (mbec)
		q |= (leaf & EPTE_XU) >> EPT_VIOL_UX_SHIFT;
	return q;
}

/* Every access of every page of @l against the rules; returns wrong ones. */
static unsigned int judge(const struct wln_layout *l, unsigned int *faults)
{
	unsigned int i, k, bad = 0;

	for (i = 0; i < l->nr_pages; i++) {
		const struct wln_page *p = &l->pages[i];

		for (k = 0; k < 3; k++) {
			enum mbec_op op = (enum mbec_op)k;
			struct mbec_outcome out;
			bool want;
			uint64_t info, got;

			if (wln_expect(l, p, op, true, &out)) {
				bad++;
				continue;
			}
			if (l->mmu == MBEC_MMU_NPT) {
				want = npt_ok(p->leaf, op, l->feature, l->cpl);
				info = npt_info(op, l->feature, l->cpl);
				got = out.error_code;
			} else {
				want = ept_ok(p->leaf, op, l->feature, l->cpl);
				info = ept_qual(p->leaf, op, l->feature, l->cpl);
				got = out.exit_qual & ~out.undefined_mask;
				info &= ~out.undefined_mask;
			}
			if ((out.result == MBEC_RES_OK) != want) {
				diag("%s %s cpl %u %s %s: model %s", l->feature ? "on" : "off",
				     p->name, l->cpl, p->size == WLN_2M ? "2M" : "4K",
				     k == 0 ? "read" : k == 1 ? "write" : "fetch",
				     out.result == MBEC_RES_OK ? "ok" : "fault");
				bad++;
			} else if (!want) {
				(*faults)++;
				if (got != info) {
					diag("%s %s cpl %u %s: info %#llx, rules %#llx",
					     l->feature ? "on" : "off", p->name, l->cpl,
					     k == 0 ? "read" : k == 1 ? "write" : "fetch",
					     (unsigned long long)got, (unsigned long long)info);
					bad++;
				}
			}
		}
	}
	return bad;
}

/* The outcome of @op on L3's own page at @gpa (code, stack, data, tables). */
static enum mbec_result sys_outcome(const struct wln_layout *l, uint64_t gpa, enum mbec_op op)
{
	struct wln_page p = { .gpa = gpa - (op == MBEC_OP_FETCH ? WLN_STUB_OFFSET : WLN_DATA_OFFSET),
			      .size = WLN_4K };
	struct mbec_outcome out;

	if (wln_expect(l, &p, op, true, &out))
		return MBEC_RES_EPT_MISCONFIG;
	return out.result;
}

static void test_npt(void)
{
	struct wln_layout l;
	unsigned int f, cpl, faults, bad, i;

	for (f = 0; f < 2; f++) {
		for (cpl = 0; cpl <= 3; cpl += 3) {
			faults = 0;
			ok(!wln_layout_build(&l, MBEC_MMU_NPT, f, false, cpl),
			   "NPT layout, GMET %u, CPL %u", f, cpl);
			ok(l.nr_pages == 16, "16 NPT pages (8 U/W/NX x 4K, 2M): %u", l.nr_pages);
			bad = judge(&l, &faults);
			ok(!bad && faults > 0,
			   "NPT GMET %u CPL %u: outcomes and EXITINFO1 as the APM rules (%u wrong, %u faults)",
			   f, cpl, bad, faults);
			bad = 0;
			for (i = 0; i < l.nr_pages; i++)
				if (wln_entry_at(&l, l.pages[i].leaf_gpa) != l.pages[i].leaf ||
				    (l.pages[i].leaf & PTE_PFN_MASK & ~(l.pages[i].size - 1)) !=
				    l.pages[i].gpa || !(l.pages[i].leaf & PTE_A) ||
				    !(l.pages[i].leaf & PTE_D))
					bad++;
			ok(!bad, "each leaf is where the page says, maps its own GPA, A=D=1 (%u bad)",
			   bad);
			/* L3's own pages work in this pass. */
			ok(sys_outcome(&l, WLN_L3_CODE_GPA, MBEC_OP_FETCH) == MBEC_RES_OK &&
			   sys_outcome(&l, WLN_L3_STACK_GPA, MBEC_OP_WRITE) == MBEC_RES_OK &&
			   sys_outcome(&l, WLN_L3_DATA_GPA, MBEC_OP_WRITE) == MBEC_RES_OK &&
			   sys_outcome(&l, WLN_L3_PD_GPA, MBEC_OP_READ) == MBEC_RES_OK,
			   "GMET %u CPL %u: L3 can fetch its code and write its stack and data", f, cpl);
		}
	}
}

static void test_worked_values(void)
{
	struct wln_layout l;
	struct mbec_outcome out;

	/* GMET, CPL 0, fetch of U1 W0 NX0 (page 4): P | ID | FINAL. */
	wln_layout_build(&l, MBEC_MMU_NPT, true, false, 0);
	ok(!wln_expect(&l, &l.pages[4], MBEC_OP_FETCH, true, &out) &&
	   out.result == MBEC_RES_NPF && out.error_code == 0x100000011ULL,
	   "spec: GMET supervisor fetch of a U=1 page gives EXITINFO1 0x100000011 (%#llx)",
	   (unsigned long long)out.error_code);
	/* No GMET, CPL 3, read of U0 W0 NX0 (page 0): P | US | FINAL. */
	wln_layout_build(&l, MBEC_MMU_NPT, false, false, 3);
	ok(!wln_expect(&l, &l.pages[0], MBEC_OP_READ, true, &out) &&
	   out.result == MBEC_RES_NPF && out.error_code == 0x100000005ULL,
	   "spec: a U=0 fault without GMET gives EXITINFO1 0x100000005 (%#llx)",
	   (unsigned long long)out.error_code);

	/*
	 * The builder's choice for L3's pages matters: the control layout's
	 * U=1 code page under GMET would fault L3's own CPL-0 fetches, and
	 * the GMET layout's U=0 pages without GMET would fault everything.
	 */
	wln_layout_build(&l, MBEC_MMU_NPT, false, false, 0);
	l.feature = true;
	ok(sys_outcome(&l, WLN_L3_CODE_GPA, MBEC_OP_FETCH) == MBEC_RES_NPF,
	   "negative: U=1 L3 code under GMET faults a CPL-0 fetch");
	wln_layout_build(&l, MBEC_MMU_NPT, true, false, 3);
	l.feature = false;
	ok(sys_outcome(&l, WLN_L3_DATA_GPA, MBEC_OP_READ) == MBEC_RES_NPF,
	   "negative: U=0 L3 data without GMET faults");
}

static void test_ept(void)
{
	struct wln_layout l;
	unsigned int m, x, cpl, faults, bad, i, misconf;

	for (m = 0; m < 2; m++) {
		for (x = 0; x < 2; x++) {
			for (cpl = 0; cpl <= 3; cpl += 3) {
				faults = 0;
				misconf = 0;
				ok(!wln_layout_build(&l, MBEC_MMU_EPT, m, x, cpl),
				   "EPT layout, MBEC %u, execonly %u, CPL %u", m, x, cpl);
				ok(l.nr_pages == (x ? 24u : 18u), "EPT pages: %u", l.nr_pages);
				for (i = 0; i < l.nr_pages; i++)
					if ((l.pages[i].leaf & EPTE_W) && !(l.pages[i].leaf & EPTE_R))
						misconf++;
				ok(!misconf, "no leaf is W without R");
				bad = judge(&l, &faults);
				ok(!bad && faults > 0,
				   "EPT MBEC %u execonly %u CPL %u: outcomes and qualification as the SDM rules (%u wrong, %u faults)",
				   m, x, cpl, bad, faults);
				ok(sys_outcome(&l, WLN_L3_CODE_GPA, MBEC_OP_FETCH) == MBEC_RES_OK &&
				   sys_outcome(&l, WLN_L3_DATA_GPA, MBEC_OP_WRITE) == MBEC_RES_OK,
				   "L3 can fetch its code and write its data");
			}
		}
	}
	/* With MBEC a CPL-3 fetch of an XS-only page faults; without, it does not. */
	wln_layout_build(&l, MBEC_MMU_EPT, true, false, 3);
	{
		struct mbec_outcome on, off;

		wln_expect(&l, &l.pages[2], MBEC_OP_FETCH, true, &on);	/* R1 W0 XS1 XU0 */
		l.feature = false;
		wln_expect(&l, &l.pages[2], MBEC_OP_FETCH, true, &off);
		ok(on.result == MBEC_RES_EPT_VIOLATION && off.result == MBEC_RES_OK,
		   "MBEC decides a user fetch of an XS-only page (%s)", l.pages[2].name);
	}
}

static void test_write(void)
{
	struct wln_layout l;
	uint8_t *ram = calloc(1, WLN_AREA_END);
	unsigned int i, bad = 0;

	if (!ok(ram != NULL, "RAM for the nested area"))
		return;
	memset(ram + WLN_POOL_GPA, 0xee, WLN_POOL_SIZE);
	wln_layout_build(&l, MBEC_MMU_NPT, false, false, 3);
	wln_layout_write(&l, ram);
	for (i = 0; i < l.nr_entries; i++)
		if (get64_le(ram + l.entries[i].gpa) != l.entries[i].value)
			bad++;
	ok(!bad && l.nr_entries > 20, "every entry is in RAM (%u entries, %u wrong)", l.nr_entries,
	   bad);
	ok(ram[WLN_POOL_GPA + WLN_POOL_SIZE - 1] == 0, "the rest of the pool is zeroed");
	ok(l.root == WLN_POOL_GPA && l.l3_cr3 == WLN_L3_PML4_GPA &&
	   (get64_le(ram + WLN_L3_PD_GPA + 8 * (WLN_M2M_GPA(7) >> 21)) & PTE_US),
	   "roots, and L3's 2M entries user at CPL 3");
	free(ram);
}

int main(void)
{
	struct wln_layout l;

	ok(wln_layout_build(&l, MBEC_MMU_NPT, false, true, 3) == -1 &&
	   wln_layout_build(&l, MBEC_MMU_NPT, false, false, 1) == -1 &&
	   wln_layout_build(&l, MBEC_MMU_LEGACY, false, false, 3) == -1,
	   "bad arguments are refused (execute-only NPT, CPL 1, legacy paging)");
	test_npt();
	test_worked_values();
	test_ept();
	test_write();
	return done_testing();
}
