// SPDX-License-Identifier: GPL-2.0
/*
 * Buffered input (see input.h).  Both kinds of source fill the same
 * buffer, so a memory source behaves exactly like a file: the fuzz
 * targets exercise the code that reads real files.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "trace/input.h"

int trace_in_init_fd(struct trace_in *in, int fd)
{
	memset(in, 0, sizeof(*in));
	in->fd = fd;
	in->cap = TRACE_IN_BUF;
	in->buf = malloc(TRACE_IN_BUF + 1);
	return in->buf ? 0 : -1;
}

void trace_in_init_mem(struct trace_in *in, const void *data, size_t len)
{
	memset(in, 0, sizeof(*in));
	in->fd = -1;
	in->mem = data;
	in->mem_len = len;
	/* A small input needs no more than its own size (the fuzzer runs many). */
	in->cap = len < TRACE_IN_BUF ? len + 16 : TRACE_IN_BUF;
	in->buf = malloc(in->cap + 1);
	if (!in->buf)
		in->eof = true;
}

void trace_in_close(struct trace_in *in)
{
	free(in->buf);
	in->buf = NULL;
	in->pos = in->len = 0;
	in->eof = true;
}

/* Move the unread bytes to the front and read more; false when nothing came. */
static bool refill(struct trace_in *in)
{
	size_t room;
	ssize_t n;

	if (in->eof || !in->buf)
		return false;
	if (in->pos) {
		memmove(in->buf, in->buf + in->pos, in->len - in->pos);
		in->len -= in->pos;
		in->pos = 0;
	}
	room = in->cap - in->len;
	if (!room)
		return false;
	if (in->fd < 0) {
		n = (ssize_t)(in->mem_len < room ? in->mem_len : room);
		memcpy(in->buf + in->len, in->mem, (size_t)n);
		in->mem += n;
		in->mem_len -= (size_t)n;
	} else {
		do
			n = read(in->fd, in->buf + in->len, room);
		while (n < 0 && errno == EINTR);
		if (n < 0)
			in->err = errno;
	}
	if (n <= 0) {
		in->eof = true;
		return false;
	}
	in->len += (size_t)n;
	return true;
}

size_t trace_in_peek(struct trace_in *in, size_t n, const unsigned char **p)
{
	if (n > in->cap)
		n = in->cap;
	while (in->len - in->pos < n && refill(in))
		;
	*p = in->buf ? in->buf + in->pos : NULL;
	return in->len - in->pos < n ? in->len - in->pos : n;
}

void trace_in_skip(struct trace_in *in, size_t n)
{
	if (n > in->len - in->pos)
		n = in->len - in->pos;
	in->pos += n;
	in->offset += n;
}

size_t trace_in_read(struct trace_in *in, void *dst, size_t n)
{
	size_t done = 0;

	while (done < n) {
		size_t have = in->len - in->pos, take;

		if (!have && !refill(in))
			break;
		have = in->len - in->pos;
		take = have < n - done ? have : n - done;
		memcpy((char *)dst + done, in->buf + in->pos, take);
		in->pos += take;
		in->offset += take;
		done += take;
	}
	return done;
}

long trace_in_line(struct trace_in *in, size_t max, char **line)
{
	size_t scanned = 0;
	bool too_long = false;

	if (max >= in->cap)
		max = in->cap - 1;
	for (;;) {
		unsigned char *start = in->buf ? in->buf + in->pos : NULL;
		size_t have = in->len - in->pos;
		unsigned char *nl = have > scanned ? memchr(start + scanned, '\n',
							    have - scanned) : NULL;

		if (nl) {
			size_t n = (size_t)(nl - start);

			if (too_long || n > max) {
				trace_in_skip(in, n + 1);
				return -2;
			}
			*nl = 0;
			*line = (char *)start;
			trace_in_skip(in, n + 1);
			if (n && start[n - 1] == '\r')
				start[--n] = 0;
			/* The length, not strlen(): a NUL inside the line shows. */
			return (long)n;
		}
		if (have > max) {
			/* Drop what is buffered and keep looking for the end of the line. */
			too_long = true;
			trace_in_skip(in, have);
			scanned = 0;
		} else {
			scanned = have;
		}
		if (!refill(in)) {
			have = in->len - in->pos;
			if (too_long) {
				trace_in_skip(in, have);
				return -2;
			}
			if (!have)
				return -1;
			/* Last line without a newline. */
			start = in->buf + in->pos;
			start[have] = 0;
			*line = (char *)start;
			trace_in_skip(in, have);
			return (long)have;
		}
	}
}
