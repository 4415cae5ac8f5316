#!/bin/sh
# Run every guest end-to-end suite (tests/e2e/*.sh except lib, native, prepare and
# this file) in one go — inside one test-host session when nested — and
# print the combined "N passed, N failed, N skipped".
#   tests/e2e/all.sh [BUILD_DIR]
cd "$(dirname "$0")/../.." || exit 2
B=${1:-build}
p=0 f=0 s=0
for t in tests/e2e/*.sh; do
	case "$(basename "$t")" in lib.sh|native.sh|all.sh|prepare.sh) continue ;; esac
	echo "-- $(basename "$t")"
	out=${TMPDIR:-/tmp}/e2e-all.$$
	sh "$t" "$B" >"$out" 2>&1
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
