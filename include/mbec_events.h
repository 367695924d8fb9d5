/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Event records: what the BPF programs (bpf/mbecscope.bpf.c) put in the
 * ring buffer, what src/live hands to src/correlate, and what a recording
 * stores.  One definition for BPF and user space.
 *
 * Rules of the format (version MBEC_EVENTS_VERSION):
 *  - every field has a fixed width and is little-endian (x86 native);
 *  - every record starts with struct mbec_event_hdr; hdr.size is the size
 *    of the whole record in bytes, a multiple of 8, so a reader can skip
 *    a type it does not know;
 *  - padding is explicit and zero; new fields are only ever appended (with
 *    a flag saying they are valid), and a reader accepts a record longer
 *    than the one it knows, and a shorter one down to the type's first
 *    version (mbec_event_min_size), never less;
 *  - values are raw (as the kernel had them): decoding and judging are
 *    user space's business.
 *
 * The tracepoint behind each record type is named next to it.  A record
 * that user space synthesizes (not the kernel) says so.
 */
#ifndef MBEC_EVENTS_H
#define MBEC_EVENTS_H

/*
 * Field types: the kernel's fixed-width types in BPF (vmlinux.h), the
 * <stdint.h> ones in user space, so that printf's PRIx64 fits.
 */
#ifdef __VMLINUX_H__
typedef __u8 mbec_u8;
typedef __u16 mbec_u16;
typedef __u32 mbec_u32;
typedef __s32 mbec_s32;
typedef __u64 mbec_u64;
#else
#include <stdint.h>
typedef uint8_t mbec_u8;
typedef uint16_t mbec_u16;
typedef uint32_t mbec_u32;
typedef int32_t mbec_s32;
typedef uint64_t mbec_u64;
#endif

#define MBEC_EVENTS_VERSION	1

enum mbec_event_type {
	MBEC_EV_NONE = 0,
	MBEC_EV_PAGETABLE_WALK = 1,	/* kvm_mmu_pagetable_walk */
	MBEC_EV_PAGING_ELEMENT = 2,	/* kvm_mmu_paging_element */
	MBEC_EV_WALKER_ERROR = 3,	/* kvm_mmu_walker_error */
	MBEC_EV_SPTE_REQUESTED = 4,	/* kvm_mmu_spte_requested */
	MBEC_EV_SET_SPTE = 5,		/* kvm_mmu_set_spte */
	MBEC_EV_PAGE_FAULT = 6,		/* kvm_page_fault */
	MBEC_EV_EXIT = 7,		/* kvm_exit (EPT violation/misconfig, NPF) */
	MBEC_EV_GET_PAGE = 8,		/* kvm_mmu_get_page */
	MBEC_EV_TDP_SPTE_CHANGED = 9,	/* kvm_tdp_mmu_spte_changed */
	MBEC_EV_FAST_PAGE_FAULT = 10,	/* fast_page_fault */
	MBEC_EV_NESTED_VMEXIT_INJECT = 11, /* kvm_nested_vmexit_inject */
	MBEC_EV_LOST = 12,		/* records lost on hdr.cpu before this one */
	MBEC_EV_GUEST_PTE = 13,		/* user space: a guest entry read from VMM memory */
	MBEC_EV_GUEST_MEM = 14,		/* user space: VMM memory the checker read (recordings) */
	MBEC_EV_MAX
};

/* hdr.vcpu_id when the vCPU is not known (no vCPU seen yet on the thread). */
#define MBEC_VCPU_UNKNOWN	0xffffffffU

struct mbec_event_hdr {
	mbec_u16 type;		/* enum mbec_event_type */
	mbec_u16 size;		/* whole record, bytes, multiple of 8 */
	mbec_u32 cpu;		/* CPU the event fired on */
	mbec_u64 ts_ns;		/* CLOCK_MONOTONIC (bpf_ktime_get_ns) */
	mbec_u32 pid;		/* tgid of the vCPU thread (the VMM process) */
	mbec_u32 tid;		/* the vCPU thread */
	mbec_u32 vm_id;		/* kvm->userspace_pid of the VM; 0 unknown */
	mbec_u32 vcpu_id;		/* kvm_vcpu.vcpu_id; MBEC_VCPU_UNKNOWN */
};

/* kvm_mmu_pagetable_walk(u64 addr, u32 pferr): a guest walk starts. */
struct mbec_ev_walk {
	struct mbec_event_hdr hdr;
	mbec_u64 addr;		/* guest linear (or nested guest physical) address */
	mbec_u32 pferr;		/* access as an error code: 32 bits in the tracepoint */
	mbec_u32 pad;
};

/* kvm_mmu_paging_element(u64 pte, int level): one guest entry of the walk. */
struct mbec_ev_paging_element {
	struct mbec_event_hdr hdr;
	mbec_u64 pte;
	mbec_s32 level;
	mbec_u32 pad;
};

/* kvm_mmu_walker_error(u32 pferr): the guest walk faulted (guest #PF). */
struct mbec_ev_walker_error {
	struct mbec_event_hdr hdr;
	mbec_u32 pferr;
	mbec_u32 pad;
};

/* struct mbec_ev_spte_requested.flags */
#define MBEC_FAULT_PREFETCH	(1U << 0)
#define MBEC_FAULT_EXEC		(1U << 1)
#define MBEC_FAULT_WRITE	(1U << 2)
#define MBEC_FAULT_PRESENT	(1U << 3)
#define MBEC_FAULT_RSVD		(1U << 4)
#define MBEC_FAULT_USER		(1U << 5)
#define MBEC_FAULT_IS_TDP	(1U << 6)
#define MBEC_FAULT_MAP_WRITABLE	(1U << 7)
#define MBEC_FAULT_HUGE_DISALLOWED (1U << 8)
#define MBEC_FAULT_WRITE_TO_SHADOW_PT (1U << 9)	/* write_fault_to_shadow_pgtable */
/*
 * The kernel's fault->error_code is 32 bits (Linux 6.1): bits 32 and up
 * (PFERR_GUEST_FINAL/PAGE, #NPF's EXITINFO1 high bits) never reach it.
 */
#define MBEC_FAULT_EC32		(1U << 10)
/* addr, error_code and flags were derived from other events (ftrace import), not traced */
#define MBEC_FAULT_DERIVED	(1U << 13)
#define MBEC_FAULT_HAS_SLOT	(1U << 14)	/* slot_* are valid */
#define MBEC_FAULT_HAS_ACC	(1U << 15)	/* acc is valid (mbec kernels) */

/* kvm_mmu_spte_requested(struct kvm_page_fault *fault): fields read with CO-RE. */
struct mbec_ev_spte_requested {
	struct mbec_event_hdr hdr;
	mbec_u64 addr;		/* fault->addr (GPA, or GVA on shadow paging) */
	mbec_u64 error_code;	/* fault->error_code, all 64 bits */
	mbec_u64 gfn;
	mbec_u64 pfn;
	mbec_u16 flags;		/* MBEC_FAULT_* */
	mbec_u8 max_level;
	mbec_u8 req_level;
	mbec_u8 goal_level;
	mbec_u8 acc;		/* requested ACC (mbec kernels), when HAS_ACC */
	mbec_u8 pad[2];
	/*
	 * The memslot of the fault (fault->slot), when it has one: where the
	 * guest's memory sits in the VMM (guest entries can be read there).
	 */
	mbec_u64 slot_base_gfn;
	mbec_u64 slot_npages;
	mbec_u64 slot_hva;		/* userspace_addr */
};

/* kvm_mmu_set_spte(int level, gfn_t gfn, u64 *sptep): *sptep read after the write. */
struct mbec_ev_set_spte {
	struct mbec_event_hdr hdr;
	mbec_u64 gfn;
	mbec_u64 spte;		/* the new SPTE */
	mbec_u64 sptep;		/* kernel address of the SPTE: its page is sp->spt */
	mbec_s32 level;
	mbec_u32 pad;
};

/* kvm_page_fault(vcpu, u64 fault_address, u64 error_code). */
struct mbec_ev_page_fault {
	struct mbec_event_hdr hdr;
	mbec_u64 address;		/* GPA (TDP) or CR2 (shadow paging) */
	mbec_u64 error_code;	/* VMX EPT: the raw exit qualification; else PFERR/NPF */
};

/* struct mbec_ev_exit.flags */
#define MBEC_EXIT_HAS_REASON	(1U << 0)	/* reason read from the vendor vCPU */
#define MBEC_EXIT_HAS_INFO	(1U << 1)	/* info1/info2 are valid */
#define MBEC_EXIT_VMX		(1U << 2)
#define MBEC_EXIT_SVM		(1U << 3)
/*
 * VMX: info1 is known to be this exit's qualification.  KVM reads the
 * VMCS field lazily, after kvm_exit, so the copy a probe finds there is
 * an earlier exit's unless something read it first (ftrace's own
 * kvm_exit event does, so text and trace.dat sources may set this).
 * Without it the checker takes the qualification KVM passed to
 * kvm_page_fault.  SVM's VMCB is always current: no flag needed.
 */
#define MBEC_EXIT_INFO1_FRESH	(1U << 4)

/*
 * kvm_exit(struct kvm_vcpu *vcpu, u32 isa): emitted for EPT violation,
 * EPT misconfiguration and #NPF only; the reason and the qualification /
 * EXITINFO come from struct vcpu_vmx / vcpu_svm (CO-RE).  On a kernel
 * without those types exits are only counted.
 */
struct mbec_ev_exit {
	struct mbec_event_hdr hdr;
	mbec_u64 info1;		/* VMX: exit qualification; SVM: EXITINFO1 */
	mbec_u64 info2;		/* VMX: guest-physical address; SVM: EXITINFO2 */
	mbec_u32 reason;		/* VMX basic exit reason or SVM exit code */
	mbec_u32 isa;		/* KVM_ISA_VMX 1, KVM_ISA_SVM 2 */
	mbec_u32 flags;		/* MBEC_EXIT_* */
	mbec_u32 pad;
};

/* struct mbec_ev_get_page.flags */
#define MBEC_SP_CREATED		(1U << 0)
#define MBEC_SP_UNSYNC		(1U << 1)
#define MBEC_SP_TDP_MMU		(1U << 2)
#define MBEC_SP_HAS_CR4_SMEP	(1U << 3)	/* role has cr4_smep (mbec layout) */
#define MBEC_SP_HAS_SMEP_ANDNOT_WP (1U << 4)	/* role has smep_andnot_wp (classic) */
/* Rebuilt from text that does not show CR0.WP, nor so smep/smap_andnot_wp. */
#define MBEC_SP_CR0_WP_UNKNOWN	(1U << 5)

/* kvm_mmu_get_page(struct kvm_mmu_page *sp, bool created). */
struct mbec_ev_get_page {
	struct mbec_event_hdr hdr;
	mbec_u64 sp;		/* kernel address of the shadow page (an id) */
	mbec_u64 spt;		/* kernel address of its table: set_spte's sptep & ~0xfff */
	mbec_u64 gfn;
	mbec_u32 role;		/* kvm_mmu_page_role.word: decode with the BTF layout */
	mbec_u8 access;		/* role.access, read with CO-RE (3 or 4 bits) */
	mbec_u8 smep;		/* role.cr4_smep or role.smep_andnot_wp, see flags */
	mbec_u16 flags;		/* MBEC_SP_* */
	/* Role fields read with CO-RE, so checks need no bit layout. */
	mbec_u8 level;
	mbec_u8 direct;
	mbec_u8 efer_nx;
	mbec_u8 cr0_wp;
	mbec_u8 guest_mode;
	mbec_u8 ad_disabled;
	mbec_u8 has_4_byte_gpte;
	mbec_u8 smap_andnot_wp;
};

/* kvm_tdp_mmu_spte_changed(int as_id, gfn_t gfn, int level, u64 old, u64 new). */
struct mbec_ev_tdp_spte_changed {
	struct mbec_event_hdr hdr;
	mbec_u64 gfn;
	mbec_u64 old_spte;
	mbec_u64 new_spte;
	mbec_s32 as_id;
	mbec_s32 level;
};

/* fast_page_fault(vcpu, fault, u64 *sptep, u64 old_spte, int ret). */
struct mbec_ev_fast_page_fault {
	struct mbec_event_hdr hdr;
	mbec_u64 addr;
	mbec_u64 error_code;
	mbec_u64 old_spte;
	mbec_u64 new_spte;		/* *sptep when the tracepoint fired */
	mbec_u64 sptep;
	mbec_s32 ret;		/* RET_PF_* */
	mbec_u32 pad;
};

/*
 * kvm_nested_vmexit_inject(u32 exit_code, u64 info1, u64 info2, u32 int_info,
 *			    u32 int_info_err, u32 isa).
 */
struct mbec_ev_nested_inject {
	struct mbec_event_hdr hdr;
	mbec_u64 exit_info1;	/* the exit qualification injected into L1 */
	mbec_u64 exit_info2;
	mbec_u32 exit_code;
	mbec_u32 exit_int_info;
	mbec_u32 exit_int_info_err;
	mbec_u32 isa;
};

/*
 * `count` records were lost (ring buffer full) on hdr.cpu before this
 * one.  The BPF side writes it at the first chance after a drop, so it
 * sits where the hole is; any source may write it (a recording reader at
 * a damaged chunk, for instance).
 */
struct mbec_ev_lost {
	struct mbec_event_hdr hdr;
	mbec_u64 count;
};

/*
 * User space: a guest paging entry read from the VMM's memory or known
 * from the guest's own description (the built-in workload), not from a
 * traced walk: it lets an SPTE that KVM installed without a walk
 * (prefetch) be checked fully.  entry_gpa is where the entry sits (a
 * shadow page's gfn * 4096 + index * 8).
 */
struct mbec_ev_guest_pte {
	struct mbec_event_hdr hdr;
	mbec_u64 entry_gpa;
	mbec_u64 va;		/* a linear address it maps, 0 when unknown */
	mbec_u64 pte;
	mbec_s32 level;
	mbec_u32 pad;
};

/*
 * User space, recordings only: 8 bytes of a VMM's memory that the checker
 * read while recording (guest entries behind prefetched SPTEs, through
 * /proc/PID/mem), written just before the record whose feeding made it
 * read them.  Replay answers the same reads from these instead of from a
 * process that is gone; they are not events and are not fed to the engine.
 */
struct mbec_ev_guest_mem {
	struct mbec_event_hdr hdr;	/* hdr.pid: the VMM process */
	mbec_u64 hva;
	mbec_u64 val;
};

/*
 * BPF to src/live only, never in a recording nor given to the engine: a
 * guest walk with its paging elements in one record.  The programs keep a
 * thread's open walk and add kvm_mmu_paging_element entries to it; the
 * thread's next traced event (another walk, its end, the SPTE request, a
 * VM entry...) sends it first, so that one ring buffer record replaces up
 * to 1 + MBEC_WALK_FOLD_MAX.  src/live turns it back into a walk record
 * and nr paging_element records carrying the walk's header (its time,
 * CPU and vCPU), so the stream that follows is the one the tracepoints
 * produced.  The walk and its elements are counted (seen, emitted or
 * dropped) when it is sent; a walk still open when the programs detach
 * is neither sent nor counted.  An element that finds no open walk, or a
 * full one, goes out as a paging_element record of its own.
 */
#define MBEC_EV_WALK_FOLDED	0x8001
#define MBEC_WALK_FOLD_MAX	5	/* a walk visits at most 5 levels */

struct mbec_walk_elem {
	mbec_u64 pte;
	mbec_s32 level;
	mbec_u32 pad;
};

struct mbec_ev_walk_folded {
	struct mbec_event_hdr hdr;	/* of the walk: type MBEC_EV_WALK_FOLDED */
	mbec_u64 addr;
	mbec_u32 pferr;
	mbec_u32 nr;			/* elements used, 0..MBEC_WALK_FOLD_MAX */
	struct mbec_walk_elem elem[MBEC_WALK_FOLD_MAX];
};

/* Per-CPU counters kept by the BPF programs, one slot per event type. */
struct mbec_counter {
	mbec_u64 seen;		/* fired and passed the filters */
	mbec_u64 emitted;		/* written to the ring buffer */
	mbec_u64 dropped;		/* ring buffer full: lost */
	mbec_u64 skipped;		/* deliberately not emitted (uninteresting exits; for watch
					 * and mbectop, TDP changes no rule reads) */
};

#ifndef __bpf__
/* User space helpers (src/correlate/event.c). */
#include <stddef.h>

/* "set_spte", "spte_requested", ...; "?" for an unknown type. */
const char *mbec_event_name(unsigned int type);
/* Smallest size accepted for a type (its first version), 0 for an unknown type. */
size_t mbec_event_min_size(unsigned int type);
/*
 * Check a record's header against the buffer holding it: 0 when it can be
 * read, -1 when it is short, misaligned or claims more than len bytes.
 */
int mbec_event_validate(const void *rec, size_t len);
#endif

#endif /* MBEC_EVENTS_H */
