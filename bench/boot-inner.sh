#!/bin/bash
# bench/boot-inner.sh [RUNS]: the boot-time half of the benchmark. Runs where
# /dev/kvm can boot a stock Linux guest: inside the nested test host
# (bench/boot.sh starts it as `KVMHOST_WITH_QEMU=1 tests/kvmhost/run
# bench/boot-inner.sh`) or natively on a VMX/SVM host.
#
# In this one session it boots the guest (build/guest-*, initramfs) RUNS times
# with each of: our VMM on vmlinux (its default), QEMU's microvm machine on the
# bzImage (QEMU cannot take this vmlinux: it has no PVH note), and our VMM on
# the same bzImage (like for like). The runs are interleaved (the order
# rotates every round) after one untimed warm-up each. Every run is spawned by
# build/bench/stamp, which stamps T0 and measures from it.
#
# Output (stdout), parsed by bench/boot.sh:
#   info KEY=VALUE           the setting (QEMU command, machine, host facts)
#   rec vmm=NAME run=I ok=0|1 init_ms= exit_ms= maxrss_kib= cpu_ms= status=
#       vmm_rss_kib= guest_kib= peak_over_exit_kib=      (one line per run)
# Exit status: 0; 3 if the session is unusable (even our VMM's warm-up did
# not reach init: bench/boot.sh then retries in a fresh session).
set -u
cd "$(dirname "$0")/.." || exit 2
N=${1:-${BENCH_RUNS:-10}}
B=${BENCH_BUILD:-build}
. bench/lib.sh
STAMP=$B/bench/stamp
SB=$B/sandbox
T=${BENCH_RUN_TIMEOUT:-30}     # seconds per boot; a normal one takes 1-4 s in the test host
WITH_BZ=${BENCH_BZ:-1}
work=$(mktemp -d "${TMPDIR:-/tmp}/bench.XXXXXX") || exit 2
trap 'rm -rf "$work"' EXIT
FIFO=$work/debugcon

for f in "$STAMP" "$SB" "$K" "$BZ" "$I"; do
	[ -e "$f" ] || { echo "boot-inner: $f is missing (make all; make -f bench/Makefile)" >&2; exit 2; }
done
command -v "$QEMU" >/dev/null || { echo "boot-inner: $QEMU not found (KVMHOST_WITH_QEMU=1?)" >&2; exit 2; }

say() { echo "boot-inner: $*" >&2; }
info() { printf 'info %s=%s\n' "$1" "$2"; }

# run_one NAME RUN: one boot; prints its rec line; status 0 if init was reached
# and the guest ended cleanly.
run_one() {
	local name=$1 run=$2 err=$work/err st=$work/stamp init ok=0 vmm_rss=-1 guest=-1 over=-1 status
	case $name in
	sandbox|sandbox-bz)
		local kern=$K; [ "$name" = sandbox-bz ] && kern=$BZ
		"$STAMP" --timeout $((T + 10)) -- "$SB" vm --kernel "$kern" --initrd "$I" --mem ${MEM_MIB}M \
			--timings --timeout "$T" >/dev/null 2>"$err"
		grep '^sandbox-timings:' "$err" | tail -n 1 >"$work/tim"
		init=$(field "$work/tim" init_reached_ms)
		vmm_rss=$(field "$work/tim" vmm_rss_kib)
		guest=$(field "$work/tim" guest_resident_kib)
		local peak rss; peak=$(field "$work/tim" rss_peak_kib) rss=$(field "$work/tim" rss_kib)
		[ -n "$peak" ] && [ -n "$rss" ] && over=$((peak - rss))
		status=$(field "$work/tim" status)
		[ -n "$init" ] && [ "$init" != 0.000 ] && [ "$status" = 0 ] && ok=1
		;;
	qemu)
		rm -f "$FIFO"
		"$STAMP" --fifo "$FIFO" --timeout "$T" --guest-mib $MEM_MIB -- "${QEMU_CMD[@]}" >/dev/null 2>"$err"
		grep '^stamp:' "$err" | tail -n 1 >"$st"
		init=$(field "$st" init_ms)
		vmm_rss=$(field "$st" vmm_rss_at_init_kib)
		guest=$(field "$st" guest_rss_at_init_kib)
		status=$(field "$st" status)
		[ "$init" != -1 ] && [ "$(field "$st" first_byte)" = 123 ] && [ "$status" = 0 ] && ok=1
		;;
	esac
	grep '^stamp:' "$err" | tail -n 1 >"$st"
	printf 'rec vmm=%s run=%s ok=%s init_ms=%s exit_ms=%s maxrss_kib=%s cpu_ms=%s status=%s vmm_rss_kib=%s guest_kib=%s peak_over_exit_kib=%s\n' \
		"$name" "$run" "$ok" "${init:--1}" "$(field "$st" exit_ms)" "$(field "$st" maxrss_kib)" \
		"$(field "$st" cpu_ms)" "${status:--1}" "${vmm_rss:--1}" "${guest:--1}" "$over"
	if [ $ok != 1 ]; then
		say "$name run $run did not reach init cleanly:"
		tail -n 5 "$err" | sed 's/^/    /' >&2
	fi
	[ $ok = 1 ]
}

# ---- the setting ---------------------------------------------------------------
info where "$([ "${KVMHOST:-0}" = 1 ] && echo kvmhost || echo native)"
info host_kernel "$(uname -r)"
info host_cpus "$(grep -c '^processor' /proc/cpuinfo)"
info host_cpu "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1)"
info host_clocksource "$(cat /sys/devices/system/clocksource/clocksource0/current_clocksource 2>/dev/null)"
info qemu_version "$("$QEMU" --version | head -n 1)"
info guest_cmdline "$APPEND"
info runs "$N"

# ---- warm-up (untimed): also decides whether the session and microvm work ------
say "warm-up"
cs=$(cat /sys/devices/system/clocksource/clocksource0/current_clocksource 2>/dev/null)
if ! T=15 run_one sandbox 0 >/dev/null; then
	say "our VMM's warm-up boot did not reach init: this session is unusable (clocksource: ${cs:-?}$(
		[ "${cs:-tsc}" != tsc ] && echo '; without a TSC clocksource nested guests hang'))"
	exit 3
fi
[ "$WITH_BZ" = 1 ] && run_one sandbox-bz 0 >/dev/null
qemu_cmd microvm "$FIFO"
machine=microvm why="boots this guest to init reliably (given an i8042 for the reboot=k reset)"
if ! run_one qemu 0 >/dev/null && ! run_one qemu 0 >/dev/null; then
	qemu_cmd pc "$FIFO"
	machine=pc why="microvm did not reach init in two warm-up boots while our VMM did"
	say "microvm failed; falling back to -M pc"
	run_one qemu 0 >/dev/null || say "-M pc did not reach init either"
fi
info qemu_machine "$machine"
info qemu_machine_why "$why"
info qemu_cmd "$(shell_words "${QEMU_CMD[@]}")"

# ---- timed runs, interleaved ---------------------------------------------------
order=( sandbox qemu )
[ "$WITH_BZ" = 1 ] && order+=( sandbox-bz )
n=${#order[@]}
for ((r = 1; r <= N; r++)); do
	say "round $r/$N"
	for ((j = 0; j < n; j++)); do
		run_one "${order[(r + j) % n]}" "$r"
	done
done
exit 0
