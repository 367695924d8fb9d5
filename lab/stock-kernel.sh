#!/bin/bash
# Fetch one of Debian's stock kernels for the lab and unpack it (never
# installed on the host):
#   lab/stock-kernel.sh debian-6.1 | debian-6.12 | PACKAGE
# debian-6.1 / debian-6.12 name the newest linux-image-*-amd64-unsigned of
# that series apt knows of; PACKAGE is a package name given in full.
# The tree is kept under $BUILD/lab/kernels/<package>/ with boot/vmlinuz-*,
# lib/modules/<release>/ (modules.dep made with depmod -b, since the package
# ships none) and a file "release".  Prints that directory on the last line.
# Exit 0 ready, 2 cannot be had (with the reason).
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}
case "$BUILD" in /*) ;; *) BUILD=$TOP/$BUILD ;; esac
die() { echo "lab: $*" >&2; exit 2; }

newest() {
	apt-cache pkgnames linux-image- 2>/dev/null | grep -E "$1" | sort -V | tail -1
}
case "${1:-}" in
debian-6.1) pkg=$(newest '^linux-image-6\.1\.0-[0-9]+-amd64-unsigned$') ;;
debian-6.12) pkg=$(newest '^linux-image-6\.12\.[0-9]+\+deb12-amd64-unsigned$') ;;
linux-image-*) pkg=$1 ;;
*) die "usage: lab/stock-kernel.sh debian-6.1|debian-6.12|linux-image-...-unsigned" ;;
esac
[ -n "$pkg" ] || die "apt knows no kernel package for $1: run apt-get update"

dir=$BUILD/lab/kernels/$pkg
if [ -s "$dir/release" ]; then
	echo "$dir"
	exit 0
fi
command -v depmod >/dev/null || die "depmod is missing: apt-get install kmod"
mkdir -p "$BUILD/lab/debs"
deb=$(ls "$BUILD/lab/debs/${pkg}_"*.deb 2>/dev/null | tail -1)
if [ -z "$deb" ]; then
	(cd "$BUILD/lab/debs" && apt-get download -q "$pkg" >&2) ||
		die "cannot download $pkg (apt-get download; network or apt-get update?)"
	deb=$(ls "$BUILD/lab/debs/${pkg}_"*.deb 2>/dev/null | tail -1)
	[ -n "$deb" ] || die "apt-get download left no $pkg .deb"
fi
rm -rf "$dir.tmp" && mkdir -p "$dir.tmp"
dpkg-deb -x "$deb" "$dir.tmp" || die "cannot unpack $deb"
set -- "$dir.tmp"/lib/modules/*/
[ -d "$1" ] || die "$deb has no lib/modules/<release>/"
rel=$(basename "$1")
[ -f "$dir.tmp/boot/vmlinuz-$rel" ] || die "$deb has no boot/vmlinuz-$rel"
depmod -b "$dir.tmp" "$rel" || die "depmod -b failed for $rel"
echo "$rel" > "$dir.tmp/release"
dpkg-deb -f "$deb" Version > "$dir.tmp/version"
rm -rf "$dir" && mv "$dir.tmp" "$dir" || die "cannot store $dir"
echo "$dir"
