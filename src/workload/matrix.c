// SPDX-License-Identifier: GPL-2.0
/*
 * The matrix pattern: each vCPU reads, writes and fetches every page of
 * its U/W/NX x A/D x 4K/2M matrix once per round; every #PF is accounted
 * for as it happens and every outcome, error code, CR2 and A/D update is
 * checked against the page's guest entry when the round ends.
 */
#include <errno.h>
#include <string.h>

#include "workload/vmm.h"

static const char *const wl_access_names[3] = { "read", "write", "fetch" };

/* A #PF in the matrix routine: which page, which access, and was it right? */
int wl_matrix_fault(struct wl_vcpu *c, const struct wl_frame *f, uint64_t cr2)
{
	struct wl_vm *vm = c->vm;
	const struct workload_page *pages = &vm->l->pages[c->id * WORKLOAD_MATRIX_PAGES];
	uint64_t rd = wl_guest_addr(wl_guest_read_insn), wr = wl_guest_addr(wl_guest_write_insn);
	unsigned int i, kind;
	uint64_t want_cr2, want_err;

	for (i = 0; i < WORKLOAD_MATRIX_PAGES; i++)
		if (cr2 >= pages[i].gva && cr2 < pages[i].gva + pages[i].size)
			break;
	if (i == WORKLOAD_MATRIX_PAGES) {
		wl_vcpu_fail(c, 1, "#PF outside the matrix: cr2 %#llx rip %#llx error code %#llx",
			  (unsigned long long)cr2, (unsigned long long)f->rip,
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
		wl_vcpu_fail(c, 1, "#PF on matrix page %#llx at unexpected rip %#llx",
			  (unsigned long long)pages[i].gva, (unsigned long long)f->rip);
		return -1;
	}
	want_cr2 = pages[i].gva + (kind == 2 ? WL_STUB_OFFSET : WL_DATA_OFFSET);
	want_err = PFERR_PRESENT | PFERR_USER | (kind == 1 ? PFERR_WRITE : 0) |
		   (kind == 2 ? PFERR_FETCH : 0);
	if (cr2 != want_cr2 || f->err != want_err)
		wl_mismatch(vm, "vCPU %u %s page gva %#llx pte %#llx: %s #PF with cr2 %#llx error code %#llx, expected cr2 %#llx error code %#llx",
			 c->id, pages[i].size == WL_2M ? "2M" : "4K", (unsigned long long)pages[i].gva,
			 (unsigned long long)pages[i].pte, wl_access_names[kind],
			 (unsigned long long)cr2, (unsigned long long)f->err,
			 (unsigned long long)want_cr2, (unsigned long long)want_err);
	if (c->faulted[i] & (1 << kind))
		wl_mismatch(vm, "vCPU %u page gva %#llx: %s faulted twice in one round", c->id,
			 (unsigned long long)pages[i].gva, wl_access_names[kind]);
	c->faulted[i] |= 1 << kind;
	c->faults++;
	if (vm->o->verbose)
		fprintf(stderr, "workload: vCPU %u #PF %s %s page gva %#llx gpa %#llx pte %#llx: cr2 %#llx error code %#llx\n",
			c->id, wl_access_names[kind], pages[i].size == WL_2M ? "2M" : "4K",
			(unsigned long long)pages[i].gva, (unsigned long long)pages[i].gpa,
			(unsigned long long)pages[i].pte, (unsigned long long)cr2,
			(unsigned long long)f->err);
	return 0;
}

/* The guest finished a matrix pass: compare with what the PTE bits dictate. */
void wl_matrix_verify(struct wl_vcpu *c)
{
	struct wl_vm *vm = c->vm;
	const struct workload_page *pages = &vm->l->pages[c->id * WORKLOAD_MATRIX_PAGES];
	const uint8_t *res = vm->ram + WL_UDATA_GPA(c->id) + WL_UDATA_RESULTS;
	unsigned int i, k;

	for (i = 0; i < WORKLOAD_MATRIX_PAGES; i++) {
		const struct workload_page *p = &pages[i];
		uint64_t pte = get64(vm->ram + p->pte_gpa);
		unsigned int want = (workload_read_ok(p->pte) ? WL_RES_READ : 0) |
				    (workload_write_ok(p->pte) ? WL_RES_WRITE : 0) |
				    (workload_fetch_ok(p->pte) ? WL_RES_FETCH : 0);
		unsigned int got = res[i], flt = c->faulted[i];

		vm->pte_after[c->id][i] = pte;
		c->accesses += 3;
		for (k = 0; k < 3; k++) {
			vm->page_ok[c->id][i][k] += !!(got & (1 << k));
			vm->page_fault[c->id][i][k] += !!(flt & (1 << k));
		}
		if (got > 7 || got != want || (flt | got) != 7 || (flt & got)) {
			wl_mismatch(vm, "vCPU %u %s page gva %#llx pte %#llx (U%d W%d NX%d): succeeded %s%s%s faulted %s%s%s; expected success exactly for %s%s%s",
				 c->id, p->size == WL_2M ? "2M" : "4K", (unsigned long long)p->gva,
				 (unsigned long long)p->pte, !!(p->pte & PTE_US),
				 !!(p->pte & PTE_RW), !!(p->pte & PTE_NX),
				 got & 1 ? "r" : "-", got & 2 ? "w" : "-", got & 4 ? "x" : "-",
				 flt & 1 ? "r" : "-", flt & 2 ? "w" : "-", flt & 4 ? "x" : "-",
				 want & 1 ? "r" : "-", want & 2 ? "w" : "-", want & 4 ? "x" : "-");
			continue;
		}
		/* What the walk must have done to the guest entry: A on use, D on write. */
		if ((got && !(pte & PTE_A)) || ((got & WL_RES_WRITE) && !(pte & PTE_D)) ||
		    (!(got & WL_RES_WRITE) && (pte & PTE_D) != (p->pte & PTE_D)) ||
		    (pte & ~(PTE_A | PTE_D)) != (p->pte & ~(PTE_A | PTE_D)))
			wl_mismatch(vm, "vCPU %u page gva %#llx: guest entry %#llx after the round (was %#llx; accesses that succeeded: %s%s%s)",
				 c->id, (unsigned long long)p->gva, (unsigned long long)pte,
				 (unsigned long long)p->pte, got & 1 ? "r" : "-",
				 got & 2 ? "w" : "-", got & 4 ? "x" : "-");
		if ((got & WL_RES_WRITE) && vm->ram[p->gpa + WL_DATA_OFFSET] != (uint8_t)i)
			wl_mismatch(vm, "vCPU %u page gva %#llx: the byte written reads back as %#x",
				 c->id, (unsigned long long)p->gva,
				 vm->ram[p->gpa + WL_DATA_OFFSET]);
	}
}

static void wl_print_matrix(struct wl_vm *vm, const struct workload_result *r, FILE *out);

int wl_run_matrix(struct wl_vm *vm, struct workload_result *r)
{
	const struct workload_opts *o = vm->o;
	double t0 = wl_now_s(), end = o->duration > 0 ? t0 + o->duration : 0;
	unsigned int i;

	for (;;) {
		for (i = 0; i < vm->nr_vcpus; i++) {
			struct wl_vcpu *c = &vm->vcpus[i];
			uint64_t udata = WL_UDATA_GPA(i);

			memset(c->faulted, 0, sizeof(c->faulted));
			c->done = false;
			if (wl_enter_user(c, wl_guest_addr(wl_guest_matrix), udata + WL_UDATA_PAGELIST,
				       WORKLOAD_MATRIX_PAGES, udata + WL_UDATA_RESULTS)) {
				wl_set_err(r->error, sizeof(r->error), "KVM_SET_REGS: %s",
					strerror(errno));
				return r->status = 2;
			}
		}
		if (wl_start_threads(vm, r->error, sizeof(r->error))) {
			wl_stop = 1;
			wl_kick_all(vm);
			wl_join_threads(vm, 0);
			return r->status = 2;
		}
		if (wl_join_threads(vm, wl_now_s() + WL_ROUND_TIMEOUT_S) && !wl_stop) {
			wl_set_err(r->error, sizeof(r->error), "a matrix round did not finish in %.0f s",
				WL_ROUND_TIMEOUT_S);
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

static void wl_print_matrix(struct wl_vm *vm, const struct workload_result *r, FILE *out)
{
	const struct workload_layout *l = vm->l;
	unsigned int v, i, k, size, combo;

	if (vm->o->json) {
		struct json_writer jw;

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
				const struct workload_page *p =
					&l->pages[v * WORKLOAD_MATRIX_PAGES + i];

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
				for (k = 0; k < 3; k++) {
					json_key(&jw, wl_access_names[k]);
					json_obj_begin(&jw);
					json_kv_u64(&jw, "ok", vm->page_ok[v][i][k]);
					json_kv_u64(&jw, "fault", vm->page_fault[v][i][k]);
					json_obj_end(&jw);
				}
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
		return;
	}
	fprintf(out, "matrix: %u vCPU%s, %lu round%s, %lu pages (8 U/W/NX x 4 A/D x 4K,2M per vCPU), %lu accesses: %lu succeeded, %lu faulted (#PF)\n",
		l->vcpus, l->vcpus == 1 ? "" : "s", r->rounds, r->rounds == 1 ? "" : "s", r->pages,
		r->accesses, r->accesses - r->faults, r->faults);
	fprintf(out, "size  U W NX  pages  read      write     fetch\n");
	for (size = 0; size < 2; size++) {
		for (combo = 0; combo < 8; combo++) {
			unsigned long ok[3] = { 0 }, flt[3] = { 0 }, n = 0;
			uint64_t pte = 0;
			char c[3][32];

			for (v = 0; v < l->vcpus; v++) {
				for (i = 0; i < 4; i++) {
					unsigned int idx = size * 32 + combo * 4 + i;

					pte = l->pages[v * WORKLOAD_MATRIX_PAGES + idx].pte;
					n++;
					for (k = 0; k < 3; k++) {
						ok[k] += vm->page_ok[v][idx][k];
						flt[k] += vm->page_fault[v][idx][k];
					}
				}
			}
			cell(c[0], sizeof(c[0]), ok[0], flt[0], workload_read_ok(pte));
			cell(c[1], sizeof(c[1]), ok[1], flt[1], workload_write_ok(pte));
			cell(c[2], sizeof(c[2]), ok[2], flt[2], workload_fetch_ok(pte));
			fprintf(out, "%-4s  %d %d %d  %6lu  %-8s  %-8s  %s\n", size ? "2M" : "4K",
				combo >> 2 & 1, combo >> 1 & 1, combo & 1, n, c[0], c[1], c[2]);
		}
	}
	wl_print_kvm_stats(r, out);
	if (r->mismatches) {
		fprintf(out, "self-check: FAILED, %lu mismatches ('!' above):\n",
			r->mismatches);
		for (i = 0; i < vm->nr_mismatch_lines; i++)
			fprintf(out, "  %s\n", vm->mismatch[i]);
	} else {
		fprintf(out, "self-check: passed (each access did what the guest's U/W/NX bits dictate at CPL 3; error codes, CR2 and A/D updates as expected)\n");
	}
	fflush(out);
}
