#!/bin/sh
# sandbox audit natively (no VM): container (ours), runc, crun and runsc
# (Debian's, on a bundle of the same image) side by side. Checks that each
# column that can run here gives a verdict on every attack, that the
# detection can fail (runc's bundle has no seccomp profile: the
# shared-kernel attacks our profile refuses are reported exposed there),
# and, where chromium is installed, that the HTML report renders its
# table in a headless browser (screenshot kept).
#   tests/security/audit.sh [BUILD_DIR]
#   AUDIT_KEEP=DIR: keep audit.json, audit.html, audit.png there
cd "$(dirname "$0")/../.." || exit 2
. tests/e2e/lib.sh
t_sandbox_setup "${1:-build}" audit-native
J=$T_OUT/audit.json H=$T_OUT/audit.html
KEEP=${AUDIT_KEEP:-$B/audit-report}
mkdir -p "$KEEP"

if [ "$(id -u)" != 0 ]; then
	t_skip "audit (native)" "needs root"
	t_summary
	exit
fi
t0=$(date +%s)
t_run audit "$SB" audit --isolation container,runc,crun,runsc --format json --output "$J" --html "$H"
echo "# sandbox audit --isolation container,runc,crun,runsc: $(($(date +%s) - t0)) s, status $(t_rc audit)"
t_expect audit "exit status 1 (no vm column)" 1
cp "$J" "$H" "$KEEP/"

# verdict ISO ATTACK: the verdict of ATTACK in column ISO
verdict() {
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); a=[x for x in d["attacks"] if x["name"]==sys.argv[3]][0]; r=a["results"].get(sys.argv[2]); print(r["verdict"] if r else "-")' "$J" "$1" "$2"
}
if python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$J" 2>"$T_OUT/json.err"; then
	t_pass "the JSON report parses"
else
	t_fail "the JSON report parses" "$(head -n 2 "$T_OUT/json.err")"
fi
n=$(python3 -c 'import json,sys; print(len(json.load(open(sys.argv[1]))["attacks"]))' "$J")
for iso in container runc crun runsc; do
	skipped=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); c=[x for x in d["isolations"] if x["name"]==sys.argv[2]][0]; print(c["reason"] if c["skipped"] else "")' "$J" "$iso")
	if [ -n "$skipped" ]; then
		t_skip "$iso column" "$skipped"
		continue
	fi
	k=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(sum(1 for a in d["attacks"] if sys.argv[2] in a["results"]))' "$J" "$iso")
	[ "$k" = "$n" ] && t_pass "$iso: a verdict on every attack ($k)" || t_fail "$iso: a verdict on every attack ($k of $n)"
	nr=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(" ".join(a["name"] for a in d["attacks"] if a["results"][sys.argv[2]]["verdict"]=="could not run"))' "$J" "$iso")
	if [ -z "$nr" ]; then
		t_pass "$iso: every attack ran"
	elif [ "$iso" = container ]; then
		t_fail "$iso: every attack ran (could not run: $nr)"
	else   # a peer that does not work on this host is a finding, not our failure
		t_skip "$iso: every attack ran" "could not run here: $(echo "$nr" | cut -c1-120)"
	fi
done
# Our container refuses what Docker's seccomp profile refuses; runc's
# bundle (no profile) lets it into the host kernel: the same attack reads
# contained in one column and exposed in the other.
for a in sys-io_uring sys-keyctl userns vsock; do
	c=$(verdict container $a) r=$(verdict runc $a)
	if [ "$r" = - ]; then
		t_skip "$a: contained in container, exposed in runc" "no runc column"
	elif [ "$c" = contained ] && [ "$r" = exposed ]; then
		t_pass "$a: contained in container, exposed in runc (no seccomp profile)"
	else
		t_fail "$a: contained in container, exposed in runc (got $c / $r)"
	fi
done
# Both share this host's kernel: its identity shows.
[ "$(verdict container kernel-id)" = exposed ] && t_pass "container: the host kernel's identity is exposed" ||
	t_fail "container: the host kernel's identity is exposed (got $(verdict container kernel-id))"
# runsc (gVisor) answers with its own kernel: contained there.
v=$(verdict runsc kernel-id)
case $v in
contained) t_pass "runsc: the kernel seen is gVisor's, not the host's" ;;
-|"could not run") t_skip "runsc: kernel identity" "no runsc verdict ($v)" ;;
*) t_fail "runsc: the kernel seen is gVisor's, not the host's (got $v)" ;;
esac

# The neighbour attacks can fail: a neighbour with no walls (its holder in
# a chroot of its own on this host, the attacker beside it in the same
# pid and network namespaces) has its secret found by each of the three.
nb=$(mktemp -d)
mkdir -p "$nb/root"
cp "$B/sandbox-attacker" "$nb/root/"
# (this shell holds the secret reversed only: nbr-mem must not find it here)
rev=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')RBNXBS
chroot "$nb/root" /sandbox-attacker hold "$rev" >/dev/null 2>&1 &
hold=$!
for i in 1 2 3 4 5 6 7 8 9 10; do [ -s "$nb/root/audit-neighbour/secret" ] && break; sleep 0.3; done
# (memory first, and the outputs kept in files: a shell variable that
# held a found secret would be found in this shell's memory)
for a in nbr-mem nbr-files nbr-net; do
	case $a in
	nbr-files) timeout 120 "$B/sandbox-attacker" $a "$rev" 0 /nonexistent ;;
	nbr-mem) timeout 120 "$B/sandbox-attacker" $a "$rev" 0 ;;
	*) timeout 60 "$B/sandbox-attacker" $a "$rev" ;;
	esac >"$T_OUT/$a.out" 2>&1
	# found in the holder (its pid), or in traffic
	if [ "$(sed -n 's/^secret=//p' "$T_OUT/$a.out" | rev)" = "$rev" ] &&
		grep -Eq "^found=(.*[/_]$hold(/|\$)|traffic_on_)" "$T_OUT/$a.out"; then
		t_pass "$a: a neighbour without walls has its secret found ($(grep '^found=' "$T_OUT/$a.out"))"
	else
		t_fail "$a: a neighbour without walls has its secret found" "$(tr '\n' ' ' <"$T_OUT/$a.out" | cut -c1-300)"
	fi
	sed -i 's/^secret=.*/secret=(checked)/' "$T_OUT/$a.out"
done
kill $hold 2>/dev/null
wait $hold 2>/dev/null
rm -rf "$nb"
# ... and with walls: our container's and the peers' neighbours ran and
# kept their secrets (what happens, reported: a finding in a peer is not
# our failure, in ours it is)
for iso in container runc crun runsc; do
	for a in nbr-files nbr-mem nbr-net; do
		v=$(verdict $iso $a)
		case $iso:$v in
		*:contained) t_pass "$iso: $a contained" ;;
		*:-) t_skip "$iso: $a" "no $iso column" ;;
		container:*) t_fail "$iso: $a contained (got $v)" ;;
		*) t_skip "$iso: $a contained" "got $v" ;;
		esac
	done
done

# --privileged-attacker against container: every capability and no
# seccomp on this host's kernel; the host is exposed (the doors only
# shown: nothing is written to this host's ports, disks or vsock).
P=$T_OUT/priv.json
t_run priv "$SB" audit --privileged-attacker --isolation container --format json --output "$P" \
	--only mount,sys-io_uring,syslog,ports,vsock-flood,rawdisk,vmm-survived,host-binaries,host-image
t_expect priv "--privileged-attacker container: exit status 1" 1
pv() {
	python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); a=[x for x in d["attacks"] if x["name"]==sys.argv[2]][0]; print(a["results"]["container"]["verdict"])' "$P" "$1"
}
for a in mount sys-io_uring syslog; do
	[ "$(pv $a)" = exposed ] && t_pass "--privileged-attacker container: $a exposed" ||
		t_fail "--privileged-attacker container: $a exposed (got $(pv $a))"
done
[ "$(pv vmm-survived)" = "not applicable" ] && t_pass "--privileged-attacker container: no VMM to survive (not applicable)" ||
	t_fail "--privileged-attacker container: vmm-survived not applicable (got $(pv vmm-survived))"
for a in host-binaries host-image; do
	[ "$(pv $a)" = contained ] && t_pass "--privileged-attacker container: $a unchanged" ||
		t_fail "--privileged-attacker container: $a unchanged (got $(pv $a))"
done
cp "$P" "$KEEP/audit-privileged.json"

# The HTML report in a headless browser: it renders its table.
CHROME=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$CHROME" ]; then
	t_skip "HTML report in a headless browser" "chromium is not installed"
else
	pd=$(mktemp -d)
	timeout 120 "$CHROME" --headless --no-sandbox --disable-gpu --user-data-dir="$pd" --window-size=1400,3000 \
		--screenshot="$KEEP/audit.png" "file://$H" >"$T_OUT/shot.out" 2>&1
	timeout 120 "$CHROME" --headless --no-sandbox --disable-gpu --user-data-dir="$pd" --dump-dom \
		"file://$H" >"$T_OUT/dom.html" 2>"$T_OUT/dom.err"
	rm -rf "$pd"
	rows=$(grep -o '<tr id="a-' "$T_OUT/dom.html" | wc -l)
	if [ -s "$KEEP/audit.png" ] && [ "$rows" = "$n" ] && grep -q '<table id="attacks">' "$T_OUT/dom.html"; then
		t_pass "HTML report rendered by chromium: $rows rows, screenshot $KEEP/audit.png ($(wc -c <"$KEEP/audit.png") bytes)"
	else
		t_fail "HTML report rendered by chromium ($rows rows of $n; screenshot $(ls -la "$KEEP/audit.png" 2>&1))" "$(tail -n 3 "$T_OUT/shot.out")"
	fi
fi
left=$(ls -A "$ST" 2>/dev/null | grep -Ev '^\.(lock|events\.json(\.1)?)$')
[ -z "$left" ] && t_pass "no sandbox left behind" || t_fail "no sandbox left behind: $left"
ls -d "${TMPDIR:-/tmp}"/sandbox-audit-runc* "${TMPDIR:-/tmp}"/sandbox-audit-crun* "${TMPDIR:-/tmp}"/sandbox-audit-runsc* >/dev/null 2>&1 && t_fail "no bundle left behind" || t_pass "no bundle left behind"
t_summary
