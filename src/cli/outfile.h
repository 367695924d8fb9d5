/* SPDX-License-Identifier: GPL-2.0 */
/*
 * An output file that is never mistaken for a good one: it is written to a
 * temporary file next to it and renamed into place only once everything
 * was written and the input read without damage.  An output that is the
 * input itself (same device and inode, whatever the name or link) is
 * refused before anything is opened.  Devices and FIFOs (/dev/stdout,
 * /dev/full) are written in place.
 */
#ifndef MBEC_CLI_OUTFILE_H
#define MBEC_CLI_OUTFILE_H

#include <stddef.h>
#include <stdio.h>

struct cli_outfile {
	const char *path;	/* the name given */
	char *real;		/* a symbolic link's target (renamed onto), or NULL */
	char *tmp;		/* the temporary file, NULL when written in place */
	int fd;			/* -1 once handed to f or closed */
	FILE *f;		/* after cli_outfile_stream */
};

/*
 * Open @path for writing; @input is the file read ("-": standard input).
 * 0, or -1 with one line in @err ("OPTION PATH is the input", cannot
 * create).
 */
int cli_outfile_open(struct cli_outfile *o, const char *path, const char *input,
		     const char *option, char *err, size_t errlen);
/* The file as a stdio stream (it owns the descriptor from then on); NULL on error. */
FILE *cli_outfile_stream(struct cli_outfile *o);
/*
 * Every byte written: flush, check, sync, close, rename into place.  0, or
 * -1 with one line in @err (the temporary file is removed and @path left
 * as it was).
 */
int cli_outfile_commit(struct cli_outfile *o, char *err, size_t errlen);
/* Give up: close, remove the temporary file; @path is left as it was. */
void cli_outfile_discard(struct cli_outfile *o);

#endif /* MBEC_CLI_OUTFILE_H */
