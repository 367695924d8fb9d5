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
	workload_layout_free(l);
	return done_testing();
}
