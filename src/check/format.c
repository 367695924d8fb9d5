// SPDX-License-Identifier: GPL-2.0
/*
 * SPTE formats: which format (EPT or legacy) and MMU flavour an SPTE is
 * read in, from what the source says or the stream shows, and the format
 * rule - the invariants of a present SPTE, leaves and non-leaves apart -
 * for installed SPTEs (rules.c calls it) and TDP MMU changes.
 */
#include <inttypes.h>
#include <stdio.h>

#include "check/check_internal.h"
#include "mbec_model.h"

/*
 * The format of the SPTEs of a shadow page (sp may be NULL): the engine's
 * when it is known; else legacy only for a page that shadows the guest's
 * own page tables (not direct, not nested, not TDP: shadow paging builds
 * legacy entries on both vendors), unknown otherwise.
 */
enum spte_fmt ck_fmt_of(const struct mbec_check *e, const struct sp_info *sp)
{
	if (e->fmt != SPTE_FMT_IS_UNKNOWN)
		return e->fmt;
	if (sp && !sp->ev.direct && !sp->ev.guest_mode && !(sp->ev.flags & MBEC_SP_TDP_MMU))
		return SPTE_FMT_IS_LEGACY;
	return SPTE_FMT_IS_UNKNOWN;
}

/*
 * With EPT on, every SPTE is an EPT entry: a page that is neither TDP
 * nor known to be nested is nested EPT (shadowing L1's EPT tables) until
 * its shadow page says otherwise, never legacy.
 */
enum mbec_flavour ck_flavour_of(const struct mbec_check *e, const struct sp_info *sp,
				const struct mbec_txn *t)
{
	bool tdp = (sp && (sp->ev.flags & MBEC_SP_TDP_MMU)) ||
		   (t && (t->have & MBEC_TXN_REQ) && (t->req.flags & MBEC_FAULT_IS_TDP));
	bool nested = sp && sp->ev.guest_mode;
	bool ept = ck_fmt_of(e, sp) == SPTE_FMT_IS_EPT;

	if (tdp && !nested)
		return ept ? MBEC_FL_TDP_EPT : MBEC_FL_TDP_NPT;
	if (nested || ept)
		return ept ? MBEC_FL_SHADOW_EPT : MBEC_FL_SHADOW_NPT;
	return MBEC_FL_SHADOW_LEGACY;
}

/* An SPTE in words, in its format (raw when the format is not known). */
const char *ck_spte_str(const struct mbec_check *e, enum spte_fmt fmt, uint64_t v, char *buf,
			size_t len)
{
	if (fmt == SPTE_FMT_IS_UNKNOWN) {
		snprintf(buf, len, "0x%" PRIx64 " (format unknown: EPT or legacy/NPT)", v);
		return buf;
	}
	return ck_decode(e, DECODE_SPTE, v, fmt == SPTE_FMT_IS_EPT, buf, len);
}

/*
 * A shadow page that shadows the guest's own page tables (not direct, not
 * nested, not TDP) exists only with TDP off: KVM's SPTEs are then legacy
 * entries on both vendors, for this page and every other.
 */
void ck_learn_format_sp(struct mbec_check *e, const struct mbec_ev_get_page *g)
{
	if (e->fmt != SPTE_FMT_IS_UNKNOWN || g->direct || g->guest_mode ||
	    (g->flags & MBEC_SP_TDP_MMU))
		return;
	e->fmt = SPTE_FMT_IS_LEGACY;
	e->opts.spte_ept = false;
}

void ck_learn_format(struct mbec_check *e, const struct mbec_ev_exit *x)
{
	if (e->fmt != SPTE_FMT_IS_UNKNOWN || !(x->flags & MBEC_EXIT_HAS_REASON))
		return;
	/* EPT exits exist only with EPT on; every SVM SPTE is a legacy entry (NPT or shadow). */
	if ((x->flags & MBEC_EXIT_VMX) && (x->reason == EXIT_REASON_EPT_VIOLATION ||
					    x->reason == EXIT_REASON_EPT_MISCONFIG))
		e->fmt = SPTE_FMT_IS_EPT;
	else if (x->flags & MBEC_EXIT_SVM)
		e->fmt = SPTE_FMT_IS_LEGACY;
	if (e->fmt != SPTE_FMT_IS_UNKNOWN)
		e->opts.spte_ept = e->fmt == SPTE_FMT_IS_EPT;
}

/* ---- format ------------------------------------------------------------ */

static uint64_t ept_mmu_writable(const struct mbec_check *e)
{
	return e->opts.layout == MBEC_LAYOUT_MBEC ? MBEC_SPTE_EPT_MMU_WRITABLE :
						    CLASSIC_SPTE_EPT_MMU_WRITABLE;
}

static uint64_t ept_host_writable(const struct mbec_check *e)
{
	return e->opts.layout == MBEC_LAYOUT_MBEC ? MBEC_SPTE_EPT_HOST_WRITABLE :
						    CLASSIC_SPTE_EPT_HOST_WRITABLE;
}

/*
 * SPTE invariants of EPT entries (spec section 5): the rule v breaks, or
 * NULL.  What KVM promises of writable SPTEs holds for leaves: non-leaf
 * SPTEs are writable (the leaves decide) and never MMU-writable.
 */
static const char *ept_rule(const struct mbec_check *e, enum mbec_flavour fl, uint64_t v, bool leaf)
{
	uint64_t low = v & ~SPTE_SHADOW_NONPRESENT;

	if (e->opts.layout == MBEC_LAYOUT_MBEC && low == CLASSIC_FROZEN_SPTE_BITS)
		return "frozen SPTE has XU set (the classic frozen value on an MBEC kernel)";
	if (!(v & SPTE_MMU_PRESENT))
		return NULL;	/* non-present, frozen or MMIO */
	if ((v & EPTE_W) && !(v & EPTE_R))
		return "EPT SPTE writable but not readable (misconfiguration)";
	if (!leaf)
		return NULL;
	if ((v & EPTE_W) && !(v & ept_mmu_writable(e)))
		return "SPTE writable without MMU-writable";
	if ((v & ept_mmu_writable(e)) && !(v & ept_host_writable(e)))
		return "SPTE MMU-writable without host-writable";
	if (fl == MBEC_FL_TDP_EPT && e->opts.layout == MBEC_LAYOUT_MBEC && e->opts.mbec &&
	    !!(v & EPTE_XS) != !!(v & EPTE_XU))
		return "XS and XU differ on a direct TDP leaf";
	return NULL;
}

/* The same for legacy (shadow paging and NPT) entries. */
static const char *legacy_rule(uint64_t v, bool leaf)
{
	if (!(v & SPTE_MMU_PRESENT))
		return NULL;
	if (!(v & PTE_P))
		return "MMU-present legacy SPTE without P";
	if (v & MBEC_GENMASK(58, 52))
		return "reserved bits 58:52 set in a present legacy SPTE";
	if (!leaf)
		return NULL;
	if ((v & PTE_RW) && !(v & SPTE_LEGACY_MMU_WRITABLE))
		return "SPTE writable without MMU-writable";
	if ((v & SPTE_LEGACY_MMU_WRITABLE) && !(v & SPTE_LEGACY_HOST_WRITABLE))
		return "SPTE MMU-writable without host-writable";
	return NULL;
}

/*
 * The rule v breaks in format fmt, or NULL; buf holds a composed message.
 * Of an SPTE whose format is not known only what is wrong in both
 * formats is reported: a value that one of them allows may be right.
 */
static const char *format_rule(struct mbec_check *e, enum spte_fmt fmt, enum mbec_flavour fl,
			       uint64_t v, bool leaf, char *buf, size_t len)
{
	const char *a, *b;

	if (fmt == SPTE_FMT_IS_EPT)
		return ept_rule(e, fl, v, leaf);
	if (fmt == SPTE_FMT_IS_LEGACY)
		return legacy_rule(v, leaf);
	a = ept_rule(e, fl, v, leaf);
	b = legacy_rule(v, leaf);
	if (!a || !b)
		return NULL;
	snprintf(buf, len, "invalid as an EPT entry (%s) and as a legacy one (%s)", a, b);
	return buf;
}

/*
 * Check an SPTE's format and report a broken invariant with the
 * transaction around it (t may be NULL) and a line of context (ctx may be
 * NULL).  Evidence is only decoded when a rule fires.  1 when it fired.
 */
int ck_check_format(struct mbec_check *e, enum spte_fmt fmt, enum mbec_flavour fl, uint64_t v,
		    bool leaf, const struct mbec_event_hdr *h, const struct mbec_txn *t,
		    const char *ctx, const char *what)
{
	char rbuf[256], d[320];
	const char *rule = format_rule(e, fmt, fl, v, leaf, rbuf, sizeof(rbuf));
	struct evbuf b;

	if (!rule)
		return 0;
	ev_init(&b);
	if (t)
		ck_ev_txn(e, &b, t, fl);
	if (ctx)
		ev_add(&b, "%s", ctx);
	ev_add(&b, "  %s: %s\n", what, ck_spte_str(e, fmt, v, d, sizeof(d)));
	ck_anomaly(e, MBEC_AN_FORMAT, "spte-invariant", h, CK_NO_GFN, b.buf, "%s: %s", rule, what);
	return 1;
}

/* ---- TDP MMU changes ------------------------------------------------------ */

void ck_tdp_changed(struct mbec_check *e, const struct mbec_ev_tdp_spte_changed *c)
{
	enum spte_fmt fmt = e->fmt;
	enum mbec_flavour fl = fmt == SPTE_FMT_IS_EPT ? MBEC_FL_TDP_EPT : MBEC_FL_TDP_NPT;
	struct evbuf b;
	uint64_t o = c->old_spte, n = c->new_spte, saved;
	bool mbec = e->opts.layout == MBEC_LAYOUT_MBEC;
	/* Bit 7 is the page-size bit of large leaves in both formats. */
	bool leaf = c->level <= 1 || (n & PTE_PS);
	char d[320], rbuf[256];

	ev_init(&b);
	if (format_rule(e, fmt, fl, n, leaf, rbuf, sizeof(rbuf))) {
		ev_add(&b, "  tdp_spte_changed: as_id %d level %d gfn 0x%" PRIx64 " (%s)\n",
		       c->as_id, c->level, c->gfn, leaf ? "leaf" : "non-leaf");
		ev_add(&b, "  old: %s\n", ck_spte_str(e, fmt, o, d, sizeof(d)));
		ck_check_format(e, fmt, fl, n, leaf, &c->hdr, NULL, b.buf, "new SPTE");
		return;
	}
	if (fmt != SPTE_FMT_IS_EPT || !leaf || !(o & SPTE_MMU_PRESENT) || !(n & SPTE_MMU_PRESENT) ||
	    (n & (EPTE_RWX | EPTE_XU)) || !(o & (EPTE_RWX | EPTE_XU)) ||
	    (o & ~MBEC_BIT(8)) == (n & ~MBEC_BIT(8)))
		return;
	/* old present, new access-tracked: the saved bits must restore the old ones. */
	if ((o & EPTE_PFN_MASK) != (n & EPTE_PFN_MASK))
		return;
	if (mbec)
		saved = ((n >> MBEC_SPTE_SAVED_R_SHIFT) & 1) |
			(((n >> MBEC_SPTE_SAVED_XS_SHIFT) & 1) << 2) |
			(((n >> MBEC_SPTE_SAVED_XU_SHIFT) & 1) << 10);
	else
		saved = ((n >> CLASSIC_SPTE_SAVED_R_SHIFT) & 1) |
			(((n >> CLASSIC_SPTE_SAVED_X_SHIFT) & 1) << 2);
	if (saved == (o & (EPTE_R | EPTE_X | (mbec ? EPTE_XU : 0))))
		return;
	ev_add(&b, "  tdp_spte_changed: as_id %d level %d gfn 0x%" PRIx64 "\n", c->as_id,
	       c->level, c->gfn);
	ev_add(&b, "  old: %s\n", ck_decode(e, DECODE_SPTE, o, true, d, sizeof(d)));
	ev_add(&b, "  new: %s\n", ck_decode(e, DECODE_SPTE, n, true, d, sizeof(d)));
	ev_add(&b, "  model: saved bits restore 0x%" PRIx64 ", the old SPTE had 0x%" PRIx64 "\n",
	       saved, (uint64_t)(o & (EPTE_R | EPTE_X | (mbec ? EPTE_XU : 0))));
	ck_anomaly(e, MBEC_AN_FORMAT, "access-track", &c->hdr, c->gfn, b.buf,
		   "access-tracked SPTE does not save the permissions it removed (gfn 0x%" PRIx64
		   ")", c->gfn);
}
