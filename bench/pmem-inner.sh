#!/bin/bash
# bench/pmem-inner.sh: the part of bench/pmem.sh that runs where KVM boots
# Linux (the nested test host). Prints "rec ..." and "dens ..." lines.
#   1. BENCH_RUNS rounds, order rotating, each timed spawn -> exit (stamp):
#      sandbox run --rm --image-transport T busybox true           (bb-T)
#      sandbox run --rm --image-transport T debian python3 -c 'print(1)'  (py-T)
#      for T in blk and pmem, after one untimed warm-up of each.
#   2. For T in blk, pmem: BENCH_PMEM_N idle python sandboxes (each having
#      imported a few modules, then sleeping), started one after the other;
#      once all are up: the MemAvailable drop since before the first, and
#      the sum of PSS (/proc/PID/smaps_rollup) of their owners and VMMs.
# Environment: B (build dir), BENCH_RUNS, BENCH_PMEM_N, DEB (the image
# directory holding `debian`), BB (the one holding `busybox`).
set -uo pipefail
export LC_ALL=C
B=${B:-build}
SB=$B/sandbox
STAMP=$B/bench/stamp
N=${BENCH_RUNS:-10}
NDENS=${BENCH_PMEM_N:-20}
MIN_AVAIL=${BENCH_MIN_AVAIL_MIB:-256}
work=$(mktemp -d "${TMPDIR:-/tmp}/bench-pmem.XXXXXX") || exit 2
export SANDBOX_STATE_DIR=$work/state
mkdir -p "$SANDBOX_STATE_DIR"
say() { echo "bench-pmem: $*" >&2; }

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
	rm -rf "${SANDBOX_STATE_DIR:?}"/*
}
trap 'stop_all; rm -rf "$work"' EXIT
mem_avail_kib() { sed -n 's/^MemAvailable: *\([0-9]*\).*/\1/p' /proc/meminfo; }
pss_kib() { local v; v=$(sed -n 's/^Pss: *\([0-9]*\).*/\1/p' "/proc/$1/smaps_rollup" 2>/dev/null); echo "${v:-0}"; }
settle() {
	local i
	for i in $(seq 30); do
		pgrep -x sandbox >/dev/null 2>&1 || return 0
		sleep 0.1
	done
}
field() { sed -n "s/.* $2=\([^ ]*\).*/\1/p" "$1" | head -n 1; }

# run_one CFG: one timed run of configuration CFG; its rec line.
run_one() {
	local cfg=$1 t=${1#*-} err=$work/err
	settle
	case $cfg in
	bb-*) SANDBOX_IMAGE_DIR=$BB "$STAMP" --timeout 120 -- "$SB" run --rm --image-transport "$t" busybox true \
		>"$work/out" 2>"$err" ;;
	boot-*) # the guest kernel with and without this feature's options, no device
		local k=$B/guest-vmlinux; [ "$t" = base ] && k=$B/guest-vmlinux-nopmem
		"$STAMP" --timeout 120 -- "$SB" vm --kernel "$k" --initrd "$B/guest-initramfs.cpio" --mem 128M --timings \
			--timeout 60 >"$work/out" 2>"$err"
		local init; init=$(grep '^sandbox-timings:' "$err" | tail -n 1 | sed -n 's/.* init_reached_ms=\([^ ]*\).*/\1/p')
		echo "rec cfg=$cfg ms=${init:-0} status=0 bad=$([ -n "$init" ] && [ "$init" != 0.000 ] && echo 0 || echo 1)"
		return ;;
	py-*) SANDBOX_IMAGE_DIR=$DEB "$STAMP" --timeout 120 -- "$SB" run --rm --image-transport "$t" debian \
		python3 -c 'print(1)' >"$work/out" 2>"$err" ;;
	esac
	grep '^stamp:' "$err" | tail -n 1 | sed 's/^stamp:/ /' >"$work/st"
	local status; status=$(field "$work/st" status)
	local bad=0
	[ "$status" = 0 ] || bad=1
	case $cfg in py-*) grep -qx 1 "$work/out" || bad=1 ;; esac
	[ $bad = 0 ] || { say "$cfg failed (status $status): $(grep -v '^stamp:' "$err" | tail -n 2 | tr '\n' ' ')"; }
	echo "rec cfg=$cfg ms=$(field "$work/st" exit_ms) status=$status bad=$bad"
}

cfgs=( bb-blk bb-pmem py-blk py-pmem )
[ -e "$B/guest-vmlinux-nopmem" ] && cfgs+=( boot-base boot-pmem )
say "warm-up"
for c in "${cfgs[@]}"; do run_one "$c" | sed 's/^rec /warm /'; done
for r in $(seq "$N"); do
	say "round $r of $N"
	k=$(( (r - 1) % ${#cfgs[@]} ))
	for i in $(seq 0 $(( ${#cfgs[@]} - 1 ))); do
		run_one "${cfgs[$(( (k + i) % ${#cfgs[@]} ))]}"
	done
done

# ---- idle python sandboxes -------------------------------------------------------
PY='import json, os, re, socket, subprocess, sys, time, collections, datetime, random, hashlib, base64, argparse
print("up", flush=True)
time.sleep(100000)'
[ "$NDENS" = 0 ] && exit 0
for t in blk pmem; do
	stop_all
	sync; echo 3 >/proc/sys/vm/drop_caches 2>/dev/null
	sleep 2
	base=$(mem_avail_kib)
	started=0 ids=()
	t0=$(date +%s)
	while [ $started -lt "$NDENS" ]; do
		if [ "$(mem_avail_kib)" -lt $((MIN_AVAIL * 1024)) ]; then
			say "$t: MemAvailable below $MIN_AVAIL MiB at $started sandboxes: stop"
			break
		fi
		id=$(SANDBOX_IMAGE_DIR=$DEB "$SB" run -d --rm --image-transport "$t" debian python3 -c "$PY" 2>>"$work/derr") ||
			{ say "$t: start $started failed"; break; }
		ids+=( "$id" ); started=$((started + 1))
	done
	deadline=$(( $(date +%s) + 120 + 15 * started )) up=0
	while [ "$(date +%s)" -lt $deadline ]; do
		up=0
		for id in "${ids[@]}"; do grep -qs '"line":"up' "$SANDBOX_STATE_DIR/$id/log.json" && up=$((up + 1)); done
		[ $up = $started ] && break
		sleep 0.5
	done
	sleep 5
	avail=$(mem_avail_kib)
	opss=0 vpss=0 live=0
	while read -r p v; do
		[ -n "$p" ] && opss=$((opss + $(pss_kib "$p")))
		if [ -n "$v" ] && [ "$v" != 0 ] && [ -e "/proc/$v" ]; then
			vpss=$((vpss + $(pss_kib "$v"))) live=$((live + 1))
		fi
	done < <(state_pids)
	echo "dens transport=$t n=$started up=$up live=$live start_s=$(( $(date +%s) - t0 )) avail_delta_kib=$((base - avail)) pss_kib=$((opss + vpss)) owner_pss_kib=$opss vmm_pss_kib=$vpss"
done
[ -s "$work/derr" ] && { say "errors while starting:"; sort "$work/derr" | uniq -c | head -n 5 >&2; }
exit 0
