#!/bin/sh
# The VMM's per-thread seccomp filters (vmm/jail/seccomp.c) are installed
# while a guest runs: every VMM thread (main, device thread, vCPUs) shows
# "Seccomp: 2" (filter mode) in /proc/PID/task/TID/status; --no-seccomp
# leaves them all at 0; a guest doing real work under the filters still
# ends cleanly. Run where /dev/kvm can boot Linux (natively or in the
# nested test host: tests/kvmhost/run tests/e2e/seccomp.sh).
#   tests/e2e/seccomp.sh [BUILD_DIR]
cd "$(dirname "$0")/../.." || exit 2
. tests/e2e/lib.sh
t_paths "${1:-build}"

# seccomp_modes PID: "TID:MODE ..." for every thread of PID.
seccomp_modes() {
	for s in /proc/"$1"/task/*/status; do
		m=$(sed -n 's/^Seccomp:[[:space:]]*//p' "$s" 2>/dev/null)
		[ -n "$m" ] && printf '%s:%s ' "$(basename "$(dirname "$s")")" "$m"
	done
}

# check NAME DESC WANT CPUS [extra vm options]: boot the sleeping guest in
# the background, poll until the VMM has main + device thread + CPUS vCPU
# threads, all in seccomp mode WANT (the main thread loads its filter
# last), then let the guest end and expect status 0.
check() {
	_n=$1 _d=$2 _want=$3 _cpus=$4; shift 4
	"$SB" vm --kernel "$K" --initrd "$I" --cpus "$_cpus" --timeout 120 \
		--append "sandbox.run=/tests/seccomp-sleep.sh" "$@" \
		>"$T_OUT/$_n.out" 2>"$T_OUT/$_n.err" &
	_pid=$!
	_threads=$((_cpus + 2)) _ok=0 _i=0 _seen=
	while [ $_i -lt 100 ] && kill -0 $_pid 2>/dev/null; do
		_seen=$(seccomp_modes $_pid)
		_nt=0 _nw=0
		for x in $_seen; do
			_nt=$((_nt + 1))
			[ "${x#*:}" = "$_want" ] && _nw=$((_nw + 1))
		done
		if [ $_nt -ge $_threads ] && [ $_nw = $_nt ]; then _ok=1; break; fi
		sleep 0.1
		_i=$((_i + 1))
	done
	wait $_pid
	echo $? >"$T_OUT/$_n.rc"
	if [ $_ok = 1 ]; then
		t_pass "$_d: all $_nt threads in seccomp mode $_want ($_seen)"
	else
		t_fail "$_d: want >= $_threads threads all in seccomp mode $_want, last seen: '$_seen'"
		t_show "$_n"
	fi
	t_expect "$_n" "$_d: the guest still ends cleanly" 0
}

check filtered_1cpu "filters on, 1 vCPU" 2 1
check filtered_2cpu "filters on, 2 vCPUs" 2 2
check unfiltered "--no-seccomp" 0 1 --no-seccomp

# The help documents the debugging flag.
t_run help "$SB" vm --help
t_expect help "--no-seccomp is in the usage" 0 "[-]-no-seccomp"

t_summary
