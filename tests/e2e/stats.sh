#!/bin/sh
# sandbox stats of a VM sandbox (one lean check in the test host): the VMM's
# RSS holds the guest memory it touched, the tree's PSS and CPU time grow
# while the guest spins, the table and the Prometheus text carry it; its
# collected log (the guest's output through the relay) is JSON records; a
# memory hog exec'd past --memory is OOM-killed and counted (stats, /metrics'
# text, an oom event) while the sandbox runs on.
#   tests/e2e/stats.sh [BUILD_DIR]               VM isolation (test host)
#   ISO=container tests/e2e/stats.sh [BUILD_DIR] host mode, natively
# POSIX sh: runs under busybox in the test host.
cd "$(dirname "$0")/../.." || exit 2
. tests/e2e/lib.sh
t_sandbox_setup "${1:-build}" stats
echo "# isolation: $ISO"
if ! "$B/sandbox-image" runconf busybox >/dev/null 2>&1; then
	t_skip "sandbox stats" "no busybox image in $SANDBOX_IMAGE_DIR (run tests/e2e/prepare.sh $B)"
	t_summary
	exit
fi
jnum() { sed -n "s/.*\"$2\":\([0-9.]*\).*/\1/p" "$T_OUT/$1.out" | head -n 1; }
t_run d "$SB" run -d --isolation "$ISO" --name st --memory 64m busybox sh -c 'echo spinning; while :; do :; done'
t_expect d "run -d: a guest that spins" 0 '^[0-9a-f]{16}$'
wait_for 60 sh -c "\"$SB\" logs st | grep -q spinning"
t_run j "$SB" stats --no-stream --format json --interval 1000 st
rss=$(jnum j vmm_rss) pss=$(jnum j memory_pss) cpu=$(jnum j cpu_percent) lim=$(jnum j memory_limit)
min_rss=$((4 * 1024 * 1024))    # the VMM holds the guest's touched memory
[ "$ISO" = container ] && min_rss=1
if [ "$(t_rc j)" = 0 ] && [ "${rss:-0}" -ge $min_rss ] && [ "${pss:-0}" -gt $((1024 * 1024)) ] &&
	[ "$lim" = $((64 * 1024 * 1024)) ]; then
	t_pass "stats: VMM RSS $((rss / 1048576)) MiB, PSS $((pss / 1048576)) MiB, the limit"
else t_fail "stats json: rss=$rss pss=$pss limit=$lim"; t_show j; fi
# A spinning guest: well above idle (the test host has 1 CPU and is slow).
if [ "$(awk "BEGIN{print (${cpu:-0} > 20)}")" = 1 ]; then
	t_pass "stats: the spinning guest shows ${cpu}% CPU"
else t_fail "stats: cpu_percent ${cpu:-none} (want > 20)"; t_show j; fi
if [ "$ISO" = vm ]; then
	grep -q '"pids":null' "$T_OUT/j.out" && t_pass "stats: a VM's pids are not known on the host (null)" || t_fail "vm pids" "$(cat "$T_OUT/j.out")"
	t_run g "$SB" stats --no-stream --guest --interval 0 --format json st
	gt=$(jnum g guest_memory_total) gu=$(jnum g guest_memory_used)
	if grep -q '"pids":1,' "$T_OUT/g.out" && [ "${gt:-0}" -gt $((100 * 1024 * 1024)) ] && [ "${gu:-0}" -gt 0 ] &&
		[ "$gu" -lt "$gt" ]; then
		t_pass "stats --guest: the guest's own view: $((gu / 1048576)) of $((gt / 1048576)) MiB used, 1 process"
	else t_fail "stats --guest"; t_show g; fi
fi
t_run t "$SB" stats --no-stream st
t_expect t "stats: the table" 0 "^[0-9a-f]{12} +st +[0-9.]+%"
t_run p "$SB" stats --no-stream --interval 0 --format prometheus
t_expect p "stats: the Prometheus text" 0 "^sandbox_vmm_rss_bytes\\{id=\"[0-9a-f]{16}\",name=\"st\",image=\"busybox\",isolation=\"$ISO\"\\} [0-9]+$"
# --- OOM kills: a hog past --memory 64m, exec'd (the sandbox lives on) --------
# dd's 128 MiB buffer is filled from /dev/zero: every page touched. It asks
# to be the OOM killer's first choice (once, under load, a second kill took
# the sandbox's own process instead); if it cannot, dd runs anyway.
t_run hog "$SB" exec st sh -c 'echo 1000 >/proc/self/oom_score_adj 2>/dev/null; exec dd if=/dev/zero of=/dev/null bs=128M count=1'
oomj() { "$SB" stats --no-stream --interval 0 --format json st >"$T_OUT/oj.out" 2>&1; }
if [ "$ISO" = container ] && oomj && grep -q '"oom_kills":null' "$T_OUT/oj.out"; then
	t_skip "OOM kills" "this host has no cgroup v2 memory controller (the container gets no cgroup, no limit)"
else
	t_expect hog "exec: a memory hog past --memory 64m is OOM-killed (137)" 137
	wait_for 20 sh -c "\"$SB\" stats --no-stream --interval 0 --format json st | grep -q '\"oom_kills\":1[,}]'"
	oomj
	grep -q '"oom_kills":1[,}]' "$T_OUT/oj.out" && t_pass "stats json: oom_kills 1" || t_fail "stats json oom_kills" "$(cat "$T_OUT/oj.out")"
	t_run ot "$SB" stats --no-stream --interval 0 st
	t_expect ot "stats: the table's OOM column says 1" 0 "^[0-9a-f]{12} +st .* +1 +[^ ]+\$"
	t_run op "$SB" stats --no-stream --interval 0 --format prometheus
	t_expect op "metrics: sandbox_oom_kills_total of the sandbox is 1" 0 "^sandbox_oom_kills_total\\{id=\"[0-9a-f]{16}\",name=\"st\",image=\"busybox\",isolation=\"$ISO\"\\} 1\$"
	# (container isolation: the owner reads the cgroup once a second)
	wait_for 5 sh -c "\"$SB\" events --format json | grep -q '\"type\":\"oom\"'"
	t_run oe "$SB" events --format json
	t_expect oe "events: an oom event with the count" 0 '"type":"oom","id":"[0-9a-f]{16}","name":"st".*"oom_kills":1\}$'
	t_run oi "$SB" inspect st
	t_expect oi "inspect: oom_kills 1" 0 '"oom_kills": 1,'
fi
t_run alive "$SB" exec st echo still-here
t_expect alive "the sandbox runs on after the hog" 0 '^still-here$'
t_run l "$SB" logs --format json st
t_expect l "the guest's output collected as a JSON record" 0 '^\{"time":"[0-9T:.Z-]+","id":"[0-9a-f]{16}","name":"st","stream":"stdout","line":"spinning"\}$'
t_run s "$SB" stop -t 1 st
t_expect s "stop" 0 '^st$'
t_summary
