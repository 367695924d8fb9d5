/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mbectop's two loops, behind one call: live (the kernel's per-vCPU
 * counters sampled every delay seconds, the ring buffer's records through
 * the check engine for anomalies) and --replay (the same view driven by a
 * file's own clock).  Both read their records through src/source.
 */
#ifndef MBEC_TOP_RUN_H
#define MBEC_TOP_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mbec_kvm.h"
#include "top/render.h"

struct top_run_opts {
	struct top_view view;		/* sort, reverse, filter, expand_all as asked */
	double delay;			/* seconds between frames */
	bool batch, json;
	long frames_max;		/* 0: no limit */
	uint32_t pid;			/* only this VMM process (0: all) */
	const char *replay_path;	/* NULL: live */
	double speed;			/* replay pace (0: as fast as possible) */
	/* Live */
	bool workload, bpf_stats;
	enum mbec_layout layout;	/* MBEC_LAYOUT_UNKNOWN: from BTF */
	size_t ringbuf_bytes;
	int verbose;
};

/*
 * Run mbectop to its end: 0 fine, 1 anomalies were found, or -1 with one
 * line in err (the caller exits 2).
 */
int top_run(const struct top_run_opts *o, char *err, size_t errlen);

#endif /* MBEC_TOP_RUN_H */
