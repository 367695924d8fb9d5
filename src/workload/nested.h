/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The nested workload (mbecscope workload --nested): the built-in guest
 * (L2, run by our VMM in L1) is itself a tiny hypervisor for a guest of
 * its own (L3).  L1's KVM then shadows L2's nested page tables (NPT on
 * AMD, EPT on Intel) and injects every L3 fault that L2's tables decide
 * into L2 as a #NPF (EXITINFO1) or an EPT violation (exit qualification):
 * exactly the path KVM's MBEC and GMET code serve for Hyper-V under VBS.
 *
 * Who does what:
 *  - nested_matrix.c (pure, unit-tested): L2's nested page tables for
 *    L3 and L3's own page tables, as data, and what the reference model
 *    says each L3 access must do;
 *  - nested_guest.c: the code L2 runs at CPL 0 (VMRUN / VMRESUME in a
 *    loop, every exit handed to the VMM through an OUT) and the code L3
 *    runs (read, write and fetch every matrix page, report with ud2);
 *  - nested_svm.c: the AMD run (VMCB, EFER.SVME, GMET when offered);
 *  - nested_vmx.c: the Intel run (VMXON, VMCS, EPT, MBEC when offered).
 * The VMM writes the VMCB/VMCS, the tables and L3's memory into L2's RAM
 * from user space; L2's code only executes the instructions that must run
 * inside it.  Every change of L2's tables between passes is followed by a
 * memslot flush, since KVM cannot see user-space writes to the tables it
 * shadows.
 *
 * L2 GPA map of the nested area (L3 GPA = L2 GPA: the nested tables
 * identity-map what they map, so an exit's GPA names its page):
 *   0x01000000  VMCB (SVM) or VMCS (VMX)
 *   0x01001000  host save area (SVM) or VMXON region (VMX)
 *   0x01002000  MSR permission map (2 pages; VMX: the MSR bitmap, 1 page)
 *   0x01004000  I/O permission map (3 pages; VMX: I/O bitmaps A and B)
 *   0x01008000  the VMCS field table L2's code writes with VMWRITE (VMX)
 *   0x01010000  nested-table pool (NPT or EPT), 16 pages
 *   0x01100000  L3 code (2 pages), stack, data, then L3's PML4, PDPT, PD
 *   0x01200000  4K matrix pages
 *   0x01400000  2M matrix pages
 * (The area is RAM the matrix pattern leaves unused: storm pages live
 * there only with --pattern storm, which --nested excludes.)
 */
#ifndef MBEC_WORKLOAD_NESTED_H
#define MBEC_WORKLOAD_NESTED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mbec_arch.h"
#include "mbec_model.h"
#include "workload/workload.h"

#define WLN_4K			0x1000ULL
#define WLN_2M			0x200000ULL

#define WLN_CTL_GPA		0x01000000ULL	/* VMCB or VMCS */
#define WLN_HOST_GPA		0x01001000ULL	/* hsave or VMXON region */
#define WLN_MSRPM_GPA		0x01002000ULL
#define WLN_IOPM_GPA		0x01004000ULL
#define WLN_FIELDS_GPA		0x01008000ULL
#define WLN_POOL_GPA		0x01010000ULL
#define WLN_POOL_SIZE		0x10000ULL
#define WLN_L3_CODE_GPA		0x01100000ULL
#define WLN_L3_CODE_PAGES	2
#define WLN_L3_STACK_GPA	0x01102000ULL
#define WLN_L3_DATA_GPA		0x01103000ULL
#define WLN_L3_PML4_GPA		0x01104000ULL
#define WLN_L3_PDPT_GPA		0x01105000ULL
#define WLN_L3_PD_GPA		0x01106000ULL
#define WLN_M4K_GPA(i)		(0x01200000ULL + (uint64_t)(i) * WLN_4K)
#define WLN_M2M_GPA(j)		(0x01400000ULL + (uint64_t)(j) * WLN_2M)
#define WLN_AREA_END		WLN_M2M_GPA(16)

/* Inside every matrix page: a `ret` at the start, the data byte further on. */
#define WLN_STUB_OFFSET		0
#define WLN_DATA_OFFSET		0x800

/* Inside L3's data page: one result byte per matrix page, then the GPA list. */
#define WLN_DATA_RESULTS	0x000
#define WLN_DATA_PAGELIST	0x100

/* L2's code reports each exit of L3 with `out %al, $WLN_PORT_EXIT`. */
#define WLN_PORT_EXIT		0xd0
/* ... and a failed VMLAUNCH/VMRESUME (VMX) with this port. */
#define WLN_PORT_VMFAIL		0xd1
/*
 * VMX: where L2's code finds the VMXON and VMCS addresses and its VMREAD
 * and VMWRITE tables: (field, value) pairs of u64, ended by field ~0, in
 * L2's CPL-0 data page of vCPU 0 (mapped in L2's own paging, unused by
 * --nested otherwise).
 */
#define WLN_VMX_FIELDS		0x70400		/* WL_KDATA_GPA(0) + 0x400: setup */
#define WLN_VMX_FIELDS_MAX	150
#define WLN_VMX_READS		0x70e00		/* read after each exit */
#define WLN_VMX_READS_MAX	7
#define WLN_VMX_WRITES		0x70e80		/* written before each VMRESUME */
#define WLN_VMX_WRITES_MAX	6
#define WLN_VMX_PTRS		0x70f00		/* VMXON region, VMCS */
/* L3's "done" hypercall: %eax = WLN_HC_DONE, then ud2 (#UD is intercepted). */
#define WLN_HC_DONE		0x4e

/* The largest matrix: EPT's 12 R/W/XS/XU combinations, 4K and 2M. */
#define WLN_MAX_PAGES		24
#define WLN_MAX_ENTRIES		96

/* One L3 matrix page: its nested leaf and where it lives. */
struct wln_page {
	uint64_t gpa;		/* L3 GPA = L2 GPA */
	uint64_t size;		/* 4K or 2M */
	uint64_t leaf;		/* the nested-table leaf as written */
	uint64_t leaf_gpa;	/* where that leaf is (L2 GPA) */
	unsigned int level;	/* 1 (4K) or 2 (2M) */
	char name[16];		/* "U1 W0 NX1", "R1 W0 XS1 XU0", "none" */
};

/*
 * Everything the VMM writes for one pass: the nested tables (NPT or EPT,
 * 4 levels, rooted at @root) and L3's own page tables (4 levels at
 * WLN_L3_PML4_GPA, identity with 2M pages over the nested area).
 */
struct wln_layout {
	enum mbec_mmu mmu;	/* MBEC_MMU_NPT or MBEC_MMU_EPT */
	bool feature;		/* GMET (NPT) or MBEC (EPT) on for this pass */
	bool execonly;		/* EPT: execute-only pages are in the matrix */
	unsigned int cpl;	/* L3's CPL in this pass: 0 or 3 */
	uint64_t root;		/* nCR3, or the EPT PML4 (EPTP without its flags) */
	uint64_t l3_cr3;
	unsigned int nr_pages;
	struct wln_page pages[WLN_MAX_PAGES];
	unsigned int nr_entries;
	struct workload_entry entries[WLN_MAX_ENTRIES];
	bool failed;		/* the builder ran out of room (a bug) */
};

/*
 * Build the layout of one pass.  @mmu is MBEC_MMU_NPT or MBEC_MMU_EPT;
 * @feature GMET or MBEC; @execonly (EPT) adds the execute-only pages;
 * @cpl 0 or 3.  L3's own entries grant everything (U = @cpl == 3 in the
 * leaves, so that an EPT linear address is a user one exactly at CPL 3);
 * the nested entries of L3's code, stack, data and page tables grant what
 * L3 needs at @cpl with @feature (under GMET: U=0, or a supervisor fetch
 * faults; without it: U=1, or every access faults).  Returns 0, or -1
 * for bad arguments or a full builder.
 */
int wln_layout_build(struct wln_layout *l, enum mbec_mmu mmu, bool feature, bool execonly,
		     unsigned int cpl);

/* Write @l's tables into L2's RAM at @ram (the pool and L3's tables zeroed first). */
void wln_layout_write(const struct wln_layout *l, uint8_t *ram);

/* The nested entry at @gpa, 0 when the builder wrote none there. */
uint64_t wln_entry_at(const struct wln_layout *l, uint64_t gpa);

/*
 * The model mode of L2's nested paging for @l: NPT with L2's EFER.NXE and
 * GMET; EPT with MBEC, execute-only and advanced information as given.
 */
struct mbec_mode wln_mode(const struct wln_layout *l, bool advanced_info);

/*
 * What the reference model says access @op of L3 (at l->cpl) to page @p
 * must do: a walk of @l's nested entries from l->root (the access is to
 * the final translated address, made through L3's paging, whose entries
 * are U = cpl == 3, W=1, NX=0).  0 and @out filled (MBEC_RES_OK,
 * MBEC_RES_NPF with EXITINFO1, or MBEC_RES_EPT_VIOLATION with the exit
 * qualification and its undefined bits), or -1.
 */
int wln_expect(const struct wln_layout *l, const struct wln_page *p, enum mbec_op op,
	       bool advanced_info, struct mbec_outcome *out);

/* The guest code (nested_guest.c), copied by the VMM into L2 and L3. */
extern const unsigned char wln_guest_start[], wln_guest_end[];
extern const unsigned char wln_svm_loop[], wln_svm_exit[];
extern const unsigned char wln_vmx_setup[], wln_vmx_load[], wln_vmx_exit[];
extern const unsigned char wln_l3_matrix[], wln_l3_done_ud2[];
extern const unsigned char wln_l3_read_insn[], wln_l3_write_insn[];

static inline uint64_t wln_guest_at(uint64_t base, const unsigned char *sym)
{
	return base + (uint64_t)(sym - wln_guest_start);
}

/* ---- the run (nested_run.c), and what each vendor supplies ------------- */

struct wl_vm;
struct wl_vcpu;
struct wln_run;

#define WLN_MAX_PASSES		4

/* One exit of L3 to L2 as the vendor code decodes it. */
enum wln_exit_kind { WLN_EXIT_FAULT, WLN_EXIT_DONE, WLN_EXIT_OTHER };

struct wln_exit {
	enum wln_exit_kind kind;
	uint64_t info;		/* FAULT: #NPF EXITINFO1 or the exit qualification */
	uint64_t gpa;		/* FAULT: the guest-physical address */
	uint64_t rip;		/* L3's RIP at the exit */
	char what[160];		/* OTHER: one line saying what it was */
};

struct wln_ops {
	const char *name;	/* "SVM with NPT" */
	const char *fault_name;	/* "#NPF", "EPT violation" */
	const char *info_name;	/* "EXITINFO1", "exit qualification" */
	const char *feature;	/* "GMET", "MBEC" */
	enum mbec_mmu mmu;
	/*
	 * Once: does KVM offer what the run needs (0, or 2 with @err), is
	 * the feature offered (@feature_note says why not), and set L2 up.
	 */
	int (*setup)(struct wln_run *w, bool *feature, char *feature_note, size_t note_len,
		     char *err, size_t len);
	/* Before each pass: L2's registers and the VMCB/VMCS for layout @l. */
	int (*enter)(struct wln_run *w, const struct wln_layout *l, char *err, size_t len);
	/* After an OUT to WLN_PORT_EXIT: what L3's exit was. */
	int (*decode)(struct wln_run *w, struct wln_exit *e);
	/* Resume L3 at @rip with @rsp on the next entry. */
	int (*resume)(struct wln_run *w, uint64_t rip, uint64_t rsp);
	/* After an OUT to WLN_PORT_VMFAIL (VMX): one line on what failed. */
	int (*failed)(struct wln_run *w, char *buf, size_t len);
};

extern const struct wln_ops wln_svm_ops, wln_vmx_ops;

struct wln_pass {
	bool ran;
	struct wln_layout l;
	uint8_t want[WLN_MAX_PAGES];		/* WL_RES_* bits the model lets through */
	uint64_t want_info[WLN_MAX_PAGES][3];
	uint64_t undef[WLN_MAX_PAGES][3];	/* bits of the info the model leaves open */
	uint8_t got[WLN_MAX_PAGES];		/* L3's result bytes */
	uint8_t faulted[WLN_MAX_PAGES];
	uint64_t got_info[WLN_MAX_PAGES][3];
	bool bad[WLN_MAX_PAGES][3];		/* outcome or info not the model's */
	unsigned long accesses, faults, mismatches;
};

struct wln_run {
	struct wl_vm *vm;
	struct wl_vcpu *c;
	const struct wln_ops *ops;
	bool feature;			/* offered, so its passes run */
	char feature_note[200];
	bool advanced_info;		/* EPT: the exit qualification has bits 9-11 */
	bool execonly;			/* EPT: execute-only pages in the matrix */
	unsigned int nr_passes, cur;
	struct wln_pass passes[WLN_MAX_PASSES];
	bool done;
	unsigned long exits;
	uint64_t vendor[32];		/* the vendor code's own state */
};

/* KVM's CPUID entry @fn (index 0) as the VMM gave it to L2, or NULL. */
const struct kvm_cpuid_entry2 *wln_cpuid(struct wl_vm *vm, uint32_t fn);

/* L2's copy of the blob: in its CPL-0 code pages, after guest.c's blob. */
#define WLN_L2_CODE_OFFSET	0x2000

#endif /* MBEC_WORKLOAD_NESTED_H */
