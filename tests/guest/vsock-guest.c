/* vsock-guest: the guest side of tests/e2e/vsock.sh (static, in the test
 * initramfs as /bin/vsock-guest). Streams are tests/guest/vsock_pattern.h
 * sequences; every transfer ends with an end-to-end acknowledgement (we
 * wait for the host's EOF after our own), so the guest never powers off
 * while bytes are still on their way.
 *
 *   vsock-guest gen BYTES SEED                    stream to stdout
 *   vsock-guest gen2 OUT SEED1 ERR SEED2          interleaved to stdout and stderr
 *   vsock-guest exec OUTPORT ERRPORT CMD [ARG...] run CMD with stdout/stderr on
 *                                                 connections to host ports
 *   vsock-guest send PORT BYTES SEED              connect to the host, send
 *   vsock-guest recv PORT BYTES SEED              connect to the host, receive, check
 *   vsock-guest serve PORT IN SEED1 OUT SEED2     accept one host connection: receive
 *                                                 and check IN bytes, send OUT bytes
 *   vsock-guest refused PORT                      a connect nobody accepts must fail
 * Sizes take K/M suffixes. Exit status 0 on success. */
#include <errno.h>
#include <linux/vm_sockets.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "vsock_pattern.h"

#define CHUNK (64 * 1024)

static uint8_t buf[CHUNK];

static void die(const char *what)
{
	fprintf(stderr, "vsock-guest: %s: %s\n", what, strerror(errno));
	exit(1);
}

static uint64_t size_arg(const char *s)
{
	char *end;
	uint64_t v = strtoull(s, &end, 10);
	if (*end == 'K')
		v <<= 10;
	else if (*end == 'M')
		v <<= 20;
	return v;
}

static double now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static void write_all(int fd, const uint8_t *p, size_t n)
{
	while (n) {
		ssize_t r = write(fd, p, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			die("write");
		p += r;
		n -= (size_t)r;
	}
}

/* Connect to the host (CID 2); retry briefly if nobody listens yet. */
static int host_connect(unsigned port)
{
	for (int tries = 0;; tries++) {
		int fd = socket(AF_VSOCK, SOCK_STREAM, 0);
		if (fd < 0)
			die("socket(AF_VSOCK)");
		struct sockaddr_vm a = { .svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_HOST, .svm_port = port };
		if (connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0)
			return fd;
		if (tries == 50 || (errno != ECONNRESET && errno != ECONNREFUSED))
			die("connect");
		close(fd);
		usleep(100000);
	}
}

/* Our side is done: shut it, then wait for the host's EOF, which it sends
 * only after it has everything. */
static void finish(int fd)
{
	if (shutdown(fd, SHUT_WR))
		die("shutdown");
	for (;;) {
		ssize_t r = read(fd, buf, sizeof(buf));
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			die("read (waiting for the host's EOF)");
		if (r == 0)
			break;
	}
	close(fd);
}

static void gen(int fd, uint64_t n, uint64_t seed)
{
	struct pat p;
	pat_init(&p, seed);
	while (n) {
		size_t k = n < CHUNK ? (size_t)n : CHUNK;
		pat_fill(&p, buf, k);
		write_all(fd, buf, k);
		n -= k;
	}
}

/* Two streams, interleaved in proportion, so both are in flight at once. */
static void gen2(uint64_t n1, uint64_t s1, uint64_t n2, uint64_t s2)
{
	struct pat p1, p2;
	pat_init(&p1, s1);
	pat_init(&p2, s2);
	uint64_t left1 = n1, left2 = n2;
	while (left1 || left2) {
		/* whichever is behind its share goes next */
		bool one = left2 == 0 || (left1 && (n1 - left1) * (n2 ? n2 : 1) <= (n2 - left2) * n1);
		uint64_t *left = one ? &left1 : &left2;
		size_t k = *left < CHUNK ? (size_t)*left : CHUNK;
		pat_fill(one ? &p1 : &p2, buf, k);
		write_all(one ? 1 : 2, buf, k);
		*left -= k;
	}
}

static int cmd_exec(unsigned out_port, unsigned err_port, char **argv)
{
	int o = host_connect(out_port), e = host_connect(err_port);
	double t0 = now_ms();
	pid_t pid = fork();
	if (pid < 0)
		die("fork");
	if (pid == 0) {
		dup2(o, 1);
		dup2(e, 2);
		close(o);
		close(e);
		execvp(argv[0], argv);
		_exit(127);
	}
	int st;
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			die("waitpid");
	finish(o);
	finish(e);
	printf("vsock-guest exec: status=%d ms=%.0f\n", st, now_ms() - t0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static int cmd_send(unsigned port, uint64_t n, uint64_t seed)
{
	int fd = host_connect(port);
	double t0 = now_ms();
	gen(fd, n, seed);
	double t1 = now_ms();
	finish(fd);
	double t2 = now_ms();
	printf("vsock-guest send: bytes=%llu write_ms=%.0f total_ms=%.0f\n", (unsigned long long)n, t1 - t0, t2 - t0);
	return 0;
}

/* Read and check N bytes from FD (then EOF if WANT_EOF). */
static int receive(int fd, uint64_t n, uint64_t seed, bool want_eof, const char *who)
{
	struct pat p;
	pat_init(&p, seed);
	uint64_t got = 0;
	for (;;) {
		size_t want = sizeof(buf);
		if (!want_eof && n - got < want)
			want = (size_t)(n - got);
		if (!want)
			break;
		ssize_t r = read(fd, buf, want);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			die("read");
		if (r == 0)
			break;
		if (got + (uint64_t)r > n) {
			fprintf(stderr, "%s: more than %llu bytes\n", who, (unsigned long long)n);
			return 1;
		}
		long bad = pat_check(&p, buf, (size_t)r);
		if (bad >= 0) {
			fprintf(stderr, "%s: wrong byte at offset %llu\n", who, (unsigned long long)(got + (uint64_t)bad));
			return 1;
		}
		got += (uint64_t)r;
	}
	if (got != n) {
		fprintf(stderr, "%s: got %llu bytes, want %llu\n", who, (unsigned long long)got, (unsigned long long)n);
		return 1;
	}
	return 0;
}

static int cmd_recv(unsigned port, uint64_t n, uint64_t seed)
{
	int fd = host_connect(port);
	double t0 = now_ms();
	int rc = receive(fd, n, seed, true, "vsock-guest recv");
	double t1 = now_ms();
	close(fd);
	if (!rc)
		printf("vsock-guest recv: bytes=%llu ok ms=%.0f\n", (unsigned long long)n, t1 - t0);
	return rc;
}

static int cmd_serve(unsigned port, uint64_t in, uint64_t in_seed, uint64_t out, uint64_t out_seed)
{
	int l = socket(AF_VSOCK, SOCK_STREAM, 0);
	if (l < 0)
		die("socket(AF_VSOCK)");
	struct sockaddr_vm a = { .svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_ANY, .svm_port = port };
	if (bind(l, (struct sockaddr *)&a, sizeof(a)) || listen(l, 1))
		die("bind/listen");
	printf("vsock-guest serve: listening on port %u\n", port);
	fflush(stdout);
	int fd = accept(l, NULL, NULL);
	if (fd < 0)
		die("accept");
	close(l);
	double t0 = now_ms();
	/* Both directions at once: poll, read and check, write. */
	struct pat pin, pout;
	pat_init(&pin, in_seed);
	pat_init(&pout, out_seed);
	uint64_t got = 0, sent = 0;
	static uint8_t obuf[CHUNK];
	size_t ooff = 0, olen = 0;
	while (got < in || sent < out) {
		struct pollfd pf = { .fd = fd, .events = (got < in ? POLLIN : 0) | (sent < out ? POLLOUT : 0) };
		if (poll(&pf, 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			die("poll");
		}
		if (pf.revents & (POLLIN | POLLHUP | POLLERR)) {
			size_t want = in - got < sizeof(buf) ? (size_t)(in - got) : sizeof(buf);
			ssize_t r = want ? read(fd, buf, want) : 0;
			if (r < 0 && errno != EINTR && errno != EAGAIN)
				die("read");
			if (r == 0 && want) {
				fprintf(stderr, "vsock-guest serve: EOF after %llu of %llu bytes\n",
					(unsigned long long)got, (unsigned long long)in);
				return 1;
			}
			if (r > 0) {
				long bad = pat_check(&pin, buf, (size_t)r);
				if (bad >= 0) {
					fprintf(stderr, "vsock-guest serve: wrong byte at offset %llu\n",
						(unsigned long long)(got + (uint64_t)bad));
					return 1;
				}
				got += (uint64_t)r;
			}
		}
		if ((pf.revents & POLLOUT) && sent < out) {
			if (ooff == olen) {
				olen = out - sent < CHUNK ? (size_t)(out - sent) : CHUNK;
				pat_fill(&pout, obuf, olen);
				ooff = 0;
			}
			ssize_t r = send(fd, obuf + ooff, olen - ooff, MSG_DONTWAIT);
			if (r < 0 && errno != EINTR && errno != EAGAIN)
				die("send");
			if (r > 0) {
				ooff += (size_t)r;
				sent += (uint64_t)r;
			}
		}
	}
	double t1 = now_ms();
	finish(fd);
	printf("vsock-guest serve: in=%llu ok out=%llu ms=%.0f\n", (unsigned long long)in, (unsigned long long)out,
	       t1 - t0);
	return 0;
}

static int cmd_refused(unsigned port)
{
	int fd = socket(AF_VSOCK, SOCK_STREAM, 0);
	struct sockaddr_vm a = { .svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_HOST, .svm_port = port };
	if (fd < 0)
		die("socket(AF_VSOCK)");
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0) {
		fprintf(stderr, "vsock-guest refused: connect to port %u succeeded\n", port);
		return 1;
	}
	printf("vsock-guest refused: port %u: %s\n", port, strerror(errno));
	return errno == ECONNRESET ? 0 : 1;
}

int main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN); /* a closed peer is an error message, not a silent death */
	const char *c = argc > 1 ? argv[1] : "";
	if (!strcmp(c, "gen") && argc == 4) {
		gen(1, size_arg(argv[2]), size_arg(argv[3]));
		return 0;
	}
	if (!strcmp(c, "gen2") && argc == 6) {
		gen2(size_arg(argv[2]), size_arg(argv[3]), size_arg(argv[4]), size_arg(argv[5]));
		return 0;
	}
	if (!strcmp(c, "exec") && argc >= 5)
		return cmd_exec((unsigned)atoi(argv[2]), (unsigned)atoi(argv[3]), argv + 4);
	if (!strcmp(c, "send") && argc == 5)
		return cmd_send((unsigned)atoi(argv[2]), size_arg(argv[3]), size_arg(argv[4]));
	if (!strcmp(c, "recv") && argc == 5)
		return cmd_recv((unsigned)atoi(argv[2]), size_arg(argv[3]), size_arg(argv[4]));
	if (!strcmp(c, "serve") && argc == 7)
		return cmd_serve((unsigned)atoi(argv[2]), size_arg(argv[3]), size_arg(argv[4]), size_arg(argv[5]),
				 size_arg(argv[6]));
	if (!strcmp(c, "refused") && argc == 3)
		return cmd_refused((unsigned)atoi(argv[2]));
	fprintf(stderr, "usage: vsock-guest gen|gen2|exec|send|recv|serve|refused ... (see the source)\n");
	return 2;
}
