#!/bin/sh
# End-to-end tests of virtio-blk: the guest (test initramfs, scripts in
# tests/guest/blk-*.sh) reads and writes disks backed by files here, and
# this side checks the bytes in those files. Run where /dev/kvm can boot
# Linux (natively, or: tests/kvmhost/run tests/e2e/blk.sh).
#   tests/e2e/blk.sh [BUILD_DIR]
cd "$(dirname "$0")/../.." || exit 2
. tests/e2e/lib.sh
t_paths "${1:-build}"
if [ ! -e "$I" ] || [ ! -e "$K" ]; then
	t_fail "virtio-blk end-to-end: no $I or $K (make all builds them)"
	t_summary
	exit
fi
D=$T_OUT/disks
mkdir -p "$D"
md5() { md5sum | cut -d' ' -f1; }
# bytes FILE OFFSET COUNT: COUNT bytes of FILE from OFFSET, to stdout
bytes() { dd if="$1" bs=4096 iflag=skip_bytes,count_bytes skip="$2" count="$3" 2>/dev/null; }
# guest_val NAME KEY: the value the guest printed as "blk: KEY=..."
guest_val() { tr -d '\r' <"$T_OUT/$1.out" | sed -n "s/^blk: $2=//p" | head -n 1; }
# guest_checks NAME DESC: the guest's own checks passed (status 0).
# SANDBOX_E2E_VERBOSE=1 shows every guest line.
guest_checks() {
	[ "${SANDBOX_E2E_VERBOSE:-0}" = 1 ] && tr -d '\r' <"$T_OUT/$1.out" | grep -a "^blk: " | sed 's/^/    /'
	if [ "$(t_rc "$1")" = 0 ] && grep -q "^blk: done, 0 failed" "$T_OUT/$1.out"; then
		t_pass "$2 ($(grep -c '^blk: ok' "$T_OUT/$1.out") guest checks)"
	else
		t_fail "$2"
		grep -a "blk: FAIL" "$T_OUT/$1.out" | sed 's/^/    /'
		t_show "$1"
	fi
}
# boot NAME SCRIPT APPEND [--disk ...]: run /tests/SCRIPT in the guest.
# An overloaded nested test host sometimes livelocks a guest on its very
# first KVM_RUN (rip=0x1000000 runs=1, before any device is touched): that
# boot is retried once.
boot() {
	_n=$1 _script=$2 _append=$3
	shift 3
	for _try in 1 2; do
		t_run "$_n" "$SB" vm --kernel "$K" --initrd "$I" --console --timeout 60 \
			--append "quiet sandbox.run=/tests/$_script $_append" "$@"
		[ $_try = 1 ] && [ "$(t_rc "$_n")" = 124 ] && grep -q "rip=0x1000000 runs=1 " "$T_OUT/$_n.err" || break
		echo "    ($_n: guest stuck in its first KVM_RUN, a known livelock of an overloaded host: retrying)"
		sleep 5
	done
}

# --- images ----------------------------------------------------------
MARK=blkmark-$$-$(date +%s)
dd if=/dev/urandom of="$D/raw.img" bs=1M count=4 2>/dev/null
RAW_MD5_1M=$(bytes "$D/raw.img" 0 1048576 | md5)            # 0..1M: untouched
RAW_GAP=$(bytes "$D/raw.img" 1114112 983040 | md5)          # 1M+64K..2M: untouched
RAW_TAIL=$(bytes "$D/raw.img" 3145728 100 | md5)            # 3M..3M+100: untouched
dd if=/dev/zero of="$D/ext.img" bs=1M count=16 2>/dev/null
# e2fsprogs' mke2fs if there is one (by path: busybox sh prefers its own
# applet), else busybox's.
E2=
for p in /usr/sbin/mke2fs /sbin/mke2fs; do
	[ -x "$p" ] && "$p" -V 2>&1 | grep -q "EXT2FS Library" && { E2=$p; break; }
done
if [ -n "$E2" ]; then
	FS=ext4; "$E2" -q -F -t ext4 "$D/ext.img" >/dev/null 2>&1
else
	FS=ext2; mke2fs -F "$D/ext.img" >/dev/null 2>&1      # busybox: ext2 (the guest's ext4 driver mounts it)
fi
[ $? = 0 ] && t_pass "host made an $FS image" || t_fail "host made an $FS image"

# --- boot 1: two read-write disks ------------------------------------
boot rw blk-rw.sh "blk.marker=$MARK blk.rawmd5=$RAW_MD5_1M blk.fs=$FS" \
	--disk "$D/raw.img,id=raw0" --disk "$D/ext.img,id=ext0"
guest_checks rw "boot 1: guest reads, writes, discards, makes files on 2 rw disks"

W=$(guest_val rw wrote-md5)
if [ -n "$W" ] && [ "$(bytes "$D/raw.img" 2097152 1048576 | md5)" = "$W" ]; then
	t_pass "host reads the 1 MiB the guest wrote at 2 MiB (O_DIRECT)"
else t_fail "host reads the 1 MiB the guest wrote at 2 MiB (guest md5 '$W')"; fi
got=$(bytes "$D/raw.img" $((3 * 1048576 + 100)) ${#MARK})
if [ "$got" = "$MARK" ]; then t_pass "host reads the guest's unaligned buffered write"
else t_fail "host reads the guest's unaligned buffered write (got '$got')"; fi
if [ "$(bytes "$D/raw.img" 1048576 65536 | tr -d '\000' | wc -c)" -eq 0 ]; then
	t_pass "the guest's discard left zeroes in the file"
else t_fail "the guest's discard left zeroes in the file"; fi
if [ "$(bytes "$D/raw.img" 0 1048576 | md5)" = "$RAW_MD5_1M" ] && [ "$(bytes "$D/raw.img" 1114112 983040 | md5)" = "$RAW_GAP" ] &&
	[ "$(bytes "$D/raw.img" 3145728 100 | md5)" = "$RAW_TAIL" ]; then
	t_pass "bytes the guest did not write are unchanged"
else t_fail "bytes the guest did not write are unchanged"; fi
if command -v debugfs >/dev/null 2>&1; then
	got=$(debugfs -R "cat /hello.txt" "$D/ext.img" 2>/dev/null)
	[ "$got" = "$MARK" ] && t_pass "host reads the guest's hello.txt from the $FS image (debugfs)" ||
		t_fail "host reads the guest's hello.txt from the $FS image (debugfs: '$got')"
elif grep -q "$MARK" "$D/ext.img"; then
	t_pass "the guest's hello.txt content is in the $FS image file"
else t_fail "the guest's hello.txt content is in the $FS image file"; fi

# --- boot 2: eight disks, ext0 and raw0 read-only ---------------------
RAW_ALL=$(md5 <"$D/raw.img")
EXT_ALL=$(md5 <"$D/ext.img")
set -- --disk "$D/ext.img,ro,id=ext0" --disk "$D/raw.img,id=raw0,ro"
list="ext0:16777216:1,raw0:4194304:1"
for k in 2 3 4 5 6; do
	dd if=/dev/zero of="$D/d$k.img" bs=65536 count=$k 2>/dev/null
	ro=$((k % 2)) opt=
	[ $ro = 1 ] && opt=,ro
	id=disk$k
	[ $k = 6 ] && id=abcdefghij0123456789        # exactly 20 bytes
	set -- "$@" --disk "$D/d$k.img$opt,id=$id"
	list="$list,$id:$((k * 65536)):$ro"
done
dd if=/dev/zero of="$D/default-name.img" bs=512 count=3 2>/dev/null
set -- "$@" --disk "$D/default-name.img"                # ID: the file name
list="$list,default-name.img:1536:0"
boot ro blk-ro.sh "blk.marker=$MARK blk.rawmd5=$RAW_MD5_1M blk.datamd5=$(guest_val rw data-md5) blk.disks=$list" "$@"
guest_checks ro "boot 2: 8 disks with their IDs, sizes and ro flags; boot 1's files; ro refuses writes"
if [ "$(md5 <"$D/raw.img")" = "$RAW_ALL" ] && [ "$(md5 <"$D/ext.img")" = "$EXT_ALL" ]; then
	t_pass "read-only images unchanged by boot 2"
else t_fail "read-only images unchanged by boot 2"; fi

# --- bad --disk options: one line, status 125, nothing booted --------
neg() { _n=$1 _d=$2 _re=$3; shift 3; t_run "$_n" "$SB" vm --kernel "$K" --initrd "$I" --timeout 30 "$@"; t_one_line_error "$_n" "$_d" "$_re"; }
dd if=/dev/zero of="$D/odd.img" bs=1000 count=1 2>/dev/null
neg neg_missing "--disk: a missing file" "No such file" --disk "$D/nope.img"
neg neg_dir "--disk: a directory" "Is a directory" --disk "$D"
neg neg_size "--disk: size not a multiple of 512" "not a multiple of 512" --disk "$D/odd.img"
neg neg_opt "--disk: an unknown option" "unknown option 'rw=1'" --disk "$D/d2.img,rw=1"
neg neg_id "--disk: an ID over 20 bytes" "id must be 1 to 20" --disk "$D/d2.img,id=abcdefghij0123456789x"
neg neg_dupid "--disk: two disks with one ID" "already used" --disk "$D/d2.img,id=x" --disk "$D/d3.img,id=x"
neg neg_twice "--disk: one image read-write twice" "in use" --disk "$D/d2.img,id=a" --disk "$D/d2.img,id=b"
neg neg_empty "--disk: no file name" "no file name" --disk ",ro"
neg neg_many "--disk: more than 8 disks" "at most 8" --disk "$D/d3.img,ro,id=1" --disk "$D/d3.img,ro,id=2" \
	--disk "$D/d3.img,ro,id=3" --disk "$D/d3.img,ro,id=4" --disk "$D/d3.img,ro,id=5" --disk "$D/d3.img,ro,id=6" \
	--disk "$D/d3.img,ro,id=7" --disk "$D/d3.img,ro,id=8" --disk "$D/d3.img,ro,id=9"

t_summary
