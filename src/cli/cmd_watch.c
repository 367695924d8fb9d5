// SPDX-License-Identifier: GPL-2.0
/*
 * mbecscope watch: the alerting daemon.  Records from the live ring
 * buffer (or a recording / ftrace text with --replay) go to the check
 * engine and to the rule engine (src/alert); alerts go to the sinks
 * (stdout, a JSON lines file, syslog) and metrics to a node_exporter
 * textfile and an optional HTTP endpoint.
 *
 * Signals: SIGHUP reopens the JSON lines file and re-reads the
 * configuration file (thresholds; a bad file is reported and the old
 * settings kept); SIGTERM and SIGINT flush everything and exit 0.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "alert/alert.h"
#include "alert/sinks.h"
#include "check/check.h"
#include "cli/cli.h"
#include "cli/common.h"
#include "live/kvm_env.h"
#include "cli/json.h"
#include "live/btf_layout.h"
#include "live/guest.h"
#include "live/live.h"
#include "mbec_arch.h"
#include "trace/source.h"
#include "workload/workload.h"

static volatile sig_atomic_t stop_requested, hup_requested;

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		hup_requested = 1;
	else
		stop_requested = 1;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: %s watch [--replay FILE] [--config FILE] [--json] [--output FILE]\n"
		"       [--syslog] [--textfile FILE] [--listen [ADDR:]PORT [--allow-remote]]\n"
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

struct watch_run {
	struct watch_config cfg;
	struct alert_engine *alerts;
	struct mbec_check *check;
	struct alert_sinks sinks;
	struct alert_http *http;
	struct prom_info pi;
	const struct mbec_counter *kernel;
	uint64_t batch_min_ts;
	bool batch_any;
};

static void on_alert(void *ctx, const struct alert *a)
{
	struct watch_run *run = ctx;

	alert_sinks_emit(&run->sinks, a);
}

static void on_anomaly(void *ctx, const struct mbec_anomaly *a)
{
	struct watch_run *run = ctx;

	alert_anomaly(run->alerts, a);
}

static int on_record(void *ctx, const void *rec, size_t len)
{
	struct watch_run *run = ctx;
	const struct mbec_event_hdr *h = rec;

	if (len >= sizeof(*h) && h->ts_ns && (!run->batch_any || h->ts_ns < run->batch_min_ts)) {
		run->batch_min_ts = h->ts_ns;
		run->batch_any = true;
	}
	/* Time moves in the rule engine first: anomalies found by this record land after it. */
	alert_feed(run->alerts, rec, len);
	mbec_check_feed(run->check, rec, len);
	return 0;
}

/* Render the metrics; write the textfile and/or hand the page to the HTTP server. */
static int publish(struct watch_run *run, bool textfile, char *err, size_t errlen)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	int ret = 0;

	if (!f) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	run->pi.check = mbec_check_summary(run->check);
	run->pi.kernel = run->kernel;
	alert_prom_render(f, run->alerts, &run->pi);
	if (fclose(f)) {
		free(buf);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (textfile && run->cfg.textfile[0])
		ret = alert_textfile_write(run->cfg.textfile, buf, len, err, errlen);
	if (run->http)
		alert_http_set(run->http, buf, len);
	free(buf);
	return ret;
}

/* Flags that are configuration keys, applied after the configuration file. */
struct flag_set {
	const char *key;
	const char *value;
};

#define MAX_FLAGS 64

static int load_config(struct watch_config *c, const char *path, const struct flag_set *fl,
		       unsigned int nfl, char *err, size_t errlen)
{
	char msg[400];
	unsigned int i;

	watch_config_init(c);
	if (path && watch_config_load(c, path, err, errlen))
		return -1;
	for (i = 0; i < nfl; i++) {
		if (watch_config_set(c, fl[i].key, fl[i].value, msg, sizeof(msg))) {
			snprintf(err, errlen, "--%s", msg);
			return -1;
		}
	}
	return 0;
}

static void end_line(struct watch_run *run, bool json)
{
	const struct alert_stats *st = alert_engine_stats(run->alerts);
	uint64_t fired = 0;
	int r;

	for (r = 0; r < ALERT_R_NR; r++)
		fired += st->fired[r];
	if (!run->sinks.out)
		return;
	if (json) {
		struct json_writer jw;

		json_init(&jw, run->sinks.out, false);
		json_obj_begin(&jw);
		json_kv_str(&jw, "type", "end");
		json_kv_u64(&jw, "records", st->records);
		json_kv_u64(&jw, "alerts", fired);
		json_kv_u64(&jw, "suppressed", st->suppressed);
		json_kv_u64(&jw, "summaries", st->summaries);
		json_kv_u64(&jw, "anomalies", mbec_check_summary(run->check)->anomalies_total);
		json_kv_u64(&jw, "lost_records", st->lost_records);
		json_key(&jw, "fired");
		json_obj_begin(&jw);
		for (r = 0; r < ALERT_R_NR; r++)
			if (st->fired[r])
				json_kv_u64(&jw, alert_rule_name(r), st->fired[r]);
		json_obj_end(&jw);
		json_obj_end(&jw);
		json_finish(&jw);
	} else {
		fprintf(run->sinks.out, "watch: %llu records, %llu alerts fired, %llu suppressed, %llu summaries, %llu anomalies\n",
			(unsigned long long)st->records,
			(unsigned long long)fired, (unsigned long long)st->suppressed,
			(unsigned long long)st->summaries,
			(unsigned long long)mbec_check_summary(run->check)->anomalies_total);
	}
	fflush(run->sinks.out);
}

/* SIGHUP: reopen the JSON lines file, re-read the configuration. */
static void on_hup(struct watch_run *run, const char *config, const struct flag_set *fl,
		   unsigned int nfl)
{
	struct watch_config c;
	char err[600];

	if (alert_sinks_reopen(&run->sinks, err, sizeof(err)))
		alert_sinks_note(&run->sinks, "%s", err);
	if (!config)
		return;
	if (load_config(&c, config, fl, nfl, err, sizeof(err))) {
		alert_sinks_note(&run->sinks, "SIGHUP: %s; keeping the settings in effect", err);
		return;
	}
	c.rules.spte_ept = run->cfg.rules.spte_ept;
	alert_engine_set_config(run->alerts, &c.rules);
	run->cfg.rules = c.rules;
	alert_sinks_note(&run->sinks, "SIGHUP: reopened the output, reloaded %s", config);
}

/* The sinks and engines both modes share; 0, or -1 with one line in err. */
static int run_open(struct watch_run *run, const struct mbec_check_opts *copts, bool json,
		    bool quiet, char *err, size_t errlen)
{
	run->sinks.out = quiet ? NULL : stdout;
	run->sinks.out_json = json;
	snprintf(run->sinks.json_path, sizeof(run->sinks.json_path), "%s", run->cfg.json_path);
	run->sinks.syslog = run->cfg.syslog;
	/* Live, a failed write is said when it happens; replay says it at the end. */
	run->sinks.say_at_once = !strcmp(run->pi.mode, "live");
	run->pi.start_time = cli_clock_ns(CLOCK_REALTIME) / 1e9;
	run->alerts = alert_engine_new(&run->cfg.rules, on_alert, run);
	run->check = mbec_check_new(copts);
	if (!run->alerts || !run->check) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	mbec_check_on_anomaly(run->check, on_anomaly, run);
	if (alert_sinks_open(&run->sinks, err, errlen))
		return -1;
	if (run->cfg.listen[0] &&
	    alert_http_start(&run->http, run->cfg.listen, run->cfg.allow_remote, err, errlen))
		return -1;
	return 0;
}

/* 0, or -1 with one line in err when alert lines could not be written. */
static int run_close(struct watch_run *run, char *err, size_t errlen)
{
	int ret;

	alert_http_stop(run->http);
	ret = alert_sinks_close(&run->sinks, err, errlen);
	mbec_check_free(run->check);
	alert_engine_free(run->alerts);
	return ret;
}

static uint64_t fired_total(const struct watch_run *run)
{
	const struct alert_stats *st = alert_engine_stats(run->alerts);
	uint64_t n = st->suppressed;
	int r;

	for (r = 0; r < ALERT_R_NR; r++)
		n += st->fired[r];
	return n;
}

/*
 * --replay: the same engines over a recording or ftrace text.  Time is
 * the file's; a recording's header gives the wall clock of its start, so
 * alerts carry the UTC time they would have had live.
 */
static int watch_replay(struct watch_run *run, const char *path, const char *config, bool json,
			bool quiet)
{
	struct trace_source_opts so = { .layout = MBEC_LAYOUT_UNKNOWN, .spte_ept = -1 };
	struct mbec_check_opts copts = { 0 };
	const struct mbec_rec_info *info;
	const struct mbec_event_hdr *h;
	struct trace_source *src = NULL;
	char err[600];
	int r, rc;

	if (trace_source_open(&src, path, &so, err, sizeof(err)))
		return cli_usage_error("watch", "%s: %s", path, err);
	info = trace_source_info(src);
	cli_check_opts_from_info(&copts, info);
	run->cfg.rules.spte_ept = copts.spte_ept;
	if (!trace_source_is_text(src) && info->created_ns && info->start_mono_ns) {
		run->sinks.has_real = true;
		run->sinks.real_offset_ns = (int64_t)(info->created_ns - info->start_mono_ns);
	}
	run->pi.mode = "replay";
	run->pi.source = path;
	run->pi.config = config ? config : "";
	if (run_open(run, &copts, json, quiet, err, sizeof(err))) {
		run_close(run, NULL, 0);
		trace_source_free(src);
		return cli_usage_error("watch", "%s", err);
	}
	while ((r = trace_source_next(src, &h)) > 0)
		on_record(run, h, h->size);
	mbec_check_finish(run->check);
	alert_finish(run->alerts);
	if (publish(run, true, err, sizeof(err))) {
		run_close(run, NULL, 0);
		trace_source_free(src);
		return cli_usage_error("watch", "%s", err);
	}
	end_line(run, json);
	rc = fired_total(run) ? EXIT_ANOMALY : EXIT_FINE;
	if (trace_source_problem(src)[0]) {
		fprintf(stderr, "%s watch: %s: %s%s\n", prog_name, path, trace_source_problem(src),
			trace_source_damaged(src) ? "" : " (warning)");
		if (trace_source_damaged(src))
			rc = EXIT_USAGE;
	}
	if (run_close(run, err, sizeof(err)))
		rc = cli_usage_error("watch", "%s", err);
	trace_source_free(src);
	return rc;
}

int cmd_watch(int argc, char **argv)
{
	struct live_kvm_env kvm;
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
	struct flag_set flags[MAX_FLAGS];
	unsigned int nflags = 0;
	const char *replay = NULL, *config = NULL, *pattern = NULL;
	enum mbec_layout layout = MBEC_LAYOUT_UNKNOWN;
	bool check_config = false, json = false, quiet = false, have_rl = false;
	struct watch_run run;
	struct mbec_check_opts copts = { 0 };
	struct mbec_live_opts lopts = { 0 };
	struct mbec_counter kernel[MBEC_EV_MAX];
	struct workload_child child = { .pid = -1, .go_fd = -1 };
	struct mbec_live *live = NULL;
	struct role_layout rl;
	struct workload_layout *wl;
	struct mbec_vmm_mem mem = MBEC_VMM_MEM_INIT;
	struct sigaction sa = { .sa_handler = on_signal };
	double duration = 0, t0, last_text = 0, last_http = 0;
	uint64_t fired;
	long pid = 0;
	int c, idx, rc = EXIT_FINE, ret;
	char err[600], *end;
	bool signalled;

	memset(&run, 0, sizeof(run));
	memset(kernel, 0, sizeof(kernel));
	opterr = 0;
	optind = 1;
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
			duration = strtod(optarg, &end);
			if (errno || end == optarg || *end || !isfinite(duration) || duration <= 0 ||
			    duration > 31536000)
				return cli_usage_error("watch", "--duration wants seconds, more than 0, not '%s'",
						       optarg);
			break;
		case O_LAYOUT:
			if (cli_parse_layout("watch", optarg, &layout))
				return EXIT_USAGE;
			break;
		case O_RINGBUF_KB: {
			unsigned long kb = strtoul(optarg, &end, 10);

			if (*end || kb < 4 || kb > (1UL << 20) || (kb & (kb - 1)))
				return cli_usage_error("watch", "--ringbuf-kb wants a power of two from 4 to 1048576, not '%s'",
						       optarg);
			lopts.ringbuf_bytes = kb << 10;
			break;
		}
		case O_KEY:
			if (nflags == MAX_FLAGS)
				return cli_usage_error("watch", "too many options");
			flags[nflags].key = long_opts[idx].name;
			flags[nflags].value = long_opts[idx].has_arg ? optarg : "yes";
			nflags++;
			break;
		case 'v':
			cli_verbose++;
			break;
		case 'h':
			usage(stdout);
			return EXIT_FINE;
		default:
			return cli_getopt_error("watch", c, argv);
		}
	}
	if (optind < argc)
		return cli_extra_arg("watch", argv[optind]);
	if (pattern && pid)
		return cli_usage_error("watch", "--workload and --pid exclude each other: the workload's pid is the filter");
	if (replay && (pattern || pid || duration > 0))
		return cli_usage_error("watch", "--replay reads a file: --workload, --pid and --duration are for live watching");
	if (load_config(&run.cfg, config, flags, nflags, err, sizeof(err)))
		return cli_usage_error("watch", "%s", err);
	if (run.cfg.listen[0] &&
	    alert_listen_check(run.cfg.listen, run.cfg.allow_remote, err, sizeof(err)))
		return cli_usage_error("watch", "%s", err);
	if (check_config) {
		watch_config_print(&run.cfg, stdout);
		return EXIT_FINE;
	}
	if (replay)
		return watch_replay(&run, replay, config, json, quiet);

	/* The ABI layout: from BTF unless the user says. */
	if (layout == MBEC_LAYOUT_UNKNOWN) {
		if (role_layout_from_btf(NULL, &rl, err, sizeof(err)))
			return cli_usage_error("watch", "%s", err);
		have_rl = true;
		copts.layout = rl.abi;
		copts.role = &rl;
	} else {
		copts.layout = layout;
	}
	(void)have_rl;
	live_kvm_env_at("", &kvm);
	copts.spte_ept = kvm.vendor == LIVE_KVM_INTEL && kvm.tdp;
	copts.mbec = copts.layout == MBEC_LAYOUT_MBEC && kvm.mbec;
	run.cfg.rules.spte_ept = copts.spte_ept;

	if (geteuid() != 0)
		return cli_usage_error("watch", "watching KVM live needs root (BPF and tracepoints); run it as root, or use --replay FILE");
	if (pattern) {
		struct workload_opts wo;

		workload_opts_init(&wo);
		wo.quiet = true;
		wo.duration = duration;
		wo.pattern = !strcmp(pattern, "storm") ? WORKLOAD_STORM : WORKLOAD_MATRIX;
		/* Root here (checked above): the workload is spawned. */
		if (cli_workload_spawn("watch", &wo, &wl, &child))
			return EXIT_USAGE;
		pid = child.pid;
		/* The guest's registers: the mode its shadow pages' roles must match. */
		copts.expect_mode_valid = true;
		mbec_workload_mode(wl, &copts.expect_mode);
		workload_layout_free(wl);
	}
	/* Guest entries behind prefetched SPTEs, so those SPTEs are checked fully. */
	copts.guest.read_mem = mbec_vmm_mem_read;
	copts.guest.ctx = &mem;

	/* Sinks and endpoints first: a bad path or port fails before anything runs. */
	run.sinks.has_real = true;
	run.sinks.real_offset_ns = (int64_t)(cli_clock_ns(CLOCK_REALTIME) - cli_clock_ns(CLOCK_MONOTONIC));
	run.pi.mode = "live";
	run.pi.source = pattern ? "kernel (built-in workload)" : "kernel";
	run.pi.config = config ? config : "";
	ret = -1;
	if (run_open(&run, &copts, json, quiet, err, sizeof(err)))
		goto fail;
	if (publish(&run, true, err, sizeof(err)))
		goto fail;

	lopts.pid = (pid_t)pid;
	lopts.use = MBEC_LIVE_USE_WATCH;
	lopts.verbose = cli_verbose;
	lopts.need_kvm_dev = pattern != NULL;
	lopts.on_event = on_record;
	lopts.ctx = &run;
	if (mbec_live_open(&live, &lopts, err, sizeof(err)))
		goto fail;
	ret = 0;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (child.pid > 0 && workload_start(&child)) {
		snprintf(err, sizeof(err), "cannot start the workload");
		ret = -1;
		goto fail;
	}
	run.kernel = kernel;
	t0 = cli_clock_ns(CLOCK_MONOTONIC) / 1e9;
	while (!stop_requested) {
		uint64_t now;
		double now_s;

		if (hup_requested) {
			hup_requested = 0;
			on_hup(&run, config, flags, nflags);
		}
		run.batch_any = false;
		ret = mbec_live_poll(live, 100);
		if (ret < 0 && ret != -EINTR) {
			alert_sinks_note(&run.sinks, "reading the ring buffer failed: %s",
					 strerror(-ret));
			break;
		}
		now = cli_clock_ns(CLOCK_MONOTONIC);
		if (run.batch_any)
			alert_lag(run.alerts, now, now > run.batch_min_ts ? now - run.batch_min_ts : 0);
		/* Drops arrive as LOST records in the stream (the BPF side writes them). */
		mbec_live_counters(live, kernel);
		alert_tick(run.alerts, now);
		now_s = now / 1e9;
		if (run.cfg.textfile[0] && now_s - last_text >= run.cfg.textfile_every_s) {
			last_text = now_s;
			if (publish(&run, true, err, sizeof(err)))
				alert_sinks_note(&run.sinks, "%s", err);
			last_http = now_s;
		} else if (run.http && now_s - last_http >= 1) {
			last_http = now_s;
			publish(&run, false, err, sizeof(err));
		}
		if (child.pid > 0) {
			int st;

			if (waitpid(child.pid, &st, WNOHANG) == child.pid) {
				child.pid = -1;
				if (!WIFEXITED(st) || WEXITSTATUS(st) == 2)
					alert_sinks_note(&run.sinks, "the workload failed (status %d)",
							 WIFEXITED(st) ? WEXITSTATUS(st) : -1);
				break;
			}
		} else if (duration > 0 && now_s - t0 >= duration) {
			break;
		}
	}
	signalled = stop_requested;
	/* What is still in the ring buffer, then the open windows and interval. */
	while (mbec_live_poll(live, 0) > 0)
		;
	mbec_live_counters(live, kernel);
	if (child.pid > 0)
		workload_kill(&child);
	mbec_live_close(live);
	live = NULL;
	mbec_check_finish(run.check);
	alert_finish(run.alerts);
	if (publish(&run, true, err, sizeof(err)))
		alert_sinks_note(&run.sinks, "%s", err);
	end_line(&run, json);
	fired = fired_total(&run);
	rc = signalled || !fired ? EXIT_FINE : EXIT_ANOMALY;
	ret = 0;
fail:
	if (ret) {
		if (child.pid > 0)
			workload_kill(&child);
		mbec_live_close(live);
		run_close(&run, NULL, 0);
		mbec_vmm_mem_close(&mem);
		return cli_usage_error("watch", "%s", err);
	}
	if (run_close(&run, err, sizeof(err)))
		rc = cli_usage_error("watch", "%s", err);
	mbec_vmm_mem_close(&mem);
	return rc;
}
