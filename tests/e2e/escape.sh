#!/bin/sh
# The escape attempts (tests/security/escape.sh) in VM isolation, as part
# of the end-to-end suites (tests/e2e/all.sh, in the test host when nested).
#   tests/e2e/escape.sh [BUILD_DIR]
cd "$(dirname "$0")/../.." || exit 2
ISO=vm exec sh tests/security/escape.sh "${1:-build}"
