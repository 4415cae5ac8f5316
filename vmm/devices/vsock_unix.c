/* virtio-vsock backend: the Unix-socket muxer, Firecracker's host side.
 * The VMM listens on PATH. A host process connects there and writes
 * "CONNECT <port>\n"; once the guest accepts it reads "OK <host_port>\n",
 * then the stream is the guest connection's. A guest connect to host port
 * P connects to the Unix socket "PATH_P". */
#include "vsock_dev.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

struct vsock_unix {
	char path[108];                 /* sun_path */
	int listen_fd;
};

/* Listen on PATH; a stale socket file (nobody accepting) is replaced, a
 * live one or any other file is an error. */
static int listen_uds(const char *path, struct err *e)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return err_sys(e, "--vsock: socket");
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0)
		goto bound;
	if (errno == EADDRINUSE) {
		struct stat st;
		int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		bool stale = lstat(path, &st) == 0 && S_ISSOCK(st.st_mode) && probe >= 0 &&
			     connect(probe, (struct sockaddr *)&a, sizeof(a)) && errno == ECONNREFUSED;
		if (probe >= 0)
			close(probe);
		if (!stale) {
			close(fd);
			errno = EADDRINUSE;
			return err_sys(e, "--vsock: %s", path);
		}
		unlink(path);
		if (bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0)
			goto bound;
	}
	err_sys(e, "--vsock: bind %s", path);
	close(fd);
	return -1;
bound:
	if (listen(fd, 64)) {
		err_sys(e, "--vsock: listen %s", path);
		close(fd);
		unlink(path);
		return -1;
	}
	return fd;
}

static int unix_connect(void *ctx, uint32_t port)
{
	struct vsock_unix *u = ctx;
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int n = snprintf(a.sun_path, sizeof(a.sun_path), "%s_%u", u->path, port);
	if (n < 0 || (size_t)n >= sizeof(a.sun_path))
		return -1;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	/* Non-blocking: a listener with a full backlog is a refusal, not a
	 * stall of the device thread. */
	if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		close(fd);
		fd = -1;
	}
	return fd;
}

static int unix_listen_fd(void *ctx) { return ((struct vsock_unix *)ctx)->listen_fd; }

static int unix_accept(void *ctx)
{
	return accept4(((struct vsock_unix *)ctx)->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
}

static bool parse_connect(const char *line, uint32_t *port)
{
	if (strncmp(line, "CONNECT ", 8))
		return false;
	const char *p = line + 8;
	uint64_t v = 0;
	if (*p < '0' || *p > '9')
		return false;
	for (; *p >= '0' && *p <= '9'; p++) {
		v = v * 10 + (uint64_t)(*p - '0');
		if (v > UINT32_MAX)
			return false;
	}
	if (*p == '\r')
		p++;
	if (*p != '\0')
		return false;
	*port = (uint32_t)v;
	return true;
}

/* Read "CONNECT <port>\n" without consuming anything after the newline:
 * that is already data for the guest. */
static int unix_handshake(void *ctx, int fd, char *line, unsigned size, unsigned *nline, uint32_t *port)
{
	(void)ctx;
	char tmp[64];
	size_t room = size - 1 - *nline;
	if (room > sizeof(tmp))
		room = sizeof(tmp);
	ssize_t r = recv(fd, tmp, room, MSG_PEEK | MSG_DONTWAIT);
	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return 0;
	if (r <= 0)
		return -1;
	char *nl = memchr(tmp, '\n', (size_t)r);
	size_t take = nl ? (size_t)(nl - tmp) + 1 : (size_t)r;
	if (recv(fd, tmp, take, MSG_DONTWAIT) != (ssize_t)take)
		return -1;
	memcpy(line + *nline, tmp, take);
	*nline += (unsigned)take;
	if (!nl)
		return *nline >= size - 1 ? -1 : 0; /* no newline in a sane length */
	line[*nline - 1] = '\0';
	return parse_connect(line, port) ? 1 : -1;
}

static int unix_accepted(void *ctx, int fd, uint32_t host_port)
{
	(void)ctx;
	char ok[32];
	int n = snprintf(ok, sizeof(ok), "OK %u\n", host_port);
	/* A fresh socket's buffer is empty: this cannot be short unless the
	 * host end is gone. */
	return send(fd, ok, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL) == n ? 0 : -1;
}

static void unix_destroy(void *ctx)
{
	struct vsock_unix *u = ctx;
	if (u->listen_fd >= 0) {
		close(u->listen_fd);
		unlink(u->path);
	}
	free(u);
}

static const struct vsock_backend_ops unix_ops = {
	.name = "unix",
	.connect = unix_connect,
	.listen_fd = unix_listen_fd,
	.accept = unix_accept,
	.handshake = unix_handshake,
	.accepted = unix_accepted,
	.destroy = unix_destroy,
};

int vsock_add_unix(struct vsock *vs, const char *uds, struct err *e)
{
	struct vsock_unix *u = calloc(1, sizeof(*u));
	if (!u)
		return err_set(e, "--vsock: out of memory");
	if (strlen(uds) >= sizeof(u->path)) {
		free(u);
		return err_set(e, "--vsock: uds path longer than %zu bytes", sizeof(u->path) - 1);
	}
	snprintf(u->path, sizeof(u->path), "%s", uds);
	u->listen_fd = listen_uds(uds, e);
	if (u->listen_fd < 0) {
		free(u);
		return -1;
	}
	if (vsock_add_backend(vs, VSOCK_ANY_PORT, &unix_ops, u, e)) {
		unix_destroy(u);
		return -1;
	}
	return 0;
}
