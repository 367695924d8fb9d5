#!/bin/bash
# The Prometheus alerting rules (packaging/prometheus/mbecscope-rules.yml):
# promtool checks their syntax and runs their unit tests, which make every
# alert fire and stay quiet.  Then broken copies must be rejected, so this
# test can fail: a wrong metric name (the alert never fires), a changed
# threshold, and a YAML that does not parse.
set -u
top=$(cd "$(dirname "$0")/../.." && pwd)
dir=$top/packaging/prometheus
n=0 fails=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); fails=$((fails + 1)); echo "not ok $n - $1"; shift; for l in "$@"; do echo "# $l"; done; }

if ! command -v promtool >/dev/null; then
	echo "1..0 # SKIP promtool missing (tools/deps.sh test installs prometheus)"
	exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

out=$(promtool check rules "$dir/mbecscope-rules.yml" 2>&1)
[ $? -eq 0 ] && ok "promtool check rules: $(echo "$out" | grep -o '[0-9]* rules found')" ||
	nok "promtool check rules" "$out"

# Every alert of the rules file has a severity, a summary and a runbook,
# and is tested to fire and to stay quiet (an exp_alerts: [] case).
alerts=$(sed -n 's/^ *- alert: *//p' "$dir/mbecscope-rules.yml")
[ "$(echo "$alerts" | wc -l)" -ge 6 ] && ok "$(echo $alerts | wc -w) alerts" || nok "alerts found" "$alerts"
bad=$(python3 - "$dir/mbecscope-rules.yml" "$dir/mbecscope-rules.test.yml" <<'PY'
import sys, yaml
rules = [r for g in yaml.safe_load(open(sys.argv[1]))["groups"] for r in g["rules"]]
tests = yaml.safe_load(open(sys.argv[2]))["tests"]
fire, quiet = set(), set()
for t in tests:
    for c in t.get("alert_rule_test", []):
        (fire if c.get("exp_alerts") else quiet).add(c["alertname"])
for r in rules:
    a = r["alert"]
    if r.get("labels", {}).get("severity") not in ("critical", "warning"):
        print(a, "has no severity label")
    for k in ("summary", "runbook"):
        if not r.get("annotations", {}).get(k):
            print(a, "has no", k)
    if a not in fire:
        print(a, "is never tested to fire")
    if a not in quiet:
        print(a, "is never tested to stay quiet")
PY
)
[ $? -eq 0 ] && [ -z "$bad" ] && ok "every alert: severity, summary, runbook; tested firing and quiet" ||
	nok "alerts complete and tested" "$bad"

out=$(cd "$dir" && promtool test rules mbecscope-rules.test.yml 2>&1)
[ $? -eq 0 ] && ok "promtool test rules: every alert fires and stays quiet as expected" ||
	nok "promtool test rules" "$out"

# ---- broken copies must fail ----
broken() {	# NAME SED-EXPRESSION: the unit tests must fail on the changed rules
	cp "$dir/mbecscope-rules.test.yml" "$tmp/"
	sed "$2" "$dir/mbecscope-rules.yml" > "$tmp/mbecscope-rules.yml"
	if cmp -s "$dir/mbecscope-rules.yml" "$tmp/mbecscope-rules.yml"; then
		nok "$1: the sed expression changed nothing"
		return
	fi
	out=$(cd "$tmp" && promtool test rules mbecscope-rules.test.yml 2>&1)
	[ $? -ne 0 ] && echo "$out" | grep -q FAILED && ok "$1: promtool test rules fails" ||
		nok "$1: promtool test rules should fail" "$out"
}
broken "wrong metric name (mbecscope_anomaly_total)" 's/mbecscope_anomalies_total/mbecscope_anomaly_total/'
broken "exec-storm threshold 5000 -> 7000" 's/exec_faults_per_second > 5000/exec_faults_per_second > 7000/'
broken "falling-behind without for:" '/alert: MbecscopeFallingBehind/,/severity/{/for: 5m/d}'
broken "textfile regex matching every file" 's/file=~".*mbecscope\\\\.prom"/file=~".*"/'

sed 's/^    rules:/    rules: [/' "$dir/mbecscope-rules.yml" > "$tmp/bad.yml"
out=$(promtool check rules "$tmp/bad.yml" 2>&1)
[ $? -ne 0 ] && ok "promtool check rules rejects a file that does not parse" ||
	nok "promtool check rules should reject bad.yml" "$out"

echo "1..$n"
[ $fails -eq 0 ]
