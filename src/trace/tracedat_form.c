// SPDX-License-Identifier: GPL-2.0
/*
 * One line of the ftrace importer's text for each record of an event we
 * import (tracedat.h says why lines), and the get_page records amended
 * with what their line could not carry.  The values are read from the
 * binary record through its format's fields, found by name in
 * tracedat.c.
 */
#include <stdio.h>
#include <string.h>

#include "trace/tracedat_int.h"

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

/* The access letters the importer reads: "wux" classic, "rwux" mbec, "xwuX" kohler. */
static void access_str(const struct tracedat *td, uint32_t acc, char *s)
{
	if (td->layout == MBEC_LAYOUT_KOHLER) {
		s[0] = acc & KOHLER_ACC_USER_EXEC ? 'x' : '-';
		s[1] = acc & KOHLER_ACC_WRITE ? 'w' : '-';
		s[2] = acc & KOHLER_ACC_USER ? 'u' : '-';
		s[3] = acc & KOHLER_ACC_EXEC ? 'X' : '-';
		s[4] = 0;
	} else if (td->layout == MBEC_LAYOUT_MBEC) {
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

static void gp_push(struct tracedat *td, uint64_t gfn, uint32_t role)
{
	unsigned int i;

	if (td->gp_len == GP_QUEUE) {		/* never amended: forget the oldest */
		td->gp_head = (td->gp_head + 1) % GP_QUEUE;
		td->gp_len--;
	}
	i = (td->gp_head + td->gp_len++) % GP_QUEUE;
	td->gp[i].gfn = gfn;
	td->gp[i].role = role;
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
		if (e->f[5] && td->layout == MBEC_LAYOUT_KOHLER) {
			/*
			 * Kohler's "(rwXxu)": X supervisor, x user execute.  On
			 * legacy/NPT (u given) one NX bit says both; on EPT, x is
			 * the SPTE's XU bit (10).
			 */
			put_s(o, fv(e, r, 5) ? "X" : "-");
			put_s(o, (u < 0 ? (fv(e, r, 1) >> 10) & 1 : fv(e, r, 5)) ? "x" : "-");
		} else if (e->f[5]) {
			put_s(o, fv(e, r, 5) ? "x" : "-");
		}
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
		gp_push(td, fv(e, r, 1), role);
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

size_t tracedat_form_line(struct tracedat *td, const struct stream *s, const struct evinfo *e,
			  const struct tep_record *r)
{
	struct out o;
	uint64_t secs;
	int pid;

	/*
	 * "t-PID [CPU] SECS." changes seldom: kept aside (the importer
	 * writes into the line it is given) and copied.
	 */
	pid = tep_data_pid(s->tep, (struct tep_record *)r);
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
	put_s(&o, e->ev->name);
	put_s(&o, ": ");
	format_fields(td, e, r, &o);
	*o.p = 0;
	return (size_t)(o.p - td->line);
}

/* Set a role field of the built-in layout in a role word. */
static uint32_t role_put(const struct role_layout *rl, uint32_t word, const char *name, uint32_t v)
{
	const struct role_field *f = role_find(rl, name);
	uint32_t mask;

	if (!f)
		return word;
	mask = f->width >= 32 ? ~0U : (1U << f->width) - 1;
	return (word & ~(mask << f->shift)) | ((v & mask) << f->shift);
}

void tracedat_amend(struct tracedat *td, struct mbec_event_hdr *h)
{
	struct mbec_ev_get_page *g = (struct mbec_ev_get_page *)h;
	const struct role_layout *rl = td->rl;
	/* The record's word: kohler's roles are rebuilt in classic's (source.c). */
	const struct role_layout *out = role_layout_builtin(td->layout == MBEC_LAYOUT_MBEC ?
							    MBEC_LAYOUT_MBEC : MBEC_LAYOUT_CLASSIC);
	const char *smep = td->layout == MBEC_LAYOUT_MBEC ? "cr4_smep" : "smep_andnot_wp";
	unsigned int i, k;
	uint32_t word;

	if (h->type != MBEC_EV_GET_PAGE || h->size < sizeof(*g))
		return;
	/* Its line is the oldest queued one with its gfn. */
	for (k = 0; k < td->gp_len; k++)
		if (td->gp[(td->gp_head + k) % GP_QUEUE].gfn == g->gfn)
			break;
	if (k == td->gp_len)
		return;
	i = (td->gp_head + k) % GP_QUEUE;
	word = td->gp[i].role;
	td->gp_head = (i + 1) % GP_QUEUE;
	td->gp_len -= k + 1;

	/* Bits 13-17 (cr0_wp, smep, smap, ad_disabled, guest_mode) sit still since 4.x. */
	g->cr0_wp = (uint8_t)role_field(rl, word, "cr0_wp");
	g->smep = (uint8_t)role_field(rl, word, smep);
	g->smap_andnot_wp = (uint8_t)role_field(rl, word, "smap_andnot_wp");
	g->guest_mode = (uint8_t)role_field(rl, word, "guest_mode");
	g->flags |= td->layout == MBEC_LAYOUT_MBEC ? MBEC_SP_HAS_CR4_SMEP :
		    MBEC_SP_HAS_SMEP_ANDNOT_WP;
	if (td->role_guessed)
		td->stats.roles_guessed++;
	if (!td->gpte_is_8_bytes && rl == out) {
		g->role = word;		/* the kernel's own word, in the built-in layout */
		return;
	}
	g->role = role_put(out, g->role, "cr0_wp", g->cr0_wp);
	g->role = role_put(out, g->role, smep, g->smep);
	g->role = role_put(out, g->role, "smap_andnot_wp", g->smap_andnot_wp);
	g->role = role_put(out, g->role, "guest_mode", g->guest_mode);
}
