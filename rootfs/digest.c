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

struct sha256 *sha256_new(void)
{
	struct sha256 *h = calloc(1, sizeof(*h));
	if (!h || !(h->ctx = EVP_MD_CTX_new()) || EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL) != 1) {
		fprintf(stderr, "sandbox-image: out of memory (sha256)\n");
		exit(EXIT_FAIL);
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
	struct sha256 *h = sha256_new();
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

int sha256_uncompressed_at(int dirfd, const char *path, char hex[SHA256_HEX_LEN + 1],
			   struct err *e)
{
	int fd = open_beneath(dirfd, path, O_RDONLY, e);
	if (fd < 0)
		return -1;
	struct archive *a = archive_read_new();
	archive_read_support_filter_all(a);
	archive_read_support_format_raw(a);
	struct archive_entry *ent;
	struct sha256 *h = sha256_new();
	int rc = -1;
	if (archive_read_open_fd(a, fd, 1 << 16) != ARCHIVE_OK) {
		err_set(e, "%s: %s", path, archive_error_string(a));
		goto out;
	}
	int r = archive_read_next_header(a, &ent);
	if (r == ARCHIVE_EOF) {
		rc = 0; /* empty stream */
		goto out;
	}
	if (r < ARCHIVE_WARN) {
		err_set(e, "%s: %s", path, archive_error_string(a));
		goto out;
	}
	const void *buf;
	size_t len;
	la_int64_t off;
	while ((r = archive_read_data_block(a, &buf, &len, &off)) == ARCHIVE_OK)
		sha256_update(h, buf, len);
	if (r != ARCHIVE_EOF) {
		err_set(e, "%s: %s", path, archive_error_string(a));
		goto out;
	}
	rc = 0;
out:
	archive_read_free(a);
	close(fd);
	if (rc == 0)
		sha256_final(h, hex);
	else
		sha256_free(h);
	return rc;
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
	size_t got = 0;
	while (buf && got < (size_t)st.st_size) {
		ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	if (!buf || got != (size_t)st.st_size) {
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
