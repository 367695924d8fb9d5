#!/bin/bash
# Developer helper: turn the commits of a kernel tree on top of the
# "pristine" tag into kernel/patches/*.patch and kernel/series.
#   export.sh TREE      (e.g. build/kernel/dev, a worktree of the cached tree)
set -eu
. "$(dirname "$0")/lib.sh"
tree=${1:?usage: export.sh TREE}
git -C "$tree" rev-parse -q --verify pristine >/dev/null || kdie "$tree has no 'pristine' tag"
rm -f "$KTOP"/kernel/patches/*.patch
git -C "$tree" format-patch -q --zero-commit --no-signature \
	-o "$KTOP/kernel/patches" pristine..HEAD
{
	echo "# The MBEC/GMET series for Debian's linux-source-6.12, in order."
	echo "# Apply with: git am \$(sed '/^#/d; s|^|kernel/patches/|' kernel/series)"
	(cd "$KTOP/kernel/patches" && ls ./*.patch | sed 's|^\./||')
} > "$KTOP/kernel/series"
cat "$KTOP/kernel/series"
