#!/bin/sh
# Install the Debian packages a group of make targets needs, when missing.
# usage: tools/deps.sh GROUP...   (groups: build test kernel bench lab bochs bochs3 qemu-gmet deb)
# As root it runs apt-get; otherwise it prints the exact line and fails.
set -eu

pkgs_build="gcc make clang llvm libbpf-dev bpftool libelf-dev zlib1g-dev libzstd-dev libncurses-dev pkg-config libmicrohttpd-dev libtracecmd-dev libtraceevent-dev libsystemd-dev"
pkgs_test="libclang-rt-14-dev tmux util-linux zstd python3 curl systemd trace-cmd prometheus python3-yaml"
pkgs_bench="bpftrace python3 time zstd trace-cmd"
# lab/: QEMU and what makes the initramfs of a stock kernel; bochs: make lab's EPT run
pkgs_lab="qemu-system-x86 busybox-static cpio kmod xz-utils python3 bc"
pkgs_bochs="bochs bochs-term bochsbios vgabios genisoimage isolinux syslinux-common"
# qemu-gmet: building Debian's QEMU 7.2 with our GMET patch (lab/qemu-gmet.sh)
pkgs_qemu_gmet="dpkg-dev patch meson ninja-build pkg-config libglib2.0-dev libpixman-1-dev"
# bochs3: lab/bochs3.sh: Bochs 3.0 from Debian 13 (debootstrap root, or its orig tarball built with g++)
pkgs_bochs3="debootstrap g++ make xz-utils debian-archive-keyring genisoimage isolinux syslinux-common"
# deb: make deb (dpkg-buildpackage, debhelper, lintian)
pkgs_deb="dpkg-dev debhelper lintian fakeroot bash-completion man-db"
pkgs_kernel="linux-source-6.12 flex bison bc libssl-dev qemu-system-x86 dwarves cpio kmod xz-utils python3"

# qemu-gmet needs `apt-get source qemu`, so a deb-src entry for the same
# archive as the binary packages.  Added (as its own file, so it is easy to
# remove) only when the group is asked for and no deb-src entry exists.
debsrc_needed=""

want=""
for g in "$@"; do
	case "$g" in
	build) want="$want $pkgs_build" ;;
	test) want="$want $pkgs_test $pkgs_lab" ;;
	lab) want="$want $pkgs_lab" ;;
	bochs) want="$want $pkgs_bochs" ;;
	qemu-gmet) want="$want $pkgs_qemu_gmet"; debsrc_needed=1 ;;
	bochs3) want="$want $pkgs_bochs3" ;;
	kernel) want="$want $pkgs_kernel" ;;
	bench) want="$want $pkgs_bench" ;;
	deb) want="$want $pkgs_deb" ;;
	*) echo "deps.sh: unknown group '$g' (build, test, kernel, bench, lab, bochs, bochs3, qemu-gmet, deb)" >&2; exit 2 ;;
	esac
done

missing=""
for p in $want; do
	st=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
	[ "$st" = installed ] || missing="$missing $p"
done
have_debsrc() {
	grep -Eqs '^[[:space:]]*(deb-src[[:space:]]|Types:.*deb-src)' \
		/etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources
}
if [ -n "$debsrc_needed" ] && ! have_debsrc; then
	f=/etc/apt/sources.list.d/mbecscope-deb-src.sources
	if [ "$(id -u)" != 0 ] || [ ! -r /etc/apt/sources.list.d/debian.sources ]; then
		echo "mbecscope: apt has no deb-src entry (lab/qemu-gmet.sh needs apt-get source qemu); add one, e.g. $f, and run apt-get update" >&2
		exit 1
	fi
	echo "deps: adding deb-src entries in $f (for apt-get source qemu)"
	sed 's/^Types:[[:space:]]*deb[[:space:]]*$/Types: deb-src/' \
		/etc/apt/sources.list.d/debian.sources > "$f.tmp" && mv "$f.tmp" "$f" &&
		apt-get update -q
fi

[ -z "$missing" ] && exit 0

if [ "$(id -u)" != 0 ]; then
	echo "mbecscope: missing Debian packages; run: sudo apt-get install -y$missing" >&2
	exit 1
fi
echo "deps: installing$missing"
export DEBIAN_FRONTEND=noninteractive
# A fresh machine has empty package lists; refresh them once when needed.
if ! apt-get install -y --no-install-recommends $missing; then
	apt-get update -q
	apt-get install -y --no-install-recommends $missing
fi
