// SPDX-License-Identifier: GPL-2.0
/*
 * The workload's layout is what the live checker trusts to say which SPTE
 * belongs to which matrix page: walk the entries from CR3 like the CPU
 * would and check every page translates to its GPA with its own bits, the
 * matrix holds each U/W/NX x A/D x size combination once per vCPU, and
 * nothing overlaps.
 */
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "workload/workload.h"

static const struct workload_entry *find_entry(const struct workload_layout *l, uint64_t gpa)
{
	unsigned int i;

	for (i = 0; i < l->nr_entries; i++)
		if (l->entries[i].gpa == gpa)
			return &l->entries[i];
	return NULL;
}

/* 4-level walk through the layout's entries: leaf entry or 0. */
static uint64_t walk(const struct workload_layout *l, uint64_t gva, uint64_t *upper_and,
		     uint64_t *upper_or, unsigned int *leaf_level)
{
	uint64_t table = l->cr3;
	unsigned int level;

	*upper_and = ~0ULL;
	*upper_or = 0;
	for (level = 4; level >= 1; level--) {
		unsigned int idx = (gva >> (12 + 9 * (level - 1))) & 511;
		const struct workload_entry *e = find_entry(l, table + idx * 8);

		if (!e || !(e->value & PTE_P) || e->level != level)
			return 0;
		if (level == 1 || (level == 2 && (e->value & PTE_PS))) {
			*leaf_level = level;
			return e->value;
		}
		*upper_and &= e->value;
		*upper_or |= e->value;
		table = e->value & PTE_PFN_MASK;
	}
	return 0;
}

static int check_layout(unsigned int vcpus, enum workload_pattern pat)
{
	struct workload_opts o;
	struct workload_layout *l;
	unsigned int i, j, bad_walk = 0, bad_bits = 0, overlap = 0, bad_pool = 0, nmatrix = 0;
	unsigned int nstorm = 0, nfault = 0, npref = 0;
	unsigned char seen[WORKLOAD_MAX_VCPUS][64] = { { 0 } };

	workload_opts_init(&o);
	o.vcpus = vcpus;
	o.pattern = pat;
	l = workload_layout_new(&o);
	if (!ok(l != NULL, "%s, %u vCPUs: layout built", workload_pattern_name(pat), vcpus))
		return 1;
	for (i = 0; i < l->nr_pages; i++) {
		const struct workload_page *p = &l->pages[i];
		uint64_t uand, uor, leaf;
		unsigned int lvl = 0;

		leaf = walk(l, p->gva, &uand, &uor, &lvl);
		if (leaf != p->pte || (leaf & PTE_PFN_MASK & ~(p->size - 1)) != p->gpa ||
		    lvl != p->level || (p->size == 0x200000) != (lvl == 2) ||
		    !(uand & PTE_US) || !(uand & PTE_RW) || (uor & PTE_NX) ||
		    find_entry(l, p->pte_gpa)->value != p->pte)
			bad_walk++;
		if (p->pte_gpa < l->pt_gpa || p->pte_gpa >= l->pt_gpa + l->pt_size ||
		    p->gpa + p->size > l->ram_size ||
		    (p->gpa < l->pt_gpa + l->pt_size && p->gpa + p->size > l->pt_gpa))
			bad_pool++;
		for (j = 0; j < i; j++) {
			const struct workload_page *q = &l->pages[j];

			if ((p->gpa < q->gpa + q->size && q->gpa < p->gpa + p->size) ||
			    (p->gva < q->gva + q->size && q->gva < p->gva + p->size))
				overlap++;
		}
		if (p->kind == WL_PAGE_MATRIX) {
			unsigned int idx = i % WORKLOAD_MATRIX_PAGES, c = idx & 31;
			static const uint64_t ad[4] = { 0, PTE_A, PTE_A | PTE_D, PTE_D };

			nmatrix++;
			if (i / WORKLOAD_MATRIX_PAGES != (unsigned int)p->vcpu ||
			    ((p->pte & PTE_US) != 0) != ((c >> 4) & 1) ||
			    ((p->pte & PTE_RW) != 0) != ((c >> 3) & 1) ||
			    ((p->pte & PTE_NX) != 0) != ((c >> 2) & 1) ||
			    (p->pte & (PTE_A | PTE_D)) != ad[c & 3] ||
			    p->size != (idx < 32 ? 0x1000u : 0x200000u) || p->gva == p->gpa)
				bad_bits++;
			seen[p->vcpu][idx]++;
			nfault += workload_page_faulted_in(p);
			npref += workload_page_prefetchable(p);
		} else if (p->kind == WL_PAGE_STORM) {
			nstorm++;
			if (!workload_write_ok(p->pte) || p->size != 0x1000)
				bad_bits++;
		}
	}
	for (i = 0; i < vcpus; i++)
		for (j = 0; j < 64; j++)
			if (seen[i][j] != 1)
				bad_bits++;
	ok(nmatrix == 64 * vcpus, "%u vCPUs: 64 matrix pages per vCPU (%u)", vcpus, nmatrix);
	ok(nstorm == (pat == WORKLOAD_STORM ? WORKLOAD_STORM_PAGES * vcpus : 0),
	   "%u vCPUs: storm pages only for the storm (%u)", vcpus, nstorm);
	ok(nfault == 32 * vcpus && npref == 8 * vcpus,
	   "%u vCPUs: 32 pages per vCPU faulted in, 8 prefetchable (%u, %u)", vcpus, nfault, npref);
	ok(!bad_walk, "%u vCPUs: every page walks from CR3 to its GPA and leaf (%u bad)", vcpus,
	   bad_walk);
	ok(!bad_bits, "%u vCPUs: matrix bits follow the documented index (%u bad)", vcpus,
	   bad_bits);
	ok(!overlap, "%u vCPUs: no two pages share a GPA or GVA (%u)", vcpus, overlap);
	ok(!bad_pool, "%u vCPUs: entries in the pool, pages in RAM and outside it (%u)", vcpus,
	   bad_pool);
	for (i = 0, j = 0; i < l->nr_tables; i++)
		if (l->tables[i].gpa < l->pt_gpa || l->tables[i].gpa >= l->pt_gpa + l->pt_size)
			j++;
	ok((l->cr0 & X86_CR0_PG) && (l->cr0 & X86_CR0_WP) && (l->cr4 & X86_CR4_PAE) &&
	   !(l->cr4 & (X86_CR4_LA57 | X86_CR4_SMEP | X86_CR4_SMAP)) && (l->efer & X86_EFER_NXE),
	   "%u vCPUs: 4-level paging with WP and NXE, no SMEP/SMAP", vcpus);
	ok(!j && l->tables[0].gpa == l->cr3 && l->tables[0].level == 4,
	   "%u vCPUs: the tables are in the pool, the first is the PML4", vcpus);
	workload_layout_free(l);
	return 0;
}

int main(void)
{
	struct workload_opts o;

	check_layout(1, WORKLOAD_MATRIX);
	check_layout(2, WORKLOAD_STORM);
	check_layout(WORKLOAD_MAX_VCPUS, WORKLOAD_MATRIX);
	check_layout(WORKLOAD_MAX_VCPUS, WORKLOAD_STORM);
	workload_opts_init(&o);
	o.vcpus = WORKLOAD_MAX_VCPUS + 1;
	ok(workload_layout_new(&o) == NULL, "too many vCPUs: no layout");
	ok(workload_read_ok(PTE_P | PTE_US) && !workload_write_ok(PTE_P | PTE_US) &&
	   workload_fetch_ok(PTE_P | PTE_US) && !workload_fetch_ok(PTE_P | PTE_US | PTE_NX) &&
	   !workload_read_ok(PTE_P | PTE_RW) && workload_write_ok(PTE_P | PTE_US | PTE_RW),
	   "CPL-3 outcome helpers follow U/W/NX");
	return done_testing();
}
