#!/bin/bash
# The built-in guest's supervisor (CPL 0) passes: made where CPL-0 guest
# code runs natively, and where it does not (a paravirtual KVM such as
# this project's development host, kvm_pvm) the matrix stays at CPL 3 and
# both `workload` and `check --workload` say so, in text and JSON.
set -u
M=${MBECSCOPE:-build/asan/mbecscope}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; shift; for l in "$@"; do echo "# $l"; done; }
t() { local name=$1; shift; if "$@"; then ok "$name"; else nok "$name" "$(head -c 400 "$tmp/err")"; fi; }

why=
[ "$(id -u)" = 0 ] || why="needs root"
[ -z "$why" ] && [ ! -w /dev/kvm ] && why="no /dev/kvm"
if [ -n "$why" ]; then
	for i in 1 2 3 4; do n=$((n + 1)); echo "ok $n # SKIP $why"; done
	echo "1..$n"
	exit 0
fi
# What the probe must find here: a paravirtual KVM never runs CPL 0 natively.
pvm=0
[ -e /sys/module/kvm_pvm ] && pvm=1

"$M" workload >"$tmp/txt" 2>"$tmp/err"
rc=$?
if [ $pvm = 1 ]; then
	t "workload on kvm_pvm: exit 0, says the matrix stayed at CPL 3" \
		eval '[ $rc -eq 0 ] && grep -q "^supervisor (CPL 0): not run: guest code at CPL 0 does not run natively.*the matrix stays at CPL 3" "$tmp/txt"'
else
	t "workload: exit 0, says whether supervisor passes ran" \
		eval '[ $rc -eq 0 ] && grep -Eq "^supervisor \(CPL 0\): ([1-4] modes?, |not run: )" "$tmp/txt"'
fi

"$M" workload --json >"$tmp/json" 2>"$tmp/err"
rc=$?
t "workload --json: cpl0 with ran, note and modes (rc=$rc)" python3 - "$tmp/json" $pvm <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
c = d["cpl0"]
assert c["note"] and len(c["modes"]) == 4, c
assert c["ran"] == any(m["ran"] for m in c["modes"]), c
if sys.argv[2] == "1":
    assert not c["ran"] and c["accesses"] == 0 and "does not run natively" in c["note"], c
    assert all(p["supervisor"] == [] for p in d["page_list"])
PY

"$M" check --workload >"$tmp/txt" 2>"$tmp/err"
rc=$?
if [ $pvm = 1 ]; then
	t "check --workload on kvm_pvm: the summary says no supervisor passes (rc=$rc)" \
		eval 'grep -q "^workload supervisor (CPL 0) passes: none: guest code at CPL 0 does not run natively" "$tmp/txt"'
else
	t "check --workload: the summary says whether supervisor passes ran (rc=$rc)" \
		eval 'grep -Eq "^workload supervisor \(CPL 0\) passes: ([1-4] modes?; |none: )" "$tmp/txt"'
fi

"$M" check --workload --json >"$tmp/json" 2>"$tmp/err"
rc=$?
t "check --workload --json: workload_cpl0 (rc=$rc)" python3 - "$tmp/json" $pvm <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))["workload_cpl0"]
assert c["ran"] in (True, False) and c["note"], c
if sys.argv[2] == "1":
    assert c["ran"] is False and c["modes"] == 0 and "does not run natively" in c["note"], c
else:
    assert c["ran"] == (c["modes"] > 0), c
PY

echo "1..$n"
[ $failed -eq 0 ]
