// SPDX-License-Identifier: GPL-2.0
/*
 * The matrix pattern: each vCPU reads, writes and fetches every page of
 * its U/W/NX x A/D x 4K/2M matrix once per round; every #PF is accounted
 * for as it happens and every outcome, error code, CR2 and A/D update is
 * checked against the page's guest entry when the round ends.
 */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>

#include "workload/vmm.h"

static const char *const wl_access_names[3] = { "read", "write", "fetch" };

/* "r-x": the accesses in @bits (WL_RES_*) by their letters. */
static const char *rwx(unsigned int bits, char buf[4])
{
	buf[0] = bits & WL_RES_READ ? 'r' : '-';
	buf[1] = bits & WL_RES_WRITE ? 'w' : '-';
	buf[2] = bits & WL_RES_FETCH ? 'x' : '-';
	buf[3] = 0;
	return buf;
}

static const char *pass_name(unsigned int pass)
{
	return pass ? workload_smodes[pass - 1].name : "CPL 3";
}

/* A #PF in the matrix routine: which page, which access, and was it right? */
int wl_matrix_fault(struct wl_vcpu *c, const struct wl_frame *f, uint64_t cr2)
{
	struct wl_vm *vm = c->vm;
	const struct workload_page *pages = &vm->l->pages[c->id * WORKLOAD_MATRIX_PAGES];
	uint64_t rd = wl_guest_at(c->code_base, wl_guest_read_insn);
	uint64_t wr = wl_guest_at(c->code_base, wl_guest_write_insn);
	unsigned int i, kind, pass = wl_pass_of(c);
	uint64_t want_cr2, want_err;

	for (i = 0; i < WORKLOAD_MATRIX_PAGES; i++)
		if (cr2 >= pages[i].gva && cr2 < pages[i].gva + pages[i].size)
			break;
	if (i == WORKLOAD_MATRIX_PAGES) {
		wl_vcpu_fail(c, 1, "#PF outside the matrix (%s): cr2 %#llx rip %#llx error code %#llx",
			     pass_name(pass), (unsigned long long)cr2, (unsigned long long)f->rip,
			     (unsigned long long)f->err);
		return -1;
	}
	if (f->rip == rd)
		kind = 0;
	else if (f->rip == wr)
		kind = 1;
	else if (f->rip == pages[i].gva + WL_STUB_OFFSET)
		kind = 2;
	else {
		wl_vcpu_fail(c, 1, "#PF on matrix page %#llx at unexpected rip %#llx (%s)",
			     (unsigned long long)pages[i].gva, (unsigned long long)f->rip,
			     pass_name(pass));
		return -1;
	}
	want_cr2 = pages[i].gva + (kind == 2 ? WL_STUB_OFFSET : WL_DATA_OFFSET);
	want_err = vm->want_err[pass][c->id][i][kind];
	/*
	 * A fault the model does not expect is the pass's verdict to give
	 * (wl_matrix_verify); here only where and how the expected ones came.
	 */
	if (cr2 != want_cr2 ||
	    (!(vm->want[pass][c->id][i] & (1 << kind)) && f->err != want_err))
		wl_mismatch(vm, "vCPU %u %s %s page gva %#llx pte %#llx: %s #PF with cr2 %#llx error code %#llx, expected cr2 %#llx error code %#llx",
			    c->id, pass_name(pass), pages[i].size == WL_2M ? "2M" : "4K",
			    (unsigned long long)pages[i].gva, (unsigned long long)pages[i].pte,
			    wl_access_names[kind], (unsigned long long)cr2,
			    (unsigned long long)f->err, (unsigned long long)want_cr2,
			    (unsigned long long)want_err);
	if (c->faulted[i] & (1 << kind))
		wl_mismatch(vm, "vCPU %u %s page gva %#llx: %s faulted twice in one pass", c->id,
			    pass_name(pass), (unsigned long long)pages[i].gva,
			    wl_access_names[kind]);
	c->faulted[i] |= 1 << kind;
	c->faults++;
	if (vm->o->verbose)
		fprintf(stderr, "workload: vCPU %u %s #PF %s %s page gva %#llx gpa %#llx pte %#llx: cr2 %#llx error code %#llx\n",
			c->id, pass_name(pass), wl_access_names[kind],
			pages[i].size == WL_2M ? "2M" : "4K",
			(unsigned long long)pages[i].gva, (unsigned long long)pages[i].gpa,
			(unsigned long long)pages[i].pte, (unsigned long long)cr2,
			(unsigned long long)f->err);
	return 0;
}

/* The guest finished a matrix pass: compare with what the model says. */
void wl_matrix_verify(struct wl_vcpu *c)
{
	struct wl_vm *vm = c->vm;
	const struct workload_page *pages = &vm->l->pages[c->id * WORKLOAD_MATRIX_PAGES];
	const uint8_t *res = vm->ram + c->data_gpa + WL_UDATA_RESULTS;
	unsigned int i, k, pass = wl_pass_of(c);
	char b1[4], b2[4], b3[4];

	for (i = 0; i < WORKLOAD_MATRIX_PAGES; i++) {
		const struct workload_page *p = &pages[i];
		uint64_t pte = get64(vm->ram + p->pte_gpa);
		unsigned int want = vm->want[pass][c->id][i];
		unsigned int got = res[i], flt = c->faulted[i], any;

		vm->pte_after[c->id][i] = pte;
		c->accesses += 3;
		for (k = 0; k < 3; k++) {
			vm->page_ok[pass][c->id][i][k] += !!(got & (1 << k));
			vm->page_fault[pass][c->id][i][k] += !!(flt & (1 << k));
		}
		if (got > 7 || got != want || (flt | got) != 7 || (flt & got)) {
			wl_mismatch(vm, "vCPU %u %s %s page gva %#llx pte %#llx (U%d W%d NX%d): succeeded %s faulted %s; the model lets through exactly %s",
				    c->id, pass_name(pass), p->size == WL_2M ? "2M" : "4K",
				    (unsigned long long)p->gva, (unsigned long long)p->pte,
				    !!(p->pte & PTE_US), !!(p->pte & PTE_RW), !!(p->pte & PTE_NX),
				    rwx(got, b1), rwx(flt, b2), rwx(want, b3));
			continue;
		}
		/*
		 * What the walks must have done to the guest entry: A on use, D
		 * on write, over every pass of the round so far.
		 */
		c->round_got[i] |= got;
		any = c->round_got[i];
		if ((any && !(pte & PTE_A)) || ((any & WL_RES_WRITE) && !(pte & PTE_D)) ||
		    (!(any & WL_RES_WRITE) && (pte & PTE_D) != (p->pte & PTE_D)) ||
		    (pte & ~(PTE_A | PTE_D)) != (p->pte & ~(PTE_A | PTE_D)))
			wl_mismatch(vm, "vCPU %u %s page gva %#llx: guest entry %#llx after the pass (was %#llx; accesses that succeeded this round: %s)",
				    c->id, pass_name(pass), (unsigned long long)p->gva,
				    (unsigned long long)pte, (unsigned long long)p->pte,
				    rwx(any, b1));
		if ((got & WL_RES_WRITE) && vm->ram[p->gpa + WL_DATA_OFFSET] != (uint8_t)i)
			wl_mismatch(vm, "vCPU %u %s page gva %#llx: the byte written reads back as %#x",
				    c->id, pass_name(pass), (unsigned long long)p->gva,
				    vm->ram[p->gpa + WL_DATA_OFFSET]);
	}
}

/* Every access's outcome from the reference model, for every pass. */
static int matrix_expect(struct wl_vm *vm, struct workload_result *r)
{
	unsigned int pass, v, i, k;

	for (pass = 0; pass < WL_PASSES; pass++) {
		const struct workload_smode *sm = pass ? &workload_smodes[pass - 1] : NULL;

		for (v = 0; v < vm->nr_vcpus; v++) {
			for (i = 0; i < WORKLOAD_MATRIX_PAGES; i++) {
				const struct workload_page *p =
					&vm->l->pages[v * WORKLOAD_MATRIX_PAGES + i];
				uint8_t want = 0;

				for (k = 0; k < 3; k++) {
					struct mbec_outcome out;

					if (workload_expect(vm->l, p, (enum mbec_op)k, sm, &out)) {
						wl_set_err(r->error, sizeof(r->error),
							   "the reference model cannot walk matrix page %#llx",
							   (unsigned long long)p->gva);
						return -1;
					}
					if (out.result == MBEC_RES_OK)
						want |= 1 << k;
					vm->want_err[pass][v][i][k] = out.error_code;
				}
				vm->want[pass][v][i] = want;
			}
		}
	}
	return 0;
}

/* Which passes run: CPL 3 always, each supervisor mode the probe and KVM allow. */
static void matrix_passes(struct wl_vm *vm, struct workload_result *r)
{
	bool cpl0 = wl_probe_cpl0(vm, r);
	unsigned int k, skipped = 0;
	char missing[64] = "";

	vm->pass_ran[0] = true;
	for (k = 0; k < WORKLOAD_SMODES; k++) {
		const struct workload_smode *sm = &workload_smodes[k];

		if (!cpl0)
			continue;
		if ((sm->cr4_smep && !vm->has_smep) || (sm->cr4_smap && !vm->has_smap)) {
			skipped++;
			continue;
		}
		vm->pass_ran[1 + k] = true;
		r->cpl0_modes++;
	}
	r->cpl0 = r->cpl0_modes > 0;
	if (skipped) {
		size_t n = strlen(r->cpl0_note);

		snprintf(missing, sizeof(missing), "%s%s%s", vm->has_smep ? "" : "SMEP",
			 !vm->has_smep && !vm->has_smap ? " and " : "", vm->has_smap ? "" : "SMAP");
		snprintf(r->cpl0_note + n, sizeof(r->cpl0_note) - n,
			 "; %u supervisor mode%s skipped: KVM does not offer %s", skipped,
			 skipped == 1 ? "" : "s", missing);
	}
}

/* Set vCPU @c up for pass @pass of the matrix. */
static int matrix_enter(struct wl_vm *vm, struct wl_vcpu *c, unsigned int pass)
{
	const struct workload_layout *l = vm->l;
	uint64_t cr0 = l->cr0, cr4 = l->cr4, rflags = 0, rsp;

	memset(c->faulted, 0, sizeof(c->faulted));
	c->done = false;
	c->smode = (int)pass - 1;
	if (pass) {
		const struct workload_smode *sm = &workload_smodes[pass - 1];

		cr0 = sm->cr0_wp ? cr0 | X86_CR0_WP : cr0 & ~X86_CR0_WP;
		cr4 = (cr4 & ~(X86_CR4_SMEP | X86_CR4_SMAP)) | (sm->cr4_smep ? X86_CR4_SMEP : 0) |
		      (sm->cr4_smap ? X86_CR4_SMAP : 0);
		rflags = sm->eflags_ac ? X86_EFLAGS_AC : 0;
		c->code_base = WL_KCODE_GPA;
		c->data_gpa = WL_KDATA_GPA(c->id);
		rsp = WL_KSTACK_GPA(c->id) + WL_4K - 256;
	} else {
		c->code_base = WL_UCODE_GPA;
		c->data_gpa = WL_UDATA_GPA(c->id);
		rsp = WL_USTACK_GPA(c->id) + WL_4K - 64;
	}
	if (wl_set_cpu(c, pass ? 0 : 3, cr0, cr4))
		return -1;
	return wl_enter(c, wl_guest_at(c->code_base, wl_guest_matrix), rsp, rflags,
			c->data_gpa + WL_UDATA_PAGELIST, WORKLOAD_MATRIX_PAGES,
			c->data_gpa + WL_UDATA_RESULTS);
}

/*
 * A pass that missed its deadline: say where the first unfinished vCPU
 * stood and what KVM did meanwhile, which tells a guest that is merely
 * slow (its #PFs handled, rip moving) from one that makes no progress
 * (KVM taking the same fault again and again: pf_taken climbing, rip
 * still).
 */
static void matrix_late(struct wl_vm *vm, unsigned int pass, long long st0[][3],
			struct workload_result *r)
{
	unsigned int i, k, faulted = 0;
	struct wl_vcpu *c = NULL;
	struct kvm_regs regs;
	long long d[3];
	char rip[32] = "?";

	for (i = 0; i < vm->nr_vcpus && !c; i++)
		if (!vm->vcpus[i].done)
			c = &vm->vcpus[i];
	if (!c)
		c = &vm->vcpus[0];
	for (k = 0; k < WORKLOAD_MATRIX_PAGES; k++)
		faulted += c->faulted[k] != 0;
	if (!ioctl(c->fd, KVM_GET_REGS, &regs))
		snprintf(rip, sizeof(rip), "%#llx", (unsigned long long)regs.rip);
	for (k = 0; k < 3; k++) {
		long long v = wl_stat_read(c, (int)k);

		d[k] = v >= 0 && st0[c->id][k] >= 0 ? v - st0[c->id][k] : -1;
	}
	wl_set_err(r->error, sizeof(r->error),
		   "a matrix pass (%s) did not finish in %.0f s: vCPU %u at rip %s, %u of %u pages with a guest #PF; KVM in the pass: pf_taken %lld, pf_fixed %lld, pf_guest %lld",
		   pass_name(pass), WL_ROUND_TIMEOUT_S, c->id, rip, faulted, WORKLOAD_MATRIX_PAGES,
		   d[2], d[0], d[1]);
}

/* One pass of every vCPU: 0 when all of them finished it. */
static int matrix_pass(struct wl_vm *vm, unsigned int pass, struct workload_result *r)
{
	long long st0[WORKLOAD_MAX_VCPUS][3];
	unsigned int i, k;

	for (i = 0; i < vm->nr_vcpus; i++)
		for (k = 0; k < 3; k++)
			st0[i][k] = wl_stat_read(&vm->vcpus[i], (int)k);
	for (i = 0; i < vm->nr_vcpus; i++) {
		if (matrix_enter(vm, &vm->vcpus[i], pass)) {
			wl_set_err(r->error, sizeof(r->error), "cannot start the %s pass: %s",
				   pass_name(pass), strerror(errno));
			return r->status = 2;
		}
	}
	if (wl_start_threads(vm, r->error, sizeof(r->error))) {
		wl_stop = 1;
		wl_kick_all(vm);
		wl_join_threads(vm, 0);
		return r->status = 2;
	}
	/*
	 * A deadline sets wl_stop itself to kick the vCPUs out of KVM_RUN:
	 * only the return value tells it from a stop that was asked for
	 * (which ends the join early, before any deadline).
	 */
	if (wl_join_threads(vm, wl_now_s() + WL_ROUND_TIMEOUT_S)) {
		matrix_late(vm, pass, st0, r);
		return r->status = 1;
	}
	wl_vcpu_status(vm, r);
	if (r->status)
		return r->status;
	for (i = 0; i < vm->nr_vcpus; i++)
		if (!vm->vcpus[i].done) {
			wl_set_err(r->error, sizeof(r->error), "interrupted");
			return r->status = 2;
		}
	return 0;
}

static void wl_print_matrix(struct wl_vm *vm, const struct workload_result *r, FILE *out);

int wl_run_matrix(struct wl_vm *vm, struct workload_result *r)
{
	const struct workload_opts *o = vm->o;
	double t0, end;
	unsigned long faults0 = 0, acc0 = 0;
	unsigned int i, pass;

	if (matrix_expect(vm, r))
		return r->status = 2;
	matrix_passes(vm, r);
	if (r->status)
		return r->status;
	t0 = wl_now_s();
	end = o->duration > 0 ? t0 + o->duration : 0;
	for (;;) {
		for (i = 0; i < vm->nr_vcpus; i++)
			memset(vm->vcpus[i].round_got, 0, sizeof(vm->vcpus[i].round_got));
		for (pass = 0; pass < WL_PASSES; pass++) {
			if (!vm->pass_ran[pass])
				continue;
			if (matrix_pass(vm, pass, r))
				return r->status;
		}
		r->rounds++;
		if (!end || wl_now_s() >= end || wl_stop)
			break;
		/* Next round: fresh guest entries, and every SPTE zapped by a memslot flush. */
		wl_write_memory(vm);
		if (wl_set_slots(vm, false, r->error, sizeof(r->error)) ||
		    wl_set_slots(vm, true, r->error, sizeof(r->error)))
			return r->status = 2;
	}
	r->seconds = wl_now_s() - t0;
	r->pages = vm->l->vcpus * WORKLOAD_MATRIX_PAGES;
	for (i = 0; i < vm->nr_vcpus; i++) {
		r->accesses += vm->vcpus[i].accesses;
		r->faults += vm->vcpus[i].faults;
	}
	for (pass = 1; pass < WL_PASSES; pass++)
		for (i = 0; i < vm->nr_vcpus; i++) {
			unsigned int p, k;

			for (p = 0; p < WORKLOAD_MATRIX_PAGES; p++)
				for (k = 0; k < 3; k++) {
					acc0 += vm->page_ok[pass][i][p][k] +
						vm->page_fault[pass][i][p][k];
					faults0 += vm->page_fault[pass][i][p][k];
				}
		}
	r->cpl0_accesses = acc0;
	r->cpl0_faults = faults0;
	r->mismatches = vm->mismatches;
	wl_sum_stats(vm, r);
	if (vm->mismatches) {
		r->status = 1;
		wl_set_err(r->error, sizeof(r->error), "self-check failed (%lu mismatches): %s",
			vm->mismatches, vm->mismatch[0]);
	}
	if (!o->quiet)
		wl_print_matrix(vm, r, o->out ? o->out : stdout);
	return r->status;
}

static void cell(char *buf, size_t len, unsigned long ok, unsigned long flt, bool want_ok)
{
	const char *mark = (want_ok ? flt : ok) ? "!" : "";

	if (ok && !flt)
		snprintf(buf, len, "ok%s", mark);
	else if (flt && !ok)
		snprintf(buf, len, "#PF%s", mark);
	else
		snprintf(buf, len, "%luok/%lupf%s", ok, flt, mark);
}

static void json_cpl0(struct json_writer *jw, struct wl_vm *vm, const struct workload_result *r)
{
	unsigned int k;

	json_key(jw, "cpl0");
	json_obj_begin(jw);
	json_kv_bool(jw, "ran", r->cpl0);
	json_kv_str(jw, "note", r->cpl0_note);
	json_kv_u64(jw, "accesses", r->cpl0_accesses);
	json_kv_u64(jw, "faults", r->cpl0_faults);
	json_key(jw, "modes");
	json_arr_begin(jw);
	for (k = 0; k < WORKLOAD_SMODES; k++) {
		const struct workload_smode *sm = &workload_smodes[k];

		json_obj_begin(jw);
		json_kv_str(jw, "name", sm->name);
		json_kv_bool(jw, "cr0_wp", sm->cr0_wp);
		json_kv_bool(jw, "cr4_smep", sm->cr4_smep);
		json_kv_bool(jw, "cr4_smap", sm->cr4_smap);
		json_kv_bool(jw, "eflags_ac", sm->eflags_ac);
		json_kv_bool(jw, "ran", vm->pass_ran[1 + k]);
		json_obj_end(jw);
	}
	json_arr_end(jw);
	json_obj_end(jw);
}

/* One page's outcomes in pass @pass: per access, counts and the model's word. */
static void json_accesses(struct json_writer *jw, struct wl_vm *vm, unsigned int pass,
			  unsigned int v, unsigned int i)
{
	unsigned int k;

	for (k = 0; k < 3; k++) {
		json_key(jw, wl_access_names[k]);
		json_obj_begin(jw);
		json_kv_u64(jw, "ok", vm->page_ok[pass][v][i][k]);
		json_kv_u64(jw, "fault", vm->page_fault[pass][v][i][k]);
		json_kv_str(jw, "expect", vm->want[pass][v][i] & (1 << k) ? "ok" : "#PF");
		json_obj_end(jw);
	}
}

static void json_matrix(struct wl_vm *vm, const struct workload_result *r, FILE *out)
{
	const struct workload_layout *l = vm->l;
	struct json_writer jw;
	unsigned int v, i, pass;

	json_init(&jw, out, false);
	json_obj_begin(&jw);
	json_kv_str(&jw, "pattern", "matrix");
	json_kv_u64(&jw, "vcpus", l->vcpus);
	json_kv_u64(&jw, "rounds", r->rounds);
	json_kv_u64(&jw, "pages", r->pages);
	json_kv_u64(&jw, "accesses", r->accesses);
	json_kv_u64(&jw, "succeeded", r->accesses - r->faults);
	json_kv_u64(&jw, "faults", r->faults);
	json_kv_u64(&jw, "mismatches", r->mismatches);
	json_kv_str(&jw, "self_check", r->mismatches ? "failed" : "passed");
	json_kv_u64(&jw, "milliseconds", (uint64_t)(r->seconds * 1000 + 0.5));
	json_kv_hex(&jw, "cr3", l->cr3);
	wl_json_kvm_stats(&jw, r);
	json_cpl0(&jw, vm, r);
	json_key(&jw, "page_tables");
	json_arr_begin(&jw);
	for (i = 0; i < l->nr_tables; i++) {
		json_obj_begin(&jw);
		json_kv_hex(&jw, "gpa", l->tables[i].gpa);
		json_kv_u64(&jw, "level", l->tables[i].level);
		json_kv_hex(&jw, "gva_base", l->tables[i].gva_base);
		json_obj_end(&jw);
	}
	json_arr_end(&jw);
	json_key(&jw, "page_list");
	json_arr_begin(&jw);
	for (v = 0; v < l->vcpus; v++) {
		for (i = 0; i < WORKLOAD_MATRIX_PAGES; i++) {
			const struct workload_page *p = &l->pages[v * WORKLOAD_MATRIX_PAGES + i];

			json_obj_begin(&jw);
			json_kv_u64(&jw, "vcpu", v);
			json_kv_hex(&jw, "gva", p->gva);
			json_kv_hex(&jw, "gpa", p->gpa);
			json_kv_u64(&jw, "size", p->size);
			json_kv_u64(&jw, "u", !!(p->pte & PTE_US));
			json_kv_u64(&jw, "w", !!(p->pte & PTE_RW));
			json_kv_u64(&jw, "nx", !!(p->pte & PTE_NX));
			json_kv_str(&jw, "ad", workload_ad_name(i & 3));
			json_kv_hex(&jw, "pte", p->pte);
			json_kv_hex(&jw, "pte_gpa", p->pte_gpa);
			json_kv_hex(&jw, "pte_after", vm->pte_after[v][i]);
			json_accesses(&jw, vm, 0, v, i);
			json_key(&jw, "supervisor");
			json_arr_begin(&jw);
			for (pass = 1; pass < WL_PASSES; pass++) {
				if (!vm->pass_ran[pass])
					continue;
				json_obj_begin(&jw);
				json_kv_str(&jw, "mode", pass_name(pass));
				json_accesses(&jw, vm, pass, v, i);
				json_obj_end(&jw);
			}
			json_arr_end(&jw);
			json_obj_end(&jw);
		}
	}
	json_arr_end(&jw);
	json_key(&jw, "mismatch_list");
	json_arr_begin(&jw);
	for (i = 0; i < vm->nr_mismatch_lines; i++)
		json_str(&jw, vm->mismatch[i]);
	json_arr_end(&jw);
	json_obj_end(&jw);
	json_finish(&jw);
	fflush(out);
}

/*
 * The supervisor passes as a table: per U/W/NX x size row and mode, the
 * accesses that succeeded ("rw-"), '?' where the row's pages disagree,
 * '!' where the outcome is not the model's.
 */
static void print_cpl0(struct wl_vm *vm, const struct workload_result *r, FILE *out)
{
	const struct workload_layout *l = vm->l;
	unsigned int size, combo, pass, v, i, k;

	if (!r->cpl0) {
		fprintf(out, "supervisor (CPL 0): not run: %s\n", r->cpl0_note);
		return;
	}
	fprintf(out, "supervisor (CPL 0): %u mode%s, %lu accesses: %lu succeeded, %lu faulted (#PF); %s\n",
		r->cpl0_modes, r->cpl0_modes == 1 ? "" : "s", r->cpl0_accesses,
		r->cpl0_accesses - r->cpl0_faults, r->cpl0_faults, r->cpl0_note);
	fprintf(out, "size  U W NX");
	for (pass = 1; pass < WL_PASSES; pass++)
		if (vm->pass_ran[pass])
			fprintf(out, "  %-*s", (int)strlen(pass_name(pass)) < 4 ? 4 :
				(int)strlen(pass_name(pass)), pass_name(pass));
	fprintf(out, "\n");
	for (size = 0; size < 2; size++) {
		for (combo = 0; combo < 8; combo++) {
			fprintf(out, "%-4s  %d %d %d ", size ? "2M" : "4K", combo >> 2 & 1,
				combo >> 1 & 1, combo & 1);
			for (pass = 1; pass < WL_PASSES; pass++) {
				char c[8] = "";
				bool bad = false;
				int w = (int)strlen(pass_name(pass));

				if (!vm->pass_ran[pass])
					continue;
				for (k = 0; k < 3; k++) {
					unsigned long ok = 0, flt = 0;

					for (v = 0; v < l->vcpus; v++) {
						for (i = 0; i < 4; i++) {
							unsigned int idx = size * 32 + combo * 4 + i;
							bool want = vm->want[pass][v][idx] & (1 << k);

							ok += vm->page_ok[pass][v][idx][k];
							flt += vm->page_fault[pass][v][idx][k];
							if (want ? vm->page_fault[pass][v][idx][k] :
								   vm->page_ok[pass][v][idx][k])
								bad = true;
						}
					}
					c[k] = ok && flt ? '?' : ok ? "rwx"[k] : '-';
				}
				if (bad)
					c[3] = '!';
				fprintf(out, "  %-*s", w < 4 ? 4 : w, c);
			}
			fprintf(out, "\n");
		}
	}
}

static void wl_print_matrix(struct wl_vm *vm, const struct workload_result *r, FILE *out)
{
	const struct workload_layout *l = vm->l;
	unsigned int v, i, k, size, combo;

	if (vm->o->json) {
		json_matrix(vm, r, out);
		return;
	}
	fprintf(out, "matrix: %u vCPU%s, %lu round%s, %lu pages (8 U/W/NX x 4 A/D x 4K,2M per vCPU), %lu accesses: %lu succeeded, %lu faulted (#PF)\n",
		l->vcpus, l->vcpus == 1 ? "" : "s", r->rounds, r->rounds == 1 ? "" : "s", r->pages,
		r->accesses, r->accesses - r->faults, r->faults);
	fprintf(out, "size  U W NX  pages  read      write     fetch\n");
	for (size = 0; size < 2; size++) {
		for (combo = 0; combo < 8; combo++) {
			unsigned long ok[3] = { 0 }, flt[3] = { 0 }, n = 0;
			uint8_t want = 0;
			char c[3][32];

			for (v = 0; v < l->vcpus; v++) {
				for (i = 0; i < 4; i++) {
					unsigned int idx = size * 32 + combo * 4 + i;

					want = vm->want[0][v][idx];
					n++;
					for (k = 0; k < 3; k++) {
						ok[k] += vm->page_ok[0][v][idx][k];
						flt[k] += vm->page_fault[0][v][idx][k];
					}
				}
			}
			for (k = 0; k < 3; k++)
				cell(c[k], sizeof(c[k]), ok[k], flt[k], want & (1 << k));
			fprintf(out, "%-4s  %d %d %d  %6lu  %-8s  %-8s  %s\n", size ? "2M" : "4K",
				combo >> 2 & 1, combo >> 1 & 1, combo & 1, n, c[0], c[1], c[2]);
		}
	}
	print_cpl0(vm, r, out);
	wl_print_kvm_stats(r, out);
	if (r->mismatches) {
		fprintf(out, "self-check: FAILED, %lu mismatches ('!' above):\n",
			r->mismatches);
		for (i = 0; i < vm->nr_mismatch_lines; i++)
			fprintf(out, "  %s\n", vm->mismatch[i]);
	} else {
		fprintf(out, "self-check: passed (each access did what the reference model says for its page at CPL 3%s; error codes, CR2 and A/D updates as expected)\n",
			r->cpl0 ? " and in each supervisor mode" : "");
	}
	fflush(out);
}
