#!/bin/sh
# End-to-end boot tests: our VMM boots the real guest kernel and init on a
# real KVM. Run where /dev/kvm can boot Linux (natively, or inside the
# nested test host: tests/kvmhost/run tests/e2e/boot.sh).
#   tests/e2e/boot.sh [BUILD_DIR]
cd "$(dirname "$0")/../.." || exit 2
. tests/e2e/lib.sh
B=${1:-build}
SB=$B/sandbox
K=build/guest-vmlinux
I=build/guest-initramfs.cpio
[ -e "$B/guest-vmlinux" ] && K=$B/guest-vmlinux
[ -e "$B/guest-initramfs.cpio" ] && I=$B/guest-initramfs.cpio

boot() { t_run "$1" "$SB" vm --kernel "$K" --initrd "$I" --timeout 120 --timings "$@"; }

# 1-4: the vCPU x memory matrix, with the console on; the init's marker
# reports what the guest itself sees.
for cpus in 1 2; do
	for mem in 128 512; do
		n=boot_${cpus}cpu_${mem}m
		t_run $n "$SB" vm --kernel "$K" --initrd "$I" --cpus $cpus --mem ${mem}M --console --timings --timeout 120
		t_expect $n "boot $cpus vCPU(s), $mem MiB: init marker, clean exit" 0 \
			"sandbox-init: reached init: cpus=$cpus " "end=reset status=0"
		seen=$(sed -n 's/.*reached init: cpus=[0-9]* mem_mib=\([0-9]*\).*/\1/p' "$T_OUT/$n.out")
		if [ -n "$seen" ] && [ "$seen" -le "$mem" ] && [ "$seen" -ge $((mem * 80 / 100)) ]; then
			t_pass "guest sees ~$mem MiB (MemTotal $seen MiB)"
		else
			t_fail "guest sees ~$mem MiB (MemTotal '${seen}' MiB)"
		fi
		init_ms=$(t_timing $n init_reached_ms)
		case "$init_ms" in ""|0.000) t_fail "boot timer recorded init for $n (got '$init_ms')" ;;
		*) t_pass "boot timer recorded init at ${init_ms} ms ($cpus vCPU, $mem MiB)" ;; esac
	done
done

# Console off (the default): nothing on stdout, still a clean end.
t_run quiet "$SB" vm --kernel "$K" --initrd "$I" --timeout 120
if [ "$(t_rc quiet)" = 0 ] && [ ! -s "$T_OUT/quiet.out" ]; then t_pass "console off: silent stdout, exit 0"
else t_fail "console off: silent stdout, exit 0"; t_show quiet; fi

# The status the guest reports becomes the VMM's exit status.
t_run status "$SB" vm --kernel "$K" --initrd "$I" --timeout 120 --append sandbox.exit=7
t_expect status "guest-reported exit status 7 is the VMM's" 7

# An init that fails before the agent channel is up (sandbox.agent, but
# this VM has no vsock device) says why through the event port, and the
# VMM repeats it: the console being off, nothing else would.
t_run words "$SB" vm --kernel "$K" --initrd "$I" --timeout 120 --append sandbox.agent=1
t_expect words "an init that cannot reach the host: its last words, on the VMM's stderr" 125 "" \
	"^sandbox: the guest's last words: (vsock socket|connect to the host \(vsock port [0-9]+\)): [A-Z]"

# bzImage fallback.
t_run bz "$SB" vm --kernel "$(dirname "$K")/guest-bzImage" --initrd "$I" --console --timeout 120
t_expect bz "bzImage boots to init" 0 "sandbox-init: reached init"

# A guest that never ends is stopped by --timeout (no init: the kernel
# panics and, with panic=0, waits forever).
t_run hang "$SB" vm --kernel "$K" --timeout 3 --append "panic=0 rdinit=/nonexistent"
t_expect hang "--timeout stops a hung guest with status 124" 124 "" "did not end within 3 s"

# virtio-rng: the guest has /dev/hwrng, reads random bytes from it, and no
# faster than --rng's rate (tests/guest/rng.sh).
TI=build/test-initramfs.cpio
[ -e "$B/test-initramfs.cpio" ] && TI=$B/test-initramfs.cpio
t_run rng "$SB" vm --kernel "$K" --initrd "$TI" --console --timeout 120 --rng rate=16K,burst=4K \
	--append "quiet sandbox.run=/tests/rng.sh"
t_expect rng "virtio-rng: /dev/hwrng gives random bytes at the --rng rate" 0 "rng: ok"
t_run neg_rng "$SB" vm --kernel "$K" --rng rate=0
t_one_line_error neg_rng "--rng with a zero rate" "--rng"

# The console's reader goes away or stops reading (issue 13): the VMM
# ignores SIGPIPE and drops what a reader that is gone would get, and a
# console that takes nothing holds a vCPU only until the VM is asked to end.
# The guest floods the console from the test initramfs (console-flood.sh).
flood() {
	"$SB" vm --kernel "$K" --initrd "$TI" --console --timeout "$1" \
		--append "quiet sandbox.run=/tests/console-flood.sh $2"
}
# | head -c 10 while the guest writes 2000 lines (~140 KB, more than a pipe
# holds) and ends with status 3: the VMM reports 3, it is not killed by
# SIGPIPE (141).
t0=$(date +%s)
( flood 100 sandbox.flood=2000 2>"$T_OUT/flood_head.err"; echo $? >"$T_OUT/flood_head.rc" ) |
	head -c 10 >"$T_OUT/flood_head.out"
t1=$(date +%s)
if [ "$(t_rc flood_head)" = 3 ] && [ "$(wc -c <"$T_OUT/flood_head.out")" -eq 10 ]; then
	t_pass "console | head -c 10: the VMM outlives its reader and reports the guest's status 3 ($((t1 - t0)) s)"
else
	t_fail "console | head -c 10: want status 3 (141: killed by SIGPIPE) and 10 bytes read"; t_show flood_head
fi
# A reader that takes 100 bytes and then stops (sleep holds the pipe open)
# while the guest floods forever: the full console must not keep the vCPU,
# and so the VMM, from ending at --timeout 25 (status 124). (25 s: the guest
# must fill the pipe first, which took ~15 s under TCG with another test
# host running.)
rm -f "$T_OUT/stall.rc"
( flood 25 "" 2>"$T_OUT/stall.err"; echo $? >"$T_OUT/stall.rc" ) |
	{ head -c 100 >"$T_OUT/stall.out"; exec sleep 90; } &
reader=$!
t0=$(date +%s) i=0
while [ ! -s "$T_OUT/stall.rc" ] && [ $i -lt 55 ]; do sleep 1; i=$((i + 1)); done
t1=$(date +%s)
kill $reader 2>/dev/null
wait
# The --timeout message lists each vCPU's port exits: one per console byte,
# so more than a pipe holds shows the console really was full.
io=$(sed -n 's/.*vCPU0 [^,]* io=\([0-9]*\).*/\1/p' "$T_OUT/stall.err")
if [ "$(t_rc stall)" = 124 ] && [ $((t1 - t0)) -le 40 ] && [ "${io:-0}" -gt 70000 ]; then
	t_pass "console reader stopped: --timeout still ends the VMM (status 124 after $((t1 - t0)) s, $io port exits)"
else
	t_fail "console reader stopped: want status 124 within 40 s, more than 70000 port exits" \
		"status '$(cat "$T_OUT/stall.rc" 2>/dev/null)' after $((t1 - t0)) s, io='$io'"
	t_show stall
fi

# Negative cases: one-line error, status 125, nothing booted.
printf 'this is not a kernel\n%.0s' $(seq 1 200) >"$T_OUT/notakernel"
t_run neg_notkernel "$SB" vm --kernel "$T_OUT/notakernel"
t_one_line_error neg_notkernel "a file that is no kernel" "not a Linux kernel"
head -c 1000000 "$K" >"$T_OUT/truncated"
t_run neg_trunc "$SB" vm --kernel "$T_OUT/truncated"
t_one_line_error neg_trunc "a truncated vmlinux" "truncated"
t_run neg_missing "$SB" vm --kernel "$T_OUT/does-not-exist"
t_one_line_error neg_missing "a missing kernel file" "No such file"
t_run neg_initrd_missing "$SB" vm --kernel "$K" --initrd "$T_OUT/does-not-exist"
t_one_line_error neg_initrd_missing "a missing initrd file" "initrd .*No such file"
t_run neg_smallmem "$SB" vm --kernel "$K" --mem 8M
t_one_line_error neg_smallmem "memory too small for the kernel" "does not fit in guest memory"
t_run neg_cpus "$SB" vm --kernel "$K" --cpus 0
t_one_line_error neg_cpus "--cpus 0" "--cpus"
t_run neg_mem "$SB" vm --kernel "$K" --mem lots
t_one_line_error neg_mem "--mem with a bad size" "--mem"
t_run neg_flag "$SB" vm --kernel "$K" --bogus
t_one_line_error neg_flag "an unknown flag" "unknown"
t_run neg_nokernel "$SB" vm
t_one_line_error neg_nokernel "no --kernel" "--kernel is required"
t_run neg_cmdline "$SB" vm --kernel "$K" --append "$(head -c 3000 /dev/zero | tr '\0' x)"
t_one_line_error neg_cmdline "a command line over the kernel's limit" "command line"

t_summary
