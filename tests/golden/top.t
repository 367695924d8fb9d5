#!/bin/bash
# mbectop --replay: batch frames over committed recordings match golden
# outputs (the built-in workload, recorded on this project's shadow-paging
# host, and a planted SPTE escalation), at any --speed; JSON frames; the
# pid filter; a recording cut short; replay needs no root.
. "$(dirname "$0")/lib.sh"
TOP="$(dirname "$MBECSCOPE")/mbectop"
# tmux's socket is in $tmp (kill-server leaves a -L socket in /tmp/tmux-UID).
sock="$tmp/tmux.sock"
trap 'tmux -S "$sock" kill-server 2>/dev/null; rm -rf "$tmp"' EXIT

# golden NAME WANT-RC ARGS...: stdout equals tests/golden/NAME.out, stderr empty
golden() {
	local name=$1 want_rc=$2 rc; shift 2
	"$TOP" -b "$@" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ $rc -eq "$want_rc" ] && [ ! -s "$tmp/err" ] && diff -u "tests/golden/$name.out" "$tmp/out" \
		>"$tmp/diff"; then
		ok "$name: matches the golden output (exit $rc)"
	else
		nok "$name: exit $rc (want $want_rc)" "$(head -c 300 "$tmp/err")" "$(head -n 30 "$tmp/diff")"
	fi
}

golden top-workload 0 --replay $fx/top-workload.mbr --speed 0 -d 0.1 --vcpus
golden top-anomaly 1 --replay $fx/top-anomaly.mbr --speed 0 -d 0.5 --vcpus

# Pacing changes when frames appear, never what they say.
"$TOP" -b --replay $fx/top-workload.mbr --speed 8 -d 0.1 --vcpus 2>&1 |
	sed 's/ (x8) / (as fast as possible) /' >"$tmp/fast"
if cmp -s "$tmp/fast" tests/golden/top-workload.out; then
	ok "--speed 8 gives the same frames as --speed 0"
else
	nok "--speed 8 gives the same frames as --speed 0" "$(diff "$tmp/fast" tests/golden/top-workload.out | head -5)"
fi

"$TOP" -b -n 2 --replay $fx/top-workload.mbr --speed 0 -d 0.1 >"$tmp/out" 2>&1
frames=$(grep -c "^mbectop " "$tmp/out")
[ "$frames" = 2 ] && ok "-n 2: two frames" || nok "-n 2: two frames" "got $frames"

"$TOP" -b --json --replay $fx/top-anomaly.mbr --speed 0 >"$tmp/out" 2>"$tmp/err"
rc=$?
if [ $rc -eq 1 ] && python3 - "$tmp/out" <<'PY' 2>"$tmp/pyerr"
import json, sys
frames = [json.loads(l) for l in open(sys.argv[1])]
last = frames[-1]
assert last["totals"]["anomalies"] == 1, last["totals"]
vm = last["vms"][0]
assert vm["totals"]["anomalies"] == 1 and vm["totals"]["sptes"] > 0, vm
assert last["kvm"]["mmu"] == "shadow" and last["bpf_ns_per_event"] is None
PY
then
	ok "--json: the anomaly in the last frame, on its VM"
else
	nok "--json: the anomaly in the last frame, on its VM" "exit $rc" "$(cat "$tmp/pyerr")"
fi

"$TOP" -b --replay $fx/top-workload.mbr --speed 0 --pid 1 >"$tmp/out" 2>&1
grep -q "No VMs" "$tmp/out" && ok "--pid of no VM: 'No VMs'" || nok "--pid of no VM" "$(head -5 "$tmp/out")"

# A recording cut short: what was before the cut is shown, the view says
# where it broke, and the exit status says the input was bad (as replay's).
size=$(stat -c %s $fx/top-workload.mbr)
head -c $((size / 2)) $fx/top-workload.mbr >"$tmp/cut.mbr"
"$TOP" -b --replay "$tmp/cut.mbr" --speed 0 -d 0.1 >"$tmp/out" 2>"$tmp/err"
rc=$?
if [ $rc -eq 2 ] && grep -q "^end of the recording: recording cut short" "$tmp/out" &&
	[ "$(wc -l <"$tmp/err")" = 1 ] && grep -q "cut short" "$tmp/err"; then
	ok "a cut recording: the view and one line on stderr say where, exit 2"
else
	nok "a cut recording" "exit $rc" "$(grep -m1 '^end' "$tmp/out")" "$(head -c 200 "$tmp/err")"
fi

# Not a recording at all: exit 2, one line.
echo "hello" >"$tmp/junk"
"$TOP" -b --replay "$tmp/junk" >"$tmp/out" 2>"$tmp/err"
rc=$?
if [ $rc -eq 2 ] && [ "$(wc -l <"$tmp/err")" = 1 ] && [ ! -s "$tmp/out" ]; then
	ok "not a recording: exit 2, one line"
else
	nok "not a recording: exit 2, one line" "exit $rc" "$(cat "$tmp/err")"
fi

# Replaying needs no privileges.
if [ "$(id -u)" = 0 ] && command -v setpriv >/dev/null; then
	cp $fx/top-anomaly.mbr "$tmp/a.mbr"
	chmod 755 "$tmp"
	chmod 644 "$tmp/a.mbr"
	setpriv --reuid 65534 --regid 65534 --clear-groups "$TOP" -b --replay "$tmp/a.mbr" \
		--speed 0 -d 0.5 --vcpus >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ $rc -eq 1 ] && grep -q "anomalies 1" "$tmp/out"; then
		ok "--replay as nobody: works (exit $rc)"
	else
		nok "--replay as nobody" "exit $rc" "$(cat "$tmp/err")"
	fi
else
	n=$((n + 1)); echo "ok $n - --replay as nobody # SKIP needs root to switch users"
fi
# The full-screen view driven by a recording: it plays, stops at the end
# and says so, and q leaves.
if command -v tmux >/dev/null; then
	tmux -S "$sock" new-session -d -x 180 -y 40 -s top \
		"$TOP --replay $fx/top-workload.mbr --speed 2 -d 0.1; echo \"rc=\$?\"; read -r _"
	# Poll for what is wanted, up to a deadline that load cannot reach.
	end=$((SECONDS + 60))
	while [ $SECONDS -lt $end ]; do
		tmux -S "$sock" capture-pane -p -t top >"$tmp/pane"
		grep -q "^end of the recording" "$tmp/pane" && break
		sleep 0.1
	done
	if grep -q "^end of the recording" "$tmp/pane" && grep -qE "^[-+ ] +[0-9]+ workload " "$tmp/pane"
	then
		ok "tmux: the replay plays to its end and shows the workload"
	else
		nok "tmux: the replay plays to its end and shows the workload" "$(head -12 "$tmp/pane")"
	fi
	tmux -S "$sock" send-keys -t top q
	end=$((SECONDS + 30))
	while [ $SECONDS -lt $end ]; do
		tmux -S "$sock" capture-pane -p -t top >"$tmp/pane"
		grep -q "^rc=" "$tmp/pane" && break
		sleep 0.1
	done
	grep -q "^rc=0$" "$tmp/pane" && ok "tmux: q leaves the replay, exit 0" ||
		nok "tmux: q leaves the replay, exit 0" "$(grep '^rc=' "$tmp/pane")"
	tmux -S "$sock" kill-server 2>/dev/null
else
	skip "tmux replay" "tmux is not installed"
	skip "tmux q" "tmux is not installed"
fi
tap_done
