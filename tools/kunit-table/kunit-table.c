// SPDX-License-Identifier: GPL-2.0
/*
 * kunit-table: print the tables of the KVM MMU KUnit suite of kernel/
 * (arch/x86/kvm/mmu/mmu_kunit_tables.h in patch 9 of the series) from the
 * reference model:
 *
 *  - for every MMU configuration the suite builds a permission bitmask for,
 *    the architectural fault table of layer 1 (mbec_arch_perm_table): per
 *    error-code index [4:1], the ACC values an access faults on, and the
 *    ACC values for which the answer means something;
 *  - for representative ACC values per SPTE flavour, the permission bits
 *    layer 2 says KVM installs (mbec_kvm_acc_to_spte), and which of them
 *    hardware honours there;
 *  - the error code KVM makes of an EPT exit qualification, with and
 *    without MBEC (mbec_kvm_exit_qual_to_pfec);
 *  - the exit qualification KVM synthesizes for an EPT violation it finds
 *    walking L1's EPT for L2 (mbec_kvm_nested_ept_qual), bit 6 included;
 *  - the ACC value of a guest EPT entry (mbec_kvm_gpte_access, restricted
 *    to the bits hardware honours without MBEC).
 *
 * The header is committed inside the patch; tests/kernel/kunit-table.t
 * checks that it is what this tool prints now, so the model and the kernel
 * test cannot drift apart silently.
 *
 * usage: kunit-table [-o FILE]
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mbec_model.h"

/* The kernel test's names for the three kinds of permission bitmask. */
static const char *const kind_name[MBEC_MMU_NR] = {
	[MBEC_MMU_LEGACY] = "MMU_KUNIT_LEGACY",
	[MBEC_MMU_EPT] = "MMU_KUNIT_EPT",
	[MBEC_MMU_NPT] = "MMU_KUNIT_NPT",
};

static void usage(FILE *f)
{
	fprintf(f, "usage: kunit-table [-o FILE]\n"
		"Print the KVM MMU KUnit tables (permission bitmask and SPTE cases)\n"
		"computed by the mbecscope reference model.\n");
}

static int perm_case(FILE *out, const struct mbec_mode *m)
{
	uint16_t fault[16], care[16];
	char name[96];
	int i;

	if (mbec_arch_perm_table(m, fault, care)) {
		fprintf(stderr, "kunit-table: the model refused a %s mode\n",
			mbec_mmu_name(m->mmu));
		return -1;
	}
	switch (m->mmu) {
	case MBEC_MMU_LEGACY:
		snprintf(name, sizeof(name), "shadow legacy wp=%d smep=%d smap=%d nx=%d",
			 m->cr0_wp, m->cr4_smep, m->cr4_smap, m->efer_nx);
		break;
	case MBEC_MMU_EPT:
		snprintf(name, sizeof(name), "shadow EPT mbec=%d execonly=%d",
			 m->mbec, m->execonly);
		break;
	default:
		snprintf(name, sizeof(name), "shadow NPT gmet=%d nx=%d", m->gmet, m->efer_nx);
		break;
	}
	fprintf(out, "\t{\n\t\t.name = \"%s\",\n\t\t.kind = %s,\n", name, kind_name[m->mmu]);
	fprintf(out, "\t\t.cr0_wp = %d, .cr4_smep = %d, .cr4_smap = %d, .efer_nx = %d,\n",
		m->cr0_wp, m->cr4_smep, m->cr4_smap, m->efer_nx);
	fprintf(out, "\t\t.mbec = %d, .execonly = %d, .gmet = %d,\n", m->mbec, m->execonly,
		m->gmet);
	fprintf(out, "\t\t.fault = {");
	for (i = 0; i < 16; i++)
		fprintf(out, "%s0x%04x,", i % 8 ? " " : "\n\t\t\t", fault[i]);
	fprintf(out, "\n\t\t},\n\t\t.care = {");
	for (i = 0; i < 16; i++)
		fprintf(out, "%s0x%04x,", i % 8 ? " " : "\n\t\t\t", care[i]);
	fprintf(out, "\n\t\t},\n\t},\n");
	return 0;
}

/* One SPTE case: @acc installed by flavour @fl in mode @m. */
static void spte_case(FILE *out, enum mbec_flavour fl, const struct mbec_mode *m,
		      unsigned int acc)
{
	uint64_t spte = mbec_kvm_acc_to_spte(MBEC_LAYOUT_MBEC, fl, m, acc);
	uint64_t mask;

	if (mbec_flavour_spte_mmu(fl) == MBEC_MMU_EPT)
		mask = EPTE_RWX | (m->mbec ? EPTE_XU : 0);
	else
		mask = PTE_P | PTE_RW | PTE_US | PTE_NX;
	fprintf(out, "\t{ \"%s%s\", %s, %d, 0x%x, 0x%llxULL, 0x%llxULL },\n",
		mbec_flavour_name(fl),
		m->mbec ? " mbec" : m->gmet ? " gmet" : "",
		kind_name[mbec_flavour_spte_mmu(fl)], m->mbec || m->gmet, acc,
		(unsigned long long)(spte & mask), (unsigned long long)mask);
}

/*
 * EPT exit qualification -> error code, for every combination of the bits
 * that matter: the access (0-2), one permission bit (3), XU (6) and the
 * linear-address bits (7-9).
 */
static void qual_pfec_cases(FILE *out)
{
	static const uint64_t bit[] = {
		EPT_VIOL_ACC_READ, EPT_VIOL_ACC_WRITE, EPT_VIOL_ACC_INSTR,
		EPT_VIOL_PROT_READ, EPT_VIOL_PROT_USER_EXEC, EPT_VIOL_GVA_IS_VALID,
		EPT_VIOL_GVA_TRANSLATED, EPT_VIOL_GVA_USER,
	};
	unsigned int combo, i;

	fprintf(out, "static const struct mmu_kunit_qual_case mmu_kunit_qual_cases[] = {\n");
	for (combo = 0; combo < 1u << 8; combo++) {
		uint64_t qual = 0;

		for (i = 0; i < 8; i++)
			if (combo & (1u << i))
				qual |= bit[i];
		fprintf(out, "\t{ 0x%03llx, { 0x%llxULL, 0x%llxULL } },\n", (unsigned long long)qual,
			(unsigned long long)mbec_kvm_exit_qual_to_pfec(MBEC_LAYOUT_MBEC, false, qual),
			(unsigned long long)mbec_kvm_exit_qual_to_pfec(MBEC_LAYOUT_MBEC, true, qual));
	}
	fprintf(out, "};\n\n");
}

/*
 * The exit qualification KVM synthesizes for a violation found in L1's EPT:
 * every access kind, final or paging-structure access (no fetches of
 * paging structures: KVM's walker makes none), every R/W/X/XU
 * combination of the entries, nested MBEC off and on.  The access is given
 * as the error code KVM's walker sees.
 */
static void nested_qual_cases(FILE *out)
{
	struct mbec_nested_ept_in in;
	unsigned int op, ps, prot, mbec;

	fprintf(out, "static const struct mmu_kunit_nested_qual_case mmu_kunit_nested_qual_cases[] = {\n");
	for (op = 0; op < MBEC_OP_NR; op++)
		for (ps = 0; ps < 2; ps++)
			for (prot = 0; prot < 16; prot++)
				for (mbec = 0; mbec < 2; mbec++) {
					uint64_t access = 0, l1 = 0;

					/* KVM never fetches from a paging structure. */
					if (op == MBEC_OP_FETCH && ps)
						continue;
					if (op == MBEC_OP_WRITE)
						access |= PFERR_WRITE;
					if (op == MBEC_OP_FETCH)
						access |= PFERR_FETCH;
					access |= ps ? PFERR_GUEST_PAGE : PFERR_GUEST_FINAL;
					l1 = (prot & 7) | ((prot & 8) ? EPTE_XU : 0);
					memset(&in, 0, sizeof(in));
					in.op = op;
					in.paging_structure = ps;
					in.l1_prot = l1;
					in.nested_mbec = mbec;
					in.nested_advanced_info = mbec;
					fprintf(out, "\t{ 0x%llxULL, 0x%03llx, %u, 0x%03llx },\n",
						(unsigned long long)access, (unsigned long long)l1, mbec,
						(unsigned long long)mbec_kvm_nested_ept_qual(MBEC_LAYOUT_MBEC,
											     &in));
				}
	fprintf(out, "};\n\n");
}

/*
 * The ACC value of a guest EPT entry with every R/W/X/XU combination, with
 * MBEC off (what hardware honours then) and on.
 */
static void gpte_cases(FILE *out)
{
	struct mbec_mode m;
	unsigned int prot, acc, honoured0;

	memset(&m, 0, sizeof(m));
	m.mmu = MBEC_MMU_EPT;
	m.levels = 4;
	m.execonly = true;
	m.advanced_info = true;
	honoured0 = mbec_kvm_acc_honoured(MBEC_LAYOUT_MBEC, MBEC_FL_SHADOW_EPT, &m);
	fprintf(out, "static const struct mmu_kunit_gpte_case mmu_kunit_gpte_cases[] = {\n");
	for (prot = 0; prot < 16; prot++) {
		uint64_t gpte = (prot & 7) | ((prot & 8) ? EPTE_XU : 0);

		acc = mbec_kvm_gpte_access(MBEC_LAYOUT_MBEC, MBEC_FL_SHADOW_EPT, gpte);
		fprintf(out, "\t{ 0x%03llx, { 0x%x, 0x%x } },\n", (unsigned long long)gpte,
			acc & honoured0, acc);
	}
	fprintf(out, "};\n");
}

static int print_tables(FILE *out)
{
	struct mbec_mode m;
	unsigned int bits, acc;

	fprintf(out, "/* SPDX-License-Identifier: GPL-2.0-only */\n"
		"/*\n"
		" * Generated by mbecscope's tools/kunit-table from its reference model:\n"
		" * fault tables from the architectural layer (mbec_arch_perm_table), SPTE\n"
		" * permission bits from the KVM mapping layer (mbec_kvm_acc_to_spte),\n"
		" * exit qualifications and error codes (mbec_kvm_exit_qual_to_pfec,\n"
		" * mbec_kvm_nested_ept_qual), EPT entry access (mbec_kvm_gpte_access).\n"
		" * Do not edit; regenerate with the tool.\n"
		" */\n\n"
		"static const struct mmu_kunit_perm_case mmu_kunit_perm_cases[] = {\n");

	/* Shadow paging of a legacy guest: CR0.WP, CR4.SMEP, CR4.SMAP, EFER.NX. */
	for (bits = 0; bits < 16; bits++) {
		memset(&m, 0, sizeof(m));
		m.mmu = MBEC_MMU_LEGACY;
		m.levels = 4;
		m.cr0_wp = bits & 1;
		m.cr4_smep = bits & 2;
		m.cr4_smap = bits & 4;
		m.efer_nx = bits & 8;
		if (perm_case(out, &m))
			return -1;
	}
	/* Shadow EPT: MBEC (which needs the advanced information), execute-only. */
	for (bits = 0; bits < 4; bits++) {
		memset(&m, 0, sizeof(m));
		m.mmu = MBEC_MMU_EPT;
		m.levels = 4;
		m.mbec = bits & 1;
		m.advanced_info = true;
		m.execonly = bits & 2;
		if (perm_case(out, &m))
			return -1;
	}
	/* Shadow NPT: GMET, EFER.NX of L1. */
	for (bits = 0; bits < 4; bits++) {
		memset(&m, 0, sizeof(m));
		m.mmu = MBEC_MMU_NPT;
		m.levels = 4;
		m.gmet = bits & 1;
		m.efer_nx = bits & 2;
		if (perm_case(out, &m))
			return -1;
	}
	fprintf(out, "};\n\n"
		"static const struct mmu_kunit_spte_case mmu_kunit_spte_cases[] = {\n");

	/* Shadow flavours: every ACC value a guest translation can produce. */
	memset(&m, 0, sizeof(m));
	m.mmu = MBEC_MMU_LEGACY;
	m.levels = 4;
	m.efer_nx = true;
	for (acc = MBEC_ACC_READ; acc <= MBEC_ACC_ALL; acc += 2)
		spte_case(out, MBEC_FL_SHADOW_LEGACY, &m, acc);
	m.mmu = MBEC_MMU_NPT;
	for (acc = MBEC_ACC_READ; acc <= MBEC_ACC_ALL; acc += 2)
		spte_case(out, MBEC_FL_SHADOW_NPT, &m, acc);
	memset(&m, 0, sizeof(m));
	m.mmu = MBEC_MMU_EPT;
	m.levels = 4;
	m.execonly = true;
	m.advanced_info = true;
	for (bits = 0; bits < 2; bits++) {
		m.mbec = bits;
		for (acc = 0; acc <= MBEC_ACC_ALL; acc++)
			spte_case(out, MBEC_FL_SHADOW_EPT, &m, acc);
	}
	/* TDP flavours: the root's access, which every page inherits. */
	for (bits = 0; bits < 2; bits++) {
		m.mbec = bits;
		spte_case(out, MBEC_FL_TDP_EPT, &m, MBEC_ACC_ALL);
	}
	memset(&m, 0, sizeof(m));
	m.mmu = MBEC_MMU_NPT;
	m.levels = 4;
	m.efer_nx = true;
	spte_case(out, MBEC_FL_TDP_NPT, &m, MBEC_ACC_ALL);
	m.gmet = true;
	spte_case(out, MBEC_FL_TDP_NPT, &m, MBEC_ACC_GMET_ROOT);
	fprintf(out, "};\n\n");
	qual_pfec_cases(out);
	nested_qual_cases(out);
	gpte_cases(out);
	return 0;
}

int main(int argc, char **argv)
{
	const char *path = NULL;
	FILE *out = stdout;
	int i;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		} else if (!strcmp(argv[i], "-o") && i + 1 < argc) {
			path = argv[++i];
		} else {
			usage(stderr);
			return 2;
		}
	}
	if (path) {
		out = fopen(path, "w");
		if (!out) {
			fprintf(stderr, "kunit-table: cannot write %s: %s\n", path, strerror(errno));
			return 2;
		}
	}
	if (print_tables(out)) {
		if (path) {
			fclose(out);
			remove(path);
		}
		return 1;
	}
	if (path && fclose(out)) {
		fprintf(stderr, "kunit-table: cannot write %s: %s\n", path, strerror(errno));
		remove(path);
		return 2;
	}
	return 0;
}
