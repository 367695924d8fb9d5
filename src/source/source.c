// SPDX-License-Identifier: GPL-2.0
/*
 * The one source of records (source.h): what every kind shares, and the
 * files (a recording, ftrace text, trace.dat), which src/trace reads and
 * tells apart by their first bytes.  The ring buffer is in live.c.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "source/source_internal.h"
#include "trace/tracedat.h"

/* A file is handed on in batches, so that a caller's loop keeps its pace. */
#define SRC_BATCH	4096

volatile sig_atomic_t mbec_stop_requested, mbec_hup_requested;

static void on_stop_signal(int sig)
{
	(void)sig;
	mbec_stop_requested = 1;
}

static void on_hup_signal(int sig)
{
	(void)sig;
	mbec_hup_requested = 1;
}

void mbec_catch_signals(enum mbec_hup hup)
{
	struct sigaction sa = { .sa_handler = on_stop_signal };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (hup == MBEC_HUP_STOPS)
		sigaction(SIGHUP, &sa, NULL);
	if (hup == MBEC_HUP_RELOADS) {
		sa.sa_handler = on_hup_signal;
		sigaction(SIGHUP, &sa, NULL);
	}
}

void mbec_source_opts_init(struct mbec_source_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->layout = MBEC_LAYOUT_UNKNOWN;
	o->spte_ept = -1;
}

const char *mbec_source_kind_name(enum mbec_source_kind k)
{
	static const char *const names[] = {
		[MBEC_SOURCE_LIVE] = "live",
		[MBEC_SOURCE_RECORDING] = "recording",
		[MBEC_SOURCE_FTRACE] = "ftrace-text",
		[MBEC_SOURCE_TRACEDAT] = "trace.dat",
	};

	return (unsigned int)k < sizeof(names) / sizeof(names[0]) ? names[k] : "?";
}

int src_deliver(void *ctx, const void *rec, size_t len)
{
	struct mbec_source *s = ctx;
	int r;

	if (!s->on_record)
		return 0;
	r = s->on_record(s->ctx, rec, len);
	if (r)
		s->stopped = true;
	return r;
}

/* A file is opened: its kind, and what a capture of the workload adds. */
static int file_opened(struct mbec_source *s, char *err, size_t errlen)
{
	s->kind = trace_source_tracedat(s->ts) ? MBEC_SOURCE_TRACEDAT :
		  trace_source_is_text(s->ts) ? MBEC_SOURCE_FTRACE : MBEC_SOURCE_RECORDING;
	s->info = *trace_source_info(s->ts);
	s->pid = s->o.pid;
	/* A recording of the workload carries its guest entries and mode already. */
	if (!s->o.workload || (s->info.flags & MBEC_REC_F_WORKLOAD))
		return 0;
	s->assumed = workload_layout_new(s->o.workload);
	if (!s->assumed) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	/* The built-in guest's CPU mode, from its registers, as check takes it. */
	if (!s->info.has_mode)
		mbec_workload_mode(s->assumed, &s->info.mode);
	s->info.has_mode = true;
	s->info.flags |= MBEC_REC_F_WORKLOAD;
	return 0;
}

static struct mbec_source *src_new(const struct mbec_source_opts *opts, char *err, size_t errlen)
{
	struct mbec_source *s = calloc(1, sizeof(*s));

	err[0] = 0;
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (opts)
		s->o = *opts;
	else
		mbec_source_opts_init(&s->o);
	s->child.pid = -1;
	s->child.go_fd = -1;
	s->wl_status = -1;
	s->mem.fd = -1;
	return s;
}

static int src_opened(struct mbec_source **out, struct mbec_source *s, int ret)
{
	if (ret) {
		mbec_source_free(s);
		return -1;
	}
	*out = s;
	return 0;
}

int mbec_source_open(struct mbec_source **out, const struct mbec_source_opts *opts, char *err,
		     size_t errlen)
{
	struct trace_source_opts so;
	struct mbec_source *s = src_new(opts, err, errlen);

	*out = NULL;
	if (!s)
		return -1;
	if (!s->o.path) {
		s->kind = MBEC_SOURCE_LIVE;
		return src_opened(out, s, src_live_open(s, err, errlen));
	}
	so.layout = s->o.layout;
	so.spte_ept = s->o.spte_ept;
	if (trace_source_open(&s->ts, s->o.path, &so, err, errlen))
		return src_opened(out, s, -1);
	return src_opened(out, s, file_opened(s, err, errlen));
}

int mbec_source_open_mem(struct mbec_source **out, const void *data, size_t len,
			 const struct mbec_source_opts *opts, char *err, size_t errlen)
{
	struct trace_source_opts so;
	struct mbec_source *s = src_new(opts, err, errlen);

	*out = NULL;
	if (!s)
		return -1;
	so.layout = s->o.layout;
	so.spte_ept = s->o.spte_ept;
	if (trace_source_open_mem(&s->ts, data, len, &so, err, errlen))
		return src_opened(out, s, -1);
	return src_opened(out, s, file_opened(s, err, errlen));
}

enum mbec_source_kind mbec_source_kind(const struct mbec_source *s)
{
	return s->kind;
}

const struct mbec_rec_info *mbec_source_info(const struct mbec_source *s)
{
	return &s->info;
}

uint32_t mbec_source_pid(const struct mbec_source *s)
{
	return s->pid;
}

bool mbec_source_tdp(const struct mbec_source *s)
{
	return s->kind == MBEC_SOURCE_LIVE ? s->tdp : s->info.flags & MBEC_REC_F_SPTE_EPT;
}

uint64_t mbec_source_base_ns(const struct mbec_source *s)
{
	return s->base;
}

void mbec_source_check_opts(struct mbec_source *s, struct mbec_check_opts *copts)
{
	const struct mbec_rec_info *info = &s->info;

	if (s->kind == MBEC_SOURCE_LIVE) {
		src_live_check_opts(s, copts);
		return;
	}
	copts->layout = info->abi;
	copts->role = &info->role;
	copts->spte_ept = info->flags & MBEC_REC_F_SPTE_EPT;
	copts->spte_fmt_unknown = info->flags & MBEC_REC_F_SPTE_FMT_UNKNOWN;
	copts->mbec = info->flags & MBEC_REC_F_MBEC;
	if (info->has_mode) {
		copts->expect_mode_valid = true;
		copts->expect_mode = info->mode;
		/* The built-in guest's supervisor passes change CR0.WP, SMEP and SMAP. */
		if (info->flags & MBEC_REC_F_WORKLOAD)
			copts->nr_alt_modes = mbec_workload_alt_modes(&info->mode, copts->alt_modes,
								       MBEC_CHECK_ALT_MODES);
	}
	/* What check read from VMM memory while recording, answered from the recording. */
	copts->guest.read_mem = guest_mem_read;
	copts->guest.ctx = &s->gmem;
}

int mbec_source_start(struct mbec_source *s,
		      int (*on_record)(void *ctx, const void *rec, size_t len), void *ctx,
		      char *err, size_t errlen)
{
	s->on_record = on_record;
	s->ctx = ctx;
	err[0] = 0;
	return s->kind == MBEC_SOURCE_LIVE ? src_live_start(s, err, errlen) : 0;
}

/* One record of a file through the filters; false when the consumer said stop. */
static bool file_record(struct mbec_source *s, const struct mbec_event_hdr *h)
{
	uint64_t rel;

	if (h->ts_ns) {
		if (!s->base) {
			s->base = h->ts_ns;
			if (s->o.has_from && s->kind == MBEC_SOURCE_RECORDING)
				trace_source_window(s->ts, s->base + s->o.from_ns,
						    s->o.has_to ? s->base + s->o.to_ns : 0);
		}
		rel = h->ts_ns >= s->base ? h->ts_ns - s->base : 0;
		if ((s->o.has_from && rel < s->o.from_ns) || (s->o.has_to && rel > s->o.to_ns))
			return true;
	}
	/* Text without a TGID column has the thread only. */
	if (s->pid && h->type != MBEC_EV_LOST && h->pid != s->pid &&
	    !(h->pid == 0 && h->tid == s->pid))
		return true;
	if (s->assumed && !s->workload_fed && h->type != MBEC_EV_LOST) {
		s->workload_fed = true;
		mbec_feed_guest_ptes(s->assumed, s->pid ? s->pid : h->pid, src_deliver, s);
		if (s->stopped)
			return false;
	}
	if (h->type == MBEC_EV_GUEST_MEM) {
		const struct mbec_ev_guest_mem *g = (const void *)h;

		guest_mem_put(&s->gmem, g->hdr.pid, g->hva, g->val);
		/* Not an event: live, the engine never sees it. */
		if (!s->o.guest_mem_records)
			return true;
	}
	return !src_deliver(s, h, h->size);
}

int mbec_source_pump(struct mbec_source *s, int timeout_ms)
{
	const struct mbec_event_hdr *h;
	unsigned int n;

	if (s->kind == MBEC_SOURCE_LIVE)
		return src_live_pump(s, timeout_ms);
	if (s->ended)
		return 0;
	for (n = 0; n < SRC_BATCH; n++) {
		if (trace_source_next(s->ts, &h) <= 0) {
			s->ended = true;
			return 0;
		}
		if (!file_record(s, h))
			break;
	}
	return 1;
}

int mbec_source_run(struct mbec_source *s, int tick_ms, int (*on_tick)(void *ctx), void *ctx)
{
	int r;

	while (!mbec_stop_requested && !s->stopped) {
		r = mbec_source_pump(s, tick_ms);
		if (r < 0)
			return -1;
		if (on_tick && on_tick(ctx))
			break;
		if (!r)
			break;
	}
	return 0;
}

void mbec_source_finish(struct mbec_source *s)
{
	if (s->kind == MBEC_SOURCE_LIVE)
		src_live_finish(s);
}

const struct mbec_counter *mbec_source_counters(struct mbec_source *s)
{
	const struct mbec_rec_trailer *tr;

	if (s->kind == MBEC_SOURCE_LIVE) {
		if (s->live && !mbec_live_counters(s->live, s->kernel))
			s->have_kernel = true;
		return s->have_kernel ? s->kernel : NULL;
	}
	tr = trace_source_trailer(s->ts);
	return tr->present && tr->has_kernel ? tr->counters : NULL;
}

const struct mbec_live_attach *mbec_source_attach(const struct mbec_source *s)
{
	return s->kind == MBEC_SOURCE_LIVE ? s->attach : NULL;
}

struct mbec_live *mbec_source_live(const struct mbec_source *s)
{
	return s->live;
}

const struct trace_source *mbec_source_trace(const struct mbec_source *s)
{
	return s->ts;
}

const struct workload_layout *mbec_source_workload_layout(const struct mbec_source *s)
{
	return s->layout;
}

const struct workload_child *mbec_source_workload_child(const struct mbec_source *s)
{
	return s->layout ? &s->child : NULL;
}

int mbec_source_workload_status(const struct mbec_source *s, bool *signalled)
{
	if (signalled)
		*signalled = s->wl_signalled;
	return s->wl_status;
}

const char *mbec_source_problem(const struct mbec_source *s)
{
	return s->ts ? trace_source_problem(s->ts) : "";
}

bool mbec_source_damaged(const struct mbec_source *s)
{
	return s->ts && trace_source_damaged(s->ts);
}

void mbec_source_free(struct mbec_source *s)
{
	if (!s)
		return;
	src_live_free(s);
	trace_source_free(s->ts);
	guest_mem_free(&s->gmem);
	workload_layout_free(s->assumed);
	free(s);
}
