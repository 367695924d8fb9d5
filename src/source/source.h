/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The one way into the pipeline: a source of event records that every
 * command reads alike, whatever is behind it.
 *
 *   live       the BPF ring buffer (src/live), optionally with the built-in
 *              guest spawned for it (src/workload)
 *   recording  our own format (src/trace/recording.c)
 *   ftrace     ftrace text (src/trace/ftrace*.c)
 *   tracedat   trace-cmd's trace.dat (src/trace/tracedat*.c)
 *
 * A file's kind is told from its content, never from its name.  Opening
 * does every set-up a run needs (for live: the pid checked, the KVM
 * layout from BTF, the KVM module's switches, the workload spawned and the
 * programs attached), so that a command only says what to do with the
 * records:
 *
 *	mbec_source_open(&s, &opts, err, sizeof(err));
 *	mbec_source_check_opts(s, &copts);   engine set up from the source
 *	mbec_source_start(s, on_record, ctx); guest entries fed, workload started
 *	mbec_source_run(s, tick_ms, on_tick, ctx);  or mbec_source_pump() in a loop
 *	mbec_source_finish(s);               drained, workload stopped, detached
 *	mbec_source_free(s);
 *
 * A record is handed on once; GUEST_MEM records (what the engine read from
 * VMM memory) are kept by the source, which answers the engine's reads
 * from them (a file) or from /proc/PID/mem (live), and are handed on only
 * when opts.guest_mem_records asks for them.
 */
#ifndef MBEC_SOURCE_H
#define MBEC_SOURCE_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "live/live.h"

#include "check/check.h"
#include "trace/recording.h"
#include "workload/workload.h"

enum mbec_source_kind {
	MBEC_SOURCE_LIVE,
	MBEC_SOURCE_RECORDING,
	MBEC_SOURCE_FTRACE,
	MBEC_SOURCE_TRACEDAT,
};

struct mbec_source_opts {
	const char *path;		/* NULL: live; "-": standard input */
	enum mbec_layout layout;	/* MBEC_LAYOUT_UNKNOWN: from the input (live: BTF) */
	int spte_ept;			/* files: -1 from the input, 0 legacy/NPT, 1 EPT */
	uint32_t pid;			/* only this VMM process (0: every one) */
	/*
	 * The built-in guest.  Live: spawned, its pid is the filter, its page
	 * tables are handed on as GUEST_PTE records before it starts.  A file:
	 * the input is a capture of it (unless a recording says so itself):
	 * its CPU mode and page-table entries are added the same way.
	 */
	const struct workload_opts *workload;
	bool guest_mem_records;		/* hand GUEST_MEM records on too */
	/* Files: only records from..to seconds after the first timed one. */
	bool has_from, has_to;
	uint64_t from_ns, to_ns;
	/* Live. */
	double duration;		/* seconds; 0: until stopped (or the workload ends) */
	int verbose;			/* libbpf diagnostics */
	size_t ringbuf_bytes;		/* 0: the default */
	bool force_raw;			/* tests: raw_tp everywhere */
	bool vm_stats;			/* mbectop's per-vCPU counters */
	const char *tool;		/* the info's tool name ("mbecscope record") */
	enum mbec_live_use use;		/* live: which programs to attach (mbec_live_plan) */
};

void mbec_source_opts_init(struct mbec_source_opts *o);

struct mbec_source;
struct mbec_live;
struct trace_source;

/* 0, or -1 with one line in err (what is wrong, how to fix it): exit 2. */
int mbec_source_open(struct mbec_source **out, const struct mbec_source_opts *opts, char *err,
		     size_t errlen);
/* A file's bytes in memory (tests); data must outlive the source. */
int mbec_source_open_mem(struct mbec_source **out, const void *data, size_t len,
			 const struct mbec_source_opts *opts, char *err, size_t errlen);

enum mbec_source_kind mbec_source_kind(const struct mbec_source *s);
/* "live", "recording", "ftrace-text", "trace.dat" */
const char *mbec_source_kind_name(enum mbec_source_kind k);

/*
 * What the source says of the KVM it shows, as a recording's header: a
 * file's header (or what the text showed), live what BTF and the module
 * parameters say, the tracepoints as attached, the workload's CPU mode.
 */
const struct mbec_rec_info *mbec_source_info(const struct mbec_source *s);
/*
 * Check options from the source: layout, role layout, SPTE format, MBEC,
 * the guest's CPU mode when known, and the reader of guest memory.
 * Pointers into the source: it must outlive the engine.
 */
void mbec_source_check_opts(struct mbec_source *s, struct mbec_check_opts *copts);
/* The VMM process the records are filtered on (the workload's), 0: none. */
uint32_t mbec_source_pid(const struct mbec_source *s);
/* Live: KVM maps guest-physical memory (EPT or NPT); a file: its SPTEs are EPT. */
bool mbec_source_tdp(const struct mbec_source *s);
/* A file: the time of its first timed record (0 before it was read). */
uint64_t mbec_source_base_ns(const struct mbec_source *s);

/*
 * Where records go (a non-zero return stops the run for good: nothing
 * more is pumped by mbec_source_run() nor drained at finish), then the
 * workload's guest entries (live) and the workload started.  0, or -1 with
 * one line in err.
 */
int mbec_source_start(struct mbec_source *s,
		      int (*on_record)(void *ctx, const void *rec, size_t len), void *ctx,
		      char *err, size_t errlen);

/*
 * Hand on what is there: live, what the ring buffer holds, waiting up to
 * timeout_ms for it; a file, a batch of records.  1: more may come; 0: the
 * source ended (end of the file, the workload exited, --duration passed);
 * -1: reading failed (live; errno set).
 */
int mbec_source_pump(struct mbec_source *s, int timeout_ms);
/*
 * Pump until the source ends or a stop signal, calling on_tick (if any)
 * after each pump; a non-zero on_tick ends the run.  0, or -1 (reading
 * failed; errno set).
 */
int mbec_source_run(struct mbec_source *s, int tick_ms, int (*on_tick)(void *ctx), void *ctx);
/* Live: drain the ring buffer, stop the workload if still running, detach. */
void mbec_source_finish(struct mbec_source *s);

/*
 * The kernel's counters: live (now, or as they were at finish), a
 * recording's end chunk; NULL when unknown.
 */
const struct mbec_counter *mbec_source_counters(struct mbec_source *s);
/* Live: the tracepoints' attach state (MBEC_LIVE_NR_TP), else NULL. */
const struct mbec_live_attach *mbec_source_attach(const struct mbec_source *s);
/* Live: the loaded programs (mbectop reads their maps), else NULL. */
struct mbec_live *mbec_source_live(const struct mbec_source *s);
/* A file: its reader (what it counted, how it was read), else NULL. */
const struct trace_source *mbec_source_trace(const struct mbec_source *s);

/* The spawned workload: its layout and child (NULL: none). */
const struct workload_layout *mbec_source_workload_layout(const struct mbec_source *s);
const struct workload_child *mbec_source_workload_child(const struct mbec_source *s);
/*
 * How the spawned workload ended: -1 still running, killed at finish or
 * none; else its exit status (2 when a signal ended it, *signalled set).
 */
int mbec_source_workload_status(const struct mbec_source *s, bool *signalled);

/*
 * After the end: what was wrong with a file, "" when nothing; and whether
 * it makes the input bad (exit 2), not just cut short.
 */
const char *mbec_source_problem(const struct mbec_source *s);
bool mbec_source_damaged(const struct mbec_source *s);

void mbec_source_free(struct mbec_source *s);

/*
 * Stop signals: SIGINT and SIGTERM set mbec_stop_requested; SIGHUP is left
 * alone, stops too, or sets mbec_hup_requested.  Install before opening a
 * live source: a signal while the programs load still ends cleanly.
 */
enum mbec_hup { MBEC_HUP_DEFAULT, MBEC_HUP_STOPS, MBEC_HUP_RELOADS };
extern volatile sig_atomic_t mbec_stop_requested, mbec_hup_requested;
void mbec_catch_signals(enum mbec_hup hup);

#endif /* MBEC_SOURCE_H */
