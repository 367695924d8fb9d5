// SPDX-License-Identifier: GPL-2.0
/*
 * mbectop --replay (run.h): the live view driven by a file's records, in
 * frames of the file's own clock, paced at --speed.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "top/run_internal.h"

static void replay_names(struct top_run *r, const struct mbec_rec_info *info)
{
	unsigned int i;

	for (i = 0; i < r->model->nr_vms; i++) {
		struct top_vm *vm = &r->model->vms[i];

		if (vm->name[0])
			continue;
		if ((info->flags & MBEC_REC_F_WORKLOAD) && vm->pid == info->pid)
			snprintf(vm->name, sizeof(vm->name), "workload");
		else
			snprintf(vm->name, sizeof(vm->name), "pid %u", vm->pid);
	}
}

/* Close the frame at recording time t and show it. */
static void replay_frame(struct top_run *r, uint64_t t)
{
	top_model_frame(r->model, t);
	replay_names(r, mbec_source_info(r->src));
	snprintf(r->view.clock, sizeof(r->view.clock), "+%.1fs", (double)(t - r->t0) / 1e9);
	top_show(r);
	r->frames++;
}

/*
 * Wait until the wall clock reaches recording time t (at --speed), handling
 * keys meanwhile; a pause holds the recording's clock.  false: quit.
 */
static bool replay_wait(struct top_run *r, uint64_t t)
{
	double speed = r->o->speed;

	for (;;) {
		uint64_t now = top_mono_ns(), target;
		int wait_ms;

		if (mbec_stop_requested)
			return false;
		if (speed <= 0 && !r->view.paused)
			target = 0;
		else
			target = r->wall0 + (uint64_t)((double)(t - r->t0) / (speed > 0 ? speed : 1));
		if (!r->view.paused && now >= target)
			return true;
		wait_ms = r->view.paused ? 100 : (int)((target - now) / 1000000);
		if (wait_ms > 50)
			wait_ms = 50;
		if (r->tui) {
			bool was_paused = r->view.paused;
			uint64_t before = top_mono_ns();
			enum top_tui_action a = top_tui_keys(r->tui, r->model, &r->view, wait_ms);

			if (a == TOP_TUI_QUIT)
				return false;
			/* Time spent paused does not count as recording time. */
			if (was_paused)
				r->wall0 += top_mono_ns() - before;
			if (a == TOP_TUI_REDRAW)
				top_show(r);
		} else {
			struct timespec ts = { 0, (long)wait_ms * 1000000L };

			nanosleep(&ts, NULL);
		}
	}
}

/*
 * One record: frames at the recording's own clock, every delay seconds
 * from its first record.  Non-zero: quit.
 */
static int on_record(void *ctx, const void *rec, size_t len)
{
	struct top_run *r = ctx;
	const struct mbec_event_hdr *h = rec;
	uint32_t pid = r->o->pid;
	/*
	 * Records user space made (guest entries, losses) may carry no time of
	 * their own: they neither start nor move the clock.
	 */
	bool timed = h->ts_ns && h->type != MBEC_EV_GUEST_PTE && h->type != MBEC_EV_GUEST_MEM &&
		     h->type != MBEC_EV_LOST;

	if (!timed) {
		if (!pid || h->pid == pid || h->type == MBEC_EV_LOST) {
			top_model_record(r->model, h, len);
			mbec_check_feed(r->engine, h, len);
		}
		return 0;
	}
	if (r->first) {
		r->t0 = r->last = h->ts_ns;
		r->end = r->t0 + r->d_ns;
		top_model_frame(r->model, r->t0);
		r->first = false;
		r->wall0 = top_mono_ns();
	}
	while (h->ts_ns >= r->end) {
		replay_frame(r, r->end);
		if ((r->o->frames_max && r->frames >= r->o->frames_max) ||
		    !replay_wait(r, r->end)) {
			r->quit = true;
			return 1;
		}
		r->end += r->d_ns;
	}
	if (h->ts_ns > r->last)
		r->last = h->ts_ns;
	/* The filter after the clock: other VMs' records still move it. */
	if (pid && h->pid != pid && h->type != MBEC_EV_LOST)
		return 0;
	if (h->type == MBEC_EV_SPTE_REQUESTED && r->model->env.mmu == TOP_MMU_SHADOW &&
	    h->size >= mbec_event_min_size(MBEC_EV_SPTE_REQUESTED) &&
	    (((const struct mbec_ev_spte_requested *)h)->flags & MBEC_FAULT_IS_TDP))
		r->model->env.mmu = TOP_MMU_NPT;	/* TDP with legacy-format SPTEs */
	top_model_record(r->model, h, len);
	mbec_check_feed(r->engine, h, len);
	return 0;
}

/* Read the file through.  0, or -1 when the input was damaged (the frames up to it shown). */
static int replay_loop(struct top_run *r)
{
	r->d_ns = (uint64_t)(r->o->delay * 1e9);
	r->wall0 = top_mono_ns();
	while (!r->quit && mbec_source_pump(r->src, 0) > 0)
		;
	if (r->quit || mbec_stop_requested)
		return 0;
	mbec_check_finish(r->engine);
	snprintf(r->view.status, sizeof(r->view.status), "end of the recording%s%s",
		 mbec_source_problem(r->src)[0] ? ": " : "", mbec_source_problem(r->src));
	/* The last, partial frame (or the only one of an empty recording). */
	if (r->first || r->last > r->model->frame_ns || !r->frames) {
		if (r->first)
			top_model_frame(r->model, 0);
		replay_frame(r, r->first ? 0 : r->last);
	} else if (r->tui) {
		top_show(r);
	}
	while (r->tui && !mbec_stop_requested) {
		enum top_tui_action a = top_tui_keys(r->tui, r->model, &r->view, 200);

		if (a == TOP_TUI_QUIT)
			break;
		if (a == TOP_TUI_REDRAW)
			top_show(r);
	}
	return mbec_source_damaged(r->src) ? -1 : 0;
}

/* Until the first kvm_page_fault: does the file count faults at the exits? */
static int find_page_fault(void *ctx, const void *rec, size_t len)
{
	const struct mbec_event_hdr *h = rec;

	(void)len;
	if (h->type != MBEC_EV_PAGE_FAULT)
		return 0;
	*(bool *)ctx = true;
	return 1;
}

/* The model set up from the file's header. */
static int replay_open(struct top_run *r, struct top_env *env, char *err, size_t errlen)
{
	const char *path = r->o->replay_path, *base = strrchr(path, '/');
	const struct mbec_rec_info *info;
	struct mbec_source_opts so;
	struct mbec_source *scan;
	bool exits = false;

	mbec_source_opts_init(&so);
	so.path = path;
	if (mbec_source_open(&r->src, &so, err, errlen))
		return -1;
	info = mbec_source_info(r->src);
	env->mmu = (info->flags & MBEC_REC_F_SPTE_EPT) ? TOP_MMU_EPT : TOP_MMU_SHADOW;
	env->mbec = info->flags & MBEC_REC_F_MBEC;
	env->layout = info->abi;
	snprintf(env->layout_src, sizeof(env->layout_src), "recording");
	/*
	 * Faults: from kvm_page_fault when the recording has any, else from
	 * kvm_mmu_spte_requested (a KVM that fires no kvm_page_fault).  A
	 * first pass over a file finds out; standard input cannot be read twice.
	 */
	env->faults = env->mmu == TOP_MMU_EPT ? TOP_FAULTS_EXITS : TOP_FAULTS_MAPPED;
	if (strcmp(path, "-") && !mbec_source_open(&scan, &so, err, errlen)) {
		mbec_source_start(scan, find_page_fault, &exits, err, errlen);
		while (!exits && mbec_source_pump(scan, 0) > 0)
			;
		env->faults = exits ? TOP_FAULTS_EXITS : TOP_FAULTS_MAPPED;
		mbec_source_free(scan);
	}
	err[0] = 0;
	snprintf(r->view.source, sizeof(r->view.source), "replay of %s (%s)",
		 base ? base + 1 : path, r->o->speed > 0 ? "" : "as fast as possible");
	if (r->o->speed > 0)
		snprintf(r->view.source, sizeof(r->view.source), "replay of %s (x%g)",
			 base ? base + 1 : path, r->o->speed);
	snprintf(r->view.cost_note, sizeof(r->view.cost_note), "n/a (replay)");
	return 0;
}

int top_replay(struct top_run *r, char *err, size_t errlen)
{
	struct top_env env = { 0 };

	if (replay_open(r, &env, err, errlen)) {
		/* As the file's other readers say it: which file. */
		char what[400];

		snprintf(what, sizeof(what), "%s", err);
		snprintf(err, errlen, "%s: %s", r->o->replay_path, what);
		return -1;
	}
	if (top_engines(r, &env, false)) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	mbec_catch_signals(MBEC_HUP_STOPS);
	if (mbec_source_start(r->src, on_record, r, err, errlen) || top_tui_start(r, err, errlen))
		return -1;
	if (replay_loop(r)) {
		snprintf(err, errlen, "%s: %s", r->o->replay_path, mbec_source_problem(r->src));
		return -1;
	}
	return r->model->g_tot[TOP_G_ANOM] ? 1 : 0;
}
