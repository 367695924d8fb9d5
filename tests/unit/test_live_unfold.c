// SPDX-License-Identifier: GPL-2.0
/*
 * mbec_live_unfold: a folded walk from the BPF programs becomes the walk
 * record and its paging_element records, in the order the tracepoints
 * fired, each carrying the walk's header; a malformed one is refused
 * whole, and the consumer's stop is obeyed.  No privileges needed.
 */
#include <errno.h>
#include <string.h>

#include "live/live.h"
#include "tap.h"

struct got {
	unsigned int n, stop_after;
	unsigned char rec[8][64];
	size_t len[8];
};

static int collect(void *ctx, const void *rec, size_t len)
{
	struct got *g = ctx;

	if (g->n < 8 && len <= sizeof(g->rec[0])) {
		memcpy(g->rec[g->n], rec, len);
		g->len[g->n] = len;
	}
	g->n++;
	return g->stop_after && g->n >= g->stop_after ? 7 : 0;
}

static void folded(struct mbec_ev_walk_folded *f, unsigned int nr)
{
	unsigned int i;

	memset(f, 0, sizeof(*f));
	f->hdr.type = MBEC_EV_WALK_FOLDED;
	f->hdr.size = sizeof(*f);
	f->hdr.cpu = 1;
	f->hdr.ts_ns = 123456789;
	f->hdr.pid = 4242;
	f->hdr.tid = 4243;
	f->hdr.vm_id = 4242;
	f->hdr.vcpu_id = 3;
	f->addr = 0x7f0000001000ULL;
	f->pferr = 0x15;
	f->nr = nr;
	for (i = 0; i < MBEC_WALK_FOLD_MAX; i++) {
		f->elem[i].pte = 0x1000ULL * (i + 1) | 0x67;
		f->elem[i].level = 4 - (int)i;
	}
}

int main(void)
{
	const struct mbec_ev_paging_element *e;
	const struct mbec_ev_walk *w;
	struct mbec_ev_walk_folded f;
	struct got g;
	unsigned int i;
	bool all;
	int rc;

	/* A 4-level walk: 1 + 4 records, in order. */
	folded(&f, 4);
	memset(&g, 0, sizeof(g));
	is_u64(mbec_live_unfold(&f, sizeof(f), collect, &g), 0, "4-level walk unfolds");
	is_u64(g.n, 5, "a walk record and 4 paging_element records");
	w = (const void *)g.rec[0];
	ok(g.len[0] == sizeof(*w) && !mbec_event_validate(w, g.len[0]) &&
	   w->hdr.type == MBEC_EV_PAGETABLE_WALK && w->hdr.size == sizeof(*w) &&
	   w->addr == f.addr && w->pferr == f.pferr && w->pad == 0,
	   "the walk record comes first, valid, with the walk's address and access");
	ok(w->hdr.ts_ns == f.hdr.ts_ns && w->hdr.cpu == 1 && w->hdr.pid == 4242 &&
	   w->hdr.tid == 4243 && w->hdr.vm_id == 4242 && w->hdr.vcpu_id == 3,
	   "the walk keeps the folded record's time, CPU, thread and vCPU");
	all = true;
	for (i = 1; i < 5; i++) {
		e = (const void *)g.rec[i];
		all &= g.len[i] == sizeof(*e) && !mbec_event_validate(e, g.len[i]) &&
		       e->hdr.type == MBEC_EV_PAGING_ELEMENT && e->pte == f.elem[i - 1].pte &&
		       e->level == f.elem[i - 1].level && e->pad == 0 &&
		       e->hdr.ts_ns == f.hdr.ts_ns && e->hdr.tid == 4243 && e->hdr.vcpu_id == 3;
	}
	ok(all, "the elements follow in the order they were traced, with the walk's header");

	/* No element (a walk that ended before reading any) and a full one. */
	folded(&f, 0);
	memset(&g, 0, sizeof(g));
	rc = mbec_live_unfold(&f, sizeof(f), collect, &g);
	ok(!rc && g.n == 1, "a walk without elements gives the walk record alone (%u)", g.n);
	folded(&f, MBEC_WALK_FOLD_MAX);
	memset(&g, 0, sizeof(g));
	rc = mbec_live_unfold(&f, sizeof(f), collect, &g);
	ok(!rc && g.n == 1 + MBEC_WALK_FOLD_MAX &&
	   ((const struct mbec_ev_paging_element *)g.rec[MBEC_WALK_FOLD_MAX])->level == 0,
	   "a full walk gives all %d elements (%u records)", MBEC_WALK_FOLD_MAX, g.n);

	/* Malformed: nothing is handed on. */
	folded(&f, MBEC_WALK_FOLD_MAX + 1);
	memset(&g, 0, sizeof(g));
	ok(mbec_live_unfold(&f, sizeof(f), collect, &g) == -EINVAL && g.n == 0,
	   "more elements than a walk holds: refused, nothing handed on");
	folded(&f, 2);
	f.hdr.size = sizeof(f) - 8;
	memset(&g, 0, sizeof(g));
	ok(mbec_live_unfold(&f, sizeof(f), collect, &g) == -EINVAL && g.n == 0,
	   "a size in the header that is not the folded record's: refused");
	folded(&f, 2);
	memset(&g, 0, sizeof(g));
	ok(mbec_live_unfold(&f, sizeof(f) - 16, collect, &g) == -EINVAL && g.n == 0,
	   "a record shorter than a folded walk: refused");

	/* The consumer stops the drain: unfolding stops too. */
	folded(&f, 4);
	memset(&g, 0, sizeof(g));
	g.stop_after = 2;
	rc = mbec_live_unfold(&f, sizeof(f), collect, &g);
	ok(rc == 7 && g.n == 2,
	   "a non-zero return from the consumer stops the unfolding and is returned (%u)",
	   g.n);
	return done_testing();
}
