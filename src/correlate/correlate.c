// SPDX-License-Identifier: GPL-2.0
/*
 * Fault transactions (see correlate.h).  Each vCPU thread has at most one
 * open transaction; an event either extends it (it is the next step of the
 * same fault) or closes it and opens a new one.  The steps come in a fixed
 * order inside KVM, so "next step" is decided by what the transaction
 * already has: a walk after spte_requested, or a second page fault, is a
 * new fault.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "correlate/correlate.h"

struct slot {
	uint32_t tid;
	bool open;
	uint64_t loss_mark;	/* LOST records seen when this thread's last walk began */
	struct mbec_txn txn;
};

struct mbec_correlate {
	void (*on_txn)(void *ctx, const struct mbec_txn *t);
	void *ctx;
	struct slot *slots;
	size_t nslots, cap;
	uint64_t closed;
	uint64_t inferred_lost;
	uint64_t lost_records;	/* LOST records seen */
};

/*
 * An event whose predecessor must have been traced and was not (a paging
 * element without its walk, a walker error without a walk): a record was
 * lost that no LOST record announced (a text capture that does not mark
 * its overruns).  Counted once per hole, not again after a LOST record
 * that already covers it.
 */
static void infer_loss(struct mbec_correlate *c, struct slot *s)
{
	if (s->loss_mark == c->lost_records)
		c->inferred_lost++;
	s->loss_mark = c->lost_records;
}

struct mbec_correlate *mbec_correlate_new(void (*on_txn)(void *ctx, const struct mbec_txn *t),
					  void *ctx)
{
	struct mbec_correlate *c = calloc(1, sizeof(*c));

	if (!c)
		return NULL;
	c->on_txn = on_txn;
	c->ctx = ctx;
	return c;
}

static void close_txn(struct mbec_correlate *c, struct slot *s)
{
	if (!s->open)
		return;
	s->open = false;
	s->txn.seq = ++c->closed;
	if (c->on_txn)
		c->on_txn(c->ctx, &s->txn);
}

static struct slot *slot_of(struct mbec_correlate *c, uint32_t tid)
{
	size_t i;

	for (i = 0; i < c->nslots; i++)
		if (c->slots[i].tid == tid)
			return &c->slots[i];
	if (c->nslots == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 16;
		struct slot *n = realloc(c->slots, cap * sizeof(*n));

		if (!n)
			return NULL;
		c->slots = n;
		c->cap = cap;
	}
	memset(&c->slots[c->nslots], 0, sizeof(c->slots[0]));
	c->slots[c->nslots].tid = tid;
	return &c->slots[c->nslots++];
}

static struct mbec_txn *open_txn(struct mbec_correlate *c, struct slot *s,
				 const struct mbec_event_hdr *h)
{
	close_txn(c, s);
	/*
	 * spte[] is most of a transaction (1.5 KiB) and only its first nspte
	 * entries are ever read, each written whole by copy_rec(): clearing
	 * it for every fault cost 2% of a replay.
	 */
	memset(&s->txn, 0, offsetof(struct mbec_txn, spte));
	s->txn.nspte_overflow = 0;
	s->open = true;
	s->txn.pid = h->pid;
	s->txn.tid = h->tid;
	s->txn.vm_id = h->vm_id;
	s->txn.vcpu_id = h->vcpu_id;
	s->txn.ts_first = h->ts_ns;
	return &s->txn;
}

/* The open transaction if it has none of the bits in `not`, else a new one. */
static struct mbec_txn *txn_for(struct mbec_correlate *c, struct slot *s,
				const struct mbec_event_hdr *h, unsigned int not)
{
	if (s->open && !(s->txn.have & not))
		return &s->txn;
	return open_txn(c, s, h);
}

/*
 * Copy a record into its slot in the transaction: an older, shorter
 * version of the record leaves the newer fields zero (their flags say
 * they are absent).
 */
static void copy_rec(void *dst, size_t dstsize, const struct mbec_event_hdr *h)
{
	size_t n = h->size < dstsize ? h->size : dstsize;

	memset(dst, 0, dstsize);
	memcpy(dst, h, n);
}

static void add_elem(struct mbec_txn *t, uint64_t pte, int level)
{
	if (t->nelem < MBEC_TXN_MAX_ELEM) {
		t->pte[t->nelem] = pte;
		t->pte_level[t->nelem] = level;
		t->nelem++;
	} else {
		t->incomplete = true;
	}
}

int mbec_correlate_feed(struct mbec_correlate *c, const struct mbec_event_hdr *h)
{
	const unsigned int after_walk = MBEC_TXN_REQ | MBEC_TXN_SPTE;
	struct mbec_txn *t = NULL;
	struct slot *s;
	size_t i;

	if (h->type == MBEC_EV_LOST) {
		c->lost_records++;
		for (i = 0; i < c->nslots; i++) {
			c->slots[i].txn.incomplete = true;
			close_txn(c, &c->slots[i]);
		}
		return 0;
	}
	switch (h->type) {
	case MBEC_EV_EXIT:
	case MBEC_EV_PAGE_FAULT:
	case MBEC_EV_FAST_PAGE_FAULT:
	case MBEC_EV_PAGETABLE_WALK:
	case MBEC_EV_PAGING_ELEMENT:
	case MBEC_EV_WALKER_ERROR:
	case MBEC_EV_SPTE_REQUESTED:
	case MBEC_EV_SET_SPTE:
		break;
	default:
		return 0;
	}
	s = slot_of(c, h->tid);
	if (!s)
		return 0;

	switch (h->type) {
	case MBEC_EV_EXIT:
		t = open_txn(c, s, h);
		copy_rec(&t->exit, sizeof(t->exit), h);
		t->have |= MBEC_TXN_EXIT;
		break;
	case MBEC_EV_PAGE_FAULT:
		t = txn_for(c, s, h, ~MBEC_TXN_EXIT);
		copy_rec(&t->pf, sizeof(t->pf), h);
		t->have |= MBEC_TXN_PF;
		break;
	case MBEC_EV_FAST_PAGE_FAULT:
		t = txn_for(c, s, h, ~(MBEC_TXN_EXIT | MBEC_TXN_PF));
		copy_rec(&t->fast, sizeof(t->fast), h);
		t->have |= MBEC_TXN_FAST;
		break;
	case MBEC_EV_PAGETABLE_WALK: {
		const struct mbec_ev_walk *w = (const void *)h;

		t = txn_for(c, s, h, MBEC_TXN_WALK | after_walk);
		s->loss_mark = c->lost_records;
		t->walk_addr = w->addr;
		t->walk_pferr = w->pferr;
		t->have |= MBEC_TXN_WALK;
		break;
	}
	case MBEC_EV_PAGING_ELEMENT: {
		const struct mbec_ev_paging_element *e = (const void *)h;

		/*
		 * Levels only go down within one walk: an entry at the level
		 * of the one before it (or higher) belongs to a walk whose
		 * start was lost.
		 */
		if (!s->open || !(s->txn.have & MBEC_TXN_WALK) || (s->txn.have & after_walk) ||
		    (s->txn.have & MBEC_TXN_WALK_ERROR) ||
		    (s->txn.nelem && e->level >= s->txn.pte_level[s->txn.nelem - 1])) {
			/*
			 * The walk's start was lost or never traced: a walk of
			 * unknown address, incomplete, that later entries join.
			 */
			t = open_txn(c, s, h);
			t->incomplete = true;
			t->have |= MBEC_TXN_WALK;
			infer_loss(c, s);
		} else {
			t = &s->txn;
		}
		add_elem(t, e->pte, e->level);
		break;
	}
	case MBEC_EV_WALKER_ERROR: {
		const struct mbec_ev_walker_error *e = (const void *)h;

		if (!s->open || !(s->txn.have & MBEC_TXN_WALK) || (s->txn.have & after_walk)) {
			t = open_txn(c, s, h);
			t->incomplete = true;
			infer_loss(c, s);
		} else {
			t = &s->txn;
		}
		t->walker_error_pferr = e->pferr;
		t->have |= MBEC_TXN_WALK_ERROR;
		break;
	}
	case MBEC_EV_SPTE_REQUESTED:
		t = txn_for(c, s, h, after_walk);
		copy_rec(&t->req, sizeof(t->req), h);
		t->have |= MBEC_TXN_REQ;
		break;
	case MBEC_EV_SET_SPTE:
		if (s->open && (s->txn.have & (MBEC_TXN_REQ | MBEC_TXN_SPTE | MBEC_TXN_FAST)))
			t = &s->txn;
		else
			t = open_txn(c, s, h);
		if (t->nspte < MBEC_TXN_MAX_SPTE)
			copy_rec(&t->spte[t->nspte++], sizeof(t->spte[0]), h);
		else
			t->nspte_overflow++;
		t->have |= MBEC_TXN_SPTE;
		break;
	}
	if (!t)
		return 0;
	/* The vCPU of a thread is learned late (kvm_page_fault): keep the best. */
	if (t->vcpu_id == MBEC_VCPU_UNKNOWN && h->vcpu_id != MBEC_VCPU_UNKNOWN) {
		t->vcpu_id = h->vcpu_id;
		t->vm_id = h->vm_id;
	}
	t->ts_last = h->ts_ns;
	return 1;
}

void mbec_correlate_flush(struct mbec_correlate *c)
{
	size_t i;

	for (i = 0; i < c->nslots; i++)
		close_txn(c, &c->slots[i]);
}

uint64_t mbec_correlate_count(const struct mbec_correlate *c)
{
	return c->closed;
}

uint64_t mbec_correlate_inferred_lost(const struct mbec_correlate *c)
{
	return c->inferred_lost;
}

void mbec_correlate_free(struct mbec_correlate *c)
{
	if (!c)
		return;
	free(c->slots);
	free(c);
}
