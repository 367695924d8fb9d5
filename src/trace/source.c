// SPDX-License-Identifier: GPL-2.0
/*
 * Recording or ftrace text, as one stream of records (source.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "trace/ftrace.h"
#include "trace/source.h"
#include "trace/tracedat.h"

struct trace_source {
	int fd;				/* ours to close, -1 */
	struct trace_in in;
	bool text;
	struct mbec_rec_info info;
	struct mbec_rec_reader *rr;
	struct ftrace_import *fi;
	struct tracedat *td;		/* trace.dat: its records become text lines */
	uint64_t amended[16];		/* trace.dat: a record with what the line lacked */
	unsigned char *la;		/* text: records read ahead */
	size_t la_len, la_pos;
	bool in_eof;
	struct trace_text_stats st;
	struct mbec_rec_trailer no_trailer;
	char problem[480];
	bool damaged;
	bool layout_guessed;
	const char *td_buf;		/* trace.dat: the buffer last said to the importer */
};

bool trace_source_layout_guessed(const struct trace_source *s)
{
	return s->layout_guessed;
}

bool trace_source_is_text(const struct trace_source *s)
{
	return s->text;
}

const struct mbec_rec_info *trace_source_info(const struct trace_source *s)
{
	return &s->info;
}

const char *trace_source_problem(const struct trace_source *s)
{
	return s->problem;
}

bool trace_source_damaged(const struct trace_source *s)
{
	return s->damaged;
}

const struct mbec_rec_trailer *trace_source_trailer(const struct trace_source *s)
{
	return s->rr ? mbec_rec_trailer(s->rr) : &s->no_trailer;
}

void trace_source_window(struct trace_source *s, uint64_t from_ns, uint64_t to_ns)
{
	if (s->rr)
		mbec_rec_set_window(s->rr, from_ns, to_ns);
}

const struct trace_text_stats *trace_source_text_stats(const struct trace_source *s)
{
	return &s->st;
}

const struct ftrace_import *trace_source_importer(const struct trace_source *s)
{
	return s->fi;
}

const struct tracedat *trace_source_tracedat(const struct trace_source *s)
{
	return s->td;
}

void trace_source_free(struct trace_source *s)
{
	if (!s)
		return;
	mbec_rec_reader_free(s->rr);
	ftrace_import_free(s->fi);
	tracedat_close(s->td);
	free(s->la);
	trace_in_close(&s->in);
	if (s->fd >= 0)
		close(s->fd);
	free(s);
}

/* trace.dat: a get_page record with what its line could not say (tracedat.h). */
static const struct mbec_event_hdr *td_amend(struct trace_source *s, const struct mbec_event_hdr *h)
{
	if (!s->td || !h || h->type != MBEC_EV_GET_PAGE || h->size > sizeof(s->amended))
		return h;
	memcpy(s->amended, h, h->size);
	tracedat_amend(s->td, (struct mbec_event_hdr *)s->amended);
	return (const struct mbec_event_hdr *)s->amended;
}

/* Read one text line into the importer: false at the end of the input. */
static bool text_feed_line(struct trace_source *s)
{
	char *line;
	long n;
	int r;
	bool nul = false;

	if (s->in_eof)
		return false;
	n = s->td ? tracedat_line(s->td, &line) : trace_in_line(&s->in, FTRACE_LINE_MAX, &line);
	if (n == -1) {
		s->in_eof = true;
		ftrace_import_flush(s->fi);
		return false;
	}
	s->st.lines++;
	if (n == -2) {
		r = FTRACE_BAD;
	} else if (strlen(line) != (size_t)n) {
		r = FTRACE_BAD;
		nul = true;
	} else {
		if (s->td && tracedat_line_buffer(s->td) != s->td_buf) {
			s->td_buf = tracedat_line_buffer(s->td);
			ftrace_import_buffer_hint(s->fi, s->td_buf);
		}
		r = ftrace_import_line(s->fi, line);
	}
	if (r == FTRACE_EVENT) {
		s->st.events++;
	} else if (r == FTRACE_IGNORED) {
		s->st.ignored++;
	} else {
		if (!s->st.bad++) {
			s->st.first_bad_line = s->st.lines;
			snprintf(s->problem, sizeof(s->problem), "line %llu: %s",
				 (unsigned long long)s->st.lines,
				 n == -2 ? "line longer than 4096 bytes" :
				 nul ? "NUL byte in a text line" :
				 ftrace_import_error(s->fi));
		}
	}
	return true;
}

static int text_open(struct trace_source *s, const struct trace_source_opts *o, char *err,
		     size_t errlen)
{
	const struct mbec_event_hdr *h;
	enum mbec_layout layout;
	int ept;

	s->text = true;
	s->fi = ftrace_import_new(o->layout);
	s->la = malloc(TRACE_LOOKAHEAD_BYTES);
	if (!s->fi || !s->la) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	/*
	 * Read ahead until the layout and the SPTE format are known.  A line
	 * queues at most 8 records of at most 128 bytes: stop with that much
	 * room left.
	 */
	for (;;) {
		bool more = text_feed_line(s);

		while ((h = td_amend(s, ftrace_import_pop(s->fi)))) {
			memcpy(s->la + s->la_len, h, h->size);
			s->la_len += h->size;
		}
		if (!more || s->la_len + 8 * 128 > TRACE_LOOKAHEAD_BYTES)
			break;
		if ((o->layout != MBEC_LAYOUT_UNKNOWN ||
		     (ftrace_import_seen_layout(s->fi) != MBEC_LAYOUT_UNKNOWN &&
		      !ftrace_import_layout_assumed(s->fi))) &&
		    (o->spte_ept >= 0 || ftrace_import_seen_spte_ept(s->fi) >= 0))
			break;
	}
	/*
	 * Text is ftrace text when some line is one only ftrace text has (an
	 * event line, a header, a marker), wherever an odd line sits.
	 */
	if (!ftrace_import_stats(s->fi)->format_lines && s->st.bad) {
		snprintf(err, errlen, "neither a recording nor ftrace text (%s)", s->problem);
		return -1;
	}
	layout = o->layout != MBEC_LAYOUT_UNKNOWN ? o->layout :
		 s->td && tracedat_layout(s->td) != MBEC_LAYOUT_UNKNOWN ? tracedat_layout(s->td) :
		 ftrace_import_seen_layout(s->fi);
	if (layout == MBEC_LAYOUT_UNKNOWN)
		layout = MBEC_LAYOUT_CLASSIC;
	s->layout_guessed = o->layout == MBEC_LAYOUT_UNKNOWN &&
			    (s->td ? tracedat_layout_guessed(s->td) :
				     ftrace_import_seen_layout(s->fi) == MBEC_LAYOUT_UNKNOWN ||
				     ftrace_import_layout_assumed(s->fi));
	ftrace_import_set_layout(s->fi, layout);
	ept = o->spte_ept >= 0 ? o->spte_ept : ftrace_import_seen_spte_ept(s->fi);

	memset(&s->info, 0, sizeof(s->info));
	s->info.version = MBEC_REC_VERSION;
	s->info.events_version = MBEC_EVENTS_VERSION;
	s->info.abi = layout;
	/* Kohler's series is checked as classic: its roles are rebuilt in classic's words. */
	s->info.role = *role_layout_builtin(layout == MBEC_LAYOUT_MBEC ? layout :
					    MBEC_LAYOUT_CLASSIC);
	snprintf(s->info.role.source, sizeof(s->info.role.source), "%s%s",
		 o->layout != MBEC_LAYOUT_UNKNOWN ? "built-in, from --layout" :
		 ftrace_import_layout_assumed(s->fi) ?
		 "built-in, assumed: access strings fit mbec and kohler" :
		 ftrace_import_seen_layout(s->fi) != MBEC_LAYOUT_UNKNOWN ?
		 "built-in, from the access strings" :
		 "built-in classic, guessed (no access string seen)",
		 layout == MBEC_LAYOUT_KOHLER ? "; checked as classic" : "");
	s->info.flags = MBEC_REC_F_IMPORTED | (ept > 0 ? MBEC_REC_F_SPTE_EPT : 0) |
			(ept < 0 ? MBEC_REC_F_SPTE_FMT_UNKNOWN : 0) |
			(layout == MBEC_LAYOUT_MBEC ? MBEC_REC_F_MBEC : 0);
	snprintf(s->info.tool, sizeof(s->info.tool), "ftrace text");
	if (s->td) {
		if (o->layout == MBEC_LAYOUT_UNKNOWN && tracedat_layout(s->td) != MBEC_LAYOUT_UNKNOWN)
			snprintf(s->info.role.source, sizeof(s->info.role.source), "%s%s",
				 tracedat_layout_source(s->td), layout == MBEC_LAYOUT_KOHLER ?
				 "; checked as classic" : "");
		snprintf(s->info.role.release, sizeof(s->info.role.release), "%s",
			 tracedat_release(s->td));
		snprintf(s->info.tool, sizeof(s->info.tool), "trace.dat");
	}
	return 0;
}

static int source_start(struct trace_source *s, const struct trace_source_opts *opts,
			char *err, size_t errlen)
{
	struct trace_source_opts def = { .layout = MBEC_LAYOUT_UNKNOWN, .spte_ept = -1 };
	const unsigned char *p;
	size_t n;

	if (!opts)
		opts = &def;
	n = trace_in_peek(&s->in, 4096, &p);
	if (tracedat_is_tracedat(p, n)) {
		s->td = tracedat_open(&s->in, err, errlen);
		if (!s->td)
			return -1;
		return text_open(s, opts, err, errlen);
	}
	if (!n) {
		if (s->in.err)
			snprintf(err, errlen, "cannot read: %s", strerror(s->in.err));
		else
			snprintf(err, errlen, "empty input: neither a recording nor ftrace text");
		return -1;
	}
	if (mbec_rec_is_recording(p, n) || (n < 8 && !memcmp(p, MBEC_REC_MAGIC, n))) {
		s->rr = mbec_rec_reader_open(&s->in, &s->info, err, errlen);
		if (!s->rr)
			return -1;
		if (opts->layout != MBEC_LAYOUT_UNKNOWN && opts->layout != s->info.abi) {
			s->info.abi = opts->layout;
			s->info.has_role = false;
			s->info.role = *role_layout_builtin(opts->layout);
		}
		if (opts->spte_ept >= 0)
			s->info.flags = (s->info.flags & ~(MBEC_REC_F_SPTE_EPT |
							   MBEC_REC_F_SPTE_FMT_UNKNOWN)) |
					(opts->spte_ept ? MBEC_REC_F_SPTE_EPT : 0);
		return 0;
	}
	if (memchr(p, 0, n)) {
		snprintf(err, errlen, "neither a recording (no \"%s\" magic at offset 0) nor ftrace "
			 "text (binary data)", MBEC_REC_MAGIC);
		return -1;
	}
	return text_open(s, opts, err, errlen);
}

int trace_source_open(struct trace_source **out, const char *path,
		      const struct trace_source_opts *opts, char *err, size_t errlen)
{
	struct trace_source *s = calloc(1, sizeof(*s));
	int fd;

	*out = NULL;
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	s->fd = -1;
	if (!strcmp(path, "-")) {
		fd = 0;
	} else {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
			free(s);
			return -1;
		}
		s->fd = fd;
	}
	if (trace_in_init_fd(&s->in, fd) || source_start(s, opts, err, errlen)) {
		if (!err[0])
			snprintf(err, errlen, "out of memory");
		trace_source_free(s);
		return -1;
	}
	*out = s;
	return 0;
}

int trace_source_open_mem(struct trace_source **out, const void *data, size_t len,
			  const struct trace_source_opts *opts, char *err, size_t errlen)
{
	struct trace_source *s = calloc(1, sizeof(*s));

	*out = NULL;
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	s->fd = -1;
	err[0] = 0;
	trace_in_init_mem(&s->in, data, len);
	if (source_start(s, opts, err, errlen)) {
		trace_source_free(s);
		return -1;
	}
	*out = s;
	return 0;
}

int trace_source_next(struct trace_source *s, const struct mbec_event_hdr **rec)
{
	const struct mbec_event_hdr *h;
	int r;

	if (!s->text) {
		r = mbec_rec_next(s->rr, rec);
		if (r <= 0) {
			snprintf(s->problem, sizeof(s->problem), "%s", mbec_rec_error(s->rr));
			/*
			 * A recording without its end chunk was cut short, at
			 * a chunk boundary or not: damaged either way.
			 */
			s->damaged = r < 0 || !mbec_rec_trailer(s->rr)->present;
		}
		return r;
	}
	if (s->la_pos < s->la_len) {
		h = (const struct mbec_event_hdr *)(s->la + s->la_pos);
		s->la_pos += h->size;
		*rec = h;
		return 1;
	}
	for (;;) {
		h = td_amend(s, ftrace_import_pop(s->fi));
		if (h) {
			*rec = h;
			return 1;
		}
		if (!text_feed_line(s))
			break;
	}
	h = td_amend(s, ftrace_import_pop(s->fi));
	if (h) {
		*rec = h;
		return 1;
	}
	if (s->td && tracedat_damaged(s->td) && !s->st.bad) {
		s->damaged = true;
		snprintf(s->problem, sizeof(s->problem), "%s", tracedat_problem(s->td));
	}
	if (s->st.bad) {
		s->damaged = true;
		if (s->st.bad > 1) {
			size_t l = strlen(s->problem);

			snprintf(s->problem + l, sizeof(s->problem) - l, " (and %llu more bad lines)",
				 (unsigned long long)(s->st.bad - 1));
		}
	}
	return 0;
}
