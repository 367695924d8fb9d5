// SPDX-License-Identifier: GPL-2.0
/*
 * mbecscope replay: a recording or an ftrace text capture through the
 * same check engine as `check` (src/correlate + src/check), record by
 * record, with the same summary and exit codes.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check/check.h"
#include "cli/cli.h"
#include "cli/common.h"
#include "cli/json.h"
#include "cli/outfile.h"
#include "source/source.h"
#include "trace/ftrace.h"
#include "trace/print.h"
#include "trace/source.h"
#include "trace/tracedat.h"
#include "workload/workload.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: %s replay FILE|- [--json] [--events] [--export-json OUT] [--from T] [--to T]\n"
		"                      [--pid PID] [--layout classic|mbec|auto] [--spte ept|legacy]\n"
		"                      [--workload] [-o OUT] [-v]\n"
		"\n"
		"Run a recording (mbecscope record) or an ftrace text capture (tracefs\n"
		"trace / trace_pipe, trace-cmd report), or trace-cmd's trace.dat (told\n"
		"apart automatically) through the checks of 'mbecscope check' and print\n"
		"the same summary.\n"
		"\n"
		"  --json            print the summary as one JSON document\n"
		"  --events          print every event, decoded, before the summary (with\n"
		"                    --json: one JSON object per line, then the summary)\n"
		"  --export-json OUT write every event, decoded, to OUT as JSON lines\n"
		"  -o, --write-recording OUT  also write the events replayed to a recording\n"
		"                    (converts ftrace text to the compact binary form)\n"
		"  --from T, --to T  only events T seconds after the first one (decimals ok)\n"
		"  --pid PID         only events of this VMM process (or thread, when the text\n"
		"                    has no TGID column)\n"
		"  --layout L        KVM ABI layout: classic, mbec or auto (a recording's header;\n"
		"                    for text, kvm_mmu_get_page's access strings: 3 letters\n"
		"                    classic, 4 mbec)\n"
		"  --spte F          SPTE format for text: ept or legacy (auto: from the exits)\n"
		"  --workload        the text is a capture of 'mbecscope workload' (default\n"
		"                    options): add what 'check --workload' knows of its guest\n"
		"                    (page-table entries, CPU mode); recordings carry it\n"
		"  -v, --verbose     the evidence of every anomaly kept\n"
		"\n"
		"Exit status: 0 no anomaly, 1 anomalies found, 2 usage error or bad input (a\n"
		"damaged recording, unreadable text lines; what could be read is still checked).\n",
		prog_name);
}

static int parse_secs(const char *s, uint64_t *ns)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v) || v < 0 || v > 1e9)
		return -1;
	*ns = (uint64_t)(v * 1e9 + 0.5);
	return 0;
}

/* trace-cmd report of several buffers: each one's events (they may be the same twice). */
static void print_buffers(FILE *f, const struct ftrace_import *fi)
{
	unsigned int b, with = 0;

	if (ftrace_import_buffers(fi) < 2)
		return;
	fprintf(f, "buffers:");
	for (b = 0; b < ftrace_import_buffers(fi); b++) {
		with += ftrace_import_buffer_events(fi, b) > 0;
		fprintf(f, "%s %s %llu events", b ? "," : "",
			b ? ftrace_import_buffer_name(fi, b) : "top",
			(unsigned long long)ftrace_import_buffer_events(fi, b));
	}
	fprintf(f, "%s\n", with > 1 ? " (events from more than one buffer: if they traced the "
		"same events, each was read once per buffer)" : "");
}

/* ftrace text: the lines skipped by kind, the drop markers, what the text did not show. */
static void print_text_counts(FILE *f, const struct trace_source *src)
{
	const struct ftrace_import *fi = trace_source_importer(src);
	const struct ftrace_import_stats *fs = ftrace_import_stats(fi);
	const char *sep = "";
	char losses[400];
	unsigned int k;

	fprintf(f, "lines skipped:");
	for (k = 0; k < FTRACE_SKIP_NR; k++) {
		if (!fs->skipped[k])
			continue;
		fprintf(f, "%s %llu %s", sep, (unsigned long long)fs->skipped[k],
			ftrace_skip_name(k));
		sep = ",";
	}
	fprintf(f, "%s\n", *sep ? "" : " none");
	if (fs->drop_markers) {
		fprintf(f, "drop markers: %llu, %llu events lost", (unsigned long long)fs->drop_markers,
			(unsigned long long)fs->lost_events);
		if (fs->drops_uncounted)
			fprintf(f, " plus an unknown number (%llu markers without a count)",
				(unsigned long long)fs->drops_uncounted);
		ftrace_import_describe_losses(fi, losses, sizeof(losses));
		fprintf(f, "%s%s%s\n", losses[0] ? " (" : "", losses, losses[0] ? ")" : "");
	}
	print_buffers(f, fi);
	if (fs->plugin_lines)
		fprintf(f, "trace-cmd kvm plugin lines: %llu\n", (unsigned long long)fs->plugin_lines);
	if (fs->roles_no_wp)
		fprintf(f, "shadow-page roles without CR0.WP in the text: %llu (not checked against "
			"it)\n", (unsigned long long)fs->roles_no_wp);
	if (fs->uexec_unchecked)
		fprintf(f, "kohler roles with USER_EXEC: %llu (the bit is not modelled)\n",
			(unsigned long long)fs->uexec_unchecked);
}

static void json_text_counts(struct json_writer *jw, const struct trace_source *src)
{
	const struct ftrace_import *fi = trace_source_importer(src);
	const struct ftrace_import_stats *fs = ftrace_import_stats(fi);
	unsigned int k, cpu, b;
	uint32_t unc;
	uint64_t n;

	json_key(jw, "lines_skipped");
	json_obj_begin(jw);
	for (k = 0; k < FTRACE_SKIP_NR; k++) {
		char key[32], *c;

		snprintf(key, sizeof(key), "%s", ftrace_skip_name(k));
		for (c = key; *c; c++)
			if (*c == ' ')
				*c = '_';	/* "stack trace" -> "stack_trace" */
		json_kv_u64(jw, key, fs->skipped[k]);
	}
	json_obj_end(jw);
	json_kv_u64(jw, "drop_markers", fs->drop_markers);
	json_kv_u64(jw, "drop_markers_uncounted", fs->drops_uncounted);
	json_kv_u64(jw, "lost_events_marked", fs->lost_events);
	json_key(jw, "lost_by_cpu");
	json_arr_begin(jw);
	for (b = 0; b < ftrace_import_buffers(fi); b++) {
		for (cpu = 0; cpu < 256; cpu++) {
			n = ftrace_import_lost_on(fi, b, cpu, &unc);
			if (!n && !unc)
				continue;
			json_obj_begin(jw);
			json_kv_str(jw, "buffer", ftrace_import_buffer_name(fi, b));
			json_kv_u64(jw, "cpu", cpu);
			json_kv_u64(jw, "lost", n);
			json_kv_u64(jw, "markers_uncounted", unc);
			json_obj_end(jw);
		}
	}
	json_arr_end(jw);
	json_key(jw, "buffers");
	json_arr_begin(jw);
	for (b = 0; b < ftrace_import_buffers(fi); b++) {
		json_obj_begin(jw);
		json_kv_str(jw, "name", ftrace_import_buffer_name(fi, b));
		json_kv_u64(jw, "events", ftrace_import_buffer_events(fi, b));
		json_obj_end(jw);
	}
	json_arr_end(jw);
	json_kv_u64(jw, "lines_buffer_prefixed", fs->buffer_prefixed);
	json_kv_u64(jw, "plugin_lines", fs->plugin_lines);
	json_kv_u64(jw, "roles_without_cr0_wp", fs->roles_no_wp);
	json_kv_u64(jw, "user_exec_unchecked", fs->uexec_unchecked);
}

static void print_source(FILE *f, const char *path, const struct trace_source *src,
			 const struct mbec_rec_info *info)
{
	if (trace_source_tracedat(src)) {
		char what[600];

		tracedat_describe(trace_source_tracedat(src), what, sizeof(what));
		fprintf(f, "mbecscope replay: %s: %s, KVM layout %s (%s), %s SPTEs\n", path, what,
			mbec_layout_name(info->abi), info->role.source,
			(info->flags & MBEC_REC_F_SPTE_EPT) ? "EPT" : "legacy/NPT");
		ftrace_import_describe_losses(trace_source_importer(src), what, sizeof(what));
		if (what[0])
			fprintf(f, "ring-buffer drops: %s\n", what);
		print_buffers(f, trace_source_importer(src));
		return;
	}
	if (trace_source_is_text(src)) {
		const struct trace_text_stats *st = trace_source_text_stats(src);

		fprintf(f, "mbecscope replay: %s: ftrace text, %llu lines (%llu events imported, "
			"%llu other lines), KVM layout %s (%s), %s SPTEs\n",
			path, (unsigned long long)st->lines, (unsigned long long)st->events,
			(unsigned long long)st->ignored, mbec_layout_name(info->abi),
			info->role.source, (info->flags & MBEC_REC_F_SPTE_EPT) ? "EPT" :
			"legacy/NPT");
		print_text_counts(f, src);
		return;
	}
	fprintf(f, "mbecscope replay: %s: recording (format %u) by %s of kernel %s, KVM layout "
		"%s (role layout %s), %s SPTEs%s\n", path, info->version,
		info->tool[0] ? info->tool : "?",
		info->role.release[0] ? info->role.release : "?", mbec_layout_name(info->abi),
		info->has_role ? info->role.source : "built-in",
		(info->flags & MBEC_REC_F_SPTE_EPT) ? "EPT" : "legacy/NPT",
		(info->flags & MBEC_REC_F_WORKLOAD) ? ", built-in workload" : "");
	if (info->nr_tp) {
		unsigned int i;

		for (i = 0; i < info->nr_tp; i++)
			if (strcmp(info->tp[i].how, "tp_btf") && strcmp(info->tp[i].how, "raw_tp"))
				fprintf(f, "not captured: %s\n", info->tp[i].name);
	}
}

/* trace.dat: the CPUs whose reading stopped at a damaged ring-buffer page. */
static void json_tracedat_damage(struct json_writer *jw, const struct tracedat *td)
{
	unsigned long long stop, last;
	const char *buf;
	unsigned int i;
	int cpu;

	json_key(jw, "tracedat_damaged_cpus");
	json_arr_begin(jw);
	for (i = 0; tracedat_damaged_cpu(td, i, &buf, &cpu, &stop, &last); i++) {
		json_obj_begin(jw);
		json_kv_str(jw, "buffer", buf);
		json_kv_u64(jw, "cpu", (uint64_t)cpu);
		json_kv_u64(jw, "stopped_after_offset", stop);
		json_kv_u64(jw, "last_record_offset", last);
		json_obj_end(jw);
	}
	json_arr_end(jw);
}

static void json_source(struct json_writer *jw, const char *path, const struct trace_source *src,
			const struct mbec_rec_info *info)
{
	unsigned int i;

	json_kv_str(jw, "file", path);
	json_kv_str(jw, "format", trace_source_tracedat(src) ? "trace.dat" :
		    trace_source_is_text(src) ? "ftrace-text" : "recording");
	if (trace_source_tracedat(src)) {
		const struct tracedat_stats *ts = tracedat_stats(trace_source_tracedat(src));
		char names[400];

		json_kv_str(jw, "kernel", tracedat_release(trace_source_tracedat(src)));
		json_kv_u64(jw, "tracedat_records", ts->records);
		tracedat_skipped_names(trace_source_tracedat(src), names, sizeof(names));
		json_kv_u64(jw, "tracedat_skipped", ts->skipped);
		json_kv_str(jw, "tracedat_skipped_events", names);
		json_kv_u64(jw, "tracedat_lacking_fields", ts->no_field);
		json_kv_u64(jw, "tracedat_lost", ts->lost);
		json_kv_u64(jw, "tracedat_lost_uncounted", ts->lost_uncounted);
		json_kv_u64(jw, "tracedat_unreadable_cpus", ts->unreadable_cpus);
		json_kv_u64(jw, "tracedat_roles_guessed", ts->roles_guessed);
		json_tracedat_damage(jw, trace_source_tracedat(src));
	}
	json_kv_str(jw, "layout", mbec_layout_name(info->abi));
	json_kv_str(jw, "layout_source", info->role.source);
	json_kv_bool(jw, "layout_guessed", trace_source_is_text(src) &&
		     trace_source_layout_guessed(src));
	json_kv_str(jw, "spte_format", (info->flags & MBEC_REC_F_SPTE_EPT) ? "ept" : "legacy");
	if (trace_source_is_text(src)) {
		const struct trace_text_stats *st = trace_source_text_stats(src);

		json_kv_u64(jw, "lines", st->lines);
		json_kv_u64(jw, "lines_imported", st->events);
		json_kv_u64(jw, "lines_bad", st->bad);
		json_text_counts(jw, src);
	} else {
		json_kv_u64(jw, "format_version", info->version);
		json_kv_str(jw, "kernel", info->role.release);
		json_kv_bool(jw, "workload", info->flags & MBEC_REC_F_WORKLOAD);
		json_kv_bool(jw, "complete", trace_source_trailer(src)->present);
		json_key(jw, "tracepoints");
		json_arr_begin(jw);
		for (i = 0; i < info->nr_tp; i++) {
			json_obj_begin(jw);
			json_kv_str(jw, "tracepoint", info->tp[i].name);
			json_kv_str(jw, "how", info->tp[i].how);
			json_obj_end(jw);
		}
		json_arr_end(jw);
	}
}

struct replay_run {
	struct mbec_source *src;
	struct mbec_check *engine;
	struct event_printer pr;
	bool printer, events, json, base_set;
	FILE *xf;
	const char *export, *wpath;
	struct mbec_rec_writer *wr;
	int rc;				/* set when an output failed: the run stops */
};

/* Every record: printed, exported, written, then checked. */
static int on_record(void *ctx, const void *rec, size_t len)
{
	struct replay_run *run = ctx;
	const struct mbec_event_hdr *h = rec;
	struct json_writer xw;

	if (run->printer && !run->base_set && mbec_source_base_ns(run->src)) {
		run->pr.ts_base = mbec_source_base_ns(run->src);
		run->base_set = true;
	}
	if (run->events && run->json) {
		/* JSON lines: one object per event, then the summary document. */
		json_init(&xw, stdout, false);
		event_print_json(&run->pr, &xw, h);
		json_finish(&xw);
	} else if (run->events) {
		event_print_text(&run->pr, stdout, h);
	}
	if (run->xf) {
		json_init(&xw, run->xf, false);
		event_print_json(&run->pr, &xw, h);
		json_finish(&xw);
		if (ferror(run->xf)) {
			run->rc = cli_usage_error("replay", "cannot write %s: %s", run->export,
						  strerror(errno ? errno : EIO));
			return 1;
		}
	}
	if (run->wr && mbec_rec_write(run->wr, h, len)) {
		run->rc = cli_usage_error("replay", "%s: %s", run->wpath,
					  mbec_rec_writer_error(run->wr));
		return 1;
	}
	/* Not an event: live check never feeds it (the source answers reads from it). */
	if (h->type != MBEC_EV_GUEST_MEM)
		mbec_check_feed(run->engine, rec, len);
	return 0;
}

/* Outputs go to temporary files, put in place only when all went well (outfile.h). */
static int open_outputs(struct replay_run *run, struct cli_outfile *xo, struct cli_outfile *wo,
			const char *path)
{
	struct mbec_rec_info wi = *mbec_source_info(run->src);
	char err[512];

	if (run->export) {
		if (cli_outfile_open(xo, run->export, path, "--export-json", err, sizeof(err)))
			return cli_usage_error("replay", "%s", err);
		run->xf = cli_outfile_stream(xo);
		if (!run->xf)
			return cli_usage_error("replay", "cannot write %s: %s", run->export,
					       strerror(errno));
	}
	if (run->wpath) {
		if (cli_outfile_open(wo, run->wpath, path, "-o", err, sizeof(err)))
			return cli_usage_error("replay", "%s", err);
		snprintf(wi.tool, sizeof(wi.tool), "mbecscope replay -o");
		run->wr = mbec_rec_writer_open(wo->fd, &wi, 0, err, sizeof(err));
		if (!run->wr)
			return cli_usage_error("replay", "%s: %s", run->wpath, err);
	}
	return 0;
}

static void print_summary(struct replay_run *run, const char *path)
{
	const struct trace_source *ts = mbec_source_trace(run->src);
	/* The input as it describes itself (not what --workload adds). */
	const struct mbec_rec_info *info = trace_source_info(ts);
	const char *problem = mbec_source_problem(run->src);

	if (run->json) {
		struct json_writer jw;

		json_init(&jw, stdout, false);
		json_obj_begin(&jw);
		json_source(&jw, path, ts, info);
		mbec_check_json_body(run->engine, mbec_source_counters(run->src), &jw);
		json_kv_str(&jw, "input_problem", problem[0] ? problem : NULL);
		json_obj_end(&jw);
		json_finish(&jw);
	} else {
		print_source(stdout, path, ts, info);
		mbec_check_print(run->engine, mbec_source_counters(run->src), stdout,
				 cli_verbose > 0);
	}
}

int cmd_replay(int argc, char **argv)
{
	static const struct option long_opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "events", no_argument, NULL, 'e' },
		{ "export-json", required_argument, NULL, 'x' },
		{ "from", required_argument, NULL, 'f' },
		{ "to", required_argument, NULL, 't' },
		{ "pid", required_argument, NULL, 'p' },
		{ "layout", required_argument, NULL, 'l' },
		{ "spte", required_argument, NULL, 's' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "workload", no_argument, NULL, 'w' },
		{ "write-recording", required_argument, NULL, 'o' },
		{ "repeat-limit", required_argument, NULL, 'R' },
		{ NULL, 0, NULL, 0 },
	};
	struct mbec_source_opts so;
	struct workload_opts wo;
	struct mbec_check_opts copts = { 0 };
	struct replay_run run = { 0 };
	struct cli_outfile xo = { .fd = -1 }, wout = { .fd = -1 };
	const char *path, *problem;
	bool damaged;
	long pid = 0;
	char err[512], *end;
	int tail, c, rc;

	mbec_source_opts_init(&so);
	workload_opts_init(&wo);
	wo.quiet = true;
	opterr = 0;
	optind = 1;
	if (argc == 2 && !strcmp(argv[1], "--list-options"))
		return cli_list_options(long_opts, ":hvjo:");
	while ((c = getopt_long(argc, argv, ":hvjo:", long_opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			run.json = true;
			break;
		case 'o':
			run.wpath = optarg;
			break;
		case 'e':
			run.events = true;
			break;
		case 'x':
			run.export = optarg;
			break;
		case 'f':
			if (parse_secs(optarg, &so.from_ns))
				return cli_usage_error("replay", "--from wants seconds (e.g. 1.5), not "
						       "'%s'", optarg);
			so.has_from = true;
			break;
		case 't':
			if (parse_secs(optarg, &so.to_ns))
				return cli_usage_error("replay", "--to wants seconds (e.g. 1.5), not '%s'",
						       optarg);
			so.has_to = true;
			break;
		case 'p':
			if (cli_parse_pid("replay", optarg, &pid))
				return EXIT_USAGE;
			break;
		case 'l':
			if (cli_parse_layout("replay", optarg, &so.layout))
				return EXIT_USAGE;
			break;
		case 's':
			if (!strcmp(optarg, "ept"))
				so.spte_ept = 1;
			else if (!strcmp(optarg, "legacy"))
				so.spte_ept = 0;
			else
				return cli_usage_error("replay", "--spte is ept or legacy, not '%s'",
						       optarg);
			break;
		case 'w':
			so.workload = &wo;
			break;
		case 'R':
			copts.repeat_limit = (unsigned int)strtoul(optarg, &end, 10);
			if (*end || !copts.repeat_limit)
				return cli_usage_error("replay", "--repeat-limit wants a count, not "
						       "'%s'", optarg);
			break;
		default:
			tail = cli_opt_tail("replay", c, argv, usage);
			if (tail >= 0)
				return tail;
		}
	}
	if (optind >= argc)
		return cli_usage_error("replay", "which recording or trace? try '%s replay --help'",
				       prog_name);
	if (optind + 1 < argc)
		return cli_extra_arg("replay", argv[optind + 1]);
	path = argv[optind];
	if (so.has_from && so.has_to && so.to_ns < so.from_ns)
		return cli_usage_error("replay", "--to is before --from");
	so.path = path;
	so.pid = (uint32_t)pid;
	/* -o keeps them: the recording written answers the same reads. */
	so.guest_mem_records = true;

	if (mbec_source_open(&run.src, &so, err, sizeof(err)))
		return cli_usage_error("replay", "%s: %s", path, err);
	mbec_source_check_opts(run.src, &copts);
	run.engine = mbec_check_new(&copts);
	if (!run.engine) {
		rc = cli_usage_error("replay", "out of memory");
		goto out;
	}
	if (run.events || run.export) {
		const struct mbec_rec_info *info = mbec_source_info(run.src);

		if (event_printer_init(&run.pr, info->abi, copts.spte_ept, copts.mbec,
				       &info->role)) {
			rc = cli_usage_error("replay", "out of memory");
			goto out;
		}
		run.printer = true;
	}
	rc = open_outputs(&run, &xo, &wout, path);
	if (rc)
		goto out;
	mbec_source_start(run.src, on_record, &run, err, sizeof(err));
	mbec_source_run(run.src, 0, NULL, NULL);
	if (run.rc) {
		rc = run.rc;
		goto out;
	}
	if (run.wr) {
		struct mbec_rec_writer *w = run.wr;

		run.wr = NULL;
		if (mbec_rec_writer_close(w, NULL, err, sizeof(err))) {
			rc = cli_usage_error("replay", "%s: %s", run.wpath, err);
			goto out;
		}
	}
	mbec_check_finish(run.engine);
	print_summary(&run, path);
	rc = mbec_check_summary(run.engine)->anomalies_total ? EXIT_ANOMALY : EXIT_FINE;
	problem = mbec_source_problem(run.src);
	damaged = mbec_source_damaged(run.src);
	if (problem[0]) {
		/* Outputs of a damaged input are not left, so never taken for good. */
		fprintf(stderr, "%s replay: %s: %s%s%s%s%s%s\n", prog_name, path, problem,
			damaged ? "" : " (warning)",
			damaged && (run.wpath || run.export) ? "; not written: " : "",
			damaged && run.wpath ? run.wpath : "",
			damaged && run.wpath && run.export ? ", " : "",
			damaged && run.export ? run.export : "");
		if (damaged) {
			rc = EXIT_USAGE;
			goto out;
		}
	}
	run.xf = NULL;
	if (run.export && cli_outfile_commit(&xo, err, sizeof(err)))
		rc = cli_usage_error("replay", "%s", err);
	if (run.wpath && cli_outfile_commit(&wout, err, sizeof(err)))
		rc = cli_usage_error("replay", "%s", err);
out:
	if (run.wr)
		mbec_rec_writer_abort(run.wr);
	cli_outfile_discard(&wout);
	cli_outfile_discard(&xo);
	if (run.printer)
		event_printer_free(&run.pr);
	mbec_check_free(run.engine);
	mbec_source_free(run.src);
	return rc;
}
