/* Layer application: tar entries (libarchive) into a directory, in order,
 * never outside it.
 *
 * Every entry path is normalised ("./" and trailing "/" dropped) and
 * rejected if absolute or containing "..". Its parent is walked one
 * component at a time with openat2(RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS),
 * so a symlink anywhere in the parent path is an error, never followed;
 * missing parents are created (0755). The final component is created with
 * *at() calls relative to that parent fd, without following symlinks.
 *
 * Whiteouts (layers only): ".wh.NAME" removes NAME from lower layers,
 * ".wh..wh..opq" marks its directory opaque: at the end of the layer every
 * child not written by this layer is removed (OCI image spec: whiteouts
 * apply to lower layers only).
 *
 * Ownership is applied when running as root (chown); otherwise files
 * belong to the importing user and mkfs makes them root-owned (mkfs.c).
 * Device nodes are created only as root, else skipped with a note.
 * Directory modes and times are applied at the end (children would
 * change the times; a read-only directory would block its children).
 *
 * Limits: an untrusted image must not fill the host's disk, nor hand
 * mkfs a terabyte of sparse holes to read. The regular-file bytes (each
 * file's final size, holes included) and the entries of everything one
 * struct apply unpacks are capped (16 GiB, 1000000; SANDBOX_IMAGE_MAX_BYTES
 * and SANDBOX_IMAGE_MAX_ENTRIES), checked before anything past the cap is
 * written. */
#include "image.h"

#include <archive.h>
#include <archive_entry.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <unistd.h>

struct dir_rec {
	char *path;
	mode_t mode;
	struct timespec times[2];
};

/* A set of paths (open addressing, FNV-1a). */
struct pathset {
	char **slot;
	size_t cap, n;
};

struct apply {
	int rootfd;
	bool layers, root;
	struct dir_rec *dirs;
	size_t ndirs, capdirs;
	struct pathset seen;     /* paths written by the current layer */
	char **opaque;           /* opaque dirs of the current layer */
	size_t nopaque;
	unsigned long skipped_dev;
	/* Limits (apply_set_limits, else the environment on the first tar). */
	bool limits_set;
	uint64_t max_bytes, max_entries;
	uint64_t bytes, entries; /* used so far, across every tar */
};

static uint64_t fnv(const char *s)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ULL;
	return h;
}

static bool pathset_has(const struct pathset *p, const char *s)
{
	if (!p->cap)
		return false;
	for (size_t i = fnv(s) & (p->cap - 1);; i = (i + 1) & (p->cap - 1)) {
		if (!p->slot[i])
			return false;
		if (!strcmp(p->slot[i], s))
			return true;
	}
}

static int pathset_add(struct pathset *p, const char *s, struct err *e)
{
	if (pathset_has(p, s))
		return 0;
	char *copy = strdup(s);
	if (!copy)
		return err_oom(e, "layer paths");
	if ((p->n + 1) * 2 > p->cap) {
		struct pathset np = { .cap = p->cap ? p->cap * 2 : 256 };
		np.slot = calloc(np.cap, sizeof(char *));
		if (!np.slot) {
			free(copy);
			return err_oom(e, "layer paths");
		}
		for (size_t i = 0; i < p->cap; i++)
			if (p->slot[i]) {
				size_t j = fnv(p->slot[i]) & (np.cap - 1);
				while (np.slot[j])
					j = (j + 1) & (np.cap - 1);
				np.slot[j] = p->slot[i];
				np.n++;
			}
		free(p->slot);
		*p = np;
	}
	size_t i = fnv(s) & (p->cap - 1);
	while (p->slot[i])
		i = (i + 1) & (p->cap - 1);
	p->slot[i] = copy;
	p->n++;
	return 0;
}

static void pathset_clear(struct pathset *p)
{
	for (size_t i = 0; i < p->cap; i++)
		free(p->slot[i]);
	free(p->slot);
	memset(p, 0, sizeof(*p));
}

static struct dir_rec *new_dir_rec(struct apply *a, const char *path, struct err *e);

struct apply *apply_new(int rootfd, bool layers, struct err *e)
{
	struct apply *a = calloc(1, sizeof(*a));
	if (!a) {
		err_oom(e, "apply");
		return NULL;
	}
	a->rootfd = rootfd;
	a->layers = layers;
	a->root = geteuid() == 0;
	if (!new_dir_rec(a, "", e)) { /* root: 0755, time 0 unless an entry says */
		apply_free(a);
		return NULL;
	}
	return a;
}

void apply_free(struct apply *a)
{
	if (!a)
		return;
	for (size_t i = 0; i < a->ndirs; i++)
		free(a->dirs[i].path);
	free(a->dirs);
	for (size_t i = 0; i < a->nopaque; i++)
		free(a->opaque[i]);
	free(a->opaque);
	pathset_clear(&a->seen);
	free(a);
}

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

/* Open the parent directory of PATH (normalised, not "") beneath the
 * root, creating missing directories if CREATE (else -1 with errno
 * ENOENT and no message); *name points at the last component. */
static int open_parent_x(struct apply *a, char *path, const char **name, bool create, struct err *e)
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
			else if (!new_dir_rec(a, path, e)) /* 0755, time 0 unless an entry says */
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

static struct dir_rec *new_dir_rec(struct apply *a, const char *path, struct err *e)
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

static int open_parent(struct apply *a, char *path, const char **name, struct err *e)
{
	return open_parent_x(a, path, name, true, e);
}

static int add_dir(struct apply *a, const char *path, struct archive_entry *ent, struct err *e)
{
	struct dir_rec *d = new_dir_rec(a, path, e);
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

static int do_whiteout(struct apply *a, char *path, const char *name, int pfd, struct err *e)
{
	if (!strcmp(name, ".wh..wh..opq")) {
		char *slash = strrchr(path, '/');
		char *dir = slash ? strndup(path, (size_t)(slash - path)) : strdup("");
		char **opaque = dir ? realloc(a->opaque, (a->nopaque + 1) * sizeof(char *)) : NULL;
		if (!opaque) {
			free(dir);
			return err_oom(e, "whiteouts");
		}
		a->opaque = opaque;
		a->opaque[a->nopaque++] = dir;
		return 0;
	}
	const char *victim = name + 4;
	if (!*victim || !strcmp(victim, ".") || !strcmp(victim, ".."))
		return err_set(e, "%s: bad whiteout", path);
	/* The path of the hidden entry, to skip same-layer entries. */
	size_t plen = (size_t)(name - path);
	char *vpath = malloc(plen + strlen(victim) + 1);
	if (!vpath)
		return err_oom(e, "whiteouts");
	memcpy(vpath, path, plen);
	strcpy(vpath + plen, victim);
	bool same = pathset_has(&a->seen, vpath);
	free(vpath);
	if (!same && rm_rf_at(pfd, victim))
		return err_sys(e, "whiteout %s", path);
	return 0;
}

/* Remove children of DIRFD (whose path is PREFIX) not written this layer. */
/* Deep enough for any real image; an input nesting directories deeper
 * under an opaque whiteout is refused rather than walked (each level holds
 * two descriptors and a path). */
#define OPAQUE_MAX_DEPTH 256

static int prune_opaque(struct apply *a, int dirfd, const char *prefix, unsigned depth, struct err *e)
{
	if (depth > OPAQUE_MAX_DEPTH)
		return err_set(e, "directories nested deeper than %d levels under an opaque whiteout (%.200s...)",
			       OPAQUE_MAX_DEPTH, prefix);
	size_t cap = strlen(prefix) + 2 + 256;  /* prefix, '/', a d_name (< 256), NUL */
	char *child = malloc(cap);
	if (!child) {
		errno = ENOMEM;         /* err_oom's message, with the path */
		return err_sys(e, "opaque %s", prefix);
	}
	int fd = dup(dirfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		if (fd >= 0)
			close(fd);
		free(child);
		return err_sys(e, "opaque %s", prefix);
	}
	struct dirent *de;
	int rc = 0;
	while (!rc && (de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		snprintf(child, cap, "%s%s%s", prefix, *prefix ? "/" : "", de->d_name);
		if (!pathset_has(&a->seen, child)) {
			if (rm_rf_at(dirfd, de->d_name))
				rc = err_sys(e, "opaque: remove %s", child);
			continue;
		}
		if (de->d_type == DT_DIR) {
			int cfd = openat(dirfd, de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
			if (cfd < 0)
				rc = err_sys(e, "opaque %s", child);
			else {
				rc = prune_opaque(a, cfd, child, depth + 1, e);
				close(cfd);
			}
		}
	}
	closedir(d);
	free(child);
	return rc;
}

static int finish_layer(struct apply *a, struct err *e)
{
	int rc = 0;
	for (size_t i = 0; i < a->nopaque && !rc; i++) {
		int fd;
		if (!*a->opaque[i]) {
			fd = dup(a->rootfd);
		} else {
			struct open_how how = {
				.flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC,
				.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
			};
			fd = (int)syscall(SYS_openat2, a->rootfd, a->opaque[i], &how, sizeof(how));
		}
		if (fd < 0) {
			if (errno != ENOENT)
				rc = err_sys(e, "opaque %s", a->opaque[i]);
			continue;
		}
		rc = prune_opaque(a, fd, a->opaque[i], 0, e);
		close(fd);
	}
	for (size_t i = 0; i < a->nopaque; i++)
		free(a->opaque[i]);
	a->nopaque = 0;
	pathset_clear(&a->seen);
	return rc;
}

static int apply_entry(struct apply *a, struct archive *ar, struct archive_entry *ent, struct err *e)
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
		pfd = open_parent_x(a, path, &name, false, e);
		if (pfd < 0)
			rc = errno == ENOENT ? 0 : -1;
		else
			rc = do_whiteout(a, path, name, pfd, e);
		goto out;
	}
	pfd = open_parent(a, path, &name, e);
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
		int tfd = open_parent(a, tpath, &tname, e);
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

void apply_set_limits(struct apply *a, uint64_t max_bytes, uint64_t max_entries)
{
	a->max_bytes = max_bytes;
	a->max_entries = max_entries;
	a->limits_set = true;
}

/* SANDBOX_IMAGE_MAX_BYTES: plain digits are bytes (parse_size would read
 * them as MiB), else parse_size's k/m/g forms. A bad value is an error,
 * not the default: the user asked for a limit we cannot honour. */
static int env_limits(struct apply *a, struct err *e)
{
	uint64_t bytes = APPLY_MAX_BYTES, entries = APPLY_MAX_ENTRIES;
	const char *s = getenv("SANDBOX_IMAGE_MAX_BYTES");
	if (s && *s) {
		const char *p = s;
		while (isdigit((unsigned char)*p))
			p++;
		bool ok;
		if (!*p) {
			errno = 0;
			bytes = strtoull(s, NULL, 10);
			ok = !errno;
		} else {
			ok = !parse_size(s, &bytes);
		}
		if (!ok)
			return err_set(e, "SANDBOX_IMAGE_MAX_BYTES=%.100s: not a size (bytes, or a number with k, m or g)", s);
		if (!bytes)
			return err_set(e, "SANDBOX_IMAGE_MAX_BYTES=%.100s: must be more than 0", s);
	}
	s = getenv("SANDBOX_IMAGE_MAX_ENTRIES");
	if (s && *s) {
		char *end;
		errno = 0;
		entries = strtoull(s, &end, 10);
		if (!isdigit((unsigned char)*s) || *end || errno)
			return err_set(e, "SANDBOX_IMAGE_MAX_ENTRIES=%.100s: not a number", s);
		if (!entries)
			return err_set(e, "SANDBOX_IMAGE_MAX_ENTRIES=%.100s: must be more than 0", s);
	}
	apply_set_limits(a, bytes, entries);
	return 0;
}

/* The tar reader's input: the decompressed stream of an hstream. */
struct tar_in {
	struct hstream *h;
	char buf[1 << 16];
};

static la_ssize_t tar_fill(struct archive *ar, void *arg, const void **out)
{
	struct tar_in *t = arg;
	ssize_t n = hstream_read(t->h, t->buf, sizeof(t->buf));
	if (n < 0) {
		archive_set_error(ar, EIO, "%s", hstream_error(t->h));
		return -1;
	}
	*out = t->buf;
	return n;
}

int apply_tar_fd(struct apply *a, int fd, struct stream_digests *d, struct err *e)
{
	if (d)
		d->blob[0] = d->diff[0] = '\0';
	if (!a->limits_set && env_limits(a, e))
		return -1;
	struct tar_in *t = malloc(sizeof(*t));
	if (!t)
		return err_oom(e, "tar reader");
	if (!(t->h = hstream_open(fd, e))) {
		free(t);
		return -1;
	}
	/* Decompression is the hstream's; this reader sees a plain tar. */
	struct archive *ar = archive_read_new();
	if (!ar) {
		hstream_free(t->h);
		free(t);
		return err_oom(e, "tar reader");
	}
	int rc = -1;
	bool finished = false;
	/* These fail only for want of memory; libarchive must not be opened
	 * half set up. */
	if (archive_read_support_format_tar(ar) != ARCHIVE_OK ||
	    archive_read_support_format_gnutar(ar) != ARCHIVE_OK ||
	    archive_read_open(ar, t, NULL, tar_fill, NULL) != ARCHIVE_OK) {
		err_set(e, "%s", archive_error_string(ar));
		goto out;
	}
	struct archive_entry *ent;
	int r;
	while ((r = archive_read_next_header(ar, &ent)) == ARCHIVE_OK || r == ARCHIVE_WARN) {
		/* Counted before it is applied: whiteouts, links and
		 * directories cost inodes and mkfs time too. */
		if (++a->entries > a->max_entries) {
			err_set(e, "image has more than %llu entries (SANDBOX_IMAGE_MAX_ENTRIES)",
				(unsigned long long)a->max_entries);
			goto out;
		}
		if (apply_entry(a, ar, ent, e))
			goto out;
	}
	if (r != ARCHIVE_EOF) {
		err_set(e, "%s", archive_error_string(ar));
		goto out;
	}
	if (a->layers && finish_layer(a, e))
		goto out;
	struct stream_digests dummy;
	rc = hstream_finish(t->h, d ? d : &dummy, e);
	finished = true;
out:
	/* The layer failed: the blob's digest tells a corrupt blob. */
	if (rc && d && !finished)
		hstream_blob_only(t->h, d);
	archive_read_free(ar);
	hstream_free(t->h);
	free(t);
	return rc;
}

int apply_tar_at(struct apply *a, int dirfd, const char *path, struct err *e)
{
	int fd = open_beneath(dirfd, path, O_RDONLY, e);
	if (fd < 0)
		return -1;
	int rc = apply_tar_fd(a, fd, NULL, e);
	close(fd);
	return rc;
}

int apply_finish(struct apply *a, struct err *e)
{
	/* Later records win: apply in order. Vanished directories are fine. */
	for (size_t i = 0; i < a->ndirs; i++) {
		struct dir_rec *d = &a->dirs[i];
		int fd;
		if (!*d->path) {
			fd = dup(a->rootfd);
		} else {
			struct open_how how = {
				.flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC,
				.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
			};
			fd = (int)syscall(SYS_openat2, a->rootfd, d->path, &how, sizeof(how));
		}
		if (fd < 0) {
			if (errno == ENOENT || errno == ENOTDIR)
				continue;
			return err_sys(e, "%s", d->path);
		}
		if (fchmod(fd, d->mode) || futimens(fd, d->times)) {
			close(fd);
			return err_sys(e, "%s", d->path);
		}
		close(fd);
	}
	return 0;
}
