// SPDX-License-Identifier: GPL-2.0
/*
 * mbecscope watch: the alerting daemon's options; src/alert/watch.c runs
 * it over the source (the live kernel, or a file with --replay).
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alert/alert.h"
#include "alert/sinks.h"
#include "alert/watch.h"
#include "cli/cli.h"
#include "cli/common.h"
#include "source/source.h"
#include "workload/workload.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: %s watch [--replay FILE] [--config FILE] [--json] [--output FILE]\n"
		"       [--syslog] [--journal] [--textfile FILE]\n"
		"       [--listen [ADDR:]PORT [--allow-remote]]\n"
		"       [--pid PID | --workload matrix|storm] [--duration S] [RULE OPTIONS] [-v]\n"
		"\n"
		"Watch KVM's MMU and raise alerts: every anomaly class of the checker, fault\n"
		"storms and execute-fault storms per VM, lost records, the tool falling behind.\n"
		"An alert key (rule, VM, GFN or checker rule) fires once; later occurrences are\n"
		"summarized once per interval.\n"
		"\n"
		"  --replay FILE       read a recording or ftrace text instead of the kernel\n"
		"  --config FILE       settings file (format: mbecscope(8)); flags override it\n"
		"  --check-config      print the settings in effect and exit\n"
		"  --json              JSON lines on stdout instead of text\n"
		"  -q, --quiet         nothing on stdout\n"
		"  --output FILE       JSON lines appended to FILE, reopened on SIGHUP\n"
		"  --syslog            alerts to syslog (facility daemon)\n"
		"  --journal           alerts as structured journal entries (MESSAGE_ID, fields)\n"
		"  --textfile FILE     Prometheus node_exporter textfile, rewritten atomically\n"
		"  --textfile-interval D  how often (default 15s)\n"
		"  --listen [ADDR:]PORT   serve /metrics over HTTP (ADDR default 127.0.0.1)\n"
		"  --allow-remote      let --listen take a non-loopback address\n"
		"  --pid PID           only the VMM process PID\n"
		"  --workload PATTERN  run the built-in guest (matrix or storm) and watch it\n"
		"  --duration S        stop after S seconds (default: until SIGTERM, or the\n"
		"                      end of the workload)\n"
		"  --layout L          KVM ABI for decoding: classic, mbec or auto\n"
		"  -v, --verbose       libbpf diagnostics\n"
		"\n"
		"Rule options (also configuration keys): --fault-rate N, --fault-factor F,\n"
		"--fault-min-rate N, --exec-rate N, --exec-factor F, --exec-min-rate N,\n"
		"--baseline-windows N, --warmup-windows N, --window D, --interval D,\n"
		"--expire D, --lost-events N, --lag D, --max-alerts N, --max-keys N,\n"
		"--disable RULE[,RULE].  Durations: 500ms, 1s, 5m, 1h.\n"
		"\n"
		"Exit status: 0 on SIGTERM/SIGINT or when nothing fired, 1 when a replay or a\n"
		"run with --duration/--workload raised an alert, 2 usage or environment error.\n",
		prog_name);
}

int cmd_watch(int argc, char **argv)
{
	enum {
		O_REPLAY = 1000, O_CONFIG, O_CHECK_CONFIG, O_PID, O_WORKLOAD, O_DURATION, O_LAYOUT,
		O_KEY, O_RINGBUF_KB,
	};
	static const struct option long_opts[] = {
		{ "replay", required_argument, NULL, O_REPLAY },
		{ "config", required_argument, NULL, O_CONFIG },
		{ "check-config", no_argument, NULL, O_CHECK_CONFIG },
		{ "json", no_argument, NULL, 'j' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "pid", required_argument, NULL, O_PID },
		{ "workload", required_argument, NULL, O_WORKLOAD },
		{ "duration", required_argument, NULL, O_DURATION },
		{ "layout", required_argument, NULL, O_LAYOUT },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		/* tests only: a small ring buffer, to make the kernel drop records */
		{ "ringbuf-kb", required_argument, NULL, O_RINGBUF_KB },
		/* configuration keys */
		{ "output", required_argument, NULL, O_KEY },
		{ "syslog", no_argument, NULL, O_KEY },
		{ "journal", no_argument, NULL, O_KEY },
		{ "textfile", required_argument, NULL, O_KEY },
		{ "textfile-interval", required_argument, NULL, O_KEY },
		{ "listen", required_argument, NULL, O_KEY },
		{ "allow-remote", no_argument, NULL, O_KEY },
		{ "fault-rate", required_argument, NULL, O_KEY },
		{ "fault-factor", required_argument, NULL, O_KEY },
		{ "fault-min-rate", required_argument, NULL, O_KEY },
		{ "exec-rate", required_argument, NULL, O_KEY },
		{ "exec-factor", required_argument, NULL, O_KEY },
		{ "exec-min-rate", required_argument, NULL, O_KEY },
		{ "baseline-windows", required_argument, NULL, O_KEY },
		{ "warmup-windows", required_argument, NULL, O_KEY },
		{ "window", required_argument, NULL, O_KEY },
		{ "interval", required_argument, NULL, O_KEY },
		{ "expire", required_argument, NULL, O_KEY },
		{ "lost-events", required_argument, NULL, O_KEY },
		{ "lag", required_argument, NULL, O_KEY },
		{ "max-alerts", required_argument, NULL, O_KEY },
		{ "max-keys", required_argument, NULL, O_KEY },
		{ "disable", required_argument, NULL, O_KEY },
		{ NULL, 0, NULL, 0 },
	};
	struct watch_flag flags[WATCH_MAX_FLAGS];
	unsigned int nflags = 0;
	const char *replay = NULL, *config = NULL, *pattern = NULL;
	bool check_config = false, json = false, quiet = false;
	struct mbec_source_opts so;
	struct workload_opts wo;
	struct watch_config cfg;
	struct watch_opts wopts = { 0 };
	long pid = 0;
	int tail, c, idx, rc;
	char err[600], who[64], *end;

	mbec_source_opts_init(&so);
	opterr = 0;
	optind = 1;
	if (argc == 2 && !strcmp(argv[1], "--list-options"))
		return cli_list_options(long_opts, ":hvjq");
	while ((c = getopt_long(argc, argv, ":hvjq", long_opts, &idx)) != -1) {
		switch (c) {
		case O_REPLAY:
			replay = optarg;
			break;
		case O_CONFIG:
			config = optarg;
			break;
		case O_CHECK_CONFIG:
			check_config = true;
			break;
		case 'j':
			json = true;
			break;
		case 'q':
			quiet = true;
			break;
		case O_PID:
			if (cli_parse_pid("watch", optarg, &pid))
				return EXIT_USAGE;
			break;
		case O_WORKLOAD:
			if (strcmp(optarg, "matrix") && strcmp(optarg, "storm"))
				return cli_usage_error("watch", "--workload is matrix or storm, not '%s'",
						       optarg);
			pattern = optarg;
			break;
		case O_DURATION:
			errno = 0;
			so.duration = strtod(optarg, &end);
			if (errno || end == optarg || *end || !isfinite(so.duration) ||
			    so.duration <= 0 || so.duration > 31536000)
				return cli_usage_error("watch", "--duration wants seconds, more than 0, not '%s'",
						       optarg);
			break;
		case O_LAYOUT:
			if (cli_parse_layout("watch", optarg, &so.layout))
				return EXIT_USAGE;
			break;
		case O_RINGBUF_KB:
			if (cli_parse_ringbuf_kb("watch", optarg, &so.ringbuf_bytes))
				return EXIT_USAGE;
			break;
		case O_KEY:
			if (nflags == WATCH_MAX_FLAGS)
				return cli_usage_error("watch", "too many options");
			flags[nflags].key = long_opts[idx].name;
			flags[nflags].value = long_opts[idx].has_arg ? optarg : "yes";
			nflags++;
			break;
		default:
			tail = cli_opt_tail("watch", c, argv, usage);
			if (tail >= 0)
				return tail;
		}
	}
	if (optind < argc)
		return cli_extra_arg("watch", argv[optind]);
	if (pattern && pid)
		return cli_usage_error("watch", "--workload and --pid exclude each other: the workload's pid is the filter");
	if (replay && (pattern || pid || so.duration > 0))
		return cli_usage_error("watch", "--replay reads a file: --workload, --pid and --duration are for live watching");
	if (watch_config_build(&cfg, config, flags, nflags, err, sizeof(err)))
		return cli_usage_error("watch", "%s", err);
	if (cfg.listen[0] && alert_listen_check(cfg.listen, cfg.allow_remote, err, sizeof(err)))
		return cli_usage_error("watch", "%s", err);
	if (check_config) {
		watch_config_print(&cfg, stdout);
		return EXIT_FINE;
	}
	if (!replay && geteuid() != 0)
		return cli_usage_error("watch", "watching KVM live needs root (BPF and tracepoints); run it as root, or use --replay FILE");
	if (pattern) {
		workload_opts_init(&wo);
		wo.quiet = true;
		wo.duration = so.duration;
		wo.pattern = !strcmp(pattern, "storm") ? WORKLOAD_STORM : WORKLOAD_MATRIX;
		so.workload = &wo;
	}
	so.path = replay;
	so.pid = (uint32_t)pid;
	so.verbose = cli_verbose;
	so.tool = "mbecscope watch";
	so.use = MBEC_LIVE_USE_WATCH;
	wopts.config = config;
	wopts.flags = flags;
	wopts.nflags = nflags;
	wopts.json = json;
	wopts.quiet = quiet;
	snprintf(who, sizeof(who), "%s watch", prog_name);
	wopts.who = who;
	rc = watch_run(&cfg, &wopts, &so, err, sizeof(err));
	return rc < 0 ? cli_usage_error("watch", "%s", err) : rc ? EXIT_ANOMALY : EXIT_FINE;
}
