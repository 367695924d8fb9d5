#!/bin/bash
# mbecscope replay on committed fixtures:
#  - one hand-written ftrace-text fixture per anomaly class (tracefs trace,
#    trace_pipe and trace-cmd report formats), each flagging exactly its
#    planted anomaly and nothing else;
#  - binary recordings: the planted anomalies converted with replay -o, and
#    a real `record --workload` of this machine;
#  - a real tracefs capture of `check --workload` on this machine, taken
#    at the same time as the live run whose JSON summary is committed next
#    to it: the text import must give the same checks;
#  - damaged input: truncated and bit-flipped recordings, garbage text.
. "$(dirname "$0")/lib.sh"

# anomalies FILE: "class=count,..." of the non-zero classes, and the rules
anomalies() {
	python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
a = d["anomalies"]
cls = ",".join("%s=%d" % (k, v) for k, v in sorted(a.items()) if k not in ("total", "first") and v)
print(cls or "none", " ".join(sorted(x["rule"] for x in a["first"])))' "$1"
}

# expect_class NAME WANT-RC WANT-ANOMALIES WANT-RULES ARGS...
expect_class() {
	local name=$1 want_rc=$2 want=$3 rules=$4 got; shift 4
	run replay "$@" --json
	got=$(anomalies "$tmp/out" 2>&1)
	if [ $rc -eq "$want_rc" ] && [ "$got" = "$want $rules" ] && [ ! -s "$tmp/err" ]; then
		ok "$name: $want ($rules)"
	else
		nok "$name" "exit $rc (want $want_rc), got '$got', want '$want $rules'" \
			"$(head -c 300 "$tmp/err")"
	fi
}

# ---- one fixture per anomaly class (ftrace text) ---------------------------
expect_class "escalation.trace" 1 "escalation=1" "spte-exceeds-walk" $fx/escalation.trace
expect_class "no-progress.trace" 1 "no-progress=1" "spte-denies-fault" $fx/no-progress.trace
expect_class "format.trace" 1 "format=1" "spte-invariant" $fx/format.trace
expect_class "exit-qual.trace" 1 "exit-qual=1" "exit-qual-pfec" $fx/exit-qual.trace
expect_class "nested-inject.trace" 1 "nested-inject=1" "nested-qual" $fx/nested-inject.trace
expect_class "role.trace" 1 "role=1" "role-vs-walk" $fx/role.trace
expect_class "escalation-mbec.trace (4-letter access strings)" 1 "escalation=1" \
	"spte-exceeds-walk" $fx/escalation-mbec.trace
run replay $fx/escalation-mbec.trace --json
pyexpr "$tmp/out" 'd["layout"] == "mbec" and "access strings" in d["layout_source"] and d["roles_checked"] == 2' &&
	ok "rwux access strings select the mbec layout, roles checked in it" ||
	nok "mbec layout detection" "$(head -c 400 "$tmp/out")"

# Every fixture's benign part is checked too (not just skipped).
run replay $fx/escalation.trace --json
pyexpr "$tmp/out" 'd["sptes_checked"]["full"] == 2 and d["transactions"] == 2 and d["format"] == "ftrace-text"' &&
	ok "escalation.trace: both SPTEs fully checked" || nok "escalation.trace coverage" "$(cat "$tmp/out")"
run replay $fx/exit-qual.trace --json
pyexpr "$tmp/out" 'd["exits_checked"] == 2 and d["spte_format"] == "ept" and d["events"]["exit"]["received"] == 2' &&
	ok "exit-qual.trace: EPT detected, both exits checked, the HLT exit skipped" ||
	nok "exit-qual.trace detection" "$(cat "$tmp/out")"
run replay $fx/nested-inject.trace --json
pyexpr "$tmp/out" 'd["injects_checked"] == 2' && ok "nested-inject.trace: both injections checked" ||
	nok "nested-inject.trace" "$(cat "$tmp/out")"

# Text output: the same verdict, with the rule and its evidence.
run replay $fx/role.trace -v
if [ $rc -eq 1 ] && grep -q 'role-vs-walk' "$tmp/out" && grep -q 'role.access should be wux' "$tmp/out"; then
	ok "text summary names the rule and the model's expectation"
else
	nok "text summary" "exit $rc" "$(head -c 600 "$tmp/out")"
fi

# Text from standard input.
"$MBECSCOPE" replay - --json <$fx/format.trace >"$tmp/out" 2>"$tmp/err"; rc=$?
[ $rc -eq 1 ] && pyexpr "$tmp/out" 'd["anomalies"]["format"] == 1' && ok "ftrace text on stdin" ||
	nok "stdin" "exit $rc" "$(cat "$tmp/err")"

# ---- binary recordings --------------------------------------------------
expect_class "planted.mbr (five classes in one recording)" 1 \
	"escalation=1,format=1,nested-inject=1,no-progress=1,role=1" \
	"nested-qual role-vs-walk spte-denies-fault spte-exceeds-walk spte-invariant" $fx/planted.mbr
expect_class "exit-qual.mbr" 1 "exit-qual=1" "exit-qual-pfec" $fx/exit-qual.mbr
"$MBECSCOPE" replay - --json <$fx/planted.mbr >"$tmp/out" 2>"$tmp/err"; rc=$?
[ $rc -eq 1 ] && pyexpr "$tmp/out" 'd["format"] == "recording" and d["anomalies"]["total"] == 5' &&
	ok "recording on stdin" || nok "recording on stdin" "exit $rc" "$(cat "$tmp/err")"

# Converting text to a recording keeps the verdicts.
run replay $fx/no-progress.trace -o "$tmp/np.mbr" --json
cp "$tmp/out" "$tmp/text.json"
run replay "$tmp/np.mbr" --json
if [ $rc -eq 1 ] && python3 -c '
import json, sys
a, b = (json.load(open(f)) for f in sys.argv[1:3])
keys = ("events", "transactions", "sptes_checked", "anomalies", "roles_checked")
sys.exit(0 if all(a[k] == b[k] for k in keys) else 1)' "$tmp/text.json" "$tmp/out"; then
	ok "text converted with -o replays to the same summary"
else
	nok "text -> recording" "exit $rc" "$(head -c 400 "$tmp/out")"
fi

# A real recording of the built-in workload on this machine: a clean run
# whose counts are those of the live check summary committed with the
# capture below (the workload is deterministic).
same_as_live() {
	python3 -c '
import json, sys
live, rep = (json.load(open(f)) for f in sys.argv[1:3])
bad = []
# Coverage reasons are compared by count, not by wording (which may be reworded).
for d in (live, rep):
    d["sptes_checked"]["why"] = sorted((w["coverage"], w["count"]) for w in d["sptes_checked"]["why"])
for k in ("transactions", "sptes_checked", "exits_checked", "injects_checked", "roles_checked",
          "anomalies"):
    if live[k] != rep[k]:
        bad.append("%s: live %s replay %s" % (k, live[k], rep[k]))
skip = sys.argv[3:]	# events not to compare
for ev, v in live["events"].items():
    if ev in skip:
        continue
    if rep["events"].get(ev, {}).get("received") != v["received"]:
        bad.append("events %s: live %s replay %s" % (ev, v["received"], rep["events"].get(ev)))
print("\n".join(bad))
sys.exit(1 if bad else 0)' "$@"
}
run replay $fx/workload.mbr --json
if [ $rc -eq 0 ] && same_as_live $fx/workload-capture.live.json "$tmp/out" >"$tmp/diff" &&
   pyexpr "$tmp/out" 'd["complete"] and d["workload"]'; then
	ok "workload.mbr: same counts and verdicts as the live check"
else
	nok "workload.mbr" "exit $rc" "$(cat "$tmp/diff")" "$(cat "$tmp/err")"
fi

# ---- a real tracefs capture against its live run ---------------------------
gzip -dc $fx/workload-capture.trace.gz >"$tmp/capture.trace"
pid=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["pid"])' \
	$fx/workload-capture.live.json)
run replay "$tmp/capture.trace" --workload --pid "$pid" --json
# guest_pte: text holds no guest entries, so replay --workload feeds the
# workload layout of this build, which has grown since the capture (the
# CPL-0 code, data and probe pages); the checks must still be the same.
if [ $rc -eq 0 ] && same_as_live $fx/workload-capture.live.json "$tmp/out" guest_pte >"$tmp/diff"; then
	ok "tracefs capture of check --workload: the same checks as the live run"
else
	nok "tracefs capture vs live" "exit $rc" "$(cat "$tmp/diff")" "$(cat "$tmp/err")"
fi
run replay "$tmp/capture.trace" --json
pyexpr "$tmp/out" 'd["layout"] == "classic" and d["spte_format"] == "legacy" and d["anomalies"]["total"] == 0 and d["sptes_checked"]["total"] == 54' &&
	ok "capture without --workload: layout detected, same SPTEs, prefetches partial" ||
	nok "capture without --workload" "$(head -c 400 "$tmp/out")"

# ---- --events, --export-json, --from/--to, --pid ---------------------------------
run replay $fx/exit-qual.trace --events
if grep -q 'exit: reason 0x30 info1 0x181 (ACC_READ|GVA_IS_VALID|GVA_TRANSLATED)' "$tmp/out" &&
   grep -q 'set_spte: level 1 gfn 0x1 spte 0x600000012345b77 (R|W|X|' "$tmp/out" &&
   [ "$(grep -c ' vcpu 0 ' "$tmp/out")" -eq 8 ]; then
	ok "--events decodes exit qualifications and SPTEs"
else
	nok "--events" "$(head -c 800 "$tmp/out")"
fi
run replay $fx/nested-inject.trace --events --json
if [ $rc -eq 1 ] && python3 -c '
import json, sys
docs = [json.loads(l) for l in open(sys.argv[1])]
sys.exit(0 if len(docs) == 3 and docs[0]["event"] == "nested_vmexit_inject" and
         docs[1]["info1_decoded"] == "ACC_READ|GVA_TRANSLATED" and docs[2]["injects_checked"] == 2
         else 1)' "$tmp/out"; then
	ok "--events --json: JSON lines of events, then the summary"
else
	nok "--events --json" "$(head -c 600 "$tmp/out")"
fi
run replay $fx/role.trace --export-json "$tmp/ev.jsonl"
if [ "$(wc -l <"$tmp/ev.jsonl")" -eq 19 ] && python3 -c '
import json, sys
evs = [json.loads(l) for l in open(sys.argv[1])]
gp = [e for e in evs if e["event"] == "get_page"]
sys.exit(0 if len(gp) == 5 and gp[-1]["access"] == "0x5" and "role_decoded" in gp[-1] else 1)' "$tmp/ev.jsonl"; then
	ok "--export-json: one JSON line per event, roles decoded"
else
	nok "--export-json" "$(head -c 600 "$tmp/ev.jsonl")"
fi
run replay $fx/escalation.trace --from 0.0001 --json
pyexpr "$tmp/out" 'd["anomalies"]["total"] == 1 and d["records"] == 7' &&
	ok "--from keeps the second transaction only" || nok "--from" "$(head -c 400 "$tmp/out")"
run replay $fx/escalation.trace --to 0.00008 --json
pyexpr "$tmp/out" 'd["anomalies"]["total"] == 0 and d["records"] == 11' &&
	ok "--to keeps the first (benign) transaction only" || nok "--to" "$(head -c 400 "$tmp/out")"
run replay $fx/planted.mbr --pid 8000 --json
pyexpr "$tmp/out" 'd["anomalies"]["total"] == 1 and d["anomalies"]["role"] == 1' &&
	ok "--pid keeps one process" || nok "--pid" "$(head -c 400 "$tmp/out")"
run replay $fx/no-progress.trace --pid 5001 --json
pyexpr "$tmp/out" 'd["anomalies"]["total"] == 1 and d["records"] == 18' &&
	ok "--pid matches the thread when the text has no TGID" || nok "--pid tid" "$(head -c 400 "$tmp/out")"

# ---- damaged input -----------------------------------------------------------
# bad_input NAME WANT-RC WANT-STDERR-REGEX ARGS...: one line on stderr
bad_input() {
	local name=$1 want_rc=$2 re=$3; shift 3
	run replay "$@"
	if [ $rc -eq "$want_rc" ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -qE -- "$re" "$tmp/err"; then
		ok "$name: $(cat "$tmp/err")"
	else
		nok "$name" "exit $rc (want $want_rc)" "$(cat "$tmp/err")"
	fi
}
# Rechunk workload.mbr into chunks of 1000 records with an independent
# writer that follows docs/recording-format.md (this also checks the doc),
# once in each format version: 2 (zstd, through the zstd command) and 1
# (zlib).  The fixture itself is a version 1 file.
rechunk() {
	python3 - "$fx/workload.mbr" "$1" "$2" <<'EOF'
import struct, subprocess, sys, zlib
data = open(sys.argv[1], "rb").read()
version = int(sys.argv[3])
def unpack(b, v):
    if v == 1:
        return zlib.decompress(b)
    return subprocess.run(["zstd", "-q", "-d", "-c"], input=b, capture_output=True,
                          check=True).stdout
def pack(b, v):
    if v == 1:
        return zlib.compress(b, 1)
    return subprocess.run(["zstd", "-q", "-1", "-c", "--no-check"], input=b,
                          capture_output=True, check=True).stdout
hsize = struct.unpack_from("<I", data, 12)[0]
in_version = struct.unpack_from("<I", data, 8)[0]
out = bytearray(data[:hsize])
struct.pack_into("<II", out, 8, version, hsize)
struct.pack_into("<I", out, 16, 0)
struct.pack_into("<I", out, 16, zlib.crc32(out))
off, recs, end_payload = hsize, [], None
while off < len(data):
    magic, kind, seq, nr, raw_len, comp_len = struct.unpack_from("<6I", data, off)
    raw = unpack(data[off + 48:off + 48 + comp_len], in_version)
    if kind == 2:
        end_payload = raw
    else:
        p = 0
        while p < len(raw):
            size = struct.unpack_from("<H", raw, p + 2)[0]
            recs.append(raw[p:p + size])
            p += size
    off += 48 + comp_len
def chunk(kind, seq, payload, nr, ts):
    comp = pack(payload, version)
    hdr = struct.pack("<6IQQII", 0x4b4e4843, kind, seq, nr, len(payload), len(comp),
                      min(ts) if ts else 0, max(ts) if ts else 0, zlib.crc32(comp), 0)
    return hdr[:44] + struct.pack("<I", zlib.crc32(hdr)) + comp
seq = 0
for i in range(0, len(recs), 1000):
    part = recs[i:i + 1000]
    ts = [struct.unpack_from("<Q", r, 8)[0] for r in part]
    out += chunk(1, seq, b"".join(part), len(part), ts)
    seq += 1
out += chunk(2, seq, end_payload, 0, [])
open(sys.argv[2], "wb").write(out)
EOF
}
for v in 2 1; do
	f=$tmp/multi.mbr
	[ $v = 2 ] || f=$tmp/multi-v$v.mbr
	rechunk "$f" $v
	run replay "$f" --json
	if [ $rc -eq 0 ] && same_as_live $fx/workload-capture.live.json "$tmp/out" >"$tmp/diff"; then
		ok "format version $v from an independent writer (8 chunks) replays the same"
	else
		nok "independent writer, version $v" "exit $rc" "$(cat "$tmp/diff")" "$(cat "$tmp/err")"
	fi
done
# What replay -o (and record) writes is version 2, and it replays the same.
run replay $fx/workload.mbr --json -o "$tmp/rewritten.mbr"
v=$(od -An -tu4 -j8 -N4 "$tmp/rewritten.mbr" 2>/dev/null | tr -d ' ')
run replay "$tmp/rewritten.mbr" --json
if [ "$v" = 2 ] && [ $rc -eq 0 ] && same_as_live $fx/workload-capture.live.json "$tmp/out" >"$tmp/diff"; then
	ok "replay -o of a version 1 recording writes version 2 with the same verdicts"
else
	nok "replay -o version" "version '$v', exit $rc" "$(cat "$tmp/diff")" "$(cat "$tmp/err")"
fi
# chunk_off K: file offset of chunk K of multi.mbr
chunk_off() {
	python3 -c '
import struct, sys
d = open(sys.argv[1], "rb").read(); off = 2000
for i in range(int(sys.argv[2])):
    off += 48 + struct.unpack_from("<I", d, off + 20)[0]
print(off)' "$tmp/multi.mbr" "$1"
}
off4=$(chunk_off 4)
head -c $((off4 + 100)) "$tmp/multi.mbr" >"$tmp/cut.mbr"
bad_input "truncated recording" 2 "cut short inside chunk 4 at offset $off4" --json "$tmp/cut.mbr"
pyexpr "$tmp/out" 'd["records"] == 4000 and not d["complete"] and "offset" in d["input_problem"]' &&
	ok "truncated recording: the 4 complete chunks were replayed" ||
	nok "truncated replay" "$(head -c 300 "$tmp/out")"
off6=$(chunk_off 6)
cp "$tmp/multi.mbr" "$tmp/flip6.mbr"
printf '\x55' | dd of="$tmp/flip6.mbr" bs=1 seek=$((off6 + 60)) conv=notrunc status=none
bad_input "bit flip in chunk 6" 2 "chunk 6 at offset $off6 is damaged" --json "$tmp/flip6.mbr"
pyexpr "$tmp/out" 'd["records"] == 6000' && ok "bit flip: the 6 good chunks were replayed" ||
	nok "bit flip replay" "$(head -c 300 "$tmp/out")"
cp $fx/workload.mbr "$tmp/flip.mbr"
printf '\x55' | dd of="$tmp/flip.mbr" bs=1 seek=3000 conv=notrunc status=none
bad_input "bit flip in a chunk" 2 'chunk 0 at offset 2000 is damaged' "$tmp/flip.mbr"
cp $fx/workload.mbr "$tmp/magic.mbr"
printf 'X' | dd of="$tmp/magic.mbr" bs=1 seek=0 conv=notrunc status=none
bad_input "wrong magic" 2 'neither a recording .* nor ftrace text' "$tmp/magic.mbr"
cp $fx/workload.mbr "$tmp/version.mbr"
printf '\x07' | dd of="$tmp/version.mbr" bs=1 seek=8 conv=notrunc status=none
bad_input "newer version" 2 'version 7 at offset 8' "$tmp/version.mbr"
# A recording killed between two chunks: no end chunk, everything replays,
# and it is truncated: exit 2 (tests/golden/outputs.t has more).
python3 - "$fx/workload.mbr" "$tmp/killed.mbr" <<'EOF'
import struct, sys
data = open(sys.argv[1], "rb").read()
off = 2000
while True:
    magic, kind = struct.unpack_from("<II", data, off)
    comp = struct.unpack_from("<I", data, off + 20)[0]
    if kind == 2:
        break
    off += 48 + comp
open(sys.argv[2], "wb").write(data[:off])
EOF
bad_input "recording without its end chunk (kill -9)" 2 'cut short \(truncated\): no end chunk' \
	--json "$tmp/killed.mbr"
pyexpr "$tmp/out" 'd["events"]["set_spte"]["received"] == 54 and not d["complete"]' &&
	ok "a recording killed between chunks replays whole" || nok "killed replay" "$(head -c 300 "$tmp/out")"

# Text with a garbage line: everything else is checked, the line is named.
{ head -n 20 $fx/escalation.trace; echo 'this is not a trace line'; tail -n +21 $fx/escalation.trace; } >"$tmp/garbage.trace"
bad_input "garbage line in text" 2 'line 21: not an ftrace line' --json "$tmp/garbage.trace"
pyexpr "$tmp/out" 'd["anomalies"]["escalation"] == 1 and d["lines_bad"] == 1' &&
	ok "garbage line: the rest was still checked" || nok "garbage rest" "$(head -c 300 "$tmp/out")"
sed 's/pte 106027 level 2/pte 1x6027 level 2/' $fx/escalation.trace >"$tmp/badfield.trace"
bad_input "malformed field" 2 'line [0-9]+: kvm_mmu_paging_element: want pte and level' "$tmp/badfield.trace"
head -c 5000 /dev/urandom | tr -d '\000' >"$tmp/random.bin"
printf 'abc\0def' >>"$tmp/random.bin"
bad_input "binary garbage" 2 'neither a recording' "$tmp/random.bin"
printf 'hello\nworld\n' >"$tmp/words.txt"
bad_input "text that is not a trace" 2 'neither a recording nor ftrace text \(line 1' "$tmp/words.txt"
: >"$tmp/empty"
bad_input "empty input" 2 'empty input' "$tmp/empty"
bad_input "missing file" 2 'cannot open' "$tmp/nope.mbr"
bad_input "bad option" 2 'unknown option' --frobnicate $fx/format.trace
bad_input "no file" 2 'which recording' --json
bad_input "bad --from" 2 '--from wants seconds' --from x $fx/format.trace
for cmd in replay record; do
	"$MBECSCOPE" $cmd --help >"$tmp/out" 2>"$tmp/err"; rc=$?
	[ $rc -eq 0 ] && grep -q "usage: .* $cmd" "$tmp/out" && grep -q 'Exit status' "$tmp/out" &&
		[ ! -s "$tmp/err" ] && ok "$cmd --help: exit 0, usage and exit status on stdout" ||
		nok "$cmd --help" "exit $rc" "$(cat "$tmp/err")"
done

tap_done
