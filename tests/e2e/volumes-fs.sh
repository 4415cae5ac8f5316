#!/bin/sh
# Host directories as volumes (`sandbox run -v DIR:/PATH[:ro]`, docs/volumes.md):
# writes visible both ways (a finished run and a live sandbox), :ro refuses
# writes (EROFS) and the host's files stay as they were, `..`, absolute and
# relative symlink escapes from inside reach nothing outside DIR, the daemon
# is gone when the sandbox is, and a user's directory gets a daemon running as
# that user (in a user namespace: checked from /proc while it runs).
#   tests/e2e/volumes-fs.sh [BUILD_DIR]                VM isolation (virtio-fs,
#                                                      in the test host)
#   ISO=container tests/e2e/volumes-fs.sh [BUILD_DIR]  host mode (a bind
#                                                      mount), natively
#                                                      (tests/container/volumes-fs.sh)
# The images must be in $B/test-images (tests/e2e/prepare.sh does that).
# POSIX sh: runs under busybox in the test host.
cd "$(dirname "$0")/../.." || exit 2
. tests/e2e/lib.sh
t_sandbox_setup "${1:-build}" vfs-state
W=${TMPDIR:-/tmp}/sandbox-vfs.$$
T_EXTRA_DIRS=$W
rm -rf "$W"
R="$SB run --isolation $ISO"
echo "# isolation: $ISO"


if ! "$B/sandbox-image" runconf busybox >/dev/null 2>&1; then
	t_skip "-v DIR" "no busybox image in $SANDBOX_IMAGE_DIR (run tests/e2e/prepare.sh $B)"
	t_summary
	exit
fi
if [ "$(id -u)" != 0 ]; then
	t_skip "-v DIR" "needs root"
	t_summary
	exit
fi
if [ "$ISO" = vm ] && [ ! -x "${SANDBOX_VIRTIOFSD:-/usr/lib/qemu/virtiofsd}" ]; then
	t_skip "-v DIR in the VM" "no virtiofsd (qemu-system-common)"
	t_summary
	exit
fi

# The shared tree and, beside it, what must stay out of reach.
D=$W/outside/shared
mkdir -p "$D/sub"
echo secret >"$W/outside/secret"
echo hello >"$D/from-host"
ln -s "$W/outside/secret" "$D/abs"      # absolute: the host's path
ln -s ../secret "$D/rel"                 # relative: up out of DIR
ln -s /etc/hostname "$D/etc"
# The processes running a daemon for a directory under $W (or under $1).
daemons() {
	for c in /proc/[0-9]*/cmdline; do
		tr '\0' ' ' 2>/dev/null <"$c" | grep -q "^virtiofsd .*source=${1:-$W/}" && echo "${c%/cmdline}"
	done
}

# --- read-write: both ways ------------------------------------------------------------
t_run rw $R --rm -v "$D:/data" busybox sh -c 'cat /data/from-host && echo from-guest >/data/new && mkdir /data/dir && echo in-dir >/data/dir/f && ls /data'
t_expect rw "-v DIR:/data: the guest reads the host's file" 0 '^hello$'
if [ "$(cat "$D/new" 2>/dev/null)" = from-guest ] && [ "$(cat "$D/dir/f" 2>/dev/null)" = in-dir ]; then
	t_pass "-v DIR:/data: the guest's files and directories are on the host"
else t_fail "-v DIR:/data: the guest's files and directories are on the host"; ls -la "$D"; fi
if [ "$ISO" = vm ]; then
	if [ -z "$(daemons)" ]; then t_pass "no virtiofsd left once the sandbox ended"
	else t_fail "no virtiofsd left once the sandbox ended" "$(daemons)"; fi
fi
# Relative DIR and a live sandbox: changes show while it runs.
t_run live sh -c 'cd "$1" && exec "$2" run --isolation "$3" -d --name vfs -v shared:/data busybox sleep 100000' \
	sh "$W/outside" "$PWD/$SB" "$ISO"
t_expect live "run -d -v shared:/data (a relative DIR)" 0 '^[0-9a-f]{16}$'
wait_for 60 $SB exec vfs true
echo later >"$D/later"
t_run l1 $SB exec vfs cat /data/later
t_expect l1 "a file the host makes while the sandbox runs is seen inside" 0 '^later$'
t_run l2 $SB exec vfs sh -c 'echo back >/data/back'
if [ "$(t_rc l2)" = 0 ] && [ "$(cat "$D/back" 2>/dev/null)" = back ]; then
	t_pass "a file written inside a running sandbox is on the host at once"
else t_fail "a file written inside a running sandbox is on the host at once"; t_show l2; fi
echo changed >"$D/from-host"
sleep 1.2   # cache=auto: attributes are cached for a second
t_run l3 $SB exec vfs cat /data/from-host
t_expect l3 "a host file rewritten while the sandbox runs reads new inside" 0 '^changed$'
$SB rm -f vfs >/dev/null 2>&1
echo hello >"$D/from-host"

# --- read-only: for real ------------------------------------------------------------
sum0=$(cat "$D/from-host")
t_run ro $R --rm -v "$D:/data:ro" busybox sh -c 'cat /data/from-host; echo x >/data/from-host'
t_expect ro ":ro: the guest reads, a write is EROFS" 1 '^hello$' 'Read-only file system'
t_run ro2 $R --rm -v "$D:/data:ro" busybox sh -c 'touch /data/made; mkdir /data/mdir; rm /data/new; ln -s x /data/ln; mv /data/sub /data/sub2; echo end'
if [ "$(cat "$D/from-host")" = "$sum0" ] && [ ! -e "$D/made" ] && [ ! -e "$D/mdir" ] && [ -f "$D/new" ] &&
   [ ! -e "$D/ln" ] && [ -d "$D/sub" ] && [ "$(cat "$T_OUT/ro2.out")" = end ]; then
	t_pass ":ro: touch, mkdir, rm, ln, mv change nothing on the host"
else t_fail ":ro: touch, mkdir, rm, ln, mv change nothing on the host"; t_show ro2; ls -la "$D"; fi
if [ "$(grep -c 'Read-only file system' "$T_OUT/ro2.err")" -ge 5 ]; then t_pass ":ro: each is refused with EROFS"
else t_fail ":ro: each is refused with EROFS"; t_show ro2; fi
# Remounting read-write from inside is not the container's to do; the
# host side is read-only whatever the guest's mount says.
t_run ro3 $R --rm -v "$D:/data:ro" busybox sh -c 'mount -o remount,rw /data; echo y >/data/from-host'
if [ "$(t_rc ro3)" != 0 ] && [ "$(cat "$D/from-host")" = "$sum0" ]; then t_pass ":ro: remount rw inside is refused, the file unchanged"
else t_fail ":ro: remount rw inside is refused, the file unchanged"; t_show ro3; fi

# --- a directory owned by a user: the daemon runs as that user -----------------------
if [ "$ISO" = vm ]; then
	U=$W/user
	mkdir -p "$U"
	echo mine >"$U/mine"
	echo root >"$U/rootfile"
	chown -R 1000:1000 "$U"
	chown 0:0 "$U/rootfile"
	chmod 644 "$U/rootfile"
	t_run u $SB run -d --name vfsu -v "$U:/data" busybox sleep 100000
	wait_for 60 $SB exec vfsu true
	ok=0 seccomp=0 bad=
	for p in $(daemons "$U"); do
		ok=$((ok + 1))
		grep -q '^Seccomp:[[:space:]]*2' "$p/status" && seccomp=$((seccomp + 1))
		grep -q '^Uid:[[:space:]]*1000[[:space:]]*1000[[:space:]]*1000[[:space:]]*1000$' "$p/status" &&
			grep -q '^Gid:[[:space:]]*1000[[:space:]]*1000[[:space:]]*1000[[:space:]]*1000$' "$p/status" &&
			grep -q '^Groups:[[:space:]]*$' "$p/status" &&
			[ "$(readlink "$p/ns/user")" != "$(readlink /proc/self/ns/user)" ] || bad="$bad $p"
	done
	if [ "$ok" -ge 1 ] && [ "$seccomp" -ge 1 ] && [ -z "$bad" ]; then
		t_pass "a user's directory: its virtiofsd runs as uid/gid 1000, no groups, in a user namespace, seccomp on"
	else t_fail "a user's directory: its virtiofsd runs as uid/gid 1000, no groups, in a user namespace, seccomp on" \
		"$ok daemons, $seccomp with seccomp, wrong:$bad"; for p in $(daemons "$U"); do cat "$p/status"; done; fi
	t_run u1 $SB exec vfsu sh -c 'stat -c %u:%g /data/mine; echo new >/data/new; echo pwn >>/data/rootfile; chown 1234 /data/mine; echo end'
	t_expect u1 "inside, the owner's files are root's; root's file cannot be written" 0 '^0:0$' 'rootfile: Permission denied'
	if [ "$(stat -c %u:%g "$U/new" 2>/dev/null)" = 1000:1000 ] && [ "$(cat "$U/rootfile")" = root ] &&
	   [ "$(stat -c %u "$U/mine")" = 1000 ]; then
		t_pass "on the host the guest's file is the user's, root's file and the owner unchanged"
	else t_fail "on the host the guest's file is the user's, root's file and the owner unchanged"; t_show u1; ls -lan "$U"; fi
	$SB rm -f vfsu >/dev/null 2>&1
	t_run u2 $R --rm -v "$U:/data:ro" busybox sh -c 'cat /data/mine; echo x >/data/mine'
	t_expect u2 ":ro with a user's daemon: a write is EROFS" 1 '^mine$' 'Read-only file system'
fi

# --- escapes: nothing outside DIR -----------------------------------------------------
t_run esc $R --rm -v "$D:/data" busybox sh -c '
	for p in /data/../secret /data/abs /data/rel /data/sub/../../secret; do cat "$p" 2>/dev/null && echo "READ $p"; done
	ln -s ../secret /data/mine && cat /data/mine 2>/dev/null && echo "READ mine"
	ln -s "'"$W"'/outside/secret" /data/mine2 && cat /data/mine2 2>/dev/null && echo "READ mine2"
	echo pwn >/data/../secret2 2>/dev/null
	echo pwn >/data/rel 2>/dev/null
	echo pwn >/data/abs 2>/dev/null
	echo done'
if [ "$(t_rc esc)" = 0 ] && grep -q '^done$' "$T_OUT/esc.out" && ! grep -q 'READ\|^secret' "$T_OUT/esc.out"; then
	t_pass "..: absolute and relative symlinks (the host's and the guest's) read nothing outside DIR"
else t_fail "..: absolute and relative symlinks read nothing outside DIR"; t_show esc; fi
if [ "$(cat "$W/outside/secret")" = secret ] && [ ! -e "$W/outside/secret2" ] && [ "$(ls "$W/outside")" = "$(printf 'secret\nshared')" ]; then
	t_pass "writes through .. and symlinks changed nothing outside DIR"
else t_fail "writes through .. and symlinks changed nothing outside DIR"; ls -la "$W/outside"; cat "$W/outside/secret"; fi
# The guest sees symlinks as links: the host's absolute one points at a
# path that, inside, is the container's own (absent) file.
t_run lnk $R --rm -v "$D:/data" busybox readlink /data/abs
t_expect lnk "the host's symlink is a symlink inside, unresolved by the host" 0 "^$W/outside/secret\$"

# --- bad values -------------------------------------------------------------------------
t_run bad $R --rm -v "$W/nonexistent:/data" busybox true
t_one_line_error bad "-v of a missing source: one error line" 'nonexistent'
if [ "$ISO" = vm ]; then
	t_run nod env SANDBOX_VIRTIOFSD=/nonexistent/virtiofsd $R --rm -v "$D:/data" busybox true
	t_one_line_error nod "-v DIR without virtiofsd: one error line" 'virtiofsd'
fi
t_summary
