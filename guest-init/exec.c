/* `sandbox exec`: a new process in a running container, behind exactly
 * the walls of its first process.
 *
 *   find the container's init (the runtime's child) → open its
 *   namespaces, its root and its cgroup → join them (setns cgroup, ipc,
 *   uts, net, pid, mnt; chroot to its root) → fork: the child is in its
 *   PID namespace → join the cgroup → process_exec(): chdir, user,
 *   rlimits, capabilities, no_new_privs, seccomp, exec.
 *
 * The spec of the exec (common/spec.h: argv, env, cwd, user, tty) is
 * laid over the container's: its env entries replace or add to the
 * container's, cwd and user default to the container's.
 *
 * `sandbox cp` is an exec whose spec carries an action instead of a
 * command (common/spec.h): the child joins as for exec, then, as root
 * with the container's root as "/", streams a path as tar on its stdout
 * (cp out) or extracts the tar on its stdin at a path (cp in) with
 * common/cp.c, and exits 0, or 125 after one line on stderr.
 *
 * In the VM each exec is a vsock connection to SB_EXEC_PORT: PID 1 forks
 * exec_session() for it, which reads the EXEC frame, starts the process
 * and relays its stdio over that connection alone (relay.c), so execs
 * never wait on one another or on the first process. Before a snapshot
 * PID 1 forks one spare session that joins the container at once and
 * waits for a connection (exec_spare_start): a restored clone's first
 * exec skips PID 1's fork and the join, its dearest steps there. On the host
 * (--isolation container) `guest-init --exec PID --spec-fd N` joins the
 * same way and the process has the caller's stdio. */
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../common/cp.h"
#include "../common/procstat.h"
#include "container.h"
#include "relay.h"

static const struct {
	const char *name;
	int type;
} namespaces[] = {
	/* cgroup first (its view of /proc/self/cgroup does not matter to
	 * the rest), mnt last: after it, /proc is the container's. */
	{ "cgroup", CLONE_NEWCGROUP }, { "ipc", CLONE_NEWIPC }, { "uts", CLONE_NEWUTS },
	{ "net", CLONE_NEWNET },       { "pid", CLONE_NEWPID }, { "mnt", CLONE_NEWNS },
};
#define NNS (sizeof(namespaces) / sizeof(namespaces[0]))

struct target {
	int ns[NNS];
	int root;
	int cgroup_procs;       /* -1: none to join */
};

/* Whether PID is a live child of PARENT. */
static bool child_still(pid_t pid, pid_t parent)
{
	struct proc_stat st;
	return !proc_stat_read(pid, &st) && st.ppid == parent && st.state != 'Z';
}

/* A child of PARENT (the first found), 0 if it has none. */
static pid_t child_of(pid_t parent)
{
	DIR *d = opendir("/proc");
	if (!d)
		return 0;
	pid_t found = 0;
	struct dirent *de;
	while (!found && (de = readdir(d))) {
		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		pid_t pid = (pid_t)atoi(de->d_name);
		if (child_still(pid, parent))
			found = pid;
	}
	closedir(d);
	return found;
}

static bool same_exe(pid_t a, pid_t b)
{
	char la[64], lb[64], ea[PATH_MAX], eb[PATH_MAX];
	snprintf(la, sizeof(la), "/proc/%d/exe", (int)a);
	snprintf(lb, sizeof(lb), "/proc/%d/exe", (int)b);
	ssize_t na = readlink(la, ea, sizeof(ea) - 1), nb = readlink(lb, eb, sizeof(eb) - 1);
	return na > 0 && nb > 0 && na == nb && !memcmp(ea, eb, (size_t)na);
}

/* The container's init as last found (by PID 1, so every session it
 * forks starts knowing it): finding it walks the whole of /proc, which
 * in a VM just restored from a snapshot costs tens of milliseconds of
 * first-touch faults. Once set up the init stays the runtime's one child
 * until it ends, so a live child of the same runtime is still it. */
static pid_t known_init, known_runtime;

/* One look: the init if the container is set up, else 0. */
static pid_t container_init_once(pid_t runtime)
{
	if (known_init && known_runtime == runtime) {
		if (child_still(known_init, runtime))
			return known_init;
		known_init = 0;
	}
	pid_t init = child_of(runtime);
	if (!init || (same_exe(init, runtime) && !child_of(init)))
		return 0;
	known_init = init;
	known_runtime = runtime;
	return init;
}

/* The container's init, once it is set up: the runtime's one child (the
 * clone of container_run) after it exec'd the command, or, with --init,
 * after the reaper it stays forked the command (the last step of the
 * setup). Joining it earlier would find its root before pivot_root.
 * Waits up to 10 s for a container that is starting (the runtime may not
 * even have cloned it yet); 0 if there is none. */
static pid_t container_init(pid_t runtime)
{
	for (int i = 0; i < 1000; i++) {
		pid_t init = container_init_once(runtime);
		if (init)
			return init;
		if (kill(runtime, 0))
			return 0;       /* no runtime: it has ended */
		usleep(10000);  /* not made or not set up yet */
	}
	return 0;
}

pid_t exec_container_init(pid_t runtime) { return container_init(runtime); }
pid_t exec_container_note(pid_t runtime) { return container_init_once(runtime); }

static void target_close(struct target *t)
{
	for (size_t i = 0; i < NNS; i++)
		if (t->ns[i] >= 0)
			close(t->ns[i]);
	if (t->root >= 0)
		close(t->root);
	if (t->cgroup_procs >= 0)
		close(t->cgroup_procs);
}

/* Everything of PID's we join, opened before joining any of it. */
static int target_open(pid_t pid, struct target *t, struct err *err)
{
	char path[64];
	for (size_t i = 0; i < NNS; i++)
		t->ns[i] = -1;
	t->root = t->cgroup_procs = -1;
	for (size_t i = 0; i < NNS; i++) {
		snprintf(path, sizeof(path), "/proc/%d/ns/%s", (int)pid, namespaces[i].name);
		t->ns[i] = open(path, O_RDONLY | O_CLOEXEC);
		if (t->ns[i] < 0)
			return err_errno(err, errno, "open %s", path);
	}
	snprintf(path, sizeof(path), "/proc/%d/root", (int)pid);
	t->root = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
	if (t->root < 0)
		return err_errno(err, errno, "open %s", path);
	int cg = cgroup_procs_of(pid, err);
	if (cg == -1)
		return err_wrap(err, "cgroup");
	t->cgroup_procs = cg;
	return 0;
}

/* Join T's namespaces and root (the PID namespace applies to our next
 * child). */
static int target_join(const struct target *t, struct err *err)
{
	for (size_t i = 0; i < NNS; i++)
		if (setns(t->ns[i], namespaces[i].type))
			return err_errno(err, errno, "join the %s namespace", namespaces[i].name);
	if (fchdir(t->root) || chroot("."))
		return err_errno(err, errno, "enter the container's root");
	return 0;
}

/* The exec's spec over the container's: argv, tty and stdin are the
 * exec's; env entries replace the container's of the same name or are
 * added; cwd and user replace the container's when given. */
static int merge_spec(struct sb_spec *out, const struct sb_spec *container, const struct cspec *x,
		      struct err *err)
{
	*out = *container;
	out->init = false;
	out->tty = x->tty;
	for (unsigned i = 0; i < x->nargv; i++)
		out->args[i] = (char *)x->argv[i];
	out->args[x->nargv] = NULL;
	out->nargs = (int)x->nargv;
	for (unsigned i = 0; i < x->nenv; i++) {
		size_t klen = strcspn(x->env[i], "=") + 1;
		int j = 0;
		while (j < out->nenv && strncmp(out->env[j], x->env[i], klen))
			j++;
		if (j == out->nenv) {
			if (out->nenv >= CSPEC_MAX_ENV)
				return err_errno(err, 0, "more than %d environment variables", CSPEC_MAX_ENV);
			out->nenv++;
		}
		out->env[j] = (char *)x->env[i];
	}
	out->env[out->nenv] = NULL;
	if (x->cwd)
		out->cwd = x->cwd;
	if (x->user)
		out->user = x->user;
	return 0;
}

struct exec_child {
	struct sb_spec spec;
	int cgroup_procs;       /* -1: none */
	int status_w;           /* gets a byte if the exec fails (else closes at exec) */
	enum cspec_action action;       /* sandbox cp: what to do instead */
	uint32_t cp_flags;
	const char *cp_path;
};

/* sandbox cp's side in the container (see the top). It has started as
 * far as the session is concerned: errors from here on are its stderr
 * and status. */
static void cp_child(struct exec_child *c)
{
	struct err err = { 0 };
	close(c->status_w);
	c->status_w = -1;
	prctl(PR_SET_DUMPABLE, 0);      /* the container's processes keep off */
	if (c->cgroup_procs >= 0 && write(c->cgroup_procs, "0", 1) != 1) {
		err_errno(&err, errno, "join the container's cgroup");
	} else {
		/* Nothing of the session's stays open here (its pipes' other
		 * ends would keep our stdin from ending). */
		if (syscall(SYS_close_range, 3U, ~0U, 0U))
			for (int fd = 3; fd < 1024; fd++)
				close(fd);
		umask(022);
		int rc = chdir("/");
		if (!rc && c->action == CSPEC_ACT_TAR_OUT)
			rc = cp_send(1, c->cp_path, c->cp_flags & (CP_CONTENTS | CP_FOLLOW), &err);
		else if (!rc)
			rc = cp_receive(0, c->cp_path, c->cp_flags, 0, 0, false, NULL, &err);
		else
			err_errno(&err, errno, "chdir /");
		if (!rc)
			_exit(0);
	}
	fprintf(stderr, "sandbox: cp: %s\n", err.msg);
	fflush(stderr);
	_exit(125);
}

/* The exec'd process, in the container's namespaces and root. */
static void exec_child(void *arg, bool tty)
{
	struct exec_child *c = arg;
	struct err err = { 0 };
	if (c->action != CSPEC_ACT_NONE)
		cp_child(c);
	if (tty && (setsid() < 0 || ioctl(0, TIOCSCTTY, 0) < 0))
		err_errno(&err, errno, "make the pty the controlling terminal");
	else if (c->cgroup_procs >= 0 && write(c->cgroup_procs, "0", 1) != 1)
		err_errno(&err, errno, "join the container's cgroup");
	else
		process_exec(&c->spec, &err);
	unsigned char st = (unsigned char)(err.status ? err.status : 125);
	char line[sizeof(err.msg) + 32];
	int n = snprintf(line, sizeof(line), "%csandbox: exec: %s\n", st, err.msg);
	if (c->status_w >= 0 && write(c->status_w, line, (size_t)n) < 0) {
		/* the session is gone: our status still says it */
	}
	fputs(line + 1, stderr);
	fflush(stderr);
	_exit(st);
}

/* Does the exec'd process run (its status pipe closed at exec)? If not,
 * MSG (LEN bytes) gets the line it printed on its stderr. */
static bool exec_started(int status_r, char *msg, size_t len)
{
	char buf[700];
	size_t got = 0;
	ssize_t n;
	while (got < sizeof(buf) && ((n = read(status_r, buf + got, sizeof(buf) - got)) > 0 || (n < 0 && errno == EINTR)))
		got += n > 0 ? (size_t)n : 0;
	snprintf(msg, len, "%.*s", got > 1 ? (int)(got - 1) : 0, buf + 1);
	return got == 0;
}

/* A session that joined the container before its request came (the
 * spare): what it joined, the way back to PID 1's cgroup and mount
 * namespaces (and so its root and /proc), and the container's init as a
 * pidfd (in the container's mount namespace /proc is the container's:
 * PID 1's numbers mean nothing there). */
struct joined {
	struct target t;
	int back_cgroup, back_mnt;
	int init_fd;
};

static int joined_leave(const struct joined *j, struct err *err)
{
	if (setns(j->back_cgroup, CLONE_NEWCGROUP) || setns(j->back_mnt, CLONE_NEWNS))
		return err_errno(err, errno, "leave the container's namespaces");
	return 0;
}

static bool joined_init_alive(const struct joined *j)
{
	struct pollfd p = { .fd = j->init_fd, .events = POLLIN };
	return poll(&p, 1, 0) == 0;     /* readable once it has exited */
}

/* One exec: read its request on CONN, start it, relay its stdio until it
 * ends. J: the container already joined (a spare session); NULL: join
 * here. */
static void session_run(int conn, const struct sb_spec *container, pid_t runtime, struct joined *j)
{
	static struct relay r;
	static uint8_t buf[CSPEC_MAX_SIZE];
	static struct cspec x;
	static struct exec_child c;
	struct err err = { 0 };
	struct target own = { .root = -1, .cgroup_procs = -1 };
	for (size_t i = 0; i < NNS; i++)
		own.ns[i] = -1;
	struct target *t = j ? &j->t : &own;
	int status_p[2] = { -1, -1 };

	if (relay_init(&r, conn) < 0)
		_exit(125);
	long len = relay_first_frame(&r, SB_F_EXEC, buf, sizeof(buf), &err);
	if (len < 0) {
		err_wrap(&err, "exec request");
		goto fail;
	}
	struct cspec_err ce;
	if (cspec_decode(buf, (size_t)len, &x, &ce) < 0) {
		err_errno(&err, 0, "exec request: %s", ce.msg);
		goto fail;
	}
	if (x.action == CSPEC_ACT_CONTAINER)    /* a pod's next container (pod.c) */
		pod_member_session(&r, &x, buf, (size_t)len, runtime);
	if (x.pod_member) {
		/* an exec into a pod's member: its runtime, its walls */
		static uint8_t mbuf[CSPEC_MAX_SIZE];
		static struct cspec mc;
		static struct sb_spec member;
		size_t mlen;
		/* started a moment ago: its session may not have recorded it
		 * yet (up to 10 s, as container_init waits) */
		runtime = 0;
		for (int i = 0; i < 1000 && !runtime; i++) {
			runtime = pod_member_runtime(x.pod_member, mbuf, sizeof(mbuf), &mlen);
			if (!runtime)
				usleep(10000);
		}
		if (!runtime) {
			err_errno(&err, 0, "pod member %s is not running", x.pod_member);
			goto fail;
		}
		if (cspec_decode(mbuf, mlen, &mc, &ce) < 0) {
			err_errno(&err, 0, "pod member %s: %s", x.pod_member, ce.msg);
			goto fail;
		}
		spec_from_cspec(&member, &mc, "/");
		container = &member;
	}
	if (merge_spec(&c.spec, container, &x, &err) < 0)
		goto fail;
	c.action = x.action;
	c.cp_flags = x.cp_flags;
	c.cp_path = x.argv[0];
	if (j && x.action == CSPEC_ACT_UPDATE) {
		if (joined_leave(j, &err) < 0)
			goto fail;
		j = NULL;       /* and as any session from here */
	}
	pid_t init = j ? (joined_init_alive(j) ? 1 : 0) : container_init(runtime);
	if (!init) {
		err_errno(&err, 0, "the container is not running");
		goto fail;
	}
	if (x.action == CSPEC_ACT_UPDATE) {
		/* sandbox-runtime update: PID 1's child changes the container's
		 * cgroup from outside it; nothing to run */
		if (cgroup_update(init, &x, &err) < 0) {
			err_wrap(&err, "update");
			goto fail;
		}
		relay_fail(&r, NULL, 0);        /* no message: EXIT 0 */
		_exit(0);
	}
	if (!j && (target_open(init, t, &err) < 0 || target_join(t, &err) < 0))
		goto fail;
	c.cgroup_procs = t->cgroup_procs;

	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, NULL);
	r.sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (r.sigfd < 0 || pipe2(status_p, O_CLOEXEC)) {
		err_errno(&err, errno, "signalfd or pipe");
		goto fail;
	}
	c.status_w = status_p[1];
	if (relay_spawn(&r, x.tty, x.stdin_open, x.rows, x.cols, exec_child, &c, &err) < 0)
		goto fail;
	close(status_p[1]);
	target_close(t);
	char msg[700];
	if (exec_started(status_p[0], msg, sizeof(msg)))
		sb_tx_put(&r.tx, SB_F_STARTED, NULL, 0);
	close(status_p[0]);
	_exit(relay_run(&r));

fail:
	relay_fail(&r, err.msg, err.status ? err.status : 125);
	_exit(125);
}

void exec_session(int conn, const struct sb_spec *container, pid_t runtime)
{
	session_run(conn, container, runtime, NULL);
}

/* The spare session: fd 3 is its end of PID 1's socketpair. It joins the
 * container now, says so with one byte, and waits for a connection. */
static void spare_main(const struct sb_spec *container, pid_t runtime)
{
	static struct joined j;
	struct err err = { 0 };
	pid_t init = container_init(runtime);
	j.back_cgroup = open("/proc/self/ns/cgroup", O_RDONLY | O_CLOEXEC);
	j.back_mnt = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
	j.init_fd = init ? (int)syscall(SYS_pidfd_open, init, 0) : -1;
	if (j.back_cgroup < 0 || j.back_mnt < 0 || j.init_fd < 0 || target_open(init, &j.t, &err) < 0 ||
	    target_join(&j.t, &err) < 0)
		_exit(0);       /* PID 1 forks sessions as before */
	char one = 1;
	if (write(3, &one, 1) != 1)
		_exit(0);
	char b;
	struct iovec iov = { .iov_base = &b, .iov_len = 1 };
	union {
		struct cmsghdr h;
		char space[CMSG_SPACE(sizeof(int))];
	} u;
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.space,
			    .msg_controllen = sizeof(u.space) };
	ssize_t n;
	while ((n = recvmsg(3, &m, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR)
		;
	struct cmsghdr *h = n > 0 ? CMSG_FIRSTHDR(&m) : NULL;
	if (!h || h->cmsg_level != SOL_SOCKET || h->cmsg_type != SCM_RIGHTS || h->cmsg_len != CMSG_LEN(sizeof(int)))
		_exit(0);       /* PID 1 let us go (or sent nonsense) */
	int conn;
	memcpy(&conn, CMSG_DATA(h), sizeof(int));
	if (dup2(conn, 4) < 0)
		_exit(125);
	close(conn);
	close(3);
	session_run(4, container, runtime, &j);
}

int exec_spare_start(const struct sb_spec *container, pid_t runtime, struct err *err)
{
	int sp[2];
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sp))
		return err_errno(err, errno, "socketpair");
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		close(sp[0]);
		close(sp[1]);
		return err_errno(err, errno, "fork");
	}
	if (pid == 0) {
		/* Nothing of PID 1's but our end of the pair. */
		if (dup2(sp[1], 3) < 0)
			_exit(0);
		syscall(SYS_close_range, 4U, ~0U, 0U);
		spare_main(container, runtime);
	}
	close(sp[1]);
	/* Ready (joined), or gone: a second at most, for a snapshot waits. */
	struct pollfd p = { .fd = sp[0], .events = POLLIN };
	char b;
	if (poll(&p, 1, 1000) != 1 || read(sp[0], &b, 1) != 1) {
		close(sp[0]);
		return err_errno(err, 0, "the spare session did not start");
	}
	return sp[0];
}

int exec_spare_hand(int spare, int conn)
{
	char b = 0;
	struct iovec iov = { .iov_base = &b, .iov_len = 1 };
	union {
		struct cmsghdr h;
		char space[CMSG_SPACE(sizeof(int))];
	} u;
	memset(&u, 0, sizeof(u));
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.space,
			    .msg_controllen = sizeof(u.space) };
	struct cmsghdr *h = CMSG_FIRSTHDR(&m);
	h->cmsg_level = SOL_SOCKET;
	h->cmsg_type = SCM_RIGHTS;
	h->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(h), &conn, sizeof(int));
	ssize_t n;
	while ((n = sendmsg(spare, &m, MSG_NOSIGNAL | MSG_DONTWAIT)) < 0 && errno == EINTR)
		;
	return n == 1 ? 0 : -1;
}

/* Read and decode the spec encoded in FD (a memfd or a file) into C,
 * whose strings point into BUF. */
static int read_spec_fd(int fd, uint8_t *buf, size_t cap, struct cspec *c, const char *what,
			struct err *err)
{
	ssize_t len = pread(fd, buf, cap, 0);
	close(fd);
	if (len < 0)
		return err_errno(err, errno, "read %s", what);
	struct cspec_err ce;
	if (cspec_decode(buf, (size_t)len, c, &ce) < 0)
		return err_errno(err, 0, "%s: %s", what, ce.msg);
	return 0;
}

static int fd_arg(const char *s)
{
	char *end;
	long v = strtol(s, &end, 10);
	return *s && !*end && v >= 0 && v < (1 << 20) ? (int)v : -1;
}

/* --detach: the process goes on without us. We wait in the background
 * (its parent, so that it is reaped) and tell the foreground process, which
 * returns to the caller, whether it started: a status byte, 0 if it did.
 * Returns in the background process with *NOTIFY set; exits in the
 * foreground one. */
static void detach_from_caller(int *notify)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC)) {
		perror("sandbox: exec: pipe");
		exit(125);
	}
	fflush(NULL);
	pid_t bg = fork();
	if (bg < 0) {
		perror("sandbox: exec: fork");
		exit(125);
	}
	if (bg > 0) {
		unsigned char st = 125;
		close(p[1]);
		ssize_t n;
		do
			n = read(p[0], &st, 1);
		while (n < 0 && errno == EINTR);
		exit(n == 1 ? st : 125);
	}
	close(p[0]);
	setsid();
	*notify = p[1];
}

static void notify_caller(int notify, unsigned char st)
{
	if (notify < 0)
		return;
	if (write(notify, &st, 1) < 0) {
		/* the caller is gone: nothing to tell */
	}
	close(notify);
	/* Nobody reads our output from here on. */
	int nul = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (nul >= 0) {
		dup2(nul, 0);
		dup2(nul, 1);
		dup2(nul, 2);
		close(nul);
	}
}

/* --exec RUNTIME_PID --spec-fd N --exec-fd M [--detach]: the container's
 * spec (the one sandbox run gave --host, kept in its state directory) and
 * the exec's, both encoded. The process gets our stdio (sandbox exec's),
 * or /dev/null with --detach. */
int exec_host_main(int argc, char **argv)
{
	static uint8_t cbuf[CSPEC_MAX_SIZE], xbuf[CSPEC_MAX_SIZE];
	static struct cspec cc, x;
	static struct sb_spec container;
	static struct exec_child c;
	struct err err = { 0 };
	struct target t = { .root = -1, .cgroup_procs = -1 };
	for (size_t i = 0; i < NNS; i++)
		t.ns[i] = -1;
	bool detach = argc == 8 && !strcmp(argv[7], "--detach");
	bool shape = argc == 7 || detach;
	int runtime = shape ? fd_arg(argv[2]) : -1, cfd = shape ? fd_arg(argv[4]) : -1,
	    xfd = shape ? fd_arg(argv[6]) : -1, notify = -1, status_p[2] = { -1, -1 };
	if (runtime <= 1 || cfd < 0 || xfd < 0 || strcmp(argv[3], "--spec-fd") || strcmp(argv[5], "--exec-fd")) {
		fprintf(stderr, "usage: guest-init --exec RUNTIME_PID --spec-fd N --exec-fd M [--detach]\n");
		return 125;
	}
	if (read_spec_fd(cfd, cbuf, sizeof(cbuf), &cc, "the container's spec", &err) < 0 ||
	    read_spec_fd(xfd, xbuf, sizeof(xbuf), &x, "the exec's spec", &err) < 0)
		goto fail;
	spec_from_cspec(&container, &cc, "/");
	if (merge_spec(&c.spec, &container, &x, &err) < 0)
		goto fail;
	c.action = x.action;
	c.cp_flags = x.cp_flags;
	c.cp_path = x.argv[0];
	if (x.action == CSPEC_ACT_UPDATE) {
		err_errno(&err, 0, "update: only a VM's container can be updated");
		goto fail;
	}
	if (x.action == CSPEC_ACT_CONTAINER || x.pod_member) {
		err_errno(&err, 0, "pods: only a VM holds several containers");
		goto fail;
	}
	pid_t init = container_init((pid_t)runtime);
	if (!init) {
		err_errno(&err, 0, "the container is not running");
		goto fail;
	}
	if (detach)
		detach_from_caller(&notify);
	if (target_open(init, &t, &err) < 0 || target_join(&t, &err) < 0)
		goto fail;
	if (pipe2(status_p, O_CLOEXEC)) {
		err_errno(&err, errno, "pipe");
		goto fail;
	}
	c.cgroup_procs = t.cgroup_procs;
	c.status_w = status_p[1];
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0) {
		err_errno(&err, errno, "fork");
		goto fail;
	}
	if (pid == 0) {
		if (detach) {   /* its stdio: nobody's */
			int nul = open("/dev/null", O_RDWR);
			if (nul < 0 || dup2(nul, 0) < 0 || dup2(nul, 1) < 0 || dup2(nul, 2) < 0)
				_exit(125);
		}
		/* A terminal here is the caller's own, already some session's
		 * controlling one: the process uses it as it is. */
		exec_child(&c, false);
	}
	close(status_p[1]);
	target_close(&t);
	char msg[700];
	if (!exec_started(status_p[0], msg, sizeof(msg))) {
		int st = container_wait(pid);
		if (detach)     /* what it said went to /dev/null */
			fputs(msg, stderr);
		notify_caller(notify, (unsigned char)st);
		return st;
	}
	close(status_p[0]);
	notify_caller(notify, 0);
	return container_wait(pid);

fail:
	fprintf(stderr, "sandbox: exec: %s\n", err.msg);
	notify_caller(notify, (unsigned char)(err.status ? err.status : 125));
	return err.status ? err.status : 125;
}
