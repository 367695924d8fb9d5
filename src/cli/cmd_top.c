// SPDX-License-Identifier: GPL-2.0
/*
 * mbecscope top (mbectop): the live view of KVM's MMU per VM.  Its options;
 * src/top/run_live.c and run_replay.c run it, model.c turns counts into
 * rates, render.c into lines, tui.c onto the terminal; batch mode (-b)
 * prints the same lines.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/common.h"
#include "top/model.h"
#include "top/render.h"
#include "top/run.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: %s top [-d SECONDS] [-b [-n COUNT] [--json]] [--sort COLUMN] [--pid PID]\n"
		"       [--filter TEXT] [--vcpus] [--workload] [--bpf-stats] [--layout L] [-v]\n"
		"       [--replay FILE [--speed N]]\n"
		"       mbectop [the same options]\n"
		"\n"
		"Show what KVM's MMU does, per VM: faults by access and cause, SPTE installs\n"
		"by permission and page size, anomalies found by the checker.  Counts come\n"
		"from in-kernel counters, so they stay right when events are lost.\n"
		"\n"
		"  -d, --delay S     refresh every S seconds (default 1, at least 0.1)\n"
		"  -b, --batch       print plain text frames instead of the full-screen view\n"
		"  -n, --iterations N  stop after N frames\n"
		"  --json            with -b: one JSON document per frame (JSON lines)\n"
		"  --sort COLUMN     faults, sptes, gpf, anomalies, read, write, fetch, user,\n"
		"                    supv, notp, perm, xs, xu, rsvd, spte-r, spte-w, spte-xs,\n"
		"                    spte-xu, spte-u, spte-nx, 4k, 2m, 1g, pid, name, vcpus\n"
		"  --reverse         reverse the sort order\n"
		"  -p, --pid PID     watch only the VMM process PID\n"
		"  --filter TEXT     show only VMs whose pid is TEXT or whose name contains it\n"
		"  --vcpus           show every VM's vCPUs\n"
		"  --workload        run the built-in guest (2 vCPUs, matrix rounds) and watch it\n"
		"  --bpf-stats       turn on the kernel's BPF run-time statistics while running,\n"
		"                    to show the tool's own cost\n"
		"  --replay FILE     drive the view from a recording (or ftrace text) instead\n"
		"                    of the live kernel; needs no root\n"
		"  --speed N         replay at N times the recorded speed (default 1; 0: as\n"
		"                    fast as possible)\n"
		"  --layout L        KVM ABI: classic, mbec or auto (from BTF)\n"
		"  -v, --verbose     libbpf diagnostics\n"
		"\n"
		"Keys: q quit, space pause, s sort column, o reverse, f filter, enter or x\n"
		"expand a VM into vCPUs, up/down select, h help.\n"
		"Exit status: 0 fine, 1 anomalies were found, 2 usage or environment error.\n",
		prog_name);
}

int cmd_top(int argc, char **argv)
{
	static const struct option long_opts[] = {
		{ "delay", required_argument, NULL, 'd' },
		{ "batch", no_argument, NULL, 'b' },
		{ "iterations", required_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "sort", required_argument, NULL, 's' },
		{ "reverse", no_argument, NULL, 'o' },
		{ "pid", required_argument, NULL, 'p' },
		{ "filter", required_argument, NULL, 'f' },
		{ "vcpus", no_argument, NULL, 'x' },
		{ "workload", no_argument, NULL, 'w' },
		{ "bpf-stats", no_argument, NULL, 'S' },
		{ "layout", required_argument, NULL, 'l' },
		{ "replay", required_argument, NULL, 'r' },
		{ "speed", required_argument, NULL, 'P' },
		/* tests only: a small ring buffer, to show the counts survive losses */
		{ "ringbuf-kb", required_argument, NULL, 'K' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct top_run_opts r = { .delay = 1.0, .speed = 1.0, .layout = MBEC_LAYOUT_UNKNOWN };
	bool have_speed = false;
	long pid = 0;
	char err[512], *end;
	int tail, c, rc;

	r.view.sort_key = TOP_S_FAULTS;
	opterr = 0;
	optind = 1;
	if (argc == 2 && !strcmp(argv[1], "--list-options"))
		return cli_list_options(long_opts, ":d:bn:p:hv");
	while ((c = getopt_long(argc, argv, ":d:bn:p:hv", long_opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			errno = 0;
			r.delay = strtod(optarg, &end);
			if (errno || end == optarg || *end || !isfinite(r.delay) || r.delay < 0.1 ||
			    r.delay > 3600)
				return cli_usage_error("top", "-d wants seconds between 0.1 and "
						       "3600, not '%s'", optarg);
			break;
		case 'b':
			r.batch = true;
			break;
		case 'n':
			errno = 0;
			r.frames_max = strtol(optarg, &end, 10);
			if (errno || end == optarg || *end || r.frames_max <= 0)
				return cli_usage_error("top", "-n wants a number of frames, 1 or "
						       "more, not '%s'", optarg);
			break;
		case 'j':
			r.json = true;
			break;
		case 's':
			r.view.sort_key = top_sort_key(optarg);
			if (r.view.sort_key < 0)
				return cli_usage_error("top", "--sort: no column '%s'; try '%s top "
						       "--help'", optarg, prog_name);
			break;
		case 'o':
			r.view.reverse = true;
			break;
		case 'p':
			if (cli_parse_pid("top", optarg, &pid))
				return EXIT_USAGE;
			break;
		case 'f':
			snprintf(r.view.filter, sizeof(r.view.filter), "%s", optarg);
			break;
		case 'x':
			r.view.expand_all = true;
			break;
		case 'w':
			r.workload = true;
			break;
		case 'S':
			r.bpf_stats = true;
			break;
		case 'l':
			if (cli_parse_layout("top", optarg, &r.layout))
				return EXIT_USAGE;
			break;
		case 'r':
			r.replay_path = optarg;
			break;
		case 'P':
			errno = 0;
			r.speed = strtod(optarg, &end);
			if (errno || end == optarg || *end || !isfinite(r.speed) || r.speed < 0 ||
			    r.speed > 1e6)
				return cli_usage_error("top", "--speed wants a factor (1: as "
						       "recorded, 0: as fast as possible), not "
						       "'%s'", optarg);
			have_speed = true;
			break;
		case 'K':
			if (cli_parse_ringbuf_kb("top", optarg, &r.ringbuf_bytes))
				return EXIT_USAGE;
			break;
		default:
			tail = cli_opt_tail("top", c, argv, usage);
			if (tail >= 0)
				return tail;
		}
	}
	if (optind < argc)
		return cli_extra_arg("top", argv[optind]);
	if (r.json && !r.batch)
		return cli_usage_error("top", "--json prints frames for scripts: use it with -b");
	if (r.workload && pid)
		return cli_usage_error("top", "--workload and --pid exclude each other: the "
				       "workload's pid is the filter");
	if (have_speed && !r.replay_path)
		return cli_usage_error("top", "--speed paces a replay: use it with --replay FILE");
	if (r.replay_path && (r.workload || r.bpf_stats))
		return cli_usage_error("top", "--replay shows a recording: %s watches the live "
				       "kernel", r.workload ? "--workload" : "--bpf-stats");
	if (!r.batch && (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)))
		return cli_usage_error("top", "not a terminal: the full-screen view needs one; "
				       "use -b for batch mode (plain text frames)");
	if (!r.replay_path && geteuid() != 0)
		return cli_usage_error("top", "must run as root: watching KVM needs BPF programs "
				       "on its tracepoints (CAP_BPF, CAP_PERFMON, CAP_SYS_ADMIN); "
				       "try sudo");
	r.pid = (uint32_t)pid;
	r.verbose = cli_verbose > 0;
	rc = top_run(&r, err, sizeof(err));
	if (rc < 0)
		return cli_usage_error("top", "%s", err);
	return rc ? EXIT_ANOMALY : EXIT_FINE;
}
