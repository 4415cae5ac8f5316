/* virtio-vsock: the device's interface for whoever sets it up (the --vsock
 * module in virtio_vsock.c, the unit tests, the fuzz target).
 *
 * Layers (virtio_vsock.c's header says what the device does):
 *   vsock_dev.c    the virtio device: queues, packet headers, RX buffers
 *   vsock_conn.c   the connection state machine and credit, both directions
 *   vsock_unix.c   backend: the Unix-socket muxer (Firecracker's model)
 *   vsock_agent.c  backend: one in-process stream socket (sandbox run's agent)
 * joined by struct vsock_backend_ops below. The device knows no port
 * numbers: a backend is registered for one host port, or for any port. */
#ifndef SANDBOX_VSOCK_DEV_H
#define SANDBOX_VSOCK_DEV_H

#include <stdbool.h>
#include <stdint.h>

#include "../evloop.h"
#include "../memory.h"
#include "util.h"
#include "../virtio/mmio.h"

#define VSOCK_HOST_CID 2
#define VSOCK_BUF_ALLOC (256u * 1024)   /* per-connection buffer we advertise */
#define VSOCK_MAX_PKT (64u * 1024)      /* largest payload we send in one packet */
#define VSOCK_MAX_CONNS 256             /* connections, including half-open ones */
#define VSOCK_HOST_PORT_BASE (1u << 30) /* first host port for host-initiated connections */

struct vsock_config {
	uint64_t cid;          /* guest CID, >= 3 */
	char uds[108];         /* host Unix socket path (sun_path) */
};

struct vsock_stats {
	uint64_t tx_pkts, rx_pkts;       /* packets from / to the guest */
	uint64_t tx_bytes, rx_bytes;     /* payload bytes from / to the guest */
	uint64_t tx_bad;                 /* guest packets dropped as malformed */
	uint64_t rx_bad;                 /* unusable RX buffers returned empty */
	uint64_t rst_sent, rst_dropped;  /* RSTs sent; RSTs lost to a full queue */
	uint64_t credit_updates;         /* CREDIT_UPDATEs sent */
	uint64_t credit_violations;      /* guest sent beyond our buffer: RST */
	uint64_t refused;                /* guest connects nobody answered */
	uint64_t rx_stalls;              /* times we ran out of RX buffers */
	uint64_t host_conns;             /* Unix connections accepted */
};

/* A connection's state as the tests see it. */
struct vsock_conn_info {
	uint64_t serial;                 /* one connection's, never reused by the device */
	uint32_t host_port, guest_port;
	bool established;
	uint32_t rx_cnt, fwd_cnt;        /* guest -> host: received, written to the socket */
	uint32_t buffered;               /* bytes held by the VMM for a slow socket */
	uint32_t tx_cnt;                 /* host -> guest: payload bytes sent */
	uint32_t peer_buf_alloc, peer_fwd_cnt;
	bool reading;                    /* the socket is being polled for input */
	bool guest_shut_send, guest_shut_rcv, host_eof;
};

struct vsock;

/* Host ends of connections. A backend hands the connection layer
 * connected, non-blocking stream sockets; the data then moves between
 * guest memory and the socket directly (readv into RX buffers, sendmsg
 * from TX buffers), so the ops are about making connections, not moving
 * bytes. Every op runs on the device thread with the device lock held and
 * must not block. */
struct vsock_backend_ops {
	const char *name;
	/* A guest connect to host port PORT: a connected socket, which the
	 * connection owns from now on, or -1 (the guest gets RST). */
	int (*connect)(void *ctx, uint32_t port);
	/* Host-initiated connections; all NULL for a backend without them.
	 * listen_fd: the socket the device polls for incoming connections;
	 * accept: the next one, or -1 when none is pending. */
	int (*listen_fd)(void *ctx);
	int (*accept)(void *ctx);
	/* Read the host's opening request on a new connection's socket FD,
	 * without consuming what follows it (that is data for the guest).
	 * LINE (LINE_SIZE bytes, zeroed at accept) and *NLINE keep what was
	 * read so far. Returns 1 with *GUEST_PORT, 0 while more is to come,
	 * -1 to drop the connection. */
	int (*handshake)(void *ctx, int fd, char *line, unsigned line_size, unsigned *nline, uint32_t *guest_port);
	/* The guest accepted the host connection FD as HOST_PORT: tell the
	 * host end. -1: the host end is gone (the guest gets RST). */
	int (*accepted)(void *ctx, int fd, uint32_t host_port);
	/* Free CTX: the device is being destroyed. */
	void (*destroy)(void *ctx);
};

#define VSOCK_ANY_PORT UINT64_MAX /* vsock_add_backend(): the default backend */
#define VSOCK_MAX_BACKENDS 4

/* Parse "cid=N,uds=PATH" (virtio_vsock.c). */
int vsock_parse(const char *spec, struct vsock_config *cfg, struct err *e);
/* The device with the Unix-socket muxer as its default backend (listening
 * on cfg->uds), watching its sockets on LOOP (virtio_vsock.c). The
 * virtio_dev is ready for virtio_attach() (or, in tests, for
 * raise_irq/kick callbacks). */
struct vsock *vsock_create(const struct vsock_config *cfg, struct evloop *loop, const struct guest_mem *gm,
			   struct err *e);

/* The bare device for guest CID, with no backend: every guest connect is
 * refused until one is added (vsock_dev.c). */
struct vsock *vsock_dev_new(uint64_t cid, struct evloop *loop, const struct guest_mem *gm, struct err *e);
/* Serve guest connects to host port PORT (or any port without a backend
 * of its own: VSOCK_ANY_PORT) with OPS. On success the device owns CTX
 * (ops->destroy when it is destroyed); on failure the caller still does.
 * Before the device is attached. */
int vsock_add_backend(struct vsock *vs, uint64_t port, const struct vsock_backend_ops *ops, void *ctx,
		      struct err *e);
/* The Unix-socket muxer listening on UDS (vsock_unix.c), as the default
 * backend. */
int vsock_add_unix(struct vsock *vs, const char *uds, struct err *e);
/* The in-process endpoint for PORT (vsock_agent.c): the first guest
 * connect to PORT gets FD (a non-blocking stream socket), later ones are
 * refused. Needs no path, so it works inside the jail too. On success the
 * device owns FD, on failure the caller still does. */
int vsock_add_agent(struct vsock *vs, uint32_t port, int fd, struct err *e);

struct virtio_dev *vsock_virtio(struct vsock *vs);
/* Free the device and its backends (the ops->destroy of an attached
 * device). The event loop must not be running, or must have been stopped. */
void vsock_destroy(struct virtio_dev *d);

const struct vsock_stats *vsock_get_stats(struct vsock *vs);
unsigned vsock_nconns(struct vsock *vs);
/* Connection HOST_PORT <-> GUEST_PORT: false if there is none. */
bool vsock_conn_info(struct vsock *vs, uint32_t host_port, uint32_t guest_port, struct vsock_conn_info *out);
/* Call FN for every live connection (tests and the fuzz target). */
void vsock_foreach_conn(struct vsock *vs, void (*fn)(void *arg, const struct vsock_conn_info *ci), void *arg);
/* Check the device's own bookkeeping (ring sizes against the counters,
 * list and table membership, bounds): NULL if sound, else what is not.
 * For tests and the fuzz target; takes no lock. */
const char *vsock_check_invariants(struct vsock *vs);

#endif
