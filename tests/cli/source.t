#!/bin/bash
# Every command that reads a file reads it through the one source
# (src/source): replay, top --replay and watch --replay take the same
# kinds (recording, ftrace text, trace.dat), told apart by content and not
# by name, and refuse a bad file the same way: exit 2, one line naming the
# file, nothing on stdout.
. "$(dirname "$0")/lib.sh"
fx=$(cd "$(dirname "$0")/../golden/fixtures" && pwd)

# The same bytes under a name that suggests another kind.
cp "$fx/workload.mbr" "$tmp/rec.trace"
cp "$fx/escalation.trace" "$tmp/text.mbr"
cp "$fx/escalation.dat" "$tmp/dat.trace"
printf 'hello\nthis is not a trace\n' >"$tmp/prose.dat"
printf '\177ELF\0\1\2\3' >"$tmp/elf.mbr"
: >"$tmp/empty.trace"

# replay says which kind it read (the escalation fixtures hold an anomaly: exit 1).
for k in "rec.trace recording" "text.mbr ftrace-text" "dat.trace trace.dat"; do
	set -- $k
	run replay "$tmp/$1" --json
	if [ $rc -le 1 ] && [ ! -s "$tmp/err" ] && python3 -c \
		"import json,sys; sys.exit(json.load(open(sys.argv[1]))['format'] != sys.argv[2])" \
		"$tmp/out" "$2"; then
		ok "replay $1: read as $2"
	else
		nok "replay $1: not read as $2" "exit $rc" "$(head -c 300 "$tmp/out")" "$(cat "$tmp/err")"
	fi
done

# top and watch read them alike: the same output as under their own names.
for k in "workload.mbr rec.trace" "escalation.trace text.mbr" "escalation.dat dat.trace"; do
	set -- $k
	"$MBECSCOPE" top --replay "$fx/$1" -b -n 2 --speed 0 --json >"$tmp/a" 2>&1
	a=$?
	"$MBECSCOPE" top --replay "$tmp/$2" -b -n 2 --speed 0 --json >"$tmp/b" 2>&1
	b=$?
	# The frame names its file: compare without it.
	if [ $a -eq $b ] && [ $a -le 1 ] && [ -s "$tmp/a" ] &&
		diff <(sed 's/replay of [^ "]*//g' "$tmp/a") <(sed 's/replay of [^ "]*//g' "$tmp/b") >/dev/null; then
		ok "top --replay $2: the same frames as $1"
	else
		nok "top --replay $2 differs from $1" "exit $a / $b" "$(diff "$tmp/a" "$tmp/b" | head -5)"
	fi
	"$MBECSCOPE" watch --replay "$fx/$1" --json >"$tmp/a" 2>&1
	a=$?
	"$MBECSCOPE" watch --replay "$tmp/$2" --json >"$tmp/b" 2>&1
	b=$?
	if [ $a -eq $b ] && [ $a -le 1 ] && grep -q '"type":"end"' "$tmp/a" &&
		diff "$tmp/a" "$tmp/b" >/dev/null; then
		ok "watch --replay $2: the same alerts as $1"
	else
		nok "watch --replay $2 differs from $1" "exit $a / $b" "$(diff "$tmp/a" "$tmp/b" | head -5)"
	fi
done

# A bad file: the same one line from every command.
for f in prose.dat elf.mbr empty.trace missing.mbr; do
	expect_usage "replay $f: exit 2, one line" "^mbecscope replay: $tmp/$f: " replay "$tmp/$f"
	expect_usage "top --replay $f: exit 2, one line" "^mbecscope top: $tmp/$f: " \
		top --replay "$tmp/$f" -b -n 1
	expect_usage "watch --replay $f: exit 2, one line" "^mbecscope watch: $tmp/$f: " \
		watch --replay "$tmp/$f"
done

echo "1..$n"
[ $failed -eq 0 ]
