/* The writable layer on disk (see storage.h).
 *
 * Making it: mke2fs on a sparse file takes ~5 ms here (fork, exec, its
 * libraries and profile, ~650 KiB of metadata for 1 GiB); copying the
 * extents of an empty filesystem made once (SEEK_DATA/SEEK_HOLE and
 * copy_file_range, or one FICLONE where the filesystem shares extents)
 * takes ~0.4 ms. So each size gets a template the first time it is used,
 * and every layer is a copy of it. docs/storage.md has the figures. */
#include "storage.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mke2fs.h"
#include "state.h"

/* v2: without resize_inode (v1 had it: 588 KiB of data per 1 GiB template
 * instead of 76 KiB, all of it copied per run). A v1 template left in
 * STORAGE is no longer used. */
#define TEMPLATE_FMT ".template-v2-%llu.ext4"

static char root[512];
static int root_fd = -1;

/* STORAGE's path into BUF; -1 if there is none to name. */
static int root_path(char *buf, size_t len)
{
	const char *d = getenv("SANDBOX_STORAGE_DIR");
	int n;
	if (d && *d)
		n = snprintf(buf, len, "%s", d);
	else if (geteuid() == 0)
		n = snprintf(buf, len, "/var/lib/sandbox/storage");
	else if ((d = getenv("XDG_DATA_HOME")) && *d)
		n = snprintf(buf, len, "%s/sandbox/storage", d);
	else if ((d = getenv("HOME")) && *d)
		n = snprintf(buf, len, "%s/.local/share/sandbox/storage", d);
	else
		return -1;
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

const char *storage_root(struct err *e)
{
	if (root_fd >= 0)
		return root;
	char path[sizeof(root)];
	if (root_path(path, sizeof(path))) {
		err_set(e, "no directory for the writable layer: set SANDBOX_STORAGE_DIR (or HOME)");
		return NULL;
	}
	if (state_mkdir_p(path, 0700)) {
		err_sys(e, "writable layer directory %s", path);
		return NULL;
	}
	int fd = state_trusted_dir(AT_FDCWD, path, path, "writable layer directory",
				   "remove it (or set SANDBOX_STORAGE_DIR to a directory of your own)", e);
	if (fd < 0)
		return NULL;
	snprintf(root, sizeof(root), "%s", path);
	root_fd = fd;
	return root;
}

/* mke2fs an empty ext4 of SIZE bytes into FILE (a sparse file made here):
 * no journal (the layer lives as long as its sandbox; nothing replays
 * it), 4 KiB blocks at any size, no blocks reserved for root (the
 * container's root gets all of it), inode tables left for the kernel
 * (lazy_itable_init; guest-init mounts with noinit_itable, so they are
 * never written as a whole), nothing discarded. */
static int make_template(const char *file, uint64_t size, struct err *e)
{
	char tool[4200], kib[32];
	if (mke2fs_find(tool, sizeof(tool), e))
		return err_wrap(e, "--storage needs e2fsprogs' mke2fs (install e2fsprogs)");
	int fd = openat(root_fd, file, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return err_sys(e, "%s/%s", root, file);
	int r = ftruncate(fd, (off_t)size);
	close(fd);
	if (r)
		return err_sys(e, "%s/%s", root, file);
	char path[sizeof(root) + 64];
	snprintf(path, sizeof(path), "%s/%s", root, file);
	snprintf(kib, sizeof(kib), "%lluk", (unsigned long long)(size / 1024));
	char *argv[] = { "mke2fs", "-q", "-F", "-t", "ext4", "-b", "4096", "-T", "default", "-O",
			 "^has_journal,^resize_inode", "-m", "0", "-E", "lazy_itable_init=1,nodiscard,root_owner=0:0",
			 "-L", "sandbox-rw", path, kib, NULL };
	if (mke2fs_run(tool, argv, NULL, e))
		return err_wrap(e, "%s for the writable layer", path);
	return 0;
}

/* The template of SIZE bytes, opened read-only; made if missing. */
static int open_template(uint64_t size, struct err *e)
{
	char name[64], tmp[96];
	snprintf(name, sizeof(name), TEMPLATE_FMT, (unsigned long long)size);
	for (int pass = 0; pass < 2; pass++) {
		int fd = openat(root_fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		struct stat st;
		if (fd >= 0 && !fstat(fd, &st) && S_ISREG(st.st_mode) && (uint64_t)st.st_size == size)
			return fd;
		if (fd >= 0)
			close(fd);
		if (pass)
			break;
		/* Made once, under the lock, and renamed into place whole. */
		int lock = openat(root_fd, ".lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (lock < 0 || flock(lock, LOCK_EX)) {
			err_sys(e, "lock %s/.lock", root);
			if (lock >= 0)
				close(lock);
			return -1;
		}
		fd = openat(root_fd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		if (fd >= 0 && !fstat(fd, &st) && S_ISREG(st.st_mode) && (uint64_t)st.st_size == size) {
			close(lock);
			return fd;
		}
		if (fd >= 0)
			close(fd);
		snprintf(tmp, sizeof(tmp), "%s.tmp%d", name, (int)getpid());
		unlinkat(root_fd, tmp, 0);
		int r = make_template(tmp, size, e);
		if (!r && renameat(root_fd, tmp, root_fd, name))
			r = err_sys(e, "rename %s/%s", root, tmp);
		if (r)
			unlinkat(root_fd, tmp, 0);
		close(lock);
		if (r)
			return -1;
	}
	return err_set(e, "%s/%s: not a template of %llu bytes (remove it)", root, name, (unsigned long long)size);
}

/* Copy the bytes from OFF to END of IN to the same place in OUT. */
static int copy_range(int in, int out, off_t off, off_t end)
{
	while (off < end) {
		off_t o = off;
		ssize_t n = copy_file_range(in, &o, out, &off, (size_t)(end - off), 0);
		if (n > 0)
			continue;
		if (n == 0)
			return errno = EIO, -1;
		if (errno != EXDEV && errno != EINVAL && errno != ENOSYS && errno != EOPNOTSUPP)
			return -1;
		char buf[65536];    /* no copy_file_range between these: by hand */
		size_t want = (size_t)(end - off) < sizeof(buf) ? (size_t)(end - off) : sizeof(buf);
		ssize_t got = pread(in, buf, want, off);
		if (got <= 0)
			return got ? -1 : (errno = EIO, -1);
		ssize_t w = pwrite(out, buf, (size_t)got, off);
		if (w < 0)
			return -1;
		if (w != got)
			return errno = ENOSPC, -1;     /* a short write: the disk is full */
		off += got;
	}
	return 0;
}

/* OUT becomes a copy of IN (SIZE bytes) with IN's holes: shared extents
 * where the filesystem has them, else the data extents copied. */
static int sparse_copy(int in, int out, uint64_t size)
{
	if (ioctl(out, FICLONE, in) == 0)
		return 0;
	if (ftruncate(out, (off_t)size))
		return -1;
	off_t pos = 0;
	for (;;) {
		off_t data = lseek(in, pos, SEEK_DATA);
		if (data < 0) {
			if (errno == ENXIO)
				return 0;                       /* holes to the end */
			if (errno != EINVAL)
				return -1;
			return copy_range(in, out, pos, (off_t)size);    /* no SEEK_DATA here */
		}
		off_t hole = lseek(in, data, SEEK_HOLE);
		if (hole < 0)
			return -1;
		if (copy_range(in, out, data, hole))
			return -1;
		pos = hole;
	}
}

int storage_create(const char *id, uint64_t size, char *path, size_t len, struct err *e)
{
	if (size < STORAGE_MIN || size > STORAGE_MAX || size % MIB)
		return err_set(e, "writable layer of %llu bytes: want a multiple of 1 MiB from %llu MiB to %llu GiB",
			       (unsigned long long)size, STORAGE_MIN / MIB, STORAGE_MAX / GIB);
	if (!storage_root(e))
		return -1;
	char name[STATE_ID_LEN + 8];
	snprintf(name, sizeof(name), "%s.ext4", id);
	if ((size_t)snprintf(path, len, "%s/%s", root, name) >= len)
		return err_set(e, "writable layer %s/%s: path longer than %zu bytes (a shorter SANDBOX_STORAGE_DIR)",
			       root, name, len - 1);
	int tmpl = open_template(size, e);
	if (tmpl < 0)
		return err_wrap(e, "the writable layer");
	int fd = openat(root_fd, name, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		close(tmpl);
		return err_sys(e, "writable layer %s", path);
	}
	int r = sparse_copy(tmpl, fd, size);
	int errnum = errno;
	close(tmpl);
	close(fd);
	if (r) {
		unlinkat(root_fd, name, 0);
		errno = errnum;
		return err_sys(e, "writable layer %s: copying the template", path);
	}
	return 0;
}

void storage_remove(const char *id)
{
	char path[sizeof(root)], name[STATE_ID_LEN + 8];
	if (root_fd < 0) {
		/* Not made by this process: only if it exists, and is ours. */
		struct err e;
		if (root_path(path, sizeof(path)) || access(path, F_OK))
			return;
		if (!storage_root(&e))
			return;
	}
	snprintf(name, sizeof(name), "%s.ext4", id);
	unlinkat(root_fd, name, 0);
}

int storage_path(const char *id, char *path, size_t len, struct err *e)
{
	if (!storage_root(e))
		return -1;
	if ((size_t)snprintf(path, len, "%s/%s.ext4", root, id) >= len)
		return err_set(e, "writable layer of %s: path too long", id);
	return 0;
}

int storage_copy(int in, int out, struct err *e)
{
	struct stat st;
	if (fstat(in, &st))
		return err_sys(e, "the writable layer");
	if (!S_ISREG(st.st_mode))
		return err_set(e, "the writable layer is not a regular file");
	if (sparse_copy(in, out, (uint64_t)st.st_size))
		return err_sys(e, "copying the writable layer");
	return 0;
}

int storage_create_from(const char *id, int src, char *path, size_t len, struct err *e)
{
	if (storage_path(id, path, len, e))
		return -1;
	char name[STATE_ID_LEN + 8];
	snprintf(name, sizeof(name), "%s.ext4", id);
	int fd = openat(root_fd, name, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return err_sys(e, "writable layer %s", path);
	int r = storage_copy(src, fd, e);
	close(fd);
	if (r)
		unlinkat(root_fd, name, 0);
	return r;
}
