// SPDX-License-Identifier: GPL-2.0
/*
 * watch's configuration: a small "key = value" file (mbecscope(8),
 * CONFIGURATION FILE) whose keys are also the long options of the command
 * line, so one table describes both.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "alert/alert.h"

enum opt_type { T_RATE, T_FACTOR, T_DURATION, T_COUNT, T_BOOL, T_PATH, T_LISTEN, T_RULES };

struct opt {
	const char *key;
	enum opt_type type;
	size_t off;		/* in struct watch_config */
	const char *help;
};

#define R(f)	offsetof(struct watch_config, rules.f)
#define W(f)	offsetof(struct watch_config, f)

static const struct opt opts[] = {
	{ "fault-rate", T_RATE, R(fault_rate), "faults/s of one VM that always fire (0 off)" },
	{ "fault-factor", T_FACTOR, R(fault_factor), "fire at this many times the baseline (0 off)" },
	{ "fault-min-rate", T_RATE, R(fault_min_rate), "the baseline rule needs at least this" },
	{ "exec-rate", T_RATE, R(exec_rate), "execute faults/s of one VM that always fire" },
	{ "exec-factor", T_FACTOR, R(exec_factor), "execute faults: times the baseline" },
	{ "exec-min-rate", T_RATE, R(exec_min_rate), "execute faults: at least this" },
	{ "baseline-windows", T_COUNT, R(baseline_windows), "moving baseline span, windows" },
	{ "warmup-windows", T_COUNT, R(warmup_windows), "windows before the baseline counts" },
	{ "window", T_DURATION, R(window_ns), "rate window" },
	{ "interval", T_DURATION, R(interval_ns), "summary interval" },
	{ "expire", T_DURATION, R(expire_ns), "a key quiet this long fires again (0 never)" },
	{ "lost-events", T_COUNT, R(lost_min), "lost records per window that fire (0 off)" },
	{ "lag", T_DURATION, R(lag_ns), "read delay that means falling behind (0 off)" },
	{ "max-alerts", T_COUNT, R(max_alerts), "alerts per interval (0 no limit)" },
	{ "max-keys", T_COUNT, R(max_keys), "alert keys remembered" },
	{ "disable", T_RULES, 0, "rules not to raise, comma-separated" },
	{ "output", T_PATH, W(json_path), "JSON lines file (- stdout), reopened on SIGHUP" },
	{ "syslog", T_BOOL, W(syslog), "alerts to syslog (daemon facility)" },
	{ "journal", T_BOOL, W(journal), "alerts as structured journal entries" },
	{ "textfile", T_PATH, W(textfile), "Prometheus node_exporter textfile" },
	{ "textfile-interval", T_DURATION, W(textfile_every_s), "how often it is rewritten" },
	{ "listen", T_LISTEN, W(listen), "[ADDR:]PORT of the /metrics endpoint" },
	{ "allow-remote", T_BOOL, W(allow_remote), "let --listen take a non-loopback address" },
};

void watch_config_init(struct watch_config *c)
{
	memset(c, 0, sizeof(*c));
	alert_config_init(&c->rules);
	c->textfile_every_s = 15;
}

int alert_parse_duration(const char *s, uint64_t *ns)
{
	static const struct {
		const char *suffix;
		double mul;
	} units[] = {
		{ "ns", 1 }, { "us", 1e3 }, { "ms", 1e6 }, { "s", 1e9 }, { "m", 60e9 },
		{ "h", 3600e9 }, { "", 1e9 },
	};
	char *end;
	double v;
	size_t i;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || !isfinite(v) || v < 0)
		return -1;
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (!strcmp(end, units[i].suffix)) {
			v *= units[i].mul;
			if (v > 1e18)
				return -1;
			*ns = (uint64_t)(v + 0.5);
			return 0;
		}
	}
	return -1;
}

static int parse_bool(const char *s, bool *b)
{
	if (!strcasecmp(s, "yes") || !strcasecmp(s, "true") || !strcasecmp(s, "on") ||
	    !strcmp(s, "1")) {
		*b = true;
		return 0;
	}
	if (!strcasecmp(s, "no") || !strcasecmp(s, "false") || !strcasecmp(s, "off") ||
	    !strcmp(s, "0")) {
		*b = false;
		return 0;
	}
	return -1;
}

/* "[ADDR:]PORT": an IPv4 address (or "localhost") and a port 1-65535. */
static int check_listen(const char *s, char *err, size_t errlen)
{
	const char *colon = strrchr(s, ':'), *port = colon ? colon + 1 : s;
	char *end;
	unsigned long p;

	errno = 0;
	p = strtoul(port, &end, 10);
	if (errno || end == port || *end || !p || p > 65535) {
		snprintf(err, errlen, "'%s' is not [ADDR:]PORT (a port 1-65535)", s);
		return -1;
	}
	return 0;
}

static int set_one(struct watch_config *c, const struct opt *o, const char *v, char *err,
		   size_t errlen)
{
	void *p = (char *)c + o->off;
	char *end;
	double d;
	uint64_t ns;

	switch (o->type) {
	case T_RATE:
	case T_FACTOR:
		errno = 0;
		d = strtod(v, &end);
		if (errno || end == v || *end || !isfinite(d) || d < 0 || d > 1e12) {
			snprintf(err, errlen, "%s wants a number of at least 0, not '%s'",
				 o->key, v);
			return -1;
		}
		if (o->type == T_FACTOR && d > 0 && d <= 1) {
			snprintf(err, errlen, "%s wants a factor above 1 (or 0 for off), not '%s'",
				 o->key, v);
			return -1;
		}
		*(double *)p = d;
		return 0;
	case T_DURATION:
		if (alert_parse_duration(v, &ns)) {
			snprintf(err, errlen, "%s wants a duration such as 1s, 500ms, 5m or 1h, not '%s'",
				 o->key, v);
			return -1;
		}
		if ((o->off == R(window_ns) || o->off == R(interval_ns)) && ns < 1000000) {
			snprintf(err, errlen, "%s must be at least 1ms, not '%s'", o->key, v);
			return -1;
		}
		if (o->off == W(textfile_every_s)) {
			if (ns < 100000000) {
				snprintf(err, errlen, "%s must be at least 100ms, not '%s'",
					 o->key, v);
				return -1;
			}
			*(double *)p = (double)ns / 1e9;
		} else {
			*(uint64_t *)p = ns;
		}
		return 0;
	case T_COUNT: {
		unsigned long long n;

		errno = 0;
		n = strtoull(v, &end, 10);
		if (errno || end == v || *end || v[0] == '-' || n > 0xffffffffULL) {
			snprintf(err, errlen, "%s wants a whole number, not '%s'", o->key, v);
			return -1;
		}
		if (o->off == R(lost_min))
			*(uint64_t *)p = n;
		else
			*(unsigned int *)p = (unsigned int)n;
		if (o->off == R(baseline_windows) && !n) {
			snprintf(err, errlen, "%s must be at least 1", o->key);
			return -1;
		}
		return 0;
	}
	case T_BOOL:
		if (parse_bool(v, p)) {
			snprintf(err, errlen, "%s wants yes or no, not '%s'", o->key, v);
			return -1;
		}
		return 0;
	case T_PATH:
	case T_LISTEN:
		if (strlen(v) >= (o->type == T_PATH ? sizeof(c->json_path) : sizeof(c->listen))) {
			snprintf(err, errlen, "%s: value too long", o->key);
			return -1;
		}
		if (o->type == T_LISTEN && v[0] && check_listen(v, err, errlen))
			return -1;
		strcpy(p, v);
		return 0;
	case T_RULES: {
		char buf[512], *tok, *save = NULL;
		bool dis[ALERT_R_NR] = { false };
		int r;

		snprintf(buf, sizeof(buf), "%s", v);
		for (tok = strtok_r(buf, ", \t", &save); tok; tok = strtok_r(NULL, ", \t", &save)) {
			if (!strcmp(tok, "none"))
				continue;
			r = alert_rule_from_name(tok);
			if (r < 0) {
				snprintf(err, errlen, "disable: unknown rule '%s' (rules: escalation, no-progress, format, exit-qual, nested-inject, role, fault-storm, exec-storm, lost-events, falling-behind)",
					 tok);
				return -1;
			}
			dis[r] = true;
		}
		memcpy(c->rules.disabled, dis, sizeof(dis));
		return 0;
	}
	}
	return -1;
}

int watch_config_set(struct watch_config *c, const char *key, const char *value,
		     char *err, size_t errlen)
{
	size_t i;

	for (i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
		if (!strcmp(opts[i].key, key))
			return set_one(c, &opts[i], value, err, errlen);
	snprintf(err, errlen, "unknown key '%s'", key);
	return -1;
}

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = 0;
	return s;
}

int watch_config_parse(struct watch_config *c, const char *text, const char *name,
		       char *err, size_t errlen)
{
	struct watch_config tmp = *c;
	const char *p = text;
	unsigned int lineno = 0;
	char line[1024], msg[400];

	while (*p) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		char *s, *eq, *key, *val;

		lineno++;
		if (n >= sizeof(line)) {
			snprintf(err, errlen, "%s:%u: line too long (at most %zu bytes)",
				 name, lineno,
				 sizeof(line) - 1);
			return -1;
		}
		memcpy(line, p, n);
		line[n] = 0;
		p += n + (nl ? 1 : 0);
		s = trim(line);
		if (!*s || *s == '#')
			continue;
		eq = strchr(s, '=');
		if (!eq) {
			snprintf(err, errlen, "%s:%u: expected 'key = value', got '%.60s'", name,
				 lineno, s);
			return -1;
		}
		*eq = 0;
		key = trim(s);
		val = trim(eq + 1);
		/* A comment may follow a value after whitespace. */
		for (s = val; *s; s++)
			if (*s == '#' && s > val && (s[-1] == ' ' || s[-1] == '\t')) {
				*s = 0;
				val = trim(val);
				break;
			}
		if (!*key) {
			snprintf(err, errlen, "%s:%u: a value without a key", name, lineno);
			return -1;
		}
		if (watch_config_set(&tmp, key, val, msg, sizeof(msg))) {
			snprintf(err, errlen, "%s:%u: %s", name, lineno, msg);
			return -1;
		}
	}
	*c = tmp;
	return 0;
}

int watch_config_load(struct watch_config *c, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "r");
	char *buf, *nul;
	size_t len;
	int ret;

	if (!f) {
		snprintf(err, errlen, "cannot open the configuration file %s: %s", path,
			 strerror(errno));
		return -1;
	}
	buf = malloc(1 << 20);
	if (!buf) {
		fclose(f);
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	len = fread(buf, 1, (1 << 20) - 1, f);
	if (ferror(f) || len == (1 << 20) - 1) {
		snprintf(err, errlen, "%s: %s", path, ferror(f) ? strerror(errno) :
			 "too large for a configuration file (1 MiB)");
		fclose(f);
		free(buf);
		return -1;
	}
	fclose(f);
	buf[len] = 0;
	/*
	 * The parser reads a C string: a NUL byte would silently end the
	 * file there ("fault-rate = 5\0junk" read as 5).  Refuse it.
	 */
	nul = memchr(buf, 0, len);
	if (nul) {
		unsigned int lineno = 1;
		const char *q;

		for (q = buf; q < nul; q++)
			lineno += *q == '\n';
		snprintf(err, errlen, "%s:%u: a NUL byte: a configuration file is text "
			 "(remove it, or give the right file)", path, lineno);
		free(buf);
		return -1;
	}
	ret = watch_config_parse(c, buf, path, err, errlen);
	free(buf);
	return ret;
}

static void print_duration(FILE *f, uint64_t ns)
{
	if (ns && ns % (3600 * ALERT_NS_PER_S) == 0)
		fprintf(f, "%" PRIu64 "h\n", ns / (3600 * ALERT_NS_PER_S));
	else if (ns && ns % (60 * ALERT_NS_PER_S) == 0)
		fprintf(f, "%" PRIu64 "m\n", ns / (60 * ALERT_NS_PER_S));
	else if (ns % ALERT_NS_PER_S == 0)
		fprintf(f, "%" PRIu64 "s\n", ns / ALERT_NS_PER_S);
	else
		fprintf(f, "%" PRIu64 "ms\n", ns / 1000000);
}

void watch_config_print(const struct watch_config *c, FILE *f)
{
	size_t i;

	for (i = 0; i < sizeof(opts) / sizeof(opts[0]); i++) {
		const struct opt *o = &opts[i];
		const void *p = (const char *)c + o->off;

		fprintf(f, "# %s\n%s = ", o->help, o->key);
		switch (o->type) {
		case T_RATE:
		case T_FACTOR:
			fprintf(f, "%g\n", *(const double *)p);
			break;
		case T_DURATION:
			if (o->off == W(textfile_every_s))
				print_duration(f, (uint64_t)(*(const double *)p * 1e9 + 0.5));
			else
				print_duration(f, *(const uint64_t *)p);
			break;
		case T_COUNT:
			if (o->off == R(lost_min))
				fprintf(f, "%" PRIu64 "\n", *(const uint64_t *)p);
			else
				fprintf(f, "%u\n", *(const unsigned int *)p);
			break;
		case T_BOOL:
			fprintf(f, "%s\n", *(const bool *)p ? "yes" : "no");
			break;
		case T_PATH:
		case T_LISTEN:
			fprintf(f, "%s\n", (const char *)p);
			break;
		case T_RULES: {
			int r, n = 0;

			for (r = 0; r < ALERT_R_NR; r++)
				if (c->rules.disabled[r])
					fprintf(f, "%s%s", n++ ? "," : "", alert_rule_name(r));
			fprintf(f, "%s\n", n ? "" : "none");
			break;
		}
		}
	}
}
