// SPDX-License-Identifier: GPL-2.0
/*
 * ftrace text -> event records (see ftrace.h for what is derived and why).
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
#include "trace/ftrace.h"

#define NR_THREADS	1024	/* direct-mapped by tid */
#define NR_BINDINGS	16384	/* SPTE page -> shadow page id, direct-mapped */
#define QUEUE_LEN	8
#define MAX_LEVEL	5

/* Shadow page ids live in a range no kernel address uses. */
#define SP_ID_BASE	0xfffe000000000000ULL
#define SP_ID_MASK	0x0000fffffffff000ULL

union any_record {
	struct mbec_event_hdr hdr;
	struct mbec_ev_walk walk;
	struct mbec_ev_paging_element elem;
	struct mbec_ev_walker_error werr;
	struct mbec_ev_spte_requested req;
	struct mbec_ev_set_spte spte;
	struct mbec_ev_page_fault pf;
	struct mbec_ev_exit exit;
	struct mbec_ev_get_page gp;
	struct mbec_ev_tdp_spte_changed tdp;
	struct mbec_ev_fast_page_fault fast;
	struct mbec_ev_nested_inject inj;
	struct mbec_ev_lost lost;
	uint64_t align[16];
};

_Static_assert(sizeof(union any_record) == 128, "records are at most 128 bytes");

struct thread {
	uint32_t tid;			/* 0: free slot */
	uint32_t vcpu_id;
	bool pf_valid, exit_valid, walk_valid, req_held;
	uint64_t pf_addr, pf_ec;
	uint32_t exit_reason, exit_isa;
	uint64_t exit_info1;
	uint64_t walk_addr;
	uint32_t walk_pferr;
	uint64_t pending_sp[MAX_LEVEL + 1];	/* get_page ids not yet tied to an SPTE page */
	struct mbec_ev_spte_requested req;	/* held until the thread's next line */
};

struct binding {
	uint64_t page;			/* sptep & ~0xfff; 0 free */
	uint64_t sp_id;
};

struct ftrace_import {
	enum mbec_layout layout;	/* for role words; UNKNOWN: per line */
	enum mbec_layout seen_layout;
	int seen_spte_ept;
	bool seen_tgid;
	uint64_t last_ts;
	struct thread threads[NR_THREADS];
	struct binding *bindings;
	union any_record queue[QUEUE_LEN];
	unsigned int qhead, qlen;
	union any_record popped;
	char err[200];
};

struct line {
	const char *comm;
	uint32_t tid, tgid, cpu;
	uint64_t ts_ns;
	char *event, *fields;
};

static int bad(struct ftrace_import *fi, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int bad(struct ftrace_import *fi, const char *fmt, ...)
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
	fi->bindings = calloc(NR_BINDINGS, sizeof(*fi->bindings));
	if (!fi->bindings) {
		free(fi);
		return NULL;
	}
	fi->layout = layout;
	fi->seen_layout = MBEC_LAYOUT_UNKNOWN;
	fi->seen_spte_ept = -1;
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

int ftrace_import_seen_spte_ept(const struct ftrace_import *fi)
{
	return fi->seen_spte_ept;
}

bool ftrace_import_seen_tgid(const struct ftrace_import *fi)
{
	return fi->seen_tgid;
}

/* ---- the queue ---------------------------------------------------------- */

static void *enqueue(struct ftrace_import *fi, const struct line *l, unsigned int type,
		     size_t size, const struct thread *t)
{
	union any_record *r;

	if (fi->qlen == QUEUE_LEN)	/* cannot happen: at most 3 per line */
		return NULL;
	r = &fi->queue[(fi->qhead + fi->qlen++) % QUEUE_LEN];
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

	if (fi->qlen == QUEUE_LEN)
		return;
	memcpy(&fi->queue[(fi->qhead + fi->qlen++) % QUEUE_LEN], rec, h->size);
}

const struct mbec_event_hdr *ftrace_import_pop(struct ftrace_import *fi)
{
	if (!fi->qlen)
		return NULL;
	fi->popped = fi->queue[fi->qhead];
	fi->qhead = (fi->qhead + 1) % QUEUE_LEN;
	fi->qlen--;
	return &fi->popped.hdr;
}

/* ---- threads ------------------------------------------------------------ */

static void release_req(struct ftrace_import *fi, struct thread *t)
{
	if (t->req_held) {
		enqueue_copy(fi, &t->req);
		t->req_held = false;
	}
}

static struct thread *thread_of(struct ftrace_import *fi, uint32_t tid)
{
	struct thread *t = &fi->threads[tid % NR_THREADS];

	if (t->tid != tid) {
		/* A colliding thread loses its state: release what it held. */
		release_req(fi, t);
		memset(t, 0, sizeof(*t));
		t->tid = tid;
		t->vcpu_id = MBEC_VCPU_UNKNOWN;
	}
	return t;
}

void ftrace_import_flush(struct ftrace_import *fi)
{
	unsigned int i;

	for (i = 0; i < NR_THREADS; i++)
		if (fi->threads[i].req_held && fi->qlen < QUEUE_LEN)
			release_req(fi, &fi->threads[i]);
}

/* A new fault starts on the thread: forget the previous one's context. */
static void new_fault(struct thread *t)
{
	t->walk_valid = false;
	memset(t->pending_sp, 0, sizeof(t->pending_sp));
}

/* ---- field parsing -------------------------------------------------------- */

static const char *skip_sp(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/* Hex with optional 0x, 1-16 digits. */
static bool parse_hex(const char *p, uint64_t *v, const char **end)
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

static bool parse_dec(const char *p, uint64_t *v, const char **end)
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
static const char *kv(const char *fields, const char *key)
{
	size_t n = strlen(key);
	const char *p = fields;

	while ((p = strstr(p, key))) {
		bool start = p == fields || p[-1] == ' ' || p[-1] == '\t';
		const char *q = p + n;

		if (start && (*q == ' ' || *q == ':')) {
			if (*q == ':')
				q++;
			return skip_sp(q);
		}
		p += n;
	}
	return NULL;
}

/* A value must be a whole token: "1x6027" is not the hex number 1. */
static bool token_end(const char *p)
{
	return !*p || *p == ' ' || *p == '\t';
}

static bool kv_hex(const char *fields, const char *key, uint64_t *v)
{
	const char *p = kv(fields, key);

	return p && parse_hex(p, v, &p) && token_end(p);
}

static bool kv_dec(const char *fields, const char *key, uint64_t *v)
{
	const char *p = kv(fields, key);

	return p && parse_dec(p, v, &p) && token_end(p);
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

/*
 * Split a trace line.  The anchor is the first "<ts>: <name>: " (or
 * "<ts>: <name>:" at the end); everything before it is read backwards.
 */
static bool split_line(char *s, struct line *l)
{
	char *p = s, *ts_start = NULL, *name, *q, *b;
	const char *ts_end = NULL;
	uint64_t v;

	memset(l, 0, sizeof(*l));
	for (; *p; p++) {
		if (!isdigit((unsigned char)*p) || (p > s && p[-1] != ' '))
			continue;
		if (!parse_ts(p, &l->ts_ns, &ts_end))
			continue;
		name = (char *)skip_sp(ts_end + 1);
		q = name;
		while (is_event_char(*q))
			q++;
		if (q == name || *q != ':')
			continue;
		ts_start = p;
		*q = 0;
		l->event = name;
		l->fields = (char *)skip_sp(q + 1);
		break;
	}
	if (!ts_start)
		return false;
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
		return false;
	q = b - 1;
	while (q > s && q[-1] != '[')
		q--;
	if (q <= s || !parse_dec(q, &v, (const char **)&p) || p != b - 1 || v > 65535)
		return false;
	l->cpu = (uint32_t)v;
	b = q - 1;
	while (b > s && b[-1] == ' ')
		b--;
	if (b > s && b[-1] == ')') {		/* record-tgid: "(  4128)" or "(-------)" */
		q = b - 1;
		while (q > s && q[-1] != '(')
			q--;
		if (q <= s)
			return false;
		if (parse_dec(skip_sp(q), &v, NULL) && v <= UINT32_MAX) {
			l->tgid = (uint32_t)v;
		}
		b = q - 1;
		while (b > s && b[-1] == ' ')
			b--;
	}
	/* comm-tid: the digits after the last '-' before b */
	q = b;
	while (q > s && isdigit((unsigned char)q[-1]))
		q--;
	if (q == b || q <= s || q[-1] != '-' || !parse_dec(q, &v, NULL) || v > UINT32_MAX)
		return false;
	l->tid = (uint32_t)v;
	q[-1] = 0;
	l->comm = skip_sp(s);
	return true;
}

bool ftrace_line_looks_like_trace(const char *line)
{
	char buf[512];
	struct line l;
	size_t n = strlen(line);

	if (n >= sizeof(buf))
		n = sizeof(buf) - 1;
	memcpy(buf, line, n);
	buf[n] = 0;
	return split_line(buf, &l);
}

/* ---- exit reasons (only those the checker uses are imported) ------------ */

static bool exit_reason(const char *p, uint32_t *reason, uint32_t *isa)
{
	static const struct {
		const char *name;
		uint32_t reason, isa;
	} names[] = {
		{ "EPT_VIOLATION", EXIT_REASON_EPT_VIOLATION, 1 },
		{ "EPT_MISCONFIG", EXIT_REASON_EPT_MISCONFIG, 1 },
		{ "npf", SVM_EXIT_NPF, 2 },
	};
	size_t i, n;

	for (i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		n = strlen(names[i].name);
		if (!strncmp(p, names[i].name, n) && (p[n] == ' ' || !p[n])) {
			*reason = names[i].reason;
			*isa = names[i].isa;
			return true;
		}
	}
	return false;
}

/* ---- events --------------------------------------------------------------- */

static uint64_t host_writable_bit(const struct ftrace_import *fi)
{
	if (fi->seen_spte_ept != 1)
		return SPTE_LEGACY_HOST_WRITABLE;
	return fi->layout == MBEC_LAYOUT_MBEC || fi->seen_layout == MBEC_LAYOUT_MBEC ?
	       MBEC_SPTE_EPT_HOST_WRITABLE : CLASSIC_SPTE_EPT_HOST_WRITABLE;
}

static enum mbec_layout eff_layout(const struct ftrace_import *fi)
{
	if (fi->layout != MBEC_LAYOUT_UNKNOWN)
		return fi->layout;
	return fi->seen_layout == MBEC_LAYOUT_MBEC ? MBEC_LAYOUT_MBEC : MBEC_LAYOUT_CLASSIC;
}

static uint32_t role_set(const struct role_layout *rl, uint32_t word, const char *name,
			 uint32_t v)
{
	const struct role_field *f = role_find(rl, name);
	uint32_t mask;

	if (!f)
		return word;
	mask = f->width >= 32 ? 0xffffffffU : ((1U << f->width) - 1);
	return (word & ~(mask << f->shift)) | ((v & mask) << f->shift);
}

/* "sp gen 0 gfn 100 l4 8-byte q0 [direct ]wux[ invalid] [!]nxe [!]ad root 0 sync new" */
static int ev_get_page(struct ftrace_import *fi, const struct line *l, struct thread *t)
{
	const struct role_layout *rl;
	struct mbec_ev_get_page *g;
	uint64_t gfn, level, bytes, quadrant, root = 0;
	const char *p, *tok, *f = l->fields;
	char acc[8];
	unsigned int access = 0, i, n;
	bool direct = false, invalid = false, nx, ad_off, mbec;

	if (!kv_hex(f, "gfn", &gfn) || !(p = kv(f, "gfn")))
		return bad(fi, "kvm_mmu_get_page without gfn");
	while (*p && *p != ' ')
		p++;
	p = skip_sp(p);
	if (*p != 'l' || !parse_dec(p + 1, &level, &p) || level < 1 || level > MAX_LEVEL)
		return bad(fi, "kvm_mmu_get_page: no level (l1-l5) after the gfn");
	p = skip_sp(p);
	if (!parse_dec(p, &bytes, &p) || strncmp(p, "-byte", 5) || (bytes != 4 && bytes != 8))
		return bad(fi, "kvm_mmu_get_page: no 4-byte/8-byte after the level");
	p = skip_sp(p + 5);
	if (*p != 'q' || !parse_dec(p + 1, &quadrant, &p) || quadrant > 3)
		return bad(fi, "kvm_mmu_get_page: no quadrant (q0-q3)");
	p = skip_sp(p);
	if (!strncmp(p, "direct ", 7)) {
		direct = true;
		p = skip_sp(p + 7);
	}
	tok = p;
	while (*p && *p != ' ')
		p++;
	n = (unsigned int)(p - tok);
	if (n != 3 && n != 4)
		return bad(fi, "kvm_mmu_get_page: access \"%.*s\" is neither 3 (classic) nor 4 (mbec) "
			   "characters", n > 8 ? 8 : (int)n, tok);
	memcpy(acc, tok, n);
	acc[n] = 0;
	mbec = n == 4;
	for (i = 0; i < n; i++) {
		static const char cl[] = "wux", mb[] = "rwux";
		static const unsigned int clv[] = { CLASSIC_ACC_WRITE, CLASSIC_ACC_USER,
						    CLASSIC_ACC_EXEC };
		static const unsigned int mbv[] = { MBEC_ACC_READ, MBEC_ACC_WRITE, MBEC_ACC_USER,
						    MBEC_ACC_EXEC };

		if (acc[i] == '-')
			continue;
		if (acc[i] != (mbec ? mb[i] : cl[i]))
			return bad(fi, "kvm_mmu_get_page: access \"%s\" is not in %s style", acc,
				   mbec ? "rwux" : "wux");
		access |= mbec ? mbv[i] : clv[i];
	}
	p = skip_sp(p);
	if (!strncmp(p, "invalid ", 8)) {
		invalid = true;
		p = skip_sp(p + 8);
	}
	nx = strncmp(p, "!nxe", 4) != 0;
	if (strncmp(p + !nx, "nxe", 3))
		return bad(fi, "kvm_mmu_get_page: no [!]nxe after the access");
	p = skip_sp(p + !nx + 3);
	ad_off = *p == '!';
	if (strncmp(p + ad_off, "ad", 2))
		return bad(fi, "kvm_mmu_get_page: no [!]ad after [!]nxe");
	kv_dec(f, "root", &root);

	if (fi->seen_layout == MBEC_LAYOUT_UNKNOWN)
		fi->seen_layout = mbec ? MBEC_LAYOUT_MBEC : MBEC_LAYOUT_CLASSIC;
	else if ((fi->seen_layout == MBEC_LAYOUT_MBEC) != mbec)
		return bad(fi, "kvm_mmu_get_page: access \"%s\" changes the layout (%s before)",
			   acc, mbec_layout_name(fi->seen_layout));

	g = enqueue(fi, l, MBEC_EV_GET_PAGE, sizeof(*g), t);
	if (!g)
		return bad(fi, "internal queue full");
	rl = role_layout_builtin(eff_layout(fi));
	g->gfn = gfn;
	g->level = (uint8_t)level;
	g->direct = direct;
	g->efer_nx = nx;
	g->cr0_wp = 1;		/* not printed: what every modern guest runs with */
	g->ad_disabled = ad_off;
	g->has_4_byte_gpte = bytes == 4;
	g->access = (uint8_t)access;
	if (strstr(f, " new") || !strncmp(f, "new", 3))
		g->flags |= MBEC_SP_CREATED;
	if (kv(f, "unsync"))
		g->flags |= MBEC_SP_UNSYNC;
	g->role = role_set(rl, 0, "level", (uint32_t)level);
	g->role = role_set(rl, g->role, "has_4_byte_gpte", bytes == 4);
	g->role = role_set(rl, g->role, "quadrant", (uint32_t)quadrant);
	g->role = role_set(rl, g->role, "direct", direct);
	g->role = role_set(rl, g->role, "access", access);
	g->role = role_set(rl, g->role, "invalid", invalid);
	g->role = role_set(rl, g->role, "efer_nx", nx);
	g->role = role_set(rl, g->role, "cr0_wp", 1);
	g->role = role_set(rl, g->role, "ad_disabled", ad_off);
	/* A stable id per (VM, gfn, role): an "existing" page gets the id it had. */
	g->sp = SP_ID_BASE | ((((uint64_t)l->tgid << 40) ^ (gfn * 0x9e3779b97f4a7c15ULL) ^
			       ((uint64_t)g->role * 0xc2b2ae3d27d4eb4fULL)) & SP_ID_MASK);
	if (g->sp == SP_ID_BASE)
		g->sp |= 0x1000;
	g->spt = g->sp;
	t->pending_sp[level] = g->sp;
	return FTRACE_EVENT;
}

/* "gfn 20 spte 240e2ea25 (r-xu) level 1 at 10ab3f100" */
static int ev_set_spte(struct ftrace_import *fi, const struct line *l, struct thread *t)
{
	struct mbec_ev_set_spte *s;
	uint64_t gfn, spte, level, at, page, id = 0;
	const char *p = strchr(l->fields, '('), *q;
	struct binding *b;

	if (!kv_hex(l->fields, "gfn", &gfn) || !kv_hex(l->fields, "spte", &spte) ||
	    !kv_dec(l->fields, "level", &level) || !kv_hex(l->fields, "at", &at) ||
	    level < 1 || level > MAX_LEVEL)
		return bad(fi, "kvm_mmu_set_spte: want gfn, spte, level (1-5) and at");
	/* Classic kernels print 3 permission letters for EPT SPTEs, 4 otherwise. */
	if (p && (q = strchr(p, ')')) && fi->seen_spte_ept < 0 &&
	    eff_layout(fi) == MBEC_LAYOUT_CLASSIC && fi->seen_layout == MBEC_LAYOUT_CLASSIC)
		fi->seen_spte_ept = q - p - 1 == 3;

	/* Tie the SPTE's page to the shadow page just created/found at its level. */
	page = at & ~0xfffULL;
	b = &fi->bindings[(page >> 12) * 0x9e3779b1U % NR_BINDINGS];
	if (t->pending_sp[level]) {
		b->page = page;
		b->sp_id = t->pending_sp[level];
		t->pending_sp[level] = 0;
	}
	if (b->page == page)
		id = b->sp_id;

	if (t->req_held) {
		if (t->req.gfn == gfn && (spte & host_writable_bit(fi)))
			t->req.flags |= MBEC_FAULT_MAP_WRITABLE;
		release_req(fi, t);
	}
	s = enqueue(fi, l, MBEC_EV_SET_SPTE, sizeof(*s), t);
	if (!s)
		return bad(fi, "internal queue full");
	s->gfn = gfn;
	s->spte = spte;
	s->sptep = id ? id | (at & 0xfff) : at;
	s->level = (int32_t)level;
	return FTRACE_EVENT;
}

static uint16_t fault_flags(uint64_t ec)
{
	uint16_t f = 0;

	if (ec & PFERR_PRESENT)
		f |= MBEC_FAULT_PRESENT;
	if (ec & PFERR_WRITE)
		f |= MBEC_FAULT_WRITE;
	if (ec & PFERR_USER)
		f |= MBEC_FAULT_USER;
	if (ec & PFERR_RSVD)
		f |= MBEC_FAULT_RSVD;
	if (ec & PFERR_FETCH)
		f |= MBEC_FAULT_EXEC;
	return f;
}

/* "gfn 20 pfn 240e2e level 1": the rest from the thread's fault so far. */
static int ev_spte_requested(struct ftrace_import *fi, const struct line *l, struct thread *t)
{
	struct mbec_ev_spte_requested *r = &t->req;
	uint64_t gfn, pfn, level, acc;

	if (!kv_hex(l->fields, "gfn", &gfn) || !kv_hex(l->fields, "pfn", &pfn) ||
	    !kv_dec(l->fields, "level", &level) || level > MAX_LEVEL)
		return bad(fi, "kvm_mmu_spte_requested: want gfn, pfn and level");
	memset(r, 0, sizeof(*r));
	r->hdr.type = MBEC_EV_SPTE_REQUESTED;
	r->hdr.size = sizeof(*r);
	r->hdr.cpu = l->cpu;
	r->hdr.ts_ns = l->ts_ns;
	r->hdr.pid = l->tgid;
	r->hdr.tid = l->tid;
	r->hdr.vcpu_id = t->vcpu_id;
	r->gfn = gfn;
	r->pfn = pfn;
	r->goal_level = (uint8_t)level;
	/* Kernels with this project's series also print the requested ACC. */
	if (kv_hex(l->fields, "access", &acc) && acc <= 0xff) {
		r->acc = (uint8_t)acc;
		r->flags |= MBEC_FAULT_HAS_ACC;
	}
	r->addr = t->pf_valid ? t->pf_addr : t->walk_valid ? t->walk_addr : gfn << 12;
	if (t->exit_valid && t->exit_isa == 1 && t->exit_reason == EXIT_REASON_EPT_VIOLATION)
		r->error_code = mbec_kvm_exit_qual_to_pfec(eff_layout(fi),
							   eff_layout(fi) == MBEC_LAYOUT_MBEC,
							   t->exit_info1);
	else if (t->pf_valid)
		r->error_code = t->pf_ec;
	else if (t->walk_valid)
		r->error_code = t->walk_pferr;
	r->flags |= fault_flags(r->error_code) | MBEC_FAULT_DERIVED;
	if (t->exit_valid && !t->walk_valid &&
	    (t->exit_reason == EXIT_REASON_EPT_VIOLATION || t->exit_reason == SVM_EXIT_NPF))
		r->flags |= MBEC_FAULT_IS_TDP;
	t->req_held = true;
	return FTRACE_EVENT;
}

static int ev_walk(struct ftrace_import *fi, const struct line *l, struct thread *t)
{
	struct mbec_ev_walk *w;
	uint64_t addr, pferr;

	if (!kv_hex(l->fields, "addr", &addr) || !kv_hex(l->fields, "pferr", &pferr) ||
	    pferr > UINT32_MAX)
		return bad(fi, "kvm_mmu_pagetable_walk: want addr and pferr");
	new_fault(t);
	t->walk_valid = true;
	t->walk_addr = addr;
	t->walk_pferr = (uint32_t)pferr;
	w = enqueue(fi, l, MBEC_EV_PAGETABLE_WALK, sizeof(*w), t);
	if (!w)
		return bad(fi, "internal queue full");
	w->addr = addr;
	w->pferr = (uint32_t)pferr;
	return FTRACE_EVENT;
}

static int ev_paging_element(struct ftrace_import *fi, const struct line *l, struct thread *t)
{
	struct mbec_ev_paging_element *e;
	uint64_t pte, level;

	if (!kv_hex(l->fields, "pte", &pte) || !kv_dec(l->fields, "level", &level) ||
	    level > 16)
		return bad(fi, "kvm_mmu_paging_element: want pte and level");
	e = enqueue(fi, l, MBEC_EV_PAGING_ELEMENT, sizeof(*e), t);
	if (!e)
		return bad(fi, "internal queue full");
	e->pte = pte;
	e->level = (int32_t)level;
	return FTRACE_EVENT;
}

static int ev_walker_error(struct ftrace_import *fi, const struct line *l, struct thread *t)
{
	struct mbec_ev_walker_error *e;
	uint64_t pferr;

	if (!kv_hex(l->fields, "pferr", &pferr) || pferr > UINT32_MAX)
		return bad(fi, "kvm_mmu_walker_error: want pferr");
	e = enqueue(fi, l, MBEC_EV_WALKER_ERROR, sizeof(*e), t);
	if (!e)
		return bad(fi, "internal queue full");
	e->pferr = (uint32_t)pferr;
	return FTRACE_EVENT;
}

/* "vcpu 0 rip 0x.. address 0x.. error_code 0x..", older: "address %lx error_code %x" */
static int ev_page_fault(struct ftrace_import *fi, const struct line *l, struct thread *t)
{
	struct mbec_ev_page_fault *pf;
	uint64_t addr, ec, vcpu;

	if (!kv_hex(l->fields, "address", &addr) || !kv_hex(l->fields, "error_code", &ec))
		return bad(fi, "kvm_page_fault: want address and error_code");
	if (kv_dec(l->fields, "vcpu", &vcpu) && vcpu < MBEC_VCPU_UNKNOWN)
		t->vcpu_id = (uint32_t)vcpu;
	/* A page fault that follows its EPT-violation/NPF exit belongs to it. */
	if (!t->exit_valid || t->pf_valid)
		t->exit_valid = false;
	new_fault(t);
	t->pf_valid = true;
	t->pf_addr = addr;
	t->pf_ec = ec;
	pf = enqueue(fi, l, MBEC_EV_PAGE_FAULT, sizeof(*pf), t);
	if (!pf)
		return bad(fi, "internal queue full");
	pf->address = addr;
	pf->error_code = ec;
	return FTRACE_EVENT;
}

/* "vcpu 0 reason EPT_VIOLATION rip 0x.. info1 0x.. info2 0x.. ..." */
static int ev_exit(struct ftrace_import *fi, const struct line *l, struct thread *t)
{
	struct mbec_ev_exit *x;
	uint64_t info1 = 0, info2 = 0, vcpu;
	uint32_t reason, isa;
	const char *p = kv(l->fields, "reason");

	if (!p)
		return bad(fi, "kvm_exit without a reason");
	if (kv_dec(l->fields, "vcpu", &vcpu) && vcpu < MBEC_VCPU_UNKNOWN)
		t->vcpu_id = (uint32_t)vcpu;
	t->exit_valid = false;
	t->pf_valid = false;
	new_fault(t);
	if (!exit_reason(p, &reason, &isa))
		return FTRACE_IGNORED;	/* the BPF side skips these too */
	if (!kv_hex(l->fields, "info1", &info1) || !kv_hex(l->fields, "info2", &info2)) {
		/* Older kernels: "info %llx %llx". */
		const char *q = kv(l->fields, "info");

		if (!q || !parse_hex(q, &info1, &q) || !parse_hex(skip_sp(q), &info2, NULL))
			return bad(fi, "kvm_exit: want info1 and info2");
	}
	t->exit_valid = true;
	t->exit_reason = reason;
	t->exit_isa = isa;
	t->exit_info1 = info1;
	x = enqueue(fi, l, MBEC_EV_EXIT, sizeof(*x), t);
	if (!x)
		return bad(fi, "internal queue full");
	x->info1 = info1;
	x->info2 = info2;
	x->reason = reason;
	x->isa = isa;
	/* The event's own TP_fast_assign read the VMCS: its qualification is this exit's. */
	x->flags = MBEC_EXIT_HAS_REASON | MBEC_EXIT_HAS_INFO |
		   (isa == 1 ? MBEC_EXIT_VMX | MBEC_EXIT_INFO1_FRESH : MBEC_EXIT_SVM);
	if (isa == 1 && fi->seen_spte_ept < 0)
		fi->seen_spte_ept = 1;
	else if (isa == 2 && fi->seen_spte_ept < 0)
		fi->seen_spte_ept = 0;
	return FTRACE_EVENT;
}

/* "reason: EPT_VIOLATION ext_inf1: 0x.. ext_inf2: 0x.. ext_int: 0x.. ext_int_err: 0x.." */
static int ev_nested_inject(struct ftrace_import *fi, const struct line *l, struct thread *t)
{
	struct mbec_ev_nested_inject *n;
	uint64_t i1, i2, ii = 0, ie = 0;
	uint32_t reason, isa;
	const char *p = kv(l->fields, "reason");

	if (!p)
		return bad(fi, "kvm_nested_vmexit_inject without a reason");
	if (!exit_reason(p, &reason, &isa))
		return FTRACE_IGNORED;
	if (!kv_hex(l->fields, "ext_inf1", &i1) || !kv_hex(l->fields, "ext_inf2", &i2))
		return bad(fi, "kvm_nested_vmexit_inject: want ext_inf1 and ext_inf2");
	kv_hex(l->fields, "ext_int", &ii);
	kv_hex(l->fields, "ext_int_err", &ie);
	n = enqueue(fi, l, MBEC_EV_NESTED_VMEXIT_INJECT, sizeof(*n), t);
	if (!n)
		return bad(fi, "internal queue full");
	n->exit_code = reason;
	n->exit_info1 = i1;
	n->exit_info2 = i2;
	n->exit_int_info = (uint32_t)ii;
	n->exit_int_info_err = (uint32_t)ie;
	n->isa = isa;
	return FTRACE_EVENT;
}

/* "as id 0 gfn 100 level 1 old_spte 0 new_spte 6000000a07" */
static int ev_tdp_changed(struct ftrace_import *fi, const struct line *l, struct thread *t)
{
	struct mbec_ev_tdp_spte_changed *c;
	uint64_t as = 0, gfn, level, o, n;
	const char *p = strstr(l->fields, "as id");

	if (p)
		parse_dec(skip_sp(p + 5), &as, NULL);
	if (!kv_hex(l->fields, "gfn", &gfn) || !kv_dec(l->fields, "level", &level) ||
	    !kv_hex(l->fields, "old_spte", &o) || !kv_hex(l->fields, "new_spte", &n) ||
	    level > MAX_LEVEL || as > 255)
		return bad(fi, "kvm_tdp_mmu_spte_changed: want gfn, level, old_spte and new_spte");
	c = enqueue(fi, l, MBEC_EV_TDP_SPTE_CHANGED, sizeof(*c), t);
	if (!c)
		return bad(fi, "internal queue full");
	c->gfn = gfn;
	c->old_spte = o;
	c->new_spte = n;
	c->as_id = (int32_t)as;
	c->level = (int32_t)level;
	return FTRACE_EVENT;
}

/* "vcpu 0 gva 1000 error_code P|W sptep 0000.. old 0x.. new 6000.. spurious 0 fixed 1" */
static int ev_fast_pf(struct ftrace_import *fi, const struct line *l, struct thread *t)
{
	static const struct {
		const char *name;
		uint64_t bit;
	} flags[] = {
		{ "P", PFERR_PRESENT }, { "W", PFERR_WRITE }, { "U", PFERR_USER },
		{ "RSVD", PFERR_RSVD }, { "F", PFERR_FETCH }, { "PK", MBEC_BIT(5) },
		{ "SS", MBEC_BIT(6) }, { "SGX", MBEC_BIT(15) },
	};
	struct mbec_ev_fast_page_fault *e;
	uint64_t gva, o, n, vcpu, sptep = 0, spurious = 0, fixed = 0, ec = 0;
	const char *p = kv(l->fields, "error_code");
	size_t i, k;

	if (!kv_hex(l->fields, "gva", &gva) || !kv_hex(l->fields, "old", &o) ||
	    !kv_hex(l->fields, "new", &n) || !p)
		return bad(fi, "fast_page_fault: want gva, error_code, old and new");
	/* error_code is printed as flags ("P|W|U"), possibly empty. */
	while (*p && *p != ' ') {
		for (i = 0; i < sizeof(flags) / sizeof(flags[0]); i++) {
			k = strlen(flags[i].name);
			if (!strncmp(p, flags[i].name, k) && (p[k] == '|' || p[k] == ' ' || !p[k]))
				break;
		}
		if (i == sizeof(flags) / sizeof(flags[0])) {
			if (!strncmp(p, "sptep", 5))
				break;		/* empty flags */
			return bad(fi, "fast_page_fault: unknown error_code flag in \"%.16s\"", p);
		}
		ec |= flags[i].bit;
		p += k;
		if (*p == '|')
			p++;
	}
	if (kv_dec(l->fields, "vcpu", &vcpu) && vcpu < MBEC_VCPU_UNKNOWN)
		t->vcpu_id = (uint32_t)vcpu;
	kv_hex(l->fields, "sptep", &sptep);
	kv_dec(l->fields, "spurious", &spurious);
	kv_dec(l->fields, "fixed", &fixed);
	e = enqueue(fi, l, MBEC_EV_FAST_PAGE_FAULT, sizeof(*e), t);
	if (!e)
		return bad(fi, "internal queue full");
	e->addr = gva;
	e->error_code = ec;
	e->old_spte = o;
	e->new_spte = n;
	e->sptep = sptep;
	e->ret = spurious ? 6 : fixed ? 5 : 0;	/* RET_PF_SPURIOUS, RET_PF_FIXED */
	return FTRACE_EVENT;
}

static const struct {
	const char *name;
	int (*fn)(struct ftrace_import *fi, const struct line *l, struct thread *t);
} events[] = {
	{ "kvm_mmu_pagetable_walk", ev_walk },
	{ "kvm_mmu_paging_element", ev_paging_element },
	{ "kvm_mmu_walker_error", ev_walker_error },
	{ "kvm_mmu_spte_requested", ev_spte_requested },
	{ "kvm_mmu_set_spte", ev_set_spte },
	{ "kvm_page_fault", ev_page_fault },
	{ "kvm_exit", ev_exit },
	{ "kvm_mmu_get_page", ev_get_page },
	{ "kvm_tdp_mmu_spte_changed", ev_tdp_changed },
	{ "fast_page_fault", ev_fast_pf },
	{ "kvm_nested_vmexit_inject", ev_nested_inject },
};

/* Lines that are not events but belong to the formats. */
static bool known_non_event(const char *s)
{
	uint64_t v;

	if (!strncmp(s, "cpus=", 5) || !strncmp(s, "version = ", 10) ||
	    (!strncmp(s, "CPU ", 4) && strstr(s, " is empty")) || !strncmp(s, "trace-cmd:", 10) ||
	    !strncmp(s, "Dump ", 5) || !strncmp(s, "##### CPU", 9))
		return true;
	/* trace-cmd report may print "  [LOST n EVENTS]" alone */
	return !strncmp(s, "[LOST ", 6) && parse_dec(s + 6, &v, NULL);
}

int ftrace_import_line(struct ftrace_import *fi, char *s)
{
	struct line l;
	struct thread *t;
	const char *p = skip_sp(s), *lost;
	uint64_t v;
	size_t i;

	fi->err[0] = 0;
	if (!*p || *p == '#' || known_non_event(p))
		return FTRACE_IGNORED;
	/* trace_pipe: "CPU:1 [LOST 123 EVENTS]" */
	if (!strncmp(p, "CPU:", 4) && (lost = strstr(p, "[LOST ")) &&
	    parse_dec(lost + 6, &v, NULL)) {
		struct line ll = { .ts_ns = fi->last_ts };
		struct mbec_ev_lost *r;
		uint64_t cpu = 0;

		parse_dec(p + 4, &cpu, NULL);
		ll.cpu = (uint32_t)(cpu <= 65535 ? cpu : 0);
		r = enqueue(fi, &ll, MBEC_EV_LOST, sizeof(*r), NULL);
		if (r)
			r->count = v;
		return FTRACE_EVENT;
	}
	if (!split_line(s, &l))
		return bad(fi, "not an ftrace line (want \"comm-tid [cpu] secs.usecs: event: "
			   "fields\")");
	if (l.tgid)
		fi->seen_tgid = true;
	for (i = 0; i < sizeof(events) / sizeof(events[0]); i++)
		if (!strcmp(l.event, events[i].name))
			break;
	if (i == sizeof(events) / sizeof(events[0]))
		return FTRACE_IGNORED;
	fi->last_ts = l.ts_ns;
	t = thread_of(fi, l.tid);
	/*
	 * A held spte_requested waits for its set_spte (shadow pages for a
	 * guest large page may be created in between) and goes out when the
	 * thread's next fault starts.
	 */
	if (t->req_held && events[i].fn != ev_set_spte && events[i].fn != ev_get_page &&
	    events[i].fn != ev_paging_element && events[i].fn != ev_tdp_changed)
		release_req(fi, t);
	return events[i].fn(fi, &l, t);
}
