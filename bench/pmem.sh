#!/bin/bash
# bench/pmem.sh: the image over virtio-pmem + DAX against virtio-blk
# (docs/pmem.md), in ONE test-host session (bench/pmem-inner.sh), on the
# Debian image with python3 that tests/image/debootstrap.sh makes:
#   - `python3 -c 'print(1)'` run / `busybox true` run, per transport
#     (the issue's 3.1x; target <= 1.5x with pmem);
#   - BENCH_PMEM_N idle python sandboxes per transport: PSS per sandbox
#     and the MemAvailable drop (target: pmem <= 0.5x of blk).
# Measures and prints; never fails because a target was missed. Saves the
# report to build/bench/pmem-results.txt.
#   make all && bench/pmem.sh
# If build/guest-vmlinux-nopmem exists (the guest kernel without this
# feature's options), boot to init is compared too: what the options cost.
# BENCH_PMEM_RAW=FILE: only print the report of an earlier session's raw
# lines (build/bench/pmem-raw.txt).
# Environment: BENCH_RUNS=10, BENCH_PMEM_N=20, PMEM_DEBIAN_DIR (default
# ~/.cache/sandbox/images-debootstrap), KVMHOST_MEM (test host MiB, 3072).
set -uo pipefail
export LC_ALL=C
cd "$(dirname "$0")/.." || exit 2
B=build
RESULTS=$B/bench/pmem-results.txt
DEB=${PMEM_DEBIAN_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/sandbox/images-debootstrap}
die() { echo "bench-pmem: $*" >&2; exit 2; }
[ -x $B/sandbox ] || die "build first (make all)"
make -s -f bench/Makefile BUILD=$B >/dev/null || die "cannot build $B/bench/stamp"
SANDBOX_IMAGE_DIR=$DEB $B/sandbox-image runconf debian >/dev/null 2>&1 ||
	die "no debian image in $DEB: run tests/image/debootstrap.sh first (as root)"
tests/e2e/prepare.sh $B || die "cannot import the busybox image"
BB=$PWD/$B/test-images
mkdir -p $B/bench
raw=$B/bench/pmem-raw.txt
inner="B=$B BB=$BB DEB=$DEB BENCH_RUNS=${BENCH_RUNS:-10} BENCH_PMEM_N=${BENCH_PMEM_N:-20} bench/pmem-inner.sh"
if [ -n "${BENCH_PMEM_RAW:-}" ]; then
	where="(the report of $BENCH_PMEM_RAW, re-read)"
	[ "$BENCH_PMEM_RAW" = "$raw" ] || cp "$BENCH_PMEM_RAW" "$raw"
elif $B/sandbox kvm-check >/dev/null 2>&1; then
	where=native
	env B=$B BB="$BB" DEB="$DEB" bench/pmem-inner.sh >"$raw"
else
	where="the nested test host (QEMU TCG, 1 CPU, ${KVMHOST_MEM:-3072} MiB)"
	KVMHOST_EXTRA="$DEB ${KVMHOST_EXTRA:-}" KVMHOST_TIMEOUT=${KVMHOST_TIMEOUT:-3000} \
		KVMHOST_EXCLUDE="build/obj build/test-root build/initramfs-root build-fuzz ${KVMHOST_EXCLUDE:-}" \
		tests/kvmhost/run sh -c "$inner" >"$raw" || echo "bench-pmem: the session ended with status $?" >&2
fi

med() { # med CFG: median ms of the good rec lines of CFG
	awk -v c="cfg=$1" '$1 == "rec" && $2 == c && / bad=0/ { for (i = 1; i <= NF; i++) if ($i ~ /^ms=/) { sub(/^ms=/, "", $i); print $i } }' "$raw" |
		sort -n | awk '{ v[NR] = $1 } END { if (NR == 0) { print "-"; exit } printf "%.0f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
cnt() { awk -v c="cfg=$1" '$1 == "rec" && $2 == c && / bad=0/' "$raw" | wc -l; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "-" || b == "-" || b == 0) print "-"; else printf "%.2f", a / b }'; }
dens() { awk -v t="transport=$1" -v k="$2=" '$1 == "dens" && $2 == t { for (i = 3; i <= NF; i++) if (index($i, k) == 1) { print substr($i, length(k) + 1); exit } }' "$raw"; }
{
	echo "# bench/pmem.sh, $(date -u +%Y-%m-%dT%H:%MZ), in $where"
	echo "# sandbox run --rm --image-transport T IMAGE CMD, spawn -> exit, median of the good runs"
	printf '%-8s %-12s %-12s %-10s %s\n' transport "busybox true" "python print" ratio runs
	for t in blk pmem; do
		b=$(med bb-$t) p=$(med py-$t)
		printf '%-8s %-12s %-12s %-10s %s\n' $t "$b ms" "$p ms" "$(ratio "$p" "$b")x" "$(cnt bb-$t)/$(cnt py-$t)"
	done
	echo "# python print: pmem / blk = $(ratio "$(med py-pmem)" "$(med py-blk)")x; busybox true: pmem / blk = $(ratio "$(med bb-pmem)" "$(med bb-blk)")x"
	if grep -q 'cfg=boot-base' "$raw"; then
		echo "# boot to init (sandbox vm --timings, no devices): guest kernel without / with the pmem options: $(med boot-base) / $(med boot-pmem) ms = $(ratio "$(med boot-pmem)" "$(med boot-base)")x"
	fi
	echo "# idle python sandboxes (each imported a few modules), host memory once all are up"
	printf '%-8s %-4s %-6s %-22s %-22s\n' transport n up "MemAvailable drop/sbx" "PSS/sbx (owner+VMM)"
	for t in blk pmem; do
		n=$(dens $t n) up=$(dens $t up) a=$(dens $t avail_delta_kib) p=$(dens $t pss_kib)
		[ -n "$n" ] || { echo "$t: no measurement"; continue; }
		printf '%-8s %-4s %-6s %-22s %-22s\n' $t "$n" "$up" \
			"$(awk -v a="$a" -v n="$n" 'BEGIN { printf "%.1f MiB", n ? a / n / 1024 : 0 }')" \
			"$(awk -v a="$p" -v n="$n" 'BEGIN { printf "%.1f MiB", n ? a / n / 1024 : 0 }')"
	done
	per() { awk -v a="$(dens "$1" "$2")" -v n="$(dens "$1" n)" 'BEGIN { if (n > 0) printf "%.1f", a / n; else print "-" }'; }
	echo "# pmem / blk, per sandbox: MemAvailable drop $(ratio "$(per pmem avail_delta_kib)" "$(per blk avail_delta_kib)")x, PSS $(ratio "$(per pmem pss_kib)" "$(per blk pss_kib)")x"
	grep -E '^(warm|bench-pmem)' "$raw" | sed 's/^/# /'
} | tee "$RESULTS"
