/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Private to src/workload: the VMM's state and the functions its files
 * share.  vmm.c sets the VM up (KVM, memory, vCPUs), run.c runs the vCPU
 * threads and turns the guest's exception exits into calls of matrix.c
 * and storm.c, which drive and judge their pattern.
 */
#ifndef MBEC_WORKLOAD_VMM_H
#define MBEC_WORKLOAD_VMM_H

#include <linux/kvm.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>

#include "cli/json.h"
#include "workload/internal.h"

#define WL_MAX_MISMATCH_LINES	16
#define WL_ROUND_TIMEOUT_S	20.0
#define WL_PASSES		(1 + WORKLOAD_SMODES)

struct wl_vm;

struct wl_vcpu {
	struct wl_vm *vm;
	unsigned int id;
	int fd;
	struct kvm_run *run;
	pthread_t thread;
	bool thread_live;
	int stats_fd;
	long long stats_off[3];		/* pf_fixed, pf_guest, pf_taken; -1 absent */
	/* the pass running: CPL, where its code and data are, its supervisor mode */
	unsigned int cpl;
	int smode;			/* index in workload_smodes, -1 at CPL 3 */
	uint64_t code_base, data_gpa;
	/* matrix, per pass, and per round (what succeeded in any pass) */
	uint8_t faulted[WORKLOAD_MATRIX_PAGES];
	uint8_t round_got[WORKLOAD_MATRIX_PAGES];
	bool done, probe_done;
	/* totals */
	unsigned long accesses, faults, passes;
	int status;			/* 0, 1 guest misbehaved, 2 KVM error */
	char error[256];
};

struct wl_vm {
	const struct workload_opts *o;
	struct workload_layout *l;
	int kvm_fd, vm_fd;
	int run_size;
	uint8_t *ram;
	uint64_t ram_size;
	struct kvm_cpuid2 *cpuid;
	unsigned int nr_vcpus;
	struct wl_vcpu vcpus[WORKLOAD_MAX_VCPUS];
	pthread_mutex_t lock;		/* mismatch list */
	unsigned long mismatches;
	char mismatch[WL_MAX_MISMATCH_LINES][200];
	unsigned long nr_mismatch_lines;
	bool has_smep, has_smap;	/* KVM offers them (KVM_GET_SUPPORTED_CPUID) */
	/*
	 * Matrix passes: index 0 is CPL 3, index 1 + k supervisor mode k.
	 * want: WL_RES_* bits of the accesses the model lets through; want_err:
	 * the #PF error code it gives the others.  ran: the pass is made.
	 */
	bool pass_ran[WL_PASSES];
	uint8_t want[WL_PASSES][WORKLOAD_MAX_VCPUS][WORKLOAD_MATRIX_PAGES];
	uint64_t want_err[WL_PASSES][WORKLOAD_MAX_VCPUS][WORKLOAD_MATRIX_PAGES][3];
	/* matrix totals per page: bit counts of successes and faults */
	unsigned long page_ok[WL_PASSES][WORKLOAD_MAX_VCPUS][WORKLOAD_MATRIX_PAGES][3];
	unsigned long page_fault[WL_PASSES][WORKLOAD_MAX_VCPUS][WORKLOAD_MATRIX_PAGES][3];
	uint64_t pte_after[WORKLOAD_MAX_VCPUS][WORKLOAD_MATRIX_PAGES];
};

static inline unsigned int wl_pass_of(const struct wl_vcpu *c)
{
	return (unsigned int)(c->smode + 1);
}


/* What a guest exception left on its CPL-0 stack. */
struct wl_frame {
	uint64_t err, rip, cs, rflags, rsp, ss;
};

/* Set by workload_request_stop() and by a run that must end. */
extern volatile sig_atomic_t wl_stop;

/* vmm.c */
void wl_set_err(char *buf, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
double wl_now_s(void);
int wl_vm_create(struct wl_vm *vm, const struct workload_opts *o, char *err, size_t len);
void wl_vm_destroy(struct wl_vm *vm);
void wl_write_memory(struct wl_vm *vm);
int wl_set_slots(struct wl_vm *vm, bool present, char *err, size_t len);
void wl_segments(struct kvm_sregs *s, unsigned int cpl);
int wl_set_cpu(struct wl_vcpu *c, unsigned int cpl, uint64_t cr0, uint64_t cr4);
int wl_enter(struct wl_vcpu *c, uint64_t rip, uint64_t rsp, uint64_t rflags, uint64_t rdi,
	     uint64_t rsi, uint64_t rdx);
int wl_enter_user(struct wl_vcpu *c, uint64_t rip, uint64_t rdi, uint64_t rsi, uint64_t rdx);
long long wl_stat_read(struct wl_vcpu *c, int k);

/* run.c */
void wl_vcpu_fail(struct wl_vcpu *c, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void wl_mismatch(struct wl_vm *vm, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int wl_resume(struct wl_vcpu *c, struct kvm_regs *r, uint64_t rip, uint64_t rsp,
	      uint64_t rflags);
/*
 * One KVM_RUN: 1 with an exit in c->run to handle, 0 when the run was
 * interrupted (a kick) and the caller goes on, -1 when it must stop
 * (wl_stop after a kick, or KVM_RUN failed: c->status says so).
 */
int wl_vcpu_run(struct wl_vcpu *c);
void wl_kick_all(struct wl_vm *vm);
int wl_start_threads(struct wl_vm *vm, char *err, size_t len);
int wl_start_one(struct wl_vcpu *c, char *err, size_t len);
bool wl_join_threads(struct wl_vm *vm, double deadline);
void wl_vcpu_status(struct wl_vm *vm, struct workload_result *r);
void wl_sum_stats(struct wl_vm *vm, struct workload_result *r);
void wl_json_kvm_stats(struct json_writer *jw, const struct workload_result *r);
void wl_print_kvm_stats(const struct workload_result *r, FILE *out);

/* matrix.c */
int wl_matrix_fault(struct wl_vcpu *c, const struct wl_frame *f, uint64_t cr2);
void wl_matrix_verify(struct wl_vcpu *c);
int wl_run_matrix(struct wl_vm *vm, struct workload_result *r);

/* probe.c: may CPL-0 passes run?  Fills r->cpl0_note either way. */
bool wl_probe_cpl0(struct wl_vm *vm, struct workload_result *r);

/* nested_run.c: the --nested workload */
int wl_run_nested(struct wl_vm *vm, struct workload_result *r);

/* storm.c */
void wl_storm_zap(struct wl_vcpu *c);
int wl_run_storm(struct wl_vm *vm, struct workload_result *r);

#endif /* MBEC_WORKLOAD_VMM_H */
