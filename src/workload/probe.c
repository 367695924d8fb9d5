// SPDX-License-Identifier: GPL-2.0
/*
 * Does guest code at CPL 0 run natively on this KVM?  On VMX and SVM it
 * does; on a paravirtual KVM (this project's development host) only CPL-3
 * code does, and CPL-0 code is emulated, refused or lost, and produces no
 * SPTE faults worth checking.  The host's name says nothing reliable, so
 * vCPU 0 runs the same probe (guest.c: read a page nothing else touches,
 * count down a few million times, report with ud2) at CPL 3 and at CPL 0,
 * and CPL 0 counts as native only when its run
 *  - is accepted by KVM, ends with the probe's own report, in time,
 *  - is not far slower than the CPL-3 run (an emulator is ~1000x slower),
 *  - and, where KVM's statistics count the CPL-3 run's page fault, faults
 *    on its own fresh page too.
 * Whatever is decided is said in r->cpl0_note.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "workload/vmm.h"

#define WL_PROBE_LOOPS		(1ULL << 22)
#define WL_PROBE_TIMEOUT_S	5.0
#define WL_PROBE_SLOWER		20.0	/* CPL 0 this many times slower: emulated */

struct probe_run {
	bool ran;		/* ended with the probe's report */
	double seconds;
	long long faults;	/* KVM's pf_fixed + pf_taken over the run; -1 unknown */
	char why[256];		/* when !ran */
};

static long long fault_stat(struct wl_vcpu *c)
{
	long long fixed = wl_stat_read(c, 0), taken = wl_stat_read(c, 2);

	if (fixed < 0 && taken < 0)
		return -1;
	return (fixed > 0 ? fixed : 0) + (taken > 0 ? taken : 0);
}

static void probe_once(struct wl_vm *vm, unsigned int cpl, struct probe_run *p)
{
	struct wl_vcpu *c = &vm->vcpus[0];
	volatile sig_atomic_t stop_before = wl_stop;
	uint64_t base = cpl ? WL_UCODE_GPA : WL_KCODE_GPA;
	uint64_t rsp = cpl ? WL_USTACK_GPA(0) + WL_4K - 64 : WL_KSTACK_GPA(0) + WL_4K - 256;
	long long f0, f1;
	double t0;
	bool late;

	memset(p, 0, sizeof(*p));
	c->status = 0;
	c->error[0] = 0;
	c->probe_done = false;
	c->code_base = base;
	if (wl_set_cpu(c, cpl, vm->l->cr0, vm->l->cr4) ||
	    wl_enter(c, wl_guest_at(base, wl_guest_probe), rsp, 0, WL_PROBE_GPA(cpl == 0),
		     WL_PROBE_LOOPS, 0)) {
		snprintf(p->why, sizeof(p->why), "KVM refused the CPL-%u state: %s", cpl,
			 strerror(errno));
		return;
	}
	f0 = fault_stat(c);
	t0 = wl_now_s();
	if (wl_start_one(c, p->why, sizeof(p->why)))
		return;
	late = wl_join_threads(vm, t0 + WL_PROBE_TIMEOUT_S);
	p->seconds = wl_now_s() - t0;
	f1 = fault_stat(c);
	p->faults = f0 >= 0 && f1 >= 0 ? f1 - f0 : -1;
	if (late) {
		wl_stop = stop_before;	/* the deadline's kick is not a request to stop */
		snprintf(p->why, sizeof(p->why), "a loop of %llu iterations did not end in %.0f s",
			 (unsigned long long)WL_PROBE_LOOPS, WL_PROBE_TIMEOUT_S);
	} else if (c->status) {
		snprintf(p->why, sizeof(p->why), "%s", c->error);
	} else if (!c->probe_done) {
		snprintf(p->why, sizeof(p->why), "it stopped before its end");
	} else {
		p->ran = true;
	}
	c->status = 0;
	c->error[0] = 0;
}

bool wl_probe_cpl0(struct wl_vm *vm, struct workload_result *r)
{
	struct probe_run p3, p0;
	const char *stay = "the matrix stays at CPL 3";

	probe_once(vm, 3, &p3);
	if (wl_stop) {
		snprintf(r->cpl0_note, sizeof(r->cpl0_note), "not probed (stopped); %s", stay);
		return false;
	}
	if (!p3.ran) {
		snprintf(r->cpl0_note, sizeof(r->cpl0_note),
			 "the probe failed at CPL 3 already (%s); %s", p3.why, stay);
		return false;
	}
	probe_once(vm, 0, &p0);
	if (!p0.ran) {
		snprintf(r->cpl0_note, sizeof(r->cpl0_note),
			 "guest code at CPL 0 does not run natively on this KVM (probe at CPL 0: %s); %s",
			 p0.why, stay);
		return false;
	}
	if (p0.seconds > 0.2 && p0.seconds > WL_PROBE_SLOWER * p3.seconds) {
		snprintf(r->cpl0_note, sizeof(r->cpl0_note),
			 "guest code at CPL 0 does not run natively on this KVM (probe: %.0f ms at CPL 0, %.0f ms at CPL 3: emulated); %s",
			 p0.seconds * 1e3, p3.seconds * 1e3, stay);
		return false;
	}
	if (p3.faults > 0 && p0.faults == 0) {
		snprintf(r->cpl0_note, sizeof(r->cpl0_note),
			 "guest code at CPL 0 does not run natively on this KVM (probe: no page fault at CPL 0 on a fresh page, %lld at CPL 3: emulated); %s",
			 p3.faults, stay);
		return false;
	}
	snprintf(r->cpl0_note, sizeof(r->cpl0_note),
		 "guest code at CPL 0 runs natively (probe: %.1f ms at CPL 0, %.1f ms at CPL 3; KVM page faults %lld and %lld)",
		 p0.seconds * 1e3, p3.seconds * 1e3, p0.faults, p3.faults);
	return true;
}
