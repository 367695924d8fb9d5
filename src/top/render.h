/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mbectop's frame as lines of text: the header, the column heads, one row
 * per VM (and per vCPU when expanded).  Batch mode prints the lines, the
 * TUI draws them (cut to the terminal's width, with attributes by kind);
 * --json writes the same frame as one JSON document.
 */
#ifndef MBEC_TOP_RENDER_H
#define MBEC_TOP_RENDER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "top/model.h"

struct json_writer;

/* What the caller knows beyond the model. */
struct top_view {
	int sort_key;		/* top_sort_key() */
	bool reverse;
	char filter[64];	/* pid or name substring; "" none */
	bool paused;
	bool expand_all;	/* every VM shows its vCPUs (--vcpus) */
	bool tui;		/* mark expandable rows and the selection */
	bool scans_vms;		/* live: VMs are also found by their file descriptors */
	uint32_t selected_pid;	/* TUI: the selected VM (0: none) */
	char clock[32];		/* "06:20:01" live, "+12.0s" replay */
	char source[96];	/* "live, every VM", "replay of FILE (x4)" */
	/* the tool's own cost */
	bool cost_known;	/* BPF statistics were on during the frame */
	char cost_note[128];	/* why not, when !cost_known */
	char status[160];	/* one line of news ("workload exited"), "" none */
};

enum top_line_kind {
	TOP_L_TITLE,		/* first header line */
	TOP_L_HEADER,		/* other header lines */
	TOP_L_GROUPS,		/* column group heads */
	TOP_L_COLUMNS,		/* column heads */
	TOP_L_VM,
	TOP_L_VM_SELECTED,
	TOP_L_VM_GONE,
	TOP_L_VCPU,
	TOP_L_NOTE,		/* "no VMs", filter notes */
};

typedef void (*top_line_fn)(void *ctx, enum top_line_kind kind, const char *text);

/* Sort (view's key) and emit the frame line by line; returns the lines emitted. */
unsigned int top_render(struct top_model *m, const struct top_view *v, top_line_fn fn, void *ctx);
/* Plain text to a stream (batch mode), followed by a blank line. */
void top_render_text(struct top_model *m, const struct top_view *v, FILE *f);
/* The frame as one JSON document (batch mode --json: JSON lines). */
void top_render_json(struct top_model *m, const struct top_view *v, FILE *f);

/* Visible VMs (after the filter), in display order; n at most max. */
unsigned int top_visible_vms(const struct top_model *m, const struct top_view *v,
			     uint32_t *pids, unsigned int max);

/* A count or rate in at most 5 characters: 12, 12345, 123k, 45M. */
void top_fmt_num(char *buf, size_t len, double v);

/* "shadow paging (kvm_pvm), MBEC/GMET off, ABI layout classic (from BTF)". */
void top_env_describe(const struct top_env *env, char *buf, size_t len);

#endif /* MBEC_TOP_RENDER_H */
