#!/bin/bash
# bench/pmem-probe.sh: why the image over virtio-pmem + DAX is (not) faster
# than virtio-blk on `python3 -c 'print(1)'` (issue 18, docs/pmem.md): in
# ONE test-host session, interleaved rounds of configurations, each run
# with SANDBOX_TIMINGS=1 so the VMM prints KVM's own counters (nested page
# faults, exits: vmm/kvm_stats.c; init_reached_ms). Prints raw "rec"
# lines (build/bench/pmem-probe-raw.txt) and a summary of medians
# (build/bench/pmem-probe-results.txt). Measures, never fails on a figure. Configurations (PROBE_CFGS, space separated):
#   bb-blk bb-pmem           sandbox run --rm busybox true
#   py-blk py-pmem           sandbox run --rm debian python3 -c 'print(1)'
#   pyv-blk pyv-pmem         the same inside sh, with python's page faults
#   cat-blk cat-pmem         python's binary read twice, each read timed
#   dt-blk dt-pmem           sandbox run --rm debian true (the image's boot)
# Each round runs every configuration once, in the list's order from a
# start that moves by PROBE_STEP (2) each round. With PROBE_STEP=2 and a
# list of pairs "py-blk py-pmem bb-blk bb-pmem" every pmem run follows
# a blk run: under TCG, code run from the DAX window (the same host pages
# every run) stays translated from one pmem run to the next, which favours
# a pmem run right after another (docs/pmem.md); pairs keep that out.
# Environment: PROBE_RUNS=8, PROBE_STEP=2, PMEM_DEBIAN_DIR as bench/pmem.sh.
#   make all && bench/pmem-probe.sh
set -uo pipefail
export LC_ALL=C
cd "$(dirname "$0")/.." || exit 2
B=build
DEB=${PMEM_DEBIAN_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/sandbox/images-debootstrap}
CFGS=${PROBE_CFGS:-py-blk py-pmem bb-blk bb-pmem pyv-blk pyv-pmem cat-blk cat-pmem}
N=${PROBE_RUNS:-8}
STEP=${PROBE_STEP:-2}
die() { echo "pmem-probe: $*" >&2; exit 2; }

if [ "${KVMHOST:-}" != 1 ] && [ -z "${PROBE_INNER:-}" ]; then
	[ -x $B/sandbox ] || die "build first (make all)"
	make -s -f bench/Makefile BUILD=$B >/dev/null || die "cannot build $B/bench/stamp"
	tests/e2e/prepare.sh $B || die "cannot import the busybox image"
	mkdir -p $B/bench
	raw=$B/bench/pmem-probe-raw.txt
	KVMHOST_EXTRA="$DEB ${KVMHOST_EXTRA:-}" KVMHOST_TIMEOUT=${KVMHOST_TIMEOUT:-3000} \
		KVMHOST_ENV="PROBE_CFGS PROBE_RUNS PROBE_STEP PMEM_DEBIAN_DIR ${KVMHOST_ENV:-}" PROBE_CFGS="$CFGS" PROBE_RUNS=$N PROBE_STEP=$STEP \
		PMEM_DEBIAN_DIR=$DEB \
		KVMHOST_EXCLUDE="build/obj build/test-root build/initramfs-root build-fuzz ${KVMHOST_EXCLUDE:-}" \
		tests/kvmhost/run bench/pmem-probe.sh >"$raw" || echo "pmem-probe: the session ended with status $?" >&2
	med() { sort -n | awk '{ v[NR] = $1 } END { if (!NR) { print "-"; exit } printf "%.0f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
	{
		echo "# bench/pmem-probe.sh, $(date -u +%Y-%m-%dT%H:%MZ), test host; medians of the good runs"
		keys="ms init_reached_ms read1_us read2_us kvm_exits kvm_pf_taken kvm_pf_fixed kvm_pages_4k kvm_io_exits kvm_mmio_exits kvm_halt_exits pgfault pgmajfault"
		printf '%-16s' cfg; for k in $keys; do printf ' %s' "$k"; done; echo
		for c in $CFGS; do
			printf '%-16s' "$c"
			for k in $keys; do
				printf ' %s' "$(awk -v c="cfg=$c" -v k="$k=" '$1 == "rec" && $2 == c && / bad=0/ { for (i = 3; i <= NF; i++) if (index($i, k) == 1) print substr($i, length(k) + 1) }' "$raw" | med)"
			done
			echo
		done
		grep -E '^(warm|pmem-probe)' "$raw" | grep -v '^warm' | sed 's/^/# /'
	} | tee $B/bench/pmem-probe-results.txt
	exit 0
fi

# ---- inside the test host ----------------------------------------------------
SB=$B/sandbox
STAMP=$B/bench/stamp
BB=$PWD/$B/test-images
work=$(mktemp -d "${TMPDIR:-/tmp}/pmem-probe.XXXXXX") || exit 2
export SANDBOX_STATE_DIR=$work/state
mkdir -p "$SANDBOX_STATE_DIR"
trap 'rm -rf "$work"' EXIT
VS='python3 -c "print(1)"; echo "vs $(cat /proc/$$/stat)"'
# cat-*: python's binary read twice in one sandbox, each timed in the
# guest: the first read takes the nested page faults of every page (pmem)
# or the disk reads (blk), the second neither; no TCG code effects (the
# copy is the kernel's)
CAT='f=/usr/bin/python3.11; a=$(date +%s%N); cat $f >/dev/null; b=$(date +%s%N); cat $f >/dev/null; c=$(date +%s%N);
echo "cat read1_us=$(( (b - a) / 1000 )) read2_us=$(( (c - b) / 1000 )) file_kib=$(( $(stat -c %s $f) / 1024 ))"'
settle() { local i; for i in $(seq 30); do pgrep -x sandbox >/dev/null 2>&1 || return 0; sleep 0.1; done; }
kv() { grep -h "$1" "$2" | tail -n 1 | sed "s/^$1//"; }
run_one() {
	local cfg=$1 base=$1 t
	t=${base#*-}
	settle
	local env=(SANDBOX_TIMINGS=1)
	case $base in
	bb-*) env "${env[@]}" SANDBOX_IMAGE_DIR=$BB "$STAMP" --timeout 120 -- "$SB" run --rm --image-transport "$t" busybox true \
		>"$work/out" 2>"$work/err" ;;
	py-*) env "${env[@]}" SANDBOX_IMAGE_DIR=$DEB "$STAMP" --timeout 120 -- "$SB" run --rm --image-transport "$t" debian \
		python3 -c 'print(1)' >"$work/out" 2>"$work/err" ;;
	pyv-*) env "${env[@]}" SANDBOX_IMAGE_DIR=$DEB "$STAMP" --timeout 120 -- "$SB" run --rm --image-transport "$t" debian \
		sh -c "$VS" >"$work/out" 2>"$work/err" ;;
	dt-*) env "${env[@]}" SANDBOX_IMAGE_DIR=$DEB "$STAMP" --timeout 120 -- "$SB" run --rm --image-transport "$t" debian \
		true >"$work/out" 2>"$work/err" ;;
	cat-*) env "${env[@]}" SANDBOX_IMAGE_DIR=$DEB "$STAMP" --timeout 120 -- "$SB" run --rm --image-transport "$t" debian \
		sh -c "$CAT" >"$work/out" 2>"$work/err" ;;
	esac
	local st ms status bad=0 extra=
	st=$(grep '^stamp:' "$work/err" | tail -n 1)
	ms=$(echo "$st" | sed -n 's/.* exit_ms=\([^ ]*\).*/\1/p')
	status=$(echo "$st" | sed -n 's/.* status=\([^ ]*\).*/\1/p')
	[ "$status" = 0 ] || bad=1
	case $base in py*) grep -qx 1 "$work/out" || bad=1 ;; cat-*) extra+=" $(sed -n 's/^cat //p' "$work/out")" ;; esac
	case $base in pyv-*)
		# the shell's cminflt / cmajflt (stat fields 11, 13): python's faults
		extra+=" $(awk '$1 == "vs" { print "pgfault=" $12 " pgmajfault=" $14 }' "$work/out")" ;;
	esac
	extra+=" $(kv 'sandbox-kvm-stats: ' "$work/err")"
	extra+=" $(grep -h '^sandbox-timings:' "$work/err" | tail -n 1 | grep -o -E 'init_reached_ms=[^ ]*' | tr '\n' ' ')"
	[ $bad = 0 ] || echo "pmem-probe: $cfg failed (status $status): $(grep -v -E '^(stamp|sandbox-)' "$work/err" | tail -n 2 | tr '\n' ' ')" >&2
	echo "rec cfg=$cfg ms=$ms status=$status bad=$bad$extra"
}
read -r -a cfgs <<<"$CFGS"
echo "pmem-probe: warm-up" >&2
for c in "${cfgs[@]}"; do run_one "$c" | sed 's/^rec /warm /'; done
for r in $(seq "$N"); do
	echo "pmem-probe: round $r of $N" >&2
	k=$(( (r - 1) * STEP % ${#cfgs[@]} ))
	for i in $(seq 0 $(( ${#cfgs[@]} - 1 ))); do run_one "${cfgs[$(( (k + i) % ${#cfgs[@]} ))]}"; done
done
