#!/bin/sh
# Host -> guest over virtio-vsock (run by tests/e2e/vsock.sh): a connect to
# a host port nobody serves must fail with ECONNRESET; then a host-initiated
# connection (CONNECT 5000 through the VMM's socket) brings vsock.in= bytes
# while we send vsock.back= bytes back; then we connect to host port 1004
# and receive vsock.recv= bytes.
arg() { tr ' ' '\n' </proc/cmdline | sed -n "s/^vsock\.$1=//p"; }
in=$(arg in) back=$(arg back) recv=$(arg recv)
vsock-guest refused 1009 || exit 3
vsock-guest serve 5000 "${in:-1M}" 44 "${back:-1M}" 55 || exit 1
vsock-guest recv 1004 "${recv:-1M}" 66 || exit 2
echo "vsock-h2g: done"
