#!/bin/bash
# Debian's prometheus scrapes `sandbox serve`'s /metrics (over TCP, with the
# bearer token), natively with two --isolation container sandboxes: its
# /api/v1/targets shows the target up, and a query returns one series per
# running sandbox.
#   tests/api/prometheus.sh [BUILD_DIR]
cd "$(dirname "$0")/../.." || exit 2
. tests/e2e/lib.sh
t_sandbox_setup "${1:-build}" prom
ISO=container
P=$ST.prom
T_EXTRA_DIRS="$P"
PIDS=
cleanup() { for p in $PIDS; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; t_sandbox_cleanup; }
trap cleanup EXIT
if ! command -v prometheus >/dev/null || ! command -v curl >/dev/null || ! command -v python3 >/dev/null; then
	t_skip "prometheus" "prometheus, curl and python3 are needed (Debian: prometheus)"; t_summary; exit
fi
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
mkdir -p "$P/data"
printf 'prometheus-test-token-%s\n' "$$" >"$P/token"
API=$(free_port) PROM=$(free_port)
"$SB" serve --tcp 127.0.0.1:$API --token-file "$P/token" 2>"$P/serve.err" &
PIDS="$PIDS $!"
for n in 1 2; do "$SB" run -d --isolation container --name prom-$n busybox sleep 1000 >/dev/null; done
"$SB" run --isolation container --name prom-ended busybox true
cat >"$P/prometheus.yml" <<EOC
global:
  scrape_interval: 1s
scrape_configs:
  - job_name: sandbox
    scrape_interval: 1s
    authorization:
      type: Bearer
      credentials_file: $P/token
    static_configs:
      - targets: ['127.0.0.1:$API']
EOC
prometheus --config.file="$P/prometheus.yml" --storage.tsdb.path="$P/data" \
	--web.listen-address=127.0.0.1:$PROM >"$P/prom.log" 2>&1 &
PIDS="$PIDS $!"
q() { curl -sS "http://127.0.0.1:$PROM/api/v1/$1"; }
up() { q targets | python3 -c 'import json,sys; t=json.load(sys.stdin)["data"]["activeTargets"]; sys.exit(not (t and t[0]["health"] == "up"))'; }
if wait_for 60 up; then t_pass "prometheus scrapes /metrics with the token: its target is up"
else t_fail "the target is not up" "$(q targets | head -c 600)" "$(tail -n 5 "$P/prom.log")"; fi
series() { # series QUERY: the sandbox names in its result
	curl -sS "http://127.0.0.1:$PROM/api/v1/query" --data-urlencode "query=$1" |
		python3 -c 'import json,sys; r=json.load(sys.stdin)["data"]["result"]; print(" ".join(sorted(x["metric"].get("name","-") for x in r)))'
}
wait_for 20 sh -c "[ \"\$(curl -sS 'http://127.0.0.1:$PROM/api/v1/query' --data-urlencode 'query=sandbox_memory_pss_bytes' | grep -o prom-[0-9] | sort -u | wc -l)\" = 2 ]"
got=$(series sandbox_memory_pss_bytes)
[ "$got" = "prom-1 prom-2" ] && t_pass "a query returns one series per running sandbox ($got)" || t_fail "series: '$got'"
got=$(series 'sandbox_cpu_seconds_total > -1')
[ "$got" = "prom-1 prom-2" ] && t_pass "CPU counters of both" || t_fail "cpu series: '$got'"
got=$(series 'sandbox_sandboxes{state="running"}')
v=$(curl -sS "http://127.0.0.1:$PROM/api/v1/query" --data-urlencode 'query=sandbox_sandboxes{state="running"}' |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["result"][0]["value"][1])')
[ "$v" = 2 ] && t_pass "host total: 2 running" || t_fail "running total: $v"
v=$(curl -sS "http://127.0.0.1:$PROM/api/v1/query" --data-urlencode 'query=sandbox_start_seconds_count' |
	python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["result"][0]["value"][1])')
[ "$v" -ge 3 ] 2>/dev/null && t_pass "the start histogram counts the 3 starts" || t_fail "start histogram count: $v"
t_summary
