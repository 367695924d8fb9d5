/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Live capture: check the environment, load bpf/mbecscope.bpf.c, attach
 * each of its programs (tp_btf, falling back to raw_tp), and drain the
 * ring buffer record by record into a callback.  Closing (or the process
 * dying) detaches everything: nothing is pinned.
 */
#ifndef MBEC_LIVE_H
#define MBEC_LIVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "mbec_events.h"

struct mbec_live;

/*
 * What a command does with the events; it decides which programs are
 * attached and what the kernel may leave out (mbec_live_plan()).
 */
enum mbec_live_use {
	MBEC_LIVE_USE_ALL = 0,	/* every program, every event (tests, benchmarks) */
	MBEC_LIVE_USE_CHECK,	/* check: the full checks */
	MBEC_LIVE_USE_RECORD,	/* record: a recording replay checks fully */
	MBEC_LIVE_USE_TOP,	/* mbectop: counts, and anomalies with their evidence */
	MBEC_LIVE_USE_WATCH,	/* watch: alerts, and anomalies with their evidence */
};

#define MBEC_LIVE_NR_TP	12

/* The tracepoints, in the order of the attach state (bit i of a plan's mask). */
enum mbec_live_tp {
	MBEC_LIVE_TP_WALK,
	MBEC_LIVE_TP_PAGING_ELEMENT,
	MBEC_LIVE_TP_WALKER_ERROR,
	MBEC_LIVE_TP_SPTE_REQUESTED,
	MBEC_LIVE_TP_SET_SPTE,
	MBEC_LIVE_TP_PAGE_FAULT,
	MBEC_LIVE_TP_EXIT,
	MBEC_LIVE_TP_ENTRY,
	MBEC_LIVE_TP_GET_PAGE,
	MBEC_LIVE_TP_TDP_SPTE_CHANGED,
	MBEC_LIVE_TP_FAST_PAGE_FAULT,
	MBEC_LIVE_TP_NESTED_INJECT,
};

struct mbec_live_plan {
	unsigned int wanted;	/* bit i: attach tracepoint i (when the kernel has it) */
	bool tdp_checked_only;	/* the kernel leaves out TDP changes no rule reads */
	const char *why_not[MBEC_LIVE_NR_TP];	/* per tracepoint not wanted: why ("" otherwise) */
};

/*
 * Which programs a use needs.  Every use feeds the full check engine, so
 * each needs every tracepoint the checks read, with two exceptions:
 * kvm_entry only names the vCPU of the thread, which kvm_exit does just
 * before it, so it is attached only where kvm_exit does not fire (a KVM
 * vendor module other than kvm_intel and kvm_amd: vendor_exits false) or
 * is not attached; and watch and mbectop do not need the TDP MMU changes
 * no checker rule can fire on (bpf/mbecscope.bpf.c, tdp_change_checked()),
 * the bulk of the events on a TDP MMU.  MBEC_LIVE_USE_ALL wants everything.
 */
void mbec_live_plan(enum mbec_live_use use, bool vendor_exits, struct mbec_live_plan *p);

/* The name of tracepoint tp (enum mbec_live_tp), or NULL. */
const char *mbec_live_tp_name(unsigned int tp);

/* The command a use stands for ("check", ...; "all"). */
const char *mbec_live_use_name(enum mbec_live_use use);

struct mbec_live_opts {
	pid_t pid;		/* only this VMM process (0: all) */
	int verbose;		/* libbpf on stderr: 1 warnings, 2 also debug */
	bool need_kvm_dev;	/* fail unless /dev/kvm can be opened (--workload) */
	size_t ringbuf_bytes;	/* 0: the default (8 MiB); a power of two, >= 4096 */
	bool force_raw;		/* raw_tp even where tp_btf works (tests) */
	bool vm_stats;		/* keep the per-vCPU counters of the vm_stats map */
	enum mbec_live_use use;	/* which programs to attach (mbec_live_plan) */
	/*
	 * Tests: the tree live_kvm_env_at() reads for the vendor module (NULL:
	 * $MBECSCOPE_KVM_ROOT, or /)
	 */
	const char *test_kvm_root;
	/* Tests: tracepoints (bit i = the i-th of the attach state) whose tp_btf is refused */
	unsigned int test_refuse_btf;
	/* Called for every record drained; a non-zero return stops the drain. */
	int (*on_event)(void *ctx, const void *rec, size_t len);
	void *ctx;
};

/* Per tracepoint: how (or whether) it is attached, and why not. */
struct mbec_live_attach {
	const char *tracepoint;
	const char *how;	/* "tp_btf", "raw_tp" or "no" */
	char note[160];		/* why not; or, attached, what it cannot do; "" */
	bool required;
};

/*
 * Check the environment and attach.  On failure returns a negative errno
 * and writes one line (what is wrong and how to fix it) into err; the
 * caller exits 2.
 */
int mbec_live_open(struct mbec_live **out, const struct mbec_live_opts *opts,
		   char *err, size_t errlen);

/*
 * Drain what is in the ring buffer, waiting up to timeout_ms for the first
 * record.  Returns the number of records handed to on_event, or a negative
 * errno (-EINTR when a signal arrived).
 */
int mbec_live_poll(struct mbec_live *l, int timeout_ms);

/* Sum of the per-CPU counters, indexed by enum mbec_event_type. */
int mbec_live_counters(struct mbec_live *l, struct mbec_counter out[MBEC_EV_MAX]);

/* Attach state of every tracepoint (MBEC_LIVE_NR_TP entries). */
const struct mbec_live_attach *mbec_live_attach_state(const struct mbec_live *l);

/*
 * One line saying how the tracepoints were attached: "12 tp_btf", or
 * "10 tp_btf, 1 raw_tp, 1 not attached; kvm_exit raw_tp: WHY; ..." with
 * each tracepoint not attached as tp_btf and its note.  Returns buf.
 */
char *mbec_live_attach_line(const struct mbec_live_attach at[MBEC_LIVE_NR_TP], char *buf,
			    size_t len);

/*
 * Whether a tracepoint was attached the preferred way (tp_btf); when not,
 * its note says why.
 */
bool mbec_live_attach_preferred(const struct mbec_live_attach *at);

/* The verifier's reason in one line, from its log (exposed for tests). */
void mbec_live_verifier_reason(const char *log, char *out, size_t outlen);

/* File descriptor of one of the BPF object's maps ("vm_stats"), or -ENOENT. */
int mbec_live_map_fd(const struct mbec_live *l, const char *name);

/*
 * Run time and run count of the loaded programs, summed (the kernel keeps
 * them only while statistics are enabled: kernel.bpf_stats_enabled=1 or a
 * BPF_ENABLE_STATS fd is open; both are 0 otherwise).  0 or a negative errno.
 */
int mbec_live_prog_stats(const struct mbec_live *l, uint64_t *run_ns, uint64_t *run_cnt);

/*
 * Which tracepoints this kernel's BTF has with the prototypes the programs
 * read (step one of mbec_live_open, exposed for tests): fills state[] (a
 * note for each one left out) and enabled[], sets *acc_arg when
 * kvm_mmu_spte_requested carries the requested ACC as an argument.  0, or
 * -ENOENT with one line in err when a required tracepoint is missing or
 * different.
 */
struct btf;
int mbec_live_probe_btf(const struct btf *btf, struct mbec_live_attach state[MBEC_LIVE_NR_TP],
			bool enabled[MBEC_LIVE_NR_TP], bool *acc_arg, char *err, size_t errlen);

/*
 * Turn a MBEC_EV_WALK_FOLDED record (BPF only) back into the walk record
 * and its paging_element records, in order, each handed to on_event.
 * Returns on_event's first non-zero return, 0, or -EINVAL when the record
 * is malformed (nothing handed on then).
 */
int mbec_live_unfold(const void *rec, size_t len,
		     int (*on_event)(void *ctx, const void *rec, size_t len), void *ctx);

/*
 * Tests and benchmarks: the file descriptor of the program loaded for
 * tracepoint tp (enum mbec_live_tp), tp_btf or raw_tp as attached, or
 * -ENOENT when none is.  Raw_tp programs can be run with BPF_PROG_TEST_RUN.
 */
int mbec_live_prog_fd(const struct mbec_live *l, unsigned int tp);

/*
 * Stop the programs (detach every tracepoint), keeping the ring buffer and
 * the counters readable: what is still in the buffer is then all there will
 * be, and the counters read after draining it describe that stream.
 */
void mbec_live_detach(struct mbec_live *l);

/* Detach, unload and free; NULL is fine. */
void mbec_live_close(struct mbec_live *l);

#endif /* MBEC_LIVE_H */
