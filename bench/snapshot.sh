#!/bin/bash
# Snapshots (docs/snapshots.md) in ONE test-host session (make bench-snapshot
# runs it there; natively where KVM boots Linux):
#  1. RUNS interleaved runs of a cold `sandbox run --rm busybox true` and of
#     `sandbox run --rm --from SNAP true` (a clone of an idle busybox
#     sandbox: restore, exec true, clean up), spawn -> exit (stamp), with the
#     restored VM's first KVM_RUN (first_run_ms, from the VMM's timings).
#  2. `sandbox snapshot` of an idle 128 MiB sandbox, RUNS_SNAP times.
#  3. Idle density, RATE_SETS rounds of: COLD idle sandboxes started cold
#     (up: their log says so), then as many clones of a snapshot of one
#     twice (`sandbox clone -n`, which returns once every clone resumed
#     with its identity; each then answers an exec, untimed): the first
#     set right after the cold boots, the second for the start rate; then
#     CLONES clones. For each set the time from its first start until all
#     are up, MemAvailable's drop and the PSS of the owner and VMM
#     processes, per sandbox (memory: the first cold set, the CLONES set).
#     The start rates are the medians of their RATE_SETS sets.
# Output: a table on stdout. Ratios matter, absolutes under TCG do not.
#   bench/snapshot.sh [BUILD_DIR]
set -u
cd "$(dirname "$0")/.." || exit 2
B=${1:-build}
SB=$PWD/$B/sandbox
STAMP=$PWD/$B/bench/stamp
RUNS=${RUNS:-10}
RUNS_SNAP=${RUNS_SNAP:-3}
COLD=${BENCH_COLD:-20}
CLONES=${BENCH_CLONES:-100}
RATE_SETS=${BENCH_RATE_SETS:-3}
W=$(mktemp -d "${TMPDIR:-/tmp}/bench-snap.XXXXXX") || exit 2
export SANDBOX_STATE_DIR=$W/state SANDBOX_SNAPSHOT_DIR=$W/snapshots SANDBOX_IMAGE_DIR=$PWD/$B/test-images
mkdir -p "$SANDBOX_STATE_DIR" && chmod 700 "$SANDBOX_STATE_DIR"
stop_all() {
	for d in "$SANDBOX_STATE_DIR"/*/; do
		[ -f "$d/state" ] && "$SB" rm -f "$(basename "$d")" >/dev/null 2>&1
	done
}
trap 'stop_all; rm -rf "$W"' EXIT
say() { echo "bench-snapshot: $*" >&2; }
field() { sed -n "s/.*[: ]$2=\([^ ]*\).*/\1/p" "$1" | tail -n 1; }
median() { tr ' ' '\n' | grep . | sort -g | awk '{ a[NR] = $1 } END { if (NR) print a[int((NR + 1) / 2)]; else print -1 }'; }
ratio() { awk -v a="${1:--1}" -v b="${2:--1}" 'BEGIN { if (a > 0 && b > 0) printf "%.3f", a / b; else print "n/a" }'; }
mem_avail_kib() { sed -n 's/^MemAvailable: *\([0-9]*\).*/\1/p' /proc/meminfo; }
pss_kib() { local v; v=$(sed -n 's/^Pss: *\([0-9]*\).*/\1/p' "/proc/$1/smaps_rollup" 2>/dev/null); echo "${v:-0}"; }
now_ms() { awk '{ printf "%d", $1 * 1000 }' /proc/uptime; }
[ -x "$STAMP" ] || make -s -f bench/Makefile BUILD="$B" || exit 2
"$B/sandbox-image" runconf busybox >/dev/null || { say "no busybox image (tests/e2e/prepare.sh $B)"; exit 2; }

# the snapshot every clone comes from: an idle sandbox, as the cold ones
"$SB" run -d --name src busybox sh -c 'echo up; exec sleep 100000' >/dev/null || exit 1
for i in $(seq 100); do "$SB" exec src true >/dev/null 2>&1 && break; sleep 0.2; done
"$SB" snapshot src snap >/dev/null || { say "snapshot failed"; exit 1; }
"$SB" rm -f src >/dev/null 2>&1

# ---- 1. cold run vs run --from ----------------------------------------------------
cold="" from="" first=""
one() { # one cold|from: exit_ms
	local err=$W/err
	case $1 in
	cold) "$STAMP" --timeout 120 -- "$SB" run --rm busybox true >/dev/null 2>"$err" ;;
	from) SANDBOX_TIMINGS=1 "$STAMP" --timeout 120 -- "$SB" run --rm --from snap true >/dev/null 2>"$err"
	      grep '^sandbox-restore-timings:' "$err" | tail -n 1 | sed -n 's/.*first_run_ms=\([^ ]*\).*/\1/p' >>"$W/first" ;;
	esac
	[ "$(field "$err" status)" = 0 ] || { say "$1 failed: $(grep -v '^stamp:' "$err" | tail -n 2)"; echo -1; return; }
	field "$err" exit_ms
}
one cold >/dev/null; one from >/dev/null; rm -f "$W/first"      # warm-up
for r in $(seq "$RUNS"); do
	if [ $((r % 2)) = 1 ]; then cold="$cold $(one cold)"; from="$from $(one from)"
	else from="$from $(one from)"; cold="$cold $(one cold)"; fi
done
first=$(tr '\n' ' ' <"$W/first" 2>/dev/null)
mc=$(echo "$cold" | median) mf=$(echo "$from" | median) m1=$(echo "$first" | median)

# ---- 2. snapshot time ------------------------------------------------------------
snaps=""
for r in $(seq "$RUNS_SNAP"); do
	"$SB" run -d --name s$r busybox sleep 100000 >/dev/null
	for i in $(seq 100); do "$SB" exec s$r true >/dev/null 2>&1 && break; sleep 0.2; done
	"$STAMP" --timeout 120 -- "$SB" snapshot s$r t$r >/dev/null 2>"$W/err"
	snaps="$snaps $(field "$W/err" exit_ms)"
	du_k=$(du -sk "$SANDBOX_SNAPSHOT_DIR/t$r/memory" | cut -f1)
	"$SB" snapshot rm t$r >/dev/null; "$SB" rm -f s$r >/dev/null 2>&1
done
ms=$(echo "$snaps" | median)

# ---- 3. idle density: cold, then clones ----------------------------------------
# Cold: `run -d` returns at once; a sandbox is up when its log says so.
# Clones: `clone -n N` returns once every clone resumed with its identity;
# each is then checked with an exec (not timed).
# settle: wait (at most 30 s) until the machine is idle again (90 % of a
# half second): the kernel tears the last set's VMs down (their network
# namespaces, groups and page tables) in its own threads after they end,
# which must not be counted against the next set.
cpu_idle() { awk '/^cpu / { print $5 + $6, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9 }' /proc/stat; }
settle() {
	local i a b c d
	for i in $(seq 60); do
		read -r a b <<<"$(cpu_idle)"; sleep 0.5; read -r c d <<<"$(cpu_idle)"
		[ $((d - b)) -gt 0 ] && [ $(( (c - a) * 100 / (d - b) )) -ge 90 ] && return 0
	done
	say "the machine did not settle within 30 s"
}
density() { # density cold|clone N: "ready secs avail_drop_kib pss_kib"
	local kind=$1 n=$2 ids=() t0 t1 up=0 base avail pss=0
	stop_all; sync; echo 3 >/proc/sys/vm/drop_caches 2>/dev/null; sleep 2; settle
	base=$(mem_avail_kib) t0=$(now_ms)
	if [ "$kind" = cold ]; then
		for i in $(seq "$n"); do
			ids+=( "$("$SB" run -d --rm busybox sh -c 'echo up; exec sleep 100000' 2>>"$W/derr")" )
		done
		for i in $(seq 1200); do
			up=0
			for id in "${ids[@]}"; do grep -qs '"line":"up' "$SANDBOX_STATE_DIR/$id/log.json" && up=$((up + 1)); done
			[ "$up" = "$n" ] && break
			sleep 0.1
		done
		t1=$(now_ms)
	else
		mapfile -t ids < <("$SB" clone -n "$n" snap 2>>"$W/derr")
		t1=$(now_ms)
		for id in "${ids[@]}"; do "$SB" exec "$id" true >/dev/null 2>&1 && up=$((up + 1)); done
	fi
	sleep 3
	avail=$(mem_avail_kib)
	for id in "${ids[@]}"; do
		p=$(sed -n 's/^pid=//p' "$SANDBOX_STATE_DIR/$id/state" 2>/dev/null)
		v=$(sed -n 's/^vmm_pid=//p' "$SANDBOX_STATE_DIR/$id/state" 2>/dev/null)
		[ -n "$p" ] && pss=$((pss + $(pss_kib "$p")))
		[ -n "$v" ] && [ "$v" != 0 ] && pss=$((pss + $(pss_kib "$v")))
	done
	echo "$up $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", (b - a) / 1000 }') $((base - avail)) $pss"
}
per() { awk -v k="$1" -v n="$2" -v f="${3:-%.1f}" 'BEGIN { if (n > 0) printf f, k / 1024 / n; else print "n/a" }'; }
# rate N SECS [FORMAT]: shown to 0.1/s; ratios take them unrounded
# (FORMAT %.6f: 0.77/s shown as 0.8 moved a ratio by 4 %), as per's.
rate() { awk -v n="$1" -v s="$2" -v f="${3:-%.1f}" 'BEGIN { if (s > 0) printf f, n / s; else print "n/a" }'; }
# RATE_SETS rounds, each: COLD cold sandboxes, then as many clones twice:
# the first set right after the cold boots (the emulated test host
# translates the snapshot's guest code again: its translations went with
# the cold guests'), the second as a platform serving from a snapshot
# would run (the start rate's). Interleaved, so that what drifts in the
# machine over the minutes of the bench weighs on both rates alike. The
# start rates are the medians of their sets (unrounded: rate's %.6f); the
# memory figures come from the first cold set and the CLONES set.
cold_rates= cold_sets= clone_rates= clone_sets= first_sets=
for i in $(seq "$RATE_SETS"); do
	read -r n t a p <<<"$(density cold "$COLD")"
	[ "$i" = 1 ] && cn=$n cs=$t ca=$a cp=$p
	cold_rates="$cold_rates $(rate "$n" "$t" %.6f)" cold_sets="$cold_sets $n/${t}s"
	read -r n t _ _ <<<"$(density clone "$COLD")"
	[ "$i" = 1 ] && fn=$n fs=$t
	first_sets="$first_sets $n/${t}s"
	read -r n t _ _ <<<"$(density clone "$COLD")"
	clone_rates="$clone_rates $(rate "$n" "$t" %.6f)" clone_sets="$clone_sets $n/${t}s"
done
cold_rate=$(echo "$cold_rates" | median) clone_rate=$(echo "$clone_rates" | median)
read -r kn ks ka kp <<<"$(density clone "$CLONES")"
stop_all

echo "# sandbox snapshots, one session ($(uname -r), $(nproc) CPU); medians of $RUNS runs"
printf '%-44s %10s\n' "cold run --rm busybox true (ms)" "$mc"
printf '%-44s %10s\n' "run --rm --from SNAP true (ms)" "$mf"
printf '%-44s %10s   target <= 0.1\n' "  ratio from/cold" "$(ratio "$mf" "$mc")"
printf '%-44s %10s\n' "  spawn -> restored VM's first KVM_RUN (ms)" "$m1"
printf '%-44s %10s   (memory file %s KiB on disk, of 128 MiB)\n' "snapshot of an idle 128 MiB sandbox (ms)" "$ms" "${du_k:-?}"
printf '%-44s %10s\n' "cold idle sandboxes ready, first set" "$cn/$COLD in ${cs}s ($(rate "$cn" "$cs")/s)"
printf '%-44s %10s   (sets:%s)\n' "  cold start rate, median of $RATE_SETS sets (/s)" "$(printf '%.2f' "$cold_rate")" "$cold_sets"
printf '%-44s %10s\n' "  per sandbox: MemAvailable drop, PSS (MiB)" "$(per "$ca" "$cn"), $(per "$cp" "$cn")"
printf '%-44s %10s   (sets:%s)\n' "clones ready, first set after the cold boots" "$fn/$COLD in ${fs}s ($(rate "$fn" "$fs")/s)" "$first_sets"
printf '%-44s %10s\n' "  its rate / cold start rate" "$(ratio "$(rate "$fn" "$fs" %.6f)" "$cold_rate")"
printf '%-44s %10s   (sets:%s)\n' "clone start rate, median of $RATE_SETS next sets (/s)" "$(printf '%.2f' "$clone_rate")" "$clone_sets"
printf '%-44s %10s   target >= 10\n' "  clone start rate / cold start rate" "$(ratio "$clone_rate" "$cold_rate")"
printf '%-44s %10s\n' "clones ready" "$kn/$CLONES in ${ks}s ($(rate "$kn" "$ks")/s)"
printf '%-44s %10s\n' "  per clone: MemAvailable drop, PSS (MiB)" "$(per "$ka" "$kn"), $(per "$kp" "$kn")"
printf '%-44s %10s   target <= 0.3\n' "  memory per clone / per cold sandbox" "$(ratio "$(per "$ka" "$kn" %.6f)" "$(per "$ca" "$cn" %.6f)")"
printf '# runs: cold%s\n#       from%s\n#       first_run%s\n#       snapshot%s\n' "$cold" "$from" "$first" "$snaps"
[ -s "$W/derr" ] && { say "errors while starting:"; sort "$W/derr" | uniq -c | head -n 5 >&2; }
exit 0
