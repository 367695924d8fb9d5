#!/bin/bash
# mbectop / mbecscope top: usage and environment errors (exit 2, one line),
# batch mode over the built-in workload (text and JSON), a VM that comes
# and goes, and the full-screen view under tmux: header and the workload's
# row with non-zero counts, expand, help, filter, and `q` exiting 0 with
# the terminal restored.
set -u
M=${MBECSCOPE:-build/asan/mbecscope}
TOP="$(dirname "$M")/mbectop"
tmp=$(mktemp -d)
sock="mbectop-test-$$"
bg=
cleanup() {
	[ -n "$bg" ] && kill -9 "$bg" 2>/dev/null
	tmux -L "$sock" kill-server 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
n=0
ok() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else echo "not ok $n - $2"; fi; }
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }
lines() { wc -l <"$1" | tr -d ' '; }
show() { sed 's/^/# /' "$1" | head -${2:-40}; }

# usage_error NAME ARGS...: exit 2, exactly one line on stderr, nothing on stdout
usage_error() {
	local name=$1; shift
	"$M" top "$@" >"$tmp/out" 2>"$tmp/err" </dev/null
	local rc=$?
	ok $([ $rc -eq 2 ] && [ "$(lines "$tmp/err")" = 1 ] && [ ! -s "$tmp/out" ]; echo $?) \
		"$name: exit 2 and one line (rc=$rc: $(head -c 160 "$tmp/err"))"
}

"$M" top --help >"$tmp/out" 2>&1
ok $? "top --help exits 0"
grep -q -- "--replay" "$tmp/out" && grep -q "q quit" "$tmp/out"
ok $? "--help names --replay and the keys"
[ -x "$TOP" ] && "$TOP" --help | grep -q "mbectop"
ok $? "the mbectop name runs the same command"

usage_error "an unknown option" --bogus
usage_error "-d 0" -d 0
usage_error "-d not a number" -d soon
usage_error "-n 0" -b -n 0
usage_error "--sort of no column" -b --sort colour
usage_error "--json without -b" --json
usage_error "--workload with --pid" -b --workload --pid 1
usage_error "an extra argument" -b extra
usage_error "--speed without --replay" -b --speed 2
usage_error "--speed of nothing" -b --replay x --speed fast
usage_error "--replay of a missing file" -b --replay "$tmp/none.rec"
usage_error "--replay with --workload" -b --replay x --workload

# Not a terminal and no -b: say to use -b.
"$TOP" -n 1 >"$tmp/out" 2>"$tmp/err" </dev/null
rc=$?
ok $([ $rc -eq 2 ] && [ "$(lines "$tmp/err")" = 1 ] && grep -q -- "-b" "$tmp/err"; echo $?) \
	"no terminal without -b: exit 2, one line pointing at -b (rc=$rc)"

# Unprivileged: exit 2 with one line naming root.
if [ "$(id -u)" = 0 ]; then
	setpriv --reuid 65534 --regid 65534 --clear-groups "$M" top -b -n 1 \
		>"$tmp/out" 2>"$tmp/err"
else
	"$M" top -b -n 1 >"$tmp/out" 2>"$tmp/err"
fi
rc=$?
ok $([ $rc -eq 2 ] && [ "$(lines "$tmp/err")" = 1 ] && grep -q "root" "$tmp/err" &&
	[ ! -s "$tmp/out" ]; echo $?) "unprivileged: exit 2, one line naming root (rc=$rc)"

live_tests="batch text batch-counts batch-json bpf-stats lost-events no-VMs comes-and-goes tmux-header
	tmux-row tmux-expand tmux-help tmux-filter tmux-resize tmux-quit tmux-restored"
if [ "$(id -u)" != 0 ] || [ ! -c /dev/kvm ] || [ ! -r /sys/kernel/btf/vmlinux ]; then
	for t in $live_tests; do skip "$t" "needs root, /dev/kvm and BTF"; done
	echo "1..$n"
	exit 0
fi

# ---- batch mode over the built-in workload ---------------------------------------
timeout 60 "$TOP" -b -n 3 -d 0.5 --workload --vcpus >"$tmp/out" 2>"$tmp/err"
rc=$?
ok $([ $rc -eq 0 ] && [ ! -s "$tmp/err" ]; echo $?) "batch --workload: exit 0 (rc=$rc)"
[ $rc -eq 0 ] || { show "$tmp/err"; show "$tmp/out"; }
# The last frame: its header and the workload's row.
awk 'BEGIN { RS = ""} { last = $0 } END { print last }' "$tmp/out" >"$tmp/last"
grep -q "^mbectop .*KVM: " "$tmp/last" && grep -q "^events .*/s  faults .*SPTE installs" \
	"$tmp/last" && grep -q "^tool cost: " "$tmp/last" && grep -q " PID NAME " "$tmp/last"
ok $? "batch: a frame has the header (KVM flavour, rates, cost) and the column heads"
# Row: marker/pid name vcpus FAULT SPTE GPF ANOM ...
row=$(grep -E "^ +[0-9]+ workload " "$tmp/last" | head -1)
set -- $row
ok $([ -n "$row" ] && [ "${3:-0}" -ge 1 ] && [ "${4:-0}" -gt 0 ] && [ "${5:-0}" -gt 0 ]; echo $?) \
	"batch: the workload's row has vCPUs, faults/s and SPTEs/s ($row)"
[ -n "$row" ] || show "$tmp/last"

timeout 60 "$TOP" -b -n 2 -d 0.5 --workload --json >"$tmp/json" 2>"$tmp/err"
rc=$?
python3 - "$tmp/json" <<'EOF' >"$tmp/pyout" 2>&1
import json, sys
frames = [json.loads(l) for l in open(sys.argv[1])]
assert len(frames) == 2, "want 2 frames, got %d" % len(frames)
last = frames[-1]
vm = [v for v in last["vms"] if v["name"] == "workload"][0]
assert vm["totals"]["sptes"] > 0 and vm["per_second"]["sptes"] > 0, vm
assert vm["totals"]["faults"] > 0, vm
assert last["kvm"]["layout"] in ("classic", "mbec"), last["kvm"]
assert last["totals"]["events"] > 0 and 400 <= last["interval_ms"] <= 700, last
assert len(vm["vcpus"]) >= 1
EOF
ok $([ $rc -eq 0 ] && [ ! -s "$tmp/pyout" ]; echo $?) "batch --json: one document per frame with the workload's counts"
[ -s "$tmp/pyout" ] && show "$tmp/pyout"

# The tool's own cost: BPF statistics on while it runs, off again after.
before=$(cat /proc/sys/kernel/bpf_stats_enabled)
timeout 60 "$TOP" -b -n 2 -d 0.5 --workload --bpf-stats >"$tmp/out" 2>"$tmp/err"
rc=$?
cost=$(grep "^tool cost" "$tmp/out" | tail -1)
ok $([ $rc -eq 0 ] && echo "$cost" | grep -qE "BPF [0-9]+ ns per event, [0-9.]+% of one CPU" &&
	[ "$(cat /proc/sys/kernel/bpf_stats_enabled)" = "$before" ]; echo $?) \
	"--bpf-stats: the header shows the BPF cost ($cost)"

# A ring buffer far too small: events are lost, yet the VM's counts are the
# kernel's own totals (they do not come from the records).
timeout 60 "$TOP" -b -n 2 -d 0.5 --workload --json --ringbuf-kb 4 >"$tmp/json" 2>"$tmp/err"
rc=$?
python3 - "$tmp/json" <<'EOF' >"$tmp/pyout" 2>&1
import json, sys
last = [json.loads(l) for l in open(sys.argv[1])][-1]
vm = [v for v in last["vms"] if v["name"] == "workload"][0]
t = last["totals"]
assert t["lost"] > 0, "no event lost with a 4 KiB ring buffer: %s" % t
# The per-vCPU map and the global counters are read one after the other
# while the guest runs, so a few events may land in between (seen: 2 of
# 3588).  Counts taken from the records instead would miss far more than
# 1%: most records are lost with this buffer.
def close(a, b):
    return b > 0 and abs(a - b) <= max(2, b // 100)
assert close(vm["totals"]["sptes"], t["sptes"]), (vm["totals"]["sptes"], t["sptes"])
assert close(vm["totals"]["faults"], t["faults"]), (vm["totals"]["faults"], t["faults"])
print("lost %d, SPTEs %d/%d, faults %d/%d" % (t["lost"], vm["totals"]["sptes"], t["sptes"],
      vm["totals"]["faults"], t["faults"]))
EOF
ok $([ $rc -eq 0 ] && grep -q "^lost" "$tmp/pyout"; echo $?) \
	"events lost: the VM's counts still match the kernel's ($(tail -1 "$tmp/pyout"))"

# A pid that runs no VM: the view says so plainly.
sleep 30 &
bg=$!
timeout 30 "$TOP" -b -n 1 -d 0.3 --pid $bg >"$tmp/out" 2>"$tmp/err"
ok $([ $? -eq 0 ] && grep -q "No VMs" "$tmp/out"; echo $?) "no VMs: said plainly"
kill $bg 2>/dev/null; wait $bg 2>/dev/null; bg=

# A VM that comes and goes while mbectop watches every VM.
timeout 60 "$TOP" -b -n 14 -d 0.5 >"$tmp/out" 2>"$tmp/err" &
bg=$!
sleep 1
"$M" workload --duration 2 >/dev/null 2>&1 &
wpid=$!
wait $wpid
wait $bg
rc=$?
bg=
awk -v p=$wpid 'BEGIN { RS = "" } { f++; if ($0 ~ "\n +" p " ") { seen[f] = 1; last = f }
	if ($0 ~ "\n +" p " \\(exited\\)") gone = f }
	END { ok = (length(seen) > 0 && gone > 0 && last == gone && f > gone); exit !ok }' "$tmp/out"
came_went=$?
ok $([ $rc -eq 0 ] && [ $came_went -eq 0 ]; echo $?) \
	"a VM that comes and goes: row, then (exited), then none (rc=$rc)"
[ $came_went = 0 ] || show "$tmp/out" 60

# ---- the full-screen view under tmux ------------------------------------------------
tmux -L "$sock" new-session -d -x 200 -y 50 -s top \
	"echo BEFORE-TOP; $TOP --workload -d 0.5; echo \"rc=\$?\"; stty -a | grep -o -- '-*icanon'; sleep 60"
cap() { tmux -L "$sock" capture-pane -p -t top >"$tmp/pane"; }
key() { tmux -L "$sock" send-keys -t top "$@"; sleep 0.7; cap; }
found=1
for i in $(seq 1 40); do
	sleep 0.5
	cap
	if grep -qE "^[-+ ] +[0-9]+ workload +[0-9]+ +[1-9]" "$tmp/pane"; then found=0; break; fi
done
grep -q "^mbectop .*KVM: " "$tmp/pane" && grep -q "^events .*faults" "$tmp/pane"
ok $? "tmux: the header (KVM flavour, events/s, faults/s)"
ok $found "tmux: the workload's row with non-zero counts"
[ $found = 0 ] || show "$tmp/pane"
key x
grep -qE "^ +(vcpu|thread) [0-9]+" "$tmp/pane"
ok $? "tmux: x expands the VM into its vCPUs"
key h
grep -q "this help" "$tmp/pane" && ! grep -q "^mbectop " "$tmp/pane"
ok $? "tmux: h shows the help"
key Space
key f
tmux -L "$sock" send-keys -t top "no-such-vm" Enter
sleep 0.7
cap
grep -q "No VM matches the filter 'no-such-vm'" "$tmp/pane"
ok $? "tmux: f filters by VM name"
tmux -L "$sock" resize-window -t top -x 90 -y 20
sleep 1
cap
awk 'length > 90 { bad = 1 } END { exit bad }' "$tmp/pane" && grep -q "^mbectop " "$tmp/pane" &&
	grep -q "q quit" "$tmp/pane"
ok $? "tmux: a resize redraws the view within the new size"
key q
for i in $(seq 1 20); do
	grep -q "^rc=" "$tmp/pane" && break
	sleep 0.5
	cap
done
grep -q "^rc=0$" "$tmp/pane"
ok $? "tmux: q exits 0 ($(grep '^rc=' "$tmp/pane"))"
grep -q "BEFORE-TOP" "$tmp/pane" && ! grep -q "^mbectop " "$tmp/pane" &&
	grep -qx "icanon" "$tmp/pane"
restored=$?
ok $restored "tmux: the terminal is restored (screen and line discipline)"
[ $restored = 0 ] || show "$tmp/pane"
echo "1..$n"
