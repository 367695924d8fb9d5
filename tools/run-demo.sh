#!/bin/sh
# `make run`: show mbecscope working on its own: decode a value, then run
# the built-in guest for a few seconds while `check` watches KVM map it.
set -e
bin=${1:-build/mbecscope}
echo "\$ $bin decode exit-qual 0x1ab"
"$bin" decode exit-qual 0x1ab
echo
if [ "$(id -u)" = 0 ] && [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
	echo "\$ $bin check --workload --duration 3"
	# Exit status 1 means anomalies: show the summary and pass the status on.
	"$bin" check --workload --duration 3
elif [ "$(id -u)" != 0 ]; then
	echo "(skipping '$bin check --workload': it needs root; run 'make run' as root)"
else
	# No KVM here (not loaded, or a host whose KVM does not bind): show
	# the same checks on what the lab recorded inside a real NPT host.
	rec=tests/golden/fixtures/lab-qemu-npt-6.1.mbr
	echo "(no usable /dev/kvm on this machine, so no live check: load kvm_intel or"
	echo " kvm_amd for one; here is the same check replaying a recording that"
	echo " 'make lab' made in Debian 6.1's KVM on NPT)"
	echo "\$ $bin replay $rec"
	"$bin" replay "$rec"
fi
