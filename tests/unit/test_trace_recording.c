// SPDX-License-Identifier: GPL-2.0
/*
 * The recording format, in both versions (2: zstd, what record writes; 1:
 * zlib, still read): a round trip across many chunks keeps every record
 * and header field; a file cut at a chunk boundary replays whole and says
 * it was cut; one cut inside a chunk, a flipped bit, a payload that does
 * not decompress to its stated size, a wrong magic or version each stop
 * the reader with one message naming the offset, after every record
 * before the damage was returned.
 */
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "tap.h"
#include "trace/recording.h"

#define NREC	60000	/* ~3.6 MiB of records: several chunks */

static unsigned char *file;
static size_t file_len;

static void make_record(unsigned int i, struct mbec_ev_set_spte *s)
{
	memset(s, 0, sizeof(*s));
	s->hdr.type = MBEC_EV_SET_SPTE;
	s->hdr.size = sizeof(*s);
	s->hdr.cpu = i % 2;
	s->hdr.ts_ns = 1000000ULL + i * 1000ULL;
	s->hdr.pid = 42;
	s->hdr.tid = 43;
	s->hdr.vcpu_id = 0;
	s->gfn = i;
	/* Pseudo-random bits so the data does not compress to nothing. */
	s->spte = (0x9e3779b97f4a7c15ULL * (i + 1)) ^ ((uint64_t)i << 12);
	s->sptep = 0xffff888000000000ULL + i * 8;
	s->level = 1;
}

static void fill_info(struct mbec_rec_info *info)
{
	memset(info, 0, sizeof(*info));
	mbec_rec_info_set_role(info, role_layout_builtin(MBEC_LAYOUT_MBEC), true);
	snprintf(info->role.release, sizeof(info->role.release), "6.12.0-test");
	info->flags = MBEC_REC_F_SPTE_EPT | MBEC_REC_F_WORKLOAD;
	info->pid = 42;
	info->has_mode = true;
	info->mode.mmu = MBEC_MMU_LEGACY;
	info->mode.levels = 4;
	info->mode.cr0_wp = true;
	info->mode.efer_nx = true;
	info->nr_tp = 2;
	snprintf(info->tp[0].name, sizeof(info->tp[0].name), "kvm_mmu_set_spte");
	snprintf(info->tp[0].how, sizeof(info->tp[0].how), "tp_btf");
	snprintf(info->tp[1].name, sizeof(info->tp[1].name), "kvm_exit");
	snprintf(info->tp[1].how, sizeof(info->tp[1].how), "no");
}

/* Write the test recording into memory (through a real fd). */
static int write_recording(unsigned int version, unsigned int nrec, bool close_it,
			   unsigned int flush_every)
{
	struct mbec_rec_info info;
	struct mbec_rec_writer *w;
	struct mbec_ev_set_spte s;
	struct mbec_counter cnt[MBEC_EV_MAX] = { 0 };
	char err[256];
	unsigned int i;
	int fd = memfd_create("rec", 0);
	off_t len;

	fill_info(&info);
	w = mbec_rec_writer_open(fd, &info, version, err, sizeof(err));
	if (!w) {
		diag("open: %s", err);
		return -1;
	}
	for (i = 0; i < nrec; i++) {
		make_record(i, &s);
		if (mbec_rec_write(w, &s, sizeof(s)))
			return -1;
		if (flush_every && (i + 1) % flush_every == 0)
			mbec_rec_flush(w);
	}
	cnt[MBEC_EV_SET_SPTE].seen = nrec + 5;
	cnt[MBEC_EV_SET_SPTE].dropped = 5;
	if (close_it) {
		if (mbec_rec_writer_close(w, cnt, err, sizeof(err)))
			return -1;
	} else {
		mbec_rec_flush(w);
		mbec_rec_writer_abort(w);
	}
	len = lseek(fd, 0, SEEK_END);
	free(file);
	file = malloc((size_t)len);
	file_len = (size_t)pread(fd, file, (size_t)len, 0);
	close(fd);
	return file_len == (size_t)len ? 0 : -1;
}

/*
 * Read buf back: returns the records read, -1 when the header was refused;
 * *ret is the last mbec_rec_next() result, msg its message.
 */
static long read_back(const void *buf, size_t len, int *ret, char *msg, size_t msglen,
		      struct mbec_rec_info *info, struct mbec_rec_trailer *tr, bool *all_ok)
{
	struct trace_in in;
	struct mbec_rec_reader *r;
	const struct mbec_event_hdr *h;
	struct mbec_ev_set_spte want;
	long n = 0;

	*all_ok = true;
	trace_in_init_mem(&in, buf, len);
	r = mbec_rec_reader_open(&in, info, msg, msglen);
	if (!r) {
		trace_in_close(&in);
		return -1;
	}
	while ((*ret = mbec_rec_next(r, &h)) > 0) {
		make_record((unsigned int)n, &want);
		if (h->size != sizeof(want) || memcmp(h, &want, sizeof(want)))
			*all_ok = false;
		n++;
	}
	snprintf(msg, msglen, "%s", mbec_rec_error(r));
	if (tr)
		*tr = *mbec_rec_trailer(r);
	mbec_rec_reader_free(r);
	trace_in_close(&in);
	return n;
}

/* File offset of chunk k (0-based) by walking the chunk headers. */
static size_t chunk_offset(unsigned int k)
{
	size_t off = sizeof(struct mbec_rec_header);
	struct mbec_rec_chunk c;

	while (k--) {
		memcpy(&c, file + off, sizeof(c));
		off += sizeof(c) + c.comp_len;
	}
	return off;
}

/* Give chunk k of buf a new raw_len, with a correct header checksum. */
static void set_raw_len(unsigned char *buf, size_t off, uint32_t raw_len)
{
	struct mbec_rec_chunk c;

	memcpy(&c, buf + off, sizeof(c));
	c.raw_len = raw_len;
	c.chunk_crc = 0;
	c.chunk_crc = (uint32_t)crc32(0L, (const Bytef *)&c, sizeof(c));
	memcpy(buf + off, &c, sizeof(c));
}

static void test_version(unsigned int version)
{
	struct mbec_rec_info info;
	struct mbec_rec_trailer tr;
	char msg[400];
	int ret;
	long n;
	bool all_ok;
	unsigned char *copy;
	size_t off1, off2;
	struct mbec_rec_chunk c;
	uint32_t v;

	diag("recording format version %u", version);
	/* ---- round trip ---- */
	ok(!write_recording(version, NREC, true, 0), "v%u: write a recording of %d records",
	   version, NREC);
	memcpy(&v, file + 8, 4);
	is_u64(v, version, "v%u: the header says version %u", version, version);
	n = read_back(file, file_len, &ret, msg, sizeof(msg), &info, &tr, &all_ok);
	is_u64(n, NREC, "every record read back");
	ok(all_ok, "records read back byte for byte");
	ok(ret == 0 && !msg[0], "clean end, no message (%s)", msg);
	ok(tr.present && tr.has_kernel && tr.records == NREC && tr.chunks >= 3,
	   "end chunk: %llu records in %llu chunks", (unsigned long long)tr.records,
	   (unsigned long long)tr.chunks);
	ok(tr.counters[MBEC_EV_SET_SPTE].seen == NREC + 5 &&
	   tr.counters[MBEC_EV_SET_SPTE].dropped == 5, "kernel counters kept");
	ok(info.abi == MBEC_LAYOUT_MBEC && info.has_role &&
	   info.role.nr_fields == role_layout_builtin(MBEC_LAYOUT_MBEC)->nr_fields &&
	   role_find(&info.role, "cr4_smep") &&
	   role_find(&info.role, "access")->width == 4, "role layout kept");
	ok(!strcmp(info.role.release, "6.12.0-test"), "kernel release kept");
	ok(info.flags == (MBEC_REC_F_SPTE_EPT | MBEC_REC_F_WORKLOAD | MBEC_REC_F_ROLE |
			  MBEC_REC_F_MODE) && info.pid == 42, "flags and pid kept");
	ok(info.has_mode && info.mode.levels == 4 && info.mode.cr0_wp && info.mode.efer_nx &&
	   !info.mode.cr4_smep, "guest mode kept");
	ok(info.nr_tp == 2 && !strcmp(info.tp[0].name, "kvm_mmu_set_spte") &&
	   !strcmp(info.tp[1].how, "no"), "tracepoints kept");
	ok(file_len < (size_t)NREC * sizeof(struct mbec_ev_set_spte), "data is compressed "
	   "(%zu bytes for %zu)", file_len, (size_t)NREC * sizeof(struct mbec_ev_set_spte));

	/* ---- cut at a chunk boundary (kill -9 between two writes) ---- */
	ok(!write_recording(version, 1000, false, 100), "write 10 chunks without an end chunk");
	n = read_back(file, file_len, &ret, msg, sizeof(msg), &info, &tr, &all_ok);
	ok(n == 1000 && all_ok && ret == 0 && !tr.present, "every record of a cut recording "
	   "replays (%ld)", n);
	ok(strstr(msg, "cut short") && strstr(msg, "chunk 9"), "it says it was cut: %s", msg);

	/* ---- cut inside a chunk ---- */
	off1 = chunk_offset(4);
	n = read_back(file, off1 + 30, &ret, msg, sizeof(msg), &info, &tr, &all_ok);
	ok(n == 400 && all_ok && ret < 0, "cut inside chunk 4 header: 4 chunks replay (%ld)", n);
	ok(strstr(msg, "chunk 4") && strstr(msg, "offset") && strstr(msg, "cut short"),
	   "message: %s", msg);
	memcpy(&c, file + off1, sizeof(c));
	n = read_back(file, off1 + sizeof(c) + c.comp_len / 2, &ret, msg, sizeof(msg), &info,
		      &tr, &all_ok);
	ok(n == 400 && ret < 0 && strstr(msg, "inside chunk 4"), "cut in chunk 4 data: %s", msg);

	/* ---- bit flips ---- */
	copy = malloc(file_len);
	memcpy(copy, file, file_len);
	off2 = chunk_offset(6);
	copy[off2 + sizeof(c) + 5] ^= 0x10;
	n = read_back(copy, file_len, &ret, msg, sizeof(msg), &info, &tr, &all_ok);
	ok(n == 600 && all_ok && ret < 0, "flipped bit in chunk 6 data: 6 chunks replay (%ld)", n);
	snprintf(msg + strlen(msg), sizeof(msg) - strlen(msg), " ");
	ok(strstr(msg, "chunk 6") && strstr(msg, "damaged"), "message: %s", msg);
	{
		char want[40];

		snprintf(want, sizeof(want), "offset %zu", off2);
		ok(strstr(msg, want) != NULL, "message gives the chunk's offset (%s)", want);
	}
	/* A payload with good checksums that holds more, or less, than raw_len. */
	memcpy(&c, file + off2, sizeof(c));
	memcpy(copy, file, file_len);
	set_raw_len(copy, off2, c.raw_len - 8);
	n = read_back(copy, file_len, &ret, msg, sizeof(msg), &info, &tr, &all_ok);
	ok(n == 600 && ret < 0 && strstr(msg, "chunk 6") &&
	   strstr(msg, "does not decompress to") && strstr(msg, "it holds more"),
	   "payload longer than raw_len: %s", msg);
	memcpy(copy, file, file_len);
	set_raw_len(copy, off2, c.raw_len + 8);
	n = read_back(copy, file_len, &ret, msg, sizeof(msg), &info, &tr, &all_ok);
	{
		char want[80];

		snprintf(want, sizeof(want), "does not decompress to %u bytes (it holds %u)",
			 c.raw_len + 8, c.raw_len);
		ok(n == 600 && ret < 0 && strstr(msg, want), "payload shorter than raw_len: %s",
		   msg);
	}
	memcpy(copy, file, file_len);
	copy[off2 + 17] ^= 0x01;	/* raw_len */
	n = read_back(copy, file_len, &ret, msg, sizeof(msg), &info, &tr, &all_ok);
	ok(n == 600 && ret < 0 && strstr(msg, "header of chunk 6"), "flipped bit in a chunk "
	   "header: %s", msg);
	memcpy(copy, file, file_len);
	copy[100] ^= 0x04;
	n = read_back(copy, file_len, &ret, msg, sizeof(msg), &info, &tr, &all_ok);
	ok(n == -1 && strstr(msg, "header is damaged"), "flipped bit in the file header: %s",
	   msg);
	memcpy(copy, file, file_len);
	copy[0] = 'X';
	n = read_back(copy, file_len, &ret, msg, sizeof(msg), &info, &tr, &all_ok);
	ok(n == -1 && strstr(msg, "magic") && strstr(msg, "offset 0"), "wrong magic: %s", msg);
	memcpy(copy, file, file_len);
	copy[8] = 9;
	n = read_back(copy, file_len, &ret, msg, sizeof(msg), &info, &tr, &all_ok);
	ok(n == -1 && strstr(msg, "version 9") && strstr(msg, "upgrade"), "newer version: %s",
	   msg);
	memcpy(copy, file, file_len);
	copy[8] = 0;
	n = read_back(copy, file_len, &ret, msg, sizeof(msg), &info, &tr, &all_ok);
	ok(n == -1 && strstr(msg, "version 0") && !strstr(msg, "upgrade"), "version 0: %s", msg);
	n = read_back(file, 20, &ret, msg, sizeof(msg), &info, &tr, &all_ok);
	ok(n == -1 && strstr(msg, "cut short inside its header"), "cut in the header: %s", msg);
	n = read_back(file, sizeof(struct mbec_rec_header), &ret, msg, sizeof(msg), &info, &tr,
		      &all_ok);
	ok(n == 0 && ret == 0 && strstr(msg, "cut short"), "header only: an empty, cut "
	   "recording (%s)", msg);
	free(copy);
}

int main(void)
{
	struct mbec_rec_info info;
	struct mbec_rec_writer *w;
	char err[256] = "";
	int fd;

	test_version(MBEC_REC_VERSION);
	test_version(MBEC_REC_VERSION_ZLIB);

	/* ---- a version the writer does not know ---- */
	fill_info(&info);
	fd = memfd_create("rec3", 0);
	w = mbec_rec_writer_open(fd, &info, 3, err, sizeof(err));
	ok(!w && strstr(err, "version 3") && lseek(fd, 0, SEEK_END) == 0,
	   "the writer refuses version 3 and writes nothing: %s", err);
	close(fd);

	/* ---- a write that fails ---- */
	{
		struct stat st;

		/* Only the character device: never create a file called /dev/full. */
		fd = -1;
		if (!stat("/dev/full", &st) && S_ISCHR(st.st_mode))
			fd = open("/dev/full", O_WRONLY);
		if (fd < 0) {
			skip("no /dev/full", "disk full is reported");
		} else {
			w = mbec_rec_writer_open(fd, &info, 0, err, sizeof(err));
			ok(!w && strstr(err, "No space"), "disk full is reported: %s", err);
			close(fd);
		}
	}
	free(file);
	return done_testing();
}
