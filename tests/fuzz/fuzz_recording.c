// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: the recording reader.  Built with
 * FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION, so the CRC checks let damaged
 * chunks through and the fuzzer reaches the header and chunk parsing,
 * the inflate step and the record validation behind them.  Every input
 * must end in a record stream that stops cleanly: no crash, no hang, no
 * read outside a chunk, memory bounded by the chunk caps.
 */
#include <stddef.h>
#include <stdint.h>

#include "trace/recording.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mbec_rec_info info;
	struct mbec_rec_reader *r;
	const struct mbec_event_hdr *h;
	struct trace_in in;
	char err[320];
	uint64_t sum = 0;

	trace_in_init_mem(&in, data, size);
	r = mbec_rec_reader_open(&in, &info, err, sizeof(err));
	if (r) {
		while (mbec_rec_next(r, &h) > 0)
			sum += h->size + h->type;	/* touch every record */
		(void)mbec_rec_error(r);
		(void)sum;
		mbec_rec_reader_free(r);
	}
	trace_in_close(&in);
	return 0;
}
