// SPDX-License-Identifier: GPL-2.0
/*
 * mbecscope check: attach to KVM's MMU tracepoints, feed every record to
 * the check engine (src/correlate + src/check), print a summary.  With
 * --workload the built-in guest runs in a child process that waits until
 * the BPF programs are attached and filtered on its pid.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check/check.h"
#include "cli/cli.h"
#include "cli/common.h"
#include "cli/json.h"
#include "live/live.h"
#include "source/source.h"
#include "workload/coverage.h"
#include "workload/workload.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: %s check [--workload [--pattern matrix|storm] [--vcpus N]] [--duration S]\n"
		"                 [--pid PID] [--layout L] [--json] [-v]\n"
		"\n"
		"Attach to KVM's MMU tracepoints, check every SPTE, exit and role KVM\n"
		"produces against the reference model, and print a summary.\n"
		"\n"
		"  --workload      run the built-in guest (the U/W/NX x A/D matrix) and\n"
		"                  check only its events; ends when the guest is done\n"
		"  --pattern P     the workload's pattern: matrix (default) or storm\n"
		"  --vcpus N       the workload's vCPUs (default 1)\n"
		"  --duration S    stop after S seconds (with --workload: repeat the\n"
		"                  matrix for S seconds); default: until SIGINT/SIGTERM,\n"
		"                  or one matrix round with --workload\n"
		"  --pid PID       check only the VMM process PID\n"
		"  --layout L      KVM ABI for decoding: classic, mbec or auto (from BTF)\n"
		"  --json          print the summary as one JSON document\n"
		"  -v, --verbose   libbpf warnings and the evidence of every anomaly kept;\n"
		"                  -vv adds libbpf's debug log (relocations, verifier)\n"
		"\n"
		"Exit status: 0 no anomaly, 1 anomalies found, 2 usage or environment error\n"
		"(not root, no BTF, no KVM, a tracepoint missing).\n", prog_name);
}

struct check_run {
	struct mbec_check *engine;
	struct workload_coverage *cov;	/* the workload's matrix pages; NULL */
};

static int on_record(void *ctx, const void *rec, size_t len)
{
	struct check_run *run = ctx;

	if (run->cov)
		workload_coverage_record(run->cov, rec, len);
	mbec_check_feed(run->engine, rec, len);
	return 0;
}

static void print_json(struct mbec_source *src, const struct check_run *run,
		       const struct mbec_check_opts *copts, bool storm, int wl_status)
{
	const struct mbec_live_attach *at = mbec_source_attach(src);
	uint32_t pid = mbec_source_pid(src);
	struct json_writer jw;
	int i;

	json_init(&jw, stdout, false);
	json_obj_begin(&jw);
	json_kv_str(&jw, "layout", mbec_layout_name(copts->layout));
	if (pid)
		json_kv_u64(&jw, "pid", pid);
	else
		json_kv_str(&jw, "pid", NULL);
	mbec_check_json_body(run->engine, mbec_source_counters(src), &jw);
	json_key(&jw, "attach");
	json_arr_begin(&jw);
	for (i = 0; i < MBEC_LIVE_NR_TP; i++) {
		json_obj_begin(&jw);
		json_kv_str(&jw, "tracepoint", at[i].tracepoint);
		json_kv_str(&jw, "how", at[i].how);
		json_kv_bool(&jw, "preferred", mbec_live_attach_preferred(&at[i]));
		json_kv_str(&jw, "note", at[i].note[0] ? at[i].note : NULL);
		json_obj_end(&jw);
	}
	json_arr_end(&jw);
	if (run->cov && !storm) {
		workload_coverage_report(run->cov, stdout, &jw, false);
		cli_workload_cpl0(mbec_source_workload_child(src), stdout, &jw);
	}
	if (wl_status >= 0)
		json_kv_s64(&jw, "workload_status", wl_status);
	json_obj_end(&jw);
	json_finish(&jw);
}

static void print_text(struct mbec_source *src, const struct check_run *run,
		       const struct mbec_check_opts *copts, bool storm, int wl_status)
{
	const struct mbec_live_attach *at = mbec_source_attach(src);
	uint32_t pid = mbec_source_pid(src);
	unsigned int btf = 0;
	int i;

	if (run->cov)
		printf("mbecscope check: built-in workload (pid %u), ", pid);
	else if (pid)
		printf("mbecscope check: VMM pid %u, ", pid);
	else
		printf("mbecscope check: every VM, ");
	printf("KVM layout %s%s, %s SPTEs\n", mbec_layout_name(copts->layout),
	       copts->role ? " (from BTF)" : "", copts->spte_ept ? "EPT" : "legacy/NPT");
	for (i = 0; i < MBEC_LIVE_NR_TP; i++)
		btf += mbec_live_attach_preferred(&at[i]);
	printf("tracepoints: %u of %u attached as tp_btf\n", btf, MBEC_LIVE_NR_TP);
	for (i = 0; i < MBEC_LIVE_NR_TP; i++)
		if (at[i].note[0] || !mbec_live_attach_preferred(&at[i]))
			printf("%s: %s (%s)\n", !strcmp(at[i].how, "no") ? "not attached" :
			       !strcmp(at[i].how, "raw_tp") ? "raw_tp" : "note",
			       at[i].tracepoint, at[i].note[0] ? at[i].note : "no reason given");
	mbec_check_print(run->engine, mbec_source_counters(src), stdout, cli_verbose > 0);
	if (run->cov && !storm) {
		workload_coverage_report(run->cov, stdout, NULL, cli_verbose > 0);
		cli_workload_cpl0(mbec_source_workload_child(src), stdout, NULL);
	}
	if (wl_status > 0)
		printf("workload: exited with status %d%s\n", wl_status,
		       wl_status == 1 ? " (its own self-check failed)" : "");
}

int cmd_check(int argc, char **argv)
{
	static const struct option long_opts[] = {
		{ "workload", no_argument, NULL, 'w' },
		{ "pattern", required_argument, NULL, 'a' },
		{ "vcpus", required_argument, NULL, 'n' },
		{ "duration", required_argument, NULL, 'd' },
		{ "pid", required_argument, NULL, 'p' },
		{ "layout", required_argument, NULL, 'l' },
		{ "json", no_argument, NULL, 'j' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		/*
		 * tests only: shrink the model (negative control), the repeat
		 * limit, force raw_tp, shrink the ring buffer (to make drops)
		 */
		{ "perturb-model", required_argument, NULL, 'P' },
		{ "repeat-limit", required_argument, NULL, 'R' },
		{ "raw-tp", no_argument, NULL, 'T' },
		{ "ringbuf-kb", required_argument, NULL, 'B' },
		{ NULL, 0, NULL, 0 },
	};
	struct mbec_check_opts copts = { 0 };
	struct mbec_source_opts so;
	struct workload_opts wo;
	struct check_run run = { 0 };
	struct mbec_source *src = NULL;
	bool workload = false, json = false, storm = false;
	int tail, c, wl_status, rc;
	long pid = 0;
	char err[320], *end;

	mbec_source_opts_init(&so);
	workload_opts_init(&wo);
	wo.quiet = true;
	opterr = 0;
	optind = 1;
	if (argc == 2 && !strcmp(argv[1], "--list-options"))
		return cli_list_options(long_opts, ":hvj");
	while ((c = getopt_long(argc, argv, ":hvj", long_opts, NULL)) != -1) {
		switch (c) {
		case 'w':
			workload = true;
			break;
		case 'a':
			if (cli_parse_pattern("check", optarg, &wo.pattern))
				return EXIT_USAGE;
			storm = wo.pattern == WORKLOAD_STORM;
			break;
		case 'n':
			if (cli_parse_vcpus("check", optarg, &wo.vcpus))
				return EXIT_USAGE;
			break;
		case 'd':
			if (cli_parse_duration("check", optarg, &so.duration))
				return EXIT_USAGE;
			break;
		case 'p':
			if (cli_parse_pid("check", optarg, &pid))
				return EXIT_USAGE;
			break;
		case 'l':
			if (cli_parse_layout("check", optarg, &so.layout))
				return EXIT_USAGE;
			break;
		case 'j':
			json = true;
			break;
		case 'P':
			if (!strcmp(optarg, "ro"))
				copts.perturb |= MBEC_PERTURB_RO;
			else if (!strcmp(optarg, "nx"))
				copts.perturb |= MBEC_PERTURB_NX;
			else
				return cli_usage_error("check", "--perturb-model is ro or nx, not '%s'",
						       optarg);
			break;
		case 'R':
			copts.repeat_limit = (unsigned int)strtoul(optarg, &end, 10);
			if (*end || !copts.repeat_limit)
				return cli_usage_error("check", "--repeat-limit wants a count, not "
						       "'%s'", optarg);
			break;
		case 'T':
			so.force_raw = true;
			break;
		case 'B':
			if (cli_parse_ringbuf_kb("check", optarg, &so.ringbuf_bytes))
				return EXIT_USAGE;
			break;
		default:
			tail = cli_opt_tail("check", c, argv, usage);
			if (tail >= 0)
				return tail;
		}
	}
	if (optind < argc)
		return cli_extra_arg("check", argv[optind]);
	if (workload && pid)
		return cli_usage_error("check", "--workload and --pid exclude each other: the "
				       "workload's pid is the filter");
	if (!workload && (storm || wo.vcpus != 1))
		return cli_usage_error("check", "--pattern and --vcpus describe the workload: "
				       "add --workload");
	wo.duration = so.duration;
	so.pid = (uint32_t)pid;
	so.workload = workload ? &wo : NULL;
	so.verbose = cli_verbose;
	so.tool = "mbecscope check";
	so.use = MBEC_LIVE_USE_CHECK;
	/*
	 * Catch SIGINT/SIGTERM before attaching: one that arrives while the
	 * programs load must still end with a detach and a summary, not kill
	 * the process half-way.
	 */
	mbec_catch_signals(MBEC_HUP_DEFAULT);
	if (mbec_source_open(&src, &so, err, sizeof(err)))
		return cli_usage_error("check", "%s", err);
	mbec_source_check_opts(src, &copts);
	run.engine = mbec_check_new(&copts);
	if (mbec_source_workload_layout(src))
		run.cov = workload_coverage_new(mbec_source_workload_layout(src),
						mbec_source_tdp(src));
	if (!run.engine || (mbec_source_workload_layout(src) && !run.cov)) {
		rc = cli_usage_error("check", "out of memory");
		goto out;
	}
	if (run.cov)
		mbec_check_on_spte(run.engine, workload_coverage_spte, run.cov);
	if (mbec_source_start(src, on_record, &run, err, sizeof(err))) {
		rc = cli_usage_error("check", "%s", err);
		goto out;
	}
	mbec_source_run(src, 100, NULL, NULL);
	mbec_source_finish(src);
	mbec_check_finish(run.engine);
	wl_status = mbec_source_workload_status(src, NULL);
	if (run.cov) {
		/* Its CPL-0 passes reach U=0 pages too: the coverage reasons depend on it. */
		const struct workload_report *rep =
			workload_child_report(mbec_source_workload_child(src));

		workload_coverage_set_cpl0(run.cov, rep && rep->cpl0);
	}

	if (json)
		print_json(src, &run, &copts, storm, wl_status);
	else
		print_text(src, &run, &copts, storm, wl_status);
	rc = mbec_check_summary(run.engine)->anomalies_total ? EXIT_ANOMALY : EXIT_FINE;
	if (wl_status == 2)
		rc = EXIT_USAGE;
	else if (wl_status == 1)
		rc = EXIT_ANOMALY;
out:
	mbec_check_free(run.engine);
	workload_coverage_free(run.cov);
	mbec_source_free(src);
	return rc;
}
