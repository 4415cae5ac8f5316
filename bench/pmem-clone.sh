#!/bin/bash
# bench/pmem-clone.sh: clones of a python sandbox's snapshot, image over
# virtio-blk vs virtio-pmem (docs/pmem.md, docs/snapshots.md), where KVM
# boots Linux (here: the nested test host):
#   KVMHOST_EXTRA=~/.cache/sandbox/images-debootstrap KVMHOST_TIMEOUT=1800 \
#     /work/kvmhost-slot tests/kvmhost/run bench/pmem-clone.sh
# For T in blk, pmem: one python sandbox (the Debian image of
# tests/image/debootstrap.sh; a few modules imported, then idle) is
# snapshotted; the snapshot's memory file (KiB on disk: zero pages are
# holes); then `sandbox clone -n N`, and once all answered an exec, the
# MemAvailable drop and the PSS of owners and VMMs, per clone.
# Prints "clone transport=T ..." lines and a summary. Measures only.
# Environment: B (build), DEB (the image directory holding `debian`),
# BENCH_CLONES=10, BENCH_EXEC (what each clone runs once restored, to
# check it is up; default "python3 -c print(2)").
set -uo pipefail
export LC_ALL=C
cd "$(dirname "$0")/.." || exit 2
B=${B:-build}
SB=$PWD/$B/sandbox
DEB=${DEB:-${PMEM_DEBIAN_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/sandbox/images-debootstrap}}
N=${BENCH_CLONES:-10}
EXEC=${BENCH_EXEC:-python3 -c print(2)}
W=$(mktemp -d "${TMPDIR:-/tmp}/bench-pmem-clone.XXXXXX") || exit 2
export SANDBOX_STATE_DIR=$W/state SANDBOX_SNAPSHOT_DIR=$W/snapshots SANDBOX_IMAGE_DIR=$DEB
mkdir -p "$SANDBOX_STATE_DIR" && chmod 700 "$SANDBOX_STATE_DIR"
say() { echo "bench-pmem-clone: $*" >&2; }
stop_all() {
	for d in "$SANDBOX_STATE_DIR"/*/; do
		[ -f "$d/state" ] && "$SB" rm -f "$(basename "$d")" >/dev/null 2>&1
	done
}
trap 'stop_all; rm -rf "$W"' EXIT
mem_avail_kib() { sed -n 's/^MemAvailable: *\([0-9]*\).*/\1/p' /proc/meminfo; }
per() { awk -v k="$1" -v n="$2" 'BEGIN { if (n > 0) printf "%.1f", k / 1024 / n; else print "-" }'; }
pss_kib() { local v; v=$(sed -n 's/^Pss: *\([0-9]*\).*/\1/p' "/proc/$1/smaps_rollup" 2>/dev/null); echo "${v:-0}"; }
[ -x "$B/bench/memprobe" ] || make -s -f bench/Makefile BUILD="$B" >/dev/null
"$B/sandbox-image" runconf debian >/dev/null 2>&1 || { say "no debian image in $DEB (tests/image/debootstrap.sh)"; exit 2; }
PY='import json, decimal, email.parser, urllib.parse, collections, re, time
print("up", flush=True)
time.sleep(1e6)'

for t in blk pmem; do
	stop_all
	"$SB" run -d --name src-$t --image-transport $t debian python3 -c "$PY" >/dev/null || { say "$t: run failed"; continue; }
	for i in $(seq 300); do "$SB" logs src-$t 2>/dev/null | grep -q up && break; sleep 0.2; done
	"$SB" snapshot src-$t snap-$t >/dev/null || { say "$t: snapshot failed"; continue; }
	mem_k=$(du -sk "$SANDBOX_SNAPSHOT_DIR/snap-$t/memory" | cut -f1)
	"$SB" run --rm --from snap-$t true >/dev/null 2>&1     # records the working set, warms the page cache
	stop_all; sync; echo 3 >/proc/sys/vm/drop_caches 2>/dev/null; sleep 2
	base=$(mem_avail_kib)
	cp /proc/meminfo "$W/mi0"
	mapfile -t ids < <("$SB" clone -n "$N" --name c-$t snap-$t 2>>"$W/err")
	up=0
	for id in "${ids[@]}"; do "$SB" exec "$id" $EXEC >/dev/null 2>&1 && up=$((up + 1)); done
	sleep 3
	avail=$(mem_avail_kib) pss=0
	for id in "${ids[@]}"; do
		for k in pid vmm_pid; do
			p=$(sed -n "s/^$k=//p" "$SANDBOX_STATE_DIR/$id/state" 2>/dev/null)
			[ -n "$p" ] && [ "$p" != 0 ] && pss=$((pss + $(pss_kib "$p")))
		done
	done
	# where the drop is: /proc/meminfo's fields that moved by 1 MiB or more,
	# and the first clone's VMM's mappings (bench/memprobe)
	printf 'meminfo transport=%s' $t
	awk 'NR == FNR { a[$1] = $2; next } { d = $2 - a[$1]; if (d >= 1024 || d <= -1024) printf " %s%d", $1, d }' "$W/mi0" /proc/meminfo
	echo
	v=$(sed -n 's/^vmm_pid=//p' "$SANDBOX_STATE_DIR/${ids[0]}/state" 2>/dev/null)
	[ -n "$v" ] && [ -x "$B/bench/memprobe" ] && "$B/bench/memprobe" "$v" 2>&1 | sed "s/^/memprobe transport=$t /"
	"$SB" exec "${ids[0]}" cat /proc/meminfo 2>/dev/null | grep -E '^(MemFree|Cached|AnonPages|Slab|PageTables|KernelStack|Mapped|Shmem):' |
		tr -s ' ' | tr '\n' ' ' | sed "s/^/guest-meminfo transport=$t /"; echo
	echo "clone transport=$t exec='$EXEC' n=$N up=$up snapshot_memory_kib=$mem_k avail_delta_kib=$((base - avail)) pss_kib=$pss" \
		"per_clone_avail_mib=$(per $((base - avail)) "$up") per_clone_pss_mib=$(per "$pss" "$up")"
done
stop_all
[ -s "$W/err" ] && { say "errors:"; sort "$W/err" | uniq -c | head -n 5 >&2; }
exit 0
