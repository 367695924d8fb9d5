// SPDX-License-Identifier: GPL-2.0
/*
 * Alert sinks: stdout (text or JSON lines), a JSON lines file, syslog.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <string.h>
#include <syslog.h>
#include <time.h>

#include "alert/sinks.h"
#include "cli/json.h"

/* Event time as "2026-11-21T06:30:00.123Z". */
static const char *utc(char *buf, size_t len, uint64_t ts_ns, int64_t off)
{
	int64_t real = (int64_t)ts_ns + off;
	time_t sec = (time_t)(real / 1000000000);
	struct tm tm;
	size_t n;

	if (real < 0 || !gmtime_r(&sec, &tm)) {
		snprintf(buf, len, "?");
		return buf;
	}
	n = strftime(buf, len, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf + n, len - n, ".%03uZ", (unsigned int)(real % 1000000000 / 1000000));
	return buf;
}

static uint64_t round_u64(double v)
{
	return v <= 0 ? 0 : (uint64_t)(v + 0.5);
}

void alert_write_json(FILE *f, const struct alert *a, bool has_real, int64_t off)
{
	struct json_writer jw;
	char t[40];

	json_init(&jw, f, false);
	json_obj_begin(&jw);
	json_kv_str(&jw, "type", a->kind == ALERT_FIRE ? "alert" : "summary");
	json_kv_str(&jw, "rule", alert_rule_name(a->rule));
	json_kv_str(&jw, "severity", alert_severity(a->rule));
	if (a->vm)
		json_kv_u64(&jw, "vm", a->vm);
	else
		json_kv_str(&jw, "vm", NULL);
	if (a->has_gfn)
		json_kv_hex(&jw, "gfn", a->gfn);
	if (a->detail)
		json_kv_str(&jw, "detail", a->detail);
	json_kv_u64(&jw, "ts_ns", a->ts_ns);
	if (has_real)
		json_kv_str(&jw, "time", utc(t, sizeof(t), a->ts_ns, off));
	if (a->kind == ALERT_SUMMARY) {
		json_kv_u64(&jw, "count", a->count);
		json_kv_u64(&jw, "first_ns", a->first_ns);
		json_kv_u64(&jw, "last_ns", a->last_ns);
		if (has_real) {
			json_kv_str(&jw, "first", utc(t, sizeof(t), a->first_ns, off));
			json_kv_str(&jw, "last", utc(t, sizeof(t), a->last_ns, off));
		}
		json_kv_bool(&jw, "suppressed", a->suppressed);
	}
	json_kv_u64(&jw, "total", a->total);
	switch (a->rule) {
	case ALERT_R_FAULT_STORM:
	case ALERT_R_EXEC_STORM:
		if (a->kind == ALERT_FIRE) {
			json_kv_u64(&jw, "per_second", round_u64(a->value));
			json_kv_u64(&jw, "threshold_per_second", round_u64(a->threshold));
		}
		break;
	case ALERT_R_LOST:
		if (a->kind == ALERT_FIRE)
			json_kv_u64(&jw, "lost", round_u64(a->value));
		break;
	case ALERT_R_BEHIND:
		if (a->kind == ALERT_FIRE) {
			json_kv_u64(&jw, "lag_ms", round_u64(a->value * 1000));
			json_kv_u64(&jw, "threshold_ms", round_u64(a->threshold * 1000));
		}
		break;
	default:
		break;
	}
	json_kv_str(&jw, "what", a->what);
	if (a->evidence && a->evidence[0])
		json_kv_str(&jw, "evidence", a->evidence);
	json_obj_end(&jw);
	json_finish(&jw);
}

/* "ALERT critical escalation vm 5001 gfn 0x31 (spte-exceeds-walk): ..." */
static void text_line(char *buf, size_t len, const struct alert *a, const struct alert_sinks *s)
{
	char vm[24] = "", gfn[32] = "", det[64] = "", t1[40], t2[40];

	if (a->vm)
		snprintf(vm, sizeof(vm), " vm %u", a->vm);
	if (a->has_gfn)
		snprintf(gfn, sizeof(gfn), " gfn 0x%" PRIx64, a->gfn);
	if (a->detail)
		snprintf(det, sizeof(det), " (%s)", a->detail);
	if (a->kind == ALERT_FIRE) {
		snprintf(buf, len, "ALERT %s %s%s%s%s: %s", alert_severity(a->rule),
			 alert_rule_name(a->rule), vm, gfn, det, a->what);
		return;
	}
	if (s->has_real) {
		utc(t1, sizeof(t1), a->first_ns, s->real_offset_ns);
		utc(t2, sizeof(t2), a->last_ns, s->real_offset_ns);
	} else {
		snprintf(t1, sizeof(t1), "%.3f s", a->first_ns / 1e9);
		snprintf(t2, sizeof(t2), "%.3f s", a->last_ns / 1e9);
	}
	snprintf(buf, len, "SUMMARY %s %s%s%s%s: %" PRIu64 " %s, first %s, last %s, %" PRIu64
		 " in all", alert_severity(a->rule), alert_rule_name(a->rule), vm, gfn, det,
		 a->count, a->suppressed ? "occurrences (alert limit: not fired)" : "more", t1, t2,
		 a->total);
}

int alert_sinks_open(struct alert_sinks *s, char *err, size_t errlen)
{
	if (s->json_path[0] && strcmp(s->json_path, "-")) {
		s->jf = fopen(s->json_path, "a");
		if (!s->jf) {
			snprintf(err, errlen, "cannot open %s for the JSON lines: %s", s->json_path,
				 strerror(errno));
			return -1;
		}
		setvbuf(s->jf, NULL, _IOLBF, 0);
	} else if (s->json_path[0]) {
		/* "-": JSON lines on stdout. */
		s->out = stdout;
		s->out_json = true;
	}
	if (s->syslog)
		openlog("mbecscope", LOG_PID | LOG_NDELAY, LOG_DAEMON);
	if (s->journal)
		alert_journal_open(s);
	return 0;
}

int alert_sinks_reopen(struct alert_sinks *s, char *err, size_t errlen)
{
	FILE *f;

	if (!s->jf)
		return 0;
	f = fopen(s->json_path, "a");
	if (!f) {
		/* Keep writing to the old file rather than lose alerts. */
		snprintf(err, errlen, "cannot reopen %s: %s (still writing to the old file)",
			 s->json_path, strerror(errno));
		return -1;
	}
	fclose(s->jf);
	s->jf = f;
	setvbuf(s->jf, NULL, _IOLBF, 0);
	return 0;
}

/*
 * A write to @f failed (@f's error flag is set): count it; the first one
 * is said at once, on stderr and syslog, and watch exits 2 at its end.
 */
static void write_failed(struct alert_sinks *s, FILE *f, const char *where)
{
	int e = errno ? errno : EIO;

	clearerr(f);
	if (!s->errors++) {
		s->first_errno = e;
		s->first_where = where;
		if (s->say_at_once)
			alert_sinks_note(s, "cannot write the alerts to %s: %s (counting the "
					 "lines lost)", where, strerror(e));
	}
}

void alert_sinks_emit(struct alert_sinks *s, const struct alert *a)
{
	char line[640];

	text_line(line, sizeof(line), a, s);
	if (s->out) {
		errno = 0;
		if (s->out_json)
			alert_write_json(s->out, a, s->has_real, s->real_offset_ns);
		else
			fprintf(s->out, "%s\n", line);
		if (fflush(s->out) || ferror(s->out))
			write_failed(s, s->out, "standard output");
	}
	if (s->jf) {
		errno = 0;
		alert_write_json(s->jf, a, s->has_real, s->real_offset_ns);
		/* Line-buffered: the line has been written, or has failed, by now. */
		if (fflush(s->jf) || ferror(s->jf))
			write_failed(s, s->jf, s->json_path);
	}
	if (s->syslog)
		syslog(alert_priority(a), "%s", line);
	if (s->journal)
		alert_journal_emit(s, a, line);
	s->lines++;
}

void alert_sinks_note(struct alert_sinks *s, const char *fmt, ...)
{
	char buf[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	fprintf(stderr, "mbecscope watch: %s\n", buf);
	if (s->syslog)
		syslog(LOG_NOTICE, "%s", buf);
}

void alert_sinks_flush(struct alert_sinks *s)
{
	if (s->out)
		fflush(s->out);
	if (s->jf)
		fflush(s->jf);
}

int alert_sinks_close(struct alert_sinks *s, char *err, size_t errlen)
{
	errno = 0;
	if (s->out && (fflush(s->out) || ferror(s->out)))
		write_failed(s, s->out, "standard output");
	if (s->jf) {
		errno = 0;
		if (fflush(s->jf) || ferror(s->jf))
			write_failed(s, s->jf, s->json_path);
		if (fclose(s->jf) && !s->errors++) {
			s->first_errno = errno ? errno : EIO;
			s->first_where = s->json_path;
		}
	}
	s->jf = NULL;
	if (s->journal)
		alert_journal_close(s);
	if (s->syslog)
		closelog();
	if (s->journal_errors && !s->errors) {
		if (err)
			snprintf(err, errlen, "the journal refused %llu alert entr%s (the other "
				 "sinks have them)", (unsigned long long)s->journal_errors,
				 s->journal_errors == 1 ? "y" : "ies");
		return -1;
	}
	if (!s->errors)
		return 0;
	if (err)
			snprintf(err, errlen, "could not write to %s: %s (%llu write%s failed); the "
			 "alerts there are incomplete", s->first_where, strerror(s->first_errno),
			 (unsigned long long)s->errors, s->errors == 1 ? "" : "s");
	return -1;
}
