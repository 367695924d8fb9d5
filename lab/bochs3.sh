#!/bin/bash
# Obtain Bochs 3.0 for the lab (MBEC on cpu model=tigerlake; Debian 12's
# Bochs 2.7 has none) from Debian's next release (trixie), and keep it under
#   $BUILD/lab/bochs3-<key>/
# Prints that directory on the last line of stdout.  In it: `bochs` (run
# it like bochs), BIOS-bochs-latest and vgabios.bin (Debian's bochsbios and
# vgabios of that release), and `env` (sourced by lab/bochs.sh: DEBUGGER=1
# when the binary starts at a debugger prompt, DISPLAY_LIB and PANIC for
# the bochsrc).
#
#   lab/bochs3.sh [--method src|deb] [--check]
#
#   --method deb  (default, or $BOCHS3_METHOD) Debian's own bochs 3.0
#                 binary package, in a minimal trixie root made by
#                 debootstrap (needs root and the debootstrap package), run
#                 through that root's dynamic loader, no chroot.  Its CET
#                 makes Bochs panic on the workload's WP=0 writes
#                 (lab/quirks.txt): it runs with panic "report".  6.5 min
#                 (15 min on a loaded host), 350 MB.
#   --method src  build Bochs from Debian's orig tarball with Debian 12's
#                 g++: only what the lab needs (x86-64, VMX 2, AVX/EVEX,
#                 PKU; no GUI, no plugins, no debugger) and no CET: with
#                 CET, Bochs stops the whole emulation (a panic) when a
#                 guest writes at CPL 0 with CR0.WP=0 to a read-only page,
#                 which the workload does (lab/quirks.txt).  25 min of
#                 two loaded cores, 5 MB (and 46 MB of apt lists).
#   --check       only say whether it is cached (exit 0) or not (exit 1)
#
# `apt-get source bochs` cannot be used: the archive serves the orig and
# debian tarballs of 3.0+dfsg-1 but not its .dsc, so apt fails.  The src
# method downloads them with apt (which verifies them against the signed
# Sources index) and checks them against that index again itself.  Only
# apt mirrors are reached, through a private apt state under
# $BUILD/lab/bochs3-apt/ (the host's apt sources are left alone).
# Exit 0 ready, 1 the build failed, 2 it cannot be had (with the reason).
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-build}
case "$BUILD" in /*) ;; *) BUILD=$TOP/$BUILD ;; esac
die() { echo "lab: $*" >&2; exit 2; }

SUITE=trixie
VERSION=3.0+dfsg-1
MIRROR=http://deb.debian.org/debian
CONFIGURE="--with-nogui --enable-cpu-level=6 --enable-x86-64 --enable-vmx=2 --enable-avx
	--enable-evex --disable-cet --enable-protection-keys --enable-all-optimizations
	--enable-repeat-speedups --disable-plugins --disable-debugger --disable-docbook"

method=${BOCHS3_METHOD:-deb} check=
while [ $# -gt 0 ]; do
	case "$1" in
	--method) method=${2:-}; shift 2 ;;
	--check) check=1; shift ;;
	-h|--help) sed -n '2,35p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
	*) die "bochs3.sh: unknown argument '$1' (see lab/bochs3.sh --help)" ;;
	esac
done
case "$method" in
src) key=$(echo "src $VERSION $CONFIGURE -O2" | sha256sum | cut -c1-12) ;;
deb) key=$(echo "deb $SUITE $VERSION" | sha256sum | cut -c1-12) ;;
*) die "--method is src or deb, not '$method'" ;;
esac
dest=$BUILD/lab/bochs3-$key
if [ -x "$dest/bochs" ] && [ -s "$dest/env" ]; then
	echo "$dest"
	exit 0
fi
[ -n "$check" ] && { echo "lab: Bochs $VERSION ($method) is not in $dest yet" >&2; exit 1; }

# apt with its own sources, lists and cache: SUITE only.
aptdir=$BUILD/lab/bochs3-apt
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
[ -f "$keyring" ] || die "$keyring is missing: apt-get install debian-archive-keyring"
mkdir -p "$aptdir/lists/partial" "$aptdir/cache/archives/partial" "$aptdir/dl" ||
	die "cannot make $aptdir"
cat > "$aptdir/sources.list" <<EOF
deb [signed-by=$keyring] $MIRROR $SUITE main
deb-src [signed-by=$keyring] $MIRROR $SUITE main
EOF
APT=(-o "Dir::Etc::SourceList=$aptdir/sources.list" -o Dir::Etc::SourceParts=/dev/null
	-o "Dir::State::Lists=$aptdir/lists" -o "Dir::Cache=$aptdir/cache"
	-o APT::Sandbox::User=root -q)
apt-get "${APT[@]}" update >"$aptdir/update.log" 2>&1 ||
	die "apt-get update of $SUITE failed (see $aptdir/update.log)"
# showsrc: the source stanza of that version (the binary package's
# stanza has no Checksums-Sha256 of the tarballs).
srcinfo=$(apt-cache "${APT[@]}" showsrc bochs 2>/dev/null |
	awk -v v="$VERSION" 'BEGIN { RS = "" } index($0, "\nVersion: " v "\n") { print; exit }')
[ -n "$srcinfo" ] ||
	die "$SUITE has no bochs $VERSION any more: set VERSION in lab/bochs3.sh to the one \`apt-cache showsrc bochs\` gives for $SUITE"

rm -rf "$dest.tmp" && mkdir -p "$dest.tmp" || die "cannot make $dest.tmp"
t0=$SECONDS

# The BIOS of that release (architecture-independent packages).
bios_from_debs() {
	(cd "$aptdir/dl" && apt-get "${APT[@]}" download "bochsbios=$VERSION" vgabios \
		>"$aptdir/download.log" 2>&1) || die "cannot download bochsbios and vgabios (see $aptdir/download.log)"
	local x=$dest.tmp/bios-x deb
	mkdir -p "$x"
	for deb in "$aptdir/dl/bochsbios_${VERSION/:/%3a}_all.deb" "$aptdir"/dl/vgabios_*_all.deb; do
		[ -f "$deb" ] || die "apt left no $deb"
		dpkg-deb -x "$deb" "$x" || die "cannot unpack $deb"
	done
	cp "$x/usr/share/bochs/BIOS-bochs-latest" "$x/usr/share/vgabios/vgabios.bin" "$dest.tmp/" ||
		die "bochsbios/vgabios lack BIOS-bochs-latest or vgabios.bin"
	rm -rf "$x"
}

case "$method" in
src)
	command -v g++ >/dev/null && command -v make >/dev/null || die "g++ is missing: apt-get install g++ make"
	src=$aptdir/src
	mkdir -p "$src"
	orig=bochs_${VERSION%-*}.orig.tar.xz
	if [ ! -f "$src/$orig" ]; then
		# Fails on the .dsc (404) after fetching the tarballs: judged below.
		(cd "$src" && apt-get "${APT[@]}" source --download-only "bochs=$VERSION" \
			>"$src/source.log" 2>&1)
	fi
	[ -f "$src/$orig" ] || die "apt-get source did not fetch $orig (see $src/source.log)"
	want=$(echo "$srcinfo" |
		awk -v f="$orig" '/^Checksums-Sha256:/ { on = 1; next } /^[^ ]/ { on = 0 }
			on && $3 == f { print $1; exit }')
	got=$(sha256sum < "$src/$orig" | cut -d' ' -f1)
	[ -n "$want" ] && [ "$want" = "$got" ] ||
		{ rm -f "$src/$orig"; die "$orig does not match $SUITE's Sources (sha256 $got, want ${want:-none}): removed, run again"; }
	work=$BUILD/lab/bochs3-build
	rm -rf "$work" && mkdir -p "$work" && tar -C "$work" -xf "$src/$orig" ||
		die "cannot unpack $orig"
	set -- "$work"/bochs-*/configure
	[ -f "$1" ] || die "$orig holds no bochs-*/configure"
	tree=$(dirname "$1")
	log=$BUILD/lab/bochs3-build.log
	echo "# lab: building Bochs $VERSION (log: $log)" >&2
	# shellcheck disable=SC2086
	if ! (cd "$tree" && CFLAGS=-O2 CXXFLAGS=-O2 nice -n 10 ./configure $CONFIGURE &&
		nice -n 10 make -j2) >"$log" 2>&1; then
		echo "lab: Bochs $VERSION does not build; last lines of $log:" >&2
		tail -5 "$log" >&2
		exit 1
	fi
	cp "$tree/bochs" "$dest.tmp/bochs" || die "the build left no bochs binary"
	rm -rf "$work"
	bios_from_debs
	printf 'DEBUGGER=0\nDISPLAY_LIB=nogui\n' > "$dest.tmp/env"
	;;
deb)
	[ "$(id -u)" = 0 ] || die "--method deb needs root (debootstrap)"
	command -v debootstrap >/dev/null || die "debootstrap is missing: apt-get install debootstrap"
	root=$dest.tmp/root
	log=$BUILD/lab/bochs3-debootstrap.log
	echo "# lab: debootstrap $SUITE and Debian's bochs $VERSION (log: $log)" >&2
	nice -n 10 debootstrap --variant=minbase "$SUITE" "$root" "$MIRROR" >"$log" 2>&1 ||
		{ tail -5 "$log" >&2; die "debootstrap $SUITE failed (see $log)"; }
	# bochs-term stands for the bochs-gui it wants (otherwise apt takes
	# bochs-wx and all of wxWidgets); the lab uses the built-in rfb.
	chroot "$root" apt-get install -y -q --no-install-recommends "bochs=$VERSION" \
		"bochs-term=$VERSION" "bochsbios=$VERSION" vgabios >>"$log" 2>&1 ||
		{ tail -5 "$log" >&2; die "apt-get install bochs=$VERSION in the $SUITE root failed (see $log)"; }
	chroot "$root" apt-get clean
	for f in usr/bin/bochs-bin lib64/ld-linux-x86-64.so.2 usr/share/bochs/BIOS-bochs-latest \
		 usr/share/vgabios/vgabios.bin; do
		[ -e "$root/$f" ] || die "the $SUITE root has no /$f"
	done
	ln -s root/usr/share/bochs/BIOS-bochs-latest "$dest.tmp/BIOS-bochs-latest"
	ln -s root/usr/share/vgabios/vgabios.bin "$dest.tmp/vgabios.bin"
	cat > "$dest.tmp/bochs" <<'EOF'
#!/bin/sh
# Debian's bochs-bin from the root next to this file, with that root's
# loader and libraries (the host's glibc is older than it needs).
r=$(cd "$(dirname "$0")" && pwd)/root
lib=$r/usr/lib/x86_64-linux-gnu
LTDL_LIBRARY_PATH=$lib/bochs/plugins exec "$r/lib64/ld-linux-x86-64.so.2" \
	--library-path "$lib:$r/lib/x86_64-linux-gnu" "$r/usr/bin/bochs-bin" "$@"
EOF
	chmod +x "$dest.tmp/bochs"
	# Its tigerlake has CET, and Bochs with CET panics on a CPL-0 write
	# with CR0.WP=0 to a read-only page (lab/quirks.txt): "report" goes
	# on and sets the dirty bit as a CPU without CET does.  The CPU's
	# logger exists before the bochsrc is read: it needs its own setting.
	printf "DEBUGGER=1\nDISPLAY_LIB=rfb\nPANIC='report, cpu0=report'\n" > "$dest.tmp/env"
	;;
esac
"$dest.tmp/bochs" --help 2>&1 | grep -q '^Usage: bochs' ||
	die "the $method Bochs in $dest.tmp does not run: $("$dest.tmp/bochs" --help 2>&1 | head -1)"
echo "bochs $VERSION ($method) ready in $((SECONDS - t0))s" > "$dest.tmp/info"
rm -rf "$dest" && mv "$dest.tmp" "$dest" || die "cannot store Bochs in $dest"
echo "# lab: $(cat "$dest/info")" >&2
echo "$dest"
