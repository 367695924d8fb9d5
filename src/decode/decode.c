// SPDX-License-Identifier: GPL-2.0
/*
 * The decoders: bit tables per kind, then the context rules that flag a
 * set bit as undefined, reserved or ignored (spec sections 1-5).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "decode/decode.h"
#include "live/btf_layout.h"
#include "mbec_model.h"

struct bitdef {
	unsigned char lo, hi;
	const char *name;
	const char *desc;
	unsigned int flags;
};

static const char *const kind_names[DECODE_NR_KINDS] = {
	[DECODE_EXIT_QUAL] = "exit-qual",
	[DECODE_PFEC] = "pfec",
	[DECODE_NPF] = "npf",
	[DECODE_SPTE] = "spte",
	[DECODE_GPTE] = "gpte",
	[DECODE_EPT_PTE] = "ept-pte",
	[DECODE_ROLE] = "role",
	[DECODE_ACC] = "acc",
};

const char *decode_kind_name(enum decode_kind kind)
{
	return kind < DECODE_NR_KINDS ? kind_names[kind] : "?";
}

int decode_kind_parse(const char *s, enum decode_kind *kind)
{
	int i;

	for (i = 0; i < DECODE_NR_KINDS; i++) {
		if (!strcmp(s, kind_names[i])) {
			*kind = i;
			return 0;
		}
	}
	return -1;
}

uint64_t decode_kind_max(enum decode_kind kind)
{
	switch (kind) {
	case DECODE_ROLE:
		return UINT32_MAX;
	case DECODE_ACC:
		return 0xf;
	default:
		return UINT64_MAX;
	}
}

int decode_parse_u64(const char *s, uint64_t *v)
{
	uint64_t r = 0;
	unsigned int base = 10, d;
	const char *p = s;

	if (!s || !*s)
		goto inval;
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X')) {
		base = 16;
		p += 2;
		if (!*p)
			goto inval;
	}
	for (; *p; p++) {
		if (*p >= '0' && *p <= '9')
			d = *p - '0';
		else if (base == 16 && *p >= 'a' && *p <= 'f')
			d = *p - 'a' + 10;
		else if (base == 16 && *p >= 'A' && *p <= 'F')
			d = *p - 'A' + 10;
		else
			goto inval;
		if (r > (UINT64_MAX - d) / base) {
			errno = ERANGE;
			return -1;
		}
		r = r * base + d;
	}
	*v = r;
	return 0;
inval:
	errno = EINVAL;
	return -1;
}

const char *decode_ept_memtype(unsigned int mt)
{
	switch (mt) {
	case 0:
		return "UC";
	case 1:
		return "WC";
	case 4:
		return "WT";
	case 5:
		return "WP";
	case 6:
		return "WB";
	default:
		return NULL;
	}
}

const char *decode_acc_letters(unsigned int acc, enum mbec_layout layout, char *buf)
{
	if (layout == MBEC_LAYOUT_KOHLER) {	/* the series' own order: x w u X */
		buf[0] = acc & KOHLER_ACC_USER_EXEC ? 'x' : '-';
		buf[1] = acc & KOHLER_ACC_WRITE ? 'w' : '-';
		buf[2] = acc & KOHLER_ACC_USER ? 'u' : '-';
		buf[3] = acc & KOHLER_ACC_EXEC ? 'X' : '-';
		buf[4] = '\0';
	} else if (layout == MBEC_LAYOUT_CLASSIC) {
		buf[0] = acc & CLASSIC_ACC_WRITE ? 'w' : '-';
		buf[1] = acc & CLASSIC_ACC_USER ? 'u' : '-';
		buf[2] = acc & CLASSIC_ACC_EXEC ? 'x' : '-';
		buf[3] = '\0';
	} else {
		buf[0] = acc & MBEC_ACC_READ ? 'r' : '-';
		buf[1] = acc & MBEC_ACC_WRITE ? 'w' : '-';
		buf[2] = acc & MBEC_ACC_USER ? 'u' : '-';
		buf[3] = acc & MBEC_ACC_EXEC ? 'x' : '-';
		buf[4] = '\0';
	}
	return buf;
}

/* ---- building a result -------------------------------------------------- */

static uint64_t field_mask(unsigned int lo, unsigned int hi)
{
	return MBEC_GENMASK(hi, lo);
}

static struct decode_field *add_field(struct decode_result *res, unsigned int lo,
				      unsigned int hi, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static struct decode_field *add_field(struct decode_result *res, unsigned int lo,
				      unsigned int hi, const char *name, const char *fmt, ...)
{
	static struct decode_field overflow;
	struct decode_field *f;
	va_list ap;

	if (res->nr_fields >= DECODE_MAX_FIELDS) {
		memset(&overflow, 0, sizeof(overflow));
		return &overflow;
	}
	f = &res->fields[res->nr_fields++];
	memset(f, 0, sizeof(*f));
	f->lo = lo;
	f->hi = hi;
	f->value = (res->value & field_mask(lo, hi)) >> lo;
	snprintf(f->name, sizeof(f->name), "%s", name);
	va_start(ap, fmt);
	vsnprintf(f->desc, sizeof(f->desc), fmt, ap);
	va_end(ap);
	return f;
}

static void flag(struct decode_result *res, struct decode_field *f, unsigned int flags,
		 const char *note)
{
	f->flags |= flags;
	if (note)
		snprintf(f->note, sizeof(f->note), "%s", note);
	if (flags & (DF_UNDEFINED | DF_RESERVED))
		res->flagged_mask |= field_mask(f->lo, f->hi) & res->value;
}

static struct decode_extra *add_extra(struct decode_result *res, const char *key,
				      enum decode_extra_type type, uint64_t u, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));

static struct decode_extra *add_extra(struct decode_result *res, const char *key,
				      enum decode_extra_type type, uint64_t u, const char *fmt, ...)
{
	static struct decode_extra overflow;
	struct decode_extra *x;
	va_list ap;

	if (res->nr_extras >= DECODE_MAX_EXTRAS)
		return &overflow;
	x = &res->extras[res->nr_extras++];
	memset(x, 0, sizeof(*x));
	snprintf(x->key, sizeof(x->key), "%s", key);
	x->type = type;
	x->u = u;
	if (fmt) {
		va_start(ap, fmt);
		vsnprintf(x->text, sizeof(x->text), fmt, ap);
		va_end(ap);
	}
	return x;
}

static void warn(struct decode_result *res, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void warn(struct decode_result *res, const char *fmt, ...)
{
	va_list ap;

	if (res->nr_warnings >= DECODE_MAX_WARNINGS)
		return;
	va_start(ap, fmt);
	vsnprintf(res->warnings[res->nr_warnings++], DECODE_WARN_LEN, fmt, ap);
	va_end(ap);
}

const struct decode_extra *decode_extra_find(const struct decode_result *res, const char *key)
{
	unsigned int i;

	for (i = 0; i < res->nr_extras; i++)
		if (!strcmp(res->extras[i].key, key))
			return &res->extras[i];
	return NULL;
}

const struct decode_field *decode_field_find(const struct decode_result *res, const char *name)
{
	unsigned int i;

	for (i = 0; i < res->nr_fields; i++)
		if (!strcmp(res->fields[i].name, name))
			return &res->fields[i];
	return NULL;
}

static struct decode_field *field_at(struct decode_result *res, unsigned int bit)
{
	unsigned int i;

	for (i = 0; i < res->nr_fields; i++)
		if (res->fields[i].lo <= bit && bit <= res->fields[i].hi)
			return &res->fields[i];
	return NULL;
}

/*
 * Add a field for every non-zero table entry, then one per remaining set
 * bit, flagged with `rest_flags` / `rest_note`.
 */
static void apply_table(struct decode_result *res, const struct bitdef *t, size_t n,
			unsigned int rest_flags, const char *rest_name, const char *rest_note)
{
	uint64_t covered = 0;
	unsigned int b;
	size_t i;

	for (i = 0; i < n; i++) {
		uint64_t m = field_mask(t[i].lo, t[i].hi);
		struct decode_field *f;

		covered |= m;
		if (!(res->value & m))
			continue;
		f = add_field(res, t[i].lo, t[i].hi, t[i].name, "%s", t[i].desc);
		if (t[i].flags)
			flag(res, f, t[i].flags, t[i].flags & DF_UNCERTAIN ?
			     "uncertain meaning (?)" : NULL);
	}
	for (b = 0; b < 64; b++) {
		struct decode_field *f;

		if (!(res->value & MBEC_BIT(b)) || (covered & MBEC_BIT(b)))
			continue;
		f = add_field(res, b, b, rest_name, "%s", "");
		flag(res, f, rest_flags, rest_note);
	}
}

/* Fields in bit order (insertion sort: at most 72, mostly sorted). */
static void sort_fields(struct decode_result *res)
{
	struct decode_field tmp;
	unsigned int i, j;

	for (i = 1; i < res->nr_fields; i++) {
		if (res->fields[i - 1].lo <= res->fields[i].lo)
			continue;
		tmp = res->fields[i];
		for (j = i; j > 0 && res->fields[j - 1].lo > tmp.lo; j--)
			res->fields[j] = res->fields[j - 1];
		res->fields[j] = tmp;
	}
}

/* "A|B|C" from single-bit fields, "NAME=v" for wider ones. */
static void build_names(struct decode_result *res)
{
	size_t len = 0, cap = sizeof(res->names);
	unsigned int i;

	res->names[0] = '\0';
	for (i = 0; i < res->nr_fields; i++) {
		const struct decode_field *f = &res->fields[i];
		int n;

		if (!f->value || !strcmp(f->name, "-"))
			continue;
		if (f->lo == f->hi && f->value == 1)
			n = snprintf(res->names + len, cap - len, "%s%s", len ? "|" : "", f->name);
		else if (f->lo == f->hi)
			n = snprintf(res->names + len, cap - len, "%s%s", len ? "|" : "", f->name);
		else
			n = snprintf(res->names + len, cap - len, "%s%s=0x%" PRIx64,
				     len ? "|" : "", f->name, f->value);
		if (n < 0 || (size_t)n >= cap - len) {
			res->names[cap - 1] = '\0';
			return;
		}
		len += n;
	}
}

/* ---- error codes (#PF and #NPF) ------------------------------------------ */

static const struct bitdef pfec_bits[] = {
	{ 0, 0, "PRESENT", "protection fault on a present entry (clear: not present)", 0 },
	{ 1, 1, "WRITE", "the access was a write", 0 },
	{ 2, 2, "USER", "user-mode access (CPL 3)", 0 },
	{ 3, 3, "RSVD", "a reserved bit was set in a paging-structure entry", 0 },
	{ 4, 4, "FETCH", "the access was an instruction fetch", 0 },
	{ 5, 5, "PK", "protection-key violation", 0 },
	{ 6, 6, "SS", "shadow-stack access", 0 },
	{ 15, 15, "SGX", "SGX access-control violation", 0 },
	{ 31, 31, "GUEST_RMP", "RMP violation (SEV-SNP)", 0 },
	{ 32, 32, "GUEST_FINAL", "nested paging: fault on the final guest-physical address", 0 },
	{ 33, 33, "GUEST_PAGE", "nested paging: fault on a guest page-table access", 0 },
	{ 34, 34, "GUEST_ENC", "encrypted guest page (SEV-SNP)", 0 },
	{ 35, 35, "GUEST_SIZEM", "page-size mismatch (SEV-SNP)", 0 },
	{ 36, 36, "GUEST_VMPL", "VMPL violation (SEV-SNP)", 0 },
	{ 48, 48, "IMPLICIT_ACCESS", "KVM-synthetic: implicit supervisor access", 0 },
	{ 49, 49, "PRIVATE_ACCESS", "KVM-synthetic: access to guest-private memory", 0 },
};

static const struct bitdef npf_bits[] = {
	{ 0, 0, "P", "the nested entry was present (protection fault)", 0 },
	{ 1, 1, "RW", "the access was a write", 0 },
	{ 2, 2, "US", "user access (every NPT access without GMET; may be wrong "
		"on GMET fetch faults, errata 1218)", 0 },
	{ 3, 3, "RSV", "a reserved bit was set in a nested entry", 0 },
	{ 4, 4, "ID", "the access was an instruction fetch", 0 },
	{ 31, 31, "RMP", "RMP violation (SEV-SNP)", 0 },
	{ 32, 32, "FINAL", "fault on the final guest-physical address", 0 },
	{ 33, 33, "PAGE", "fault on a guest page-table access", 0 },
	{ 34, 34, "ENC", "encrypted guest page (SEV-SNP)", 0 },
	{ 35, 35, "SIZEM", "page-size mismatch (SEV-SNP)", 0 },
	{ 36, 36, "VMPL", "VMPL violation (SEV-SNP)", 0 },
};

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* PFERR names of @v joined by '|' (only named bits). */
static const char *pfec_names(uint64_t v, char *buf, size_t len)
{
	size_t i, used = 0;

	buf[0] = '\0';
	for (i = 0; i < ARRAY_SIZE(pfec_bits); i++) {
		if (!(v & MBEC_BIT(pfec_bits[i].lo)))
			continue;
		used += snprintf(buf + used, len - used, "%s%s", used ? "|" : "",
				 pfec_bits[i].name);
		if (used >= len)
			break;
	}
	if (!buf[0])
		snprintf(buf, len, "0");
	return buf;
}

static void decode_pfec(struct decode_result *res)
{
	uint64_t v = res->value;

	apply_table(res, pfec_bits, ARRAY_SIZE(pfec_bits), DF_UNDEFINED, "-",
		    "undefined: no PFERR bit here");
	if ((v & PFERR_GUEST_FINAL) && (v & PFERR_GUEST_PAGE))
		warn(res, "GUEST_FINAL and GUEST_PAGE both set: a fault is one or the other");
	if ((v & PFERR_RSVD) && !(v & PFERR_PRESENT))
		warn(res, "RSVD without PRESENT: the CPU reports reserved-bit faults as present");
	if ((v & PFERR_WRITE) && (v & PFERR_FETCH))
		warn(res, "WRITE and FETCH both set: an access is one or the other");
}

static void decode_npf(struct decode_result *res)
{
	uint64_t v = res->value;

	apply_table(res, npf_bits, ARRAY_SIZE(npf_bits), DF_UNDEFINED, "-",
		    "undefined: no EXITINFO1 bit here");
	if (v & PFERR_GUEST_FINAL && !(v & PFERR_GUEST_PAGE))
		add_extra(res, "stage", DX_STR, 0, "final translation");
	else if (v & PFERR_GUEST_PAGE && !(v & PFERR_GUEST_FINAL))
		add_extra(res, "stage", DX_STR, 0, "guest page-table walk");
	if ((v & PFERR_GUEST_FINAL) && (v & PFERR_GUEST_PAGE))
		warn(res, "FINAL and PAGE both set: a fault is one or the other");
	if ((v & NPF_RW) && (v & NPF_ID))
		warn(res, "RW and ID both set: an access is one or the other");
}

/* ---- EPT-violation exit qualification ------------------------------------ */

static const struct bitdef eq_bits[] = {
	{ 0, 0, "ACC_READ", "the access was a data read", 0 },
	{ 1, 1, "ACC_WRITE", "the access was a data write", 0 },
	{ 2, 2, "ACC_INSTR", "the access was an instruction fetch", 0 },
	{ 3, 3, "PROT_READ", "readable (AND of EPT bit 0 over the walk)", 0 },
	{ 4, 4, "PROT_WRITE", "writable (AND of EPT bit 1)", 0 },
	{ 5, 5, "PROT_EXEC", "executable (AND of EPT bit 2)", 0 },
	{ 6, 6, "PROT_USER_EXEC", "user-mode execute allowed (AND of EPT bit 10)", 0 },
	{ 7, 7, "GVA_IS_VALID", "the guest-linear-address field is valid", 0 },
	{ 8, 8, "GVA_TRANSLATED", "access to the final translated address "
		"(clear: paging structure)", 0 },
	{ 9, 9, "GVA_USER", "advanced info: user-mode linear address (guest U bit)", 0 },
	{ 10, 10, "GVA_WRITABLE", "advanced info: the guest page is writable", 0 },
	{ 11, 11, "GVA_NX", "advanced info: the guest page is execute-disable", 0 },
	{ 12, 12, "NMI_UNBLOCK", "NMI unblocking due to IRET", 0 },
	{ 13, 13, "SHSTK", "shadow-stack access", DF_UNCERTAIN },
	{ 14, 14, "SSS", "supervisor shadow-stack page", DF_UNCERTAIN },
	{ 15, 15, "GPV", "guest-paging verification", DF_UNCERTAIN },
	{ 16, 16, "ASYNC", "asynchronous to instruction execution", DF_UNCERTAIN },
};

static void decode_exit_qual(struct decode_result *res)
{
	uint64_t v = res->value;
	bool mbec = res->opts.mbec;
	bool gva_ok = (v & EPT_VIOL_GVA_IS_VALID) && (v & EPT_VIOL_GVA_TRANSLATED);
	struct decode_field *f;
	char names[DECODE_DESC_LEN];
	unsigned int b;
	uint64_t pfec;

	apply_table(res, eq_bits, ARRAY_SIZE(eq_bits), DF_UNDEFINED, "-",
		    "undefined: above bit 16");
	if (mbec && (f = field_at(res, 5)))
		snprintf(f->desc, sizeof(f->desc),
			 "supervisor-mode execute allowed (AND of EPT bit 2, XS)");
	if (!mbec && (f = field_at(res, 6)))
		flag(res, f, DF_UNDEFINED, "undefined: MBEC off");
	if ((v & EPT_VIOL_GVA_TRANSLATED) && !(v & EPT_VIOL_GVA_IS_VALID))
		flag(res, field_at(res, 8), DF_UNDEFINED, "undefined: GVA_IS_VALID clear");
	for (b = 9; b <= 11; b++) {
		f = field_at(res, b);
		if (!f)
			continue;
		if (!gva_ok)
			flag(res, f, DF_UNDEFINED, "undefined: GVA not valid and translated");
		else if (!mbec)
			flag(res, f, DF_NOTE, "only with advanced EPT-violation info");
	}
	if (!(v & EPT_VIOL_ACC_MASK))
		warn(res, "no access bit (0-2) set: the CPU always reports the access");
	pfec = mbec_kvm_exit_qual_to_pfec(res->opts.layout, mbec, v);
	add_extra(res, "kvm_error_code", DX_HEX, pfec, "%s (KVM, layout %s)",
		  pfec_names(pfec, names, sizeof(names)), mbec_layout_name(res->opts.layout));
	if (v & EPT_VIOL_GVA_IS_VALID)
		add_extra(res, "gva_access", DX_STR, 0, "%s",
			  v & EPT_VIOL_GVA_TRANSLATED ? "translated address" :
			  "guest paging structure (or A/D update)");
	else
		add_extra(res, "gva_access", DX_STR, 0, "unknown (no valid guest-linear address)");
}

/* ---- SPTEs ----------------------------------------------------------------- */

struct spte_layout {
	uint64_t host_writable, mmu_writable;
	unsigned int ad_lo;
	uint64_t saved_r, saved_x, saved_xu;	/* saved_xu 0 on classic */
	unsigned int saved_shift;
	uint64_t gen_low, gen_high;
	unsigned int gen_low_bits;
	uint64_t frozen;
};

static void spte_layout_get(enum mbec_layout l, enum spte_format fmt, struct spte_layout *s)
{
	memset(s, 0, sizeof(*s));
	if (l == MBEC_LAYOUT_CLASSIC) {
		s->host_writable = fmt == SPTE_FMT_EPT ? CLASSIC_SPTE_EPT_HOST_WRITABLE :
			SPTE_LEGACY_HOST_WRITABLE;
		s->mmu_writable = fmt == SPTE_FMT_EPT ? CLASSIC_SPTE_EPT_MMU_WRITABLE :
			SPTE_LEGACY_MMU_WRITABLE;
		s->ad_lo = CLASSIC_SPTE_TDP_AD_SHIFT;
		s->saved_r = MBEC_BIT(CLASSIC_SPTE_SAVED_R_SHIFT);
		s->saved_x = MBEC_BIT(CLASSIC_SPTE_SAVED_X_SHIFT);
		s->saved_shift = CLASSIC_SPTE_SAVED_R_SHIFT;
		s->gen_low = CLASSIC_MMIO_GEN_LOW_MASK;
		s->gen_high = CLASSIC_MMIO_GEN_HIGH_MASK;
		s->frozen = CLASSIC_FROZEN_SPTE_BITS;
	} else {
		s->host_writable = fmt == SPTE_FMT_EPT ? MBEC_SPTE_EPT_HOST_WRITABLE :
			SPTE_LEGACY_HOST_WRITABLE;
		s->mmu_writable = fmt == SPTE_FMT_EPT ? MBEC_SPTE_EPT_MMU_WRITABLE :
			SPTE_LEGACY_MMU_WRITABLE;
		s->ad_lo = MBEC_SPTE_TDP_AD_SHIFT;
		s->saved_r = MBEC_BIT(MBEC_SPTE_SAVED_R_SHIFT);
		s->saved_x = MBEC_BIT(MBEC_SPTE_SAVED_XS_SHIFT);
		s->saved_xu = MBEC_BIT(MBEC_SPTE_SAVED_XU_SHIFT);
		s->saved_shift = MBEC_SPTE_SAVED_R_SHIFT;
		s->gen_low = MBEC_MMIO_GEN_LOW_MASK;
		s->gen_high = MBEC_MMIO_GEN_HIGH_MASK;
		s->frozen = MBEC_FROZEN_SPTE_BITS;
	}
	s->gen_low_bits = __builtin_popcountll(s->gen_low);
}

static int lowest_bit(uint64_t m)
{
	return __builtin_ctzll(m);
}

/* Legacy-format MMIO SPTEs use reserved bit 51 (hosts with MAXPHYADDR < 52). */
#define LEGACY_MMIO_RSVD	MBEC_BIT(51)

static const char *const ad_type_names[4] = {
	"enabled", "disabled", "wrprot-only", "reserved"
};

static void spte_mmio(struct decode_result *res, const struct spte_layout *s, bool ept)
{
	uint64_t v = res->value;
	uint64_t low = (v & s->gen_low) >> lowest_bit(s->gen_low);
	uint64_t high = (v & s->gen_high) >> lowest_bit(s->gen_high);
	uint64_t gen = low | high << s->gen_low_bits;
	unsigned int gl = lowest_bit(s->gen_low), gh = 63 - __builtin_clzll(s->gen_low);
	struct decode_field *f;

	if (ept) {
		add_field(res, 1, 2, "MMIO_VALUE", "W|X without R: KVM's MMIO marker "
			  "(EPT misconfiguration)");
		if (v & EPTE_R)
			add_field(res, 0, 0, "R", "readable: not part of an MMIO SPTE");
		if (v & field_mask(12, 51))
			add_field(res, 12, 51, "GFN", "guest frame of the MMIO access (bits 51:12)");
	} else {
		add_field(res, 0, 0, "P", "present, with a reserved bit: KVM's MMIO marker");
		f = add_field(res, 51, 51, "MMIO_RSVD", "reserved physical-address bit: MMIO "
			      "marker (hosts with MAXPHYADDR < 52)");
		flag(res, f, DF_UNCERTAIN, "(?) depends on the host's MAXPHYADDR");
		if (v & (PTE_RW | PTE_US))
			add_field(res, 1, 2, "MMIO_ACC", "ACC write/user bits of the MMIO access");
		if (v & field_mask(12, 50))
			add_field(res, 12, 50, "GFN", "guest frame of the MMIO access (bits 50:12)");
	}
	if (low)
		add_field(res, gl, gh, "GEN_LOW", "MMIO generation, low %u bits", s->gen_low_bits);
	if (high)
		add_field(res, 52, 62, "GEN_HIGH", "MMIO generation, high 11 bits");
	add_extra(res, "mmio_gen", DX_U64, gen, "memslot generation (%u bits)",
		  s->gen_low_bits + 11);
	if (ept)
		add_extra(res, "gfn", DX_HEX, (v & field_mask(12, 51)) >> 12, "guest frame number");
}

static void spte_frozen(struct decode_result *res, const struct spte_layout *s)
{
	uint64_t v = res->value;
	unsigned int b;

	for (b = 0; b < 63; b++)
		if (s->frozen & MBEC_BIT(b))
			add_field(res, b, b, "FROZEN", "part of the frozen-SPTE marker 0x%" PRIx64
				  " (another CPU is changing this SPTE)", s->frozen);
	if (v & SPTE_SHADOW_NONPRESENT)
		add_field(res, 63, 63, "NONPRESENT", "shadow non-present value (suppress #VE)");
}

static void spte_ept_fields(struct decode_result *res, const struct spte_layout *s,
			    bool classic)
{
	static const struct bitdef common[] = {
		{ 0, 0, "R", "readable", 0 },
		{ 1, 1, "W", "writable", 0 },
		{ 3, 5, "MT", "EPT memory type", 0 },
		{ 6, 6, "IPAT", "ignore guest PAT", 0 },
		{ 7, 7, "PS", "large page", 0 },
		{ 8, 8, "A", "accessed", 0 },
		{ 9, 9, "D", "dirty", 0 },
		{ 11, 11, "MMU_PRESENT", "KVM: shadow-present SPTE", 0 },
		{ 12, 51, "PFN", "host page frame", 0 },
		{ 63, 63, "SVE", "suppress #VE (KVM's shadow non-present bit)", 0 },
	};
	struct bitdef t[ARRAY_SIZE(common) + 8];
	size_t n = ARRAY_SIZE(common), ad = s->ad_lo;
	struct decode_field *f;
	uint64_t v = res->value;
	unsigned int mt;

	memcpy(t, common, sizeof(common));
	t[n++] = (struct bitdef){ 2, 2, classic ? "X" : "XS", classic ? "executable" :
		"supervisor-mode executable", 0 };
	if (!classic)
		t[n++] = (struct bitdef){ 10, 10, "XU", "user-mode executable (MBEC)", 0 };
	t[n++] = (struct bitdef){ ad, ad + 1, "AD_TYPE", "KVM: A/D type", 0 };
	t[n++] = (struct bitdef){ lowest_bit(s->host_writable), lowest_bit(s->host_writable),
		"HOST_WRITABLE", "KVM: the host mapping is writable", 0 };
	t[n++] = (struct bitdef){ lowest_bit(s->mmu_writable), lowest_bit(s->mmu_writable),
		"MMU_WRITABLE", "KVM: the MMU may make this SPTE writable", 0 };
	t[n++] = (struct bitdef){ lowest_bit(s->saved_r), lowest_bit(s->saved_r), "SAVED_R",
		"KVM: access tracking saved R", 0 };
	t[n++] = (struct bitdef){ lowest_bit(s->saved_x), lowest_bit(s->saved_x),
		classic ? "SAVED_X" : "SAVED_XS", classic ? "KVM: access tracking saved X" :
		"KVM: access tracking saved XS", 0 };
	if (!classic)
		t[n++] = (struct bitdef){ 62, 62, "SAVED_XU", "KVM: access tracking saved XU", 0 };
	apply_table(res, t, n, DF_UNDEFINED, "-", "undefined: KVM does not use this bit");
	if (classic && (f = field_at(res, 10)))
		flag(res, f, DF_UNDEFINED, "undefined: classic KVM never sets EPT bit 10 (XU)");
	mt = (v & EPTE_MT_MASK) >> EPTE_MT_SHIFT;
	if ((f = field_at(res, 3)) && decode_ept_memtype(mt))
		snprintf(f->desc, sizeof(f->desc), "EPT memory type %u (%s)", mt,
			 decode_ept_memtype(mt));
	else if (f)
		flag(res, f, DF_RESERVED, "reserved memory type");
}

static void spte_legacy_fields(struct decode_result *res, const struct spte_layout *s,
			       bool classic)
{
	static const struct bitdef common[] = {
		{ 0, 0, "P", "present", 0 },
		{ 1, 1, "RW", "writable", 0 },
		{ 2, 2, "US", "user accessible", 0 },
		{ 3, 3, "PWT", "page write-through", 0 },
		{ 4, 4, "PCD", "page cache disable", 0 },
		{ 5, 5, "A", "accessed", 0 },
		{ 6, 6, "D", "dirty", 0 },
		{ 7, 7, "PS", "large page (PAT in a 4K SPTE)", 0 },
		{ 8, 8, "G", "global", 0 },
		{ 9, 9, "HOST_WRITABLE", "KVM: the host mapping is writable", 0 },
		{ 10, 10, "MMU_WRITABLE", "KVM: the MMU may make this SPTE writable", 0 },
		{ 11, 11, "MMU_PRESENT", "KVM: shadow-present SPTE", 0 },
		{ 12, 51, "PFN", "host page frame", 0 },
		{ 63, 63, "NX", "execute-disable", 0 },
	};
	struct bitdef t[ARRAY_SIZE(common) + 1];
	size_t n = ARRAY_SIZE(common);

	(void)classic;
	memcpy(t, common, sizeof(common));
	t[n++] = (struct bitdef){ s->ad_lo, s->ad_lo + 1, "AD_TYPE", "KVM: A/D type", 0 };
	apply_table(res, t, n, DF_UNDEFINED, "-", "undefined: KVM does not use this bit");
}

/* The ACC value a present leaf SPTE grants, in the layout's encoding. */
static unsigned int spte_grants(uint64_t v, bool ept, enum mbec_layout l)
{
	unsigned int acc = 0;

	if (l == MBEC_LAYOUT_CLASSIC) {
		if (ept) {
			acc |= v & EPTE_R ? CLASSIC_ACC_USER : 0;
			acc |= v & EPTE_W ? CLASSIC_ACC_WRITE : 0;
			acc |= v & EPTE_X ? CLASSIC_ACC_EXEC : 0;
		} else {
			acc |= v & PTE_RW ? CLASSIC_ACC_WRITE : 0;
			acc |= v & PTE_US ? CLASSIC_ACC_USER : 0;
			acc |= v & PTE_NX ? 0 : CLASSIC_ACC_EXEC;
		}
	} else {
		if (ept) {
			acc |= v & EPTE_R ? MBEC_ACC_READ : 0;
			acc |= v & EPTE_W ? MBEC_ACC_WRITE : 0;
			acc |= v & EPTE_XU ? MBEC_ACC_USER_EXEC : 0;
			acc |= v & EPTE_XS ? MBEC_ACC_EXEC : 0;
		} else {
			acc |= v & PTE_P ? MBEC_ACC_READ : 0;
			acc |= v & PTE_RW ? MBEC_ACC_WRITE : 0;
			acc |= v & PTE_US ? MBEC_ACC_USER : 0;
			acc |= v & PTE_NX ? 0 : MBEC_ACC_EXEC;
		}
	}
	return acc;
}

static const char *saved_names(uint64_t v, const struct spte_layout *s, bool classic,
			       char *buf)
{
	buf[0] = '\0';
	if (v & s->saved_r)
		strcat(buf, "R");
	if (v & s->saved_x)
		strcat(buf, buf[0] ? (classic ? "|X" : "|XS") : (classic ? "X" : "XS"));
	if (v & s->saved_xu)
		strcat(buf, buf[0] ? "|XU" : "XU");
	if (!buf[0])
		strcpy(buf, "none");
	return buf;
}

static void decode_spte(struct decode_result *res)
{
	enum mbec_layout l = res->opts.layout;
	bool classic = l == MBEC_LAYOUT_CLASSIC;
	bool ept = res->opts.format == SPTE_FMT_EPT;
	uint64_t v = res->value;
	uint64_t perm = ept ? (EPTE_RWX | (classic ? 0 : EPTE_XU)) : 0;
	struct spte_layout s;
	unsigned int ad;
	char letters[8], names[16];

	spte_layout_get(l, res->opts.format, &s);
	ad = (v >> s.ad_lo) & 3;

	if (v == 0 || v == SPTE_SHADOW_NONPRESENT) {
		add_extra(res, "class", DX_STR, 0, "nonpresent");
		if (v)
			add_field(res, 63, 63, "NONPRESENT", "KVM's shadow non-present value%s",
				  ept ? " (suppress #VE)" : "");
		return;
	}
	if ((v & ~SPTE_SHADOW_NONPRESENT) == s.frozen) {
		add_extra(res, "class", DX_STR, 0, "frozen");
		spte_frozen(res, &s);
		return;
	}
	if ((ept && (v & (EPTE_RWX | SPTE_SHADOW_NONPRESENT)) == SPTE_EPT_MMIO_VALUE) ||
	    (!ept && (v & (PTE_P | LEGACY_MMIO_RSVD | SPTE_MMU_PRESENT)) ==
	     (PTE_P | LEGACY_MMIO_RSVD))) {
		add_extra(res, "class", DX_STR, 0, "mmio");
		spte_mmio(res, &s, ept);
		return;
	}
	if (ept)
		spte_ept_fields(res, &s, classic);
	else
		spte_legacy_fields(res, &s, classic);

	if (!(v & SPTE_MMU_PRESENT)) {
		add_extra(res, "class", DX_STR, 0, "invalid");
		warn(res, "neither shadow-present (bit 11), MMIO, frozen nor non-present: "
		     "KVM never writes this value");
		return;
	}
	add_extra(res, "ad_type", DX_STR, 0, "%s", ad_type_names[ad]);
	if (ad == 3)
		warn(res, "A/D type 3 is not used by KVM");

	if (ept && ad == SPTE_TDP_AD_DISABLED && !(v & perm)) {
		uint64_t saved = s.saved_r | s.saved_x | s.saved_xu;
		uint64_t restored = v & ~saved;

		restored |= v & s.saved_r ? EPTE_R : 0;
		restored |= v & s.saved_x ? EPTE_X : 0;
		restored |= v & s.saved_xu ? EPTE_XU : 0;
		add_extra(res, "class", DX_STR, 0, "access-tracked");
		add_extra(res, "saved", DX_STR, 0, "%s", saved_names(v, &s, classic, names));
		add_extra(res, "restored", DX_HEX, restored,
			  "the SPTE once the access-track saved bits are restored");
		if (!(v & saved))
			warn(res, "access-tracked SPTE with no saved permission: it can never "
			     "be restored to a usable SPTE");
		return;
	}
	add_extra(res, "class", DX_STR, 0, "present");
	add_extra(res, "grants", DX_HEX, spte_grants(v, ept, l), "%s (as a leaf)",
		  decode_acc_letters(spte_grants(v, ept, l), l, letters));

	if ((v & (ept ? EPTE_W : PTE_RW)) && !(v & s.mmu_writable))
		warn(res, "writable without MMU-writable: KVM sets W only with MMU-writable");
	if ((v & s.mmu_writable) && !(v & s.host_writable))
		warn(res, "MMU-writable without host-writable");
	if (ept && (v & EPTE_W) && !(v & EPTE_R))
		warn(res, "W without R: an EPT misconfiguration");
	if (ept && ad != SPTE_TDP_AD_DISABLED && (v & (s.saved_r | s.saved_x | s.saved_xu)))
		warn(res, "access-track saved bits set while A/D bits are enabled");
	if (ept && !classic && !!(v & EPTE_XS) != !!(v & EPTE_XU))
		warn(res, "XS != XU: expected only in shadow-EPT (nested) SPTEs; direct TDP "
		     "leaves set both or neither");
}

/* ---- guest entries ----------------------------------------------------------- */

static const struct bitdef gpte_bits[] = {
	{ 0, 0, "P", "present", 0 },
	{ 1, 1, "RW", "writable", 0 },
	{ 2, 2, "US", "user-mode accessible", 0 },
	{ 3, 3, "PWT", "page write-through", 0 },
	{ 4, 4, "PCD", "page cache disable", 0 },
	{ 5, 5, "A", "accessed", 0 },
	{ 6, 6, "D", "dirty (leaf)", 0 },
	{ 7, 7, "PS", "large page in a PDE/PDPTE; PAT in a 4K PTE", 0 },
	{ 8, 8, "G", "global (leaf)", 0 },
	{ 9, 11, "AVL", "ignored (available to software)", 0 },
	{ 12, 51, "PFN", "page frame (bit 12 is PAT in a large-page entry)", 0 },
	{ 52, 58, "AVL_HIGH", "ignored (available to software)", 0 },
	{ 59, 62, "PKEY", "protection key (leaf, with CR4.PKE/PKS)", 0 },
	{ 63, 63, "NX", "execute-disable (with EFER.NXE)", 0 },
};

static void decode_gpte(struct decode_result *res)
{
	uint64_t v = res->value;
	unsigned int i;

	apply_table(res, gpte_bits, ARRAY_SIZE(gpte_bits), DF_UNDEFINED, "-", NULL);
	add_extra(res, "present", DX_BOOL, v & PTE_P, NULL);
	if (!(v & PTE_P)) {
		for (i = 0; i < res->nr_fields; i++)
			if (res->fields[i].lo > 0)
				flag(res, &res->fields[i], DF_IGNORED, "ignored: not present");
		return;
	}
	add_extra(res, "perm", DX_STR, 0, "%s%s%s", v & PTE_RW ? "w" : "-",
		  v & PTE_US ? "u" : "s", v & PTE_NX ? "-" : "x");
}

static const struct bitdef eptpte_bits[] = {
	{ 0, 0, "R", "read allowed", 0 },
	{ 1, 1, "W", "write allowed", 0 },
	{ 3, 5, "MT", "memory type (leaf)", 0 },
	{ 6, 6, "IPAT", "ignore PAT (leaf)", 0 },
	{ 7, 7, "PS", "large page (levels 2, 3)", 0 },
	{ 8, 8, "A", "accessed (with EPT A/D)", 0 },
	{ 9, 9, "D", "dirty (leaf, with EPT A/D)", 0 },
	{ 11, 11, "IGN11", "ignored", 0 },
	{ 12, 51, "PFN", "physical frame", 0 },
	{ 52, 56, "IGN_HIGH", "ignored", 0 },
	{ 57, 57, "VGP", "verify guest paging", DF_UNCERTAIN },
	{ 58, 58, "PW", "paging-write access", DF_UNCERTAIN },
	{ 59, 59, "IGN59", "ignored", 0 },
	{ 60, 60, "SSS", "supervisor shadow stack", DF_UNCERTAIN },
	{ 61, 61, "SPP", "sub-page write permissions", DF_UNCERTAIN },
	{ 62, 62, "IGN62", "ignored", 0 },
	{ 63, 63, "SVE", "suppress #VE", 0 },
};

static void decode_ept_pte(struct decode_result *res)
{
	uint64_t v = res->value;
	bool mbec = res->opts.mbec;
	struct bitdef t[ARRAY_SIZE(eptpte_bits) + 2];
	size_t n = ARRAY_SIZE(eptpte_bits);
	struct decode_field *f;
	bool present;
	unsigned int mt;

	memcpy(t, eptpte_bits, sizeof(eptpte_bits));
	t[n++] = (struct bitdef){ 2, 2, mbec ? "XS" : "X", mbec ?
		"execute allowed for supervisor-mode linear addresses" : "execute allowed", 0 };
	t[n++] = (struct bitdef){ 10, 10, "XU", "execute allowed for user-mode addresses", 0 };
	apply_table(res, t, n, DF_UNDEFINED, "-", NULL);
	if (!mbec && (f = field_at(res, 10)))
		flag(res, f, DF_IGNORED, "ignored: MBEC off");
	present = (v & EPTE_RWX) || (mbec && (v & EPTE_XU));
	add_extra(res, "present", DX_BOOL, present, NULL);
	if (!present)
		return;
	mt = (v & EPTE_MT_MASK) >> EPTE_MT_SHIFT;
	if ((f = field_at(res, 3)) && decode_ept_memtype(mt))
		snprintf(f->desc, sizeof(f->desc), "memory type %u (%s) (leaf)", mt,
			 decode_ept_memtype(mt));
	else if (f)
		flag(res, f, DF_RESERVED, "reserved memory type: misconfiguration in a leaf");
	add_extra(res, "misconfig", DX_BOOL, (v & EPTE_W) && !(v & EPTE_R),
		  "W without R is always a misconfiguration");
	if ((v & EPTE_W) && !(v & EPTE_R))
		warn(res, "W=1 with R=0: EPT misconfiguration");
	if (!(v & (EPTE_R | EPTE_W)))
		warn(res, "execute-only entry: legal only when the CPU supports "
		     "execute-only EPT");
}

/* ---- role and ACC -------------------------------------------------------------- */

static const struct {
	const char *name, *desc;
} role_desc[] = {
	{ "level", "page-table level (1 = 4K)" },
	{ "has_4_byte_gpte", "guest uses 32-bit (non-PAE) entries" },
	{ "quadrant", "part of a 32-bit guest table this page shadows" },
	{ "direct", "direct map (no guest table behind it)" },
	{ "access", "ACC inherited from the guest walk" },
	{ "invalid", "obsolete root, to be freed" },
	{ "efer_nx", "EFER.NX" },
	{ "cr0_wp", "CR0.WP" },
	{ "smep_andnot_wp", "CR4.SMEP && !CR0.WP" },
	{ "cr4_smep", "CR4.SMEP (shadow paging), MBEC (EPT root), GMET (NPT root)" },
	{ "smap_andnot_wp", "CR4.SMAP && !CR0.WP" },
	{ "ad_disabled", "A/D bits disabled (EPT without A/D)" },
	{ "guest_mode", "page of a nested (L2) guest" },
	{ "passthrough", "pass-through root of a non-paging or 5-level guest" },
	{ "is_mirror", "TDX mirror page table" },
	{ "smm", "SMM address space" },
};

static void decode_role(struct decode_result *res)
{
	const struct role_layout *l = res->opts.role ? res->opts.role :
		role_layout_builtin(res->opts.layout);
	uint32_t w = (uint32_t)res->value;
	uint32_t unused = w & ~role_used_mask(l);
	unsigned int i, j, b;
	char letters[8];

	res->opts.layout = l->abi;
	for (i = 0; i < l->nr_fields; i++) {
		const struct role_field *rf = &l->fields[i];
		const char *desc = "";
		struct decode_field *f;

		for (j = 0; j < ARRAY_SIZE(role_desc); j++)
			if (!strcmp(role_desc[j].name, rf->name))
				desc = role_desc[j].desc;
		f = add_field(res, rf->shift, rf->shift + rf->width - 1, rf->name, "%s", desc);
		if (!strcmp(rf->name, "access")) {
			decode_acc_letters(f->value, l->abi, letters);
			snprintf(f->desc, sizeof(f->desc), "ACC %s", letters);
			add_extra(res, "acc_letters", DX_STR, 0, "%s", letters);
		}
	}
	for (b = 0; b < 32; b++) {
		struct decode_field *f;

		if (!(unused & (1u << b)))
			continue;
		f = add_field(res, b, b, "-", "not a field of this layout");
		flag(res, f, DF_UNDEFINED, "undefined: unused role bit");
	}
	if (role_get(l, w, "level") == 0)
		warn(res, "level 0: no shadow page has level 0");
	if (role_get(l, w, "level") > 5)
		warn(res, "level above 5");
}

static void acc_spte_bits(unsigned int acc, enum mbec_layout l, uint64_t *legacy, uint64_t *ept)
{
	if (l == MBEC_LAYOUT_CLASSIC || l == MBEC_LAYOUT_KOHLER) {
		*legacy = PTE_P | (acc & CLASSIC_ACC_WRITE ? PTE_RW : 0) |
			(acc & CLASSIC_ACC_USER ? PTE_US : 0) |
			(acc & CLASSIC_ACC_EXEC ? 0 : PTE_NX);
		*ept = (acc & CLASSIC_ACC_USER ? EPTE_R : 0) |
			(acc & CLASSIC_ACC_WRITE ? EPTE_W : 0) |
			(acc & CLASSIC_ACC_EXEC ? EPTE_X : 0) |
			(acc & KOHLER_ACC_USER_EXEC ? EPTE_XU : 0);
	} else {
		*legacy = (acc & MBEC_ACC_READ ? PTE_P : 0) |
			(acc & MBEC_ACC_WRITE ? PTE_RW : 0) |
			(acc & MBEC_ACC_USER ? PTE_US : 0) |
			(acc & MBEC_ACC_EXEC ? 0 : PTE_NX);
		*ept = (acc & MBEC_ACC_READ ? EPTE_R : 0) |
			(acc & MBEC_ACC_WRITE ? EPTE_W : 0) |
			(acc & MBEC_ACC_USER_EXEC ? EPTE_XU : 0) |
			(acc & MBEC_ACC_EXEC ? EPTE_XS : 0);
	}
}

static void decode_acc(struct decode_result *res)
{
	static const struct bitdef classic_bits[] = {
		{ 0, 0, "EXEC", "executable (legacy/NPT: NX clear; EPT: X)", 0 },
		{ 1, 1, "WRITE", "writable", 0 },
		{ 2, 2, "USER", "user accessible (legacy/NPT: U; EPT: readable)", 0 },
	};
	static const struct bitdef mbec_bits[] = {
		{ 0, 0, "READ", "readable (legacy/NPT: P; EPT: R)", 0 },
		{ 1, 1, "WRITE", "writable (RW / W)", 0 },
		{ 2, 2, "USER", "legacy/NPT: user accessible (U); EPT: USER_EXEC (XU)", 0 },
		{ 3, 3, "EXEC", "executable (legacy/NPT: NX clear; EPT: XS)", 0 },
	};
	static const struct bitdef kohler_bits[] = {
		{ 0, 0, "EXEC", "executable (legacy/NPT: NX clear; EPT: X, XS with MBEC)", 0 },
		{ 1, 1, "WRITE", "writable", 0 },
		{ 2, 2, "USER", "user accessible (legacy/NPT: U; EPT: readable)", 0 },
		{ 3, 3, "USER_EXEC", "EPT with MBEC: user-mode executable (XU)", 0 },
	};
	bool classic = res->opts.layout == MBEC_LAYOUT_CLASSIC;
	unsigned int acc = res->value;
	uint64_t legacy, ept;
	char letters[8];

	if (classic)
		apply_table(res, classic_bits, ARRAY_SIZE(classic_bits), DF_UNDEFINED, "-",
			    "undefined: classic ACC has 3 bits");
	else if (res->opts.layout == MBEC_LAYOUT_KOHLER)
		apply_table(res, kohler_bits, ARRAY_SIZE(kohler_bits), DF_UNDEFINED, "-", NULL);
	else
		apply_table(res, mbec_bits, ARRAY_SIZE(mbec_bits), DF_UNDEFINED, "-", NULL);
	acc_spte_bits(classic ? acc & CLASSIC_ACC_ALL : acc, res->opts.layout, &legacy, &ept);
	add_extra(res, "letters", DX_STR, 0, "%s", decode_acc_letters(acc, res->opts.layout,
								     letters));
	add_extra(res, "spte_legacy", DX_HEX, legacy, "legacy/NPT SPTE permission bits");
	add_extra(res, "spte_ept", DX_HEX, ept, "EPT SPTE permission bits");
}

int decode_value(enum decode_kind kind, uint64_t value, const struct decode_opts *opts,
		 struct decode_result *res)
{
	if (kind >= DECODE_NR_KINDS || value > decode_kind_max(kind))
		return -1;
	memset(res, 0, sizeof(*res));
	res->kind = kind;
	res->value = value;
	res->opts = *opts;
	/* Kohler's series differs from classic in its ACC and role only. */
	if (res->opts.layout == MBEC_LAYOUT_KOHLER && kind != DECODE_ACC && kind != DECODE_ROLE)
		res->opts.layout = MBEC_LAYOUT_CLASSIC;
	else if (res->opts.layout != MBEC_LAYOUT_CLASSIC && res->opts.layout != MBEC_LAYOUT_KOHLER)
		res->opts.layout = MBEC_LAYOUT_MBEC;

	switch (kind) {
	case DECODE_EXIT_QUAL:
		decode_exit_qual(res);
		break;
	case DECODE_PFEC:
		decode_pfec(res);
		break;
	case DECODE_NPF:
		decode_npf(res);
		break;
	case DECODE_SPTE:
		decode_spte(res);
		break;
	case DECODE_GPTE:
		decode_gpte(res);
		break;
	case DECODE_EPT_PTE:
		decode_ept_pte(res);
		break;
	case DECODE_ROLE:
		decode_role(res);
		break;
	case DECODE_ACC:
		decode_acc(res);
		break;
	default:
		return -1;
	}
	sort_fields(res);
	build_names(res);
	return 0;
}
