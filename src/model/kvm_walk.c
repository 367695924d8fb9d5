// SPDX-License-Identifier: GPL-2.0
/*
 * Layer 2 of the reference model: KVM's software walk and exit
 * qualifications.
 *
 * What KVM does with a fault it has to walk itself (shadow paging, nested
 * NPT and EPT): the reserved bits it precomputes per level, the walk of
 * the guest's entries to an ACC, a permission check and the error code it
 * reports (or the exit qualification it synthesizes for L1), and the error
 * code it derives from an EPT violation's exit qualification.
 * mbec_kvm_fault_for_access() builds the fault hardware would deliver for
 * an access, to feed the walk.  ACC bits and composition are in kvm.c,
 * the permission bitmask in kvm_perm.c.
 */
#include <errno.h>
#include <string.h>

#include "mbec_model.h"
#include "model/kvm_internal.h"

/* ---- reserved bits, per level, as KVM precomputes them ------------------ */

struct rsvd_check {
	uint64_t mask[2][6];	/* [large][level] */
	uint64_t bad_mt_xwr;	/* EPT: bit (pte & 0x3f) set = misconfigured */
	bool ept, xu_only_bad;
};

static void init_rsvd(enum mbec_layout layout, enum mbec_flavour fl,
		      const struct mbec_mode *mode, struct rsvd_check *rc)
{
	int l;

	memset(rc, 0, sizeof(*rc));
	if (kvm_fl_is_ept(fl)) {
		unsigned int i;

		rc->ept = true;
		for (l = 4; l <= 5; l++)
			rc->mask[0][l] = rc->mask[1][l] = MBEC_GENMASK(7, 3);
		rc->mask[0][3] = rc->mask[0][2] = MBEC_GENMASK(6, 3);
		rc->mask[1][3] = MBEC_GENMASK(29, 12);
		rc->mask[1][2] = MBEC_GENMASK(20, 12);
		for (i = 0; i < 64; i++) {
			unsigned int xwr = i & 7, mt = i >> 3;

			if (mt == 2 || mt == 3 || mt == 7 || xwr == 2 || xwr == 6 ||
			    (xwr == 4 && !mode->execonly))
				rc->bad_mt_xwr |= 1ULL << i;
		}
		rc->xu_only_bad = layout == MBEC_LAYOUT_MBEC && mode->mbec && !mode->execonly;
		return;
	}
	/* Legacy and NPT: NX is reserved unless the relevant EFER.NXE is on. */
	for (l = 1; l <= 5; l++) {
		uint64_t nx = mode->efer_nx ? 0 : PTE_NX;

		if (fl == MBEC_FL_SHADOW_LEGACY && mode->levels == 2)
			nx = 0;	/* 32-bit entries have no bit 63 */
		rc->mask[0][l] = rc->mask[1][l] = nx;
	}
	if (mode->levels >= 4 || kvm_fl_is_npt(fl)) {
		rc->mask[0][4] |= PTE_PS;
		rc->mask[0][5] |= PTE_PS;
		rc->mask[1][4] = rc->mask[0][4];
		rc->mask[1][5] = rc->mask[0][5];
	}
	if (mode->levels >= 3 || kvm_fl_is_npt(fl)) {
		rc->mask[1][3] |= MBEC_GENMASK(29, 13);
		rc->mask[1][2] |= MBEC_GENMASK(20, 13);
	}
}

static bool rsvd_set(const struct rsvd_check *rc, uint64_t gpte, int level)
{
	bool large = (level == 2 || level == 3) && (gpte & PTE_PS);

	if (gpte & rc->mask[large][level])
		return true;
	if (!rc->ept)
		return false;
	if (rc->bad_mt_xwr & (1ULL << (gpte & 0x3f)))
		return true;
	/* An XU-only entry is execute-only, with the same capability rule. */
	return rc->xu_only_bad && !(gpte & EPTE_RWX) && (gpte & EPTE_XU);
}

/* ---- exit qualifications ------------------------------------------------------ */

uint64_t mbec_kvm_exit_qual_to_pfec(enum mbec_layout layout, bool mbec, uint64_t qual)
{
	uint64_t pfec = 0;
	uint64_t prot = EPT_VIOL_PROT_RWX;

	if (qual & EPT_VIOL_ACC_WRITE)
		pfec |= PFERR_WRITE;
	if (qual & EPT_VIOL_ACC_INSTR)
		pfec |= PFERR_FETCH;
	if (kvm_classic_like(layout)) {
		if (qual & EPT_VIOL_ACC_READ)
			pfec |= PFERR_USER;
	} else {
		const uint64_t user = EPT_VIOL_GVA_IS_VALID | EPT_VIOL_GVA_TRANSLATED |
				      EPT_VIOL_GVA_USER;

		/*
		 * U now means "user-mode linear address", for XU, and only
		 * with MBEC: bit 9 is defined only where the CPU reports the
		 * advanced VM-exit information, which KVM requires for MBEC
		 * alone, so without MBEC it is not used (as bit 6 is not).
		 */
		if (mbec && (qual & user) == user)
			pfec |= PFERR_USER;
		/* An XU-only entry is present too, when bit 6 is defined. */
		if (mbec)
			prot |= EPT_VIOL_PROT_USER_EXEC;
	}
	if (qual & prot)
		pfec |= PFERR_PRESENT;
	if (qual & EPT_VIOL_GVA_IS_VALID)
		pfec |= (qual & EPT_VIOL_GVA_TRANSLATED) ? PFERR_GUEST_FINAL : PFERR_GUEST_PAGE;
	return pfec;
}

uint64_t mbec_kvm_nested_ept_qual(enum mbec_layout layout, const struct mbec_nested_ept_in *in)
{
	const uint64_t gva = EPT_VIOL_GVA_IS_VALID | EPT_VIOL_GVA_TRANSLATED;
	uint64_t qual = 0;

	switch (in->op) {
	case MBEC_OP_WRITE:
		/* A paging-structure write (A/D update) is read-modify-write. */
		qual |= EPT_VIOL_ACC_WRITE | (in->paging_structure ? EPT_VIOL_ACC_READ : 0);
		break;
	case MBEC_OP_FETCH:
		qual |= EPT_VIOL_ACC_INSTR;
		break;
	default:
		qual |= EPT_VIOL_ACC_READ;
		break;
	}
	qual |= (in->l1_prot & EPTE_RWX) << EPT_VIOL_PROT_SHIFT;
	if (layout == MBEC_LAYOUT_MBEC && in->nested_mbec && (in->l1_prot & EPTE_XU))
		qual |= EPT_VIOL_PROT_USER_EXEC;

	if (in->hw_violation) {
		/*
		 * Only hardware knows whether the linear address was valid
		 * and translated; KVM walked just the faulting GPA.
		 */
		qual |= in->vmcs02_qual & gva;
		if (layout == MBEC_LAYOUT_MBEC && in->nested_advanced_info)
			qual |= in->vmcs02_qual & EPT_VIOL_ADVANCED;
	} else {
		/* KVM emulates nothing that accesses GPAs directly. */
		qual |= EPT_VIOL_GVA_IS_VALID;
		if (!in->paging_structure)
			qual |= EPT_VIOL_GVA_TRANSLATED;
	}
	return qual;
}

/* ---- KVM's software walk ---------------------------------------------------- */

void mbec_kvm_fault_for_access(enum mbec_layout layout, enum mbec_flavour fl,
			       const struct mbec_mode *mode, const struct mbec_access *acc,
			       struct mbec_kvm_fault *fault)
{
	bool write = acc->op == MBEC_OP_WRITE, fetch = acc->op == MBEC_OP_FETCH;

	(void)layout;
	memset(fault, 0, sizeof(*fault));
	fault->hw_violation = true;
	if (kvm_fl_is_ept(fl)) {
		uint64_t q = 0;

		if (write)
			q |= EPT_VIOL_ACC_WRITE | (acc->paging_structure ? EPT_VIOL_ACC_READ : 0);
		else if (fetch)
			q |= EPT_VIOL_ACC_INSTR;
		else
			q |= EPT_VIOL_ACC_READ;
		if (!acc->no_linear) {
			q |= EPT_VIOL_GVA_IS_VALID;
			if (!acc->paging_structure) {
				q |= EPT_VIOL_GVA_TRANSLATED;
				if (acc->user)
					q |= EPT_VIOL_GVA_USER;
				if (acc->gva_writable)
					q |= EPT_VIOL_GVA_WRITABLE;
				if (acc->gva_nx)
					q |= EPT_VIOL_GVA_NX;
			}
		}
		fault->exit_qual = q;
		return;
	}
	if (write)
		fault->error_code |= PFERR_WRITE;
	if (fl == MBEC_FL_SHADOW_LEGACY) {
		if (acc->implicit)
			fault->error_code |= PFERR_IMPLICIT_ACCESS;
		else if (acc->user)
			fault->error_code |= PFERR_USER;
		if (fetch)
			fault->error_code |= PFERR_FETCH;
		return;
	}
	/* vmcb02's EXITINFO1 access bits. */
	if (!mode->gmet || acc->user || acc->paging_structure)
		fault->error_code |= PFERR_USER;
	if (fetch)
		fault->error_code |= PFERR_FETCH;
	fault->error_code |= acc->paging_structure ? PFERR_GUEST_PAGE : PFERR_GUEST_FINAL;
}

int mbec_kvm_walk(enum mbec_layout layout, enum mbec_flavour fl, const struct mbec_mode *mode,
		  const uint64_t *gptes, int n, const struct mbec_kvm_fault *fault,
		  struct mbec_kvm_walk_out *out)
{
	uint64_t pfec, errcode = 0, raw = ~0ULL;
	uint16_t perm[16];
	struct rsvd_check rc;
	unsigned int acc;
	bool ept = kvm_fl_is_ept(fl), fetch;
	int level, i = 0;

	if (!mode || !gptes || !fault || !out || n < 1 || mbec_flavour_is_tdp(fl))
		return -EINVAL;
	if (!mbec_kvm_supported(layout, fl, mode))
		return -EINVAL;
	memset(out, 0, sizeof(*out));

	pfec = ept ? mbec_kvm_exit_qual_to_pfec(layout, mode->mbec, fault->exit_qual) :
		     fault->error_code;
	fetch = pfec & PFERR_FETCH;
	if (fetch && (pfec & (PFERR_IMPLICIT_ACCESS | PFERR_GUEST_PAGE)))
		return -EINVAL;
	mbec_kvm_permission_bitmask(layout, fl, mode, perm);
	init_rsvd(layout, fl, mode, &rc);
	acc = kvm_root_access(layout, fl, mode);
	level = mode->levels;

	if (fl == MBEC_FL_SHADOW_LEGACY && mode->levels == 3) {
		/* A PDPTE with reserved bits never loads (#GP at MOV CR3). */
		if (!(gptes[0] & PTE_P))
			goto error;
		if (gptes[0] & (PTE_RW | PTE_US | PTE_PS | PTE_NX))
			return -EINVAL;
		i = 1;
		level = 2;
	}
	for (;; i++, level--) {
		uint64_t gpte;

		if (i >= n)
			return -EINVAL;
		gpte = gptes[i];
		if (fl == MBEC_FL_SHADOW_LEGACY && mode->levels == 2 && (gpte >> 32))
			return -EINVAL;
		/* The raw EPT bits, for bits 5:3 (and 6) of the qualification. */
		raw &= gpte;
		if (!kvm_gpte_present(layout, fl, mode, gpte))
			goto error;
		if (rsvd_set(&rc, gpte, level)) {
			errcode = PFERR_RSVD | PFERR_PRESENT;
			out->misconfig = true;
			goto error;
		}
		acc &= mbec_kvm_gpte_access(layout, fl, gpte);
		if (kvm_gpte_last(level, gpte))
			break;
	}
	out->acc = acc;
	if (!mbec_kvm_permission_fault(perm, pfec, mode->eflags_ac, acc)) {
		out->level = level;
		out->used = i + 1;
		return 0;
	}
	errcode = PFERR_PRESENT;
	goto report;

error:
	out->acc = acc;
report:
	out->fault = true;
	out->level = level;
	out->used = i + 1;
	errcode |= pfec & (PFERR_WRITE | PFERR_USER);
	if (fetch && (ept || mode->efer_nx || mode->cr4_smep ||
		      (kvm_fl_is_npt(fl) && layout == MBEC_LAYOUT_MBEC && mode->gmet)))
		errcode |= PFERR_FETCH;
	if (fl == MBEC_FL_SHADOW_NPT)
		/* The low 32 bits are KVM's, the high ones vmcb02's. */
		errcode |= pfec & ~0xffffffffULL;
	out->error_code = errcode;

	if (ept && !out->misconfig) {
		struct mbec_nested_ept_in in = {
			.op = (pfec & PFERR_FETCH) ? MBEC_OP_FETCH :
			      (pfec & PFERR_WRITE) ? MBEC_OP_WRITE : MBEC_OP_READ,
			.paging_structure = (fault->exit_qual & EPT_VIOL_GVA_IS_VALID) &&
					    !(fault->exit_qual & EPT_VIOL_GVA_TRANSLATED),
			.l1_prot = raw & (EPTE_RWX | EPTE_XU),
			.hw_violation = fault->hw_violation,
			.vmcs02_qual = fault->exit_qual,
			.nested_mbec = mode->mbec,
			.nested_advanced_info = mode->advanced_info,
		};

		out->exit_qual = mbec_kvm_nested_ept_qual(layout, &in);
	}
	return 0;
}
