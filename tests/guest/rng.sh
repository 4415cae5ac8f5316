#!/bin/sh
# Guest side of the virtio-rng check in tests/e2e/boot.sh (the host gives
# --rng rate=16K,burst=4K): /dev/hwrng is the virtio device, reads give
# random bytes, and 36 KiB take the time the rate says (>= 2 s; >= 1 s
# is checked, the clock here counts whole seconds).
fail() { echo "rng: FAIL $*"; exit 1; }
[ -c /dev/hwrng ] || fail "no /dev/hwrng"
cur=$(cat /sys/class/misc/hw_random/rng_current 2>/dev/null)
case "$cur" in virtio_rng*) ;; *) fail "the current hwrng is '$cur', not virtio_rng" ;; esac
hex=$(dd if=/dev/hwrng bs=16 count=1 2>/dev/null | od -An -tx1 | tr -d ' \n')
echo "rng: 16 bytes from /dev/hwrng: $hex"
[ ${#hex} = 32 ] || fail "read ${#hex} hex digits, want 32"
[ "$hex" != 00000000000000000000000000000000 ] || fail "all zero"
again=$(dd if=/dev/hwrng bs=16 count=1 2>/dev/null | od -An -tx1 | tr -d ' \n')
[ "$again" != "$hex" ] || fail "the same 16 bytes twice"
t0=$(date +%s)
n=$(head -c 36864 /dev/hwrng | wc -c)
t1=$(date +%s)
echo "rng: 36864 bytes wanted, $n read in $((t1 - t0)) s"
[ "$n" = 36864 ] || fail "short read"
[ $((t1 - t0)) -ge 1 ] || fail "faster than rate=16K allows"
echo "rng: ok"
exit 0
