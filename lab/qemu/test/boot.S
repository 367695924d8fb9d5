/*
 * gmet-test: the bare-metal host of lab/qemu/test (see gmet-test.c).
 * A multiboot image (a.out-kludge header, so the loader takes a flat binary
 * at 1 MiB and starts it in 32-bit protected mode): switch to long mode on
 * an identity map of the first GiB, then call host_main().  svm_run()
 * enters a guest with VMRUN and returns after its #VMEXIT.
 */
#define MB_MAGIC	0x1badb002
#define MB_FLAGS	0x00010000	/* addresses in the header (a.out kludge) */
#define PTE_P		0x001
#define PTE_RW		0x002
#define PTE_US		0x004
#define PTE_PS		0x080
#define MSR_EFER	0xc0000080
#define EFER_LME	0x100
#define EFER_NXE	0x800

	.section .mbhdr, "a"
	.align 4
mb_header:
	.long MB_MAGIC
	.long MB_FLAGS
	.long -(MB_MAGIC + MB_FLAGS)
	.long mb_header			/* header_addr */
	.long image_start		/* load_addr */
	.long image_end			/* load_end_addr */
	.long bss_end			/* bss_end_addr */
	.long entry32			/* entry_addr */

	.text
	.code32
	.globl entry32
entry32:
	cli
	movl $stack_top, %esp
	lgdt gdt_desc
	movl %cr4, %eax
	orl $0x20, %eax			/* PAE */
	movl %eax, %cr4
	movl $host_pml4, %eax
	movl %eax, %cr3
	movl $MSR_EFER, %ecx
	rdmsr
	orl $(EFER_LME | EFER_NXE), %eax
	wrmsr
	movl %cr0, %eax
	orl $0x80010001, %eax		/* PG, WP, PE */
	movl %eax, %cr0
	ljmp $0x08, $entry64

	.code64
entry64:
	movw $0x10, %ax
	movw %ax, %ds
	movw %ax, %es
	movw %ax, %ss
	movw %ax, %fs
	movw %ax, %gs
	movq $stack_top, %rsp
	call host_main
1:	cli
	hlt
	jmp 1b

/* u64 svm_run(u64 vmcb_pa): VMRUN keeps only RAX, RSP and RIP for us. */
	.globl svm_run
svm_run:
	pushq %rbx
	pushq %rbp
	pushq %r12
	pushq %r13
	pushq %r14
	pushq %r15
	movq %rdi, %rax
	vmrun
	popq %r15
	popq %r14
	popq %r13
	popq %r12
	popq %rbp
	popq %rbx
	ret

/* Guest code: RAX holds the address to touch; VMMCALL reports success. */
	.globl guest_read, guest_write
guest_read:
	movq (%rax), %rbx
	vmmcall
	jmp guest_read
guest_write:
	movq %rbx, (%rax)
	vmmcall
	jmp guest_write

	.data
	.align 8
gdt:
	.quad 0
	.quad 0x00af9a000000ffff	/* 0x08: 64-bit code, DPL 0 */
	.quad 0x00cf92000000ffff	/* 0x10: data, DPL 0 */
gdt_desc:
	.word gdt_desc - gdt - 1
	.long gdt

/* The host's (and the guest's) page tables: the first GiB, 2 MiB pages, U=1. */
	.align 4096
	.globl host_pml4
host_pml4:
	.quad host_pdpt + (PTE_P | PTE_RW | PTE_US)
	.fill 511, 8, 0
host_pdpt:
	.quad host_pd + (PTE_P | PTE_RW | PTE_US)
	.fill 511, 8, 0
host_pd:
	.set i, 0
	.rept 512
	.quad (i << 21) | (PTE_P | PTE_RW | PTE_US | PTE_PS)
	.set i, i + 1
	.endr

	.section .note.GNU-stack, "", @progbits

	.bss
	.align 4096
	.space 16384
stack_top:
