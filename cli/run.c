/* `sandbox run [OPTIONS] IMAGE [CMD [ARG...]]`, with Docker's habits.
 *
 * Processes: `sandbox run` is the owner. It resolves the image (the image
 * tool's runconf), records the sandbox in the state directory (those
 * steps, before any fork, are run_create.c's), and forks
 * the VMM (--isolation vm: this same binary's VM code with the agent
 * relay, run/relay.c) or the host-mode runtime (--isolation container:
 * guest-init --host over the image mounted on the host). The owner waits,
 * forwards signals, enforces --timeout, proxies -p ports, cleans up, and
 * exits with the container's status. Errors of sandbox itself: 125; the
 * command cannot be run: 126; not found: 127 (reported by guest-init).
 *
 * The VMM process is separate from the owner so that the owner can clean
 * up whatever happens to the VMM (killed, crashed, jailed as another uid),
 * and so that "VM up and container set up" can later be split from
 * "process started" for an OCI runtime command line. */

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/loop.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <stdarg.h>
#include <limits.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "arch/x86/layout.h"
#include "cli.h"
#include "cgroup_oom.h"
#include "events.h"
#include "hostlimits.h"
#include "proto.h"
#include "relay.h"
#include "run_impl.h"
#include "state.h"
#include "exec.h"
#include "snapshot.h"
#include "snapshot/workingset.h"
#include "storage.h"


const char *run_bindir;

/* ------------------------------------------------------------------ */
/* the owner */

/* --ttl ran out: the stop signal to the container now (SIG_FORWARD for
 * the VM's agent, the signal itself for the host runtime), KILL if it is
 * still there TTL_GRACE s later. */
#define TTL_GRACE 3
static void ttl_signal(pid_t child, const struct run_opts *o, int sig)
{
	if (!strcmp(o->isolation, "container")) {
		kill(child, sig);
	} else {
		union sigval v = { .sival_int = sig };
		sigqueue(child, SIG_FORWARD, v);
	}
}

/* The guest counted N OOM kills in the container (more than before):
 * into the state (under the lock, so a pause's status stays) and the
 * events log. */
static void oom_noted(struct sandbox_state *s, uint32_t n)
{
	struct err e;
	if ((long long)n <= s->oom_kills)
		return;
	s->oom_kills = n;
	int lock = state_lock(&e);
	struct sandbox_state cur;
	if (lock >= 0 && !state_read(s->id, &cur, &e)) {
		cur.oom_kills = n;
		state_write(&cur, &e);
	}
	if (lock >= 0)
		state_unlock(lock);
	char extra[48];
	snprintf(extra, sizeof(extra), ",\"oom_kills\":%u", n);
	events_emit("oom", s, extra);
}

/* The VMM's notes that are in DONE now (run_impl.h): OOM counts into S;
 * the container's status into *STATUS if one came. 0 while the pipe is
 * open, -1 at its end (the VMM is gone: waitpid has it). */
static int read_notes(int done, struct sandbox_state *s, int *status)
{
	for (;;) {
		uint8_t b[NOTE_SIZE * 64];
		ssize_t n = read(done, b, sizeof(b));
		if (n == 0)
			return -1;
		if (n < 0)
			return errno == EINTR ? 0 : errno == EAGAIN ? 0 : -1;
		for (ssize_t i = 0; i + NOTE_SIZE <= n; i += NOTE_SIZE) {
			uint32_t v = sb_get_u32(b + i + 1);
			if (b[i] == NOTE_OOM && v <= SB_OOM_MAX)
				oom_noted(s, v);
			else if (b[i] == NOTE_STATUS && v <= 255)
				*status = (int)v;
		}
	}
}

/* The container's status: from the VMM's status pipe DONE (-1: none)
 * when it comes there first and USE_DONE (the VMM then finishes its
 * teardown on its own; not with --network tap, whose device goes with
 * the VMM), else from the child's exit. The pipe's OOM notes go into S
 * meanwhile (container isolation: its cgroup's count, once a second). -1 with E filled (status 124) if --timeout ran out and the
 * child was killed. *TTL_OUT: --ttl ran out (the sandbox was stopped: its
 * status is what the stop made of it). */
static int wait_child(pid_t child, int done, bool use_done, struct sandbox_state *s, const struct run_opts *o,
		      int stop_sig, const sigset_t *set, bool *ttl_out, struct err *e)
{
	uint64_t t0 = now_ns();
	uint64_t deadline = o->timeout ? t0 + o->timeout * 1000000000ULL : 0;
	uint64_t ttl = o->ttl ? t0 + o->ttl * 1000000000ULL : 0;
	uint64_t host_oom = !strcmp(o->isolation, "container") && o->memory > 0 ? t0 : 0;
	for (;;) {
		int st;
		pid_t w = waitpid(child, &st, WNOHANG);
		if (w == child) {
			int ignored = -1;
			if (done >= 0)      /* notes it wrote before it ended */
				read_notes(done, s, &ignored);
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		}
		siginfo_t si;
		int sig;
		uint64_t now = now_ns();
		if (ttl && now >= ttl) {
			if (!*ttl_out) {
				*ttl_out = true;
				fprintf(stderr, "sandbox: its --ttl of %u s ran out: stopped and removed\n", o->ttl);
				ttl_signal(child, o, stop_sig);
				ttl = now + TTL_GRACE * 1000000000ULL;
			} else {
				ttl_signal(child, o, SIGKILL);
				kill(child, SIGKILL);
				ttl = 0;
			}
		}
		if (deadline && now >= deadline) {
			kill(child, SIGKILL);
			while (waitpid(child, &st, 0) < 0 && errno == EINTR)
				;
			return err_status(e, 124, "the sandbox ran longer than --timeout %u s: killed", o->timeout);
		}
		/* Container isolation with a memory limit: its cgroup's OOM
		 * kills, read on the host once a second (nothing in there
		 * reports them; a VM's guest does, through DONE). */
		if (host_oom && now >= host_oom) {
			long long n = cgroup_oom_kills(cgroup_runtime_child(child));
			if (n > s->oom_kills && n <= SB_OOM_MAX)
				oom_noted(s, (uint32_t)n);
			host_oom = now + 1000000000ULL;
		}
		uint64_t next = deadline;
		if (ttl && (!next || ttl < next))
			next = ttl;
		if (host_oom && (!next || host_oom < next))
			next = host_oom;
		if (next) {
			uint64_t left = next - now;
			struct timespec ts = { .tv_sec = (time_t)(left / 1000000000ULL),
					       .tv_nsec = (long)(left % 1000000000ULL) };
			sig = sigtimedwait(set, &si, &ts);
		} else {
			sig = sigwaitinfo(set, &si);
		}
		if (sig == SIG_DONE && done >= 0) {
			int status = -1;
			if (read_notes(done, s, &status) < 0) {
				close(done);        /* the VMM ended: waitpid has it */
				done = -1;
			}
			if (status >= 0 && use_done)
				return status;
			continue;
		}
		if (sig <= 0 || sig == SIGCHLD || sig == SIG_DONE)
			continue;
		/* Signals from the terminal reach the VMM (same process group)
		 * by themselves; those sent to us by a process are passed on. */
		if (sig == SIG_FORWARD || si.si_code == SI_USER || si.si_code == SI_QUEUE) {
			if (sig == SIG_FORWARD)
				sigqueue(child, SIG_FORWARD, si.si_value);
			else
				kill(child, sig);
		}
	}
}

/* -d: tell the caller waiting in the foreground that we run. */
static void say_started(int *fd)
{
	if (*fd < 0)
		return;
	if (write(*fd, "s", 1) < 0) {
		/* the caller is gone: run anyway */
	}
	close(*fd);
	*fd = -1;
}

/* A clone is started once its guest took its new identity (the VMM
 * writes when, CLOCK_MONOTONIC ns, on READY): before that it takes no
 * exec. 0 with *WHEN set, or -1 if the VMM ended first or did not get
 * there within TIMEOUT_MS. */
static int wait_restored(int ready, int timeout_ms, uint64_t *when, struct err *e)
{
	struct pollfd p = { .fd = ready, .events = POLLIN };
	int r;
	while ((r = poll(&p, 1, timeout_ms)) < 0 && errno == EINTR)
		;
	if (r > 0 && read(ready, when, sizeof(*when)) == (ssize_t)sizeof(*when))
		return 0;
	return err_set(e, r == 0 ? "the clone did not resume within %d s" : "the clone's VMM ended before it resumed",
		       timeout_ms / 1000);
}

/* run --from SNAP CMD: CMD in the clone, then the clone goes. The exec
 * is sent at once, not after the guest resumed: the guest's kernel takes
 * the connection and PID 1 accepts it only once the clone has its
 * identity (no round trip between the two). The status, or -1 with *EP
 * set; *RESTORED_AT the time it resumed, 0 if it did not. */
static int run_from_command(struct sandbox_state *s, const struct run_opts *o, pid_t child, int ready,
			    uint64_t *restored_at, struct err *ep)
{
	int status = exec_command(s, o->cmd, o->ncmd, o->interactive, o->tty, ep);
	struct err e2 = { 0 };
	/* after a good exec the time is there already; after a failed one,
	 * the VMM's end (EOF) says the restore failed: its status then */
	if (wait_restored(ready, status < 0 ? 10000 : 2000, restored_at, &e2) < 0) {
		*restored_at = 0;
		int st;
		if (status < 0 && !kill(child, SIGKILL) && waitpid(child, &st, 0) == child) {
			/* the VMM said why (its stderr is ours); else we do */
			if (WIFEXITED(st) && WEXITSTATUS(st) != 0)
				return WEXITSTATUS(st);
			*ep = e2;
			return -1;
		}
	}
	return status;
}

int cmd_run(int argc, char **argv, uint64_t start)
{
	static struct run_opts o;
	struct err e = { 0 };
	if (parse_run_args(argc, argv, &o, &e))
		return cli_report(&e);
	int status = run_main(&o, start, &e);
	return status < 0 ? cli_report(&e) : status;
}

/* ROOT/<id>/start, a FIFO the VMM holds open for reading: its relay sends
 * CONFIG once sandbox-runtime start writes a byte into it. */
static int start_gate_open(const char *id, struct err *e)
{
	char path[800];
	state_path(path, sizeof(path), id, "start");
	if (mkfifo(path, 0600))
		return err_sys(e, "mkfifo %s", path);
	int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return err_sys(e, "open %s", path);
	return fd;
}

int run_main(struct run_opts *o, uint64_t start, struct err *ep)
{
	static struct runconf rc;
	run_bindir = self_dir();
	static struct snap_from from;
	int r = run_resolve(o, &rc, &from, ep);
	if (r)
		return r;
	uint64_t t_runconf = now_ns();
	struct sandbox_state s = { 0 };
	r = run_create_state(o, &rc, &from, &s, ep);
	if (r)
		return r;
	events_emit("create", &s, NULL);

	static struct run_spec spec;
	if (run_make_spec(o, &rc, &from, &s, &spec, ep)) {
		state_remove(s.id);
		return -1;
	}
	uint64_t t_storage = now_ns();

	/* -d: the owner goes on in the background; the caller gets the id. */
	int started = -1;
	if (o->detach) {
		int p[2];
		if (pipe2(p, O_CLOEXEC)) {
			state_remove(s.id);
			return err_set(ep, "pipe: %s", strerror(errno));
		}
		pid_t pid = fork();
		if (pid < 0) {
			state_remove(s.id);
			return err_set(ep, "fork: %s", strerror(errno));
		}
		if (pid > 0) {
			close(p[1]);
			char c;
			ssize_t n = read(p[0], &c, 1);
			if (n == 1) {
				printf("%s\n", s.id);
				return 0;
			}
			return err_set(ep, "the sandbox did not start (sandbox logs %s)", s.id);
		}
		close(p[0]);
		setsid();
		int nul = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (nul < 0)
			_exit(EXIT_ERR);
		dup2(nul, 0);
		if (o->log.driver == LOG_NONE) {
			dup2(nul, 1);
			dup2(nul, 2);
		} else if (log_collector_start(&o->log, s.id, s.name, false, ep)) {
			_exit(EXIT_ERR);
		}
		s.pid = getpid();
		s.pid_start = state_proc_start(s.pid);
		state_write(&s, ep);
		started = p[1];
		if (!o->from)    /* a clone has started once it is restored (below) */
			say_started(&started);
	}

	/* An attached run whose output is collected too (--log-driver). */
	if (!o->detach && o->log.driver != LOG_NONE && log_collector_start(&o->log, s.id, s.name, true, ep)) {
		state_remove(s.id);
		return -1;
	}

	/* Host directories as volumes: in the VM one virtiofsd each, started
	 * before the VMM (after -d's fork: they are the owner's children),
	 * stopped at the end (run_fs.c). */
	static struct fs_daemons fsd;
	if (strcmp(o->isolation, "container") && fs_daemons_start(o, s.id, &fsd, ep)) {
		fs_daemons_stop(&fsd);
		state_remove(s.id);
		return -1;
	}
	spec.fsd = fsd.n ? &fsd : NULL;
	int booted[2] = { -1, -1 };
	if (o->ready_fd >= 0 && pipe2(booted, O_CLOEXEC) == 0)
		o->booted_fd = booted[1];
	if (o->start_gate) {
		o->gate_fd = start_gate_open(s.id, ep);
		if (o->gate_fd < 0) {
			fs_daemons_stop(&fsd);
			state_remove(s.id);
			return -1;
		}
	}

	sigset_t set;
	sigemptyset(&set);
	int sigs[] = { SIGCHLD, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGWINCH, SIGUSR1, SIGUSR2 };
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		sigaddset(&set, sigs[i]);
	sigaddset(&set, SIG_FORWARD);
	sigaddset(&set, SIG_DONE);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	/* The VMM's status pipe (vm_child_main): its read end raises SIG_DONE
	 * here. */
	int done[2] = { -1, -1 };
	if (strcmp(o->isolation, "container") && !pipe2(done, O_CLOEXEC)) {
		if (fcntl(done[0], F_SETOWN, getpid()) || fcntl(done[0], F_SETSIG, SIG_DONE) ||
		    fcntl(done[0], F_SETFL, O_ASYNC | O_NONBLOCK)) {
			close(done[0]);
			close(done[1]);
			done[0] = done[1] = -1;
		}
	}
	int ready[2] = { -1, -1 };
	if (o->from && pipe2(ready, O_CLOEXEC)) {
		fs_daemons_stop(&fsd);
		state_remove(s.id);
		return err_set(ep, "pipe: %s", strerror(errno));
	}
	if (o->tty)
		cli_tty_raw();
	fflush(NULL);
	pid_t child = fork();
	if (child < 0) {
		cli_tty_restore();
		fs_daemons_stop(&fsd);
		state_remove(s.id);
		return err_set(ep, "fork: %s", strerror(errno));
	}
	if (child == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (!strcmp(o->isolation, "container")) {
			sigprocmask(SIG_UNBLOCK, &set, NULL);
			_exit(host_child_main(o, &rc, s.id, &spec));
		}
		sigdelset(&set, SIGCHLD);
		sigprocmask(SIG_UNBLOCK, &set, NULL);
		if (done[0] >= 0)
			close(done[0]);
		if (ready[0] >= 0)
			close(ready[0]);
		int st = vm_child_main(o, &rc, s.id, s.net, &spec, start, done[1], ready[1]);
		fflush(NULL);
		_exit(st);
	}
	if (done[1] >= 0)
		close(done[1]);
	if (ready[1] >= 0)
		close(ready[1]);
	if (o->gate_fd >= 0) {
		close(o->gate_fd);      /* the VMM's now: start fails once it is gone */
		o->gate_fd = -1;
	}
	if (booted[1] >= 0) {
		/* sandbox-runtime create returns once the VM is made (a byte
		 * from its relay), or fails with the VMM (EOF: it ended) */
		close(booted[1]);
		o->booted_fd = -1;
		char b;
		ssize_t n;
		while ((n = read(booted[0], &b, 1)) < 0 && errno == EINTR)
			;
		close(booted[0]);
		if (n != 1) {
			int st = 0;
			waitpid(child, &st, 0);
			fs_daemons_stop(&fsd);
			state_remove(s.id);
			return err_set(ep, "the VM did not start (the VMM ended with status %d; its message is on the container's stderr)",
				       WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
		}
	}
	s.vmm_pid = child;
	snprintf(s.status, sizeof(s.status), "running");
	state_write(&s, ep);
	char extra[64];
	snprintf(extra, sizeof(extra), ",\"setup_ms\":%.3f", (double)(now_ns() - start) * 1e-6);
	events_emit("start", &s, extra);
	if (o->nports && start_proxies(o, s.net, ep)) {
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
		fs_daemons_stop(&fsd);
		state_remove(s.id);
		return -1;
	}
	if (o->ready_fd >= 0) {
		/* sandbox-runtime create: the sandbox runs; it may return. */
		char msg[1 + STATE_ID_LEN];
		msg[0] = 's';
		memcpy(msg + 1, s.id, STATE_ID_LEN);
		if (write(o->ready_fd, msg, sizeof(msg)) < 0) {
			/* the caller is gone: go on; its engine will kill us */
		}
		close(o->ready_fd);
		o->ready_fd = -1;
	}
	uint64_t t_forked = now_ns();
	bool ttl_out = false;
	int stop_sig = state_signal(s.stop_signal);
	int status = -1;
	uint64_t restored_at = 0;
	bool no_restore = false;
	if (o->from && o->ncmd) {
		status = run_from_command(&s, o, child, ready[0], &restored_at, ep);
		if (restored_at)
			snap_ws_record(&from, &s, WS_SCOPE_COMMAND);
	} else if (o->from) {
		no_restore = wait_restored(ready[0], 120000, &restored_at, ep) < 0;
	}
	if (restored_at) {
		snprintf(extra, sizeof(extra), ",\"setup_ms\":%.3f", (double)(restored_at - start) * 1e-6);
		events_emit("restore", &s, extra);
	}
	if (o->from && o->ncmd) {
		close(ready[0]);
		uint64_t t_exec = now_ns();
		/* Its tap goes with it: wait for that; otherwise the kernel's
		 * teardown of the VM need not hold up the caller. */
		kill(child, SIGKILL);
		while (s.net && waitpid(child, NULL, 0) < 0 && errno == EINTR)
			;
		if (getenv("SANDBOX_TIMINGS"))
			fprintf(stderr, "sandbox-from-timings: forked_ms=%.3f resumed_ms=%.3f exec_done_ms=%.3f done_ms=%.3f\n",
				(double)(t_forked - start) * 1e-6,
				restored_at ? (double)(restored_at - start) * 1e-6 : -1.0,
				(double)(t_exec - start) * 1e-6, (double)(now_ns() - start) * 1e-6);
	} else if (no_restore) {
		int st;
		kill(child, SIGKILL);
		while (waitpid(child, &st, 0) < 0 && errno == EINTR)
			;
		/* the VMM said why (its stderr is ours); else we do */
		status = WIFEXITED(st) && WEXITSTATUS(st) != 0 ? WEXITSTATUS(st) : cli_report(ep);
		close(ready[0]);
		close(started);
		started = -1;
	} else {
		if (ready[0] >= 0)
			close(ready[0]);
		say_started(&started);
		if (o->from)
			snap_ws_record(&from, &s, WS_SCOPE_RESTORE);
		status = wait_child(child, done[0], !s.net, &s, o, stop_sig > 0 && stop_sig < 32 ? stop_sig : SIGTERM,
				    &set, &ttl_out, ep);
	}
	cli_tty_restore();
	fs_daemons_stop(&fsd);
	if (status < 0)
		status = cli_report(ep);
	if (getenv("SANDBOX_TIMINGS"))
		fprintf(stderr, "sandbox-run-timings: runconf_ms=%.3f storage_ms=%.3f vmm_forked_ms=%.3f end_ms=%.3f\n",
			(double)(t_runconf - start) * 1e-6, (double)(t_storage - start) * 1e-6,
			(double)(t_forked - start) * 1e-6,
			(double)(now_ns() - start) * 1e-6);
	log_collector_finish();
	snprintf(extra, sizeof(extra), ",\"exit_code\":%d", status);
	events_emit("exit", &s, extra);
	if (ttl_out)
		events_emit("ttl", &s, NULL);
	if (o->rm || ttl_out)
		events_emit("remove", &s, NULL);
	if (o->rm || ttl_out) {
		state_remove(s.id);
	} else {
		snprintf(s.status, sizeof(s.status), "exited");
		s.exit_code = status;
		s.vmm_pid = 0;
		state_write(&s, ep);
	}
	return status;
}
