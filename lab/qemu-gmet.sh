#!/bin/bash
# Build QEMU 7.2 (Debian 12's source package) with our GMET patch for the lab
# and print the path of its qemu-system-x86_64 on the last line.
#
#   lab/qemu-gmet.sh [--check]
#
# The patches are lab/qemu/*.patch, applied in the order of lab/qemu/series
# (quilt style, -p1).  The binary is cached in
# $BUILD/lab/qemu-gmet-<key>/, where <key> hashes this script, the series,
# the patches and the device list: a change to any of them makes a new build,
# an unchanged tree only prints the path.  --check prints the path when that
# build is cached and exits 1 (quietly) when it is not; it never builds.
#
# Building: `apt-get source qemu` (needs a deb-src line for bookworm, see
# lab/qemu/README) into $BUILD/lab/qemu-gmet-src/, the patches applied on a
# pristine copy, configured for x86_64-softmmu only with every optional
# feature and device off except those the lab uses (lab/qemu/devices.mak),
# then ninja under nice -n 10 with -j2 (QEMU_GMET_JOBS overrides).  The
# source and object tree stay in qemu-gmet-src/, so a patch change rebuilds
# only what it touches.  A first build takes 20-40 min on two busy cores.
# Exit 0 ready, 1 not cached (--check), 2 cannot be built (with the reason).
set -u
LAB=$(cd "$(dirname "$0")" && pwd)
TOP=$(cd "$LAB/.." && pwd)
BUILD=${BUILD:-build}
case "$BUILD" in /*) ;; *) BUILD=$TOP/$BUILD ;; esac
die() { echo "qemu-gmet: $*" >&2; exit 2; }

check=0
case "${1:-}" in
--check) check=1 ;;
"") ;;
-h|--help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
*) die "unknown argument '$1' (see lab/qemu-gmet.sh --help)" ;;
esac

Q=$LAB/qemu
[ -s "$Q/series" ] || die "$Q/series is missing or empty"
patches=()
while read -r p _; do
	case "$p" in ''|\#*) continue ;; esac
	[ -f "$Q/$p" ] || die "$Q/series names $p, which is not in $Q"
	patches+=("$Q/$p")
done < "$Q/series"
[ ${#patches[@]} -gt 0 ] || die "$Q/series names no patch"

key=$(cat "$0" "$Q/series" "$Q/devices.mak" "${patches[@]}" | sha256sum | cut -c1-12)
out=$BUILD/lab/qemu-gmet-$key
if [ -x "$out/qemu-system-x86_64" ]; then
	echo "$out/qemu-system-x86_64"
	exit 0
fi
[ $check = 1 ] && exit 1

for t in apt-get dpkg-source patch ninja meson pkg-config python3 cc flock; do
	command -v $t >/dev/null || die "$t is missing: tools/deps.sh qemu-gmet"
done
pkg-config --exists glib-2.0 pixman-1 ||
	die "glib or pixman headers are missing: tools/deps.sh qemu-gmet"

work=$BUILD/lab/qemu-gmet-src
mkdir -p "$work/dl" || die "cannot make $work"
# One build at a time (lab runs may start together); the one that waited
# finds the binary the other made.
exec 9>"$work/lock"
flock 9 || die "cannot lock $work/lock"
if [ -x "$out/qemu-system-x86_64" ]; then
	echo "$out/qemu-system-x86_64"
	exit 0
fi

# 1. Debian's source, once.  The newest 7.2 apt knows.
dsc=$(ls "$work"/dl/qemu_7.2*.dsc 2>/dev/null | sort -V | tail -1)
if [ -z "$dsc" ]; then
	(cd "$work/dl" && apt-get source --download-only qemu >&2) ||
		die "apt-get source qemu failed: add a deb-src line for bookworm (lab/qemu/README) and apt-get update"
	dsc=$(ls "$work"/dl/qemu_7.2*.dsc 2>/dev/null | sort -V | tail -1)
	[ -n "$dsc" ] || die "apt-get source qemu brought no 7.2 (.dsc): this needs Debian 12's qemu"
fi
ver=$(sed -n 's/^Version: //p' "$dsc")
pristine=$work/pristine-${ver//:/_}
if [ ! -f "$pristine/configure" ]; then
	rm -rf "$pristine"
	dpkg-source -x "$dsc" "$pristine" >&2 || die "dpkg-source -x $dsc failed"
fi

# 2. The tree we build: pristine plus our patches.  The patches are applied
# to pristine copies of the files they name, in a staging directory; a file
# of the tree is rewritten only when its content changes, and files an
# earlier series touched but this one does not are restored.  So the tree
# always equals pristine + series, and ninja recompiles only what changed.
src=$work/tree
if [ ! -f "$src/configure" ] || [ "$(cat "$src/.pristine" 2>/dev/null)" != "$ver" ]; then
	rm -rf "$src"
	cp -a "$pristine" "$src" || die "cannot copy $pristine"
	echo "$ver" > "$src/.pristine"
	: > "$src/.touched"
fi
stage=$work/stage
rm -rf "$stage" && mkdir -p "$stage" || die "cannot make $stage"
# The files each patch names ("+++ b/path").
sed -n 's|^+++ b/\([^[:space:]]*\).*|\1|p' "${patches[@]}" | sort -u > "$stage.files"
while read -r f; do
	[ -f "$pristine/$f" ] || continue
	mkdir -p "$stage/$(dirname "$f")" && cp "$pristine/$f" "$stage/$f" ||
		die "cannot stage $f"
done < "$stage.files"
for p in "${patches[@]}"; do
	patch -d "$stage" -p1 --forward --no-backup-if-mismatch -s < "$p" >&2 ||
		die "$(basename "$p") does not apply to qemu $ver"
done
while read -r f; do
	[ -n "$f" ] || continue
	if [ -f "$stage/$f" ]; then
		want=$stage/$f
	elif [ -f "$pristine/$f" ]; then
		want=$pristine/$f
	else
		rm -f "$src/$f"
		continue
	fi
	cmp -s "$want" "$src/$f" || { mkdir -p "$src/$(dirname "$f")" && cp "$want" "$src/$f"; } ||
		die "cannot update $f in $src"
done < <(sort -u "$src/.touched" "$stage.files")
mv "$stage.files" "$src/.touched" && rm -rf "$stage"
mkdir -p "$src/configs/devices/x86_64-softmmu"
cmp -s "$Q/devices.mak" "$src/configs/devices/x86_64-softmmu/lab.mak" ||
	cp "$Q/devices.mak" "$src/configs/devices/x86_64-softmmu/lab.mak"

# 3. Configure once per set of options.
opts="--target-list=x86_64-softmmu --without-default-features
--without-default-devices --with-devices-x86_64=lab --enable-tcg
--disable-kvm --disable-docs --disable-tools --disable-werror
--disable-install-blobs --with-git-submodules=ignore
--firmwarepath=/usr/share/qemu:/usr/share/seabios:/usr/lib/ipxe/qemu"
bdir=$src/b
optsig=$opts
if [ ! -f "$bdir/build.ninja" ] || [ "$(cat "$bdir/.opts" 2>/dev/null)" != "$optsig" ]; then
	rm -rf "$bdir" && mkdir -p "$bdir"
	# shellcheck disable=SC2086
	(cd "$bdir" && nice -n 10 ../configure $opts >"$bdir/configure.log" 2>&1) ||
		die "configure failed: $bdir/configure.log"
	echo "$optsig" > "$bdir/.opts"
fi
# --version names the build: only qemu-version.h depends on it.
if [ "$(cat "$bdir/.pkgkey" 2>/dev/null)" != "$key" ]; then
	(cd "$bdir" && meson configure -Dpkgversion="Debian-$ver-mbecscope-gmet-$key" >/dev/null) ||
		die "meson configure -Dpkgversion failed in $bdir"
	echo "$key" > "$bdir/.pkgkey"
fi

# 4. Build the one binary.
t0=$SECONDS
echo "qemu-gmet: building qemu $ver with $(basename -a "${patches[@]}" | tr '\n' ' ')(log $bdir/ninja.log)" >&2
(cd "$bdir" && nice -n 10 ninja -j"${QEMU_GMET_JOBS:-2}" qemu-system-x86_64 >"$bdir/ninja.log" 2>&1) ||
	die "the build failed: tail $bdir/ninja.log"
secs=$((SECONDS - t0))

rm -rf "$out.tmp" && mkdir -p "$out.tmp" || die "cannot make $out.tmp"
cp "$bdir/qemu-system-x86_64" "$out.tmp/" || die "the build left no qemu-system-x86_64"
"$out.tmp/qemu-system-x86_64" --version >/dev/null || die "the new binary does not run"
{
	echo "qemu $ver"
	echo "patches $(basename -a "${patches[@]}" | tr '\n' ' ')"
	echo "key $key"
	echo "build_seconds $secs"
	date -u +"built %Y-%m-%dT%H:%M:%SZ"
} > "$out.tmp/info"
rm -rf "$out" && mv "$out.tmp" "$out" || die "cannot store $out"
echo "$out/qemu-system-x86_64"
