# Shared helpers for end-to-end tests (POSIX sh: runs under busybox in the
# test host). Source it, call the t_* helpers, end with t_summary.
# t_paths BUILD_DIR: the binaries a VM test uses, from BUILD_DIR where it
# has them (an ASan build has no kernels of its own), else from build/:
# B SB (the VMM) K (guest vmlinux) I (test initramfs) H (vsock-host tool).
t_paths() {
	B=$1
	SB=$B/sandbox
	K=build/guest-vmlinux I=build/test-initramfs.cpio H=build/tools/vsock-host
	[ -e "$B/guest-vmlinux" ] && K=$B/guest-vmlinux
	[ -e "$B/test-initramfs.cpio" ] && I=$B/test-initramfs.cpio
	[ -x "$B/tools/vsock-host" ] && H=$B/tools/vsock-host
}

# t_sandbox_setup BUILD_DIR NAME: the setting of a `sandbox run` suite: B,
# ISO (default vm), SB, the images in $B/test-images, and a state directory
# of its own (ST) whose sandboxes are all removed at exit, with the
# directories a suite names in T_EXTRA_DIRS.
t_sandbox_setup() {
	B=${1:-build}
	ISO=${ISO:-vm}
	SB=$B/sandbox
	export SANDBOX_IMAGE_DIR=$PWD/$B/test-images
	ST=${TMPDIR:-/tmp}/sandbox-$2.$$
	export SANDBOX_STATE_DIR=$ST
	rm -rf "$ST"
	trap t_sandbox_cleanup EXIT
}
t_sandbox_cleanup() {
	for _d in "$ST"/*/; do
		[ -f "$_d/state" ] || continue
		"$SB" rm -f "$(basename "$_d")" >/dev/null 2>&1
	done
	rm -rf "$ST" ${T_EXTRA_DIRS:-}
}
# wait_for SECONDS CMD...: until CMD succeeds (0) or the time is up (1)
wait_for() {
	_w=$(($1 * 10)); shift
	while [ $_w -gt 0 ]; do
		"$@" >/dev/null 2>&1 && return 0
		sleep 0.1; _w=$((_w - 1))
	done
	return 1
}

T_PASS=0
T_FAIL=0
T_SKIP=0
T_OUT=${TMPDIR:-/tmp}/sandbox-e2e.$$
mkdir -p "$T_OUT"

t_pass() { T_PASS=$((T_PASS + 1)); echo "ok - $1"; }
t_fail() { T_FAIL=$((T_FAIL + 1)); echo "FAIL - $1"; shift; for l in "$@"; do echo "    $l"; done; }
t_skip() { T_SKIP=$((T_SKIP + 1)); echo "skip - $1: $2"; }

# t_run NAME CMD...: run CMD, keep stdout/stderr/status in $T_OUT/NAME.*
t_run() {
	_n=$1; shift
	"$@" >"$T_OUT/$_n.out" 2>"$T_OUT/$_n.err"
	echo $? >"$T_OUT/$_n.rc"
}
t_rc() { cat "$T_OUT/$1.rc"; }
t_show() {
	echo "    status: $(t_rc "$1")"
	echo "    --- stdout (tail)"; tail -n 8 "$T_OUT/$1.out" | sed 's/^/    /'
	echo "    --- stderr (tail)"; tail -n 8 "$T_OUT/$1.err" | sed 's/^/    /'
}

# t_expect NAME DESC RC [stdout-regex] [stderr-regex]
t_expect() {
	_n=$1 _d=$2 _rc=$3 _o=${4:-} _e=${5:-}
	_ok=1
	[ "$(t_rc "$_n")" = "$_rc" ] || _ok=0
	if [ -n "$_o" ] && ! grep -Eq "$_o" "$T_OUT/$_n.out"; then _ok=0; fi
	if [ -n "$_e" ] && ! grep -Eq "$_e" "$T_OUT/$_n.err"; then _ok=0; fi
	if [ $_ok = 1 ]; then
		t_pass "$_d"
	else
		t_fail "$_d (want status $_rc, stdout /$_o/, stderr /$_e/)"
		t_show "$_n"
	fi
}

# A VMM error must be one line on stderr, starting with "sandbox: ".
t_one_line_error() {
	_n=$1 _d=$2 _re=$3
	_lines=$(wc -l <"$T_OUT/$_n.err")
	if [ "$(t_rc "$_n")" = 125 ] && [ "$_lines" -eq 1 ] && grep -Eq "^sandbox: .*$_re" "$T_OUT/$_n.err"; then
		t_pass "$_d"
	else
		t_fail "$_d (want status 125 and one stderr line matching /$_re/)"
		t_show "$_n"
	fi
}

# Field from the --timings line: t_timing NAME key
t_timing() { sed -n "s/.*sandbox-timings:.* $2=\([^ ]*\).*/\1/p" "$T_OUT/$1.err" | head -n 1; }

t_summary() {
	rm -rf "$T_OUT"
	echo "${T_PASS} passed, ${T_FAIL} failed, ${T_SKIP} skipped"
	[ "$T_FAIL" = 0 ]
}
