#!/bin/bash
# The advice `sandbox check` prints on a host whose KVM cannot boot Linux
# (here: PVM), run exactly as printed, with the user's own image cache:
#   tests/kvmhost/run <build>/sandbox run ...   →  ... = --rm busybox echo hello
# Also: an image import on a host with no usable mkfs is one clear line
# naming the package. Runs on this host (it starts the test host itself).
#   tests/kvmhost/advice.sh [BUILD_DIR]
cd "$(dirname "$0")/../.." || exit 2
. tests/e2e/lib.sh
B=${1:-build}
unset SANDBOX_IMAGE_DIR SANDBOX_STATE_DIR

# 1. No mkfs.erofs and busybox's mke2fs (as in a bare test host): one line.
bb=$T_OUT/bbpath
mkdir -p "$bb"
for a in mke2fs sh cat ls rm mkdir; do ln -sf /bin/busybox "$bb/$a"; done
t_run mkfs env SANDBOX_IMAGE_DIR="$T_OUT/cache" PATH="$bb" "$B/sandbox-image" runconf busybox
t_expect mkfs "no mkfs.erofs, busybox's mke2fs: one line naming erofs-utils, 125" 125 '' \
	"busybox's mke2fs.*install erofs-utils"
[ "$(wc -l <"$T_OUT/mkfs.err")" = 1 ] && t_pass "that error is one line" || t_fail "that error is one line" "$(cat "$T_OUT/mkfs.err")"

# 2. The advice, verbatim.
advice=$("$B/sandbox" check 2>&1 | grep -o 'tests/kvmhost/run [^ ]*/sandbox run \.\.\.')
if [ -z "$advice" ]; then
	if "$B/sandbox" kvm-check >/dev/null; then
		t_skip "the test-host advice" "this host's KVM boots Linux natively: sandbox check gives no such advice"
	else
		t_fail "sandbox check names tests/kvmhost/run ... as the fix" "$("$B/sandbox" check 2>&1 | tail -n 5)"
	fi
	t_summary; exit
fi
t_pass "sandbox check advises: $advice"
cmd=${advice%...}
# (a) busybox already imported on this host, as a user would have: the
# test host gets a copy of that cache.
"$B/sandbox-image" runconf busybox >/dev/null || t_fail "import busybox into the default cache on this host"
t_run advice_cache $cmd --rm busybox echo hello </dev/null
t_expect advice_cache "$cmd--rm busybox echo hello (this host's image cache): hello, 0" 0 '^hello$'
# (b) nothing cached: the image is imported inside the test host.
t_run advice_nocache env KVMHOST_IMAGE_CACHE=none $cmd --rm busybox echo hello </dev/null
t_expect advice_nocache "the same with no cache copied in (imported inside): hello, 0" 0 '^hello$'
t_summary
