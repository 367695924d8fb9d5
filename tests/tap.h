/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A minimal TAP producer for the unit tests: ok(), is_u64(), diag(),
 * skip_all() and done_testing().  Output follows TAP 13 as git's test
 * suite and prove(1) read it.
 */
#ifndef MBEC_TAP_H
#define MBEC_TAP_H

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

static int tap_n, tap_failed;

static inline void diag(const char *fmt, ...)
{
	va_list ap;

	fputs("# ", stdout);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
}

static inline int ok(int cond, const char *fmt, ...)
{
	va_list ap;

	tap_n++;
	if (!cond)
		tap_failed++;
	printf("%sok %d - ", cond ? "" : "not ", tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
	return cond;
}

#define is_u64(got, want, ...)						\
	({								\
		uint64_t __g = (got), __w = (want);			\
		int __r = ok(__g == __w, __VA_ARGS__);			\
		if (!__r)						\
			diag("  got 0x%" PRIx64 ", want 0x%" PRIx64,	\
			     __g, __w);					\
		__r;							\
	})

static inline void skip(const char *why, const char *name)
{
	printf("ok %d - %s # SKIP %s\n", ++tap_n, name, why);
}

static inline int skip_all(const char *why)
{
	printf("1..0 # SKIP %s\n", why);
	return 0;
}

static inline int done_testing(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}

#endif /* MBEC_TAP_H */
