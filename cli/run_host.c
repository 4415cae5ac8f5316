/* `sandbox run`: the host-mode child (--isolation container). */

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/loop.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <stdarg.h>
#include <limits.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "arch/x86/layout.h"
#include "cli.h"
#include "relay.h"
#include "run_impl.h"
#include "state.h"


/* ------------------------------------------------------------------ */
/* the host-mode child (--isolation container) */

/* Mount a disk image file read-only (or not) at DIR: erofs can mount a
 * file directly on recent kernels; otherwise through a loop device. DATA:
 * the filesystem's options (NULL: none). */
static int mount_image_file(const char *file, const char *dir, const char *fstype, bool ro, const char *data,
			    struct err *e)
{
	unsigned long fl = MS_NODEV | MS_NOSUID | (ro ? MS_RDONLY : 0);
	if (fstype && !strcmp(fstype, "erofs") && mount(file, dir, "erofs", fl, NULL) == 0)
		return 0;
	int ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	if (ctl < 0)
		return err_sys(e, "mount %s: no file-backed mount and no /dev/loop-control", file);
	for (int tries = 0; tries < 16; tries++) {
		int n = ioctl(ctl, LOOP_CTL_GET_FREE);
		if (n < 0)
			break;
		char dev[64];
		snprintf(dev, sizeof(dev), "/dev/loop%d", n);
		int lfd = open(dev, O_RDWR | O_CLOEXEC), ffd = open(file, (ro ? O_RDONLY : O_RDWR) | O_CLOEXEC);
		if (lfd < 0 || ffd < 0) {
			int errnum = errno;
			if (lfd >= 0)
				close(lfd);
			if (ffd >= 0)
				close(ffd);
			close(ctl);
			errno = errnum;
			return err_sys(e, "mount %s", lfd < 0 ? dev : file);
		}
		struct loop_config lc = { .fd = (unsigned)ffd,
					  .info = { .lo_flags = LO_FLAGS_AUTOCLEAR | (ro ? LO_FLAGS_READ_ONLY : 0) } };
		int r = ioctl(lfd, LOOP_CONFIGURE, &lc);
		close(ffd);
		if (r && errno == EBUSY) {  /* raced for that loop device */
			close(lfd);
			continue;
		}
		close(ctl);
		if (r) {
			int errnum = errno;
			close(lfd);
			errno = errnum;
			return err_sys(e, "mount %s: loop device", file);
		}
		static const char *const fss[] = { "erofs", "ext4" };
		int m = -1;
		for (int k = 0; k < 2 && m; k++)
			m = mount(dev, dir, fstype ? fstype : fss[k], fl, data);
		int errnum = errno;
		close(lfd);  /* autoclear: the device goes with the mount */
		if (m) {
			errno = errnum;
			return err_sys(e, "mount %s", file);
		}
		return 0;
	}
	close(ctl);
	return err_set(e, "mount %s: no free loop device", file);
}

/* The spec's encoding in a memfd that guest-init inherits (--spec-fd):
 * no size limit of a pipe. The same bytes go to ROOT/<id>/spec (0600),
 * where sandbox exec finds the container's defaults (guest-init --exec).
 * Returns the fd or -1. */
static int spec_memfd(const struct run_spec *spec, const char *id, struct err *e)
{
	static uint8_t buf[CSPEC_MAX_SIZE];
	size_t len;
	struct cspec_err ce;
	if (cspec_encode(&spec->c, buf, sizeof(buf), &len, &ce))
		return err_set(e, "the container's spec: %s", ce.msg);
	int fd = memfd_create("sandbox-spec", 0);  /* no CLOEXEC: for guest-init */
	if (fd < 0)
		return err_sys(e, "memfd for the container's spec");
	if (write(fd, buf, len) != (ssize_t)len || lseek(fd, 0, SEEK_SET)) {
		err_sys(e, "write the container's spec");
		close(fd);
		return -1;
	}
	int kept = state_open(id, "spec", O_WRONLY | O_CREAT | O_EXCL, 0600, e);
	if (kept < 0) {
		close(fd);
		return err_wrap(e, "keep the container's spec");
	}
	ssize_t w = write(kept, buf, len);
	close(kept);
	if (w != (ssize_t)len) {
		close(fd);
		return err_sys(e, "keep the container's spec");
	}
	return fd;
}

/* Mount the container's root (the image under a writable layer, the
 * volumes) in a mount namespace of our own and exec guest-init --host on
 * it; returns only on failure, with E filled. */
static int host_child_exec(const struct run_opts *o, const struct runconf *rc, const char *id,
			   struct run_spec *spec, struct err *e)
{
	char dir[700], img[800], rw[800], root[800], opts[2600];
	state_path(dir, sizeof(dir), id, NULL);
	snprintf(img, sizeof(img), "%s/image", dir);
	snprintf(rw, sizeof(rw), "%s/rw", dir);
	snprintf(root, sizeof(root), "%s/root", dir);
	/* Mounts live in a namespace of our own: nothing is left behind. */
	if (unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
		return err_set(e, "--isolation container: a mount namespace: %s (needs root)", strerror(errno));
	if ((mkdir(img, 0700) && errno != EEXIST) || (mkdir(rw, 0700) && errno != EEXIST) ||
	    (mkdir(root, 0755) && errno != EEXIST))
		return err_sys(e, "mkdir in %s", dir);
	if (mount_image_file(rc->disk, img, rc->fstype, true, NULL, e))
		return -1;
	/* The writable layer: the same ext4 file as the VM's (--storage),
	 * through a loop device, so that it is bounded by its size and its
	 * bytes are on disk, not in this host's memory; noinit_itable as in
	 * the guest. With --read-only (no file) an empty tmpfs, which
	 * nothing writes. */
	if (spec->storage[0]) {
		if (mount_image_file(spec->storage, rw, "ext4", false, "noinit_itable", e))
			return err_wrap(e, "the writable layer");
	} else if (mount("tmpfs", rw, "tmpfs", MS_NODEV, "mode=0755,size=1m")) {
		return err_sys(e, "mount the writable layer");
	}
	snprintf(opts, sizeof(opts), "%s/upper", rw);
	mkdir(opts, 0755);
	snprintf(opts, sizeof(opts), "%s/work", rw);
	mkdir(opts, 0755);
	snprintf(opts, sizeof(opts), "lowerdir=%s,upperdir=%s/upper,workdir=%s/work", img, rw, rw);
	if (mount("overlay", root, "overlay", MS_NODEV, opts))
		return err_sys(e, "mount the overlay root");
	for (int i = 0; i < o->nvol; i++) {
		char file[4096], target[4200];
		const char *colon = strchr(o->volumes[i], ':');
		snprintf(file, sizeof(file), "%.*s", (int)(colon - o->volumes[i]), o->volumes[i]);
		const char *path = colon + 1, *mode = strchr(path, ':');
		snprintf(target, sizeof(target), "%s%.*s", root, mode ? (int)(mode - path) : (int)strlen(path), path);
		/* The volume path is created in the writable layer; a symlink in
		 * the image on the way is refused by the kernel's O_NOFOLLOW
		 * walk in guest-init; here the same check is a realpath. */
		char real[PATH_MAX];
		if (mkdir(target, 0755) && errno != EEXIST)
			return err_sys(e, "-v %s: mkdir", o->volumes[i]);
		if (!realpath(target, real) || strncmp(real, root, strlen(root)))
			return err_set(e, "-v %s: the path leaves the container's root", o->volumes[i]);
		bool ro = mode && !strcmp(mode, ":ro");
		struct stat st;
		if (stat(file, &st) == 0 && S_ISDIR(st.st_mode)) {
			/* A host directory: a plain bind (no mounts beneath it come
			 * along), nosuid, nodev, read-only for :ro (run_fs.c). */
			if (mount(file, real, NULL, MS_BIND, NULL) ||
			    mount(NULL, real, NULL, MS_BIND | MS_REMOUNT | MS_NOSUID | MS_NODEV | (ro ? MS_RDONLY : 0),
				  NULL))
				return err_sys(e, "-v %s: bind mount", o->volumes[i]);
			continue;
		}
		if (mount_image_file(file, real, NULL, ro, NULL, e))
			return -1;
	}
	if (!o->interactive && !o->tty && cli_stdin_null(e))   /* as in the VM: stdin is empty */
		return -1;
	char tool[4200], fdarg[16];
	snprintf(tool, sizeof(tool), "%s/guest-init", run_bindir);
	int fd = spec_memfd(spec, id, e);
	if (fd < 0)
		return -1;
	snprintf(fdarg, sizeof(fdarg), "%d", fd);
	char *argv[] = { tool, "--host", root, "--spec-fd", fdarg, NULL };
	execv(tool, argv);
	return err_sys(e, "cannot run %s", tool);
}

/* The child's top level: it only returns if guest-init could not be run. */
int host_child_main(const struct run_opts *o, const struct runconf *rc, const char *id,
			   struct run_spec *spec)
{
	struct err e = { 0 };
	host_child_exec(o, rc, id, spec, &e);
	return cli_report(&e);
}
