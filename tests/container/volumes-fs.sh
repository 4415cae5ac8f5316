#!/bin/sh
# -v DIR:/PATH natively, with --isolation container (a bind mount): the
# checks of the VM-mode tests/e2e/volumes-fs.sh, which this runs with
# ISO=container.
#   tests/container/volumes-fs.sh [BUILD_DIR]
# Needs root and the images in BUILD_DIR/test-images (tests/e2e/prepare.sh).
cd "$(dirname "$0")/../.." || exit 2
ISO=container exec sh tests/e2e/volumes-fs.sh "$@"
