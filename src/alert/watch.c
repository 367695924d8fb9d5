// SPDX-License-Identifier: GPL-2.0
/*
 * The watch daemon (watch.h).  Records from the source go to the check
 * engine and to the rule engine; alerts go to the sinks (stdout, a JSON
 * lines file, syslog) and metrics to a node_exporter textfile and an
 * optional HTTP endpoint.
 *
 * Signals: SIGHUP reopens the JSON lines file and re-reads the
 * configuration file (thresholds; a bad file is reported and the old
 * settings kept); SIGTERM and SIGINT flush everything and end the run.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alert/alert.h"
#include "alert/sinks.h"
#include "alert/watch.h"
#include "check/check.h"
#include "cli/json.h"
#include "source/source.h"

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

struct watch_run {
	struct mbec_source *src;
	const struct watch_opts *wo;
	const char *config;
	const struct watch_flag *flags;
	unsigned int nflags;
	bool json;
	double last_text, last_http;
	bool noted_workload;
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

int watch_config_build(struct watch_config *c, const char *path, const struct watch_flag *fl,
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
static void on_hup(struct watch_run *run, const char *config, const struct watch_flag *fl,
		   unsigned int nfl)
{
	struct watch_config c;
	char err[600];

	if (alert_sinks_reopen(&run->sinks, err, sizeof(err)))
		alert_sinks_note(&run->sinks, "%s", err);
	if (!config)
		return;
	if (watch_config_build(&c, config, fl, nfl, err, sizeof(err))) {
		alert_sinks_note(&run->sinks, "SIGHUP: %s; keeping the settings in effect", err);
		return;
	}
	c.rules.spte_ept = run->cfg.rules.spte_ept;
	alert_engine_set_config(run->alerts, &c.rules);
	run->cfg.rules = c.rules;
	alert_sinks_note(&run->sinks, "SIGHUP: reopened the output, reloaded %s", config);
}

/* The sinks and the HTTP endpoint; 0, or -1 with one line in err. */
static int sinks_open(struct watch_run *run, bool quiet, char *err, size_t errlen)
{
	run->sinks.out = quiet ? NULL : stdout;
	run->sinks.out_json = run->json;
	snprintf(run->sinks.json_path, sizeof(run->sinks.json_path), "%s", run->cfg.json_path);
	run->sinks.syslog = run->cfg.syslog;
	run->sinks.journal = run->cfg.journal;
	/* Live, a failed write is said when it happens; replay says it at the end. */
	run->sinks.say_at_once = !strcmp(run->pi.mode, "live");
	run->pi.start_time = clock_ns(CLOCK_REALTIME) / 1e9;
	if (alert_sinks_open(&run->sinks, err, errlen))
		return -1;
	if (run->cfg.listen[0] &&
	    alert_http_start(&run->http, run->cfg.listen, run->cfg.allow_remote, err, errlen))
		return -1;
	return 0;
}

/* The rule engine and the check engine, set up from the source. */
static int engines_open(struct watch_run *run, char *err, size_t errlen)
{
	struct mbec_check_opts copts = { 0 };

	mbec_source_check_opts(run->src, &copts);
	run->cfg.rules.spte_ept = copts.spte_ept;
	run->alerts = alert_engine_new(&run->cfg.rules, on_alert, run);
	run->check = mbec_check_new(&copts);
	if (!run->alerts || !run->check) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	mbec_check_on_anomaly(run->check, on_anomaly, run);
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

/* Live, after each poll: SIGHUP, lag, the clock of the rules, the metrics, the workload. */
static int on_tick(void *ctx)
{
	struct watch_run *run = ctx;
	uint64_t now = clock_ns(CLOCK_MONOTONIC);
	double now_s = now / 1e9;
	bool signalled;
	int st;
	char err[600];

	if (run->batch_any)
		alert_lag(run->alerts, now, now > run->batch_min_ts ? now - run->batch_min_ts : 0);
	run->batch_any = false;
	/* Drops arrive as LOST records in the stream (the BPF side writes them). */
	run->kernel = mbec_source_counters(run->src);
	alert_tick(run->alerts, now);
	if (run->cfg.textfile[0] && now_s - run->last_text >= run->cfg.textfile_every_s) {
		run->last_text = now_s;
		if (publish(run, true, err, sizeof(err)))
			alert_sinks_note(&run->sinks, "%s", err);
		run->last_http = now_s;
	} else if (run->http && now_s - run->last_http >= 1) {
		run->last_http = now_s;
		publish(run, false, err, sizeof(err));
	}
	st = mbec_source_workload_status(run->src, &signalled);
	if (st >= 0 && !run->noted_workload) {
		run->noted_workload = true;
		if (signalled || st == 2)
			alert_sinks_note(&run->sinks, "the workload failed (status %d)",
					 signalled ? -1 : st);
	}
	if (mbec_hup_requested) {
		mbec_hup_requested = 0;
		on_hup(run, run->config, run->flags, run->nflags);
	}
	return 0;
}

/*
 * Live or --replay: the same engines over the source.  A file's time is its
 * own; a recording's header gives the wall clock of its start, so alerts
 * carry the UTC time they would have had live.
 */
int watch_run(const struct watch_config *cfg, const struct watch_opts *wo,
	      const struct mbec_source_opts *so, char *err, size_t errlen)
{
	struct watch_run r, *run = &r;
	const struct mbec_rec_info *info;
	const char *path = so->path;
	bool live = !path, signalled;
	int rc;

	memset(&r, 0, sizeof(r));
	r.cfg = *cfg;
	r.wo = wo;
	r.config = wo->config;
	r.flags = wo->flags;
	r.nflags = wo->nflags;
	r.json = wo->json;
	run->pi.mode = live ? "live" : "replay";
	run->pi.source = path ? path : so->workload ? "kernel (built-in workload)" : "kernel";
	run->pi.config = run->config ? run->config : "";
	if (live) {
		/* Sinks and endpoints first: a bad path or port fails before anything runs. */
		run->sinks.has_real = true;
		run->sinks.real_offset_ns = (int64_t)(clock_ns(CLOCK_REALTIME) -
						      clock_ns(CLOCK_MONOTONIC));
		mbec_catch_signals(MBEC_HUP_RELOADS);
		if (sinks_open(run, wo->quiet, err, errlen) ||
		    mbec_source_open(&run->src, so, err, errlen))
			goto fail;
	} else {
		if (mbec_source_open(&run->src, so, err, errlen)) {
			char what[400];

			snprintf(what, sizeof(what), "%s", err);
			snprintf(err, errlen, "%s: %s", path, what);
			return -1;
		}
		info = mbec_source_info(run->src);
		if (mbec_source_kind(run->src) == MBEC_SOURCE_RECORDING && info->created_ns &&
		    info->start_mono_ns) {
			run->sinks.has_real = true;
			run->sinks.real_offset_ns = (int64_t)(info->created_ns - info->start_mono_ns);
		}
		if (sinks_open(run, wo->quiet, err, errlen))
			goto fail;
	}
	if (engines_open(run, err, errlen))
		goto fail;
	if (live && publish(run, true, err, errlen))
		goto fail;
	signal(SIGPIPE, SIG_IGN);
	if (mbec_source_start(run->src, on_record, run, err, errlen))
		goto fail;
	if (mbec_source_run(run->src, live ? 100 : 0, live ? on_tick : NULL, run))
		alert_sinks_note(&run->sinks, "reading the ring buffer failed: %s", strerror(errno));
	signalled = mbec_stop_requested;
	/* What is still in the ring buffer, then the open windows and interval. */
	mbec_source_finish(run->src);
	run->kernel = mbec_source_counters(run->src);
	mbec_check_finish(run->check);
	alert_finish(run->alerts);
	if (publish(run, true, err, errlen)) {
		if (!live)
			goto fail;
		alert_sinks_note(&run->sinks, "%s", err);
	}
	end_line(run, run->json);
	if (live)
		rc = signalled || !fired_total(run) ? 0 : 1;
	else
		rc = fired_total(run) ? 1 : 0;
	err[0] = 0;
	if (mbec_source_damaged(run->src)) {
		snprintf(err, errlen, "%s: %s", path, mbec_source_problem(run->src));
		rc = -1;
	} else if (mbec_source_problem(run->src)[0]) {
		fprintf(stderr, "%s: %s: %s (warning)\n", wo->who, path,
			mbec_source_problem(run->src));
	}
	if (rc < 0)
		run_close(run, NULL, 0);
	else if (run_close(run, err, errlen))
		rc = -1;
	mbec_source_free(run->src);
	return rc;
fail:
	run_close(run, NULL, 0);
	mbec_source_free(run->src);
	return -1;
}
