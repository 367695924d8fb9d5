// SPDX-License-Identifier: GPL-2.0
/*
 * The check engine (see check.h): records -> transactions -> verdicts.
 *
 * What KVM decided is compared with what the model (src/model, layer 2)
 * says it may decide:
 *
 *  escalation	 the permissions of every SPTE must be within the ACC the
 *		 guest walk allows: the traced walk for the faulting SPTE,
 *		 the guest entry read from the VMM for prefetched ones, or
 *		 at least the shadow page's role.access (partial check);
 *  no-progress	 the SPTE installed for a fault must permit the faulting
 *		 access, and the same fault must not repeat without end;
 *  format	 SPTE invariants that hold whatever the guest did;
 *  exit-qual	 the error code KVM derived from an EPT exit qualification;
 *  nested-inject the exit qualification injected into L1;
 *  role	 a shadow page's role against the walk that reached it.
 *
 * Shadow pages are known from kvm_mmu_get_page (sp->spt is the page that
 * holds the SPTEs, so set_spte's sptep finds its page and role).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "check/check.h"
#include "check/check_internal.h"
#include "correlate/correlate.h"
#include "decode/decode.h"
#include "mbec_model.h"

static const char *const class_names[MBEC_AN_NR] = {
	[MBEC_AN_ESCALATION] = "escalation",
	[MBEC_AN_NO_PROGRESS] = "no-progress",
	[MBEC_AN_FORMAT] = "format",
	[MBEC_AN_EXIT_QUAL] = "exit-qual",
	[MBEC_AN_NESTED_INJECT] = "nested-inject",
	[MBEC_AN_ROLE] = "role",
};

static const char *const cov_names[MBEC_COV_NR] = {
	[MBEC_COV_FULL] = "full",
	[MBEC_COV_PARTIAL] = "partial",
	[MBEC_COV_NONE] = "none",
};

static const char *const covr_names[MBEC_COVR_NR] = {
	[MBEC_COVR_WALK] = "traced guest walk",
	[MBEC_COVR_GUEST_PTE] = "guest entry known from the VMM (its page tables)",
	[MBEC_COVR_GUEST_MEM] = "guest entry read from the VMM's memory",
	[MBEC_COVR_MEM_CHANGED] = "guest entry read from the VMM's memory disagrees: changed since?",
	[MBEC_COVR_DIRECT] = "shadow page of a guest large page, role checked against a walk",
	[MBEC_COVR_PREFETCH] = "prefetched: no traced walk, leaf guest entry unknown",
	[MBEC_COVR_NO_ROLE] = "shadow page never seen (created before attach, or record lost)",
	[MBEC_COVR_LOST] = "records lost around it",
	[MBEC_COVR_WALK_SHORT] = "traced walk did not reach the leaf",
	[MBEC_COVR_NONLEAF] = "non-leaf",
	[MBEC_COVR_TDP_EPT] = "TDP on EPT: guest-physical map, no guest entry to check against",
	[MBEC_COVR_TDP_NPT] = "TDP on NPT: guest-physical map, no guest entry to check against",
	[MBEC_COVR_FMT_UNKNOWN] = "SPTE format unknown (nothing told EPT from legacy/NPT): only "
				  "what is wrong in both formats checked",
};

const char *mbec_anomaly_class_name(enum mbec_anomaly_class cls)
{
	return cls < MBEC_AN_NR ? class_names[cls] : "?";
}

const char *mbec_coverage_name(enum mbec_coverage cov)
{
	return cov < MBEC_COV_NR ? cov_names[cov] : "?";
}

const char *mbec_cov_reason_name(enum mbec_cov_reason r)
{
	return r < MBEC_COVR_NR ? covr_names[r] : "?";
}

bool mbec_spte_covers(uint64_t gfn, int level, uint64_t gpa, uint64_t size)
{
	uint64_t start = gfn << 12, end;

	if (level < 1 || level > 5)
		return false;
	end = start + (4096ULL << (9 * (level - 1)));
	return gpa < end && gpa + size > start;
}

/* ---- a small open-addressing map: u64 key (never 0) -> fixed-size value */

static int map_grow(struct u64map *m)
{
	size_t cap = m->cap ? m->cap * 2 : 256, i;
	uint64_t *keys = calloc(cap, sizeof(*keys));
	char *vals = calloc(cap, m->vsize);

	if (!keys || !vals) {
		free(keys);
		free(vals);
		return -ENOMEM;
	}
	for (i = 0; i < m->cap; i++) {
		size_t j;

		if (!m->keys[i])
			continue;
		j = (m->keys[i] * 0x9e3779b97f4a7c15ULL) & (cap - 1);
		while (keys[j])
			j = (j + 1) & (cap - 1);
		keys[j] = m->keys[i];
		memcpy(vals + j * m->vsize, (char *)m->vals + i * m->vsize, m->vsize);
	}
	free(m->keys);
	free(m->vals);
	m->keys = keys;
	m->vals = vals;
	m->cap = cap;
	return 0;
}

void *u64map_get(const struct u64map *m, uint64_t key)
{
	size_t j;

	if (!m->cap || !key)
		return NULL;
	j = (key * 0x9e3779b97f4a7c15ULL) & (m->cap - 1);
	while (m->keys[j]) {
		if (m->keys[j] == key)
			return (char *)m->vals + j * m->vsize;
		j = (j + 1) & (m->cap - 1);
	}
	return NULL;
}

void *u64map_put(struct u64map *m, uint64_t key)
{
	void *v = u64map_get(m, key);
	size_t j;

	if (v || !key)
		return v;
	if ((m->n + 1) * 10 > m->cap * 7 && map_grow(m))
		return NULL;
	j = (key * 0x9e3779b97f4a7c15ULL) & (m->cap - 1);
	while (m->keys[j])
		j = (j + 1) & (m->cap - 1);
	m->keys[j] = key;
	m->n++;
	v = (char *)m->vals + j * m->vsize;
	memset(v, 0, m->vsize);
	return v;
}

void u64map_free(struct u64map *m)
{
	free(m->keys);
	free(m->vals);
	memset(m, 0, sizeof(*m));
}

/* ---- anomalies ------------------------------------------------------ */

void ck_anomaly(struct mbec_check *e, enum mbec_anomaly_class cls, const char *rule,
		const struct mbec_event_hdr *h, uint64_t gfn, const char *evidence,
		const char *fmt, ...)
{
	struct mbec_anomaly a;
	va_list ap;

	memset(&a, 0, sizeof(a));
	a.cls = cls;
	a.rule = rule;
	if (h) {
		a.ts_ns = h->ts_ns;
		a.pid = h->pid;
		a.tid = h->tid;
		a.vm_id = h->vm_id;
		a.vcpu_id = h->vcpu_id;
	}
	if (gfn != CK_NO_GFN) {
		a.has_gfn = true;
		a.gfn = gfn;
	}
	va_start(ap, fmt);
	vsnprintf(a.what, sizeof(a.what), fmt, ap);
	va_end(ap);
	snprintf(a.evidence, sizeof(a.evidence), "%s", evidence ? evidence : "");
	/*
	 * Incomplete evidence is no evidence: a walk whose start was lost,
	 * a request whose SPTE went missing.  A value's format is judged by
	 * the value alone and stays an anomaly.
	 */
	if (e->judging_incomplete && cls != MBEC_AN_FORMAT) {
		if (!e->sum.inconclusive_total)
			e->inconclusive_first = a;
		e->sum.inconclusive[cls]++;
		e->sum.inconclusive_total++;
		return;
	}
	e->sum.anomalies[cls]++;
	e->sum.anomalies_total++;
	if (e->nkept[cls] < e->keep) {
		struct mbec_anomaly *k = &e->kept[cls][e->nkept[cls]++];

		*k = a;
	}
	if (e->on_anomaly)
		e->on_anomaly(e->on_anomaly_ctx, &a);
}

/* Append a formatted line to an evidence buffer. */
void ev_add(struct evbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->len >= sizeof(b->buf) - 1)
		return;
	va_start(ap, fmt);
	n = vsnprintf(b->buf + b->len, sizeof(b->buf) - b->len, fmt, ap);
	va_end(ap);
	if (n > 0)
		b->len = b->len + (size_t)n < sizeof(b->buf) ? b->len + n : sizeof(b->buf) - 1;
}

/* "0x... (NAME|NAME)" through src/decode. */
const char *ck_decode(const struct mbec_check *e, enum decode_kind kind, uint64_t v,
		      bool ept, char *buf, size_t len)
{
	struct decode_opts o = {
		.layout = e->opts.layout == MBEC_LAYOUT_MBEC ? MBEC_LAYOUT_MBEC :
							       MBEC_LAYOUT_CLASSIC,
		.mbec = e->opts.mbec,
		.format = ept ? SPTE_FMT_EPT : SPTE_FMT_LEGACY,
		.role = e->opts.role,
	};
	struct decode_result *r = malloc(sizeof(*r));

	if (r && !decode_value(kind, v, &o, r) && r->names[0])
		snprintf(buf, len, "0x%" PRIx64 " (%s)", v, r->names);
	else
		snprintf(buf, len, "0x%" PRIx64, v);
	free(r);
	return buf;
}

const char *ck_acc(const struct mbec_check *e, unsigned int acc, char *buf)
{
	return decode_acc_letters(acc, e->opts.layout == MBEC_LAYOUT_MBEC ? MBEC_LAYOUT_MBEC :
									  MBEC_LAYOUT_CLASSIC,
				  buf);
}

/* ---- the engine ------------------------------------------------------ */

struct mbec_check *mbec_check_new(const struct mbec_check_opts *opts)
{
	struct mbec_check *e = calloc(1, sizeof(*e));

	if (!e)
		return NULL;
	e->opts = *opts;
	if (e->opts.layout != MBEC_LAYOUT_MBEC)
		e->opts.layout = MBEC_LAYOUT_CLASSIC;
	e->fmt = opts->spte_fmt_unknown ? SPTE_FMT_IS_UNKNOWN :
		 opts->spte_ept ? SPTE_FMT_IS_EPT : SPTE_FMT_IS_LEGACY;
	e->keep = opts->keep ? opts->keep : 3;
	if (e->keep > MBEC_CHECK_KEEP_MAX)
		e->keep = MBEC_CHECK_KEEP_MAX;
	e->repeat_limit = opts->repeat_limit ? opts->repeat_limit : 64;
	e->sps.vsize = sizeof(struct sp_info);
	e->wp_gfns.vsize = sizeof(uint32_t);
	e->guest_ptes.vsize = sizeof(uint64_t);
	e->corr = mbec_correlate_new(ck_on_txn, e);
	if (!e->corr) {
		free(e);
		return NULL;
	}
	return e;
}

void mbec_check_on_anomaly(struct mbec_check *e,
			   void (*fn)(void *ctx, const struct mbec_anomaly *a), void *ctx)
{
	e->on_anomaly = fn;
	e->on_anomaly_ctx = ctx;
}

void mbec_check_on_spte(struct mbec_check *e,
			void (*fn)(void *ctx, const struct mbec_ev_set_spte *s,
				   enum mbec_coverage cov), void *ctx)
{
	e->on_spte = fn;
	e->on_spte_ctx = ctx;
}

static void on_get_page(struct mbec_check *e, const struct mbec_ev_get_page *g)
{
	struct sp_info *sp;

	if (!g->spt)
		return;
	sp = u64map_put(&e->sps, g->spt);
	if (!sp)
		return;
	/* A page reused for another role loses what was verified about the old one. */
	if (sp->ev.role != g->role || sp->ev.gfn != g->gfn || sp->epoch != e->epoch)
		sp->role_verified = false;
	sp->ev = *g;
	sp->epoch = e->epoch;
	ck_learn_format_sp(e, g);
	if (!g->direct && !(g->flags & MBEC_SP_TDP_MMU)) {
		uint32_t *n = u64map_put(&e->wp_gfns, wp_key(g->hdr.pid, g->gfn));

		if (n)
			(*n)++;
	}
	ck_role_expect(e, sp);
}

int mbec_check_feed(struct mbec_check *e, const void *rec, size_t len)
{
	const struct mbec_event_hdr *h = rec;

	e->sum.records++;
	if (mbec_event_validate(rec, len)) {
		e->sum.bad_records++;
		return -1;
	}
	if (h->type < MBEC_EV_MAX)
		e->sum.events[h->type]++;
	if (h->ts_ns && (!e->sum.ts_first || h->ts_ns < e->sum.ts_first))
		e->sum.ts_first = h->ts_ns;
	if (h->ts_ns > e->sum.ts_last)
		e->sum.ts_last = h->ts_ns;

	switch (h->type) {
	case MBEC_EV_LOST:
		e->sum.lost_events += ((const struct mbec_ev_lost *)rec)->count;
		e->epoch++;
		break;
	case MBEC_EV_GET_PAGE:
		on_get_page(e, rec);
		break;
	case MBEC_EV_EXIT:
		ck_learn_format(e, rec);
		break;
	case MBEC_EV_TDP_SPTE_CHANGED:
		ck_tdp_changed(e, rec);
		break;
	case MBEC_EV_NESTED_VMEXIT_INJECT:
		ck_nested_inject(e, rec);
		break;
	case MBEC_EV_GUEST_PTE:
		ck_guest_pte(e, rec);
		break;
	case MBEC_EV_SPTE_REQUESTED:
		ck_learn_memslot(e, rec);
		break;
	default:
		break;
	}
	mbec_correlate_feed(e->corr, h);
	e->sum.lost_inferred = mbec_correlate_inferred_lost(e->corr);
	return 0;
}

const struct mbec_anomaly *mbec_check_inconclusive(const struct mbec_check *e)
{
	return e->sum.inconclusive_total ? &e->inconclusive_first : NULL;
}

void mbec_check_finish(struct mbec_check *e)
{
	mbec_correlate_flush(e->corr);
	e->sum.transactions = mbec_correlate_count(e->corr);
	e->sum.lost_inferred = mbec_correlate_inferred_lost(e->corr);
}

const struct mbec_check_summary *mbec_check_summary(const struct mbec_check *e)
{
	return &e->sum;
}

const struct mbec_anomaly *mbec_check_anomalies(const struct mbec_check *e,
						enum mbec_anomaly_class cls, unsigned int *n)
{
	if (cls >= MBEC_AN_NR) {
		*n = 0;
		return NULL;
	}
	*n = e->nkept[cls];
	return e->kept[cls];
}

void mbec_check_free(struct mbec_check *e)
{
	if (!e)
		return;
	mbec_correlate_free(e->corr);
	u64map_free(&e->sps);
	u64map_free(&e->wp_gfns);
	u64map_free(&e->guest_ptes);
	free(e->repeats);
	free(e->slots);
	free(e);
}
