#!/bin/bash
# What KVM maps for the matrix, seen through the kvmmmu tracepoints (a
# private tracefs instance, filtered on the workload's pid): on a
# shadow-paging KVM every U=1 page gets an SPTE by a real fault (a guest
# walk, spte_requested, then set_spte), no U=0 page ever gets a user SPTE,
# and U=0 pages with A=0 or 2M size get none at all.
set -u
M=${MBECSCOPE:-build/asan/mbecscope}
T=/sys/kernel/tracing
[ "$(id -u)" = 0 ] || { echo "1..0 # SKIP not root"; exit 0; }
[ -c /dev/kvm ] || { echo "1..0 # SKIP no /dev/kvm"; exit 0; }
if [ ! -d $T/events ]; then
	mount -t tracefs nodev $T 2>/dev/null || { echo "1..0 # SKIP cannot mount tracefs"; exit 0; }
fi
[ -d $T/events/kvmmmu/kvm_mmu_set_spte ] || { echo "1..0 # SKIP no kvmmmu tracepoints"; exit 0; }
inst=$T/instances/mbecscope-test-$$
tmp=$(mktemp -d)
cleanup() {
	[ -d "$inst" ] && { echo 0 >"$inst/tracing_on"; rmdir "$inst"; }
	rm -rf "$tmp"
}
trap cleanup EXIT
mkdir "$inst" || { echo "1..0 # SKIP cannot create a tracefs instance"; exit 0; }
echo 1 >"$inst/options/event-fork"
for e in kvm_mmu_pagetable_walk kvm_mmu_spte_requested kvm_mmu_set_spte; do
	echo 1 >"$inst/events/kvmmmu/$e/enable"
done
echo 1 >"$inst/tracing_on"
# The shell writes its own pid as the filter, then becomes the workload.
bash -c 'echo $$ >"$1/set_event_pid"; shift; exec "$@"' _ "$inst" "$M" workload --vcpus 2 --json \
	>"$tmp/json" 2>"$tmp/err"
rc=$?
echo 0 >"$inst/tracing_on"
cat "$inst/trace" >"$tmp/trace"
n=0
failed=0	# every .t exits non-zero when one of its tests failed
ok() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else failed=$((failed + 1)); echo "not ok $n - $2"; fi; }
ok $([ $rc -eq 0 ]; echo $?) "the matrix ran under tracing (rc=$rc)"
if ! grep -q kvm_mmu_pagetable_walk "$tmp/trace"; then
	echo "ok 2 # SKIP no guest walks traced: not a shadow-paging KVM"
	echo "1..2"
	exit $((failed > 0))
fi
python3 - "$tmp/json" "$tmp/trace" <<'PY'
import json, re, sys
d = json.load(open(sys.argv[1]))
real, pref, user = set(), set(), set()
# Events of the vCPU threads interleave in the trace: follow each thread
# (TASK-PID) on its own.  A set_spte is a real fault's when the same
# thread's previous event was spte_requested for the same gfn.
prev = {}
for line in open(sys.argv[2]):
    m = re.search(r'-(\d+)\s+\[\d+\].*?(kvm_mmu_\w+): (.*)', line)
    if not m:
        continue
    tid, name, args = m.groups()
    g = re.search(r'gfn ([0-9a-f]+)', args)
    gfn = int(g.group(1), 16) if g else None
    if name == 'kvm_mmu_set_spte':
        perm = re.search(r'\(([^)]*)\)', args).group(1)
        (real if prev.get(tid) == ('kvm_mmu_spte_requested', gfn) else pref).add(gfn)
        if perm.endswith('u'):
            user.add(gfn)
    prev[tid] = (name, gfn)
n = 1
bad = 0
def ok(cond, what):
    global n, bad
    n += 1
    bad += not cond
    print(('ok' if cond else 'not ok'), n, '-', what)
def gfns(p):
    g = int(p['gpa'], 16) >> 12
    return range(g, g + (p['size'] >> 12))
pages = d['page_list']
u1 = [p for p in pages if p['u']]
u0 = [p for p in pages if not p['u']]
miss = [p['gva'] for p in u1 if not any(g in real for g in gfns(p))]
ok(not miss, 'every U=1 page got an SPTE by a real fault (%d pages, missing %s)' % (len(u1), miss[:4]))
esc = [p['gva'] for p in u0 if any(g in user for g in gfns(p))]
ok(not esc, 'no U=0 page got a user SPTE (%d pages, offending %s)' % (len(u0), esc[:4]))
never = [p for p in u0 if p['size'] != 4096 or p['ad'] in ('A0D0', 'A0D1')]
got = [p['gva'] for p in never if any(g in real or g in pref for g in gfns(p))]
ok(not got, 'U=0 pages with A=0 or 2M size got no SPTE at all (%d pages, mapped %s)' % (len(never), got[:4]))
pf = [p for p in u0 if p not in never and any(g in pref for g in gfns(p))]
print('# U=0 4K A=1 pages mapped by prefetch: %d of %d' % (len(pf), len(u0) - len(never)))
print('1..%d' % n)
sys.exit(1 if bad else 0)
PY
py=$?
[ "$failed" -eq 0 ] && [ $py -eq 0 ]
