#!/bin/bash
# The dashboard tested in a real browser: Debian's chromium headless and
# chromedriver, driven by tests/api/dashboard.py (python3-selenium), against
# `sandbox serve --tcp` with a token and --isolation container sandboxes.
# Screenshots: BUILD_DIR/test-artifacts/dashboard/*.png.
#   tests/api/dashboard.sh [BUILD_DIR]
cd "$(dirname "$0")/../.." || exit 2
. tests/e2e/lib.sh
t_sandbox_setup "${1:-build}" dash
P=$ST.dash
T_EXTRA_DIRS="$P"
PIDS=
cleanup() { for p in $PIDS; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; t_sandbox_cleanup; }
trap cleanup EXIT
if ! [ -x /usr/bin/chromium ] || ! [ -x /usr/bin/chromedriver ] || ! /usr/bin/python3 -c 'import selenium' 2>/dev/null; then
	t_skip "dashboard" "chromium, chromium-driver and python3-selenium are needed"; t_summary; exit
fi
mkdir -p "$P"
TOKEN=dashboard-test-token-$$
printf '%s\n' "$TOKEN" >"$P/token"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$SB" serve --tcp 127.0.0.1:$PORT --token-file "$P/token" 2>"$P/serve.err" &
PIDS="$PIDS $!"
for n in 1 2; do "$SB" run -d --isolation container --name dash-$n busybox sleep 1000 >/dev/null; done
wait_for 10 curl -s -o /dev/null "http://127.0.0.1:$PORT/"
ART=$B/test-artifacts/dashboard
rm -rf "$ART"
HOME=$P timeout 300 /usr/bin/python3 tests/api/dashboard.py "http://127.0.0.1:$PORT" "$TOKEN" "$PWD/$SB" "$ART" >"$P/out" 2>"$P/err"
rc=$?
while read -r verdict desc; do
	case $verdict in PASS) t_pass "$desc" ;; FAIL) t_fail "$desc" ;; esac
done <"$P/out"
[ $rc = 0 ] || [ "$T_FAIL" != 0 ] || t_fail "the browser test ended with status $rc" "$(grep -E "Error|Exception|line [0-9]+" "$P/err" | head -n 8)"
n=$(ls "$ART"/*.png 2>/dev/null | wc -l)
[ "$n" -ge 7 ] && t_pass "$n screenshots in $ART" || t_fail "screenshots: $n in $ART"
t_summary
