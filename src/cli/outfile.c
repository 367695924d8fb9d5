// SPDX-License-Identifier: GPL-2.0
/* Output files written whole or not at all (outfile.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/outfile.h"

static int input_stat(const char *input, struct stat *st)
{
	if (!strcmp(input, "-"))
		return fstat(STDIN_FILENO, st);
	return stat(input, st);
}

int cli_outfile_open(struct cli_outfile *o, const char *path, const char *input,
		     const char *option, char *err, size_t errlen)
{
	struct stat out_st, in_st, link_st;
	const char *slash, *base, *target = path;
	mode_t mode, mask;
	bool exists;
	size_t dirlen;

	memset(o, 0, sizeof(*o));
	o->path = path;
	o->fd = -1;
	exists = !stat(path, &out_st);
	if (exists && input && !input_stat(input, &in_st) && in_st.st_dev == out_st.st_dev &&
	    in_st.st_ino == out_st.st_ino) {
		snprintf(err, errlen, "%s %s is the input %s: writing it would destroy what is "
			 "read; name another file", option, path, input);
		return -1;
	}
	if (exists && S_ISDIR(out_st.st_mode)) {
		snprintf(err, errlen, "%s %s is a directory: name a file", option, path);
		return -1;
	}
	if (exists && !S_ISREG(out_st.st_mode)) {
		/* A device or a FIFO: nothing to replace, write in place. */
		o->fd = open(path, O_WRONLY | O_CLOEXEC);
		if (o->fd < 0) {
			snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
			return -1;
		}
		return 0;
	}

	/*
	 * A symbolic link (/dev/stdout redirected to a file, a link to a
	 * recording) is kept: the file it points to is the one replaced.
	 */
	if (exists && !lstat(path, &link_st) && S_ISLNK(link_st.st_mode)) {
		o->real = realpath(path, NULL);
		if (!o->real) {
			snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
			return -1;
		}
		target = o->real;
	}
	slash = strrchr(target, '/');
	base = slash ? slash + 1 : target;
	dirlen = slash ? (size_t)(slash - target + 1) : 0;
	o->tmp = malloc(dirlen + strlen(base) + 16);
	if (!o->tmp) {
		snprintf(err, errlen, "out of memory");
		cli_outfile_discard(o);
		return -1;
	}
	/* ".NAME.XXXXXX" next to NAME: same file system, so rename is atomic. */
	memcpy(o->tmp, target, dirlen);
	sprintf(o->tmp + dirlen, ".%s.XXXXXX", base);
	o->fd = mkostemp(o->tmp, O_CLOEXEC);
	if (o->fd < 0) {
		snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
		free(o->tmp);
		o->tmp = NULL;
		cli_outfile_discard(o);
		return -1;
	}
	/* The mode open(O_CREAT, 0666) would give, or the replaced file's. */
	mask = umask(0);
	umask(mask);
	mode = exists ? out_st.st_mode & 07777 : 0666 & ~mask;
	if (fchmod(o->fd, mode)) {
		snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
		cli_outfile_discard(o);
		return -1;
	}
	return 0;
}

FILE *cli_outfile_stream(struct cli_outfile *o)
{
	o->f = fdopen(o->fd, "w");
	if (o->f)
		o->fd = -1;
	return o->f;
}

int cli_outfile_commit(struct cli_outfile *o, char *err, size_t errlen)
{
	int e = 0;

	errno = 0;
	if (o->f) {
		if (fflush(o->f) || ferror(o->f))
			e = errno ? errno : EIO;
		if (!e && o->tmp && fsync(fileno(o->f)))
			e = errno;
		if (fclose(o->f) && !e)
			e = errno ? errno : EIO;
		o->f = NULL;
	} else if (o->fd >= 0) {
		if (o->tmp && fsync(o->fd))
			e = errno;
		if (close(o->fd) && !e)
			e = errno;
		o->fd = -1;
	}
	if (!e && o->tmp && rename(o->tmp, o->real ? o->real : o->path))
		e = errno;
	if (e) {
		snprintf(err, errlen, "cannot write %s: %s", o->path, strerror(e));
		cli_outfile_discard(o);
		return -1;
	}
	free(o->tmp);
	o->tmp = NULL;
	free(o->real);
	o->real = NULL;
	return 0;
}

void cli_outfile_discard(struct cli_outfile *o)
{
	if (o->f)
		fclose(o->f);
	else if (o->fd >= 0)
		close(o->fd);
	o->f = NULL;
	o->fd = -1;
	if (o->tmp) {
		unlink(o->tmp);
		free(o->tmp);
		o->tmp = NULL;
	}
	free(o->real);
	o->real = NULL;
}
