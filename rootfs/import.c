/* sandbox-image import (image.h's flow): a source read and verified, its
 * layers applied into a work directory, the disk made, and the entry
 * published under the cache lock; the work directory is removed at the
 * end, and by a signal handler if the import is interrupted. */
#include "image.h"
#include "mke2fs.h"

#include <fcntl.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

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
	int fd = openat(dirfd, path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, cache_file_mode());
	if (fd < 0)
		return err_sys(e, "%s", path);
	size_t len = strlen(s);
	bool ok = write(fd, s, len) == (ssize_t)len && write(fd, "\n", 1) == 1 && !fsync(fd);
	close(fd);
	return ok ? 0 : err_sys(e, "write %s", path);
}

/* The running import's work directory, removed if we are interrupted:
 * the handler stops a filesystem tool it runs, forks, execs rm and exits
 * (async-signal-safe). */
static char interrupted_work[4200];

static void on_signal(int sig)
{
	pid_t tool = (pid_t)mkfs_child;     /* it would go on writing there */
	if (tool > 0) {
		kill(tool, SIGKILL);
		waitpid(tool, NULL, 0);
	}
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
int image_import(struct cache *c, const char *spec, enum src_format fmt, const char *name,
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
	if (cache_has(c, s.key)) {
		if (cache_lock(c, e))
			goto out;
		rc = cache_has(c, s.key) ? cache_set_name(c, name, s.key, e) : -2;
		if (!rc)
			rc = cache_gc(c, false, e); /* the disk NAME pointed at before */
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
	if (dfd < 0 || fsync(dfd) || fchmod(dfd, cache_disk_mode())) {
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
	else if (!(rc = cache_set_name(c, name, s.key, e)))
		rc = cache_gc(c, false, e);
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
