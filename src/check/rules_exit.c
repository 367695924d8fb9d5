// SPDX-License-Identifier: GPL-2.0
/*
 * The check engine's rules on what KVM reports of a fault rather than
 * what it maps: the error code KVM derived from the exit (the EPT
 * violation's qualification or the #NPF's EXITINFO1), the same fault
 * taken again and again without progress, and the exits KVM injects into
 * a nested guest hypervisor.  The SPTE, role and format rules are in
 * rules.c and format.c.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "check/check_internal.h"
#include "mbec_model.h"

#define PFERR_CHECKED	(PFERR_PRESENT | PFERR_WRITE | PFERR_USER | PFERR_FETCH | \
			 PFERR_GUEST_FINAL | PFERR_GUEST_PAGE)
#define NPF_CHECKED	(PFERR_PRESENT | PFERR_WRITE | PFERR_RSVD | PFERR_FETCH | \
			 PFERR_GUEST_FINAL | PFERR_GUEST_PAGE)

/* ---- exit qualification ------------------------------------------------- */

/*
 * On VMX the qualification that kvm_exit's probe read from struct
 * vcpu_vmx may be the previous exit's (KVM reads the VMCS field lazily,
 * after kvm_exit): then the current one is what KVM passed to
 * kvm_page_fault, which on an EPT violation is the raw qualification.
 * SVM's VMCB is current at kvm_exit.  A kernel whose fault->error_code is
 * 32 bits (6.1) cannot carry bits 32 and up: only bits 31:0 are compared.
 */
/*
 * Whether the MMU that took an EPT violation uses MBEC: KVM's flag, or for
 * L2 on a shadow EPT MMU what the role of the SPTE the fault installed
 * says (shadow_ept_mbec); the flag when it installed none.
 */
static bool exit_mmu_mbec(struct mbec_check *e, const struct mbec_txn *t)
{
	struct sp_info *sp;
	bool stale;

	if (!e->opts.mbec || !t->nspte)
		return e->opts.mbec;
	sp = ck_sp_of(e, t->spte[0].sptep, &stale);
	if (!sp || stale || ck_flavour_of(e, sp, t) != MBEC_FL_SHADOW_EPT)
		return e->opts.mbec;
	return ck_shadow_ept_mbec(e, sp);
}

void ck_check_exit_qual(struct mbec_check *e, const struct mbec_txn *t)
{
	const struct mbec_ev_exit *x = &t->exit;
	struct evbuf b;
	uint64_t want, got = t->req.error_code, mask, qual = x->info1;
	bool stale = (x->flags & MBEC_EXIT_VMX) && !(x->flags & MBEC_EXIT_INFO1_FRESH);
	bool derived = t->req.flags & MBEC_FAULT_DERIVED;
	bool ec32 = (t->have & MBEC_TXN_REQ) && (t->req.flags & MBEC_FAULT_EC32);
	const char *rule = NULL;
	bool mbec = e->opts.mbec;
	char d[320];

	ev_init(&b);
	if (!(t->have & MBEC_TXN_EXIT) || !(x->flags & MBEC_EXIT_HAS_INFO))
		return;
	if ((x->flags & MBEC_EXIT_VMX) && x->reason == EXIT_REASON_EPT_VIOLATION) {
		mbec = exit_mmu_mbec(e, t);
		if (stale) {
			if (!(t->have & MBEC_TXN_PF)) {
				e->sum.exits_unchecked++;
				return;
			}
			qual = t->pf.error_code;
			e->sum.exits_qual_from_pf++;
		}
		e->sum.exits_checked++;
		if (!stale && (t->have & MBEC_TXN_PF) && t->pf.error_code != x->info1)
			rule = "kvm_page_fault's error_code is not the exit qualification";
		/*
		 * An importer that derived the error code from this very exit
		 * qualification (ftrace text does not print it) would only
		 * compare the model with itself.
		 */
		if (!rule && (t->have & MBEC_TXN_REQ) && !derived) {
			want = mbec_kvm_exit_qual_to_pfec(e->opts.layout, mbec, qual);
			mask = PFERR_CHECKED;
			if (ec32) {
				mask &= 0xffffffffULL;
				e->sum.exits_low32++;
			}
			if (!mbec && (qual & EPT_VIOL_PROT_USER_EXEC) &&
			    !(qual & EPT_VIOL_PROT_RWX) && (got & PFERR_PRESENT))
				rule = "undefined exit-qualification bit 6 used (MBEC off)";
			else if ((want ^ got) & mask)
				rule = "error code differs from the one the exit qualification gives";
			if (rule)
				ev_add(&b, "  model: error code %s%s\n",
				       ck_decode(e, DECODE_PFEC, want, false, d, sizeof(d)),
				       ec32 ? " (bits 31:0 compared: the kernel's is 32 bits)" : "");
		}
	} else if ((x->flags & MBEC_EXIT_SVM) && x->reason == SVM_EXIT_NPF) {
		e->sum.exits_checked++;
		mask = NPF_CHECKED;
		if (ec32) {
			mask &= 0xffffffffULL;
			e->sum.exits_low32++;
		}
		if ((t->have & MBEC_TXN_REQ) && !derived && ((x->info1 ^ got) & mask))
			rule = ec32 ? "error code differs from #NPF EXITINFO1 in bits 31:0" :
				      "error code differs from #NPF EXITINFO1";
	}
	if (!rule)
		return;
	if (stale)
		ev_add(&b, "  the qualification is kvm_page_fault's: kvm_exit's copy was not read "
		       "for this exit yet\n");
	ck_ev_txn(e, &b, t, MBEC_FL_TDP_EPT);
	ck_anomaly(e, MBEC_AN_EXIT_QUAL, "exit-qual-pfec", &x->hdr, CK_NO_GFN, b.buf,
		   "%s (qualification 0x%" PRIx64 ", error code 0x%" PRIx64 ")", rule, qual, got);
}

/* ---- no-progress: the same fault again and again ------------------------ */

/*
 * How long one fault may be left to the guest to retry before it is a
 * loop: an invalidation that holds a retry lasts micro- to milliseconds
 * (about 100 ms seen under QEMU's emulation, with two vCPUs zapping on
 * one emulated CPU); a stuck one lasts for ever.
 */
#define RETRY_SPAN_NS	(5ULL * 1000 * 1000 * 1000)

/*
 * One more fault in @row; true when it is past the limit and not yet
 * reported.  "In a row" needs every fault between: after records were
 * lost the same fault seen again may have had others in between (a pass
 * of distinct pages whose first fault is all that fits in the buffer), so
 * the count starts over.
 */
static bool row_step(struct mbec_check *e, struct fault_row *row, uint64_t addr, uint64_t ec,
		     uint64_t mark, uint64_t ts, uint64_t span_ns)
{
	if (row->count && row->addr == addr && row->error_code == ec && row->loss_mark == mark) {
		row->count++;
	} else {
		row->addr = addr;
		row->error_code = ec;
		row->count = 1;
		row->first_ns = ts;
		row->reported = false;
	}
	row->loss_mark = mark;
	if (row->count < e->repeat_limit || row->reported || ts - row->first_ns < span_ns)
		return false;
	row->reported = true;
	return true;
}

void ck_check_repeat(struct mbec_check *e, const struct mbec_txn *t)
{
	const struct mbec_event_hdr *h;
	struct repeat *r = NULL;
	uint64_t addr, ec, mark = e->epoch + e->sum.lost_inferred;
	struct evbuf b;
	size_t i;

	ev_init(&b);
	if (!(t->have & (MBEC_TXN_PF | MBEC_TXN_REQ)) || (t->have & MBEC_TXN_WALK_ERROR))
		return;
	addr = (t->have & MBEC_TXN_PF) ? t->pf.address : t->req.addr;
	ec = (t->have & MBEC_TXN_PF) ? t->pf.error_code : t->req.error_code;
	for (i = 0; i < e->nrepeats; i++)
		if (e->repeats[i].tid == t->tid)
			r = &e->repeats[i];
	if (!r) {
		struct repeat *n = realloc(e->repeats, (e->nrepeats + 1) * sizeof(*n));

		if (!n)
			return;
		e->repeats = n;
		r = &e->repeats[e->nrepeats++];
		memset(r, 0, sizeof(*r));
		r->tid = t->tid;
	}
	/*
	 * Only faults KVM set out to fix count here.  Where spte_requested
	 * is traced, a fault without it (and without fast_page_fault) was
	 * left to the guest to retry or emulated: RET_PF_RETRY while an
	 * invalidation of guest memory is under way (one vCPU retries for as
	 * long as another thread's madvise zaps), an MMIO access.  Those
	 * repeat by design and end with what they wait for: they neither
	 * count nor break a row, but are counted apart, and a retry that
	 * goes on for RETRY_SPAN_NS is KVM's loop all the same.
	 */
	h = (t->have & MBEC_TXN_PF) ? &t->pf.hdr : &t->req.hdr;
	if (e->sum.events[MBEC_EV_SPTE_REQUESTED] && !(t->have & (MBEC_TXN_REQ | MBEC_TXN_FAST))) {
		if (!row_step(e, &r->retried, addr, ec, mark, h->ts_ns, RETRY_SPAN_NS))
			return;
		ck_ev_txn(e, &b, t, ck_flavour_of(e, NULL, t));
		ck_anomaly(e, MBEC_AN_NO_PROGRESS, "fault-retried", h, CK_NO_GFN, b.buf,
			   "vCPU %u: KVM left the fault on 0x%" PRIx64 " (error code 0x%" PRIx64 ") "
			   "to be retried %u times over %" PRIu64 " ms, never fixing it", t->vcpu_id,
			   addr, ec, r->retried.count, (h->ts_ns - r->retried.first_ns) / 1000000);
		return;
	}
	if (!row_step(e, &r->fixed, addr, ec, mark, h->ts_ns, 0))
		return;
	ck_ev_txn(e, &b, t, ck_flavour_of(e, NULL, t));
	ck_anomaly(e, MBEC_AN_NO_PROGRESS, "fault-repeats", h, CK_NO_GFN, b.buf,
		   "vCPU %u faulted on 0x%" PRIx64 " with error code 0x%" PRIx64
		   " %u times in a row", t->vcpu_id, addr, ec, r->fixed.count);
}

/* ---- nested injection ------------------------------------------------- */

void ck_nested_inject(struct mbec_check *e, const struct mbec_ev_nested_inject *n)
{
	uint64_t q = n->exit_info1;
	const char *rule = NULL;
	struct evbuf b;
	bool valid = q & EPT_VIOL_GVA_IS_VALID, translated = q & EPT_VIOL_GVA_TRANSLATED;
	char d[320];

	ev_init(&b);
	if (n->isa == 1 && n->exit_code == EXIT_REASON_EPT_VIOLATION) {
		e->sum.injects_checked++;
		if (q & ~EPT_VIOL_DEFINED_MASK)
			rule = "bits above 16 set";
		else if (!(q & EPT_VIOL_ACC_MASK))
			rule = "no access bit (2:0) set";
		else if ((q & EPT_VIOL_ACC_INSTR) && (q & (EPT_VIOL_ACC_READ | EPT_VIOL_ACC_WRITE)))
			rule = "a fetch reported together with a data access";
		else if (translated && !valid)
			rule = "GVA_TRANSLATED without GVA_IS_VALID";
		else if ((q & EPT_VIOL_ADVANCED) && !(valid && translated))
			rule = "advanced information (bits 9-11) without a translated linear address";
		else if ((q & EPT_VIOL_PROT_USER_EXEC) && !e->opts.mbec)
			rule = "bit 6 (user-exec permission) set without MBEC";
		else if (valid && !translated &&
			 ((q & EPT_VIOL_ACC_INSTR) || !(q & EPT_VIOL_ACC_READ)))
			rule = "paging-structure access not reported as a read (or read+write)";
		if (rule)
			ev_add(&b, "  injected qualification: %s\n",
			       ck_decode(e, DECODE_EXIT_QUAL, q, false, d, sizeof(d)));
	} else if (n->isa == 2 && n->exit_code == SVM_EXIT_NPF) {
		e->sum.injects_checked++;
		if ((q & PFERR_GUEST_FINAL) && (q & PFERR_GUEST_PAGE))
			rule = "#NPF EXITINFO1 reports both a final and a paging-structure access";
		if (rule)
			ev_add(&b, "  injected EXITINFO1: %s\n",
			       ck_decode(e, DECODE_NPF, q, false, d, sizeof(d)));
	}
	if (!rule)
		return;
	ev_add(&b, "  exit_code 0x%x info2 0x%" PRIx64 " int_info 0x%x\n", n->exit_code,
	       n->exit_info2, n->exit_int_info);
	ck_anomaly(e, MBEC_AN_NESTED_INJECT, "nested-qual", &n->hdr, CK_NO_GFN, b.buf,
		   "injected exit qualification 0x%" PRIx64 ": %s", q, rule);
}
