#!/bin/bash
# Boot a kernel and initramfs under Bochs with VMX and EPT (used by
# lab/run.sh --emulator bochs):
#
#   lab/bochs.sh --kernel IMAGE --initrd FILE --append CMDLINE --dir DIR
#                --capture FILE [--timeout S] [--bochs DIR --cpu MODEL]
#
# Bochs has no -kernel: the two go on an isolinux ISO (genisoimage).  The CPU
# is a Haswell (model=corei7_haswell_4770: VMX with EPT; tigerlake stalls the
# 6.1 boot on xstate) under Debian 12's Bochs 2.7; --bochs takes the Bochs 3.0
# that lab/bochs3.sh printed (its binary, BIOS and env) and --cpu the model
# (run.sh --emulator bochs3: tigerlake, with MBEC).  COM1 is the console
# (DIR/console.log), COM2 the lab's results (FILE).  Debian's builds have the
# debugger, so they start at a prompt: a command file holding "c" continues;
# their only display library that runs headless here is rfb, told not to
# wait for a viewer (lab/bochs3.sh's own build has neither: nogui).  Bochs
# exits 1 on the guest's clean power-off: that and 0 count as success, and
# so does the guest's last frame when its kernel cannot power off.
# Exit: 0 the guest
# powered off, 124 timeout, 2 a tool is missing, 1 anything else.
set -u
die() { echo "lab: $*" >&2; exit 2; }
image= initrd= append= dir= capture= timeout=1800 b3= cpu=corei7_haswell_4770
while [ $# -gt 0 ]; do
	case "$1" in
	--kernel) image=$2; shift 2 ;;
	--initrd) initrd=$2; shift 2 ;;
	--append) append=$2; shift 2 ;;
	--dir) dir=$2; shift 2 ;;
	--capture) capture=$2; shift 2 ;;
	--timeout) timeout=$2; shift 2 ;;
	--bochs) b3=$2; shift 2 ;;
	--cpu) cpu=$2; shift 2 ;;
	*) die "bochs.sh: unknown argument '$1'" ;;
	esac
done
[ -n "$image" ] && [ -n "$initrd" ] && [ -n "$dir" ] && [ -n "$capture" ] ||
	die "usage: bochs.sh --kernel IMAGE --initrd FILE --append CMDLINE --dir DIR --capture FILE"
bochs=bochs DEBUGGER=1 DISPLAY_LIB=rfb PANIC=fatal
bios=/usr/share/bochs/BIOS-bochs-latest
vga=/usr/share/vgabios/vgabios.bin
if [ -n "$b3" ]; then
	[ -x "$b3/bochs" ] && [ -s "$b3/env" ] || die "$b3 is not a Bochs from lab/bochs3.sh"
	. "$b3/env"
	bochs=$b3/bochs bios=$b3/BIOS-bochs-latest vga=$b3/vgabios.bin
else
	command -v bochs >/dev/null || die "bochs is missing: apt-get install bochs bochs-term bochsbios vgabios"
fi
command -v genisoimage >/dev/null || die "genisoimage is missing: apt-get install genisoimage"
isolinux=/usr/lib/ISOLINUX/isolinux.bin
ldlinux=/usr/lib/syslinux/modules/bios/ldlinux.c32
[ -f "$isolinux" ] && [ -f "$ldlinux" ] || die "isolinux is missing: apt-get install isolinux syslinux-common"
[ -f "$bios" ] && [ -f "$vga" ] || die "the Bochs BIOS is missing: apt-get install bochsbios vgabios"

iso=$dir/iso
rm -rf "$iso" && mkdir -p "$iso/isolinux" || die "cannot make $iso"
cp "$isolinux" "$ldlinux" "$iso/isolinux/" && cp "$image" "$iso/vmlinuz" &&
	cp "$initrd" "$iso/initrd.gz" || die "cannot fill $iso"
cat > "$iso/isolinux/isolinux.cfg" <<EOF
default lab
prompt 0
timeout 0
label lab
  kernel /vmlinuz
  append initrd=/initrd.gz $append
EOF
genisoimage -quiet -o "$dir/lab.iso" -b isolinux/isolinux.bin -c isolinux/boot.cat \
	-no-emul-boot -boot-load-size 4 -boot-info-table -J -R "$iso" ||
	die "genisoimage failed"
rm -rf "$iso"

# Without a GUI, Bochs logs its instructions-per-second as "info" from a
# SIGALRM handler: when that lands while the CPU is writing the log, the
# emulator deadlocks on the log file's lock (seen under --emulator bochs3).
INFO=report
[ "$DISPLAY_LIB" = nogui ] && INFO=ignore
cat > "$dir/bochsrc" <<EOF
megs: 1024
cpu: model=$cpu, count=1, ips=50000000
romimage: file=$bios
vgaromimage: file=$vga
ata0-master: type=cdrom, path=$dir/lab.iso, status=inserted
boot: cdrom
clock: sync=none, time0=local
$( [ "$DISPLAY_LIB" = rfb ] && echo 'display_library: rfb, options="timeout=0"' || echo "display_library: $DISPLAY_LIB")
com1: enabled=1, mode=file, dev=$dir/console.log
com2: enabled=1, mode=file, dev=$capture
log: $dir/bochs.log
panic: action=$PANIC
error: action=report
info: action=$INFO
debug: action=ignore
EOF
rc_args=()
if [ "$DEBUGGER" = 1 ]; then
	echo c > "$dir/bochs.rc"
	rc_args=(-rc "$dir/bochs.rc")
fi
done_sent() { grep -q '^@@lab done' "$capture" 2>/dev/null; }
timeout "$timeout" "$bochs" -q -f "$dir/bochsrc" "${rc_args[@]}" \
	</dev/null >"$dir/bochs.out" 2>&1 &
pid=$!
# A kernel without ACPI (the series' tinyconfig) cannot power off and
# halts instead: once the guest has sent its last frame, end Bochs (the
# timeout still bounds the wait).
stopped=
while kill -0 "$pid" 2>/dev/null; do
	if done_sent; then
		stopped=1
		kill "$pid" 2>/dev/null
		break
	fi
	sleep 2
done
wait "$pid"
rc=$?
rm -f "$dir/lab.iso"
[ -n "$stopped" ] && rc=0
case $rc in
0|1) done_sent && exit 0; exit 1 ;;
*) exit $rc ;;
esac
