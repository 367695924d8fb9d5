// SPDX-License-Identifier: GPL-2.0
/*
 * The check engine on every MMU flavour and on captures that do not say
 * everything: rules about leaves apply to leaves (TDP non-leaf SPTEs are
 * writable and never MMU-writable), a 32-bit fault error code (6.1), a
 * VMX exit qualification that kvm_exit saw before KVM read it, SPTEs of
 * a format the capture does not tell.  Each rule must stay quiet on what
 * KVM really does and still fire on bad input.
 */
#include "check_feed.h"
#include "tap.h"

/* A valid classic EPT leaf: RWX, write-back, MMU- and host-writable. */
#define EPT_LEAF	(EPTE_R | EPTE_W | EPTE_X | SPTE_MMU_PRESENT | (6ULL << 3) | \
			 CLASSIC_SPTE_EPT_MMU_WRITABLE | CLASSIC_SPTE_EPT_HOST_WRITABLE)
/* What KVM links a child table with: RWX, never MMU-writable. */
#define EPT_NONLEAF	(EPTE_R | EPTE_W | EPTE_X | SPTE_MMU_PRESENT)
/* NPT (legacy format): a writable leaf, and a non-leaf entry. */
#define NPT_LEAF	(PTE_P | PTE_RW | PTE_US | PTE_A | PTE_D | SPTE_MMU_PRESENT | \
			 SPTE_LEGACY_MMU_WRITABLE | SPTE_LEGACY_HOST_WRITABLE)
#define NPT_NONLEAF	(PTE_P | PTE_RW | PTE_US | PTE_A | SPTE_MMU_PRESENT)

static struct mbec_check *engine(bool ept, bool fmt_unknown)
{
	struct mbec_check_opts o = { .layout = MBEC_LAYOUT_CLASSIC, .spte_ept = ept,
				     .spte_fmt_unknown = fmt_unknown };

	return mbec_check_new(&o);
}

static uint64_t total(struct mbec_check *e)
{
	const struct mbec_check_summary *s;
	unsigned int c, n, i;

	mbec_check_finish(e);
	s = mbec_check_summary(e);
	for (c = 0; c < MBEC_AN_NR; c++) {
		const struct mbec_anomaly *a = mbec_check_anomalies(e, c, &n);

		for (i = 0; i < n; i++)
			diag("%s: %s", mbec_anomaly_class_name(c), a[i].what);
	}
	return s->anomalies_total;
}

static void tdp_changed(struct mbec_check *e, int level, uint64_t old, uint64_t new)
{
	struct mbec_ev_tdp_spte_changed c;

	hdr(&c.hdr, MBEC_EV_TDP_SPTE_CHANGED, sizeof(c));
	c.gfn = 0x40;
	c.level = level;
	c.old_spte = old;
	c.new_spte = new;
	mbec_check_feed(e, &c, sizeof(c));
}

static void set_spte(struct mbec_check *e, uint64_t gfn, uint64_t spte)
{
	set_spte_at(e, SPT, gfn, spte);
}

static void fast_pf(struct mbec_check *e, uint64_t spte)
{
	struct mbec_ev_fast_page_fault f;

	hdr(&f.hdr, MBEC_EV_FAST_PAGE_FAULT, sizeof(f));
	f.addr = 0x40000;
	f.error_code = PFERR_WRITE | PFERR_PRESENT;
	f.old_spte = spte & ~EPTE_W;
	f.new_spte = spte;
	f.sptep = SPT + 0x200;
	mbec_check_feed(e, &f, sizeof(f));
}

static void exit_rec(struct mbec_check *e, unsigned int isa, uint32_t reason, uint64_t info1,
		     uint32_t extra_flags)
{
	struct mbec_ev_exit x;

	hdr(&x.hdr, MBEC_EV_EXIT, sizeof(x));
	x.isa = isa;
	x.reason = reason;
	x.info1 = info1;
	x.flags = MBEC_EXIT_HAS_REASON | MBEC_EXIT_HAS_INFO |
		  (isa == 1 ? MBEC_EXIT_VMX : MBEC_EXIT_SVM) | extra_flags;
	mbec_check_feed(e, &x, sizeof(x));
}

static void page_fault(struct mbec_check *e, uint64_t ec)
{
	struct mbec_ev_page_fault pf;

	hdr(&pf.hdr, MBEC_EV_PAGE_FAULT, sizeof(pf));
	pf.address = 0x40000;
	pf.error_code = ec;
	mbec_check_feed(e, &pf, sizeof(pf));
}

static void test_nonleaf(void)
{
	struct mbec_check *e;

	e = engine(false, false);
	tdp_changed(e, 3, 0, NPT_NONLEAF | (0x1234ULL << 12));
	tdp_changed(e, 2, 0, NPT_NONLEAF | (0x1235ULL << 12));
	tdp_changed(e, 1, 0, NPT_LEAF | (0x1236ULL << 12));
	ok(total(e) == 0, "NPT: non-leaf TDP SPTEs (writable, not MMU-writable) are fine");
	mbec_check_free(e);

	e = engine(false, false);
	tdp_changed(e, 1, 0, NPT_NONLEAF | (0x1236ULL << 12));
	ok(mbec_check_summary(e)->anomalies[MBEC_AN_FORMAT] == 1,
	   "NPT: the same value as a 4K leaf fires (writable without MMU-writable)");
	tdp_changed(e, 2, 0, NPT_NONLEAF | PTE_PS | (0x1200ULL << 12));
	ok(mbec_check_summary(e)->anomalies[MBEC_AN_FORMAT] == 2,
	   "NPT: and as a 2M leaf (PS set)");
	tdp_changed(e, 3, 0, (NPT_NONLEAF & ~PTE_P) | (0x1234ULL << 12));
	ok(mbec_check_summary(e)->anomalies[MBEC_AN_FORMAT] == 3,
	   "NPT: a non-leaf without P still fires");
	mbec_check_free(e);

	e = engine(true, false);
	tdp_changed(e, 4, 0, EPT_NONLEAF | (0x1234ULL << 12));
	tdp_changed(e, 1, 0, EPT_LEAF | (0x1236ULL << 12));
	ok(total(e) == 0, "EPT: non-leaf TDP SPTEs are fine");
	mbec_check_free(e);

	e = engine(true, false);
	tdp_changed(e, 1, 0, EPT_NONLEAF | (0x1236ULL << 12));
	tdp_changed(e, 3, 0, (EPT_NONLEAF & ~EPTE_R) | (0x1234ULL << 12));
	ok(mbec_check_summary(e)->anomalies[MBEC_AN_FORMAT] == 2,
	   "EPT: the non-leaf value as a leaf fires, W without R fires at any level");
	mbec_check_free(e);
}

static void test_ec32(void)
{
	/* #NPF of a final translation: EXITINFO1 bit 32, which a u32 cannot hold. */
	uint64_t info1 = PFERR_USER | PFERR_WRITE | PFERR_PRESENT | PFERR_GUEST_FINAL;
	struct mbec_check *e;

	e = engine(false, false);
	exit_rec(e, 2, SVM_EXIT_NPF, info1, 0);
	page_fault(e, info1);
	req(e, 0x40, info1 & 0xffffffffULL, MBEC_FAULT_IS_TDP | MBEC_FAULT_EC32);
	ok(total(e) == 0 && mbec_check_summary(e)->exits_checked == 1 &&
	   mbec_check_summary(e)->exits_low32 == 1,
	   "6.1's 32-bit error code: #NPF compared in bits 31:0, and counted so");
	mbec_check_free(e);

	e = engine(false, false);
	exit_rec(e, 2, SVM_EXIT_NPF, info1, 0);
	page_fault(e, info1);
	req(e, 0x40, info1 & 0xffffffffULL, MBEC_FAULT_IS_TDP);
	ok(total(e) == 1 && mbec_check_summary(e)->anomalies[MBEC_AN_EXIT_QUAL] == 1,
	   "a 64-bit error code without bit 32 still fires");
	mbec_check_free(e);

	e = engine(false, false);
	exit_rec(e, 2, SVM_EXIT_NPF, info1, 0);
	page_fault(e, info1);
	req(e, 0x40, (info1 & 0xffffffffULL) & ~PFERR_WRITE, MBEC_FAULT_IS_TDP | MBEC_FAULT_EC32);
	ok(total(e) == 1, "a 32-bit error code that differs in bits 31:0 still fires");
	mbec_check_free(e);

	/* VMX on 6.1: GUEST_FINAL (bit 32) cannot reach the u32. */
	e = engine(true, false);
	exit_rec(e, 1, EXIT_REASON_EPT_VIOLATION,
		 EPT_VIOL_ACC_READ | EPT_VIOL_GVA_IS_VALID | EPT_VIOL_GVA_TRANSLATED,
		 MBEC_EXIT_INFO1_FRESH);
	page_fault(e, EPT_VIOL_ACC_READ | EPT_VIOL_GVA_IS_VALID | EPT_VIOL_GVA_TRANSLATED);
	req(e, 0x40, PFERR_USER, MBEC_FAULT_IS_TDP | MBEC_FAULT_EC32);
	ok(total(e) == 0 && mbec_check_summary(e)->exits_low32 == 1,
	   "EPT on 6.1: GUEST_FINAL not expected of a 32-bit error code");
	mbec_check_free(e);
}

static void test_vmx_stale(void)
{
	uint64_t read = EPT_VIOL_ACC_READ | EPT_VIOL_GVA_IS_VALID | EPT_VIOL_GVA_TRANSLATED;
	uint64_t write = EPT_VIOL_ACC_WRITE | EPT_VIOL_PROT_READ | EPT_VIOL_GVA_IS_VALID |
			 EPT_VIOL_GVA_TRANSLATED;
	struct mbec_check *e;

	/* kvm_exit saw the previous exit's write (not known fresh); this exit is a read. */
	e = engine(true, false);
	exit_rec(e, 1, EXIT_REASON_EPT_VIOLATION, write, 0);
	page_fault(e, read);
	req(e, 0x40, PFERR_USER | PFERR_GUEST_FINAL, MBEC_FAULT_IS_TDP);
	ok(total(e) == 0 && mbec_check_summary(e)->exits_qual_from_pf == 1,
	   "a stale kvm_exit qualification: kvm_page_fault's is used, and counted");
	mbec_check_free(e);

	e = engine(true, false);
	exit_rec(e, 1, EXIT_REASON_EPT_VIOLATION, write, MBEC_EXIT_INFO1_FRESH);
	page_fault(e, read);
	req(e, 0x40, PFERR_USER | PFERR_GUEST_FINAL, MBEC_FAULT_IS_TDP);
	ok(total(e) == 1, "a fresh kvm_exit qualification unlike kvm_page_fault's still fires");
	mbec_check_free(e);

	e = engine(true, false);
	exit_rec(e, 1, EXIT_REASON_EPT_VIOLATION, read, 0);
	page_fault(e, write);
	req(e, 0x40, PFERR_USER | PFERR_GUEST_FINAL, MBEC_FAULT_IS_TDP);
	ok(total(e) == 1, "the error code is judged by kvm_page_fault's qualification: fires");
	mbec_check_free(e);

	e = engine(true, false);
	exit_rec(e, 1, EXIT_REASON_EPT_VIOLATION, write, 0);
	req(e, 0x40, PFERR_USER | PFERR_GUEST_FINAL, MBEC_FAULT_IS_TDP);
	ok(total(e) == 0 && mbec_check_summary(e)->exits_checked == 0 &&
	   mbec_check_summary(e)->exits_unchecked == 1,
	   "no current qualification at all: not checked, and counted so");
	mbec_check_free(e);
}

/* The mbec layout with MBEC off: KVM takes no PFERR_USER from bit 9. */
static unsigned int mbec_off_user_read(uint64_t kvm_error_code)
{
	struct mbec_check_opts o = { .layout = MBEC_LAYOUT_MBEC, .spte_ept = true };
	uint64_t qual = EPT_VIOL_ACC_READ | EPT_VIOL_GVA_IS_VALID | EPT_VIOL_GVA_TRANSLATED |
			EPT_VIOL_GVA_USER;
	struct mbec_check *e = mbec_check_new(&o);
	unsigned int n;

	exit_rec(e, 1, EXIT_REASON_EPT_VIOLATION, qual, MBEC_EXIT_INFO1_FRESH);
	page_fault(e, qual);
	req(e, 0x40, kvm_error_code, MBEC_FAULT_IS_TDP);
	n = (unsigned int)total(e) + (mbec_check_summary(e)->exits_checked == 1 ? 0 : 100);
	mbec_check_free(e);
	return n;
}

static void test_mbec_off_user(void)
{
	ok(mbec_off_user_read(PFERR_GUEST_FINAL) == 0,
	   "mbec layout, MBEC off: a read of a user page gives no PFERR_USER, as KVM does");
	ok(mbec_off_user_read(PFERR_USER | PFERR_GUEST_FINAL) == 1,
	   "exit-qual fires: PFERR_USER from bit 9 while the MMU has no MBEC");
}

static void shadow_page(struct mbec_check *e, bool wp_unknown);

static void test_format_evidence(void)
{
	/* Bad as EPT (W without MMU-writable) and as legacy (W without bit 10). */
	uint64_t bad = EPT_LEAF & ~CLASSIC_SPTE_EPT_MMU_WRITABLE;
	const struct mbec_check_summary *s;
	struct mbec_check *e;

	/* EPT known, no shadow page seen: the EPT rules, never the legacy ones. */
	e = engine(true, false);
	req(e, 0x40, PFERR_WRITE, MBEC_FAULT_WRITE);
	set_spte(e, 0x40, EPT_LEAF);
	fast_pf(e, EPT_LEAF);
	ok(total(e) == 0, "EPT without a shadow page: set_spte and fast_page_fault read as EPT");
	mbec_check_free(e);

	e = engine(true, false);
	fast_pf(e, bad);
	ok(total(e) == 1, "EPT: fast_page_fault's bad SPTE still fires");
	mbec_check_free(e);

	/* Nothing says which format. */
	e = engine(false, true);
	req(e, 0x40, PFERR_WRITE, MBEC_FAULT_WRITE | MBEC_FAULT_IS_TDP);
	set_spte(e, 0x40, EPT_LEAF);
	fast_pf(e, EPT_LEAF);
	s = mbec_check_summary(e);
	ok(total(e) == 0 && s->cov_reason[MBEC_COV_NONE][MBEC_COVR_FMT_UNKNOWN] == 1 &&
	   s->sptes_flavour[MBEC_FL_NR] == 1,
	   "format unknown: a valid EPT SPTE is fine, counted as format unknown");
	mbec_check_free(e);

	e = engine(false, true);
	set_spte(e, 0x40, NPT_LEAF);
	ok(total(e) == 0, "format unknown: a valid legacy SPTE is fine");
	mbec_check_free(e);

	e = engine(false, true);
	set_spte(e, 0x40, bad);
	ok(total(e) == 1, "format unknown: what is wrong in both formats fires");
	mbec_check_free(e);

	/* An EPT violation tells: from then on the EPT rules apply in full. */
	e = engine(false, true);
	exit_rec(e, 1, EXIT_REASON_EPT_VIOLATION, EPT_VIOL_ACC_READ, 0);
	set_spte(e, 0x41, EPT_LEAF);
	set_spte(e, 0x42, EPT_LEAF & ~CLASSIC_SPTE_EPT_HOST_WRITABLE);
	s = mbec_check_summary(e);
	ok(total(e) == 1 && s->cov_reason[MBEC_COV_NONE][MBEC_COVR_FMT_UNKNOWN] == 0,
	   "an EPT violation makes the format EPT: MMU-writable without host-writable fires");
	mbec_check_free(e);

	/* A shadow page of the guest's own tables tells TDP is off: legacy. */
	e = engine(true, true);
	shadow_page(e, false);
	set_spte_at(e, SPT + 0x20000, 0x241, NPT_LEAF);
	set_spte_at(e, SPT + 0x20000, 0x242, EPT_LEAF);
	ok(total(e) == 1 && mbec_check_summary(e)->sptes_flavour[MBEC_FL_NR] == 0,
	   "a shadow page of guest tables makes the format legacy, for SPTEs of other pages too");
	mbec_check_free(e);

	/* An #NPF tells legacy. */
	e = engine(true, true);
	exit_rec(e, 2, SVM_EXIT_NPF, PFERR_PRESENT, 0);
	set_spte(e, 0x41, NPT_LEAF);
	set_spte(e, 0x42, EPT_LEAF);
	ok(total(e) == 1, "an #NPF makes the format legacy: an EPT-looking value fires");
	mbec_check_free(e);
}

static void elem(struct mbec_check *e, int level, uint64_t pte)
{
	struct mbec_ev_paging_element p;

	hdr(&p.hdr, MBEC_EV_PAGING_ELEMENT, sizeof(p));
	p.level = level;
	p.pte = pte;
	mbec_check_feed(e, &p, sizeof(p));
}

static void walk_start(struct mbec_check *e, uint64_t addr, uint32_t pferr)
{
	struct mbec_ev_walk w;

	hdr(&w.hdr, MBEC_EV_PAGETABLE_WALK, sizeof(w));
	w.addr = addr;
	w.pferr = pferr;
	mbec_check_feed(e, &w, sizeof(w));
}

/* A user write whose SPTE is read-only: a fault loop in the making. */
static void write_fault_ro_spte(struct mbec_check *e, bool with_walk)
{
	uint64_t gpte = PTE_P | PTE_RW | PTE_US | PTE_A | PTE_D | (0x40ULL << 12);
	int lvl;

	if (with_walk)
		walk_start(e, 0x40000, PFERR_WRITE | PFERR_USER);
	for (lvl = 2; lvl >= 1; lvl--)
		elem(e, lvl, lvl == 1 ? gpte : PTE_P | PTE_RW | PTE_US | PTE_A | (0x101ULL << 12));
	req(e, 0x40, PFERR_WRITE | PFERR_USER, MBEC_FAULT_WRITE | MBEC_FAULT_USER);
	set_spte(e, 0x40, PTE_P | PTE_US | PTE_A | SPTE_MMU_PRESENT | SPTE_LEGACY_HOST_WRITABLE);
}

static void test_incomplete(void)
{
	const struct mbec_check_summary *s;
	struct mbec_ev_lost l;
	struct mbec_check *e;

	/* A capture that lost the walk's start without saying so ("of 0x0 for 0x0"). */
	e = engine(false, false);
	write_fault_ro_spte(e, false);
	s = mbec_check_summary(e);
	ok(total(e) == 0 && s->inconclusive[MBEC_AN_NO_PROGRESS] == 1 && s->lost_inferred == 1,
	   "walk start lost: the no-progress finding is inconclusive, the hole a lost event");
	ok(mbec_check_inconclusive(e) && !strcmp(mbec_check_inconclusive(e)->rule,
						 "spte-denies-fault"),
	   "the inconclusive finding is kept for the summary");
	mbec_check_free(e);

	e = engine(false, false);
	write_fault_ro_spte(e, true);
	s = mbec_check_summary(e);
	ok(total(e) == 1 && s->anomalies[MBEC_AN_NO_PROGRESS] == 1 && !s->inconclusive_total &&
	   !s->lost_inferred, "the same fault with its walk is an anomaly");
	mbec_check_free(e);

	/* A loss already announced is not counted twice. */
	e = engine(false, false);
	hdr(&l.hdr, MBEC_EV_LOST, sizeof(l));
	l.count = 5;
	mbec_check_feed(e, &l, sizeof(l));
	write_fault_ro_spte(e, false);
	s = mbec_check_summary(e);
	ok(total(e) == 0 && s->lost_events == 5 && s->lost_inferred == 0 &&
	   s->inconclusive_total == 1, "after a LOST record the hole is not counted again");
	mbec_check_free(e);

	/* A bad SPTE value stays an anomaly whatever was lost around it. */
	e = engine(false, false);
	elem(e, 1, PTE_P);
	set_spte(e, 0x40, NPT_LEAF & ~SPTE_LEGACY_MMU_WRITABLE);
	ok(total(e) == 1 && mbec_check_summary(e)->anomalies[MBEC_AN_FORMAT] == 1,
	   "format anomalies are judged by the value alone");
	mbec_check_free(e);
}

/* Workload pages are accounted by every SPTE that maps them, 2M ones included. */
static void test_spte_pages(void)
{
	ok(mbec_spte_covers(0x200, 2, 0x2ff000, 0x1000) && mbec_spte_covers(0x200, 2, 0x200000, 0x1000),
	   "a 2M SPTE maps every 4K page of its 2M");
	ok(!mbec_spte_covers(0x200, 2, 0x400000, 0x1000) && !mbec_spte_covers(0x200, 2, 0x1ff000, 0x1000),
	   "and none outside it");
	ok(mbec_spte_covers(0x2ff, 1, 0x2ff000, 0x1000) && !mbec_spte_covers(0x2ff, 1, 0x2fe000, 0x1000),
	   "a 4K SPTE maps its own page only");
	ok(mbec_spte_covers(0x300, 1, 0x200000, 0x200000),
	   "a 4K SPTE maps part of a 2M page");
	ok(!mbec_spte_covers(0x200, 0, 0x200000, 0x1000) && !mbec_spte_covers(0x200, 6, 0x200000, 0x1000),
	   "a level out of range maps nothing");
}

/* A shadow page (legacy, 4K level) whose role's CR0.WP may be a guess. */
static void shadow_page(struct mbec_check *e, bool wp_unknown)
{
	struct mbec_ev_get_page g;

	hdr(&g.hdr, MBEC_EV_GET_PAGE, sizeof(g));
	g.sp = SPT + 0x10000;
	g.spt = SPT;
	g.gfn = 0x101;
	g.level = 1;
	g.access = CLASSIC_ACC_ALL;
	g.efer_nx = 1;
	g.cr0_wp = 1;
	g.role = 1 | (CLASSIC_ACC_ALL << 8) | (1 << 12) | (1 << 13);
	g.flags = MBEC_SP_CREATED | MBEC_SP_HAS_SMEP_ANDNOT_WP |
		  (wp_unknown ? MBEC_SP_CR0_WP_UNKNOWN : 0);
	mbec_check_feed(e, &g, sizeof(g));
}

/* A supervisor write to a read-only user page, and the SPTE KVM installed for it. */
static void supervisor_write(struct mbec_check *e, uint64_t spte)
{
	int lvl;

	walk_start(e, 0x40000, PFERR_WRITE);
	for (lvl = 4; lvl >= 1; lvl--)
		elem(e, lvl, lvl == 1 ? PTE_P | PTE_US | PTE_A | PTE_D | (0x40ULL << 12) :
			     PTE_P | PTE_RW | PTE_US | PTE_A | ((0x100ULL + lvl) << 12));
	req(e, 0x40, PFERR_WRITE, MBEC_FAULT_WRITE);
	set_spte(e, 0x40, spte);
}

static void test_cr0_wp_unknown(void)
{
	/* What KVM installs when the guest runs with CR0.WP=0: W, and no U. */
	uint64_t wp0 = PTE_P | PTE_A | PTE_RW | SPTE_MMU_PRESENT | SPTE_LEGACY_HOST_WRITABLE |
		       SPTE_LEGACY_MMU_WRITABLE;
	struct mbec_check *e;

	e = engine(false, false);
	shadow_page(e, true);
	supervisor_write(e, wp0);
	ok(total(e) == 0, "CR0.WP not in the text: the SPTE of a WP=0 supervisor write is fine");
	mbec_check_free(e);

	e = engine(false, false);
	shadow_page(e, false);
	supervisor_write(e, wp0);
	ok(total(e) == 1 && mbec_check_summary(e)->anomalies[MBEC_AN_ESCALATION] == 1,
	   "a role that says CR0.WP=1: the same SPTE fires");
	mbec_check_free(e);

	e = engine(false, false);
	shadow_page(e, true);
	supervisor_write(e, wp0 | PTE_US);
	ok(total(e) == 1 && mbec_check_summary(e)->anomalies[MBEC_AN_ESCALATION] == 1,
	   "CR0.WP not known: W with U is wrong under both values and fires");
	mbec_check_free(e);
}

/*
 * A TDP root on EPT in the mbec layout: role.cr4_smep says whether KVM
 * uses MBEC in its own tables (kvm_intel.mbec), whatever the guest's CR4.
 */
static unsigned int tdp_root_role_anomalies(bool kvm_mbec, bool smep)
{
	struct mbec_check_opts o = { .layout = MBEC_LAYOUT_MBEC, .spte_ept = true,
				     .mbec = kvm_mbec, .expect_mode_valid = true };
	struct mbec_ev_get_page g = { 0 };
	struct mbec_check *e;
	unsigned int n;

	o.expect_mode.mmu = MBEC_MMU_LEGACY;
	o.expect_mode.levels = 4;
	o.expect_mode.cr0_wp = true;
	o.expect_mode.efer_nx = true;	/* and CR4.SMEP=0 */
	e = mbec_check_new(&o);
	hdr(&g.hdr, MBEC_EV_GET_PAGE, sizeof(g));
	g.sp = SPT + 0x10000;
	g.spt = SPT;
	g.level = 4;
	g.direct = 1;
	g.access = MBEC_ACC_READ | MBEC_ACC_WRITE | MBEC_ACC_USER | MBEC_ACC_EXEC;
	g.efer_nx = 1;
	g.cr0_wp = 1;
	g.smep = smep;
	g.flags = MBEC_SP_CREATED | MBEC_SP_TDP_MMU | MBEC_SP_HAS_CR4_SMEP;
	mbec_check_feed(e, &g, sizeof(g));
	total(e);
	n = mbec_check_summary(e)->anomalies[MBEC_AN_ROLE] +
	    (mbec_check_summary(e)->roles_checked == 1 ? 0 : 100);
	mbec_check_free(e);
	return n;
}

static void test_tdp_role_mbec(void)
{
	ok(tdp_root_role_anomalies(true, true) == 0,
	   "TDP root with kvm_intel.mbec=1: cr4_smep=1 under a guest without SMEP is right");
	ok(tdp_root_role_anomalies(false, false) == 0,
	   "TDP root without MBEC: cr4_smep=0 is right");
	ok(tdp_root_role_anomalies(true, false) == 1,
	   "role fires: a TDP root without cr4_smep while KVM uses MBEC");
	ok(tdp_root_role_anomalies(false, true) == 1,
	   "role fires: a TDP root with cr4_smep while KVM does not use MBEC");
}

/*
 * L2 on a shadow EPT MMU, kvm_intel.mbec=1: whether the MMU uses MBEC is
 * the L1 hypervisor's choice (its VMCS12), kept in role.cr4_smep.  With it
 * off, XU gives no user execute (role.access rw-x under entries with XU)
 * and bit 9 of the qualification no PFERR_USER, as KVM does (the lab's
 * nested workload on Bochs 3.0, the control passes).  Returns role
 * anomalies + 10 x exit-qual anomalies (+ 100 when not both checked).
 */
static unsigned int shadow_ept_mbec_anomalies(bool l1_mbec, unsigned int access, uint64_t ec)
{
	struct mbec_check_opts o = { .layout = MBEC_LAYOUT_MBEC, .spte_ept = true, .mbec = true };
	uint64_t qual = EPT_VIOL_ACC_READ | EPT_VIOL_GVA_IS_VALID | EPT_VIOL_GVA_TRANSLATED |
			EPT_VIOL_GVA_USER;
	uint64_t table = EPTE_R | EPTE_W | EPTE_XS | EPTE_XU;
	struct mbec_ev_get_page g = { 0 };
	const struct mbec_check_summary *sum;
	struct mbec_check *e = mbec_check_new(&o);
	unsigned int n;
	int lvl;

	hdr(&g.hdr, MBEC_EV_GET_PAGE, sizeof(g));
	g.sp = SPT + 0x10000;
	g.spt = SPT;
	g.gfn = 0x103;
	g.level = 1;
	g.access = access;
	g.cr0_wp = 1;
	g.guest_mode = 1;
	g.smep = l1_mbec;
	g.flags = MBEC_SP_CREATED | MBEC_SP_HAS_CR4_SMEP;
	mbec_check_feed(e, &g, sizeof(g));
	exit_rec(e, 1, EXIT_REASON_EPT_VIOLATION, qual, MBEC_EXIT_INFO1_FRESH);
	page_fault(e, qual);
	walk_start(e, 0x40000, 0);
	for (lvl = 4; lvl >= 1; lvl--)
		elem(e, lvl, lvl == 1 ? table | (6ULL << 3) | (0x40ULL << 12) :
			     table | ((0x100ULL + lvl) << 12));
	req(e, 0x40, ec, 0);
	set_spte(e, 0x40, EPTE_R | EPTE_W | EPTE_XS | (6ULL << 3) | SPTE_MMU_PRESENT |
			  MBEC_SPTE_EPT_MMU_WRITABLE | MBEC_SPTE_EPT_HOST_WRITABLE | (0x7d00ULL << 12));
	total(e);
	sum = mbec_check_summary(e);
	n = sum->anomalies[MBEC_AN_ROLE] + 10 * sum->anomalies[MBEC_AN_EXIT_QUAL] +
	    (sum->roles_checked == 1 && sum->exits_checked == 1 ? 0 : 100);
	mbec_check_free(e);
	return n;
}

static void test_shadow_ept_mbec(void)
{
	const unsigned int rwx = MBEC_ACC_READ | MBEC_ACC_WRITE | MBEC_ACC_EXEC;
	const uint64_t ec = PFERR_GUEST_FINAL;

	ok(shadow_ept_mbec_anomalies(false, rwx, ec) == 0,
	   "L1 without MBEC on shadow EPT: XU ignored, no PFERR_USER from bit 9, as KVM does");
	ok(shadow_ept_mbec_anomalies(false, MBEC_ACC_ALL, ec) == 1,
	   "role fires: user execute from XU while L1 has MBEC off");
	ok(shadow_ept_mbec_anomalies(false, rwx, ec | PFERR_USER) == 10,
	   "exit-qual fires: PFERR_USER from bit 9 while L1 has MBEC off");
	ok(shadow_ept_mbec_anomalies(true, MBEC_ACC_ALL, ec | PFERR_USER) == 0,
	   "L1 with MBEC on shadow EPT: XU gives user execute, bit 9 PFERR_USER");
	ok(shadow_ept_mbec_anomalies(true, rwx, ec | PFERR_USER) == 1,
	   "role fires: no user execute from XU while L1 has MBEC on");
	ok(shadow_ept_mbec_anomalies(true, MBEC_ACC_ALL, ec) == 10,
	   "exit-qual fires: no PFERR_USER from bit 9 while L1 has MBEC on");
}

int main(void)
{
	test_tdp_role_mbec();
	test_shadow_ept_mbec();
	test_mbec_off_user();
	test_cr0_wp_unknown();
	test_spte_pages();
	test_incomplete();
	test_nonleaf();
	test_ec32();
	test_vmx_stale();
	test_format_evidence();
	return done_testing();
}
