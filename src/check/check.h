/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The check engine: event records in (from any source: the live ring
 * buffer, a recording, an ftrace text import), verdicts out.  It counts
 * records, joins them into fault transactions (src/correlate), checks each
 * SPTE and exit against the reference model (src/model), and keeps a
 * summary: events by type, transactions, SPTE coverage with reasons,
 * anomalies by class with the first few decoded.
 *
 *	e = mbec_check_new(&opts);
 *	for each record: mbec_check_feed(e, rec, len);
 *	mbec_check_finish(e);
 *	mbec_check_print(e, stdout, verbose);	or mbec_check_print_json()
 *	rc = mbec_check_summary(e)->anomalies_total ? 1 : 0;
 *	mbec_check_free(e);
 */
#ifndef MBEC_CHECK_H
#define MBEC_CHECK_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "mbec_events.h"
#include "mbec_kvm.h"
#include "mbec_model.h"

struct role_layout;

enum mbec_anomaly_class {
	MBEC_AN_ESCALATION,	/* SPTE grants more than the walk allows */
	MBEC_AN_NO_PROGRESS,	/* SPTE does not permit the faulting access; fault loops */
	MBEC_AN_FORMAT,		/* SPTE invariants */
	MBEC_AN_EXIT_QUAL,	/* error code vs exit qualification */
	MBEC_AN_NESTED_INJECT,	/* exit qualification injected into L1 */
	MBEC_AN_ROLE,		/* shadow-page role vs the mode it serves */
	MBEC_AN_NR
};

/* How far an SPTE could be checked. */
enum mbec_coverage {
	MBEC_COV_FULL,		/* every guest entry known: permissions checked */
	MBEC_COV_PARTIAL,	/* upper levels known (role access), leaf entry not */
	MBEC_COV_NONE,		/* only the SPTE's format: no guest information */
	MBEC_COV_NR
};

/* Why an SPTE got the coverage it got. */
enum mbec_cov_reason {
	MBEC_COVR_WALK,		/* full: traced guest walk */
	MBEC_COVR_GUEST_PTE,	/* full: guest entry known (the workload's page tables) */
	MBEC_COVR_GUEST_MEM,	/* full: guest entry read from the VMM's memory */
	MBEC_COVR_MEM_CHANGED,	/* partial: that entry disagrees (changed since?) */
	MBEC_COVR_DIRECT,	/* full/partial: shadow page of a guest large page, role checked */
	MBEC_COVR_PREFETCH,	/* partial/none: prefetched, no traced walk */
	MBEC_COVR_NO_ROLE,	/* none: its shadow page was created before attach */
	MBEC_COVR_LOST,		/* partial/none: records lost around it */
	MBEC_COVR_WALK_SHORT,	/* partial: the traced walk did not reach the leaf */
	MBEC_COVR_NONLEAF,	/* none needed: a non-leaf SPTE grants everything */
	MBEC_COVR_TDP_EPT,	/* full: TDP on EPT maps guest-physical memory, no guest entry */
	MBEC_COVR_TDP_NPT,	/* full: TDP on NPT, likewise */
	MBEC_COVR_FMT_UNKNOWN,	/* none: EPT or legacy not known, only common format rules */
	MBEC_COVR_NR
};

/* Test-only perturbations of the model (the negative control). */
#define MBEC_PERTURB_RO		(1U << 0)	/* every guest page read-only */
#define MBEC_PERTURB_NX		(1U << 1)	/* every guest page execute-disable */

/*
 * Reading guest memory, for SPTEs without a traced walk (prefetch): the
 * engine turns a guest-physical address into the VMM's virtual address
 * with the memslots it learned from spte_requested records, and asks for
 * the 8 bytes there (live: /proc/PID/mem).
 */
struct mbec_guest_reader {
	/* Read 8 bytes at hva in process pid: 0, or -1. */
	int (*read_mem)(void *ctx, uint32_t pid, uint64_t hva, uint64_t *val);
	void *ctx;
};

#define MBEC_CHECK_ALT_MODES	4

struct mbec_check_opts {
	enum mbec_layout layout;	/* KVM ABI layout of the source */
	bool spte_ept;			/* SPTEs are EPT entries (VMX with EPT) */
	/*
	 * Whether SPTEs are EPT or legacy/NPT entries is not known (a capture
	 * that does not say): the engine learns it from the exits it sees,
	 * and until then checks only what holds in both formats.
	 */
	bool spte_fmt_unknown;
	bool mbec;			/* MMU has MBEC/GMET (exit-qual bit 6 defined) */
	unsigned int perturb;		/* MBEC_PERTURB_* (tests only) */
	unsigned int repeat_limit;	/* no-progress: same fault N times (0: 64) */
	unsigned int keep;		/* anomalies kept with evidence per class (0: 3) */
	struct mbec_guest_reader guest;	/* optional */
	const struct role_layout *role;	/* role bit layout for decoding; NULL: built-in */
	/* The guest's CPU mode when the caller knows it (the built-in workload). */
	bool expect_mode_valid;
	struct mbec_mode expect_mode;
	/*
	 * Other modes the guest is known to run in for a while (the
	 * workload's supervisor passes): a role matching one of them is right.
	 */
	struct mbec_mode alt_modes[MBEC_CHECK_ALT_MODES];
	unsigned int nr_alt_modes;
};

#define MBEC_EVIDENCE_LEN	1536

struct mbec_anomaly {
	enum mbec_anomaly_class cls;
	const char *rule;		/* short rule name */
	uint64_t ts_ns;
	uint32_t pid, tid, vm_id, vcpu_id;
	bool has_gfn;			/* it is about one guest frame: */
	uint64_t gfn;			/* that frame */
	char what[192];			/* one line */
	char evidence[MBEC_EVIDENCE_LEN]; /* decoded events and the model's expectation */
};

struct mbec_check_summary {
	uint64_t records;			/* records fed */
	uint64_t bad_records;			/* rejected by mbec_event_validate */
	uint64_t events[MBEC_EV_MAX];		/* records by type */
	uint64_t transactions;
	uint64_t sptes[MBEC_COV_NR];
	uint64_t sptes_total;
	uint64_t cov_reason[MBEC_COV_NR][MBEC_COVR_NR];
	/* SPTEs by the MMU flavour they were checked as; [MBEC_FL_NR]: format unknown */
	uint64_t sptes_flavour[MBEC_FL_NR + 1];
	uint64_t exits_checked;
	/* VMX exits whose qualification came from kvm_page_fault (kvm_exit's was stale) */
	uint64_t exits_qual_from_pf;
	/* exits compared in bits 31:0 only (the kernel's fault error code is 32 bits) */
	uint64_t exits_low32;
	/* VMX exits not checked: kvm_exit's qualification stale and no kvm_page_fault */
	uint64_t exits_unchecked;
	uint64_t injects_checked;
	uint64_t roles_checked;
	uint64_t anomalies[MBEC_AN_NR];
	uint64_t anomalies_total;
	uint64_t lost_events;			/* from MBEC_EV_LOST records */
	/* lost without a LOST record: events whose predecessor never came */
	uint64_t lost_inferred;
	/*
	 * What a rule found in a transaction whose evidence is incomplete
	 * (records lost around it): not anomalies, counted apart by class.
	 */
	uint64_t inconclusive[MBEC_AN_NR];
	uint64_t inconclusive_total;
	uint64_t ts_first, ts_last;
};

struct mbec_check;

struct mbec_check *mbec_check_new(const struct mbec_check_opts *opts);
/* Feed one record of len bytes; -1 when it was rejected (counted). */
int mbec_check_feed(struct mbec_check *e, const void *rec, size_t len);
/* End of stream: close open transactions. */
void mbec_check_finish(struct mbec_check *e);
const struct mbec_check_summary *mbec_check_summary(const struct mbec_check *e);
/* Kept anomalies of a class (at most opts.keep). */
const struct mbec_anomaly *mbec_check_anomalies(const struct mbec_check *e,
						enum mbec_anomaly_class cls, unsigned int *n);
/* The first inconclusive finding (evidence incomplete), NULL when none. */
const struct mbec_anomaly *mbec_check_inconclusive(const struct mbec_check *e);
/* Called for every anomaly as it is found (watch, top). */
void mbec_check_on_anomaly(struct mbec_check *e,
			   void (*fn)(void *ctx, const struct mbec_anomaly *a), void *ctx);
/* Called for every SPTE checked, with the coverage it got (workload page accounting). */
void mbec_check_on_spte(struct mbec_check *e,
			void (*fn)(void *ctx, const struct mbec_ev_set_spte *s,
				   enum mbec_coverage cov), void *ctx);
void mbec_check_free(struct mbec_check *e);

/*
 * Whether the SPTE of (gfn, level) maps part of [gpa, gpa + size): a
 * level-2 SPTE maps 2M from its gfn (TDP maps the guest with those).
 */
bool mbec_spte_covers(uint64_t gfn, int level, uint64_t gpa, uint64_t size);

const char *mbec_anomaly_class_name(enum mbec_anomaly_class cls);
const char *mbec_coverage_name(enum mbec_coverage cov);
const char *mbec_cov_reason_name(enum mbec_cov_reason r);

/*
 * Print the summary (report.c).  Kernel-side counters, when the source has
 * them (live), add "seen in the kernel" and per-type drops; NULL otherwise.
 */
void mbec_check_print(const struct mbec_check *e, const struct mbec_counter *kernel,
		      FILE *f, bool verbose);
void mbec_check_print_json(const struct mbec_check *e, const struct mbec_counter *kernel,
			   FILE *f);
/* The same keys written into an object the caller has opened (to add its own). */
struct json_writer;
void mbec_check_json_body(const struct mbec_check *e, const struct mbec_counter *kernel,
			  struct json_writer *jw);

#endif /* MBEC_CHECK_H */
