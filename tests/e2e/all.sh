#!/bin/sh
# Run the guest end-to-end suites (tests/e2e/*.sh except lib, native,
# prepare and this file; or only the NAMEs given) in one go — inside one
# test-host session when nested — and print the combined "N passed, N
# failed, N skipped". Each suite's time goes on its "-- NAME" line.
#   tests/e2e/all.sh [BUILD_DIR [NAME...]]
cd "$(dirname "$0")/../.." || exit 2
B=${1:-build}
[ $# -gt 0 ] && shift
suites=
if [ $# -gt 0 ]; then
	for n in "$@"; do suites="$suites tests/e2e/$n.sh"; done
else
	suites=$(ls tests/e2e/*.sh)
fi
p=0 f=0 s=0
for t in $suites; do
	case "$(basename "$t")" in lib.sh|native.sh|all.sh|prepare.sh) continue ;; esac
	t0=$(date +%s)
	out=${TMPDIR:-/tmp}/e2e-all.$$
	sh "$t" "$B" >"$out" 2>&1
	echo "-- $(basename "$t") ($(($(date +%s) - t0)) s)"
	cat "$out"
	line=$(grep -E '^[0-9]+ passed, [0-9]+ failed' "$out" | tail -n 1)
	if [ -z "$line" ]; then
		echo "FAIL - $(basename "$t") ended without a summary"
		f=$((f + 1))
	else
		set -- $line
		p=$((p + $1)) f=$((f + $3)) s=$((s + ${5:-0}))
	fi
	rm -f "$out"
done
echo "$p passed, $f failed, $s skipped"
[ "$f" = 0 ]
