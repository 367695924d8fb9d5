/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A small streaming JSON writer for the --json output of every subcommand.
 *
 * The writer keeps no document in memory: each call writes its token at
 * once, adding the commas and the key/value colons itself.  Output is
 * compact (one line per document, convenient for JSON lines) unless
 * `pretty` is set.
 *
 *	struct json_writer jw;
 *
 *	json_init(&jw, stdout, false);
 *	json_obj_begin(&jw);
 *	json_kv_str(&jw, "kind", "exit-qual");
 *	json_kv_hex(&jw, "value", 0x1ab);	// "value":"0x1ab"
 *	json_key(&jw, "bits");
 *	json_arr_begin(&jw);
 *	json_u64(&jw, 0);
 *	json_arr_end(&jw);
 *	json_obj_end(&jw);
 *	json_finish(&jw);			// newline; 0 or -1 on misuse
 *
 * Numbers are written as JSON numbers (u64 and s64 exactly; readers using
 * doubles lose precision above 2^53, which is why 64-bit register values
 * go out as hex strings with json_hex()).  Strings are escaped per
 * RFC 8259; bytes >= 0x80 pass through unchanged (callers write UTF-8).
 * Misuse (a value inside an object without a key, unbalanced ends, nesting
 * deeper than JSON_MAX_DEPTH) is recorded and reported by json_finish().
 */
#ifndef MBEC_JSON_H
#define MBEC_JSON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_DEPTH	32

struct json_writer {
	FILE *f;
	bool pretty;
	bool error;		/* misuse seen; json_finish() returns -1 */
	bool key_pending;	/* a key was written, its value is next */
	int depth;
	/* per open container: 'o' object or 'a' array, and whether it has items */
	char kind[JSON_MAX_DEPTH];
	bool has_items[JSON_MAX_DEPTH];
};

void json_init(struct json_writer *jw, FILE *f, bool pretty);
/* End the document with a newline; 0, or -1 after misuse or a write error. */
int json_finish(struct json_writer *jw);

void json_obj_begin(struct json_writer *jw);
void json_obj_end(struct json_writer *jw);
void json_arr_begin(struct json_writer *jw);
void json_arr_end(struct json_writer *jw);
/* Inside an object: the key of the next value. */
void json_key(struct json_writer *jw, const char *key);

/* Values.  A NULL string is written as null. */
void json_str(struct json_writer *jw, const char *s);
void json_strf(struct json_writer *jw, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void json_u64(struct json_writer *jw, uint64_t v);
void json_s64(struct json_writer *jw, int64_t v);
void json_bool(struct json_writer *jw, bool v);
void json_null(struct json_writer *jw);
/* A u64 as the string "0x..." (lower case, no leading zeros). */
void json_hex(struct json_writer *jw, uint64_t v);

/* key + value in one call. */
void json_kv_str(struct json_writer *jw, const char *key, const char *s);
void json_kv_u64(struct json_writer *jw, const char *key, uint64_t v);
void json_kv_s64(struct json_writer *jw, const char *key, int64_t v);
void json_kv_bool(struct json_writer *jw, const char *key, bool v);
void json_kv_hex(struct json_writer *jw, const char *key, uint64_t v);

#endif /* MBEC_JSON_H */
