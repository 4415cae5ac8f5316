/* The tar extractor of `sandbox cp` (see tar.h): the stream is hostile;
 * everything lands beneath the root, capped. */
#include "tar.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <linux/openat2.h>

#include "tar_int.h"

struct dirfix {
	char *path;
	uint32_t mode, uid, gid;
	int64_t mtime;
};

struct tr {
	int in;
	bool splice_ok;         /* the archive may give splice(2) (until refused) */
	int root;
	const struct tar_xopts *o;
	struct tar_result *res;
	struct err *e;
	uint8_t *buf;           /* IOBUF */
	/* pending overrides for the next entry (pax 'x', GNU 'L'/'K') */
	char *long_name, *long_link;
	bool has_size, has_uid, has_gid, has_mtime;
	uint64_t size, uid, gid;
	int64_t mtime;
	/* the parent directory of the last entry, kept open */
	char cached[TAR_MAX_PATH + 1];
	int cached_fd;
	struct dirfix *dirs;
	size_t ndirs, capdirs;
};

static int tr_over(struct tr *r, int which, const char *fmt, uint64_t lim)
{
	r->res->over = which;
	return err_errno(r->e, 0, fmt, (unsigned long long)lim);
}

/* N more bytes of the stream, within the cap. */
static int tr_count(struct tr *r, uint64_t n)
{
	uint64_t max = r->o->max_bytes;
	if (max && (n > max || r->res->bytes > max - n))
		return tr_over(r, TAR_OVER_BYTES, "the archive is over the limit of %llu bytes", max);
	r->res->bytes += n;
	return 0;
}

static int tr_read(struct tr *r, void *buf, size_t n)
{
	if (tr_count(r, n))
		return -1;
	ssize_t k = read_full(r->in, buf, n);
	if (k < 0)
		return err_errno(r->e, errno, "read the archive");
	if ((size_t)k < n)
		return err_errno(r->e, 0, "the archive is truncated");
	return 0;
}

static int tr_skip(struct tr *r, uint64_t n)
{
	while (n) {
		size_t k = n < IOBUF ? (size_t)n : IOBUF;
		if (tr_read(r, r->buf, k))
			return -1;
		n -= k;
	}
	return 0;
}

static uint64_t pad(uint64_t size)
{
	return (BLK - size % BLK) % BLK;
}

/* A numeric field: octal (spaces and NULs around it) or base-256. */
static bool num(const uint8_t *f, size_t n, uint64_t *out)
{
	uint64_t v = 0;
	if (f[0] & 0x80) {
		if (f[0] != 0x80)
			return false;       /* negative, or something else */
		for (size_t i = 1; i < n; i++) {
			if (v >> 56)
				return false;
			v = v << 8 | f[i];
		}
		*out = v;
		return true;
	}
	size_t i = 0;
	while (i < n && f[i] == ' ')
		i++;
	bool any = false;
	for (; i < n && f[i] >= '0' && f[i] <= '7'; i++) {
		if (v >> 60)
			return false;
		v = v << 3 | (uint64_t)(f[i] - '0');
		any = true;
	}
	for (; i < n; i++)
		if (f[i] != ' ' && f[i] != 0)
			return false;
	*out = any ? v : 0;
	return true;
}

static bool chksum_ok(const uint8_t *h)
{
	uint64_t want;
	if (!num(h + H_CHKSUM, 8, &want))
		return false;
	unsigned u = 0;
	int s = 0;
	for (int i = 0; i < BLK; i++) {
		uint8_t c = i >= H_CHKSUM && i < H_CHKSUM + 8 ? ' ' : h[i];
		u += c;
		s += (signed char)c;
	}
	return want == u || (int64_t)want == s;
}

static bool u64_str(const char *s, size_t n, uint64_t *out)
{
	uint64_t v = 0;
	if (!n)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9' || v > (UINT64_MAX - 9) / 10)
			return false;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return true;
}

static int set_str(struct tr *r, char **dst, const char *v, size_t n)
{
	if (!n || n > TAR_MAX_PATH || memchr(v, 0, n))
		return err_errno(r->e, 0, "bad name in the archive's extended header");
	char *s = malloc(n + 1);
	if (!s)
		return err_oom(r->e, "archive name");
	memcpy(s, v, n);
	s[n] = '\0';
	free(*dst);
	*dst = s;
	return 0;
}

/* The records of a pax 'x' header: "LEN KEY=VALUE\n" each. */
static int pax_parse(struct tr *r, const char *p, size_t n)
{
	while (n) {
		size_t i = 0, len = 0;
		while (i < n && i < 8 && p[i] >= '0' && p[i] <= '9')
			len = len * 10 + (size_t)(p[i++] - '0');
		if (!i || i >= n || p[i] != ' ' || len <= i + 1 || len > n || p[len - 1] != '\n')
			return err_errno(r->e, 0, "malformed pax header in the archive");
		const char *kv = p + i + 1, *end = p + len - 1;
		const char *eq = memchr(kv, '=', (size_t)(end - kv));
		if (!eq)
			return err_errno(r->e, 0, "malformed pax record in the archive");
		size_t kl = (size_t)(eq - kv), vl = (size_t)(end - eq - 1);
		const char *v = eq + 1;
		uint64_t u;
#define KEY(k) (kl == sizeof(k) - 1 && !memcmp(kv, k, kl))
		if (KEY("path")) {
			if (set_str(r, &r->long_name, v, vl))
				return -1;
		} else if (KEY("linkpath")) {
			if (set_str(r, &r->long_link, v, vl))
				return -1;
		} else if (KEY("size") || KEY("uid") || KEY("gid")) {
			if (!u64_str(v, vl, &u) || (!KEY("size") && u > UINT32_MAX))
				return err_errno(r->e, 0, "bad %.*s in the archive's pax header", (int)kl, kv);
			if (KEY("size")) {
				r->size = u;
				r->has_size = true;
			} else if (KEY("uid")) {
				r->uid = u;
				r->has_uid = true;
			} else {
				r->gid = u;
				r->has_gid = true;
			}
		} else if (KEY("mtime")) {
			/* seconds, maybe with a fraction; negative: ignored */
			size_t dl = 0;
			while (dl < vl && v[dl] != '.')
				dl++;
			if (u64_str(v, dl, &u) && u < (1ULL << 62)) {
				r->mtime = (int64_t)u;
				r->has_mtime = true;
			}
		}
#undef KEY
		p += len;
		n -= len;
	}
	return 0;
}

/* Read an extension header's data (SIZE bytes and padding). */
static int tr_ext_data(struct tr *r, uint64_t size, char **out)
{
	if (size > TAR_MAX_PAX)
		return err_errno(r->e, 0, "an extended header of %llu bytes in the archive", (unsigned long long)size);
	char *p = malloc((size_t)size + 1);
	if (!p)
		return err_oom(r->e, "archive header");
	if (tr_read(r, p, (size_t)size) || tr_skip(r, pad(size))) {
		free(p);
		return -1;
	}
	p[size] = '\0';
	*out = p;
	return 0;
}

/* NAME normalized into OUT: "." and empty components dropped, ".." or
 * a leading "/" refused. "" is the root itself. */
static int clean_path(struct tr *r, const char *name, char *out, const char *what)
{
	if (name[0] == '/')
		return err_errno(r->e, 0, "archive %s '%.200s' is absolute", what, name);
	size_t o = 0;
	const char *p = name;
	while (*p) {
		size_t n = strcspn(p, "/");
		if (n == 2 && p[0] == '.' && p[1] == '.')
			return err_errno(r->e, 0, "archive %s '%.200s' has a '..' component", what, name);
		if (n && !(n == 1 && p[0] == '.')) {
			if (o + (o ? 1 : 0) + n > TAR_MAX_PATH)
				return err_errno(r->e, 0, "archive %s longer than %d bytes", what, TAR_MAX_PATH);
			if (o)
				out[o++] = '/';
			memcpy(out + o, p, n);
			o += n;
		}
		p += n;
		while (*p == '/')
			p++;
	}
	out[o] = '\0';
	return 0;
}

static long sys_openat2(int dirfd, const char *path, int flags)
{
	struct open_how how = {
		.flags = (uint64_t)(flags | O_CLOEXEC),
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS,
	};
	long fd;
	do
		fd = syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
	while (fd < 0 && errno == EAGAIN);
	return fd;
}

/* The directory PATH (clean, may be "") beneath the root, created as
 * needed (0755), without following any symlink; kept open for the next
 * entries. Returns the fd (owned by the cache) or -1. */
static int tr_dir(struct tr *r, const char *path)
{
	if (r->cached_fd >= 0 && !strcmp(r->cached, path))
		return r->cached_fd;
	if (r->cached_fd >= 0)
		close(r->cached_fd);
	r->cached_fd = -1;
	int fd = (int)sys_openat2(r->root, path[0] ? path : ".", O_PATH | O_DIRECTORY);
	if (fd < 0 && errno == ENOENT) {
		/* one component at a time, creating what is missing */
		fd = (int)sys_openat2(r->root, ".", O_PATH | O_DIRECTORY);
		char comp[TAR_MAX_PATH + 1];
		const char *p = path;
		while (fd >= 0 && *p) {
			size_t n = strcspn(p, "/");
			memcpy(comp, p, n);
			comp[n] = '\0';
			if (mkdirat(fd, comp, 0755) && errno != EEXIST) {
				int se = errno;
				close(fd);
				errno = se;
				fd = -1;
				break;
			}
			int next = (int)sys_openat2(fd, comp, O_PATH | O_DIRECTORY);
			int se = errno;
			close(fd);
			errno = se;
			fd = next;
			p += n;
			while (*p == '/')
				p++;
		}
	}
	if (fd < 0) {
		if (errno == ELOOP || errno == ENOTDIR || errno == EXDEV)
			return err_errno(r->e, 0, "'%.200s' in the archive: a symlink or a file on the way (not followed)",
					 path);
		return err_errno(r->e, errno, "'%.200s'", path);
	}
	snprintf(r->cached, sizeof(r->cached), "%s", path);
	r->cached_fd = fd;
	return fd;
}

/* Make room for a new non-directory BASE in DFD: an existing file or
 * symlink goes; a directory stays and is an error. */
static int tr_clear(struct tr *r, int dfd, const char *base, const char *path)
{
	struct stat st;
	if (fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW)) {
		if (errno == ENOENT)
			return 0;
		return err_errno(r->e, errno, "'%.200s'", path);
	}
	if (S_ISDIR(st.st_mode))
		return err_errno(r->e, 0, "'%.200s': cannot replace a directory with a non-directory", path);
	if (unlinkat(dfd, base, 0) && errno != ENOENT)
		return err_errno(r->e, errno, "replace '%.200s'", path);
	return 0;
}

static uint32_t file_mode(struct tr *r, uint64_t mode)
{
	uint32_t m = (uint32_t)mode & 07777;
	return r->o->no_suid ? m & ~(uint32_t)(S_ISUID | S_ISGID) : m;
}

/* Move up to *LEFT bytes of the archive (a pipe) straight into FD with
 * splice(2), counted against the cap as they come: no copy through our
 * buffer. 0 (*LEFT what is still to read: all of it when splice cannot
 * serve these two, which then stays off), or -1 on an error. */
static int tr_splice(struct tr *r, int fd, const char *path, uint64_t *left)
{
	bool moved = false;
	while (*left) {
		size_t want = *left < SPLICE_CHUNK ? (size_t)*left : SPLICE_CHUNK;
		if (r->o->max_bytes && (want > r->o->max_bytes || r->res->bytes > r->o->max_bytes - want))
			return 0;       /* near the cap: the read path says so exactly */
		ssize_t n = splice(r->in, NULL, fd, NULL, want, SPLICE_F_MOVE);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP) && !moved) {
			r->splice_ok = false;
			return 0;
		}
		if (n < 0)
			return err_errno(r->e, errno, "write '%.200s'", path);
		if (n == 0)
			return err_errno(r->e, 0, "the archive is truncated");
		moved = true;
		r->res->bytes += (uint64_t)n;
		*left -= (uint64_t)n;
	}
	return 0;
}

static int tr_regular(struct tr *r, int dfd, const char *base, const char *path, uint64_t size, uint64_t mode,
		      uint64_t uid, uint64_t gid, int64_t mtime)
{
	if (tr_clear(r, dfd, base, path))
		return -1;
	int fd = openat(dfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return err_errno(r->e, errno, "create '%.200s'", path);
	uint64_t left = size;
	int rc = size >= SPLICE_MIN && r->splice_ok ? tr_splice(r, fd, path, &left) : 0;
	while (left && !rc) {
		size_t k = left < IOBUF ? (size_t)left : IOBUF;
		if (tr_read(r, r->buf, k))
			rc = -1;
		else if (write_full(fd, r->buf, k))
			rc = err_errno(r->e, errno, "write '%.200s'", path);
		left -= k;
	}
	if (!rc && r->o->owner && fchown(fd, (uid_t)uid, (gid_t)gid))
		rc = err_errno(r->e, errno, "chown '%.200s'", path);
	if (!rc && fchmod(fd, file_mode(r, mode)))
		rc = err_errno(r->e, errno, "chmod '%.200s'", path);
	struct timespec ts[2] = { { .tv_nsec = UTIME_OMIT }, { .tv_sec = (time_t)mtime } };
	if (!rc && futimens(fd, ts))
		rc = err_errno(r->e, errno, "set the time of '%.200s'", path);
	if (close(fd) && !rc)
		rc = err_errno(r->e, errno, "write '%.200s'", path);
	return rc ? -1 : tr_skip(r, pad(size));
}

static int tr_symlink(struct tr *r, int dfd, const char *base, const char *path, const char *target,
		      uint64_t uid, uint64_t gid, int64_t mtime)
{
	if (tr_clear(r, dfd, base, path))
		return -1;
	if (symlinkat(target, dfd, base))
		return err_errno(r->e, errno, "symlink '%.200s'", path);
	if (r->o->owner && fchownat(dfd, base, (uid_t)uid, (gid_t)gid, AT_SYMLINK_NOFOLLOW))
		return err_errno(r->e, errno, "chown '%.200s'", path);
	struct timespec ts[2] = { { .tv_nsec = UTIME_OMIT }, { .tv_sec = (time_t)mtime } };
	utimensat(dfd, base, ts, AT_SYMLINK_NOFOLLOW);     /* not every file system has it */
	return 0;
}

static int tr_hardlink(struct tr *r, int dfd, const char *base, const char *path, const char *target)
{
	char tclean[TAR_MAX_PATH + 1];
	if (clean_path(r, target, tclean, "link target"))
		return -1;
	if (!tclean[0])
		return err_errno(r->e, 0, "'%.200s': a hard link to the root", path);
	char *slash = strrchr(tclean, '/');
	const char *tbase = slash ? slash + 1 : tclean;
	if (slash)
		*slash = '\0';
	if (tr_clear(r, dfd, base, path))
		return -1;
	/* DFD is the cache's: open the target's parent on its own. */
	int tfd = (int)sys_openat2(r->root, slash ? tclean : ".", O_PATH | O_DIRECTORY);
	if (tfd < 0)
		return err_errno(r->e, errno, "'%.200s': link target", path);
	int rc = 0;
	if (linkat(tfd, tbase, dfd, base, 0))
		rc = err_errno(r->e, errno, "'%.200s': hard link to '%.200s'", path, target);
	close(tfd);
	return rc;
}

static int tr_mkdir(struct tr *r, int dfd, const char *base, const char *path, uint64_t mode, uint64_t uid,
		    uint64_t gid, int64_t mtime)
{
	if (base[0]) {
		struct stat st;
		if (!fstatat(dfd, base, &st, AT_SYMLINK_NOFOLLOW) && !S_ISDIR(st.st_mode) && tr_clear(r, dfd, base, path))
			return -1;
		if (mkdirat(dfd, base, 0700) && errno != EEXIST)
			return err_errno(r->e, errno, "mkdir '%.200s'", path);
	}
	/* Its mode, owner and time once everything in it is there. */
	if (r->ndirs == r->capdirs) {
		size_t cap = r->capdirs ? r->capdirs * 2 : 64;
		struct dirfix *d = realloc(r->dirs, cap * sizeof(*d));
		if (!d)
			return err_oom(r->e, "directory list");
		r->dirs = d;
		r->capdirs = cap;
	}
	char *p = strdup(path[0] ? path : ".");
	if (!p)
		return err_oom(r->e, "directory list");
	r->dirs[r->ndirs++] = (struct dirfix){ p, (uint32_t)mode & 07777, (uint32_t)uid, (uint32_t)gid, mtime };
	return 0;
}

static int tr_fix_dirs(struct tr *r)
{
	int rc = 0;
	for (size_t i = r->ndirs; i-- > 0 && !rc;) {
		struct dirfix *d = &r->dirs[i];
		int fd = (int)sys_openat2(r->root, d->path, O_RDONLY | O_DIRECTORY);
		if (fd < 0) {
			rc = err_errno(r->e, errno, "'%.200s'", d->path);
			break;
		}
		struct timespec ts[2] = { { .tv_nsec = UTIME_OMIT }, { .tv_sec = (time_t)d->mtime } };
		if (r->o->owner && fchown(fd, d->uid, d->gid))
			rc = err_errno(r->e, errno, "chown '%.200s'", d->path);
		else if (fchmod(fd, d->mode))
			rc = err_errno(r->e, errno, "chmod '%.200s'", d->path);
		else
			futimens(fd, ts);
		close(fd);
	}
	return rc;
}

static void tr_reset_ext(struct tr *r)
{
	free(r->long_name);
	free(r->long_link);
	r->long_name = r->long_link = NULL;
	r->has_size = r->has_uid = r->has_gid = r->has_mtime = false;
}

/* The first component of the raw NAME, for the result's top. */
static void note_top(struct tr *r, const char *name)
{
	size_t n = strcspn(name, "/");
	if (!r->res->entries) {
		snprintf(r->res->top, sizeof(r->res->top), "%.*s", (int)n, name);
		if (n >= sizeof(r->res->top))
			r->res->several_tops = true;   /* cannot be matched: say so */
	} else if (strlen(r->res->top) != n || memcmp(r->res->top, name, n)) {
		r->res->several_tops = true;
	}
}

/* One header block H: 1 an entry done, 0 the end of the archive, -1. */
static int tr_entry(struct tr *r, const uint8_t *h)
{
	static char name[TAR_MAX_PATH + 256 + 2], link[TAR_MAX_PATH + 2], clean[TAR_MAX_PATH + 1];
	if (!chksum_ok(h))
		return err_errno(r->e, 0, "not a tar archive (bad header checksum)");
	uint64_t mode, uid, gid, size, mtime;
	if (!num(h + H_MODE, 8, &mode) || !num(h + H_UID, 8, &uid) || !num(h + H_GID, 8, &gid) ||
	    !num(h + H_SIZE, 12, &size) || !num(h + H_MTIME, 12, &mtime))
		return err_errno(r->e, 0, "bad number in a tar header");
	char type = (char)h[H_TYPE];
	if (r->has_size)
		size = r->size;
	if (size > INT64_MAX)
		return err_errno(r->e, 0, "an entry of %llu bytes", (unsigned long long)size);
	/* extension headers: they apply to the next entry */
	if (type == 'x' || type == 'L' || type == 'K') {
		char *data = NULL;
		if (tr_ext_data(r, size, &data))
			return -1;
		int rc;
		if (type == 'x') {
			rc = pax_parse(r, data, (size_t)size);
		} else {
			size_t n = strnlen(data, (size_t)size);
			rc = set_str(r, type == 'L' ? &r->long_name : &r->long_link, data, n);
		}
		free(data);
		return rc ? -1 : 1;
	}
	if (type == 'g') {
		tr_reset_ext(r);
		return tr_skip(r, size + pad(size)) ? -1 : 1;
	}
	if (r->o->max_entries && r->res->entries >= r->o->max_entries)
		return tr_over(r, TAR_OVER_ENTRIES, "the archive has more than %llu entries", r->o->max_entries);
	if (r->has_uid)
		uid = r->uid;
	if (r->has_gid)
		gid = r->gid;
	int64_t mt = r->has_mtime ? r->mtime : (int64_t)mtime;
	if (uid > UINT32_MAX - 1 || gid > UINT32_MAX - 1)
		return err_errno(r->e, 0, "uid or gid out of range in the archive");
	if (r->long_name) {
		snprintf(name, sizeof(name), "%s", r->long_name);
	} else {
		bool ustar = !memcmp(h + H_MAGIC, "ustar", 6);
		size_t pl = ustar ? strnlen((const char *)h + H_PREFIX, 155) : 0;
		size_t nl = strnlen((const char *)h + H_NAME, 100);
		if (pl) {
			memcpy(name, h + H_PREFIX, pl);
			name[pl] = '/';
		}
		memcpy(name + (pl ? pl + 1 : 0), h + H_NAME, nl);
		name[(pl ? pl + 1 : 0) + nl] = '\0';
	}
	if (r->long_link)
		snprintf(link, sizeof(link), "%s", r->long_link);
	else
		snprintf(link, sizeof(link), "%.*s", (int)strnlen((const char *)h + H_LINK, 100), (const char *)h + H_LINK);
	if (!name[0])
		return err_errno(r->e, 0, "an entry without a name in the archive");
	if (clean_path(r, name, clean, "name"))
		return -1;
	note_top(r, name);
	r->res->entries++;

	char *slash = strrchr(clean, '/');
	const char *base = slash ? slash + 1 : clean;
	if (slash)
		*slash = '\0';
	int dfd = tr_dir(r, slash ? clean : "");
	if (slash)
		*slash = '/';
	if (dfd < 0)
		return -1;
	int rc;
	switch (type) {
	case '0': case '\0': case '7':
		if (!base[0])
			return err_errno(r->e, 0, "'%.200s': a file as the root", name);
		rc = tr_regular(r, dfd, base, clean, size, mode, uid, gid, mt);
		break;
	case '5':
		rc = tr_mkdir(r, dfd, base, clean, mode, uid, gid, mt);
		if (!rc)
			rc = tr_skip(r, size + pad(size));
		break;
	case '2':
		if (!base[0] || !link[0])
			return err_errno(r->e, 0, "'%.200s': a bad symlink entry", name);
		rc = tr_symlink(r, dfd, base, clean, link, uid, gid, mt);
		if (!rc)
			rc = tr_skip(r, size + pad(size));
		break;
	case '1':
		if (!base[0] || !link[0])
			return err_errno(r->e, 0, "'%.200s': a bad hard link entry", name);
		rc = tr_hardlink(r, dfd, base, clean, link);
		if (!rc)
			rc = tr_skip(r, size + pad(size));
		break;
	case '3': case '4': case '6':     /* devices and FIFOs: not created */
		rc = tr_skip(r, size + pad(size));
		break;
	default:
		return err_errno(r->e, 0, "'%.200s': unsupported entry type '%c' in the archive", name,
				 type >= 32 && type < 127 ? type : '?');
	}
	tr_reset_ext(r);
	return rc ? -1 : 1;
}

int tar_extract(int in, int root, const struct tar_xopts *o, struct tar_result *res, struct err *e)
{
	struct tar_result local;
	if (!res)
		res = &local;
	memset(res, 0, sizeof(*res));
	struct tr r = { .in = in, .root = root, .o = o, .res = res, .e = e, .cached_fd = -1, .splice_ok = true };
	if (!(r.buf = malloc(IOBUF)))
		return err_oom(e, "archive buffer");
	int rc = 0;
	bool any = false;
	for (;;) {
		uint8_t h[BLK];
		ssize_t k = read_full(in, h, BLK);
		if (k < 0) {
			rc = err_errno(e, errno, "read the archive");
			break;
		}
		if (k == 0 && any)      /* no end blocks: take it as the end */
			break;
		if (k < BLK) {
			rc = err_errno(e, 0, k ? "the archive is truncated" : "the archive is empty");
			break;
		}
		if (tr_count(&r, BLK)) {
			rc = -1;
			break;
		}
		any = true;
		static const uint8_t zero[BLK];
		if (!memcmp(h, zero, BLK))
			break;      /* the end (its second block is not needed) */
		int n = tr_entry(&r, h);
		if (n < 0) {
			rc = -1;
			break;
		}
	}
	if (!rc && (r.long_name || r.long_link || r.has_size))
		rc = err_errno(e, 0, "the archive ends after an extended header");
	if (!rc && !res->entries)
		rc = err_errno(e, 0, "the archive holds nothing");
	if (!rc)
		rc = tr_fix_dirs(&r);
	tr_reset_ext(&r);
	for (size_t i = 0; i < r.ndirs; i++)
		free(r.dirs[i].path);
	free(r.dirs);
	if (r.cached_fd >= 0)
		close(r.cached_fd);
	free(r.buf);
	return rc;
}
