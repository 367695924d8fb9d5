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
	bool has_outer;		/* outer holds a walk an inner walk interrupted */
	struct mbec_txn txn;
	struct mbec_txn outer;	/* only up to spte[] is kept: it has no SPTE yet */
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

/*
 * The outer walk ends without coming back (a record after the inner walk
 * that does not continue it): hand it on as it is, incomplete.
 */
static void drop_outer(struct mbec_correlate *c, struct slot *s)
{
	if (!s->has_outer)
		return;
	s->has_outer = false;
	s->outer.incomplete = true;
	s->outer.seq = ++c->closed;
	if (c->on_txn)
		c->on_txn(c->ctx, &s->outer);
}

static struct mbec_txn *open_txn(struct mbec_correlate *c, struct slot *s,
				 const struct mbec_event_hdr *h)
{
	close_txn(c, s);
	drop_outer(c, s);
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

/*
 * A walk that has begun and not reached its end (no entry yet, or the
 * last one points to a table: present - any of bits 2:0, P/RW/US or
 * R/W/X - above level 1 without PS, bit 7 in both formats) and has not
 * failed.
 */
static bool walk_unfinished(const struct mbec_txn *t)
{
	int n = t->nelem;
	uint64_t last;

	if (!(t->have & MBEC_TXN_WALK) ||
	    (t->have & (MBEC_TXN_REQ | MBEC_TXN_SPTE | MBEC_TXN_WALK_ERROR)))
		return false;
	if (!n)
		return true;
	last = t->pte[n - 1];
	return t->pte_level[n - 1] > 1 && (last & 7) && !(last & (1ULL << 7));
}

/*
 * Under nested paging KVM translates each table address of a walk of L2's
 * own page tables through L1's nested tables (translate_nested_gpa): a
 * whole walk, traced, inside the outer one.  The outer walk is put aside
 * while the inner one runs and taken back at its next entry (one level
 * below its last) or its error.  1 when the inner walk was closed and
 * the outer one is open again.
 */
static int resume_outer(struct mbec_correlate *c, struct slot *s, int level)
{
	int n = s->outer.nelem;

	if (!s->has_outer || !s->open || walk_unfinished(&s->txn))
		return 0;
	if (level >= 0 && n && level >= s->outer.pte_level[n - 1])
		return 0;
	close_txn(c, s);
	memcpy(&s->txn, &s->outer, offsetof(struct mbec_txn, spte));
	s->txn.nspte_overflow = 0;
	s->has_outer = false;
	s->open = true;
	return 1;
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
			drop_outer(c, &c->slots[i]);
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

		if (s->open && !s->has_outer && walk_unfinished(&s->txn)) {
			/* An inner walk (see resume_outer): the outer one waits. */
			memcpy(&s->outer, &s->txn, offsetof(struct mbec_txn, spte));
			s->open = false;
			t = open_txn(c, s, h);
			s->has_outer = true;
		} else {
			t = txn_for(c, s, h, MBEC_TXN_WALK | after_walk);
		}
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
		resume_outer(c, s, e->level);
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

		/* The inner walk failed, and with it the outer one: the second error. */
		if (s->open && (s->txn.have & MBEC_TXN_WALK_ERROR))
			resume_outer(c, s, -1);
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

	for (i = 0; i < c->nslots; i++) {
		close_txn(c, &c->slots[i]);
		drop_outer(c, &c->slots[i]);
	}
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
