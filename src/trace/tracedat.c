// SPDX-License-Identifier: GPL-2.0
/*
 * trace.dat -> lines for the ftrace importer (see tracedat.h): opening,
 * reading the CPUs' records in time order, drops, damage, memory.  The
 * lines themselves are made in tracedat_form.c.
 *
 * libtracecmd opens the file (every version it knows, compressed or not)
 * and hands out one CPU's records at a time; libtraceevent knows each
 * event's fields from the format descriptions stored in the file.  The
 * fields we read are looked up once per event id, by name, and read with
 * the size and signedness the format gives them.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "live/btf_layout.h"
#include "trace/tracedat_int.h"

/*
 * Exported by libtracecmd (the "uname" option of the file: "Linux host
 * 6.1.0-18-amd64 x86_64") but missing from its public header.
 */
const char *tracecmd_get_uname(struct tracecmd_input *handle);
/* The same: the file's version (6, 7). */
unsigned long tracecmd_get_in_file_version(struct tracecmd_input *handle);
/* The same: a CPU's last record (NULL when a page on the way back cannot be read). */
struct tep_record *tracecmd_read_cpu_last(struct tracecmd_input *handle, int cpu);
/* The same: how many bytes of a CPU's data the file holds. */
off_t tracecmd_get_cpu_file_size(struct tracecmd_input *handle, int cpu);
/* The same: tracecmd_open_head() is these two, on a file it opens itself. */
struct tracecmd_input *tracecmd_alloc_fd(int fd, int flags);
int tracecmd_read_headers(struct tracecmd_input *handle, int state);

#define MAX_STREAMS	1024		/* (buffer, CPU) pairs */
#define MAX_EVENT_ID	65535		/* common_type is 16 bits */
#define NR_SKIP_NAMES	32
#define DROP_STEP	(256UL << 10)	/* read file data dropped from RSS in these steps */

/*
 * The fields each event needs, by name; "?name" is optional (older or
 * newer kernels lack it), "a|b" takes the first the format has.
 */
static const struct {
	const char *system, *name;
	enum kind kind;
	const char *fields[MAX_FIELDS];
} wanted[] = {
	{ "kvmmmu", "kvm_mmu_pagetable_walk", K_WALK, { "addr", "pferr" } },
	{ "kvmmmu", "kvm_mmu_paging_element", K_ELEM, { "pte", "level" } },
	{ "kvmmmu", "kvm_mmu_walker_error", K_WERR, { "pferr" } },
	{ "kvmmmu", "kvm_mmu_spte_requested", K_REQ, { "gfn", "pfn", "level", "?access" } },
	{ "kvmmmu", "kvm_mmu_set_spte", K_SET,
	  { "gfn", "spte", "sptep", "level", "?r", "?x", "?u" } },
	{ "kvm", "kvm_page_fault", K_PF, { "fault_address", "error_code", "?vcpu_id" } },
	{ "kvm", "kvm_exit", K_EXIT, { "exit_reason", "?isa", "info1", "info2", "?vcpu_id" } },
	{ "kvmmmu", "kvm_mmu_get_page", K_GET_PAGE,
	  { "?mmu_valid_gen", "gfn", "role", "?root_count", "?unsync", "?created" } },
	{ "kvmmmu", "kvm_tdp_mmu_spte_changed", K_TDP,
	  { "?as_id", "gfn", "level", "old_spte", "new_spte" } },
	{ "kvmmmu", "fast_page_fault", K_FAST,
	  { "?vcpu_id", "cr2_or_gpa|gva", "error_code", "?sptep", "old_spte", "new_spte",
	    "?ret" } },
	{ "kvm", "kvm_nested_vmexit_inject", K_INJECT,
	  { "exit_code", "exit_info1", "exit_info2", "?exit_int_info", "?exit_int_info_err",
	    "?isa" } },
};

bool tracedat_is_tracedat(const void *p, size_t n)
{
	return n >= TRACEDAT_MAGIC_LEN && !memcmp(p, TRACEDAT_MAGIC, TRACEDAT_MAGIC_LEN);
}

enum mbec_layout tracedat_layout(const struct tracedat *td)
{
	return td->layout;
}

bool tracedat_layout_guessed(const struct tracedat *td)
{
	return td->layout_guessed;
}

const char *tracedat_layout_source(const struct tracedat *td)
{
	return td->layout_source;
}

const char *tracedat_release(const struct tracedat *td)
{
	return td->release;
}

const char *tracedat_line_buffer(const struct tracedat *td)
{
	return td->line_buf ? td->line_buf : "";
}

const struct tracedat_stats *tracedat_stats(const struct tracedat *td)
{
	return &td->stats;
}

const char *tracedat_problem(const struct tracedat *td)
{
	return td->problem;
}

bool tracedat_damaged(const struct tracedat *td)
{
	return td->damaged;
}

/* ---- opening ------------------------------------------------------------ */

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

static bool check_end(struct tracedat *td, struct stream *s);

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
			struct tep_record *last = tracecmd_read_cpu_last(h, cpu);

			if (last) {
				s->last_offset = last->offset;
				tracecmd_free_record(last);
			}
		}
		s->next = tracecmd_read_cpu_first(h, cpu);
		if (s->next) {
			td->nr_st++;
		} else if (s->last_offset) {
			/* A last record but no first: the first page is refused. */
			check_end(td, s);
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

static enum mbec_layout access_table_layout(int fd, char *what, size_t len)
{
	static const char ev[] = "name: kvm_mmu_get_page\n", tab[] = "access_str[] = {";
	enum mbec_layout l = MBEC_LAYOUT_UNKNOWN;
	unsigned int n = 0, letters = 0;
	bool upper_x = false, r = false;
	struct stat sb;
	size_t want = !fstat(fd, &sb) && sb.st_size >= 0 && (uint64_t)sb.st_size < SCAN_BYTES ?
		      (size_t)sb.st_size : SCAN_BYTES;
	char *buf = want ? malloc(want) : NULL;
	const char *p, *end;
	ssize_t got;

	if (!buf)
		return l;
	got = pread(fd, buf, want, 0);
	p = got > 0 ? memmem(buf, (size_t)got, ev, sizeof(ev) - 1) : NULL;
	end = p ? buf + got : NULL;
	if (p) {
		size_t room = (size_t)(end - p) < 16384 ? (size_t)(end - p) : 16384;

		p = memmem(p, room, tab, sizeof(tab) - 1);
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
 * can crash them while they read its headers.  They do that first in a
 * child process: a crash there is a damaged file, said as such.  0 when
 * the child lived (whether or not the libraries accepted the file).
 */
static int probe_headers(int fd, char *err, size_t errlen)
{
	static const int sigs[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT };
	int status, hfd;
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
		h = open_handle(fd, &hfd);
		_exit(h && !init_data_quietly(h, said, sizeof(said)) ? 0 : 3);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return 0;
	if (WIFEXITED(status) && (WEXITSTATUS(status) == 0 || WEXITSTATUS(status) == 3))
		return 0;
	snprintf(err, errlen, "trace.dat damaged: libtracecmd/libtraceevent %s while reading its "
		 "headers and event formats; take the capture again",
		 WIFSIGNALED(status) ? strsignal(WTERMSIG(status)) : "failed");
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
	add_streams(td, td->top, "", -1);
	n = tracecmd_buffer_instances(td->top);
	for (i = 0; i < n && td->nr_inst < sizeof(td->inst) / sizeof(td->inst[0]); i++) {
		struct tracecmd_input *h = tracecmd_buffer_instance_handle(td->top, i);
		const char *name = tracecmd_buffer_instance_name(td->top, i);

		if (!h)
			continue;
		td->inst[td->nr_inst++] = h;

		add_streams(td, h, name ? name : "?", (int)td->nr_inst - 1);
	}
	td->stats.file_version = (unsigned int)tracecmd_get_in_file_version(td->top);
	pick_layout(td, tracecmd_get_tep(td->top));
	td->rl = role_layout_builtin(td->layout == MBEC_LAYOUT_UNKNOWN ? MBEC_LAYOUT_CLASSIC :
				     td->layout);
	return td;
}

void tracedat_close(struct tracedat *td)
{
	unsigned int i;

	if (!td)
		return;
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

/* ---- events --------------------------------------------------------------- */

static void resolve(struct evinfo *e, struct tep_event *ev)
{
	unsigned int w, i;

	e->ev = ev;
	e->swap = tep_is_file_bigendian(ev->tep) != tep_is_local_bigendian(ev->tep);
	e->kind = K_OTHER;
	for (w = 0; w < sizeof(wanted) / sizeof(wanted[0]); w++)
		if (!strcmp(ev->name, wanted[w].name) && ev->system &&
		    !strcmp(ev->system, wanted[w].system))
			break;
	if (w == sizeof(wanted) / sizeof(wanted[0]))
		return;
	e->kind = wanted[w].kind;
	e->w = (int)w;
	for (i = 0; i < MAX_FIELDS && wanted[w].fields[i]; i++) {
		const char *spec = wanted[w].fields[i];
		bool opt = *spec == '?';
		char name[64], *alt;
		struct tep_format_field *f = NULL;

		snprintf(name, sizeof(name), "%s", spec + opt);
		for (alt = name; alt && !f;) {
			char *bar = strchr(alt, '|');

			if (bar)
				*bar = 0;
			f = tep_find_field(ev, alt);
			alt = bar ? bar + 1 : NULL;
		}
		if (f && ((f->size != 1 && f->size != 2 && f->size != 4 && f->size != 8) ||
			  ((f->flags & TEP_FIELD_IS_ARRAY) && !(f->flags & TEP_FIELD_IS_POINTER))))
			f = NULL;
		if (!f && !opt)
			e->lacks = true;
		e->f[i] = f;
		if (f && (unsigned int)(f->offset + f->size) > e->need)
			e->need = (unsigned int)(f->offset + f->size);
	}
}

/* ---- reading -------------------------------------------------------------- */

/* Is [addr, addr + len) in a mapping of the trace.dat itself (not of memory)? */
static bool in_file_mapping(struct tracedat *td, uintptr_t addr, size_t len)
{
	char line[512];
	FILE *f;

	if (addr >= td->map_lo && addr + len <= td->map_hi)
		return true;
	f = fopen("/proc/self/maps", "re");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi, maj, min, ino;

		if (sscanf(line, "%lx-%lx %*s %*s %lx:%lx %lu", &lo, &hi, &maj, &min, &ino) != 5 ||
		    addr < lo || addr + len > hi)
			continue;
		if (ino == td->ino && makedev(maj, min) == td->dev && td->ino) {
			td->map_lo = lo;
			td->map_hi = hi;
		}
		break;
	}
	fclose(f);
	return addr >= td->map_lo && addr + len <= td->map_hi;
}

/*
 * libtracecmd maps the file's CPU data in large windows and keeps what it
 * read resident until the window goes: peak RSS would grow with the
 * file.  A page whose records have all been read is dropped from our page
 * tables (a read-only mapping of the file: if it were read again, it
 * would come back from the file).  Never done to memory (decompressed
 * data of a compressed file): there it would lose data.
 */
static void drop_read_page(struct tracedat *td, struct stream *s, const struct tep_record *r)
{
	uintptr_t pg = (uintptr_t)r->data & ~(uintptr_t)4095;

	if (pg == s->last)
		return;
	if (s->page && pg > s->page && in_file_mapping(td, s->page, pg - s->page)) {
		/* Further on in the same window: in steps, madvise() per page costs. */
		if (pg - s->page >= DROP_STEP) {
			madvise((void *)s->page, pg - s->page, MADV_DONTNEED);
			s->page = pg;
		}
	} else {
		/* Another window: what is left of the last one. */
		if (s->page && s->last >= s->page &&
		    in_file_mapping(td, s->page, s->last + 4096 - s->page))
			madvise((void *)s->page, s->last + 4096 - s->page, MADV_DONTNEED);
		s->page = pg;
	}
	s->last = pg;
}

/* The stream whose next record is the oldest, or NULL at the end. */
static struct stream *oldest(struct tracedat *td)
{
	struct stream *best = NULL;
	unsigned int i;

	for (i = 0; i < td->nr_st; i++)
		if (td->st[i].next && (!best || td->st[i].next->ts < best->next->ts))
			best = &td->st[i];
	return best;
}

/*
 * A CPU's records ended (s->last_read the last one read, 0 none): is that
 * its last record in the file?  If not, or if the last page cannot be
 * read, libtracecmd stopped at a page it refuses (tracedat.h).  The last
 * record was asked before the reading began (add_streams()).  True when
 * damaged.
 */
static bool check_end(struct tracedat *td, struct stream *s)
{
	if (s->last_read && s->last_read == s->last_offset)
		return false;
	s->damaged = true;
	s->stop_offset = s->last_read;
	td->stats.damaged_cpus++;
	return true;
}

bool tracedat_damaged_cpu(const struct tracedat *td, unsigned int i, const char **buffer, int *cpu,
			  unsigned long long *stop_offset, unsigned long long *last_offset)
{
	unsigned int k;

	for (k = 0; k < td->nr_st; k++) {
		const struct stream *s = &td->st[k];

		if (!s->damaged || i--)
			continue;
		*buffer = s->buf;
		*cpu = s->cpu;
		*stop_offset = s->stop_offset;
		*last_offset = s->last_offset;
		return true;
	}
	return false;
}

/* At the end: the file is damaged when a CPU's pages were not all read. */
static void page_damage(struct tracedat *td)
{
	const char *buf;
	unsigned long long stop, last;
	int cpu;

	if (td->damaged || !td->stats.damaged_cpus ||
	    !tracedat_damaged_cpu(td, 0, &buf, &cpu, &stop, &last))
		return;
	td->damaged = true;
	snprintf(td->problem, sizeof(td->problem), "trace.dat damaged: %s%sCPU %d stops at a "
		 "ring-buffer page libtracecmd refuses (a bad page header) %s 0x%llx, and its records "
		 "after it were not read (%u CPU%s so damaged; each was read up to its damage); take "
		 "the capture again", buf[0] ? buf : "", buf[0] ? " " : "", cpu,
		 stop ? "after the record at file offset" : "before any record, its last one at",
		 stop ? stop : last, td->stats.damaged_cpus, td->stats.damaged_cpus == 1 ? "" : "s");
}

static long damage(struct tracedat *td, const struct stream *s, const struct tep_record *r,
		   const char *what)
{
	snprintf(td->problem, sizeof(td->problem), "trace.dat damaged: CPU %d, record at file "
		 "offset %llu: %s; the records before it were read", s->cpu,
		 (unsigned long long)r->offset, what);
	td->damaged = true;
	return -1;
}

long tracedat_line(struct tracedat *td, char **line)
{
	for (;;) {
		struct stream *s = td->pending_st;
		struct tep_record *r = td->pending;
		struct tep_event *ev;
		struct evinfo *e;
		size_t len;
		int type, n;
		char what[160];

		if (td->damaged)
			return -1;
		if (td->damage_st && !r) {
			/* What was after a damaged page is lost, how much unknown. */
			s = td->damage_st;
			td->damage_st = NULL;
			td->line_buf = s->buf;
			n = snprintf(td->line, sizeof(td->line), "CPU:%d [EVENTS DROPPED]", s->cpu);
			*line = td->line;
			return n;
		}
		if (!r) {
			s = oldest(td);
			if (!s) {
				page_damage(td);
				return -1;
			}
			r = s->next;
			s->next = tracecmd_read_data(s->h, s->cpu);
			s->last_read = r->offset;
			if (!s->next && check_end(td, s))
				td->damage_st = s;
			td->stats.records++;
			drop_read_page(td, s, r);
			td->line_buf = s->buf;
			/* A CPU's drop comes before the record it precedes. */
			if (r->missed_events) {
				td->pending = r;
				td->pending_st = s;
				if (r->missed_events > 0)
					td->stats.lost += (uint64_t)r->missed_events;
				else
					td->stats.lost_uncounted++;
				n = snprintf(td->line, sizeof(td->line), "CPU:%d [LOST %lld EVENTS]",
					     s->cpu, r->missed_events > 0 ? r->missed_events : 1);
				*line = td->line;
				return n;
			}
		}
		td->pending = NULL;
		td->pending_st = NULL;

		type = tep_data_type(s->tep, r);
		e = type >= 0 && type <= MAX_EVENT_ID ? &td->ev[type] : NULL;
		if (e && e->kind == K_UNRESOLVED) {
			ev = tep_find_event(s->tep, type);
			if (ev)
				resolve(e, ev);
		}
		ev = e ? e->ev : NULL;
		if (!ev) {
			snprintf(what, sizeof(what), "event id %d has no format in the file", type);
			n = (int)damage(td, s, r, what);
			tracecmd_free_record(r);
			return n;
		}
		if (e->kind == K_OTHER) {
			e->skipped++;
			td->stats.skipped++;
			tracecmd_free_record(r);
			continue;
		}
		if (e->lacks) {
			td->stats.no_field++;
			tracecmd_free_record(r);
			continue;
		}
		if ((unsigned int)r->size < e->need) {
			snprintf(what, sizeof(what), "%s record of %d bytes, its format needs %u",
				 ev->name, r->size, e->need);
			n = (int)damage(td, s, r, what);
			tracecmd_free_record(r);
			return n;
		}
		len = tracedat_form_line(td, s, e, r);
		tracecmd_free_record(r);
		td->stats.imported++;
		*line = td->line;
		return (long)len;
	}
}

static int by_count(const void *a, const void *b)
{
	const struct evinfo *x = *(const struct evinfo *const *)a, *y = *(const struct evinfo *const *)b;

	return x->skipped < y->skipped ? 1 : x->skipped > y->skipped ? -1 : 0;
}

void tracedat_skipped_names(const struct tracedat *td, char *buf, size_t len)
{
	const struct evinfo *top[NR_SKIP_NAMES];
	struct tep_handle *tep = tracecmd_get_tep(td->top);
	unsigned int n = 0, i, more = 0;
	size_t o = 0;
	int id;

	buf[0] = 0;
	for (id = 0; id <= MAX_EVENT_ID; id++) {
		if (!td->ev[id].skipped)
			continue;
		if (n < NR_SKIP_NAMES)
			top[n++] = &td->ev[id];
		else
			more++;
	}
	qsort(top, n, sizeof(top[0]), by_count);
	for (i = 0; i < n && o < len; i++) {
		struct tep_event *ev = tep_find_event(tep, (int)(top[i] - td->ev));

		o += (size_t)snprintf(buf + o, len - o, "%s%s %llu", i ? ", " : "",
				      ev ? ev->name : "?", (unsigned long long)top[i]->skipped);
	}
	if (more && o < len)
		o += (size_t)snprintf(buf + o, len - o, " and %u more events", more);
	if (o >= len && len > 4)
		memcpy(buf + len - 4, "...", 4);
}

void tracedat_describe(const struct tracedat *td, char *buf, size_t len)
{
	const struct tracedat_stats *st = &td->stats;
	unsigned long long stop, last;
	char names[200];
	const char *b;
	unsigned int i;
	int o, cpu;

	tracedat_skipped_names(td, names, sizeof(names));
	o = snprintf(buf, len, "trace.dat version %u of kernel %s, %u buffer%s, %u CPUs, %llu records "
		     "(%llu imported", st->file_version, td->release[0] ? td->release : "?",
		     st->buffers, st->buffers == 1 ? "" : "s", st->cpus,
		     (unsigned long long)st->records, (unsigned long long)st->imported);
	if (o >= 0 && (size_t)o < len && st->skipped)
		o += snprintf(buf + o, len - (size_t)o, "; %llu of other events skipped: %s",
			      (unsigned long long)st->skipped, names);
	if (o >= 0 && (size_t)o < len && st->no_field)
		o += snprintf(buf + o, len - (size_t)o, "; %llu skipped: their format lacks a "
			      "field the checker needs", (unsigned long long)st->no_field);
	for (i = 0; o >= 0 && (size_t)o < len && tracedat_damaged_cpu(td, i, &b, &cpu, &stop, &last);
	     i++)
		o += snprintf(buf + o, len - (size_t)o, "%s%s%sCPU %d", i ? ", " : "; damaged "
			      "ring-buffer pages, read up to the damage: ", b, b[0] ? " " : "", cpu);
	if (o >= 0 && (size_t)o < len && st->unreadable_cpus)
		o += snprintf(buf + o, len - (size_t)o, "; %u CPU%s with data but no record in it "
			      "(padding only, or a damaged page)", st->unreadable_cpus,
			      st->unreadable_cpus == 1 ? "" : "s");
	if (o >= 0 && (size_t)o < len && st->roles_guessed)
		o += snprintf(buf + o, len - (size_t)o, "; %llu role words read with kohler's bits "
			      "after access guessed", (unsigned long long)st->roles_guessed);
	if (o >= 0 && (size_t)o < len && st->lost_uncounted)
		o += snprintf(buf + o, len - (size_t)o, "; %llu drops of an unknown number of "
			      "events, counted as 1 each", (unsigned long long)st->lost_uncounted);
	if (o >= 0 && (size_t)o < len)
		snprintf(buf + o, len - (size_t)o, ")");
}
