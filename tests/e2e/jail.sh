#!/bin/sh
# The VMM's jail (vmm/jail/jail.c): while a guest runs, the VMM process is
# unprivileged and confined — read from the host side in /proc/PID:
#   status     Uid/Gid a jail uid of its own (2000000000 + a slot; two VMMs
#              at once differ), no groups, CapInh/Prm/Eff/Bnd/Amb all 0,
#              NoNewPrivs 1, Seccomp 2; not dumpable (/proc/PID is root's)
#              even with fs.suid_dumpable 1 (set for the test in the test
#              host only)
#   mountinfo  only the jail: a read-only tmpfs root, /proc, the vsock
#              socket's directory at its own path
#   ns/*       mnt, ipc, uts, net (no --net) and cgroup differ from ours
#   limits     core 0, open files bounded
#   cgroup     its own group with memory.max and pids.max (if cgroup v2 with
#              those controllers is mounted)
# and the guest still works through it: a guest-initiated vsock connection
# reaches a host listener (the VMM connects to UDS_1001 from inside the
# jail), the guest's exit status comes back, the socket is removed at exit,
# nothing is left mounted on the host. Then --jail-uid and --no-jail, and
# sandbox run (if the test images are there): the jail holds ROOT/<id>/sock
# only, never the sandbox's state.
# Run as root where /dev/kvm can boot Linux (natively or in the nested
# test host: tests/kvmhost/run tests/e2e/jail.sh).
#   tests/e2e/jail.sh [BUILD_DIR]
cd "$(dirname "$0")/../.." || exit 2
. tests/e2e/lib.sh
t_paths "${1:-build}"

if [ "$(id -u)" != 0 ]; then
	t_skip "jail" "needs root (the jail is only entered by a root VMM)"
	t_summary
	exit $?
fi
D=$T_OUT/jail
mkdir -p "$D"
# The test host mounts no cgroup hierarchy: give it cgroup v2 for this
# script (and unmount it at the end) so the jail's limits are exercised.
cg_mounted=0
if [ "${KVMHOST:-}" = 1 ] && ! awk '$2 == "/sys/fs/cgroup" { f = 1 } END { exit !f }' /proc/self/mounts &&
	mount -t cgroup2 none /sys/fs/cgroup 2>/dev/null; then
	cg_mounted=1
fi
chmod 755 "$D"
U=$D/v.sock
ZERO=0000000000000000

field() { sed -n "s/^$2:[[:space:]]*//p" "/proc/$1/status" | tr -s ' \t' ' ' | sed 's/ $//'; }

# boot NAME [vm options]: the guest sends 64 KiB to host port 1001, then
# sleeps; returns once the VMM's main thread is filtered (Seccomp 2: the
# jail and every filter are in place) or gone. Sets $pid.
boot() {
	_n=$1; shift
	rm -f "$D/got" "${U}_1001"
	"$H" sink "${U}_1001" "$D/got" 2>"$T_OUT/$_n.sink" &
	sink=$!
	"$SB" vm --kernel "$K" --initrd "$I" --console --timeout 120 --vsock "cid=3,uds=$U" \
		--append "sandbox.run=/tests/jail-guest.sh" "$@" >"$T_OUT/$_n.out" 2>"$T_OUT/$_n.err" &
	pid=$!
	_i=0
	while [ $_i -lt 300 ] && kill -0 $pid 2>/dev/null; do
		[ "$(field $pid Seccomp)" = 2 ] && grep -q "jail-guest: sent" "$T_OUT/$_n.out" && break
		sleep 0.1
		_i=$((_i + 1))
	done
}
finish() {
	wait $pid
	echo $? >"$T_OUT/$1.rc"
	kill $sink 2>/dev/null
	wait $sink 2>/dev/null
}

# in_range "A B C D": four equal ids of the jail range
in_range() {
	set -- $1
	[ $# = 4 ] && [ "$1" = "$2" ] && [ "$1" = "$3" ] && [ "$1" = "$4" ] &&
		[ "$1" -ge 2000000000 ] && [ "$1" -lt 2000065536 ]
}

# --- the default jail, and a second VMM beside it (its own socket
# directory and sink) for the per-VMM uid
dumpable_was=
if [ "${KVMHOST:-}" = 1 ] && [ -w /proc/sys/fs/suid_dumpable ]; then
	dumpable_was=$(cat /proc/sys/fs/suid_dumpable)
	echo 1 >/proc/sys/fs/suid_dumpable
fi
mkdir -p "$D/second"
chmod 755 "$D/second"
U2=$D/second/v.sock
"$H" sink "${U2}_1001" "$D/second/got" 2>"$T_OUT/second.sink" &
sink2=$!
"$SB" vm --kernel "$K" --initrd "$I" --console --timeout 120 --vsock "cid=3,uds=$U2" \
	--append "sandbox.run=/tests/jail-guest.sh" >"$T_OUT/second.out" 2>"$T_OUT/second.err" &
pid2=$!
boot jailed
if kill -0 $pid 2>/dev/null; then
	st="Uid=$(field $pid Uid) Gid=$(field $pid Gid) Groups=$(field $pid Groups)"
	if in_range "$(field $pid Uid)" && [ "$(field $pid Gid)" = "$(field $pid Uid)" ] &&
		[ -z "$(field $pid Groups)" ]; then
		t_pass "the VMM runs as a jail uid/gid of its own ($(field $pid Uid | cut -d' ' -f1)), no groups"
	else
		t_fail "the VMM runs as a jail uid/gid of its own, no groups" "$st"
	fi
	_i=0
	while [ $_i -lt 100 ] && kill -0 $pid2 2>/dev/null && [ "$(field $pid2 Seccomp)" != 2 ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
	u1=$(field $pid Uid) u2=$(field $pid2 Uid)
	if in_range "$u1" && in_range "$u2" && [ "$u1" != "$u2" ]; then
		t_pass "two VMMs at once have different jail uids (${u1%% *}, ${u2%% *})"
	else
		t_fail "two VMMs at once have different jail uids" "first: $u1; second: $u2"
	fi
	if [ -n "$dumpable_was" ]; then
		# (the directory /proc/PID always shows the euid; its files show
		# root for a process that is not dumpable)
		if [ "$(stat -c %u /proc/$pid/environ)" = 0 ]; then
			t_pass "the VMM is not dumpable (fs.suid_dumpable 1): /proc/$pid/environ is root's"
		else
			t_fail "the VMM is not dumpable" "/proc/$pid/environ belongs to uid $(stat -c %u /proc/$pid/environ) (fs.suid_dumpable 1)"
		fi
	fi
	caps=""
	for c in CapInh CapPrm CapEff CapBnd CapAmb; do caps="$caps $c=$(field $pid $c)"; done
	if [ "$caps" = " CapInh=$ZERO CapPrm=$ZERO CapEff=$ZERO CapBnd=$ZERO CapAmb=$ZERO" ]; then
		t_pass "no capabilities in any set"
	else
		t_fail "no capabilities in any set" "$caps"
	fi
	if [ "$(field $pid NoNewPrivs)" = 1 ] && [ "$(field $pid Seccomp)" = 2 ]; then
		t_pass "no_new_privs and seccomp filters on"
	else
		t_fail "no_new_privs and seccomp filters on" "NoNewPrivs=$(field $pid NoNewPrivs) Seccomp=$(field $pid Seccomp)"
	fi
	# mountinfo: field 5 is the mount point, after " - " the type and source.
	cp "/proc/$pid/mountinfo" "$D/mountinfo"
	points=$(awk '{print $5}' "$D/mountinfo" | sort | tr '\n' ' ')
	want=$(printf '%s\n' / /proc "$D" | sort | tr '\n' ' ')
	root=$(awk '$5 == "/" { for (i = 7; i <= NF; i++) if ($i == "-") { print $(i+1), $(i+2); exit } }' "$D/mountinfo")
	if [ "$points" = "$want" ] && [ "$root" = "tmpfs sandbox-jail" ] &&
		awk '$5 == "/" { exit !($6 ~ /^ro,/) }' "$D/mountinfo"; then
		t_pass "only the jail is mounted: a read-only tmpfs root, /proc, the socket's directory"
	else
		t_fail "only the jail is mounted" "mount points: $points (want $want); root: $root" \
			"$(cat "$D/mountinfo")"
	fi
	diff=""
	same=""
	for n in mnt ipc uts net cgroup; do
		if [ "$(readlink /proc/$pid/ns/$n)" != "$(readlink /proc/self/ns/$n)" ]; then
			diff="$diff $n"
		else
			same="$same $n"
		fi
	done
	if [ -z "$same" ]; then
		t_pass "own namespaces:$diff"
	else
		t_fail "own mnt, ipc, uts, net and cgroup namespaces" "shared with the host:$same"
	fi
	core=$(awk '/^Max core file size/ { print $5 }' /proc/$pid/limits)
	nofile=$(awk '/^Max open files/ { print $4 }' /proc/$pid/limits)
	if [ "$core" = 0 ] && [ "$nofile" != unlimited ] && [ "$nofile" -le 4096 ]; then
		t_pass "rlimits: core 0, open files $nofile"
	else
		t_fail "rlimits: core 0, open files bounded" "core=$core nofile=$nofile"
	fi
	cg=$(sed -n 's/^0:://p' /proc/$pid/cgroup)
	if awk '$2 == "/sys/fs/cgroup" && $3 == "cgroup2" { f = 1 } END { exit !f }' /proc/self/mounts &&
		grep -q memory /sys/fs/cgroup/cgroup.controllers 2>/dev/null &&
		grep -q pids /sys/fs/cgroup/cgroup.controllers 2>/dev/null; then
		mem=$(cat "/sys/fs/cgroup$cg/memory.max" 2>/dev/null)
		pids=$(cat "/sys/fs/cgroup$cg/pids.max" 2>/dev/null)
		# --mem 128M (default) + 128 MiB overhead; 1 vCPU + 8 tasks.
		case "$cg" in
		*/sandbox-vmm.$pid)
			if [ "$mem" = $((256 << 20)) ] && [ "$pids" = 9 ]; then
				t_pass "cgroup $cg: memory.max $mem, pids.max $pids"
			elif [ "$pids" = 9 ] && [ "$mem" = max ]; then
				t_pass "cgroup $cg: pids.max $pids (memory.max not set: sanitizer build)"
			else
				t_fail "cgroup limits" "$cg: memory.max=$mem pids.max=$pids"
			fi ;;
		*) t_fail "the VMM has its own cgroup" "it is in '$cg'" ;;
		esac
	else
		t_skip "cgroup limits" "no cgroup v2 with the memory and pids controllers at /sys/fs/cgroup (controllers: '$(cat /sys/fs/cgroup/cgroup.controllers 2>/dev/null || echo not mounted)')"
	fi
else
	t_fail "the jailed VMM was gone before it could be inspected"
	t_show jailed
fi
finish jailed
wait $pid2
echo $? >"$T_OUT/second.rc"
kill $sink2 2>/dev/null
wait $sink2 2>/dev/null
[ -n "$dumpable_was" ] && echo "$dumpable_was" >/proc/sys/fs/suid_dumpable
t_expect jailed "the guest ends with its own status (3) through the jail" 3 "jail-guest: done"
t_expect second "so does the second VMM's" 3 "jail-guest: done"
if "$H" gen 64K 5 | cmp -s - "$D/got"; then
	t_pass "guest-initiated vsock connect from inside the jail: 64 KiB byte-exact"
else
	t_fail "guest-initiated vsock connect from inside the jail" "$(cat "$T_OUT/jailed.sink")"
fi
if [ ! -e "$U" ] && ! grep -q sandbox-jail /proc/self/mountinfo; then
	t_pass "the VMM removed its socket; nothing of the jail is left mounted"
else
	t_fail "clean exit" "$(ls -la "$D")"
fi

# --- another uid
boot uid --jail-uid 4321
u=$(field $pid Uid)
finish uid
if [ "$u" = "4321 4321 4321 4321" ] && [ "$(t_rc uid)" = 3 ] && "$H" gen 64K 5 | cmp -s - "$D/got"; then
	t_pass "--jail-uid 4321: the VMM runs as 4321, the guest works"
else
	t_fail "--jail-uid 4321" "Uid=$u"
	t_show uid
fi

# --- off
boot nojail --no-jail
u=$(field $pid Uid) m=$(awk '{print $5}' /proc/$pid/mountinfo 2>/dev/null | wc -l)
finish nojail
if [ "$u" = "0 0 0 0" ] && [ "$m" -gt 3 ] && [ "$(t_rc nojail)" = 3 ]; then
	t_pass "--no-jail: the VMM stays root in the host's mounts"
else
	t_fail "--no-jail" "Uid=$u mounts=$m"
	t_show nojail
fi

# --- sandbox run: only ROOT/<id>/sock enters the jail (issue 13, finding
# 2: the jail had the whole ROOT/<id>, and the VMM could rewrite the state
# the owner trusts). Seen from the VMM: /proc/PID/root.
export SANDBOX_IMAGE_DIR=${SANDBOX_IMAGE_DIR:-$PWD/$B/test-images}
if "$B/sandbox-image" runconf busybox >/dev/null 2>&1; then
	export SANDBOX_STATE_DIR=$D/state
	t_run rund "$SB" run -d --name jailrun busybox sleep 60
	id=$(cat "$T_OUT/rund.out")
	S=$SANDBOX_STATE_DIR/$id
	# The owner records the VMM's pid once it has forked it (after the
	# writable layer is made): wait for that, then for the VMM's filters.
	vpid=
	_i=0
	while [ $_i -lt 300 ]; do
		vpid=$(sed -n 's/^vmm_pid=//p' "$S/state" 2>/dev/null)
		[ -n "$vpid" ] && [ "$vpid" != 0 ] && [ "$(field $vpid Seccomp)" = 2 ] && break
		sleep 0.1
		_i=$((_i + 1))
	done
	if [ -n "$vpid" ] && kill -0 "$vpid" 2>/dev/null; then
		seen=$(ls -a "/proc/$vpid/root$S" 2>&1 | grep -v '^\.\.\?$' | tr '\n' ' ')
		mp=$(awk -v s="$S/sock" '$5 == s { print $5 }' /proc/$vpid/mountinfo)
		if [ "$seen" = "sock " ] && [ "$mp" = "$S/sock" ] && [ ! -e "/proc/$vpid/root$S/state" ] &&
			[ -S "/proc/$vpid/root$S/sock/vsock" ] && [ -e "$S/state" ]; then
			t_pass "sandbox run: the jail holds ROOT/<id>/sock (the vsock socket) only, not the state"
		else
			t_fail "sandbox run: the jail holds ROOT/<id>/sock only" "in the jail's $S: $seen; mount: '$mp'" \
				"$(awk '{print $5}' /proc/$vpid/mountinfo | tr '\n' ' ')"
		fi
		if [ "$(stat -c %a "$S/sock")" = 700 ]; then
			t_pass "ROOT/<id>/sock is 0700"
		else
			t_fail "ROOT/<id>/sock is 0700" "$(ls -ld "$S/sock")"
		fi
	else
		t_fail "sandbox run -d: the VMM was not found running" "vmm_pid=$vpid"
		t_show rund
	fi
	"$SB" rm -f jailrun >/dev/null 2>&1
	unset SANDBOX_STATE_DIR
else
	t_skip "sandbox run in the jail" "no busybox image (tests/e2e/prepare.sh $B)"
fi

[ $cg_mounted = 1 ] && umount /sys/fs/cgroup

t_run badguid "$SB" vm --kernel "$K" --jail-uid 0
t_one_line_error badguid "--jail-uid 0 is refused" "jail-uid"
t_run help "$SB" vm --help
t_expect help "--jail, --no-jail and --jail-uid are in the usage" 0 "[-]-jail-uid"

t_summary
