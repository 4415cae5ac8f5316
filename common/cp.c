/* `sandbox cp`'s sending and receiving ends (see cp.h). */
#include "cp.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tar.h"

#define TMP_PREFIX ".sandbox-cp-"

/* Trailing slashes off (but "/"). */
static size_t trim_slashes(const char *s, size_t n)
{
	while (n > 1 && s[n - 1] == '/')
		n--;
	return n;
}

int cp_src_path(const char *src, char *path, size_t cap, unsigned *contents, struct err *e)
{
	size_t n = strlen(src);
	*contents = 0;
	if (!n)
		return err_errno(e, 0, "an empty path");
	n = trim_slashes(src, n);
	if ((n == 1 && src[0] == '.') || (n >= 2 && src[n - 1] == '.' && src[n - 2] == '/')) {
		*contents = CP_CONTENTS;
		if (n > 1)
			n = trim_slashes(src, n - 1);
	}
	if (n >= cap)
		return err_errno(e, 0, "%.200s: path too long", src);
	memcpy(path, src, n);
	path[n] = '\0';
	return 0;
}

/* The name SRC's entries get: its last component, or the real one when
 * that is "." or ".." ("." for the root). */
static int arcname_of(const char *src, char *out, size_t cap, struct err *e)
{
	const char *slash = strrchr(src, '/');
	const char *last = slash ? slash + 1 : src;
	if (!strcmp(src, "/")) {
		snprintf(out, cap, ".");
		return 0;
	}
	if (strcmp(last, ".") && strcmp(last, "..") && last[0]) {
		snprintf(out, cap, "%s", last);
		return 0;
	}
	char *real = realpath(src, NULL);
	if (!real)
		return err_errno(e, errno, "%.200s", src);
	slash = strrchr(real, '/');
	snprintf(out, cap, "%s", !strcmp(real, "/") ? "." : slash + 1);
	free(real);
	return 0;
}

int cp_send(int out, const char *src, unsigned flags, struct err *e)
{
	struct stat st;
	if (((flags & (CP_FOLLOW | CP_CONTENTS)) ? stat(src, &st) : lstat(src, &st)))
		return err_errno(e, errno, "%.200s", src);
	if ((flags & CP_CONTENTS) && !S_ISDIR(st.st_mode))
		return err_errno(e, 0, "%.200s: not a directory", src);
	char name[NAME_MAX + 1];
	if (arcname_of(src, name, sizeof(name), e))
		return -1;
	return tar_write(out, AT_FDCWD, src, name, (flags & (CP_FOLLOW | CP_CONTENTS)) ? TAR_W_FOLLOW : 0, e);
}

/* Remove NAME in DIRFD and everything under it, following no symlink. */
static void rm_tree(int dirfd, const char *name)
{
	struct stat st;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW))
		return;
	if (!S_ISDIR(st.st_mode)) {
		unlinkat(dirfd, name, 0);
		return;
	}
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (d) {
		struct dirent *de;
		while ((de = readdir(d)))
			if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
				rm_tree(fd, de->d_name);
		closedir(d);
	} else if (fd >= 0) {
		close(fd);
	}
	unlinkat(dirfd, name, AT_REMOVEDIR);
}

/* Move what directory SFD holds into directory DFD (WHERE: its name for
 * messages): see cp.h's merging. */
static int merge(int sfd, int dfd, const char *where, struct err *e)
{
	int fd = dup(sfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return err_errno(e, errno, "read a directory");
	}
	int rc = 0;
	struct dirent *de;
	while (!rc && (de = readdir(d))) {
		const char *n = de->d_name;
		if (!strcmp(n, ".") || !strcmp(n, ".."))
			continue;
		struct stat ss, ds;
		if (fstatat(sfd, n, &ss, AT_SYMLINK_NOFOLLOW)) {
			rc = err_errno(e, errno, "%s", n);
			break;
		}
		if (fstatat(dfd, n, &ds, AT_SYMLINK_NOFOLLOW)) {
			if (errno != ENOENT || renameat(sfd, n, dfd, n))
				rc = err_errno(e, errno, "%.200s/%.200s", where, n);
			continue;
		}
		if (S_ISDIR(ss.st_mode) && S_ISDIR(ds.st_mode)) {
			int s2 = openat(sfd, n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			int d2 = openat(dfd, n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			char sub[PATH_MAX];
			snprintf(sub, sizeof(sub), "%.3000s/%.255s", where, n);
			if (s2 < 0 || d2 < 0)
				rc = err_errno(e, errno, "%.200s", sub);
			else
				rc = merge(s2, d2, sub, e);
			if (s2 >= 0)
				close(s2);
			if (d2 >= 0)
				close(d2);
		} else if (S_ISDIR(ss.st_mode)) {
			rc = err_errno(e, 0, "cannot overwrite non-directory %.200s/%.200s with a directory", where, n);
		} else if (S_ISDIR(ds.st_mode)) {
			rc = err_errno(e, 0, "cannot overwrite directory %.200s/%.200s with a non-directory", where, n);
		} else if (renameat(sfd, n, dfd, n)) {
			rc = err_errno(e, errno, "%.200s/%.200s", where, n);
		}
	}
	closedir(d);
	return rc;
}

/* Put the extracted item (N in TFD, or TFD itself, TMP, when N is ".")
 * at DEST, which EXISTS as a directory (1), something else (2) or not
 * (0). */
static int place(int tfd, const char *tmp, const char *n, const char *dest, int exists, bool dest_slash,
		 unsigned flags, struct err *e)
{
	bool self = !strcmp(n, ".");
	struct stat st;
	if (self ? fstat(tfd, &st) : fstatat(tfd, n, &st, AT_SYMLINK_NOFOLLOW))
		return err_errno(e, errno, "the copy");
	bool dir = S_ISDIR(st.st_mode);
	if (!dir && (flags & CP_CONTENTS))
		return err_errno(e, 0, "the source is not a directory");
	if (exists == 2 && dir)
		return err_errno(e, 0, "%.200s: cannot copy a directory to a file", dest);
	if (exists == 0) {
		if (dest_slash && !dir)
			return err_errno(e, 0, "%.200s: no such directory", dest);
		if (self ? rename(tmp, dest) : renameat(tfd, n, AT_FDCWD, dest))
			return err_errno(e, errno, "%.200s", dest);
		return 0;
	}
	if (exists == 2) {      /* a file onto a file */
		if (renameat(tfd, n, AT_FDCWD, dest))
			return err_errno(e, errno, "%.200s", dest);
		return 0;
	}
	int dfd = open(dest, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return err_errno(e, errno, "%.200s", dest);
	int rc = 0;
	if (dir && (self || (flags & CP_CONTENTS))) {
		int sfd = self ? dup(tfd) : openat(tfd, n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		rc = sfd < 0 ? err_errno(e, errno, "the copy") : merge(sfd, dfd, dest, e);
		if (sfd >= 0)
			close(sfd);
	} else {
		/* DEST/N, merged if it is a directory already */
		struct stat ds;
		char where[PATH_MAX];
		snprintf(where, sizeof(where), "%.3000s/%.255s", dest, n);
		if (fstatat(dfd, n, &ds, AT_SYMLINK_NOFOLLOW)) {
			if (errno != ENOENT || renameat(tfd, n, dfd, n))
				rc = err_errno(e, errno, "%.200s", where);
		} else if (dir && S_ISDIR(ds.st_mode)) {
			int s2 = openat(tfd, n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			int d2 = openat(dfd, n, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			rc = s2 < 0 || d2 < 0 ? err_errno(e, errno, "%.200s", where) : merge(s2, d2, where, e);
			if (s2 >= 0)
				close(s2);
			if (d2 >= 0)
				close(d2);
		} else if (dir) {
			rc = err_errno(e, 0, "cannot overwrite non-directory %.200s with a directory", where);
		} else if (S_ISDIR(ds.st_mode)) {
			rc = err_errno(e, 0, "cannot overwrite directory %.200s with a non-directory", where);
		} else if (renameat(tfd, n, dfd, n)) {
			rc = err_errno(e, errno, "%.200s", where);
		}
	}
	close(dfd);
	return rc;
}

int cp_receive(int in, const char *dest, unsigned flags, uint64_t max_bytes, uint64_t max_entries, bool no_suid,
	       bool *over, struct err *e)
{
	char d[PATH_MAX], tmp[PATH_MAX + 32];
	size_t n = strlen(dest);
	if (over)
		*over = false;
	if (!n)
		return err_errno(e, 0, "an empty destination");
	bool dest_slash = dest[n - 1] == '/' || (n >= 2 && dest[n - 1] == '.' && dest[n - 2] == '/') ||
			  (n == 1 && dest[0] == '.');
	n = trim_slashes(dest, n);
	if (n >= 2 && dest[n - 1] == '.' && dest[n - 2] == '/')
		n = trim_slashes(dest, n - 1);
	if (n >= sizeof(d))
		return err_errno(e, 0, "%.200s: path too long", dest);
	memcpy(d, dest, n);
	d[n] = '\0';
	struct stat st;
	int exists = 0;
	if (!stat(d, &st))
		exists = S_ISDIR(st.st_mode) ? 1 : 2;
	else if (errno != ENOENT)
		return err_errno(e, errno, "%.200s", dest);
	if ((flags & CP_INTO) && exists != 1)
		return err_errno(e, 0, "%.200s: %s", dest, exists ? "not a directory" : "no such directory");
	if (exists == 2 && dest_slash)
		return err_errno(e, 0, "%.200s: not a directory", dest);
	/* The temporary directory, where the copy's final rename happens. */
	if (exists == 1) {
		snprintf(tmp, sizeof(tmp), "%s/" TMP_PREFIX "XXXXXX", d);
	} else {
		char *slash = strrchr(d, '/');
		const char *parent = !slash ? "." : slash == d ? "/" : NULL;
		if (parent)
			snprintf(tmp, sizeof(tmp), "%s/%s", parent, "");
		else
			snprintf(tmp, sizeof(tmp), "%.*s/", (int)(slash - d), d);
		struct stat ps;
		if (stat(tmp, &ps) || !S_ISDIR(ps.st_mode))
			return err_errno(e, 0, "%.200s: its parent directory does not exist", dest);
		strcat(tmp, TMP_PREFIX "XXXXXX");
	}
	if (!mkdtemp(tmp))
		return err_errno(e, errno, "make a directory beside %.200s", dest);
	int tfd = open(tmp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (tfd < 0) {
		int se = errno;
		rmdir(tmp);
		return err_errno(e, se, "%.200s", tmp);
	}
	struct tar_xopts o = { .max_bytes = max_bytes, .max_entries = max_entries, .owner = flags & CP_OWNER,
			       .no_suid = no_suid && !(flags & CP_OWNER) };
	struct tar_result res;
	int rc = tar_extract(in, tfd, &o, &res, e);
	if (rc && over)
		*over = res.over != TAR_OVER_NONE;
	if (!rc && (flags & CP_INTO)) {
		int dfd = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		rc = dfd < 0 ? err_errno(e, errno, "%.200s", dest) : merge(tfd, dfd, d, e);
		if (dfd >= 0)
			close(dfd);
	} else if (!rc) {
		if (res.several_tops)
			rc = err_errno(e, 0, "the archive holds more than one top-level entry");
		else
			rc = place(tfd, tmp, res.top, d, exists, dest_slash, flags, e);
	}
	close(tfd);
	rm_tree(AT_FDCWD, tmp);     /* what is left; gone already if renamed whole */
	return rc;
}
