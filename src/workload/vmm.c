// SPDX-License-Identifier: GPL-2.0
/*
 * The workload VMM's set-up: plain KVM ioctls, no libraries.  run.c runs
 * the vCPUs; matrix.c and storm.c drive the two patterns.
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
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "workload/vmm.h"

void workload_opts_init(struct workload_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->pattern = WORKLOAD_MATRIX;
	o->vcpus = 1;
	o->go_fd = -1;
}

void wl_set_err(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, len, fmt, ap);
	va_end(ap);
}

double wl_now_s(void)
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
		wl_set_err(err, len, "/dev/kvm is missing: enable virtualization (VT-x/AMD-V) and load KVM (modprobe kvm_intel or kvm_amd)");
	else if (errno == EACCES || errno == EPERM)
		wl_set_err(err, len, "cannot open /dev/kvm: permission denied; run as root or as a member of the group owning /dev/kvm (usually kvm)");
	else
		wl_set_err(err, len, "cannot open /dev/kvm: %s", strerror(errno));
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
		wl_set_err(err, len, "/dev/kvm does not answer KVM_GET_API_VERSION (%s): it is not a KVM device",
			strerror(errno));
		return -1;
	}
	if (v != KVM_API_VERSION) {
		wl_set_err(err, len, "KVM API version %d is not supported (need %d): kernel too old or too new",
			v, KVM_API_VERSION);
		return -1;
	}
	for (i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
		if (ioctl(kvm_fd, KVM_CHECK_EXTENSION, caps[i].cap) <= 0) {
			wl_set_err(err, len, "KVM API too old: %s is missing (need Linux 4.11 or later)",
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
void wl_write_memory(struct wl_vm *vm)
{
	struct workload_layout *l = vm->l;
	unsigned int i;

	write_gdt_idt(vm);
	memset(vm->ram + WL_UCODE_GPA, 0xcc, WL_UCODE_PAGES * WL_4K);
	memset(vm->ram + WL_KCODE_GPA, 0xcc, WL_UCODE_PAGES * WL_4K);
	memcpy(vm->ram + WL_UCODE_GPA, wl_guest_start, (size_t)(wl_guest_end - wl_guest_start));
	memcpy(vm->ram + WL_KCODE_GPA, wl_guest_start, (size_t)(wl_guest_end - wl_guest_start));
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
		udata = vm->ram + WL_KDATA_GPA(p->vcpu);
		put64(udata + WL_UDATA_PAGELIST + 8 * (i % WORKLOAD_MATRIX_PAGES), p->gva);
		udata[WL_UDATA_RESULTS + i % WORKLOAD_MATRIX_PAGES] = 0xff;
	}
}

int wl_set_slots(struct wl_vm *vm, bool present, char *err, size_t len)
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
			wl_set_err(err, len, "KVM_SET_USER_MEMORY_REGION (slot %d): %s", i,
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

void wl_segments(struct kvm_sregs *s, unsigned int cpl)
{
	if (cpl == 0) {
		s->cs = seg(WL_SEL_KCODE, 11, 0, true);
		s->ss = seg(WL_SEL_KDATA, 3, 0, false);
	} else {
		s->cs = seg(WL_SEL_UCODE, 11, 3, true);
		s->ss = seg(WL_SEL_UDATA, 3, 3, false);
	}
	s->ds = s->es = s->fs = s->gs = s->ss;
}

static int setup_sregs(struct wl_vcpu *c, char *err, size_t len)
{
	struct kvm_sregs s;

	if (ioctl(c->fd, KVM_GET_SREGS, &s)) {
		wl_set_err(err, len, "KVM_GET_SREGS: %s", strerror(errno));
		return -1;
	}
	wl_segments(&s, 3);
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
		wl_set_err(err, len, "KVM_SET_SREGS (long mode, CPL 3): %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* Put @c at @cpl with these CR0 and CR4 (a pass of the matrix, or the probe). */
int wl_set_cpu(struct wl_vcpu *c, unsigned int cpl, uint64_t cr0, uint64_t cr4)
{
	struct kvm_sregs s;

	if (ioctl(c->fd, KVM_GET_SREGS, &s))
		return -1;
	wl_segments(&s, cpl);
	s.cr0 = cr0;
	s.cr4 = cr4;
	if (ioctl(c->fd, KVM_SET_SREGS, &s))
		return -1;
	c->cpl = cpl;
	return 0;
}

/* Start (or restart) @c at @rip with three arguments, at the CPL it is at. */
int wl_enter(struct wl_vcpu *c, uint64_t rip, uint64_t rsp, uint64_t rflags, uint64_t rdi,
	     uint64_t rsi, uint64_t rdx)
{
	struct kvm_regs r = {
		.rip = rip, .rsp = rsp, .rflags = rflags | 2, .rdi = rdi, .rsi = rsi, .rdx = rdx,
	};

	return ioctl(c->fd, KVM_SET_REGS, &r);
}

int wl_enter_user(struct wl_vcpu *c, uint64_t rip, uint64_t rdi, uint64_t rsi, uint64_t rdx)
{
	return wl_enter(c, rip, WL_USTACK_GPA(c->id) + WL_4K - 64, 2, rdi, rsi, rdx);
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

long long wl_stat_read(struct wl_vcpu *c, int k)
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
	c->cpl = 3;
	c->smode = -1;
	c->code_base = WL_UCODE_GPA;
	c->data_gpa = WL_UDATA_GPA(id);
	c->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, id);
	if (c->fd < 0) {
		wl_set_err(err, len, "KVM_CREATE_VCPU %u: %s", id, strerror(errno));
		return -1;
	}
	c->run = mmap(NULL, vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, c->fd, 0);
	if (c->run == MAP_FAILED) {
		c->run = NULL;
		wl_set_err(err, len, "mmap of the kvm_run area: %s", strerror(errno));
		return -1;
	}
	if (ioctl(c->fd, KVM_SET_CPUID2, vm->cpuid)) {
		wl_set_err(err, len, "KVM_SET_CPUID2: %s", strerror(errno));
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
			wl_set_err(err, len, "out of memory");
			return -1;
		}
		vm->cpuid->nent = n;
		if (!ioctl(vm->kvm_fd, KVM_GET_SUPPORTED_CPUID, vm->cpuid)) {
			unsigned int i;

			for (i = 0; i < vm->cpuid->nent; i++) {
				const struct kvm_cpuid_entry2 *e = &vm->cpuid->entries[i];

				if (e->function != 7 || e->index != 0)
					continue;
				vm->has_smep = e->ebx & (1u << 7);
				vm->has_smap = e->ebx & (1u << 20);
			}
			return 0;
		}
		free(vm->cpuid);
		vm->cpuid = NULL;
		if (errno != E2BIG || n >= 4096) {
			wl_set_err(err, len, "KVM_GET_SUPPORTED_CPUID: %s", strerror(errno));
			return -1;
		}
		n *= 2;
	}
}

void wl_vm_destroy(struct wl_vm *vm)
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

int wl_vm_create(struct wl_vm *vm, const struct workload_opts *o, char *err, size_t len)
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
		wl_set_err(err, len, "cannot lay out the guest (bad options or out of memory)");
		return -1;
	}
	vm->kvm_fd = open_kvm(err, len);
	if (vm->kvm_fd < 0 || check_api(vm->kvm_fd, err, len))
		return -1;
	vm->run_size = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);
	if (vm->run_size < (int)sizeof(struct kvm_run)) {
		wl_set_err(err, len, "KVM_GET_VCPU_MMAP_SIZE: %s", strerror(errno));
		return -1;
	}
	vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0) {
		wl_set_err(err, len, "KVM_CREATE_VM: %s", strerror(errno));
		return -1;
	}
	/* Only needed by VMX without unrestricted guest; harmless elsewhere. */
	(void)ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, 0xfffbd000UL);
	vm->ram_size = vm->l->ram_size;
	vm->ram = mmap(NULL, vm->ram_size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (vm->ram == MAP_FAILED) {
		vm->ram = NULL;
		wl_set_err(err, len, "cannot reserve %llu MiB of guest RAM: %s",
			(unsigned long long)(vm->ram_size >> 20), strerror(errno));
		return -1;
	}
	/*
	 * Storm pages one 4K host page each: a transparent huge page would
	 * let one fault map a whole pass on a TDP host.
	 */
	(void)madvise(vm->ram + WL_STORM_GPA(0, 0), vm->nr_vcpus * WL_2M, MADV_NOHUGEPAGE);
	wl_write_memory(vm);
	if (wl_set_slots(vm, true, err, len) || get_cpuid(vm, err, len))
		return -1;
	for (i = 0; i < vm->nr_vcpus; i++)
		if (setup_vcpu(vm, i, err, len))
			return -1;
	return 0;
}
