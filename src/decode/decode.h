/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Value -> words: exit qualifications, page-fault error codes, #NPF
 * EXITINFO1, SPTEs (EPT and legacy format, both KVM layouts), guest PTEs,
 * guest EPT entries, shadow-page roles and ACC values.
 *
 * A decoder fills a struct decode_result: one decode_field per set bit or
 * non-zero multi-bit field, each with its name, a one-line meaning and
 * flags (undefined, reserved, uncertain, ignored) with a short note saying
 * why; plus "extras" (derived facts such as the error code KVM derives
 * from an exit qualification, the SPTE's class or an MMIO generation) and
 * warnings (values KVM or the CPU would never produce).  The result is
 * plain data: decode_print_text() and decode_print_json() render it, and
 * the checker embeds it as evidence.
 */
#ifndef MBEC_DECODE_H
#define MBEC_DECODE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "mbec_kvm.h"

struct json_writer;
struct role_layout;

enum decode_kind {
	DECODE_EXIT_QUAL,
	DECODE_PFEC,
	DECODE_NPF,
	DECODE_SPTE,
	DECODE_GPTE,
	DECODE_EPT_PTE,
	DECODE_ROLE,
	DECODE_ACC,
	DECODE_NR_KINDS,
};

enum spte_format {
	SPTE_FMT_EPT,
	SPTE_FMT_LEGACY,	/* shadow paging and NPT: x86-64 PTE format */
};

struct decode_opts {
	enum mbec_layout layout;	/* KVM ABI: classic or mbec */
	bool mbec;			/* MBEC on (exit-qual, ept-pte) */
	enum spte_format format;	/* spte */
	const struct role_layout *role;	/* role; NULL: the built-in for layout */
};

/* Field flags. */
#define DF_UNDEFINED	0x1	/* no defined meaning in this context */
#define DF_RESERVED	0x2	/* reserved: must be zero */
#define DF_UNCERTAIN	0x4	/* (?) in the spec: meaning not certain */
#define DF_IGNORED	0x8	/* ignored by hardware / by this KVM layout */
#define DF_NOTE		0x10	/* only a note (e.g. depends on a CPU feature) */

#define DECODE_NAME_LEN		32
#define DECODE_DESC_LEN		112
#define DECODE_NOTE_LEN		64
#define DECODE_MAX_FIELDS	72
#define DECODE_MAX_EXTRAS	12
#define DECODE_MAX_WARNINGS	8
#define DECODE_WARN_LEN		128

struct decode_field {
	unsigned int lo, hi;		/* bit range, lo == hi for one bit */
	uint64_t value;			/* the field's value, shifted down */
	char name[DECODE_NAME_LEN];
	char desc[DECODE_DESC_LEN];
	unsigned int flags;		/* DF_* */
	char note[DECODE_NOTE_LEN];	/* why flagged: "undefined: MBEC off" */
};

enum decode_extra_type {
	DX_HEX,		/* u64 printed as 0x...; JSON hex string */
	DX_U64,		/* JSON number */
	DX_BOOL,
	DX_STR,
};

struct decode_extra {
	char key[DECODE_NAME_LEN];	/* JSON key, e.g. "kvm_error_code" */
	enum decode_extra_type type;
	uint64_t u;
	char text[DECODE_DESC_LEN];	/* DX_STR: the value; others: explanation */
};

struct decode_result {
	enum decode_kind kind;
	uint64_t value;
	struct decode_opts opts;
	char names[DECODE_DESC_LEN * 2];	/* set names joined by '|' */
	unsigned int nr_fields;
	struct decode_field fields[DECODE_MAX_FIELDS];
	unsigned int nr_extras;
	struct decode_extra extras[DECODE_MAX_EXTRAS];
	unsigned int nr_warnings;
	char warnings[DECODE_MAX_WARNINGS][DECODE_WARN_LEN];
	uint64_t flagged_mask;		/* bits that are set but undefined/reserved */
};

/* "exit-qual", ... ; and back (-1 when unknown). */
const char *decode_kind_name(enum decode_kind kind);
int decode_kind_parse(const char *s, enum decode_kind *kind);
/* Largest accepted value for a kind (role 32 bits, acc 0xf, others 64). */
uint64_t decode_kind_max(enum decode_kind kind);

/*
 * Decode `value` as `kind`.  0, or -1 when the value is out of range for
 * the kind (then nothing is filled in).
 */
int decode_value(enum decode_kind kind, uint64_t value, const struct decode_opts *opts,
		 struct decode_result *res);

/* Lookups for callers that want one fact, not a whole decode. */
const struct decode_extra *decode_extra_find(const struct decode_result *res, const char *key);
const struct decode_field *decode_field_find(const struct decode_result *res, const char *name);

/*
 * ACC value -> letters: classic "wux" (KVM's 3-character tracepoint
 * style), mbec "rwux" ('-' for a clear bit).  buf needs 5 bytes.
 */
const char *decode_acc_letters(unsigned int acc, enum mbec_layout layout, char *buf);

/* EPT memory type name (UC, WC, WT, WP, WB) or NULL when reserved. */
const char *decode_ept_memtype(unsigned int mt);

/* Renderers. */
void decode_print_text(FILE *f, const struct decode_result *res, const char *layout_from);
void decode_print_json(struct json_writer *jw, const struct decode_result *res,
		       const char *layout_from);

/*
 * Parse an unsigned number: 0x-prefixed hex or decimal, nothing else (no
 * sign, no spaces, no trailing characters, no octal).  0, or -1 with
 * errno EINVAL (not a number) or ERANGE (more than 64 bits).
 */
int decode_parse_u64(const char *s, uint64_t *v);

#endif /* MBEC_DECODE_H */
