#!/bin/bash
# bench/balloon.sh: free page reporting (virtio-balloon, docs/pmem.md) on
# and off (SANDBOX_NO_BALLOON=1), in ONE test-host session (or natively
# where KVM boots Linux):
#   1. a busybox sandbox writes 64 MiB to its tmpfs and removes the file:
#      the VMM's RSS every 4 s, on and off;
#   2. BENCH_BALLOON_N idle python sandboxes (pmem, the Debian image of
#      tests/image/debootstrap.sh), off and with page_reporting_order 9, 5
#      and 0: VMM RSS and MemAvailable drop per sandbox after 20 s idle;
#   3. BENCH_RUNS pairs of `sandbox run --rm busybox true`, on/off
#      interleaved: spawn -> exit (stamp).
# Measures and prints; never fails because of a figure.
#   make all && bench/balloon.sh
# Environment: BENCH_RUNS=5, BENCH_BALLOON_N=4, PMEM_DEBIAN_DIR.
set -uo pipefail
export LC_ALL=C
cd "$(dirname "$0")/.." || exit 2
B=build
DEB=${PMEM_DEBIAN_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/sandbox/images-debootstrap}
[ -x $B/sandbox ] || { echo "bench-balloon: build first (make all)" >&2; exit 2; }
if [ "${1:-}" != --inner ]; then
	make -s -f bench/Makefile BUILD=$B >/dev/null || exit 2
	tests/e2e/prepare.sh $B || exit 2
	if $B/sandbox kvm-check >/dev/null 2>&1; then exec "$0" --inner; fi
	KVMHOST_EXTRA="$DEB ${KVMHOST_EXTRA:-}" KVMHOST_TIMEOUT=${KVMHOST_TIMEOUT:-1500} \
		KVMHOST_ENV="BENCH_RUNS BENCH_BALLOON_N PMEM_DEBIAN_DIR" \
		KVMHOST_EXCLUDE="build/obj build/test-root build/initramfs-root build-fuzz ${KVMHOST_EXCLUDE:-}" \
		exec tests/kvmhost/run bench/balloon.sh --inner
fi

SB=$B/sandbox
export SANDBOX_STATE_DIR=${TMPDIR:-/tmp}/bench-balloon.$$
mkdir -p "$SANDBOX_STATE_DIR"
BB=$PWD/$B/test-images
avail() { sed -n 's/^MemAvailable: *\([0-9]*\).*/\1/p' /proc/meminfo; }
rss() { sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\).*/\1/p' "/proc/${1:-0}/status" 2>/dev/null; }
vmm() { sed -n 's/^vmm_pid=//p' "$SANDBOX_STATE_DIR/$1/state" 2>/dev/null; }
stop_all() {
	local s
	for s in "$SANDBOX_STATE_DIR"/*/state; do
		[ -e "$s" ] && $SB rm -f "$(basename "$(dirname "$s")")" >/dev/null 2>&1
	done
	sleep 1
}
trap 'stop_all; rm -rf "$SANDBOX_STATE_DIR"' EXIT
envof() {
	case $1 in
	off) echo SANDBOX_NO_BALLOON=1 ;;
	o*) echo SANDBOX_KERNEL_APPEND=page_reporting.page_reporting_order=${1#o} ;;
	*) echo BENCH_BALLOON=on ;;
	esac
}

echo "# 1. 64 MiB written to the guest's tmpfs at ~1 s, removed at ~5 s: VMM RSS (KiB)"
for cfg in on off; do
	id=$(env $(envof $cfg) SANDBOX_IMAGE_DIR=$BB $SB run -d --rm busybox sh -c \
		'dd if=/dev/zero of=/dev/shm/big bs=1M count=64 2>/dev/null; sleep 4; rm /dev/shm/big; sleep 1000')
	line="balloon=$cfg rss:"
	for i in $(seq 10); do sleep 4; line="$line $(rss "$(vmm "$id")")"; done
	echo "$line"
	stop_all
done

PY='import json, os, re, socket, subprocess, sys, time, collections, datetime, random, hashlib, base64, argparse
print("up", flush=True)
time.sleep(100000)'
N=${BENCH_BALLOON_N:-4}
echo "# 2. $N idle python sandboxes (pmem), 20 s after all are up, per sandbox (KiB)"
if SANDBOX_IMAGE_DIR=$DEB $B/sandbox-image runconf debian >/dev/null 2>&1; then
	for cfg in off o9 o5 o0; do
		stop_all
		sync; echo 3 >/proc/sys/vm/drop_caches 2>/dev/null; sleep 2
		base=$(avail) ids=()
		for i in $(seq "$N"); do
			ids+=( "$(env $(envof $cfg) SANDBOX_IMAGE_DIR=$DEB $SB run -d --rm --image-transport pmem debian python3 -c "$PY")" )
		done
		up=0
		for w in $(seq 240); do
			up=0
			for id in "${ids[@]}"; do grep -qs '"line":"up' "$SANDBOX_STATE_DIR/$id/log.json" && up=$((up + 1)); done
			[ $up = "$N" ] && break
			sleep 1
		done
		sleep 20
		tot=0
		for id in "${ids[@]}"; do tot=$((tot + $(rss "$(vmm "$id")" || echo 0))); done
		echo "reporting=$cfg up=$up/$N vmm_rss=$((tot / N)) avail_drop=$(( (base - $(avail)) / N ))"
	done
	stop_all
else
	echo "no debian image in $DEB: skipped (tests/image/debootstrap.sh)"
fi

echo "# 3. sandbox run --rm busybox true, spawn -> exit (ms)"
for r in $(seq "${BENCH_RUNS:-5}"); do
	for cfg in on off; do
		t=$(env $(envof $cfg) SANDBOX_IMAGE_DIR=$BB $B/bench/stamp -- $SB run --rm busybox true 2>&1 |
			sed -n 's/^stamp:.* exit_ms=\([^ ]*\).*/\1/p')
		echo "boot balloon=$cfg ms=$t"
	done
done | sort -k2,2 -s | awk '{ print } { split($3, a, "="); v[$2] = v[$2] " " a[2] } END { for (k in v) print "# " k ":" v[k] }'
