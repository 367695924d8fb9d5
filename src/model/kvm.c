// SPDX-License-Identifier: GPL-2.0
/*
 * Layer 2 of the reference model: how KVM maps guest permissions.
 *
 * Everything in layer 2 is computed the way KVM computes it, in KVM's own
 * currency: ACC values composed from guest entries, a permission bitmask
 * precomputed per mode and indexed by error code and ACC, SPTE bits for
 * an ACC value, error codes from exit qualifications.  It never asks
 * layer 1 (arch.c) anything: the tests compare the two, and a shared
 * helper would make them agree by construction.
 *
 * Layer 2 is three files (kvm_internal.h is what they share):
 *  - this one: the layouts' ACC bits, the flavours and which modes KVM
 *    supports in each, ACC composed from guest entries (and the CR0.WP=0
 *    trick), SPTE bits <-> ACC, and the role flags KVM derives;
 *  - kvm_perm.c: the permission bitmask and its lookup;
 *  - kvm_walk.c: KVM's software walk of a faulting access (reserved bits,
 *    the error code it reports) and the exit qualifications, both the
 *    error code KVM derives from one and the one it synthesizes for L1.
 *
 * Both ABI layouts are modelled (spec section 4): classic (6.12: 3-bit
 * ACC, EPT R reported as ACC_USER, no MBEC/GMET) and mbec (4-bit ACC with
 * READ and USER_EXEC, MBEC and GMET).  Jon Kohler's series (kohler) is
 * classic with a USER_EXEC bit 3: its ACC values are read, but its MBEC
 * paths are not modelled, so it behaves as classic without MBEC.
 */
#include <string.h>

#include "mbec_model.h"
#include "model/kvm_internal.h"

static const struct acc_bits acc_classic = {
	.read = 0, .write = CLASSIC_ACC_WRITE, .user = CLASSIC_ACC_USER,
	.uexec = 0, .exec = CLASSIC_ACC_EXEC, .all = CLASSIC_ACC_ALL,
};

static const struct acc_bits acc_mbec = {
	.read = MBEC_ACC_READ, .write = MBEC_ACC_WRITE, .user = MBEC_ACC_USER,
	.uexec = MBEC_ACC_USER_EXEC, .exec = MBEC_ACC_EXEC, .all = MBEC_ACC_ALL,
};

static const struct acc_bits acc_kohler = {
	.read = 0, .write = KOHLER_ACC_WRITE, .user = KOHLER_ACC_USER,
	.uexec = KOHLER_ACC_USER_EXEC, .exec = KOHLER_ACC_EXEC, .all = KOHLER_ACC_ALL,
};

const struct acc_bits *kvm_acc_bits(enum mbec_layout layout)
{
	if (layout == MBEC_LAYOUT_KOHLER)
		return &acc_kohler;
	return layout == MBEC_LAYOUT_MBEC ? &acc_mbec : &acc_classic;
}

static const char *const flavour_names[MBEC_FL_NR] = {
	[MBEC_FL_SHADOW_LEGACY] = "shadow-legacy",
	[MBEC_FL_SHADOW_NPT] = "shadow-npt",
	[MBEC_FL_SHADOW_EPT] = "shadow-ept",
	[MBEC_FL_TDP_EPT] = "tdp-ept",
	[MBEC_FL_TDP_NPT] = "tdp-npt",
};

const char *mbec_flavour_name(enum mbec_flavour fl)
{
	return (unsigned int)fl < MBEC_FL_NR ? flavour_names[fl] : "?";
}

int mbec_flavour_parse(const char *name)
{
	int i;

	for (i = 0; name && i < MBEC_FL_NR; i++)
		if (!strcmp(name, flavour_names[i]))
			return i;
	return -1;
}

const char *mbec_mmu_name(enum mbec_mmu mmu)
{
	switch (mmu) {
	case MBEC_MMU_LEGACY:
		return "legacy";
	case MBEC_MMU_EPT:
		return "ept";
	case MBEC_MMU_NPT:
		return "npt";
	default:
		return "?";
	}
}

enum mbec_mmu mbec_flavour_guest_mmu(enum mbec_flavour fl)
{
	switch (fl) {
	case MBEC_FL_SHADOW_LEGACY:
		return MBEC_MMU_LEGACY;
	case MBEC_FL_SHADOW_NPT:
	case MBEC_FL_TDP_NPT:
		return MBEC_MMU_NPT;
	default:
		return MBEC_MMU_EPT;
	}
}

enum mbec_mmu mbec_flavour_spte_mmu(enum mbec_flavour fl)
{
	return mbec_flavour_guest_mmu(fl);
}

bool mbec_kvm_supported(enum mbec_layout layout, enum mbec_flavour fl,
			const struct mbec_mode *mode)
{
	if (!kvm_classic_like(layout) && layout != MBEC_LAYOUT_MBEC)
		return false;
	if ((unsigned int)fl >= MBEC_FL_NR || !mode)
		return false;
	if (mode->mmu != mbec_flavour_guest_mmu(fl))
		return false;
	if (mode->mmu == MBEC_MMU_LEGACY ? mode->levels < 2 || mode->levels > 5 :
	    mode->levels != 4 && mode->levels != 5)
		return false;
	if (kvm_classic_like(layout) && (mode->mbec || mode->gmet))
		return false;
	/* Classic KVM does not offer advanced EPT-violation info to L1. */
	if (kvm_classic_like(layout) && fl == MBEC_FL_SHADOW_EPT && mode->advanced_info)
		return false;
	/* kvm_intel.mbec is forced off without advanced EPT-violation info. */
	if (kvm_fl_is_ept(fl) && mode->mbec && !mode->advanced_info)
		return false;
	return true;
}

unsigned int mbec_kvm_acc_all(enum mbec_layout layout)
{
	return kvm_acc_bits(layout)->all;
}

unsigned int kvm_root_access(enum mbec_layout layout, enum mbec_flavour fl,
			     const struct mbec_mode *mode)
{
	const struct acc_bits *b = kvm_acc_bits(layout);

	/*
	 * With GMET every NPT SPTE gets U=0, so that supervisor fetches are
	 * not trapped; user fetches and all data accesses are unaffected.
	 */
	if (fl == MBEC_FL_TDP_NPT && mode->gmet)
		return b->all & ~b->user;
	return b->all;
}

unsigned int mbec_kvm_gpte_access(enum mbec_layout layout, enum mbec_flavour fl, uint64_t gpte)
{
	const struct acc_bits *b = kvm_acc_bits(layout);
	unsigned int acc = 0;

	if (kvm_fl_is_ept(fl)) {
		/*
		 * Classic KVM had no READ bit and kept EPT's R in ACC_USER:
		 * an EPT "user" access is a read.
		 */
		if (gpte & EPTE_R)
			acc |= layout == MBEC_LAYOUT_MBEC ? b->read : b->user;
		if (gpte & EPTE_W)
			acc |= b->write;
		if (gpte & EPTE_XS)
			acc |= b->exec;
		if (gpte & EPTE_XU)
			acc |= b->uexec;
		return acc;
	}
	if (gpte & PTE_P)
		acc |= b->read;
	if (gpte & PTE_RW)
		acc |= b->write;
	if (gpte & PTE_US)
		acc |= b->user;
	/* NX is inverted so that EXEC composes by AND like the others. */
	if (!(gpte & PTE_NX))
		acc |= b->exec;
	return acc;
}

bool kvm_gpte_present(enum mbec_layout layout, enum mbec_flavour fl,
		      const struct mbec_mode *mode, uint64_t gpte)
{
	if (!kvm_fl_is_ept(fl))
		return gpte & PTE_P;
	/* With MBEC, an entry granting only user execute is present too. */
	if (layout == MBEC_LAYOUT_MBEC && mode->mbec && (gpte & EPTE_XU))
		return true;
	return gpte & EPTE_RWX;
}

/*
 * KVM's is_last_gpte: level 1 always ends the walk; bit 7 ends it at the
 * levels where it is PS (and is reserved above, which the reserved-bit
 * check catches first).
 */
bool kvm_gpte_last(int level, uint64_t gpte)
{
	return level == 1 || ((level == 2 || level == 3) && (gpte & PTE_PS));
}

unsigned int mbec_kvm_compose_acc(enum mbec_layout layout, enum mbec_flavour fl,
				  const struct mbec_mode *mode, const uint64_t *gptes, int n)
{
	unsigned int acc = kvm_root_access(layout, fl, mode);
	int level, i;

	if (mbec_flavour_is_tdp(fl) || !gptes)
		return acc;
	level = mode->levels;
	i = 0;
	if (fl == MBEC_FL_SHADOW_LEGACY && mode->levels == 3) {
		/* PAE PDPTEs (loaded at MOV CR3) carry presence only. */
		if (n < 1 || !(gptes[0] & PTE_P))
			return acc;
		i = 1;
		level = 2;
	}
	for (; i < n; i++, level--) {
		if (!kvm_gpte_present(layout, fl, mode, gptes[i]))
			break;
		acc &= mbec_kvm_gpte_access(layout, fl, gptes[i]);
		if (kvm_gpte_last(level, gptes[i]))
			break;
	}
	/* XU gives user execute only to an EPT MMU with MBEC (series patch 0008). */
	if (fl == MBEC_FL_SHADOW_EPT && !mode->mbec)
		acc &= ~kvm_acc_bits(layout)->uexec;
	return acc;
}

unsigned int mbec_kvm_fault_acc(enum mbec_layout layout, enum mbec_flavour fl,
				const struct mbec_mode *mode, unsigned int acc, uint64_t pfec)
{
	const struct acc_bits *b = kvm_acc_bits(layout);

	if (fl != MBEC_FL_SHADOW_LEGACY)
		return acc;
	/*
	 * Hardware runs shadow paging with CR0.WP=1.  A supervisor write that
	 * the guest's CR0.WP=0 allows to a read-only page gets a writable
	 * SPTE without U, so user mode still cannot write it; and with SMEP,
	 * without X too, because it is no longer a user page for SMEP.
	 */
	if ((pfec & PFERR_WRITE) && !(acc & b->write) && !mode->cr0_wp && !(pfec & PFERR_USER)) {
		acc |= b->write;
		acc &= ~b->user;
		if (mode->cr4_smep)
			acc &= ~b->exec;
	}
	return acc;
}

/* ---- SPTEs ------------------------------------------------------------------ */

uint64_t mbec_kvm_acc_to_spte(enum mbec_layout layout, enum mbec_flavour fl,
			      const struct mbec_mode *mode, unsigned int acc)
{
	const struct acc_bits *b = kvm_acc_bits(layout);
	uint64_t spte = 0;

	if (kvm_fl_is_ept(fl)) {
		unsigned int rbit = layout == MBEC_LAYOUT_MBEC ? b->read : b->user;

		/*
		 * Without execute-only support KVM's present mask for EPT is
		 * R itself, so every SPTE is readable.
		 */
		if ((acc & rbit) || !mode->execonly)
			spte |= EPTE_R;
		if (acc & b->write)
			spte |= EPTE_W;
		if (acc & b->exec)
			spte |= EPTE_XS;
		if (layout == MBEC_LAYOUT_MBEC) {
			/* KVM's own EPT ties XU to XS: it has no user/supervisor split. */
			if (fl == MBEC_FL_TDP_EPT ? (acc & b->exec) : (acc & b->uexec))
				spte |= EPTE_XU;
		}
		return spte;
	}
	if (kvm_classic_like(layout) || (acc & b->read))
		spte |= PTE_P;
	if (acc & b->write)
		spte |= PTE_RW;
	if (acc & b->user)
		spte |= PTE_US;
	if (!(acc & b->exec))
		spte |= PTE_NX;
	return spte;
}

unsigned int mbec_kvm_spte_to_acc(enum mbec_layout layout, enum mbec_flavour fl, uint64_t spte)
{
	const struct acc_bits *b = kvm_acc_bits(layout);
	unsigned int acc = 0;

	if (kvm_fl_is_ept(fl)) {
		if (spte & EPTE_R)
			acc |= layout == MBEC_LAYOUT_MBEC ? b->read : b->user;
		if (spte & EPTE_W)
			acc |= b->write;
		if (spte & EPTE_XS)
			acc |= b->exec;
		if (spte & EPTE_XU)
			acc |= b->uexec;
		return acc;
	}
	if (!(spte & PTE_P))
		return 0;
	acc |= b->read;
	if (spte & PTE_RW)
		acc |= b->write;
	if (spte & PTE_US)
		acc |= b->user;
	if (!(spte & PTE_NX))
		acc |= b->exec;
	return acc;
}

unsigned int mbec_kvm_acc_honoured(enum mbec_layout layout, enum mbec_flavour fl,
				   const struct mbec_mode *mode)
{
	const struct acc_bits *b = kvm_acc_bits(layout);

	/* USER_EXEC shares its bit with USER: only EPT without MBEC ignores it. */
	if (kvm_fl_is_ept(fl) && layout == MBEC_LAYOUT_MBEC && !mode->mbec)
		return b->all & ~b->uexec;
	if (layout == MBEC_LAYOUT_KOHLER)
		return b->all & ~b->uexec;	/* its MBEC is not modelled */
	return b->all;
}

unsigned int mbec_kvm_acc_escalation(enum mbec_layout layout, enum mbec_flavour fl,
				     const struct mbec_mode *mode, unsigned int allowed,
				     uint64_t spte)
{
	return mbec_kvm_spte_to_acc(layout, fl, spte) & ~allowed &
	       mbec_kvm_acc_honoured(layout, fl, mode);
}

/* ---- roles -------------------------------------------------------------------- */

void mbec_kvm_role_flags(enum mbec_layout layout, enum mbec_flavour fl,
			 const struct mbec_mode *mode, struct mbec_role_flags *out)
{
	bool mb = layout == MBEC_LAYOUT_MBEC;

	memset(out, 0, sizeof(*out));
	out->access = kvm_root_access(layout, fl, mode);
	switch (fl) {
	case MBEC_FL_SHADOW_LEGACY:
		/* KVM may use NX itself for any non-nested shadow MMU. */
		out->efer_nx = true;
		out->cr0_wp = mode->cr0_wp;
		if (mb)
			out->cr4_smep = mode->cr4_smep;
		else
			out->smep_andnot_wp = mode->cr4_smep && !mode->cr0_wp;
		out->smap_andnot_wp = mode->cr4_smap && !mode->cr0_wp;
		break;
	case MBEC_FL_SHADOW_NPT:
		/* Built from L1's EFER and CR4 (?). */
		out->guest_mode = true;
		out->efer_nx = mode->efer_nx;
		if (mb) {
			out->cr0_wp = true;
			out->cr4_smep = mode->gmet;
		} else {
			out->smep_andnot_wp = mode->cr4_smep;
			out->smap_andnot_wp = mode->cr4_smap;
		}
		break;
	case MBEC_FL_SHADOW_EPT:
		/* EPT consumes no CR0/CR4/EFER: those role bits stay 0. */
		out->guest_mode = true;
		if (mb)
			out->cr4_smep = mode->mbec;
		break;
	case MBEC_FL_TDP_EPT:
	case MBEC_FL_TDP_NPT:
		out->direct = true;
		out->cr0_wp = true;
		out->efer_nx = true;
		if (mb)
			out->cr4_smep = fl == MBEC_FL_TDP_EPT ? mode->mbec : mode->gmet;
		break;
	default:
		break;
	}
}
