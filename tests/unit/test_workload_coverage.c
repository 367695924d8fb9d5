// SPDX-License-Identifier: GPL-2.0
/*
 * check --workload's page report (src/workload/coverage.c): a page with a
 * checked SPTE counts, one with only an unchecked SPTE or a faulting walk
 * does not, and each says why.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/json.h"
#include "tap.h"
#include "workload/coverage.h"

/* The next 4K matrix page after AFTER that the guest's accesses fault in. */
static int first_matrix(const struct workload_layout *l, int after)
{
	unsigned int i;

	for (i = (unsigned int)(after + 1); i < l->nr_pages; i++)
		if (l->pages[i].kind == WL_PAGE_MATRIX && l->pages[i].size == 4096 &&
		    workload_page_faulted_in(&l->pages[i]))
			return (int)i;
	return -1;
}

/* The first matrix page of SIZE with U=US (vCPU 0). */
static int matrix_page(const struct workload_layout *l, uint64_t size, bool us)
{
	unsigned int i;

	for (i = 0; i < l->nr_pages; i++)
		if (l->pages[i].kind == WL_PAGE_MATRIX && l->pages[i].size == size &&
		    !!(l->pages[i].pte & PTE_US) == us)
			return (int)i;
	return -1;
}

/* The report's reason for the page at GVA (-v text), "" when it has none; freed by the caller. */
static char *why_of(const struct workload_coverage *c, uint64_t gva)
{
	char *text = NULL, want[48], *at, *end, *why;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	workload_coverage_report(c, f, NULL, true);
	fclose(f);
	snprintf(want, sizeof(want), "gva 0x%llx ", (unsigned long long)gva);
	at = strstr(text, want);
	at = at ? strstr(at, "): ") : NULL;
	if (!at) {
		free(text);
		return strdup("");
	}
	at += 3;
	end = strchr(at, '\n');
	why = strndup(at, end ? (size_t)(end - at) : strlen(at));
	free(text);
	return why;
}

/* Count the matrix pages the report says have a checked SPTE. */
static unsigned int with_checked(const struct workload_coverage *c, unsigned int total)
{
	char *text = NULL;
	size_t len = 0;
	unsigned int with = 0, of = 0;
	FILE *f = open_memstream(&text, &len);
	char *at;

	workload_coverage_report(c, f, NULL, false);
	fclose(f);
	at = strstr(text, "with a checked SPTE: ");
	if (!at || sscanf(at, "with a checked SPTE: %u of %u", &with, &of) != 2 || of != total)
		with = ~0u;
	free(text);
	return with;
}

/*
 * TDP: one 2M SPTE over the 4K matrix area covers each of its pages, U=0
 * ones included; a U=0 2M page that nothing reached is explained by the
 * guest's own walk only while no CPL-0 pass ran.
 */
static void tdp_cases(const struct workload_layout *l, unsigned int total)
{
	struct workload_coverage *c = workload_coverage_new(l, true);
	struct mbec_ev_set_spte s = { .hdr = { .type = MBEC_EV_SET_SPTE }, .level = 2 };
	int u0_4k = matrix_page(l, 4096, false), u0_2m = matrix_page(l, 2u << 20, false);
	int u1_2m = matrix_page(l, 2u << 20, true);
	unsigned int i, in_range = 0;
	uint64_t base;
	char *why;

	if (!c || u0_4k < 0 || u0_2m < 0 || u1_2m < 0) {
		ok(0, "TDP: coverage and the layout's U=0/U=1 pages");
		workload_coverage_free(c);
		return;
	}
	base = l->pages[u0_4k].gpa & ~((2ULL << 20) - 1);
	for (i = 0; i < l->nr_pages; i++)
		in_range += l->pages[i].kind == WL_PAGE_MATRIX &&
			    (l->pages[i].gpa & ~((2ULL << 20) - 1)) == base;
	s.gfn = base >> 12;
	workload_coverage_spte(c, &s, MBEC_COV_FULL);
	s.gfn = l->pages[u1_2m].gpa >> 12;
	workload_coverage_spte(c, &s, MBEC_COV_FULL);
	ok(in_range > 1 && with_checked(c, total) == in_range + 1,
	   "TDP: a 2M SPTE covers all %u matrix pages in its range, U=0 ones too (+1 2M page)",
	   in_range);
	why = why_of(c, l->pages[u0_4k].gva);
	ok(!*why, "TDP: the U=0 4K page under that SPTE has no reason to lack one ('%s')", why);
	free(why);

	why = why_of(c, l->pages[u0_2m].gva);
	ok(strstr(why, "under TDP, no CPL-0 pass") != NULL,
	   "TDP, CPL 3 only: a U=0 2M page nothing reached says so: %s", why);
	free(why);

	workload_coverage_set_cpl0(c, true);
	why = why_of(c, l->pages[u0_2m].gva);
	ok(strstr(why, "reached its guest-physical page") != NULL && !strstr(why, "CPL-3"),
	   "TDP, CPL-0 passes ran: the same page was reached, its missing SPTE is not "
	   "put on CPL-3 faults: %s", why);
	free(why);
	workload_coverage_free(c);
}

/* Shadow paging with CPL-0 passes: a U=0 A=0 page was reached by CPL-0 reads. */
static void shadow_cpl0_case(const struct workload_layout *l)
{
	struct workload_coverage *c = workload_coverage_new(l, false);
	int u0 = matrix_page(l, 4096, false);
	char *why;

	if (!c || u0 < 0) {
		ok(0, "shadow: coverage and a U=0 page");
		workload_coverage_free(c);
		return;
	}
	why = why_of(c, l->pages[u0].gva);
	ok(strstr(why, "CPL-3 accesses fault in the guest walk") != NULL,
	   "shadow, CPL 3 only: a U=0 page's reason is the guest walk: %s", why);
	free(why);
	workload_coverage_set_cpl0(c, true);
	why = why_of(c, l->pages[u0].gva);
	ok(*why && !strstr(why, "CPL-3") && !strstr(why, "prefetch"),
	   "shadow, CPL-0 passes ran: the same page's reason is not CPL-3 faults or prefetch: %s",
	   why);
	free(why);
	workload_coverage_free(c);
}

int main(void)
{
	struct workload_opts wo;
	struct workload_layout *l;
	struct workload_coverage *c;
	struct mbec_ev_set_spte s = { .hdr = { .type = MBEC_EV_SET_SPTE }, .level = 1 };
	struct mbec_ev_walk w = { .hdr = { .type = MBEC_EV_PAGETABLE_WALK, .size = sizeof(w) } };
	struct mbec_event_hdr e = { .type = MBEC_EV_WALKER_ERROR, .size = sizeof(e) };
	unsigned int total = 0, i, missing;
	int a, b, d;
	char *text = NULL, *js = NULL;
	size_t tlen = 0, jlen = 0;
	FILE *f;
	struct json_writer jw;

	workload_opts_init(&wo);
	wo.quiet = true;
	l = workload_layout_new(&wo);
	c = l ? workload_coverage_new(l, false) : NULL;
	if (!c)
		return skip_all("out of memory"), 1;
	for (i = 0; i < l->nr_pages; i++)
		total += l->pages[i].kind == WL_PAGE_MATRIX;
	a = first_matrix(l, -1);
	b = first_matrix(l, a);
	d = first_matrix(l, b);
	ok(a >= 0 && b > a && d > b, "the layout has 4K matrix pages (%u matrix pages)", total);

	/* a: a checked SPTE; b: an SPTE the checker could not check; d: a walk that faulted. */
	s.gfn = l->pages[a].gpa >> 12;
	workload_coverage_spte(c, &s, MBEC_COV_FULL);
	s.gfn = l->pages[b].gpa >> 12;
	workload_coverage_spte(c, &s, MBEC_COV_NONE);
	w.addr = l->pages[d].gva;
	workload_coverage_record(c, &w, sizeof(w));
	workload_coverage_record(c, &e, sizeof(e));

	f = open_memstream(&text, &tlen);
	missing = workload_coverage_report(c, f, NULL, true);
	fclose(f);
	ok(missing == total - 1, "every page but the one with a checked SPTE is missing (%u)",
	   missing);
	{
		char want[80];

		snprintf(want, sizeof(want), "with a checked SPTE: 1 of %u", total);
		ok(strstr(text, want) != NULL, "text: %s", want);
	}
	ok(strstr(text, "SPTEs seen but none could be checked") != NULL,
	   "the page with an unchecked SPTE says so");
	ok(strstr(text, "every guest walk faulted") != NULL,
	   "the page whose walk faulted says so");

	f = open_memstream(&js, &jlen);
	json_init(&jw, f, false);
	json_obj_begin(&jw);
	workload_coverage_report(c, f, &jw, false);
	json_obj_end(&jw);
	json_finish(&jw);
	fclose(f);
	ok(strstr(js, "\"with_checked_spte\":1") != NULL, "JSON: with_checked_spte 1");

	free(text);
	free(js);
	workload_coverage_free(c);
	tdp_cases(l, total);
	shadow_cpl0_case(l);
	workload_layout_free(l);
	return done_testing();
}
