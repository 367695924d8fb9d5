/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the files of layer 2 (the KVM mapping model) share: kvm.c holds the
 * layouts' ACC bits, the flavours, ACC composed from guest entries, SPTEs
 * and role flags; kvm_perm.c the permission bitmask; kvm_walk.c KVM's
 * software walk with its reserved-bit checks and the exit qualifications.
 * Layer 1 (arch.c) must never include this.
 */
#ifndef MBEC_MODEL_KVM_INTERNAL_H
#define MBEC_MODEL_KVM_INTERNAL_H
#include <stdbool.h>
#include <stdint.h>

#include "mbec_model.h"

/* The ACC bits of a layout; 0 where the layout has no such bit. */
struct acc_bits {
	unsigned int read, write, user, uexec, exec, all;
};

const struct acc_bits *kvm_acc_bits(enum mbec_layout layout);

/* Kohler's layout follows classic everywhere but in its ACC bits. */
static inline bool kvm_classic_like(enum mbec_layout layout)
{
	return layout == MBEC_LAYOUT_CLASSIC || layout == MBEC_LAYOUT_KOHLER;
}

static inline bool kvm_fl_is_ept(enum mbec_flavour fl)
{
	return fl == MBEC_FL_SHADOW_EPT || fl == MBEC_FL_TDP_EPT;
}

static inline bool kvm_fl_is_npt(enum mbec_flavour fl)
{
	return fl == MBEC_FL_SHADOW_NPT || fl == MBEC_FL_TDP_NPT;
}

/* The root role's access: everything, except USER for TDP NPT with GMET. */
unsigned int kvm_root_access(enum mbec_layout layout, enum mbec_flavour fl,
			     const struct mbec_mode *mode);
/* KVM's is_present_gpte. */
bool kvm_gpte_present(enum mbec_layout layout, enum mbec_flavour fl,
		      const struct mbec_mode *mode, uint64_t gpte);
/* KVM's is_last_gpte. */
bool kvm_gpte_last(int level, uint64_t gpte);

#endif
