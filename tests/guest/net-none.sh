#!/bin/sh
# virtio-net end to end, guest side: a VM started without --net has no
# network device at all, only lo.
ifs=$(ls /sys/class/net | tr '\n' ' ')
echo "net-none: interfaces: $ifs"
[ "$ifs" = "lo " ] || { echo "net-none: FAIL: want only lo"; exit 1; }
for d in /sys/bus/virtio/devices/*; do
	[ "$(cat "$d/device" 2>/dev/null)" = 0x0001 ] && { echo "net-none: FAIL: a virtio-net device at $d"; exit 1; }
done
echo "net-none: ok"
