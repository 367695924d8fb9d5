#!/bin/bash
# The top level of the CLI: --help, --version, no command, an unknown
# command.  Each subcommand's own tests are in its .t file.
. "$(dirname "$0")/lib.sh"

for v in --version -V; do
	run $v
	if [ $rc -eq 0 ] && [ ! -s "$tmp/err" ] && [ "$(wc -l <"$tmp/out")" -eq 2 ] &&
		grep -qE '^mbecscope [0-9]+\.[0-9]+\.[0-9]+$' "$tmp/out" &&
		grep -q '^recordings: writes format 2, reads formats 1 and 2; event records version 1$' \
			"$tmp/out"; then
		ok "$v: release and formats on stdout, exit 0"
	else
		nok "$v" "exit $rc" "$(cat "$tmp/out" "$tmp/err")"
	fi
done
run --help
[ $rc -eq 0 ] && [ ! -s "$tmp/err" ] && grep -q -- "--version" "$tmp/out" &&
	grep -qE '^  replay ' "$tmp/out" && ok "--help: the commands and --version, exit 0" ||
	nok "--help" "exit $rc" "$(cat "$tmp/err")"
run
[ $rc -eq 2 ] && [ ! -s "$tmp/out" ] && grep -q '^usage: mbecscope COMMAND' "$tmp/err" &&
	ok "no command: usage on stderr, exit 2" || nok "no command" "exit $rc"
expect_usage "an unknown command" "unknown command 'frobnicate'; try 'mbecscope --help'" frobnicate
expect_usage "an unknown option in place of a command" "unknown command '--verison'" --verison

echo "1..$n"
[ $failed -eq 0 ]
