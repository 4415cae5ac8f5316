/* The container's filesystem, in order: make / private → the root
 * (rootfs_mount_root: a bind of a directory in host mode; the image disk
 * under an overlay in the VM, later) → /proc, /sys (read-only), a minimal
 * /dev → a pod member's binds of host paths → pivot_root → runc's masked
 * and read-only paths → read-only root. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <linux/magic.h>
#include <stdbool.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "container.h"

/* runc's defaults (libcontainer/specconv/example.go, Docker's profile). */
static const char *const masked_paths[] = {
	"/proc/acpi", "/proc/asound", "/proc/interrupts", "/proc/kcore", "/proc/keys",
	"/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats", "/proc/sched_debug",
	"/proc/scsi", "/sys/firmware", "/sys/devices/virtual/powercap",
};
static const char *const readonly_paths[] = {
	"/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger",
};

static const struct { const char *name; mode_t mode; unsigned maj, min; } dev_nodes[] = {
	{ "null", 0666, 1, 3 }, { "zero", 0666, 1, 5 }, { "full", 0666, 1, 7 },
	{ "random", 0666, 1, 8 }, { "urandom", 0666, 1, 9 }, { "tty", 0666, 5, 0 },
};
static const struct { const char *target, *link; } dev_links[] = {
	{ "/proc/self/fd", "fd" }, { "/proc/self/fd/0", "stdin" }, { "/proc/self/fd/1", "stdout" },
	{ "/proc/self/fd/2", "stderr" }, { "pts/ptmx", "ptmx" }, { "/proc/kcore", "core" },
};

static int mount_at(const char *root, const char *dir, const char *src, const char *type,
		    unsigned long flags, const char *data, struct err *err)
{
	char path[4096];
	struct stat st;
	snprintf(path, sizeof(path), "%s%s", root, dir);
	if (mkdir(path, 0755) && errno != EEXIST)
		return err_errno(err, errno, "mkdir %s", path);
	/* Before pivot_root a symlink in the image would lead the mount out
	 * of the rootfs: refuse it. */
	if (lstat(path, &st) || !S_ISDIR(st.st_mode))
		return err_errno(err, ENOTDIR, "%s is not a directory", path);
	if (mount(src, path, type, flags, data))
		return err_errno(err, errno, "mount %s on %s", type ? type : src, path);
	return 0;
}

/* The hook for the VM: there the root will be the image disk (read-only)
 * under an overlay whose upper layer is a tmpfs or the scratch disk. In
 * host mode it is a bind mount of the rootfs directory onto itself, so it
 * is a mount point pivot_root can use. */
static int rootfs_mount_root(const struct sb_spec *spec, struct err *err)
{
	if (!spec->rootfs)
		return err_errno(err, EINVAL, "no rootfs (the VM's overlay is not built yet)");
	if (mount(spec->rootfs, spec->rootfs, NULL, MS_BIND | MS_REC, NULL))
		return err_errno(err, errno, "bind %s", spec->rootfs);
	return 0;
}

static int mount_dev(const struct sb_spec *spec, const char *root, struct err *err)
{
	char path[4096];
	if (mount_at(root, "/dev", "tmpfs", "tmpfs", MS_NOSUID | MS_STRICTATIME, "mode=755,size=65536k", err) < 0)
		return -1;
	for (size_t i = 0; i < sizeof(dev_nodes) / sizeof(dev_nodes[0]); i++) {
		snprintf(path, sizeof(path), "%s/dev/%s", root, dev_nodes[i].name);
		if (mknod(path, S_IFCHR | dev_nodes[i].mode, makedev(dev_nodes[i].maj, dev_nodes[i].min)) == 0) {
			chmod(path, dev_nodes[i].mode);    /* past the umask */
			continue;
		}
		/* No mknod (a user namespace, later): bind the host's node. */
		char host[64];
		snprintf(host, sizeof(host), "/dev/%s", dev_nodes[i].name);
		SB_AUTOCLOSE int fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0666);
		if (fd < 0 || mount(host, path, NULL, MS_BIND, NULL))
			return err_errno(err, errno, "create %s", path);
	}
	if (mount_at(root, "/dev/pts", "devpts", "devpts", MS_NOSUID | MS_NOEXEC,
		     "newinstance,ptmxmode=0666,mode=0620,gid=5", err) < 0)
		return -1;
	if (spec->shm ? mount_at(root, "/dev/shm", spec->shm, NULL, MS_BIND, NULL, err) < 0
		      : mount_at(root, "/dev/shm", "shm", "tmpfs", SHM_FLAGS, SHM_OPTS, err) < 0)
		return -1;
	if (mount_at(root, "/dev/mqueue", "mqueue", "mqueue", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, err) < 0)
		return -1;
	for (size_t i = 0; i < sizeof(dev_links) / sizeof(dev_links[0]); i++) {
		snprintf(path, sizeof(path), "%s/dev/%s", root, dev_links[i].link);
		if (symlink(dev_links[i].target, path))
			return err_errno(err, errno, "symlink %s", path);
	}
	return 0;
}

/* The initramfs (rootfs) is the one root pivot_root refuses (it has no
 * parent mount). In the guest, while init still runs from it, the
 * container's root is moved over "/" instead, as switch_root does: it then
 * sits on the rootfs like any system's root, and ".." at its top leads
 * back into it (the kernel follows the mount), so the initramfs below is
 * out of reach by path. Leaving the initramfs once at boot would let every
 * container use pivot_root. */
static bool root_is_initramfs(void)
{
	struct statfs sf;
	return statfs("/", &sf) == 0 && (sf.f_type == RAMFS_MAGIC || sf.f_type == TMPFS_MAGIC);
}

static int move_root(struct err *err)
{
	if (mount(".", "/", NULL, MS_MOVE, NULL))
		return err_errno(err, errno, "move the root over the initramfs");
	if (chroot("."))
		return err_errno(err, errno, "chroot");
	if (chdir("/"))
		return err_errno(err, errno, "chdir /");
	return 0;
}

static int do_pivot(const char *root, struct err *err)
{
	if (chdir(root))
		return err_errno(err, errno, "chdir %s", root);
	/* pivot_root(".", "."): the old root ends up stacked under the new
	 * one, and is detached right away (no directory for it needed). */
	if (syscall(SYS_pivot_root, ".", ".")) {
		if (errno == EINVAL && root_is_initramfs())
			return move_root(err);
		return err_errno(err, errno, "pivot_root");
	}
	if (mount(NULL, ".", NULL, MS_REC | MS_SLAVE, NULL))
		return err_errno(err, errno, "make the old root a slave");
	if (umount2(".", MNT_DETACH))
		return err_errno(err, errno, "detach the old root");
	if (chdir("/"))
		return err_errno(err, errno, "chdir /");
	return 0;
}

/* runc's lists, or the spec's (an OCI config's maskedPaths and
 * readonlyPaths: paths_given). */
static int mask_paths(const struct sb_spec *spec, struct err *err)
{
	const char *const *masked = spec->paths_given ? spec->masked : masked_paths;
	const char *const *ro = spec->paths_given ? spec->ro_paths : readonly_paths;
	size_t nmasked = spec->paths_given ? spec->nmasked : sizeof(masked_paths) / sizeof(masked_paths[0]);
	size_t nro = spec->paths_given ? spec->nro_paths : sizeof(readonly_paths) / sizeof(readonly_paths[0]);
	for (size_t i = 0; i < nmasked; i++) {
		const char *p = masked[i];
		struct stat st;
		if (stat(p, &st))
			continue;
		int r = S_ISDIR(st.st_mode) ? mount("tmpfs", p, "tmpfs", MS_RDONLY, "size=0k")
					    : mount("/dev/null", p, NULL, MS_BIND, NULL);
		if (r)
			return err_errno(err, errno, "mask %s", p);
	}
	for (size_t i = 0; i < nro; i++) {
		const char *p = ro[i];
		if (access(p, F_OK))
			continue;
		if (mount(p, p, NULL, MS_BIND | MS_REC, NULL) ||
		    mount(NULL, p, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL))
			return err_errno(err, errno, "read-only %s", p);
	}
	return 0;
}

int rootfs_setup(const struct sb_spec *spec, struct err *err)
{
	const char *root = spec->rootfs;
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
		return err_errno(err, errno, "make / private");
	if (rootfs_mount_root(spec, err) < 0)
		return -1;
	if (mount_at(root, "/proc", "proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL, err) < 0)
		return -1;
	if (mount_at(root, "/sys", "sysfs", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY, NULL, err) < 0)
		return -1;
	if (mount_dev(spec, root, err) < 0)
		return err_wrap(err, "/dev");
	if (spec->nbinds && pod_bind_paths(spec, root, err) < 0)
		return -1;
	if (do_pivot(root, err) < 0)
		return -1;
	if (mask_paths(spec, err) < 0)
		return -1;
	if (spec->read_only && mount(NULL, "/", NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL))
		return err_errno(err, errno, "remount / read-only");
	return 0;
}
