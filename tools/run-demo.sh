#!/bin/sh
# `make run`: show mbecscope working on its own.
set -e
bin=${1:-build/mbecscope}
echo "\$ $bin decode exit-qual 0x1ab"
"$bin" decode exit-qual 0x1ab
