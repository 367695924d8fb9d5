// SPDX-License-Identifier: GPL-2.0
/*
 * gmet-test: a bare-metal SVM host that checks an emulator's GMET (guest
 * mode execute trap) against AMD's rules, one guest run per case.
 *
 * Booted with QEMU's -kernel (multiboot, boot.S).  For each case it builds a
 * nested page table (NPT) that maps the first GiB 1:1, with one 4 KiB test
 * page at TPAGE whose U/W/NX bits the case chooses, and runs a 64-bit guest
 * (on the host's own 1:1 page tables) at CPL 0 or 3 that reads, writes or
 * executes the test page.  It prints, on COM1, one line per case:
 *
 *   gmet-case NAME exit=0xCODE info1=0xEXITINFO1 info2=0xEXITINFO2
 *
 * and "gmet-done" at the end, then leaves through isa-debug-exit (port
 * 0xf4) when there is one.  It decides nothing: tests/lab/gmet.t holds the
 * expected values and compares.  The first line tells what the CPU offers:
 *
 *   gmet-cpuid svm=0|1 npt=0|1 gmet=0|1 edx=0x...   (Fn8000_000A EDX)
 *
 * The guest's own code (boot.S: guest_read, guest_write) lives in the first
 * 2 MiB, mapped in the NPT with U = !gmet: a user page without GMET (every
 * nested access is a user access), a supervisor page with GMET (so that a
 * CPL 0 guest may run it), as KVM maps its guests under GMET.
 */
#include <stdint.h>

typedef uint64_t u64;
typedef uint32_t u32;
typedef uint16_t u16;
typedef uint8_t u8;

#define TPAGE		0x400000ull	/* the test page: NPT PD[2] -> PT[0] */

#define PTE_P		(1ull << 0)
#define PTE_RW		(1ull << 1)
#define PTE_US		(1ull << 2)
#define PTE_PS		(1ull << 7)
#define PTE_NX		(1ull << 63)

#define MSR_EFER	0xc0000080u
#define MSR_STAR	0xc0000081u
#define MSR_LSTAR	0xc0000082u
#define MSR_SFMASK	0xc0000084u
#define MSR_VM_HSAVE_PA	0xc0010117u
#define EFER_SCE	(1ull << 0)
#define EFER_LME	(1ull << 8)
#define EFER_LMA	(1ull << 10)
#define EFER_NXE	(1ull << 11)
#define EFER_SVME	(1ull << 12)

/* VMCB offsets (AMD APM vol. 2, appendix B) */
#define C_INTERCEPT_EXC	0x008
#define C_INTERCEPT	0x00c	/* 64 bits: the two "misc" vectors */
#define C_ASID		0x058
#define C_TLB_CTL	0x05c
#define C_EXITCODE	0x070
#define C_EXITINFO1	0x078
#define C_EXITINFO2	0x080
#define C_NP_CTL	0x090
#define C_NCR3		0x0b0
#define S_ES		0x400
#define S_CS		0x410
#define S_SS		0x420
#define S_DS		0x430
#define S_CPL		0x4cb
#define S_EFER		0x4d0
#define S_CR4		0x548
#define S_CR3		0x550
#define S_CR0		0x558
#define S_DR7		0x560
#define S_DR6		0x568
#define S_RFLAGS	0x570
#define S_RIP		0x578
#define S_RSP		0x5d8
#define S_RAX		0x5f8
#define S_GPAT		0x668

#define NP_ENABLE	(1ull << 0)
#define NP_GMET		(1ull << 3)
#define INTERCEPT_HLT	(1ull << 24)
#define INTERCEPT_VMRUN	(1ull << 32)
#define INTERCEPT_VMMCALL (1ull << 33)

extern u64 svm_run(u64 vmcb);
extern u64 host_pml4[];
extern char guest_read[], guest_write[];

static u8 vmcb[4096] __attribute__((aligned(4096)));
static u8 hsave[4096] __attribute__((aligned(4096)));
static u64 npt_pml4[512] __attribute__((aligned(4096)));
static u64 npt_pdpt[512] __attribute__((aligned(4096)));
static u64 npt_pd[512] __attribute__((aligned(4096)));
static u64 npt_pt[512] __attribute__((aligned(4096)));
static u8 guest_stack[4096] __attribute__((aligned(4096)));

/* ---- port I/O and the serial line --------------------------------------- */

static inline void outb(u16 port, u8 v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static inline u8 inb(u16 port)
{
	u8 v;

	__asm__ volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
	return v;
}

#define COM1 0x3f8

static void putc_serial(char c)
{
	int spin = 100000;

	while (!(inb(COM1 + 5) & 0x20) && --spin)
		;
	outb(COM1, (u8)c);
}

static void puts_serial(const char *s)
{
	for (; *s; s++) {
		if (*s == '\n')
			putc_serial('\r');
		putc_serial(*s);
	}
}

static void puthex(u64 v)
{
	char buf[19];
	int i = 18;

	buf[i] = 0;
	do {
		buf[--i] = "0123456789abcdef"[v & 15];
		v >>= 4;
	} while (v);
	buf[--i] = 'x';
	buf[--i] = '0';
	puts_serial(&buf[i]);
}

/* ---- CPU helpers --------------------------------------------------------- */

static inline void cpuid(u32 leaf, u32 *a, u32 *b, u32 *c, u32 *d)
{
	__asm__ volatile("cpuid" : "=a"(*a), "=b"(*b), "=c"(*c), "=d"(*d)
			 : "a"(leaf), "c"(0));
}

static inline u64 rdmsr(u32 msr)
{
	u32 lo, hi;

	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((u64)hi << 32) | lo;
}

static inline void wrmsr(u32 msr, u64 v)
{
	__asm__ volatile("wrmsr" : : "c"(msr), "a"((u32)v), "d"((u32)(v >> 32)));
}

static inline u64 read_cr(int n)
{
	u64 v = 0;

	if (n == 0)
		__asm__ volatile("mov %%cr0, %0" : "=r"(v));
	else if (n == 3)
		__asm__ volatile("mov %%cr3, %0" : "=r"(v));
	else if (n == 4)
		__asm__ volatile("mov %%cr4, %0" : "=r"(v));
	return v;
}

static void put8(u32 off, u8 v) { vmcb[off] = v; }
static void put16(u32 off, u16 v) { *(volatile u16 *)&vmcb[off] = v; }
static void put32(u32 off, u32 v) { *(volatile u32 *)&vmcb[off] = v; }
static void put64(u32 off, u64 v) { *(volatile u64 *)&vmcb[off] = v; }
static u64 get64(u32 off) { return *(volatile u64 *)&vmcb[off]; }

static void zero(void *p, u64 n)
{
	volatile u8 *b = p;

	while (n--)
		*b++ = 0;
}

/* ---- the cases ----------------------------------------------------------- */

enum op { OP_READ, OP_WRITE, OP_FETCH, OP_FETCH_3_THEN_0 };

struct gcase {
	const char *name;
	int gmet;	/* nested-control bit 3 */
	int cpl;	/* the guest's privilege level */
	enum op op;
	u64 tpage;	/* the test page's NPT leaf bits (P is implied) */
};

/*
 * OP_FETCH_3_THEN_0: the guest starts at CPL 3 on the test page, whose
 * first instruction is SYSCALL; LSTAR sends it to TPAGE + 0x10 at CPL 0.
 * With GMET and a U=1 page the second fetch must fault even though the
 * first one (same page, user mode) was allowed and is cached: this is the
 * case that needs separate nested TLB entries per privilege level.
 */
static const struct gcase cases[] = {
	{ "gmet1-cpl0-fetch-u1", 1, 0, OP_FETCH, PTE_RW | PTE_US },
	{ "gmet0-cpl0-read-u0", 0, 0, OP_READ, PTE_RW },
	{ "gmet0-cpl0-fetch-u1", 0, 0, OP_FETCH, PTE_RW | PTE_US },
	{ "gmet0-cpl0-fetch-u0", 0, 0, OP_FETCH, PTE_RW },
	{ "gmet0-cpl3-read-u0", 0, 3, OP_READ, PTE_RW },
	{ "gmet0-cpl0-write-ro", 0, 0, OP_WRITE, PTE_US },
	{ "gmet1-cpl0-fetch-u0", 1, 0, OP_FETCH, PTE_RW },
	{ "gmet1-cpl0-read-u0", 1, 0, OP_READ, PTE_RW },
	{ "gmet1-cpl0-write-u0", 1, 0, OP_WRITE, PTE_RW },
	{ "gmet1-cpl0-read-u1", 1, 0, OP_READ, PTE_RW | PTE_US },
	{ "gmet1-cpl0-write-ro", 1, 0, OP_WRITE, PTE_US },
	{ "gmet1-cpl0-fetch-nx", 1, 0, OP_FETCH, PTE_RW | PTE_NX },
	{ "gmet1-cpl3-fetch-u1", 1, 3, OP_FETCH, PTE_RW | PTE_US },
	{ "gmet1-cpl3-fetch-u0", 1, 3, OP_FETCH, PTE_RW },
	{ "gmet1-cpl3-read-u0", 1, 3, OP_READ, PTE_RW },
	{ "gmet1-cpl3-write-ro", 1, 3, OP_WRITE, PTE_US },
	{ "gmet1-cpl3-fetch-nx", 1, 3, OP_FETCH, PTE_RW | PTE_US | PTE_NX },
	{ "gmet1-cpl3then0-fetch-u1", 1, 3, OP_FETCH_3_THEN_0, PTE_RW | PTE_US },
	{ "gmet1-cpl3then0-fetch-u0", 1, 3, OP_FETCH_3_THEN_0, PTE_RW },
};

static void build_npt(const struct gcase *c)
{
	u64 home_us = c->gmet ? 0 : PTE_US;
	int i;

	zero(npt_pml4, sizeof(npt_pml4));
	zero(npt_pdpt, sizeof(npt_pdpt));
	npt_pml4[0] = (u64)npt_pdpt | PTE_P | PTE_RW | PTE_US;
	npt_pdpt[0] = (u64)npt_pd | PTE_P | PTE_RW | PTE_US;
	for (i = 0; i < 512; i++)
		npt_pd[i] = ((u64)i << 21) | PTE_P | PTE_RW | PTE_PS | home_us;
	npt_pd[TPAGE >> 21] = (u64)npt_pt | PTE_P | PTE_RW | PTE_US;
	for (i = 0; i < 512; i++)
		npt_pt[i] = (TPAGE + ((u64)i << 12)) | PTE_P | PTE_RW | home_us;
	npt_pt[0] = TPAGE | PTE_P | c->tpage;
}

/* Code on the test page: at +0 SYSCALL then VMMCALL, at +0x10 VMMCALL. */
static void fill_tpage(void)
{
	volatile u8 *p = (volatile u8 *)TPAGE;
	static const u8 code[] = {
		0x0f, 0x05,		/* +0x00 syscall (OP_FETCH_3_THEN_0) */
		0x0f, 0x01, 0xd9,	/* +0x02 vmmcall (unreached) */
	};
	u64 i;

	for (i = 0; i < 4096; i++)
		p[i] = 0xf4;		/* hlt: intercepted, never expected */
	for (i = 0; i < sizeof(code); i++)
		p[i] = code[i];
	p[0x10] = 0x0f;			/* +0x10 vmmcall */
	p[0x11] = 0x01;
	p[0x12] = 0xd9;
	p[0x20] = 0x0f;			/* +0x20 vmmcall: the plain fetch target */
	p[0x21] = 0x01;
	p[0x22] = 0xd9;
}

static void seg(u32 off, u16 sel, u16 attrib)
{
	put16(off, sel);
	put16(off + 2, attrib);
	put32(off + 4, 0xffffffffu);
	put64(off + 8, 0);
}

static void setup_vmcb(const struct gcase *c)
{
	int dpl = c->cpl;
	u64 rip;

	zero(vmcb, sizeof(vmcb));
	put32(C_INTERCEPT_EXC, 0xffffffffu);	/* every exception exits */
	put64(C_INTERCEPT, INTERCEPT_VMRUN | INTERCEPT_VMMCALL | INTERCEPT_HLT);
	put32(C_ASID, 1);
	put8(C_TLB_CTL, 1);			/* flush this ASID */
	put64(C_NP_CTL, NP_ENABLE | (c->gmet ? NP_GMET : 0));
	put64(C_NCR3, (u64)npt_pml4);

	/* 64-bit code (L=1, P, S, type 0xb) and data segments at DPL = CPL */
	seg(S_CS, (u16)(dpl ? 0x1b : 0x08), (u16)(0x29b | (dpl << 5)));
	seg(S_SS, (u16)(dpl ? 0x23 : 0x10), (u16)(0x093 | (dpl << 5)));
	seg(S_DS, (u16)(dpl ? 0x23 : 0x10), (u16)(0x093 | (dpl << 5)));
	seg(S_ES, (u16)(dpl ? 0x23 : 0x10), (u16)(0x093 | (dpl << 5)));
	put8(S_CPL, (u8)dpl);
	put64(S_EFER, EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE | EFER_SVME);
	put64(S_CR0, read_cr(0));
	put64(S_CR3, read_cr(3));
	put64(S_CR4, read_cr(4));
	put64(S_DR7, 0x400);
	put64(S_DR6, 0xffff0ff0);
	put64(S_RFLAGS, 0x2);
	put64(S_RSP, (u64)guest_stack + sizeof(guest_stack));
	put64(S_GPAT, 0x0007040600070406ull);

	switch (c->op) {
	case OP_READ:
		rip = (u64)guest_read;
		break;
	case OP_WRITE:
		rip = (u64)guest_write;
		break;
	case OP_FETCH:
		rip = TPAGE + 0x20;
		break;
	default:
		rip = TPAGE;
		break;
	}
	put64(S_RIP, rip);
	put64(S_RAX, TPAGE + 0x100);
}

void host_main(void);

void host_main(void)
{
	u32 a, b, cx, d, svm, npt, gmet;
	unsigned int i;

	outb(COM1 + 1, 0);	/* no interrupts; 8N1 as the firmware left it */
	outb(COM1 + 3, 0x03);

	cpuid(0x80000001u, &a, &b, &cx, &d);
	svm = (cx >> 2) & 1;
	d = 0;
	if (svm)
		cpuid(0x8000000au, &a, &b, &cx, &d);
	npt = d & 1;
	gmet = (d >> 17) & 1;
	puts_serial("\ngmet-cpuid svm=");	/* after the firmware's text */
	puthex(svm);
	puts_serial(" npt=");
	puthex(npt);
	puts_serial(" gmet=");
	puthex(gmet);
	puts_serial(" edx=");
	puthex(d);
	puts_serial("\n");

	if (svm && npt) {
		wrmsr(MSR_EFER, rdmsr(MSR_EFER) | EFER_SVME);
		wrmsr(MSR_VM_HSAVE_PA, (u64)hsave);
		/* SYSCALL from the guest's CPL 3 lands on TPAGE + 0x10, CPL 0 */
		wrmsr(MSR_STAR, (u64)0x08 << 32);
		wrmsr(MSR_LSTAR, TPAGE + 0x10);
		wrmsr(MSR_SFMASK, 0);
		fill_tpage();

		for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
			const struct gcase *c = &cases[i];

			build_npt(c);
			setup_vmcb(c);
			svm_run((u64)vmcb);
			puts_serial("gmet-case ");
			puts_serial(c->name);
			puts_serial(" exit=");
			puthex(get64(C_EXITCODE));
			puts_serial(" info1=");
			puthex(get64(C_EXITINFO1));
			puts_serial(" info2=");
			puthex(get64(C_EXITINFO2));
			puts_serial("\n");
		}
	}
	puts_serial("gmet-done\n");
	outb(0xf4, 0);		/* isa-debug-exit: QEMU exits with status 1 */
}
