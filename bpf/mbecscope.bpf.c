// SPDX-License-Identifier: GPL-2.0
/*
 * mbecscope's kernel side: one CO-RE object for every KVM ABI layout.
 *
 * Each tracepoint has two programs, a tp_btf one (preferred: the kernel
 * checks the prototype for us) and a raw_tp one for kernels or sandboxes
 * where tp_btf is refused; src/live enables exactly one of the two, or
 * neither when the tracepoint is missing or its prototype is not the one
 * this file knows.  Both receive the TP_PROTO arguments as an array of
 * u64 and read everything behind a pointer with CO-RE probe reads, so the
 * same body serves both.
 *
 * What differs between layouts is handled here by relocation, never by
 * version checks: the width of role.access and cr4_smep vs smep_andnot_wp
 * (bpf_core_field_exists on ___mbecs flavours), the requested ACC of
 * kvm_mmu_spte_requested (a fault field when it exists, or the extra
 * tracepoint argument that src/live finds in BTF and announces through
 * rodata), and the vendor vCPU structures behind kvm_exit.
 *
 * Every event that passes the filter is counted per CPU whether or not the
 * ring buffer had room, so totals stay right under overload.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#include "mbec_events.h"
#include "mbec_kvm.h"
#include "mbec_vmstats.h"

char LICENSE[] SEC("license") = "GPL";

/* Set by src/live before load. */
const volatile __u32 targ_tgid;		/* 0: every process */
const volatile bool spte_req_acc_arg;	/* spte_requested(fault, acc): 2 arguments */
const volatile bool count_vm_stats;	/* keep vm_stats (mbectop reads it) */
/*
 * watch and mbectop: leave out the TDP MMU changes no rule of the checker
 * can fire on (tdp_change_checked()); check and record get every one.
 */
const volatile bool tdp_checked_only;
/*
 * Tests only: tracepoints (bit i = src/live's tps[i]) whose tp_btf program
 * makes the verifier refuse it, to show the fallback to raw_tp and its
 * reason.  0 in every other use, and then the branch is dead code.
 */
const volatile __u32 test_refuse_btf;

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 8 << 20);
} events SEC(".maps");

/*
 * Wake the reader only once wake_bytes are waiting (set before load: a
 * quarter of the ring buffer, at most 1 MiB).  A wake-up per record costs
 * the vCPU thread an irq_work and takes a core from the guest for the
 * reader - bench/RESULTS.md measured 37% of the fault rate - while the
 * reader drains on its poll timeout anyway (mbec_live_poll).
 */
const volatile __u64 wake_bytes = 1 << 20;

static __always_inline void submit(void *e)
{
	bpf_ringbuf_submit(e, bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) >= wake_bytes ?
			   BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP);
}

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, MBEC_EV_MAX);
	__type(key, __u32);
	__type(value, struct mbec_counter);
} counters SEC(".maps");

/* Records dropped on this CPU and not yet announced by a LOST record. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} lost_pending SEC(".maps");

/*
 * What the programs keep per thread (task storage: it follows the thread
 * from CPU to CPU and goes away with it).  Most MMU tracepoints have no
 * vCPU argument; they fire in the vCPU thread, so the thread remembers the
 * vCPU last seen by kvm_entry, kvm_exit, kvm_page_fault or
 * fast_page_fault.  kvm_entry is generic x86 code and fires for every
 * hypervisor flavour; kvm_exit and kvm_page_fault come from vendor code
 * (some flavours never fire them).  The thread's open guest walk is kept
 * here too, with its paging elements (struct mbec_ev_walk_folded).
 */
struct thread_state {
	__u64 vcpu_ptr;		/* struct kvm_vcpu * the ids below were read from */
	__u32 vm_id;
	__u32 vcpu_id;
	__u32 has_vcpu;
	__u32 open;		/* walk holds a walk not sent yet */
	struct mbec_ev_walk_folded walk;
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct thread_state);
} threads SEC(".maps");

/*
 * Per-vCPU counts for mbectop (include/mbec_vmstats.h): faults (as exits
 * and as KVM maps them), SPTE installs and guest #PFs by a few raw bits, kept whether or not the ring
 * buffer has room.  A plain hash with atomic adds: a vCPU runs on one CPU
 * at a time, so the adds barely contend, and user space reads one value
 * per key.  Preallocated (16K entries, about 1.3 MiB) so that an insert
 * never allocates in the tracepoint; when it is full new keys are counted
 * in vm_stats_full instead, and user space says so.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MBEC_VMSTATS_MAX);
	__type(key, struct mbec_vmstats_key);
	__type(value, __u64);
} vm_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} vm_stats_full SEC(".maps");

/* ---- CO-RE flavours --------------------------------------------------- */

/* The role: 3-bit access and smep_andnot_wp (classic), 4 bits and cr4_smep (mbec). */
union kvm_mmu_page_role___mbecs {
	__u32 word;
	struct {
		unsigned int level:4;
		unsigned int has_4_byte_gpte:1;
		unsigned int direct:1;
		unsigned int access:4;
		unsigned int efer_nx:1;
		unsigned int cr0_wp:1;
		unsigned int cr4_smep:1;
		unsigned int smep_andnot_wp:1;
		unsigned int smap_andnot_wp:1;
		unsigned int ad_disabled:1;
		unsigned int guest_mode:1;
	};
} __attribute__((preserve_access_index));

struct kvm_mmu_page___mbecs {
	bool tdp_mmu_page;
	union kvm_mmu_page_role___mbecs role;
} __attribute__((preserve_access_index));

/* mbec kernels may carry the requested ACC in the fault itself. */
struct kvm_page_fault___mbecs {
	unsigned int access;
} __attribute__((preserve_access_index));

struct kvm___mbecs {
	int userspace_pid;
} __attribute__((preserve_access_index));

/* Vendor vCPU structures (absent from a kernel built without VMX/SVM). */
union vmx_exit_reason___mbecs {
	__u32 full;
} __attribute__((preserve_access_index));

struct vcpu_vmx___mbecs {
	struct kvm_vcpu vcpu;
	union vmx_exit_reason___mbecs exit_reason;
	unsigned long exit_qualification;
} __attribute__((preserve_access_index));

/* 6.15+: exit information moved to the VMX/TDX common part. */
struct vcpu_vt___mbecs {
	union vmx_exit_reason___mbecs exit_reason;
	unsigned long exit_qualification;
} __attribute__((preserve_access_index));

struct vcpu_vmx___mbecs_vt {
	struct kvm_vcpu vcpu;
	struct vcpu_vt___mbecs vt;
} __attribute__((preserve_access_index));

struct vmcb_control_area___mbecs {
	__u32 exit_code;
	__u64 exit_info_1;
	__u64 exit_info_2;
} __attribute__((preserve_access_index));

struct vmcb___mbecs {
	struct vmcb_control_area___mbecs control;
} __attribute__((preserve_access_index));

struct vcpu_svm___mbecs {
	struct kvm_vcpu vcpu;
	struct vmcb___mbecs *vmcb;
} __attribute__((preserve_access_index));

#define KVM_ISA_VMX		1
#define KVM_ISA_SVM		2
#define VMX_EXIT_EPT_VIOLATION	48
#define VMX_EXIT_EPT_MISCONFIG	49
#define SVM_EXIT_NPF_CODE	0x400

/* ---- common ------------------------------------------------------------ */

/*
 * Every handler starts here: the filter, then the thread's state (NULL
 * when task storage cannot be had: then nothing is folded and the vCPU is
 * unknown), and the thread's open walk goes out before anything the
 * thread traces next, so that records keep the tracepoints' order.
 */
struct ctx {
	__u64 id;			/* bpf_get_current_pid_tgid() */
	struct thread_state *st;
};

static __always_inline struct mbec_counter *counter(__u32 type)
{
	return bpf_map_lookup_elem(&counters, &type);
}

static __always_inline void count_skipped(__u32 type)
{
	struct mbec_counter *c = counter(type);

	if (c) {
		c->seen++;
		c->skipped++;
	}
}

static __always_inline void fill_hdr(struct mbec_event_hdr *h, const struct ctx *x,
				     __u32 type, __u32 size)
{
	h->type = type;
	h->size = size;
	h->cpu = bpf_get_smp_processor_id();
	h->ts_ns = bpf_ktime_get_ns();
	h->pid = x->id >> 32;
	h->tid = (__u32)x->id;
	if (x->st && x->st->has_vcpu) {
		h->vm_id = x->st->vm_id;
		h->vcpu_id = x->st->vcpu_id;
	} else {
		h->vcpu_id = MBEC_VCPU_UNKNOWN;
	}
}

/*
 * Records this CPU could not write are announced, as soon as there is
 * room again, by a LOST record at that place in the stream: the reader
 * knows which of its transactions and shadow pages to distrust.
 */
static __always_inline void flush_lost(const struct ctx *x)
{
	struct mbec_counter *c;
	struct mbec_ev_lost *l;
	__u32 zero = 0;
	__u64 *pending = bpf_map_lookup_elem(&lost_pending, &zero);

	if (!pending || !*pending)
		return;
	l = bpf_ringbuf_reserve(&events, sizeof(*l), 0);
	if (!l)
		return;
	__builtin_memset(l, 0, sizeof(*l));
	fill_hdr(&l->hdr, x, MBEC_EV_LOST, sizeof(*l));
	l->count = *pending;
	*pending = 0;
	c = counter(MBEC_EV_LOST);
	if (c) {
		c->seen++;
		c->emitted++;
	}
	submit(l);
}

static __always_inline void count_lost(__u64 n)
{
	__u32 zero = 0;
	__u64 *pending = bpf_map_lookup_elem(&lost_pending, &zero);

	if (pending)
		*pending += n;
}

/* Reserve and fill the header; NULL (and counted) when the buffer is full. */
static __always_inline void *ev_reserve(const struct ctx *x, __u32 type, __u32 size)
{
	struct mbec_counter *c = counter(type);
	struct mbec_event_hdr *h;

	if (c)
		c->seen++;
	flush_lost(x);
	h = bpf_ringbuf_reserve(&events, size, 0);
	if (!h) {
		if (c)
			c->dropped++;
		count_lost(1);
		return NULL;
	}
	if (c)
		c->emitted++;
	__builtin_memset(h, 0, size);
	fill_hdr(h, x, type, size);
	return h;
}

/* Send the thread's open walk with its elements: one record for all. */
static __always_inline void send_walk(const struct ctx *x)
{
	struct mbec_counter *cw = counter(MBEC_EV_PAGETABLE_WALK);
	struct mbec_counter *ce = counter(MBEC_EV_PAGING_ELEMENT);
	struct thread_state *st = x->st;
	struct mbec_ev_walk_folded *e;
	__u32 nr;

	if (!st)
		return;
	st->open = 0;
	nr = st->walk.nr;
	if (nr > MBEC_WALK_FOLD_MAX)
		nr = MBEC_WALK_FOLD_MAX;
	if (cw)
		cw->seen++;
	if (ce)
		ce->seen += nr;
	flush_lost(x);
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e) {
		if (cw)
			cw->dropped++;
		if (ce)
			ce->dropped += nr;
		count_lost(1 + nr);
		return;
	}
	__builtin_memcpy(e, &st->walk, sizeof(*e));
	submit(e);
	if (cw)
		cw->emitted++;
	if (ce)
		ce->emitted += nr;
}

/*
 * The filter, the first thing every program does after its NULL checks:
 * false for a process this run does not watch, which leaves before any
 * map, task storage or kernel memory is touched.
 */
static __always_inline bool wanted(struct ctx *x)
{
	x->id = bpf_get_current_pid_tgid();
	return !targ_tgid || (x->id >> 32) == targ_tgid;
}

static __always_inline void load_thread(struct ctx *x)
{
	x->st = bpf_task_storage_get(&threads, bpf_get_current_task_btf(), 0,
				     BPF_LOCAL_STORAGE_GET_F_CREATE);
}

/* Before a record goes out: the thread's open walk goes first. */
static __always_inline void flush_walk(const struct ctx *x)
{
	if (x->st && x->st->open)
		send_walk(x);
}

/* The filter and the thread's state; false: not this tool's process. */
static __always_inline bool thread_of(struct ctx *x)
{
	if (!wanted(x))
		return false;
	load_thread(x);
	return true;
}

/* thread_of(), then the thread's open walk goes out first. */
static __always_inline bool enter(struct ctx *x)
{
	if (!thread_of(x))
		return false;
	flush_walk(x);
	return true;
}

/*
 * For tdp_checked_only: may the checker fire on a TDP MMU change to
 * new_spte?  src/check/format.c reads a change through the format rule of
 * the new SPTE, which looks at MMU-present SPTEs only, but for one
 * non-present value (the classic frozen SPTE, wrong on an MBEC kernel),
 * and through the access-track rule, which needs the new SPTE present.  So
 * a change to a non-present SPTE other than that value never makes an
 * anomaly: zaps, and the frozen entries of page tables being freed, which
 * on a TDP MMU are most of these events.  The kernel's copy of that part
 * of the model; tests/unit/test_live_filter.c runs it against the checker
 * on every combination of the bits either reads.
 */
static __always_inline bool tdp_change_checked(__u64 new_spte)
{
	return (new_spte & SPTE_MMU_PRESENT) ||
	       (new_spte & ~SPTE_SHADOW_NONPRESENT) == CLASSIC_FROZEN_SPTE_BITS;
}

/* Count one event of the current VMM thread's vCPU in vm_stats. */
static __always_inline void vm_count(const struct ctx *x, __u16 type, __u16 bucket)
{
	struct mbec_vmstats_key k = {};
	__u64 one = 1, *v;
	__u32 zero = 0;

	/* Two hash lookups a fault that only mbectop reads: the others skip them. */
	if (!count_vm_stats)
		return;
	k.pid = x->id >> 32;
	k.vcpu_id = mbec_vmstats_vcpu(x->st && x->st->has_vcpu ? x->st->vcpu_id :
				      MBEC_VCPU_UNKNOWN, (__u32)x->id);
	k.type = type;
	k.bucket = bucket;
	v = bpf_map_lookup_elem(&vm_stats, &k);
	if (v) {
		__sync_fetch_and_add(v, 1);
		return;
	}
	/* EEXIST: another CPU inserted the key first; add to its value. */
	if (bpf_map_update_elem(&vm_stats, &k, &one, BPF_NOEXIST)) {
		v = bpf_map_lookup_elem(&vm_stats, &k);
		if (v) {
			__sync_fetch_and_add(v, 1);
		} else {
			v = bpf_map_lookup_elem(&vm_stats_full, &zero);
			if (v)
				(*v)++;
		}
	}
}

/*
 * Read a field of a kernel structure: directly in tp_btf programs, where
 * the verifier knows the argument's type (a plain load, no helper call),
 * with a CO-RE probe read in raw_tp ones.  btf is a constant in each
 * program, so only one of the two is compiled in.
 */
#define RD(btf, p, f)	((btf) ? (p)->f : BPF_CORE_READ(p, f))

/*
 * An unsigned integer field whose width differs between kernels
 * (kvm_page_fault.error_code is a u32 in 6.1 and a u64 later; the level
 * fields went from int to u8): read as many bytes as the running kernel's
 * field has (CO-RE field size and offset), zero-extended.  A direct load
 * in tp_btf programs (libbpf patches the load's width), a probed read of
 * the relocated size in raw_tp ones, never 8 bytes of a 4-byte field.
 */
#define RDU(btf, p, f)	((btf) ? (__u64)(p)->f : (__u64)BPF_CORE_READ_BITFIELD_PROBED(p, f))

static __always_inline void note_vcpu(const struct ctx *x, struct kvm_vcpu *vcpu)
{
	struct thread_state *st = x->st;
	struct kvm___mbecs *kvm;

	if (!vcpu || !st || (st->has_vcpu && st->vcpu_ptr == (__u64)vcpu))
		return;
	st->vcpu_ptr = (__u64)vcpu;
	st->vcpu_id = BPF_CORE_READ(vcpu, vcpu_id);
	st->vm_id = 0;
	kvm = (void *)BPF_CORE_READ(vcpu, kvm);
	if (kvm && bpf_core_field_exists(kvm->userspace_pid))
		st->vm_id = BPF_CORE_READ(kvm, userspace_pid);
	st->has_vcpu = 1;
}

/* ---- handlers (args: the TP_PROTO arguments) ------------------------- */

static __always_inline int do_walk(__u64 *args, const bool btf)
{
	struct mbec_ev_walk *e;
	struct thread_state *st;
	struct ctx x;

	if (!enter(&x))
		return 0;
	st = x.st;
	if (st) {
		/* Kept until the thread's next event: see struct mbec_ev_walk_folded. */
		fill_hdr(&st->walk.hdr, &x, MBEC_EV_WALK_FOLDED, sizeof(st->walk));
		st->walk.addr = args[0];
		st->walk.pferr = (__u32)args[1];
		st->walk.nr = 0;
		st->open = 1;
		return 0;
	}
	e = ev_reserve(&x, MBEC_EV_PAGETABLE_WALK, sizeof(*e));
	if (!e)
		return 0;
	e->addr = args[0];
	e->pferr = (__u32)args[1];
	submit(e);
	return 0;
}

static __always_inline int do_pelem(__u64 *args, const bool btf)
{
	struct mbec_ev_paging_element *e;
	struct thread_state *st;
	struct ctx x;
	__u32 i;

	if (!thread_of(&x))
		return 0;
	st = x.st;
	if (st && st->open) {
		/* The hot path: add to the open walk without sending it. */
		i = st->walk.nr;
		if (i < MBEC_WALK_FOLD_MAX) {
			st->walk.elem[i].pte = args[0];
			st->walk.elem[i].level = (int)args[1];
			st->walk.nr = i + 1;
			return 0;
		}
		send_walk(&x);	/* full: it goes out, this element on its own */
	}
	e = ev_reserve(&x, MBEC_EV_PAGING_ELEMENT, sizeof(*e));
	if (!e)
		return 0;
	e->pte = args[0];
	e->level = (int)args[1];
	submit(e);
	return 0;
}

static __always_inline int do_walkerr(__u64 *args, const bool btf)
{
	struct mbec_ev_walker_error *e;
	struct ctx x;

	if (!enter(&x))
		return 0;
	vm_count(&x, MBEC_EV_WALKER_ERROR, mbec_vmstats_bucket_walkerr((__u32)args[0]));
	e = ev_reserve(&x, MBEC_EV_WALKER_ERROR, sizeof(*e));
	if (!e)
		return 0;
	e->pferr = (__u32)args[0];
	submit(e);
	return 0;
}

static __always_inline int do_sptereq(__u64 *args, const bool btf)
{
	struct kvm_page_fault *f = (void *)args[0];
	struct kvm_page_fault___mbecs *fm = (void *)f;
	struct mbec_ev_spte_requested *e;
	struct kvm_memory_slot *slot;
	__u16 flags = 0;
	__u64 error_code;
	struct ctx x;

	/* Module tracepoints' pointer arguments may be NULL for the verifier. */
	if (!f || !enter(&x))
		return 0;
	error_code = RDU(btf, f, error_code);
	vm_count(&x, MBEC_EV_SPTE_REQUESTED, mbec_vmstats_bucket_pf(error_code));
	e = ev_reserve(&x, MBEC_EV_SPTE_REQUESTED, sizeof(*e));
	if (!e)
		return 0;
	e->addr = RDU(btf, f, addr);
	e->error_code = error_code;
	/* Bits 32 and up of the error code cannot reach a 32-bit field. */
	if (bpf_core_field_size(f->error_code) < 8)
		flags |= MBEC_FAULT_EC32;
	e->gfn = RDU(btf, f, gfn);
	e->pfn = RDU(btf, f, pfn);
	if (RD(btf, f, prefetch))
		flags |= MBEC_FAULT_PREFETCH;
	if (RD(btf, f, exec))
		flags |= MBEC_FAULT_EXEC;
	if (RD(btf, f, write))
		flags |= MBEC_FAULT_WRITE;
	if (RD(btf, f, present))
		flags |= MBEC_FAULT_PRESENT;
	if (RD(btf, f, rsvd))
		flags |= MBEC_FAULT_RSVD;
	if (RD(btf, f, user))
		flags |= MBEC_FAULT_USER;
	if (RD(btf, f, is_tdp))
		flags |= MBEC_FAULT_IS_TDP;
	if (RD(btf, f, map_writable))
		flags |= MBEC_FAULT_MAP_WRITABLE;
	if (RD(btf, f, huge_page_disallowed))
		flags |= MBEC_FAULT_HUGE_DISALLOWED;
	if (bpf_core_field_exists(f->write_fault_to_shadow_pgtable) &&
	    RD(btf, f, write_fault_to_shadow_pgtable))
		flags |= MBEC_FAULT_WRITE_TO_SHADOW_PT;
	e->max_level = RDU(btf, f, max_level);
	e->req_level = RDU(btf, f, req_level);
	e->goal_level = RDU(btf, f, goal_level);
	if (spte_req_acc_arg) {
		e->acc = (__u8)args[1];
		flags |= MBEC_FAULT_HAS_ACC;
	} else if (bpf_core_field_exists(fm->access)) {
		e->acc = (__u8)RD(btf, fm, access);
		flags |= MBEC_FAULT_HAS_ACC;
	}
	slot = RD(btf, f, slot);
	if (slot) {
		e->slot_base_gfn = RD(btf, slot, base_gfn);
		e->slot_npages = RD(btf, slot, npages);
		e->slot_hva = RD(btf, slot, userspace_addr);
		flags |= MBEC_FAULT_HAS_SLOT;
	}
	e->flags = flags;
	submit(e);
	return 0;
}

static __always_inline int do_setspte(__u64 *args, const bool btf)
{
	struct mbec_ev_set_spte *e;
	__u64 *sptep = (void *)args[2];
	__u64 spte = 0;
	struct ctx x;

	if (!sptep || !enter(&x))
		return 0;
	bpf_probe_read_kernel(&spte, sizeof(spte), sptep);
	vm_count(&x, MBEC_EV_SET_SPTE, mbec_vmstats_bucket_spte(spte, (int)args[0]));
	e = ev_reserve(&x, MBEC_EV_SET_SPTE, sizeof(*e));
	if (!e)
		return 0;
	e->level = (int)args[0];
	e->gfn = args[1];
	e->sptep = (__u64)sptep;
	e->spte = spte;
	submit(e);
	return 0;
}

static __always_inline int do_pf(__u64 *args, const bool btf)
{
	struct mbec_ev_page_fault *e;
	struct ctx x;

	if (!enter(&x))
		return 0;
	note_vcpu(&x, (void *)args[0]);
	vm_count(&x, MBEC_EV_PAGE_FAULT, mbec_vmstats_bucket_pf(args[2]));
	e = ev_reserve(&x, MBEC_EV_PAGE_FAULT, sizeof(*e));
	if (!e)
		return 0;
	e->address = args[1];
	e->error_code = args[2];
	submit(e);
	return 0;
}

/*
 * VMX reads the exit qualification from the VMCS lazily, when a handler
 * asks for it (after kvm_exit), and marks it available in
 * vcpu->arch.regs_avail; the copy in struct vcpu_vmx is the previous
 * exit's until then.  True when this exit's value has been read (another
 * probe on kvm_exit, ftrace's, asked first), false when it cannot be told.
 */
static __always_inline bool vmx_exit_qual_fresh(struct kvm_vcpu *vcpu)
{
	__u64 avail;
	int bit;

	if (!bpf_core_enum_value_exists(enum kvm_reg, VCPU_EXREG_EXIT_INFO_1))
		return false;
	bit = bpf_core_enum_value(enum kvm_reg, VCPU_EXREG_EXIT_INFO_1);
	avail = BPF_CORE_READ_BITFIELD_PROBED(vcpu, arch.regs_avail);
	return bit >= 0 && bit < 64 && ((avail >> bit) & 1);
}

static __always_inline int do_exit(__u64 *args, const bool btf)
{
	struct kvm_vcpu *vcpu = (void *)args[0];
	__u32 isa = (__u32)args[1], reason = 0, flags = 0;
	__u64 info1 = 0, info2 = 0;
	struct mbec_ev_exit *e;
	struct ctx x;

	if (!vcpu || !thread_of(&x))
		return 0;
	note_vcpu(&x, vcpu);
	if (isa == KVM_ISA_VMX && bpf_core_type_exists(struct vcpu_vmx___mbecs_vt) &&
	    bpf_core_field_exists(((struct vcpu_vmx___mbecs_vt *)0)->vt)) {
		struct vcpu_vmx___mbecs_vt *vmx = (void *)vcpu;

		reason = BPF_CORE_READ(vmx, vt.exit_reason.full) & 0xffff;
		info1 = BPF_CORE_READ(vmx, vt.exit_qualification);
		flags = MBEC_EXIT_HAS_REASON | MBEC_EXIT_HAS_INFO | MBEC_EXIT_VMX;
	} else if (isa == KVM_ISA_VMX && bpf_core_type_exists(struct vcpu_vmx___mbecs) &&
		   bpf_core_field_exists(((struct vcpu_vmx___mbecs *)0)->exit_qualification)) {
		struct vcpu_vmx___mbecs *vmx = (void *)vcpu;

		reason = BPF_CORE_READ(vmx, exit_reason.full) & 0xffff;
		info1 = BPF_CORE_READ(vmx, exit_qualification);
		flags = MBEC_EXIT_HAS_REASON | MBEC_EXIT_HAS_INFO | MBEC_EXIT_VMX;
	} else if (isa == KVM_ISA_SVM && bpf_core_type_exists(struct vcpu_svm___mbecs)) {
		struct vcpu_svm___mbecs *svm = (void *)vcpu;

		reason = BPF_CORE_READ(svm, vmcb, control.exit_code);
		info1 = BPF_CORE_READ(svm, vmcb, control.exit_info_1);
		info2 = BPF_CORE_READ(svm, vmcb, control.exit_info_2);
		flags = MBEC_EXIT_HAS_REASON | MBEC_EXIT_HAS_INFO | MBEC_EXIT_SVM;
	}
	if (!(flags & MBEC_EXIT_HAS_REASON) ||
	    !((flags & MBEC_EXIT_VMX && (reason == VMX_EXIT_EPT_VIOLATION ||
					   reason == VMX_EXIT_EPT_MISCONFIG)) ||
	      (flags & MBEC_EXIT_SVM && reason == SVM_EXIT_NPF_CODE))) {
		count_skipped(MBEC_EV_EXIT);
		return 0;
	}
	/* Only for the exits that go out: one more probe read each. */
	if ((flags & MBEC_EXIT_VMX) && vmx_exit_qual_fresh(vcpu))
		flags |= MBEC_EXIT_INFO1_FRESH;
	flush_walk(&x);
	e = ev_reserve(&x, MBEC_EV_EXIT, sizeof(*e));
	if (!e)
		return 0;
	e->reason = reason;
	e->isa = isa;
	e->info1 = info1;
	e->info2 = info2;
	e->flags = flags;
	submit(e);
	return 0;
}

static __always_inline int do_entry(__u64 *args, const bool btf)
{
	struct ctx x;

	if (!enter(&x))
		return 0;
	note_vcpu(&x, (void *)args[0]);
	return 0;
}

static __always_inline int do_getpage(__u64 *args, const bool btf)
{
	struct kvm_mmu_page___mbecs *sp = (void *)args[0];
	struct kvm_mmu_page *ksp = (void *)args[0];
	union kvm_mmu_page_role___mbecs role;
	struct mbec_ev_get_page *e;
	__u16 flags = 0;
	struct ctx x;

	if (!ksp || !enter(&x))
		return 0;
	e = ev_reserve(&x, MBEC_EV_GET_PAGE, sizeof(*e));
	if (!e)
		return 0;
	e->sp = (__u64)ksp;
	e->spt = (__u64)BPF_CORE_READ(ksp, spt);
	e->gfn = BPF_CORE_READ(ksp, gfn);
	/*
	 * The role word is copied to the stack first, then its bitfields are
	 * extracted with the target kernel's offsets and widths (CO-RE).
	 */
	role.word = BPF_CORE_READ(sp, role.word);
	e->role = role.word;
	e->access = BPF_CORE_READ_BITFIELD(&role, access);
	e->level = BPF_CORE_READ_BITFIELD(&role, level);
	e->direct = BPF_CORE_READ_BITFIELD(&role, direct);
	e->efer_nx = BPF_CORE_READ_BITFIELD(&role, efer_nx);
	e->cr0_wp = BPF_CORE_READ_BITFIELD(&role, cr0_wp);
	e->guest_mode = BPF_CORE_READ_BITFIELD(&role, guest_mode);
	e->ad_disabled = BPF_CORE_READ_BITFIELD(&role, ad_disabled);
	e->has_4_byte_gpte = BPF_CORE_READ_BITFIELD(&role, has_4_byte_gpte);
	e->smap_andnot_wp = BPF_CORE_READ_BITFIELD(&role, smap_andnot_wp);
	if (bpf_core_field_exists(role.cr4_smep)) {
		e->smep = BPF_CORE_READ_BITFIELD(&role, cr4_smep);
		flags |= MBEC_SP_HAS_CR4_SMEP;
	} else if (bpf_core_field_exists(role.smep_andnot_wp)) {
		e->smep = BPF_CORE_READ_BITFIELD(&role, smep_andnot_wp);
		flags |= MBEC_SP_HAS_SMEP_ANDNOT_WP;
	}
	if (args[1] & 0xff)
		flags |= MBEC_SP_CREATED;
	if (BPF_CORE_READ(ksp, unsync))
		flags |= MBEC_SP_UNSYNC;
	if (bpf_core_field_exists(sp->tdp_mmu_page) && BPF_CORE_READ(sp, tdp_mmu_page))
		flags |= MBEC_SP_TDP_MMU;
	e->flags = flags;
	submit(e);
	return 0;
}

static __always_inline int do_tdpchg(__u64 *args, const bool btf)
{
	struct mbec_ev_tdp_spte_changed *e;
	struct ctx x;

	if (!wanted(&x))
		return 0;
	if (tdp_checked_only && !tdp_change_checked(args[4])) {
		count_skipped(MBEC_EV_TDP_SPTE_CHANGED);
		return 0;
	}
	load_thread(&x);
	flush_walk(&x);
	e = ev_reserve(&x, MBEC_EV_TDP_SPTE_CHANGED, sizeof(*e));
	if (!e)
		return 0;
	e->as_id = (int)args[0];
	e->gfn = args[1];
	e->level = (int)args[2];
	e->old_spte = args[3];
	e->new_spte = args[4];
	submit(e);
	return 0;
}

static __always_inline int do_fastpf(__u64 *args, const bool btf)
{
	struct kvm_page_fault *f = (void *)args[1];
	struct mbec_ev_fast_page_fault *e;
	__u64 *sptep = (void *)args[2];
	struct ctx x;

	if (!f || !enter(&x))
		return 0;
	note_vcpu(&x, (void *)args[0]);
	e = ev_reserve(&x, MBEC_EV_FAST_PAGE_FAULT, sizeof(*e));
	if (!e)
		return 0;
	e->addr = RDU(btf, f, addr);
	e->error_code = RDU(btf, f, error_code);
	e->sptep = (__u64)sptep;
	e->old_spte = args[3];
	e->ret = (int)args[4];
	if (sptep)
		bpf_probe_read_kernel(&e->new_spte, sizeof(e->new_spte), sptep);
	submit(e);
	return 0;
}

static __always_inline int do_nestinj(__u64 *args, const bool btf)
{
	struct mbec_ev_nested_inject *e;
	struct ctx x;

	if (!enter(&x))
		return 0;
	e = ev_reserve(&x, MBEC_EV_NESTED_VMEXIT_INJECT, sizeof(*e));
	if (!e)
		return 0;
	e->exit_code = (__u32)args[0];
	e->exit_info1 = args[1];
	e->exit_info2 = args[2];
	e->exit_int_info = (__u32)args[3];
	e->exit_int_info_err = (__u32)args[4];
	e->isa = (__u32)args[5];
	submit(e);
	return 0;
}

/*
 * Program names carry the "mbecs_" prefix so that `bpftool prog show`
 * tells ours apart; the raw_tp twin ends in "_r".
 */
#define MBECS_PROGS(name, tp, idx)					\
	SEC("tp_btf/" #tp)						\
	int mbecs_##name(__u64 *ctx)					\
	{								\
		if (test_refuse_btf & (1U << (idx)))			\
			return ctx[63] != 0;	/* beyond the arguments */ \
		return do_##name(ctx, true);				\
	}								\
	SEC("raw_tp/" #tp)						\
	int mbecs_##name##_r(struct bpf_raw_tracepoint_args *ctx)	\
	{								\
		return do_##name(ctx->args, false);			\
	}

MBECS_PROGS(walk, kvm_mmu_pagetable_walk, 0)
MBECS_PROGS(pelem, kvm_mmu_paging_element, 1)
MBECS_PROGS(walkerr, kvm_mmu_walker_error, 2)
MBECS_PROGS(sptereq, kvm_mmu_spte_requested, 3)
MBECS_PROGS(setspte, kvm_mmu_set_spte, 4)
MBECS_PROGS(pf, kvm_page_fault, 5)
MBECS_PROGS(exit, kvm_exit, 6)
MBECS_PROGS(entry, kvm_entry, 7)
MBECS_PROGS(getpage, kvm_mmu_get_page, 8)
MBECS_PROGS(tdpchg, kvm_tdp_mmu_spte_changed, 9)
MBECS_PROGS(fastpf, fast_page_fault, 10)
MBECS_PROGS(nestinj, kvm_nested_vmexit_inject, 11)

