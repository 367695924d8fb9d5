/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Synthetic events for the check engine's unit tests: one header, one
 * requested access and one SPTE write, fed straight into an engine.  The
 * tests of the rules (test_check.c) and of the MMU flavours
 * (test_check_flavours.c) build their sequences from these.
 */
#ifndef MBEC_TESTS_CHECK_FEED_H
#define MBEC_TESTS_CHECK_FEED_H

#include <string.h>

#include "check/check.h"
#include "mbec_events.h"

#define SPT	0xffff888100000000ULL	/* a shadow page's table */
#define PID	4242
#define TID	4243

/* Every event gets the next timestamp, so the engine sees them in order. */
static uint64_t now = 1000;

static inline void hdr(struct mbec_event_hdr *h, unsigned int type, size_t size)
{
	memset(h, 0, size);
	h->type = type;
	h->size = size;
	h->pid = PID;
	h->tid = TID;
	h->ts_ns = now++;
}

/* kvm_mmu_spte_requested for a 4K mapping of gfn, with error code ec. */
static inline void req(struct mbec_check *e, uint64_t gfn, uint64_t ec, uint16_t flags)
{
	struct mbec_ev_spte_requested r;

	hdr(&r.hdr, MBEC_EV_SPTE_REQUESTED, sizeof(r));
	r.addr = gfn << 12;
	r.gfn = gfn;
	r.error_code = ec;
	r.flags = flags | MBEC_FAULT_MAP_WRITABLE;
	r.max_level = r.req_level = r.goal_level = 1;
	mbec_check_feed(e, &r, sizeof(r));
}

/* kvm_mmu_set_spte of a 4K SPTE for gfn in the table at spt. */
static inline void set_spte_at(struct mbec_check *e, uint64_t spt, uint64_t gfn, uint64_t spte)
{
	struct mbec_ev_set_spte s;

	hdr(&s.hdr, MBEC_EV_SET_SPTE, sizeof(s));
	s.level = 1;
	s.gfn = gfn;
	s.spte = spte | (0x5000ULL + gfn) << 12;
	s.sptep = spt + (gfn & 0x1ff) * 8;
	mbec_check_feed(e, &s, sizeof(s));
}

#endif
