/* e2fsprogs' mke2fs (see mke2fs.h). */
#include "mke2fs.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* Is NAME an executable in $PATH? Its path into OUT. */
static bool in_path(const char *name, char *out, size_t len)
{
	const char *p = getenv("PATH");
	if (!p || !*p)
		p = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	while (*p) {
		size_t n = strcspn(p, ":");
		snprintf(out, len, "%.*s/%s", (int)n, p, name);
		if (n && access(out, X_OK) == 0)
			return true;
		p += n + (p[n] == ':');
	}
	return false;
}

int mke2fs_find(char *path, size_t len, struct err *e)
{
	char real[PATH_MAX];
	if (!in_path("mke2fs", path, len))
		return err_set(e, "mke2fs not found");
	/* Busybox's has neither -t nor -d and fails with "invalid option",
	 * which names neither the problem nor the fix. */
	const char *base = realpath(path, real) ? strrchr(real, '/') : NULL;
	if (base && !strcmp(base + 1, "busybox"))
		return err_set(e, "%s is busybox's mke2fs, which cannot make ext4", path);
	return 0;
}

volatile sig_atomic_t mkfs_child;

int mkfs_wait(pid_t pid, int *status)
{
	pid_t w;
	while ((w = waitpid(pid, status, 0)) < 0 && errno == EINTR)
		;
	mkfs_child = 0;
	return w < 0 ? -1 : 0;
}

int mke2fs_run(const char *path, char *const argv[], char *env_add, struct err *e)
{
	int errp[2];
	if (pipe2(errp, O_CLOEXEC))
		return err_sys(e, "pipe");
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		close(errp[0]);
		close(errp[1]);
		return err_sys(e, "fork");
	}
	if (pid == 0) {
		if (env_add)
			putenv(env_add);
		int nul = open("/dev/null", O_RDWR);
		if (nul >= 0) {
			dup2(nul, 0);
			dup2(nul, 1);
		}
		dup2(errp[1], 2);
		execv(path, argv);
		_exit(127);
	}
	mkfs_child = pid;
	close(errp[1]);
	/* Its stderr to the end (it must never block on it); the start kept. */
	char msg[256] = "", buf[1024];
	size_t n = 0;
	ssize_t k;
	while ((k = read(errp[0], buf, sizeof(buf))) > 0 || (k < 0 && errno == EINTR)) {
		size_t take = k > 0 && (size_t)k < sizeof(msg) - 1 - n ? (size_t)k : sizeof(msg) - 1 - n;
		if (k > 0 && take) {
			memcpy(msg + n, buf, take);
			n += take;
		}
	}
	msg[n] = '\0';
	close(errp[0]);
	int st;
	if (mkfs_wait(pid, &st))
		return err_sys(e, "wait for mke2fs");
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return 0;
	msg[strcspn(msg, "\n")] = '\0';
	return err_set(e, "mke2fs failed (status %d)%s%s", WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st),
		       msg[0] ? ": " : "", msg);
}
