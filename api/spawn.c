/* Running the command line (api.h): `sandbox ARGS...` as a child with
 * pipes for its stdout and stderr. Every fd of the server is close-on-exec
 * (MHD's sockets, our pipes), so a sandbox started here holds none of
 * them: its owner (`run -d` forks it and returns) is never the server's
 * child and outlives it. */
#include "api.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define CAPTURE_MAX (64u << 20)

extern char **environ;
static char sandbox_bin[4096] = "sandbox";

void spawn_set_binary(const char *path)
{
	snprintf(sandbox_bin, sizeof(sandbox_bin), "%s", path);
}

pid_t spawn_stream(char *const argv[], int stdin_fd, int *out, int *err, struct err *e)
{
	int po[2] = { -1, -1 }, pe[2] = { -1, -1 };
	if (pipe2(po, O_CLOEXEC) || (err && pipe2(pe, O_CLOEXEC))) {
		err_sys(e, "pipe");
		goto fail;
	}
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	if (stdin_fd >= 0)
		posix_spawn_file_actions_adddup2(&fa, stdin_fd, 0);
	else
		posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, po[1], 1);
	posix_spawn_file_actions_adddup2(&fa, err ? pe[1] : po[1], 2);
	char *args[API_MAX_ARGS + 2];
	int n = 0;
	args[n++] = sandbox_bin;
	for (int i = 0; argv[i] && n < API_MAX_ARGS + 1; i++)
		args[n++] = argv[i];
	args[n] = NULL;
	posix_spawnattr_t at;
	posix_spawnattr_init(&at);
	sigset_t none;
	sigemptyset(&none);
	posix_spawnattr_setsigmask(&at, &none);
	sigset_t def;
	sigemptyset(&def);
	sigaddset(&def, SIGPIPE);
	posix_spawnattr_setsigdefault(&at, &def);
	posix_spawnattr_setflags(&at, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	pid_t pid;
	int r = posix_spawn(&pid, sandbox_bin, &fa, &at, args, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&at);
	if (r) {
		errno = r;
		err_sys(e, "run %s", sandbox_bin);
		goto fail;
	}
	close(po[1]);
	*out = po[0];
	if (err) {
		close(pe[1]);
		*err = pe[0];
	}
	return pid;
fail:
	for (int i = 0; i < 2; i++) {
		if (po[i] >= 0)
			close(po[i]);
		if (pe[i] >= 0)
			close(pe[i]);
	}
	return -1;
}

static int append(char **buf, size_t *len, size_t *cap, const char *p, size_t n)
{
	if (*len + n + 1 > *cap) {
		size_t ncap = *cap ? *cap * 2 : 4096;
		while (ncap < *len + n + 1)
			ncap *= 2;
		char *nb = realloc(*buf, ncap);
		if (!nb)
			return -1;
		*buf = nb;
		*cap = ncap;
	}
	memcpy(*buf + *len, p, n);
	*len += n;
	(*buf)[*len] = '\0';
	return 0;
}

/* Read OUT and ERR until the child PID has exited and both are drained
 * (or, once it exited, nothing more comes: a sandbox it started may hold
 * a copy, e.g. `run -d`'s owner until it redirected its stdio). */
int spawn_run(char *const argv[], int stdin_fd, struct spawn_result *r, struct err *e)
{
	memset(r, 0, sizeof(*r));
	int fds[2];
	pid_t pid = spawn_stream(argv, stdin_fd, &fds[0], &fds[1], e);
	if (pid < 0)
		return -1;
	size_t cap[2] = { 0, 0 };
	char **bufs[2] = { &r->out, &r->err };
	size_t *lens[2] = { &r->out_len, &r->err_len };
	bool exited = false;
	int st = 0;
	for (;;) {
		struct pollfd pf[2] = { { .fd = fds[0], .events = POLLIN }, { .fd = fds[1], .events = POLLIN } };
		if (fds[0] < 0 && fds[1] < 0)
			break;
		int n = poll(pf, 2, exited ? 50 : 200);
		if (n < 0 && errno != EINTR)
			break;
		if (n == 0 && exited)
			break;
		for (int i = 0; i < 2; i++) {
			if (fds[i] < 0 || !pf[i].revents)
				continue;
			char tmp[16384];
			ssize_t k = read(fds[i], tmp, sizeof(tmp));
			if (k < 0 && errno == EINTR)
				continue;
			if (k <= 0) {
				close(fds[i]);
				fds[i] = -1;
				continue;
			}
			if (*lens[i] + (size_t)k <= CAPTURE_MAX && append(bufs[i], lens[i], &cap[i], tmp, (size_t)k)) {
				kill(pid, SIGKILL);
			}
		}
		if (!exited && waitpid(pid, &st, WNOHANG) == pid)
			exited = true;
	}
	for (int i = 0; i < 2; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	if (!exited)
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
	r->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	for (int i = 0; i < 2; i++)
		if (!*bufs[i] && append(bufs[i], lens[i], &cap[i], "", 0))
			return err_oom(e, "output");
	return 0;
}

void spawn_free(struct spawn_result *r)
{
	free(r->out);
	free(r->err);
	r->out = r->err = NULL;
}
