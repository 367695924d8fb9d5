// SPDX-License-Identifier: GPL-2.0
/*
 * The recording writer and reader (recording.h, include/mbec_recording.h).
 *
 * The writer gathers records into a 1 MiB chunk, compresses it (zstd in
 * format version 2, zlib in version 1) with one reused context and writes
 * header + payload with a single write(), so a process killed between two
 * writes leaves a file that ends on a chunk boundary.  When a write fails
 * half-way (disk full) the file is cut back to the end of the last
 * complete chunk.
 *
 * Version 2 exists for replay speed: zstd decompresses these records
 * about 2.5 times as fast as zlib inflates them and makes files a third
 * smaller (bench/RESULTS.md); the reader keeps reading version 1.
 *
 * The reader trusts nothing: lengths are capped before anything is read,
 * the chunk header and the payload carry CRC-32s, the decompressed size
 * must be exactly raw_len, and every record is validated against the
 * chunk it sits in.  The first damage ends the stream with one message
 * giving the chunk and its file offset.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>
#include <zstd.h>
#include <zstd_errors.h>

#include "trace/recording.h"

#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "the recording format is little-endian; add byte swapping for this host"
#endif

_Static_assert(ZSTD_COMPRESSBOUND(MBEC_REC_RAW_MAX) <= MBEC_REC_COMP_MAX,
	      "a compressed chunk always fits the reader's cap");

/* zstd level of the writer: the fastest, since record runs next to the VMs. */
#define REC_ZSTD_LEVEL	1

#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
/* Let the fuzzer past the checksums so that it reaches the code behind them. */
#define CRC_OK(a, b)	((void)(a), (void)(b), 1)
#else
#define CRC_OK(a, b)	((a) == (b))
#endif

static uint32_t crc(const void *p, size_t len)
{
	return (uint32_t)crc32(0L, p, (uInt)len);
}

/* Copy a string of at most srcsize bytes into dst, always terminated. */
static void copy_strn(char *dst, size_t size, const char *src, size_t srcsize)
{
	size_t max = size - 1 < srcsize ? size - 1 : srcsize;
	size_t n = src ? strnlen(src, max) : 0;

	if (n)
		memcpy(dst, src, n);
	dst[n] = 0;
}

bool mbec_rec_is_recording(const void *p, size_t len)
{
	return len >= 8 && !memcmp(p, MBEC_REC_MAGIC, 8);
}

void mbec_rec_info_set_role(struct mbec_rec_info *info, const struct role_layout *rl,
			    bool from_btf)
{
	info->abi = rl->abi;
	info->role = *rl;
	info->has_role = from_btf;
}

/* ---- writer ------------------------------------------------------------- */

struct mbec_rec_writer {
	int fd;
	uint32_t version;
	z_stream z;		/* version 1 */
	bool z_ok;
	ZSTD_CCtx *zc;		/* version 2 */
	unsigned char *raw, *comp;
	size_t raw_len;
	uint32_t nr;
	uint64_t ts_first, ts_last;
	uint32_t seq;
	uint64_t records, chunks;
	uint64_t good_end;	/* file offset after the last complete chunk */
	bool failed;
	char err[256];
};

static void werr(struct mbec_rec_writer *w, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void werr(struct mbec_rec_writer *w, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(w->err, sizeof(w->err), fmt, ap);
	va_end(ap);
	w->failed = true;
}

static int write_all(int fd, const void *p, size_t len)
{
	const char *c = p;

	while (len) {
		ssize_t n = write(fd, c, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		c += n;
		len -= (size_t)n;
	}
	return 0;
}

static void fill_header(struct mbec_rec_header *h, const struct mbec_rec_info *info,
			uint32_t version)
{
	unsigned int i;

	memset(h, 0, sizeof(*h));
	memcpy(h->magic, MBEC_REC_MAGIC, 8);
	h->version = version;
	h->header_size = sizeof(*h);
	h->events_version = MBEC_EVENTS_VERSION;
	h->flags = info->flags & ~(MBEC_REC_F_ROLE | MBEC_REC_F_MODE);
	h->abi = info->abi == MBEC_LAYOUT_MBEC ? MBEC_LAYOUT_MBEC : MBEC_LAYOUT_CLASSIC;
	h->created_ns = info->created_ns;
	h->start_mono_ns = info->start_mono_ns;
	h->pid = info->pid;
	copy_strn(h->release, sizeof(h->release), info->role.release,
		  sizeof(info->role.release));
	copy_strn(h->role_source, sizeof(h->role_source), info->role.source,
		  sizeof(info->role.source));
	copy_strn(h->tool, sizeof(h->tool), info->tool[0] ? info->tool : "mbecscope",
		  sizeof(info->tool));
	if (info->has_role) {
		h->flags |= MBEC_REC_F_ROLE;
		for (i = 0; i < info->role.nr_fields && i < MBEC_REC_ROLE_FIELDS; i++) {
			copy_strn(h->role_fields[i].name, sizeof(h->role_fields[i].name),
				  info->role.fields[i].name, sizeof(info->role.fields[i].name));
			h->role_fields[i].shift = (uint8_t)info->role.fields[i].shift;
			h->role_fields[i].width = (uint8_t)info->role.fields[i].width;
		}
		h->nr_role_fields = i;
	}
	if (info->has_mode) {
		h->flags |= MBEC_REC_F_MODE;
		h->mode_levels = (uint32_t)info->mode.levels;
		h->mode_mmu = info->mode.mmu;
		h->mode_bits = (info->mode.cr0_wp ? 1 : 0) | (info->mode.cr4_smep ? 2 : 0) |
			       (info->mode.cr4_smap ? 4 : 0) | (info->mode.efer_nx ? 8 : 0);
	}
	for (i = 0; i < info->nr_tp && i < MBEC_REC_MAX_TP; i++)
		h->tracepoints[i] = info->tp[i];
	for (; i > 0; i--) {
		h->tracepoints[i - 1].name[sizeof(h->tracepoints[0].name) - 1] = 0;
		h->tracepoints[i - 1].how[sizeof(h->tracepoints[0].how) - 1] = 0;
	}
	h->nr_tracepoints = info->nr_tp < MBEC_REC_MAX_TP ? info->nr_tp : MBEC_REC_MAX_TP;
	h->header_crc = crc(h, sizeof(*h));
}

struct mbec_rec_writer *mbec_rec_writer_open(int fd, const struct mbec_rec_info *info,
					     unsigned int version, char *err, size_t errlen)
{
	struct mbec_rec_writer *w;
	struct mbec_rec_header h;
	int ret;

	if (!version)
		version = MBEC_REC_VERSION;
	if (version != MBEC_REC_VERSION && version != MBEC_REC_VERSION_ZLIB) {
		snprintf(err, errlen, "cannot write recording format version %u (only %u or %u)",
			 version, MBEC_REC_VERSION_ZLIB, MBEC_REC_VERSION);
		return NULL;
	}
	w = calloc(1, sizeof(*w));
	if (!w || !(w->raw = malloc(MBEC_REC_RAW_MAX)) ||
	    !(w->comp = malloc(MBEC_REC_COMP_MAX + sizeof(struct mbec_rec_chunk)))) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	w->fd = fd;
	w->version = version;
	if (version == MBEC_REC_VERSION_ZLIB) {
		if (deflateInit(&w->z, 1) != Z_OK) {
			snprintf(err, errlen, "cannot set up zlib");
			goto fail;
		}
		w->z_ok = true;
	} else if (!(w->zc = ZSTD_createCCtx())) {
		snprintf(err, errlen, "cannot set up zstd: out of memory");
		goto fail;
	}
	fill_header(&h, info, version);
	ret = write_all(fd, &h, sizeof(h));
	if (ret) {
		snprintf(err, errlen, "cannot write the recording header: %s", strerror(-ret));
		goto fail;
	}
	w->good_end = sizeof(h);
	return w;
fail:
	mbec_rec_writer_abort(w);
	return NULL;
}

/* Compress raw[0, len) into out (MBEC_REC_COMP_MAX bytes): its length, or -1. */
static long compress_chunk(struct mbec_rec_writer *w, unsigned char *out, const void *raw,
			   size_t len)
{
	size_t n;

	if (w->version == MBEC_REC_VERSION_ZLIB) {
		if (deflateReset(&w->z) != Z_OK) {
			werr(w, "zlib failed");
			return -1;
		}
		w->z.next_in = (unsigned char *)raw;
		w->z.avail_in = (uInt)len;
		w->z.next_out = out;
		w->z.avail_out = MBEC_REC_COMP_MAX;
		if (deflate(&w->z, Z_FINISH) != Z_STREAM_END) {
			werr(w, "zlib could not compress a chunk");
			return -1;
		}
		return (long)w->z.total_out;
	}
	n = ZSTD_compressCCtx(w->zc, out, MBEC_REC_COMP_MAX, raw, len, REC_ZSTD_LEVEL);
	if (ZSTD_isError(n)) {
		werr(w, "zstd could not compress a chunk: %s", ZSTD_getErrorName(n));
		return -1;
	}
	return (long)n;
}

/* Compress raw[0, len) and write it as a chunk of the given kind. */
static int write_chunk(struct mbec_rec_writer *w, uint32_t kind, const void *raw, size_t len,
		       uint32_t nr, uint64_t ts_first, uint64_t ts_last)
{
	struct mbec_rec_chunk c;
	unsigned char *out = w->comp + sizeof(c);
	long comp_len;
	int ret;

	if (w->failed)
		return -1;
	comp_len = compress_chunk(w, out, raw, len);
	if (comp_len < 0)
		return -1;
	memset(&c, 0, sizeof(c));
	c.magic = MBEC_REC_CHUNK_MAGIC;
	c.kind = kind;
	c.seq = w->seq;
	c.nr_records = nr;
	c.raw_len = (uint32_t)len;
	c.comp_len = (uint32_t)comp_len;
	c.ts_first = ts_first;
	c.ts_last = ts_last;
	c.data_crc = crc(out, c.comp_len);
	c.chunk_crc = crc(&c, sizeof(c));
	memcpy(w->comp, &c, sizeof(c));
	ret = write_all(w->fd, w->comp, sizeof(c) + c.comp_len);
	if (ret) {
		/* Leave a file that ends on a chunk boundary, if the fd allows it. */
		if (ftruncate(w->fd, (off_t)w->good_end) == 0)
			lseek(w->fd, (off_t)w->good_end, SEEK_SET);
		werr(w, "cannot write chunk %u: %s; the recording is valid up to offset %llu "
		     "(%llu records in %u chunks)", w->seq, strerror(-ret),
		     (unsigned long long)w->good_end, (unsigned long long)w->records,
		     w->seq);
		return -1;
	}
	w->good_end += sizeof(c) + c.comp_len;
	w->seq++;
	return 0;
}

int mbec_rec_flush(struct mbec_rec_writer *w)
{
	int ret;

	if (!w->nr)
		return w->failed ? -1 : 0;
	ret = write_chunk(w, MBEC_REC_CHUNK_DATA, w->raw, w->raw_len, w->nr, w->ts_first,
			  w->ts_last);
	if (!ret) {
		w->records += w->nr;
		w->chunks++;
	}
	w->raw_len = 0;
	w->nr = 0;
	return ret;
}

int mbec_rec_write(struct mbec_rec_writer *w, const void *rec, size_t len)
{
	const struct mbec_event_hdr *h = rec;

	if (w->failed)
		return -1;
	if (len < sizeof(*h) || len != h->size || len % 8 || len > 4096) {
		werr(w, "refusing a malformed record (%zu bytes)", len);
		return -1;
	}
	if (w->raw_len + len > MBEC_REC_RAW_MAX && mbec_rec_flush(w))
		return -1;
	memcpy(w->raw + w->raw_len, rec, len);
	w->raw_len += len;
	if (!w->nr || h->ts_ns < w->ts_first)
		w->ts_first = h->ts_ns;
	if (!w->nr || h->ts_ns > w->ts_last)
		w->ts_last = h->ts_ns;
	w->nr++;
	return 0;
}

int mbec_rec_writer_close(struct mbec_rec_writer *w, const struct mbec_counter *counters,
			  char *err, size_t errlen)
{
	unsigned char buf[sizeof(struct mbec_rec_end) + MBEC_EV_MAX * sizeof(struct mbec_counter)];
	struct mbec_rec_end end = { 0 };
	struct timespec ts;
	int ret;

	mbec_rec_flush(w);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	end.end_mono_ns = (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
	end.nr_types = MBEC_EV_MAX;
	end.has_kernel = counters ? 1 : 0;
	end.records = w->records;
	end.chunks = w->chunks;
	memcpy(buf, &end, sizeof(end));
	memset(buf + sizeof(end), 0, sizeof(buf) - sizeof(end));
	if (counters)
		memcpy(buf + sizeof(end), counters, MBEC_EV_MAX * sizeof(*counters));
	ret = write_chunk(w, MBEC_REC_CHUNK_END, buf, sizeof(buf), 0, 0, 0);
	if (ret)
		snprintf(err, errlen, "%s", w->err);
	mbec_rec_writer_abort(w);
	return ret;
}

void mbec_rec_writer_abort(struct mbec_rec_writer *w)
{
	if (!w)
		return;
	if (w->z_ok)
		deflateEnd(&w->z);
	ZSTD_freeCCtx(w->zc);
	free(w->raw);
	free(w->comp);
	free(w);
}

const char *mbec_rec_writer_error(const struct mbec_rec_writer *w)
{
	return w->err;
}

uint64_t mbec_rec_writer_records(const struct mbec_rec_writer *w)
{
	return w->records + w->nr;
}

uint64_t mbec_rec_writer_chunks(const struct mbec_rec_writer *w)
{
	return w->chunks;
}

uint64_t mbec_rec_writer_bytes(const struct mbec_rec_writer *w)
{
	return w->good_end;
}

/* ---- reader ------------------------------------------------------------- */

struct mbec_rec_reader {
	struct trace_in *in;
	uint32_t version;
	z_stream z;		/* version 1 */
	bool z_ok;
	ZSTD_DCtx *zd;		/* version 2 */
	unsigned char *raw, *comp;	/* grown for the largest chunk, see grow() */
	size_t raw_cap, comp_cap;
	uint32_t raw_len, pos;
	uint32_t nr, nr_seen;
	uint64_t chunk_off;	/* file offset of the current chunk */
	uint32_t seq;		/* next expected chunk number */
	uint64_t chunks_read;
	uint64_t from_ns, to_ns;
	bool done, damaged;
	struct mbec_rec_trailer trailer;
	char err[320];
};

static int rerr(struct mbec_rec_reader *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int rerr(struct mbec_rec_reader *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->err, sizeof(r->err), fmt, ap);
	va_end(ap);
	r->done = true;
	r->damaged = true;
	return -1;
}

static int parse_header(const unsigned char *buf, uint32_t size, struct mbec_rec_info *info,
			char *err, size_t errlen)
{
	struct mbec_rec_header h;
	uint32_t want, i;

	memcpy(&h, buf, sizeof(h));
	want = h.header_crc;
	h.header_crc = 0;
	/* The CRC covers header_size bytes: the known part here, the rest below. */
	{
		uint32_t c = (uint32_t)crc32(0L, (const Bytef *)&h, sizeof(h));

		if (size > sizeof(h))
			c = (uint32_t)crc32(c, buf + sizeof(h), size - sizeof(h));
		if (!CRC_OK(c, want)) {
			snprintf(err, errlen, "recording header is damaged (checksum mismatch in "
				 "bytes 0-%u)", size - 1);
			return -1;
		}
	}
	if (h.events_version != MBEC_EVENTS_VERSION) {
		snprintf(err, errlen, "recording holds event records of version %u; this "
			 "mbecscope reads version %u", h.events_version, MBEC_EVENTS_VERSION);
		return -1;
	}
	if (h.abi > MBEC_LAYOUT_MBEC) {
		snprintf(err, errlen, "recording header names an unknown KVM layout %u (offset 28)",
			 h.abi);
		return -1;
	}
	if (h.nr_role_fields > MBEC_REC_ROLE_FIELDS || h.nr_tracepoints > MBEC_REC_MAX_TP) {
		snprintf(err, errlen, "recording header is damaged (%u role fields, %u "
			 "tracepoints)", h.nr_role_fields, h.nr_tracepoints);
		return -1;
	}
	memset(info, 0, sizeof(*info));
	info->version = h.version;
	info->events_version = h.events_version;
	info->flags = h.flags;
	info->abi = h.abi;
	info->created_ns = h.created_ns;
	info->start_mono_ns = h.start_mono_ns;
	info->pid = h.pid;
	copy_strn(info->tool, sizeof(info->tool), h.tool, sizeof(h.tool));
	if ((h.flags & MBEC_REC_F_ROLE) && h.nr_role_fields) {
		unsigned int last_end = 0;

		info->has_role = true;
		info->role.nr_fields = h.nr_role_fields;
		for (i = 0; i < h.nr_role_fields; i++) {
			struct role_field *f = &info->role.fields[i];

			copy_strn(f->name, sizeof(f->name), h.role_fields[i].name,
				  sizeof(h.role_fields[i].name));
			f->shift = h.role_fields[i].shift;
			f->width = h.role_fields[i].width;
			if (!f->name[0] || !f->width || f->shift + f->width > 32 ||
			    f->shift < last_end) {
				snprintf(err, errlen, "recording header is damaged (role field %u: "
					 "bits %u+%u)", i, f->shift, f->width);
				return -1;
			}
			last_end = f->shift + f->width;
		}
	} else {
		const struct role_layout *b = role_layout_builtin(info->abi);

		if (b)
			info->role = *b;
	}
	info->role.abi = info->abi;
	copy_strn(info->role.release, sizeof(info->role.release), h.release, sizeof(h.release));
	copy_strn(info->role.source, sizeof(info->role.source), h.role_source, sizeof(h.role_source));
	if (h.flags & MBEC_REC_F_MODE) {
		info->has_mode = true;
		info->mode.levels = (int)h.mode_levels;
		info->mode.mmu = (enum mbec_mmu)h.mode_mmu;
		info->mode.cr0_wp = h.mode_bits & 1;
		info->mode.cr4_smep = h.mode_bits & 2;
		info->mode.cr4_smap = h.mode_bits & 4;
		info->mode.efer_nx = h.mode_bits & 8;
		if (h.mode_levels < 2 || h.mode_levels > 5 || h.mode_mmu > MBEC_MMU_NPT) {
			snprintf(err, errlen, "recording header is damaged (guest mode %u levels, "
				 "MMU %u)", h.mode_levels, h.mode_mmu);
			return -1;
		}
	}
	info->nr_tp = h.nr_tracepoints;
	for (i = 0; i < h.nr_tracepoints; i++) {
		info->tp[i] = h.tracepoints[i];
		info->tp[i].name[sizeof(info->tp[i].name) - 1] = 0;
		info->tp[i].how[sizeof(info->tp[i].how) - 1] = 0;
	}
	return 0;
}

struct mbec_rec_reader *mbec_rec_reader_open(struct trace_in *in, struct mbec_rec_info *info,
					     char *err, size_t errlen)
{
	struct mbec_rec_reader *r = NULL;
	const unsigned char *p;
	uint32_t version, size;
	unsigned char *hbuf = NULL;
	size_t n;

	n = trace_in_peek(in, 16, &p);
	if (n < 8 || memcmp(p, MBEC_REC_MAGIC, 8)) {
		snprintf(err, errlen, "not a recording: no \"%s\" magic at offset 0", MBEC_REC_MAGIC);
		return NULL;
	}
	if (n < 16) {
		snprintf(err, errlen, "recording cut short inside its header (%zu bytes)", n);
		return NULL;
	}
	memcpy(&version, p + 8, 4);
	memcpy(&size, p + 12, 4);
	if (version != MBEC_REC_VERSION && version != MBEC_REC_VERSION_ZLIB) {
		snprintf(err, errlen, "recording format version %u at offset 8: this mbecscope "
			 "reads versions %u and %u%s", version, MBEC_REC_VERSION_ZLIB,
			 MBEC_REC_VERSION, version > MBEC_REC_VERSION ? " (upgrade mbecscope)" : "");
		return NULL;
	}
	if (size < sizeof(struct mbec_rec_header) || size > MBEC_REC_HEADER_MAX) {
		snprintf(err, errlen, "recording header size %u at offset 12 is impossible "
			 "(%zu-%u)", size, sizeof(struct mbec_rec_header), MBEC_REC_HEADER_MAX);
		return NULL;
	}
	hbuf = malloc(size);
	if (!hbuf) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (trace_in_read(in, hbuf, size) != size) {
		snprintf(err, errlen, "recording cut short inside its header (%u bytes expected)",
			 size);
		goto fail;
	}
	if (parse_header(hbuf, size, info, err, errlen))
		goto fail;
	free(hbuf);
	hbuf = NULL;

	r = calloc(1, sizeof(*r));
	if (!r) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	r->version = version;
	if (version == MBEC_REC_VERSION_ZLIB) {
		if (inflateInit(&r->z) != Z_OK) {
			snprintf(err, errlen, "cannot set up zlib");
			goto fail;
		}
		r->z_ok = true;
	} else if (!(r->zd = ZSTD_createDCtx())) {
		snprintf(err, errlen, "cannot set up zstd: out of memory");
		goto fail;
	}
	r->in = in;
	return r;
fail:
	free(hbuf);
	mbec_rec_reader_free(r);
	return NULL;
}

static int decompress_chunk(struct mbec_rec_reader *r, const struct mbec_rec_chunk *c)
{
	char why[96];
	size_t n;
	int zr;

	if (r->version != MBEC_REC_VERSION_ZLIB) {
		/*
		 * One call into a buffer of exactly raw_len: a frame that holds
		 * more stops with dstSize_tooSmall before anything is written
		 * past it.
		 */
		n = ZSTD_decompressDCtx(r->zd, r->raw, c->raw_len, r->comp, c->comp_len);
		if (!ZSTD_isError(n) && n == c->raw_len)
			return 0;
		if (ZSTD_getErrorCode(n) == ZSTD_error_dstSize_tooSmall)
			snprintf(why, sizeof(why), "it holds more");
		else if (ZSTD_isError(n))
			snprintf(why, sizeof(why), "zstd: %s", ZSTD_getErrorName(n));
		else
			snprintf(why, sizeof(why), "it holds %zu", n);
	} else {
		/*
		 * data_crc already covers every compressed byte; the stream's own
		 * Adler-32 over the inflated bytes would cost an eighth of a replay.
		 */
		if (inflateReset(&r->z) != Z_OK || inflateValidate(&r->z, 0) != Z_OK)
			return rerr(r, "zlib failed");
		r->z.next_in = r->comp;
		r->z.avail_in = c->comp_len;
		r->z.next_out = r->raw;
		r->z.avail_out = c->raw_len;
		zr = inflate(&r->z, Z_FINISH);
		if (zr == Z_STREAM_END && r->z.total_out == c->raw_len && !r->z.avail_in)
			return 0;
		if (zr == Z_STREAM_END && r->z.avail_in)
			snprintf(why, sizeof(why), "bytes after the end of its zlib stream");
		else if (zr == Z_STREAM_END)
			snprintf(why, sizeof(why), "it holds %lu", r->z.total_out);
		else if (zr == Z_BUF_ERROR && !r->z.avail_out)
			snprintf(why, sizeof(why), "it holds more");
		else
			snprintf(why, sizeof(why), "zlib: %s", r->z.msg ? r->z.msg :
				 "the stream ends early");
	}
	return rerr(r, "chunk %u at offset %llu is damaged: its data does not decompress to %u "
		    "bytes (%s)", c->seq, (unsigned long long)r->chunk_off, c->raw_len, why);
}

static int read_end(struct mbec_rec_reader *r, const struct mbec_rec_chunk *c)
{
	struct mbec_rec_end end;
	unsigned int i, n;

	if (c->raw_len < sizeof(end))
		return rerr(r, "end chunk at offset %llu is damaged (%u bytes)",
			    (unsigned long long)r->chunk_off, c->raw_len);
	memcpy(&end, r->raw, sizeof(end));
	if (end.nr_types > 1024 ||
	    c->raw_len < sizeof(end) + (uint64_t)end.nr_types * sizeof(struct mbec_counter))
		return rerr(r, "end chunk at offset %llu is damaged (%u counters in %u bytes)",
			    (unsigned long long)r->chunk_off, end.nr_types, c->raw_len);
	r->trailer.present = true;
	r->trailer.has_kernel = end.has_kernel;
	r->trailer.end_mono_ns = end.end_mono_ns;
	r->trailer.records = end.records;
	r->trailer.chunks = end.chunks;
	n = end.nr_types < MBEC_EV_MAX ? end.nr_types : MBEC_EV_MAX;
	for (i = 0; i < n; i++)
		memcpy(&r->trailer.counters[i], r->raw + sizeof(end) + i * sizeof(struct mbec_counter),
		       sizeof(struct mbec_counter));
	return 0;
}

/*
 * Make buf hold want bytes (want <= max, the cap, checked by the caller).
 * Past half the cap it goes straight to the cap: chunks of a long
 * recording are all nearly 1 MiB, and growing by the few bytes one is
 * larger than the ones before moved the 1 MiB buffer and left the old
 * copy in the peak RSS.  Pages never written cost nothing, and small
 * inputs (fixtures, the fuzzer's) keep small buffers.
 */
static int grow(unsigned char **buf, size_t *cap, size_t want, size_t max)
{
	unsigned char *n;

	if (want <= *cap)
		return 0;
	if (want < 64 * 1024)
		want = 64 * 1024;
	if (want > max / 2)
		want = max;
	n = realloc(*buf, want);
	if (!n)
		return -1;
	*buf = n;
	*cap = want;
	return 0;
}

/* Read the next chunk: 1 data chunk ready, 0 end, -1 damaged. */
static int next_chunk(struct mbec_rec_reader *r)
{
	struct mbec_rec_chunk c;
	uint32_t want;
	size_t n;

	for (;;) {
		r->chunk_off = r->in->offset;
		n = trace_in_read(r->in, &c, sizeof(c));
		if (n == 0) {
			if (r->in->err)
				return rerr(r, "read error at offset %llu: %s",
					    (unsigned long long)r->chunk_off, strerror(r->in->err));
			r->done = true;
			if (!r->trailer.present && r->seq)
				snprintf(r->err, sizeof(r->err), "recording cut short (truncated): no "
					 "end chunk after chunk %u (offset %llu); replayed every "
					 "complete chunk",
					 r->seq - 1, (unsigned long long)r->chunk_off);
			else if (!r->trailer.present)
				snprintf(r->err, sizeof(r->err), "recording cut short (truncated): "
					 "nothing after its header (offset %llu)", (unsigned long long)r->chunk_off);
			return 0;
		}
		if (r->trailer.present)
			return rerr(r, "data after the end chunk at offset %llu",
				    (unsigned long long)r->chunk_off);
		if (n < sizeof(c))
			return rerr(r, "recording cut short inside the header of chunk %u at offset "
				    "%llu (%zu of %zu bytes)", r->seq,
				    (unsigned long long)r->chunk_off, n, sizeof(c));
		if (c.magic != MBEC_REC_CHUNK_MAGIC)
			return rerr(r, "no chunk at offset %llu (bad magic 0x%08x where chunk %u "
				    "should start)", (unsigned long long)r->chunk_off, c.magic, r->seq);
		want = c.chunk_crc;
		c.chunk_crc = 0;
		if (!CRC_OK(crc(&c, sizeof(c)), want))
			return rerr(r, "header of chunk %u at offset %llu is damaged (checksum "
				    "mismatch)", r->seq, (unsigned long long)r->chunk_off);
		if ((c.kind != MBEC_REC_CHUNK_DATA && c.kind != MBEC_REC_CHUNK_END) ||
		    c.raw_len > MBEC_REC_RAW_MAX || c.comp_len > MBEC_REC_COMP_MAX ||
		    c.seq != r->seq || c.raw_len % 8 ||
		    c.nr_records > c.raw_len / sizeof(struct mbec_event_hdr))
			return rerr(r, "header of chunk %u at offset %llu is damaged (kind %u, "
				    "chunk number %u, %u/%u bytes, %u records)", r->seq,
				    (unsigned long long)r->chunk_off, c.kind, c.seq, c.comp_len,
				    c.raw_len, c.nr_records);
		if (grow(&r->comp, &r->comp_cap, c.comp_len, MBEC_REC_COMP_MAX) ||
		    grow(&r->raw, &r->raw_cap, c.raw_len, MBEC_REC_RAW_MAX))
			return rerr(r, "out of memory for chunk %u", c.seq);
		n = trace_in_read(r->in, r->comp, c.comp_len);
		if (n != c.comp_len)
			return rerr(r, "recording cut short inside chunk %u at offset %llu (%zu of "
				    "%u bytes); replayed every complete chunk before it", c.seq,
				    (unsigned long long)r->chunk_off, n, c.comp_len);
		if (!CRC_OK(crc(r->comp, c.comp_len), c.data_crc))
			return rerr(r, "data of chunk %u at offset %llu is damaged (checksum "
				    "mismatch)", c.seq, (unsigned long long)r->chunk_off);
		r->seq++;
		if (c.kind == MBEC_REC_CHUNK_DATA && c.nr_records &&
		    ((r->from_ns && c.ts_last < r->from_ns) || (r->to_ns && c.ts_first > r->to_ns)))
			continue;	/* entirely outside the window */
		if (decompress_chunk(r, &c))
			return -1;
		if (c.kind == MBEC_REC_CHUNK_END) {
			if (read_end(r, &c))
				return -1;
			continue;
		}
		r->chunks_read++;
		r->raw_len = c.raw_len;
		r->pos = 0;
		r->nr = c.nr_records;
		r->nr_seen = 0;
		if (c.raw_len)
			return 1;
	}
}

int mbec_rec_next(struct mbec_rec_reader *r, const struct mbec_event_hdr **rec)
{
	const struct mbec_event_hdr *h;
	int ret;

	if (r->done)
		return r->damaged ? -1 : 0;
	while (r->pos >= r->raw_len) {
		if (r->nr_seen != r->nr)
			return rerr(r, "chunk %u at offset %llu is damaged (%u records, header says "
				    "%u)", r->seq - 1, (unsigned long long)r->chunk_off, r->nr_seen,
				    r->nr);
		ret = next_chunk(r);
		if (ret <= 0)
			return ret;
	}
	h = (const struct mbec_event_hdr *)(r->raw + r->pos);
	if (mbec_event_validate(h, r->raw_len - r->pos) || r->nr_seen >= r->nr)
		return rerr(r, "chunk %u at offset %llu is damaged (record %u at byte %u of the "
			    "chunk is malformed)", r->seq - 1, (unsigned long long)r->chunk_off,
			    r->nr_seen, r->pos);
	r->pos += h->size;
	r->nr_seen++;
	*rec = h;
	return 1;
}

const char *mbec_rec_error(const struct mbec_rec_reader *r)
{
	return r->err;
}

const struct mbec_rec_trailer *mbec_rec_trailer(const struct mbec_rec_reader *r)
{
	return &r->trailer;
}

uint64_t mbec_rec_chunks_read(const struct mbec_rec_reader *r)
{
	return r->chunks_read;
}

void mbec_rec_set_window(struct mbec_rec_reader *r, uint64_t from_ns, uint64_t to_ns)
{
	r->from_ns = from_ns;
	r->to_ns = to_ns;
}

void mbec_rec_reader_free(struct mbec_rec_reader *r)
{
	if (!r)
		return;
	if (r->z_ok)
		inflateEnd(&r->z);
	ZSTD_freeDCtx(r->zd);
	free(r->raw);
	free(r->comp);
	free(r);
}
