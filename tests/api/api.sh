#!/bin/bash
# sandbox serve, its API driven with curl, natively with --isolation
# container sandboxes (docs/api.md): create -> exec -> cp -> stats ->
# logs -> stop -> rm over the Unix socket; JSON errors with the right HTTP
# status; TCP refusing a missing or wrong token; 50 concurrent requests
# answered each with its own answer; a killed server leaving sandboxes
# running and visible after its restart; and the guards the API shares
# with the command line: collected logs capped, --ttl, events.
#   tests/api/api.sh [BUILD_DIR]
# Needs root, curl, python3 and the images in BUILD_DIR/test-images.
cd "$(dirname "$0")/../.." || exit 2
. tests/e2e/lib.sh
t_sandbox_setup "${1:-build}" api
ISO=container
SOCK=$ST.sock
TOK=$ST.token
T_EXTRA_DIRS="$SOCK $TOK $ST.tar $ST.in $ST.tcp.err $ST.serve.err $ST.c"
SERVE_PID=
stop_serve() { [ -n "$SERVE_PID" ] && kill "$SERVE_PID" 2>/dev/null && wait "$SERVE_PID" 2>/dev/null; SERVE_PID=; }
cleanup() { stop_serve; [ -n "${TCP_PID:-}" ] && kill "$TCP_PID" 2>/dev/null; t_sandbox_cleanup; }
trap cleanup EXIT
start_serve() {
	"$SB" serve --socket "$SOCK" 2>>"$ST.serve.err" &
	SERVE_PID=$!
	# until it answers (a socket file alone may be the one a killed
	# server left, which the new one replaces)
	wait_for 10 curl -s --unix-socket "$SOCK" -o /dev/null "http://api/"
}
C() { curl -sS --unix-socket "$SOCK" -o "$T_OUT/body" -w '%{http_code}' "$@" "http://api$URL"; }
# req NAME METHOD PATH [curl args...]: status in $T_OUT/NAME.code, body in NAME.body
req() {
	_n=$1 _m=$2 URL=$3; shift 3
	C -X "$_m" "$@" >"$T_OUT/$_n.code" 2>/dev/null
	mv "$T_OUT/body" "$T_OUT/$_n.body" 2>/dev/null || : >"$T_OUT/$_n.body"
}
code() { cat "$T_OUT/$1.code"; }
body() { cat "$T_OUT/$1.body"; }
jget() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' "$T_OUT/$1.body" "$2" 2>/dev/null; }
expect() { # expect NAME DESC CODE [python-expr-that-must-be-True]
	if [ "$(code "$1")" = "$3" ] && { [ -z "${4:-}" ] || [ "$(jget "$1" "$4")" = True ]; }; then t_pass "$2"
	else t_fail "$2 (want HTTP $3${4:+ and $4})" "got HTTP $(code "$1"): $(head -c 400 "$T_OUT/$1.body")"; fi
}

if ! command -v curl >/dev/null || ! command -v python3 >/dev/null; then
	t_skip "api" "curl and python3 are needed"; t_summary; exit
fi
mkdir -p "$ST"
start_serve || t_fail "sandbox serve listens on its Unix socket" "$(cat "$ST.serve.err")"
[ "$(stat -c %a "$SOCK")" = 600 ] && t_pass "the socket is mode 0600" || t_fail "socket mode $(stat -c %a "$SOCK")"

# ---- the life of a sandbox over the socket
req create POST /v1/sandboxes -d '{"image":"busybox","isolation":"container","name":"api-w","cmd":["sh","-c","echo hello from api-w; echo to-stderr >&2; exec sleep 1000"]}'
expect create "create: 201 and the id" 201 "len(d['id']) == 16"
ID=$(jget create "d['id']")
req inspect GET /v1/sandboxes/api-w
expect inspect "inspect by name: running" 200 "d['running'] and d['name'] == 'api-w' and d['id'] == '$ID'"
req list GET /v1/sandboxes
expect list "list: the sandbox is there" 200 "[s['id'] for s in d] == ['$ID']"
"$SB" ps -q | grep -q "^${ID:0:12}$" && t_pass "the command line sees the API's sandbox" || t_fail "ps does not list $ID"
req exec POST /v1/sandboxes/api-w/exec -d '{"cmd":["sh","-c","echo out; echo err >&2; cat; exit 7"],"stdin":"piped in\n"}'
python3 - "$T_OUT/exec.body" <<'PY' && t_pass "exec: streamed stdout, stderr and stdin, then the exit status" || t_fail "exec stream" "$(body exec)"
import json, sys
fr = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
out = ''.join(f['data'] for f in fr if f.get('stream') == 'stdout')
err = ''.join(f['data'] for f in fr if f.get('stream') == 'stderr')
assert out == 'out\npiped in\n', out
assert err == 'err\n', err
assert fr[-1] == {'exit_code': 7}, fr[-1]
PY
req exec404 POST /v1/sandboxes/api-w/exec -d '{"cmd":["/no/such/program"]}'
[ "$(code exec404)" = 200 ] && tail -n 1 "$T_OUT/exec404.body" | grep -q '"exit_code":127' &&
	t_pass "exec of a missing program: its status 127 in the stream" || t_fail "exec 127" "$(body exec404)"

# files in and out (cp's tar streams)
mkdir -p "$ST.in/d" && echo "file content" >"$ST.in/d/f.txt"
tar -C "$ST.in" -cf "$ST.tar" d
req put PUT "/v1/sandboxes/api-w/archive?path=/tmp" --data-binary @"$ST.tar" -H 'Content-Type: application/x-tar'
expect put "archive in: 200" 200
req get GET "/v1/sandboxes/api-w/archive?path=/tmp/d"
if [ "$(code get)" = 200 ] && tar -xOf "$T_OUT/get.body" d/f.txt 2>/dev/null | grep -q "^file content$"; then
	t_pass "archive out: the file copied in comes back"
else t_fail "archive out" "HTTP $(code get)"; fi
req get404 GET "/v1/sandboxes/api-w/archive?path=/no/such"
expect get404 "archive of a missing path: a JSON error" 500 "'/no/such' in d['message'] and d['status'] == 125"
req getrel GET "/v1/sandboxes/api-w/archive?path=tmp"
expect getrel "archive with a relative path: 400" 400
# A stream whose cp fails halfway (killed here, a slow reader holding it
# open) must not end like a whole tar: the connection drops before the
# last chunk, which curl reports as a transfer cut short (18).
"$SB" exec api-w dd if=/dev/zero of=/tmp/big bs=1M count=32 2>/dev/null
curl -sS --unix-socket "$SOCK" --limit-rate 256K -o "$T_OUT/cut.tar" \
	"http://api/v1/sandboxes/api-w/archive?path=/tmp/big" 2>"$T_OUT/cut.err" &
CUT_PID=$!
if wait_for 10 pgrep -f "cp -- api-w:/tmp/big -" && sleep 1 && pkill -KILL -f "cp -- api-w:/tmp/big -"; then
	wait "$CUT_PID"; rc=$?
	got=$(stat -c %s "$T_OUT/cut.tar" 2>/dev/null)
	if [ "$rc" = 18 ] && [ "${got:-0}" -gt 0 ] && [ "$got" -lt $((32 << 20)) ]; then
		t_pass "archive out, cp killed halfway: the stream ends cut short (curl 18 after $got bytes)"
	else t_fail "archive out, cp killed halfway" "curl status $rc after ${got:-0} bytes: $(head -c 300 "$T_OUT/cut.err")"; fi
else
	kill "$CUT_PID" 2>/dev/null; wait "$CUT_PID"
	t_fail "archive out, cp killed halfway" "no cp process to kill"
fi
"$SB" exec api-w rm -f /tmp/big

req stats GET /v1/sandboxes/api-w/stats
expect stats "stats: CPU, memory, block I/O and pids of the sandbox" 200 \
	"d['running'] and d['memory_pss'] > 0 and d['vmm_rss'] > 0 and d['pids'] >= 1 and d['cpu_percent'] is not None"
req allstats GET '/v1/stats?interval=100'
expect allstats "stats of all" 200 "len(d) == 1 and d[0]['id'] == '$ID'"
req host GET /v1/host
expect host "host totals" 200 "d['running'] == 1 and d['memory_total'] > 0 and d['cpus'] >= 1"
req logs GET '/v1/sandboxes/api-w/logs'
python3 - "$T_OUT/logs.body" <<'PY' && t_pass "logs: JSON records with time, id, name, stream, line" || t_fail "logs records" "$(body logs)"
import json, sys
r = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
assert {(x['stream'], x['line']) for x in r} == {('stdout', 'hello from api-w'), ('stderr', 'to-stderr')}, r
assert all(x['name'] == 'api-w' and len(x['id']) == 16 and x['time'].endswith('Z') for x in r)
PY
req logtail GET '/v1/sandboxes/api-w/logs?tail=1'
[ "$(grep -c . "$T_OUT/logtail.body")" = 1 ] && t_pass "logs?tail=1: one record" || t_fail "tail=1" "$(body logtail)"
# logs -f through the API: what the command line says on stderr after its
# first output reaches the client too, as a frame between the records'
# lines. Here what logs -f says of files rotated away before it could read
# them (docs/logs.md): 3000 lines at max-size=4k and max-file=2 rotate
# ~80 times in well under one of its 100 ms polls.
burst='sleep 1; i=1; while [ $i -le 3000 ]; do echo "n $i"; i=$((i + 1)); done'
"$SB" run -d --isolation container --name api-lossy --log-opt max-size=4k --log-opt max-file=2 busybox sh -c "$burst" >/dev/null
req logsf GET '/v1/sandboxes/api-lossy/logs?follow=1' --max-time 60
python3 - "$T_OUT/logsf.body" <<'PY' && t_pass "logs?follow=1: lines lost to rotation are said in the stream, as stderr frames between whole records" ||
import json, re, sys
fr = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]   # every line one JSON value
recs = [f for f in fr if 'line' in f]
said = [f for f in fr if 'line' not in f]
n = [int(r['line'].split()[1]) for r in recs]
assert n and n[-1] == 3000 and all(a < b for a, b in zip(n, n[1:])), ('order', n[:3], n[-3:])
gaps = sum(1 for a, b in zip(n, n[1:]) if b != a + 1)
assert gaps, 'no line was lost: nothing to say (this test needs a loss)'
want = r'sandbox: logs: \d+ rotated files? (was|were) removed before (it|they) could be read\n'
assert said and all(f.get('stream') == 'stderr' and re.fullmatch(want, f.get('data', '')) for f in said), said
PY
	t_fail "logs?follow=1: a rotation loss said in the stream" "$(grep -v '"line"' "$T_OUT/logsf.body" | head -c 600)"
"$SB" rm -f api-lossy >/dev/null
req metrics GET /metrics
grep -q "^sandbox_memory_pss_bytes{id=\"$ID\",name=\"api-w\"" "$T_OUT/metrics.body" && t_pass "/metrics: a series for the sandbox" ||
	t_fail "/metrics" "$(head -c 300 "$T_OUT/metrics.body")"

# ---- errors: JSON, the command line's message, the right HTTP status
req e_json POST /v1/sandboxes -d '{"image": '
expect e_json "bad JSON: 400" 400 "'not JSON' in d['message']"
req e_key POST /v1/sandboxes -d '{"image":"busybox","privileged":true}'
expect e_key "unknown key: 400" 400 "'privileged' in d['message']"
req e_404 GET /v1/sandboxes/no-such-box
expect e_404 "unknown id: 404 with the command line's message" 404 "d['message'] == 'no such sandbox: no-such-box' and d['status'] == 125"
req e_405 PATCH /v1/sandboxes/api-w
expect e_405 "wrong method: 405" 405
grep -qi '^allow: GET, DELETE' <(curl -sS -i --unix-socket "$SOCK" -X PATCH http://api/v1/sandboxes/api-w) &&
	t_pass "405 says what is allowed" || t_fail "405 Allow header"
req e_path GET /v1/nothing
expect e_path "unknown path: 404" 404
req e_name POST /v1/sandboxes -d '{"image":"busybox","isolation":"container","name":"api-w","cmd":["true"]}'
expect e_name "a name in use: 409, the command line's message" 409 "'in use' in d['message']"
req e_mem POST /v1/sandboxes -d '{"image":"busybox","isolation":"container","memory":"lots","cmd":["true"]}'
expect e_mem "a bad option value: 400" 400 "'--memory' in d['message']"
req e_img POST /v1/sandboxes -d '{"image":"--privileged"}'
expect e_img "an image that would be an option: 400" 400
req e_rm DELETE /v1/sandboxes/api-w
expect e_rm "rm of a running one: 409" 409 "'is running' in d['message']"

# ---- 50 concurrent requests, each answered with its own
req create2 POST /v1/sandboxes -d '{"image":"busybox","isolation":"container","name":"api-x","cmd":["sleep","1000"]}'
expect create2 "a second sandbox" 201
mkdir -p "$ST.c"
pids=
for i in $(seq 1 50); do
	n=$([ $((i % 2)) = 0 ] && echo api-w || echo api-x)
	curl -sS --unix-socket "$SOCK" "http://api/v1/sandboxes/$n" -o "$ST.c/$i.$n" &
	pids="$pids $!"
done
for i in $(seq 1 10); do
	curl -sS --unix-socket "$SOCK" -X POST -d "{\"cmd\":[\"echo\",\"exec-$i\"]}" "http://api/v1/sandboxes/api-x/exec" -o "$ST.c/exec.$i" &
	pids="$pids $!"
done
wait $pids
python3 - "$ST.c" <<'PY' && t_pass "50 concurrent inspects and 10 concurrent execs: each got its own answer" || t_fail "concurrency"
import json, os, sys
d = sys.argv[1]
for f in os.listdir(d):
    txt = open(os.path.join(d, f)).read()
    if f.startswith('exec.'):
        fr = [json.loads(l) for l in txt.splitlines()]
        assert ''.join(x.get('data', '') for x in fr) == 'exec-%s\n' % f.split('.')[1], (f, txt)
        assert fr[-1] == {'exit_code': 0}, (f, txt)
    else:
        assert json.loads(txt)['name'] == f.split('.', 1)[1], (f, txt)
assert len(os.listdir(d)) == 60
PY

# ---- the server can die: sandboxes run on, and it sees them after a restart
kill -9 "$SERVE_PID"; wait "$SERVE_PID" 2>/dev/null; SERVE_PID=
sleep 0.5
"$SB" ps -q | grep -q "^${ID:0:12}$" && t_pass "kill -9 of the server: the sandbox runs on" || t_fail "the sandbox died with the server"
start_serve
req after GET /v1/sandboxes
expect after "a restarted server lists the running sandboxes" 200 "sorted(s['name'] for s in d) == ['api-w', 'api-x']"

req stop POST '/v1/sandboxes/api-w/stop?t=1'
expect stop "stop: 200" 200 "d['id'] == 'api-w'"
req stopped GET /v1/sandboxes/api-w
expect stopped "stopped: exited, with its status" 200 "not d['running'] and d['exit_code'] == 137"
req kill POST '/v1/sandboxes/api-x/kill?signal=TERM'
expect kill "kill with a signal: 200" 200
req kill2 POST '/v1/sandboxes/api-x/kill?signal=NOPE'
expect kill2 "kill with a bad signal: 400" 400
req rm DELETE /v1/sandboxes/api-w
expect rm "rm: 200" 200
req rmf DELETE '/v1/sandboxes/api-x?force=1'
expect rmf "rm ?force=1 of a running one: 200" 200
req gone GET /v1/sandboxes/api-w
expect gone "removed: 404" 404
req events GET '/v1/events'
python3 - "$T_OUT/events.body" <<'PY' && t_pass "events: create, start, exec, stop, kill, exit, remove of the sandbox" || t_fail "events" "$(head -c 600 "$T_OUT/events.body")"
import json, sys
ev = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
types = [e['type'] for e in ev if e['name'] == 'api-w']
for t in ['create', 'start', 'exec', 'stop', 'exit', 'remove']:
    assert t in types, (t, types)
assert 'kill' in [e['type'] for e in ev if e['name'] == 'api-x']
PY

# ---- TCP: a token or nothing
stop_serve
t_run tcp_notoken env -u SANDBOX_API_TOKEN "$SB" serve --tcp 127.0.0.1:0
t_one_line_error tcp_notoken "TCP without a token is refused" "needs a token"
printf 'a-token-of-enough-length-42\n' >"$TOK"
t_run tcp_remote "$SB" serve --tcp 0.0.0.0:0 --token-file "$TOK"
t_one_line_error tcp_remote "a non-loopback address without --allow-remote is refused" "allow-remote"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$SB" serve --tcp 127.0.0.1:$PORT --token-file "$TOK" 2>"$ST.tcp.err" &
TCP_PID=$!
wait_for 10 curl -s -o /dev/null "http://127.0.0.1:$PORT/"
tc() { curl -sS -o /dev/null -w '%{http_code}' "$@"; }
[ "$(tc "http://127.0.0.1:$PORT/v1/sandboxes")" = 401 ] && t_pass "TCP without a token: 401" || t_fail "TCP no token"
[ "$(tc -H 'Authorization: Bearer wrong-token-of-enough-length' "http://127.0.0.1:$PORT/v1/sandboxes")" = 401 ] &&
	t_pass "TCP with a wrong token: 401" || t_fail "TCP wrong token"
[ "$(tc -H "Authorization: Bearer $(cat "$TOK")" "http://127.0.0.1:$PORT/v1/sandboxes")" = 200 ] &&
	t_pass "TCP with the token: 200" || t_fail "TCP right token"
[ "$(tc "http://127.0.0.1:$PORT/metrics")" = 401 ] && t_pass "/metrics needs the token too" || t_fail "metrics without token"
# the dashboard's session: the cookie alone does not change state without the CSRF token
JAR=$ST.c/jar
[ "$(tc -c "$JAR" -d "token=$(cat "$TOK")" "http://127.0.0.1:$PORT/login")" = 303 ] && t_pass "login with the token: a session" || t_fail "login"
[ "$(tc -c "$JAR.bad" -d "token=nope" "http://127.0.0.1:$PORT/login")" = 401 ] && t_pass "login with a wrong token: 401" || t_fail "bad login"
"$SB" run -d --isolation container --name api-c busybox sleep 1000 >/dev/null
[ "$(tc -b "$JAR" -X POST "http://127.0.0.1:$PORT/v1/sandboxes/api-c/kill")" = 403 ] &&
	t_pass "a cookie without the CSRF token cannot kill: 403" || t_fail "CSRF"
"$SB" ps -q | grep -q . && t_pass "... and the sandbox still runs" || t_fail "CSRF let a kill through"
CSRF=$(curl -sS -b "$JAR" "http://127.0.0.1:$PORT/" | sed -n 's/.*name="csrf-token" content="\([0-9a-f]*\)".*/\1/p')
[ "$(tc -b "$JAR" -H "X-CSRF-Token: $CSRF" -X POST "http://127.0.0.1:$PORT/v1/sandboxes/api-c/kill")" = 200 ] &&
	t_pass "the cookie with the page's CSRF token can" || t_fail "CSRF with token"
kill "$TCP_PID"; wait "$TCP_PID" 2>/dev/null; TCP_PID=

# ---- collected logs are capped; --ttl
LOG_MB=${LOG_MB:-256}    # 2048: the issue's 2 GB (about 40 s here)
"$SB" run -d --isolation container --name api-loud --log-opt max-size=1m --log-opt max-file=2 busybox \
	sh -c "dd if=/dev/zero bs=1048576 count=$LOG_MB 2>/dev/null | tr '\\000' x; echo; echo the-end" >/dev/null
wait_for 300 sh -c "\"$SB\" ps -a | grep api-loud | grep -q exited"
size=$(cat "$ST"/*/log.json* 2>/dev/null | wc -c)
[ "$size" -ge $((1024 * 1024)) ] || t_fail "the loud sandbox's log is only $size bytes: did it print?"
last=$("$SB" logs --tail 1 api-loud)
if [ "$size" -le $((2 * 1024 * 1024 + 65536)) ] && [ "$last" = the-end ]; then
	t_pass "a sandbox printing $LOG_MB MiB keeps at most 2 x 1m of log ($size bytes), the end readable"
else t_fail "log cap: $size bytes, last line '$(echo "$last" | head -c 80)'"; fi
"$SB" run -d --isolation container --name api-ttl --ttl 2s busybox sh -c 'trap "exit 0" TERM; while :; do sleep 0.1; done' >/dev/null
sleep 1
"$SB" ps | grep -q api-ttl && t_pass "--ttl 2s: running before" || t_fail "ttl sandbox not running"
if wait_for 8 sh -c "! \"$SB\" ps -a | grep -q api-ttl"; then t_pass "--ttl 2s: stopped and removed after it"
else t_fail "--ttl: still there" "$("$SB" ps -a)"; fi
t_summary
