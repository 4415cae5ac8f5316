/* `sandbox exec [-i] [-t] [-d] [-e K=V] [-w DIR] [-u USER] ID|NAME CMD [ARG...]`:
 * a new process in a running sandbox's container, as `docker exec`.
 *
 * The exec is a spec (common/spec.h: argv, env, cwd, user, tty, stdin)
 * that guest-init lays over the container's and runs behind the same
 * walls (guest-init/exec.c).
 *   --isolation vm: a vsock stream of its own to the guest's exec port
 *   (through the VMM's Unix socket, ROOT/<id>/sock/vsock: "CONNECT
 *   1025"), the EXEC frame, then stdio, signals and window size as for
 *   the first process (vmm/relay.c), and the status from EXIT. A stream
 *   that ends without EXIT means the sandbox ended: 137.
 *   --isolation container: `guest-init --exec` with our stdio, given the
 *   container's spec (kept by sandbox run in ROOT/<id>/spec) and ours.
 * Exit status: the process's; 125 when sandbox itself fails, 126/127
 * when the command cannot run or is not found. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "exec.h"
#include "events.h"
#include "lifecycle.h"
#include "proto.h"
#include "relay.h"
#include "spec.h"
#include "state.h"
#include "util.h"
#include "vm.h"

#define EXIT_ERR 125
#define EXIT_ENDED 137          /* the sandbox ended under the exec */
#define CONNECT_WAIT_MS 30000   /* a sandbox just started: its agent may not listen yet */

struct exec_opts {
	bool interactive, tty, detach;
	struct cspec x;
	const char *ref;
};

void exec_usage(FILE *f)
{
	fprintf(f, "  exec [-i] [-t] [-d] [-e K=V] [-w DIR] [-u USER] ID|NAME CMD [ARG...]\n"
		   "                                 run a command in a running sandbox\n");
}

static void print_help(void)
{
	printf("usage: sandbox exec [OPTIONS] ID|NAME CMD [ARG...]\n"
	       "run CMD in the running sandbox's container: its namespaces, cgroup, root,\n"
	       "capabilities and seccomp filter; exits with CMD's status\n"
	       "  -i, --interactive    keep stdin open (relay it to CMD)\n"
	       "  -t, --tty            a terminal for CMD\n"
	       "  -d, --detach         start CMD and return; its output is discarded\n"
	       "  -e, --env K=V        set an environment variable (repeatable)\n"
	       "  -w, --workdir DIR    working directory (absolute; default the container's)\n"
	       "  -u, --user USER      user[:group] name or id (default the container's)\n"
	       "      --pod-member ID  (sandbox-runtime) join that container of the VM's pod,\n"
	       "                       not the first one (docs/kubernetes.md)\n");
}

static int parse(int argc, char **argv, struct exec_opts *o, struct err *e)
{
	static const struct option lopts[] = {
		{ "interactive", no_argument, 0, 'i' }, { "tty", no_argument, 0, 't' },
		{ "detach", no_argument, 0, 'd' },      { "env", required_argument, 0, 'e' },
		{ "workdir", required_argument, 0, 'w' }, { "user", required_argument, 0, 'u' },
		{ "help", no_argument, 0, 'h' },         { "pod-member", required_argument, 0, 'P' },
		{ 0, 0, 0, 0 },
	};
	opterr = 0;
	optind = 1;
	int c;
	while ((c = getopt_long(argc, argv, "+itde:w:u:h", lopts, NULL)) != -1) {
		switch (c) {
		case 'i': o->interactive = true; break;
		case 't': o->tty = true; break;
		case 'd': o->detach = true; break;
		case 'e':
			if (!strchr(optarg, '=') || optarg[0] == '=')
				return err_set(e, "exec -e: '%s' is not KEY=VALUE", optarg);
			if (o->x.nenv >= CSPEC_MAX_ENV)
				return err_set(e, "exec -e: more than %d variables", CSPEC_MAX_ENV);
			o->x.env[o->x.nenv++] = optarg;
			break;
		case 'w':
			if (optarg[0] != '/')
				return err_set(e, "exec -w: '%s' is not an absolute path", optarg);
			o->x.cwd = optarg;
			break;
		case 'u': o->x.user = optarg; break;
		case 'P':       /* sandbox-runtime: a pod's member, not the first container */
			if (!cspec_member_ok(optarg))
				return err_set(e, "exec --pod-member: '%.80s' is not a container id", optarg);
			o->x.pod_member = optarg;
			break;
		case 'h': print_help(); return 1;
		default:
			return err_set(e, "exec: unknown or incomplete option '%s'", argv[optind - 1]);
		}
	}
	if (argc - optind < 2)
		return err_set(e, "usage: sandbox exec [OPTIONS] ID|NAME CMD [ARG...]");
	if (o->detach && (o->interactive || o->tty))
		return err_set(e, "exec: -d does not go with -i or -t");
	o->ref = argv[optind++];
	if ((unsigned)(argc - optind) > CSPEC_MAX_ARGS)
		return err_set(e, "exec: more than %d arguments", CSPEC_MAX_ARGS);
	for (int i = optind; i < argc; i++)
		o->x.argv[o->x.nargv++] = argv[i];
	o->x.stdin_open = o->interactive;
	o->x.tty = o->tty;
	struct winsize ws;
	if (o->tty && isatty(0) && !ioctl(0, TIOCGWINSZ, &ws)) {
		o->x.rows = ws.ws_row;
		o->x.cols = ws.ws_col;
	}
	return 0;
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* One try: a stream to the guest's exec port, or -1 (ERR filled). */
static int vsock_connect_once(const char *path, struct err *e)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(a.sun_path))
		return err_set(e, "%s: path too long", path);
	memcpy(a.sun_path, path, strlen(path) + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return err_sys(e, "socket");
	char req[32], line[64];
	int n = snprintf(req, sizeof(req), "CONNECT %d\n", SB_EXEC_PORT);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) || write(fd, req, (size_t)n) != n) {
		err_sys(e, "connect to %s", path);
		close(fd);
		return -1;
	}
	/* "OK <port>\n", read a byte at a time: what follows is the guest's. */
	size_t len = 0;
	while (len < sizeof(line) - 1) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		if (poll(&p, 1, 5000) <= 0 || read(fd, line + len, 1) != 1)
			break;
		if (line[len++] == '\n')
			break;
	}
	line[len] = '\0';
	if (strncmp(line, "OK ", 3) || line[len - 1] != '\n') {
		close(fd);
		return err_set(e, "the guest's agent does not take exec connections");
	}
	return fd;
}

/* Connect, retrying while the sandbox is young (its agent listens only
 * once the container runs) and still running. */
static int vsock_connect(const struct sandbox_state *s, struct err *e)
{
	char path[4200];
	state_path(path, sizeof(path), s->id, "sock/vsock");
	for (int waited = 0;; waited += 50) {
		int fd = vsock_connect_once(path, e);
		if (fd >= 0)
			return fd;
		struct sandbox_state now;
		struct err e2;
		if (waited >= CONNECT_WAIT_MS || lifecycle_find_running(s->id, &now, &e2))
			return -1;
		/* a sandbox just restored answers within milliseconds: look
		 * often at first, then every 50 ms */
		unsigned step = waited < 200 ? 5 : 50;
		sleep_ms(step);
		waited += (int)step - 50;
	}
}

static void relay_done(void *arg)
{
	uint64_t one = 1;
	if (write(*(int *)arg, &one, sizeof(one)) < 0) {
		/* the counter is not full: cannot happen */
	}
}

/* The VM: a stream to the guest's exec port with X's EXEC frame first,
 * as a relay (not started) in R. */
static int vm_connect(struct relay *r, const struct sandbox_state *s, const struct cspec *x, struct err *e)
{
	static uint8_t buf[CSPEC_MAX_SIZE];
	size_t len;
	struct cspec_err ce;
	if (cspec_encode(x, buf, sizeof(buf), &len, &ce))
		return err_set(e, "exec: %s", ce.msg);
	int fd = vsock_connect(s, e);
	if (fd < 0)
		return err_wrap(e, "%s", s->name);
	if (relay_init_sock(r, fd))
		return err_sys(e, "exec: eventfd");
	r->config = buf;
	r->config_len = len;
	r->config_type = SB_F_EXEC;
	return 0;
}

/* The VM: relay over the exec stream until EXIT (or its end), forwarding
 * our signals and window size. */
static int exec_vm(const struct sandbox_state *s, const struct exec_opts *o, struct err *e)
{
	static struct relay r;
	if (vm_connect(&r, s, &o->x, e))
		return -1;
	int done = eventfd(0, EFD_CLOEXEC);
	if (done < 0)
		return err_sys(e, "exec: eventfd");
	r.in_fd = o->interactive ? 0 : -1;
	r.out_fd = 1;
	r.err_fd = 2;
	r.tty = o->tty && isatty(0);
	r.detach = o->detach;
	r.on_end = relay_done;
	r.on_exit_arg = &done;

	/* SIG_FORWARD: sandbox-runtime kill's signal for a pod's member
	 * (its stand-in is this process), in the value */
	int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGWINCH, SIGUSR1, SIGUSR2, SIG_FORWARD };
	sigset_t set;
	sigemptyset(&set);
	for (size_t i = 0; i < ARRAY_SIZE(sigs); i++)
		sigaddset(&set, sigs[i]);
	sigprocmask(SIG_BLOCK, &set, NULL);
	int sfd = signalfd(-1, &set, SFD_CLOEXEC);
	if (sfd < 0)
		return err_sys(e, "exec: signalfd");
	if (r.tty)
		cli_tty_raw();
	if (relay_start(&r)) {
		cli_tty_restore();
		return err_sys(e, "exec: relay thread");
	}
	for (;;) {
		struct pollfd p[2] = { { .fd = done, .events = POLLIN }, { .fd = sfd, .events = POLLIN } };
		if (poll(p, 2, -1) < 0 && errno != EINTR)
			break;
		if (p[0].revents)
			break;
		struct signalfd_siginfo si;
		if (p[1].revents && read(sfd, &si, sizeof(si)) == sizeof(si)) {
			if (si.ssi_signo == SIGWINCH)
				relay_winch(&r);
			else if ((int)si.ssi_signo == SIG_FORWARD && si.ssi_int > 0 && si.ssi_int < 32)
				relay_signal(&r, si.ssi_int);
			else if ((int)si.ssi_signo != SIG_FORWARD)
				relay_signal(&r, (int)si.ssi_signo);
		}
	}
	relay_stop(&r);
	cli_tty_restore();
	int status = atomic_load(&r.status);
	if (r.err[0])
		return err_set(e, "%s", r.err);
	if (status < 0)         /* the stream ended without EXIT: the VM did */
		return EXIT_ENDED;
	return status;
}

/* --isolation container: the command line of `guest-init --exec` for X
 * (ARGV, its strings in BUF), with the two specs in fds it inherits. */
struct host_cmd {
	char tool[4200], pid[16], c[16], x[16];
	char *argv[9];
	int cfd, xfd;
};

static int host_cmd(struct host_cmd *h, const struct sandbox_state *s, const struct cspec *x, bool detach,
		    struct err *e)
{
	static uint8_t buf[CSPEC_MAX_SIZE];
	size_t len;
	struct cspec_err ce;
	if (cspec_encode(x, buf, sizeof(buf), &len, &ce))
		return err_set(e, "exec: %s", ce.msg);
	/* The spec is written by the runtime's process as it starts: a
	 * sandbox that has just started may not have it yet. */
	for (int waited = 0;; waited += 50) {
		h->cfd = state_open(s->id, "spec", O_RDONLY, 0, e);
		if (h->cfd >= 0)
			break;
		struct sandbox_state now;
		struct err e2;
		if (e->errnum != ENOENT || waited >= CONNECT_WAIT_MS || lifecycle_find_running(s->id, &now, &e2))
			return err_wrap(e, "%s: the container's spec", s->name);
		sleep_ms(50);
	}
	h->xfd = memfd_create("sandbox-exec", 0);
	if (h->xfd < 0 || write(h->xfd, buf, len) != (ssize_t)len)
		return err_sys(e, "exec: memfd");
	fcntl(h->cfd, F_SETFD, 0);     /* both for guest-init */
	snprintf(h->tool, sizeof(h->tool), "%s/guest-init", self_dir());
	snprintf(h->pid, sizeof(h->pid), "%d", (int)s->vmm_pid);
	snprintf(h->c, sizeof(h->c), "%d", h->cfd);
	snprintf(h->x, sizeof(h->x), "%d", h->xfd);
	char *argv[] = { h->tool, "--exec", h->pid, "--spec-fd", h->c, "--exec-fd", h->x, detach ? "--detach" : NULL, NULL };
	memcpy(h->argv, argv, sizeof(argv));
	return 0;
}

/* --isolation container: guest-init --exec, which becomes us. */
static int exec_host(const struct sandbox_state *s, const struct exec_opts *o, struct err *e)
{
	static struct host_cmd h;
	if (host_cmd(&h, s, &o->x, o->detach, e))
		return -1;
	if (!o->interactive && !o->tty && cli_stdin_null(e))   /* as in the VM: stdin is empty */
		return -1;
	execv(h.tool, h.argv);
	return err_sys(e, "cannot run %s", h.tool);
}

/* ------------------------------------------------------------------ */
/* streams for sandbox cp (exec.h) */

static void stream_end(void *arg)
{
	struct exec_stream *xs = arg;
	for (int i = 0; i < 2; i++)
		if (xs->close_fds[i] >= 0) {
			close(xs->close_fds[i]);
			xs->close_fds[i] = -1;
		}
	relay_done(&xs->done);
}

int exec_stream_start(struct exec_stream *xs, const struct sandbox_state *s, const struct cspec *x, int in,
		      int out, int err_fd, struct err *e)
{
	memset(xs, 0, sizeof(*xs));
	xs->done = -1;
	xs->pid = -1;
	xs->close_fds[0] = in > 2 ? in : -1;
	xs->close_fds[1] = out > 2 ? out : -1;
	if (strcmp(s->isolation, "container")) {
		xs->vm = true;
		if (vm_connect(&xs->r, s, x, e))
			return -1;
		xs->done = eventfd(0, EFD_CLOEXEC);
		if (xs->done < 0)
			return err_sys(e, "exec: eventfd");
		xs->r.in_fd = in;
		xs->r.out_fd = out;
		xs->r.err_fd = err_fd;
		xs->r.on_end = stream_end;
		xs->r.on_exit_arg = xs;

		if (relay_start(&xs->r))
			return err_sys(e, "exec: relay thread");
		return 0;
	}
	static struct host_cmd h;
	if (host_cmd(&h, s, x, false, e))
		return -1;
	fflush(NULL);
	xs->pid = fork();
	if (xs->pid < 0)
		return err_sys(e, "fork");
	if (xs->pid == 0) {
		int nul = in < 0 ? open("/dev/null", O_RDONLY) : in;
		if (nul < 0 || dup2(nul, 0) < 0 || dup2(out, 1) < 0 || dup2(err_fd, 2) < 0)
			_exit(125);
		execv(h.tool, h.argv);
		_exit(125);
	}
	close(h.cfd);
	close(h.xfd);
	stream_end(xs);     /* our copies of its ends */
	return 0;
}

int exec_stream_wait(struct exec_stream *xs, bool abort_it, struct err *e)
{
	if (xs->vm) {
		if (!abort_it) {
			struct pollfd p = { .fd = xs->done, .events = POLLIN };
			while (poll(&p, 1, -1) < 0 && errno == EINTR)
				;
		}
		relay_stop(&xs->r);
		if (xs->done >= 0)
			close(xs->done);
		xs->done = -1;
		stream_end(xs);     /* if the relay never ended */
		int status = atomic_load(&xs->r.status);
		if (xs->r.err[0])
			return err_set(e, "%s", xs->r.err);
		return status < 0 ? EXIT_ENDED : status;
	}
	if (abort_it)
		kill(xs->pid, SIGKILL);
	int st;
	while (waitpid(xs->pid, &st, 0) < 0)
		if (errno != EINTR)
			return err_sys(e, "wait for guest-init --exec");
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int exec_run_spec(const struct sandbox_state *s, const struct cspec *x, bool interactive, bool tty, struct err *e)
{
	static struct exec_opts o;
	memset(&o, 0, sizeof(o));
	o.x = *x;
	o.interactive = interactive;
	o.tty = tty;
	return exec_vm(s, &o, e);
}

int exec_command(const struct sandbox_state *s, char **argv, int argc, bool interactive, bool tty, struct err *e)
{
	static struct exec_opts o;
	memset(&o, 0, sizeof(o));
	if ((unsigned)argc > CSPEC_MAX_ARGS)
		return err_set(e, "more than %d arguments", CSPEC_MAX_ARGS);
	for (int i = 0; i < argc; i++)
		o.x.argv[o.x.nargv++] = argv[i];
	o.interactive = interactive;
	o.tty = tty;
	o.x.stdin_open = interactive;
	o.x.tty = tty;
	struct winsize ws;
	if (tty && isatty(0) && !ioctl(0, TIOCGWINSZ, &ws)) {
		o.x.rows = ws.ws_row;
		o.x.cols = ws.ws_col;
	}
	return exec_vm(s, &o, e);
}

int cmd_exec(int argc, char **argv)
{
	static struct exec_opts o;
	struct err e = { 0 };
	signal(SIGPIPE, SIG_IGN);   /* a stream the VMM closed is an error, not our end */
	int k = parse(argc, argv, &o, &e);
	if (k > 0)
		return 0;
	struct sandbox_state s;
	int status = -1;
	if (k == 0 && lifecycle_find_running(o.ref, &s, &e) == 0) {
		char extra[600];
		snprintf(extra, sizeof(extra), ",\"command\":\"%.500s\"", o.x.nargv ? o.x.argv[0] : "");
		for (char *p = extra + 12; *p && p[1]; p++)     /* shown only: no quote, backslash or control */
			if (*p == '"' || *p == '\\' || (unsigned char)*p < 0x20)
				*p = '?';
		events_emit("exec", &s, extra);
		status = !strcmp(s.isolation, "container") ? exec_host(&s, &o, &e) : exec_vm(&s, &o, &e);
	}
	if (status < 0)
		return cli_report(&e);
	return status;
}
