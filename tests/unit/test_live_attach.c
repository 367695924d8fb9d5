// SPDX-License-Identifier: GPL-2.0
/*
 * src/live against the running kernel: load and attach every program,
 * filter on the built-in workload's pid, drain its records through the
 * ring buffer and compare them with the kernel-side counters.  Needs
 * root, BTF, KVM and /dev/kvm: SKIPs with the reason elsewhere.
 */
#include <errno.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "live/live.h"
#include "mbec_vmstats.h"
#include "tap.h"
#include "workload/workload.h"

static unsigned long got[MBEC_EV_MAX], bad, foreign, stray_elems, long_walks;
static pid_t want_pid;

/* Per vCPU thread: the last record's type and the elements since the walk. */
static struct {
	uint32_t tid;
	uint16_t last;
	unsigned int elems;
} thr[16];

static void follow(const struct mbec_event_hdr *h)
{
	unsigned int i;

	for (i = 0; i < 16 && thr[i].tid && thr[i].tid != h->tid; i++)
		;
	if (i == 16)
		return;
	thr[i].tid = h->tid;
	if (h->type == MBEC_EV_PAGING_ELEMENT) {
		if (thr[i].last != MBEC_EV_PAGETABLE_WALK && thr[i].last != MBEC_EV_PAGING_ELEMENT)
			stray_elems++;
		if (++thr[i].elems > MBEC_WALK_FOLD_MAX)
			long_walks++;
	} else if (h->type == MBEC_EV_PAGETABLE_WALK) {
		thr[i].elems = 0;
	}
	thr[i].last = h->type;
}

static int on_event(void *ctx, const void *rec, size_t len)
{
	const struct mbec_event_hdr *h = rec;

	(void)ctx;
	if (mbec_event_validate(rec, len)) {
		bad++;
		return 0;
	}
	if (h->pid != (uint32_t)want_pid)
		foreign++;
	if (h->type < MBEC_EV_MAX)
		got[h->type]++;
	follow(h);
	return 0;
}

int main(void)
{
	struct mbec_live_opts lo = { .on_event = on_event, .need_kvm_dev = true };
	struct mbec_counter k[MBEC_EV_MAX];
	const struct mbec_live_attach *at;
	struct workload_child child;
	struct workload_opts wo;
	struct mbec_live *l;
	char err[320];
	int i, st = -1, rounds = 0, attached = 0;
	bool required_ok = true;

	if (geteuid() != 0)
		return skip_all("needs root (BPF and /dev/kvm)");
	if (access("/sys/kernel/btf/vmlinux", R_OK))
		return skip_all("kernel has no BTF");
	if (workload_probe(err, sizeof(err)))
		return skip_all(err);

	workload_opts_init(&wo);
	wo.quiet = true;
	if (workload_spawn(&wo, &child, err, sizeof(err))) {
		ok(0, "spawn the workload: %s", err);
		return done_testing();
	}
	want_pid = child.pid;
	lo.pid = child.pid;
	if (mbec_live_open(&l, &lo, err, sizeof(err))) {
		workload_kill(&child);
		if (strstr(err, "BPF") || strstr(err, "tracepoint"))
			return skip_all(err);
		ok(0, "open: %s", err);
		return done_testing();
	}
	at = mbec_live_attach_state(l);
	for (i = 0; i < MBEC_LIVE_NR_TP; i++) {
		if (strcmp(at[i].how, "no"))
			attached++;
		else if (at[i].required)
			required_ok = false;
		if (strcmp(at[i].how, "no")) {
			ok(!strcmp(at[i].how, "tp_btf") || !strcmp(at[i].how, "raw_tp"),
			   "%s attached with %s", at[i].tracepoint, at[i].how);
			if (at[i].note[0])
				diag("%s: %s", at[i].tracepoint, at[i].note);
		} else
			diag("%s not attached: %s", at[i].tracepoint, at[i].note);
	}
	ok(required_ok && attached >= 5, "every required tracepoint attached (%d in all)",
	   attached);

	ok(!workload_start(&child), "workload started after attach");
	while (rounds++ < 600) {
		mbec_live_poll(l, 50);
		if (waitpid(child.pid, &st, WNOHANG) == child.pid)
			break;
	}
	while (mbec_live_poll(l, 0) > 0)
		;
	ok(WIFEXITED(st) && WEXITSTATUS(st) == 0, "workload ran to the end (status 0x%x)", st);
	ok(!mbec_live_counters(l, k), "per-CPU counters read");
	{
		struct mbec_vmstats_key key;
		int fd = mbec_live_map_fd(l, "vm_stats");

		ok(fd >= 0 && bpf_map_get_next_key(fd, NULL, &key) == -ENOENT,
		   "without vm_stats asked for, the per-vCPU counters stay empty (mbectop's alone)");
	}
	mbec_live_close(l);

	ok(got[MBEC_EV_SET_SPTE] > 0, "set_spte records received (%lu)", got[MBEC_EV_SET_SPTE]);
	ok(got[MBEC_EV_SPTE_REQUESTED] > 0, "spte_requested records received (%lu)",
	   got[MBEC_EV_SPTE_REQUESTED]);
	ok(got[MBEC_EV_PAGETABLE_WALK] > 0 && got[MBEC_EV_PAGING_ELEMENT] >= got[MBEC_EV_PAGETABLE_WALK],
	   "guest walks with their entries (%lu walks, %lu entries)",
	   got[MBEC_EV_PAGETABLE_WALK], got[MBEC_EV_PAGING_ELEMENT]);
	ok(stray_elems == 0 && long_walks == 0,
	   "every paging_element follows its walk on the same thread, at most %d a walk "
	   "(%lu astray, %lu beyond)", MBEC_WALK_FOLD_MAX, stray_elems, long_walks);
	ok(bad == 0, "every record is well formed");
	ok(foreign == 0, "the pid filter let only the workload's records through");
	for (i = 1; i < MBEC_EV_MAX; i++) {
		if (!k[i].seen && !got[i])
			continue;
		ok(k[i].seen == k[i].emitted + k[i].dropped + k[i].skipped &&
		   got[i] == k[i].emitted,
		   "%s: kernel counted %llu seen = %llu emitted + %llu dropped + %llu skipped, "
		   "%lu received", mbec_event_name(i), (unsigned long long)k[i].seen,
		   (unsigned long long)k[i].emitted, (unsigned long long)k[i].dropped,
		   (unsigned long long)k[i].skipped, got[i]);
	}
	return done_testing();
}
