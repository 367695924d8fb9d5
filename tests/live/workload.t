#!/bin/bash
# mbecscope workload: the built-in guest runs on this machine's KVM, its
# self-check passes (and fails when told to lie), the storm faults, and bad
# flags or a missing permission end with exit 2 and one line.
set -u
M=${MBECSCOPE:-build/asan/mbecscope}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
failed=0	# every .t exits non-zero when one of its tests failed
ok() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else failed=$((failed + 1)); echo "not ok $n - $2"; fi; }
check() { local d=$1; shift; "$@"; ok $? "$d"; }

# Usage errors need no KVM: exit 2, exactly one line on stderr, nothing on stdout.
usage_case() {
	local name=$1; shift
	"$M" workload "$@" >"$tmp/out" 2>"$tmp/err"
	local rc=$?
	[ $rc -eq 2 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] && [ ! -s "$tmp/out" ] &&
		grep -q "^mbecscope workload: " "$tmp/err"
	ok $? "$name -> exit 2 and one line (rc=$rc: $(head -c 120 "$tmp/err"))"
}
usage_case "--vcpus 0" --vcpus 0
usage_case "--vcpus 17" --vcpus 17
usage_case "--pattern bogus" --pattern bogus
usage_case "--duration -1" --duration -1
usage_case "--duration x" --duration x
usage_case "unknown option" --frobnicate
usage_case "missing value" --vcpus
usage_case "--nested with the storm" --nested --pattern storm
usage_case "--nested with 2 vCPUs" --nested --vcpus 2
"$M" workload --help >"$tmp/out" 2>&1
check "--help exits 0 and names the patterns" grep -q "pattern matrix|storm" "$tmp/out"

if [ "$(id -u)" != 0 ]; then
	for i in $(seq 13); do echo "ok $((n + i)) # SKIP not root"; done
	echo "1..$((n + 13))"
	exit $((failed > 0))
fi
if [ ! -c /dev/kvm ]; then
	for i in $(seq 13); do echo "ok $((n + i)) # SKIP no /dev/kvm"; done
	echo "1..$((n + 13))"
	exit $((failed > 0))
fi

# Unprivileged: no access to /dev/kvm (mode 0600 root here) -> exit 2, one line.
if command -v setpriv >/dev/null && [ "$(stat -c %a /dev/kvm)" = 600 ]; then
	setpriv --reuid 65534 --regid 65534 --clear-groups "$M" workload >"$tmp/out" 2>"$tmp/err"
	rc=$?
	[ $rc -eq 2 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q "/dev/kvm" "$tmp/err" &&
		grep -qi "permission" "$tmp/err"
	ok $? "unprivileged -> exit 2 and one line naming /dev/kvm (rc=$rc: $(cat "$tmp/err"))"
else
	n=$((n + 1)); echo "ok $n # SKIP /dev/kvm is not root-only or no setpriv"
fi

# No /dev/kvm, or something else in its place: exit 2 and one line saying so
# (a private mount namespace hides the real one).
if command -v unshare >/dev/null && unshare -m true 2>/dev/null; then
	unshare -m sh -c 'mount -t tmpfs none /dev && exec "$0" workload' "$M" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	[ $rc -eq 2 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] && [ ! -s "$tmp/out" ] &&
		grep -q "/dev/kvm is missing" "$tmp/err"
	ok $? "no /dev/kvm -> exit 2 and one line (rc=$rc: $(cat "$tmp/err"))"
	unshare -m sh -c 'mount --bind /dev/null /dev/kvm && exec "$0" workload' "$M" \
		>"$tmp/out" 2>"$tmp/err"
	rc=$?
	[ $rc -eq 2 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q "not a KVM device" "$tmp/err"
	ok $? "/dev/kvm not a KVM device -> exit 2 and one line (rc=$rc: $(cat "$tmp/err"))"
else
	n=$((n + 1)); echo "ok $n # SKIP cannot unshare a mount namespace"
	n=$((n + 1)); echo "ok $n # SKIP cannot unshare a mount namespace"
fi

# Matrix, 1 and 2 vCPUs: exit 0, self-check passed, JSON with 64 pages per vCPU.
for v in 1 2; do
	"$M" workload --vcpus $v >"$tmp/txt" 2>"$tmp/err"
	rc=$?
	[ $rc -eq 0 ] && grep -q "^self-check: passed" "$tmp/txt" && [ ! -s "$tmp/err" ]
	ok $? "matrix, $v vCPU: exit 0 and self-check passed (rc=$rc $(head -c 200 "$tmp/err"))"
	"$M" workload --vcpus $v --json >"$tmp/json" 2>"$tmp/err"
	rc=$?
	python3 - "$tmp/json" $v <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
v = int(sys.argv[2])
assert d["pattern"] == "matrix" and d["vcpus"] == v, d
assert d["pages"] == 64 * v and len(d["page_list"]) == 64 * v, d["pages"]
assert d["self_check"] == "passed" and d["mismatches"] == 0
# what a CPL-3 access must do, from the page's own bits
for p in d["page_list"]:
    r, w, x = p["u"], p["u"] and p["w"], p["u"] and not p["nx"]
    for acc, want in (("read", r), ("write", w), ("fetch", x)):
        got = p[acc]
        assert (got["ok"], got["fault"]) == ((1, 0) if want else (0, 1)), (p, acc)
# 8 U/W/NX x 4 A/D x 2 sizes, each exactly once per vCPU
combos = {(p["vcpu"], p["size"], p["u"], p["w"], p["nx"], p["ad"]) for p in d["page_list"]}
assert len(combos) == 64 * v
c = d["cpl0"]
assert d["faults"] - c["faults"] == 128 * v and d["accesses"] - c["accesses"] == 192 * v
# Supervisor (CPL 0) passes: made where CPL-0 code runs natively, each
# outcome the reference model's; on a paravirtual KVM (kvm_pvm) never, and
# the output says so.
assert c["note"], c
ran = [m["name"] for m in c["modes"] if m["ran"]]
assert c["ran"] == bool(ran) and c["accesses"] == 192 * v * len(ran), c
for p in d["page_list"]:
    assert [s["mode"] for s in p["supervisor"]] == ran, p
    for s in p["supervisor"]:
        for acc in ("read", "write", "fetch"):
            want = s[acc]["expect"] == "ok"
            assert (s[acc]["ok"], s[acc]["fault"]) == ((1, 0) if want else (0, 1)), (p, s)
import os
if os.path.exists("/sys/module/kvm_pvm"):
    assert not c["ran"] and "does not run natively" in c["note"], c
PY
	ok $? "matrix, $v vCPU: --json parses, 64 pages per vCPU, outcomes as the bits say (rc=$rc)"
done

# -v: one stderr line per guest #PF, as many as the summary counts.
"$M" workload -v >"$tmp/txt" 2>"$tmp/err"
rc=$?
total=$(grep -o "[0-9]* faulted (#PF)" "$tmp/txt" | head -1 | cut -d' ' -f1)
[ $rc -eq 0 ] && [ "$(grep -c '^workload: vCPU 0 CPL 3 #PF ' "$tmp/err")" -eq 128 ] &&
	[ "$(grep -c '^workload: vCPU 0 .* #PF ' "$tmp/err")" = "$total" ]
ok $? "-v prints each guest #PF on stderr, 128 of them at CPL 3 (rc=$rc, total $total)"

# The self-check must fire when the entries in guest memory differ from
# what it expects.
"$M" workload --inject-mismatch >"$tmp/txt" 2>"$tmp/err"
rc=$?
[ $rc -eq 1 ] && grep -Eq "self-check: FAILED, ([2-9]|[1-9][0-9]+) mismatches" "$tmp/txt" &&
	[ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q "self-check failed" "$tmp/err"
ok $? "self-check fires on a flipped W and NX bit: exit 1 (rc=$rc)"
grep -q "succeeded r-x faulted -w-" "$tmp/txt"
ok $? "the mismatch names the write that faulted"

# Repeated rounds: every round resets the entries and zaps every SPTE.
"$M" workload --vcpus 2 --duration 1 --json >"$tmp/json" 2>"$tmp/err"
rc=$?
python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["rounds"] >= 1 and d["self_check"] == "passed"
assert d["faults"] - d["cpl0"]["faults"] == 256 * d["rounds"], (d["faults"], d["rounds"])
' "$tmp/json"
ok $? "matrix --duration 1: rounds repeat with the same faults each round (rc=$rc)"

# Storm: non-zero faults per second, text and JSON.
"$M" workload --pattern storm --duration 2 >"$tmp/txt" 2>"$tmp/err"
rc=$?
[ $rc -eq 0 ] && grep -Eq "^storm: [1-9][0-9]* faults in .*: [1-9][0-9]* faults/s" "$tmp/txt"
ok $? "storm --duration 2: exit 0 and a non-zero faults/s ($(tail -n 2 "$tmp/txt" | head -n 1))"
"$M" workload --pattern storm --duration 2 --vcpus 2 --json >"$tmp/json" 2>"$tmp/err"
rc=$?
python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert d["pattern"] == "storm" and d["vcpus"] == 2
assert d["faults_per_s"] > 0 and d["faults"] == d["passes"] * 512
assert len(d["per_second"]) >= 1
k = d["kvm_stats"]["pf_fixed"]
assert k == -1 or k >= d["faults"], (k, d["faults"])
' "$tmp/json"
ok $? "storm, 2 vCPUs --json: faults/s > 0, KVM pf_fixed covers the counted faults (rc=$rc)"

echo "1..$n"
[ "$failed" -eq 0 ]
