// SPDX-License-Identifier: GPL-2.0
/*
 * trace.dat -> lines for the ftrace importer (see tracedat.h).
 *
 * libtracecmd opens the file (every version it knows, compressed or not)
 * and hands out one CPU's records at a time; libtraceevent knows each
 * event's fields from the format descriptions stored in the file.  The
 * fields we read are looked up once per event id, by name, and read with
 * the size and signedness the format gives them.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <event-parse.h>
#include <trace-cmd.h>

#include "live/btf_layout.h"
#include "trace/tracedat.h"

/*
 * Exported by libtracecmd (the "uname" option of the file: "Linux host
 * 6.1.0-18-amd64 x86_64") but missing from its public header.
 */
const char *tracecmd_get_uname(struct tracecmd_input *handle);
/* The same: the file's version (6, 7). */
unsigned long tracecmd_get_in_file_version(struct tracecmd_input *handle);

#define MAX_STREAMS	1024		/* (buffer, CPU) pairs */
#define MAX_FIELDS	8
#define MAX_EVENT_ID	65535		/* common_type is 16 bits */
#define NR_SKIP_NAMES	32
#define DROP_STEP	(256UL << 10)	/* read file data dropped from RSS in these steps */

enum kind {
	K_UNRESOLVED = 0,
	K_OTHER,			/* not an event the checker uses */
	K_WALK, K_ELEM, K_WERR, K_REQ, K_SET, K_PF, K_EXIT, K_GET_PAGE, K_TDP, K_FAST,
	K_INJECT,
};

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

struct evinfo {
	enum kind kind;
	struct tep_event *ev;
	bool swap;				/* the file's byte order is not ours */
	int w;					/* index in wanted[] */
	bool lacks;				/* a needed field is missing from the format */
	unsigned int need;			/* record bytes the fields need */
	struct tep_format_field *f[MAX_FIELDS];
	uint64_t skipped;			/* K_OTHER: records */
};

struct stream {
	struct tracecmd_input *h;
	struct tep_handle *tep;
	int cpu;
	struct tep_record *next;		/* NULL: this CPU is done */
	uintptr_t page;				/* read data below here was dropped */
	uintptr_t last;				/* page of the last record read */
};

struct tracedat {
	int fd;
	struct tracecmd_input *top;
	struct tracecmd_input *inst[64];
	unsigned int nr_inst;
	struct stream *st;
	unsigned int nr_st;
	struct evinfo *ev;			/* by event id */
	struct tep_record *pending;		/* read, its lost-events line sent first */
	struct stream *pending_st;
	enum mbec_layout layout;
	const struct role_layout *rl;
	bool gpte_is_8_bytes;			/* role bit 4 means 8-byte entries (< 5.16) */
	char release[ROLE_RELEASE_LEN];
	char layout_source[ROLE_SOURCE_LEN];
	struct tracedat_stats stats;
	dev_t dev;				/* the file, to know its mappings */
	ino_t ino;
	uintptr_t map_lo, map_hi;		/* a mapping of it seen in /proc/self/maps */
	char line[512];
	char prefix[80];			/* the start of the last line, */
	size_t prefix_len;			/* made for these: */
	int prefix_pid, prefix_cpu;
	uint64_t prefix_secs;
	char problem[320];
	bool damaged;
};

bool tracedat_is_tracedat(const void *p, size_t n)
{
	return n >= TRACEDAT_MAGIC_LEN && !memcmp(p, TRACEDAT_MAGIC, TRACEDAT_MAGIC_LEN);
}

enum mbec_layout tracedat_layout(const struct tracedat *td)
{
	return td->layout;
}

const char *tracedat_layout_source(const struct tracedat *td)
{
	return td->layout_source;
}

const char *tracedat_release(const struct tracedat *td)
{
	return td->release;
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

static int add_streams(struct tracedat *td, struct tracecmd_input *h)
{
	struct tep_handle *tep = tracecmd_get_tep(h);
	int cpu, cpus = tep ? tep_get_cpus(tep) : 0;

	for (cpu = 0; cpu < cpus && td->nr_st < MAX_STREAMS; cpu++) {
		struct stream *s = &td->st[td->nr_st];

		s->h = h;
		s->tep = tep;
		s->cpu = cpu;
		s->next = tracecmd_read_data(h, cpu);
		if (s->next)
			td->nr_st++;
	}
	if ((unsigned int)cpus > td->stats.cpus)
		td->stats.cpus = (unsigned int)cpus;
	td->stats.buffers++;
	return 0;
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
	const char *why;

	if (!req && !gp && !any) {
		td->layout = MBEC_LAYOUT_UNKNOWN;
		snprintf(td->layout_source, sizeof(td->layout_source),
			 "built-in classic (trace.dat has no kvmmmu events)");
		return;
	}
	if (req && tep_find_field(req, "access")) {
		td->layout = MBEC_LAYOUT_MBEC;
		why = "spte_requested has access";
	} else {
		td->layout = MBEC_LAYOUT_CLASSIC;
		why = "spte_requested has no access";
	}
	/* Before 5.16, role bit 4 was gpte_is_8_bytes (cr4_pae before 5.3): the opposite. */
	if (td->release[0] && sscanf(td->release, "%u.%u", &maj, &min) == 2)
		td->gpte_is_8_bytes = maj < 5 || (maj == 5 && min < 16);
	snprintf(td->layout_source, sizeof(td->layout_source), "trace.dat's formats (%s), %s", why,
		 !td->release[0] ? "release not recorded" : td->gpte_is_8_bytes ?
		 "role of a kernel < 5.16" : "role of 6.12");
}

/* See tracedat_open(): a handle that cannot be closed. */
static struct tracecmd_input *volatile abandoned;

/* tracecmd_open_head() takes a name: the open file's, through /proc. */
static const char *path_of_fd(int fd, char *buf, size_t len)
{
	snprintf(buf, len, "/proc/self/fd/%d", fd);
	return buf;
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

struct tracedat *tracedat_open(struct trace_in *in, char *err, size_t errlen)
{
	struct tracedat *td = calloc(1, sizeof(*td));
	char fdpath[40], said[160];
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
	td->top = tracecmd_open_head(path_of_fd(td->fd, fdpath, sizeof(fdpath)),
				     TRACECMD_FL_LOAD_NO_PLUGINS);
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
		abandoned = td->top;
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
	add_streams(td, td->top);
	n = tracecmd_buffer_instances(td->top);
	for (i = 0; i < n && td->nr_inst < sizeof(td->inst) / sizeof(td->inst[0]); i++) {
		struct tracecmd_input *h = tracecmd_buffer_instance_handle(td->top, i);

		if (!h)
			continue;
		td->inst[td->nr_inst++] = h;
		add_streams(td, h);
	}
	td->stats.file_version = (unsigned int)tracecmd_get_in_file_version(td->top);
	pick_layout(td, tracecmd_get_tep(td->top));
	td->rl = role_layout_builtin(td->layout == MBEC_LAYOUT_MBEC ? MBEC_LAYOUT_MBEC :
				     MBEC_LAYOUT_CLASSIC);
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

/*
 * Field i of the record (0 when the format has no such field).  A file of
 * the host's byte order is read in place; another goes through
 * libtraceevent, which swaps.
 */
static uint64_t fv(const struct evinfo *e, const struct tep_record *r, unsigned int i)
{
	const struct tep_format_field *f = e->f[i];
	const unsigned char *p;
	unsigned long long v;

	if (!f)
		return 0;
	if (e->swap) {
		if (tep_read_number_field((struct tep_format_field *)f, r->data, &v))
			return 0;
		return v;
	}
	p = (const unsigned char *)r->data + f->offset;
	switch (f->size) {
	case 1:
		return *p;
	case 2: {
		uint16_t x;

		memcpy(&x, p, 2);
		return x;
	}
	case 4: {
		uint32_t x;

		memcpy(&x, p, 4);
		return x;
	}
	case 8: {
		uint64_t x;

		memcpy(&x, p, 8);
		return x;
	}
	default:
		return 0;
	}
}

/* The same, sign-extended when the format says signed. */
static int64_t fs(const struct evinfo *e, const struct tep_record *r, unsigned int i)
{
	const struct tep_format_field *f = e->f[i];
	uint64_t v = fv(e, r, i);

	if (f && (f->flags & TEP_FIELD_IS_SIGNED) && f->size < 8 && (v >> (f->size * 8 - 1)) & 1)
		v |= ~0ULL << (f->size * 8);
	return (int64_t)v;
}

static const char *exit_name(uint64_t reason, bool has_isa, uint64_t isa)
{
	bool vmx = has_isa ? isa == 1 : (reason & 0xffff) < 0x100;

	if (vmx && (reason & 0xffff) == EXIT_REASON_EPT_VIOLATION)
		return "EPT_VIOLATION";
	if (vmx && (reason & 0xffff) == EXIT_REASON_EPT_MISCONFIG)
		return "EPT_MISCONFIG";
	if ((!has_isa || isa == 2) && reason == SVM_EXIT_NPF)
		return "npf";
	return "OTHER";
}

static uint32_t role_field(const struct role_layout *rl, uint32_t word, const char *name)
{
	const struct role_field *f = role_find(rl, name);

	return f ? role_field_value(f, word) : 0;
}

/* The access letters the importer reads: "wux" classic, "rwux" mbec. */
static void access_str(const struct tracedat *td, uint32_t acc, char *s)
{
	if (td->layout == MBEC_LAYOUT_MBEC) {
		s[0] = acc & MBEC_ACC_READ ? 'r' : '-';
		s[1] = acc & MBEC_ACC_WRITE ? 'w' : '-';
		s[2] = acc & MBEC_ACC_USER ? 'u' : '-';
		s[3] = acc & MBEC_ACC_EXEC ? 'x' : '-';
		s[4] = 0;
	} else {
		s[0] = acc & CLASSIC_ACC_WRITE ? 'w' : '-';
		s[1] = acc & CLASSIC_ACC_USER ? 'u' : '-';
		s[2] = acc & CLASSIC_ACC_EXEC ? 'x' : '-';
		s[3] = 0;
	}
}

static void pferr_flags(uint64_t ec, char *s, size_t len)
{
	static const struct {
		uint64_t bit;
		const char *name;
	} fl[] = {
		{ PFERR_PRESENT, "P" }, { PFERR_WRITE, "W" }, { PFERR_USER, "U" },
		{ MBEC_BIT(5), "PK" }, { MBEC_BIT(6), "SS" }, { MBEC_BIT(15), "SGX" },
		{ PFERR_RSVD, "RSVD" }, { PFERR_FETCH, "F" },
	};
	size_t i, o = 0;

	s[0] = 0;
	for (i = 0; i < sizeof(fl) / sizeof(fl[0]); i++)
		if ((ec & fl[i].bit) && o + 6 < len)
			o += (size_t)snprintf(s + o, len - o, "%s%s", o ? "|" : "", fl[i].name);
}

/*
 * The line is built by hand: snprintf() was a third of replay's time on a
 * trace.dat.  Every piece is bounded by the buffer's end.
 */
struct out {
	char *p, *end;
};

static void put_s(struct out *o, const char *str)
{
	while (*str && o->p < o->end)
		*o->p++ = *str++;
}

static void put_x(struct out *o, uint64_t v)
{
	char tmp[16];
	int n = 0;

	do {
		tmp[n++] = "0123456789abcdef"[v & 0xf];
		v >>= 4;
	} while (v);
	while (n && o->p < o->end)
		*o->p++ = tmp[--n];
}

static void put_u(struct out *o, uint64_t v, int width)
{
	static const char pairs[] =
		"00010203040506070809101112131415161718192021222324252627282930313233343536373839"
		"40414243444546474849505152535455565758596061626364656667686970717273747576777879"
		"8081828384858687888990919293949596979899";
	char tmp[20];
	int n = 20;

	while (v >= 100) {
		unsigned int d = (unsigned int)(v % 100);

		v /= 100;
		tmp[--n] = pairs[2 * d + 1];
		tmp[--n] = pairs[2 * d];
	}
	if (v >= 10) {
		tmp[--n] = pairs[2 * v + 1];
		tmp[--n] = pairs[2 * v];
	} else {
		tmp[--n] = (char)('0' + v);
	}
	while (20 - n < width)
		tmp[--n] = '0';
	if (o->end - o->p < 20 - n)
		return;
	memcpy(o->p, tmp + n, (size_t)(20 - n));
	o->p += 20 - n;
}

static void put_d(struct out *o, int64_t v)
{
	if (v < 0) {
		put_s(o, "-");
		put_u(o, (uint64_t)0 - (uint64_t)v, 0);
	} else {
		put_u(o, (uint64_t)v, 0);
	}
}

/* " key value" pieces */
static void kx(struct out *o, const char *key, uint64_t v)
{
	put_s(o, key);
	put_x(o, v);
}

static void ku(struct out *o, const char *key, uint64_t v)
{
	put_s(o, key);
	put_u(o, v, 0);
}

/* The fields part of the line, after "event: ". */
static void format_fields(struct tracedat *td, const struct evinfo *e, const struct tep_record *r,
			  struct out *o)
{
	uint32_t role;
	char acc[8], ec[48];
	int64_t u;

	switch (e->kind) {
	case K_WALK:
		kx(o, "addr ", fv(e, r, 0));
		kx(o, " pferr ", fv(e, r, 1));
		break;
	case K_ELEM:
		kx(o, "pte ", fv(e, r, 0));
		ku(o, " level ", fv(e, r, 1));
		break;
	case K_WERR:
		kx(o, "pferr ", fv(e, r, 0));
		break;
	case K_REQ:
		kx(o, "gfn ", fv(e, r, 0));
		kx(o, " pfn ", fv(e, r, 1));
		ku(o, " level ", fv(e, r, 2));
		if (e->f[3])
			kx(o, " access ", fv(e, r, 3));
		break;
	case K_SET:
		/* The letters as the kernel derives them: r, the SPTE's W bit, x, u (-1: none). */
		u = e->f[6] ? fs(e, r, 6) : -1;
		kx(o, "gfn ", fv(e, r, 0));
		kx(o, " spte ", fv(e, r, 1));
		put_s(o, " (");
		if (e->f[4])
			put_s(o, fv(e, r, 4) ? "r" : "-");
		if (e->f[4])
			put_s(o, fv(e, r, 1) & 2 ? "w" : "-");
		if (e->f[5])
			put_s(o, fv(e, r, 5) ? "x" : "-");
		put_s(o, u < 0 ? "" : u ? "u" : "-");
		ku(o, ") level ", fv(e, r, 3));
		kx(o, " at ", fv(e, r, 2));
		break;
	case K_PF:
		if (e->f[2])
			ku(o, "vcpu ", fv(e, r, 2));
		kx(o, e->f[2] ? " address " : "address ", fv(e, r, 0));
		kx(o, " error_code ", fv(e, r, 1));
		break;
	case K_EXIT:
		if (e->f[4])
			ku(o, "vcpu ", fv(e, r, 4));
		put_s(o, e->f[4] ? " reason " : "reason ");
		put_s(o, exit_name(fv(e, r, 0), e->f[1], fv(e, r, 1)));
		kx(o, " info1 ", fv(e, r, 2));
		kx(o, " info2 ", fv(e, r, 3));
		break;
	case K_GET_PAGE:
		role = (uint32_t)fv(e, r, 2);
		access_str(td, role_field(td->rl, role, "access"), acc);
		ku(o, "sp gen ", fv(e, r, 0));
		kx(o, " gfn ", fv(e, r, 1));
		ku(o, " l", role_field(td->rl, role, "level"));
		put_s(o, (role_field(td->rl, role, "has_4_byte_gpte") ^ td->gpte_is_8_bytes) ?
		      " 4-byte" : " 8-byte");
		ku(o, " q", role_field(td->rl, role, "quadrant"));
		put_s(o, role_field(td->rl, role, "direct") ? " direct " : " ");
		put_s(o, acc);
		put_s(o, role_field(td->rl, role, "invalid") ? " invalid " : " ");
		put_s(o, role_field(td->rl, role, "efer_nx") ? "nxe " : "!nxe ");
		put_s(o, role_field(td->rl, role, "ad_disabled") ? "!ad" : "ad");
		ku(o, " root ", fv(e, r, 3));
		put_s(o, fv(e, r, 4) ? " unsync " : " sync ");
		put_s(o, !e->f[5] || fv(e, r, 5) ? "new" : "existing");
		break;
	case K_TDP:
		ku(o, "as id ", fv(e, r, 0));
		kx(o, " gfn ", fv(e, r, 1));
		ku(o, " level ", fv(e, r, 2));
		kx(o, " old_spte ", fv(e, r, 3));
		kx(o, " new_spte ", fv(e, r, 4));
		break;
	case K_FAST:
		pferr_flags(fv(e, r, 2), ec, sizeof(ec));
		put_s(o, "vcpu ");
		put_d(o, fs(e, r, 0));
		kx(o, " gva ", fv(e, r, 1));
		put_s(o, " error_code ");
		put_s(o, ec);
		kx(o, " sptep ", fv(e, r, 3));
		kx(o, " old ", fv(e, r, 4));
		kx(o, " new ", fv(e, r, 5));
		put_s(o, e->f[6] && fs(e, r, 6) == 6 ? " spurious 1" : " spurious 0");
		put_s(o, e->f[6] && fs(e, r, 6) == 5 ? " fixed 1" : " fixed 0");
		break;
	case K_INJECT:
		put_s(o, "reason: ");
		put_s(o, exit_name(fv(e, r, 0), e->f[5], fv(e, r, 5)));
		kx(o, " ext_inf1: 0x", fv(e, r, 1));
		kx(o, " ext_inf2: 0x", fv(e, r, 2));
		kx(o, " ext_int: 0x", fv(e, r, 3));
		kx(o, " ext_int_err: 0x", fv(e, r, 4));
		break;
	default:
		break;
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
		struct out o;
		uint64_t secs;
		int type, n, pid;
		char what[160];

		if (td->damaged)
			return -1;
		if (!r) {
			s = oldest(td);
			if (!s)
				return -1;
			r = s->next;
			s->next = tracecmd_read_data(s->h, s->cpu);
			td->stats.records++;
			drop_read_page(td, s, r);
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
		/*
		 * "t-PID [CPU] SECS." changes seldom: kept aside (the importer
		 * writes into the line it is given) and copied.
		 */
		pid = tep_data_pid(s->tep, r);
		secs = r->ts / 1000000000ULL;
		if (!td->prefix_len || pid != td->prefix_pid || s->cpu != td->prefix_cpu ||
		    secs != td->prefix_secs) {
			o.p = td->prefix;
			o.end = td->prefix + sizeof(td->prefix) - 1;
			put_s(&o, "t-");
			put_d(&o, pid);
			put_s(&o, " [");
			put_u(&o, (uint64_t)s->cpu, 3);
			put_s(&o, "] ");
			put_u(&o, secs, 0);
			put_s(&o, ".");
			td->prefix_len = (size_t)(o.p - td->prefix);
			td->prefix_pid = pid;
			td->prefix_cpu = s->cpu;
			td->prefix_secs = secs;
		}
		memcpy(td->line, td->prefix, td->prefix_len);
		o.p = td->line + td->prefix_len;
		o.end = td->line + sizeof(td->line) - 1;
		put_u(&o, r->ts % 1000000000ULL, 9);
		put_s(&o, ": ");
		put_s(&o, ev->name);
		put_s(&o, ": ");
		format_fields(td, e, r, &o);
		*o.p = 0;
		tracecmd_free_record(r);
		td->stats.imported++;
		*line = td->line;
		return o.p - td->line;
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
	char names[200];
	int o;

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
	if (o >= 0 && (size_t)o < len && st->lost_uncounted)
		o += snprintf(buf + o, len - (size_t)o, "; %llu drops of an unknown number of "
			      "events, counted as 1 each", (unsigned long long)st->lost_uncounted);
	if (o >= 0 && (size_t)o < len)
		snprintf(buf + o, len - (size_t)o, ")");
}
