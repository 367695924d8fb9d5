// SPDX-License-Identifier: GPL-2.0
/*
 * Layer 2 of the reference model: KVM's permission bitmask.
 *
 * KVM precomputes, per CPU role, which ACC values fault for each error
 * code (mmu->permissions[], indexed by error-code bits 4:1, with RSVD
 * standing for "SMAP does not apply"); this file computes that table the
 * way KVM does and looks an access up in it.  kvm.c has the rest of
 * layer 2's vocabulary (ACC bits, flavours), kvm_walk.c the walk that
 * consults the table.
 */
#include <string.h>

#include "mbec_model.h"
#include "model/kvm_internal.h"

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
	if (kvm_fl_is_ept(fl)) {
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
	if (fl == MBEC_FL_SHADOW_NPT && kvm_classic_like(layout)) {
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
	const struct acc_bits *b = kvm_acc_bits(layout);
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
			if (kvm_classic_like(layout))
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
