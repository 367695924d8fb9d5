/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The watch rule engine: event records and checker anomalies in, alerts
 * out.  It is pure: time is the records' own timestamps (CLOCK_MONOTONIC
 * ns), never the wall clock, so a replay and a unit test give the same
 * alerts as the live run that saw the same records.  The live daemon
 * passes the monotonic clock in through alert_tick() and alert_lag() so
 * that windows close while the ring buffer is quiet.
 *
 * Rules (enum alert_rule): every anomaly class of the checker; fault
 * storms per VM (faults per second over an absolute threshold, or N times
 * the VM's moving baseline); execute-fault storms (the same over faults
 * that fetch: the W^X churn of HVCI guests); lost records; the tool
 * falling behind (records waiting too long in the ring buffer).
 *
 * Deduplication: each occurrence has a key (rule, VM, and the GFN or the
 * checker's rule).  The first occurrence of a key fires an ALERT_FIRE;
 * later ones are only counted, and at the end of each summary interval
 * every key with new occurrences gets one ALERT_SUMMARY (count, first and
 * last seen).  A key quiet for `expire` may fire again.  At most
 * `max_alerts` keys fire per interval; the others are summarized only.
 *
 *	e = alert_engine_new(&cfg, on_alert, ctx);
 *	for each record: alert_feed(e, rec, len);   (then mbec_check_feed)
 *	from mbec_check_on_anomaly: alert_anomaly(e, a);
 *	alert_finish(e);
 */
#ifndef MBEC_ALERT_H
#define MBEC_ALERT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "check/check.h"
#include "mbec_events.h"

enum alert_rule {
	/* The checker's anomaly classes keep their enum mbec_anomaly_class values. */
	ALERT_R_ESCALATION = MBEC_AN_ESCALATION,
	ALERT_R_NO_PROGRESS = MBEC_AN_NO_PROGRESS,
	ALERT_R_FORMAT = MBEC_AN_FORMAT,
	ALERT_R_EXIT_QUAL = MBEC_AN_EXIT_QUAL,
	ALERT_R_NESTED_INJECT = MBEC_AN_NESTED_INJECT,
	ALERT_R_ROLE = MBEC_AN_ROLE,
	ALERT_R_FAULT_STORM = MBEC_AN_NR,	/* faults/s of a VM */
	ALERT_R_EXEC_STORM,			/* execute faults/s of a VM */
	ALERT_R_LOST,				/* records lost (ring buffer full) */
	ALERT_R_BEHIND,				/* records waited too long to be read */
	ALERT_R_NR
};

#define ALERT_NS_PER_S	((uint64_t)1000000000)

struct alert_config {
	uint64_t window_ns;		/* rate window (1 s) */
	uint64_t interval_ns;		/* summary interval (60 s) */
	uint64_t expire_ns;		/* a key quiet this long fires again (1 h; 0 never) */
	/* Fault storms: faults/s >= rate, or >= factor x baseline and >= min_rate. */
	double fault_rate, fault_factor, fault_min_rate;
	double exec_rate, exec_factor, exec_min_rate;
	unsigned int baseline_windows;	/* EWMA span of the baseline, in windows (60) */
	unsigned int warmup_windows;	/* windows before the baseline is trusted (10) */
	uint64_t lost_min;		/* records lost per window that fire (1) */
	uint64_t lag_ns;		/* a record older than this when read fires (2 s) */
	unsigned int max_alerts;	/* alerts fired per interval (100; 0 no limit) */
	unsigned int max_keys;		/* keys remembered (4096); more share one per rule */
	bool spte_ept;			/* kvm_page_fault's error code is an EPT exit qual */
	bool disabled[ALERT_R_NR];
};

/* The defaults above. */
void alert_config_init(struct alert_config *c);

enum alert_kind { ALERT_FIRE, ALERT_SUMMARY };

struct alert {
	enum alert_kind kind;
	enum alert_rule rule;
	uint32_t vm;			/* kvm->userspace_pid (the VMM's pid); 0 host-wide */
	bool has_gfn;
	uint64_t gfn;
	const char *detail;		/* the checker's rule ("spte-exceeds-walk"), or NULL */
	uint64_t ts_ns;			/* FIRE: when; SUMMARY: end of the interval */
	/* SUMMARY: occurrences in the interval after the fire, first and last of them */
	uint64_t count, first_ns, last_ns;
	uint64_t total;			/* occurrences of this key, the fire included */
	bool suppressed;		/* SUMMARY of a key that max_alerts kept from firing */
	double value, threshold;	/* storms: faults/s; lost: records; behind: seconds */
	char what[256];			/* one line */
	const char *evidence;		/* FIRE of an anomaly: the checker's evidence */
};

struct alert_vm_stats {
	uint32_t vm;
	uint64_t faults, exec_faults;	/* totals */
	double rate, exec_rate;		/* last closed window, per second */
	double baseline, exec_baseline;	/* moving baselines, per second */
	unsigned int windows;		/* windows in the baseline */
};

struct alert_stats {
	uint64_t records;
	uint64_t fired[ALERT_R_NR];		/* ALERT_FIRE per rule */
	uint64_t occurrences[ALERT_R_NR];	/* every occurrence per rule */
	uint64_t suppressed;			/* keys kept from firing by max_alerts */
	uint64_t summaries;
	uint64_t lost_records;
	double lag_s;				/* last lag reported */
	uint64_t now_ns;			/* newest event time */
	unsigned int keys;
};

struct alert_engine;

typedef void (*alert_fn)(void *ctx, const struct alert *a);

struct alert_engine *alert_engine_new(const struct alert_config *cfg, alert_fn fn, void *ctx);
/* New thresholds (SIGHUP); windows, baselines and keys are kept. */
void alert_engine_set_config(struct alert_engine *e, const struct alert_config *cfg);
const struct alert_config *alert_engine_config(const struct alert_engine *e);
/* One record (validated or not: a bad one is ignored). */
void alert_feed(struct alert_engine *e, const void *rec, size_t len);
/* One checker anomaly (mbec_check_on_anomaly). */
void alert_anomaly(struct alert_engine *e, const struct mbec_anomaly *a);
/* Live: the oldest record of a drain had waited lag_ns when read at now_ns. */
void alert_lag(struct alert_engine *e, uint64_t now_ns, uint64_t lag_ns);
/* Live: the clock says now_ns (closes windows and intervals without records). */
void alert_tick(struct alert_engine *e, uint64_t now_ns);
/* End of input: close the open windows, summarize the open interval. */
void alert_finish(struct alert_engine *e);
const struct alert_stats *alert_engine_stats(const struct alert_engine *e);
/* Per-VM state, i < n (n from the return of alert_vm_count). */
unsigned int alert_vm_count(const struct alert_engine *e);
void alert_vm_get(const struct alert_engine *e, unsigned int i, struct alert_vm_stats *out);
void alert_engine_free(struct alert_engine *e);

const char *alert_rule_name(enum alert_rule r);
/* The rule called name, or -1. */
int alert_rule_from_name(const char *name);
/* "critical" (anomalies), "warning" (storms), "error" (lost, behind). */
const char *alert_severity(enum alert_rule r);

/* ---- configuration file (config.c) -------------------------------------- */

/* Everything `watch` takes from a file or from flags. */
struct watch_config {
	struct alert_config rules;
	char json_path[512];		/* JSON lines file; "" none, "-" stdout */
	bool syslog;
	bool journal;			/* structured journal entries (syslog without libsystemd) */
	char textfile[512];		/* node_exporter textfile; "" none */
	double textfile_every_s;	/* how often it is rewritten (15) */
	char listen[128];		/* [ADDR:]PORT of the HTTP endpoint; "" none */
	bool allow_remote;		/* listen on a non-loopback address */
};

void watch_config_init(struct watch_config *c);
/*
 * Parse a configuration text (the format is documented in mbecscope(8)):
 * "key = value" lines, '#' comments.  Keys set in `text` overwrite c.
 * 0, or -1 with "NAME:LINE: what is wrong" in err.
 */
int watch_config_parse(struct watch_config *c, const char *text, const char *name,
		       char *err, size_t errlen);
/* Read and parse a file: 0, or -1 with one line in err. */
int watch_config_load(struct watch_config *c, const char *path, char *err, size_t errlen);
/*
 * One setting given as key and value (the command line uses the same
 * keys): 0, or -1 with what is wrong in err.
 */
int watch_config_set(struct watch_config *c, const char *key, const char *value,
		     char *err, size_t errlen);
/* Every key and its value, in the file format (watch --check-config). */
void watch_config_print(const struct watch_config *c, FILE *f);
/* "1.5s", "250ms", "2m", "1h", "30" (seconds) -> ns: 0, or -1. */
int alert_parse_duration(const char *s, uint64_t *ns);

#endif /* MBEC_ALERT_H */
