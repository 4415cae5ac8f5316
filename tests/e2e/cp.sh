#!/bin/sh
# sandbox cp end to end: a tree of 10,000 small files, one 200 MiB file,
# modes, symlinks and a long name in and back out, sha256, modes and link
# targets identical on the way in and the way back; docker cp's placement
# (into a directory, SRC/., a new name, onto a file); ownership with and
# without -a; tar streams on stdin and stdout; symlinks in the container
# pointing at /etc resolve in the container and write nothing outside
# DEST; the --max-bytes / --max-entries caps (one line, 125, nothing left
# at DEST); bad input; a sandbox that ended.
#   tests/e2e/cp.sh [BUILD_DIR]                VM isolation (test host)
#   ISO=container tests/e2e/cp.sh [BUILD_DIR]  host mode, natively
#                                              (tests/container/cp.sh)
# The images must be in $B/test-images (tests/e2e/prepare.sh does that).
# POSIX sh: runs under busybox in the test host.
cd "$(dirname "$0")/../.." || exit 2
. tests/e2e/lib.sh
t_sandbox_setup "${1:-build}" cp
W=${TMPDIR:-/tmp}/sandbox-cp-work.$$
T_EXTRA_DIRS=$W
rm -rf "$W"
mkdir -p "$W"
echo "# isolation: $ISO"


if ! "$B/sandbox-image" runconf testimg >/dev/null 2>&1; then
	t_skip "sandbox cp" "no testimg image in $SANDBOX_IMAGE_DIR (run tests/e2e/prepare.sh $B)"
	t_summary
	exit
fi
if [ "$ISO" = container ] && [ "$(id -u)" != 0 ]; then
	t_skip "sandbox cp, --isolation container" "needs root"
	t_summary
	exit
fi
now_ms() {
	_d=$(date +%s%N)
	case $_d in *N) echo $(($(date +%s) * 1000)) ;; *) echo $((_d / 1000000)) ;; esac
}
# manifest DIR: sorted lines of path, mode and type, sha256 of each file,
# target of each symlink. The same script runs here and inside the
# container (GNU and busybox print the same), batched: few processes.
MANIFEST='cd "$1" && { find . -exec stat -c "%n %a %F" {} + ; find . -type f -exec sha256sum {} + | sed "s/^\([0-9a-f]*\)  \(.*\)/\2 sha \1/"; find . -type l | while IFS= read -r p; do echo "$p -> $(readlink "$p")"; done; } | LC_ALL=C sort'
manifest() { sh -c "$MANIFEST" sh "$1"; }

# In the VM the copies live in the guest's memory (the writable layer is a
# tmpfs): room for 210 MiB at a time.
t_run d $SB run --isolation $ISO -d --name cpw --memory 768m testimg sleep 100000
t_expect d "run -d: the workspace sandbox" 0 '^[0-9a-f]{16}$'
wait_for 30 $SB exec cpw true || t_fail "the workspace sandbox takes execs"
X="$SB exec cpw"
C="$SB cp"

# --- the big tree: in and back out ----------------------------------------------
T=$W/tree
mkdir -p "$T/empty" "$T/private"
i=0
while [ $i -lt 100 ]; do
	mkdir "$T/d$i"
	j=0
	while [ $j -lt 100 ]; do
		echo "file $i $j" >"$T/d$i/f$j"
		j=$((j + 1))
	done
	i=$((i + 1))
done
head -c 209715200 /dev/urandom >"$T/big"
long=n123456789n123456789n123456789n123456789n123456789n123456789n123456789n123456789n123456789n123456789-long
mkdir -p "$T/$long/$long"
echo deep >"$T/$long/$long/$long"
chmod 0600 "$T/d1/f1"; chmod 0755 "$T/d2/f2"; chmod 0444 "$T/d3/f3"; chmod 4755 "$T/d4/f4"
chmod 0700 "$T/private"; chmod 0555 "$T/d5"
ln -s d1/f1 "$T/rel-link"; ln -s /etc/passwd "$T/abs-link"; ln -s nowhere "$T/dangling"; ln -s ../d0 "$T/d6/up"
# the 200 MiB file alone, against tar to a local directory
t0=$(now_ms)
t_run bigin $C "$T/big" cpw:/tmp/big
t1=$(now_ms)
t_expect bigin "cp in: one 200 MiB file" 0
mkdir -p "$W/local"
t2=$(now_ms)
(cd "$T" && tar -cf - big) | (cd "$W/local" && tar -xf -)
t3=$(now_ms)
rm -rf "$W/local"
echo "# 200 MiB file: sandbox cp in $((t1 - t0)) ms; tar | tar to a local directory $((t3 - t2)) ms"
t_run bigsum $X sha256sum /tmp/big
[ "$(cut -d' ' -f1 "$T_OUT/bigsum.out")" = "$(sha256sum <"$T/big" | cut -d' ' -f1)" ] &&
	t_pass "the 200 MiB file inside: sha256 identical" || { t_fail "the 200 MiB file inside: sha256"; t_show bigsum; }
$X rm -f /tmp/big

manifest "$T" >"$W/want"
n=$(grep -c ' sha ' "$W/want")
[ "$n" -ge 10001 ] && t_pass "the tree: $n files ($(grep -c ' -> ' "$W/want") symlinks, $(grep -c ' directory$' "$W/want") directories)" ||
	t_fail "the tree has $n files"

t0=$(now_ms)
t_run in $C "$T" cpw:/data
t1=$(now_ms)
t_expect in "cp in: the tree into a new directory" 0
$X sh -c "$MANIFEST" sh /data >"$W/inside" 2>"$W/inside.err"
if cmp -s "$W/want" "$W/inside"; then
	t_pass "inside the container: every sha256, mode and link target as on the host"
else
	t_fail "inside the container: the tree differs"; diff "$W/want" "$W/inside" | head -5 | sed 's/^/    /'
fi
t2=$(now_ms)
t_run out $C -a cpw:/data "$W/back"     # -a: setuid bits too (see below)
t3=$(now_ms)
t_expect out "cp out: the tree back to a new directory" 0
manifest "$W/back" >"$W/got"
if cmp -s "$W/want" "$W/got"; then
	t_pass "back out: every sha256, mode and link target identical"
else
	t_fail "back out: the tree differs"; diff "$W/want" "$W/got" | head -5 | sed 's/^/    /'
fi
ls -A "$W" | grep -q sandbox-cp && t_fail "a temporary directory was left beside DEST"
echo "# tree (210 MiB, 10,000+ files): in $((t1 - t0)) ms, out $((t3 - t2)) ms"
rm -rf "$W/back"

# --- docker cp's placement ----------------------------------------------------------
$X mkdir -p /p/existing/sub
t_run p1 $C "$T/d1/f0" cpw:/p/existing
t_run p1c $X cat /p/existing/f0
t_expect p1c "a file into an existing directory keeps its name" 0 '^file 1 0$'
t_run p2 $C "$T/d1/f0" cpw:/p/renamed
t_run p2c $X cat /p/renamed
t_expect p2c "a file to a new path takes that name" 0 '^file 1 0$'
t_run p3 $C "$T/d1/f1" cpw:/p/renamed
t_run p3c $X cat /p/renamed
t_expect p3c "a file onto a file replaces it" 0 '^file 1 1$'
t_run p4 $C "$T/d2" cpw:/p/existing
t_run p4c $X cat /p/existing/d2/f5
t_expect p4c "a directory into an existing directory goes inside it" 0 '^file 2 5$'
t_run p5 $C "$T/d3/." cpw:/p/existing/sub
t_run p5c $X cat /p/existing/sub/f7
t_expect p5c "SRC/. copies the contents" 0 '^file 3 7$'
t_run p6 $C "$T/d1/f0" cpw:/p/nodir/
t_one_line_error p6 "a file to a missing directory (DEST/): one line, 125" "no such directory"
t_run p7 $C "$T/d1/f0" cpw:/no/such/parent
t_one_line_error p7 "the parent must exist: one line, 125" "parent"
t_run p8 $C "$T/d1" cpw:/p/renamed
t_one_line_error p8 "a directory onto a file: one line, 125" "directory"
t_run p9 $C cpw:/p/existing/d2/f5 "$W"
[ "$(cat "$W/f5" 2>/dev/null)" = "file 2 5" ] && t_pass "cp out: a file into an existing host directory" ||
	{ t_fail "cp out: a file into an existing host directory"; t_show p9; }

# --- ownership ---------------------------------------------------------------------
if [ "$(id -u)" = 0 ]; then
	echo owned >"$W/owned"; chown 1234:5678 "$W/owned"
	$C "$W/owned" cpw:/tmp/own-default
	$C -a "$W/owned" cpw:/tmp/own-archive
	t_run own $X stat -c %u:%g /tmp/own-default /tmp/own-archive
	[ "$(tr '\n' ' ' <"$T_OUT/own.out")" = "0:0 1234:5678 " ] &&
		t_pass "cp in: owned by root without -a, the source's uid/gid with -a" ||
		{ t_fail "cp in: ownership"; t_show own; }
	$X sh -c 'echo x >/tmp/theirs && chown 4321:8765 /tmp/theirs'
	$C cpw:/tmp/theirs "$W/theirs-default"
	$C -a cpw:/tmp/theirs "$W/theirs-archive"
	[ "$(stat -c %u:%g "$W/theirs-default") $(stat -c %u:%g "$W/theirs-archive")" = "0:0 4321:8765" ] &&
		t_pass "cp out: owned by the caller without -a, the container's uid/gid with -a" ||
		t_fail "cp out: ownership ($(stat -c %u:%g "$W/theirs-default") $(stat -c %u:%g "$W/theirs-archive"))"
	$C cpw:/data/d4/f4 "$W/suid"
	[ "$(stat -c %a "$W/suid")" = 755 ] && t_pass "cp out without -a drops setuid" ||
		t_fail "cp out without -a drops setuid ($(stat -c %a "$W/suid"))"
else
	t_skip "cp ownership" "needs root"
fi

# --- tar streams ------------------------------------------------------------------
t_run sout sh -c "$C cpw:/data/d7 - | tar -tf - | sort | head -n 3"
t_expect sout "cp ID:PATH -: a tar stream on stdout" 0 '^d7/?$'
(cd "$T" && tar -cf - d8 d9) | $C - cpw:/p/existing >"$T_OUT/sin.out" 2>"$T_OUT/sin.err"; echo $? >"$T_OUT/sin.rc"
t_run sinc $X cat /p/existing/d8/f1 /p/existing/d9/f2
t_expect sinc "cp - ID:DIR: a tar stream on stdin extracted into the directory" 0 'file 9 2'
echo garbage | $C - cpw:/p/existing >"$T_OUT/sbad.out" 2>"$T_OUT/sbad.err"; echo $? >"$T_OUT/sbad.rc"
t_one_line_error sbad "cp - with no tar on stdin: one line, 125" "tar|archive"

# --- symlinks to /etc: nothing escapes -------------------------------------------------
$X sh -c 'mkdir -p /ws/tree/etc-is-real && echo container-only >/ws/tree/etc-is-real/canary && ln -s /etc /ws/etclink && ln -s /etc /ws/tree/etc && echo sandbox-was-here >/etc/sandbox-cp-canary'
ls /etc >"$W/etc-before"
t_run e1 $C cpw:/ws/etclink "$W/e1"
[ "$(readlink "$W/e1")" = /etc ] && t_pass "cp out of a symlink to /etc: a symlink at DEST, nothing else" ||
	{ t_fail "cp out of a symlink to /etc"; t_show e1; }
t_run e2 $C cpw:/ws/etclink/sandbox-cp-canary "$W/e2"
[ "$(cat "$W/e2" 2>/dev/null)" = sandbox-was-here ] && t_pass "cp out through a symlink to /etc reads the container's /etc" ||
	{ t_fail "cp out through a symlink to /etc reads the container's /etc"; t_show e2; }
t_run e3 $C cpw:/ws/tree "$W/e3"
t_expect e3 "cp out of a tree holding a symlink to /etc" 0
[ -L "$W/e3/etc" ] && [ "$(readlink "$W/e3/etc")" = /etc ] || t_fail "the symlink to /etc stays a symlink"
# the same tree again into DEST, whose etc is that symlink now: merged, and not through it
mkdir -p "$W/e4/tree" && ln -s /etc "$W/e4/tree/etc-is-real"
t_run e4 $C cpw:/ws/tree "$W/e4"
t_one_line_error e4 "cp out merging a directory onto a host symlink to /etc: refused" "non-directory"
echo host-file >"$W/hostfile"
t_run e5 $C "$W/hostfile" cpw:/ws/etclink/
t_run e5c $X cat /etc/hostfile
t_expect e5c "cp in through a symlink to /etc writes the container's /etc" 0 '^host-file$'
ls /etc >"$W/etc-after"
if cmp -s "$W/etc-before" "$W/etc-after" && [ ! -e /etc/sandbox-cp-canary ] && [ ! -e /etc/canary ] && [ ! -e /etc/hostfile ]; then
	t_pass "the host's /etc is untouched"
else
	t_fail "the host's /etc changed"; diff "$W/etc-before" "$W/etc-after" | head -5 | sed 's/^/    /'
fi
ls -A "$W" | grep -q sandbox-cp && t_fail "a temporary directory was left behind"

# --- the caps -------------------------------------------------------------------------
t_run cap1 $C --max-bytes 1m cpw:/data/big "$W/capped"
t_one_line_error cap1 "cp out over --max-bytes: one line, 125" "max-bytes"
[ ! -e "$W/capped" ] && ! ls -A "$W" | grep -q sandbox-cp && t_pass "over --max-bytes: nothing at DEST, nothing beside it" ||
	t_fail "over --max-bytes: something was left ($(ls -A "$W" | tr '\n' ' '))"
mkdir -p "$W/capdir"
t_run cap2 $C --max-entries 1000 cpw:/data "$W/capdir"
t_one_line_error cap2 "cp out over --max-entries: one line, 125" "max-entries"
[ -z "$(ls -A "$W/capdir")" ] && t_pass "over --max-entries: nothing in DEST" || t_fail "over --max-entries: DEST not empty"
t_run cap3 sh -c "$C --max-bytes 1m cpw:/data/big - >/dev/null"
t_one_line_error cap3 "cp out to stdout over --max-bytes: one line, 125" "max-bytes"
t_run alive $X echo still-here
t_expect alive "the sandbox is fine after the capped copies" 0 '^still-here$'

# --- bad input ------------------------------------------------------------------------
t_run b1 $C cpw:/no/such/file "$W/x"
t_one_line_error b1 "cp out of a missing path: one line, 125" "No such file"
t_run b2 $C "$W/no-such-file" cpw:/tmp/
t_one_line_error b2 "cp in of a missing file: one line, 125" "No such file"
t_run b3 $C "$W/hostfile" "$W/other"
t_one_line_error b3 "cp between two host paths: one line, 125" "ID:PATH"
t_run b4 $C cpw:/a cpw:/b
t_one_line_error b4 "cp between two sandbox paths: one line, 125" "not both"
t_run b5 $C "$W/hostfile" no-such-sandbox:/tmp
t_one_line_error b5 "cp into an unknown sandbox: one line, 125" "no such sandbox"
t_run b6 $C --bogus "$W/hostfile" cpw:/tmp
t_one_line_error b6 "cp with an unknown option: one line, 125" "unknown"
t_run b7 $C "$W/hostfile"
t_one_line_error b7 "cp with one argument: one line, 125" "usage"
t_run b8 $C cpw:/tmp "$W/no/such/dir/x"
t_one_line_error b8 "cp out to a missing parent: one line, 125" "parent"

"$SB" kill cpw >/dev/null 2>&1
wait_for 30 sh -c "! $SB ps | grep -q ' cpw '"
t_run ended $C "$W/hostfile" cpw:/tmp
t_one_line_error ended "cp into an ended sandbox: one line, 125" "not running"
t_run ended2 $SB exec cpw true
t_one_line_error ended2 "exec into an ended sandbox: one line, 125" "not running"

t_summary
