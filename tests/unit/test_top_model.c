// SPDX-License-Identifier: GPL-2.0
/*
 * mbectop's pure parts: bucket classification per MMU flavour, rates over
 * a frame, live (absolute) vs replay (incremental) counting, retired vCPU
 * threads, VMs that go away, sorting, filtering, the rendered frame, and
 * naming VMs from QEMU command lines and libvirt pid files.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/kvm.h>

#include "mbec_arch.h"
#include "mbec_vmstats.h"
#include "tap.h"
#include "top/model.h"
#include "top/render.h"
#include "top/vmname.h"

#define NS 1000000000ULL

static struct top_model *model(enum top_mmu mmu, bool mbec, enum top_fault_src src, bool abs)
{
	struct top_env env = { .mmu = mmu, .mbec = mbec, .faults = src,
			       .layout = MBEC_LAYOUT_CLASSIC };

	return top_model_new(&env, abs);
}

/* Totals of one VM after one frame. */
static const uint64_t *vm_tot(struct top_model *m, uint32_t pid)
{
	struct top_vm *vm = top_model_vm(m, pid, false);

	return vm ? vm->tot : NULL;
}

static void test_classify_shadow(void)
{
	struct top_model *m = model(TOP_MMU_SHADOW, false, TOP_FAULTS_MAPPED, false);
	const uint64_t *t;

	/* user write to a present page (permission), user fetch not present, supervisor read */
	top_model_count(m, 10, 0, MBEC_EV_SPTE_REQUESTED,
			mbec_vmstats_bucket_pf(PFERR_PRESENT | PFERR_WRITE | PFERR_USER), 3);
	top_model_count(m, 10, 0, MBEC_EV_SPTE_REQUESTED,
			mbec_vmstats_bucket_pf(PFERR_USER | PFERR_FETCH), 2);
	top_model_count(m, 10, 0, MBEC_EV_SPTE_REQUESTED, mbec_vmstats_bucket_pf(0), 1);
	/* a user fetch denied by NX, and a supervisor one (SMEP) */
	top_model_count(m, 10, 1, MBEC_EV_SPTE_REQUESTED,
			mbec_vmstats_bucket_pf(PFERR_PRESENT | PFERR_USER | PFERR_FETCH), 5);
	top_model_count(m, 10, 1, MBEC_EV_SPTE_REQUESTED,
			mbec_vmstats_bucket_pf(PFERR_PRESENT | PFERR_FETCH), 7);
	/* MMIO */
	top_model_count(m, 10, 1, MBEC_EV_SPTE_REQUESTED,
			mbec_vmstats_bucket_pf(PFERR_PRESENT | PFERR_RSVD), 11);
	/* kvm_page_fault is the other source: not counted twice */
	top_model_count(m, 10, 0, MBEC_EV_PAGE_FAULT, mbec_vmstats_bucket_pf(PFERR_WRITE), 100);
	top_model_frame(m, 1 * NS);
	t = vm_tot(m, 10);
	ok(t != NULL, "shadow: the VM exists");
	if (!t)
		return;
	is_u64(t[TOP_S_FAULTS], 29, "shadow: faults from spte_requested only");
	is_u64(t[TOP_S_WRITE], 3, "shadow: writes");
	is_u64(t[TOP_S_FETCH], 14, "shadow: fetches");
	is_u64(t[TOP_S_READ], 12, "shadow: reads (incl. MMIO read)");
	is_u64(t[TOP_S_USER], 10, "shadow: user accesses");
	is_u64(t[TOP_S_SUPV], 19, "shadow: supervisor accesses");
	is_u64(t[TOP_S_NOTP], 3, "shadow: not present");
	is_u64(t[TOP_S_PERM], 15, "shadow: permission");
	is_u64(t[TOP_S_XU], 5, "shadow: user fetch permission fault is XU");
	is_u64(t[TOP_S_XS], 7, "shadow: supervisor fetch permission fault is XS");
	is_u64(t[TOP_S_RSVD], 11, "shadow: reserved-bit faults");
	top_model_free(m);
}

static void test_classify_ept(void)
{
	struct top_model *m = model(TOP_MMU_EPT, true, TOP_FAULTS_EXITS, false);
	uint64_t user_fetch = EPT_VIOL_ACC_INSTR | EPT_VIOL_PROT_READ | EPT_VIOL_PROT_EXEC |
			      EPT_VIOL_GVA_IS_VALID | EPT_VIOL_GVA_TRANSLATED | EPT_VIOL_GVA_USER;
	uint64_t sup_fetch = EPT_VIOL_ACC_INSTR | EPT_VIOL_PROT_READ | EPT_VIOL_PROT_USER_EXEC |
			     EPT_VIOL_GVA_IS_VALID | EPT_VIOL_GVA_TRANSLATED;
	/* only XU in the entry: present with MBEC (bit 6 counts) */
	uint64_t xu_only_write = EPT_VIOL_ACC_WRITE | EPT_VIOL_PROT_USER_EXEC;
	uint64_t not_present_read = EPT_VIOL_ACC_READ;
	const uint64_t *t;

	top_model_count(m, 20, 0, MBEC_EV_PAGE_FAULT, mbec_vmstats_bucket_pf(user_fetch), 2);
	top_model_count(m, 20, 0, MBEC_EV_PAGE_FAULT, mbec_vmstats_bucket_pf(sup_fetch), 3);
	top_model_count(m, 20, 0, MBEC_EV_PAGE_FAULT, mbec_vmstats_bucket_pf(xu_only_write), 4);
	top_model_count(m, 20, 0, MBEC_EV_PAGE_FAULT, mbec_vmstats_bucket_pf(not_present_read),
			5);
	/* spte_requested is the other source on EPT */
	top_model_count(m, 20, 0, MBEC_EV_SPTE_REQUESTED, 0, 50);
	/* SPTEs: R+XU 4K, RWX(S) 2M, R only 1G */
	top_model_count(m, 20, 0, MBEC_EV_SET_SPTE,
			mbec_vmstats_bucket_spte(EPTE_R | EPTE_XU | SPTE_MMU_PRESENT, 1), 6);
	top_model_count(m, 20, 0, MBEC_EV_SET_SPTE,
			mbec_vmstats_bucket_spte(EPTE_RWX | EPTE_PS, 2), 7);
	top_model_count(m, 20, 0, MBEC_EV_SET_SPTE, mbec_vmstats_bucket_spte(EPTE_R, 3), 8);
	top_model_frame(m, 1 * NS);
	t = vm_tot(m, 20);
	if (!ok(t != NULL, "ept: the VM exists"))
		return;
	is_u64(t[TOP_S_FAULTS], 14, "ept: faults from kvm_page_fault only");
	is_u64(t[TOP_S_FETCH], 5, "ept: fetches");
	is_u64(t[TOP_S_WRITE], 4, "ept: writes");
	is_u64(t[TOP_S_READ], 5, "ept: reads");
	is_u64(t[TOP_S_XU], 2, "ept: user fetch (advanced info U) lacking XU");
	is_u64(t[TOP_S_XS], 3, "ept: supervisor fetch lacking XS");
	is_u64(t[TOP_S_PERM], 9, "ept: bit 6 alone makes the entry present with MBEC");
	is_u64(t[TOP_S_NOTP], 5, "ept: not present");
	is_u64(t[TOP_S_USER], 2, "ept: user known only from advanced info");
	is_u64(t[TOP_S_SUPV], 3, "ept: supervisor known only from advanced info");
	is_u64(t[TOP_S_SPTES], 21, "ept: SPTE installs");
	is_u64(t[TOP_S_SP_R], 21, "ept: R granted");
	is_u64(t[TOP_S_SP_W], 7, "ept: W granted");
	is_u64(t[TOP_S_SP_XS], 7, "ept: XS granted");
	is_u64(t[TOP_S_SP_XU], 6, "ept: XU granted");
	is_u64(t[TOP_S_SP_U] + t[TOP_S_SP_NX], 0, "ept: no legacy U/NX columns");
	is_u64(t[TOP_S_SP_4K], 6, "ept: 4K");
	is_u64(t[TOP_S_SP_2M], 7, "ept: 2M");
	is_u64(t[TOP_S_SP_1G], 8, "ept: 1G");
	top_model_free(m);

	/* Without MBEC bit 6 is undefined: an entry with only bit 6 is not present. */
	m = model(TOP_MMU_EPT, false, TOP_FAULTS_EXITS, false);
	top_model_count(m, 20, 0, MBEC_EV_PAGE_FAULT, mbec_vmstats_bucket_pf(xu_only_write), 4);
	top_model_count(m, 20, 0, MBEC_EV_PAGE_FAULT, mbec_vmstats_bucket_pf(user_fetch), 1);
	top_model_frame(m, 1 * NS);
	t = vm_tot(m, 20);
	is_u64(t[TOP_S_NOTP], 4, "ept without MBEC: bit 6 ignored");
	is_u64(t[TOP_S_USER] + t[TOP_S_SUPV], 0, "ept without MBEC: privilege unknown");
	is_u64(t[TOP_S_XS], 1, "ept without MBEC: a fetch permission fault is X (XS)");
	top_model_free(m);
}

static void test_classify_legacy_spte(void)
{
	struct top_model *m = model(TOP_MMU_NPT, true, TOP_FAULTS_EXITS, false);
	const uint64_t *t;

	top_model_count(m, 30, 0, MBEC_EV_SET_SPTE,
			mbec_vmstats_bucket_spte(PTE_P | PTE_RW | PTE_US, 1), 2);
	top_model_count(m, 30, 0, MBEC_EV_SET_SPTE,
			mbec_vmstats_bucket_spte(PTE_P | PTE_NX | PTE_PS, 2), 3);
	/* an NPF: GMET supervisor fetch of a U=1 page (spec: 0x100000011) */
	top_model_count(m, 30, 0, MBEC_EV_PAGE_FAULT, mbec_vmstats_bucket_pf(0x100000011ULL), 1);
	top_model_count(m, 30, 0, MBEC_EV_WALKER_ERROR, mbec_vmstats_bucket_walkerr(0x15), 9);
	top_model_frame(m, 1 * NS);
	t = vm_tot(m, 30);
	if (!ok(t != NULL, "npt: the VM exists"))
		return;
	is_u64(t[TOP_S_SP_U], 2, "npt: U set");
	is_u64(t[TOP_S_SP_W], 2, "npt: W set");
	is_u64(t[TOP_S_SP_NX], 3, "npt: NX set");
	is_u64(t[TOP_S_SP_R] + t[TOP_S_SP_XS] + t[TOP_S_SP_XU], 0, "npt: no EPT columns");
	is_u64(t[TOP_S_SP_2M], 3, "npt: 2M");
	is_u64(t[TOP_S_XS], 1, "npt: GMET supervisor fetch fault is XS");
	is_u64(t[TOP_S_GPF], 9, "walker errors are guest #PFs");
	top_model_free(m);
}

/* Live: counters are totals; rates are deltas over the frame. */
static void test_rates_absolute(void)
{
	struct top_model *m = model(TOP_MMU_SHADOW, false, TOP_FAULTS_MAPPED, true);
	uint16_t b = mbec_vmstats_bucket_pf(PFERR_USER);
	struct top_vm *vm;

	top_model_sample_begin(m);
	top_model_count(m, 7, 0, MBEC_EV_SPTE_REQUESTED, b, 100);
	top_model_set_global(m, TOP_G_EVENTS, 1000);
	top_model_frame(m, 10 * NS);
	vm = top_model_vm(m, 7, false);
	ok(vm && vm->rate[TOP_S_FAULTS] == 0, "first frame: no rate (counts predate it)");
	ok(m->g_rate[TOP_G_EVENTS] == 0, "first frame: no header rate");

	top_model_sample_begin(m);
	top_model_count(m, 7, 0, MBEC_EV_SPTE_REQUESTED, b, 300);
	top_model_count(m, 7, 1, MBEC_EV_SPTE_REQUESTED, b, 50);
	top_model_set_global(m, TOP_G_EVENTS, 5000);
	top_model_frame(m, 12 * NS);
	vm = top_model_vm(m, 7, false);
	ok(vm && vm->rate[TOP_S_FAULTS] == 125.0, "rate: (300-100 + 50)/2s = 125/s");
	ok(vm && vm->tot[TOP_S_FAULTS] == 350, "VM total sums its vCPUs");
	ok(vm && vm->nr_vcpus == 2 && vm->vcpus[1].rate[TOP_S_USER] == 25.0,
	   "a vCPU that appeared in the frame: its whole count is in the rate");
	ok(m->g_rate[TOP_G_EVENTS] == 2000.0, "header rate over the frame");
	ok(m->interval_s == 2.0, "interval");

	/* A vCPU thread retires: the VM keeps its counts, the rate stays right. */
	top_model_sample_begin(m);
	top_model_count(m, 7, 0, MBEC_EV_SPTE_REQUESTED, b, 400);
	top_model_count(m, 7, 1, MBEC_EV_SPTE_REQUESTED, b, 70);
	vm = top_model_vm(m, 7, false);
	top_model_vcpu_retire(m, vm, 1);
	top_model_frame(m, 13 * NS);
	vm = top_model_vm(m, 7, false);
	ok(vm && vm->nr_vcpus == 1, "retired vCPU: its row is gone");
	ok(vm && vm->tot[TOP_S_FAULTS] == 470, "retired vCPU: VM total keeps its counts");
	ok(vm && vm->rate[TOP_S_FAULTS] == 120.0, "retired vCPU: its last counts are in the rate");
	/* next frame: the kernel no longer has its counters; the VM's total stays */
	top_model_sample_begin(m);
	top_model_count(m, 7, 0, MBEC_EV_SPTE_REQUESTED, b, 410);
	top_model_frame(m, 14 * NS);
	vm = top_model_vm(m, 7, false);
	ok(vm && vm->tot[TOP_S_FAULTS] == 480 && vm->rate[TOP_S_FAULTS] == 10.0,
	   "after retiring: total and rate continue");

	/* Counters that went down (reset): no negative rate. */
	top_model_sample_begin(m);
	top_model_count(m, 7, 0, MBEC_EV_SPTE_REQUESTED, b, 5);
	top_model_frame(m, 15 * NS);
	vm = top_model_vm(m, 7, false);
	ok(vm && vm->rate[TOP_S_FAULTS] == 0, "a counter that went down gives rate 0");

	/* Anomalies are not reset by a sample. */
	top_model_anomaly(m, 7, 0);
	top_model_sample_begin(m);
	top_model_frame(m, 16 * NS);
	vm = top_model_vm(m, 7, false);
	ok(vm && vm->tot[TOP_S_ANOM] == 1 && m->g_tot[TOP_G_ANOM] == 1,
	   "anomalies survive samples");
	ok(top_model_count(m, 7, 0, MBEC_EV_GET_PAGE, 0, 1) == -1, "an unknown type is refused");
	top_model_free(m);
}

/* VMs that go: shown once as gone, then dropped; a new pid appears. */
static void test_vm_lifecycle(void)
{
	struct top_model *m = model(TOP_MMU_SHADOW, false, TOP_FAULTS_MAPPED, true);

	top_model_sample_begin(m);
	top_model_count(m, 1, 0, MBEC_EV_SET_SPTE, 0x100, 1);
	top_model_count(m, 2, 0, MBEC_EV_SET_SPTE, 0x100, 1);
	top_model_frame(m, 1 * NS);
	ok(m->nr_vms == 2, "two VMs");
	top_model_vm_gone(m, 1);
	top_model_frame(m, 2 * NS);
	ok(m->nr_vms == 2 && top_model_vm(m, 1, false)->gone, "a gone VM is shown once more");
	top_model_sample_begin(m);
	top_model_count(m, 3, 0, MBEC_EV_SET_SPTE, 0x100, 1);
	top_model_frame(m, 3 * NS);
	ok(m->nr_vms == 2 && !top_model_vm(m, 1, false) && top_model_vm(m, 3, false),
	   "then dropped; a new VM appears");
	top_model_free(m);
}

/* Replay: records counted as they pass, and the same buckets as the kernel. */
static void test_records(void)
{
	struct top_model *m = model(TOP_MMU_SHADOW, false, TOP_FAULTS_MAPPED, false);
	struct mbec_ev_spte_requested rq = { 0 };
	struct mbec_ev_set_spte ss = { 0 };
	struct mbec_ev_lost lost = { 0 };
	struct top_vm *vm;

	rq.hdr.type = MBEC_EV_SPTE_REQUESTED;
	rq.hdr.size = sizeof(rq);
	rq.hdr.pid = 42;
	rq.hdr.tid = 43;
	rq.hdr.vcpu_id = MBEC_VCPU_UNKNOWN;
	rq.error_code = PFERR_USER | PFERR_WRITE;
	ss.hdr = rq.hdr;
	ss.hdr.type = MBEC_EV_SET_SPTE;
	ss.hdr.size = sizeof(ss);
	ss.hdr.vcpu_id = 3;
	ss.spte = PTE_P | PTE_RW | PTE_US | PTE_NX;
	ss.level = 1;
	lost.hdr.type = MBEC_EV_LOST;
	lost.hdr.size = sizeof(lost);
	lost.count = 17;
	top_model_frame(m, 0);
	top_model_record(m, &rq.hdr, sizeof(rq));
	top_model_record(m, &rq.hdr, sizeof(rq));
	top_model_record(m, &ss.hdr, sizeof(ss));
	top_model_record(m, &lost.hdr, sizeof(lost));
	top_model_record(m, &ss.hdr, 8);	/* short: ignored */
	/* A record of the type's first version (shorter than today's struct) counts. */
	rq.hdr.size = (uint16_t)mbec_event_min_size(MBEC_EV_SPTE_REQUESTED);
	top_model_record(m, &rq.hdr, rq.hdr.size);
	top_model_frame(m, NS / 2);
	vm = top_model_vm(m, 42, false);
	if (!ok(vm != NULL, "records: the VM exists"))
		return;
	ok(vm->rate[TOP_S_FAULTS] == 6.0 && vm->rate[TOP_S_WRITE] == 6.0,
	   "records: 3 write faults in 0.5s (one of them a first-version record)");
	ok(vm->nr_vcpus == 2 && vm->vcpus[0].id == 3 &&
	   vm->vcpus[1].id == (MBEC_VMSTATS_TID | 43),
	   "records: an unknown vCPU is its thread");
	is_u64(vm->tot[TOP_S_SP_NX], 1, "records: SPTE with NX");
	is_u64(m->g_tot[TOP_G_EVENTS], 4, "records: events counted");
	is_u64(m->g_tot[TOP_G_FAULTS], 3, "records: faults counted");
	is_u64(m->g_tot[TOP_G_LOST], 17, "records: lost events from LOST records");
	top_model_free(m);
}

static void test_sort_filter(void)
{
	struct top_model *m = model(TOP_MMU_SHADOW, false, TOP_FAULTS_MAPPED, false);
	uint16_t b = mbec_vmstats_bucket_pf(0);

	top_model_frame(m, 0);
	top_model_count(m, 300, 0, MBEC_EV_SPTE_REQUESTED, b, 5);
	top_model_count(m, 100, 0, MBEC_EV_SPTE_REQUESTED, b, 50);
	top_model_count(m, 200, 0, MBEC_EV_SPTE_REQUESTED, b, 10);
	top_model_count(m, 200, 0, MBEC_EV_SET_SPTE, 0x100, 99);
	top_model_frame(m, NS);
	snprintf(top_model_vm(m, 100, false)->name, 64, "web");
	snprintf(top_model_vm(m, 200, false)->name, 64, "db-1");
	snprintf(top_model_vm(m, 300, false)->name, 64, "alpha");
	top_model_sort(m, TOP_S_FAULTS, false);
	ok(m->vms[0].pid == 100 && m->vms[1].pid == 200 && m->vms[2].pid == 300,
	   "sort by faults, descending");
	top_model_sort(m, TOP_S_FAULTS, true);
	ok(m->vms[0].pid == 300 && m->vms[2].pid == 100, "reversed");
	top_model_sort(m, top_sort_key("sptes"), false);
	ok(m->vms[0].pid == 200, "sort by SPTEs");
	top_model_sort(m, top_sort_key("name"), false);
	ok(m->vms[0].pid == 300 && m->vms[1].pid == 200, "sort by name, ascending");
	top_model_sort(m, top_sort_key("pid"), false);
	ok(m->vms[0].pid == 100 && m->vms[2].pid == 300, "sort by pid");
	ok(top_sort_key("nonsense") == -1 && top_sort_key("anomalies") == TOP_S_ANOM &&
	   top_sort_key("spte-xu") == TOP_S_SP_XU, "sort keys by name");
	ok(top_vm_matches(top_model_vm(m, 200, false), "db") &&
	   top_vm_matches(top_model_vm(m, 200, false), "200") &&
	   !top_vm_matches(top_model_vm(m, 100, false), "db") &&
	   !top_vm_matches(top_model_vm(m, 100, false), "10") &&
	   top_vm_matches(top_model_vm(m, 100, false), ""), "filter by pid or name");
	top_model_free(m);
}

static void collect(void *ctx, enum top_line_kind kind, const char *text)
{
	char *buf = ctx;
	size_t n = strlen(buf);

	snprintf(buf + n, 8192 - n, "%d|%s\n", (int)kind, text);
}

static void test_render(void)
{
	struct top_model *m = model(TOP_MMU_EPT, true, TOP_FAULTS_EXITS, false);
	struct top_view v = { .sort_key = TOP_S_FAULTS };
	char *buf = calloc(1, 8192), num[16];
	struct top_vm *vm;

	snprintf(v.clock, sizeof(v.clock), "+1.0s");
	snprintf(v.source, sizeof(v.source), "test");
	top_model_frame(m, 0);
	top_model_frame(m, NS);
	top_render(m, &v, collect, buf);
	ok(strstr(buf, "No VMs") != NULL, "no VMs: said plainly");
	ok(strstr(buf, "EPT") && strstr(buf, "MBEC on"), "header names the flavour");
	ok(strstr(buf, " XU") != NULL && strstr(buf, "   NX") == NULL,
	   "EPT with MBEC: XU column, no NX column");

	top_model_count(m, 55, 0, MBEC_EV_PAGE_FAULT, mbec_vmstats_bucket_pf(EPT_VIOL_ACC_READ),
			30);
	top_model_count(m, 55, 2, MBEC_EV_PAGE_FAULT, mbec_vmstats_bucket_pf(EPT_VIOL_ACC_READ),
			12);
	top_model_frame(m, 2 * NS);
	vm = top_model_vm(m, 55, false);
	snprintf(vm->name, sizeof(vm->name), "win11");
	buf[0] = 0;
	top_render(m, &v, collect, buf);
	ok(strstr(buf, "     55 win11") != NULL && strstr(buf, "    42") != NULL,
	   "a VM row: pid, name, 42 faults/s");
	ok(strstr(buf, "vcpu 2") == NULL, "collapsed: no vCPU rows");
	vm->expanded = true;
	buf[0] = 0;
	top_render(m, &v, collect, buf);
	ok(strstr(buf, "vcpu 0") && strstr(buf, "vcpu 2"), "expanded: vCPU rows");
	snprintf(v.filter, sizeof(v.filter), "linux");
	buf[0] = 0;
	top_render(m, &v, collect, buf);
	ok(strstr(buf, "No VM matches the filter 'linux'") != NULL, "a filter matching nothing");
	v.filter[0] = 0;
	v.tui = true;
	v.selected_pid = 55;
	buf[0] = 0;
	top_render(m, &v, collect, buf);
	ok(strstr(buf, "5|-     55 win11") != NULL, "TUI: selected and expanded marker");

	top_fmt_num(num, sizeof(num), 99999);
	ok(!strcmp(num, "99999"), "fmt 99999");
	top_fmt_num(num, sizeof(num), 123456);
	ok(!strcmp(num, "123k"), "fmt 123k");
	top_fmt_num(num, sizeof(num), 45e6);
	ok(!strcmp(num, "45M"), "fmt 45M");
	top_fmt_num(num, sizeof(num), -3);
	ok(!strcmp(num, "0"), "fmt negative as 0");
	free(buf);
	top_model_free(m);
}

static void test_names(void)
{
	static const char qemu1[] = "qemu-system-x86_64\0-m\0" "1G\0-name\0"
				    "guest=win11,debug-threads=on\0-S";
	static const char qemu2[] = "qemu\0--name\0my,,vm,process=x";
	static const char qemu3[] = "qemu\0-name\0process=x,guest=lab";
	static const char noname[] = "qemu\0-m\0" "1G";
	static const char dangling[] = "qemu\0-name";
	char name[64], dir[] = "/tmp/mbectop-test-XXXXXX", path[128];
	FILE *f;

	ok(!top_name_from_cmdline(qemu1, sizeof(qemu1), name, sizeof(name)) &&
	   !strcmp(name, "win11"), "-name guest=win11,debug-threads=on (got '%s')", name);
	ok(!top_name_from_cmdline(qemu2, sizeof(qemu2), name, sizeof(name)) &&
	   !strcmp(name, "my,vm"), "--name with an escaped comma (got '%s')", name);
	ok(!top_name_from_cmdline(qemu3, sizeof(qemu3), name, sizeof(name)) &&
	   !strcmp(name, "lab"), "guest= after another key (got '%s')", name);
	ok(top_name_from_cmdline(noname, sizeof(noname), name, sizeof(name)) == -1,
	   "no -name: none");
	ok(top_name_from_cmdline(dangling, sizeof(dangling), name, sizeof(name)) == -1,
	   "-name at the end: none");
	if (!mkdtemp(dir)) {
		ok(0, "mkdtemp");
		return;
	}
	snprintf(path, sizeof(path), "%s/fedora.pid", dir);
	f = fopen(path, "w");
	if (f) {
		fprintf(f, "4242\n");
		fclose(f);
	}
	ok(!top_name_from_pidfiles(dir, 4242, name, sizeof(name)) && !strcmp(name, "fedora"),
	   "libvirt pid file names the domain");
	ok(top_name_from_pidfiles(dir, 4243, name, sizeof(name)) == -1, "other pid: none");
	unlink(path);
	rmdir(dir);
	top_vm_name((uint32_t)getpid(), name, sizeof(name));
	ok(!strncmp(name, "test_top_model", 14) || !strncmp(name, "test_top_", 9),
	   "a process without -name: its comm (got '%s')", name);
	ok(top_pid_alive((uint32_t)getpid()) && !top_pid_alive(0), "pid alive");
}

/* A process holding a VM is found even when it never runs a vCPU. */
static void test_scan(void)
{
	uint32_t pids[4096], me = (uint32_t)getpid();
	unsigned int n, i;
	bool found = false;
	int kvm, vm;

	n = top_scan_vms("/proc", pids, 4096);
	for (i = 0; i < n; i++)
		found |= pids[i] == me;
	ok(!found, "scan: this process holds no VM yet");
	kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	vm = kvm >= 0 ? ioctl(kvm, KVM_CREATE_VM, 0) : -1;
	if (vm < 0) {
		skip("no usable /dev/kvm", "scan: an idle VM is found");
		if (kvm >= 0)
			close(kvm);
		return;
	}
	n = top_scan_vms("/proc", pids, 4096);
	for (i = 0; i < n; i++)
		found |= pids[i] == me;
	ok(found, "scan: an idle VM is found by its file descriptor");
	ok(top_scan_vms("/nonexistent", pids, 4096) == 0, "scan: no /proc, no VMs");
	close(vm);
	close(kvm);
}

int main(void)
{
	test_classify_shadow();
	test_classify_ept();
	test_classify_legacy_spte();
	test_rates_absolute();
	test_vm_lifecycle();
	test_records();
	test_sort_filter();
	test_render();
	test_names();
	test_scan();
	return done_testing();
}
