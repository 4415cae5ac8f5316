#!/bin/bash
# The API server and stats at scale, natively with N (default 100)
# --isolation container sandboxes: sandbox-serve's RSS idle and after
# listing them, the time of GET /v1/sandboxes, /v1/stats, /metrics, and of
# `sandbox stats --no-stream` (one sample, and the default two 500 ms
# apart). Figures for SPEC.md.
#   bench/api.sh [BUILD_DIR] [N]
cd "$(dirname "$0")/.." || exit 2
B=${1:-build}
N=${2:-100}
SB=$PWD/$B/sandbox
export SANDBOX_IMAGE_DIR=$PWD/$B/test-images
export SANDBOX_STATE_DIR=${TMPDIR:-/tmp}/sandbox-bench-api.$$
SOCK=$SANDBOX_STATE_DIR.sock
cleanup() {
	[ -n "${SERVE:-}" ] && kill "$SERVE" 2>/dev/null
	"$SB" ps -aq | xargs -r "$SB" rm -f >/dev/null 2>&1
	rm -rf "$SANDBOX_STATE_DIR" "$SOCK"
}
trap cleanup EXIT
rss() { awk '/^VmRSS/ { print $2 }' /proc/$1/status; }
ms() { local t0 t1; t0=$(date +%s%N); "$@" >/dev/null 2>&1; t1=$(date +%s%N); echo $(((t1 - t0) / 1000000)); }
"$SB" serve --socket "$SOCK" 2>/dev/null &
SERVE=$!
for _ in $(seq 50); do [ -S "$SOCK" ] && break; sleep 0.1; done
sleep 0.3
idle=$(rss $SERVE)
for i in $(seq 1 "$N"); do "$SB" run -d --isolation container --name b$i busybox sleep 100000 >/dev/null; done
for _ in $(seq 100); do [ "$("$SB" ps -q | wc -l)" = "$N" ] && break; sleep 0.2; done
c() { curl -sS --unix-socket "$SOCK" -o /dev/null "http://x$1"; }
t_list=$(ms c /v1/sandboxes)
listed=$(rss $SERVE)
t_list2=$(ms c /v1/sandboxes)
t_stats_api=$(ms c '/v1/stats?interval=0')
t_metrics=$(ms c /metrics)
t_stats0=$(ms "$SB" stats --no-stream --interval 0)
t_stats=$(ms "$SB" stats --no-stream)
after=$(rss $SERVE)
echo "sandboxes running:                         $N"
echo "sandbox-serve RSS idle:                    $idle KiB"
echo "sandbox-serve RSS after listing them:      $listed KiB (after stats and /metrics too: $after KiB)"
echo "GET /v1/sandboxes:                         $t_list ms (again: $t_list2 ms)"
echo "GET /v1/stats?interval=0:                  $t_stats_api ms"
echo "GET /metrics:                              $t_metrics ms"
echo "sandbox stats --no-stream --interval 0:    $t_stats0 ms"
echo "sandbox stats --no-stream (2 samples):     $t_stats ms (500 ms of it the interval)"
