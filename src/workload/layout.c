// SPDX-License-Identifier: GPL-2.0
/*
 * The workload's guest layout as data: every page with its GVA, GPA, size
 * and leaf entry, every paging-structure page and entry.  A pure function
 * of (vcpus, pattern) so the live checker and the VMM agree without
 * talking to each other.  The VMM writes guest memory from this and
 * nothing else (wl_layout_write_tables).
 */
#include <stdlib.h>
#include <string.h>

#include "workload/internal.h"

/* Upper-level entries leave every decision to the leaf. */
#define WL_UPPER	(PTE_P | PTE_RW | PTE_US | PTE_A)

struct builder {
	struct workload_layout *l;
	unsigned int max_pages, max_tables, max_entries;
	uint64_t next_table;
	bool failed;
};

static const char *const ad_names[] = { "A0D0", "A1D0", "A1D1", "A0D1" };

const char *workload_ad_name(enum workload_ad ad)
{
	return (unsigned int)ad < 4 ? ad_names[ad] : "?";
}

const char *workload_pattern_name(enum workload_pattern p)
{
	return p == WORKLOAD_STORM ? "storm" : "matrix";
}

static uint64_t ad_bits(unsigned int ad)
{
	switch (ad) {
	case WL_A1D0: return PTE_A;
	case WL_A1D1: return PTE_A | PTE_D;
	case WL_A0D1: return PTE_D;
	default: return 0;
	}
}

static void add_entry(struct builder *b, uint64_t table, unsigned int index, uint64_t value,
		      unsigned int level)
{
	struct workload_layout *l = b->l;

	if (l->nr_entries >= b->max_entries) {
		b->failed = true;
		return;
	}
	l->entries[l->nr_entries++] = (struct workload_entry) {
		.gpa = table + index * 8ULL, .value = value, .level = level,
	};
}

static uint64_t new_table(struct builder *b, unsigned int level, uint64_t gva_base)
{
	struct workload_layout *l = b->l;
	uint64_t gpa = b->next_table;

	if (l->nr_tables >= b->max_tables || gpa >= WL_PT_POOL_GPA + WL_PT_POOL_SIZE) {
		b->failed = true;
		return WL_PT_POOL_GPA;
	}
	b->next_table += WL_4K;
	l->tables[l->nr_tables++] = (struct workload_table) {
		.gpa = gpa, .level = level, .gva_base = gva_base,
	};
	return gpa;
}

/* A child table of @parent (at @level) for the region starting at @gva. */
static uint64_t link_table(struct builder *b, uint64_t parent, unsigned int level, uint64_t gva)
{
	unsigned int shift = 12 + 9 * (level - 1);
	uint64_t child = new_table(b, level - 1, gva);

	add_entry(b, parent, (gva >> shift) & 511, child | WL_UPPER, level);
	return child;
}

static void add_page(struct builder *b, enum workload_page_kind kind, int vcpu, uint64_t gva,
		     uint64_t gpa, uint64_t size, uint64_t pte_bits, uint64_t table,
		     const char *what)
{
	struct workload_layout *l = b->l;
	unsigned int level = size == WL_2M ? 2 : 1;
	unsigned int shift = size == WL_2M ? 21 : 12;
	uint64_t pte = gpa | pte_bits | PTE_P | (level == 2 ? PTE_PS : 0);
	unsigned int index = (gva >> shift) & 511;

	if (l->nr_pages >= b->max_pages) {
		b->failed = true;
		return;
	}
	add_entry(b, table, index, pte, level);
	l->pages[l->nr_pages++] = (struct workload_page) {
		.kind = kind, .vcpu = vcpu, .gva = gva, .gpa = gpa, .size = size,
		.pte = pte, .pte_gpa = table + index * 8ULL, .level = level, .what = what,
	};
}

/*
 * Where matrix combination @c (u<<4 | w<<3 | nx<<2 | ad) sits in its
 * vCPU's 4K (or 2M) area.  Each aligned group of 8 slots - the window in
 * which shadow paging prefetches neighbouring guest entries after a fault,
 * stopping at the first entry it cannot use (A=0) - holds one W/NX pair:
 *   U1 A0D0, U0 A1D0, U0 A1D1, U0 A0D0, U1 A1D0, U1 A1D1, U1 A0D1, U0 A0D1
 * CPL-3 code never faults a U=0 page in, so the fault on U1 A0D0 makes
 * KVM prefetch the two U=0 pages with A=1 (supervisor SPTEs the checker
 * can still judge) and then stop at U0 A0D0, leaving the U=1 pages with
 * A=1 to real faults of their own.
 */
static unsigned int matrix_slot(unsigned int c)
{
	static const unsigned char pos[8] = { 3, 1, 2, 7, 0, 4, 5, 6 };

	return ((c >> 2) & 3) * 8 + pos[((c >> 4) & 1) * 4 + (c & 3)];
}

void workload_layout_free(struct workload_layout *l)
{
	if (!l)
		return;
	free(l->pages);
	free(l->tables);
	free(l->entries);
	free(l);
}

struct workload_layout *workload_layout_new(const struct workload_opts *o)
{
	unsigned int n = o->vcpus ? o->vcpus : 1, v, i;
	bool storm = o->pattern == WORKLOAD_STORM;
	uint64_t pml4, pdpt, pd, pt, pd_m4, pd_m2, pd_s = 0;
	struct workload_layout *l;
	struct builder b = { 0 };

	if (n > WORKLOAD_MAX_VCPUS || (o->pattern != WORKLOAD_MATRIX && !storm))
		return NULL;
	l = calloc(1, sizeof(*l));
	if (!l)
		return NULL;
	b.l = l;
	b.max_pages = n * (WORKLOAD_MATRIX_PAGES + (storm ? WORKLOAD_STORM_PAGES : 0) + 4) +
		      8 + 2 * WL_UCODE_PAGES;
	b.max_tables = 18 + 2 * n;
	b.max_entries = b.max_pages + b.max_tables;
	b.next_table = WL_PT_POOL_GPA;
	l->pages = calloc(b.max_pages, sizeof(*l->pages));
	l->tables = calloc(b.max_tables, sizeof(*l->tables));
	l->entries = calloc(b.max_entries, sizeof(*l->entries));
	if (!l->pages || !l->tables || !l->entries) {
		workload_layout_free(l);
		return NULL;
	}
	l->vcpus = n;
	l->pattern = o->pattern;
	l->pt_gpa = WL_PT_POOL_GPA;
	l->pt_size = WL_PT_POOL_SIZE;
	l->ram_size = WL_RAM_SIZE(n);
	l->cr0 = WL_CR0;
	l->cr4 = WL_CR4;
	l->efer = WL_EFER;
	l->stub_offset = WL_STUB_OFFSET;
	l->data_offset = WL_DATA_OFFSET;

	pml4 = new_table(&b, 4, 0);
	l->cr3 = pml4;
	pdpt = link_table(&b, pml4, 4, 0);

	/* Matrix: per vCPU one PT of 32 4K pages, and 32 2M PDEs in one PD. */
	pd_m4 = link_table(&b, pdpt, 3, WL_M4K_GVA(0, 0));
	pd_m2 = link_table(&b, pdpt, 3, WL_M2M_GVA(0, 0));
	for (v = 0; v < n; v++) {
		pt = link_table(&b, pd_m4, 2, WL_M4K_GVA(v, 0));
		for (i = 0; i < WORKLOAD_MATRIX_PAGES; i++) {
			unsigned int c = i & 31;
			uint64_t bits = ((c >> 4) & 1 ? PTE_US : 0) | ((c >> 3) & 1 ? PTE_RW : 0) |
					((c >> 2) & 1 ? PTE_NX : 0) | ad_bits(c & 3);

			unsigned int slot = matrix_slot(c);

			if (i < 32)
				add_page(&b, WL_PAGE_MATRIX, v, WL_M4K_GVA(v, slot),
					 WL_M4K_GPA(v, slot), WL_4K, bits, pt, "matrix");
			else
				add_page(&b, WL_PAGE_MATRIX, v, WL_M2M_GVA(v, slot),
					 WL_M2M_GPA(v, slot), WL_2M, bits, pd_m2, "matrix");
		}
	}

	if (storm) {
		pd_s = link_table(&b, pdpt, 3, WL_STORM_GVA(0, 0));
		for (v = 0; v < n; v++) {
			pt = link_table(&b, pd_s, 2, WL_STORM_GVA(v, 0));
			for (i = 0; i < WORKLOAD_STORM_PAGES; i++)
				add_page(&b, WL_PAGE_STORM, v, WL_STORM_GVA(v, i),
					 WL_STORM_GPA(v, i), WL_4K,
					 PTE_RW | PTE_US | PTE_NX | PTE_A | PTE_D, pt, "storm");
		}
	}

	/* The system area, identity-mapped with 4K pages. */
	pd = link_table(&b, pdpt, 3, 0);
	pt = link_table(&b, pd, 2, 0);
#define SYS(vcpu, gpa, bits, what) \
	add_page(&b, WL_PAGE_SYSTEM, vcpu, gpa, gpa, WL_4K, (bits) | PTE_A, pt, what)
	SYS(-1, WL_GDT_GPA, PTE_RW | PTE_D | PTE_NX, "gdt");
	SYS(-1, WL_IDT_GPA, PTE_NX, "idt");
	SYS(-1, WL_HANDLER_GPA, 0, "handlers");
	for (i = 0; i < WL_UCODE_PAGES; i++)
		SYS(-1, WL_UCODE_GPA + i * WL_4K, PTE_US, "code");
	for (i = 0; i < WL_UCODE_PAGES; i++)
		SYS(-1, WL_KCODE_GPA + i * WL_4K, 0, "kcode");
	for (v = 0; v < n; v++) {
		SYS((int)v, WL_KSTACK_GPA(v), PTE_RW | PTE_D | PTE_NX, "kstack");
		SYS((int)v, WL_USTACK_GPA(v), PTE_US | PTE_RW | PTE_D | PTE_NX, "ustack");
		SYS((int)v, WL_UDATA_GPA(v), PTE_US | PTE_RW | PTE_D | PTE_NX, "udata");
		SYS((int)v, WL_KDATA_GPA(v), PTE_RW | PTE_D | PTE_NX, "kdata");
	}
	/* The probe pages, each alone in its 2M so its first touch must fault. */
	pt = link_table(&b, pd, 2, WL_PROBE_GPA(0));
	SYS(-1, WL_PROBE_GPA(0), PTE_US | PTE_NX, "probe3");
	pt = link_table(&b, pd, 2, WL_PROBE_GPA(1));
	SYS(-1, WL_PROBE_GPA(1), PTE_NX, "probe0");
#undef SYS
	(void)pd_s;
	if (b.failed) {
		workload_layout_free(l);
		return NULL;
	}
	return l;
}

/* Write every paging structure of @l into guest RAM at @ram (zeroing the pool). */
void wl_layout_write_tables(const struct workload_layout *l, uint8_t *ram)
{
	unsigned int i;

	memset(ram + l->pt_gpa, 0, l->pt_size);
	for (i = 0; i < l->nr_entries; i++)
		memcpy(ram + l->entries[i].gpa, &l->entries[i].value, 8);
}
