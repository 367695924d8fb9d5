#!/bin/bash
# The KUnit tables committed in the kernel series
# (arch/x86/kvm/mmu/mmu_kunit_tables.h, added by one of kernel/patches) are
# exactly what tools/kunit-table prints from the model now: the model and
# the kernel test cannot drift apart silently.  Also shows the comparison
# firing on a table that differs by one bit.
cd "$(dirname "$0")/../.." || exit 2
BUILD=${BUILD:-build}
tool=$BUILD/kunit-table
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0 fail=0
ok() { n=$((n + 1)); echo "ok $n - $*"; }
notok() { n=$((n + 1)); fail=1; echo "not ok $n - $*"; }

file=arch/x86/kvm/mmu/mmu_kunit_tables.h
# Print the content of $file as added by patch $1.
added_file() {
	awk -v f="$file" '
		/^diff --git / { inf = ($3 == "a/" f); body = 0; next }
		inf && /^@@/ { body = 1; next }
		inf && body && /^\+/ { print substr($0, 2) }
	' "$1"
}

if [ ! -x "$tool" ]; then
	echo "1..0 # SKIP $tool not built (make)"
	exit 0
fi
"$tool" --help >/dev/null && ok "kunit-table --help exits 0" || notok "kunit-table --help exits 0"
"$tool" --bogus >/dev/null 2>&1; rc=$?
[ $rc = 2 ] && ok "kunit-table rejects an unknown option with exit 2" ||
	notok "kunit-table rejects an unknown option with exit 2 (got $rc)"

"$tool" -o "$tmp/now.h" && [ -s "$tmp/now.h" ] && ok "kunit-table -o writes the tables" ||
	notok "kunit-table -o writes the tables"
# Each table has an entry per configuration: 16 legacy, 4 EPT, 4 NPT.
cases=$(grep -c '\.name = ' "$tmp/now.h")
[ "$cases" = 24 ] && ok "24 MMU configurations in the permission table" ||
	notok "24 MMU configurations in the permission table (got $cases)"

# The exit-qualification, nested-qualification and EPT-entry tables: 256
# qualifications; (3 final + 2 paging-structure accesses) x 16 EPT
# permissions x 2 MBEC; 16 EPT entries.
for t in "mmu_kunit_qual_cases 256" "mmu_kunit_nested_qual_cases 160" "mmu_kunit_gpte_cases 16"; do
	set -- $t
	rows=$(awk -v t="$1" '$0 ~ t"\\[\\] = \\{" {in_t = 1; next} in_t && /^};/ {in_t = 0} in_t && /^\t\{/ {n++} END {print n + 0}' "$tmp/now.h")
	[ "$rows" = "$2" ] && ok "$2 rows in $1" || notok "$2 rows in $1 (got $rows)"
done

patch=$(grep -l "^diff --git a/$file " kernel/patches/*.patch 2>/dev/null | head -1)
if [ -z "$patch" ]; then
	notok "a patch of the series adds $file"
else
	ok "$(basename "$patch") adds $file"
	added_file "$patch" > "$tmp/committed.h"
	if cmp -s "$tmp/committed.h" "$tmp/now.h"; then
		ok "the committed tables equal what the model gives now"
	else
		notok "the committed tables equal what the model gives now"
		diff "$tmp/committed.h" "$tmp/now.h" | head -20 | sed 's/^/#   /'
		echo "#   regenerate: $tool -o <tree>/$file, amend the patch, kernel/scripts/export.sh"
	fi
	# The same comparison on a copy with one fault bit flipped must fail.
	sed '0,/0x5555,/s//0x5557,/' "$tmp/committed.h" > "$tmp/mutated.h"
	if ! cmp -s "$tmp/mutated.h" "$tmp/committed.h" && ! cmp -s "$tmp/mutated.h" "$tmp/now.h"; then
		ok "a one-bit change of the committed table is detected"
	else
		notok "a one-bit change of the committed table is detected"
	fi
fi
echo "1..$n"
exit $fail
