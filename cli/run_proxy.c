/* `sandbox run`: -p, TCP from this host's port to the guest's.
 *
 * -p [HOST_IP:]HOST:GUEST listens on HOST_IP (default 127.0.0.1: only this
 * host's own processes reach the sandbox unless an address is asked for,
 * e.g. 0.0.0.0) and forwards each connection to the guest's GUEST port,
 * one thread per connection and at most PROXY_MAX_CONNS of them per port:
 * beyond that a new connection is accepted and closed at once, so a flood
 * of connections costs the owner a bounded number of threads. */

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
#include <stdatomic.h>
#include <limits.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "arch/x86/layout.h"
#include "relay.h"
#include "run_impl.h"
#include "state.h"


/* ------------------------------------------------------------------ */
/* -p: TCP from this host's port to the guest's */

/* A decimal port 1-65535: digits only, no sign, space or leading zero. */
static bool port_num(const char *s, size_t len, unsigned *out)
{
	if (!len || len > 5 || s[0] == '0')
		return false;
	unsigned v = 0;
	for (size_t i = 0; i < len; i++) {
		if (!isdigit((unsigned char)s[i]))
			return false;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v > 65535)
		return false;
	*out = v;
	return true;
}

int proxy_spec_parse(const char *spec, struct in_addr *ip, unsigned *host, unsigned *guest)
{
	const char *last = strrchr(spec, ':');
	if (!last)
		return -1;
	const char *first = last;
	while (first > spec && first[-1] != ':')
		first--;
	/* first..last: HOST; before it, HOST_IP and a ':' (or nothing). */
	ip->s_addr = htonl(INADDR_LOOPBACK);
	if (first > spec) {
		char addr[INET_ADDRSTRLEN];
		size_t n = (size_t)(first - 1 - spec);
		if (!n || n >= sizeof(addr))
			return -1;
		memcpy(addr, spec, n);
		addr[n] = '\0';
		if (inet_pton(AF_INET, addr, ip) != 1)
			return -1;
	}
	if (!port_num(first, (size_t)(last - first), host) || !port_num(last + 1, strlen(last + 1), guest))
		return -1;
	return 0;
}

struct proxy {
	int listen_fd;
	struct sockaddr_in to;
	atomic_int active;       /* connections being forwarded */
};

struct conn {
	struct proxy *px;
	int fds[2];
};

static void *splice_conn(void *arg)
{
	struct conn *cn = arg;
	struct proxy *px = cn->px;
	int a = cn->fds[0], b = cn->fds[1];
	free(cn);
	char buf[65536];
	bool a_open = true, b_open = true;
	while (a_open || b_open) {
		struct pollfd p[2] = { { .fd = a_open ? a : -1, .events = POLLIN },
				       { .fd = b_open ? b : -1, .events = POLLIN } };
		if (poll(p, 2, -1) < 0 && errno != EINTR)
			break;
		for (int i = 0; i < 2; i++) {
			if (!p[i].revents)
				continue;
			int from = i ? b : a, to = i ? a : b;
			ssize_t n = read(from, buf, sizeof(buf));
			if (n <= 0) {
				shutdown(to, SHUT_WR);
				if (i)
					b_open = false;
				else
					a_open = false;
				continue;
			}
			for (ssize_t off = 0; off < n;) {
				ssize_t w = write(to, buf + off, (size_t)(n - off));
				if (w <= 0) {
					a_open = b_open = false;
					break;
				}
				off += w;
			}
		}
	}
	close(a);
	close(b);
	atomic_fetch_sub(&px->active, 1);
	return NULL;
}

static void *proxy_main(void *arg)
{
	struct proxy *px = arg;
	for (;;) {
		int c = accept4(px->listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (c < 0) {
			/* Out of descriptors or memory: wait for connections to end. */
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
				usleep(100 * 1000);
			else if (errno != EINTR && errno != ECONNABORTED)
				return NULL;
			continue;
		}
		if (atomic_load(&px->active) >= PROXY_MAX_CONNS) {
			close(c); /* over the bound: refused, the client sees the close */
			continue;
		}
		int g = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (g < 0 || connect(g, (struct sockaddr *)&px->to, sizeof(px->to))) {
			if (g >= 0)
				close(g);
			close(c);
			continue;
		}
		struct conn *cn = malloc(sizeof(*cn));
		pthread_t t;
		if (!cn) {
			close(c);
			close(g);
			continue;
		}
		*cn = (struct conn){ .px = px, .fds = { c, g } };
		atomic_fetch_add(&px->active, 1);
		/* A small stack: the 64 KiB buffer and little else. */
		pthread_attr_t at;
		pthread_attr_init(&at);
		pthread_attr_setstacksize(&at, 256 * 1024);
		pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
		int r = pthread_create(&t, &at, splice_conn, cn);
		pthread_attr_destroy(&at);
		if (r) {
			atomic_fetch_sub(&px->active, 1);
			free(cn);
			close(c);
			close(g);
		}
	}
}

int start_proxies(const struct run_opts *o, int net, struct err *e)
{
	for (int i = 0; i < o->nports; i++) {
		unsigned h, g;
		struct in_addr ip;
		if (proxy_spec_parse(o->ports[i], &ip, &h, &g)) /* checked by run_opts already */
			return err_set(e, "-p '%s': want [HOST_IP:]HOSTPORT:GUESTPORT", o->ports[i]);
		struct proxy *px = calloc(1, sizeof(*px));
		if (!px)
			return err_oom(e, "-p");
		char ips[INET_ADDRSTRLEN];
		inet_ntop(AF_INET, &ip, ips, sizeof(ips));
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)h), .sin_addr = ip };
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
		if (fd >= 0)
			setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, 64))
			return err_sys(e, "-p %s: cannot listen on %s:%u", o->ports[i], ips, h);
		px->listen_fd = fd;
		px->to = (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = htons((uint16_t)g) };
		char gip[32];
		snprintf(gip, sizeof(gip), "172.30.%d.2", net);
		inet_aton(gip, &px->to.sin_addr);
		pthread_t t;
		int r = pthread_create(&t, NULL, proxy_main, px);
		if (r) {
			errno = r;
			return err_sys(e, "-p: thread");
		}
		pthread_detach(t);
	}
	return 0;
}
