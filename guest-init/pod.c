/* Pods: several containers in one VM (sandbox-runtime under Kubernetes'
 * CRI, docs/kubernetes.md), as Kata runs them.
 *
 * The VM's root share (virtio-fs) is the pod's directory on the host;
 * each container's root is NAME/rootfs in it, bind-mounted there by the
 * host before the container starts. PID 1 mounts the share at POD_SHARE
 * and the first container's root from it (agent.c). Each further
 * container (a member) arrives as an exec connection whose spec has the
 * action CSPEC_ACT_CONTAINER:
 *
 *   session (PID 1's child) → join the first container's network, IPC
 *   and UTS namespaces (and PID, if asked) → the runtime (container_run,
 *   as the first container's) clones a new mount (and PID) namespace and
 *   pivots into POD_SHARE/NAME/rootfs → relay its stdio and status.
 *
 * The session records the member's runtime and spec in POD_MEMBERS, so
 * that an exec naming the member (its spec's pod_member, no action)
 * joins that container, with its walls as defaults. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/openat2.h>

#include "container.h"
#include "relay.h"

#define POD_SHARE "/run/pod"
#define POD_MEMBERS "/run/pod-members"

int pod_mount_share(const char *tag, struct err *err)
{
	if (mkdir(POD_SHARE, 0755) && errno != EEXIST)
		return err_errno(err, errno, "mkdir %s", POD_SHARE);
	if (mount(tag, POD_SHARE, "virtiofs", MS_NODEV, NULL))
		return err_errno(err, errno, "mount the pod's directory (virtio-fs %s)", tag);
	return 0;
}

/* An O_PATH fd of POD_SHARE/MEMBER/rootfs, no symlink followed. */
static int member_root_fd(const char *member, struct err *err)
{
	char rel[CSPEC_MAX_MEMBER + 16];
	if (!cspec_member_ok(member))
		return err_errno(err, EINVAL, "pod member name");
	snprintf(rel, sizeof(rel), "%s/rootfs", member);
	SB_AUTOCLOSE int share = open(POD_SHARE, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (share < 0)
		return err_errno(err, errno, "open %s", POD_SHARE);
	struct open_how how = { .flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
				.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS };
	int fd = (int)syscall(SYS_openat2, share, rel, &how, sizeof(how));
	if (fd < 0)
		return err_errno(err, errno, "the root of %s is not in the pod's directory", member);
	return fd;
}

int pod_bind_root(const char *member, const char *at, struct err *err)
{
	SB_AUTOCLOSE int fd = member_root_fd(member, err);
	if (fd < 0)
		return -1;
	char src[64];
	snprintf(src, sizeof(src), "/proc/self/fd/%d", fd);
	if (mount(src, at, NULL, MS_BIND, NULL))
		return err_errno(err, errno, "bind the root of %s", member);
	return 0;
}

/* POD_MEMBERS/NAME.pid and NAME.spec. */
static void member_path(char *buf, size_t len, const char *member, const char *ext)
{
	snprintf(buf, len, POD_MEMBERS "/%s.%s", member, ext);
}

pid_t pod_member_runtime(const char *member, void *spec_buf, size_t cap, size_t *spec_len)
{
	char path[256], line[32];
	if (!cspec_member_ok(member))
		return 0;
	member_path(path, sizeof(path), member, "pid");
	SB_AUTOCLOSE int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t n = read(fd, line, sizeof(line) - 1);
	if (n <= 0)
		return 0;
	line[n] = '\0';
	long pid = strtol(line, NULL, 10);
	if (pid <= 1 || kill((pid_t)pid, 0))
		return 0;
	member_path(path, sizeof(path), member, "spec");
	SB_AUTOCLOSE int sfd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	ssize_t k = sfd >= 0 ? read(sfd, spec_buf, cap) : -1;
	if (k <= 0)
		return 0;
	*spec_len = (size_t)k;
	return (pid_t)pid;
}

static int member_record(const char *member, pid_t runtime, const void *spec, size_t len, struct err *err)
{
	char path[256];
	if (mkdir(POD_MEMBERS, 0700) && errno != EEXIST)
		return err_errno(err, errno, "mkdir %s", POD_MEMBERS);
	member_path(path, sizeof(path), member, "spec");
	SB_AUTOCLOSE int sfd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (sfd < 0 || write(sfd, spec, len) != (ssize_t)len)
		return err_errno(err, errno, "record %s", path);
	member_path(path, sizeof(path), member, "pid");
	SB_AUTOCLOSE int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0 || dprintf(fd, "%d\n", (int)runtime) < 0)
		return err_errno(err, errno, "record %s", path);
	return 0;
}

static void member_forget(const char *member)
{
	char path[256];
	member_path(path, sizeof(path), member, "pid");
	unlink(path);
	member_path(path, sizeof(path), member, "spec");
	unlink(path);
}

/* The first container's namespaces a member shares, joined. */
static int join_pod(pid_t init, bool share_pid, struct err *err)
{
	static const struct { const char *name; int type; } ns[] = {
		{ "ipc", CLONE_NEWIPC }, { "uts", CLONE_NEWUTS }, { "net", CLONE_NEWNET }, { "pid", CLONE_NEWPID },
	};
	int fds[4] = { -1, -1, -1, -1 };
	size_t n = share_pid ? 4 : 3;
	int r = 0;
	for (size_t i = 0; i < n && !r; i++) {
		char path[64];
		snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)init, ns[i].name);
		fds[i] = open(path, O_RDONLY | O_CLOEXEC);
		if (fds[i] < 0)
			r = err_errno(err, errno, "open %s", path);
	}
	for (size_t i = 0; i < n && !r; i++)
		if (setns(fds[i], ns[i].type))
			r = err_errno(err, errno, "join the pod's %s namespace", ns[i].name);
	for (size_t i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	return r;
}


void pod_member_session(struct relay *r, const struct cspec *x, const void *enc, size_t len, pid_t pod_runtime)
{
	static struct sb_spec spec;
	static char root[sizeof(POD_SHARE) + CSPEC_MAX_MEMBER + 16];
	static uint8_t other[CSPEC_MAX_SIZE];
	struct err err = { 0 };
	size_t olen;
	pid_t init = exec_container_init(pod_runtime);
	if (!init) {
		err_errno(&err, 0, "the pod's first container is not running");
		goto fail;
	}
	if (pod_member_runtime(x->pod_member, other, sizeof(other), &olen)) {
		err_errno(&err, 0, "pod member %s already runs", x->pod_member);
		goto fail;
	}
	int fd = member_root_fd(x->pod_member, &err);
	if (fd < 0)
		goto fail;
	close(fd);
	snprintf(root, sizeof(root), POD_SHARE "/%s/rootfs", x->pod_member);
	spec_from_cspec(&spec, x, root);
	spec.pod_member = true;
	spec.share_pid = x->pod_share_pid;
	spec.network = SB_NET_SHARE;    /* the pod's, joined below */
	spec.hostname = NULL;           /* the pod's UTS namespace keeps its name */
	if (join_pod(init, x->pod_share_pid, &err) < 0)
		goto fail;

	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);
	r->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (r->sigfd < 0) {
		err_errno(&err, errno, "signalfd");
		goto fail;
	}
	if (relay_spawn(r, x->tty, x->stdin_open, x->rows, x->cols, container_runtime, &spec, &err) < 0)
		goto fail;
	if (member_record(x->pod_member, r->child, enc, len, &err) < 0)
		fprintf(stderr, "sandbox-init: %s: no exec into %s\n", err.msg, x->pod_member);
	sb_tx_put(&r->tx, SB_F_STARTED, NULL, 0);
	int status = relay_run(r);
	member_forget(x->pod_member);
	_exit(status);

fail:
	relay_fail(r, err.msg, err.status ? err.status : 125);
	_exit(125);
}
