// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: trace.dat, through the same source object replay uses
 * (tracedat.c's opening, stream merging, drops, damage and the page
 * checks; tracedat_form.c's lines; the importer behind them), over
 * libtracecmd and libtraceevent, which parse the file's headers, formats
 * and ring-buffer pages.  The input's first bytes are made trace.dat's
 * magic so every input reaches libtracecmd; seeded with the .dat
 * fixtures.  libtracecmd is not built with the sanitizers: what it does
 * wrong shows as a crash or a leak, what we do wrong as an ASan report.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "trace/source.h"
#include "trace/tracedat.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct trace_source_opts o = { .layout = MBEC_LAYOUT_UNKNOWN, .spte_ept = -1 };
	const struct mbec_event_hdr *h;
	struct trace_source *s;
	char err[512];
	uint8_t *buf;

	if (size < TRACEDAT_MAGIC_LEN || size > (1 << 20))
		return 0;
	buf = malloc(size);
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	memcpy(buf, TRACEDAT_MAGIC, TRACEDAT_MAGIC_LEN);
	if (!trace_source_open_mem(&s, buf, size, &o, err, sizeof(err))) {
		while (trace_source_next(s, &h) > 0)
			if (mbec_event_validate(h, h->size))
				__builtin_trap();	/* only valid records may come out */
		(void)trace_source_problem(s);
		trace_source_free(s);
	}
	free(buf);
	return 0;
}
