// SPDX-License-Identifier: GPL-2.0
/*
 * mbectop live (run.h).  The numbers come from the kernel's per-vCPU
 * counters (vm_stats in bpf/mbecscope.bpf.c, read once per refresh), so
 * they stay right when the ring buffer overflows; the records in the ring
 * buffer go through the check engine only to find anomalies.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "live/kvm_env.h"
#include "live/live.h"
#include "mbec_vmstats.h"
#include "top/run_internal.h"
#include "top/vmname.h"

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
	if (!mbec_live_counters(mbec_source_live(r->src), k)) {
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
	if (!mbec_live_prog_stats(mbec_source_live(r->src), &run_ns, &run_cnt)) {
		top_model_set_global(r->model, TOP_G_BPF_NS, run_ns);
		top_model_set_global(r->model, TOP_G_BPF_RUNS, run_cnt);
	}
	/* Idle VMs too: the processes holding a VM, every few seconds. */
	if (!r->last_scan_ns || top_mono_ns() - r->last_scan_ns >= 5000000000ULL) {
		uint32_t pids[1024];
		unsigned int n = top_scan_vms("/proc", pids, 1024);

		for (i = 0; i < n; i++)
			if (!mbec_source_pid(r->src) || pids[i] == mbec_source_pid(r->src))
				top_model_vm(r->model, pids[i], true);
		r->last_scan_ns = top_mono_ns();
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

/* The workload ended (the pump said so once): news for the status line. */
static void reap_workload(struct top_run *r)
{
	int st = mbec_source_workload_status(r->src, NULL);

	snprintf(r->view.status, sizeof(r->view.status), "the built-in workload exited (status "
		 "%d%s)", st, st == 1 ? ": its self-check failed" : "");
}

/* The live loop: sample every delay seconds, draw, handle keys.  0 or -1 (error). */
static int live_loop(struct top_run *r)
{
	uint64_t delay_ns = (uint64_t)(r->o->delay * 1e9), next;
	int ret;

	live_sample(r);
	top_model_frame(r->model, top_mono_ns());
	if (r->tui) {
		live_view_notes(r);
		snprintf(r->view.status, sizeof(r->view.status), "collecting: first rates in %.1fs",
			 r->o->delay);
		top_show(r);
		r->view.status[0] = 0;
	}
	next = top_mono_ns() + delay_ns;
	while (!mbec_stop_requested) {
		uint64_t now = top_mono_ns();
		int wait_ms = now >= next ? 0 : (int)((next - now) / 1000000);

		if (wait_ms > 50)
			wait_ms = 50;
		if (r->tui) {
			enum top_tui_action a;

			ret = mbec_source_pump(r->src, 0);
			a = top_tui_keys(r->tui, r->model, &r->view, wait_ms);
			if (a == TOP_TUI_QUIT)
				break;
			if (a == TOP_TUI_REDRAW) {
				live_view_notes(r);
				top_show(r);
			}
		} else {
			ret = mbec_source_pump(r->src, wait_ms);
		}
		if (ret < 0)
			return -1;
		if (!ret)
			reap_workload(r);
		now = top_mono_ns();
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
		top_show(r);
		r->frames++;
		if (r->o->frames_max && r->frames >= r->o->frames_max)
			break;
	}
	return 0;
}

static int on_record(void *ctx, const void *rec, size_t len)
{
	struct top_run *r = ctx;

	mbec_check_feed(r->engine, rec, len);
	return 0;
}

/* Open the live source and what the view reads besides its records. */
static int live_open(struct top_run *r, char *err, size_t errlen)
{
	const struct top_run_opts *o = r->o;
	struct mbec_source_opts so;
	struct workload_opts wo;
	struct top_env env = { 0 };
	struct mbec_live *live;

	/* The KVM we watch. */
	detect_env(&env);
	mbec_source_opts_init(&so);
	so.layout = o->layout;
	so.pid = o->pid;
	so.verbose = o->verbose;
	so.vm_stats = true;
	so.ringbuf_bytes = o->ringbuf_bytes;
	so.tool = "mbectop";
	so.use = MBEC_LIVE_USE_TOP;
	if (o->workload) {
		workload_opts_init(&wo);
		wo.quiet = true;
		wo.vcpus = 2;
		wo.duration = 86400;	/* matrix rounds until mbectop ends */
		so.workload = &wo;
	}
	if (mbec_source_open(&r->src, &so, err, errlen))
		return -1;
	if (o->workload)
		r->workload_pid = mbec_source_pid(r->src);
	env.layout = mbec_source_info(r->src)->abi;
	snprintf(env.layout_src, sizeof(env.layout_src), "%s",
		 o->layout == MBEC_LAYOUT_UNKNOWN ? "from BTF" : "--layout");
	if (top_engines(r, &env, true)) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	live = mbec_source_live(r->src);
	mbec_live_attach_line(mbec_live_attach_state(live), r->model->env.attach,
			      sizeof(r->model->env.attach));
	r->vm_fd = mbec_live_map_fd(live, "vm_stats");
	r->full_fd = mbec_live_map_fd(live, "vm_stats_full");
	r->ncpus = libbpf_num_possible_cpus();
	if (r->vm_fd < 0) {
		snprintf(err, errlen, "the BPF object has no vm_stats map (a build mismatch: "
			 "rebuild mbecscope)");
		return -1;
	}
	if (o->bpf_stats) {
		r->stats_fd = bpf_enable_stats(BPF_STATS_RUN_TIME);
		if (r->stats_fd < 0) {
			snprintf(err, errlen, "--bpf-stats: the kernel refused BPF_ENABLE_STATS (%s)",
				 strerror(errno));
			return -1;
		}
	}
	return 0;
}

int top_live(struct top_run *r, char *err, size_t errlen)
{
	uint32_t pid;

	mbec_catch_signals(MBEC_HUP_STOPS);
	if (live_open(r, err, errlen))
		return -1;
	pid = mbec_source_pid(r->src);
	r->view.scans_vms = true;
	if (r->workload_pid)
		snprintf(r->view.source, sizeof(r->view.source), "built-in workload (pid %u)", pid);
	else if (pid)
		snprintf(r->view.source, sizeof(r->view.source), "VMM pid %u", pid);
	else
		snprintf(r->view.source, sizeof(r->view.source), "every VM");
	/* The workload's guest entries go in, then it starts. */
	if (mbec_source_start(r->src, on_record, r, err, errlen) || top_tui_start(r, err, errlen))
		return -1;
	r->view.status[0] = 0;
	if (live_loop(r)) {
		snprintf(err, errlen, "reading the BPF ring buffer failed (%s)", strerror(errno));
		return -1;
	}
	if (mbec_source_workload_status(r->src, NULL) == 2) {
		snprintf(err, errlen, "the built-in workload could not run (status 2)");
		return -1;
	}
	return r->model->g_tot[TOP_G_ANOM] ? 1 : 0;
}
