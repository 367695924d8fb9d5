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

	/*
	 * L2, VMX: %rdi -> the VMXON region's address, %rsi -> the VMCS's,
	 * %rdx -> the (field, value) table to VMWRITE, ended by field ~0;
	 * %r8-%r10 are L3's %rdi, %rsi, %rdx.  wln_vmx_setup enters VMX
	 * operation first (the first pass), wln_vmx_load does not.  A failed
	 * instruction goes to the VMFAIL port with %rbx = the step (1 VMXON,
	 * 2 VMCLEAR, 3 VMPTRLD, 4 VMWRITE, 5 VMLAUNCH, 6 VMRESUME) and %rax =
	 * the VM-instruction error (or 0).
	 */
	"	.balign 16\n"
	"	.globl wln_vmx_setup\n"
	"wln_vmx_setup:\n"
	"	mov $1, %ebx\n"
	"	vmxon (%rdi)\n"
	"	jbe 8f\n"
	"	.globl wln_vmx_load\n"
	"wln_vmx_load:\n"
	"	mov $2, %ebx\n"
	"	vmclear (%rsi)\n"
	"	jbe 8f\n"
	"	mov $3, %ebx\n"
	"	vmptrld (%rsi)\n"
	"	jbe 8f\n"
	"	mov $4, %ebx\n"
	"1:	mov (%rdx), %rax\n"
	"	cmp $-1, %rax\n"
	"	je 2f\n"
	"	mov 8(%rdx), %rcx\n"
	"	vmwrite %rcx, %rax\n"
	"	jbe 8f\n"
	"	add $16, %rdx\n"
	"	jmp 1b\n"
	"2:	mov %r8, %rdi\n"
	"	mov %r9, %rsi\n"
	"	mov %r10, %rdx\n"
	"	mov $5, %ebx\n"
	"	vmlaunch\n"
	"	jmp 8f\n"
	/*
	 * The host RIP: L3's registers are live except RSP and RIP.  Keep
	 * %rax, %rcx and %rdx on L2's stack, VMREAD the fields of the read
	 * table (WLN_VMX_READS: field, then the value is stored after it),
	 * hand the exit over, VMWRITE the resume table (WLN_VMX_WRITES), and
	 * go back to L3.
	 */
	"	.balign 16\n"
	"	.globl wln_vmx_exit\n"
	"wln_vmx_exit:\n"
	"	push %rax\n"
	"	push %rcx\n"
	"	push %rdx\n"
	"	mov $" STR(WLN_VMX_READS) ", %rdx\n"
	"3:	mov (%rdx), %rax\n"
	"	cmp $-1, %rax\n"
	"	je 4f\n"
	"	vmread %rax, %rcx\n"
	"	mov %rcx, 8(%rdx)\n"
	"	add $16, %rdx\n"
	"	jmp 3b\n"
	"4:	out %al, $" STR(WLN_PORT_EXIT) "\n"
	"	mov $" STR(WLN_VMX_WRITES) ", %rdx\n"
	"5:	mov (%rdx), %rax\n"
	"	cmp $-1, %rax\n"
	"	je 6f\n"
	"	mov 8(%rdx), %rcx\n"
	"	vmwrite %rcx, %rax\n"
	"	add $16, %rdx\n"
	"	jmp 5b\n"
	"6:	pop %rdx\n"
	"	pop %rcx\n"
	"	pop %rax\n"
	"	vmresume\n"
	"	mov $6, %ebx\n"
	"8:	mov $0, %eax\n"
	"	jc 9f\n"
	"	mov $0x4400, %eax\n"
	"	vmread %rax, %rax\n"
	"9:	out %al, $" STR(WLN_PORT_VMFAIL) "\n"
	"	jmp 9b\n"

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
