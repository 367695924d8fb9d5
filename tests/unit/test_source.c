// SPDX-License-Identifier: GPL-2.0
/*
 * The one source of records (src/source): every kind of file opened
 * through it, the kind told from the content whatever the name, a bad
 * input refused with one line, the filters, GUEST_MEM records kept and
 * answered, a capture of the workload completed, a consumer's stop obeyed,
 * and the live kind's first check (the pid) without root.
 */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "source/source.h"
#include "tap.h"
#include "trace/recording.h"

static char tmpdir[256];

/* A file of ours under the temporary directory; returns its path. */
static const char *put_file(const char *name, const void *data, size_t len)
{
	static char path[4][512];
	static int next;
	char *p = path[next++ % 4];
	int fd;

	snprintf(p, 512, "%s/%s", tmpdir, name);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0 || write(fd, data, len) != (ssize_t)len) {
		perror(p);
		exit(2);
	}
	close(fd);
	return p;
}

/* The bytes of a fixture of tests/golden (found from this file's place). */
static void *fixture(const char *name, size_t *len)
{
	char dir[512], path[600];
	FILE *f;
	void *buf;
	long n;

	snprintf(dir, sizeof(dir), "%s", __FILE__);
	snprintf(path, sizeof(path), "%s/../golden/fixtures/%s", dirname(dir), name);
	f = fopen(path, "rb");
	if (!f) {
		printf("Bail out! cannot open %s: %s (run from the top of the tree)\n", path,
		       strerror(errno));
		exit(2);
	}
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	fseek(f, 0, SEEK_SET);
	buf = malloc((size_t)n);
	if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n)
		exit(2);
	fclose(f);
	*len = (size_t)n;
	return buf;
}

struct seen {
	unsigned long n, by_type[MBEC_EV_MAX];
	uint32_t first_pid;
	int first_type;
	unsigned long stop_after;	/* 0: never */
};

static int count(void *ctx, const void *rec, size_t len)
{
	struct seen *s = ctx;
	const struct mbec_event_hdr *h = rec;

	if (len != h->size)
		return -1;
	if (!s->n++) {
		s->first_pid = h->pid;
		s->first_type = h->type;
	}
	if (h->type < MBEC_EV_MAX)
		s->by_type[h->type]++;
	return s->stop_after && s->n >= s->stop_after;
}

/* Open PATH with OPTS, read it through; the kind, or -1 when it did not open. */
static int read_all(const char *path, const struct mbec_source_opts *opts, struct seen *s,
		    char *err, size_t errlen)
{
	struct mbec_source_opts o;
	struct mbec_source *src;
	int kind;

	memset(s, 0, sizeof(*s));
	if (opts)
		o = *opts;
	else
		mbec_source_opts_init(&o);
	o.path = path;
	if (mbec_source_open(&src, &o, err, errlen))
		return -1;
	kind = mbec_source_kind(src);
	mbec_source_start(src, count, s, err, errlen);
	if (mbec_source_run(src, 0, NULL, NULL))
		kind = -2;
	mbec_source_finish(src);
	mbec_source_free(src);
	return kind;
}

static void kinds(void)
{
	static const struct {
		const char *fixture, *misnamed;
		enum mbec_source_kind kind;
	} k[] = {
		{ "workload.mbr", "capture.trace", MBEC_SOURCE_RECORDING },
		{ "escalation.trace", "capture.mbr", MBEC_SOURCE_FTRACE },
		{ "escalation.dat", "capture.txt", MBEC_SOURCE_TRACEDAT },
	};
	struct seen s, t;
	char err[512];
	unsigned int i;

	for (i = 0; i < sizeof(k) / sizeof(k[0]); i++) {
		size_t len;
		void *data = fixture(k[i].fixture, &len);
		const char *named = put_file(k[i].fixture, data, len);
		const char *misnamed = put_file(k[i].misnamed, data, len);
		int got = read_all(named, NULL, &s, err, sizeof(err));

		ok(got == (int)k[i].kind && s.n > 0, "%s opens as %s and gives records (%lu)",
		   k[i].fixture, mbec_source_kind_name(k[i].kind), s.n);
		if (got < 0)
			diag("%s", err);
		got = read_all(misnamed, NULL, &t, err, sizeof(err));
		ok(got == (int)k[i].kind && t.n == s.n,
		   "the same bytes named %s: still %s, the same %lu records (the content decides)",
		   k[i].misnamed, mbec_source_kind_name(k[i].kind), t.n);
		free(data);
	}
}

/* One line, no newline, saying what: the command prefixes it and exits 2. */
static void bad_input(void)
{
	static const unsigned char binary[] = { 0x7f, 'E', 'L', 'F', 0, 1, 2, 3, 0, 0, 9 };
	char path[600], err[512];
	struct seen s;
	int r;

	snprintf(path, sizeof(path), "%s/no-such-file", tmpdir);
	r = read_all(path, NULL, &s, err, sizeof(err));
	ok(r == -1 && strstr(err, "cannot open") && strstr(err, "no-such-file") &&
	   !strchr(err, '\n'), "a missing file: one line naming it (%s)", err);
	r = read_all(put_file("empty.mbr", "", 0), NULL, &s, err, sizeof(err));
	ok(r == -1 && strstr(err, "empty") && !strchr(err, '\n'), "an empty file: one line (%s)",
	   err);
	r = read_all(put_file("elf.trace", binary, sizeof(binary)), NULL, &s, err, sizeof(err));
	ok(r == -1 && strstr(err, "neither a recording") && !strchr(err, '\n'),
	   "binary data named .trace: refused, one line (%s)", err);
	r = read_all(put_file("prose.dat", "hello\nthis is not a trace\n", 26), NULL, &s, err,
		     sizeof(err));
	ok(r == -1 && strstr(err, "neither a recording") && !strchr(err, '\n'),
	   "prose named .dat: refused, one line (%s)", err);
}

/*
 * A recording with a GUEST_MEM record: kept (and answered) by the source,
 * handed on only when asked.
 */
static void guest_mem(void)
{
	struct mbec_rec_info info = { 0 };
	struct mbec_ev_guest_mem g = { 0 };
	struct mbec_ev_lost l = { 0 };
	struct mbec_source_opts o;
	struct mbec_check_opts copts = { 0 };
	struct mbec_source *src;
	struct mbec_rec_writer *w;
	char path[600], err[512];
	struct seen s;
	uint64_t val = 0;
	int fd, r;

	snprintf(path, sizeof(path), "%s/guestmem.mbr", tmpdir);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	mbec_rec_info_set_role(&info, role_layout_builtin(MBEC_LAYOUT_CLASSIC), false);
	w = mbec_rec_writer_open(fd, &info, 0, err, sizeof(err));
	g.hdr.type = MBEC_EV_GUEST_MEM;
	g.hdr.size = sizeof(g);
	g.hdr.pid = 42;
	g.hva = 0x7f0000001000ULL;
	g.val = 0x123067;
	l.hdr.type = MBEC_EV_LOST;
	l.hdr.size = sizeof(l);
	l.count = 3;
	if (!w || mbec_rec_write(w, &g, sizeof(g)) || mbec_rec_write(w, &l, sizeof(l)) ||
	    mbec_rec_writer_close(w, NULL, err, sizeof(err))) {
		ok(0, "write a recording with a guest_mem record: %s", err);
		return;
	}
	close(fd);

	r = read_all(path, NULL, &s, err, sizeof(err));
	ok(r == MBEC_SOURCE_RECORDING && s.n == 1 && s.by_type[MBEC_EV_LOST] == 1,
	   "guest_mem records are not handed on by default (%lu records)", s.n);
	mbec_source_opts_init(&o);
	o.guest_mem_records = true;
	r = read_all(path, &o, &s, err, sizeof(err));
	ok(r == MBEC_SOURCE_RECORDING && s.n == 2 && s.by_type[MBEC_EV_GUEST_MEM] == 1,
	   "... and are when asked (%lu records)", s.n);

	o.path = path;
	o.guest_mem_records = false;
	if (mbec_source_open(&src, &o, err, sizeof(err))) {
		ok(0, "open %s: %s", path, err);
		return;
	}
	mbec_source_check_opts(src, &copts);
	ok(copts.guest.read_mem && copts.guest.read_mem(copts.guest.ctx, 42, g.hva, &val) < 0,
	   "before the record is read, the engine's read of that memory fails");
	mbec_source_start(src, count, &s, err, sizeof(err));
	mbec_source_run(src, 0, NULL, NULL);
	r = copts.guest.read_mem(copts.guest.ctx, 42, g.hva, &val);
	ok(!r && val == g.val,
	   "after it, the source answers it with the recorded value (0x%llx)",
	   (unsigned long long)val);
	ok(copts.guest.read_mem(copts.guest.ctx, 43, g.hva, &val) < 0,
	   "another process's memory is not answered");
	mbec_source_free(src);
}

/* Text of two processes, 1 s apart per line: --pid and --from/--to. */
static void filters(void)
{
	static const char text[] =
		"   a-10 (   10) [000] .....   100.000000: kvm_mmu_pagetable_walk: addr 20000 pferr 14 U|F\n"
		"   b-20 (   20) [000] .....   101.000000: kvm_mmu_pagetable_walk: addr 21000 pferr 14 U|F\n"
		"   a-10 (   10) [000] .....   102.000000: kvm_mmu_pagetable_walk: addr 22000 pferr 14 U|F\n"
		"   a-10 (   10) [000] .....   103.000000: kvm_mmu_pagetable_walk: addr 23000 pferr 14 U|F\n";
	const char *path = put_file("two.trace", text, sizeof(text) - 1);
	struct mbec_source_opts o;
	struct seen s;
	char err[512];
	int r;

	r = read_all(path, NULL, &s, err, sizeof(err));
	ok(r == MBEC_SOURCE_FTRACE && s.n == 4,
	   "text: 4 walks (%lu)", s.n);
	mbec_source_opts_init(&o);
	o.pid = 20;
	r = read_all(path, &o, &s, err, sizeof(err));
	ok(r == MBEC_SOURCE_FTRACE && s.n == 1 && s.first_pid == 20, "--pid 20: its one walk (%lu)",
	   s.n);
	mbec_source_opts_init(&o);
	o.has_from = o.has_to = true;
	o.from_ns = 1000000000ULL;
	o.to_ns = 2000000000ULL;
	r = read_all(path, &o, &s, err, sizeof(err));
	ok(r == MBEC_SOURCE_FTRACE && s.n == 2,
	   "--from 1 --to 2: the walks at +1 s and +2 s (%lu)", s.n);
}

/* A text capture of the workload: its mode and page tables added, before the first record. */
static void workload_capture(void)
{
	static const char text[] =
		"   a-10 (   10) [000] .....   100.000000: kvm_mmu_pagetable_walk: addr 20000 pferr 14 U|F\n";
	const char *path = put_file("wl.trace", text, sizeof(text) - 1);
	struct workload_opts wo;
	struct mbec_source_opts o;
	struct mbec_source *src;
	struct seen s;
	char err[512];
	size_t len;
	void *rec = fixture("workload.mbr", &len);
	const char *rpath = put_file("wl.mbr", rec, len);
	struct seen plain;

	free(rec);
	workload_opts_init(&wo);
	wo.quiet = true;
	mbec_source_opts_init(&o);
	o.workload = &wo;
	o.path = path;
	if (mbec_source_open(&src, &o, err, sizeof(err))) {
		ok(0, "open %s: %s", path, err);
		return;
	}
	ok((mbec_source_info(src)->flags & MBEC_REC_F_WORKLOAD) && mbec_source_info(src)->has_mode,
	   "text with --workload: the info says so and carries the guest's mode");
	memset(&s, 0, sizeof(s));
	mbec_source_start(src, count, &s, err, sizeof(err));
	mbec_source_run(src, 0, NULL, NULL);
	ok(s.by_type[MBEC_EV_GUEST_PTE] > 0 && s.first_type == MBEC_EV_GUEST_PTE &&
	   s.first_pid == 10 && s.by_type[MBEC_EV_PAGETABLE_WALK] == 1,
	   "its page-table entries come first, as the walk's process (%lu guest_pte)",
	   s.by_type[MBEC_EV_GUEST_PTE]);
	mbec_source_free(src);

	/* A recording of the workload carries them itself: nothing is added. */
	read_all(rpath, NULL, &plain, err, sizeof(err));
	read_all(rpath, &o, &s, err, sizeof(err));
	ok(s.n == plain.n && s.by_type[MBEC_EV_GUEST_PTE] == plain.by_type[MBEC_EV_GUEST_PTE],
	   "a recording of the workload with --workload: nothing added (%lu records)", s.n);
}

/* A consumer that says stop is obeyed: nothing more is handed on. */
static void stop(void)
{
	size_t len;
	void *data = fixture("workload.mbr", &len);
	const char *path = put_file("stop.mbr", data, len);
	struct seen s;
	char err[512];

	free(data);
	memset(&s, 0, sizeof(s));
	{
		struct mbec_source_opts o;
		struct mbec_source *src;

		mbec_source_opts_init(&o);
		o.path = path;
		if (mbec_source_open(&src, &o, err, sizeof(err))) {
			ok(0, "open %s: %s", path, err);
			return;
		}
		s.stop_after = 5;
		mbec_source_start(src, count, &s, err, sizeof(err));
		mbec_source_run(src, 0, NULL, NULL);
		ok(s.n == 5, "the run ends at the record the consumer stopped on (%lu)", s.n);
		mbec_source_free(src);
	}
}

/* Live: the first check needs neither root nor BPF. */
static void live_pid(void)
{
	struct mbec_source_opts o;
	struct mbec_source *src = NULL;
	char err[512];
	pid_t p = fork();

	if (p == 0)
		_exit(0);
	waitpid(p, NULL, 0);
	mbec_source_opts_init(&o);
	o.pid = (uint32_t)p;
	ok(mbec_source_open(&src, &o, err, sizeof(err)) == -1 && !src &&
	   strstr(err, "no such process") && !strchr(err, '\n'),
	   "live with the pid of a process that is gone: one line (%s)", err);
}

int main(void)
{
	const char *t = getenv("TMPDIR");

	snprintf(tmpdir, sizeof(tmpdir), "%s/test_source.XXXXXX", t && *t ? t : "/tmp");
	if (!mkdtemp(tmpdir)) {
		printf("Bail out! mkdtemp: %s\n", strerror(errno));
		return 2;
	}
	kinds();
	bad_input();
	guest_mem();
	filters();
	workload_capture();
	stop();
	live_pid();
	{
		char cmd[300];

		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
		if (system(cmd))
			diag("could not remove %s", tmpdir);
	}
	return done_testing();
}
