// SPDX-License-Identifier: GPL-2.0
/*
 * Prometheus metrics in the text exposition format (version 0.0.4): for
 * each metric a "# HELP" and a "# TYPE" line, then its samples.  Names
 * are mbecscope_*, counters end in _total, units are seconds; label
 * values are escaped (backslash, double quote, newline) and HELP text
 * too (backslash, newline).
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alert/sinks.h"

const char *prom_escape_label(const char *s, char *buf, size_t len)
{
	size_t o = 0;

	for (; s && *s && o + 3 < len; s++) {
		if (*s == '\\' || *s == '"') {
			buf[o++] = '\\';
			buf[o++] = *s;
		} else if (*s == '\n') {
			buf[o++] = '\\';
			buf[o++] = 'n';
		} else {
			buf[o++] = *s;
		}
	}
	buf[o] = 0;
	return buf;
}

static void head(FILE *f, const char *name, const char *type, const char *help)
{
	/* HELP texts here are ours: no backslash or newline to escape. */
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* A float sample value: integers without a fraction, others with enough digits. */
static void val(FILE *f, double v)
{
	if (v < 1e15 && v > -1e15 && v == (double)(int64_t)v)
		fprintf(f, "%" PRId64 "\n", (int64_t)v);
	else
		fprintf(f, "%.15g\n", v);
}

void alert_prom_render(FILE *f, const struct alert_engine *e, const struct prom_info *pi)
{
	const struct alert_stats *st = alert_engine_stats(e);
	unsigned int i, nvm = alert_vm_count(e);
	struct alert_vm_stats vs;
	char b1[600], b2[600], b3[600];
	int r;

	head(f, "mbecscope_watch_info", "gauge",
	     "Constant 1; labels say what this watch reads and its configuration file.");
	fprintf(f, "mbecscope_watch_info{mode=\"%s\",source=\"%s\",config=\"%s\"} 1\n",
		prom_escape_label(pi->mode, b1, sizeof(b1)),
		prom_escape_label(pi->source, b2, sizeof(b2)),
		prom_escape_label(pi->config ? pi->config : "", b3, sizeof(b3)));
	head(f, "mbecscope_watch_start_time_seconds", "gauge",
	     "Unix time the watch started.");
	fprintf(f, "mbecscope_watch_start_time_seconds ");
	val(f, pi->start_time);
	head(f, "mbecscope_records_total", "counter", "Event records read.");
	fprintf(f, "mbecscope_records_total %" PRIu64 "\n", st->records);
	head(f, "mbecscope_event_time_seconds", "gauge",
	     "Newest event timestamp (CLOCK_MONOTONIC) the rules have seen.");
	fprintf(f, "mbecscope_event_time_seconds ");
	val(f, st->now_ns / 1e9);

	if (pi->check) {
		head(f, "mbecscope_anomalies_total", "counter",
		     "Anomalies the checker found, by class (every one, not deduplicated).");
		for (r = 0; r < MBEC_AN_NR; r++)
			fprintf(f, "mbecscope_anomalies_total{class=\"%s\"} %" PRIu64 "\n",
				mbec_anomaly_class_name(r), pi->check->anomalies[r]);
		head(f, "mbecscope_sptes_checked_total", "counter",
		     "SPTEs the checker saw, by how far they could be checked.");
		for (r = 0; r < MBEC_COV_NR; r++)
			fprintf(f, "mbecscope_sptes_checked_total{coverage=\"%s\"} %" PRIu64 "\n",
				mbec_coverage_name(r), pi->check->sptes[r]);
	}
	head(f, "mbecscope_alerts_total", "counter",
	     "Alerts fired (first occurrence of a key), by rule.");
	for (r = 0; r < ALERT_R_NR; r++)
		fprintf(f, "mbecscope_alerts_total{rule=\"%s\",severity=\"%s\"} %" PRIu64 "\n",
			alert_rule_name(r), alert_severity(r), st->fired[r]);
	head(f, "mbecscope_alert_occurrences_total", "counter",
	     "Occurrences of each rule, fired or deduplicated.");
	for (r = 0; r < ALERT_R_NR; r++)
		fprintf(f, "mbecscope_alert_occurrences_total{rule=\"%s\"} %" PRIu64 "\n",
			alert_rule_name(r), st->occurrences[r]);
	head(f, "mbecscope_alerts_suppressed_total", "counter",
	     "Alert keys not fired because of the per-interval alert limit.");
	fprintf(f, "mbecscope_alerts_suppressed_total %" PRIu64 "\n", st->suppressed);
	head(f, "mbecscope_alert_summaries_total", "counter", "Interval summaries written.");
	fprintf(f, "mbecscope_alert_summaries_total %" PRIu64 "\n", st->summaries);
	head(f, "mbecscope_alert_keys", "gauge", "Alert keys remembered for deduplication.");
	fprintf(f, "mbecscope_alert_keys %u\n", st->keys);
	head(f, "mbecscope_lost_records_total", "counter",
	     "Event records lost before they could be read (ring buffer full).");
	fprintf(f, "mbecscope_lost_records_total %" PRIu64 "\n", st->lost_records);
	head(f, "mbecscope_read_lag_seconds", "gauge",
	     "How long the oldest record of the last drain waited in the ring buffer.");
	fprintf(f, "mbecscope_read_lag_seconds ");
	val(f, st->lag_s);

	if (nvm) {
		static const struct {
			const char *name, *type, *help;
		} m[] = {
			{ "mbecscope_vm_faults_total", "counter",
			  "MMU faults of a VM (vm is the VMM's pid)." },
			{ "mbecscope_vm_exec_faults_total", "counter",
			  "MMU faults of a VM caused by instruction fetches." },
			{ "mbecscope_vm_faults_per_second", "gauge",
			  "Faults per second of a VM in the last closed window." },
			{ "mbecscope_vm_exec_faults_per_second", "gauge",
			  "Execute faults per second of a VM in the last closed window." },
			{ "mbecscope_vm_faults_per_second_baseline", "gauge",
			  "Moving baseline of a VM's faults per second." },
			{ "mbecscope_vm_exec_faults_per_second_baseline", "gauge",
			  "Moving baseline of a VM's execute faults per second." },
		};
		size_t k;

		for (k = 0; k < sizeof(m) / sizeof(m[0]); k++) {
			head(f, m[k].name, m[k].type, m[k].help);
			for (i = 0; i < nvm; i++) {
				double v;

				alert_vm_get(e, i, &vs);
				v = k == 0 ? (double)vs.faults : k == 1 ? (double)vs.exec_faults :
				    k == 2 ? vs.rate : k == 3 ? vs.exec_rate : k == 4 ? vs.baseline :
				    vs.exec_baseline;
				fprintf(f, "%s{vm=\"%u\"} ", m[k].name, vs.vm);
				val(f, v);
			}
		}
	}
	if (pi->kernel) {
		head(f, "mbecscope_kernel_events_seen_total", "counter",
		     "Events the BPF programs saw in the kernel, by tracepoint record type.");
		for (r = 1; r < MBEC_EV_MAX; r++)
			if (pi->kernel[r].seen || pi->kernel[r].dropped)
				fprintf(f, "mbecscope_kernel_events_seen_total{event=\"%s\"} %" PRIu64
					"\n", mbec_event_name(r), (uint64_t)pi->kernel[r].seen);
		head(f, "mbecscope_kernel_events_dropped_total", "counter",
		     "Events dropped in the kernel because the ring buffer was full.");
		for (r = 1; r < MBEC_EV_MAX; r++)
			if (pi->kernel[r].seen || pi->kernel[r].dropped)
				fprintf(f, "mbecscope_kernel_events_dropped_total{event=\"%s\"} %"
					PRIu64 "\n", mbec_event_name(r),
					(uint64_t)pi->kernel[r].dropped);
	}
}

int alert_textfile_write(const char *path, const char *text, size_t len, char *err,
			 size_t errlen)
{
	char tmp[600];
	ssize_t n;
	size_t done = 0;
	int fd;

	if (snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, (int)getpid()) >= (int)sizeof(tmp)) {
		snprintf(err, errlen, "textfile path too long: %s", path);
		return -1;
	}
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		snprintf(err, errlen, "cannot write the textfile %s: %s (does the directory exist?)",
			 tmp, strerror(errno));
		return -1;
	}
	while (done < len) {
		n = write(fd, text + done, len - done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			snprintf(err, errlen, "cannot write the textfile %s: %s", tmp,
				 n < 0 ? strerror(errno) : "short write");
			close(fd);
			unlink(tmp);
			return -1;
		}
		done += (size_t)n;
	}
	if (fsync(fd) || close(fd)) {
		snprintf(err, errlen, "cannot write the textfile %s: %s", tmp, strerror(errno));
		unlink(tmp);
		return -1;
	}
	if (rename(tmp, path)) {
		snprintf(err, errlen, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}
