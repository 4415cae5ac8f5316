#!/bin/bash
# --log-driver journald against a real systemd-journald (Debian's
# /lib/systemd/systemd-journald, started standalone; nothing here runs
# systemd), natively with --isolation container sandboxes (the collector is
# the same for a VM's output): refused with one line while there is no
# journald; then an attached and a detached sandbox's stdout and stderr
# lines read back with journalctl as entries with MESSAGE, PRIORITY (6
# stdout, 3 stderr), CONTAINER_ID(_FULL), CONTAINER_NAME and
# SYSLOG_IDENTIFIER=sandbox. journald runs in a mount namespace of this
# suite's own, over tmpfs at /run/systemd, /run/log and /var/log/journal:
# the host's /run and logs are not touched.
#   tests/api/journald.sh [BUILD_DIR]
# Needs root, unshare, systemd-journald and journalctl (Debian's systemd).
cd "$(dirname "$0")/../.." || exit 2
JD=/lib/systemd/systemd-journald
if [ -z "${JOURNALD_SUITE_NS:-}" ]; then
	if [ -x $JD ] && command -v journalctl >/dev/null && command -v unshare >/dev/null &&
		unshare -m --propagation private true 2>/dev/null; then
		JOURNALD_SUITE_NS=1 exec unshare -m --propagation private "$0" "$@"
	fi
fi
. tests/e2e/lib.sh
t_sandbox_setup "${1:-build}" journald
ISO=container
if [ -z "${JOURNALD_SUITE_NS:-}" ]; then
	t_skip "journald" "needs $JD, journalctl (Debian's systemd) and unshare -m (root)"
	t_summary; exit
fi
if ! "$B/sandbox-image" runconf busybox >/dev/null 2>&1; then
	t_skip "journald" "no busybox image in $SANDBOX_IMAGE_DIR (run tests/e2e/prepare.sh $B)"
	t_summary; exit
fi
JPID= MOUNTED= MADE=
cleanup() {
	[ -n "$JPID" ] && kill "$JPID" 2>/dev/null && wait "$JPID" 2>/dev/null
	t_sandbox_cleanup
	for d in $MOUNTED; do umount "$d"; done
	for d in $MADE; do rmdir "$d"; done     # mount points this suite made
}
trap cleanup EXIT
for d in /run/systemd /run/log /var/log/journal; do
	[ -d "$d" ] || { mkdir "$d" && MADE="$d $MADE"; }
	mount -t tmpfs -o mode=0755 tmpfs "$d" && MOUNTED="$d $MOUNTED" || { t_fail "tmpfs on $d"; t_summary; exit; }
done

# --- no journald: refused, one line ----------------------------------------------------
t_run none "$SB" run --rm --isolation container --log-driver journald busybox true
t_one_line_error none "--log-driver journald without a journald: refused with one line" "no journald on this host"

# --- a real journald -------------------------------------------------------------------
$JD >"$ST.jd.err" 2>&1 &
JPID=$!
T_EXTRA_DIRS="$ST.jd.err"
if ! wait_for 20 test -S /run/systemd/journal/socket; then
	t_skip "journald" "systemd-journald did not start here: $(head -c 300 "$ST.jd.err")"
	t_summary; exit
fi
t_pass "systemd-journald runs (its native socket is there)"
# entries NAME: CONTAINER_NAME=NAME's entries, one JSON object a line
entries() { journalctl --directory=/run/log/journal -o json --no-pager CONTAINER_NAME="$1" 2>/dev/null; }
# check NAME DESC PYTHON-EXPR over E (the list of entries)
check() {
	if entries "$1" | python3 -c 'import json,sys; E=[json.loads(l) for l in sys.stdin if l.strip()]; sys.exit(0 if eval(sys.argv[1]) else 1)' "$3"; then
		t_pass "$2"
	else
		t_fail "$2"; entries "$1" | head -n 6 | cut -c1-400 | sed 's/^/    /'
	fi
}

t_run att "$SB" run --rm --isolation container --log-driver journald --name jd-att busybox \
	sh -c 'echo hello-out; echo hello-err >&2; printf "a=b\tc\n"'
t_expect att "attached: the output still reaches the terminal" 0 '^hello-out$' '^hello-err$'
wait_for 10 sh -c "journalctl --directory=/run/log/journal -o json CONTAINER_NAME=jd-att 2>/dev/null | grep -q 'a=b'"
check jd-att "attached: stdout is an entry with PRIORITY 6" \
	'any(e["MESSAGE"] == "hello-out" and e["PRIORITY"] == "6" for e in E)'
check jd-att "attached: stderr is an entry with PRIORITY 3" \
	'any(e["MESSAGE"] == "hello-err" and e["PRIORITY"] == "3" for e in E)'
check jd-att "attached: a line with '=' and a tab is kept as it was" \
	'any(e["MESSAGE"] == "a=b\tc" for e in E)'
check jd-att "the container's id (full and 12 digits) and the sandbox identifier on each entry" \
	'len(E) == 3 and all(len(e["CONTAINER_ID_FULL"]) == 16 and e["CONTAINER_ID"] == e["CONTAINER_ID_FULL"][:12] and e["SYSLOG_IDENTIFIER"] == "sandbox" and e["_TRANSPORT"] == "journal" for e in E)'

t_run det "$SB" run -d --isolation container --log-driver journald --name jd-det busybox \
	sh -c 'for i in 1 2 3; do echo line-$i; done; echo oops >&2'
t_expect det "detached with --log-driver journald" 0 '^[0-9a-f]{16}$'
id=$(cat "$T_OUT/det.out")
wait_for 20 sh -c "[ \$(journalctl --directory=/run/log/journal -o json CONTAINER_NAME=jd-det 2>/dev/null | wc -l) -ge 4 ]"
check jd-det "detached: its lines in order, stdout 6 and stderr 3, its own id" \
	"[e['MESSAGE'] for e in E if e['PRIORITY'] == '6'] == ['line-1', 'line-2', 'line-3'] and [e['MESSAGE'] for e in E if e['PRIORITY'] == '3'] == ['oops'] and all(e['CONTAINER_ID_FULL'] == '$id' for e in E)"
t_summary
