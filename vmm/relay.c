/* The relay thread (see relay.h). One poll loop: the agent socket, our
 * stdin (only while the send queue has room: back-pressure), and an
 * eventfd through which other threads queue signals, window changes and
 * the stop. Output frames are written to our stdout/stderr as they come,
 * in order; a reader that went away (EPIPE) stops our output, not the
 * container, and one that stops reading holds us only until relay_stop
 * (write_all). */
#include "relay.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "proto.h"
#include "jail/seccomp.h"
#include "util.h"

static void qinit(struct relay *r)
{
	pthread_mutex_init(&r->qlock, NULL);
	pthread_cond_init(&r->qcond, NULL);
	r->quiesce = Q_NONE;
	r->resume_asked = r->ended = false;
}

int relay_init(struct relay *r, int *guest_end)
{
	int sv[2];
	qinit(r);
	atomic_store(&r->status, -1);
	atomic_store(&r->sig_pending, 0);
	r->sock = r->wake = -1;
	r->gate_fd = r->booted_fd = -1;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv))
		return -1;
	r->wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (r->wake < 0) {
		close(sv[0]);
		close(sv[1]);
		return -1;
	}
	r->sock = sv[0];
	*guest_end = sv[1];
	return 0;
}

int relay_init_sock(struct relay *r, int sock)
{
	qinit(r);
	atomic_store(&r->status, -1);
	atomic_store(&r->sig_pending, 0);
	r->sock = sock;
	r->gate_fd = r->booted_fd = -1;
	r->wake = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (r->wake < 0 || fcntl(sock, F_SETFL, fcntl(sock, F_GETFL) | O_NONBLOCK))
		return -1;
	return 0;
}

static void kick(struct relay *r)
{
	uint64_t one = 1;
	if (write(r->wake, &one, sizeof(one)) < 0) {
		/* a full counter still wakes the loop */
	}
}

void relay_signal(struct relay *r, int sig)
{
	if (sig >= 1 && sig < 32) {
		atomic_fetch_or(&r->sig_pending, 1u << sig);
		kick(r);
	}
}

void relay_winch(struct relay *r)
{
	atomic_store(&r->winch, true);
	kick(r);
}

/* Write all of P to FD (our stdout or stderr): 0, or -1 on an error
 * (EPIPE: the reader went away; SIGPIPE is ignored) or when the relay is
 * told to stop first. A reader that stops reading must not keep this
 * thread, and so the VMM and sandbox run, alive after the VM ended
 * (relay_stop joins us). So we never wait inside write(): we wait in
 * poll() for FD to take data or for the wake eventfd (relay_stop kicks
 * it), and write at most PIPE_BUF bytes at a time, which a pipe or socket
 * that poll() calls writable takes without blocking (a terminal stopped
 * with ^S is not writable). A wake-up for a signal or a window change is
 * consumed here; relay_main looks at those flags on its next round. */
static int write_all(struct relay *r, int fd, const uint8_t *p, size_t n)
{
	while (n) {
		struct pollfd pf[2] = { { .fd = fd, .events = POLLOUT }, { .fd = r->wake, .events = POLLIN } };
		if (poll(pf, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (pf[1].revents) {
			uint64_t v;
			if (read(r->wake, &v, sizeof(v)) < 0) {
				/* EAGAIN: another wake-up got it */
			}
		}
		/* After taking the wake-up: relay_stop sets stop before kicking. */
		if (atomic_load(&r->stop))
			return -1;
		if (!pf[0].revents)
			continue;
		ssize_t w = write(fd, p, n < PIPE_BUF ? n : PIPE_BUF);
		if (w < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static void queue_winsize(struct relay *r, struct sb_tx *tx)
{
	struct winsize ws;
	if (r->in_fd < 0 || ioctl(r->in_fd, TIOCGWINSZ, &ws))
		return;
	uint8_t b[4] = { (uint8_t)ws.ws_row, (uint8_t)(ws.ws_row >> 8), (uint8_t)ws.ws_col,
			 (uint8_t)(ws.ws_col >> 8) };
	sb_tx_put(tx, SB_F_WINSIZE, b, 4);
}

static void *relay_loop(void *arg);

/* Wait for a byte on the gate (or the stop): 0 to go on, -1 to stop. */
static int wait_gate(struct relay *r)
{
	while (!atomic_load(&r->stop)) {
		struct pollfd p[2] = { { .fd = r->gate_fd, .events = POLLIN }, { .fd = r->wake, .events = POLLIN } };
		if (poll(p, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (p[1].revents) {
			uint64_t v;
			if (read(r->wake, &v, sizeof(v)) < 0) {
				/* EAGAIN: another wake-up got it */
			}
		}
		if (p[0].revents & POLLIN) {
			char b;
			if (read(r->gate_fd, &b, 1) == 1)
				return 0;
		}
		/* POLLHUP alone: a writer came and went without a byte; wait on */
		if ((p[0].revents & (POLLHUP | POLLIN)) == POLLHUP)
			poll(NULL, 0, 10);      /* not a busy loop; the filter allows poll */
	}
	return -1;
}

int relay_quiesce(struct relay *r, int timeout_ms)
{
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += timeout_ms / 1000;
	until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
	if (until.tv_nsec >= 1000000000L) {
		until.tv_sec++;
		until.tv_nsec -= 1000000000L;
	}
	pthread_mutex_lock(&r->qlock);
	if (r->quiesce == Q_NONE)
		r->quiesce = Q_ASKED;
	pthread_mutex_unlock(&r->qlock);
	kick(r);
	pthread_mutex_lock(&r->qlock);
	int rc = 0;
	while (r->quiesce != Q_DONE && !r->ended && rc == 0)
		rc = pthread_cond_timedwait(&r->qcond, &r->qlock, &until);
	int ok = r->quiesce == Q_DONE;
	pthread_mutex_unlock(&r->qlock);
	return ok ? 0 : -1;
}

void relay_resume(struct relay *r)
{
	pthread_mutex_lock(&r->qlock);
	r->resume_asked = true;
	pthread_mutex_unlock(&r->qlock);
	kick(r);
}

/* On the relay thread: QUIESCE or RESUME to send? Returns whether the
 * channel is quiesced (or being quiesced) now. */
static bool quiesce_step(struct relay *r, struct sb_tx *tx)
{
	pthread_mutex_lock(&r->qlock);
	if (r->resume_asked) {
		r->resume_asked = false;
		if (r->quiesce != Q_NONE && !sb_tx_put(tx, SB_F_RESUME, NULL, 0))
			r->quiesce = Q_NONE;
	}
	if (r->quiesce == Q_ASKED && !sb_tx_put(tx, SB_F_QUIESCE, NULL, 0))
		r->quiesce = Q_SENT;
	bool q = r->quiesce != Q_NONE;
	pthread_mutex_unlock(&r->qlock);
	return q;
}

static void *relay_main(void *arg)
{
	struct relay *r = arg;
	relay_loop(r);
	pthread_mutex_lock(&r->qlock);
	r->ended = true;
	pthread_cond_broadcast(&r->qcond);
	pthread_mutex_unlock(&r->qlock);
	if (r->on_end)
		r->on_end(r->on_exit_arg);
	return NULL;
}

static void *relay_loop(void *arg)
{
	struct relay *r = arg;
	struct sb_rx rx;
	struct sb_tx tx;
	bool in_open = r->in_fd >= 0, out_ok = true, err_ok = true;

	if (!r->no_seccomp) {
		struct err e;
		if (seccomp_install(SB_SECCOMP_RELAY, &e)) {
			snprintf(r->err, sizeof(r->err), "%s", e.msg);
			return NULL;
		}
	}
	if (sb_rx_init(&rx) || sb_tx_init(&tx, 0)) {
		snprintf(r->err, sizeof(r->err), "relay: out of memory");
		return NULL;
	}
	if (r->booted_fd >= 0) {
		if (write(r->booted_fd, "b", 1) < 0) {
			/* the owner is gone: it will not wait */
		}
		close(r->booted_fd);
		r->booted_fd = -1;
	}
	if (r->gate_fd >= 0 && wait_gate(r) < 0)
		goto out;
	uint8_t first = r->config_type ? r->config_type : SB_F_CONFIG;
	if (r->config_len > SB_FRAME_MAX || sb_tx_put(&tx, first, r->config, (uint32_t)r->config_len)) {
		snprintf(r->err, sizeof(r->err), "the container's configuration is too large");
		goto out;
	}
	bool tx_ok = true;
	while (!atomic_load(&r->stop)) {
		bool quiet = quiesce_step(r, &tx);
		unsigned sigs = quiet ? 0 : atomic_exchange(&r->sig_pending, 0);
		for (int s = 1; s < 32; s++) {
			if (!(sigs & (1u << s)))
				continue;
			uint8_t b[4];
			sb_put_u32(b, (uint32_t)s);
			if (sb_tx_put(&tx, SB_F_SIGNAL, b, 4))
				atomic_fetch_or(&r->sig_pending, 1u << s); /* next round */
		}
		if (atomic_exchange(&r->winch, false) && r->tty)
			queue_winsize(r, &tx);
		if (tx_ok && sb_tx_flush(&tx, r->sock) < 0) {
			/* The guest no longer reads (its session ended and shut
			 * the connection): send nothing more, but read on, for
			 * what it sent before (its output, its EXIT). */
			tx_ok = false;
			in_open = false;
		}
		struct pollfd p[3] = {
			{ .fd = r->sock, .events = (short)(POLLIN | (!tx_ok || sb_tx_empty(&tx) ? 0 : POLLOUT)) },
			{ .fd = r->wake, .events = POLLIN },
			{ .fd = in_open && !quiet && sb_tx_room(&tx) >= SB_DATA_CHUNK ? r->in_fd : -1, .events = POLLIN },
		};
		if (poll(p, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (p[1].revents) {
			uint64_t v;
			if (read(r->wake, &v, sizeof(v)) < 0) {
				/* EAGAIN: another wake-up got it */
			}
		}
		if (p[2].revents) {
			/* Straight into the send queue (polled only with room). */
			uint8_t *dst = sb_tx_reserve(&tx, SB_DATA_CHUNK);
			ssize_t n = dst ? read(r->in_fd, dst, SB_DATA_CHUNK) : -1;
			if (n > 0) {
				sb_tx_commit(&tx, SB_F_STDIN, (uint32_t)n);
			} else if (dst && (n == 0 || (errno != EINTR && errno != EAGAIN))) {
				in_open = false;
				sb_tx_put(&tx, SB_F_STDIN_EOF, NULL, 0);
			}
		}
		if (!(p[0].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		long got = sb_rx_fill(&rx, r->sock);
		if (got == 0 || (got < 0 && errno != EAGAIN))
			break;
		struct sb_frame f;
		const char *msg = "";
		int k;
		while ((k = sb_rx_next(&rx, &f, &msg)) > 0) {
			if (!sb_frame_valid(f.type, f.len, true)) {
				k = -1;
				msg = "invalid frame";
				break;
			}
			switch (f.type) {
			case SB_F_STDOUT:
				if (out_ok && write_all(r, r->out_fd, f.data, f.len))
					out_ok = false;
				break;
			case SB_F_STDERR:
				if (err_ok && write_all(r, r->err_fd, f.data, f.len))
					err_ok = false;
				break;
			case SB_F_STARTED:
				if (r->detach) {
					/* exec -d: the process runs; it stays, we go. */
					sb_tx_put(&tx, SB_F_DETACH, NULL, 0);
					atomic_store(&r->status, 0);
					atomic_store(&r->stop, true);
				}
				break;
			case SB_F_QUIESCED:
				pthread_mutex_lock(&r->qlock);
				if (r->quiesce == Q_SENT) {
					r->quiesce = Q_DONE;
					pthread_cond_broadcast(&r->qcond);
				}
				pthread_mutex_unlock(&r->qlock);
				break;
			case SB_F_RESUMED:
				if (r->on_resumed)
					r->on_resumed(r->on_exit_arg);
				break;
			case SB_F_OOM: {
				/* The guest's word: taken only if it grew and
				 * is in bounds; a count that went down or past
				 * SB_OOM_MAX is dropped. */
				uint32_t n = sb_get_u32(f.data);
				if (n > r->oom_kills && n <= SB_OOM_MAX) {
					r->oom_kills = n;
					if (r->on_oom)
						r->on_oom(r->on_exit_arg, n);
				}
				break;
			}
			case SB_F_EXIT:
				atomic_store(&r->exit_ns, now_ns());
				atomic_store(&r->status, (int)(sb_get_u32(f.data) & 0xff));
				sb_tx_put(&tx, SB_F_BYE, NULL, 0);
				if (r->on_exit)
					r->on_exit(r->on_exit_arg);
				break;
			default:
				break;
			}
		}
		if (k < 0) {
			snprintf(r->err, sizeof(r->err), "agent protocol error from the guest: %s", msg);
			break;
		}
	}
	sb_tx_flush(&tx, r->sock);
out:
	sb_rx_free(&rx);
	sb_tx_free(&tx);
	return NULL;
}

int relay_start(struct relay *r)
{
	if (pthread_create(&r->thread, NULL, relay_main, r))
		return -1;
	r->started = true;
	return 0;
}

void relay_stop(struct relay *r)
{
	if (r->started) {
		atomic_store(&r->stop, true);
		kick(r);
		pthread_join(r->thread, NULL);
		r->started = false;
	}
	if (r->sock >= 0)
		close(r->sock);
	if (r->wake >= 0)
		close(r->wake);
	r->sock = r->wake = -1;
}
