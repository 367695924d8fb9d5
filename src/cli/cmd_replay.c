// SPDX-License-Identifier: GPL-2.0
/*
 * mbecscope replay: a recording or an ftrace text capture through the
 * same check engine as `check` (src/correlate + src/check), record by
 * record, with the same summary and exit codes.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check/check.h"
#include "cli/cli.h"
#include "cli/common.h"
#include "cli/json.h"
#include "cli/outfile.h"
#include "live/guest.h"
#include "trace/ftrace.h"
#include "trace/guestmem.h"
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

/*
 * What `check --workload` knows of the built-in guest, for a text capture
 * of it: its CPU mode (as check sets it) and every entry of its page
 * tables as GUEST_PTE records of VMM process pid.
 */
struct workload_feed {
	struct mbec_check *e;
	struct mbec_rec_writer *wr;
};

/* Into the engine, and into the recording being written (stop when it fails). */
static int feed_workload_pte(void *ctx, const void *rec, size_t len)
{
	struct workload_feed *f = ctx;

	mbec_check_feed(f->e, rec, len);
	return f->wr && mbec_rec_write(f->wr, rec, len);
}

static int feed_workload(struct mbec_check *e, struct mbec_rec_writer *wr, uint32_t pid)
{
	struct workload_feed f = { .e = e, .wr = wr };
	struct workload_opts wo;
	struct workload_layout *l;

	workload_opts_init(&wo);
	wo.quiet = true;
	l = workload_layout_new(&wo);
	if (!l)
		return -1;
	/* Stops at the first failed write, as the copy of this loop here did. */
	mbec_feed_guest_ptes(l, pid, feed_workload_pte, &f);
	workload_layout_free(l);
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
	struct trace_source_opts so = { .layout = MBEC_LAYOUT_UNKNOWN, .spte_ept = -1 };
	struct mbec_check_opts copts = { 0 };
	const struct mbec_rec_info *info;
	const struct mbec_rec_trailer *tr;
	const struct mbec_event_hdr *h;
	struct trace_source *src = NULL;
	struct mbec_check *engine = NULL;
	struct event_printer pr;
	struct json_writer xw;
	FILE *xf = NULL;
	struct cli_outfile xo = { .fd = -1 }, wo = { .fd = -1 };
	struct mbec_rec_writer *wr = NULL;
	struct guest_mem gmem = { 0 };
	const char *path, *export = NULL, *wpath = NULL;
	bool json = false, events = false, workload = false, fed_workload = false, have_from = false, have_to = false, printer = false;
	uint64_t from = 0, to = 0, base = 0, rel;
	long pid = 0;
	char err[512], *end;
	int c, r, rc;

	opterr = 0;
	optind = 1;
	while ((c = getopt_long(argc, argv, ":hvjo:", long_opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'o':
			wpath = optarg;
			break;
		case 'e':
			events = true;
			break;
		case 'x':
			export = optarg;
			break;
		case 'f':
			if (parse_secs(optarg, &from))
				return cli_usage_error("replay", "--from wants seconds (e.g. 1.5), not "
						       "'%s'", optarg);
			have_from = true;
			break;
		case 't':
			if (parse_secs(optarg, &to))
				return cli_usage_error("replay", "--to wants seconds (e.g. 1.5), not '%s'",
						       optarg);
			have_to = true;
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
			workload = true;
			break;
		case 'R':
			copts.repeat_limit = (unsigned int)strtoul(optarg, &end, 10);
			if (*end || !copts.repeat_limit)
				return cli_usage_error("replay", "--repeat-limit wants a count, not "
						       "'%s'", optarg);
			break;
		case 'v':
			cli_verbose++;
			break;
		case 'h':
			usage(stdout);
			return EXIT_FINE;
		default:
			return cli_getopt_error("replay", c, argv);
		}
	}
	if (optind >= argc)
		return cli_usage_error("replay", "which recording or trace? try '%s replay --help'",
				       prog_name);
	if (optind + 1 < argc)
		return cli_extra_arg("replay", argv[optind + 1]);
	path = argv[optind];
	if (have_from && have_to && to < from)
		return cli_usage_error("replay", "--to is before --from");

	err[0] = 0;
	if (trace_source_open(&src, path, &so, err, sizeof(err)))
		return cli_usage_error("replay", "%s: %s", path, err);
	info = trace_source_info(src);

	cli_check_opts_from_info(&copts, info);
	if (!info->has_mode && workload) {
		/* The built-in guest's CPU mode, from its registers, as check takes it. */
		struct workload_opts wo;
		struct workload_layout *l;

		workload_opts_init(&wo);
		wo.quiet = true;
		l = workload_layout_new(&wo);
		if (!l) {
			trace_source_free(src);
			return cli_usage_error("replay", "out of memory");
		}
		copts.expect_mode_valid = true;
		mbec_workload_mode(l, &copts.expect_mode);
		workload_layout_free(l);
	}
	/* A recording of the workload carries its guest entries already. */
	if (info->flags & MBEC_REC_F_WORKLOAD)
		workload = false;
	/* What check read from VMM memory while recording, answered from the recording. */
	copts.guest.read_mem = guest_mem_read;
	copts.guest.ctx = &gmem;
	engine = mbec_check_new(&copts);
	if (!engine) {
		trace_source_free(src);
		return cli_usage_error("replay", "out of memory");
	}
	if (events || export) {
		if (event_printer_init(&pr, info->abi, copts.spte_ept, copts.mbec, &info->role)) {
			rc = cli_usage_error("replay", "out of memory");
			goto out;
		}
		printer = true;
	}
	/*
	 * Outputs are written to temporary files and put in place only when
	 * the input was read whole and every write succeeded (outfile.h).
	 */
	if (export) {
		if (cli_outfile_open(&xo, export, path, "--export-json", err, sizeof(err))) {
			rc = cli_usage_error("replay", "%s", err);
			goto out;
		}
		xf = cli_outfile_stream(&xo);
		if (!xf) {
			rc = cli_usage_error("replay", "cannot write %s: %s", export, strerror(errno));
			goto out;
		}
	}

	if (wpath) {
		struct mbec_rec_info wi = *info;

		if (cli_outfile_open(&wo, wpath, path, "-o", err, sizeof(err))) {
			rc = cli_usage_error("replay", "%s", err);
			goto out;
		}
		if (workload && !(wi.flags & MBEC_REC_F_WORKLOAD)) {
			wi.flags |= MBEC_REC_F_WORKLOAD;
			wi.has_mode = true;
			wi.mode = copts.expect_mode;
		}
		snprintf(wi.tool, sizeof(wi.tool), "mbecscope replay -o");
		wr = mbec_rec_writer_open(wo.fd, &wi, 0, err, sizeof(err));
		if (!wr) {
			rc = cli_usage_error("replay", "%s: %s", wpath, err);
			goto out;
		}
	}

	while ((r = trace_source_next(src, &h)) > 0) {
		if (h->ts_ns) {
			if (!base) {
				base = h->ts_ns;
				if (printer)
					pr.ts_base = base;
				if (have_from && !trace_source_is_text(src))
					trace_source_window(src, base + from, have_to ? base + to : 0);
			}
			rel = h->ts_ns >= base ? h->ts_ns - base : 0;
			if ((have_from && rel < from) || (have_to && rel > to))
				continue;
		}
		if (pid && h->type != MBEC_EV_LOST && h->pid != (uint32_t)pid &&
		    !(h->pid == 0 && h->tid == (uint32_t)pid))
			continue;
		if (workload && !fed_workload && h->type != MBEC_EV_LOST) {
			fed_workload = true;
			if (feed_workload(engine, wr, pid ? (uint32_t)pid : h->pid)) {
				rc = cli_usage_error("replay", "out of memory");
				goto out;
			}
		}
		if (events && json) {
			/* JSON lines: one object per event, then the summary document. */
			json_init(&xw, stdout, false);
			event_print_json(&pr, &xw, h);
			json_finish(&xw);
		} else if (events) {
			event_print_text(&pr, stdout, h);
		}
		if (xf) {
			json_init(&xw, xf, false);
			event_print_json(&pr, &xw, h);
			json_finish(&xw);
			if (ferror(xf)) {
				rc = cli_usage_error("replay", "cannot write %s: %s", export,
						     strerror(errno ? errno : EIO));
				goto out;
			}
		}
		if (wr && mbec_rec_write(wr, h, h->size)) {
			rc = cli_usage_error("replay", "%s: %s", wpath, mbec_rec_writer_error(wr));
			goto out;
		}
		if (h->type == MBEC_EV_GUEST_MEM) {
			const struct mbec_ev_guest_mem *g = (const void *)h;

			guest_mem_put(&gmem, g->hdr.pid, g->hva, g->val);
			continue;	/* not an event: live check never feeds it */
		}
		mbec_check_feed(engine, h, h->size);
	}
	if (wr) {
		struct mbec_rec_writer *w = wr;

		wr = NULL;
		if (mbec_rec_writer_close(w, NULL, err, sizeof(err))) {
			rc = cli_usage_error("replay", "%s: %s", wpath, err);
			goto out;
		}
	}
	mbec_check_finish(engine);
	tr = trace_source_trailer(src);

	if (json) {
		struct json_writer jw;

		json_init(&jw, stdout, false);
		json_obj_begin(&jw);
		json_source(&jw, path, src, info);
		mbec_check_json_body(engine, tr->present && tr->has_kernel ? tr->counters : NULL,
				     &jw);
		json_kv_str(&jw, "input_problem", trace_source_problem(src)[0] ?
			    trace_source_problem(src) : NULL);
		json_obj_end(&jw);
		json_finish(&jw);
	} else {
		print_source(stdout, path, src, info);
		mbec_check_print(engine, tr->present && tr->has_kernel ? tr->counters : NULL,
				 stdout, cli_verbose > 0);
	}
	rc = mbec_check_summary(engine)->anomalies_total ? EXIT_ANOMALY : EXIT_FINE;
	if (trace_source_problem(src)[0]) {
		/* Outputs of a damaged input are not left, so never taken for good. */
		fprintf(stderr, "%s replay: %s: %s%s%s%s%s%s\n", prog_name, path,
			trace_source_problem(src), trace_source_damaged(src) ? "" : " (warning)",
			trace_source_damaged(src) && (wpath || export) ? "; not written: " : "",
			trace_source_damaged(src) && wpath ? wpath : "",
			trace_source_damaged(src) && wpath && export ? ", " : "",
			trace_source_damaged(src) && export ? export : "");
		if (trace_source_damaged(src)) {
			rc = EXIT_USAGE;
			goto out;
		}
	}
	xf = NULL;
	if (export && cli_outfile_commit(&xo, err, sizeof(err)))
		rc = cli_usage_error("replay", "%s", err);
	if (wpath && cli_outfile_commit(&wo, err, sizeof(err)))
		rc = cli_usage_error("replay", "%s", err);
out:
	if (wr)
		mbec_rec_writer_abort(wr);
	cli_outfile_discard(&wo);
	cli_outfile_discard(&xo);
	if (printer)
		event_printer_free(&pr);
	mbec_check_free(engine);
	guest_mem_free(&gmem);
	trace_source_free(src);
	return rc;
}
