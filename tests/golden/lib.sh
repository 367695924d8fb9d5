# Sourced by every tests/golden/*.t (from the top of the tree) before its
# first test: what they all start with, and the TAP helpers they share.
#   MBECSCOPE  the binary under test (build/asan/mbecscope unless set)
#   fx         the fixtures folder
#   tmp        a scratch folder, removed on exit (a test that must clean
#              up more sets its own EXIT trap, removing $tmp too)
#   n, failed  tests run and failed so far
# A .t ends with `tap_done`, which prints the plan and is its exit status.
set -u
: "${MBECSCOPE:=build/asan/mbecscope}"
fx=tests/golden/fixtures
n=0 failed=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# ok NAME: a test that passed
ok() { n=$((n + 1)); echo "ok $n - $1"; }
# nok NAME [DIAG...]: a test that failed, each DIAG on a "# " line after it
nok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; shift; for l in "$@"; do echo "# $l"; done; }
# ok_if RC NAME: passed when RC is 0
ok_if() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else failed=$((failed + 1)); echo "not ok $n - $2"; fi; }
# skip [NAME] REASON: a test not run, and why
skip() {
	n=$((n + 1))
	if [ $# -gt 1 ]; then echo "ok $n - $1 # SKIP $2"; else echo "ok $n # SKIP $1"; fi
}

# run ARGS...: mbecscope ARGS, stdout in $tmp/out, stderr in $tmp/err, exit status in rc
run() { "$MBECSCOPE" "$@" >"$tmp/out" 2>"$tmp/err"; rc=$?; }

# pyexpr FILE EXPR: EXPR (python, d = the JSON document) is true
pyexpr() {
	python3 -c "import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if ($2) else 1)" \
		"$1" 2>"$tmp/pyerr"
}

# tap_done: the plan line; fails (so the .t exits non-zero) when a test failed
tap_done() {
	echo "1..$n"
	[ "$failed" -eq 0 ]
}
