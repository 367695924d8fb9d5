/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What tracedat.c (reading) and tracedat_form.c (lines) share: the reader's
 * state and what it knows of each event id.
 */
#ifndef MBEC_TRACE_TRACEDAT_INT_H
#define MBEC_TRACE_TRACEDAT_INT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <event-parse.h>
#include <trace-cmd.h>

#include "live/btf_layout.h"
#include "mbec_events.h"
#include "trace/tracedat.h"

#define MAX_FIELDS	8
#define GP_QUEUE	64		/* get_page lines whose records are not amended yet */

enum kind {
	K_UNRESOLVED = 0,
	K_OTHER,			/* not an event the checker uses */
	K_WALK, K_ELEM, K_WERR, K_REQ, K_SET, K_PF, K_EXIT, K_GET_PAGE, K_TDP, K_FAST,
	K_INJECT,
};

struct evinfo {
	enum kind kind;
	struct tep_event *ev;
	bool swap;				/* the file's byte order is not ours */
	int w;					/* index in wanted[] */
	bool lacks;				/* a needed field is missing from the format */
	unsigned int need;			/* record bytes the fields need */
	struct tep_format_field *f[MAX_FIELDS];
	uint64_t skipped;			/* K_OTHER: records */
};

struct stream {
	struct tracecmd_input *h;
	struct tep_handle *tep;
	int cpu;
	const char *buf;			/* the buffer's name, "" the top one */
	int inst;				/* its index in inst[], -1 the top one */
	unsigned long long last_read;		/* offset of the last record read (0: none) */
	struct tep_record *next;		/* NULL: this CPU is done */
	uintptr_t page;				/* read data below here was dropped */
	uintptr_t last;				/* page of the last record read */
	bool damaged;				/* libtracecmd stopped at a page it refuses */
	unsigned long long stop_offset;		/* the last record read before it */
	unsigned long long last_offset;		/* the CPU's last record, asked first (0: unreadable) */
};

struct tracedat {
	int fd;
	struct tracecmd_input *top;
	struct tracecmd_input *inst[64];
	unsigned int nr_inst;

	struct stream *st;
	unsigned int nr_st;
	struct evinfo *ev;			/* by event id */
	struct tep_record *pending;		/* read, its lost-events line sent first */
	struct stream *pending_st;
	const char *line_buf;			/* the buffer of the last line */
	struct stream *damage_st;		/* its loss line is to be sent next */
	enum mbec_layout layout;
	bool layout_guessed;			/* no evidence in the file: classic taken */
	bool role_guessed;			/* role bits of a layout not all known (kohler) */
	enum mbec_layout table_layout;		/* from get_page's access table, or UNKNOWN */
	char table_why[64];
	const struct role_layout *rl;		/* the file's role words */
	bool gpte_is_8_bytes;			/* role bit 4 means 8-byte entries (< 5.16) */
	char release[ROLE_RELEASE_LEN];
	char layout_source[ROLE_SOURCE_LEN];
	struct tracedat_stats stats;
	dev_t dev;				/* the file, to know its mappings */
	ino_t ino;
	uintptr_t map_lo, map_hi;		/* a mapping of it seen in /proc/self/maps */
	char line[512];
	struct {				/* get_page lines not yet amended */
		uint64_t gfn;
		uint32_t role;
	} gp[GP_QUEUE];
	unsigned int gp_head, gp_len;
	char prefix[80];			/* the start of the last line, */
	size_t prefix_len;			/* made for these: */
	int prefix_pid, prefix_cpu;
	uint64_t prefix_secs;
	char problem[320];
	bool damaged;
	int lib_fault;				/* the signal libtracecmd died of, or 0 */
	bool guarded;				/* tracedat_guard(true) done for it */
	struct tracedat *next_faulted;		/* kept after lib_fault */
};

/*
 * Exported by libtracecmd (the "uname" option of the file: "Linux host
 * 6.1.0-18-amd64 x86_64") but missing from its public header.
 */
const char *tracecmd_get_uname(struct tracecmd_input *handle);
/* The same: the file's version (6, 7). */
unsigned long tracecmd_get_in_file_version(struct tracecmd_input *handle);
/* The same: a CPU's last record (NULL when a page on the way back cannot be read). */
struct tep_record *tracecmd_read_cpu_last(struct tracecmd_input *handle, int cpu);
/* The same: how many bytes of a CPU's data the file holds. */
off_t tracecmd_get_cpu_file_size(struct tracecmd_input *handle, int cpu);
/* The same: tracecmd_open_head() is these two, on a file it opens itself. */
struct tracecmd_input *tracecmd_alloc_fd(int fd, int flags);
int tracecmd_read_headers(struct tracecmd_input *handle, int state);

#define MAX_STREAMS	1024		/* (buffer, CPU) pairs */
#define MAX_EVENT_ID	65535		/* common_type is 16 bits */

/*
 * tracedat.c: libtracecmd's record reads, guarded.  A damaged ring-buffer
 * page can make libtraceevent's kbuffer read out of bounds (found by
 * fuzzing); the fault is caught, the file said damaged (td->lib_fault) and
 * the libraries are not called on it again.  NULL then, or at the end.
 */
enum tracedat_read { TD_READ_FIRST, TD_READ_LAST, TD_READ_NEXT };
struct tep_record *tracedat_read(struct tracedat *td, struct tracecmd_input *h, int cpu,
				 enum tracedat_read how);
void tracedat_guard(bool on);
void tracedat_lib_fault(struct tracedat *td, const struct stream *s);
/* tracedat.c: a CPU's records ended; was it read to its last record?  True: damaged. */
bool tracedat_check_end(struct tracedat *td, struct stream *s);

/* The line for record r of an event we import, in td->line: its length. */
size_t tracedat_form_line(struct tracedat *td, const struct stream *s, const struct evinfo *e,
			  const struct tep_record *r);

#endif /* MBEC_TRACE_TRACEDAT_INT_H */
