// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: the ftrace text importer, through the same source
 * object replay uses (line splitting, the lookahead that detects the
 * layout, every event parser in every form, the thread and shadow-page
 * tables; seeded with tests/golden/fixtures and its forms/ folder).
 */
#include <stddef.h>
#include <stdint.h>

#include "trace/source.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct trace_source_opts o = { .layout = MBEC_LAYOUT_UNKNOWN, .spte_ept = -1 };
	struct trace_source *s;
	const struct mbec_event_hdr *h;
	char err[512];
	uint64_t sum = 0;

	/* The first byte: even, layouts from the text; odd, forced by its bits 1-2. */
	if (size && (data[0] & 1))
		o.layout = (data[0] & 6) == 2 ? MBEC_LAYOUT_MBEC :
			   (data[0] & 6) == 4 ? MBEC_LAYOUT_KOHLER : MBEC_LAYOUT_CLASSIC;
	if (trace_source_open_mem(&s, data, size, &o, err, sizeof(err)))
		return 0;
	while (trace_source_next(s, &h) > 0) {
		if (mbec_event_validate(h, h->size))
			__builtin_trap();	/* the importer must only produce valid records */
		sum += h->type;
	}
	(void)sum;
	(void)trace_source_problem(s);
	trace_source_free(s);
	return 0;
}
