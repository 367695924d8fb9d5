// SPDX-License-Identifier: GPL-2.0
/*
 * mbecscope top (mbectop): the live view of KVM's MMU per VM.
 *
 * The numbers come from the kernel's per-vCPU counters (vm_stats in
 * bpf/mbecscope.bpf.c, read once per refresh), so they stay right when the
 * ring buffer overflows; the records in the ring buffer go through the
 * check engine only to find anomalies.  src/top/model.c turns counts into
 * rates, src/top/render.c into lines, src/top/tui.c onto the terminal;
 * batch mode (-b) prints the same lines.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "check/check.h"
#include "cli/cli.h"
#include "cli/common.h"
#include "live/kvm_env.h"
#include "live/btf_layout.h"
#include "live/guest.h"
#include "live/live.h"
#include "mbec_vmstats.h"
#include "top/model.h"
#include "top/render.h"
#include "top/tui.h"
#include "top/vmname.h"
#include "trace/source.h"
#include "workload/workload.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: %s top [-d SECONDS] [-b [-n COUNT] [--json]] [--sort COLUMN] [--pid PID]\n"
		"       [--filter TEXT] [--vcpus] [--workload] [--bpf-stats] [--layout L] [-v]\n"
		"       [--replay FILE [--speed N]]\n"
		"       mbectop [the same options]\n"
		"\n"
		"Show what KVM's MMU does, per VM: faults by access and cause, SPTE installs\n"
		"by permission and page size, anomalies found by the checker.  Counts come\n"
		"from in-kernel counters, so they stay right when events are lost.\n"
		"\n"
		"  -d, --delay S     refresh every S seconds (default 1, at least 0.1)\n"
		"  -b, --batch       print plain text frames instead of the full-screen view\n"
		"  -n, --iterations N  stop after N frames\n"
		"  --json            with -b: one JSON document per frame (JSON lines)\n"
		"  --sort COLUMN     faults, sptes, gpf, anomalies, read, write, fetch, user,\n"
		"                    supv, notp, perm, xs, xu, rsvd, spte-r, spte-w, spte-xs,\n"
		"                    spte-xu, spte-u, spte-nx, 4k, 2m, 1g, pid, name, vcpus\n"
		"  --reverse         reverse the sort order\n"
		"  -p, --pid PID     watch only the VMM process PID\n"
		"  --filter TEXT     show only VMs whose pid is TEXT or whose name contains it\n"
		"  --vcpus           show every VM's vCPUs\n"
		"  --workload        run the built-in guest (2 vCPUs, matrix rounds) and watch it\n"
		"  --bpf-stats       turn on the kernel's BPF run-time statistics while running,\n"
		"                    to show the tool's own cost\n"
		"  --replay FILE     drive the view from a recording (or ftrace text) instead\n"
		"                    of the live kernel; needs no root\n"
		"  --speed N         replay at N times the recorded speed (default 1; 0: as\n"
		"                    fast as possible)\n"
		"  --layout L        KVM ABI: classic, mbec or auto (from BTF)\n"
		"  -v, --verbose     libbpf diagnostics\n"
		"\n"
		"Keys: q quit, space pause, s sort column, o reverse, f filter, enter or x\n"
		"expand a VM into vCPUs, up/down select, h help.\n"
		"Exit status: 0 fine, 1 anomalies were found, 2 usage or environment error.\n",
		prog_name);
}

struct top_run {
	struct top_model *model;
	struct top_view view;
	struct mbec_check *engine;
	struct mbec_live *live;
	struct top_tui *tui;
	int vm_fd, full_fd, ncpus;
	int stats_fd;			/* BPF_ENABLE_STATS, or -1 */
	struct workload_child child;
	struct workload_layout *layout;
	uint32_t workload_pid;
	int wl_status;			/* -1 running or none */
	bool batch, json;
	long frames_max;		/* 0: no limit */
	long frames;
	double delay;
	uint32_t pid;
	uint64_t last_scan_ns;		/* last look for processes holding a VM */
	/* --replay */
	struct trace_source *src;
	const char *replay_path;
	double speed;			/* 0: as fast as possible */
};

static bool sysfs_exists(const char *path)
{
	return access(path, F_OK) == 0;
}

/* Which MMU flavour the running KVM uses, from its module parameters. */
static void detect_env(struct top_env *env)
{
	struct live_kvm_env kvm;
	static const char *const modules[] = { "kvm_intel", "kvm_amd", "kvm_pvm" };
	char path[96];
	unsigned int i;

	env->mmu = TOP_MMU_SHADOW;
	env->mbec = false;
	env->module[0] = 0;
	for (i = 0; i < sizeof(modules) / sizeof(modules[0]); i++) {
		snprintf(path, sizeof(path), "/sys/module/%s", modules[i]);
		if (sysfs_exists(path)) {
			snprintf(env->module, sizeof(env->module), "%s", modules[i]);
			break;
		}
	}
	/*
	 * kvm_page_fault fires in the VMX and SVM exit handlers; another KVM
	 * (kvm_pvm) maps faults without it, so count what KVM maps instead.
	 */
	env->faults = !strcmp(env->module, "kvm_intel") || !strcmp(env->module, "kvm_amd") ?
		      TOP_FAULTS_EXITS : TOP_FAULTS_MAPPED;
	live_kvm_env_at("", &kvm);
	if (kvm.tdp) {
		env->mmu = kvm.vendor == LIVE_KVM_INTEL ? TOP_MMU_EPT : TOP_MMU_NPT;
		env->mbec = kvm.mbec;
	}
}

static void on_anomaly(void *ctx, const struct mbec_anomaly *a)
{
	struct top_run *r = ctx;

	top_model_anomaly(r->model, a->pid, mbec_vmstats_vcpu(a->vcpu_id, a->tid));
}

static int on_record(void *ctx, const void *rec, size_t len)
{
	struct top_run *r = ctx;

	mbec_check_feed(r->engine, rec, len);
	return 0;
}

/* Forget the kernel's counts of a process (all vCPUs) or of one of its vCPUs. */
static void forget(struct top_run *r, uint32_t pid, bool all, uint32_t vcpu)
{
	struct mbec_vmstats_key key, next, *prev = NULL, *dead = NULL;
	size_t n = 0, cap = 0, i;

	while (!bpf_map_get_next_key(r->vm_fd, prev, &next)) {
		key = next;
		prev = &key;
		if (next.pid != pid || (!all && next.vcpu_id != vcpu))
			continue;
		if (n == cap) {
			struct mbec_vmstats_key *d;

			cap = cap ? cap * 2 : 64;
			d = realloc(dead, cap * sizeof(*d));
			if (!d)
				break;
			dead = d;
		}
		dead[n++] = next;
	}
	for (i = 0; i < n; i++)
		bpf_map_delete_elem(r->vm_fd, &dead[i]);
	free(dead);
}

/*
 * vCPUs known only by their thread (MBEC_VMSTATS_TID): when the thread is
 * gone (a VMM that recreates vCPU threads, like the workload's rounds), it
 * is still shown in the frame that saw it go, then its counts are folded
 * into the VM and its kernel counters freed.
 */
static void retire_threads(struct top_run *r, struct top_vm *vm)
{
	unsigned int j;
	char path[64];

	for (j = 0; j < vm->nr_vcpus;) {
		struct top_vcpu *v = &vm->vcpus[j];
		uint32_t id = v->id;

		if (v->gone) {
			top_model_vcpu_retire(r->model, vm, id);
			forget(r, vm->pid, false, id);
			continue;
		}
		snprintf(path, sizeof(path), "/proc/%u/task/%u", vm->pid, id & ~MBEC_VMSTATS_TID);
		if ((id & MBEC_VMSTATS_TID) && access(path, F_OK))
			v->gone = true;
		j++;
	}
}

static uint64_t mono_ns(void)
{
	return cli_clock_ns(CLOCK_MONOTONIC);
}

/* Read the kernel's counters into the model (one refresh). */
static void live_sample(struct top_run *r)
{
	struct mbec_counter k[MBEC_EV_MAX];
	struct mbec_vmstats_key key, next, *prev = NULL;
	uint64_t v, events = 0, lost = 0, run_ns, run_cnt;
	__u32 zero = 0;
	unsigned int i;

	top_model_sample_begin(r->model);
	while (!bpf_map_get_next_key(r->vm_fd, prev, &next)) {
		key = next;
		prev = &key;
		if (!bpf_map_lookup_elem(r->vm_fd, &key, &v))
			top_model_count(r->model, key.pid, key.vcpu_id, key.type, key.bucket, v);
	}
	if (!mbec_live_counters(r->live, k)) {
		for (i = 0; i < MBEC_EV_MAX; i++) {
			events += k[i].seen - k[i].skipped;
			lost += k[i].dropped;
		}
		top_model_set_global(r->model, TOP_G_EVENTS, events);
		top_model_set_global(r->model, TOP_G_FAULTS,
				     k[r->model->env.faults == TOP_FAULTS_EXITS ?
				       MBEC_EV_PAGE_FAULT : MBEC_EV_SPTE_REQUESTED].seen);
		top_model_set_global(r->model, TOP_G_SPTES, k[MBEC_EV_SET_SPTE].seen);
		top_model_set_global(r->model, TOP_G_LOST, lost);
	}
	if (r->full_fd >= 0 && r->ncpus > 0) {
		uint64_t *percpu = calloc((size_t)r->ncpus, sizeof(*percpu)), sum = 0;
		int c;

		if (percpu && !bpf_map_lookup_elem(r->full_fd, &zero, percpu))
			for (c = 0; c < r->ncpus; c++)
				sum += percpu[c];
		free(percpu);
		top_model_set_global(r->model, TOP_G_UNTRACKED, sum);
	}
	if (!mbec_live_prog_stats(r->live, &run_ns, &run_cnt)) {
		top_model_set_global(r->model, TOP_G_BPF_NS, run_ns);
		top_model_set_global(r->model, TOP_G_BPF_RUNS, run_cnt);
	}
	/* Idle VMs too: the processes holding a VM, every few seconds. */
	if (!r->last_scan_ns || mono_ns() - r->last_scan_ns >= 5000000000ULL) {
		uint32_t pids[1024];
		unsigned int n = top_scan_vms("/proc", pids, 1024);

		for (i = 0; i < n; i++)
			if (!r->pid || pids[i] == r->pid)
				top_model_vm(r->model, pids[i], true);
		r->last_scan_ns = mono_ns();
	}
	/* Name the new VMs, notice the ones that are gone. */
	for (i = 0; i < r->model->nr_vms; i++) {
		struct top_vm *vm = &r->model->vms[i];

		if (!vm->name[0]) {
			if (vm->pid == r->workload_pid)
				snprintf(vm->name, sizeof(vm->name), "workload");
			else
				top_vm_name(vm->pid, vm->name, sizeof(vm->name));
		}
		if (!vm->gone && !top_pid_alive(vm->pid)) {
			top_model_vm_gone(r->model, vm->pid);
			forget(r, vm->pid, true, 0);
			continue;
		}
		retire_threads(r, vm);
	}
}

static bool stats_sysctl_on(void)
{
	return live_sysfs_yes("/proc/sys/kernel/bpf_stats_enabled");
}

static void live_view_notes(struct top_run *r)
{
	struct top_view *v = &r->view;
	time_t now = time(NULL);
	struct tm tm;

	localtime_r(&now, &tm);
	strftime(v->clock, sizeof(v->clock), "%H:%M:%S", &tm);
	v->cost_known = r->stats_fd >= 0 || stats_sysctl_on();
	if (!v->cost_known)
		snprintf(v->cost_note, sizeof(v->cost_note),
			 "unknown: BPF statistics are off (sysctl kernel.bpf_stats_enabled=1, "
			 "or run with --bpf-stats)");
}

static void show(struct top_run *r)
{
	if (r->tui)
		top_tui_draw(r->tui, r->model, &r->view);
	else if (r->json)
		top_render_json(r->model, &r->view, stdout);
	else
		top_render_text(r->model, &r->view, stdout);
}

static void reap_workload(struct top_run *r)
{
	int st;

	if (r->child.pid <= 0 || waitpid(r->child.pid, &st, WNOHANG) != r->child.pid)
		return;
	r->wl_status = WIFEXITED(st) ? WEXITSTATUS(st) : 2;
	r->child.pid = -1;
	snprintf(r->view.status, sizeof(r->view.status), "the built-in workload exited (status "
		 "%d%s)", r->wl_status, r->wl_status == 1 ? ": its self-check failed" : "");
}

/* The live loop: sample every delay seconds, draw, handle keys.  0 or -1 (error). */
static int live_loop(struct top_run *r)
{
	uint64_t delay_ns = (uint64_t)(r->delay * 1e9), next;
	int ret;

	live_sample(r);
	top_model_frame(r->model, mono_ns());
	if (r->tui) {
		live_view_notes(r);
		snprintf(r->view.status, sizeof(r->view.status), "collecting: first rates in %.1fs",
			 r->delay);
		show(r);
		r->view.status[0] = 0;
	}
	next = mono_ns() + delay_ns;
	while (!cli_stop_requested) {
		uint64_t now = mono_ns();
		int wait_ms = now >= next ? 0 : (int)((next - now) / 1000000);

		if (wait_ms > 50)
			wait_ms = 50;
		if (r->tui) {
			enum top_tui_action a;

			ret = mbec_live_poll(r->live, 0);
			a = top_tui_keys(r->tui, r->model, &r->view, wait_ms);
			if (a == TOP_TUI_QUIT)
				break;
			if (a == TOP_TUI_REDRAW) {
				live_view_notes(r);
				show(r);
			}
		} else {
			ret = mbec_live_poll(r->live, wait_ms);
		}
		if (ret < 0 && ret != -EINTR)
			return -1;
		reap_workload(r);
		now = mono_ns();
		if (now < next)
			continue;
		live_sample(r);
		top_model_frame(r->model, now);
		next += delay_ns;
		if (next < now)
			next = now + delay_ns;
		if (r->tui && r->view.paused)
			continue;
		live_view_notes(r);
		show(r);
		r->frames++;
		if (r->frames_max && r->frames >= r->frames_max)
			break;
	}
	return 0;
}


/* ---- --replay: the same view driven by a recording ---------------------------- */

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
static void replay_frame(struct top_run *r, const struct mbec_rec_info *info, uint64_t t,
			 uint64_t t0)
{
	top_model_frame(r->model, t);
	replay_names(r, info);
	snprintf(r->view.clock, sizeof(r->view.clock), "+%.1fs", (double)(t - t0) / 1e9);
	show(r);
	r->frames++;
}

/*
 * Wait until the wall clock reaches recording time t (at --speed), handling
 * keys meanwhile; a pause holds the recording's clock.  false: quit.
 */
static bool replay_wait(struct top_run *r, uint64_t t, uint64_t t0, uint64_t *wall0)
{
	for (;;) {
		uint64_t now = mono_ns(), target;
		int wait_ms;

		if (cli_stop_requested)
			return false;
		if (r->speed <= 0 && !r->view.paused)
			target = 0;
		else
			target = *wall0 +
				 (uint64_t)((double)(t - t0) / (r->speed > 0 ? r->speed : 1));
		if (!r->view.paused && now >= target)
			return true;
		wait_ms = r->view.paused ? 100 : (int)((target - now) / 1000000);
		if (wait_ms > 50)
			wait_ms = 50;
		if (r->tui) {
			bool was_paused = r->view.paused;
			uint64_t before = mono_ns();
			enum top_tui_action a = top_tui_keys(r->tui, r->model, &r->view, wait_ms);

			if (a == TOP_TUI_QUIT)
				return false;
			/* Time spent paused does not count as recording time. */
			if (was_paused)
				*wall0 += mono_ns() - before;
			if (a == TOP_TUI_REDRAW)
				show(r);
		} else {
			struct timespec ts = { 0, (long)wait_ms * 1000000L };

			nanosleep(&ts, NULL);
		}
	}
}

/*
 * Read the recording through: frames at the recording's own clock, every
 * delay seconds from its first record.  Returns 0, or -1 when the input
 * was damaged (the frames up to the damage were shown).
 */
static int replay_loop(struct top_run *r)
{
	const struct mbec_rec_info *info = trace_source_info(r->src);
	const struct mbec_event_hdr *h;
	uint64_t d_ns = (uint64_t)(r->delay * 1e9), t0 = 0, end = 0, last = 0, wall0 = mono_ns();
	bool first = true, quit = false;
	int ret;

	while (!quit && (ret = trace_source_next(r->src, &h)) > 0) {
		/*
		 * Records user space made (guest entries, losses) may carry no
		 * time of their own: they neither start nor move the clock.
		 */
		bool timed = h->ts_ns && h->type != MBEC_EV_GUEST_PTE &&
			     h->type != MBEC_EV_GUEST_MEM && h->type != MBEC_EV_LOST;

		if (!timed) {
			if (!r->pid || h->pid == r->pid || h->type == MBEC_EV_LOST) {
				top_model_record(r->model, h, h->size);
				mbec_check_feed(r->engine, h, h->size);
			}
			continue;
		}
		if (first) {
			t0 = last = h->ts_ns;
			end = t0 + d_ns;
			top_model_frame(r->model, t0);
			first = false;
			wall0 = mono_ns();
		}
		while (h->ts_ns >= end) {
			replay_frame(r, info, end, t0);
			if ((r->frames_max && r->frames >= r->frames_max) ||
			    !replay_wait(r, end, t0, &wall0)) {
				quit = true;
				break;
			}
			end += d_ns;
		}
		if (quit)
			break;
		if (h->ts_ns > last)
			last = h->ts_ns;
		if (r->pid && h->pid != r->pid && h->type != MBEC_EV_LOST)
			continue;
		if (h->type == MBEC_EV_SPTE_REQUESTED && r->model->env.mmu == TOP_MMU_SHADOW &&
		    h->size >= mbec_event_min_size(MBEC_EV_SPTE_REQUESTED) &&
		    (((const struct mbec_ev_spte_requested *)h)->flags & MBEC_FAULT_IS_TDP))
			r->model->env.mmu = TOP_MMU_NPT;	/* TDP with legacy-format SPTEs */
		top_model_record(r->model, h, h->size);
		mbec_check_feed(r->engine, h, h->size);
	}
	if (quit || cli_stop_requested)
		return 0;
	mbec_check_finish(r->engine);
	snprintf(r->view.status, sizeof(r->view.status), "end of the recording%s%s",
		 trace_source_problem(r->src)[0] ? ": " : "", trace_source_problem(r->src));
	/* The last, partial frame (or the only one of an empty recording). */
	if (first || last > r->model->frame_ns || !r->frames) {
		if (first)
			top_model_frame(r->model, 0);
		replay_frame(r, info, first ? 0 : last, t0);
	} else if (r->tui) {
		show(r);
	}
	while (r->tui && !cli_stop_requested) {
		enum top_tui_action a = top_tui_keys(r->tui, r->model, &r->view, 200);

		if (a == TOP_TUI_QUIT)
			break;
		if (a == TOP_TUI_REDRAW)
			show(r);
	}
	return trace_source_damaged(r->src) ? -1 : 0;
}

/* Set up the model and the engine from the recording's header. */
static int replay_open(struct top_run *r, struct mbec_check_opts *copts, struct top_env *env,
		       char *err, size_t errlen)
{
	struct trace_source_opts so = { .layout = MBEC_LAYOUT_UNKNOWN, .spte_ept = -1 };
	const struct mbec_rec_info *info;
	const struct mbec_event_hdr *h;
	struct trace_source *scan;
	const char *base = strrchr(r->replay_path, '/');

	if (trace_source_open(&r->src, r->replay_path, &so, err, errlen))
		return -1;
	info = trace_source_info(r->src);
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
	if (strcmp(r->replay_path, "-") &&
	    !trace_source_open(&scan, r->replay_path, &so, err, errlen)) {
		env->faults = TOP_FAULTS_MAPPED;
		while (trace_source_next(scan, &h) > 0)
			if (h->type == MBEC_EV_PAGE_FAULT) {
				env->faults = TOP_FAULTS_EXITS;
				break;
			}
		trace_source_free(scan);
	}
	err[0] = 0;
	cli_check_opts_from_info(copts, info);
	snprintf(r->view.source, sizeof(r->view.source), "replay of %s (%s)",
		 base ? base + 1 : r->replay_path, r->speed > 0 ? "" : "as fast as possible");
	if (r->speed > 0)
		snprintf(r->view.source, sizeof(r->view.source), "replay of %s (x%g)",
			 base ? base + 1 : r->replay_path, r->speed);
	snprintf(r->view.cost_note, sizeof(r->view.cost_note), "n/a (replay)");
	return 0;
}

/* mbectop --replay FILE: everything after the options. */
static int top_replay(struct top_run *r)
{
	struct mbec_check_opts copts = { 0 };
	struct top_env env = { 0 };
	char err[512];
	int rc = EXIT_FINE, ret;

	if (replay_open(r, &copts, &env, err, sizeof(err)))
		return cli_usage_error("top", "%s: %s", r->replay_path, err);
	r->engine = mbec_check_new(&copts);
	r->model = top_model_new(&env, false);
	if (!r->engine || !r->model) {
		rc = cli_usage_error("top", "out of memory");
		goto out;
	}
	mbec_check_on_anomaly(r->engine, on_anomaly, r);
	cli_catch_stop(true);
	if (!r->batch) {
		r->tui = top_tui_open(err, sizeof(err));
		if (!r->tui) {
			rc = cli_usage_error("top", "%s", err);
			goto out;
		}
		r->view.tui = true;
	}
	ret = replay_loop(r);
	top_tui_close(r->tui);
	r->tui = NULL;
	if (ret)
		rc = cli_usage_error("top", "%s: %s", r->replay_path,
				     trace_source_problem(r->src));
	else
		rc = r->model->g_tot[TOP_G_ANOM] ? EXIT_ANOMALY : EXIT_FINE;
out:
	trace_source_free(r->src);
	mbec_check_free(r->engine);
	top_model_free(r->model);
	return rc;
}

int cmd_top(int argc, char **argv)
{
	static const struct option long_opts[] = {
		{ "delay", required_argument, NULL, 'd' },
		{ "batch", no_argument, NULL, 'b' },
		{ "iterations", required_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "sort", required_argument, NULL, 's' },
		{ "reverse", no_argument, NULL, 'o' },
		{ "pid", required_argument, NULL, 'p' },
		{ "filter", required_argument, NULL, 'f' },
		{ "vcpus", no_argument, NULL, 'x' },
		{ "workload", no_argument, NULL, 'w' },
		{ "bpf-stats", no_argument, NULL, 'S' },
		{ "layout", required_argument, NULL, 'l' },
		{ "replay", required_argument, NULL, 'r' },
		{ "speed", required_argument, NULL, 'P' },
		/* tests only: a small ring buffer, to show the counts survive losses */
		{ "ringbuf-kb", required_argument, NULL, 'K' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct top_run r = { .vm_fd = -1, .full_fd = -1, .stats_fd = -1, .wl_status = -1,
			     .child = { .pid = -1, .go_fd = -1 }, .delay = 1.0, .speed = 1.0 };
	struct mbec_check_opts copts = { 0 };
	struct mbec_live_opts lopts = { 0 };
	struct top_env env = { 0 };
	struct role_layout rl;
	enum mbec_layout layout = MBEC_LAYOUT_UNKNOWN;
	bool workload = false, bpf_stats = false, have_speed = false;
	int c, ret, rc = EXIT_FINE;
	long pid = 0, ringbuf_kb = 0;
	char err[320], *end;

	r.view.sort_key = TOP_S_FAULTS;
	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":d:bn:p:hv", long_opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			errno = 0;
			r.delay = strtod(optarg, &end);
			if (errno || end == optarg || *end || !isfinite(r.delay) || r.delay < 0.1 ||
			    r.delay > 3600)
				return cli_usage_error("top", "-d wants seconds between 0.1 and "
						       "3600, not '%s'", optarg);
			break;
		case 'b':
			r.batch = true;
			break;
		case 'n':
			errno = 0;
			r.frames_max = strtol(optarg, &end, 10);
			if (errno || end == optarg || *end || r.frames_max <= 0)
				return cli_usage_error("top", "-n wants a number of frames, 1 or "
						       "more, not '%s'", optarg);
			break;
		case 'j':
			r.json = true;
			break;
		case 's':
			r.view.sort_key = top_sort_key(optarg);
			if (r.view.sort_key < 0)
				return cli_usage_error("top", "--sort: no column '%s'; try '%s top "
						       "--help'", optarg, prog_name);
			break;
		case 'o':
			r.view.reverse = true;
			break;
		case 'p':
			if (cli_parse_pid("top", optarg, &pid))
				return EXIT_USAGE;
			break;
		case 'f':
			snprintf(r.view.filter, sizeof(r.view.filter), "%s", optarg);
			break;
		case 'x':
			r.view.expand_all = true;
			break;
		case 'w':
			workload = true;
			break;
		case 'S':
			bpf_stats = true;
			break;
		case 'l':
			if (cli_parse_layout("top", optarg, &layout))
				return EXIT_USAGE;
			break;
		case 'r':
			r.replay_path = optarg;
			break;
		case 'P':
			errno = 0;
			r.speed = strtod(optarg, &end);
			if (errno || end == optarg || *end || !isfinite(r.speed) || r.speed < 0 ||
			    r.speed > 1e6)
				return cli_usage_error("top", "--speed wants a factor (1: as "
						       "recorded, 0: as fast as possible), not "
						       "'%s'", optarg);
			have_speed = true;
			break;
		case 'K':
			errno = 0;
			ringbuf_kb = strtol(optarg, &end, 10);
			/* A power of two, at least a page (what the kernel accepts). */
			if (errno || end == optarg || *end || ringbuf_kb < 4 ||
			    ringbuf_kb > (1 << 20) || (ringbuf_kb & (ringbuf_kb - 1)))
				return cli_usage_error("top", "--ringbuf-kb wants a power of two "
						       "from 4 to 1048576, not '%s'", optarg);
			break;
		case 'v':
			cli_verbose++;
			break;
		case 'h':
			usage(stdout);
			return EXIT_FINE;
		default:
			return cli_getopt_error("top", c, argv);
		}
	}
	if (optind < argc)
		return cli_extra_arg("top", argv[optind]);
	if (r.json && !r.batch)
		return cli_usage_error("top", "--json prints frames for scripts: use it with -b");
	if (workload && pid)
		return cli_usage_error("top", "--workload and --pid exclude each other: the "
				       "workload's pid is the filter");
	if (have_speed && !r.replay_path)
		return cli_usage_error("top", "--speed paces a replay: use it with --replay FILE");
	if (r.replay_path && (workload || bpf_stats))
		return cli_usage_error("top", "--replay shows a recording: %s watches the live "
				       "kernel", workload ? "--workload" : "--bpf-stats");
	if (!r.batch && (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)))
		return cli_usage_error("top", "not a terminal: the full-screen view needs one; "
				       "use -b for batch mode (plain text frames)");
	if (r.replay_path) {
		r.pid = (uint32_t)pid;
		return top_replay(&r);
	}
	if (geteuid() != 0)
		return cli_usage_error("top", "must run as root: watching KVM needs BPF programs "
				       "on its tracepoints (CAP_BPF, CAP_PERFMON, CAP_SYS_ADMIN); "
				       "try sudo");

	/* The KVM we watch. */
	detect_env(&env);
	if (layout == MBEC_LAYOUT_UNKNOWN) {
		if (role_layout_from_btf(NULL, &rl, err, sizeof(err)))
			return cli_usage_error("top", "%s", err);
		copts.layout = rl.abi;
		copts.role = &rl;
		snprintf(env.layout_src, sizeof(env.layout_src), "from BTF");
	} else {
		copts.layout = layout;
		snprintf(env.layout_src, sizeof(env.layout_src), "--layout");
	}
	env.layout = copts.layout;
	copts.spte_ept = env.mmu == TOP_MMU_EPT;
	copts.mbec = copts.layout == MBEC_LAYOUT_MBEC && env.mbec;

	if (workload) {
		struct workload_opts wo;

		workload_opts_init(&wo);
		wo.quiet = true;
		wo.vcpus = 2;
		wo.duration = 86400;	/* matrix rounds until mbectop ends */
		/* Root here (checked above): the workload is spawned. */
		if (cli_workload_spawn("top", &wo, &r.layout, &r.child))
			return EXIT_USAGE;
		pid = r.child.pid;
		r.workload_pid = (uint32_t)pid;
		copts.expect_mode_valid = true;
		mbec_workload_mode(r.layout, &copts.expect_mode);
	}
	r.pid = (uint32_t)pid;

	r.engine = mbec_check_new(&copts);
	r.model = top_model_new(&env, true);
	if (!r.engine || !r.model) {
		rc = cli_usage_error("top", "out of memory");
		goto out;
	}
	mbec_check_on_anomaly(r.engine, on_anomaly, &r);

	lopts.pid = (pid_t)pid;
	lopts.use = MBEC_LIVE_USE_TOP;
	lopts.verbose = cli_verbose > 0;
	lopts.need_kvm_dev = workload;
	lopts.vm_stats = true;
	lopts.ringbuf_bytes = (size_t)ringbuf_kb * 1024;
	lopts.on_event = on_record;
	lopts.ctx = &r;
	ret = mbec_live_open(&r.live, &lopts, err, sizeof(err));
	if (ret) {
		rc = cli_usage_error("top", "%s", err);
		goto out;
	}
	mbec_live_attach_line(mbec_live_attach_state(r.live), r.model->env.attach,
			      sizeof(r.model->env.attach));
	r.vm_fd = mbec_live_map_fd(r.live, "vm_stats");
	r.full_fd = mbec_live_map_fd(r.live, "vm_stats_full");
	r.ncpus = libbpf_num_possible_cpus();
	if (r.vm_fd < 0) {
		rc = cli_usage_error("top", "the BPF object has no vm_stats map (a build mismatch: "
				     "rebuild mbecscope)");
		goto out;
	}
	if (bpf_stats) {
		r.stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
		if (r.stats_fd < 0) {
			rc = cli_usage_error("top", "--bpf-stats: the kernel refused "
					     "BPF_ENABLE_STATS (%s)", strerror(errno));
			goto out;
		}
	}
	if (r.layout)
		mbec_feed_guest_ptes(r.layout, r.workload_pid, on_record, &r);
	r.view.scans_vms = true;
	if (pid && workload)
		snprintf(r.view.source, sizeof(r.view.source), "built-in workload (pid %ld)", pid);
	else if (pid)
		snprintf(r.view.source, sizeof(r.view.source), "VMM pid %ld", pid);
	else
		snprintf(r.view.source, sizeof(r.view.source), "every VM");

	cli_catch_stop(true);

	if (r.child.pid > 0 && workload_start(&r.child)) {
		rc = cli_usage_error("top", "cannot start the workload");
		goto out;
	}
	if (!r.batch) {
		r.tui = top_tui_open(err, sizeof(err));
		if (!r.tui) {
			rc = cli_usage_error("top", "%s", err);
			goto out;
		}
		r.view.tui = true;
	}
	r.view.status[0] = 0;
	if (live_loop(&r)) {
		top_tui_close(r.tui);
		r.tui = NULL;
		rc = cli_usage_error("top", "reading the BPF ring buffer failed (%s)",
				     strerror(errno));
		goto out;
	}
	top_tui_close(r.tui);
	r.tui = NULL;
	rc = r.model->g_tot[TOP_G_ANOM] ? EXIT_ANOMALY : EXIT_FINE;
	if (r.wl_status == 2)
		rc = cli_usage_error("top", "the built-in workload could not run (status 2)");
out:
	if (r.child.pid > 0)
		workload_kill(&r.child);
	if (r.stats_fd >= 0)
		close(r.stats_fd);
	mbec_live_close(r.live);
	mbec_check_free(r.engine);
	top_model_free(r.model);
	workload_layout_free(r.layout);
	return rc;
}
