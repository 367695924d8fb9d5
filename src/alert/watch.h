/* SPDX-License-Identifier: GPL-2.0 */
/*
 * mbecscope watch, the daemon: its run over a source (src/source), live or
 * a file, with the rule engine, the check engine and the sinks.
 */
#ifndef MBEC_ALERT_WATCH_H
#define MBEC_ALERT_WATCH_H

#include <stdbool.h>
#include <stddef.h>

#include "alert/alert.h"
#include "source/source.h"

/* A command-line flag that is a configuration key, applied after the file. */
struct watch_flag {
	const char *key;
	const char *value;
};

#define WATCH_MAX_FLAGS	64

struct watch_opts {
	const char *config;		/* the configuration file (SIGHUP re-reads it); NULL */
	const struct watch_flag *flags;
	unsigned int nflags;
	bool json, quiet;
	const char *who;		/* "mbecscope watch": the prefix of its warnings */
};

/* The configuration file (NULL: none), then the flags over it; 0, or -1 with one line in err. */
int watch_config_build(struct watch_config *c, const char *path, const struct watch_flag *fl,
		       unsigned int nfl, char *err, size_t errlen);

/*
 * Run until the source ends or a stop signal: 0 (nothing fired, or live
 * and stopped by a signal), 1 (an alert fired), or -1 with one line in err
 * (the caller exits 2).
 */
int watch_run(const struct watch_config *cfg, const struct watch_opts *wo,
	      const struct mbec_source_opts *so, char *err, size_t errlen);

#endif /* MBEC_ALERT_WATCH_H */
