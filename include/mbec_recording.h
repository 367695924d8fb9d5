/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The recording format on disk (docs/recording-format.md explains it):
 *
 *	file   := header chunk* [end-chunk]
 *	header := struct mbec_rec_header (header_size bytes, CRC-protected)
 *	chunk  := struct mbec_rec_chunk + comp_len bytes of compressed payload
 *
 * Every integer is little-endian; every structure has a fixed size with
 * explicit zero padding.  The version says how payloads are compressed:
 * a zstd frame in version 2 (what mbecscope writes), a zlib stream in
 * version 1 (still read).  A data chunk's payload decompresses to exactly
 * raw_len bytes of event records (include/mbec_events.h) packed back to
 * back.  The end chunk carries the kernel-side counters and says the
 * recording was closed properly; a file without it was cut short and is
 * valid up to its last complete chunk.
 */
#ifndef MBEC_RECORDING_H
#define MBEC_RECORDING_H

#include <stdint.h>

#define MBEC_REC_MAGIC		"MBECSREC"	/* 8 bytes, no NUL */
#define MBEC_REC_VERSION	2	/* written: zstd payloads */
#define MBEC_REC_VERSION_ZLIB	1	/* still read (and written on request): zlib */
#define MBEC_REC_CHUNK_MAGIC	0x4b4e4843U	/* "CHNK" */

/* Limits a reader enforces (a damaged length must not make it allocate). */
#define MBEC_REC_RAW_MAX	(1U << 20)	/* records per chunk: 1 MiB */
#define MBEC_REC_COMP_MAX	(MBEC_REC_RAW_MAX + (MBEC_REC_RAW_MAX >> 8) + 64)
#define MBEC_REC_HEADER_MAX	(64U * 1024)

#define MBEC_REC_ROLE_FIELDS	24
#define MBEC_REC_MAX_TP		16

/* struct mbec_rec_header.flags */
#define MBEC_REC_F_SPTE_EPT	(1U << 0)	/* SPTEs are EPT entries */
#define MBEC_REC_F_MBEC		(1U << 1)	/* the MMU had MBEC/GMET on */
#define MBEC_REC_F_ROLE		(1U << 2)	/* role_fields are valid (from BTF) */
#define MBEC_REC_F_MODE		(1U << 3)	/* mode_* describe the guest (built-in workload) */
#define MBEC_REC_F_WORKLOAD	(1U << 4)	/* the built-in workload was the guest */
#define MBEC_REC_F_IMPORTED	(1U << 5)	/* converted from ftrace text */
/* Nothing in the source told EPT SPTEs from legacy/NPT ones (SPTE_EPT is a guess) */
#define MBEC_REC_F_SPTE_FMT_UNKNOWN (1U << 6)

struct mbec_rec_role_field {
	char name[32];		/* NUL-terminated */
	uint8_t shift;
	uint8_t width;
	uint8_t pad[6];
};

struct mbec_rec_tracepoint {
	char name[40];		/* "kvm_mmu_set_spte", NUL-terminated */
	char how[8];		/* "tp_btf", "raw_tp", "no", "text" */
};

struct mbec_rec_header {
	char magic[8];		/* MBEC_REC_MAGIC */
	uint32_t version;	/* MBEC_REC_VERSION or MBEC_REC_VERSION_ZLIB */
	uint32_t header_size;	/* this structure (a later version may append) */
	uint32_t header_crc;	/* CRC-32 of header_size bytes with this field 0 */
	uint32_t events_version; /* MBEC_EVENTS_VERSION of the records */
	uint32_t flags;		/* MBEC_REC_F_* */
	uint32_t abi;		/* enum mbec_layout: 0 classic, 1 mbec */
	uint64_t created_ns;	/* CLOCK_REALTIME when recording started */
	uint64_t start_mono_ns;	/* CLOCK_MONOTONIC at the same moment */
	uint32_t pid;		/* --pid filter, or the workload's pid; 0 all */
	uint32_t nr_role_fields;
	uint32_t nr_tracepoints;
	uint32_t mode_levels;	/* F_MODE: guest paging levels */
	uint32_t mode_bits;	/* F_MODE: bit 0 CR0.WP, 1 CR4.SMEP, 2 CR4.SMAP, 3 EFER.NX */
	uint32_t mode_mmu;	/* F_MODE: enum mbec_mmu */
	char release[72];	/* kernel release (uname -r) */
	char role_source[96];	/* where the role layout came from */
	char tool[32];		/* "mbecscope record" */
	struct mbec_rec_role_field role_fields[MBEC_REC_ROLE_FIELDS];
	struct mbec_rec_tracepoint tracepoints[MBEC_REC_MAX_TP];
};

/* struct mbec_rec_chunk.kind */
#define MBEC_REC_CHUNK_DATA	1
#define MBEC_REC_CHUNK_END	2

struct mbec_rec_chunk {
	uint32_t magic;		/* MBEC_REC_CHUNK_MAGIC */
	uint32_t kind;		/* MBEC_REC_CHUNK_* */
	uint32_t seq;		/* 0, 1, 2, ... */
	uint32_t nr_records;
	uint32_t raw_len;	/* decompressed bytes, <= MBEC_REC_RAW_MAX */
	uint32_t comp_len;	/* bytes that follow, <= MBEC_REC_COMP_MAX */
	uint64_t ts_first;	/* smallest / largest record time in the chunk */
	uint64_t ts_last;
	uint32_t data_crc;	/* CRC-32 of the comp_len bytes */
	uint32_t chunk_crc;	/* CRC-32 of this structure with this field 0 */
};

/* Payload of the end chunk (decompressed): counters by event type. */
struct mbec_rec_end {
	uint64_t end_mono_ns;
	uint32_t nr_types;	/* entries of counters[] */
	uint32_t has_kernel;	/* 1: counters are kernel-side (live) */
	uint64_t records;	/* records written */
	uint64_t chunks;	/* data chunks written */
	/* then nr_types x { seen, emitted, dropped, skipped } (u64 each) */
};

_Static_assert(sizeof(struct mbec_rec_role_field) == 40, "role field is 40 bytes");
_Static_assert(sizeof(struct mbec_rec_tracepoint) == 48, "tracepoint is 48 bytes");
_Static_assert(sizeof(struct mbec_rec_header) == 2000, "the header is 2000 bytes");
_Static_assert(sizeof(struct mbec_rec_chunk) == 48, "chunk header is 48 bytes");
_Static_assert(sizeof(struct mbec_rec_end) == 32, "end payload is 32 bytes");

#endif /* MBEC_RECORDING_H */
