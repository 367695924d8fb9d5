// SPDX-License-Identifier: GPL-2.0
/*
 * The journal sink: each alert as one structured journal entry, so that
 * `journalctl MESSAGE_ID=...` or `journalctl MBECSCOPE_RULE=escalation
 * MBECSCOPE_VM=4242` finds it without parsing text.  Sent with
 * sd_journal_sendv() when built with libsystemd and the journal's socket
 * exists; otherwise the same line goes to syslog (facility daemon) with
 * the fields appended in brackets, and watch says once that it fell back.
 *
 * MESSAGE_IDs are fixed: an operator's filters and catalog entries rely
 * on them, so never change one; a new rule gets a new id (from
 * `systemd-id128 new`) at the end of the table.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>
#include <sys/uio.h>

#ifdef HAVE_SD_JOURNAL
#include <systemd/sd-journal.h>
#endif

#include "alert/sinks.h"

#define JOURNAL_SOCKET	"/run/systemd/journal/socket"

/* An alert of each rule fired (ALERT_FIRE). */
static const char *const fire_ids[ALERT_R_NR] = {
	[ALERT_R_ESCALATION] = "91fbbe4b6f6e4be498bad45bd7bd885b",
	[ALERT_R_NO_PROGRESS] = "e914f1d2a60c47c88288c9a6048d66cf",
	[ALERT_R_FORMAT] = "b500ef135ff44f0d8223891db455a674",
	[ALERT_R_EXIT_QUAL] = "102cbfa1e89740b4bc095fc73a897a49",
	[ALERT_R_NESTED_INJECT] = "c8c7f90f3c51454182b31a4b176405a5",
	[ALERT_R_ROLE] = "15cb20272c87466194bf1853a0f11cd3",
	[ALERT_R_FAULT_STORM] = "715b2187341f4ceda85342ba71357f75",
	[ALERT_R_EXEC_STORM] = "9f3c071ef1d949fa9f8a520cc7cafdb5",
	[ALERT_R_LOST] = "1d748f4052c547bab3ba9e0b78d54270",
	[ALERT_R_BEHIND] = "1d2efaca548f465d96459a23f1d66155",
};
/* An interval summary of any rule (ALERT_SUMMARY; MBECSCOPE_RULE says which). */
static const char summary_id[] = "f160a80a9755413da681e310643666d4";

const char *alert_journal_message_id(const struct alert *a)
{
	if (a->kind == ALERT_SUMMARY)
		return summary_id;
	return (unsigned int)a->rule < ALERT_R_NR ? fire_ids[a->rule] : summary_id;
}

int alert_priority(const struct alert *a)
{
	if (a->kind == ALERT_SUMMARY)
		return LOG_NOTICE;
	return a->rule < ALERT_R_FAULT_STORM ? LOG_ERR : LOG_WARNING;
}

int alert_journal_open(struct alert_sinks *s)
{
#ifdef HAVE_SD_JOURNAL
	if (!access(JOURNAL_SOCKET, W_OK)) {
		s->journal_native = true;
		return 0;
	}
	alert_sinks_note(s, "journal: %s is missing (is systemd-journald running?); "
			 "alerts go to syslog with their fields in brackets instead",
			 JOURNAL_SOCKET);
#else
	alert_sinks_note(s, "journal: this mbecscope was built without libsystemd; alerts "
			 "go to syslog with their fields in brackets instead (rebuild "
			 "after `make deps` for the journal)");
#endif
	s->journal_native = false;
	if (!s->syslog)
		openlog("mbecscope", LOG_PID | LOG_NDELAY, LOG_DAEMON);
	return 0;
}

void alert_journal_close(struct alert_sinks *s)
{
	if (!s->journal_native && !s->syslog)
		closelog();
}

/* Field NAME=value into f[*n], printf style; silently cut at 256 bytes. */
#define FIELD_LEN	256
#define FIELD(name, fmt, ...)							\
	do {									\
		int _l = snprintf(buf[n], FIELD_LEN, name "=" fmt, __VA_ARGS__);	\
		iov[n].iov_base = buf[n];					\
		iov[n].iov_len = _l < FIELD_LEN ? (size_t)_l : FIELD_LEN - 1;	\
		n++;								\
	} while (0)

void alert_journal_emit(struct alert_sinks *s, const struct alert *a, const char *line)
{
	char buf[16][FIELD_LEN];
	struct iovec iov[18];
	size_t n = 0, k;
	int r;

	FIELD("MESSAGE_ID", "%s", alert_journal_message_id(a));
	FIELD("PRIORITY", "%d", alert_priority(a));
	FIELD("SYSLOG_FACILITY", "%d", LOG_DAEMON >> 3);
	FIELD("SYSLOG_IDENTIFIER", "%s", "mbecscope");
	FIELD("MBECSCOPE_KIND", "%s", a->kind == ALERT_FIRE ? "alert" : "summary");
	FIELD("MBECSCOPE_RULE", "%s", alert_rule_name(a->rule));
	FIELD("MBECSCOPE_SEVERITY", "%s", alert_severity(a->rule));
	if (a->vm)
		FIELD("MBECSCOPE_VM", "%u", a->vm);
	if (a->has_gfn)
		FIELD("MBECSCOPE_GFN", "0x%" PRIx64, a->gfn);
	if (a->detail)
		FIELD("MBECSCOPE_CHECK_RULE", "%s", a->detail);
	FIELD("MBECSCOPE_TS_NS", "%" PRIu64, a->ts_ns);
	FIELD("MBECSCOPE_TOTAL", "%" PRIu64, a->total);
	if (a->kind == ALERT_SUMMARY)
		FIELD("MBECSCOPE_COUNT", "%" PRIu64, a->count);
	/* The message and the evidence are not cut: they go in as they are. */
	iov[n].iov_base = (void *)"MESSAGE=";
	iov[n++].iov_len = 8;

	if (!s->journal_native) {
		char tail[1024];
		size_t o = 0;

		/* MESSAGE_ID, and the MBECSCOPE_ fields, in brackets. */
		for (k = 0; k < n - 1 && o < sizeof(tail); k++) {
			if (k == 1 || k == 2 || k == 3)
				continue;
			o += snprintf(tail + o, sizeof(tail) - o, "%s%.*s", o ? " " : "",
				      (int)iov[k].iov_len, (const char *)iov[k].iov_base);
		}
		syslog(alert_priority(a), "%s [%s]", line, tail);
		return;
	}
#ifdef HAVE_SD_JOURNAL
	{
		char msg[FIELD_LEN * 4];
		char *ev = NULL;
		struct iovec all[20];

		memcpy(all, iov, (n - 1) * sizeof(iov[0]));
		snprintf(msg, sizeof(msg), "MESSAGE=%s", line);
		all[n - 1].iov_base = msg;
		all[n - 1].iov_len = strlen(msg);
		k = n;
		if (a->evidence && a->evidence[0]) {
			size_t el = strlen(a->evidence);

			ev = malloc(el + 20);
			if (ev) {
				memcpy(ev, "MBECSCOPE_EVIDENCE=", 19);
				memcpy(ev + 19, a->evidence, el);
				all[k].iov_base = ev;
				all[k++].iov_len = el + 19;
			}
		}
		r = sd_journal_sendv(all, (int)k);
		free(ev);
		if (r < 0 && !s->journal_errors++)
			alert_sinks_note(s, "journal: cannot send an alert: %s (counting the "
					 "entries lost)", strerror(-r));
	}
#else
	(void)r;
#endif
}
