/* sandbox-image: command line and the image cache.
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
#include <getopt.h>
#include <json-c/json.h>
#include <libgen.h>
#include <locale.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define VDIR_FMT "v%d"

static const char usage_text[] =
	"usage: sandbox image COMMAND ...\n"
	"  import [--format FMT] SRC[:TAG] NAME   import an image into the cache as NAME\n"
	"        FMT: oci, oci-archive, docker-archive, rootfs-tar, rootfs-dir\n"
	"        (detected when not given; layers plain, gzip, zstd or xz)\n"
	"  ls                                     list names, digests and disk sizes\n"
	"  inspect NAME                           print the run defaults (JSON)\n"
	"  runconf NAME                           the run defaults as NUL-terminated key=value\n"
	"        records (for sandbox run); imports a built-in image on first use\n"
	"  rm NAME                                remove a name (and its disk if unused)\n"
	"  prune                                  remove unused disks and stale work dirs\n"
	"\n"
	"cache: $SANDBOX_IMAGE_DIR, else /var/lib/sandbox/images (root) or\n"
	"$XDG_DATA_HOME/sandbox/images. NAME: letters, digits and . _ - : @ (not\n"
	"starting with '.').\n"
	"exit status: 0 ok, 1 usage error, 125 failure (one line on stderr,\n"
	"\"sandbox-image: ...\"); the cache is never left half-written.\n";

static int usage(const char *msg)
{
	if (msg)
		fprintf(stderr, "sandbox-image: %s\n", msg);
	fputs(usage_text, stderr);
	return EXIT_USAGE;
}

static int fail(struct err *e)
{
	fprintf(stderr, "sandbox-image: %s\n", e->msg);
	return EXIT_FAIL;
}

/* Modes of what we create (private as root, see the top). */
static mode_t dir_mode(void) { return geteuid() ? 0755 : 0700; }
static mode_t file_mode(void) { return geteuid() ? 0644 : 0600; }
static mode_t disk_mode(void) { return geteuid() ? 0444 : 0400; }

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
	return mkdir(buf, dir_mode() == 0700 ? 0711 : 0755) && errno != EEXIST ? -1 : 0;
}

struct cache {
	char dir[4096];
	int fd, vfd, namesfd, lockfd;
	char vdir[16];
};

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

static int cache_open(struct cache *c, struct err *e)
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
		if (mkdirat(c->fd, subs[i], dir_mode()) && errno != EEXIST)
			return err_sys(e, "cache %s/%s", c->dir, subs[i]);
	c->vfd = openat(c->fd, c->vdir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	c->namesfd = openat(c->fd, "names", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	c->lockfd = openat(c->fd, ".lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, file_mode());
	if (c->vfd < 0 || c->namesfd < 0 || c->lockfd < 0)
		return err_sys(e, "cache %s", c->dir);
	return tighten(c, e);
}

static int cache_lock(struct cache *c, struct err *e)
{
	while (flock(c->lockfd, LOCK_EX))
		if (errno != EINTR)
			return err_sys(e, "lock %s/.lock", c->dir);
	return 0;
}

static void cache_unlock(struct cache *c)
{
	flock(c->lockfd, LOCK_UN);
}

/* The key a name points at, or -1. */
static int name_key(struct cache *c, const char *name, char key[SHA256_HEX_LEN + 1])
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
static int set_name(struct cache *c, const char *name, const char *key, struct err *e)
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

static bool cached(struct cache *c, const char *key)
{
	char j[128];
	snprintf(j, sizeof(j), "%s.json", key);
	return !faccessat(c->vfd, j, F_OK, AT_SYMLINK_NOFOLLOW);
}

/* A progress line on stderr when it is a terminal (cleared at the end). */
static void progress(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void progress(const char *fmt, ...)
{
	static int tty = -1;
	if (tty < 0)
		tty = isatty(2);
	if (!tty)
		return;
	va_list ap;
	va_start(ap, fmt);
	fputs("\r\033[K", stderr);
	if (fmt) {
		fputs("sandbox-image: ", stderr);
		vfprintf(stderr, fmt, ap);
	}
	va_end(ap);
	fflush(stderr);
}

static int write_all_at(int dirfd, const char *path, const char *s, struct err *e)
{
	int fd = openat(dirfd, path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, file_mode());
	if (fd < 0)
		return err_sys(e, "%s", path);
	size_t len = strlen(s);
	bool ok = write(fd, s, len) == (ssize_t)len && write(fd, "\n", 1) == 1 && !fsync(fd);
	close(fd);
	return ok ? 0 : err_sys(e, "write %s", path);
}

static int gc(struct cache *c, bool tmp_too, struct err *e);

/* The running import's work directory, removed if we are interrupted:
 * the handler only forks, execs rm and exits (async-signal-safe). */
static char interrupted_work[4200];

static void on_signal(int sig)
{
	if (interrupted_work[0]) {
		pid_t pid = fork();
		if (pid == 0) {
			execl("/bin/rm", "rm", "-rf", "--", interrupted_work, (char *)NULL);
			_exit(127);
		}
		if (pid > 0)
			waitpid(pid, NULL, 0);
	}
	_exit(128 + sig);
}

static void catch_signals(void)
{
	struct sigaction sa = { .sa_handler = on_signal };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
}

/* quiet: print nothing on stdout (runconf's import of a built-in image). */
static int do_import(struct cache *c, const char *spec, enum src_format fmt, const char *name,
		     bool quiet, struct err *e)
{
	char work[4200];
	snprintf(work, sizeof(work), "%s/tmp/import.XXXXXX", c->dir);
	/* Blocked before the directory exists: a signal in between would
	 * end us with the default action and leave it behind. */
	sigset_t block, old;
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigaddset(&block, SIGHUP);
	sigprocmask(SIG_BLOCK, &block, &old);
	if (!mkdtemp(work)) {
		err_sys(e, "work dir in %s/tmp", c->dir);
		sigprocmask(SIG_SETMASK, &old, NULL);
		return -1;
	}
	memcpy(interrupted_work, work, sizeof(interrupted_work));
	catch_signals();
	sigprocmask(SIG_SETMASK, &old, NULL);
	int workfd = open(work, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	struct image_src s = { .dirfd = -1 };
	struct apply *a = NULL;
	json_object *meta = NULL;
	int rc = -1, treefd = -1;
	if (workfd < 0) {
		err_sys(e, "%s", work);
		goto out;
	}
	progress("reading %s", spec);
	if (src_open(spec, fmt, workfd, &s, e))
		goto out;
	if (cached(c, s.key)) {
		if (cache_lock(c, e))
			goto out;
		rc = cached(c, s.key) ? set_name(c, name, s.key, e) : -2;
		if (!rc)
			rc = gc(c, false, e); /* the disk NAME pointed at before */
		cache_unlock(c);
		if (rc != -2)
			goto done;
		rc = -1; /* removed meanwhile: build it */
	}
	if (mkdirat(workfd, "tree", 0755) ||
	    (treefd = openat(workfd, "tree", O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		err_sys(e, "%s/tree", work);
		goto out;
	}
	a = apply_new(treefd, s.tar_path == NULL, e);
	if (!a)
		goto out;
	if (s.tar_path) {
		if (src_apply_tar(&s, a, e)) {
			err_wrap(e, "%s", spec);
			goto out;
		}
	}
	/* Each layer verified as it is applied, from one open of its blob. */
	for (size_t i = 0; i < s.nlayers; i++) {
		progress("applying layer %zu/%zu", i + 1, s.nlayers);
		if (src_apply_layer(&s, i, a, e))
			goto out;
	}
	if (apply_finish(a, e))
		goto out;
	char tree[4300], disk[4300];
	snprintf(tree, sizeof(tree), "%s/tree", work);
	snprintf(disk, sizeof(disk), "%s/disk", work);
	const char *fstype;
	progress("making the disk");
	if (mkfs_build(tree, disk, s.key, &fstype, e))
		goto out;
	if (config_defaults(s.config_json, &meta, e))
		goto out;
	char dname[128], jname[128], digest[80];
	snprintf(dname, sizeof(dname), "%s.%s", s.key, fstype);
	snprintf(jname, sizeof(jname), "%s.json", s.key);
	snprintf(digest, sizeof(digest), "sha256:%s", s.key);
	json_object_object_add(meta, "Digest", json_object_new_string(digest));
	json_object_object_add(meta, "Source", json_object_new_string(src_format_name(s.format)));
	json_object_object_add(meta, "FormatVersion", json_object_new_int(IMAGE_FORMAT_VERSION));
	json_object_object_add(meta, "FsType", json_object_new_string(fstype));
	json_object_object_add(meta, "Disk", json_object_new_string(dname));
	if (write_all_at(workfd, "meta.json",
			 json_object_to_json_string_ext(meta, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE), e))
		goto out;
	int dfd = openat(workfd, "disk", O_RDONLY | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd) || fchmod(dfd, disk_mode())) {
		if (dfd >= 0)
			close(dfd);
		err_sys(e, "%s", disk);
		goto out;
	}
	close(dfd);
	if (cache_lock(c, e))
		goto out;
	if (renameat(workfd, "disk", c->vfd, dname) || renameat(workfd, "meta.json", c->vfd, jname))
		err_sys(e, "publish %s", dname);
	else if (!(rc = set_name(c, name, s.key, e)))
		rc = gc(c, false, e);
	fsync(c->vfd);
	cache_unlock(c);
done:
	progress(NULL);
	if (!rc && !quiet)
		printf("%s sha256:%s\n", name, s.key);
out:
	if (rc)
		progress(NULL);
	if (treefd >= 0)
		close(treefd);
	apply_free(a);
	json_object_put(meta);
	src_close(&s);
	if (workfd >= 0)
		close(workfd);
	int tfd = openat(c->fd, "tmp", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (tfd >= 0) {
		rm_rf_at(tfd, strrchr(work, '/') + 1);
		close(tfd);
	}
	sigprocmask(SIG_BLOCK, &block, &old);
	interrupted_work[0] = '\0';
	sigprocmask(SIG_SETMASK, &old, NULL);
	return rc;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void free_names(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* Sorted names in the names dir (free_names); NULL with E filled if the
 * directory cannot be read or memory runs out: never a short list, which
 * gc would take for the names that keep disks. */
static char **list_names(struct cache *c, size_t *n, struct err *e)
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
			free_names(v, count);
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

static json_object *load_meta(struct cache *c, const char *key, struct err *e)
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

static int do_ls(struct cache *c, struct err *e)
{
	size_t n;
	char **v = list_names(c, &n, e);
	if (!v)
		return -1;
	printf("%-30s %-19s %10s %s\n", "NAME", "DIGEST", "SIZE", "FS");
	for (size_t i = 0; i < n; i++) {
		char key[SHA256_HEX_LEN + 1], dname[128];
		struct err e;
		if (name_key(c, v[i], key) == 0) {
			json_object *m = load_meta(c, key, &e), *fs = NULL;
			const char *fst = m && json_object_object_get_ex(m, "FsType", &fs) ? json_object_get_string(fs) : "?";
			struct stat st;
			snprintf(dname, sizeof(dname), "%s.%s", key, fst);
			long long size = fstatat(c->vfd, dname, &st, 0) ? -1 : (long long)st.st_size;
			printf("%-30s sha256:%.12s %10lld %s\n", v[i], key, size, fst);
			json_object_put(m);
		}
		free(v[i]);
	}
	free(v);
	return 0;
}

static int do_inspect(struct cache *c, const char *name, struct err *e)
{
	char key[SHA256_HEX_LEN + 1];
	if (name_key(c, name, key))
		return err_set(e, "no image named '%s'", name);
	json_object *m = load_meta(c, key, e);
	if (!m)
		return -1;
	printf("%s\n", json_object_to_json_string_ext(m, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(m);
	return 0;
}

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
	if (name_key(c, name, key))
		return err_set(e, "built-in image '%s': not in the cache after its import", name);
	if (mkdirat(c->fd, "builtin", dir_mode()) && errno != EEXIST)
		return err_sys(e, "%s/builtin", c->dir);
	snprintf(path, sizeof(path), "builtin/%s", name);
	snprintf(tmp, sizeof(tmp), "builtin/.tmp.%s", name);
	int fd = openat(c->fd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, file_mode());
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
static int import_builtin(struct cache *c, const char *name, struct err *e)
{
	char dir[4096], spec[4200], key[SHA256_HEX_LEN + 1], bkey[SHA256_HEX_LEN + 1];
	if (builtin_dir(name, dir, sizeof(dir)))
		return 1;
	int lfd = openat(c->fd, ".builtin.lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, file_mode());
	if (lfd < 0)
		return err_sys(e, "lock %s/.builtin.lock", c->dir);
	while (flock(lfd, LOCK_EX))
		if (errno != EINTR) {
			close(lfd);
			return err_sys(e, "lock %s/.builtin.lock", c->dir);
		}
	int rc = 0;
	bool have = !name_key(c, name, key) && cached(c, key);
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
		if ((rc = do_import(c, spec, SRC_OCI, name, true, e)))
			err_wrap(e, "built-in image '%s'", name);
		else
			rc = builtin_record(c, name, e);
	}
	close(lfd);
	return rc;
}

/* The runconf output, built in memory: printed, and kept beside the
 * image entry as <key>.runconf (content-addressed like the entry, so it is
 * never stale) for sandbox run to read without starting this program. */
static char *rc_buf;
static size_t rc_len, rc_cap;
/* A record did not fit in memory: the output is not printed or kept
 * (a short one would drop Cmd or Env entries without a word). */
static bool rc_oom;

/* One runconf record: KEY=VALUE and a NUL. */
static void record(const char *key, const char *value)
{
	if (!value || rc_oom)
		return;
	size_t n = strlen(key) + 1 + strlen(value) + 1;
	if (rc_len + n > rc_cap) {
		size_t cap = (rc_cap ? 2 * rc_cap : 4096) + n;
		char *nb = realloc(rc_buf, cap);
		if (!nb) {
			rc_oom = true;
			return;
		}
		rc_buf = nb;
		rc_cap = cap;
	}
	rc_len += (size_t)sprintf(rc_buf + rc_len, "%s=%s", key, value) + 1;
}

/* Write <key>.runconf once (temp file + rename; best effort: sandbox run
 * falls back to asking this program). */
static void keep_runconf(struct cache *c, const char *key)
{
	char path[128], tmp[160];
	snprintf(path, sizeof(path), "%s.runconf", key);
	if (!faccessat(c->vfd, path, F_OK, 0))
		return;
	snprintf(tmp, sizeof(tmp), ".tmp.%d.%s", (int)getpid(), path);
	int fd = openat(c->vfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, file_mode());
	if (fd < 0)
		return;
	bool ok = write(fd, rc_buf, rc_len) == (ssize_t)rc_len;
	close(fd);
	if (!ok || renameat(c->vfd, tmp, c->vfd, path))
		unlinkat(c->vfd, tmp, 0);
}

static void records(json_object *m, const char *field, const char *key)
{
	json_object *v;
	if (!json_object_object_get_ex(m, field, &v) || !v)
		return;
	if (json_object_is_type(v, json_type_array)) {
		for (size_t i = 0; i < json_object_array_length(v); i++)
			record(key, json_object_get_string(json_object_array_get_idx(v, i)));
	} else {
		record(key, json_object_get_string(v));
	}
}

/* Run defaults for sandbox run: NUL-terminated "key=value" records, in
 * this order: disk (absolute path), fstype, entrypoint*, cmd*, env*,
 * workdir, user, stopsignal (each if set), port* (docs/images.md). */
static int do_runconf(struct cache *c, const char *name, struct err *e)
{
	char key[SHA256_HEX_LEN + 1], link[4200], *json = NULL, *text = NULL;
	if (import_builtin(c, name, e) < 0)
		return -1;
	if (name_key(c, name, key))
		return err_set(e, "no image '%s' (see sandbox image ls, sandbox image import)", name);
	snprintf(link, sizeof(link), "%s/names/%s", c->dir, name);
	if (!(json = realpath(link, NULL)))
		return err_set(e, "no image '%s' (see sandbox image ls, sandbox image import)", name);
	json_object *m = NULL, *v;
	int rc = -1;
	if (read_file_at(AT_FDCWD, json, 1 << 20, &text, NULL, e))
		goto out;
	if (!(m = json_tokener_parse(text)) || !json_object_object_get_ex(m, "Disk", &v) ||
	    !json_object_is_type(v, json_type_string) || strchr(json_object_get_string(v), '/') ||
	    !json_object_object_get_ex(m, "FsType", &v) || !json_object_is_type(v, json_type_string)) {
		err_set(e, "%s: not an image entry", json);
		goto out;
	}
	char disk[4400];
	json_object_object_get_ex(m, "Disk", &v);
	snprintf(disk, sizeof(disk), "%s/%s", dirname(json), json_object_get_string(v));
	if (access(disk, R_OK)) {
		err_sys(e, "image '%s': disk %s", name, disk);
		goto out;
	}
	/* An entry imported before StopSignal was checked at import. */
	if (json_object_object_get_ex(m, "StopSignal", &v) && v &&
	    (!json_object_is_type(v, json_type_string) || !stop_signal_valid(json_object_get_string(v)))) {
		err_set(e, "image '%s': its StopSignal is not a signal (import it again)", name);
		goto out;
	}
	record("disk", disk);
	records(m, "FsType", "fstype");
	records(m, "Entrypoint", "entrypoint");
	records(m, "Cmd", "cmd");
	records(m, "Env", "env");
	records(m, "WorkingDir", "workdir");
	records(m, "User", "user");
	records(m, "StopSignal", "stopsignal");
	records(m, "ExposedPorts", "port");
	if (rc_oom) {
		err_oom(e, "runconf");
		goto out;
	}
	if (fwrite(rc_buf, 1, rc_len, stdout) != rc_len || fflush(stdout) || ferror(stdout)) {
		err_sys(e, "write");
		goto out;
	}
	keep_runconf(c, key);
	rc = 0;
out:
	json_object_put(m);
	free(text);
	free(json);
	return rc;
}

/* Remove disks no name points at (and stale work dirs). Locked. */
static int gc(struct cache *c, bool tmp_too, struct err *e)
{
	size_t n;
	char **v = list_names(c, &n, e);
	if (!v)
		return -1;
	int fd = dup(c->vfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		free_names(v, n);
		return err_sys(e, "%s/%s", c->dir, c->vdir);
	}
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || strlen(de->d_name) < SHA256_HEX_LEN)
			continue;
		bool used = false;
		for (size_t i = 0; i < n && !used; i++) {
			char key[SHA256_HEX_LEN + 1];
			used = !name_key(c, v[i], key) && !strncmp(key, de->d_name, SHA256_HEX_LEN);
		}
		if (!used && unlinkat(c->vfd, de->d_name, 0))
			err_sys(e, "remove %s", de->d_name);
	}
	closedir(d);
	free_names(v, n);
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

static int do_rm(struct cache *c, const char *name, struct err *e)
{
	char key[SHA256_HEX_LEN + 1];
	if (cache_lock(c, e))
		return -1;
	int rc = 0;
	if (name_key(c, name, key))
		rc = err_set(e, "no image named '%s'", name);
	else if (unlinkat(c->namesfd, name, 0))
		rc = err_sys(e, "remove %s", name);
	else
		rc = gc(c, false, e);
	cache_unlock(c);
	return rc;
}

int main(int argc, char **argv)
{
	umask(022);
	/* libarchive converts pax (UTF-8) names to the locale's charset. */
	if (!setlocale(LC_CTYPE, "C.UTF-8"))
		setlocale(LC_CTYPE, "");
	if (argc < 2)
		return usage(NULL);
	const char *cmd = argv[1];
	if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h") || !strcmp(cmd, "help")) {
		fputs(usage_text, stdout);
		return 0;
	}
	enum src_format fmt = SRC_AUTO;
	char **args = argv + 2;
	int nargs = argc - 2;
	if (!strcmp(cmd, "import")) {
		static const struct option opts[] = {
			{ "format", required_argument, NULL, 'f' },
			{ "help", no_argument, NULL, 'h' },
			{ 0 },
		};
		int o;
		optind = 2;
		while ((o = getopt_long(argc, argv, "f:h", opts, NULL)) != -1) {
			if (o == 'f') {
				if (src_format_parse(optarg, &fmt) || fmt == SRC_AUTO)
					return usage("unknown --format");
			} else if (o == 'h') {
				fputs(usage_text, stdout);
				return 0;
			} else {
				return usage(NULL);
			}
		}
		args = argv + optind;
		nargs = argc - optind;
		if (nargs != 2)
			return usage("import takes SRC[:TAG] NAME");
		if (!image_name_valid(args[1]))
			return usage("bad NAME");
	} else if (!strcmp(cmd, "inspect") || !strcmp(cmd, "rm") || !strcmp(cmd, "runconf")) {
		if (nargs != 1)
			return usage("expected one NAME");
		if (!image_name_valid(args[0]))
			return usage("bad NAME");
	} else if (!strcmp(cmd, "ls") || !strcmp(cmd, "prune")) {
		if (nargs != 0)
			return usage("no arguments expected");
	} else {
		return usage("unknown command");
	}

	struct cache c;
	struct err e = { 0 };
	if (cache_open(&c, &e))
		return fail(&e);
	int rc = 0;
	if (!strcmp(cmd, "import"))
		rc = do_import(&c, args[0], fmt, args[1], false, &e);
	else if (!strcmp(cmd, "ls"))
		rc = do_ls(&c, &e);
	else if (!strcmp(cmd, "inspect"))
		rc = do_inspect(&c, args[0], &e);
	else if (!strcmp(cmd, "runconf"))
		rc = do_runconf(&c, args[0], &e);
	else if (!strcmp(cmd, "rm"))
		rc = do_rm(&c, args[0], &e);
	else if (!strcmp(cmd, "prune")) {
		if (!(rc = cache_lock(&c, &e))) {
			rc = gc(&c, true, &e);
			cache_unlock(&c);
		}
	}
	return rc ? fail(&e) : 0;
}
