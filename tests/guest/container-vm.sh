#!/bin/sh
# Guest side of a manual check of the container setup inside the VM: the
# host mode (/init --host) run in the guest, where cgroup v2 has every
# controller. Prints the probe's answers; exits with the number of failures.
fail=0
check() { # DESC WANT_RC CMD...: run CMD, print its output, compare status
	d=$1 want=$2; shift 2
	out=$("$@" 2>&1); rc=$?
	echo "$out" | sed 's/^/    /'
	if [ "$rc" = "$want" ]; then echo "ok - $d"; else echo "FAIL - $d (status $rc, want $want)"; fail=$((fail + 1)); fi
}
mkdir -p /sys/fs/cgroup /mnt/c
mount -t cgroup2 none /sys/fs/cgroup || echo "no cgroup2"
echo "controllers: $(cat /sys/fs/cgroup/cgroup.controllers)"
mount -t tmpfs tmpfs /mnt/c
R=/mnt/c/root
mkdir -p $R/bin $R/etc $R/tmp
cp /bin/busybox /bin/probe $R/bin/
ln -s busybox $R/bin/sh
echo 'root:x:0:0:root:/root:/bin/sh' >$R/etc/passwd
echo 'root:x:0:' >$R/etc/group
check "PID 1 in the container" 0 /init --host $R -- probe pid
check "caps" 0 /init --host $R -- probe caps
check "mount EPERM" 0 /init --host $R -- probe try mount
check "memory limit: 64 MiB past 32M ends with 137" 137 /init --host $R --memory 32M -- probe alloc 64
check "under the memory limit" 0 /init --host $R --memory 32M -- probe alloc 8
check "pids limit stops a fork bomb" 1 /init --host $R --pids 16 -- probe forkbomb 64
check "cpu limit applied" 0 /init --host $R --cpus 0.5 -- probe exit 0
exit $fail
