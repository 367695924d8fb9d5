// SPDX-License-Identifier: GPL-2.0
/*
 * The nested workload's matrix as data: L2's nested page tables for L3
 * (NPT or EPT), L3's own page tables, and what the reference model says
 * every L3 access must do.  Pure functions of their arguments, so the
 * unit tests hold them against the architecture without KVM.
 *
 * NPT matrix: the 8 U/W/NX combinations of a present leaf (A=D=1, so no
 * walker ever writes the tables), as 4K and as 2M pages.  EPT matrix:
 * the R/W/XS/XU combinations that are not misconfigurations - the 8 with
 * R=1, the not-present one, and with execute-only support the 3
 * execute-only ones - as 4K and as 2M pages.  Upper nested entries grant
 * everything, so the leaf alone decides.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "workload/nested.h"

#define NPT_UPPER	(PTE_P | PTE_RW | PTE_US | PTE_A)
#define EPT_UPPER	(EPTE_R | EPTE_W | EPTE_X | EPTE_XU)
#define EPT_WB		(6ULL << EPTE_MT_SHIFT)
#define L3_UPPER	(PTE_P | PTE_RW | PTE_US | PTE_A)

/* Table pages in the pool. */
#define POOL_PML4	(WLN_POOL_GPA + 0 * WLN_4K)
#define POOL_PDPT	(WLN_POOL_GPA + 1 * WLN_4K)
#define POOL_PD		(WLN_POOL_GPA + 2 * WLN_4K)
#define POOL_PT_SYS	(WLN_POOL_GPA + 3 * WLN_4K)
#define POOL_PT_M4K	(WLN_POOL_GPA + 4 * WLN_4K)

static void add(struct wln_layout *l, uint64_t table, uint64_t addr, unsigned int level,
		uint64_t value)
{
	unsigned int idx = (addr >> (12 + 9 * (level - 1))) & 511;

	if (l->nr_entries >= WLN_MAX_ENTRIES) {
		l->failed = true;
		return;
	}
	l->entries[l->nr_entries++] = (struct workload_entry) {
		.gpa = table + idx * 8ULL, .value = value, .level = level,
	};
}

/* The leaf permission bits of combination @c, and its name. */
static uint64_t combo_bits(const struct wln_layout *l, unsigned int c, char *name, size_t len)
{
	if (l->mmu == MBEC_MMU_NPT) {
		bool u = c >> 2 & 1, w = c >> 1 & 1, nx = c & 1;

		snprintf(name, len, "U%d W%d NX%d", u, w, nx);
		return PTE_P | PTE_A | PTE_D | (u ? PTE_US : 0) | (w ? PTE_RW : 0) |
		       (nx ? PTE_NX : 0);
	}
	/* EPT: 0-7 R=1 with W/XS/XU, 8 not present, 9-11 execute-only XS/XU. */
	if (c < 8) {
		bool w = c >> 2 & 1, xs = c >> 1 & 1, xu = c & 1;

		snprintf(name, len, "R1 W%d XS%d XU%d", w, xs, xu);
		return EPTE_R | (w ? EPTE_W : 0) | (xs ? EPTE_XS : 0) | (xu ? EPTE_XU : 0) | EPT_WB;
	}
	if (c == 8) {
		snprintf(name, len, "none");
		return 0;
	}
	snprintf(name, len, "R0 W0 XS%d XU%d", (c - 8) >> 1 & 1, (c - 8) & 1);
	return ((c - 8) & 2 ? EPTE_XS : 0) | ((c - 8) & 1 ? EPTE_XU : 0) | EPT_WB;
}

static unsigned int nr_combos(const struct wln_layout *l)
{
	if (l->mmu == MBEC_MMU_NPT)
		return 8;
	return l->execonly ? 12 : 9;
}

int wln_layout_build(struct wln_layout *l, enum mbec_mmu mmu, bool feature, bool execonly,
		     unsigned int cpl)
{
	bool npt = mmu == MBEC_MMU_NPT;
	uint64_t upper, sys, l3_leaf;
	unsigned int n, c, i;

	memset(l, 0, sizeof(*l));
	if ((mmu != MBEC_MMU_NPT && mmu != MBEC_MMU_EPT) || (cpl != 0 && cpl != 3) ||
	    (npt && execonly))
		return -1;
	l->mmu = mmu;
	l->feature = feature;
	l->execonly = execonly;
	l->cpl = cpl;
	l->root = POOL_PML4;
	l->l3_cr3 = WLN_L3_PML4_GPA;
	upper = npt ? NPT_UPPER : EPT_UPPER;
	/*
	 * What L3's own pages need at its CPL.  NPT without GMET treats every
	 * access as a user one (U=1 or nothing works); with GMET U=0, or a
	 * supervisor fetch of L3's code faults.  EPT: everything, both XS and
	 * XU (L3's linear addresses are user ones at CPL 3 only).
	 */
	sys = npt ? PTE_P | PTE_RW | PTE_A | PTE_D | (feature ? 0 : PTE_US) :
		    EPTE_R | EPTE_W | EPTE_XS | EPTE_XU | EPT_WB;

	add(l, POOL_PML4, 0, 4, POOL_PDPT | upper);
	add(l, POOL_PDPT, 0, 3, POOL_PD | upper);
	add(l, POOL_PD, WLN_CTL_GPA, 2, POOL_PT_SYS | upper);
	add(l, POOL_PD, WLN_M4K_GPA(0), 2, POOL_PT_M4K | upper);
	for (i = 0; i < WLN_L3_CODE_PAGES; i++)
		add(l, POOL_PT_SYS, WLN_L3_CODE_GPA + i * WLN_4K, 1,
		    (WLN_L3_CODE_GPA + i * WLN_4K) | sys);
	add(l, POOL_PT_SYS, WLN_L3_STACK_GPA, 1, WLN_L3_STACK_GPA | sys);
	add(l, POOL_PT_SYS, WLN_L3_DATA_GPA, 1, WLN_L3_DATA_GPA | sys);
	add(l, POOL_PT_SYS, WLN_L3_PML4_GPA, 1, WLN_L3_PML4_GPA | sys);
	add(l, POOL_PT_SYS, WLN_L3_PDPT_GPA, 1, WLN_L3_PDPT_GPA | sys);
	add(l, POOL_PT_SYS, WLN_L3_PD_GPA, 1, WLN_L3_PD_GPA | sys);

	n = nr_combos(l);
	for (i = 0; i < 2 * n; i++) {
		struct wln_page *p = &l->pages[l->nr_pages++];
		bool big = i >= n;
		uint64_t bits;

		c = i % n;
		bits = combo_bits(l, c, p->name, sizeof(p->name));
		p->size = big ? WLN_2M : WLN_4K;
		p->level = big ? 2 : 1;
		p->gpa = big ? WLN_M2M_GPA(c) : WLN_M4K_GPA(c);
		p->leaf_gpa = (big ? POOL_PD : POOL_PT_M4K) +
			      ((p->gpa >> (big ? 21 : 12)) & 511) * 8ULL;
		/* A not-present EPT entry is all zero, PFN included. */
		p->leaf = bits ? p->gpa | bits | (big ? (npt ? PTE_PS : EPTE_PS) : 0) : 0;
		if (p->leaf)
			add(l, big ? POOL_PD : POOL_PT_M4K, p->gpa, p->level, p->leaf);
	}

	/* L3's paging: identity, 2M pages over the L3 system area and the matrix. */
	l3_leaf = PTE_P | PTE_RW | PTE_A | PTE_D | PTE_PS | (cpl == 3 ? PTE_US : 0);
	add(l, WLN_L3_PML4_GPA, 0, 4, WLN_L3_PDPT_GPA | L3_UPPER);
	add(l, WLN_L3_PDPT_GPA, 0, 3, WLN_L3_PD_GPA | L3_UPPER);
	for (i = WLN_CTL_GPA >> 21; i < WLN_M2M_GPA(n) >> 21; i++)
		add(l, WLN_L3_PD_GPA, (uint64_t)i << 21, 2, ((uint64_t)i << 21) | l3_leaf);
	return l->failed ? -1 : 0;
}

void wln_layout_write(const struct wln_layout *l, uint8_t *ram)
{
	unsigned int i;

	memset(ram + WLN_POOL_GPA, 0, WLN_POOL_SIZE);
	memset(ram + WLN_L3_PML4_GPA, 0, 3 * WLN_4K);
	for (i = 0; i < l->nr_entries; i++)
		memcpy(ram + l->entries[i].gpa, &l->entries[i].value, 8);
}

uint64_t wln_entry_at(const struct wln_layout *l, uint64_t gpa)
{
	unsigned int i;

	for (i = 0; i < l->nr_entries; i++)
		if (l->entries[i].gpa == gpa)
			return l->entries[i].value;
	return 0;
}

struct mbec_mode wln_mode(const struct wln_layout *l, bool advanced_info)
{
	struct mbec_mode m = { .mmu = l->mmu, .levels = 4 };

	if (l->mmu == MBEC_MMU_NPT) {
		/* L2 runs with EFER.NXE and without CR4.SMEP (the layout's registers). */
		m.efer_nx = true;
		m.gmet = l->feature;
	} else {
		m.mbec = l->feature;
		m.execonly = l->execonly;
		m.advanced_info = advanced_info;
	}
	return m;
}

int wln_expect(const struct wln_layout *l, const struct wln_page *p, enum mbec_op op,
	       bool advanced_info, struct mbec_outcome *out)
{
	struct mbec_mode m = wln_mode(l, advanced_info);
	struct mbec_access acc = {
		.op = op, .user = l->cpl == 3, .gva_writable = true, .gva_nx = false,
	};
	uint64_t gpa = p->gpa + (op == MBEC_OP_FETCH ? WLN_STUB_OFFSET : WLN_DATA_OFFSET);
	uint64_t entries[4], table = l->root;
	bool npt = l->mmu == MBEC_MMU_NPT;
	int n;

	for (n = 0; n < 4; n++) {
		unsigned int level = 4 - n;
		uint64_t e = wln_entry_at(l, table + ((gpa >> (12 + 9 * (level - 1))) & 511) * 8);
		bool present = npt ? e & PTE_P : e & (EPTE_RWX | EPTE_XU);

		entries[n] = e;
		if (!present || level == 1 || (level <= 3 && (e & PTE_PS))) {
			n++;
			break;
		}
		table = e & PTE_PFN_MASK;
	}
	return mbec_arch_walk(&m, entries, n, &acc, out) ? -1 : 0;
}
