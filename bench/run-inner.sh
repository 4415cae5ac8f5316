#!/bin/bash
# bench/run-inner.sh [RUNS]: the in-session half of bench/run.sh. Runs where
# /dev/kvm boots a stock Linux guest: inside the nested test host (bench/run.sh
# starts it as `KVMHOST_WITH_QEMU=1 KVMHOST_EXTRA=/usr/bin/crun
# tests/kvmhost/run bench/run-inner.sh`) or natively on a VMX/SVM host.
#
# In this ONE session:
#  1. RUNS interleaved rounds (order rotating, after one untimed warm-up each)
#     of:
#       run        sandbox run --rm busybox true          (spawn -> exit)
#       vm         sandbox vm --timings, guest-vmlinux + guest-initramfs.cpio
#                  (the kernel and initramfs `run` boots): the boot phases
#       qemu       QEMU microvm, guest-bzImage + the same initramfs, to init
#       container  sandbox run --isolation container --rm busybox true
#       crun       crun run of the same busybox erofs, mounted read-only
#       exec       sandbox exec bench-exec true (a sandbox run -d ... sleep)
#       crun-exec  crun exec bench-exec true (a crun container running sleep)
#     The first `run` of the session (before any warm-up) is recorded as
#     run-cold (page cache cold for the VMM binary, kernel, initramfs, image).
#  2. Idle density: sandboxes `sandbox run -d --rm busybox sh -c 'echo up;
#     exec sleep 1000'` started one after another in batches up to 10, 50,
#     100 (BENCH_DENSITY), stopping early when MemAvailable falls below
#     BENCH_MIN_AVAIL_MIB. After each batch: the time from the batch's first
#     start until every sandbox of it printed "up" (its log), MemAvailable,
#     and the sum of PSS (/proc/PID/smaps_rollup) of the owner and VMM
#     processes of all sandboxes.
#
# Output (stdout), parsed by bench/run.sh:
#   info KEY=VALUE
#   rec vmm=NAME run=I ok=0|1 exit_ms= ...          (one line per timed run)
#   dens n=N ok=0|1 batch_s= rate_per_s= avail_kib= avail_delta_kib= pss_kib=
#        owner_pss_kib= vmm_pss_kib= vmm_rss_kib=
# Exit status: 0; 3 if the session is unusable (our VMM's warm-up failed).
set -u
cd "$(dirname "$0")/.." || exit 2
N=${1:-${BENCH_RUNS:-10}}
B=${BENCH_BUILD:-build}
. bench/lib.sh
STAMP=$B/bench/stamp
SB=$B/sandbox
T=${BENCH_RUN_TIMEOUT:-60}
DENSITY=${BENCH_DENSITY:-10 50 100}
MIN_AVAIL=${BENCH_MIN_AVAIL_MIB:-256}
IMAGE=busybox
work=$(mktemp -d "${TMPDIR:-/tmp}/bench-run.XXXXXX") || exit 2
export SANDBOX_STATE_DIR=${SANDBOX_STATE_DIR:-$work/state}
mkdir -p "$SANDBOX_STATE_DIR"
FIFO=$work/debugcon
cleanup() {
	crun kill bench-exec KILL >/dev/null 2>&1; crun delete -f bench-exec >/dev/null 2>&1
	stop_all
		rm -rf "$work"
}
trap cleanup EXIT

say() { echo "run-inner: $*" >&2; }
info() { printf 'info %s=%s\n' "$1" "$2"; }
for f in "$STAMP" "$SB" "$K" "$BZ" "$I"; do
	[ -e "$f" ] || { say "$f is missing (make all; make -f bench/Makefile)"; exit 2; }
done
[ -n "${SANDBOX_IMAGE_DIR:-}" ] || { say "SANDBOX_IMAGE_DIR is not set"; exit 2; }

# All sandbox processes (owner and VMM) from the state files: "pid vmm_pid" lines.
state_pids() {
	local s
	for s in "$SANDBOX_STATE_DIR"/*/state; do
		[ -e "$s" ] || continue
		echo "$(sed -n 's/^pid=//p' "$s") $(sed -n 's/^vmm_pid=//p' "$s")"
	done
}
stop_all() {
	local p v
	while read -r p v; do
		[ -n "$v" ] && [ "$v" != 0 ] && kill -KILL "$v" 2>/dev/null
		[ -n "$p" ] && kill -TERM "$p" 2>/dev/null
	done < <(state_pids)
	sleep 1
	while read -r p v; do [ -n "$p" ] && kill -KILL "$p" 2>/dev/null; done < <(state_pids)
}
mem_avail_kib() { sed -n 's/^MemAvailable: *\([0-9]*\).*/\1/p' /proc/meminfo; }
pss_kib() { local v; v=$(sed -n 's/^Pss: *\([0-9]*\).*/\1/p' "/proc/$1/smaps_rollup" 2>/dev/null); echo "${v:-0}"; }
rss_kib() { local v; v=$(sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\).*/\1/p' "/proc/$1/status" 2>/dev/null); echo "${v:-0}"; }

# settle: wait (up to 3 s) until no VMM process is left. `sandbox run` returns
# as soon as the container's status is in, while the kernel still closes the
# VM (tens of ms); on this one-CPU host that must not land on the next
# measurement, ours or a peer's.
settle() {
	local i
	for i in $(seq 30); do
		pgrep -x sandbox >/dev/null 2>&1 || return 0
		sleep 0.1
	done
}

# run_one NAME RUN: one timed run; prints its rec line; status 0 if it went fine.
run_one() {
	local name=$1 run=$2 err=$work/err st=$work/stamp ok=0 extra= status
	settle
	case $name in
	run|run-cold)
		"$STAMP" --timeout $((T + 10)) -- "$SB" run --rm "$IMAGE" true >/dev/null 2>"$err" ;;
	runconf)
		"$STAMP" --timeout $((T + 10)) -- "$B/sandbox-image" runconf "$IMAGE" >/dev/null 2>"$err" ;;
	version)
		"$STAMP" --timeout $((T + 10)) -- "$SB" version >/dev/null 2>"$err" ;;
	run-nojail)
		SANDBOX_NO_JAIL=1 "$STAMP" --timeout $((T + 10)) -- "$SB" run --rm "$IMAGE" true >/dev/null 2>"$err" ;;
	container)
		"$STAMP" --timeout $((T + 10)) -- "$SB" run --isolation container --rm "$IMAGE" true >/dev/null 2>"$err" ;;
	crun)
		"$STAMP" --timeout $((T + 10)) -- crun --cgroup-manager=disabled run $CRUN_NOPIVOT --bundle "$work/bundle" \
			"bench$run-$RANDOM" >/dev/null 2>"$err" ;;
	exec)
		"$STAMP" --timeout $((T + 10)) -- "$SB" exec bench-exec true >/dev/null 2>"$err" ;;
	crun-exec)
		"$STAMP" --timeout $((T + 10)) -- crun exec bench-exec true >/dev/null 2>"$err" ;;
	vm)
		"$STAMP" --timeout $((T + 10)) -- "$SB" vm --kernel "$K" --initrd "$I" --mem ${MEM_MIB}M \
			--timings --timeout "$T" >/dev/null 2>"$err"
		grep '^sandbox-timings:' "$err" | tail -n 1 >"$work/tim"
		local k
		for k in vm_created_ms kernel_loaded_ms first_run_ms init_reached_ms cpu_to_first_run_ms \
			rss_peak_kib rss_kib guest_resident_kib vmm_rss_kib; do
			extra+=" $k=$(field "$work/tim" $k)"
		done
		local init; init=$(field "$work/tim" init_reached_ms)
		extra+=" init_ms=${init:--1}"
		[ -n "$init" ] && [ "$init" != 0.000 ] && [ "$(field "$work/tim" status)" = 0 ] || extra+=" bad=1"
		;;
	qemu)
		rm -f "$FIFO"
		"$STAMP" --fifo "$FIFO" --timeout "$T" --guest-mib $MEM_MIB -- "${QEMU_CMD[@]}" >/dev/null 2>"$err"
		grep '^stamp:' "$err" | tail -n 1 >"$st"
		extra=" init_ms=$(field "$st" init_ms) vmm_rss_kib=$(field "$st" vmm_rss_at_init_kib)"
		[ "$(field "$st" init_ms)" != -1 ] && [ "$(field "$st" first_byte)" = 123 ] || extra+=" bad=1"
		;;
	esac
	grep '^stamp:' "$err" | tail -n 1 >"$st"
	status=$(field "$st" status)
	[ "$status" = 0 ] && [[ $extra != *bad=1* ]] && ok=1
	printf 'rec vmm=%s run=%s ok=%s exit_ms=%s maxrss_kib=%s cpu_ms=%s status=%s%s\n' "$name" "$run" "$ok" \
		"$(field "$st" exit_ms)" "$(field "$st" maxrss_kib)" "$(field "$st" cpu_ms)" "${status:--1}" "$extra"
	if [ $ok != 1 ]; then
		say "$name run $run failed:"
		grep -v '^stamp:' "$err" | tail -n 5 | sed 's/^/    /' >&2
	fi
	[ $ok = 1 ]
}

# ---- the setting ---------------------------------------------------------------
# The test host mounts no cgroup file system; a real host has cgroup2 (crun
# needs it, and the VMM jail then puts each VMM in its own cgroup).
if [ "${KVMHOST:-0}" = 1 ] && [ "$(stat -f -c %T /sys/fs/cgroup 2>/dev/null)" != cgroup2fs ]; then
	mkdir -p /sys/fs/cgroup && mount -t cgroup2 none /sys/fs/cgroup 2>/dev/null &&
		info cgroup "cgroup2 mounted on /sys/fs/cgroup for this session"
fi
info where "$([ "${KVMHOST:-0}" = 1 ] && echo kvmhost || echo native)"
info host_kernel "$(uname -r)"
info host_cpus "$(grep -c '^processor' /proc/cpuinfo)"
info host_mem_kib "$(sed -n 's/^MemTotal: *\([0-9]*\).*/\1/p' /proc/meminfo)"
info host_clocksource "$(cat /sys/devices/system/clocksource/clocksource0/current_clocksource 2>/dev/null)"
info jail "$([ -n "${SANDBOX_NO_JAIL:-}" ] && echo off || echo on)"
info runs "$N"

# ---- the cold run first, then warm-ups -------------------------------------------
say "cold run"
run_one run-cold 1 || { say "sandbox run failed: session unusable"; exit 3; }
say "warm-up"
run_one run 0 >/dev/null
run_one vm 0 >/dev/null || { say "sandbox vm did not reach init: session unusable"; exit 3; }
order=( run vm )
[ "${BENCH_NOJAIL:-1}" = 1 ] && run_one run-nojail 0 >/dev/null && order+=( run-nojail )
# What the guest holds once the container runs (explains the memory figures).
info guest_meminfo "$("$SB" run --rm "$IMAGE" cat /proc/meminfo 2>/dev/null |
	awk '/^(MemTotal|MemFree|MemAvailable|Buffers|Cached|Shmem|Slab|KernelStack|PageTables|Percpu):/ { printf "%s%s=%s", n++ ? " " : "", $1, $2 }' | tr -d :)"
if command -v "$QEMU" >/dev/null; then
	qemu_cmd microvm "$FIFO"
	info qemu_cmd "$(shell_words "${QEMU_CMD[@]}")"
	info qemu_version "$("$QEMU" --version | head -n 1)"
	run_one qemu 0 >/dev/null || run_one qemu 0 >/dev/null
	order+=( qemu )
else
	say "no $QEMU: no QEMU peer"
fi
run_one container 0 >/dev/null && order+=( container ) || say "--isolation container does not run here"
# crun: on a copy of the image's files that bench/run.sh made natively (the
# test host has no loop devices to mount the erofs), with its config.json.
CRUN_CONFIG=$B/bench/crun-config.json
# On an initramfs root (the test host) pivot_root fails: crun then moves the
# root instead (--no-pivot), as the VMM jail does there.
CRUN_NOPIVOT=
[ "$(stat -f -c %T / 2>/dev/null)" = ramfs ] || [ "$(stat -f -c %T / 2>/dev/null)" = tmpfs ] && CRUN_NOPIVOT=--no-pivot
if command -v crun >/dev/null && [ -s "$CRUN_CONFIG" ]; then
	mkdir -p "$work/bundle"
	cp "$CRUN_CONFIG" "$work/bundle/config.json"
	info crun_version "$(crun --version | head -n 1)"
	info crun_cmd "crun --cgroup-manager=disabled run $CRUN_NOPIVOT --bundle B ID (B/config.json: $CRUN_CONFIG: crun spec's default, args [true], no terminal, read-only root $B/bench/busybox-rootfs = the busybox image's files, no mqueue)"
	run_one crun 0 >/dev/null && order+=( crun ) || say "crun does not run here"
else
	say "no crun or no $CRUN_CONFIG: no crun peer"
fi
# sandbox exec into a running sandbox (a workspace: run -d ... sleep), and
# crun exec into a running crun container of the same files, for reference.
if "$SB" run -d --name bench-exec "$IMAGE" sleep 100000 >/dev/null 2>"$work/err" &&
	run_one exec 0 >/dev/null; then
	order+=( exec )
else
	say "sandbox exec does not run here: $(tail -n 2 "$work/err")"
fi
if [[ " ${order[*]} " == *" crun "* ]]; then
	mkdir -p "$work/bundle-exec"
	if cp "${CRUN_CONFIG%.json}-exec.json" "$work/bundle-exec/config.json" &&
		crun --cgroup-manager=disabled run $CRUN_NOPIVOT -d --bundle "$work/bundle-exec" bench-exec >/dev/null 2>"$work/err" &&
		run_one crun-exec 0 >/dev/null; then
		order+=( crun-exec )
	else
		say "crun exec does not run here: $(tail -n 2 "$work/err")"
	fi
fi
# Host-side fixed costs of `run` (both are dynamic executables; sandbox run
# execs sandbox-image runconf to resolve the image).
order+=( runconf version )
info configs "${order[*]}"

# ---- timed runs, interleaved ---------------------------------------------------
n=${#order[@]}
for ((r = 1; r <= N; r++)); do
	say "round $r/$N"
	for ((j = 0; j < n; j++)); do
		run_one "${order[(r + j) % n]}" "$r"
	done
done

# ---- idle density ----------------------------------------------------------------
crun kill bench-exec KILL >/dev/null 2>&1; crun delete -f bench-exec >/dev/null 2>&1
[ "$DENSITY" = 0 ] && exit 0
stop_all
sync; echo 3 >/proc/sys/vm/drop_caches 2>/dev/null
sleep 2
base=$(mem_avail_kib)
info density_base_avail_kib "$base"
started=0 ids=()
for target in $DENSITY; do
	say "idle sandboxes: up to $target"
	t0=$(date +%s.%N) bids=() stopped=0
	while [ $started -lt "$target" ]; do
		if [ "$(mem_avail_kib)" -lt $((MIN_AVAIL * 1024)) ]; then
			say "MemAvailable below $MIN_AVAIL MiB at $started sandboxes: stop"
			stopped=1
			break
		fi
		id=$("$SB" run -d --rm "$IMAGE" sh -c 'echo up; exec sleep 1000' 2>>"$work/derr") || { say "start $started failed"; stopped=1; break; }
		bids+=( "$id" ) ids+=( "$id" ); started=$((started + 1))
	done
	# Wait until each of the batch printed "up" (its container runs).
	deadline=$(( $(date +%s) + 60 + 10 * ${#bids[@]} )) up=0
	while [ "$(date +%s)" -lt $deadline ]; do
		up=0
		for id in "${bids[@]}"; do grep -qs '"line":"up' "$SANDBOX_STATE_DIR/$id/log.json" && up=$((up + 1)); done
		[ $up = ${#bids[@]} ] && break
		sleep 0.2
	done
	t1=$(date +%s.%N)
	ok=0; [ $up = ${#bids[@]} ] && ok=1
	[ $ok = 1 ] || say "only $up of ${#bids[@]} sandboxes came up"
	sleep 3    # let the last ones settle
	avail=$(mem_avail_kib)
	opss=0 vpss=0 vrss=0 live=0
	while read -r p v; do
		[ -n "$p" ] && opss=$((opss + $(pss_kib "$p")))
		if [ -n "$v" ] && [ "$v" != 0 ] && [ -e "/proc/$v" ]; then
			vpss=$((vpss + $(pss_kib "$v"))) vrss=$((vrss + $(rss_kib "$v"))) live=$((live + 1))
		fi
	done < <(state_pids)
	printf 'dens n=%s ok=%s live=%s batch=%s batch_s=%s avail_kib=%s avail_delta_kib=%s pss_kib=%s owner_pss_kib=%s vmm_pss_kib=%s vmm_rss_kib=%s load=%s\n' \
		"$started" "$ok" "$live" "${#bids[@]}" "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')" \
		"$avail" $((base - avail)) $((opss + vpss)) "$opss" "$vpss" "$vrss" "$(cut -d' ' -f1 /proc/loadavg)"
	if [ "${BENCH_DENSITY_DEBUG:-0}" = 1 ]; then
		state_pids >&2
		ps -o pid,ppid,user,rss,vsz,stat,args 2>/dev/null | grep -v ' \[' | tail -n 12 >&2
		for id in "${bids[@]}"; do echo "== $id" >&2; "$SB" logs "$id" >&2; done
	fi
	[ $stopped = 1 ] && break
done
[ -s "$work/derr" ] && { say "errors while starting:"; sort "$work/derr" | uniq -c | head -n 5 >&2; }
exit 0
