#!/bin/sh
# Import the built-in images (busybox, testimg) into BUILD_DIR/test-images,
# on this host, before the end-to-end tests: the nested test host has no
# mkfs.erofs, and every run there then finds them cached.
#   tests/e2e/prepare.sh [BUILD_DIR]
cd "$(dirname "$0")/../.." || exit 2
B=${1:-build}
export SANDBOX_IMAGE_DIR=$PWD/$B/test-images
for i in busybox testimg; do
	"$B/sandbox-image" runconf "$i" >/dev/null || { echo "prepare: cannot import $i" >&2; exit 1; }
done
# etclink: testimg with /etc an absolute symlink to /run/root/outside-etc
# (PID 1's own path to the container's /outside-etc): escape.sh checks that
# the guest agent writes no hosts/resolv.conf through it.
if ! "$B/sandbox-image" inspect etclink >/dev/null 2>&1; then
	d=$(mktemp -d "${TMPDIR:-/tmp}/sandbox-etclink.XXXXXX") || exit 1
	disk=$("$B/sandbox-image" runconf testimg | tr '\0' '\n' | sed -n 's/^disk=//p')
	if fsck.erofs --extract="$d/root" "$disk" >/dev/null 2>&1; then
		rm -rf "$d/root/etc" && mkdir "$d/root/outside-etc" && ln -s /run/root/outside-etc "$d/root/etc" &&
			"$B/sandbox-image" import --format rootfs-dir "$d/root" etclink >/dev/null ||
			echo "prepare: cannot import etclink" >&2
	else
		echo "prepare: no etclink image (fsck.erofs --extract failed)" >&2
	fi
	rm -rf "$d"
fi
