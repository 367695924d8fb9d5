#!/bin/bash
# check and record --pid: a process that does not exist is a usage error
# (exit 2, one line, no output file), not a run that ends with 0 events.
. "$(dirname "$0")/lib.sh"

# A pid that surely names no process: a child that has been reaped.
sh -c 'exit 0' &
dead=$!
wait $dead
for p in $dead 999999; do
	if kill -0 $p 2>/dev/null; then
		for i in 1 2 3; do ok "pid $p # SKIP a process with that pid exists"; done
		continue
	fi
	expect_usage "check --pid $p (no such process)" "^mbecscope check: --pid $p: no such process" \
		check --pid $p --duration 1
	expect_usage "record --pid $p (no such process)" "^mbecscope record: --pid $p: no such process" \
		record --pid $p --duration 1 -o "$tmp/rec.mbr"
	[ ! -e "$tmp/rec.mbr" ] && ok "record --pid $p wrote no file" ||
		nok "record --pid $p left $tmp/rec.mbr behind"
done

echo "1..$n"
[ $failed -eq 0 ]
