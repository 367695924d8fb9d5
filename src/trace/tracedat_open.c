// SPDX-License-Identifier: GPL-2.0
/*
 * trace.dat (see tracedat.h): opening the file with libtracecmd, safely
 * (its headers first read in a child process, handles it cannot close
 * kept aside), its buffers and CPUs as streams, and the KVM layout from
 * the formats it carries.  tracedat.c reads the records.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "live/btf_layout.h"
#include "trace/tracedat_int.h"

/*
 * libtracecmd seeks: use the file itself when `in` reads a regular file
 * from its start, otherwise copy everything to an unlinked temporary file.
 */
static int seekable_fd(struct trace_in *in, char *err, size_t errlen)
{
	struct stat sb;
	off_t cur;
	FILE *f;
	int fd;

	if (in->fd >= 0 && !fstat(in->fd, &sb) && S_ISREG(sb.st_mode) &&
	    (cur = lseek(in->fd, 0, SEEK_CUR)) >= 0 &&
	    (uint64_t)cur == in->offset + (in->len - in->pos)) {
		fd = dup(in->fd);
		if (fd < 0 || lseek(fd, 0, SEEK_SET)) {
			snprintf(err, errlen, "cannot reopen the trace.dat: %s", strerror(errno));
			return -1;
		}
		return fd;
	}
	f = tmpfile();
	if (!f) {
		snprintf(err, errlen, "a trace.dat that is not a regular file must be copied to a "
			 "temporary file first (libtracecmd seeks), and that failed: %s; set TMPDIR "
			 "or pass the file's name", strerror(errno));
		return -1;
	}
	for (;;) {
		const unsigned char *p;
		size_t n = trace_in_peek(in, TRACE_IN_BUF, &p);

		if (!n)
			break;
		if (fwrite(p, 1, n, f) != n) {
			snprintf(err, errlen, "cannot copy the trace.dat to a temporary file (libtracecmd "
				 "seeks): %s; set TMPDIR or pass the file's name", strerror(errno));
			fclose(f);
			return -1;
		}
		trace_in_skip(in, n);
	}
	if (in->err || fflush(f)) {
		snprintf(err, errlen, "cannot read the trace.dat: %s", strerror(in->err ? in->err : errno));
		fclose(f);
		return -1;
	}
	fd = dup(fileno(f));
	fclose(f);
	if (fd >= 0 && lseek(fd, 0, SEEK_SET)) {
		close(fd);
		fd = -1;
	}
	if (fd < 0)
		snprintf(err, errlen, "cannot reopen the trace.dat copy: %s", strerror(errno));
	return fd;
}

static int add_streams(struct tracedat *td, struct tracecmd_input *h, const char *name, int inst)
{
	struct tep_handle *tep = tracecmd_get_tep(h);
	int cpu, cpus = tep ? tep_get_cpus(tep) : 0;

	for (cpu = 0; cpu < cpus && td->nr_st < MAX_STREAMS; cpu++) {
		struct stream *s = &td->st[td->nr_st];

		s->h = h;
		s->tep = tep;
		s->cpu = cpu;
		s->buf = name;
		s->inst = inst;
		s->damaged = false;
		s->last_read = 0;
		s->last_offset = 0;
		/*
		 * The CPU's last record, asked before its first is read (the
		 * state after a refused page is not to be trusted): where the
		 * reading must end.  Then back to the first record.
		 */
		if (tracecmd_get_cpu_file_size(h, cpu) > 0) {
			struct tep_record *last = tracedat_read(td, h, cpu, TD_READ_LAST);

			if (last) {
				s->last_offset = last->offset;
				tracecmd_free_record(last);
			}
		}
		if (!td->lib_fault)
			s->next = tracedat_read(td, h, cpu, TD_READ_FIRST);
		if (td->lib_fault) {
			tracedat_lib_fault(td, s);
			return -1;
		}
		if (s->next) {
			td->nr_st++;
		} else if (s->last_offset) {
			/* A last record but no first: the first page is refused. */
			tracedat_check_end(td, s);
			td->nr_st++;	/* kept, done, for tracedat_damaged_cpu() */
		} else if (tracecmd_get_cpu_file_size(h, cpu) > 0) {
			td->stats.unreadable_cpus++;	/* padding only, or damaged */
		}
	}
	if ((unsigned int)cpus > td->stats.cpus)
		td->stats.cpus = (unsigned int)cpus;
	td->stats.buffers++;
	return 0;
}

/*
 * kvm_mmu_get_page's TP_printk (KVM_MMU_PAGE_PRINTK) holds the table of
 * the access letters it prints: 8 of 3 letters ("wux") classic, 16 of
 * "rwux" an MBEC series with ACC_READ (this project's, Paolo Bonzini's),
 * 16 with Jon Kohler's "xwuX".  libtraceevent cannot parse that statement
 * expression and keeps no text of it, so it is read from the format text
 * in the file itself (uncompressed headers, within the first 4 MiB).
 * UNKNOWN when the file does not show it.
 */
#define SCAN_BYTES	(4UL << 20)
#define SCAN_STEP	(256U << 10)
#define SCAN_KEEP	(16U << 10)	/* a format is shorter than this */

static enum mbec_layout access_table_layout(int fd, char *what, size_t len)
{
	static const char ev[] = "name: kvm_mmu_get_page\n", tab[] = "access_str[] = {";
	enum mbec_layout l = MBEC_LAYOUT_UNKNOWN;
	unsigned int n = 0, letters = 0;
	bool upper_x = false, r = false;
	char *buf = malloc(SCAN_STEP + SCAN_KEEP);
	const char *p = NULL, *end = NULL;
	size_t have = 0;
	off_t off = 0;
	ssize_t got;

	if (!buf)
		return l;
	/* In steps, keeping the last SCAN_KEEP bytes: the formats come early. */
	while (!p && off < (off_t)SCAN_BYTES &&
	       (got = pread(fd, buf + have, SCAN_STEP, off)) > 0) {
		const char *ev_at;

		off += got;
		have += (size_t)got;
		end = buf + have;
		ev_at = memmem(buf, have, ev, sizeof(ev) - 1);
		if (ev_at && (size_t)(end - ev_at) >= SCAN_KEEP) {
			p = memmem(ev_at, SCAN_KEEP, tab, sizeof(tab) - 1);
			break;
		}
		if (ev_at) {
			/* Found late in the buffer: the rest of it, once more. */
			memmove(buf, ev_at, (size_t)(end - ev_at));
			have = (size_t)(end - ev_at);
			continue;
		}
		if (have > SCAN_KEEP) {
			memmove(buf, end - SCAN_KEEP, SCAN_KEEP);
			have = SCAN_KEEP;
		}
	}
	if (!p && have) {
		const char *ev_at = memmem(buf, have, ev, sizeof(ev) - 1);

		end = buf + have;
		p = ev_at ? memmem(ev_at, (size_t)(end - ev_at), tab, sizeof(tab) - 1) : NULL;
	}
	for (p = p ? p + sizeof(tab) - 1 : NULL; p && p < end && *p != '}'; p++) {
		const char *q;

		if (*p != '"')
			continue;
		for (q = p + 1; q < end && *q != '"'; q++) {
			upper_x |= *q == 'X';
			r |= *q == 'r';
		}
		if (!n)
			letters = (unsigned int)(q - p - 1);
		n++;
		p = q;
	}
	if (n == 16 && letters == 4)
		l = upper_x ? MBEC_LAYOUT_KOHLER : r ? MBEC_LAYOUT_MBEC : MBEC_LAYOUT_UNKNOWN;
	else if (n == 8 && letters == 3)
		l = MBEC_LAYOUT_CLASSIC;
	if (l != MBEC_LAYOUT_UNKNOWN)
		snprintf(what, len, "access table %s", l == MBEC_LAYOUT_KOHLER ? "xwuX" :
			 l == MBEC_LAYOUT_MBEC ? "rwux" : "wux");
	free(buf);
	return l;
}

/*
 * The layout from the file: the kernel's formats say which series it runs
 * (this project's MBEC/GMET series traces the requested ACC in
 * kvm_mmu_spte_requested), its release how the role's bits read.
 */
static void pick_layout(struct tracedat *td, struct tep_handle *tep)
{
	struct tep_event *req = tep_find_event_by_name(tep, "kvmmmu", "kvm_mmu_spte_requested");
	struct tep_event *gp = tep_find_event_by_name(tep, "kvmmmu", "kvm_mmu_get_page");
	struct tep_event *any = tep_find_event_by_name(tep, "kvmmmu", "kvm_mmu_set_spte");
	unsigned int maj = 0, min = 0;
	char why[64];

	if (!req && !gp && !any) {
		td->layout = MBEC_LAYOUT_UNKNOWN;
		td->layout_guessed = true;
		snprintf(td->layout_source, sizeof(td->layout_source),
			 "built-in classic, guessed (trace.dat has no kvmmmu events)");
		return;
	}
	if (td->table_layout != MBEC_LAYOUT_UNKNOWN) {
		td->layout = td->table_layout;
		snprintf(why, sizeof(why), "%.40s", td->table_why);
	} else if (req && tep_find_field(req, "access")) {
		td->layout = MBEC_LAYOUT_MBEC;
		snprintf(why, sizeof(why), "spte_requested has access");
	} else {
		/* No access table to read (a compressed file): the layout is guessed. */
		td->layout = MBEC_LAYOUT_CLASSIC;
		td->layout_guessed = true;
		snprintf(why, sizeof(why), "guessed: no access table or field");
	}
	/* Kohler's role bits after access are not published: taken as mbec's shift. */
	if (td->layout == MBEC_LAYOUT_KOHLER)
		td->role_guessed = true;
	/* Before 5.16, role bit 4 was gpte_is_8_bytes (cr4_pae before 5.3): the opposite. */
	if (td->release[0] && sscanf(td->release, "%u.%u", &maj, &min) == 2)
		td->gpte_is_8_bytes = maj < 5 || (maj == 5 && min < 16);
	snprintf(td->layout_source, sizeof(td->layout_source), "trace.dat's formats (%.36s), %s", why,
		 td->role_guessed ? "role bits after access guessed" :
		 !td->release[0] ? "release not recorded" : td->gpte_is_8_bytes ?
		 "role of a kernel < 5.16" : "role of 6.12");
}

/*
 * Handles that cannot be closed (see tracedat_open()): kept reachable, so
 * that they are not leaks, with their files closed.
 */
static struct abandoned {
	struct abandoned *next;
	struct tracecmd_input *h;
} *abandoned;

/* Files the libraries crashed on (tracedat_close()). */
static struct tracedat *faulted;

static void abandon(struct tracecmd_input *h, int fd)
{
	struct abandoned *a = malloc(sizeof(*a));

	if (a) {
		a->h = h;
		a->next = abandoned;
		abandoned = a;
	}
	close(fd);
}

/*
 * tracecmd_open_head(), with the handle's own file (opened again through
 * /proc: libtracecmd seeks, each handle needs its own offset) known to us.
 */
static struct tracecmd_input *open_handle(int fd, int *hfd)
{
	struct tracecmd_input *h;
	char path[40];

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	*hfd = open(path, O_RDONLY | O_CLOEXEC);
	if (*hfd < 0)
		return NULL;
	h = tracecmd_alloc_fd(*hfd, TRACECMD_FL_LOAD_NO_PLUGINS);
	if (!h) {
		close(*hfd);
		return NULL;
	}
	if (tracecmd_read_headers(h, 0) < 0) {
		tracecmd_close(h);	/* closes *hfd */
		return NULL;
	}
	return h;
}

/*
 * libtracecmd 1.3 prints why it refuses a file's data on stdout, whatever
 * the log level: catch that line (for our message) instead of letting it
 * into our output.
 */
static int init_data_quietly(struct tracecmd_input *h, char *said, size_t len)
{
	FILE *cap = tmpfile();
	int saved = -1, r;
	size_t n;
	char *nl;

	said[0] = 0;
	fflush(stdout);
	if (cap)
		saved = dup(STDOUT_FILENO);
	if (saved >= 0 && dup2(fileno(cap), STDOUT_FILENO) < 0) {
		close(saved);
		saved = -1;
	}
	r = tracecmd_init_data(h);
	if (saved >= 0) {
		fflush(stdout);
		dup2(saved, STDOUT_FILENO);
		close(saved);
		rewind(cap);
		n = fread(said, 1, len - 1, cap);
		said[n] = 0;
		while ((nl = strchr(said, '\n')))
			*nl = nl[1] ? ' ' : 0;
	}
	if (cap)
		fclose(cap);
	return r;
}

/*
 * libtraceevent 1.7.1 dereferences NULL in tep_parse_event() on some
 * malformed event formats (found by fuzzing, tests/fuzz/fuzz_tracedat.c),
 * and libtracecmd trusts the file's section sizes: a damaged trace.dat
 * can crash them while they read its headers or open its buffer
 * instances.  They do that first in a child process: a crash there is a damaged file, said as such.  0 when
 * the child lived (whether or not the libraries accepted the file).
 */
static int probe_headers(int fd, char *err, size_t errlen)
{
	static const int sigs[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT };
	int status, hfd, quiet, n;
	unsigned int i;
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid < 0)
		return 0;	/* no child: read it here, as before */
	if (!pid) {
		struct tracecmd_input *h;
		char said[160];

		/* Die by the signal (not a sanitizer's report) for the parent to see. */
		for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
			signal(sigs[i], SIG_DFL);
		/* glibc's "free(): invalid pointer" is the parent's to say, in its words. */
		setenv("LIBC_FATAL_STDERR_", "1", 1);
		quiet = open("/dev/null", O_WRONLY | O_CLOEXEC);
		if (quiet >= 0)
			dup2(quiet, STDERR_FILENO);
		h = open_handle(fd, &hfd);
		if (!h || init_data_quietly(h, said, sizeof(said)))
			_exit(3);
		/*
		 * The parent opens each buffer instance too: libtracecmd 1.3
		 * frees a half-built instance handle with tracecmd_close(),
		 * which crashes on it (found by fuzzing).  Open them here first.
		 */
		n = tracecmd_buffer_instances(h);
		for (i = 0; (int)i < n; i++)
			tracecmd_buffer_instance_handle(h, (int)i);
		_exit(0);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return 0;
	if (WIFEXITED(status) && (WEXITSTATUS(status) == 0 || WEXITSTATUS(status) == 3))
		return 0;
	snprintf(err, errlen, "trace.dat damaged: libtracecmd/libtraceevent %s%s%s while reading "
		 "its headers, event formats and buffer instances; take the capture again",
		 WIFSIGNALED(status) ? "crashed (" : "failed",
		 WIFSIGNALED(status) ? strsignal(WTERMSIG(status)) : "", WIFSIGNALED(status) ? ")" : "");
	return -1;
}

struct tracedat *tracedat_open(struct trace_in *in, char *err, size_t errlen)
{
	struct tracedat *td = calloc(1, sizeof(*td));
	char said[160];
	int hfd;
	const char *uname;
	struct stat sb;
	int i, n;

	if (!td) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	td->fd = seekable_fd(in, err, errlen);
	if (td->fd < 0) {
		free(td);
		return NULL;
	}
	/* Our own message says what is wrong; the libraries' would repeat it. */
	tracecmd_set_loglevel(TEP_LOG_NONE);
	tep_set_loglevel(TEP_LOG_NONE);
	if (!fstat(td->fd, &sb)) {
		td->dev = sb.st_dev;
		td->ino = sb.st_ino;
	}
	td->table_layout = access_table_layout(td->fd, td->table_why, sizeof(td->table_why));
	if (probe_headers(td->fd, err, errlen)) {
		close(td->fd);
		free(td);
		return NULL;
	}
	td->top = open_handle(td->fd, &hfd);
	close(td->fd);
	if (!td->top) {
		snprintf(err, errlen, "trace.dat: libtracecmd cannot read its headers (damaged or cut "
			 "short, or a file version it does not know)");
		free(td);
		return NULL;
	}
	if (init_data_quietly(td->top, said, sizeof(said))) {
		/*
		 * Its CPU data is not all in the file (libtracecmd then reads
		 * none of it).  libtracecmd 1.3's tracecmd_close() crashes on a
		 * handle in that state: keep it, reachable, instead.
		 */
		abandon(td->top, hfd);
		snprintf(err, errlen, "trace.dat cut short or damaged: libtracecmd reads none of its "
			 "CPU data (%s); take the capture again", said[0] ? said : "no reason given");
		free(td);
		return NULL;
	}
	uname = tracecmd_get_uname(td->top);
	if (uname)		/* "sysname nodename release machine" */
		sscanf(uname, "%*s %*s %64s", td->release);
	td->ev = calloc(MAX_EVENT_ID + 1, sizeof(*td->ev));
	td->st = calloc(MAX_STREAMS, sizeof(*td->st));
	if (!td->ev || !td->st) {
		snprintf(err, errlen, "out of memory");
		tracedat_close(td);
		return NULL;
	}
	tracedat_guard(true);
	td->guarded = true;
	if (add_streams(td, td->top, "", -1))
		goto lib_fault;
	n = tracecmd_buffer_instances(td->top);
	for (i = 0; i < n && td->nr_inst < sizeof(td->inst) / sizeof(td->inst[0]); i++) {
		struct tracecmd_input *h = tracecmd_buffer_instance_handle(td->top, i);
		const char *name = tracecmd_buffer_instance_name(td->top, i);

		if (!h)
			continue;
		td->inst[td->nr_inst++] = h;

		if (add_streams(td, h, name ? name : "?", (int)td->nr_inst - 1))
			goto lib_fault;
	}
	td->stats.file_version = (unsigned int)tracecmd_get_in_file_version(td->top);
	pick_layout(td, tracecmd_get_tep(td->top));
	td->rl = role_layout_builtin(td->layout == MBEC_LAYOUT_UNKNOWN ? MBEC_LAYOUT_CLASSIC :
				     td->layout);
	return td;

lib_fault:
	snprintf(err, errlen, "%s", td->problem);
	tracedat_close(td);
	return NULL;
}

void tracedat_close(struct tracedat *td)
{
	unsigned int i;

	if (!td)
		return;
	if (td->guarded)
		tracedat_guard(false);
	if (td->lib_fault) {
		/*
		 * The libraries died on this file: nothing of theirs is called
		 * again.  What they hold stays reachable, from here.
		 */
		td->next_faulted = faulted;
		faulted = td;
		return;
	}
	if (td->pending)
		tracecmd_free_record(td->pending);
	for (i = 0; td->st && i < td->nr_st; i++)
		if (td->st[i].next)
			tracecmd_free_record(td->st[i].next);
	for (i = 0; i < td->nr_inst; i++)
		tracecmd_close(td->inst[i]);
	if (td->top)
		tracecmd_close(td->top);
	free(td->ev);
	free(td->st);
	free(td);
}

