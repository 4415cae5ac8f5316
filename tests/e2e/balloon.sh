#!/bin/sh
# Free page reporting (virtio-balloon, docs/pmem.md): the guest has the
# device bound to its driver; what the guest frees goes back to the host
# (the VMM's RSS drops once a 48 MiB tmpfs file is removed, also when guest
# memory is a memfd shared with virtiofsd) and does not without the device
# (SANDBOX_NO_BALLOON, the control), nor in a clone of it, made without the
# variable (a clone has its snapshot's devices); a clone of a
# snapshot of such a sandbox still reports (the device's state went
# through the snapshot); a bad --balloon value is one error line.
#   tests/e2e/balloon.sh [BUILD_DIR]     VM isolation (test host)
# The images must be in $B/test-images (tests/e2e/prepare.sh does that).
# POSIX sh: runs under busybox in the test host.
cd "$(dirname "$0")/../.." || exit 2
. tests/e2e/lib.sh
t_sandbox_setup "${1:-build}" balloon
export SANDBOX_SNAPSHOT_DIR=$ST-snapshots
T_EXTRA_DIRS=$SANDBOX_SNAPSHOT_DIR
MIB=48

if [ "$ISO" != vm ]; then
	t_skip "virtio-balloon" "VM isolation only"
	t_summary
	exit
fi
if ! "$B/sandbox-image" runconf busybox >/dev/null 2>&1; then
	t_skip "virtio-balloon" "no busybox image in $SANDBOX_IMAGE_DIR (run tests/e2e/prepare.sh $B)"
	t_summary
	exit
fi

# rss ID: the VMM's resident KiB (ID: the sandbox's id, its state directory)
rss() {
	_v=$(sed -n 's/^vmm_pid=//p' "$ST/$1/state" 2>/dev/null)
	sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\).*/\1/p' "/proc/${_v:-0}/status" 2>/dev/null
}
# below ID KIB: is the VMM's RSS below KIB?
below() { _r=$(rss "$1"); [ -n "$_r" ] && [ "$_r" -lt "$2" ]; }
# fill_free ID WHAT WAIT: write $MIB MiB into the guest's tmpfs, remove it,
# and see whether the VMM gives most of it back within WAIT seconds
# (returns 0 if it did); DROP: the line to report.
fill_free() {
	$SB exec "$1" dd if=/dev/zero of=/dev/shm/big bs=1M count=$MIB >/dev/null 2>&1
	full=$(rss "$1")
	$SB exec "$1" rm /dev/shm/big
	if wait_for "$3" below "$1" $((full - MIB * 1024 * 2 / 3)); then
		DROP="$2: RSS $full -> $(rss "$1") KiB after freeing $MIB MiB"
		return 0
	fi
	DROP="$2: RSS $full -> $(rss "$1") KiB, ${3} s after freeing $MIB MiB"
	return 1
}

# --- the device and its driver ---------------------------------------------------
t_run drv $SB run -d --name on busybox sleep 1000
t_expect drv "run -d: a sandbox with the balloon" 0 '^[0-9a-f]{16}$'
on=$(head -n 1 "$T_OUT/drv.out")
wait_for 60 $SB exec on true
t_run bound $SB exec on ls /sys/bus/virtio/drivers/virtio_balloon
t_expect bound "the guest's virtio_balloon driver has the device" 0 '^virtio[0-9]+$'

# --- freed memory goes back to the host --------------------------------------------
if fill_free "$on" "with the balloon" 30; then t_pass "$DROP"; else t_fail "$DROP"; fi

# --- the control: without the device it does not ---------------------------------------
t_run off env SANDBOX_NO_BALLOON=1 $SB run -d --name off busybox sleep 1000
t_expect off "run -d: SANDBOX_NO_BALLOON=1 (no balloon)" 0 '^[0-9a-f]{16}$'
off=$(head -n 1 "$T_OUT/off.out")
wait_for 60 $SB exec off true
if fill_free "$off" "without the balloon (control)" 8; then t_fail "$DROP: dropped anyway"; else t_pass "$DROP: kept"; fi
# its snapshot's clones have no balloon either, whatever their environment
# (the device set is the snapshot's: a restore checks it)
t_run snapoff $SB snapshot off offsnap
t_expect snapoff "snapshot the sandbox without the balloon" 0 '^offsnap$'
t_run cloneoff $SB clone --name oc offsnap
t_expect cloneoff "clone it without SANDBOX_NO_BALLOON: as its snapshot, no balloon" 0 '^[0-9a-f]{16}$'
oc=$(head -n 1 "$T_OUT/cloneoff.out")
if wait_for 60 $SB exec "$oc" true; then
	t_run oc_drv $SB exec "$oc" ls /sys/bus/virtio/drivers/virtio_balloon
	if [ "$(t_rc oc_drv)" = 0 ] && ! grep -Eq '^virtio[0-9]+$' "$T_OUT/oc_drv.out"; then
		t_pass "the clone's guest has the driver and no balloon device"
	else t_fail "the clone's guest has the driver and no balloon device"; t_show oc_drv; fi
else t_fail "the clone answers exec"; fi
$SB rm -f off "$oc" >/dev/null 2>&1

# --- guest memory shared with virtiofsd (-v DIR): a memfd, given back with MADV_REMOVE ----
W=$ST-vol
T_EXTRA_DIRS="$T_EXTRA_DIRS $W"
mkdir -p "$W"
if [ -x /usr/lib/qemu/virtiofsd ] || command -v virtiofsd >/dev/null 2>&1; then
	t_run fs $SB run -d -v "$W:/data" busybox sleep 1000
	t_expect fs "run -d -v DIR:/data (guest memory a shared memfd)" 0 '^[0-9a-f]{16}$'
	fs=$(head -n 1 "$T_OUT/fs.out")
	if wait_for 60 $SB exec "$fs" true && fill_free "$fs" "with a host directory" 30; then t_pass "$DROP"; else t_fail "$DROP"; fi
	$SB rm -f "$fs" >/dev/null 2>&1
else
	t_skip "free page reporting with a host directory" "no virtiofsd"
fi

# --- a snapshot's clone still reports -------------------------------------------------
t_run snap $SB snapshot on bsnap
t_expect snap "snapshot a sandbox with the balloon" 0 '^bsnap$'
t_run clone $SB clone --name bc bsnap
t_expect clone "clone it" 0 '^[0-9a-f]{16}$'
cid=$(head -n 1 "$T_OUT/clone.out")
if wait_for 60 $SB exec "$cid" true && fill_free "$cid" "the clone" 30; then t_pass "$DROP"; else t_fail "$DROP"; fi
$SB rm -f "$cid" >/dev/null 2>&1

# --- a bad value -------------------------------------------------------------------
t_run bad $SB vm --kernel "$B/guest-vmlinux" --balloon on
t_one_line_error bad "sandbox vm --balloon on" "--balloon 'on': want report"
t_summary
