/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mbectop's data model: per-VM and per-vCPU aggregates and their rates
 * over the refresh interval.  Pure C (no BPF, no ncurses, no clock): the
 * caller hands it counts and timestamps, so the TUI, batch mode and the
 * unit tests share it.
 *
 * Two ways counts arrive (struct top_model.absolute):
 *  - live: every frame the caller reads the kernel's per-vCPU counters
 *    (include/mbec_vmstats.h), which are totals since attach:
 *	top_model_sample_begin(m);
 *	for each (pid, vcpu, type, bucket) = total: top_model_count(m, ...);
 *	top_model_frame(m, now_ns);
 *    so the view stays right when the ring buffer drops records;
 *  - replay: each record is counted as it passes (top_model_record), and
 *    top_model_frame() is called at the frame boundaries of the recording's
 *    own clock.
 * Anomalies always come from the check engine, record by record
 * (top_model_anomaly), and are never reset.
 *
 * A bucket is the few raw bits the kernel cut out (mbec_vmstats.h); the
 * model classifies it by the MMU flavour: fault access and user/supervisor,
 * fault cause (not present, permission, XS vs XU fetch), SPTE permissions
 * granted and page size.
 */
#ifndef MBEC_TOP_MODEL_H
#define MBEC_TOP_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mbec_events.h"
#include "mbec_kvm.h"

/* How KVM maps guest memory: what kvm_page_fault's error code is. */
enum top_mmu {
	TOP_MMU_SHADOW,		/* shadow paging: #PF intercepts, PFERR error codes */
	TOP_MMU_EPT,		/* Intel EPT: EPT violations, raw exit qualifications */
	TOP_MMU_NPT,		/* AMD NPT: #NPF, NPF error codes */
};

/* Where the FAULTS columns come from. */
enum top_fault_src {
	TOP_FAULTS_EXITS,	/* kvm_page_fault: the exits (VMX, SVM) with their raw codes */
	TOP_FAULTS_MAPPED,	/* kvm_mmu_spte_requested: faults KVM maps, its own PFERR code */
};

struct top_env {
	enum top_mmu mmu;
	enum top_fault_src faults;
	bool mbec;		/* MBEC (EPT) or GMET (NPT) on */
	enum mbec_layout layout;
	char module[32];	/* "kvm_intel", "kvm_amd", ..., or "" */
	char layout_src[32];	/* "from BTF", "recording", "--layout" */
	/* Live: how the tracepoints were attached (mbec_live_attach_line); "" in replay. */
	char attach[256];
};

/* Per-vCPU statistics (counts; rates per second in the frame). */
enum top_stat {
	TOP_S_FAULTS,		/* kvm_page_fault */
	TOP_S_READ,		/* by access */
	TOP_S_WRITE,
	TOP_S_FETCH,
	TOP_S_USER,		/* by privilege of the access (when known) */
	TOP_S_SUPV,
	TOP_S_NOTP,		/* by cause: nothing mapped */
	TOP_S_PERM,		/* mapped but the permissions deny */
	TOP_S_XS,		/* permission faults of supervisor fetches */
	TOP_S_XU,		/* permission faults of user fetches */
	TOP_S_RSVD,		/* reserved-bit faults (MMIO SPTEs) */
	TOP_S_GPF,		/* guest walks that faulted (the guest's own #PF) */
	TOP_S_SPTES,		/* kvm_mmu_set_spte */
	TOP_S_SP_R,		/* EPT: R granted */
	TOP_S_SP_W,		/* W granted */
	TOP_S_SP_XS,		/* EPT: XS (X without MBEC) granted */
	TOP_S_SP_XU,		/* EPT: XU granted */
	TOP_S_SP_U,		/* legacy/NPT: U set */
	TOP_S_SP_NX,		/* legacy/NPT: NX set */
	TOP_S_SP_4K,
	TOP_S_SP_2M,
	TOP_S_SP_1G,
	TOP_S_ANOM,		/* anomalies (from the check engine) */
	TOP_S_NR
};

/* Short name of a statistic ("faults", "read", ..., "anomalies"). */
const char *top_stat_name(enum top_stat s);

struct top_vcpu {
	uint32_t id;		/* vCPU id, or MBEC_VMSTATS_TID | thread id */
	uint64_t tot[TOP_S_NR];
	uint64_t prev[TOP_S_NR];	/* tot at the previous frame */
	double rate[TOP_S_NR];		/* per second over the last frame */
	bool gone;			/* its thread exited: retired at the next sample */
};

struct top_vm {
	uint32_t pid;
	char name[64];		/* "" until the caller names it */
	bool gone;		/* the process exited: shown once more, then dropped */
	bool gone_shown;	/* a frame has shown it gone */
	bool expanded;		/* show its vCPUs */
	unsigned int nr_vcpus, cap_vcpus;
	struct top_vcpu *vcpus;	/* sorted by id */
	/* vCPU threads that exited: their counts stay in the VM's (never shown). */
	struct top_vcpu retired;
	uint64_t tot[TOP_S_NR];	/* sums over the vCPUs, set by top_model_frame */
	double rate[TOP_S_NR];
};

/* Header figures, totals (set by the caller) and rates (by the model). */
enum top_global {
	TOP_G_EVENTS,		/* events the kernel saw (or records replayed) */
	TOP_G_FAULTS,
	TOP_G_SPTES,
	TOP_G_LOST,		/* records lost (ring buffer full) */
	TOP_G_ANOM,
	TOP_G_BPF_NS,		/* BPF run time, ns (0 when statistics are off) */
	TOP_G_BPF_RUNS,		/* BPF program runs */
	TOP_G_UNTRACKED,	/* events not counted per VM: vm_stats was full */
	TOP_G_NR
};

struct top_model {
	struct top_env env;
	bool absolute;			/* counts arrive as totals (live) */
	unsigned int nr_vms, cap_vms;
	struct top_vm *vms;		/* in display order after top_model_sort */
	uint64_t frame_ns, prev_frame_ns;	/* valid once frames > 0 */
	double interval_s;		/* length of the last frame */
	unsigned int frames;
	uint64_t g_tot[TOP_G_NR], g_prev[TOP_G_NR];
	double g_rate[TOP_G_NR];
	bool g_from_kernel;		/* g_tot are kernel counters (else records) */
};

struct top_model *top_model_new(const struct top_env *env, bool absolute);
void top_model_free(struct top_model *m);

/* The VM with this pid (created when create is set); NULL when absent or no memory. */
struct top_vm *top_model_vm(struct top_model *m, uint32_t pid, bool create);
/* Its vCPU (created when create is set). */
struct top_vcpu *top_model_vcpu(struct top_model *m, struct top_vm *vm, uint32_t vcpu_id,
				bool create);

/* Live: the kernel counters are about to be handed over again (zeroes the counts). */
void top_model_sample_begin(struct top_model *m);
/* n events of (type, bucket) on (pid, vcpu); -1 when out of memory or an unknown type. */
int top_model_count(struct top_model *m, uint32_t pid, uint32_t vcpu_id, unsigned int type,
		    uint16_t bucket, uint64_t n);
/*
 * Replay: one record (any type).  Counts it into the header figures
 * (events, faults, SPTEs, lost) and, unless the model is absolute, into
 * its VM by bucket.
 */
void top_model_record(struct top_model *m, const struct mbec_event_hdr *rec, size_t len);
/* One anomaly found on (pid, vcpu); vcpu_id as mbec_vmstats_vcpu(vcpu_id, tid) makes it. */
void top_model_anomaly(struct top_model *m, uint32_t pid, uint32_t vcpu_id);
/*
 * A vCPU (thread) is gone but its VM is not: its counts move into the VM's
 * retired counts, so the VM's totals and rates stay right, and its row goes.
 * Live: the caller deletes the kernel's counters of that vCPU at the same
 * time (they are in the model now).
 */
void top_model_vcpu_retire(struct top_model *m, struct top_vm *vm, uint32_t vcpu_id);
/* The process is gone: this frame shows it as such, the next one drops it. */
void top_model_vm_gone(struct top_model *m, uint32_t pid);
/* Header totals from the kernel (live); replay keeps them from the records. */
void top_model_set_global(struct top_model *m, enum top_global g, uint64_t total);

/*
 * Close a frame at now_ns: per-VM sums, rates over the time since the
 * previous frame (0 for the first frame, whose counts predate it), VMs
 * flagged gone in an earlier frame dropped.
 */
void top_model_frame(struct top_model *m, uint64_t now_ns);

/* ---- views: sorting and filtering ----------------------------------------- */

/* What can be sorted on: a statistic's rate (anomalies: total), or these. */
#define TOP_SORT_PID	(TOP_S_NR + 0)
#define TOP_SORT_NAME	(TOP_S_NR + 1)
#define TOP_SORT_VCPUS	(TOP_S_NR + 2)
#define TOP_SORT_NR	(TOP_S_NR + 3)

/* "faults", "pid", "spte-w", ...: the key, or -1. */
int top_sort_key(const char *name);
const char *top_sort_name(int key);
/*
 * Sort the VMs (and each VM's vCPUs by id).  Numbers sort descending and
 * pid/name ascending unless reverse; ties by pid.
 */
void top_model_sort(struct top_model *m, int key, bool reverse);
/* Does the VM match a filter: its pid, or a substring of its name ("" matches all). */
bool top_vm_matches(const struct top_vm *vm, const char *filter);

#endif /* MBEC_TOP_MODEL_H */
