#!/bin/bash
# The lab's host-side tools on made-up input (no emulator needed):
# lab/frames.py must take whole frames apart and refuse damaged or cut-short
# captures; lab/summary.py must pass a clean run and fail each assertion on
# a run that breaks it; lab/quirks.txt entries must explain only their own
# emulator's matching anomalies.
set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0 failed=0
ok() {
	n=$((n + 1))
	if [ "$1" = 0 ]; then echo "ok $n - $2"; else failed=$((failed + 1)); echo "not ok $n - $2"; fi
}

# frame NAME FILE: what lab/init.sh sends for FILE
frame() {
	echo "@@lab begin $1 $(wc -c < "$2") $(md5sum < "$2" | cut -d' ' -f1)"
	base64 "$2"
	echo "@@lab end $1"
}
head -c 3000 /dev/urandom > "$tmp/blob"
printf 'hello\n' > "$tmp/small"
: > "$tmp/empty"
{ echo "kernel noise"; frame blob "$tmp/blob"; frame small "$tmp/small"; frame empty "$tmp/empty"
  echo "@@lab done workload"; } > "$tmp/good.cap"
python3 "$TOP/lab/frames.py" "$tmp/good.cap" "$tmp/good" 2>"$tmp/err"
rc=$?
ok $([ $rc -eq 0 ] && cmp -s "$tmp/blob" "$tmp/good/blob" && cmp -s "$tmp/small" "$tmp/good/small" &&
	[ -f "$tmp/good/empty" ] && [ ! -s "$tmp/good/empty" ]; echo $?) "frames: whole frames come back byte for byte (exit $rc)"
ok $(grep -q '1 line(s) outside any frame' "$tmp/err"; echo $?) "frames: a stray line is counted and said"

# A flipped character in the base64 body: the MD5 catches it.
awk 'NR == 3 { c = substr($0, 1, 1); $0 = (c == "A" ? "B" : "A") substr($0, 2) } 1' \
	"$tmp/good.cap" > "$tmp/bad.cap"
python3 "$TOP/lab/frames.py" "$tmp/bad.cap" "$tmp/bad" 2>"$tmp/err"
rc=$?
ok $([ $rc -eq 1 ] && [ ! -e "$tmp/bad/blob" ] && grep -q 'blob' "$tmp/err"; echo $?) \
	"frames: a damaged file is refused, named, not written (exit $rc)"

# Cut short: no end line, no done line.
head -n 10 "$tmp/good.cap" > "$tmp/cut.cap"
python3 "$TOP/lab/frames.py" "$tmp/cut.cap" "$tmp/cut" 2>"$tmp/err"
rc=$?
ok $([ $rc -eq 1 ] && grep -q 'cut short' "$tmp/err" && grep -q "before the guest's 'done'" "$tmp/err"; echo $?) \
	"frames: a capture cut short fails and says so (exit $rc)"
python3 "$TOP/lab/frames.py" "$tmp/nonexistent" "$tmp/x" 2>/dev/null
ok $([ $? -eq 2 ]; echo $?) "frames: an unreadable capture is exit 2"

# summary.py on a made-up clean run, then one broken assertion at a time.
mkrun() {
	local d=$1
	mkdir -p "$d"
	echo "qemu 0 12.5 debian-6.1 6.1.0-57-amd64 /bin/true" > "$d/run.txt"
	echo "6.1.0-57-amd64" > "$d/uname.txt"
	printf 'kvm/parameters/tdp_mmu Y\nkvm_amd/parameters/npt Y\n' > "$d/kvm.txt"
	printf 'workload 0 1 2 x\ncheck 0 2 3 x\nrecord 0 3 4 x\nnegative 1 4 5 x\nrawtp 0 5 6 x\nnested 0 6 7 x\n' > "$d/steps.txt"
	echo '{"hypervisor":"SVM with NPT","feature":"GMET","feature_offered":false,"info":"EXITINFO1","passes_run":2,"accesses":96,"faults":64,"mismatches":0,"self_check":"passed","mismatch_list":[]}' > "$d/nested.out"
	echo '{"mismatches":2,"self_check":"failed"}' > "$d/nested-negative.out"
	cat > "$d/check.out" <<'EOF'
{"sptes_checked":{"total":46,"full":40,"partial":6,"none":0,"why":[
  {"coverage":"full","reason":"TDP","count":40},{"coverage":"partial","reason":"lost","count":6}]},
 "exits_checked":46,"anomalies":{"total":0,"format":0,"first":[]},"lost_events":0,
 "attach":[{"tracepoint":"kvm_exit","how":"tp_btf","note":null},
           {"tracepoint":"kvm_entry","how":"raw_tp","note":"module tracepoint: verifier refuses tp_btf"}],
 "workload_pages":{"matrix":64,"with_checked_spte":63,"without":[{"why":"U=0 page"}]}}
EOF
	echo '{"anomalies":{"total":5,"escalation":5,"first":[]}}' > "$d/negative.out"
	cat > "$d/rawtp.out" <<'EOF'
{"sptes_checked":{"total":46},"exits_checked":46,"anomalies":{"total":0,"first":[]},"lost_events":0,
 "attach":[{"tracepoint":"kvm_exit","how":"raw_tp","note":"forced"}]}
EOF
}
summ() { python3 "$TOP/lab/summary.py" --tap "$1" > "$tmp/tap" 2>&1; }
mkrun "$tmp/clean"
summ "$tmp/clean"
rc=$?
ok $([ $rc -eq 0 ] && ! grep -q '^not ok' "$tmp/tap" && [ "$(grep -c '^ok' "$tmp/tap")" -ge 12 ]; echo $?) \
	"summary: a clean run passes every assertion (exit $rc)"
python3 "$TOP/lab/summary.py" "$tmp/clean" | grep -q 'attach raw_tp 1, tp_btf 1 \[raw_tp: kvm_entry: module tracepoint'
ok $? "summary: the line says how each program attached and why"
python3 "$TOP/lab/summary.py" "$tmp/clean" | grep -q 'npt+tdp_mmu:'
ok $? "summary: the line names the MMU and no feature that is off"
mkrun "$tmp/gmet"
printf 'kvm_amd/parameters/gmet Y\n' >> "$tmp/gmet/kvm.txt"
python3 "$TOP/lab/summary.py" "$tmp/gmet" | grep -q 'npt+tdp_mmu+gmet:'
ok $? "summary: a run with GMET in effect says so"
# run.sh refuses a malformed vendor-module parameter before it boots anything.
"$TOP/lab/run.sh" --mbecscope /bin/true --kvm-param 'gmet=1;reboot' > /dev/null 2>"$tmp/err"
ok $([ $? -eq 2 ] && grep -q 'NAME and VALUE' "$tmp/err"; echo $?) "run.sh: --kvm-param with a stray character is exit 2"
"$TOP/lab/run.sh" --mbecscope /bin/true --kvm-param gmet > /dev/null 2>"$tmp/err"
ok $([ $? -eq 2 ] && grep -q 'NAME=VALUE' "$tmp/err"; echo $?) "run.sh: --kvm-param without a value is exit 2"

# expect_fail NAME PATTERN EDIT...: after the edit, the TAP has a "not ok" matching PATTERN
expect_fail() {
	local name=$1 pat=$2 d=$tmp/$1
	shift 2
	mkrun "$d"
	(cd "$d" && eval "$@")
	summ "$d"
	local rc=$?
	ok $([ $rc -eq 1 ] && grep -q "^not ok.*$pat" "$tmp/tap"; echo $?) "summary: $name fails '$pat' (exit $rc)"
}
expect_fail anomalies 'anomalies: 0' \
	"sed -i 's/\"total\":0,\"format\":0/\"total\":3,\"format\":3/' check.out"
expect_fail lost 'lost events: 0' "sed -i 's/\"lost_events\":0/\"lost_events\":2/' check.out"
expect_fail silent-raw-tp 'tp_btf or says why' "sed -i 's/\"note\":\"module[^\"]*\"/\"note\":null/' check.out"
expect_fail no-reason 'coverage partial' "sed -i 's/\"count\":6/\"count\":5/' check.out"
expect_fail no-exits 'exit qualifications' "sed -i 's/\"exits_checked\":46/\"exits_checked\":0/' check.out"
expect_fail negative-silent 'negative control' "echo '{\"anomalies\":{\"total\":0}}' > negative.out"
expect_fail workload-failed 'workload passed' "sed -i 's/^workload 0/workload 1/' steps.txt"
expect_fail step-missing 'step record ran' "sed -i '/^record/d' steps.txt"
expect_fail page-no-reason 'workload page' "sed -i 's/\"why\":\"U=0 page\"/\"why\":\"\"/' check.out"
expect_fail no-summary 'gave a summary' "rm check.out"
expect_fail rawtp-anomalies 'raw_tp: anomalies: 0' \
	"sed -i 's/\"total\":0,/\"total\":46,\"exit-qual\":46,/' rawtp.out"
expect_fail rawtp-not-raw 'attached every program as raw_tp' "sed -i 's/raw_tp/tp_btf/' rawtp.out"
expect_fail nested-mismatch 'nested: 96 L3 accesses' \
	"sed -i 's/\"mismatches\":0,\"self_check\":\"passed\"/\"mismatches\":1,\"self_check\":\"failed\"/' nested.out"
expect_fail nested-passes 'nested: 2 of 4 passes' "sed -i 's/\"feature_offered\":false/\"feature_offered\":true/' nested.out"
expect_fail nested-negative-silent 'nested negative control' "echo '{\"mismatches\":0}' > nested-negative.out"
# A run asked for fewer steps is judged on those only.
mkrun "$tmp/fewer"
echo workload,check,record,negative > "$tmp/fewer/steps-wanted.txt"
sed -i '/^rawtp/d' "$tmp/fewer/steps.txt"
rm "$tmp/fewer/rawtp.out"
summ "$tmp/fewer"
ok $? "summary: a run without the rawtp step is not failed for it"
# A run of other steps only (lab/run.sh --steps tracedat) is judged on them.
mkrun "$tmp/only-td"
echo tracedat > "$tmp/only-td/steps-wanted.txt"
echo 'tracedat-replay-4 0 1 2 x' > "$tmp/only-td/steps.txt"
rm "$tmp/only-td"/*.out
summ "$tmp/only-td"
rc=$?
ok $([ $rc -eq 0 ] && python3 "$TOP/lab/summary.py" "$tmp/only-td" | grep -q 'steps tracedat;.* ok$'; echo $?) \
	"summary: a tracedat-only run is not failed for the check steps (exit $rc)"
# livetests: each tests/live file's log and status came back (lab/livetests.sh).
mklive() {
	mkrun "$1"
	echo livetests > "$1/steps-wanted.txt"
	echo 'livetests 0 1 200 x' > "$1/steps.txt"
	rm "$1"/*.out
	printf 'ok 1 - a\nok 2 - b # SKIP why\n1..2\n' > "$1/live-check.log"
	echo 0 > "$1/live-check.rc"
	printf 'ok 1 - c\n1..1\n' > "$1/live-top.log"
	echo 0 > "$1/live-top.rc"
}
mklive "$tmp/live"
summ "$tmp/live"
rc=$?
ok $([ $rc -eq 0 ] && python3 "$TOP/lab/summary.py" "$tmp/live" |
	grep -q 'live tests: 2 files, 2 ok, 0 not ok, 1 skipped;'; echo $?) \
	"summary: a livetests run counts each file's ok, not ok and skips (exit $rc)"
mklive "$tmp/live-fail"
printf 'ok 1 - c\nnot ok 2 - d broke\n1..2\n' > "$tmp/live-fail/live-top.log"
echo 1 > "$tmp/live-fail/live-top.rc"
summ "$tmp/live-fail"
rc=$?
ok $([ $rc -eq 1 ] && grep -q '^not ok.*live/top: exit 1, 1 ok, 1 not ok.*not ok 2 - d broke' "$tmp/tap"; echo $?) \
	"summary: a live test that failed fails the run, naming its first failure (exit $rc)"
mklive "$tmp/live-none"
rm "$tmp/live-none"/live-*
summ "$tmp/live-none"
rc=$?
ok $([ $rc -eq 1 ] && grep -q '^not ok.*live tests ran' "$tmp/tap"; echo $?) \
	"summary: a livetests run that sent no result back fails (exit $rc)"
"$TOP/lab/run.sh" --mbecscope /bin/true --steps livetests --emulator bochs > /dev/null 2>"$tmp/err"
ok $([ $? -eq 2 ] && grep -q "needs Debian's QEMU, with 9p" "$tmp/err"; echo $?) "run.sh: livetests under Bochs is exit 2, said"

# Emulator quirks (lab/quirks.txt's format): an entry explains the anomalies
# of its rule whose qualification matches, in runs under its emulator only.
cat > "$tmp/quirks.txt" <<'EOF'
# a test entry
id: test-bit13
emulator: bochs3
match: 0x2044=0x2000
rule: exit-qual-pfec
evidence: made up,
  for this test

id: test-other
emulator: bochs3
rule: none
EOF
# quirk_run DIR EMULATOR QUALIFICATION TOTAL: TOTAL exit-qual anomalies, one listed
quirk_run() {
	mkrun "$1"
	sed -i "s/^qemu /$2 /" "$1/run.txt"
	python3 -c '
import json, sys
p, qual, total = sys.argv[1], sys.argv[2], int(sys.argv[3])
d = json.load(open(p))
d["anomalies"] = {"total": total, "exit-qual": total, "first": [
    {"class": "exit-qual", "rule": "exit-qual-pfec",
     "what": "error code differs (qualification %s, error code 0x1)" % qual}]}
json.dump(d, open(p, "w"))' "$1/check.out" "$3" "$4"
}
quirk_sum() { LAB_QUIRKS=$tmp/quirks.txt python3 "$TOP/lab/summary.py" "$@"; }
quirk_run "$tmp/q-ok" bochs3 0x2181 1
quirk_sum "$tmp/q-ok" > "$tmp/q-ok.line"
rc=$?
ok $([ $rc -eq 0 ] && grep -q '1 explained by quirk test-bit13' "$tmp/q-ok.line"; echo $?) \
	"quirks: a matching anomaly under the quirk's emulator is explained (exit $rc)"
quirk_run "$tmp/q-emu" bochs 0x2181 1
quirk_sum "$tmp/q-emu" > "$tmp/q-emu.line"
rc=$?
ok $([ $rc -eq 1 ] && ! grep -q 'explained' "$tmp/q-emu.line"; echo $?) \
	"quirks: the same anomaly under another emulator fails the run (exit $rc)"
quirk_run "$tmp/q-bit6" bochs3 0x2141 1
quirk_sum "$tmp/q-bit6" > /dev/null
rc=$?
ok $([ $rc -eq 1 ]; echo $?) "quirks: a qualification outside the match fails the run (exit $rc)"
quirk_run "$tmp/q-more" bochs3 0x2181 3
quirk_sum --tap "$tmp/q-more" > "$tmp/q-more.tap"
rc=$?
ok $([ $rc -eq 1 ] && grep -q '^not ok.*anomalies: 0 besides 1 explained.* -- 2 ' "$tmp/q-more.tap"; echo $?) \
	"quirks: anomalies beyond the listed ones stay unexplained (exit $rc)"
quirk_sum --details "$tmp/q-ok" > "$tmp/q-ok.details"
grep -q 'quirk test-other applies to bochs3 runs: 0 anomalies explained (rule none)' "$tmp/q-ok.details"
ok $? "quirks: --details names every quirk in force for the run's emulator"

echo "1..$n"
[ $failed -eq 0 ]
