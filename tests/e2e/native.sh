#!/bin/sh
# Host-side checks that must run on the real host, not in the test host:
# how the VMM explains a host where it cannot boot Linux.
#   tests/e2e/native.sh [BUILD_DIR]
cd "$(dirname "$0")/../.." || exit 2
. tests/e2e/lib.sh
B=${1:-build}
SB=$B/sandbox
K=build/guest-vmlinux
I=build/guest-initramfs.cpio

if [ -d /sys/module/kvm_pvm ]; then
	# This host's KVM really is PVM: the VMM must refuse with an explanation.
	t_run pvm_detect "$SB" kvm-check
	t_expect pvm_detect "kvm-check reports the PVM host" 1 "^pvm: .*PVM"
	t_run pvm_refuse "$SB" vm --kernel "$K" --initrd "$I"
	t_one_line_error pvm_refuse "booting on a PVM host is refused with an explanation" "PVM.*tests/kvmhost/run"
	# Forcing it gets as far as KVM allows and then names the cause.
	if [ ! -c /dev/kvm ]; then
		t_skip "--allow-pvm runs the guest and explains the KVM internal error" \
			"kvm_pvm is loaded but this host has no /dev/kvm"
	else
		t_run pvm_forced "$SB" vm --kernel "$K" --initrd "$I" --allow-pvm --timeout 60 --timings
		if [ "$(t_rc pvm_forced)" = 125 ] && grep -q "^sandbox: KVM internal error.*PVM" "$T_OUT/pvm_forced.err" &&
			grep -q "first_run_ms=" "$T_OUT/pvm_forced.err"; then
			t_pass "--allow-pvm runs the guest and explains the KVM internal error"
		else
			t_fail "--allow-pvm runs the guest and explains the KVM internal error"; t_show pvm_forced
		fi
	fi
else
	t_skip "PVM host detection" "this host's KVM is not PVM"
	# The detection can still be exercised through its override.
	t_run pvm_forced_env env SANDBOX_ASSUME_PVM=1 "$SB" vm --kernel "$K" --initrd "$I"
	t_one_line_error pvm_forced_env "a PVM host (simulated) is refused with an explanation" "PVM"
fi

if [ "$(id -u)" = 0 ] && command -v unshare >/dev/null 2>&1; then
	# No /dev/kvm at all: an empty /dev in a private mount namespace.
	t_run nokvm env SANDBOX_ASSUME_PVM=0 unshare -m sh -c \
		'mount -t tmpfs none /dev && exec "$0" vm --kernel "$1"' "$SB" "$K"
	t_one_line_error nokvm "no /dev/kvm" "/dev/kvm does not exist"
	if command -v setpriv >/dev/null 2>&1 && [ "$(stat -c %a /dev/kvm 2>/dev/null)" = 600 ]; then
		t_run noperm env SANDBOX_ASSUME_PVM=0 setpriv --reuid=65534 --regid=65534 --clear-groups \
			"$SB" vm --kernel "$K"
		t_one_line_error noperm "no permission on /dev/kvm" "no permission to open /dev/kvm"
	else
		t_skip "no permission on /dev/kvm" "needs setpriv and a /dev/kvm with mode 600"
	fi
else
	t_skip "no /dev/kvm, no permission" "needs root and unshare to hide /dev/kvm"
fi

t_summary
