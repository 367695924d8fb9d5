#!/bin/bash
# Apply the MBEC/GMET series to a pristine Debian 6.12 tree with `git am`
# and build arch/x86/kvm (KVM, KVM_INTEL, KVM_AMD built in, W=1).
#
#   check.sh          every patch in turn: apply, build, checkpatch
#   check.sh --quick  the whole series applied, one build (make test)
#
# Prints TAP.  Exit 0 when everything passed, 1 when a patch failed to
# apply, a build failed or warned, or checkpatch complained beyond
# kernel/checkpatch.allow; 2 when the tree cannot be had (with the reason).
set -u
. "$(dirname "$0")/lib.sh"

quick=0
case "${1:-}" in
--quick) quick=1 ;;
"") ;;
-h|--help) sed -n '2,11p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
*) kdie "usage: check.sh [--quick]" ;;
esac

ksrc_available || exit 2
mkdir -p "$KDIR"
exec 9>"$KDIR/check.lock"
flock 9
ktree_prepare
kconfig_prepare

mapfile -t patches < <(kseries)
[ ${#patches[@]} -gt 0 ] || kdie "kernel/series lists no patches"
for p in "${patches[@]}"; do
	[ -f "$p" ] || kdie "kernel/series names $p, which does not exist"
done

n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
notok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; }
nplan=$(( quick ? 2 : 3 * ${#patches[@]} + 1 ))
[ "${KCHECK_NO_PLAN:-0}" = 1 ] || echo "1..$nplan"
knote "tree: $KTREE (Linux $(kversion), Debian $KSRC_PKG $(kpkg_version))"

start=$SECONDS
log=$KDIR/build.log

# The tree the whole series gives, found without touching the checkout:
# apply every patch to a scratch index holding the pristine tree.  Empty
# when a patch does not apply.
series_tree() {
	local idx=$KDIR/series.index p
	rm -f "$idx"
	GIT_INDEX_FILE=$idx git -C "$KTREE" read-tree pristine || return 1
	for p in "${patches[@]}"; do
		GIT_INDEX_FILE=$idx git -C "$KTREE" apply --cached "$p" 2>>"$KDIR/am.log" || return 1
	done
	GIT_INDEX_FILE=$idx git -C "$KTREE" write-tree
	rm -f "$idx"
}

# Quick mode keeps an earlier build when the checkout already holds exactly
# the series: checking out pristine and applying again would give every
# patched file a new mtime and rebuild half of KVM for identical sources.
# make still runs, so the build is checked all the same.
reuse=0
if [ $quick = 1 ]; then
	: >"$KDIR/am.log"
	want=$(series_tree) || want=
	have=$(git -C "$KTREE" rev-parse -q --verify 'HEAD^{tree}' 2>/dev/null)
	# Only a build that passed may be reused: an incremental make would not
	# print an earlier build's warnings again.
	if [ -n "$want" ] && [ "$want" = "$have" ] &&
	   [ "$(cat "$KDIR/quick.ok" 2>/dev/null)" = "$want" ] &&
	   [ -z "$(git -C "$KTREE" status --porcelain -uno 2>/dev/null)" ]; then
		reuse=1
	fi
fi
[ $reuse = 1 ] || ktree_reset
rm -f "$KDIR/quick.ok"

# Build arch/x86/kvm with W=1; any warning or error fails the step (the
# pristine 6.12 tree builds it without a single W=1 warning).
# Compiler diagnostics only (make's own "make[1]: warning: jobserver ..." lines
# are not about the code).
kdiag() { grep -E '(warning|error):' "$log" | grep -vE '^make(\[[0-9]+\])?: '; }
# Symbols the series adds (CONFIG_KVM_MMU_KUNIT_TEST) do not exist in the
# pristine tree out/ was configured from, and olddefconfig drops them: merge
# the fragment again whenever one of its lines is missing from .config.
krefresh_config() {
	local frag=$KTOP/kernel/config/kvm.config
	grep -E '^CONFIG_[A-Z0-9_]+=' "$frag" | grep -qvxF -f "$KDIR/out/.config" || return 0
	"$KTREE/scripts/kconfig/merge_config.sh" -m -O "$KDIR/out" "$KDIR/out/.config" \
		"$frag" >/dev/null 2>&1 &&
		make -s -C "$KTREE" O="$KDIR/out" ARCH=x86_64 olddefconfig >/dev/null 2>&1
}
kbuild() {
	krefresh_config
	kmake W=1 prepare >"$log" 2>&1 &&
		kmake W=1 arch/x86/kvm/ >>"$log" 2>&1 &&
		! kdiag >/dev/null
}
kbuild_fail() {
	kdiag | head -20 | sed 's/^/#   /'
	tail -n 5 "$log" | sed 's/^/#   /'
}

# checkpatch --strict: a finding (ERROR, WARNING or CHECK) fails unless
# kernel/checkpatch.allow has a line "PATCH-FILE TYPE" for it (each such
# line says why in a comment).
kcheckpatch() {
	local p=$1 name out bad=0 type
	name=$(basename "$p")
	out=$("$KTREE/scripts/checkpatch.pl" --no-tree --strict --show-types --terse "$p" 2>&1)
	while read -r line; do
		type=$(sed -nE 's/.*: (ERROR|WARNING|CHECK):([A-Z0-9_]+):.*/\1 \2/p' <<<"$line")
		[ -n "$type" ] || continue
		if grep -qE "^$name ${type#* }( |$)" "$KTOP/kernel/checkpatch.allow" 2>/dev/null; then
			echo "#   allowed: $line"
			continue
		fi
		echo "#   $line"
		bad=1
	done <<<"$out"
	return $bad
}

if [ $quick = 1 ]; then
	applied=1
	if [ $reuse = 1 ]; then
		ok "series applies to Linux $(kversion) (${#patches[@]} patches; the checkout holds it already)"
	elif git -C "$KTREE" "${GIT_IDENT[@]}" am -q "${patches[@]}" >"$KDIR/am.log" 2>&1; then
		ok "series applies to Linux $(kversion) (${#patches[@]} patches)"
		ksrc_stamps_restore "$KDIR/out" >&2
	else
		applied=0
		notok "series applies to Linux $(kversion)"
		sed 's/^/#   /' "$KDIR/am.log" | head -20
		git -C "$KTREE" am --abort >/dev/null 2>&1
		n=$((n + 1)); echo "ok $n - arch/x86/kvm builds with the series # SKIP series does not apply"
	fi
	if [ $applied = 1 ]; then
		if kbuild; then
			ok "arch/x86/kvm builds with the series (W=1, no warnings)"
			git -C "$KTREE" rev-parse 'HEAD^{tree}' >"$KDIR/quick.ok"
			ksrc_stamps_save "$KDIR/out"
			# Snapshots for core-btf.sh, safe from a later kernel-check.
			cp "$KDIR/out/arch/x86/kvm/mmu/mmu.o" "$KDIR/series-mmu.o"
			cp "$KTREE/arch/x86/kvm/mmu/spte.h" "$KDIR/series-spte.h"
		else
			notok "arch/x86/kvm builds with the series (W=1, no warnings)"
			kbuild_fail
		fi
	fi
	knote "quick check took $((SECONDS - start))s"
	exit $((failed > 0))
fi

# The per-patch builds leave objects of intermediate states in out/: a later
# quick check must not take a file's mtime back past them.
rm -f "$KDIR/out/.mbecscope-stamps"
if kbuild; then
	ok "pristine Linux $(kversion) builds arch/x86/kvm (W=1, no warnings)"
else
	notok "pristine Linux $(kversion) builds arch/x86/kvm (W=1, no warnings)"
	kbuild_fail
fi
i=0
for p in "${patches[@]}"; do
	i=$((i + 1))
	name=$(basename "$p")
	t0=$SECONDS
	if git -C "$KTREE" "${GIT_IDENT[@]}" am -q "$p" >"$KDIR/am.log" 2>&1; then
		ok "$i/${#patches[@]} applies: $name"
		if kbuild; then
			ok "$i/${#patches[@]} builds arch/x86/kvm with W=1 ($((SECONDS - t0))s)"
		else
			notok "$i/${#patches[@]} builds arch/x86/kvm with W=1"
			kbuild_fail
		fi
	else
		notok "$i/${#patches[@]} applies: $name"
		sed 's/^/#   /' "$KDIR/am.log" | head -20
		git -C "$KTREE" am --abort >/dev/null 2>&1
		n=$((n + 1)); echo "ok $n - $i/${#patches[@]} builds # SKIP patch does not apply"
	fi
	if kcheckpatch "$p"; then
		ok "$i/${#patches[@]} checkpatch clean: $name"
	else
		notok "$i/${#patches[@]} checkpatch clean: $name"
	fi
done
knote "kernel-check took $((SECONDS - start))s"
exit $((failed > 0))
