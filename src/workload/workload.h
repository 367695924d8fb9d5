/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The embedded default guest: a tiny VMM on /dev/kvm (plain KVM ioctls)
 * whose CPL-3 guest code reads, writes and fetches through guest page
 * tables holding every combination of U/W/NX and A/D over 4K and 2M pages
 * (the "matrix"), or keeps SPTE faults coming for benchmarks (the "storm").
 *
 * Why CPL 3 first: on a shadow-paging KVM whose guests run natively only
 * at CPL 3 (this project's development host), CPL-0 guest code is
 * emulated and produces no SPTE faults.  So the VMM enters 64-bit long
 * mode directly with KVM_SET_SREGS and starts each vCPU at CPL 3; the
 * guest's #PF/#UD handlers run at CPL 0, and all they do is exit to the
 * VMM through an I/O port (see vmm.c for the protocol).  Nothing depends
 * on shadow paging: on VMX/SVM with EPT/NPT the same guest runs unchanged.
 *
 * Where CPL-0 guest code does run natively (every host but a paravirtual
 * one), each matrix round also makes supervisor-mode passes, one per
 * workload_smodes entry (CR0.WP, CR4.SMEP, CR4.SMAP, EFLAGS.AC), from a
 * U=0 copy of the code.  A probe decides (probe.c): CPL-0 code must run
 * to its end in time and fault on a fresh page as CPL-3 code does.  The
 * expected outcome of every access, at either CPL, comes from the
 * reference model (workload_expect).
 *
 * The layout (struct workload_layout) is a pure function of the options,
 * so a live checker can compute it in its own process and match SPTEs and
 * guest walks against it while the guest runs in a child (workload_spawn).
 */
#ifndef MBEC_WORKLOAD_H
#define MBEC_WORKLOAD_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "mbec_arch.h"
#include "mbec_model.h"

#define WORKLOAD_MAX_VCPUS	16
#define WORKLOAD_STORM_DEFAULT_S 5.0

enum workload_pattern {
	WORKLOAD_MATRIX = 0,	/* every U/W/NX x A/D x 4K/2M page: read, write, fetch */
	WORKLOAD_STORM,		/* zap and re-touch a working set: faults per second */
};

struct workload_opts {
	enum workload_pattern pattern;
	unsigned int vcpus;	/* 1..WORKLOAD_MAX_VCPUS (0 is taken as 1) */
	/*
	 * Seconds.  Storm: how long to run (0: WORKLOAD_STORM_DEFAULT_S).
	 * Matrix: 0 runs one round; > 0 repeats rounds (each one resets the
	 * guest entries and zaps every SPTE) until that much time has passed.
	 */
	double duration;
	bool json;		/* print one JSON document instead of text */
	bool quiet;		/* print nothing; the result is still filled in */
	bool verbose;		/* matrix: one line on stderr per guest #PF handled */
	FILE *out;		/* where results go; NULL means stdout */
	/*
	 * >= 0: before touching /dev/kvm, read one byte from this fd; EOF or
	 * an error ends the run with status 2 and no output.  workload_spawn
	 * uses it so a parent can attach tracing to the child's pid first.
	 */
	int go_fd;
	/*
	 * Tests only: write two matrix entries of vCPU 0 with a permission bit
	 * flipped (4K U1W1NX0 A1D1 loses W, 2M U1W1NX0 A1D1 gains NX) while
	 * the self-check still expects the layout's bits, so it must fail.
	 */
	bool inject_mismatch;
	/*
	 * The nested workload (src/workload/nested.h): the guest becomes a
	 * hypervisor (SVM with NPT; GMET when KVM offers it) whose own guest
	 * makes the matrix accesses through the guest's nested page tables.
	 * Matrix pattern and one vCPU only.
	 */
	bool nested;
};

/* Fill in the defaults (matrix, 1 vCPU, one round, stdout, no go_fd). */
void workload_opts_init(struct workload_opts *o);

struct workload_result {
	int status;		/* 0 fine, 1 self-check failed, 2 environment */
	char error[256];	/* one line (no newline) when status != 0 */
	unsigned long rounds;		/* matrix rounds completed */
	unsigned long pages;		/* pages per round, all vCPUs */
	unsigned long accesses;		/* guest accesses attempted, all rounds */
	/* matrix: guest #PFs; storm: accesses that needed an SPTE fault */
	unsigned long faults;
	unsigned long mismatches;	/* matrix: self-check failures */
	double seconds;			/* wall time of the guest run */
	double faults_per_s;		/* storm: over the whole run */
	/* KVM's own vCPU statistics (binary stats fd), summed; -1: not available */
	long long kvm_pf_fixed, kvm_pf_guest, kvm_pf_taken;
	/*
	 * Matrix: the supervisor-mode (CPL-0) passes.  accesses, faults and
	 * mismatches above count both CPLs; these the CPL-0 share.
	 */
	bool cpl0;			/* CPL-0 passes ran */
	char cpl0_note[512];		/* why not, or what the probe saw */
	unsigned int cpl0_modes;	/* workload_smodes entries run */
	unsigned long cpl0_accesses, cpl0_faults;
	/* --nested: passes run (feature off at CPL 3 and 0, then on), and why not on */
	bool nested;
	unsigned int nested_passes;
	char nested_note[200];
};

/*
 * Run the guest to the end (blocking).  Returns result->status.  Prints
 * the summary (text or JSON) to o->out unless o->quiet; never prints the
 * error line itself (the caller does, with its own prefix).  Uses SIGUSR2
 * internally to kick vCPU threads out of KVM_RUN.
 */
int workload_run(const struct workload_opts *o, struct workload_result *r);

/* Ask a running workload_run (e.g. from a SIGINT handler) to stop soon. */
void workload_request_stop(void);

/*
 * Can this process use KVM for the workload?  0, or 2 with one line in
 * err: no /dev/kvm, no permission, API too old, a capability missing.
 */
int workload_probe(char *err, size_t errlen);

/*
 * The workload in a child process: workload_spawn() forks; the child
 * blocks until workload_start(), then runs workload_run(o) with stdout
 * and stderr inherited (o->out is ignored: the child prints to its
 * stdout; o->quiet is honoured) and exits with its status, after printing
 * "workload: <error>" on stderr when the status is not 0.  Between spawn
 * and start the parent may attach BPF filtered on c->pid (the child's
 * tgid; vCPU threads are its threads).  workload_wait() returns the
 * child's exit status (0/1/2; 2 when it died of a signal).
 */
struct workload_child {
	pid_t pid;
	int go_fd;		/* parent's end of the go pipe, -1 once used */
	struct workload_report *report;	/* set by workload_spawn; NULL: none */
};

/* What a spawned child tells its parent when its run ends. */
struct workload_report {
	bool valid;		/* the child got to the end of workload_run */
	int status;
	bool cpl0;		/* result.cpl0, .cpl0_modes, .cpl0_note */
	unsigned int cpl0_modes;
	char cpl0_note[512];
};

int workload_spawn(const struct workload_opts *o, struct workload_child *c,
		   char *err, size_t errlen);
int workload_start(struct workload_child *c);
int workload_wait(struct workload_child *c);
void workload_kill(struct workload_child *c);	/* SIGKILL + reap */
/* The child's report once it has ended its run, else NULL. */
const struct workload_report *workload_child_report(const struct workload_child *c);

/* ---- supervisor-mode passes ------------------------------------------------ */

/* The CPU state of one CPL-0 pass over the matrix. */
struct workload_smode {
	const char *name;		/* "WP0", "WP1 SMEP SMAP", ... */
	bool cr0_wp, cr4_smep, cr4_smap, eflags_ac;
};

#define WORKLOAD_SMODES		4
extern const struct workload_smode workload_smodes[WORKLOAD_SMODES];

/* ---- the layout --------------------------------------------------------- */

/* What a guest page is for. */
enum workload_page_kind {
	WL_PAGE_MATRIX,		/* a page of the U/W/NX x A/D x size matrix */
	WL_PAGE_STORM,		/* storm working set: U=1 W=1 NX=1 A=1 D=1, 4K */
	WL_PAGE_SYSTEM,		/* GDT/TSS, IDT, handlers, stacks, code, results */
};

/* The four A/D combinations, in matrix order. */
enum workload_ad { WL_A0D0, WL_A1D0, WL_A1D1, WL_A0D1 };

struct workload_page {
	enum workload_page_kind kind;
	int vcpu;		/* owning vCPU, -1 for shared system pages */
	uint64_t gva;
	uint64_t gpa;
	uint64_t size;		/* 4096 or 2 MiB */
	uint64_t pte;		/* leaf entry as written (PTE_* bits, PS for 2M) */
	uint64_t pte_gpa;	/* GPA of that leaf entry (in a PT for 4K, a PD for 2M) */
	unsigned int level;	/* 1: PTE (4K), 2: PDE (2M) */
	const char *what;	/* "matrix", "storm", "gdt", "idt", "handlers", ... */
};

struct workload_table {
	uint64_t gpa;		/* one 4K paging-structure page */
	unsigned int level;	/* 4 PML4, 3 PDPT, 2 PD, 1 PT */
	uint64_t gva_base;	/* first GVA it translates */
};

/* One paging-structure entry as the VMM writes it before the guest runs. */
struct workload_entry {
	uint64_t gpa;		/* where the entry lives */
	uint64_t value;
	unsigned int level;	/* of the table holding it: 4 PML4 .. 1 PT */
};

struct workload_layout {
	unsigned int vcpus;
	enum workload_pattern pattern;
	uint64_t cr3;			/* GPA of the PML4 (4-level paging, no LA57) */
	uint64_t cr0, cr4, efer;	/* the guest's control registers while it runs */
	uint64_t pt_gpa, pt_size;	/* the pool all paging structures come from */
	uint64_t ram_size;		/* guest RAM is GPA [0, ram_size) */
	/* the offsets the guest touches inside each matrix page */
	uint64_t stub_offset;		/* a `ret` (fetch) */
	uint64_t data_offset;		/* the byte read and written */
	unsigned int nr_pages;
	struct workload_page *pages;	/* matrix pages first, vCPU by vCPU */
	unsigned int nr_tables;
	struct workload_table *tables;
	unsigned int nr_entries;	/* every non-zero entry of every table */
	struct workload_entry *entries;
};

/* Matrix pages per vCPU: 8 (U/W/NX) x 4 (A/D) x 2 (4K, 2M). */
#define WORKLOAD_MATRIX_PAGES	64
/* Storm working set per vCPU (4K pages, one guest page table). */
#define WORKLOAD_STORM_PAGES	512

/*
 * The layout for these options (only vcpus and pattern matter).  Matrix
 * page i of vCPU v is pages[v * 64 + i] with, for i in 0..63:
 *   size = i < 32 ? 4K : 2M, u = (i >> 4) & 1, w = (i >> 3) & 1,
 *   nx = (i >> 2) & 1, ad = i & 3 (enum workload_ad).
 * Its GVA and GPA are at a slot of the vCPU's 4K or 2M area chosen so
 * that KVM's shadow prefetch gives some U=0 pages SPTEs (layout.c says
 * which and why); use the gva/gpa fields, not arithmetic.
 * Storm pages follow for the storm pattern (the matrix pages are mapped
 * either way), then the system pages.  NULL on bad options or no memory.
 */
struct workload_layout *workload_layout_new(const struct workload_opts *o);
void workload_layout_free(struct workload_layout *l);

/*
 * What a CPL-3 access through a leaf entry must do (true: no fault) with
 * EFER.NXE=1 and upper levels U=1 W=1 NX=0, as the workload sets them.
 */
static inline bool workload_read_ok(uint64_t pte)
{
	return (pte & PTE_P) && (pte & PTE_US);
}

static inline bool workload_write_ok(uint64_t pte)
{
	return workload_read_ok(pte) && (pte & PTE_RW);
}

static inline bool workload_fetch_ok(uint64_t pte)
{
	return workload_read_ok(pte) && !(pte & PTE_NX);
}

/*
 * Which matrix pages a checker should expect SPTEs for.  A page some
 * CPL-3 access may use (U=1) gets one by a real fault on any KVM (shadow,
 * EPT, NPT).  A page no access may use (U=0) is never faulted in; on a
 * shadow-paging KVM a 4K one with A=1 can still get a supervisor SPTE by
 * prefetch next to a faulting neighbour (the layout arranges for that).
 */
static inline bool workload_page_faulted_in(const struct workload_page *p)
{
	return workload_read_ok(p->pte);
}

static inline bool workload_page_prefetchable(const struct workload_page *p)
{
	return !workload_read_ok(p->pte) && p->level == 1 && (p->pte & PTE_A);
}

/*
 * What the reference model (src/model) says an access to @p must do: a
 * walk of the layout's entries from CR3 with EFER.NXE, at CPL 3 when @sm
 * is NULL (CR0.WP as the layout sets it), else at CPL 0 in mode @sm.
 * Returns 0 and fills @out (result MBEC_RES_OK, or MBEC_RES_PAGE_FAULT
 * with its error code), or -1 when the walk cannot be made.
 */
int workload_expect(const struct workload_layout *l, const struct workload_page *p,
		    enum mbec_op op, const struct workload_smode *sm, struct mbec_outcome *out);

const char *workload_pattern_name(enum workload_pattern p);
const char *workload_ad_name(enum workload_ad ad);

#endif /* MBEC_WORKLOAD_H */
