// SPDX-License-Identifier: GPL-2.0
/*
 * The nested workload on Intel: L2 (our guest) enters VMX operation and
 * runs L3 with VMLAUNCH/VMRESUME under EPT rooted at the tables
 * nested_matrix.c builds; with MBEC (secondary control "mode-based
 * execute control for EPT") in the passes that ask for it, when KVM
 * allows the control to its guest (IA32_VMX_PROCBASED_CTLS2).
 *
 * A VMCS has no architectural memory layout, so the VMM cannot write it
 * the way it writes a VMCB: it writes a table of (field, value) pairs
 * into L2's data page and L2's code (nested_guest.c) VMWRITEs them, then
 * VMREADs a few fields into a second table after every exit and VMWRITEs
 * a third (L3's RIP and RSP) before VMRESUME.  The controls come from
 * KVM's VMX capability MSRs of the vCPU: a control is set only where the
 * MSR allows it, and one the run needs but may not have is an error.
 *
 * What L2 intercepts: every exception (the closing ud2 comes back as exit
 * reason 0 with vector 6), HLT, all I/O (unconditional I/O exiting) and
 * all MSR accesses (no MSR bitmap).
 */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>

#include "workload/nested.h"
#include "workload/nested_vmx.h"
#include "workload/vmm.h"

_Static_assert(WLN_VMX_FIELDS == WL_KDATA_GPA(0) + 0x400 &&
	       WLN_VMX_PTRS + 16 <= WL_KDATA_GPA(0) + WL_4K,
	       "the VMX tables live in vCPU 0's CPL-0 data page");

#define MSR_FEATURE_CONTROL	0x3a
#define EXIT_REASON_EXCEPTION	0
#define EXIT_REASON_FAILED_ENTRY MBEC_BIT(31)

/* ---- pure: the controls and the field table ------------------------------ */

int wln_vmx_ctl(uint64_t cap, uint32_t want, uint32_t need, uint32_t *out)
{
	uint32_t allowed0 = (uint32_t)cap, allowed1 = (uint32_t)(cap >> 32);

	if ((need & ~allowed1) || (allowed0 & ~allowed1))
		return -1;
	*out = (allowed0 | want | need) & allowed1;
	return 0;
}

static void field(struct wln_vmx_table *t, uint32_t f, uint64_t v)
{
	if (t->n >= WLN_VMX_FIELDS_MAX) {
		t->failed = true;
		return;
	}
	t->f[t->n].field = f;
	t->f[t->n].value = v;
	t->n++;
}

/* Access rights of a 64-bit code or flat data segment at @dpl. */
static uint32_t ar_code(unsigned int dpl)
{
	return 0xb | 0x10 | dpl << 5 | 0x80 | 0x2000 | 0x8000;
}

static uint32_t ar_data(unsigned int dpl)
{
	return 0x3 | 0x10 | dpl << 5 | 0x80 | 0x4000 | 0x8000;
}

int wln_vmx_fields(const struct wln_vmx_caps *caps, const struct wln_layout *l,
		   const struct wln_vmx_host *h, struct wln_vmx_table *t, char *err, size_t len)
{
	uint32_t pin, proc, proc2, exit, entry;
	uint64_t cap_pin = caps->basic & VMX_BASIC_TRUE_CTLS ? caps->true_pin : caps->pin;
	uint64_t cap_proc = caps->basic & VMX_BASIC_TRUE_CTLS ? caps->true_proc : caps->proc;
	uint64_t cap_exit = caps->basic & VMX_BASIC_TRUE_CTLS ? caps->true_exit : caps->exit;
	uint64_t cap_entry = caps->basic & VMX_BASIC_TRUE_CTLS ? caps->true_entry : caps->entry;
	unsigned int dpl = l->cpl;
	uint64_t cr0, cr4, ds = dpl ? WL_SEL_UDATA : WL_SEL_KDATA;
	uint32_t f;

	memset(t, 0, sizeof(*t));
	if (l->mmu != MBEC_MMU_EPT)
		return -1;
	if (wln_vmx_ctl(cap_pin, 0, 0, &pin) ||
	    wln_vmx_ctl(cap_proc, VMX_PROC_HLT | VMX_PROC_UNCOND_IO, VMX_PROC_SECONDARY,
			&proc)) {
		snprintf(err, len, "KVM does not let its guest use secondary VM-execution controls");
		return -1;
	}
	proc &= ~(VMX_PROC_MSR_BITMAPS | VMX_PROC_IO_BITMAPS);
	if ((uint32_t)cap_proc & (VMX_PROC_MSR_BITMAPS | VMX_PROC_IO_BITMAPS)) {
		snprintf(err, len, "KVM requires I/O or MSR bitmaps of its guest's VMCS");
		return -1;
	}
	if (wln_vmx_ctl(caps->proc2, 0, VMX_PROC2_EPT | (l->feature ? VMX_PROC2_MBEC : 0),
			&proc2)) {
		snprintf(err, len, "KVM does not let its guest use EPT%s (IA32_VMX_PROCBASED_CTLS2 %#llx)",
			 l->feature ? " with mode-based execute control" : "",
			 (unsigned long long)caps->proc2);
		return -1;
	}
	if (!l->feature)
		proc2 &= ~VMX_PROC2_MBEC;
	if (wln_vmx_ctl(cap_exit, 0, VMX_EXIT_HOST_64 | VMX_EXIT_LOAD_EFER, &exit) ||
	    wln_vmx_ctl(cap_entry, 0, VMX_ENTRY_IA32E | VMX_ENTRY_LOAD_EFER, &entry)) {
		snprintf(err, len, "KVM does not let its guest's VM exits and entries load EFER in 64-bit mode");
		return -1;
	}
	if (!(caps->ept_cap & VMX_EPT_CAP_WB) || !(caps->ept_cap & VMX_EPT_CAP_PWL4)) {
		snprintf(err, len, "KVM offers its guest no 4-level write-back EPT (IA32_VMX_EPT_VPID_CAP %#llx)",
			 (unsigned long long)caps->ept_cap);
		return -1;
	}
	/* L3's CR0 and CR4 as the fixed bits require. */
	cr0 = (WL_CR0 | caps->cr0_fixed0) & caps->cr0_fixed1;
	cr4 = (WL_CR4 | caps->cr4_fixed0) & caps->cr4_fixed1;

	field(t, VMCS_PIN_CTLS, pin);
	field(t, VMCS_PROC_CTLS, proc);
	field(t, VMCS_PROC2_CTLS, proc2);
	field(t, VMCS_EXIT_CTLS, exit);
	field(t, VMCS_ENTRY_CTLS, entry);
	field(t, VMCS_EXCEPTION_BITMAP, 0xffffffff);
	field(t, VMCS_PF_MASK, 0);
	field(t, VMCS_PF_MATCH, 0);
	field(t, VMCS_CR3_TARGET_COUNT, 0);
	field(t, VMCS_EXIT_MSR_STORE_COUNT, 0);
	field(t, VMCS_EXIT_MSR_LOAD_COUNT, 0);
	field(t, VMCS_ENTRY_MSR_LOAD_COUNT, 0);
	field(t, VMCS_ENTRY_INTR_INFO, 0);
	field(t, VMCS_CR0_MASK, 0);
	field(t, VMCS_CR4_MASK, 0);
	field(t, VMCS_CR0_SHADOW, cr0);
	field(t, VMCS_CR4_SHADOW, cr4);
	field(t, VMCS_EPTP, l->root | VMX_EPTP_WB | VMX_EPTP_PWL4);
	field(t, VMCS_LINK_POINTER, ~0ULL);

	/* L3 */
	field(t, VMCS_GUEST_CR0, cr0);
	field(t, VMCS_GUEST_CR3, l->l3_cr3);
	field(t, VMCS_GUEST_CR4, cr4);
	field(t, VMCS_GUEST_DR7, 0x400);
	field(t, VMCS_GUEST_EFER, WL_EFER);
	field(t, VMCS_GUEST_DEBUGCTL, 0);
	field(t, VMCS_GUEST_RFLAGS, 2);
	field(t, VMCS_GUEST_RIP, wln_guest_at(WLN_L3_CODE_GPA, wln_l3_matrix));
	field(t, VMCS_GUEST_RSP, WLN_L3_STACK_GPA + WLN_4K - 64);
	for (f = 0; f < 6; f++) {
		bool cs = f == 1;
		uint64_t sel = cs ? (dpl ? WL_SEL_UCODE : WL_SEL_KCODE) : ds;

		field(t, VMCS_GUEST_ES_SEL + 2 * f, sel);
		field(t, VMCS_GUEST_ES_LIMIT + 2 * f, 0xffffffff);
		field(t, VMCS_GUEST_ES_AR + 2 * f, cs ? ar_code(dpl) : ar_data(dpl));
		field(t, VMCS_GUEST_ES_BASE + 2 * f, 0);
	}
	field(t, VMCS_GUEST_LDTR_SEL, 0);
	field(t, VMCS_GUEST_LDTR_AR, VMX_AR_UNUSABLE);
	field(t, VMCS_GUEST_LDTR_LIMIT, 0);
	field(t, VMCS_GUEST_LDTR_BASE, 0);
	field(t, VMCS_GUEST_TR_SEL, WL_SEL_TSS(0));
	field(t, VMCS_GUEST_TR_AR, 0x8b);
	field(t, VMCS_GUEST_TR_LIMIT, 0x67);
	field(t, VMCS_GUEST_TR_BASE, WLN_L3_DATA_GPA + 0x800);
	field(t, VMCS_GUEST_GDTR_LIMIT, 0);
	field(t, VMCS_GUEST_GDTR_BASE, 0);
	field(t, VMCS_GUEST_IDTR_LIMIT, 0);
	field(t, VMCS_GUEST_IDTR_BASE, 0);
	field(t, VMCS_GUEST_INTERRUPTIBILITY, 0);
	field(t, VMCS_GUEST_ACTIVITY, 0);
	field(t, VMCS_GUEST_PENDING_DBG, 0);
	field(t, VMCS_GUEST_SYSENTER_CS, 0);
	field(t, VMCS_GUEST_SYSENTER_ESP, 0);
	field(t, VMCS_GUEST_SYSENTER_EIP, 0);

	/* L2, where every exit lands */
	field(t, VMCS_HOST_CR0, h->cr0);
	field(t, VMCS_HOST_CR3, h->cr3);
	field(t, VMCS_HOST_CR4, h->cr4);
	field(t, VMCS_HOST_EFER, h->efer);
	field(t, VMCS_HOST_CS_SEL, WL_SEL_KCODE);
	field(t, VMCS_HOST_SS_SEL, WL_SEL_KDATA);
	field(t, VMCS_HOST_DS_SEL, WL_SEL_KDATA);
	field(t, VMCS_HOST_ES_SEL, WL_SEL_KDATA);
	field(t, VMCS_HOST_FS_SEL, 0);
	field(t, VMCS_HOST_GS_SEL, 0);
	field(t, VMCS_HOST_TR_SEL, WL_SEL_TSS(0));
	field(t, VMCS_HOST_FS_BASE, 0);
	field(t, VMCS_HOST_GS_BASE, 0);
	field(t, VMCS_HOST_TR_BASE, WL_TSS_GPA(0));
	field(t, VMCS_HOST_GDTR_BASE, WL_GDT_GPA);
	field(t, VMCS_HOST_IDTR_BASE, WL_IDT_GPA);
	field(t, VMCS_HOST_SYSENTER_CS, 0);
	field(t, VMCS_HOST_SYSENTER_ESP, 0);
	field(t, VMCS_HOST_SYSENTER_EIP, 0);
	field(t, VMCS_HOST_RSP, h->rsp);
	field(t, VMCS_HOST_RIP, h->rip);
	if (t->failed) {
		snprintf(err, len, "the VMCS field table is full");
		return -1;
	}
	return 0;
}

/* ---- the run -------------------------------------------------------------- */

static const uint32_t vmx_reads[] = {
	VMCS_EXIT_REASON, VMCS_EXIT_QUAL, VMCS_GUEST_PHYS, VMCS_GUEST_RIP, VMCS_EXIT_INTR_INFO,
	VMCS_VM_INSN_ERROR,
};

struct vmx_state {
	struct wln_vmx_caps caps;
	bool in_vmx;		/* VMXON ran: later passes start at wln_vmx_load */
};

static struct vmx_state *vstate(struct wln_run *w)
{
	return (struct vmx_state *)w->vendor;
}

static int get_msrs(struct wl_vcpu *c, const uint32_t *idx, uint64_t *val, unsigned int n)
{
	struct {
		struct kvm_msrs h;
		struct kvm_msr_entry e[16];
	} m;
	unsigned int i;

	memset(&m, 0, sizeof(m));
	m.h.nmsrs = n;
	for (i = 0; i < n; i++)
		m.e[i].index = idx[i];
	if (ioctl(c->fd, KVM_GET_MSRS, &m) != (int)n)
		return -1;
	for (i = 0; i < n; i++)
		val[i] = m.e[i].data;
	return 0;
}

static int vmx_setup(struct wln_run *w, bool *feature, char *note, size_t note_len, char *err,
		     size_t len)
{
	static const uint32_t idx[] = {
		0x480, 0x481, 0x482, 0x483, 0x484, 0x486, 0x487, 0x488, 0x489, 0x48b, 0x48c,
		0x48d, 0x48e, 0x48f, 0x490,
	};
	uint64_t v[15] = { 0 };
	struct vmx_state *s = vstate(w);
	struct wln_vmx_caps *caps = &s->caps;
	struct {
		struct kvm_msrs h;
		struct kvm_msr_entry e;
	} fc = { .h.nmsrs = 1, .e.index = MSR_FEATURE_CONTROL, .e.data = 5 };
	uint32_t rev;

	_Static_assert(sizeof(w->vendor) >= sizeof(struct vmx_state), "vendor state too small");
	memset(s, 0, sizeof(*s));
	/* The TRUE_* MSRs exist only when VMX_BASIC says so: read the first 11, then them. */
	if (get_msrs(w->c, idx, v, 11)) {
		wl_set_err(err, len, "KVM does not give its guest the VMX capability MSRs (KVM_GET_MSRS): load kvm_intel with nested=1");
		return -1;
	}
	if ((v[0] & VMX_BASIC_TRUE_CTLS) && get_msrs(w->c, idx + 11, v + 11, 4)) {
		wl_set_err(err, len, "KVM_GET_MSRS of the TRUE VMX control MSRs failed");
		return -1;
	}
	caps->basic = v[0];
	caps->pin = v[1];
	caps->proc = v[2];
	caps->exit = v[3];
	caps->entry = v[4];
	caps->cr0_fixed0 = v[5];
	caps->cr0_fixed1 = v[6];
	caps->cr4_fixed0 = v[7];
	caps->cr4_fixed1 = v[8];
	caps->proc2 = (caps->proc >> 32) & VMX_PROC_SECONDARY ? v[9] : 0;
	caps->ept_cap = v[10];
	caps->true_pin = v[11];
	caps->true_proc = v[12];
	caps->true_exit = v[13];
	caps->true_entry = v[14];
	w->advanced_info = caps->ept_cap & VMX_EPT_VPID_CAP_ADVANCED_INFO;
	w->execonly = caps->ept_cap & VMX_EPT_CAP_EXECONLY;
	*feature = (caps->proc2 >> 32) & VMX_PROC2_MBEC;
	snprintf(note, note_len, *feature ?
		 "offered (IA32_VMX_PROCBASED_CTLS2 allows bit 22): control passes, then MBEC passes%s" :
		 "not offered by KVM (IA32_VMX_PROCBASED_CTLS2 does not allow bit 22): control passes only%s",
		 w->advanced_info ? "; advanced EPT-violation information" :
		 "; no advanced EPT-violation information (bits 9-11 unchecked)");
	if (ioctl(w->c->fd, KVM_SET_MSRS, &fc) != 1) {
		wl_set_err(err, len, "KVM_SET_MSRS IA32_FEATURE_CONTROL: %s", strerror(errno));
		return -1;
	}
	rev = (uint32_t)caps->basic & 0x7fffffff;
	memset(w->vm->ram + WLN_HOST_GPA, 0, WLN_4K);
	memcpy(w->vm->ram + WLN_HOST_GPA, &rev, 4);
	put64(w->vm->ram + WLN_VMX_PTRS, WLN_HOST_GPA);
	put64(w->vm->ram + WLN_VMX_PTRS + 8, WLN_CTL_GPA);
	return 0;
}

static void write_table(uint8_t *at, const struct wln_vmx_field *f, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		put64(at + 16 * i, f[i].field);
		put64(at + 16 * i + 8, f[i].value);
	}
	put64(at + 16 * n, ~0ULL);
}

static int vmx_enter(struct wln_run *w, const struct wln_layout *l, char *err, size_t len)
{
	struct wl_vm *vm = w->vm;
	struct wl_vcpu *c = w->c;
	struct vmx_state *s = vstate(w);
	struct wln_vmx_table t;
	struct wln_vmx_field reads[WLN_VMX_READS_MAX];
	struct wln_vmx_host h;
	struct kvm_sregs sr;
	struct kvm_regs r = { 0 };
	uint32_t rev = (uint32_t)s->caps.basic & 0x7fffffff;
	unsigned int i;

	if (ioctl(c->fd, KVM_GET_SREGS, &sr)) {
		wl_set_err(err, len, "KVM_GET_SREGS: %s", strerror(errno));
		return -1;
	}
	wl_segments(&sr, 0);
	sr.cr0 = (vm->l->cr0 | s->caps.cr0_fixed0) & s->caps.cr0_fixed1;
	sr.cr4 = (vm->l->cr4 | s->caps.cr4_fixed0) & s->caps.cr4_fixed1;
	sr.efer = vm->l->efer;
	if (ioctl(c->fd, KVM_SET_SREGS, &sr)) {
		wl_set_err(err, len, "KVM refuses CR4.VMXE for its guest (KVM_SET_SREGS: %s): load kvm_intel with nested=1",
			   strerror(errno));
		return -1;
	}
	c->cpl = 0;
	h = (struct wln_vmx_host) {
		.cr0 = sr.cr0, .cr3 = vm->l->cr3, .cr4 = sr.cr4, .efer = sr.efer,
		.rsp = WL_KSTACK_GPA(0) + WL_4K - 256,
		.rip = wln_guest_at(WL_KCODE_GPA + WLN_L2_CODE_OFFSET, wln_vmx_exit),
	};
	if (wln_vmx_fields(&s->caps, l, &h, &t, err, len))
		return -1;
	write_table(vm->ram + WLN_VMX_FIELDS, t.f, t.n);
	for (i = 0; i < sizeof(vmx_reads) / sizeof(vmx_reads[0]); i++)
		reads[i] = (struct wln_vmx_field) { .field = vmx_reads[i] };
	write_table(vm->ram + WLN_VMX_READS, reads, i);
	write_table(vm->ram + WLN_VMX_WRITES, NULL, 0);
	memset(vm->ram + WLN_CTL_GPA, 0, WLN_4K);
	memcpy(vm->ram + WLN_CTL_GPA, &rev, 4);

	r.rip = wln_guest_at(WL_KCODE_GPA + WLN_L2_CODE_OFFSET,
			     s->in_vmx ? wln_vmx_load : wln_vmx_setup);
	r.rsp = h.rsp;
	r.rflags = 2;
	r.rdi = WLN_VMX_PTRS;
	r.rsi = WLN_VMX_PTRS + 8;
	r.rdx = WLN_VMX_FIELDS;
	r.r8 = WLN_L3_DATA_GPA + WLN_DATA_PAGELIST;
	r.r9 = l->nr_pages;
	r.r10 = WLN_L3_DATA_GPA + WLN_DATA_RESULTS;
	if (ioctl(c->fd, KVM_SET_REGS, &r)) {
		wl_set_err(err, len, "KVM_SET_REGS: %s", strerror(errno));
		return -1;
	}
	s->in_vmx = true;
	return 0;
}

static uint64_t read_field(struct wln_run *w, unsigned int i)
{
	return get64(w->vm->ram + WLN_VMX_READS + 16 * i + 8);
}

static int vmx_decode(struct wln_run *w, struct wln_exit *e)
{
	uint64_t reason = read_field(w, 0), qual = read_field(w, 1), gpa = read_field(w, 2);
	uint64_t intr = read_field(w, 4);
	struct kvm_regs r;
	uint64_t l3_rax;

	memset(e, 0, sizeof(*e));
	e->rip = read_field(w, 3);
	if (ioctl(w->c->fd, KVM_GET_REGS, &r))
		return -1;
	/* L2's exit code pushed L3's %rax first. */
	l3_rax = r.rsp + 24 <= WL_KSTACK_GPA(0) + WL_4K ? get64(w->vm->ram + r.rsp + 16) : 0;
	if ((uint32_t)reason == EXIT_REASON_EPT_VIOLATION) {
		e->kind = WLN_EXIT_FAULT;
		e->info = qual;
		e->gpa = gpa;
		return 0;
	}
	if ((uint32_t)reason == EXIT_REASON_EXCEPTION && (intr & MBEC_BIT(31)) &&
	    (intr & 0xff) == 6 && (uint32_t)l3_rax == WLN_HC_DONE &&
	    e->rip == wln_guest_at(WLN_L3_CODE_GPA, wln_l3_done_ud2)) {
		e->kind = WLN_EXIT_DONE;
		return 0;
	}
	e->kind = WLN_EXIT_OTHER;
	snprintf(e->what, sizeof(e->what),
		 "%sexit reason %llu, qualification %#llx, interruption info %#llx, L3 rip %#llx",
		 reason & EXIT_REASON_FAILED_ENTRY ? "VM entry failed: " : "",
		 (unsigned long long)(reason & 0xffff), (unsigned long long)qual,
		 (unsigned long long)intr, (unsigned long long)e->rip);
	return 0;
}

static int vmx_resume(struct wln_run *w, uint64_t rip, uint64_t rsp)
{
	struct wln_vmx_field f[2] = {
		{ .field = VMCS_GUEST_RIP, .value = rip },
		{ .field = VMCS_GUEST_RSP, .value = rsp },
	};

	write_table(w->vm->ram + WLN_VMX_WRITES, f, 2);
	return 0;
}

static const char *const vmx_steps[] = {
	"?", "VMXON", "VMCLEAR", "VMPTRLD", "VMWRITE", "VMLAUNCH", "VMRESUME",
};

static int vmx_failed(struct wln_run *w, char *buf, size_t len)
{
	struct kvm_regs r;

	if (ioctl(w->c->fd, KVM_GET_REGS, &r))
		return -1;
	snprintf(buf, len, "L2's %s failed (VM-instruction error %llu%s)",
		 r.rbx < 7 ? vmx_steps[r.rbx] : "?", (unsigned long long)r.rax,
		 r.rax ? "" : ": VMfailInvalid");
	return 0;
}

const struct wln_ops wln_vmx_ops = {
	.name = "VMX with EPT",
	.fault_name = "EPT violation",
	.info_name = "exit qualification",
	.feature = "MBEC",
	.mmu = MBEC_MMU_EPT,
	.setup = vmx_setup,
	.enter = vmx_enter,
	.decode = vmx_decode,
	.resume = vmx_resume,
	.failed = vmx_failed,
};
