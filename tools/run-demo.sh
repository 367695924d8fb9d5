#!/bin/sh
# `make run`: show mbecscope working on its own.
set -e
bin=${1:-build/mbecscope}
echo "\$ $bin decode exit-qual 0x1ab"
"$bin" decode exit-qual 0x1ab
if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
	echo "\$ $bin workload"
	"$bin" workload
else
	echo "(skipping '$bin workload': no read/write access to /dev/kvm; run as root)"
fi
