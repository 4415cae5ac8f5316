/* benchio: the device throughput benchmark's measuring tool (bench/io.sh).
 * Static, so the same binary runs in the guest (/bin/benchio in the test
 * initramfs) and in the test host (build/guest-tools/benchio).
 *
 *   benchio blk-read  DEV BYTES BS      sequential O_DIRECT reads of BS
 *   benchio blk-write DEV BYTES BS      sequential O_DIRECT writes of BS,
 *                                       then fdatasync (a FLUSH), timed too
 *   benchio tcp-send  HOST PORT BYTES [TIMEOUT_S]   guest: connect, send
 *                                       BYTES, shut down, wait for the
 *                                       peer's close
 *   benchio tcp-recv  HOST PORT [TIMEOUT_S]         guest: connect, read
 *                                       to EOF, close
 *   benchio tcp-host  PORT BYTES [TIMEOUT_S [PASSES]]  host end: accept
 *                                       one connection and read it to EOF
 *                                       (guest -> host), then accept a
 *                                       second one and send BYTES to it
 *                                       (host -> guest); PASSES times
 *
 * Each measurement prints one line
 *   benchio: OP bytes=N secs=S mbps=M ok=0|1
 * (MB = 10^6 bytes, CLOCK_MONOTONIC). No per-byte work is done on the data
 * (the nested test host is slow: generating or checking bytes would cost
 * more CPU than the device); the e2e tests check the bytes. Exit status 0
 * if every measurement moved exactly the expected number of bytes. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define NETBUF (256 * 1024)

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static int num(const char *s, unsigned long long *out)
{
	char *end;
	errno = 0;
	*out = strtoull(s, &end, 0);
	return errno || !*s || *end ? -1 : 0;
}

static int report(const char *op, unsigned long long bytes, unsigned long long want, double secs)
{
	int ok = bytes == want && secs > 0;
	printf("benchio: %s bytes=%llu secs=%.4f mbps=%.2f ok=%d\n", op, bytes, secs,
	       secs > 0 ? (double)bytes / secs / 1e6 : 0.0, ok);
	fflush(stdout);
	return ok ? 0 : 1;
}

static int fail(const char *op, const char *what)
{
	fprintf(stderr, "benchio: %s: %s: %s\n", op, what, strerror(errno));
	printf("benchio: %s bytes=0 secs=0 mbps=0 ok=0\n", op);
	fflush(stdout);
	return 1;
}

/* ---- block ------------------------------------------------------------------ */

static int blk(int write, const char *dev, unsigned long long bytes, unsigned long long bs)
{
	const char *op = write ? "blk-write" : "blk-read";
	if (bs == 0 || bs % 4096 || bytes % bs) {
		fprintf(stderr, "benchio: %s: BS must be a multiple of 4096 dividing BYTES\n", op);
		return 2;
	}
	int fd = open(dev, (write ? O_WRONLY : O_RDONLY) | O_DIRECT | O_CLOEXEC);
	if (fd < 0)
		return fail(op, dev);
	unsigned long long size = 0;
	if (ioctl(fd, BLKGETSIZE64, &size) == 0 && size < bytes) {
		fprintf(stderr, "benchio: %s: %s has %llu bytes, fewer than %llu\n", op, dev, size, bytes);
		return 2;
	}
	void *buf;
	if (posix_memalign(&buf, 4096, bs))
		return fail(op, "posix_memalign");
	memset(buf, 0xa5, bs);   /* not zeroes: nothing on the way may treat them specially */
	unsigned long long done = 0;
	double t0 = now();
	while (done < bytes) {
		ssize_t n = write ? pwrite(fd, buf, bs, (off_t)done) : pread(fd, buf, bs, (off_t)done);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return fail(op, n < 0 ? "I/O" : "short transfer");
		done += (unsigned long long)n;
	}
	if (write && fdatasync(fd))
		return fail(op, "fdatasync");
	double dt = now() - t0;
	close(fd);
	free(buf);
	return report(op, done, bytes, dt);
}

/* ---- TCP ---------------------------------------------------------------------- */

static char netbuf[NETBUF];

/* Wait until fd is readable/writable or the time without progress runs out. */
static int wait_fd(int fd, short ev, unsigned long long timeout)
{
	struct pollfd p = { .fd = fd, .events = ev };
	int r;
	do
		r = poll(&p, 1, (int)(timeout * 1000));
	while (r < 0 && errno == EINTR);
	if (r == 0)
		errno = ETIMEDOUT;
	return r == 1 ? 0 : -1;
}

/* Send BYTES, shut down the write side, read (and drop) until the peer's
 * EOF. Returns the bytes sent, or -1. */
static long long send_all(int fd, unsigned long long bytes, unsigned long long timeout)
{
	unsigned long long sent = 0;
	while (sent < bytes) {
		size_t len = bytes - sent < NETBUF ? (size_t)(bytes - sent) : NETBUF;
		ssize_t n = write(fd, netbuf, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN) {
			if (wait_fd(fd, POLLOUT, timeout))
				return -1;
			continue;
		}
		if (n <= 0)
			return -1;
		sent += (unsigned long long)n;
	}
	shutdown(fd, SHUT_WR);
	for (;;) {
		if (wait_fd(fd, POLLIN, timeout))
			return -1;
		ssize_t n = read(fd, netbuf, NETBUF);
		if (n == 0)
			break;
		if (n < 0 && errno != EINTR && errno != EAGAIN)
			return -1;
	}
	return (long long)sent;
}

/* Read until EOF. Returns the bytes read, or -1. */
static long long recv_all(int fd, unsigned long long timeout)
{
	unsigned long long got = 0;
	for (;;) {
		if (wait_fd(fd, POLLIN, timeout))
			return -1;
		ssize_t n = read(fd, netbuf, NETBUF);
		if (n == 0)
			return (long long)got;
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0)
			return -1;
		got += (unsigned long long)n;
	}
}

static int tcp_connect(const char *host, unsigned long long port, unsigned long long timeout)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1) {
		errno = EINVAL;
		return -1;
	}
	double deadline = now() + (double)timeout;
	for (;;) {
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -1;
		if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
			fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
			return fd;
		}
		close(fd);
		if (now() > deadline)
			return -1;
		usleep(100 * 1000);
	}
}

static int tcp_accept(int l, unsigned long long timeout)
{
	if (wait_fd(l, POLLIN, timeout))
		return -1;
	int fd = accept(l, NULL, NULL);
	if (fd >= 0)
		fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
	return fd;
}

int main(int argc, char **argv)
{
	unsigned long long a, b, timeout = 120;
	const char *cmd = argc > 1 ? argv[1] : "";
	memset(netbuf, 0x5a, sizeof(netbuf));
	if ((!strcmp(cmd, "blk-read") || !strcmp(cmd, "blk-write")) && argc == 5 && !num(argv[3], &a) &&
	    !num(argv[4], &b))
		return blk(cmd[4] == 'w', argv[2], a, b);
	if (!strcmp(cmd, "tcp-send") && (argc == 5 || argc == 6) && !num(argv[3], &a) && !num(argv[4], &b) &&
	    (argc == 5 || !num(argv[5], &timeout))) {
		int fd = tcp_connect(argv[2], a, timeout);
		if (fd < 0)
			return fail("tcp-send", "connect");
		double t0 = now();
		long long n = send_all(fd, b, timeout);
		double dt = now() - t0;
		close(fd);
		return n < 0 ? fail("tcp-send", "send") : report("tcp-send", (unsigned long long)n, b, dt);
	}
	if (!strcmp(cmd, "tcp-recv") && (argc == 4 || argc == 5) && !num(argv[3], &a) &&
	    (argc == 4 || !num(argv[4], &timeout))) {
		int fd = tcp_connect(argv[2], a, timeout);
		if (fd < 0)
			return fail("tcp-recv", "connect");
		double t0 = now();
		long long n = recv_all(fd, timeout);
		double dt = now() - t0;
		close(fd);
		if (n < 0)
			return fail("tcp-recv", "receive");
		printf("benchio: tcp-recv bytes=%lld secs=%.4f mbps=%.2f ok=1\n", n, dt, dt > 0 ? (double)n / dt / 1e6 : 0.0);
		return 0;
	}
	unsigned long long passes = 1;
	if (!strcmp(cmd, "tcp-host") && argc >= 4 && argc <= 6 && !num(argv[2], &a) && !num(argv[3], &b) &&
	    (argc < 5 || !num(argv[4], &timeout)) && (argc < 6 || !num(argv[5], &passes)) && a > 0 && a < 65536 &&
	    passes > 0) {
		struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)a),
					  .sin_addr.s_addr = htonl(INADDR_ANY) };
		int one = 1, l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (l < 0)
			return fail("tcp-host", "socket");
		setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(l, (struct sockaddr *)&sa, sizeof(sa)) || listen(l, 2))
			return fail("tcp-host", "bind/listen");
		printf("benchio: tcp-host listening on %llu\n", a);
		fflush(stdout);
		int rc = 0;
		for (unsigned long long i = 0; i < passes; i++) {
			/* 1: guest -> host, measured here from accept to EOF. */
			int fd = tcp_accept(l, timeout);
			if (fd < 0)
				return fail("g2h", "accept") | rc;
			double t0 = now();
			long long n = recv_all(fd, timeout);
			double dt = now() - t0;
			close(fd);
			rc |= n < 0 ? fail("g2h", "receive") : report("g2h", (unsigned long long)n, b, dt);
			/* 2: host -> guest, from accept until the guest closed. */
			fd = tcp_accept(l, timeout);
			if (fd < 0)
				return fail("h2g", "accept") | rc;
			t0 = now();
			n = send_all(fd, b, timeout);
			dt = now() - t0;
			close(fd);
			rc |= n < 0 ? fail("h2g", "send") : report("h2g", (unsigned long long)n, b, dt);
		}
		close(l);
		return rc;
	}
	fprintf(stderr, "usage: benchio blk-read|blk-write DEV BYTES BS\n"
			"       benchio tcp-send HOST PORT BYTES [TIMEOUT_S]\n"
			"       benchio tcp-recv HOST PORT [TIMEOUT_S]\n"
			"       benchio tcp-host PORT BYTES [TIMEOUT_S [PASSES]]\n");
	return 2;
}
