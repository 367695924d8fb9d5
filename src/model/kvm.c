// SPDX-License-Identifier: GPL-2.0
/*
 * Layer 2 of the reference model: how KVM maps guest permissions.
 *
 * Everything here is computed the way KVM computes it, in KVM's own
 * currency: ACC values composed from guest entries, a permission bitmask
 * precomputed per mode and indexed by error code and ACC, SPTE bits for
 * an ACC value, error codes from exit qualifications.  It never asks
 * layer 1 (arch.c) anything: the tests compare the two, and a shared
 * helper would make them agree by construction.
 *
 * Both ABI layouts are modelled (spec section 4): classic (6.12: 3-bit
 * ACC, EPT R reported as ACC_USER, no MBEC/GMET) and mbec (4-bit ACC with
 * READ and USER_EXEC, MBEC and GMET).  Jon Kohler's series (kohler) is
 * classic with a USER_EXEC bit 3: its ACC values are read, but its MBEC
 * paths are not modelled, so it behaves as classic without MBEC.
 */
#include <errno.h>
#include <string.h>

#include "mbec_model.h"

/* The ACC bits of a layout; 0 where the layout has no such bit. */
struct acc_bits {
	unsigned int read, write, user, uexec, exec, all;
};

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

static const struct acc_bits *bits_of(enum mbec_layout layout)
{
	if (layout == MBEC_LAYOUT_KOHLER)
		return &acc_kohler;
	return layout == MBEC_LAYOUT_MBEC ? &acc_mbec : &acc_classic;
}

/* Kohler's layout follows classic everywhere but in its ACC bits. */
static bool classic_like(enum mbec_layout layout)
{
	return layout == MBEC_LAYOUT_CLASSIC || layout == MBEC_LAYOUT_KOHLER;
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

static bool fl_is_ept(enum mbec_flavour fl)
{
	return fl == MBEC_FL_SHADOW_EPT || fl == MBEC_FL_TDP_EPT;
}

static bool fl_is_npt(enum mbec_flavour fl)
{
	return fl == MBEC_FL_SHADOW_NPT || fl == MBEC_FL_TDP_NPT;
}

bool mbec_kvm_supported(enum mbec_layout layout, enum mbec_flavour fl,
			const struct mbec_mode *mode)
{
	if (!classic_like(layout) && layout != MBEC_LAYOUT_MBEC)
		return false;
	if ((unsigned int)fl >= MBEC_FL_NR || !mode)
		return false;
	if (mode->mmu != mbec_flavour_guest_mmu(fl))
		return false;
	if (mode->mmu == MBEC_MMU_LEGACY ? mode->levels < 2 || mode->levels > 5 :
	    mode->levels != 4 && mode->levels != 5)
		return false;
	if (classic_like(layout) && (mode->mbec || mode->gmet))
		return false;
	/* Classic KVM does not offer advanced EPT-violation info to L1. */
	if (classic_like(layout) && fl == MBEC_FL_SHADOW_EPT && mode->advanced_info)
		return false;
	/* kvm_intel.mbec is forced off without advanced EPT-violation info. */
	if (fl_is_ept(fl) && mode->mbec && !mode->advanced_info)
		return false;
	return true;
}

unsigned int mbec_kvm_acc_all(enum mbec_layout layout)
{
	return bits_of(layout)->all;
}

/* The root role's access: everything, except USER for TDP NPT with GMET. */
static unsigned int root_access(enum mbec_layout layout, enum mbec_flavour fl,
				const struct mbec_mode *mode)
{
	const struct acc_bits *b = bits_of(layout);

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
	const struct acc_bits *b = bits_of(layout);
	unsigned int acc = 0;

	if (fl_is_ept(fl)) {
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

/* KVM's is_present_gpte. */
static bool gpte_present(enum mbec_layout layout, enum mbec_flavour fl,
			 const struct mbec_mode *mode, uint64_t gpte)
{
	if (!fl_is_ept(fl))
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
static bool gpte_last(int level, uint64_t gpte)
{
	return level == 1 || ((level == 2 || level == 3) && (gpte & PTE_PS));
}

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
	if (fl_is_ept(fl)) {
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
	if (mode->levels >= 4 || fl_is_npt(fl)) {
		rc->mask[0][4] |= PTE_PS;
		rc->mask[0][5] |= PTE_PS;
		rc->mask[1][4] = rc->mask[0][4];
		rc->mask[1][5] = rc->mask[0][5];
	}
	if (mode->levels >= 3 || fl_is_npt(fl)) {
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

unsigned int mbec_kvm_compose_acc(enum mbec_layout layout, enum mbec_flavour fl,
				  const struct mbec_mode *mode, const uint64_t *gptes, int n)
{
	unsigned int acc = root_access(layout, fl, mode);
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
		if (!gpte_present(layout, fl, mode, gptes[i]))
			break;
		acc &= mbec_kvm_gpte_access(layout, fl, gptes[i]);
		if (gpte_last(level, gptes[i]))
			break;
	}
	/* XU gives user execute only to an EPT MMU with MBEC (series patch 0008). */
	if (fl == MBEC_FL_SHADOW_EPT && !mode->mbec)
		acc &= ~bits_of(layout)->uexec;
	return acc;
}

unsigned int mbec_kvm_fault_acc(enum mbec_layout layout, enum mbec_flavour fl,
				const struct mbec_mode *mode, unsigned int acc, uint64_t pfec)
{
	const struct acc_bits *b = bits_of(layout);

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
	const struct acc_bits *b = bits_of(layout);
	uint64_t spte = 0;

	if (fl_is_ept(fl)) {
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
	if (classic_like(layout) || (acc & b->read))
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
	const struct acc_bits *b = bits_of(layout);
	unsigned int acc = 0;

	if (fl_is_ept(fl)) {
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
	const struct acc_bits *b = bits_of(layout);

	/* USER_EXEC shares its bit with USER: only EPT without MBEC ignores it. */
	if (fl_is_ept(fl) && layout == MBEC_LAYOUT_MBEC && !mode->mbec)
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

/* ---- the permission bitmask ------------------------------------------------- */

/* Bitmap over ACC values 0..15: bit a set when a & @bit (@bit one of 1, 2, 4, 8). */
static uint16_t acc_with(unsigned int bit)
{
	switch (bit) {
	case 1:
		return 0xaaaa;
	case 2:
		return 0xcccc;
	case 4:
		return 0xf0f0;
	case 8:
		return 0xff00;
	default:
		return 0;
	}
}

/* The CPU-role flags the bitmask is computed from. */
struct perm_role {
	bool ept, mbec, gmet, npt, cr0_wp, smep, smap, nx;
};

static void perm_role_of(enum mbec_layout layout, enum mbec_flavour fl,
			 const struct mbec_mode *mode, struct perm_role *r)
{
	memset(r, 0, sizeof(*r));
	if (fl_is_ept(fl)) {
		r->ept = true;
		r->mbec = layout == MBEC_LAYOUT_MBEC && mode->mbec;
		return;
	}
	r->nx = mode->efer_nx;
	if (fl == MBEC_FL_SHADOW_LEGACY) {
		r->cr0_wp = mode->cr0_wp;
		r->smep = mode->cr4_smep;
		r->smap = mode->cr4_smap;
		return;
	}
	r->npt = true;
	r->gmet = layout == MBEC_LAYOUT_MBEC && mode->gmet;
	if (fl == MBEC_FL_SHADOW_NPT && classic_like(layout)) {
		/*
		 * Classic KVM builds the shadow-NPT role from L1's CR4 and
		 * EFER with CR0 = PG only; every nested access has U set, so
		 * WP, SMEP and SMAP never come into play.
		 */
		r->cr0_wp = false;
		r->smep = mode->cr4_smep;
		r->smap = mode->cr4_smap;
		return;
	}
	/* mbec (and KVM's own NPT): WP forced on, no SMAP, SMEP means GMET. */
	r->cr0_wp = true;
	r->smep = r->gmet;
	r->smap = false;
}

void mbec_kvm_permission_bitmask(enum mbec_layout layout, enum mbec_flavour fl,
				 const struct mbec_mode *mode, uint16_t permissions[16])
{
	const struct acc_bits *b = bits_of(layout);
	uint16_t valid = (uint16_t)((1u << (b->all + 1)) - 1);
	uint16_t r = acc_with(b->read), w = acc_with(b->write), u = acc_with(b->user);
	uint16_t x = acc_with(b->exec), ux = acc_with(b->uexec);
	struct perm_role role;
	unsigned int idx;

	perm_role_of(layout, fl, mode, &role);

	for (idx = 0; idx < 16; idx++) {
		uint64_t pfec = (uint64_t)idx << 1;
		bool pw = pfec & PFERR_WRITE, pu = pfec & PFERR_USER;
		bool pf = pfec & PFERR_FETCH, ovr = pfec & PFERR_RSVD;
		/* Each *f is the set of ACC values that fault for this pfec. */
		uint16_t wf = pw ? (uint16_t)~w : 0;
		uint16_t ff = pf ? (uint16_t)~x : 0;
		uint16_t rf = 0, uf = 0, smepf = 0, smapf = 0;

		/* Only the mbec layout has a READ bit; classic reads cannot fault on it. */
		if (b->read && !pw && !pf)
			rf = (uint16_t)~r;

		if (role.ept) {
			/* Classic: U is how a read was encoded, and USER is R. */
			if (classic_like(layout))
				uf = pu ? (uint16_t)~u : 0;
			/* MBEC: a fetch for a user-mode address needs XU, not XS. */
			if (pf && role.mbec && pu)
				ff = (uint16_t)~ux;
		} else {
			/* Supervisor accesses to user pages (for SMEP/SMAP). */
			uint16_t kf = pu ? 0 : u;

			if (!role.gmet)
				uf = pu ? (uint16_t)~u : 0;
			if (!role.nx)
				ff = 0;
			if (!role.cr0_wp && !pu)
				wf = 0;
			if (role.smep && pf)
				smepf = kf;
			if (role.smap && !pf && !ovr)
				smapf = kf;
		}
		permissions[idx] = (wf | ff | rf | uf | smepf | smapf) & valid;
	}
}

unsigned int mbec_kvm_pfec_index(uint64_t pfec, bool eflags_ac)
{
	/*
	 * SMAP does not apply when EFLAGS.AC is set and the access is
	 * explicit; KVM folds that into the (otherwise unused) RSVD position.
	 */
	bool not_smap = eflags_ac && !(pfec & PFERR_IMPLICIT_ACCESS);
	uint64_t bits = pfec & (PFERR_WRITE | PFERR_USER | PFERR_FETCH);

	if (not_smap)
		bits |= PFERR_RSVD;
	return (unsigned int)(bits >> 1);
}

bool mbec_kvm_permission_fault(const uint16_t permissions[16], uint64_t pfec, bool eflags_ac,
			       unsigned int acc)
{
	return (permissions[mbec_kvm_pfec_index(pfec, eflags_ac)] >> (acc & 0xf)) & 1;
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
	if (classic_like(layout)) {
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

/* ---- roles -------------------------------------------------------------------- */

void mbec_kvm_role_flags(enum mbec_layout layout, enum mbec_flavour fl,
			 const struct mbec_mode *mode, struct mbec_role_flags *out)
{
	bool mb = layout == MBEC_LAYOUT_MBEC;

	memset(out, 0, sizeof(*out));
	out->access = root_access(layout, fl, mode);
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

/* ---- KVM's software walk ---------------------------------------------------- */

void mbec_kvm_fault_for_access(enum mbec_layout layout, enum mbec_flavour fl,
			       const struct mbec_mode *mode, const struct mbec_access *acc,
			       struct mbec_kvm_fault *fault)
{
	bool write = acc->op == MBEC_OP_WRITE, fetch = acc->op == MBEC_OP_FETCH;

	(void)layout;
	memset(fault, 0, sizeof(*fault));
	fault->hw_violation = true;
	if (fl_is_ept(fl)) {
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
	bool ept = fl_is_ept(fl), fetch;
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
	acc = root_access(layout, fl, mode);
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
		if (!gpte_present(layout, fl, mode, gpte))
			goto error;
		if (rsvd_set(&rc, gpte, level)) {
			errcode = PFERR_RSVD | PFERR_PRESENT;
			out->misconfig = true;
			goto error;
		}
		acc &= mbec_kvm_gpte_access(layout, fl, gpte);
		if (gpte_last(level, gpte))
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
		      (fl_is_npt(fl) && layout == MBEC_LAYOUT_MBEC && mode->gmet)))
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
