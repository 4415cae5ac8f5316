#!/bin/sh
# Host directory (virtio-fs, virtiofsd) vs disk image (virtio-blk, ext4) as a
# volume, the same data: sequential read of a 64 MiB file (cold in the guest,
# warm in the host's page cache) and a 64 MiB write with fsync, busybox dd
# inside the container; RUNS runs each (default 3), every one a fresh sandbox.
#   bench/volumes-fs.sh [BUILD_DIR]      (in the test host: tests/kvmhost/run)
# Times in the test host are emulated: compare the two columns, not absolutes.
cd "$(dirname "$0")/.." || exit 2
B=${1:-build}
SB=$PWD/$B/sandbox
RUNS=${RUNS:-3}
export SANDBOX_IMAGE_DIR=$PWD/$B/test-images
W=${TMPDIR:-/tmp}/sandbox-bench-vfs.$$
export SANDBOX_STATE_DIR=$W/state
mkdir -p "$W/dir" "$W/state" && chmod 700 "$W/state"
trap 'rm -rf "$W"' EXIT
dd if=/dev/urandom of="$W/dir/data" bs=1M count=64 2>/dev/null
# e2fsprogs' (busybox's cannot build from a directory; the test host has both)
MKE2FS=mke2fs
[ -x /usr/sbin/mke2fs ] && MKE2FS=/usr/sbin/mke2fs
"$MKE2FS" -q -t ext4 -d "$W/dir" "$W/disk.ext4" 256M || { echo "bench: mke2fs -d failed" >&2; exit 1; }
# MB/s: 64 MiB over the "real" of busybox's time applet (Debian's busybox
# dd prints no rate): "real\t0m 1.23s".
rate() { sed -n 's/^real[[:space:]]*\([0-9]*\)m *\([0-9.]*\)s.*/\1 \2/p' | tail -n 1 |
	awk '{ t = $1 * 60 + $2; if (t > 0) printf "%.1f", 64 / t }'; }
one() { # one SRC WHAT: MB/s
	case $2 in
	read) cmd='time dd if=/data/data of=/dev/null bs=1M' ;;
	write) cmd='time dd if=/dev/zero of=/data/w bs=1M count=64 conv=fsync; rm -f /data/w' ;;
	esac
	"$SB" run --rm -v "$1:/data" busybox sh -c "$cmd" >"$W/out" 2>&1
	[ -n "${VERBOSE:-}" ] && sed 's/^/# /' "$W/out" >&2
	rate <"$W/out"
}
median() { tr ' ' '\n' | grep . | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
printf '%-8s %14s %14s %8s\n' "" "virtio-fs MB/s" "virtio-blk MB/s" "fs/blk"
for what in read write; do
	fs= blk=
	for i in $(seq "$RUNS"); do
		fs="$fs $(one "$W/dir" $what)"
		blk="$blk $(one "$W/disk.ext4" $what)"
	done
	f=$(echo "$fs" | median) b=$(echo "$blk" | median)
	printf '%-8s %14s %14s %8s   (runs: fs%s; blk%s)\n' "$what" "$f" "$b" \
		"$(awk -v f="$f" -v b="$b" 'BEGIN { if (b > 0) printf "%.2f", f / b; else print "-" }')" "$fs" "$blk"
done
