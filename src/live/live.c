// SPDX-License-Identifier: GPL-2.0
/*
 * Live capture (see live.h).  The order of the checks is the order in
 * which a user can fix things: privileges, BTF, KVM, tracepoints.
 *
 * Each tracepoint's prototype is read from BTF (the btf_trace_<name>
 * typedef) before anything is loaded: a prototype that differs from the
 * one bpf/mbecscope.bpf.c reads would make the program read garbage, so
 * such a program is not loaded and the user gets a note instead.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "live/kvm_env.h"
#include "live/live.h"
#include "mbecscope.skel.h"

struct tp_desc {
	const char *tp;		/* tracepoint */
	const char *prog;	/* program name without the "_r" of the raw_tp twin */
	int nparams;		/* TP_PROTO arguments + the leading void *data */
	unsigned int ptr_mask;	/* which parameters (bit i = param i) are pointers */
	bool required;
};

static const struct tp_desc tps[MBEC_LIVE_NR_TP] = {
	{ "kvm_mmu_pagetable_walk", "mbecs_walk", 3, 0x1, true },
	{ "kvm_mmu_paging_element", "mbecs_pelem", 3, 0x1, true },
	{ "kvm_mmu_walker_error", "mbecs_walkerr", 2, 0x1, false },
	{ "kvm_mmu_spte_requested", "mbecs_sptereq", 2, 0x3, true },
	{ "kvm_mmu_set_spte", "mbecs_setspte", 4, 0x9, true },
	{ "kvm_page_fault", "mbecs_pf", 4, 0x3, true },
	{ "kvm_exit", "mbecs_exit", 3, 0x3, false },
	{ "kvm_entry", "mbecs_entry", 3, 0x3, false },
	{ "kvm_mmu_get_page", "mbecs_getpage", 3, 0x3, false },
	{ "kvm_tdp_mmu_spte_changed", "mbecs_tdpchg", 6, 0x1, false },
	{ "fast_page_fault", "mbecs_fastpf", 6, 0xf, false },
	{ "kvm_nested_vmexit_inject", "mbecs_nestinj", 7, 0x1, false },
};

_Static_assert(MBEC_LIVE_TP_NESTED_INJECT == MBEC_LIVE_NR_TP - 1,
	       "enum mbec_live_tp names every tracepoint of tps[]");

const char *mbec_live_tp_name(unsigned int tp)
{
	return tp < MBEC_LIVE_NR_TP ? tps[tp].tp : NULL;
}

const char *mbec_live_use_name(enum mbec_live_use use)
{
	switch (use) {
	case MBEC_LIVE_USE_CHECK:
		return "check";
	case MBEC_LIVE_USE_RECORD:
		return "record";
	case MBEC_LIVE_USE_TOP:
		return "mbectop";
	case MBEC_LIVE_USE_WATCH:
		return "watch";
	default:
		return "all";
	}
}

void mbec_live_plan(enum mbec_live_use use, bool vendor_exits, struct mbec_live_plan *p)
{
	int i;

	memset(p, 0, sizeof(*p));
	p->wanted = (1U << MBEC_LIVE_NR_TP) - 1;
	for (i = 0; i < MBEC_LIVE_NR_TP; i++)
		p->why_not[i] = "";
	if (use == MBEC_LIVE_USE_ALL)
		return;
	/*
	 * kvm_entry only tells the thread's vCPU, and kvm_exit (which reads
	 * the same vCPU) fires just before every entry of the VMX and SVM
	 * vendor code; one program run an exit saved.
	 */
	if (vendor_exits) {
		p->wanted &= ~(1U << MBEC_LIVE_TP_ENTRY);
		p->why_not[MBEC_LIVE_TP_ENTRY] = "kvm_exit names the vCPU";
	}
	p->tdp_checked_only = use == MBEC_LIVE_USE_TOP || use == MBEC_LIVE_USE_WATCH;
}

struct mbec_live {
	struct mbecscope_bpf *skel;
	struct ring_buffer *rb;
	struct bpf_link *links[MBEC_LIVE_NR_TP];
	struct mbec_live_attach state[MBEC_LIVE_NR_TP];
	struct mbec_live_plan plan;
	int (*on_event)(void *ctx, const void *rec, size_t len);
	void *ctx;
	int ncpus;
};

static int libbpf_verbose;

/* -v: libbpf's warnings and notes; -vv: its debug log (relocations, verifier). */
static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	if (!libbpf_verbose || (level == LIBBPF_DEBUG && libbpf_verbose < 2))
		return 0;
	return vfprintf(stderr, fmt, ap);
}

static int fail(char *err, size_t errlen, int ret, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static int fail(char *err, size_t errlen, int ret, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return ret;
}

/* The func_proto behind typedef btf_trace_<tp>, or NULL. */
static const struct btf_type *tp_proto(const struct btf *btf, const char *tp)
{
	char name[96];
	const struct btf_type *t;
	int id;

	snprintf(name, sizeof(name), "btf_trace_%s", tp);
	id = btf__find_by_name_kind(btf, name, BTF_KIND_TYPEDEF);
	if (id < 0)
		return NULL;
	t = btf__type_by_id(btf, id);
	t = btf__type_by_id(btf, t->type);		/* pointer */
	if (!t || !btf_is_ptr(t))
		return NULL;
	t = btf__type_by_id(btf, t->type);		/* func_proto */
	return t && btf_is_func_proto(t) ? t : NULL;
}

static bool param_is_ptr(const struct btf *btf, const struct btf_param *p)
{
	const struct btf_type *t = btf__type_by_id(btf, p->type);

	while (t && (btf_is_typedef(t) || btf_is_mod(t)))
		t = btf__type_by_id(btf, t->type);
	return t && btf_is_ptr(t);
}

/*
 * Compare a prototype with what the program reads: 0 when it matches,
 * 1 for kvm_mmu_spte_requested with the extra ACC argument of mbec
 * kernels, -1 (and a note) otherwise.
 */
static int check_proto(const struct btf *btf, const struct btf_type *fp, const struct tp_desc *d,
		       char *note, size_t notelen)
{
	const struct btf_param *p = btf_params(fp);
	int n = btf_vlen(fp), i;
	int extra = 0;

	if (!strcmp(d->tp, "kvm_mmu_spte_requested") && n == d->nparams + 1)
		extra = 1;
	if (n != d->nparams + extra) {
		snprintf(note, notelen, "prototype differs: %d arguments, this build reads %d",
			 n - 1, d->nparams - 1);
		return -1;
	}
	for (i = 0; i < d->nparams; i++) {
		if (((d->ptr_mask >> i) & 1) != param_is_ptr(btf, &p[i])) {
			snprintf(note, notelen, "prototype differs: argument %d is %sa pointer",
				 i, param_is_ptr(btf, &p[i]) ? "" : "not ");
			return -1;
		}
	}
	return extra;
}

/* Index of kvm_exit in tps[]. */
#define EXIT_TP	6

static bool vendor_vcpu_known(struct btf *vmlinux)
{
	static const char *const mods[] = { "kvm_intel", "kvm_amd" };
	bool found = btf__find_by_name_kind(vmlinux, "vcpu_vmx", BTF_KIND_STRUCT) > 0 ||
		     btf__find_by_name_kind(vmlinux, "vcpu_svm", BTF_KIND_STRUCT) > 0;
	char path[64];
	size_t i;

	for (i = 0; !found && i < sizeof(mods) / sizeof(mods[0]); i++) {
		struct btf *m;

		snprintf(path, sizeof(path), "/sys/kernel/btf/%s", mods[i]);
		if (access(path, R_OK))
			continue;
		m = btf__load_module_btf(mods[i], vmlinux);
		found = m && (btf__find_by_name_kind(m, "vcpu_vmx", BTF_KIND_STRUCT) > 0 ||
			      btf__find_by_name_kind(m, "vcpu_svm", BTF_KIND_STRUCT) > 0);
		btf__free(m);
	}
	return found;
}

int mbec_live_probe_btf(const struct btf *btf, struct mbec_live_attach state[MBEC_LIVE_NR_TP],
			bool enabled[MBEC_LIVE_NR_TP], bool *acc_arg, char *err, size_t errlen)
{
	int i, ret;

	*acc_arg = false;
	for (i = 0; i < MBEC_LIVE_NR_TP; i++) {
		const struct btf_type *fp = tp_proto(btf, tps[i].tp);
		char *note = state[i].note;
		size_t notelen = sizeof(state[i].note);

		state[i].tracepoint = tps[i].tp;
		state[i].how = "no";
		state[i].required = tps[i].required;
		note[0] = 0;
		enabled[i] = false;
		if (!fp) {
			snprintf(note, notelen, "no such tracepoint in this kernel");
		} else {
			ret = check_proto(btf, fp, &tps[i], note, notelen);
			if (ret >= 0) {
				enabled[i] = true;
				if (ret == 1)
					*acc_arg = true;
			}
		}
		if (!enabled[i] && tps[i].required)
			return fail(err, errlen, -ENOENT,
				    "tracepoint %s: %s; this kernel's KVM cannot be checked (it needs "
				    "the kvmmmu tracepoints of Linux 6.x)", tps[i].tp, note);
	}
	return 0;
}

int mbec_live_unfold(const void *rec, size_t len,
		     int (*on_event)(void *ctx, const void *rec, size_t len), void *ctx)
{
	const struct mbec_ev_walk_folded *f = rec;
	struct mbec_ev_paging_element e;
	struct mbec_ev_walk w;
	uint32_t i;
	int ret;

	if (len < sizeof(*f) || f->hdr.size != sizeof(*f) || f->nr > MBEC_WALK_FOLD_MAX)
		return -EINVAL;
	memset(&w, 0, sizeof(w));
	w.hdr = f->hdr;
	w.hdr.type = MBEC_EV_PAGETABLE_WALK;
	w.hdr.size = sizeof(w);
	w.addr = f->addr;
	w.pferr = f->pferr;
	ret = on_event(ctx, &w, sizeof(w));
	memset(&e, 0, sizeof(e));
	e.hdr = w.hdr;
	e.hdr.type = MBEC_EV_PAGING_ELEMENT;
	e.hdr.size = sizeof(e);
	for (i = 0; i < f->nr && !ret; i++) {
		e.pte = f->elem[i].pte;
		e.level = f->elem[i].level;
		ret = on_event(ctx, &e, sizeof(e));
	}
	return ret;
}

static int on_ringbuf(void *ctx, void *data, size_t len)
{
	const struct mbec_event_hdr *h = data;
	struct mbec_live *l = ctx;

	if (!l->on_event)
		return 0;
	if (len >= sizeof(*h) && h->type == MBEC_EV_WALK_FOLDED) {
		int ret = mbec_live_unfold(data, len, l->on_event, l->ctx);

		/* Our own programs wrote it: a bad one is a bug, not input. */
		if (ret == -EINVAL)
			fprintf(stderr, "mbecscope: internal error: malformed folded walk "
				"from the BPF programs (%zu bytes)\n", len);
		return ret;
	}
	return l->on_event(l->ctx, data, len);
}

static struct bpf_program *find_prog(struct mbecscope_bpf *skel, const char *name, bool raw)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%s%s", name, raw ? "_r" : "");
	return bpf_object__find_program_by_name(skel->obj, buf);
}

/*
 * Where the verifier writes why it refused a program: one slice per
 * tracepoint, so the one that failed is known without reading libbpf's
 * messages.  libbpf asks for a log only when a load fails, so the pages of
 * the slices of programs that load are never touched.
 */
#define VLOG_SLICE	(512 * 1024)

/*
 * The verifier's reason in one line: the last line of its log before the
 * "processed N insns" statistics, or "" when the log has none.
 */
void mbec_live_verifier_reason(const char *log, char *out, size_t outlen)
{
	const char *p = log, *line = NULL, *end = NULL;
	size_t n;

	out[0] = 0;
	while (p && *p) {
		const char *nl = strchr(p, '\n');
		const char *e = nl ? nl : p + strlen(p);

		if (!strncmp(p, "processed ", 10))
			break;
		if (e > p && strncmp(p, "verification time", 17) && strncmp(p, "stack depth", 11)) {
			line = p;
			end = e;
		}
		p = nl ? nl + 1 : NULL;
	}
	if (!line)
		return;
	n = (size_t)(end - line);
	if (n >= outlen)
		n = outlen - 1;
	memcpy(out, line, n);
	out[n] = 0;
}

/*
 * Open and load; enabled[i] says which tracepoints, raw[i] which of them
 * take the raw_tp program.  On failure *failed is the tracepoint whose
 * program the kernel refused (-1 when unknown) and reason the verifier's
 * line.
 */
static int load_skel(struct mbec_live *l, const struct mbec_live_opts *opts, const bool *enabled,
		     bool acc_arg, const bool *raw, char *vlog, int *failed, char *reason,
		     size_t reasonlen)
{
	struct bpf_program *prog;
	int i, err;

	*failed = -1;
	reason[0] = 0;
	l->skel = mbecscope_bpf__open();
	if (!l->skel)
		return -errno;
	l->skel->rodata->targ_tgid = opts->pid > 0 ? (__u32)opts->pid : 0;
	l->skel->rodata->spte_req_acc_arg = acc_arg;
	l->skel->rodata->count_vm_stats = opts->vm_stats;
	l->skel->rodata->tdp_checked_only = l->plan.tdp_checked_only;
	l->skel->rodata->test_refuse_btf = opts->test_refuse_btf;
	if (!opts->vm_stats)	/* preallocated: 1.3 MiB of kernel memory for nothing */
		bpf_map__set_max_entries(l->skel->maps.vm_stats, 1);
	if (opts->ringbuf_bytes)
		bpf_map__set_max_entries(l->skel->maps.events, opts->ringbuf_bytes);
	/* Batch wake-ups, but wake well before a small buffer fills. */
	l->skel->rodata->wake_bytes = bpf_map__max_entries(l->skel->maps.events) / 4;
	if (l->skel->rodata->wake_bytes > (1U << 20))
		l->skel->rodata->wake_bytes = 1U << 20;
	bpf_object__for_each_program(prog, l->skel->obj)
		bpf_program__set_autoload(prog, false);
	for (i = 0; i < MBEC_LIVE_NR_TP; i++) {
		if (!enabled[i])
			continue;
		prog = find_prog(l->skel, tps[i].prog, raw[i]);
		if (!prog)
			continue;
		bpf_program__set_autoload(prog, true);
		if (vlog) {
			vlog[i * VLOG_SLICE] = 0;
			bpf_program__set_log_buf(prog, vlog + i * VLOG_SLICE, VLOG_SLICE);
		}
	}
	err = mbecscope_bpf__load(l->skel);
	if (err) {
		for (i = 0; vlog && i < MBEC_LIVE_NR_TP; i++) {
			if (enabled[i] && vlog[i * VLOG_SLICE]) {
				vlog[(i + 1) * VLOG_SLICE - 1] = 0;
				*failed = i;
				mbec_live_verifier_reason(vlog + i * VLOG_SLICE, reason, reasonlen);
				break;
			}
		}
		mbecscope_bpf__destroy(l->skel);
		l->skel = NULL;
	}
	return err;
}

/*
 * Load with tp_btf wherever the kernel takes it: a tracepoint whose tp_btf
 * program the verifier refuses goes to its raw_tp twin, with the
 * verifier's reason in its note, and the rest stay tp_btf.  raw[] says
 * which ended raw_tp.
 */
static int load_best(struct mbec_live *l, const struct mbec_live_opts *opts, const bool *enabled,
		     bool acc_arg, bool *raw, char *err, size_t errlen)
{
	char *vlog = malloc((size_t)MBEC_LIVE_NR_TP * VLOG_SLICE);
	char reason[sizeof(l->state[0].note) - 40];
	int i, ret = -EINVAL, failed, tries;

	for (i = 0; i < MBEC_LIVE_NR_TP; i++)
		raw[i] = opts->force_raw;
	for (tries = 0; tries <= MBEC_LIVE_NR_TP; tries++) {
		ret = load_skel(l, opts, enabled, acc_arg, raw, vlog, &failed, reason,
				sizeof(reason));
		if (!ret)
			break;
		if (failed < 0) {
			/* Not one program's fault (maps, BTF...): all raw_tp once. */
			for (i = 0; i < MBEC_LIVE_NR_TP && raw[i]; i++)
				;
			if (i == MBEC_LIVE_NR_TP)
				break;
			for (i = 0; i < MBEC_LIVE_NR_TP; i++) {
				if (enabled[i] && !raw[i])
					snprintf(l->state[i].note, sizeof(l->state[i].note),
						 "tp_btf: the object did not load (%s)",
						 strerror(-ret));
				raw[i] = true;
			}
			continue;
		}
		if (raw[failed]) {
			snprintf(err, errlen, "loading the BPF program of %s failed: %s; run with -v "
				 "for the verifier log", tps[failed].tp,
				 reason[0] ? reason : strerror(-ret));
			break;
		}
		snprintf(l->state[failed].note, sizeof(l->state[failed].note),
			 "tp_btf refused by the verifier: %s", reason[0] ? reason : strerror(-ret));
		raw[failed] = true;
	}
	if (ret && !err[0])
		snprintf(err, errlen, "loading the BPF programs failed (%s); run with -v for the "
			 "verifier log", strerror(-ret));
	free(vlog);
	return ret;
}

int mbec_live_open(struct mbec_live **out, const struct mbec_live_opts *opts,
		   char *err, size_t errlen)
{
	struct btf *vmlinux = NULL, *kvm_btf = NULL;
	bool enabled[MBEC_LIVE_NR_TP] = { false };
	bool acc_arg = false, raw[MBEC_LIVE_NR_TP];
	struct live_kvm_env kenv;
	const char *root;
	struct mbec_live *l;
	int i, ret;

	*out = NULL;
	libbpf_verbose = opts->verbose;
	libbpf_set_print(libbpf_print);

	if (geteuid() != 0)
		return fail(err, errlen, -EPERM,
			    "must run as root: loading BPF programs on KVM tracepoints needs "
			    "CAP_BPF, CAP_PERFMON and CAP_SYS_ADMIN (try sudo)");
	if (access("/sys/kernel/btf/vmlinux", R_OK))
		return fail(err, errlen, -ENOENT,
			    "no BTF: /sys/kernel/btf/vmlinux is missing; boot a kernel built "
			    "with CONFIG_DEBUG_INFO_BTF=y");
	if (access("/sys/module/kvm", F_OK))
		return fail(err, errlen, -ENODEV,
			    "no KVM in this kernel: load it (modprobe kvm_intel or kvm_amd) "
			    "or boot a kernel with CONFIG_KVM");
	if (opts->need_kvm_dev) {
		int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);

		if (fd < 0)
			return fail(err, errlen, -ENODEV,
				    "cannot open /dev/kvm (%s): the built-in workload needs KVM; "
				    "enable virtualization or load kvm_intel/kvm_amd",
				    strerror(errno));
		close(fd);
	}

	vmlinux = btf__load_vmlinux_btf();
	if (!vmlinux)
		return fail(err, errlen, -ENOENT,
			    "cannot read BTF from /sys/kernel/btf/vmlinux (%s)", strerror(errno));
	/* KVM built as a module has its own split BTF. */
	if (!access("/sys/kernel/btf/kvm", R_OK))
		kvm_btf = btf__load_module_btf("kvm", vmlinux);

	l = calloc(1, sizeof(*l));
	if (!l) {
		btf__free(kvm_btf);
		btf__free(vmlinux);
		return fail(err, errlen, -ENOMEM, "out of memory");
	}
	l->on_event = opts->on_event;
	l->ctx = opts->ctx;
	ret = mbec_live_probe_btf(kvm_btf ? kvm_btf : vmlinux, l->state, enabled, &acc_arg,
				  err, errlen);
	if (ret) {
		btf__free(kvm_btf);
		btf__free(vmlinux);
		free(l);
		return ret;
	}
	/*
	 * kvm_exit's reason and qualification live in the vendor vCPU
	 * structure; without its type the program only counts exits.
	 */
	if (enabled[EXIT_TP] && !vendor_vcpu_known(vmlinux))
		snprintf(l->state[EXIT_TP].note, sizeof(l->state[EXIT_TP].note),
			 "no struct vcpu_vmx or vcpu_svm in BTF: exits are only counted, exit "
			 "qualifications not checked");
	/* Tests: MBECSCOPE_KVM_ROOT, a tree with another vendor module (tests/live/attach.t). */
	root = opts->test_kvm_root ? opts->test_kvm_root : getenv("MBECSCOPE_KVM_ROOT");
	live_kvm_env_at(root ? root : "", &kenv);
	mbec_live_plan(opts->use, kenv.vendor != LIVE_KVM_NONE, &l->plan);
	btf__free(kvm_btf);
	btf__free(vmlinux);

	err[0] = 0;
	ret = load_best(l, opts, enabled, acc_arg, raw, err, errlen);
	if (ret) {
		free(l);
		return ret;
	}

	for (i = 0; i < MBEC_LIVE_NR_TP; i++) {
		struct bpf_program *prog;

		if (!enabled[i])
			continue;
		/* kvm_entry stands in for a kvm_exit this kernel cannot attach. */
		if (!(l->plan.wanted & (1U << i)) &&
		    !(i == MBEC_LIVE_TP_ENTRY && !l->links[MBEC_LIVE_TP_EXIT])) {
			snprintf(l->state[i].note, sizeof(l->state[i].note), "not needed by %s: %s",
				 mbec_live_use_name(opts->use), l->plan.why_not[i]);
			continue;
		}
		prog = find_prog(l->skel, tps[i].prog, raw[i]);
		if (raw[i])
			l->links[i] = bpf_program__attach_raw_tracepoint(prog, tps[i].tp);
		else
			l->links[i] = bpf_program__attach(prog);
		if (!l->links[i]) {
			snprintf(l->state[i].note, sizeof(l->state[i].note), "attach failed: %s",
				 strerror(errno));
			if (tps[i].required) {
				ret = fail(err, errlen, -errno, "tracepoint %s: %s",
					   tps[i].tp, l->state[i].note);
				mbec_live_close(l);
				return ret;
			}
			continue;
		}
		l->state[i].how = raw[i] ? "raw_tp" : "tp_btf";
		if (raw[i] && opts->force_raw)
			snprintf(l->state[i].note, sizeof(l->state[i].note),
				 "raw_tp asked for (force_raw)");
	}

	l->rb = ring_buffer__new(bpf_map__fd(l->skel->maps.events), on_ringbuf, l, NULL);
	if (!l->rb) {
		ret = fail(err, errlen, -errno, "cannot map the BPF ring buffer (%s)",
			   strerror(errno));
		mbec_live_close(l);
		return ret;
	}
	l->ncpus = libbpf_num_possible_cpus();
	if (l->ncpus <= 0) {
		ret = fail(err, errlen, -EINVAL, "cannot count the possible CPUs");
		mbec_live_close(l);
		return ret;
	}
	*out = l;
	return 0;
}

int mbec_live_poll(struct mbec_live *l, int timeout_ms)
{
	int n = ring_buffer__poll(l->rb, timeout_ms), m;

	if (n < 0)
		return n;
	/* Records submitted without a wake-up: epoll does not report them. */
	m = ring_buffer__consume(l->rb);
	return m < 0 ? m : n + m;
}

int mbec_live_counters(struct mbec_live *l, struct mbec_counter out[MBEC_EV_MAX])
{
	struct mbec_counter *percpu;
	__u32 key;
	int cpu, fd = bpf_map__fd(l->skel->maps.counters);

	memset(out, 0, sizeof(*out) * MBEC_EV_MAX);
	percpu = calloc(l->ncpus, sizeof(*percpu));
	if (!percpu)
		return -ENOMEM;
	for (key = 0; key < MBEC_EV_MAX; key++) {
		if (bpf_map_lookup_elem(fd, &key, percpu))
			continue;
		for (cpu = 0; cpu < l->ncpus; cpu++) {
			out[key].seen += percpu[cpu].seen;
			out[key].emitted += percpu[cpu].emitted;
			out[key].dropped += percpu[cpu].dropped;
			out[key].skipped += percpu[cpu].skipped;
		}
	}
	free(percpu);
	return 0;
}

bool mbec_live_attach_preferred(const struct mbec_live_attach *at)
{
	return !strcmp(at->how, "tp_btf");
}

char *mbec_live_attach_line(const struct mbec_live_attach at[MBEC_LIVE_NR_TP], char *buf,
			    size_t len)
{
	unsigned int btf = 0, raw = 0, no = 0, i;
	size_t n = 0;

	for (i = 0; i < MBEC_LIVE_NR_TP; i++) {
		if (!strcmp(at[i].how, "tp_btf"))
			btf++;
		else if (!strcmp(at[i].how, "raw_tp"))
			raw++;
		else
			no++;
	}
	buf[0] = 0;
	if (btf)
		n += snprintf(buf + n, len - n, "%u tp_btf", btf);
	if (raw && n < len)
		n += snprintf(buf + n, len - n, "%s%u raw_tp", n ? ", " : "", raw);
	if (no && n < len)
		n += snprintf(buf + n, len - n, "%s%u not attached", n ? ", " : "", no);
	/* Each tracepoint not attached the preferred way, with why. */
	for (i = 0; i < MBEC_LIVE_NR_TP && n < len; i++)
		if (!mbec_live_attach_preferred(&at[i]))
			n += snprintf(buf + n, len - n, "; %s %s%s%s", at[i].tracepoint,
				      strcmp(at[i].how, "no") ? at[i].how : "not attached",
				      at[i].note[0] ? ": " : "", at[i].note);
	return buf;
}

const struct mbec_live_attach *mbec_live_attach_state(const struct mbec_live *l)
{
	return l->state;
}

int mbec_live_map_fd(const struct mbec_live *l, const char *name)
{
	struct bpf_map *m = bpf_object__find_map_by_name(l->skel->obj, name);

	return m ? bpf_map__fd(m) : -ENOENT;
}

int mbec_live_prog_stats(const struct mbec_live *l, uint64_t *run_ns, uint64_t *run_cnt)
{
	struct bpf_program *prog;

	*run_ns = 0;
	*run_cnt = 0;
	bpf_object__for_each_program(prog, l->skel->obj) {
		struct bpf_prog_info info;
		__u32 len = sizeof(info);
		int fd = bpf_program__fd(prog);

		if (fd < 0)
			continue;	/* not loaded (the other flavour) */
		memset(&info, 0, sizeof(info));
		if (bpf_obj_get_info_by_fd(fd, &info, &len))
			return -errno;
		*run_ns += info.run_time_ns;
		*run_cnt += info.run_cnt;
	}
	return 0;
}

int mbec_live_prog_fd(const struct mbec_live *l, unsigned int tp)
{
	struct bpf_program *prog;

	if (tp >= MBEC_LIVE_NR_TP || !l->links[tp])
		return -ENOENT;
	prog = find_prog(l->skel, tps[tp].prog, !strcmp(l->state[tp].how, "raw_tp"));
	return prog ? bpf_program__fd(prog) : -ENOENT;
}

void mbec_live_detach(struct mbec_live *l)
{
	int i;

	for (i = 0; i < MBEC_LIVE_NR_TP; i++) {
		bpf_link__destroy(l->links[i]);
		l->links[i] = NULL;
	}
}

void mbec_live_close(struct mbec_live *l)
{
	int i;

	if (!l)
		return;
	ring_buffer__free(l->rb);
	for (i = 0; i < MBEC_LIVE_NR_TP; i++)
		bpf_link__destroy(l->links[i]);
	mbecscope_bpf__destroy(l->skel);
	free(l);
}
