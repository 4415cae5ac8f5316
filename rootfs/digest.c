/* sha256 (OpenSSL EVP), digest strings and careful file access. */
#include "image.h"

#include <archive.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

int digest_parse(const char *digest, char hex[SHA256_HEX_LEN + 1], struct err *e)
{
	if (strncmp(digest, "sha256:", 7))
		return err_set(e, "unsupported digest '%.80s' (only sha256)", digest);
	const char *h = digest + 7;
	if (strlen(h) != SHA256_HEX_LEN || strspn(h, "0123456789abcdef") != SHA256_HEX_LEN)
		return err_set(e, "malformed digest '%.80s'", digest);
	memcpy(hex, h, SHA256_HEX_LEN + 1);
	return 0;
}

struct sha256 {
	EVP_MD_CTX *ctx;
};

struct sha256 *sha256_new(struct err *e)
{
	struct sha256 *h = calloc(1, sizeof(*h));
	/* EVP fails only for want of memory here (sha256 is built in). */
	if (!h || !(h->ctx = EVP_MD_CTX_new()) || EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL) != 1) {
		sha256_free(h);
		err_oom(e, "sha256");
		return NULL;
	}
	return h;
}

void sha256_update(struct sha256 *h, const void *buf, size_t n)
{
	EVP_DigestUpdate(h->ctx, buf, n);
}

void sha256_final(struct sha256 *h, char hex[SHA256_HEX_LEN + 1])
{
	unsigned char md[32];
	unsigned int n = 0;
	EVP_DigestFinal_ex(h->ctx, md, &n);
	for (unsigned i = 0; i < 32; i++)
		sprintf(hex + 2 * i, "%02x", md[i]);
	sha256_free(h);
}

void sha256_free(struct sha256 *h)
{
	if (!h)
		return;
	EVP_MD_CTX_free(h->ctx);
	free(h);
}

int open_beneath(int dirfd, const char *path, int flags, struct err *e)
{
	if (dirfd == AT_FDCWD) { /* a path the user gave */
		int fd = open(path, flags | O_CLOEXEC);
		return fd < 0 ? err_sys(e, "%s", path) : fd;
	}
	struct open_how how = {
		.flags = (uint64_t)flags | O_CLOEXEC,
		.resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
	};
	int fd = (int)syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
	if (fd < 0)
		return err_sys(e, "%s", path);
	return fd;
}

int sha256_file_at(int dirfd, const char *path, char hex[SHA256_HEX_LEN + 1], uint64_t *size,
		   struct err *e)
{
	int fd = open_beneath(dirfd, path, O_RDONLY, e);
	if (fd < 0)
		return -1;
	struct sha256 *h = sha256_new(e);
	if (!h) {
		close(fd);
		return -1;
	}
	static char buf[1 << 16];
	uint64_t total = 0;
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		if (n < 0) {
			err_sys(e, "read %s", path);
			sha256_free(h);
			close(fd);
			return -1;
		}
		if (n == 0)
			break;
		sha256_update(h, buf, (size_t)n);
		total += (uint64_t)n;
	}
	close(fd);
	sha256_final(h, hex);
	if (size)
		*size = total;
	return 0;
}

/* ---- a compressed stream read once, hashed as it is read ---- */

struct hstream {
	int fd;
	struct archive *a;       /* raw format over every filter */
	struct sha256 *blob, *diff;
	uint64_t size;           /* bytes read from fd */
	bool eof;                /* the decompressed stream ended */
	bool failed;             /* it cannot be read further (err says why) */
	char buf[1 << 16];
	char err[sizeof(((struct err *)0)->msg)];
};

/* libarchive's read callback: FD's bytes, hashed on their way in, so the
 * blob digest is of exactly the bytes decompressed. */
static la_ssize_t hs_fill(struct archive *a, void *arg, const void **out)
{
	struct hstream *h = arg;
	ssize_t n;
	while ((n = read(h->fd, h->buf, sizeof(h->buf))) < 0 && errno == EINTR)
		;
	if (n < 0) {
		archive_set_error(a, errno, "read: %s", strerror(errno));
		return -1;
	}
	sha256_update(h->blob, h->buf, (size_t)n);
	h->size += (uint64_t)n;
	*out = h->buf;
	return n;
}

struct hstream *hstream_open(int fd, struct err *e)
{
	struct hstream *h = calloc(1, sizeof(*h));
	if (!h) {
		err_oom(e, "stream");
		return NULL;
	}
	h->fd = fd;
	if (!(h->blob = sha256_new(e)) || !(h->diff = sha256_new(e))) {
		hstream_free(h);
		return NULL;
	}
	if (!(h->a = archive_read_new())) {
		hstream_free(h);
		err_oom(e, "stream");
		return NULL;
	}
	archive_read_support_filter_all(h->a);
	archive_read_support_format_raw(h->a);
	struct archive_entry *ent;
	int r;
	/* A stream that does not even start to decompress fails its first
	 * read: the caller still gets the blob digest (hstream_blob_only). */
	if (archive_read_open(h->a, h, NULL, hs_fill, NULL) != ARCHIVE_OK ||
	    ((r = archive_read_next_header(h->a, &ent)) < ARCHIVE_WARN && r != ARCHIVE_EOF)) {
		snprintf(h->err, sizeof(h->err), "%s", archive_error_string(h->a));
		h->failed = true;
	} else {
		h->eof = r == ARCHIVE_EOF; /* an empty stream */
	}
	return h;
}

ssize_t hstream_read(struct hstream *h, void *buf, size_t n)
{
	if (h->failed)
		return -1;
	if (h->eof)
		return 0;
	la_ssize_t got = archive_read_data(h->a, buf, n);
	if (got < 0) {
		snprintf(h->err, sizeof(h->err), "%s", archive_error_string(h->a));
		h->failed = true;
		return -1;
	}
	if (got == 0)
		h->eof = true;
	sha256_update(h->diff, buf, (size_t)got);
	return got;
}

const char *hstream_error(const struct hstream *h)
{
	return h->err[0] ? h->err : "read error";
}

/* The rest of FD into the blob hash (bytes past the end of the
 * compressed stream count too), then D's blob digest and size. */
static int blob_rest(struct hstream *h, struct stream_digests *d)
{
	static char buf[1 << 16];
	ssize_t n;
	while ((n = read(h->fd, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		sha256_update(h->blob, buf, (size_t)n);
		h->size += (uint64_t)n;
	}
	sha256_final(h->blob, d->blob);
	h->blob = NULL;
	d->size = h->size;
	return 0;
}

int hstream_finish(struct hstream *h, struct stream_digests *d, struct err *e)
{
	static char buf[1 << 16];
	ssize_t n;
	d->blob[0] = d->diff[0] = '\0';
	/* What the reader left: the tar's padding, the end of the stream. */
	while ((n = hstream_read(h, buf, sizeof(buf))) > 0)
		;
	if (n < 0) {
		err_set(e, "%s", hstream_error(h));
		if (blob_rest(h, d))
			d->blob[0] = '\0';
		return -1;
	}
	if (blob_rest(h, d)) {
		d->blob[0] = '\0';
		return err_sys(e, "read");
	}
	sha256_final(h->diff, d->diff);
	h->diff = NULL;
	return 0;
}

int hstream_blob_only(struct hstream *h, struct stream_digests *d)
{
	d->blob[0] = d->diff[0] = '\0';
	if (!h->blob || blob_rest(h, d)) {
		d->blob[0] = '\0';
		return -1;
	}
	return 0;
}

void hstream_free(struct hstream *h)
{
	if (!h)
		return;
	archive_read_free(h->a);
	sha256_free(h->blob);
	sha256_free(h->diff);
	free(h);
}

int sha256_uncompressed_at(int dirfd, const char *path, char hex[SHA256_HEX_LEN + 1],
			   struct err *e)
{
	int fd = open_beneath(dirfd, path, O_RDONLY, e);
	if (fd < 0)
		return -1;
	struct stream_digests d;
	struct hstream *h = hstream_open(fd, e);
	int rc = h ? hstream_finish(h, &d, e) : -1;
	hstream_free(h);
	close(fd);
	if (rc)
		return err_wrap(e, "%s", path);
	memcpy(hex, d.diff, sizeof(d.diff));
	return 0;
}

int read_file_at(int dirfd, const char *path, size_t max, char **out, size_t *len, struct err *e)
{
	int fd = open_beneath(dirfd, path, O_RDONLY, e);
	if (fd < 0)
		return -1;
	struct stat st;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || (uint64_t)st.st_size > max) {
		close(fd);
		return err_set(e, "%s: not a regular file of at most %zu bytes", path, max);
	}
	char *buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		close(fd);
		return err_oom(e, path);
	}
	size_t got = 0;
	while (got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	if (got != (size_t)st.st_size) {
		free(buf);
		return err_set(e, "%s: short read", path);
	}
	buf[got] = '\0';
	*out = buf;
	if (len)
		*len = got;
	return 0;
}

int rm_rf_at(int dirfd, const char *name)
{
	if (!unlinkat(dirfd, name, 0) || errno == ENOENT)
		return 0;
	if (errno != EISDIR && errno != EPERM)
		return -1;
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -1;
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -1;
	}
	struct dirent *de;
	int rc = 0;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (rm_rf_at(fd, de->d_name))
			rc = -1;
	}
	closedir(d);
	if (unlinkat(dirfd, name, AT_REMOVEDIR) && errno != ENOENT)
		rc = -1;
	return rc;
}
