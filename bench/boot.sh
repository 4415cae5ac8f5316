#!/bin/bash
# bench/boot.sh: the boot benchmark (`make bench`; assumes `make all` built
# build/). Prints a report and saves it to build/bench/boot-results.txt.
#
#  1. Natively on this machine, RUNS times each, interleaved: our VMM's CPU
#     time from process start to its first KVM_RUN and its memory (peak RSS,
#     and RSS minus the guest memory the guest touched); QEMU's setup CPU and
#     RSS (-S: set up, vCPU never started) and a plain QEMU run under stamp.
#     On a PVM host (this project's machines) the guest cannot boot: our VMM
#     stops at the KVM internal error, QEMU spins until stamp kills it; the
#     report says what each number then is. On a VMX/SVM host they boot.
#  2. In ONE session where KVM boots Linux (the nested test host,
#     tests/kvmhost/run with KVMHOST_WITH_QEMU=1, unless this host's KVM can
#     boot Linux itself), bench/boot-inner.sh boots the guest RUNS times with
#     our VMM and with QEMU's microvm machine, interleaved: median
#     boot-to-init from spawn, total time, memory, and the ratio ours/QEMU.
#
# Environment:
#   BENCH_RUNS=10            runs per VMM (each part)
#   BENCH_WHERE=auto         where part 2 runs: auto (native if `sandbox
#                            kvm-check` says KVM boots Linux, else kvmhost),
#                            kvmhost, native
#   BENCH_NATIVE=1           0: skip part 1
#   BENCH_BZ=1               0: skip our VMM on the bzImage in part 2
#   BENCH_SESSION_TRIES=3    fresh test-host sessions to try if one is unusable
#   BENCH_QEMU_PVM_TIMEOUT=3 seconds a native QEMU run may spin on a PVM host
#   BENCH_TSC_KHZ=auto       the test host kernel gets tsc_early_khz=THIS (auto:
#                            this machine's TSC rate; 0: not passed). Without it,
#                            on a loaded machine the test host's TSC calibration
#                            under TCG fails, it runs on refined-jiffies, and
#                            nested guests hang in their first KVM_RUN.
set -uo pipefail
export LC_ALL=C
cd "$(dirname "$0")/.." || exit 2
B=build
N=${BENCH_RUNS:-10}
WHERE=${BENCH_WHERE:-auto}
NATIVE=${BENCH_NATIVE:-1}
TRIES=${BENCH_SESSION_TRIES:-3}
RESULTS=$B/bench/boot-results.txt
. bench/lib.sh
STAMP=$B/bench/stamp
SB=$B/sandbox

die() { echo "bench: $*" >&2; exit 2; }
say() { echo "bench: $*" >&2; }
case $N in ''|*[!0-9]*|0) die "BENCH_RUNS must be a positive number" ;; esac
[ "$N" -ge 10 ] || say "note: BENCH_RUNS=$N (the benchmark's figures are meant for >= 10)"
for f in "$SB" "$K" "$BZ" "$I"; do [ -e "$f" ] || die "$f is missing: run 'make all' first"; done
command -v "$QEMU" >/dev/null || die "$QEMU not found (apt-get install qemu-system-x86)"
make -s -f bench/Makefile BUILD=$B || die "could not build $STAMP"

work=$(mktemp -d "${TMPDIR:-/tmp}/bench.XXXXXX") || exit 2
trap 'rm -rf "$work"' EXIT
FIFO=$work/debugcon

# Statistics (stats, load_stats, med, have, range, paired, ratio): bench/lib.sh.
le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a >= 0 && a <= b) }'; }

# ---- where KVM can boot Linux --------------------------------------------------------
detect_kvm "$SB"; kvm_kind=$KVM_KIND kvm_note=$KVM_NOTE
if [ "$WHERE" = auto ]; then
	if [ $kvm_kind = boots ]; then WHERE=native; else WHERE=kvmhost; fi
fi

# ---- part 1: natively ------------------------------------------------------------
native_part() {
	local recs=$work/native.recs allow= qt=${BENCH_QEMU_PVM_TIMEOUT:-3} i err=$work/nerr
	[ $kvm_kind = pvm ] && allow=--allow-pvm
	[ $kvm_kind = boots ] && qt=60
	: >"$recs"
	qemu_cmd microvm "$FIFO"
	for ((i = 1; i <= N; i++)); do
		say "native round $i/$N"
		# Our VMM.
		"$STAMP" --timeout 90 -- "$SB" vm --kernel "$K" --initrd "$I" --mem ${MEM_MIB}M --timings \
			--timeout 60 $allow >/dev/null 2>"$err"
		grep '^sandbox-timings:' "$err" | tail -n 1 >"$work/t"
		grep '^stamp:' "$err" | tail -n 1 >"$work/s"
		local cpu1 first end ok=0 peak rss
		cpu1=$(field "$work/t" cpu_to_first_run_ms) first=$(field "$work/t" first_run_ms) end=$(field "$work/t" end)
		peak=$(field "$work/t" rss_peak_kib) rss=$(field "$work/t" rss_kib)
		[ -n "$cpu1" ] && [ -n "$first" ] && [ "$first" != 0.000 ] && ok=1
		[ $i = 1 ] && grep -m1 '^sandbox: KVM' "$err" >"$work/native_err"
		echo "rec vmm=sandbox run=$i ok=$ok cpu_to_first_run_ms=${cpu1:--1} first_run_ms=${first:--1}" \
			"init_ms=$(field "$work/t" init_reached_ms) rss_peak_kib=${peak:--1} vmm_rss_kib=$(field "$work/t" vmm_rss_kib)" \
			"guest_kib=$(field "$work/t" guest_resident_kib) peak_over_exit_kib=$(( ${peak:-0} - ${rss:-0} ))" \
			"maxrss_kib=$(field "$work/s" maxrss_kib) cpu_ms=$(field "$work/s" cpu_ms) exit_ms=$(field "$work/s" exit_ms) end=$end" >>"$recs"
		# QEMU paused (-S): set up, vCPU never run. Killed after 1.5 s.
		rm -f "$FIFO"
		"$STAMP" --fifo "$FIFO" --timeout 1.5 -- "${QEMU_CMD[@]}" -S >/dev/null 2>"$err"
		grep '^stamp:' "$err" | tail -n 1 >"$work/s"
		ok=0; [ "$(field "$work/s" timed_out)" = 1 ] && ok=1   # still alive: it set up fine
		echo "rec vmm=qemu-setup run=$i ok=$ok maxrss_kib=$(field "$work/s" maxrss_kib) cpu_ms=$(field "$work/s" cpu_ms)" >>"$recs"
		# QEMU running the guest.
		rm -f "$FIFO"
		"$STAMP" --fifo "$FIFO" --timeout "$qt" --guest-mib $MEM_MIB -- "${QEMU_CMD[@]}" >/dev/null 2>"$err"
		grep '^stamp:' "$err" | tail -n 1 >"$work/s"
		ok=0
		if [ $kvm_kind = boots ]; then [ "$(field "$work/s" init_ms)" != -1 ] && ok=1
		else [ "$(field "$work/s" timed_out)" = 1 ] && ok=1; fi   # it ran (spinning) until killed
		echo "rec vmm=qemu-run run=$i ok=$ok maxrss_kib=$(field "$work/s" maxrss_kib) cpu_ms=$(field "$work/s" cpu_ms)" \
			"user_ms=$(field "$work/s" user_ms) sys_ms=$(field "$work/s" sys_ms) init_ms=$(field "$work/s" init_ms)" \
			"exit_ms=$(field "$work/s" exit_ms) vmm_rss_kib=$(field "$work/s" vmm_rss_at_init_kib)" >>"$recs"
	done
	cp "$recs" "$work/native.keep"
	load_stats "$recs" n.
	# QEMU on the vmlinux our VMM boots: does it have a way in (PVH)?
	qemu_cmd microvm "$FIFO" "$K"
	rm -f "$FIFO"
	"$STAMP" --fifo "$FIFO" --timeout 10 -- "${QEMU_CMD[@]}" -S >/dev/null 2>"$err"
	pvh_note=$(grep -v '^stamp:' "$err" | head -n 1)
	[ -n "$pvh_note" ] || pvh_note="QEMU accepted the vmlinux (PVH)"
	qemu_cmd microvm "$FIFO"
}

# ---- part 2: one session where KVM boots Linux ----------------------------------
# This machine's TSC rate in kHz (TCG's guest TSC runs at the host's rate).
host_tsc_khz() {
	local mhz
	mhz=$(dmesg 2>/dev/null | sed -n 's/.*tsc: Refined TSC clocksource calibration: \([0-9.]*\) MHz.*/\1/p' | tail -n 1)
	[ -n "$mhz" ] || mhz=$(dmesg 2>/dev/null | sed -n 's/.*tsc: Detected \([0-9.]*\) MHz.*/\1/p' | tail -n 1)
	if [ -z "$mhz" ] && grep -qw constant_tsc /proc/cpuinfo; then
		mhz=$(sed -n 's/^cpu MHz[[:space:]]*: //p' /proc/cpuinfo | head -n 1)
	fi
	[ -n "$mhz" ] && awk -v m="$mhz" 'BEGIN { if (m > 0) printf "%d\n", m * 1000 }'
}
tsc_note=
if [ "$WHERE" = kvmhost ]; then
	tsc_khz=${BENCH_TSC_KHZ:-auto}
	[ "$tsc_khz" = auto ] && tsc_khz=$(host_tsc_khz)
	if [[ ${KVMHOST_APPEND:-} == *tsc_early_khz=* ]]; then
		tsc_note="KVMHOST_APPEND='$KVMHOST_APPEND' (given by the caller)"
	elif [ -n "$tsc_khz" ] && [ "$tsc_khz" != 0 ]; then
		export KVMHOST_APPEND="${KVMHOST_APPEND:+$KVMHOST_APPEND }tsc_early_khz=$tsc_khz"
		tsc_note="KVMHOST_APPEND='$KVMHOST_APPEND' (this machine's TSC rate: without it a loaded machine's test host fails TSC calibration and nested guests hang)"
	else
		tsc_note="no tsc_early_khz (BENCH_TSC_KHZ=0 or rate unknown): on a loaded machine the test host may fall back to refined-jiffies and hang"
	fi
fi
inner_part() {
	local try rc out=$work/inner.out errf=$work/inner.err
	for ((try = 1; try <= TRIES; try++)); do
		if [ "$WHERE" = native ]; then
			say "boot comparison natively (this host's KVM boots Linux), $N runs each"
			BENCH_BUILD=$B bench/boot-inner.sh "$N" >"$out" 2>"$errf"; rc=$?
		else
			say "boot comparison in one test-host session (tests/kvmhost/run), $N runs each; takes a few minutes"
			KVMHOST_WITH_QEMU=1 KVMHOST_TIMEOUT=${KVMHOST_TIMEOUT:-$((300 + N * 40))} \
				KVMHOST_ENV="BENCH_BZ BENCH_RUN_TIMEOUT" BENCH_BZ=${BENCH_BZ:-1} BENCH_RUN_TIMEOUT=${BENCH_RUN_TIMEOUT:-30} \
				tests/kvmhost/run bench/boot-inner.sh "$N" </dev/null >"$out" 2>"$errf"; rc=$?
		fi
		grep -v '^boot-inner: round' "$errf" | sed 's/^/  | /' >&2
		[ $rc = 0 ] && return 0
		say "session $try ended with status $rc$([ $rc = 3 ] && echo ' (unusable: no guest booted)')"
	done
	return 1
}

# ---- run -----------------------------------------------------------------------------
[ "$NATIVE" = 1 ] && [ $kvm_kind != none ] && native_part
inner_ok=0
inner_part && inner_ok=1
[ -s "$work/inner.out" ] && load_stats "$work/inner.out" i.
read_info "$work/inner.out"

# ---- report --------------------------------------------------------------------------
report() {
	local w=${INFO[where]:-$WHERE}
	echo "sandbox boot benchmark ($(date -u '+%Y-%m-%d %H:%M UTC'), $N runs per VMM and part)"
	echo "guest: $K (our VMM; ELF, no decompression) / $BZ (QEMU, and our VMM for a like-for-like row),"
	echo "       initramfs $I, $MEM_MIB MiB, 1 vCPU, console off"
	echo "guest command line (both VMMs): $APPEND"
	local kd=$kvm_kind
	case $kvm_kind in
	pvm) kd="pvm (kvm_pvm: runs only PVM-patched guest kernels, so a stock Linux guest cannot boot)" ;;
	boots) kd="boots Linux guests natively" ;;
	none) kd="none (/dev/kvm missing)" ;;
	cannot) kd="cannot boot Linux guests ($(echo "$kvm_note" | head -n 1 | cut -c1-80))" ;;
	esac
	echo "this machine: kernel $(uname -r), $(nproc) CPUs, KVM: $kd"
	echo

	if [ "$NATIVE" = 1 ] && have n.sandbox.runs; then
		echo "== 1. Natively on this machine ($N runs each, interleaved; median (min-max))"
		if [ $kvm_kind = pvm ]; then
			echo "   KVM here is PVM: the guest cannot boot. Our VMM (--allow-pvm) runs until the KVM internal"
			echo "   error ($(cut -c1-60 "$work/native_err" 2>/dev/null)...); QEMU's vCPU spins until stamp kills it."
		fi
		printf "   %-52s %s\n" "sandbox: CPU time, process start -> first KVM_RUN" "$(range n.sandbox.cpu_to_first_run_ms) ms"
		printf "   %-52s %s\n" "sandbox: wall time, spawn -> first KVM_RUN" "$(range n.sandbox.first_run_ms) ms"
		printf "   %-52s %s\n" "sandbox: peak RSS, whole process" "$(range n.sandbox.rss_peak_kib %.0f) KiB"
		printf "   %-52s %s\n" "sandbox: guest memory resident (kernel+initrd loaded)" "$(range n.sandbox.guest_kib %.0f) KiB"
		printf "   %-52s %s\n" "sandbox: VMM RSS = RSS - guest resident, at exit" "$(range n.sandbox.vmm_rss_kib %.0f) KiB"
		printf "   %-52s %s\n" "QEMU -S (set up, vCPU not started): CPU time" "$(range n.qemu-setup.cpu_ms) ms"
		printf "   %-52s %s\n" "QEMU -S: peak RSS (no guest memory touched yet)" "$(range n.qemu-setup.maxrss_kib %.0f) KiB"
		if [ $kvm_kind = boots ]; then
			printf "   %-52s %s\n" "QEMU run: spawn -> init" "$(range n.qemu-run.init_ms) ms"
			printf "   %-52s %s\n" "QEMU run: peak RSS (with guest memory)" "$(range n.qemu-run.maxrss_kib %.0f) KiB"
			printf "   %-52s %s\n" "QEMU run: VMM RSS at init (smaps, minus guest RAM)" "$(range n.qemu-run.vmm_rss_kib %.0f) KiB"
			printf "   %-52s %s\n" "sandbox: spawn -> init" "$(range n.sandbox.init_ms) ms"
		else
			printf "   %-52s %s\n" "QEMU run, guest stuck, killed at ${BENCH_QEMU_PVM_TIMEOUT:-3} s: peak RSS" "$(range n.qemu-run.maxrss_kib %.0f) KiB"
			printf "   %-52s %s\n" "  (its RSS holds the guest memory the firmware and" ""
			printf "   %-52s %s\n" "   stuck guest touched); CPU (the spinning vCPU, sys)" "$(range n.qemu-run.cpu_ms %.0f) ms"
			printf "   %-52s %s\n" "  of which user (QEMU itself)" "$(range n.qemu-run.user_ms) ms"
		fi
		printf "   %-52s %s\n" "our VMM's (setup) CPU / QEMU -S CPU" \
			"$(ratio "${MED[n.sandbox.cpu_to_first_run_ms]:--1}" "${MED[n.qemu-setup.cpu_ms]:--1}")"
		echo "   runs that behaved as expected: sandbox ${MED[n.sandbox.runs]:-0}/${MAX[n.sandbox.runs]:-0}," \
			"QEMU -S ${MED[n.qemu-setup.runs]:-0}/${MAX[n.qemu-setup.runs]:-0}, QEMU run ${MED[n.qemu-run.runs]:-0}/${MAX[n.qemu-run.runs]:-0}"
		echo "   QEMU given the vmlinux instead: $pvh_note"
		echo "   (so QEMU boots the bzImage: it decompresses the kernel in the guest; our VMM loads the ELF directly)"
		echo
	fi

	if [ $w = kvmhost ]; then
		echo "== 2. Boot to init, ONE session in the nested KVM test host (QEMU TCG, AMD SVM+NPT, 1 CPU;"
		echo "      host kernel ${INFO[host_kernel]:-?}, clocksource ${INFO[host_clocksource]:-?}), $N runs each, interleaved"
		echo "      absolute times are TCG times and mean little; the ratios are the result"
		echo "      test host kernel: $tsc_note"
	else
		echo "== 2. Boot to init, natively ($N runs each, interleaved)"
	fi
	if [ $inner_ok != 1 ] && ! have i.sandbox.runs; then
		echo "   FAILED: no usable session (see the messages above)"
	else
		echo "   QEMU machine: ${INFO[qemu_machine]:-?} (${INFO[qemu_machine_why]:-?})"
		echo "   QEMU command (FIFO = a pipe stamp reads; ${INFO[qemu_version]:-}):"
		echo "     ${INFO[qemu_cmd]:-?}"
		echo "   our VMM: $SB vm --kernel $K|$BZ --initrd $I --mem ${MEM_MIB}M --timings --timeout ${BENCH_RUN_TIMEOUT:-30}"
		echo "            (its default command line, the one QEMU gets with -append)"
		echo "   each run spawned by $STAMP (T0 = spawn; our VMM measures from T0 via SANDBOX_T0_NS)"
		echo
		printf "   %-24s %-26s %-12s %-11s %-13s %-11s %s\n" "VMM (kernel)" "spawn->init ms" "total ms" "peak RSS" "VMM RSS" "CPU ms" "ok"
		printf "   %-24s %-26s %-12s %-11s %-13s %-11s %s\n" "" "median (min-max)" "median" "KiB" "KiB (-guest)" "median" ""
		local v label
		for v in sandbox qemu sandbox-bz; do
			have i.$v.runs || continue
			case $v in
			sandbox) label="sandbox (vmlinux)" ;;
			qemu) label="QEMU ${INFO[qemu_machine]:-} (bzImage)" ;;
			sandbox-bz) label="sandbox (bzImage)" ;;
			esac
			printf "   %-24s %-26s %-12s %-11s %-13s %-11s %s\n" "$label" "$(range i.$v.init_ms)" "$(med i.$v.exit_ms)" \
				"$(med i.$v.maxrss_kib %.0f)" "$(med i.$v.vmm_rss_kib %.0f)" "$(med i.$v.cpu_ms %.0f)" \
				"${MED[i.$v.runs]:-0}/${MAX[i.$v.runs]:-0}"
		done
		echo "   (peak RSS: wait4's ru_maxrss, guest memory included. VMM RSS: ours = RSS - guest pages resident,"
		echo "    at exit; QEMU's = RSS minus its ${MEM_MIB} MiB guest-RAM mapping in /proc/PID/smaps, at init.)"
		echo
		boot_ratio=$(ratio "${MED[i.sandbox.init_ms]:--1}" "${MED[i.qemu.init_ms]:--1}")
		bz_ratio=$(ratio "${MED[i.sandbox-bz.init_ms]:--1}" "${MED[i.qemu.init_ms]:--1}")
		total_ratio=$(ratio "${MED[i.sandbox.exit_ms]:--1}" "${MED[i.qemu.exit_ms]:--1}")
		local pr; pr=$(paired "$work/inner.out" sandbox qemu init_ms)
		paired_ratio=${pr%% *}
		echo "   boot-to-init ratio sandbox/QEMU: $boot_ratio   (our default vmlinux vs QEMU's bzImage; ratio of the medians)"
		[ "$paired_ratio" != n/a ] && set -- $pr &&
			echo "   same ratio paired by round: median $1 (min $2, max $3, $4 rounds; less sensitive to load that shifts over time)"
		have i.sandbox-bz.runs && echo "   boot-to-init ratio, both on the bzImage: $bz_ratio"
		echo "   total (spawn -> exit) ratio: $total_ratio"
	fi
	echo

	# Targets.
	local vmm_rss=-1 src=
	have i.sandbox.vmm_rss_kib && { vmm_rss=${MED[i.sandbox.vmm_rss_kib]}; src="test host, after a full boot"; }
	if have n.sandbox.vmm_rss_kib && awk -v a="${MED[n.sandbox.vmm_rss_kib]}" -v b="$vmm_rss" 'BEGIN { exit !(a > b) }'; then
		vmm_rss=${MED[n.sandbox.vmm_rss_kib]}; src="native"
	fi
	t_ratio="not met"; le "${boot_ratio:--1}" 0.5 && t_ratio=met
	[ "${boot_ratio:-n/a}" = n/a ] && t_ratio="not measured"
	t_rss="not met"; le "$vmm_rss" 2048 && t_rss=met
	[ "$vmm_rss" = -1 ] && t_rss="not measured"
	echo "== Targets"
	echo "   boot ratio <= 0.5: ${boot_ratio:-n/a} -> $t_ratio"
	printf "   VMM RSS (not counting guest memory) <= 2 MiB (2048 KiB): %.0f KiB (%s, worst median) -> %s\n" "$vmm_rss" "$src" "$t_rss"
	echo

	echo "== Machine-readable"
	kv() { printf 'bench.%s=%s\n' "$1" "$2"; }
	kv runs "$N"
	kv where "$w"
	kv host_kvm "$kvm_kind"
	kv qemu.machine "${INFO[qemu_machine]:-none}"
	kv qemu.kernel bzImage
	kv sandbox.kernel vmlinux
	kv boot_ms.sandbox "$(med i.sandbox.init_ms)"
	kv boot_ms.qemu "$(med i.qemu.init_ms)"
	kv boot_ms.sandbox_bzimage "$(med i.sandbox-bz.init_ms)"
	kv total_ms.sandbox "$(med i.sandbox.exit_ms)"
	kv total_ms.qemu "$(med i.qemu.exit_ms)"
	kv boot_ratio "${boot_ratio:-n/a}"
	kv boot_ratio_paired "${paired_ratio:-n/a}"
	kv boot_ratio_bzimage "${bz_ratio:-n/a}"
	kv total_ratio "${total_ratio:-n/a}"
	kv rss_peak_kib.sandbox "$(med i.sandbox.maxrss_kib %.0f)"
	kv rss_peak_kib.qemu "$(med i.qemu.maxrss_kib %.0f)"
	kv vmm_rss_kib.sandbox "$(med i.sandbox.vmm_rss_kib %.0f)"
	kv vmm_rss_kib.qemu "$(med i.qemu.vmm_rss_kib %.0f)"
	kv ok.sandbox "${MED[i.sandbox.runs]:-0}/${MAX[i.sandbox.runs]:-0}"
	kv ok.qemu "${MED[i.qemu.runs]:-0}/${MAX[i.qemu.runs]:-0}"
	kv native.cpu_to_first_run_ms "$(med n.sandbox.cpu_to_first_run_ms %.3f)"
	kv native.first_run_ms "$(med n.sandbox.first_run_ms %.3f)"
	kv native.rss_peak_kib "$(med n.sandbox.rss_peak_kib %.0f)"
	kv native.vmm_rss_kib "$(med n.sandbox.vmm_rss_kib %.0f)"
	kv native.qemu_setup_cpu_ms "$(med n.qemu-setup.cpu_ms %.3f)"
	kv native.qemu_setup_rss_kib "$(med n.qemu-setup.maxrss_kib %.0f)"
	kv native.qemu_run_rss_kib "$(med n.qemu-run.maxrss_kib %.0f)"
	kv native.qemu_run_cpu_ms "$(med n.qemu-run.cpu_ms %.0f)"
	kv target.boot_ratio "$t_ratio"
	kv target.vmm_rss "$t_rss"
	echo
	echo "== Raw runs"
	grep -h '^rec ' "$work/native.keep" 2>/dev/null | sed 's/^rec /native /'
	grep -h '^rec ' "$work/inner.out" 2>/dev/null | sed "s/^rec /$w /"
}
mkdir -p "$(dirname "$RESULTS")"
report | tee "$RESULTS.tmp"
mv -f "$RESULTS.tmp" "$RESULTS"
say "saved to $RESULTS"
[ $inner_ok = 1 ]
