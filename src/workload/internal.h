/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Private to src/workload: the guest physical and virtual memory map,
 * the selectors and the guest code blob.
 *
 * GPA map (one flat RAM, two memslots split at 1 GiB):
 *   0x00001000  GDT (0x1000) and one 64-bit TSS per vCPU (0x1800 + v * 0x80)
 *   0x00002000  IDT, 32 gates
 *   0x00003000  CPL-0 exception stubs, 16 bytes per vector
 *   0x00010000  CPL-0 stacks, one page per vCPU
 *   0x00020000  CPL-3 code (the guest blob), 4 pages
 *   0x00030000  CPL-3 stacks, one page per vCPU
 *   0x00040000  CPL-3 data, one page per vCPU (results, page list)
 *   0x00060000  the guest blob again, U=0: the code of the CPL-0 passes, 4 pages
 *   0x00070000  CPL-0 data, one page per vCPU (results, page list; U=0)
 *   0x00100000  paging-structure pool (1 MiB; never mapped in the guest)
 *   0x00200000  4K matrix pages, 32 per vCPU, vCPU v at + v * 0x20000
 *   0x00800000  the CPL-3 probe page, U=1, alone in its 2M (see probe.c)
 *   0x00a00000  the CPL-0 probe page, U=0, alone in its 2M
 *   0x01000000  storm pages, 512 per vCPU, vCPU v at + v * 2 MiB
 *   0x40000000  2M matrix pages, 32 per vCPU, vCPU v at + v * 64 MiB
 * GVA map: the system area is identity-mapped with 4K pages; matrix and
 * storm pages live far away from their GPAs so the two never get mixed
 * up: 4K matrix at 64 GiB, 2M matrix at 128 GiB, storm at 192 GiB (each
 * with the same per-vCPU strides as above).
 */
#ifndef MBEC_WORKLOAD_INTERNAL_H
#define MBEC_WORKLOAD_INTERNAL_H

#include <stdint.h>
#include <string.h>

#include "workload/workload.h"

#define WL_4K			0x1000ULL
#define WL_2M			0x200000ULL

#define WL_GDT_GPA		0x1000ULL
#define WL_TSS_GPA(v)		(0x1800ULL + (uint64_t)(v) * 0x80)
#define WL_IDT_GPA		0x2000ULL
#define WL_HANDLER_GPA		0x3000ULL
#define WL_HANDLER_STRIDE	16
#define WL_KSTACK_GPA(v)	(0x10000ULL + (uint64_t)(v) * WL_4K)
#define WL_UCODE_GPA		0x20000ULL
#define WL_UCODE_PAGES		4
#define WL_USTACK_GPA(v)	(0x30000ULL + (uint64_t)(v) * WL_4K)
#define WL_UDATA_GPA(v)		(0x40000ULL + (uint64_t)(v) * WL_4K)
#define WL_KCODE_GPA		0x60000ULL
#define WL_KDATA_GPA(v)		(0x70000ULL + (uint64_t)(v) * WL_4K)
#define WL_PROBE_GPA(cpl0)	(0x800000ULL + ((cpl0) ? WL_2M : 0))
#define WL_PT_POOL_GPA		0x100000ULL
#define WL_PT_POOL_SIZE		0x100000ULL
#define WL_SYS_SIZE		WL_2M		/* identity-mapped system area */

#define WL_M4K_GPA(v, i)	(0x200000ULL + (uint64_t)(v) * 0x20000 + (uint64_t)(i) * WL_4K)
#define WL_STORM_GPA(v, i)	(0x1000000ULL + (uint64_t)(v) * WL_2M + (uint64_t)(i) * WL_4K)
#define WL_M2M_GPA(v, j)	(0x40000000ULL + (uint64_t)(v) * 0x4000000 + (uint64_t)(j) * WL_2M)
#define WL_SLOT1_GPA		0x40000000ULL
#define WL_RAM_SIZE(n)		(WL_SLOT1_GPA + (uint64_t)(n) * 0x4000000)

#define WL_M4K_GVA(v, i)	(0x1000000000ULL + (uint64_t)(v) * WL_2M + (uint64_t)(i) * WL_4K)
#define WL_M2M_GVA(v, j)	(0x2000000000ULL + (uint64_t)(v) * 0x4000000 + \
				 (uint64_t)(j) * WL_2M)
#define WL_STORM_GVA(v, i)	(0x3000000000ULL + (uint64_t)(v) * WL_2M + (uint64_t)(i) * WL_4K)

/*
 * Control registers of the CPL-3 pass: long mode with PAE paging, WP, NXE;
 * no SMEP/SMAP/PKE (they do not apply to CPL-3 accesses, and leaving them
 * off keeps the walk the same on every host).  The CPL-0 passes change
 * CR0.WP, CR4.SMEP, CR4.SMAP and EFLAGS.AC (workload_smodes).
 */
#define WL_CR0			0x80050033ULL	/* PG AM WP NE ET MP PE */
/* PAE, OSFXSR, OSXMMEXCPT */
#define WL_CR4			(X86_CR4_PAE | MBEC_BIT(9) | MBEC_BIT(10))
/* LME, LMA, NXE */
#define WL_EFER			(MBEC_BIT(8) | MBEC_BIT(10) | X86_EFER_NXE)

/* Inside every matrix page: a `ret` at the start, the data byte further on. */
#define WL_STUB_OFFSET		0
#define WL_DATA_OFFSET		0x800

/* Inside the per-vCPU CPL-3 data page. */
/* one byte per matrix page: bit 0 read, 1 write, 2 fetch succeeded */
#define WL_UDATA_RESULTS	0x000
#define WL_UDATA_PAGELIST	0x100	/* u64 GVA per matrix page */

#define WL_RES_READ		1
#define WL_RES_WRITE		2
#define WL_RES_FETCH		4

/* GDT selectors (the user ones with RPL 3). */
#define WL_SEL_KCODE		0x08
#define WL_SEL_KDATA		0x10
#define WL_SEL_UDATA		0x1b
#define WL_SEL_UCODE		0x23
#define WL_SEL_TSS(v)		(0x28 + (v) * 16)
#define WL_GDT_ENTRIES(n)	(5 + 2 * (n))

/* Exception stubs exit with `out %al, $(WL_PORT_EXC + vector)`. */
#define WL_PORT_EXC		0xe0

/* "Hypercalls": CPL-3 code puts a number in %eax and executes ud2. */
#define WL_HC_DONE		1	/* matrix pass over all pages finished */
#define WL_HC_PASS		2	/* storm pass over the working set finished */
#define WL_HC_PROBE		3	/* the probe ran to its end */

/* The guest code blob (guest.c), copied to WL_UCODE_GPA and WL_KCODE_GPA. */
extern const unsigned char wl_guest_start[], wl_guest_end[];
extern const unsigned char wl_guest_matrix[], wl_guest_storm[];
extern const unsigned char wl_guest_done_ud2[], wl_guest_pass_ud2[];
extern const unsigned char wl_guest_read_insn[], wl_guest_write_insn[], wl_guest_call_insn[];
extern const unsigned char wl_guest_probe[], wl_guest_probe_ud2[];

/* Where @sym of the blob is in the copy at @base (WL_UCODE_GPA or WL_KCODE_GPA). */
static inline uint64_t wl_guest_at(uint64_t base, const unsigned char *sym)
{
	return base + (uint64_t)(sym - wl_guest_start);
}

static inline uint64_t wl_guest_addr(const unsigned char *sym)
{
	return wl_guest_at(WL_UCODE_GPA, sym);
}

static inline void put64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

static inline uint64_t get64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

/* layout.c: write every paging structure of @l into guest RAM. */
void wl_layout_write_tables(const struct workload_layout *l, uint8_t *ram);

#endif /* MBEC_WORKLOAD_INTERNAL_H */
