/* One tar entry into the tree (apply_impl.h): its slot cleared (unless a
 * directory meets a directory), then made with *at() calls relative to its
 * parent, never following a symlink: a directory (its mode and times
 * recorded for the end), a file (its data within the byte limit, holes
 * kept), a symlink, a hard link beneath the root, a device node (as root
 * only, else skipped with a note), a fifo; then owner (as root), mode,
 * times and extended attributes. */
#include "apply_impl.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

static int add_dir(struct apply *a, const char *path, struct archive_entry *ent, struct err *e)
{
	struct dir_rec *d = apply_dir_rec(a, path, e);
	if (!d)
		return -1;
	d->mode = archive_entry_perm(ent);
	d->times[0].tv_sec = archive_entry_atime_is_set(ent) ? archive_entry_atime(ent) : archive_entry_mtime(ent);
	d->times[0].tv_nsec = archive_entry_atime_is_set(ent) ? archive_entry_atime_nsec(ent) : archive_entry_mtime_nsec(ent);
	d->times[1].tv_sec = archive_entry_mtime(ent);
	d->times[1].tv_nsec = archive_entry_mtime_nsec(ent);
	return 0;
}

static int set_xattrs(int pfd, const char *name, struct archive_entry *ent, const char *path,
		      struct err *e)
{
	const char *xn;
	const void *xv;
	size_t xs;
	if (archive_entry_xattr_reset(ent) == 0)
		return 0;
	char proc[64 + 4096];
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d/%s", pfd, name);
	while (archive_entry_xattr_next(ent, &xn, &xv, &xs) == ARCHIVE_OK) {
		/* The disk becomes overlayfs's lower layer in the sandbox: an
		 * image must not speak overlayfs's own language (opaque,
		 * redirect, metacopy) to it. */
		if (!strncmp(xn, "trusted.overlay.", 16) || !strncmp(xn, "user.overlay.", 13))
			continue;
		if (lsetxattr(proc, xn, xv, xs, 0))
			return err_sys(e, "%s: xattr %s", path, xn);
	}
	return 0;
}

/* Metadata for a non-directory entry already created as (pfd, name). */
static int set_meta(struct apply *a, int pfd, const char *name, struct archive_entry *ent,
		    const char *path, bool is_link, struct err *e)
{
	if (a->root && fchownat(pfd, name, (uid_t)archive_entry_uid(ent), (gid_t)archive_entry_gid(ent),
				AT_SYMLINK_NOFOLLOW))
		return err_sys(e, "chown %s", path);
	if (!is_link && fchmodat(pfd, name, archive_entry_perm(ent), 0))
		return err_sys(e, "chmod %s", path);
	if (set_xattrs(pfd, name, ent, path, e))
		return -1;
	struct timespec ts[2] = {
		{ archive_entry_mtime(ent), archive_entry_mtime_nsec(ent) },
		{ archive_entry_mtime(ent), archive_entry_mtime_nsec(ent) },
	};
	if (archive_entry_atime_is_set(ent)) {
		ts[0].tv_sec = archive_entry_atime(ent);
		ts[0].tv_nsec = archive_entry_atime_nsec(ent);
	}
	if (utimensat(pfd, name, ts, AT_SYMLINK_NOFOLLOW))
		return err_sys(e, "utimes %s", path);
	return 0;
}

/* "16 GiB", "300 MiB", "4 KiB" or "1000 bytes", for the limit messages. */
static const char *size_str(uint64_t v, char *buf, size_t n)
{
	if (v && v % GIB == 0)
		snprintf(buf, n, "%llu GiB", (unsigned long long)(v / GIB));
	else if (v && v % MIB == 0)
		snprintf(buf, n, "%llu MiB", (unsigned long long)(v / MIB));
	else if (v && v % KIB == 0)
		snprintf(buf, n, "%llu KiB", (unsigned long long)(v / KIB));
	else
		snprintf(buf, n, "%llu bytes", (unsigned long long)v);
	return buf;
}

static int too_large(struct apply *a, struct err *e)
{
	char b[48];
	return err_set(e, "image too large: %s to more than %s (SANDBOX_IMAGE_MAX_BYTES)",
		       a->layers ? "its layers unpack" : "it unpacks", size_str(a->max_bytes, b, sizeof(b)));
}

/* Would a file ending at END (logical size, holes included) overflow the
 * byte budget? */
static bool over_budget(const struct apply *a, la_int64_t end)
{
	return end < 0 || (uint64_t)end > a->max_bytes - a->bytes;
}

static int write_data(struct apply *a, struct archive *ar, int fd, const char *path, struct err *e)
{
	const void *buf;
	size_t len;
	la_int64_t off, end = 0;
	int r;
	while ((r = archive_read_data_block(ar, &buf, &len, &off)) == ARCHIVE_OK) {
		const char *p = buf;
		/* Before the write: a sparse block far out would make a huge
		 * file even though it carries a few bytes. */
		if (off < 0 || len > INT64_MAX - (uint64_t)off || over_budget(a, off + (la_int64_t)len))
			return too_large(a, e);
		while (len) {
			ssize_t n = pwrite(fd, p, len, off);
			if (n < 0)
				return err_sys(e, "write %s", path);
			p += n;
			len -= (size_t)n;
			off += n;
		}
		if (off > end)
			end = off;
	}
	if (r != ARCHIVE_EOF)
		return err_set(e, "%s: %s", path, archive_error_string(ar));
	if (over_budget(a, end)) /* every block was checked: only paranoia */
		return too_large(a, e);
	if (ftruncate(fd, end))
		return err_sys(e, "truncate %s", path);
	a->bytes += (uint64_t)end;
	return 0;
}

/* Make room for a new entry at (pfd, name): remove what is there unless
 * both are directories. *keep_dir is set in that case. */
static int clear_slot(int pfd, const char *name, bool new_is_dir, bool *keep_dir, const char *path,
		      struct err *e)
{
	struct stat st;
	*keep_dir = false;
	if (fstatat(pfd, name, &st, AT_SYMLINK_NOFOLLOW)) {
		if (errno == ENOENT)
			return 0;
		return err_sys(e, "%s", path);
	}
	if (S_ISDIR(st.st_mode) && new_is_dir) {
		*keep_dir = true;
		return 0;
	}
	if (rm_rf_at(pfd, name))
		return err_sys(e, "remove %s", path);
	return 0;
}

int apply_entry(struct apply *a, struct archive *ar, struct archive_entry *ent, struct err *e)
{
	const char *raw = archive_entry_pathname(ent);
	if (!raw)
		return err_set(e, "entry without a path");
	char *path = strdup(raw);
	if (!path)
		return err_oom(e, "entry path");
	int rc = -1, pfd = -1;
	if (path_normalise(path)) {
		err_set(e, "%.200s: path escapes the image root", raw);
		goto out;
	}
	mode_t type = archive_entry_filetype(ent);
	if (!*path) { /* the root itself */
		if (type == AE_IFDIR) {
			if (a->root && fchownat(a->rootfd, "", (uid_t)archive_entry_uid(ent),
						(gid_t)archive_entry_gid(ent), AT_EMPTY_PATH)) {
				err_sys(e, "chown /");
				goto out;
			}
			rc = add_dir(a, "", ent, e);
		} else {
			err_set(e, "'%.200s': a non-directory entry for the image root", raw);
		}
		goto out;
	}
	const char *name = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
	if (a->layers && !strncmp(name, ".wh.", 4)) {
		/* A whiteout in a directory that does not exist hides nothing. */
		errno = 0;
		pfd = apply_open_parent(a, path, &name, false, e);
		if (pfd < 0)
			rc = errno == ENOENT ? 0 : -1;
		else
			rc = apply_whiteout(a, path, name, pfd, e);
		goto out;
	}
	pfd = apply_open_parent(a, path, &name, true, e);
	if (pfd < 0)
		goto out;
	if (a->layers && pathset_add(&a->seen, path, e))
		goto out;

	const char *hl = archive_entry_hardlink(ent);
	bool keep = false;
	if (clear_slot(pfd, name, !hl && type == AE_IFDIR, &keep, path, e))
		goto out;
	if (hl) {
		char *tpath = strdup(hl);
		const char *tname;
		if (!tpath) {
			err_oom(e, "hard link target");
			goto out;
		}
		if (path_normalise(tpath) || !*tpath) {
			err_set(e, "%.200s: hard link target %.200s escapes the image root", path, hl);
			free(tpath);
			goto out;
		}
		int tfd = apply_open_parent(a, tpath, &tname, true, e);
		if (tfd >= 0) {
			if (linkat(tfd, tname, pfd, name, 0))
				err_sys(e, "%s: hard link to %s", path, tpath);
			else
				rc = 0;
			close(tfd);
		}
		free(tpath);
		goto out;
	}
	switch (type) {
	case AE_IFDIR:
		if (!keep && mkdirat(pfd, name, 0755)) {
			err_sys(e, "mkdir %s", path);
			goto out;
		}
		if (a->root && fchownat(pfd, name, (uid_t)archive_entry_uid(ent), (gid_t)archive_entry_gid(ent),
					AT_SYMLINK_NOFOLLOW)) {
			err_sys(e, "chown %s", path);
			goto out;
		}
		if (set_xattrs(pfd, name, ent, path, e))
			goto out;
		rc = add_dir(a, path, ent, e);
		goto out;
	case AE_IFREG: {
		/* The header's size (a sparse file's full size): refuse before
		 * creating anything; write_data checks what really arrives. */
		if (archive_entry_size_is_set(ent) && over_budget(a, archive_entry_size(ent))) {
			too_large(a, e);
			goto out;
		}
		int fd = openat(pfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0) {
			err_sys(e, "create %s", path);
			goto out;
		}
		int w = write_data(a, ar, fd, path, e);
		close(fd);
		if (w)
			goto out;
		break;
	}
	case AE_IFLNK: {
		const char *target = archive_entry_symlink(ent);
		if (!target || symlinkat(target, pfd, name)) {
			err_sys(e, "symlink %s", path);
			goto out;
		}
		rc = set_meta(a, pfd, name, ent, path, true, e);
		goto out;
	}
	case AE_IFCHR:
	case AE_IFBLK:
		if (!a->root) {
			a->skipped_dev++;
			fprintf(stderr, "sandbox-image: note: skipping device node %s (not root)\n", path);
			rc = 0;
			goto out;
		}
		/* fallthrough */
	case AE_IFIFO:
		if (mknodat(pfd, name, type | 0600, archive_entry_rdev(ent))) {
			err_sys(e, "mknod %s", path);
			goto out;
		}
		break;
	default:
		err_set(e, "%s: unsupported entry type 0%o", path, (unsigned)type);
		goto out;
	}
	rc = set_meta(a, pfd, name, ent, path, false, e);
out:
	if (pfd >= 0)
		close(pfd);
	free(path);
	return rc;
}
