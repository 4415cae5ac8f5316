/* The container's life cycle, in crun's order:
 *   runtime: clone into new mount/PID/UTS/IPC(/net) namespaces → put the
 *            child into its cgroup → let it go → forward signals → wait.
 *   child:   cgroup namespace → hostname, network → rootfs (mounts,
 *            pivot_root, masked and read-only paths) → chdir → user lookup
 *            → rlimits → capability bounding set → no_new_privs → user
 *            switch → capabilities → seccomp (last) → exec.
 * A failure in the child before exec goes back to the runtime over a
 * close-on-exec pipe; a successful exec closes it empty. */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/close_range.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>

#include "container.h"

extern char **environ;

static int status_of(int st)
{
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Signals the runtime (or the container's reaper) passes on to its child. */
static volatile pid_t forward_to;
static const int forwarded[] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH };

static void forward(int sig)
{
	if (forward_to > 0)
		kill(forward_to, sig);
}

static void forward_signals(pid_t child)
{
	forward_to = child;
	struct sigaction sa = { .sa_handler = forward, .sa_flags = SA_RESTART };
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof(forwarded) / sizeof(forwarded[0]); i++)
		sigaction(forwarded[i], &sa, NULL);
}

/* Wait for CHILD, reaping every other child on the way. */
static int wait_for(pid_t child)
{
	for (;;) {
		int st;
		pid_t w = waitpid(-1, &st, __WALL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return 125;
		if (w == child)
			return status_of(st);
	}
}

int container_wait(pid_t child)
{
	forward_signals(child);
	return wait_for(child);
}

static int apply_rlimits(const struct sb_spec *spec, struct err *err)
{
	for (int i = 0; i < spec->nrlimits; i++)
		if (setrlimit(spec->rlimits[i].resource, &spec->rlimits[i].lim))
			return err_errno(err, errno, "setrlimit %d", spec->rlimits[i].resource);
	return 0;
}

/* Environment: the spec's, plus PATH and HOME when it sets none. */
static char **build_env(const struct sb_spec *spec, const struct sb_ids *ids)
{
	static char *env[CSPEC_MAX_ENV + 4];
	static char home[300];
	int n = 0;
	bool has_path = false, has_home = false;
	for (int i = 0; i < spec->nenv; i++) {
		has_path |= !strncmp(spec->env[i], "PATH=", 5);
		has_home |= !strncmp(spec->env[i], "HOME=", 5);
		env[n++] = spec->env[i];
	}
	if (!has_path)
		env[n++] = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	if (!has_home) {
		snprintf(home, sizeof(home), "HOME=%s", ids->home[0] ? ids->home : "/");
		env[n++] = home;
	}
	env[n] = NULL;
	return env;
}

/* --init: PID 1 of the container is this reaper; the command is its child.
 * Signals sent to PID 1 reach the command, and it can die of them (the
 * kernel never delivers an unhandled signal to a namespace's init). */
static void exec_command(const struct sb_spec *spec, char **env, struct err *err)
{
	if (spec->init) {
		pid_t pid = fork();
		if (pid < 0) {
			err_errno(err, errno, "fork the command");
			return;
		}
		if (pid > 0) {
			forward_signals(pid);
			_exit(wait_for(pid));
		}
	}
	environ = env;
	execvp(spec->args[0], spec->args);
	int e = errno;
	err->status = e == ENOENT ? 127 : 126;
	err_errno(err, e, "exec %s", spec->args[0]);
}

/* The process's own walls, the same for the container's first process
 * and every exec'd one: working directory, user, rlimits, capabilities,
 * no_new_privs, seccomp (last), exec. Returns only on failure. */
int process_exec(const struct sb_spec *spec, struct err *err)
{
	struct sb_ids ids;
	if (chdir(spec->cwd ? spec->cwd : "/"))
		return err_errno(err, errno, "chdir %s", spec->cwd);
	if (user_resolve(spec->user, &ids, err) < 0)
		return err_wrap(err, "user");
	if (apply_rlimits(spec, err) < 0)
		return -1;
	if (spec->audit_privileged) {   /* the audit's attacker owns the kernel: every
					 * capability root has, no filter (docs/audit.md) */
		if (user_switch(&ids, err) < 0)
			return err_wrap(err, "user");
		char **env = build_env(spec, &ids);
		if (syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) && errno != ENOSYS && errno != EINVAL)
			return err_errno(err, errno, "close_range");
		exec_command(spec, env, err);
		return -1;
	}
	if (caps_drop_bounding(spec, err) < 0)
		return err_wrap(err, "capabilities");
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return err_errno(err, errno, "no_new_privs");
	if (user_switch(&ids, err) < 0)
		return err_wrap(err, "user");
	if (caps_apply(spec, err) < 0)
		return err_wrap(err, "capabilities");
	char **env = build_env(spec, &ids);
	/* Only stdin, stdout and stderr reach the command (and the error
	 * pipe, until exec). */
	if (syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC) && errno != ENOSYS && errno != EINVAL)
		return err_errno(err, errno, "close_range");
	if (!spec->no_seccomp && seccomp_apply_default(err) < 0)
		return err_wrap(err, "seccomp");
	exec_command(spec, env, err);
	return -1;
}

static int child_setup(const struct sb_spec *spec, struct err *err)
{
	/* A terminal: the container's session leader owns it (job control,
	 * ^C reaching the foreground process group). */
	if (spec->tty && (setsid() < 0 || ioctl(0, TIOCSCTTY, 0) < 0))
		return err_errno(err, errno, "make the pty the controlling terminal");
	if (unshare(CLONE_NEWCGROUP))
		return err_errno(err, errno, "unshare cgroup namespace");
	if (ns_setup_uts_net(spec, err) < 0)
		return -1;
	if (rootfs_setup(spec, err) < 0)
		return err_wrap(err, "rootfs");
	return process_exec(spec, err);
}

static void child_main(const struct sb_spec *spec, int sync_fd, int err_fd)
{
	struct err err = { 0 };
	char c;
	/* The runtime writes one byte once the cgroup is ready. */
	if (read(sync_fd, &c, 1) != 1)
		_exit(125);
	close(sync_fd);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	child_setup(spec, &err);
	if (write(err_fd, &err, sizeof(err)) < 0)
		_exit(125);
	_exit(err.status ? err.status : 125);
}

void container_runtime(void *arg, bool tty)
{
	struct sb_spec *spec = arg;
	spec->tty = tty;
	struct err err = { 0 };
	int status = container_run(spec, &err);
	if (status < 0) {
		fprintf(stderr, "sandbox: %s\n", err.msg);
		status = err.status ? err.status : 125;
	}
	fflush(stderr);
	_exit(status);
}

int container_run(const struct sb_spec *spec, struct err *err)
{
	int sync_p[2], err_p[2];
	if (pipe2(sync_p, O_CLOEXEC) || pipe2(err_p, O_CLOEXEC))
		return err_errno(err, errno, "pipe");
	fflush(NULL);
	pid_t pid = (pid_t)syscall(SYS_clone, (unsigned long)ns_clone_flags(spec) | SIGCHLD, NULL, NULL, NULL, NULL);
	if (pid < 0)
		return err_errno(err, errno, "clone into new namespaces");
	if (pid == 0) {
		close(sync_p[1]);
		close(err_p[0]);
		child_main(spec, sync_p[0], err_p[1]);
	}
	close(sync_p[0]);
	close(err_p[1]);

	char cg[256] = "";
	if (cgroup_setup(spec, pid, cg, sizeof(cg), err) < 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		cgroup_cleanup(spec, cg);
		return err_wrap(err, "cgroup");
	}
	forward_signals(pid);
	if (write(sync_p[1], "g", 1) != 1) {
		err_errno(err, errno, "start the container");
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
		cgroup_cleanup(spec, cg);
		return -1;
	}
	close(sync_p[1]);

	struct err child_err;
	ssize_t n;
	do
		n = read(err_p[0], &child_err, sizeof(child_err));
	while (n < 0 && errno == EINTR);
	close(err_p[0]);
	int status = wait_for(pid);
	forward_to = 0;
	cgroup_report(cg, spec);
	cgroup_cleanup(spec, cg);
	if (n == (ssize_t)sizeof(child_err)) {
		child_err.msg[sizeof(child_err.msg) - 1] = '\0';
		*err = child_err;
		return -1;
	}
	return status;
}
