// SPDX-License-Identifier: GPL-2.0
/*
 * The guest's code, assembled by the host compiler into .rodata and
 * copied by the VMM to WL_UCODE_GPA (U=1, for CPL 3) and WL_KCODE_GPA
 * (U=0, for CPL 0, where SMEP forbids fetching from user pages).  It must
 * be position independent (only RIP-relative references inside the blob)
 * and use nothing that depends on the CPL.
 *
 * Fault protocol: before each access the code puts the address to resume
 * at in %r15 and its stack pointer in %r14.  An access the guest's paging
 * forbids raises #PF; the CPL-0 stub exits to the VMM, which records the
 * fault and puts the vCPU back at CPL 3 with RIP = %r15, RSP = %r14.  So
 * the "succeeded" marks right after each access run only for accesses
 * that did not fault, and the VMM sees every fault: between them, the
 * two account for every access exactly once.
 *
 * Hypercalls: %eax = WL_HC_*, then ud2 (#UD exits the same way); the VMM
 * resumes after the ud2.
 */
#include "workload/internal.h"

#define STR_(x) #x
#define STR(x) STR_(x)

__asm__(
	"	.pushsection .rodata.wl_guest, \"a\"\n"
	"	.balign 16\n"
	"	.globl wl_guest_start\n"
	"wl_guest_start:\n"

	/*
	 * matrix: %rdi = GVA list (u64 each), %rsi = count, %rdx = result
	 * bytes.  For each page: read the data byte, write it, call the stub.
	 */
	"	.globl wl_guest_matrix\n"
	"wl_guest_matrix:\n"
	"	xor %ecx, %ecx\n"
	"1:	cmp %rsi, %rcx\n"
	"	jae 9f\n"
	"	mov (%rdi,%rcx,8), %rbx\n"
	"	movb $0, (%rdx,%rcx)\n"
	"	mov %rsp, %r14\n"
	"	lea 2f(%rip), %r15\n"
	"	.globl wl_guest_read_insn\n"
	"wl_guest_read_insn:\n"
	"	movb " STR(WL_DATA_OFFSET) "(%rbx), %al\n"
	"	orb $" STR(WL_RES_READ) ", (%rdx,%rcx)\n"
	"2:	lea 3f(%rip), %r15\n"
	"	.globl wl_guest_write_insn\n"
	"wl_guest_write_insn:\n"
	"	movb %cl, " STR(WL_DATA_OFFSET) "(%rbx)\n"
	"	orb $" STR(WL_RES_WRITE) ", (%rdx,%rcx)\n"
	"3:	lea 4f(%rip), %r15\n"
	"	.globl wl_guest_call_insn\n"
	"wl_guest_call_insn:\n"
	"	call *%rbx\n"
	"	orb $" STR(WL_RES_FETCH) ", (%rdx,%rcx)\n"
	"4:	inc %rcx\n"
	"	jmp 1b\n"
	"9:	xor %r15d, %r15d\n"
	"	mov $" STR(WL_HC_DONE) ", %eax\n"
	"	.globl wl_guest_done_ud2\n"
	"wl_guest_done_ud2:\n"
	"	ud2\n"
	"	jmp wl_guest_matrix\n"

	/*
	 * storm: %rdi = first page, %rsi = page count.  Increment one byte
	 * per page, then tell the VMM (which zaps the set) and go again.
	 */
	"	.balign 16\n"
	"	.globl wl_guest_storm\n"
	"wl_guest_storm:\n"
	"	xor %r15d, %r15d\n"
	"1:	mov %rdi, %rbx\n"
	"	mov %rsi, %rcx\n"
	"2:	incb (%rbx)\n"
	"	add $4096, %rbx\n"
	"	dec %rcx\n"
	"	jnz 2b\n"
	"	mov $" STR(WL_HC_PASS) ", %eax\n"
	"	.globl wl_guest_pass_ud2\n"
	"wl_guest_pass_ud2:\n"
	"	ud2\n"
	"	jmp 1b\n"

	/*
	 * probe: %rdi = a page nothing else touches, %rsi = a loop count.
	 * Read the page, count down, and report.  probe.c runs it at CPL 3
	 * and at CPL 0 to learn whether CPL-0 code runs natively.
	 */
	"	.balign 16\n"
	"	.globl wl_guest_probe\n"
	"wl_guest_probe:\n"
	"	xor %r15d, %r15d\n"
	"	movb (%rdi), %al\n"
	"	mov %rsi, %rcx\n"
	"1:	dec %rcx\n"
	"	jnz 1b\n"
	"	mov $" STR(WL_HC_PROBE) ", %eax\n"
	"	.globl wl_guest_probe_ud2\n"
	"wl_guest_probe_ud2:\n"
	"	ud2\n"
	"	jmp wl_guest_probe_ud2\n"

	"	.globl wl_guest_end\n"
	"wl_guest_end:\n"
	"	.popsection\n");
