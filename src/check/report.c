// SPDX-License-Identifier: GPL-2.0
/*
 * The check summary, as text and as JSON; shared by every command that
 * runs the check engine (check, replay, watch).
 */
#include <inttypes.h>
#include <string.h>

#include "check/check_internal.h"
#include "cli/json.h"

static uint64_t lost_total(const struct mbec_check *e, const struct mbec_counter *kernel)
{
	uint64_t dropped = 0;
	int i;

	/* A live source also reports its drops as LOST records: count once. */
	if (kernel)
		for (i = 0; i < MBEC_EV_MAX; i++)
			dropped += kernel[i].dropped;
	return (dropped > e->sum.lost_events ? dropped : e->sum.lost_events) +
	       e->sum.lost_inferred;
}

/*
 * Seen in the kernel is received + lost + what the BPF programs leave
 * there by design (exits other than EPT/NPT faults; for watch and mbectop,
 * TDP changes no rule reads): say those, so that every event seen is
 * accounted for.
 */
static void print_kernel_skipped(FILE *f, const struct mbec_counter *kernel)
{
	const char *sep = "";
	int i;

	if (!kernel)
		return;
	for (i = 1; i < MBEC_EV_MAX; i++) {
		if (!kernel[i].skipped)
			continue;
		if (!*sep)
			fprintf(f, "  seen and left in the kernel by design:");
		fprintf(f, "%s %" PRIu64 " %s", sep, (uint64_t)kernel[i].skipped,
			mbec_event_name(i));
		sep = ",";
	}
	if (*sep)
		fprintf(f, "\n");
}

static void print_evidence(FILE *f, const char *ev)
{
	const char *p = ev, *nl;

	while (*p) {
		nl = strchr(p, '\n');
		if (!nl)
			nl = p + strlen(p);
		fprintf(f, "    %.*s\n", (int)(nl - p), p);
		p = *nl ? nl + 1 : nl;
	}
}

static const char *flavour_key(unsigned int fl)
{
	return fl < MBEC_FL_NR ? mbec_flavour_name(fl) : "format-unknown";
}

/* SPTEs by the MMU flavour they were checked as. */
static void print_flavours(const struct mbec_check_summary *s, FILE *f)
{
	const char *sep = "";
	unsigned int fl;

	if (!s->sptes_total)
		return;
	fprintf(f, "  by MMU flavour:");
	for (fl = 0; fl <= MBEC_FL_NR; fl++) {
		if (!s->sptes_flavour[fl])
			continue;
		fprintf(f, "%s %s %" PRIu64, sep, flavour_key(fl), s->sptes_flavour[fl]);
		sep = ",";
	}
	fprintf(f, "\n");
}

void mbec_check_print(const struct mbec_check *e, const struct mbec_counter *kernel,
		      FILE *f, bool verbose)
{
	const struct mbec_check_summary *s = &e->sum;
	double secs = s->ts_last > s->ts_first ? (s->ts_last - s->ts_first) / 1e9 : 0;
	unsigned int i, c, r;

	fprintf(f, "events%s:\n", kernel ? " (received / seen in the kernel / lost)" : "");
	for (i = 1; i < MBEC_EV_MAX; i++) {
		if (!s->events[i] && (!kernel || !kernel[i].seen))
			continue;
		if (kernel && i == MBEC_EV_GUEST_PTE)	/* written by user space */
			fprintf(f, "  %-22s %10" PRIu64 " %10s %8s\n", mbec_event_name(i),
				s->events[i], "-", "-");
		else if (kernel)
			fprintf(f, "  %-22s %10" PRIu64 " %10" PRIu64 " %8" PRIu64 "\n",
				mbec_event_name(i), s->events[i], (uint64_t)kernel[i].seen,
				(uint64_t)kernel[i].dropped);
		else
			fprintf(f, "  %-22s %10" PRIu64 "\n", mbec_event_name(i), s->events[i]);
	}
	print_kernel_skipped(f, kernel);
	if (s->records)
		fprintf(f, "  %" PRIu64 " records in %.2f s (%.0f/s)%s\n", s->records, secs,
			secs > 0 ? s->records / secs : 0.0,
			s->bad_records ? ", some rejected as malformed" : "");
	if (s->bad_records)
		fprintf(f, "  malformed records rejected: %" PRIu64 "\n", s->bad_records);
	fprintf(f, "transactions: %" PRIu64 "\n", s->transactions);
	fprintf(f, "SPTEs checked: %" PRIu64 " (full %" PRIu64 ", partial %" PRIu64
		", none %" PRIu64 ")\n", s->sptes_total, s->sptes[MBEC_COV_FULL],
		s->sptes[MBEC_COV_PARTIAL], s->sptes[MBEC_COV_NONE]);
	for (c = 0; c < MBEC_COV_NR; c++)
		for (r = 0; r < MBEC_COVR_NR; r++)
			if (s->cov_reason[c][r])
				fprintf(f, "  %-8s %10" PRIu64 "  %s\n", mbec_coverage_name(c),
					s->cov_reason[c][r], mbec_cov_reason_name(r));
	print_flavours(s, f);
	if (s->exits_checked || s->injects_checked || s->roles_checked)
		fprintf(f, "also checked: %" PRIu64 " exit qualifications, %" PRIu64
			" nested injections, %" PRIu64 " shadow-page roles\n",
			s->exits_checked, s->injects_checked, s->roles_checked);
	if (s->exits_qual_from_pf)
		fprintf(f, "  %" PRIu64 " VMX qualifications taken from kvm_page_fault (KVM reads the "
			"VMCS after kvm_exit)\n", s->exits_qual_from_pf);
	if (s->exits_low32)
		fprintf(f, "  %" PRIu64 " exits compared in bits 31:0 only: this kernel's "
			"kvm_page_fault.error_code is 32 bits, bits 32+ never reach it\n",
			s->exits_low32);
	if (s->exits_unchecked)
		fprintf(f, "  %" PRIu64 " VMX exits not checked: no current qualification (kvm_exit's "
			"was stale, no kvm_page_fault)\n", s->exits_unchecked);
	fprintf(f, "anomalies: %" PRIu64 "\n", s->anomalies_total);
	for (c = 0; c < MBEC_AN_NR; c++) {
		unsigned int n;
		const struct mbec_anomaly *a = mbec_check_anomalies(e, c, &n);

		if (!s->anomalies[c])
			continue;
		fprintf(f, "  %s: %" PRIu64 "%s\n", mbec_anomaly_class_name(c), s->anomalies[c],
			s->anomalies[c] > n ? " (first ones below)" : "");
		for (i = 0; i < n; i++) {
			fprintf(f, "  - [%s] %s\n", a[i].rule, a[i].what);
			if (verbose || i == 0)
				print_evidence(f, a[i].evidence);
		}
	}
	if (s->inconclusive_total) {
		const struct mbec_anomaly *a = mbec_check_inconclusive(e);

		fprintf(f, "inconclusive (records lost around them, not anomalies): %" PRIu64 "\n",
			s->inconclusive_total);
		for (c = 0; c < MBEC_AN_NR; c++)
			if (s->inconclusive[c])
				fprintf(f, "  %s: %" PRIu64 "\n", mbec_anomaly_class_name(c),
					s->inconclusive[c]);
		fprintf(f, "  - first: [%s] %s\n", a->rule, a->what);
		if (verbose)
			print_evidence(f, a->evidence);
	}
	fprintf(f, "lost events: %" PRIu64 "%s\n", lost_total(e, kernel),
		s->lost_inferred ? " (some inferred: events whose predecessor never came)" : "");
}

void mbec_check_print_json(const struct mbec_check *e, const struct mbec_counter *kernel,
			   FILE *f)
{
	struct json_writer jw;

	json_init(&jw, f, false);
	json_obj_begin(&jw);
	mbec_check_json_body(e, kernel, &jw);
	json_obj_end(&jw);
	json_finish(&jw);
}

void mbec_check_json_body(const struct mbec_check *e, const struct mbec_counter *kernel,
			  struct json_writer *jwp)
{
	const struct mbec_check_summary *s = &e->sum;
	struct json_writer jw = *jwp;
	unsigned int i, c, r;

	json_key(&jw, "events");
	json_obj_begin(&jw);
	for (i = 1; i < MBEC_EV_MAX; i++) {
		if (!s->events[i] && (!kernel || !kernel[i].seen))
			continue;
		json_key(&jw, mbec_event_name(i));
		json_obj_begin(&jw);
		json_kv_u64(&jw, "received", s->events[i]);
		if (kernel) {
			json_kv_u64(&jw, "kernel_seen", kernel[i].seen);
			json_kv_u64(&jw, "kernel_dropped", kernel[i].dropped);
			json_kv_u64(&jw, "kernel_skipped", kernel[i].skipped);
		}
		json_obj_end(&jw);
	}
	json_obj_end(&jw);
	json_kv_u64(&jw, "records", s->records);
	json_kv_u64(&jw, "bad_records", s->bad_records);
	json_kv_u64(&jw, "duration_ns", s->ts_last > s->ts_first ? s->ts_last - s->ts_first : 0);
	json_kv_u64(&jw, "transactions", s->transactions);
	json_key(&jw, "sptes_checked");
	json_obj_begin(&jw);
	json_kv_u64(&jw, "total", s->sptes_total);
	for (c = 0; c < MBEC_COV_NR; c++)
		json_kv_u64(&jw, mbec_coverage_name(c), s->sptes[c]);
	json_key(&jw, "why");
	json_arr_begin(&jw);
	for (c = 0; c < MBEC_COV_NR; c++) {
		for (r = 0; r < MBEC_COVR_NR; r++) {
			if (!s->cov_reason[c][r])
				continue;
			json_obj_begin(&jw);
			json_kv_str(&jw, "coverage", mbec_coverage_name(c));
			json_kv_str(&jw, "reason", mbec_cov_reason_name(r));
			json_kv_u64(&jw, "count", s->cov_reason[c][r]);
			json_obj_end(&jw);
		}
	}
	json_arr_end(&jw);
	json_obj_end(&jw);
	json_key(&jw, "sptes_by_flavour");
	json_obj_begin(&jw);
	for (c = 0; c <= MBEC_FL_NR; c++)
		if (s->sptes_flavour[c])
			json_kv_u64(&jw, flavour_key(c), s->sptes_flavour[c]);
	json_obj_end(&jw);
	json_kv_u64(&jw, "exits_checked", s->exits_checked);
	json_kv_u64(&jw, "exits_qual_from_page_fault", s->exits_qual_from_pf);
	json_kv_u64(&jw, "exits_compared_low32", s->exits_low32);
	json_kv_u64(&jw, "exits_unchecked", s->exits_unchecked);
	json_kv_u64(&jw, "injects_checked", s->injects_checked);
	json_kv_u64(&jw, "roles_checked", s->roles_checked);
	json_key(&jw, "anomalies");
	json_obj_begin(&jw);
	json_kv_u64(&jw, "total", s->anomalies_total);
	for (c = 0; c < MBEC_AN_NR; c++)
		json_kv_u64(&jw, mbec_anomaly_class_name(c), s->anomalies[c]);
	json_key(&jw, "first");
	json_arr_begin(&jw);
	for (c = 0; c < MBEC_AN_NR; c++) {
		unsigned int n;
		const struct mbec_anomaly *a = mbec_check_anomalies(e, c, &n);

		for (i = 0; i < n; i++) {
			json_obj_begin(&jw);
			json_kv_str(&jw, "class", mbec_anomaly_class_name(a[i].cls));
			json_kv_str(&jw, "rule", a[i].rule);
			json_kv_str(&jw, "what", a[i].what);
			if (a[i].has_gfn)
				json_kv_u64(&jw, "gfn", a[i].gfn);
			json_kv_u64(&jw, "ts_ns", a[i].ts_ns);
			json_kv_u64(&jw, "pid", a[i].pid);
			json_kv_u64(&jw, "tid", a[i].tid);
			json_kv_u64(&jw, "vm_id", a[i].vm_id);
			if (a[i].vcpu_id != MBEC_VCPU_UNKNOWN)
				json_kv_u64(&jw, "vcpu_id", a[i].vcpu_id);
			else
				json_kv_str(&jw, "vcpu_id", NULL);
			json_kv_str(&jw, "evidence", a[i].evidence);
			json_obj_end(&jw);
		}
	}
	json_arr_end(&jw);
	json_obj_end(&jw);
	json_key(&jw, "inconclusive");
	json_obj_begin(&jw);
	json_kv_str(&jw, "why", "records lost around them: evidence incomplete");
	json_kv_u64(&jw, "total", s->inconclusive_total);
	for (c = 0; c < MBEC_AN_NR; c++)
		json_kv_u64(&jw, mbec_anomaly_class_name(c), s->inconclusive[c]);
	if (s->inconclusive_total) {
		const struct mbec_anomaly *a = mbec_check_inconclusive(e);

		json_kv_str(&jw, "first_rule", a->rule);
		json_kv_str(&jw, "first_what", a->what);
	}
	json_obj_end(&jw);
	json_kv_u64(&jw, "lost_events", lost_total(e, kernel));
	json_kv_u64(&jw, "lost_events_inferred", s->lost_inferred);
	*jwp = jw;
}
