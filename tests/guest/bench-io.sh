#!/bin/sh
# Guest side of the device throughput benchmark (bench/io.sh, bench/io-inner.sh):
# the same script under our VMM and under QEMU microvm. Parameters from the
# kernel command line:
#   bio.blk=BYTES     sequential O_DIRECT read, then write (+ flush), of the
#                     first BYTES of /dev/vda (0 or absent: no disk test)
#   bio.bs=BYTES      block size of each read/write (default 1 MiB)
#   bio.net=BYTES     TCP stream guest -> host, then host -> guest, with the
#                     host end (benchio tcp-host) (0 or absent: no net test)
#   bio.ip=A.B.C.D/N  eth0's address; bio.host=A.B.C.D the host end; bio.port=P
#   bio.passes=N      each operation N times (default 1)
# Prints "bench-io: KEY=VALUE" and "benchio: ..." lines on the console (and,
# between operations, "bench-io: irqs ..." / "bench-io: tcpstat ..." with the
# virtio interrupt and TCP segment counts so far); exits 0 only if every
# measurement moved all its bytes.
blk=0 bs=1048576 net=0 ip= host= port=5201 passes=1
for w in $(cat /proc/cmdline); do
	case $w in
	bio.blk=*) blk=${w#*=} ;;
	bio.bs=*) bs=${w#*=} ;;
	bio.net=*) net=${w#*=} ;;
	bio.ip=*) ip=${w#*=} ;;
	bio.host=*) host=${w#*=} ;;
	bio.port=*) port=${w#*=} ;;
	bio.passes=*) passes=${w#*=} ;;
	esac
done
rc=0
# irqs PHASE: the guest's interrupt counts of each virtio device so far.
# Also the guest's TCP segment counters (retransmissions show up there).
irqs() {
	echo "bench-io: irqs $1 $(awk '/virtio/ { n = 0; for (i = 2; i <= NF && $i ~ /^[0-9]+$/; i++) n += $i; printf "%s=%d ", $NF, n }' /proc/interrupts)"
	echo "bench-io: tcpstat $1 $(awk '$1 == "Tcp:" { if (!h) { for (i = 2; i <= NF; i++) k[i] = $i; h = 1; next }
		for (i = 2; i <= NF; i++) if (k[i] ~ /^(InSegs|OutSegs|RetransSegs)$/) printf "%s=%s ", k[i], $i }' /proc/net/snmp)"
}
fail() { echo "bench-io: FAIL: $*"; rc=1; }

echo "bench-io: clocksource=$(cat /sys/devices/system/clocksource/clocksource0/current_clocksource 2>/dev/null)"
echo "bench-io: kernel=$(uname -r) cpus=$(nproc)"
# Every virtio device: type (1 net, 2 blk) and the features the driver took.
for d in /sys/bus/virtio/devices/*; do
	[ -e "$d/device" ] || continue
	echo "bench-io: virtio dev=$(cat "$d/device") features=$(cat "$d/features")"
done

if [ "$blk" != 0 ]; then
	if [ -b /dev/vda ]; then
		echo "bench-io: vda sectors=$(cat /sys/block/vda/size) max_sectors_kb=$(cat /sys/block/vda/queue/max_sectors_kb) max_segments=$(cat /sys/block/vda/queue/max_segments) nr_requests=$(cat /sys/block/vda/queue/nr_requests) scheduler=$(cat /sys/block/vda/queue/scheduler)"
		i=0
		while [ $i -lt "$passes" ]; do
			i=$((i + 1))
			irqs "blk-read.$i.start"
			benchio blk-read /dev/vda "$blk" "$bs" || fail "blk-read"
			irqs "blk-write.$i.start"
			benchio blk-write /dev/vda "$blk" "$bs" || fail "blk-write"
		done
		irqs blk.end
	else
		fail "no /dev/vda (block devices: $(ls /sys/block | tr '\n' ' '))"
	fi
fi

if [ "$net" != 0 ]; then
	if [ -e /sys/class/net/eth0 ]; then
		ip link set lo up
		ip addr add "$ip" dev eth0 && ip link set eth0 up || fail "eth0 setup"
		echo "bench-io: eth0 mac=$(cat /sys/class/net/eth0/address) mtu=$(cat /sys/class/net/eth0/mtu)"
		i=0
		while [ $i -lt "$passes" ]; do
			i=$((i + 1))
			irqs "g2h.$i.start"
			benchio tcp-send "$host" "$port" "$net" 60 || fail "tcp-send"
			irqs "h2g.$i.start"
			benchio tcp-recv "$host" "$port" 60 || fail "tcp-recv"
		done
		irqs net.end
		echo "bench-io: eth0 rx/tx packets $(cat /sys/class/net/eth0/statistics/rx_packets)/$(cat /sys/class/net/eth0/statistics/tx_packets) dropped $(cat /sys/class/net/eth0/statistics/rx_dropped)/$(cat /sys/class/net/eth0/statistics/tx_dropped)"
	else
		fail "no eth0 (interfaces: $(ls /sys/class/net | tr '\n' ' '))"
	fi
fi
echo "bench-io: done rc=$rc"
exit $rc
