// SPDX-License-Identifier: GPL-2.0
/*
 * mbecscope record: attach like `check` does and write every record into
 * a recording (src/trace/recording.c) instead of checking it.  What check
 * adds of its own (the built-in workload's guest entries, lost-record
 * markers, the guest's CPU mode) goes into the recording too, so that
 * `replay` of it gives the same checks as `check` of the same run.
 *
 * The file is written in place: the header first, then one chunk at a
 * time (at least once a second).  A recording killed on the way (kill -9,
 * full disk) is valid up to its last complete chunk and replay says where
 * it stops; a failure before anything was recorded removes the file.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check/check.h"
#include "cli/cli.h"
#include "cli/common.h"
#include "cli/json.h"
#include "live/live.h"
#include "source/source.h"
#include "trace/recording.h"
#include "workload/workload.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: %s record -o FILE [--workload [--nested]] [--duration S] [--pid PID] [--layout L]\n"
		"                        [--json] [-v]\n"
		"\n"
		"Attach to KVM's MMU tracepoints like 'check' and write every event to a\n"
		"recording (docs/recording-format.md) for 'mbecscope replay'.\n"
		"\n"
		"  -o, --output FILE  the recording to write ('-': standard output)\n"
		"  --workload         run the built-in guest and record only its events; ends\n"
		"                     when the guest is done\n"
		"  --nested           with --workload: the nested workload ('workload --nested':\n"
		"                     the guest as a hypervisor, one matrix round)\n"
		"  --duration S       stop after S seconds (with --workload: repeat the matrix\n"
		"                     for S seconds); default: until SIGINT/SIGTERM\n"
		"  --pid PID          record only the VMM process PID\n"
		"  --layout L         KVM ABI written in the header: classic, mbec or auto\n"
		"                     (auto: the role layout read from BTF)\n"
		"  --json             print what was written as one JSON document\n"
		"  -v, --verbose      libbpf diagnostics\n"
		"\n"
		"A recording cut short (kill -9, full disk) is valid up to its last complete\n"
		"chunk; chunks are written at least once a second.\n"
		"Exit status: 0 recorded, 2 usage or environment error (not root, no BTF,\n"
		"no KVM, cannot write FILE).\n", prog_name);
}

/*
 * The check engine runs while recording, exactly as in check, for one
 * reason: what it reads from VMM memory (guest entries behind prefetched
 * SPTEs) must go into the recording, so that replay can give it the same
 * bytes.  Its verdicts are not printed.
 */
struct record_run {
	struct mbec_source *src;
	struct mbec_rec_writer *w;
	struct mbec_check *engine;
	bool failed;
	uint64_t dropped_seen;
	double last_flush;
};

/*
 * Feed first, then write: memory read while feeding goes in before the
 * record (the source hands each read on as a GUEST_MEM record).
 */
static int on_record(void *ctx, const void *rec, size_t len)
{
	struct record_run *run = ctx;
	const struct mbec_event_hdr *h = rec;

	if (run->failed)
		return 1;
	if (run->engine && h->type != MBEC_EV_GUEST_MEM)
		mbec_check_feed(run->engine, rec, len);
	if (run->failed)
		return 1;
	if (mbec_rec_write(run->w, rec, len)) {
		run->failed = true;
		return 1;
	}
	return 0;
}

/* After each poll: drops become LOST records; a chunk at least once a second. */
static int on_tick(void *ctx)
{
	struct record_run *run = ctx;
	const struct mbec_counter *k = mbec_source_counters(run->src);
	double now = cli_now_s();
	int i;

	if (k) {
		uint64_t d = 0;

		for (i = 0; i < MBEC_EV_MAX; i++)
			d += k[i].dropped;
		if (d > run->dropped_seen) {
			struct mbec_ev_lost l = { .hdr = { .type = MBEC_EV_LOST,
							   .size = sizeof(l) } };

			l.count = d - run->dropped_seen;
			l.hdr.vcpu_id = MBEC_VCPU_UNKNOWN;
			on_record(run, &l, sizeof(l));
			run->dropped_seen = d;
		}
	}
	if (now - run->last_flush >= 1.0) {
		if (mbec_rec_flush(run->w))
			run->failed = true;
		run->last_flush = now;
	}
	return run->failed;
}

/* Only now create the file, so that no failure before leaves one. */
static int create_out(const char *out, bool *created)
{
	int fd;

	*created = false;
	if (!strcmp(out, "-"))
		return 1;
	/* Only a file this run created is removed again on failure. */
	fd = open(out, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd >= 0)
		*created = true;
	else if (errno == EEXIST)
		fd = open(out, O_WRONLY | O_TRUNC | O_CLOEXEC);
	return fd;
}

/*
 * The kernel's counters written into the end chunk, under check's names:
 * replay of the file must give these, and only a run's own counters can
 * say so (how many exits the kernel skipped depends on how long it ran).
 */
static void json_kernel_counters(struct json_writer *jw, const struct mbec_counter *k)
{
	unsigned int i;

	json_key(jw, "events");
	if (!k) {
		json_null(jw);
		return;
	}
	json_obj_begin(jw);
	for (i = 1; i < MBEC_EV_MAX; i++) {
		if (!k[i].seen)
			continue;
		json_key(jw, mbec_event_name(i));
		json_obj_begin(jw);
		json_kv_u64(jw, "kernel_seen", k[i].seen);
		json_kv_u64(jw, "kernel_dropped", k[i].dropped);
		json_obj_end(jw);
	}
	json_obj_end(jw);
}

static void print_result(struct mbec_source *src, const char *out, int fd,
			 uint64_t records, bool json, int wl_status)
{
	const struct mbec_rec_info *info = mbec_source_info(src);
	bool to_stdout = !strcmp(out, "-");
	char attach[512];

	mbec_live_attach_line(mbec_source_attach(src), attach, sizeof(attach));
	if (json) {
		struct json_writer jw;
		off_t size = lseek(fd, 0, SEEK_END);

		json_init(&jw, stdout, false);
		json_obj_begin(&jw);
		json_kv_str(&jw, "file", out);
		json_kv_u64(&jw, "records", records);
		json_kv_u64(&jw, "bytes", size > 0 ? (uint64_t)size : 0);
		json_kv_str(&jw, "layout", mbec_layout_name(info->abi));
		json_kv_bool(&jw, "workload", mbec_source_workload_layout(src) != NULL);
		json_kv_str(&jw, "attach", attach);
		json_kernel_counters(&jw, mbec_source_counters(src));
		if (info->pid)
			json_kv_u64(&jw, "pid", info->pid);
		else
			json_kv_str(&jw, "pid", NULL);
		if (wl_status >= 0)
			json_kv_s64(&jw, "workload_status", wl_status);
		json_obj_end(&jw);
		json_finish(&jw);
	} else {
		fprintf(to_stdout ? stderr : stdout, "mbecscope record: %llu records written to %s; "
			"check them with '%s replay %s'\n", (unsigned long long)records,
			to_stdout ? "standard output" : out, prog_name, to_stdout ? "-" : out);
		fprintf(to_stdout ? stderr : stdout, "tracepoints: %s\n", attach);
	}
}

int cmd_record(int argc, char **argv)
{
	static const struct option long_opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "workload", no_argument, NULL, 'w' },
		{ "nested", no_argument, NULL, 'N' },
		{ "duration", required_argument, NULL, 'd' },
		{ "pid", required_argument, NULL, 'p' },
		{ "layout", required_argument, NULL, 'l' },
		{ "json", no_argument, NULL, 'j' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct mbec_source_opts so;
	struct workload_opts wo;
	struct record_run run = { 0 };
	struct mbec_check_opts copts = { 0 };
	const char *out = NULL;
	bool workload = false, nested = false, json = false, created = false;
	int tail, c, fd = -1, wl_status, rc = EXIT_FINE;
	long pid = 0;
	char err[320];
	uint64_t records;

	mbec_source_opts_init(&so);
	opterr = 0;
	optind = 1;
	if (argc == 2 && !strcmp(argv[1], "--list-options"))
		return cli_list_options(long_opts, ":ho:vj");
	while ((c = getopt_long(argc, argv, ":ho:vj", long_opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			out = optarg;
			break;
		case 'w':
			workload = true;
			break;
		case 'N':
			nested = true;
			break;
		case 'd':
			if (cli_parse_duration("record", optarg, &so.duration))
				return EXIT_USAGE;
			break;
		case 'p':
			if (cli_parse_pid("record", optarg, &pid))
				return EXIT_USAGE;
			break;
		case 'l':
			if (cli_parse_layout("record", optarg, &so.layout))
				return EXIT_USAGE;
			break;
		case 'j':
			json = true;
			break;
		default:
			tail = cli_opt_tail("record", c, argv, usage);
			if (tail >= 0)
				return tail;
		}
	}
	if (optind < argc)
		return cli_extra_arg("record", argv[optind]);
	if (!out)
		return cli_usage_error("record", "where to? give -o FILE; try '%s record --help'",
				       prog_name);
	if (workload && pid)
		return cli_usage_error("record", "--workload and --pid exclude each other: the "
				       "workload's pid is the filter");
	if (!strcmp(out, "-") && json)
		return cli_usage_error("record", "--json prints to standard output: write the "
				       "recording to a file (-o FILE)");
	if (nested && (!workload || so.duration > 0))
		return cli_usage_error("record", "--nested goes with --workload and runs one round: "
				       "add --workload, drop --duration");
	workload_opts_init(&wo);
	wo.nested = nested;
	wo.quiet = true;
	wo.duration = so.duration;
	so.pid = (uint32_t)pid;
	so.workload = workload ? &wo : NULL;
	so.verbose = cli_verbose > 0;
	so.guest_mem_records = true;
	so.tool = "mbecscope record";
	so.use = MBEC_LIVE_USE_RECORD;

	/* Before attaching, as check does: a signal during the load still ends cleanly. */
	mbec_catch_signals(MBEC_HUP_DEFAULT);
	if (mbec_source_open(&run.src, &so, err, sizeof(err)))
		return cli_usage_error("record", "%s", err);
	fd = create_out(out, &created);
	if (fd < 0) {
		rc = cli_usage_error("record", "cannot create %s: %s", out, strerror(errno));
		goto out;
	}
	run.w = mbec_rec_writer_open(fd, mbec_source_info(run.src), 0, err, sizeof(err));
	if (!run.w) {
		rc = cli_usage_error("record", "%s: %s", out, err);
		goto fail;
	}
	mbec_source_check_opts(run.src, &copts);
	run.engine = mbec_check_new(&copts);
	if (!run.engine) {
		rc = cli_usage_error("record", "out of memory");
		goto fail;
	}
	signal(SIGPIPE, SIG_IGN);
	if (mbec_source_start(run.src, on_record, &run, err, sizeof(err))) {
		rc = run.failed ? cli_usage_error("record", "%s: %s", out,
						  mbec_rec_writer_error(run.w)) :
		     cli_usage_error("record", "%s", err);
		goto fail;
	}
	run.last_flush = cli_now_s();
	mbec_source_run(run.src, 100, on_tick, &run);
	mbec_source_finish(run.src);
	/* Transactions still open are checked now: their reads go in too. */
	mbec_check_finish(run.engine);
	wl_status = mbec_source_workload_status(run.src, NULL);

	records = mbec_rec_writer_records(run.w);
	if (run.failed) {
		/* The file is valid up to its last complete chunk: say which. */
		rc = cli_usage_error("record", "%s: %s", out, mbec_rec_writer_error(run.w));
		mbec_rec_writer_abort(run.w);
		run.w = NULL;
		goto out;
	}
	if (mbec_rec_writer_close(run.w, mbec_source_counters(run.src), err, sizeof(err))) {
		run.w = NULL;
		rc = cli_usage_error("record", "%s: %s", out, err);
		goto out;
	}
	run.w = NULL;
	if (strcmp(out, "-") && fsync(fd) && errno != EINVAL) {
		rc = cli_usage_error("record", "%s: %s", out, strerror(errno));
		goto out;
	}
	print_result(run.src, out, fd, records, json, wl_status);
	if (wl_status == 2)
		rc = cli_usage_error("record", "the workload failed to run (status 2)");
	goto out;
fail:
	/* Nothing was recorded: no file is left. */
	if (run.w)
		mbec_rec_writer_abort(run.w);
	run.w = NULL;
	if (created)
		unlink(out);
out:
	if (run.w)
		mbec_rec_writer_abort(run.w);
	mbec_check_free(run.engine);
	mbec_source_free(run.src);
	if (fd > 1)
		close(fd);
	return rc;
}
