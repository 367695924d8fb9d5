/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The guest as a live run sees it from the host: its memory read through
 * the VMM's /proc/PID/mem (KVM's memslots map GPAs to those addresses),
 * and the built-in workload's page tables as GUEST_PTE records.
 */
#ifndef MBEC_LIVE_GUEST_H
#define MBEC_LIVE_GUEST_H

#include <stdint.h>

#include "mbec_model.h"
#include "workload/workload.h"

/* One open /proc/PID/mem, reopened when the pid changes.  Start with fd = -1. */
struct mbec_vmm_mem {
	uint32_t pid;
	int fd;
};

#define MBEC_VMM_MEM_INIT { .pid = 0, .fd = -1 }

/*
 * Read the 8 bytes at HVA in process PID; 0 or -1.  The signature is the
 * check engine's guest.read_mem, with CTX a struct mbec_vmm_mem.
 */
int mbec_vmm_mem_read(void *ctx, uint32_t pid, uint64_t hva, uint64_t *val);
void mbec_vmm_mem_close(struct mbec_vmm_mem *m);

/*
 * Hand every entry of the workload's page tables to FN as one GUEST_PTE
 * record of process PID (so prefetched SPTEs get checked fully).  Stops at
 * the first nonzero FN and returns -1; 0 when all were taken.
 */
int mbec_feed_guest_ptes(const struct workload_layout *l, uint32_t pid,
			 int (*fn)(void *ctx, const void *rec, size_t len), void *ctx);

/*
 * The CPU mode the workload's guest runs in, from the registers it sets
 * up: the mode its shadow pages' roles must match.  Fields the registers
 * do not give stay 0.
 */
void mbec_workload_mode(const struct workload_layout *l, struct mbec_mode *m);
/*
 * The modes the workload's supervisor passes switch its guest to (CR0.WP,
 * CR4.SMEP/SMAP, EFLAGS.AC changed from @base): shadow pages made while
 * one of them ran carry its role.  How many were written to @out.
 */
unsigned int mbec_workload_alt_modes(const struct mbec_mode *base, struct mbec_mode *out,
				     unsigned int max);

#endif /* MBEC_LIVE_GUEST_H */
