#!/bin/sh
# `sandbox run` end to end, checked from inside the container with the
# probe (tests/guest/probe.c, in the testimg image): every run option, exit
# codes, stdin/tty, signals from the host, limits, the writable layer over
# an unchanged image disk, volumes, the network, bad input.
#   tests/e2e/run.sh [BUILD_DIR]          VM isolation (needs a KVM that boots
#                                        Linux: natively or in the test host)
#   ISO=container tests/e2e/run.sh [B]   the same checks, host-mode isolation
# The images must be in $B/test-images (tests/e2e/prepare.sh does that).
cd "$(dirname "$0")/../.." || exit 2
. tests/e2e/lib.sh
B=${1:-build}
ISO=${ISO:-vm}
SB=$B/sandbox
export SANDBOX_IMAGE_DIR=$PWD/$B/test-images
export SANDBOX_STATE_DIR=${TMPDIR:-/tmp}/sandbox-run-e2e.$$
rm -rf "$SANDBOX_STATE_DIR"
R="$SB run --rm --isolation $ISO"
echo "# isolation: $ISO"

if ! "$B/sandbox-image" runconf testimg >/dev/null 2>&1; then
	t_skip "sandbox run" "no testimg image in $SANDBOX_IMAGE_DIR (run tests/e2e/prepare.sh $B)"
	t_summary
	exit
fi

# --- output, statuses ---------------------------------------------------------
t_run hello $R busybox echo hello
t_expect hello "echo hello prints hello, status 0" 0 '^hello$'
for n in 0 1 42; do
	t_run "st$n" $R busybox sh -c "echo out; echo err >&2; exit $n"
	t_expect "st$n" "exit status $n reaches the host, stdout and stderr apart" "$n" '^out$' '^err$'
done
t_run notfound $R busybox nosuchcmd
t_expect notfound "a command that does not exist: 127, one line" 127 '' 'nosuchcmd'
t_run noexec $R busybox /etc/passwd
t_expect noexec "a command that cannot be executed: 126" 126 '' 'passwd'
t_run kill9 $R --init testimg probe kill 9
t_expect kill9 "killed by SIGKILL: 137" 137
t_run kill15 $R --init testimg probe kill 15
t_expect kill15 "killed by SIGTERM: 143" 143

# The image's run defaults come from CACHE/v<N>/<key>.runconf when the image
# tool kept one, else from the tool itself: both give the same result.
rm -f "$SANDBOX_IMAGE_DIR"/v[0-9]*/*.runconf
t_run rcslow $R busybox sh -c 'echo $PATH'
t_run rcfast $R busybox sh -c 'echo $PATH'
if [ "$(t_rc rcslow)" = 0 ] && cmp -s "$T_OUT/rcslow.out" "$T_OUT/rcfast.out" && ls "$SANDBOX_IMAGE_DIR"/v[0-9]*/*.runconf >/dev/null 2>&1; then
	t_pass "run defaults without and with the cached runconf agree"
else t_fail "run defaults without and with the cached runconf agree"; t_show rcslow; t_show rcfast; fi

# --- stdin ----------------------------------------------------------------
printf 'line1\nline2\n' >"$T_OUT/in"
t_run stdin $R -i busybox cat <"$T_OUT/in"
t_expect stdin "-i: stdin is piped through" 0 '^line2$'
t_run nostdin $R busybox cat <"$T_OUT/in"
if [ "$(t_rc nostdin)" = 0 ] && [ ! -s "$T_OUT/nostdin.out" ]; then t_pass "without -i the container's stdin is empty"
else t_fail "without -i the container's stdin is empty"; t_show nostdin; fi
head -c 300000 /dev/urandom >"$T_OUT/big" 2>/dev/null || dd if=/dev/urandom of="$T_OUT/big" bs=1000 count=300 2>/dev/null
t_run big $R -i busybox sh -c 'cat; cat /etc/passwd >&2' <"$T_OUT/big"
if cmp -s "$T_OUT/big" "$T_OUT/big.out"; then t_pass "300 kB through stdin and back byte-exact"
else t_fail "300 kB through stdin and back byte-exact"; t_show big; fi

# --- the container as configured -------------------------------------------
t_run pid $R testimg probe pid
t_expect pid "the command is PID 1 in its namespace" 0 '^pid=1 '
t_run host $R --hostname box1 testimg probe hostname
t_expect host "--hostname" 0 '^box1$'
t_run host0 $R testimg probe hostname
t_expect host0 "default hostname: 12 hex digits of the id" 0 '^[0-9a-f]{12}$'
t_run cwd $R -w /tmp testimg probe cwd
t_expect cwd "-w /tmp" 0 '^/tmp$'
t_run cwd0 $R testimg probe cwd
t_expect cwd0 "default working directory: the image's (/)" 0 '^/$'
t_run user $R -u sandbox testimg probe id
t_expect user "-u NAME from the image's /etc/passwd" 0 '^uid=1000 gid=1000'
t_run userid $R -u 1234:5678 testimg probe id
t_expect userid "-u UID:GID" 0 '^uid=1234 gid=5678'
t_run env $R -e FOO=bar testimg probe env FOO
t_expect env "-e FOO=bar" 0 '^bar$'
t_run envpath $R testimg probe env PATH
t_expect envpath "the image's Env (PATH)" 0 '^/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin$'
printf '# comment\nA1=one\n\nB2=two words\n' >"$T_OUT/envfile"
t_run envfile $R --env-file "$T_OUT/envfile" testimg probe env B2
t_expect envfile "--env-file" 0 '^two words$'
t_run envhost env HOSTVAR=from-host $R -e HOSTVAR testimg probe env HOSTVAR
t_expect envhost "-e NAME copies the host's value" 0 '^from-host$'
t_run caps $R testimg probe caps
t_expect caps "capabilities: Docker's default set" 0 '^CapEff:[[:space:]]*00000000a80425fb$'
t_run seccomp $R testimg probe seccomp
t_expect seccomp "seccomp filter mode (2)" 0 '^Seccomp:[[:space:]]*2$'
t_run nnp $R testimg probe nnp
t_expect nnp "no_new_privs" 0 '^NoNewPrivs:[[:space:]]*1$'
for op in mount keyctl init_module; do
	t_run "try_$op" $R testimg probe try $op
	t_expect "try_$op" "$op fails with EPERM" 0 '^EPERM$'
done

# --- limits -------------------------------------------------------------------
# In container isolation the limits need this host's cgroup v2 controllers;
# without them guest-init says "not applied" and the check is skipped.
t_run oom $R --memory 32m testimg probe alloc 64
if grep -q 'limit not applied' "$T_OUT/oom.err"; then
	t_skip "--memory" "$(head -n 1 "$T_OUT/oom.err")"
else
	t_expect oom "--memory 32m: allocating 64 MiB ends with 137 and says why" 137 '' 'out of memory'
	t_run underlimit $R --memory 32m testimg probe alloc 8
	t_expect underlimit "--memory 32m: 8 MiB is fine" 0 '^allocated 8 MiB$'
fi
t_run bomb $R --pids-limit 16 testimg sh -c 'probe forkbomb 64; echo still here'
if grep -q 'limit not applied' "$T_OUT/bomb.err"; then
	t_skip "--pids-limit" "$(head -n 1 "$T_OUT/bomb.err")"
else
	t_expect bomb "--pids-limit 16 stops a fork bomb and the sandbox stays responsive" 0 'EAGAIN'
	grep -q '^still here$' "$T_OUT/bomb.out" || t_fail "after the fork bomb the shell still runs"
fi
if [ "$ISO" = vm ]; then
	t_run cpus $R --cpus 2 busybox nproc
	t_expect cpus "--cpus 2: two vCPUs" 0 '^2$'
	t_run mem $R --memory 200m busybox sh -c 'grep MemTotal /proc/meminfo'
	t_expect mem "--memory 200m: the guest gets the limit plus room for its kernel" 0 'MemTotal: +(2[5-9][0-9]|3[0-9][0-9])[0-9]{3} kB'
	t_run kern $R --kernel "$B/guest-vmlinux" --initrd "$B/guest-initramfs.cpio" busybox true
	t_expect kern "--kernel/--initrd given explicitly" 0
	t_run nokern $R --kernel /nonexistent busybox true
	t_one_line_error nokern "--kernel missing: one line, 125" "/nonexistent"
fi
t_run timeout $R --timeout 2 busybox sleep 100
t_expect timeout "--timeout 2 ends a sleeping sandbox with 124 and says so" 124 '' 'timeout 2'

# --- filesystems ----------------------------------------------------------------
disk=$("$B/sandbox-image" runconf busybox | tr '\0' '\n' | sed -n 's/^disk=//p')
before=$(sha256sum "$disk" | cut -d' ' -f1)
t_run write $R busybox sh -c 'echo new >/etc/newfile && rm /bin/ls && cat /etc/newfile'
t_expect write "writes land in the writable layer" 0 '^new$'
t_run fresh $R busybox ls /bin/ls /etc/newfile
t_expect fresh "the next sandbox starts from the image again" 1 '^/bin/ls$' 'newfile'
after=$(sha256sum "$disk" | cut -d' ' -f1)
if [ "$before" = "$after" ]; then t_pass "the image disk is unchanged (sha256)"
else t_fail "the image disk is unchanged (sha256 $before -> $after)"; fi
t_run ro $R --read-only busybox touch /x
t_expect ro "--read-only: the root is not writable" 1 '' 'Read-only file system'
vol=$T_OUT/vol.img
dd if=/dev/zero of="$vol" bs=1M count=8 2>/dev/null
if mke2fs -F -q "$vol" >/dev/null 2>&1 || mke2fs -F "$vol" >/dev/null 2>&1; then
	t_run volw $R -v "$vol:/data" busybox sh -c 'echo kept >/data/f && cat /data/f'
	t_expect volw "-v FILE:/data: a writable volume" 0 '^kept$'
	t_run volr $R -v "$vol:/data:ro" busybox sh -c 'cat /data/f; echo x >/data/g'
	t_expect volr "-v FILE:/data:ro: the data is still there, read-only" 1 '^kept$' 'Read-only file system'
else
	t_skip "volumes" "no mke2fs to make a volume image"
fi

# --- network ------------------------------------------------------------------
if [ "$ISO" = vm ] && [ "$(id -u)" = 0 ] && [ -e /dev/net/tun ]; then
	t_run netnone $R busybox ip -o addr
	if [ "$(t_rc netnone)" = 0 ] && ! grep -q eth0 "$T_OUT/netnone.out"; then t_pass "--network none (default): no eth0"
	else t_fail "--network none (default): no eth0"; t_show netnone; fi
	t_run nettap $R --network tap busybox ip -o addr
	t_expect nettap "--network tap: eth0 has 172.30.K.2" 0 'eth0.*inet 172\.30\.[0-9]+\.2/24'
	id=$($SB run -d --rm --init --network tap -p 18080:80 --isolation vm busybox httpd -f -p 80 -h /etc 2>"$T_OUT/httpd.err")
	got=
	for i in $(seq 1 30); do
		got=$(printf 'GET /passwd HTTP/1.0\r\n\r\n' | nc 127.0.0.1 18080 2>/dev/null)
		echo "$got" | grep -q '^root:' && break
		sleep 1
	done
	if echo "$got" | grep -q '^root:'; then t_pass "-p 18080:80 reaches a server in the sandbox"
	else t_fail "-p 18080:80 reaches a server in the sandbox (id $id)"; cat "$T_OUT/httpd.err"; fi
	# -p listens on 127.0.0.1 unless told otherwise: not on the host's tap address.
	hip=$(ip -o -4 addr show 2>/dev/null | sed -n 's/.* inet \(172\.30\.[0-9]*\.1\)\/.*/\1/p' | head -n 1)
	if [ -n "$hip" ] && echo "$got" | grep -q '^root:'; then
		other=$(printf 'GET /passwd HTTP/1.0\r\n\r\n' | timeout 10 nc "$hip" 18080 2>/dev/null)
		if ! echo "$other" | grep -q '^root:'; then t_pass "-p binds 127.0.0.1 by default (not the tap address $hip)"
		else t_fail "-p binds 127.0.0.1 by default: $hip:18080 answered"; fi
	else
		t_skip "-p default address" "no tap address or no server"
	fi
	pid=$(sed -n 's/^pid=//p' "$SANDBOX_STATE_DIR/$id/state" 2>/dev/null)
	[ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null
	for i in $(seq 1 40); do [ -d "$SANDBOX_STATE_DIR/$id" ] || break; sleep 0.5; done
else
	t_skip "--network tap" "isolation $ISO, or not root, or no /dev/net/tun"
fi

# --- signals, terminal, concurrency -----------------------------------------------
$SB run --rm --isolation $ISO busybox sh -c 'trap "echo got TERM; exit 3" TERM; echo ready; while :; do sleep 1; done' \
	>"$T_OUT/term.out" 2>"$T_OUT/term.err" &
bg=$!
for i in $(seq 1 60); do grep -q ready "$T_OUT/term.out" 2>/dev/null && break; sleep 0.5; done
kill -TERM $bg
wait $bg
echo $? >"$T_OUT/term.rc"
t_expect term "SIGTERM to sandbox run reaches the container's process" 3 '^got TERM$'

if [ -x "$B/tools/ptyrun" ]; then
	t_run tty "$B/tools/ptyrun" --rows 33 --cols 101 -- $R -t testimg sh -c 'probe isatty; stty size'
	t_expect tty "-t: a real terminal inside with the host's window size" 0 'stdin=1 stdout=1 stderr=1' 
	grep -q '^33 101' "$T_OUT/tty.out" || { t_fail "-t: window size 33x101 inside"; t_show tty; }
	t_run ttyin "$B/tools/ptyrun" --input 'echo typed-$((6*7))\nexit 5\n' --delay 300 -- $R -i -t busybox sh
	t_expect ttyin "-i -t: typed input reaches an interactive shell" 5 'typed-42'
else
	t_skip "-t" "no $B/tools/ptyrun"
fi

$SB run --rm --isolation $ISO busybox sh -c 'sleep 1; echo first' >"$T_OUT/c1.out" 2>&1 &
c1=$!
$SB run --rm --isolation $ISO busybox sh -c 'echo second' >"$T_OUT/c2.out" 2>&1 &
c2=$!
wait $c1; r1=$?
wait $c2; r2=$?
if [ $r1 = 0 ] && [ $r2 = 0 ] && grep -q first "$T_OUT/c1.out" && grep -q second "$T_OUT/c2.out"; then
	t_pass "two sandboxes at once"
else t_fail "two sandboxes at once ($r1 $r2)"; cat "$T_OUT/c1.out" "$T_OUT/c2.out"; fi

# --- bad input: one line, the right status, nothing left behind -----------------------
t_run bad1 $R --bogus busybox true
t_one_line_error bad1 "unknown option" "unknown.*--bogus"
t_run bad2 $R nosuchimage true
t_one_line_error bad2 "missing image" "no image 'nosuchimage'"
t_run bad3 $R --memory abc busybox true
t_one_line_error bad3 "--memory abc" "--memory"
t_run bad4 $R -u nosuchuser busybox true
if [ "$(t_rc bad4)" = 125 ] && [ "$(wc -l <"$T_OUT/bad4.err")" -eq 1 ] && grep -q 'nosuchuser' "$T_OUT/bad4.err"; then
	t_pass "unknown user"
else t_fail "unknown user (want 125 and one line)"; t_show bad4; fi
t_run bad5 $R
t_one_line_error bad5 "no image" "no image given"
# -p [HOST_IP:]HOST:GUEST: malformed forms are refused at parse time.
for p in 8080 x:80 0:80 80:65536 +80:80 080:80 1.2.3:80:80 ::1:80:80 1.2.3.4::80 8080:80x; do
	t_run badp $R -p "$p" busybox true
	t_one_line_error badp "-p '$p' refused" "-p '.*': want \[HOST_IP:\]HOSTPORT:GUESTPORT"
done
t_run goodp $R -p 127.0.0.1:18081:80 busybox true
t_one_line_error goodp "-p 127.0.0.1:18081:80 parses (then needs --network tap)" "-p needs --network tap"
left=$(ls -A "$SANDBOX_STATE_DIR" 2>/dev/null | grep -Ev '^\.(lock|events\.json(\.1)?)$')
if [ -z "$left" ]; then t_pass "nothing left in the state directory"
else t_fail "nothing left in the state directory: $left"; fi
rm -rf "$SANDBOX_STATE_DIR"
t_summary
