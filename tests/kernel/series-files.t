#!/bin/bash
# kernel/series and kernel/patches agree: every listed patch exists, every
# patch is listed once, each is a git mail with a subject, a reason in its
# message and a Signed-off-by.
cd "$(dirname "$0")/../.." || exit 2
n=0 fail=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
notok() { n=$((n + 1)); fail=1; echo "not ok $n - $*"; }
mapfile -t listed < <(sed '/^#/d; /^$/d' kernel/series)
[ ${#listed[@]} -gt 0 ] && ok "kernel/series lists ${#listed[@]} patches" || notok "kernel/series lists patches"
for p in "${listed[@]}"; do
	f=kernel/patches/$p
	if [ ! -f "$f" ]; then notok "$p exists"; continue; fi
	subj=$(sed -n 's/^Subject: \[PATCH[^]]*\] //p' "$f")
	body=$(awk '/^$/{b=1; next} /^---$/{exit} b' "$f" | grep -vc '^Signed-off-by:')
	if [ -n "$subj" ] && [ "$body" -ge 3 ] && grep -q '^Signed-off-by: ' "$f"; then
		ok "$p: subject, message and sign-off"
	else
		notok "$p: subject, message and sign-off"
	fi
done
for f in kernel/patches/*.patch; do
	c=$(grep -cxF "$(basename "$f")" kernel/series)
	[ "$c" = 1 ] && ok "$(basename "$f") listed once" || notok "$(basename "$f") listed once (found $c)"
done
echo "1..$n"
exit $fail
