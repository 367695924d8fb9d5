# shellcheck shell=bash
# What the CLI tests (tests/cli/*.t) share: TAP counters, `run` (the binary
# with stdout, stderr and exit status captured), and expectations on JSON
# values, text output and usage errors (exit 2, one stderr line, no
# stdout).  Sourced, not run.
set -u
: "${MBECSCOPE:=build/asan/mbecscope}"
n=0 failed=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; shift; for l in "$@"; do echo "# $l"; done; }

run() { "$MBECSCOPE" "$@" >"$tmp/out" 2>"$tmp/err"; rc=$?; }

# expect_json NAME PYTHON-EXPR ARGS...: exit 0, empty stderr, expr true on d
expect_json() {
	local name=$1 expr=$2; shift 2
	run "$@" --json
	if [ $rc -ne 0 ] || [ -s "$tmp/err" ]; then
		nok "$name" "exit $rc" "$(head -c 300 "$tmp/err")"
		return
	fi
	if python3 -c "import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if ($expr) else 1)" \
		"$tmp/out" 2>"$tmp/pyerr"; then
		ok "$name"
	else
		nok "$name" "expr: $expr" "$(head -c 600 "$tmp/out")" "$(cat "$tmp/pyerr")"
	fi
}

# expect_text NAME REGEX ARGS...: exit 0 and stdout matches the (grep -E) regex
expect_text() {
	local name=$1 re=$2; shift 2
	run "$@"
	if [ $rc -eq 0 ] && grep -qE -- "$re" "$tmp/out" && [ ! -s "$tmp/err" ]; then
		ok "$name"
	else
		nok "$name" "exit $rc, want /$re/" "$(head -c 400 "$tmp/out")" "$(cat "$tmp/err")"
	fi
}

# expect_usage NAME REGEX ARGS...: exit 2, nothing on stdout, one stderr line matching
expect_usage() {
	local name=$1 re=$2; shift 2
	run "$@"
	local lines
	lines=$(wc -l <"$tmp/err")
	if [ $rc -eq 2 ] && [ ! -s "$tmp/out" ] && [ "$lines" -eq 1 ] &&
		grep -qE -- "$re" "$tmp/err"; then
		ok "$name"
	else
		nok "$name" "exit $rc, $lines stderr lines, want /$re/" \
			"stdout: $(head -c 200 "$tmp/out")" "stderr: $(head -c 300 "$tmp/err")"
	fi
}
