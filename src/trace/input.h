/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A small buffered byte source for the recording reader and the ftrace
 * text importer: a file descriptor (a file, a pipe, stdin) or a memory
 * buffer (tests, fuzzing).  It keeps the absolute offset of every byte so
 * that error messages can say where the input broke, and lets the caller
 * peek at the first bytes to tell a recording from text.
 */
#ifndef MBEC_TRACE_INPUT_H
#define MBEC_TRACE_INPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TRACE_IN_BUF	(256 * 1024)

struct trace_in {
	int fd;			/* -1: memory source */
	const unsigned char *mem;
	size_t mem_len;
	unsigned char *buf;	/* cap bytes (+1 for a line's NUL) */
	size_t cap;		/* TRACE_IN_BUF, or less for a small memory source */
	size_t pos, len;	/* unread bytes are buf[pos, len) */
	uint64_t offset;	/* absolute offset of buf[pos] */
	bool eof;
	int err;		/* errno of a failed read, 0 */
};

/* 0, or -1 (out of memory).  The fd is not closed by trace_in_close(). */
int trace_in_init_fd(struct trace_in *in, int fd);
void trace_in_init_mem(struct trace_in *in, const void *data, size_t len);
void trace_in_close(struct trace_in *in);

/*
 * Make at least n bytes (n <= TRACE_IN_BUF) available at *p.  Returns how
 * many are available (fewer than n only at the end of the input).
 */
size_t trace_in_peek(struct trace_in *in, size_t n, const unsigned char **p);
/* Consume n bytes that were peeked. */
void trace_in_skip(struct trace_in *in, size_t n);
/* Copy n bytes into dst (any size); returns how many were copied. */
size_t trace_in_read(struct trace_in *in, void *dst, size_t n);
/*
 * The next line without its newline, NUL-terminated in place (valid until
 * the next call).  Returns its length, -1 at the end of the input, or -2
 * when the line is longer than max (it is then skipped up to its end).
 */
long trace_in_line(struct trace_in *in, size_t max, char **line);

#endif /* MBEC_TRACE_INPUT_H */
