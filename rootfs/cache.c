/* sandbox-image's image cache: where it is, its modes, its lock, the
 * names, the entries' metadata and the removal of what no name keeps.
 *
 * Cache (CACHE = $SANDBOX_IMAGE_DIR, else /var/lib/sandbox/images as root,
 * else $XDG_DATA_HOME/sandbox/images):
 *   CACHE/v<N>/<key>.erofs (or .ext4)  the disk; N = IMAGE_FORMAT_VERSION
 *                                      (v<N>-user: made without root)
 *   CACHE/v<N>/<key>.json              run defaults + metadata (written last)
 *   CACHE/names/<NAME>                 symlink to ../v<N>/<key>.json
 *   CACHE/tmp/import.*                 work directories (removed on exit)
 *   CACHE/.lock                        flock: held while publishing/removing
 * key = the image config's sha256 (OCI, docker) or the sha256 of the tar
 * stream (rootfs inputs). Publishing is rename() of finished files.
 *
 * Modes: a disk holds the image's every file (its /etc/shadow) and a
 * .json/.runconf its Env (secrets), so as root the cache is private: the
 * top directory 0711 (a shared cache's v<N>-user stays reachable), root's
 * own directories 0700, disks 0400, other files 0600. Made so, and an
 * older cache (0755/0444/0644) tightened, on every use (tighten()).
 * Without root the files are the user's, in the user's own directory. */
#include "image.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define VDIR_FMT "v%d"

/* Modes of what we create (private as root, see the top). */
mode_t cache_dir_mode(void) { return geteuid() ? 0755 : 0700; }
mode_t cache_file_mode(void) { return geteuid() ? 0644 : 0600; }
mode_t cache_disk_mode(void) { return geteuid() ? 0444 : 0400; }

static int mkdir_p(const char *path)
{
	char buf[4096];
	snprintf(buf, sizeof(buf), "%s", path);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) && errno != EEXIST)
			return -1;
		*p = '/';
	}
	return mkdir(buf, cache_dir_mode() == 0700 ? 0711 : 0755) && errno != EEXIST ? -1 : 0;
}

/* FD (an open directory or file) to MODE if it is root's and more open;
 * never widens. */
static int tighten_fd(int fd, mode_t mode)
{
	struct stat st;
	if (fstat(fd, &st))
		return -1;
	if (st.st_uid || !(st.st_mode & 07777 & ~mode))
		return 0;
	return fchmod(fd, st.st_mode & 07777 & mode);
}

/* The entries of the directory DIRFD: regular files to 0400 (disks) or
 * 0600, directories (root's) to 0700. Symlinks (names/) have no mode. */
static int tighten_entries(int dirfd)
{
	int fd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return -1;
	}
	struct dirent *de;
	int rc = 0;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		int f = openat(dirfd, de->d_name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
		if (f < 0) {
			if (errno != ELOOP && errno != ENOENT) /* a symlink, or removed meanwhile */
				rc = -1;
			continue;
		}
		struct stat st;
		const char *dot = strrchr(de->d_name, '.');
		bool disk = dot && (!strcmp(dot, ".erofs") || !strcmp(dot, ".ext4"));
		if (fstat(f, &st) || (S_ISDIR(st.st_mode) && tighten_fd(f, 0700)) ||
		    (S_ISREG(st.st_mode) && tighten_fd(f, disk ? 0400 : 0600)))
			rc = -1;
		close(f);
	}
	closedir(d);
	return rc;
}

/* As root: the cache private (see the top), an older one included. */
static int tighten(struct cache *c, struct err *e)
{
	if (geteuid())
		return 0;
	if (tighten_fd(c->fd, 0711) || tighten_entries(c->vfd))
		return err_sys(e, "cache %s: making it private", c->dir);
	static const char *const subs[] = { "names", "tmp", "builtin" };
	for (size_t i = 0; i < ARRAY_SIZE(subs); i++) {
		int fd = openat(c->fd, subs[i], O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 && errno == ENOENT)
			continue;
		bool bad = fd < 0 || tighten_fd(fd, 0700) || (!strcmp(subs[i], "builtin") && tighten_entries(fd));
		if (fd >= 0)
			close(fd);
		if (bad)
			return err_sys(e, "cache %s/%s: making it private", c->dir, subs[i]);
	}
	int fd = openat(c->fd, ".builtin.lock", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0) {
		tighten_fd(fd, 0600);
		close(fd);
	}
	if (tighten_fd(c->lockfd, 0600) || tighten_fd(c->vfd, 0700))
		return err_sys(e, "cache %s: making it private", c->dir);
	return 0;
}

int cache_open(struct cache *c, struct err *e)
{
	const char *d = getenv("SANDBOX_IMAGE_DIR");
	if (d && *d) {
		snprintf(c->dir, sizeof(c->dir), "%s", d);
	} else if (!geteuid()) {
		snprintf(c->dir, sizeof(c->dir), "/var/lib/sandbox/images");
	} else if ((d = getenv("XDG_DATA_HOME")) && *d) {
		snprintf(c->dir, sizeof(c->dir), "%s/sandbox/images", d);
	} else if ((d = getenv("HOME")) && *d) {
		snprintf(c->dir, sizeof(c->dir), "%s/.local/share/sandbox/images", d);
	} else {
		return err_set(e, "no cache directory: set SANDBOX_IMAGE_DIR");
	}
	/* Disks made without root differ (no device nodes, every file owned
	 * by root): another format, so a shared cache never mixes them. */
	snprintf(c->vdir, sizeof(c->vdir), geteuid() ? VDIR_FMT "-user" : VDIR_FMT, IMAGE_FORMAT_VERSION);
	if (mkdir_p(c->dir) || (c->fd = open(c->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return err_sys(e, "cache %s", c->dir);
	const char *subs[] = { c->vdir, "names", "tmp" };
	for (size_t i = 0; i < ARRAY_SIZE(subs); i++)
		if (mkdirat(c->fd, subs[i], cache_dir_mode()) && errno != EEXIST)
			return err_sys(e, "cache %s/%s", c->dir, subs[i]);
	c->vfd = openat(c->fd, c->vdir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	c->namesfd = openat(c->fd, "names", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	c->lockfd = openat(c->fd, ".lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, cache_file_mode());
	if (c->vfd < 0 || c->namesfd < 0 || c->lockfd < 0)
		return err_sys(e, "cache %s", c->dir);
	return tighten(c, e);
}

int cache_lock(struct cache *c, struct err *e)
{
	while (flock(c->lockfd, LOCK_EX))
		if (errno != EINTR)
			return err_sys(e, "lock %s/.lock", c->dir);
	return 0;
}

void cache_unlock(struct cache *c)
{
	flock(c->lockfd, LOCK_UN);
}

/* The key a name points at, or -1. */
int cache_name_key(struct cache *c, const char *name, char key[SHA256_HEX_LEN + 1])
{
	char t[256];
	ssize_t n = readlinkat(c->namesfd, name, t, sizeof(t) - 1);
	if (n < 0)
		return -1;
	t[n] = '\0';
	const char *b = strrchr(t, '/') ? strrchr(t, '/') + 1 : t;
	if (strlen(b) != SHA256_HEX_LEN + 5 || strcmp(b + SHA256_HEX_LEN, ".json"))
		return -1;
	memcpy(key, b, SHA256_HEX_LEN);
	key[SHA256_HEX_LEN] = '\0';
	return 0;
}

/* Point NAME at KEY atomically (symlink to a temp name, rename). Locked. */
int cache_set_name(struct cache *c, const char *name, const char *key, struct err *e)
{
	char target[128], tmp[256];
	snprintf(target, sizeof(target), "../%s/%s.json", c->vdir, key);
	snprintf(tmp, sizeof(tmp), ".tmp.%d.%s", (int)getpid(), name);
	unlinkat(c->namesfd, tmp, 0);
	if (symlinkat(target, c->namesfd, tmp) || renameat(c->namesfd, tmp, c->namesfd, name)) {
		unlinkat(c->namesfd, tmp, 0);
		return err_sys(e, "name %s", name);
	}
	return 0;
}

bool cache_has(struct cache *c, const char *key)
{
	char j[128];
	snprintf(j, sizeof(j), "%s.json", key);
	return !faccessat(c->vfd, j, F_OK, AT_SYMLINK_NOFOLLOW);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void cache_free_names(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* Sorted names in the names dir (cache_free_names); NULL with E filled if the
 * directory cannot be read or memory runs out: never a short list, which
 * cache_gc would take for the names that keep disks. */
char **cache_list_names(struct cache *c, size_t *n, struct err *e)
{
	int fd = dup(c->namesfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	*n = 0;
	if (!d) {
		err_sys(e, "%s/names", c->dir);
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	rewinddir(d);
	char **v = calloc(1, sizeof(char *));   /* an empty list is not NULL */
	size_t count = 0;
	struct dirent *de;
	while (v && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		char **nv = realloc(v, (count + 2) * sizeof(char *));
		char *name = nv ? strdup(de->d_name) : NULL;
		if (nv)
			v = nv;
		if (!name) {
			cache_free_names(v, count);
			v = NULL;
			break;
		}
		v[count++] = name;
	}
	closedir(d);
	if (!v) {
		err_oom(e, "image names");
		return NULL;
	}
	qsort(v, count, sizeof(char *), cmp_str);
	*n = count;
	return v;
}

json_object *cache_load_meta(struct cache *c, const char *key, struct err *e)
{
	char j[128], *text;
	snprintf(j, sizeof(j), "%s.json", key);
	if (read_file_at(c->vfd, j, 1 << 20, &text, NULL, e))
		return NULL;
	json_object *o = json_tokener_parse(text);
	free(text);
	if (!o)
		err_set(e, "%s/%s/%s: bad JSON", c->dir, c->vdir, j);
	return o;
}

/* Remove disks no name points at (and stale work dirs). Locked. */
int cache_gc(struct cache *c, bool tmp_too, struct err *e)
{
	size_t n;
	char **v = cache_list_names(c, &n, e);
	if (!v)
		return -1;
	int fd = dup(c->vfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		cache_free_names(v, n);
		return err_sys(e, "%s/%s", c->dir, c->vdir);
	}
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || strlen(de->d_name) < SHA256_HEX_LEN)
			continue;
		bool used = false;
		for (size_t i = 0; i < n && !used; i++) {
			char key[SHA256_HEX_LEN + 1];
			used = !cache_name_key(c, v[i], key) && !strncmp(key, de->d_name, SHA256_HEX_LEN);
		}
		if (!used && unlinkat(c->vfd, de->d_name, 0))
			err_sys(e, "remove %s", de->d_name);
	}
	closedir(d);
	cache_free_names(v, n);
	if (tmp_too) {
		/* Work dirs of imports that are not running: those we can lock
		 * out... imports hold no lock while working, so only old ones. */
		int tfd = openat(c->fd, "tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		DIR *t = tfd >= 0 ? fdopendir(tfd) : NULL;
		while (t && (de = readdir(t))) {
			struct stat st;
			if (de->d_name[0] == '.' || fstatat(tfd, de->d_name, &st, AT_SYMLINK_NOFOLLOW))
				continue;
			if (time(NULL) - st.st_mtime > 24 * 3600)
				rm_rf_at(tfd, de->d_name);
		}
		if (t)
			closedir(t);
	}
	return 0;
}
