// SPDX-License-Identifier: GPL-2.0
/*
 * What each matrix access must do, from the reference model: the VMM
 * judges the guest by it, and a test holds it against the architecture.
 * Nothing here is written by hand from the U/W/NX bits: the walk goes
 * through the layout's own entries and mbec_arch_walk decides.
 */
#include "workload/internal.h"

/*
 * One supervisor pass per CR0.WP / CR4.SMEP / CR4.SMAP / EFLAGS.AC state
 * worth telling apart: WP alone both ways, then SMEP and SMAP on with AC
 * clear (user pages: no data access, no fetch) and with AC set under WP=0
 * (user data accesses allowed again, read-only pages writable).
 */
const struct workload_smode workload_smodes[WORKLOAD_SMODES] = {
	{ "WP0", false, false, false, false },
	{ "WP1", true, false, false, false },
	{ "WP1 SMEP SMAP", true, true, true, false },
	{ "WP0 SMEP SMAP AC", false, true, true, true },
};

/* The entry at @gpa; one the VMM never wrote is zero (not present). */
static uint64_t entry_at(const struct workload_layout *l, uint64_t gpa)
{
	unsigned int i;

	for (i = 0; i < l->nr_entries; i++)
		if (l->entries[i].gpa == gpa)
			return l->entries[i].value;
	return 0;
}

int workload_expect(const struct workload_layout *l, const struct workload_page *p,
		    enum mbec_op op, const struct workload_smode *sm, struct mbec_outcome *out)
{
	struct mbec_mode mode = {
		.mmu = MBEC_MMU_LEGACY,
		.levels = 4,
		.efer_nx = !!(l->efer & X86_EFER_NXE),
	};
	struct mbec_access acc = { .op = op, .user = !sm };
	uint64_t entries[4], table = l->cr3;
	int n;

	if (sm) {
		mode.cr0_wp = sm->cr0_wp;
		mode.cr4_smep = sm->cr4_smep;
		mode.cr4_smap = sm->cr4_smap;
		mode.eflags_ac = sm->eflags_ac;
	} else {
		mode.cr0_wp = !!(l->cr0 & X86_CR0_WP);
		mode.cr4_smep = !!(l->cr4 & X86_CR4_SMEP);
		mode.cr4_smap = !!(l->cr4 & X86_CR4_SMAP);
	}
	for (n = 0; n < 4; n++) {
		unsigned int level = 4 - n;
		uint64_t gva = p->gva + (op == MBEC_OP_FETCH ? l->stub_offset : l->data_offset);
		unsigned int idx = (gva >> (12 + 9 * (level - 1))) & 511;

		entries[n] = entry_at(l, table + idx * 8ULL);
		if (!(entries[n] & PTE_P) || level == 1 ||
		    (level <= 3 && (entries[n] & PTE_PS))) {
			n++;
			break;
		}
		table = entries[n] & PTE_PFN_MASK;
	}
	return mbec_arch_walk(&mode, entries, n, &acc, out) ? -1 : 0;
}
