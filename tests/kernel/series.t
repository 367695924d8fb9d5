#!/bin/bash
# Quick check of the kernel series (kernel/): the whole series applies with
# `git am` to Debian's pristine linux-source-6.12 and arch/x86/kvm builds
# (KVM, KVM_INTEL, KVM_AMD built in, W=1, no warnings); then the CO-RE check
# of kernel/scripts/core-btf.sh on the BTF of the built MMU.  The per-patch
# form is `make kernel-check`.  SKIPs when the source tree cannot be had.
cd "$(dirname "$0")/../.." || exit 2
. kernel/scripts/lib.sh
if ! reason=$(ksrc_available 2>&1 >/dev/null); then
	echo "1..0 # SKIP ${reason:-linux-source-6.12 unavailable}"
	exit 0
fi
for tool in flex bison bc make gcc pahole bpftool; do
	# `make test` installs these (tools/deps.sh test kernel): a missing
	# one is a failure, never a skip.
	if ! command -v $tool >/dev/null; then
		echo "not ok 1 - $tool is missing: install it with tools/deps.sh kernel"
		echo "1..1"
		exit 1
	fi
done
tap=$(mktemp)
trap 'rm -f "$tap"' EXIT
KCHECK_NO_PLAN=1 kernel/scripts/check.sh --quick | tee "$tap"
rc=${PIPESTATUS[0]}
if [ "$rc" = 0 ]; then
	kernel/scripts/core-btf.sh "$(grep -cE '^(not )?ok ' "$tap")" | tee -a "$tap"
	rc=${PIPESTATUS[0]}
fi
echo "1..$(grep -cE '^(not )?ok ' "$tap")"
exit "$rc"
