#!/bin/bash
# Our QEMU GMET patch (lab/qemu/0001-gmet.patch) against AMD's rules.
# lab/qemu/test/ is a bare-metal SVM host booted with -kernel; it runs one
# nested guest per case (GMET on or off, CPL 0 or 3, read/write/fetch of a
# test page whose NPT leaf has U, W, NX set by the case) and prints each
# #VMEXIT's code, EXITINFO1 and EXITINFO2.  The expected values are below,
# from the spec's worked examples (0x100000011, 0x100000005) and the
# model's NPT rules (src/model/arch.c: npt_walk).
#
# Three machines:
#   patched QEMU, -cpu EPYC,+svm,+npt,+gmet  every case as in the table
#   patched QEMU, -cpu EPYC,+svm,+npt        CPUID bit 17 clear, the GMET
#        control bit ignored (no 0x100000011), GMET-off cases unchanged
#   Debian's qemu-system-x86_64 (unpatched)  the same, and no "gmet" at all
# Run by `make lab` (lab/lab.sh, run "gmet"), which builds the patched QEMU
# first (lab/qemu-gmet.sh: 20-40 min once, then cached in
# $BUILD/lab/qemu-gmet-<key>/); not by `make test`, which would otherwise
# skip it wherever that build has not been made.  Run alone it skips,
# saying why, when the patched QEMU is not built.  About 5 s.
set -u
TOP=$(cd "$(dirname "$0")/../../.." && pwd)
BUILD=${BUILD:-build}
case "$BUILD" in /*) ;; *) BUILD=$TOP/$BUILD ;; esac
T=$TOP/lab/qemu/test

qemu=$("$TOP/lab/qemu-gmet.sh" --check 2>/dev/null | tail -1)
if [ -z "$qemu" ] || [ ! -x "$qemu" ]; then
	echo "1..0 # SKIP the patched QEMU is not built (make lab, or lab/qemu-gmet.sh: 20-40 min once)"
	exit 0
fi
stock=$(command -v qemu-system-x86_64 || true)

n=0 failed=0
ok() {
	n=$((n + 1))
	if [ "$1" = 0 ]; then echo "ok $n - $2"; else failed=$((failed + 1)); echo "not ok $n - $2"; fi
}

# ---- the test program -------------------------------------------------------
out=$BUILD/lab/gmet-test
mkdir -p "$out"
cflags="-std=gnu11 -O2 -Wall -Wextra -Werror -ffreestanding -fno-pic -fno-pie
	-mno-red-zone -mgeneral-regs-only -fno-stack-protector -fno-asynchronous-unwind-tables"
# shellcheck disable=SC2086
if gcc $cflags -c -o "$out/gmet-test.o" "$T/gmet-test.c" 2>"$out/build.err" &&
	gcc -c -o "$out/boot.o" "$T/boot.S" 2>>"$out/build.err" &&
	ld -nostdlib -static -no-pie --build-id=none -T "$T/gmet-test.ld" \
		-o "$out/gmet-test.elf" "$out/boot.o" "$out/gmet-test.o" 2>>"$out/build.err" &&
	objcopy -O binary "$out/gmet-test.elf" "$out/gmet-test.bin" 2>>"$out/build.err"; then
	ok 0 "the bare-metal GMET test program builds"
else
	ok 1 "the bare-metal GMET test program builds: $(head -3 "$out/build.err")"
	echo "1..$n"
	exit 1
fi

# boot BIN CPU NAME: run the program, its serial output in $out/NAME.serial.
# QEMU leaves through isa-debug-exit (status 1) after "gmet-done"; the
# timeout is a deadline for a hung guest, not a wait.
boot() {
	timeout 120 "$1" -accel tcg -cpu "$2" -m 64 -smp 1 -nographic -no-reboot \
		-monitor none -display none -nic none -vga none \
		-device isa-debug-exit,iobase=0xf4,iosize=0x04 \
		-kernel "$out/gmet-test.bin" -serial "file:$out/$3.serial" \
		</dev/null >"$out/$3.log" 2>&1
	echo $?
}

# The expected exits: NAME EXITCODE EXITINFO1 EXITINFO2 (0x81 is VMMCALL:
# the access went through; 0x400 is #NPF).  GPAs: reads and writes touch
# 0x400100, fetches 0x400020, the CPL 3 -> 0 case faults at 0x400010.
expect='
gmet1-cpl0-fetch-u1      0x400 0x100000011 0x400020
gmet0-cpl0-read-u0       0x400 0x100000005 0x400100
gmet0-cpl0-fetch-u1      0x81  - -
gmet0-cpl0-fetch-u0      0x400 0x100000015 0x400020
gmet0-cpl3-read-u0       0x400 0x100000005 0x400100
gmet0-cpl0-write-ro      0x400 0x100000007 0x400100
gmet1-cpl0-fetch-u0      0x81  - -
gmet1-cpl0-read-u0       0x81  - -
gmet1-cpl0-write-u0      0x81  - -
gmet1-cpl0-read-u1       0x81  - -
gmet1-cpl0-write-ro      0x400 0x100000003 0x400100
gmet1-cpl0-fetch-nx      0x400 0x100000011 0x400020
gmet1-cpl3-fetch-u1      0x81  - -
gmet1-cpl3-fetch-u0      0x81  - -
gmet1-cpl3-read-u0       0x81  - -
gmet1-cpl3-write-ro      0x400 0x100000007 0x400100
gmet1-cpl3-fetch-nx      0x400 0x100000015 0x400020
gmet1-cpl3then0-fetch-u1 0x400 0x100000011 0x400010
gmet1-cpl3then0-fetch-u0 0x81  - -
'

# got FILE NAME: "EXIT INFO1 INFO2" of case NAME in FILE, empty when absent
got() {
	tr -d '\r' < "$1" |
		sed -n "s/^gmet-case $2 exit=\([^ ]*\) info1=\([^ ]*\) info2=\([^ ]*\)$/\1 \2 \3/p" | head -1
}

# check_rows FILE LABEL PATTERN: compare every expected row whose name
# matches PATTERN with what FILE shows.
check_rows() {
	local name code i1 i2 g
	while read -r name code i1 i2; do
		[ -n "$name" ] || continue
		case "$name" in $3) ;; *) continue ;; esac
		g=$(got "$1" "$name")
		if [ -z "$g" ]; then
			ok 1 "$2: $name: no result line"
			continue
		fi
		set -- "$1" "$2" "$3" $g
		if [ "$code" = 0x81 ]; then
			ok $([ "$4" = 0x81 ]; echo $?) "$2: $name passes (exit $4 info1 $5, want VMMCALL)"
		else
			ok $([ "$4 $5 $6" = "$code $i1 $i2" ]; echo $?) \
				"$2: $name: exit $4 info1 $5 info2 $6 (want $code $i1 $i2)"
		fi
	done <<< "$expect"
}

# ---- 1. the patched QEMU with GMET offered: the whole table ----------------
rc=$(boot "$qemu" EPYC,+svm,+npt,+gmet gmet-on)
ok $([ "$rc" = 1 ] && grep -q '^gmet-done' "$out/gmet-on.serial"; echo $?) \
	"patched, +gmet: the program ran to its end (qemu status $rc; $out/gmet-on.log)"
ok $(grep -q '^gmet-cpuid svm=0x1 npt=0x1 gmet=0x1 ' "$out/gmet-on.serial"; echo $?) \
	"patched, +gmet: CPUID 8000_000A EDX bit 17 is set: $(grep -a '^gmet-cpuid' "$out/gmet-on.serial" | tr -d '\r')"
check_rows "$out/gmet-on.serial" "patched, +gmet" '*'
# The spec's two worked values, named once more on their own.
ok $([ "$(got "$out/gmet-on.serial" gmet1-cpl0-fetch-u1 | cut -d' ' -f2)" = 0x100000011 ]; echo $?) \
	"spec: a supervisor fetch of a U=1 page under GMET reads 0x100000011"
ok $([ "$(got "$out/gmet-on.serial" gmet0-cpl0-read-u0 | cut -d' ' -f2)" = 0x100000005 ]; echo $?) \
	"spec: a U=0 page without GMET reads 0x100000005"

ok $("$qemu" -cpu help 2>&1 | grep -qw gmet; echo $?) "patched: -cpu help lists the flag 'gmet'"

# ---- 2. the patched QEMU without +gmet: nothing offered, nothing changed ----
control() {	# FILE LABEL
	ok $(grep -q '^gmet-cpuid svm=0x1 npt=0x1 gmet=0x0 ' "$1"; echo $?) \
		"$2: CPUID 8000_000A EDX bit 17 is clear: $(grep -a '^gmet-cpuid' "$1" | tr -d '\r')"
	local g
	g=$(got "$1" gmet1-cpl0-fetch-u1)
	ok $([ -n "$g" ] && [ "$(echo "$g" | cut -d' ' -f2)" != 0x100000011 ]; echo $?) \
		"$2: the GMET control bit is ignored: no GMET fault ($g)"
	check_rows "$1" "$2" 'gmet0-*'
}
rc=$(boot "$qemu" EPYC,+svm,+npt gmet-off)
ok $([ "$rc" = 1 ] && grep -q '^gmet-done' "$out/gmet-off.serial"; echo $?) \
	"patched, no +gmet: the program ran to its end (qemu status $rc)"
control "$out/gmet-off.serial" "patched, no +gmet"

# ---- 3. Debian's own QEMU: the control ------------------------------------
if [ -n "$stock" ]; then
	rc=$(boot "$stock" EPYC,+svm,+npt stock)
	ok $([ "$rc" = 1 ] && grep -q '^gmet-done' "$out/stock.serial"; echo $?) \
		"Debian's QEMU: the program ran to its end (qemu status $rc)"
	control "$out/stock.serial" "Debian's QEMU"
	# -cpu help must list the SVM flags (vgif) for its silence on gmet to count
	flags=$("$stock" -cpu help 2>&1)
	ok $(echo "$flags" | grep -qw vgif && ! echo "$flags" | grep -qw gmet; echo $?) \
		"Debian's QEMU does not know the CPU flag 'gmet' (-cpu help lists vgif, not gmet)"
else
	ok 1 "Debian's qemu-system-x86_64 is missing (tools/deps.sh lab): no control"
fi

echo "1..$n"
[ $failed -eq 0 ]
