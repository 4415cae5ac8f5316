#!/usr/bin/python3
"""A minimal CRI client (Debian has no crictl):
    runp.py SOCK HANDLER PBDIR LOGDIR IMAGE SANDBOXDIR VOLDIR

As kubelet does for a pod whose RuntimeClass names HANDLER, asks
containerd's CRI plugin on SOCK for a pod sandbox (host network, host name
"sbpod", logs in LOGDIR), then two containers of IMAGE in it:
  app1 prints its host name and kernel boot id, VOLDIR/f (mounted at /vol),
       writes /vol/g, tries /volro (VOLDIR again, readonly), prints its
       /etc/hostname and the first line of /etc/resolv.conf, leaves a file
       in /dev/shm and exits 3 (its status and log are read back through
       CRI);
  app2 sleeps; an ExecSync in it prints the same two and the /dev/shm
       file (exec_shm); then it is stopped.
While both exist it prints how many sandbox VMs SANDBOXDIR (sandbox-
runtime's sandbox state) holds; and how long RunPodSandbox took and
app1 from CreateContainer to its exit seen, and CreateContainer plus
StartContainer of app2 (time_*_ms). Then it removes the containers, stops and
removes the pod. PBDIR holds cri_min_pb2*.py compiled from
tests/cri/cri_min.proto. Prints "key value" lines (tests/e2e/oci.sh
checks them) and "removed", or "runp error WHERE CODE DETAILS" and exits 1."""
import os
import sys
import time

sock, handler, pbdir, logdir, image, sbdir, voldir = sys.argv[1:8]
sys.path.insert(0, pbdir)
import grpc  # noqa: E402
import cri_min_pb2 as pb  # noqa: E402
import cri_min_pb2_grpc as rpc  # noqa: E402

rt = rpc.RuntimeServiceStub(grpc.insecure_channel("unix://" + sock))


def call(where, fn, req, timeout=120):
    try:
        return fn(req, timeout=timeout)
    except grpc.RpcError as e:
        print("runp error", where, e.code(), e.details().replace("\n", " "))
        sys.stdout.flush()
        sys.exit(1)


def out(key, value):
    print(key, value)
    sys.stdout.flush()


v = call("version", rt.Version, pb.VersionRequest(version="v1"), 60)
out("version", "%s %s %s" % (v.runtime_name, v.runtime_version, v.runtime_api_version))
ns = pb.NamespaceOption(network=pb.NODE, pid=pb.CONTAINER, ipc=pb.POD)
cfg = pb.PodSandboxConfig(
    metadata=pb.PodSandboxMetadata(name="sbpod", uid="sbpod-uid", namespace="default", attempt=0),
    hostname="sbpod", log_directory=logdir,
    linux=pb.LinuxPodSandboxConfig(security_context=pb.LinuxSandboxSecurityContext(namespace_options=ns)))
t0 = time.monotonic()
pod = call("RunPodSandbox", rt.RunPodSandbox, pb.RunPodSandboxRequest(config=cfg, runtime_handler=handler), 300)
out("time_pod_ms", int((time.monotonic() - t0) * 1000))
pid = pod.pod_sandbox_id
out("pod", pid)


def container(name, cmd, mounts=()):
    c = pb.ContainerConfig(
        metadata=pb.ContainerMetadata(name=name), image=pb.ImageSpec(image=image), command=cmd,
        log_path=name + ".log", mounts=mounts,
        linux=pb.LinuxContainerConfig(security_context=pb.LinuxContainerSecurityContext(namespace_options=ns)))
    r = call("CreateContainer " + name, rt.CreateContainer,
             pb.CreateContainerRequest(pod_sandbox_id=pid, config=c, sandbox_config=cfg))
    call("StartContainer " + name, rt.StartContainer, pb.ContainerIdRequest(container_id=r.container_id), 300)
    return r.container_id


def status(cid):
    return call("ContainerStatus", rt.ContainerStatus, pb.ContainerIdRequest(container_id=cid)).status


probe = "echo host $(hostname); echo boot $(cat /proc/sys/kernel/random/boot_id)"
t0 = time.monotonic()
vols = ("echo vol $(cat /vol/f); echo from-app1 >/vol/g; (echo x >/volro/x) 2>/dev/null || echo volro refused; "
        "echo hostname $(cat /etc/hostname); echo resolv $(head -n 1 /etc/resolv.conf); echo shm-ok >/dev/shm/sbshm")
mounts = [pb.Mount(container_path="/vol", host_path=voldir),
          pb.Mount(container_path="/volro", host_path=voldir, readonly=True)]
app1 = container("app1", ["sh", "-c", probe + "; " + vols + "; echo app-ok; exit 3"], mounts)
for _ in range(2400):
    s = status(app1)
    if s.state == pb.CONTAINER_EXITED:
        break
    time.sleep(0.05)
out("time_app1_ms", int((time.monotonic() - t0) * 1000))
out("app1_state", pb.ContainerState.Name(s.state))
out("app1_exit", s.exit_code)
# the CRI log: "TIME STREAM P|F TEXT" lines
try:
    with open(os.path.join(logdir, "app1.log")) as f:
        for line in f:
            parts = line.rstrip("\n").split(" ", 3)
            if len(parts) == 4:
                out("app1_" + parts[1], parts[3])
except OSError as e:
    out("app1_log_error", e)

t0 = time.monotonic()
app2 = container("app2", ["sleep", "100000"])
out("time_app2_ms", int((time.monotonic() - t0) * 1000))
out("app2_state", pb.ContainerState.Name(status(app2).state))
out("sandboxes", len([d for d in os.listdir(sbdir) if not d.startswith(".") and os.path.isdir(os.path.join(sbdir, d))]))
x = call("ExecSync", rt.ExecSync,
         pb.ExecSyncRequest(container_id=app2, cmd=["sh", "-c", probe + "; echo shm $(cat /dev/shm/sbshm)"], timeout=60),
         120)
for line in x.stdout.decode().splitlines():
    out("exec_" + line.split(" ", 1)[0], line.split(" ", 1)[-1])
out("exec_exit", x.exit_code)
call("StopContainer", rt.StopContainer, pb.StopContainerRequest(container_id=app2, timeout=2))
out("app2_stopped", pb.ContainerState.Name(status(app2).state))
for cid in (app1, app2):
    call("RemoveContainer", rt.RemoveContainer, pb.ContainerIdRequest(container_id=cid))
call("StopPodSandbox", rt.StopPodSandbox, pb.PodSandboxIdRequest(pod_sandbox_id=pid))
call("RemovePodSandbox", rt.RemovePodSandbox, pb.PodSandboxIdRequest(pod_sandbox_id=pid))
out("removed", pid)
