/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Per-vCPU counters kept in the kernel for mbectop: a BPF hash map
 * (`vm_stats` in bpf/mbecscope.bpf.c) from (VMM pid, vCPU, event type,
 * bucket) to a count.  Counting happens before the ring buffer is asked
 * for room, so the counts stay right when records are dropped.
 *
 * The kernel side only cuts a few raw bits out of the event (the bucket);
 * what they mean (read or fetch, EPT exit qualification or page-fault
 * error code, XS or U) depends on the MMU flavour and is user space's
 * business (src/top/model.c).  A replay computes the same buckets from the
 * records with the same functions, so both sources feed one model.
 *
 * Macros and inline functions only, usable from BPF and user space.
 */
#ifndef MBEC_VMSTATS_H
#define MBEC_VMSTATS_H

#include "mbec_events.h"

/* Size of the hash map: VMs x vCPUs x buckets seen (a few dozen each). */
#define MBEC_VMSTATS_MAX	16384

struct mbec_vmstats_key {
	mbec_u32 pid;		/* tgid of the vCPU thread (the VMM process) */
	mbec_u32 vcpu_id;	/* the vCPU, or MBEC_VMSTATS_TID | thread id (below) */
	mbec_u16 type;		/* PAGE_FAULT, SPTE_REQUESTED, SET_SPTE or WALKER_ERROR */
	mbec_u16 bucket;	/* mbec_vmstats_bucket_*() */
	mbec_u32 pad;		/* zero */
};

/*
 * The vCPU of a thread is learnt from kvm_entry, kvm_exit, kvm_page_fault
 * or fast_page_fault.  Some KVMs fire none of them for a vCPU (a
 * shadow-paging KVM may map every fault without an exit tracepoint): its
 * counts are then kept per vCPU thread, under this flag and the thread id.
 */
#define MBEC_VMSTATS_TID	0x80000000U

static inline mbec_u32 mbec_vmstats_vcpu(mbec_u32 vcpu_id, mbec_u32 tid)
{
	return vcpu_id != MBEC_VCPU_UNKNOWN ? vcpu_id : MBEC_VMSTATS_TID | (tid & 0x7fffffff);
}

/*
 * kvm_page_fault: the low 12 bits of the error code (a PFERR/NPF error
 * code, or the raw EPT exit qualification on VMX: bits 0-11 hold the
 * access, the permissions and the advanced information), and NPF's
 * GUEST_FINAL/GUEST_PAGE (bits 32, 33) in bucket bits 12, 13.
 */
#define MBEC_VMSTATS_PF_FINAL	(1U << 12)
#define MBEC_VMSTATS_PF_PAGE	(1U << 13)

/*
 * kvm_mmu_spte_requested: the same function over KVM's own error code
 * (fault->error_code, PFERR bits on every MMU flavour).
 */
static inline mbec_u16 mbec_vmstats_bucket_pf(mbec_u64 error_code)
{
	return (mbec_u16)((error_code & 0xfff) | (((error_code >> 32) & 3) << 12));
}

/*
 * kvm_mmu_set_spte: the SPTE's permission bits and the level.  Bits 0-2
 * are R/W/X(S) on EPT and P/W/U on legacy and NPT; bit 3 is SPTE bit 10
 * (XU on EPT with MBEC); bit 4 is bit 63 (NX on legacy/NPT); bit 5 is
 * KVM's MMU-present bit 11; bits 8-10 the level (1 4K, 2 2M, 3 1G).
 */
#define MBEC_VMSTATS_SPTE_B0	(1U << 0)
#define MBEC_VMSTATS_SPTE_B1	(1U << 1)
#define MBEC_VMSTATS_SPTE_B2	(1U << 2)
#define MBEC_VMSTATS_SPTE_B10	(1U << 3)
#define MBEC_VMSTATS_SPTE_B63	(1U << 4)
#define MBEC_VMSTATS_SPTE_PRESENT (1U << 5)
#define MBEC_VMSTATS_SPTE_LEVEL_SHIFT 8

static inline mbec_u16 mbec_vmstats_bucket_spte(mbec_u64 spte, mbec_s32 level)
{
	return (mbec_u16)((spte & 7) | (((spte >> 10) & 1) << 3) | (((spte >> 63) & 1) << 4) |
			  (((spte >> 11) & 1) << 5) |
			  (((mbec_u32)level & 7) << MBEC_VMSTATS_SPTE_LEVEL_SHIFT));
}

/* kvm_mmu_walker_error: the guest's own #PF, the low 5 bits of its error code. */
static inline mbec_u16 mbec_vmstats_bucket_walkerr(mbec_u32 pferr)
{
	return (mbec_u16)(pferr & 0x1f);
}

#endif /* MBEC_VMSTATS_H */
