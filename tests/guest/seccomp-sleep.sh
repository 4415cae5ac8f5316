#!/bin/sh
# Stay up a few seconds so the host side (tests/e2e/seccomp.sh) can look at
# the VMM's threads while the guest runs, then end with status 0.
echo "seccomp-sleep: up"
sleep 5
echo "seccomp-sleep: done"
exit 0
