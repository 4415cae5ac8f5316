#!/bin/sh
# Guest side of tests/e2e/blk.sh, first boot: two read-write disks.
#   raw0  raw disk of 4 MiB random bytes from the host; blk.rawmd5 is the
#         md5 of its first MiB
#   ext0  an ext2/ext4 image the host formatted (type in blk.fs)
# Writes are checked by the host after the VM ends (and by blk-ro.sh).
. /tests/blk-lib.sh
RAW=$(dev_by_id raw0) || { bad "a disk with serial raw0"; finish; }
EXT=$(dev_by_id ext0) || { bad "a disk with serial ext0"; finish; }
echo "blk: raw0=$RAW ext0=$EXT"
MARK=$(arg blk.marker)

check "raw0: 4 MiB" [ "$(blockdev --getsize64 "$RAW")" = 4194304 ]
check "raw0: read-write" [ "$(cat "/sys/block/${RAW#/dev/}/ro")" = 0 ]
check "raw0: first MiB is what the host wrote" [ "$(dd if="$RAW" bs=1M count=1 2>/dev/null | md5)" = "$(arg blk.rawmd5)" ]

# 1 MiB of random bytes at 2 MiB, O_DIRECT: straight to the device.
dd if=/dev/urandom of=/tmp/w bs=1M count=1 2>/dev/null
W=$(md5 </tmp/w)
echo "blk: wrote-md5=$W"
check "raw0: direct 1 MiB write at 2 MiB" dd if=/tmp/w of="$RAW" bs=1M seek=2 oflag=direct conv=fsync 2>/dev/null
# A small unaligned write through the page cache, pushed out by sync.
printf '%s' "$MARK" | dd of="$RAW" bs=1 seek=$((3 * 1048576 + 100)) conv=notrunc 2>/dev/null
sync
echo 3 >/proc/sys/vm/drop_caches
check "raw0: reads back what was written (O_DIRECT)" \
	[ "$(dd if="$RAW" bs=1M skip=2 count=1 iflag=direct 2>/dev/null | md5)" = "$W" ]
check "raw0: marker reads back" [ "$(dd if="$RAW" bs=1 skip=$((3 * 1048576 + 100)) count=${#MARK} 2>/dev/null)" = "$MARK" ]
# Discard 64 KiB at 1 MiB (the host checks it reads as zeroes).
check "raw0: discard granularity offered" [ "$(cat "/sys/block/${RAW#/dev/}/queue/discard_max_bytes")" != 0 ]
check "raw0: blkdiscard 64 KiB at 1 MiB" blkdiscard -o 1048576 -l 65536 "$RAW"

# A file system the host made.
check "ext0: mount $(arg blk.fs)" mount -t ext4 "$EXT" /mnt
printf '%s\n' "$MARK" >/mnt/hello.txt
mkdir -p /mnt/dir/sub && echo nested >/mnt/dir/sub/file
dd if=/dev/urandom of=/mnt/data.bin bs=64k count=8 2>/dev/null
echo "blk: data-md5=$(md5 </mnt/data.bin)"
check "ext0: umount" umount /mnt
check "ext0: mounts again, files there" sh -c "mount -t ext4 $EXT /mnt && [ \"\$(cat /mnt/hello.txt)\" = '$MARK' ] && umount /mnt"
sync
finish
