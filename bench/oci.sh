#!/bin/sh
# podman run --rm IMG true with sandbox-runtime (a microVM per container) vs
# crun (namespaces on this host), the same podman, image and storage, RUNS
# runs each (default 5, medians), and the share of sandbox-runtime's time
# spent in the engine (podman + conmon: crun's whole run, as crun itself
# takes a few ms) vs in sandbox (the rest).
#   KVMHOST_EXTRA="/usr/bin/podman /usr/bin/conmon /etc/containers /usr/bin/crun" \
#     tests/kvmhost/run bench/oci.sh [BUILD_DIR]
# Times in the test host are emulated: compare the columns, not absolutes.
cd "$(dirname "$0")/.." || exit 2
B=${1:-build}
RT=$PWD/$B/sandbox-runtime
RUNS=${RUNS:-5}
W=${TMPDIR:-/tmp}/sandbox-bench-oci.$$
mkdir -p "$W"
trap 'rm -rf "$W"' EXIT
grep -q " /sys/fs/cgroup " /proc/mounts || mount -t cgroup2 none /sys/fs/cgroup
cat >"$W/containers.conf" <<EOC
[containers]
default_ulimits = ["nofile=20000:20000","nproc=32768:32768"]
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
# the test host's root is an initramfs, which pivot_root cannot leave:
# crun moves and chroots instead (sandbox-runtime takes and ignores it)
no_pivot_root = true
conmon_path = ["$(command -v conmon)"]
[engine.runtimes]
sandbox = ["$RT"]
crun = ["$(command -v crun)"]
EOC
export CONTAINERS_CONF=$W/containers.conf
P="podman --root $W/storage --runroot $W/run --storage-driver vfs"
tar -C build/images/busybox -cf "$W/busybox.tar" . && $P load -i "$W/busybox.tar" >/dev/null 2>&1 ||
	{ echo "bench: podman load failed" >&2; exit 1; }
now() { cut -d' ' -f1 /proc/uptime; }
# crun without host cgroups (on cgroup v2 it makes a BPF device filter)
# and with a tmpfs for /dev/mqueue: the test host's kernel has neither BPF
# nor POSIX message queues (sandbox-runtime needs neither on the host: the
# container's cgroup and mounts are in the guest).
one() { # one RUNTIME: seconds of one podman run --rm IMG true
	flags=
	[ "$1" = crun ] && flags="--cgroups=disabled --mount type=tmpfs,destination=/dev/mqueue"
	t0=$(now)
	$P run --rm --network none $flags --runtime "$1" localhost/latest:latest true >"$W/out" 2>&1 ||
		{ sed 's/^/# /' "$W/out" >&2; echo fail; return; }
	t1=$(now)
	awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }'
}
median() { tr ' ' '\n' | grep . | sort -n | awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }'; }
one crun >/dev/null      # warm: storage, page cache
sb= cr=
for i in $(seq "$RUNS"); do
	cr="$cr $(one crun)"
	sb="$sb $(one sandbox)"
done
echo "# crun runs:$cr"
echo "# sandbox-runtime runs:$sb"
mc=$(echo "$cr" | median) ms=$(echo "$sb" | median)
printf '%-34s %10s\n' "podman run --rm IMG true" "median s"
printf '%-34s %10s\n' "--runtime crun" "$mc"
printf '%-34s %10s\n' "--runtime sandbox-runtime" "$ms"
awk -v c="$mc" -v s="$ms" 'BEGIN { if (s > 0) printf "sandbox/crun %.2fx; of sandbox-runtime'"'"'s run: engine %.0f %%, sandbox %.0f %%\n", s / c, 100 * c / s, 100 * (s - c) / s }'
