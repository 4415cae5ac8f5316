/* Paths beneath the image root (apply_impl.h): tar paths normalised, the
 * parent of an entry opened one component at a time with
 * openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS) (missing ones made and
 * recorded), directories recorded for their modes and times. */
#include "apply_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

int path_normalise(char *p)
{
	if (p[0] == '/')
		return -1;
	char *r = p, *w = p;
	while (*r) {
		char *end = strchr(r, '/');
		size_t len = end ? (size_t)(end - r) : strlen(r);
		if (len == 2 && r[0] == '.' && r[1] == '.')
			return -1;
		if (len && !(len == 1 && r[0] == '.')) {
			if (w != p)
				*w++ = '/';
			memmove(w, r, len);
			w += len;
		}
		r += len;
		while (*r == '/')
			r++;
	}
	*w = '\0';
	return 0;
}

int apply_open_parent(struct apply *a, char *path, const char **name, bool create, struct err *e)
{
	char *slash = strrchr(path, '/');
	*name = slash ? slash + 1 : path;
	int fd = dup(a->rootfd);
	if (fd < 0 || !slash)
		return fd < 0 ? err_sys(e, "dup") : fd;
	char full[4096];
	snprintf(full, sizeof(full), "%s", path);
	*slash = '\0';
	char *comp = path;
	int rc = 0;
	while (comp) {
		char *next = strchr(comp, '/');
		if (next)
			*next = '\0';
		struct open_how how = {
			.flags = O_PATH | O_DIRECTORY | O_CLOEXEC,
			.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
		};
		int nfd = (int)syscall(SYS_openat2, fd, comp, &how, sizeof(how));
		if (nfd < 0 && errno == ENOENT && !create) {
			close(fd);
			*slash = '/';
			if (next)
				*next = '/';
			errno = ENOENT;
			return -1;
		}
		if (nfd < 0 && errno == ENOENT) {
			if (mkdirat(fd, comp, 0755) && errno != EEXIST)
				rc = err_sys(e, "mkdir %s", full);
			else if (!apply_dir_rec(a, path, e)) /* 0755, time 0 unless an entry says */
				rc = -1;
			else
				nfd = (int)syscall(SYS_openat2, fd, comp, &how, sizeof(how));
		}
		if (nfd < 0 && !rc) {
			if (errno == ELOOP || errno == EXDEV)
				rc = err_set(e, "%s: parent %s is a symlink (refusing to follow)", full, path);
			else
				rc = err_sys(e, "%s", full);
		}
		if (next)
			*next = '/';
		close(fd);
		if (rc)
			break;
		fd = nfd;
		comp = next ? next + 1 : NULL;
	}
	*slash = '/';
	return rc ? -1 : fd;
}

int apply_open_dir(struct apply *a, const char *path)
{
	if (!*path)
		return dup(a->rootfd);
	struct open_how how = {
		.flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	return (int)syscall(SYS_openat2, a->rootfd, path, &how, sizeof(how));
}

struct dir_rec *apply_dir_rec(struct apply *a, const char *path, struct err *e)
{
	if (a->ndirs == a->capdirs) {
		size_t cap = a->capdirs ? a->capdirs * 2 : 64;
		struct dir_rec *dirs = realloc(a->dirs, cap * sizeof(*dirs));
		if (!dirs) {
			err_oom(e, "directories");
			return NULL;
		}
		a->dirs = dirs;
		a->capdirs = cap;
	}
	char *copy = strdup(path);
	if (!copy) {
		err_oom(e, "directories");
		return NULL;
	}
	struct dir_rec *d = &a->dirs[a->ndirs++];
	*d = (struct dir_rec){ .path = copy, .mode = 0755 };
	return d;
}
