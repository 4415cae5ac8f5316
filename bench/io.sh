#!/bin/bash
# bench/io.sh: the device throughput benchmark (assumes `make all` built
# build/, including build/test-initramfs.cpio with tests/guest/bench-io.sh and
# /bin/benchio). Prints a report and saves it to build/bench/io-results.txt.
#
# In ONE session where KVM boots Linux (the nested test host, tests/kvmhost/run
# with KVMHOST_WITH_QEMU=1, unless this host's KVM can boot Linux itself),
# bench/io-inner.sh boots the same guest under our VMM and under QEMU's
# microvm machine (virtio-blk-device, virtio-net-device), RUNS rounds
# interleaved, and the guest measures sequential read and write throughput on
# virtio-blk and TCP throughput both ways over virtio-net. The report gives
# the medians and the ratios ours/QEMU (target >= 1.0 each).
#
# Environment:
#   BENCH_RUNS=10            rounds (one boot per VMM configuration each)
#   BENCH_WHERE=auto         auto (native if `sandbox kvm-check` says KVM boots
#                            Linux, else kvmhost), kvmhost, native
#   BENCH_SESSION_TRIES=3    fresh test-host sessions to try if one is unusable
#   BENCH_BLK_BYTES=134217728  bytes read, then written, per boot (O_DIRECT)
#   BENCH_BS=1048576         bytes per read/write call
#   BENCH_NET_BYTES=67108864 bytes per TCP stream (each direction)
#   BENCH_PASSES=2           each operation this many times per boot (figure:
#                            the boot's median: TCP streams vary a lot)
#   BENCH_IO_DUMP=0          1: keep every guest/host-end line (dump lines)
#   BENCH_QEMU_CACHE=writeback  QEMU -drive cache= (ours: the host page cache)
#   BENCH_QEMU_AIO=threads   QEMU -drive aio=
#   BENCH_QEMU_MODERN=0      1: also QEMU with virtio-mmio.force-legacy=false
#                            (virtio 1.x like ours; QEMU 7.2 defaults to legacy)
#   BENCH_RUN_TIMEOUT=120    seconds per boot
#   BENCH_SANDBOX=build/sandbox  our VMM's binary (e.g. a build of another
#                            commit; outside the project it is added to the
#                            test host through KVMHOST_EXTRA)
set -uo pipefail
export LC_ALL=C
cd "$(dirname "$0")/.." || exit 2
B=build
N=${BENCH_RUNS:-10}
WHERE=${BENCH_WHERE:-auto}
TRIES=${BENCH_SESSION_TRIES:-3}
RESULTS=$B/bench/io-results.txt
. bench/lib.sh
I=$B/test-initramfs.cpio
SB=${BENCH_SANDBOX:-$B/sandbox}

die() { echo "bench-io: $*" >&2; exit 2; }
say() { echo "bench-io: $*" >&2; }
case $N in ''|*[!0-9]*|0) die "BENCH_RUNS must be a positive number" ;; esac
[ "$N" -ge 5 ] || say "note: BENCH_RUNS=$N (the figures are meant for >= 5)"
for f in "$SB" "$K" "$BZ" "$I" "$B/guest-tools/benchio"; do
	[ -e "$f" ] || die "$f is missing: run 'make all' first"
done
if ! cpio -t <"$I" 2>/dev/null | grep -qx 'tests/bench-io.sh' || ! cpio -t <"$I" 2>/dev/null | grep -qx 'bin/benchio'; then
	die "$I has no tests/bench-io.sh or bin/benchio: run 'make $I'"
fi
command -v "$QEMU" >/dev/null || die "$QEMU not found (apt-get install qemu-system-x86)"

work=$(mktemp -d "${TMPDIR:-/tmp}/bench-io.XXXXXX") || exit 2
trap 'rm -rf "$work"' EXIT

# ---- where KVM can boot Linux --------------------------------------------------------
detect_kvm "$SB"
if [ "$WHERE" = auto ]; then
	if [ "$KVM_KIND" = boots ]; then WHERE=native; else WHERE=kvmhost; fi
fi

# ---- the session -----------------------------------------------------------------------
# A VMM binary outside the project is not in the test host unless added.
extra=
if [ -n "${BENCH_SANDBOX:-}" ]; then
	case $(readlink -f "$SB") in
	"$(pwd -P)"/*) ;;
	/tmp/*) die "BENCH_SANDBOX under /tmp is hidden in the test host (it mounts /tmp over): use /var/tmp" ;;
	/*) [[ $SB == /* ]] || die "BENCH_SANDBOX must be an absolute path or inside the project"
	    extra=" $SB" ;;
	esac
fi
# The test host is load-sensitive: say so if another session runs beside this one.
busy_note=
if [ "$WHERE" = kvmhost ] && session_busy; then
	busy_note="another test-host session was running when this one started: figures are noisier"
	say "note: $busy_note"
fi
out=$work/inner.out
inner_ok=0
for ((try = 1; try <= TRIES; try++)); do
	if [ "$WHERE" = native ]; then
		say "device throughput natively (this host's KVM boots Linux), $N rounds"
		BENCH_BUILD=$B bench/io-inner.sh "$N" >"$out" 2>"$work/inner.err"; rc=$?
	else
		say "device throughput in one test-host session (tests/kvmhost/run), $N rounds; takes a few minutes"
		KVMHOST_EXTRA="${KVMHOST_EXTRA:-}$extra" KVMHOST_WITH_QEMU=1 KVMHOST_TIMEOUT=${KVMHOST_TIMEOUT:-$((300 + N * 90))} \
			KVMHOST_ENV="BENCH_BLK_BYTES BENCH_BS BENCH_NET_BYTES BENCH_PASSES BENCH_IO_DUMP BENCH_QEMU_CACHE BENCH_QEMU_AIO BENCH_QEMU_MODERN BENCH_RUN_TIMEOUT BENCH_QEMU_EXTRA BENCH_SANDBOX" \
			tests/kvmhost/run bench/io-inner.sh "$N" </dev/null >"$out" 2>"$work/inner.err"; rc=$?
	fi
	grep -v '^io-inner: round' "$work/inner.err" | sed 's/^/  | /' >&2
	[ $rc = 0 ] && { inner_ok=1; break; }
	say "session $try ended with status $rc$([ $rc = 3 ] && echo " (unusable: our VMM's warm-up boot failed)")"
	[ $rc = 3 ] || break      # only an unusable session is worth a fresh one
done

if [ "$WHERE" = kvmhost ] && [ -z "$busy_note" ] && session_busy; then
	busy_note="another test-host session was running when this one ended: figures may be noisier"
	say "note: $busy_note"
fi

read_info "$out"

# ---- statistics (stats, load_stats, range, ratio, paired: bench/lib.sh) --------------
load_stats "$out"
# med KEY [FMT]: the median, or n/a (lib.sh's gives -1).
med() { have "$1" && printf "${2:-%.1f}" "${MED[$1]}" || echo n/a; }

# features TYPE BITS: the names of the feature bits the guest driver took.
features() {
	local type=$1 bits=$2 i names=() n
	local -A common=( [24]=NOTIFY_ON_EMPTY [27]=ANY_LAYOUT [28]=INDIRECT_DESC [29]=EVENT_IDX [32]=VERSION_1 [34]=RING_PACKED )
	local -A blk=( [1]=SIZE_MAX [2]=SEG_MAX [4]=GEOMETRY [5]=RO [6]=BLK_SIZE [9]=FLUSH [10]=TOPOLOGY [11]=CONFIG_WCE
		[12]=MQ [13]=DISCARD [14]=WRITE_ZEROES )
	local -A net=( [0]=CSUM [1]=GUEST_CSUM [2]=CTRL_GUEST_OFFLOADS [3]=MTU [5]=MAC [6]=GSO [7]=GUEST_TSO4 [8]=GUEST_TSO6
		[9]=GUEST_ECN [10]=GUEST_UFO [11]=HOST_TSO4 [12]=HOST_TSO6 [13]=HOST_ECN [14]=HOST_UFO [15]=MRG_RXBUF
		[16]=STATUS [17]=CTRL_VQ [18]=CTRL_RX [19]=CTRL_VLAN [21]=GUEST_ANNOUNCE [22]=MQ [23]=CTRL_MAC_ADDR )
	for ((i = 0; i < ${#bits}; i++)); do
		[ "${bits:i:1}" = 1 ] || continue
		if [ "$type" = blk ]; then n=${blk[$i]:-}; else n=${net[$i]:-}; fi
		[ -n "$n" ] || n=${common[$i]:-bit$i}
		names+=( "$n" )
	done
	echo "${names[*]}"
}
# guest_features VMM blk|net
guest_features() {
	local id=0x0002 bits; [ "$2" = net ] && id=0x0001
	bits=$(echo "${INFO[$1.virtio]:-}" | tr ';' '\n' | sed -n "s/^dev=$id features=//p" | head -n 1)
	[ -n "$bits" ] && features "$2" "$bits" || echo "?"
}

METRICS=( blk_read_mbps blk_write_mbps g2h_mbps h2g_mbps )
declare -A LABEL=( [blk_read_mbps]="blk seq read" [blk_write_mbps]="blk seq write (+flush)"
	[g2h_mbps]="TCP guest -> host" [h2g_mbps]="TCP host -> guest" )
declare -A SHORT=( [blk_read_mbps]=blk_read [blk_write_mbps]=blk_write [g2h_mbps]=tcp_g2h [h2g_mbps]=tcp_h2g )
QM=${INFO[qemu_modern]:-0}

# ---- report --------------------------------------------------------------------------
report() {
	local w=${INFO[where]:-$WHERE} m
	echo "sandbox device throughput benchmark ($(date -u '+%Y-%m-%d %H:%M UTC'), $N rounds, interleaved)"
	if [ "$w" = kvmhost ]; then
		echo "where: ONE session of the nested KVM test host (QEMU TCG, AMD SVM+NPT, 1 CPU; kernel ${INFO[host_kernel]:-?},"
		echo "       clocksource ${INFO[host_clocksource]:-?}); absolute MB/s are TCG figures, the ratios are the result"
	else
		echo "where: natively on this machine"
	fi
	[ -n "$busy_note" ] && echo "NOTE: $busy_note"
	echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg) ($(nproc) CPUs)"
	echo "guest: 128 MiB, 1 vCPU, $I (/tests/bench-io.sh, /bin/benchio); ours boots $K, QEMU $BZ"
	echo "guest command line (both): ${INFO[guest_cmdline]:-?}"
	echo "per boot: read then write $(( ${INFO[blk_bytes]:-0} / 1048576 )) MiB of /dev/vda, O_DIRECT, $(( ${INFO[bs]:-0} / 1024 )) KiB per call, write ends"
	echo "          with fdatasync (timed); then one TCP stream of $(( ${INFO[net_bytes]:-0} / 1048576 )) MiB guest -> host and one host -> guest"
	[ "${INFO[passes]:-1}" != 1 ] && echo "          each ${INFO[passes]} times per boot; a boot's figure is the median of its passes"
	echo "disk image: a raw file on the session's ${INFO[host_fs]:-?} /tmp (host page cache) for both; ours: preadv/pwritev"
	echo "          on the device thread; QEMU: cache=${INFO[qemu_cache]:-?} aio=${INFO[qemu_aio]:-?}"
	echo "network: a persistent tap in a private network namespace, host end 10.0.9.1, guest 10.0.9.15, MTU 1500;"
	echo "          QEMU vhost=off (no vhost-net: the test-host kernel has none; our VMM has no vhost either)"
	echo "timing: blk on the guest clock (${INFO[sandbox.clocksource]:-?} / ${INFO[qemu.clocksource]:-?}), TCP on the host end"
	echo "          (accept -> EOF, resp. -> the guest's close); MB = 10^6 bytes"
	echo "our VMM:   ${INFO[sandbox_binary]:-$SB}"
	echo "           ${INFO[sandbox_cmd]:-?}"
	echo "QEMU:      ${INFO[qemu_cmd]:-?}"
	[ "$QM" = 1 ] && echo "QEMU modern: the same plus -global virtio-mmio.force-legacy=false"
	echo "           (${INFO[qemu_version]:-})"
	echo
	if [ $inner_ok != 1 ] && ! have sandbox.runs; then
		echo "FAILED: no usable session (see the messages above)"
		echo
	fi
	echo "== Throughput, MB/s: median (min-max) over ok rounds"
	local hdr=( "metric" "sandbox" "QEMU microvm" "ratio" "paired" )
	[ "$QM" = 1 ] && hdr+=( "QEMU modern-mmio" "ratio" )
	printf "   %-24s %-22s %-22s %-7s %-7s" "${hdr[@]:0:5}"
	[ "$QM" = 1 ] && printf " %-22s %-7s" "${hdr[@]:5}"
	echo
	for m in "${METRICS[@]}"; do
		local r p rm
		r=$(ratio "${MED[sandbox.$m]:-}" "${MED[qemu.$m]:-}")
		p=$(paired "$out" sandbox qemu "$m"); p=${p%% *}
		printf "   %-24s %-22s %-22s %-7s %-7s" "${LABEL[$m]}" "$(range sandbox.$m)" "$(range qemu.$m)" "$r" "$p"
		if [ "$QM" = 1 ]; then
			rm=$(ratio "${MED[sandbox.$m]:-}" "${MED[qemu-modern.$m]:-}")
			printf " %-22s %-7s" "$(range qemu-modern.$m)" "$rm"
		fi
		echo
	done
	echo "   (ratio = sandbox median / QEMU median; paired = median of the per-round ratios;"
	echo "    > 1 means our VMM moves more bytes per second)"
	printf "   %-24s %-22s %-22s\n" "boot + all four, wall ms" "$(range sandbox.wall_ms)" "$(range qemu.wall_ms)"
	printf "   %-24s %-22s %-22s\n" "TCP g2h, guest clock" "$(range sandbox.g2h_guest_mbps)" "$(range qemu.g2h_guest_mbps)"
	printf "   %-24s %-22s %-22s\n" "TCP h2g, guest clock" "$(range sandbox.h2g_guest_mbps)" "$(range qemu.h2g_guest_mbps)"
	printf "   %-24s %-22s %-22s\n" "guest virtio irqs per op:" "" ""
	for m in "${METRICS[@]}"; do
		local f=${m%_mbps}_irqs
		printf "   %-24s %-22s %-22s\n" "  ${LABEL[$m]}" "$(med sandbox.$f %.0f)" "$(med qemu.$f %.0f)"
	done
	echo "   ok rounds: sandbox ${MED[sandbox.runs]:-0}/${MAX[sandbox.runs]:-0}, QEMU ${MED[qemu.runs]:-0}/${MAX[qemu.runs]:-0}$(
		[ "$QM" = 1 ] && echo ", QEMU modern ${MED[qemu-modern.runs]:-0}/${MAX[qemu-modern.runs]:-0}")"
	echo
	echo "== What the guest driver negotiated (warm-up boot)"
	local v
	for v in sandbox qemu $([ "$QM" = 1 ] && echo qemu-modern); do
		echo "   $v blk: $(guest_features "$v" blk)"
		echo "   $v net: $(guest_features "$v" net)"
		echo "   $v vda: ${INFO[$v.vda]:-?}"
	done
	echo
	echo "== Targets (ratio >= 1.0, medians)"
	for m in "${METRICS[@]}"; do
		local r t
		r=$(ratio "${MED[sandbox.$m]:-}" "${MED[qemu.$m]:-}")
		t="not measured"
		[ "$r" != n/a ] && { awk -v r="$r" 'BEGIN { exit !(r >= 1.0) }' && t=met || t="not met"; }
		printf "   %-24s %s -> %s\n" "${LABEL[$m]}" "$r" "$t"
	done
	echo
	echo "== Machine-readable"
	kv() { printf 'bench.io.%s=%s\n' "$1" "$2"; }
	kv runs "$N"
	kv where "$w"
	kv blk_bytes "${INFO[blk_bytes]:-}"
	kv net_bytes "${INFO[net_bytes]:-}"
	kv qemu.cache "${INFO[qemu_cache]:-}"
	kv qemu.aio "${INFO[qemu_aio]:-}"
	for m in "${METRICS[@]}"; do
		local s=${SHORT[$m]} r p
		kv "$s.mbps.sandbox" "$(med sandbox.$m %.2f)"
		kv "$s.mbps.qemu" "$(med qemu.$m %.2f)"
		r=$(ratio "${MED[sandbox.$m]:-}" "${MED[qemu.$m]:-}")
		p=$(paired "$out" sandbox qemu "$m"); p=${p%% *}
		kv "$s.ratio" "$r"
		kv "$s.ratio_paired" "$p"
		if [ "$QM" = 1 ]; then
			kv "$s.mbps.qemu_modern" "$(med qemu-modern.$m %.2f)"
			kv "$s.ratio_modern" "$(ratio "${MED[sandbox.$m]:-}" "${MED[qemu-modern.$m]:-}")"
		fi
		local t="not measured"
		[ "$r" != n/a ] && { awk -v r="$r" 'BEGIN { exit !(r >= 1.0) }' && t=met || t="not met"; }
		kv "target.$s" "$t"
	done
	for m in "${METRICS[@]}"; do
		kv "${SHORT[$m]}.irqs.sandbox" "$(med "sandbox.${m%_mbps}_irqs" %.0f)"
		kv "${SHORT[$m]}.irqs.qemu" "$(med "qemu.${m%_mbps}_irqs" %.0f)"
	done
	kv ok.sandbox "${MED[sandbox.runs]:-0}/${MAX[sandbox.runs]:-0}"
	kv ok.qemu "${MED[qemu.runs]:-0}/${MAX[qemu.runs]:-0}"
	[ "$QM" = 1 ] && kv ok.qemu_modern "${MED[qemu-modern.runs]:-0}/${MAX[qemu-modern.runs]:-0}"
	echo
	echo "== Raw runs (run 0: warm-up, not counted)"
	grep -h '^rec ' "$out" 2>/dev/null | sed "s/^rec /$w /"
	if grep -q '^dump ' "$out"; then
		echo
		echo "== Every guest and host-end line (BENCH_IO_DUMP=1)"
		grep -h '^dump ' "$out"
	fi
	return 0
}
mkdir -p "$(dirname "$RESULTS")"
report | tee "$RESULTS.tmp"
mv -f "$RESULTS.tmp" "$RESULTS"
say "saved to $RESULTS"
[ $inner_ok = 1 ]
