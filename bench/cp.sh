#!/bin/sh
# sandbox cp throughput: a 200 MiB file into a running VM sandbox against
# `tar | tar` to a local directory (the issue's comparison), and beside it
# the legs of the path, to see which one costs:
#   local      tar -cf - big | tar -xf -      (host, the reference)
#   cp         sandbox cp big ID:/tmp/big     (tar, relay, vsock, guest tar)
#   stdin-null sandbox exec -i ID cat >/dev/null  <big   (the transport alone)
#   stdin-file sandbox exec -i ID cat >/tmp/x     <big   (transport + the
#              writable layer: ext4 on virtio-blk)
#   dd-host    dd if=/dev/zero of=/dev/null bs=64k, 200 MiB, on this host
#   dd-guest   the same inside the sandbox (sandbox exec): with dd-host, how
#              much slower the guest's own CPU is than this host's (in the
#              nested test host the guest runs under emulation too)
# One untimed cp first (the first 200 MiB into a fresh layer also pays for
# the layer's blocks; its time is printed). Then RUNS rounds (default 3),
# interleaved; median ms of each and its ratio to local. Only the `cp` /
# `local` ratio goes to SPEC.md.
#   bench/cp.sh [BUILD_DIR]      (in the test host: tests/kvmhost/run)
# Times in the test host are emulated: compare ratios, not absolutes.
cd "$(dirname "$0")/.." || exit 2
B=${1:-build}
SB=$PWD/$B/sandbox
RUNS=${RUNS:-3}
WHAT=${CP_BENCH:-local cp stdin-null stdin-file dd-host dd-guest}
export SANDBOX_IMAGE_DIR=$PWD/$B/test-images
W=${TMPDIR:-/tmp}/sandbox-bench-cp.$$
export SANDBOX_STATE_DIR=$W/state
mkdir -p "$W/src" "$W/state" && chmod 700 "$W/state"
trap '"$SB" rm -f bcp >/dev/null 2>&1; rm -rf "$W"' EXIT
head -c 209715200 /dev/urandom >"$W/src/big"
"$SB" run -d --name bcp --memory 768m busybox sleep 100000 >/dev/null || { echo "bench-cp: run -d failed" >&2; exit 1; }
i=0
until "$SB" exec bcp true >/dev/null 2>&1; do
	i=$((i + 1)); [ $i -lt 300 ] || { echo "bench-cp: the sandbox takes no exec" >&2; exit 1; }
	sleep 0.2
done
# ms from /proc/uptime (10 ms steps; busybox's date has no %N)
now_ms() { read -r up _ </proc/uptime; echo $((${up%.*} * 1000 + 1${up#*.} * 10 - 1000)); }
one() { # one WHAT: ms (or "fail")
	t0=$(now_ms)
	case $1 in
	local) mkdir -p "$W/local" && (cd "$W/src" && tar -cf - big) | (cd "$W/local" && tar -xf -) ;;
	cp) "$SB" cp "$W/src/big" bcp:/tmp/big ;;
	stdin-null) "$SB" exec -i bcp sh -c 'cat >/dev/null' <"$W/src/big" ;;
	stdin-file) "$SB" exec -i bcp sh -c 'cat >/tmp/x' <"$W/src/big" ;;
	dd-host) dd if=/dev/zero of=/dev/null bs=64k count=3200 ;;
	dd-guest) "$SB" exec bcp dd if=/dev/zero of=/dev/null bs=64k count=3200 ;;
	esac >"$W/out" 2>&1
	rc=$?
	t1=$(now_ms)
	rm -rf "$W/local"
	"$SB" exec bcp rm -f /tmp/big /tmp/x >/dev/null 2>&1
	if [ $rc = 0 ]; then echo $((t1 - t0)); else echo fail; sed 's/^/# /' "$W/out" >&2; fi
}
median() { tr ' ' '\n' | grep -E '^[0-9]+$' | sort -n | awk '{ a[NR] = $1 } END { if (NR) print a[int((NR + 1) / 2)]; else print "n/a" }'; }
echo "first cp into the fresh layer (untimed round): $(one cp) ms"
for w in $WHAT; do eval "t_$(echo $w | tr - _)="; done
r=1
while [ $r -le "$RUNS" ]; do
	for w in $WHAT; do
		v=$(echo $w | tr - _)
		eval "t_$v=\"\$t_$v $(one $w)\""
	done
	r=$((r + 1))
done
loc=$(echo $t_local | median)
printf '%-11s %9s %8s  %s\n' "" "median ms" "/ local" "runs"
for w in $WHAT; do
	eval "all=\$t_$(echo $w | tr - _)"
	m=$(echo $all | median)
	ratio=$(awk -v a="$m" -v b="$loc" 'BEGIN { if (a + 0 > 0 && b + 0 > 0) printf "%.1f", a / b; else print "n/a" }')
	printf '%-11s %9s %8s  %s\n' "$w" "$m" "$ratio" "$all"
done
