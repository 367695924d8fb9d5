// SPDX-License-Identifier: GPL-2.0
/*
 * Which of the workload's matrix pages a check run saw an SPTE for, and why
 * not (coverage.h).
 */
#include <stdio.h>
#include <stdlib.h>

#include "check/check.h"
#include "cli/json.h"
#include "workload/coverage.h"

/* Per matrix page of the workload: did KVM install an SPTE for it? */
struct page_seen {
	unsigned long sptes, checked, walks, walk_errors;
};

struct workload_coverage {
	const struct workload_layout *layout;
	struct page_seen *pages;
	bool tdp;	/* KVM maps guest-physical memory (EPT or NPT): no guest walks traced */
	bool cpl0;	/* the workload reported CPL-0 passes: every matrix page was reached */
	uint64_t last_walk_gva;	/* the walk a walker error belongs to */
};

struct workload_coverage *workload_coverage_new(const struct workload_layout *l, bool tdp)
{
	struct workload_coverage *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->layout = l;
	c->tdp = tdp;
	c->pages = calloc(l->nr_pages, sizeof(*c->pages));
	if (!c->pages) {
		free(c);
		return NULL;
	}
	return c;
}

void workload_coverage_set_cpl0(struct workload_coverage *c, bool ran)
{
	c->cpl0 = ran;
}

void workload_coverage_free(struct workload_coverage *c)
{
	if (!c)
		return;
	free(c->pages);
	free(c);
}

static int page_of_gva(const struct workload_layout *l, uint64_t gva)
{
	unsigned int i;

	for (i = 0; i < l->nr_pages; i++)
		if (l->pages[i].kind == WL_PAGE_MATRIX && gva >= l->pages[i].gva &&
		    gva < l->pages[i].gva + l->pages[i].size)
			return (int)i;
	return -1;
}

/*
 * An SPTE maps 4K << 9 * (level - 1) bytes from its gfn: under TDP the
 * guest is mapped with 2M SPTEs, each covering many matrix pages.
 */
void workload_coverage_spte(void *ctx, const struct mbec_ev_set_spte *s, enum mbec_coverage cov)
{
	struct workload_coverage *run = ctx;
	const struct workload_layout *l = run->layout;
	unsigned int i;

	for (i = 0; i < l->nr_pages; i++) {
		const struct workload_page *p = &l->pages[i];

		if (p->kind != WL_PAGE_MATRIX || !mbec_spte_covers(s->gfn, s->level, p->gpa, p->size))
			continue;
		run->pages[i].sptes++;
		if (cov != MBEC_COV_NONE)
			run->pages[i].checked++;
	}
}

void workload_coverage_record(struct workload_coverage *run, const void *rec, size_t len)
{
	const struct mbec_event_hdr *h = rec;
	int p;

	if (len >= sizeof(*h)) {
		if (h->type == MBEC_EV_PAGETABLE_WALK && len >= sizeof(struct mbec_ev_walk)) {
			run->last_walk_gva = ((const struct mbec_ev_walk *)rec)->addr;
			p = page_of_gva(run->layout, run->last_walk_gva);
			if (p >= 0)
				run->pages[p].walks++;
		} else if (h->type == MBEC_EV_WALKER_ERROR) {
			p = page_of_gva(run->layout, run->last_walk_gva);
			if (p >= 0)
				run->pages[p].walk_errors++;
		}
	}
}

/*
 * Why a matrix page has no checked SPTE.  Whether some guest access
 * reached its guest-physical page decides: a CPL-3 access does for U=1
 * pages; a CPL-0 pass does for every present page, U=0 included.  Only a
 * page nothing reached is explained by the guest's own walk faulting.
 */
static const char *page_why(const struct workload_coverage *run, const struct workload_page *p,
			    const struct page_seen *s)
{
	bool reached = workload_page_faulted_in(p) || run->cpl0;

	if (s->sptes)
		return "SPTEs seen but none could be checked";
	if (run->tdp)
		return !reached ?
		       "U=0 page under TDP, no CPL-0 pass reported: CPL-3 accesses fault in the "
		       "guest's own walk (no exit), so nothing reaches its guest-physical page" :
		       "the guest's accesses reached its guest-physical page, yet no traced "
		       "TDP SPTE covers it (records lost, or mapped by a path that does not "
		       "trace kvm_mmu_set_spte)";
	if (!reached && !workload_page_prefetchable(p))
		return p->level > 1 ? "U=0 2M page: CPL-3 accesses fault in the guest walk and "
				      "KVM never prefetches large pages" :
				      "U=0 page with A=0: CPL-3 accesses fault in the guest walk "
				      "and KVM does not prefetch unaccessed entries";
	if (!reached)
		return "U=0 page: only a prefetch can map it, and none did";
	if (s->walk_errors)
		return "every guest walk faulted (guest #PF)";
	if (!s->walks)
		return "no traced walk or SPTE: the page was never touched while attached";
	return "walked but KVM installed no SPTE";
}

/*
 * Workload pages without a checked SPTE, grouped by why (text; each page
 * with -v) or listed (JSON).  Returns how many there are.
 */
unsigned int workload_coverage_report(const struct workload_coverage *run, FILE *f,
				      struct json_writer *jw, bool verbose)
{
	const char *whys[8];
	unsigned int nwhy[8], i, j, nw = 0, with = 0, total = 0, missing = 0;

	for (i = 0; i < run->layout->nr_pages; i++) {
		if (run->layout->pages[i].kind != WL_PAGE_MATRIX)
			continue;
		total++;
		if (run->pages[i].checked)
			with++;
	}
	if (jw) {
		json_key(jw, "workload_pages");
		json_obj_begin(jw);
		json_kv_u64(jw, "matrix", total);
		json_kv_u64(jw, "with_checked_spte", with);
		json_key(jw, "without");
		json_arr_begin(jw);
	} else {
		fprintf(f, "workload matrix pages with a checked SPTE: %u of %u\n", with, total);
	}
	for (i = 0; i < run->layout->nr_pages; i++) {
		const struct workload_page *p = &run->layout->pages[i];
		const char *why;

		if (p->kind != WL_PAGE_MATRIX || run->pages[i].checked)
			continue;
		missing++;
		why = page_why(run, p, &run->pages[i]);
		for (j = 0; j < nw && whys[j] != why; j++)
			;
		if (j == nw && nw < 8) {
			whys[nw] = why;
			nwhy[nw++] = 0;
		}
		if (j < nw)
			nwhy[j]++;
		if (jw) {
			json_obj_begin(jw);
			json_kv_hex(jw, "gva", p->gva);
			json_kv_hex(jw, "gpa", p->gpa);
			json_kv_hex(jw, "pte", p->pte);
			json_kv_str(jw, "why", why);
			json_obj_end(jw);
		} else if (verbose) {
			fprintf(f, "  gva 0x%llx pte 0x%llx (%s): %s\n",
				(unsigned long long)p->gva, (unsigned long long)p->pte,
				p->size > 4096 ? "2M" : "4K", why);
		}
	}
	if (jw) {
		json_arr_end(jw);
		json_obj_end(jw);
	} else if (!verbose) {
		for (j = 0; j < nw; j++)
			fprintf(f, "  %3u without: %s\n", nwhy[j], whys[j]);
	}
	return missing;
}
