/* The guest's end of one agent connection (see relay.h): the first
 * process's in agent.c, each exec's in exec.c. One poll loop, no threads:
 * the connection (read only while the child's stdin has taken the last
 * STDIN frame: back-pressure), its stdout and stderr (read only while the
 * send queue has room), stdin it has not taken yet, SIGCHLD. */
#include "relay.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <linux/close_range.h>

enum { P_VSOCK, P_OUT, P_ERR, P_SIG, P_EXTRA, P_WATCH, P_STDIN, P_N };

#define RELAY_PIPE_SZ (256 * 1024)  /* the child's stdin and stdout pipes (64 KiB by default) */

uint64_t relay_mono_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void set_nonblock(int fd)
{
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

int relay_init(struct relay *r, int vs)
{
	/* A child that exits before it has read its stdin (sandbox cp into a
	 * path that cannot be made) leaves us writing into a pipe nobody
	 * reads: that must be EPIPE (its stdin dropped), not a SIGPIPE that
	 * kills the relay before it sends the child's message and EXIT. The
	 * child gets an empty mask back (child_start). */
	sigset_t pipe_sig;
	sigemptyset(&pipe_sig);
	sigaddset(&pipe_sig, SIGPIPE);
	sigprocmask(SIG_BLOCK, &pipe_sig, NULL);
	r->vs = vs;
	r->in_w = r->out_r = r->err_r = r->sigfd = r->extra_fd = r->watch_fd = -1;
	r->status = -1;
	r->quiesce = 0;
	r->on_restored = NULL;
	r->on_quiesce = NULL;
	if (sb_rx_init(&r->rx) || sb_tx_init(&r->tx, 0))
		return -1;
	return 0;
}

long relay_first_frame(struct relay *r, uint8_t type, void *buf, size_t cap, struct err *err)
{
	for (;;) {
		struct sb_frame f;
		const char *msg = "";
		int k = sb_rx_next(&r->rx, &f, &msg);
		if (k < 0)
			return err_errno(err, 0, "%s", msg);
		if (k > 0) {
			if (f.type != type || !sb_frame_valid(f.type, f.len, false))
				return err_errno(err, 0, "frame %u first, want %u", f.type, type);
			if (f.len > cap)
				return err_errno(err, 0, "%u bytes, at most %zu", f.len, cap);
			memcpy(buf, f.data, f.len);
			return (long)f.len;
		}
		struct pollfd p = { .fd = r->vs, .events = POLLIN };
		if (poll(&p, 1, -1) < 0 && errno != EINTR)
			return err_errno(err, errno, "poll");
		long got = sb_rx_fill(&r->rx, r->vs);
		if (got == 0)
			return err_errno(err, 0, "the host closed the channel");
		if (got < 0 && errno != EAGAIN)
			return err_errno(err, errno, "read");
	}
}

/* The child: stdio in place, every other fd closed at exec, no signal
 * blocked. */
static void child_start(const struct relay *r, int in, int out, int errfd, bool tty, relay_child_fn fn,
			void *arg)
{
	if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || dup2(errfd, 2) < 0)
		_exit(125);
	/* The relay's own ends are never the child's: a runtime that never
	 * execs would otherwise hold the write end of its own stdin, and the
	 * container would never see EOF. */
	const int mine[] = { r->vs, r->in_w, r->out_r, r->err_r, r->sigfd, r->extra_fd, r->watch_fd };
	for (size_t i = 0; i < sizeof(mine) / sizeof(mine[0]); i++)
		if (mine[i] > 2)
			close(mine[i]);
	/* Nothing else reaches what it execs; FN closes what it must not
	 * hold itself (and keeps what it needs until exec). */
	if (syscall(SYS_close_range, 3U, ~0U, CLOSE_RANGE_CLOEXEC))
		for (int fd = 3; fd < 1024; fd++)
			fcntl(fd, F_SETFD, FD_CLOEXEC);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	fn(arg, tty);
	_exit(125);
}

int relay_spawn(struct relay *r, bool tty, bool stdin_open, uint16_t rows, uint16_t cols,
		relay_child_fn fn, void *arg, struct err *err)
{
	int in[2] = { -1, -1 }, out[2] = { -1, -1 }, er[2] = { -1, -1 }, child_in, child_out, child_err;
	if (tty) {
		int m = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
		if (m < 0 || grantpt(m) || unlockpt(m))
			return err_errno(err, errno, "pty");
		struct winsize ws = { .ws_row = rows, .ws_col = cols };
		ioctl(m, TIOCSWINSZ, &ws);
		int s = open(ptsname(m), O_RDWR | O_NOCTTY | O_CLOEXEC);
		if (s < 0)
			return err_errno(err, errno, "open %s", ptsname(m));
		child_in = child_out = child_err = s;
		r->in_w = r->out_r = m;
		r->err_r = -1;
	} else {
		if (pipe2(out, O_CLOEXEC) || pipe2(er, O_CLOEXEC))
			return err_errno(err, errno, "pipe");
		if (stdin_open) {
			if (pipe2(in, O_CLOEXEC))
				return err_errno(err, errno, "pipe");
			child_in = in[0];
			r->in_w = in[1];
			/* Room for several STDIN frames: fewer switches between
			 * us and a child that reads a stream (sandbox cp). */
			fcntl(in[1], F_SETPIPE_SZ, RELAY_PIPE_SZ);
		} else {
			child_in = open("/dev/null", O_RDONLY | O_CLOEXEC);
			r->in_w = -1;
		}
		fcntl(out[1], F_SETPIPE_SZ, RELAY_PIPE_SZ);
		child_out = out[1];
		child_err = er[1];
		r->out_r = out[0];
		r->err_r = er[0];
	}
	r->tty = tty;
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0)
		return err_errno(err, errno, "fork");
	if (pid == 0)
		child_start(r, child_in, child_out, child_err, tty, fn, arg);
	r->child = pid;
	r->status = -1;
	close(child_in);
	if (child_out != child_in)
		close(child_out);
	if (child_err != child_out)
		close(child_err);
	if (r->in_w >= 0)
		set_nonblock(r->in_w);
	set_nonblock(r->out_r);
	if (r->err_r >= 0)
		set_nonblock(r->err_r);
	set_nonblock(r->vs);
	return 0;
}

static void stdin_close(struct relay *r)
{
	if (r->in_w >= 0 && !r->tty) {
		close(r->in_w);
		r->in_w = -1;
	}
}

static void stdin_drain(struct relay *r)
{
	while (r->in_w >= 0 && r->pend_off < r->pend_len) {
		ssize_t n = write(r->in_w, r->pend + r->pend_off, r->pend_len - r->pend_off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {      /* the child closed its stdin: drop the rest */
			stdin_close(r);
			r->pend_len = r->pend_off = 0;
			return;
		}
		r->pend_off += (size_t)n;
	}
	r->pend_len = r->pend_off = 0;
	if (r->stdin_eof)
		stdin_close(r);
}

/* A frame from the host. Returns -1 on a protocol error. */
static int host_frame(struct relay *r, const struct sb_frame *f)
{
	if (!sb_frame_valid(f->type, f->len, false))
		return -1;
	switch (f->type) {
	case SB_F_STDIN:
		if (r->in_w >= 0) {
			/* Straight from the frame; only what the child's stdin
			 * does not take now waits in pend. */
			ssize_t n;
			do
				n = write(r->in_w, f->data, f->len);
			while (n < 0 && errno == EINTR);
			if (n < 0 && errno != EAGAIN) {   /* the child closed its stdin: drop it */
				stdin_close(r);
				break;
			}
			size_t took = n > 0 ? (size_t)n : 0;
			memcpy(r->pend, f->data + took, f->len - took);
			r->pend_len = f->len - took;
			r->pend_off = 0;
			if (r->stdin_eof && !r->pend_len)
				stdin_close(r);
		}
		break;
	case SB_F_STDIN_EOF:
		r->stdin_eof = true;
		if (r->pend_off >= r->pend_len)
			stdin_close(r);
		break;
	case SB_F_SIGNAL: {
		uint32_t sig = sb_get_u32(f->data);
		if (sig >= 1 && sig < 65 && r->status < 0)
			kill(r->child, (int)sig);
		break;
	}
	case SB_F_WINSIZE:
		if (r->tty && r->in_w >= 0) {
			struct winsize ws = { .ws_row = (unsigned short)(f->data[0] | f->data[1] << 8),
					      .ws_col = (unsigned short)(f->data[2] | f->data[3] << 8) };
			ioctl(r->in_w, TIOCSWINSZ, &ws);
		}
		break;
	case SB_F_BYE:
		r->bye = true;
		break;
	case SB_F_DETACH:
		r->detached = true;
		break;
	case SB_F_QUIESCE:
		if (!r->quiesce && r->on_quiesce)
			r->on_quiesce(r);
		if (!r->quiesce)
			r->quiesce = 1;
		break;
	case SB_F_RESUME:
		if (r->quiesce)
			sb_tx_put(&r->tx, SB_F_RESUMED, NULL, 0);
		r->quiesce = 0;
		break;
	case SB_F_RESTORED: {
		struct sb_restored id;
		if (sb_restored_decode(f->data, f->len, &id))
			return -1;
		if (r->on_restored)
			r->on_restored(r, &id);
		r->quiesce = 0;
		/* the new identity is taken: the host may send work */
		sb_tx_put(&r->tx, SB_F_RESUMED, NULL, 0);
		break;
	}
	default:
		return -1;
	}
	return 0;
}

/* Output from the child into frames, as long as the queue has room. */
static void pump_output(struct relay *r, int *fd, uint8_t type)
{
	static uint8_t buf[SB_DATA_CHUNK];
	while (*fd >= 0 && sb_tx_room(&r->tx) >= sizeof(buf)) {
		ssize_t n = read(*fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n <= 0) {   /* EOF (EIO on a pty whose last user left) */
			close(*fd);
			*fd = -1;
			return;
		}
		if (!r->detached)
			sb_tx_put(&r->tx, type, buf, (uint32_t)n);
	}
}

static void reap(struct relay *r)
{
	struct signalfd_siginfo si;
	while (read(r->sigfd, &si, sizeof(si)) == sizeof(si))
		;
	for (;;) {
		int st;
		pid_t w = waitpid(-1, &st, WNOHANG | __WALL);
		if (w <= 0)
			return;
		int status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		if (w == r->child)
			r->status = status;
		else if (r->on_reap)
			r->on_reap(w, status);
	}
}

/* Handle the whole frames already received, as long as stdin is not
 * backed up. */
static int host_frames(struct relay *r)
{
	struct sb_frame f;
	const char *msg;
	int k = 0;
	while (r->pend_off >= r->pend_len && (k = sb_rx_next(&r->rx, &f, &msg)) > 0)
		if (host_frame(r, &f) < 0)
			return -1;
	return k < 0 ? -1 : 0;
}

static void close_output(struct relay *r)
{
	if (r->out_r >= 0)
		close(r->out_r);
	if (r->err_r >= 0)
		close(r->err_r);
	r->out_r = r->err_r = -1;
}

/* The host detached (sandbox exec -d) or went away from a detached
 * child: nobody reads its output any more; keep taking it (so that the
 * child never blocks on a full pipe) until it ends. */
static int run_detached(struct relay *r)
{
	if (r->in_w >= 0 && !r->tty)
		stdin_close(r);
	while (r->status < 0) {
		struct pollfd p[3] = { { .fd = r->sigfd, .events = POLLIN }, { .fd = r->out_r, .events = POLLIN },
				       { .fd = r->err_r, .events = POLLIN } };
		if (poll(p, 3, -1) < 0 && errno != EINTR)
			break;
		if (p[0].revents)
			reap(r);
		if (p[1].revents)
			pump_output(r, &r->out_r, SB_F_STDOUT);
		if (p[2].revents)
			pump_output(r, &r->err_r, SB_F_STDERR);
	}
	return r->status < 0 ? 125 : r->status;
}

int relay_run(struct relay *r)
{
	bool exit_sent = false, broken = host_frames(r) < 0;
	uint64_t exited_at = 0;
	while (!broken) {
		if (r->status >= 0 && !exited_at)
			exited_at = relay_mono_ms();
		/* Processes that outlive the child cannot hold the pipes for
		 * long (the PID namespace dies with its init); 2 s is a bound. */
		if (exited_at && relay_mono_ms() - exited_at > 2000)
			close_output(r);
		if (r->status >= 0 && r->out_r < 0 && r->err_r < 0 && !exit_sent && !r->quiesce &&
		    sb_tx_room(&r->tx) >= 1024) {
			if (r->before_exit)
				r->before_exit(r);
			uint8_t st[4];
			sb_put_u32(st, (uint32_t)r->status);
			sb_tx_put(&r->tx, SB_F_EXIT, st, 4);
			exit_sent = true;
		}
		if (sb_tx_flush(&r->tx, r->vs) < 0)
			break;
		if (r->quiesce == 1 && sb_tx_empty(&r->tx)) {
			/* everything before is out, whole: the last frame */
			sb_tx_put(&r->tx, SB_F_QUIESCED, NULL, 0);
			r->quiesce = 2;
			continue;
		}
		if (exit_sent && sb_tx_empty(&r->tx) && r->bye)
			break;
		if (r->detached && sb_tx_empty(&r->tx))
			return run_detached(r);
		bool room = sb_tx_room(&r->tx) >= SB_DATA_CHUNK && !r->quiesce;
		struct pollfd p[P_N] = {
			[P_VSOCK] = { .fd = r->vs, .events = (short)((r->pend_off >= r->pend_len ? POLLIN : 0) |
								     (sb_tx_empty(&r->tx) ? 0 : POLLOUT)) },
			[P_OUT] = { .fd = room ? r->out_r : -1, .events = POLLIN },
			[P_ERR] = { .fd = room ? r->err_r : -1, .events = POLLIN },
			[P_SIG] = { .fd = r->sigfd, .events = POLLIN },
			/* no new exec while quiesced: one accepted in a clone before
			 * RESTORED would run with the snapshot's random state */
			[P_EXTRA] = { .fd = r->quiesce ? -1 : r->extra_fd, .events = POLLIN },
			[P_WATCH] = { .fd = r->quiesce || sb_tx_room(&r->tx) < 64 ? -1 : r->watch_fd, .events = POLLIN },
			/* stdin the child has not taken yet: wait for room. */
			[P_STDIN] = { .fd = r->pend_off < r->pend_len ? r->in_w : -1, .events = POLLOUT },
		};
		int timeout = exited_at ? 200 : (exit_sent ? 10000 : -1);
		int n = poll(p, P_N, timeout);
		if (n < 0 && errno != EINTR)
			break;
		if (n == 0 && exit_sent)
			break;      /* no BYE: the host is gone */
		if (n <= 0)
			continue;
		if (p[P_SIG].revents)
			reap(r);
		if (p[P_EXTRA].revents && r->on_extra)
			r->on_extra(r);
		if (p[P_WATCH].revents && r->on_watch)
			r->on_watch(r);
		if (p[P_STDIN].revents)
			stdin_drain(r);
		if (p[P_OUT].revents)
			pump_output(r, &r->out_r, SB_F_STDOUT);
		if (p[P_ERR].revents)
			pump_output(r, &r->err_r, SB_F_STDERR);
		if (p[P_VSOCK].revents & (POLLIN | POLLHUP | POLLERR)) {
			long got = sb_rx_fill(&r->rx, r->vs);
			if (got == 0 || (got < 0 && errno != EAGAIN)) {
				broken = true;      /* the host is gone */
				break;
			}
		}
		if (host_frames(r) < 0)
			broken = true;
	}
	if (r->status < 0 && r->detached)
		return run_detached(r);
	if (r->status < 0) {        /* the host went away: the child goes too */
		kill(r->child, SIGKILL);
		while (r->status < 0) {
			int st;
			pid_t w = waitpid(-1, &st, __WALL);
			if (w < 0 && errno != EINTR)
				break;
			if (w == r->child)
				r->status = 128 + SIGKILL;
		}
	}
	return r->status < 0 ? 125 : r->status;
}

void relay_fail(struct relay *r, const char *msg, int status)
{
	char line[600];
	int len = msg ? snprintf(line, sizeof(line), "sandbox: %s\n", msg) : 0;
	if (len >= (int)sizeof(line))
		len = sizeof(line) - 1;
	uint8_t st[4];
	sb_put_u32(st, (uint32_t)status);
	if (len > 0)
		sb_tx_put(&r->tx, SB_F_STDERR, line, (uint32_t)len);
	sb_tx_put(&r->tx, SB_F_EXIT, st, 4);
	int fl = fcntl(r->vs, F_GETFL);
	fcntl(r->vs, F_SETFL, fl & ~O_NONBLOCK);
	while (sb_tx_flush(&r->tx, r->vs) > 0)
		;
	/* Wait (bounded) for BYE so the host has it all before we end. */
	struct pollfd p = { .fd = r->vs, .events = POLLIN };
	uint64_t until = relay_mono_ms() + 5000;
	fcntl(r->vs, F_SETFL, fl | O_NONBLOCK);
	while (!r->bye && relay_mono_ms() < until && poll(&p, 1, 1000) > 0) {
		long got = sb_rx_fill(&r->rx, r->vs);
		if (got <= 0 && !(got < 0 && errno == EAGAIN))
			break;
		struct sb_frame f;
		const char *m;
		while (sb_rx_next(&r->rx, &f, &m) > 0)
			if (f.type == SB_F_BYE)
				r->bye = true;
	}
}
