/* SPDX-License-Identifier: GPL-2.0 */
/* Inside the check engine: shared by check.c, rules.c and report.c. */
#ifndef MBEC_CHECK_INTERNAL_H
#define MBEC_CHECK_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "check/check.h"
#include "correlate/correlate.h"
#include "decode/decode.h"

#define MBEC_CHECK_KEEP_MAX	16

struct u64map {
	uint64_t *keys;
	void *vals;
	size_t vsize, cap, n;
};

void *u64map_get(const struct u64map *m, uint64_t key);
/* The value for key, created zeroed when new; NULL on ENOMEM or key 0. */
void *u64map_put(struct u64map *m, uint64_t key);
void u64map_free(struct u64map *m);

/* A shadow page as kvm_mmu_get_page showed it. */
struct sp_info {
	struct mbec_ev_get_page ev;
	bool role_verified;	/* role.access matched a traced walk */
	unsigned int epoch;	/* mbec_check.epoch when seen */
};

/* Per vCPU thread: the last fault, for the repeat rule. */
/* The same fault of one vCPU, in a row. */
struct fault_row {
	uint64_t addr, error_code;
	uint64_t first_ns;	/* time of its first fault */
	uint64_t loss_mark;	/* losses seen (announced + inferred) at its last fault */
	unsigned int count;
	bool reported;
};

struct repeat {
	uint32_t tid;
	struct fault_row fixed;		/* faults KVM set out to fix */
	struct fault_row retried;	/* faults it left to be retried (no spte_requested) */
};

/* A memslot of a VMM process, learned from spte_requested. */
struct memslot {
	uint32_t pid;
	uint64_t base_gfn, npages, hva;
};

/* The SPTEs' format: from the options, or learned from the stream's exits. */
enum spte_fmt {
	SPTE_FMT_IS_LEGACY,	/* legacy paging entries (shadow paging, NPT) */
	SPTE_FMT_IS_EPT,	/* EPT entries (VMX with EPT) */
	SPTE_FMT_IS_UNKNOWN,	/* either: only what holds in both is checked */
};

struct mbec_check {
	struct mbec_check_opts opts;
	enum spte_fmt fmt;
	unsigned int keep, repeat_limit;
	struct mbec_correlate *corr;
	struct mbec_check_summary sum;
	/*
	 * Bumped by every LOST record: a shadow page seen before records
	 * were lost may have been freed and its table reused since (its
	 * kvm_mmu_get_page lost), so it is not trusted any more.
	 */
	unsigned int epoch;
	struct u64map sps;		/* sp->spt -> struct sp_info */
	struct u64map wp_gfns;		/* (pid, gfn) of shadowed guest tables -> count */
	struct u64map guest_ptes;	/* (pid, entry gpa) -> uint64_t pte */
	struct repeat *repeats;
	size_t nrepeats;
	struct memslot *slots;
	size_t nslots;
	/* Set while the rules judge a transaction with records lost around it. */
	bool judging_incomplete;
	struct mbec_anomaly inconclusive_first;
	struct mbec_anomaly kept[MBEC_AN_NR][MBEC_CHECK_KEEP_MAX];
	unsigned int nkept[MBEC_AN_NR];
	void (*on_anomaly)(void *ctx, const struct mbec_anomaly *a);
	void *on_anomaly_ctx;
	void (*on_spte)(void *ctx, const struct mbec_ev_set_spte *s, enum mbec_coverage cov);
	void *on_spte_ctx;
	/*
	 * The permission bitmask last computed and what it was computed for:
	 * a VM's SPTEs nearly all share one flavour and mode, and computing
	 * the 16 entries for each SPTE was a tenth of a replay.
	 */
	struct perm_cache {
		bool valid;
		enum mbec_layout layout;
		enum mbec_flavour fl;
		struct mbec_mode mode;
		uint16_t perms[16];
	} perm_cache;
};

static inline uint64_t wp_key(uint32_t pid, uint64_t gfn_or_gpa)
{
	/* Never 0 (the map's empty key): the pid goes on top. */
	return ((uint64_t)pid << 44) ^ gfn_or_gpa ^ (1ULL << 63);
}

struct evbuf {
	char buf[MBEC_EVIDENCE_LEN];
	size_t len;
};

/*
 * Start an empty evidence buffer.  Not an initializer: "= { .len = 0 }"
 * clears all 1.5 KiB, and the rules set one up for every SPTE and fault
 * although evidence is only written when one fires.
 */
static inline void ev_init(struct evbuf *b)
{
	b->len = 0;
	b->buf[0] = 0;
}

void ev_add(struct evbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* gfn: the guest frame the anomaly is about, CK_NO_GFN when none. */
#define CK_NO_GFN	UINT64_MAX
void ck_anomaly(struct mbec_check *e, enum mbec_anomaly_class cls, const char *rule,
		const struct mbec_event_hdr *h, uint64_t gfn, const char *evidence,
		const char *fmt, ...)
	__attribute__((format(printf, 7, 8)));

/* "0x... (NAME|...)" through src/decode; ept selects the SPTE format. */
const char *ck_decode(const struct mbec_check *e, enum decode_kind kind, uint64_t v, bool ept,
		      char *buf, size_t len);
/* ACC letters ("wux" / "rwux" style). */
const char *ck_acc(const struct mbec_check *e, unsigned int acc, char *buf);

/* format.c */
enum spte_fmt ck_fmt_of(const struct mbec_check *e, const struct sp_info *sp);
enum mbec_flavour ck_flavour_of(const struct mbec_check *e, const struct sp_info *sp,
				const struct mbec_txn *t);
const char *ck_spte_str(const struct mbec_check *e, enum spte_fmt fmt, uint64_t v, char *buf,
			size_t len);
int ck_check_format(struct mbec_check *e, enum spte_fmt fmt, enum mbec_flavour fl, uint64_t v,
		    bool leaf, const struct mbec_event_hdr *h, const struct mbec_txn *t,
		    const char *ctx, const char *what);

/* rules.c */
void ck_ev_txn(struct mbec_check *e, struct evbuf *b, const struct mbec_txn *t,
	       enum mbec_flavour fl);
void ck_on_txn(void *ctx, const struct mbec_txn *t);
void ck_tdp_changed(struct mbec_check *e, const struct mbec_ev_tdp_spte_changed *c);
void ck_nested_inject(struct mbec_check *e, const struct mbec_ev_nested_inject *n);
void ck_guest_pte(struct mbec_check *e, const struct mbec_ev_guest_pte *g);
void ck_learn_format(struct mbec_check *e, const struct mbec_ev_exit *x);
void ck_learn_format_sp(struct mbec_check *e, const struct mbec_ev_get_page *g);
void ck_learn_memslot(struct mbec_check *e, const struct mbec_ev_spte_requested *r);
void ck_role_expect(struct mbec_check *e, struct sp_info *sp);
/* rules.c: the shadow page holding sptep, unless unknown or stale since a loss */
struct sp_info *ck_sp_of(struct mbec_check *e, uint64_t sptep, bool *stale);
/* rules.c: does the MMU that made this shadow page use MBEC */
bool ck_shadow_ept_mbec(const struct mbec_check *e, const struct sp_info *sp);
/* rules_exit.c: the error code against the exit, and faults without progress */
void ck_check_exit_qual(struct mbec_check *e, const struct mbec_txn *t);
void ck_check_repeat(struct mbec_check *e, const struct mbec_txn *t);

#endif /* MBEC_CHECK_INTERNAL_H */
