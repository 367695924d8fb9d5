#!/bin/bash
# mbecscope watch, live: usage and configuration errors (exit 2, one line,
# with the file's line number), the storm workload raising fault-storm
# exactly once while the matrix workload stays quiet, the Prometheus
# textfile and HTTP endpoint checked with a strict format parser, SIGHUP
# reopening the JSON lines file, SIGTERM flushing and exiting 0, and the
# endpoint refusing non-local binds unless --allow-remote.  HTTP requests
# go to 127.0.0.1 only.
set -u
M=${MBECSCOPE:-build/asan/mbecscope}
P="python3 tests/golden/watch_prom.py"
tmp=$(mktemp -d)
bg=
cleanup() {
	[ -n "$bg" ] && kill -9 "$bg" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
n=0
failed=0	# every .t exits non-zero when one of its tests failed
ok() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else failed=$((failed + 1)); echo "not ok $n - $2"; fi; }
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }
lines() { wc -l <"$1" | tr -d ' '; }
# count RULE TYPE FILE: JSON lines of that type and rule
count() { grep -c "^{\"type\":\"$2\",\"rule\":\"$1\"" "$3"; }
# wait_for CMD...: up to 20 s
# wait_for CMD...: until CMD succeeds, polled every 0.1 s, deadline 60 s
wait_for() { local end=$((SECONDS + 60)); until "$@"; do [ $SECONDS -ge $end ] && return 1; sleep 0.1; done; }
# A free TCP port on 127.0.0.1.
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

"$M" watch --help >"$tmp/out" 2>&1
ok $([ $? -eq 0 ] && grep -q -- "--textfile" "$tmp/out"; echo $?) "watch --help exits 0 and lists --textfile"

"$M" watch --bogus >"$tmp/out" 2>"$tmp/err"
rc=$?
ok $([ $rc -eq 2 ] && [ "$(lines "$tmp/err")" = 1 ] && [ ! -s "$tmp/out" ]; echo $?) \
	"an unknown option: exit 2 and one line (rc=$rc)"

printf 'fault-rate = 100\n# a comment\n\nwindow = fast\n' >"$tmp/bad.conf"
"$M" watch --config "$tmp/bad.conf" >"$tmp/out" 2>"$tmp/err"
rc=$?
ok $([ $rc -eq 2 ] && [ "$(lines "$tmp/err")" = 1 ] && grep -q "bad.conf:4: window" "$tmp/err" &&
	[ ! -s "$tmp/out" ]; echo $?) "a bad configuration file: exit 2, file:line in one line"
sed 's/^/# /' "$tmp/err"
# NUL bytes: never read as the end of the file ("fault-rate = 5\0junk" is not 5).
printf 'max-alerts = 3\nfault-rate = 5\0junk\n' >"$tmp/nul.conf"
"$M" watch --config "$tmp/nul.conf" --check-config >"$tmp/out" 2>"$tmp/err"
rc=$?
ok $([ $rc -eq 2 ] && [ "$(lines "$tmp/err")" = 1 ] && grep -q "nul.conf:2: a NUL byte" "$tmp/err" &&
	[ ! -s "$tmp/out" ]; echo $?) "a NUL byte in the configuration file: exit 2, file:line (rc=$rc)"
"$M" watch --config "$tmp/nonexistent.conf" >/dev/null 2>"$tmp/err"
ok $([ $? -eq 2 ] && grep -q "cannot open" "$tmp/err"; echo $?) "a missing configuration file: exit 2"

printf 'fault-rate = 100\ninterval = 30s\n' >"$tmp/good.conf"
"$M" watch --config "$tmp/good.conf" --fault-rate 200 --check-config >"$tmp/out" 2>&1
ok $([ $? -eq 0 ] && grep -q "^fault-rate = 200$" "$tmp/out" && grep -q "^interval = 30s$" "$tmp/out"; echo $?) \
	"--check-config: the file's settings, flags over them"

p=$(port)
"$M" watch --listen 0.0.0.0:$p >"$tmp/out" 2>"$tmp/err"
rc=$?
ok $([ $rc -eq 2 ] && [ "$(lines "$tmp/err")" = 1 ] && grep -q "allow-remote" "$tmp/err"; echo $?) \
	"--listen 0.0.0.0 without --allow-remote: exit 2, says how (rc=$rc)"
"$M" watch --listen 10.1.2.3:$p >/dev/null 2>"$tmp/err"
ok $([ $? -eq 2 ] && grep -q "not a loopback" "$tmp/err"; echo $?) "--listen on another address: refused"
"$M" watch --listen 127.0.0.1:0 >/dev/null 2>"$tmp/err"
ok $([ $? -eq 2 ]; echo $?) "--listen port 0: exit 2"

if [ "$(id -u)" = 0 ]; then
	setpriv --reuid 65534 --regid 65534 --clear-groups "$M" watch --duration 1 \
		>"$tmp/out" 2>"$tmp/err"
else
	"$M" watch --duration 1 >"$tmp/out" 2>"$tmp/err"
fi
rc=$?
ok $([ $rc -eq 2 ] && [ "$(lines "$tmp/err")" = 1 ] && grep -q "root" "$tmp/err"; echo $?) \
	"unprivileged: exit 2, one line naming root (rc=$rc)"

if [ "$(id -u)" != 0 ] || [ ! -c /dev/kvm ] || [ ! -r /sys/kernel/btf/vmlinux ]; then
	why="needs root, /dev/kvm and BTF"
	for t in "storm fires fault-storm once" "lost-events" "matrix is quiet" "textfile format" \
		"SIGHUP reopens" "SIGTERM exits 0" "HTTP endpoint"; do
		skip "$t" "$why"
	done
	echo "1..$n"
	exit $((failed > 0))
fi

# ---- the storm workload: fault-storm fires once, then is summarized ----------
"$M" watch --workload storm --duration 4 --fault-rate 1000 --interval 2s --json \
	--output "$tmp/storm.jsonl" --textfile "$tmp/storm.prom" >"$tmp/out" 2>"$tmp/err"
rc=$?
ok $([ $rc -eq 1 ]; echo $?) "watch --workload storm --fault-rate 1000: exit 1 (rc=$rc)"
[ $rc -eq 1 ] || sed 's/^/# /' "$tmp/err" "$tmp/out" | head -20
fired=$(count fault-storm alert "$tmp/out")
ok $([ "$fired" = 1 ]; echo $?) "fault-storm fired exactly once ($fired)"
sums=$(count fault-storm summary "$tmp/out")
ok $([ "$sums" -ge 1 ]; echo $?) "later storm windows are summarized ($sums summaries)"
others=$(grep '"type":"alert"' "$tmp/out" | grep -vc '"rule":"fault-storm"')
ok $([ "$others" = 0 ]; echo $?) "no other alert from the storm ($others)"
python3 -c '
import json, sys
ls = [json.loads(l) for l in open(sys.argv[1])]
a = [l for l in ls if l["type"] == "alert"][0]
assert a["vm"] > 0 and a["per_second"] >= 1000 and a["threshold_per_second"] == 1000
assert a["time"].endswith("Z") and a["severity"] == "warning"
s = [l for l in ls if l["type"] == "summary"]
assert all(x["count"] >= 1 and x["first_ns"] <= x["last_ns"] <= x["ts_ns"] for x in s)
assert ls[-1]["type"] == "end" and ls[-1]["alerts"] == 1
' "$tmp/out" >"$tmp/pyerr" 2>&1
ok $? "the alert and summaries are well-formed JSON with rate, threshold, VM, time"
tail -3 "$tmp/pyerr" | sed 's/^/# /'
# (a file, not <(...): the lab's L1 has no /dev/fd, which process substitution needs)
grep -v '"type":"end"' "$tmp/out" >"$tmp/out.noend"
ok $([ -s "$tmp/out.noend" ] && cmp -s "$tmp/out.noend" "$tmp/storm.jsonl"; echo $?) \
	"--output got the same JSON lines as stdout"
$P "$tmp/storm.prom" --expect 'mbecscope_alerts_total{rule="fault-storm",severity="warning"}' == 1 \
	--expect 'mbecscope_alerts_total{rule="escalation",severity="critical"}' == 0 \
	--expect 'mbecscope_records_total' '>' 1000 >"$tmp/pc" 2>&1
ok $? "the textfile passes the strict format parser, fault-storm counted once"
sed 's/^/# /' "$tmp/pc"
vm=$(grep -o '"vm":[0-9]*' "$tmp/out" | head -1 | cut -d: -f2)
$P "$tmp/storm.prom" --expect "mbecscope_vm_faults_total{vm=\"$vm\"}" '>' 1000 >"$tmp/pc" 2>&1
ok $? "the storm VM's faults are in the textfile"
ls "$tmp"/storm.prom.tmp.* >/dev/null 2>&1
ok $([ $? -ne 0 ]; echo $?) "no temporary textfile left behind"

# The parser is not a rubber stamp: a broken copy fails it.
sed 's/mbecscope_records_total \([0-9]*\)/mbecscope_records_total{a="\\q"} \1/' "$tmp/storm.prom" >"$tmp/broken.prom"
$P "$tmp/broken.prom" >/dev/null 2>&1
ok $([ $? -ne 0 ]; echo $?) "negative control: a bad escape fails the parser"

# ---- a ring buffer too small for the storm: lost-events ------------------------
"$M" watch --workload storm --duration 3 --ringbuf-kb 4 --json >"$tmp/out" 2>"$tmp/err"
rc=$?
lost=$(count lost-events alert "$tmp/out")
ok $([ $rc -eq 1 ] && [ "$lost" = 1 ]; echo $?) \
	"a 4 KiB ring buffer under the storm: lost-events fires once (rc=$rc, $lost)"
[ "$lost" = 1 ] || sed 's/^/# /' "$tmp/err" "$tmp/out" | head -10
ok $(grep -q '"type":"end".*"lost_records":[1-9]' "$tmp/out"; echo $?) "the lost records are counted"

# ---- the matrix workload with the default thresholds: quiet -------------------
"$M" watch --workload matrix --json >"$tmp/out" 2>"$tmp/err"
rc=$?
alerts=$(grep -c '"type":"alert"' "$tmp/out")
ok $([ $rc -eq 0 ] && [ "$alerts" = 0 ] && grep -q '"type":"end"' "$tmp/out"; echo $?) \
	"watch --workload matrix: no alert, exit 0 (rc=$rc, $alerts alerts)"
[ $rc -eq 0 ] || sed 's/^/# /' "$tmp/err" "$tmp/out" | head -10

# ---- a daemon: HTTP endpoint, SIGHUP, SIGTERM -----------------------------------
p=$(port)
cfg="$tmp/we\"ird\\name.conf"
# A threshold nothing reaches; SIGHUP will bring it down to 1000/s.
printf 'fault-rate = 100000000\nfault-factor = 0\nlisten = 127.0.0.1:%s\n' "$p" >"$cfg"
"$M" watch --config "$cfg" --json --quiet --output "$tmp/d.jsonl" --textfile "$tmp/d.prom" \
	--textfile-interval 200ms >"$tmp/dout" 2>"$tmp/derr" &
bg=$!
wait_for curl -sf -o "$tmp/m1" "http://127.0.0.1:$p/metrics"
ok $? "the endpoint answers on 127.0.0.1:$p/metrics"
ecfg=$(printf '%s' "$cfg" | sed 's/\\/\\\\/g; s/"/\\"/g')
$P "$tmp/m1" --expect "mbecscope_watch_info{mode=\"live\",source=\"kernel\",config=\"$ecfg\"}" == 1 \
	>"$tmp/pc" 2>&1
ok $? "the HTTP page passes the strict parser; a quote and backslash in a label round-trip"
sed 's/^/# /' "$tmp/pc"
ct=$(curl -s -o /dev/null -w '%{content_type}' "http://127.0.0.1:$p/metrics")
ok $(echo "$ct" | grep -q '^text/plain; version=0.0.4'; echo $?) "content type $ct"
code=$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$p/nope")
ok $([ "$code" = 404 ]; echo $?) "another path: 404"
code=$(curl -s -o /dev/null -w '%{http_code}' -X POST "http://127.0.0.1:$p/metrics")
ok $([ "$code" = 405 ]; echo $?) "POST: 405"

# SIGHUP after logrotate moved the file: the next alerts go to a new file.
wait_for test -s "$tmp/d.prom"
mv "$tmp/d.jsonl" "$tmp/d.jsonl.1"
printf 'fault-rate = 1000\nfault-factor = 0\nlisten = 127.0.0.1:%s\n' "$p" >"$cfg"
kill -HUP $bg
wait_for test -e "$tmp/d.jsonl"
ok $? "SIGHUP: the JSON lines file is opened again"
wait_for grep -q "SIGHUP: reopened the output, reloaded" "$tmp/derr"
ok $? "SIGHUP: the configuration is read again (says so on stderr)"
# Other VMs on this host may storm too: look for this workload's VM (its pid) only.
"$M" workload --pattern storm --duration 3 >/dev/null 2>&1 &
wl=$!
wait $wl
wait_for grep -q "\"rule\":\"fault-storm\",\"severity\":\"warning\",\"vm\":$wl," "$tmp/d.jsonl"
ok $? "the reloaded threshold fires; the alert lands in the new file (VM $wl)"
ok $(! grep -q "\"vm\":$wl," "$tmp/d.jsonl.1"; echo $?) "... and not in the rotated one"
printf 'fault-rate = 1000\nwindow = never\n' >"$cfg"
kill -HUP $bg
wait_for grep -q "keeping the settings in effect" "$tmp/derr"
ok $? "SIGHUP with a broken file: reported, the settings in effect kept"
grep "keeping" "$tmp/derr" | sed 's/^/# /'
ok $(kill -0 $bg 2>/dev/null; echo $?) "the daemon survived both SIGHUPs"

kill -TERM $bg
wait $bg
rc=$?
bg=
ok $([ $rc -eq 0 ]; echo $?) "SIGTERM: exit 0 although an alert fired (rc=$rc)"
[ $rc -eq 0 ] || sed 's/^/# /' "$tmp/derr" | head
$P "$tmp/d.prom" --expect 'mbecscope_alerts_total{rule="fault-storm",severity="warning"}' '>=' 1 \
	--expect "mbecscope_vm_faults_total{vm=\"$wl\"}" '>' 1000 >"$tmp/pc" 2>&1
ok $? "SIGTERM: the final textfile is written and counts the alert"
sed 's/^/# /' "$tmp/pc"
curl -s -o /dev/null "http://127.0.0.1:$p/metrics"
ok $([ $? -ne 0 ]; echo $?) "after exit nothing listens on $p"

# --allow-remote lets the endpoint bind every address; still asked on 127.0.0.1.
p=$(port)
"$M" watch --listen 0.0.0.0:$p --allow-remote --quiet --duration 30 >/dev/null 2>"$tmp/derr" &
bg=$!
wait_for curl -sf -o "$tmp/m2" "http://127.0.0.1:$p/metrics"
ok $? "--listen 0.0.0.0 --allow-remote serves (asked on 127.0.0.1)"
kill -TERM $bg
wait $bg
bg=

echo "1..$n"
[ "$failed" -eq 0 ]
