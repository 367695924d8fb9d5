// SPDX-License-Identifier: GPL-2.0
/*
 * mbecscope model: ask the reference model about one access through one
 * walk.  Layer 1 (the architectural oracle) gives the outcome; layer 2
 * (KVM's mapping) gives the ACC value, the SPTE permission bits KVM may
 * install for it and KVM's own verdict, which must agree with layer 1.
 *
 * The walk is shadowed the way KVM shadows it: legacy entries by shadow
 * paging, EPT entries as L1's EPT for L2 (shadow EPT), NPT entries as
 * L1's NPT for L2 (shadow NPT).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/json.h"
#include "decode/decode.h"
#include "live/btf_layout.h"
#include "mbec_model.h"

#define MAX_WALK	5

static const char model_help[] =
"usage: mbecscope model --mmu legacy|ept|npt --walk E1,E2,... --access read|write|fetch\n"
"                       --mode user|supervisor [--levels N] [--layout classic|mbec|kohler]\n"
"                       [--mbec] [--gmet] [--execonly] [--no-advanced-info]\n"
"                       [--cr0-wp] [--cr4-smep] [--cr4-smap] [--efer-nx] [--eflags-ac]\n"
"                       [--implicit] [--json]\n"
"\n"
"Walk the entries E1,E2,... (hex or decimal, top level first; a non-present\n"
"or large-page entry ends the walk) for one access and print the outcome\n"
"(fault or not, the #PF error code, #NPF EXITINFO1 or EPT exit\n"
"qualification), the ACC value KVM composes from the walk and the SPTE\n"
"permission bits KVM may install for it.  KVM's own verdict (layer 2 of\n"
"the model) is checked against the architectural one (layer 1).\n"
"\n"
"  --mmu M            legacy (x86 paging, shadowed by KVM), ept (L1's EPT),\n"
"                     npt (L1's nested page table)\n"
"  --walk E1,...      the entries, top-down; at most --levels of them\n"
"  --access A         read, write or fetch\n"
"  --mode M           user or supervisor: CPL for legacy/NPT; for EPT the\n"
"                     mode of the linear address, as MBEC uses it\n"
"  --levels N         paging levels: legacy 2, 3, 4 or 5; ept/npt 4 or 5 (default 4)\n"
"  --layout L         KVM layout for ACC and SPTE bits: classic, mbec (default) or\n"
"                     kohler (classic with Kohler's USER_EXEC ACC bit, MBEC not modelled)\n"
"  --mbec             EPT: mode-based execute control on (needs --layout mbec)\n"
"  --gmet             NPT: guest mode execute trap on (needs --layout mbec)\n"
"  --execonly         EPT: the CPU supports execute-only entries\n"
"  --no-advanced-info EPT: no advanced EPT-violation information (bits 9-11)\n"
"  --cr0-wp --cr4-smep --cr4-smap --eflags-ac --implicit\n"
"                     legacy: the control bits and an implicit supervisor access\n"
"  --efer-nx          legacy: EFER.NXE; npt: the host's EFER.NXE\n"
"  --cr4-smep         also for npt: fetch faults report ID\n"
"  --json             print one JSON object\n"
"  --pretty           the same, indented\n"
"\n"
"exit status: 0 the layers agree, 1 they disagree (a model bug), 2 usage error.\n";

enum {
	OPT_MMU = 256, OPT_WALK, OPT_ACCESS, OPT_MODE, OPT_LEVELS, OPT_LAYOUT, OPT_MBEC,
	OPT_GMET, OPT_EXECONLY, OPT_NOADV, OPT_CR0WP, OPT_SMEP, OPT_SMAP, OPT_NX, OPT_AC,
	OPT_IMPLICIT, OPT_JSON, OPT_PRETTY,
};

static const struct option model_opts_long[] = {
	{ "mmu", required_argument, NULL, OPT_MMU },
	{ "walk", required_argument, NULL, OPT_WALK },
	{ "access", required_argument, NULL, OPT_ACCESS },
	{ "mode", required_argument, NULL, OPT_MODE },
	{ "levels", required_argument, NULL, OPT_LEVELS },
	{ "layout", required_argument, NULL, OPT_LAYOUT },
	{ "mbec", no_argument, NULL, OPT_MBEC },
	{ "gmet", no_argument, NULL, OPT_GMET },
	{ "execonly", no_argument, NULL, OPT_EXECONLY },
	{ "no-advanced-info", no_argument, NULL, OPT_NOADV },
	{ "cr0-wp", no_argument, NULL, OPT_CR0WP },
	{ "cr4-smep", no_argument, NULL, OPT_SMEP },
	{ "cr4-smap", no_argument, NULL, OPT_SMAP },
	{ "efer-nx", no_argument, NULL, OPT_NX },
	{ "eflags-ac", no_argument, NULL, OPT_AC },
	{ "implicit", no_argument, NULL, OPT_IMPLICIT },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "pretty", no_argument, NULL, OPT_PRETTY },
	{ "help", no_argument, NULL, 'h' },
	{ NULL, 0, NULL, 0 },
};

struct model_req {
	struct mbec_mode mode;
	struct mbec_access acc;
	enum mbec_layout layout;
	enum mbec_flavour fl;
	uint64_t walk[MAX_WALK];
	int n;
};

static const char *bad_opt(int argc, char **argv)
{
	int i = optind - 1;

	return i > 0 && i < argc ? argv[i] : "?";
}

static int parse_walk(const char *arg, struct model_req *r)
{
	const char *p = arg;
	char item[64];

	r->n = 0;
	for (;;) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);

		if (r->n == MAX_WALK)
			return cli_usage_error("model", "--walk has more than %d entries", MAX_WALK);
		if (len >= sizeof(item))
			return cli_usage_error("model", "--walk entry %d is too long", r->n + 1);
		memcpy(item, p, len);
		item[len] = '\0';
		if (decode_parse_u64(item, &r->walk[r->n]))
			return cli_usage_error("model", errno == ERANGE ?
					       "--walk entry %d '%s' is out of range (more than 64 bits)" :
					       "--walk entry %d '%s' is not a number (use 0x... or decimal)",
					       r->n + 1, item);
		r->n++;
		if (!comma)
			return 0;
		p = comma + 1;
	}
}

/*
 * The outcomes KVM's walker calls a misconfiguration: an EPT
 * misconfiguration, or reserved bits (#PF RSVD, #NPF RSV) at any level.
 */
static bool arch_misconfig(const struct mbec_outcome *o)
{
	if (o->result == MBEC_RES_EPT_MISCONFIG)
		return true;
	return (o->result == MBEC_RES_PAGE_FAULT || o->result == MBEC_RES_NPF) &&
	       (o->error_code & PFERR_RSVD);
}

static const char *result_name(enum mbec_result res)
{
	switch (res) {
	case MBEC_RES_OK:
		return "ok";
	case MBEC_RES_PAGE_FAULT:
		return "page-fault";
	case MBEC_RES_NPF:
		return "npf";
	case MBEC_RES_EPT_VIOLATION:
		return "ept-violation";
	case MBEC_RES_EPT_MISCONFIG:
		return "ept-misconfig";
	}
	return "?";
}

static const char *result_text(enum mbec_result res)
{
	switch (res) {
	case MBEC_RES_OK:
		return "no fault";
	case MBEC_RES_PAGE_FAULT:
		return "#PF";
	case MBEC_RES_NPF:
		return "#NPF";
	case MBEC_RES_EPT_VIOLATION:
		return "EPT violation";
	case MBEC_RES_EPT_MISCONFIG:
		return "EPT misconfiguration";
	}
	return "?";
}

/* Names of @v decoded as @kind, into a static buffer per call site. */
static const char *names_of(enum decode_kind kind, uint64_t v, const struct model_req *r,
			    char *buf, size_t len)
{
	struct decode_opts o = { .layout = r->layout, .mbec = r->mode.mbec };
	static struct decode_result res;

	if (decode_value(kind, v, &o, &res) || !res.names[0])
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%s", res.names);
	return buf;
}

/* The SPTE permission bits as names. */
static const char *spte_names(uint64_t spte, const struct model_req *r, char *buf, size_t len)
{
	static const struct { uint64_t bit; const char *name; } legacy[] = {
		{ PTE_P, "P" }, { PTE_RW, "RW" }, { PTE_US, "US" }, { PTE_NX, "NX" },
	}, ept[] = {
		{ EPTE_R, "R" }, { EPTE_W, "W" }, { EPTE_XS, "XS" }, { EPTE_XU, "XU" },
	};
	bool is_ept = r->mode.mmu == MBEC_MMU_EPT;
	size_t i, n = 4, used = 0;

	buf[0] = '\0';
	for (i = 0; i < n; i++) {
		uint64_t bit = is_ept ? ept[i].bit : legacy[i].bit;
		const char *name = is_ept ? ept[i].name : legacy[i].name;

		if (is_ept && bit == EPTE_XS && r->layout == MBEC_LAYOUT_CLASSIC)
			name = "X";
		if (spte & bit)
			used += snprintf(buf + used, len - used, "%s%s", used ? "|" : "", name);
		if (used >= len)
			break;
	}
	if (!buf[0])
		snprintf(buf, len, "none");
	return buf;
}

static int check_conflicts(const struct model_req *r, unsigned int set)
{
	enum mbec_mmu mmu = r->mode.mmu;

#define SET(o) (set & (1u << ((o) - OPT_MMU)))
	if (SET(OPT_MBEC) && mmu != MBEC_MMU_EPT)
		return cli_usage_error("model", "--mbec applies to --mmu ept only");
	if (SET(OPT_GMET) && mmu != MBEC_MMU_NPT)
		return cli_usage_error("model", "--gmet applies to --mmu npt only");
	if (SET(OPT_EXECONLY) && mmu != MBEC_MMU_EPT)
		return cli_usage_error("model", "--execonly applies to --mmu ept only");
	if (SET(OPT_NOADV) && mmu != MBEC_MMU_EPT)
		return cli_usage_error("model", "--no-advanced-info applies to --mmu ept only");
	if (mmu != MBEC_MMU_LEGACY) {
		static const struct { int opt; const char *name; } legacy_only[] = {
			{ OPT_CR0WP, "--cr0-wp" }, { OPT_SMAP, "--cr4-smap" },
			{ OPT_AC, "--eflags-ac" }, { OPT_IMPLICIT, "--implicit" },
		};
		size_t i;

		for (i = 0; i < sizeof(legacy_only) / sizeof(legacy_only[0]); i++)
			if (SET(legacy_only[i].opt))
				return cli_usage_error("model", "%s applies to --mmu legacy only",
						       legacy_only[i].name);
		if (mmu == MBEC_MMU_EPT && SET(OPT_SMEP))
			return cli_usage_error("model", "--cr4-smep has no meaning for --mmu ept");
		if (mmu == MBEC_MMU_EPT && SET(OPT_NX))
			return cli_usage_error("model", "--efer-nx has no meaning for --mmu ept");
	}
#undef SET
	if (r->acc.implicit && r->acc.op == MBEC_OP_FETCH)
		return cli_usage_error("model", "--implicit cannot be a fetch (implicit accesses "
				       "are data accesses)");
	if (r->layout == MBEC_LAYOUT_CLASSIC && r->mode.mbec)
		return cli_usage_error("model", "--mbec needs --layout mbec (classic KVM has no "
				       "MBEC)");
	if (r->layout == MBEC_LAYOUT_CLASSIC && r->mode.gmet)
		return cli_usage_error("model", "--gmet needs --layout mbec (classic KVM has no "
				       "GMET)");
	if (r->mode.mbec && !r->mode.advanced_info)
		return cli_usage_error("model", "--mbec and --no-advanced-info conflict (KVM "
				       "turns MBEC off without advanced EPT-violation info)");
	if (mmu == MBEC_MMU_LEGACY && r->mode.levels == 2) {
		int i;

		for (i = 0; i < r->n; i++)
			if (r->walk[i] >> 32)
				return cli_usage_error("model", "--walk entry %d 0x%" PRIx64 " does "
						       "not fit a 32-bit entry (--levels 2)", i + 1,
						       r->walk[i]);
	}
	if (mmu == MBEC_MMU_LEGACY && r->mode.levels == 3 && r->n &&
	    (r->walk[0] & PTE_P) && (r->walk[0] & (PTE_RW | PTE_US | PTE_NX)))
		return cli_usage_error("model", "--walk entry 1 is a PAE PDPTE: bits 1, 2 and 63 "
				       "must be clear (the CPU refuses it at MOV CR3)");
	return 0;
}

struct model_answer {
	struct mbec_outcome arch;
	struct mbec_kvm_walk_out kvm;
	bool kvm_ok;		/* layer 2 answered (the combination is supported) */
	unsigned int acc;	/* ACC composed over the walk */
	unsigned int fault_acc;	/* ACC KVM asks for this access (when no fault) */
	uint64_t spte;		/* permission bits of the SPTE for fault_acc */
	uint64_t pfec;		/* the error code KVM works with */
	uint64_t kvm_error_code;	/* EPT: exit qualification -> error code */
	bool agree;
};

static void ask(const struct model_req *r, struct model_answer *a)
{
	struct mbec_kvm_fault f;

	memset(a, 0, sizeof(*a));
	mbec_arch_walk(&r->mode, r->walk, r->n, &r->acc, &a->arch);

	a->acc = mbec_kvm_compose_acc(r->layout, r->fl, &r->mode, r->walk, r->n);
	a->kvm_ok = mbec_kvm_supported(r->layout, r->fl, &r->mode);
	mbec_kvm_fault_for_access(r->layout, r->fl, &r->mode, &r->acc, &f);
	a->pfec = f.error_code;
	if (r->mode.mmu == MBEC_MMU_EPT) {
		a->pfec = mbec_kvm_exit_qual_to_pfec(r->layout, r->mode.mbec, f.exit_qual);
		if (a->arch.result == MBEC_RES_EPT_VIOLATION)
			a->kvm_error_code = mbec_kvm_exit_qual_to_pfec(r->layout, r->mode.mbec,
								       a->arch.exit_qual);
	}
	a->fault_acc = mbec_kvm_fault_acc(r->layout, r->fl, &r->mode, a->acc, a->pfec);
	a->spte = mbec_kvm_acc_to_spte(r->layout, r->fl, &r->mode, a->fault_acc);
	a->agree = true;
	if (a->kvm_ok && !mbec_kvm_walk(r->layout, r->fl, &r->mode, r->walk, r->n, &f, &a->kvm)) {
		bool arch_fault = mbec_outcome_faults(&a->arch);
		a->agree = a->kvm.fault == arch_fault &&
			   a->kvm.misconfig == arch_misconfig(&a->arch);
	} else {
		a->kvm_ok = false;
	}
}

static void entry_text(const struct model_req *r, uint64_t e, char *buf, size_t len)
{
	enum decode_kind k = r->mode.mmu == MBEC_MMU_EPT ? DECODE_EPT_PTE : DECODE_GPTE;
	char names[DECODE_DESC_LEN * 2];

	names_of(k, e, r, names, sizeof(names));
	snprintf(buf, len, "%s", names);
}

static void print_text(const struct model_req *r, const struct model_answer *a)
{
	const struct mbec_mode *m = &r->mode;
	static const char *const ops[] = { "read", "write", "fetch" };
	char buf[DECODE_DESC_LEN * 2], letters[8];
	int i;

	printf("model: %s, %d levels, layout %s", mbec_mmu_name(m->mmu), m->levels,
	       mbec_layout_name(r->layout));
	if (m->mmu == MBEC_MMU_EPT)
		printf(", MBEC %s%s%s", m->mbec ? "on" : "off", m->execonly ? ", execonly" : "",
		       m->advanced_info ? "" : ", no advanced info");
	if (m->mmu == MBEC_MMU_NPT)
		printf(", GMET %s%s", m->gmet ? "on" : "off", m->efer_nx ? ", EFER.NXE" : "");
	if (m->mmu == MBEC_MMU_LEGACY)
		printf("%s%s%s%s%s", m->cr0_wp ? ", CR0.WP" : "", m->cr4_smep ? ", SMEP" : "",
		       m->cr4_smap ? ", SMAP" : "", m->efer_nx ? ", EFER.NXE" : "",
		       m->eflags_ac ? ", EFLAGS.AC" : "");
	printf("\naccess: %s%s %s%s\n", r->acc.user ? "user" : "supervisor",
	       m->mmu == MBEC_MMU_EPT ? "-mode address," : "", ops[r->acc.op],
	       r->acc.implicit ? " (implicit)" : "");
	printf("walk:\n");
	for (i = 0; i < r->n; i++) {
		entry_text(r, r->walk[i], buf, sizeof(buf));
		printf("  level %d  0x%016" PRIx64 "  %s\n", m->levels - i, r->walk[i], buf);
	}
	printf("outcome: %s", result_text(a->arch.result));
	if (mbec_outcome_faults(&a->arch))
		printf(" at level %d", a->arch.level);
	putchar('\n');
	switch (a->arch.result) {
	case MBEC_RES_PAGE_FAULT:
		printf("  error_code: 0x%" PRIx64 "  %s\n", a->arch.error_code,
		       names_of(DECODE_PFEC, a->arch.error_code, r, buf, sizeof(buf)));
		if (a->kvm_ok && a->kvm.fault &&
		    (uint32_t)a->kvm.error_code != (uint32_t)a->arch.error_code) {
			uint32_t kec = (uint32_t)a->kvm.error_code;
			/* docs/model.md: KVM sets I/D for every fetch with EFER.NX. */
			bool known = m->levels == 2 && m->efer_nx &&
				     (kec ^ a->arch.error_code) == PFERR_FETCH;

			printf("  KVM's walker reports 0x%" PRIx32 "  %s (%s)\n", kec,
			       names_of(DECODE_PFEC, kec, r, buf, sizeof(buf)),
			       known ? "known: with EFER.NX it sets I/D on 32-bit paging too, "
			       "see docs/model.md" : "the error codes differ");
		}
		break;
	case MBEC_RES_NPF:
		printf("  error_code: 0x%" PRIx64 "  %s (EXITINFO1)\n", a->arch.error_code,
		       names_of(DECODE_NPF, a->arch.error_code, r, buf, sizeof(buf)));
		break;
	case MBEC_RES_EPT_VIOLATION:
		printf("  exit_qual: 0x%" PRIx64 "  %s\n", a->arch.exit_qual,
		       names_of(DECODE_EXIT_QUAL, a->arch.exit_qual, r, buf, sizeof(buf)));
		if (a->arch.undefined_mask)
			printf("  undefined bits: 0x%" PRIx64 " (reported as 0)\n",
			       a->arch.undefined_mask);
		printf("  kvm_error_code: 0x%" PRIx64 "  %s (layout %s)\n", a->kvm_error_code,
		       names_of(DECODE_PFEC, a->kvm_error_code, r, buf, sizeof(buf)),
		       mbec_layout_name(r->layout));
		break;
	default:
		break;
	}
	if (arch_misconfig(&a->arch)) {
		/* KVM's walker stops there too: nothing is composed past it. */
		printf("acc: none: the walk ends at level %d on %s, whatever the access; no "
		       "SPTE is installed\n", a->arch.level,
		       a->arch.result == MBEC_RES_EPT_MISCONFIG ? "a misconfigured entry" :
		       "an entry with reserved bits");
	} else {
		printf("acc: 0x%x (%s)  composed by KVM over the walk\n", a->acc,
		       decode_acc_letters(a->acc, r->layout, letters));
		if (a->fault_acc != a->acc)
			printf("acc for this access: 0x%x (%s)\n", a->fault_acc,
			       decode_acc_letters(a->fault_acc, r->layout, letters));
		printf("spte: 0x%" PRIx64 "  %s  the most KVM may grant%s\n", a->spte,
		       spte_names(a->spte, r, buf, sizeof(buf)),
		       mbec_outcome_faults(&a->arch) ? " (none is installed: the access faults)" :
		       "");
	}
	if (!a->kvm_ok)
		printf("kvm: this KVM layout cannot run this mode; no layer-2 verdict\n");
	else if (!a->agree)
		printf("DISAGREE: KVM's walk (layer 2) says %s%s, the architecture (layer 1) %s\n",
		       a->kvm.fault ? "fault" : "no fault", a->kvm.misconfig ? " (misconfig)" : "",
		       result_text(a->arch.result));
	else
		printf("kvm: agrees (fault=%s)\n", a->kvm.fault ? "yes" : "no");
}

static void print_json(const struct model_req *r, const struct model_answer *a, bool pretty)
{
	static const char *const ops[] = { "read", "write", "fetch" };
	const struct mbec_mode *m = &r->mode;
	struct json_writer jw;
	char buf[DECODE_DESC_LEN * 2], letters[8];
	int i;

	json_init(&jw, stdout, pretty);
	json_obj_begin(&jw);
	json_kv_str(&jw, "mmu", mbec_mmu_name(m->mmu));
	json_kv_u64(&jw, "levels", m->levels);
	json_kv_str(&jw, "layout", mbec_layout_name(r->layout));
	json_kv_str(&jw, "flavour", mbec_flavour_name(r->fl));
	json_key(&jw, "flags");
	json_obj_begin(&jw);
	json_kv_bool(&jw, "mbec", m->mbec);
	json_kv_bool(&jw, "gmet", m->gmet);
	json_kv_bool(&jw, "execonly", m->execonly);
	json_kv_bool(&jw, "advanced_info", m->advanced_info);
	json_kv_bool(&jw, "cr0_wp", m->cr0_wp);
	json_kv_bool(&jw, "cr4_smep", m->cr4_smep);
	json_kv_bool(&jw, "cr4_smap", m->cr4_smap);
	json_kv_bool(&jw, "efer_nx", m->efer_nx);
	json_kv_bool(&jw, "eflags_ac", m->eflags_ac);
	json_obj_end(&jw);
	json_kv_str(&jw, "access", ops[r->acc.op]);
	json_kv_str(&jw, "mode", r->acc.user ? "user" : "supervisor");
	json_kv_bool(&jw, "implicit", r->acc.implicit);
	json_key(&jw, "walk");
	json_arr_begin(&jw);
	for (i = 0; i < r->n; i++) {
		json_obj_begin(&jw);
		json_kv_u64(&jw, "level", m->levels - i);
		json_kv_hex(&jw, "entry", r->walk[i]);
		entry_text(r, r->walk[i], buf, sizeof(buf));
		json_kv_str(&jw, "names", buf);
		json_obj_end(&jw);
	}
	json_arr_end(&jw);
	json_kv_str(&jw, "result", result_name(a->arch.result));
	json_kv_bool(&jw, "fault", mbec_outcome_faults(&a->arch));
	json_kv_bool(&jw, "misconfig", arch_misconfig(&a->arch));
	if (mbec_outcome_faults(&a->arch))
		json_kv_u64(&jw, "level", a->arch.level);
	if (a->arch.result == MBEC_RES_PAGE_FAULT || a->arch.result == MBEC_RES_NPF) {
		json_kv_hex(&jw, "error_code", a->arch.error_code);
		json_kv_str(&jw, "error_code_names",
			    names_of(a->arch.result == MBEC_RES_NPF ? DECODE_NPF : DECODE_PFEC,
				     a->arch.error_code, r, buf, sizeof(buf)));
	}
	if (a->arch.result == MBEC_RES_EPT_VIOLATION) {
		json_kv_hex(&jw, "exit_qual", a->arch.exit_qual);
		json_kv_str(&jw, "exit_qual_names", names_of(DECODE_EXIT_QUAL, a->arch.exit_qual,
							     r, buf, sizeof(buf)));
		json_kv_hex(&jw, "undefined_mask", a->arch.undefined_mask);
		json_kv_hex(&jw, "kvm_error_code", a->kvm_error_code);
	}
	json_kv_u64(&jw, "acc", a->acc);
	json_kv_str(&jw, "acc_letters", decode_acc_letters(a->acc, r->layout, letters));
	json_kv_u64(&jw, "fault_acc", a->fault_acc);
	json_kv_hex(&jw, "spte", a->spte);
	json_kv_str(&jw, "spte_names", spte_names(a->spte, r, buf, sizeof(buf)));
	json_key(&jw, "kvm");
	if (a->kvm_ok) {
		json_obj_begin(&jw);
		json_kv_bool(&jw, "fault", a->kvm.fault);
		json_kv_bool(&jw, "misconfig", a->kvm.misconfig);
		json_kv_hex(&jw, "error_code", a->kvm.error_code);
		json_kv_hex(&jw, "exit_qual", a->kvm.exit_qual);
		json_kv_u64(&jw, "acc", a->kvm.acc);
		json_obj_end(&jw);
	} else {
		json_null(&jw);
	}
	json_kv_bool(&jw, "agree", a->agree);
	json_obj_end(&jw);
	json_finish(&jw);
}

int cmd_model(int argc, char **argv)
{
	struct model_req r = { .layout = MBEC_LAYOUT_MBEC };
	const char *mmu = NULL, *walk = NULL, *access = NULL, *mode = NULL, *levels = NULL;
	bool json = false, pretty = false;
	struct model_answer a;
	unsigned int set = 0;
	int c, need, ret;

	r.mode.advanced_info = true;
	optind = 0;
	opterr = 0;
	if (argc == 2 && !strcmp(argv[1], "--list-options"))
		return cli_list_options(model_opts_long, ":h");
	while ((c = getopt_long(argc, argv, ":h", model_opts_long, NULL)) != -1) {
		if (c >= OPT_MMU && c <= OPT_PRETTY)
			set |= 1u << (c - OPT_MMU);
		switch (c) {
		case OPT_MMU:
			mmu = optarg;
			break;
		case OPT_WALK:
			walk = optarg;
			break;
		case OPT_ACCESS:
			access = optarg;
			break;
		case OPT_MODE:
			mode = optarg;
			break;
		case OPT_LEVELS:
			levels = optarg;
			break;
		case OPT_LAYOUT:
			if (mbec_layout_parse(optarg, &r.layout))
				return cli_usage_error("model", "--layout '%s': use classic, mbec or kohler",
						       optarg);
			break;
		case OPT_MBEC:
			r.mode.mbec = true;
			break;
		case OPT_GMET:
			r.mode.gmet = true;
			break;
		case OPT_EXECONLY:
			r.mode.execonly = true;
			break;
		case OPT_NOADV:
			r.mode.advanced_info = false;
			break;
		case OPT_CR0WP:
			r.mode.cr0_wp = true;
			break;
		case OPT_SMEP:
			r.mode.cr4_smep = true;
			break;
		case OPT_SMAP:
			r.mode.cr4_smap = true;
			break;
		case OPT_NX:
			r.mode.efer_nx = true;
			break;
		case OPT_AC:
			r.mode.eflags_ac = true;
			break;
		case OPT_IMPLICIT:
			r.acc.implicit = true;
			break;
		case OPT_JSON:
			json = true;
			break;
		case OPT_PRETTY:
			json = pretty = true;
			break;
		case 'h':
			fputs(model_help, stdout);
			return EXIT_FINE;
		case ':':
			return cli_usage_error("model", "option '%s' needs a value",
					       bad_opt(argc, argv));
		default:
			return cli_usage_error("model", "unknown option '%s'; try "
					       "'mbecscope model --help'", bad_opt(argc, argv));
		}
	}
	if (optind < argc)
		return cli_usage_error("model", "unexpected argument '%s'", argv[optind]);
	if (!mmu || !walk || !access || !mode)
		return cli_usage_error("model", "missing %s; try 'mbecscope model --help'",
				       !mmu ? "--mmu" : !walk ? "--walk" : !access ? "--access" :
				       "--mode");

	if (!strcmp(mmu, "legacy")) {
		r.mode.mmu = MBEC_MMU_LEGACY;
		r.fl = MBEC_FL_SHADOW_LEGACY;
	} else if (!strcmp(mmu, "ept")) {
		r.mode.mmu = MBEC_MMU_EPT;
		r.fl = MBEC_FL_SHADOW_EPT;
	} else if (!strcmp(mmu, "npt")) {
		r.mode.mmu = MBEC_MMU_NPT;
		r.fl = MBEC_FL_SHADOW_NPT;
	} else {
		return cli_usage_error("model", "--mmu '%s': use legacy, ept or npt", mmu);
	}
	if (!strcmp(access, "read"))
		r.acc.op = MBEC_OP_READ;
	else if (!strcmp(access, "write"))
		r.acc.op = MBEC_OP_WRITE;
	else if (!strcmp(access, "fetch"))
		r.acc.op = MBEC_OP_FETCH;
	else
		return cli_usage_error("model", "--access '%s': use read, write or fetch", access);
	if (!strcmp(mode, "user"))
		r.acc.user = true;
	else if (strcmp(mode, "supervisor"))
		return cli_usage_error("model", "--mode '%s': use user or supervisor", mode);

	r.mode.levels = 4;
	if (levels) {
		uint64_t v;

		if (decode_parse_u64(levels, &v) || v < 2 || v > 5 ||
		    (r.mode.mmu != MBEC_MMU_LEGACY && v < 4))
			return cli_usage_error("model", "--levels '%s': use %s", levels,
					       r.mode.mmu == MBEC_MMU_LEGACY ? "2, 3, 4 or 5" :
					       "4 or 5");
		r.mode.levels = v;
	}
	ret = parse_walk(walk, &r);
	if (ret)
		return ret;
	if (r.n > r.mode.levels)
		return cli_usage_error("model", "--walk has %d entries but a %d-level walk has at "
				       "most %d", r.n, r.mode.levels, r.mode.levels);
	ret = check_conflicts(&r, set);
	if (ret)
		return ret;
	/*
	 * The walk ends at a not-present entry, a leaf, or an entry with
	 * reserved bits or an EPT misconfiguration, at any level.
	 */
	need = mbec_arch_walk_length(&r.mode, r.walk, r.n);
	if (need < 0)
		return cli_usage_error("model", "the model refuses this walk as impossible "
				       "(check --levels and the entries)");
	if (need > r.n)
		return cli_usage_error("model", "--walk ends at level %d but the walk goes on "
				       "(entry %d is present and not a large page)",
				       r.mode.levels - r.n + 1, r.n);

	if (mbec_arch_walk(&r.mode, r.walk, r.n, &r.acc, &a.arch))
		return cli_usage_error("model", "the model refuses this walk as impossible "
				       "(check --levels and the entries)");
	if (a.arch.used && a.arch.used < r.n)
		return cli_usage_error("model", "--walk entry %d follows the end of the walk "
				       "(it stops at level %d)", a.arch.used + 1,
				       r.mode.levels - a.arch.used + 1);
	ask(&r, &a);
	if (json)
		print_json(&r, &a, pretty);
	else
		print_text(&r, &a);
	return a.agree ? EXIT_FINE : EXIT_ANOMALY;
}
