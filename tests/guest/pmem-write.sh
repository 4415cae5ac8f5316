#!/bin/sh
# A hostile guest against its virtio-pmem image (tests/e2e/pmem.sh): root in
# the guest kernel, no container in the way, overwrites /dev/pmem0's first
# 64 KiB (the superblock) and a stretch further in with zeroes, through the
# page cache with fsync and with O_DIRECT (the pmem driver's stores then go
# straight into the mapped range), and reads back what the device holds.
# Every store hits a read-only KVM memory slot: the VMM drops it.
r() { dd if=/dev/pmem0 bs=4096 skip="$1" count=16 iflag=direct 2>/dev/null | md5sum | cut -d' ' -f1; }
[ -b /dev/pmem0 ] || { echo "pmem-write: no /dev/pmem0 ($(ls /sys/block | tr '\n' ' '))"; exit 1; }
echo "pmem-write: dax=$(cat /sys/block/pmem0/queue/dax) size=$(cat /sys/block/pmem0/size)"
a0=$(r 0) a1=$(r 200)
dd if=/dev/zero of=/dev/pmem0 bs=4096 count=16 conv=fsync 2>/dev/null; echo "pmem-write: buffered write status $?"
dd if=/dev/zero of=/dev/pmem0 bs=4096 count=16 oflag=direct 2>/dev/null; echo "pmem-write: direct write status $?"
dd if=/dev/zero of=/dev/pmem0 bs=4096 seek=200 count=16 oflag=direct 2>/dev/null; echo "pmem-write: direct write (block 200) status $?"
sync
b0=$(r 0) b1=$(r 200)
if [ "$a0" = "$b0" ] && [ "$a1" = "$b1" ]; then echo "pmem-write: device unchanged"; else echo "pmem-write: device CHANGED $a0/$b0 $a1/$b1"; fi
mkdir -p /mnt && mount -t erofs -o ro,dax=always /dev/pmem0 /mnt && ls /mnt/bin/busybox >/dev/null &&
	echo "pmem-write: mounted again: $(grep ' /mnt ' /proc/mounts)"
