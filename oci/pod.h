/* sandbox-runtime: pods, one VM per pod (docs/kubernetes.md).
 *
 * podref.c (pure, unit-tested): what a config says of the container's
 * place in a pod, and the spec its guest side runs from.
 * pod.c: the pod's shared directory on the host, finding a pod's
 * sandbox, its members, and a member's stand-in process. */
#ifndef SANDBOX_OCI_POD_H
#define SANDBOX_OCI_POD_H

#include <stdbool.h>
#include <sys/types.h>

#include "oci.h"
#include "ostate.h"
#include "spec.h"

/* CRI's annotations (containerd's and CRI-O's names). */
#define CRI_CONTAINER_TYPE "io.kubernetes.cri.container-type"
#define CRI_SANDBOX_ID "io.kubernetes.cri.sandbox-id"
#define CRIO_CONTAINER_TYPE "io.kubernetes.cri-o.ContainerType"
#define CRIO_SANDBOX_ID "io.kubernetes.cri-o.SandboxID"

enum oci_pod_role {
	OCI_POD_NONE,           /* a container of its own VM (which others may join) */
	OCI_POD_SANDBOX,        /* a pod's sandbox (pause) container: the same, by CRI's word */
	OCI_POD_MEMBER,         /* a container in another's VM */
};

struct oci_pod_ref {
	enum oci_pod_role role;
	const char *sandbox_id;         /* MEMBER: the CRI sandbox's id, NULL if not given */
	pid_t ns_pid;                   /* MEMBER: the PID in its namespace paths, 0 if none */
	bool share_pid;                 /* MEMBER: its PID namespace is the pod's (by path) */
};

/* podref.c: the role C gives the container: containerd's CRI container
 * type ("sandbox", or "container" with the sandbox's id), CRI-O's type
 * "sandbox", or namespace paths /proc/PID/ns/{ipc,uts,pid} naming another
 * container (all the same PID; CRI-O's type "container" without them is
 * a container of its own). 0, or -1 with E filled (one line naming the
 * field). */
int oci_pod_role_of(const struct oci_config *c, struct oci_pod_ref *r, struct err *e);
/* podref.c: PATH as /proc/PID/ns/TYPE: PID, or 0 if it is not of that
 * form. */
pid_t oci_ns_path_pid(const char *path, const char *type);
/* podref.c: the guest's spec of member ID (the process and walls of C),
 * X's strings pointing into C and USER (32 bytes). 0, or -1 with E. */
int oci_member_spec(const struct oci_config *c, const char *id, bool share_pid, struct cspec *x, char *user,
		    struct err *e);
/* podref.c: the host paths C's container binds (its directories' and
 * files' bind mounts, in config order: X's binds, as oci_member_spec
 * lists them), the Ith's source, or NULL past the last. */
const struct oci_mount *oci_member_bind(const struct oci_config *c, unsigned i);

/* pod.c: ROOT/POD/pod, the directory the pod's virtiofsd serves. */
void oci_pod_share(char *buf, size_t len, const char *pod);
/* pod.c: a VM's share, made a mount of its own with shared propagation
 * (so that the members' roots bound into it later reach the running
 * virtiofsd), and its own root ROOT at POD/rootfs in it (read-only if
 * RO). */
int oci_pod_share_create(const char *pod, const char *root, bool ro, struct err *e);
/* pod.c: the share's mounts and directories gone (after its VM). */
void oci_pod_share_remove(const char *pod);
/* pod.c: member ID's root ROOT bound into POD's share (read-only if RO),
 * and out again. */
int oci_pod_root_add(const char *pod, const char *id, const char *root, bool ro, struct err *e);
void oci_pod_root_remove(const char *pod, const char *id);
/* pod.c: member ID's binds of host paths (oci_member_bind of C) bound
 * into POD's share at ID/v<i>, each read-only there too when it is (so
 * the daemon serves it so); undone by oci_pod_root_remove. 0, or -1 with
 * E filled (and none left). */
int oci_pod_binds_add(const char *pod, const char *id, const struct oci_config *c, struct err *e);
/* pod.c: the pod sandbox R names, running and serving a share, into
 * *POD. 0, or -1 with E filled (no such pod, stopped, not a pod's). */
int oci_pod_find(const struct oci_pod_ref *r, struct oci_state *pod, struct err *e);
/* pod.c: the members of POD (their ids into IDS, at most MAX): how many. */
int oci_pod_members(const char *pod, char (*ids)[OCI_ID_MAX + 1], int max);
/* pod.c: the stand-in of member ID (its host process): waits for `start`
 * on GATE (ROOT/ID/start, opened read-write), then runs X in the pod's
 * VM (sandbox POD_SID) with our stdio, and exits with its status. */
void oci_member_standin(const struct cspec *x, bool tty, const char *pod_sid, int gate) __attribute__((noreturn));

#endif
