/* The tar writer of `sandbox cp` (see tar.h): a tree as ustar, pax and
 * GNU long names where they are needed. */
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

struct tw {
	int out;
	bool splice_ok;         /* the archive may take splice(2) (until refused) */
	uint8_t *buf;           /* IOBUF: headers and small files gathered */
	size_t len;
	char path[TAR_MAX_PATH + 2];   /* the current entry's name */
	struct err *e;
};

static int tw_flush(struct tw *w)
{
	if (w->len && write_full(w->out, w->buf, w->len))
		return err_errno(w->e, errno, "write the archive");
	w->len = 0;
	return 0;
}

static int tw_put(struct tw *w, const void *p, size_t n)
{
	while (n) {
		if (w->len == IOBUF && tw_flush(w))
			return -1;
		size_t k = n < IOBUF - w->len ? n : IOBUF - w->len;
		memcpy(w->buf + w->len, p, k);
		w->len += k;
		p = (const char *)p + k;
		n -= k;
	}
	return 0;
}

/* An octal field of N bytes (N-1 digits and a NUL); false if V does not fit. */
static bool octal(uint8_t *f, size_t n, uint64_t v)
{
	if (n < 22 && v >> (3 * (n - 1)))
		return false;
	f[n - 1] = 0;
	for (size_t i = n - 1; i-- > 0; v >>= 3)
		f[i] = (uint8_t)('0' + (v & 7));
	return true;
}

static size_t digits(size_t v)
{
	size_t d = 1;
	while (v >= 10) {
		v /= 10;
		d++;
	}
	return d;
}

/* One pax record "LEN KEY=VALUE\n" appended to P (cap bytes, *len used). */
static bool pax_rec(char *p, size_t cap, size_t *len, const char *key, const char *val)
{
	size_t body = 1 + strlen(key) + 1 + strlen(val) + 1;   /* " key=val\n" */
	size_t n = body + digits(body);
	if (digits(n) != digits(body))
		n = body + digits(n);
	if (n > cap - *len)
		return false;
	int k = snprintf(p + *len, cap - *len, "%zu %s=%s\n", n, key, val);
	if (k < 0 || (size_t)k != n)
		return false;
	*len += n;
	return true;
}

static void chksum(uint8_t *h)
{
	memset(h + H_CHKSUM, ' ', 8);
	unsigned sum = 0;
	for (int i = 0; i < BLK; i++)
		sum += h[i];
	snprintf((char *)h + H_CHKSUM, 8, "%06o", sum);
	h[H_CHKSUM + 7] = ' ';
}

static void header_base(uint8_t *h, char type)
{
	memset(h, 0, BLK);
	h[H_TYPE] = (uint8_t)type;
	memcpy(h + H_MAGIC, "ustar", 6);
	memcpy(h + H_VERSION, "00", 2);
}

/* The header(s) of the entry named w->path: a pax header first for what
 * the ustar fields cannot hold. */
static int tw_header(struct tw *w, const struct stat *st, char type, uint64_t size, const char *link)
{
	static char pax[3 * TAR_MAX_PATH];
	size_t plen = 0;
	bool ok = true;
	uint8_t h[BLK];
	char num[32];
	header_base(h, type);
	size_t nlen = strlen(w->path);
	if (nlen <= 100)
		memcpy(h + H_NAME, w->path, nlen);
	else
		ok = ok && pax_rec(pax, sizeof(pax), &plen, "path", w->path);
	if (link) {
		size_t llen = strlen(link);
		if (llen <= 100)
			memcpy(h + H_LINK, link, llen);
		else
			ok = ok && pax_rec(pax, sizeof(pax), &plen, "linkpath", link);
	}
	octal(h + H_MODE, 8, (uint64_t)st->st_mode & 07777);
	if (!octal(h + H_UID, 8, st->st_uid)) {
		snprintf(num, sizeof(num), "%u", (unsigned)st->st_uid);
		ok = ok && pax_rec(pax, sizeof(pax), &plen, "uid", num);
	}
	if (!octal(h + H_GID, 8, st->st_gid)) {
		snprintf(num, sizeof(num), "%u", (unsigned)st->st_gid);
		ok = ok && pax_rec(pax, sizeof(pax), &plen, "gid", num);
	}
	if (!octal(h + H_SIZE, 12, size)) {
		snprintf(num, sizeof(num), "%" PRIu64, size);
		ok = ok && pax_rec(pax, sizeof(pax), &plen, "size", num);
	}
	octal(h + H_MTIME, 12, st->st_mtime > 0 && (uint64_t)st->st_mtime < 077777777777ULL ? (uint64_t)st->st_mtime : 0);
	if (!ok)
		return err_errno(w->e, 0, "%.200s: name too long for the archive", w->path);
	if (plen) {
		uint8_t x[BLK];
		header_base(x, 'x');
		snprintf((char *)x + H_NAME, 100, "PaxHeader/%.80s", w->path + (nlen > 80 ? nlen - 80 : 0));
		octal(x + H_MODE, 8, 0644);
		octal(x + H_UID, 8, 0);
		octal(x + H_GID, 8, 0);
		octal(x + H_SIZE, 12, plen);
		octal(x + H_MTIME, 12, 0);
		chksum(x);
		static const uint8_t zero[BLK];
		if (tw_put(w, x, BLK) || tw_put(w, pax, plen) || tw_put(w, zero, (BLK - plen % BLK) % BLK))
			return -1;
	}
	chksum(h);
	return tw_put(w, h, BLK);
}

/* Move up to LEFT bytes of FD straight into the archive (a pipe) with
 * splice(2): the file's pages go to the pipe without a copy through our
 * buffer. *LEFT counts down, *EOF is set if the file ended early (it
 * shrank). 0, or 1 when splice cannot serve these two (EINVAL and the
 * like before any byte: the caller copies instead), or -1 on an error. */
static int tw_splice(struct tw *w, int fd, uint64_t *left, bool *eof)
{
	if (tw_flush(w))
		return -1;
	bool moved = false;
	while (*left) {
		ssize_t n = splice(fd, NULL, w->out, NULL, *left < SPLICE_CHUNK ? (size_t)*left : SPLICE_CHUNK,
				   SPLICE_F_MORE);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && !moved && (errno == EINVAL || errno == ENOSYS || errno == EOPNOTSUPP))
			return 1;
		if (n < 0)
			return err_errno(w->e, errno, "%.200s into the archive", w->path);
		if (n == 0) {
			*eof = true;
			return 0;
		}
		moved = true;
		*left -= (uint64_t)n;
	}
	return 0;
}

/* A regular file's data: SIZE bytes (zeros if it shrank meanwhile),
 * padded to the block. From SPLICE_MIN bytes on, by splice(2) where the
 * archive is a pipe. */
static int tw_data(struct tw *w, int fd, uint64_t size)
{
	uint64_t left = size;
	bool eof = false;
	if (size >= SPLICE_MIN && w->splice_ok) {
		int r = tw_splice(w, fd, &left, &eof);
		if (r < 0)
			return -1;
		if (r > 0)
			w->splice_ok = false;   /* not a pipe: copy from now on */
	}
	while (left) {
		if (w->len == IOBUF && tw_flush(w))
			return -1;
		size_t room = IOBUF - w->len, k = left < room ? (size_t)left : room;
		ssize_t n = eof ? 0 : read_full(fd, w->buf + w->len, k);
		if (n < 0)
			return err_errno(w->e, errno, "read %.200s", w->path);
		if ((size_t)n < k) {
			eof = true;
			memset(w->buf + w->len + n, 0, k - (size_t)n);
		}
		w->len += k;
		left -= k;
	}
	static const uint8_t zero[BLK];
	return tw_put(w, zero, (BLK - size % BLK) % BLK);
}

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int tw_entry(struct tw *w, int dirfd, const char *name, bool follow, int depth);

/* The children of the directory open as FD, sorted by name. */
static int tw_children(struct tw *w, int fd, int depth)
{
	int dfd = dup(fd);
	DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
	if (!d) {
		if (dfd >= 0)
			close(dfd);
		return err_errno(w->e, errno, "read the directory %.200s", w->path);
	}
	char **names = NULL;
	size_t n = 0, cap = 0;
	int rc = 0;
	struct dirent *de;
	errno = 0;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			char **nn = realloc(names, cap * sizeof(*names));
			if (!nn) {
				rc = err_oom(w->e, "directory listing");
				goto out;
			}
			names = nn;
		}
		if (!(names[n] = strdup(de->d_name))) {
			rc = err_oom(w->e, "directory listing");
			goto out;
		}
		n++;
	}
	if (errno) {
		rc = err_errno(w->e, errno, "read the directory %.200s", w->path);
		goto out;
	}
	if (n)  /* an empty directory has no list at all (qsort wants one) */
		qsort(names, n, sizeof(*names), name_cmp);
	size_t base = strlen(w->path);
	for (size_t i = 0; i < n && !rc; i++) {
		size_t cl = strlen(names[i]);
		if (base + 1 + cl > TAR_MAX_PATH) {
			rc = err_errno(w->e, 0, "%.200s/%.40s: path longer than %d bytes", w->path, names[i],
				       TAR_MAX_PATH);
			break;
		}
		w->path[base] = '/';
		memcpy(w->path + base + 1, names[i], cl + 1);
		rc = tw_entry(w, fd, names[i], false, depth + 1);
		w->path[base] = '\0';
	}
out:
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	closedir(d);
	return rc;
}

/* The entry NAME in DIRFD, archived as w->path. */
static int tw_entry(struct tw *w, int dirfd, const char *name, bool follow, int depth)
{
	struct stat st;
	if (fstatat(dirfd, name, &st, follow ? 0 : AT_SYMLINK_NOFOLLOW))
		return err_errno(w->e, errno, "%.200s", w->path);
	int nf = follow ? 0 : O_NOFOLLOW;
	if (S_ISREG(st.st_mode)) {
		int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK | nf);
		if (fd < 0)
			return err_errno(w->e, errno, "open %.200s", w->path);
		int rc = -1;
		if (fstat(fd, &st))
			err_errno(w->e, errno, "%.200s", w->path);
		else if (!S_ISREG(st.st_mode))
			rc = 0;     /* replaced meanwhile: skip it */
		else if (!tw_header(w, &st, '0', (uint64_t)st.st_size, NULL))
			rc = tw_data(w, fd, (uint64_t)st.st_size);
		close(fd);
		return rc;
	}
	if (S_ISLNK(st.st_mode)) {
		static char link[TAR_MAX_PATH + 1];
		ssize_t n = readlinkat(dirfd, name, link, sizeof(link));
		if (n < 0)
			return err_errno(w->e, errno, "readlink %.200s", w->path);
		if ((size_t)n > TAR_MAX_PATH)
			return err_errno(w->e, 0, "%.200s: link target longer than %d bytes", w->path, TAR_MAX_PATH);
		link[n] = '\0';
		return tw_header(w, &st, '2', 0, link);
	}
	if (S_ISDIR(st.st_mode)) {
		if (depth >= TAR_MAX_DEPTH)
			return err_errno(w->e, 0, "%.200s: more than %d directories deep", w->path, TAR_MAX_DEPTH);
		int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_CLOEXEC | nf);
		if (fd < 0)
			return err_errno(w->e, errno, "open %.200s", w->path);
		int rc = fstat(fd, &st) ? err_errno(w->e, errno, "%.200s", w->path) : tw_header(w, &st, '5', 0, NULL);
		if (!rc)
			rc = tw_children(w, fd, depth);
		close(fd);
		return rc;
	}
	return 0;   /* devices, FIFOs, sockets: not copied */
}

int tar_write(int out, int dirfd, const char *path, const char *arcname, unsigned flags, struct err *e)
{
	struct tw w = { .out = out, .e = e, .splice_ok = true };
	size_t alen = strlen(arcname);
	if (!alen || alen > TAR_MAX_PATH)
		return err_errno(e, 0, "archive name of %zu bytes", alen);
	memcpy(w.path, arcname, alen + 1);
	/* The parent, followed; the last component as FLAGS say. */
	char parent[TAR_MAX_PATH + 2], last[TAR_MAX_PATH + 2];
	int pfd = dirfd;
	size_t plen = strlen(path);
	while (plen > 1 && path[plen - 1] == '/')
		plen--;
	if (!plen || plen > TAR_MAX_PATH)
		return err_errno(e, 0, "a path of %zu bytes", plen);
	memcpy(parent, path, plen);
	parent[plen] = '\0';
	char *slash = strrchr(parent, '/');
	if (slash && plen > 1) {
		snprintf(last, sizeof(last), "%s", slash + 1);
		if (slash == parent)
			slash[1] = '\0';
		else
			*slash = '\0';
		pfd = openat(dirfd, parent, O_PATH | O_DIRECTORY | O_CLOEXEC);
		if (pfd < 0)
			return err_errno(e, errno, "%.200s", parent);
	} else {
		snprintf(last, sizeof(last), "%s", parent);     /* "/" or a name in DIRFD */
	}
	if (!(w.buf = malloc(IOBUF))) {
		if (pfd != dirfd)
			close(pfd);
		return err_oom(e, "archive buffer");
	}
	int rc = tw_entry(&w, pfd, last, flags & TAR_W_FOLLOW, 0);
	if (!rc) {
		static const uint8_t zero[2 * BLK];
		rc = tw_put(&w, zero, sizeof(zero));
	}
	if (!rc)
		rc = tw_flush(&w);
	free(w.buf);
	if (pfd != dirfd)
		close(pfd);
	return rc;
}

