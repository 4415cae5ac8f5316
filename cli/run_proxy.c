/* `sandbox run`: -p, TCP from this host's port to the guest's. */

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
#include "relay.h"
#include "run_impl.h"
#include "state.h"


/* ------------------------------------------------------------------ */
/* -p: TCP from this host's port to the guest's */

struct proxy {
	int listen_fd;
	struct sockaddr_in to;
};

static void *splice_conn(void *arg)
{
	int *fds = arg, a = fds[0], b = fds[1];
	free(fds);
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
	return NULL;
}

static void *proxy_main(void *arg)
{
	struct proxy *px = arg;
	for (;;) {
		int c = accept4(px->listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (c < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			return NULL;
		}
		int g = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (g < 0 || connect(g, (struct sockaddr *)&px->to, sizeof(px->to))) {
			if (g >= 0)
				close(g);
			close(c);
			continue;
		}
		int *fds = malloc(2 * sizeof(int));
		pthread_t t;
		if (!fds) {
			close(c);
			close(g);
			continue;
		}
		fds[0] = c;
		fds[1] = g;
		if (pthread_create(&t, NULL, splice_conn, fds)) {
			free(fds);
			close(c);
			close(g);
			continue;
		}
		pthread_detach(t);
	}
}

int start_proxies(const struct run_opts *o, int net)
{
	for (int i = 0; i < o->nports; i++) {
		unsigned h, g;
		sscanf(o->ports[i], "%u:%u", &h, &g);
		struct proxy *px = calloc(1, sizeof(*px));
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
		struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)h),
					 .sin_addr.s_addr = htonl(INADDR_ANY) };
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (!px || fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, 64))
			return cli_fail("-p %s: cannot listen on port %u: %s", o->ports[i], h, strerror(errno));
		px->listen_fd = fd;
		px->to = (struct sockaddr_in){ .sin_family = AF_INET, .sin_port = htons((uint16_t)g) };
		char ip[32];
		snprintf(ip, sizeof(ip), "172.30.%d.2", net);
		inet_aton(ip, &px->to.sin_addr);
		pthread_t t;
		if (pthread_create(&t, NULL, proxy_main, px))
			return cli_fail("-p: thread: %s", strerror(errno));
		pthread_detach(t);
	}
	return 0;
}
