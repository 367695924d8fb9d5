/* SPDX-License-Identifier: GPL-2.0 */
/* What source.c (files, the common part) and live.c (the ring buffer) share. */
#ifndef MBEC_SOURCE_INTERNAL_H
#define MBEC_SOURCE_INTERNAL_H

#include "live/btf_layout.h"
#include "live/guest.h"
#include "live/live.h"
#include "source/source.h"
#include "trace/guestmem.h"
#include "trace/source.h"

struct mbec_source {
	enum mbec_source_kind kind;
	struct mbec_source_opts o;
	struct mbec_rec_info info;
	uint32_t pid;
	int (*on_record)(void *ctx, const void *rec, size_t len);
	void *ctx;
	bool stopped;			/* the consumer said stop: no drain at finish */
	bool ended;
	/* A file */
	struct trace_source *ts;
	struct guest_mem gmem;
	uint64_t base;			/* first timed record's time */
	bool workload_fed;
	struct workload_layout *assumed;	/* a capture of the workload: its layout */
	/* Live */
	struct mbec_live *live;
	struct role_layout rl;
	bool have_rl;
	bool spte_ept, mbec, tdp;
	struct mbec_vmm_mem mem;
	struct workload_layout *layout;
	struct workload_child child;
	int wl_status;
	bool wl_signalled;
	double t0;
	struct mbec_counter kernel[MBEC_EV_MAX];
	bool have_kernel;
	struct mbec_live_attach attach[MBEC_LIVE_NR_TP];
};

/* Hand one record to the consumer; remembers a request to stop. */
int src_deliver(void *s, const void *rec, size_t len);

/* live.c */
int src_live_open(struct mbec_source *s, char *err, size_t errlen);
void src_live_check_opts(struct mbec_source *s, struct mbec_check_opts *copts);
int src_live_start(struct mbec_source *s, char *err, size_t errlen);
int src_live_pump(struct mbec_source *s, int timeout_ms);
void src_live_finish(struct mbec_source *s);
void src_live_free(struct mbec_source *s);

#endif /* MBEC_SOURCE_INTERNAL_H */
