#!/bin/bash
# The Debian package: `make deb` builds it (dpkg-buildpackage -b, lintian
# without errors), dpkg installs it on this host, the binary, the mbectop
# link, the man pages and the bash completion work, the unit is installed
# but not enabled, watch.conf is a conffile, and a purge leaves nothing
# behind.  The leftover check is shown to catch a stray file.
set -u
BUILD=${BUILD:-build}
top=$(cd "$(dirname "$0")/../.." && pwd)
cd "$top" || exit 2
n=0 fails=0
ok() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n - $2"; else fails=$((fails + 1)); echo "not ok $n - $2"; fi; }

if [ "$(id -u)" != 0 ]; then
	echo "1..0 # SKIP installing a package needs root"
	exit 0
fi
if dpkg-query -W -f='${db:Status-Status}' mbecscope 2>/dev/null | grep -q .; then
	echo "1..0 # SKIP a mbecscope package is already on this host: not touching it"
	exit 0
fi
tmp=$(mktemp -d)
installed=0
cleanup() {
	[ $installed = 1 ] && { rm -f /etc/mbecscope/stray.conf; dpkg --purge mbecscope >/dev/null 2>&1; }
	rm -rf "$tmp"
}
trap cleanup EXIT

make -s deb BUILD="$BUILD" >"$tmp/make.out" 2>&1
rc=$?
deb=$(ls "$BUILD"/deb/mbecscope_*_amd64.deb 2>/dev/null | head -1)
ok $([ $rc -eq 0 ] && [ -n "$deb" ]; echo $?) "make deb: $(basename "${deb:-none}"), lintian without errors"
[ $rc -eq 0 ] || { tail -n 20 "$tmp/make.out" | sed 's/^/# /'; echo "1..$n"; exit 1; }

# Every path the package ships, to check after the purge.
dpkg -c "$deb" | awk '{print $6}' | sed 's|^\./|/|; s|/$||' | grep -v '^$' >"$tmp/paths"
# Directories that exist before belong to someone else.
while read -r p; do [ -e "$p" ] || [ -L "$p" ] || echo "$p"; done <"$tmp/paths" >"$tmp/ours"

leftovers() {	# what the package left behind after a purge
	while read -r p; do [ -e "$p" ] || [ -L "$p" ] && echo "$p"; done <"$tmp/ours"
	ls /var/lib/dpkg/info/mbecscope.* 2>/dev/null
	find /etc/systemd /var/lib/systemd -name '*mbecscope*' 2>/dev/null
}

dpkg -i "$deb" >"$tmp/i.out" 2>&1
rc=$?
installed=1
ok $rc "dpkg -i $(basename "$deb")"
[ $rc -eq 0 ] || sed 's/^/# /' "$tmp/i.out"

v=$(/usr/sbin/mbecscope --version | head -1)
ok $([ "$v" = "mbecscope $(sed -n 's/^#define MBEC_VERSION[[:space:]]*"\(.*\)"/\1/p' include/mbec_version.h)" ]; echo $?) \
	"mbecscope --version: $v"
ok $([ "$(readlink /usr/sbin/mbectop)" = mbecscope ] && /usr/sbin/mbectop --help >/dev/null 2>&1; echo $?) \
	"/usr/sbin/mbectop is the link to mbecscope"
m=$(man -w mbecscope 2>&1) t=$(man -w mbectop 2>&1)
ok $([ "$m" = /usr/share/man/man8/mbecscope.8.gz ] && [ "$t" = /usr/share/man/man8/mbectop.8.gz ]; echo $?) \
	"man -w: $m $t"

comp() {	# WORDS...: what the installed completion offers for the last word
	bash -c '. /usr/share/bash-completion/completions/mbecscope
		COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _mbecscope; echo "${COMPREPLY[*]}"' _ "$@"
}
ok $([ "$(comp mbecscope watch --jou)" = --journal ] && [ "$(comp mbecscope wat)" = watch ] &&
	[ "$(comp mbectop --sor)" = --sort ]; echo $?) \
	"completion: watch --jou -> --journal, wat -> watch, mbectop --sor -> --sort"
bad=""
for c in $(/usr/sbin/mbecscope --list-commands); do
	want=$(/usr/sbin/mbecscope "$c" --list-options | sed 's/=$//' | sort | tr '\n' ' ')
	got=$(comp mbecscope "$c" - | tr ' ' '\n' | sort | tr '\n' ' ')
	[ "$got" = "$want" ] || bad="$bad $c"
done
ok $([ -z "$bad" ] && [ -L /usr/share/bash-completion/completions/mbectop ]; echo $?) \
	"completion offers every option of every command's table${bad:+ (differs:$bad)}"

ok $([ -f /lib/systemd/system/mbecscope-watch.service ] &&
	grep -q '^ExecStart=/usr/sbin/mbecscope watch' /lib/systemd/system/mbecscope-watch.service &&
	[ ! -e /etc/systemd/system/multi-user.target.wants/mbecscope-watch.service ]; echo $?) \
	"the unit is installed with /usr/sbin/mbecscope and not enabled"
cf=$(dpkg-query -W -f='${Conffiles}' mbecscope | awk '{print $1}' | tr '\n' ' ')
ok $([ "$cf" = "/etc/mbecscope/watch.conf " ] &&
	/usr/sbin/mbecscope watch --config /etc/mbecscope/watch.conf --check-config >/dev/null; echo $?) \
	"/etc/mbecscope/watch.conf is a conffile and a valid configuration"

dpkg --purge mbecscope >"$tmp/p.out" 2>&1
rc=$?
installed=0
left=$(leftovers)
ok $([ $rc -eq 0 ] && [ -z "$left" ]; echo $?) "dpkg --purge leaves nothing behind${left:+: $left}"

# The leftover check catches a file the package did not own.
dpkg -i "$deb" >/dev/null 2>&1 && installed=1
echo "# local" >/etc/mbecscope/stray.conf
dpkg --purge mbecscope >/dev/null 2>&1
installed=0
left=$(leftovers)
ok $([ "$left" = /etc/mbecscope ]; echo $?) "a stray /etc/mbecscope/stray.conf is caught as left behind ($left)"
rm -rf /etc/mbecscope

echo "1..$n"
[ $fails -eq 0 ]
