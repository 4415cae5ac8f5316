/* `sandbox run`: host directories as volumes (-v DIR:/PATH[:ro]).
 *
 * In the VM each directory is a virtio-fs device served by one virtiofsd
 * (Debian's, from qemu-system-common) that the owner starts before the
 * VMM and stops when the sandbox ends. The daemon is confined:
 *  - a mount namespace of its own, made here before exec, in which DIR
 *    is a plain (not recursive) bind of itself, nosuid and nodev, and
 *    read-only for :ro: the daemon sees no mount beneath DIR and cannot
 *    write a read-only volume whatever the guest asks (it has no
 *    CAP_SYS_ADMIN to remount: virtiofsd drops it); sandbox-runtime's
 *    root is a pod's share instead (oci/pod.c), a recursive bind in a
 *    namespace that is the host's slave: the roots the runtime binds
 *    beneath it (read-only as asked) and unmounts reach the daemon;
 *  - its own sandbox, -o sandbox=namespace: new mount, PID and network
 *    namespaces, pivot_root into DIR (the only host tree it can reach
 *    then), its seccomp allowlist and a reduced capability set;
 *  - an unprivileged uid where the export permits: DIR owned by a user
 *    who can reach it gets a daemon running as that user, the root of a
 *    user namespace of its own that maps nothing else (fs_ids_of);
 *    a root-owned DIR keeps a root daemon (its files keep their owners);
 *  - its vhost-user socket in the sandbox's socket directory
 *    (ROOT/<id>/sock), made and listened on here and handed over (--fd):
 *    the VMM connects to it before its jail, the daemon needs no access
 *    to the state directory.
 *
 * On a host whose root is an initramfs (the nested test host) pivot_root
 * is refused; there the daemon's namespace first gets a recursive bind of
 * / moved over / and chroots into it (switch_root's way), so its root is a
 * mount with a parent, as pivot_root wants.
 *
 * --isolation container binds DIR (plain bind, nosuid, nodev, read-only
 * for :ro) beneath the container's root instead (run_host.c). */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/magic.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "jail/jail.h"
#include "run_impl.h"
#include "state.h"

bool volume_is_dir(const char *vol)
{
	char src[PATH_MAX];
	const char *colon = strchr(vol, ':');
	struct stat st;
	snprintf(src, sizeof(src), "%.*s", colon ? (int)(colon - vol) : (int)strlen(vol), vol);
	return stat(src, &st) == 0 && S_ISDIR(st.st_mode);
}

const char *virtiofsd_path(void)
{
	const char *p = getenv("SANDBOX_VIRTIOFSD");   /* tests, other installs */
	return p && *p ? p : VIRTIOFSD_DEFAULT;
}

/* Who the daemon runs as. The export's owner when that is not root and
 * it can reach DIR (every directory above it searchable to it: virtiofsd
 * opens DIR by its path): in a user namespace of its own whose root (uid
 * and gid 0, the ids virtiofsd's file server works as) is that owner on
 * the host, with DIR's group (nogroup when that is root's). Its
 * capabilities are then the namespace's: they act on files of that owner
 * and group alone, never on root's or anyone else's. Otherwise the daemon
 * is root (the guest's files keep their owners). */
#define FS_NOGROUP 65534
struct fs_ids {
	bool unpriv;
	uid_t uid;
	gid_t gid;
};

static bool searchable(const struct stat *st, uid_t uid, gid_t gid)
{
	if (st->st_uid == uid)
		return st->st_mode & S_IXUSR;
	if (st->st_gid == gid)
		return st->st_mode & S_IXGRP;
	return st->st_mode & S_IXOTH;
}

/* DIR: absolute, resolved (realpath). */
static int fs_ids_of(const char *dir, struct fs_ids *ids, struct err *e)
{
	struct stat st;
	if (stat(dir, &st))
		return err_sys(e, "%s", dir);
	ids->uid = st.st_uid;
	ids->gid = st.st_gid ? st.st_gid : FS_NOGROUP;
	ids->unpriv = st.st_uid != 0;
	char up[PATH_MAX];
	snprintf(up, sizeof(up), "%s", dir);
	for (char *slash = strrchr(up, '/'); ids->unpriv && slash; slash = strrchr(up, '/')) {
		slash[slash == up] = '\0';   /* the parent; "/" last */
		if (stat(up, &st))
			return err_sys(e, "%s", up);
		ids->unpriv = searchable(&st, ids->uid, ids->gid);
		if (slash == up)
			break;
	}
	return 0;
}

/* The child's report to the owner (its pipe is close-on-exec: end of file
 * without a report means virtiofsd was exec'd): 'u' once it is in its
 * user namespace (the owner then writes its maps and answers on the other
 * pipe), or 'E' and the reason it gives up. */
static void child_fail(int rep, const char *what, int errnum)
{
	char msg[400];
	int n = snprintf(msg, sizeof(msg), "E%s: %s", what, strerror(errnum));
	if (n >= (int)sizeof(msg))
		n = (int)sizeof(msg) - 1;
	if (n > 0 && write(rep, msg, (size_t)n) < 0) {
		/* the owner is gone */
	}
	_exit(127);
}

/* The daemon's mount namespace: DIR a plain bind of itself, nosuid,
 * nodev, read-only for :ro. A pod's share (POD, sandbox-runtime's
 * oci/pod.c: a mount with shared propagation on the host) is a recursive
 * bind instead, in a namespace that is the host's slave: the members'
 * roots the runtime binds into it later, and unmounts, reach the daemon. */
static void child_mounts(const char *dir, bool ro, bool pod, int rep)
{
	if (unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_REC | (pod ? MS_SLAVE : MS_PRIVATE), NULL))
		child_fail(rep, "mount namespace", errno);
	struct statfs sf;
	if (statfs("/", &sf) == 0 && (sf.f_type == RAMFS_MAGIC || sf.f_type == TMPFS_MAGIC)) {
		/* An initramfs root: give pivot_root a root with a parent, as
		 * switch_root does: a recursive bind of / (on DIR, a mount
		 * point that exists: the copy is made before it is attached),
		 * moved over / and chrooted into. Lookups of "/" itself do
		 * not cross a mount stacked on it, hence the detour. (The
		 * chroot is into the mount stacked on the namespace's root,
		 * so a user namespace is still allowed.) */
		if (mount("/", dir, NULL, MS_BIND | MS_REC, NULL) || chdir(dir) || mount(".", "/", NULL, MS_MOVE, NULL) ||
		    chroot(".") || chdir("/"))
			child_fail(rep, "re-rooting", errno);
	}
	unsigned long fl = MS_BIND | MS_REMOUNT | MS_NOSUID | MS_NODEV | (ro ? MS_RDONLY : 0);
	if (mount(dir, dir, NULL, MS_BIND | (pod ? MS_REC : 0), NULL) || mount(NULL, dir, NULL, fl, NULL))
		child_fail(rep, "binding the directory", errno);
}

/* An unprivileged daemon's user namespace: made here, mapped by the owner
 * (who has CAP_SETUID and CAP_SETGID where it matters, the parent
 * namespace), entered as its root with no supplementary groups. The mount
 * namespace stays the host root's: virtiofsd's own (a child of it) gets
 * its mounts locked, DIR's read-only flag among them. */
static void child_userns(int rep, int go)
{
	struct rlimit rl;   /* virtiofsd raises its descriptor limit; unprivileged it cannot */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (unshare(CLONE_NEWUSER))
		child_fail(rep, "user namespace", errno);
	char c;
	if (write(rep, "u", 1) != 1 || read(go, &c, 1) != 1 || c != 'g')
		_exit(127);   /* the owner said why */
	pid_t owner = getppid();
	if (setgroups(0, NULL) || setresgid(0, 0, 0) || setresuid(0, 0, 0))
		child_fail(rep, "becoming the namespace's root", errno);
	/* A change of ids clears the parent-death signal: again, and the
	 * owner may have gone meanwhile. */
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) || getppid() != owner)
		_exit(127);
}

/* In the daemon's child: its namespaces, then exec. Does not return. */
static void daemon_child(const char *dir, bool ro, bool pod, const struct fs_ids *ids, int lfd, int rep, int go)
{
	child_mounts(dir, ro, pod, rep);
	if (ids->unpriv)
		child_userns(rep, go);
	char fdarg[32], srcarg[PATH_MAX + 16];
	snprintf(fdarg, sizeof(fdarg), "--fd=%d", lfd);
	snprintf(srcarg, sizeof(srcarg), "source=%s", dir);
	const char *bin = virtiofsd_path();
	execl(bin, "virtiofsd", fdarg, "-o", srcarg, "-o", "sandbox=namespace", "-o", "cache=auto", (char *)NULL);
	child_fail(rep, bin, errno);
}

/* The listening socket the daemon is handed (--fd): made here, by the
 * owner, in the sandbox's socket directory, whoever the daemon runs as. */
static int listen_socket(const char *path, struct err *e)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(a.sun_path))
		return err_set(e, "virtiofsd socket %s: longer than %zu bytes (use a shorter SANDBOX_STATE_DIR)", path,
			       sizeof(a.sun_path) - 1);
	memcpy(a.sun_path, path, strlen(path) + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return err_sys(e, "virtiofsd socket");
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, 1)) {
		err_sys(e, "virtiofsd socket %s", path);
		close(fd);
		return -1;
	}
	return fd;
}

/* "0 ID 1": the namespace's 0 is ID on the host, nothing else is mapped. */
static int write_ids_map(pid_t pid, const char *file, unsigned id, struct err *e)
{
	char path[64], line[32];
	snprintf(path, sizeof(path), "/proc/%d/%s", (int)pid, file);
	int n = snprintf(line, sizeof(line), "0 %u 1\n", id);
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return err_sys(e, "virtiofsd: %s", path);
	if (write(fd, line, (size_t)n) != n) {
		err_sys(e, "virtiofsd: %s", path);
		close(fd);
		return -1;
	}
	close(fd);
	return 0;
}

/* The owner's side of the child's start: the user namespace's maps when
 * it asks, then its report (none: virtiofsd runs). */
static int child_started(pid_t pid, const struct fs_ids *ids, int rep, int go, struct err *e)
{
	char buf[400];
	size_t got = 0;
	for (;;) {
		ssize_t n = read(rep, buf + got, sizeof(buf) - 1 - got);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		got += (size_t)n;
		if (got == 1 && buf[0] == 'u') {
			if (write_ids_map(pid, "uid_map", ids->uid, e) || write_ids_map(pid, "gid_map", ids->gid, e))
				return -1;
			if (write(go, "g", 1) != 1)
				return err_sys(e, "virtiofsd: starting it");
			got = 0;
		}
		if (got == sizeof(buf) - 1)
			break;
	}
	if (got == 0)
		return 0;
	buf[got] = '\0';
	return err_set(e, "virtiofsd: %s", buf[0] == 'E' ? buf + 1 : "bad report");
}

/* One daemon for D (its dir, ro, tag and sock filled): its socket, then
 * the child, which is running virtiofsd when this returns 0. */
static int daemon_start(const char *id, struct fs_daemon *d, struct err *e)
{
	struct fs_ids ids = { 0 };
	if (fs_ids_of(d->dir, &ids, e))
		return -1;
	char logname[40];
	snprintf(logname, sizeof(logname), "virtiofsd-%s.log", d->tag);
	int log = state_open(id, logname, O_WRONLY | O_CREAT | O_TRUNC, 0600, e);
	if (log < 0)
		return -1;
	int lfd = listen_socket(d->sock, e);
	int rep[2] = { -1, -1 }, go[2] = { -1, -1 };
	if (lfd < 0 || pipe2(rep, O_CLOEXEC) || pipe2(go, O_CLOEXEC)) {
		if (lfd >= 0)
			err_sys(e, "pipe");
		goto fail;
	}
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		err_sys(e, "fork virtiofsd");
		goto fail;
	}
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		sigset_t all;
		sigemptyset(&all);
		sigprocmask(SIG_SETMASK, &all, NULL);
		close(rep[0]);
		close(go[1]);
		int nul = open("/dev/null", O_RDONLY);
		if (nul >= 0)
			dup2(nul, 0);
		dup2(log, 1);
		dup2(log, 2);
		if (fcntl(lfd, F_SETFD, 0))   /* the daemon's to keep */
			child_fail(rep[1], "socket", errno);
		daemon_child(d->dir, d->ro, d->pod, &ids, lfd, rep[1], go[0]);
	}
	d->pid = pid;
	close(rep[1]);
	close(go[0]);
	rep[1] = go[0] = -1;
	int r = child_started(pid, &ids, rep[0], go[1], e);
	close(rep[0]);
	close(go[1]);
	close(lfd);
	close(log);
	return r;
fail:
	for (int i = 0; i < 2; i++) {
		if (rep[i] >= 0)
			close(rep[i]);
		if (go[i] >= 0)
			close(go[i]);
	}
	if (lfd >= 0)
		close(lfd);
	close(log);
	return -1;
}

/* One daemon for directory SRC (WHAT names it in errors: "-v ARG" or "the
 * root"), for volume VOL (-1: sandbox-runtime's root directory). */
static int fs_daemon_add(const char *what, const char *src, bool ro, bool pod, int vol, const char *id,
			 struct fs_daemons *fd, struct err *e)
{
	if (geteuid() != 0)
		return err_set(e, "%s: a host directory in the VM needs root (virtiofsd)", what);
	if (access(virtiofsd_path(), X_OK))
		return err_set(e, "%s: %s: %s (install qemu-system-common)", what, virtiofsd_path(), strerror(errno));
	if (fd->n == VM_MAX_DISKS)
		return err_set(e, "%s: at most %d host directories", what, VM_MAX_DISKS);
	if (!fd->sock_dir_made) {
		char dir[700];
		state_path(dir, sizeof(dir), id, "sock");
		if (jail_socket_dir(dir, e))
			return -1;
		fd->sock_dir_made = true;
	}
	struct fs_daemon *d = &fd->d[fd->n];
	char name[32];
	if (!realpath(src, d->dir))
		return err_sys(e, "%s: %s", what, src);
	d->vol = vol;
	d->ro = ro;
	d->pod = vol < 0 && pod;
	snprintf(d->tag, sizeof(d->tag), "fs%d", fd->n);
	snprintf(name, sizeof(name), "sock/%s", d->tag);
	state_path(d->sock, sizeof(d->sock), id, name);
	fd->n++;   /* stopped by fs_daemons_stop whatever happens next */
	if (daemon_start(id, d, e))
		return err_wrap(e, "%s", what);
	return 0;
}

int fs_daemons_start(const struct run_opts *o, const char *id, struct fs_daemons *fd, struct err *e)
{
	memset(fd, 0, sizeof(*fd));
	/* sandbox-runtime: the root directory first (fs0) */
	if (o->rootfs && fs_daemon_add(o->pod_member ? "the pod's directory" : "the root", o->rootfs, o->rootfs_ro,
				       o->pod_member != NULL, -1, id, fd, e))
		return -1;
	for (int i = 0; i < o->nvol; i++) {
		if (!volume_is_dir(o->volumes[i]))
			continue;
		const char *colon = strchr(o->volumes[i], ':');
		const char *mode = strchr(colon + 1, ':');
		char what[PATH_MAX + 8], src[PATH_MAX];
		snprintf(what, sizeof(what), "-v %s", o->volumes[i]);
		snprintf(src, sizeof(src), "%.*s", (int)(colon - o->volumes[i]), o->volumes[i]);
		if (fs_daemon_add(what, src, mode && !strcmp(mode, ":ro"), false, i, id, fd, e))
			return -1;
	}
	return 0;
}

void fs_daemons_stop(struct fs_daemons *fd)
{
	for (int i = 0; i < fd->n; i++)
		if (fd->d[i].pid > 0)
			kill(fd->d[i].pid, SIGTERM);
	for (int i = 0; i < fd->n; i++) {
		struct fs_daemon *d = &fd->d[i];
		if (d->pid <= 0)
			continue;
		/* A second, then SIGKILL. */
		for (int t = 0; t < 200; t++) {
			pid_t w = waitpid(d->pid, NULL, WNOHANG);
			if (w == d->pid || (w < 0 && errno == ECHILD))
				break;
			if (t == 199) {
				kill(d->pid, SIGKILL);
				waitpid(d->pid, NULL, 0);
				break;
			}
			struct timespec ts = { 0, 5 * 1000000L };
			nanosleep(&ts, NULL);
		}
		d->pid = 0;
	}
}
