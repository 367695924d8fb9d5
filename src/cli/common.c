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

int cli_pid_exists(const char *cmd, long pid)
{
	if (kill((pid_t)pid, 0) && errno == ESRCH)
		return cli_usage_error(cmd, "--pid %ld: no such process; give the pid of a running VMM (e.g. pgrep -f qemu)",
				       pid);
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

int cli_getopt_error(const char *cmd, int c, char **argv)
{
	if (c == ':')
		return cli_usage_error(cmd, "%s needs a value; try '%s %s --help'",
				       argv[optind - 1], prog_name, cmd);
	return cli_usage_error(cmd, "unknown option '%s'; try '%s %s --help'",
			       argv[optind - 1], prog_name, cmd);
}

int cli_extra_arg(const char *cmd, const char *arg)
{
	return cli_usage_error(cmd, "unexpected argument '%s'; try '%s %s --help'",
			       arg, prog_name, cmd);
}

volatile sig_atomic_t cli_stop_requested;

static void on_stop_signal(int sig)
{
	(void)sig;
	cli_stop_requested = 1;
}

void cli_catch_stop(bool hup)
{
	struct sigaction sa = { .sa_handler = on_stop_signal };

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (hup)
		sigaction(SIGHUP, &sa, NULL);
}

int cli_workload_spawn(const char *cmd, const struct workload_opts *wo,
		       struct workload_layout **layout, struct workload_child *child)
{
	char err[600];

	*layout = NULL;
	if (geteuid() == 0 && workload_probe(err, sizeof(err)))
		return cli_usage_error(cmd, "%s", err);
	*layout = workload_layout_new(wo);
	if (!*layout)
		return cli_usage_error(cmd, "cannot lay out the workload (out of memory)");
	if (geteuid() == 0 && workload_spawn(wo, child, err, sizeof(err))) {
		workload_layout_free(*layout);
		*layout = NULL;
		return cli_usage_error(cmd, "%s", err);
	}
	return 0;
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

void cli_check_opts_from_info(struct mbec_check_opts *copts, const struct mbec_rec_info *info)
{
	copts->layout = info->abi;
	copts->role = &info->role;
	copts->spte_ept = info->flags & MBEC_REC_F_SPTE_EPT;
	copts->spte_fmt_unknown = info->flags & MBEC_REC_F_SPTE_FMT_UNKNOWN;
	copts->mbec = info->flags & MBEC_REC_F_MBEC;
	if (info->has_mode) {
		copts->expect_mode_valid = true;
		copts->expect_mode = info->mode;
	}
}
