// SPDX-License-Identifier: GPL-2.0
/*
 * The nested workload on AMD: L2 (our guest) runs L3 with VMRUN under
 * nested paging, rooted at the NPT nested_matrix.c builds.  The VMCB
 * (AMD APM vol. 2, appendix B) is written by the VMM into L2's RAM; L2's
 * loop (nested_guest.c) runs it.  What L2 intercepts: VMRUN (required),
 * VMMCALL, the other SVM instructions, HLT, shutdown, every exception
 * (so L3 needs no IDT, and its closing ud2 comes back as exit 0x46), all
 * I/O and MSR accesses (full permission maps).  GMET (nested-control bit
 * 3) is set only in passes that ask for it, and they run only when KVM
 * offers it to its guest (CPUID Fn8000_000A EDX bit 17).
 */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>

#include "workload/nested.h"
#include "workload/vmm.h"

/* VMCB control area */
#define VMCB_INTERCEPT_EXC	0x008
#define VMCB_INTERCEPT_MISC1	0x00c
#define VMCB_INTERCEPT_MISC2	0x010
#define VMCB_IOPM_BASE		0x040
#define VMCB_MSRPM_BASE		0x048
#define VMCB_ASID		0x058
#define VMCB_TLB_CTL		0x05c
#define VMCB_INT_CTL		0x060
#define VMCB_EXIT_CODE		0x070
#define VMCB_EXIT_INFO1		0x078
#define VMCB_EXIT_INFO2		0x080
#define VMCB_NP_CTL		SVM_VMCB_NP_CTL_OFFSET
#define VMCB_EVENT_INJ		0x0a8
#define VMCB_NCR3		0x0b0
#define VMCB_CLEAN		0x0c0
/* VMCB state-save area */
#define VMCB_SAVE		0x400
#define VMCB_ES			(VMCB_SAVE + 0x000)
#define VMCB_CS			(VMCB_SAVE + 0x010)
#define VMCB_SS			(VMCB_SAVE + 0x020)
#define VMCB_DS			(VMCB_SAVE + 0x030)
#define VMCB_FS			(VMCB_SAVE + 0x040)
#define VMCB_GS			(VMCB_SAVE + 0x050)
#define VMCB_GDTR		(VMCB_SAVE + 0x060)
#define VMCB_LDTR		(VMCB_SAVE + 0x070)
#define VMCB_IDTR		(VMCB_SAVE + 0x080)
#define VMCB_TR			(VMCB_SAVE + 0x090)
#define VMCB_CPL		(VMCB_SAVE + 0x0cb)
#define VMCB_EFER		(VMCB_SAVE + 0x0d0)
#define VMCB_CR4		(VMCB_SAVE + 0x148)
#define VMCB_CR3		(VMCB_SAVE + 0x150)
#define VMCB_CR0		(VMCB_SAVE + 0x158)
#define VMCB_DR7		(VMCB_SAVE + 0x160)
#define VMCB_DR6		(VMCB_SAVE + 0x168)
#define VMCB_RFLAGS		(VMCB_SAVE + 0x170)
#define VMCB_RIP		(VMCB_SAVE + 0x178)
#define VMCB_RSP		(VMCB_SAVE + 0x1d8)
#define VMCB_RAX		(VMCB_SAVE + 0x1f8)
#define VMCB_G_PAT		(VMCB_SAVE + 0x268)

#define MISC1_HLT		MBEC_BIT(24)
#define MISC1_IOIO		MBEC_BIT(27)
#define MISC1_MSR		MBEC_BIT(28)
#define MISC1_SHUTDOWN		MBEC_BIT(31)
#define MISC2_SVM_INSNS		0x3fULL		/* VMRUN VMMCALL VMLOAD VMSAVE STGI CLGI */
#define INT_CTL_V_INTR_MASKING	MBEC_BIT(24)
#define TLB_FLUSH_ALL		1
#define EFER_SVME		MBEC_BIT(12)
#define MSR_VM_HSAVE_PA		0xc0010117

#define SVM_EXIT_EXC(v)		(0x40 + (v))
#define SVM_EXIT_INVALID	(~0ULL)

/* Segment attributes: type, S, DPL, P, AVL, L, DB, G packed into 12 bits. */
#define SEG_CODE64(dpl)		(0xb | 0x10 | (dpl) << 5 | 0x80 | 0x200 | 0x800)
#define SEG_DATA(dpl)		(0x3 | 0x10 | (dpl) << 5 | 0x80 | 0x400 | 0x800)

static uint8_t *vmcb(struct wln_run *w)
{
	return w->vm->ram + WLN_CTL_GPA;
}

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static void put16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, 2);
}

static void seg(uint8_t *v, unsigned int off, uint16_t sel, uint16_t attr, uint32_t limit,
		uint64_t base)
{
	put16(v + off, sel);
	put16(v + off + 2, attr);
	put32(v + off + 4, limit);
	put64(v + off + 8, base);
}

static int svm_setup(struct wln_run *w, bool *feature, char *note, size_t note_len, char *err,
		     size_t len)
{
	const struct kvm_cpuid_entry2 *ext = wln_cpuid(w->vm, 0x80000001);
	const struct kvm_cpuid_entry2 *svm = wln_cpuid(w->vm, 0x8000000a);
	struct {
		struct kvm_msrs h;
		struct kvm_msr_entry e;
	} msrs = { .h.nmsrs = 1, .e.index = MSR_VM_HSAVE_PA, .e.data = WLN_HOST_GPA };

	if (!ext || !(ext->ecx & (1u << 2))) {
		wl_set_err(err, len, "KVM offers its guests no SVM (CPUID 8000_0001 ECX bit 2): load kvm_amd with nested=1 on an AMD host");
		return -1;
	}
	if (!svm || !(svm->edx & 1u)) {
		wl_set_err(err, len, "KVM offers SVM without nested paging (CPUID 8000_000A EDX bit 0): load kvm_amd with npt=1");
		return -1;
	}
	*feature = svm->edx & (1u << SVM_CPUID_GMET_BIT);
	snprintf(note, note_len, *feature ?
		 "offered (CPUID 8000_000A EDX bit 17): control passes, then GMET passes" :
		 "not offered by KVM (CPUID 8000_000A EDX bit 17 clear): control passes only");
	if (ioctl(w->c->fd, KVM_SET_MSRS, &msrs) != 1) {
		wl_set_err(err, len, "KVM_SET_MSRS VM_HSAVE_PA: %s", strerror(errno));
		return -1;
	}
	/* Intercept every port and every MSR. */
	memset(w->vm->ram + WLN_IOPM_GPA, 0xff, 3 * WLN_4K);
	memset(w->vm->ram + WLN_MSRPM_GPA, 0xff, 2 * WLN_4K);
	return 0;
}

static int svm_enter(struct wln_run *w, const struct wln_layout *l, char *err, size_t len)
{
	struct wl_vm *vm = w->vm;
	struct wl_vcpu *c = w->c;
	uint8_t *v = vmcb(w);
	unsigned int dpl = l->cpl;
	uint16_t cs = dpl ? WL_SEL_UCODE : WL_SEL_KCODE, ds = dpl ? WL_SEL_UDATA : WL_SEL_KDATA;
	struct kvm_sregs s;
	struct kvm_regs r = { 0 };

	memset(v, 0, WLN_4K);
	put32(v + VMCB_INTERCEPT_EXC, 0xffffffff);
	put32(v + VMCB_INTERCEPT_MISC1, (uint32_t)(MISC1_HLT | MISC1_IOIO | MISC1_MSR |
						   MISC1_SHUTDOWN));
	put32(v + VMCB_INTERCEPT_MISC2, (uint32_t)MISC2_SVM_INSNS);
	put64(v + VMCB_IOPM_BASE, WLN_IOPM_GPA);
	put64(v + VMCB_MSRPM_BASE, WLN_MSRPM_GPA);
	put32(v + VMCB_ASID, 1);
	v[VMCB_TLB_CTL] = TLB_FLUSH_ALL;
	put32(v + VMCB_INT_CTL, (uint32_t)INT_CTL_V_INTR_MASKING);
	put64(v + VMCB_NP_CTL, SVM_NP_ENABLE | (l->feature ? SVM_NP_GMET_ENABLE : 0));
	put64(v + VMCB_NCR3, l->root);

	seg(v, VMCB_CS, cs, SEG_CODE64(dpl), 0xffffffff, 0);
	seg(v, VMCB_SS, ds, SEG_DATA(dpl), 0xffffffff, 0);
	seg(v, VMCB_DS, ds, SEG_DATA(dpl), 0xffffffff, 0);
	seg(v, VMCB_ES, ds, SEG_DATA(dpl), 0xffffffff, 0);
	seg(v, VMCB_FS, ds, SEG_DATA(dpl), 0xffffffff, 0);
	seg(v, VMCB_GS, ds, SEG_DATA(dpl), 0xffffffff, 0);
	seg(v, VMCB_GDTR, 0, 0, 0, 0);
	seg(v, VMCB_IDTR, 0, 0, 0, 0);
	seg(v, VMCB_LDTR, 0, 0, 0, 0);
	seg(v, VMCB_TR, WL_SEL_TSS(0), 0x8b, 0x67, 0);
	v[VMCB_CPL] = (uint8_t)l->cpl;
	put64(v + VMCB_EFER, WL_EFER | EFER_SVME);
	put64(v + VMCB_CR0, WL_CR0);
	put64(v + VMCB_CR3, l->l3_cr3);
	put64(v + VMCB_CR4, WL_CR4);
	put64(v + VMCB_DR6, 0xffff0ff0);
	put64(v + VMCB_DR7, 0x400);
	put64(v + VMCB_RFLAGS, 2);
	put64(v + VMCB_RIP, wln_guest_at(WLN_L3_CODE_GPA, wln_l3_matrix));
	put64(v + VMCB_RSP, WLN_L3_STACK_GPA + WLN_4K - 64);
	put64(v + VMCB_G_PAT, 0x0007040600070406ULL);

	/* L2: CPL 0, EFER.SVME, at its VMRUN loop with L3's arguments. */
	if (ioctl(c->fd, KVM_GET_SREGS, &s)) {
		wl_set_err(err, len, "KVM_GET_SREGS: %s", strerror(errno));
		return -1;
	}
	wl_segments(&s, 0);
	s.cr0 = vm->l->cr0;
	s.cr4 = vm->l->cr4;
	s.efer = vm->l->efer | EFER_SVME;
	if (ioctl(c->fd, KVM_SET_SREGS, &s)) {
		wl_set_err(err, len, "KVM refuses EFER.SVME for its guest (KVM_SET_SREGS: %s): load kvm_amd with nested=1",
			   strerror(errno));
		return -1;
	}
	c->cpl = 0;
	r.rip = wln_guest_at(WL_KCODE_GPA + WLN_L2_CODE_OFFSET, wln_svm_loop);
	r.rsp = WL_KSTACK_GPA(0) + WL_4K - 256;
	r.rflags = 2;
	r.rax = WLN_CTL_GPA;
	r.rdi = WLN_L3_DATA_GPA + WLN_DATA_PAGELIST;
	r.rsi = l->nr_pages;
	r.rdx = WLN_L3_DATA_GPA + WLN_DATA_RESULTS;
	if (ioctl(c->fd, KVM_SET_REGS, &r)) {
		wl_set_err(err, len, "KVM_SET_REGS: %s", strerror(errno));
		return -1;
	}
	return 0;
}

static int svm_decode(struct wln_run *w, struct wln_exit *e)
{
	const uint8_t *v = vmcb(w);
	uint64_t code = get64(v + VMCB_EXIT_CODE);
	uint64_t i1 = get64(v + VMCB_EXIT_INFO1), i2 = get64(v + VMCB_EXIT_INFO2);
	uint64_t rax = get64(v + VMCB_RAX);

	memset(e, 0, sizeof(*e));
	e->rip = get64(v + VMCB_RIP);
	if (code == SVM_EXIT_NPF) {
		e->kind = WLN_EXIT_FAULT;
		e->info = i1;
		e->gpa = i2;
		return 0;
	}
	if (code == SVM_EXIT_EXC(6) && (uint32_t)rax == WLN_HC_DONE &&
	    e->rip == wln_guest_at(WLN_L3_CODE_GPA, wln_l3_done_ud2)) {
		e->kind = WLN_EXIT_DONE;
		return 0;
	}
	e->kind = WLN_EXIT_OTHER;
	if (code == SVM_EXIT_INVALID)
		snprintf(e->what, sizeof(e->what),
			 "VMRUN refused the VMCB (VMEXIT_INVALID): KVM's consistency checks failed");
	else
		snprintf(e->what, sizeof(e->what),
			 "#VMEXIT code %#llx, EXITINFO1 %#llx, EXITINFO2 %#llx, L3 rip %#llx rax %#llx",
			 (unsigned long long)code, (unsigned long long)i1, (unsigned long long)i2,
			 (unsigned long long)e->rip, (unsigned long long)rax);
	return 0;
}

static int svm_resume(struct wln_run *w, uint64_t rip, uint64_t rsp)
{
	uint8_t *v = vmcb(w);

	put64(v + VMCB_RIP, rip);
	put64(v + VMCB_RSP, rsp);
	put64(v + VMCB_EVENT_INJ, 0);
	put32(v + VMCB_CLEAN, 0);	/* the VMM wrote the VMCB: nothing is cached */
	return 0;
}

const struct wln_ops wln_svm_ops = {
	.name = "SVM with NPT",
	.fault_name = "#NPF",
	.info_name = "EXITINFO1",
	.feature = "GMET",
	.mmu = MBEC_MMU_NPT,
	.setup = svm_setup,
	.enter = svm_enter,
	.decode = svm_decode,
	.resume = svm_resume,
};
