#!/bin/bash
# watch --journal: structured journal entries, read back with the journal's
# own reader.  No systemd runs in a container, so this test runs
# systemd-journald itself inside a private mount namespace (unshare -m)
# with a tmpfs on /run: its sockets and its volatile journal in
# /run/log/journal exist only there, the host's /run is not touched.
# The entries are read with journalctl -o json, and the checks are: the
# fields of an escalation (MESSAGE_ID, PRIORITY, rule, VM, GFN, checker
# rule, evidence), one distinct MESSAGE_ID per anomaly class, summaries,
# nothing from a clean recording, and the fallbacks said on stderr.
set -u
M=${MBECSCOPE:-build/asan/mbecscope}
M=$(realpath "$M")
top=$(cd "$(dirname "$0")/../.." && pwd)
fx=$top/tests/golden/fixtures
n=0 fails=0
ok() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else fails=$((fails + 1)); echo "not ok $n - $2"; fi; }

jd=/lib/systemd/systemd-journald
if [ "$(id -u)" != 0 ] || [ ! -x "$jd" ] || ! command -v journalctl >/dev/null ||
   ! unshare -m --propagation private true 2>/dev/null; then
	echo "1..0 # SKIP needs root, unshare -m and systemd-journald (package systemd)"
	exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The same MESSAGE_IDs as src/alert/journal.c, read from its table: 11,
# each 128 bits of hex, all different.
ids=$(grep -oE '"[0-9a-f]{32}"' "$top/src/alert/journal.c" | tr -d '"')
ok $([ "$(echo "$ids" | wc -l)" = 11 ] && [ "$(echo "$ids" | sort -u | wc -l)" = 11 ]; echo $?) \
	"journal.c: 11 fixed MESSAGE_IDs, all different"
id_of() { grep -E "ALERT_R_$1\] = \"" "$top/src/alert/journal.c" | grep -oE '[0-9a-f]{32}'; }
summary_id=$(grep -oE 'summary_id\[\] = "[0-9a-f]{32}"' "$top/src/alert/journal.c" | grep -oE '[0-9a-f]{32}')

cat >"$tmp/inner.sh" <<'INNER'
set -u
tmp=$1 M=$2 fx=$3
mount -t tmpfs tmpfs /run || exit 3
printf '[Journal]\nStorage=volatile\nReadKMsg=no\nForwardToSyslog=no\nForwardToWall=no\n' >"$tmp/journald.conf"
mount --bind "$tmp/journald.conf" /etc/systemd/journald.conf || exit 3
# No socket yet: watch --journal says it falls back to syslog.
"$M" watch --replay "$fx/escalation.trace" --journal --quiet >"$tmp/nosock.out" 2>"$tmp/nosock.err"
echo $? >"$tmp/nosock.rc"
mkdir -p /run/systemd/journal /run/log/journal
/lib/systemd/systemd-journald >"$tmp/journald.log" 2>&1 &
jpid=$!
for i in $(seq 100); do [ -S /run/systemd/journal/socket ] && break; sleep 0.1; done
[ -S /run/systemd/journal/socket ] || { echo "journald did not start" >&2; kill $jpid; exit 3; }
for c in escalation no-progress format exit-qual nested-inject role; do
	"$M" watch --replay "$fx/$c.trace" --journal --quiet 2>"$tmp/$c.err"
	echo $? >"$tmp/$c.rc"
done
cat "$fx/escalation.trace" "$fx/escalation.trace" >"$tmp/twice.trace"
"$M" watch --replay "$tmp/twice.trace" --journal --quiet 2>"$tmp/twice.err"
"$M" watch --replay "$fx/workload.mbr" --journal --quiet 2>"$tmp/clean.err"
echo $? >"$tmp/clean.rc"
# Wait (deadline 10 s) until journald has written the 6 + 2 alert entries.
for i in $(seq 100); do
	m=$(journalctl --directory=/run/log/journal SYSLOG_IDENTIFIER=mbecscope -o json --no-pager 2>/dev/null | wc -l)
	[ "$m" -ge 8 ] && break
	sleep 0.1
done
journalctl --directory=/run/log/journal SYSLOG_IDENTIFIER=mbecscope -o json --no-pager >"$tmp/entries.json"
# journald gone, its socket left behind: the entries are refused, and watch says so.
kill $jpid; wait $jpid
"$M" watch --replay "$fx/escalation.trace" --journal --quiet 2>"$tmp/gone.err"
echo $? >"$tmp/gone.rc"
exit 0
INNER
timeout 120 unshare -m --propagation private bash "$tmp/inner.sh" "$tmp" "$M" "$fx" 2>"$tmp/inner.err"
rc=$?
ok $rc "journald ran in a private mount namespace (rc=$rc)"
[ $rc -eq 0 ] || sed 's/^/# /' "$tmp/inner.err" "$tmp/journald.log" 2>/dev/null

q() {	# PYTHON-EXPRESSION over e (list of entries): prints the result
	python3 -c '
import json, sys
e = [json.loads(l) for l in open(sys.argv[1])]
print(eval(sys.argv[2]))' "$tmp/entries.json" "$1"
}
touch "$tmp/entries.json"
esc=$(id_of ESCALATION)
got=$(q "[(x['PRIORITY'], x['MBECSCOPE_KIND'], x['MBECSCOPE_RULE'], x['MBECSCOPE_SEVERITY'], x.get('MBECSCOPE_VM'), x.get('MBECSCOPE_GFN'), x.get('MBECSCOPE_CHECK_RULE'), 'MBECSCOPE_EVIDENCE' in x, x['MESSAGE'][:16]) for x in e if x.get('MESSAGE_ID') == '$esc']")
want="[('3', 'alert', 'escalation', 'critical', '4128', '0x21', 'spte-exceeds-walk', True, 'ALERT critical e'), ('3', 'alert', 'escalation', 'critical', '4128', '0x21', 'spte-exceeds-walk', True, 'ALERT critical e')]"
ok $([ "$got" = "$want" ]; echo $?) "escalation read back: MESSAGE_ID, PRIORITY 3, rule, VM 4128, GFN 0x21, checker rule, evidence"
[ "$got" = "$want" ] || { echo "# got  $got"; echo "# want $want"; }

for c in no-progress format exit-qual nested-inject role; do
	id=$(id_of "$(echo $c | tr a-z- A-Z_)")
	got=$(q "sorted(set(x['MBECSCOPE_RULE'] for x in e if x.get('MESSAGE_ID') == '$id' and x['MBECSCOPE_KIND'] == 'alert'))")
	ok $([ "$got" = "['$c']" ] && [ "$(cat "$tmp/$c.rc")" = 1 ]; echo $?) \
		"$c: its own MESSAGE_ID $id, rule $got"
done
got=$(q "[(x['MBECSCOPE_RULE'], x['MBECSCOPE_COUNT'], x['PRIORITY']) for x in e if x.get('MESSAGE_ID') == '$summary_id']")
ok $([ "$got" = "[('escalation', '1', '5')]" ]; echo $?) "escalation twice: one summary entry, count 1, PRIORITY 5 ($got)"
got=$(q "len(e)")
ok $([ "$got" = 8 ] && [ "$(cat "$tmp/clean.rc")" = 0 ]; echo $?) \
	"8 entries in all: a clean recording adds none ($got)"
grep -q "journal: /run/systemd/journal/socket is missing" "$tmp/nosock.err" && [ "$(cat "$tmp/nosock.rc")" = 1 ]
ok $? "no journald: watch says it falls back to syslog, the alert still fires"
grep -q "the journal refused 1 alert entry (the other sinks have them)" "$tmp/gone.err" && [ "$(cat "$tmp/gone.rc")" = 2 ]
ok $? "journald gone: the refused entry is counted and said, exit 2"
for f in nosock gone; do sed 's/^/# '$f': /' "$tmp/$f.err"; done

echo "1..$n"
[ $fails -eq 0 ]
