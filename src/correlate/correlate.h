/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Events -> fault transactions.  Per vCPU thread, the events KVM emits
 * while it handles one fault are joined into one transaction:
 *
 *   kvm_exit (EPT violation / NPF) -> kvm_page_fault -> guest walk
 *   (pagetable_walk, paging_element..., walker_error) -> spte_requested
 *   -> set_spte (the faulting SPTE, then any prefetched ones)
 *
 * and fast_page_fault on its own.  A transaction closes when the next one
 * starts on the same thread, when records were lost (it is then marked
 * incomplete), or at the end of the stream.  The correlator is fed record
 * by record and does not care where the records come from.
 */
#ifndef MBEC_CORRELATE_H
#define MBEC_CORRELATE_H

#include <stdbool.h>
#include <stdint.h>

#include "mbec_events.h"

#define MBEC_TXN_MAX_ELEM	6	/* guest walk: 5 levels + a spare */
#define MBEC_TXN_MAX_SPTE	24	/* faulting SPTE + prefetched ones */

/* struct mbec_txn.have */
#define MBEC_TXN_EXIT		(1U << 0)
#define MBEC_TXN_PF		(1U << 1)
#define MBEC_TXN_FAST		(1U << 2)
#define MBEC_TXN_WALK		(1U << 3)
#define MBEC_TXN_WALK_ERROR	(1U << 4)
#define MBEC_TXN_REQ		(1U << 5)
#define MBEC_TXN_SPTE		(1U << 6)

struct mbec_txn {
	uint64_t seq;			/* 1, 2, ... in closing order */
	uint32_t pid, tid, vm_id, vcpu_id;
	uint64_t ts_first, ts_last;
	unsigned int have;		/* MBEC_TXN_* */
	bool incomplete;		/* records were lost while it was open */
	struct mbec_ev_exit exit;
	struct mbec_ev_page_fault pf;
	struct mbec_ev_fast_page_fault fast;
	uint64_t walk_addr;
	uint32_t walk_pferr;
	uint32_t walker_error_pferr;
	int nelem;			/* guest entries, top level first */
	uint64_t pte[MBEC_TXN_MAX_ELEM];
	int pte_level[MBEC_TXN_MAX_ELEM];
	struct mbec_ev_spte_requested req;
	int nspte;
	/* Only spte[0, nspte) is defined: the rest is not cleared (last fields). */
	struct mbec_ev_set_spte spte[MBEC_TXN_MAX_SPTE];
	unsigned int nspte_overflow;	/* set_sptes that did not fit */
};

struct mbec_correlate;

/* on_txn sees each closed transaction once; it must not keep the pointer. */
struct mbec_correlate *mbec_correlate_new(void (*on_txn)(void *ctx, const struct mbec_txn *t),
					  void *ctx);

/*
 * Feed one validated record.  Returns 1 when the record belongs to a
 * transaction, 0 when it does not (get_page, tdp_spte_changed, ...: the
 * caller handles those).  MBEC_EV_LOST closes every open transaction as
 * incomplete.
 */
int mbec_correlate_feed(struct mbec_correlate *c, const struct mbec_event_hdr *rec);

/* Close every open transaction (end of stream). */
void mbec_correlate_flush(struct mbec_correlate *c);

/* Transactions closed so far. */
uint64_t mbec_correlate_count(const struct mbec_correlate *c);

/*
 * Records that must have been lost although no LOST record said so (a
 * paging element or walker error without its walk): at least one per
 * such hole.
 */
uint64_t mbec_correlate_inferred_lost(const struct mbec_correlate *c);

void mbec_correlate_free(struct mbec_correlate *c);

#endif /* MBEC_CORRELATE_H */
