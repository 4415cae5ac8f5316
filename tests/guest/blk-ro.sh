#!/bin/sh
# Guest side of tests/e2e/blk.sh, second boot: eight disks at once.
#   blk.disks=ID:BYTES:RO,...  every disk the host attached
#   ext0 (read-only now) holds what blk-rw.sh wrote: hello.txt with
#   blk.marker, data.bin with md5 blk.datamd5; raw0 is read-only too.
. /tests/blk-lib.sh
MARK=$(arg blk.marker)

n=$(ls -d /sys/block/vd* | wc -l)
check "8 disks (found $n)" [ "$n" = 8 ]
for d in $(arg blk.disks | tr ',' ' '); do
	id=${d%%:*} rest=${d#*:}
	size=${rest%%:*} ro=${rest#*:}
	if dev=$(dev_by_id "$id"); then
		check "$id ($dev): $size bytes" [ "$(blockdev --getsize64 "$dev")" = "$size" ]
		check "$id ($dev): ro=$ro" [ "$(cat "/sys/block/${dev#/dev/}/ro")" = "$ro" ]
	else
		bad "a disk with serial '$id'"
	fi
done

EXT=$(dev_by_id ext0) || { bad "ext0"; finish; }
RAW=$(dev_by_id raw0) || { bad "raw0"; finish; }
check "ext0: mount -o ro" mount -t ext4 -o ro "$EXT" /mnt
check "ext0: hello.txt from the first boot" [ "$(cat /mnt/hello.txt)" = "$MARK" ]
check "ext0: data.bin from the first boot" [ "$(md5 </mnt/data.bin)" = "$(arg blk.datamd5)" ]
check "ext0: nested file" [ "$(cat /mnt/dir/sub/file)" = nested ]
if touch /mnt/new 2>/tmp/err; then bad "ext0: creating a file fails"; else ok "ext0: creating a file fails ($(cat /tmp/err))"; fi
umount /mnt

# Writes to the read-only raw device fail, direct or buffered.
check "raw0: blockdev --getro" [ "$(blockdev --getro "$RAW")" = 1 ]
if dd if=/dev/zero of="$RAW" bs=4096 count=1 oflag=direct 2>/tmp/err; then
	bad "raw0: direct write fails"
else
	ok "raw0: direct write fails ($(head -n 1 /tmp/err))"
fi
if dd if=/dev/zero of="$RAW" bs=4096 count=1 conv=fsync 2>/tmp/err; then
	bad "raw0: buffered write fails"
else
	ok "raw0: buffered write fails ($(head -n 1 /tmp/err))"
fi
check "raw0: still reads" [ "$(dd if="$RAW" bs=1M count=1 2>/dev/null | md5)" = "$(arg blk.rawmd5)" ]
finish
