/* The built-in images (busybox, testimg): OCI layouts beside this
 * program (build/images/NAME), imported on first use by runconf and again
 * when the build holds another image than the one imported for NAME. */
#include "image.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/* The built-in image NAME: <dir of this program>/images/NAME, an OCI
 * layout (build/images/NAME, made by image/mklayout.py). 0 if there is
 * one (path in OUT), -1 if not. */
static int builtin_dir(const char *name, char *out, size_t n)
{
	char exe[4096];
	ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (len <= 0)
		return -1;
	exe[len] = '\0';
	*strrchr(exe, '/') = '\0';
	if ((size_t)snprintf(out, n, "%s/images/%s", exe, name) >= n)
		return -1;
	char layout[4200];
	snprintf(layout, sizeof(layout), "%s/oci-layout", out);
	return access(layout, F_OK) ? -1 : 0;
}

/* The key (config digest) of the built-in layout in DIR: reads and
 * verifies index, manifest and config only (small). */
static int builtin_key(const char *dir, char key[SHA256_HEX_LEN + 1], struct err *e)
{
	char spec[4200];
	struct image_src s;
	snprintf(spec, sizeof(spec), "%s:latest", dir);
	int rc = src_open(spec, SRC_OCI, -1, &s, e);
	if (!rc)
		memcpy(key, s.key, SHA256_HEX_LEN + 1);
	src_close(&s);
	return rc;
}

/* CACHE/builtin/NAME holds the key runconf last imported for the built-in
 * NAME: while NAME still points there, NAME follows the build. */
static bool builtin_record_is(struct cache *c, const char *name, const char *key)
{
	char path[300], *text = NULL;
	struct err e2;
	snprintf(path, sizeof(path), "builtin/%s", name);
	bool same = !read_file_at(c->fd, path, 256, &text, NULL, &e2) && !strcmp(text, key);
	free(text);
	return same;
}

static int builtin_record(struct cache *c, const char *name, struct err *e)
{
	char key[SHA256_HEX_LEN + 1], path[300], tmp[300];
	if (cache_name_key(c, name, key))
		return err_set(e, "built-in image '%s': not in the cache after its import", name);
	if (mkdirat(c->fd, "builtin", cache_dir_mode()) && errno != EEXIST)
		return err_sys(e, "%s/builtin", c->dir);
	snprintf(path, sizeof(path), "builtin/%s", name);
	snprintf(tmp, sizeof(tmp), "builtin/.tmp.%s", name);
	int fd = openat(c->fd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, cache_file_mode());
	bool ok = fd >= 0 && write(fd, key, SHA256_HEX_LEN) == SHA256_HEX_LEN;
	if (fd >= 0)
		close(fd);
	if (!ok || renameat(c->fd, tmp, c->fd, path)) {
		unlinkat(c->fd, tmp, 0);
		return err_sys(e, "%s/%s", c->dir, path);
	}
	return 0;
}

/* Built-in image NAME (if there is one): import it when the cache lacks
 * NAME, or when NAME is still what runconf imported for it before and the
 * build now holds another image (a rebuilt testimg); a NAME the user
 * imported over it is left alone. Concurrent callers queue on
 * CACHE/.builtin.lock (not .lock, which the import itself takes), so only
 * the first imports. 1: no built-in image NAME. */
int builtin_import(struct cache *c, const char *name, struct err *e)
{
	char dir[4096], spec[4200], key[SHA256_HEX_LEN + 1], bkey[SHA256_HEX_LEN + 1];
	if (builtin_dir(name, dir, sizeof(dir)))
		return 1;
	int lfd = openat(c->fd, ".builtin.lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, cache_file_mode());
	if (lfd < 0)
		return err_sys(e, "lock %s/.builtin.lock", c->dir);
	while (flock(lfd, LOCK_EX))
		if (errno != EINTR) {
			close(lfd);
			return err_sys(e, "lock %s/.builtin.lock", c->dir);
		}
	int rc = 0;
	bool have = !cache_name_key(c, name, key) && cache_has(c, key);
	if (have && builtin_record_is(c, name, key)) {
		if (builtin_key(dir, bkey, e)) {
			err_wrap(e, "built-in image '%s'", name);
			rc = -1;
		} else {
			have = !strcmp(bkey, key);
		}
	}
	if (!rc && !have) {
		if (isatty(2))
			fprintf(stderr, "sandbox-image: importing the built-in image '%s'\n", name);
		snprintf(spec, sizeof(spec), "%s:latest", dir);
		if ((rc = image_import(c, spec, SRC_OCI, name, true, e)))
			err_wrap(e, "built-in image '%s'", name);
		else
			rc = builtin_record(c, name, e);
	}
	close(lfd);
	return rc;
}
