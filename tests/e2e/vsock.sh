#!/bin/sh
# End-to-end virtio-vsock: real guests with --vsock cid=3,uds=PATH move data
# through the VMM's Unix sockets (Firecracker's host-side protocol), checked
# byte for byte:
#  1. guest -> host: a guest program's stdout and stderr on two connections
#     (host ports 1001, 1002, served by `vsock-host sink` on PATH_1001/1002),
#     SANDBOX_VSOCK_MIB MiB (default 100) on stdout and a quarter of that on
#     stderr, written interleaved; both files match their streams' md5.
#  2. back-pressure: the guest sends 4 MiB to a host reader that takes
#     16 KiB every 20 ms: every byte arrives and the guest's writes are
#     held to the reader's pace (the VMM buffers at most its credit).
#  3. host -> guest: `vsock-host connect` (CONNECT 5000 on PATH) sends
#     SANDBOX_VSOCK_MIB MiB to a guest listener, which checks every byte and
#     sends 8 MiB back; the guest also receives 8 MiB from host port 1004 and
#     sees a connect to an unserved port refused.
# Run where /dev/kvm can boot Linux (natively, or inside the nested test
# host: tests/kvmhost/run tests/e2e/vsock.sh).
#   tests/e2e/vsock.sh [BUILD_DIR]
cd "$(dirname "$0")/../.." || exit 2
. tests/e2e/lib.sh
t_paths "${1:-build}"
MIB=${SANDBOX_VSOCK_MIB:-100}
ERR_MIB=$((MIB / 4))
[ "$ERR_MIB" -ge 1 ] || ERR_MIB=1
D=$T_OUT/vsock
mkdir -p "$D"
U=$D/v.sock
VM="$SB vm --kernel $K --initrd $I --mem 256M --console --timeout 600 --vsock cid=3,uds=$U"

if [ ! -x "$H" ] || ! grep -q vsock-guest "$I" 2>/dev/null; then
	t_fail "virtio-vsock end to end: $H or the vsock tools in $I are missing (make all builds them)"
	t_summary
	exit
fi

# Wait (up to 10 s) for socket files to appear.
wait_sockets() {
	for _i in $(seq 1 100); do
		_all=1
		for _s in "$@"; do [ -S "$_s" ] || _all=0; done
		[ $_all = 1 ] && return 0
		sleep 0.1
	done
	return 1
}

# Let background helpers finish (up to 10 s), then stop any left over.
reap() {
	for _i in $(seq 1 100); do
		_alive=0
		for _p in "$@"; do kill -0 "$_p" 2>/dev/null && _alive=1; done
		[ $_alive = 0 ] && break
		sleep 0.1
	done
	for _p in "$@"; do kill "$_p" 2>/dev/null; done
	wait "$@" 2>/dev/null
}

md5() { md5sum | cut -d' ' -f1; }
field() { sed -n "s/.*$2=\([0-9]*\).*/\1/p" "$1" | head -n 1; }
now_ms() { awk '{ printf "%d\n", $1 * 1000 }' /proc/uptime; }

# --- 1 and 2: guest -> host -----------------------------------------------
"$H" sink "${U}_1001" "$D/out.bin" 2>"$D/sink-out.log" &
p1=$!
"$H" sink "${U}_1002" "$D/err.bin" 2>"$D/sink-err.log" &
p2=$!
"$H" sink "${U}_1003" "$D/slow.bin" 20000 2>"$D/sink-slow.log" &
p3=$!
wait_sockets "${U}_1001" "${U}_1002" "${U}_1003" || t_fail "host sinks listening"
t0=$(now_ms)
t_run g2h $VM --append "quiet sandbox.run=/tests/vsock-g2h.sh vsock.out=${MIB}M vsock.err=${ERR_MIB}M vsock.slow=4M"
t1=$(now_ms)
reap $p1 $p2 $p3
t_expect g2h "guest -> host run ends cleanly (status 0)" 0 "vsock-g2h: done"
exec_ms=$(sed -n 's/.*vsock-guest exec: status=0 ms=\([0-9]*\).*/\1/p' "$T_OUT/g2h.out")

want_out=$("$H" gen "${MIB}M" 11 | md5)
want_err=$("$H" gen "${ERR_MIB}M" 22 | md5)
got_out=$(md5 <"$D/out.bin" 2>/dev/null)
got_err=$(md5 <"$D/err.bin" 2>/dev/null)
if [ "$got_out" = "$want_out" ] && [ "$(field "$D/sink-out.log" bytes)" = $((MIB << 20)) ]; then
	t_pass "guest stdout: ${MIB} MiB arrive byte-exact (md5 $got_out) in ${exec_ms:-?} ms with stderr"
else
	t_fail "guest stdout: ${MIB} MiB arrive byte-exact" "md5 $got_out, want $want_out" "$(cat "$D/sink-out.log")"
fi
if [ "$got_err" = "$want_err" ] && [ "$(field "$D/sink-err.log" bytes)" = $((ERR_MIB << 20)) ]; then
	t_pass "guest stderr: ${ERR_MIB} MiB on its own stream, byte-exact (md5 $got_err)"
else
	t_fail "guest stderr: ${ERR_MIB} MiB on its own stream, byte-exact" "md5 $got_err, want $want_err" \
		"$(cat "$D/sink-err.log")"
fi

want_slow=$("$H" gen 4M 33 | md5)
got_slow=$(md5 <"$D/slow.bin" 2>/dev/null)
write_ms=$(sed -n 's/.*vsock-guest send: bytes=4194304 write_ms=\([0-9]*\).*/\1/p' "$T_OUT/g2h.out")
read_ms=$(field "$D/sink-slow.log" read_ms)
if [ "$got_slow" = "$want_slow" ]; then
	t_pass "slow host reader (16 KiB / 20 ms) gets all 4 MiB byte-exact in ${read_ms} ms"
else
	t_fail "slow host reader gets all 4 MiB byte-exact" "md5 $got_slow, want $want_slow" "$(cat "$D/sink-slow.log")"
fi
# With back-pressure the guest can only be ahead of the reader by the
# buffers in between (a few hundred KiB); an unbounded buffer would let it
# finish its writes long before the reader.
if [ -n "$write_ms" ] && [ -n "$read_ms" ] && [ $((write_ms * 10)) -ge $((read_ms * 6)) ]; then
	t_pass "back-pressure: the guest's writes took ${write_ms} ms of the reader's ${read_ms} ms"
else
	t_fail "back-pressure: the guest's writes are held to the reader's pace" \
		"guest write_ms='$write_ms', host read_ms='$read_ms'"
fi
if [ ! -e "$U" ]; then t_pass "the VMM removed its socket $U at exit"; else t_fail "the VMM removed its socket at exit"; fi
rm -f "$D/out.bin" "$D/err.bin" "$D/slow.bin"

# --- 3: host -> guest ------------------------------------------------------
"$H" source "${U}_1004" 8M 66 2>"$D/source.log" &
p4=$!
wait_sockets "${U}_1004" || t_fail "host source listening"
$VM --append "quiet sandbox.run=/tests/vsock-h2g.sh vsock.in=${MIB}M vsock.back=8M vsock.recv=8M" \
	>"$T_OUT/h2g.out" 2>"$T_OUT/h2g.err" &
vm=$!
"$H" connect "$U" 5000 "${MIB}M" 44 8M 55 2>"$D/connect.log"
crc=$?
wait $vm
echo $? >"$T_OUT/h2g.rc"
reap $p4
t_expect h2g "host -> guest run ends cleanly (status 0)" 0 "vsock-h2g: done"
serve_ms=$(sed -n 's/.*vsock-guest serve: in=[0-9]* ok out=[0-9]* ms=\([0-9]*\).*/\1/p' "$T_OUT/h2g.out")
if [ $crc = 0 ] && grep -q "vsock-guest serve: in=$((MIB << 20)) ok out=8388608" "$T_OUT/h2g.out"; then
	t_pass "host-initiated CONNECT: ${MIB} MiB in, checked by the guest, 8 MiB back, in ${serve_ms} ms"
else
	t_fail "host-initiated CONNECT: ${MIB} MiB in, 8 MiB back" "connect status $crc: $(cat "$D/connect.log")"
	t_show h2g
fi
if grep -q "vsock-guest recv: bytes=8388608 ok" "$T_OUT/h2g.out"; then
	t_pass "guest-initiated connection receives 8 MiB from host port 1004, byte-exact"
else
	t_fail "guest-initiated connection receives 8 MiB from host port 1004" "$(cat "$D/source.log")"
fi
if grep -q "vsock-guest refused: port 1009: Connection reset by peer" "$T_OUT/h2g.out"; then
	t_pass "a guest connect to an unserved host port is refused (RST)"
else
	t_fail "a guest connect to an unserved host port is refused (RST)"
fi
echo "    timings: g2h run $((t1 - t0)) ms (${MIB}+${ERR_MIB} MiB + 4 MiB slow); $(grep -o 'ms=[0-9]*' "$D/connect.log" | head -n1) for ${MIB} MiB in + 8 MiB out via CONNECT"

# --- negative: bad --vsock specs are one-line errors ----------------------
t_run neg_cid "$SB" vm --kernel "$K" --vsock "cid=2,uds=$U"
t_one_line_error neg_cid "--vsock cid=2 (reserved) is refused" "cid must be"
t_run neg_spec "$SB" vm --kernel "$K" --vsock "uds=$U"
t_one_line_error neg_spec "--vsock without cid is refused" "want cid=N,uds=PATH"
t_run neg_dir "$SB" vm --kernel "$K" --vsock "cid=3,uds=$D/no/such/dir/s"
t_one_line_error neg_dir "--vsock with a socket path that cannot exist" "bind"

t_summary
