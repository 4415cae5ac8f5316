#!/bin/sh
# Regenerate the results of docs/security.md (between its "audit:begin"
# and "audit:end" markers) from `sandbox audit --format markdown`: the vm
# column where a Linux guest boots (natively, else in the test host), the
# other isolations natively. Nothing in that section is edited by hand.
#   tests/security/audit-doc.sh [BUILD_DIR]
#   KVMHOST_RUN="/work/kvmhost-slot tests/kvmhost/run": how to reach the test host
cd "$(dirname "$0")/../.." || exit 2
B=${1:-build}
export SANDBOX_IMAGE_DIR=$PWD/$B/test-images
tests/e2e/prepare.sh "$B" || exit 1
t=$(mktemp -d) || exit 1
trap 'rm -rf "$t"' EXIT
# the vm column twice in one session: as it is, then --privileged-attacker
vm="$B/sandbox audit --isolation vm --format markdown; echo '<!-- split -->'; $B/sandbox audit --privileged-attacker --isolation vm --format markdown"
if "$B/sandbox" kvm-check >/dev/null 2>&1; then
	sh -c "$vm" >"$t/vm.md"
else
	${KVMHOST_RUN:-tests/kvmhost/run} sh -c "$vm" >"$t/vm.md"
fi
echo "vm: status $?" >&2
"$B/sandbox" audit --isolation container,runc,crun,runsc --format markdown --output "$t/native.md"
echo "native: status $?" >&2
"$B/sandbox" audit --privileged-attacker --isolation container --format markdown --output "$t/native-priv.md"
echo "native, privileged: status $?" >&2
for f in vm native native-priv; do
	grep -q '^| attack |' "$t/$f.md" || { echo "audit-doc: no table in $f" >&2; exit 1; }
done
python3 - "$t/vm.md" "$t/native.md" "$t/native-priv.md" docs/security.md <<'PY'
import sys
vm, native, npriv, doc = (open(p).read() for p in sys.argv[1:5])
vm, vpriv = vm.split("<!-- split -->")
b, e = "<!-- audit:begin -->", "<!-- audit:end -->"
i, j = doc.index(b) + len(b), doc.index(e)
body = ("\n\n### VM isolation (in the nested test host)\n\n" + vm.strip() +
        "\n\n### Containers on this host's kernel (natively)\n\n" + native.strip() +
        "\n\n### `--privileged-attacker`: every capability, no seccomp (VM in the test host)\n\n" + vpriv.strip() +
        "\n\n### `--privileged-attacker` against `container` (natively)\n\n" + npriv.strip() + "\n\n")
open(sys.argv[4], "w").write(doc[:i] + body + doc[j:])
PY
