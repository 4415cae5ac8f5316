#!/bin/sh
# Escape attempts from inside a sandbox, each recorded as contained or not:
#   attack | contained/NOT CONTAINED | evidence
# (issue #8 part 3; the results are in docs/security.md). The attacks run
# as root in the container through the probe (tests/guest/probe.c, in the
# testimg image); the checks that matter are made on this host.
#   ISO=vm tests/security/escape.sh [BUILD_DIR]         every attack is a test
#       (but raw sockets: allowed as in Docker, printed only)
#   ISO=container tests/security/escape.sh [BUILD_DIR]  natively; an attack is
#       a test where a plain container (Docker) contains it too, and the
#       others are printed only (cgroup v1 hosts: limits are not applied)
# The images must be in $B/test-images (tests/e2e/prepare.sh does that).
# POSIX sh: runs under busybox in the test host.
cd "$(dirname "$0")/../.." || exit 2
. tests/e2e/lib.sh
B=${1:-build}
ISO=${ISO:-vm}
SB=$B/sandbox
PROBE=$B/guest-tools/probe
export SANDBOX_IMAGE_DIR=$PWD/$B/test-images
export SANDBOX_STATE_DIR=${TMPDIR:-/tmp}/sandbox-escape.$$
rm -rf "$SANDBOX_STATE_DIR"
R="$SB run --rm --isolation $ISO"
TABLE=$T_OUT/table
: >"$TABLE"
t0=$(date +%s)
echo "# isolation: $ISO"

if ! "$B/sandbox-image" runconf testimg >/dev/null 2>&1; then
	t_skip "escape" "no testimg image in $SANDBOX_IMAGE_DIR (run tests/e2e/prepare.sh $B)"
	t_summary
	exit
fi
if ! $R testimg probe fds >/dev/null 2>&1; then
	t_fail "the testimg probe answers (is the image up to date? make && tests/e2e/prepare.sh)"
	t_summary
	exit
fi

# res ATTACK CONTAINED(1|0) COUNT(yes|no|skip) EVIDENCE
#   COUNT=yes: a test (ok if contained); no: printed only; skip: a skip.
res() {
	_a=$1 _c=$2 _k=$3 _e=$(echo "$4" | tr '\n' ' ' | sed 's/  */ /g; s/ $//')
	if [ "$_c" = 1 ]; then _s=contained; else _s="NOT CONTAINED"; fi
	echo "$_a | $_s | $_e" >>"$TABLE"
	case $_k in
	yes) if [ "$_c" = 1 ]; then t_pass "$_a: contained ($_e)"; else t_fail "$_a: NOT CONTAINED ($_e)"; fi ;;
	skip) t_skip "$_a" "$_s: $_e" ;;
	*) echo "info - $_a: $_s ($_e)" ;;
	esac
}
out() { tr '\n' ' ' <"$T_OUT/$1.out" | sed 's/ $//'; }
err1() { head -n 1 "$T_OUT/$1.err"; }
mem_avail() { sed -n 's/^MemAvailable: *\([0-9]*\) kB/\1/p' /proc/meminfo; }
disk_avail() { df -k "${TMPDIR:-/tmp}" | awk 'NR==2 {print $4}'; }
sha() { sha256sum "$1" 2>/dev/null | cut -d' ' -f1; }
# a plain container contains it too: a test in both modes
both=yes
# only the VM is expected to contain it: a test in vm mode, printed otherwise
vmonly=no; [ "$ISO" = vm ] && vmonly=yes

disk=$("$B/sandbox-image" runconf testimg | tr '\0' '\n' | sed -n 's/^disk=//p')
disk_sha=$(sha "$disk")
bins="$SB $B/guest-init $B/guest-initramfs.cpio"
for f in $bins; do echo "$f $(sha "$f")"; done >"$T_OUT/bins.before"
mem0=$(mem_avail) df0=$(disk_avail)

# --- resource exhaustion ----------------------------------------------------------
t_run bomb $R --pids-limit 16 testimg sh -c 'probe forkbomb 200; echo still here'
if grep -q 'limit not applied' "$T_OUT/bomb.err"; then
	res "fork bomb (--pids-limit 16, 200 forks)" 0 skip "$(out bomb); $(err1 bomb)"
else
	c=0; grep -q EAGAIN "$T_OUT/bomb.out" && grep -q '^still here$' "$T_OUT/bomb.out" && [ "$(t_rc bomb)" = 0 ] && c=1
	res "fork bomb (--pids-limit 16, 200 forks)" $c $both "$(out bomb), status $(t_rc bomb)"
fi

t_run mem $R --memory 64m testimg probe alloc 512
t_run after $R busybox echo alive
if grep -q 'limit not applied' "$T_OUT/mem.err"; then
	res "memory bomb (--memory 64m, 512 MiB)" 0 skip "$(out mem); $(err1 mem)"
else
	c=0; [ "$(t_rc mem)" = 137 ] && grep -q 'out of memory' "$T_OUT/mem.err" && [ "$(out after)" = alive ] && c=1
	res "memory bomb (--memory 64m, 512 MiB)" $c $both "status $(t_rc mem), '$(err1 mem)'; next sandbox: $(out after)"
fi
if [ "$ISO" = vm ]; then
	# No limit at all: the guest's own RAM bounds it.
	m0=$(mem_avail)
	t_run memall $R testimg probe alloc 4096
	m1=$(mem_avail)
	t_run after2 $R busybox echo alive
	c=0; [ "$(t_rc memall)" != 0 ] && [ "$(out after2)" = alive ] && c=1
	res "memory bomb without --memory (4 GiB)" $c yes "status $(t_rc memall) $(out memall); host MemAvailable ${m0} -> ${m1} kB; next sandbox: $(out after2)"
fi

# The writable layer: an ext4 file of --storage bytes (docs/storage.md), a
# disk of the VM or a loop device here; the fill stops at its size (and in
# container mode at a cap of its own too, should that fail).
m0=$(mem_avail) d0=$(disk_avail)
if [ "$ISO" = vm ]; then
	t_run fill $R --storage 256m testimg sh -c 'probe fill /fill 100000; echo still here'
else
	t_run fill $R --storage 256m testimg sh -c 'probe fill /fill 1024; echo still here'
fi
m1=$(mem_avail) d1=$(disk_avail)
t_run after3 $R busybox echo alive
c=0; grep -q 'ENOSPC' "$T_OUT/fill.out" && grep -q '^still here$' "$T_OUT/fill.out" && [ "$(out after3)" = alive ] && c=1
res "fill the writable layer (dd until ENOSPC)" $c $vmonly "$(out fill), status $(t_rc fill); host MemAvailable ${m0} -> ${m1} kB, free ${d0} -> ${d1} kB; next sandbox: $(out after3)"

# --- devices ------------------------------------------------------------------------
t_run kvm $R testimg probe try kvm
c=0; [ "$(out kvm)" != OK ] && c=1
res "open /dev/kvm" $c $both "$(out kvm)"
t_run devls $R testimg ls /dev
want="core fd full mqueue null ptmx pts random shm stderr stdin stdout tty urandom zero"
got=$(sort "$T_OUT/devls.out" | tr '\n' ' ' | sed 's/ $//')
c=0; [ "$got" = "$want" ] && c=1
res "/dev beyond the minimal set (ls /dev)" $c $both "$got"
# mknod of a block device in /dev (CAP_MKNOD is in Docker's set; Docker's
# device cgroup refuses to open it). VM: the image disk, written back
# unchanged (the VM has it read-only); container: only a read of one of
# this host's block devices (never a write).
if [ "$ISO" = vm ]; then
	t_run mknod $R testimg sh -c 'set -- $(probe blkdevs | sed -n "s/^vda \([0-9]*\):\([0-9]*\)/\1 \2/p"); echo "vda $1:$2"; probe rawdisk $1 $2 write /dev/probe-blk'
	c=0; ! grep -q 'write OK' "$T_OUT/mknod.out" && [ "$disk_sha" = "$(sha "$disk")" ] && c=1
	res "mknod the image disk (vda) and write it" $c yes "$(out mknod)"
else
	t_run mknod $R testimg sh -c 'probe blkdevs | while read n d; do r=$(probe rawdisk ${d%:*} ${d#*:} read /dev/probe-blk); echo "$n($d) $r"; [ "$r" = "read OK" ] && break; done | tail -n 1'
	c=1; grep -q 'read OK' "$T_OUT/mknod.out" && c=0
	res "mknod a host block device and read it" $c $both "$(out mknod)"
fi

# --- privileged kernel interfaces ---------------------------------------------------------
for op in init_module finit_module mount ptrace1 syslog; do
	t_run "try_$op" $R testimg probe try $op
	c=0; [ "$(out "try_$op")" = EPERM ] && c=1
	case $op in
	ptrace1) a="ptrace(ATTACH) of PID 1 from a child" ;;
	syslog) a="kernel log (syslog(2))" ;;
	mount) a="mount a tmpfs" ;;
	*) a="load a module ($op)" ;;
	esac
	res "$a" $c $both "$(out "try_$op")"
done
t_run dmesg $R testimg dmesg
c=0; [ "$(t_rc dmesg)" != 0 ] && c=1
res "dmesg" $c $both "status $(t_rc dmesg) $(err1 dmesg)"
t_run ksyms $R testimg probe kallsyms
# masked (all zero), or no kallsyms at all (the guest kernel has none)
c=0; grep -Eq 'nonzero=0$|^ENOENT$' "$T_OUT/ksyms.out" && c=1
res "/proc/kallsyms addresses" $c $both "$(out ksyms)"
# Raw sockets: CAP_NET_RAW is in Docker's default set, so they open (in
# the container's own network namespace): recorded, not a test.
t_run rawsock $R testimg probe try rawsock
t_run rawip $R testimg probe try rawip
c=1; [ "$(out rawsock)" = OK ] || [ "$(out rawip)" = OK ] && c=0
res "raw sockets (AF_PACKET, SOCK_RAW ICMP; NET_RAW as Docker)" $c no "AF_PACKET $(out rawsock), AF_INET/SOCK_RAW $(out rawip)"
# AF_VSOCK: in a VM the guest's channel to its host (the agent's, PID 1):
# the container must neither reach the host's CID 2 ports nor listen there.
t_run vsock $R testimg probe try vsock
c=0; case $(out vsock) in EPERM|EACCES) c=1 ;; esac
res "open an AF_VSOCK socket (the host's CID 2, the agent's channel)" $c $both "socket(AF_VSOCK): $(out vsock)"

# --- the network ------------------------------------------------------------------------
port=$((20000 + $$ % 20000))
"$PROBE" listen 127.0.0.1 $port 120 >"$T_OUT/lis.out" 2>"$T_OUT/lis.err" &
lis=$!
uname=sb-escape-$$
"$PROBE" ulisten $uname 120 >"$T_OUT/ulis.out" 2>"$T_OUT/ulis.err" &
ulis=$!
sleep 0.5
ctrl=$("$PROBE" connect 127.0.0.1 $port)
uctrl=$("$PROBE" uconnect $uname)
t_run lo $R testimg sh -c "for a in 127.0.0.1 10.0.2.2 10.0.2.15 172.30.0.1 172.30.1.1; do echo \"\$a:\$(probe connect \$a $port)\"; done"
c=0; [ "$ctrl" = "OK probe-listener" ] && ! grep -q ':OK' "$T_OUT/lo.out" && c=1
res "host loopback listener (--network none)" $c $both "from the host: $ctrl; from the container: $(out lo)"
t_run uc $R testimg probe uconnect $uname
c=0; [ "$uctrl" = OK ] && [ "$(out uc)" != OK ] && c=1
res "the host's abstract unix socket (other namespace)" $c $both "from the host: $uctrl; from the container: $(out uc)"
if [ "$ISO" = vm ] && [ "$(id -u)" = 0 ] && [ -e /dev/net/tun ]; then
	port2=$((port + 1))
	"$PROBE" listen 0.0.0.0 $port2 120 >"$T_OUT/lis2.out" 2>&1 &
	lis2=$!
	sleep 0.5
	t_run tap $R --network tap testimg sh -c "g=\$(ip -o -4 addr show eth0 | sed -n 's/.*inet \([0-9.]*\)\.2\/.*/\1.1/p'); echo \"\$g:$port(127.0.0.1 only):\$(probe connect \$g $port)\"; echo \"127.0.0.1:$port:\$(probe connect 127.0.0.1 $port)\"; echo \"\$g:$port2(0.0.0.0):\$(probe connect \$g $port2)\""
	c=0; grep -q '(127.0.0.1 only):[A-Z]' "$T_OUT/tap.out" && ! grep -q '(127.0.0.1 only):OK' "$T_OUT/tap.out" &&
		! grep -q "^127.0.0.1:$port:OK" "$T_OUT/tap.out" && c=1
	res "host loopback listener through the tap (--network tap)" $c yes "$(out tap)"
	kill $lis2 2>/dev/null; wait $lis2 2>/dev/null
fi
kill $lis $ulis 2>/dev/null
wait $lis $ulis 2>/dev/null

# --- the image disk ------------------------------------------------------------------
t_run vda $R testimg sh -c 'probe try vda; ls /dev/vda /proc/self/root/dev/vda 2>&1'
c=0; ! grep -q '^OK$' "$T_OUT/vda.out" && ! grep -q '^/' "$T_OUT/vda.out" && c=1
res "open /dev/vda (the image disk) for writing" $c $both "$(out vda)"

# --- the image's /etc, written by the guest agent (PID 1) ------------------------------------
# An image whose /etc is an absolute symlink: PID 1 writes the container's
# hosts (and resolv.conf) with --network tap; through the symlink, that is
# a path of PID 1's own root (here /run/root/outside-etc: the container's
# /outside-etc, where the evidence shows).
if [ "$ISO" = vm ] && [ "$(id -u)" = 0 ] && [ -e /dev/net/tun ] && "$B/sandbox-image" inspect etclink >/dev/null 2>&1; then
	t_run etclink $R --network tap etclink sh -c 'ls -A /outside-etc; echo end'
	c=0; [ "$(out etclink)" = end ] && c=1
	res "write hosts through an image's /etc -> /run/root/outside-etc (guest PID 1)" $c yes "/outside-etc: $(out etclink), status $(t_rc etclink)"
elif [ "$ISO" = vm ]; then
	res "write hosts through an image's /etc symlink (guest PID 1)" 0 skip "needs root, /dev/net/tun and the etclink image (tests/e2e/prepare.sh)"
fi

# --- the runtime's binaries (CVE-2019-5736) ---------------------------------------------
t_run exe $R --init testimg sh -c 'for op in exe-self exe-1 exe-1-opath; do echo "$op:$(probe try $op)"; done'
t_run exe0 $R testimg probe try exe-1
c=0; ! grep -q ':OK' "$T_OUT/exe.out" && [ "$(out exe0)" != OK ] && c=1
res "open /proc/self/exe, /proc/1/exe (--init: the runtime's reaper) for writing" $c $both "$(out exe); without --init exe-1:$(out exe0)"

# --- leaked descriptors (CVE-2024-21626) ------------------------------------------------
t_run fds $R testimg probe fds
t_run fdsw $R --init -w /tmp testimg probe fds
c=0
grep -q 'leaked=0$' "$T_OUT/fds.out" && grep -q 'leaked=0$' "$T_OUT/fdsw.out" &&
	grep -q '^cwd=/ ' "$T_OUT/fds.out" && grep -q '^cwd=/tmp ' "$T_OUT/fdsw.out" &&
	[ "$(grep -o ' [0-9]*[(=]' "$T_OUT/fds.out" | tr -d ' (=' | tr '\n' ' ')" = "0 1 2 3 " ] && c=1
res "leaked host descriptors (/proc/self/fd, fds 3..20)" $c $both "$(sed 's/=[^ ]*stdout/=(stdout)/; s/=[^ ]*stderr/=(stderr)/' "$T_OUT/fds.out" | tr '\n' ' ') | --init -w /tmp: $(tail -n 1 "$T_OUT/fdsw.out")"

# --- after every attack: the host's files --------------------------------------------------
for f in $bins; do echo "$f $(sha "$f")"; done >"$T_OUT/bins.after"
c=0; cmp -s "$T_OUT/bins.before" "$T_OUT/bins.after" && c=1
res "the runtime's binaries (sandbox, guest-init, initramfs) unchanged" $c $both "sha256 $(while read f h; do printf '%s=%.12s ' "${f##*/}" "$h"; done <"$T_OUT/bins.after")"
c=0; [ "$disk_sha" = "$(sha "$disk")" ] && c=1
res "the image disk unchanged" $c $both "sha256 $(echo "$disk_sha" | cut -c1-16)"
mem1=$(mem_avail) df1=$(disk_avail)
left=$(ls -A "$SANDBOX_STATE_DIR" 2>/dev/null | grep -Ev '^\.(lock|events\.json(\.1)?)$')
c=0; [ -z "$left" ] && c=1
res "nothing left behind (state directory)" $c $both "${left:-empty}; host MemAvailable ${mem0} -> ${mem1} kB, free disk ${df0} -> ${df1} kB"
rm -rf "$SANDBOX_STATE_DIR"

echo "# results, isolation $ISO ($(( $(date +%s) - t0 )) s)"
echo "attack | result | evidence"
cat "$TABLE"
t_summary
