// SPDX-License-Identifier: GPL-2.0
/*
 * ftrace text -> event records: the fields of each event we read, in
 * every form found in the kernel's history and in trace-cmd's kvm plugin
 * (the framing of lines is in ftrace.c).  The forms, and where they come
 * from (arch/x86/kvm/mmutrace.h, later arch/x86/kvm/mmu/mmutrace.h;
 * arch/x86/kvm/trace.h; libtraceevent's plugins/plugin_kvm.c):
 *
 * kvm_mmu_get_page (and its role in the plugin's sync/unsync/zap forms)
 *   3.x to 3.10  "sp gfn G L[ pae] qQ[ direct] wux[ invalid] [!]nxe root R sync new"
 *   3.11 to 4.x  "sp gen N gfn G L[ pae] qQ ... [!]nxe root R sync new"
 *   4.x to 4.19  the same with "lL" and "[!]ad" after "[!]nxe"
 *   4.20 to 5.2  "sp gfn G lL 8-byte qQ[ direct] wux[ invalid] [!]nxe [!]ad root R sync new"
 *   5.3 on       "sp gen N gfn G lL 8-byte qQ ..." (mmu_valid_gen back)
 *   mbec series  the same with four access letters "rwux"
 *   Kohler's     the same with four access letters "xwuX" (x: USER_EXEC, X: EXEC)
 *   plugin       "new sp gfn G L qQ[ direct] wux[ invalid] [!]pae [!]nxe [!]wp[ smep][ smap]
 *                [ smm] root R sync": the role word read with the 3.x field layout, so
 *                "pae" is bit 4 (has_4_byte_gpte today: 64-bit guests show "!pae") and
 *                the flags after the access are whatever the running layout keeps at
 *                bits 11-15; or "new sp gfn G WORD: %08x root R sync" (other endianness).
 * kvm_exit       "reason X rip 0x.. info A B" (3.x to 5.6, and the plugin, which names
 *                SVM reasons EXIT_NPF), "vcpu V reason X rip 0x.. info1 0x.. info2 0x.. ..."
 * kvm_nested_vmexit_inject
 *                "reason: X ext_inf1: 0x.. ext_inf2: 0x.. ext_int: 0x.. ext_int_err: 0x..",
 *                plugin: "reason X info1 A info2 B int_info C int_info_err D"
 * kvm_page_fault "address A error_code E" (3.x to 6.x), "vcpu V rip 0x.. address 0x.. error_code 0x.."
 * kvm_mmu_set_spte "gfn G spte S (rwx[u]) level L at P" (4.x on); Kohler's "(rwXx[u])"
 * the others (pagetable_walk, paging_element, walker_error, spte_requested,
 *   tdp_mmu_spte_changed, fast_page_fault) kept their fields' keys since they appeared.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "live/btf_layout.h"
#include "mbec_model.h"
#include "trace/ftrace_internal.h"

/* Shadow page ids live in a range no kernel address uses. */
#define SP_ID_BASE	0xfffe000000000000ULL
#define SP_ID_MASK	0x0000fffffffff000ULL

/* A new fault starts on the thread: forget the previous one's context. */
static void new_fault(struct ft_thread *t)
{
	t->walk_valid = false;
	memset(t->pending_sp, 0, sizeof(t->pending_sp));
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
		{ "EXIT_NPF", SVM_EXIT_NPF, 2 },	/* trace-cmd's kvm plugin */
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

/* ---- layouts ---------------------------------------------------------------- */

/* The layout the lines are read in: --layout, else what they showed, else classic. */
static enum mbec_layout eff_layout(const struct ftrace_import *fi)
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
static enum mbec_layout rec_layout(const struct ftrace_import *fi)
{
	enum mbec_layout l = eff_layout(fi);

	return l == MBEC_LAYOUT_MBEC ? MBEC_LAYOUT_MBEC : MBEC_LAYOUT_CLASSIC;
}

static uint64_t host_writable_bit(const struct ftrace_import *fi)
{
	if (fi->seen_spte_ept != 1)
		return SPTE_LEGACY_HOST_WRITABLE;
	return rec_layout(fi) == MBEC_LAYOUT_MBEC ? MBEC_SPTE_EPT_HOST_WRITABLE :
						   CLASSIC_SPTE_EPT_HOST_WRITABLE;
}

/*
 * What a line's form says about the layout.  assumed: the form fits both
 * 4-bit layouts (a 4-letter access string with none of r, x, X): mbec is
 * assumed until a line tells.  0, or FTRACE_BAD when the lines disagree.
 */
static int see_layout(struct ftrace_import *fi, enum mbec_layout l, bool assumed,
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
	unsigned int access;		/* in the layout of rec_layout() */
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
	bool is_mb = n == 4, is_ko = n == 4, mb_only = false, ko_only = false;
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
			mb_only |= tok[i] != ko[i];
		} else {
			is_mb = false;
		}
		if (tok[i] == ko[i]) {
			koacc |= kov[i];
			ko_only |= tok[i] != mb[i];
		} else {
			is_ko = false;
		}
	}
	if (n == 3) {
		r->access = clacc;
		if (r->plugin)
			return 0;	/* the plugin prints 3 letters in every layout */
		return see_layout(fi, MBEC_LAYOUT_CLASSIC, false, "kvm_mmu_get_page's access");
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
	(void)mb_only;
	(void)ko_only;
	if (see_layout(fi, l, is_mb && is_ko, "kvm_mmu_get_page's access") == FTRACE_BAD)
		return FTRACE_BAD;
	if (rec_layout(fi) == MBEC_LAYOUT_MBEC) {
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
	if (*tok != 'q' || !ft_parse_dec(tok + 1, &r->quadrant, &q) || q != tok + n ||
	    r->quadrant > 3)
		return ft_bad(fi, "kvm_mmu_get_page: no quadrant (q0-q3)");
	n = token(&p, &tok);
	if (tok_is(tok, n, "direct")) {
		r->direct = true;
		n = token(&p, &tok);
	}
	if (read_access(fi, tok, n, r) == FTRACE_BAD)
		return FTRACE_BAD;
	n = token(&p, &tok);
	if (tok_is(tok, n, "invalid")) {
		r->invalid = true;
		n = token(&p, &tok);
	}
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
	const struct role_layout *rl = role_layout_builtin(rec_layout(fi));
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
		return ft_bad(fi, "kvm_mmu_get_page (trace-cmd plugin): the gfn is not a hex number");
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
		if (*tok != 'q' || !ft_parse_dec(tok + 1, &r->quadrant, &q) || q != tok + n ||
		    r->quadrant > 3)
			return ft_bad(fi, "kvm_mmu_get_page (trace-cmd plugin): no quadrant (q0-q3)");
		n = token(&p, &tok);
		if (tok_is(tok, n, "direct")) {
			r->direct = true;
			n = token(&p, &tok);
		}
		if (read_access(fi, tok, n, r) == FTRACE_BAD)
			return FTRACE_BAD;
		n = token(&p, &tok);
		if (tok_is(tok, n, "invalid")) {
			r->invalid = true;
			n = token(&p, &tok);
		}
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

static int ev_get_page(struct ftrace_import *fi, const struct ft_line *l, struct ft_thread *t)
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
	rl = role_layout_builtin(rec_layout(fi));
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
		g->role = r.word;
		if (role_find(rl, "smep_andnot_wp") && role_find(rl, "smep_andnot_wp")->shift < 16) {
			g->smep = (uint8_t)role_get(rl, r.word, "smep_andnot_wp");
			g->flags |= MBEC_SP_HAS_SMEP_ANDNOT_WP;
		} else if (role_find(rl, "cr4_smep") && role_find(rl, "cr4_smep")->shift < 16) {
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
static int ev_set_spte(struct ftrace_import *fi, const struct ft_line *l, struct ft_thread *t)
{
	struct mbec_ev_set_spte *s;
	uint64_t gfn, spte, level, at, page, id = 0;
	const char *p = strchr(l->fields, '('), *q;
	struct ft_binding *b;

	if (!ft_kv_hex(l->fields, "gfn", &gfn) || !ft_kv_hex(l->fields, "spte", &spte) ||
	    !ft_kv_dec(l->fields, "level", &level) || !ft_kv_hex(l->fields, "at", &at) ||
	    level < 1 || level > FT_MAX_LEVEL)
		return ft_bad(fi, "kvm_mmu_set_spte: want gfn, spte, level (1-5) and at");
	/*
	 * The permission letters: classic kernels print "(rwx)" for EPT SPTEs
	 * and "(rwxu)" otherwise; Kohler's series "(rwXx)" and "(rwXxu)" (X:
	 * supervisor, x: user execute), which no other kernel prints.
	 */
	if (p && (q = strchr(p, ')'))) {
		long n = q - p - 1;
		bool kohler = n == 5 || memchr(p, 'X', (size_t)n + 1);

		if (kohler && fi->layout == MBEC_LAYOUT_UNKNOWN &&
		    see_layout(fi, MBEC_LAYOUT_KOHLER, false, "kvm_mmu_set_spte's \"(rwXxu)\"") ==
		    FTRACE_BAD)
			return FTRACE_BAD;
		if (fi->seen_spte_ept < 0 && eff_layout(fi) == MBEC_LAYOUT_KOHLER &&
		    (n == 4 || n == 5))
			fi->seen_spte_ept = n == 4;
		else if (fi->seen_spte_ept < 0 && eff_layout(fi) == MBEC_LAYOUT_CLASSIC &&
			 fi->seen_layout == MBEC_LAYOUT_CLASSIC && (n == 3 || n == 4))
			fi->seen_spte_ept = n == 3;
	}

	/* Tie the SPTE's page to the shadow page just created/found at its level. */
	page = at & ~0xfffULL;
	b = &fi->bindings[(page >> 12) * 0x9e3779b1U % FT_NR_BINDINGS];
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
		ft_release_req(fi, t);
	}
	s = ft_enqueue(fi, l, MBEC_EV_SET_SPTE, sizeof(*s), t);
	if (!s)
		return ft_bad(fi, "internal queue full");
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
static int ev_spte_requested(struct ftrace_import *fi, const struct ft_line *l, struct ft_thread *t)
{
	struct mbec_ev_spte_requested *r = &t->req;
	uint64_t gfn, pfn, level, acc;

	if (!ft_kv_hex(l->fields, "gfn", &gfn) || !ft_kv_hex(l->fields, "pfn", &pfn) ||
	    !ft_kv_dec(l->fields, "level", &level) || level > FT_MAX_LEVEL)
		return ft_bad(fi, "kvm_mmu_spte_requested: want gfn, pfn and level");
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
	if (ft_kv_hex(l->fields, "access", &acc) && acc <= 0xff) {
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

static int ev_walk(struct ftrace_import *fi, const struct ft_line *l, struct ft_thread *t)
{
	struct mbec_ev_walk *w;
	uint64_t addr, pferr;

	if (!ft_kv_hex(l->fields, "addr", &addr) || !ft_kv_hex(l->fields, "pferr", &pferr) ||
	    pferr > UINT32_MAX)
		return ft_bad(fi, "kvm_mmu_pagetable_walk: want addr and pferr");
	new_fault(t);
	t->walk_valid = true;
	t->walk_addr = addr;
	t->walk_pferr = (uint32_t)pferr;
	w = ft_enqueue(fi, l, MBEC_EV_PAGETABLE_WALK, sizeof(*w), t);
	if (!w)
		return ft_bad(fi, "internal queue full");
	w->addr = addr;
	w->pferr = (uint32_t)pferr;
	return FTRACE_EVENT;
}

static int ev_paging_element(struct ftrace_import *fi, const struct ft_line *l, struct ft_thread *t)
{
	struct mbec_ev_paging_element *e;
	uint64_t pte, level;

	if (!ft_kv_hex(l->fields, "pte", &pte) || !ft_kv_dec(l->fields, "level", &level) ||
	    level > 16)
		return ft_bad(fi, "kvm_mmu_paging_element: want pte and level");
	e = ft_enqueue(fi, l, MBEC_EV_PAGING_ELEMENT, sizeof(*e), t);
	if (!e)
		return ft_bad(fi, "internal queue full");
	e->pte = pte;
	e->level = (int32_t)level;
	return FTRACE_EVENT;
}

static int ev_walker_error(struct ftrace_import *fi, const struct ft_line *l, struct ft_thread *t)
{
	struct mbec_ev_walker_error *e;
	uint64_t pferr;

	if (!ft_kv_hex(l->fields, "pferr", &pferr) || pferr > UINT32_MAX)
		return ft_bad(fi, "kvm_mmu_walker_error: want pferr");
	e = ft_enqueue(fi, l, MBEC_EV_WALKER_ERROR, sizeof(*e), t);
	if (!e)
		return ft_bad(fi, "internal queue full");
	e->pferr = (uint32_t)pferr;
	return FTRACE_EVENT;
}

/* "vcpu 0 rip 0x.. address 0x.. error_code 0x..", older: "address %lx error_code %x" */
static int ev_page_fault(struct ftrace_import *fi, const struct ft_line *l, struct ft_thread *t)
{
	struct mbec_ev_page_fault *pf;
	uint64_t addr, ec, vcpu;

	if (!ft_kv_hex(l->fields, "address", &addr) || !ft_kv_hex(l->fields, "error_code", &ec))
		return ft_bad(fi, "kvm_page_fault: want address and error_code");
	if (ft_kv_dec(l->fields, "vcpu", &vcpu) && vcpu < MBEC_VCPU_UNKNOWN)
		t->vcpu_id = (uint32_t)vcpu;
	/* A page fault that follows its EPT-violation/NPF exit belongs to it. */
	if (!t->exit_valid || t->pf_valid)
		t->exit_valid = false;
	new_fault(t);
	t->pf_valid = true;
	t->pf_addr = addr;
	t->pf_ec = ec;
	pf = ft_enqueue(fi, l, MBEC_EV_PAGE_FAULT, sizeof(*pf), t);
	if (!pf)
		return ft_bad(fi, "internal queue full");
	pf->address = addr;
	pf->error_code = ec;
	return FTRACE_EVENT;
}

/* "vcpu 0 reason EPT_VIOLATION rip 0x.. info1 0x.. info2 0x.. ..." */
static int ev_exit(struct ftrace_import *fi, const struct ft_line *l, struct ft_thread *t)
{
	struct mbec_ev_exit *x;
	uint64_t info1 = 0, info2 = 0, vcpu;
	uint32_t reason, isa;
	const char *p = ft_kv(l->fields, "reason");

	if (!p)
		return ft_bad(fi, "kvm_exit without a reason");
	if (ft_kv_dec(l->fields, "vcpu", &vcpu) && vcpu < MBEC_VCPU_UNKNOWN)
		t->vcpu_id = (uint32_t)vcpu;
	t->exit_valid = false;
	t->pf_valid = false;
	new_fault(t);
	if (!exit_reason(p, &reason, &isa))
		return ft_skip(fi, FTRACE_SKIP_OTHER_EXIT);	/* the BPF side skips these too */
	if (!ft_kv_hex(l->fields, "info1", &info1) || !ft_kv_hex(l->fields, "info2", &info2)) {
		/* Kernels before 5.7 and trace-cmd's plugin: "info %llx %llx". */
		const char *q = ft_kv(l->fields, "info");

		if (!q || !ft_parse_hex(q, &info1, &q) || !ft_parse_hex(ft_skip_sp(q), &info2, NULL))
			return ft_bad(fi, "kvm_exit: want info1 and info2");
	}
	t->exit_valid = true;
	t->exit_reason = reason;
	t->exit_isa = isa;
	t->exit_info1 = info1;
	x = ft_enqueue(fi, l, MBEC_EV_EXIT, sizeof(*x), t);
	if (!x)
		return ft_bad(fi, "internal queue full");
	x->info1 = info1;
	x->info2 = info2;
	x->reason = reason;
	x->isa = isa;
	x->flags = MBEC_EXIT_HAS_REASON | MBEC_EXIT_HAS_INFO |
		   (isa == 1 ? MBEC_EXIT_VMX : MBEC_EXIT_SVM);
	if (isa == 1 && fi->seen_spte_ept < 0)
		fi->seen_spte_ept = 1;
	else if (isa == 2 && fi->seen_spte_ept < 0)
		fi->seen_spte_ept = 0;
	return FTRACE_EVENT;
}

/* "reason: EPT_VIOLATION ext_inf1: 0x.. ext_inf2: 0x.. ext_int: 0x.. ext_int_err: 0x..", plugin */
static int ev_nested_inject(struct ftrace_import *fi, const struct ft_line *l, struct ft_thread *t)
{
	struct mbec_ev_nested_inject *n;
	uint64_t i1, i2, ii = 0, ie = 0;
	uint32_t reason, isa;
	const char *p = ft_kv(l->fields, "reason");

	if (!p)
		return ft_bad(fi, "kvm_nested_vmexit_inject without a reason");
	if (!exit_reason(p, &reason, &isa))
		return ft_skip(fi, FTRACE_SKIP_OTHER_EXIT);
	if (ft_kv_hex(l->fields, "ext_inf1", &i1) && ft_kv_hex(l->fields, "ext_inf2", &i2)) {
		ft_kv_hex(l->fields, "ext_int", &ii);
		ft_kv_hex(l->fields, "ext_int_err", &ie);
	} else if (ft_kv_hex(l->fields, "info1", &i1) && ft_kv_hex(l->fields, "info2", &i2)) {
		/* trace-cmd's plugin: "reason X info1 A info2 B int_info C int_info_err D" */
		ft_kv_hex(l->fields, "int_info", &ii);
		ft_kv_hex(l->fields, "int_info_err", &ie);
		fi->st.plugin_lines++;
	} else {
		return ft_bad(fi, "kvm_nested_vmexit_inject: want ext_inf1 and ext_inf2 (or the "
			      "plugin's info1 and info2)");
	}
	if (ii > UINT32_MAX || ie > UINT32_MAX)
		return ft_bad(fi, "kvm_nested_vmexit_inject: interrupt info wider than 32 bits");
	n = ft_enqueue(fi, l, MBEC_EV_NESTED_VMEXIT_INJECT, sizeof(*n), t);
	if (!n)
		return ft_bad(fi, "internal queue full");
	n->exit_code = reason;
	n->exit_info1 = i1;
	n->exit_info2 = i2;
	n->exit_int_info = (uint32_t)ii;
	n->exit_int_info_err = (uint32_t)ie;
	n->isa = isa;
	return FTRACE_EVENT;
}

/* "as id 0 gfn 100 level 1 old_spte 0 new_spte 6000000a07" */
static int ev_tdp_changed(struct ftrace_import *fi, const struct ft_line *l, struct ft_thread *t)
{
	struct mbec_ev_tdp_spte_changed *c;
	uint64_t as = 0, gfn, level, o, n;
	const char *p = strstr(l->fields, "as id");

	if (p)
		ft_parse_dec(ft_skip_sp(p + 5), &as, NULL);
	if (!ft_kv_hex(l->fields, "gfn", &gfn) || !ft_kv_dec(l->fields, "level", &level) ||
	    !ft_kv_hex(l->fields, "old_spte", &o) || !ft_kv_hex(l->fields, "new_spte", &n) ||
	    level > FT_MAX_LEVEL || as > 255)
		return ft_bad(fi, "kvm_tdp_mmu_spte_changed: want gfn, level, old_spte and new_spte");
	c = ft_enqueue(fi, l, MBEC_EV_TDP_SPTE_CHANGED, sizeof(*c), t);
	if (!c)
		return ft_bad(fi, "internal queue full");
	c->gfn = gfn;
	c->old_spte = o;
	c->new_spte = n;
	c->as_id = (int32_t)as;
	c->level = (int32_t)level;
	return FTRACE_EVENT;
}

/* "vcpu 0 gva 1000 error_code P|W sptep 0000.. old 0x.. new 6000.. spurious 0 fixed 1" */
static int ev_fast_pf(struct ftrace_import *fi, const struct ft_line *l, struct ft_thread *t)
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
	const char *p = ft_kv(l->fields, "error_code");
	size_t i, k;

	if (!ft_kv_hex(l->fields, "gva", &gva) || !ft_kv_hex(l->fields, "old", &o) ||
	    !ft_kv_hex(l->fields, "new", &n) || !p)
		return ft_bad(fi, "fast_page_fault: want gva, error_code, old and new");
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
			return ft_bad(fi, "fast_page_fault: unknown error_code flag in \"%.16s\"", p);
		}
		ec |= flags[i].bit;
		p += k;
		if (*p == '|')
			p++;
	}
	if (ft_kv_dec(l->fields, "vcpu", &vcpu) && vcpu < MBEC_VCPU_UNKNOWN)
		t->vcpu_id = (uint32_t)vcpu;
	ft_kv_hex(l->fields, "sptep", &sptep);
	ft_kv_dec(l->fields, "spurious", &spurious);
	ft_kv_dec(l->fields, "fixed", &fixed);
	e = ft_enqueue(fi, l, MBEC_EV_FAST_PAGE_FAULT, sizeof(*e), t);
	if (!e)
		return ft_bad(fi, "internal queue full");
	e->addr = gva;
	e->error_code = ec;
	e->old_spte = o;
	e->new_spte = n;
	e->sptep = sptep;
	e->ret = spurious ? 6 : fixed ? 5 : 0;	/* RET_PF_SPURIOUS, RET_PF_FIXED */
	return FTRACE_EVENT;
}


/*
 * The events we read.  keeps_req: a held spte_requested waits across
 * these (its set_spte may follow shadow pages created for a guest large
 * page) and goes out when anything else starts on the thread.
 */
static const struct {
	const char *name;
	ft_event_fn fn;
	bool keeps_req;
} events[] = {
	{ "kvm_mmu_pagetable_walk", ev_walk, false },
	{ "kvm_mmu_paging_element", ev_paging_element, true },
	{ "kvm_mmu_walker_error", ev_walker_error, false },
	{ "kvm_mmu_spte_requested", ev_spte_requested, false },
	{ "kvm_mmu_set_spte", ev_set_spte, true },
	{ "kvm_page_fault", ev_page_fault, false },
	{ "kvm_exit", ev_exit, false },
	{ "kvm_mmu_get_page", ev_get_page, true },
	{ "kvm_tdp_mmu_spte_changed", ev_tdp_changed, true },
	{ "fast_page_fault", ev_fast_pf, false },
	{ "kvm_nested_vmexit_inject", ev_nested_inject, false },
};

ft_event_fn ft_event_parser(const char *name, bool *keeps_req)
{
	size_t i;

	for (i = 0; i < sizeof(events) / sizeof(events[0]); i++) {
		if (!strcmp(name, events[i].name)) {
			*keeps_req = events[i].keeps_req;
			return events[i].fn;
		}
	}
	return NULL;
}
