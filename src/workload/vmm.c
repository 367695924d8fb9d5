// SPDX-License-Identifier: GPL-2.0
/*
 * The workload VMM: plain KVM ioctls, no libraries.
 *
 * Machine state: the VMM puts each vCPU straight into 64-bit long mode
 * with KVM_SET_SREGS (CR0.PG|PE|WP, CR4.PAE, EFER.LME|LMA|NXE, CR3 = the
 * layout's PML4) at CPL 3: CS and SS are the GDT's DPL-3 descriptors.
 * The guest's CPL-3 code (guest.c) is all that touches the test pages, so
 * on a shadow-paging KVM whose guests run natively only at CPL 3 every
 * access goes through a real SPTE fault, and on VMX/SVM it is just a guest.
 *
 * Exceptions: the GDT also has a CPL-0 code segment and one TSS per vCPU
 * (RSP0 = that vCPU's CPL-0 stack); the IDT sends every vector to a
 * 4-byte stub `out %al, $(0xe0 + vector); hlt; jmp .-1`.  So a guest #PF
 * (or the ud2 "hypercall") is delivered by the CPU (or KVM's emulation of
 * it) the architectural way, and the stub's OUT becomes KVM_EXIT_IO: the
 * VMM reads the exception frame from the CPL-0 stack and CR2 from the
 * sregs, accounts for the fault, and puts the vCPU back at CPL 3 with
 * KVM_SET_REGS/KVM_SET_SREGS (RIP/RSP from %r15/%r14, see guest.c).  No
 * IRET runs at CPL 0 and the guest never needs IOPL.  Why this way: KVM
 * offers no way to intercept #PF for userspace (KVM_SET_GUEST_DEBUG only
 * covers #DB/#BP), and a missing IDT would turn the first #PF into a
 * triple fault that loses the error code.
 */
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "cli/json.h"
#include "workload/internal.h"

#define WL_MAX_MISMATCH_LINES	16
#define WL_ROUND_TIMEOUT_S	20.0

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
	/* matrix, per round */
	uint8_t faulted[WORKLOAD_MATRIX_PAGES];
	bool done;
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
	/* matrix totals per page: bit counts of successes and faults */
	unsigned long page_ok[WORKLOAD_MAX_VCPUS][WORKLOAD_MATRIX_PAGES][3];
	unsigned long page_fault[WORKLOAD_MAX_VCPUS][WORKLOAD_MATRIX_PAGES][3];
	uint64_t pte_after[WORKLOAD_MAX_VCPUS][WORKLOAD_MATRIX_PAGES];
};

static volatile sig_atomic_t wl_stop;

void workload_request_stop(void)
{
	wl_stop = 1;
}

void workload_opts_init(struct workload_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->pattern = WORKLOAD_MATRIX;
	o->vcpus = 1;
	o->go_fd = -1;
}

static void set_err(char *buf, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void set_err(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- environment ----------------------------------------------------------- */

static int open_kvm(char *err, size_t len)
{
	int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);

	if (fd >= 0)
		return fd;
	if (errno == ENOENT || errno == ENODEV || errno == ENXIO)
		set_err(err, len, "/dev/kvm is missing: enable virtualization (VT-x/AMD-V) and load KVM (modprobe kvm_intel or kvm_amd)");
	else if (errno == EACCES || errno == EPERM)
		set_err(err, len, "cannot open /dev/kvm: permission denied; run as root or as a member of the group owning /dev/kvm (usually kvm)");
	else
		set_err(err, len, "cannot open /dev/kvm: %s", strerror(errno));
	return -1;
}

static int check_api(int kvm_fd, char *err, size_t len)
{
	static const struct { int cap; const char *name; } caps[] = {
		{ KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY" },
		{ KVM_CAP_EXT_CPUID, "KVM_CAP_EXT_CPUID" },
		{ KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT" },
	};
	int v = ioctl(kvm_fd, KVM_GET_API_VERSION, 0);
	size_t i;

	if (v < 0) {
		set_err(err, len, "/dev/kvm does not answer KVM_GET_API_VERSION (%s): it is not a KVM device",
			strerror(errno));
		return -1;
	}
	if (v != KVM_API_VERSION) {
		set_err(err, len, "KVM API version %d is not supported (need %d): kernel too old or too new",
			v, KVM_API_VERSION);
		return -1;
	}
	for (i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
		if (ioctl(kvm_fd, KVM_CHECK_EXTENSION, caps[i].cap) <= 0) {
			set_err(err, len, "KVM API too old: %s is missing (need Linux 4.11 or later)",
				caps[i].name);
			return -1;
		}
	}
	return 0;
}

int workload_probe(char *err, size_t errlen)
{
	int fd = open_kvm(err, errlen);

	if (fd < 0)
		return 2;
	if (check_api(fd, err, errlen)) {
		close(fd);
		return 2;
	}
	close(fd);
	return 0;
}

/* ---- guest memory ---------------------------------------------------------- */

static void put64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

static uint64_t get64(const uint8_t *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

static void write_gdt_idt(struct wl_vm *vm)
{
	uint8_t *gdt = vm->ram + WL_GDT_GPA, *idt = vm->ram + WL_IDT_GPA;
	unsigned int v, vec;

	memset(gdt, 0, WL_4K);
	/* Accessed bits preset: the CPU then never writes the GDT. */
	put64(gdt + 0x08, 0x00af9b000000ffffULL);	/* CPL-0 code, L=1 */
	put64(gdt + 0x10, 0x00cf93000000ffffULL);	/* CPL-0 data */
	put64(gdt + 0x18, 0x00cff3000000ffffULL);	/* CPL-3 data */
	put64(gdt + 0x20, 0x00affb000000ffffULL);	/* CPL-3 code, L=1 */
	for (v = 0; v < vm->nr_vcpus; v++) {
		uint64_t base = WL_TSS_GPA(v), limit = 0x67;
		uint8_t *d = gdt + WL_SEL_TSS(v);
		uint8_t *tss = vm->ram + base;

		/* 64-bit available TSS (type 9), present. */
		put64(d, (limit & 0xffff) | ((base & 0xffffff) << 16) | (0x89ULL << 40) |
			 ((limit >> 16 & 0xf) << 48) | ((base >> 24 & 0xff) << 56));
		put64(d + 8, base >> 32);
		memset(tss, 0, 0x68);
		put64(tss + 4, WL_KSTACK_GPA(v) + WL_4K);	/* RSP0 */
		tss[0x66] = 0x68;				/* no I/O bitmap */
	}

	memset(idt, 0, WL_4K);
	for (vec = 0; vec < 32; vec++) {
		uint64_t h = WL_HANDLER_GPA + vec * WL_HANDLER_STRIDE;
		uint8_t *stub = vm->ram + h;

		put64(idt + vec * 16, (h & 0xffff) | ((uint64_t)WL_SEL_KCODE << 16) |
				      (0x8eULL << 40) | ((h >> 16 & 0xffff) << 48));
		put64(idt + vec * 16 + 8, h >> 32);
		stub[0] = 0xe6;				/* out %al, $imm8 */
		stub[1] = WL_PORT_EXC + vec;
		stub[2] = 0xf4;				/* hlt */
		stub[3] = 0xeb;				/* jmp back to the hlt */
		stub[4] = 0xfd;
	}
}

/* Everything the guest sees at the start of a round. */
static void write_memory(struct wl_vm *vm)
{
	struct workload_layout *l = vm->l;
	unsigned int i;

	write_gdt_idt(vm);
	memset(vm->ram + WL_UCODE_GPA, 0xcc, WL_UCODE_PAGES * WL_4K);
	memcpy(vm->ram + WL_UCODE_GPA, wl_guest_start, (size_t)(wl_guest_end - wl_guest_start));
	wl_layout_write_tables(l, vm->ram);
	if (vm->o->inject_mismatch) {
		const struct workload_page *p4 = &l->pages[16 + 8 + WL_A1D1];
		const struct workload_page *p2 = &l->pages[32 + 16 + 8 + WL_A1D1];

		put64(vm->ram + p4->pte_gpa, p4->pte & ~PTE_RW);
		put64(vm->ram + p2->pte_gpa, p2->pte | PTE_NX);
	}
	for (i = 0; i < l->nr_pages; i++) {
		const struct workload_page *p = &l->pages[i];
		uint8_t *udata;

		if (p->kind != WL_PAGE_MATRIX)
			continue;
		vm->ram[p->gpa + WL_STUB_OFFSET] = 0xc3;	/* ret */
		vm->ram[p->gpa + WL_DATA_OFFSET] = 0x5a;
		udata = vm->ram + WL_UDATA_GPA(p->vcpu);
		put64(udata + WL_UDATA_PAGELIST + 8 * (i % WORKLOAD_MATRIX_PAGES), p->gva);
		udata[WL_UDATA_RESULTS + i % WORKLOAD_MATRIX_PAGES] = 0xff;
	}
}

static int set_slots(struct wl_vm *vm, bool present, char *err, size_t len)
{
	struct kvm_userspace_memory_region r[2] = {
		{ .slot = 0, .guest_phys_addr = 0, .memory_size = WL_SLOT1_GPA,
		  .userspace_addr = (uintptr_t)vm->ram },
		{ .slot = 1, .guest_phys_addr = WL_SLOT1_GPA,
		  .memory_size = vm->ram_size - WL_SLOT1_GPA,
		  .userspace_addr = (uintptr_t)(vm->ram + WL_SLOT1_GPA) },
	};
	int i;

	for (i = 0; i < 2; i++) {
		if (!present)
			r[i].memory_size = 0;
		if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &r[i])) {
			set_err(err, len, "KVM_SET_USER_MEMORY_REGION (slot %d): %s", i,
				strerror(errno));
			return -1;
		}
	}
	return 0;
}

/* ---- vCPUs ----------------------------------------------------------------- */

static struct kvm_segment seg(uint16_t sel, uint8_t type, uint8_t dpl, bool code)
{
	return (struct kvm_segment) {
		.base = 0, .limit = 0xffffffff, .selector = sel, .type = type,
		.present = 1, .dpl = dpl, .db = code ? 0 : 1, .s = 1, .l = code ? 1 : 0,
		.g = 1,
	};
}

static void user_segments(struct kvm_sregs *s)
{
	s->cs = seg(WL_SEL_UCODE, 11, 3, true);
	s->ss = seg(WL_SEL_UDATA, 3, 3, false);
	s->ds = s->es = s->fs = s->gs = s->ss;
}

static int setup_sregs(struct wl_vcpu *c, char *err, size_t len)
{
	struct kvm_sregs s;

	if (ioctl(c->fd, KVM_GET_SREGS, &s)) {
		set_err(err, len, "KVM_GET_SREGS: %s", strerror(errno));
		return -1;
	}
	user_segments(&s);
	s.tr = (struct kvm_segment) {
		.base = WL_TSS_GPA(c->id), .limit = 0x67, .selector = WL_SEL_TSS(c->id),
		.type = 11, .present = 1,
	};
	s.ldt = (struct kvm_segment) { .selector = 0, .type = 2, .unusable = 1 };
	s.gdt.base = WL_GDT_GPA;
	s.gdt.limit = WL_GDT_ENTRIES(c->vm->nr_vcpus) * 8 - 1;
	s.idt.base = WL_IDT_GPA;
	s.idt.limit = 32 * 16 - 1;
	s.cr0 = c->vm->l->cr0;
	s.cr3 = c->vm->l->cr3;
	s.cr4 = c->vm->l->cr4;
	s.efer = c->vm->l->efer;
	if (ioctl(c->fd, KVM_SET_SREGS, &s)) {
		set_err(err, len, "KVM_SET_SREGS (long mode, CPL 3): %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* Start (or restart) @c at CPL 3 at @rip with three arguments. */
static int enter_user(struct wl_vcpu *c, uint64_t rip, uint64_t rdi, uint64_t rsi, uint64_t rdx)
{
	struct kvm_regs r = {
		.rip = rip, .rsp = WL_USTACK_GPA(c->id) + WL_4K - 64, .rflags = 2,
		.rdi = rdi, .rsi = rsi, .rdx = rdx,
	};

	return ioctl(c->fd, KVM_SET_REGS, &r);
}

static void stats_open(struct wl_vcpu *c)
{
	static const char *const names[3] = { "pf_fixed", "pf_guest", "pf_taken" };
	struct kvm_stats_header h;
	size_t dsz;
	char *descs = NULL;
	unsigned int i, k;

	c->stats_off[0] = c->stats_off[1] = c->stats_off[2] = -1;
	c->stats_fd = -1;
	if (ioctl(c->vm->kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_BINARY_STATS_FD) <= 0)
		return;
	c->stats_fd = ioctl(c->fd, KVM_GET_STATS_FD, NULL);
	if (c->stats_fd < 0)
		return;
	if (pread(c->stats_fd, &h, sizeof(h), 0) != sizeof(h) || h.num_desc > 4096 ||
	    h.name_size > 4096)
		goto fail;
	dsz = sizeof(struct kvm_stats_desc) + h.name_size;
	descs = calloc(h.num_desc, dsz);
	if (!descs || pread(c->stats_fd, descs, dsz * h.num_desc, h.desc_offset) !=
		      (ssize_t)(dsz * h.num_desc))
		goto fail;
	for (i = 0; i < h.num_desc; i++) {
		struct kvm_stats_desc *d = (struct kvm_stats_desc *)(descs + i * dsz);

		d->name[h.name_size - 1] = 0;
		for (k = 0; k < 3; k++)
			if (!strcmp(d->name, names[k]) && d->size == 1)
				c->stats_off[k] = h.data_offset + d->offset;
	}
	free(descs);
	return;
fail:
	free(descs);
	close(c->stats_fd);
	c->stats_fd = -1;
}

static long long stat_read(struct wl_vcpu *c, int k)
{
	uint64_t v;

	if (c->stats_fd < 0 || c->stats_off[k] < 0 ||
	    pread(c->stats_fd, &v, 8, c->stats_off[k]) != 8)
		return -1;
	return (long long)v;
}

static int setup_vcpu(struct wl_vm *vm, unsigned int id, char *err, size_t len)
{
	struct wl_vcpu *c = &vm->vcpus[id];

	c->vm = vm;
	c->id = id;
	c->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, id);
	if (c->fd < 0) {
		set_err(err, len, "KVM_CREATE_VCPU %u: %s", id, strerror(errno));
		return -1;
	}
	c->run = mmap(NULL, vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, c->fd, 0);
	if (c->run == MAP_FAILED) {
		c->run = NULL;
		set_err(err, len, "mmap of the kvm_run area: %s", strerror(errno));
		return -1;
	}
	if (ioctl(c->fd, KVM_SET_CPUID2, vm->cpuid)) {
		set_err(err, len, "KVM_SET_CPUID2: %s", strerror(errno));
		return -1;
	}
	if (setup_sregs(c, err, len))
		return -1;
	stats_open(c);
	return 0;
}

static int get_cpuid(struct wl_vm *vm, char *err, size_t len)
{
	int n = 64;

	for (;;) {
		vm->cpuid = calloc(1, sizeof(*vm->cpuid) + n * sizeof(struct kvm_cpuid_entry2));
		if (!vm->cpuid) {
			set_err(err, len, "out of memory");
			return -1;
		}
		vm->cpuid->nent = n;
		if (!ioctl(vm->kvm_fd, KVM_GET_SUPPORTED_CPUID, vm->cpuid))
			return 0;
		free(vm->cpuid);
		vm->cpuid = NULL;
		if (errno != E2BIG || n >= 4096) {
			set_err(err, len, "KVM_GET_SUPPORTED_CPUID: %s", strerror(errno));
			return -1;
		}
		n *= 2;
	}
}

static void vm_destroy(struct wl_vm *vm)
{
	unsigned int i;

	for (i = 0; i < vm->nr_vcpus; i++) {
		struct wl_vcpu *c = &vm->vcpus[i];

		if (c->stats_fd >= 0)
			close(c->stats_fd);
		if (c->run)
			munmap(c->run, vm->run_size);
		if (c->fd >= 0)
			close(c->fd);
	}
	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->kvm_fd >= 0)
		close(vm->kvm_fd);
	if (vm->ram)
		munmap(vm->ram, vm->ram_size);
	free(vm->cpuid);
	workload_layout_free(vm->l);
	pthread_mutex_destroy(&vm->lock);
}

static int vm_create(struct wl_vm *vm, const struct workload_opts *o, char *err, size_t len)
{
	unsigned int i;

	memset(vm, 0, sizeof(*vm));
	pthread_mutex_init(&vm->lock, NULL);
	vm->o = o;
	vm->kvm_fd = vm->vm_fd = -1;
	vm->nr_vcpus = o->vcpus ? o->vcpus : 1;
	for (i = 0; i < WORKLOAD_MAX_VCPUS; i++) {
		vm->vcpus[i].fd = -1;
		vm->vcpus[i].stats_fd = -1;
	}
	vm->l = workload_layout_new(o);
	if (!vm->l) {
		set_err(err, len, "cannot lay out the guest (bad options or out of memory)");
		return -1;
	}
	vm->kvm_fd = open_kvm(err, len);
	if (vm->kvm_fd < 0 || check_api(vm->kvm_fd, err, len))
		return -1;
	vm->run_size = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (vm->run_size < (int)sizeof(struct kvm_run)) {
		set_err(err, len, "KVM_GET_VCPU_MMAP_SIZE: %s", strerror(errno));
		return -1;
	}
	vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0) {
		set_err(err, len, "KVM_CREATE_VM: %s", strerror(errno));
		return -1;
	}
	/* Only needed by VMX without unrestricted guest; harmless elsewhere. */
	(void)ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, 0xfffbd000UL);
	vm->ram_size = vm->l->ram_size;
	vm->ram = mmap(NULL, vm->ram_size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (vm->ram == MAP_FAILED) {
		vm->ram = NULL;
		set_err(err, len, "cannot reserve %llu MiB of guest RAM: %s",
			(unsigned long long)(vm->ram_size >> 20), strerror(errno));
		return -1;
	}
	/*
	 * Storm pages one 4K host page each: a transparent huge page would
	 * let one fault map a whole pass on a TDP host.
	 */
	(void)madvise(vm->ram + WL_STORM_GPA(0, 0), vm->nr_vcpus * WL_2M, MADV_NOHUGEPAGE);
	write_memory(vm);
	if (set_slots(vm, true, err, len) || get_cpuid(vm, err, len))
		return -1;
	for (i = 0; i < vm->nr_vcpus; i++)
		if (setup_vcpu(vm, i, err, len))
			return -1;
	return 0;
}

/* ---- running --------------------------------------------------------------- */

static void vcpu_fail(struct wl_vcpu *c, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void vcpu_fail(struct wl_vcpu *c, int status, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (c->status)
		return;
	c->status = status;
	n = snprintf(c->error, sizeof(c->error), "vCPU %u: ", c->id);
	va_start(ap, fmt);
	vsnprintf(c->error + n, sizeof(c->error) - n, fmt, ap);
	va_end(ap);
}

static void mismatch(struct wl_vm *vm, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void mismatch(struct wl_vm *vm, const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&vm->lock);
	if (vm->nr_mismatch_lines < WL_MAX_MISMATCH_LINES) {
		va_start(ap, fmt);
		vsnprintf(vm->mismatch[vm->nr_mismatch_lines++], sizeof(vm->mismatch[0]), fmt, ap);
		va_end(ap);
	}
	vm->mismatches++;
	pthread_mutex_unlock(&vm->lock);
}

static bool has_error_code(unsigned int vec)
{
	return vec == 8 || (vec >= 10 && vec <= 14) || vec == 17 || vec == 21 || vec == 29 ||
	       vec == 30;
}

struct wl_frame {
	uint64_t err, rip, cs, rflags, rsp, ss;
};

static int read_frame(struct wl_vcpu *c, const struct kvm_regs *r, unsigned int vec,
		      struct wl_frame *f)
{
	uint64_t lo = WL_KSTACK_GPA(c->id), sp = r->rsp;
	unsigned int n = has_error_code(vec) ? 6 : 5;
	const uint8_t *p;

	if (sp < lo || sp + n * 8 > lo + WL_4K)
		return -1;
	p = c->vm->ram + sp;
	f->err = n == 6 ? get64(p) : 0;
	p += (n - 5) * 8;
	f->rip = get64(p);
	f->cs = get64(p + 8);
	f->rflags = get64(p + 16);
	f->rsp = get64(p + 24);
	f->ss = get64(p + 32);
	return 0;
}

/* Back to CPL 3 at @rip with @rsp; the CPL-0 stub never returns. */
static int resume_user(struct wl_vcpu *c, struct kvm_regs *r, uint64_t rip, uint64_t rsp,
		       uint64_t rflags)
{
	struct kvm_sregs s;

	if (ioctl(c->fd, KVM_GET_SREGS, &s))
		return -1;
	user_segments(&s);
	r->rip = rip;
	r->rsp = rsp;
	r->rflags = (rflags & 0x3d7fd7) | 2;	/* the user flags, never VM */
	if (ioctl(c->fd, KVM_SET_SREGS, &s) || ioctl(c->fd, KVM_SET_REGS, r))
		return -1;
	return 0;
}

static const char *const access_names[3] = { "read", "write", "fetch" };

/* A #PF in the matrix routine: which page, which access, and was it right? */
static int matrix_fault(struct wl_vcpu *c, const struct wl_frame *f, uint64_t cr2)
{
	struct wl_vm *vm = c->vm;
	const struct workload_page *pages = &vm->l->pages[c->id * WORKLOAD_MATRIX_PAGES];
	uint64_t rd = wl_guest_addr(wl_guest_read_insn), wr = wl_guest_addr(wl_guest_write_insn);
	unsigned int i, kind;
	uint64_t want_cr2, want_err;

	for (i = 0; i < WORKLOAD_MATRIX_PAGES; i++)
		if (cr2 >= pages[i].gva && cr2 < pages[i].gva + pages[i].size)
			break;
	if (i == WORKLOAD_MATRIX_PAGES) {
		vcpu_fail(c, 1, "#PF outside the matrix: cr2 %#llx rip %#llx error code %#llx",
			  (unsigned long long)cr2, (unsigned long long)f->rip,
			  (unsigned long long)f->err);
		return -1;
	}
	if (f->rip == rd)
		kind = 0;
	else if (f->rip == wr)
		kind = 1;
	else if (f->rip == pages[i].gva + WL_STUB_OFFSET)
		kind = 2;
	else {
		vcpu_fail(c, 1, "#PF on matrix page %#llx at unexpected rip %#llx",
			  (unsigned long long)pages[i].gva, (unsigned long long)f->rip);
		return -1;
	}
	want_cr2 = pages[i].gva + (kind == 2 ? WL_STUB_OFFSET : WL_DATA_OFFSET);
	want_err = PFERR_PRESENT | PFERR_USER | (kind == 1 ? PFERR_WRITE : 0) |
		   (kind == 2 ? PFERR_FETCH : 0);
	if (cr2 != want_cr2 || f->err != want_err)
		mismatch(vm, "vCPU %u %s page gva %#llx pte %#llx: %s #PF with cr2 %#llx error code %#llx, expected cr2 %#llx error code %#llx",
			 c->id, pages[i].size == WL_2M ? "2M" : "4K", (unsigned long long)pages[i].gva,
			 (unsigned long long)pages[i].pte, access_names[kind],
			 (unsigned long long)cr2, (unsigned long long)f->err,
			 (unsigned long long)want_cr2, (unsigned long long)want_err);
	if (c->faulted[i] & (1 << kind))
		mismatch(vm, "vCPU %u page gva %#llx: %s faulted twice in one round", c->id,
			 (unsigned long long)pages[i].gva, access_names[kind]);
	c->faulted[i] |= 1 << kind;
	c->faults++;
	if (vm->o->verbose)
		fprintf(stderr, "workload: vCPU %u #PF %s %s page gva %#llx gpa %#llx pte %#llx: cr2 %#llx error code %#llx\n",
			c->id, access_names[kind], pages[i].size == WL_2M ? "2M" : "4K",
			(unsigned long long)pages[i].gva, (unsigned long long)pages[i].gpa,
			(unsigned long long)pages[i].pte, (unsigned long long)cr2,
			(unsigned long long)f->err);
	return 0;
}

/* The guest finished a matrix pass: compare with what the PTE bits dictate. */
static void matrix_verify(struct wl_vcpu *c)
{
	struct wl_vm *vm = c->vm;
	const struct workload_page *pages = &vm->l->pages[c->id * WORKLOAD_MATRIX_PAGES];
	const uint8_t *res = vm->ram + WL_UDATA_GPA(c->id) + WL_UDATA_RESULTS;
	unsigned int i, k;

	for (i = 0; i < WORKLOAD_MATRIX_PAGES; i++) {
		const struct workload_page *p = &pages[i];
		uint64_t pte = get64(vm->ram + p->pte_gpa);
		unsigned int want = (workload_read_ok(p->pte) ? WL_RES_READ : 0) |
				    (workload_write_ok(p->pte) ? WL_RES_WRITE : 0) |
				    (workload_fetch_ok(p->pte) ? WL_RES_FETCH : 0);
		unsigned int got = res[i], flt = c->faulted[i];

		vm->pte_after[c->id][i] = pte;
		c->accesses += 3;
		for (k = 0; k < 3; k++) {
			vm->page_ok[c->id][i][k] += !!(got & (1 << k));
			vm->page_fault[c->id][i][k] += !!(flt & (1 << k));
		}
		if (got > 7 || got != want || (flt | got) != 7 || (flt & got)) {
			mismatch(vm, "vCPU %u %s page gva %#llx pte %#llx (U%d W%d NX%d): succeeded %s%s%s faulted %s%s%s; expected success exactly for %s%s%s",
				 c->id, p->size == WL_2M ? "2M" : "4K", (unsigned long long)p->gva,
				 (unsigned long long)p->pte, !!(p->pte & PTE_US),
				 !!(p->pte & PTE_RW), !!(p->pte & PTE_NX),
				 got & 1 ? "r" : "-", got & 2 ? "w" : "-", got & 4 ? "x" : "-",
				 flt & 1 ? "r" : "-", flt & 2 ? "w" : "-", flt & 4 ? "x" : "-",
				 want & 1 ? "r" : "-", want & 2 ? "w" : "-", want & 4 ? "x" : "-");
			continue;
		}
		/* What the walk must have done to the guest entry: A on use, D on write. */
		if ((got && !(pte & PTE_A)) || ((got & WL_RES_WRITE) && !(pte & PTE_D)) ||
		    (!(got & WL_RES_WRITE) && (pte & PTE_D) != (p->pte & PTE_D)) ||
		    (pte & ~(PTE_A | PTE_D)) != (p->pte & ~(PTE_A | PTE_D)))
			mismatch(vm, "vCPU %u page gva %#llx: guest entry %#llx after the round (was %#llx; accesses that succeeded: %s%s%s)",
				 c->id, (unsigned long long)p->gva, (unsigned long long)pte,
				 (unsigned long long)p->pte, got & 1 ? "r" : "-",
				 got & 2 ? "w" : "-", got & 4 ? "x" : "-");
		if ((got & WL_RES_WRITE) && vm->ram[p->gpa + WL_DATA_OFFSET] != (uint8_t)i)
			mismatch(vm, "vCPU %u page gva %#llx: the byte written reads back as %#x",
				 c->id, (unsigned long long)p->gva,
				 vm->ram[p->gpa + WL_DATA_OFFSET]);
	}
}

static void storm_zap(struct wl_vcpu *c)
{
	uint8_t *base = c->vm->ram + WL_STORM_GPA(c->id, 0);

	if (madvise(base, WORKLOAD_STORM_PAGES * WL_4K, MADV_DONTNEED))
		vcpu_fail(c, 2, "madvise(MADV_DONTNEED) on guest RAM: %s", strerror(errno));
}

/* One exception exit (the stub's OUT): returns 1 to go on, 0 when done, -1 on failure. */
static int handle_exception(struct wl_vcpu *c, unsigned int vec)
{
	struct kvm_regs r;
	struct kvm_sregs s;
	struct wl_frame f;
	bool storm = c->vm->l->pattern == WORKLOAD_STORM;

	if (ioctl(c->fd, KVM_GET_REGS, &r) || ioctl(c->fd, KVM_GET_SREGS, &s)) {
		vcpu_fail(c, 2, "KVM_GET_REGS/SREGS: %s", strerror(errno));
		return -1;
	}
	if (read_frame(c, &r, vec, &f)) {
		vcpu_fail(c, 1, "exception %u with CPL-0 stack pointer %#llx off its stack", vec,
			  (unsigned long long)r.rsp);
		return -1;
	}
	if ((f.cs & 3) != 3) {
		vcpu_fail(c, 1, "exception %u raised at CPL %llu, rip %#llx (error code %#llx, cr2 %#llx)",
			  vec, (unsigned long long)(f.cs & 3),
			  (unsigned long long)f.rip, (unsigned long long)f.err,
			  (unsigned long long)s.cr2);
		return -1;
	}
	if (vec == 14 && !storm && r.r15) {
		if (matrix_fault(c, &f, s.cr2))
			return -1;
		if (resume_user(c, &r, r.r15, r.r14, f.rflags))
			goto set_fail;
		return 1;
	}
	if (vec == 6 && !storm && f.rip == wl_guest_addr(wl_guest_done_ud2) &&
	    r.rax == WL_HC_DONE) {
		matrix_verify(c);
		c->done = true;
		if (resume_user(c, &r, f.rip + 2, f.rsp, f.rflags))
			goto set_fail;
		return 0;
	}
	if (vec == 6 && storm && f.rip == wl_guest_addr(wl_guest_pass_ud2) &&
	    r.rax == WL_HC_PASS) {
		__atomic_add_fetch(&c->passes, 1, __ATOMIC_RELAXED);
		__atomic_add_fetch(&c->accesses, WORKLOAD_STORM_PAGES, __ATOMIC_RELAXED);
		storm_zap(c);
		if (c->status || resume_user(c, &r, f.rip + 2, f.rsp, f.rflags))
			goto set_fail;
		return 1;
	}
	vcpu_fail(c, 1, "unexpected exception %u at rip %#llx (error code %#llx, cr2 %#llx, rax %#llx)",
		  vec, (unsigned long long)f.rip, (unsigned long long)f.err,
		  (unsigned long long)s.cr2, (unsigned long long)r.rax);
	return -1;
set_fail:
	vcpu_fail(c, 2, "cannot put the vCPU back at CPL 3: %s", strerror(errno));
	return -1;
}

static void *vcpu_thread(void *arg)
{
	struct wl_vcpu *c = arg;
	struct kvm_run *run = c->run;
	int ret;

	for (;;) {
		if (wl_stop && c->vm->l->pattern == WORKLOAD_STORM)
			break;
		if (ioctl(c->fd, KVM_RUN, 0)) {
			if (errno == EINTR || errno == EAGAIN) {
				run->immediate_exit = 0;
				if (wl_stop)
					break;
				continue;
			}
			vcpu_fail(c, 2, "KVM_RUN: %s", strerror(errno));
			break;
		}
		if (run->exit_reason == KVM_EXIT_INTR) {
			run->immediate_exit = 0;
			if (wl_stop)
				break;
			continue;
		}
		if (run->exit_reason == KVM_EXIT_IO && run->io.direction == KVM_EXIT_IO_OUT &&
		    run->io.port >= WL_PORT_EXC && run->io.port < WL_PORT_EXC + 32) {
			ret = handle_exception(c, run->io.port - WL_PORT_EXC);
			if (ret <= 0)
				break;
			continue;
		}
		{
			struct kvm_regs r = { 0 };

			ioctl(c->fd, KVM_GET_REGS, &r);
			if (run->exit_reason == KVM_EXIT_FAIL_ENTRY)
				vcpu_fail(c, 2, "KVM_EXIT_FAIL_ENTRY, hardware reason %#llx",
					  (unsigned long long)
					  run->fail_entry.hardware_entry_failure_reason);
			else if (run->exit_reason == KVM_EXIT_INTERNAL_ERROR)
				vcpu_fail(c, 2, "KVM internal error, suberror %u, rip %#llx",
					  run->internal.suberror, (unsigned long long)r.rip);
			else if (run->exit_reason == KVM_EXIT_SHUTDOWN)
				vcpu_fail(c, 1, "the guest shut down (triple fault) at rip %#llx",
					  (unsigned long long)r.rip);
			else
				vcpu_fail(c, 1, "unexpected exit reason %u at rip %#llx",
					  run->exit_reason, (unsigned long long)r.rip);
		}
		break;
	}
	return NULL;
}

static void kick_handler(int sig)
{
	(void)sig;
}

static void kick_all(struct wl_vm *vm)
{
	unsigned int i;

	for (i = 0; i < vm->nr_vcpus; i++) {
		struct wl_vcpu *c = &vm->vcpus[i];

		if (!c->thread_live)
			continue;
		__atomic_store_n(&c->run->immediate_exit, 1, __ATOMIC_SEQ_CST);
		pthread_kill(c->thread, SIGUSR2);
	}
}

static int start_threads(struct wl_vm *vm, char *err, size_t len)
{
	unsigned int i;
	int e;

	for (i = 0; i < vm->nr_vcpus; i++) {
		e = pthread_create(&vm->vcpus[i].thread, NULL, vcpu_thread, &vm->vcpus[i]);
		if (e) {
			set_err(err, len, "pthread_create: %s", strerror(e));
			return -1;
		}
		vm->vcpus[i].thread_live = true;
	}
	return 0;
}

/* Join every vCPU thread; with @deadline > 0, kick them when it passes. */
static bool join_threads(struct wl_vm *vm, double deadline)
{
	bool timed_out = false;
	unsigned int i;

	for (i = 0; i < vm->nr_vcpus; i++) {
		struct wl_vcpu *c = &vm->vcpus[i];

		if (!c->thread_live)
			continue;
		while (deadline > 0) {
			double t = now_s();
			struct timespec ts;

			if (t >= deadline) {
				timed_out = true;
				wl_stop = 1;
				kick_all(vm);
				break;
			}
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += 100 * 1000 * 1000;
			if (ts.tv_nsec >= 1000000000) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000;
			}
			if (!pthread_timedjoin_np(c->thread, NULL, &ts)) {
				c->thread_live = false;
				break;
			}
			if (wl_stop)
				kick_all(vm);
		}
		if (c->thread_live) {
			pthread_join(c->thread, NULL);
			c->thread_live = false;
		}
	}
	return timed_out;
}

static void vcpu_status(struct wl_vm *vm, struct workload_result *r)
{
	unsigned int i;

	for (i = 0; i < vm->nr_vcpus; i++) {
		struct wl_vcpu *c = &vm->vcpus[i];

		if (c->status && (!r->status || c->status > r->status)) {
			r->status = c->status;
			snprintf(r->error, sizeof(r->error), "%s", c->error);
		}
	}
}

static void sum_stats(struct wl_vm *vm, struct workload_result *r)
{
	long long *dst[3] = { &r->kvm_pf_fixed, &r->kvm_pf_guest, &r->kvm_pf_taken };
	unsigned int i, k;

	for (k = 0; k < 3; k++) {
		long long sum = 0;

		for (i = 0; i < vm->nr_vcpus; i++) {
			long long v = stat_read(&vm->vcpus[i], k);

			if (v < 0) {
				sum = -1;
				break;
			}
			sum += v;
		}
		*dst[k] = sum;
	}
}

/* ---- matrix ------------------------------------------------------------------ */

static void print_matrix(struct wl_vm *vm, const struct workload_result *r, FILE *out);
static void print_storm(struct wl_vm *vm, const struct workload_result *r, FILE *out,
			const double *rates, unsigned int nr_rates);

static int run_matrix(struct wl_vm *vm, struct workload_result *r)
{
	const struct workload_opts *o = vm->o;
	double t0 = now_s(), end = o->duration > 0 ? t0 + o->duration : 0;
	unsigned int i;

	for (;;) {
		for (i = 0; i < vm->nr_vcpus; i++) {
			struct wl_vcpu *c = &vm->vcpus[i];
			uint64_t udata = WL_UDATA_GPA(i);

			memset(c->faulted, 0, sizeof(c->faulted));
			c->done = false;
			if (enter_user(c, wl_guest_addr(wl_guest_matrix), udata + WL_UDATA_PAGELIST,
				       WORKLOAD_MATRIX_PAGES, udata + WL_UDATA_RESULTS)) {
				set_err(r->error, sizeof(r->error), "KVM_SET_REGS: %s",
					strerror(errno));
				return r->status = 2;
			}
		}
		if (start_threads(vm, r->error, sizeof(r->error))) {
			wl_stop = 1;
			kick_all(vm);
			join_threads(vm, 0);
			return r->status = 2;
		}
		if (join_threads(vm, now_s() + WL_ROUND_TIMEOUT_S) && !wl_stop) {
			set_err(r->error, sizeof(r->error), "a matrix round did not finish in %.0f s",
				WL_ROUND_TIMEOUT_S);
			return r->status = 1;
		}
		vcpu_status(vm, r);
		if (r->status)
			return r->status;
		for (i = 0; i < vm->nr_vcpus; i++)
			if (!vm->vcpus[i].done) {
				set_err(r->error, sizeof(r->error), "interrupted");
				return r->status = 2;
			}
		r->rounds++;
		if (!end || now_s() >= end || wl_stop)
			break;
		/* Next round: fresh guest entries, and every SPTE zapped by a memslot flush. */
		write_memory(vm);
		if (set_slots(vm, false, r->error, sizeof(r->error)) ||
		    set_slots(vm, true, r->error, sizeof(r->error)))
			return r->status = 2;
	}
	r->seconds = now_s() - t0;
	r->pages = vm->l->vcpus * WORKLOAD_MATRIX_PAGES;
	for (i = 0; i < vm->nr_vcpus; i++) {
		r->accesses += vm->vcpus[i].accesses;
		r->faults += vm->vcpus[i].faults;
	}
	r->mismatches = vm->mismatches;
	sum_stats(vm, r);
	if (vm->mismatches) {
		r->status = 1;
		set_err(r->error, sizeof(r->error), "self-check failed (%lu mismatches): %s",
			vm->mismatches, vm->mismatch[0]);
	}
	if (!o->quiet)
		print_matrix(vm, r, o->out ? o->out : stdout);
	return r->status;
}

/* ---- storm -------------------------------------------------------------------- */

static unsigned long storm_passes(struct wl_vm *vm)
{
	unsigned long sum = 0;
	unsigned int i;

	for (i = 0; i < vm->nr_vcpus; i++)
		sum += __atomic_load_n(&vm->vcpus[i].passes, __ATOMIC_RELAXED);
	return sum;
}

/*
 * CPU time the vCPU threads have used, in ns (0 when a clock cannot be
 * read): with the fault count it gives the CPU each fault cost them,
 * which, unlike faults per second, does not move when other work takes
 * the CPU away.  What a tracer adds to a fault shows up there.
 */
static double storm_cpu_ns(struct wl_vm *vm)
{
	struct timespec ts;
	clockid_t cid;
	double sum = 0;
	unsigned int i;

	for (i = 0; i < vm->nr_vcpus; i++) {
		if (pthread_getcpuclockid(vm->vcpus[i].thread, &cid) ||
		    clock_gettime(cid, &ts))
			return 0;
		sum += ts.tv_sec * 1e9 + ts.tv_nsec;
	}
	return sum;
}

static int run_storm(struct wl_vm *vm, struct workload_result *r)
{
	const struct workload_opts *o = vm->o;
	FILE *out = o->out ? o->out : stdout;
	double dur = o->duration > 0 ? o->duration : WORKLOAD_STORM_DEFAULT_S;
	double t0, tick, end, *rates, cpu_last = 0, cpu_now;
	unsigned long last = 0, now;
	unsigned int i, nr_rates = 0, max_rates = (unsigned int)dur + 2;

	rates = calloc(max_rates, sizeof(*rates));
	if (!rates) {
		set_err(r->error, sizeof(r->error), "out of memory");
		return r->status = 2;
	}
	for (i = 0; i < vm->nr_vcpus; i++) {
		if (enter_user(&vm->vcpus[i], wl_guest_addr(wl_guest_storm), WL_STORM_GVA(i, 0),
			       WORKLOAD_STORM_PAGES, 0)) {
			set_err(r->error, sizeof(r->error), "KVM_SET_REGS: %s", strerror(errno));
			free(rates);
			return r->status = 2;
		}
	}
	if (!o->quiet && !o->json) {
		fprintf(out, "storm: %u vCPU%s, %u pages each, zapped (MADV_DONTNEED) after every pass, %.1f s\n",
			vm->nr_vcpus, vm->nr_vcpus == 1 ? "" : "s",
			WORKLOAD_STORM_PAGES, dur);
		fflush(out);
	}
	t0 = now_s();
	end = t0 + dur;
	tick = t0;
	if (start_threads(vm, r->error, sizeof(r->error))) {
		r->status = 2;
		wl_stop = 1;
	} else {
		cpu_last = storm_cpu_ns(vm);
	}
	while (!wl_stop) {
		double t = now_s(), next = tick + 1.0, wait = (next < end ? next : end) - t;
		bool dead = false;

		if (wait > 0) {
			struct timespec ts = { (time_t)wait, (long)((wait - (time_t)wait) * 1e9) };

			nanosleep(&ts, NULL);
		}
		for (i = 0; i < vm->nr_vcpus; i++)
			if (__atomic_load_n(&vm->vcpus[i].status, __ATOMIC_RELAXED))
				dead = true;
		t = now_s();
		if (t >= next - 1e-3 || t >= end) {
			now = storm_passes(vm);
			cpu_now = storm_cpu_ns(vm);
			if (t - tick > 0.05 && nr_rates < max_rates) {
				double faults = (now - last) * (double)WORKLOAD_STORM_PAGES;

				rates[nr_rates] = faults / (t - tick);
				if (!o->quiet && !o->json && faults > 0 && cpu_now > cpu_last)
					fprintf(out, "%6.1fs  %12.0f faults/s  %8.0f ns CPU/fault\n",
						t - t0, rates[nr_rates], (cpu_now - cpu_last) / faults);
				else if (!o->quiet && !o->json)
					fprintf(out, "%6.1fs  %12.0f faults/s\n", t - t0,
						rates[nr_rates]);
				fflush(out);
				nr_rates++;
			}
			last = now;
			cpu_last = cpu_now;
			tick = t;
		}
		if (t >= end || dead)
			break;
	}
	wl_stop = 1;
	kick_all(vm);
	join_threads(vm, 0);
	r->seconds = now_s() - t0;
	vcpu_status(vm, r);
	r->pages = vm->nr_vcpus * WORKLOAD_STORM_PAGES;
	for (i = 0; i < vm->nr_vcpus; i++) {
		r->accesses += vm->vcpus[i].accesses;
		r->faults += vm->vcpus[i].passes * WORKLOAD_STORM_PAGES;
	}
	r->faults_per_s = r->seconds > 0 ? r->faults / r->seconds : 0;
	sum_stats(vm, r);
	if (!r->status && !r->faults) {
		r->status = 1;
		set_err(r->error, sizeof(r->error), "the storm produced no faults in %.1f s",
			r->seconds);
	}
	if (!o->quiet)
		print_storm(vm, r, out, rates, nr_rates);
	free(rates);
	return r->status;
}

/* ---- output ------------------------------------------------------------------ */

static void json_kvm_stats(struct json_writer *jw, const struct workload_result *r)
{
	json_key(jw, "kvm_stats");
	json_obj_begin(jw);
	json_kv_s64(jw, "pf_fixed", r->kvm_pf_fixed);
	json_kv_s64(jw, "pf_guest", r->kvm_pf_guest);
	json_kv_s64(jw, "pf_taken", r->kvm_pf_taken);
	json_obj_end(jw);
}

static void print_kvm_stats(const struct workload_result *r, FILE *out)
{
	if (r->kvm_pf_fixed < 0)
		fprintf(out, "kvm stats: not available (no KVM_CAP_BINARY_STATS_FD)\n");
	else
		fprintf(out, "kvm stats: pf_fixed %lld, pf_guest %lld, pf_taken %lld\n",
			r->kvm_pf_fixed, r->kvm_pf_guest, r->kvm_pf_taken);
}

static void cell(char *buf, size_t len, unsigned long ok, unsigned long flt, bool want_ok)
{
	const char *mark = (want_ok ? flt : ok) ? "!" : "";

	if (ok && !flt)
		snprintf(buf, len, "ok%s", mark);
	else if (flt && !ok)
		snprintf(buf, len, "#PF%s", mark);
	else
		snprintf(buf, len, "%luok/%lupf%s", ok, flt, mark);
}

static void print_matrix(struct wl_vm *vm, const struct workload_result *r, FILE *out)
{
	const struct workload_layout *l = vm->l;
	unsigned int v, i, k, size, combo;

	if (vm->o->json) {
		struct json_writer jw;

		json_init(&jw, out, false);
		json_obj_begin(&jw);
		json_kv_str(&jw, "pattern", "matrix");
		json_kv_u64(&jw, "vcpus", l->vcpus);
		json_kv_u64(&jw, "rounds", r->rounds);
		json_kv_u64(&jw, "pages", r->pages);
		json_kv_u64(&jw, "accesses", r->accesses);
		json_kv_u64(&jw, "succeeded", r->accesses - r->faults);
		json_kv_u64(&jw, "faults", r->faults);
		json_kv_u64(&jw, "mismatches", r->mismatches);
		json_kv_str(&jw, "self_check", r->mismatches ? "failed" : "passed");
		json_kv_u64(&jw, "milliseconds", (uint64_t)(r->seconds * 1000 + 0.5));
		json_kv_hex(&jw, "cr3", l->cr3);
		json_kvm_stats(&jw, r);
		json_key(&jw, "page_tables");
		json_arr_begin(&jw);
		for (i = 0; i < l->nr_tables; i++) {
			json_obj_begin(&jw);
			json_kv_hex(&jw, "gpa", l->tables[i].gpa);
			json_kv_u64(&jw, "level", l->tables[i].level);
			json_kv_hex(&jw, "gva_base", l->tables[i].gva_base);
			json_obj_end(&jw);
		}
		json_arr_end(&jw);
		json_key(&jw, "page_list");
		json_arr_begin(&jw);
		for (v = 0; v < l->vcpus; v++) {
			for (i = 0; i < WORKLOAD_MATRIX_PAGES; i++) {
				const struct workload_page *p =
					&l->pages[v * WORKLOAD_MATRIX_PAGES + i];

				json_obj_begin(&jw);
				json_kv_u64(&jw, "vcpu", v);
				json_kv_hex(&jw, "gva", p->gva);
				json_kv_hex(&jw, "gpa", p->gpa);
				json_kv_u64(&jw, "size", p->size);
				json_kv_u64(&jw, "u", !!(p->pte & PTE_US));
				json_kv_u64(&jw, "w", !!(p->pte & PTE_RW));
				json_kv_u64(&jw, "nx", !!(p->pte & PTE_NX));
				json_kv_str(&jw, "ad", workload_ad_name(i & 3));
				json_kv_hex(&jw, "pte", p->pte);
				json_kv_hex(&jw, "pte_gpa", p->pte_gpa);
				json_kv_hex(&jw, "pte_after", vm->pte_after[v][i]);
				for (k = 0; k < 3; k++) {
					json_key(&jw, access_names[k]);
					json_obj_begin(&jw);
					json_kv_u64(&jw, "ok", vm->page_ok[v][i][k]);
					json_kv_u64(&jw, "fault", vm->page_fault[v][i][k]);
					json_obj_end(&jw);
				}
				json_obj_end(&jw);
			}
		}
		json_arr_end(&jw);
		json_key(&jw, "mismatch_list");
		json_arr_begin(&jw);
		for (i = 0; i < vm->nr_mismatch_lines; i++)
			json_str(&jw, vm->mismatch[i]);
		json_arr_end(&jw);
		json_obj_end(&jw);
		json_finish(&jw);
		fflush(out);
		return;
	}
	fprintf(out, "matrix: %u vCPU%s, %lu round%s, %lu pages (8 U/W/NX x 4 A/D x 4K,2M per vCPU), %lu accesses: %lu succeeded, %lu faulted (#PF)\n",
		l->vcpus, l->vcpus == 1 ? "" : "s", r->rounds, r->rounds == 1 ? "" : "s", r->pages,
		r->accesses, r->accesses - r->faults, r->faults);
	fprintf(out, "size  U W NX  pages  read      write     fetch\n");
	for (size = 0; size < 2; size++) {
		for (combo = 0; combo < 8; combo++) {
			unsigned long ok[3] = { 0 }, flt[3] = { 0 }, n = 0;
			uint64_t pte = 0;
			char c[3][32];

			for (v = 0; v < l->vcpus; v++) {
				for (i = 0; i < 4; i++) {
					unsigned int idx = size * 32 + combo * 4 + i;

					pte = l->pages[v * WORKLOAD_MATRIX_PAGES + idx].pte;
					n++;
					for (k = 0; k < 3; k++) {
						ok[k] += vm->page_ok[v][idx][k];
						flt[k] += vm->page_fault[v][idx][k];
					}
				}
			}
			cell(c[0], sizeof(c[0]), ok[0], flt[0], workload_read_ok(pte));
			cell(c[1], sizeof(c[1]), ok[1], flt[1], workload_write_ok(pte));
			cell(c[2], sizeof(c[2]), ok[2], flt[2], workload_fetch_ok(pte));
			fprintf(out, "%-4s  %d %d %d  %6lu  %-8s  %-8s  %s\n", size ? "2M" : "4K",
				combo >> 2 & 1, combo >> 1 & 1, combo & 1, n, c[0], c[1], c[2]);
		}
	}
	print_kvm_stats(r, out);
	if (r->mismatches) {
		fprintf(out, "self-check: FAILED, %lu mismatches ('!' above):\n",
			r->mismatches);
		for (i = 0; i < vm->nr_mismatch_lines; i++)
			fprintf(out, "  %s\n", vm->mismatch[i]);
	} else {
		fprintf(out, "self-check: passed (each access did what the guest's U/W/NX bits dictate at CPL 3; error codes, CR2 and A/D updates as expected)\n");
	}
	fflush(out);
}

static void print_storm(struct wl_vm *vm, const struct workload_result *r, FILE *out,
			const double *rates, unsigned int nr_rates)
{
	unsigned int i;

	if (vm->o->json) {
		struct json_writer jw;

		json_init(&jw, out, false);
		json_obj_begin(&jw);
		json_kv_str(&jw, "pattern", "storm");
		json_kv_u64(&jw, "vcpus", vm->nr_vcpus);
		json_kv_u64(&jw, "pages_per_vcpu", WORKLOAD_STORM_PAGES);
		json_kv_u64(&jw, "milliseconds", (uint64_t)(r->seconds * 1000 + 0.5));
		json_kv_u64(&jw, "passes", r->faults / WORKLOAD_STORM_PAGES);
		json_kv_u64(&jw, "faults", r->faults);
		json_kv_u64(&jw, "faults_per_s", (uint64_t)(r->faults_per_s + 0.5));
		json_kvm_stats(&jw, r);
		json_key(&jw, "per_second");
		json_arr_begin(&jw);
		for (i = 0; i < nr_rates; i++)
			json_u64(&jw, (uint64_t)(rates[i] + 0.5));
		json_arr_end(&jw);
		json_obj_end(&jw);
		json_finish(&jw);
		fflush(out);
		return;
	}
	fprintf(out, "storm: %lu faults in %.2f s: %.0f faults/s (%u vCPU%s x %u pages per pass, %lu passes)\n",
		r->faults, r->seconds, r->faults_per_s, vm->nr_vcpus,
		vm->nr_vcpus == 1 ? "" : "s", WORKLOAD_STORM_PAGES,
		r->faults / WORKLOAD_STORM_PAGES);
	print_kvm_stats(r, out);
	fflush(out);
}

/* ---- entry ------------------------------------------------------------------ */

static int wait_go(int fd)
{
	char b;
	ssize_t n;

	do
		n = read(fd, &b, 1);
	while (n < 0 && errno == EINTR);
	return n == 1 ? 0 : -1;
}

int workload_run(const struct workload_opts *o, struct workload_result *r)
{
	struct sigaction sa = { .sa_handler = kick_handler };
	struct wl_vm *vm;

	memset(r, 0, sizeof(*r));
	r->kvm_pf_fixed = r->kvm_pf_guest = r->kvm_pf_taken = -1;
	if ((o->vcpus > WORKLOAD_MAX_VCPUS) ||
	    (o->pattern != WORKLOAD_MATRIX && o->pattern != WORKLOAD_STORM) ||
	    o->duration < 0) {
		set_err(r->error, sizeof(r->error), "bad options: vcpus 1..%d, duration >= 0",
			WORKLOAD_MAX_VCPUS);
		return r->status = 2;
	}
	if (o->go_fd >= 0 && wait_go(o->go_fd)) {
		set_err(r->error, sizeof(r->error), "not started (the go pipe was closed)");
		return r->status = 2;
	}
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR2, &sa, NULL);
	wl_stop = 0;
	vm = calloc(1, sizeof(*vm));
	if (!vm) {
		set_err(r->error, sizeof(r->error), "out of memory");
		return r->status = 2;
	}
	if (vm_create(vm, o, r->error, sizeof(r->error)))
		r->status = 2;
	else if (o->pattern == WORKLOAD_STORM)
		run_storm(vm, r);
	else
		run_matrix(vm, r);
	vm_destroy(vm);
	free(vm);
	return r->status;
}
