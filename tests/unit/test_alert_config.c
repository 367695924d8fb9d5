// SPDX-License-Identifier: GPL-2.0
/*
 * watch's configuration file: values land where they belong, every kind
 * of mistake is reported with the file name and line number and leaves
 * the settings untouched, the printed settings parse back to the same
 * settings; label escaping of the Prometheus writer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "alert/alert.h"
#include "alert/sinks.h"
#include "tap.h"

static void expect_error(const char *text, const char *want)
{
	struct watch_config c, before;
	char err[400] = "";
	int r;

	watch_config_init(&c);
	c.rules.fault_rate = 1234;
	before = c;
	r = watch_config_parse(&c, text, "w.conf", err, sizeof(err));
	ok(r == -1 && strstr(err, want) && !memcmp(&c, &before, sizeof(c)),
	   "error '%s' (got '%s')", want, err);
}

/* Load @len bytes of @text from a file: 0, or -1 with @err. */
static int load_bytes(const char *text, size_t len, struct watch_config *c, char *err,
		      size_t errlen)
{
	char path[] = "/tmp/mbecscope-conf-XXXXXX";
	int fd = mkstemp(path), r;

	if (fd < 0 || write(fd, text, len) != (ssize_t)len) {
		snprintf(err, errlen, "cannot write %s", path);
		return -2;
	}
	close(fd);
	r = watch_config_load(c, path, err, errlen);
	unlink(path);
	return r;
}

/* NUL bytes: the whole file is read, never only up to the first NUL. */
static void nul_cases(void)
{
	static const char value_then_junk[] = "max-alerts = 3\nfault-rate = 5\0junk\n";
	static const char nul_line[] = "fault-rate = 5\n\n\0\0\0garbage\n";
	struct watch_config c;
	char err[400] = "";
	int r;

	watch_config_init(&c);
	c.rules.fault_rate = 1234;
	r = load_bytes(value_then_junk, sizeof(value_then_junk) - 1, &c, err, sizeof(err));
	ok(r == -1 && strstr(err, ":2: a NUL byte") && c.rules.fault_rate == 1234,
	   "'fault-rate = 5\\0junk' is refused at line 2, nothing set (%s)", err);
	r = load_bytes(nul_line, sizeof(nul_line) - 1, &c, err, sizeof(err));
	ok(r == -1 && strstr(err, ":3: a NUL byte") && c.rules.fault_rate == 1234,
	   "a line of NULs and garbage is refused at line 3 (%s)", err);
	err[0] = 0;
	r = load_bytes("fault-rate = 5\n", 15, &c, err, sizeof(err));
	ok(r == 0 && c.rules.fault_rate == 5, "the same file without NULs loads (%s)", err);
}

int main(void)
{
	static const char good[] =
		"# mbecscope watch settings\n"
		"\n"
		"fault-rate = 50000\n"
		"fault-factor=8   # a comment after the value\n"
		"  exec-rate = 2500.5\n"
		"window = 500ms\n"
		"interval = 5m\n"
		"expire = 0\n"
		"lost-events = 100\n"
		"lag = 1.5s\n"
		"max-alerts = 0\n"
		"disable = role, lost-events\n"
		"output = /var/log/mbecscope/alerts.jsonl\n"
		"syslog = yes\n"
		"textfile = /var/lib/prometheus/node-exporter/mbecscope.prom\n"
		"textfile-interval = 30s\n"
		"listen = 127.0.0.1:9431\r\n"
		"allow-remote = no";
	struct watch_config c, d;
	char err[400] = "", *buf = NULL;
	size_t len = 0;
	FILE *f;
	uint64_t ns;

	watch_config_init(&c);
	ok(!watch_config_parse(&c, good, "good.conf", err, sizeof(err)), "a good file parses (%s)",
	   err);
	ok(c.rules.fault_rate == 50000 && c.rules.fault_factor == 8 &&
	   c.rules.exec_rate == 2500.5, "rates and factors");
	is_u64(c.rules.window_ns, 500000000, "window 500ms");
	is_u64(c.rules.interval_ns, 300 * ALERT_NS_PER_S, "interval 5m");
	is_u64(c.rules.expire_ns, 0, "expire 0 (never)");
	is_u64(c.rules.lost_min, 100, "lost-events");
	is_u64(c.rules.lag_ns, 1500000000, "lag 1.5s");
	is_u64(c.rules.max_alerts, 0, "max-alerts 0");
	ok(c.rules.disabled[ALERT_R_ROLE] && c.rules.disabled[ALERT_R_LOST] &&
	   !c.rules.disabled[ALERT_R_ESCALATION], "disable: two rules");
	ok(!strcmp(c.json_path, "/var/log/mbecscope/alerts.jsonl") && c.syslog &&
	   !strcmp(c.textfile, "/var/lib/prometheus/node-exporter/mbecscope.prom") &&
	   c.textfile_every_s == 30 && !strcmp(c.listen, "127.0.0.1:9431") && !c.allow_remote,
	   "sinks (CRLF line ends too)");
	ok(c.rules.fault_min_rate == 1000 && c.rules.baseline_windows == 60,
	   "keys not in the file keep their defaults");

	/* --check-config output is a configuration file that gives the same settings. */
	f = open_memstream(&buf, &len);
	watch_config_print(&c, f);
	fclose(f);
	watch_config_init(&d);
	ok(!watch_config_parse(&d, buf, "printed", err, sizeof(err)) &&
	   !memcmp(&c, &d, sizeof(c)), "printed settings parse back the same (%s)", err);
	free(buf);

	expect_error("fault-rate = 1\nbogus = 3\n", "w.conf:2: unknown key 'bogus'");
	expect_error("\n\n# c\nfault-rate 5\n", "w.conf:4: expected 'key = value'");
	expect_error("window = 5 parsecs\n", "w.conf:1: window wants a duration");
	expect_error("window = 0\n", "w.conf:1: window must be at least 1ms");
	expect_error("fault-rate = -5\n", "w.conf:1: fault-rate wants a number");
	expect_error("fault-rate = 12abc\n", "w.conf:1: fault-rate wants a number");
	expect_error("fault-factor = 0.5\n", "w.conf:1: fault-factor wants a factor above 1");
	expect_error("max-alerts = -1\n", "w.conf:1: max-alerts wants a whole number");
	expect_error("syslog = maybe\n", "w.conf:1: syslog wants yes or no");
	expect_error("disable = escalation,storms\n", "w.conf:1: disable: unknown rule 'storms'");
	expect_error("listen = 127.0.0.1:99999\n", "w.conf:1: '127.0.0.1:99999' is not [ADDR:]PORT");
	expect_error("listen = :http\n", "is not [ADDR:]PORT");
	expect_error("= 5\n", "w.conf:1: a value without a key");
	expect_error("baseline-windows = 0\n", "w.conf:1: baseline-windows must be at least 1");

	ok(!alert_parse_duration("250ms", &ns) && ns == 250000000, "250ms");
	ok(!alert_parse_duration("2h", &ns) && ns == 7200 * ALERT_NS_PER_S, "2h");
	ok(!alert_parse_duration("3", &ns) && ns == 3 * ALERT_NS_PER_S, "a bare number is seconds");
	ok(alert_parse_duration("3 s", &ns) && alert_parse_duration("", &ns) &&
	   alert_parse_duration("-1s", &ns) && alert_parse_duration("1d", &ns),
	   "'3 s', '', '-1s', '1d' are refused");

	{
		char b[64];

		ok(!strcmp(prom_escape_label("a\"b\\c\nd", b, sizeof(b)), "a\\\"b\\\\c\\nd"),
		   "label escaping: quote, backslash, newline (%s)", b);
		ok(!strcmp(prom_escape_label("plain/path.conf", b, sizeof(b)), "plain/path.conf"),
		   "label escaping leaves the rest alone");
	}
	nul_cases();
	return done_testing();
}
