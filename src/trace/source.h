/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A stream of event records from a recording or from ftrace text, told
 * apart by the first bytes.  Replay, top --replay and the benchmarks read
 * records through this and feed them to the check engine one by one.
 *
 * For text, the source reads ahead (at most TRACE_LOOKAHEAD_BYTES of
 * records) until it knows the KVM layout (the first kvm_mmu_get_page) and
 * the SPTE format, so that the engine can be set up before the first
 * record; trace_source_info() then describes the text as a header would.
 */
#ifndef MBEC_TRACE_SOURCE_H
#define MBEC_TRACE_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "trace/recording.h"

#define TRACE_LOOKAHEAD_BYTES	(256U * 1024)

struct trace_source_opts {
	enum mbec_layout layout;	/* MBEC_LAYOUT_UNKNOWN: from the input */
	int spte_ept;			/* -1: from the input; 0 legacy/NPT; 1 EPT */
};

struct trace_source;

/*
 * path "-" is stdin.  0, or -1 with one line in err (cannot open, empty,
 * neither a recording nor ftrace text, damaged header).
 */
int trace_source_open(struct trace_source **out, const char *path,
		      const struct trace_source_opts *opts, char *err, size_t errlen);
/* The same over memory (tests, fuzzing); data must outlive the source. */
int trace_source_open_mem(struct trace_source **out, const void *data, size_t len,
			  const struct trace_source_opts *opts, char *err, size_t errlen);

bool trace_source_is_text(const struct trace_source *s);
/* Header of a recording, or what the text showed (flags has MBEC_REC_F_IMPORTED). */
const struct mbec_rec_info *trace_source_info(const struct trace_source *s);

/*
 * Next record: 1 (valid until the next call, already validated), 0 end,
 * -1 damaged input (a recording: stops there; text: never, bad lines are
 * counted and skipped).
 */
int trace_source_next(struct trace_source *s, const struct mbec_event_hdr **rec);
/*
 * After the end: what was wrong with the input, "" when nothing.  For a
 * recording: damage or a cut (offset).  For text: the first bad line
 * ("line 12: ...") and how many there were.
 */
const char *trace_source_problem(const struct trace_source *s);
/* True when the problem makes the input bad (exit 2), not just cut short. */
bool trace_source_damaged(const struct trace_source *s);
/* The recording's end chunk (present false for text and cut recordings). */
const struct mbec_rec_trailer *trace_source_trailer(const struct trace_source *s);

/* A recording: skip whole chunks outside [from_ns, to_ns] (absolute; 0 open). */
void trace_source_window(struct trace_source *s, uint64_t from_ns, uint64_t to_ns);

/* Text statistics. */
struct trace_text_stats {
	uint64_t lines, events, ignored, bad;
	uint64_t first_bad_line;
};
const struct trace_text_stats *trace_source_text_stats(const struct trace_source *s);
/* Text: the importer, for what it counted (ftrace.h: skipped lines by kind, losses). */
struct ftrace_import;
const struct ftrace_import *trace_source_importer(const struct trace_source *s);
/*
 * Text and trace.dat: nothing in the input showed the KVM layout (and no
 * --layout gave it), so the one taken is a guess; its source says so.
 */
bool trace_source_layout_guessed(const struct trace_source *s);
/* A trace.dat (read as text lines, trace_source_is_text() true): its reader; else NULL. */
struct tracedat;
const struct tracedat *trace_source_tracedat(const struct trace_source *s);

void trace_source_free(struct trace_source *s);

#endif /* MBEC_TRACE_SOURCE_H */
