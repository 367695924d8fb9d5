#!/bin/bash
# Quick check of the kernel series (kernel/): the whole series applies with
# `git am` to Debian's pristine linux-source-6.12 and arch/x86/kvm builds
# (KVM, KVM_INTEL, KVM_AMD built in, W=1, no warnings).  The per-patch form
# is `make kernel-check`.  SKIPs when the source tree cannot be had.
cd "$(dirname "$0")/../.." || exit 2
. kernel/scripts/lib.sh
if ! reason=$(ksrc_available 2>&1 >/dev/null); then
	echo "1..0 # SKIP ${reason:-linux-source-6.12 unavailable}"
	exit 0
fi
for tool in flex bison bc make gcc; do
	if ! command -v $tool >/dev/null; then
		echo "1..0 # SKIP $tool is missing (tools/deps.sh kernel)"
		exit 0
	fi
done
exec kernel/scripts/check.sh --quick
