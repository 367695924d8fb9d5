#!/bin/sh
# /init of the lab's initramfs (busybox sh).  Mounts what mbecscope needs,
# loads KVM with nested paging, runs the steps of a lab run and sends every
# result to the host over the second serial port (/dev/ttyS1) in frames:
#
#   @@lab begin NAME BYTES MD5
#   <the file, base64, 76 columns>
#   @@lab end NAME
#   ...
#   @@lab done STEPS
#
# lab/frames.py takes them apart on the host.  The console (ttyS0) is only
# for people.  Kernel command line: lab.halt=reboot|poweroff (QEMU runs with
# -no-reboot, so reboot ends it; Bochs ends on a power-off), lab.steps=LIST
# (comma-separated subset of the steps below; default all of them:
# workload,check,record,negative,rawtp; "debug" adds verbose runs).
/bin/busybox --install -s /bin
export PATH=/bin:/sbin
export HOME=/root
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev 2>/dev/null
mount -t tmpfs tmpfs /tmp
mount -t tracefs tracefs /sys/kernel/tracing
mount -t debugfs debugfs /sys/kernel/debug
mount -t bpf bpf /sys/fs/bpf

halt=reboot
steps=workload,check,record,negative,rawtp
for arg in $(cat /proc/cmdline); do
	case "$arg" in
	lab.halt=*) halt=${arg#lab.halt=} ;;
	lab.steps=*) steps=${arg#lab.steps=} ;;
	esac
done

out=/tmp/lab
mkdir -p "$out"
echo "$steps" > "$out/steps-wanted.txt"
say() { echo "lab: $*"; echo "$*" >> "$out/log.txt"; }

finish() {
	port=/dev/ttyS1
	stty -F "$port" 115200 raw -echo 2>/dev/null
	{
		for f in "$out"/*; do
			[ -f "$f" ] || continue
			name=${f##*/}
			echo "@@lab begin $name $(wc -c < "$f") $(md5sum < "$f" | cut -d' ' -f1)"
			base64 "$f"
			echo "@@lab end $name"
		done
		echo "@@lab done $steps"
	} > "$port"
	sync
	echo "lab: results sent; $halt"
	if [ "$halt" = poweroff ]; then
		poweroff -f
	else
		reboot -f
	fi
	sleep 60
}

uname -r > "$out/uname.txt"
say "kernel $(uname -r), steps $steps"

# KVM: the vendor the emulated CPU has, with nested paging.
if grep -qw svm /proc/cpuinfo; then
	vendor=amd param=npt=1 mod=kvm_amd
elif grep -qw vmx /proc/cpuinfo; then
	vendor=intel param=ept=1 mod=kvm_intel
else
	say "the CPU has neither svm nor vmx: no KVM"
	dmesg > "$out/dmesg.txt"
	finish
fi
if [ -d "/sys/module/$mod" ]; then
	say "$mod is built in"
else
	# modules.<vendor>: the .ko files in load order (dependencies first),
	# the last one being kvm_amd or kvm_intel.
	while read -r ko; do
		args=
		[ "${ko##*/}" = "${mod%_*}-${mod#*_}.ko" ] && args=$param
		if ! insmod "/lib/modules/$ko" $args 2>> "$out/log.txt"; then
			say "insmod $ko $args failed"
		fi
	done < "/lib/modules/modules.$vendor"
fi
{
	for p in /sys/module/kvm/parameters/tdp_mmu /sys/module/$mod/parameters/npt \
		 /sys/module/$mod/parameters/ept /sys/module/$mod/parameters/mbec \
		 /sys/module/$mod/parameters/gmet; do
		[ -r "$p" ] && echo "${p#/sys/module/} $(cat "$p")"
	done
	grep -m1 'model name' /proc/cpuinfo
	# The VMX features L1's kernel sees (ept_mode_based_exec: MBEC).
	grep -m1 '^vmx flags' /proc/cpuinfo
} > "$out/kvm.txt"
say "$(tr '\n' ' ' < "$out/kvm.txt")"
if [ ! -c /dev/kvm ]; then
	say "/dev/kvm is missing after loading $mod"
	dmesg > "$out/dmesg.txt"
	finish
fi

# run NAME CMD...: stdout to NAME.out, stderr to NAME.err, status and time
# to steps.txt.
run() {
	name=$1
	shift
	t0=$(cut -d' ' -f1 /proc/uptime)
	"$@" > "$out/$name.out" 2> "$out/$name.err"
	rc=$?
	t1=$(cut -d' ' -f1 /proc/uptime)
	echo "$name $rc $t0 $t1 $*" >> "$out/steps.txt"
	say "$name: exit $rc ($t0 -> $t1 s)"
}
case ",$steps," in *,workload,*) run workload mbecscope workload ;; esac
case ",$steps," in *,check,*) run check mbecscope check --workload --json ;; esac
case ",$steps," in *,record,*)
	run record mbecscope record --workload --json -o /tmp/workload.mbrec
	[ -f /tmp/workload.mbrec ] && gzip -c /tmp/workload.mbrec > "$out/workload.mbrec.gz" ;;
esac
case ",$steps," in *,negative,*) run negative mbecscope check --workload --perturb-model nx --json ;; esac
# The raw_tp programs (the fallback where tp_btf is refused) on the same guest.
case ",$steps," in *,rawtp,*) run rawtp mbecscope check --workload --raw-tp --json ;; esac
# Not by default: what to look at when a step fails (every guest #PF, the
# verifier's log), each kept to its first and last 128 KiB.
case ",$steps," in *,debug,*)
	run debug-workload mbecscope workload -v
	run debug-check mbecscope check --workload -vv
	for f in "$out"/debug-*; do
		[ "$(wc -c < "$f")" -gt 262144 ] || continue
		{ head -c 131072 "$f"; echo; echo "[... cut ...]"; tail -c 131072 "$f"; } > "$f.cut" &&
			mv "$f.cut" "$f"
	done ;;
esac
dmesg > "$out/dmesg.txt"
finish
