// SPDX-License-Identifier: GPL-2.0
/*
 * Streaming JSON writer; see json.h for the contract.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/json.h"

void json_init(struct json_writer *jw, FILE *f, bool pretty)
{
	memset(jw, 0, sizeof(*jw));
	jw->f = f;
	jw->pretty = pretty;
}

static void newline_indent(struct json_writer *jw)
{
	int i;

	if (!jw->pretty)
		return;
	fputc('\n', jw->f);
	for (i = 0; i < jw->depth; i++)
		fputs("  ", jw->f);
}

/*
 * Called before every value and every key: writes the separator that the
 * position needs and checks that a value inside an object has its key.
 */
static void before_item(struct json_writer *jw, bool is_key)
{
	int d = jw->depth;

	if (jw->key_pending) {
		if (is_key)
			jw->error = true;	/* two keys in a row */
		jw->key_pending = false;
		return;
	}
	if (d == 0) {
		return;
	}
	if (jw->kind[d - 1] == 'o' && !is_key)
		jw->error = true;		/* value without a key */
	if (jw->kind[d - 1] == 'a' && is_key)
		jw->error = true;		/* key inside an array */
	if (jw->has_items[d - 1])
		fputc(',', jw->f);
	jw->has_items[d - 1] = true;
	newline_indent(jw);
}

static void open_container(struct json_writer *jw, char kind)
{
	before_item(jw, false);
	if (jw->depth >= JSON_MAX_DEPTH) {
		jw->error = true;
		return;
	}
	fputc(kind == 'o' ? '{' : '[', jw->f);
	jw->kind[jw->depth] = kind;
	jw->has_items[jw->depth] = false;
	jw->depth++;
}

static void close_container(struct json_writer *jw, char kind)
{
	bool had_items;

	if (jw->depth == 0 || jw->kind[jw->depth - 1] != kind || jw->key_pending) {
		jw->error = true;
		return;
	}
	had_items = jw->has_items[jw->depth - 1];
	jw->depth--;
	if (had_items)
		newline_indent(jw);
	fputc(kind == 'o' ? '}' : ']', jw->f);
}

void json_obj_begin(struct json_writer *jw)
{
	open_container(jw, 'o');
}

void json_obj_end(struct json_writer *jw)
{
	close_container(jw, 'o');
}

void json_arr_begin(struct json_writer *jw)
{
	open_container(jw, 'a');
}

void json_arr_end(struct json_writer *jw)
{
	close_container(jw, 'a');
}

static void write_escaped(FILE *f, const char *s)
{
	const unsigned char *p;

	fputc('"', f);
	for (p = (const unsigned char *)s; *p; p++) {
		switch (*p) {
		case '"':
			fputs("\\\"", f);
			break;
		case '\\':
			fputs("\\\\", f);
			break;
		case '\n':
			fputs("\\n", f);
			break;
		case '\r':
			fputs("\\r", f);
			break;
		case '\t':
			fputs("\\t", f);
			break;
		case '\b':
			fputs("\\b", f);
			break;
		case '\f':
			fputs("\\f", f);
			break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				fprintf(f, "\\u%04x", *p);
			else
				fputc(*p, f);
		}
	}
	fputc('"', f);
}

void json_key(struct json_writer *jw, const char *key)
{
	before_item(jw, true);
	write_escaped(jw->f, key ? key : "");
	fputs(jw->pretty ? ": " : ":", jw->f);
	jw->key_pending = true;
}

void json_str(struct json_writer *jw, const char *s)
{
	if (!s) {
		json_null(jw);
		return;
	}
	before_item(jw, false);
	write_escaped(jw->f, s);
}

void json_strf(struct json_writer *jw, const char *fmt, ...)
{
	va_list ap;
	char *s = NULL;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&s, fmt, ap);
	va_end(ap);
	if (n < 0) {
		jw->error = true;
		json_null(jw);
		return;
	}
	json_str(jw, s);
	free(s);
}

void json_u64(struct json_writer *jw, uint64_t v)
{
	before_item(jw, false);
	fprintf(jw->f, "%" PRIu64, v);
}

void json_s64(struct json_writer *jw, int64_t v)
{
	before_item(jw, false);
	fprintf(jw->f, "%" PRId64, v);
}

void json_bool(struct json_writer *jw, bool v)
{
	before_item(jw, false);
	fputs(v ? "true" : "false", jw->f);
}

void json_null(struct json_writer *jw)
{
	before_item(jw, false);
	fputs("null", jw->f);
}

void json_hex(struct json_writer *jw, uint64_t v)
{
	before_item(jw, false);
	fprintf(jw->f, "\"0x%" PRIx64 "\"", v);
}

void json_kv_str(struct json_writer *jw, const char *key, const char *s)
{
	json_key(jw, key);
	json_str(jw, s);
}

void json_kv_u64(struct json_writer *jw, const char *key, uint64_t v)
{
	json_key(jw, key);
	json_u64(jw, v);
}

void json_kv_s64(struct json_writer *jw, const char *key, int64_t v)
{
	json_key(jw, key);
	json_s64(jw, v);
}

void json_kv_bool(struct json_writer *jw, const char *key, bool v)
{
	json_key(jw, key);
	json_bool(jw, v);
}

void json_kv_hex(struct json_writer *jw, const char *key, uint64_t v)
{
	json_key(jw, key);
	json_hex(jw, v);
}

int json_finish(struct json_writer *jw)
{
	if (jw->depth != 0 || jw->key_pending)
		jw->error = true;
	fputc('\n', jw->f);
	if (fflush(jw->f) || ferror(jw->f))
		jw->error = true;
	return jw->error ? -1 : 0;
}
