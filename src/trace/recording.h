/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Recordings: write event records into the format of
 * include/mbec_recording.h, read them back chunk by chunk.
 *
 *	w = mbec_rec_writer_open(fd, &info, 0, err, sizeof(err));
 *	for each record: mbec_rec_write(w, rec, len);
 *	every second or so: mbec_rec_flush(w);	// bounds what a kill -9 loses
 *	mbec_rec_writer_close(w, counters, err, sizeof(err));
 *
 *	r = mbec_rec_reader_open(&in, &info, err, sizeof(err));
 *	while ((n = mbec_rec_next(r, &rec)) > 0) use(rec, rec->size);
 *	n < 0: mbec_rec_error(r) says what broke and at which offset
 *
 * Memory is fixed: the writer keeps one chunk (1 MiB raw + its compressed
 * form), the reader the same; nothing is allocated per record.
 */
#ifndef MBEC_TRACE_RECORDING_H
#define MBEC_TRACE_RECORDING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mbec_events.h"
#include "mbec_model.h"
#include "mbec_recording.h"
#include "live/btf_layout.h"
#include "trace/input.h"

/* What the header says, in host form. */
struct mbec_rec_info {
	uint32_t version;
	uint32_t events_version;
	uint32_t flags;			/* MBEC_REC_F_* */
	enum mbec_layout abi;
	bool has_role;			/* role is the recorded BTF layout */
	struct role_layout role;	/* release and source are always filled */
	uint64_t created_ns, start_mono_ns;
	uint32_t pid;
	bool has_mode;
	struct mbec_mode mode;		/* levels, cr0_wp, cr4_smep, cr4_smap, efer_nx, mmu */
	unsigned int nr_tp;
	struct mbec_rec_tracepoint tp[MBEC_REC_MAX_TP];
	char tool[32];
};

/* What the end chunk says (the reader fills it when it reaches it). */
struct mbec_rec_trailer {
	bool present;
	bool has_kernel;		/* counters are the kernel's (live capture) */
	uint64_t end_mono_ns;
	uint64_t records, chunks;
	struct mbec_counter counters[MBEC_EV_MAX];
};

struct mbec_rec_writer;

/*
 * Write the header now (so that even a recording killed at once is a valid,
 * empty one).  version: the format to write, 0 for MBEC_REC_VERSION (zstd);
 * MBEC_REC_VERSION_ZLIB writes version 1 for readers older than version 2
 * (info->version is what a reader found and is ignored here).  NULL with a
 * one-line reason in err.
 */
struct mbec_rec_writer *mbec_rec_writer_open(int fd, const struct mbec_rec_info *info,
					     unsigned int version, char *err, size_t errlen);
/* Append one record (len == its hdr.size); a full chunk is written out.  0 or -1. */
int mbec_rec_write(struct mbec_rec_writer *w, const void *rec, size_t len);
/* Write the records gathered so far as a chunk (nothing when none).  0 or -1. */
int mbec_rec_flush(struct mbec_rec_writer *w);
/*
 * Flush, write the end chunk (counters may be NULL), free.  The fd is not
 * closed.  0, or -1 with the reason in err (the file is still valid up to
 * its last complete chunk: the reason says which).
 */
int mbec_rec_writer_close(struct mbec_rec_writer *w, const struct mbec_counter *counters,
			  char *err, size_t errlen);
/* Free without the end chunk (as if the recording had been cut). */
void mbec_rec_writer_abort(struct mbec_rec_writer *w);
/* The reason of the last failed write, "" before any. */
const char *mbec_rec_writer_error(const struct mbec_rec_writer *w);
uint64_t mbec_rec_writer_records(const struct mbec_rec_writer *w);
uint64_t mbec_rec_writer_chunks(const struct mbec_rec_writer *w);
uint64_t mbec_rec_writer_bytes(const struct mbec_rec_writer *w);

/* Does this look like a recording (the first 8 bytes)? */
bool mbec_rec_is_recording(const void *p, size_t len);

struct mbec_rec_reader;

/*
 * Read and check the header from in; versions 1 (zlib) and 2 (zstd) are
 * read.  NULL with a one-line reason in err ("not a recording: no
 * \"MBECSREC\" magic at offset 0", "recording format version 7 at
 * offset 8: ... (upgrade mbecscope)", ...).
 */
struct mbec_rec_reader *mbec_rec_reader_open(struct trace_in *in, struct mbec_rec_info *info,
					     char *err, size_t errlen);
/*
 * The next record: 1 with *rec pointing at it (valid until the next call;
 * (*rec)->size bytes, validated), 0 at a clean end, -1 when the file is
 * damaged or cut: mbec_rec_error() then says where.  Records before the
 * damage were all returned.
 */
int mbec_rec_next(struct mbec_rec_reader *r, const struct mbec_event_hdr **rec);
const char *mbec_rec_error(const struct mbec_rec_reader *r);
/* The end chunk, once mbec_rec_next() returned 0 (present is false when cut). */
const struct mbec_rec_trailer *mbec_rec_trailer(const struct mbec_rec_reader *r);
uint64_t mbec_rec_chunks_read(const struct mbec_rec_reader *r);
/* Skip whole chunks whose records all lie outside [from, to] (ns; 0: open). */
void mbec_rec_set_window(struct mbec_rec_reader *r, uint64_t from_ns, uint64_t to_ns);
void mbec_rec_reader_free(struct mbec_rec_reader *r);

/* Fill info's header fields from a role layout (abi, role, release, source). */
void mbec_rec_info_set_role(struct mbec_rec_info *info, const struct role_layout *rl,
			    bool from_btf);

#endif /* MBEC_TRACE_RECORDING_H */
