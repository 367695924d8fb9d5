#!/bin/bash
# Make the lab's initramfs:
#   lab/initramfs.sh --mbecscope BIN [--kernel-tree DIR] -o FILE.cpio.gz
# It holds busybox (static), /init (lab/init.sh), BIN as /bin/mbecscope with
# every library ldd names and the loader, and, with --kernel-tree (a tree
# made by lab/stock-kernel.sh), the KVM modules of that kernel, unpacked,
# listed in load order in /lib/modules/modules.amd and modules.intel.
# Exit 0 made, 2 something is missing (with the reason).
set -u
LAB=$(cd "$(dirname "$0")" && pwd)
die() { echo "lab: $*" >&2; exit 2; }

bin= tree= out=
while [ $# -gt 0 ]; do
	case "$1" in
	--mbecscope) bin=${2:-}; shift 2 ;;
	--kernel-tree) tree=${2:-}; shift 2 ;;
	-o) out=${2:-}; shift 2 ;;
	*) die "initramfs.sh: unknown argument '$1'" ;;
	esac
done
[ -n "$bin" ] && [ -n "$out" ] || die "usage: initramfs.sh --mbecscope BIN [--kernel-tree DIR] -o FILE"
[ -x "$bin" ] || die "$bin is not an executable mbecscope (build it with make)"
busybox=$(command -v busybox) || die "busybox is missing: apt-get install busybox-static"
ldd "$busybox" 2>&1 | grep -q 'not a dynamic executable' ||
	die "$busybox is not static: apt-get install busybox-static"

root=$(mktemp -d "${TMPDIR:-/tmp}/lab-initramfs.XXXXXX")
trap 'rm -rf "$root"' EXIT
mkdir -p "$root"/{bin,sbin,dev,proc,sys,tmp,root,lib/modules} || die "cannot make $root"
cp "$busybox" "$root/bin/busybox"
# /init installs the other applets' links itself (one fork instead of 400).
ln -s busybox "$root/bin/sh"
install -m 0755 "$LAB/init.sh" "$root/init"
cp "$bin" "$root/bin/mbecscope"
# tools/progcost (make all builds it beside BIN; the same libraries) for the
# progcost step, when it is there.
[ -x "$(dirname "$bin")/progcost" ] && cp "$(dirname "$bin")/progcost" "$root/bin/progcost"

# The libraries and the loader, at the paths the binary will ask for.
libs=$(ldd "$bin" | awk '/=> \//{print $3} /^\t\/[^ ]*ld-linux/{print $1}')
[ -n "$libs" ] || die "ldd names no library for $bin (a static binary is fine, but say so)"
for l in $libs; do
	[ -e "$l" ] || die "ldd names $l for $bin, but it is missing"
	mkdir -p "$root$(dirname "$l")"
	cp -L "$l" "$root$l"
done

# trace-cmd and its libraries, when the host has it (the tracedat step of
# init.sh: trace-cmd extract in L1).
if tc=$(command -v trace-cmd); then
	cp "$tc" "$root/bin/trace-cmd"
	for l in $(ldd "$tc" | awk '/=> \//{print $3}'); do
		[ -e "$root$l" ] && continue
		mkdir -p "$root$(dirname "$l")"
		cp -L "$l" "$root$l"
	done
fi

# modules NAME...: the modules' closure from modules.dep, unpacked into the
# initramfs, their paths printed in load order (dependencies first).
# Status 1 when one is not a module of the kernel.
modules() {
	local name want m ko order list=
	for name in "$@"; do
		want=$(grep -E "/$name\.ko(\.xz|\.zst|\.gz)?:" "$mdir/modules.dep") || return 1
		# modules.dep lists M: D1 D2 ... where each Di may need the later
		# ones: load them from the last to the first, then M.
		set -- ${want#*:}
		order=
		for m in "$@"; do order="$m $order"; done
		order="$order ${want%%:*}"
		for m in $order; do
			ko=${m%.xz}; ko=${ko%.zst}; ko=${ko%.gz}
			if [ ! -f "$root/lib/modules/$ko" ]; then
				mkdir -p "$root/lib/modules/$(dirname "$ko")"
				case "$m" in
				*.xz) xz -dc "$mdir/$m" ;;
				*.zst) zstd -qdc "$mdir/$m" ;;
				*.gz) gzip -dc "$mdir/$m" ;;
				*) cat "$mdir/$m" ;;
				esac > "$root/lib/modules/$ko" || die "cannot unpack $mdir/$m"
			fi
			list="$list $ko"
		done
	done
	printf '%s\n' $list | awk '!seen[$0]++'
}

# KVM's modules, and those of the livetests step (the host's root over 9p
# under an overlay): modules.amd, modules.intel, modules.9p.
if [ -n "$tree" ]; then
	rel=$(cat "$tree/release" 2>/dev/null) || die "$tree is not a kernel tree of lab/stock-kernel.sh"
	mdir=$tree/lib/modules/$rel
	[ -f "$mdir/modules.dep" ] || die "$mdir/modules.dep is missing (depmod -b)"
	for vendor in amd intel; do
		modules kvm-$vendor > "$root/lib/modules/modules.$vendor" ||
			die "$mdir/modules.dep has no kvm-$vendor module"
	done
	# (a kernel with 9p or overlayfs built in has none of these: fine)
	modules 9pnet_virtio 9p overlay > "$root/lib/modules/modules.9p" ||
		: > "$root/lib/modules/modules.9p"
fi

mkdir -p "$(dirname "$out")"
(cd "$root" && find . | cpio -o -H newc --quiet) | gzip -1 > "$out.tmp" &&
	mv "$out.tmp" "$out" || die "cannot write $out (cpio, gzip)"
