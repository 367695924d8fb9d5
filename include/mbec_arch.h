/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Architectural bit definitions: EPT and legacy/NPT paging-structure
 * entries, EPT-violation exit qualifications, page-fault error codes and
 * #NPF EXITINFO1.  Sources: Intel SDM vol. 3 (chapters 29-30), AMD APM
 * vol. 2 (chapters 5 and 15), summarised in shared/spec/mbec-gmet.md.
 *
 * Macros only, so that both the BPF programs (which see vmlinux.h and no
 * libc) and user space can include this file.
 */
#ifndef MBEC_ARCH_H
#define MBEC_ARCH_H

#define MBEC_BIT(n)		(1ULL << (n))
#define MBEC_GENMASK(h, l)	(((~0ULL) << (l)) & (~0ULL >> (63 - (h))))

/* ---- EPT paging-structure entries ------------------------------------ */
#define EPTE_R			MBEC_BIT(0)
#define EPTE_W			MBEC_BIT(1)
#define EPTE_X			MBEC_BIT(2)	/* XS when MBEC is on */
#define EPTE_XS			EPTE_X
#define EPTE_MT_SHIFT		3
#define EPTE_MT_MASK		MBEC_GENMASK(5, 3)
#define EPTE_IPAT		MBEC_BIT(6)
#define EPTE_PS			MBEC_BIT(7)
#define EPTE_A			MBEC_BIT(8)
#define EPTE_D			MBEC_BIT(9)
#define EPTE_XU			MBEC_BIT(10)	/* ignored unless MBEC is on */
#define EPTE_PFN_MASK		MBEC_GENMASK(51, 12)
#define EPTE_VGP		MBEC_BIT(57)	/* (?) */
#define EPTE_PW			MBEC_BIT(58)	/* (?) */
#define EPTE_SSS		MBEC_BIT(60)	/* (?) */
#define EPTE_SPP		MBEC_BIT(61)	/* (?) */
#define EPTE_SVE		MBEC_BIT(63)
#define EPTE_RWX		(EPTE_R | EPTE_W | EPTE_X)

/* ---- legacy x86-64 and AMD NPT entries ------------------------------- */
#define PTE_P			MBEC_BIT(0)
#define PTE_RW			MBEC_BIT(1)
#define PTE_US			MBEC_BIT(2)
#define PTE_PWT			MBEC_BIT(3)
#define PTE_PCD			MBEC_BIT(4)
#define PTE_A			MBEC_BIT(5)
#define PTE_D			MBEC_BIT(6)
#define PTE_PS			MBEC_BIT(7)	/* PAT in a 4K PTE */
#define PTE_PAT4K		MBEC_BIT(7)
#define PTE_G			MBEC_BIT(8)
#define PTE_AVL_MASK		MBEC_GENMASK(11, 9)
#define PTE_PAT_LARGE		MBEC_BIT(12)
#define PTE_PFN_MASK		MBEC_GENMASK(51, 12)
#define PTE_PKEY_SHIFT		59
#define PTE_PKEY_MASK		MBEC_GENMASK(62, 59)
#define PTE_NX			MBEC_BIT(63)

/* ---- EPT-violation exit qualification (exit reason 48) --------------- */
#define EXIT_REASON_EPT_VIOLATION	48
#define EXIT_REASON_EPT_MISCONFIG	49
#define SVM_EXIT_NPF			0x400

#define EPT_VIOL_ACC_READ	MBEC_BIT(0)
#define EPT_VIOL_ACC_WRITE	MBEC_BIT(1)
#define EPT_VIOL_ACC_INSTR	MBEC_BIT(2)
#define EPT_VIOL_PROT_READ	MBEC_BIT(3)
#define EPT_VIOL_PROT_WRITE	MBEC_BIT(4)
#define EPT_VIOL_PROT_EXEC	MBEC_BIT(5)
#define EPT_VIOL_PROT_USER_EXEC	MBEC_BIT(6)	/* undefined when MBEC is off */
#define EPT_VIOL_GVA_IS_VALID	MBEC_BIT(7)
#define EPT_VIOL_GVA_TRANSLATED	MBEC_BIT(8)
#define EPT_VIOL_GVA_USER	MBEC_BIT(9)	/* advanced info */
#define EPT_VIOL_GVA_WRITABLE	MBEC_BIT(10)	/* advanced info */
#define EPT_VIOL_GVA_NX		MBEC_BIT(11)	/* advanced info */
#define EPT_VIOL_NMI_UNBLOCK	MBEC_BIT(12)
#define EPT_VIOL_SHSTK		MBEC_BIT(13)	/* (?) */
#define EPT_VIOL_SSS		MBEC_BIT(14)	/* (?) */
#define EPT_VIOL_GPV		MBEC_BIT(15)	/* (?) */
#define EPT_VIOL_ASYNC		MBEC_BIT(16)	/* (?) */
#define EPT_VIOL_ACC_MASK	(EPT_VIOL_ACC_READ | EPT_VIOL_ACC_WRITE | EPT_VIOL_ACC_INSTR)
#define EPT_VIOL_PROT_RWX	(EPT_VIOL_PROT_READ | EPT_VIOL_PROT_WRITE | EPT_VIOL_PROT_EXEC)
#define EPT_VIOL_PROT_SHIFT	3	/* EPT bits 2:0 -> qualification 5:3 */
#define EPT_VIOL_UX_SHIFT	4	/* EPT bit 10 -> qualification bit 6 */
#define EPT_VIOL_ADVANCED	(EPT_VIOL_GVA_USER | EPT_VIOL_GVA_WRITABLE | EPT_VIOL_GVA_NX)
#define EPT_VIOL_DEFINED_MASK	MBEC_GENMASK(16, 0)

/* ---- page-fault error code (and #NPF EXITINFO1) ----------------------- */
#define PFERR_PRESENT		MBEC_BIT(0)
#define PFERR_WRITE		MBEC_BIT(1)
#define PFERR_USER		MBEC_BIT(2)
#define PFERR_RSVD		MBEC_BIT(3)
#define PFERR_FETCH		MBEC_BIT(4)
#define PFERR_PK		MBEC_BIT(5)
#define PFERR_SS		MBEC_BIT(6)
#define PFERR_SGX		MBEC_BIT(15)
#define PFERR_GUEST_RMP		MBEC_BIT(31)
#define PFERR_GUEST_FINAL	MBEC_BIT(32)
#define PFERR_GUEST_PAGE	MBEC_BIT(33)
#define PFERR_GUEST_ENC		MBEC_BIT(34)
#define PFERR_GUEST_SIZEM	MBEC_BIT(35)
#define PFERR_GUEST_VMPL	MBEC_BIT(36)
#define PFERR_IMPLICIT_ACCESS	MBEC_BIT(48)	/* KVM-synthetic */
#define PFERR_PRIVATE_ACCESS	MBEC_BIT(49)	/* KVM-synthetic */

/* NPF EXITINFO1 shares the low bits with the #PF error code. */
#define NPF_P			PFERR_PRESENT
#define NPF_RW			PFERR_WRITE
#define NPF_US			PFERR_USER
#define NPF_RSV			PFERR_RSVD
#define NPF_ID			PFERR_FETCH

/* Control-register bits the oracle and the role decoder speak of. */
#define X86_CR0_WP		MBEC_BIT(16)
#define X86_CR0_PG		MBEC_BIT(31)
#define X86_CR4_PAE		MBEC_BIT(5)
#define X86_CR4_LA57		MBEC_BIT(12)
#define X86_CR4_SMEP		MBEC_BIT(20)
#define X86_CR4_SMAP		MBEC_BIT(21)
#define X86_EFER_NXE		MBEC_BIT(11)
#define X86_EFLAGS_AC		MBEC_BIT(18)

/* MBEC / GMET enablement (spec section 6). */
#define VMX_SECONDARY_MODE_BASED_EPT_EXEC	MBEC_BIT(22)
#define VMX_EPT_VPID_CAP_ADVANCED_INFO		MBEC_BIT(22)
#define SVM_CPUID_GMET_BIT			17	/* Fn8000_000A EDX */
#define SVM_VMCB_NP_CTL_OFFSET			0x90
#define SVM_NP_ENABLE				MBEC_BIT(0)
#define SVM_NP_GMET_ENABLE			MBEC_BIT(3)

#endif /* MBEC_ARCH_H */
