/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Where the fields of KVM's union kvm_mmu_page_role sit, and which ABI
 * layout (classic or mbec, spec section 4) a kernel speaks.
 *
 * Role bit positions differ between releases (6.12 vs 6.14+ is_mirror)
 * and between the classic and the MBEC/GMET layouts, so they are never
 * hard-coded in the checker: they come from the running kernel's BTF,
 * from a BTF file, from a recording's header, or - when the user says
 * which ABI to assume - from the two built-in layouts below.
 *
 *	struct role_layout l;
 *	char err[160];
 *
 *	if (role_layout_from_btf(NULL, &l, err, sizeof(err)))
 *		fail(err);		// one line, ready to print
 *	v = role_get(&l, word, "access");	// -1 when the kernel has no such field
 */
#ifndef MBEC_BTF_LAYOUT_H
#define MBEC_BTF_LAYOUT_H

#include <stdbool.h>
#include <stdint.h>

#include "mbec_kvm.h"

#define ROLE_MAX_FIELDS		24
#define ROLE_NAME_LEN		32
#define ROLE_RELEASE_LEN	65	/* struct utsname.release */
#define ROLE_SOURCE_LEN		96

struct role_field {
	char name[ROLE_NAME_LEN];
	unsigned int shift;	/* bit position of the field's LSB in the u32 word */
	unsigned int width;	/* in bits, 1..32 */
};

struct role_layout {
	enum mbec_layout abi;	/* MBEC_LAYOUT_CLASSIC or MBEC_LAYOUT_MBEC */
	unsigned int nr_fields;
	struct role_field fields[ROLE_MAX_FIELDS];	/* ascending shift */
	char release[ROLE_RELEASE_LEN];	/* kernel release, "" when unknown */
	char source[ROLE_SOURCE_LEN];	/* "btf /sys/kernel/btf/vmlinux", "built-in mbec", ... */
};

/* Path of the running kernel's BTF; the environment variable
 * MBECSCOPE_KERNEL_BTF overrides it (containers, tests). */
#define ROLE_KERNEL_BTF_PATH	"/sys/kernel/btf/vmlinux"
const char *role_kernel_btf_path(void);

/*
 * The built-in layouts: classic is Linux 6.12's role; mbec is 6.12's with
 * the MBEC/GMET series applied (access:4, cr4_smep in place of
 * smep_andnot_wp).  Neither has 6.14's is_mirror.  NULL for another abi.
 */
const struct role_layout *role_layout_builtin(enum mbec_layout abi);

/*
 * Read union kvm_mmu_page_role from BTF: `btf_path` NULL means the running
 * kernel (role_kernel_btf_path(), release from uname), otherwise a vmlinux
 * or any ELF/raw BTF file (release left empty).  Returns 0, or -1 with a
 * one-line reason in err (for the running kernel without BTF:
 * "kernel has no BTF (CONFIG_DEBUG_INFO_BTF); pass --layout classic|mbec").
 */
int role_layout_from_btf(const char *btf_path, struct role_layout *out, char *err, size_t errlen);

/* Let libbpf print its own diagnostics while reading BTF (-v); quiet by default. */
void role_layout_set_verbose(bool verbose);

/*
 * The layout's ABI from its fields: access of 4 bits with cr4_smep is mbec,
 * without it kohler; otherwise classic.
 */
enum mbec_layout role_layout_abi(const struct role_layout *l);

/* A field by name, or NULL. */
const struct role_field *role_find(const struct role_layout *l, const char *name);
/* The value of a field in a role word. */
uint32_t role_field_value(const struct role_field *f, uint32_t word);
/* The value of a named field, or -1 when the layout has no such field. */
int64_t role_get(const struct role_layout *l, uint32_t word, const char *name);
/* The bits covered by named fields (the rest of the word is unused). */
uint32_t role_used_mask(const struct role_layout *l);

/* "classic", "mbec" or "unknown". */
const char *mbec_layout_name(enum mbec_layout abi);
/* Parse "classic" / "mbec"; -1 on anything else. */
int mbec_layout_parse(const char *s, enum mbec_layout *abi);

#endif /* MBEC_BTF_LAYOUT_H */
