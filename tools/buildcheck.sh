#!/bin/sh
# Before the first build: is every tool and header the build uses here?
# usage: tools/buildcheck.sh CC CLANG BPFTOOL
# Prints one line naming what is missing (with its Debian package) and how
# to install it, and fails; silent when all is there.
set -u
cc=$1 clang=$2 bpftool=$3
missing=""
add() { missing="${missing:+$missing, }$1"; }

for t in "$cc:gcc" "$clang:clang" "$bpftool:bpftool"; do
	command -v "${t%%:*}" >/dev/null 2>&1 || add "${t%%:*} (${t##*:})"
done
# Headers, each through the compiler that uses it (when that compiler is here).
hdr() { # COMPILER EXTRA-FLAGS HEADER PACKAGE
	command -v "$1" >/dev/null 2>&1 || return 0
	printf '#include <%s>\n' "$3" | "$1" $2 -E -x c - -o /dev/null 2>/dev/null ||
		add "<$3> ($4)"
}
hdr "$clang" "-target bpf" bpf/bpf_helpers.h libbpf-dev
hdr "$cc" "" bpf/libbpf.h libbpf-dev
hdr "$cc" "" gelf.h libelf-dev
hdr "$cc" "" zlib.h zlib1g-dev
hdr "$cc" "" zstd.h libzstd-dev
hdr "$cc" "" ncursesw/curses.h libncurses-dev
hdr "$cc" "" microhttpd.h libmicrohttpd-dev

[ -z "$missing" ] && exit 0
echo "mbecscope: cannot build, missing: $missing; run 'make deps' (or 'make run') to install them" >&2
exit 1
