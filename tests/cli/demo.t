#!/bin/bash
# `make run`'s demo (tools/run-demo.sh) shows the checker working on any
# machine: live with /dev/kvm, otherwise by replaying a lab recording, and
# never ends in a bare "skipping" with nothing checked.
. "$(dirname "$0")/lib.sh"

timeout 120 tools/run-demo.sh "$MBECSCOPE" >"$tmp/out" 2>"$tmp/err"
rc=$?
[ $rc -eq 0 ] && ok "the demo exits 0" || nok "the demo exited $rc" "$(tail -3 "$tmp/err")"
grep -q '^exit-qual 0x1ab' "$tmp/out" && ok "it decodes an exit qualification" ||
	nok "no decode output" "$(head -3 "$tmp/out")"
if grep -q '^SPTEs checked: [1-9]' "$tmp/out" && grep -q '^anomalies: 0$' "$tmp/out"; then
	ok "it checks SPTEs and finds no anomaly ($(grep -c '^\$ ' "$tmp/out") commands shown)"
else
	nok "no SPTE checked, or anomalies" "$(grep -E '^(SPTEs checked|anomalies|\(|\$)' "$tmp/out")"
fi
if [ -e /dev/kvm ] && [ "$(id -u)" = 0 ]; then
	grep -q 'check --workload' "$tmp/out" && ok "with /dev/kvm it checks live" ||
		nok "with /dev/kvm the demo did not run check --workload"
else
	grep -q 'no usable /dev/kvm' "$tmp/out" && ok "without /dev/kvm it says why it replays" ||
		nok "without /dev/kvm the demo does not say why" "$(sed -n 10,16p "$tmp/out")"
fi

echo "1..$n"
[ $failed -eq 0 ]
