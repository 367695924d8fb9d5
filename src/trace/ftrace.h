/* SPDX-License-Identifier: GPL-2.0 */
/*
 * ftrace text -> event records.  Reads the lines tracefs `trace` and
 * `trace_pipe` print (with or without the record-tgid column) and those
 * of `trace-cmd report`, for every kvm/kvmmmu event the checker uses, and
 * turns each into the record the BPF programs would have produced.
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
 *    the word is rebuilt from the layout (fields the text does not show:
 *    cr0_wp 1, the others 0), and each shadow page gets an id that the
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
#define FTRACE_EVENT	0	/* an event we import (records may be queued) */
#define FTRACE_IGNORED	1	/* comment, header, blank, another event, an uninteresting exit */
#define FTRACE_BAD	2	/* not a trace line, or a known event that does not parse */

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
int ftrace_import_seen_spte_ept(const struct ftrace_import *fi);	/* -1 unknown, 0, 1 */
bool ftrace_import_seen_tgid(const struct ftrace_import *fi);

/* Is this a line of ftrace text we recognise (for detection)? */
bool ftrace_line_looks_like_trace(const char *line);

#endif /* MBEC_TRACE_FTRACE_H */
