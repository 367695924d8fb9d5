// SPDX-License-Identifier: GPL-2.0
/*
 * Every rule of the check engine, fed synthetic event sequences: each one
 * must fire on bad input (with the right class) and stay quiet on the
 * good input next to it.
 */
#include "check_feed.h"
#include "tap.h"

/* Legacy SPTE bits KVM sets on a present shadow SPTE. */
#define L_PRESENT	(PTE_P | PTE_A | SPTE_MMU_PRESENT | SPTE_LEGACY_HOST_WRITABLE)
#define L_W		(PTE_RW | SPTE_LEGACY_MMU_WRITABLE)
/* Guest entries: a table entry granting everything, leaves below. */
#define G_TABLE(pfn)	(PTE_P | PTE_RW | PTE_US | PTE_A | ((uint64_t)(pfn) << 12))

static void get_page(struct mbec_check *e, uint64_t spt, uint64_t gfn, int level,
		     unsigned int access, bool direct, bool efer_nx)
{
	struct mbec_ev_get_page g;

	hdr(&g.hdr, MBEC_EV_GET_PAGE, sizeof(g));
	g.sp = spt + 0x10000;
	g.spt = spt;
	g.gfn = gfn;
	g.level = level;
	g.access = access;
	g.direct = direct;
	g.efer_nx = efer_nx;
	g.cr0_wp = 1;
	g.role = level | (direct << 7) | (access << 8) | (efer_nx << 12) | (1 << 13);
	g.flags = MBEC_SP_CREATED | MBEC_SP_HAS_SMEP_ANDNOT_WP;
	mbec_check_feed(e, &g, sizeof(g));
}

/* A guest walk of addr: 4 entries, the leaf given. */
static void walk(struct mbec_check *e, uint64_t addr, uint32_t pferr, uint64_t leaf)
{
	struct mbec_ev_walk w;
	struct mbec_ev_paging_element p;
	int lvl;

	hdr(&w.hdr, MBEC_EV_PAGETABLE_WALK, sizeof(w));
	w.addr = addr;
	w.pferr = pferr;
	mbec_check_feed(e, &w, sizeof(w));
	for (lvl = 4; lvl >= 1; lvl--) {
		hdr(&p.hdr, MBEC_EV_PAGING_ELEMENT, sizeof(p));
		p.level = lvl;
		p.pte = lvl == 1 ? leaf : G_TABLE(0x100 + lvl);
		mbec_check_feed(e, &p, sizeof(p));
	}
}

static struct mbec_check *engine(enum mbec_layout layout, bool ept, bool mbec,
				 unsigned int repeat)
{
	struct mbec_check_opts o = { .layout = layout, .spte_ept = ept, .mbec = mbec,
				     .repeat_limit = repeat };

	return mbec_check_new(&o);
}

/* Finish and return the anomalies of a class (and say so when others came). */
static uint64_t count(struct mbec_check *e, enum mbec_anomaly_class cls)
{
	const struct mbec_check_summary *s;

	mbec_check_finish(e);
	s = mbec_check_summary(e);
	if (s->anomalies_total != s->anomalies[cls]) {
		unsigned int c, n, i;

		for (c = 0; c < MBEC_AN_NR; c++) {
			const struct mbec_anomaly *a = mbec_check_anomalies(e, c, &n);

			for (i = 0; i < n; i++)
				diag("unexpected %s: %s\n%s", mbec_anomaly_class_name(c), a[i].what, a[i].evidence);
		}
	}
	return s->anomalies[cls];
}

static uint64_t total(struct mbec_check *e)
{
	mbec_check_finish(e);
	return mbec_check_summary(e)->anomalies_total;
}

/* A fault on gfn 0x40 through a 4-level walk; leaf and SPTE given. */
static void fault(struct mbec_check *e, uint64_t leaf, uint64_t ec, uint64_t spte)
{
	walk(e, 0x40000, (uint32_t)ec, leaf);
	req(e, 0x40, ec, (ec & PFERR_WRITE ? MBEC_FAULT_WRITE : 0) |
		      (ec & PFERR_USER ? MBEC_FAULT_USER : 0) |
		      (ec & PFERR_FETCH ? MBEC_FAULT_EXEC : 0));
	set_spte_at(e, SPT, 0x40, spte);
}

static void test_escalation(void)
{
	struct mbec_check *e;
	uint64_t ro_leaf = PTE_P | PTE_US | PTE_A | PTE_D | (0x40ULL << 12);
	uint64_t nx_leaf = ro_leaf | PTE_RW | PTE_NX;

	e = engine(MBEC_LAYOUT_CLASSIC, false, false, 0);
	get_page(e, SPT, 0x101, 1, CLASSIC_ACC_ALL, false, true);
	fault(e, ro_leaf, PFERR_USER, L_PRESENT | PTE_US);
	ok(total(e) == 0, "escalation quiet: read-only guest page, read-only SPTE");
	ok(mbec_check_summary(e)->sptes[MBEC_COV_FULL] == 1, "the faulting SPTE is checked fully");
	mbec_check_free(e);

	e = engine(MBEC_LAYOUT_CLASSIC, false, false, 0);
	get_page(e, SPT, 0x101, 1, CLASSIC_ACC_ALL, false, true);
	fault(e, ro_leaf, PFERR_USER, L_PRESENT | PTE_US | L_W);
	ok(count(e, MBEC_AN_ESCALATION) == 1, "escalation fires: SPTE grants W on a read-only walk");
	mbec_check_free(e);

	e = engine(MBEC_LAYOUT_CLASSIC, false, false, 0);
	get_page(e, SPT, 0x101, 1, CLASSIC_ACC_ALL, false, true);
	fault(e, nx_leaf, PFERR_USER, L_PRESENT | PTE_US | L_W);
	ok(count(e, MBEC_AN_ESCALATION) == 1, "escalation fires: SPTE executable on an NX walk");
	mbec_check_free(e);

	e = engine(MBEC_LAYOUT_CLASSIC, false, false, 0);
	get_page(e, SPT, 0x101, 1, CLASSIC_ACC_ALL, false, true);
	fault(e, nx_leaf & ~PTE_US, PFERR_WRITE, L_PRESENT | PTE_US | L_W | PTE_NX);
	ok(count(e, MBEC_AN_ESCALATION) == 1, "escalation fires: user SPTE for a supervisor page");
	mbec_check_free(e);

	/* Prefetch: only the role is known, a partial check. */
	e = engine(MBEC_LAYOUT_CLASSIC, false, false, 0);
	get_page(e, SPT, 0x101, 1, CLASSIC_ACC_USER | CLASSIC_ACC_EXEC, false, true);
	set_spte_at(e, SPT, 0x41, L_PRESENT | PTE_US);
	ok(total(e) == 0 && mbec_check_summary(e)->sptes[MBEC_COV_PARTIAL] == 1,
	   "escalation quiet: prefetched SPTE within the role (partial check)");
	mbec_check_free(e);

	e = engine(MBEC_LAYOUT_CLASSIC, false, false, 0);
	get_page(e, SPT, 0x101, 1, CLASSIC_ACC_USER | CLASSIC_ACC_EXEC, false, true);
	set_spte_at(e, SPT, 0x41, L_PRESENT | PTE_US | L_W);
	ok(count(e, MBEC_AN_ESCALATION) == 1, "escalation fires: prefetched SPTE beyond role.access");
	mbec_check_free(e);

	/* Prefetch with the guest entry known (GUEST_PTE record): a full check. */
	e = engine(MBEC_LAYOUT_CLASSIC, false, false, 0);
	{
		struct mbec_ev_guest_pte g;

		hdr(&g.hdr, MBEC_EV_GUEST_PTE, sizeof(g));
		g.entry_gpa = (0x101ULL << 12) + 0x41 * 8;
		g.pte = ro_leaf | PTE_NX;
		g.pte = (g.pte & ~PTE_PFN_MASK) | (0x41ULL << 12);
		g.level = 1;
		mbec_check_feed(e, &g, sizeof(g));
	}
	get_page(e, SPT, 0x101, 1, CLASSIC_ACC_ALL, false, true);
	fault(e, ro_leaf, PFERR_USER, L_PRESENT | PTE_US);
	set_spte_at(e, SPT, 0x41, L_PRESENT | PTE_US);
	ok(count(e, MBEC_AN_ESCALATION) == 1 &&
	   mbec_check_summary(e)->cov_reason[MBEC_COV_FULL][MBEC_COVR_GUEST_PTE] == 1,
	   "escalation fires: prefetched executable SPTE, the known guest entry says NX");
	mbec_check_free(e);
}


/*
 * n faults on gfn 0x40 that KVM did not set out to fix (an exit and
 * kvm_page_fault, no spte_requested: its retries), gap_ns apart.
 */
static void bare_faults(struct mbec_check *e, unsigned int n, uint64_t gap_ns)
{
	struct mbec_ev_page_fault pf;
	struct mbec_ev_exit x;

	while (n--) {
		now += gap_ns;
		hdr(&x.hdr, MBEC_EV_EXIT, sizeof(x));
		mbec_check_feed(e, &x, sizeof(x));
		hdr(&pf.hdr, MBEC_EV_PAGE_FAULT, sizeof(pf));
		pf.address = 0x40000;
		pf.error_code = PFERR_USER;
		mbec_check_feed(e, &pf, sizeof(pf));
	}
}
static void test_no_progress(void)
{
	struct mbec_check *e;
	uint64_t rw_leaf = PTE_P | PTE_RW | PTE_US | PTE_A | PTE_D | (0x40ULL << 12);
	int i, k;

	e = engine(MBEC_LAYOUT_CLASSIC, false, false, 0);
	get_page(e, SPT, 0x101, 1, CLASSIC_ACC_ALL, false, true);
	fault(e, rw_leaf, PFERR_USER | PFERR_WRITE, L_PRESENT | PTE_US | L_W);
	ok(total(e) == 0, "no-progress quiet: a write fault gets a writable SPTE");
	mbec_check_free(e);

	e = engine(MBEC_LAYOUT_CLASSIC, false, false, 0);
	get_page(e, SPT, 0x101, 1, CLASSIC_ACC_ALL, false, true);
	fault(e, rw_leaf, PFERR_USER | PFERR_WRITE, L_PRESENT | PTE_US);
	ok(count(e, MBEC_AN_NO_PROGRESS) == 1,
	   "no-progress fires: the SPTE for a write fault is read-only");
	{
		unsigned int n;
		const struct mbec_anomaly *a = mbec_check_anomalies(e, MBEC_AN_NO_PROGRESS, &n);

		ok(n == 1 && a[0].has_gfn && a[0].gfn == 0x40, "the anomaly names its GFN (0x40)");
	}
	mbec_check_free(e);

	e = engine(MBEC_LAYOUT_CLASSIC, false, false, 0);
	get_page(e, SPT, 0x101, 1, CLASSIC_ACC_ALL, false, true);
	get_page(e, SPT + 0x1000, 0x40, 1, CLASSIC_ACC_ALL, false, true); /* gfn 0x40 is a guest table */
	fault(e, rw_leaf, PFERR_USER | PFERR_WRITE, L_PRESENT | PTE_US);
	ok(total(e) == 0, "no-progress quiet: a write-protected guest page table is emulated");
	mbec_check_free(e);

	e = engine(MBEC_LAYOUT_CLASSIC, false, false, 0);
	get_page(e, SPT, 0x101, 1, CLASSIC_ACC_ALL, false, true);
	fault(e, rw_leaf, PFERR_USER | PFERR_FETCH, L_PRESENT | PTE_US | L_W | PTE_NX);
	ok(count(e, MBEC_AN_NO_PROGRESS) == 1, "no-progress fires: fetch fault, NX SPTE");
	mbec_check_free(e);

	/*
	 * Shadow pages of two modes in one engine, alternating: without
	 * EFER.NX a fetch does not fault on NX, so only the NXE page's fault
	 * is a no-progress.  The engine caches the permission bitmask of the
	 * last mode; a stale one would give 0 or 3 here and 1 or 3 below.
	 */
	{
		static const bool order[2][3] = { { false, true, false }, { true, false, true } };
		unsigned int k, j;

		for (k = 0; k < 2; k++) {
			e = engine(MBEC_LAYOUT_CLASSIC, false, false, 0);
			get_page(e, SPT, 0x101, 1, CLASSIC_ACC_ALL, false, false);
			get_page(e, SPT + 0x2000, 0x102, 1, CLASSIC_ACC_ALL, false, true);
			for (j = 0; j < 3; j++) {
				uint64_t spt = order[k][j] ? SPT + 0x2000 : SPT;

				walk(e, 0x40000, PFERR_USER | PFERR_FETCH, rw_leaf);
				req(e, 0x40, PFERR_USER | PFERR_FETCH, MBEC_FAULT_USER | MBEC_FAULT_EXEC);
				set_spte_at(e, spt, 0x40, L_PRESENT | PTE_US | L_W | PTE_NX);
			}
			ok(count(e, MBEC_AN_NO_PROGRESS) == k + 1,
			   "no-progress follows each SPTE's mode: NXE %s: %u of 3 faults fire",
			   k ? "on, off, on" : "off, on, off", k + 1);
			mbec_check_free(e);
		}
	}

	e = engine(MBEC_LAYOUT_CLASSIC, false, false, 4);
	get_page(e, SPT, 0x101, 1, CLASSIC_ACC_ALL, false, true);
	for (i = 0; i < 3; i++)
		fault(e, rw_leaf, PFERR_USER, L_PRESENT | PTE_US);
	ok(total(e) == 0, "no-progress quiet: the same fault 3 times, limit 4");
	mbec_check_free(e);

	e = engine(MBEC_LAYOUT_CLASSIC, false, false, 4);
	get_page(e, SPT, 0x101, 1, CLASSIC_ACC_ALL, false, true);
	for (i = 0; i < 9; i++)
		fault(e, rw_leaf, PFERR_USER, L_PRESENT | PTE_US);
	ok(count(e, MBEC_AN_NO_PROGRESS) == 1,
	   "no-progress fires once: same vCPU, GPA and error code 9 times, limit 4");
	{
		unsigned int n;
		const struct mbec_anomaly *a = mbec_check_anomalies(e, MBEC_AN_NO_PROGRESS, &n);

		ok(n == 1 && !strcmp(a[0].rule, "fault-repeats") && !a[0].has_gfn,
		   "fault-repeats is about an address, not a GFN");
	}
	mbec_check_free(e);

	/*
	 * Records lost between two sightings of the same fault: others may
	 * have come between, so they are not "in a row".  The count starts
	 * over after each loss and fires again once 4 follow without one.
	 */
	e = engine(MBEC_LAYOUT_CLASSIC, false, false, 4);
	get_page(e, SPT, 0x101, 1, CLASSIC_ACC_ALL, false, true);
	for (i = 0; i < 9; i++) {
		struct mbec_ev_lost l;
		struct mbec_ev_exit x;

		fault(e, rw_leaf, PFERR_USER, L_PRESENT | PTE_US);
		/* The next exit closes the fault complete; the loss comes after. */
		hdr(&x.hdr, MBEC_EV_EXIT, sizeof(x));
		mbec_check_feed(e, &x, sizeof(x));
		hdr(&l.hdr, MBEC_EV_LOST, sizeof(l));
		l.count = 100;
		mbec_check_feed(e, &l, sizeof(l));
	}
	ok(total(e) == 0, "no-progress quiet: the same fault 9 times with records lost between each");
	get_page(e, SPT, 0x101, 1, CLASSIC_ACC_ALL, false, true);
	for (i = 0; i < 4; i++)
		fault(e, rw_leaf, PFERR_USER, L_PRESENT | PTE_US);
	ok(count(e, MBEC_AN_NO_PROGRESS) == 1,
	   "... and fires once 4 follow with no loss between (limit 4)");
	mbec_check_free(e);

	/*
	 * The same fault retried by KVM without spte_requested (RET_PF_RETRY
	 * while another thread's invalidation runs), 9 times between two
	 * it fixed: no loop of KVM's making.  The retries count where
	 * spte_requested is never traced (nothing tells them apart).
	 */
	for (k = 0; k < 2; k++) {
		e = engine(MBEC_LAYOUT_CLASSIC, false, false, 4);
		get_page(e, SPT, 0x101, 1, CLASSIC_ACC_ALL, false, true);
		if (k == 0)
			fault(e, rw_leaf, PFERR_USER, L_PRESENT | PTE_US);
		bare_faults(e, 9, 0);
		if (k == 0) {
			fault(e, rw_leaf, PFERR_USER, L_PRESENT | PTE_US);
			ok(total(e) == 0, "no-progress quiet: 9 retries without spte_requested "
			   "between two faults KVM fixed");
		} else {
			ok(count(e, MBEC_AN_NO_PROGRESS) == 1,
			   "no-progress fires on 9 bare faults where spte_requested is never traced");
		}
		mbec_check_free(e);
	}

	/*
	 * Retries that never end are KVM's loop all the same: 0.75 s apart,
	 * the 8th is past 5 s and fires (fault-retried); 9 within a moment
	 * do not.
	 */
	for (k = 0; k < 2; k++) {
		unsigned int nr;
		const struct mbec_anomaly *a;

		e = engine(MBEC_LAYOUT_CLASSIC, false, false, 4);
		get_page(e, SPT, 0x101, 1, CLASSIC_ACC_ALL, false, true);
		fault(e, rw_leaf, PFERR_USER, L_PRESENT | PTE_US);
		bare_faults(e, 9, k ? 750ULL * 1000 * 1000 : 0);	/* 0.75 s apart */
		if (k == 0) {
			ok(total(e) == 0, "no-progress quiet: 9 retries within a moment");
		} else {
			ok(count(e, MBEC_AN_NO_PROGRESS) == 1,
			   "no-progress fires on retries that go on past 5 s");
			a = mbec_check_anomalies(e, MBEC_AN_NO_PROGRESS, &nr);
			ok(nr == 1 && !strcmp(a[0].rule, "fault-retried") &&
			   strstr(a[0].what, "retried 8 times over 5250 ms"),
			   "  as fault-retried, with the count and the span: %s", nr ? a[0].what : "");
		}
		mbec_check_free(e);
	}
}

static void tdp_spte(struct mbec_check *e, uint64_t spte)
{
	struct mbec_ev_get_page g;

	hdr(&g.hdr, MBEC_EV_GET_PAGE, sizeof(g));
	g.spt = SPT;
	g.level = 1;
	g.direct = 1;
	g.access = MBEC_ACC_ALL;
	g.flags = MBEC_SP_TDP_MMU | MBEC_SP_HAS_CR4_SMEP;
	mbec_check_feed(e, &g, sizeof(g));
	req(e, 0x40, PFERR_WRITE | PFERR_GUEST_FINAL, MBEC_FAULT_IS_TDP | MBEC_FAULT_WRITE);
	set_spte_at(e, SPT, 0x40, spte);
}

static void tdp_changed(struct mbec_check *e, uint64_t old, uint64_t new)
{
	struct mbec_ev_tdp_spte_changed c;

	hdr(&c.hdr, MBEC_EV_TDP_SPTE_CHANGED, sizeof(c));
	c.gfn = 0x40;
	c.level = 1;
	c.old_spte = old;
	c.new_spte = new;
	mbec_check_feed(e, &c, sizeof(c));
}

static void test_format(void)
{
	uint64_t ept_ok = EPTE_R | EPTE_W | EPTE_XS | EPTE_XU | SPTE_MMU_PRESENT |
			  MBEC_SPTE_EPT_MMU_WRITABLE | MBEC_SPTE_EPT_HOST_WRITABLE | (6 << 3);
	struct mbec_check *e;

	e = engine(MBEC_LAYOUT_CLASSIC, false, false, 0);
	get_page(e, SPT, 0x101, 1, CLASSIC_ACC_ALL, false, true);
	fault(e, PTE_P | PTE_RW | PTE_US | PTE_A | PTE_D, PFERR_USER | PFERR_WRITE,
	      (L_PRESENT | PTE_US | L_W) & ~SPTE_LEGACY_MMU_WRITABLE);
	ok(count(e, MBEC_AN_FORMAT) == 1, "format fires: W without MMU-writable");
	mbec_check_free(e);

	e = engine(MBEC_LAYOUT_CLASSIC, false, false, 0);
	get_page(e, SPT, 0x101, 1, CLASSIC_ACC_ALL, false, true);
	fault(e, PTE_P | PTE_RW | PTE_US | PTE_A | PTE_D, PFERR_USER | PFERR_WRITE,
	      (L_PRESENT | PTE_US | L_W) & ~SPTE_LEGACY_HOST_WRITABLE);
	ok(count(e, MBEC_AN_FORMAT) == 1, "format fires: MMU-writable without host-writable");
	mbec_check_free(e);

	e = engine(MBEC_LAYOUT_CLASSIC, false, false, 0);
	get_page(e, SPT, 0x101, 1, CLASSIC_ACC_ALL, false, true);
	fault(e, PTE_P | PTE_US | PTE_A | PTE_D, PFERR_USER, L_PRESENT | PTE_US | MBEC_BIT(55));
	ok(count(e, MBEC_AN_FORMAT) == 1, "format fires: reserved bit 55 in a legacy SPTE");
	mbec_check_free(e);

	e = engine(MBEC_LAYOUT_MBEC, true, true, 0);
	tdp_spte(e, ept_ok);
	ok(total(e) == 0, "format quiet: direct TDP leaf with XS == XU");
	mbec_check_free(e);

	e = engine(MBEC_LAYOUT_MBEC, true, true, 0);
	tdp_spte(e, ept_ok & ~EPTE_XU);
	ok(count(e, MBEC_AN_FORMAT) == 1, "format fires: XS != XU on a direct TDP leaf");
	mbec_check_free(e);

	e = engine(MBEC_LAYOUT_MBEC, true, true, 0);
	tdp_spte(e, ept_ok & ~EPTE_R);
	ok(count(e, MBEC_AN_FORMAT) == 1, "format fires: EPT W without R");
	mbec_check_free(e);

	e = engine(MBEC_LAYOUT_MBEC, true, true, 0);
	tdp_changed(e, ept_ok, SPTE_SHADOW_NONPRESENT | MBEC_FROZEN_SPTE_BITS);
	ok(total(e) == 0, "format quiet: the MBEC frozen value");
	tdp_changed(e, ept_ok, SPTE_SHADOW_NONPRESENT | CLASSIC_FROZEN_SPTE_BITS);
	ok(count(e, MBEC_AN_FORMAT) == 1, "format fires: frozen SPTE with XU (classic value, MBEC)");
	mbec_check_free(e);

	/* Access tracking: R, XS and XU saved, the permission bits cleared. */
	e = engine(MBEC_LAYOUT_MBEC, true, true, 0);
	{
		uint64_t old = (ept_ok & ~(EPTE_W | MBEC_SPTE_EPT_MMU_WRITABLE)) | (0x1234ULL << 12);
		uint64_t tracked = (old & ~(EPTE_R | EPTE_XS | EPTE_XU)) |
				   MBEC_BIT(MBEC_SPTE_SAVED_R_SHIFT) |
				   MBEC_BIT(MBEC_SPTE_SAVED_XS_SHIFT);

		tdp_changed(e, old, tracked | MBEC_BIT(MBEC_SPTE_SAVED_XU_SHIFT));
		ok(total(e) == 0, "format quiet: access-tracked SPTE saves R, XS and XU");
		tdp_changed(e, old, tracked);
		ok(count(e, MBEC_AN_FORMAT) == 1, "format fires: access tracking forgot XU");
	}
	mbec_check_free(e);
}

static void ept_exit(struct mbec_check *e, uint64_t qual, uint64_t ec)
{
	struct mbec_ev_exit x;
	struct mbec_ev_page_fault pf;

	hdr(&x.hdr, MBEC_EV_EXIT, sizeof(x));
	x.reason = EXIT_REASON_EPT_VIOLATION;
	x.isa = 1;
	x.info1 = qual;
	x.flags = MBEC_EXIT_HAS_REASON | MBEC_EXIT_HAS_INFO | MBEC_EXIT_VMX;
	mbec_check_feed(e, &x, sizeof(x));
	hdr(&pf.hdr, MBEC_EV_PAGE_FAULT, sizeof(pf));
	pf.address = 0x40000;
	pf.error_code = qual;
	mbec_check_feed(e, &pf, sizeof(pf));
	req(e, 0x40, ec, MBEC_FAULT_IS_TDP);
}

static void test_exit_qual(void)
{
	struct mbec_check *e;
	/* A read of a not-present page, linear address valid and translated. */
	uint64_t q = EPT_VIOL_ACC_READ | EPT_VIOL_GVA_IS_VALID | EPT_VIOL_GVA_TRANSLATED;

	e = engine(MBEC_LAYOUT_CLASSIC, true, false, 0);
	ept_exit(e, q, PFERR_USER | PFERR_GUEST_FINAL);
	ok(total(e) == 0 && mbec_check_summary(e)->exits_checked == 1,
	   "exit-qual quiet: classic read -> USER|GUEST_FINAL");
	mbec_check_free(e);

	e = engine(MBEC_LAYOUT_CLASSIC, true, false, 0);
	ept_exit(e, q, PFERR_USER | PFERR_GUEST_PAGE);
	ok(count(e, MBEC_AN_EXIT_QUAL) == 1, "exit-qual fires: GUEST_PAGE for a translated access");
	mbec_check_free(e);

	e = engine(MBEC_LAYOUT_MBEC, true, false, 0);
	ept_exit(e, q | EPT_VIOL_PROT_USER_EXEC, PFERR_PRESENT | PFERR_GUEST_FINAL);
	ok(count(e, MBEC_AN_EXIT_QUAL) == 1,
	   "exit-qual fires: undefined bit 6 made the fault 'present' with MBEC off");
	mbec_check_free(e);

	e = engine(MBEC_LAYOUT_MBEC, true, true, 0);
	ept_exit(e, q | EPT_VIOL_PROT_USER_EXEC, PFERR_PRESENT | PFERR_GUEST_FINAL);
	ok(total(e) == 0, "exit-qual quiet: bit 6 counts as present with MBEC on");
	mbec_check_free(e);
}

static void inject(struct mbec_check *e, uint64_t qual)
{
	struct mbec_ev_nested_inject n;

	hdr(&n.hdr, MBEC_EV_NESTED_VMEXIT_INJECT, sizeof(n));
	n.exit_code = EXIT_REASON_EPT_VIOLATION;
	n.isa = 1;
	n.exit_info1 = qual;
	mbec_check_feed(e, &n, sizeof(n));
}

static void test_nested(void)
{
	struct mbec_check *e = engine(MBEC_LAYOUT_MBEC, true, false, 0);
	uint64_t fin = EPT_VIOL_ACC_WRITE | EPT_VIOL_PROT_READ | EPT_VIOL_GVA_IS_VALID |
		       EPT_VIOL_GVA_TRANSLATED;
	uint64_t pgs = EPT_VIOL_ACC_READ | EPT_VIOL_ACC_WRITE | EPT_VIOL_GVA_IS_VALID;

	inject(e, fin);
	inject(e, pgs);
	ok(total(e) == 0 && mbec_check_summary(e)->injects_checked == 2,
	   "nested-inject quiet: a final write, a paging-structure A/D write");
	inject(e, fin | MBEC_BIT(20));
	ok(count(e, MBEC_AN_NESTED_INJECT) == 1, "nested-inject fires: bits above 16");
	inject(e, EPT_VIOL_ACC_WRITE | EPT_VIOL_GVA_IS_VALID);
	ok(count(e, MBEC_AN_NESTED_INJECT) == 2,
	   "nested-inject fires: paging-structure access not reported as a read");
	inject(e, fin | EPT_VIOL_PROT_USER_EXEC);
	ok(count(e, MBEC_AN_NESTED_INJECT) == 3, "nested-inject fires: bit 6 without MBEC");
	inject(e, EPT_VIOL_ACC_READ | EPT_VIOL_GVA_TRANSLATED);
	ok(count(e, MBEC_AN_NESTED_INJECT) == 4,
	   "nested-inject fires: GVA_TRANSLATED without GVA_IS_VALID");
	inject(e, EPT_VIOL_ACC_READ | EPT_VIOL_GVA_IS_VALID | EPT_VIOL_GVA_USER);
	ok(count(e, MBEC_AN_NESTED_INJECT) == 5,
	   "nested-inject fires: advanced information for an untranslated access");
	mbec_check_free(e);
}

static void test_role(void)
{
	struct mbec_check_opts o = { .layout = MBEC_LAYOUT_CLASSIC };
	uint64_t leaf = PTE_P | PTE_US | PTE_A | PTE_D | (0x40ULL << 12);
	struct mbec_check *e;

	/* The upper levels grant everything: role.access must be ACC_ALL. */
	e = engine(MBEC_LAYOUT_CLASSIC, false, false, 0);
	get_page(e, SPT, 0x101, 1, CLASSIC_ACC_USER | CLASSIC_ACC_EXEC, false, true);
	fault(e, leaf, PFERR_USER, L_PRESENT | PTE_US);
	ok(count(e, MBEC_AN_ROLE) == 1, "role fires: role.access lost W the walk above grants");
	mbec_check_free(e);

	e = engine(MBEC_LAYOUT_CLASSIC, false, false, 0);
	get_page(e, SPT, 0x101, 2, CLASSIC_ACC_ALL, false, true);
	fault(e, leaf, PFERR_USER, L_PRESENT | PTE_US);
	ok(count(e, MBEC_AN_ROLE) == 1, "role fires: a level-2 page holds a level-1 SPTE");
	mbec_check_free(e);

	e = engine(MBEC_LAYOUT_CLASSIC, false, false, 0);
	get_page(e, SPT, 0x101, 1, CLASSIC_ACC_ALL, false, false);
	fault(e, leaf | PTE_NX, PFERR_USER, L_PRESENT | PTE_US | PTE_NX);
	ok(count(e, MBEC_AN_ROLE) == 1, "role fires: efer_nx clear while the guest uses NX");
	mbec_check_free(e);

	o.expect_mode_valid = true;
	o.expect_mode.mmu = MBEC_MMU_LEGACY;
	o.expect_mode.levels = 4;
	o.expect_mode.cr0_wp = true;
	o.expect_mode.efer_nx = true;
	e = mbec_check_new(&o);
	get_page(e, SPT, 0x100, 4, CLASSIC_ACC_ALL, false, true);
	ok(total(e) == 0 && mbec_check_summary(e)->roles_checked == 1,
	   "role quiet: efer_nx and cr0_wp as the guest's mode says");
	get_page(e, SPT + 0x1000, 0x101, 3, CLASSIC_ACC_ALL, false, false);
	ok(count(e, MBEC_AN_ROLE) == 1, "role fires: role.efer_nx vs EFER.NXE=1");
	mbec_check_free(e);

	/* A role rebuilt from text that does not show CR0.WP is not judged on it. */
	o.expect_mode.cr0_wp = false;
	{
		struct mbec_ev_get_page g = { 0 };
		int unknown;

		for (unknown = 0; unknown < 2; unknown++) {
			e = mbec_check_new(&o);
			hdr(&g.hdr, MBEC_EV_GET_PAGE, sizeof(g));
			g.sp = SPT + 0x10000;
			g.spt = SPT;
			g.gfn = 0x100;
			g.level = 4;
			g.access = CLASSIC_ACC_ALL;
			g.efer_nx = 1;
			g.cr0_wp = 1;
			g.role = 4 | (CLASSIC_ACC_ALL << 8) | (1 << 12) | (1 << 13);
			g.flags = MBEC_SP_CREATED | (unknown ? MBEC_SP_CR0_WP_UNKNOWN : 0);
			mbec_check_feed(e, &g, sizeof(g));
			ok(count(e, MBEC_AN_ROLE) == !unknown,
			   unknown ? "role quiet: CR0.WP unknown (text) is not compared" :
				     "role fires: role.cr0_wp=1 vs CR0.WP=0");
			mbec_check_free(e);
		}
		/* Nor on smap_andnot_wp, which follows from CR0.WP. */
		o.expect_mode.cr4_smap = true;
		e = mbec_check_new(&o);
		mbec_check_feed(e, &g, sizeof(g));
		ok(count(e, MBEC_AN_ROLE) == 0 && mbec_check_summary(e)->roles_checked == 1,
		   "role quiet: smap_andnot_wp unknown with CR0.WP (text)");
		mbec_check_free(e);
		o.expect_mode.cr4_smap = false;

		/*
		 * The workload's supervisor passes run with CR0.WP=0 for a
		 * while: a page made then has role.cr0_wp=0 while the mode
		 * the guest starts in says 1.  Found by the lab on shadow
		 * paging (npt=0), 14 false findings.  A mode it is known to
		 * switch to is as good; one it never runs in is not.
		 */
		o.expect_mode.cr0_wp = true;
		g.flags = MBEC_SP_CREATED;
		g.cr0_wp = 0;
		g.role = 4 | (CLASSIC_ACC_ALL << 8) | (1 << 13);
		e = mbec_check_new(&o);
		mbec_check_feed(e, &g, sizeof(g));
		ok(count(e, MBEC_AN_ROLE) == 1, "role fires: role.cr0_wp=0 vs CR0.WP=1, no other mode");
		mbec_check_free(e);
		o.alt_modes[0] = o.expect_mode;
		o.alt_modes[0].cr0_wp = false;
		o.nr_alt_modes = 1;
		e = mbec_check_new(&o);
		mbec_check_feed(e, &g, sizeof(g));
		ok(count(e, MBEC_AN_ROLE) == 0 && mbec_check_summary(e)->roles_checked == 1,
		   "role quiet: role.cr0_wp=0 matches a mode the guest switches to (WP0)");
		mbec_check_free(e);
		g.efer_nx = 0;
		g.role &= ~(1U << 13);
		e = mbec_check_new(&o);
		mbec_check_feed(e, &g, sizeof(g));
		ok(count(e, MBEC_AN_ROLE) == 1,
		   "role fires: role.efer_nx=0 matches no mode the guest runs in");
		mbec_check_free(e);
		o.nr_alt_modes = 0;
	}
}

/* Fake guest memory for the reader: one 8-byte entry at one address. */
static uint64_t fake_hva, fake_val;

static int fake_read(void *ctx, uint32_t pid, uint64_t hva, uint64_t *val)
{
	(void)ctx;
	if (pid != PID || hva != fake_hva)
		return -1;
	*val = fake_val;
	return 0;
}

static void test_guest_memory(void)
{
	struct mbec_check_opts o = { .layout = MBEC_LAYOUT_CLASSIC,
				     .guest = { .read_mem = fake_read } };
	uint64_t leaf = PTE_P | PTE_US | PTE_A | PTE_D | (0x40ULL << 12);
	struct mbec_ev_spte_requested r;
	const struct mbec_check_summary *s;
	struct mbec_check *e;
	int pass;

	/* The guest table at gfn 0x101 sits in a memslot at hva 0x7f0000000000 + gfn. */
	fake_hva = 0x7f0000000000ULL + (0x101ULL << 12) + 0x41 * 8;
	for (pass = 0; pass < 2; pass++) {
		e = mbec_check_new(&o);
		get_page(e, SPT, 0x101, 1, CLASSIC_ACC_ALL, false, true);
		walk(e, 0x40000, PFERR_USER, leaf);
		hdr(&r.hdr, MBEC_EV_SPTE_REQUESTED, sizeof(r));
		r.gfn = 0x40;
		r.addr = 0x40000;
		r.error_code = PFERR_USER;
		r.flags = MBEC_FAULT_MAP_WRITABLE | MBEC_FAULT_USER | MBEC_FAULT_HAS_SLOT;
		r.slot_base_gfn = 0;
		r.slot_npages = 0x1000;
		r.slot_hva = 0x7f0000000000ULL;
		mbec_check_feed(e, &r, sizeof(r));
		set_spte_at(e, SPT, 0x40, L_PRESENT | PTE_US);
		/* The prefetched neighbour: executable SPTE. */
		fake_val = (0x41ULL << 12) | PTE_P | PTE_US | PTE_A | (pass ? PTE_NX : 0);
		set_spte_at(e, SPT, 0x41, L_PRESENT | PTE_US);
		mbec_check_finish(e);
		s = mbec_check_summary(e);
		if (!pass)
			ok(s->anomalies_total == 0 &&
			   s->cov_reason[MBEC_COV_FULL][MBEC_COVR_GUEST_MEM] == 1,
			   "prefetched SPTE checked fully against the entry read from guest memory");
		else
			ok(s->anomalies_total == 0 &&
			   s->cov_reason[MBEC_COV_PARTIAL][MBEC_COVR_MEM_CHANGED] == 1,
			   "an entry read later that disagrees is counted as such, not as an anomaly");
		mbec_check_free(e);
	}
	/* A version-1 spte_requested (72 bytes, no memslot) is still accepted. */
	e = mbec_check_new(&o);
	hdr(&r.hdr, MBEC_EV_SPTE_REQUESTED, 72);
	ok(mbec_check_feed(e, &r, 72) == 0, "a version-1 spte_requested record is accepted");
	mbec_check_free(e);
}

static void test_lost(void)
{
	struct mbec_check *e = engine(MBEC_LAYOUT_CLASSIC, false, false, 0);
	struct mbec_ev_lost l;

	/* The page is freed and its table reused, but the new get_page is lost. */
	get_page(e, SPT, 0x101, 1, CLASSIC_ACC_USER | CLASSIC_ACC_EXEC, false, true);
	hdr(&l.hdr, MBEC_EV_LOST, sizeof(l));
	l.count = 3;
	mbec_check_feed(e, &l, sizeof(l));
	set_spte_at(e, SPT, 0x41, L_PRESENT | PTE_US | L_W);
	ok(total(e) == 0, "a shadow page seen before a loss is not trusted after it");
	ok(mbec_check_summary(e)->cov_reason[MBEC_COV_NONE][MBEC_COVR_LOST] == 1 &&
	   mbec_check_summary(e)->lost_events == 3, "the SPTE counts as unchecked: records lost");
	get_page(e, SPT, 0x101, 1, CLASSIC_ACC_USER | CLASSIC_ACC_EXEC, false, true);
	set_spte_at(e, SPT, 0x42, L_PRESENT | PTE_US | L_W);
	ok(count(e, MBEC_AN_ESCALATION) == 1, "seen again after the loss, it is trusted again");
	mbec_check_free(e);
}

static void test_bad_records(void)
{
	struct mbec_check *e = engine(MBEC_LAYOUT_CLASSIC, false, false, 0);
	struct mbec_ev_set_spte s;

	hdr(&s.hdr, MBEC_EV_SET_SPTE, sizeof(s));
	s.hdr.size = 40;
	ok(mbec_check_feed(e, &s, sizeof(s)) == -1, "a short set_spte is rejected");
	ok(mbec_check_summary(e)->bad_records == 1 && total(e) == 0, "and counted, not checked");
	mbec_check_free(e);
}

int main(void)
{
	test_escalation();
	test_no_progress();
	test_format();
	test_exit_qual();
	test_nested();
	test_role();
	test_lost();
	test_guest_memory();
	test_bad_records();
	return done_testing();
}
