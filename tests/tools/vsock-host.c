/* vsock-host: the host side of tests/e2e/vsock.sh (build/tools/vsock-host).
 * It speaks to the VMM's Unix sockets the way a real host tool would.
 * Streams are tests/guest/vsock_pattern.h sequences.
 *
 *   vsock-host gen BYTES SEED                   the stream, to stdout
 *   vsock-host sink PATH FILE [USEC]            listen on PATH (a guest connects to
 *                                               uds_PORT), save one connection to FILE
 *                                               until EOF, then close; with USEC, read
 *                                               16 KiB at a time and sleep USEC between
 *   vsock-host source PATH BYTES SEED           listen on PATH, send BYTES to one
 *                                               connection, then close
 *   vsock-host connect UDS PORT OUT SEED1 IN SEED2
 *                                               CONNECT to guest PORT through the VMM's
 *                                               socket UDS (retrying until the guest
 *                                               listens), send OUT bytes while receiving
 *                                               and checking IN bytes, close after EOF
 * Sizes take K/M suffixes. One line of results on stderr; status 0 on success. */
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "../guest/vsock_pattern.h"

#define CHUNK (64 * 1024)

static uint8_t buf[CHUNK];

static void die(const char *what)
{
	fprintf(stderr, "vsock-host: %s: %s\n", what, strerror(errno));
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

static struct sockaddr_un addr(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(a.sun_path)) {
		fprintf(stderr, "vsock-host: path too long: %s\n", path);
		exit(1);
	}
	strcpy(a.sun_path, path);
	return a;
}

/* Listen on PATH and accept one connection. */
static int accept_one(const char *path)
{
	struct sockaddr_un a = addr(path);
	int l = socket(AF_UNIX, SOCK_STREAM, 0);
	if (l < 0)
		die("socket");
	unlink(path);
	if (bind(l, (struct sockaddr *)&a, sizeof(a)) || listen(l, 1))
		die(path);
	int fd = accept(l, NULL, NULL);
	if (fd < 0)
		die("accept");
	close(l);
	unlink(path);
	return fd;
}

static int cmd_gen(uint64_t n, uint64_t seed)
{
	struct pat p;
	pat_init(&p, seed);
	while (n) {
		size_t k = n < CHUNK ? (size_t)n : CHUNK;
		pat_fill(&p, buf, k);
		write_all(1, buf, k);
		n -= k;
	}
	return 0;
}

static int cmd_sink(const char *path, const char *file, long usec)
{
	FILE *out = fopen(file, "wb");
	if (!out)
		die(file);
	int fd = accept_one(path);
	double t0 = now_ms();
	uint64_t n = 0;
	size_t want = usec > 0 ? 16 * 1024 : sizeof(buf);
	for (;;) {
		ssize_t r = read(fd, buf, want);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			die("read");
		if (r == 0)
			break;
		if (fwrite(buf, 1, (size_t)r, out) != (size_t)r)
			die("fwrite");
		n += (uint64_t)r;
		if (usec > 0)
			usleep((useconds_t)usec);
	}
	double t1 = now_ms();
	if (fclose(out))
		die("fclose");
	close(fd); /* the guest waits for this before it powers off */
	fprintf(stderr, "vsock-host sink %s: bytes=%llu read_ms=%.0f\n", path, (unsigned long long)n, t1 - t0);
	return 0;
}

static int cmd_source(const char *path, uint64_t n, uint64_t seed)
{
	int fd = accept_one(path);
	double t0 = now_ms();
	struct pat p;
	pat_init(&p, seed);
	for (uint64_t left = n; left;) {
		size_t k = left < CHUNK ? (size_t)left : CHUNK;
		pat_fill(&p, buf, k);
		write_all(fd, buf, k);
		left -= k;
	}
	close(fd);
	fprintf(stderr, "vsock-host source %s: bytes=%llu ms=%.0f\n", path, (unsigned long long)n, now_ms() - t0);
	return 0;
}

/* Connect through the VMM's socket: "CONNECT port\n", expect "OK n\n".
 * -1 if the VMM closed the connection (the guest is not listening yet). */
static int vmm_connect(const char *uds, unsigned port, unsigned *host_port)
{
	struct sockaddr_un a = addr(uds);
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0)
		die("socket");
	if (connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		close(fd);
		return -1; /* the VMM is not up yet */
	}
	char line[64];
	int n = snprintf(line, sizeof(line), "CONNECT %u\n", port);
	if (send(fd, line, (size_t)n, MSG_NOSIGNAL) != n) {
		close(fd);
		return -1; /* closed at once: no guest driver yet */
	}
	/* One byte at a time: what follows the newline is the guest's data. */
	size_t len = 0;
	while (len < sizeof(line) - 1) {
		ssize_t r = read(fd, line + len, 1);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0) {
			close(fd);
			return -1;
		}
		if (line[len++] == '\n')
			break;
	}
	line[len] = '\0';
	if (sscanf(line, "OK %u\n", host_port) != 1) {
		fprintf(stderr, "vsock-host connect: unexpected reply '%s'\n", line);
		exit(1);
	}
	return fd;
}

static int cmd_connect(const char *uds, unsigned port, uint64_t out, uint64_t out_seed, uint64_t in,
		       uint64_t in_seed)
{
	unsigned host_port = 0, tries = 0;
	int fd;
	double t_start = now_ms();
	while ((fd = vmm_connect(uds, port, &host_port)) < 0) {
		tries++;
		if (now_ms() - t_start > 300000) {
			fprintf(stderr, "vsock-host connect: guest port %u never accepted\n", port);
			return 1;
		}
		usleep(100000);
	}
	double t0 = now_ms();
	struct pat pout, pin;
	pat_init(&pout, out_seed);
	pat_init(&pin, in_seed);
	static uint8_t obuf[CHUNK];
	size_t ooff = 0, olen = 0;
	uint64_t sent = 0, got = 0;
	bool eof = false;
	while (!eof || sent < out) {
		struct pollfd pf = { .fd = fd, .events = (eof ? 0 : POLLIN) | (sent < out ? POLLOUT : 0) };
		if (poll(&pf, 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			die("poll");
		}
		if (!eof && (pf.revents & (POLLIN | POLLHUP | POLLERR))) {
			ssize_t r = read(fd, buf, sizeof(buf));
			if (r < 0 && errno != EINTR && errno != EAGAIN)
				die("read");
			if (r == 0)
				eof = true;
			if (r > 0) {
				if (got + (uint64_t)r > in) {
					fprintf(stderr, "vsock-host connect: more than %llu bytes\n", (unsigned long long)in);
					return 1;
				}
				long bad = pat_check(&pin, buf, (size_t)r);
				if (bad >= 0) {
					fprintf(stderr, "vsock-host connect: wrong byte at offset %llu\n",
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
			ssize_t r = send(fd, obuf + ooff, olen - ooff, MSG_DONTWAIT | MSG_NOSIGNAL);
			if (r < 0 && errno != EINTR && errno != EAGAIN)
				die("send");
			if (r > 0) {
				ooff += (size_t)r;
				sent += (uint64_t)r;
			}
		}
	}
	double t1 = now_ms();
	close(fd);
	if (got != in) {
		fprintf(stderr, "vsock-host connect: got %llu bytes, want %llu\n", (unsigned long long)got,
			(unsigned long long)in);
		return 1;
	}
	fprintf(stderr, "vsock-host connect: port=%u host_port=%u retries=%u out=%llu in=%llu ok ms=%.0f\n", port,
		host_port, tries, (unsigned long long)out, (unsigned long long)in, t1 - t0);
	return 0;
}

int main(int argc, char **argv)
{
	signal(SIGPIPE, SIG_IGN); /* a closed peer is an error message, not a silent death */
	const char *c = argc > 1 ? argv[1] : "";
	if (!strcmp(c, "gen") && argc == 4)
		return cmd_gen(size_arg(argv[2]), size_arg(argv[3]));
	if (!strcmp(c, "sink") && (argc == 4 || argc == 5))
		return cmd_sink(argv[2], argv[3], argc == 5 ? atol(argv[4]) : 0);
	if (!strcmp(c, "source") && argc == 5)
		return cmd_source(argv[2], size_arg(argv[3]), size_arg(argv[4]));
	if (!strcmp(c, "connect") && argc == 8)
		return cmd_connect(argv[2], (unsigned)atoi(argv[3]), size_arg(argv[4]), size_arg(argv[5]),
				   size_arg(argv[6]), size_arg(argv[7]));
	fprintf(stderr, "usage: vsock-host gen|sink|source|connect ... (see the source)\n");
	return 2;
}
