#!/bin/bash
# packaging/: the example configuration is a valid watch configuration
# (and says what it sets), the systemd unit restarts on failure but not on
# a configuration error, reloads with SIGHUP, and passes systemd-analyze.
set -u
M=${MBECSCOPE:-build/asan/mbecscope}
unit=packaging/mbecscope-watch.service
conf=packaging/watch.conf.example
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
failed=0	# every .t exits non-zero when one of its tests failed
ok() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else failed=$((failed + 1)); echo "not ok $n - $2"; fi; }
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }

"$M" watch --config "$conf" --check-config >"$tmp/out" 2>"$tmp/err"
ok $? "the example configuration parses"
sed 's/^/# /' "$tmp/err"
# Every key of the example comes back with the value the example gives it.
bad=0
while IFS= read -r line; do
	case "$line" in ''|'#'*) continue ;; esac
	key=$(echo "$line" | sed 's/ *=.*//')
	val=$(echo "$line" | sed 's/^[^=]*= *//; s/ *#.*//')
	got=$(sed -n "s/^$key = //p" "$tmp/out")
	[ "$got" = "$val" ] || { echo "# $key: example '$val', in effect '$got'"; bad=1; }
done <"$conf"
ok $bad "every setting of the example takes effect as written"
# The example's path settings are where a Debian host keeps them.
grep -q '^textfile = /var/lib/prometheus/node-exporter/' "$conf"
ok $? "the textfile goes to node_exporter's textfile directory"

for k in 'ExecStart=.*mbecscope watch --config /etc/mbecscope/watch.conf' \
	'ExecReload=/bin/kill -HUP \$MAINPID' 'Restart=on-failure' 'RestartPreventExitStatus=2' \
	'KillSignal=SIGTERM'; do
	grep -q "^$k" "$unit"
	ok $? "unit: $k"
done
grep -q 'ReadWritePaths=.*/var/log/mbecscope' "$unit" && grep -q 'ReadWritePaths=.*/var/lib/prometheus/node-exporter' "$unit"
ok $? "unit: the example's output and textfile directories are writable under ProtectSystem"

if command -v systemd-analyze >/dev/null 2>&1; then
	systemd-analyze verify "$unit" >"$tmp/v" 2>&1
	# The binary is not installed here and the man page is not in man's path.
	grep -v -e 'is not executable' -e "Command 'man " "$tmp/v" >"$tmp/v2"
	ok $([ ! -s "$tmp/v2" ]; echo $?) "systemd-analyze verify finds nothing else"
	sed 's/^/# /' "$tmp/v2"
else
	skip "systemd-analyze verify" "systemd-analyze is not installed"
fi
echo "1..$n"
[ "$failed" -eq 0 ]
