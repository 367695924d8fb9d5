#!/bin/bash
# The benchmark harness (bench/bench.py, `make bench`) runs at all: a
# one-repetition, one-second QUICK run of the baseline and `check` configs
# and the replay section, with the tables it must write.  No figure is
# judged here (timings never go in tests); only that every run happened and
# was accounted for.  Needs root, /dev/kvm, BPF and tracefs, like the bench.
set -u
B=${BUILD:-build}/mbecscope
PY=/usr/bin/python3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0
failed=0	# every .t exits non-zero when one of its tests failed
ok() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else failed=$((failed + 1)); echo "not ok $n - $2"; fi; }

[ -x "$PY" ] || { echo "1..0 # SKIP no /usr/bin/python3 (tools/deps.sh bench)"; exit 0; }
[ -x "$B" ] || { echo "1..0 # SKIP no $B (run make)"; exit 0; }

$PY bench/bench.py --help >"$tmp/out" 2>&1
ok $? "bench.py --help exits 0"

$PY bench/bench.py --configs base,nosuch >"$tmp/out" 2>"$tmp/err"
rc=$?
ok $([ $rc -eq 2 ] && [ "$(wc -l <"$tmp/err")" = 1 ] && grep -q nosuch "$tmp/err"; echo $?) \
	"an unknown configuration: exit 2, one line naming it (rc=$rc)"

# The paired comparison, on windows made up here: check ahead of bpftrace in
# 3 of 4 repetitions (one-sided sign test: 5/16), behind tracefs in none.
$PY - "$PWD/bench/bench.py" <<'PYEOF' >"$tmp/out" 2>&1
import importlib.util, sys
spec = importlib.util.spec_from_file_location("bench", sys.argv[1])
b = importlib.util.module_from_spec(spec)
spec.loader.exec_module(b)
w = []
for rep, (c, t, tf) in enumerate([(0.97, 0.95, 0.6), (0.96, 0.97, 0.5), (0.99, 0.94, 0.6),
                                    (0.95, 0.93, 0.55)]):
    w += [{"config": "base", "rep": rep}, {"config": "check", "rep": rep, "ratio": c},
          {"config": "bpftrace", "rep": rep, "ratio": t},
          {"config": "tracefs", "rep": rep, "ratio": tf}]
w.append({"config": "check", "rep": 9, "ratio": 0.5})	# no bpftrace window to pair with
p = b.Bench.paired(w, ["check", "bpftrace", "tracefs"])
bt, tf = p["bpftrace"], p["tracefs"]
assert (bt["n"], bt["check_ahead"]) == (4, 3), bt
assert abs(bt["sign_test_p"] - 5 / 16) < 1e-12, bt
assert abs(bt["diff"]["median"] - 0.02) < 1e-9 and abs(bt["diff"]["min"] + 0.01) < 1e-9, bt
assert (tf["check_ahead"], tf["n"]) == (4, 4) and abs(tf["sign_test_p"] - 1 / 16) < 1e-12, tf
PYEOF
ok $? "paired comparison: check's lead per repetition, its median and the sign test"
[ -s "$tmp/out" ] && sed 's/^/# /' "$tmp/out" | tail -5

# The tracepoints bench traces (bpftrace, tracefs) are the ones the BPF
# object attaches to: its tp_btf/ sections, read from the compiled object
# where there is one, else from the source's SEC("tp_btf/" #tp) macro uses.
obj=${BUILD:-build}/gen/mbecscope.bpf.o
if [ -s "$obj" ] && command -v llvm-objdump >/dev/null; then
	want=$(llvm-objdump -h "$obj" | grep -oE '(^| )tp_btf/[a-z_0-9]+' | cut -d/ -f2 | sort -u | tr '\n' ' ')
else
	want=$(grep -oE '^MBECS_PROGS\([a-z_0-9]+, *[a-z_0-9]+' bpf/mbecscope.bpf.c |
		sed 's/.*, *//' | sort | tr '\n' ' ')
fi
got=$($PY - "$PWD/bench/bench.py" <<'PYEOF' 2>&1
import importlib.util, sys
spec = importlib.util.spec_from_file_location("bench", sys.argv[1])
b = importlib.util.module_from_spec(spec)
spec.loader.exec_module(b)
print(" ".join(sorted(b.tracepoint_names())) + " ")
PYEOF
)
ok $([ -n "${want// }" ] && [ "$got" = "$want" ]; echo $?) \
	"bench traces the tracepoints the BPF object attaches to ($(echo $want | wc -w))"
[ "$got" = "$want" ] || printf '# want: %s\n# got:  %s\n' "$want" "$got"

if [ "$(id -u)" != 0 ]; then
	echo "ok $((n + 1)) - the rest # SKIP not root: the benchmarks need BPF, tracefs and /dev/kvm"
	echo "1..$((n + 1))"
	exit $((failed > 0))
fi

setpriv --reuid 65534 --regid 65534 --clear-groups $PY bench/bench.py --quick \
	--mbecscope "$B" --out "$tmp/np" >"$tmp/out" 2>"$tmp/err"
rc=$?
ok $([ $rc -eq 2 ] && [ "$(wc -l <"$tmp/err")" = 1 ] && grep -q root "$tmp/err"; echo $?) \
	"not root: exit 2, one line saying so (rc=$rc)"

$PY bench/bench.py --quick --mbecscope "$tmp/nonexistent" --out "$tmp/ne" >"$tmp/out" 2>"$tmp/err"
rc=$?
ok $([ $rc -eq 2 ] && grep -q "run: make" "$tmp/err"; echo $?) "no binary: exit 2, says to run make"

if [ ! -r /dev/kvm ]; then
	echo "ok $((n + 1)) - quick run # SKIP no /dev/kvm"
	echo "1..$((n + 1))"
	exit $((failed > 0))
fi

stats_before=$(cat /proc/sys/kernel/bpf_stats_enabled)
$PY bench/bench.py --quick --configs base,check --events 20000 --mbecscope "$B" \
	--out "$tmp/q" >"$tmp/out" 2>"$tmp/err"
rc=$?
ok $rc "a QUICK run of base and check exits 0 (rc=$rc)"
[ $rc -ne 0 ] && sed 's/^/# /' "$tmp/err" | tail -5
ok $([ -s "$tmp/q/results.json" ] && [ -s "$tmp/q/figures.md" ]; echo $?) \
	"results.json and figures.md written"
grep -q '^| nothing attached (baseline) | [0-9]* | 1.000 |' "$tmp/q/figures.md"
ok $? "the baseline row is there, ratio 1.000 to itself"
grep -qE '^\| mbecscope check \| [0-9]+ \| [0-9]\.[0-9]{3} \|' "$tmp/q/figures.md"
ok $? "the check row has a faults/s figure and a ratio"
grep -qE '^\| mbecscope check \| [0-9]+ \| [0-9]\.[0-9]{3} \| [0-9.]+ \| [0-9.]+ \| -?[0-9.]+% \|$' "$tmp/q/figures.md"
ok $? "the check row of the vCPU thread's CPU time per fault has a figure and a ratio"
grep -qE '^\| mbecscope check \| [0-9]+ \| [0-9]+ \| yes \|' "$tmp/q/figures.md"
r=$?
ok $r "check's events and losses are in the lost-events table, every loss accounted"
[ $r -eq 0 ] || grep -A6 '^### 2\. Lost events' "$tmp/q/figures.md" 2>&1 | sed 's/^/# /'
# check's own summary is kept, and every window is in the raw results.
ok $(grep -q '"lost_events"' "$tmp/q/check-check-0.out" &&
     grep -q '"config": "base"' "$tmp/q/results.json"; echo $?) "the runs' own outputs are kept"
if "$B" replay --help >/dev/null 2>&1; then
	grep -qE '^\| recording 4x \| [0-9]+ \|' "$tmp/q/figures.md"
	ok $? "replay section: a recording of 4x the events was replayed"
	grep -qE '^\| recording, format 1 \(zlib\), 1x \| [0-9]+ \|' "$tmp/q/figures.md" &&
		grep -q 'Format 1 (zlib) against format 2 (zstd).*speed ratio median [0-9]' "$tmp/q/figures.md"
	ok $? "replay section: the same recording in format 1 is the codec's baseline"
	grep -q 'Replay peak RSS, 4x events against 1x' "$tmp/q/figures.md" &&
		grep -q 'mbectop -b --replay on the recordings .*: peak RSS median [0-9.]* MiB' \
			"$tmp/q/figures.md"
	ok $? "memory section: the 4x/1x peak RSS ratios of replay and mbectop --replay"
	# The storm is KVM doing its job: an anomaly in its captures is the
	# checker's to explain.  Not judged here (it has shown once in the lab
	# under two busy loops, class unknown); said, with what replay found.
	for j in "$tmp"/q/*.replay.json; do
		[ -f "$j" ] || continue
		$PY -c 'import json, sys
t = open(sys.argv[1]).read()
a = json.loads(t[t.index("{"):]).get("anomalies", {})
if a.get("total"):
    print("# %s: %d anomalies: %s" % (sys.argv[1].rsplit("/", 1)[-1], a["total"],
          "; ".join("[%s] %s" % (f.get("rule"), f.get("what")) for f in a.get("first", []))[:600]))' "$j"
	done
else
	grep -q "Not measured in this run: .*replay" "$tmp/q/figures.md"
	ok $? "without 'replay' in the build, the replay section says it is pending"
fi
# Nothing of ours left in tracefs.
# Nothing of this run left behind: its tracefs instance, the BPF statistics switch.
inst=$(grep -o '"tracefs_instance": "[^"]*"' "$tmp/q/results.json" | cut -d'"' -f4)
ok $([ -n "$inst" ] && [ ! -e "/sys/kernel/tracing/instances/$inst" ]; echo $?) \
	"the tracefs instance ($inst) is removed"
ok $([ "$(cat /proc/sys/kernel/bpf_stats_enabled)" = "$stats_before" ]; echo $?) \
	"kernel.bpf_stats_enabled is as it was"
echo "1..$n"
[ "$failed" -eq 0 ]
