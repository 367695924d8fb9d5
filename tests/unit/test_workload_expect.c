// SPDX-License-Identifier: GPL-2.0
/*
 * The matrix's expectations come from the reference model
 * (workload_expect); here they are held against the architecture's rules
 * for a 4-level walk whose upper entries grant everything, written out
 * independently:
 *   CPL 3: read needs U; write needs U and W; fetch needs U and not NX.
 *   CPL 0: a user page (U=1) may not be read or written under SMAP with
 *          EFLAGS.AC clear, nor fetched under SMEP; a write to a
 *          read-only page faults only with CR0.WP; a fetch needs NX=0.
 *   #PF error code: P=1 (every matrix entry is present), W for writes, U
 *          at CPL 3, I/D for fetches (EFER.NXE is set).
 * Each of WP, SMEP, SMAP and AC must decide some outcome in some mode of
 * the set (flip it there and a page's outcome changes), and the layout's
 * CPL-3 outcome helpers the live checker uses must agree with the model.
 */
#include <string.h>

#include "tap.h"
#include "workload/workload.h"

static bool arch_ok(uint64_t pte, enum mbec_op op, const struct workload_smode *sm)
{
	bool u = pte & PTE_US, w = pte & PTE_RW, nx = pte & PTE_NX;

	if (!sm) {
		if (op == MBEC_OP_READ)
			return u;
		if (op == MBEC_OP_WRITE)
			return u && w;
		return u && !nx;
	}
	if (op == MBEC_OP_FETCH)
		return !nx && !(u && sm->cr4_smep);
	if (u && sm->cr4_smap && !sm->eflags_ac)
		return false;
	if (op == MBEC_OP_WRITE)
		return w || !sm->cr0_wp;
	return true;
}

static uint64_t arch_err(enum mbec_op op, const struct workload_smode *sm)
{
	return PFERR_PRESENT | (op == MBEC_OP_WRITE ? PFERR_WRITE : 0) | (sm ? 0 : PFERR_USER) |
	       (op == MBEC_OP_FETCH ? PFERR_FETCH : 0);
}

/* Outcome bits (read 1, write 2, fetch 4) of page @p in mode @sm by the model. */
static int model_bits(const struct workload_layout *l, const struct workload_page *p,
		      const struct workload_smode *sm)
{
	struct mbec_outcome out;
	int k, bits = 0;

	for (k = 0; k < 3; k++) {
		if (workload_expect(l, p, (enum mbec_op)k, sm, &out))
			return -1;
		if (out.result == MBEC_RES_OK)
			bits |= 1 << k;
	}
	return bits;
}

int main(void)
{
	struct workload_opts o;
	struct workload_layout *l;
	unsigned int i, m, k, bad_ok = 0, bad_err = 0, bad_walk = 0, bad_helper = 0;
	unsigned int checked = 0, faults = 0;
	bool differs[4] = { false };
	int a, b;

	workload_opts_init(&o);
	o.vcpus = 2;
	l = workload_layout_new(&o);
	if (!ok(l != NULL, "layout for 2 vCPUs"))
		return done_testing();

	for (i = 0; i < l->nr_pages; i++) {
		const struct workload_page *p = &l->pages[i];

		if (p->kind != WL_PAGE_MATRIX)
			continue;
		for (m = 0; m <= WORKLOAD_SMODES; m++) {
			const struct workload_smode *sm = m ? &workload_smodes[m - 1] : NULL;

			for (k = 0; k < 3; k++) {
				struct mbec_outcome out;
				bool want = arch_ok(p->pte, (enum mbec_op)k, sm);

				if (workload_expect(l, p, (enum mbec_op)k, sm, &out)) {
					bad_walk++;
					continue;
				}
				checked++;
				if ((out.result == MBEC_RES_OK) != want ||
				    (!want && out.result != MBEC_RES_PAGE_FAULT))
					bad_ok++;
				if (!want) {
					faults++;
					if (out.error_code != arch_err((enum mbec_op)k, sm))
						bad_err++;
				}
			}
		}
		a = model_bits(l, p, NULL);
		if (a != ((workload_read_ok(p->pte) ? 1 : 0) | (workload_write_ok(p->pte) ? 2 : 0) |
			  (workload_fetch_ok(p->pte) ? 4 : 0)))
			bad_helper++;
	}
	ok(!bad_walk, "the model walks every matrix page through the layout's entries (%u failed)",
	   bad_walk);
	ok(checked == 2 * 64 * 3 * (1 + WORKLOAD_SMODES),
	   "every access of every page judged at CPL 3 and in %d supervisor modes (%u)",
	   WORKLOAD_SMODES, checked);
	ok(!bad_ok, "the model lets through exactly what the architecture allows (%u wrong)",
	   bad_ok);
	ok(faults > 0 && !bad_err, "faults carry the architectural error code (%u of %u wrong)",
	   bad_err, faults);
	ok(!bad_helper, "the CPL-3 helpers the checker uses agree with the model (%u pages differ)",
	   bad_helper);

	/*
	 * No mode bit is dead weight: for each of WP, SMEP, SMAP and AC some
	 * mode of the set has it where flipping it changes a page's outcome.
	 */
	for (m = 0; m < WORKLOAD_SMODES; m++) {
		for (k = 0; k < 4; k++) {
			struct workload_smode y = workload_smodes[m];

			if (k == 0)
				y.cr0_wp = !y.cr0_wp;
			else if (k == 1)
				y.cr4_smep = !y.cr4_smep;
			else if (k == 2)
				y.cr4_smap = !y.cr4_smap;
			else
				y.eflags_ac = !y.eflags_ac;
			for (i = 0; i < WORKLOAD_MATRIX_PAGES && !differs[k]; i++)
				differs[k] = model_bits(l, &l->pages[i], &workload_smodes[m]) !=
					     model_bits(l, &l->pages[i], &y);
		}
	}
	ok(differs[0] && differs[1] && differs[2] && differs[3],
	   "each of WP, SMEP, SMAP and AC decides some outcome in some mode (%d %d %d %d)",
	   differs[0], differs[1], differs[2], differs[3]);
	for (m = 0, k = 0; m < WORKLOAD_SMODES; m++)
		for (i = 0; i < m; i++)
			if (!strcmp(workload_smodes[m].name, workload_smodes[i].name))
				k++;
	ok(!k, "the supervisor modes have distinct names");

	/* A spot check the table above must show: U=1 W=0 NX=0 4K page, A1D1. */
	a = model_bits(l, &l->pages[16 + WL_A1D1], &workload_smodes[0]);
	b = model_bits(l, &l->pages[16 + WL_A1D1], &workload_smodes[2]);
	ok(l->pages[16 + WL_A1D1].pte & PTE_US && !(l->pages[16 + WL_A1D1].pte & PTE_RW) &&
	   a == 7 && b == 0,
	   "U1 W0 NX0: WP0 reads, writes and fetches (%d); WP1 SMEP SMAP nothing (%d)", a, b);
	workload_layout_free(l);
	return done_testing();
}
