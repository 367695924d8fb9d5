// SPDX-License-Identifier: GPL-2.0
/*
 * kvm_mmu_page_role from BTF: the running kernel's (compared with the
 * committed vmlinux.h, which was generated from it), and synthetic BTF
 * files written with libbpf for the mbec layout, a layout without the
 * role, and a file that is not BTF at all.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <bpf/btf.h>

#include "tap.h"
#include "live/btf_layout.h"

static const char *tmpdir(void)
{
	const char *t = getenv("TMPDIR");

	return t && *t ? t : "/tmp";
}

/* Write raw BTF with union kvm_mmu_page_role { u32 word; struct { fields }; }. */
static int write_role_btf(const char *path, const char *const *names, const int *widths, int n)
{
	struct btf *btf = btf__new_empty();
	const void *raw;
	__u32 size;
	int u32_id, st, un, i, off = 0, ret = -1;
	FILE *f;

	if (!btf)
		return -1;
	u32_id = btf__add_int(btf, "unsigned int", 4, 0);
	st = btf__add_struct(btf, NULL, 4);
	for (i = 0; i < n; i++) {
		btf__add_field(btf, names[i], u32_id, off, widths[i]);
		off += widths[i];
	}
	un = btf__add_union(btf, "kvm_mmu_page_role", 4);
	btf__add_field(btf, "word", u32_id, 0, 0);
	btf__add_field(btf, NULL, st, 0, 0);
	raw = btf__raw_data(btf, &size);
	f = fopen(path, "w");
	if (raw && f && fwrite(raw, 1, size, f) == size && u32_id > 0 && st > 0 && un > 0)
		ret = 0;
	if (f)
		fclose(f);
	btf__free(btf);
	return ret;
}

static void test_running_kernel(void)
{
	struct role_layout l;
	char err[256];

	if (access(ROLE_KERNEL_BTF_PATH, R_OK)) {
		skip("no /sys/kernel/btf/vmlinux", "running kernel's role layout");
		return;
	}
	unsetenv("MBECSCOPE_KERNEL_BTF");
	if (!ok(!role_layout_from_btf(NULL, &l, err, sizeof(err)), "running kernel's BTF read")) {
		diag("%s", err);
		return;
	}
	ok(l.release[0] != '\0', "kernel release recorded (%s)", l.release);
	/* this machine's vmlinux.h: level:4 ... is_mirror:1, 4 unnamed, smm:8 */
	ok(role_find(&l, "level") && role_find(&l, "level")->shift == 0 &&
	   role_find(&l, "level")->width == 4, "level:4 at 0");
	ok(role_find(&l, "smm") && role_find(&l, "smm")->shift == 24 &&
	   role_find(&l, "smm")->width == 8, "smm:8 at 24");
	if (role_find(&l, "is_mirror")) {
		ok(role_find(&l, "is_mirror")->shift == 19, "is_mirror at 19 (6.14+)");
		ok(role_find(&l, "access")->width == 3 && l.abi == MBEC_LAYOUT_CLASSIC,
		   "6.14+ classic kernel: access:3, layout classic");
	} else {
		skip("kernel older than 6.14", "is_mirror at 19");
		skip("kernel older than 6.14", "access width");
	}
	ok(l.abi == role_layout_abi(&l), "abi field matches detection");
}

static void test_synthetic(void)
{
	static const char *const mbec_names[] = {
		"level", "has_4_byte_gpte", "quadrant", "direct", "access", "invalid", "efer_nx",
		"cr0_wp", "cr4_smep", "smap_andnot_wp", "ad_disabled", "guest_mode", "passthrough",
		"is_mirror", "pad", "smm",
	};
	static const int mbec_widths[] = { 4, 1, 2, 1, 4, 1, 1, 1, 1, 1, 1, 1, 1, 1, 3, 8 };
	static const char *const odd_names[] = { "level", "cr4_smep", "access" };
	static const int odd_widths[] = { 4, 1, 3 };
	char path[256], err[256];
	struct role_layout l;
	FILE *f;

	snprintf(path, sizeof(path), "%s/mbecscope-test-role-%d.btf", tmpdir(), getpid());
	if (!ok(!write_role_btf(path, mbec_names, mbec_widths, 16), "wrote a synthetic BTF"))
		return;
	ok(!role_layout_from_btf(path, &l, err, sizeof(err)), "synthetic mbec BTF parsed");
	ok(l.abi == MBEC_LAYOUT_MBEC, "cr4_smep + access:4 is the mbec layout");
	ok(role_find(&l, "is_mirror") && role_find(&l, "is_mirror")->shift == 20,
	   "is_mirror after passthrough at 20");
	ok(role_find(&l, "smm")->shift == 24, "smm at 24");
	ok(role_get(&l, 0x8f00, "access") == 0xf && role_get(&l, 0x8f00, "cr4_smep") == 1,
	   "role_get access and cr4_smep");
	ok(role_get(&l, 0, "smep_andnot_wp") == -1, "absent field is -1");
	ok(l.release[0] == '\0', "no release for a BTF file");

	/* cr4_smep but a 3-bit access: not the mbec ABI */
	write_role_btf(path, odd_names, odd_widths, 3);
	ok(!role_layout_from_btf(path, &l, err, sizeof(err)) && l.abi == MBEC_LAYOUT_CLASSIC,
	   "cr4_smep with access:3 is classic");

	/*
	 * Jon Kohler's series: access:4 (ACC_USER_EXEC in bit 3) and classic's
	 * smep_andnot_wp kept, no cr4_smep: kohler.  And the same with a 3-bit
	 * access, Linux 6.12's own role: classic.
	 */
	{
		static const char *const k_names[] = {
			"level", "has_4_byte_gpte", "quadrant", "direct", "access", "invalid",
			"efer_nx", "cr0_wp", "smep_andnot_wp", "smap_andnot_wp", "ad_disabled",
			"guest_mode", "passthrough", "is_mirror", "pad", "smm"
		};
		static const int k_widths[] = { 4, 1, 2, 1, 4, 1, 1, 1, 1, 1, 1, 1, 1, 1, 3, 8 };
		static const int c_widths[] = { 4, 1, 2, 1, 3, 1, 1, 1, 1, 1, 1, 1, 1, 1, 4, 8 };

		write_role_btf(path, k_names, k_widths, 16);
		ok(!role_layout_from_btf(path, &l, err, sizeof(err)) && l.abi == MBEC_LAYOUT_KOHLER,
		   "access:4 with smep_andnot_wp and no cr4_smep is kohler");
		ok(role_get(&l, 0x4000, "cr0_wp") == 1 && role_get(&l, 0x8000, "smep_andnot_wp") == 1,
		   "kohler: fields after access read where BTF puts them (cr0_wp 14, smep 15)");
		write_role_btf(path, k_names, c_widths, 16);
		ok(!role_layout_from_btf(path, &l, err, sizeof(err)) && l.abi == MBEC_LAYOUT_CLASSIC,
		   "access:3 with smep_andnot_wp is classic");
	}

	/* a BTF without the role */
	f = fopen(path, "w");
	if (f) {
		struct btf *btf = btf__new_empty();
		__u32 size;
		const void *raw;

		btf__add_int(btf, "int", 4, BTF_INT_SIGNED);
		raw = btf__raw_data(btf, &size);
		fwrite(raw, 1, size, f);
		fclose(f);
		btf__free(btf);
	}
	ok(role_layout_from_btf(path, &l, err, sizeof(err)) && strstr(err, "no union"),
	   "BTF without the role: %s", err);

	f = fopen(path, "w");
	if (f) {
		fputs("not btf\n", f);
		fclose(f);
	}
	ok(role_layout_from_btf(path, &l, err, sizeof(err)) && strstr(err, "cannot parse"),
	   "garbage file: %s", err);
	unlink(path);

	ok(role_layout_from_btf("/nonexistent/vmlinux", &l, err, sizeof(err)) &&
	   strstr(err, "cannot read"), "missing file: %s", err);
	setenv("MBECSCOPE_KERNEL_BTF", "/nonexistent/vmlinux", 1);
	ok(role_layout_from_btf(NULL, &l, err, sizeof(err)) &&
	   !strcmp(err, "kernel has no BTF (CONFIG_DEBUG_INFO_BTF); pass --layout classic|mbec"),
	   "kernel without BTF: %s", err);
	unsetenv("MBECSCOPE_KERNEL_BTF");
}

static void test_names(void)
{
	enum mbec_layout a;

	ok(!mbec_layout_parse("classic", &a) && a == MBEC_LAYOUT_CLASSIC, "parse classic");
	ok(!mbec_layout_parse("mbec", &a) && a == MBEC_LAYOUT_MBEC, "parse mbec");
	ok(mbec_layout_parse("auto", &a) == -1, "auto is not a layout");
	ok(!strcmp(mbec_layout_name(MBEC_LAYOUT_MBEC), "mbec"), "name mbec");
	ok(role_layout_builtin(MBEC_LAYOUT_UNKNOWN) == NULL, "no built-in for unknown");
	ok(!mbec_layout_parse("kohler", &a) && a == MBEC_LAYOUT_KOHLER &&
	   !strcmp(mbec_layout_name(a), "kohler"), "parse and name kohler");
	ok(role_layout_builtin(MBEC_LAYOUT_KOHLER) &&
	   role_find(role_layout_builtin(MBEC_LAYOUT_KOHLER), "access")->width == 4 &&
	   role_find(role_layout_builtin(MBEC_LAYOUT_KOHLER), "smep_andnot_wp"),
	   "kohler's built-in role: a 4-bit access, classic's smep_andnot_wp");
}

int main(void)
{
	test_running_kernel();
	test_synthetic();
	test_names();
	return done_testing();
}
