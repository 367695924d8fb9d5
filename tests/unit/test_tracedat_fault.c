// SPDX-License-Identifier: GPL-2.0
/*
 * libtracecmd crashing inside a record read (src/trace/tracedat.c's guard).
 * A damaged ring-buffer page can make libtraceevent's kbuffer read out of
 * bounds; fuzz_tracedat found one (tests/golden/fixtures/fuzz/
 * tracedat-page-segv.dat, at the first page of a CPU).  Here the crash is
 * made to order, anywhere in the file: this program defines
 * tracecmd_read_data() itself, which the dynamic linker then gives
 * libtracecmd's callers too, and faults on the Nth call.
 *
 * Shown: the fault ends the reading with the file said damaged (which CPU,
 * after which record), the records before it kept, the handles kept and
 * never called again; a fault that is not in a read still kills the
 * process; the same file opened again afterwards reads whole.
 */
#include <dlfcn.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tap.h"
#include "trace/source.h"
#include "trace/tracedat.h"

struct tracecmd_input;
struct tep_record;

static long calls, fault_at;	/* fault on call number fault_at (0: never) */
static volatile char *volatile nowhere;	/* a page no one may read (main()) */

struct tep_record *tracecmd_read_data(struct tracecmd_input *h, int cpu);
struct tep_record *tracecmd_read_data(struct tracecmd_input *h, int cpu)
{
	static struct tep_record *(*real)(struct tracecmd_input *, int);

	if (!real)
		*(void **)&real = dlsym(RTLD_NEXT, "tracecmd_read_data");
	if (fault_at && ++calls == fault_at) {
		return (struct tep_record *)(long)*nowhere;	/* SIGSEGV */
	}
	return real(h, cpu);
}

static const char *fixture = "tests/golden/fixtures/two-cpus.dat";
static const struct trace_source_opts opts = { .layout = MBEC_LAYOUT_UNKNOWN, .spte_ept = -1 };

/* Read the whole file; the number of records, -1 when it would not open. */
static long read_all(struct trace_source **out, char *err, size_t len)
{
	const struct mbec_event_hdr *h;
	long n = 0;

	if (trace_source_open(out, fixture, &opts, err, len))
		return -1;
	while (trace_source_next(*out, &h) > 0)
		n++;
	return n;
}

int main(void)
{
	struct trace_source *s;
	const struct tracedat_stats *st;
	const char *problem;
	char err[512];
	long whole, n;
	int status;
	pid_t pid;
	void *page = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (page == MAP_FAILED)
		return skip_all("no page to map");
	nowhere = page;

	/* The whole file, no fault: the reference. */
	whole = read_all(&s, err, sizeof(err));
	if (!ok(whole > 100, "%s reads whole: %ld records", fixture, whole))
		diag("%s", err);
	ok(!trace_source_damaged(s), "  and is not damaged");
	trace_source_free(s);

	/* A fault on the 300th read, in the middle of the file. */
	calls = 0;
	fault_at = 300;
	n = read_all(&s, err, sizeof(err));
	ok(n > 0 && n < whole, "a fault in a read ends the reading there: %ld of %ld records", n,
	   whole);
	ok(trace_source_damaged(s), "  the file is said damaged");
	problem = trace_source_problem(s);
	if (!ok(problem && strstr(problem, "crashed (Segmentation fault) reading CPU ") &&
		strstr(problem, "after the record at file offset 0x"),
		"  the problem names the crash, the CPU and the last record read"))
		diag("problem: %s", problem ? problem : "(none)");
	st = tracedat_stats(trace_source_tracedat(s));
	ok(st && st->records > 0 && st->records < (unsigned long long)whole,
	   "  the records before it were read: %llu", st ? (unsigned long long)st->records : 0ULL);
	diag("%s", problem ? problem : "");
	trace_source_free(s);	/* must not call libtracecmd again: it would crash */
	ok(1, "closing the damaged file does not touch the libraries again");

	/* The same file again, without the fault: read whole. */
	fault_at = 0;
	n = read_all(&s, err, sizeof(err));
	ok(n == whole && !trace_source_damaged(s), "opened again afterwards: %ld records, not "
	   "damaged", n);
	trace_source_free(s);

	/* A fault while a file is open but not in a read is not swallowed. */
	fflush(stdout);
	pid = fork();
	if (!pid) {
		const struct mbec_event_hdr *h;

		if (trace_source_open(&s, fixture, &opts, err, sizeof(err)) ||
		    trace_source_next(s, &h) <= 0)
			_exit(3);
		close(STDERR_FILENO);	/* the sanitizer's report, if any */
		(void)*nowhere;
		_exit(0);
	}
	waitpid(pid, &status, 0);
	ok(!(WIFEXITED(status) && (WEXITSTATUS(status) == 0 || WEXITSTATUS(status) == 3)),
	   "a fault of our own while the guard is on still kills (%s %d)",
	   WIFSIGNALED(status) ? "signal" : "exit",
	   WIFSIGNALED(status) ? WTERMSIG(status) : WEXITSTATUS(status));
	return done_testing();
}
