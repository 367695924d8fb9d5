/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the subcommands parse alike: option values with one set of limits
 * and messages, the getopt error tail, a clock.  Sources of records and
 * their set-up are src/source's.
 *
 * Every parser returns 0 with *out set, or prints the usage error for
 * CMD (cli_usage_error) and returns EXIT_USAGE, so a caller writes
 *	if (cli_parse_pid("check", optarg, &pid))
 *		return EXIT_USAGE;
 */
#ifndef MBEC_CLI_COMMON_H
#define MBEC_CLI_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "mbec_kvm.h"
#include "workload/workload.h"

struct json_writer;

/* --duration: seconds, more than 0 and at most a day. */
int cli_parse_duration(const char *cmd, const char *arg, double *out);
/* --pid: a process id. */
int cli_parse_pid(const char *cmd, const char *arg, long *out);
/*
 * Whether the matrix workload child made supervisor (CPL 0) passes, and
 * why (not): one "workload_cpl0" object with @jw, else one line on @f.
 */
void cli_workload_cpl0(const struct workload_child *c, FILE *f, struct json_writer *jw);
/* --vcpus: 1 to WORKLOAD_MAX_VCPUS. */
int cli_parse_vcpus(const char *cmd, const char *arg, unsigned int *out);
/* --pattern: matrix or storm. */
int cli_parse_pattern(const char *cmd, const char *arg, enum workload_pattern *out);
/* --layout: classic, mbec, kohler or auto (MBEC_LAYOUT_UNKNOWN). */
int cli_parse_layout(const char *cmd, const char *arg, enum mbec_layout *out);
/* --ringbuf-kb (tests): a power of two from 4 to 1048576, *out in bytes. */
int cli_parse_ringbuf_kb(const char *cmd, const char *arg, size_t *out);

/*
 * The getopt_long tail for an optstring starting with ':': C is ':' (a
 * value missing) or anything else (an unknown option), the option is
 * argv[optind - 1].  Returns EXIT_USAGE.
 */
int cli_getopt_error(const char *cmd, int c, char **argv);
/*
 * The end of every pipeline subcommand's option switch: -v/--verbose
 * (counted; returns -1, go on), -h/--help (USAGE on stdout; EXIT_FINE), and
 * anything else through cli_getopt_error (EXIT_USAGE).
 */
int cli_opt_tail(const char *cmd, int c, char **argv, void (*usage)(FILE *f));
/* An argument left after the options.  Returns EXIT_USAGE. */
int cli_extra_arg(const char *cmd, const char *arg);

/* clock_gettime(id) in nanoseconds; CLOCK_MONOTONIC in seconds. */
uint64_t cli_clock_ns(clockid_t id);
double cli_now_s(void);

#endif /* MBEC_CLI_COMMON_H */
