#!/bin/bash
# What KVM maps for the matrix, seen through the kvmmmu tracepoints (a
# private tracefs instance, filtered on the workload's pid), on the MMU
# this KVM runs.  Shadow paging: every U=1 page gets an SPTE by a real
# fault (a guest walk, spte_requested, then set_spte), no U=0 page ever
# gets a user SPTE, and U=0 pages with A=0 or 2M size get none at all.
# TDP (NPT or EPT): KVM maps guest-physical memory, not the guest's
# entries, so every page a guest access reached (at CPL 3 or in a CPL-0
# pass) is covered by an SPTE for its GPA installed by a real fault, every
# such SPTE grants user access whatever the guest's U/S, and the TDP MMU
# installs none without a fault (the legacy MMU's direct prefetch only
# 4K ones).
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
# The MMU, from the vendor module: TDP on NPT or EPT, else shadow paging;
# and whether TDP runs on the TDP MMU (no prefetch) or the legacy one.
tdp=0
for f in /sys/module/kvm_amd/parameters/npt /sys/module/kvm_intel/parameters/ept; do
	[ -r "$f" ] && grep -qi '^[y1]' "$f" && tdp=1
done
tdp_mmu=0
grep -qi '^[y1]' /sys/module/kvm/parameters/tdp_mmu 2>/dev/null && tdp_mmu=1
echo "# KVM MMU: $([ $tdp = 1 ] && echo "TDP, tdp_mmu=$tdp_mmu" || echo "shadow paging")"
python3 - "$tmp/json" "$tmp/trace" $tdp $tdp_mmu <<'PY'
import json, re, sys
d = json.load(open(sys.argv[1]))
tdp, tdp_mmu = sys.argv[3] == '1', sys.argv[4] == '1'
# An SPTE at LEVEL maps 512^(level-1) gfns from its (aligned) gfn.
spans = []	# (first gfn, gfns, real fault, user)
walks = 0
# Events of the vCPU threads interleave in the trace: follow each thread
# (TASK-PID) on its own.  A set_spte is a real fault's when the same
# thread's previous event was spte_requested for a gfn the SPTE maps (the
# requested gfn is the faulting one, a large SPTE's gfn is aligned).
prev = {}
for line in open(sys.argv[2]):
    m = re.search(r'-(\d+)\s+\[\d+\].*?(kvm_mmu_\w+): (.*)', line)
    if not m:
        continue
    tid, name, args = m.groups()
    g = re.search(r'gfn ([0-9a-f]+)', args)
    gfn = int(g.group(1), 16) if g else None
    if name == 'kvm_mmu_pagetable_walk':
        walks += 1
    if name == 'kvm_mmu_set_spte':
        perm = re.search(r'\(([^)]*)\)', args).group(1)
        lv = re.search(r'level (\d+)', args)
        size = 512 ** (int(lv.group(1)) - 1) if lv else 1
        p = prev.get(tid)
        real = p is not None and p[0] == 'kvm_mmu_spte_requested' and gfn <= p[1] < gfn + size
        spans.append((gfn, size, real, perm.endswith('u')))
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
def covering(p, which=lambda s: True):
    return [s for s in spans if which(s) and any(s[0] <= g < s[0] + s[1] for g in gfns(p))]
pages = d['page_list']
u1 = [p for p in pages if p['u']]
u0 = [p for p in pages if not p['u']]
if not tdp:
    real = {g for s in spans if s[2] for g in range(s[0], s[0] + s[1])}
    pref = {g for s in spans if not s[2] for g in range(s[0], s[0] + s[1])}
    user = {g for s in spans if s[3] for g in range(s[0], s[0] + s[1])}
    miss = [p['gva'] for p in u1 if not any(g in real for g in gfns(p))]
    ok(walks and not miss, 'every U=1 page got an SPTE by a real fault (%d pages, %d guest walks '
       'traced, missing %s)' % (len(u1), walks, miss[:4]))
    esc = [p['gva'] for p in u0 if any(g in user for g in gfns(p))]
    ok(not esc, 'no U=0 page got a user SPTE (%d pages, offending %s)' % (len(u0), esc[:4]))
    never = [p for p in u0 if p['size'] != 4096 or p['ad'] in ('A0D0', 'A0D1')]
    got = [p['gva'] for p in never if any(g in real or g in pref for g in gfns(p))]
    ok(not got, 'U=0 pages with A=0 or 2M size got no SPTE at all (%d pages, mapped %s)'
       % (len(never), got[:4]))
    pf = [p for p in u0 if p not in never and any(g in pref for g in gfns(p))]
    print('# U=0 4K A=1 pages mapped by prefetch: %d of %d' % (len(pf), len(u0) - len(never)))
else:
    # Reached: some access to the page succeeded, at CPL 3 or in a CPL-0 pass.
    def reached(p):
        passes = [p] + p.get('supervisor', [])
        return any(a[k]['ok'] for a in passes for k in ('read', 'write', 'fetch'))
    hit = [p for p in pages if reached(p)]
    miss = [p['gva'] for p in hit if not covering(p, lambda s: s[2])]
    notu1 = [p['gva'] for p in u1 if p not in hit]
    ok(not miss and not notu1 and hit,
       'every page a guest access reached has an SPTE for its GPA by a real fault '
       '(%d of %d reached, %d U=0; missing %s; U=1 not reached %s)'
       % (len(hit), len(pages), len([p for p in hit if not p['u']]), miss[:4], notu1[:4]))
    cov = [s for p in pages for s in covering(p)]
    nou = sorted({p['gva'] for p in pages if any(not s[3] for s in covering(p))})
    ok(cov and not nou, 'SPTEs ignore the guest\'s U/S: every SPTE over a matrix page grants '
       'user access, U=0 pages included (%d U=0 pages covered; not user: %s)'
       % (len([p for p in u0 if covering(p)]), nou[:4]))
    pref = [s for s in spans if not s[2]]
    if tdp_mmu:
        ok(spans and not pref, 'the TDP MMU prefetches nothing: each of the %d SPTEs follows its '
           'fault (without: %s)' % (len(spans), ['%x/%d' % s[:2] for s in pref[:4]]))
    else:
        big = [s for s in pref if s[1] > 1]
        ok(spans and not big, 'the legacy MMU on TDP prefetches 4K SPTEs only (%d of %d '
           'prefetched, large: %s)' % (len(pref), len(spans), ['%x' % s[0] for s in big[:4]]))
print('1..%d' % n)
sys.exit(1 if bad else 0)
PY
py=$?
[ "$failed" -eq 0 ] && [ $py -eq 0 ]
