#!/bin/sh
# A diagnostic (bench/, docs/pmem.md): the guest kernel's memory and boot
# as root sees them: the image mounted (erofs, from /dev/pmem0 with
# dax=always, else from /dev/vda), meminfo, the kernel's log of device
# probe times (initcall_debug on the command line), what it freed and
# reserved, and when it ran /init.
# the nvdimm bus's probes flushed, as guest-init does before its mount
[ -e /sys/bus/nd/devices/ndbus0/wait_probe ] && echo "memstat: nd wait_probe $(cat /sys/bus/nd/devices/ndbus0/wait_probe)"
if [ -b /dev/pmem0 ]; then dev=/dev/pmem0 opt=ro,dax=always; else dev=/dev/vda opt=ro; fi
mkdir -p /mnt && mount -t erofs -o $opt $dev /mnt && echo "memstat: mounted $(grep ' /mnt ' /proc/mounts)"
echo "memstat: meminfo"; grep -E 'MemTotal|MemFree|Cached|Shmem|Slab|KernelStack|PageTables|Percpu|AnonPages' /proc/meminfo
echo "memstat: kernel log"
dmesg | grep -E 'probe of|Run /init|Freeing|Memory:|erofs|nd_pmem|vmemmap'
