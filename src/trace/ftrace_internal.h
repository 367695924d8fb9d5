/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the parts of the ftrace text importer share: ftrace.c frames lines
 * (the prefix, headers, markers, stack traces, drop markers, the record
 * queue and the per-thread state), ftrace_events.c reads the fields of each
 * event in every form a kernel or trace-cmd prints, and ftrace_roles.c
 * kvm_mmu_get_page's role in its forms and the layout the lines show.
 */
#ifndef MBEC_TRACE_FTRACE_INTERNAL_H
#define MBEC_TRACE_FTRACE_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>

#include "mbec_events.h"
#include "trace/ftrace.h"

#define FT_NR_THREADS	1024	/* direct-mapped by tid */
#define FT_NR_BINDINGS	16384	/* SPTE page -> shadow page id, direct-mapped */
#define FT_QUEUE_LEN	8
#define FT_MAX_LEVEL	5
#define FT_NR_CPUS	256	/* per-CPU loss counts kept for CPUs below this */
#define FT_BUF_NAME	48	/* buffer names kept up to this length */

union ft_record {
	struct mbec_event_hdr hdr;
	struct mbec_ev_walk walk;
	struct mbec_ev_paging_element elem;
	struct mbec_ev_walker_error werr;
	struct mbec_ev_spte_requested req;
	struct mbec_ev_set_spte spte;
	struct mbec_ev_page_fault pf;
	struct mbec_ev_exit exit;
	struct mbec_ev_get_page gp;
	struct mbec_ev_tdp_spte_changed tdp;
	struct mbec_ev_fast_page_fault fast;
	struct mbec_ev_nested_inject inj;
	struct mbec_ev_lost lost;
	uint64_t align[16];
};

struct ft_thread {
	uint32_t tid;			/* 0: free slot */
	uint32_t vcpu_id;
	bool pf_valid, exit_valid, walk_valid, req_held;
	uint64_t pf_addr, pf_ec;
	uint32_t exit_reason, exit_isa;
	uint64_t exit_info1;
	uint64_t walk_addr;
	uint32_t walk_pferr;
	uint64_t pending_sp[FT_MAX_LEVEL + 1];	/* get_page ids not yet tied to an SPTE page */
	struct mbec_ev_spte_requested req;	/* held until the thread's next line */
};

struct ft_binding {
	uint64_t page;			/* sptep & ~0xfff; 0 free */
	uint64_t sp_id;
};

struct ftrace_import {
	enum mbec_layout layout;	/* for role words; UNKNOWN: per line */
	enum mbec_layout seen_layout;
	bool layout_assumed;		/* seen_layout fits, but so would another */
	int seen_spte_ept;
	bool seen_tgid;
	uint64_t last_ts;
	enum ftrace_skip last_skip;
	struct ftrace_import_stats st;
	/*
	 * trace-cmd report of several buffers (instances, or several files)
	 * prefixes lines with the buffer's name: each has its own CPUs.
	 * [0] is the top buffer (no name); the last slot takes the buffers
	 * beyond the table.
	 */
	struct ft_buffer {
		char name[FT_BUF_NAME];
		uint64_t events;			/* event lines we read */
		uint64_t lost[FT_NR_CPUS];		/* events said lost, per CPU */
		uint32_t lost_unknown[FT_NR_CPUS];	/* drop markers without a count */
	} buf[FTRACE_MAX_BUFFERS];
	unsigned int nr_buf;
	int hint_buf;			/* the lines' buffer, said by the caller (-1: read it) */
	int drop_buf;			/* the last line was this buffer's drop marker (-1) */
	struct ft_thread threads[FT_NR_THREADS];
	struct ft_binding *bindings;
	union ft_record queue[FT_QUEUE_LEN];
	unsigned int qhead, qlen;
	union ft_record popped;
	char err[200];
};

/* One event line, split. */
struct ft_line {
	const char *comm;
	uint32_t tid, tgid, cpu;
	uint64_t ts_ns;
	char *event, *fields;
};

/* ftrace.c: results, the queue, threads */
int ft_bad(struct ftrace_import *fi, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int ft_skip(struct ftrace_import *fi, enum ftrace_skip kind);
void *ft_enqueue(struct ftrace_import *fi, const struct ft_line *l, unsigned int type,
		 size_t size, const struct ft_thread *t);
void ft_release_req(struct ftrace_import *fi, struct ft_thread *t);

/* ftrace.c: field parsing */
const char *ft_skip_sp(const char *p);
bool ft_parse_hex(const char *p, uint64_t *v, const char **end);
bool ft_parse_dec(const char *p, uint64_t *v, const char **end);
const char *ft_kv(const char *fields, const char *key);
bool ft_token_end(const char *p);
bool ft_kv_hex(const char *fields, const char *key, uint64_t *v);
bool ft_kv_dec(const char *fields, const char *key, uint64_t *v);

/* ftrace_roles.c: layouts and kvm_mmu_get_page */
enum mbec_layout ft_eff_layout(const struct ftrace_import *fi);	/* the lines' layout */
enum mbec_layout ft_rec_layout(const struct ftrace_import *fi);	/* the records' (kohler: classic) */
int ft_see_layout(struct ftrace_import *fi, enum mbec_layout l, bool assumed, const char *what);
int ft_ev_get_page(struct ftrace_import *fi, const struct ft_line *l, struct ft_thread *t);

/* ftrace_events.c: the parser of an event we read, or NULL */
typedef int (*ft_event_fn)(struct ftrace_import *fi, const struct ft_line *l, struct ft_thread *t);
ft_event_fn ft_event_parser(const char *name, bool *keeps_req);

#endif /* MBEC_TRACE_FTRACE_INTERNAL_H */
