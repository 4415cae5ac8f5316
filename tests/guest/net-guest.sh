#!/bin/sh
# virtio-net end to end, guest side (tests/e2e/net.sh boots it with
# sandbox.run=/tests/net-guest.sh). Parameters from the kernel command line:
#   sbnet.ip=A.B.C.D/N   address for eth0
#   sbnet.host=A.B.C.D   the host end to ping and to stream with
#   sbnet.mac=MAC        eth0 must have this MAC (optional)
#   sbnet.macpfx=XX:XX:XX  ... or at least this prefix (optional)
#   sbnet.xfer=BYTES     TCP stream both ways with `netxfer` (optional)
#   sbnet.port=PORT      its port (default 5001)
# Prints "net-guest: ..." lines; exits 0 only if every step passed.
ip= host= mac= macpfx= xfer= port=5001
for w in $(cat /proc/cmdline); do
	case $w in
	sbnet.ip=*) ip=${w#*=} ;;
	sbnet.host=*) host=${w#*=} ;;
	sbnet.mac=*) mac=${w#*=} ;;
	sbnet.macpfx=*) macpfx=${w#*=} ;;
	sbnet.xfer=*) xfer=${w#*=} ;;
	sbnet.port=*) port=${w#*=} ;;
	esac
done
fail() { echo "net-guest: FAIL: $*"; exit 1; }

[ -e /sys/class/net/eth0 ] || fail "no eth0 (interfaces: $(ls /sys/class/net | tr '\n' ' '))"
addr=$(cat /sys/class/net/eth0/address)
echo "net-guest: eth0 mac=$addr"
for d in /sys/bus/virtio/devices/*; do
	[ "$(cat "$d/device" 2>/dev/null)" = 0x0001 ] && echo "net-guest: features=$(cat "$d/features")"
done
[ -z "$mac" ] || [ "$addr" = "$mac" ] || fail "eth0 has MAC $addr, want $mac"
case $addr in "$macpfx"*) ;; *) fail "eth0 MAC $addr does not start with $macpfx" ;; esac

ip link set lo up
ip addr add "$ip" dev eth0 || fail "ip addr add $ip"
ip link set eth0 up || fail "ip link set eth0 up"
[ "$(cat /sys/class/net/eth0/carrier 2>/dev/null)" = 1 ] || fail "eth0 has no carrier"
echo "net-guest: eth0 up with $ip, link up"

ping -c 3 -w 30 "$host" >/tmp/ping.out 2>&1 || { cat /tmp/ping.out; fail "ping $host"; }
echo "net-guest: ping ok: $(grep -E 'packets transmitted' /tmp/ping.out)"

if [ -n "$xfer" ]; then
	# The host sends stream 1 and expects stream 2; we do the reverse.
	netxfer connect "$host" "$port" "$xfer" 2 "$xfer" 1 60 || fail "TCP stream with $host:$port"
fi
echo "net-guest: rx/tx $(cat /sys/class/net/eth0/statistics/rx_packets)/$(cat /sys/class/net/eth0/statistics/tx_packets) packets, $(cat /sys/class/net/eth0/statistics/rx_errors)/$(cat /sys/class/net/eth0/statistics/tx_errors) errors"
echo "net-guest: ok"
