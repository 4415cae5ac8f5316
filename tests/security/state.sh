#!/bin/sh
# The state directory as an attack surface (issue #13, finding 1, the owner
# side of finding 2, finding 3), each attack reproduced as the review did
# and checked to achieve nothing now:
#   - another local user squats the fallback root /tmp/sandbox-<uid> (0777,
#     or a symlink) with a forged dead sandbox naming one of the victim's
#     processes: the victim's `sandbox ps` refuses the root, nothing killed;
#   - forged state in a root we own (what a process that can write there,
#     e.g. a compromised jailed VMM, could plant): damaged files (duplicate
#     or unknown keys, injected lines, non-numbers, overlong values,
#     symlinks) are reported and not acted on; a well-formed one naming a
#     process that is not a sandbox's VMM does not get it signalled;
#   - state.tmp planted as a symlink to a victim file: the owner's next
#     state write leaves the victim file alone;
#   - an image whose StopSignal is "\ntap=NAME": `sandbox run` refuses it
#     (125), no line is injected, the host tap NAME survives.
#   tests/security/state.sh [BUILD_DIR]
# Host side, no VM: forged directories, --isolation container runs (root,
# the images in BUILD_DIR/test-images: tests/e2e/prepare.sh). Other users
# via setpriv (skipped without it or without root).
cd "$(dirname "$0")/../.." || exit 2
. tests/e2e/lib.sh
B=${1:-build}
SB=$PWD/$B/sandbox
export SANDBOX_IMAGE_DIR=$PWD/$B/test-images
W=${TMPDIR:-/tmp}/sandbox-statesec.$$
rm -rf "$W"
mkdir -p "$W" && chmod 755 "$W"
ATT=65534                       # the attacker
VU=$((40000 + $$ % 20000))      # the victim (any unused uid will do)
VROOT=/tmp/sandbox-$VU          # the victim's fallback state root
ATTD=/tmp/sandbox-att.$$         # the attacker's own directory
TAP=vt$$
PIDS=

cleanup() {
	for p in $PIDS; do kill -9 "$p" 2>/dev/null; done
	if [ -d "$W/st" ]; then
		for d in "$W"/st/*/; do
			[ -f "$d/state" ] && SANDBOX_STATE_DIR=$W/st "$SB" rm -f "$(basename "$d")" >/dev/null 2>&1
		done
	fi
	ip link del "$TAP" 2>/dev/null
	rm -rf "$W" "$VROOT" "$ATTD"
}
trap cleanup EXIT

# pstart PID: its start time (/proc/PID/stat field 22)
pstart() { sed 's/.*) //' "/proc/$1/stat" | cut -d' ' -f20; }
# alive PID: runs (not gone, not a zombie)
alive() {
	_s=$(cat "/proc/$1/stat" 2>/dev/null) && [ -n "$_s" ] || return 1
	case $_s in *") Z "*|*") X "*) return 1 ;; esac
}
# forge FILE ID PID PID_START VMM_PID VMM_START STATUS: a state file as
# state_write writes it (owner PID, --isolation container, no network)
forge() {
	cat >"$1" <<EOF
id=$2
name=bait
image=busybox
command=sleep 1000
created=$(date +%s)
isolation=container
cpus=1
memory=0
pid=$3
pid_start=$4
vmm_pid=$5
status=$7
exit_code=-1
net=0
tap=
stop_signal=SIGTERM
rm=0
detached=1
vmm_start=$6
EOF
}
as() { _u=$1; shift; setpriv --reuid="$_u" --regid="$_u" --clear-groups -- env -u SANDBOX_STATE_DIR -u XDG_RUNTIME_DIR "$@"; }
FID=00000000deadbeef
# A dead owner: pid 2 never started at tick 1 (kthreadd starts at 0, or
# there is no pid 2 in a pid namespace).
DEADPID=2 DEADSTART=1

# --- 1. a squatted fallback root ------------------------------------------------
if [ "$(id -u)" != 0 ] || ! command -v setpriv >/dev/null 2>&1; then
	t_skip "squatted state root" "needs root and setpriv (to act as two other users)"
else
	rm -rf "$VROOT"
	# (setpriv execs sleep: $! is the victim's process itself)
	setpriv --reuid=$VU --regid=$VU --clear-groups sleep 1000 >/dev/null 2>&1 &
	VIC=$!
	PIDS="$PIDS $VIC"
	sleep 0.2
	VSTART=$(pstart $VIC)
	# squat ROOT DESC: ROOT holds the forged sandbox; the victim's ps
	# must refuse it with the directory and the fix in its error
	squat() {
		_d=$1 _re=$2
		t_run squat as $VU "$SB" ps -a
		if [ "$(t_rc squat)" = 125 ] && grep -q "state directory $VROOT" "$T_OUT/squat.err" &&
			grep -Eq "$_re" "$T_OUT/squat.err" && grep -q "SANDBOX_STATE_DIR" "$T_OUT/squat.err" &&
			[ "$(wc -l <"$T_OUT/squat.err")" = 1 ]; then
			t_pass "$_d: the victim's ps refuses the root, one line naming it and the fix"
		else
			t_fail "$_d: the victim's ps refuses the root (want 125, /$_re/)"; t_show squat
		fi
		if alive $VIC; then t_pass "$_d: the victim's process was not killed"
		else t_fail "$_d: the victim's process was KILLED by its own sandbox ps"; fi
	}
	# 1a: the attacker made the victim's root first, 0777
	as $ATT sh -c "mkdir -m 0777 $VROOT && mkdir -m 0777 $VROOT/$FID"
	forge "$W/forged" $FID $DEADPID $DEADSTART $VIC "$VSTART" running
	as $ATT sh -c "cat >$VROOT/$FID/state" <"$W/forged"
	squat "root made by another user (0777)" "owned by uid $ATT"
	# 1b: the victim's own root, but open to others
	rm -rf "$VROOT"
	as $VU mkdir -m 0777 "$VROOT"
	as $ATT sh -c "mkdir -m 0777 $VROOT/$FID && cat >$VROOT/$FID/state" <"$W/forged"
	squat "the victim's own root, writable by others" "writable by others \\(mode 0777\\)"
	# 1c: the root is the attacker's symlink to the attacker's directory
	rm -rf "$VROOT"
	as $ATT sh -c "mkdir -m 0755 $ATTD && mkdir -m 0755 $ATTD/$FID && cat >$ATTD/$FID/state && ln -s $ATTD $VROOT" <"$W/forged"
	squat "root a symlink to another user's directory" "symbolic link"
	# 1d: missing: made, the victim's, 0700
	rm -rf "$VROOT" "$ATTD"
	t_run mk as $VU "$SB" ps
	if [ "$(t_rc mk)" = 0 ] && [ "$(stat -c '%u %a' "$VROOT")" = "$VU 700" ]; then
		t_pass "a missing root is made, owned by the user, 0700"
	else
		t_fail "a missing root is made, owned by the user, 0700 ($(stat -c '%u %a' "$VROOT" 2>&1))"; t_show mk
	fi
	kill -9 $VIC 2>/dev/null
fi

# --- 2. forged state in a root of our own -----------------------------------------
export SANDBOX_STATE_DIR=$W/st
mkdir -m 0700 "$SANDBOX_STATE_DIR"
ST=$SANDBOX_STATE_DIR
# victim: a live process of ours to aim at (a fresh one if the last died)
victim() {
	alive "${VIC:-0}" && return
	sleep 1000 >/dev/null 2>&1 &
	VIC=$!
	PIDS="$PIDS $VIC"
	sleep 0.2
	VSTART=$(pstart $VIC)
}
VIC=
victim

# 2a: well-formed, dead owner, vmm_pid a process that is not a sandbox's VMM
mkdir -m 0700 "$ST/$FID"
forge "$ST/$FID/state" $FID $DEADPID $DEADSTART $VIC "$VSTART" running
t_run wf "$SB" ps -a
if alive $VIC; then
	t_pass "a well-formed dead sandbox naming a process that is no VMM of ours: ps does not kill it"
else
	t_fail "a well-formed dead sandbox naming another process: ps KILLED it"; t_show wf
fi
rm -rf "${ST:?}/$FID"

# 2b: damaged state files, each naming the victim as the VMM of a dead
# sandbox (the old parser took the last of a duplicate key, skipped
# unknown lines and read numbers with atoi: each was acted on)
# damaged DESC SED-SCRIPT: forge, edit, then ps/rm/kill must report it
# (victim first: the script names the victim's pid and start time)
damaged() {
	_d=$1
	rm -rf "${ST:?}/$FID"
	mkdir -m 0700 "$ST/$FID"
	forge "$W/base" $FID $DEADPID $DEADSTART 0 0 running
	sed "$2" "$W/base" >"$ST/$FID/state"
	t_run dmg_ps "$SB" ps -a
	t_run dmg_rm "$SB" rm $FID
	t_run dmg_kill "$SB" kill $FID
	_ok=1
	[ "$(t_rc dmg_ps)" = 0 ] && grep -q "sandbox $FID: damaged state file (.*); remove $ST/$FID by hand" "$T_OUT/dmg_ps.err" || _ok=0
	[ "$(t_rc dmg_rm)" = 125 ] && grep -q "damaged state file" "$T_OUT/dmg_rm.err" || _ok=0
	[ "$(t_rc dmg_kill)" = 125 ] && grep -q "damaged state file" "$T_OUT/dmg_kill.err" || _ok=0
	[ -f "$ST/$FID/state" ] || _ok=0
	alive $VIC || _ok=0
	if [ $_ok = 1 ]; then
		t_pass "$_d: ps, rm and kill report a damaged state file and where; nothing killed or removed"
	else
		t_fail "$_d: reported as damaged, not acted on (victim alive: $(alive $VIC && echo yes || echo NO))"
		t_show dmg_ps; t_show dmg_rm; t_show dmg_kill
	fi
}
victim; damaged "a duplicate key (vmm_pid again)" "s/^vmm_start=.*/&\nvmm_pid=$VIC\nvmm_start=$VSTART/"
victim; damaged "a line injected through a value (stop_signal)" "s/^stop_signal=.*/stop_signal=\nvmm_pid=$VIC/; s/^vmm_start=0/vmm_start=$VSTART/"
victim; damaged "an unknown key" "s/^vmm_pid=0/vmm_pid=$VIC/; s/^vmm_start=0/vmm_start=$VSTART/; s/^rm=0/&\nevil=1/"
victim; damaged "a line without '='" "s/^vmm_pid=0/vmm_pid=$VIC/; s/^vmm_start=0/vmm_start=$VSTART/; s/^rm=0/&\ngarbage/"
victim; damaged "a number with junk after it" "s/^vmm_pid=0/vmm_pid=${VIC}x/; s/^vmm_start=0/vmm_start=$VSTART/"
victim; damaged "an overlong value" "s/^vmm_pid=0/vmm_pid=$VIC/; s/^vmm_start=0/vmm_start=$VSTART/; s/^name=.*/name=$(printf '%0100d' 0)/"
victim; damaged "a tap that is not the sandbox's own" "s/^vmm_pid=0/vmm_pid=$VIC/; s/^vmm_start=0/vmm_start=$VSTART/; s/^net=0/net=1/; s/^tap=/tap=victim0/"

# 2c: the state file, or the sandbox's directory, a symlink to a forged one
rm -rf "${ST:?}/$FID"
victim
mkdir -m 0700 "$ST/$FID" "$W/elsewhere"
forge "$W/elsewhere/state" $FID $DEADPID $DEADSTART $VIC "$VSTART" running
ln -s "$W/elsewhere/state" "$ST/$FID/state"
t_run ln1 "$SB" ps -a
alive $VIC && grep -q "$ST/$FID/state is a symbolic link: remove $ST/$FID by hand" "$T_OUT/ln1.err" &&
	t_pass "a symlinked state file is reported, not followed" ||
	{ t_fail "a symlinked state file is reported, not followed"; t_show ln1; }
rm -rf "${ST:?}/$FID"
victim
forge "$W/elsewhere/state" $FID $DEADPID $DEADSTART $VIC "$VSTART" running
ln -s "$W/elsewhere" "$ST/$FID"
t_run ln2 "$SB" ps -a
alive $VIC && grep -q "sandbox directory $ST/$FID is a symbolic link" "$T_OUT/ln2.err" &&
	t_pass "a symlinked sandbox directory is reported, not followed" ||
	{ t_fail "a symlinked sandbox directory is reported, not followed"; t_show ln2; }
rm -f "$ST/$FID"

# 2d: a "running" sandbox whose owner is some live process and whose VMM
# is that process's child: kill must not signal it
sh -c "sleep 1000 & echo \$! >$W/child; wait" >/dev/null 2>&1 &
OWN=$!
PIDS="$PIDS $OWN"
sleep 0.3
CH=$(cat "$W/child")
PIDS="$PIDS $CH"
mkdir -m 0700 "$ST/$FID"
forge "$ST/$FID/state" $FID $OWN "$(pstart $OWN)" "$CH" "$(pstart "$CH")" running
t_run fk "$SB" kill bait KILL
sleep 0.2
if [ "$(t_rc fk)" = 125 ] && grep -q "is not this sandbox's VMM" "$T_OUT/fk.err" && alive "$CH"; then
	t_pass "kill of a forged running sandbox: refused (its VMM is no VMM of ours), nothing signalled"
else
	t_fail "kill of a forged running sandbox: refused, nothing signalled (child alive: $(alive "$CH" && echo yes || echo NO))"
	t_show fk
fi
kill -9 "$CH" "$OWN" 2>/dev/null
rm -rf "${ST:?}/$FID"

# --- 3. real owners (--isolation container) -----------------------------------------
if [ "$(id -u)" != 0 ] || ! "$B/sandbox-image" runconf busybox >/dev/null 2>&1; then
	t_skip "state writes of a real owner, StopSignal" "needs root and the busybox image in $SANDBOX_IMAGE_DIR (tests/e2e/prepare.sh $B)"
	t_summary
	exit
fi
R="$SB run --isolation container"

# 3a: state.tmp a symlink to a victim file before the owner's last write
echo precious >"$W/profile"
t_run d1 $R -d busybox sleep 1000
ID=$(cat "$T_OUT/d1.out")
if [ "$(t_rc d1)" = 0 ] && [ -d "$ST/$ID" ]; then
	ln -s "$W/profile" "$ST/$ID/state.tmp"
	"$SB" kill "$ID" KILL >/dev/null 2>&1
	for _i in $(seq 50); do grep -q '^status=exited' "$ST/$ID/state" 2>/dev/null && break; sleep 0.1; done
	if [ "$(cat "$W/profile")" = precious ] && [ -f "$ST/$ID/state" ] && [ ! -L "$ST/$ID/state" ] &&
		grep -q '^status=exited' "$ST/$ID/state"; then
		t_pass "a planted state.tmp symlink: the victim file is unchanged, the state written as a file"
	else
		t_fail "a planted state.tmp symlink: the victim file is unchanged ($(head -c 60 "$W/profile" | tr '\n' ' '); state: $(ls -l "$ST/$ID/state" 2>&1))"
	fi
	"$SB" rm -f "$ID" >/dev/null 2>&1
else
	t_fail "run -d for the state.tmp test"; t_show d1
fi

# 3b: StopSignal "\ntap=TAP" (a forged image cache: the runconf as the
# image tool keeps it; the import-side check is tested in tests/image/)
DISK=$("$B/sandbox-image" runconf busybox | tr '\0' '\n' | sed -n 's/^disk=//p')
IMG=$W/img
mkdir -p "$IMG/names" "$IMG/v1"
# evil NAME STOPSIGNAL: an image NAME with that StopSignal
evil() {
	ln -s "../v1/$1.json" "$IMG/names/$1"
	printf 'disk=%s\0fstype=erofs\0cmd=sh\0env=PATH=/bin:/usr/bin\0workdir=/\0stopsignal=%s\0' "$DISK" "$2" >"$IMG/v1/$1.runconf"
}
evil evil "$(printf '\ntap=%s' $TAP)"
evil ok-rt SIGRTMIN+3
evil ok-num 15
HAVE_TAP=0
ip tuntap add dev "$TAP" mode tap 2>/dev/null && HAVE_TAP=1
t_run ev env SANDBOX_IMAGE_DIR="$IMG" $R -d evil sleep 1000
if [ "$(t_rc ev)" = 0 ]; then
	# the old behaviour: the owner killed, ps cleans the "dead" sandbox
	ID=$(cat "$T_OUT/ev.out")
	sleep 0.5
	kill -9 "$(sed -n 's/^pid=//p' "$ST/$ID/state" | head -n 1)" 2>/dev/null
	sleep 0.5
	"$SB" ps -a >/dev/null 2>&1
fi
if [ "$(t_rc ev)" = 125 ] && [ "$(wc -l <"$T_OUT/ev.err")" = 1 ] &&
	grep -q "^sandbox: image evil: its StopSignal '?tap=$TAP' is not a signal" "$T_OUT/ev.err"; then
	t_pass "an image StopSignal with a newline: run refuses it (125, one line)"
else
	t_fail "an image StopSignal with a newline: run refuses it (125, one line)"; t_show ev
fi
[ -z "$(ls -A "$ST" | grep -Ev '^\.(lock|events\.json(\.1)?)$')" ] && t_pass "... and records nothing" ||
	t_fail "... and records nothing (left: $(ls -A "$ST" | tr '\n' ' '))"
if [ $HAVE_TAP = 1 ]; then
	[ -e "/sys/class/net/$TAP" ] && t_pass "the host tap $TAP named by the injected line is still there" ||
		t_fail "the host tap $TAP named by the injected line was DELETED"
else
	t_skip "the injected tap survives" "cannot make a tap here (ip tuntap)"
fi
t_run okrt env SANDBOX_IMAGE_DIR="$IMG" $R --rm ok-rt true
t_run oknum env SANDBOX_IMAGE_DIR="$IMG" $R --rm ok-num true
[ "$(t_rc okrt)" = 0 ] && [ "$(t_rc oknum)" = 0 ] && t_pass "StopSignal SIGRTMIN+3 and 15 are signals: run as usual" ||
	{ t_fail "StopSignal SIGRTMIN+3 and 15 are signals: run as usual"; t_show okrt; t_show oknum; }

t_summary
