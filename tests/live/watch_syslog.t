#!/bin/bash
# mbecscope watch --syslog: the alerts reach syslog(3) with the daemon
# facility and the priorities of mbecscope(8).  The host has no syslog
# daemon, so the test runs watch in a private mount namespace whose /dev
# is a tmpfs with a /dev/log datagram socket served by a small python
# listener; nothing outside the namespace changes.
set -u
M=${MBECSCOPE:-build/asan/mbecscope}
fx=tests/golden/fixtures
n=0
failed=0	# every .t exits non-zero when one of its tests failed
ok() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else failed=$((failed + 1)); echo "not ok $n - $2"; fi; }

if [ "$(id -u)" != 0 ] || ! command -v unshare >/dev/null; then
	echo "1..0 # SKIP needs root and unshare(1) for a private /dev/log"
	exit 0
fi
if [ ! -f $fx/planted.mbr ]; then
	echo "1..0 # SKIP the golden fixtures are not here"
	exit 0
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
M=$(readlink -f "$M")
cat >"$tmp/inner.sh" <<EOF
set -e
mount -t tmpfs none /dev
mknod -m 666 /dev/null c 1 3
mknod -m 666 /dev/urandom c 1 9
python3 -c '
import socket
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind("/dev/log")
open("$tmp/ready", "w").close()
s.settimeout(30)
with open("$tmp/log", "w") as f:
    while True:
        m = s.recv(4096).decode()
        if m == "STOP":
            break
        f.write(m.rstrip("\n") + "\n")
        f.flush()
' &
end=\$((SECONDS + 60))	# the listener is up, or a deadline load cannot reach
until [ -e "$tmp/ready" ] || [ \$SECONDS -ge \$end ]; do sleep 0.1; done
rc=0
"$M" watch --replay $fx/planted.mbr --syslog --quiet >"$tmp/out" 2>"$tmp/err" || rc=\$?
echo \$rc >"$tmp/rc"
python3 -c 'import socket; s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM); s.sendto(b"STOP", "/dev/log")'
wait
EOF
unshare -m --propagation private bash "$tmp/inner.sh" >"$tmp/ns.out" 2>&1
ok $? "watch ran in a private namespace with a /dev/log"
sed 's/^/# /' "$tmp/ns.out" "$tmp/err" 2>/dev/null | head -5
ok $([ "$(cat "$tmp/rc" 2>/dev/null)" = 1 ]; echo $?) "watch --replay planted.mbr --syslog: exit 1 (alerts fired)"
# <27> is facility daemon (3) * 8 + LOG_ERR (3)
alerts=$(grep -c '^<27>.*mbecscope\[[0-9]*\]: ALERT critical ' "$tmp/log")
ok $([ "$alerts" = 5 ]; echo $?) "five alerts at daemon.err, tagged mbecscope[pid] ($alerts)"
grep -q '^<27>.*ALERT critical role vm 8000 gfn 0x107 (role-vs-walk): ' "$tmp/log"
ok $? "the role alert names its VM, GFN and the checker's rule"
ok $(! grep -q -v '^<27>' "$tmp/log"; echo $?) "nothing else was logged"
sed 's/^/# /' "$tmp/log" | head -2
echo "1..$n"
[ "$failed" -eq 0 ]
