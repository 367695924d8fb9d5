// SPDX-License-Identifier: GPL-2.0
/*
 * The live source (source.h): everything check, record, top and watch
 * each did before their first record, done once.  The checks come in the
 * order a user can fix things: the pid, BTF, the workload, the programs.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "live/kvm_env.h"
#include "source/source_internal.h"

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static double now_s(void)
{
	return (double)clock_ns(CLOCK_MONOTONIC) / 1e9;
}

/* The KVM ABI and role layout: from BTF unless the user says. */
static int live_layout(struct mbec_source *s, char *err, size_t errlen)
{
	struct utsname uts;

	if (s->o.layout == MBEC_LAYOUT_UNKNOWN) {
		if (role_layout_from_btf(NULL, &s->rl, err, errlen))
			return -1;
		s->have_rl = true;
		mbec_rec_info_set_role(&s->info, &s->rl, true);
		return 0;
	}
	mbec_rec_info_set_role(&s->info, role_layout_builtin(s->o.layout), false);
	if (!uname(&uts))
		snprintf(s->info.role.release, sizeof(s->info.role.release), "%s", uts.release);
	snprintf(s->info.role.source, sizeof(s->info.role.source), "built-in, from --layout");
	return 0;
}

/*
 * The built-in guest: probe KVM, lay the guest out and spawn it waiting
 * for workload_start().  Not root: only the layout (attaching fails next,
 * with the reason).
 */
static int live_workload(struct mbec_source *s, char *err, size_t errlen)
{
	if (geteuid() == 0 && workload_probe(err, errlen))
		return -1;
	s->layout = workload_layout_new(s->o.workload);
	if (!s->layout) {
		snprintf(err, errlen, "cannot lay out the workload (out of memory)");
		return -1;
	}
	if (geteuid() == 0 && workload_spawn(s->o.workload, &s->child, err, errlen))
		return -1;
	s->pid = s->child.pid > 0 ? (uint32_t)s->child.pid : 0;
	/* The guest's registers: the mode its shadow pages' roles must match. */
	s->info.flags |= MBEC_REC_F_WORKLOAD;
	s->info.has_mode = true;
	mbec_workload_mode(s->layout, &s->info.mode);
	return 0;
}

int src_live_open(struct mbec_source *s, char *err, size_t errlen)
{
	struct mbec_live_opts lopts = { 0 };
	struct live_kvm_env kvm;
	const struct mbec_live_attach *at;
	unsigned int i;

	if (s->o.pid && kill((pid_t)s->o.pid, 0) && errno == ESRCH) {
		snprintf(err, errlen, "--pid %u: no such process; give the pid of a running VMM "
			 "(e.g. pgrep -f qemu)", s->o.pid);
		return -1;
	}
	s->pid = s->o.pid;
	if (live_layout(s, err, errlen))
		return -1;
	live_kvm_env_at("", &kvm);
	s->tdp = kvm.tdp;
	s->spte_ept = kvm.vendor == LIVE_KVM_INTEL && kvm.tdp;
	s->mbec = s->info.abi == MBEC_LAYOUT_MBEC && kvm.mbec;
	if (s->spte_ept)
		s->info.flags |= MBEC_REC_F_SPTE_EPT;
	if (s->mbec)
		s->info.flags |= MBEC_REC_F_MBEC;
	snprintf(s->info.tool, sizeof(s->info.tool), "%s", s->o.tool ? s->o.tool : "mbecscope");
	if (s->o.workload && live_workload(s, err, errlen))
		return -1;
	s->info.pid = s->pid;

	lopts.pid = (pid_t)s->pid;
	lopts.verbose = s->o.verbose;
	lopts.need_kvm_dev = s->o.workload != NULL;
	lopts.ringbuf_bytes = s->o.ringbuf_bytes;
	lopts.force_raw = s->o.force_raw;
	lopts.vm_stats = s->o.vm_stats;
	lopts.use = s->o.use;
	lopts.on_event = src_deliver;
	lopts.ctx = s;
	if (mbec_live_open(&s->live, &lopts, err, errlen))
		return -1;
	at = mbec_live_attach_state(s->live);
	memcpy(s->attach, at, sizeof(s->attach));
	for (i = 0; i < MBEC_LIVE_NR_TP && i < MBEC_REC_MAX_TP; i++) {
		snprintf(s->info.tp[i].name, sizeof(s->info.tp[i].name), "%s", at[i].tracepoint);
		snprintf(s->info.tp[i].how, sizeof(s->info.tp[i].how), "%s", at[i].how);
	}
	s->info.nr_tp = i;
	s->info.created_ns = clock_ns(CLOCK_REALTIME);
	s->info.start_mono_ns = clock_ns(CLOCK_MONOTONIC);
	return 0;
}

/*
 * The engine's read of VMM memory: read it, and hand on what was read
 * (record writes it, so that a replay can answer the same read).
 */
static int read_vmm_mem(void *ctx, uint32_t pid, uint64_t hva, uint64_t *val)
{
	struct mbec_source *s = ctx;
	struct mbec_ev_guest_mem g;

	if (mbec_vmm_mem_read(&s->mem, pid, hva, val))
		return -1;
	if (!s->o.guest_mem_records)
		return 0;
	memset(&g, 0, sizeof(g));
	g.hdr.type = MBEC_EV_GUEST_MEM;
	g.hdr.size = sizeof(g);
	g.hdr.pid = pid;
	g.hdr.vcpu_id = MBEC_VCPU_UNKNOWN;
	g.hva = hva;
	g.val = *val;
	src_deliver(s, &g, sizeof(g));
	return 0;
}

void src_live_check_opts(struct mbec_source *s, struct mbec_check_opts *copts)
{
	copts->layout = s->info.abi;
	/* With --layout the engine takes the built-in role layout of it. */
	copts->role = s->have_rl ? &s->rl : NULL;
	copts->spte_ept = s->spte_ept;
	copts->mbec = s->mbec;
	if (s->info.has_mode) {
		copts->expect_mode_valid = true;
		copts->expect_mode = s->info.mode;
		/* The built-in guest's supervisor passes change CR0.WP, SMEP and SMAP. */
		if (s->info.flags & MBEC_REC_F_WORKLOAD)
			copts->nr_alt_modes = mbec_workload_alt_modes(&s->info.mode, copts->alt_modes,
								       MBEC_CHECK_ALT_MODES);
	}
	/* Guest entries behind prefetched SPTEs, so those SPTEs are checked fully. */
	copts->guest.read_mem = read_vmm_mem;
	copts->guest.ctx = s;
}

int src_live_start(struct mbec_source *s, char *err, size_t errlen)
{
	if (s->layout && mbec_feed_guest_ptes(s->layout, s->pid, src_deliver, s))
		return -1;	/* the consumer said why */
	if (s->child.pid > 0 && workload_start(&s->child)) {
		snprintf(err, errlen, "cannot start the workload");
		return -1;
	}
	s->t0 = now_s();
	return 0;
}

int src_live_pump(struct mbec_source *s, int timeout_ms)
{
	int ret = mbec_live_poll(s->live, timeout_ms), st;

	if (ret < 0 && ret != -EINTR) {
		errno = -ret;
		return -1;
	}
	if (s->child.pid > 0) {
		if (waitpid(s->child.pid, &st, WNOHANG) != s->child.pid)
			return 1;
		s->wl_signalled = !WIFEXITED(st);
		s->wl_status = WIFEXITED(st) ? WEXITSTATUS(st) : 2;
		s->child.pid = -1;
		return 0;
	}
	if (s->o.duration > 0 && now_s() - s->t0 >= s->o.duration)
		return 0;
	return 1;
}

void src_live_finish(struct mbec_source *s)
{
	if (!s->live)
		return;
	/*
	 * The stream ends here: no event after it may be counted.  With the
	 * programs still attached, a VMM that runs on (--pid, --duration)
	 * adds events between the last drain and the counters' read: the
	 * kernel would count records that are in no stream, neither received
	 * nor lost.  So detach, drain what is left, then read the counters.
	 */
	mbec_live_detach(s->live);
	while (!s->stopped && mbec_live_poll(s->live, 0) > 0)
		;
	memset(s->kernel, 0, sizeof(s->kernel));
	s->have_kernel = !mbec_live_counters(s->live, s->kernel);
	memcpy(s->attach, mbec_live_attach_state(s->live), sizeof(s->attach));
	if (s->child.pid > 0) {
		workload_kill(&s->child);
		s->wl_status = -1;
	}
	mbec_live_close(s->live);
	s->live = NULL;
}

void src_live_free(struct mbec_source *s)
{
	if (s->child.pid > 0)
		workload_kill(&s->child);
	mbec_live_close(s->live);
	s->live = NULL;
	workload_layout_free(s->layout);
	s->layout = NULL;
	mbec_vmm_mem_close(&s->mem);
}
