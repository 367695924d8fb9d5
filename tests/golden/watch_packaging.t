#!/bin/bash
# packaging/: the example configuration is a valid watch configuration
# (and says what it sets), the systemd unit restarts on failure but not on
# a configuration error, reloads with SIGHUP, and passes systemd-analyze.
. "$(dirname "$0")/lib.sh"
M=$MBECSCOPE
unit=packaging/mbecscope-watch.service
conf=packaging/watch.conf.example

"$M" watch --config "$conf" --check-config >"$tmp/out" 2>"$tmp/err"
ok_if $? "the example configuration parses"
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
ok_if $bad "every setting of the example takes effect as written"
# The example's path settings are where a Debian host keeps them.
grep -q '^textfile = /var/lib/prometheus/node-exporter/' "$conf"
ok_if $? "the textfile goes to node_exporter's textfile directory"

for k in 'ExecStart=.*mbecscope watch --config /etc/mbecscope/watch.conf' \
	'ExecReload=/bin/kill -HUP \$MAINPID' 'Restart=on-failure' 'RestartPreventExitStatus=2' \
	'KillSignal=SIGTERM'; do
	grep -q "^$k" "$unit"
	ok_if $? "unit: $k"
done
grep -q 'ReadWritePaths=.*/var/log/mbecscope' "$unit" && grep -q 'ReadWritePaths=.*/var/lib/prometheus/node-exporter' "$unit"
ok_if $? "unit: the example's output and textfile directories are writable under ProtectSystem"

if command -v systemd-analyze >/dev/null 2>&1; then
	systemd-analyze verify "$unit" >"$tmp/v" 2>&1
	# The binary is not installed here and the man page is not in man's path.
	grep -v -e 'is not executable' -e "Command 'man " "$tmp/v" >"$tmp/v2"
	ok_if $([ ! -s "$tmp/v2" ]; echo $?) "systemd-analyze verify finds nothing else"
	sed 's/^/# /' "$tmp/v2"
else
	skip "systemd-analyze verify" "systemd-analyze is not installed"
fi
tap_done
