// SPDX-License-Identifier: GPL-2.0
/*
 * mbectop's frame as text lines and as JSON (see render.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli/json.h"
#include "live/btf_layout.h"
#include "mbec_vmstats.h"
#include "top/render.h"

#define COL_W		6	/* every number column: 5 characters and a space */
#define LINE_MAX_LEN	512

struct column {
	int stat;
	const char *head;
	int group;
};

enum { G_MAIN, G_ACCESS, G_CAUSE, G_PERM, G_SIZE, G_NR };

static const char *const group_names[G_NR] = {
	[G_MAIN] = "",
	[G_ACCESS] = "faults by access",
	[G_CAUSE] = "faults by cause",
	[G_PERM] = "SPTEs granting",
	[G_SIZE] = "SPTEs by size",
};

/* The columns for this MMU flavour; returns how many. */
static unsigned int columns(const struct top_env *env, struct column *c)
{
	unsigned int n = 0;

#define COL(s, h, g) (c[n++] = (struct column){ (s), (h), (g) })
	COL(TOP_S_FAULTS, "FAULT", G_MAIN);
	COL(TOP_S_SPTES, "SPTE", G_MAIN);
	COL(TOP_S_GPF, "GPF", G_MAIN);
	COL(TOP_S_ANOM, "ANOM", G_MAIN);
	COL(TOP_S_READ, "READ", G_ACCESS);
	COL(TOP_S_WRITE, "WRITE", G_ACCESS);
	COL(TOP_S_FETCH, "FETCH", G_ACCESS);
	COL(TOP_S_USER, "USER", G_ACCESS);
	COL(TOP_S_SUPV, "SUPV", G_ACCESS);
	COL(TOP_S_NOTP, "NOTP", G_CAUSE);
	COL(TOP_S_PERM, "PERM", G_CAUSE);
	COL(TOP_S_XS, "XS", G_CAUSE);
	COL(TOP_S_XU, "XU", G_CAUSE);
	if (env->mmu != TOP_MMU_EPT)
		COL(TOP_S_RSVD, "RSVD", G_CAUSE);
	if (env->mmu == TOP_MMU_EPT) {
		COL(TOP_S_SP_R, "R", G_PERM);
		COL(TOP_S_SP_W, "W", G_PERM);
		COL(TOP_S_SP_XS, env->mbec ? "XS" : "X", G_PERM);
		if (env->mbec)
			COL(TOP_S_SP_XU, "XU", G_PERM);
	} else {
		COL(TOP_S_SP_U, "U", G_PERM);
		COL(TOP_S_SP_W, "W", G_PERM);
		COL(TOP_S_SP_NX, "NX", G_PERM);
	}
	COL(TOP_S_SP_4K, "4K", G_SIZE);
	COL(TOP_S_SP_2M, "2M", G_SIZE);
	COL(TOP_S_SP_1G, "1G", G_SIZE);
#undef COL
	return n;
}

void top_fmt_num(char *buf, size_t len, double v)
{
	if (v < 0)
		v = 0;
	if (v < 99999.5)
		snprintf(buf, len, "%.0f", v);
	else if (v < 9999.5e3)
		snprintf(buf, len, "%.0fk", v / 1e3);
	else if (v < 9999.5e6)
		snprintf(buf, len, "%.0fM", v / 1e6);
	else
		snprintf(buf, len, "%.0fG", v / 1e9);
}

static const char *mmu_name(enum top_mmu mmu)
{
	switch (mmu) {
	case TOP_MMU_EPT:
		return "EPT";
	case TOP_MMU_NPT:
		return "NPT";
	default:
		return "shadow paging";
	}
}

void top_env_describe(const struct top_env *env, char *buf, size_t len)
{
	const char *feat = env->mmu == TOP_MMU_EPT ? "MBEC" : env->mmu == TOP_MMU_NPT ? "GMET" :
			   "MBEC/GMET";

	snprintf(buf, len, "%s%s%s%s, %s %s, ABI layout %s%s%s%s", mmu_name(env->mmu),
		 env->module[0] ? " (" : "", env->module, env->module[0] ? ")" : "", feat,
		 env->mbec ? "on" : "off", mbec_layout_name(env->layout),
		 env->layout_src[0] ? " (" : "", env->layout_src, env->layout_src[0] ? ")" : "");
}

/* What a fault is on this flavour, for the header. */
static const char *fault_kind(const struct top_env *env)
{
	if (env->faults == TOP_FAULTS_MAPPED)
		return "faults are the ones KVM maps (this KVM fires no kvm_page_fault)";
	switch (env->mmu) {
	case TOP_MMU_EPT:
		return "faults are EPT violations";
	case TOP_MMU_NPT:
		return "faults are #NPF exits";
	default:
		return "faults are intercepted guest #PFs";
	}
}

struct out {
	top_line_fn fn;
	void *ctx;
	unsigned int lines;
};

static void emit(struct out *o, enum top_line_kind kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void emit(struct out *o, enum top_line_kind kind, const char *fmt, ...)
{
	char line[LINE_MAX_LEN];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	o->fn(o->ctx, kind, line);
	o->lines++;
}

/* Append the number columns of a row. */
static size_t put_stats(char *line, size_t off, size_t len, const struct column *cols,
			unsigned int ncols, const double *rate, const uint64_t *tot)
{
	char num[16];
	unsigned int i;

	for (i = 0; i < ncols && off < len; i++) {
		if (cols[i].stat == TOP_S_ANOM)
			top_fmt_num(num, sizeof(num), (double)tot[TOP_S_ANOM]);
		else
			top_fmt_num(num, sizeof(num), rate[cols[i].stat]);
		off += snprintf(line + off, len - off, "%*s", COL_W, num);
	}
	return off;
}


unsigned int top_visible_vms(const struct top_model *m, const struct top_view *v,
			     uint32_t *pids, unsigned int max)
{
	unsigned int i, n = 0;

	for (i = 0; i < m->nr_vms && n < max; i++)
		if (top_vm_matches(&m->vms[i], v->filter))
			pids[n++] = m->vms[i].pid;
	return n;
}

unsigned int top_render(struct top_model *m, const struct top_view *v, top_line_fn fn, void *ctx)
{
	struct column cols[32];
	unsigned int ncols = columns(&m->env, cols), i, j, shown = 0;
	struct out o = { .fn = fn, .ctx = ctx };
	char env[160], line[LINE_MAX_LEN], a[16], b[16], c[16];
	size_t off;

	top_model_sort(m, v->sort_key, v->reverse);
	top_env_describe(&m->env, env, sizeof(env));
	emit(&o, TOP_L_TITLE, "mbectop %s  %s  KVM: %s", v->clock, v->source, env);
	top_fmt_num(a, sizeof(a), m->g_rate[TOP_G_EVENTS]);
	top_fmt_num(b, sizeof(b), m->g_rate[TOP_G_FAULTS]);
	top_fmt_num(c, sizeof(c), m->g_rate[TOP_G_SPTES]);
	emit(&o, TOP_L_HEADER,
	     "events %s/s  faults %s/s  SPTE installs %s/s  anomalies %llu  lost events %llu%s",
	     a, b, c, (unsigned long long)m->g_tot[TOP_G_ANOM],
	     (unsigned long long)m->g_tot[TOP_G_LOST],
	     m->g_tot[TOP_G_UNTRACKED] ? "  (per-VM table full: some events not per VM)" : "");
	if (m->env.attach[0])
		emit(&o, TOP_L_HEADER, "tracepoints: %s", m->env.attach);
	if (v->cost_known) {
		double runs = m->g_rate[TOP_G_BPF_RUNS], ns = m->g_rate[TOP_G_BPF_NS];

		if (runs > 0)
			emit(&o, TOP_L_HEADER,
			     "tool cost: BPF %.0f ns per event, %.2f%% of one CPU", ns / runs,
			     ns / 1e7);
		else
			emit(&o, TOP_L_HEADER, "tool cost: BPF idle (no event in the interval)");
	} else {
		emit(&o, TOP_L_HEADER, "tool cost: %s", v->cost_note[0] ? v->cost_note : "unknown");
	}
	for (i = 0; i < m->nr_vms; i++)
		if (top_vm_matches(&m->vms[i], v->filter))
			shown++;
	emit(&o, TOP_L_HEADER, "VMs %u%s%s%s  sort %s%s  per second over %.1fs (ANOM: total)  "
	     "%s%s", shown,
	     v->filter[0] ? " matching '" : "", v->filter, v->filter[0] ? "'" : "",
	     top_sort_name(v->sort_key), v->reverse ? " (reversed)" : "", m->interval_s,
	     fault_kind(&m->env), v->paused ? "  [paused]" : "");
	if (v->status[0])
		emit(&o, TOP_L_HEADER, "%s", v->status);

	/* Column group heads: each label over its first column, dashes to its last. */
	off = (size_t)snprintf(line, sizeof(line), "%*s", 1 + 7 + 1 + 16 + 1 + 4, "");
	for (i = 0; i < ncols;) {
		unsigned int g = cols[i].group, n = 0, w;

		while (i + n < ncols && cols[i + n].group == (int)g)
			n++;
		w = n * COL_W;
		if (g == G_MAIN) {
			off += snprintf(line + off, sizeof(line) - off, "%*s", w, "");
		} else {
			char lab[64];
			int l = snprintf(lab, sizeof(lab), " %.*s ", (int)w - 4, group_names[g]);
			unsigned int k;

			off += snprintf(line + off, sizeof(line) - off, " %s", lab);
			for (k = (unsigned int)l + 1; k < w && off < sizeof(line) - 1; k++)
				line[off++] = '-';
			line[off] = 0;
		}
		i += n;
	}
	emit(&o, TOP_L_GROUPS, "%s", line);
	off = (size_t)snprintf(line, sizeof(line), " %7s %-16s %4s", "PID", "NAME", "VCPU");
	for (i = 0; i < ncols; i++)
		off += snprintf(line + off, sizeof(line) - off, "%*s", COL_W, cols[i].head);
	emit(&o, TOP_L_COLUMNS, "%s", line);

	if (!m->nr_vms) {
		if (v->scans_vms)
			emit(&o, TOP_L_NOTE, " No VMs: no process holds a KVM VM%s, and none has "
			     "faulted %s.", v->filter[0] ? " (or the pid filter hides it)" : "",
			     m->frames > 1 ? "since mbectop started" : "yet");
		else
			emit(&o, TOP_L_NOTE, " No VMs: no KVM guest has faulted or installed an "
			     "SPTE %s.", m->frames > 1 ? "since mbectop started" : "yet");
		emit(&o, TOP_L_NOTE, " (Start a VM, or run 'mbectop --workload' for the built-in "
		     "guest.)");
		return o.lines;
	}
	if (!shown) {
		emit(&o, TOP_L_NOTE, " No VM matches the filter '%s' (%u VMs hidden).", v->filter,
		     m->nr_vms);
		return o.lines;
	}
	for (i = 0; i < m->nr_vms; i++) {
		const struct top_vm *vm = &m->vms[i];
		bool expanded = v->expand_all || vm->expanded;
		char name[80], marker = ' ';
		enum top_line_kind kind = TOP_L_VM;

		if (!top_vm_matches(vm, v->filter))
			continue;
		if (v->tui && vm->nr_vcpus)
			marker = expanded ? '-' : '+';
		snprintf(name, sizeof(name), "%s%s", vm->gone ? "(exited) " : "",
			 vm->name[0] ? vm->name : "?");
		off = (size_t)snprintf(line, sizeof(line), "%c%7u %-16.16s %4u", marker, vm->pid,
				       name, vm->nr_vcpus);
		put_stats(line, off, sizeof(line), cols, ncols, vm->rate, vm->tot);
		if (vm->gone)
			kind = TOP_L_VM_GONE;
		if (v->tui && vm->pid == v->selected_pid)
			kind = TOP_L_VM_SELECTED;
		emit(&o, kind, "%s", line);
		if (!expanded)
			continue;
		for (j = 0; j < vm->nr_vcpus; j++) {
			const struct top_vcpu *vc = &vm->vcpus[j];
			char id[24];

			if (vc->id & MBEC_VMSTATS_TID)
				snprintf(id, sizeof(id), "  thread %u", vc->id & ~MBEC_VMSTATS_TID);
			else
				snprintf(id, sizeof(id), "  vcpu %u", vc->id);
			off = (size_t)snprintf(line, sizeof(line), " %7s %-16.16s %4s", "", id, "");
			put_stats(line, off, sizeof(line), cols, ncols, vc->rate, vc->tot);
			emit(&o, TOP_L_VCPU, "%s", line);
		}
	}
	return o.lines;
}

static void text_line(void *ctx, enum top_line_kind kind, const char *text)
{
	FILE *f = ctx;
	size_t n = strlen(text);

	(void)kind;
	/* No trailing blanks in batch output (golden files, diffs). */
	while (n && text[n - 1] == ' ')
		n--;
	fprintf(f, "%.*s\n", (int)n, text);
}

void top_render_text(struct top_model *m, const struct top_view *v, FILE *f)
{
	top_render(m, v, text_line, f);
	fputc('\n', f);
	fflush(f);
}

static uint64_t round_rate(double r)
{
	return r > 0 ? (uint64_t)(r + 0.5) : 0;
}

static void json_stats(struct json_writer *jw, const char *key, const double *rate,
		       const uint64_t *tot, bool rates)
{
	int s;

	json_key(jw, key);
	json_obj_begin(jw);
	for (s = 0; s < TOP_S_NR; s++)
		json_kv_u64(jw, top_stat_name(s), rates ? round_rate(rate[s]) : tot[s]);
	json_obj_end(jw);
}

void top_render_json(struct top_model *m, const struct top_view *v, FILE *f)
{
	static const char *const gnames[TOP_G_NR] = {
		"events", "faults", "sptes", "lost", "anomalies", "bpf_ns", "bpf_runs",
		"untracked",
	};
	struct json_writer jw;
	unsigned int i, j;
	int g;

	top_model_sort(m, v->sort_key, v->reverse);
	json_init(&jw, f, false);
	json_obj_begin(&jw);
	json_kv_str(&jw, "clock", v->clock);
	json_kv_str(&jw, "source", v->source);
	json_kv_u64(&jw, "interval_ms", round_rate(m->interval_s * 1000));
	json_kv_bool(&jw, "paused", v->paused);
	json_kv_str(&jw, "status", v->status[0] ? v->status : NULL);
	json_key(&jw, "kvm");
	json_obj_begin(&jw);
	json_kv_str(&jw, "mmu", m->env.mmu == TOP_MMU_EPT ? "ept" :
			  m->env.mmu == TOP_MMU_NPT ? "npt" : "shadow");
	json_kv_bool(&jw, "mbec_gmet", m->env.mbec);
	json_kv_str(&jw, "layout", mbec_layout_name(m->env.layout));
	json_kv_str(&jw, "module", m->env.module[0] ? m->env.module : NULL);
	json_kv_str(&jw, "attach", m->env.attach[0] ? m->env.attach : NULL);
	json_obj_end(&jw);
	json_key(&jw, "totals");
	json_obj_begin(&jw);
	for (g = 0; g < TOP_G_NR; g++)
		json_kv_u64(&jw, gnames[g], m->g_tot[g]);
	json_obj_end(&jw);
	json_key(&jw, "per_second");
	json_obj_begin(&jw);
	for (g = 0; g < TOP_G_NR; g++)
		json_kv_u64(&jw, gnames[g], round_rate(m->g_rate[g]));
	json_obj_end(&jw);
	json_key(&jw, "bpf_ns_per_event");
	if (v->cost_known && m->g_rate[TOP_G_BPF_RUNS] > 0)
		json_u64(&jw, round_rate(m->g_rate[TOP_G_BPF_NS] / m->g_rate[TOP_G_BPF_RUNS]));
	else
		json_null(&jw);
	json_key(&jw, "vms");
	json_arr_begin(&jw);
	for (i = 0; i < m->nr_vms; i++) {
		const struct top_vm *vm = &m->vms[i];

		if (!top_vm_matches(vm, v->filter))
			continue;
		json_obj_begin(&jw);
		json_kv_u64(&jw, "pid", vm->pid);
		json_kv_str(&jw, "name", vm->name[0] ? vm->name : NULL);
		json_kv_bool(&jw, "exited", vm->gone);
		json_stats(&jw, "per_second", vm->rate, vm->tot, true);
		json_stats(&jw, "totals", vm->rate, vm->tot, false);
		json_key(&jw, "vcpus");
		json_arr_begin(&jw);
		for (j = 0; j < vm->nr_vcpus; j++) {
			const struct top_vcpu *vc = &vm->vcpus[j];

			json_obj_begin(&jw);
			if (vc->id & MBEC_VMSTATS_TID) {
				json_kv_str(&jw, "id", NULL);
				json_kv_u64(&jw, "tid", vc->id & ~MBEC_VMSTATS_TID);
			} else {
				json_kv_u64(&jw, "id", vc->id);
			}
			json_stats(&jw, "per_second", vc->rate, vc->tot, true);
			json_stats(&jw, "totals", vc->rate, vc->tot, false);
			json_obj_end(&jw);
		}
		json_arr_end(&jw);
		json_obj_end(&jw);
	}
	json_arr_end(&jw);
	json_obj_end(&jw);
	json_finish(&jw);
	fflush(f);
}
