/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The subcommand table and what every subcommand shares: exit codes,
 * usage errors as one line, the program name for messages.
 */
#ifndef MBEC_CLI_H
#define MBEC_CLI_H

/* Exit codes (DESIGN.md): fine, anomalies found, usage or environment. */
#define EXIT_FINE	0
#define EXIT_ANOMALY	1
#define EXIT_USAGE	2

struct cli_cmd {
	const char *name;
	int (*fn)(int argc, char **argv);	/* argv[0] is the subcommand */
	const char *args;			/* one-line synopsis */
	const char *help;			/* one-line description */
};

extern const char *prog_name;
extern int cli_verbose;

/*
 * Print "mbecscope CMD: <message>" on stderr as one line and return
 * EXIT_USAGE, so callers can write `return cli_usage_error(...)`.
 */
int cli_usage_error(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/*
 * `mbecscope CMD --list-options` (for the generated bash completion): the
 * command's getopt table, one option a line: "--name" or "--name=" when
 * it takes a value, then "-x" or "-x=" for each letter of shorts.
 */
struct option;
int cli_list_options(const struct option *o, const char *shorts);

/* Subcommands, each in src/cli/cmd_<name>.c. */
int cmd_check(int argc, char **argv);
int cmd_record(int argc, char **argv);
int cmd_replay(int argc, char **argv);
int cmd_decode(int argc, char **argv);
int cmd_model(int argc, char **argv);
int cmd_top(int argc, char **argv);
int cmd_watch(int argc, char **argv);
int cmd_workload(int argc, char **argv);

#endif /* MBEC_CLI_H */
