#!/bin/bash
# Guards against sprawl, natively with --isolation container sandboxes
# (docs/limits.md): host-wide limits from the config file refuse with one
# line and 125 (and 429 through the API), a broken config is one line too,
# ps marks a sandbox far older than its peers, prune removes ended ones
# (--until keeps the recent).
#   tests/api/limits.sh [BUILD_DIR]
cd "$(dirname "$0")/../.." || exit 2
. tests/e2e/lib.sh
t_sandbox_setup "${1:-build}" limits
CFG=$ST.config
SOCK=$ST.sock
T_EXTRA_DIRS="$CFG $SOCK"
export SANDBOX_CONFIG=$CFG
SERVE=
cleanup() { [ -n "$SERVE" ] && kill "$SERVE" 2>/dev/null; t_sandbox_cleanup; }
trap cleanup EXIT
R="$SB run -d --isolation container"

printf 'max_sandboxes = 2\n' >"$CFG"
$R --name lim-1 busybox sleep 1000 >/dev/null
$R --name lim-2 busybox sleep 1000 >/dev/null
t_run third $R --name lim-3 busybox sleep 1000
t_one_line_error third "a limit of 2 sandboxes refuses the third: one line, 125" "host limit: 2 sandboxes run already \\(max_sandboxes = 2 in $CFG\\)"
"$SB" ps -a | grep -q lim-3 && t_fail "the refused sandbox left state behind" || t_pass "... and leaves nothing behind"
"$SB" serve --socket "$SOCK" 2>/dev/null &
SERVE=$!
wait_for 10 test -S "$SOCK"
code=$(curl -sS --unix-socket "$SOCK" -o "$T_OUT/api.body" -w '%{http_code}' -d '{"image":"busybox","isolation":"container","cmd":["true"]}' http://x/v1/sandboxes)
[ "$code" = 429 ] && grep -q '"message":"host limit: 2 sandboxes run already' "$T_OUT/api.body" &&
	t_pass "through the API: 429 with the same message" || t_fail "API limit: HTTP $code $(cat "$T_OUT/api.body")"
"$SB" stop -t 0 lim-2 >/dev/null
t_run again $R --name lim-3 busybox sleep 1000
t_expect again "once one ended, the next one runs" 0 '^[0-9a-f]{16}$'

printf 'max_memory = 200m\n' >"$CFG"
t_run mem $R --memory 256m busybox true
t_one_line_error mem "max_memory: a sandbox whose limit would pass it is refused" "max_memory"
printf 'max_per_user = 2\n' >"$CFG"
t_run user $R busybox true
t_one_line_error user "max_per_user: a third for this user is refused" "max_per_user = 2"
printf 'max_sandboxes = lots\n' >"$CFG"
t_run badcfg $R busybox true
t_one_line_error badcfg "a broken config: one line naming the file, line and key" "$CFG:1: max_sandboxes"

# ps marks the one far past its peers' age
printf 'outlier_factor = 2\noutlier_min_age = 2s\n' >"$CFG"
"$SB" stop -t 0 lim-3 >/dev/null
sleep 3
$R --name lim-young busybox sleep 1000 >/dev/null
$R --name lim-young2 busybox sleep 1000 >/dev/null
wait_for 10 sh -c "[ \"\$(\"$SB\" ps | grep -c ' running')\" = 3 ]"
t_run ps "$SB" ps
if grep -E '^[0-9a-f]{12} +lim-1 .*running \(old\)' "$T_OUT/ps.out" >/dev/null &&
	grep -E 'lim-young .*running  ' "$T_OUT/ps.out" >/dev/null; then
	t_pass "ps marks a sandbox far older than its peers: running (old)"
else t_fail "ps outlier mark"; t_show ps; fi

# prune
rm -f "$CFG"
"$SB" stop -t 0 lim-1 lim-young lim-young2 >/dev/null
t_run keep "$SB" prune --until 1h
t_expect keep "prune --until 1h keeps what ended just now" 0 '' 'removed 0 sandboxes'
t_run prune "$SB" prune
t_expect prune "prune removes every ended sandbox" 0 '^[0-9a-f]{16}$' 'removed 5 sandboxes'
n=$("$SB" ps -a -q | wc -l)
[ "$n" = 0 ] && t_pass "nothing left" || t_fail "$n left after prune"
t_run badu "$SB" prune --until soon
t_one_line_error badu "prune --until with a bad duration: one line" "not a duration"
t_summary
