#!/bin/sh
# Floods the serial console for tests/e2e/boot.sh: sandbox.flood=N lines
# (about 70 bytes each) on the kernel command line, then status 3; without
# it, forever.
n=$(sed -n 's/.*sandbox\.flood=\([0-9]*\).*/\1/p' /proc/cmdline)
i=0
while [ -z "$n" ] || [ $i -lt "$n" ]; do
	echo "console flood line $i: the quick brown fox jumps over the lazy dog"
	i=$((i + 1))
done
exit 3
