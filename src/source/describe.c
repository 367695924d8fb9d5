// SPDX-License-Identifier: GPL-2.0
/*
 * A file source describes itself (source.h): its kind, the kernel and KVM
 * layout it shows, what its reader counted and skipped; as text lines
 * (replay's header) or JSON members.
 */
#include <stdio.h>
#include <string.h>

#include "cli/json.h"
#include "source/source_internal.h"
#include "trace/ftrace.h"
#include "trace/tracedat.h"

/* ftrace text: the lines skipped by kind, the drop markers, what the text did not show. */
static void print_text_counts(FILE *f, const struct trace_source *src)
{
	const struct ftrace_import *fi = trace_source_importer(src);
	const struct ftrace_import_stats *fs = ftrace_import_stats(fi);
	const char *sep = "";
	unsigned int k, cpu;
	uint32_t unc;
	uint64_t n;

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
		sep = " (";
		for (cpu = 0; cpu < 256; cpu++) {
			n = ftrace_import_lost_on(fi, cpu, &unc);
			if (!n && !unc)
				continue;
			fprintf(f, "%sCPU %u: %llu%s", sep, cpu, (unsigned long long)n,
				unc ? " + unknown" : "");
			sep = ", ";
		}
		fprintf(f, "%s\n", *sep == ',' ? ")" : "");
	}
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
	unsigned int k, cpu;
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
	for (cpu = 0; cpu < 256; cpu++) {
		n = ftrace_import_lost_on(fi, cpu, &unc);
		if (!n && !unc)
			continue;
		json_obj_begin(jw);
		json_kv_u64(jw, "cpu", cpu);
		json_kv_u64(jw, "lost", n);
		json_kv_u64(jw, "markers_uncounted", unc);
		json_obj_end(jw);
	}
	json_arr_end(jw);
	json_kv_u64(jw, "plugin_lines", fs->plugin_lines);
	json_kv_u64(jw, "roles_without_cr0_wp", fs->roles_no_wp);
	json_kv_u64(jw, "user_exec_unchecked", fs->uexec_unchecked);
}

void mbec_source_describe(FILE *f, const char *who, const char *path, const struct mbec_source *s)
{
	const struct trace_source *src = s->ts;
	/* The input as it describes itself (not what --workload adds). */
	const struct mbec_rec_info *info = src ? trace_source_info(src) : &s->info;

	if (!src)
		return;
	if (trace_source_tracedat(src)) {
		char what[600];

		tracedat_describe(trace_source_tracedat(src), what, sizeof(what));
		fprintf(f, "%s: %s: %s, KVM layout %s (%s), %s SPTEs\n", who, path, what,
			mbec_layout_name(info->abi), info->role.source,
			(info->flags & MBEC_REC_F_SPTE_EPT) ? "EPT" : "legacy/NPT");
		return;
	}
	if (trace_source_is_text(src)) {
		const struct trace_text_stats *st = trace_source_text_stats(src);

		fprintf(f, "%s: %s: ftrace text, %llu lines (%llu events imported, "
			"%llu other lines), KVM layout %s (%s), %s SPTEs\n",
			who, path, (unsigned long long)st->lines, (unsigned long long)st->events,
			(unsigned long long)st->ignored, mbec_layout_name(info->abi),
			info->role.source, (info->flags & MBEC_REC_F_SPTE_EPT) ? "EPT" :
			"legacy/NPT");
		print_text_counts(f, src);
		return;
	}
	fprintf(f, "%s: %s: recording (format %u) by %s of kernel %s, KVM layout "
		"%s (role layout %s), %s SPTEs%s\n", who, path, info->version,
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

void mbec_source_describe_json(struct json_writer *jw, const char *path,
			       const struct mbec_source *s)
{
	const struct trace_source *src = s->ts;
	const struct mbec_rec_info *info = src ? trace_source_info(src) : &s->info;
	unsigned int i;

	if (!src)
		return;

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
	}
	json_kv_str(jw, "layout", mbec_layout_name(info->abi));
	json_kv_str(jw, "layout_source", info->role.source);
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
