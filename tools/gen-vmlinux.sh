#!/bin/sh
# Regenerate vmlinux.h (committed) from a kernel's BTF.  CO-RE relocations
# make the programs independent of the kernel they were built against; this
# header only has to name the types and fields they touch.
#   usage: tools/gen-vmlinux.sh [BTF_FILE] > vmlinux.h
set -e
btf=${1:-/sys/kernel/btf/vmlinux}
[ -r "$btf" ] || { echo "gen-vmlinux: cannot read $btf (kernel built without CONFIG_DEBUG_INFO_BTF?)" >&2; exit 2; }
bpftool btf dump file "$btf" format c
