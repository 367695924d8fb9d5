// SPDX-License-Identifier: GPL-2.0
/*
 * Running the workload VMM: one thread per vCPU in KVM_RUN, the guest's
 * exception exits (the CPL-0 stubs' OUT, see vmm.c) handed to the pattern
 * (matrix.c, storm.c), and workload_run(), the entry point.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "workload/vmm.h"

volatile sig_atomic_t wl_stop;

void wl_vcpu_fail(struct wl_vcpu *c, int status, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (c->status)
		return;
	c->status = status;
	n = snprintf(c->error, sizeof(c->error), "vCPU %u: ", c->id);
	va_start(ap, fmt);
	vsnprintf(c->error + n, sizeof(c->error) - n, fmt, ap);
	va_end(ap);
}

void wl_mismatch(struct wl_vm *vm, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&vm->lock);
	if (vm->nr_mismatch_lines < WL_MAX_MISMATCH_LINES) {
		va_start(ap, fmt);
		vsnprintf(vm->mismatch[vm->nr_mismatch_lines++], sizeof(vm->mismatch[0]), fmt, ap);
		va_end(ap);
	}
	vm->mismatches++;
	pthread_mutex_unlock(&vm->lock);
}

static bool has_error_code(unsigned int vec)
{
	return vec == 8 || (vec >= 10 && vec <= 14) || vec == 17 || vec == 21 || vec == 29 ||
	       vec == 30;
}

static int wl_read_frame(struct wl_vcpu *c, const struct kvm_regs *r, unsigned int vec,
		      struct wl_frame *f)
{
	uint64_t lo = WL_KSTACK_GPA(c->id), sp = r->rsp;
	unsigned int n = has_error_code(vec) ? 6 : 5;
	const uint8_t *p;

	if (sp < lo || sp + n * 8 > lo + WL_4K)
		return -1;
	p = c->vm->ram + sp;
	f->err = n == 6 ? get64(p) : 0;
	p += (n - 5) * 8;
	f->rip = get64(p);
	f->cs = get64(p + 8);
	f->rflags = get64(p + 16);
	f->rsp = get64(p + 24);
	f->ss = get64(p + 32);
	return 0;
}

/*
 * Back to the pass's CPL at @rip with @rsp; the CPL-0 stub never returns.
 * EFLAGS.AC comes back as the interrupted code had it.
 */
int wl_resume(struct wl_vcpu *c, struct kvm_regs *r, uint64_t rip, uint64_t rsp,
	      uint64_t rflags)
{
	struct kvm_sregs s;

	if (ioctl(c->fd, KVM_GET_SREGS, &s))
		return -1;
	wl_segments(&s, c->cpl);
	r->rip = rip;
	r->rsp = rsp;
	r->rflags = (rflags & 0x3d7fd7) | 2;	/* the user flags, never VM */
	if (ioctl(c->fd, KVM_SET_SREGS, &s) || ioctl(c->fd, KVM_SET_REGS, r))
		return -1;
	return 0;
}

static int handle_exception(struct wl_vcpu *c, unsigned int vec)
{
	struct kvm_regs r;
	struct kvm_sregs s;
	struct wl_frame f;
	bool storm = c->vm->l->pattern == WORKLOAD_STORM;

	if (ioctl(c->fd, KVM_GET_REGS, &r) || ioctl(c->fd, KVM_GET_SREGS, &s)) {
		wl_vcpu_fail(c, 2, "KVM_GET_REGS/SREGS: %s", strerror(errno));
		return -1;
	}
	if (wl_read_frame(c, &r, vec, &f)) {
		wl_vcpu_fail(c, 1, "exception %u with CPL-0 stack pointer %#llx off its stack", vec,
			  (unsigned long long)r.rsp);
		return -1;
	}
	if ((f.cs & 3) != c->cpl) {
		wl_vcpu_fail(c, 1, "exception %u raised at CPL %llu, rip %#llx (error code %#llx, cr2 %#llx)",
			  vec, (unsigned long long)(f.cs & 3),
			  (unsigned long long)f.rip, (unsigned long long)f.err,
			  (unsigned long long)s.cr2);
		return -1;
	}
	if (vec == 14 && !storm && r.r15) {
		if (wl_matrix_fault(c, &f, s.cr2))
			return -1;
		if (wl_resume(c, &r, r.r15, r.r14, f.rflags))
			goto set_fail;
		return 1;
	}
	if (vec == 6 && f.rip == wl_guest_at(c->code_base, wl_guest_probe_ud2) &&
	    r.rax == WL_HC_PROBE && r.rcx == 0) {
		c->probe_done = true;
		return 0;
	}
	if (vec == 6 && !storm && f.rip == wl_guest_at(c->code_base, wl_guest_done_ud2) &&
	    r.rax == WL_HC_DONE) {
		wl_matrix_verify(c);
		c->done = true;
		if (wl_resume(c, &r, f.rip + 2, f.rsp, f.rflags))
			goto set_fail;
		return 0;
	}
	if (vec == 6 && storm && f.rip == wl_guest_addr(wl_guest_pass_ud2) &&
	    r.rax == WL_HC_PASS) {
		__atomic_add_fetch(&c->passes, 1, __ATOMIC_RELAXED);
		__atomic_add_fetch(&c->accesses, WORKLOAD_STORM_PAGES, __ATOMIC_RELAXED);
		wl_storm_zap(c);
		if (c->status || wl_resume(c, &r, f.rip + 2, f.rsp, f.rflags))
			goto set_fail;
		return 1;
	}
	wl_vcpu_fail(c, 1, "unexpected exception %u at rip %#llx (error code %#llx, cr2 %#llx, rax %#llx)",
		  vec, (unsigned long long)f.rip, (unsigned long long)f.err,
		  (unsigned long long)s.cr2, (unsigned long long)r.rax);
	return -1;
set_fail:
	wl_vcpu_fail(c, 2, "cannot put the vCPU back at CPL %u: %s", c->cpl, strerror(errno));
	return -1;
}

int wl_vcpu_run(struct wl_vcpu *c)
{
	struct kvm_run *run = c->run;

	if (ioctl(c->fd, KVM_RUN, 0)) {
		if (errno != EINTR && errno != EAGAIN) {
			wl_vcpu_fail(c, 2, "KVM_RUN: %s", strerror(errno));
			return -1;
		}
	} else if (run->exit_reason != KVM_EXIT_INTR) {
		return 1;
	}
	run->immediate_exit = 0;
	return wl_stop ? -1 : 0;
}

static void *vcpu_thread(void *arg)
{
	struct wl_vcpu *c = arg;
	struct kvm_run *run = c->run;
	int ret;

	for (;;) {
		if (wl_stop && c->vm->l->pattern == WORKLOAD_STORM)
			break;
		ret = wl_vcpu_run(c);
		if (ret < 0)
			break;
		if (!ret)
			continue;
		if (run->exit_reason == KVM_EXIT_IO && run->io.direction == KVM_EXIT_IO_OUT &&
		    run->io.port >= WL_PORT_EXC && run->io.port < WL_PORT_EXC + 32) {
			ret = handle_exception(c, run->io.port - WL_PORT_EXC);
			if (ret <= 0)
				break;
			continue;
		}
		{
			struct kvm_regs r = { 0 };

			ioctl(c->fd, KVM_GET_REGS, &r);
			if (run->exit_reason == KVM_EXIT_FAIL_ENTRY)
				wl_vcpu_fail(c, 2, "KVM_EXIT_FAIL_ENTRY, hardware reason %#llx",
					  (unsigned long long)
					  run->fail_entry.hardware_entry_failure_reason);
			else if (run->exit_reason == KVM_EXIT_INTERNAL_ERROR)
				wl_vcpu_fail(c, 2, "KVM internal error, suberror %u, rip %#llx",
					  run->internal.suberror, (unsigned long long)r.rip);
			else if (run->exit_reason == KVM_EXIT_SHUTDOWN)
				wl_vcpu_fail(c, 1, "the guest shut down (triple fault) at rip %#llx",
					  (unsigned long long)r.rip);
			else
				wl_vcpu_fail(c, 1, "unexpected exit reason %u at rip %#llx",
					  run->exit_reason, (unsigned long long)r.rip);
		}
		break;
	}
	return NULL;
}

static void kick_handler(int sig)
{
	(void)sig;
}

void wl_kick_all(struct wl_vm *vm)
{
	unsigned int i;

	for (i = 0; i < vm->nr_vcpus; i++) {
		struct wl_vcpu *c = &vm->vcpus[i];

		if (!c->thread_live)
			continue;
		__atomic_store_n(&c->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
		pthread_kill(c->thread, SIGUSR2);
	}
}

int wl_start_threads(struct wl_vm *vm, char *err, size_t len)
{
	unsigned int i;
	int e;

	for (i = 0; i < vm->nr_vcpus; i++) {
		e = pthread_create(&vm->vcpus[i].thread, NULL, vcpu_thread, &vm->vcpus[i]);
		if (e) {
			wl_set_err(err, len, "pthread_create: %s", strerror(e));
			return -1;
		}
		vm->vcpus[i].thread_live = true;
	}
	return 0;
}

/* Start the thread of vCPU @c alone (the probe). */
int wl_start_one(struct wl_vcpu *c, char *err, size_t len)
{
	int e = pthread_create(&c->thread, NULL, vcpu_thread, c);

	if (e) {
		wl_set_err(err, len, "pthread_create: %s", strerror(e));
		return -1;
	}
	c->thread_live = true;
	return 0;
}

/* Join every vCPU thread; with @deadline > 0, kick them when it passes. */
bool wl_join_threads(struct wl_vm *vm, double deadline)
{
	bool timed_out = false;
	unsigned int i;

	for (i = 0; i < vm->nr_vcpus; i++) {
		struct wl_vcpu *c = &vm->vcpus[i];

		if (!c->thread_live)
			continue;
		while (deadline > 0) {
			double t = wl_now_s();
			struct timespec ts;

			if (t >= deadline) {
				timed_out = true;
				wl_stop = 1;
				wl_kick_all(vm);
				break;
			}
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += 100 * 1000 * 1000;
			if (ts.tv_nsec >= 1000000000) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000;
			}
			if (!pthread_timedjoin_np(c->thread, NULL, &ts)) {
				c->thread_live = false;
				break;
			}
			if (wl_stop)
				wl_kick_all(vm);
		}
		if (c->thread_live) {
			pthread_join(c->thread, NULL);
			c->thread_live = false;
		}
	}
	return timed_out;
}

void wl_vcpu_status(struct wl_vm *vm, struct workload_result *r)
{
	unsigned int i;

	for (i = 0; i < vm->nr_vcpus; i++) {
		struct wl_vcpu *c = &vm->vcpus[i];

		if (c->status && (!r->status || c->status > r->status)) {
			r->status = c->status;
			snprintf(r->error, sizeof(r->error), "%s", c->error);
		}
	}
}

void wl_sum_stats(struct wl_vm *vm, struct workload_result *r)
{
	long long *dst[3] = { &r->kvm_pf_fixed, &r->kvm_pf_guest, &r->kvm_pf_taken };
	unsigned int i, k;

	for (k = 0; k < 3; k++) {
		long long sum = 0;

		for (i = 0; i < vm->nr_vcpus; i++) {
			long long v = wl_stat_read(&vm->vcpus[i], k);

			if (v < 0) {
				sum = -1;
				break;
			}
			sum += v;
		}
		*dst[k] = sum;
	}
}

void wl_json_kvm_stats(struct json_writer *jw, const struct workload_result *r)
{
	json_key(jw, "kvm_stats");
	json_obj_begin(jw);
	json_kv_s64(jw, "pf_fixed", r->kvm_pf_fixed);
	json_kv_s64(jw, "pf_guest", r->kvm_pf_guest);
	json_kv_s64(jw, "pf_taken", r->kvm_pf_taken);
	json_obj_end(jw);
}

void wl_print_kvm_stats(const struct workload_result *r, FILE *out)
{
	if (r->kvm_pf_fixed < 0)
		fprintf(out, "kvm stats: not available (no KVM_CAP_BINARY_STATS_FD)\n");
	else
		fprintf(out, "kvm stats: pf_fixed %lld, pf_guest %lld, pf_taken %lld\n",
			r->kvm_pf_fixed, r->kvm_pf_guest, r->kvm_pf_taken);
}

static int wait_go(int fd)
{
	char b;
	ssize_t n;

	do
		n = read(fd, &b, 1);
	while (n < 0 && errno == EINTR);
	return n == 1 ? 0 : -1;
}

int workload_run(const struct workload_opts *o, struct workload_result *r)
{
	struct sigaction sa = { .sa_handler = kick_handler };
	struct wl_vm *vm;

	memset(r, 0, sizeof(*r));
	r->kvm_pf_fixed = r->kvm_pf_guest = r->kvm_pf_taken = -1;
	if ((o->vcpus > WORKLOAD_MAX_VCPUS) ||
	    (o->pattern != WORKLOAD_MATRIX && o->pattern != WORKLOAD_STORM) ||
	    o->duration < 0) {
		wl_set_err(r->error, sizeof(r->error), "bad options: vcpus 1..%d, duration >= 0",
			WORKLOAD_MAX_VCPUS);
		return r->status = 2;
	}
	if (o->nested && (o->pattern != WORKLOAD_MATRIX || o->vcpus > 1)) {
		wl_set_err(r->error, sizeof(r->error),
			   "bad options: --nested runs the matrix on one vCPU (drop --pattern storm and --vcpus)");
		return r->status = 2;
	}
	if (o->go_fd >= 0 && wait_go(o->go_fd)) {
		wl_set_err(r->error, sizeof(r->error), "not started (the go pipe was closed)");
		return r->status = 2;
	}
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR2, &sa, NULL);
	wl_stop = 0;
	vm = calloc(1, sizeof(*vm));
	if (!vm) {
		wl_set_err(r->error, sizeof(r->error), "out of memory");
		return r->status = 2;
	}
	if (wl_vm_create(vm, o, r->error, sizeof(r->error)))
		r->status = 2;
	else if (o->nested)
		wl_run_nested(vm, r);
	else if (o->pattern == WORKLOAD_STORM)
		wl_run_storm(vm, r);
	else
		wl_run_matrix(vm, r);
	wl_vm_destroy(vm);
	free(vm);
	return r->status;
}
void workload_request_stop(void)
{
	wl_stop = 1;
}

