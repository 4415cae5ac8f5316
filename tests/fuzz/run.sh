#!/bin/bash
# tests/fuzz/run.sh SECONDS TARGET...: run each libFuzzer TARGET (a path in
# build-fuzz/) for SECONDS, FUZZ_JOBS at a time (default: the CPUs), each
# on its corpus (build-fuzz/corpus-NAME) and seeds (tests/fuzz/seeds/NAME).
# Prints each target's executions, peak RSS and any finding, in the order
# given; exits 1 if any target failed (a crash leaves
# build-fuzz/NAME-crash-*).
set -u
secs=$1
shift
jobs=${FUZZ_JOBS:-$(nproc)}
logs=$(mktemp -d)
trap 'rm -rf "$logs"' EXIT
one() {
	local f=$1 t
	t=$(basename "$f")
	mkdir -p "build-fuzz/corpus-$t"
	"$f" -max_total_time="$secs" -print_final_stats=1 -artifact_prefix="build-fuzz/$t-" \
		"build-fuzz/corpus-$t" $(test -d "tests/fuzz/seeds/$t" && echo "tests/fuzz/seeds/$t") \
		>"$logs/$t.log" 2>&1
	echo $? >"$logs/$t.rc"
}
running=0
for f in "$@"; do
	one "$f" &
	running=$((running + 1))
	if [ "$running" -ge "$jobs" ]; then
		wait -n
		running=$((running - 1))
	fi
done
wait
fail=0
for f in "$@"; do
	t=$(basename "$f")
	echo "fuzz: $t for $secs s"
	grep -E "stat::number_of_executed_units|stat::peak_rss|ERROR|SUMMARY|Test unit written" "$logs/$t.log"
	if [ "$(cat "$logs/$t.rc" 2>/dev/null)" != 0 ]; then
		echo "fuzz: $t FAILED (status $(cat "$logs/$t.rc" 2>/dev/null || echo '?'))"
		fail=1
	fi
done
exit $fail
