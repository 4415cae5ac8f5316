/* `sandbox run`: host directories as volumes (-v DIR:/PATH[:ro]).
 *
 * In the VM each directory is a virtio-fs device served by one virtiofsd
 * (Debian's, from qemu-system-common) that the owner starts before the
 * VMM and stops when the sandbox ends. The daemon is confined:
 *  - a mount namespace of its own, made here before exec, in which DIR
 *    is a plain (not recursive) bind of itself, nosuid and nodev, and
 *    read-only for :ro: the daemon sees no mount beneath DIR and cannot
 *    write a read-only volume whatever the guest asks (it has no
 *    CAP_SYS_ADMIN to remount: virtiofsd drops it);
 *  - its own sandbox, -o sandbox=namespace: new mount, PID and network
 *    namespaces, pivot_root into DIR (the only host tree it can reach
 *    then), its seccomp allowlist and a reduced capability set;
 *  - its vhost-user socket in the sandbox's socket directory
 *    (ROOT/<id>/sock), which the VMM connects to before its jail.
 * It runs as root: the guest's files keep their owners (chown, setuid
 * of the file server) and the namespace sandbox needs it.
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
#include <limits.h>
#include <linux/magic.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "jail/jail.h"
#include "run_impl.h"
#include "state.h"

#define DAEMON_WAIT_MS 5000

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

/* In the daemon's child: its mount namespace, then exec. Returns only on
 * failure (the message on stderr, which is the daemon's log). */
static void daemon_exec(const char *dir, bool ro, const char *sock)
{
	if (unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL)) {
		fprintf(stderr, "sandbox: virtiofsd: mount namespace: %s\n", strerror(errno));
		return;
	}
	struct statfs sf;
	if (statfs("/", &sf) == 0 && (sf.f_type == RAMFS_MAGIC || sf.f_type == TMPFS_MAGIC)) {
		/* An initramfs root: give pivot_root a root with a parent, as
		 * switch_root does: a recursive bind of / (on DIR, a mount
		 * point that exists: the copy is made before it is attached),
		 * moved over / and chrooted into. Lookups of "/" itself do
		 * not cross a mount stacked on it, hence the detour. */
		if (mount("/", dir, NULL, MS_BIND | MS_REC, NULL) || chdir(dir) || mount(".", "/", NULL, MS_MOVE, NULL) ||
		    chroot(".") || chdir("/")) {
			fprintf(stderr, "sandbox: virtiofsd: re-rooting: %s\n", strerror(errno));
			return;
		}
	}
	unsigned long fl = MS_BIND | MS_REMOUNT | MS_NOSUID | MS_NODEV | (ro ? MS_RDONLY : 0);
	if (mount(dir, dir, NULL, MS_BIND, NULL) || mount(NULL, dir, NULL, fl, NULL)) {
		fprintf(stderr, "sandbox: virtiofsd: binding %s: %s\n", dir, strerror(errno));
		return;
	}
	char sockarg[200], srcarg[PATH_MAX + 16];
	snprintf(sockarg, sizeof(sockarg), "--socket-path=%s", sock);
	snprintf(srcarg, sizeof(srcarg), "source=%s", dir);
	const char *bin = virtiofsd_path();
	execl(bin, "virtiofsd", sockarg, "-o", srcarg, "-o", "sandbox=namespace", "-o", "cache=auto",
	      (char *)NULL);
	fprintf(stderr, "sandbox: cannot run %s: %s\n", bin, strerror(errno));
}

/* The last line of the daemon's log, for an error. */
static void log_tail(const char *id, const char *name, char *out, size_t len)
{
	char path[800], buf[4096];
	out[0] = '\0';
	state_path(path, sizeof(path), id, name);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	off_t end = lseek(fd, 0, SEEK_END);
	off_t from = end > (off_t)sizeof(buf) - 1 ? end - (off_t)sizeof(buf) + 1 : 0;
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, from);
	close(fd);
	if (n <= 0)
		return;
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	char *last = strrchr(buf, '\n');
	const char *l = last ? last + 1 : buf;
	size_t k = strlen(l) < len - 1 ? strlen(l) : len - 1;
	memcpy(out, l, k);
	out[k] = '\0';
}

/* Start the daemon for directory SRC (WHAT names it in errors: the -v
 * argument, or "the root"), for volume VOL (-1: the root). */
static int daemon_start(const char *what, const char *src, bool ro, int vol, const char *id, struct fs_daemons *fd,
			struct err *e)
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
	char name[32], logname[40];
	if (!realpath(src, d->dir))
		return err_sys(e, "%s: %s", what, src);
	d->vol = vol;
	d->ro = ro;
	snprintf(d->tag, sizeof(d->tag), "fs%d", fd->n);
	snprintf(name, sizeof(name), "sock/%s", d->tag);
	state_path(d->sock, sizeof(d->sock), id, name);
	if (strlen(d->sock) >= 108)
		return err_set(e, "virtiofsd socket %s: longer than 107 bytes (use a shorter SANDBOX_STATE_DIR)", d->sock);
	snprintf(logname, sizeof(logname), "virtiofsd-%s.log", d->tag);
	int log = state_open(id, logname, O_WRONLY | O_CREAT | O_TRUNC, 0600, e);
	if (log < 0)
		return -1;
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		close(log);
		return err_sys(e, "fork virtiofsd");
	}
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		sigset_t all;
		sigemptyset(&all);
		sigprocmask(SIG_SETMASK, &all, NULL);
		int nul = open("/dev/null", O_RDONLY);
		if (nul >= 0)
			dup2(nul, 0);
		dup2(log, 1);
		dup2(log, 2);
		daemon_exec(d->dir, d->ro, d->sock);
		_exit(127);
	}
	close(log);
	d->pid = pid;
	fd->n++;
	/* Wait for its socket (the VMM retries a refused connect). */
	uint64_t deadline = now_ns() + DAEMON_WAIT_MS * 1000000ULL;
	struct stat st;
	while (stat(d->sock, &st) || !S_ISSOCK(st.st_mode)) {
		int status;
		if (waitpid(pid, &status, WNOHANG) == pid) {
			d->pid = 0;
			char tail[300];
			log_tail(id, logname, tail, sizeof(tail));
			return err_set(e, "%s: virtiofsd exited (%s)", what, tail[0] ? tail : "no message");
		}
		if (now_ns() > deadline)
			return err_set(e, "%s: virtiofsd made no socket within %d s", what, DAEMON_WAIT_MS / 1000);
		struct timespec ts = { 0, 5 * 1000000L };
		nanosleep(&ts, NULL);
	}
	return 0;
}

int fs_daemons_start(const struct run_opts *o, const char *id, struct fs_daemons *fd, struct err *e)
{
	memset(fd, 0, sizeof(*fd));
	/* sandbox-runtime: the root directory first (fs0) */
	if (o->rootfs && daemon_start("the root", o->rootfs, o->rootfs_ro, -1, id, fd, e))
		return -1;
	for (int i = 0; i < o->nvol; i++) {
		if (!volume_is_dir(o->volumes[i]))
			continue;
		char what[PATH_MAX + 8], src[PATH_MAX];
		const char *colon = strchr(o->volumes[i], ':');
		const char *mode = strchr(colon + 1, ':');
		snprintf(what, sizeof(what), "-v %s", o->volumes[i]);
		snprintf(src, sizeof(src), "%.*s", (int)(colon - o->volumes[i]), o->volumes[i]);
		if (daemon_start(what, src, mode && !strcmp(mode, ":ro"), i, id, fd, e))
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
