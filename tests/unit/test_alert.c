// SPDX-License-Identifier: GPL-2.0
/*
 * The watch rule engine on synthetic records: every rule fires on bad
 * input and stays quiet on good input; deduplication, interval
 * summaries, the alert limit, expiry; the same input gives the same
 * alerts (time is the records' own).
 */
#include <string.h>

#include "alert/alert.h"
#include "mbec_arch.h"
#include "tap.h"

#define S	ALERT_NS_PER_S
#define T0	(1000 * S)	/* event clock at the start of every test */

struct got {
	unsigned int fires[ALERT_R_NR], summaries[ALERT_R_NR];
	struct alert last_fire, last_summary;
	uint64_t summary_count[ALERT_R_NR], summary_suppressed;
	char log[8192];
	size_t loglen;
};

static void on_alert(void *ctx, const struct alert *a)
{
	struct got *g = ctx;
	int n;

	if (a->kind == ALERT_FIRE) {
		g->fires[a->rule]++;
		g->last_fire = *a;
		g->last_fire.evidence = NULL;
	} else {
		g->summaries[a->rule]++;
		g->summary_count[a->rule] += a->count;
		g->summary_suppressed += a->suppressed;
		g->last_summary = *a;
	}
	n = snprintf(g->log + g->loglen, sizeof(g->log) - g->loglen, "%d %d %u %llu %llu %s\n",
		     a->kind, a->rule, a->vm, (unsigned long long)a->ts_ns,
		     (unsigned long long)a->count, a->what);
	if (n > 0 && g->loglen + n < sizeof(g->log))
		g->loglen += n;
}

static void hdr(struct mbec_event_hdr *h, unsigned int type, size_t size, uint32_t vm,
		uint64_t ts)
{
	memset(h, 0, size);
	h->type = type;
	h->size = size;
	h->ts_ns = ts;
	h->pid = vm;
	h->tid = vm + 1;
	h->vm_id = vm;
	h->vcpu_id = 0;
}

static void fault(struct alert_engine *e, uint32_t vm, uint64_t ts, bool exec)
{
	struct mbec_ev_spte_requested r;

	hdr(&r.hdr, MBEC_EV_SPTE_REQUESTED, sizeof(r), vm, ts);
	r.flags = MBEC_FAULT_USER | (exec ? MBEC_FAULT_EXEC : MBEC_FAULT_WRITE);
	r.gfn = 0x100;
	alert_feed(e, &r, sizeof(r));
}

/* n faults spread over the window starting at t (whole seconds). */
static void window(struct alert_engine *e, uint32_t vm, uint64_t t, unsigned int n, bool exec)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		fault(e, vm, t + (uint64_t)i * (S / n), exec);
}

/* A record of another VM that moves time to ts without faults. */
static void tick(struct alert_engine *e, uint64_t ts)
{
	alert_tick(e, ts);
}

static struct alert_engine *engine(struct alert_config *c, struct got *g)
{
	memset(g, 0, sizeof(*g));
	return alert_engine_new(c, on_alert, g);
}

static void base_config(struct alert_config *c)
{
	alert_config_init(c);
	c->interval_ns = 10 * S;
}

static void test_fault_storm_absolute(void)
{
	struct alert_config c;
	struct got g;
	struct alert_engine *e;
	unsigned int w;

	base_config(&c);
	c.fault_rate = 1000;
	c.fault_factor = 0;
	e = engine(&c, &g);
	for (w = 0; w < 30; w++)
		window(e, 7, T0 + w * S, 500 + (w % 3) * 100, false);
	tick(e, T0 + 30 * S);
	ok(!g.fires[ALERT_R_FAULT_STORM], "fault-storm: 500-700 faults/s under 1000/s is quiet");
	for (w = 30; w < 34; w++)
		window(e, 7, T0 + w * S, 5000, false);
	tick(e, T0 + 41 * S);
	is_u64(g.fires[ALERT_R_FAULT_STORM], 1, "fault-storm: 4 windows of 5000/s fire once");
	is_u64(g.last_fire.vm, 7, "fault-storm: the alert names the VM");
	ok(g.last_fire.value == 5000 && g.last_fire.threshold == 1000,
	   "fault-storm: rate 5000/s against threshold 1000/s (got %.0f, %.0f)",
	   g.last_fire.value, g.last_fire.threshold);
	is_u64(g.last_fire.ts_ns, T0 + 31 * S, "fault-storm: fired at the end of its window");
	is_u64(g.summary_count[ALERT_R_FAULT_STORM], 3,
	       "fault-storm: the other 3 windows summarized");
	is_u64(g.last_summary.first_ns, T0 + 32 * S, "summary: first seen");
	is_u64(g.last_summary.last_ns, T0 + 34 * S, "summary: last seen");
	is_u64(g.last_summary.ts_ns, T0 + 40 * S, "summary: at the end of its interval");
	is_u64(g.last_summary.total, 4, "summary: 4 in all");
	alert_engine_free(e);
}

static void test_fault_storm_baseline(void)
{
	struct alert_config c;
	struct got g;
	struct alert_engine *e;
	unsigned int w;

	base_config(&c);
	c.fault_rate = 0;
	c.fault_factor = 10;
	c.fault_min_rate = 100;
	c.warmup_windows = 10;
	c.baseline_windows = 20;
	e = engine(&c, &g);
	/* A burst during the warm-up: the baseline cannot judge it yet. */
	window(e, 3, T0, 5000, false);
	for (w = 1; w < 40; w++)
		window(e, 3, T0 + w * S, 150 + (w * 37) % 150, false);
	tick(e, T0 + 40 * S);
	ok(!g.fires[ALERT_R_FAULT_STORM],
	   "baseline: a burst in the warm-up and 150-300 faults/s after it are quiet");
	/* 2x the baseline: not a storm. */
	window(e, 3, T0 + 40 * S, 500, false);
	tick(e, T0 + 41 * S);
	ok(!g.fires[ALERT_R_FAULT_STORM], "baseline: 2x the baseline is quiet");
	/* 20x: a storm, although far below any absolute threshold. */
	window(e, 3, T0 + 41 * S, 5000, false);
	tick(e, T0 + 42 * S);
	is_u64(g.fires[ALERT_R_FAULT_STORM], 1, "baseline: 20x the baseline fires");
	ok(g.last_fire.threshold > 1000 && g.last_fire.threshold < 4000,
	   "baseline: threshold is 10x the baseline (%.0f)", g.last_fire.threshold);
	/* Storm windows stay out of the baseline: a long storm keeps counting. */
	for (w = 42; w < 60; w++)
		window(e, 3, T0 + w * S, 5000, false);
	tick(e, T0 + 61 * S);
	ok(g.summary_count[ALERT_R_FAULT_STORM] >= 17,
	   "baseline: a long storm does not become the norm (%llu more windows)",
	   (unsigned long long)g.summary_count[ALERT_R_FAULT_STORM]);
	/* Below min_rate nothing fires even at 100x a tiny baseline. */
	alert_engine_free(e);
	e = engine(&c, &g);
	for (w = 0; w < 20; w++)
		window(e, 4, T0 + w * S, 1, false);
	window(e, 4, T0 + 20 * S, 90, false);
	tick(e, T0 + 22 * S);
	ok(!g.fires[ALERT_R_FAULT_STORM], "baseline: 90x a baseline of 1/s under min-rate is quiet");
	alert_engine_free(e);
}

static void test_exec_storm(void)
{
	struct alert_config c;
	struct got g;
	struct alert_engine *e;
	struct mbec_ev_page_fault pf;
	unsigned int w, i;

	base_config(&c);
	c.fault_rate = 0;
	c.fault_factor = 0;
	c.exec_rate = 1000;
	e = engine(&c, &g);
	for (w = 0; w < 5; w++)
		window(e, 9, T0 + w * S, 3000, false);
	tick(e, T0 + 6 * S);
	ok(!g.fires[ALERT_R_EXEC_STORM] && !g.fires[ALERT_R_FAULT_STORM],
	   "exec-storm: 3000 write faults/s are not execute faults");
	for (w = 6; w < 8; w++)
		window(e, 9, T0 + w * S, 3000, true);
	tick(e, T0 + 9 * S);
	is_u64(g.fires[ALERT_R_EXEC_STORM], 1, "exec-storm: 3000 execute faults/s fire once");
	ok(!g.fires[ALERT_R_FAULT_STORM], "exec-storm: the fault-storm rule was off");
	alert_engine_free(e);

	/* kvm_page_fault: fetch is PFERR bit 4, or bit 2 of an EPT exit qualification. */
	for (i = 0; i < 2; i++) {
		c.spte_ept = i;
		e = engine(&c, &g);
		for (w = 0; w < 2000; w++) {
			hdr(&pf.hdr, MBEC_EV_PAGE_FAULT, sizeof(pf), 5, T0 + w * (S / 2000));
			pf.error_code = i ? EPT_VIOL_ACC_INSTR | EPT_VIOL_GVA_IS_VALID :
					    PFERR_FETCH | PFERR_USER;
			alert_feed(e, &pf, sizeof(pf));
		}
		tick(e, T0 + 2 * S);
		is_u64(g.fires[ALERT_R_EXEC_STORM], 1, "exec-storm from kvm_page_fault (%s)",
		       i ? "EPT exit qualification" : "PFERR");
		alert_engine_free(e);
	}
}

static void test_vms_apart(void)
{
	struct alert_config c;
	struct got g;
	struct alert_engine *e;
	unsigned int w;

	base_config(&c);
	c.fault_rate = 1000;
	e = engine(&c, &g);
	for (w = 0; w < 5; w++) {
		window(e, 1, T0 + w * S, 600, false);
		window(e, 2, T0 + w * S, 600, false);
	}
	tick(e, T0 + 6 * S);
	ok(!g.fires[ALERT_R_FAULT_STORM], "two VMs at 600/s each: not one VM at 1200/s");
	window(e, 1, T0 + 6 * S, 2000, false);
	window(e, 2, T0 + 6 * S, 2000, false);
	tick(e, T0 + 8 * S);
	is_u64(g.fires[ALERT_R_FAULT_STORM], 2, "two VMs storming: one alert each");
	alert_engine_free(e);
}

static struct mbec_anomaly anomaly(enum mbec_anomaly_class cls, const char *rule, uint32_t vm,
				   uint64_t ts, uint64_t gfn)
{
	struct mbec_anomaly a;

	memset(&a, 0, sizeof(a));
	a.cls = cls;
	a.rule = rule;
	a.vm_id = vm;
	a.pid = vm;
	a.ts_ns = ts;
	a.has_gfn = gfn != 0;
	a.gfn = gfn;
	if (gfn)
		snprintf(a.what, sizeof(a.what), "SPTE grants w beyond what the guest allows "
			 "(faulting, gfn 0x%llx, full check)", (unsigned long long)gfn);
	else
		snprintf(a.what, sizeof(a.what), "injected exit qualification 0x181: bad");
	snprintf(a.evidence, sizeof(a.evidence), "the evidence");
	return a;
}

static void test_anomaly_dedup(void)
{
	struct alert_config c;
	struct got g;
	struct alert_engine *e;
	struct mbec_anomaly a;
	int cls, i;

	base_config(&c);
	e = engine(&c, &g);
	for (cls = 0; cls < MBEC_AN_NR; cls++)
		ok(!g.fires[cls], "%s: quiet without anomalies", alert_rule_name(cls));
	for (cls = 0; cls < MBEC_AN_NR; cls++) {
		a = anomaly(cls, "some-rule", 42, T0 + S, 0x31);
		alert_anomaly(e, &a);
		is_u64(g.fires[cls], 1, "%s: an anomaly fires", alert_rule_name(cls));
	}
	is_u64(g.last_fire.gfn, 0x31, "the GFN is the anomaly's");
	ok(g.last_fire.has_gfn && g.last_fire.vm == 42 &&
	   !strcmp(g.last_fire.detail, "some-rule"), "the key: VM, GFN and the checker's rule");
	for (i = 0; i < 5; i++) {
		a = anomaly(MBEC_AN_ESCALATION, "some-rule", 42, T0 + 2 * S + i, 0x31);
		alert_anomaly(e, &a);
	}
	is_u64(g.fires[MBEC_AN_ESCALATION], 1, "the same key again: no new alert");
	a = anomaly(MBEC_AN_ESCALATION, "some-rule", 42, T0 + 3 * S, 0x32);
	alert_anomaly(e, &a);
	a = anomaly(MBEC_AN_ESCALATION, "some-rule", 43, T0 + 3 * S, 0x31);
	alert_anomaly(e, &a);
	a = anomaly(MBEC_AN_ESCALATION, "other-rule", 42, T0 + 3 * S, 0x31);
	alert_anomaly(e, &a);
	is_u64(g.fires[MBEC_AN_ESCALATION], 4, "another GFN, VM or checker rule: a new alert each");
	a = anomaly(MBEC_AN_NESTED_INJECT, "nested-qual", 42, T0 + 3 * S, 0);
	alert_anomaly(e, &a);
	a = anomaly(MBEC_AN_NESTED_INJECT, "nested-qual", 42, T0 + 4 * S, 0);
	alert_anomaly(e, &a);
	is_u64(g.fires[MBEC_AN_NESTED_INJECT], 2, "no GFN: keyed by the checker's rule");
	/* The key comes from the field, not from the wording of the line. */
	a = anomaly(MBEC_AN_ROLE, "role-rule", 42, T0 + 4 * S, 0x77);
	snprintf(a.what, sizeof(a.what), "role.access disagrees");
	alert_anomaly(e, &a);
	ok(g.last_fire.has_gfn && g.last_fire.gfn == 0x77,
	   "the GFN field keys the alert when the line does not name it");
	a = anomaly(MBEC_AN_ROLE, "role-rule", 42, T0 + 4 * S + 1, 0);
	snprintf(a.what, sizeof(a.what), "role.access disagrees (gfn 0x99)");
	alert_anomaly(e, &a);
	ok(!g.last_fire.has_gfn, "a line that names a GFN without the field is keyed without one");
	ok(!g.summaries[MBEC_AN_ESCALATION], "no summary before the interval ends");
	tick(e, T0 + 10 * S);
	is_u64(g.summaries[MBEC_AN_ESCALATION], 1, "one summary for the repeated key");
	is_u64(g.summary_count[MBEC_AN_ESCALATION], 5, "... counting its 5 repeats");
	is_u64(g.last_summary.first_ns, T0 + 2 * S, "... first seen");
	is_u64(g.last_summary.last_ns, T0 + 2 * S + 4, "... last seen");
	tick(e, T0 + 20 * S);
	is_u64(g.summaries[MBEC_AN_ESCALATION], 1, "a quiet interval: no summary");
	a = anomaly(MBEC_AN_ESCALATION, "some-rule", 42, T0 + 21 * S, 0x31);
	alert_anomaly(e, &a);
	is_u64(g.fires[MBEC_AN_ESCALATION], 4, "a repeat in a later interval: still no alert");
	alert_finish(e);
	is_u64(g.summaries[MBEC_AN_ESCALATION], 2, "... but summarized at the end");
	alert_engine_free(e);
}

static void test_lost_and_behind(void)
{
	struct alert_config c;
	struct got g;
	struct alert_engine *e;
	struct mbec_ev_lost l;

	base_config(&c);
	c.lost_min = 10;
	e = engine(&c, &g);
	hdr(&l.hdr, MBEC_EV_LOST, sizeof(l), 0, T0);
	l.count = 4;
	alert_feed(e, &l, sizeof(l));
	l.hdr.ts_ns = T0 + 2 * S;
	alert_feed(e, &l, sizeof(l));
	ok(!g.fires[ALERT_R_LOST], "lost-events: 4 per window under 10 is quiet");
	l.hdr.ts_ns = T0 + 2 * S + 10;
	l.count = 6;
	alert_feed(e, &l, sizeof(l));
	is_u64(g.fires[ALERT_R_LOST], 1, "lost-events: 10 in one window fire");
	is_u64(alert_engine_stats(e)->lost_records, 14, "lost records counted");

	alert_lag(e, T0 + 3 * S, S / 2);
	ok(!g.fires[ALERT_R_BEHIND], "falling-behind: 0.5 s under 2 s is quiet");
	alert_lag(e, T0 + 4 * S, 3 * S);
	is_u64(g.fires[ALERT_R_BEHIND], 1, "falling-behind: 3 s fires");
	ok(g.last_fire.value == 3.0, "falling-behind: the lag in seconds");
	alert_engine_free(e);
}

static void test_limits(void)
{
	struct alert_config c;
	struct got g;
	struct alert_engine *e;
	struct mbec_anomaly a;
	int i;

	base_config(&c);
	c.max_alerts = 2;
	e = engine(&c, &g);
	for (i = 0; i < 5; i++) {
		a = anomaly(MBEC_AN_FORMAT, "spte-invariant", 1, T0 + S + i, 0x100 + i);
		alert_anomaly(e, &a);
	}
	is_u64(g.fires[ALERT_R_FORMAT], 2, "max-alerts 2: two fire");
	is_u64(alert_engine_stats(e)->suppressed, 3, "... three are held back");
	tick(e, T0 + 10 * S);
	is_u64(g.summary_suppressed, 3, "... and summarized at the interval's end, marked so");
	a = anomaly(MBEC_AN_FORMAT, "spte-invariant", 1, T0 + 11 * S, 0x200);
	alert_anomaly(e, &a);
	is_u64(g.fires[ALERT_R_FORMAT], 3, "a new interval may fire again");
	alert_engine_free(e);

	/* expire: a key quiet longer than it is news again. */
	base_config(&c);
	c.expire_ns = 30 * S;
	e = engine(&c, &g);
	a = anomaly(MBEC_AN_ROLE, "role-vs-walk", 1, T0, 0x5);
	alert_anomaly(e, &a);
	a.ts_ns = T0 + 20 * S;
	alert_anomaly(e, &a);
	is_u64(g.fires[ALERT_R_ROLE], 1, "expire: back within 30 s: no new alert");
	a.ts_ns = T0 + 60 * S;
	alert_anomaly(e, &a);
	is_u64(g.fires[ALERT_R_ROLE], 2, "expire: back after 40 quiet seconds: fires again");
	alert_engine_free(e);

	/* disable */
	base_config(&c);
	c.disabled[ALERT_R_ROLE] = true;
	e = engine(&c, &g);
	a = anomaly(MBEC_AN_ROLE, "role-vs-walk", 1, T0, 0x5);
	alert_anomaly(e, &a);
	ok(!g.fires[ALERT_R_ROLE], "a disabled rule does not fire");
	alert_engine_free(e);

	/* max-keys: more keys share one per rule instead of growing without end */
	base_config(&c);
	c.max_keys = 4;
	e = engine(&c, &g);
	for (i = 0; i < 50; i++) {
		a = anomaly(MBEC_AN_FORMAT, "spte-invariant", 1, T0 + i, 0x100 + i);
		alert_anomaly(e, &a);
	}
	ok(alert_engine_stats(e)->keys <= 5, "max-keys 4: %u keys kept",
	   alert_engine_stats(e)->keys);
	is_u64(g.fires[ALERT_R_FORMAT], 5, "... 4 keys and the shared one fired");
	alert_engine_free(e);
}

/* The same records twice: the same alerts, byte for byte. */
static void run_script(struct got *g)
{
	struct alert_config c;
	struct alert_engine *e;
	struct mbec_anomaly a;
	unsigned int w;

	base_config(&c);
	c.fault_rate = 800;
	e = engine(&c, g);
	for (w = 0; w < 25; w++) {
		window(e, 1, T0 + w * S, w % 7 == 3 ? 900 : 300, false);
		if (w % 5 == 0) {
			a = anomaly(MBEC_AN_ESCALATION, "spte-exceeds-walk", 1, T0 + w * S + 5,
				    0x40 + w % 2);
			alert_anomaly(e, &a);
		}
	}
	alert_finish(e);
	alert_engine_free(e);
}

static void test_deterministic(void)
{
	static struct got a, b;

	run_script(&a);
	run_script(&b);
	ok(a.loglen > 0 && a.loglen == b.loglen && !memcmp(a.log, b.log, a.loglen),
	   "the same records give the same alerts (%zu bytes of log)", a.loglen);
	is_u64(a.fires[ALERT_R_FAULT_STORM], 1, "script: one storm alert");
	is_u64(a.fires[ALERT_R_ESCALATION], 2, "script: one alert per GFN");
}

static void test_long_gap(void)
{
	struct alert_config c;
	struct got g;
	struct alert_engine *e;
	struct alert_vm_stats vs;

	base_config(&c);
	c.fault_rate = 0;
	e = engine(&c, &g);
	window(e, 1, T0, 100, false);
	/* A day later: the loop over empty windows is bounded and the baseline decays. */
	window(e, 1, T0 + 86400 * S, 100, false);
	tick(e, T0 + 86401 * S);
	alert_vm_get(e, 0, &vs);
	ok(alert_vm_count(e) == 1 && vs.faults == 200 && vs.baseline < 100,
	   "a day of silence: %u VM, %llu faults, baseline %.1f/s", alert_vm_count(e),
	   (unsigned long long)vs.faults, vs.baseline);
	alert_engine_free(e);
}

int main(void)
{
	test_fault_storm_absolute();
	test_fault_storm_baseline();
	test_exec_storm();
	test_vms_apart();
	test_anomaly_dedup();
	test_lost_and_behind();
	test_limits();
	test_deterministic();
	test_long_gap();
	ok(alert_rule_from_name("exec-storm") == ALERT_R_EXEC_STORM &&
	   alert_rule_from_name("nope") == -1, "rule names round-trip");
	return done_testing();
}
