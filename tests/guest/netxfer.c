/* netxfer: a TCP stream test for virtio-net, static so the same binary
 * runs in the guest (/bin/netxfer in the test initramfs) and in the test
 * host (build/guest-tools/netxfer).
 *
 *   netxfer listen  PORT      SEND SEND_SEED RECV RECV_SEED [TIMEOUT_S]
 *   netxfer connect HOST PORT SEND SEND_SEED RECV RECV_SEED [TIMEOUT_S]
 *
 * One connection, both directions at once: send SEND bytes of the
 * pseudo-random stream SEND_SEED, then shut the write side; read to EOF and
 * check, byte for byte, that exactly RECV bytes of stream RECV_SEED came.
 * connect retries until the peer listens. TIMEOUT_S (default 120) bounds
 * the time without progress. Prints one summary line with the CRC-32 of
 * what was sent and received; exits 0 only if everything was sent and
 * exactly the expected bytes came back. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* The byte stream: splitmix64 of (seed, 8-byte block index). */
struct stream {
	uint64_t seed, pos, cur;
};

static void stream_fill(struct stream *s, uint8_t *buf, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		if ((s->pos & 7) == 0) {
			uint64_t z = s->seed * 0xd1342543de82ef95ULL + (s->pos >> 3) * 0x9e3779b97f4a7c15ULL;
			z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
			z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
			s->cur = z ^ (z >> 31);
		}
		buf[i] = (uint8_t)(s->cur >> (8 * (s->pos & 7)));
		s->pos++;
	}
}

static uint32_t crc32_update(uint32_t crc, const uint8_t *p, size_t len)
{
	static uint32_t table[256];
	if (!table[1])
		for (uint32_t i = 0; i < 256; i++) {
			uint32_t c = i;
			for (int k = 0; k < 8; k++)
				c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
			table[i] = c;
		}
	crc = ~crc;
	for (size_t i = 0; i < len; i++)
		crc = table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
	return ~crc;
}

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void die(const char *what)
{
	fprintf(stderr, "netxfer: %s: %s\n", what, strerror(errno));
	exit(2);
}

static int num(const char *s, unsigned long long *out)
{
	char *end;
	errno = 0;
	*out = strtoull(s, &end, 0);
	return errno || !*s || *end ? -1 : 0;
}

int main(int argc, char **argv)
{
	int listen_mode = argc >= 2 && !strcmp(argv[1], "listen");
	int base = listen_mode ? 2 : 3;
	unsigned long long port, send_len, send_seed, recv_len, recv_seed, timeout = 120;
	if (argc < 2 || (!listen_mode && strcmp(argv[1], "connect")) || argc < base + 5 || argc > base + 6 ||
	    num(argv[base], &port) || num(argv[base + 1], &send_len) || num(argv[base + 2], &send_seed) ||
	    num(argv[base + 3], &recv_len) || num(argv[base + 4], &recv_seed) ||
	    (argc == base + 6 && num(argv[base + 5], &timeout)) || port == 0 || port > 65535) {
		fprintf(stderr, "usage: netxfer listen PORT SEND SEND_SEED RECV RECV_SEED [TIMEOUT_S]\n"
				"       netxfer connect HOST PORT SEND SEND_SEED RECV RECV_SEED [TIMEOUT_S]\n");
		return 2;
	}
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	double deadline = now() + (double)timeout;
	int fd;
	if (listen_mode) {
		int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
		if (l < 0)
			die("socket");
		setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		sa.sin_addr.s_addr = htonl(INADDR_ANY);
		if (bind(l, (struct sockaddr *)&sa, sizeof(sa)) || listen(l, 1))
			die("bind/listen");
		struct pollfd p = { .fd = l, .events = POLLIN };
		if (poll(&p, 1, (int)(timeout * 1000)) != 1) {
			fprintf(stderr, "netxfer: nobody connected within %llu s\n", timeout);
			return 1;
		}
		fd = accept(l, NULL, NULL);
		if (fd < 0)
			die("accept");
		close(l);
	} else {
		if (inet_pton(AF_INET, argv[2], &sa.sin_addr) != 1) {
			fprintf(stderr, "netxfer: bad address %s\n", argv[2]);
			return 2;
		}
		for (;;) {
			fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
			if (fd < 0)
				die("socket");
			if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
				break;
			if (now() > deadline)
				die("connect");
			close(fd);
			usleep(200 * 1000);
		}
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);

	struct stream tx = { .seed = send_seed }, rx = { .seed = recv_seed };
	static uint8_t obuf[65536], ibuf[65536], want[65536];
	size_t opos = 0, olen = 0;
	unsigned long long sent = 0, got = 0, bad_at = 0;
	int mismatch = 0, rx_done = 0, tx_done = send_len == 0;
	uint32_t tx_crc = 0, rx_crc = 0;
	double t0 = now();
	deadline = t0 + (double)timeout;
	if (tx_done)
		shutdown(fd, SHUT_WR);
	while (!rx_done || !tx_done) {
		struct pollfd p = { .fd = fd, .events = (short)((rx_done ? 0 : POLLIN) | (tx_done ? 0 : POLLOUT)) };
		int left_ms = (int)((deadline - now()) * 1000);
		if (left_ms <= 0 || poll(&p, 1, left_ms) == 0) {
			fprintf(stderr, "netxfer: no progress for %llu s (sent %llu of %llu, received %llu of %llu)\n",
				timeout, sent, send_len, got, recv_len);
			return 1;
		}
		if (p.revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t n = read(fd, ibuf, sizeof(ibuf));
			if (n < 0 && errno != EAGAIN && errno != EINTR)
				die("read");
			if (n == 0)
				rx_done = 1;
			if (n > 0) {
				if (!mismatch) {
					/* Compare with the stream; bytes past RECV are wrong too. */
					unsigned long long expect_left = got < recv_len ? recv_len - got : 0;
					size_t cmp = (unsigned long long)n < expect_left ? (size_t)n : (size_t)expect_left;
					stream_fill(&rx, want, cmp);
					size_t i = 0;
					while (i < cmp && ibuf[i] == want[i])
						i++;
					if (i < (size_t)n) {
						mismatch = 1;
						bad_at = got + i;
					}
				}
				rx_crc = crc32_update(rx_crc, ibuf, (size_t)n);
				got += (unsigned long long)n;
				deadline = now() + (double)timeout;
			}
		}
		if (!tx_done && (p.revents & POLLOUT)) {
			if (opos == olen) {
				unsigned long long left = send_len - sent;
				olen = left < sizeof(obuf) ? (size_t)left : sizeof(obuf);
				stream_fill(&tx, obuf, olen);
				opos = 0;
			}
			ssize_t n = write(fd, obuf + opos, olen - opos);
			if (n < 0 && errno != EAGAIN && errno != EINTR)
				die("write");
			if (n > 0) {
				tx_crc = crc32_update(tx_crc, obuf + opos, (size_t)n);
				opos += (size_t)n;
				sent += (unsigned long long)n;
				deadline = now() + (double)timeout;
				if (sent == send_len) {
					tx_done = 1;
					shutdown(fd, SHUT_WR);
				}
			}
		}
	}
	close(fd);
	double dt = now() - t0;
	int ok = !mismatch && got == recv_len && sent == send_len;
	printf("netxfer: %s: sent %llu bytes crc32=%08x, received %llu of %llu bytes crc32=%08x, %.1f s, %.2f MB/s",
	       ok ? "ok" : "FAILED", sent, tx_crc, got, recv_len, rx_crc, dt, dt > 0 ? (sent + got) / dt / 1e6 : 0.0);
	if (mismatch)
		printf(", first wrong byte at %llu", bad_at);
	printf("\n");
	return ok ? 0 : 1;
}
