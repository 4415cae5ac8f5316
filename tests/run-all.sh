#!/bin/bash
# The test command's engine (`make test`): unit tests, native host checks,
# then the end-to-end boot tests on a real KVM: natively where this host's
# KVM can boot Linux, else inside the nested test host (tests/kvmhost/run).
# Ends with one line: "N passed, N failed, N skipped".
#   tests/run-all.sh [--unit-only] [BUILD_DIR]
set -u
cd "$(dirname "$0")/.." || exit 2
unit_only=0
[ "${1:-}" = --unit-only ] && { unit_only=1; shift; }
B=${1:-build}
pass=0 fail=0 skip=0

add_counts() { # parse "N passed, N failed, N skipped" from the last such line of $1
	local line
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$1" | tail -n 1)
	if [ -z "$line" ]; then
		echo "!! $2 produced no summary line"; fail=$((fail + 1)); return
	fi
	set -- $line
	pass=$((pass + $1)); fail=$((fail + $3)); skip=$((skip + ${5:-0}))
}

# The project paths the test host can do without when testing build dir $1:
# every other build tree, and the objects and staging trees of these. The
# trees of make check-asan and make fuzz-smoke are named even before they
# exist: one may be made while this run goes on.
kvmhost_excludes() {
	local d out="build/obj build/test-root build/initramfs-root"
	for d in $(printf '%s\n' build-asan build-fuzz build-*/ | sed 's|/$||' | sort -u); do
		[ "$d" = 'build-*' ] && continue    # no other tree: the pattern itself
		if [ "$d" = "$1" ]; then out="$out $d/obj $d/test-root $d/initramfs-root"; else out="$out $d"; fi
	done
	echo "$out"
}

echo "== unit tests ($B)"
for t in "$B"/tests/test_*; do
	[ -x "$t" ] || continue
	out=$(mktemp)
	"$t" >"$out" 2>&1
	rc=$?
	p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$out" | tail -n 1)
	f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$out" | tail -n 1)
	s=$(sed -n 's/^\[  SKIPPED \] \([0-9]*\) test.*/\1/p' "$out" | tail -n 1)
	p=${p:-0} f=${f:-0} s=${s:-0}
	if [ $rc != 0 ] && [ "$f" = 0 ]; then f=1; fi   # crashed (e.g. a sanitizer abort)
	[ "$f" != 0 ] && cat "$out"
	echo "$(basename "$t"): $p passed, $f failed, $s skipped"
	pass=$((pass + p)); fail=$((fail + f)); skip=$((skip + s))
	rm -f "$out"
done

# one_or_two N: N as a count of test hosts: 1 or 2 (each is one emulated
# CPU and 3 GiB).
one_or_two() {
	local n=$1
	[ "$n" -ge 1 ] 2>/dev/null || n=1
	[ "$n" -gt 2 ] && n=2
	echo "$n"
}
SLOTS=$(one_or_two "${KVMHOST_SLOTS:-$(nproc)}")

# kvmhost_slot CMD...: CMD (which starts a test host) once it holds one of
# the machine's SLOTS test-host slots (KVMHOST_SLOTS, default the CPUs),
# shared by every run of this script on the machine: `make test` and
# `make check-asan` side by side (as CI runs them) keep two test hosts
# busy, not four that each get half a CPU and see their guests' timeouts
# pass twice as fast.
kvmhost_slot() {
	local dir=${TMPDIR:-/tmp}/sandbox-kvmhost-slots i rc t0=$SECONDS ts
	mkdir -p "$dir"
	for (( ; ; )); do
		for ((i = 0; i < SLOTS; i++)); do
			# -o: the lock stays with flock, not with what CMD leaves running
			ts=$SECONDS
			flock -n -o -E 253 "$dir/$i" "$@"
			rc=$?
			if [ "$rc" != 253 ]; then
				[ $((ts - t0)) -gt 0 ] && echo "   (waited $((ts - t0)) s for a test-host slot)"
				return "$rc"
			fi
		done
		sleep 1
	done
}

# suite NAME TITLE CMD...: one suite, its output shown, its summary line
# counted, and the time it took.
suite() {
	local name=$1 title=$2 t0=$SECONDS
	shift 2
	echo "== $title"
	"$@" | tee "$log"
	add_counts "$log" "$name"
	echo "   ($name: $((SECONDS - t0)) s)"
}

if [ $unit_only = 0 ]; then
	log=$(mktemp)
	# Every test host of this run (the e2e sessions, and the suites that
	# start one themselves) leaves out the other build trees: what another
	# build writes meanwhile is not ours to copy in.
	export KVMHOST_EXCLUDE="$(kvmhost_excludes "$B") ${KVMHOST_EXCLUDE:-}"
	suite native.sh "native host checks" tests/e2e/native.sh "$B"
	suite container "container setup, host mode (the plain-container baseline)" tests/container/run.sh "$B"
	suite image "image import (host side)" tests/image/run.sh "$B"
	suite debootstrap "a Debian root filesystem (debootstrap, cached in ~/.cache/sandbox): import and sandbox run" env SANDBOX_IMAGE_DIR=${XDG_CACHE_HOME:-$HOME/.cache}/sandbox/images-debootstrap tests/image/debootstrap.sh "$B"
	tests/e2e/prepare.sh "$B" || fail=$((fail + 1))
	suite run-container "sandbox run --isolation container (natively)" env ISO=container tests/e2e/run.sh "$B"
	suite escape-container "escape attempts, --isolation container (natively)" env ISO=container tests/security/escape.sh "$B"
	suite audit-native "sandbox audit: container, runc, crun, runsc side by side (natively)" tests/security/audit.sh "$B"
	suite state "the state directory: squatted roots, forged state, symlinks, StopSignal (natively)" tests/security/state.sh "$B"
	suite lifecycle-container "sandbox ps/kill/stop/logs/rm/inspect/check, --isolation container (natively)" tests/container/lifecycle.sh "$B"
	suite exec-container "sandbox exec, --isolation container (natively)" tests/container/exec.sh "$B"
	suite storage-container "sandbox run --storage, --isolation container (natively)" tests/container/storage.sh "$B"
	suite cp-container "sandbox cp, --isolation container (natively)" tests/container/cp.sh "$B"
	suite volumes-fs-container "sandbox run -v DIR (a bind mount), --isolation container (natively)" tests/container/volumes-fs.sh "$B"
	suite api "sandbox serve: the API over its socket and TCP, logs, --ttl, --isolation container (natively)" tests/api/api.sh "$B"
	suite journald "--log-driver journald to a real systemd-journald (natively, in a mount namespace of its own)" tests/api/journald.sh "$B"
	suite limits "guards against sprawl: host limits, ps (old), prune (natively)" tests/api/limits.sh "$B"
	suite prometheus "/metrics scraped by Debian's prometheus (natively)" tests/api/prometheus.sh "$B"
	suite dashboard "the dashboard in headless chromium (natively; screenshots in $B/test-artifacts/dashboard)" tests/api/dashboard.sh "$B"
	t0=$SECONDS
	if check=$("$B/sandbox" kvm-check); then
		echo "== end-to-end tests, natively ($check)"
		tests/e2e/all.sh "$B" | tee "$log"
	else
		echo "== end-to-end tests in the nested KVM test host"
		echo "   (this host cannot boot Linux guests natively: ${check#*: })" | cut -c1-160
		# Only the build tree under test (and build/, whose kernels an
		# ASan build uses) goes into the test host, without objects
		# (KVMHOST_EXCLUDE, above).
		# Several sessions, each with its own time bound, rather than one
		# long one (the whole set under ASan is longer than any bound that
		# still catches a hang early). Suites not named here go in a last
		# session of their own, so a new suite is never left out.
		groups=( "boot blk net vsock seccomp jail" "run lifecycle escape" "exec cp" "storage volumes-fs" "snapshot pmem" "oci" )
		# podman with conmon, containerd with ctr and the runc shim, and
		# their configuration (tests/e2e/oci.sh): those installed.
		oci_extra=
		for f in /usr/bin/podman /usr/bin/conmon /etc/containers /usr/bin/containerd /usr/bin/ctr \
			 /usr/bin/containerd-shim-runc-v2 /usr/sbin/ip \
			 /usr/lib/cni/bridge /usr/lib/cni/host-local /usr/lib/cni/portmap /usr/lib/cni/firewall \
			 /usr/lib/cni/tuning /usr/lib/cni/loopback /usr/sbin/iptables /usr/sbin/ip6tables /usr/sbin/iptables-save \
			 /usr/lib/x86_64-linux-gnu/xtables \
			 /usr/bin/python3 /usr/lib/python3.11 /usr/lib/python3/dist-packages/grpc \
			 /usr/lib/python3/dist-packages/grpc_tools /usr/lib/python3/dist-packages/google \
			 /usr/lib/python3/dist-packages/pkg_resources \
			 /usr/lib/python3/dist-packages/grpc/_cython/cygrpc.cpython-311-x86_64-linux-gnu.so \
			 /usr/lib/python3/dist-packages/grpc_tools/_protoc_compiler.cpython-311-x86_64-linux-gnu.so \
			 /usr/lib/python3/dist-packages/google/protobuf/pyext/_message.cpython-311-x86_64-linux-gnu.so; do
			[ -e "$f" ] && oci_extra="$oci_extra $f"
		done
		named=" ${groups[*]} " rest=
		for t in tests/e2e/*.sh; do
			n=$(basename "$t" .sh)
			case " lib native all prepare $named " in *" $n "*) ;; *) rest="$rest $n" ;; esac
		done
		[ -n "$rest" ] && groups+=( "$rest" )
		# Sessions run KVMHOST_PARALLEL at a time (default: as many as
		# there are slots), each into a log of its own, printed in order
		# as they finish.
		par=$(one_or_two "${KVMHOST_PARALLEL:-$SLOTS}")
		: >"$log.all"
		session() { # session INDEX GROUP: one test-host session, retried once
			local i=$1 g=$2 out="$log.s$1" rc attempt t0=$SECONDS
			: >"$out"
			# pmem.sh runs python from the Debian image made above
			# (debootstrap.sh): that image cache goes into its test host.
			case " $g " in *" pmem "*)
				local deb=${XDG_CACHE_HOME:-$HOME/.cache}/sandbox/images-debootstrap
				[ -d "$deb" ] && export KVMHOST_IMAGE_CACHE=$deb ;;
			esac
			for attempt in 1 2; do
				# The oci suite runs the real engines: they come in too.
				local extra=${KVMHOST_EXTRA:-} tmo=${KVMHOST_TIMEOUT:-900}
				# (and take longer: podman, ctr and CRI, a VM per container)
				[ "$g" = oci ] && extra="$extra $oci_extra" tmo=${KVMHOST_TIMEOUT:-1800}
				KVMHOST_EXTRA="$extra" KVMHOST_TIMEOUT=$tmo \
					kvmhost_slot tests/kvmhost/run tests/e2e/all.sh "$B" $g >"$out.run" 2>&1
				rc=$?
				cat "$out.run" >>"$out"
				# The test host is an emulated machine: if it itself dies
				# or hangs (status 125 or 124: all.sh's own are 0 and 1),
				# say so and give it one more try. The suites that finished
				# before print their summaries, so a partial log has summary
				# lines too: the status decides. (A hang of the whole test
				# host, QEMU idle and nothing in it running, has been seen a
				# few times under TCG.)
				[ "$rc" -ge 124 ] || break
				echo "!! the test host itself failed (status $rc) on attempt $attempt" >>"$out"
			done
			if [ "$rc" -ge 124 ]; then
				echo "!! the end-to-end session ($g) did not finish twice: one failure" >>"$out"
				echo "0 passed, 1 failed, 0 skipped" >"$out.run"
			fi
			echo "   (session $g: $((SECONDS - t0)) s)" >>"$out"
			grep -E '^[0-9]+ passed, [0-9]+ failed' "$out.run" | tail -n 1 >"$out.sum"
			rm -f "$out.run"
		}
		pids=()
		for i in "${!groups[@]}"; do
			while [ "$(jobs -rp | wc -l)" -ge "$par" ]; do wait -n; done
			session "$i" "${groups[$i]}" &
			pids[$i]=$!
		done
		for i in "${!groups[@]}"; do
			wait "${pids[$i]}"
			echo "-- session: ${groups[$i]}"
			cat "$log.s$i"
			if [ -s "$log.s$i.sum" ]; then cat "$log.s$i.sum" >>"$log.all"
			else echo "0 passed, 1 failed, 0 skipped" >>"$log.all"; fi
			rm -f "$log.s$i" "$log.s$i.sum"
		done
		# One line for the whole: the sums of the sessions' lines.
		awk '{ p += $1; f += $3; s += $5 } END { printf "%d passed, %d failed, %d skipped\n", p, f, s }' \
			"$log.all" >"$log"
		rm -f "$log.all"
		echo "   end-to-end, all sessions: $(cat "$log")"
	fi
	add_counts "$log" e2e
	echo "   (e2e: $((SECONDS - t0)) s)"
	suite advice "the test-host advice of sandbox check, run as printed (this host's image cache)" \
		kvmhost_slot tests/kvmhost/advice.sh "$B"
	rm -f "$log"
fi
echo "${pass} passed, ${fail} failed, ${skip} skipped"
[ "$fail" = 0 ]
