/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The pure part of the nested workload on VMX (nested_vmx.c): VMCS field
 * encodings and control bits (Intel SDM vol. 3, appendices A and B), the
 * vCPU's VMX capability MSRs, and the table of (field, value) pairs L2's
 * code VMWRITEs for a pass.  Unit-tested without KVM.
 */
#ifndef MBEC_WORKLOAD_NESTED_VMX_H
#define MBEC_WORKLOAD_NESTED_VMX_H

#include <stddef.h>
#include <stdint.h>

#include "workload/internal.h"
#include "workload/nested.h"

/* Control fields (32-bit) */
#define VMCS_PIN_CTLS			0x4000
#define VMCS_PROC_CTLS			0x4002
#define VMCS_EXCEPTION_BITMAP		0x4004
#define VMCS_PF_MASK			0x4006
#define VMCS_PF_MATCH			0x4008
#define VMCS_CR3_TARGET_COUNT		0x400a
#define VMCS_EXIT_CTLS			0x400c
#define VMCS_EXIT_MSR_STORE_COUNT	0x400e
#define VMCS_EXIT_MSR_LOAD_COUNT	0x4010
#define VMCS_ENTRY_CTLS			0x4012
#define VMCS_ENTRY_MSR_LOAD_COUNT	0x4014
#define VMCS_ENTRY_INTR_INFO		0x4016
#define VMCS_PROC2_CTLS			0x401e
/* 64-bit */
#define VMCS_EPTP			0x201a
#define VMCS_GUEST_PHYS			0x2400
#define VMCS_LINK_POINTER		0x2800
#define VMCS_GUEST_DEBUGCTL		0x2802
#define VMCS_GUEST_EFER			0x2806
#define VMCS_HOST_EFER			0x2c02
/* read-only 32-bit */
#define VMCS_VM_INSN_ERROR		0x4400
#define VMCS_EXIT_REASON		0x4402
#define VMCS_EXIT_INTR_INFO		0x4404
/* natural width */
#define VMCS_CR0_MASK			0x6000
#define VMCS_CR4_MASK			0x6002
#define VMCS_CR0_SHADOW			0x6004
#define VMCS_CR4_SHADOW			0x6006
#define VMCS_EXIT_QUAL			0x6400
/* guest state: selectors 0x800 + 2i, limits 0x4800 + 2i, AR 0x4814 + 2i, bases 0x6806 + 2i */
#define VMCS_GUEST_ES_SEL		0x0800
#define VMCS_GUEST_LDTR_SEL		0x080c
#define VMCS_GUEST_TR_SEL		0x080e
#define VMCS_GUEST_ES_LIMIT		0x4800
#define VMCS_GUEST_LDTR_LIMIT		0x480c
#define VMCS_GUEST_TR_LIMIT		0x480e
#define VMCS_GUEST_GDTR_LIMIT		0x4810
#define VMCS_GUEST_IDTR_LIMIT		0x4812
#define VMCS_GUEST_ES_AR		0x4814
#define VMCS_GUEST_LDTR_AR		0x4820
#define VMCS_GUEST_TR_AR		0x4822
#define VMCS_GUEST_INTERRUPTIBILITY	0x4824
#define VMCS_GUEST_ACTIVITY		0x4826
#define VMCS_GUEST_SYSENTER_CS		0x482a
#define VMCS_GUEST_CR0			0x6800
#define VMCS_GUEST_CR3			0x6802
#define VMCS_GUEST_CR4			0x6804
#define VMCS_GUEST_ES_BASE		0x6806
#define VMCS_GUEST_LDTR_BASE		0x6812
#define VMCS_GUEST_TR_BASE		0x6814
#define VMCS_GUEST_GDTR_BASE		0x6816
#define VMCS_GUEST_IDTR_BASE		0x6818
#define VMCS_GUEST_DR7			0x681a
#define VMCS_GUEST_RSP			0x681c
#define VMCS_GUEST_RIP			0x681e
#define VMCS_GUEST_RFLAGS		0x6820
#define VMCS_GUEST_PENDING_DBG		0x6822
#define VMCS_GUEST_SYSENTER_ESP		0x6824
#define VMCS_GUEST_SYSENTER_EIP		0x6826
/* host state */
#define VMCS_HOST_ES_SEL		0x0c00
#define VMCS_HOST_CS_SEL		0x0c02
#define VMCS_HOST_SS_SEL		0x0c04
#define VMCS_HOST_DS_SEL		0x0c06
#define VMCS_HOST_FS_SEL		0x0c08
#define VMCS_HOST_GS_SEL		0x0c0a
#define VMCS_HOST_TR_SEL		0x0c0c
#define VMCS_HOST_SYSENTER_CS		0x4c00
#define VMCS_HOST_CR0			0x6c00
#define VMCS_HOST_CR3			0x6c02
#define VMCS_HOST_CR4			0x6c04
#define VMCS_HOST_FS_BASE		0x6c06
#define VMCS_HOST_GS_BASE		0x6c08
#define VMCS_HOST_TR_BASE		0x6c0a
#define VMCS_HOST_GDTR_BASE		0x6c0c
#define VMCS_HOST_IDTR_BASE		0x6c0e
#define VMCS_HOST_SYSENTER_ESP		0x6c10
#define VMCS_HOST_SYSENTER_EIP		0x6c12
#define VMCS_HOST_RSP			0x6c14
#define VMCS_HOST_RIP			0x6c16

#define VMX_BASIC_TRUE_CTLS		MBEC_BIT(55)
#define VMX_PROC_HLT			(1u << 7)
#define VMX_PROC_UNCOND_IO		(1u << 24)
#define VMX_PROC_IO_BITMAPS		(1u << 25)
#define VMX_PROC_MSR_BITMAPS		(1u << 28)
#define VMX_PROC_SECONDARY		(1u << 31)
#define VMX_PROC2_EPT			(1u << 1)
#define VMX_PROC2_MBEC			(1u << 22)	/* mode-based execute control */
#define VMX_EXIT_HOST_64		(1u << 9)
#define VMX_EXIT_LOAD_EFER		(1u << 21)
#define VMX_ENTRY_IA32E			(1u << 9)
#define VMX_ENTRY_LOAD_EFER		(1u << 15)
#define VMX_EPT_CAP_EXECONLY		MBEC_BIT(0)
#define VMX_EPT_CAP_PWL4		MBEC_BIT(6)
#define VMX_EPT_CAP_WB			MBEC_BIT(14)
#define VMX_EPTP_WB			6ULL
#define VMX_EPTP_PWL4			(3ULL << 3)
#define VMX_AR_UNUSABLE			(1u << 16)

/* The vCPU's VMX capability MSRs (0x480-0x490). */
struct wln_vmx_caps {
	uint64_t basic, pin, proc, exit, entry, proc2, ept_cap;
	uint64_t cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1;
	uint64_t true_pin, true_proc, true_exit, true_entry;
};

/* L2's state that every VM exit loads. */
struct wln_vmx_host {
	uint64_t cr0, cr3, cr4, efer, rsp, rip;
};

struct wln_vmx_field {
	uint64_t field, value;
};

struct wln_vmx_table {
	unsigned int n;
	bool failed;
	struct wln_vmx_field f[WLN_VMX_FIELDS_MAX];
};

/*
 * A control value from its capability MSR (allowed-0 settings in the low
 * half, allowed-1 in the high half): the bits that must be 1, plus @want
 * where allowed, plus @need, which must be allowed.  -1 when @need is not
 * allowed (or the MSR contradicts itself).
 */
int wln_vmx_ctl(uint64_t cap, uint32_t want, uint32_t need, uint32_t *out);

/*
 * Every VMCS field of one pass: controls (EPT, MBEC when l->feature),
 * L3's state at l->cpl, L2's host state @h.  0, or -1 with one line in
 * @err saying what KVM does not allow.
 */
int wln_vmx_fields(const struct wln_vmx_caps *caps, const struct wln_layout *l,
		   const struct wln_vmx_host *h, struct wln_vmx_table *t, char *err, size_t len);

#endif /* MBEC_WORKLOAD_NESTED_VMX_H */
