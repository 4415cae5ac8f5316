/* virtio-vsock backend: one in-process endpoint. The first guest connect
 * to its port gets a stream socket the VMM already holds (sandbox run's
 * agent channel: the relay thread has the other end, vmm/relay.c); later
 * connects are refused, so nothing in the guest can take the channel over
 * once the agent has it. No path: it works inside the jail too. */
#include "vsock_dev.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

struct vsock_agent {
	int fd;
	bool used;                      /* fd went to a connection */
};

static int agent_connect(void *ctx, uint32_t port)
{
	struct vsock_agent *a = ctx;
	(void)port;
	if (a->used) {
		errno = ECONNREFUSED;
		return -1;
	}
	a->used = true; /* the connection owns the socket now */
	return a->fd;
}

static void agent_destroy(void *ctx)
{
	struct vsock_agent *a = ctx;
	if (!a->used)
		close(a->fd);
	free(a);
}

static const struct vsock_backend_ops agent_ops = {
	.name = "agent",
	.connect = agent_connect,
	.destroy = agent_destroy,
};

int vsock_add_agent(struct vsock *vs, uint32_t port, int fd, struct err *e)
{
	struct vsock_agent *a = calloc(1, sizeof(*a));
	if (!a)
		return err_set(e, "--vsock: out of memory");
	a->fd = fd;
	if (vsock_add_backend(vs, port, &agent_ops, a, e)) {
		free(a); /* the caller keeps FD */
		return -1;
	}
	return 0;
}
