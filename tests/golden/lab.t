#!/bin/bash
# Replay of the recordings the lab made inside L1 (lab/run.sh; the step
# `mbecscope record --workload`), so that NPT and EPT are checked on every
# machine without the emulators:
#   lab-qemu-npt-6.1.mbr   QEMU TCG, AMD EPYC with NPT, Debian 6.1.0-57,
#                          kvm_amd npt=1, TDP MMU
#   lab-bochs-ept-6.1.mbr  Bochs 2.7, Haswell with VMX+EPT, Debian 6.1.0-57,
#                          kvm_intel ept=1, TDP MMU
#   lab-bochs3-ept-6.12.mbr  Bochs 3.0 (Debian 13's package, lab/bochs3.sh
#                          --method deb), tigerlake with VMX+EPT and MBEC
#                          offered (ept_mode_based_exec; stock KVM leaves it
#                          off), Debian 6.12.118, kvm_intel ept=1, TDP MMU;
#                          its qualifications carry the advanced bits 9-11
#   lab-bochs3-series-mbec1.mbr, lab-bochs3-series-mbec0.mbr  the same CPU
#                          with our kernel/ series as L1 (lab/bochs3.sh
#                          --method src), kvm_intel.mbec=1 (TDP roles with
#                          cr4_smep, KVM's PFERR_USER from bit 9) and =0
#   lab-qemu-gmet-series-gmet1.mbr, lab-qemu-gmet-series-gmet0.mbr  QEMU 7.2
#                          with our GMET patch (lab/qemu-gmet.sh), GMET
#                          offered, our series as L1 with kvm_amd.gmet=1
#                          (TDP roles access 0xb with cr4_smep, NPT leaves
#                          U=0) and =0
#   lab-qemu-gmet-6.12.mbr the same CPU under Debian 6.12.118 (stock KVM
#                          leaves GMET off: the control)
#   lab-qemu-gmet-series-gmet1-nested.mbr, ...-gmet0-nested.mbr  the same
#                          runs' nested workload (record --workload --nested,
#                          lab step nested-record): KVM's shadow of the
#                          guest's NPT and the #NPF it injects, GMET on / off
#   lab-bochs3-series-mbec1-nested.mbr  Bochs 3.0 tigerlake, our series,
#                          kvm_intel.mbec=1, the nested workload: shadow EPT
#                          with and without L1's MBEC (role.cr4_smep), the
#                          EPT violations injected into it
#   lab-bochs3-series-mbec0-nested.mbr  the same with kvm_intel.mbec=0
# The verdict they must give is the lab's: SPTEs checked, each coverage
# class with its reason, #NPF / exit information checked, no anomaly, no
# lost event, and the MMU flavour the recording says it came from.
# All were recorded by the binary with issue 13's checker fixes (a
# recording by an older `record` lacks the kernel's error-code width and a
# current VMX qualification, and replays with false exit-qual anomalies).
# To make them again: lab/run.sh --kernel debian-6.1 [--emulator bochs]
# (or --kernel debian-6.12 --emulator bochs3, or --emulator qemu-gmet
# --kernel series --kvm-param gmet=1),
# then zcat build/lab/runs/<run>/workload.mbrec.gz > tests/golden/fixtures/...
. "$(dirname "$0")/lib.sh"

# verdict NAME FILE SPTE-FORMAT [nested]: the assertions on one recording
# (nested: also injected #NPF / EPT violations checked)
verdict() {
	local name=$1 file=$2 fmt=$3 nested=${4:-} rc
	"$MBECSCOPE" replay "$file" --json >"$tmp/out" 2>"$tmp/err"
	rc=$?
	n=$((n + 1))
	if [ $rc -eq 0 ]; then
		echo "ok $n - $name: replay exits 0"
	else
		failed=$((failed + 1))
		echo "not ok $n - $name: replay exits 0 (exit $rc: $(head -c 200 "$tmp/err"))"
	fi
	python3 - "$tmp/out" "$name" "$fmt" "$n" "$nested" >"$tmp/tap" <<'EOF'
import json, sys
path, name, fmt, n, nested = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
try:
    d = json.load(open(path))
except ValueError as e:
    d = {}
    print(f"# {name}: replay --json is not JSON: {e}")
def a(ok, what, whynot=""):
    global n
    n += 1
    print(f"{'ok' if ok else 'not ok'} {n} - {name}: {what}" + ("" if ok else f" -- {whynot}"))
a(d.get("complete") is True and not d.get("input_problem"), "the recording is whole",
  f"complete={d.get('complete')} input_problem={d.get('input_problem')}")
a(d.get("spte_format") == fmt and d.get("workload") is True,
  f"recorded on {fmt} SPTEs with the built-in workload",
  f"spte_format={d.get('spte_format')} workload={d.get('workload')}")
sp = d.get("sptes_checked", {})
a(sp.get("total", 0) > 0, f"SPTEs checked: {sp.get('total', 0)}", "none")
for cov in ("full", "partial", "none"):
    why = sum(w["count"] for w in sp.get("why", []) if w["coverage"] == cov)
    a(why == sp.get(cov, 0), f"coverage {cov}: {sp.get(cov, 0)}, each with a reason",
      f"{sp.get(cov, 0) - why} without a reason")
a(d.get("exits_checked", 0) > 0, f"exit information checked: {d.get('exits_checked', 0)}", "none")
if nested:
    a(d.get("injects_checked", 0) > 0,
      f"injections into the nested guest checked: {d.get('injects_checked', 0)}", "none")
an = d.get("anomalies", {})
cls = ", ".join(f"{k} {v}" for k, v in sorted(an.items())
                if isinstance(v, int) and k != "total" and v)
a(an.get("total", -1) == 0, "anomalies: 0", f"{an.get('total')} ({cls})")
for f in an.get("first", [])[:3]:
    print(f"# {name}: [{f.get('rule')}] {f.get('what')}")
a(d.get("lost_events", -1) == 0, "lost events: 0", f"{d.get('lost_events')}")
# Every event the kernel saw is accounted for: received, dropped or left
# there by design (kvm_exit's exits other than EPT/NPT faults).
ev = d.get("events", {})
gap = {k: v for k, v in ev.items() if v.get("kernel_seen") and v["kernel_seen"] !=
       v["received"] + v.get("kernel_dropped", 0) + v.get("kernel_skipped", 0)}
sk = sum(v.get("kernel_skipped", 0) for v in ev.values())
a(ev and not gap, f"every event seen in the kernel accounted for ({sk} left there by design)",
  f"seen != received + dropped + skipped: {gap}")
EOF
	cat "$tmp/tap"
	failed=$((failed + $(grep -c '^not ok' "$tmp/tap")))
	n=$((n + $(grep -cE '^(not )?ok ' "$tmp/tap")))
}

verdict "QEMU NPT, Debian 6.1" $fx/lab-qemu-npt-6.1.mbr legacy
verdict "Bochs EPT, Debian 6.1" $fx/lab-bochs-ept-6.1.mbr ept
verdict "Bochs 3.0 tigerlake EPT, Debian 6.12" $fx/lab-bochs3-ept-6.12.mbr ept
verdict "Bochs 3.0 tigerlake EPT, series, kvm_intel.mbec=1" $fx/lab-bochs3-series-mbec1.mbr ept
verdict "Bochs 3.0 tigerlake EPT, series, kvm_intel.mbec=0" $fx/lab-bochs3-series-mbec0.mbr ept
verdict "QEMU GMET NPT, series, kvm_amd.gmet=1" $fx/lab-qemu-gmet-series-gmet1.mbr legacy
verdict "QEMU GMET NPT, series, kvm_amd.gmet=0" $fx/lab-qemu-gmet-series-gmet0.mbr legacy
verdict "QEMU GMET NPT, Debian 6.12" $fx/lab-qemu-gmet-6.12.mbr legacy
verdict "QEMU GMET nested SVM, series, kvm_amd.gmet=1" $fx/lab-qemu-gmet-series-gmet1-nested.mbr legacy nested
verdict "QEMU GMET nested SVM, series, kvm_amd.gmet=0" $fx/lab-qemu-gmet-series-gmet0-nested.mbr legacy nested
verdict "Bochs 3.0 nested VMX, series, kvm_intel.mbec=1" $fx/lab-bochs3-series-mbec1-nested.mbr ept nested
verdict "Bochs 3.0 nested VMX, series, kvm_intel.mbec=0" $fx/lab-bochs3-series-mbec0-nested.mbr ept nested
tap_done
