/* SPDX-License-Identifier: GPL-2.0 */
/*
 * trace-cmd's binary trace.dat (`trace-cmd record`, `trace-cmd extract`),
 * read with libtracecmd/libtraceevent.
 *
 * Every event is read by field name from its binary record, with the
 * format descriptions the file carries (the kernel's own), never from the
 * text TP_printk would print: a change of TP_printk does not matter, and a
 * field that moved or changed size is still found.  The records of all
 * buffers (the top one and instances) and CPUs are merged by time.
 *
 * The values are handed on as lines of one fixed internal form that the
 * ftrace text importer reads (the form of today's kernels, with
 * nanosecond timestamps and no TGID), so that a trace.dat and
 * `trace-cmd report` text of it become the same records.  The form is
 * ours: it does not follow the file's print formats.  A CPU's dropped
 * events (the ring buffer page's "missed events") become the lost-events
 * line "CPU:N [LOST n EVENTS]" before the record they precede.
 *
 * Events the checker does not use are skipped and counted by name.  A
 * record that cannot be an event of the file (an event id without a
 * format, a record shorter than its format's fields, time going back on a
 * CPU) is damage: reading stops there and tracedat_problem() says where.
 */
#ifndef MBEC_TRACE_TRACEDAT_H
#define MBEC_TRACE_TRACEDAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mbec_kvm.h"
#include "trace/input.h"

#define TRACEDAT_MAGIC		"\x17\x08\x44tracing"
#define TRACEDAT_MAGIC_LEN	10

struct tracedat;

/* Does a buffer start like a trace.dat (n may be short)? */
bool tracedat_is_tracedat(const void *p, size_t n);

/*
 * Open the trace.dat that `in` starts with.  A regular file is read in
 * place; anything else (a pipe, stdin, memory) is first copied to an
 * unlinked temporary file, as libtracecmd needs to seek.  NULL with one
 * line in err when the file cannot be read.
 */
struct tracedat *tracedat_open(struct trace_in *in, char *err, size_t errlen);
void tracedat_close(struct tracedat *td);

/*
 * The next line for the ftrace importer (valid until the next call):
 * its length, or -1 at the end (or at damage: see tracedat_problem()).
 */
long tracedat_line(struct tracedat *td, char **line);

/* The buffer the last line came from: "" the top one, else the instance's name. */
const char *tracedat_line_buffer(const struct tracedat *td);

/*
 * A kvm_mmu_get_page record the importer made of one of our lines: add
 * what its line cannot say and the binary role word does (CR0.WP, SMEP,
 * SMAP, guest mode; the whole word on kernels whose role has the built-in
 * layout's bits).  Other records are left alone.
 */
struct mbec_event_hdr;
void tracedat_amend(struct tracedat *td, struct mbec_event_hdr *h);

/* What the formats in the file say of KVM's layout (UNKNOWN: no kvmmmu events). */
enum mbec_layout tracedat_layout(const struct tracedat *td);
/* No evidence of the layout in the file: the one given is a guess (said in its source). */
bool tracedat_layout_guessed(const struct tracedat *td);
/* Why: "from the kernel's formats in trace.dat (...)". */
const char *tracedat_layout_source(const struct tracedat *td);
/* Kernel release recorded in the file, "" when it has none. */
const char *tracedat_release(const struct tracedat *td);

struct tracedat_stats {
	uint64_t records;	/* every record read */
	uint64_t imported;	/* records of events the checker uses */
	uint64_t skipped;	/* records of other events */
	uint64_t lost;		/* events the ring buffer dropped, as far as counted */
	uint64_t lost_uncounted;	/* places where it dropped an unknown number */
	uint64_t no_field;	/* records of our events whose format lacks a field we need */
	uint64_t roles_guessed;	/* role words read with bits whose place is guessed (kohler) */
	unsigned int damaged_cpus;	/* (buffer, CPU)s whose reading stopped at a bad page */
	unsigned int unreadable_cpus;	/* with data in the file but no record read from it */
	unsigned int file_version, buffers, cpus;
};
const struct tracedat_stats *tracedat_stats(const struct tracedat *td);
/* "sched_switch 120, sched_wakeup 3, ..." (most frequent first); "" when none. */
void tracedat_skipped_names(const struct tracedat *td, char *buf, size_t len);

/*
 * One phrase for the summary: "trace.dat version 7 of kernel 6.1.0, 1 buffer,
 * 2 CPUs, 7480 records (7473 imported; 7 of other events skipped: ...)".
 */
void tracedat_describe(const struct tracedat *td, char *buf, size_t len);

/*
 * Damaged ring-buffer pages: libtracecmd stops reading a CPU at a page
 * whose header it refuses (a commit larger than the page) and says
 * nothing.  When a CPU's records end, its last record in the file is
 * looked up: if it is not the one read last, or cannot be read, the
 * pages in between were not read.  The CPU is counted as damaged (a loss
 * line of unknown size is sent there, so the transactions open on it are
 * incomplete), the other CPUs are read on, and the file is damaged at the
 * end.  The i-th damaged (buffer, CPU): false past the last.
 */
bool tracedat_damaged_cpu(const struct tracedat *td, unsigned int i, const char **buffer, int *cpu,
			  unsigned long long *stop_offset, unsigned long long *last_offset);

/* After the end: the damage ("" when none). */
const char *tracedat_problem(const struct tracedat *td);
bool tracedat_damaged(const struct tracedat *td);

#endif /* MBEC_TRACE_TRACEDAT_H */
