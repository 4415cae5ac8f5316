#!/bin/sh
# Guest side of tests/e2e/jail.sh: a guest-initiated vsock connection to
# host port 1001 (the jailed VMM connects to UDS_1001 on the host through
# its jail), then a few seconds up so the host can look at the VMM, then
# exit with status 3 (the VMM must pass it on).
echo "jail-guest: up"
vsock-guest send 1001 64K 5 || exit 1
echo "jail-guest: sent"
sleep 5
echo "jail-guest: done"
exit 3
