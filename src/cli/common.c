// SPDX-License-Identifier: GPL-2.0
/*
 * Option parsers and small readers shared by the live subcommands; see
 * common.h.  The messages here are the ones the subcommands printed each
 * on their own before, word for word (tests/cli and tests/live check them).
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/common.h"
#include "cli/json.h"

int cli_parse_duration(const char *cmd, const char *arg, double *out)
{
	char *end;
	double d;

	errno = 0;
	d = strtod(arg, &end);
	if (errno || end == arg || *end || !isfinite(d) || d <= 0 || d > 86400)
		return cli_usage_error(cmd, "--duration wants seconds, more than 0 and at most 86400, not '%s'",
				       arg);
	*out = d;
	return 0;
}

int cli_parse_pid(const char *cmd, const char *arg, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno || end == arg || *end || v <= 0 || v > 0x3fffffff)
		return cli_usage_error(cmd, "--pid wants a process id, not '%s'", arg);
	*out = v;
	return 0;
}

/* strtol, not strtoul: "-1" is a negative number, not a huge one. */
int cli_parse_vcpus(const char *cmd, const char *arg, unsigned int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(arg, &end, 10);
	if (errno || end == arg || *end || v < 1 || v > WORKLOAD_MAX_VCPUS)
		return cli_usage_error(cmd, "--vcpus wants a number from 1 to %d, not '%s'",
				       WORKLOAD_MAX_VCPUS, arg);
	*out = (unsigned int)v;
	return 0;
}

int cli_parse_pattern(const char *cmd, const char *arg, enum workload_pattern *out)
{
	if (!strcmp(arg, "matrix"))
		*out = WORKLOAD_MATRIX;
	else if (!strcmp(arg, "storm"))
		*out = WORKLOAD_STORM;
	else
		return cli_usage_error(cmd, "--pattern is matrix or storm, not '%s'", arg);
	return 0;
}

int cli_parse_layout(const char *cmd, const char *arg, enum mbec_layout *out)
{
	if (!strcmp(arg, "classic"))
		*out = MBEC_LAYOUT_CLASSIC;
	else if (!strcmp(arg, "mbec"))
		*out = MBEC_LAYOUT_MBEC;
	else if (!strcmp(arg, "kohler"))
		*out = MBEC_LAYOUT_KOHLER;
	else if (!strcmp(arg, "auto"))
		*out = MBEC_LAYOUT_UNKNOWN;
	else
		return cli_usage_error(cmd, "--layout is classic, mbec, kohler or auto, not '%s'",
				       arg);
	return 0;
}

int cli_parse_ringbuf_kb(const char *cmd, const char *arg, size_t *out)
{
	char *end;
	unsigned long kb;

	errno = 0;
	kb = strtoul(arg, &end, 10);
	/* A power of two, at least a page (what the kernel accepts). */
	if (errno || end == arg || *end || kb < 4 || kb > (1UL << 20) || (kb & (kb - 1)))
		return cli_usage_error(cmd, "--ringbuf-kb wants a power of two from 4 to 1048576, not '%s'",
				       arg);
	*out = kb << 10;
	return 0;
}

int cli_getopt_error(const char *cmd, int c, char **argv)
{
	if (c == ':')
		return cli_usage_error(cmd, "%s needs a value; try '%s %s --help'",
				       argv[optind - 1], prog_name, cmd);
	return cli_usage_error(cmd, "unknown option '%s'; try '%s %s --help'",
			       argv[optind - 1], prog_name, cmd);
}

int cli_opt_tail(const char *cmd, int c, char **argv, void (*usage)(FILE *f))
{
	if (c == 'v') {
		cli_verbose++;
		return -1;
	}
	if (c == 'h') {
		usage(stdout);
		return EXIT_FINE;
	}
	return cli_getopt_error(cmd, c, argv);
}

int cli_extra_arg(const char *cmd, const char *arg)
{
	return cli_usage_error(cmd, "unexpected argument '%s'; try '%s %s --help'",
			       arg, prog_name, cmd);
}

void cli_workload_cpl0(const struct workload_child *c, FILE *f, struct json_writer *jw)
{
	const struct workload_report *rep = workload_child_report(c);

	if (jw) {
		json_key(jw, "workload_cpl0");
		json_obj_begin(jw);
		if (rep)
			json_kv_bool(jw, "ran", rep->cpl0);
		else
			json_kv_str(jw, "ran", NULL);
		json_kv_u64(jw, "modes", rep ? rep->cpl0_modes : 0);
		json_kv_str(jw, "note", rep ? rep->cpl0_note : "the workload did not report");
		json_obj_end(jw);
	} else if (!rep) {
		fprintf(f, "workload supervisor (CPL 0) passes: unknown (the workload did not report)\n");
	} else if (rep->cpl0) {
		fprintf(f, "workload supervisor (CPL 0) passes: %u mode%s; %s\n", rep->cpl0_modes,
			rep->cpl0_modes == 1 ? "" : "s", rep->cpl0_note);
	} else {
		fprintf(f, "workload supervisor (CPL 0) passes: none: %s\n", rep->cpl0_note);
	}
}

uint64_t cli_clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

double cli_now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

int cli_list_options(const struct option *o, const char *shorts)
{
	const char *c;

	for (; o->name; o++)
		if (strcmp(o->name, "ringbuf-kb"))	/* tests only */
			printf("--%s%s\n", o->name, o->has_arg == no_argument ? "" : "=");
	for (c = shorts; *c; c++)
		if (*c != ':')
			printf("-%c%s\n", *c, c[1] == ':' ? "=" : "");
	return EXIT_FINE;
}
