#!/bin/sh
# The sandbox lifecycle commands (ps, kill, stop, logs, rm, inspect, check)
# natively, with --isolation container: the same checks as the VM-mode
# tests/e2e/lifecycle.sh, which this runs with ISO=container.
#   tests/container/lifecycle.sh [BUILD_DIR]
# Needs root and the images in BUILD_DIR/test-images (tests/e2e/prepare.sh).
cd "$(dirname "$0")/../.." || exit 2
ISO=container exec sh tests/e2e/lifecycle.sh "$@"
