#!/bin/bash
# mbecscope record, live (root, /dev/kvm, BPF): a recording of the built-in
# workload replays to the same counts and verdicts as `check --workload`;
# a recording killed with SIGKILL is still replayable; a recording to
# standard output pipes into replay; environment and write errors give
# exit 2, one line, and no file.
set -u
M=${MBECSCOPE:-build/asan/mbecscope}
n=0 failed=0
tmp=$(mktemp -d)
bg=
cleanup() {
	[ -n "$bg" ] && kill -9 "$bg" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; shift; for l in "$@"; do echo "# $l"; done; }
# wait_until SECONDS CMD...: run CMD every 0.1 s until it succeeds or the
# deadline passes (status 1); never a fixed sleep.
wait_until() {
	local end=$((SECONDS + $1)); shift
	until "$@"; do
		[ $SECONDS -ge $end ] && return 1
		sleep 0.1
	done
}

# Usage errors need nothing.
"$M" record --workload >"$tmp/out" 2>"$tmp/err"; rc=$?
[ $rc -eq 2 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q 'give -o FILE' "$tmp/err" && [ ! -s "$tmp/out" ] &&
	ok "no -o: exit 2, one line" || nok "no -o" "exit $rc" "$(cat "$tmp/err")"

[ "$(id -u)" = 0 ] || { echo "ok $((n + 1)) - live recording # SKIP not root"; echo "1..$((n + 1))"; exit $((failed > 0)); }
[ -c /dev/kvm ] || { echo "ok $((n + 1)) - live recording # SKIP no /dev/kvm"; echo "1..$((n + 1))"; exit $((failed > 0)); }
[ -r /sys/kernel/btf/vmlinux ] || { echo "ok $((n + 1)) - live recording # SKIP no BTF"; echo "1..$((n + 1))"; exit $((failed > 0)); }

# The MMU the guest runs on.  With two-dimensional paging (EPT or NPT on,
# mapped by KVM's TDP MMU or by its legacy one) KVM maps guest-physical
# memory and never shadows the guest's page tables: there is no guest entry
# behind an SPTE, so nothing is read from guest memory.  Without it (ept or
# npt off, or a KVM that has neither, like kvm-pvm) every guest page table
# is shadowed.
mmu=shadow
for p in /sys/module/kvm_intel/parameters/ept /sys/module/kvm_amd/parameters/npt; do
	grep -qiE '^(y|1)' "$p" 2>/dev/null && mmu=tdp
done
mmu_name="$mmu (tdp_mmu=$(cat /sys/module/kvm/parameters/tdp_mmu 2>/dev/null || echo absent))"

# same_counts LIVE REPLAY: the checks of two runs of the workload agree.
# The kernel's own counts agree too, but for the events its programs filter
# (exit, tdp_spte_changed): how many other exits (interrupts, timers) and
# unchecked changes the guest had depends on how long it ran.  Those are
# compared within one run, by same_kernel.
same_counts() {
	python3 -c '
import json, sys
live, rep = (json.load(open(f)) for f in sys.argv[1:3])
bad = []
for d in (live, rep):
    d["sptes_checked"]["why"] = sorted((w["coverage"], w["count"]) for w in d["sptes_checked"]["why"])
for k in ("transactions", "sptes_checked", "exits_checked", "injects_checked", "roles_checked",
          "anomalies", "lost_events"):
    if live.get(k) != rep.get(k):
        bad.append("%s: live %s replay %s" % (k, live.get(k), rep.get(k)))
for ev, v in live["events"].items():
    r = rep["events"].get(ev, {})
    if r.get("received") != v["received"] or (
            ev not in ("exit", "tdp_spte_changed") and r.get("kernel_seen") != v.get("kernel_seen")):
        bad.append("events %s: live %s replay %s" % (ev, v, r))
print("\n".join(bad))
sys.exit(1 if bad else 0)' "$1" "$2"
}

# same_kernel A B: the kernel's counters of one run, as record --json wrote
# them into the end chunk (or a replay of it read them), are B's.
same_kernel() {
	python3 -c '
import json, sys
a, b = (json.load(open(f))["events"] for f in sys.argv[1:3])
bad = []
if not a or not b:
    bad.append("no kernel counters: %s / %s" % (a, b))
else:
    k = lambda d: {e: (v["kernel_seen"], v["kernel_dropped"]) for e, v in d.items()
                   if v.get("kernel_seen")}
    if k(a) != k(b):
        bad.append("kernel counters: %s, replay %s" % (k(a), k(b)))
print("\n".join(bad))
sys.exit(1 if bad else 0)' "$1" "$2"
}

"$M" record --workload -o "$tmp/run.mbr" --json >"$tmp/rec.json" 2>"$tmp/err"; rc=$?
"$M" replay "$tmp/run.mbr" --json >"$tmp/replay.json" 2>"$tmp/err2"; rrc=$?
# Every event the kernel handed on whole is in the file: records are at
# least the SPTE installs, faults and requests it saw and did not drop.
# Shadow paging adds the guest's walks and shadow pages: well over a
# thousand records.  With TDP every SPTE checked is a TDP one.
if [ $rc -eq 0 ] && python3 -c '
import json, sys
d, r, mmu = json.load(open(sys.argv[1])), json.load(open(sys.argv[2])), sys.argv[3]
ev = d["events"] or {}
whole = sum(ev.get(e, {}).get("kernel_seen", 0) - ev.get(e, {}).get("kernel_dropped", 0)
            for e in ("set_spte", "page_fault", "spte_requested"))
fl = r.get("sptes_by_flavour", {})
ok = d["workload"] and d["workload_status"] == 0 and whole > 0 and d["records"] >= whole
if mmu == "shadow":
    ok = ok and d["records"] > 1000
else:
    ok = ok and r["sptes_checked"]["total"] > 0 and fl and all(f.startswith("tdp-") for f in fl)
sys.exit(0 if ok else 1)' "$tmp/rec.json" "$tmp/replay.json" "$mmu"; then
	ok "record --workload wrote $(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["records"])' "$tmp/rec.json") records on $mmu_name"
else
	nok "record --workload on $mmu_name" "exit $rc" "$(cat "$tmp/err")" "$(cat "$tmp/rec.json")" \
		"replay: $(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d.get("sptes_checked"), d.get("sptes_by_flavour"))' "$tmp/replay.json" 2>&1)"
fi
"$M" check --workload --json >"$tmp/live.json" 2>"$tmp/err"; lrc=$?
if [ $lrc -eq $rrc ] && same_counts "$tmp/live.json" "$tmp/replay.json" >"$tmp/diff" &&
	same_kernel "$tmp/rec.json" "$tmp/replay.json" >"$tmp/diff"; then
	ok "record -> replay gives check's counts, kernel counters and verdicts (exit $rrc)"
else
	nok "record -> replay vs check" "check exit $lrc, replay exit $rrc" "$(cat "$tmp/diff")" \
		"$(cat "$tmp/err" "$tmp/err2")"
fi
python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
tp = {t["tracepoint"]: t["how"] for t in d["tracepoints"]}
sys.exit(0 if d["complete"] and d["layout"] == "classic" and d["kernel"] and
         d["format_version"] == 2 and
         tp.get("kvm_mmu_set_spte") in ("tp_btf", "raw_tp") else 1)' "$tmp/replay.json" &&
	ok "format version 2; the header records kernel, layout and tracepoints; the end chunk is there" ||
	nok "header" "$(head -c 600 "$tmp/replay.json")"

# To standard output, into replay; a copy of the stream says what the
# kernel's counters of that run were.
"$M" record --workload -o - 2>"$tmp/err" | tee "$tmp/pipe.mbr" | "$M" replay - --json >"$tmp/pipe.json" 2>>"$tmp/err"
"$M" replay "$tmp/pipe.mbr" --json >"$tmp/pipefile.json" 2>>"$tmp/err"
if same_counts "$tmp/live.json" "$tmp/pipe.json" >"$tmp/diff" &&
	same_kernel "$tmp/pipefile.json" "$tmp/pipe.json" >"$tmp/diff" &&
	python3 -c 'import json,sys; sys.exit(0 if json.load(open(sys.argv[1]))["complete"] else 1)' "$tmp/pipe.json"; then
	ok "record -o - | replay -"
else
	nok "record -o - | replay -" "$(cat "$tmp/diff")" "$(cat "$tmp/err")"
fi

# SIGKILL while recording: the file replays up to its last chunk, and says
# it is truncated (exit 2).  Each step waits for what it needs, with a
# deadline: the file exists once the programs are attached, and holds a
# chunk after the workload ran.
"$M" record -o "$tmp/killed.mbr" 2>"$tmp/kerr" >/dev/null &
bg=$!
wait_until 60 test -s "$tmp/killed.mbr"
"$M" workload >/dev/null 2>&1
# A chunk after the 2000-byte header: record writes one at least every second.
has_chunk() { [ "$(stat -c %s "$tmp/killed.mbr" 2>/dev/null || echo 0)" -gt 2048 ]; }
wait_until 60 has_chunk
kill -9 "$bg" 2>/dev/null
wait "$bg" 2>/dev/null
bg=
"$M" replay "$tmp/killed.mbr" --json >"$tmp/killed.json" 2>"$tmp/err"; rc=$?
if [ $rc -eq 2 ] && grep -q 'cut short' "$tmp/err" && python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
sys.exit(0 if not d["complete"] and d["events"]["set_spte"]["received"] > 0 else 1)' "$tmp/killed.json"; then
	ok "a recording killed with SIGKILL replays, truncated (exit $rc): $(cat "$tmp/err")"
else
	nok "killed recording" "exit $rc" "$(cat "$tmp/err")" "$(head -c 400 "$tmp/killed.json")"
fi

# Another VMM (the workload run on its own, recorded by pid).  Shadow
# paging: guest entries behind prefetched SPTEs are read from its memory
# while recording, and replay answers the same reads from the recording,
# long after the process is gone.  TDP: an SPTE maps guest-physical memory
# and has no guest entry, so every SPTE is checked in full without reading
# guest memory, and the recording holds no read.  Either way the end
# chunk's counters are those of the stream, though the VMM runs on after
# it: each event the kernel hands on whole was received or dropped.  The
# workload runs rounds until stopped; recording starts once its vCPU exists.
"$M" workload --duration 60 >/dev/null 2>&1 &
wpid=$!
has_vcpu() { ls -l /proc/$wpid/fd 2>/dev/null | grep -q 'kvm-vcpu'; }
wait_until 60 has_vcpu
"$M" record --pid "$wpid" --duration 3 -o "$tmp/pid.mbr" >/dev/null 2>"$tmp/err"; rc=$?
kill "$wpid" 2>/dev/null	# SIGTERM: a background job ignores SIGINT
wait "$wpid"
"$M" replay "$tmp/pid.mbr" --json >"$tmp/pid.json" 2>>"$tmp/err"
"$M" replay "$tmp/pid.mbr" --events 2>/dev/null | grep ' guest_mem: ' >"$tmp/reads"
reads=$(grep -c . "$tmp/reads")
# The workload rewrites its entries between rounds, so a read may catch one
# cleared (not present): that SPTE's guest entry is then unknown, in the
# recording's engine and in replay alike.
absent=$(grep -cE ' val 0x[0-9a-f]*[02468ace]( |$)' "$tmp/reads")
if [ $rc -eq 0 ] && python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
reads, absent, mmu = int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
why = d["sptes_checked"]["why"]
mem = sum(w["count"] for w in why if "memory" in w["reason"])
unknown = sum(w["count"] for w in why if "guest entry unknown" in w["reason"])
if mmu == "shadow":
    ok = reads > 0 and mem == reads - absent and unknown == absent
else:
    fl = d.get("sptes_by_flavour", {})
    ok = (reads == 0 and mem == 0 and unknown == 0 and d["sptes_checked"]["total"] > 0 and
          d["sptes_checked"]["full"] == d["sptes_checked"]["total"] and
          fl and all(f.startswith("tdp-") for f in fl))
ev = d["events"]
for e in ("set_spte", "page_fault", "spte_requested", "get_page"):
    v = ev.get(e, {"received": 0, "kernel_seen": 0, "kernel_dropped": 0})
    ok = ok and v["kernel_seen"] == v["received"] + v["kernel_dropped"]
ok = ok and ev.get("set_spte", {}).get("received", 0) > 0
sys.exit(0 if ok and "guest_mem" not in ev else 1)' "$tmp/pid.json" "$reads" "$absent" "$mmu"; then
	if [ "$mmu" = shadow ]; then
		ok "VMM memory read while recording ($reads entries, $absent not present) serves the same checks in replay"
	else
		ok "$mmu_name: $(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["sptes_checked"]["total"])' "$tmp/pid.json") SPTEs of another VMM checked in full, no guest memory read or recorded"
	fi
else
	nok "guest memory in recordings on $mmu_name" "exit $rc, $reads reads, $absent not present" "$(cat "$tmp/err")" \
		"$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(d["events"], d["sptes_checked"], d.get("sptes_by_flavour"))' "$tmp/pid.json" 2>&1)"
fi

# Write errors: one line, exit 2, nothing left behind.
# An environment error leaves no file behind.
MBECSCOPE_KERNEL_BTF=/nonexistent "$M" record --workload -o "$tmp/new.mbr" >"$tmp/out" 2>"$tmp/err"; rc=$?
[ $rc -eq 2 ] && [ ! -e "$tmp/new.mbr" ] && ok "no BTF: exit 2 and no file: $(cat "$tmp/err")" ||
	nok "no BTF" "exit $rc" "$(cat "$tmp/err")" "$(ls -la "$tmp")"
"$M" record --workload -o "$tmp/no/such/dir/x.mbr" >"$tmp/out" 2>"$tmp/err"; rc=$?
[ $rc -eq 2 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q 'cannot create' "$tmp/err" &&
	ok "unwritable path: $(cat "$tmp/err")" || nok "unwritable path" "exit $rc" "$(cat "$tmp/err")"
# /dev/full stands for a full disk; never write there unless it is the device.
if [ -c /dev/full ]; then
	"$M" record --workload -o /dev/full >"$tmp/out" 2>"$tmp/err"; rc=$?
	[ $rc -eq 2 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q 'No space left' "$tmp/err" &&
		ok "full disk: $(cat "$tmp/err")" || nok "full disk" "exit $rc" "$(cat "$tmp/err")"
	[ -c /dev/full ] && ok "a file record did not create is left alone on failure" ||
		nok "record removed /dev/full"
else
	n=$((n + 1)); echo "ok $n - full disk # SKIP /dev/full is not the character device"
fi

echo "1..$n"
[ $failed -eq 0 ]
