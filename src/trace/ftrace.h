/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ftrace text -> event records.  Reads the lines tracefs `trace` and
 * `trace_pipe` print (with or without the record-tgid column) and those
 * of `trace-cmd report`, for every kvm/kvmmmu event the checker uses in
 * every form kernels since 3.x and trace-cmd's kvm plugin print (listed
 * in ftrace_events.c), and turns each into the record the BPF programs
 * would have produced.  Other lines of the formats are skipped and
 * counted by kind; drop markers become lost records.
 *
 * Text carries less than BPF reads, so the importer fills in what it can
 * prove from neighbouring lines of the same thread, as BPF does from the
 * kernel's structures:
 *  - spte_requested prints gfn, pfn and level only: the fault address and
 *    error code come from the thread's kvm_page_fault / guest walk (for a
 *    VMX EPT violation the error code KVM derives is computed from the
 *    exit qualification by the model), map_writable from the host-writable
 *    bit of the SPTE installed for it; the requested ACC when the kernel
 *    prints it ("access %x", this project's series);
 *  - kvm_mmu_get_page prints the role's fields, not the word nor sp->spt:
 *    the word is rebuilt from the layout (fields the text does not show
 *    are 0, and the record says CR0.WP is unknown unless the text shows
 *    it: MBEC_SP_CR0_WP_UNKNOWN), and each shadow page gets an id that the
 *    SPTEs KVM then installs at its level on the same thread are tied to
 *    (set_spte's sptep is rewritten to id | offset);
 *  - the vCPU id of a thread comes from its last kvm_exit/kvm_page_fault.
 * Memory is bounded: a fixed table of threads and of shadow pages.
 */
#ifndef MBEC_TRACE_FTRACE_H
#define MBEC_TRACE_FTRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mbec_events.h"
#include "mbec_kvm.h"

#define FTRACE_LINE_MAX	4096	/* longer lines are malformed */

struct ftrace_import;
struct role_layout;

/* layout MBEC_LAYOUT_UNKNOWN: from the access strings of kvm_mmu_get_page. */
struct ftrace_import *ftrace_import_new(enum mbec_layout layout);
void ftrace_import_free(struct ftrace_import *fi);
/* Fix the layout (role word encoding) once it is known. */
void ftrace_import_set_layout(struct ftrace_import *fi, enum mbec_layout layout);

/* ftrace_import_line() results */
#define FTRACE_EVENT	0	/* an event we import, or a drop marker (records may be queued) */
#define FTRACE_IGNORED	1	/* a line of the format that is not an event we read: see kind */
#define FTRACE_BAD	2	/* not a trace line, or a known event that does not parse */

/* What an FTRACE_IGNORED line was (ftrace_import_last_skip()). */
enum ftrace_skip {
	FTRACE_SKIP_BLANK,
	FTRACE_SKIP_COMMENT,		/* "#" lines: tracefs's headers */
	FTRACE_SKIP_HEADER,		/* trace-cmd report's headers: cpus=N, version = ... */
	FTRACE_SKIP_MARKER,		/* "##### CPU N buffer started ####", "CPU N is empty" */
	FTRACE_SKIP_STACK,		/* the stacktrace option: "<stack trace>", " => func" */
	FTRACE_SKIP_OTHER_EVENT,	/* an event the checker does not read */
	FTRACE_SKIP_OTHER_EXIT,		/* an exit whose reason the checker does not use */
	FTRACE_SKIP_NR
};

const char *ftrace_skip_name(enum ftrace_skip kind);

struct ftrace_import_stats {
	uint64_t skipped[FTRACE_SKIP_NR];	/* lines, by kind */
	uint64_t drop_markers;		/* "CPU:N [LOST M EVENTS]", "[M EVENTS DROPPED]", ... */
	uint64_t lost_events;		/* the events those markers counted */
	uint64_t drops_uncounted;	/* markers that say events were lost, not how many */
	uint64_t roles_no_wp;		/* get_page roles whose CR0.WP the text does not show */
	uint64_t plugin_lines;		/* lines in trace-cmd's kvm plugin forms */
	uint64_t uexec_unchecked;	/* Kohler's roles with USER_EXEC: not modelled */
	uint64_t format_lines;		/* lines only ftrace text has: events, headers, markers */
	uint64_t buffer_prefixed;	/* lines with trace-cmd report's "NAME: " buffer prefix */
};

const struct ftrace_import_stats *ftrace_import_stats(const struct ftrace_import *fi);
enum ftrace_skip ftrace_import_last_skip(const struct ftrace_import *fi);

/*
 * Buffers.  `trace-cmd report` of a file with instance buffers (`record
 * -B NAME`), or of several files, prints "NAME: " before each line of a
 * buffer (right-aligned to the longest name) and blanks before the top
 * buffer's; a drop marker and the event after it share one prefix.  Each
 * buffer has its own CPUs, so losses are kept per buffer and CPU.  Buffer
 * 0 is the top one (name ""); at most FTRACE_MAX_BUFFERS, the last one
 * taking in any beyond ("(others)").
 */
#define FTRACE_MAX_BUFFERS	8
unsigned int ftrace_import_buffers(const struct ftrace_import *fi);
const char *ftrace_import_buffer_name(const struct ftrace_import *fi, unsigned int b);
/* Event lines of events the checker reads, in buffer b. */
uint64_t ftrace_import_buffer_events(const struct ftrace_import *fi, unsigned int b);
/* Events said lost on a CPU (CPUs 0-255) of buffer b, and its drop markers without a count. */
uint64_t ftrace_import_lost_on(const struct ftrace_import *fi, unsigned int b, unsigned int cpu,
			       uint32_t *uncounted);
/* The losses as one phrase: "CPU 0: 25, kvm CPU 1: 7 + unknown" ("" when none). */
void ftrace_import_describe_losses(const struct ftrace_import *fi, char *buf, size_t len);
/*
 * The buffer of the lines from now on, when the caller knows it (trace.dat,
 * whose lines carry no prefix): "" is the top one.
 */
void ftrace_import_buffer_hint(struct ftrace_import *fi, const char *name);

/*
 * Parse one line (NUL-terminated, no newline; it may be modified).  For
 * FTRACE_BAD, ftrace_import_error() says why.  Records produced are taken
 * with ftrace_import_pop(); take them all before the next line.
 */
int ftrace_import_line(struct ftrace_import *fi, char *line);
const char *ftrace_import_error(const struct ftrace_import *fi);
/* The next queued record (valid until the next call), or NULL. */
const struct mbec_event_hdr *ftrace_import_pop(struct ftrace_import *fi);
/* End of input: queue the records still held back. */
void ftrace_import_flush(struct ftrace_import *fi);

/* What the lines said so far about the source. */
enum mbec_layout ftrace_import_seen_layout(const struct ftrace_import *fi); /* UNKNOWN until known */
/* The seen layout fits the lines, but so would another (mbec assumed over kohler). */
bool ftrace_import_layout_assumed(const struct ftrace_import *fi);
int ftrace_import_seen_spte_ept(const struct ftrace_import *fi);	/* -1 unknown, 0, 1 */
bool ftrace_import_seen_tgid(const struct ftrace_import *fi);

/*
 * Is this line ftrace text (for detection): an event line of any event, or
 * a header, marker or drop marker of the formats?  Comments, blank and
 * stack-trace lines say nothing either way (false).
 */
bool ftrace_line_looks_like_trace(const char *line);

#endif /* MBEC_TRACE_FTRACE_H */
