/* SPDX-License-Identifier: GPL-2.0 */
/*
 * KVM's own encodings that changed with the MBEC/GMET work, for both ABI
 * layouts (spec sections 4 and 5):
 *
 *   classic - KVM as in Linux 6.12, up to the release before the series;
 *   mbec    - KVM with the MBEC/GMET series (ours in kernel/, or Paolo
 *             Bonzini's posted series, which it follows);
 *   kohler  - Jon Kohler's earlier MBEC series (spec section 9): classic's
 *             three ACC bits plus ACC_USER_EXEC at bit 3, no READ bit.
 *
 * Macros only (usable from BPF and user space).  Role bit positions are
 * deliberately absent: they differ between releases and are read from the
 * running kernel's BTF (src/live) or from a recording's header.
 */
#ifndef MBEC_KVM_H
#define MBEC_KVM_H

#include "mbec_arch.h"

enum mbec_layout {
	MBEC_LAYOUT_CLASSIC = 0,
	MBEC_LAYOUT_MBEC = 1,
	MBEC_LAYOUT_UNKNOWN = 2,
	MBEC_LAYOUT_KOHLER = 3,	/* after UNKNOWN: the values 0-2 are in recordings */
};

/* ---- ACC_* -------------------------------------------------------------- */
#define CLASSIC_ACC_EXEC	0x1
#define CLASSIC_ACC_WRITE	0x2
#define CLASSIC_ACC_USER	0x4	/* on EPT: the R permission */
#define CLASSIC_ACC_ALL		0x7

#define MBEC_ACC_READ		0x1	/* == PT_PRESENT_MASK */
#define MBEC_ACC_WRITE		0x2
#define MBEC_ACC_USER		0x4
#define MBEC_ACC_USER_EXEC	0x4	/* same bit as USER, EPT only (XU) */
#define MBEC_ACC_EXEC		0x8	/* XS on EPT, !NX on legacy/NPT */
#define MBEC_ACC_ALL		0xf
/*
 * Jon Kohler's series: bits 0-2 are classic's (EPT's R still in USER),
 * USER_EXEC is a bit of its own.  Its trace prints the access as "xwuX"
 * (x = USER_EXEC, X = EXEC) and set_spte's permissions as "(rwXx[u])".
 * The checker reads bits 0-2 as classic: the user-exec split is not
 * modelled (the summary says how many roles carried it).
 */
#define KOHLER_ACC_EXEC		0x1
#define KOHLER_ACC_WRITE	0x2
#define KOHLER_ACC_USER		0x4
#define KOHLER_ACC_USER_EXEC	0x8	/* EPT XU, with MBEC */
#define KOHLER_ACC_ALL		0xf
/* Exit-qualification bit 6 in the series: EPT_VIOLATION_PROT_USER_EXEC. */
#define KOHLER_EPT_VIOLATION_PROT_USER_EXEC	MBEC_BIT(6)

/* L1's TDP root access with GMET: everything but USER. */
#define MBEC_ACC_GMET_ROOT	(MBEC_ACC_ALL & ~MBEC_ACC_USER)

/* ---- SPTE software bits ------------------------------------------------- */
#define SPTE_MMU_PRESENT		MBEC_BIT(11)
#define SPTE_LEGACY_HOST_WRITABLE	MBEC_BIT(9)
#define SPTE_LEGACY_MMU_WRITABLE	MBEC_BIT(10)

#define CLASSIC_SPTE_EPT_HOST_WRITABLE	MBEC_BIT(57)
#define CLASSIC_SPTE_EPT_MMU_WRITABLE	MBEC_BIT(58)
#define CLASSIC_SPTE_TDP_AD_SHIFT	52
#define CLASSIC_SPTE_TDP_AD_MASK	MBEC_GENMASK(53, 52)
#define CLASSIC_SPTE_SAVED_R_SHIFT	54	/* R saved at bit 54 */
#define CLASSIC_SPTE_SAVED_X_SHIFT	56	/* X saved at bit 56 */
#define CLASSIC_SPTE_SAVED_MASK		(MBEC_BIT(54) | MBEC_BIT(56))
#define CLASSIC_MMIO_GEN_LOW_MASK	MBEC_GENMASK(10, 3)
#define CLASSIC_MMIO_GEN_HIGH_MASK	MBEC_GENMASK(62, 52)
#define CLASSIC_MMIO_GEN_BITS		19
#define CLASSIC_FROZEN_SPTE_BITS	0x5a0ULL

#define MBEC_SPTE_EPT_HOST_WRITABLE	MBEC_BIT(53)
#define MBEC_SPTE_EPT_MMU_WRITABLE	MBEC_BIT(55)
#define MBEC_SPTE_TDP_AD_SHIFT		60
#define MBEC_SPTE_TDP_AD_MASK		MBEC_GENMASK(61, 60)
#define MBEC_SPTE_SAVED_R_SHIFT		52	/* R saved at bit 52 */
#define MBEC_SPTE_SAVED_XS_SHIFT	54	/* XS saved at bit 54 */
#define MBEC_SPTE_SAVED_XU_SHIFT	62	/* XU saved at bit 62 */
#define MBEC_SPTE_SAVED_MASK		(MBEC_BIT(52) | MBEC_BIT(54) | MBEC_BIT(62))
#define MBEC_MMIO_GEN_LOW_MASK		MBEC_GENMASK(9, 3)
#define MBEC_MMIO_GEN_HIGH_MASK		MBEC_GENMASK(62, 52)
#define MBEC_MMIO_GEN_BITS		18
#define MBEC_FROZEN_SPTE_BITS		0x1a0ULL

/* TDP A/D type values (in the TDP_AD field). */
#define SPTE_TDP_AD_ENABLED		0
#define SPTE_TDP_AD_DISABLED		1
#define SPTE_TDP_AD_WRPROT_ONLY		2

/* KVM's MMIO SPTE value on EPT: W|X, a guaranteed misconfiguration. */
#define SPTE_EPT_MMIO_VALUE		(EPTE_W | EPTE_X)
/* Shadow non-present value on x86-64 (when the kernel sets it). */
#define SPTE_SHADOW_NONPRESENT		MBEC_BIT(63)

/* ---- kvm_mmu_page_role field names (positions come from BTF) --------- */
#define MBEC_ROLE_FIELDS(X)		\
	X(level)			\
	X(has_4_byte_gpte)		\
	X(quadrant)			\
	X(direct)			\
	X(access)			\
	X(invalid)			\
	X(efer_nx)			\
	X(cr0_wp)			\
	X(smep_andnot_wp)		\
	X(cr4_smep)			\
	X(smap_andnot_wp)		\
	X(ad_disabled)			\
	X(guest_mode)			\
	X(passthrough)			\
	X(is_mirror)			\
	X(smm)

#endif /* MBEC_KVM_H */
