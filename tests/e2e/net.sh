#!/bin/sh
# End-to-end virtio-net tests: the guest (test initramfs, tests/guest/net-*.sh)
# configures eth0 on a tap the VMM creates, pings the host end and streams
# TCP both ways (netxfer, checked byte for byte) with a peer on the host.
# Network rule: every VMM with --net runs in a network namespace this test
# creates (unshare -n), so taps, bridges and 10.0.x.x addresses exist only
# there and vanish with it. Run where /dev/kvm can boot Linux:
#   tests/kvmhost/run tests/e2e/net.sh [BUILD_DIR]
# SANDBOX_NET_BYTES sets the stream size each way (default 4 MiB).
cd "$(dirname "$0")/../.." || exit 2
if [ "${1:-}" = --in-netns ]; then B=${4:-build}; else B=${1:-build}; fi
SB=$B/sandbox
K=build/guest-vmlinux
I=build/test-initramfs.cpio
X=build/guest-tools/netxfer
[ -e "$B/guest-vmlinux" ] && K=$B/guest-vmlinux
[ -e "$B/test-initramfs.cpio" ] && I=$B/test-initramfs.cpio
[ -e "$B/guest-tools/netxfer" ] && X=$B/guest-tools/netxfer
BYTES=${SANDBOX_NET_BYTES:-4194304}
TMO=${SANDBOX_NET_TIMEOUT:-300}

# ---- scenarios, each run as: unshare -n sh net.sh --in-netns NAME OUTDIR BUILD ----

# Wait up to 20 s for the host-side netxfer to print its summary, then reap it.
reap_peer() {
	i=0
	while [ $i -lt 200 ] && ! grep -q '^netxfer: ' "$out/host.out" 2>/dev/null; do sleep 0.1; i=$((i + 1)); done
	kill "$xpid" 2>/dev/null
	wait "$xpid"
	echo $? >"$out/host.rc"
}

# The VMM gives its tap 10.0.2.1/24; the guest is 10.0.2.15 with a fixed MAC.
scenario_tap() {
	out=$1
	ip link set lo up
	"$X" listen 5001 "$BYTES" 1 "$BYTES" 2 "$TMO" >"$out/host.out" 2>&1 &
	xpid=$!
	"$SB" vm --kernel "$K" --initrd "$I" --console --timeout "$TMO" \
		--net tap=sbtap0,host-ip=10.0.2.1/24,mac=02:00:0a:00:02:0f \
		--append "sandbox.run=/tests/net-guest.sh sbnet.ip=10.0.2.15/24 sbnet.host=10.0.2.1 sbnet.mac=02:00:0a:00:02:0f sbnet.xfer=$BYTES sbnet.port=5001" \
		>"$out/vm.out" 2>"$out/vm.err"
	echo $? >"$out/vm.rc"
	reap_peer
	# The tap the VMM created went away with it. (ip, not /sys/class/net:
	# sysfs still shows the namespace it was mounted in.)
	if ip link show sbtap0 >/dev/null 2>&1; then echo yes; else echo no; fi >"$out/tap_left"
}

# The tap (made beforehand, persistent) is a port of a bridge that has the
# host address; the device offers no offloads and no mergeable buffers (the
# other RX path); default MAC.
scenario_bridge() {
	out=$1
	ip link set lo up
	ip link add sbbr0 type bridge 2>/dev/null || brctl addbr sbbr0 || return 1
	ip addr add 10.0.3.1/24 dev sbbr0 && ip link set sbbr0 up || return 1
	# The tap exists already (persistent, down, no vnet header): the VMM
	# attaches to it instead of creating one.
	if tunctl -t sbtap1 >/dev/null 2>&1; then echo yes; else echo no; fi >"$out/precreated"
	small=$((BYTES / 4))
	"$X" listen 5002 "$small" 1 "$small" 2 "$TMO" >"$out/host.out" 2>&1 &
	xpid=$!
	"$SB" vm --kernel "$K" --initrd "$I" --console --timeout "$TMO" \
		--net tap=sbtap1,bridge=sbbr0,offload=off,mrg_rxbuf=off \
		--append "sandbox.run=/tests/net-guest.sh sbnet.ip=10.0.3.15/24 sbnet.host=10.0.3.1 sbnet.macpfx=02:53:42 sbnet.xfer=$small sbnet.port=5002" \
		>"$out/vm.out" 2>"$out/vm.err" &
	vpid=$!
	# While it runs: the tap is a port of the bridge.
	i=0
	while [ $i -lt 600 ] && ! ip link show sbtap1 2>/dev/null | grep -q ' master '; do sleep 0.1; i=$((i + 1)); done
	ip link show sbtap1 2>/dev/null | sed -n 's/.* master \([^ ]*\).*/\1/p' >"$out/master"
	wait "$vpid"
	echo $? >"$out/vm.rc"
	reap_peer
	if ip link show sbtap1 >/dev/null 2>&1; then echo yes; else echo no; fi >"$out/tap_left"
}

if [ "${1:-}" = --in-netns ]; then
	out=$3
	"scenario_$2" "$3"
	exit $?
fi

# ---- the tests ----
. tests/e2e/lib.sh

show_dir() { # show_dir DIR: the files a scenario left
	for f in "$1"/*; do
		echo "    --- $(basename "$f") (tail)"
		tail -n 12 "$f" | sed 's/^/    /'
	done
}

# run_scenario NAME: run it in a fresh network namespace; files in $T_OUT/NAME
run_scenario() {
	mkdir -p "$T_OUT/$1"
	unshare -n sh tests/e2e/net.sh --in-netns "$1" "$T_OUT/$1" "$B" >"$T_OUT/$1/scenario.log" 2>&1
}

if [ "$(id -u)" != 0 ] || [ ! -c /dev/net/tun ] || ! unshare -n true 2>/dev/null; then
	t_skip "virtio-net end to end" "needs root, /dev/net/tun and network namespaces (unshare -n)"
	t_summary
	exit $?
fi
if [ ! -x "$X" ]; then
	t_fail "virtio-net end to end: $X missing (make all builds it)"
	t_summary
	exit $?
fi

# 1. No --net: no network device in the guest.
t_run none "$SB" vm --kernel "$K" --initrd "$I" --console --timeout 120 --append "sandbox.run=/tests/net-none.sh"
t_expect none "no --net: the guest has no eth0, only lo" 0 "net-none: ok"

# 2. Tap with a host address: ping and a TCP stream both ways.
run_scenario tap
d=$T_OUT/tap
kib=$((BYTES / 1024))
if [ "$(cat "$d/vm.rc" 2>/dev/null)" = 0 ] && grep -q "net-guest: ok" "$d/vm.out"; then
	t_pass "tap + host-ip: guest eth0 up, pings 10.0.2.1, streams $kib KiB each way"
else
	t_fail "tap + host-ip: guest eth0 up, pings 10.0.2.1, streams $kib KiB each way"
	show_dir "$d"
fi
if grep -q "net-guest: eth0 mac=02:00:0a:00:02:0f" "$d/vm.out"; then t_pass "mac= sets the guest's MAC"
else t_fail "mac= sets the guest's MAC"; fi
if grep -q "net-guest: ping ok: 3 packets transmitted, 3 packets received" "$d/vm.out"; then
	t_pass "3 of 3 pings answered"
else
	t_fail "3 of 3 pings answered"
fi
g=$(grep -o 'netxfer: ok: .*' "$d/vm.out" | head -n 1)
h=$(grep -o 'netxfer: ok: .*' "$d/host.out" 2>/dev/null | head -n 1)
gs=$(echo "$g" | sed -n 's/.*sent \([0-9]*\) bytes crc32=\([0-9a-f]*\), received \([0-9]*\) of [0-9]* bytes crc32=\([0-9a-f]*\).*/\1 \2 \3 \4/p')
hs=$(echo "$h" | sed -n 's/.*sent \([0-9]*\) bytes crc32=\([0-9a-f]*\), received \([0-9]*\) of [0-9]* bytes crc32=\([0-9a-f]*\).*/\3 \4 \1 \2/p')
if [ "$(cat "$d/host.rc" 2>/dev/null)" = 0 ] && [ -n "$gs" ] && [ "$gs" = "$hs" ]; then
	t_pass "TCP stream byte-exact both ways (host and guest agree: $gs)"
	echo "    guest: $g"
	grep -o 'net-guest: rx/tx.*' "$d/vm.out" | sed 's/^/    /'
else
	t_fail "TCP stream byte-exact both ways" "guest: ${g:-none}" "host: ${h:-none} (status $(cat "$d/host.rc" 2>/dev/null))"
fi
feat=$(sed -n 's/.*net-guest: features=\([01]*\).*/\1/p' "$d/vm.out" | head -n 1)
# bits (from 0): 0 CSUM, 1 GUEST_CSUM, 5 MAC, 7 GUEST_TSO4, 11 HOST_TSO4, 15 MRG_RXBUF, 16 STATUS
case "$feat" in
11???1?1???1???11*) t_pass "the guest driver negotiated checksum/TSOv4 offloads and mergeable buffers" ;;
*) t_fail "the guest driver negotiated checksum/TSOv4 offloads and mergeable buffers (features '$feat')" ;;
esac
if [ "$(cat "$d/tap_left" 2>/dev/null)" = no ]; then t_pass "the tap is gone after the VMM exits"
else t_fail "the tap is gone after the VMM exits"; fi

# 3. Tap as a bridge port, no offloads, no mergeable buffers, default MAC.
run_scenario bridge
d=$T_OUT/bridge
if [ "$(cat "$d/vm.rc" 2>/dev/null)" = 0 ] && grep -q "net-guest: ok" "$d/vm.out" &&
	[ "$(cat "$d/host.rc" 2>/dev/null)" = 0 ]; then
	t_pass "bridge=: guest pings 10.0.3.1 through the bridge and streams $((kib / 4)) KiB each way (no offloads, no mergeable buffers)"
	grep -o -e 'netxfer: ok: .*' -e 'net-guest: rx/tx.*' "$d/vm.out" | sed 's/^/    /'
else
	t_fail "bridge=: guest pings 10.0.3.1 through the bridge and streams $((kib / 4)) KiB each way (no offloads, no mergeable buffers)"
	show_dir "$d"
fi
if [ "$(cat "$d/master" 2>/dev/null)" = sbbr0 ]; then t_pass "bridge=: the tap is a port of sbbr0"
else t_fail "bridge=: the tap is a port of sbbr0 (master '$(cat "$d/master" 2>/dev/null)')"; fi
if [ "$(cat "$d/precreated" 2>/dev/null)" != yes ]; then
	t_skip "an existing persistent tap is used and left in place" "tunctl could not create one"
elif [ "$(cat "$d/tap_left" 2>/dev/null)" = yes ]; then
	t_pass "an existing persistent tap is used and left in place"
else
	t_fail "an existing persistent tap is used and left in place"
fi
feat=$(sed -n 's/.*net-guest: features=\([01]*\).*/\1/p' "$d/vm.out" | head -n 1)
case "$feat" in
00???1?0???0???01*) t_pass "offload=off,mrg_rxbuf=off: none of them negotiated; default MAC $(sed -n 's/.*net-guest: eth0 mac=\([^ ]*\).*/\1/p' "$d/vm.out")" ;;
*) t_fail "offload=off,mrg_rxbuf=off: none of them negotiated (features '$feat')" ;;
esac

# 4. Bad --net specs: one line on stderr, status 125, nothing booted.
neg() { # neg NAME SPEC REGEX
	t_run "$1" unshare -n "$SB" vm --kernel "$K" --initrd "$I" --timeout 30 --net "$2"
	t_one_line_error "$1" "--net '$2' is refused" "$3"
}
neg neg_empty "" "--net: empty spec"
neg neg_notap "mac=02:00:00:00:00:01" "--net: tap=NAME is required"
neg neg_key "tap=sbtap9,color=red" "--net: unknown option 'color'"
neg neg_mac "tap=sbtap9,mac=02:00:00:00:00" "--net: mac="
neg neg_ip "tap=sbtap9,host-ip=10.0.2.1" "--net: host-ip="
neg neg_name "tap=a/b" "--net: tap=a/b"
neg neg_bridge "tap=sbtap9,bridge=nosuchbr0" "--net: bridge nosuchbr0"
neg neg_lo "tap=lo" "--net: tap lo"

t_summary
