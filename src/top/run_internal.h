/* SPDX-License-Identifier: GPL-2.0 */
/* What mbectop's live loop (live.c) and replay loop (replay.c) share. */
#ifndef MBEC_TOP_RUN_INTERNAL_H
#define MBEC_TOP_RUN_INTERNAL_H

#include "check/check.h"
#include "source/source.h"
#include "top/model.h"
#include "top/run.h"
#include "top/tui.h"

struct top_run {
	const struct top_run_opts *o;
	struct mbec_source *src;
	struct top_model *model;
	struct top_view view;
	struct mbec_check *engine;
	struct top_tui *tui;
	long frames;
	/* Live */
	int vm_fd, full_fd, ncpus;
	int stats_fd;			/* BPF_ENABLE_STATS, or -1 */
	uint32_t workload_pid;
	uint64_t last_scan_ns;		/* last look for processes holding a VM */
	/* Replay */
	uint64_t d_ns, t0, end, last, wall0;
	bool first, quit;
};

uint64_t top_mono_ns(void);
/* Draw the frame: the full-screen view, or a batch frame (text or JSON). */
void top_show(struct top_run *r);
/* The engine's anomalies into the model. */
void top_on_anomaly(void *ctx, const struct mbec_anomaly *a);
/* The engine set up from the source and the model from env; 0 or -1 (out of memory). */
int top_engines(struct top_run *r, const struct top_env *env, bool absolute);
/* The full-screen view unless batch; 0, or -1 with one line in err. */
int top_tui_start(struct top_run *r, char *err, size_t errlen);

int top_live(struct top_run *r, char *err, size_t errlen);
int top_replay(struct top_run *r, char *err, size_t errlen);

#endif /* MBEC_TOP_RUN_INTERNAL_H */
