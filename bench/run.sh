#!/bin/bash
# bench/run.sh: the `sandbox run` benchmark (`make bench`; assumes `make all`
# built build/). Measures and prints ONE table; never fails because a target
# was missed. Saves the report to build/bench/run-results.txt.
#
#  1. Natively, BENCH_RUNS times each, interleaved:
#     - the image import: `sandbox-image runconf busybox` into an empty image
#       directory (cold: unpack, mkfs.erofs) and again (warm: cached);
#     - the plain-container baseline: `sandbox run --isolation container --rm
#       busybox true` and Debian's crun running `true` on the same busybox
#       files (a copy of the image's erofs, build/bench/busybox-rootfs), read-only
#       root, no cgroups (--cgroup-manager=disabled; on a cgroup v1/hybrid host
#       both run in a mount namespace with cgroup2 on /sys/fs/cgroup, as
#       crun 1.8 refuses hybrid hosts).
#  2. In ONE session where KVM boots Linux (the nested test host unless this
#     machine's KVM boots Linux itself), bench/run-inner.sh: `sandbox run --rm
#     busybox true` end to end (first run cold, then warm), `sandbox vm
#     --timings` boot phases on the kernel and initramfs `run` boots, QEMU
#     microvm booting the same kernel (bzImage) and initramfs to init, crun
#     on the same files; then idle sandboxes in batches up to 10, 50, 100:
#     host memory per sandbox and start rate.
#
# Environment:
#   BENCH_RUNS=10            runs per configuration (each part)
#   BENCH_WHERE=auto         auto | kvmhost | native (part 2)
#   BENCH_NATIVE=1           0: skip part 1
#   BENCH_SESSION=1          0: skip part 2
#   BENCH_DENSITY="10 50 100"  idle sandbox counts (cumulative); 0: none
#   BENCH_MIN_AVAIL_MIB=256  stop starting sandboxes below this MemAvailable
#   BENCH_SESSION_TRIES=2    fresh test-host sessions if one is unusable
#   BENCH_RUN_TIMEOUT=60     seconds per run in the session
set -uo pipefail
export LC_ALL=C
cd "$(dirname "$0")/.." || exit 2
B=build
N=${BENCH_RUNS:-10}
WHERE=${BENCH_WHERE:-auto}
NATIVE=${BENCH_NATIVE:-1}
TRIES=${BENCH_SESSION_TRIES:-2}
RESULTS=$B/bench/run-results.txt
. bench/lib.sh
STAMP=$B/bench/stamp
SB=$B/sandbox
SBI=$B/sandbox-image
ROOTFS=$B/bench/busybox-rootfs
IMAGE=busybox

die() { echo "bench-run: $*" >&2; exit 2; }
say() { echo "bench-run: $*" >&2; }

# ---- part 1b, re-entered inside a private mount namespace ------------------------
# bench/run.sh --containers N: rec lines for container and crun.
if [ "${1:-}" = --containers ]; then
	work=$(mktemp -d "${TMPDIR:-/tmp}/bench-c.XXXXXX") || exit 2
	trap 'rm -rf "$work"' EXIT
	export SANDBOX_STATE_DIR=$work/state
	mkdir -p "$work/bundle" "$SANDBOX_STATE_DIR"
	order=( container )
	if command -v crun >/dev/null && [ -s "$B/bench/crun-config.json" ]; then
		cp "$B/bench/crun-config.json" "$work/bundle/config.json"
		order+=( crun )
		echo "info crun_version=$(crun --version | head -n 1)"
	fi
	one() { # NAME RUN
		local ok=0
		case $1 in
		container) "$STAMP" --timeout 30 -- "$SB" run --isolation container --rm "$IMAGE" true >/dev/null 2>"$work/err" ;;
		crun) "$STAMP" --timeout 30 -- crun --cgroup-manager=disabled run --bundle "$work/bundle" "bench-$2-$RANDOM" \
			>/dev/null 2>"$work/err" ;;
		esac
		grep '^stamp:' "$work/err" | tail -n 1 >"$work/s"
		[ "$(field "$work/s" status)" = 0 ] && ok=1
		[ $ok = 1 ] || grep -v '^stamp:' "$work/err" | tail -n 3 | sed "s/^/  $1: /" >&2
		echo "rec vmm=$1 run=$2 ok=$ok exit_ms=$(field "$work/s" exit_ms) cpu_ms=$(field "$work/s" cpu_ms) maxrss_kib=$(field "$work/s" maxrss_kib)"
	}
	for v in "${order[@]}"; do one "$v" 0 >/dev/null; done
	for ((r = 1; r <= $2; r++)); do
		for ((j = 0; j < ${#order[@]}; j++)); do one "${order[(r + j) % ${#order[@]}]}" "$r"; done
	done
	exit 0
fi

case $N in ''|*[!0-9]*|0) die "BENCH_RUNS must be a positive number" ;; esac
[ "$N" -ge 10 ] || say "note: BENCH_RUNS=$N (the figures are meant for >= 10)"
for f in "$SB" "$SBI" "$K" "$BZ" "$I"; do [ -e "$f" ] || die "$f is missing: run 'make all' first"; done
make -s -f bench/Makefile BUILD=$B || die "could not build $STAMP"
work=$(mktemp -d "${TMPDIR:-/tmp}/bench-run.XXXXXX") || exit 2
trap 'rm -rf "$work"' EXIT

# The images the session uses: build/test-images (the tests' directory), imported here.
export SANDBOX_IMAGE_DIR=${SANDBOX_IMAGE_DIR:-$PWD/$B/test-images}
unset SANDBOX_STATE_DIR SANDBOX_NO_JAIL
"$SBI" runconf "$IMAGE" >/dev/null 2>"$work/err" || die "sandbox-image runconf $IMAGE: $(cat "$work/err")"
disk=$("$SBI" runconf "$IMAGE" 2>/dev/null | tr '\0' '\n' | sed -n 's/^disk=//p')

# The busybox image's files as a directory (crun's root, natively and in the
# test host, which has no loop devices): copied out of the erofs once per image.
if [ "$(cat "$ROOTFS.digest" 2>/dev/null)" != "$disk" ]; then
	say "copying the $IMAGE image's files to $ROOTFS"
	rm -rf "$ROOTFS" "$ROOTFS.digest"
	mkdir -p "$work/mnt" "$ROOTFS"
	if mount -t erofs -o ro,loop "$disk" "$work/mnt" 2>"$work/err"; then
		cp -a "$work/mnt/." "$ROOTFS/" && echo "$disk" >"$ROOTFS.digest"
		umount "$work/mnt"
	else
		say "cannot mount $disk ($(cat "$work/err")): no crun baseline"
		rm -rf "$ROOTFS"
	fi
fi

# crun's config.json for that root (made here: the test host has no python):
# `crun spec`'s default with the command `true`, no terminal, a read-only root
# and no mqueue mount (the test-host kernel has no POSIX message queues).
CRUN_CONFIG=$B/bench/crun-config.json
if command -v crun >/dev/null && [ -x "$ROOTFS/bin/busybox" ]; then
	mkdir -p "$work/spec"
	if (cd "$work/spec" && crun spec >/dev/null 2>&1); then
		python3 - "$work/spec/config.json" "$(readlink -f "$ROOTFS")" "$CRUN_CONFIG" <<'PY'
import json, sys
c = json.load(open(sys.argv[1]))
c["process"]["terminal"] = False
c["process"]["args"] = ["true"]
c["root"] = {"path": sys.argv[2], "readonly": True}
c["mounts"] = [m for m in c["mounts"] if m.get("type") != "mqueue"]
json.dump(c, open(sys.argv[3], "w"), indent=1)
c["process"]["args"] = ["sleep", "100000"]   # the container crun exec goes into
json.dump(c, open(sys.argv[3].replace(".json", "-exec.json"), "w"), indent=1)
PY
	fi
fi

# ---- part 1: natively --------------------------------------------------------------
native_part() {
	local recs=$work/native.recs i d
	: >"$recs"
	say "native: sandbox-image runconf cold/warm, $N runs"
	for ((i = 1; i <= N; i++)); do
		d=$work/img.$i
		mkdir -p "$d"
		SANDBOX_IMAGE_DIR=$d "$STAMP" --timeout 120 -- "$SBI" runconf "$IMAGE" >/dev/null 2>"$work/err"
		grep '^stamp:' "$work/err" | tail -n 1 >"$work/s"
		echo "rec vmm=runconf-cold run=$i ok=$([ "$(field "$work/s" status)" = 0 ] && echo 1 || echo 0) exit_ms=$(field "$work/s" exit_ms) cpu_ms=$(field "$work/s" cpu_ms)" >>"$recs"
		SANDBOX_IMAGE_DIR=$d "$STAMP" --timeout 120 -- "$SBI" runconf "$IMAGE" >/dev/null 2>"$work/err"
		grep '^stamp:' "$work/err" | tail -n 1 >"$work/s"
		echo "rec vmm=runconf-warm run=$i ok=$([ "$(field "$work/s" status)" = 0 ] && echo 1 || echo 0) exit_ms=$(field "$work/s" exit_ms) cpu_ms=$(field "$work/s" cpu_ms)" >>"$recs"
		rm -rf "$d"
	done
	say "native: --isolation container and crun, $N runs"
	local fs; fs=$(stat -f -c %T /sys/fs/cgroup 2>/dev/null)
	if [ "$fs" = cgroup2fs ]; then
		bench/run.sh --containers "$N" >>"$recs"
	else
		CG_NOTE="this host has cgroup v1/hybrid ($fs on /sys/fs/cgroup): both ran in a private mount namespace with cgroup2 mounted there"
		unshare -m --propagation private bash -c 'mount -t cgroup2 none /sys/fs/cgroup && exec bench/run.sh --containers "$1"' - "$N" >>"$recs"
	fi
	load_stats "$recs" n.
}
CG_NOTE=
[ "$NATIVE" = 1 ] && native_part

# ---- part 2: one session ------------------------------------------------------------
detect_kvm "$SB"; kind=$KVM_KIND
[ "$WHERE" = auto ] && { [ "$kind" = boots ] && WHERE=native || WHERE=kvmhost; }
busy_note=
session_busy && busy_note="another test-host session was running when this one started: figures are noisier"
out=$work/inner.out
inner_ok=0
[ "${BENCH_SESSION:-1}" = 1 ] || TRIES=0
: >"$out"
for ((try = 1; try <= TRIES; try++)); do
	if [ "$WHERE" = native ]; then
		say "sandbox run natively (this host's KVM boots Linux), $N runs each"
		BENCH_BUILD=$B bench/run-inner.sh "$N" >"$out" 2>"$work/inner.err"; rc=$?
	else
		say "one test-host session (tests/kvmhost/run), $N runs each, then idle sandboxes; takes several minutes"
		extra=; command -v crun >/dev/null && extra=$(command -v crun)
		KVMHOST_WITH_QEMU=1 KVMHOST_EXTRA="${KVMHOST_EXTRA:-} $extra" KVMHOST_TIMEOUT=${KVMHOST_TIMEOUT:-$((600 + N * 30))} \
			KVMHOST_ENV="BENCH_DENSITY BENCH_MIN_AVAIL_MIB BENCH_RUN_TIMEOUT BENCH_DENSITY_DEBUG" \
			tests/kvmhost/run bench/run-inner.sh "$N" </dev/null >"$out" 2>"$work/inner.err"; rc=$?
	fi
	grep -v '^run-inner: round' "$work/inner.err" | sed 's/^/  | /' >&2
	[ $rc = 0 ] && { inner_ok=1; break; }
	say "session $try ended with status $rc"
	[ $rc = 3 ] || break
done
[ -z "$busy_note" ] && session_busy && busy_note="another test-host session was running when this one ended: figures may be noisier"
load_stats "$out" i.
read_info "$out"

# ---- report ----------------------------------------------------------------------
report() {
	local w=${INFO[where]:-$WHERE} r row
	echo "sandbox run benchmark ($(date -u '+%Y-%m-%d %H:%M UTC'), $N runs per configuration, interleaved; median (min-max))"
	echo "commit $(git rev-parse --short HEAD 2>/dev/null)$(git diff --quiet HEAD -- vmm guest-init common 2>/dev/null || echo ' + uncommitted changes in vmm/guest-init/common')"
	echo "this machine: kernel $(uname -r), $(nproc) CPUs, KVM: $kind; load average at the end $(cut -d' ' -f1-3 /proc/loadavg)"
	if [ "$w" = kvmhost ]; then
		echo "session: ONE nested test host (QEMU TCG, 1 CPU, $(( ${INFO[host_mem_kib]:-0} / 1024 )) MiB, clocksource ${INFO[host_clocksource]:-?},"
		echo "         VMM jail ${INFO[jail]:-?}); absolute times there are TCG times: read the ratios"
	else
		echo "session: natively"
	fi
	[ -n "$busy_note" ] && echo "NOTE: $busy_note"
	[ $inner_ok = 1 ] || echo "NOTE: the session failed (see the messages above): its rows may be missing"
	echo "guest: $K + $I, ${MEM_MIB} MiB, 1 vCPU (QEMU: $BZ, same initramfs and command line)"
	echo
	printf "%-50s %-30s %s\n" "measure" "median (min-max)" "n / notes"
	row() { printf "%-50s %-30s %s\n" "$1" "$2" "$3"; }
	cnt() { echo "${CNT[$1]:-0}"; }
	echo "-- in the session ($w)"
	row "sandbox run --rm busybox true, first (cold) ms" "$(range i.run-cold.exit_ms)" "1 run, spawn -> exit"
	row "sandbox run --rm busybox true, warm ms" "$(range i.run.exit_ms)" "$(cnt i.run.exit_ms), spawn -> exit"
	row "  the same with SANDBOX_NO_JAIL=1 ms" "$(range i.run-nojail.exit_ms)" "$(cnt i.run-nojail.exit_ms), VMM not jailed"
	row "sandbox vm --timings: VM created ms" "$(range i.vm.vm_created_ms)" "$(cnt i.vm.vm_created_ms), from spawn"
	row "  kernel + initramfs loaded ms" "$(range i.vm.kernel_loaded_ms)" ""
	row "  first KVM_RUN ms" "$(range i.vm.first_run_ms)" ""
	row "  guest init reached ms" "$(range i.vm.init_ms)" ""
	row "  exit (guest powered off) ms" "$(range i.vm.exit_ms)" ""
	row "  CPU to first KVM_RUN ms" "$(range i.vm.cpu_to_first_run_ms)" ""
	row "  VMM RSS without guest memory KiB" "$(range i.vm.vmm_rss_kib %.0f)" "RSS - guest pages resident, at exit"
	row "  guest memory touched KiB" "$(range i.vm.guest_resident_kib %.0f)" "of ${MEM_MIB} MiB (lazily mapped)"
	row "PEER QEMU microvm boot to init ms" "$(range i.qemu.init_ms)" "$(cnt i.qemu.init_ms), bzImage"
	row "  QEMU RSS without guest RAM KiB" "$(range i.qemu.vmm_rss_kib %.0f)" "at init"
	row "PEER crun run true (same files) ms" "$(range i.crun.exit_ms)" "$(cnt i.crun.exit_ms)"
	row "sandbox exec ID true (a running sandbox) ms" "$(range i.exec.exit_ms)" "$(cnt i.exec.exit_ms), round trip"
	row "PEER crun exec ID true ms" "$(range i.crun-exec.exit_ms)" "$(cnt i.crun-exec.exit_ms)"
	row "sandbox-image runconf busybox (warm) ms" "$(range i.runconf.exit_ms)" "$(cnt i.runconf.exit_ms), run execs it"
	row "sandbox version (process start) ms" "$(range i.version.exit_ms)" "$(cnt i.version.exit_ms)"
	local p
	RUN_QEMU=$(ratio "${MED[i.run.exit_ms]:-}" "${MED[i.qemu.init_ms]:-}")
	p=$(paired "$out" run qemu exit_ms init_ms)
	row "RATIO run end to end / QEMU boot to init" "$RUN_QEMU" "paired ${p%% *}; target <= 0.5"
	VM_QEMU=$(ratio "${MED[i.vm.init_ms]:-}" "${MED[i.qemu.init_ms]:-}")
	p=$(paired "$out" vm qemu init_ms)
	row "RATIO vm boot to init / QEMU boot to init" "$VM_QEMU" "paired ${p%% *}"
	RUN_CRUN=$(ratio "${MED[i.run.exit_ms]:-}" "${MED[i.crun.exit_ms]:-}")
	row "RATIO run / crun (in the session)" "$RUN_CRUN" ""
	EXEC_RUN=$(ratio "${MED[i.exec.exit_ms]:-}" "${MED[i.run.exit_ms]:-}")
	row "RATIO exec round trip / cold-booting run" "$EXEC_RUN" "target <= 0.2"
	row "RATIO exec / crun exec" "$(ratio "${MED[i.exec.exit_ms]:-}" "${MED[i.crun-exec.exit_ms]:-}")" ""
	row "run overhead over vm boot (run - vm exit) ms" \
		"$(awk -v a="${MED[i.run.exit_ms]:--1}" -v b="${MED[i.vm.exit_ms]:--1}" 'BEGIN { if (a > 0 && b > 0) printf "%.1f", a - b; else print "n/a" }')" \
		"image disk, agent, container set-up"
	if [ "$NATIVE" = 1 ]; then
		echo "-- natively on this machine"
		row "sandbox-image runconf busybox, cold ms" "$(range n.runconf-cold.exit_ms)" "$(cnt n.runconf-cold.exit_ms), empty image dir: import + mkfs.erofs"
		row "sandbox-image runconf busybox, warm ms" "$(range n.runconf-warm.exit_ms)" "$(cnt n.runconf-warm.exit_ms), cached"
		row "sandbox run --isolation container --rm ms" "$(range n.container.exit_ms)" "$(cnt n.container.exit_ms), busybox true"
		row "PEER crun run true (same files) ms" "$(range n.crun.exit_ms)" "$(cnt n.crun.exit_ms)"
		row "RATIO container mode / crun" "$(ratio "${MED[n.container.exit_ms]:-}" "${MED[n.crun.exit_ms]:-}")" ""
		[ -n "$CG_NOTE" ] && echo "   ($CG_NOTE)"
	fi
	echo "-- idle sandboxes in the session (sandbox run -d --rm busybox sh -c 'echo up; exec sleep 1000')"
	printf "%-8s %-10s %-12s %-20s %-18s %-16s %s\n" "N" "start/s" "batch s" "MemAvail delta/N KiB" "PSS sum/N KiB" "VMM RSS/N KiB" "ok"
	local n ok bs rate avd pss vr dens_n=0 dens_avail=-1
	while read -r line; do
		eval "$(echo "${line#dens }" | tr ' ' '\n' | grep -E '^[a-z_]+=[0-9.-]+$' | sed 's/^/d_/')"
		rate=$(awk -v n="$d_batch" -v s="$d_batch_s" 'BEGIN { if (s > 0) printf "%.2f", n / s; else print "n/a" }')
		printf "%-8s %-10s %-12s %-20s %-18s %-16s %s\n" "$d_n" "$rate" "$d_batch_s" $((d_avail_delta_kib / d_n)) \
			$((d_pss_kib / d_n)) $((d_vmm_rss_kib / d_n)) "$d_ok (live $d_live)"
		dens_n=$d_n dens_avail=$((d_avail_delta_kib / d_n))
	done < <(grep '^dens ' "$out")
	echo
	echo "targets:"
	local t
	t="not measured"; [ "$RUN_QEMU" != n/a ] && { awk -v r="$RUN_QEMU" 'BEGIN { exit !(r <= 0.5) }' && t=met || t="not met"; }
	echo "  sandbox run busybox true end to end <= 0.5 x QEMU microvm boot to init: $RUN_QEMU -> $t"
	t="not measured"; [ "$EXEC_RUN" != n/a ] && { awk -v r="$EXEC_RUN" 'BEGIN { exit !(r <= 0.2) }' && t=met || t="not met"; }
	echo "  sandbox exec ID true <= 0.2 x sandbox run --rm busybox true: $EXEC_RUN -> $t"
	t="not measured"
	if [ "$dens_avail" -gt 0 ]; then
		local per100=$((dens_avail * 100 / 1024))
		awk -v m="$per100" 'BEGIN { exit !(m <= 2048) }' && t=met || t="not met"
		echo "  100 idle sandboxes in 2 GiB: $per100 MiB per 100 (MemAvailable delta at N=$dens_n) -> $t"
	else
		echo "  100 idle sandboxes in 2 GiB: not measured"
	fi
	echo
	echo "== Machine-readable"
	kv() { printf 'bench.run.%s=%s\n' "$1" "$2"; }
	kv where "$w"
	kv runs "$N"
	kv run_cold_ms "$(med i.run-cold.exit_ms)"
	kv run_warm_ms "$(med i.run.exit_ms)"
	kv vm_init_ms "$(med i.vm.init_ms)"
	kv qemu_init_ms "$(med i.qemu.init_ms)"
	kv crun_ms "$(med i.crun.exit_ms)"
	kv ratio_run_qemu "$RUN_QEMU"
	kv ratio_vm_qemu "$VM_QEMU"
	kv ratio_run_crun "$RUN_CRUN"
	kv exec_ms "$(med i.exec.exit_ms)"
	kv crun_exec_ms "$(med i.crun-exec.exit_ms)"
	kv ratio_exec_run "$EXEC_RUN"
	kv vmm_rss_kib "$(med i.vm.vmm_rss_kib %.0f)"
	kv native.runconf_cold_ms "$(med n.runconf-cold.exit_ms)"
	kv native.runconf_warm_ms "$(med n.runconf-warm.exit_ms)"
	kv native.container_ms "$(med n.container.exit_ms)"
	kv native.crun_ms "$(med n.crun.exit_ms)"
	grep '^dens ' "$out" | sed 's/^dens /bench.run.density: /'
	echo
	echo "== Setting"
	echo "QEMU: ${INFO[qemu_cmd]:-?} (${INFO[qemu_version]:-})"
	echo "crun: ${INFO[crun_version]:-?}; ${INFO[crun_cmd]:-}"
	echo "guest memory (kB) in a running container: ${INFO[guest_meminfo]:-?}"
	echo "${INFO[cgroup]:-}"
	echo "== Session messages"
	grep -v '^run-inner: round' "$work/inner.err" 2>/dev/null
	echo "== Raw runs"
	grep -h '^rec ' "$work/native.recs" 2>/dev/null | sed 's/^rec /native /'
	grep -h '^rec ' "$out" 2>/dev/null | sed "s/^rec /$w /"
}
mkdir -p "$(dirname "$RESULTS")"
report >"$RESULTS.tmp"
mv -f "$RESULTS.tmp" "$RESULTS"
# The table on the terminal; everything in the file.
sed '/^== Machine-readable/,$d' "$RESULTS"
say "full report (machine-readable lines, raw runs) in $RESULTS"
exit 0
