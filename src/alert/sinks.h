/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Where watch's alerts go: a line on stdout (text or JSON), JSON lines in
 * a file (reopened on SIGHUP, for logrotate), syslog; and the Prometheus
 * metrics: rendered in the text exposition format, written atomically as
 * a node_exporter textfile, or served on /metrics by libmicrohttpd.
 * The rule engine knows none of these.
 */
#ifndef MBEC_ALERT_SINKS_H
#define MBEC_ALERT_SINKS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "alert/alert.h"

struct alert_sinks {
	FILE *out;		/* stdout sink, NULL for none */
	bool out_json;		/* JSON lines on stdout instead of text */
	char json_path[512];	/* "" none */
	FILE *jf;
	bool syslog;
	bool journal;		/* structured entries (journal.c) */
	bool journal_native;	/* sd_journal_sendv; false: syslog with the fields in text */
	uint64_t journal_errors;	/* entries sd_journal_sendv refused */
	bool has_real;		/* event time can be shown as UTC */
	int64_t real_offset_ns;	/* CLOCK_REALTIME - event clock */
	uint64_t lines, errors;	/* errors: alert lines that could not be written */
	int first_errno;		/* of the first failed write, 0 none */
	const char *first_where;	/* json_path or "standard output" */
	bool say_at_once;		/* live: note the first failed write when it happens */
};

/* Open the file and syslog sinks: 0, or -1 with one line in err. */
int alert_sinks_open(struct alert_sinks *s, char *err, size_t errlen);
/* SIGHUP: close and reopen the JSON lines file (logrotate moved it). */
int alert_sinks_reopen(struct alert_sinks *s, char *err, size_t errlen);
void alert_sinks_emit(struct alert_sinks *s, const struct alert *a);
/* A note (config reloaded, reopen failed) to stderr and syslog. */
void alert_sinks_note(struct alert_sinks *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void alert_sinks_flush(struct alert_sinks *s);
/*
 * Flush and close; 0, or -1 with one line in err when any alert line
 * could not be written (to the JSON lines file or to standard output).
 */
int alert_sinks_close(struct alert_sinks *s, char *err, size_t errlen);

/* One alert as a JSON document on one line (the JSON lines format). */
void alert_write_json(FILE *f, const struct alert *a, bool has_real, int64_t real_offset_ns);

/* ---- the journal (journal.c) ----------------------------------------------- */

/* Journal or, when it is missing, syslog: 0 (the fallback is said once). */
int alert_journal_open(struct alert_sinks *s);
/* One alert as a journal entry with MESSAGE_ID and MBECSCOPE_* fields. */
void alert_journal_emit(struct alert_sinks *s, const struct alert *a, const char *line);
void alert_journal_close(struct alert_sinks *s);
/* The fixed MESSAGE_ID of an alert (per rule; one for every summary). */
const char *alert_journal_message_id(const struct alert *a);
/* Its syslog priority: LOG_ERR anomalies, LOG_WARNING others, LOG_NOTICE summaries. */
int alert_priority(const struct alert *a);

/* ---- Prometheus (prom.c) ---------------------------------------------------- */

struct prom_info {
	const char *mode;		/* "live" or "replay" */
	const char *source;		/* replay: the file; live: "kernel" */
	const char *config;		/* configuration file, "" none */
	const struct mbec_check_summary *check;	/* NULL: none */
	const struct mbec_counter *kernel;	/* MBEC_EV_MAX counters, NULL: none */
	double start_time;		/* Unix time the watch started */
};

/* The metrics in the text exposition format 0.0.4 into f. */
void alert_prom_render(FILE *f, const struct alert_engine *e, const struct prom_info *pi);
/* Escape a label value (\\, \", \n) into buf: buf. */
const char *prom_escape_label(const char *s, char *buf, size_t len);
/*
 * Write text to path atomically: a temporary file next to it (not named
 * *.prom, so the textfile collector ignores it), fsync, rename.  0, or -1
 * with one line in err.
 */
int alert_textfile_write(const char *path, const char *text, size_t len, char *err,
			 size_t errlen);

/* ---- HTTP endpoint (http.c) --------------------------------------------------- */

struct alert_http;

/*
 * The endpoint's limits against idle and slow clients: a client silent for
 * ALERT_HTTP_TIMEOUT_S seconds is dropped; at most ALERT_HTTP_MAX_CONN
 * connections at once, and, when listening on a non-loopback address,
 * ALERT_HTTP_MAX_PER_IP from one address.
 */
#define ALERT_HTTP_TIMEOUT_S	5
#define ALERT_HTTP_MAX_CONN	256
#define ALERT_HTTP_MAX_PER_IP	32

/*
 * Serve GET /metrics on listen ("[ADDR:]PORT", ADDR an IPv4 address or
 * localhost; 127.0.0.1 when missing).  A non-loopback address needs
 * allow_remote.  0, or -1 with one line in err.
 */
int alert_http_start(struct alert_http **out, const char *listen, bool allow_remote,
		     char *err, size_t errlen);
/* The checks of alert_http_start without binding: 0, or -1 with one line in err. */
int alert_listen_check(const char *listen, bool allow_remote, char *err, size_t errlen);
/* Replace the page served (copied). */
void alert_http_set(struct alert_http *h, const char *text, size_t len);
/* The port bound. */
unsigned int alert_http_port(const struct alert_http *h);
void alert_http_stop(struct alert_http *h);

#endif /* MBEC_ALERT_SINKS_H */
