#!/bin/bash
# Damaged output is never mistaken for good (issue 14, section 5):
#  - replay refuses to write its input (-o or --export-json naming the
#    input, through a symbolic or a hard link too), and the input is intact;
#  - after damaged input, -o and --export-json leave no file (an older file
#    of that name is left as it was), and the line on stderr says so;
#  - a recording without its end chunk is truncated, cut at a chunk
#    boundary or inside a chunk: exit 2 both ways;
#  - write errors (/dev/full) of --export-json, -o, watch --output and
#    standard output: one line, exit 2.
. "$(dirname "$0")/lib.sh"
# expect NAME RC REGEX: the last run exited RC with one stderr line matching REGEX
expect() {
	if [ $rc -eq "$2" ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -qE -- "$3" "$tmp/err"; then
		ok "$1"
	else
		nok "$1" "exit $rc (want $2)" "$(head -c 400 "$tmp/err")"
	fi
}

# ---- the output is the input ----
cp $fx/workload.mbr "$tmp/in.mbr"
ln -s in.mbr "$tmp/sym.mbr"
ln "$tmp/in.mbr" "$tmp/hard.mbr"
for o in in sym hard; do
	run replay "$tmp/in.mbr" -o "$tmp/$o.mbr"
	expect "replay IN -o $o: refused" 2 "-o .*/$o.mbr is the input .*/in.mbr"
done
run replay "$tmp/sym.mbr" --export-json "$tmp/in.mbr"
expect "replay LINK --export-json IN: refused" 2 "--export-json .*/in.mbr is the input"
cmp -s $fx/workload.mbr "$tmp/in.mbr" && [ -z "$(find "$tmp" -name '.*.mbr.*')" ] &&
	ok "the input is intact, no temporary file left" || nok "input intact"
"$MBECSCOPE" replay - -o "$tmp/in.mbr" <"$tmp/in.mbr" >/dev/null 2>"$tmp/err"
rc=$?
expect "replay - -o FILE with FILE on standard input: refused" 2 "is the input -"

# ---- a good run puts the outputs in place ----
run replay $fx/workload.mbr -o "$tmp/good.mbr" --export-json "$tmp/good.jsonl"
if [ $rc -eq 0 ] && [ -s "$tmp/good.jsonl" ] && "$MBECSCOPE" replay "$tmp/good.mbr" >/dev/null 2>&1 &&
	[ -z "$(find "$tmp" -name '.good*')" ]; then
	ok "good input: both outputs in place, the recording replays with exit 0"
else
	nok "good outputs" "exit $rc" "$(cat "$tmp/err")"
fi

echo "an older file" >"$tmp/target.mbr"
ln -s target.mbr "$tmp/link.mbr"
run replay $fx/workload.mbr -o "$tmp/link.mbr"
if [ $rc -eq 0 ] && [ -L "$tmp/link.mbr" ] && "$MBECSCOPE" replay "$tmp/target.mbr" >/dev/null 2>&1; then
	ok "-o through a symbolic link: the link stays, the file it points to is written"
else
	nok "-o through a link" "exit $rc" "$(ls -la "$tmp")"
fi

# ---- damaged input: no output left ----
size=$(stat -c %s $fx/workload.mbr)
head -c $((size / 2)) $fx/workload.mbr >"$tmp/cut.mbr"
echo "an older file" >"$tmp/old.mbr"
run replay "$tmp/cut.mbr" -o "$tmp/old.mbr" --export-json "$tmp/cut.jsonl"
expect "a recording cut inside a chunk: exit 2, the outputs named as not written" 2 \
	"cut short inside chunk .*; not written: .*/old.mbr, .*/cut.jsonl"
[ "$(cat "$tmp/old.mbr")" = "an older file" ] && [ ! -e "$tmp/cut.jsonl" ] &&
	[ -z "$(find "$tmp" -name '.old.mbr.*' -o -name '.cut.jsonl.*')" ] &&
	ok "after damaged input the older -o file is untouched, no export, no temporary file" ||
	nok "damaged input leaves nothing" "$(ls -a "$tmp")"
{ head -n 20 $fx/escalation.trace; echo 'not a trace line'; tail -n +21 $fx/escalation.trace; } \
	>"$tmp/garbage.trace"
run replay "$tmp/garbage.trace" -o "$tmp/garbage.mbr"
expect "text with a bad line: exit 2, -o not written" 2 "line 21: .*; not written: .*/garbage.mbr"
[ ! -e "$tmp/garbage.mbr" ] && ok "no recording made of the damaged text" ||
	nok "no recording from damaged text"

# ---- cut at a chunk boundary (kill -9 of record): truncated, exit 2 ----
python3 - $fx/workload.mbr "$tmp/killed.mbr" <<'PY'
import struct, sys
data = open(sys.argv[1], "rb").read()
off = 2000
while True:
    kind = struct.unpack_from("<I", data, off + 4)[0]
    comp = struct.unpack_from("<I", data, off + 20)[0]
    if kind == 2:
        break
    off += 48 + comp
open(sys.argv[2], "wb").write(data[:off])
PY
run replay "$tmp/killed.mbr" --json
expect "cut at a chunk boundary: truncated, exit 2 like a cut inside a chunk" 2 \
	"cut short \(truncated\): no end chunk after chunk"
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if not d["complete"] and d["events"]["set_spte"]["received"] == 54 else 1)' "$tmp/out" &&
	ok "...and every complete chunk was still checked" || nok "cut replay checked" "$(head -c 300 "$tmp/out")"
head -c 2000 $fx/workload.mbr >"$tmp/header.mbr"
run replay "$tmp/header.mbr"
expect "a header and nothing else: truncated, exit 2" 2 "cut short \(truncated\): nothing after its header"

# ---- write errors ----
run replay $fx/workload.mbr --export-json /dev/full
expect "--export-json /dev/full: exit 2, says why" 2 "cannot write /dev/full: No space left"
run replay $fx/workload.mbr -o /dev/full
expect "-o /dev/full: exit 2, says why" 2 "/dev/full: .*No space left"
"$MBECSCOPE" replay $fx/planted.mbr >/dev/full 2>"$tmp/err"
rc=$?
expect "replay's summary to a full standard output: exit 2" 2 "cannot write the output: No space left"
run watch --replay $fx/planted.mbr --quiet --output /dev/full
expect "watch --output /dev/full: exit 2, one line" 2 "could not write to /dev/full: No space left on device \([0-9]+ writes? failed\)"
"$MBECSCOPE" watch --replay $fx/planted.mbr --json >/dev/full 2>"$tmp/err"
rc=$?
expect "watch to a full standard output: exit 2, one line" 2 "could not write to standard output: No space left"

tap_done
