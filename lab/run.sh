#!/bin/bash
# One lab run: boot an L1 kernel in an emulator with nested paging, run
# mbecscope inside it against KVM's real MMU, and bring the results back.
#
#   lab/run.sh [--mbecscope BIN] [--kernel K] [--emulator qemu|qemu-gmet|bochs|bochs3]
#              [--out DIR] [--timeout S] [--steps LIST] [--kvm-param P=V]...
#              [--append ARGS] [--live NAMES] [--testbin BIN]
#
#   --mbecscope BIN  the binary to run in L1 (default build/mbecscope);
#                    any worktree's build works, e.g.
#                    /work/wt/checker/build/mbecscope
#   --kernel K       debian-6.1, debian-6.12 (the newest of that series apt
#                    knows; lab/stock-kernel.sh), a linux-image-*-unsigned
#                    package name, or series (our kernel/ series,
#                    lab/series-kernel.sh; built on first use, 25-55 min)
#   --emulator E     qemu (TCG, EPYC with SVM+NPT: KVM's TDP MMU on NPT;
#                    about 30 s) or bochs (Haswell with VMX+EPT; about
#                    6 min), or bochs3 (Bochs 3.0 from lab/bochs3.sh,
#                    cpu model=tigerlake: VMX+EPT with MBEC and the
#                    advanced EPT-violation information; quirks in
#                    lab/quirks.txt).  Default qemu.  qemu-gmet: QEMU
#                    with our GMET patch (lab/qemu-gmet.sh; built on
#                    first use, 20-40 min), EPYC with SVM+NPT+GMET; KVM
#                    uses it with gmet=1.
#   --out DIR        where the results go (default
#                    $BUILD/lab/runs/<emulator>-<kernel>)
#   --steps LIST     the steps inside L1 (default: lab/init.sh's list,
#                    workload,check,record,negative,rawtp,nested)
#   --kvm-param P=V  a parameter of the KVM vendor module (kvm_amd under
#                    QEMU, kvm_intel under Bochs), e.g. gmet=1 or mbec=1;
#                    given on the kernel command line when KVM is built in
#                    (the series), to insmod otherwise.  Repeatable.
#                    kvm.txt in DIR says what was in effect.
#   --append ARGS    more parameters for L1's kernel command line
#   --live NAMES     with the livetests step (--emulator qemu): the tests/live
#                    files to run in L1, comma-separated (default all).
#                    L1 sees the host's root read-only over 9p and runs
#                    them in this checkout ($TOP), with --testbin as
#                    MBECSCOPE (default $BUILD/asan/mbecscope)
#
# DIR receives the guest's files (check.out: check --json, negative.out,
# record.out, workload.mbrec.gz, steps.txt, dmesg.txt, ...), console.log,
# and summary.txt: lab/summary.py's line (also printed).  Exit 0 when the
# run went through every step and the summary found nothing wrong, 1 when
# it did not, 2 when the run could not be made (missing tool, kernel).
set -u
LAB=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$LAB/.." && pwd)
BUILD=${BUILD:-build}
case "$BUILD" in /*) ;; *) BUILD=$TOP/$BUILD ;; esac
export BUILD
die() { echo "lab: $*" >&2; exit 2; }

bin=$BUILD/mbecscope kernel=debian-6.12 emu=qemu out= timeout= steps= kparams= extra= live= testbin=
while [ $# -gt 0 ]; do
	case "$1" in
	--mbecscope) bin=${2:-}; shift 2 ;;
	--kernel) kernel=${2:-}; shift 2 ;;
	--emulator) emu=${2:-}; shift 2 ;;
	--out) out=${2:-}; shift 2 ;;
	--timeout) timeout=${2:-}; shift 2 ;;
	--steps) steps=${2:-}; shift 2 ;;
	--kvm-param)
		case "${2:-}" in
		[a-z_]*=?*) ;;
		*) die "--kvm-param takes NAME=VALUE (e.g. gmet=1), not '${2:-}'" ;;
		esac
		case "${2%%=*}${2#*=}" in
		*[!a-z0-9_]*) die "--kvm-param '$2': NAME and VALUE are letters, digits and _" ;;
		esac
		kparams="$kparams $2"; shift 2 ;;
	--append) extra=${2:-}; shift 2 ;;
	--live) live=${2:-}; shift 2 ;;
	--testbin) testbin=${2:-}; shift 2 ;;
	-h|--help) awk 'NR > 1 && !/^#/ { exit } NR > 1' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) die "unknown argument '$1' (see lab/run.sh --help)" ;;
	esac
done
case "$emu" in qemu|qemu-gmet|bochs|bochs3) ;; *) die "--emulator is qemu, qemu-gmet, bochs or bochs3, not '$emu'" ;; esac
case ",$steps," in *,livetests,*)
	case "$emu" in qemu) ;; *) die "the livetests step needs Debian's QEMU, with 9p (the GMET build has none): --emulator qemu" ;; esac
	case "$live" in *[!a-z0-9_,]*) die "--live takes test names (tests/live/NAME.t), comma-separated" ;; esac
	testbin=${testbin:-$BUILD/asan/mbecscope}
	case "$testbin" in /*) ;; *) testbin=$PWD/$testbin ;; esac
	[ -x "$testbin" ] || die "$testbin is not an executable mbecscope (make asan, or --testbin PATH)"
	case "$TOP$testbin" in *[[:space:]]*) die "the checkout's path and --testbin must have no blanks" ;; esac
	;;
esac
case "$bin" in /*) ;; *) bin=$PWD/$bin ;; esac
[ -x "$bin" ] || die "$bin is not an executable mbecscope (make all, or --mbecscope PATH)"
out=${out:-$BUILD/lab/runs/$emu-$kernel}
case "$out" in /*) ;; *) out=$PWD/$out ;; esac

# The kernel: a stock tree with modules, or our series with KVM built in.
tree=
case "$kernel" in
series)
	kdir=$("$LAB/series-kernel.sh" | tail -1) || die "no series kernel (lab/series-kernel.sh)"
	image=$kdir/bzImage
	release=$(cat "$kdir/release")
	;;
*)
	tree=$("$LAB/stock-kernel.sh" "$kernel" | tail -1) || exit 2
	release=$(cat "$tree/release")
	image=$tree/boot/vmlinuz-$release
	;;
esac

# Only ever empty a directory an earlier run made.
if [ -d "$out" ] && [ -n "$(ls -A "$out")" ] && [ ! -e "$out/run.txt" ] && [ ! -e "$out/initramfs.cpio.gz" ]; then
	die "$out is not empty and not a lab run's directory: give another --out"
fi
rm -rf "$out" && mkdir -p "$out" || die "cannot make $out"
rd=$out/initramfs.cpio.gz
"$LAB/initramfs.sh" --mbecscope "$bin" ${tree:+--kernel-tree "$tree"} -o "$rd" || exit 2
# no_timer_check: TCG on a loaded host can miss the IO-APIC timer check's
# window and panic ("IO-APIC + timer doesn't work").
append="console=ttyS0 panic=-1 quiet loglevel=4 no_timer_check${steps:+ lab.steps=$steps}${extra:+ $extra}"
# Our series is configured from tinyconfig, without ACPI: L1 finds neither
# an HPET nor a PM timer to calibrate its TSC against, the PIT calibration
# fails under TCG, tsc_khz stays 0, and KVM then never enters a guest
# (kvm_guest_time_update() requests another clock update on every entry;
# the workload's vCPU sits at its first instruction until the deadline).
# TCG's TSC counts at the host's TSC rate: tell L1 that rate.  (Under
# Bochs the rate is Bochs's own; any nonzero value lets KVM run.)
if [ "$kernel" = series ]; then
	khz=$(awk -F: '/^cpu MHz/ { printf "%d", $2 * 1000; exit }' /proc/cpuinfo)
	[ "${khz:-0}" -gt 0 ] 2>/dev/null ||
		die "cannot read the host's TSC rate (cpu MHz in /proc/cpuinfo) for tsc_early_khz"
	append="$append tsc_early_khz=$khz"
fi
# The livetests step: the host's root for L1, read-only over 9p (QEMU only).
share=() mem=2G
case ",$steps," in *,livetests,*)
	# (multidevs=remap: the host's mounts have colliding inode numbers, /proc and
	# /sys among them, which L1 would otherwise take for one directory)
	share=(-virtfs "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap")
	mem=3G
	append="$append lab.repo=$TOP lab.testbin=$testbin${live:+ lab.live=$live}"
	;;
esac
# Vendor module parameters: MOD.P=V takes effect when the module is built
# in; /init passes lab.kvm=P=V to insmod when it is a module.
vmod=kvm_amd
case "$emu" in bochs*) vmod=kvm_intel ;; esac
for p in $kparams; do
	append="$append $vmod.$p lab.kvm=$p"
done
capture=$out/serial1.txt
t0=$(date +%s.%N)
case "$emu" in
qemu)
	command -v qemu-system-x86_64 >/dev/null ||
		die "qemu-system-x86_64 is missing: apt-get install qemu-system-x86"
	timeout "${timeout:-600}" qemu-system-x86_64 -accel tcg -cpu EPYC,+svm,+npt \
		-m $mem -smp 1 -nographic -no-reboot -monitor none "${share[@]}" \
		-kernel "$image" -initrd "$rd" -append "$append lab.halt=reboot" \
		-serial "file:$out/console.log" -serial "file:$capture" \
		</dev/null >"$out/qemu.log" 2>&1
	rc=$?
	;;
qemu-gmet)
	qemu=$("$LAB/qemu-gmet.sh" | tail -1) && [ -x "$qemu" ] ||
		die "no QEMU with the GMET patch (lab/qemu-gmet.sh)"
	timeout "${timeout:-600}" "$qemu" -accel tcg -cpu EPYC,+svm,+npt,+gmet \
		-m $mem -smp 1 -nographic -no-reboot -monitor none -nic none -vga none "${share[@]}" \
		-kernel "$image" -initrd "$rd" -append "$append lab.halt=reboot" \
		-serial "file:$out/console.log" -serial "file:$capture" \
		</dev/null >"$out/qemu.log" 2>&1
	rc=$?
	;;
bochs)
	"$LAB/bochs.sh" --kernel "$image" --initrd "$rd" --append "$append lab.halt=poweroff" \
		--dir "$out" --capture "$capture" --timeout "${timeout:-1800}"
	rc=$?
	;;
bochs3)
	b3=$("$LAB/bochs3.sh" | tail -1)
	[ -x "$b3/bochs" ] || die "no Bochs 3.0 (lab/bochs3.sh failed)"
	"$LAB/bochs.sh" --kernel "$image" --initrd "$rd" --append "$append lab.halt=poweroff" \
		--dir "$out" --capture "$capture" --timeout "${timeout:-1800}" \
		--bochs "$b3" --cpu tigerlake
	rc=$?
	;;
esac
secs=$(echo "$(date +%s.%N) - $t0" | bc)
echo "$emu $rc $secs $kernel $release $bin" > "$out/run.txt"
rm -f "$rd"
if [ "$rc" = 124 ]; then
	echo "lab: $emu did not finish within its timeout; console: $out/console.log" >&2
fi
python3 "$LAB/frames.py" "$capture" "$out" 2>"$out/frames.err"
frc=$?
[ -s "$out/frames.err" ] && sed 's/^/lab: /' "$out/frames.err" >&2
python3 "$LAB/summary.py" "$out" | tee "$out/summary.txt"
src=${PIPESTATUS[0]}
[ $frc -eq 0 ] && [ "$src" -eq 0 ]
