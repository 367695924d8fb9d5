#!/bin/bash
# mbecscope check, live: the built-in workload checked end to end (every
# matrix page accounted for, no anomaly), the negative control (a model
# perturbed to forbid W or X must see escalations in the same live data),
# environment errors (not root, no BTF), and that kill -9 leaves none of
# our BPF programs loaded.
set -u
M=${MBECSCOPE:-build/asan/mbecscope}
tmp=$(mktemp -d)
bg=
cleanup() {
	[ -n "$bg" ] && kill -9 "$bg" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
n=0
failed=0	# every .t exits non-zero when one of its tests failed
ok() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else failed=$((failed + 1)); echo "not ok $n - $2"; fi; }
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }
lines() { wc -l <"$1" | tr -d ' '; }
# jnum KEY FILE: the first number after "KEY": in a JSON document
jnum() { grep -o "\"$1\":[0-9]*" "$2" | head -1 | cut -d: -f2; }

"$M" check --help >"$tmp/out" 2>&1
ok $? "check --help exits 0"
grep -q -- "--workload" "$tmp/out"
ok $? "--help lists --workload"

"$M" check --bogus >"$tmp/out" 2>"$tmp/err"
rc=$?
ok $([ $rc -eq 2 ] && [ "$(lines "$tmp/err")" = 1 ] && [ ! -s "$tmp/out" ]; echo $?) \
	"an unknown option: exit 2 and one line (rc=$rc)"
"$M" check --workload --pid 1 >/dev/null 2>"$tmp/err"
rc=$?
ok $([ $rc -eq 2 ] && grep -q "exclude" "$tmp/err"; echo $?) "--workload with --pid: exit 2"
"$M" check --duration -1 >/dev/null 2>"$tmp/err"
ok $([ $? -eq 2 ]; echo $?) "a negative --duration: exit 2"

# Unprivileged: exit 2 with one clear line, whoever runs the test.
if [ "$(id -u)" = 0 ]; then
	setpriv --reuid 65534 --regid 65534 --clear-groups "$M" check --duration 1 \
		>"$tmp/out" 2>"$tmp/err"
else
	"$M" check --duration 1 >"$tmp/out" 2>"$tmp/err"
fi
rc=$?
ok $([ $rc -eq 2 ] && [ "$(lines "$tmp/err")" = 1 ] && grep -q "root" "$tmp/err" &&
	[ ! -s "$tmp/out" ]; echo $?) "unprivileged: exit 2, one line naming root (rc=$rc)"

MBECSCOPE_KERNEL_BTF=/nonexistent "$M" check --duration 1 >/dev/null 2>"$tmp/err"
rc=$?
ok $([ $rc -eq 2 ] && [ "$(lines "$tmp/err")" = 1 ] && grep -qi "btf" "$tmp/err"; echo $?) \
	"no BTF: exit 2 and one line (rc=$rc)"

if [ "$(id -u)" != 0 ] || [ ! -c /dev/kvm ] || [ ! -r /sys/kernel/btf/vmlinux ]; then
	why="needs root, /dev/kvm and BTF"
	for t in "workload checked" "negative control ro" "negative control nx" "drops" \
		"raw_tp" "by pid" "guest memory" "SIGINT" "SIGTERM" "kill -9"; do
		skip "$t" "$why"
	done
	echo "1..$n"
	exit $((failed > 0))
fi

# The MMU this KVM runs, from the vendor module (as the tool finds it, but
# read here on our own): TDP maps guest-physical memory with KVM's own
# permissions (NPT or EPT: no guest entry behind an SPTE, no prefetch of
# guest entries), shadow paging shadows the guest's page tables.  The
# coverage asserted below is what must hold on the MMU found.
tdp=
for f in /sys/module/kvm_amd/parameters/npt:npt /sys/module/kvm_intel/parameters/ept:ept; do
	[ -r "${f%:*}" ] && grep -qi '^[y1]' "${f%:*}" && tdp=${f#*:}
done
mmu=${tdp:+tdp-$tdp}
mmu=${mmu:-shadow}
echo "# KVM MMU: $mmu (tdp_mmu=$(cat /sys/module/kvm/parameters/tdp_mmu 2>/dev/null || echo -))"

# ---- the workload, checked ---------------------------------------------------
"$M" check --workload >"$tmp/text" 2>"$tmp/err"
rc=$?
ok $([ $rc -eq 0 ]; echo $?) "check --workload exits 0 (rc=$rc)"
[ $rc -eq 0 ] || sed 's/^/# /' "$tmp/err" "$tmp/text" | head -40
grep -q "^anomalies: 0$" "$tmp/text"
ok $? "no anomaly in the workload"
full=$(sed -n 's/^SPTEs checked: [0-9]* (full \([0-9]*\),.*/\1/p' "$tmp/text")
ok $([ "${full:-0}" -gt 0 ]; echo $?) "SPTEs checked fully (${full:-none})"

"$M" check --workload --json >"$tmp/json" 2>"$tmp/err"
rc=$?
ok $([ $rc -eq 0 ] && [ "$(lines "$tmp/json")" = 1 ]; echo $?) "--json: one document, exit 0"
for k in sptes_checked transactions anomalies lost_events workload_pages attach; do
	grep -q "\"$k\":" "$tmp/json"
	ok $? "JSON has \"$k\""
done
# The workload_pages block: every matrix page has a checked SPTE or is
# listed without one, with why.  A page some access reached (U=1 at CPL 3;
# every page once CPL-0 passes ran) must have one, on any MMU; a page
# nothing reached has a reason true on this MMU (the guest's own walk
# faults, and under TDP no SPTE covers its guest-physical page).  The
# SPTEs themselves are checked as the MMU found.
python3 - "$tmp/json" "$mmu" >"$tmp/cov" 2>&1 <<'PY2'
import json, sys
d = json.load(open(sys.argv[1]))
mmu = sys.argv[2]
wp = d['workload_pages']
cpl0 = d['workload_cpl0']['ran'] is True
total, wth, without = wp['matrix'], wp['with_checked_spte'], wp['without']
def ok(cond, what):
    print(0 if cond else 1, what)
ok(total > 0 and wth + len(without) == total and len({p['gva'] for p in without}) == len(without),
   'every matrix page accounted for (%d of %d with a checked SPTE, %d without)'
   % (wth, total, len(without)))
def fits(p):
    reached = bool(int(p['pte'], 16) & 4) or cpl0
    why = p['why']
    return not reached and (('under TDP' in why) if mmu != 'shadow' else why.startswith('U=0'))
bad = [p['gva'] + ': ' + p['why'] for p in without if not fits(p)]
ok(not bad, 'only pages no access reached lack an SPTE, each with a reason true on %s '
   '(%d without; CPL-0 passes %s)%s' % (mmu, len(without), 'ran' if cpl0 else 'did not run',
                                        ': ' + bad[0] if bad else ''))
sc = d['sptes_checked']
fl = sorted(d['sptes_by_flavour'])
if mmu == 'shadow':
    good = fl and all(f.startswith('shadow-') for f in fl) and \
        not any(w['reason'].startswith('TDP') for w in sc['why'])
else:
    want = 'TDP on ' + mmu[4:].upper()
    good = fl == [mmu] and sc['full'] == sc['total'] > 0 and \
        all(w['reason'].startswith(want) for w in sc['why'])
ok(good, 'SPTEs checked as the MMU found, %s (flavours %s, %d of %d full)'
   % (mmu, ','.join(fl), sc['full'], sc['total']))
PY2
if [ "$(grep -c '^[01] ' "$tmp/cov")" = 3 ]; then
	while read -r rc what; do ok "$rc" "$what"; done <"$tmp/cov"
else
	ok 1 "workload_pages and sptes_checked read from the JSON"
	sed 's/^/# /' "$tmp/cov" | head -5
fi
ok $([ "$(jnum lost_events "$tmp/json")" = 0 ]; echo $?) "no event lost"

# ---- negative control: the same live data, a model that forbids more ---------
for p in ro nx; do
	"$M" check --workload --perturb-model $p --json >"$tmp/p$p" 2>"$tmp/err"
	rc=$?
	t=$(grep -o '"anomalies":{"total":[0-9]*' "$tmp/p$p" | grep -o '[0-9]*$')
	esc=$(grep -o '"anomalies":{[^}]*' "$tmp/p$p" | grep -o '"escalation":[0-9]*' | cut -d: -f2)
	ok $([ $rc -eq 1 ] && [ "${esc:-0}" -gt 0 ] && [ "$esc" = "$t" ]; echo $?) \
		"--perturb-model $p: exit 1, escalations only ($esc of $t)"
done

# ---- a ring buffer too small: every drop counted, still no false anomaly ----
"$M" check --workload --pattern storm --vcpus 2 --duration 2 --ringbuf-kb 4 --json \
	>"$tmp/drop" 2>"$tmp/err"
rc=$?
lost=$(jnum lost_events "$tmp/drop")
if [ "${lost:-0}" -gt 0 ]; then
	ok $([ $rc -eq 0 ] && grep -q '"anomalies":{"total":0' "$tmp/drop"; echo $?) \
		"$lost events lost to a 4 KiB ring buffer: counted, no false anomaly (rc=$rc)"
	[ $rc -eq 0 ] || { grep -o '"anomalies":{.*"inconclusive"' "$tmp/drop"; cat "$tmp/err"; } |
		head -c 3000 | fold -w 200 | sed 's/^/# /'
	grep -q '"lost":{"received":[1-9]' "$tmp/drop"
	ok $? "the losses are marked in the stream (LOST records)"
else
	skip "lost events counted" "the 4 KiB ring buffer lost nothing on this machine"
	skip "LOST records in the stream" "nothing lost"
fi
"$M" check --workload --raw-tp --json >"$tmp/raw" 2>"$tmp/err"
rc=$?
ok $([ $rc -eq 0 ] && grep -q '"how":"raw_tp"' "$tmp/raw" && ! grep -q '"how":"tp_btf"' "$tmp/raw" &&
	grep -q '"anomalies":{"total":0' "$tmp/raw"; echo $?) \
	"raw_tp programs (the fallback) check the workload the same (rc=$rc)"

# ---- another VMM's VM, by pid: guest entries read from its memory -----------
# The workload runs rounds until stopped; check starts once its vCPU exists
# (a deadline, not a fixed sleep: under load it takes longer).
"$M" workload --duration 60 >/dev/null 2>&1 &
wl=$!
end=$((SECONDS + 60))
until ls -l /proc/$wl/fd 2>/dev/null | grep -q kvm-vcpu || [ $SECONDS -ge $end ]; do sleep 0.1; done
"$M" check --pid $wl --duration 2 --json >"$tmp/bypid" 2>"$tmp/err"
rc=$?
kill $wl 2>/dev/null
wait $wl
ok $([ $rc -eq 0 ] && grep -q '"anomalies":{"total":0' "$tmp/bypid" &&
	[ "$(jnum total "$tmp/bypid")" -gt 0 ]; echo $?) \
	"check --pid of a running workload: SPTEs checked, no anomaly (rc=$rc)"
if [ "$mmu" = shadow ]; then
	# Shadow paging prefetches SPTEs next to a fault with no traced walk.
	grep -q "guest entry read from the VMM's memory" "$tmp/bypid"
	ok $? "prefetched SPTEs checked against guest entries read from /proc/PID/mem"
else
	# TDP maps guest-physical memory: no guest entry to read, none prefetched.
	python3 - "$tmp/bypid" "TDP on ${tdp^^}" >"$tmp/tdp" 2>&1 <<'PY2'
import json, sys
sc = json.load(open(sys.argv[1]))['sptes_checked']
r = [w['reason'] for w in sc['why']]
good = sc['total'] > 0 and sc['full'] == sc['total'] and all(x.startswith(sys.argv[2]) for x in r)
print(0 if good else 1, '%d of %d SPTEs checked in full, reasons %s' % (sc['full'], sc['total'], r))
PY2
	read -r rc what <"$tmp/tdp"
	ok "${rc:-1}" "TDP: the VMM's SPTEs checked in full against the guest-physical map, no guest entry read from its memory (${what:-$(head -1 "$tmp/tdp")})"
fi

# ---- SIGINT / SIGTERM: detach, print the summary, exit 0 ---------------------
# waitprogs PID: the BPF program ids PID holds (once it holds at least 5)
waitprogs() {
	local ids= end=$((SECONDS + 60))
	while [ $SECONDS -lt $end ]; do
		ids=$(cat /proc/$1/fdinfo/* 2>/dev/null | sed -n 's/^prog_id:[[:space:]]*//p' | sort -u)
		[ "$(echo "$ids" | grep -c .)" -ge 5 ] && break
		sleep 0.1
	done
	echo $ids
}
# gone IDS...: none of these programs is loaded any more (waits a little)
gone() {
	local left end=$((SECONDS + 30))
	while [ $SECONDS -lt $end ]; do
		left=
		for i in "$@"; do
			bpftool prog show id "$i" >/dev/null 2>&1 && left="$left $i"
		done
		[ -z "$left" ] && return 0
		sleep 0.1
	done
	echo "# still loaded:$left"
	return 1
}
for sig in INT TERM; do
	# Filtered on this shell, which runs no VM: nothing but the detach to see.
	"$M" check --pid $$ >"$tmp/sig" 2>&1 &
	bg=$!
	ids=$(waitprogs $bg)
	kill -$sig $bg
	wait $bg
	rc=$?
	bg=
	ok $([ $rc -eq 0 ] && [ -n "$ids" ] && grep -q "^lost events: 0" "$tmp/sig" && gone $ids;
		echo $?) "SIG$sig: summary printed, exit 0, programs detached (rc=$rc)"
done

# ---- kill -9 leaves none of our programs loaded ------------------------------
"$M" check --duration 60 >/dev/null 2>&1 &
bg=$!
ids=
end=$((SECONDS + 60))
while [ $SECONDS -lt $end ]; do
	ids=$(cat /proc/$bg/fdinfo/* 2>/dev/null | sed -n 's/^prog_id:[[:space:]]*//p' | sort -u)
	[ "$(echo "$ids" | grep -c .)" -ge 5 ] && break
	sleep 0.1
done
ok $([ -n "$ids" ]; echo $?) "a running check holds its programs ($(echo $ids | wc -w))"
names=$(for i in $ids; do bpftool prog show id "$i" 2>/dev/null | sed -n 's/.* name \([^ ]*\) .*/\1/p'; done)
ok $([ -n "$names" ] && ! echo "$names" | grep -qv '^mbecs_'; echo $?) \
	"they are named with the mbecs_ prefix"
kill -9 $bg
wait $bg 2>/dev/null
bg=
left=
end=$((SECONDS + 30))
while [ $SECONDS -lt $end ]; do
	left=
	for i in $ids; do
		bpftool prog show id "$i" >/dev/null 2>&1 && left="$left $i"
	done
	[ -z "$left" ] && break
	sleep 0.1
done
ok $([ -z "$left" ]; echo $?) "after kill -9 none of its programs stays loaded${left:+ (left:$left)}"

echo "1..$n"
[ "$failed" -eq 0 ]
