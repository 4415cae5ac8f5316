#!/bin/bash
# Build a kernel from Debian's linux-source package with one of our config
# fragments, caching the result outside the clone.
#
#   kernel-config/build.sh FLAVOUR OUTDIR     FLAVOUR is guest or testhost
#
# The cache key covers the source package version, the fragment and this
# script, so a rebuild with nothing changed only copies files. Set
# SANDBOX_CACHE to move the cache (default ~/.cache/sandbox).
set -euo pipefail

flavour=${1:?usage: build.sh guest|testhost OUTDIR}
outdir=${2:?usage: build.sh guest|testhost OUTDIR}
here=$(cd "$(dirname "$0")" && pwd)
fragment=$here/$flavour.config
[ -f "$fragment" ] || { echo "build.sh: no fragment $fragment" >&2; exit 2; }

tarball=${LINUX_SRC_TARBALL:-$(ls /usr/src/linux-source-6.12.tar.xz /usr/src/linux-source-6.1.tar.xz 2>/dev/null | head -1 || true)}
[ -n "$tarball" ] && [ -f "$tarball" ] || {
    echo "build.sh: no kernel source: install Debian's linux-source-6.12 (apt-get install linux-source-6.12)" >&2
    exit 2
}
pkg=$(basename "$tarball" .tar.xz)
srcver=$(dpkg-query -W -f='${Version}' "$pkg" 2>/dev/null || stat -c '%s-%Y' "$tarball")

cache=${SANDBOX_CACHE:-$HOME/.cache/sandbox}
mkdir -p "$cache"
# Kconfig does not accept trailing comments: strip them, and spell =n the
# way .config does.
clean=$(sed -e 's/#.*//' -e 's/[[:space:]]*$//' -e '/^$/d' "$fragment" |
        sed -E 's/^(CONFIG_[A-Za-z0-9_]+)=n$/# \1 is not set/')
key=$( { echo "$pkg $srcver $flavour"; echo "$clean"; cat "$0"; } | sha256sum | cut -c1-16)
done_dir=$cache/kernel/$flavour-$key

install_outputs() {
    mkdir -p "$outdir"
    for f in vmlinux bzImage config System.map; do
        cp -f "$done_dir/$f" "$outdir/$flavour-$f.tmp" && mv -f "$outdir/$flavour-$f.tmp" "$outdir/$flavour-$f"
    done
}

exec 9>"$cache/kernel.lock"
flock 9
if [ -f "$done_dir/vmlinux" ]; then
    echo "kernel $flavour: cached ($pkg $srcver, key $key)"
    install_outputs
    exit 0
fi

src=$cache/src/$pkg-$srcver
if [ ! -f "$src/.extracted" ]; then
    echo "kernel: extracting $tarball"
    rm -rf "$src" && mkdir -p "$src"
    tar -xf "$tarball" -C "$src" --strip-components=1
    touch "$src/.extracted"
fi

obj=$cache/obj/$flavour-$key
rm -rf "$obj" && mkdir -p "$obj"
echo "$clean" > "$obj/fragment.config"
echo "kernel $flavour: building ($pkg $srcver, key $key) in $obj"
kmake() { make -C "$src" O="$obj" ARCH=x86_64 "$@"; }
kmake -s tinyconfig
(cd "$obj" && "$src/scripts/kconfig/merge_config.sh" -m -O "$obj" "$obj/.config" "$obj/fragment.config" >/dev/null)
kmake -s olddefconfig

# Every option we asked for must have survived Kconfig's dependency rules.
bad=0
while read -r line; do
    if [[ $line =~ ^#\ (CONFIG_[A-Za-z0-9_]+)\ is\ not\ set$ ]]; then
        opt=${BASH_REMATCH[1]}
        if grep -q "^$opt=" "$obj/.config"; then echo "build.sh: $opt is set but the fragment wants it off" >&2; bad=1; fi
    elif ! grep -qxF "$line" "$obj/.config"; then
        echo "build.sh: $line did not survive Kconfig (got: $(grep "^${line%%=*}=" "$obj/.config" || echo unset))" >&2
        bad=1
    fi
done <<< "$clean"
[ $bad = 0 ] || exit 1

kmake -s -j"$(nproc)" vmlinux bzImage
tmp=$done_dir.tmp.$$
rm -rf "$tmp" && mkdir -p "$tmp"
strip -o "$tmp/vmlinux" "$obj/vmlinux"
cp "$obj/arch/x86/boot/bzImage" "$tmp/bzImage"
cp "$obj/System.map" "$tmp/System.map"   # to symbolize a hung guest's RIP
cp "$obj/.config" "$tmp/config"
rm -rf "$done_dir" && mv "$tmp" "$done_dir"
rm -rf "$obj"
echo "kernel $flavour: built"
install_outputs
