#!/bin/sh
# Guest -> host over virtio-vsock (run by tests/e2e/vsock.sh): a program's
# stdout and stderr on two connections to host ports 1001 and 1002 (two
# distinct streams, written interleaved), then a send to a slow host reader
# on port 1003. Sizes come from the kernel command line (vsock.out=,
# vsock.err=, vsock.slow=).
arg() { tr ' ' '\n' </proc/cmdline | sed -n "s/^vsock\.$1=//p"; }
out=$(arg out) err=$(arg err) slow=$(arg slow)
vsock-guest exec 1001 1002 vsock-guest gen2 "${out:-1M}" 11 "${err:-1M}" 22 || exit 1
if [ -n "$slow" ]; then
	vsock-guest send 1003 "$slow" 33 || exit 2
fi
echo "vsock-g2h: done"
