// SPDX-License-Identifier: GPL-2.0
/*
 * Layer 2 (KVM's way) against layer 1 (the architecture), exhaustively.
 *
 *  A. guest walks: every combination of entry permission bits for walks of
 *     two levels (and of four for a subset of modes), every access kind
 *     and every mode combination, for each software-walked flavour
 *     (shadow legacy, shadow NPT, shadow EPT) in both layouts: fault or
 *     not, error code / EXITINFO1 / injected exit qualification, level;
 *  B. SPTEs: for every ACC value KVM can compose, the SPTE KVM may install
 *     walked by hardware (layer 1) must fault exactly where KVM's
 *     permission bitmask says, and must not grant more than the ACC;
 *  C. the permission table the KUnit test uses (layer 1) equals KVM's
 *     bitmask (layer 2) wherever the table is meaningful;
 *  D. the comparator can fail: every single-bit mutation of a reachable
 *     bitmask entry is reported as a disagreement.
 */
#include <errno.h>
#include <stdarg.h>
#include <string.h>

#include "mbec_model.h"
#include "tap.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static const char *const layout_name[] = { "classic", "mbec" };
/* Set while mutants run: their disagreements are the point, not news. */
static bool quiet;
/*
 * Set to compare KVM's synthesized nested EPT violations (found while
 * emulating, no vmcs02 qualification to copy) instead of hardware ones.
 */
static bool synth;

struct tally {
	long cases, faults, skipped, bad;
};

static void bad_case(struct tally *t, const char *what, const struct mbec_mode *m,
		     const uint64_t *e, int n, const struct mbec_access *a, const char *detail)
{
	if (t->bad++ >= 4 || quiet)
		return;
	diag("  disagreement (%s): mmu %s lv %d wp%d smep%d smap%d ac%d nx%d mbec%d exo%d adv%d "
	     "gmet%d | op %d user %d impl %d ps %d nolin %d | entries %d: %llx %llx %llx %llx | %s",
	     what, mbec_mmu_name(m->mmu), m->levels, m->cr0_wp, m->cr4_smep, m->cr4_smap,
	     m->eflags_ac, m->efer_nx, m->mbec, m->execonly, m->advanced_info, m->gmet,
	     a->op, a->user, a->implicit, a->paging_structure, a->no_linear, n,
	     (unsigned long long)e[0], (unsigned long long)(n > 1 ? e[1] : 0),
	     (unsigned long long)(n > 2 ? e[2] : 0), (unsigned long long)(n > 3 ? e[3] : 0),
	     detail);
}

/* ---- enumerations ------------------------------------------------------------ */

/*
 * The accesses for @mmu.  @full adds, for EPT, accesses without a linear
 * address and both values of the advanced-information bits 10-11.
 */
static int accesses(enum mbec_mmu mmu, bool full, struct mbec_access *out)
{
	int n = 0, i;

	/* i = op * 16 + user * 8 + x * 4 + y * 2 + g, each flag's meaning per mmu. */
	for (i = 0; i < MBEC_OP_NR * 16; i++) {
		struct mbec_access a = { .op = i / 16, .user = i & 8 };
		bool x = i & 4, y = i & 2, g = i & 1;

		if (mmu != MBEC_MMU_EPT && (y || g))
			continue;
		if (mmu == MBEC_MMU_EPT && !full && (y || g))
			continue;
		if (mmu == MBEC_MMU_LEGACY) {
			a.implicit = x;
		} else {
			a.paging_structure = x;
			a.no_linear = y;
			a.gva_writable = a.gva_nx = g;
		}
		if (a.op == MBEC_OP_FETCH && (a.implicit || a.paging_structure || a.no_linear))
			continue;
		if (a.paging_structure && (a.no_linear || g))
			continue;
		out[n++] = a;
	}
	return n;
}

/* Mode number i (bits) -> mode, for the flags that matter to @mmu. */
static int mode_count(enum mbec_mmu mmu)
{
	return mmu == MBEC_MMU_EPT ? 8 : 32;
}

static void mode_of(enum mbec_mmu mmu, int levels, int i, struct mbec_mode *m)
{
	memset(m, 0, sizeof(*m));
	m->mmu = mmu;
	m->levels = levels;
	if (mmu == MBEC_MMU_EPT) {
		m->mbec = i & 1;
		m->execonly = i & 2;
		m->advanced_info = i & 4;
		return;
	}
	m->cr0_wp = i & 1;
	m->cr4_smep = i & 2;
	m->cr4_smap = i & 4;
	m->efer_nx = i & 8;
	if (mmu == MBEC_MMU_LEGACY)
		m->eflags_ac = i & 16;
	else
		m->gmet = i & 16;
}

/* Entry value number v (5 bits) -> entry in the format of @mmu. */
static uint64_t entry_of(enum mbec_mmu mmu, unsigned int v)
{
	static const uint64_t legacy[5] = { PTE_P, PTE_RW, PTE_US, PTE_NX, PTE_PS };
	static const uint64_t ept[5] = { EPTE_R, EPTE_W, EPTE_X, EPTE_XU, EPTE_PS };
	const uint64_t *bits = mmu == MBEC_MMU_EPT ? ept : legacy;
	uint64_t e = 0;
	int b;

	for (b = 0; b < 5; b++)
		if (v & (1u << b))
			e |= bits[b];
	return e;
}

/* ---- A: guest walks ------------------------------------------------------------ */

enum { AGREE, DISAGREE, SKIP };

static uint64_t pfec_of(enum mbec_layout layout, enum mbec_flavour fl,
			const struct mbec_mode *m, const struct mbec_kvm_fault *f)
{
	if (mbec_flavour_guest_mmu(fl) == MBEC_MMU_EPT)
		return mbec_kvm_exit_qual_to_pfec(layout, m->mbec, f->exit_qual);
	return f->error_code;
}

/*
 * Compare the two layers on one walk.  With @perm, layer 2's permission
 * decision is taken from that bitmask instead (the mutation test), and only
 * fault/no-fault is compared.
 */
static int compare_walk(enum mbec_layout layout, enum mbec_flavour fl, const struct mbec_mode *m,
			const uint64_t *e, int n, const struct mbec_access *a,
			const uint16_t *perm, char *why, size_t whylen)
{
	struct mbec_outcome o;
	struct mbec_kvm_walk_out k;
	struct mbec_kvm_fault f;
	int e1, e2, r = AGREE;
	bool f1;

	e1 = mbec_arch_walk(m, e, n, a, &o);
	mbec_kvm_fault_for_access(layout, fl, m, a, &f);
	if (synth) {
		/* KVM only emulates accesses through a linear address. */
		if (a->no_linear)
			return SKIP;
		f.hw_violation = false;
	}
	e2 = mbec_kvm_walk(layout, fl, m, e, n, &f, &k);
	if (e1 || e2) {
		snprintf(why, whylen, "errors %d/%d", e1, e2);
		return e1 && e2 ? SKIP : DISAGREE;
	}
	f1 = mbec_outcome_faults(&o);
	if (perm) {
		bool reached = !k.misconfig && (!k.fault || (k.error_code & PFERR_PRESENT));

		if (reached)
			k.fault = mbec_kvm_permission_fault(perm, pfec_of(layout, fl, m, &f),
							    m->eflags_ac, k.acc);
		return f1 == k.fault ? AGREE : DISAGREE;
	}
	if (f1 != k.fault || o.level != k.level || o.used != k.used)
		r = DISAGREE;
	else if (!f1)
		r = AGREE;
	else if (m->mmu == MBEC_MMU_EPT)
		r = (o.result == MBEC_RES_EPT_MISCONFIG) != k.misconfig ||
		    (!k.misconfig && ((o.exit_qual ^ k.exit_qual) & ~o.undefined_mask)) ?
		    DISAGREE : AGREE;
	else
		r = !!(o.error_code & PFERR_RSVD) != k.misconfig || o.error_code != k.error_code ?
		    DISAGREE : AGREE;
	if (r == DISAGREE)
		snprintf(why, whylen, "result %d fault %d misconfig %d, code %llx/%llx "
			 "qual %llx/%llx undef %llx level %d/%d used %d/%d acc %x", o.result,
			 k.fault, k.misconfig, (unsigned long long)o.error_code,
			 (unsigned long long)k.error_code, (unsigned long long)o.exit_qual,
			 (unsigned long long)k.exit_qual, (unsigned long long)o.undefined_mask,
			 o.level, k.level, o.used, k.used, k.acc);
	return r;
}

/* Walk @nent entries, each one of @nval values, over every mode and access. */
static void sweep(enum mbec_layout layout, enum mbec_flavour fl, int levels, int nent,
		  unsigned int nval, const int *modes, int nmodes, const uint16_t *perm,
		  struct tally *t)
{
	enum mbec_mmu mmu = mbec_flavour_guest_mmu(fl);
	struct mbec_access acc[64];
	int na = accesses(mmu, nent <= 2, acc), mi, ai;
	unsigned long combo, ncombo = 1;
	uint64_t e[5];
	int i;

	for (i = 0; i < nent; i++)
		ncombo *= nval;
	for (mi = 0; mi < (modes ? nmodes : mode_count(mmu)); mi++) {
		struct mbec_mode m;

		mode_of(mmu, levels, modes ? modes[mi] : mi, &m);
		if (!mbec_kvm_supported(layout, fl, &m))
			continue;
		for (combo = 0; combo < ncombo; combo++) {
			unsigned long c = combo;

			for (i = 0; i < nent; i++) {
				e[i] = entry_of(mmu, c % nval);
				c /= nval;
			}
			for (ai = 0; ai < na; ai++) {
				char why[256];
				int r = compare_walk(layout, fl, &m, e, nent, &acc[ai], perm, why,
						     sizeof(why));

				if (r == SKIP) {
					t->skipped++;
					continue;
				}
				t->cases++;
				if (r == DISAGREE)
					bad_case(t, mbec_flavour_name(fl), &m, e, nent,
						 &acc[ai], why);
			}
		}
	}
}

static void test_guest_walks(void)
{
	/*
	 * Two-level walks (a 1G page or a reserved PS under the top entry, 5
	 * bits per entry) run over every mode.  Deeper walks (4 entries of 4
	 * bits; 5-level paging down to a 1G page) run in two rich modes per
	 * layout, to stay within the test-suite budget.
	 */
	static const int legacy_rich[2][2] = { { 1 | 8, 2 | 4 | 8 },
					       { 1 | 2 | 4 | 8, 2 | 4 | 8 | 16 } };
	static const int npt_rich[2][2] = { { 8, 2 | 8 }, { 8 | 16, 2 | 16 } };
	static const int ept_rich[2][2] = { { 0, 2 }, { 2 | 4, 1 | 2 | 4 } };
	int l;

	for (l = 0; l < 2; l++) {
		struct tally t = { 0 };

		sweep(l, MBEC_FL_SHADOW_LEGACY, 4, 2, 32, NULL, 0, NULL, &t);
		sweep(l, MBEC_FL_SHADOW_LEGACY, 3, 2, 32, NULL, 0, NULL, &t);
		sweep(l, MBEC_FL_SHADOW_LEGACY, 4, 4, 16, legacy_rich[l], 2, NULL, &t);
		sweep(l, MBEC_FL_SHADOW_LEGACY, 5, 3, 32, legacy_rich[l], 2, NULL, &t);
		diag("shadow-legacy/%s: %ld cases, %ld impossible inputs refused by both",
		     layout_name[l], t.cases, t.skipped);
		ok(t.cases > 100000 && t.bad == 0,
		   "shadow-legacy/%s: layer 2 agrees with layer 1 (%ld disagreements)",
		   layout_name[l], t.bad);
	}
	for (l = 0; l < 2; l++) {
		struct tally t = { 0 };

		sweep(l, MBEC_FL_SHADOW_NPT, 4, 2, 32, NULL, 0, NULL, &t);
		sweep(l, MBEC_FL_SHADOW_NPT, 4, 4, 16, npt_rich[l], 2, NULL, &t);
		sweep(l, MBEC_FL_SHADOW_NPT, 5, 3, 32, npt_rich[l], 2, NULL, &t);
		diag("shadow-npt/%s: %ld cases, %ld impossible inputs refused by both",
		     layout_name[l], t.cases, t.skipped);
		ok(t.cases > 50000 && t.bad == 0,
		   "shadow-npt/%s: layer 2 agrees with layer 1 (%ld disagreements)",
		   layout_name[l], t.bad);
	}
	for (l = 0; l < 2; l++) {
		struct tally t = { 0 };

		sweep(l, MBEC_FL_SHADOW_EPT, 4, 2, 32, NULL, 0, NULL, &t);
		sweep(l, MBEC_FL_SHADOW_EPT, 4, 4, 16, ept_rich[l], 2, NULL, &t);
		sweep(l, MBEC_FL_SHADOW_EPT, 5, 3, 32, ept_rich[l], 2, NULL, &t);
		diag("shadow-ept/%s: %ld cases, %ld impossible inputs refused by both",
		     layout_name[l], t.cases, t.skipped);
		ok(t.cases > 50000 && t.bad == 0,
		   "shadow-ept/%s: layer 2 agrees with layer 1 incl. injected exit qualification "
		   "(%ld disagreements)", layout_name[l], t.bad);
	}
	/*
	 * Synthesized nested violations carry no advanced information, so
	 * they match the architecture of an L1 that was not offered it.
	 */
	synth = true;
	for (l = 0; l < 2; l++) {
		static const int no_adv[4] = { 0, 1, 2, 3 };
		struct tally t = { 0 };

		sweep(l, MBEC_FL_SHADOW_EPT, 4, 2, 32, no_adv, 4, NULL, &t);
		diag("shadow-ept/%s synthesized: %ld cases", layout_name[l], t.cases);
		ok(t.cases > 10000 && t.bad == 0,
		   "shadow-ept/%s: synthesized exit qualifications agree (%ld disagreements)",
		   layout_name[l], t.bad);
	}
	synth = false;
}

/*
 * 32-bit paging is compared on its own: KVM's walker reports I/D for
 * fetches whenever EFER.NX is set, while the SDM sets I/D only with SMEP
 * or with PAE-or-longer paging and NXE.  Everything else must agree.
 */
struct tally32 {
	long cases, bad, id_only;
};

static void compare_32bit(enum mbec_layout l, const struct mbec_mode *m, const uint64_t *e,
			  const struct mbec_access *a, struct tally32 *t)
{
	struct mbec_outcome o;
	struct mbec_kvm_walk_out k;
	struct mbec_kvm_fault f;

	mbec_kvm_fault_for_access(l, MBEC_FL_SHADOW_LEGACY, m, a, &f);
	if (mbec_arch_walk(m, e, 2, a, &o) ||
	    mbec_kvm_walk(l, MBEC_FL_SHADOW_LEGACY, m, e, 2, &f, &k)) {
		t->bad++;
		return;
	}
	t->cases++;
	if (mbec_outcome_faults(&o) != k.fault || o.level != k.level)
		t->bad++;
	else if (o.error_code == k.error_code)
		return;
	else if ((o.error_code ^ k.error_code) == PFERR_FETCH && m->efer_nx && !m->cr4_smep)
		t->id_only++;
	else
		t->bad++;
}

static void test_legacy_32bit(void)
{
	static const uint64_t bits[4] = { PTE_P, PTE_RW, PTE_US, PTE_PS };
	struct mbec_access acc[64];
	int na = accesses(MBEC_MMU_LEGACY, true, acc), l;

	for (l = 0; l < 2; l++) {
		struct tally32 t = { 0 };
		unsigned int c;
		int mi, ai, b;

		for (mi = 0; mi < 32; mi++) {
			struct mbec_mode m;

			mode_of(MBEC_MMU_LEGACY, 2, mi, &m);
			for (c = 0; c < 256; c++) {
				uint64_t e[2] = { 0, 0 };

				/* A 4M page or a PDE + PTE pair; PTEs have no PS. */
				for (b = 0; b < 4; b++) {
					e[0] |= (c & (1u << b)) ? bits[b] : 0;
					e[1] |= (c & (16u << b)) ? bits[b] & ~PTE_PS : 0;
				}
				for (ai = 0; ai < na; ai++)
					compare_32bit(l, &m, e, &acc[ai], &t);
			}
		}
		diag("shadow-legacy/%s 32-bit: %ld cases, %ld only in I/D (KVM with EFER.NX)",
		     layout_name[l], t.cases, t.id_only);
		ok(t.cases > 10000 && t.bad == 0 && t.id_only > 0,
		   "shadow-legacy/%s 32-bit: agreement up to the known I/D difference (%ld bad)",
		   layout_name[l], t.bad);
	}
}

/* ---- B: SPTEs against hardware -------------------------------------------------- */

/* The mode hardware runs the flavour's SPTEs in. */
static void hw_mode_of(enum mbec_flavour fl, const struct mbec_mode *m, struct mbec_mode *hw)
{
	*hw = *m;
	hw->levels = 4;
	switch (fl) {
	case MBEC_FL_SHADOW_LEGACY:
		/* Shadow paging runs with CR0.WP=1 and EFER.NX=1, 4-level. */
		hw->cr0_wp = true;
		hw->efer_nx = true;
		break;
	case MBEC_FL_SHADOW_NPT:
	case MBEC_FL_TDP_NPT:
		hw->efer_nx = true;	/* the host's */
		break;
	default:
		hw->advanced_info = true;
		break;
	}
}

static bool acc_realizable(enum mbec_layout layout, enum mbec_flavour fl,
			   const struct mbec_mode *m, unsigned int a)
{
	unsigned int all = mbec_kvm_acc_all(layout);
	bool mb = layout == MBEC_LAYOUT_MBEC;
	unsigned int rd = mb ? MBEC_ACC_READ : CLASSIC_ACC_USER;

	switch (fl) {
	case MBEC_FL_TDP_EPT:
		/* ACC_ALL, minus WRITE (read-only memslot), minus X (NX huge page). */
		return (a | CLASSIC_ACC_WRITE | (mb ? MBEC_ACC_EXEC | MBEC_ACC_USER_EXEC :
						 CLASSIC_ACC_EXEC)) == all &&
		       (!mb || !!(a & MBEC_ACC_EXEC) == !!(a & MBEC_ACC_USER_EXEC));
	case MBEC_FL_TDP_NPT: {
		unsigned int root = mb && m->gmet ? MBEC_ACC_GMET_ROOT : all;

		return (a & ~root) == 0 &&
		       (a | CLASSIC_ACC_WRITE | (mb ? MBEC_ACC_EXEC : CLASSIC_ACC_EXEC)) == root;
	}
	case MBEC_FL_SHADOW_EPT:
		/*
		 * A present L1 entry grants something; W needs R (else it is a
		 * misconfiguration); without execute-only, R is needed.
		 */
		if ((a & CLASSIC_ACC_WRITE) && !(a & rd))
			return false;
		return a && (m->execonly || (a & rd));
	default:
		/*
		 * Every present legacy/NPT entry grants READ; without EFER.NXE
		 * (L1's for NPT) NX is reserved, so every page is executable.
		 */
		if (mb && !(a & MBEC_ACC_READ))
			return false;
		return m->efer_nx || (a & (mb ? MBEC_ACC_EXEC : CLASSIC_ACC_EXEC));
	}
}

struct spte_tally {
	long cases, bad, esc, accs;
};

static void spte_bad(struct spte_tally *t, const char *fmt, ...)
{
	va_list ap;

	if (t->bad++ >= 4)
		return;
	fputs("#   ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
}

/*
 * Guest CR0.WP=0: KVM lets a supervisor write to a read-only page through
 * by changing the ACC it installs (mbec_kvm_fault_acc).  The SPTE for that
 * ACC must then let the write pass on hardware.
 */
static bool wp0_write_passes(enum mbec_layout l, enum mbec_flavour fl, const struct mbec_mode *m,
			     const struct mbec_mode *hw, unsigned int a, uint64_t pfec,
			     const struct mbec_access *acc)
{
	uint64_t upper = PTE_P | PTE_RW | PTE_US;
	uint64_t e[4] = { upper, upper, upper, 0 };
	struct mbec_outcome o;

	if (fl != MBEC_FL_SHADOW_LEGACY || acc->op != MBEC_OP_WRITE || m->cr0_wp ||
	    (pfec & PFERR_USER))
		return false;
	e[3] = mbec_kvm_acc_to_spte(l, fl, m, mbec_kvm_fault_acc(l, fl, m, a, pfec));
	return !mbec_arch_walk(hw, e, 4, acc, &o) && !mbec_outcome_faults(&o);
}

/* One ACC value: its SPTE on hardware against KVM's bitmask, for every access. */
static void spte_check_acc(enum mbec_layout l, enum mbec_flavour fl, const struct mbec_mode *m,
			   const struct mbec_mode *hw, const uint16_t *perm, unsigned int a,
			   const struct mbec_access *acc, int na, struct spte_tally *t)
{
	enum mbec_mmu mmu = mbec_flavour_guest_mmu(fl);
	uint64_t upper = mmu == MBEC_MMU_EPT ? EPTE_RWX | EPTE_XU : PTE_P | PTE_RW | PTE_US;
	uint64_t e[4] = { upper, upper, upper, 0 };
	int ai;

	t->accs++;
	e[3] = mbec_kvm_acc_to_spte(l, fl, m, a);
	if (mbec_kvm_acc_escalation(l, fl, m, a, e[3]) && t->esc++ < 4)
		diag("  escalation %s/%s acc %x spte %llx", mbec_flavour_name(fl), layout_name[l],
		     a, (unsigned long long)e[3]);
	for (ai = 0; ai < na; ai++) {
		struct mbec_kvm_fault f;
		struct mbec_outcome o;
		uint64_t pfec;
		bool kf;

		if (acc[ai].paging_structure || acc[ai].no_linear)
			continue;
		t->cases++;
		if (mbec_arch_walk(hw, e, 4, &acc[ai], &o)) {
			spte_bad(t, "spte %s/%s acc %x: layer 1 refused the walk",
				 mbec_flavour_name(fl), layout_name[l], a);
			continue;
		}
		if (o.result == MBEC_RES_EPT_MISCONFIG) {
			spte_bad(t, "spte %s/%s acc %x spte %llx is misconfigured",
				 mbec_flavour_name(fl), layout_name[l], a,
				 (unsigned long long)e[3]);
			continue;
		}
		mbec_kvm_fault_for_access(l, fl, m, &acc[ai], &f);
		pfec = pfec_of(l, fl, m, &f);
		kf = mbec_kvm_permission_fault(perm, pfec, m->eflags_ac, a);
		if (kf == mbec_outcome_faults(&o))
			continue;
		if (!kf && wp0_write_passes(l, fl, m, hw, a, pfec, &acc[ai]))
			continue;
		spte_bad(t, "spte %s/%s acc %x spte %llx op %d user %d: kvm %d hw %d",
			 mbec_flavour_name(fl), layout_name[l], a, (unsigned long long)e[3],
			 acc[ai].op, acc[ai].user, kf, !kf);
	}
}

static void test_sptes(void)
{
	static const enum mbec_flavour fls[] = {
		MBEC_FL_SHADOW_LEGACY, MBEC_FL_SHADOW_NPT, MBEC_FL_SHADOW_EPT,
		MBEC_FL_TDP_EPT, MBEC_FL_TDP_NPT,
	};
	size_t fi;
	int l;

	for (fi = 0; fi < ARRAY_SIZE(fls); fi++) {
		enum mbec_flavour fl = fls[fi];
		enum mbec_mmu mmu = mbec_flavour_guest_mmu(fl);
		struct mbec_access acc[64];
		int na = accesses(mmu, true, acc);

		for (l = 0; l < 2; l++) {
			struct spte_tally t = { 0 };
			int mi;
			unsigned int a;

			for (mi = 0; mi < mode_count(mmu); mi++) {
				struct mbec_mode m, hw;
				uint16_t perm[16];

				mode_of(mmu, 4, mi, &m);
				if (!mbec_kvm_supported(l, fl, &m))
					continue;
				/* KVM's own NPT: the host has NX. */
				if (fl == MBEC_FL_TDP_NPT && !m.efer_nx)
					continue;
				hw_mode_of(fl, &m, &hw);
				mbec_kvm_permission_bitmask(l, fl, &m, perm);
				for (a = 0; a < mbec_kvm_acc_count(l); a++) {
					if (!acc_realizable(l, fl, &m, a))
						continue;
					spte_check_acc(l, fl, &m, &hw, perm, a, acc, na, &t);
				}
			}
			diag("spte %s/%s: %ld ACC values, %ld hardware cases",
			     mbec_flavour_name(fl), layout_name[l], t.accs, t.cases);
			ok(t.cases > 0 && t.bad == 0 && t.esc == 0,
			   "spte %s/%s: hardware agrees with the bitmask (%ld bad, %ld esc)",
			   mbec_flavour_name(fl), layout_name[l], t.bad, t.esc);
		}
	}
}

/* ---- C: the KUnit permission table ---------------------------------------------- */

static void test_perm_table(void)
{
	static const enum mbec_flavour fls[] = {
		MBEC_FL_SHADOW_LEGACY, MBEC_FL_SHADOW_NPT, MBEC_FL_SHADOW_EPT,
		MBEC_FL_TDP_EPT, MBEC_FL_TDP_NPT,
	};
	size_t fi;

	for (fi = 0; fi < ARRAY_SIZE(fls); fi++) {
		enum mbec_flavour fl = fls[fi];
		enum mbec_mmu mmu = mbec_flavour_guest_mmu(fl);
		long modes = 0, cells = 0, bad = 0;
		int mi;

		for (mi = 0; mi < mode_count(mmu); mi++) {
			uint16_t t1[16], care[16], t2[16];
			struct mbec_mode m;
			int idx;

			mode_of(mmu, 4, mi, &m);
			if (!mbec_kvm_supported(MBEC_LAYOUT_MBEC, fl, &m))
				continue;
			/* KVM's own NPT and EPT never see CR0/CR4: keep them at reset values. */
			if (fl == MBEC_FL_TDP_NPT && (m.cr4_smep || m.cr4_smap || !m.efer_nx))
				continue;
			/* The hardware of a TDP flavour runs with the host's CR0.WP=1. */
			if (fl == MBEC_FL_TDP_NPT)
				m.cr0_wp = true;
			modes++;
			if (mbec_arch_perm_table(&m, t1, care)) {
				bad++;
				continue;
			}
			mbec_kvm_permission_bitmask(MBEC_LAYOUT_MBEC, fl, &m, t2);
			for (idx = 0; idx < 16; idx++) {
				cells += __builtin_popcount(care[idx]);
				if (!((t1[idx] ^ t2[idx]) & care[idx]) || bad++ >= 4)
					continue;
				diag("  table %s mode %d idx %d: arch %04x kvm %04x care %04x",
				     mbec_flavour_name(fl), mi, idx, t1[idx], t2[idx], care[idx]);
			}
		}
		diag("perm table %s: %ld modes, %ld (index, ACC) cells compared",
		     mbec_flavour_name(fl), modes, cells);
		ok(modes > 0 && bad == 0,
		   "perm table %s: layer-1 table equals KVM's bitmask (%ld bad)",
		   mbec_flavour_name(fl), bad);
	}
}

/* ---- D: mutations are caught --------------------------------------------------- */

static void test_mutations(void)
{
	struct mbec_mode m;
	uint16_t perm[16];
	int idx, caught = 0, tried = 0;
	unsigned int a;

	/* Everything on: WP, SMEP, SMAP, NX; AC off and on below via modes. */
	mode_of(MBEC_MMU_LEGACY, 4, 1 | 2 | 4 | 8, &m);
	mbec_kvm_permission_bitmask(MBEC_LAYOUT_MBEC, MBEC_FL_SHADOW_LEGACY, &m, perm);
	{
		struct tally t = { 0 };

		sweep(MBEC_LAYOUT_MBEC, MBEC_FL_SHADOW_LEGACY, 4, 2, 32, (int[]){ 1 | 2 | 4 | 8 },
		      1, perm, &t);
		ok(t.bad == 0 && t.cases > 0, "mutation: the unmutated bitmask agrees (%ld cases)",
		   t.cases);
	}
	quiet = true;
	for (idx = 0; idx < 16; idx++) {
		/* W|F together is no access; RSVD with U never differs for a user. */
		if ((idx & 1) && (idx & 8))
			continue;
		for (a = 0; a < 16; a++) {
			uint16_t mut[16];
			struct tally t = { 0 };
			int modes[2] = { 1 | 2 | 4 | 8, 1 | 2 | 4 | 8 | 16 };

			if (!(a & MBEC_ACC_READ))
				continue;	/* no present entry has this ACC */
			memcpy(mut, perm, sizeof(mut));
			mut[idx] ^= 1u << a;
			tried++;
			/* The RSVD index bit is reached only with EFLAGS.AC=1. */
			sweep(MBEC_LAYOUT_MBEC, MBEC_FL_SHADOW_LEGACY, 4, 2, 32,
			      (idx & 4) ? &modes[1] : &modes[0], 1, mut, &t);
			if (t.bad)
				caught++;
		}
	}
	quiet = false;
	diag("mutation: %d of %d single-bit mutations of the legacy bitmask caught", caught, tried);
	ok(tried == 96 && caught == tried,
	   "mutation: every reachable bitmask bit flip is reported");
}

int main(void)
{
	test_guest_walks();
	test_legacy_32bit();
	test_sptes();
	test_perm_table();
	test_mutations();
	return done_testing();
}
