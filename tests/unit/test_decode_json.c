// SPDX-License-Identifier: GPL-2.0
/*
 * The JSON writer: separators, nesting, escaping, hex strings, pretty
 * output, and misuse detection.  Output goes to a memory stream and is
 * compared byte for byte.
 */
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "cli/json.h"

static char *buf;
static size_t len;

static FILE *open_mem(void)
{
	free(buf);
	buf = NULL;
	len = 0;
	return open_memstream(&buf, &len);
}

static int is_str(const char *got, const char *want, const char *name)
{
	int r = ok(!strcmp(got, want), "%s", name);

	if (!r)
		diag("  got  %s\n#   want %s", got, want);
	return r;
}

int main(void)
{
	struct json_writer jw;
	FILE *f;

	f = open_mem();
	json_init(&jw, f, false);
	json_obj_begin(&jw);
	json_kv_str(&jw, "kind", "exit-qual");
	json_kv_hex(&jw, "value", 0x1ab);
	json_kv_u64(&jw, "big", 18446744073709551615ULL);
	json_kv_s64(&jw, "neg", -5);
	json_kv_bool(&jw, "fault", true);
	json_key(&jw, "list");
	json_arr_begin(&jw);
	json_u64(&jw, 1);
	json_str(&jw, NULL);
	json_obj_begin(&jw);
	json_obj_end(&jw);
	json_arr_begin(&jw);
	json_arr_end(&jw);
	json_arr_end(&jw);
	json_obj_end(&jw);
	ok(json_finish(&jw) == 0, "balanced document finishes cleanly");
	fclose(f);
	is_str(buf, "{\"kind\":\"exit-qual\",\"value\":\"0x1ab\",\"big\":18446744073709551615,"
	       "\"neg\":-5,\"fault\":true,\"list\":[1,null,{},[]]}\n", "compact output");

	f = open_mem();
	json_init(&jw, f, false);
	json_str(&jw, "q\"b\\n\n\t\r\b\f\x01\x7f\xc3\xa9/");
	json_finish(&jw);
	fclose(f);
	is_str(buf, "\"q\\\"b\\\\n\\n\\t\\r\\b\\f\\u0001\\u007f\xc3\xa9/\"\n", "escaping");

	f = open_mem();
	json_init(&jw, f, false);
	json_obj_begin(&jw);
	json_key(&jw, "k\"");
	json_strf(&jw, "%s-%d", "x", 3);
	json_kv_hex(&jw, "zero", 0);
	json_obj_end(&jw);
	json_finish(&jw);
	fclose(f);
	is_str(buf, "{\"k\\\"\":\"x-3\",\"zero\":\"0x0\"}\n", "escaped key, strf, hex zero");

	f = open_mem();
	json_init(&jw, f, true);
	json_obj_begin(&jw);
	json_kv_u64(&jw, "a", 1);
	json_key(&jw, "b");
	json_arr_begin(&jw);
	json_bool(&jw, false);
	json_arr_end(&jw);
	json_obj_end(&jw);
	json_finish(&jw);
	fclose(f);
	is_str(buf, "{\n  \"a\": 1,\n  \"b\": [\n    false\n  ]\n}\n", "pretty output");

	/* misuse */
	f = open_mem();
	json_init(&jw, f, false);
	json_obj_begin(&jw);
	json_u64(&jw, 1);
	json_obj_end(&jw);
	ok(json_finish(&jw) == -1, "value without a key is an error");
	fclose(f);

	f = open_mem();
	json_init(&jw, f, false);
	json_obj_begin(&jw);
	ok(json_finish(&jw) == -1, "unclosed object is an error");
	fclose(f);

	f = open_mem();
	json_init(&jw, f, false);
	json_arr_begin(&jw);
	json_obj_end(&jw);
	ok(json_finish(&jw) == -1, "mismatched end is an error");
	fclose(f);

	f = open_mem();
	json_init(&jw, f, false);
	json_arr_begin(&jw);
	json_key(&jw, "x");
	ok(json_finish(&jw) == -1, "key inside an array is an error");
	fclose(f);

	f = open_mem();
	json_init(&jw, f, false);
	json_obj_begin(&jw);
	json_key(&jw, "x");
	json_obj_end(&jw);
	ok(json_finish(&jw) == -1, "key without a value is an error");
	fclose(f);

	f = open_mem();
	json_init(&jw, f, false);
	for (int i = 0; i < JSON_MAX_DEPTH + 1; i++)
		json_arr_begin(&jw);
	ok(json_finish(&jw) == -1, "nesting deeper than JSON_MAX_DEPTH is an error");
	fclose(f);

	free(buf);
	return done_testing();
}
