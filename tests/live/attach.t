#!/bin/bash
# Which BPF programs each command attaches (src/live, mbec_live_plan), as
# the commands report it: check --json's "attach", a recording's
# tracepoints (replay --json) and mbectop's "tracepoints:" line.  Every
# command attaches every tracepoint the checks read; kvm_entry, which only
# names the vCPU that kvm_exit names just before it, is left out under
# kvm_intel and kvm_amd, and each command says so.  The vendor module is
# faked with MBECSCOPE_KVM_ROOT (a tree with /sys/module/kvm_intel).  Needs
# root, BTF and the KVM module, not /dev/kvm: the commands watch a process
# that runs no guest.
set -u
M=${MBECSCOPE:-build/asan/mbecscope}
tmp=$(mktemp -d)
bg=
cleanup() {
	[ -n "$bg" ] && kill "$bg" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
n=0
failed=0
ok() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else failed=$((failed + 1)); echo "not ok $n - $2"; fi; }
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }

if [ "$(id -u)" != 0 ] || [ ! -r /sys/kernel/btf/vmlinux ] || [ ! -d /sys/module/kvm ]; then
	echo "1..0 # SKIP needs root, BTF and the KVM module"
	exit 0
fi
sleep 600 &
bg=$!
mkdir -p "$tmp/intel/sys/module/kvm_intel/parameters"
# On this machine's own vendor module kvm_entry is wanted unless it is kvm_intel or kvm_amd.
host_entry=tp_btf
{ [ -d /sys/module/kvm_intel ] || [ -d /sys/module/kvm_amd ]; } && host_entry=no

# how TRACEPOINT FILE: the "how" of a tracepoint in a JSON attach list.
how() {
	python3 -c 'import json, sys
d = json.load(open(sys.argv[2]))
rows = d.get("attach") or d.get("tracepoints") or []
print(next((r["how"] for r in rows if r["tracepoint"] == sys.argv[1]), "missing"))' "$1" "$2"
}
note() {
	python3 -c 'import json, sys
d = json.load(open(sys.argv[2]))
print(next((r["note"] or "" for r in d["attach"] if r["tracepoint"] == sys.argv[1]), ""))' "$1" "$2"
}

for root in "" "$tmp/intel"; do
	what=${root:+" (kvm_intel)"}
	want=$host_entry
	[ -n "$root" ] && want=no

	MBECSCOPE_KVM_ROOT=$root "$M" check --pid "$bg" --duration 1 --json >"$tmp/check.json" 2>"$tmp/err"
	rc=$?
	got=$(how kvm_entry "$tmp/check.json" 2>/dev/null)
	others=$(how kvm_mmu_set_spte "$tmp/check.json" 2>/dev/null)
	ok $([ $rc -eq 0 ] && [ "$got" = "$want" ] && [ "$others" != no ]; echo $?) \
		"check$what: kvm_entry $got (want $want), kvm_mmu_set_spte $others (rc=$rc)"
	if [ "$want" = no ]; then
		nt=$(note kvm_entry "$tmp/check.json")
		ok $(echo "$nt" | grep -q "not needed by check: kvm_exit"; echo $?) \
			"check$what says why: '$nt'"
	fi

	rm -f "$tmp/rec.mbrec"
	MBECSCOPE_KVM_ROOT=$root "$M" record --pid "$bg" --duration 1 -o "$tmp/rec.mbrec" \
		>/dev/null 2>"$tmp/err"
	rc=$?
	"$M" replay "$tmp/rec.mbrec" --json >"$tmp/rec.json" 2>/dev/null
	got=$(how kvm_entry "$tmp/rec.json" 2>/dev/null)
	ok $([ $rc -eq 0 ] && [ "$got" = "$want" ]; echo $?) \
		"record$what: the recording says kvm_entry $got (want $want, rc=$rc)"

	MBECSCOPE_KVM_ROOT=$root "$M" top -b -d 1 -n 1 --pid "$bg" >"$tmp/top.out" 2>"$tmp/err"
	rc=$?
	line=$(grep -m1 '^tracepoints:' "$tmp/top.out")
	if [ "$want" = no ]; then
		echo "$line" | grep -q "kvm_entry not attached: not needed by mbectop"
	else
		! echo "$line" | grep -q "kvm_entry"
	fi
	said=$?
	ok $([ $rc -eq 0 ] && [ $said -eq 0 ]; echo $?) "mbectop$what: '$line' (rc=$rc)"
done

echo "1..$n"
[ $failed -eq 0 ]
