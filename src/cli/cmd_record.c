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
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "check/check.h"
#include "cli/cli.h"
#include "cli/common.h"
#include "live/kvm_env.h"
#include "cli/json.h"
#include "live/btf_layout.h"
#include "live/guest.h"
#include "live/live.h"
#include "trace/recording.h"
#include "workload/workload.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: %s record -o FILE [--workload] [--duration S] [--pid PID] [--layout L]\n"
		"                        [--json] [-v]\n"
		"\n"
		"Attach to KVM's MMU tracepoints like 'check' and write every event to a\n"
		"recording (docs/recording-format.md) for 'mbecscope replay'.\n"
		"\n"
		"  -o, --output FILE  the recording to write ('-': standard output)\n"
		"  --workload         run the built-in guest and record only its events; ends\n"
		"                     when the guest is done\n"
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
	struct mbec_rec_writer *w;
	struct mbec_check *engine;
	struct mbec_vmm_mem mem;
	bool failed;
};

static int write_rec(struct record_run *run, const void *rec, size_t len)
{
	if (run->failed)
		return 1;
	if (mbec_rec_write(run->w, rec, len)) {
		run->failed = true;
		return 1;
	}
	return 0;
}

/* The engine's read of VMM memory: read it, and record what was read. */
static int read_vmm_mem(void *ctx, uint32_t pid, uint64_t hva, uint64_t *val)
{
	struct record_run *run = ctx;
	struct mbec_ev_guest_mem g;

	if (mbec_vmm_mem_read(&run->mem, pid, hva, val))
		return -1;
	memset(&g, 0, sizeof(g));
	g.hdr.type = MBEC_EV_GUEST_MEM;
	g.hdr.size = sizeof(g);
	g.hdr.pid = pid;
	g.hdr.vcpu_id = MBEC_VCPU_UNKNOWN;
	g.hva = hva;
	g.val = *val;
	write_rec(run, &g, sizeof(g));
	return 0;
}

/* Feed first, then write: memory read while feeding goes in before the record. */
static int on_record(void *ctx, const void *rec, size_t len)
{
	struct record_run *run = ctx;

	if (run->failed)
		return 1;
	if (run->engine)
		mbec_check_feed(run->engine, rec, len);
	return write_rec(run, rec, len);
}

int cmd_record(int argc, char **argv)
{
	struct live_kvm_env kvm;
	static const struct option long_opts[] = {
		{ "output", required_argument, NULL, 'o' },
		{ "workload", no_argument, NULL, 'w' },
		{ "duration", required_argument, NULL, 'd' },
		{ "pid", required_argument, NULL, 'p' },
		{ "layout", required_argument, NULL, 'l' },
		{ "json", no_argument, NULL, 'j' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct mbec_live_opts lopts = { 0 };
	struct mbec_counter kernel[MBEC_EV_MAX];
	struct workload_child child = { .pid = -1, .go_fd = -1 };
	struct workload_layout *wl = NULL;
	struct mbec_live_attach at[MBEC_LIVE_NR_TP];	/* a copy: the summary is after close */
	char attach[512];
	struct mbec_rec_info info;
	struct record_run run = { .mem = MBEC_VMM_MEM_INIT };
	struct mbec_check_opts copts = { 0 };
	struct role_layout rl;
	struct mbec_live *live = NULL;
	struct utsname uts;
	const char *out = NULL;
	enum mbec_layout layout = MBEC_LAYOUT_UNKNOWN;
	bool workload = false, json = false, to_stdout, created = false;
	double duration = 0, t0, last_flush;
	int c, i, fd = -1, wl_status = -1, rc = EXIT_FINE;
	long pid = 0;
	char err[320];
	uint64_t dropped_seen = 0, records;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":ho:vj", long_opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			out = optarg;
			break;
		case 'w':
			workload = true;
			break;
		case 'd':
			if (cli_parse_duration("record", optarg, &duration))
				return EXIT_USAGE;
			break;
		case 'p':
			if (cli_parse_pid("record", optarg, &pid))
				return EXIT_USAGE;
			break;
		case 'l':
			if (cli_parse_layout("record", optarg, &layout))
				return EXIT_USAGE;
			break;
		case 'j':
			json = true;
			break;
		case 'v':
			cli_verbose++;
			break;
		case 'h':
			usage(stdout);
			return EXIT_FINE;
		default:
			return cli_getopt_error("record", c, argv);
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
	if (pid && cli_pid_exists("record", pid))
		return EXIT_USAGE;
	to_stdout = !strcmp(out, "-");
	if (to_stdout && json)
		return cli_usage_error("record", "--json prints to standard output: write the "
				       "recording to a file (-o FILE)");

	memset(&info, 0, sizeof(info));
	if (layout == MBEC_LAYOUT_UNKNOWN) {
		if (role_layout_from_btf(NULL, &rl, err, sizeof(err)))
			return cli_usage_error("record", "%s", err);
		mbec_rec_info_set_role(&info, &rl, true);
	} else {
		const struct role_layout *b = role_layout_builtin(layout);

		mbec_rec_info_set_role(&info, b, false);
		if (!uname(&uts))
			snprintf(info.role.release, sizeof(info.role.release), "%s", uts.release);
		snprintf(info.role.source, sizeof(info.role.source), "built-in, from --layout");
	}
	live_kvm_env_at("", &kvm);
	if (kvm.vendor == LIVE_KVM_INTEL && kvm.tdp)
		info.flags |= MBEC_REC_F_SPTE_EPT;
	if (info.abi == MBEC_LAYOUT_MBEC && kvm.mbec)
		info.flags |= MBEC_REC_F_MBEC;
	snprintf(info.tool, sizeof(info.tool), "mbecscope record");

	if (workload) {
		struct workload_opts wo;

		workload_opts_init(&wo);
		wo.quiet = true;
		wo.duration = duration;
		if (cli_workload_spawn("record", &wo, &wl, &child))
			return EXIT_USAGE;
		pid = child.pid;
		/* The guest's CPU mode, from its registers, as check takes it. */
		info.flags |= MBEC_REC_F_WORKLOAD;
		info.has_mode = true;
		mbec_workload_mode(wl, &info.mode);
	}
	info.pid = (uint32_t)pid;

	lopts.pid = (pid_t)pid;
	lopts.use = MBEC_LIVE_USE_RECORD;
	lopts.verbose = cli_verbose > 0;
	lopts.need_kvm_dev = workload;
	lopts.on_event = on_record;
	lopts.ctx = &run;
	/* Before attaching, as check does: a signal during the load still ends cleanly. */
	cli_catch_stop(false);
	if (mbec_live_open(&live, &lopts, err, sizeof(err))) {
		if (child.pid > 0)
			workload_kill(&child);
		workload_layout_free(wl);
		return cli_usage_error("record", "%s", err);
	}
	memcpy(at, mbec_live_attach_state(live), sizeof(at));
	for (i = 0; i < MBEC_LIVE_NR_TP && i < MBEC_REC_MAX_TP; i++) {
		snprintf(info.tp[i].name, sizeof(info.tp[i].name), "%s", at[i].tracepoint);
		snprintf(info.tp[i].how, sizeof(info.tp[i].how), "%s", at[i].how);
	}
	info.nr_tp = (unsigned int)i;

	/* Attached: only now create the file, so that no failure above leaves one. */
	if (to_stdout) {
		fd = 1;
	} else {
		/* Only a file this run created is removed again on failure. */
		fd = open(out, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
		if (fd >= 0)
			created = true;
		else if (errno == EEXIST)
			fd = open(out, O_WRONLY | O_TRUNC | O_CLOEXEC);
		if (fd < 0) {
			rc = cli_usage_error("record", "cannot create %s: %s", out, strerror(errno));
			goto out;
		}
	}
	info.created_ns = cli_clock_ns(CLOCK_REALTIME);
	info.start_mono_ns = cli_clock_ns(CLOCK_MONOTONIC);
	run.w = mbec_rec_writer_open(fd, &info, 0, err, sizeof(err));
	if (!run.w) {
		rc = cli_usage_error("record", "%s: %s", out, err);
		if (created)
			unlink(out);
		goto out;
	}
	cli_check_opts_from_info(&copts, &info);
	copts.guest.read_mem = read_vmm_mem;
	copts.guest.ctx = &run;
	run.engine = mbec_check_new(&copts);
	if (!run.engine) {
		rc = cli_usage_error("record", "out of memory");
		mbec_rec_writer_abort(run.w);
		run.w = NULL;
		if (created)
			unlink(out);
		goto out;
	}
	if (wl && mbec_feed_guest_ptes(wl, (uint32_t)pid, on_record, &run)) {
		rc = cli_usage_error("record", "%s: %s", out, mbec_rec_writer_error(run.w));
		mbec_rec_writer_abort(run.w);
		run.w = NULL;
		if (created)
			unlink(out);
		goto out;
	}

	signal(SIGPIPE, SIG_IGN);

	if (child.pid > 0 && workload_start(&child)) {
		rc = cli_usage_error("record", "cannot start the workload");
		mbec_rec_writer_abort(run.w);
		run.w = NULL;
		if (created)
			unlink(out);
		goto out;
	}

	t0 = last_flush = cli_now_s();
	while (!cli_stop_requested && !run.failed) {
		double now;
		int ret = mbec_live_poll(live, 100);

		if (ret < 0 && ret != -EINTR)
			break;
		/* Drops become LOST records, as check feeds them to its engine. */
		if (!mbec_live_counters(live, kernel)) {
			uint64_t d = 0;

			for (i = 0; i < MBEC_EV_MAX; i++)
				d += kernel[i].dropped;
			if (d > dropped_seen) {
				struct mbec_ev_lost l = { .hdr = { .type = MBEC_EV_LOST,
								   .size = sizeof(l) } };

				l.count = d - dropped_seen;
				l.hdr.vcpu_id = MBEC_VCPU_UNKNOWN;
				on_record(&run, &l, sizeof(l));
				dropped_seen = d;
			}
		}
		now = cli_now_s();
		if (now - last_flush >= 1.0) {
			if (mbec_rec_flush(run.w))
				run.failed = true;
			last_flush = now;
		}
		if (child.pid > 0) {
			int st;

			if (waitpid(child.pid, &st, WNOHANG) == child.pid) {
				wl_status = WIFEXITED(st) ? WEXITSTATUS(st) : 2;
				child.pid = -1;
				break;
			}
		} else if (duration > 0 && now - t0 >= duration) {
			break;
		}
	}
	while (!run.failed && mbec_live_poll(live, 0) > 0)
		;
	mbec_live_counters(live, kernel);
	if (child.pid > 0) {
		workload_kill(&child);
		wl_status = -1;
	}
	mbec_live_close(live);
	live = NULL;
	/* Transactions still open are checked now: their reads go in too. */
	mbec_check_finish(run.engine);

	records = mbec_rec_writer_records(run.w);
	if (run.failed) {
		/* The file is valid up to its last complete chunk: say which. */
		rc = cli_usage_error("record", "%s: %s", out, mbec_rec_writer_error(run.w));
		mbec_rec_writer_abort(run.w);
		run.w = NULL;
		goto out;
	}
	if (mbec_rec_writer_close(run.w, kernel, err, sizeof(err))) {
		run.w = NULL;
		rc = cli_usage_error("record", "%s: %s", out, err);
		goto out;
	}
	run.w = NULL;
	if (!to_stdout && fsync(fd) && errno != EINVAL) {
		rc = cli_usage_error("record", "%s: %s", out, strerror(errno));
		goto out;
	}
	if (json) {
		struct json_writer jw;
		off_t size = lseek(fd, 0, SEEK_END);

		json_init(&jw, stdout, false);
		json_obj_begin(&jw);
		json_kv_str(&jw, "file", out);
		json_kv_u64(&jw, "records", records);
		json_kv_u64(&jw, "bytes", size > 0 ? (uint64_t)size : 0);
		json_kv_str(&jw, "layout", mbec_layout_name(info.abi));
		json_kv_bool(&jw, "workload", workload);
		json_kv_str(&jw, "attach", mbec_live_attach_line(at, attach, sizeof(attach)));
		if (pid)
			json_kv_u64(&jw, "pid", (uint64_t)pid);
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
		fprintf(to_stdout ? stderr : stdout, "tracepoints: %s\n",
			mbec_live_attach_line(at, attach, sizeof(attach)));
	}
	if (wl_status == 2)
		rc = cli_usage_error("record", "the workload failed to run (status 2)");
out:
	if (run.w)
		mbec_rec_writer_abort(run.w);
	mbec_check_free(run.engine);
	mbec_vmm_mem_close(&run.mem);
	if (live)
		mbec_live_close(live);
	if (child.pid > 0)
		workload_kill(&child);
	if (fd > 1)
		close(fd);
	workload_layout_free(wl);
	return rc;
}
