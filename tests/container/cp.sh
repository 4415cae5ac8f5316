#!/bin/sh
# sandbox cp natively, with --isolation container: the checks of the
# VM-mode tests/e2e/cp.sh, which this runs with ISO=container.
#   tests/container/cp.sh [BUILD_DIR]
# Needs root and the images in BUILD_DIR/test-images (tests/e2e/prepare.sh).
cd "$(dirname "$0")/../.." || exit 2
ISO=container exec sh tests/e2e/cp.sh "$@"
