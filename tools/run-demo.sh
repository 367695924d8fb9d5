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
else
	echo "(skipping '$bin check --workload': it needs root and /dev/kvm; run 'make run' as root)"
fi
