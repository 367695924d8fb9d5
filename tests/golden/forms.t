#!/bin/bash
# Every text form the importer reads, one fixture each
# (tests/golden/fixtures/forms/, each saying where its form comes from):
# each replays with no bad line, no anomaly and the checks its events
# allow; drop markers become lost events, stack traces and markers are
# skipped by kind; a line of a known event that cannot be read, or an
# out-of-range column, stays exit 2.
. "$(dirname "$0")/lib.sh"
fx=tests/golden/fixtures/forms

# form NAME PYEXPR [ARGS...]: replay --json exits 0, reads every line, finds
# no anomaly and no shadow page missing, and PYEXPR (d = the JSON) holds.
form() {
	local name=$1 expr=$2; shift 2
	"$MBECSCOPE" replay "$fx/$name" --json "$@" >"$tmp/out" 2>"$tmp/err"
	local rc=$?
	if [ $rc -eq 0 ] && [ ! -s "$tmp/err" ] && python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
why = [w["reason"] for w in d["sptes_checked"]["why"]]
ok = (d["lines_bad"] == 0 and d["anomalies"]["total"] == 0 and
      not any("never seen" in w for w in why) and ('"$expr"'))
sys.exit(0 if ok else 1)' "$tmp/out"; then
		ok "$name: read whole, 0 anomalies, $expr"
	else
		nok "$name" "exit $rc; want: $expr" "$(head -c 600 "$tmp/out")" \
			"$(head -c 300 "$tmp/err")"
	fi
}

form get_page-3.6.trace 'd["events"]["get_page"]["received"] == 4 and d["events"]["paging_element"]["received"] == 4 and d["roles_without_cr0_wp"] == 4'
form get_page-4.4.trace 'd["sptes_checked"]["full"] == 1 and d["roles_checked"] == 1'
form get_page-4.14.trace 'd["sptes_checked"]["full"] == 1 and d["roles_checked"] == 1'
form get_page-5.0.trace 'd["sptes_checked"]["full"] == 1 and d["roles_checked"] == 1'
form plugin-get_page.trace 'd["sptes_checked"]["full"] == 1 and d["roles_checked"] == 1 and d["plugin_lines"] == 4 and d["roles_without_cr0_wp"] == 0 and d["lines_skipped"]["other_event"] == 3 and d["lines_skipped"]["header"] == 1'
form plugin-exit.trace 'd["exits_checked"] == 1 and d["injects_checked"] == 1 and d["spte_format"] == "ept" and d["lines_skipped"]["other_exit"] == 1 and d["lines_skipped"]["other_event"] == 1'
form plugin-exit-svm.trace 'd["exits_checked"] == 1 and d["sptes_checked"]["full"] == 1 and d["spte_format"] == "legacy"'
form exit-3.x.trace 'd["exits_checked"] == 1 and d["sptes_checked"]["full"] == 1 and d["spte_format"] == "ept"'
form kohler.trace 'd["layout"] == "kohler" and not d["layout_guessed"] and "access strings" in d["layout_source"] and d["sptes_checked"]["full"] == 1 and d["roles_checked"] == 1 and d["user_exec_unchecked"] == 4'
form drops.trace 'd["layout_guessed"] and "guessed" in d["layout_source"] and d["drop_markers"] == 3 and d["lost_events_marked"] == 15 and d["drop_markers_uncounted"] == 1 and d["lost_events"] == 15 and d["lost_by_cpu"] == [{"buffer": "", "cpu": 0, "lost": 0, "markers_uncounted": 1}, {"buffer": "", "cpu": 1, "lost": 15, "markers_uncounted": 0}] and d["exits_checked"] == 2'
# trace-cmd report of an instance buffer: "kvm: " before kvm's lines, blanks before the top
# buffer's; each buffer's CPU 0 keeps its own losses.
form instance-report.trace 'd["lost_by_cpu"] == [{"buffer": "", "cpu": 0, "lost": 5, "markers_uncounted": 0}, {"buffer": "kvm", "cpu": 0, "lost": 7, "markers_uncounted": 1}] and d["buffers"] == [{"name": "", "events": 0}, {"name": "kvm", "events": 240}] and d["lines_buffer_prefixed"] == 240 and d["lines_skipped"]["other_event"] == 40 and d["lost_events"] == 12 and d["sptes_checked"]["full"] == 3'
form fast_page_fault-3.x.trace 'd["events"]["fast_page_fault"]["received"] == 1 and d["events"]["walker_error"]["received"] == 1 and d["events"]["tdp_spte_changed"]["received"] == 1'
form fast_page_fault-npt.trace 'd["events"]["fast_page_fault"]["received"] == 3'
# The bits without a name are kept: the error codes as the kernel had them.
ec=$("$MBECSCOPE" replay "$fx/fast_page_fault-npt.trace" --events 2>/dev/null |
	grep -o 'fast_page_fault: addr 0x[0-9a-f]* error_code 0x[0-9a-f]*' | awk '{print $5}' | tr '\n' ' ')
[ "$ec" = "0x100000000 0x100000003 0x200000014 " ] &&
	ok "fast_page_fault-npt: error codes 0x100000000, P|W|0x100000000, U|F|0x200000000 read whole" ||
	nok "fast_page_fault-npt error codes" "got: $ec"
# ... and what is not a flag or a hex remainder is still refused, with the line.
for bad in 'P|0x1zz' 'P|0x' '0x1|W' 'P|Q'; do
	sed -n "/gva 2000/s/P|W|0x100000000/$bad/p" "$fx/fast_page_fault-npt.trace" >"$tmp/bad.trace"
	"$MBECSCOPE" replay "$tmp/bad.trace" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	[ $rc -eq 2 ] && grep -q 'line 1: fast_page_fault: .*error_code' "$tmp/err" &&
		ok "fast_page_fault error_code '$bad': exit 2, the line named" ||
		nok "fast_page_fault error_code '$bad'" "exit $rc" "$(head -c 300 "$tmp/err")"
done
form stacktrace.trace 'd["lines_skipped"]["stack_trace"] == 8 and d["lines_skipped"]["marker"] == 1 and d["sptes_checked"]["full"] == 1'

# The summary says the drops, with the unknown count said as such.
"$MBECSCOPE" replay "$fx/drops.trace" >"$tmp/out" 2>&1
grep -q '^drop markers: 3, 15 events lost plus an unknown number (1 markers without a count) (CPU 0: 0 + unknown, CPU 1: 15)$' "$tmp/out" &&
	ok "drops: the summary counts them per CPU, the unknown one as unknown" ||
	nok "drops summary" "$(cat "$tmp/out")"
grep -q '^lines skipped: 7 comment, 1 marker, 8 stack trace$' <("$MBECSCOPE" replay "$fx/stacktrace.trace" 2>&1) &&
	ok "stacktrace: the summary counts skipped lines by kind" ||
	nok "stacktrace summary" "$("$MBECSCOPE" replay "$fx/stacktrace.trace" 2>&1 | head -3)"

# --layout kohler names the layout even without an access string.
"$MBECSCOPE" replay "$fx/plugin-exit.trace" --layout kohler --json >"$tmp/out" 2>"$tmp/err"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if d["layout"] == "kohler" and "--layout" in d["layout_source"] else 1)' "$tmp/out" &&
	ok "--layout kohler is said in the summary" || nok "--layout kohler" "$(cat "$tmp/out" "$tmp/err")"

# A file opening with a stack trace is ftrace text; one whose only line is
# a stack-trace tail is skipped, not rejected.
{ echo ' => kvm_mmu_page_fault+0x2a/0x5c0'; cat "$fx/get_page-5.0.trace"; } >"$tmp/lead.trace"
"$MBECSCOPE" replay "$tmp/lead.trace" >/dev/null 2>&1 && ok "a stack line first does not make the file bad" ||
	nok "stack line first"

# Damaged data is still exit 2: a known event whose fields cannot be read ...
bad() {
	local name=$1 re=$2 file=$3; shift 3
	"$MBECSCOPE" replay "$file" "$@" >"$tmp/out" 2>"$tmp/err"
	local rc=$?
	if [ $rc -eq 2 ] && grep -Eq "$re" "$tmp/err" && [ "$(wc -l <"$tmp/err")" -eq 1 ]; then
		ok "$name: exit 2, one line"
	else
		nok "$name" "exit $rc, stderr: $(head -c 300 "$tmp/err")"
	fi
}
sed 's/ q0 wux !pae nxe wp root/ q0 wux !pae nxe root/' "$fx/plugin-get_page.trace" >"$tmp/p1.trace"
bad "plugin get_page without [!]wp" 'line 11: kvm_mmu_get_page \(trace-cmd plugin\): no \[!\]wp' "$tmp/p1.trace"
sed 's/l4 pae q0 wux/l4 pae q9 wux/' "$fx/get_page-4.14.trace" >"$tmp/p2.trace"
bad "get_page with quadrant 9" 'line 4: kvm_mmu_get_page: no quadrant' "$tmp/p2.trace"
sed 's/xwuX nxe/xwuQ nxe/' "$fx/kohler.trace" >"$tmp/p3.trace"
bad "an access string of no layout" "line 6: kvm_mmu_get_page: access \"xwuQ\" is neither" "$tmp/p3.trace"
sed 's/info 181 0/info zz 0/' "$fx/exit-3.x.trace" >"$tmp/p4.trace"
bad "kvm_exit with unreadable info" 'line 5: kvm_exit: want info1 and info2' "$tmp/p4.trace"
# ... and out-of-range columns (issue 17: the TGID column was taken as 0).
sed '0,/(   4128)/s//(99999999999)/' "$fx/get_page-4.4.trace" >"$tmp/p5.trace"
bad "TGID column out of range" 'line 5: the TGID column is out of range' "$tmp/p5.trace"
sed '0,/(   4128)/s//(999999999999999999999)/' "$fx/get_page-4.4.trace" >"$tmp/p6.trace"
bad "TGID column longer than any counter" 'line 5: the TGID column is out of range' "$tmp/p6.trace"
sed '0,/mbecscope-4129 /s//mbecscope-99999999999 /' "$fx/get_page-4.4.trace" >"$tmp/p7.trace"
bad "thread id out of range" 'line 5: the thread id .* out of range' "$tmp/p7.trace"
# Kohler's access after classic's in one file is not one kernel's output.
sed '0,/xwuX/s//wux/' "$fx/kohler.trace" >"$tmp/p8.trace"
bad "layouts that disagree" 'changes the layout \(classic before\)' "$tmp/p8.trace"
# Access strings of another layout than --layout are not read with the wrong bits.
bad "--layout mbec on Kohler's strings" 'is kohler.s, but the lines are read as mbec .*: replay with --layout kohler' \
	"$fx/kohler.trace" --layout mbec

tap_done
