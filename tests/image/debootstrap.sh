#!/bin/bash
# A real distribution through the importer: a minbase Debian root made by
# debootstrap, tarred, imported as `debian`, then inspect / runconf and (as
# root) the disk mounted and its bash run in a chroot.
#   tests/image/debootstrap.sh [BUILD_DIR]
# Environment: SUITE (default: the host's Debian codename, else bookworm),
#   MIRROR (default http://deb.debian.org/debian),
#   SANDBOX_IMAGE_DIR (the cache, as for sandbox image; `debian` stays in it).
# The root (minbase plus python3, which tests/e2e/pmem.sh and bench/pmem.sh
# run) is built once into ~/.cache/sandbox/debootstrap-SUITE (outside the
# clone) and reused; one without python3 (an older cache) is rebuilt;
# delete that directory to rebuild it. Skips (with a
# reason) when not root, without debootstrap, or when the mirror cannot be
# reached.
cd "$(dirname "$0")/../.." || exit 2
. tests/e2e/lib.sh
B=${1:-build}
SI=$(readlink -f "$B/sandbox-image")
SB=$(readlink -f "$B/sandbox")
# `sandbox image ...` (what users type), or the tool itself without a VMM.
IMG() { if [ -x "$SB" ]; then "$SB" image "$@"; else "$SI" "$@"; fi; }
SUITE=${SUITE:-$(. /etc/os-release 2>/dev/null; echo "${VERSION_CODENAME:-bookworm}")}
MIRROR=${MIRROR:-http://deb.debian.org/debian}
CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/sandbox
ROOTFS=$CACHE/debootstrap-$SUITE
TAR=$ROOTFS.tar

skip_all() { t_skip "debootstrap image" "$1"; t_summary; exit $?; }
[ "$(id -u)" = 0 ] || skip_all "not root (debootstrap needs root)"
[ -x "$SI" ] || skip_all "$B/sandbox-image not built"
command -v debootstrap >/dev/null || [ -d "$ROOTFS" ] || skip_all "debootstrap missing (packages.txt)"

W=$(mktemp -d "${TMPDIR:-/tmp}/sandbox-debootstrap.XXXXXX")
trap 'umount "$W/mnt" 2>/dev/null; rm -rf "$W"' EXIT
mkdir -p "$CACHE" "$W/mnt"

# ---- the root filesystem: built once, under a lock, moved into place ----
exec 9>"$ROOTFS.lock"
flock 9
if [ -d "$ROOTFS" ] && [ ! -e "$ROOTFS/usr/bin/python3" ]; then
	echo "# $ROOTFS has no python3: rebuilding it"
	rm -rf "$ROOTFS" "$TAR"
fi
if [ ! -d "$ROOTFS" ]; then
	reach() { # can we fetch the suite's Release file?
		if command -v curl >/dev/null; then curl -fsS -o /dev/null --max-time 20 "$1"
		elif command -v wget >/dev/null; then wget -q -O /dev/null -T 20 "$1"
		else python3 -c 'import sys,urllib.request; urllib.request.urlopen(sys.argv[1], timeout=20).read()' "$1"; fi
	}
	reach "$MIRROR/dists/$SUITE/Release" >"$W/reach.log" 2>&1 ||
		skip_all "mirror $MIRROR unreachable for $SUITE: $(tail -n1 "$W/reach.log")"
	echo "# debootstrap --variant=minbase --include=python3 $SUITE into $ROOTFS (once; a few minutes)"
	rm -rf "$ROOTFS.tmp" "$TAR"
	start=$(date +%s)
	if ! debootstrap --variant=minbase --include=python3 "$SUITE" "$ROOTFS.tmp" "$MIRROR" >"$W/debootstrap.log" 2>&1; then
		if grep -qiE "resolv|connect|download|Failed getting release" "$W/debootstrap.log"; then
			rm -rf "$ROOTFS.tmp"
			skip_all "debootstrap could not reach $MIRROR: $(grep -iE 'resolv|connect|download|release' "$W/debootstrap.log" | tail -n1)"
		fi
		t_fail "debootstrap $SUITE" "$(tail -n3 "$W/debootstrap.log")"
		rm -rf "$ROOTFS.tmp"; t_summary; exit $?
	fi
	# Nothing of the build host or the build time that a tar would carry.
	rm -rf "$ROOTFS.tmp"/var/cache/apt/archives/*.deb "$ROOTFS.tmp"/var/lib/apt/lists/* "$ROOTFS.tmp"/var/log/*
	mv "$ROOTFS.tmp" "$ROOTFS"
	t_pass "debootstrap --variant=minbase --include=python3 $SUITE ($(( $(date +%s) - start )) s)"
fi
if [ ! -f "$TAR" ] || [ "$ROOTFS" -nt "$TAR" ]; then
	tar --sort=name --numeric-owner --xattrs --xattrs-include='*' --format=pax \
		--pax-option=delete=atime,delete=ctime -C "$ROOTFS" -cf "$TAR.tmp" . && mv "$TAR.tmp" "$TAR" ||
		{ t_fail "tar the root filesystem"; t_summary; exit $?; }
fi
flock -u 9

# ---- import, inspect, runconf ----
start=$(date +%s%N)
t_run imp IMG import "$TAR" debian
t_expect imp "sandbox image import the debootstrap tar as debian ($(( ($(date +%s%N) - start) / 1000000 )) ms, $(( $(stat -c %s "$TAR") / 1048576 )) MB)" 0 "^debian sha256:"
t_run insp IMG inspect debian
t_expect insp "sandbox image inspect debian" 0 '"Source": "rootfs-tar"'
t_run rc "$SI" runconf debian
DISK=$(tr '\0' '\n' <"$T_OUT/rc.out" | sed -n 's/^disk=//p')
if [ "$(t_rc rc)" = 0 ] && [ -f "$DISK" ] && [ "$(tr '\0' '\n' <"$T_OUT/rc.out" | cut -d= -f1 | tr '\n' ' ')" = "disk fstype " ]; then
	t_pass "runconf debian: the disk ($(( $(stat -c %s "$DISK") / 1048576 )) MB) and its fstype"
else
	t_fail "runconf debian"; t_show rc
fi

# ---- the disk holds a working Debian ----
FST=$(tr '\0' '\n' <"$T_OUT/rc.out" | sed -n 's/^fstype=//p')
if [ -n "$DISK" ] && mount -t "$FST" -o loop,ro "$DISK" "$W/mnt" 2>"$W/mount.log"; then
	out=$(chroot "$W/mnt" /bin/bash -c 'cat /etc/os-release' 2>&1)
	echo "$out" | grep -q "^VERSION_CODENAME=$SUITE$" &&
		t_pass "bash -c 'cat /etc/os-release' in the disk (chroot): $SUITE" ||
		t_fail "bash -c 'cat /etc/os-release' in the disk (chroot)" "$out"
	out=$(chroot "$W/mnt" /usr/bin/dpkg-query -W -f '${Package}\n' 2>&1 | wc -l)
	[ "$out" -gt 50 ] && t_pass "dpkg sees the installed packages ($out)" || t_fail "dpkg sees the installed packages" "$out"
	umount "$W/mnt"
else
	t_skip "the disk's contents" "cannot loop-mount it: $(tail -n1 "$W/mount.log")"
fi

# ---- and in a sandbox: both isolations ----
if [ -x "$SB" ]; then
	t_run runc "$SB" run --rm --isolation container debian bash -c 'cat /etc/os-release'
	t_expect runc "sandbox run --isolation container debian bash -c 'cat /etc/os-release'" 0 "^VERSION_CODENAME=$SUITE$"
	CMD="$SB run --rm debian bash -c 'cat /etc/os-release'"
	if "$SB" kvm-check >/dev/null 2>&1; then
		t_run runvm sh -c "$CMD"
	elif [ -x tests/kvmhost/run ] && [ -e "$B/testhost-bzImage" ]; then
		# The test host gets the cache (the Debian disk) at the same path.
		IDIR=$(readlink -f "${SANDBOX_IMAGE_DIR:-}")
		if [ -n "$IDIR" ] && [ -d "$IDIR" ]; then
			t_run runvm env KVMHOST_EXTRA="$IDIR" KVMHOST_TIMEOUT=600 tests/kvmhost/run \
				env SANDBOX_IMAGE_DIR="$IDIR" sh -c "$CMD"
		else
			echo 1 >"$T_OUT/runvm.rc"; echo "SANDBOX_IMAGE_DIR not set: the test host needs the cache" >"$T_OUT/runvm.err"
		fi
	fi
	if [ -e "$T_OUT/runvm.rc" ]; then
		t_expect runvm "sandbox run debian bash -c 'cat /etc/os-release' (in a VM)" 0 "^VERSION_CODENAME=$SUITE$"
	else
		t_skip "sandbox run debian (in a VM)" "no KVM that boots Linux and no test host"
	fi
fi
t_summary
