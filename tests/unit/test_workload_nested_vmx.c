// SPDX-License-Identifier: GPL-2.0
/*
 * The VMCS the nested workload has L2 write (nested_vmx.c), without KVM:
 * controls from capability MSRs (allowed-0 bits forced on, wanted bits
 * only where allowed-1, needed bits refused when not allowed), EPT and
 * MBEC exactly when asked, L3's segments at its CPL, the fixed CR bits,
 * and no field written twice.
 */
#include <string.h>

#include "tap.h"
#include "workload/nested_vmx.h"

/* A plausible nested-VMX offer: true controls, EPT with WB and 4 levels. */
static struct wln_vmx_caps caps_base(bool mbec)
{
	struct wln_vmx_caps c = {
		.basic = VMX_BASIC_TRUE_CTLS | 1,
		.pin = 0x0000007f00000016ULL,
		.proc = 0xfff9fffe0401e172ULL,
		.exit = 0x003fffff00036dffULL,
		.entry = 0x0000f3ff000011ffULL,
		.proc2 = (uint64_t)(VMX_PROC2_EPT | (1u << 7) | (mbec ? VMX_PROC2_MBEC : 0)) << 32,
		.ept_cap = VMX_EPT_CAP_EXECONLY | VMX_EPT_CAP_PWL4 | VMX_EPT_CAP_WB |
			   VMX_EPT_VPID_CAP_ADVANCED_INFO,
		.cr0_fixed0 = 0x80000021, .cr0_fixed1 = 0xffffffff,
		.cr4_fixed0 = 0x2000, .cr4_fixed1 = 0x3727ff,
		.true_pin = 0x0000007f00000016ULL,
		.true_proc = 0xfff9fffe04006172ULL,
		.true_exit = 0x003fffff00036dfbULL,
		.true_entry = 0x0000f3ff000011fbULL,
	};
	return c;
}

static uint64_t value_of(const struct wln_vmx_table *t, uint32_t f, int *count)
{
	uint64_t v = 0;
	unsigned int i;

	*count = 0;
	for (i = 0; i < t->n; i++)
		if (t->f[i].field == f) {
			v = t->f[i].value;
			(*count)++;
		}
	return v;
}

int main(void)
{
	struct wln_vmx_host h = { .cr0 = 0x80050033, .cr3 = 0x100000, .cr4 = 0x2620,
				  .efer = 0xd00, .rsp = 0x10f00, .rip = 0x62010 };
	struct wln_vmx_caps c;
	struct wln_vmx_table t;
	struct wln_layout l;
	uint32_t v = 0;
	char err[200];
	unsigned int i, j, dup = 0;
	int n;

	ok(!wln_vmx_ctl(0x000000ff00000016ULL, 0x80, 0, &v) && v == 0x96,
	   "allowed-0 bits forced on, a wanted bit kept where allowed (%#x)", v);
	ok(!wln_vmx_ctl(0x0000007f00000016ULL, 0x80, 0, &v) && v == 0x16,
	   "a wanted bit dropped where not allowed (%#x)", v);
	ok(wln_vmx_ctl(0x0000007f00000016ULL, 0, 0x80, &v) == -1,
	   "a needed bit that is not allowed is refused");

	for (unsigned int mbec = 0; mbec < 2; mbec++) {
		for (unsigned int cpl = 0; cpl <= 3; cpl += 3) {
			c = caps_base(true);
			wln_layout_build(&l, MBEC_MMU_EPT, mbec, true, cpl);
			err[0] = 0;
			ok(!wln_vmx_fields(&c, &l, &h, &t, err, sizeof(err)),
			   "MBEC %u CPL %u: a field table (%s)", mbec, cpl, err);
			ok(!!(value_of(&t, VMCS_PROC2_CTLS, &n) & VMX_PROC2_MBEC) == mbec &&
			   (value_of(&t, VMCS_PROC2_CTLS, &n) & VMX_PROC2_EPT),
			   "EPT on, mode-based execute control %s", mbec ? "on" : "off");
			ok(value_of(&t, VMCS_EPTP, &n) == (l.root | 0x1e) && n == 1,
			   "EPTP: the root, write-back, 4 levels");
			ok(value_of(&t, VMCS_GUEST_ES_AR + 2, &n) == (cpl ? 0xa0fbu : 0xa09bu) &&
			   value_of(&t, VMCS_GUEST_ES_SEL + 2, &n) == (cpl ? WL_SEL_UCODE : WL_SEL_KCODE) &&
			   value_of(&t, VMCS_GUEST_ES_AR + 4, &n) == (cpl ? 0xc0f3u : 0xc093u),
			   "L3's CS and SS at CPL %u", cpl);
			ok((value_of(&t, VMCS_GUEST_CR4, &n) & 0x2000) &&
			   (value_of(&t, VMCS_GUEST_CR0, &n) & 0x80000021) == 0x80000021,
			   "L3's CR0 and CR4 have the fixed-1 bits");
			ok(value_of(&t, VMCS_HOST_RIP, &n) == h.rip &&
			   value_of(&t, VMCS_HOST_EFER, &n) == h.efer &&
			   (value_of(&t, VMCS_EXIT_CTLS, &n) & (VMX_EXIT_HOST_64 | VMX_EXIT_LOAD_EFER)) ==
			   (VMX_EXIT_HOST_64 | VMX_EXIT_LOAD_EFER),
			   "every exit lands in L2's 64-bit handler with its EFER");
			ok(!(value_of(&t, VMCS_PROC_CTLS, &n) & (VMX_PROC_MSR_BITMAPS | VMX_PROC_IO_BITMAPS)) &&
			   (value_of(&t, VMCS_PROC_CTLS, &n) & VMX_PROC_UNCOND_IO),
			   "no bitmaps: every I/O and MSR access exits");
			dup = 0;
			for (i = 0; i < t.n; i++)
				for (j = i + 1; j < t.n; j++)
					dup += t.f[i].field == t.f[j].field;
			ok(!dup && t.n < WLN_VMX_FIELDS_MAX, "%u fields, none twice (%u)", t.n, dup);
		}
	}

	c = caps_base(false);
	wln_layout_build(&l, MBEC_MMU_EPT, true, false, 3);
	ok(wln_vmx_fields(&c, &l, &h, &t, err, sizeof(err)) == -1 && strstr(err, "mode-based"),
	   "MBEC asked where KVM does not allow it: refused (%s)", err);
	c = caps_base(true);
	c.proc2 = 0;
	wln_layout_build(&l, MBEC_MMU_EPT, false, false, 3);
	ok(wln_vmx_fields(&c, &l, &h, &t, err, sizeof(err)) == -1 && strstr(err, "EPT"),
	   "no EPT offered: refused (%s)", err);
	c = caps_base(true);
	c.ept_cap &= ~VMX_EPT_CAP_WB;
	ok(wln_vmx_fields(&c, &l, &h, &t, err, sizeof(err)) == -1 && strstr(err, "write-back"),
	   "no write-back EPT: refused (%s)", err);
	wln_layout_build(&l, MBEC_MMU_NPT, false, false, 3);
	c = caps_base(true);
	ok(wln_vmx_fields(&c, &l, &h, &t, err, sizeof(err)) == -1, "an NPT layout is refused");
	return done_testing();
}
