// SPDX-License-Identifier: GPL-2.0
/*
 * Layer 1 of the reference model: the architectural oracle.
 *
 * Written from the Intel SDM vol. 3 (4.6 access rights, 4.7 page-fault
 * exceptions, 29.3.3 EPT misconfigurations and violations, 28.2.1 exit
 * qualification for EPT violations) and the AMD APM vol. 2 (5.6 page
 * protection, 15.25 nested paging, GMET).  It knows nothing about KVM: no
 * ACC values, no permission bitmask, no SPTEs.  Layer 2 (kvm*.c) must
 * never be used here, and this file must never be used by kvm*.c, or the
 * agreement tests prove nothing.
 */
#include <errno.h>
#include <string.h>

#include "mbec_model.h"

/* The walk state shared by the three formats. */
struct walk {
	int level;		/* level of the entry being looked at */
	int used;
	bool leaf;
};

static void set_result(struct mbec_outcome *out, enum mbec_result res, int level, int used)
{
	out->result = res;
	out->level = level;
	out->used = used;
}

/*
 * Is @pte at @level a leaf (large page)?  Bit 7 is PS at levels 2 and 3
 * (level 3 only with 4/5-level paging, EPT or NPT; 32-bit paging has no
 * level 3), PAT at level 1, and reserved above: that case is reported by
 * the caller before this is asked.
 */
static bool is_large(uint64_t pte, int level)
{
	return (level == 2 || level == 3) && (pte & PTE_PS);
}

/*
 * The address bits below a large page's size must be 0: bits 20:low of a
 * 2M leaf, 29:low of a 1G leaf (low = 13 for legacy/NPT, where bit 12 is
 * PAT; 12 for EPT).  32-bit paging's 4M pages use them for PSE-36 and are
 * not checked.
 */
static uint64_t large_rsvd(int level, int low)
{
	return level == 2 ? MBEC_GENMASK(20, low) : MBEC_GENMASK(29, low);
}

/* ---- legacy paging ---------------------------------------------------- */

static int legacy_walk(const struct mbec_mode *m, const uint64_t *e, int n,
		       const struct mbec_access *acc, struct mbec_outcome *out)
{
	bool write = acc->op == MBEC_OP_WRITE, fetch = acc->op == MBEC_OP_FETCH;
	/* Implicit accesses (descriptor tables...) are supervisor at any CPL. */
	bool user = acc->user && !acc->implicit;
	bool nx_on = m->efer_nx && m->levels >= 3;
	bool rw = true, us = true, nx = false, fault;
	uint64_t ec = 0;
	int level = m->levels, i = 0;

	if (m->levels < 2 || m->levels > 5)
		return -EINVAL;

	/* Bits the error code carries whatever the cause (SDM 4.7). */
	if (write)
		ec |= PFERR_WRITE;
	if (user)
		ec |= PFERR_USER;
	/* I/D is reported only where it can matter: SMEP or NX in effect. */
	if (fetch && (m->cr4_smep || nx_on))
		ec |= PFERR_FETCH;

	for (;; i++, level--) {
		uint64_t pte;

		if (i >= n)
			return -EINVAL;
		pte = e[i];
		if (m->levels == 2 && (pte >> 32))
			return -EINVAL;
		if (!(pte & PTE_P)) {
			out->error_code = ec;
			out->prot = 0;
			set_result(out, MBEC_RES_PAGE_FAULT, level, i + 1);
			return 0;
		}
		if (m->levels == 3 && level == 3) {
			/*
			 * A PAE PDPTE has no access rights; RW, US, PS and NX
			 * are reserved and make MOV CR3 fault with #GP, so no
			 * access can ever see them.
			 */
			if (pte & (PTE_RW | PTE_US | PTE_PS | PTE_NX))
				return -EINVAL;
			continue;
		}
		/*
		 * Reserved bits: NX without EFER.NXE, PS in a PML4E/PML5E.
		 * They fault with P=1 and RSVD=1 whatever the access.
		 */
		if (((pte & PTE_NX) && !nx_on) || (level >= 4 && (pte & PTE_PS))) {
			out->error_code = ec | PFERR_PRESENT | PFERR_RSVD;
			out->prot = PTE_P | (rw ? PTE_RW : 0) | (us ? PTE_US : 0) |
				    (nx ? PTE_NX : 0);
			set_result(out, MBEC_RES_PAGE_FAULT, level, i + 1);
			return 0;
		}
		rw &= !!(pte & PTE_RW);
		us &= !!(pte & PTE_US);
		nx |= !!(pte & PTE_NX);
		if (level == 1 || is_large(pte, level))
			break;
	}
	out->prot = PTE_P | (rw ? PTE_RW : 0) | (us ? PTE_US : 0) | (nx ? PTE_NX : 0);
	if (m->levels >= 3 && level > 1 && (e[i] & large_rsvd(level, 13))) {
		out->error_code = ec | PFERR_PRESENT | PFERR_RSVD;
		set_result(out, MBEC_RES_PAGE_FAULT, level, i + 1);
		return 0;
	}

	/*
	 * SDM 4.6.1.  A page is a user-mode page when every entry has U/S=1;
	 * writable when every entry has R/W=1; execute-disabled when any
	 * entry has XD=1 and NXE is on.
	 */
	if (user) {
		fault = !us || (write && !rw) || (fetch && nx);
	} else if (fetch) {
		/* SMEP: no supervisor fetches from user pages at all. */
		fault = nx || (m->cr4_smep && us);
	} else {
		/*
		 * SMAP: supervisor data accesses to user pages fault unless
		 * explicit with EFLAGS.AC=1.  Writes to read-only pages fault
		 * with CR0.WP=1 (user page or not); with WP=0 they succeed.
		 */
		bool smap = m->cr4_smap && us && (acc->implicit || !m->eflags_ac);

		fault = smap || (write && !rw && m->cr0_wp);
	}
	out->error_code = fault ? ec | PFERR_PRESENT : 0;
	set_result(out, fault ? MBEC_RES_PAGE_FAULT : MBEC_RES_OK, level, i + 1);
	return 0;
}

/* ---- AMD nested paging -------------------------------------------------- */

static int npt_walk(const struct mbec_mode *m, const uint64_t *e, int n,
		    const struct mbec_access *acc, struct mbec_outcome *out)
{
	bool write = acc->op == MBEC_OP_WRITE, fetch = acc->op == MBEC_OP_FETCH;
	bool rw = true, us = true, nx = false, fault;
	uint64_t info = 0;
	int level = m->levels, i = 0;

	if (m->levels != 4 && m->levels != 5)
		return -EINVAL;

	if (write)
		info |= NPF_RW;
	/*
	 * Without GMET every nested access is a user access (APM 15.25.5)
	 * and is reported so.  With GMET, US tells the guest's CPL; guest
	 * paging-structure accesses remain user data accesses.
	 */
	if (!m->gmet || acc->user || acc->paging_structure)
		info |= NPF_US;
	if (fetch && (m->efer_nx || m->cr4_smep || m->gmet))
		info |= NPF_ID;
	info |= acc->paging_structure ? PFERR_GUEST_PAGE : PFERR_GUEST_FINAL;

	for (;; i++, level--) {
		uint64_t pte;

		if (i >= n)
			return -EINVAL;
		pte = e[i];
		if (!(pte & PTE_P)) {
			out->error_code = info;
			out->prot = 0;
			set_result(out, MBEC_RES_NPF, level, i + 1);
			return 0;
		}
		if (((pte & PTE_NX) && !m->efer_nx) || (level >= 4 && (pte & PTE_PS))) {
			out->error_code = info | NPF_P | NPF_RSV;
			out->prot = PTE_P | (rw ? PTE_RW : 0) | (us ? PTE_US : 0) |
				    (nx ? PTE_NX : 0);
			set_result(out, MBEC_RES_NPF, level, i + 1);
			return 0;
		}
		rw &= !!(pte & PTE_RW);
		us &= !!(pte & PTE_US);
		nx |= !!(pte & PTE_NX);
		if (level == 1 || is_large(pte, level))
			break;
	}
	out->prot = PTE_P | (rw ? PTE_RW : 0) | (us ? PTE_US : 0) | (nx ? PTE_NX : 0);
	if (level > 1 && (e[i] & large_rsvd(level, 13))) {
		out->error_code = info | NPF_P | NPF_RSV;
		set_result(out, MBEC_RES_NPF, level, i + 1);
		return 0;
	}

	if (!m->gmet) {
		fault = !us || (write && !rw) || (fetch && nx);
	} else {
		/*
		 * GMET: U/S no longer restricts data accesses; it only makes
		 * a user page non-executable for supervisor-mode fetches (the
		 * nested analogue of SMEP).  User fetches only need !NX.
		 */
		fault = (write && !rw) || (fetch && (nx || (!acc->user && us)));
	}
	out->error_code = fault ? info | NPF_P : 0;
	set_result(out, fault ? MBEC_RES_NPF : MBEC_RES_OK, level, i + 1);
	return 0;
}

/* ---- Intel EPT ---------------------------------------------------------- */

static bool ept_present(const struct mbec_mode *m, uint64_t pte)
{
	return (pte & EPTE_RWX) || (m->mbec && (pte & EPTE_XU));
}

/* SDM 29.3.3.1: the conditions that make a present entry a misconfiguration. */
static bool ept_misconfigured(const struct mbec_mode *m, uint64_t pte, int level, bool leaf)
{
	uint64_t mt = (pte & EPTE_MT_MASK) >> EPTE_MT_SHIFT;

	if ((pte & EPTE_W) && !(pte & EPTE_R))
		return true;
	/* Present without R or W: execute-only (XS and/or XU). */
	if (!(pte & (EPTE_R | EPTE_W)) && !m->execonly)
		return true;
	if (level >= 4 && (pte & EPTE_PS))
		return true;
	/* Non-leaf entries reserve bits 6:3; leaves reserve memory types 2, 3, 7. */
	if (!leaf && (pte & (EPTE_MT_MASK | EPTE_IPAT)))
		return true;
	if (leaf && (mt == 2 || mt == 3 || mt == 7))
		return true;
	if (leaf && level > 1 && (pte & large_rsvd(level, 12)))
		return true;
	return false;
}

static int ept_walk(const struct mbec_mode *m, const uint64_t *e, int n,
		    const struct mbec_access *acc, struct mbec_outcome *out)
{
	bool write = acc->op == MBEC_OP_WRITE, fetch = acc->op == MBEC_OP_FETCH;
	uint64_t prot = EPTE_RWX | EPTE_XU, qual = 0, undef = 0;
	bool fault, present = true;
	int level = m->levels, i = 0;

	if (m->levels != 4 && m->levels != 5)
		return -EINVAL;

	/*
	 * Bits 0-2: the access.  Guest paging-structure accesses that count
	 * as writes (A/D updates) report both read and write (SDM table 28-7).
	 */
	if (write)
		qual |= EPT_VIOL_ACC_WRITE | (acc->paging_structure ? EPT_VIOL_ACC_READ : 0);
	else if (fetch)
		qual |= EPT_VIOL_ACC_INSTR;
	else
		qual |= EPT_VIOL_ACC_READ;
	if (!acc->no_linear) {
		qual |= EPT_VIOL_GVA_IS_VALID;
		if (!acc->paging_structure)
			qual |= EPT_VIOL_GVA_TRANSLATED;
	} else {
		undef |= EPT_VIOL_GVA_TRANSLATED;
	}
	if (m->advanced_info && !acc->no_linear && !acc->paging_structure) {
		if (acc->user)
			qual |= EPT_VIOL_GVA_USER;
		if (acc->gva_writable)
			qual |= EPT_VIOL_GVA_WRITABLE;
		if (acc->gva_nx)
			qual |= EPT_VIOL_GVA_NX;
	} else {
		undef |= EPT_VIOL_ADVANCED;
	}
	if (!m->mbec)
		undef |= EPT_VIOL_PROT_USER_EXEC;

	for (;; i++, level--) {
		uint64_t pte;
		bool leaf;

		if (i >= n)
			return -EINVAL;
		pte = e[i];
		if (!ept_present(m, pte)) {
			present = false;
			break;
		}
		leaf = level == 1 || is_large(pte, level);
		if (ept_misconfigured(m, pte, level, leaf)) {
			out->error_code = 0;
			out->exit_qual = 0;
			out->undefined_mask = 0;
			out->prot = prot & pte;
			set_result(out, MBEC_RES_EPT_MISCONFIG, level, i + 1);
			return 0;
		}
		prot &= pte;
		if (leaf)
			break;
	}
	out->error_code = 0;
	out->undefined_mask = undef;

	if (!present) {
		fault = true;
		prot = 0;	/* "0 if any entry used was not present" */
	} else if (fetch) {
		uint64_t need = !m->mbec ? EPTE_X : acc->user ? EPTE_XU : EPTE_XS;

		fault = !(prot & need);
	} else {
		fault = !(prot & EPTE_R) || (write && !(prot & EPTE_W));
	}
	out->prot = prot;
	if (!fault) {
		out->exit_qual = 0;
		out->undefined_mask = 0;
		set_result(out, MBEC_RES_OK, level, i + 1);
		return 0;
	}
	qual |= (prot & EPTE_RWX) << EPT_VIOL_PROT_SHIFT;
	if (m->mbec && (prot & EPTE_XU))
		qual |= EPT_VIOL_PROT_USER_EXEC;
	out->exit_qual = qual;
	set_result(out, MBEC_RES_EPT_VIOLATION, level, i + 1);
	return 0;
}

int mbec_arch_walk(const struct mbec_mode *mode, const uint64_t *entries, int n,
		   const struct mbec_access *acc, struct mbec_outcome *out)
{
	if (!mode || !entries || !acc || !out || n < 1)
		return -EINVAL;
	if ((unsigned int)acc->op >= MBEC_OP_NR)
		return -EINVAL;
	/* Fetches are explicit, final, and always have a linear address. */
	if (acc->op == MBEC_OP_FETCH &&
	    (acc->implicit || acc->paging_structure || acc->no_linear))
		return -EINVAL;
	/* Guest paging structures are always reached through a linear address. */
	if (acc->paging_structure && acc->no_linear)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	switch (mode->mmu) {
	case MBEC_MMU_LEGACY:
		return legacy_walk(mode, entries, n, acc, out);
	case MBEC_MMU_NPT:
		return npt_walk(mode, entries, n, acc, out);
	case MBEC_MMU_EPT:
		return ept_walk(mode, entries, n, acc, out);
	default:
		return -EINVAL;
	}
}

int mbec_arch_walk_length(const struct mbec_mode *mode, const uint64_t *entries, int n)
{
	/* A plain supervisor read is valid in every mode. */
	struct mbec_access acc = { .op = MBEC_OP_READ };
	struct mbec_outcome out;
	uint64_t walk[5] = { 0 };
	int err;

	if (!mode || !entries || n < 1 || mode->levels < 2 || mode->levels > 5 ||
	    n > mode->levels)
		return -EINVAL;
	/*
	 * Walk the entries followed by not-present ones (0 is not present in
	 * every format): the walk ends where the entries end it, or at the
	 * first padding entry when it would go on.
	 */
	memcpy(walk, entries, n * sizeof(*entries));
	err = mbec_arch_walk(mode, walk, mode->levels, &acc, &out);
	if (err)
		return err;
	return out.used;
}

/* ---- the table for KVM's permission bitmask ------------------------------ */

/* ACC bits of the 4-bit (mbec) layout, as the table speaks them. */
static uint64_t acc_to_entry(const struct mbec_mode *m, unsigned int a)
{
	uint64_t pte = 0;

	if (m->mmu == MBEC_MMU_EPT) {
		if (a & MBEC_ACC_READ)
			pte |= EPTE_R;
		if (a & MBEC_ACC_WRITE)
			pte |= EPTE_W;
		if (a & MBEC_ACC_EXEC)
			pte |= EPTE_XS;
		if (a & MBEC_ACC_USER_EXEC)
			pte |= EPTE_XU;
		return pte;
	}
	if (a & MBEC_ACC_READ)
		pte |= PTE_P;
	if (a & MBEC_ACC_WRITE)
		pte |= PTE_RW;
	if (a & MBEC_ACC_USER)
		pte |= PTE_US;
	/* Without NXE, NX is reserved: such a page cannot be non-executable. */
	if (!(a & MBEC_ACC_EXEC) && m->efer_nx && (m->mmu == MBEC_MMU_NPT || m->levels >= 3))
		pte |= PTE_NX;
	return pte;
}

int mbec_arch_perm_table(const struct mbec_mode *mode, uint16_t out[16], uint16_t care[16])
{
	uint64_t walk[5], upper;
	struct mbec_mode m;
	unsigned int idx, a;
	int i;

	if (!mode || !out || mode->levels < 2 || mode->levels > 5)
		return -EINVAL;
	m = *mode;
	upper = m.mmu == MBEC_MMU_EPT ? EPTE_RWX | EPTE_XU : PTE_P | PTE_RW | PTE_US;
	for (i = 0; i < m.levels - 1; i++)
		walk[i] = upper;
	/* PAE PDPTEs carry P only. */
	if (m.mmu == MBEC_MMU_LEGACY && m.levels == 3)
		walk[0] = PTE_P;

	for (idx = 0; idx < 16; idx++) {
		uint64_t pfec = (uint64_t)idx << 1;
		struct mbec_access acc = { 0 };
		uint16_t bits = 0, ok_mask = 0;

		if ((pfec & PFERR_WRITE) && (pfec & PFERR_FETCH)) {
			out[idx] = 0;
			if (care)
				care[idx] = 0;
			continue;
		}
		acc.op = (pfec & PFERR_FETCH) ? MBEC_OP_FETCH :
			 (pfec & PFERR_WRITE) ? MBEC_OP_WRITE : MBEC_OP_READ;
		acc.user = !!(pfec & PFERR_USER);
		m.eflags_ac = !!(pfec & PFERR_RSVD);

		for (a = 0; a < 16; a++) {
			struct mbec_outcome o;
			bool meaningful = true;
			int err;

			walk[m.levels - 1] = acc_to_entry(&m, a);
			err = mbec_arch_walk(&m, walk, m.levels, &acc, &o);
			if (err)
				return err;
			if (o.result == MBEC_RES_EPT_MISCONFIG)
				meaningful = false;
			if (m.mmu != MBEC_MMU_EPT && !(a & MBEC_ACC_READ))
				meaningful = false;
			if (m.mmu == MBEC_MMU_NPT && !m.gmet && !acc.user)
				meaningful = false;
			if (mbec_outcome_faults(&o))
				bits |= 1u << a;
			if (meaningful)
				ok_mask |= 1u << a;
		}
		out[idx] = bits;
		if (care)
			care[idx] = ok_mask;
	}
	return 0;
}
