# Shared by the blk-*.sh guest scripts (sourced, not run): find disks by
# their virtio-blk ID, read arguments from the kernel command line, count
# failed checks. Every line starts with "blk: " so the host can grep it.
FAILS=0
ok() { echo "blk: ok - $1"; }
bad() { echo "blk: FAIL - $1"; FAILS=$((FAILS + 1)); }
# check DESC CMD...: run CMD, report.
check() { _d=$1; shift; if "$@"; then ok "$_d"; else bad "$_d"; fi; }
# arg KEY: the value of KEY=... on the kernel command line.
arg() { tr ' ' '\n' </proc/cmdline | sed -n "s/^$1=//p" | head -n 1; }
# dev_by_id ID: /dev/vdX whose serial (VIRTIO_BLK_T_GET_ID) is ID.
dev_by_id() {
	for _s in /sys/block/vd*/serial; do
		[ -e "$_s" ] || continue
		if [ "$(cat "$_s")" = "$1" ]; then _b=${_s%/serial}; echo "/dev/${_b##*/}"; return 0; fi
	done
	return 1
}
md5() { md5sum | cut -d' ' -f1; }
# Report the end: the exit status is the number of failed checks.
finish() { echo "blk: done, $FAILS failed"; exit "$FAILS"; }
