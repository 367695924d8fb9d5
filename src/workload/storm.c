// SPDX-License-Identifier: GPL-2.0
/*
 * The storm pattern: each vCPU increments one byte per page of its
 * working set, and the VMM zaps the set (MADV_DONTNEED) after every pass,
 * so every access of the next pass needs an SPTE fault: a steady fault
 * rate for benchmarks.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "workload/vmm.h"

void wl_storm_zap(struct wl_vcpu *c)
{
	uint8_t *base = c->vm->ram + WL_STORM_GPA(c->id, 0);

	if (madvise(base, WORKLOAD_STORM_PAGES * WL_4K, MADV_DONTNEED))
		wl_vcpu_fail(c, 2, "madvise(MADV_DONTNEED) on guest RAM: %s", strerror(errno));
}


static unsigned long storm_passes(struct wl_vm *vm)
{
	unsigned long sum = 0;
	unsigned int i;

	for (i = 0; i < vm->nr_vcpus; i++)
		sum += __atomic_load_n(&vm->vcpus[i].passes, __ATOMIC_RELAXED);
	return sum;
}

/*
 * CPU time the vCPU threads have used, in ns (0 when a clock cannot be
 * read): with the fault count it gives the CPU each fault cost them,
 * which, unlike faults per second, does not move when other work takes
 * the CPU away.  What a tracer adds to a fault shows up there.
 */
static double storm_cpu_ns(struct wl_vm *vm)
{
	struct timespec ts;
	clockid_t cid;
	double sum = 0;
	unsigned int i;

	for (i = 0; i < vm->nr_vcpus; i++) {
		if (pthread_getcpuclockid(vm->vcpus[i].thread, &cid) ||
		    clock_gettime(cid, &ts))
			return 0;
		sum += ts.tv_sec * 1e9 + ts.tv_nsec;
	}
	return sum;
}

static void wl_print_storm(struct wl_vm *vm, const struct workload_result *r, FILE *out,
			   const double *rates, unsigned int nr_rates);

int wl_run_storm(struct wl_vm *vm, struct workload_result *r)
{
	const struct workload_opts *o = vm->o;
	FILE *out = o->out ? o->out : stdout;
	double dur = o->duration > 0 ? o->duration : WORKLOAD_STORM_DEFAULT_S;
	double t0, tick, end, *rates, cpu_last = 0, cpu_now;
	unsigned long last = 0, now;
	unsigned int i, nr_rates = 0, max_rates = (unsigned int)dur + 2;

	rates = calloc(max_rates, sizeof(*rates));
	if (!rates) {
		wl_set_err(r->error, sizeof(r->error), "out of memory");
		return r->status = 2;
	}
	for (i = 0; i < vm->nr_vcpus; i++) {
		if (wl_enter_user(&vm->vcpus[i], wl_guest_addr(wl_guest_storm), WL_STORM_GVA(i, 0),
			       WORKLOAD_STORM_PAGES, 0)) {
			wl_set_err(r->error, sizeof(r->error), "KVM_SET_REGS: %s", strerror(errno));
			free(rates);
			return r->status = 2;
		}
	}
	if (!o->quiet && !o->json) {
		fprintf(out, "storm: %u vCPU%s, %u pages each, zapped (MADV_DONTNEED) after every pass, %.1f s\n",
			vm->nr_vcpus, vm->nr_vcpus == 1 ? "" : "s",
			WORKLOAD_STORM_PAGES, dur);
		fflush(out);
	}
	t0 = wl_now_s();
	end = t0 + dur;
	tick = t0;
	if (wl_start_threads(vm, r->error, sizeof(r->error))) {
		r->status = 2;
		wl_stop = 1;
	} else {
		cpu_last = storm_cpu_ns(vm);
	}
	while (!wl_stop) {
		double t = wl_now_s(), next = tick + 1.0, wait = (next < end ? next : end) - t;
		bool dead = false;

		if (wait > 0) {
			struct timespec ts = { (time_t)wait, (long)((wait - (time_t)wait) * 1e9) };

			nanosleep(&ts, NULL);
		}
		for (i = 0; i < vm->nr_vcpus; i++)
			if (__atomic_load_n(&vm->vcpus[i].status, __ATOMIC_RELAXED))
				dead = true;
		t = wl_now_s();
		if (t >= next - 1e-3 || t >= end) {
			now = storm_passes(vm);
			cpu_now = storm_cpu_ns(vm);
			if (t - tick > 0.05 && nr_rates < max_rates) {
				double faults = (now - last) * (double)WORKLOAD_STORM_PAGES;

				rates[nr_rates] = faults / (t - tick);
				if (!o->quiet && !o->json && faults > 0 && cpu_now > cpu_last)
					fprintf(out, "%6.1fs  %12.0f faults/s  %8.0f ns CPU/fault\n",
						t - t0, rates[nr_rates], (cpu_now - cpu_last) / faults);
				else if (!o->quiet && !o->json)
					fprintf(out, "%6.1fs  %12.0f faults/s\n", t - t0,
						rates[nr_rates]);
				fflush(out);
				nr_rates++;
			}
			last = now;
			cpu_last = cpu_now;
			tick = t;
		}
		if (t >= end || dead)
			break;
	}
	wl_stop = 1;
	wl_kick_all(vm);
	wl_join_threads(vm, 0);
	r->seconds = wl_now_s() - t0;
	wl_vcpu_status(vm, r);
	r->pages = vm->nr_vcpus * WORKLOAD_STORM_PAGES;
	for (i = 0; i < vm->nr_vcpus; i++) {
		r->accesses += vm->vcpus[i].accesses;
		r->faults += vm->vcpus[i].passes * WORKLOAD_STORM_PAGES;
	}
	r->faults_per_s = r->seconds > 0 ? r->faults / r->seconds : 0;
	wl_sum_stats(vm, r);
	if (!r->status && !r->faults) {
		r->status = 1;
		wl_set_err(r->error, sizeof(r->error), "the storm produced no faults in %.1f s",
			r->seconds);
	}
	if (!o->quiet)
		wl_print_storm(vm, r, out, rates, nr_rates);
	free(rates);
	return r->status;
}

static void wl_print_storm(struct wl_vm *vm, const struct workload_result *r, FILE *out,
			const double *rates, unsigned int nr_rates)
{
	unsigned int i;

	if (vm->o->json) {
		struct json_writer jw;

		json_init(&jw, out, false);
		json_obj_begin(&jw);
		json_kv_str(&jw, "pattern", "storm");
		json_kv_u64(&jw, "vcpus", vm->nr_vcpus);
		json_kv_u64(&jw, "pages_per_vcpu", WORKLOAD_STORM_PAGES);
		json_kv_u64(&jw, "milliseconds", (uint64_t)(r->seconds * 1000 + 0.5));
		json_kv_u64(&jw, "passes", r->faults / WORKLOAD_STORM_PAGES);
		json_kv_u64(&jw, "faults", r->faults);
		json_kv_u64(&jw, "faults_per_s", (uint64_t)(r->faults_per_s + 0.5));
		wl_json_kvm_stats(&jw, r);
		json_key(&jw, "per_second");
		json_arr_begin(&jw);
		for (i = 0; i < nr_rates; i++)
			json_u64(&jw, (uint64_t)(rates[i] + 0.5));
		json_arr_end(&jw);
		json_obj_end(&jw);
		json_finish(&jw);
		fflush(out);
		return;
	}
	fprintf(out, "storm: %lu faults in %.2f s: %.0f faults/s (%u vCPU%s x %u pages per pass, %lu passes)\n",
		r->faults, r->seconds, r->faults_per_s, vm->nr_vcpus,
		vm->nr_vcpus == 1 ? "" : "s", WORKLOAD_STORM_PAGES,
		r->faults / WORKLOAD_STORM_PAGES);
	wl_print_kvm_stats(r, out);
	fflush(out);
}
