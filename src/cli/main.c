// SPDX-License-Identifier: GPL-2.0
/*
 * mbecscope: one binary, bpftool-style subcommands.  Started as `mbectop`
 * it behaves as `mbecscope top`.
 */
#include <errno.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "mbec_events.h"
#include "mbec_recording.h"
#include "mbec_version.h"

const char *prog_name = "mbecscope";
int cli_verbose;

/* One line per subcommand, in the order --help lists them; NULL ends it. */
static const struct cli_cmd commands[] = {
	{ "check", cmd_check, "[--workload] [--duration S] [--pid PID] [--json] [-v]",
	  "attach to KVM, check every SPTE and exit against the model, summarize" },
	{ "decode", cmd_decode, "KIND VALUE [--layout L] [--json]",
	  "decode an exit qualification, error code, SPTE, PTE, role or ACC" },
	{ "model", cmd_model, "--mmu legacy|ept|npt --walk E1,... --access A --mode M",
	  "ask the reference permission model about one access" },
	{ "top", cmd_top, "[-d S] [-b [-n N]] [--sort COL] [--workload | --replay FILE]",
	  "the live view per VM (also installed as mbectop)" },
	{ "watch", cmd_watch, "[--replay FILE] [--config FILE] [--textfile F] [--listen P] [--json]",
	  "daemon: alerts (JSON lines, syslog) and Prometheus metrics" },
	{ "workload", cmd_workload, "[--pattern matrix|storm] [--vcpus N] [--duration S] [--json]",
	  "run the built-in guest: every U/W/NX x A/D page, or a fault storm" },
	{ "record", cmd_record, "-o FILE [--workload] [--duration S] [--pid PID] [--json]",
	  "attach like 'check' and write every event to a recording" },
	{ "replay", cmd_replay, "FILE|- [--json] [--events] [--export-json OUT] [--pid PID]",
	  "check a recording or an ftrace text capture as 'check' would" },
	{ NULL, NULL, NULL, NULL },
};

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s%s%s: ", prog_name, cmd ? " " : "", cmd ? cmd : "");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return EXIT_USAGE;
}

static void usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: %s COMMAND [ARGS...]\n\n"
		"Watches the KVM x86 MMU decide execute permissions (MBEC, GMET)\n"
		"and checks every decision against a reference model.\n\ncommands:\n",
		prog_name);
	for (i = 0; commands[i].name; i++)
		fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].help);
	fprintf(f, "\n'%s COMMAND --help' describes a command, '%s --version' the\n"
		"release and formats; exit status: 0 fine, 1 anomalies found, 2 usage or\n"
		"environment error.\n", prog_name, prog_name);
}

static const struct cli_cmd *find_command(const char *name)
{
	size_t i;

	for (i = 0; commands[i].name; i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
}

/*
 * Output that never reached standard output (a full disk, /dev/full) is an
 * error: one line and exit 2, never the command's own status.
 */
static int stdout_written(int rc)
{
	errno = 0;
	if (!fflush(stdout) && !ferror(stdout))
		return rc;
	fprintf(stderr, "%s: cannot write the output: %s\n", prog_name,
		strerror(errno ? errno : EIO));
	return EXIT_USAGE;
}

int main(int argc, char **argv)
{
	const struct cli_cmd *cmd;

	if (!strcmp(basename(argv[0]), "mbectop")) {
		cmd = find_command("top");
		if (!cmd)
			return cli_usage_error(NULL, "this build has no 'top' command");
		argv[0] = (char *)"top";
		return cmd->fn(argc, argv);
	}
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return EXIT_FINE;
	}
	if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version")) {
		printf("mbecscope %s\nrecordings: writes format %u, reads formats %u and %u; "
		       "event records version %u\n", MBEC_VERSION, MBEC_REC_VERSION,
		       MBEC_REC_VERSION_ZLIB, MBEC_REC_VERSION, MBEC_EVENTS_VERSION);
		return EXIT_FINE;
	}
	if (!strcmp(argv[1], "--list-commands")) {	/* the generated bash completion */
		for (cmd = commands; cmd->name; cmd++)
			printf("%s\n", cmd->name);
		return EXIT_FINE;
	}
	cmd = find_command(argv[1]);
	if (!cmd)
		return cli_usage_error(NULL, "unknown command '%s'; try '%s --help'",
				       argv[1], prog_name);
	return stdout_written(cmd->fn(argc - 1, argv + 1));
}
