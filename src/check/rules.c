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

static unsigned int acc_write(void)
{
	return MBEC_ACC_WRITE;	/* 2 in both layouts */
}

static unsigned int acc_exec(const struct mbec_check *e)
{
	return e->opts.layout == MBEC_LAYOUT_MBEC ? MBEC_ACC_EXEC : CLASSIC_ACC_EXEC;
}

static bool gpte_present(enum mbec_flavour fl, uint64_t pte)
{
	if (mbec_flavour_guest_mmu(fl) == MBEC_MMU_EPT)
		return pte & (EPTE_RWX | EPTE_XU);
	return pte & PTE_P;
}

/*
 * Does the MMU of a shadow EPT page use MBEC?  Not KVM's module flag
 * alone: a shadow EPT MMU (L2 on the EPT tables of the L1 hypervisor) uses
 * it only when L1 turned the mode-based execute control on in its VMCS12,
 * which no event carries and KVM keeps in the role's cr4_smep (mbec
 * layout; patch 0008's kvm_init_shadow_ept_mmu(..., mbec, ...)).  The
 * module flag, when the role does not say.
 */
bool ck_shadow_ept_mbec(const struct mbec_check *e, const struct sp_info *sp)
{
	if (!e->opts.mbec)
		return false;
	if (sp && sp->ev.guest_mode && e->opts.layout == MBEC_LAYOUT_MBEC &&
	    (sp->ev.flags & MBEC_SP_HAS_CR4_SMEP))
		return sp->ev.smep;
	return true;
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
	if (fl == MBEC_FL_SHADOW_EPT)
		m->mbec = ck_shadow_ept_mbec(e, sp);
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
struct sp_info *ck_sp_of(struct mbec_check *e, uint64_t sptep, bool *stale)
{
	struct sp_info *sp = u64map_get(&e->sps, sptep & ~0xfffULL);

	*stale = sp && sp->epoch != e->epoch;
	return *stale ? NULL : sp;
}

/* ---- evidence ------------------------------------------------------------ */

void ck_ev_txn(struct mbec_check *e, struct evbuf *b, const struct mbec_txn *t,
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

	(void)fl;
	ev_add(b, "  set_spte: level %d gfn 0x%" PRIx64 " spte %s\n", s->level, s->gfn,
	       ck_spte_str(e, ck_fmt_of(e, sp), s->spte, d, sizeof(d)));
	if (sp)
		ev_add(b, "  shadow page: gfn 0x%" PRIx64 " role %s access %s\n", sp->ev.gfn,
		       ck_decode(e, DECODE_ROLE, sp->ev.role, false, d, sizeof(d)),
		       ck_acc(e, sp->ev.access, acc));
	else
		ev_add(b, "  shadow page: not seen (created before attach)\n");
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
		/* CR0.WP not known: what the other value gives is as good. */
		if (rule && (sp->ev.flags & MBEC_SP_CR0_WP_UNKNOWN)) {
			struct mbec_mode alt = *m;
			unsigned int w4;

			alt.cr0_wp = !m->cr0_wp;
			w4 = mbec_kvm_fault_acc(e->opts.layout, fl, &alt, want, t->req.error_code);
			if (sp->ev.access == w4 || sp->ev.access == (w4 & ~acc_write()))
				rule = NULL;
		}
	}
	if (!rule) {
		sp->role_verified = true;
		return;
	}
	ck_ev_txn(e, &b, t, fl);
	ev_spte(e, &b, s, sp, fl);
	if (show_acc)
		ev_add(&b, "  model: role.access should be %s, the role says %s\n",
		       ck_acc(e, want, a1), ck_acc(e, sp->ev.access, a2));
	ck_anomaly(e, MBEC_AN_ROLE, "role-vs-walk", &s->hdr, sp->ev.gfn, b.buf,
		   "%s (gfn 0x%" PRIx64 ")", rule, sp->ev.gfn);
}

/* The first role bit of @sp that @mode's flags disagree with, or NULL. */
static const char *role_vs_mode(struct mbec_check *e, const struct sp_info *sp,
				enum mbec_flavour fl, struct mbec_mode mode,
				struct mbec_role_flags *rf, bool *smep)
{
	/*
	 * A TDP page's role says whether KVM itself uses MBEC (EPT) or GMET
	 * (NPT) in its TDP tables (cr4_smep in the mbec layout): KVM's own
	 * setting, not the guest's CPU mode, which has no say in them.
	 */
	if (mbec_flavour_is_tdp(fl)) {
		mode.mbec = fl == MBEC_FL_TDP_EPT && e->opts.mbec;
		mode.gmet = fl == MBEC_FL_TDP_NPT && e->opts.mbec;
	}
	mbec_kvm_role_flags(e->opts.layout, fl, &mode, rf);
	*smep = e->opts.layout == MBEC_LAYOUT_MBEC ? rf->cr4_smep : rf->smep_andnot_wp;
	if (!!sp->ev.efer_nx != rf->efer_nx)
		return "efer_nx";
	if (!(sp->ev.flags & MBEC_SP_CR0_WP_UNKNOWN) && !!sp->ev.cr0_wp != rf->cr0_wp)
		return "cr0_wp";
	if ((sp->ev.flags & (MBEC_SP_HAS_CR4_SMEP | MBEC_SP_HAS_SMEP_ANDNOT_WP)) &&
	    !!sp->ev.smep != *smep)
		return e->opts.layout == MBEC_LAYOUT_MBEC ? "cr4_smep" : "smep_andnot_wp";
	if (!(sp->ev.flags & MBEC_SP_CR0_WP_UNKNOWN) &&
	    !!sp->ev.smap_andnot_wp != rf->smap_andnot_wp)
		return "smap_andnot_wp";
	return NULL;
}

void ck_role_expect(struct mbec_check *e, struct sp_info *sp)
{
	struct mbec_role_flags rf, alt_rf;
	enum mbec_flavour fl;
	const char *rule;
	struct evbuf b;
	char d[320];
	bool smep, alt_smep;
	unsigned int i;

	ev_init(&b);
	if (!e->opts.expect_mode_valid || sp->ev.guest_mode)
		return;
	fl = ck_flavour_of(e, sp, NULL);
	e->sum.roles_checked++;
	rule = role_vs_mode(e, sp, fl, e->opts.expect_mode, &rf, &smep);
	/* A mode the guest is known to switch to is as good (the workload's passes). */
	for (i = 0; rule && i < e->opts.nr_alt_modes && i < MBEC_CHECK_ALT_MODES; i++)
		if (!role_vs_mode(e, sp, fl, e->opts.alt_modes[i], &alt_rf, &alt_smep))
			return;
	if (!rule)
		return;
	ev_add(&b, "  get_page: gfn 0x%" PRIx64 " role %s%s\n", sp->ev.gfn,
	       ck_decode(e, DECODE_ROLE, sp->ev.role, false, d, sizeof(d)),
	       (sp->ev.flags & MBEC_SP_CREATED) ? " (created)" : "");
	ev_add(&b, "  guest mode: %d-level, CR0.WP=%d CR4.SMEP=%d CR4.SMAP=%d EFER.NX=%d\n",
	       e->opts.expect_mode.levels, e->opts.expect_mode.cr0_wp,
	       e->opts.expect_mode.cr4_smep, e->opts.expect_mode.cr4_smap,
	       e->opts.expect_mode.efer_nx);
	if (e->opts.nr_alt_modes)
		ev_add(&b, "  nor any of the %u modes the guest switches to (CR0.WP, CR4.SMEP/SMAP)\n",
		       e->opts.nr_alt_modes);
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

/* alt: the mode with the other CR0.WP when the role does not tell it, else NULL. */
static void check_progress(struct mbec_check *e, const struct mbec_txn *t,
			   const struct mbec_ev_set_spte *s, const struct sp_info *sp,
			   enum mbec_flavour fl, const struct mbec_mode *m,
			   const struct mbec_mode *alt)
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
	/* Only a fault under every CR0.WP the capture allows is a loop. */
	if (alt && !mbec_kvm_permission_fault(permissions_of(e, fl, alt), pfec, true, got))
		return;
	/* KVM write-protects shadowed guest page tables and emulates such writes. */
	if ((pfec & PFERR_WRITE) &&
	    ((t->req.flags & (MBEC_FAULT_WRITE_TO_SHADOW_PT)) ||
	     !(t->req.flags & MBEC_FAULT_MAP_WRITABLE) ||
	     is_write_protected_gfn(e, t->pid, t->req.gfn)))
		return;
	ck_ev_txn(e, &b, t, fl);
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
	struct sp_info *sp = ck_sp_of(e, s->sptep, &stale);
	enum mbec_flavour fl = ck_flavour_of(e, sp, t);
	enum spte_fmt fmt = ck_fmt_of(e, sp);
	enum mbec_coverage cov = MBEC_COV_NONE;
	enum mbec_cov_reason why = MBEC_COVR_NO_ROLE;
	unsigned int allowed = 0, esc;
	struct mbec_mode m, alt;
	/* A role rebuilt from text that does not print CR0.WP: both values are possible. */
	bool wp_unknown = sp && (sp->ev.flags & MBEC_SP_CR0_WP_UNKNOWN);
	unsigned int allowed_alt = 0;
	struct evbuf b;
	char a1[8], a2[8], a3[8];
	uint64_t gpte;
	int how;

	ev_init(&b);
	mode_of(e, fl, sp, faulting ? t : NULL, &m);
	alt = m;
	alt.cr0_wp = !m.cr0_wp;

	if (fmt == SPTE_FMT_IS_UNKNOWN) {
		/* Its permission bits cannot be read: only the format is checked. */
		why = MBEC_COVR_FMT_UNKNOWN;
	} else if (mbec_flavour_is_tdp(fl)) {
		allowed = mbec_kvm_compose_acc(e->opts.layout, fl, &m, NULL, 0);
		if (sp)
			allowed &= sp->ev.access;
		cov = MBEC_COV_FULL;
		why = fl == MBEC_FL_TDP_EPT ? MBEC_COVR_TDP_EPT : MBEC_COVR_TDP_NPT;
	} else if (faulting && walk_complete(fl, t)) {
		uint64_t leaf = t->pte[t->nelem - 1];

		allowed = mbec_kvm_compose_acc(e->opts.layout, fl, &m, t->pte, t->nelem);
		if (!(t->req.error_code & PFERR_WRITE) && fl != MBEC_FL_SHADOW_EPT &&
		    !(leaf & PTE_D))
			allowed &= ~acc_write();
		allowed_alt = mbec_kvm_fault_acc(e->opts.layout, fl, &alt, allowed,
						 t->req.error_code);
		allowed = mbec_kvm_fault_acc(e->opts.layout, fl, &m, allowed, t->req.error_code);
		if (!(t->req.flags & MBEC_FAULT_MAP_WRITABLE)) {
			allowed &= ~acc_write();
			allowed_alt &= ~acc_write();
		}
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
	e->sum.sptes_flavour[fmt == SPTE_FMT_IS_UNKNOWN ? MBEC_FL_NR : fl]++;
	if (e->on_spte)
		e->on_spte(e->on_spte_ctx, s, cov);

	/* Format holds whatever the coverage; kvm_mmu_set_spte installs leaves only. */
	ck_check_format(e, fmt, fl, s->spte, true, &s->hdr, t, NULL, "set_spte");

	if (faulting && (t->have & MBEC_TXN_REQ) && fmt != SPTE_FMT_IS_UNKNOWN)
		check_progress(e, t, s, sp, fl, &m, wp_unknown ? &alt : NULL);

	if (cov == MBEC_COV_NONE || !(s->spte & SPTE_MMU_PRESENT))
		return;
	allowed = perturb(e, allowed);
	esc = mbec_kvm_acc_escalation(e->opts.layout, fl, &m, allowed, s->spte);
	if (!esc)
		return;
	/* An escalation only if the other CR0.WP (when not known) gives one too. */
	if (wp_unknown && why == MBEC_COVR_WALK &&
	    !mbec_kvm_acc_escalation(e->opts.layout, fl, &alt, perturb(e, allowed_alt), s->spte))
		return;
	ck_ev_txn(e, &b, t, fl);
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

void ck_on_txn(void *ctx, const struct mbec_txn *t)
{
	struct mbec_check *e = ctx;
	int i, faulting = -1;

	e->judging_incomplete = t->incomplete;
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
	ck_check_exit_qual(e, t);
	ck_check_repeat(e, t);
	if (t->have & MBEC_TXN_FAST) {
		bool stale;
		struct sp_info *sp = ck_sp_of(e, t->fast.sptep, &stale);

		/*
		 * fast_page_fault's SPTE is the last one of KVM's walk: not
		 * present, or a leaf.  Its shadow page, when known, gives its
		 * format and flavour.
		 */
		ck_check_format(e, ck_fmt_of(e, sp), ck_flavour_of(e, sp, t), t->fast.new_spte,
				true, &t->fast.hdr, t, NULL, "fast_page_fault new SPTE");
	}
	e->judging_incomplete = false;
}

void ck_guest_pte(struct mbec_check *e, const struct mbec_ev_guest_pte *g)
{
	uint64_t *v = u64map_put(&e->guest_ptes, wp_key(g->hdr.pid, g->entry_gpa));

	if (v)
		*v = g->pte;
}
