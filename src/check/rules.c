// SPDX-License-Identifier: GPL-2.0
/*
 * The rules of the check engine, one function per anomaly class.  Each
 * takes what KVM did (events), asks the model (src/model, layer 2) what
 * KVM may do, and reports the difference with decoded evidence.
 *
 * The CPU mode a shadow page serves is not traced; it is taken from the
 * page's role (efer_nx, cr0_wp, smep), which the role rule in turn checks
 * against the guest walk and, when the caller knows the guest's registers
 * (the built-in workload), against the model's role for that mode.
 */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "check/check_internal.h"
#include "mbec_model.h"

#define PFERR_CHECKED	(PFERR_PRESENT | PFERR_WRITE | PFERR_USER | PFERR_FETCH | \
			 PFERR_GUEST_FINAL | PFERR_GUEST_PAGE)
#define NPF_CHECKED	(PFERR_PRESENT | PFERR_WRITE | PFERR_RSVD | PFERR_FETCH | \
			 PFERR_GUEST_FINAL | PFERR_GUEST_PAGE)

static unsigned int acc_write(void)
{
	return MBEC_ACC_WRITE;	/* 2 in both layouts */
}

static unsigned int acc_exec(const struct mbec_check *e)
{
	return e->opts.layout == MBEC_LAYOUT_MBEC ? MBEC_ACC_EXEC : CLASSIC_ACC_EXEC;
}

static enum mbec_flavour flavour_of(const struct mbec_check *e, const struct sp_info *sp,
				    const struct mbec_txn *t)
{
	bool tdp = (sp && (sp->ev.flags & MBEC_SP_TDP_MMU)) ||
		   (t && (t->have & MBEC_TXN_REQ) && (t->req.flags & MBEC_FAULT_IS_TDP));
	bool nested = sp && sp->ev.guest_mode;

	if (tdp && !nested)
		return e->opts.spte_ept ? MBEC_FL_TDP_EPT : MBEC_FL_TDP_NPT;
	if (nested)
		return e->opts.spte_ept ? MBEC_FL_SHADOW_EPT : MBEC_FL_SHADOW_NPT;
	return MBEC_FL_SHADOW_LEGACY;
}

static bool fl_ept(enum mbec_flavour fl)
{
	return mbec_flavour_spte_mmu(fl) == MBEC_MMU_EPT;
}

static bool gpte_present(enum mbec_flavour fl, uint64_t pte)
{
	if (mbec_flavour_guest_mmu(fl) == MBEC_MMU_EPT)
		return pte & (EPTE_RWX | EPTE_XU);
	return pte & PTE_P;
}

/* The guest's CPU mode as far as the role (or the walk) tells it. */
static void mode_of(const struct mbec_check *e, enum mbec_flavour fl, const struct sp_info *sp,
		    const struct mbec_txn *t, struct mbec_mode *m)
{
	int i;

	memset(m, 0, sizeof(*m));
	m->mmu = mbec_flavour_guest_mmu(fl);
	m->levels = 4;
	if (t && t->nelem > 0 && t->pte_level[0] >= 2 && t->pte_level[0] <= 5)
		m->levels = t->pte_level[0];
	else if (e->opts.expect_mode_valid)
		m->levels = e->opts.expect_mode.levels;
	if (m->mmu != MBEC_MMU_LEGACY && m->levels < 4)
		m->levels = 4;
	m->mbec = e->opts.mbec && m->mmu == MBEC_MMU_EPT;
	m->gmet = e->opts.mbec && m->mmu == MBEC_MMU_NPT;
	m->advanced_info = true;
	m->execonly = true;
	m->cr0_wp = true;
	if (sp) {
		m->efer_nx = sp->ev.efer_nx;
		/* A role rebuilt from text may not show CR0.WP: keep the default then. */
		if (!(sp->ev.flags & MBEC_SP_CR0_WP_UNKNOWN))
			m->cr0_wp = sp->ev.cr0_wp;
		m->cr4_smep = sp->ev.smep && ((sp->ev.flags & MBEC_SP_HAS_CR4_SMEP) || !m->cr0_wp);
	} else if (e->opts.expect_mode_valid) {
		m->efer_nx = e->opts.expect_mode.efer_nx;
		m->cr0_wp = e->opts.expect_mode.cr0_wp;
		m->cr4_smep = e->opts.expect_mode.cr4_smep;
	} else if (t) {
		/* Without NXE a guest NX bit is a reserved-bit fault: NX in a good walk means NXE. */
		for (i = 0; i < t->nelem; i++)
			if (t->pte[i] & PTE_NX)
				m->efer_nx = true;
	}
	/* SMAP only adds faults; never assume it (no false no-progress). */
	m->cr4_smap = false;
	m->eflags_ac = true;
}

/* The shadow page holding sptep, unless unknown or not trusted since a loss (*stale). */
static struct sp_info *sp_of(struct mbec_check *e, uint64_t sptep, bool *stale)
{
	struct sp_info *sp = u64map_get(&e->sps, sptep & ~0xfffULL);

	*stale = sp && sp->epoch != e->epoch;
	return *stale ? NULL : sp;
}

/* ---- evidence ------------------------------------------------------------ */

static void ev_txn(struct mbec_check *e, struct evbuf *b, const struct mbec_txn *t,
		   enum mbec_flavour fl)
{
	char d[320];
	int i;

	if (t->vcpu_id != MBEC_VCPU_UNKNOWN)
		ev_add(b, "  vCPU %u of VM %u (pid %u, tid %u), transaction %" PRIu64 "%s\n",
		       t->vcpu_id, t->vm_id, t->pid, t->tid, t->seq,
		       t->incomplete ? ", records lost around it" : "");
	else
		ev_add(b, "  vCPU thread %u of pid %u (vCPU id not traced), transaction %" PRIu64
		       "%s\n", t->tid, t->pid, t->seq,
		       t->incomplete ? ", records lost around it" : "");
	if (t->have & MBEC_TXN_EXIT)
		ev_add(b, "  exit: reason %u qualification %s\n", t->exit.reason,
		       ck_decode(e, (t->exit.flags & MBEC_EXIT_SVM) ? DECODE_NPF : DECODE_EXIT_QUAL,
				 t->exit.info1, false, d, sizeof(d)));
	if (t->have & MBEC_TXN_PF)
		ev_add(b, "  kvm_page_fault: address 0x%" PRIx64 " error_code 0x%" PRIx64 "\n",
		       t->pf.address, t->pf.error_code);
	if (t->have & MBEC_TXN_WALK) {
		ev_add(b, "  guest walk of 0x%" PRIx64 " for %s\n", t->walk_addr,
		       ck_decode(e, DECODE_PFEC, t->walk_pferr, false, d, sizeof(d)));
		for (i = 0; i < t->nelem; i++)
			ev_add(b, "    level %d: %s\n", t->pte_level[i],
			       ck_decode(e, mbec_flavour_guest_mmu(fl) == MBEC_MMU_EPT ?
				       DECODE_EPT_PTE : DECODE_GPTE, t->pte[i], false, d, sizeof(d)));
		if (t->have & MBEC_TXN_WALK_ERROR)
			ev_add(b, "    walker error: %s\n", ck_decode(e, DECODE_PFEC,
			       t->walker_error_pferr, false, d, sizeof(d)));
	}
	if (t->have & MBEC_TXN_REQ)
		ev_add(b, "  spte_requested: addr 0x%" PRIx64 " gfn 0x%" PRIx64 " pfn 0x%" PRIx64
		       " flags 0x%x%s error code %s\n", t->req.addr, t->req.gfn, t->req.pfn,
		       t->req.flags, (t->req.flags & MBEC_FAULT_PREFETCH) ? " (prefetch)" : "",
		       ck_decode(e, DECODE_PFEC, t->req.error_code, false, d, sizeof(d)));
}

static void ev_spte(struct mbec_check *e, struct evbuf *b, const struct mbec_ev_set_spte *s,
		    const struct sp_info *sp, enum mbec_flavour fl)
{
	char d[320], acc[8];

	ev_add(b, "  set_spte: level %d gfn 0x%" PRIx64 " spte %s\n", s->level, s->gfn,
	       ck_decode(e, DECODE_SPTE, s->spte, fl_ept(fl), d, sizeof(d)));
	if (sp)
		ev_add(b, "  shadow page: gfn 0x%" PRIx64 " role %s access %s\n", sp->ev.gfn,
		       ck_decode(e, DECODE_ROLE, sp->ev.role, false, d, sizeof(d)),
		       ck_acc(e, sp->ev.access, acc));
	else
		ev_add(b, "  shadow page: not seen (created before attach)\n");
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

/* SPTE invariants (spec section 5): the rule v breaks, or NULL. */
static const char *format_rule(struct mbec_check *e, enum mbec_flavour fl, uint64_t v, int level)
{
	bool ept = fl_ept(fl);
	const char *rule = NULL;
	uint64_t low = v & ~SPTE_SHADOW_NONPRESENT;

	if (ept && e->opts.layout == MBEC_LAYOUT_MBEC && low == CLASSIC_FROZEN_SPTE_BITS)
		rule = "frozen SPTE has XU set (the classic frozen value on an MBEC kernel)";
	if (!rule && !(v & SPTE_MMU_PRESENT))
		return NULL;	/* non-present, frozen or MMIO */
	if (rule) {
		/* fall through to the report */
	} else if (ept) {
		if ((v & EPTE_W) && !(v & EPTE_R))
			rule = "EPT SPTE writable but not readable (misconfiguration)";
		else if ((v & EPTE_W) && !(v & ept_mmu_writable(e)))
			rule = "SPTE writable without MMU-writable";
		else if ((v & ept_mmu_writable(e)) && !(v & ept_host_writable(e)))
			rule = "SPTE MMU-writable without host-writable";
		else if (fl == MBEC_FL_TDP_EPT && e->opts.layout == MBEC_LAYOUT_MBEC &&
			 e->opts.mbec && level >= 1 && !!(v & EPTE_XS) != !!(v & EPTE_XU))
			rule = "XS and XU differ on a direct TDP leaf";
	} else {
		if ((v & PTE_RW) && !(v & SPTE_LEGACY_MMU_WRITABLE))
			rule = "SPTE writable without MMU-writable";
		else if ((v & SPTE_LEGACY_MMU_WRITABLE) && !(v & SPTE_LEGACY_HOST_WRITABLE))
			rule = "SPTE MMU-writable without host-writable";
		else if (!(v & PTE_P))
			rule = "MMU-present legacy SPTE without P";
		else if (v & MBEC_GENMASK(58, 52))
			rule = "reserved bits 58:52 set in a present legacy SPTE";
	}
	return rule;
}

/*
 * Check an SPTE's format and report a broken invariant with the
 * transaction around it (t may be NULL) and a line of context (ctx may be
 * NULL).  Evidence is only decoded when a rule fires.  1 when it fired.
 */
static int check_format(struct mbec_check *e, enum mbec_flavour fl, uint64_t v, int level,
			const struct mbec_event_hdr *h, const struct mbec_txn *t,
			const char *ctx, const char *what)
{
	const char *rule = format_rule(e, fl, v, level);
	struct evbuf b;
	char d[320];

	ev_init(&b);
	if (!rule)
		return 0;
	if (t)
		ev_txn(e, &b, t, fl);
	if (ctx)
		ev_add(&b, "%s", ctx);
	ev_add(&b, "  %s: %s\n", what, ck_decode(e, DECODE_SPTE, v, fl_ept(fl), d, sizeof(d)));
	ck_anomaly(e, MBEC_AN_FORMAT, "spte-invariant", h, CK_NO_GFN, b.buf, "%s: %s", rule, what);
	return 1;
}

/* ---- role --------------------------------------------------------------- */

/* Is the walk complete, down to a present leaf, with no guest fault? */
static bool walk_complete(enum mbec_flavour fl, const struct mbec_txn *t)
{
	uint64_t leaf;
	int lvl;

	if (!(t->have & MBEC_TXN_WALK) || (t->have & MBEC_TXN_WALK_ERROR) || !t->nelem ||
	    t->incomplete)
		return false;
	leaf = t->pte[t->nelem - 1];
	lvl = t->pte_level[t->nelem - 1];
	return gpte_present(fl, leaf) && (lvl == 1 || (leaf & PTE_PS));
}

static void check_role_walk(struct mbec_check *e, const struct mbec_txn *t,
			    const struct mbec_ev_set_spte *s, struct sp_info *sp,
			    enum mbec_flavour fl, const struct mbec_mode *m)
{
	uint64_t upper[MBEC_TXN_MAX_ELEM];
	int i, nup = 0, leaf_level = t->pte_level[t->nelem - 1];
	const char *rule = NULL;
	unsigned int want = 0, want2 = 0, want3 = 0;
	char a1[8], a2[8];
	struct evbuf b;
	bool nx_used = false, show_acc = false;

	ev_init(&b);
	if (fl != MBEC_FL_SHADOW_LEGACY && fl != MBEC_FL_SHADOW_NPT && fl != MBEC_FL_SHADOW_EPT)
		return;
	e->sum.roles_checked++;
	for (i = 0; i < t->nelem; i++) {
		if (t->pte_level[i] > sp->ev.level)
			upper[nup++] = t->pte[i];
		if (mbec_flavour_guest_mmu(fl) != MBEC_MMU_EPT && (t->pte[i] & PTE_NX))
			nx_used = true;
	}
	if (sp->ev.level != (unsigned int)s->level) {
		rule = "role.level differs from the level of the SPTE it holds";
	} else if (fl == MBEC_FL_SHADOW_LEGACY &&
		   !!sp->ev.has_4_byte_gpte != (t->pte_level[0] == 2)) {
		rule = "role.has_4_byte_gpte does not match the guest's paging mode";
	} else if (fl == MBEC_FL_SHADOW_LEGACY && nx_used && !sp->ev.efer_nx) {
		rule = "role.efer_nx clear but the guest walk used NX without a reserved-bit fault";
	} else if (!!sp->ev.direct != (leaf_level > (int)sp->ev.level)) {
		rule = sp->ev.direct ? "role.direct set but the guest maps this level with a table" :
				       "role.direct clear below a guest large page";
	} else if (!sp->ev.direct) {
		want = mbec_kvm_compose_acc(e->opts.layout, fl, m, upper, nup);
		show_acc = true;
		if (want != sp->ev.access)
			rule = "role.access differs from the ACC the guest walk above it composes";
	} else {
		/* Direct page for a guest large page: the whole walk, clean pages not writable. */
		want = mbec_kvm_compose_acc(e->opts.layout, fl, m, t->pte, t->nelem);
		want2 = want & ~acc_write();
		want3 = mbec_kvm_fault_acc(e->opts.layout, fl, m, want, t->req.error_code);
		show_acc = true;
		if (sp->ev.access != want && sp->ev.access != want2 && sp->ev.access != want3 &&
		    sp->ev.access != (want3 & ~acc_write()))
			rule = "role.access of a direct page differs from the guest walk's ACC";
	}
	if (!rule) {
		sp->role_verified = true;
		return;
	}
	ev_txn(e, &b, t, fl);
	ev_spte(e, &b, s, sp, fl);
	if (show_acc)
		ev_add(&b, "  model: role.access should be %s, the role says %s\n",
		       ck_acc(e, want, a1), ck_acc(e, sp->ev.access, a2));
	ck_anomaly(e, MBEC_AN_ROLE, "role-vs-walk", &s->hdr, sp->ev.gfn, b.buf,
		   "%s (gfn 0x%" PRIx64 ")", rule, sp->ev.gfn);
}

void ck_role_expect(struct mbec_check *e, struct sp_info *sp)
{
	struct mbec_role_flags rf;
	enum mbec_flavour fl;
	const char *rule = NULL;
	struct evbuf b;
	char d[320];
	bool smep;

	ev_init(&b);
	if (!e->opts.expect_mode_valid || sp->ev.guest_mode)
		return;
	fl = flavour_of(e, sp, NULL);
	mbec_kvm_role_flags(e->opts.layout, fl, &e->opts.expect_mode, &rf);
	e->sum.roles_checked++;
	smep = e->opts.layout == MBEC_LAYOUT_MBEC ? rf.cr4_smep : rf.smep_andnot_wp;
	if (!!sp->ev.efer_nx != rf.efer_nx)
		rule = "efer_nx";
	else if (!(sp->ev.flags & MBEC_SP_CR0_WP_UNKNOWN) && !!sp->ev.cr0_wp != rf.cr0_wp)
		rule = "cr0_wp";
	else if ((sp->ev.flags & (MBEC_SP_HAS_CR4_SMEP | MBEC_SP_HAS_SMEP_ANDNOT_WP)) &&
		 !!sp->ev.smep != smep)
		rule = e->opts.layout == MBEC_LAYOUT_MBEC ? "cr4_smep" : "smep_andnot_wp";
	else if (!(sp->ev.flags & MBEC_SP_CR0_WP_UNKNOWN) &&
		 !!sp->ev.smap_andnot_wp != rf.smap_andnot_wp)
		rule = "smap_andnot_wp";
	if (!rule)
		return;
	ev_add(&b, "  get_page: gfn 0x%" PRIx64 " role %s%s\n", sp->ev.gfn,
	       ck_decode(e, DECODE_ROLE, sp->ev.role, false, d, sizeof(d)),
	       (sp->ev.flags & MBEC_SP_CREATED) ? " (created)" : "");
	ev_add(&b, "  guest mode: %d-level, CR0.WP=%d CR4.SMEP=%d CR4.SMAP=%d EFER.NX=%d\n",
	       e->opts.expect_mode.levels, e->opts.expect_mode.cr0_wp,
	       e->opts.expect_mode.cr4_smep, e->opts.expect_mode.cr4_smap,
	       e->opts.expect_mode.efer_nx);
	ev_add(&b, "  model: efer_nx=%d cr0_wp=%d smep=%d smap_andnot_wp=%d\n", rf.efer_nx,
	       rf.cr0_wp, smep, rf.smap_andnot_wp);
	ck_anomaly(e, MBEC_AN_ROLE, "role-vs-mode", &sp->ev.hdr, sp->ev.gfn, b.buf,
		   "role.%s disagrees with the guest's CPU mode (gfn 0x%" PRIx64 ")", rule,
		   sp->ev.gfn);
}

/* ---- SPTEs of a transaction ------------------------------------------------ */

void ck_learn_memslot(struct mbec_check *e, const struct mbec_ev_spte_requested *r)
{
	struct memslot *n;
	size_t i;

	if (r->hdr.size < sizeof(*r) || !(r->flags & MBEC_FAULT_HAS_SLOT) || !r->slot_npages)
		return;
	for (i = 0; i < e->nslots; i++) {
		struct memslot *m = &e->slots[i];

		if (m->pid == r->hdr.pid && m->base_gfn == r->slot_base_gfn) {
			m->npages = r->slot_npages;
			m->hva = r->slot_hva;
			return;
		}
	}
	if (e->nslots >= 4096)
		return;
	n = realloc(e->slots, (e->nslots + 1) * sizeof(*n));
	if (!n)
		return;
	e->slots = n;
	n[e->nslots].pid = r->hdr.pid;
	n[e->nslots].base_gfn = r->slot_base_gfn;
	n[e->nslots].npages = r->slot_npages;
	n[e->nslots].hva = r->slot_hva;
	e->nslots++;
}

static bool read_guest(struct mbec_check *e, uint32_t pid, uint64_t gpa, uint64_t *val)
{
	uint64_t gfn = gpa >> 12;
	size_t i;

	if (!e->opts.guest.read_mem)
		return false;
	for (i = 0; i < e->nslots; i++) {
		const struct memslot *m = &e->slots[i];

		if (m->pid == pid && gfn >= m->base_gfn && gfn - m->base_gfn < m->npages)
			return !e->opts.guest.read_mem(e->opts.guest.ctx, pid,
						       m->hva + (gpa - (m->base_gfn << 12)), val);
	}
	return false;
}

/*
 * The guest entry behind an SPTE that has no traced walk: 0 unknown,
 * MBEC_COVR_GUEST_PTE from the VMM's description of its page tables,
 * MBEC_COVR_GUEST_MEM read from its memory now (it may have changed since
 * KVM read it).
 */
static int guest_pte_of(struct mbec_check *e, const struct mbec_txn *t, const struct sp_info *sp,
			const struct mbec_ev_set_spte *s, enum mbec_flavour fl, uint64_t *pte)
{
	uint64_t gpa, *known;
	int how;

	if (sp->ev.direct || sp->ev.has_4_byte_gpte || (sp->ev.flags & MBEC_SP_TDP_MMU))
		return 0;
	gpa = (sp->ev.gfn << 12) + (s->sptep & 0xfff);
	known = u64map_get(&e->guest_ptes, wp_key(t->pid, gpa));
	if (known) {
		*pte = *known;
		how = MBEC_COVR_GUEST_PTE;
	} else if (read_guest(e, t->pid, gpa, pte)) {
		how = MBEC_COVR_GUEST_MEM;
	} else {
		return 0;
	}
	/* A stale or wrong entry (the guest changed it) must not be judged by. */
	if (!gpte_present(fl, *pte) || ((*pte & PTE_PFN_MASK) >> 12) != s->gfn)
		return 0;
	return how;
}

static void cover(struct mbec_check *e, enum mbec_coverage c, enum mbec_cov_reason r)
{
	e->sum.sptes[c]++;
	e->sum.sptes_total++;
	e->sum.cov_reason[c][r]++;
}

static unsigned int perturb(const struct mbec_check *e, unsigned int acc)
{
	if (e->opts.perturb & MBEC_PERTURB_RO)
		acc &= ~acc_write();
	if (e->opts.perturb & MBEC_PERTURB_NX)
		acc &= ~acc_exec(e);
	return acc;
}

static bool is_write_protected_gfn(struct mbec_check *e, uint32_t pid, uint64_t gfn)
{
	uint32_t *n = u64map_get(&e->wp_gfns, wp_key(pid, gfn));

	return n && *n;
}

static bool same_mode(const struct mbec_mode *a, const struct mbec_mode *b)
{
	return a->mmu == b->mmu && a->levels == b->levels && a->cr0_wp == b->cr0_wp &&
	       a->cr4_smep == b->cr4_smep && a->cr4_smap == b->cr4_smap &&
	       a->eflags_ac == b->eflags_ac && a->efer_nx == b->efer_nx && a->mbec == b->mbec &&
	       a->execonly == b->execonly && a->advanced_info == b->advanced_info &&
	       a->gmet == b->gmet;
}

/* mbec_kvm_permission_bitmask() for (layout, fl, m), from the cache when it can. */
static const uint16_t *permissions_of(struct mbec_check *e, enum mbec_flavour fl,
				      const struct mbec_mode *m)
{
	struct perm_cache *c = &e->perm_cache;

	if (!c->valid || c->layout != e->opts.layout || c->fl != fl || !same_mode(&c->mode, m)) {
		mbec_kvm_permission_bitmask(e->opts.layout, fl, m, c->perms);
		c->layout = e->opts.layout;
		c->fl = fl;
		c->mode = *m;
		c->valid = true;
	}
	return c->perms;
}

static void check_progress(struct mbec_check *e, const struct mbec_txn *t,
			   const struct mbec_ev_set_spte *s, const struct sp_info *sp,
			   enum mbec_flavour fl, const struct mbec_mode *m)
{
	const uint16_t *perms;
	uint64_t pfec = t->req.error_code & ~(PFERR_RSVD | PFERR_PRESENT);
	unsigned int got;
	struct evbuf b;
	char a[8];

	ev_init(&b);
	if (!(s->spte & SPTE_MMU_PRESENT))
		return;
	perms = permissions_of(e, fl, m);
	got = mbec_kvm_spte_to_acc(e->opts.layout, fl, s->spte);
	if (!mbec_kvm_permission_fault(perms, pfec, true, got))
		return;
	/* KVM write-protects shadowed guest page tables and emulates such writes. */
	if ((pfec & PFERR_WRITE) &&
	    ((t->req.flags & (MBEC_FAULT_WRITE_TO_SHADOW_PT)) ||
	     !(t->req.flags & MBEC_FAULT_MAP_WRITABLE) ||
	     is_write_protected_gfn(e, t->pid, t->req.gfn)))
		return;
	ev_txn(e, &b, t, fl);
	ev_spte(e, &b, s, sp, fl);
	ev_add(&b, "  model: the SPTE grants %s, which faults again for this access\n",
	       ck_acc(e, got, a));
	ck_anomaly(e, MBEC_AN_NO_PROGRESS, "spte-denies-fault", &s->hdr, s->gfn, b.buf,
		   "SPTE installed for a fault does not permit the faulting access "
		   "(gfn 0x%" PRIx64 ", error code 0x%" PRIx64 ")", s->gfn, t->req.error_code);
}

static void check_spte(struct mbec_check *e, const struct mbec_txn *t, int idx, bool faulting)
{
	const struct mbec_ev_set_spte *s = &t->spte[idx];
	bool stale;
	struct sp_info *sp = sp_of(e, s->sptep, &stale);
	enum mbec_flavour fl = flavour_of(e, sp, t);
	enum mbec_coverage cov = MBEC_COV_NONE;
	enum mbec_cov_reason why = MBEC_COVR_NO_ROLE;
	unsigned int allowed = 0, esc;
	struct mbec_mode m;
	struct evbuf b;
	char a1[8], a2[8], a3[8];
	uint64_t gpte;
	int how;

	ev_init(&b);
	mode_of(e, fl, sp, faulting ? t : NULL, &m);

	if (mbec_flavour_is_tdp(fl)) {
		allowed = mbec_kvm_compose_acc(e->opts.layout, fl, &m, NULL, 0);
		if (sp)
			allowed &= sp->ev.access;
		cov = MBEC_COV_FULL;
		why = MBEC_COVR_DIRECT;
	} else if (faulting && walk_complete(fl, t)) {
		uint64_t leaf = t->pte[t->nelem - 1];

		allowed = mbec_kvm_compose_acc(e->opts.layout, fl, &m, t->pte, t->nelem);
		if (!(t->req.error_code & PFERR_WRITE) && fl != MBEC_FL_SHADOW_EPT &&
		    !(leaf & PTE_D))
			allowed &= ~acc_write();
		allowed = mbec_kvm_fault_acc(e->opts.layout, fl, &m, allowed, t->req.error_code);
		if (!(t->req.flags & MBEC_FAULT_MAP_WRITABLE))
			allowed &= ~acc_write();
		cov = MBEC_COV_FULL;
		why = MBEC_COVR_WALK;
		if (sp)
			check_role_walk(e, t, s, sp, fl, &m);
	} else if (sp && sp->ev.direct) {
		allowed = sp->ev.access;
		cov = sp->role_verified ? MBEC_COV_FULL : MBEC_COV_PARTIAL;
		why = sp->role_verified ? MBEC_COVR_DIRECT : MBEC_COVR_PREFETCH;
	} else if (sp && (how = guest_pte_of(e, t, sp, s, fl, &gpte))) {
		allowed = sp->ev.access & mbec_kvm_gpte_access(e->opts.layout, fl, gpte);
		/*
		 * No dirty-bit rule here: the entry may have been made dirty
		 * since it was read, and a dirty entry allows W.
		 */
		cov = MBEC_COV_FULL;
		why = how;
		/*
		 * An entry read from memory now may have lost permissions since
		 * KVM read it (the guest's own mprotect): a disagreement is
		 * counted as such, and the SPTE judged by its role only.
		 */
		if (how == MBEC_COVR_GUEST_MEM &&
		    mbec_kvm_acc_escalation(e->opts.layout, fl, &m, perturb(e, allowed), s->spte)) {
			allowed = sp->ev.access;
			cov = MBEC_COV_PARTIAL;
			why = MBEC_COVR_MEM_CHANGED;
		}
	} else if (sp) {
		allowed = sp->ev.access;
		cov = MBEC_COV_PARTIAL;
		why = t->incomplete ? MBEC_COVR_LOST :
		      (faulting && (t->have & MBEC_TXN_WALK)) ? MBEC_COVR_WALK_SHORT :
		      MBEC_COVR_PREFETCH;
	} else {
		why = t->incomplete || stale ? MBEC_COVR_LOST : MBEC_COVR_NO_ROLE;
	}
	cover(e, cov, why);
	if (e->on_spte)
		e->on_spte(e->on_spte_ctx, s, cov);

	/* Format holds whatever the coverage. */
	check_format(e, fl, s->spte, s->level, &s->hdr, t, NULL, "set_spte");

	if (faulting && (t->have & MBEC_TXN_REQ))
		check_progress(e, t, s, sp, fl, &m);

	if (cov == MBEC_COV_NONE || !(s->spte & SPTE_MMU_PRESENT))
		return;
	allowed = perturb(e, allowed);
	esc = mbec_kvm_acc_escalation(e->opts.layout, fl, &m, allowed, s->spte);
	if (!esc)
		return;
	ev_txn(e, &b, t, fl);
	ev_spte(e, &b, s, sp, fl);
	ev_add(&b, "  model: %s allows %s%s; the SPTE grants %s, beyond: %s\n",
	       why == MBEC_COVR_WALK ? "the guest walk" :
	       why == MBEC_COVR_GUEST_PTE ? "the guest entry with the role" :
	       "the shadow page's role",
	       ck_acc(e, allowed, a1), e->opts.perturb ? " (model perturbed)" : "",
	       ck_acc(e, mbec_kvm_spte_to_acc(e->opts.layout, fl, s->spte), a2),
	       ck_acc(e, esc, a3));
	ck_anomaly(e, MBEC_AN_ESCALATION, faulting ? "spte-exceeds-walk" : "spte-exceeds-role",
		   &s->hdr, s->gfn, b.buf,
		   "SPTE grants %s beyond what the guest allows (%s, gfn 0x%" PRIx64
		   ", %s check)", ck_acc(e, esc, a3), faulting ? "faulting" : "prefetched",
		   s->gfn, mbec_coverage_name(cov));
}

/* ---- exit qualification ------------------------------------------------- */

static void check_exit_qual(struct mbec_check *e, const struct mbec_txn *t)
{
	const struct mbec_ev_exit *x = &t->exit;
	struct evbuf b;
	uint64_t want, got = t->req.error_code, mask;
	const char *rule = NULL;
	char d[320];

	ev_init(&b);
	if (!(t->have & MBEC_TXN_EXIT) || !(x->flags & MBEC_EXIT_HAS_INFO))
		return;
	if ((x->flags & MBEC_EXIT_VMX) && x->reason == EXIT_REASON_EPT_VIOLATION) {
		e->sum.exits_checked++;
		if ((t->have & MBEC_TXN_PF) && t->pf.error_code != x->info1)
			rule = "kvm_page_fault's error_code is not the exit qualification";
		/*
		 * An importer that derived the error code from this very exit
		 * qualification (ftrace text does not print it) would only
		 * compare the model with itself.
		 */
		if (!rule && (t->have & MBEC_TXN_REQ) && !(t->req.flags & MBEC_FAULT_DERIVED)) {
			want = mbec_kvm_exit_qual_to_pfec(e->opts.layout, e->opts.mbec, x->info1);
			mask = PFERR_CHECKED;
			if (!e->opts.mbec && (x->info1 & EPT_VIOL_PROT_USER_EXEC) &&
			    !(x->info1 & EPT_VIOL_PROT_RWX) && (got & PFERR_PRESENT))
				rule = "undefined exit-qualification bit 6 used (MBEC off)";
			else if ((want ^ got) & mask)
				rule = "error code differs from the one the exit qualification gives";
			if (rule)
				ev_add(&b, "  model: error code %s\n",
				       ck_decode(e, DECODE_PFEC, want, false, d, sizeof(d)));
		}
	} else if ((x->flags & MBEC_EXIT_SVM) && x->reason == SVM_EXIT_NPF) {
		e->sum.exits_checked++;
		if ((t->have & MBEC_TXN_REQ) && ((x->info1 ^ got) & NPF_CHECKED))
			rule = "error code differs from #NPF EXITINFO1";
	}
	if (!rule)
		return;
	ev_txn(e, &b, t, MBEC_FL_TDP_EPT);
	ck_anomaly(e, MBEC_AN_EXIT_QUAL, "exit-qual-pfec", &x->hdr, CK_NO_GFN, b.buf,
		   "%s (qualification 0x%" PRIx64 ", error code 0x%" PRIx64 ")", rule, x->info1, got);
}

/* ---- no-progress: the same fault again and again ------------------------ */

static void check_repeat(struct mbec_check *e, const struct mbec_txn *t)
{
	struct repeat *r = NULL;
	uint64_t addr, ec;
	struct evbuf b;
	size_t i;

	ev_init(&b);
	if (!(t->have & (MBEC_TXN_PF | MBEC_TXN_REQ)) || (t->have & MBEC_TXN_WALK_ERROR))
		return;
	addr = (t->have & MBEC_TXN_PF) ? t->pf.address : t->req.addr;
	ec = (t->have & MBEC_TXN_PF) ? t->pf.error_code : t->req.error_code;
	for (i = 0; i < e->nrepeats; i++)
		if (e->repeats[i].tid == t->tid)
			r = &e->repeats[i];
	if (!r) {
		struct repeat *n = realloc(e->repeats, (e->nrepeats + 1) * sizeof(*n));

		if (!n)
			return;
		e->repeats = n;
		r = &e->repeats[e->nrepeats++];
		memset(r, 0, sizeof(*r));
		r->tid = t->tid;
	}
	if (r->count && r->addr == addr && r->error_code == ec) {
		r->count++;
	} else {
		r->addr = addr;
		r->error_code = ec;
		r->count = 1;
		r->reported = false;
	}
	if (r->count < e->repeat_limit || r->reported)
		return;
	r->reported = true;
	ev_txn(e, &b, t, flavour_of(e, NULL, t));
	ck_anomaly(e, MBEC_AN_NO_PROGRESS, "fault-repeats",
		   (t->have & MBEC_TXN_PF) ? &t->pf.hdr : &t->req.hdr, CK_NO_GFN, b.buf,
		   "vCPU %u faulted on 0x%" PRIx64 " with error code 0x%" PRIx64
		   " %u times in a row", t->vcpu_id, addr, ec, r->count);
}

void ck_on_txn(void *ctx, const struct mbec_txn *t)
{
	struct mbec_check *e = ctx;
	int i, faulting = -1;

	if (t->have & MBEC_TXN_REQ) {
		for (i = 0; i < t->nspte; i++) {
			if (t->spte[i].gfn == t->req.gfn) {
				faulting = i;
				break;
			}
		}
	}
	for (i = 0; i < t->nspte; i++)
		check_spte(e, t, i, i == faulting);
	if (t->nspte_overflow) {
		e->sum.sptes[MBEC_COV_NONE] += t->nspte_overflow;
		e->sum.sptes_total += t->nspte_overflow;
		e->sum.cov_reason[MBEC_COV_NONE][MBEC_COVR_LOST] += t->nspte_overflow;
	}
	check_exit_qual(e, t);
	check_repeat(e, t);
	if (t->have & MBEC_TXN_FAST)
		check_format(e, flavour_of(e, NULL, t), t->fast.new_spte, 1, &t->fast.hdr, t, NULL,
			     "fast_page_fault new SPTE");
}

/* ---- TDP MMU changes ------------------------------------------------------ */

void ck_tdp_changed(struct mbec_check *e, const struct mbec_ev_tdp_spte_changed *c)
{
	enum mbec_flavour fl = e->opts.spte_ept ? MBEC_FL_TDP_EPT : MBEC_FL_TDP_NPT;
	struct evbuf b;
	uint64_t o = c->old_spte, n = c->new_spte, saved;
	bool mbec = e->opts.layout == MBEC_LAYOUT_MBEC;
	char d[320];

	ev_init(&b);
	if (format_rule(e, fl, n, c->level)) {
		ev_add(&b, "  tdp_spte_changed: as_id %d level %d gfn 0x%" PRIx64 "\n", c->as_id,
		       c->level, c->gfn);
		ev_add(&b, "  old: %s\n", ck_decode(e, DECODE_SPTE, o, fl_ept(fl), d, sizeof(d)));
		check_format(e, fl, n, c->level, &c->hdr, NULL, b.buf, "new SPTE");
		return;
	}
	if (!fl_ept(fl) || !(o & SPTE_MMU_PRESENT) || !(n & SPTE_MMU_PRESENT) ||
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

/* ---- nested injection ------------------------------------------------- */

void ck_nested_inject(struct mbec_check *e, const struct mbec_ev_nested_inject *n)
{
	uint64_t q = n->exit_info1;
	const char *rule = NULL;
	struct evbuf b;
	bool valid = q & EPT_VIOL_GVA_IS_VALID, translated = q & EPT_VIOL_GVA_TRANSLATED;
	char d[320];

	ev_init(&b);
	if (n->isa == 1 && n->exit_code == EXIT_REASON_EPT_VIOLATION) {
		e->sum.injects_checked++;
		if (q & ~EPT_VIOL_DEFINED_MASK)
			rule = "bits above 16 set";
		else if (!(q & EPT_VIOL_ACC_MASK))
			rule = "no access bit (2:0) set";
		else if ((q & EPT_VIOL_ACC_INSTR) && (q & (EPT_VIOL_ACC_READ | EPT_VIOL_ACC_WRITE)))
			rule = "a fetch reported together with a data access";
		else if (translated && !valid)
			rule = "GVA_TRANSLATED without GVA_IS_VALID";
		else if ((q & EPT_VIOL_ADVANCED) && !(valid && translated))
			rule = "advanced information (bits 9-11) without a translated linear address";
		else if ((q & EPT_VIOL_PROT_USER_EXEC) && !e->opts.mbec)
			rule = "bit 6 (user-exec permission) set without MBEC";
		else if (valid && !translated &&
			 ((q & EPT_VIOL_ACC_INSTR) || !(q & EPT_VIOL_ACC_READ)))
			rule = "paging-structure access not reported as a read (or read+write)";
		if (rule)
			ev_add(&b, "  injected qualification: %s\n",
			       ck_decode(e, DECODE_EXIT_QUAL, q, false, d, sizeof(d)));
	} else if (n->isa == 2 && n->exit_code == SVM_EXIT_NPF) {
		e->sum.injects_checked++;
		if ((q & PFERR_GUEST_FINAL) && (q & PFERR_GUEST_PAGE))
			rule = "#NPF EXITINFO1 reports both a final and a paging-structure access";
		if (rule)
			ev_add(&b, "  injected EXITINFO1: %s\n",
			       ck_decode(e, DECODE_NPF, q, false, d, sizeof(d)));
	}
	if (!rule)
		return;
	ev_add(&b, "  exit_code 0x%x info2 0x%" PRIx64 " int_info 0x%x\n", n->exit_code,
	       n->exit_info2, n->exit_int_info);
	ck_anomaly(e, MBEC_AN_NESTED_INJECT, "nested-qual", &n->hdr, CK_NO_GFN, b.buf,
		   "injected exit qualification 0x%" PRIx64 ": %s", q, rule);
}

void ck_guest_pte(struct mbec_check *e, const struct mbec_ev_guest_pte *g)
{
	uint64_t *v = u64map_put(&e->guest_ptes, wp_key(g->hdr.pid, g->entry_gpa));

	if (v)
		*v = g->pte;
}
