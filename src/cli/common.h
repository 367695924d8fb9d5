/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the live subcommands (check, record, replay, top, watch, workload)
 * parse and read alike: option values with one set of limits and
 * messages, the getopt error tail, the KVM module parameters, a clock.
 *
 * Every parser returns 0 with *out set, or prints the usage error for
 * CMD (cli_usage_error) and returns EXIT_USAGE, so a caller writes
 *	if (cli_parse_pid("check", optarg, &pid))
 *		return EXIT_USAGE;
 */
#ifndef MBEC_CLI_COMMON_H
#define MBEC_CLI_COMMON_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "mbec_kvm.h"
#include "check/check.h"
#include "trace/recording.h"
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
/* Exit-2 usage error (one line) unless process @pid exists. */
int cli_pid_exists(const char *cmd, long pid);
/* --vcpus: 1 to WORKLOAD_MAX_VCPUS. */
int cli_parse_vcpus(const char *cmd, const char *arg, unsigned int *out);
/* --pattern: matrix or storm. */
int cli_parse_pattern(const char *cmd, const char *arg, enum workload_pattern *out);
/* --layout: classic, mbec, kohler or auto (MBEC_LAYOUT_UNKNOWN). */
int cli_parse_layout(const char *cmd, const char *arg, enum mbec_layout *out);

/*
 * The getopt_long tail for an optstring starting with ':': C is ':' (a
 * value missing) or anything else (an unknown option), the option is
 * argv[optind - 1].  Returns EXIT_USAGE.
 */
int cli_getopt_error(const char *cmd, int c, char **argv);
/* An argument left after the options.  Returns EXIT_USAGE. */
int cli_extra_arg(const char *cmd, const char *arg);

/*
 * What a recording's header (or an imported text's description) says of
 * the KVM it came from, as check options: ABI layout, role layout, SPTE
 * format, MBEC, and the guest's CPU mode when it is known.  copts->role
 * points into info, which must outlive the engine.
 */
void cli_check_opts_from_info(struct mbec_check_opts *copts, const struct mbec_rec_info *info);

/*
 * The built-in workload for CMD: probe KVM, lay the guest out (*LAYOUT,
 * for the caller to free) and spawn it waiting for workload_start().  Not
 * root: only the layout (attaching fails later with the reason).  0, or
 * the usage error printed, nothing left behind, and EXIT_USAGE.
 */
int cli_workload_spawn(const char *cmd, const struct workload_opts *wo,
		       struct workload_layout **layout, struct workload_child *child);

/*
 * Set by SIGINT and SIGTERM (and SIGHUP with HUP) once cli_catch_stop()
 * installed the handler: the live loops run until it is.
 */
extern volatile sig_atomic_t cli_stop_requested;
void cli_catch_stop(bool hup);

/* A module parameter (or any sysfs flag) reads Y, y or 1. */

/* CLOCK_MONOTONIC in seconds. */
/* clock_gettime(id) in nanoseconds. */
uint64_t cli_clock_ns(clockid_t id);
double cli_now_s(void);

#endif /* MBEC_CLI_COMMON_H */
