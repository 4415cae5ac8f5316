#!/bin/sh
# sandbox audit (docs/audit.md) in VM isolation, in the test host when
# nested: one run of the whole catalogue, then its report's shape, and
# every attack contained in vm (the command's exit status 0). The
# container, runc, crun and runsc columns run natively
# (tests/security/audit.sh): the test host has no loop devices, which
# container isolation needs for the image.
#   tests/e2e/audit.sh [BUILD_DIR]
#   AUDIT_ISOLATIONS=vm (default; a comma-separated list) AUDIT_KEEP=DIR:
#   keep the reports (audit.json, audit.html) in DIR.
# POSIX sh: runs under busybox in the test host.
cd "$(dirname "$0")/../.." || exit 2
. tests/e2e/lib.sh
t_sandbox_setup "${1:-build}" audit
ISOS=${AUDIT_ISOLATIONS:-vm}
J=$T_OUT/audit.json H=$T_OUT/audit.html

if ! "$B/sandbox-image" runconf busybox >/dev/null 2>&1; then
	t_skip "audit" "no busybox image in $SANDBOX_IMAGE_DIR (run tests/e2e/prepare.sh $B)"
	t_summary
	exit
fi
t0=$(date +%s)
t_run audit "$SB" audit --isolation "$ISOS" --format json --output "$J" --html "$H"
echo "# sandbox audit --isolation $ISOS: $(($(date +%s) - t0)) s, status $(t_rc audit)"
[ -n "${AUDIT_KEEP:-}" ] && mkdir -p "$AUDIT_KEEP" && cp "$J" "$H" "$AUDIT_KEEP/"

# the catalogue's size: one "results" per attack
n=$(grep -c '"results": {' "$J")
[ "$n" -ge 30 ] && t_pass "the JSON report lists $n attacks" || t_fail "the JSON report lists the catalogue ($n attacks)"
ran=0
for iso in $(echo "$ISOS" | tr ',' ' '); do
	if grep -q "{\"name\": \"$iso\", \"skipped\": true" "$J"; then
		t_skip "$iso column" "$(grep -o "{\"name\": \"$iso\", \"skipped\": true, \"reason\": \"[^\"]*" "$J" | sed 's/.*"reason": "//')"
		continue
	fi
	ran=$((ran + 1))
	k=$(grep -c "^       \"$iso\": {\"verdict\": " "$J")
	[ "$k" = "$n" ] && t_pass "$iso: a verdict on every attack ($k)" || t_fail "$iso: a verdict on every attack ($k of $n)"
	nr=$(grep "^       \"$iso\": {\"verdict\": \"could not run\"" "$J" | sed 's/.*"why": "\([^"]*\)".*/\1/' | head -n 3 | tr '\n' ';')
	[ -z "$nr" ] && t_pass "$iso: every attack ran" || t_fail "$iso: every attack ran (could not run: $nr)"
done

if grep -q '{"name": "vm", "skipped": false' "$J"; then
	bad=$(grep '^       "vm": {"verdict": ' "$J" | grep -v '"verdict": "contained"' | sed 's/^ *//' | head -n 5)
	[ -z "$bad" ] && t_pass "vm: every attack contained" || t_fail "vm: every attack contained" "$bad"
	t_expect audit "exit status 0 (vm contained everything)" 0
	grep -q '"vm_contains_all": true' "$J" && t_pass "the JSON says so" || t_fail "the JSON says vm_contains_all"
else
	t_expect audit "exit status 1 without a vm column" 1
fi
# the neighbour rows: a second sandbox of the isolation was up (its
# secret searched for, not "could not run") and kept its secret
for iso in $(echo "$ISOS" | tr ',' ' '); do
	grep -q "{\"name\": \"$iso\", \"skipped\": false" "$J" || continue
	echo "# $iso: $(grep -o "{\"name\": \"$iso\", \"skipped\": false[^}]*" "$J" | grep -o 'neighbour: [^"]*')"
	for a in nbr-files nbr-mem nbr-net; do
		l=$(grep -A 4 "\"name\": \"$a\"" "$J" | grep "^       \"$iso\": ")
		case $l in
		*'"verdict": "contained", "why": "secret not found'*) t_pass "$iso: $a contained ($(echo "$l" | sed 's/.*"why": "\([^"]*\)".*/\1/'))" ;;
		*) t_fail "$iso: $a contained, the neighbour up" "$l" ;;
		esac
	done
done
# container on a shared kernel: the host kernel's identity is its own
if grep -q '{"name": "container", "skipped": false' "$J"; then
	grep -q '^       "container": {"verdict": "exposed", "why": "the host.s exact kernel build' "$J" &&
		t_pass "container: the host kernel's identity reported exposed" ||
		t_fail "container: the host kernel's identity reported exposed"
fi

# the HTML report: one page, no outside resource, a row per attack, a
# cell per attack and column run
rows=$(grep -c '<tr id="a-' "$H")
cells=$(grep -o '<td class="\(ok\|bad\|na\|nr\)">' "$H" | wc -l)
[ "$rows" = "$n" ] && [ "$cells" = $((n * ran)) ] && ! grep -q 'https\?://' "$H" && grep -q '</html>' "$H" &&
	t_pass "HTML: $rows rows, $cells cells, self-contained" ||
	t_fail "HTML: $rows rows (want $n), $cells cells (want $((n * ran))), self-contained"
# --privileged-attacker in the VM: every capability, no seccomp inside;
# the hostile-guest attacks go through to the VMM, which must survive
# them (alive, its filter on, the sandbox answering) with the host's files
# unchanged. Only where vm ran above.
if grep -q '{"name": "vm", "skipped": false' "$J"; then
	P=$T_OUT/priv.json
	t_run priv "$SB" audit --privileged-attacker --isolation vm --format json --output "$P" \
		--only mount,sys-io_uring,ports,vsock-flood,rawdisk,vmm-survived,host-binaries,host-image
	t_expect priv "--privileged-attacker: exit status 0 (vm contained everything)" 0
	for a in mount ports vsock-flood rawdisk vmm-survived host-binaries host-image; do
		l=$(grep -A 4 "\"name\": \"$a\"" "$P" | grep '^       "vm": ')
		case $l in
		*'"verdict": "contained"'*) t_pass "--privileged-attacker $a: contained ($(echo "$l" | sed 's/.*"why": "\([^"]*\)".*/\1/'))" ;;
		*) t_fail "--privileged-attacker $a: contained" "$l" ;;
		esac
	done
	grep -A 4 '"name": "mount"' "$P" | grep -q 'own kernel' && t_pass "--privileged-attacker: the mount went through (every capability, no seccomp)" ||
		t_fail "--privileged-attacker: the mount went through"
	[ -n "${AUDIT_KEEP:-}" ] && cp "$P" "$AUDIT_KEEP/"
fi
left=$(ls -A "$ST" 2>/dev/null | grep -Ev '^\.(lock|events\.json(\.1)?)$')
[ -z "$left" ] && t_pass "no sandbox left behind" || t_fail "no sandbox left behind: $left"
t_summary
