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
	/* the pod's /dev/shm: its containers share one IPC namespace, and
	 * CRI binds the sandbox's shm into each of them */
	if ((mkdir(POD_SHM, 0755) && errno != EEXIST) ||
	    mount("shm", POD_SHM, "tmpfs", SHM_FLAGS, SHM_OPTS))
		return err_errno(err, errno, "mount the pod's /dev/shm at %s", POD_SHM);
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

/* PATH (absolute) beneath ROOT as the container will see it: each
 * component resolved with RESOLVE_IN_ROOT (a symlink leads where it would
 * after pivot_root, ".." stops at the top, never out), a missing directory
 * made in its resolved parent (mkdirat of a plain name: nothing followed);
 * the last one a directory, or (FILE) a file, made empty if missing. A
 * dangling symlink on the way (Ubuntu's /etc/resolv.conf ->
 * ../run/systemd/resolve/stub-resolv.conf) is followed by hand: the path
 * again with its target in its place, at most 8 times, as runc makes a
 * mount point through one. An O_PATH fd to mount on. */
static int bind_target(int root, const char *path, bool file, struct err *err)
{
	char buf[CSPEC_MAX_PATH + 1], next[CSPEC_MAX_PATH + 1], link[CSPEC_MAX_PATH + 1];
	snprintf(buf, sizeof(buf), "%s", path);
	int dir = -1, hops = 0;
	for (size_t i = 0, n = strlen(buf); i < n;) {
		while (buf[i] == '/')
			i++;
		size_t end = i;
		while (end < n && buf[end] != '/')
			end++;
		if (end == i)
			break;
		bool last = buf[end + strspn(buf + end, "/")] == '\0';
		char save = buf[end];
		buf[end] = '\0';
		struct open_how how = { .flags = O_PATH | O_CLOEXEC | (last && file ? 0 : O_DIRECTORY),
					.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS };
		int fd = (int)syscall(SYS_openat2, root, buf, &how, sizeof(how));
		if (fd < 0 && errno == ENOENT) {
			if (last && file) {
				struct open_how c = { .flags = O_WRONLY | O_CREAT | O_CLOEXEC, .mode = 0644,
						      .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS };
				fd = (int)syscall(SYS_openat2, root, buf, &c, sizeof(c));
			} else if (!mkdirat(dir >= 0 ? dir : root, buf + i, 0755) || errno == EEXIST) {
				fd = (int)syscall(SYS_openat2, root, buf, &how, sizeof(how));
			}
		}
		int e = errno;
		ssize_t k = fd < 0 && e == ENOENT ? readlinkat(dir >= 0 ? dir : root, buf + i, link, sizeof(link) - 1) : -1;
		if (k > 0 && hops < 8) {
			/* a dangling symlink: its target (from its directory,
			 * or from the top) with the rest of the path after it */
			link[k] = '\0';
			buf[i] = '\0';
			buf[end] = save;
			if ((size_t)snprintf(next, sizeof(next), "%s/%s%s", link[0] == '/' ? "" : buf, link, buf + end) >=
			    sizeof(next)) {
				if (dir >= 0)
					close(dir);
				return err_errno(err, ENAMETOOLONG, "bind at %s", path);
			}
			memcpy(buf, next, sizeof(buf));
			n = strlen(buf);
			i = 0;
			hops++;
			if (dir >= 0)
				close(dir);
			dir = -1;
			continue;
		}
		if (dir >= 0)
			close(dir);
		if (fd < 0)
			return err_errno(err, e, "bind at %s: %s", path, buf);
		dir = fd;
		buf[end] = save;
		i = end;
	}
	if (dir < 0)
		return err_errno(err, EINVAL, "bind at %s", path);
	return dir;
}

/* The I-th bind's source, POD_SHARE/MEMBER/v<I>, no symlink followed. */
static int bind_source(const char *member, unsigned i, bool file, struct err *err)
{
	char rel[CSPEC_MAX_MEMBER + 16];
	snprintf(rel, sizeof(rel), "%s/v%u", member, i);
	SB_AUTOCLOSE int share = open(POD_SHARE, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (share < 0)
		return err_errno(err, errno, "open %s", POD_SHARE);
	struct open_how how = { .flags = O_PATH | O_CLOEXEC,
				.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS };
	int fd = (int)syscall(SYS_openat2, share, rel, &how, sizeof(how));
	struct stat st;
	if (fd < 0 || fstat(fd, &st)) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		return err_errno(err, e, "%s/%s: not in the pod's directory", POD_SHARE, rel);
	}
	if (file ? !S_ISREG(st.st_mode) : !S_ISDIR(st.st_mode)) {
		close(fd);
		return err_errno(err, file ? EISDIR : ENOTDIR, "%s/%s: not a %s", POD_SHARE, rel,
				 file ? "file" : "directory");
	}
	return fd;
}

static int bind_one(int root, const char *member, unsigned i, const struct cspec_bind *b, struct err *err)
{
	SB_AUTOCLOSE int src = bind_source(member, i, b->file, err);
	if (src < 0)
		return -1;
	SB_AUTOCLOSE int dst = bind_target(root, b->path, b->file, err);
	if (dst < 0)
		return -1;
	char from[32], to[32];
	snprintf(from, sizeof(from), "/proc/self/fd/%d", src);
	snprintf(to, sizeof(to), "/proc/self/fd/%d", dst);
	if (mount(from, to, NULL, MS_BIND | MS_REC, NULL))
		return err_errno(err, errno, "bind a host path at %s", b->path);
	if (!b->ro)
		return 0;
	/* the remount must name the new mount: the path again, which now
	 * crosses into it (DST is the directory beneath) */
	struct open_how how = { .flags = O_PATH | O_CLOEXEC, .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS };
	SB_AUTOCLOSE int top = (int)syscall(SYS_openat2, root, b->path, &how, sizeof(how));
	if (top < 0)
		return err_errno(err, errno, "bind at %s: reopen", b->path);
	snprintf(to, sizeof(to), "/proc/self/fd/%d", top);
	if (mount(NULL, to, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, NULL))
		return err_errno(err, errno, "bind at %s: read-only", b->path);
	return 0;
}

int pod_bind_paths(const struct sb_spec *spec, const char *root, struct err *err)
{
	SB_AUTOCLOSE int r = open(root, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (r < 0)
		return err_errno(err, errno, "open %s", root);
	for (unsigned i = 0; i < spec->nbinds; i++)
		if (bind_one(r, spec->bind_member, i, &spec->binds[i], err) < 0)
			return -1;
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
	spec.bind_member = x->pod_member;
	spec.binds = x->binds;
	spec.nbinds = x->nbinds;
	spec.shm = POD_SHM;
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
