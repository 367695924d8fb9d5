// SPDX-License-Identifier: GPL-2.0
/*
 * The watch rule engine (see alert.h).  Time only moves with the records'
 * timestamps (and alert_tick in a live run); nothing here reads a clock.
 *
 * Windows are aligned on absolute time (ts / window), so two runs over
 * the same records cut them the same way.  When time moves into a new
 * window every VM's open window is closed: its rates are judged and, if
 * they were not a storm, folded into the VM's moving baseline (an EWMA
 * over baseline_windows windows; storm windows are left out so that a
 * long storm does not become the norm).  Windows in which a VM had no
 * fault count as rate 0.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "alert/alert.h"
#include "mbec_arch.h"

static const char *const rule_names[ALERT_R_NR] = {
	[ALERT_R_ESCALATION] = "escalation",
	[ALERT_R_NO_PROGRESS] = "no-progress",
	[ALERT_R_FORMAT] = "format",
	[ALERT_R_EXIT_QUAL] = "exit-qual",
	[ALERT_R_NESTED_INJECT] = "nested-inject",
	[ALERT_R_ROLE] = "role",
	[ALERT_R_FAULT_STORM] = "fault-storm",
	[ALERT_R_EXEC_STORM] = "exec-storm",
	[ALERT_R_LOST] = "lost-events",
	[ALERT_R_BEHIND] = "falling-behind",
};

const char *alert_rule_name(enum alert_rule r)
{
	return (unsigned int)r < ALERT_R_NR ? rule_names[r] : "?";
}

int alert_rule_from_name(const char *name)
{
	int i;

	for (i = 0; i < ALERT_R_NR; i++)
		if (!strcmp(name, rule_names[i]))
			return i;
	return -1;
}

const char *alert_severity(enum alert_rule r)
{
	if (r < ALERT_R_FAULT_STORM)
		return "critical";
	if (r == ALERT_R_FAULT_STORM || r == ALERT_R_EXEC_STORM)
		return "warning";
	return "error";
}

void alert_config_init(struct alert_config *c)
{
	memset(c, 0, sizeof(*c));
	c->window_ns = ALERT_NS_PER_S;
	c->interval_ns = 60 * ALERT_NS_PER_S;
	c->expire_ns = 3600 * ALERT_NS_PER_S;
	c->fault_rate = 20000;
	c->fault_factor = 10;
	c->fault_min_rate = 1000;
	c->exec_rate = 5000;
	c->exec_factor = 10;
	c->exec_min_rate = 200;
	c->baseline_windows = 60;
	c->warmup_windows = 10;
	c->lost_min = 1;
	c->lag_ns = 2 * ALERT_NS_PER_S;
	c->max_alerts = 100;
	c->max_keys = 4096;
}

/* ---- keys ------------------------------------------------------------------ */

#define DETAIL_LEN	48

struct key {
	struct key *next;	/* hash chain */
	enum alert_rule rule;
	uint32_t vm;
	bool has_gfn;
	uint64_t gfn;
	char detail[DETAIL_LEN];	/* the checker's rule, "" for none */
	bool fired, suppressed;
	uint64_t total, last_seen;
	uint64_t int_count, int_first, int_last;	/* this interval, after the fire */
};

#define KEY_BUCKETS	1024

struct vm_state {
	uint32_t vm;
	uint64_t bucket;		/* window being counted */
	/* this window: MMU faults (spte_requested, fast_page_fault) and kvm_page_fault */
	uint64_t req, req_exec, pf, pf_exec;
	struct alert_vm_stats st;
};

struct alert_engine {
	struct alert_config cfg;
	alert_fn fn;
	void *ctx;
	struct alert_stats st;
	bool started;
	uint64_t bucket, interval;	/* current window and interval numbers */
	uint64_t lost_win;		/* records lost in the current window */
	bool lost_fired_win, behind_fired_win;
	unsigned int fired_int;		/* keys fired in the current interval */
	struct key *keys[KEY_BUCKETS];
	struct vm_state *vms;
	unsigned int nvms, capvms, last_vm;
};

static uint64_t str_hash(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	while (*s)
		h = (h ^ (unsigned char)*s++) * 1099511628211ULL;
	return h;
}

static unsigned int key_hash(enum alert_rule rule, uint32_t vm, bool has_gfn, uint64_t gfn,
			     const char *detail)
{
	uint64_t h = ((uint64_t)rule + 1) * 0x9e3779b97f4a7c15ULL;

	h ^= ((uint64_t)vm + 1) * 0xbf58476d1ce4e5b9ULL;
	if (has_gfn)
		h ^= (gfn + 1) * 0x94d049bb133111ebULL;
	h ^= str_hash(detail);
	return (unsigned int)((h ^ (h >> 29) ^ (h >> 47)) & (KEY_BUCKETS - 1));
}

static struct key *key_find(struct alert_engine *e, enum alert_rule rule, uint32_t vm,
			    bool has_gfn, uint64_t gfn, const char *detail)
{
	struct key *k;

	for (k = e->keys[key_hash(rule, vm, has_gfn, gfn, detail)]; k; k = k->next)
		if (k->rule == rule && k->vm == vm && k->has_gfn == has_gfn &&
		    (!has_gfn || k->gfn == gfn) && !strcmp(k->detail, detail))
			return k;
	return NULL;
}

static struct key *key_get(struct alert_engine *e, enum alert_rule rule, uint32_t vm,
			   bool has_gfn, uint64_t gfn, const char *detail)
{
	struct key *k = key_find(e, rule, vm, has_gfn, gfn, detail);
	unsigned int h;

	if (k)
		return k;
	/*
	 * Too many keys: further ones of this rule share one host-wide key
	 * (which may be created beyond the limit, one per rule).
	 */
	if (e->cfg.max_keys && e->st.keys >= e->cfg.max_keys && (vm || has_gfn || *detail)) {
		vm = 0;
		has_gfn = false;
		gfn = 0;
		detail = "";
		k = key_find(e, rule, 0, false, 0, "");
		if (k)
			return k;
	}
	k = calloc(1, sizeof(*k));
	if (!k)
		return NULL;
	k->rule = rule;
	k->vm = vm;
	k->has_gfn = has_gfn;
	k->gfn = gfn;
	snprintf(k->detail, sizeof(k->detail), "%s", detail);
	h = key_hash(rule, vm, has_gfn, gfn, k->detail);
	k->next = e->keys[h];
	e->keys[h] = k;
	e->st.keys++;
	return k;
}

static void fill_alert(struct alert *a, enum alert_kind kind, const struct key *k)
{
	memset(a, 0, sizeof(*a));
	a->kind = kind;
	a->rule = k->rule;
	a->vm = k->vm;
	a->has_gfn = k->has_gfn;
	a->gfn = k->gfn;
	a->detail = k->detail[0] ? k->detail : NULL;
	a->total = k->total;
}

/*
 * One occurrence of a key at ts.  The first fires (unless max_alerts
 * fired already this interval); the others are counted for the summary.
 */
static void occur(struct alert_engine *e, enum alert_rule rule, uint32_t vm, bool has_gfn,
		  uint64_t gfn, const char *detail, uint64_t ts, double value, double threshold,
		  const char *what, const char *evidence)
{
	struct key *k;
	struct alert a;

	if (e->cfg.disabled[rule])
		return;
	e->st.occurrences[rule]++;
	k = key_get(e, rule, vm, has_gfn, gfn, detail ? detail : "");
	if (!k)
		return;
	if (k->fired && e->cfg.expire_ns && ts > k->last_seen + e->cfg.expire_ns) {
		/* Quiet long enough: this is news again. */
		k->fired = false;
		k->suppressed = false;
		k->int_count = 0;
	}
	k->total++;
	if (ts > k->last_seen)
		k->last_seen = ts;
	if (k->fired) {
		if (!k->int_count || ts < k->int_first)
			k->int_first = ts;
		if (!k->int_count || ts > k->int_last)
			k->int_last = ts;
		k->int_count++;
		return;
	}
	k->fired = true;
	if (e->cfg.max_alerts && e->fired_int >= e->cfg.max_alerts) {
		/* Rate limit: summarized at the end of the interval instead. */
		k->suppressed = true;
		k->int_first = k->int_last = ts;
		k->int_count = 1;
		e->st.suppressed++;
		return;
	}
	e->fired_int++;
	e->st.fired[rule]++;
	fill_alert(&a, ALERT_FIRE, k);
	a.ts_ns = ts;
	a.value = value;
	a.threshold = threshold;
	snprintf(a.what, sizeof(a.what), "%s", what);
	a.evidence = evidence;
	if (e->fn)
		e->fn(e->ctx, &a);
}

/* End of an interval at ts: one summary per key with new occurrences. */
static void summarize(struct alert_engine *e, uint64_t ts)
{
	unsigned int i;
	struct key **pp, *k;
	struct alert a;

	for (i = 0; i < KEY_BUCKETS; i++) {
		for (pp = &e->keys[i]; (k = *pp);) {
			if (k->int_count) {
				fill_alert(&a, ALERT_SUMMARY, k);
				a.ts_ns = ts;
				a.count = k->int_count;
				a.first_ns = k->int_first;
				a.last_ns = k->int_last;
				a.suppressed = k->suppressed;
				snprintf(a.what, sizeof(a.what), "%" PRIu64 " %s in this interval, %"
					 PRIu64 " in all", k->int_count,
					 k->suppressed ? "occurrences (not fired: alert limit)" :
							 "more", k->total);
				e->st.summaries++;
				if (e->fn)
					e->fn(e->ctx, &a);
				k->int_count = 0;
			}
			/* Forget keys quiet for longer than expire: they would fire again anyway. */
			if (e->cfg.expire_ns && ts > k->last_seen + e->cfg.expire_ns) {
				*pp = k->next;
				free(k);
				e->st.keys--;
				continue;
			}
			pp = &k->next;
		}
	}
	e->fired_int = 0;
}

/* ---- windows ------------------------------------------------------------- */

static struct vm_state *vm_get(struct alert_engine *e, uint32_t vm)
{
	unsigned int i;

	/* Records come in runs of one VM: try the last one first. */
	if (e->last_vm < e->nvms && e->vms[e->last_vm].vm == vm)
		return &e->vms[e->last_vm];
	for (i = 0; i < e->nvms; i++)
		if (e->vms[i].vm == vm) {
			e->last_vm = i;
			return &e->vms[i];
		}
	if (e->nvms == e->capvms) {
		unsigned int cap = e->capvms ? e->capvms * 2 : 8;
		struct vm_state *n = realloc(e->vms, cap * sizeof(*n));

		if (!n)
			return NULL;
		e->vms = n;
		e->capvms = cap;
	}
	memset(&e->vms[e->nvms], 0, sizeof(e->vms[0]));
	e->vms[e->nvms].vm = vm;
	e->vms[e->nvms].st.vm = vm;
	e->vms[e->nvms].bucket = e->bucket;
	return &e->vms[e->nvms++];
}

/*
 * Judge one window's rate against the absolute threshold and the moving
 * baseline; fold a non-storm window into the baseline.  Returns the
 * threshold crossed (> 0) or 0.
 */
static double judge(const struct alert_config *c, double rate, double *base, unsigned int n,
		    double abs_rate, double factor, double min_rate)
{
	double alpha = 2.0 / ((c->baseline_windows ? c->baseline_windows : 1) + 1.0);
	double thr = 0;

	if (abs_rate > 0 && rate >= abs_rate)
		thr = abs_rate;
	else if (factor > 0 && n >= c->warmup_windows && rate >= min_rate &&
		 rate > factor * *base)
		thr = factor * *base > min_rate ? factor * *base : min_rate;
	if (thr > 0)
		return thr;
	*base = n ? *base + alpha * (rate - *base) : rate;
	return 0;
}

static void close_window(struct alert_engine *e, struct vm_state *v)
{
	const struct alert_config *c = &e->cfg;
	double secs = (double)c->window_ns / ALERT_NS_PER_S;
	uint64_t faults = v->req > v->pf ? v->req : v->pf;
	uint64_t exec = v->req_exec > v->pf_exec ? v->req_exec : v->pf_exec;
	uint64_t end = (v->bucket + 1) * c->window_ns;
	char what[256];
	double thr;

	v->st.rate = faults / secs;
	v->st.exec_rate = exec / secs;
	thr = judge(c, v->st.rate, &v->st.baseline, v->st.windows, c->fault_rate, c->fault_factor,
		    c->fault_min_rate);
	if (thr > 0) {
		snprintf(what, sizeof(what), "VM %u: %.0f faults/s (threshold %.0f/s, baseline %.0f/s)",
			 v->vm, v->st.rate, thr, v->st.baseline);
		occur(e, ALERT_R_FAULT_STORM, v->vm, false, 0, NULL, end, v->st.rate, thr, what,
		      NULL);
	}
	thr = judge(c, v->st.exec_rate, &v->st.exec_baseline, v->st.windows, c->exec_rate,
		    c->exec_factor, c->exec_min_rate);
	if (thr > 0) {
		snprintf(what, sizeof(what), "VM %u: %.0f execute faults/s (threshold %.0f/s, baseline %.0f/s): W^X churn",
			 v->vm, v->st.exec_rate, thr,
			 v->st.exec_baseline);
		occur(e, ALERT_R_EXEC_STORM, v->vm, false, 0, NULL, end, v->st.exec_rate, thr, what,
		      NULL);
	}
	v->st.windows++;
	v->req = v->req_exec = v->pf = v->pf_exec = 0;
	v->bucket++;
}

/* Move time to ts: close windows and intervals that ended before it. */
static void advance(struct alert_engine *e, uint64_t ts)
{
	uint64_t b, in;
	unsigned int i;

	if (!ts)
		return;
	if (!e->started) {
		e->started = true;
		e->st.now_ns = ts;
		e->bucket = ts / e->cfg.window_ns;
		e->interval = ts / e->cfg.interval_ns;
		return;
	}
	if (ts <= e->st.now_ns)
		return;
	e->st.now_ns = ts;
	b = ts / e->cfg.window_ns;
	if (b > e->bucket) {
		for (i = 0; i < e->nvms; i++) {
			struct vm_state *v = &e->vms[i];
			/* A long silence: a few empty windows teach the baseline as much as all. */
			uint64_t gap = b - v->bucket, max = 4ULL * e->cfg.baseline_windows + 1;

			if (gap > max)
				v->bucket = b - max;
			while (v->bucket < b)
				close_window(e, v);
		}
		e->bucket = b;
		e->lost_win = 0;
		e->lost_fired_win = false;
		e->behind_fired_win = false;
	}
	in = ts / e->cfg.interval_ns;
	if (in > e->interval) {
		summarize(e, in * e->cfg.interval_ns);
		e->interval = in;
	}
}

static uint32_t vm_of(const struct mbec_event_hdr *h)
{
	return h->vm_id ? h->vm_id : h->pid;
}

void alert_feed(struct alert_engine *e, const void *rec, size_t len)
{
	const struct mbec_event_hdr *h = rec;
	struct vm_state *v;
	char what[256];

	if (mbec_event_validate(rec, len))
		return;
	e->st.records++;
	advance(e, h->ts_ns);
	switch (h->type) {
	case MBEC_EV_SPTE_REQUESTED: {
		const struct mbec_ev_spte_requested *r = rec;

		if (r->flags & MBEC_FAULT_PREFETCH)
			break;
		v = vm_get(e, vm_of(h));
		if (!v)
			break;
		v->req++;
		v->st.faults++;
		if (r->flags & MBEC_FAULT_EXEC) {
			v->req_exec++;
			v->st.exec_faults++;
		}
		break;
	}
	case MBEC_EV_FAST_PAGE_FAULT: {
		const struct mbec_ev_fast_page_fault *f = rec;

		v = vm_get(e, vm_of(h));
		if (!v)
			break;
		v->req++;
		v->st.faults++;
		if (f->error_code & PFERR_FETCH) {
			v->req_exec++;
			v->st.exec_faults++;
		}
		break;
	}
	case MBEC_EV_PAGE_FAULT: {
		const struct mbec_ev_page_fault *f = rec;
		bool x = e->cfg.spte_ept ? f->error_code & EPT_VIOL_ACC_INSTR :
					   f->error_code & PFERR_FETCH;

		v = vm_get(e, vm_of(h));
		if (!v)
			break;
		v->pf++;
		if (x)
			v->pf_exec++;
		/* Totals count one source only: the larger one, as the windows do. */
		if (v->pf > v->req)
			v->st.faults++;
		if (x && v->pf_exec > v->req_exec)
			v->st.exec_faults++;
		break;
	}
	case MBEC_EV_LOST: {
		const struct mbec_ev_lost *l = rec;
		uint64_t ts = h->ts_ns ? h->ts_ns : e->st.now_ns;

		e->st.lost_records += l->count;
		e->lost_win += l->count;
		if (!e->lost_fired_win && e->cfg.lost_min && e->lost_win >= e->cfg.lost_min) {
			e->lost_fired_win = true;
			snprintf(what, sizeof(what), "%" PRIu64 " records lost in this window (ring buffer full): checks around them are incomplete",
				 e->lost_win);
			occur(e, ALERT_R_LOST, 0, false, 0, NULL, ts, (double)e->lost_win,
			      (double)e->cfg.lost_min, what, NULL);
		}
		break;
	}
	default:
		break;
	}
}

void alert_anomaly(struct alert_engine *e, const struct mbec_anomaly *a)
{
	uint64_t ts;

	if ((unsigned int)a->cls >= MBEC_AN_NR)
		return;
	advance(e, a->ts_ns);
	ts = a->ts_ns ? a->ts_ns : e->st.now_ns;
	occur(e, (enum alert_rule)a->cls, a->vm_id ? a->vm_id : a->pid, a->has_gfn, a->gfn,
	      a->rule, ts, 0, 0, a->what, a->evidence);
}

void alert_lag(struct alert_engine *e, uint64_t now_ns, uint64_t lag_ns)
{
	char what[256];

	advance(e, now_ns);
	e->st.lag_s = (double)lag_ns / ALERT_NS_PER_S;
	if (!e->cfg.lag_ns || lag_ns < e->cfg.lag_ns || e->behind_fired_win)
		return;
	e->behind_fired_win = true;
	snprintf(what, sizeof(what), "records waited %.3f s in the ring buffer before being read (threshold %.3f s): the tool is falling behind",
		 e->st.lag_s,
		 (double)e->cfg.lag_ns / ALERT_NS_PER_S);
	occur(e, ALERT_R_BEHIND, 0, false, 0, NULL, now_ns, e->st.lag_s,
	      (double)e->cfg.lag_ns / ALERT_NS_PER_S, what, NULL);
}

void alert_tick(struct alert_engine *e, uint64_t now_ns)
{
	advance(e, now_ns);
}

void alert_finish(struct alert_engine *e)
{
	unsigned int i;

	if (!e->started)
		return;
	/* The open windows, as if they were complete (a partial window under-reports). */
	for (i = 0; i < e->nvms; i++)
		while (e->vms[i].bucket <= e->bucket)
			close_window(e, &e->vms[i]);
	e->bucket++;
	/* Time has reached the end of the windows just closed. */
	if (e->nvms && e->bucket * e->cfg.window_ns > e->st.now_ns)
		e->st.now_ns = e->bucket * e->cfg.window_ns;
	summarize(e, e->st.now_ns);
}

struct alert_engine *alert_engine_new(const struct alert_config *cfg, alert_fn fn, void *ctx)
{
	struct alert_engine *e = calloc(1, sizeof(*e));

	if (!e)
		return NULL;
	e->fn = fn;
	e->ctx = ctx;
	alert_engine_set_config(e, cfg);
	return e;
}

void alert_engine_set_config(struct alert_engine *e, const struct alert_config *cfg)
{
	uint64_t w = e->cfg.window_ns, in = e->cfg.interval_ns;

	e->cfg = *cfg;
	if (!e->cfg.window_ns)
		e->cfg.window_ns = ALERT_NS_PER_S;
	if (!e->cfg.interval_ns)
		e->cfg.interval_ns = 60 * ALERT_NS_PER_S;
	/* Window and interval lengths cannot change under running counts. */
	if (e->started) {
		e->cfg.window_ns = w;
		e->cfg.interval_ns = in;
	}
}

const struct alert_config *alert_engine_config(const struct alert_engine *e)
{
	return &e->cfg;
}

const struct alert_stats *alert_engine_stats(const struct alert_engine *e)
{
	return &e->st;
}

unsigned int alert_vm_count(const struct alert_engine *e)
{
	return e->nvms;
}

void alert_vm_get(const struct alert_engine *e, unsigned int i, struct alert_vm_stats *out)
{
	if (i < e->nvms)
		*out = e->vms[i].st;
	else
		memset(out, 0, sizeof(*out));
}

void alert_engine_free(struct alert_engine *e)
{
	unsigned int i;
	struct key *k, *n;

	if (!e)
		return;
	for (i = 0; i < KEY_BUCKETS; i++)
		for (k = e->keys[i]; k; k = n) {
			n = k->next;
			free(k);
		}
	free(e->vms);
	free(e);
}
