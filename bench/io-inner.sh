#!/bin/bash
# bench/io-inner.sh [RUNS]: the device throughput benchmark, one session.
# Runs where /dev/kvm can boot a stock Linux guest: inside the nested test
# host (bench/io.sh starts it as `KVMHOST_WITH_QEMU=1 tests/kvmhost/run
# bench/io-inner.sh`) or natively on a VMX/SVM host.
#
# Network rule: the script re-runs itself in a network namespace of its own
# (unshare -n). The tap, its address and the host end of the TCP streams
# exist only there and vanish with it.
#
# In that namespace it boots the test initramfs with /tests/bench-io.sh
# (tests/guest/bench-io.sh) under our VMM and under QEMU's microvm machine
# (its default virtio-mmio devices, which QEMU 7.2 makes legacy (version 1)
# transports; and, with BENCH_QEMU_MODERN=1, a second QEMU configuration with
# -global virtio-mmio.force-legacy=false, i.e. virtio 1.x as ours). One
# untimed warm-up boot each, then RUNS rounds, interleaved (the order rotates
# every round). Every boot has one virtio-blk disk (a raw image in this
# session's /tmp, so the host side is the page cache for both) and one
# virtio-net device on the same persistent tap, and measures:
#   blk-read   sequential O_DIRECT reads of the first BLK bytes of /dev/vda
#              (guest clock)
#   blk-write  sequential O_DIRECT writes of the same range, then a flush
#              (guest clock)
#   g2h        TCP stream guest -> host (timed on the host end: this clock)
#   h2g        TCP stream host -> guest (timed on the host end: this clock)
# with build/guest-tools/benchio (tests/guest/benchio.c) on both ends. The
# guest's own TCP timings are kept as a cross-check (g2h_guest, h2g_guest).
#
# Output (stdout), parsed by bench/io.sh:
#   info KEY=VALUE        the setting (commands, cache modes, guest facts)
#   rec vmm=NAME run=I ok=0|1 blk_read_mbps= blk_write_mbps= g2h_mbps=
#       h2g_mbps= g2h_guest_mbps= h2g_guest_mbps= blk_read_irqs=
#       blk_write_irqs= g2h_irqs= h2g_irqs= wall_ms= status=  (one per boot;
#       with PASSES > 1 each figure is the median of the boot's passes, the
#       *_irqs the guest's virtio interrupts per pass of that operation)
#   dump ...              with BENCH_IO_DUMP=1: every guest and host-end line
# Exit status: 0; 3 if the session is unusable (our VMM's warm-up failed).
#
# Environment: BENCH_BLK_BYTES (128 MiB), BENCH_BS (1 MiB), BENCH_NET_BYTES
# (64 MiB), BENCH_PASSES (2: each operation twice per boot, the boot's figure
# is the median), BENCH_RUN_TIMEOUT (120 s per boot), BENCH_QEMU_CACHE
# (writeback), BENCH_QEMU_AIO (threads), BENCH_QEMU_MODERN (0),
# BENCH_QEMU_EXTRA (more QEMU options for both QEMU configurations),
# BENCH_IO_DUMP (0; 1: dump lines), BENCH_SANDBOX (our VMM's binary;
# default build/sandbox).
set -u
cd "$(dirname "$0")/.." || exit 2
if [ "${1:-}" != --in-netns ]; then
	unshare -n true 2>/dev/null || { echo "io-inner: needs network namespaces (unshare -n) and root" >&2; exit 2; }
	exec unshare -n bash bench/io-inner.sh --in-netns "$@"
fi
shift
N=${1:-${BENCH_RUNS:-5}}
B=${BENCH_BUILD:-build}
. bench/lib.sh
I=$B/test-initramfs.cpio          # lib.sh's is the bare init; the test one has busybox + benchio
BIO=$B/guest-tools/benchio
SB=${BENCH_SANDBOX:-$B/sandbox}
T=${BENCH_RUN_TIMEOUT:-120}
BLK=${BENCH_BLK_BYTES:-134217728}
BS=${BENCH_BS:-1048576}
NET=${BENCH_NET_BYTES:-67108864}
PASSES=${BENCH_PASSES:-2}
CACHE=${BENCH_QEMU_CACHE:-writeback}
AIO=${BENCH_QEMU_AIO:-threads}
MODERN=${BENCH_QEMU_MODERN:-0}
TAP=sbio0
HOST_IP=10.0.9.1
GUEST_IP=10.0.9.15
MAC=02:00:0a:00:09:0f
PORT=5201

say() { echo "io-inner: $*" >&2; }
info() { printf 'info %s=%s\n' "$1" "$2"; }
for f in "$SB" "$K" "$BZ" "$I" "$BIO"; do
	[ -e "$f" ] || { say "$f is missing (make all; make $B/test-initramfs.cpio)"; exit 2; }
done
command -v "$QEMU" >/dev/null || { say "$QEMU not found (KVMHOST_WITH_QEMU=1?)"; exit 2; }
work=$(mktemp -d "${TMPDIR:-/tmp}/bench-io.XXXXXX") || exit 2
trap 'rm -rf "$work"' EXIT

# The guest command line: our VMM's default with the console on (read out of
# the binary, as lib.sh does for the console-off one), so both guests get the
# same line. The console carries the results; `quiet` keeps the kernel off it.
CON_APPEND=$(grep -a -o 'console=ttyS0 reboot=k[ -~]*' "$SB" 2>/dev/null | head -n 1)
[ -n "$CON_APPEND" ] || CON_APPEND="console=ttyS0 reboot=k panic=-1 nomodule no_timer_check tsc=reliable i8042.noaux i8042.nomux i8042.dumbkbd noreplace-smp"
GARGS="quiet sandbox.run=/tests/bench-io.sh bio.blk=$BLK bio.bs=$BS bio.net=$NET bio.ip=$GUEST_IP/24 bio.host=$HOST_IP bio.port=$PORT bio.passes=$PASSES"

# ---- the private network: lo and one persistent tap with the host address ----
ip link set lo up
# A persistent tap both VMMs attach to in turn (busybox tunctl; iproute2 natively).
if ! tunctl -t "$TAP" >/dev/null 2>&1 && ! ip tuntap add dev "$TAP" mode tap >/dev/null 2>&1; then
	say "could not create the persistent tap $TAP (tunctl, ip tuntap)"
	exit 2
fi
ip addr add "$HOST_IP/24" dev "$TAP" && ip link set "$TAP" up || { say "could not configure $TAP"; exit 2; }

# ---- disk images (on this session's /tmp: memory-backed, i.e. the page cache) ----
mkimg() { dd if=/dev/zero of="$1" bs=1048576 count=$(((BLK + 1048575) / 1048576)) 2>/dev/null; }
IMG_S=$work/sandbox.img IMG_Q=$work/qemu.img
mkimg "$IMG_S" && mkimg "$IMG_Q" || { say "could not make the disk images in $work"; exit 2; }

# The two commands (OUT: the console file).
cmd_sandbox() { # OUT
	VM_CMD=( "$SB" vm --kernel "$K" --initrd "$I" --mem ${MEM_MIB}M --console --timeout "$T"
		--disk "$IMG_S" --net "tap=$TAP,mac=$MAC" --append "$GARGS" )
}
cmd_qemu() { # OUT [modern]
	local modern=()
	[ "${2:-}" = modern ] && modern=( -global virtio-mmio.force-legacy=false )
	VM_CMD=( "$QEMU" -M microvm,x-option-roms=off,isa-serial=on,rtc=off,pit=on,pic=on,acpi=off
		-accel kvm,kernel-irqchip=on -cpu host -smp 1 -m ${MEM_MIB}M -nodefaults -no-user-config
		-display none -no-reboot -kernel "$BZ" -initrd "$I" -append "$CON_APPEND $GARGS"
		-chardev "file,id=con,path=$1" -serial chardev:con -device i8042
		-drive "file=$IMG_Q,if=none,id=d0,format=raw,cache=$CACHE,aio=$AIO" -device virtio-blk-device,drive=d0
		-netdev "tap,id=n0,ifname=$TAP,script=no,downscript=no,vhost=off" -device "virtio-net-device,netdev=n0,mac=$MAC"
		"${modern[@]}" ${BENCH_QEMU_EXTRA:-} )
}

now_ms() { local t=${EPOCHREALTIME/./}; echo $((t / 1000)); }

# run_one NAME RUN: one boot; prints its rec line; status 0 if all four
# measurements came back complete.
run_one() {
	local name=$1 run=$2 con=$work/con.$1 err=$work/err.$1 host=$work/host.$1 t0 t1 rc hpid i ok=1
	rm -f "$con" "$host"
	"$BIO" tcp-host $PORT "$NET" 60 "$PASSES" >"$host" 2>&1 &
	hpid=$!
	for ((i = 0; i < 50; i++)); do grep -q listening "$host" 2>/dev/null && break; sleep 0.1; done
	t0=$(now_ms)
	case $name in
	sandbox)
		cmd_sandbox "$con"
		timeout -s KILL $((T + 30)) "${VM_CMD[@]}" >"$con" 2>"$err" </dev/null
		rc=$? ;;
	qemu|qemu-modern)
		cmd_qemu "$con" "${name#qemu-}"
		timeout -s KILL "$T" "${VM_CMD[@]}" >"$err" 2>&1 </dev/null
		rc=$? ;;
	esac
	t1=$(now_ms)
	# The host end ends by itself after its last stream (the guest's close);
	# give it a moment, then stop it (a guest that never connected).
	for ((i = 0; i < 50; i++)); do kill -0 "$hpid" 2>/dev/null || break; sleep 0.1; done
	kill "$hpid" 2>/dev/null
	wait "$hpid" 2>/dev/null
	if [ "${BENCH_IO_DUMP:-0}" = 1 ]; then
		tr -d '\r' <"$con" | grep -a -e '^bench-io: irqs' -e '^bench-io: tcpstat' -e '^benchio:' | sed "s/^/dump $name $run guest /"
		sed "s/^/dump $name $run host /" "$host"
		# The host end's view: tap counters and TCP counters of this namespace (cumulative).
		echo "dump $name $run tap $(awk -v t="$TAP:" '$1 == t { print "rx_packets=" $3, "rx_drop=" $5, "tx_packets=" $11, "tx_drop=" $13 }' /proc/net/dev)"
		echo "dump $name $run hosttcp $(awk '$1 == "Tcp:" { if (!h) { for (i = 2; i <= NF; i++) k[i] = $i; h = 1; next }
			for (i = 2; i <= NF; i++) if (k[i] ~ /^(InSegs|OutSegs|RetransSegs)$/) printf "%s=%s ", k[i], $i }' /proc/net/snmp)"
	fi
	# The figures: per operation the median over the passes; all passes
	# complete or the boot counts as failed. Interrupts: the guest's virtio
	# interrupts during each operation, per pass.
	local fields
	fields=$( { tr -d '\r' <"$con"; sed 's/^benchio: /host: /' "$host"; } | awk -v P="$PASSES" '
		function med(op,   n, i, j, x, a) {
			n = cnt[op]
			if (n != P) return -1
			for (i = 1; i <= n; i++) a[i] = v[op, i]
			for (i = 2; i <= n; i++) { x = a[i]; for (j = i - 1; j >= 1 && a[j] > x; j--) a[j + 1] = a[j]; a[j + 1] = x }
			return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
		}
		/^(benchio|host): [a-z0-9-]+ bytes=/ {
			op = ($1 == "host:" ? "host-" : "") $2
			delete kv
			for (i = 3; i <= NF; i++) { p = index($i, "="); kv[substr($i, 1, p - 1)] = substr($i, p + 1) }
			if (kv["ok"] != 1) bad = 1
			else v[op, ++cnt[op]] = kv["mbps"]
			next
		}
		/^bench-io: irqs / {
			t = 0
			for (i = 4; i <= NF; i++) { p = index($i, "="); t += substr($i, p + 1) }
			if (last != "") irq[last] += t - lastt
			split($3, ph, "."); last = ph[1]; lastt = t
			next
		}
		/^bench-io: done rc=0/ { done = 1 }
		END {
			ok = !bad && done
			split("blk-read blk-write tcp-send tcp-recv host-g2h host-h2g", ops, " ")
			for (k in ops) if (med(ops[k]) < 0) ok = 0
			printf "ok=%d blk_read_mbps=%s blk_write_mbps=%s g2h_mbps=%s h2g_mbps=%s g2h_guest_mbps=%s h2g_guest_mbps=%s",
				ok, med("blk-read"), med("blk-write"), med("host-g2h"), med("host-h2g"), med("tcp-send"), med("tcp-recv")
			printf " blk_read_irqs=%d blk_write_irqs=%d g2h_irqs=%d h2g_irqs=%d",
				irq["blk-read"] / P, irq["blk-write"] / P, irq["g2h"] / P, irq["h2g"] / P
		}')
	[[ $fields == *ok=1* ]] || ok=0
	fields=${fields#ok=? }
	printf 'rec vmm=%s run=%s ok=%s %s wall_ms=%s status=%s\n' "$name" "$run" "$ok" "$fields" $((t1 - t0)) "$rc"
	if [ $ok != 1 ]; then
		say "$name run $run incomplete (status $rc):"
		{ tr -d '\r' <"$con" | grep -a -e '^bench-io: FAIL' -e '^benchio:' -e 'Kernel panic' | tail -n 8
		  tail -n 4 "$err"; tail -n 3 "$host"; } 2>/dev/null | sed 's/^/    /' >&2
	fi
	[ $ok = 1 ]
}

# ---- the setting ---------------------------------------------------------------
info where "$([ "${KVMHOST:-0}" = 1 ] && echo kvmhost || echo native)"
info host_kernel "$(uname -r)"
info host_clocksource "$(cat /sys/devices/system/clocksource/clocksource0/current_clocksource 2>/dev/null)"
info host_fs "$(df -T "$work" 2>/dev/null | awk 'NR == 2 { print $2 }')"
info qemu_version "$("$QEMU" --version | head -n 1)"
info sandbox_binary "$SB ($("$SB" version 2>&1 | head -n 1), $(wc -c <"$SB") bytes)"
info runs "$N"
info blk_bytes "$BLK"
info bs "$BS"
info net_bytes "$NET"
info passes "$PASSES"
info qemu_cache "$CACHE"
info qemu_aio "$AIO"
info guest_cmdline "$CON_APPEND $GARGS"
cmd_sandbox CONSOLE; info sandbox_cmd "$(shell_words "${VM_CMD[@]}")"
cmd_qemu CONSOLE; info qemu_cmd "$(shell_words "${VM_CMD[@]}")"
info qemu_modern "$MODERN"

# guest_facts NAME: what the guest saw in its warm-up boot, as info lines.
guest_facts() {
	local c=$work/con.$1
	info "$1.clocksource" "$(tr -d '\r' <"$c" | sed -n 's/^bench-io: clocksource=//p' | head -n 1)"
	info "$1.virtio" "$(tr -d '\r' <"$c" | sed -n 's/^bench-io: virtio //p' | tr '\n' ';')"
	info "$1.vda" "$(tr -d '\r' <"$c" | sed -n 's/^bench-io: vda //p' | head -n 1)"
	info "$1.eth0" "$(tr -d '\r' <"$c" | sed -n 's/^bench-io: eth0 //p' | tr '\n' ';')"
}

# ---- warm-up (untimed): also shows whether the session works -------------------
say "warm-up"
if ! run_one sandbox 0 >/dev/null; then
	say "our VMM's warm-up boot failed: this session is unusable"
	tr -d '\r' <"$work/con.sandbox" | tail -n 20 | sed 's/^/    /' >&2
	tail -n 5 "$work/err.sandbox" | sed 's/^/    /' >&2
	exit 3
fi
guest_facts sandbox
order=( sandbox qemu )
[ "$MODERN" = 1 ] && order+=( qemu-modern )
for v in "${order[@]:1}"; do
	if run_one "$v" 0 >/dev/null || run_one "$v" 0 >/dev/null; then
		guest_facts "$v"
	else
		say "$v: warm-up boots failed; its rounds will be recorded as failed"
		tr -d '\r' <"$work/con.$v" | tail -n 20 | sed 's/^/    /' >&2
		tail -n 5 "$work/err.$v" | sed 's/^/    /' >&2
	fi
done

# ---- timed runs, interleaved (the order rotates every round) --------------------
n=${#order[@]}
for ((r = 1; r <= N; r++)); do
	say "round $r/$N"
	for ((j = 0; j < n; j++)); do
		run_one "${order[(r + j) % n]}" "$r"
	done
done
exit 0
