/* The container runtime shared by the guest's PID 1 and the host-side mode
 * (`guest-init --host ROOTFS ... -- CMD`). One spec describes the container;
 * container_run() sets it up in crun's order and returns its exit status.
 *
 * Errors follow the project's convention (common/err.h): a function that
 * can fail takes a struct err *, returns <0 and fills it (err_errno());
 * callers add context with err_wrap(); only the top level prints. */
#ifndef SB_CONTAINER_H
#define SB_CONTAINER_H

#include <net/if.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <unistd.h>

#include "../common/err.h"
#include "../common/spec.h"

static inline void sb_closep(int *fd)
{
	if (*fd >= 0)
		close(*fd);
}
#define SB_AUTOCLOSE __attribute__((cleanup(sb_closep)))

struct sb_rlimit {
	int resource;
	struct rlimit lim;
};

enum sb_network { SB_NET_NONE, SB_NET_SHARE };

struct sb_spec {
	const char *rootfs;             /* directory; NULL in the VM before the overlay hook */
	char *args[CSPEC_MAX_ARGS + 1]; /* the limits: common/spec.h */
	char *env[CSPEC_MAX_ENV + 1];
	int nargs, nenv;
	const char *cwd;                /* default "/" */
	const char *user;               /* "uid[:gid]" or a name from the rootfs; NULL = root */
	const char *hostname;           /* NULL = "sandbox" */
	struct sb_rlimit rlimits[CSPEC_MAX_RLIMITS];
	int nrlimits;
	long long memory_max;           /* bytes, 0 = no limit */
	long long pids_max;             /* 0 = no limit */
	long long cpu_quota_us;         /* per 100 ms period, 0 = no limit */
	bool read_only;
	bool init;                      /* a reaper is PID 1, the command PID 2 */
	bool tty;                       /* stdin is a terminal: make it the controlling one */
	bool audit_privileged;          /* sandbox audit --privileged-attacker: all caps, no seccomp */
	/* The container's cgroup, made by PID 1 in the VM (cgroup_container):
	 * the child goes there even without limits (so its OOM kills are
	 * counted) and it stays after the container ends. NULL: the runtime
	 * makes sandbox-PID where a limit needs one, and removes it. */
	const char *cgroup_dir;
	enum sb_network network;
	/* An OCI config's walls (common/spec.h): capability sets, seccomp
	 * off, masked and read-only paths instead of the defaults. */
	bool caps_given;
	uint64_t cap_bounding, cap_effective;
	bool no_seccomp;
	bool paths_given;
	const char *const *masked, *const *ro_paths;
	unsigned nmasked, nro_paths;
	/* A pod's further container (pod.c): it has joined the first one's
	 * network, IPC and UTS namespaces (and PID with share_pid); only its
	 * mount (and PID) namespace is new, the host name is the pod's. */
	bool pod_member, share_pid;
	/* A pod member's binds of host paths (pod.c): the i-th is
	 * POD_SHARE/bind_member/v<i>, bound at binds[i].path in its root. */
	const char *bind_member;
	const struct cspec_bind *binds;
	unsigned nbinds;
	/* A pod's containers: /dev/shm is this directory of the guest (one
	 * tmpfs for the pod, as its IPC namespace is one), not a tmpfs of
	 * its own. NULL: its own. */
	const char *shm;
};

/* The user the container runs as, resolved inside its rootfs. */
struct sb_ids {
	uid_t uid;
	gid_t gid;
	gid_t groups[64];
	int ngroups;
	char home[256];
};

/* container.c: the whole life cycle; returns the exit status (128+N for
 * death by signal N), or <0 with err filled (err->status says what to
 * report) if the container's command never ran. */
int container_run(const struct sb_spec *spec, struct err *err);
/* The runtime process, as relay_spawn's child (ARG: the struct sb_spec,
 * TTY: its stdio is a terminal): container_run, then _exit with the
 * container's status (125 after one line on stderr if it could not run).
 * PID 1's first container and a pod's member alike. */
void container_runtime(void *arg, bool tty);
/* container.c: the tail every process of the container goes through, in
 * its namespaces and root already: chdir, user, rlimits, capabilities,
 * no_new_privs, seccomp, exec. Returns (<0, ERR filled, err->status
 * 126/127 for exec itself) only if it failed. */
int process_exec(const struct sb_spec *spec, struct err *err);
/* Forward the usual signals to CHILD and wait for it: its status. */
int container_wait(pid_t child);
/* exec.c: `sandbox exec`. In the VM, PID 1 forks exec_session() for each
 * connection to SB_EXEC_PORT (CONN, never returns); RUNTIME is the
 * container's runtime process and CONTAINER its spec (the exec's
 * defaults). On the host, `guest-init --exec RUNTIME_PID --spec-fd N`
 * (exec_host_main) does the same join with its own stdio. */
void exec_session(int conn, const struct sb_spec *container, pid_t runtime);
/* exec.c: a spare session, forked by PID 1 before a snapshot: it joins
 * the container at once and waits for a connection, so that a restored
 * clone's first exec skips PID 1's fork and the join (its dearest
 * steps there). Returns PID 1's end (one byte came: joined), or -1.
 * exec_spare_hand() gives it CONN (0), or fails (-1: it is gone; fork a
 * session as usual). Either way PID 1 then closes its end. */
int exec_spare_start(const struct sb_spec *container, pid_t runtime, struct err *err);
int exec_spare_hand(int spare, int conn);
int exec_host_main(int argc, char **argv);
/* spec.c: the runtime's spec from the one that crossed from the owner
 * (C's strings must outlive SPEC); the host mode's command line,
 * `--host ROOTFS --spec-fd N` (the encoding, from sandbox run) or
 * `--host ROOTFS [options] -- CMD ARGS...` (for humans), into both. */
void spec_from_cspec(struct sb_spec *spec, const struct cspec *c, const char *rootfs);
int spec_parse_host_args(struct cspec *c, const char **rootfs, int argc, char **argv, struct err *err);
int host_main(int argc, char **argv);
/* agent.c: PID 1 in the VM when the host runs a container. */
int agent_main(bool timings);
/* init.c: MSG on stderr and, for an init that fails before the agent
 * channel exists, to the VMM through the event port (common/abi.h). */
void init_last_words(const char *msg);
/* agent.c: interface helpers (IFNAME's flags, addresses) for eth0. */
int if_ioctl(int s, unsigned long req, struct ifreq *ifr, const char *what, struct err *err);
int set_addr(int s, unsigned long req, const char *ifname, in_addr_t a, const char *what, struct err *err);
int link_up(int s, const char *ifname, struct err *err);
/* exec.c: the container's init process (see exec.c), 0 if none. */
pid_t exec_container_init(pid_t runtime);
/* exec.c: one look for it, without waiting, remembered when found (PID 1
 * calls it before a snapshot and before forking a session, so restored
 * clones and sessions skip the walk of /proc); 0 if not set up (yet). */
pid_t exec_container_note(pid_t runtime);
/* restore.c: this VM was restored from a snapshot (a RESTORED frame on
 * PID 1's relay R, whose child is the runtime): reseed the random pool,
 * step the clock, take the new MAC, address and host name. */
struct relay;
struct sb_restored;
void agent_restored(struct relay *r, const struct sb_restored *id);
/* restore.c: a snapshot is about to be taken: open now what a restore of
 * it will use (RUNTIME: the runtime, 0 if it ended). */
void restore_prepare(pid_t runtime);
/* cgroup.c: after the container ended, say on stderr if it was killed for
 * memory (the cgroup's oom_kill count). */
void cgroup_report(const char *path, const struct sb_spec *spec);
/* pod.c: pods, several containers in one VM. The share (virtio-fs TAG)
 * at /run/pod; MEMBER's root (/run/pod/MEMBER/rootfs, no symlink
 * followed) bound at AT. 0, or -1 with ERR filled. */
int pod_mount_share(const char *tag, struct err *err);
int pod_bind_root(const char *member, const char *at, struct err *err);
/* pod.c: the pod's /dev/shm (a tmpfs pod_mount_share mounted), for every
 * container of the pod. */
#define POD_SHM "/run/pod-shm"
/* A /dev/shm tmpfs, a container's own (rootfs.c) or a pod's (pod.c). */
#define SHM_FLAGS (MS_NOSUID | MS_NODEV | MS_NOEXEC)
#define SHM_OPTS "mode=1777,size=65536k"
/* pod.c: SPEC's binds of host paths (a pod member's), each bound at its
 * path beneath ROOT (the container's root, before pivot_root), resolved
 * as the container will see it: symlinks followed inside ROOT only, the
 * missing directories (and a file's mount point) made. 0, or -1 with
 * ERR filled. */
int pod_bind_paths(const struct sb_spec *spec, const char *root, struct err *err);
/* pod.c: an exec connection's CSPEC_ACT_CONTAINER (X, encoded as ENC of
 * LEN bytes): run the member beside the first container (whose runtime
 * is POD_RUNTIME) and relay it on R. Never returns. */
struct relay;
void pod_member_session(struct relay *r, const struct cspec *x, const void *enc, size_t len, pid_t pod_runtime);
/* pod.c: a running member's runtime process, its spec (encoded) into
 * SPEC_BUF; 0 if MEMBER does not run. */
pid_t pod_member_runtime(const char *member, void *spec_buf, size_t cap, size_t *spec_len);
/* ns.c */
int ns_clone_flags(const struct sb_spec *spec);
int ns_setup_uts_net(const struct sb_spec *spec, struct err *err);
/* Bring up "lo" in the calling process's network namespace. */
int ns_loopback_up(struct err *err);
/* rootfs.c: everything from "make / private" to the read-only root. */
int rootfs_setup(const struct sb_spec *spec, struct err *err);
/* cgroup.c: called by the runtime for the child before it unshares its
 * cgroup namespace; prints what it could not apply. */
int cgroup_setup(const struct sb_spec *spec, pid_t child, char *path, size_t pathlen, struct err *err);
void cgroup_cleanup(const struct sb_spec *spec, const char *path);
/* cgroup.c: PID 1 in the VM, before the runtime: the container's group
 * ("container" under the cgroup2 root) with the memory controller (the
 * runtime adds pids and cpu where limits need them), its path into PATH.
 * 0, or -1 with ERR filled. */
int cgroup_container(char *path, size_t pathlen, struct err *err);
/* The cgroup.procs of PID's cgroup v2 group, opened for writing: an fd,
 * -1 with ERR filled, or -2 when no writable cgroup2 hierarchy exists
 * (no limits were applied to the container either). */
int cgroup_procs_of(pid_t pid, struct err *err);
/* sandbox-runtime update: X's memory, pids and cpu_quota_us (those set)
 * written to the cgroup of PID (the container's init), checked first:
 * memory within this VM's RAM, cpu within its CPUs. 0, or -1 with ERR
 * filled (one line). */
struct cspec;
int cgroup_update(pid_t pid, const struct cspec *x, struct err *err);
/* user.c */
int user_resolve(const char *user, struct sb_ids *ids, struct err *err);
int user_switch(const struct sb_ids *ids, struct err *err);
/* caps.c */
int caps_drop_bounding(const struct sb_spec *spec, struct err *err);
int caps_apply(const struct sb_spec *spec, struct err *err);
/* seccomp_profile.c: the default profile, loaded last before exec. */
int seccomp_apply_default(struct err *err);

#endif
