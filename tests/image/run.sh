#!/bin/bash
# Image import (issue 5), on the host: no guest, no KVM.
#   tests/image/run.sh [BUILD_DIR]
# Builds one two-layer image by hand (tar, gzip, zstd, sha256sum) as an OCI
# layout and derives the other four input forms from it (oci-archive: tar
# of the layout; docker-archive: skopeo; rootfs tar and dir: the flattened
# tree); all five must give the same disk. Then edge cases with hand-made
# layers. Disk contents are checked with fsck.erofs --extract (no mounts).
cd "$(dirname "$0")/../.." || exit 2
. tests/e2e/lib.sh
B=${1:-build}
SI=$(readlink -f "$B/sandbox-image")
SB=$(readlink -f "$B/sandbox")

for tool in mkfs.erofs fsck.erofs sha256sum gzip zstd; do
	if ! command -v $tool >/dev/null; then
		t_skip "image tests" "$tool missing"
		t_summary
		exit $?
	fi
done

W=$(mktemp -d "${TMPDIR:-/tmp}/sandbox-image-test.XXXXXX")
trap 'rm -rf "$W"' EXIT
export SANDBOX_IMAGE_DIR=$W/cache
T=1700000000 # every mtime in the test image
ROOT=0; [ "$(id -u)" = 0 ] && ROOT=1
V=$SANDBOX_IMAGE_DIR/v2; [ $ROOT = 1 ] || V=$V-user # where the disks go

sha() { sha256sum "$1" | cut -d' ' -f1; }
size() { stat -c %s "$1"; }
# Deterministic tar of a directory's contents (paths start with ./).
mktar() { tar --sort=name --numeric-owner --xattrs --xattrs-include='user.*' --format=pax \
	--pax-option=delete=atime,delete=ctime -C "$1" -cf "$2" .; }
settimes() { find "$1" -exec touch -h -d "@$T" {} +; }
setxattr() { python3 -c 'import os,sys; os.setxattr(sys.argv[1], sys.argv[2], sys.argv[3].encode(), follow_symlinks=False)' "$@"; }

# ---- content: layer 1 ----
L1=$W/l1
mkdir -p $L1/etc $L1/bin $L1/opq/sub $L1/usr/share/doc $L1/home/user
echo "hello" >$L1/etc/hello
echo "old" >$L1/etc/old
echo "lower" >$L1/opq/lower
echo "lower2" >$L1/opq/sub/deep
printf 'binary\0data' >$L1/bin/tool
ln $L1/bin/tool $L1/bin/tool-link           # hard link
ln -s tool $L1/bin/sym                      # relative symlink
ln -s /etc/hello $L1/abs-link               # absolute symlink (a dangling one on the host side is fine)
chmod 4755 $L1/bin/tool                     # setuid kept
chmod 0700 $L1/home/user
echo "doc" >$L1/usr/share/doc/readme
if [ $ROOT = 1 ]; then chown 1000:1000 $L1/home/user; fi
HAVE_XATTR=0
if command -v python3 >/dev/null && setxattr $L1/etc/hello user.test value 2>/dev/null; then HAVE_XATTR=1; fi
settimes $L1
mktar $L1 $W/layer1.tar

# ---- layer 2: whiteout, opaque dir, new files ----
L2=$W/l2
mkdir -p $L2/etc $L2/opq $L2/new
: >$L2/etc/.wh.old                          # removes etc/old
: >$L2/opq/.wh..wh..opq                     # hides opq/* of layer 1
echo "upper" >$L2/opq/upper
echo "new" >$L2/new/file
cp -p $L1/etc/hello $L2/etc/hello2 2>/dev/null || echo "hello" >$L2/etc/hello2
settimes $L2
mktar $L2 $W/layer2.tar

# ---- the flattened tree (what the two layers must give) ----
FLAT=$W/flat
mkdir -p $FLAT
tar --xattrs --xattrs-include='user.*' -C $FLAT -xpf $W/layer1.tar
rm -f $FLAT/etc/old
rm -rf $FLAT/opq/lower $FLAT/opq/sub
tar --xattrs --xattrs-include='user.*' -C $FLAT -xpf $W/layer2.tar \
	--exclude=.wh.old --exclude=.wh..wh..opq
rm -f $FLAT/etc/.wh.old $FLAT/opq/.wh..wh..opq
settimes $FLAT
mktar $FLAT $W/rootfs.tar

# ---- OCI layout by hand ----
# mk_oci DIR L1FILE L1MEDIA L2FILE L2MEDIA: layers given compressed as stored
mk_oci() {
	local d=$1
	mkdir -p $d/blobs/sha256
	printf '{"imageLayoutVersion":"1.0.0"}' >$d/oci-layout
	local l1=$(sha $2) l2=$(sha $4)
	cp $2 $d/blobs/sha256/$l1; cp $4 $d/blobs/sha256/$l2
	printf '{"architecture":"amd64","os":"linux","config":{"Entrypoint":["/bin/tool"],"Cmd":["-v"],"Env":["PATH=/bin","A=b c"],"WorkingDir":"/home/user","User":"1000:1000","StopSignal":"SIGINT","ExposedPorts":{"8080/tcp":{},"53/udp":{}}},"rootfs":{"type":"layers","diff_ids":["sha256:%s","sha256:%s"]}}' \
		"$(sha $W/layer1.tar)" "$(sha $W/layer2.tar)" >$W/config.json
	local c=$(sha $W/config.json)
	cp $W/config.json $d/blobs/sha256/$c
	printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:%s","size":%s},"layers":[{"mediaType":"%s","digest":"sha256:%s","size":%s},{"mediaType":"%s","digest":"sha256:%s","size":%s}]}' \
		$c $(size $W/config.json) "$3" $l1 $(size $2) "$5" $l2 $(size $4) >$W/manifest.json
	local m=$(sha $W/manifest.json)
	cp $W/manifest.json $d/blobs/sha256/$m
	# An index with a platform index inside: linux/arm64 and linux/amd64.
	printf '{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"platform":{"architecture":"arm64","os":"linux"}},{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"platform":{"architecture":"amd64","os":"linux"}}]}' \
		$m $(size $W/manifest.json) $m $(size $W/manifest.json) >$W/pindex.json
	local pi=$(sha $W/pindex.json)
	cp $W/pindex.json $d/blobs/sha256/$pi
	printf '{"schemaVersion":2,"manifests":[{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"sha256:%s","size":%s,"annotations":{"org.opencontainers.image.ref.name":"v1"}},{"mediaType":"application/vnd.oci.image.index.v1+json","digest":"sha256:%s","size":%s,"annotations":{"org.opencontainers.image.ref.name":"multi"}}]}' \
		$m $(size $W/manifest.json) $pi $(size $W/pindex.json) >$d/index.json
	echo $c
}
gzip -n -c $W/layer1.tar >$W/layer1.tar.gz
zstd -q -c $W/layer2.tar >$W/layer2.tar.zst
CFG=$(mk_oci $W/oci $W/layer1.tar.gz application/vnd.oci.image.layer.v1.tar+gzip \
	$W/layer2.tar.zst application/vnd.oci.image.layer.v1.tar+zstd)
(cd $W/oci && tar -cf $W/oci-archive.tar oci-layout index.json blobs)
# docker-archive has no zstd: skopeo converts from an all-gzip layout
# (same diff_ids, so the same config).
gzip -n -c $W/layer2.tar >$W/layer2.tar.gz
mk_oci $W/oci-gz $W/layer1.tar.gz application/vnd.oci.image.layer.v1.tar+gzip \
	$W/layer2.tar.gz application/vnd.oci.image.layer.v1.tar+gzip >/dev/null

disk() { # disk of NAME
	local key
	"$SI" inspect "$1" >"$T_OUT/inspect-$1.out" 2>/dev/null
	key=$(sed -n 's/.*"Disk": "\([^"]*\)".*/\1/p' "$T_OUT/inspect-$1.out")
	[ -n "$key" ] && ls "$SANDBOX_IMAGE_DIR"/v2*/"$key" 2>/dev/null | head -n1
}
cache_state() { (cd "$SANDBOX_IMAGE_DIR" && find . -path ./tmp -prune -o -print | sort | xargs ls -ld --time-style=+%s 2>/dev/null | awk '{print $1, $5, $6, $NF}'; ls tmp); }

# ---- usage ----
t_run help "$SI" --help
t_expect help "--help documents the exit statuses" 0 "125 failure"
t_run usage "$SI" import onlyone
t_expect usage "a usage error exits 1" 1 "" "^sandbox-image: import takes"
t_run badname "$SI" import $W/oci:v1 ../evil
t_expect badname "a NAME with a slash is refused" 1 "" "bad NAME"
t_run badfmt "$SI" import --format zip $W/oci x
t_expect badfmt "an unknown --format is refused" 1 "" "unknown --format"

# ---- the five forms ----
t_run oci "$SB" image import $W/oci:v1 img-oci
t_expect oci "import an OCI layout (path:tag, gzip + zstd layers) via sandbox image" 0 "^img-oci sha256:$CFG"
t_run ocim "$SI" import --format oci $W/oci:multi img-multi
t_expect ocim "an index of platforms picks linux/amd64" 0 "^img-multi sha256:$CFG"
t_run ocia "$SI" import $W/oci-archive.tar:v1 img-ocia
t_expect ocia "import an oci-archive (detected)" 0 "^img-ocia sha256:$CFG"
if command -v skopeo >/dev/null &&
	skopeo --insecure-policy copy -q oci:$W/oci-gz:v1 docker-archive:$W/docker.tar:img:v1 >$T_OUT/skopeo.log 2>&1; then
	t_run docker "$SI" import $W/docker.tar img-docker
	t_expect docker "import a docker-archive made by skopeo (detected)" 0 "^img-docker sha256:"
	t_run dockertag "$SI" import --format docker-archive $W/docker.tar:v1 img-docker2
	t_expect dockertag "docker-archive with :TAG" 0 "^img-docker2 sha256:"
else
	t_skip "docker-archive" "skopeo cannot make one: $(tail -n1 $T_OUT/skopeo.log 2>/dev/null)"
fi
t_run rtar "$SI" import $W/rootfs.tar img-rtar
t_expect rtar "import a rootfs tar (detected)" 0 "^img-rtar sha256:$(sha $W/rootfs.tar)"
gzip -n -c $W/rootfs.tar >$W/rootfs.tar.gz
t_run rtgz "$SI" import --format rootfs-tar $W/rootfs.tar.gz img-rtgz
t_expect rtgz "import a gzip rootfs tar" 0 "^img-rtgz sha256:"
t_run rdir "$SI" import $W/flat img-rdir
t_expect rdir "import a rootfs directory (detected)" 0 "^img-rdir sha256:"

D0=$(disk img-oci)
D0SHA=$(sha "$D0")
same=1 list=""
for n in img-multi img-ocia img-docker img-rtar img-rtgz img-rdir; do
	[ -f $T_OUT/${n#img-}.rc ] || [ $n != img-docker ] || continue
	d=$(disk $n)
	if [ -z "$d" ] || [ -z "$D0" ] || [ "$(sha $d)" != "$(sha $D0)" ]; then same=0; list="$list $n"; fi
done
if [ $same = 1 ] && [ -n "$D0" ]; then
	t_pass "all input forms give the same disk (sha256 $(sha $D0 | cut -c1-12))"
else
	t_fail "all input forms give the same disk" "differs:$list"
fi

# ---- contents of the disk ----
X=$W/x
mkdir $X
if fsck.erofs --extract=$X "$D0" >$T_OUT/fsck.log 2>&1; then
	ok=1 why=""
	chk() { if ! eval "$1"; then ok=0; why="$why [$1]"; fi; }
	chk '[ "$(cat $X/etc/hello)" = hello ]'
	chk '[ ! -e $X/etc/old ]'
	chk '[ ! -e $X/etc/.wh.old ]'
	chk '[ -f $X/opq/upper ] && [ ! -e $X/opq/lower ] && [ ! -e $X/opq/sub ] && [ ! -e $X/opq/.wh..wh..opq ]'
	chk '[ "$(readlink $X/bin/sym)" = tool ] && [ "$(readlink $X/abs-link)" = /etc/hello ]'
	chk '[ "$(stat -c %a $X/home/user)" = 700 ]'  # (fsck.erofs --extract drops setuid: checked by mount below)
	chk '[ "$(stat -c %Y $X/etc/hello)" = $T ] && [ "$(stat -c %Y $X/usr/share/doc)" = $T ]'
	chk 'cmp -s $X/bin/tool $L1/bin/tool'
	[ $ROOT = 1 ] && chk '[ "$(stat -c %u:%g $X/home/user)" = 1000:1000 ]'
	[ $ok = 1 ] && t_pass "disk content: whiteout, opaque dir, symlinks, modes, mtimes, owner (as root)" ||
		t_fail "disk content" "$why"
	# Hard links: fsck.erofs may not re-link on extract; compare inode numbers in the image.
	if command -v dump.erofs >/dev/null && dump.erofs --path=/bin/tool "$D0" 2>/dev/null | grep -q "Links: 2\|nlink: 2\|links: 2"; then
		t_pass "hard link kept (2 links in the image)"
	elif [ "$(stat -c %i $X/bin/tool)" = "$(stat -c %i $X/bin/tool-link)" ]; then
		t_pass "hard link kept (same inode after extract)"
	else
		t_skip "hard link" "cannot see link counts without a mount (dump.erofs too old)"
	fi
else
	t_fail "fsck.erofs accepts the disk" "$(tail -n3 $T_OUT/fsck.log)"
fi
# Hard link in the tree, before mkfs: check it by mounting when we can.
if [ $ROOT = 1 ] && mkdir -p $W/mnt && mount -t erofs -o loop,ro "$D0" $W/mnt 2>/dev/null; then
	[ "$(stat -c %a $W/mnt/bin/tool)" = 4755 ] && t_pass "setuid mode kept (loop mount)" || t_fail "setuid mode kept (loop mount)"
	if [ "$(stat -c %i $W/mnt/bin/tool)" = "$(stat -c %i $W/mnt/bin/tool-link)" ] && [ "$(stat -c %h $W/mnt/bin/tool)" = 2 ]; then
		t_pass "hard link: one inode, 2 links (loop mount)"
	else
		t_fail "hard link: one inode, 2 links (loop mount)"
	fi
	if [ $HAVE_XATTR = 1 ] && command -v python3 >/dev/null; then
		v=$(python3 -c 'import os,sys; print(os.getxattr(sys.argv[1], "user.test").decode())' $W/mnt/etc/hello 2>&1)
		[ "$v" = value ] && t_pass "xattr kept (user.test)" || t_fail "xattr kept" "got: $v"
	fi
	umount $W/mnt
else
	t_skip "hard link and xattr via loop mount" "not root or no loop/erofs mount"
fi

# ---- inspect, ls, cache hit, rm ----
t_run insp "$SI" inspect img-oci
flat=$(tr -d ' \n' <$T_OUT/insp.out)
if echo "$flat" | grep -q '"Entrypoint":\["/bin/tool"\],"Cmd":\["-v"\],"Env":\["PATH=/bin","A=bc"\],"WorkingDir":"/home/user","User":"1000:1000","StopSignal":"SIGINT","ExposedPorts":\["53/udp","8080/tcp"\]' &&
	grep -q '"A=b c"' $T_OUT/insp.out; then
	t_pass "inspect prints the run defaults"
else
	t_fail "inspect prints the run defaults"; t_show insp
fi
t_run insp2 "$SI" inspect img-rtar
if [ "$(t_rc insp2)" = 0 ] && tr -d ' \n' <$T_OUT/insp2.out | grep -q '"Entrypoint":null,"Cmd":null,"Env":null,"WorkingDir":null,"User":null,"StopSignal":null,"ExposedPorts":\[\]'; then
	t_pass "a rootfs import has empty run defaults"
else
	t_fail "a rootfs import has empty run defaults"; t_show insp2
fi
t_run ls "$SI" ls
t_expect ls "ls lists names with digests" 0 "^img-oci +sha256:${CFG:0:12} +[0-9]+ erofs"
t_run again "$SI" import $W/oci:v1 img-again
t_expect again "a second import of the same image uses the cache" 0 "^img-again sha256:$CFG"
"$SI" import --format rootfs-tar $W/layer2.tar renamed >/dev/null
"$SI" import $W/oci:v1 renamed >/dev/null
[ ! -e $V/$(sha $W/layer2.tar).json ] && [ "$(disk renamed)" = "$D0" ] &&
	t_pass "re-importing a NAME drops the disk it no longer uses" || t_fail "re-importing a NAME drops the disk it no longer uses"
"$SI" rm renamed
n=$(ls $V | wc -l)
t_run rm1 "$SI" rm img-again
t_expect rm1 "rm a name" 0
[ "$(ls $V | wc -l)" = $n ] && t_pass "rm keeps a disk other names use" || t_fail "rm keeps a disk other names use"
t_run rm2 "$SI" rm img-again
t_expect rm2 "rm of an unknown name fails" 125 "" "^sandbox-image: no image named 'img-again'"
for x in img-rtar img-rtgz img-rdir; do "$SI" rm $x; done
[ ! -e $V/$(sha $W/rootfs.tar).json ] && t_pass "rm of the last name removes the disk" ||
	t_fail "rm of the last name removes the disk"
# Concurrent imports of one image.
"$SI" rm img-oci; "$SI" rm img-multi; "$SI" rm img-ocia
"$SI" import $W/oci:v1 c1 >$T_OUT/c1.out 2>&1 & p1=$!
"$SI" import $W/oci:v1 c2 >$T_OUT/c2.out 2>&1 & p2=$!
wait $p1; r1=$?; wait $p2; r2=$?
if [ $r1 = 0 ] && [ $r2 = 0 ] && [ "$(sha $(disk c1))" = "$(sha $D0)" ] && [ -z "$(ls $SANDBOX_IMAGE_DIR/tmp)" ]; then
	t_pass "two concurrent imports of one image"
else
	t_fail "two concurrent imports of one image" "$r1 $r2 $(cat $T_OUT/c1.out $T_OUT/c2.out)"
fi

# prune: unused disks and old work dirs go, named disks stay.
orphan=$V/$(printf '%064d' 0).erofs
: >$orphan; mkdir -p $SANDBOX_IMAGE_DIR/tmp/import.old; touch -d '2 days ago' $SANDBOX_IMAGE_DIR/tmp/import.old
mkdir -p $SANDBOX_IMAGE_DIR/tmp/import.fresh
t_run prune "$SI" prune
if [ "$(t_rc prune)" = 0 ] && [ ! -e $orphan ] && [ ! -e $SANDBOX_IMAGE_DIR/tmp/import.old ] &&
	[ -e $SANDBOX_IMAGE_DIR/tmp/import.fresh ] && [ -f "$(disk c1)" ]; then
	t_pass "prune removes unused disks and old work dirs only"
else
	t_fail "prune removes unused disks and old work dirs only"
fi
rmdir $SANDBOX_IMAGE_DIR/tmp/import.fresh
# An interrupted import removes its work dir (a 20 MB layer keeps it busy).
mkdir -p $W/bigl && head -c 20000000 /dev/urandom >$W/bigl/blob && mktar $W/bigl $W/big.tar
"$SI" import --format rootfs-tar $W/big.tar big >/dev/null 2>&1 & p=$!
for i in 1 2 3 4 5 6 7 8 9 10; do [ -n "$(ls $SANDBOX_IMAGE_DIR/tmp)" ] && break; sleep 0.05; done
kill -TERM $p 2>/dev/null; wait $p; r=$?
if [ -z "$(ls $SANDBOX_IMAGE_DIR/tmp)" ] && { [ $r = 143 ] || [ $r = 0 ]; }; then
	t_pass "an interrupted import leaves no work dir (status $r)"
else
	t_fail "an interrupted import leaves no work dir" "status $r, tmp: $(ls $SANDBOX_IMAGE_DIR/tmp)"
fi
"$SI" rm big >/dev/null 2>&1

# ---- runconf: run defaults for sandbox run (NUL-terminated records) ----
# runconf NAME: the records, one per line (they hold no newlines here).
runconf() { "$SI" runconf "$1" | tr '\0' '\n'; }
t_run rc1 "$SI" runconf c1
printf 'disk=%s\0fstype=erofs\0entrypoint=/bin/tool\0cmd=-v\0env=PATH=/bin\0env=A=b c\0workdir=/home/user\0user=1000:1000\0stopsignal=SIGINT\0port=53/udp\0port=8080/tcp\0' \
	"$(readlink -f "$(disk c1)")" >$T_OUT/rc1.want
if [ "$(t_rc rc1)" = 0 ] && cmp -s $T_OUT/rc1.out $T_OUT/rc1.want && [ ! -s $T_OUT/rc1.err ]; then
	t_pass "runconf prints every run default as NUL-terminated key=value, in order"
else
	t_fail "runconf prints every run default as NUL-terminated key=value, in order" \
		"got:  $(tr '\0' '|' <$T_OUT/rc1.out)" "want: $(tr '\0' '|' <$T_OUT/rc1.want)"; t_show rc1
fi
"$SI" import --format rootfs-tar $W/rootfs.tar rt >/dev/null
t_run rc2 "$SI" runconf rt
if [ "$(t_rc rc2)" = 0 ] && [ "$(tr '\0' '\n' <$T_OUT/rc2.out | cut -d= -f1 | tr '\n' ' ')" = "disk fstype " ]; then
	t_pass "runconf of a rootfs import: disk and fstype only"
else
	t_fail "runconf of a rootfs import: disk and fstype only"; t_show rc2
fi
"$SI" rm rt
t_run rc3 "$SI" runconf nosuch
if [ "$(t_rc rc3)" = 125 ] && [ ! -s $T_OUT/rc3.out ] &&
	[ "$(cat $T_OUT/rc3.err)" = "sandbox-image: no image 'nosuch' (see sandbox image ls, sandbox image import)" ]; then
	t_pass "runconf of a missing image: status 125, one line"
else
	t_fail "runconf of a missing image: status 125, one line"; t_show rc3
fi
t_run rc4 "$SI" runconf ../x
t_expect rc4 "runconf refuses a bad NAME" 1 "" "bad NAME"

# ---- the root cache is private (issue 13, finding 4) ----
# A disk holds the image's /etc/shadow, a .json/.runconf its Env: no other
# uid may read them, and an older cache (0755/0444/0644) is tightened on use.
if [ $ROOT = 1 ] && command -v setpriv >/dev/null; then
	chmod 755 $W # the test's own directory: reachable, so only the cache's modes decide
	C1D=$(readlink -f "$(disk c1)"); C1J=${C1D%.erofs}.json; C1R=${C1D%.erofs}.runconf
	# unreadable WHAT FILES...: uid 65534 can read none of FILES (which root can)
	unreadable() {
		local what=$1 f bad=""; shift
		for f in "$@"; do
			[ -r "$f" ] && [ -f "$f" ] || { bad="$bad [missing $f]"; continue; }
			setpriv --reuid=65534 --regid=65534 --clear-groups cat "$f" >/dev/null 2>&1 && bad="$bad [$f]"
		done
		setpriv --reuid=65534 --regid=65534 --clear-groups ls $SANDBOX_IMAGE_DIR/names >/dev/null 2>&1 && bad="$bad [names/ listable]"
		[ -z "$bad" ] && t_pass "$what" || t_fail "$what" "read as uid 65534:$bad"
	}
	modes() { stat -c %a $SANDBOX_IMAGE_DIR $V $SANDBOX_IMAGE_DIR/names $SANDBOX_IMAGE_DIR/tmp "$C1D" "$C1J" "$C1R" $SANDBOX_IMAGE_DIR/.lock | tr '\n' ' '; }
	unreadable "as root, another uid reads neither the disk nor the .json/.runconf (nor lists names/)" "$C1D" "$C1J" "$C1R"
	[ "$(modes)" = "711 700 700 700 400 600 600 600 " ] && t_pass "root cache modes: 0711 top, 0700 dirs, 0400 disk, 0600 files" ||
		t_fail "root cache modes: 0711 top, 0700 dirs, 0400 disk, 0600 files" "got: $(modes)"
	chmod 755 $SANDBOX_IMAGE_DIR $V $SANDBOX_IMAGE_DIR/names $SANDBOX_IMAGE_DIR/tmp
	chmod 444 "$C1D"; chmod 644 "$C1J" "$C1R" $SANDBOX_IMAGE_DIR/.lock
	"$SI" ls >/dev/null
	unreadable "an older world-readable cache is made private on its next use" "$C1D" "$C1J" "$C1R"
	[ "$(modes)" = "711 700 700 700 400 600 600 600 " ] && t_pass "... with the same modes" ||
		t_fail "... with the same modes" "got: $(modes)"
else
	t_skip "the root cache is private" "not root or no setpriv"
fi

# ---- built-in images (make: $B/images/busybox, $B/images/testimg) ----
if [ -f "$B/images/busybox/oci-layout" ] && [ -f "$B/images/testimg/oci-layout" ]; then
	# Same bytes on every build.
	if python3 rootfs/mklayout.py "$W/bb-again" >$T_OUT/mkl.log 2>&1 && diff -r "$B/images/busybox" "$W/bb-again" >/dev/null; then
		t_pass "the busybox layout is deterministic"
	else
		t_fail "the busybox layout is deterministic" "$(tail -n2 $T_OUT/mkl.log)"
	fi
	BC=$W/bcache
	SANDBOX_IMAGE_DIR=$BC t_run bb1 "$SI" runconf busybox
	BBDISK=$(tr '\0' '\n' <$T_OUT/bb1.out | sed -n 's/^disk=//p')
	if [ "$(t_rc bb1)" = 0 ] && [ ! -s $T_OUT/bb1.err ] && [ -f "$BBDISK" ] && [ "${BBDISK#/}" != "$BBDISK" ] &&
		[ "$(tr '\0' '\n' <$T_OUT/bb1.out | sed 1d)" = "$(printf 'fstype=erofs\ncmd=sh\nenv=PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\nworkdir=/')" ]; then
		t_pass "runconf busybox imports the built-in image silently (cmd=sh, PATH, workdir, disk exists)"
	else
		t_fail "runconf busybox imports the built-in image" "disk: $BBDISK"; t_show bb1
	fi
	SANDBOX_IMAGE_DIR=$BC t_run bb2 "$SI" runconf busybox
	if cmp -s $T_OUT/bb1.out $T_OUT/bb2.out && [ "$(ls $BC/v2* | grep -vc runconf)" = 2 ] &&
		cmp -s $BC/v2/*.runconf $T_OUT/bb1.out &&
		SANDBOX_IMAGE_DIR=$BC "$SI" ls | grep -q '^busybox '; then
		t_pass "a second runconf busybox uses the cache (and kept its output as <key>.runconf for sandbox run); ls shows it"
	else
		t_fail "a second runconf busybox uses the cache"; t_show bb2
	fi
	if [ $ROOT = 1 ] && mount -t erofs -o loop,ro "$BBDISK" $W/mnt 2>/dev/null; then
		out=$(chroot $W/mnt /bin/sh -c 'echo $(id -u) $(stat -c %a /tmp) $(stat -c %u:%g /home/sandbox); grep -c . /etc/passwd; ls /bin | wc -l' 2>&1)
		[ "$out" = "$(printf '0 1777 1000:1000\n3\n%s' $(( $(/bin/busybox --list | grep -vx busybox | wc -l) + 1 )))" ] &&
			t_pass "the busybox disk runs /bin/sh; /tmp 1777, /home/sandbox 1000, every applet" ||
			t_fail "the busybox disk runs /bin/sh" "got: $out"
		umount $W/mnt
	else
		t_skip "running the busybox disk" "not root or no erofs loop mount"
	fi
	# Concurrent first runs: one import, the same answer for all.
	TC=$W/tcache
	for i in 1 2 3; do SANDBOX_IMAGE_DIR=$TC "$SI" runconf testimg >$T_OUT/ti$i.out 2>$T_OUT/ti$i.err & eval p$i=\$!; done
	wait $p1; r1=$?; wait $p2; r2=$?; wait $p3; r3=$?
	if [ "$r1$r2$r3" = 000 ] && cmp -s $T_OUT/ti1.out $T_OUT/ti2.out && cmp -s $T_OUT/ti1.out $T_OUT/ti3.out &&
		[ "$(ls $TC/v2* | grep -vc runconf)" = 2 ] && [ -z "$(ls $TC/tmp)" ] && [ ! -s $T_OUT/ti1.err ]; then
		t_pass "three concurrent first runconf testimg: one import, one answer"
	else
		t_fail "three concurrent first runconf testimg" "status $r1 $r2 $r3: $(cat $T_OUT/ti?.err)"
	fi
	TIDISK=$(tr '\0' '\n' <$T_OUT/ti1.out | sed -n 's/^disk=//p')
	rm -rf $W/tix; mkdir $W/tix
	if fsck.erofs --extract=$W/tix "$TIDISK" >/dev/null 2>&1 && [ -x $W/tix/usr/bin/probe ] && [ -x $W/tix/bin/busybox ]; then
		t_pass "testimg holds /usr/bin/probe and busybox"
	else
		t_fail "testimg holds /usr/bin/probe and busybox"
	fi
	# A NAME the user imported wins over the built-in one.
	UC=$W/ucache
	SANDBOX_IMAGE_DIR=$UC "$SI" import --format rootfs-tar $W/rootfs.tar busybox >/dev/null
	SANDBOX_IMAGE_DIR=$UC t_run bb3 "$SI" runconf busybox
	if [ "$(t_rc bb3)" = 0 ] && ! tr '\0' '\n' <$T_OUT/bb3.out | grep -q '^cmd='; then
		t_pass "an imported image named busybox is used, not the built-in one"
	else
		t_fail "an imported image named busybox is used, not the built-in one"; t_show bb3
	fi
	# A rebuilt built-in image replaces the one runconf imported before;
	# one the user imported under that name is kept.
	mkdir -p $W/bin/images && cp "$SI" $W/bin/sandbox-image
	echo one >$W/marker
	python3 rootfs/mklayout.py --add $W/marker:etc/marker $W/bin/images/busybox
	d1=$(SANDBOX_IMAGE_DIR=$W/rcache $W/bin/sandbox-image runconf busybox | tr '\0' '\n' | sed -n 's/^disk=//p')
	echo two >$W/marker
	rm -rf $W/bin/images/busybox && python3 rootfs/mklayout.py --add $W/marker:etc/marker $W/bin/images/busybox
	d2=$(SANDBOX_IMAGE_DIR=$W/rcache $W/bin/sandbox-image runconf busybox | tr '\0' '\n' | sed -n 's/^disk=//p')
	if [ -f "$d1" ] || [ ! -f "$d2" ] || [ "$d1" = "$d2" ]; then
		t_fail "a rebuilt built-in image is re-imported" "before: $d1, after: $d2"
	else
		t_pass "a rebuilt built-in image is re-imported, the old disk dropped"
	fi
	SANDBOX_IMAGE_DIR=$W/rcache "$SI" import --format rootfs-tar $W/rootfs.tar busybox >/dev/null
	echo three >$W/marker
	rm -rf $W/bin/images/busybox && python3 rootfs/mklayout.py --add $W/marker:etc/marker $W/bin/images/busybox
	SANDBOX_IMAGE_DIR=$W/rcache t_run bb4 $W/bin/sandbox-image runconf busybox
	if [ "$(t_rc bb4)" = 0 ] && ! tr '\0' '\n' <$T_OUT/bb4.out | grep -q '^cmd='; then
		t_pass "... but not over an image the user imported under its name"
	else
		t_fail "... but not over an image the user imported under its name"; t_show bb4
	fi
else
	t_skip "built-in images" "$B/images/busybox not built (make images)"
fi

# ---- failures leave the cache untouched ----
# expect_fail NAME DESC REGEX CMD...: status 125, one stderr line, cache unchanged
expect_fail() {
	local n=$1 d=$2 re=$3; shift 3
	local before; before=$(cache_state)
	t_run $n "$@"
	local lines; lines=$(wc -l <$T_OUT/$n.err)
	if [ "$(t_rc $n)" = 125 ] && [ "$lines" = 1 ] && grep -Eq "^sandbox-image: .*$re" $T_OUT/$n.err &&
		[ "$before" = "$(cache_state)" ]; then
		t_pass "$d"
	else
		t_fail "$d (want 125, one line /$re/, cache unchanged)"; t_show $n
	fi
}

# A cached image is not re-verified (its config digest pins the diff_ids):
# drop it so the corrupt copies below are read.
for n in $("$SI" ls | awk 'NR > 1 { print $1 }'); do "$SI" rm "$n"; done
[ -z "$(ls $V)" ] && t_pass "rm of every name empties the cache" || t_fail "rm of every name empties the cache"
# Corrupt layer blob (one byte changed, same size).
cp -a $W/oci $W/bad
l1=$(sha $W/layer1.tar.gz)
printf 'X' | dd of=$W/bad/blobs/sha256/$l1 bs=1 seek=100 conv=notrunc status=none
expect_fail corrupt "a corrupt layer blob is refused" "layer 1.*digest mismatch" "$SI" import $W/bad:v1 bad
# A blob swapped between its verification and its application (issue 13):
# layer 1's blob is a FIFO served by a writer that gives the real blob to
# the first two opens (the old code's two hashing passes) and another
# valid layer (with /etc/pwned) to any later open. One open per blob:
# the import holds only what was verified.
if command -v python3 >/dev/null; then
	rm -rf $W/swap $W/sw; cp -a $W/oci $W/swap; mkdir -p $W/sw/etc; echo pwned >$W/sw/etc/pwned
	mktar $W/sw $W/evil.tar && gzip -n -c $W/evil.tar >$W/evil.tar.gz
	l1=$(sha $W/layer1.tar.gz)
	rm $W/swap/blobs/sha256/$l1 && mkfifo $W/swap/blobs/sha256/$l1
	python3 - $W/swap/blobs/sha256/$l1 $W/layer1.tar.gz $W/evil.tar.gz $W/swap.opens <<'PY' &
import os, sys, time
fifo, good, evil, count = sys.argv[1:]
fifo = os.path.realpath(fifo)
me = str(os.getpid())
def held():  # does the importer have the FIFO open (an open not yet closed)?
    for p in filter(str.isdigit, os.listdir("/proc")):
        if p == me:
            continue
        try:
            fds = os.listdir(f"/proc/{p}/fd")
        except OSError:
            continue
        for f in fds:
            try:
                if os.readlink(f"/proc/{p}/fd/{f}") == fifo:
                    return True
            except OSError:
                pass
    return False
n = 0
while True:
    while held():  # the importer's last open is closed: each open counted once
        time.sleep(0.01)
    fd = os.open(fifo, os.O_WRONLY)  # waits for the importer to open it
    for _ in range(500):  # its descriptor is in place (its open has returned)
        if held():
            break
        time.sleep(0.01)
    n += 1
    with open(count, "w") as f:
        f.write(str(n))
    data = open(good if n <= 2 else evil, "rb").read()
    try:
        while data:
            data = data[os.write(fd, data):]
    except BrokenPipeError:
        pass
    os.close(fd)
PY
	swp=$!
	t_run swap timeout 60 "$SI" import $W/swap:v1 swapped
	kill $swp 2>/dev/null; wait $swp 2>/dev/null
	rm -rf $W/swx; mkdir $W/swx
	if [ "$(t_rc swap)" = 0 ] && fsck.erofs --extract=$W/swx "$(disk swapped)" >/dev/null 2>&1 &&
		[ -f $W/swx/etc/hello ] && [ ! -e $W/swx/etc/pwned ] && [ "$(cat $W/swap.opens)" = 1 ]; then
		t_pass "a layer blob is opened once: swapping it after verification changes nothing"
	else
		t_fail "a layer blob is opened once: swapping it after verification changes nothing" \
			"opens: $(cat $W/swap.opens 2>/dev/null), pwned: $(cat $W/swx/etc/pwned 2>/dev/null)"; t_show swap
	fi
	"$SI" rm swapped >/dev/null 2>&1
else
	t_skip "a swapped layer blob" "python3 missing"
fi
# Corrupt config.
rm -rf $W/bad; cp -a $W/oci $W/bad
printf ' ' >>$W/bad/blobs/sha256/$CFG
expect_fail badcfg "a corrupt config blob is refused" "digest mismatch" "$SI" import $W/bad:v1 bad
# diff_id mismatch: layer 2 replaced by a valid, correctly named blob of other content.
printf 'x' >$W/l2/extra; mktar $W/l2 $W/other.tar
rm -rf $W/bad
mk_oci $W/bad $W/layer1.tar.gz application/vnd.oci.image.layer.v1.tar+gzip $W/other.tar application/vnd.oci.image.layer.v1.tar >/dev/null
# (mk_oci computes diff_ids from layer1.tar/layer2.tar, so layer 2's is wrong)
expect_fail diffid "a layer whose content does not match its diff_id is refused" "layer 2: diff_id mismatch" "$SI" import $W/bad:v1 bad
# Truncated rootfs tar and truncated layer with a matching digest.
head -c 3000 $W/rootfs.tar >$W/trunc.tar
expect_fail trunc "a truncated rootfs tar is refused" "runcated|unexpected end|EOF" "$SI" import --format rootfs-tar $W/trunc.tar bad
head -c 3000 $W/layer1.tar >$W/trunc-l1.tar
cp $W/layer1.tar $W/layer1.save; cp $W/trunc-l1.tar $W/layer1.tar
rm -rf $W/bad; mk_oci $W/bad $W/trunc-l1.tar application/vnd.oci.image.layer.v1.tar $W/layer2.tar.zst application/vnd.oci.image.layer.v1.tar+zstd >/dev/null
cp $W/layer1.save $W/layer1.tar
expect_fail trunclayer "a truncated layer (digests matching) is refused" "layer 1.*runcated|layer 1.*end of" "$SI" import $W/bad:v1 bad
head -c 2000 $W/oci-archive.tar >$W/trunc-archive.tar
expect_fail truncarch "a truncated oci-archive is refused" "." "$SI" import --format oci-archive $W/trunc-archive.tar bad
# Escapes: "../" entry, absolute entry, file under an absolute symlink, under a relative one.
mkdir -p $W/esc && echo pwned >$W/esc/x
tar -P --transform='s,^x$,../../escaped-x,' -C $W/esc -cf $W/dotdot.tar x
expect_fail dotdot "a ../ entry is refused" "escapes the image root" "$SI" import --format rootfs-tar $W/dotdot.tar bad
tar -P --transform="s,^x\$,$W/abs-x," -C $W/esc -cf $W/abs.tar x
expect_fail abs "an absolute entry is refused" "escapes the image root" "$SI" import --format rootfs-tar $W/abs.tar bad
[ ! -e $W/abs-x ] && [ ! -e $W/../escaped-x ] && t_pass "nothing was written outside" || t_fail "nothing was written outside"
mkdir -p $W/esc2/tgt
ln -s $W/esc2/tgt $W/esc2/link
echo pwned >$W/esc2/f
tar -C $W/esc2 -cf $W/symesc.tar link
tar -P --transform='s,^f$,link/f,' -C $W/esc2 -rf $W/symesc.tar f
expect_fail symesc "a file under an absolute symlink is refused" "link/f: parent link is a symlink" "$SI" import --format rootfs-tar $W/symesc.tar bad
[ ! -e $W/esc2/tgt/f ] && t_pass "the symlink target was not written" || t_fail "the symlink target was not written"
ln -sfn ../../.. $W/esc2/rel
tar -C $W/esc2 -cf $W/relesc.tar rel
tar -P --transform='s,^f$,rel/f,' -C $W/esc2 -rf $W/relesc.tar f
expect_fail relesc "a file under a relative symlink leaving the root is refused" "rel/f: parent rel is a symlink" "$SI" import --format rootfs-tar $W/relesc.tar bad
# Hard links: to a path outside, to an absolute path, through a symlinked
# parent (GNU tar strips ../ from link targets even with -P: python's tarfile).
if command -v python3 >/dev/null; then
	python3 - "$W" <<'PY'
import sys, tarfile
w = sys.argv[1]
def mk(name, members):
    with tarfile.open(f"{w}/{name}", "w", format=tarfile.PAX_FORMAT) as t:
        for kind, path, target in members:
            ti = tarfile.TarInfo(path)
            ti.type = {"link": tarfile.LNKTYPE, "sym": tarfile.SYMTYPE}[kind]
            ti.linkname = target
            t.addfile(ti)
mk("hl-dotdot.tar", [("link", "g", "../../etc/passwd")])
mk("hl-abs.tar", [("link", "g", "/etc/passwd")])
mk("hl-sym.tar", [("sym", "l", "/etc"), ("link", "g", "l/passwd")])
PY
	expect_fail hldotdot "a hard link to ../../etc/passwd is refused" "g: hard link target .* escapes" "$SI" import --format rootfs-tar $W/hl-dotdot.tar bad
	expect_fail hlabs "a hard link to /etc/passwd is refused" "g: hard link target .* escapes" "$SI" import --format rootfs-tar $W/hl-abs.tar bad
	expect_fail hlsym "a hard link through a symlinked parent is refused" "l/passwd: parent l is a symlink" "$SI" import --format rootfs-tar $W/hl-sym.tar bad
else
	t_skip "hard link escapes" "python3 missing (needed to write ../ link targets)"
fi
expect_fail nosrc "a missing source is one line" "No such file" "$SI" import $W/does-not-exist x
expect_fail notag "an unknown tag is refused" "no image tagged 'nope'" "$SI" import $W/oci:nope x

# ---- the disk does not depend on the clock ----
sleep 1
"$SI" import --format rootfs-tar $W/rootfs.tar later >/dev/null
[ "$(sha "$(disk later)")" = "$D0SHA" ] && t_pass "the erofs disk is the same a second later" ||
	t_fail "the erofs disk is the same a second later"
"$SI" rm later

# ---- device nodes, the ext4 fallback, non-root ----
if [ $ROOT = 1 ]; then
	tar -C / -cf $W/dev.tar dev/null
	t_run dev "$SI" import --format rootfs-tar $W/dev.tar devimg
	t_expect dev "a device node is imported as root" 0 "^devimg "
	if mount -t erofs -o loop,ro "$(disk devimg)" $W/mnt 2>/dev/null; then
		[ "$(stat -c %F:%t:%T $W/mnt/dev/null)" = "character special file:1:3" ] &&
			t_pass "the device node is in the disk (1:3)" || t_fail "the device node is in the disk (1:3)"
		umount $W/mnt
	fi
	SANDBOX_IMAGE_MKFS=ext4 t_run ext4 "$SI" import --format rootfs-tar $W/rootfs.tar ext4img
	t_expect ext4 "the ext4 fallback (SANDBOX_IMAGE_MKFS=ext4)" 0 "^ext4img "
	E4=$(disk ext4img)
	if [ -n "$E4" ] && e2fsck -fn "$E4" >$T_OUT/e2fsck.log 2>&1 && mount -t ext4 -o loop,ro "$E4" $W/mnt 2>/dev/null; then
		[ "$(cat $W/mnt/etc/hello)" = hello ] && [ "$(stat -c %a $W/mnt/bin/tool)" = 4755 ] &&
			[ "$(stat -c %u $W/mnt/home/user)" = 1000 ] && [ ! -e $W/mnt/etc/old ] &&
			t_pass "the ext4 disk is clean and holds the tree" || t_fail "the ext4 disk is clean and holds the tree"
		umount $W/mnt
		sha1=$(sha "$E4"); "$SI" rm ext4img; sleep 1
		SANDBOX_IMAGE_MKFS=ext4 "$SI" import --format rootfs-tar $W/rootfs.tar ext4img >/dev/null
		[ "$(sha "$(disk ext4img)")" = "$sha1" ] && t_pass "the ext4 disk is deterministic" || t_fail "the ext4 disk is deterministic"
	else
		t_fail "the ext4 disk is clean and mountable" "$(tail -n2 $T_OUT/e2fsck.log)"
	fi
	if command -v setpriv >/dev/null; then
		chmod 755 $W; chmod 644 $W/dev.tar $W/rootfs.tar
		mkdir -m 777 $W/usercache
		t_run user setpriv --reuid 65534 --regid 65534 --clear-groups env SANDBOX_IMAGE_DIR=$W/usercache "$SI" import --format rootfs-tar $W/dev.tar devuser
		t_expect user "as non-root, device nodes are skipped with a note" 0 "^devuser " "note: skipping device node dev/null"
		[ -d $W/usercache/v2-user ] && t_pass "non-root disks go to v2-user" || t_fail "non-root disks go to v2-user"
	fi
else
	t_skip "device nodes, ext4 fallback, non-root" "not root"
fi

t_summary
