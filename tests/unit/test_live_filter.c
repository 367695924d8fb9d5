// SPDX-License-Identifier: GPL-2.0
/*
 * What the BPF programs leave out, and which programs each command
 * attaches:
 *
 * - mbec_live_plan() per command (no privileges needed);
 * - (root, BTF, KVM) each command's live open attaches exactly its plan,
 *   kvm_entry left out where kvm_exit names the vCPU (a fake sysfs tree
 *   with kvm_intel);
 * - every program run with BPF_PROG_TEST_RUN in a process it does not
 *   watch (foreign pid) writes no record and counts nothing;
 * - the in-kernel rule of watch and mbectop (bpf/mbecscope.bpf.c,
 *   tdp_change_checked()) against the checker: every combination of the
 *   SPTE bits either of them reads is run through the raw_tp program, and
 *   each change the kernel leaves out is fed to the check engine in every
 *   layout and SPTE format, which must find nothing in it.  check's
 *   programs leave none out.
 *
 * This host's KVM need not run a guest: raw_tp programs run on synthetic
 * arguments, in the test's own thread.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "check/check.h"
#include "live/live.h"
#include "mbec_kvm.h"
#include "tap.h"

/* ---- the plans ---------------------------------------------------------- */

static void test_plan(void)
{
	static const enum mbec_live_use uses[] = {
		MBEC_LIVE_USE_CHECK, MBEC_LIVE_USE_RECORD, MBEC_LIVE_USE_TOP, MBEC_LIVE_USE_WATCH,
	};
	unsigned int all = (1U << MBEC_LIVE_NR_TP) - 1, entry = 1U << MBEC_LIVE_TP_ENTRY;
	struct mbec_live_plan p;
	size_t i;

	mbec_live_plan(MBEC_LIVE_USE_ALL, true, &p);
	ok(p.wanted == all && !p.tdp_checked_only, "all: every program, nothing left out");
	for (i = 0; i < sizeof(uses) / sizeof(uses[0]); i++) {
		bool summary = uses[i] == MBEC_LIVE_USE_TOP || uses[i] == MBEC_LIVE_USE_WATCH;
		const char *name = mbec_live_use_name(uses[i]);

		mbec_live_plan(uses[i], true, &p);
		ok(p.wanted == (all & ~entry) && strstr(p.why_not[MBEC_LIVE_TP_ENTRY], "kvm_exit"),
		   "%s with VMX/SVM: every program but kvm_entry's (0x%x; %s)", name, p.wanted,
		   p.why_not[MBEC_LIVE_TP_ENTRY]);
		ok(p.tdp_checked_only == summary, "%s: TDP changes no rule reads %s", name,
		   summary ? "left in the kernel" : "all sent");
		mbec_live_plan(uses[i], false, &p);
		ok(p.wanted == all, "%s with another vendor module (kvm_pvm): kvm_entry too", name);
	}
}

/* ---- live ---------------------------------------------------------------- */

struct sink {
	unsigned long records;
	unsigned char kept[1U << 19];	/* per enumerated value: a record came out */
	unsigned int kept_n;
	bool bad;
};

static struct sink *sink;

static int on_event(void *ctx, const void *rec, size_t len)
{
	const struct mbec_ev_tdp_spte_changed *c = rec;

	(void)ctx;
	sink->records++;
	if (len >= sizeof(*c) && c->hdr.type == MBEC_EV_TDP_SPTE_CHANGED) {
		/* The test puts the value's index in the gfn. */
		if (c->gfn < sizeof(sink->kept))
			sink->kept[c->gfn] = 1;
		else
			sink->bad = true;
	}
	return 0;
}

static int test_run(int fd, const uint64_t *args, size_t n)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .ctx_in = args, .ctx_size_in = n * sizeof(*args));

	return bpf_prog_test_run_opts(fd, &o) ? -errno : (int)o.retval;
}

static int open_live(struct mbec_live **l, pid_t pid, enum mbec_live_use use, const char *root)
{
	struct mbec_live_opts lo = {
		.pid = pid, .use = use, .force_raw = true, .on_event = on_event,
		.test_kvm_root = root, .ringbuf_bytes = 1U << 22,
	};
	char err[320];

	if (mbec_live_open(l, &lo, err, sizeof(err))) {
		diag("live open: %s", err);
		return -1;
	}
	return 0;
}

static uint64_t sum_counters(struct mbec_live *l, uint64_t *emitted, uint64_t *skipped)
{
	struct mbec_counter k[MBEC_EV_MAX];
	uint64_t seen = 0;
	int i;

	*emitted = *skipped = 0;
	if (mbec_live_counters(l, k))
		return ~0ULL;
	for (i = 0; i < MBEC_EV_MAX; i++) {
		seen += k[i].seen;
		*emitted += k[i].emitted;
		*skipped += k[i].skipped;
	}
	return seen;
}

/* Each command's live open attaches what its plan wants, with a note for the rest. */
static void test_attach_sets(const char *fake_intel)
{
	static const enum mbec_live_use uses[] = {
		MBEC_LIVE_USE_ALL, MBEC_LIVE_USE_CHECK, MBEC_LIVE_USE_RECORD, MBEC_LIVE_USE_TOP,
		MBEC_LIVE_USE_WATCH,
	};
	size_t u;
	int r;

	for (r = 0; r < 2; r++) {
		for (u = 0; u < sizeof(uses) / sizeof(uses[0]); u++) {
			const char *root = r ? fake_intel : NULL;
			const struct mbec_live_attach *at;
			struct mbec_live_plan p;
			struct mbec_live *l;
			unsigned int got = 0, want = 0, btf = 0;
			bool notes = true;
			int i;

			if (open_live(&l, getpid(), uses[u], root)) {
				ok(0, "live open for %s", mbec_live_use_name(uses[u]));
				continue;
			}
			/* This host's own vendor module is not kvm_intel or kvm_amd. */
			mbec_live_plan(uses[u], r == 1 || access("/sys/module/kvm_pvm", F_OK), &p);
			at = mbec_live_attach_state(l);
			for (i = 0; i < MBEC_LIVE_NR_TP; i++) {
				bool in_btf = strcmp(at[i].note, "no such tracepoint in this kernel") &&
					      strncmp(at[i].note, "prototype differs", 17);

				if (strcmp(at[i].how, "no"))
					got |= 1U << i;
				if (in_btf && (p.wanted & (1U << i)))
					want |= 1U << i;
				if (in_btf && !(p.wanted & (1U << i)))
					notes &= !strncmp(at[i].note, "not needed by ", 14);
				btf += in_btf;
				if ((got ^ want) & (1U << i))
					diag("%s: %s (%s)", at[i].tracepoint, at[i].how, at[i].note);
			}
			ok(got == want && notes && mbec_live_prog_fd(l, MBEC_LIVE_TP_WALK) >= 0,
			   "%s%s: attaches exactly its plan (0x%x of %u tracepoints in BTF), the rest "
			   "say why", mbec_live_use_name(uses[u]), r ? " (kvm_intel)" : "", got, btf);
			if (r && uses[u] != MBEC_LIVE_USE_ALL)
				ok(!(got & (1U << MBEC_LIVE_TP_ENTRY)) &&
				   mbec_live_prog_fd(l, MBEC_LIVE_TP_ENTRY) == -ENOENT,
				   "%s (kvm_intel): kvm_entry is not attached ('%s')",
				   mbec_live_use_name(uses[u]), at[MBEC_LIVE_TP_ENTRY].note);
			mbec_live_close(l);
		}
	}
}

/*
 * Every program, run in this process while the programs watch another:
 * no record, no count.  Pointer arguments point at a buffer of this
 * process: a program that read them before filtering would still write
 * nothing, but would count (the counters are the check here).
 */
static void test_foreign_pid(void)
{
	static uint64_t junk[64];
	uint64_t args[12], emitted, skipped, seen;
	struct mbec_live *l;
	int tp, runs = 0, i;

	if (open_live(&l, getppid() > 1 ? getppid() : 1, MBEC_LIVE_USE_ALL, NULL)) {
		ok(0, "live open for a foreign pid");
		return;
	}
	for (i = 0; i < 12; i++)
		args[i] = (uint64_t)(uintptr_t)junk;
	args[1] = 1;	/* kvm_exit's isa: VMX */
	for (tp = 0; tp < MBEC_LIVE_NR_TP; tp++) {
		int fd = mbec_live_prog_fd(l, (unsigned int)tp), rc;

		if (fd < 0)
			continue;
		rc = test_run(fd, args, 12);
		if (rc)
			diag("tracepoint %d: test run %d", tp, rc);
		else
			runs++;
	}
	sink->records = 0;
	mbec_live_poll(l, 0);
	seen = sum_counters(l, &emitted, &skipped);
	ok(runs >= 5 && sink->records == 0 && seen == 0 && emitted == 0 && skipped == 0,
	   "%d programs run for a foreign pid: %lu records, %llu counted", runs, sink->records,
	   (unsigned long long)seen);
	mbec_live_close(l);

	/* The same runs for this process do write and count: the check above can fail. */
	if (open_live(&l, getpid(), MBEC_LIVE_USE_ALL, NULL)) {
		ok(0, "live open for this pid");
		return;
	}
	for (tp = 0; tp < MBEC_LIVE_NR_TP; tp++) {
		int fd = mbec_live_prog_fd(l, (unsigned int)tp);

		if (fd >= 0)
			test_run(fd, args, 12);
	}
	/* A walk goes out with the next event: end it with a walker error. */
	if (mbec_live_prog_fd(l, MBEC_LIVE_TP_WALKER_ERROR) >= 0)
		test_run(mbec_live_prog_fd(l, MBEC_LIVE_TP_WALKER_ERROR), args, 12);
	sink->records = 0;
	mbec_live_poll(l, 0);
	seen = sum_counters(l, &emitted, &skipped);
	ok(sink->records >= 5 && seen >= 5, "the same runs for this process: %lu records, %llu "
	   "counted", sink->records, (unsigned long long)seen);
	mbec_live_close(l);
}

/*
 * The bits of a new SPTE either side reads (src/check/format.c and
 * tdp_change_checked()): R/P, W, X, the frozen value's 5, 7 (and PS), 8,
 * 10 (and XU), legacy host/MMU-writable 9 and 10, MMU-present 11, the EPT
 * writable and saved bits of both layouts (52-58, 62), and 63.
 */
static const int bits[] = { 0, 1, 2, 5, 7, 8, 9, 10, 11, 52, 53, 54, 55, 56, 57, 58, 62, 63 };
#define NBITS	(sizeof(bits) / sizeof(bits[0]))

static uint64_t value(unsigned int idx)
{
	uint64_t v = 0;
	size_t b;

	for (b = 0; b < NBITS; b++)
		if (idx & (1U << b))
			v |= 1ULL << bits[b];
	/* A PFN for present ones (the access-track rule compares it with the old one). */
	return v & SPTE_MMU_PRESENT ? v | 0x1234000ULL : v;
}

/* Old SPTEs: none, a present writable EPT leaf of the same PFN, a frozen one. */
static const uint64_t olds[] = {
	0, 0x1234000ULL | SPTE_MMU_PRESENT | 0x7 | (1ULL << 57) | (1ULL << 58) | (1ULL << 53) |
	(1ULL << 55), CLASSIC_FROZEN_SPTE_BITS,
};

struct cfg {
	const char *name;
	struct mbec_check_opts o;
};

static unsigned long anomalies(struct mbec_check *e)
{
	const struct mbec_check_summary *s = mbec_check_summary(e);

	return s->anomalies_total + s->inconclusive_total;
}

static void feed(struct mbec_check *e, uint64_t old, uint64_t new, int level, uint64_t gfn)
{
	struct mbec_ev_tdp_spte_changed c;

	memset(&c, 0, sizeof(c));
	c.hdr.type = MBEC_EV_TDP_SPTE_CHANGED;
	c.hdr.size = sizeof(c);
	c.hdr.pid = 4242;
	c.hdr.tid = 4243;
	c.hdr.ts_ns = 1000 + gfn;
	c.gfn = gfn;
	c.level = level;
	c.old_spte = old;
	c.new_spte = new;
	mbec_check_feed(e, &c, sizeof(c));
}

static void test_tdp_rule(void)
{
	struct cfg cfgs[] = {
		{ "classic EPT", { .layout = MBEC_LAYOUT_CLASSIC, .spte_ept = true } },
		{ "classic legacy", { .layout = MBEC_LAYOUT_CLASSIC } },
		{ "classic unknown", { .layout = MBEC_LAYOUT_CLASSIC, .spte_fmt_unknown = true } },
		{ "mbec EPT", { .layout = MBEC_LAYOUT_MBEC, .spte_ept = true, .mbec = true } },
		{ "mbec legacy", { .layout = MBEC_LAYOUT_MBEC, .mbec = true } },
		{ "mbec unknown", { .layout = MBEC_LAYOUT_MBEC, .mbec = true, .spte_fmt_unknown = true } },
	};
	struct mbec_check *eng[sizeof(cfgs) / sizeof(cfgs[0])];
	unsigned int n = 1U << NBITS, idx, dropped = 0, kept = 0, fired_kept = 0, bad = 0;
	uint64_t args[6] = { 0 }, emitted, skipped, seen;
	struct mbec_live *l;
	size_t c;
	int fd, level, failures = 0;

	for (c = 0; c < sizeof(cfgs) / sizeof(cfgs[0]); c++)
		eng[c] = mbec_check_new(&cfgs[c].o);
	if (open_live(&l, getpid(), MBEC_LIVE_USE_WATCH, NULL) ||
	    (fd = mbec_live_prog_fd(l, MBEC_LIVE_TP_TDP_SPTE_CHANGED)) < 0) {
		skip("kvm_tdp_mmu_spte_changed is not attachable here",
		     "the kernel's TDP rule against the checker");
		mbec_live_close(l);
		goto out;
	}
	memset(sink->kept, 0, sizeof(sink->kept));
	for (idx = 0; idx < n; idx++) {
		args[1] = idx;	/* the gfn: which value */
		args[2] = 1 + (idx & 1);
		args[3] = olds[idx % 3];
		args[4] = value(idx);
		if (test_run(fd, args, 6))
			failures++;
		if ((idx & 4095) == 4095)
			mbec_live_poll(l, 0);
	}
	mbec_live_poll(l, 0);
	seen = sum_counters(l, &emitted, &skipped);
	ok(!failures && !sink->bad && seen == n && skipped + emitted == n,
	   "%u values run, %llu sent and %llu counted as skipped", n,
	   (unsigned long long)emitted, (unsigned long long)skipped);
	mbec_live_close(l);
	for (idx = 0; idx < n; idx++) {
		size_t o;

		if (sink->kept[idx]) {
			kept++;
			/* The checker still sees these: some of them break a rule (a sample). */
			for (c = 0; (idx & 63) == 0 && c < sizeof(cfgs) / sizeof(cfgs[0]); c++) {
				unsigned long a0 = anomalies(eng[c]);

				feed(eng[c], olds[idx % 3], value(idx), 1, idx);
				fired_kept += anomalies(eng[c]) != a0;
			}
			continue;
		}
		dropped++;
		for (level = 1; level <= 2; level++)
			for (o = 0; o < sizeof(olds) / sizeof(olds[0]); o++)
				for (c = 0; c < sizeof(cfgs) / sizeof(cfgs[0]); c++) {
					unsigned long a0 = anomalies(eng[c]);

					feed(eng[c], olds[o], value(idx), level, idx);
					if (anomalies(eng[c]) != a0 && bad++ < 5)
						diag("left out, but %s fires: level %d old 0x%llx "
						     "new 0x%llx", cfgs[c].name, level,
						     (unsigned long long)olds[o],
						     (unsigned long long)value(idx));
				}
	}
	ok(dropped > 0 && kept > 0, "the kernel leaves out %u changes, sends %u", dropped, kept);
	ok(bad == 0, "the checker finds nothing in any change the kernel left out "
	   "(%u values x 2 levels x %zu old SPTEs x %zu configurations)", dropped,
	   sizeof(olds) / sizeof(olds[0]), sizeof(cfgs) / sizeof(cfgs[0]));
	ok(fired_kept > 0, "among those it sends (every 64th, 6 configurations), the checker "
	   "fires on %u", fired_kept);

	/* The frozen SPTE with XU (a classic kernel's value) goes out and fires on MBEC. */
	if (!open_live(&l, getpid(), MBEC_LIVE_USE_WATCH, NULL)) {
		fd = mbec_live_prog_fd(l, MBEC_LIVE_TP_TDP_SPTE_CHANGED);
		memset(sink->kept, 0, sizeof(sink->kept));
		args[1] = 7;
		args[2] = 1;
		args[3] = 0;
		args[4] = CLASSIC_FROZEN_SPTE_BITS;
		test_run(fd, args, 6);
		args[1] = 8;
		args[4] = 0;
		test_run(fd, args, 6);
		mbec_live_poll(l, 0);
		ok(sink->kept[7] && !sink->kept[8], "watch: the classic frozen value goes out, a zap "
		   "to 0 does not");
		mbec_live_close(l);
	}
	/* check: nothing left out. */
	if (!open_live(&l, getpid(), MBEC_LIVE_USE_CHECK, NULL)) {
		fd = mbec_live_prog_fd(l, MBEC_LIVE_TP_TDP_SPTE_CHANGED);
		sink->records = 0;
		for (idx = 0; idx < 4096; idx++) {
			args[1] = idx;
			args[4] = value(idx * 61);
			test_run(fd, args, 6);
		}
		mbec_live_poll(l, 0);
		seen = sum_counters(l, &emitted, &skipped);
		ok(sink->records == 4096 && skipped == 0, "check: all of 4096 changes sent (%lu, %llu "
		   "skipped)", sink->records, (unsigned long long)skipped);
		mbec_live_close(l);
	}
out:
	for (c = 0; c < sizeof(cfgs) / sizeof(cfgs[0]); c++)
		mbec_check_free(eng[c]);
}

static int put(const char *root, const char *path)
{
	char p[512];
	char *s;

	snprintf(p, sizeof(p), "%s%s", root, path);
	for (s = p + strlen(root) + 1; (s = strchr(s, '/')); s++) {
		*s = 0;
		mkdir(p, 0755);
		*s = '/';
	}
	return mkdir(p, 0755);
}

int main(void)
{
	char root[] = "/tmp/mbec-filter-XXXXXX";

	test_plan();
	if (geteuid() != 0 || access("/sys/kernel/btf/vmlinux", R_OK) ||
	    access("/sys/module/kvm", F_OK)) {
		skip("needs root, BTF and KVM", "live: attach sets, foreign pid, TDP rule");
		return done_testing();
	}
	sink = calloc(1, sizeof(*sink));
	if (!sink || !mkdtemp(root))
		return 1;
	put(root, "/sys/module/kvm_intel/parameters");
	test_attach_sets(root);
	test_foreign_pid();
	test_tdp_rule();
	{
		char cmd[64];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
		if (system(cmd) != 0)
			diag("could not remove %s", root);
	}
	free(sink);
	return done_testing();
}
