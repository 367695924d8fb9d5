# shellcheck shell=bash
# Shared helpers of the kernel/ scripts: where the Debian 6.12 source comes
# from, where it is unpacked, and how it is configured.  Sourced, not run.
#
# Layout under $BUILD/kernel (all of it a cache; `make clean` drops it):
#   linux-<ver>/   the pristine tree as a git repository (tag "pristine");
#                  kernel-check and the quick check apply the series there
#   out/           its out-of-tree build (O=), config from kernel/config
#   check.lock     serialises users of the two

# Detach from a calling make's jobserver (make test runs us from a make with
# its own -j); kernel builds use their own -j$KJOBS.
unset MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES

KTOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=${BUILD:-build}
case "$BUILD" in /*) ;; *) BUILD=$KTOP/$BUILD ;; esac
KDIR=$BUILD/kernel
KSRC_TARBALL=${KSRC_TARBALL:-/usr/src/linux-source-6.12.tar.xz}
KSRC_PKG=linux-source-6.12
KJOBS=${KJOBS:-2}
KMAKE_ARGS=(ARCH=x86_64 -j"$KJOBS")
GIT_IDENT=(-c user.name=mbecscope -c user.email=mbecscope@example.org
	   -c commit.gpgsign=false -c am.threeWay=false)

kdie() { echo "kernel: $*" >&2; exit 2; }
knote() { echo "# $*"; }

# The Debian package version of the installed source, e.g. 6.12.117-1~deb12u1.
kpkg_version() {
	dpkg-query -W -f='${Version}' "$KSRC_PKG" 2>/dev/null || echo unknown
}

# Make sure the source tarball is there; install the package when root.
# Returns 1 (with a reason on stderr) when it cannot be had.
ksrc_available() {
	[ -r "$KSRC_TARBALL" ] && return 0
	if [ "${KSRC_INSTALL:-1}" = 1 ]; then
		"$KTOP/tools/deps.sh" kernel >&2 || true
	fi
	[ -r "$KSRC_TARBALL" ] && return 0
	echo "$KSRC_TARBALL is missing; install it with: apt-get install $KSRC_PKG" >&2
	return 1
}

# Unpack the tarball into a git repository once; later calls reuse it as
# long as the tarball has not changed.  Sets KTREE.
ktree_prepare() {
	local stamp want ver tmp
	want=$(stat -c '%s-%Y' "$KSRC_TARBALL")
	for KTREE in "$KDIR"/linux-*; do
		[ -d "$KTREE/.git" ] || continue
		stamp=$(cat "$KTREE/.git/mbecscope-source" 2>/dev/null || true)
		if [ "$stamp" = "$want" ] && git -C "$KTREE" rev-parse -q --verify pristine >/dev/null; then
			return 0
		fi
		knote "source tarball changed; unpacking it again"
		rm -rf "$KTREE" "$KDIR/out"
	done
	mkdir -p "$KDIR"
	tmp=$(mktemp -d "$KDIR/unpack.XXXXXX")
	knote "unpacking $KSRC_TARBALL"
	tar -xf "$KSRC_TARBALL" -C "$tmp" || { rm -rf "$tmp"; kdie "cannot unpack $KSRC_TARBALL"; }
	set -- "$tmp"/linux-source-*
	[ -f "$1/Makefile" ] || { rm -rf "$tmp"; kdie "$KSRC_TARBALL has no linux-source-* tree"; }
	ver=$(make -s -C "$1" kernelversion 2>/dev/null)
	[ -n "$ver" ] || { rm -rf "$tmp"; kdie "cannot read the kernel version of $KSRC_TARBALL"; }
	KTREE=$KDIR/linux-$ver
	rm -rf "$KTREE" "$KDIR/out"
	mv "$1" "$KTREE"
	rmdir "$tmp"
	# Debian's .gitignore ignores every top-level path: add with -f.
	(cd "$KTREE" && git init -q -b base . && git config gc.auto 0 &&
		git add -f -A . &&
		git "${GIT_IDENT[@]}" commit -q -m "Linux $ver (Debian $KSRC_PKG $(kpkg_version))" &&
		git tag pristine) || { rm -rf "$KTREE"; kdie "cannot make a git repository of the tree"; }
	echo "$want" > "$KTREE/.git/mbecscope-source"
}

kversion() { make -s -C "$KTREE" kernelversion; }

# make in the kernel tree, out of tree, detached from a calling make's
# jobserver (make test runs us from a make with its own -j).
kmake() {
	make -C "$KTREE" O="$KDIR/out" "${KMAKE_ARGS[@]}" "$@"
}

# Configure $KDIR/out: tinyconfig plus kernel/config/kvm.config.  Reused
# while the fragment is unchanged.
kconfig_prepare() {
	local frag=$KTOP/kernel/config/kvm.config out=$KDIR/out sum
	sum=$(cat "$frag" | md5sum | cut -d' ' -f1)
	if [ -f "$out/.config" ] && [ "$(cat "$out/.mbecscope-config" 2>/dev/null)" = "$sum" ]; then
		return 0
	fi
	mkdir -p "$out"
	make -s -C "$KTREE" O="$out" ARCH=x86_64 tinyconfig >/dev/null &&
		"$KTREE/scripts/kconfig/merge_config.sh" -m -O "$out" "$out/.config" "$frag" >/dev/null &&
		make -s -C "$KTREE" O="$out" ARCH=x86_64 olddefconfig >/dev/null ||
		kdie "cannot configure the kernel (see kernel/config/kvm.config)"
	echo "$sum" > "$out/.mbecscope-config"
}

# Check out the pristine tree (discarding any earlier application).
ktree_reset() {
	git -C "$KTREE" am --abort >/dev/null 2>&1 || true
	git -C "$KTREE" checkout -q -f -B mbec pristine || kdie "cannot check out the pristine tree"
}

# git checkout and git am give every file they write a new mtime, so that
# applying the series again after a reset makes make rebuild everything that
# depends on a patched file, e.g. the whole kernel for cpufeatures.h, even
# when its content is what the last build saw.  ksrc_stamps_save records,
# for the O= directory $1, the content hash and mtime of each file the
# checkout changes against pristine; ksrc_stamps_restore gives the files
# whose content is still the same their recorded mtime back.
ksrc_stamps_save() {
	local f
	git -C "$KTREE" diff --name-only pristine HEAD | while read -r f; do
		[ -f "$KTREE/$f" ] || continue
		printf '%s %s %s\n' "$(git -C "$KTREE" hash-object "$f")" \
			"$(stat -c %Y "$KTREE/$f")" "$f"
	done > "$1/.mbecscope-stamps"
}
ksrc_stamps_restore() {
	local sha mtime f n=0
	[ -f "$1/.mbecscope-stamps" ] || return 0
	while read -r sha mtime f; do
		if [ -f "$KTREE/$f" ] && [ "$(git -C "$KTREE" hash-object "$f")" = "$sha" ]; then
			touch -m -d "@$mtime" "$KTREE/$f" && n=$((n + 1))
		fi
	done < "$1/.mbecscope-stamps"
	knote "$n unchanged patched files keep the mtime of the last build in $1"
}

# The patch files of the series, in order.
kseries() {
	local p
	while read -r p; do
		case "$p" in ''|'#'*) continue ;; esac
		echo "$KTOP/kernel/patches/$p"
	done < "$KTOP/kernel/series"
}
