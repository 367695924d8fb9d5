// SPDX-License-Identifier: GPL-2.0
/*
 * Decoder tables: names of every exit-qualification bit, the context rules
 * that flag bits undefined, the spec's worked #NPF examples, SPTEs of both
 * layouts (present, access-tracked, MMIO, frozen), role words of both
 * built-in layouts, ACC values and number parsing.
 *
 * Expected values are written out by hand from the spec, not computed
 * with the code under test.
 */
#include <errno.h>
#include <string.h>

#include "tap.h"
#include "decode/decode.h"
#include "live/btf_layout.h"
#include "mbec_model.h"

static struct decode_result res;

static const struct decode_result *dec(enum decode_kind k, uint64_t v, enum mbec_layout l,
				       bool mbec, enum spte_format fmt)
{
	struct decode_opts o = { .layout = l, .mbec = mbec, .format = fmt };

	if (decode_value(k, v, &o, &res))
		diag("decode_value(%d, 0x%llx) failed", k, (unsigned long long)v);
	return &res;
}

static const char *extra_str(const char *key)
{
	const struct decode_extra *x = decode_extra_find(&res, key);

	return x ? x->text : "(none)";
}

static uint64_t extra_u(const char *key)
{
	const struct decode_extra *x = decode_extra_find(&res, key);

	return x ? x->u : 0xdeadULL;
}

static bool has_warning(const char *needle)
{
	unsigned int i;

	for (i = 0; i < res.nr_warnings; i++)
		if (strstr(res.warnings[i], needle))
			return true;
	return false;
}

static void test_exit_qual_names(void)
{
	static const char *const want[17] = {
		"ACC_READ", "ACC_WRITE", "ACC_INSTR", "PROT_READ", "PROT_WRITE", "PROT_EXEC",
		"PROT_USER_EXEC", "GVA_IS_VALID", "GVA_TRANSLATED", "GVA_USER", "GVA_WRITABLE",
		"GVA_NX", "NMI_UNBLOCK", "SHSTK", "SSS", "GPV", "ASYNC",
	};
	unsigned int b;

	for (b = 0; b < 17; b++) {
		dec(DECODE_EXIT_QUAL, 1ULL << b, MBEC_LAYOUT_MBEC, true, 0);
		ok(res.nr_fields == 1 && !strcmp(res.fields[0].name, want[b]) &&
		   res.fields[0].lo == b, "exit-qual bit %u is %s", b, want[b]);
	}
	/* every bit above 16 is flagged undefined */
	dec(DECODE_EXIT_QUAL, ~0ULL << 17, MBEC_LAYOUT_MBEC, true, 0);
	ok(res.nr_fields == 47 && res.flagged_mask == ~0ULL << 17,
	   "exit-qual bits 17-63 are 47 undefined fields");
	ok(res.fields[0].flags & DF_UNDEFINED, "bit 17 carries DF_UNDEFINED");

	/* the done-when example: 0x1ab names every bit */
	dec(DECODE_EXIT_QUAL, 0x1ab, MBEC_LAYOUT_MBEC, false, 0);
	ok(!strcmp(res.names, "ACC_READ|ACC_WRITE|PROT_READ|PROT_EXEC|GVA_IS_VALID|"
		   "GVA_TRANSLATED"), "0x1ab names: %s", res.names);
	is_u64(res.flagged_mask, 0, "0x1ab has no undefined bit");
}

static void test_exit_qual_context(void)
{
	const struct decode_field *f;

	dec(DECODE_EXIT_QUAL, 0x1c4, MBEC_LAYOUT_MBEC, false, 0);
	f = decode_field_find(&res, "PROT_USER_EXEC");
	ok(f && (f->flags & DF_UNDEFINED) && strstr(f->note, "MBEC off"),
	   "bit 6 without MBEC: undefined (MBEC off)");
	is_u64(res.flagged_mask, 0x40, "flagged mask is bit 6");

	dec(DECODE_EXIT_QUAL, 0x1c4, MBEC_LAYOUT_MBEC, true, 0);
	f = decode_field_find(&res, "PROT_USER_EXEC");
	ok(f && !f->flags, "bit 6 with MBEC: defined");

	/* advanced info bits without a valid translated GVA */
	dec(DECODE_EXIT_QUAL, 0x281, MBEC_LAYOUT_MBEC, true, 0);
	f = decode_field_find(&res, "GVA_USER");
	ok(f && (f->flags & DF_UNDEFINED), "bit 9 without bit 8: undefined");
	dec(DECODE_EXIT_QUAL, 0x381, MBEC_LAYOUT_MBEC, true, 0);
	f = decode_field_find(&res, "GVA_USER");
	ok(f && !(f->flags & DF_UNDEFINED), "bit 9 with bits 7 and 8 (MBEC): defined");
	dec(DECODE_EXIT_QUAL, 0x381, MBEC_LAYOUT_MBEC, false, 0);
	f = decode_field_find(&res, "GVA_USER");
	ok(f && (f->flags & DF_NOTE) && !(f->flags & DF_UNDEFINED),
	   "bit 9 without MBEC: noted as needing advanced info");
	dec(DECODE_EXIT_QUAL, 0x101, MBEC_LAYOUT_MBEC, false, 0);
	f = decode_field_find(&res, "GVA_TRANSLATED");
	ok(f && (f->flags & DF_UNDEFINED), "bit 8 without bit 7: undefined");
	dec(DECODE_EXIT_QUAL, 0x8, MBEC_LAYOUT_MBEC, false, 0);
	ok(has_warning("no access bit"), "no access bit: warning");
	dec(DECODE_EXIT_QUAL, 0x81, MBEC_LAYOUT_MBEC, false, 0);
	ok(!strcmp(extra_str("gva_access"), "guest paging structure (or A/D update)"),
	   "bit 7 without 8: paging-structure access");
}

static void test_kvm_error_code(void)
{
	/* classic: reads are USER; PRESENT from 3-5; FINAL from 7+8 */
	dec(DECODE_EXIT_QUAL, 0x1ab, MBEC_LAYOUT_CLASSIC, false, 0);
	is_u64(extra_u("kvm_error_code"), 0x100000007ULL, "classic 0x1ab -> P|W|U|FINAL");
	dec(DECODE_EXIT_QUAL, 0x1ab, MBEC_LAYOUT_MBEC, false, 0);
	is_u64(extra_u("kvm_error_code"), 0x100000003ULL, "mbec 0x1ab -> P|W|FINAL (no U)");
	/* mbec: bit 6 makes PRESENT with MBEC; 7+8+9 make USER */
	dec(DECODE_EXIT_QUAL, 0x3c4, MBEC_LAYOUT_MBEC, true, 0);
	is_u64(extra_u("kvm_error_code"), 0x100000015ULL, "mbec+MBEC 0x3c4 -> P|U|F|FINAL");
	dec(DECODE_EXIT_QUAL, 0x3c4, MBEC_LAYOUT_MBEC, false, 0);
	is_u64(extra_u("kvm_error_code"), 0x100000014ULL, "mbec, MBEC off: bit 6 ignored");
	dec(DECODE_EXIT_QUAL, 0x3c4, MBEC_LAYOUT_CLASSIC, false, 0);
	is_u64(extra_u("kvm_error_code"), 0x100000010ULL, "classic 0x3c4 -> F|FINAL");
	/* paging-structure access: GUEST_PAGE */
	dec(DECODE_EXIT_QUAL, 0x81, MBEC_LAYOUT_CLASSIC, false, 0);
	is_u64(extra_u("kvm_error_code"), 0x200000004ULL, "classic 0x81 -> U|GUEST_PAGE");
	dec(DECODE_EXIT_QUAL, 0x81, MBEC_LAYOUT_MBEC, false, 0);
	is_u64(extra_u("kvm_error_code"), 0x200000000ULL, "mbec 0x81 -> GUEST_PAGE");
	dec(DECODE_EXIT_QUAL, 0x2, MBEC_LAYOUT_MBEC, false, 0);
	is_u64(extra_u("kvm_error_code"), 0x2, "no GVA: WRITE only");
}

static void test_npf_pfec(void)
{
	dec(DECODE_NPF, 0x100000005ULL, MBEC_LAYOUT_MBEC, false, 0);
	ok(!strcmp(res.names, "P|US|FINAL"), "npf 0x100000005 is P|US|FINAL (%s)", res.names);
	ok(!strcmp(extra_str("stage"), "final translation"), "npf stage final");
	dec(DECODE_NPF, 0x100000011ULL, MBEC_LAYOUT_MBEC, false, 0);
	ok(!strcmp(res.names, "P|ID|FINAL"), "npf 0x100000011 is P|ID|FINAL (%s)", res.names);
	dec(DECODE_NPF, 0x200000006ULL, MBEC_LAYOUT_MBEC, false, 0);
	ok(!strcmp(res.names, "RW|US|PAGE"), "npf 0x200000006 is RW|US|PAGE");
	ok(!strcmp(extra_str("stage"), "guest page-table walk"), "npf stage walk");
	dec(DECODE_NPF, 0x300000020ULL, MBEC_LAYOUT_MBEC, false, 0);
	is_u64(res.flagged_mask, 0x20, "npf bit 5 is undefined");
	ok(has_warning("FINAL and PAGE"), "npf FINAL+PAGE warns");

	dec(DECODE_PFEC, 0x1f, MBEC_LAYOUT_MBEC, false, 0);
	ok(!strcmp(res.names, "PRESENT|WRITE|USER|RSVD|FETCH"), "pfec 0x1f names");
	ok(has_warning("WRITE and FETCH"), "pfec WRITE+FETCH warns");
	dec(DECODE_PFEC, 0x3000000000000ULL | PFERR_GUEST_FINAL, MBEC_LAYOUT_MBEC, false, 0);
	ok(!strcmp(res.names, "GUEST_FINAL|IMPLICIT_ACCESS|PRIVATE_ACCESS"),
	   "pfec KVM-synthetic bits named (%s)", res.names);
	dec(DECODE_PFEC, 0x80, MBEC_LAYOUT_MBEC, false, 0);
	is_u64(res.flagged_mask, 0x80, "pfec bit 7 undefined");
	dec(DECODE_PFEC, 0x8, MBEC_LAYOUT_MBEC, false, 0);
	ok(has_warning("RSVD without PRESENT"), "pfec RSVD without P warns");
}

static void test_spte_mbec(void)
{
	/* TDP EPT leaf, MBEC: R|W|XS|XU, A, D, MMU-present, host+MMU-writable */
	dec(DECODE_SPTE, 0x00a0000012345f07ULL, MBEC_LAYOUT_MBEC, false, SPTE_FMT_EPT);
	ok(!strcmp(extra_str("class"), "present"), "mbec EPT leaf is present");
	is_u64(extra_u("grants"), 0xf, "R|W|XS|XU grants rwux");
	ok(decode_field_find(&res, "XS") && decode_field_find(&res, "XU") &&
	   decode_field_find(&res, "HOST_WRITABLE") && decode_field_find(&res, "MMU_WRITABLE"),
	   "XS, XU, HOST_WRITABLE (53), MMU_WRITABLE (55) named");
	ok(res.nr_warnings == 0, "a well-formed SPTE has no warning");
	is_u64(decode_field_find(&res, "PFN")->value, 0x12345, "PFN");
	ok(!strcmp(extra_str("ad_type"), "enabled"), "A/D enabled");

	/* XS without XU on a direct leaf is suspicious */
	dec(DECODE_SPTE, 0x00a0000000000b07ULL, MBEC_LAYOUT_MBEC, false, SPTE_FMT_EPT);
	ok(has_warning("XS != XU"), "XS without XU warns");
	/* W without MMU-writable */
	dec(DECODE_SPTE, 0x0020000000000f07ULL, MBEC_LAYOUT_MBEC, false, SPTE_FMT_EPT);
	ok(has_warning("without MMU-writable"), "W without MMU-writable warns");
	/* MMU-writable without host-writable */
	dec(DECODE_SPTE, 0x0080000000000c05ULL, MBEC_LAYOUT_MBEC, false, SPTE_FMT_EPT);
	ok(has_warning("without host-writable"), "MMU-writable without host-writable warns");

	/* access-tracked: R|XS|XU saved at 52/54/62, A/D disabled (61:60 = 1) */
	dec(DECODE_SPTE, 0x5050000001234800ULL, MBEC_LAYOUT_MBEC, false, SPTE_FMT_EPT);
	ok(!strcmp(extra_str("class"), "access-tracked"), "mbec access-tracked");
	ok(!strcmp(extra_str("saved"), "R|XS|XU"), "saved R|XS|XU (%s)", extra_str("saved"));
	is_u64(extra_u("restored"), 0x1000000001234c05ULL, "restored SPTE");
	ok(decode_field_find(&res, "SAVED_XU") != NULL, "bit 62 is SAVED_XU");
	/* the first posting of the series forgot XU: a tracked SPTE without it */
	dec(DECODE_SPTE, 0x1050000001234800ULL, MBEC_LAYOUT_MBEC, false, SPTE_FMT_EPT);
	ok(!strcmp(extra_str("saved"), "R|XS"), "saved R|XS only");
	dec(DECODE_SPTE, 0x1000000001234800ULL, MBEC_LAYOUT_MBEC, false, SPTE_FMT_EPT);
	ok(has_warning("no saved permission"), "tracked with nothing saved warns");

	/* MMIO: W|X, generation 0x2a5a5 in bits 9:3 and 62:52 */
	dec(DECODE_SPTE, 0x54b000000000012eULL, MBEC_LAYOUT_MBEC, false, SPTE_FMT_EPT);
	ok(!strcmp(extra_str("class"), "mmio"), "mbec MMIO");
	is_u64(extra_u("mmio_gen"), 0x2a5a5, "mbec MMIO generation (18 bits)");

	/* frozen: 0x1a0 with or without the non-present bit */
	dec(DECODE_SPTE, 0x80000000000001a0ULL, MBEC_LAYOUT_MBEC, false, SPTE_FMT_EPT);
	ok(!strcmp(extra_str("class"), "frozen"), "mbec frozen 0x1a0");
	dec(DECODE_SPTE, 0x5a0, MBEC_LAYOUT_MBEC, false, SPTE_FMT_EPT);
	ok(strcmp(extra_str("class"), "frozen"), "0x5a0 is not frozen under mbec (bit 10 is XU)");

	dec(DECODE_SPTE, 0x8000000000000000ULL, MBEC_LAYOUT_MBEC, false, SPTE_FMT_EPT);
	ok(!strcmp(extra_str("class"), "nonpresent"), "bit 63 alone is non-present");
	dec(DECODE_SPTE, 0x0, MBEC_LAYOUT_MBEC, false, SPTE_FMT_EPT);
	ok(!strcmp(extra_str("class"), "nonpresent") && res.nr_fields == 0, "0 is non-present");

	/* legacy format, mbec: P|RW|US|!NX -> rwux */
	dec(DECODE_SPTE, 0x0000000001234e07ULL, MBEC_LAYOUT_MBEC, false, SPTE_FMT_LEGACY);
	is_u64(extra_u("grants"), 0xf, "legacy SPTE P|RW|US, NX clear grants rwux");
	dec(DECODE_SPTE, 0x8000000001234a05ULL, MBEC_LAYOUT_MBEC, false, SPTE_FMT_LEGACY);
	is_u64(extra_u("grants"), 0x5, "legacy SPTE P|US|NX grants r-u-");
}

static void test_spte_classic(void)
{
	/* classic EPT leaf R|W|X with host/MMU-writable at 57/58 */
	dec(DECODE_SPTE, 0x0600000001234b07ULL, MBEC_LAYOUT_CLASSIC, false, SPTE_FMT_EPT);
	ok(!strcmp(extra_str("class"), "present"), "classic EPT leaf is present");
	is_u64(extra_u("grants"), 0x7, "classic R|W|X grants wux (R is ACC_USER)");
	ok(res.nr_warnings == 0, "well-formed classic SPTE: no warning");
	ok(decode_field_find(&res, "X") && !decode_field_find(&res, "XS"), "classic names X");
	/* bit 10 is never set by classic KVM on a present SPTE */
	dec(DECODE_SPTE, 0x0600000001234f07ULL, MBEC_LAYOUT_CLASSIC, false, SPTE_FMT_EPT);
	is_u64(res.flagged_mask, 0x400, "classic: EPT bit 10 flagged");

	/* access-tracked: R at 54, X at 56, A/D disabled at 53:52 = 1 */
	dec(DECODE_SPTE, 0x0150000001234800ULL, MBEC_LAYOUT_CLASSIC, false, SPTE_FMT_EPT);
	ok(!strcmp(extra_str("class"), "access-tracked"), "classic access-tracked");
	ok(!strcmp(extra_str("saved"), "R|X"), "classic saved R|X");
	is_u64(extra_u("restored"), 0x0010000001234805ULL, "classic restored SPTE");

	/* MMIO generation 0x5a5a5 in bits 10:3 and 62:52 */
	dec(DECODE_SPTE, 0x5a5000000000052eULL, MBEC_LAYOUT_CLASSIC, false, SPTE_FMT_EPT);
	ok(!strcmp(extra_str("class"), "mmio"), "classic MMIO");
	is_u64(extra_u("mmio_gen"), 0x5a5a5, "classic MMIO generation (19 bits)");

	dec(DECODE_SPTE, 0x80000000000005a0ULL, MBEC_LAYOUT_CLASSIC, false, SPTE_FMT_EPT);
	ok(!strcmp(extra_str("class"), "frozen"), "classic frozen 0x5a0");
	dec(DECODE_SPTE, 0x1a0, MBEC_LAYOUT_CLASSIC, false, SPTE_FMT_EPT);
	ok(!strcmp(extra_str("class"), "invalid"), "0x1a0 is not frozen under classic");

	/* legacy (shadow paging) SPTE: host/MMU-writable at 9/10 in both layouts */
	dec(DECODE_SPTE, 0x8000000001234e67ULL, MBEC_LAYOUT_CLASSIC, false, SPTE_FMT_LEGACY);
	is_u64(extra_u("grants"), 0x6, "classic legacy P|RW|US|NX grants wu-");
	ok(res.nr_warnings == 0, "well-formed legacy SPTE: no warning");
	dec(DECODE_SPTE, 0x8000000001234803ULL, MBEC_LAYOUT_CLASSIC, false, SPTE_FMT_LEGACY);
	ok(has_warning("without MMU-writable"), "legacy RW without MMU-writable warns");
	/* legacy MMIO: P with reserved bit 51 */
	dec(DECODE_SPTE, 0x0008000001234007ULL | (3ULL << 3), MBEC_LAYOUT_CLASSIC, false,
	    SPTE_FMT_LEGACY);
	ok(!strcmp(extra_str("class"), "mmio"), "legacy MMIO (bit 51)");
	is_u64(extra_u("mmio_gen"), 3, "legacy MMIO generation");
}

static void test_role(void)
{
	const struct role_layout *c = role_layout_builtin(MBEC_LAYOUT_CLASSIC);
	const struct role_layout *m = role_layout_builtin(MBEC_LAYOUT_MBEC);
	struct decode_opts o = { .layout = MBEC_LAYOUT_CLASSIC };

	ok(c && m && c->abi == MBEC_LAYOUT_CLASSIC && m->abi == MBEC_LAYOUT_MBEC,
	   "built-in layouts exist");
	ok(role_layout_abi(c) == MBEC_LAYOUT_CLASSIC && role_layout_abi(m) == MBEC_LAYOUT_MBEC,
	   "ABI detection on the built-ins");
	is_u64(role_find(c, "access")->width, 3, "classic access is 3 bits");
	is_u64(role_find(m, "access")->width, 4, "mbec access is 4 bits");
	ok(!role_find(c, "cr4_smep") && role_find(c, "smep_andnot_wp"), "classic: smep_andnot_wp");
	ok(role_find(m, "cr4_smep") && !role_find(m, "smep_andnot_wp"), "mbec: cr4_smep");
	is_u64(role_used_mask(c), 0xff07ffff, "classic role uses bits 0-18 and 24-31");
	is_u64(role_used_mask(m), 0xff0fffff, "mbec role uses bits 0-19 and 24-31");

	/* classic: level 4, direct, access 7, cr0_wp, smm 1 */
	decode_value(DECODE_ROLE, 0x01002784, &o, &res);
	is_u64(decode_field_find(&res, "level")->value, 4, "classic level");
	is_u64(decode_field_find(&res, "direct")->value, 1, "classic direct");
	is_u64(decode_field_find(&res, "access")->value, 7, "classic access");
	ok(strstr(decode_field_find(&res, "access")->desc, "wux") != NULL, "access as wux");
	is_u64(decode_field_find(&res, "cr0_wp")->value, 1, "classic cr0_wp (bit 13)");
	is_u64(decode_field_find(&res, "smm")->value, 1, "classic smm");
	is_u64(res.flagged_mask, 0, "no unused bit");

	/* mbec: level 4, direct, access 0xf, cr4_smep (15), guest_mode (18) */
	o.layout = MBEC_LAYOUT_MBEC;
	decode_value(DECODE_ROLE, 0x00048f84, &o, &res);
	is_u64(decode_field_find(&res, "access")->value, 0xf, "mbec access 0xf");
	ok(strstr(decode_field_find(&res, "access")->desc, "rwux") != NULL, "access as rwux");
	is_u64(decode_field_find(&res, "cr4_smep")->value, 1, "mbec cr4_smep (bit 15)");
	is_u64(decode_field_find(&res, "guest_mode")->value, 1, "mbec guest_mode (bit 18)");
	is_u64(decode_field_find(&res, "invalid")->value, 0, "mbec invalid (bit 12) clear");
	/* the same word under classic reads bit 11 as invalid */
	o.layout = MBEC_LAYOUT_CLASSIC;
	decode_value(DECODE_ROLE, 0x00048f84, &o, &res);
	is_u64(decode_field_find(&res, "invalid")->value, 1, "classic reads bit 11 as invalid");
	/* unused bits are flagged */
	decode_value(DECODE_ROLE, 0x00f00001, &o, &res);
	is_u64(res.flagged_mask, 0x00f00000, "classic bits 20-23 unused (flagged)");
	ok(decode_value(DECODE_ROLE, 0x100000000ULL, &o, &res) == -1, "role above 32 bits refused");
}

static void test_acc(void)
{
	dec(DECODE_ACC, 0xb, MBEC_LAYOUT_MBEC, false, 0);
	ok(!strcmp(res.names, "READ|WRITE|EXEC"), "mbec acc 0xb is READ|WRITE|EXEC");
	ok(!strcmp(extra_str("letters"), "rw-x"), "mbec acc 0xb letters rw-x");
	is_u64(extra_u("spte_ept"), EPTE_R | EPTE_W | EPTE_XS, "0xb -> EPT R|W|XS");
	is_u64(extra_u("spte_legacy"), PTE_P | PTE_RW, "0xb -> legacy P|RW (NX clear)");
	dec(DECODE_ACC, 0x4, MBEC_LAYOUT_MBEC, false, 0);
	is_u64(extra_u("spte_ept"), EPTE_XU, "mbec USER_EXEC -> XU");
	is_u64(extra_u("spte_legacy"), PTE_US | PTE_NX, "mbec USER alone -> US|NX, no P");

	dec(DECODE_ACC, 0x7, MBEC_LAYOUT_CLASSIC, false, 0);
	ok(!strcmp(res.names, "EXEC|WRITE|USER"), "classic acc 7 names");
	ok(!strcmp(extra_str("letters"), "wux"), "classic letters wux");
	is_u64(extra_u("spte_ept"), EPTE_RWX, "classic 7 -> EPT R|W|X");
	dec(DECODE_ACC, 0x4, MBEC_LAYOUT_CLASSIC, false, 0);
	is_u64(extra_u("spte_ept"), EPTE_R, "classic USER -> EPT R");
	dec(DECODE_ACC, 0x8, MBEC_LAYOUT_CLASSIC, false, 0);
	is_u64(res.flagged_mask, 0x8, "classic acc bit 3 undefined");
	ok(decode_value(DECODE_ACC, 0x10, &res.opts, &res) == -1, "acc 0x10 refused");
	dec(DECODE_ACC, 0xb, MBEC_LAYOUT_KOHLER, false, 0);
	ok(!strcmp(res.names, "EXEC|WRITE|USER_EXEC") && !strcmp(extra_str("letters"), "xw-X"),
	   "kohler acc 0xb: EXEC|WRITE|USER_EXEC, letters xw-X (%s)", extra_str("letters"));
	is_u64(extra_u("spte_ept"), EPTE_W | EPTE_X | EPTE_XU, "kohler 0xb -> EPT W|X|XU");
	dec(DECODE_SPTE, 0x600000012345b77ULL, MBEC_LAYOUT_KOHLER, false, 0);
	ok(res.opts.layout == MBEC_LAYOUT_CLASSIC, "kohler SPTEs decode as classic's");

	/*
	 * decode's SPTE bits for an ACC are the model's (KVM's make_spte
	 * encoding), for every ACC of both layouts: EPT with execute-only
	 * support, as decode has no vCPU to ask.
	 */
	{
		struct mbec_mode m = { .mmu = MBEC_MMU_LEGACY, .levels = 4, .execonly = true };
		unsigned int l, acc, bad = 0;

		for (l = MBEC_LAYOUT_CLASSIC; l <= MBEC_LAYOUT_MBEC; l++) {
			for (acc = 0; acc < (l == MBEC_LAYOUT_MBEC ? 16U : 8U); acc++) {
				dec(DECODE_ACC, acc, l, false, 0);
				if (extra_u("spte_legacy") !=
				    mbec_kvm_acc_to_spte(l, MBEC_FL_SHADOW_LEGACY, &m, acc) ||
				    extra_u("spte_ept") !=
				    mbec_kvm_acc_to_spte(l, MBEC_FL_SHADOW_EPT, &m, acc)) {
					diag("%s acc 0x%x: decode 0x%llx/0x%llx", mbec_layout_name(l),
					     acc, (unsigned long long)extra_u("spte_legacy"),
					     (unsigned long long)extra_u("spte_ept"));
					bad++;
				}
			}
		}
		is_u64(bad, 0, "decode acc gives the model's SPTE bits for all 24 ACC values");
	}
}

static void test_guest_entries(void)
{
	dec(DECODE_GPTE, 0x8000000000001067ULL, MBEC_LAYOUT_MBEC, false, 0);
	ok(!strcmp(res.names, "P|RW|US|A|D|PFN=0x1|NX"), "gpte names (%s)", res.names);
	ok(!strcmp(extra_str("perm"), "wu-"), "gpte perm wu-");
	dec(DECODE_GPTE, 0x1066ULL, MBEC_LAYOUT_MBEC, false, 0);
	ok(decode_field_find(&res, "RW")->flags & DF_IGNORED, "not-present gpte: bits ignored");

	dec(DECODE_EPT_PTE, 0x407, MBEC_LAYOUT_MBEC, false, 0);
	ok(decode_field_find(&res, "XU")->flags & DF_IGNORED, "ept-pte XU ignored without MBEC");
	ok(decode_field_find(&res, "X") != NULL, "ept-pte bit 2 is X without MBEC");
	dec(DECODE_EPT_PTE, 0x407, MBEC_LAYOUT_MBEC, true, 0);
	ok(!decode_field_find(&res, "XU")->flags, "ept-pte XU defined with MBEC");
	ok(decode_field_find(&res, "XS") != NULL, "ept-pte bit 2 is XS with MBEC");
	dec(DECODE_EPT_PTE, 0x400, MBEC_LAYOUT_MBEC, true, 0);
	ok(extra_u("present") == 1 && has_warning("execute-only"),
	   "XU-only entry present with MBEC, execute-only rule");
	dec(DECODE_EPT_PTE, 0x400, MBEC_LAYOUT_MBEC, false, 0);
	ok(extra_u("present") == 0, "XU-only entry not present without MBEC");
	dec(DECODE_EPT_PTE, 0x2, MBEC_LAYOUT_MBEC, false, 0);
	ok(extra_u("misconfig") == 1 && has_warning("misconfiguration"), "W without R");
	dec(DECODE_EPT_PTE, 0x17, MBEC_LAYOUT_MBEC, false, 0);
	ok(decode_field_find(&res, "MT")->flags & DF_RESERVED, "memory type 2 reserved");
	dec(DECODE_EPT_PTE, 0x37, MBEC_LAYOUT_MBEC, false, 0);
	ok(strstr(decode_field_find(&res, "MT")->desc, "WB") != NULL, "memory type 6 is WB");
}

static void test_parse(void)
{
	uint64_t v;

	ok(!decode_parse_u64("0x1ab", &v) && v == 0x1ab, "hex");
	ok(!decode_parse_u64("0X1AB", &v) && v == 0x1ab, "upper-case hex");
	ok(!decode_parse_u64("427", &v) && v == 427, "decimal");
	ok(!decode_parse_u64("0xffffffffffffffff", &v) && v == ~0ULL, "64-bit max");
	ok(!decode_parse_u64("18446744073709551615", &v) && v == ~0ULL, "decimal max");
	ok(decode_parse_u64("0x10000000000000000", &v) && errno == ERANGE, "65 bits: ERANGE");
	ok(decode_parse_u64("18446744073709551616", &v) && errno == ERANGE, "2^64: ERANGE");
	ok(decode_parse_u64("0x", &v) && errno == EINVAL, "bare 0x");
	ok(decode_parse_u64("", &v) && errno == EINVAL, "empty");
	ok(decode_parse_u64("12z", &v) && errno == EINVAL, "trailing junk");
	ok(decode_parse_u64("-1", &v) && errno == EINVAL, "sign");
	ok(decode_parse_u64(" 1", &v) && errno == EINVAL, "space");
	ok(decode_parse_u64("0x1g", &v) && errno == EINVAL, "bad hex digit");
	ok(decode_parse_u64("abc", &v) && errno == EINVAL, "hex without 0x");
}

int main(void)
{
	test_exit_qual_names();
	test_exit_qual_context();
	test_kvm_error_code();
	test_npf_pfec();
	test_spte_mbec();
	test_spte_classic();
	test_role();
	test_acc();
	test_guest_entries();
	test_parse();
	return done_testing();
}
