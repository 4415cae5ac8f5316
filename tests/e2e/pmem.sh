#!/bin/sh
# The image over virtio-pmem + DAX (`sandbox run --image-transport pmem`,
# docs/pmem.md): the guest has /dev/pmem0 and no image disk, the image's
# files are DAX (statx STATX_ATTR_DAX through the overlay), a hostile
# guest writing /dev/pmem0 changes nothing (the host file's sha256, and the
# bytes the guest reads back), --image-transport blk still works, bad
# values; python3 runs from the Debian image (tests/image/debootstrap.sh
# makes it; its cache is PMEM_DEBIAN_DIR, default
# ~/.cache/sandbox/images-debootstrap; skipped where it is absent); a pmem
# sandbox snapshotted and cloned: the clone maps the same image again (its
# root still the image over /dev/pmem0 with DAX, whose bytes it reads and
# runs), run --rm --from works, and a snapshot whose image file was replaced
# is refused in one line (by the owner's check of the meta, and by the
# VMM's of the device record when the meta is made to agree).
#   tests/e2e/pmem.sh [BUILD_DIR]     VM isolation (test host)
# The images must be in $B/test-images (tests/e2e/prepare.sh does that).
# POSIX sh: runs under busybox in the test host.
cd "$(dirname "$0")/../.." || exit 2
. tests/e2e/lib.sh
t_sandbox_setup "${1:-build}" pmem-state
export SANDBOX_SNAPSHOT_DIR=$ST-snapshots
T_EXTRA_DIRS=$SANDBOX_SNAPSHOT_DIR
R="$SB run --rm"
DEB=${PMEM_DEBIAN_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/sandbox/images-debootstrap}

if [ "$ISO" != vm ]; then
	t_skip "virtio-pmem" "VM isolation only"
	t_summary
	exit
fi
if ! "$B/sandbox-image" runconf busybox >"$T_OUT/rc" 2>/dev/null; then
	t_skip "virtio-pmem" "no busybox image in $SANDBOX_IMAGE_DIR (run tests/e2e/prepare.sh $B)"
	t_summary
	exit
fi
IMG=$(tr '\0' '\n' <"$T_OUT/rc" | sed -n 's/^disk=//p')
FST=$(tr '\0' '\n' <"$T_OUT/rc" | sed -n 's/^fstype=//p')
if [ "$FST" != erofs ]; then
	t_skip "virtio-pmem" "the busybox image is $FST, not erofs"
	t_summary
	exit
fi
sum0=$(sha256sum "$IMG" | cut -d' ' -f1)

# --- the image is memory: /dev/pmem0 with DAX, no read-only disk ---------------------
# (vda, if any, is the writable layer: read-write.)
t_run dev $R --image-transport pmem busybox sh -c \
	'cat /sys/block/pmem0/queue/dax; for d in /sys/block/*; do printf "%s:%s " ${d##*/} $(cat $d/ro); done; echo; grep " / " /proc/mounts'
if [ "$(t_rc dev)" = 0 ] && [ "$(sed -n 1p "$T_OUT/dev.out")" = 1 ] && sed -n 2p "$T_OUT/dev.out" | grep -q pmem0 &&
	! sed -n 2p "$T_OUT/dev.out" | grep -q 'vd.:1' && grep -q 'lowerdir=/run/image' "$T_OUT/dev.out"; then
	t_pass "--image-transport pmem: /dev/pmem0 is DAX, no read-only disk; the root's lower layer is the image"
else t_fail "--image-transport pmem: /dev/pmem0 is DAX, no read-only disk"; t_show dev; fi

# --- a hostile guest: root in the guest kernel writes /dev/pmem0 ----------------------
# (tests/guest/pmem-write.sh, in the test initramfs under sandbox vm: no
# container in the way.) The host file keeps every byte; the guest reads
# back the image's bytes; the VM lives on.
t_paths "$B"
t_run hostile "$SB" vm --kernel "$K" --initrd "$I" --console --timeout 120 \
	--append "quiet sandbox.run=/tests/pmem-write.sh" --pmem "$IMG"
sum1=$(sha256sum "$IMG" | cut -d' ' -f1)
if [ "$sum0" = "$sum1" ] && grep -q "pmem-write: direct write status" "$T_OUT/hostile.out"; then
	t_pass "a guest writing /dev/pmem0 (buffered+fsync, O_DIRECT) leaves the host's image unchanged (sha256 $(echo "$sum1" | cut -c1-12)...)"
else t_fail "a guest writing /dev/pmem0 leaves the host's image unchanged" "sha256 $sum0 -> $sum1"; t_show hostile; fi
if grep -q "pmem-write: device unchanged" "$T_OUT/hostile.out" && grep -q "pmem-write: mounted again:.*dax=always" "$T_OUT/hostile.out"; then
	t_pass "the guest reads back the image's bytes after writing zeroes over them, and mounts it again"
else t_fail "the guest reads back the image's bytes after writing zeroes over them"; t_show hostile; fi
# The next sandbox on the same image sees it whole.
t_run next $R --image-transport pmem busybox cat /etc/passwd
t_expect next "the next sandbox on the image starts and reads it" 0 '^root:'

# --- the fallback and bad values ---------------------------------------------------
t_run blk $R --image-transport blk busybox sh -c 'ls /sys/block | tr "\n" " "'
if [ "$(t_rc blk)" = 0 ] && grep -q vda "$T_OUT/blk.out" && ! grep -q pmem0 "$T_OUT/blk.out"; then
	t_pass "--image-transport blk: the image is vda, no pmem0"
else t_fail "--image-transport blk: the image is vda, no pmem0"; t_show blk; fi
t_run bad $R --image-transport nfs busybox true
t_one_line_error bad "--image-transport nfs: one error line, status 125" "--image-transport: 'nfs' is not blk or pmem"

# --- python from the Debian image, its files DAX --------------------------------------
if [ -d "$DEB" ] && SANDBOX_IMAGE_DIR=$DEB "$B/sandbox-image" runconf debian >/dev/null 2>&1; then
	# statx(2): STATX_ATTR_DAX (0x200000) on python's binary and libc, as
	# the container sees them (through the overlay).
	cat >"$T_OUT/dax.py" <<'EOF'
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
for p in ("/usr/bin/python3", "/usr/lib/x86_64-linux-gnu/libc.so.6"):
    buf = ctypes.create_string_buffer(256)
    r = libc.syscall(ctypes.c_long(332), ctypes.c_int(-100), p.encode(), ctypes.c_int(0), ctypes.c_uint(0x7ff), buf)
    if r != 0:
        print(p, "statx failed", ctypes.get_errno()); continue
    attrs = int.from_bytes(buf.raw[8:16], "little")
    print(p, "dax" if attrs & 0x200000 else "not-dax")
print(1)
EOF
	t_run py env SANDBOX_IMAGE_DIR="$DEB" $R --image-transport pmem debian python3 -c "$(cat "$T_OUT/dax.py")"
	if [ "$(t_rc py)" = 0 ] && [ "$(grep -c ' dax$' "$T_OUT/py.out")" = 2 ] && grep -qx 1 "$T_OUT/py.out"; then
		t_pass "python3 runs from the Debian image over pmem; its binary and libc are DAX"
	else t_fail "python3 runs from the Debian image over pmem; its binary and libc are DAX"; t_show py; fi
	t_run pyblk env SANDBOX_IMAGE_DIR="$DEB" $R --image-transport blk debian python3 -c "$(cat "$T_OUT/dax.py")"
	if [ "$(t_rc pyblk)" = 0 ] && [ "$(grep -c ' not-dax$' "$T_OUT/pyblk.out")" = 2 ]; then
		t_pass "over blk the same files are not DAX (the check can fail)"
	else t_fail "over blk the same files are not DAX"; t_show pyblk; fi
else
	t_skip "python3 over pmem" "no Debian image in $DEB (tests/image/debootstrap.sh makes it)"
fi

# --- snapshots and clones: the window restored from the file -----------------------
# (last: it replaces the image file, with a copy of itself)
t_run psrc $SB run -d --name psrc --image-transport pmem busybox sh -c \
	'echo made-before >/tmp/file; sha256sum /bin/busybox >/tmp/sum; exec sleep 100000'
wait_for 60 $SB exec psrc test -s /tmp/sum
t_run psnap $SB snapshot psrc psnap
if [ "$(t_rc psnap)" = 0 ] && grep -qx 'image_transport=pmem' "$SANDBOX_SNAPSHOT_DIR/psnap/meta"; then
	t_pass "a pmem sandbox is snapshotted (meta: image_transport=pmem)"
else t_fail "a pmem sandbox is snapshotted"; t_show psnap; fi
t_run pclone $SB clone -n 1 --name pc psnap
t_expect pclone "clone of a pmem snapshot" 0 '^[0-9a-f]{16}$'
# The clone: /dev/pmem0 is DAX, the root's lower layer is the image on it,
# no disk holds the image; busybox (exec'd from the window) reads all of
# itself through DAX and gets the sum the source got.
t_run pcin $SB exec pc sh -c 'cat /sys/block/pmem0/queue/dax; grep " / " /proc/mounts;
	ls /sys/block | tr "\n" " "; echo; sha256sum /bin/busybox | cmp - /tmp/sum && echo same-bytes; cat /tmp/file'
if [ "$(t_rc pcin)" = 0 ] && [ "$(sed -n 1p "$T_OUT/pcin.out")" = 1 ] && grep -q 'lowerdir=/run/image' "$T_OUT/pcin.out" &&
	grep -q pmem0 "$T_OUT/pcin.out" && grep -qx same-bytes "$T_OUT/pcin.out" && grep -qx made-before "$T_OUT/pcin.out"; then
	t_pass "the clone's root is the image over /dev/pmem0 with DAX; it runs and reads the image's bytes"
else t_fail "the clone's root is the image over /dev/pmem0 with DAX"; t_show pcin; fi
$SB rm -f pc >/dev/null 2>&1
t_run pfrom $SB run --rm --from psnap sh -c 'cat /tmp/file; exit 3'
t_expect pfrom "run --rm --from a pmem snapshot: output and status" 3 '^made-before$'
# The image replaced by a copy of itself (a new inode, as a re-import
# renames one in): the owner refuses the snapshot from its meta...
n=$(ls "$ST" | wc -l)
cp -p "$IMG" "$IMG.new" && mv "$IMG.new" "$IMG"
t_run prepl $SB run --rm --from psnap true
t_one_line_error prepl "a pmem snapshot whose image file was replaced: refused" 'changed since'
# ... and with a meta edited to agree, the VMM from the device record.
# (hard links, not copies: the test host's cp writes a sparse memory file
# or layer out whole, and its root is in RAM; the meta is a copy of its own)
mkdir -m 700 "$SANDBOX_SNAPSHOT_DIR/pedit"
for f in "$SANDBOX_SNAPSHOT_DIR/psnap"/*; do ln "$f" "$SANDBOX_SNAPSHOT_DIR/pedit/"; done
rm -f "$SANDBOX_SNAPSHOT_DIR/pedit/meta"
cp -p "$SANDBOX_SNAPSHOT_DIR/psnap/meta" "$SANDBOX_SNAPSHOT_DIR/pedit/meta"
set -- $(stat -c '%d %i %s %Y' "$IMG")
sed -i -e "s/^disk_dev=.*/disk_dev=$1/" -e "s/^disk_ino=.*/disk_ino=$2/" -e "s/^disk_size=.*/disk_size=$3/" \
	-e "s/^disk_mtime=.*/disk_mtime=$4/" "$SANDBOX_SNAPSHOT_DIR/pedit/meta"
t_run pvmm $SB run --rm --from pedit true
t_one_line_error pvmm "the same with the meta made to agree: the VMM refuses the device record" 'restoring the snapshot: .*changed since'
[ "$(ls "$ST" | wc -l)" = "$n" ] && t_pass "the refused restores leave no sandbox behind" ||
	t_fail "the refused restores leave no sandbox behind" "$(ls "$ST")"
rm -rf "$SANDBOX_SNAPSHOT_DIR"
t_summary
