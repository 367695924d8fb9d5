// SPDX-License-Identifier: GPL-2.0
/*
 * ftrace text -> event records (see ftrace.h for what is derived and why):
 * the framing of lines.  This half tells event lines from the other lines
 * of the formats (headers, markers, stack traces, drop markers), keeps the
 * record queue and the per-thread state; ftrace_events.c reads each
 * event's fields.
 *
 * A line is "<comm>-<tid> [(<tgid>)] [<cpu>] [<flags>] <secs>.<frac>: <event>: <fields>"
 * in tracefs and trace-cmd alike; the comm may hold spaces and dashes
 * ("CPU 0/KVM"), so the line is anchored on the timestamp that precedes
 * the event name and read backwards from there.  Fields are found by
 * their keys rather than by position, which also accepts the shorter
 * formats of older kernels ("reason X rip 0x.. info a b").
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "live/btf_layout.h"
#include "mbec_model.h"
#include "trace/ftrace_internal.h"

static const char *const skip_names[FTRACE_SKIP_NR] = {
	[FTRACE_SKIP_BLANK] = "blank",
	[FTRACE_SKIP_COMMENT] = "comment",
	[FTRACE_SKIP_HEADER] = "header",
	[FTRACE_SKIP_MARKER] = "marker",
	[FTRACE_SKIP_STACK] = "stack trace",
	[FTRACE_SKIP_OTHER_EVENT] = "other event",
	[FTRACE_SKIP_OTHER_EXIT] = "other exit",
};

const char *ftrace_skip_name(enum ftrace_skip kind)
{
	return (unsigned int)kind < FTRACE_SKIP_NR ? skip_names[kind] : "?";
}

int ft_bad(struct ftrace_import *fi, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(fi->err, sizeof(fi->err), fmt, ap);
	va_end(ap);
	return FTRACE_BAD;
}

struct ftrace_import *ftrace_import_new(enum mbec_layout layout)
{
	struct ftrace_import *fi = calloc(1, sizeof(*fi));

	if (!fi)
		return NULL;
	fi->bindings = calloc(FT_NR_BINDINGS, sizeof(*fi->bindings));
	if (!fi->bindings) {
		free(fi);
		return NULL;
	}
	fi->layout = layout;
	fi->seen_layout = MBEC_LAYOUT_UNKNOWN;
	fi->seen_spte_ept = -1;
	fi->nr_buf = 1;			/* the top buffer, "" */
	fi->hint_buf = -1;
	fi->drop_buf = -1;
	return fi;
}

void ftrace_import_free(struct ftrace_import *fi)
{
	if (!fi)
		return;
	free(fi->bindings);
	free(fi);
}

void ftrace_import_set_layout(struct ftrace_import *fi, enum mbec_layout layout)
{
	fi->layout = layout;
}

const char *ftrace_import_error(const struct ftrace_import *fi)
{
	return fi->err;
}

enum mbec_layout ftrace_import_seen_layout(const struct ftrace_import *fi)
{
	return fi->seen_layout;
}

bool ftrace_import_layout_assumed(const struct ftrace_import *fi)
{
	return fi->layout_assumed;
}

int ftrace_import_seen_spte_ept(const struct ftrace_import *fi)
{
	return fi->seen_spte_ept;
}

bool ftrace_import_seen_tgid(const struct ftrace_import *fi)
{
	return fi->seen_tgid;
}

/* ---- the queue ---------------------------------------------------------- */

void *ft_enqueue(struct ftrace_import *fi, const struct ft_line *l, unsigned int type,
		     size_t size, const struct ft_thread *t)
{
	union ft_record *r;

	if (fi->qlen == FT_QUEUE_LEN)	/* cannot happen: at most 3 per line */
		return NULL;
	r = &fi->queue[(fi->qhead + fi->qlen++) % FT_QUEUE_LEN];
	memset(r, 0, sizeof(*r));
	r->hdr.type = (uint16_t)type;
	r->hdr.size = (uint16_t)size;
	r->hdr.cpu = l->cpu;
	r->hdr.ts_ns = l->ts_ns;
	r->hdr.pid = l->tgid;
	r->hdr.tid = l->tid;
	r->hdr.vcpu_id = t ? t->vcpu_id : MBEC_VCPU_UNKNOWN;
	return r;
}

static void enqueue_copy(struct ftrace_import *fi, const void *rec)
{
	const struct mbec_event_hdr *h = rec;

	if (fi->qlen == FT_QUEUE_LEN)
		return;
	memcpy(&fi->queue[(fi->qhead + fi->qlen++) % FT_QUEUE_LEN], rec, h->size);
}

const struct mbec_event_hdr *ftrace_import_pop(struct ftrace_import *fi)
{
	if (!fi->qlen)
		return NULL;
	fi->popped = fi->queue[fi->qhead];
	fi->qhead = (fi->qhead + 1) % FT_QUEUE_LEN;
	fi->qlen--;
	return &fi->popped.hdr;
}

/* ---- threads ------------------------------------------------------------ */

void ft_release_req(struct ftrace_import *fi, struct ft_thread *t)
{
	if (t->req_held) {
		enqueue_copy(fi, &t->req);
		t->req_held = false;
	}
}

static struct ft_thread *thread_of(struct ftrace_import *fi, uint32_t tid)
{
	struct ft_thread *t = &fi->threads[tid % FT_NR_THREADS];

	if (t->tid != tid) {
		/* A colliding thread loses its state: release what it held. */
		ft_release_req(fi, t);
		memset(t, 0, sizeof(*t));
		t->tid = tid;
		t->vcpu_id = MBEC_VCPU_UNKNOWN;
	}
	return t;
}

void ftrace_import_flush(struct ftrace_import *fi)
{
	unsigned int i;

	for (i = 0; i < FT_NR_THREADS; i++)
		if (fi->threads[i].req_held && fi->qlen < FT_QUEUE_LEN)
			ft_release_req(fi, &fi->threads[i]);
}

/* ---- field parsing -------------------------------------------------------- */

const char *ft_skip_sp(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/* Hex with optional 0x, 1-16 digits. */
bool ft_parse_hex(const char *p, uint64_t *v, const char **end)
{
	uint64_t x = 0;
	int n = 0;

	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X') && isxdigit((unsigned char)p[2]))
		p += 2;
	while (isxdigit((unsigned char)*p)) {
		if (++n > 16)
			return false;
		x = x << 4 | (uint64_t)(isdigit((unsigned char)*p) ? *p - '0' :
					 (tolower((unsigned char)*p) - 'a' + 10));
		p++;
	}
	if (!n)
		return false;
	*v = x;
	if (end)
		*end = p;
	return true;
}

bool ft_parse_dec(const char *p, uint64_t *v, const char **end)
{
	uint64_t x = 0;
	int n = 0;

	if (*p == '-')
		return false;
	while (isdigit((unsigned char)*p)) {
		if (++n > 19)
			return false;
		x = x * 10 + (uint64_t)(*p - '0');
		p++;
	}
	if (!n)
		return false;
	*v = x;
	if (end)
		*end = p;
	return true;
}

/* The value after a whole-word key ("key v" or "key: v"), or NULL. */
const char *ft_kv(const char *fields, const char *key)
{
	size_t n = strlen(key);
	const char *p = fields;

	while ((p = strstr(p, key))) {
		bool start = p == fields || p[-1] == ' ' || p[-1] == '\t';
		const char *q = p + n;

		if (start && (*q == ' ' || *q == ':')) {
			if (*q == ':')
				q++;
			return ft_skip_sp(q);
		}
		p += n;
	}
	return NULL;
}

/* A value must be a whole token: "1x6027" is not the hex number 1. */
bool ft_token_end(const char *p)
{
	return !*p || *p == ' ' || *p == '\t';
}

bool ft_kv_hex(const char *fields, const char *key, uint64_t *v)
{
	const char *p = ft_kv(fields, key);

	return p && ft_parse_hex(p, v, &p) && ft_token_end(p);
}

bool ft_kv_dec(const char *fields, const char *key, uint64_t *v)
{
	const char *p = ft_kv(fields, key);

	return p && ft_parse_dec(p, v, &p) && ft_token_end(p);
}

/* ---- the line prefix ------------------------------------------------------ */

/* Is p (at a digit) "<digits>.<digits>: "?  Sets ts and the end (at ':'). */
static bool parse_ts(const char *p, uint64_t *ts, const char **end)
{
	uint64_t sec = 0, frac = 0;
	int nd = 0, nf = 0;

	while (isdigit((unsigned char)*p)) {
		if (++nd > 12)
			return false;
		sec = sec * 10 + (uint64_t)(*p++ - '0');
	}
	if (!nd || *p != '.')
		return false;
	p++;
	while (isdigit((unsigned char)*p)) {
		if (nf < 9) {
			frac = frac * 10 + (uint64_t)(*p - '0');
			nf++;
		}
		p++;
	}
	if (!nf || p[0] != ':' || p[1] != ' ')
		return false;
	while (nf++ < 9)
		frac *= 10;
	*ts = sec * 1000000000ULL + frac;
	*end = p;
	return true;
}

static bool is_event_char(char c)
{
	return isalnum((unsigned char)c) || c == '_';
}

/* The decimal number at p, whole ("(4128)": digits then ')' or a space). */
static int column_dec(const char *p, const char *end, uint64_t *v)
{
	const char *q = p;

	while (q < end && isdigit((unsigned char)*q))
		q++;
	if (q == p)
		return 0;
	if (!ft_parse_dec(p, v, NULL))
		return -1;	/* more digits than any counter has */
	return 1;
}

/*
 * Split a trace line.  The anchor is the first "<ts>: <name>: " (or
 * "<ts>: <name>:" at the end); everything before it is read backwards.
 * 1: an event line; 0: not one; -1: an event line with a column out of
 * range (*why says which).
 */
static int split_line(char *s, struct ft_line *l, const char **why)
{
	char *p = s, *ts_start = NULL, *name, *q, *b;
	const char *ts_end = NULL;
	uint64_t v;
	int r;

	memset(l, 0, sizeof(*l));
	for (; *p; p++) {
		if (!isdigit((unsigned char)*p) || (p > s && p[-1] != ' '))
			continue;
		if (!parse_ts(p, &l->ts_ns, &ts_end))
			continue;
		name = (char *)ft_skip_sp(ts_end + 1);
		q = name;
		while (is_event_char(*q))
			q++;
		if (q == name || *q != ':')
			continue;
		ts_start = p;
		*q = 0;
		l->event = name;
		l->fields = (char *)ft_skip_sp(q + 1);
		break;
	}
	if (!ts_start)
		return 0;
	/* Backwards: [flags] [cpu] [(tgid)] comm-tid */
	b = ts_start;
	while (b > s && b[-1] == ' ')
		b--;
	if (b > s && b[-1] != ']') {		/* latency flags, e.g. "...1." or "d..2" */
		while (b > s && b[-1] != ' ')
			b--;
		while (b > s && b[-1] == ' ')
			b--;
	}
	if (b <= s || b[-1] != ']')
		return 0;
	q = b - 1;
	while (q > s && q[-1] != '[')
		q--;
	if (q <= s)
		return 0;
	r = column_dec(q, b - 1, &v);
	if (r <= 0 || !ft_parse_dec(q, &v, (const char **)&p) || p != b - 1 || v > 65535) {
		*why = "the CPU column is not a number from 0 to 65535";
		return r == 0 && !isdigit((unsigned char)*q) ? 0 : -1;
	}
	l->cpu = (uint32_t)v;
	b = q - 1;
	while (b > s && b[-1] == ' ')
		b--;
	if (b > s && b[-1] == ')') {		/* record-tgid: "(  4128)" or "(-------)" */
		q = b - 1;
		while (q > s && q[-1] != '(')
			q--;
		if (q <= s)
			return 0;
		r = column_dec(ft_skip_sp(q), b - 1, &v);
		if (r < 0 || (r > 0 && v > UINT32_MAX)) {
			*why = "the TGID column is out of range (at most 4294967295)";
			return -1;
		}
		if (r > 0)
			l->tgid = (uint32_t)v;
		b = q - 1;
		while (b > s && b[-1] == ' ')
			b--;
	}
	/* comm-tid: the digits after the last '-' before b */
	q = b;
	while (q > s && isdigit((unsigned char)q[-1]))
		q--;
	if (q == b || q <= s || q[-1] != '-')
		return 0;
	if (!ft_parse_dec(q, &v, NULL) || v > UINT32_MAX) {
		*why = "the thread id after the command name is out of range (at most 4294967295)";
		return -1;
	}
	l->tid = (uint32_t)v;
	q[-1] = 0;
	l->comm = ft_skip_sp(s);
	return 1;
}

/* ---- lines that are not events ------------------------------------------- */

int ft_skip(struct ftrace_import *fi, enum ftrace_skip kind)
{
	fi->last_skip = kind;
	fi->st.skipped[kind]++;
	return FTRACE_IGNORED;
}

enum ftrace_skip ftrace_import_last_skip(const struct ftrace_import *fi)
{
	return fi->last_skip;
}

const struct ftrace_import_stats *ftrace_import_stats(const struct ftrace_import *fi)
{
	return &fi->st;
}

/* ---- buffers ------------------------------------------------------------ */

/* The buffer named name[0..len) (leading blanks of the alignment left out). */
static int buffer_of(struct ftrace_import *fi, const char *name, size_t len)
{
	unsigned int b;

	while (len && *name == ' ') {
		name++;
		len--;
	}
	if (len >= FT_BUF_NAME)
		len = FT_BUF_NAME - 1;
	for (b = 0; b < fi->nr_buf; b++)
		if (strlen(fi->buf[b].name) == len && !memcmp(fi->buf[b].name, name, len))
			return (int)b;
	if (fi->nr_buf == FTRACE_MAX_BUFFERS) {
		/* More buffers than the table holds: the last slot takes them in. */
		b = FTRACE_MAX_BUFFERS - 1;
		snprintf(fi->buf[b].name, sizeof(fi->buf[b].name), "(others)");
		return (int)b;
	}
	b = fi->nr_buf++;
	memcpy(fi->buf[b].name, name, len);
	fi->buf[b].name[len] = 0;
	return (int)b;
}

void ftrace_import_buffer_hint(struct ftrace_import *fi, const char *name)
{
	fi->hint_buf = buffer_of(fi, name, strlen(name));
}

unsigned int ftrace_import_buffers(const struct ftrace_import *fi)
{
	return fi->nr_buf;
}

const char *ftrace_import_buffer_name(const struct ftrace_import *fi, unsigned int b)
{
	return b < fi->nr_buf ? fi->buf[b].name : "";
}

uint64_t ftrace_import_buffer_events(const struct ftrace_import *fi, unsigned int b)
{
	return b < fi->nr_buf ? fi->buf[b].events : 0;
}

uint64_t ftrace_import_lost_on(const struct ftrace_import *fi, unsigned int b, unsigned int cpu,
			       uint32_t *uncounted)
{
	if (b >= fi->nr_buf || cpu >= FT_NR_CPUS) {
		*uncounted = 0;
		return 0;
	}
	*uncounted = fi->buf[b].lost_unknown[cpu];
	return fi->buf[b].lost[cpu];
}

void ftrace_import_describe_losses(const struct ftrace_import *fi, char *out, size_t len)
{
	unsigned int b, cpu;
	size_t o = 0;
	int n;

	out[0] = 0;
	for (b = 0; b < fi->nr_buf; b++) {
		const struct ft_buffer *fb = &fi->buf[b];

		for (cpu = 0; cpu < FT_NR_CPUS && o < len; cpu++) {
			if (!fb->lost[cpu] && !fb->lost_unknown[cpu])
				continue;
			n = snprintf(out + o, len - o, "%s%s%sCPU %u: %llu%s", o ? ", " : "",
				     fb->name, fb->name[0] ? " " : "", cpu,
				     (unsigned long long)fb->lost[cpu],
				     fb->lost_unknown[cpu] ? " + unknown" : "");
			if (n < 0)
				return;
			o += (size_t)n;
		}
	}
	if (o >= len && len > 4)
		memcpy(out + len - 4, "...", 4);
}

/*
 * "NAME: " before a drop marker or a header line ("kvm: CPU:0 [EVENTS
 * DROPPED]", "trace.dat: cpus=2"): the buffer, and *rest after it; -1
 * when the line has none.
 */
static int marker_prefix(struct ftrace_import *fi, const char *s, const char **rest)
{
	const char *q = strstr(s, ": ");

	if (!q || q == s)
		return -1;
	if (strncmp(q + 2, "CPU:", 4) && strncmp(q + 2, "cpus=", 5))
		return -1;
	*rest = q + 2;
	fi->st.buffer_prefixed++;
	return buffer_of(fi, s, (size_t)(q - s));
}

/*
 * The "NAME: " before an event line's command name.  trace-cmd prints the
 * command right-aligned in 16 columns ("%16s-%-5d", 8 with -l): a ": "
 * that ends exactly that far before the "-TID" is the prefix's, not part
 * of a command.  The command is moved past it.  -1: none.
 */
static int event_prefix(struct ftrace_import *fi, struct ft_line *l)
{
	const char *start = l->comm, *dash = start + strlen(start), *q = strstr(start, ": ");
	long w;

	if (!q || q == start)
		return -1;
	w = dash - (q + 2);
	if (w != 16 && w != 8)
		return -1;
	fi->st.buffer_prefixed++;
	l->comm = ft_skip_sp(q + 2);
	return buffer_of(fi, start, (size_t)(q - start));
}

static bool starts(const char *s, const char *prefix)
{
	return !strncmp(s, prefix, strlen(prefix));
}

/* "CPU N is empty", "CPU N buffer started" (with or without tracefs's hashes). */
static bool cpu_marker(const char *s)
{
	uint64_t v;
	const char *p;

	if (starts(s, "#####"))
		s = ft_skip_sp(s + 5);
	if (!starts(s, "CPU ") || !ft_parse_dec(s + 4, &v, &p))
		return false;
	return starts(p, " is empty") || starts(p, " buffer started");
}

/*
 * The kind of a line that is part of the formats but no event line, or
 * FTRACE_SKIP_NR.  trace-cmd report opens with "cpus=N" (and, from some
 * versions, "version = N"); "Dump ..." and "trace-cmd: ..." are its notes.
 */
static enum ftrace_skip non_event_kind(const char *s)
{
	if (!*s)
		return FTRACE_SKIP_BLANK;
	if (cpu_marker(s))
		return FTRACE_SKIP_MARKER;
	if (*s == '#')
		return FTRACE_SKIP_COMMENT;
	if (starts(s, "cpus=") || starts(s, "version = ") || starts(s, "trace-cmd:") ||
	    starts(s, "Dump "))
		return FTRACE_SKIP_HEADER;
	/* trace-cmd report --debug: "CPU:N [SUBBUFFER START]" (and " [ts:0xoffset]") */
	if (starts(s, "CPU:") && strstr(s, " [SUBBUFFER START]"))
		return FTRACE_SKIP_MARKER;
	/* the stacktrace option: " => func+0x12/0x40", trace-cmd: "=> func (ffffffff81234567)" */
	if (starts(s, "=>"))
		return FTRACE_SKIP_STACK;
	return FTRACE_SKIP_NR;
}

/*
 * Drop markers: tracefs's "CPU:N [LOST M EVENTS]", trace-cmd report's
 * "CPU:N [M EVENTS DROPPED]" and "CPU:N [EVENTS DROPPED]" (the count
 * unknown), and trace-cmd's "[LOST M EVENTS]" alone (no CPU).  Each
 * becomes a lost record: the transactions open around it are incomplete.
 * 1: a marker (queued); 0: not one.
 */
static int drop_marker(struct ftrace_import *fi, const char *s, int b)
{
	struct ft_line ll = { .ts_ns = fi->last_ts };
	struct mbec_ev_lost *r;
	uint64_t cpu = UINT64_MAX, n = 0;
	bool counted = true;
	const char *p = s;

	if (starts(p, "CPU:")) {
		if (!ft_parse_dec(p + 4, &cpu, &p))
			return 0;
		p = ft_skip_sp(p);
	}
	if (starts(p, "[LOST ")) {
		if (!ft_parse_dec(p + 6, &n, &p) || !starts(p, " EVENTS]"))
			return 0;
	} else if (cpu != UINT64_MAX && starts(p, "[EVENTS DROPPED]")) {
		counted = false;
	} else if (cpu != UINT64_MAX && *p == '[') {
		if (!ft_parse_dec(p + 1, &n, &p) || !starts(p, " EVENTS DROPPED]"))
			return 0;
	} else {
		return 0;
	}
	fi->st.drop_markers++;
	fi->st.lost_events += n;
	if (!counted)
		fi->st.drops_uncounted++;
	if (cpu < FT_NR_CPUS) {
		fi->buf[b].lost[cpu] += n;
		if (!counted)
			fi->buf[b].lost_unknown[cpu]++;
	}
	fi->drop_buf = b;	/* the event line after it is that buffer's */
	ll.cpu = (uint32_t)(cpu <= 65535 ? cpu : 0);
	r = ft_enqueue(fi, &ll, MBEC_EV_LOST, sizeof(*r), NULL);
	if (r)
		r->count = n;	/* 0 when the marker gives no count */
	return 1;
}

bool ftrace_line_looks_like_trace(const char *line)
{
	char buf[512];
	struct ft_line l;
	const char *why, *p = ft_skip_sp(line);
	size_t n = strlen(line);
	enum ftrace_skip k;
	const char *q = strstr(p, ": ");

	/* "NAME: " before a drop marker or a header (see marker_prefix()) */
	if (q && q != p && (starts(q + 2, "CPU:") || starts(q + 2, "cpus=")))
		p = q + 2;
	k = non_event_kind(p);
	if (k == FTRACE_SKIP_HEADER || k == FTRACE_SKIP_MARKER)
		return true;
	if (k != FTRACE_SKIP_NR)
		return false;
	if (starts(p, "CPU:") || starts(p, "[LOST "))
		return true;
	if (n >= sizeof(buf))
		n = sizeof(buf) - 1;
	memcpy(buf, line, n);
	buf[n] = 0;
	return split_line(buf, &l, &why) != 0;
}

/* An event line whose "event" is the stacktrace option's "<stack trace>". */
static bool stack_line(const char *s)
{
	const char *p = strstr(s, ": <stack trace>");

	if (!p)
		p = strstr(s, ": <user stack trace>");
	return p != NULL;
}

int ftrace_import_line(struct ftrace_import *fi, char *s)
{
	struct ft_line l;
	struct ft_thread *t;
	const char *p = ft_skip_sp(s), *why = "";
	int hint = fi->hint_buf, after_drop = fi->drop_buf, b;
	enum ftrace_skip k;
	ft_event_fn fn;
	bool keeps_req;
	int r;

	fi->err[0] = 0;
	fi->drop_buf = -1;
	/* The caller's lines (trace.dat) have no prefix: their buffer is said. */
	b = hint >= 0 ? hint : marker_prefix(fi, p, &p);
	if (b < 0)
		b = 0;
	k = non_event_kind(p);
	if (k != FTRACE_SKIP_NR) {
		if (k == FTRACE_SKIP_HEADER || k == FTRACE_SKIP_MARKER)
			fi->st.format_lines++;
		return ft_skip(fi, k);
	}
	if (drop_marker(fi, p, b)) {
		fi->st.format_lines++;
		return FTRACE_EVENT;
	}
	r = split_line(s, &l, &why);
	if (r < 0)
		return ft_bad(fi, "%s", why);
	if (!r) {
		if (stack_line(p)) {
			fi->st.format_lines++;
			return ft_skip(fi, FTRACE_SKIP_STACK);
		}
		return ft_bad(fi, "not an ftrace line (want \"comm-tid [cpu] secs.usecs: event: "
			      "fields\")");
	}
	fi->st.format_lines++;
	/*
	 * The line's buffer: its prefix; without one, the caller's word, or
	 * the drop marker's just before it (trace-cmd prints the marker and
	 * its event after one prefix), or the top buffer.
	 */
	b = hint >= 0 ? hint : event_prefix(fi, &l);
	if (b < 0)
		b = after_drop >= 0 ? after_drop : 0;
	if (l.tgid)
		fi->seen_tgid = true;
	/* trace-cmd's stack events, printed as events */
	if (!strcmp(l.event, "kernel_stack") || !strcmp(l.event, "user_stack"))
		return ft_skip(fi, FTRACE_SKIP_STACK);
	fn = ft_event_parser(l.event, &keeps_req);
	if (!fn)
		return ft_skip(fi, FTRACE_SKIP_OTHER_EVENT);
	fi->buf[b].events++;
	fi->last_ts = l.ts_ns;
	t = thread_of(fi, l.tid);
	/*
	 * A held spte_requested waits for its set_spte (shadow pages for a
	 * guest large page may be created in between) and goes out when the
	 * thread's next fault starts.
	 */
	if (t->req_held && !keeps_req)
		ft_release_req(fi, t);
	return fn(fi, &l, t);
}
