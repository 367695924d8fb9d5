#!/bin/bash
# The examples of README.md and docs/*.8, run as written (those that need
# no root and no KVM, replays on the committed fixtures) and compared with
# the output they show: see tests/cli/examples.py.
cd "$(dirname "$0")/../.." || exit 2
: "${MBECSCOPE:=build/asan/mbecscope}"
bin=$(mktemp -d)
trap 'rm -rf "$bin"' EXIT
ln -s "$(cd "$(dirname "$MBECSCOPE")" && pwd)/$(basename "$MBECSCOPE")" "$bin/mbecscope"
ln -s mbecscope "$bin/mbectop"
python3 tests/cli/examples.py "$bin"
