// SPDX-License-Identifier: GPL-2.0
/*
 * trace.dat -> lines for the ftrace importer (see tracedat.h): reading the
 * CPUs' records in time order, drops, damage, memory.  The file is opened
 * in tracedat_open.c, the lines are made in tracedat_form.c.
 *
 * libtracecmd opens the file (every version it knows, compressed or not)
 * and hands out one CPU's records at a time; libtraceevent knows each
 * event's fields from the format descriptions stored in the file.  The
 * fields we read are looked up once per event id, by name, and read with
 * the size and signedness the format gives them.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "live/btf_layout.h"
#include "trace/tracedat_int.h"

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

/*
 * The guard around libtracecmd's record reads (tracedat_int.h).  While a
 * trace.dat is open, SIGSEGV and SIGBUS come here first: in a guarded read
 * they end that read; anywhere else the previous action is put back and
 * the signal raised again under it (the default, or a sanitizer's report).
 */
static sigjmp_buf fault_jmp;
static volatile sig_atomic_t fault_armed, fault_sig;
static struct sigaction old_segv, old_bus;
static unsigned int guard_users;

static void on_fault(int sig)
{
	if (fault_armed) {
		fault_armed = 0;
		fault_sig = sig;
		siglongjmp(fault_jmp, 1);
	}
	sigaction(sig, sig == SIGSEGV ? &old_segv : &old_bus, NULL);
	raise(sig);
}

void tracedat_guard(bool on)
{
	struct sigaction sa;

	if (on && guard_users++ == 0) {
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_fault;
		sa.sa_flags = SA_NODEFER;	/* siglongjmp() leaves the mask as it is */
		sigemptyset(&sa.sa_mask);
		sigaction(SIGSEGV, &sa, &old_segv);
		sigaction(SIGBUS, &sa, &old_bus);
	} else if (!on && guard_users && --guard_users == 0) {
		sigaction(SIGSEGV, &old_segv, NULL);
		sigaction(SIGBUS, &old_bus, NULL);
	}
}

struct tep_record *tracedat_read(struct tracedat *td, struct tracecmd_input *h, int cpu,
				 enum tracedat_read how)
{
	struct tep_record *r;

	if (td->lib_fault)
		return NULL;
	if (sigsetjmp(fault_jmp, 0)) {
		td->lib_fault = fault_sig;
		return NULL;
	}
	fault_armed = 1;
	if (how == TD_READ_FIRST)
		r = tracecmd_read_cpu_first(h, cpu);
	else if (how == TD_READ_LAST)
		r = tracecmd_read_cpu_last(h, cpu);
	else
		r = tracecmd_read_data(h, cpu);
	fault_armed = 0;
	return r;
}

/* libtracecmd died reading s's pages: the file is damaged there, said so. */
void tracedat_lib_fault(struct tracedat *td, const struct stream *s)
{
	char where[64] = "before its first record";

	if (s->last_read)
		snprintf(where, sizeof(where), "after the record at file offset 0x%llx",
			 (unsigned long long)s->last_read);
	snprintf(td->problem, sizeof(td->problem), "trace.dat damaged: libtracecmd/libtraceevent "
		 "crashed (%s) reading %s%sCPU %d's ring-buffer pages, %s; the records before it "
		 "were read; take the capture again", strsignal(td->lib_fault),
		 s->buf[0] ? s->buf : "", s->buf[0] ? " " : "", s->cpu, where);
	td->damaged = true;
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
bool tracedat_check_end(struct tracedat *td, struct stream *s)
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
			s->last_read = r->offset;
			s->next = tracedat_read(td, s->h, s->cpu, TD_READ_NEXT);
			if (td->lib_fault) {
				/* r is the library's: kept (tracedat_close()), not freed by it */
				td->pending = r;
				tracedat_lib_fault(td, s);
				return -1;
			}
			if (!s->next && tracedat_check_end(td, s))
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
