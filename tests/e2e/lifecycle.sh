#!/bin/sh
# The sandbox lifecycle commands end to end: run -d, ps, logs, kill, stop,
# rm, inspect, names, two sandboxes at once, a dead owner cleaned by ps,
# bad input, an empty state directory after --rm and failed runs, check.
#   tests/e2e/lifecycle.sh [BUILD_DIR]          VM isolation (a KVM that boots
#                                              Linux: natively or in the test host)
#   ISO=container tests/e2e/lifecycle.sh [B]   host-mode isolation, natively
#                                              (tests/container/lifecycle.sh)
# The images must be in $B/test-images (tests/e2e/prepare.sh does that).
# POSIX sh: runs under busybox in the test host.
cd "$(dirname "$0")/../.." || exit 2
. tests/e2e/lib.sh
t_sandbox_setup "${1:-build}" lifecycle
R="$SB run --isolation $ISO"
echo "# isolation: $ISO"

# --- sandbox check (needs no image) -------------------------------------------
t_run check "$SB" check
if grep -Eqv '^(ok|no) |^=> ' "$T_OUT/check.out"; then
	t_fail "check: every line is ok/no ITEM ... (or the verdict)"; t_show check
else
	t_pass "check: every line is ok/no ITEM ... (or the verdict)"
fi
if kvm=$("$SB" kvm-check 2>&1); then
	t_expect check "check: this KVM boots guests: status 0" 0 '^ok +kvm backend +(VMX|SVM)'
elif echo "$kvm" | grep -q '^pvm'; then
	t_expect check "check: a PVM host: status 1, says so and names the nested test host" 1 \
		'^no +kvm backend +PVM.*tests/kvmhost/run'
else
	t_expect check "check: no usable KVM: status 1" 1 '^no +kvm'
fi
grep -q '^ok  guest kernel' "$T_OUT/check.out" && grep -q '^ok  image tool' "$T_OUT/check.out" &&
	grep -Eq '^(ok|no)  (loop devices|overlay fs|erofs fs|cgroup|tun)' "$T_OUT/check.out" &&
	t_pass "check: kernel, image tool, container and network items reported" ||
	{ t_fail "check: kernel, image tool, container and network items reported"; t_show check; }

if ! "$B/sandbox-image" runconf busybox >/dev/null 2>&1; then
	t_skip "sandbox lifecycle" "no busybox image in $SANDBOX_IMAGE_DIR (run tests/e2e/prepare.sh $B)"
	t_summary
	exit
fi
if [ "$ISO" = container ] && [ "$(id -u)" != 0 ]; then
	t_skip "sandbox lifecycle, --isolation container" "needs root"
	t_summary
	exit
fi

left() { ls -A "$ST" 2>/dev/null | grep -Ev '^\.(lock|events\.json(\.1)?)$'; }
# field NAME KEY: a key of NAME's state file
field() {
	for f in "$ST"/*/state; do
		grep -qx "name=$1" "$f" 2>/dev/null && sed -n "s/^$2=//p" "$f"
	done
}
stopped() { "$SB" inspect "$1" | grep -q '"running": false'; }
logged() { "$SB" logs "$1" | grep -q "$2"; }
# alive PID: a process that runs (not gone, not a zombie)
alive() {
	_s=$(cat "/proc/$1/stat" 2>/dev/null) && [ -n "$_s" ] || return 1
	case $_s in *") Z "*|*") X "*) return 1 ;; esac
}

# --- an empty state directory after --rm and failed runs -----------------------
t_run rm_ok $R --rm busybox true
t_run rm_st $R --rm busybox sh -c 'exit 5'
t_run no_image $R busybox-no-such-image true
t_run bad_opt $R --bogus busybox true
t_run bad_name $R --name '-x' busybox true
if [ "$(t_rc rm_ok)" = 0 ] && [ "$(t_rc rm_st)" = 5 ] && [ "$(t_rc no_image)" = 125 ] &&
	[ "$(t_rc bad_opt)" = 125 ] && [ "$(t_rc bad_name)" = 125 ] && [ -z "$(left)" ]; then
	t_pass "--rm runs (status 0 and 5), a missing image, bad options: nothing left in the state directory"
else
	t_fail "--rm runs and failed runs leave nothing (left: $(left | tr '\n' ' '))"
	for n in rm_ok rm_st no_image bad_opt bad_name; do t_show $n; done
fi

# --- -d, ps, logs ----------------------------------------------------------------
t_run d1 $R -d --name lc-trap busybox sh -c 'echo started; trap "echo got TERM; exit 3" TERM; while :; do sleep 1; done'
t_expect d1 "run -d prints the id (16 hex digits)" 0 '^[0-9a-f]{16}$'
ID1=$(cat "$T_OUT/d1.out")
ID12=$(echo "$ID1" | cut -c1-12)
t_run d2 $R -d --name lc-ign busybox sh -c 'trap "" TERM; echo ready; while :; do sleep 1; done'
t_expect d2 "a second sandbox at once" 0 '^[0-9a-f]{16}$'
wait_for 60 logged lc-trap started && wait_for 60 logged lc-ign ready ||
	t_fail "both detached sandboxes started (logs: $("$SB" logs lc-trap 2>&1 | head -n 3))"
t_run logs "$SB" logs lc-trap
t_expect logs "logs shows the detached sandbox's output" 0 '^started$'
t_run ps "$SB" ps
t_expect ps "ps: a header, and the sandbox by 12-digit id, name, image, running, command" 0 \
	"^$ID12 +lc-trap +busybox +running +[0-9]+[smhd] +1 +- +sh -c echo started"
if [ "$(grep -c ' running ' "$T_OUT/ps.out")" = 2 ] && grep -q '^ID  *NAME  *IMAGE  *STATUS  *AGE  *CPUS  *MEMORY  *COMMAND$' "$T_OUT/ps.out"; then
	t_pass "ps lists both running sandboxes under the header"
else
	t_fail "ps lists both running sandboxes under the header"; t_show ps
fi
t_run psj "$SB" ps --format json
t_expect psj "ps --format json" 0 "\"id\": \"$ID1\", \"name\": \"lc-trap\", \"image\": \"busybox\".*\"status\": \"running\", \"running\": true"
t_run psq "$SB" ps -q
[ "$(grep -c . "$T_OUT/psq.out")" = 2 ] && grep -qx "$ID12" "$T_OUT/psq.out" && t_pass "ps -q: the ids" ||
	{ t_fail "ps -q: the ids"; t_show psq; }
t_run dup $R -d --name lc-trap busybox true
t_one_line_error dup "a name in use: 125, one line" "in use"

# --- inspect -------------------------------------------------------------------
t_run insp "$SB" inspect "$(echo "$ID1" | cut -c1-8)"
t_expect insp "inspect by id prefix: JSON with running true, the isolation and the stop signal" 0 \
	"\"id\": \"$ID1\".*\"running\": true.*\"isolation\": \"$ISO\".*\"stop_signal\": \"SIGTERM\""
if command -v python3 >/dev/null 2>&1; then
	if python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d[0]["name"]=="lc-trap" and d[0]["running"] is True' \
		"$T_OUT/insp.out" 2>"$T_OUT/insp.py"; then
		t_pass "inspect output parses as JSON"
	else
		t_fail "inspect output parses as JSON: $(cat "$T_OUT/insp.py" | tail -n 1)"
	fi
fi

# --- kill ----------------------------------------------------------------------
t_run kill "$SB" kill lc-trap TERM
t_expect kill "kill NAME TERM" 0 '^lc-trap$'
wait_for 30 stopped lc-trap || t_fail "the sandbox ended after TERM"
t_run logs2 "$SB" logs lc-trap
t_expect logs2 "TERM reached the container's trap" 0 '^got TERM$'
t_run insp2 "$SB" inspect lc-trap
t_expect insp2 "its exit status (3) recorded: exited (3), running false" 0 \
	'"status": "exited \(3\)", "running": false, "exit_code": 3'
t_run ps2 "$SB" ps
if grep -q lc-trap "$T_OUT/ps2.out"; then t_fail "ps without -a leaves out ended sandboxes"; t_show ps2
else t_pass "ps without -a leaves out ended sandboxes"; fi
t_run ps2a "$SB" ps -a
t_expect ps2a "ps -a shows it as exited (3)" 0 "^$ID12 +lc-trap +busybox +exited \(3\) "
t_run kill_ended "$SB" kill lc-trap
t_one_line_error kill_ended "kill of an ended sandbox: 125, one line" "not running"

# --- stop: TERM ignored, KILL after -t ----------------------------------------
t0=$(date +%s)
t_run stop "$SB" stop -t 2 lc-ign
t1=$(date +%s)
t_expect stop "stop -t 2 of a sandbox that ignores TERM" 0 '^lc-ign$'
t_run insp3 "$SB" inspect lc-ign
t_expect insp3 "it ended by KILL: exit 137" 0 '"exit_code": 137'
[ $((t1 - t0)) -ge 2 ] && [ $((t1 - t0)) -le 12 ] && t_pass "stop waited -t 2 s, then killed ($((t1 - t0)) s)" ||
	t_fail "stop waited -t 2 s, then killed (took $((t1 - t0)) s)"
t_run stop_again "$SB" stop lc-ign
t_expect stop_again "stop of a stopped sandbox succeeds (Docker)" 0 '^lc-ign$'

# --- kill with the default signal, logs -f ---------------------------------------
t_run d3 $R -d --name lc-k busybox sh -c 'echo one; sleep 1; echo two; sleep 1000'
wait_for 60 logged lc-k two || t_fail "lc-k started"
t_run kill9 "$SB" kill lc-k
wait_for 30 stopped lc-k
t_run insp4 "$SB" inspect lc-k
t_expect insp4 "kill without a signal is KILL: exit 137" 0 '"exit_code": 137'
t_run d4 $R -d --name lc-f busybox sh -c 'echo first; sleep 2; echo last'
t_run logsf timeout 60 "$SB" logs -f lc-f
t_expect logsf "logs -f follows until the sandbox ends" 0 '^last$'

# --- logs -f across many rotations between two of its polls (docs/logs.md) -------
# 3000 lines at max-size=4k: ~80 rotations in well under a poll's 100 ms
# natively. Kept (max-file=100): every line once, in order. Not kept
# (max-file=2): what is missing is said on stderr, never skipped silently.
burst='sleep 1; i=1; while [ $i -le 3000 ]; do echo "n $i"; i=$((i + 1)); done'
seq 1 3000 | sed 's/^/n /' >"$T_OUT/burst.want"
t_run d6 $R -d --name lc-burst --log-opt max-size=4k --log-opt max-file=100 busybox sh -c "$burst"
t_run burst timeout 120 "$SB" logs -f lc-burst
nrot=$(ls "$ST/$(cat "$T_OUT/d6.out")" | grep -c '^log\.json\.')
if [ "$(t_rc burst)" = 0 ] && cmp -s "$T_OUT/burst.out" "$T_OUT/burst.want" && [ ! -s "$T_OUT/burst.err" ] &&
	[ "$nrot" -ge 50 ]; then
	t_pass "logs -f: 3000 lines across $nrot rotations at max-size=4k, each once and in order"
else
	t_fail "logs -f: 3000 lines across $nrot rotations at max-size=4k, each once and in order" \
		"$(wc -l <"$T_OUT/burst.out") lines; first difference: $(cmp "$T_OUT/burst.out" "$T_OUT/burst.want" 2>&1)"
	t_show burst
fi
t_run d7 $R -d --name lc-lossy --log-opt max-size=4k --log-opt max-file=2 busybox sh -c "$burst"
t_run lossy timeout 120 "$SB" logs -f lc-lossy
# "bad": a line out of order or twice, or not the last; else the count of
# gaps after the first line (files gone before logs -f began are not its
# loss: `logs` does not say those either)
gaps=$(awk '{ n = $2 + 0; if (NR > 1 && n <= p) bad = 1; if (NR > 1 && n != p + 1) g++; p = n }
	END { print (bad || p != 3000) ? "bad" : g + 0 }' "$T_OUT/lossy.out")
said=$(grep -Ec '^sandbox: logs: [0-9]+ rotated files? (was|were) removed before (it|they) could be read$' "$T_OUT/lossy.err")
if [ "$(t_rc lossy)" = 0 ] && [ "$gaps" != bad ] && [ $((gaps > 0)) = $((said > 0)) ] &&
	[ "$said" = "$(wc -l <"$T_OUT/lossy.err")" ]; then
	t_pass "logs -f past max-file=2: in order to the last line, $gaps gap(s), each said on stderr ($said)"
else
	t_fail "logs -f past max-file=2: in order to the last line, gaps said on stderr (gaps: $gaps, said: $said)"
	t_show lossy
fi

# --- rm ------------------------------------------------------------------------
t_run d5 $R -d --name lc-run busybox sleep 1000
wait_for 60 sh -c "$SB inspect lc-run | grep -q '\"status\": \"running\"'"
V5=$(field lc-run vmm_pid)
t_run rm_running "$SB" rm lc-run
t_one_line_error rm_running "rm of a running sandbox without -f: 125, one line" "is running"
t_run rm "$SB" rm lc-trap lc-ign lc-k lc-f lc-burst lc-lossy
t_expect rm "rm of ended sandboxes, several at once" 0 '^lc-lossy$'
t_run rmf "$SB" rm -f lc-run
t_expect rmf "rm -f of a running sandbox" 0 '^lc-run$'
if [ -z "$(left)" ] && [ -n "$V5" ] && ! alive "$V5"; then
	t_pass "nothing left in the state directory, the VMM of the rm -f'd one is gone"
else
	t_fail "nothing left after rm (left: $(left | tr '\n' ' '), vmm $V5)"
fi
t_run rm_gone "$SB" inspect lc-run
t_one_line_error rm_gone "inspect after rm: 125, one line" "no such sandbox"

# --- a dead owner --------------------------------------------------------------
# (VM mode: with a tap device, which must go too)
NET6=
[ "$ISO" = vm ] && [ -c /dev/net/tun ] && NET6="--network tap"
t_run d6 $R -d --name lc-dead $NET6 busybox sleep 7777
wait_for 60 sh -c "$SB inspect lc-dead | grep -q '\"status\": \"running\"'"
P6=$(field lc-dead pid) V6=$(field lc-dead vmm_pid) TAP6=$(field lc-dead tap)
if [ -n "$NET6" ]; then
	[ -n "$TAP6" ] && [ -e "/sys/class/net/$TAP6" ] && t_pass "the dead-to-be sandbox has its tap $TAP6" ||
		{ t_fail "the dead-to-be sandbox has its tap ($TAP6)"; t_show d6; }
fi
kill -9 "$P6"
wait_for 5 sh -c "! [ -e /proc/$P6/stat ] || grep -q ') Z' /proc/$P6/stat"
t_run insp6 "$SB" inspect lc-dead
t_expect insp6 "inspect: an owner killed with -9 makes it dead" 0 '"status": "dead", "running": false'
t_run ps6 "$SB" ps -a
t_expect ps6 "ps -a shows it dead once and says it cleaned it" 0 ' lc-dead +busybox +dead ' 'lc-dead .*dead.*cleaned up'
# in container mode the container's own process is on this host too
sleepers() { grep -l 7777 /proc/[0-9]*/cmdline 2>/dev/null | grep -v "/proc/$$/" | while read -r f; do
	p=${f#/proc/}; p=${p%/cmdline}; alive "$p" && tr '\0' ' ' <"$f" | grep -q '^sleep 7777' && echo "$p"; done 2>/dev/null; }
wait_for 5 sh -c "! [ -e /proc/$V6/stat ] || grep -q ') Z' /proc/$V6/stat"
if [ -z "$(left)" ] && [ -n "$V6" ] && ! alive "$V6" && [ -z "$(sleepers)" ]; then
	t_pass "the dead sandbox is cleaned: no state left, no VMM, no container process"
else
	t_fail "the dead sandbox is cleaned (left: $(left | tr '\n' ' '); vmm $V6 alive: $(alive "$V6" && echo yes); sleepers: $(sleepers))"
fi
if [ -n "$TAP6" ]; then
	# the kernel unregisters the tap once its last fd is closed: that
	# may trail the VMM's exit a little (seen under load)
	wait_for 5 sh -c "! [ -e /sys/class/net/$TAP6 ]" && t_pass "its tap device is gone" || t_fail "its tap device $TAP6 is gone"
fi
t_run ps7 "$SB" ps -a
if grep -q lc-dead "$T_OUT/ps7.out"; then t_fail "a cleaned dead sandbox is listed only once"; t_show ps7
else t_pass "a cleaned dead sandbox is listed only once"; fi

# --- bad input -----------------------------------------------------------------
t_run e_kill "$SB" kill no-such-box
t_one_line_error e_kill "kill of an unknown name: 125, one line" "no such sandbox: no-such-box"
t_run e_stop "$SB" stop 0123456789ab
t_one_line_error e_stop "stop of an unknown id: 125, one line" "no such sandbox"
t_run e_logs "$SB" logs no-such-box
t_one_line_error e_logs "logs of an unknown name: 125, one line" "no such sandbox"
t_run e_rm "$SB" rm no-such-box
t_one_line_error e_rm "rm of an unknown name: 125, one line" "no such sandbox"
t_run e_insp "$SB" inspect no-such-box
t_one_line_error e_insp "inspect of an unknown name: 125, one line" "no such sandbox"
t_run e_sig "$SB" kill no-such-box SIGBOGUS
t_one_line_error e_sig "kill with an unknown signal: 125, one line" "not a signal"
t_run e_ps "$SB" ps --bogus
t_one_line_error e_ps "ps with an unknown option: 125, one line" "unknown"
t_run e_kill0 "$SB" kill
t_one_line_error e_kill0 "kill without an id: 125, one line" "usage"
t_run e_stopt "$SB" stop -t x lc-any
t_one_line_error e_stopt "stop -t x: 125, one line" "seconds"
t_run fg $R busybox echo hi
t_run e_nolog "$SB" logs "$(ls "$ST" | grep -v lock | head -n 1)"
t_one_line_error e_nolog "logs of a sandbox run without -d: 125, one line" "not run with -d"
"$SB" rm "$(ls "$ST" | grep -v lock | head -n 1)" >/dev/null 2>&1
[ -z "$(left)" ] && t_pass "the state directory is empty at the end" ||
	t_fail "the state directory is empty at the end (left: $(left | tr '\n' ' '))"

t_summary
