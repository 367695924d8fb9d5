// SPDX-License-Identifier: GPL-2.0
/*
 * mbectop (run.h): what the live and the replay loop share, and the one
 * call that runs either.
 */
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include "mbec_vmstats.h"
#include "top/run_internal.h"

uint64_t top_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

void top_show(struct top_run *r)
{
	if (r->tui)
		top_tui_draw(r->tui, r->model, &r->view);
	else if (r->o->json)
		top_render_json(r->model, &r->view, stdout);
	else
		top_render_text(r->model, &r->view, stdout);
}

void top_on_anomaly(void *ctx, const struct mbec_anomaly *a)
{
	struct top_run *r = ctx;

	top_model_anomaly(r->model, a->pid, mbec_vmstats_vcpu(a->vcpu_id, a->tid));
}

int top_engines(struct top_run *r, const struct top_env *env, bool absolute)
{
	struct mbec_check_opts copts = { 0 };

	mbec_source_check_opts(r->src, &copts);
	r->engine = mbec_check_new(&copts);
	r->model = top_model_new(env, absolute);
	if (!r->engine || !r->model)
		return -1;
	mbec_check_on_anomaly(r->engine, top_on_anomaly, r);
	return 0;
}

int top_tui_start(struct top_run *r, char *err, size_t errlen)
{
	if (r->o->batch)
		return 0;
	r->tui = top_tui_open(err, errlen);
	if (!r->tui)
		return -1;
	r->view.tui = true;
	return 0;
}

int top_run(const struct top_run_opts *o, char *err, size_t errlen)
{
	struct top_run r = { .o = o, .view = o->view, .vm_fd = -1, .full_fd = -1,
			     .stats_fd = -1, .first = true };
	int rc;

	err[0] = 0;
	rc = o->replay_path ? top_replay(&r, err, errlen) : top_live(&r, err, errlen);
	top_tui_close(r.tui);
	if (r.stats_fd >= 0)
		close(r.stats_fd);
	mbec_source_free(r.src);
	mbec_check_free(r.engine);
	top_model_free(r.model);
	return rc;
}
