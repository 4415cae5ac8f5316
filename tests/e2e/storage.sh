#!/bin/sh
# The writable layer on disk (`sandbox run --storage SIZE`, docs/storage.md):
# its size inside, a full layer is the container's ENOSPC and the sandbox
# lives on, the bytes are in the file (bounded by SIZE), not in the VMM's
# memory, --memory does not bound the layer any more, --rm / rm / a failed
# run leave no file, --read-only makes none, bad values.
#   tests/e2e/storage.sh [BUILD_DIR]                VM isolation (test host)
#   ISO=container tests/e2e/storage.sh [BUILD_DIR]  host mode, natively
#                                                   (tests/container/storage.sh)
# The images must be in $B/test-images (tests/e2e/prepare.sh does that).
# POSIX sh: runs under busybox in the test host.
cd "$(dirname "$0")/../.." || exit 2
. tests/e2e/lib.sh
t_sandbox_setup "${1:-build}" storage-state
SD=${TMPDIR:-/tmp}/sandbox-storage.$$
export SANDBOX_STORAGE_DIR=$SD
T_EXTRA_DIRS=$SD
rm -rf "$SD"
R="$SB run --isolation $ISO"
echo "# isolation: $ISO"


if ! "$B/sandbox-image" runconf busybox >/dev/null 2>&1; then
	t_skip "--storage" "no busybox image in $SANDBOX_IMAGE_DIR (run tests/e2e/prepare.sh $B)"
	t_summary
	exit
fi
if [ "$ISO" = container ] && [ "$(id -u)" != 0 ]; then
	t_skip "--storage, --isolation container" "needs root"
	t_summary
	exit
fi
# The layers (not the templates) in the storage directory.
layers() { ls "$SD" 2>/dev/null | grep -v '^\.' ; }
# KiB allocated to FILE (its blocks, not its length).
alloc_kib() { du -k "$1" 2>/dev/null | cut -f1; }

# --- sizes -----------------------------------------------------------------------
t_run dflt $R --rm busybox df -k /
if [ "$(t_rc dflt)" = 0 ] && awk 'NR == 2 { exit !($2 > 950000 && $2 <= 1048576) }' "$T_OUT/dflt.out"; then
	t_pass "the default writable layer is 1 GiB ($(awk 'NR == 2 { print $2 }' "$T_OUT/dflt.out") KiB)"
else t_fail "the default writable layer is 1 GiB"; t_show dflt; fi
t_run s64 $R --rm --storage 64m busybox df -k /
if [ "$(t_rc s64)" = 0 ] && awk 'NR == 2 { exit !($2 > 55000 && $2 <= 65536) }' "$T_OUT/s64.out"; then
	t_pass "--storage 64m: a 64 MiB layer"
else t_fail "--storage 64m: a 64 MiB layer"; t_show s64; fi

# --- a full layer: ENOSPC inside, the sandbox lives on -------------------------------
t_run d $R -d --name full --storage 256m busybox sleep 100000
t_expect d "run -d --storage 256m" 0 '^[0-9a-f]{16}$'
id=$(cat "$T_OUT/d.out")
wait_for 60 $SB exec full true
if [ -f "$SD/$id.ext4" ]; then t_pass "the layer is $SD/<id>.ext4 while the sandbox lives"
else t_fail "the layer is $SD/<id>.ext4 while the sandbox lives"; ls -la "$SD"; fi
vmm=$(sed -n 's/^vmm_pid=//p' "$ST/$id/state" 2>/dev/null)
rss0=$(sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\).*/\1/p' "/proc/$vmm/status" 2>/dev/null)
t_run dd $SB exec full dd if=/dev/zero of=/big bs=1M count=400
t_expect dd "writing 400 MB into a 256 MiB layer: dd fails with ENOSPC" 1 '' 'No space left on device'
t_run alive $SB exec full sh -c 'rm /big && echo again >/small && cat /small'
t_expect alive "the sandbox lives on, and has room again once the file is gone" 0 '^again$'
kib=$(alloc_kib "$SD/$id.ext4")
if [ -n "$kib" ] && [ "$kib" -le $((256 * 1024 + 1024)) ]; then
	t_pass "the bytes went to the file, at most its size ($kib KiB allocated)"
else t_fail "the bytes went to the file, at most its size (${kib:-?} KiB allocated)"; fi
if [ "$ISO" = vm ]; then
	rss1=$(sed -n 's/^VmRSS:[[:space:]]*\([0-9]*\).*/\1/p' "/proc/$vmm/status" 2>/dev/null)
	# The guest's page cache may fill its memory (128 MiB by default), no more.
	if [ -n "$rss0" ] && [ -n "$rss1" ] && [ $((rss1 - rss0)) -lt $((200 * 1024)) ]; then
		t_pass "the VMM's RSS did not grow by the bytes written (${rss0} -> ${rss1} KiB)"
	else t_fail "the VMM's RSS did not grow by the bytes written (${rss0:-?} -> ${rss1:-?} KiB)"; fi
fi
t_run rmfull $SB rm -f full
if [ "$(t_rc rmfull)" = 0 ] && [ ! -e "$SD/$id.ext4" ]; then t_pass "sandbox rm removes the layer"
else t_fail "sandbox rm removes the layer"; t_show rmfull; ls -la "$SD"; fi

# --- the issue's case: --memory no longer bounds the writable layer ------------------
t_run mem $R --rm --memory 64m busybox sh -c 'dd if=/dev/zero of=/big bs=1M count=400 2>&1 | tail -n 1; ls -l /big'
t_expect mem "--memory 64m: writing 400 MB to the root succeeds (no OOM kill)" 0 ' 419430400 '

# --- the file's life ---------------------------------------------------------------
t_run keep $R --name kept --storage 32m busybox sh -c 'echo kept >/f'
kid=$(sed -n 's/^id=//p' "$ST"/*/state 2>/dev/null | head -n 1)
if [ "$(t_rc keep)" = 0 ] && [ -n "$kid" ] && [ -f "$SD/$kid.ext4" ]; then
	t_pass "without --rm the layer stays after the end"
else t_fail "without --rm the layer stays after the end"; t_show keep; ls -la "$SD"; fi
t_run rmkept $SB rm kept
if [ "$(t_rc rmkept)" = 0 ] && [ -z "$(layers)" ]; then t_pass "sandbox rm of an exited sandbox removes its layer"
else t_fail "sandbox rm of an exited sandbox removes its layer"; t_show rmkept; ls -la "$SD"; fi
t_run rmrun $R --rm --storage 32m busybox sh -c 'echo x >/f'
if [ "$(t_rc rmrun)" = 0 ] && [ -z "$(layers)" ]; then t_pass "--rm leaves no layer behind"
else t_fail "--rm leaves no layer behind"; t_show rmrun; ls -la "$SD"; fi
t_run ro $R --name ro --read-only busybox true
rid=$(sed -n 's/^id=//p' "$ST"/*/state 2>/dev/null | head -n 1)
if [ "$(t_rc ro)" = 0 ] && [ -n "$rid" ] && [ -z "$(layers)" ]; then t_pass "--read-only makes no layer"
else t_fail "--read-only makes no layer"; t_show ro; ls -la "$SD"; fi
$SB rm ro >/dev/null 2>&1
t_run failrun $R --rm --storage 32m -u nosuchuser busybox true
if [ "$(t_rc failrun)" = 125 ] && [ -z "$(layers)" ]; then t_pass "a failed run leaves no layer"
else t_fail "a failed run leaves no layer"; t_show failrun; ls -la "$SD"; fi
: >"$T_OUT/notadir"
t_run baddir env SANDBOX_STORAGE_DIR="$T_OUT/notadir" $R --rm busybox true
t_one_line_error baddir "a storage directory that is a file: one line, 125" "writable layer"

# --- bad values: one line, 125 ------------------------------------------------------
for v in abc 0 1k 15m 1025g -5 ''; do
	t_run bad $R --rm --storage "$v" busybox true
	t_one_line_error bad "--storage '$v' refused" "--storage: '.*' is not a size from 16m to 1024g"
done

left=$(ls -A "$ST" 2>/dev/null | grep -Ev '^\.(lock|events\.json(\.1)?)$')
if [ -z "$left" ] && [ -z "$(layers)" ]; then t_pass "nothing left in the state and storage directories"
else t_fail "nothing left in the state and storage directories: $left $(layers)"; fi
t_summary
