#!/bin/bash
# mbecscope replay of trace-cmd's trace.dat (tests/golden/fixtures/TRACEDAT.md
# says how each fixture was made):
#  - the real tracefs capture of check --workload, as a trace.dat: the same
#    checks as its text, and as `trace-cmd report` text of the same file;
#  - drops: the ring buffer's missed events become lost events (counted and
#    of unknown number);
#  - the planted escalation, classic and mbec: the layout from the file's
#    formats, the anomaly found, --layout still overrides;
#  - stdin (a file and a pipe), mbectop --replay;
#  - damage: a record of an event the file has no format for, a cut file.
# libtraceevent's own leaks while parsing formats (see the file).
export LSAN_OPTIONS=${LSAN_OPTIONS:+$LSAN_OPTIONS:}suppressions=$PWD/tests/lsan-libtraceevent.supp:print_suppressions=0
. "$(dirname "$0")/lib.sh"

# same_checks A B: two replay --json summaries with the same counts and verdicts
same_checks() {
	python3 -c '
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
bad = []
for d in (a, b):
    d["sptes_checked"]["why"] = sorted((w["coverage"], w["count"]) for w in d["sptes_checked"]["why"])
for k in ("records", "transactions", "sptes_checked", "exits_checked", "injects_checked",
          "roles_checked", "anomalies", "lost_events", "events", "layout", "spte_format"):
    if a.get(k) != b.get(k):
        bad.append("%s: %s against %s" % (k, a.get(k), b.get(k)))
print("\n".join(bad))
sys.exit(1 if bad else 0)' "$1" "$2"
}

# ---- the workload capture: trace.dat against the text it holds ------------------
gzip -dc $fx/workload-capture.dat.gz >"$tmp/w.dat"
gzip -dc $fx/workload-capture.trace.gz >"$tmp/w.trace"
run replay "$tmp/w.dat" --json; cp "$tmp/out" "$tmp/dat.json"; rc_dat=$rc
run replay "$tmp/w.trace" --json; cp "$tmp/out" "$tmp/text.json"
if [ $rc_dat -eq 0 ] && same_checks "$tmp/dat.json" "$tmp/text.json" >"$tmp/diff" &&
   pyexpr "$tmp/dat.json" 'd["format"] == "trace.dat" and d["tracedat_records"] == 7473 and d["anomalies"]["total"] == 0 and d["kernel"] and "trace.dat" in d["layout_source"]'; then
	ok "workload capture: trace.dat gives the same checks as its text (7473 records, 0 anomalies)"
else
	nok "workload capture trace.dat vs text" "exit $rc_dat" "$(cat "$tmp/diff")" "$(head -c 600 "$tmp/dat.json")"
fi

# With --workload, against the live check that ran while it was captured.
# (A trace.dat has no TGID: --pid would have to name the vCPU thread.)
run replay "$tmp/w.dat" --workload --json
if [ $rc -eq 0 ] && python3 -c '
import json, sys
live, rep = (json.load(open(f)) for f in sys.argv[1:3])
bad = [k for k in ("transactions", "exits_checked", "injects_checked", "roles_checked", "anomalies")
       if live[k] != rep[k]]
for k in ("total", "full", "partial", "none"):
    if live["sptes_checked"][k] != rep["sptes_checked"][k]:
        bad.append("sptes_checked." + k)
print(bad)
sys.exit(1 if bad else 0)' $fx/workload-capture.live.json "$tmp/out" >"$tmp/diff"; then
	ok "workload capture with --workload: the same checks as the live run (54 SPTEs fully)"
else
	nok "trace.dat --workload vs live" "exit $rc" "$(cat "$tmp/diff")" "$(head -c 300 "$tmp/out")"
fi

# The same file printed by trace-cmd report, replayed as text.
if command -v trace-cmd >/dev/null; then
	trace-cmd report "$tmp/w.dat" >"$tmp/report.txt" 2>/dev/null
	run replay "$tmp/report.txt" --json
	if [ $rc -eq 2 ] && grep -q "kvm_mmu_get_page" "$tmp/err"; then
		# trace-cmd's kvm plugin prints get_page in its own form
		# ("new sp gfn 100 4 q0 wux !pae nxe wp root 0 sync").
		skip "trace-cmd report text: its kvm plugin's kvm_mmu_get_page form is not read by the text importer ($(head -c 160 "$tmp/err"))"
	elif same_checks "$tmp/dat.json" "$tmp/out" >"$tmp/diff"; then
		ok "workload capture: trace.dat and trace-cmd report of it give the same checks"
	else
		nok "trace.dat vs trace-cmd report" "exit $rc" "$(cat "$tmp/diff")" "$(head -c 300 "$tmp/err")"
	fi
else
	skip "trace-cmd not installed (tools/deps.sh test)"
fi

# Two CPUs: the records come out in time order across them, as in the text.
gzip -dc $fx/two-cpus.trace.gz >"$tmp/two.trace"
events_of() { "$MBECSCOPE" replay "$1" --events | awk '$2 ~ /^\[[0-9]+\]$/ {print $1, $2, $4, $5, $6, $7}'; }
events_of $fx/two-cpus.dat >"$tmp/two-dat.ev"
events_of "$tmp/two.trace" >"$tmp/two-text.ev"
if [ "$(wc -l <"$tmp/two-dat.ev")" -eq 1188 ] && grep -q '\[001\]' "$tmp/two-dat.ev" &&
   diff "$tmp/two-dat.ev" "$tmp/two-text.ev" >"$tmp/diff"; then
	ok "two CPUs: the trace.dat's records in the text's order (1188 events)"
else
	nok "two CPUs" "$(head -8 "$tmp/diff")"
fi

# ---- drops ----------------------------------------------------------------------
run replay $fx/drops.dat --json
if [ $rc -eq 0 ] && pyexpr "$tmp/out" 'd["lost_events"] == 33 and d["tracedat_lost"] == 32 and d["tracedat_lost_uncounted"] == 1 and d["events"]["lost"]["received"] == 3 and d["anomalies"]["total"] == 0'; then
	ok "drops: 25 + 7 + one drop of unknown size are 33 lost events, 0 anomalies"
else
	nok "drops" "exit $rc" "$(head -c 600 "$tmp/out")" "$(cat "$tmp/err")"
fi
run replay $fx/drops.dat
grep -q "1 drops of an unknown number of events" "$tmp/out" && grep -q "^lost events: 33" "$tmp/out" &&
	ok "drops: the summary says how many, and which drop had no count" ||
	nok "drops summary" "$(head -c 600 "$tmp/out")"
# trace-cmd report of the same file, replayed as text: the same checks and
# losses, its unknown drop a marker without a count (0) where the trace.dat
# counts 1 (tests/golden/tracedat_vs_text.py, also used by tests/live/tracedat.t);
# and the comparison catches a count or a marker the text gets wrong.
if command -v trace-cmd >/dev/null; then
	cmp=tests/golden/tracedat_vs_text.py
	run replay $fx/drops.dat --json; cp "$tmp/out" "$tmp/drops-dat.json"
	trace-cmd report $fx/drops.dat >"$tmp/drops.txt" 2>"$tmp/err"
	run replay "$tmp/drops.txt" --json; cp "$tmp/out" "$tmp/drops-text.json"
	if [ $rc -eq 0 ] && python3 $cmp "$tmp/drops-dat.json" "$tmp/drops-text.json" >"$tmp/diff" &&
	   pyexpr "$tmp/drops-text.json" 'd["lost_events"] == 32 and d["drop_markers_uncounted"] == 1'; then
		ok "drops: trace-cmd report text agrees with the trace.dat (32 counted + 1 unknown: 33 / 32 + marker)"
	else
		nok "drops: trace.dat vs report text" "exit $rc" "$(cat "$tmp/diff")"
	fi
	sed 's/\[7 EVENTS DROPPED\]/[8 EVENTS DROPPED]/' "$tmp/drops.txt" >"$tmp/drops8.txt"
	grep -v '\[EVENTS DROPPED\]' "$tmp/drops.txt" >"$tmp/drops-nomark.txt"
	"$MBECSCOPE" replay "$tmp/drops8.txt" --json >"$tmp/d8.json" 2>/dev/null
	"$MBECSCOPE" replay "$tmp/drops-nomark.txt" --json >"$tmp/dnm.json" 2>/dev/null
	if ! cmp -s "$tmp/drops.txt" "$tmp/drops8.txt" && ! cmp -s "$tmp/drops.txt" "$tmp/drops-nomark.txt" &&
	   python3 $cmp "$tmp/drops-dat.json" "$tmp/d8.json" | grep -q '^counted drops.*: 32 / 33' &&
	   python3 $cmp "$tmp/drops-dat.json" "$tmp/dnm.json" | grep -q '^drops of unknown size.*: 1 / 0'; then
		ok "negative control: a miscounted drop and a missing unknown-drop marker are caught"
	else
		nok "negative control of tracedat_vs_text.py" "$(python3 $cmp "$tmp/drops-dat.json" "$tmp/d8.json")"
	fi
else
	nok "drops: trace.dat vs report text: no trace-cmd (run: tools/deps.sh test)"
fi

# ---- real trace-cmd extract files: KVM in the lab (L1 Debian 6.12, NPT, TDP MMU) ------
# lab/init.sh's tracedat step (TRACEDAT.md): the built-in guest's kvm/kvmmmu events,
# extracted by trace-cmd 3.1.6 in L1 (file version 7, compressed), with 2 MiB per CPU
# and with 4 KiB (611 events dropped, as trace-cmd report says too).
run replay $fx/lab-kvm-6.12.dat --json
if [ $rc -eq 0 ] && pyexpr "$tmp/out" 'd["anomalies"]["total"] == 0 and d["lost_events"] == 0 and d["sptes_checked"]["full"] == 36 and d["exits_checked"] == 36 and d["tracedat_records"] == 686 and d["kernel"] == "6.12.118+deb12-amd64" and d["layout_guessed"] and d["tracedat_damaged_cpus"] == []'; then
	ok "lab trace.dat (trace-cmd extract, KVM in L1): 36 SPTEs and 36 exits checked, 0 anomalies, 0 lost"
else
	nok "lab trace.dat" "exit $rc" "$(head -c 700 "$tmp/out")" "$(cat "$tmp/pyerr")"
fi
run replay $fx/lab-kvm-6.12-drops.dat --json
if [ $rc -eq 0 ] && pyexpr "$tmp/out" 'd["anomalies"]["total"] == 0 and d["lost_events"] == 611 and d["tracedat_lost"] == 611 and d["lost_by_cpu"] == [{"buffer": "", "cpu": 0, "lost": 611, "markers_uncounted": 0}] and d["tracedat_records"] == 78'; then
	ok "lab trace.dat with a 4 KiB buffer: 611 lost events counted on CPU 0, 0 anomalies"
else
	nok "lab trace.dat with drops" "exit $rc" "$(head -c 700 "$tmp/out")" "$(cat "$tmp/pyerr")"
fi
if command -v trace-cmd >/dev/null; then
	for f in lab-kvm-6.12 lab-kvm-6.12-drops; do
		run replay $fx/$f.dat --json; cp "$tmp/out" "$tmp/$f-dat.json"
		trace-cmd report $fx/$f.dat 2>/dev/null >"$tmp/$f.txt"
		run replay "$tmp/$f.txt" --json
		if same_checks "$tmp/$f-dat.json" "$tmp/out" >"$tmp/diff"; then
			ok "$f: its trace-cmd report text gives the same checks and losses"
		else
			nok "$f vs its report" "$(cat "$tmp/diff")"
		fi
	done
else
	skip "no trace-cmd: the lab files against their report text"
fi

# ---- layouts from get_page's access table: Kohler's series --------------------------
# forms/kohler.trace as a trace.dat of a kernel with Kohler's series (its get_page
# prints "xwuX"): the layout kohler from that table, its role bits after access
# guessed and counted so, the same checks as the text.
run replay $fx/kohler.dat --json; cp "$tmp/out" "$tmp/k-dat.json"; rc_dat=$rc
run replay $fx/forms/kohler.trace --json; cp "$tmp/out" "$tmp/k-text.json"
if [ $rc_dat -eq 0 ] && pyexpr "$tmp/k-dat.json" 'd["layout"] == "kohler" and not d["layout_guessed"] and "access table xwuX" in d["layout_source"] and "role bits after access guessed" in d["layout_source"] and d["tracedat_roles_guessed"] == 4 and d["spte_format"] == "legacy"' &&
   python3 -c '
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
for k in ("transactions", "sptes_checked", "roles_checked", "anomalies", "events", "layout", "spte_format"):
    assert a[k] == b[k], k' "$tmp/k-dat.json" "$tmp/k-text.json" 2>"$tmp/pyerr"; then
	ok "kohler trace.dat: layout from its access table, 4 role words with guessed bits counted, the checks of its text"
else
	nok "kohler trace.dat" "exit $rc_dat" "$(head -c 700 "$tmp/k-dat.json")" "$(cat "$tmp/pyerr")"
fi
run replay $fx/kohler.dat --layout classic --json
pyexpr "$tmp/out" 'd["layout"] == "classic" and d["layout_source"].startswith("built-in, from --layout") and not d["layout_guessed"]' &&
	ok "kohler trace.dat: --layout still decides" || nok "kohler --layout" "$(head -c 400 "$tmp/out")"

# ---- an instance buffer (trace-cmd record -B kvm) beside the top one ------------------
# The same file as forms/instance-report.trace (its trace-cmd report): the same
# records; the drops of each buffer's CPU 0 kept apart (the unknown one counted as 1).
run replay $fx/instance.dat --json; cp "$tmp/out" "$tmp/inst-dat.json"; rc_dat=$rc
run replay $fx/forms/instance-report.trace --json; cp "$tmp/out" "$tmp/inst-text.json"
if [ $rc_dat -eq 0 ] && pyexpr "$tmp/inst-dat.json" 'd["tracedat_records"] == 280 and d["tracedat_skipped"] == 40 and d["buffers"] == [{"name": "", "events": 0}, {"name": "kvm", "events": 240}] and d["lost_by_cpu"] == [{"buffer": "", "cpu": 0, "lost": 5, "markers_uncounted": 0}, {"buffer": "kvm", "cpu": 0, "lost": 8, "markers_uncounted": 0}] and d["lost_events"] == 13 and d["anomalies"]["total"] == 0' &&
   python3 -c '
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
for k in ("transactions", "sptes_checked", "roles_checked", "anomalies"):
    assert a[k] == b[k], k
ea = {k: v for k, v in a["events"].items() if k != "lost"}
eb = {k: v for k, v in b["events"].items() if k != "lost"}
assert ea == eb' "$tmp/inst-dat.json" "$tmp/inst-text.json" 2>"$tmp/pyerr"; then
	ok "instance buffer: per-buffer drops (top CPU 0: 5, kvm CPU 0: 7 + 1 unknown), the same checks as its report"
else
	nok "instance buffer" "exit $rc_dat" "$(head -c 800 "$tmp/inst-dat.json")" "$(cat "$tmp/pyerr")"
fi
run replay $fx/instance.dat
grep -q '^ring-buffer drops: CPU 0: 5, kvm CPU 0: 8$' "$tmp/out" &&
	grep -q '^buffers: top 0 events, kvm 240 events$' "$tmp/out" &&
	ok "instance buffer: the summary names each buffer's drops and events" ||
	nok "instance buffer summary" "$(head -c 600 "$tmp/out")"

# ---- layouts from the formats, and the planted anomaly ------------------------------
run replay $fx/escalation.dat --json
if [ $rc -eq 1 ] && pyexpr "$tmp/out" 'd["layout"] == "classic" and d["anomalies"]["total"] == 1 and d["anomalies"]["escalation"] == 1 and d["anomalies"]["first"][0]["rule"] == "spte-exceeds-walk"'; then
	ok "escalation.dat: the planted escalation and nothing else (classic)"
else
	nok "escalation.dat" "exit $rc" "$(head -c 600 "$tmp/out")"
fi
run replay $fx/escalation-mbec.dat --json
if [ $rc -eq 1 ] && pyexpr "$tmp/out" 'd["layout"] == "mbec" and "access table rwux" in d["layout_source"] and d["anomalies"]["total"] == 1 and d["anomalies"]["escalation"] == 1'; then
	ok "escalation-mbec.dat: mbec layout from the access table in its get_page format, the planted escalation"
else
	nok "escalation-mbec.dat" "exit $rc" "$(head -c 600 "$tmp/out")"
fi
run replay $fx/escalation-mbec.dat --layout classic --json
pyexpr "$tmp/out" 'd["layout"] == "classic" and "--layout" in d["layout_source"]' &&
	ok "--layout overrides the formats of a trace.dat" || nok "--layout on trace.dat" "$(head -c 400 "$tmp/out")"

# The role word says what text cannot: CR0.WP=0 here (text is taken as 1).
run replay $fx/role-wp0.dat --events --json
if [ $rc -eq 1 ] && python3 -c '
import json, sys
docs = [json.loads(l) for l in open(sys.argv[1])]
gp = [d for d in docs if d.get("event") == "get_page"]
s = docs[-1]
sys.exit(0 if len(gp) == 5 and all("cr0_wp" not in g["role_decoded"] for g in gp) and
         s["anomalies"]["total"] == 1 and s["anomalies"]["role"] == 1 else 1)' "$tmp/out" &&
   "$MBECSCOPE" replay $fx/role.trace --events | grep -q "get_page: gfn 0x100 role 0x3704 (.*cr0_wp)"; then
	ok "role-wp0.dat: roles carry the file's CR0.WP=0 (text's are taken as 1), the planted role anomaly"
else
	nok "role-wp0.dat" "exit $rc" "$(grep get_page "$tmp/out" | head -2)" "$(tail -c 400 "$tmp/out")"
fi

# ---- stdin, mbectop --------------------------------------------------------------
run replay $fx/drops.dat --json; cp "$tmp/out" "$tmp/file.json"
"$MBECSCOPE" replay - --json <$fx/drops.dat >"$tmp/stdin.json" 2>"$tmp/err"; rc1=$?
cat $fx/drops.dat | "$MBECSCOPE" replay - --json >"$tmp/pipe.json" 2>>"$tmp/err"; rc2=$?
if [ $rc1 -eq 0 ] && [ $rc2 -eq 0 ] && same_checks "$tmp/file.json" "$tmp/stdin.json" >"$tmp/diff" &&
   same_checks "$tmp/file.json" "$tmp/pipe.json" >>"$tmp/diff"; then
	ok "stdin: a redirected trace.dat and a piped one (spooled) read as the file"
else
	nok "stdin" "exit $rc1 $rc2" "$(cat "$tmp/diff")" "$(cat "$tmp/err")"
fi
"$(dirname "$MBECSCOPE")/mbectop" -b --replay $fx/escalation.dat >"$tmp/top" 2>"$tmp/err"; rc=$?  # 1: anomalies
[ $rc -eq 1 ] && grep -q "anomalies 1" "$tmp/top" &&
	ok "mbectop --replay reads a trace.dat" || nok "mbectop --replay" "exit $rc" "$(head -c 400 "$tmp/top")" "$(cat "$tmp/err")"

# ---- what fuzz_tracedat found (fixtures/fuzz/README.md) -----------------------------
for f in $fx/fuzz/tracedat-*.dat; do
	# (under ASan, glibc's NULL from malloc is the allocator's warning first)
	ASAN_OPTIONS=${ASAN_OPTIONS:+$ASAN_OPTIONS:}allocator_may_return_null=1 run replay "$f"
	grep -v '^==[0-9]*==WARNING: AddressSanitizer failed to allocate' "$tmp/err" >"$tmp/err1"
	if [ $rc -eq 2 ] && [ "$(wc -l <"$tmp/err1")" = 1 ] && grep -q "^mbecscope replay: $f: trace.dat" "$tmp/err1" && [ ! -s "$tmp/out" ]; then
		ok "fuzz find $(basename "$f"): exit 2, one line: $(sed "s|^mbecscope replay: $f: ||" "$tmp/err1" | head -c 90)"
	else
		nok "fuzz find $(basename "$f")" "exit $rc" "$(head -c 400 "$tmp/err")"
	fi
done

# ---- damage -------------------------------------------------------------------------
# A ring-buffer page whose header libtracecmd refuses (commit larger than a page):
# libtracecmd, and trace-cmd report with it, silently stop reading that CPU there.
# two-cpus.dat with CPU 0's third page so damaged, and with CPU 1's last page.
gzip -dc $fx/damaged-page.dat.gz >"$tmp/dp.dat"
gzip -dc $fx/damaged-last-page.dat.gz >"$tmp/dlp.dat"
run replay "$tmp/dp.dat" --json
if [ $rc -eq 2 ] && grep -q "trace.dat damaged: CPU 0 stops at a ring-buffer page libtracecmd refuses (a bad page header) after the record at file offset 0x6fd0" "$tmp/err" &&
   pyexpr "$tmp/out" 'd["tracedat_damaged_cpus"] == [{"buffer": "", "cpu": 0, "stopped_after_offset": 0x6fd0, "last_record_offset": 0x8888}] and d["tracedat_records"] == 926 and d["lost_by_cpu"] == [{"buffer": "", "cpu": 0, "lost": 0, "markers_uncounted": 1}] and d["anomalies"]["total"] == 0'; then
	ok "damaged page mid-CPU: counted for CPU 0 (with its offsets), a loss there, exit 2, CPU 1 read whole"
else
	nok "damaged page" "exit $rc" "$(cat "$tmp/err")" "$(head -c 600 "$tmp/out")" "$(cat "$tmp/pyerr")"
fi
run replay "$tmp/dlp.dat"
if [ $rc -eq 2 ] && grep -q "damaged: CPU 1 stops at a ring-buffer page" "$tmp/err" &&
   grep -q "damaged ring-buffer pages, read up to the damage: CPU 1" "$tmp/out"; then
	ok "damaged last page of CPU 1: found too (its last record cannot be read), said in the summary"
else
	nok "damaged last page" "exit $rc" "$(cat "$tmp/err")" "$(head -c 600 "$tmp/out")"
fi
gzip -dc $fx/two-cpus.dat.gz >"$tmp/two.dat" 2>/dev/null || cp $fx/two-cpus.dat "$tmp/two.dat"
run replay "$tmp/two.dat" --json
if [ $rc -eq 0 ] && pyexpr "$tmp/out" 'd["tracedat_damaged_cpus"] == [] and d["tracedat_unreadable_cpus"] == 0 and d["tracedat_records"] == 1188'; then
	ok "the undamaged file: no CPU said damaged (1188 records)"
else
	nok "undamaged two-cpus" "exit $rc" "$(cat "$tmp/err")" "$(cat "$tmp/pyerr")"
fi

# The first record of the data's third page gets an event id no format has.
python3 - $fx/drops.dat "$tmp/bad.dat" <<'PY'
import struct, sys
d = bytearray(open(sys.argv[1], "rb").read())
i = d.index(b"flyrecord\0") + 10
off = struct.unpack_from("<Q", d, i)[0]
p = off + 2 * 4096 + 16		# page header: timestamp, commit
assert struct.unpack_from("<I", d, p)[0] & 31 <= 28	# a data record
struct.pack_into("<H", d, p + 4, 9999)
open(sys.argv[2], "wb").write(d)

PY
run replay "$tmp/bad.dat" --json
if [ $rc -eq 2 ] && grep -q "trace.dat damaged: CPU 0, record at file offset [0-9]*: event id 9999 has no format" "$tmp/err" &&
   [ "$(wc -l <"$tmp/err")" -eq 1 ] && pyexpr "$tmp/out" 'd["records"] > 0 and d["input_problem"]'; then
	ok "a damaged record: exit 2, where it is, the records before it checked"
else
	nok "damaged record" "exit $rc" "$(cat "$tmp/err")" "$(head -c 300 "$tmp/out")"
fi
head -c 30000 $fx/drops.dat >"$tmp/cut.dat"
run replay "$tmp/cut.dat" --json
if [ $rc -eq 2 ] && [ ! -s "$tmp/out" ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] &&
   grep -q "trace.dat cut short or damaged.*Need at least" "$tmp/err"; then
	ok "a cut trace.dat: exit 2, one line saying so, nothing on stdout"
else
	nok "cut trace.dat" "exit $rc" "$(cat "$tmp/err")" "$(head -c 300 "$tmp/out")"
fi
head -c 200 $fx/drops.dat >"$tmp/head.dat"
run replay "$tmp/head.dat"
[ $rc -eq 2 ] && grep -q "libtracecmd cannot read its headers" "$tmp/err" &&
	ok "a trace.dat cut in its headers: exit 2" || nok "headers cut" "exit $rc" "$(cat "$tmp/err")"

tap_done
