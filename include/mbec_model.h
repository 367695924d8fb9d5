/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The reference permission model (src/model), in two layers that never
 * call each other:
 *
 *  1. the architectural oracle (mbec_arch_*), written from the SDM/APM:
 *     a walk plus an access give an outcome with its error code or exit
 *     qualification;
 *  2. the KVM mapping model (mbec_kvm_*), computed the way KVM computes:
 *     ACC composed from the walk, a permission bitmask per mode indexed by
 *     error code and ACC, the SPTE bits KVM may install for an ACC, exit
 *     qualification -> error code, nested exit-qualification synthesis.
 *
 * Pure C, no dependencies; user space only.
 *
 * DRAFT API: owned by the model work (issue 2); callers adapt to it.
 */
#ifndef MBEC_MODEL_H
#define MBEC_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#include "mbec_kvm.h"

enum mbec_mmu {
	MBEC_MMU_LEGACY,	/* x86 paging of a guest (2/3/4/5-level) */
	MBEC_MMU_EPT,
	MBEC_MMU_NPT,
};

enum mbec_op {
	MBEC_OP_READ,
	MBEC_OP_WRITE,
	MBEC_OP_FETCH,
};

struct mbec_mode {
	enum mbec_mmu mmu;
	int levels;		/* legacy 2, 3 (PAE), 4, 5; EPT/NPT 4 or 5 */
	bool cr0_wp, cr4_smep, cr4_smap, eflags_ac, efer_nx;
	bool mbec;		/* EPT: mode-based execute control */
	bool execonly;		/* EPT: execute-only entries supported */
	bool advanced_info;	/* EPT: advanced EPT-violation info (bits 9-11) */
	bool gmet;		/* NPT: guest mode execute trap */
};

struct mbec_access {
	enum mbec_op op;
	bool user;		/* CPL 3; for EPT the linear address' U bit */
	bool implicit;		/* implicit supervisor access (legacy) */
	bool paging_structure;	/* EPT/NPT: guest paging-structure access */
};

enum mbec_result {
	MBEC_RES_OK,
	MBEC_RES_PAGE_FAULT,	/* legacy #PF, error_code valid */
	MBEC_RES_NPF,		/* #NPF, error_code is EXITINFO1 */
	MBEC_RES_EPT_VIOLATION,	/* exit_qual valid */
	MBEC_RES_EPT_MISCONFIG,
};

struct mbec_outcome {
	enum mbec_result result;
	uint64_t error_code;
	uint64_t exit_qual;
	int level;		/* level of the deciding entry, 1 = 4K leaf */
};

/* Layer 1: walk entries top-down; a PS entry ends the walk. 0 or -EINVAL. */
int mbec_arch_walk(const struct mbec_mode *mode, const uint64_t *entries, int n,
		   const struct mbec_access *acc, struct mbec_outcome *out);

#endif /* MBEC_MODEL_H */
