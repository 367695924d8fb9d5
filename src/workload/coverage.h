/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The workload's side of a check run (check --workload): for each of its
 * matrix pages, whether KVM installed an SPTE for it that the checker could
 * check, and when not, why (the page's permissions, TDP, no walk traced).
 */
#ifndef MBEC_WORKLOAD_COVERAGE_H
#define MBEC_WORKLOAD_COVERAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "check/check.h"
#include "workload/workload.h"

struct workload_coverage;
struct json_writer;

/* L must outlive it; tdp: KVM maps guest-physical memory (no guest walks traced). */
struct workload_coverage *workload_coverage_new(const struct workload_layout *l, bool tdp);
void workload_coverage_free(struct workload_coverage *c);
/*
 * The workload ran CPL-0 passes (its report says so): their reads reach
 * every matrix page, U=0 ones too, so no page's lack of an SPTE is
 * explained by CPL-3 faults alone.  Not called: none assumed.
 */
void workload_coverage_set_cpl0(struct workload_coverage *c, bool ran);
/* Every record of the run (walks and walker errors count). */
void workload_coverage_record(struct workload_coverage *c, const void *rec, size_t len);
/* The engine's verdict on each SPTE (mbec_check_on_spte's callback, ctx the coverage). */
void workload_coverage_spte(void *ctx, const struct mbec_ev_set_spte *s, enum mbec_coverage cov);
/*
 * Pages without a checked SPTE, grouped by why (text; each page with
 * verbose) or listed (a "workload_pages" member with jw).  Returns how many.
 */
unsigned int workload_coverage_report(const struct workload_coverage *c, FILE *f,
				      struct json_writer *jw, bool verbose);

#endif /* MBEC_WORKLOAD_COVERAGE_H */
