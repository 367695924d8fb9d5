#!/bin/bash
# The built-in guest dies with its parent, whatever kills the parent: for
# check, record and top with --workload, kill -9 the command while the
# guest runs and wait (with a deadline) for the guest's process to be gone.
set -u
M=${MBECSCOPE:-build/asan/mbecscope}
tmp=$(mktemp -d)
bg= guest=
cleanup() {
	[ -n "$bg" ] && kill -9 "$bg" 2>/dev/null
	[ -n "$guest" ] && kill -9 "$guest" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
nok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $1"; shift; for l in "$@"; do echo "# $l"; done; }
skip() { n=$((n + 1)); echo "ok $n - $1 # SKIP $2"; }

why=
[ "$(id -u)" = 0 ] || why="needs root"
[ -z "$why" ] && [ ! -w /dev/kvm ] && why="no /dev/kvm"

# alive PID: the process exists and is not a zombie
alive() {
	local st
	st=$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null) || return 1
	[ -n "$st" ] && [ "$st" != Z ] && [ "$st" != X ]
}
# kvm_child PID: the pid of a child of PID holding a KVM VM (the running guest)
kvm_child() {
	local c
	for c in $(cat /proc/"$1"/task/*/children 2>/dev/null); do
		ls -l /proc/"$c"/fd 2>/dev/null | grep -q "kvm-vm" && { echo "$c"; return 0; }
	done
	return 1
}

one() {
	local name=$1; shift
	if [ -n "$why" ]; then
		skip "$name: the guest dies with its parent" "$why"
		return
	fi
	"$M" "$@" >"$tmp/out" 2>"$tmp/err" &
	bg=$! guest=
	local end=$((SECONDS + 60))
	while [ $SECONDS -lt $end ] && alive "$bg"; do
		guest=$(kvm_child "$bg") && break
		sleep 0.1
	done
	if [ -z "$guest" ]; then
		nok "$name: the guest never ran" "$(head -c 300 "$tmp/err")"
		kill -9 "$bg" 2>/dev/null; wait "$bg" 2>/dev/null; bg=
		return
	fi
	kill -9 "$bg"
	wait "$bg" 2>/dev/null
	bg=
	end=$((SECONDS + 15))
	while [ $SECONDS -lt $end ] && alive "$guest"; do
		sleep 0.1
	done
	if alive "$guest"; then
		nok "$name: guest $guest still runs 15 s after kill -9 of its parent" \
			"$(cat /proc/"$guest"/status 2>/dev/null | grep -E '^(State|PPid)')"
		kill -9 "$guest" 2>/dev/null
	else
		ok "$name: kill -9 of the parent ends the guest $guest"
	fi
	guest=
}

one "check --workload" check --workload --duration 120
one "record --workload" record --workload --duration 120 -o "$tmp/rec.mbr"
one "top --workload" top -b -d 1 --workload

echo "1..$n"
[ $failed -eq 0 ]
