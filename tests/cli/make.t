#!/bin/bash
# The build's first impression: without a tool, `make` says in one line what
# is missing and that `make deps` installs it; a failed step leaves no
# half-written file (no build/gen/*.tmp).  Each case builds into its own
# empty BUILD directory, so the real build is never touched.
. "$(dirname "$0")/lib.sh"
cd "$(dirname "$0")/../.." || exit 2

# ---- a missing compiler: one line, before anything is built ----
b=$tmp/b1
make -s BUILD="$b" CLANG=/nonexistent/clang >"$tmp/out" 2>"$tmp/err"
rc=$?
msg=$(grep -c '^mbecscope: cannot build, missing: /nonexistent/clang (clang); run .make deps.' "$tmp/err")
[ $rc -ne 0 ] && [ "$msg" = 1 ] && [ -z "$(find "$b" -type f 2>/dev/null)" ] &&
	ok "missing clang: one line naming it and 'make deps', nothing built" ||
	nok "missing clang" "exit $rc" "$(head -c 400 "$tmp/err")"

make -s BUILD="$b" BPFTOOL=/nonexistent/bpftool >"$tmp/out" 2>"$tmp/err"
rc=$?
[ $rc -ne 0 ] && grep -q 'missing: /nonexistent/bpftool (bpftool); run .make deps. (or .make run.)' "$tmp/err" &&
	ok "missing bpftool: named, with 'make deps'" ||
	nok "missing bpftool" "exit $rc" "$(head -c 400 "$tmp/err")"

# ---- a failing skeleton step leaves no .tmp (the BPF objects are reused
# from the real build when there is one, else built here) ----
b=$tmp/b2
mkdir -p "$b/gen"
if ls "${BUILD:-build}"/gen/*.bpf.o >/dev/null 2>&1; then
	cp "${BUILD:-build}"/gen/*.bpf.o "$b/gen/"
fi
make -s BUILD="$b" BPFTOOL=false "$b/gen/mbecscope.skel.h" >"$tmp/out" 2>"$tmp/err"
rc=$?
left=$(find "$b" -name '*.tmp' -o -name '*.skel.h' | head -3)
[ $rc -ne 0 ] && [ -z "$left" ] &&
	ok "bpftool failing: no skeleton and no .tmp left behind" ||
	nok "bpftool failing" "exit $rc" "left: $left"

# ---- make fuzz says how long it runs ----
make -s help >"$tmp/out" 2>&1 && grep -q '300 s per target' "$tmp/out" &&
	make -s FUZZ_SECONDS=7 help 2>&1 | grep -q ' 7 s per target' &&
	grep -q 'make fuzz .*300 s per target' README.md &&
	ok "make help and the README say make fuzz runs 300 s per target" ||
	nok "make fuzz duration said" "$(cat "$tmp/out")"

echo "1..$n"
[ $failed -eq 0 ]
