// SPDX-License-Identifier: GPL-2.0
/*
 * Rendering a decode_result: human text (one line per set bit or field,
 * then derived facts and warnings) and JSON.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli/json.h"
#include "decode/decode.h"
#include "live/btf_layout.h"

static bool shows_layout(enum decode_kind k)
{
	return k == DECODE_EXIT_QUAL || k == DECODE_SPTE || k == DECODE_ROLE || k == DECODE_ACC;
}

static bool shows_mbec(enum decode_kind k)
{
	return k == DECODE_EXIT_QUAL || k == DECODE_EPT_PTE;
}

static const char *flag_word(unsigned int flags)
{
	if (flags & DF_RESERVED)
		return "reserved";
	if (flags & DF_UNDEFINED)
		return "undefined";
	if (flags & DF_IGNORED)
		return "ignored";
	if (flags & DF_UNCERTAIN)
		return "uncertain";
	return "note";
}

void decode_print_text(FILE *f, const struct decode_result *res, const char *layout_from)
{
	unsigned int i;

	fprintf(f, "%s 0x%" PRIx64, decode_kind_name(res->kind), res->value);
	if (shows_layout(res->kind) || shows_mbec(res->kind)) {
		const char *sep = "";

		fputs("  (", f);
		if (shows_layout(res->kind)) {
			fprintf(f, "layout %s", mbec_layout_name(res->opts.layout));
			if (layout_from && *layout_from)
				fprintf(f, " from %s", layout_from);
			sep = "; ";
		}
		if (res->kind == DECODE_SPTE) {
			fprintf(f, "%s%s format", sep,
				res->opts.format == SPTE_FMT_EPT ? "EPT" : "legacy/NPT");
			sep = "; ";
		}
		if (shows_mbec(res->kind))
			fprintf(f, "%sMBEC %s", sep, res->opts.mbec ? "on" : "off");
		fputc(')', f);
	}
	fputc('\n', f);
	if (!res->nr_fields)
		fputs("  (no bits set)\n", f);
	for (i = 0; i < res->nr_fields; i++) {
		const struct decode_field *d = &res->fields[i];
		char where[16], name[48];

		if (d->lo == d->hi)
			snprintf(where, sizeof(where), "bit %u", d->lo);
		else
			snprintf(where, sizeof(where), "bits %u:%u", d->hi, d->lo);
		if (res->kind == DECODE_ROLE)	/* every field is listed: show values */
			snprintf(name, sizeof(name), "%s=%" PRIu64, d->name, d->value);
		else if (d->lo == d->hi)
			snprintf(name, sizeof(name), "%s", d->name);
		else
			snprintf(name, sizeof(name), "%s=0x%" PRIx64, d->name, d->value);
		fprintf(f, "  %-11s %-20s %s", where, name, d->desc);
		if (!d->desc[0] && d->flags && d->note[0]) {
			fprintf(f, "(%s)\n", d->note);
			continue;
		}
		if (d->flags && d->note[0])
			fprintf(f, "  (%s)", d->note);
		else if (d->flags)
			fprintf(f, "  (%s)", flag_word(d->flags));
		fputc('\n', f);
	}
	for (i = 0; i < res->nr_extras; i++) {
		const struct decode_extra *x = &res->extras[i];

		fprintf(f, "  %s: ", x->key);
		switch (x->type) {
		case DX_HEX:
			fprintf(f, "0x%" PRIx64, x->u);
			break;
		case DX_U64:
			fprintf(f, "%" PRIu64, x->u);
			break;
		case DX_BOOL:
			fputs(x->u ? "yes" : "no", f);
			break;
		case DX_STR:
			fputs(x->text, f);
			break;
		}
		if (x->type != DX_STR && x->text[0])
			fprintf(f, "  %s", x->text);
		fputc('\n', f);
	}
	for (i = 0; i < res->nr_warnings; i++)
		fprintf(f, "  warning: %s\n", res->warnings[i]);
}

void decode_print_json(struct json_writer *jw, const struct decode_result *res,
		       const char *layout_from)
{
	unsigned int i;

	json_obj_begin(jw);
	json_kv_str(jw, "kind", decode_kind_name(res->kind));
	json_kv_hex(jw, "value", res->value);
	if (shows_layout(res->kind)) {
		json_kv_str(jw, "layout", mbec_layout_name(res->opts.layout));
		json_kv_str(jw, "layout_from", layout_from ? layout_from : "");
	}
	if (shows_mbec(res->kind))
		json_kv_bool(jw, "mbec", res->opts.mbec);
	if (res->kind == DECODE_SPTE)
		json_kv_str(jw, "format", res->opts.format == SPTE_FMT_EPT ? "ept" : "legacy");
	json_kv_str(jw, "names", res->names);

	/* name -> value of every named field, for scripts */
	json_key(jw, "values");
	json_obj_begin(jw);
	for (i = 0; i < res->nr_fields; i++)
		if (strcmp(res->fields[i].name, "-"))
			json_kv_u64(jw, res->fields[i].name, res->fields[i].value);
	json_obj_end(jw);

	json_key(jw, "fields");
	json_arr_begin(jw);
	for (i = 0; i < res->nr_fields; i++) {
		const struct decode_field *d = &res->fields[i];

		json_obj_begin(jw);
		json_kv_u64(jw, "lo", d->lo);
		json_kv_u64(jw, "hi", d->hi);
		json_kv_str(jw, "name", d->name);
		json_kv_u64(jw, "value", d->value);
		json_kv_str(jw, "desc", d->desc);
		json_kv_bool(jw, "undefined", d->flags & DF_UNDEFINED);
		json_kv_bool(jw, "reserved", d->flags & DF_RESERVED);
		json_kv_bool(jw, "ignored", d->flags & DF_IGNORED);
		json_kv_bool(jw, "uncertain", d->flags & DF_UNCERTAIN);
		if (d->note[0])
			json_kv_str(jw, "note", d->note);
		json_obj_end(jw);
	}
	json_arr_end(jw);

	for (i = 0; i < res->nr_extras; i++) {
		const struct decode_extra *x = &res->extras[i];
		char key[DECODE_NAME_LEN + 8];

		switch (x->type) {
		case DX_HEX:
			json_kv_hex(jw, x->key, x->u);
			break;
		case DX_U64:
			json_kv_u64(jw, x->key, x->u);
			break;
		case DX_BOOL:
			json_kv_bool(jw, x->key, x->u);
			break;
		case DX_STR:
			json_kv_str(jw, x->key, x->text);
			break;
		}
		if (x->type != DX_STR && x->text[0]) {
			snprintf(key, sizeof(key), "%s_text", x->key);
			json_kv_str(jw, key, x->text);
		}
	}
	json_kv_hex(jw, "flagged_mask", res->flagged_mask);
	json_key(jw, "warnings");
	json_arr_begin(jw);
	for (i = 0; i < res->nr_warnings; i++)
		json_str(jw, res->warnings[i]);
	json_arr_end(jw);
	json_obj_end(jw);
}
