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
# workload,check,record,negative,rawtp,nested; "debug" adds verbose runs,
# "progcost" the BPF programs' cost while a storm runs, "tracedat" a
# trace.dat taken with trace-cmd extract), lab.kvm=P=V (repeatable: a
# parameter for the KVM vendor module's insmod; a built-in one takes
# MOD.P=V from the command line itself).  "nested-record" (not by default)
# records the nested workload; "livetests" (not by default) runs
# tests/live in the host's root shared over 9p (lab.repo=, lab.live=,
# lab.testbin=).
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
steps=workload,check,record,negative,rawtp,nested
kparams=
for arg in $(cat /proc/cmdline); do
	case "$arg" in
	lab.halt=*) halt=${arg#lab.halt=} ;;
	lab.steps=*) steps=${arg#lab.steps=} ;;
	lab.kvm=*) kparams="$kparams ${arg#lab.kvm=}" ;;
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
[ -n "$kparams" ] && say "$mod parameters asked for:$kparams"
if [ -d "/sys/module/$mod" ]; then
	say "$mod is built in"
else
	# modules.<vendor>: the .ko files in load order (dependencies first),
	# the last one being kvm_amd or kvm_intel.
	while read -r ko; do
		args=
		[ "${ko##*/}" = "${mod%_*}-${mod#*_}.ko" ] && args="$param$kparams"
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
# A kernel without a TSC rate makes KVM loop before every guest entry
# (a clock update it cannot do): the workload then never gets past its
# first instruction.  Say it before the steps time out.
if dmesg | grep -q 'could not calculate TSC khz'; then
	say "L1 could not calibrate its TSC (tsc_khz is 0): KVM will not enter guests; boot with tsc_early_khz="
fi
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
# The nested workload (the guest as a hypervisor: SVM with NPT and GMET when
# offered, or VMX with EPT and MBEC when offered), and the same with one
# nested leaf flipped, which must fail.
case ",$steps," in *,nested,*)
	run nested mbecscope workload --nested --json
	run nested-text mbecscope workload --nested
	run nested-negative mbecscope workload --nested --inject-mismatch --json ;;
esac
# Not by default: a recording of the nested workload (KVM shadowing the
# guest's own NPT/EPT, the #NPF / EPT violations it injects), for replay.
case ",$steps," in *,nested-record,*)
	run nested-record mbecscope record --workload --nested --json -o /tmp/nested.mbrec
	[ -f /tmp/nested.mbrec ] && gzip -c /tmp/nested.mbrec > "$out/nested.mbrec.gz" ;;
esac
# Not by default: the BPF programs' runs and run time per program while the
# storm runs (bench/RESULTS.md, "in-kernel cost"): tools/progcost in windows
# of 10 s - the floor program on every tracepoint, the programs filtered out
# (watching pid 1), every program (what main attached before per-command
# sets), then as check, record, mbectop and watch attach them.
case ",$steps," in *,progcost,*)
	if [ -x /bin/progcost ]; then
		mbecscope workload --pattern storm --duration 600 > "$out/storm.out" 2>&1 &
		storm=$!
		i=0
		while [ ! -s "$out/storm.out" ] && [ $i -lt 600 ]; do sleep 0.1; i=$((i + 1)); done
		for w in "floor $storm" "check 1" "all $storm" "check $storm" "record $storm" \
			 "top $storm" "watch $storm"; do
			set -- $w
			progcost live --use "$1" --pid "$2" --seconds 10 >> "$out/progcost.out" \
				2>> "$out/progcost.err"
			echo "progcost $1 $2 $?" >> "$out/progcost-steps.txt"
		done
		kill "$storm"
		wait "$storm" 2>/dev/null
		say "progcost: $(wc -l < "$out/progcost.out") windows"
	else
		say "progcost: /bin/progcost is missing (make all builds it beside mbecscope)"
	fi ;;
esac
# Not by default: a trace.dat of the built-in guest's KVM events, as a KVM
# developer takes one (the events enabled in tracefs by hand, then
# trace-cmd extract), replayed here and sent back (replay's fixtures of a
# real capture): with 2 MiB per CPU, and with 4 KiB, which drops events.
case ",$steps," in *,tracedat,*)
	T=/sys/kernel/tracing
	evs="kvmmmu kvm/kvm_exit kvm/kvm_page_fault kvm/kvm_nested_vmexit_inject"
	for kb in 2048 4; do
		echo 0 > $T/tracing_on
		echo > $T/trace
		echo $kb > $T/buffer_size_kb
		for e in $evs; do echo 1 > $T/events/$e/enable; done
		echo 1 > $T/tracing_on
		run tracedat-workload-$kb mbecscope workload --vcpus 1
		echo 0 > $T/tracing_on
		for e in $evs; do echo 0 > $T/events/$e/enable; done
		# Without kallsyms (an empty file over it): a small file to keep.
		: > /tmp/no-kallsyms
		mount --bind /tmp/no-kallsyms /proc/kallsyms
		run tracedat-extract-$kb trace-cmd extract -o /tmp/kvm-$kb.dat
		umount /proc/kallsyms
		[ -f /tmp/kvm-$kb.dat ] && gzip -c /tmp/kvm-$kb.dat > "$out/kvm-$kb.dat.gz"
		run tracedat-replay-$kb mbecscope replay /tmp/kvm-$kb.dat --json
	done
	;;
esac
# Not by default: the live tests (tests/live) against this KVM, in the
# host's root: QEMU exports it read-only over 9p (tag hostroot), a tmpfs
# overlay makes it writable here, and lab/livetests.sh runs in the checkout
# lab.repo= names, with lab.testbin= as MBECSCOPE and lab.live= (names,
# comma-separated) for a subset.  Each test's log comes back as live-*.
case ",$steps," in *,livetests,*)
	repo= live= testbin=
	for arg in $(cat /proc/cmdline); do
		case "$arg" in
		lab.repo=*) repo=${arg#lab.repo=} ;;
		lab.live=*) live=${arg#lab.live=} ;;
		lab.testbin=*) testbin=${arg#lab.testbin=} ;;
		esac
	done
	while read -r ko; do
		insmod "/lib/modules/$ko" 2>> "$out/log.txt" || say "insmod $ko failed"
	done < /lib/modules/modules.9p
	ip link set lo up 2>/dev/null || ifconfig lo 127.0.0.1 up
	mkdir -p /host /ovl /newroot /dev/pts /dev/shm
	mount -t devpts devpts /dev/pts
	mount -t tmpfs tmpfs /dev/shm
	# What udev would have made: process substitution needs /dev/fd.
	ln -sf /proc/self/fd /dev/fd
	ln -sf /proc/self/fd/0 /dev/stdin
	ln -sf /proc/self/fd/1 /dev/stdout
	ln -sf /proc/self/fd/2 /dev/stderr
	if ! mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=524288,cache=loose hostroot /host; then
		say "livetests: cannot mount the host's root (9p tag hostroot): was QEMU given -virtfs?"
	elif ! { mount -t tmpfs tmpfs /ovl && mkdir -p /ovl/up /ovl/work &&
		 mount -t overlay overlay -o lowerdir=/host,upperdir=/ovl/up,workdir=/ovl/work /newroot; }; then
		say "livetests: cannot put a tmpfs overlay over the host's root"
	elif [ ! -x "/newroot$repo/lab/livetests.sh" ]; then
		say "livetests: no lab/livetests.sh under lab.repo=$repo"
	else
		mount -t proc proc /newroot/proc
		mount -o rbind /sys /newroot/sys
		mount -o rbind /dev /newroot/dev
		# (no tmpfs on /newroot/tmp: the checkout itself may be under /tmp;
		# the overlay makes it writable already)
		mkdir -p /newroot/run/lab-results
		mount -o bind "$out" /newroot/run/lab-results
		cat /proc/mounts > "$out/livetests-mounts.txt"
		say "livetests: in $repo, ${live:-all of tests/live}, MBECSCOPE=${testbin:-default}"
		run livetests chroot /newroot /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
			HOME=/root TERM=xterm LANG=C.UTF-8 ${testbin:+MBECSCOPE=$testbin} \
			/bin/bash "$repo/lab/livetests.sh" /run/lab-results "$live"
		umount /newroot/run/lab-results
	fi ;;
esac
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
