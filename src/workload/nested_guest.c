// SPDX-License-Identifier: GPL-2.0
/*
 * The nested workload's guest code, assembled by the host compiler into
 * .rodata like guest.c's blob.  The VMM copies it twice: into L2's CPL-0
 * code pages (for the hypervisor loop) and to WLN_L3_CODE_GPA (for L3).
 * Position independent: only RIP-relative references inside the blob.
 *
 * L2, SVM: %rax holds the VMCB's GPA.  VMRUN runs L3 until its next
 * #VMEXIT (every exit L2 intercepts); the OUT then hands the exit to the
 * VMM, which reads the VMCB from L2's RAM, writes what L3 must do next
 * into it and resumes L2 at the VMRUN.  L3's general registers other than
 * RAX and RSP stay in the CPU across VMRUN and #VMEXIT, so the VMM reads
 * L3's %r14/%r15 (below) from L2's registers.
 *
 * L3: the matrix routine of guest.c with its fault protocol: before each
 * access the resume address goes to %r15 and the stack pointer to %r14;
 * a nested fault exits to L2 and the VMM resumes L3 there.  %rdi = GPA
 * list, %rsi = count, %rdx = result bytes (bit 0 read, 1 write, 2 fetch
 * succeeded).  At the end: %eax = WLN_HC_DONE and ud2, whose #UD L2
 * intercepts.
 */
#include "workload/internal.h"
#include "workload/nested.h"

#define STR_(x) #x
#define STR(x) STR_(x)

__asm__(
	"	.pushsection .rodata.wln_guest, \"a\"\n"
	"	.balign 16\n"
	"	.globl wln_guest_start\n"
	"wln_guest_start:\n"

	"	.globl wln_svm_loop\n"
	"wln_svm_loop:\n"
	"	vmrun\n"
	"	.globl wln_svm_exit\n"
	"wln_svm_exit:\n"
	"	out %al, $" STR(WLN_PORT_EXIT) "\n"
	"	jmp wln_svm_loop\n"

	"	.balign 16\n"
	"	.globl wln_l3_matrix\n"
	"wln_l3_matrix:\n"
	"	xor %ecx, %ecx\n"
	"1:	cmp %rsi, %rcx\n"
	"	jae 9f\n"
	"	mov (%rdi,%rcx,8), %rbx\n"
	"	movb $0, (%rdx,%rcx)\n"
	"	mov %rsp, %r14\n"
	"	lea 2f(%rip), %r15\n"
	"	.globl wln_l3_read_insn\n"
	"wln_l3_read_insn:\n"
	"	movb " STR(WLN_DATA_OFFSET) "(%rbx), %al\n"
	"	orb $" STR(WL_RES_READ) ", (%rdx,%rcx)\n"
	"2:	lea 3f(%rip), %r15\n"
	"	.globl wln_l3_write_insn\n"
	"wln_l3_write_insn:\n"
	"	movb %cl, " STR(WLN_DATA_OFFSET) "(%rbx)\n"
	"	orb $" STR(WL_RES_WRITE) ", (%rdx,%rcx)\n"
	"3:	lea 4f(%rip), %r15\n"
	"	call *%rbx\n"
	"	orb $" STR(WL_RES_FETCH) ", (%rdx,%rcx)\n"
	"4:	inc %rcx\n"
	"	jmp 1b\n"
	"9:	xor %r15d, %r15d\n"
	"	mov $" STR(WLN_HC_DONE) ", %eax\n"
	"	.globl wln_l3_done_ud2\n"
	"wln_l3_done_ud2:\n"
	"	ud2\n"
	"	jmp wln_l3_done_ud2\n"

	"	.globl wln_guest_end\n"
	"wln_guest_end:\n"
	"	.popsection\n");
