#!/usr/bin/python3
"""pauseimg.py SRC DST [--ref=NAME] CMD...: a copy of the OCI layout SRC (one image) in
DST whose config runs CMD: a pod sandbox's long-running "pause" image made
from the busybox image the tree builds (no registry, no pause image in
Debian). Only the config, the manifest and the index change."""
import hashlib
import json
import os
import shutil
import sys

src, dst, cmd = sys.argv[1], sys.argv[2], sys.argv[3:]
ref = None
if cmd and cmd[0].startswith("--ref="):
    ref, cmd = cmd[0][6:], cmd[1:]
shutil.copytree(src, dst)
blobs = os.path.join(dst, "blobs", "sha256")


def read(digest):
    with open(os.path.join(blobs, digest.split(":", 1)[1]), "rb") as f:
        return f.read()


def write(data):
    d = hashlib.sha256(data).hexdigest()
    with open(os.path.join(blobs, d), "wb") as f:
        f.write(data)
    return "sha256:" + d, len(data)


with open(os.path.join(dst, "index.json")) as f:
    index = json.load(f)
desc = index["manifests"][0]
manifest = json.loads(read(desc["digest"]))
config = json.loads(read(manifest["config"]["digest"]))
config.setdefault("config", {})["Cmd"] = cmd
config["config"].pop("Entrypoint", None)
manifest["config"]["digest"], manifest["config"]["size"] = write(json.dumps(config).encode())
desc["digest"], desc["size"] = write(json.dumps(manifest).encode())
if ref:
    desc.setdefault("annotations", {})["org.opencontainers.image.ref.name"] = ref
with open(os.path.join(dst, "index.json"), "w") as f:
    json.dump(index, f)
