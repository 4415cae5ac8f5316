#!/usr/bin/env python3
"""Build a built-in image as an OCI image layout directory, deterministically.

    rootfs/mklayout.py [--busybox PATH] [--add SRC:DEST]... OUTDIR

The root: /bin/busybox and a symlink per applet (`busybox --list`), /etc
(passwd, group), /root, /home/sandbox (uid/gid 1000), /tmp (1777), empty
/dev /proc /sys, /usr/bin; then each --add SRC (a file) at DEST, mode kept.
One layer, tar sorted by name, every entry owned by root unless said
otherwise, mtime 0, no user or group names; gzip without a name or time.
Config: Cmd ["sh"], a PATH, WorkingDir "/", linux/amd64. index.json tags
the manifest "latest". The same inputs give the same bytes.

Written to OUTDIR (which must not exist) and nothing else.
"""
import argparse
import gzip
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile

PATH_ENV = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

PASSWD = """root:x:0:0:root:/root:/bin/sh
sandbox:x:1000:1000:sandbox:/home/sandbox:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
"""
GROUP = """root:x:0:
sandbox:x:1000:
nogroup:x:65534:
"""

DIRS = {  # path: (mode, uid, gid)
    "bin": (0o755, 0, 0),
    "dev": (0o755, 0, 0),
    "etc": (0o755, 0, 0),
    "home": (0o755, 0, 0),
    "home/sandbox": (0o755, 1000, 1000),
    "proc": (0o555, 0, 0),
    "root": (0o700, 0, 0),
    "sys": (0o555, 0, 0),
    "tmp": (0o1777, 0, 0),
    "usr": (0o755, 0, 0),
    "usr/bin": (0o755, 0, 0),
    "usr/sbin": (0o755, 0, 0),
}


def die(msg):
    sys.stderr.write("mklayout: %s\n" % msg)
    sys.exit(1)


def info(name, kind, mode, uid=0, gid=0):
    ti = tarfile.TarInfo(name)
    ti.type = kind
    ti.mode = mode
    ti.uid, ti.gid = uid, gid
    ti.uname = ti.gname = ""
    ti.mtime = 0
    return ti


def build_layer(busybox, adds):
    entries = {}  # name -> (TarInfo, bytes or None)
    for d, (mode, uid, gid) in DIRS.items():
        entries[d] = (info(d, tarfile.DIRTYPE, mode, uid, gid), None)

    def add_file(name, data, mode):
        ti = info(name, tarfile.REGTYPE, mode)
        ti.size = len(data)
        entries[name] = (ti, data)

    with open(busybox, "rb") as f:
        add_file("bin/busybox", f.read(), 0o755)
    applets = subprocess.run([busybox, "--list"], check=True, capture_output=True,
                             text=True).stdout.split()
    if not applets:
        die("%s --list printed nothing" % busybox)
    for a in applets:
        if a == "busybox":
            continue
        if "/" in a or a in ("", ".", ".."):
            die("odd applet name %r" % a)
        ti = info("bin/" + a, tarfile.SYMTYPE, 0o777)
        ti.linkname = "busybox"
        entries["bin/" + a] = (ti, None)
    add_file("etc/passwd", PASSWD.encode(), 0o644)
    add_file("etc/group", GROUP.encode(), 0o644)
    for spec in adds:
        src, sep, dest = spec.partition(":")
        dest = dest.strip("/")
        if not sep or not dest or ".." in dest.split("/"):
            die("--add wants SRC:DEST, got %r" % spec)
        if os.path.dirname(dest) not in entries:
            die("--add %s: no directory /%s in the image" % (spec, os.path.dirname(dest)))
        with open(src, "rb") as f:
            add_file(dest, f.read(), os.stat(src).st_mode & 0o7777)

    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.GNU_FORMAT) as tar:
        for name in sorted(entries):
            ti, data = entries[name]
            tar.addfile(ti, io.BytesIO(data) if data is not None else None)
    return buf.getvalue()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--busybox", default="/bin/busybox")
    ap.add_argument("--add", action="append", default=[], metavar="SRC:DEST")
    ap.add_argument("outdir")
    args = ap.parse_args()

    layer = build_layer(args.busybox, args.add)
    gz = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=gz, mtime=0, compresslevel=9) as z:
        z.write(layer)
    layer_gz = gz.getvalue()

    blobs = {}

    def blob(data):
        d = hashlib.sha256(data).hexdigest()
        blobs[d] = data
        return "sha256:" + d

    def dump(obj):
        return json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()

    config = dump({
        "architecture": "amd64",
        "os": "linux",
        "created": "1970-01-01T00:00:00Z",
        "config": {"Cmd": ["sh"], "Env": [PATH_ENV], "WorkingDir": "/"},
        "rootfs": {"type": "layers",
                   "diff_ids": ["sha256:" + hashlib.sha256(layer).hexdigest()]},
        "history": [{"created": "1970-01-01T00:00:00Z",
                     "created_by": "rootfs/mklayout.py"}],
    })
    manifest = dump({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                   "digest": blob(config), "size": len(config)},
        "layers": [{"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip",
                    "digest": blob(layer_gz), "size": len(layer_gz)}],
    })
    index = dump({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.index.v1+json",
        "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json",
                       "digest": blob(manifest), "size": len(manifest),
                       "annotations": {"org.opencontainers.image.ref.name": "latest"},
                       "platform": {"architecture": "amd64", "os": "linux"}}],
    })

    os.makedirs(os.path.join(args.outdir, "blobs", "sha256"))
    for d, data in sorted(blobs.items()):
        with open(os.path.join(args.outdir, "blobs", "sha256", d), "wb") as f:
            f.write(data)
    with open(os.path.join(args.outdir, "oci-layout"), "wb") as f:
        f.write(dump({"imageLayoutVersion": "1.0.0"}))
    with open(os.path.join(args.outdir, "index.json"), "wb") as f:
        f.write(index)


if __name__ == "__main__":
    main()
