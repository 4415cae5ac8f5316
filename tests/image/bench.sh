#!/bin/bash
# Benchmark (not a timed test): first vs. second import of one ~100 MB
# OCI image (issue 5 wants the second at most 5 % of the first).
#   tests/image/bench.sh [BUILD_DIR] [MB]
cd "$(dirname "$0")/../.." || exit 2
B=${1:-build}
MB=${2:-100}
SI=$(readlink -f "$B/sandbox-image")
W=$(mktemp -d "${TMPDIR:-/tmp}/sandbox-image-bench.XXXXXX")
trap 'rm -rf "$W"' EXIT
export SANDBOX_IMAGE_DIR=$W/cache
set -e
umoci init --layout $W/L >/dev/null
umoci new --image $W/L:t >/dev/null
umoci unpack --image $W/L:t $W/b >/dev/null
mkdir -p $W/b/rootfs/data
for i in $(seq 1 $((MB / 2))); do head -c 2000000 /dev/urandom >$W/b/rootfs/data/f$i; done
for i in $(seq 1 2000); do echo $i >$W/b/rootfs/data/s$i; done
umoci repack --image $W/L:t $W/b >/dev/null
t() { local s=$(date +%s%N); "$SI" import $W/L:t "$1" >/dev/null; echo $(( ($(date +%s%N) - s) / 1000000 )); }
first=$(t one)
second=$(t two)
echo "image-import: size=$(du -sm $W/L | cut -f1)MB first_ms=$first second_ms=$second ratio=$(( second * 100 / (first > 0 ? first : 1) ))%"
