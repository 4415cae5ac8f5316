#!/usr/bin/python3
"""A minimal CRI client (Debian has no crictl): runp.py SOCK HANDLER PBDIR

Asks containerd's CRI plugin on SOCK for its version, then runs a pod
sandbox (host network) with the runtime handler HANDLER, as kubelet does
for a pod whose RuntimeClass names it; stops and removes it again. PBDIR
holds cri_min_pb2*.py compiled from tests/cri/cri_min.proto. Prints
"pod ID" and "removed", or "runp error CODE DETAILS" and exits 1."""
import sys

sock, handler, pbdir = sys.argv[1], sys.argv[2], sys.argv[3]
sys.path.insert(0, pbdir)
import grpc  # noqa: E402
import cri_min_pb2 as pb  # noqa: E402
import cri_min_pb2_grpc as rpc  # noqa: E402

rt = rpc.RuntimeServiceStub(grpc.insecure_channel("unix://" + sock))
v = rt.Version(pb.VersionRequest(version="v1"), timeout=60)
print("version", v.runtime_name, v.runtime_version, v.runtime_api_version)
cfg = pb.PodSandboxConfig(
    metadata=pb.PodSandboxMetadata(name="sbpod", uid="sbpod-uid", namespace="default", attempt=0),
    hostname="sbpod", log_directory="/tmp",
    linux=pb.LinuxPodSandboxConfig(security_context=pb.LinuxSandboxSecurityContext(
        namespace_options=pb.NamespaceOption(network=pb.NODE, pid=pb.CONTAINER, ipc=pb.POD))))
try:
    r = rt.RunPodSandbox(pb.RunPodSandboxRequest(config=cfg, runtime_handler=handler), timeout=300)
except grpc.RpcError as e:
    print("runp error", e.code(), e.details())
    sys.exit(1)
print("pod", r.pod_sandbox_id)
sys.stdout.flush()
rt.StopPodSandbox(pb.PodSandboxIdRequest(pod_sandbox_id=r.pod_sandbox_id), timeout=120)
rt.RemovePodSandbox(pb.PodSandboxIdRequest(pod_sandbox_id=r.pod_sandbox_id), timeout=120)
print("removed")
