// SPDX-License-Identifier: GPL-2.0
/*
 * kvm_mmu_page_role layout from BTF, and the two built-in layouts.
 *
 * The role is `union { u32 word; struct { unsigned int level:4; ... }; }`.
 * We walk the union's anonymous members (recursively, adding their bit
 * offsets) and keep every named integer member narrower than the word:
 * those are the fields.  `word` itself is skipped.  When KVM is a module
 * the type is in the module's split BTF (/sys/kernel/btf/kvm), so that is
 * tried after vmlinux.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "live/btf_layout.h"

#define F(n, s, w) { .name = #n, .shift = (s), .width = (w) }

/* Linux 6.12, arch/x86/include/asm/kvm_host.h (spec section 4). */
static const struct role_layout classic_612 = {
	.abi = MBEC_LAYOUT_CLASSIC,
	.nr_fields = 14,
	.fields = {
		F(level, 0, 4), F(has_4_byte_gpte, 4, 1), F(quadrant, 5, 2), F(direct, 7, 1),
		F(access, 8, 3), F(invalid, 11, 1), F(efer_nx, 12, 1), F(cr0_wp, 13, 1),
		F(smep_andnot_wp, 14, 1), F(smap_andnot_wp, 15, 1), F(ad_disabled, 16, 1),
		F(guest_mode, 17, 1), F(passthrough, 18, 1), F(smm, 24, 8),
	},
	.source = "built-in classic (Linux 6.12)",
};

/* 6.12 with the MBEC/GMET series: access grows to 4 bits, cr4_smep. */
static const struct role_layout mbec_612 = {
	.abi = MBEC_LAYOUT_MBEC,
	.nr_fields = 14,
	.fields = {
		F(level, 0, 4), F(has_4_byte_gpte, 4, 1), F(quadrant, 5, 2), F(direct, 7, 1),
		F(access, 8, 4), F(invalid, 12, 1), F(efer_nx, 13, 1), F(cr0_wp, 14, 1),
		F(cr4_smep, 15, 1), F(smap_andnot_wp, 16, 1), F(ad_disabled, 17, 1),
		F(guest_mode, 18, 1), F(passthrough, 19, 1), F(smm, 24, 8),
	},
	.source = "built-in mbec (Linux 6.12 + MBEC/GMET series)",
};

/*
 * Jon Kohler's series: its access is 4 bits (ACC_ALL is 0xf); the fields
 * after it are assumed to move up by one as in the mbec layout, keeping
 * classic's smep_andnot_wp (the series' role union was not published in
 * a form we could read: decode such a word with BTF when there is one).
 */
static const struct role_layout kohler_612 = {
	.abi = MBEC_LAYOUT_KOHLER,
	.nr_fields = 14,
	.fields = {
		F(level, 0, 4), F(has_4_byte_gpte, 4, 1), F(quadrant, 5, 2), F(direct, 7, 1),
		F(access, 8, 4), F(invalid, 12, 1), F(efer_nx, 13, 1), F(cr0_wp, 14, 1),
		F(smep_andnot_wp, 15, 1), F(smap_andnot_wp, 16, 1), F(ad_disabled, 17, 1),
		F(guest_mode, 18, 1), F(passthrough, 19, 1), F(smm, 24, 8),
	},
	.source = "built-in kohler (Jon Kohler's MBEC series; fields after access assumed)",
};

#undef F

const struct role_layout *role_layout_builtin(enum mbec_layout abi)
{
	if (abi == MBEC_LAYOUT_CLASSIC)
		return &classic_612;
	if (abi == MBEC_LAYOUT_MBEC)
		return &mbec_612;
	if (abi == MBEC_LAYOUT_KOHLER)
		return &kohler_612;
	return NULL;
}

const char *role_kernel_btf_path(void)
{
	const char *p = getenv("MBECSCOPE_KERNEL_BTF");

	return p && *p ? p : ROLE_KERNEL_BTF_PATH;
}

const char *mbec_layout_name(enum mbec_layout abi)
{
	switch (abi) {
	case MBEC_LAYOUT_CLASSIC:
		return "classic";
	case MBEC_LAYOUT_MBEC:
		return "mbec";
	case MBEC_LAYOUT_KOHLER:
		return "kohler";
	default:
		return "unknown";
	}
}

int mbec_layout_parse(const char *s, enum mbec_layout *abi)
{
	if (!strcmp(s, "classic"))
		*abi = MBEC_LAYOUT_CLASSIC;
	else if (!strcmp(s, "mbec"))
		*abi = MBEC_LAYOUT_MBEC;
	else if (!strcmp(s, "kohler"))
		*abi = MBEC_LAYOUT_KOHLER;
	else
		return -1;
	return 0;
}

const struct role_field *role_find(const struct role_layout *l, const char *name)
{
	unsigned int i;

	for (i = 0; i < l->nr_fields; i++)
		if (!strcmp(l->fields[i].name, name))
			return &l->fields[i];
	return NULL;
}

uint32_t role_field_value(const struct role_field *f, uint32_t word)
{
	uint32_t mask = f->width >= 32 ? ~0u : (1u << f->width) - 1;

	return (word >> f->shift) & mask;
}

int64_t role_get(const struct role_layout *l, uint32_t word, const char *name)
{
	const struct role_field *f = role_find(l, name);

	return f ? (int64_t)role_field_value(f, word) : -1;
}

uint32_t role_used_mask(const struct role_layout *l)
{
	uint32_t m = 0;
	unsigned int i;

	for (i = 0; i < l->nr_fields; i++) {
		const struct role_field *f = &l->fields[i];
		uint32_t fm = f->width >= 32 ? ~0u : (1u << f->width) - 1;

		m |= fm << f->shift;
	}
	return m;
}

/*
 * The ABI from the role's fields: a 4-bit access is an MBEC series (ACC_ALL
 * 0xf); with cr4_smep in place of smep_andnot_wp it is this project's and
 * Paolo Bonzini's (mbec), without it Jon Kohler's (kohler: ACC_USER_EXEC
 * in bit 3, the smep_andnot_wp of classic kept).  A 3-bit access is
 * classic.
 */
enum mbec_layout role_layout_abi(const struct role_layout *l)
{
	const struct role_field *acc = role_find(l, "access");

	if (acc && acc->width == 4)
		return role_find(l, "cr4_smep") ? MBEC_LAYOUT_MBEC : MBEC_LAYOUT_KOHLER;
	return MBEC_LAYOUT_CLASSIC;
}

/* Skip typedefs and modifiers. */
static const struct btf_type *resolve(const struct btf *btf, __u32 id, __u32 *out_id)
{
	const struct btf_type *t = btf__type_by_id(btf, id);

	while (t && (btf_is_typedef(t) || btf_is_mod(t))) {
		id = t->type;
		t = btf__type_by_id(btf, id);
	}
	if (out_id)
		*out_id = id;
	return t;
}

static int add_field(struct role_layout *l, const char *name, unsigned int shift,
		     unsigned int width)
{
	unsigned int i;

	if (l->nr_fields >= ROLE_MAX_FIELDS || shift + width > 32 || !width)
		return -1;
	/* keep ascending by shift */
	for (i = l->nr_fields; i > 0 && l->fields[i - 1].shift > shift; i--)
		l->fields[i] = l->fields[i - 1];
	snprintf(l->fields[i].name, sizeof(l->fields[i].name), "%s", name);
	l->fields[i].shift = shift;
	l->fields[i].width = width;
	l->nr_fields++;
	return 0;
}

static int collect(const struct btf *btf, const struct btf_type *t, unsigned int base,
		   struct role_layout *l, int depth)
{
	const struct btf_member *m = btf_members(t);
	__u16 i, n = btf_vlen(t);

	if (depth > 4)
		return -1;
	for (i = 0; i < n; i++, m++) {
		const char *name = btf__name_by_offset(btf, m->name_off);
		unsigned int off = base + btf_member_bit_offset(t, i);
		unsigned int bits = btf_member_bitfield_size(t, i);
		const struct btf_type *mt = resolve(btf, m->type, NULL);

		if (!mt)
			return -1;
		if (!name || !*name) {
			if (btf_is_composite(mt) && collect(btf, mt, off, l, depth + 1))
				return -1;
			continue;	/* anonymous padding bitfields */
		}
		if (!btf_is_int(mt))
			continue;
		if (!bits)
			bits = mt->size * 8;
		if (bits >= 32)
			continue;	/* `word` */
		if (add_field(l, name, off, bits))
			return -1;
	}
	return 0;
}

static int find_role(const struct btf *btf, struct role_layout *l)
{
	__s32 id = btf__find_by_name_kind(btf, "kvm_mmu_page_role", BTF_KIND_UNION);
	const struct btf_type *t;

	if (id < 0)
		return -ENOENT;
	t = btf__type_by_id(btf, id);
	if (!t || t->size != 4)
		return -EINVAL;
	l->nr_fields = 0;
	if (collect(btf, t, 0, l, 0) || !l->nr_fields)
		return -EINVAL;
	return 0;
}

static bool verbose;

void role_layout_set_verbose(bool v)
{
	verbose = v;
}

/* libbpf prints its own warnings on parse errors; we report in one line. */
static int quiet_print(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	(void)level;
	(void)fmt;
	(void)ap;
	return 0;
}

int role_layout_from_btf(const char *btf_path, struct role_layout *out, char *err, size_t errlen)
{
	const char *path = btf_path ? btf_path : role_kernel_btf_path();
	libbpf_print_fn_t old = verbose ? NULL : libbpf_set_print(quiet_print);
	struct btf *btf = NULL, *mod = NULL;
	struct utsname u;
	int ret = -1, r;

	memset(out, 0, sizeof(*out));
	if (access(path, R_OK)) {
		if (!btf_path && errno == ENOENT)
			snprintf(err, errlen, "kernel has no BTF (CONFIG_DEBUG_INFO_BTF); "
				 "pass --layout classic|mbec");
		else
			snprintf(err, errlen, "cannot read BTF %s: %s", path, strerror(errno));
		goto out;
	}
	btf = btf__parse(path, NULL);
	if (!btf) {
		char why[128];

		libbpf_strerror(errno, why, sizeof(why));
		snprintf(err, errlen, "cannot parse BTF %s: %s; pass --layout classic|mbec",
			 path, why);
		goto out;
	}
	r = find_role(btf, out);
	if (r == -ENOENT && !btf_path) {
		/* KVM built as a module: its types are in split BTF. */
		char modpath[256];
		char *slash;

		snprintf(modpath, sizeof(modpath), "%s", path);
		slash = strrchr(modpath, '/');
		if (slash && (size_t)(slash - modpath) + 5 < sizeof(modpath)) {
			strcpy(slash + 1, "kvm");
			mod = btf__parse_split(modpath, btf);
			if (mod)
				r = find_role(mod, out);
		}
	}
	if (r == -ENOENT) {
		snprintf(err, errlen, "%s has no union kvm_mmu_page_role (is KVM loaded?); "
			 "pass --layout classic|mbec", path);
		goto out;
	}
	if (r) {
		snprintf(err, errlen, "union kvm_mmu_page_role in %s is not a 32-bit bitfield union",
			 path);
		goto out;
	}
	out->abi = role_layout_abi(out);
	snprintf(out->source, sizeof(out->source), "btf %s", path);
	if (!btf_path && !uname(&u))
		snprintf(out->release, sizeof(out->release), "%s", u.release);
	ret = 0;
out:
	btf__free(mod);
	btf__free(btf);
	if (!verbose)
		libbpf_set_print(old);
	return ret;
}
