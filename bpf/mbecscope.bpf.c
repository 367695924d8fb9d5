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
#include "mbec_vmstats.h"

char LICENSE[] SEC("license") = "GPL";

/* Set by src/live before load. */
const volatile __u32 targ_tgid;		/* 0: every process */
const volatile bool spte_req_acc_arg;	/* spte_requested(fault, acc): 2 arguments */

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
 * Most MMU tracepoints have no vCPU argument; they fire in the vCPU
 * thread, so the thread remembers the vCPU last seen by kvm_entry,
 * kvm_exit, kvm_page_fault or fast_page_fault.  kvm_entry is generic x86
 * code and fires for every hypervisor flavour; kvm_exit and kvm_page_fault
 * come from vendor code (some flavours never fire them).
 */
struct vcpu_info {
	__u32 vm_id;
	__u32 vcpu_id;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct vcpu_info);
} vcpu_of_tid SEC(".maps");

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

static __always_inline bool filtered_out(void)
{
	return targ_tgid && (bpf_get_current_pid_tgid() >> 32) != targ_tgid;
}

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

static __always_inline void fill_hdr(struct mbec_event_hdr *h, __u32 type, __u32 size)
{
	struct vcpu_info *vi;
	__u64 id = bpf_get_current_pid_tgid();
	__u32 tid = (__u32)id;

	h->type = type;
	h->size = size;
	h->cpu = bpf_get_smp_processor_id();
	h->ts_ns = bpf_ktime_get_ns();
	h->pid = id >> 32;
	h->tid = tid;
	vi = bpf_map_lookup_elem(&vcpu_of_tid, &tid);
	if (vi) {
		h->vm_id = vi->vm_id;
		h->vcpu_id = vi->vcpu_id;
	} else {
		h->vcpu_id = MBEC_VCPU_UNKNOWN;
	}
}

/*
 * Records this CPU could not write are announced, as soon as there is
 * room again, by a LOST record at that place in the stream: the reader
 * knows which of its transactions and shadow pages to distrust.
 */
static __always_inline void flush_lost(void)
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
	fill_hdr(&l->hdr, MBEC_EV_LOST, sizeof(*l));
	l->count = *pending;
	*pending = 0;
	c = counter(MBEC_EV_LOST);
	if (c) {
		c->seen++;
		c->emitted++;
	}
	submit(l);
}

/* Reserve and fill the header; NULL (and counted) when the buffer is full. */
static __always_inline void *ev_reserve(__u32 type, __u32 size)
{
	struct mbec_counter *c = counter(type);
	struct mbec_event_hdr *h;
	__u32 zero = 0;

	if (c)
		c->seen++;
	flush_lost();
	h = bpf_ringbuf_reserve(&events, size, 0);
	if (!h) {
		__u64 *pending = bpf_map_lookup_elem(&lost_pending, &zero);

		if (c)
			c->dropped++;
		if (pending)
			(*pending)++;
		return NULL;
	}
	if (c)
		c->emitted++;
	__builtin_memset(h, 0, size);
	fill_hdr(h, type, size);
	return h;
}

/* Count one event of the current VMM thread's vCPU in vm_stats. */
static __always_inline void vm_count(__u16 type, __u16 bucket)
{
	struct mbec_vmstats_key k = {};
	struct vcpu_info *vi;
	__u64 id = bpf_get_current_pid_tgid(), one = 1, *v;
	__u32 tid = (__u32)id, zero = 0;

	k.pid = id >> 32;
	vi = bpf_map_lookup_elem(&vcpu_of_tid, &tid);
	k.vcpu_id = mbec_vmstats_vcpu(vi ? vi->vcpu_id : MBEC_VCPU_UNKNOWN, tid);
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

static __always_inline void note_vcpu(struct kvm_vcpu *vcpu)
{
	struct vcpu_info vi = {}, *old;
	struct kvm___mbecs *kvm;
	__u32 tid = (__u32)bpf_get_current_pid_tgid();

	if (!vcpu)
		return;
	vi.vcpu_id = BPF_CORE_READ(vcpu, vcpu_id);
	kvm = (void *)BPF_CORE_READ(vcpu, kvm);
	if (kvm && bpf_core_field_exists(kvm->userspace_pid))
		vi.vm_id = BPF_CORE_READ(kvm, userspace_pid);
	old = bpf_map_lookup_elem(&vcpu_of_tid, &tid);
	if (old && old->vm_id == vi.vm_id && old->vcpu_id == vi.vcpu_id)
		return;
	bpf_map_update_elem(&vcpu_of_tid, &tid, &vi, BPF_ANY);
}

/* ---- handlers (args: the TP_PROTO arguments) ------------------------- */

static __always_inline int do_walk(__u64 *args)
{
	struct mbec_ev_walk *e;

	if (filtered_out())
		return 0;
	e = ev_reserve(MBEC_EV_PAGETABLE_WALK, sizeof(*e));
	if (!e)
		return 0;
	e->addr = args[0];
	e->pferr = (__u32)args[1];
	submit(e);
	return 0;
}

static __always_inline int do_pelem(__u64 *args)
{
	struct mbec_ev_paging_element *e;

	if (filtered_out())
		return 0;
	e = ev_reserve(MBEC_EV_PAGING_ELEMENT, sizeof(*e));
	if (!e)
		return 0;
	e->pte = args[0];
	e->level = (int)args[1];
	submit(e);
	return 0;
}

static __always_inline int do_walkerr(__u64 *args)
{
	struct mbec_ev_walker_error *e;

	if (filtered_out())
		return 0;
	vm_count(MBEC_EV_WALKER_ERROR, mbec_vmstats_bucket_walkerr((__u32)args[0]));
	e = ev_reserve(MBEC_EV_WALKER_ERROR, sizeof(*e));
	if (!e)
		return 0;
	e->pferr = (__u32)args[0];
	submit(e);
	return 0;
}

static __always_inline int do_sptereq(__u64 *args)
{
	struct kvm_page_fault *f = (void *)args[0];
	struct kvm_page_fault___mbecs *fm = (void *)f;
	struct mbec_ev_spte_requested *e;
	struct kvm_memory_slot *slot;
	__u16 flags = 0;

	if (filtered_out())
		return 0;
	vm_count(MBEC_EV_SPTE_REQUESTED, mbec_vmstats_bucket_pf(BPF_CORE_READ(f, error_code)));
	e = ev_reserve(MBEC_EV_SPTE_REQUESTED, sizeof(*e));
	if (!e)
		return 0;
	e->addr = BPF_CORE_READ(f, addr);
	e->error_code = BPF_CORE_READ(f, error_code);
	e->gfn = BPF_CORE_READ(f, gfn);
	e->pfn = BPF_CORE_READ(f, pfn);
	if (BPF_CORE_READ(f, prefetch))
		flags |= MBEC_FAULT_PREFETCH;
	if (BPF_CORE_READ(f, exec))
		flags |= MBEC_FAULT_EXEC;
	if (BPF_CORE_READ(f, write))
		flags |= MBEC_FAULT_WRITE;
	if (BPF_CORE_READ(f, present))
		flags |= MBEC_FAULT_PRESENT;
	if (BPF_CORE_READ(f, rsvd))
		flags |= MBEC_FAULT_RSVD;
	if (BPF_CORE_READ(f, user))
		flags |= MBEC_FAULT_USER;
	if (BPF_CORE_READ(f, is_tdp))
		flags |= MBEC_FAULT_IS_TDP;
	if (BPF_CORE_READ(f, map_writable))
		flags |= MBEC_FAULT_MAP_WRITABLE;
	if (BPF_CORE_READ(f, huge_page_disallowed))
		flags |= MBEC_FAULT_HUGE_DISALLOWED;
	if (bpf_core_field_exists(f->write_fault_to_shadow_pgtable) &&
	    BPF_CORE_READ(f, write_fault_to_shadow_pgtable))
		flags |= MBEC_FAULT_WRITE_TO_SHADOW_PT;
	e->max_level = BPF_CORE_READ(f, max_level);
	e->req_level = BPF_CORE_READ(f, req_level);
	e->goal_level = BPF_CORE_READ(f, goal_level);
	if (spte_req_acc_arg) {
		e->acc = (__u8)args[1];
		flags |= MBEC_FAULT_HAS_ACC;
	} else if (bpf_core_field_exists(fm->access)) {
		e->acc = (__u8)BPF_CORE_READ(fm, access);
		flags |= MBEC_FAULT_HAS_ACC;
	}
	slot = BPF_CORE_READ(f, slot);
	if (slot) {
		e->slot_base_gfn = BPF_CORE_READ(slot, base_gfn);
		e->slot_npages = BPF_CORE_READ(slot, npages);
		e->slot_hva = BPF_CORE_READ(slot, userspace_addr);
		flags |= MBEC_FAULT_HAS_SLOT;
	}
	e->flags = flags;
	submit(e);
	return 0;
}

static __always_inline int do_setspte(__u64 *args)
{
	struct mbec_ev_set_spte *e;
	__u64 *sptep = (void *)args[2];
	__u64 spte = 0;

	if (filtered_out())
		return 0;
	bpf_probe_read_kernel(&spte, sizeof(spte), sptep);
	vm_count(MBEC_EV_SET_SPTE, mbec_vmstats_bucket_spte(spte, (int)args[0]));
	e = ev_reserve(MBEC_EV_SET_SPTE, sizeof(*e));
	if (!e)
		return 0;
	e->level = (int)args[0];
	e->gfn = args[1];
	e->sptep = (__u64)sptep;
	e->spte = spte;
	submit(e);
	return 0;
}

static __always_inline int do_pf(__u64 *args)
{
	struct mbec_ev_page_fault *e;

	if (filtered_out())
		return 0;
	note_vcpu((void *)args[0]);
	vm_count(MBEC_EV_PAGE_FAULT, mbec_vmstats_bucket_pf(args[2]));
	e = ev_reserve(MBEC_EV_PAGE_FAULT, sizeof(*e));
	if (!e)
		return 0;
	e->address = args[1];
	e->error_code = args[2];
	submit(e);
	return 0;
}

static __always_inline int do_exit(__u64 *args)
{
	struct kvm_vcpu *vcpu = (void *)args[0];
	__u32 isa = (__u32)args[1], reason = 0, flags = 0;
	__u64 info1 = 0, info2 = 0;
	struct mbec_ev_exit *e;

	if (filtered_out())
		return 0;
	note_vcpu(vcpu);
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
	e = ev_reserve(MBEC_EV_EXIT, sizeof(*e));
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

static __always_inline int do_entry(__u64 *args)
{
	if (filtered_out())
		return 0;
	note_vcpu((void *)args[0]);
	return 0;
}

static __always_inline int do_getpage(__u64 *args)
{
	struct kvm_mmu_page___mbecs *sp = (void *)args[0];
	struct kvm_mmu_page *ksp = (void *)args[0];
	union kvm_mmu_page_role___mbecs role;
	struct mbec_ev_get_page *e;
	__u16 flags = 0;

	if (filtered_out())
		return 0;
	e = ev_reserve(MBEC_EV_GET_PAGE, sizeof(*e));
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

static __always_inline int do_tdpchg(__u64 *args)
{
	struct mbec_ev_tdp_spte_changed *e;

	if (filtered_out())
		return 0;
	e = ev_reserve(MBEC_EV_TDP_SPTE_CHANGED, sizeof(*e));
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

static __always_inline int do_fastpf(__u64 *args)
{
	struct kvm_page_fault *f = (void *)args[1];
	struct mbec_ev_fast_page_fault *e;
	__u64 *sptep = (void *)args[2];

	if (filtered_out())
		return 0;
	note_vcpu((void *)args[0]);
	e = ev_reserve(MBEC_EV_FAST_PAGE_FAULT, sizeof(*e));
	if (!e)
		return 0;
	e->addr = BPF_CORE_READ(f, addr);
	e->error_code = BPF_CORE_READ(f, error_code);
	e->sptep = (__u64)sptep;
	e->old_spte = args[3];
	e->ret = (int)args[4];
	if (sptep)
		bpf_probe_read_kernel(&e->new_spte, sizeof(e->new_spte), sptep);
	submit(e);
	return 0;
}

static __always_inline int do_nestinj(__u64 *args)
{
	struct mbec_ev_nested_inject *e;

	if (filtered_out())
		return 0;
	e = ev_reserve(MBEC_EV_NESTED_VMEXIT_INJECT, sizeof(*e));
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
#define MBECS_PROGS(name, tp)						\
	SEC("tp_btf/" #tp)						\
	int mbecs_##name(__u64 *ctx)					\
	{								\
		return do_##name(ctx);					\
	}								\
	SEC("raw_tp/" #tp)						\
	int mbecs_##name##_r(struct bpf_raw_tracepoint_args *ctx)	\
	{								\
		return do_##name(ctx->args);				\
	}

MBECS_PROGS(walk, kvm_mmu_pagetable_walk)
MBECS_PROGS(pelem, kvm_mmu_paging_element)
MBECS_PROGS(walkerr, kvm_mmu_walker_error)
MBECS_PROGS(sptereq, kvm_mmu_spte_requested)
MBECS_PROGS(setspte, kvm_mmu_set_spte)
MBECS_PROGS(pf, kvm_page_fault)
MBECS_PROGS(exit, kvm_exit)
MBECS_PROGS(entry, kvm_entry)
MBECS_PROGS(getpage, kvm_mmu_get_page)
MBECS_PROGS(tdpchg, kvm_tdp_mmu_spte_changed)
MBECS_PROGS(fastpf, fast_page_fault)
MBECS_PROGS(nestinj, kvm_nested_vmexit_inject)

