// SPDX-License-Identifier: GPL-2.0
/*
 * progcost: what bpf/mbecscope.bpf.c's programs cost in the kernel, per
 * run, against a floor program (attach, filter out, return) measured in
 * the same session.  Used by bench/bench.py (--only progcost) and by the
 * lab (lab/init.sh, step progcost); needs root, BTF and KVM (the module,
 * not /dev/kvm).  The kernel's own run-time statistics (BPF_ENABLE_STATS)
 * give run_time_ns and run_cnt of each program.
 *
 *   progcost testrun [--runs N]
 *     Runs the raw_tp programs with BPF_PROG_TEST_RUN on synthetic
 *     arguments (a fault of shadow paging: walk, 4 paging elements, SPTE
 *     request, SPTE write; and every other program once per round), in
 *     this process, once while they watch another pid (filtered out) and
 *     once while they watch this one, and the floor program as often.
 *     raw_tp's BPF_PROG_TEST_RUN takes no repeat count: each run is one
 *     call, and only the time inside the program is counted.
 *
 *   progcost live --pid P --seconds S [--use check|record|top|watch|all|floor]
 *     Attaches the programs of a command (as that command would, watching
 *     pid P) or the floor program on every tracepoint, for S seconds, and
 *     prints each program's runs and run time, and the programs' counters.
 *
 * Output: one JSON object on stdout.  Absolute times depend on the machine
 * (and are meaningless under an emulator); ratios to the floor measured in
 * the same run are the figure.
 */
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/bpf.h>

#include "live/live.h"

struct stat2 {
	uint64_t ns, cnt;
};

static int prog_stat(int fd, struct stat2 *s)
{
	struct bpf_prog_info info;
	__u32 len = sizeof(info);

	memset(&info, 0, sizeof(info));
	if (bpf_obj_get_info_by_fd(fd, &info, &len))
		return -errno;
	s->ns = info.run_time_ns;
	s->cnt = info.run_cnt;
	return 0;
}

/*
 * The floor: the pid filter every program starts with, and nothing else.
 *   r0 = bpf_get_current_pid_tgid(); r0 >>= 32;
 *   if r0 != PID goto out; r0 = 0; out: exit
 */
static int floor_prog(uint32_t pid)
{
	struct bpf_insn insns[] = {
		{ .code = BPF_JMP | BPF_CALL, .imm = BPF_FUNC_get_current_pid_tgid },
		{ .code = BPF_ALU64 | BPF_RSH | BPF_K, .dst_reg = BPF_REG_0, .imm = 32 },
		{ .code = BPF_JMP | BPF_JNE | BPF_K, .dst_reg = BPF_REG_0, .off = 1, .imm = (int)pid },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	int fd = bpf_prog_load(BPF_PROG_TYPE_RAW_TRACEPOINT, "mbecs_floor", "GPL", insns,
			       sizeof(insns) / sizeof(insns[0]), NULL);

	return fd < 0 ? -errno : fd;
}

static int run(int fd, const uint64_t *args)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .ctx_in = args, .ctx_size_in = 12 * sizeof(*args));

	return bpf_prog_test_run_opts(fd, &o) ? -errno : 0;
}

static int drop(void *ctx, const void *rec, size_t len)
{
	(void)ctx;
	(void)rec;
	(void)len;
	return 0;
}

static int open_live(struct mbec_live **l, pid_t pid, enum mbec_live_use use, bool raw)
{
	struct mbec_live_opts lo = { .pid = pid, .use = use, .force_raw = raw, .on_event = drop };
	char err[320];

	if (mbec_live_open(l, &lo, err, sizeof(err))) {
		fprintf(stderr, "progcost: %s\n", err);
		return -1;
	}
	return 0;
}

/* A readable kernel address for pointer arguments (init_task, or _stext), else 0. */
static uint64_t kernel_object(void)
{
	char line[256], name[128], type;
	unsigned long long a;
	FILE *f = fopen("/proc/kallsyms", "r");
	uint64_t found = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%llx %c %127s", &a, &type, name) == 3 && a) {
			if (!strcmp(name, "init_task")) {
				found = a;
				break;
			}
			if (!found && !strcmp(name, "_stext"))
				found = a;
		}
	fclose(f);
	return found;
}

/* The arguments each program gets; ptr: a pointer argument. */
static void args_for(unsigned int tp, uint64_t ptr, uint64_t tdp_new, uint64_t *a)
{
	memset(a, 0, 12 * sizeof(*a));
	switch (tp) {
	case MBEC_LIVE_TP_WALK:
		a[0] = 0x7f0000001000ULL;	/* addr, pferr */
		a[1] = 0x4;
		break;
	case MBEC_LIVE_TP_PAGING_ELEMENT:
		a[0] = 0x123067;		/* pte, level */
		a[1] = 1;
		break;
	case MBEC_LIVE_TP_WALKER_ERROR:
		a[0] = 0x5;
		break;
	case MBEC_LIVE_TP_SPTE_REQUESTED:
		a[0] = ptr;			/* struct kvm_page_fault * */
		a[1] = 0x7;
		break;
	case MBEC_LIVE_TP_SET_SPTE:
		a[0] = 1;			/* level, gfn, sptep */
		a[1] = 0x1234;
		a[2] = ptr;
		break;
	case MBEC_LIVE_TP_PAGE_FAULT:
		a[0] = ptr;			/* vcpu, address, error code */
		a[1] = 0x1234000;
		a[2] = 0x4;
		break;
	case MBEC_LIVE_TP_EXIT:
		a[0] = ptr;			/* vcpu, isa (VMX) */
		a[1] = 1;
		break;
	case MBEC_LIVE_TP_ENTRY:
		a[0] = ptr;
		break;
	case MBEC_LIVE_TP_GET_PAGE:
		a[0] = ptr;			/* sp, created */
		a[1] = 1;
		break;
	case MBEC_LIVE_TP_TDP_SPTE_CHANGED:
		a[1] = 0x1234;			/* as_id, gfn, level, old, new */
		a[2] = 1;
		a[3] = 0x1234000ULL | 0x807;
		a[4] = tdp_new;
		break;
	case MBEC_LIVE_TP_FAST_PAGE_FAULT:
		a[0] = ptr;			/* vcpu, fault, sptep, old, ret */
		a[1] = ptr;
		a[2] = ptr;
		break;
	case MBEC_LIVE_TP_NESTED_INJECT:
		a[0] = 0x400;
		break;
	}
}

/* One fault of shadow paging, as the tracepoints fire for it. */
static const unsigned int fault_seq[] = {
	MBEC_LIVE_TP_WALK, MBEC_LIVE_TP_PAGING_ELEMENT, MBEC_LIVE_TP_PAGING_ELEMENT,
	MBEC_LIVE_TP_PAGING_ELEMENT, MBEC_LIVE_TP_PAGING_ELEMENT, MBEC_LIVE_TP_SPTE_REQUESTED,
	MBEC_LIVE_TP_SET_SPTE,
};

/* The other programs, once a round. */
static const unsigned int others[] = {
	MBEC_LIVE_TP_WALKER_ERROR, MBEC_LIVE_TP_PAGE_FAULT, MBEC_LIVE_TP_EXIT, MBEC_LIVE_TP_ENTRY,
	MBEC_LIVE_TP_GET_PAGE, MBEC_LIVE_TP_FAST_PAGE_FAULT, MBEC_LIVE_TP_NESTED_INJECT,
};

#define NSLOT	(MBEC_LIVE_NR_TP + 1)	/* the last: the TDP change watch leaves out */

struct sample {
	struct stat2 st[NSLOT];
	struct stat2 floor[NSLOT];	/* each slot's own floor program, run after it */
};

/*
 * Rounds of: a shadow-paging fault, every other program, a TDP change to a
 * present SPTE; under watch also a TDP change to 0 (left in the kernel,
 * counted apart in the last slot, with a program of its own).
 */
static int rounds(struct mbec_live *l, struct mbec_live *l_zap, const int *floor, unsigned int n,
		  uint64_t ptr, struct sample *out)
{
	uint64_t a[12];
	struct stat2 s0[NSLOT], s1, f0[NSLOT], f1;
	int fds[MBEC_LIVE_NR_TP + 1];
	unsigned int i, k;
	int ret = 0;

	for (k = 0; k < MBEC_LIVE_NR_TP; k++)
		fds[k] = mbec_live_prog_fd(l, k);
	fds[MBEC_LIVE_NR_TP] = l_zap ? mbec_live_prog_fd(l_zap, MBEC_LIVE_TP_TDP_SPTE_CHANGED) : -1;
	for (k = 0; k <= MBEC_LIVE_NR_TP; k++)
		if (fds[k] >= 0)
			prog_stat(fds[k], &s0[k]);
	/*
	 * Each program is followed by a floor program of its own, run as
	 * often, so that the floor meets caches as cold as the program's.
	 */
	for (k = 0; k < NSLOT; k++)
		prog_stat(floor[k], &f0[k]);
	for (i = 0; i < n && !ret; i++) {
		for (k = 0; k < sizeof(fault_seq) / sizeof(fault_seq[0]); k++) {
			if (fds[fault_seq[k]] < 0)
				continue;
			args_for(fault_seq[k], ptr, 0, a);
			ret |= run(fds[fault_seq[k]], a);
			ret |= run(floor[fault_seq[k]], a);
		}
		for (k = 0; k < sizeof(others) / sizeof(others[0]); k++) {
			if (fds[others[k]] < 0)
				continue;
			args_for(others[k], ptr, 0, a);
			ret |= run(fds[others[k]], a);
			ret |= run(floor[others[k]], a);
		}
		if (fds[MBEC_LIVE_TP_TDP_SPTE_CHANGED] >= 0) {
			args_for(MBEC_LIVE_TP_TDP_SPTE_CHANGED, ptr, 0x1234000ULL | 0xe07, a);
			ret |= run(fds[MBEC_LIVE_TP_TDP_SPTE_CHANGED], a);
			ret |= run(floor[MBEC_LIVE_TP_TDP_SPTE_CHANGED], a);
		}
		if (fds[MBEC_LIVE_NR_TP] >= 0) {
			args_for(MBEC_LIVE_TP_TDP_SPTE_CHANGED, ptr, 0, a);
			ret |= run(fds[MBEC_LIVE_NR_TP], a);
			ret |= run(floor[MBEC_LIVE_NR_TP], a);
		}
		if ((i & 255) == 255) {
			mbec_live_poll(l, 0);
			if (l_zap)
				mbec_live_poll(l_zap, 0);
		}
	}
	mbec_live_poll(l, 0);
	for (k = 0; k < NSLOT; k++) {
		prog_stat(floor[k], &f1);
		out->floor[k].ns = f1.ns - f0[k].ns;
		out->floor[k].cnt = f1.cnt - f0[k].cnt;
	}
	for (k = 0; k <= MBEC_LIVE_NR_TP; k++) {
		memset(&out->st[k], 0, sizeof(out->st[k]));
		if (fds[k] >= 0 && !prog_stat(fds[k], &s1)) {
			out->st[k].ns = s1.ns - s0[k].ns;
			out->st[k].cnt = s1.cnt - s0[k].cnt;
		}
	}
	return ret;
}

static double per_run(const struct stat2 *s)
{
	return s->cnt ? (double)s->ns / (double)s->cnt : 0;
}

static void add(struct sample *sum, const struct sample *t)
{
	int k;

	for (k = 0; k <= MBEC_LIVE_NR_TP; k++) {
		sum->st[k].ns += t->st[k].ns;
		sum->st[k].cnt += t->st[k].cnt;
	}
	for (k = 0; k < NSLOT; k++) {
		sum->floor[k].ns += t->floor[k].ns;
		sum->floor[k].cnt += t->floor[k].cnt;
	}
}

static void print_sample(const char *key, const struct sample *s)
{
	unsigned int k;

	printf("\"%s\":{", key);
	for (k = 0; k < NSLOT; k++)
		printf("%s\"%s\":{\"runs\":%" PRIu64 ",\"ns\":%" PRIu64 ",\"ns_per_run\":%.1f,"
		       "\"floor_ns\":%" PRIu64 ",\"floor_ns_per_run\":%.1f}",
		       k ? "," : "", k < MBEC_LIVE_NR_TP ? mbec_live_tp_name(k) :
		       "kvm_tdp_mmu_spte_changed (left out by watch)", s->st[k].cnt, s->st[k].ns,
		       per_run(&s->st[k]), s->floor[k].ns, per_run(&s->floor[k]));
	printf("}");
}

static int cmd_testrun(unsigned int n)
{
	struct mbec_live *foreign = NULL, *self = NULL, *zap = NULL;
	struct sample sf, sw;
	uint64_t ptr = kernel_object();
	static char user_buf[4096];
	pid_t other = getppid() > 1 ? getppid() : 1;
	int floor_other[NSLOT], floor_self[NSLOT], ret = 1, k;
	unsigned int i;
	bool kptr = ptr != 0;

	if (!ptr)
		ptr = (uint64_t)(uintptr_t)user_buf;
	for (k = 0; k < NSLOT; k++)
		floor_other[k] = floor_self[k] = -1;
	for (k = 0; k < NSLOT; k++) {
		floor_other[k] = floor_prog((uint32_t)other);
		floor_self[k] = floor_prog((uint32_t)getpid());
		if (floor_other[k] < 0 || floor_self[k] < 0) {
			fprintf(stderr, "progcost: loading the floor program: %s\n",
				strerror(-floor_other[k]));
			goto out;
		}
	}
	if (open_live(&foreign, other, MBEC_LIVE_USE_ALL, true) ||
	    open_live(&self, getpid(), MBEC_LIVE_USE_ALL, true) ||
	    open_live(&zap, getpid(), MBEC_LIVE_USE_WATCH, true))
		goto out;
	/* Interleaved in blocks, so that drift in the machine falls on all alike. */
	memset(&sf, 0, sizeof(sf));
	memset(&sw, 0, sizeof(sw));
	for (i = 0; i < 10; i++) {
		struct sample t;

		if (rounds(foreign, NULL, floor_other, n / 10, ptr, &t))
			goto runfail;
		add(&sf, &t);
		if (rounds(self, zap, floor_self, n / 10, ptr, &t))
			goto runfail;
		add(&sw, &t);
	}
	printf("{\"mode\":\"testrun\",\"rounds\":%u,\"pointer\":\"%s\",", n,
	       kptr ? "kernel (kallsyms)" : "user buffer (no kallsyms address)");
	print_sample("filtered", &sf);
	printf(",");
	print_sample("wanted", &sw);
	printf("}\n");
	ret = 0;
	goto out;
runfail:
	fprintf(stderr, "progcost: BPF_PROG_TEST_RUN failed: %s\n", strerror(errno));
out:
	mbec_live_close(foreign);
	mbec_live_close(self);
	mbec_live_close(zap);
	for (k = 0; k < NSLOT; k++) {
		if (floor_other[k] >= 0)
			close(floor_other[k]);
		if (floor_self[k] >= 0)
			close(floor_self[k]);
	}
	return ret;
}

static int cmd_live(pid_t pid, double secs, const char *use)
{
	static const struct { const char *name; enum mbec_live_use use; } uses[] = {
		{ "all", MBEC_LIVE_USE_ALL }, { "check", MBEC_LIVE_USE_CHECK },
		{ "record", MBEC_LIVE_USE_RECORD }, { "top", MBEC_LIVE_USE_TOP },
		{ "watch", MBEC_LIVE_USE_WATCH },
	};
	struct stat2 st[MBEC_LIVE_NR_TP];
	struct mbec_counter k[MBEC_EV_MAX], k0[MBEC_EV_MAX];
	struct mbec_live *l = NULL;
	int fds[MBEC_LIVE_NR_TP], links[MBEC_LIVE_NR_TP], floor = -1;
	struct timespec t0, t1;
	unsigned int i;
	size_t u;
	double el;

	for (i = 0; i < MBEC_LIVE_NR_TP; i++)
		fds[i] = links[i] = -1;
	if (!strcmp(use, "floor")) {
		floor = floor_prog((uint32_t)pid);
		if (floor < 0) {
			fprintf(stderr, "progcost: loading the floor program: %s\n", strerror(-floor));
			return 1;
		}
		/* One link per tracepoint, all counted on the one program. */
		for (i = 0; i < MBEC_LIVE_NR_TP; i++)
			links[i] = bpf_raw_tracepoint_open(mbec_live_tp_name(i), floor);
	} else {
		for (u = 0; u < sizeof(uses) / sizeof(uses[0]) && strcmp(uses[u].name, use); u++)
			;
		if (u == sizeof(uses) / sizeof(uses[0])) {
			fprintf(stderr, "progcost: --use is all, check, record, top, watch or floor, "
				"not '%s'\n", use);
			return 2;
		}
		if (open_live(&l, pid, uses[u].use, false))
			return 1;
		for (i = 0; i < MBEC_LIVE_NR_TP; i++)
			fds[i] = mbec_live_prog_fd(l, i);
	}
	for (i = 0; i < MBEC_LIVE_NR_TP; i++) {
		memset(&st[i], 0, sizeof(st[i]));
		if (fds[i] >= 0)
			prog_stat(fds[i], &st[i]);
	}
	if (floor >= 0)
		prog_stat(floor, &st[0]);
	/* The window starts once loaded and attached (loading takes long in an emulator). */
	memset(k0, 0, sizeof(k0));
	if (l)
		mbec_live_counters(l, k0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		if (l)
			mbec_live_poll(l, 100);
		else
			poll(NULL, 0, 100);
		clock_gettime(CLOCK_MONOTONIC, &t1);
		el = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
	} while (el < secs);
	printf("{\"mode\":\"live\",\"use\":\"%s\",\"pid\":%d,\"seconds\":%.2f,\"programs\":{",
	       use, (int)pid, el);
	if (floor >= 0) {
		struct stat2 s;
		unsigned int n = 0;

		prog_stat(floor, &s);
		for (i = 0; i < MBEC_LIVE_NR_TP; i++)
			n += links[i] >= 0;
		printf("\"floor\":{\"runs\":%" PRIu64 ",\"ns\":%" PRIu64 ",\"tracepoints\":%u}",
		       s.cnt - st[0].cnt, s.ns - st[0].ns, n);
	} else {
		bool first = true;

		for (i = 0; i < MBEC_LIVE_NR_TP; i++) {
			struct stat2 s;

			if (fds[i] < 0 || prog_stat(fds[i], &s))
				continue;
			printf("%s\"%s\":{\"runs\":%" PRIu64 ",\"ns\":%" PRIu64 "}", first ? "" : ",",
			       mbec_live_tp_name(i), s.cnt - st[i].cnt, s.ns - st[i].ns);
			first = false;
		}
	}
	printf("}");
	if (l && !mbec_live_counters(l, k)) {
		for (i = 0; i < MBEC_EV_MAX; i++) {
			k[i].seen -= k0[i].seen;
			k[i].emitted -= k0[i].emitted;
			k[i].dropped -= k0[i].dropped;
			k[i].skipped -= k0[i].skipped;
		}
		printf(",\"counters\":{");
		for (i = 0; i < MBEC_EV_MAX; i++)
			printf("%s\"%u\":[%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 "]", i ? "," : "",
			       i, (uint64_t)k[i].seen, (uint64_t)k[i].emitted, (uint64_t)k[i].dropped,
			       (uint64_t)k[i].skipped);
		printf("},\"faults\":%" PRIu64 ",\"exits_faults\":%" PRIu64,
		       (uint64_t)k[MBEC_EV_SPTE_REQUESTED].seen, (uint64_t)k[MBEC_EV_PAGE_FAULT].seen);
	}
	printf("}\n");
	for (i = 0; i < MBEC_LIVE_NR_TP; i++)
		if (links[i] >= 0)
			close(links[i]);
	if (floor >= 0)
		close(floor);
	mbec_live_close(l);
	return 0;
}

static int usage(void)
{
	fprintf(stderr, "usage: progcost testrun [--runs N] | progcost live --pid P --seconds S "
		"[--use check|record|top|watch|all|floor]\n");
	return 2;
}

int main(int argc, char **argv)
{
	const char *use = "check";
	unsigned int n = 20000;
	double secs = 5;
	long pid = 0;
	int i, stats, ret;

	if (argc < 2)
		return usage();
	for (i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--runs") && i + 1 < argc)
			n = (unsigned int)strtoul(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--pid") && i + 1 < argc)
			pid = strtol(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
			secs = strtod(argv[++i], NULL);
		else if (!strcmp(argv[i], "--use") && i + 1 < argc)
			use = argv[++i];
		else
			return usage();
	}
	if (n < 10 || secs <= 0)
		return usage();
	stats = bpf_enable_stats(BPF_STATS_RUN_TIME);
	if (stats < 0) {
		fprintf(stderr, "progcost: BPF_ENABLE_STATS: %s (needs root)\n", strerror(errno));
		return 2;
	}
	if (!strcmp(argv[1], "testrun"))
		ret = cmd_testrun(n);
	else if (!strcmp(argv[1], "live") && pid > 0)
		ret = cmd_live((pid_t)pid, secs, use);
	else
		ret = usage();
	close(stats);
	return ret;
}
