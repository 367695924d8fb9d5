// SPDX-License-Identifier: GPL-2.0
/*
 * Running the nested workload: the passes (feature off at CPL 3 and CPL
 * 0, the control; then, when KVM offers GMET/MBEC to its guest, the same
 * with the feature on), L2's vCPU loop, each L3 exit judged against the
 * reference model, and the report.  The vendor code (nested_svm.c) knows
 * the VMCB; this file knows only struct wln_exit.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include "workload/nested.h"
#include "workload/vmm.h"

static const char *const acc_names[3] = { "read", "write", "fetch" };

const struct kvm_cpuid_entry2 *wln_cpuid(struct wl_vm *vm, uint32_t fn)
{
	unsigned int i;

	for (i = 0; i < vm->cpuid->nent; i++)
		if (vm->cpuid->entries[i].function == fn && vm->cpuid->entries[i].index == 0)
			return &vm->cpuid->entries[i];
	return NULL;
}

/* SVM when KVM offers it to its guest, else VMX, else nothing. */
static const struct wln_ops *pick_ops(struct wl_vm *vm, char *err, size_t len)
{
	const struct kvm_cpuid_entry2 *ext = wln_cpuid(vm, 0x80000001), *std = wln_cpuid(vm, 1);

	if (ext && (ext->ecx & (1u << 2)))
		return &wln_svm_ops;
	if (std && (std->ecx & (1u << 5)))
		return &wln_vmx_ops;
	wl_set_err(err, len, "KVM offers its guests neither SVM nor VMX: load kvm_amd or kvm_intel with nested=1");
	return NULL;
}

static const char *pass_label(const struct wln_run *w, const struct wln_pass *p, char *buf,
			      size_t len)
{
	snprintf(buf, len, "%s%s CPL %u", w->ops->feature, p->l.feature ? "" : " off", p->l.cpl);
	return buf;
}

/* A mismatch of the pass running: counted in the pass and in the VM's list. */
static void pass_mismatch(struct wln_run *w, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void pass_mismatch(struct wln_run *w, const char *fmt, ...)
{
	char line[200];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	w->passes[w->cur].mismatches++;
	wl_mismatch(w->vm, "%s", line);
}

/* ---- one exit ----------------------------------------------------------- */

static int on_fault(struct wln_run *w, const struct wln_exit *e)
{
	struct wln_pass *p = &w->passes[w->cur];
	uint64_t code = WLN_L3_CODE_GPA;
	unsigned int i, k;
	char lb[48];

	for (i = 0; i < p->l.nr_pages; i++)
		if (e->gpa >= p->l.pages[i].gpa && e->gpa < p->l.pages[i].gpa + p->l.pages[i].size)
			break;
	if (i == p->l.nr_pages) {
		wl_vcpu_fail(w->c, 1, "L3 %s exit outside the matrix (%s): gpa %#llx rip %#llx %s %#llx",
			     w->ops->info_name, pass_label(w, p, lb, sizeof(lb)),
			     (unsigned long long)e->gpa, (unsigned long long)e->rip,
			     w->ops->info_name, (unsigned long long)e->info);
		return -1;
	}
	if (e->rip == wln_guest_at(code, wln_l3_read_insn))
		k = 0;
	else if (e->rip == wln_guest_at(code, wln_l3_write_insn))
		k = 1;
	else if (e->rip == p->l.pages[i].gpa + WLN_STUB_OFFSET)
		k = 2;
	else {
		wl_vcpu_fail(w->c, 1, "L3 nested fault on page %#llx at unexpected rip %#llx (%s)",
			     (unsigned long long)p->l.pages[i].gpa, (unsigned long long)e->rip,
			     pass_label(w, p, lb, sizeof(lb)));
		return -1;
	}
	if (e->gpa != p->l.pages[i].gpa + (k == 2 ? WLN_STUB_OFFSET : WLN_DATA_OFFSET))
		pass_mismatch(w, "%s page %s %s: %s exit names gpa %#llx, expected %#llx",
			    pass_label(w, p, lb, sizeof(lb)), p->l.pages[i].name,
			    p->l.pages[i].size == WLN_2M ? "2M" : "4K", acc_names[k],
			    (unsigned long long)e->gpa,
			    (unsigned long long)(p->l.pages[i].gpa +
						 (k == 2 ? WLN_STUB_OFFSET : WLN_DATA_OFFSET)));
	if (p->faulted[i] & (1 << k))
		pass_mismatch(w, "%s page %s: %s faulted twice", pass_label(w, p, lb, sizeof(lb)),
			    p->l.pages[i].name, acc_names[k]);
	p->faulted[i] |= 1 << k;
	p->got_info[i][k] = e->info;
	p->faults++;
	if (w->vm->o->verbose)
		fprintf(stderr, "workload: nested %s %s %s page %s gpa %#llx: %s %#llx\n",
			pass_label(w, p, lb, sizeof(lb)), acc_names[k],
			p->l.pages[i].size == WLN_2M ? "2M" : "4K", p->l.pages[i].name,
			(unsigned long long)e->gpa, w->ops->info_name, (unsigned long long)e->info);
	return 0;
}

/* L3 said it is done: hold every access of the pass against the model. */
static void verify_pass(struct wln_run *w)
{
	struct wln_pass *p = &w->passes[w->cur];
	const uint8_t *res = w->vm->ram + WLN_L3_DATA_GPA + WLN_DATA_RESULTS;
	unsigned int i, k;
	char lb[48], say[64];

	for (i = 0; i < p->l.nr_pages; i++) {
		const struct wln_page *pg = &p->l.pages[i];

		p->got[i] = res[i];
		for (k = 0; k < 3; k++) {
			bool want_ok = p->want[i] & (1 << k), got_ok = res[i] & (1 << k);
			bool flt = p->faulted[i] & (1 << k);

			p->accesses++;
			if (res[i] > 7 || got_ok == flt || got_ok != want_ok) {
				p->bad[i][k] = true;
				if (want_ok)
					snprintf(say, sizeof(say), "ok");
				else
					snprintf(say, sizeof(say), "a fault with %s %#llx",
						 w->ops->info_name,
						 (unsigned long long)p->want_info[i][k]);
				pass_mismatch(w, "%s %s page %s: %s %s, the model says %s",
					      pass_label(w, p, lb, sizeof(lb)),
					      pg->size == WLN_2M ? "2M" : "4K", pg->name, acc_names[k],
					      res[i] > 7 ? "never ran" : got_ok && flt ?
					      "both succeeded and faulted" : got_ok ? "succeeded" :
					      flt ? "faulted" : "neither succeeded nor faulted", say);
				continue;
			}
			if (flt && (p->got_info[i][k] & ~p->undef[i][k]) !=
				   (p->want_info[i][k] & ~p->undef[i][k])) {
				p->bad[i][k] = true;
				pass_mismatch(w, "%s %s page %s: %s faulted with %s %#llx, the model says %#llx",
					    pass_label(w, p, lb, sizeof(lb)),
					    pg->size == WLN_2M ? "2M" : "4K", pg->name, acc_names[k],
					    w->ops->info_name, (unsigned long long)p->got_info[i][k],
					    (unsigned long long)p->want_info[i][k]);
			}
		}
		if ((res[i] & WL_RES_WRITE) && res[i] <= 7 &&
		    w->vm->ram[pg->gpa + WLN_DATA_OFFSET] != (uint8_t)i)
			pass_mismatch(w, "%s page %s: the byte L3 wrote reads back as %#x",
				    pass_label(w, p, lb, sizeof(lb)), pg->name,
				    w->vm->ram[pg->gpa + WLN_DATA_OFFSET]);
	}
}

/* L2's vCPU: run until L3 is done with the pass or something breaks. */
static void *nested_thread(void *arg)
{
	struct wln_run *w = arg;
	struct wl_vcpu *c = w->c;
	struct kvm_run *run = c->run;
	int ret;

	while (!w->done && !c->status) {
		ret = wl_vcpu_run(c);
		if (ret < 0)
			break;
		if (!ret)
			continue;
		if (run->exit_reason == KVM_EXIT_IO && run->io.port == WLN_PORT_VMFAIL &&
		    w->ops->failed) {
			char line[160];

			if (w->ops->failed(w, line, sizeof(line)))
				snprintf(line, sizeof(line), "a VMX instruction of L2 failed");
			wl_vcpu_fail(c, 1, "%s", line);
			break;
		}
		if (run->exit_reason == KVM_EXIT_IO && run->io.port == WLN_PORT_EXIT) {
			struct kvm_regs r;
			struct wln_exit e;

			w->exits++;
			if (w->ops->decode(w, &e)) {
				wl_vcpu_fail(c, 2, "cannot read L3's exit: %s", strerror(errno));
				break;
			}
			if (e.kind == WLN_EXIT_DONE) {
				verify_pass(w);
				w->done = true;
				break;
			}
			if (e.kind == WLN_EXIT_OTHER) {
				wl_vcpu_fail(c, 1, "L3 exit L2 did not expect: %s", e.what);
				break;
			}
			if (on_fault(w, &e))
				break;
			if (ioctl(c->fd, KVM_GET_REGS, &r) || w->ops->resume(w, r.r15, r.r14)) {
				wl_vcpu_fail(c, 2, "cannot resume L3: %s", strerror(errno));
				break;
			}
			continue;
		}
		{
			struct kvm_regs r = { 0 };
			struct kvm_sregs s = { 0 };

			ioctl(c->fd, KVM_GET_REGS, &r);
			ioctl(c->fd, KVM_GET_SREGS, &s);
			if (run->exit_reason == KVM_EXIT_IO && run->io.port >= WL_PORT_EXC &&
			    run->io.port < WL_PORT_EXC + 32) {
				unsigned int vec = run->io.port - WL_PORT_EXC;
				/* the frame: [error code,] rip, cs, rflags, rsp, ss */
				uint64_t at = r.rsp + (vec == 8 || (vec >= 10 && vec <= 14) ||
						       vec == 17 ? 8 : 0);
				uint64_t frip = at + 8 <= WL_KSTACK_GPA(c->id) + WL_4K &&
						at >= WL_KSTACK_GPA(c->id) ?
						get64(w->vm->ram + at) : 0;

				wl_vcpu_fail(c, 1, "L2 took exception %u at rip %#llx (efer %#llx)%s",
					     vec, (unsigned long long)frip,
					     (unsigned long long)s.efer,
					     vec == 6 ? ": #UD, KVM refuses L2 the virtualization instructions (no nested virtualization offered?)" : "");
			}
			else if (run->exit_reason == KVM_EXIT_INTERNAL_ERROR)
				wl_vcpu_fail(c, 2, "KVM internal error, suberror %u, rip %#llx",
					     run->internal.suberror, (unsigned long long)r.rip);
			else if (run->exit_reason == KVM_EXIT_SHUTDOWN)
				wl_vcpu_fail(c, 1, "L2 shut down (triple fault) at rip %#llx",
					     (unsigned long long)r.rip);
			else
				wl_vcpu_fail(c, 1, "unexpected exit reason %u of L2 at rip %#llx",
					     run->exit_reason, (unsigned long long)r.rip);
		}
		break;
	}
	return NULL;
}

/* ---- the passes ----------------------------------------------------------- */

static int expect_pass(struct wln_run *w, struct wln_pass *p, char *err, size_t len)
{
	unsigned int i, k;

	for (i = 0; i < p->l.nr_pages; i++) {
		p->want[i] = 0;
		for (k = 0; k < 3; k++) {
			struct mbec_outcome out;

			if (wln_expect(&p->l, &p->l.pages[i], (enum mbec_op)k, w->advanced_info, &out)) {
				wl_set_err(err, len, "the reference model cannot walk nested page %s",
					   p->l.pages[i].name);
				return -1;
			}
			if (out.result == MBEC_RES_OK)
				p->want[i] |= 1 << k;
			p->want_info[i][k] = out.result == MBEC_RES_EPT_VIOLATION ? out.exit_qual :
					     out.error_code;
			p->undef[i][k] = out.undefined_mask;
		}
	}
	return 0;
}

/* Fresh L3 memory for a pass: code, result bytes, page list, stubs. */
static void write_l3(struct wln_run *w, const struct wln_layout *l)
{
	uint8_t *ram = w->vm->ram, *data = ram + WLN_L3_DATA_GPA;
	size_t blob = (size_t)(wln_guest_end - wln_guest_start);
	unsigned int i;

	memset(ram + WLN_L3_CODE_GPA, 0xcc, WLN_L3_CODE_PAGES * WLN_4K);
	memcpy(ram + WLN_L3_CODE_GPA, wln_guest_start, blob);
	memset(data, 0, WLN_4K);
	for (i = 0; i < l->nr_pages; i++) {
		put64(data + WLN_DATA_PAGELIST + 8 * i, l->pages[i].gpa);
		data[WLN_DATA_RESULTS + i] = 0xff;
		ram[l->pages[i].gpa + WLN_STUB_OFFSET] = 0xc3;	/* ret */
		ram[l->pages[i].gpa + WLN_DATA_OFFSET] = 0x5a;
	}
}

static int run_pass(struct wln_run *w, unsigned int idx, struct workload_result *r)
{
	struct wln_pass *p = &w->passes[idx];
	struct wl_vm *vm = w->vm;
	struct wl_vcpu *c = w->c;
	char lb[48];
	int e;

	w->cur = idx;
	w->done = false;
	wln_layout_write(&p->l, vm->ram);
	if (vm->o->inject_mismatch) {
		/* tests: the 4K page the model lets write loses W; the check must fail */
		const struct wln_page *pg = &p->l.pages[p->l.mmu == MBEC_MMU_NPT ? 6 : 7];

		put64(vm->ram + pg->leaf_gpa, pg->leaf & ~(p->l.mmu == MBEC_MMU_NPT ? PTE_RW : EPTE_W));
	}
	write_l3(w, &p->l);
	/* KVM does not see user-space writes to tables it shadows: drop every SPTE. */
	if (wl_set_slots(vm, false, r->error, sizeof(r->error)) ||
	    wl_set_slots(vm, true, r->error, sizeof(r->error)))
		return r->status = 2;
	if (w->ops->enter(w, &p->l, r->error, sizeof(r->error)))
		return r->status = 2;
	c->status = 0;
	e = pthread_create(&c->thread, NULL, nested_thread, w);
	if (e) {
		wl_set_err(r->error, sizeof(r->error), "pthread_create: %s", strerror(e));
		return r->status = 2;
	}
	c->thread_live = true;
	if (wl_join_threads(vm, wl_now_s() + WL_ROUND_TIMEOUT_S) && !w->done) {
		wl_set_err(r->error, sizeof(r->error),
			   "the nested pass (%s) did not finish in %.0f s (%lu exits so far)",
			   pass_label(w, p, lb, sizeof(lb)), WL_ROUND_TIMEOUT_S, w->exits);
		return r->status = 1;
	}
	if (c->status) {
		r->status = c->status;
		int m = snprintf(r->error, sizeof(r->error), "%.200s", c->error);

		snprintf(r->error + m, sizeof(r->error) - m, " (%.40s)",
			 pass_label(w, p, lb, sizeof(lb)));
		return r->status;
	}
	if (!w->done) {
		wl_set_err(r->error, sizeof(r->error), "interrupted");
		return r->status = 2;
	}
	p->ran = true;
	return 0;
}

static void print_nested(struct wln_run *w, const struct workload_result *r, FILE *out);
static void json_nested(struct wln_run *w, const struct workload_result *r, FILE *out);

static int nested_main(struct wl_vm *vm, struct wln_run *w, struct workload_result *r)
{
	unsigned int i, k, n = 0;
	double t0;

	w->vm = vm;
	w->c = &vm->vcpus[0];
	r->nested = true;
	w->ops = pick_ops(vm, r->error, sizeof(r->error));
	if (!w->ops)
		return r->status = 2;
	if (vm->nr_vcpus != 1) {
		wl_set_err(r->error, sizeof(r->error), "--nested runs one vCPU");
		return r->status = 2;
	}
	if (w->ops->setup(w, &w->feature, w->feature_note, sizeof(w->feature_note), r->error,
			  sizeof(r->error)))
		return r->status = 2;
	if (wl_guest_end - wl_guest_start > (long)WLN_L2_CODE_OFFSET ||
	    wln_guest_end - wln_guest_start > (long)(WLN_L3_CODE_PAGES * WLN_4K) ||
	    (long)WLN_L2_CODE_OFFSET + (wln_guest_end - wln_guest_start) >
	    (long)(WL_UCODE_PAGES * WL_4K)) {
		wl_set_err(r->error, sizeof(r->error), "the guest code does not fit its pages (a bug)");
		return r->status = 2;
	}
	memcpy(vm->ram + WL_KCODE_GPA + WLN_L2_CODE_OFFSET, wln_guest_start,
	       (size_t)(wln_guest_end - wln_guest_start));
	/* The control (feature off) first, then the feature when KVM offers it. */
	for (k = 0; k < 2; k++) {
		if (k && !w->feature)
			break;
		for (i = 0; i < 2; i++) {
			struct wln_pass *p = &w->passes[n];

			if (wln_layout_build(&p->l, w->ops->mmu, k, w->execonly, i ? 0 : 3) ||
			    expect_pass(w, p, r->error, sizeof(r->error))) {
				if (!r->error[0])
					wl_set_err(r->error, sizeof(r->error),
						   "cannot lay out the nested tables");
				return r->status = 2;
			}
			n++;
		}
	}
	w->nr_passes = n;
	snprintf(r->nested_note, sizeof(r->nested_note), "%s", w->feature_note);
	t0 = wl_now_s();
	for (i = 0; i < n; i++) {
		if (run_pass(w, i, r))
			break;
		r->nested_passes++;
		r->accesses += w->passes[i].accesses;
		r->faults += w->passes[i].faults;
	}
	r->seconds = wl_now_s() - t0;
	r->rounds = r->status ? 0 : 1;
	r->pages = w->passes[0].l.nr_pages;
	r->mismatches = vm->mismatches;
	wl_sum_stats(vm, r);
	if (r->status)
		return r->status;
	if (vm->mismatches) {
		r->status = 1;
		wl_set_err(r->error, sizeof(r->error), "nested self-check failed (%lu mismatches): %s",
			   vm->mismatches, vm->mismatch[0]);
	}
	if (!vm->o->quiet) {
		FILE *out = vm->o->out ? vm->o->out : stdout;

		if (vm->o->json)
			json_nested(w, r, out);
		else
			print_nested(w, r, out);
	}
	return r->status;
}

int wl_run_nested(struct wl_vm *vm, struct workload_result *r)
{
	struct wln_run *w = calloc(1, sizeof(*w));
	int status;

	if (!w) {
		wl_set_err(r->error, sizeof(r->error), "out of memory");
		return r->status = 2;
	}
	status = nested_main(vm, w, r);
	free(w);
	return status;
}

/* ---- the report ----------------------------------------------------------- */

static void print_trimmed(FILE *out, char *line)
{
	size_t n = strlen(line);

	while (n && line[n - 1] == ' ')
		line[--n] = 0;
	fprintf(out, "%s\n", line);
}

static void print_nested(struct wln_run *w, const struct workload_result *r, FILE *out)
{
	unsigned int i, k, pi;
	char lb[48];

	fprintf(out, "nested: %s, L3 run by the built-in guest; %s: %s\n", w->ops->name,
		w->ops->feature, w->feature_note);
	fprintf(out, "nested: %u pass%s, %lu pages each, %lu accesses: %lu succeeded, %lu faulted (%s to L2, with its %s)\n",
		r->nested_passes, r->nested_passes == 1 ? "" : "es", r->pages, r->accesses,
		r->accesses - r->faults, r->faults, w->ops->fault_name, w->ops->info_name);
	{
		char line[160];
		size_t n = (size_t)snprintf(line, sizeof(line), "size  %-14s", "leaf");

		for (pi = 0; pi < w->nr_passes && n < sizeof(line); pi++)
			n += (size_t)snprintf(line + n, sizeof(line) - n, "  %-14s",
					      pass_label(w, &w->passes[pi], lb, sizeof(lb)));
		print_trimmed(out, line);
	}
	for (i = 0; i < w->passes[0].l.nr_pages; i++) {
		const struct wln_page *pg = &w->passes[0].l.pages[i];
		char line[160];
		size_t n = (size_t)snprintf(line, sizeof(line), "%-4s  %-14s",
					    pg->size == WLN_2M ? "2M" : "4K", pg->name);

		for (pi = 0; pi < w->nr_passes && n < sizeof(line); pi++) {
			const struct wln_pass *p = &w->passes[pi];
			char cell[8] = "---";
			bool bad = false;

			for (k = 0; k < 3; k++) {
				if (p->ran && (p->got[i] & (1 << k)) && p->got[i] <= 7)
					cell[k] = "rwx"[k];
				bad |= p->bad[i][k];
			}
			if (!p->ran)
				snprintf(cell, sizeof(cell), "n/a");
			else if (bad)
				cell[3] = '!';
			n += (size_t)snprintf(line + n, sizeof(line) - n, "  %-14s", cell);
		}
		print_trimmed(out, line);
	}
	for (pi = 0; pi < w->nr_passes; pi++) {
		const struct wln_pass *p = &w->passes[pi];

		if (p->ran)
			fprintf(out, "  %s: %lu accesses, %lu faults, %lu not as the model says\n",
				pass_label(w, p, lb, sizeof(lb)), p->accesses, p->faults,
				p->mismatches);
	}
	wl_print_kvm_stats(r, out);
	if (r->mismatches) {
		fprintf(out, "self-check: FAILED, %lu mismatches ('!' above):\n", r->mismatches);
		for (i = 0; i < w->vm->nr_mismatch_lines; i++)
			fprintf(out, "  %s\n", w->vm->mismatch[i]);
	} else {
		fprintf(out, "self-check: passed (each L3 access did what the reference model says for its nested leaf, and each fault reached L2 with the model's %s)\n",
			w->ops->info_name);
	}
	fflush(out);
}

static void json_nested(struct wln_run *w, const struct workload_result *r, FILE *out)
{
	struct json_writer jw;
	unsigned int i, k, pi;
	char lb[48];

	json_init(&jw, out, false);
	json_obj_begin(&jw);
	json_kv_str(&jw, "pattern", "nested");
	json_kv_str(&jw, "hypervisor", w->ops->name);
	json_kv_str(&jw, "mmu", mbec_mmu_name(w->ops->mmu));
	json_kv_str(&jw, "feature", w->ops->feature);
	json_kv_bool(&jw, "feature_offered", w->feature);
	json_kv_str(&jw, "feature_note", w->feature_note);
	json_kv_str(&jw, "info", w->ops->info_name);
	json_kv_u64(&jw, "passes_run", r->nested_passes);
	json_kv_u64(&jw, "pages", r->pages);
	json_kv_u64(&jw, "accesses", r->accesses);
	json_kv_u64(&jw, "succeeded", r->accesses - r->faults);
	json_kv_u64(&jw, "faults", r->faults);
	json_kv_u64(&jw, "exits", w->exits);
	json_kv_u64(&jw, "mismatches", r->mismatches);
	json_kv_str(&jw, "self_check", r->mismatches ? "failed" : "passed");
	json_kv_u64(&jw, "milliseconds", (uint64_t)(r->seconds * 1000 + 0.5));
	wl_json_kvm_stats(&jw, r);
	json_key(&jw, "passes");
	json_arr_begin(&jw);
	for (pi = 0; pi < w->nr_passes; pi++) {
		const struct wln_pass *p = &w->passes[pi];

		json_obj_begin(&jw);
		json_kv_str(&jw, "name", pass_label(w, p, lb, sizeof(lb)));
		json_kv_bool(&jw, "feature", p->l.feature);
		json_kv_u64(&jw, "cpl", p->l.cpl);
		json_kv_bool(&jw, "ran", p->ran);
		json_kv_u64(&jw, "accesses", p->accesses);
		json_kv_u64(&jw, "faults", p->faults);
		json_kv_u64(&jw, "mismatches", p->mismatches);
		json_key(&jw, "pages");
		json_arr_begin(&jw);
		for (i = 0; i < p->l.nr_pages; i++) {
			const struct wln_page *pg = &p->l.pages[i];

			json_obj_begin(&jw);
			json_kv_str(&jw, "leaf_bits", pg->name);
			json_kv_u64(&jw, "size", pg->size);
			json_kv_hex(&jw, "gpa", pg->gpa);
			json_kv_hex(&jw, "leaf", pg->leaf);
			for (k = 0; k < 3; k++) {
				bool want_ok = p->want[i] & (1 << k);

				json_key(&jw, acc_names[k]);
				json_obj_begin(&jw);
				json_kv_str(&jw, "expect", want_ok ? "ok" : "fault");
				if (!want_ok)
					json_kv_hex(&jw, "expect_info", p->want_info[i][k]);
				json_kv_str(&jw, "got", !p->ran ? "not run" :
					    p->faulted[i] & (1 << k) ? "fault" :
					    p->got[i] <= 7 && (p->got[i] & (1 << k)) ? "ok" : "nothing");
				if (p->faulted[i] & (1 << k))
					json_kv_hex(&jw, "info", p->got_info[i][k]);
				json_kv_bool(&jw, "as_model", p->ran && !p->bad[i][k]);
				json_obj_end(&jw);
			}
			json_obj_end(&jw);
		}
		json_arr_end(&jw);
		json_obj_end(&jw);
	}
	json_arr_end(&jw);
	json_key(&jw, "mismatch_list");
	json_arr_begin(&jw);
	for (i = 0; i < w->vm->nr_mismatch_lines; i++)
		json_str(&jw, w->vm->mismatch[i]);
	json_arr_end(&jw);
	json_obj_end(&jw);
	json_finish(&jw);
	fflush(out);
}
