#!/bin/sh
# Snapshots end to end (docs/snapshots.md): pause/resume keep a counter
# going; a sandbox that wrote a file in /tmp and holds a value in a running
# process is snapshotted; its clones see both, take execs, differ in
# random bytes and host name; run --from exits with the command's status;
# bad snapshots (missing, corrupt, another user's) are one line and 125.
#   tests/e2e/snapshot.sh [BUILD_DIR]   (VM isolation: the test host)
# POSIX sh: runs under busybox in the test host.
cd "$(dirname "$0")/../.." || exit 2
. tests/e2e/lib.sh
t_sandbox_setup "${1:-build}" snapshot
export SANDBOX_SNAPSHOT_DIR=$ST-snapshots
T_EXTRA_DIRS=$SANDBOX_SNAPSHOT_DIR
R="$SB run"

if ! "$B/sandbox-image" runconf testimg >/dev/null 2>&1; then
	t_skip "snapshots" "no testimg image in $SANDBOX_IMAGE_DIR (run tests/e2e/prepare.sh $B)"
	t_summary
	exit
fi

# --- pause and resume ---------------------------------------------------------
# (the count is replaced whole, by a rename: a reader never sees the file
# emptied by the shell's > before it is written)
t_run d $R -d --name pz testimg sh -c 'i=0; while :; do i=$((i+1)); echo $i >/tmp/count.new; mv /tmp/count.new /tmp/count; sleep 0.1; done'
t_expect d "run -d: a counting sandbox" 0 '^[0-9a-f]{16}$'
wait_for 60 $SB exec pz test -s /tmp/count
t_run pause $SB pause pz
t_expect pause "pause: the sandbox's name, status 0" 0 '^pz$'
$SB ps >"$T_OUT/ps.out" 2>&1
grep -q 'paused' "$T_OUT/ps.out" && t_pass "ps shows paused" || { t_fail "ps shows paused"; cat "$T_OUT/ps.out"; }
t_run xp $SB exec pz true
t_one_line_error xp "exec into a paused sandbox" 'paused'
t_run pause2 $SB pause pz
t_one_line_error pause2 "pause twice" 'paused'
t_run resume $SB resume pz
t_expect resume "resume: status 0" 0 '^pz$'
a=$($SB exec pz cat /tmp/count); sleep 1; b=$($SB exec pz cat /tmp/count)
[ -n "$a" ] && [ -n "$b" ] && [ "$b" -gt "$a" ] && t_pass "the counter goes on after resume ($a -> $b)" ||
	{ t_fail "the counter goes on after resume" "before: '$a' after: '$b'"; }
t_run resume2 $SB resume pz
t_one_line_error resume2 "resume of a running sandbox" 'not paused'

# --- snapshot and clones -----------------------------------------------------
# The source: a file in /tmp, and a random value held only in a running
# shell, which it writes to /tmp/v every 0.2 s (renamed into place: a reader
# never sees the file the shell's > has just emptied).
t_run w $R -d --name src testimg sh -c 'echo made-before >/tmp/file
	v=$(head -c 8 /dev/urandom | od -An -tx1 | tr -d " \n"); while :; do echo "$v" >/tmp/v.n; mv /tmp/v.n /tmp/v; sleep 0.2; done'
t_expect w "run -d: the source sandbox" 0 '^[0-9a-f]{16}$'
wait_for 60 $SB exec src test -s /tmp/v
v0=$($SB exec src cat /tmp/v)
t_run snap $SB snapshot src snap1
t_expect snap "snapshot: status 0, its name" 0 '^snap1$'
wait_for 20 sh -c "! $SB ps | grep -q ' src *\$'"
t_run snapdup $SB snapshot pz snap1
t_one_line_error snapdup "snapshot onto an existing name" 'exists'
for f in meta vm.state memory layer; do
	m=$(stat -c %a "$SANDBOX_SNAPSHOT_DIR/snap1/$f" 2>/dev/null)
	[ "$m" = 600 ] && t_pass "snapshot file $f is mode 0600" || t_fail "snapshot file $f is mode 0600 (got '$m')"
done

t_run clone $SB clone -n 3 --name cl snap1
t_expect clone "clone -n 3: three ids" 0 '^[0-9a-f]{16}$'
[ "$(grep -c . "$T_OUT/clone.out")" = 3 ] || t_fail "clone -n 3 printed three ids" "$(cat "$T_OUT/clone.out")"
for i in 1 2 3; do
	t_run "f$i" $SB exec "cl-$i" cat /tmp/file
	t_expect "f$i" "clone $i sees the file the source wrote" 0 '^made-before$'
	t_run "p$i" $SB exec "cl-$i" sh -c 'rm -f /tmp/v; sleep 1; cat /tmp/v'
	t_expect "p$i" "clone $i runs the source's process, with the value it held ($v0)" 0 "^$v0\$"
	$SB exec "cl-$i" sh -c 'head -c 16 /dev/urandom | od -An -tx1 | tr -d " \n"' >"$T_OUT/rand$i" 2>&1
	$SB exec "cl-$i" hostname >"$T_OUT/host$i" 2>&1
done
n_restore=$($SB events --format json 2>/dev/null | grep -c '"type":"restore"')
[ "$n_restore" -ge 3 ] && t_pass "each clone's restore is an event with its latency ($n_restore)" ||
	t_fail "each clone's restore is an event with its latency" "$($SB events 2>&1 | tail -n 3)"
r1=$(cat "$T_OUT/rand1") r2=$(cat "$T_OUT/rand2") r3=$(cat "$T_OUT/rand3")
if [ ${#r1} = 32 ] && [ "$r1" != "$r2" ] && [ "$r1" != "$r3" ] && [ "$r2" != "$r3" ]; then
	t_pass "16 bytes of /dev/urandom differ in every clone"
else
	t_fail "16 bytes of /dev/urandom differ in every clone" "$r1" "$r2" "$r3"
fi
h1=$(cat "$T_OUT/host1") h2=$(cat "$T_OUT/host2")
[ -n "$h1" ] && [ "$h1" != "$h2" ] && t_pass "clones have their own host names ($h1, $h2)" ||
	t_fail "clones have their own host names" "$h1" "$h2"
# the process the source held: it gets stdin only now, in a clone
t_run stop1 $SB stop cl-1
t_expect stop1 "stop a clone" 0

t_run from $SB run --rm --from snap1 sh -c 'cat /tmp/file; exit 42'
t_expect from "run --rm --from SNAP CMD: output and the command's status" 42 '^made-before$'

# --- the working set: recorded by a clone, mapped before the next one runs ------
ws=$SANDBOX_SNAPSHOT_DIR/snap1/workingset
scope=$(od -A n -t u4 -j 16 -N 4 "$ws" 2>/dev/null | tr -d ' ')
if [ "$(stat -c %a "$ws" 2>/dev/null)" = 600 ] && [ "$scope" = 2 ]; then
	t_pass "run --from CMD recorded the snapshot's working set (mode 600, scope 2: with a command)"
else
	t_fail "run --from CMD recorded the snapshot's working set" "$(ls -l "$ws" 2>&1) scope=$scope"
fi
t_run wsuse env SANDBOX_TIMINGS=1 $SB run --rm --from snap1 true
pages=$(sed -n 's/.*prefault_pages=\([0-9]*\).*/\1/p' "$T_OUT/wsuse.err")
written=$(sed -n 's/.*populated_pages=\([0-9]*\).*/\1/p' "$T_OUT/wsuse.err")
kmaj=$(uname -r | cut -d. -f1) kmin=$(uname -r | cut -d. -f2)
if [ "$(t_rc wsuse)" = 0 ] && [ "${pages:-0}" -gt 0 ]; then
	t_pass "the next clone had KVM map its working set ($pages pages) before the guest ran"
	if [ "${written:-0}" -gt 0 ] && [ "$written" -lt "$pages" ]; then
		t_pass "it copied the pages its clones write first ($written of them)"
	else
		t_fail "it copied the pages its clones write first" "populated_pages=$written of $pages"
	fi
elif [ "$kmaj" -lt 6 ] || { [ "$kmaj" = 6 ] && [ "$kmin" -lt 10 ]; }; then
	t_skip "the working set mapped before the guest runs" "KVM_PRE_FAULT_MEMORY came in Linux 6.10 (this is $(uname -r))"
else
	t_fail "the next clone had KVM map its working set" "$(cat "$T_OUT/wsuse.err")"
fi
printf 'XXXX' | dd of="$ws" bs=1 seek=40 conv=notrunc 2>/dev/null
t_run wsbad $SB run --rm --from snap1 sh -c 'echo fine; exit 7'
t_expect wsbad "a corrupt working set: not used, said in one line, the clone runs" 7 '^fine$' \
	"working set is not used \\(working set: checksum mismatch\\)"
t_run wsagain $SB run --rm --from snap1 true
if [ "$(t_rc wsagain)" = 0 ] && ! grep -q "working set" "$T_OUT/wsagain.err"; then
	t_pass "the corrupt working set was recorded again: the next clone uses it without a word"
else
	t_fail "the corrupt working set was recorded again" "$(cat "$T_OUT/wsagain.err")"
fi
printf 'XXXX' | dd of="$ws" bs=1 seek=40 conv=notrunc 2>/dev/null
t_run wsclones $SB clone -n 2 snap1
said=$(grep -c "working set is not used" "$T_OUT/wsclones.err")
if [ "$(t_rc wsclones)" = 0 ] && [ "$said" = 1 ] && [ "$(wc -l <"$T_OUT/wsclones.out")" = 2 ]; then
	t_pass "clone -n 2 of a snapshot with a corrupt working set: two clones, said once"
else
	t_fail "clone -n 2 with a corrupt working set: said once" "said $said times; $(cat "$T_OUT/wsclones.err")"
fi
while read -r id; do $SB rm -f "$id" >/dev/null 2>&1; done <"$T_OUT/wsclones.out"
n=$(ls "$ST" | wc -l)

# --- --leave-running, and clones on a network of their own ---------------------
t_run nsrc $R -d --network tap --name nsrc testimg sh -c 'while :; do date +%s >/tmp/tick.n; mv /tmp/tick.n /tmp/tick; echo tick; sleep 1; done'
t_expect nsrc "run -d --network tap: a networked source" 0 '^[0-9a-f]{16}$'
wait_for 60 $SB exec nsrc test -s /tmp/tick
t_run lr $SB snapshot --leave-running nsrc net1
t_expect lr "snapshot --leave-running" 0 '^net1$'
a=$($SB exec nsrc cat /tmp/tick); sleep 2; b=$($SB exec nsrc cat /tmp/tick)
[ -n "$a" ] && [ "$b" -gt "$a" ] && t_pass "the source runs on after --leave-running" || t_fail "the source runs on after --leave-running" "$a $b"
l1=$($SB logs nsrc | grep -c tick); sleep 2; l2=$($SB logs nsrc | grep -c tick)
[ "$l2" -gt "$l1" ] && t_pass "its output still reaches its log ($l1 -> $l2 lines)" || t_fail "its output still reaches its log" "$l1 $l2"
t_run nclone $SB clone -n 2 --name nc net1
t_expect nclone "clone -n 2 of a networked snapshot" 0 '^[0-9a-f]{16}$'
for i in 1 2; do
	$SB exec "nc-$i" sh -c 'ip -4 addr show eth0 | sed -n "s/.*inet \([0-9.]*\).*/\1/p"; cat /sys/class/net/eth0/address' >"$T_OUT/ip$i" 2>&1
	t_run "ping$i" $SB exec "nc-$i" sh -c 'ping -c 1 -W 3 $(ip route | sed -n "s/^default via \([0-9.]*\).*/\1/p")'
	t_expect "ping$i" "clone $i reaches its own gateway" 0 '1 packets received'
done
if [ "$(head -1 "$T_OUT/ip1")" != "$(head -1 "$T_OUT/ip2")" ] && [ "$(tail -1 "$T_OUT/ip1")" != "$(tail -1 "$T_OUT/ip2")" ] &&
	grep -q '^172\.30\.' "$T_OUT/ip1"; then
	t_pass "clones have their own IP address and MAC ($(tr '\n' ' ' <"$T_OUT/ip1")/ $(tr '\n' ' ' <"$T_OUT/ip2"))"
else
	t_fail "clones have their own IP address and MAC" "$(cat "$T_OUT/ip1")" "$(cat "$T_OUT/ip2")"
fi
$SB rm -f nc-1 nc-2 nsrc >/dev/null 2>&1

# --- bad snapshots -----------------------------------------------------------
S1=$SANDBOX_SNAPSHOT_DIR/snap1
t_run miss $SB run --rm --from nosuch true
t_one_line_error miss "a missing snapshot" 'no snapshot'
mkdir -m 700 "$SANDBOX_SNAPSHOT_DIR/big"
sed 's/^mem_bytes=.*/mem_bytes=1099511627776/' "$S1/meta" >"$SANDBOX_SNAPSHOT_DIR/big/meta"
chmod 600 "$SANDBOX_SNAPSHOT_DIR/big/meta"
t_run huge $SB run --rm --from big true
t_one_line_error huge "a clone with more memory than the host" 'memory'
mkdir -m 700 "$SANDBOX_SNAPSHOT_DIR/theirs"
sed 's/^uid=.*/uid=4242/' "$S1/meta" >"$SANDBOX_SNAPSHOT_DIR/theirs/meta"
chmod 600 "$SANDBOX_SNAPSHOT_DIR/theirs/meta"
t_run theirs $SB run --rm --from theirs true
t_one_line_error theirs "a clone of another user's snapshot" 'made by uid 4242'
t_run rm $SB snapshot rm big
t_expect rm "snapshot rm" 0 '^big$'
chmod 644 "$S1/vm.state"
t_run mode $SB run --rm --from snap1 true
t_one_line_error mode "a snapshot file others can read" 'not a private file'
chmod 600 "$S1/vm.state"
cp "$S1/vm.state" "$T_OUT/vm.state"
printf 'garbage' | dd of="$S1/vm.state" bs=1 seek=200 conv=notrunc 2>/dev/null
t_run corrupt $SB run --rm --from snap1 true
t_one_line_error corrupt "a corrupt snapshot" 'checksum|corrupt'
head -c 100 "$T_OUT/vm.state" >"$S1/vm.state"
t_run trunc $SB run --rm --from snap1 true
t_one_line_error trunc "a truncated snapshot" 'truncated'
[ "$(ls "$ST" | wc -l)" = "$n" ] && t_pass "failed restores leave no sandbox behind" ||
	t_fail "failed restores leave no sandbox behind" "$(ls "$ST")"

t_summary
