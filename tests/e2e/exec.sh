#!/bin/sh
# sandbox exec end to end: output and statuses (0 1 42 126 127 137), the
# walls of the first process (namespaces, cgroup, CapEff, Seccomp,
# NoNewPrivs, by the probe), env/cwd/user, stdin, -t through a real pty,
# 10 execs at once, a 100 MiB stream byte-exact both ways, -d, the sandbox
# surviving its execs and its end ending them (137), bad input.
#   tests/e2e/exec.sh [BUILD_DIR]                VM isolation (test host)
#   ISO=container tests/e2e/exec.sh [BUILD_DIR]  host mode, natively
#                                                (tests/container/exec.sh)
# The images must be in $B/test-images (tests/e2e/prepare.sh does that).
# POSIX sh: runs under busybox in the test host.
cd "$(dirname "$0")/../.." || exit 2
. tests/e2e/lib.sh
t_sandbox_setup "${1:-build}" exec
R="$SB run --isolation $ISO"
echo "# isolation: $ISO"

if ! "$B/sandbox-image" runconf testimg >/dev/null 2>&1; then
	t_skip "sandbox exec" "no testimg image in $SANDBOX_IMAGE_DIR (run tests/e2e/prepare.sh $B)"
	t_summary
	exit
fi
if [ "$ISO" = container ] && [ "$(id -u)" != 0 ]; then
	t_skip "sandbox exec, --isolation container" "needs root"
	t_summary
	exit
fi
# The workspace: a long-lived sandbox with its own env, cwd and limits.
t_run d $R -d --name ex --memory 96m --pids-limit 200 -e FROMRUN=yes -w /tmp testimg sleep 100000
t_expect d "run -d: the workspace sandbox" 0 '^[0-9a-f]{16}$'
X="$SB exec"

t_run echo $X ex echo hello
t_expect echo "exec: stdout and status 0" 0 '^hello$'
t_run st1 $X ex sh -c 'echo to-err >&2; exit 1'
t_expect st1 "exec: status 1, stderr on its own stream" 1 '' '^to-err$'
grep -q to-err "$T_OUT/st1.out" && { t_fail "exec: stderr kept off stdout"; t_show st1; }
t_run st42 $X ex sh -c 'exit 42'
t_expect st42 "exec: status 42" 42
t_run st127 $X ex no-such-command
t_expect st127 "exec: a command not found is 127, said on stderr" 127 '' 'no-such-command'
t_run st126 $X ex /etc
t_expect st126 "exec: a command that cannot run is 126" 126 '' '/etc'
t_run st137 $X ex sh -c 'kill -9 $$'
t_expect st137 "exec: killed by SIGKILL is 137" 137

# --- the walls of the first process ------------------------------------------
t_run ns $X ex sh -c 'for n in mnt pid uts ipc net cgroup; do
	[ "$(readlink /proc/1/ns/$n)" = "$(readlink /proc/self/ns/$n)" ] && echo "same $n" || echo "other $n"; done'
[ "$(grep -c '^same ' "$T_OUT/ns.out")" = 6 ] && t_pass "exec: the first process's mnt pid uts ipc net cgroup namespaces" ||
	{ t_fail "exec: the first process's namespaces"; t_show ns; }
t_run pid1 $X ex probe read /proc/1/cmdline
t_expect pid1 "exec: PID 1 of its PID namespace is the container's sleep" 0 'sleep'
t_run cg $X ex probe read /proc/self/cgroup
t_expect cg "exec: in the container's cgroup (the root of its cgroup namespace)" 0 '^0::/$'
for w in caps seccomp nnp; do
	t_run "first_$w" $R --rm testimg probe $w
	t_run "exec_$w" $X ex probe $w
	if [ "$(t_rc "exec_$w")" = 0 ] && [ -s "$T_OUT/exec_$w.out" ] && cmp -s "$T_OUT/first_$w.out" "$T_OUT/exec_$w.out"; then
		t_pass "exec: probe $w as the first process's ($(tr '\n' ' ' <"$T_OUT/exec_$w.out" | cut -c1-60))"
	else
		t_fail "exec: probe $w as the first process's"; t_show "first_$w"; t_show "exec_$w"
	fi
done
t_run try_mount $X ex probe try mount
t_expect try_mount "exec: mount is refused as in the first process" 0 'EPERM'
if [ "$ISO" = vm ]; then
	t_run oom $X ex probe alloc 200
	t_expect oom "exec: the container's --memory limit holds (200 MiB of 96: 137)" 137
	t_run alive $X ex echo still-here
	t_expect alive "the sandbox survives an exec killed for memory" 0 '^still-here$'
else
	t_skip "exec: the --memory limit" "container isolation applies no cgroup limit on a cgroup v1 host"
fi

# --- env, cwd, user, stdin --------------------------------------------------------
t_run env1 $X ex probe env FROMRUN
t_expect env1 "exec: the container's environment" 0 '^yes$'
t_run env2 $X -e FOO=bar -e FROMRUN=over ex sh -c 'echo "$FOO $FROMRUN"'
t_expect env2 "exec -e: added and overriding" 0 '^bar over$'
t_run cwd1 $X ex probe cwd
t_expect cwd1 "exec: the container's working directory" 0 '^/tmp$'
t_run cwd2 $X -w / ex probe cwd
t_expect cwd2 "exec -w /" 0 '^/$'
t_run user $X -u 1234:5678 ex probe id
t_expect user "exec -u 1234:5678" 0 '^uid=1234 gid=5678'
echo piped-in | $X -i ex cat >"$T_OUT/stdin.out" 2>"$T_OUT/stdin.err"; echo $? >"$T_OUT/stdin.rc"
t_expect stdin "exec -i: stdin reaches the command" 0 '^piped-in$'
echo not-for-you | $X ex cat >"$T_OUT/nostdin.out" 2>"$T_OUT/nostdin.err"; echo $? >"$T_OUT/nostdin.rc"
t_expect nostdin "exec without -i: stdin is empty" 0
[ -s "$T_OUT/nostdin.out" ] && { t_fail "exec without -i: nothing read"; t_show nostdin; }

# --- a terminal ---------------------------------------------------------------------
if [ -x "$B/tools/ptyrun" ]; then
	if [ "$ISO" = vm ]; then
		t_run tty "$B/tools/ptyrun" --rows 33 --cols 101 -- $X -t ex sh -c 'probe isatty; stty size'
		t_expect tty "exec -t: a terminal inside with the host's window size" 0 'stdin=1 stdout=1 stderr=1'
		grep -q '^33 101' "$T_OUT/tty.out" || { t_fail "exec -t: window size 33x101 inside"; t_show tty; }
	else
		t_run tty "$B/tools/ptyrun" --rows 33 --cols 101 -- $X -t ex probe isatty
		t_expect tty "exec -t: the caller's terminal" 0 'stdin=1 stdout=1 stderr=1'
	fi
	t_run ttyin "$B/tools/ptyrun" --input 'echo typed-$((6*7))\nexit 5\n' --delay 300 -- $X -i -t ex sh
	t_expect ttyin "exec -i -t: typed input reaches an interactive shell" 5 'typed-42'
else
	t_skip "exec -t" "no $B/tools/ptyrun"
fi

# --- 10 at once, each its own output and status ------------------------------------
i=1
while [ $i -le 10 ]; do
	( $X ex sh -c "sleep 0.$((i % 3)); echo out-$i; echo err-$i >&2; exit $i" >"$T_OUT/par$i.out" 2>"$T_OUT/par$i.err"
	  echo $? >"$T_OUT/par$i.rc" ) &
	i=$((i + 1))
done
wait
ok=1 i=1
while [ $i -le 10 ]; do
	[ "$(cat "$T_OUT/par$i.rc")" = $i ] && [ "$(cat "$T_OUT/par$i.out")" = out-$i ] &&
		[ "$(cat "$T_OUT/par$i.err")" = err-$i ] || { ok=0; t_show par$i; }
	i=$((i + 1))
done
[ $ok = 1 ] && t_pass "10 execs at once: each its own stdout, stderr and status" ||
	t_fail "10 execs at once: each its own stdout, stderr and status"

# --- 100 MiB through an exec, both ways -----------------------------------------------
big=$T_OUT/big
head -c 104857600 /dev/urandom >"$big"
want=$(md5sum <"$big" | cut -d' ' -f1)
got=$($X -i ex cat <"$big" | md5sum | cut -d' ' -f1)
[ "$got" = "$want" ] && t_pass "100 MiB in and back out through one exec, byte-exact ($want)" ||
	t_fail "100 MiB through one exec (md5 $got, want $want)"
rm -f "$big"

# --- -d, and the sandbox outliving its execs -------------------------------------------
t_run det $X -d ex sh -c 'sleep 1; echo from-detached >/tmp/detached'
t_expect det "exec -d: returns at once with status 0" 0
wait_for 30 $X ex grep -q from-detached /tmp/detached &&
	t_pass "exec -d: the command ran on after exec returned" || t_fail "exec -d: the command ran on"
t_run det127 $X -d ex no-such-command
t_expect det127 "exec -d of a command not found: 127" 127 '' 'no-such-command'
t_run ps "$SB" ps
t_expect ps "after every exec the sandbox still runs" 0 ' ex +testimg +running '

# --- the sandbox ending ends its execs with 137 ------------------------------------------
$X ex sleep 1000 >"$T_OUT/long.out" 2>"$T_OUT/long.err" &
lp=$!
# (anchored: the sandbox's own `sleep 100000` matches "sleep 1000" too, and
# the kill then came before this exec had started, under load)
wait_for 30 $X ex sh -c 'ps | grep -q "[s]leep 1000$"' || t_fail "the long exec started"
"$SB" kill ex >/dev/null 2>&1
wait $lp; echo $? >"$T_OUT/long.rc"
t_expect long "the sandbox ending ends a running exec: 137" 137

# --- bad input ----------------------------------------------------------------------
t_run unknown $X no-such-sandbox true
t_one_line_error unknown "exec into an unknown sandbox: one line, 125" "no such sandbox"
wait_for 30 sh -c "! $SB ps | grep -q ' ex '"
t_run ended $X ex true
t_one_line_error ended "exec into an ended sandbox: one line, 125" "not running"
t_run noarg $X ex
t_one_line_error noarg "exec without a command: one line, 125" "usage"
t_run badopt $X --bogus ex true
t_one_line_error badopt "exec with an unknown option: one line, 125" "unknown"
t_run bade $X -e =x ex true
t_one_line_error bade "exec -e without a name: one line, 125" "KEY=VALUE"

t_summary
