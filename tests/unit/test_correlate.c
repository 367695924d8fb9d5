// SPDX-License-Identifier: GPL-2.0
/*
 * The event record helpers and the fault-transaction correlator, fed
 * synthetic records: which events join one transaction, which start a new
 * one, per thread, and what lost records do.
 */
#include <string.h>

#include "correlate/correlate.h"
#include "mbec_events.h"
#include "tap.h"

#define MAX_SEEN 16

static struct mbec_txn seen[MAX_SEEN];
static int nseen;

static void on_txn(void *ctx, const struct mbec_txn *t)
{
	(void)ctx;
	if (nseen < MAX_SEEN)
		seen[nseen] = *t;
	nseen++;
}

static void hdr(struct mbec_event_hdr *h, unsigned int type, size_t size, uint32_t tid,
		uint64_t ts)
{
	memset(h, 0, size);
	h->type = type;
	h->size = size;
	h->pid = 100;
	h->tid = tid;
	h->ts_ns = ts;
	h->vcpu_id = MBEC_VCPU_UNKNOWN;
}

static void walk(struct mbec_correlate *c, uint32_t tid, uint64_t addr, uint32_t pferr)
{
	struct mbec_ev_walk w;

	hdr(&w.hdr, MBEC_EV_PAGETABLE_WALK, sizeof(w), tid, 1);
	w.addr = addr;
	w.pferr = pferr;
	mbec_correlate_feed(c, &w.hdr);
}

static void elem(struct mbec_correlate *c, uint32_t tid, uint64_t pte, int level)
{
	struct mbec_ev_paging_element e;

	hdr(&e.hdr, MBEC_EV_PAGING_ELEMENT, sizeof(e), tid, 2);
	e.pte = pte;
	e.level = level;
	mbec_correlate_feed(c, &e.hdr);
}

static void req(struct mbec_correlate *c, uint32_t tid, uint64_t gfn, uint64_t ec)
{
	struct mbec_ev_spte_requested r;

	hdr(&r.hdr, MBEC_EV_SPTE_REQUESTED, sizeof(r), tid, 3);
	r.addr = gfn << 12;
	r.gfn = gfn;
	r.error_code = ec;
	mbec_correlate_feed(c, &r.hdr);
}

static void werr(struct mbec_correlate *c, uint32_t tid, uint32_t pferr)
{
	struct mbec_ev_walker_error w;

	hdr(&w.hdr, MBEC_EV_WALKER_ERROR, sizeof(w), tid, 2);
	w.pferr = pferr;
	mbec_correlate_feed(c, &w.hdr);
}

static void spte(struct mbec_correlate *c, uint32_t tid, uint64_t gfn, uint64_t v)
{
	struct mbec_ev_set_spte s;

	hdr(&s.hdr, MBEC_EV_SET_SPTE, sizeof(s), tid, 4);
	s.gfn = gfn;
	s.spte = v;
	s.level = 1;
	s.sptep = 0xffff888000001000ULL + (gfn & 0x1ff) * 8;
	mbec_correlate_feed(c, &s.hdr);
}

static void test_records(void)
{
	struct mbec_ev_set_spte s;
	struct mbec_ev_lost l;
	char big[128];

	hdr(&s.hdr, MBEC_EV_SET_SPTE, sizeof(s), 1, 1);
	ok(!mbec_event_validate(&s, sizeof(s)), "a whole set_spte record validates");
	ok(mbec_event_validate(&s, sizeof(s) - 8) == -1, "a record longer than its buffer is refused");
	s.hdr.size = sizeof(s) - 8;
	ok(mbec_event_validate(&s, sizeof(s)) == -1, "a set_spte shorter than its type is refused");
	s.hdr.size = 36;
	ok(mbec_event_validate(&s, sizeof(s)) == -1, "a size that is not a multiple of 8 is refused");
	hdr((struct mbec_event_hdr *)big, 200, 64, 1, 1);
	ok(!mbec_event_validate(big, sizeof(big)), "an unknown type is accepted (skipped by size)");
	hdr(&l.hdr, MBEC_EV_NONE, sizeof(l), 1, 1);
	ok(mbec_event_validate(&l, sizeof(l)) == -1, "type 0 is refused");
	ok(mbec_event_validate(NULL, 0) == -1, "NULL is refused");
	ok(!strcmp(mbec_event_name(MBEC_EV_SET_SPTE), "set_spte") &&
	   !strcmp(mbec_event_name(MBEC_EV_MAX), "?"), "event names");
}

static void test_fault_joins(void)
{
	struct mbec_correlate *c = mbec_correlate_new(on_txn, NULL);
	struct mbec_ev_page_fault pf;

	nseen = 0;
	hdr(&pf.hdr, MBEC_EV_PAGE_FAULT, sizeof(pf), 7, 0);
	pf.hdr.vcpu_id = 3;
	pf.address = 0x1000;
	pf.error_code = 6;
	mbec_correlate_feed(c, &pf.hdr);
	walk(c, 7, 0x1000, 6);
	elem(c, 7, 0x2027, 4);
	elem(c, 7, 0x3027, 3);
	elem(c, 7, 0x4027, 2);
	elem(c, 7, 0x5067, 1);
	req(c, 7, 0x5, 6);
	spte(c, 7, 0x5, 0xa07);
	spte(c, 7, 0x6, 0xa05);		/* prefetch */
	ok(nseen == 0, "nothing closes while the fault is still open");
	mbec_correlate_flush(c);
	ok(nseen == 1, "one fault is one transaction");
	ok(seen[0].have == (MBEC_TXN_PF | MBEC_TXN_WALK | MBEC_TXN_REQ | MBEC_TXN_SPTE),
	   "it has the fault, the walk, the request and the SPTEs");
	ok(seen[0].nelem == 4 && seen[0].pte_level[0] == 4 && seen[0].pte[3] == 0x5067,
	   "the walk's entries, top level first");
	ok(seen[0].nspte == 2 && seen[0].spte[1].gfn == 0x6, "the prefetched SPTE joins too");
	ok(seen[0].vcpu_id == 3 && seen[0].seq == 1, "vCPU id and sequence number");
	ok(!seen[0].incomplete, "complete");
	mbec_correlate_free(c);
}

static void test_boundaries(void)
{
	struct mbec_correlate *c = mbec_correlate_new(on_txn, NULL);
	struct mbec_ev_lost l;

	nseen = 0;
	/* Two faults back to back on one thread. */
	walk(c, 1, 0x1000, 4);
	elem(c, 1, 0x1025, 1);
	req(c, 1, 1, 4);
	spte(c, 1, 1, 0xa05);
	walk(c, 1, 0x2000, 4);
	ok(nseen == 1, "a walk after set_spte starts the next transaction");
	/* A walk that faults in the guest and a new walk. */
	elem(c, 1, 0x0, 4);
	walk(c, 1, 0x3000, 4);
	ok(nseen == 2, "a second walk closes a walk-only transaction");
	/* Interleaved threads keep their own transactions. */
	walk(c, 2, 0x9000, 2);
	elem(c, 1, 0x3025, 1);
	elem(c, 2, 0x9027, 1);
	req(c, 2, 9, 2);
	req(c, 1, 3, 4);
	spte(c, 2, 9, 0xa07);
	spte(c, 1, 3, 0xa05);
	ok(nseen == 2, "other threads' events do not close a transaction");
	/* An element with no walk before it. */
	elem(c, 3, 0x1, 1);
	/* Lost records close everything open, as incomplete. */
	hdr(&l.hdr, MBEC_EV_LOST, sizeof(l), 0, 9);
	l.count = 5;
	mbec_correlate_feed(c, &l.hdr);
	ok(nseen == 5, "lost records close all open transactions");
	ok(seen[2].incomplete && seen[3].incomplete && seen[4].incomplete,
	   "and mark them incomplete");
	ok(seen[2].tid == 1 && seen[2].nelem == 1 && seen[2].nspte == 1 &&
	   seen[2].spte[0].gfn == 3, "thread 1's transaction got its own events");
	ok(seen[3].tid == 2 && seen[3].nspte == 1 && seen[3].spte[0].gfn == 9,
	   "thread 2's transaction got its own events");
	ok(seen[4].tid == 3 && seen[4].walk_addr == 0 && seen[4].nelem == 1,
	   "an element without a walk opens a walk of unknown address");
	/* A set_spte with no fault open (e.g. after a lost request). */
	spte(c, 1, 0x77, 0xa05);
	mbec_correlate_flush(c);
	ok(nseen == 6 && seen[5].have == MBEC_TXN_SPTE, "a lone set_spte is a transaction");
	ok(mbec_correlate_count(c) == 6, "count of closed transactions");
	mbec_correlate_free(c);
}

static void test_lost_walk_start(void)
{
	struct mbec_correlate *c = mbec_correlate_new(on_txn, NULL);

	nseen = 0;
	/* An emulation walk without a fault, then a fault whose walk record was lost. */
	walk(c, 1, 0x1000, 0);
	elem(c, 1, 0x2027, 4);
	elem(c, 1, 0x3027, 3);
	elem(c, 1, 0x4027, 2);
	elem(c, 1, 0x5025, 1);
	elem(c, 1, 0x6027, 4);	/* the next walk's top entry: its walk record was lost */
	elem(c, 1, 0x7007, 1);
	req(c, 1, 7, 6);
	mbec_correlate_flush(c);
	ok(nseen == 2 && seen[0].nelem == 4 && !seen[0].incomplete,
	   "a walk ends where the levels stop going down");
	ok(seen[1].nelem == 2 && seen[1].incomplete && (seen[1].have & MBEC_TXN_REQ),
	   "the entries after it open an incomplete walk of their own");
	mbec_correlate_free(c);
}

static void test_overflow(void)
{
	struct mbec_correlate *c = mbec_correlate_new(on_txn, NULL);
	int i;

	nseen = 0;
	req(c, 1, 1, 4);
	for (i = 0; i < MBEC_TXN_MAX_SPTE + 5; i++)
		spte(c, 1, i + 1, 0xa05);
	walk(c, 4, 0x1000, 0);
	for (i = 0; i < MBEC_TXN_MAX_ELEM + 3; i++)
		elem(c, 4, 0x27, 20 - i);
	mbec_correlate_flush(c);
	ok(nseen == 2 && seen[0].nspte == MBEC_TXN_MAX_SPTE && seen[0].nspte_overflow == 5,
	   "SPTEs beyond the transaction's room are counted, not lost silently");
	ok(seen[1].nelem == MBEC_TXN_MAX_ELEM && seen[1].incomplete,
	   "too many walk entries mark the transaction incomplete");
	mbec_correlate_free(c);
}

/*
 * KVM walking L2's page tables under nested paging (from a lab run, QEMU
 * with GMET, our series): each table address goes through L1's nested
 * tables in a walk of its own, traced inside the outer walk.
 */
static void test_nested_walk(void)
{
	struct mbec_correlate *c = mbec_correlate_new(on_txn, NULL);

	nseen = 0;
	walk(c, 1, 0x110011e, 0x14);		/* L2 fetch: the outer walk */
	walk(c, 1, 0x1104000, 0x6);		/* its root table, translated */
	elem(c, 1, 0x1011027, 4);
	elem(c, 1, 0x1012027, 3);
	elem(c, 1, 0x1013027, 2);
	elem(c, 1, 0x1104067, 1);
	elem(c, 1, 0x1105027, 4);		/* the outer walk goes on */
	walk(c, 1, 0x1105000, 0x6);
	elem(c, 1, 0x1011027, 4);
	elem(c, 1, 0x1012027, 3);
	elem(c, 1, 0x10000e7, 2);		/* a 2M leaf ends this inner walk */
	elem(c, 1, 0x1106027, 3);
	elem(c, 1, 0x1107027, 2);
	elem(c, 1, 0x1100025, 1);
	req(c, 1, 0x1100, 0x14);
	mbec_correlate_flush(c);
	ok(nseen == 3 && mbec_correlate_inferred_lost(c) == 0,
	   "inner walks of a nested translation are no lost records (%d transactions, "
	   "%llu inferred lost)", nseen, (unsigned long long)mbec_correlate_inferred_lost(c));
	ok(seen[0].walk_addr == 0x1104000 && seen[0].nelem == 4 && !seen[0].incomplete &&
	   seen[1].walk_addr == 0x1105000 && seen[1].nelem == 3 && !seen[1].incomplete,
	   "each inner walk is a transaction of its own, whole");
	ok(seen[2].walk_addr == 0x110011e && seen[2].nelem == 4 && !seen[2].incomplete &&
	   seen[2].pte_level[0] == 4 && seen[2].pte_level[3] == 1 && (seen[2].have & MBEC_TXN_REQ),
	   "the outer walk keeps its address, its four entries and its fault");

	/* A hole in the outer walk: an entry that does not go on from it is still a loss. */
	nseen = 0;
	walk(c, 2, 0x2000, 0x4);
	elem(c, 2, 0x3027, 4);
	walk(c, 2, 0x3000, 0x6);
	elem(c, 2, 0x4027, 4);
	elem(c, 2, 0x5025, 1);
	elem(c, 2, 0x6027, 4);			/* not below the outer's level 4 */
	mbec_correlate_flush(c);
	ok(mbec_correlate_inferred_lost(c) == 1 && nseen == 3 && seen[1].walk_addr == 0x2000 &&
	   seen[1].incomplete && seen[2].incomplete && seen[2].walk_addr == 0,
	   "an entry that continues neither walk is counted lost and the outer one incomplete");

	/* The inner walk fails, then the outer one with it. */
	nseen = 0;
	walk(c, 3, 0x2000, 0x4);
	elem(c, 3, 0x3027, 4);
	walk(c, 3, 0x3000, 0x6);
	elem(c, 3, 0x4026, 4);
	werr(c, 3, 0x5);
	werr(c, 3, 0x15);
	mbec_correlate_flush(c);
	ok(nseen == 2 && seen[0].walk_addr == 0x3000 && seen[0].walker_error_pferr == 0x5 &&
	   seen[1].walk_addr == 0x2000 && seen[1].walker_error_pferr == 0x15 &&
	   !seen[1].incomplete && mbec_correlate_inferred_lost(c) == 1,
	   "the second walker error belongs to the outer walk");
	mbec_correlate_free(c);
}

int main(void)
{
	test_records();
	test_fault_joins();
	test_boundaries();
	test_lost_walk_start();
	test_overflow();
	test_nested_walk();
	return done_testing();
}
