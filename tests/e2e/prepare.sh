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
