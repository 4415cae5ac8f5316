#!/bin/bash
# The container setup, natively: guest-init's host-side mode
# (`guest-init --host ROOTFS ... -- CMD`) against a small rootfs directory
# (busybox + the static probe), checked from inside through the probe.
#   tests/container/run.sh [BUILD_DIR]
# Needs root (namespaces, mounts); skips otherwise. Ends with t_summary.
cd "$(dirname "$0")/../.." || exit 2
B=${1:-build}
. tests/e2e/lib.sh
G=$B/guest-init
P=$B/guest-tools/probe

if [ "$(id -u)" != 0 ]; then
	t_skip "container host mode" "needs root"
	t_summary; exit
fi
for f in "$G" "$P" /bin/busybox; do
	[ -x "$f" ] || { t_fail "missing $f (make $G $P)"; t_summary; exit; }
done

ROOT=$(mktemp -d "${TMPDIR:-/tmp}/sandbox-rootfs.XXXXXX")
trap 'rm -rf "$ROOT"' EXIT
chmod 755 "$ROOT"
mkdir -p "$ROOT/bin" "$ROOT/etc" "$ROOT/tmp" "$ROOT/home/tester"
cp /bin/busybox "$P" "$ROOT/bin/"
for a in sh ls cat echo id sleep; do ln -s busybox "$ROOT/bin/$a"; done
chmod 1777 "$ROOT/tmp"
printf 'root:x:0:0:root:/root:/bin/sh\ntester:x:1000:1000:Test:/home/tester:/bin/sh\n' >"$ROOT/etc/passwd"
printf 'root:x:0:\ntester:x:1000:\nextra:x:2000:tester\n' >"$ROOT/etc/group"

run() { _n=$1; shift; t_run "$_n" "$G" --host "$ROOT" "$@"; }

# Namespaces
run pid -- probe pid
t_expect pid "the command is PID 1 in its own PID namespace" 0 '^pid=1 ppid=0$'
run ns -- probe ns
host_ns=$(for n in mnt pid uts ipc net cgroup; do echo "$n $(stat -L -c %i /proc/self/ns/$n)"; done)
same=$(grep -Fxf <(echo "$host_ns") "$T_OUT/ns.out" | tr '\n' ' ')
if [ "$(t_rc ns)" = 0 ] && [ "$(grep -c . "$T_OUT/ns.out")" -ge 6 ] && [ -z "$same" ]; then
	t_pass "new mnt, pid, uts, ipc, net and cgroup namespaces"
else
	t_fail "new mnt, pid, uts, ipc, net and cgroup namespaces (shared with the host: $same)"; t_show ns
fi
run ns_host --network host -- probe ns
if grep -qx "net $(stat -L -c %i /proc/self/ns/net)" "$T_OUT/ns_host.out"; then
	t_pass "--network host shares the host's network namespace"
else
	t_fail "--network host shares the host's network namespace"; t_show ns_host
fi
run init_pid --init -- probe pid
t_expect init_pid "--init: a reaper is PID 1, the command PID 2" 0 '^pid=2 ppid=1$'

# Configuration
run hostname --hostname probe-box -- probe hostname
t_expect hostname "hostname as configured" 0 '^probe-box$'
run hostname_default -- probe hostname
t_expect hostname_default "default hostname 'sandbox'" 0 '^sandbox$'
run cwd --cwd /tmp -- probe cwd
t_expect cwd "cwd as configured" 0 '^/tmp$'
run env --env FOO=bar --env "SPACED=a b" -- sh -c 'probe env FOO; probe env SPACED; probe env PATH'
t_expect env "environment as configured, default PATH" 0 '^a b$'
grep -qx bar "$T_OUT/env.out" && grep -q '^/usr/local/sbin:' "$T_OUT/env.out" || { t_fail "FOO=bar and PATH"; t_show env; }
run id_root -- probe id
t_expect id_root "default user root" 0 '^uid=0 gid=0 groups=$'
run id_name --user tester -- probe id
t_expect id_name "user by name from the rootfs's /etc/passwd and /etc/group" 0 '^uid=1000 gid=1000 groups=2000$'
run id_num --user 1234:4321 -- probe id
t_expect id_num "numeric uid:gid" 0 '^uid=1234 gid=4321 groups=$'
run id_grp --user tester:extra -- probe id
t_expect id_grp "user:group by name" 0 '^uid=1000 gid=2000 groups=2000$'
run home --user tester -- probe env HOME
t_expect home "HOME from /etc/passwd" 0 '^/home/tester$'
run nouser --user nobody -- probe id
t_expect nouser "unknown user: status 125, one error line" 125 '' '^sandbox-init: container: user: no user "nobody"'
run rlimit --rlimit nofile=123:456 -- probe rlimit nofile
t_expect rlimit "rlimit as configured" 0 '^123 456$'

# Security
run caps -- probe caps
t_expect caps "CapEff is Docker's default set" 0 $'^CapEff:\t00000000a80425fb$'
t_expect caps "CapBnd is Docker's default set, no inheritable or ambient" 0 $'^CapBnd:\t00000000a80425fb$'
grep -q $'^CapInh:\t0000000000000000$' "$T_OUT/caps.out" && grep -q $'^CapAmb:\t0000000000000000$' "$T_OUT/caps.out" ||
	{ t_fail "inheritable and ambient empty"; t_show caps; }
run caps_user --user tester -- probe caps
t_expect caps_user "a non-root user: no effective capabilities, same bounding set" 0 $'^CapEff:\t0000000000000000$'
run seccomp -- probe seccomp
t_expect seccomp "seccomp mode 2" 0 $'^Seccomp:\t2$'
run nnp -- probe nnp
t_expect nnp "no_new_privs" 0 $'^NoNewPrivs:\t1$'
for op in mount umount keyctl add_key request_key init_module finit_module delete_module kexec_load \
	reboot swapon bpf perf_event_open unshare setns clone-ns ptrace open_by_handle_at pivot_root; do
	run "try_$op" -- probe try "$op"
	t_expect "try_$op" "$op fails with EPERM" 0 '^EPERM$'
done
# keyctl and unshare(CLONE_NEWUSER) need no capability: EPERM there is seccomp's.
if [ "$("$P" try i386 2>/dev/null)" = OK ]; then
	run try_i386 -- probe try i386
	t_expect try_i386 "a 32-bit syscall (int 0x80) is killed with SIGSYS (only the native ABI)" 159
else
	t_skip "32-bit syscalls killed" "this host has no 32-bit ABI"
fi
run try_fork -- probe try fork
t_expect try_fork "plain fork still works" 0 '^OK$'
run try_chroot -- probe try chroot
t_expect try_chroot "chroot (CAP_SYS_CHROOT, allowed by Docker) works" 0 '^OK$'

# Filesystem
run mounts -- probe mounts
ok=1
grep -Eq '^[0-9]+ [0-9]+ [^ ]+ [^ ]+ /sys ro,' "$T_OUT/mounts.out" || ok=0
grep -Eq ' /proc/sys ro,' "$T_OUT/mounts.out" || ok=0
grep -Eq ' /dev/pts .* - devpts ' "$T_OUT/mounts.out" || ok=0
grep -Eq ' /dev/shm ' "$T_OUT/mounts.out" || ok=0
[ $ok = 1 ] && t_pass "/sys and /proc/sys read-only, /dev/pts and /dev/shm mounted" || { t_fail "mounts"; t_show mounts; }
run dev -- sh -c 'ls /dev | tr "\n" " "'
t_expect dev "minimal /dev" 0 '^core fd full mqueue null ptmx pts random shm stderr stdin stdout tty urandom zero $'
masked=0 checked=""
for p in /proc/kcore /proc/keys /proc/timer_list /proc/sched_debug /proc/interrupts; do
	[ -e "$p" ] || continue
	run "mask_$(basename $p)" -- probe read "$p"
	if [ "$(t_rc "mask_$(basename $p)")" = 0 ] && grep -qx '(empty)' "$T_OUT/mask_$(basename $p).out"; then
		checked="$checked $p"
	else
		masked=1; t_show "mask_$(basename $p)"
	fi
done
for p in /proc/acpi /sys/firmware; do
	[ -e "$p" ] || continue
	run "mask_$(basename $p)" -- sh -c "ls -A $p | wc -l"
	if grep -qx 0 "$T_OUT/mask_$(basename $p).out"; then checked="$checked $p"; else masked=1; t_show "mask_$(basename $p)"; fi
done
[ $masked = 0 ] && t_pass "masked paths read empty:$checked" || t_fail "masked paths"
run ro_proc -- probe write /proc/sys/kernel/hostname
t_expect ro_proc "/proc/sys is read-only" 1 '^EROFS$'
run rw_root -- probe write /tmp/written
t_expect rw_root "the root is writable by default" 0 '^OK$'
run ro_root --read-only -- probe write /written
t_expect ro_root "--read-only: the root is read-only" 1 '^EROFS$'
run ro_tmp --read-only -- probe write /tmp/written2
t_expect ro_tmp "--read-only: /tmp too (no writable root at all)" 1 '^EROFS$'
run devnull --read-only -- probe write /dev/null
t_expect devnull "--read-only: /dev/null still writable" 0 '^OK$'
[ -e "$ROOT/written" ] && t_fail "--read-only wrote into the rootfs" || t_pass "nothing written through --read-only"

# Process
for n in 0 1 42; do
	run "exit_$n" -- probe exit $n
	t_expect "exit_$n" "exit status $n comes back" $n
done
run kill_init --init -- probe kill 15
t_expect kill_init "death by SIGTERM comes back as 143 (--init)" 143
run kill_pid1 -- probe kill 15
t_expect kill_pid1 "without --init PID 1 ignores its own SIGTERM (kernel rule, as in Docker)" 99 'still alive'
run kill9 --init -- probe kill 9
t_expect kill9 "death by SIGKILL comes back as 137" 137
t_run sigterm sh -c "$G --host $ROOT --init -- probe sleep 30 & p=\$!; sleep 0.5; kill -TERM \$p; wait \$p"
t_expect sigterm "SIGTERM to the runtime reaches the command (--init)" 143
t_run stdin sh -c "printf 'line one\nline two\n' | $G --host $ROOT -- probe stdin"
t_expect stdin "stdin is passed through" 0 '^line two$'
t_run tty sh -c "$G --host $ROOT -- probe isatty </dev/null"
t_expect tty "no tty: isatty 0" 0 '^stdin=0 stdout=0 stderr=0$'
t_run fds sh -c "$G --host $ROOT -- sh -c 'ls /proc/self/fd | tr \"\\n\" \" \"' 7</dev/null"
t_expect fds "only fds 0-2 reach the command (7 does not)" 0 '^0 1 2 3 $'
run noexec -- /bin/nonexistent
t_expect noexec "missing command: 127" 127 '' 'exec /bin/nonexistent'

# Limits: applied only with a writable cgroup2 controller.
run mem --memory 32M -- probe alloc 64
if grep -q 'memory limit not applied' "$T_OUT/mem.err"; then
	t_expect mem "--memory without a cgroup2 memory controller: said so, ran anyway" 0 'allocated 64 MiB'
else
	t_expect mem "--memory 32M: allocating 64 MiB ends the process" 137
fi
run pids --pids 16 -- probe forkbomb 64
if grep -q 'pids limit not applied' "$T_OUT/pids.err"; then
	t_expect pids "--pids without a cgroup2 pids controller: said so, ran anyway" 0 'forked 64 of 64'
else
	t_expect pids "--pids 16 stops a fork bomb" 1 'then EAGAIN'
fi

# Bad command lines
t_run bad_opt "$G" --host "$ROOT" --bogus x -- probe pid
t_expect bad_opt "unknown option: 125" 125 '' '^sandbox-init: unknown option --bogus$'
t_run bad_root "$G" --host /nonexistent -- probe pid
t_expect bad_root "missing rootfs: 125" 125 '' '^sandbox-init: rootfs /nonexistent'
mkdir -p "$ROOT.sym/bin" && cp /bin/busybox "$ROOT.sym/bin/" && ln -s /etc "$ROOT.sym/proc"
t_run symlink "$G" --host "$ROOT.sym" -- /bin/busybox true
rm -rf "$ROOT.sym"
t_expect symlink "a rootfs whose /proc is a symlink is refused" 125 '' 'proc is not a directory'
t_run no_cmd "$G" --host "$ROOT" --
t_expect no_cmd "no command: 125" 125 '' 'no command'

t_summary
