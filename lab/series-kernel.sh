#!/bin/bash
# Build our kernel/ series for the lab: Debian's linux-source-6.12 with
# every patch of kernel/series applied, configured from tinyconfig +
# kernel/config/kvm.config + lab/series.config (KVM, KVM_AMD, KVM_INTEL
# built in, BTF from pahole), and cache the bzImage under
#   $BUILD/lab/kernels/series-<key>/bzImage
# where <key> hashes the series, its patches and both config fragments, so
# an unchanged series is never built twice.  Prints that directory on the
# last line of stdout.  Exit 0 built or cached, 1 build failed, 2 no source.
#
#   lab/series-kernel.sh [--check]   (--check: only say whether it is cached)
set -u
LAB=$(cd "$(dirname "$0")" && pwd)
. "$LAB/../kernel/scripts/lib.sh"

key=$( (cat "$KTOP/kernel/series" "$KTOP/kernel/config/kvm.config" "$LAB/series.config"
	kseries | xargs cat) | sha256sum | cut -c1-12)
dest=$BUILD/lab/kernels/series-$key
if [ -s "$dest/bzImage" ]; then
	echo "$dest"
	exit 0
fi
[ "${1:-}" = --check ] && { echo "series kernel $key is not built yet" >&2; exit 1; }

ksrc_available || exit 2
mkdir -p "$KDIR" "$BUILD/lab"
src=$BUILD/lab/series-src
out=$BUILD/lab/series-out
log=$BUILD/lab/series-build.log

# The pristine tree is shared with kernel-check; take its lock only while
# making our own git worktree of it with the series applied.
(
	flock 9
	ktree_prepare
	if [ ! -e "$src/.git" ]; then
		rm -rf "$src"
		git -C "$KTREE" worktree prune
		git -C "$KTREE" worktree add -q -f --detach "$src" pristine ||
			kdie "cannot make a worktree of $KTREE"
	fi
) 9>"$KDIR/check.lock" || exit 2
git -C "$src" am --abort >/dev/null 2>&1
# Before the reset: the patched files as the last build in $out saw them
# (content and mtime), so that a changed series rebuilds only what depends
# on a file whose content changed, not the whole kernel (every patched file
# gets a new mtime from the reset and git am; cpufeatures.h alone reaches
# nearly every object).  ksrc_stamps_* in kernel/scripts/lib.sh.
if [ -f "$out/.config" ] && git -C "$src" rev-parse -q --verify HEAD >/dev/null; then
	KTREE=$src ksrc_stamps_save "$out"
fi
git -C "$src" checkout -q -f --detach pristine && git -C "$src" clean -q -fdx ||
	kdie "cannot reset $src"
mapfile -t patches < <(kseries)
if ! git -C "$src" "${GIT_IDENT[@]}" am -q "${patches[@]}" >"$log" 2>&1; then
	echo "lab: the series does not apply to $(make -s -C "$src" kernelversion):" >&2
	head -20 "$log" >&2
	exit 1
fi
KTREE=$src ksrc_stamps_restore "$out" >&2

mkdir -p "$out"
make -s -C "$src" O="$out" ARCH=x86_64 tinyconfig >/dev/null &&
	"$src/scripts/kconfig/merge_config.sh" -m -O "$out" "$out/.config" \
		"$KTOP/kernel/config/kvm.config" "$LAB/series.config" >/dev/null &&
	make -s -C "$src" O="$out" ARCH=x86_64 olddefconfig >/dev/null ||
	kdie "cannot configure the lab kernel"
for opt in KVM_AMD KVM_INTEL DEBUG_INFO_BTF BPF_EVENTS DEBUG_FS FUTEX EPOLL NET; do
	grep -q "^CONFIG_$opt=y" "$out/.config" || kdie "CONFIG_$opt did not survive olddefconfig"
done
t0=$SECONDS
echo "# lab: building the series kernel $key (log: $log)" >&2
if ! nice -n 10 make -C "$src" O="$out" "${KMAKE_ARGS[@]}" bzImage >>"$log" 2>&1; then
	echo "lab: the series kernel does not build; last lines of $log:" >&2
	grep -E 'error' "$log" | head -10 >&2
	tail -5 "$log" >&2
	exit 1
fi
mkdir -p "$dest.tmp"
cp "$out/arch/x86/boot/bzImage" "$out/.config" "$dest.tmp/" &&
	make -s -C "$src" O="$out" kernelrelease > "$dest.tmp/release" &&
	echo "series $key: $(kseries | wc -l) patches, built in $((SECONDS - t0))s" > "$dest.tmp/info" &&
	rm -rf "$dest" && mv "$dest.tmp" "$dest" || kdie "cannot store the kernel in $dest"
echo "# lab: series kernel built in $((SECONDS - t0))s" >&2
echo "$dest"
