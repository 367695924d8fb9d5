// SPDX-License-Identifier: GPL-2.0
/*
 * ftrace text -> event records: kvm_mmu_get_page, whose printed role took
 * the most forms (listed in ftrace_events.c), and what the lines say about
 * the KVM layout.  The role word is rebuilt from the fields printed; the
 * fields a form does not print are 0, and CR0.WP, which only trace-cmd's
 * plugin shows, is marked unknown in the record.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "live/btf_layout.h"
#include "trace/ftrace_internal.h"

/* Shadow page ids live in a range no kernel address uses. */
#define SP_ID_BASE	0xfffe000000000000ULL
#define SP_ID_MASK	0x0000fffffffff000ULL

/* ---- layouts ---------------------------------------------------------------- */

/* The layout the lines are read in: --layout, else what they showed, else classic. */
enum mbec_layout ft_eff_layout(const struct ftrace_import *fi)
{
	if (fi->layout != MBEC_LAYOUT_UNKNOWN)
		return fi->layout;
	return fi->seen_layout != MBEC_LAYOUT_UNKNOWN ? fi->seen_layout : MBEC_LAYOUT_CLASSIC;
}

/*
 * The layout records are built for: the checker reads Kohler's series as
 * classic (its ACC bits 0-2 are classic's; mbec_kvm.h), so roles and ACC
 * values are rebuilt in classic's encoding.
 */
enum mbec_layout ft_rec_layout(const struct ftrace_import *fi)
{
	enum mbec_layout l = ft_eff_layout(fi);

	return l == MBEC_LAYOUT_MBEC ? MBEC_LAYOUT_MBEC : MBEC_LAYOUT_CLASSIC;
}


/*
 * What a line's form says about the layout.  assumed: the form fits both
 * 4-bit layouts (a 4-letter access string with none of r, x, X): mbec is
 * assumed until a line tells.  0, or FTRACE_BAD when the lines disagree.
 */
int ft_see_layout(struct ftrace_import *fi, enum mbec_layout l, bool assumed,
		      const char *what)
{
	if (fi->seen_layout == MBEC_LAYOUT_UNKNOWN) {
		fi->seen_layout = l;
		fi->layout_assumed = assumed;
		return 0;
	}
	if (fi->seen_layout == l) {
		if (!assumed)
			fi->layout_assumed = false;
		return 0;
	}
	if (assumed && fi->seen_layout != MBEC_LAYOUT_CLASSIC)
		return 0;
	if (fi->layout_assumed && l != MBEC_LAYOUT_CLASSIC) {
		fi->seen_layout = l;
		fi->layout_assumed = false;
		return 0;
	}
	return ft_bad(fi, "%s changes the layout (%s before)", what,
		      mbec_layout_name(fi->seen_layout));
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

/* ---- kvm_mmu_get_page ------------------------------------------------------- */

/* A role as the text shows it. */
struct text_role {
	uint64_t gfn, level, quadrant, root;
	unsigned int access;		/* in the layout of ft_rec_layout() */
	bool bytes4, direct, invalid, nx, ad_off, wp, wp_known, created, unsync;
	bool plugin;
	uint32_t word;			/* plugin: the word rebuilt (bits 0-15 and smm) */
};

/* The next blank-separated token: its length, p moved past it. */
static size_t token(const char **p, const char **tok)
{
	const char *q = ft_skip_sp(*p);

	*tok = q;
	while (*q && *q != ' ' && *q != '\t')
		q++;
	*p = q;
	return (size_t)(q - *tok);
}

static bool tok_is(const char *tok, size_t n, const char *s)
{
	return n == strlen(s) && !strncmp(tok, s, n);
}

/*
 * The access strings are another layout's than the one records are built
 * in (--layout, or what the read-ahead settled on): reading on would check
 * them with the wrong bits.
 */
static int layout_conflict(struct ftrace_import *fi, const char *tok, size_t n,
			   enum mbec_layout l)
{
	return ft_bad(fi, "kvm_mmu_get_page: access \"%.*s\" is %s's, but the lines are read "
		      "as %s (--layout, or the lines before): replay with --layout %s",
		      (int)n, tok, mbec_layout_name(l), mbec_layout_name(fi->layout),
		      mbec_layout_name(l));
}

/*
 * An access string: "wux" (classic and the plugin), "rwux" (mbec), "xwuX"
 * (Kohler's).  Sets r->access in the records' layout; 0 or FTRACE_BAD.
 */
static int read_access(struct ftrace_import *fi, const char *tok, size_t n,
		       struct text_role *r)
{
	static const char cl[] = "wux", mb[] = "rwux", ko[] = "xwuX";
	static const unsigned int clv[] = { CLASSIC_ACC_WRITE, CLASSIC_ACC_USER, CLASSIC_ACC_EXEC };
	static const unsigned int mbv[] = { MBEC_ACC_READ, MBEC_ACC_WRITE, MBEC_ACC_USER,
					    MBEC_ACC_EXEC };
	static const unsigned int kov[] = { KOHLER_ACC_USER_EXEC, KOHLER_ACC_WRITE,
					    KOHLER_ACC_USER, KOHLER_ACC_EXEC };
	bool is_mb = n == 4, is_ko = n == 4;
	unsigned int i, mbacc = 0, koacc = 0, clacc = 0;
	enum mbec_layout l;

	if (n != 3 && n != 4)
		return ft_bad(fi, "kvm_mmu_get_page: access \"%.*s\" is neither 3 (wux) nor 4 "
			      "(rwux, xwuX) letters", n > 8 ? 8 : (int)n, tok);
	for (i = 0; i < n; i++) {
		if (tok[i] == '-')
			continue;
		if (n == 3) {
			if (tok[i] != cl[i])
				return ft_bad(fi, "kvm_mmu_get_page: access \"%.3s\" is not in wux "
					      "style", tok);
			clacc |= clv[i];
			continue;
		}
		if (tok[i] == mb[i]) {
			mbacc |= mbv[i];
		} else {
			is_mb = false;
		}
		if (tok[i] == ko[i]) {
			koacc |= kov[i];
		} else {
			is_ko = false;
		}
	}
	if (n == 3) {
		r->access = clacc;
		if (r->plugin)
			return 0;	/* the plugin prints 3 letters in every layout */
		if (fi->layout != MBEC_LAYOUT_UNKNOWN && fi->layout != MBEC_LAYOUT_CLASSIC)
			return layout_conflict(fi, tok, n, MBEC_LAYOUT_CLASSIC);
		return ft_see_layout(fi, MBEC_LAYOUT_CLASSIC, false, "kvm_mmu_get_page's access");
	}
	if (!is_mb && !is_ko)
		return ft_bad(fi, "kvm_mmu_get_page: access \"%.4s\" is neither rwux (mbec) nor "
			      "xwuX (Kohler's) style", tok);
	if (is_mb && is_ko)		/* "-wu-": no letter tells */
		l = fi->layout == MBEC_LAYOUT_KOHLER ||
		    (fi->layout == MBEC_LAYOUT_UNKNOWN && fi->seen_layout == MBEC_LAYOUT_KOHLER) ?
		    MBEC_LAYOUT_KOHLER : MBEC_LAYOUT_MBEC;
	else
		l = is_mb ? MBEC_LAYOUT_MBEC : MBEC_LAYOUT_KOHLER;
	if (fi->layout != MBEC_LAYOUT_UNKNOWN && fi->layout != l &&
	    !(is_mb && is_ko && fi->layout != MBEC_LAYOUT_CLASSIC))
		return layout_conflict(fi, tok, n, l);
	if (ft_see_layout(fi, l, is_mb && is_ko, "kvm_mmu_get_page's access") == FTRACE_BAD)
		return FTRACE_BAD;
	if (ft_rec_layout(fi) == MBEC_LAYOUT_MBEC) {
		r->access = is_mb ? mbacc : (koacc & KOHLER_ACC_WRITE) |
			    (koacc & KOHLER_ACC_USER ? MBEC_ACC_USER : 0);
	} else {
		/* Kohler's, read as classic: USER_EXEC is not checked (counted). */
		koacc = is_ko ? koacc : mbacc & (MBEC_ACC_WRITE | MBEC_ACC_USER);
		if (koacc & KOHLER_ACC_USER_EXEC)
			fi->st.uexec_unchecked++;
		r->access = koacc & CLASSIC_ACC_ALL;
	}
	return 0;
}

/*
 * "qN [direct] ACCESS [invalid]", where the kernel's and trace-cmd's kvm
 * plugin's forms of kvm_mmu_get_page agree.  The token (tok, n) holds the
 * quadrant on entry and the token after these on return; what names the
 * form in errors.
 */
static int read_quadrant_access(struct ftrace_import *fi, const char *what, const char **p,
				const char **tok, size_t *n, struct text_role *r)
{
	const char *q;

	if (**tok != 'q' || !ft_parse_dec(*tok + 1, &r->quadrant, &q) || q != *tok + *n ||
	    r->quadrant > 3)
		return ft_bad(fi, "%s: no quadrant (q0-q3)", what);
	*n = token(p, tok);
	if (tok_is(*tok, *n, "direct")) {
		r->direct = true;
		*n = token(p, tok);
	}
	if (read_access(fi, *tok, *n, r) == FTRACE_BAD)
		return FTRACE_BAD;
	*n = token(p, tok);
	if (tok_is(*tok, *n, "invalid")) {
		r->invalid = true;
		*n = token(p, tok);
	}
	return 0;
}

/*
 * The kernel's forms: "sp [gen N ]gfn G <level> [pae|N-byte ]qQ[ direct] ACC[ invalid]
 * [!]nxe[ [!]ad] root R sync|unsync new|existing", <level> "lL" or "L".
 */
static int read_kernel_role(struct ftrace_import *fi, const char *p, struct text_role *r)
{
	const char *tok, *q;
	uint64_t v;
	size_t n;
	bool lprefix;

	n = token(&p, &tok);
	if (tok_is(tok, n, "gen")) {
		token(&p, &tok);	/* the generation: not used */
		n = token(&p, &tok);
	}
	if (!tok_is(tok, n, "gfn"))
		return ft_bad(fi, "kvm_mmu_get_page: no gfn after \"sp\"");
	n = token(&p, &tok);
	if (!ft_parse_hex(tok, &r->gfn, &q) || q != tok + n)
		return ft_bad(fi, "kvm_mmu_get_page: the gfn is not a hex number");
	n = token(&p, &tok);
	lprefix = *tok == 'l';
	if (!ft_parse_dec(tok + lprefix, &r->level, &q) || q != tok + n || r->level < 1 ||
	    r->level > FT_MAX_LEVEL)
		return ft_bad(fi, "kvm_mmu_get_page: no level (1-5) after the gfn");
	n = token(&p, &tok);
	r->bytes4 = true;			/* before 4.20: no " pae" is 4-byte gptes */
	if (tok_is(tok, n, "pae")) {
		r->bytes4 = false;
		n = token(&p, &tok);
	} else if (ft_parse_dec(tok, &v, &q) && q + 5 == tok + n && !strncmp(q, "-byte", 5)) {
		if (v != 4 && v != 8)
			return ft_bad(fi, "kvm_mmu_get_page: gptes of %llu bytes",
				      (unsigned long long)v);
		r->bytes4 = v == 4;
		n = token(&p, &tok);
	} else if (lprefix && isdigit((unsigned char)*tok)) {
		return ft_bad(fi, "kvm_mmu_get_page: no 4-byte/8-byte after the level");
	}
	if (read_quadrant_access(fi, "kvm_mmu_get_page", &p, &tok, &n, r) == FTRACE_BAD)
		return FTRACE_BAD;
	r->nx = !(n && *tok == '!');
	if (!tok_is(tok + !r->nx, n - !r->nx, "nxe"))
		return ft_bad(fi, "kvm_mmu_get_page: no [!]nxe after the access");
	n = token(&p, &tok);
	if (n && (tok_is(tok, n, "ad") || tok_is(tok, n, "!ad"))) {
		r->ad_off = *tok == '!';
		n = token(&p, &tok);
	}
	if (!tok_is(tok, n, "root") || !ft_parse_dec(ft_skip_sp(p), &r->root, NULL))
		return ft_bad(fi, "kvm_mmu_get_page: no root count after [!]nxe [!]ad");
	token(&p, &tok);
	n = token(&p, &tok);
	r->unsync = tok_is(tok, n, "unsync");
	if (!r->unsync && !tok_is(tok, n, "sync"))
		return ft_bad(fi, "kvm_mmu_get_page: no sync/unsync after the root count");
	n = token(&p, &tok);
	r->created = tok_is(tok, n, "new");
	if (!r->created && !tok_is(tok, n, "existing"))
		return ft_bad(fi, "kvm_mmu_get_page: no new/existing at the end");
	return 0;
}

/*
 * trace-cmd's kvm plugin: "new|existing sp gfn G L qQ[ direct] wux[ invalid] [!]pae
 * [!]nxe [!]wp[ smep][ smap][ smm] root R sync|unsync", or "... WORD: %08x root ...".
 * It decodes the word with the 3.x field layout: rebuild bits 0-15 as it read them
 * and read them back with the running layout, so that nothing is claimed twice.
 */
static int read_plugin_role(struct ftrace_import *fi, const char *p, struct text_role *r)
{
	const struct role_layout *rl = role_layout_builtin(ft_rec_layout(fi));
	const char *tok, *q;
	uint64_t v;
	size_t n;
	bool pae;

	r->plugin = true;
	n = token(&p, &tok);
	r->created = tok_is(tok, n, "new");
	token(&p, &tok);				/* "sp" */
	token(&p, &tok);				/* "gfn" */
	n = token(&p, &tok);
	if (!ft_parse_hex(tok, &r->gfn, &q) || q != tok + n)
		return ft_bad(fi, "kvm_mmu_get_page (trace-cmd plugin): the gfn is not hex");
	n = token(&p, &tok);
	if (tok_is(tok, n, "WORD:")) {
		n = token(&p, &tok);
		if (!ft_parse_hex(tok, &v, &q) || q != tok + n || v > UINT32_MAX)
			return ft_bad(fi, "kvm_mmu_get_page (trace-cmd plugin): WORD is not a "
				      "32-bit hex number");
		r->word = (uint32_t)v;
		r->wp_known = true;
		n = token(&p, &tok);
	} else {
		if (!ft_parse_dec(tok, &r->level, &q) || q != tok + n || r->level > 15)
			return ft_bad(fi, "kvm_mmu_get_page (trace-cmd plugin): no level after the "
				      "gfn");
		n = token(&p, &tok);
		if (read_quadrant_access(fi, "kvm_mmu_get_page (trace-cmd plugin)", &p, &tok, &n,
					 r) == FTRACE_BAD)
			return FTRACE_BAD;
		pae = !(n && *tok == '!');
		if (!tok_is(tok + !pae, n - !pae, "pae"))
			return ft_bad(fi, "kvm_mmu_get_page (trace-cmd plugin): no [!]pae");
		n = token(&p, &tok);
		r->nx = !(n && *tok == '!');
		if (!tok_is(tok + !r->nx, n - !r->nx, "nxe"))
			return ft_bad(fi, "kvm_mmu_get_page (trace-cmd plugin): no [!]nxe");
		n = token(&p, &tok);
		r->wp = !(n && *tok == '!');
		if (!tok_is(tok + !r->wp, n - !r->wp, "wp"))
			return ft_bad(fi, "kvm_mmu_get_page (trace-cmd plugin): no [!]wp");
		/* The plugin's access letters are bits 8-10 of the word. */
		r->word = (uint32_t)(r->level | (uint64_t)pae << 4 | r->quadrant << 5 |
				     (uint64_t)r->direct << 7 | (uint64_t)r->access << 8 |
				     (uint64_t)r->invalid << 11 | (uint64_t)r->nx << 12 |
				     (uint64_t)r->wp << 13);
		n = token(&p, &tok);
		if (tok_is(tok, n, "smep")) {
			r->word |= 1U << 14;
			n = token(&p, &tok);
		}
		if (tok_is(tok, n, "smap")) {
			r->word |= 1U << 15;
			n = token(&p, &tok);
		}
		if (tok_is(tok, n, "smm")) {
			r->word |= 1U << 24;
			n = token(&p, &tok);
		}
	}
	if (!tok_is(tok, n, "root") || !ft_parse_dec(ft_skip_sp(p), &r->root, NULL))
		return ft_bad(fi, "kvm_mmu_get_page (trace-cmd plugin): no root count");
	token(&p, &tok);
	n = token(&p, &tok);
	r->unsync = tok_is(tok, n, "unsync");
	if (!r->unsync && !tok_is(tok, n, "sync"))
		return ft_bad(fi, "kvm_mmu_get_page (trace-cmd plugin): no sync/unsync");
	/* Read the word back with the running layout; bits 16-23 were not printed. */
	r->level = (uint64_t)role_get(rl, r->word, "level");
	r->bytes4 = role_get(rl, r->word, "has_4_byte_gpte") == 1;
	r->quadrant = (uint64_t)role_get(rl, r->word, "quadrant");
	r->direct = role_get(rl, r->word, "direct") == 1;
	r->access = (unsigned int)role_get(rl, r->word, "access");
	r->invalid = role_get(rl, r->word, "invalid") == 1;
	r->nx = role_get(rl, r->word, "efer_nx") == 1;
	r->wp = role_get(rl, r->word, "cr0_wp") == 1;
	r->wp_known = role_find(rl, "cr0_wp")->shift < 16 || r->wp_known;
	r->ad_off = role_get(rl, r->word, "ad_disabled") == 1;
	if (r->level < 1 || r->level > FT_MAX_LEVEL)
		return ft_bad(fi, "kvm_mmu_get_page (trace-cmd plugin): level %llu",
			      (unsigned long long)r->level);
	fi->st.plugin_lines++;
	return 0;
}

int ft_ev_get_page(struct ftrace_import *fi, const struct ft_line *l, struct ft_thread *t)
{
	const struct role_layout *rl;
	struct mbec_ev_get_page *g;
	struct text_role r = { 0 };
	const char *f = l->fields;
	int ret;

	if (!strncmp(f, "new sp gfn ", 11) || !strncmp(f, "existing sp gfn ", 16))
		ret = read_plugin_role(fi, f, &r);
	else if (!strncmp(f, "sp ", 3))
		ret = read_kernel_role(fi, f + 3, &r);
	else
		ret = ft_bad(fi, "kvm_mmu_get_page: want \"sp ...\" (the kernel) or \"new|existing "
			     "sp ...\" (trace-cmd's plugin)");
	if (ret == FTRACE_BAD)
		return ret;
	if (!r.wp_known)
		fi->st.roles_no_wp++;

	g = ft_enqueue(fi, l, MBEC_EV_GET_PAGE, sizeof(*g), t);
	if (!g)
		return ft_bad(fi, "internal queue full");
	rl = role_layout_builtin(ft_rec_layout(fi));
	g->gfn = r.gfn;
	g->level = (uint8_t)r.level;
	g->direct = r.direct;
	g->efer_nx = r.nx;
	/* Not printed by the kernel: 1 in the word, and the record says it is unknown. */
	g->cr0_wp = r.wp_known ? r.wp : 1;
	g->ad_disabled = r.ad_off;
	g->has_4_byte_gpte = r.bytes4;
	g->access = (uint8_t)r.access;
	if (r.created)
		g->flags |= MBEC_SP_CREATED;
	if (r.unsync)
		g->flags |= MBEC_SP_UNSYNC;
	if (!r.wp_known)
		g->flags |= MBEC_SP_CR0_WP_UNKNOWN;
	if (r.plugin) {
		const struct role_field *sa = role_find(rl, "smep_andnot_wp");
		const struct role_field *sc = role_find(rl, "cr4_smep");

		/* Only bits 0-15 (and smm) were printed: fields above are unknown, 0. */
		g->role = r.word;
		if (sa && sa->shift < 16) {
			g->smep = (uint8_t)role_get(rl, r.word, "smep_andnot_wp");
			g->flags |= MBEC_SP_HAS_SMEP_ANDNOT_WP;
		} else if (sc && sc->shift < 16) {
			g->smep = (uint8_t)role_get(rl, r.word, "cr4_smep");
			g->flags |= MBEC_SP_HAS_CR4_SMEP;
		}
		if (role_find(rl, "smap_andnot_wp")->shift < 16)
			g->smap_andnot_wp = (uint8_t)role_get(rl, r.word, "smap_andnot_wp");
	} else {
		g->role = role_set(rl, 0, "level", (uint32_t)r.level);
		g->role = role_set(rl, g->role, "has_4_byte_gpte", r.bytes4);
		g->role = role_set(rl, g->role, "quadrant", (uint32_t)r.quadrant);
		g->role = role_set(rl, g->role, "direct", r.direct);
		g->role = role_set(rl, g->role, "access", r.access);
		g->role = role_set(rl, g->role, "invalid", r.invalid);
		g->role = role_set(rl, g->role, "efer_nx", r.nx);
		g->role = role_set(rl, g->role, "cr0_wp", g->cr0_wp);
		g->role = role_set(rl, g->role, "ad_disabled", r.ad_off);
	}
	/* A stable id per (VM, gfn, role): an "existing" page gets the id it had. */
	g->sp = SP_ID_BASE | ((((uint64_t)l->tgid << 40) ^ (r.gfn * 0x9e3779b97f4a7c15ULL) ^
			       ((uint64_t)g->role * 0xc2b2ae3d27d4eb4fULL)) & SP_ID_MASK);
	if (g->sp == SP_ID_BASE)
		g->sp |= 0x1000;
	g->spt = g->sp;
	t->pending_sp[r.level] = g->sp;
	return FTRACE_EVENT;
}

/* "gfn 20 spte 240e2ea25 (r-xu) level 1 at 10ab3f100" */
