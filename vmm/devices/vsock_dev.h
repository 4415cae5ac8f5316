/* virtio-vsock device internals shared with the unit tests: creating a
 * device over any guest memory and event loop, its statistics, and a look
 * at one connection's flow-control counters. The VMM itself only uses
 * vsock_device_init() (modules.h). */
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
	/* In-process endpoint (sandbox run's agent channel): the first guest
	 * connect to LOCAL_PORT gets LOCAL_FD (a non-blocking stream socket
	 * the VMM owns) instead of a connect to "uds_PORT"; later ones are
	 * refused. Works without any path, so inside the jail too. */
	bool has_local;
	uint32_t local_port;
	int local_fd;
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
	bool established;
	uint32_t rx_cnt, fwd_cnt;        /* guest -> host: received, written to the socket */
	uint32_t buffered;               /* bytes held by the VMM for a slow socket */
	uint32_t tx_cnt;                 /* host -> guest: payload bytes sent */
	uint32_t peer_buf_alloc, peer_fwd_cnt;
	bool reading;                    /* the socket is being polled for input */
	bool guest_shut_send, guest_shut_rcv, host_eof;
};

struct vsock;

/* Parse "cid=N,uds=PATH". */
int vsock_parse(const char *spec, struct vsock_config *cfg, struct err *e);
/* Create the device: listen on cfg->uds and watch the device's sockets
 * on LOOP. The virtio_dev is ready for virtio_attach() (or, in tests, for
 * raise_irq/kick callbacks). */
struct vsock *vsock_create(const struct vsock_config *cfg, struct evloop *loop, const struct guest_mem *gm,
			   struct err *e);
struct virtio_dev *vsock_virtio(struct vsock *vs);
/* Free the device (the ops->destroy of an attached device). The event
 * loop must not be running, or must have been stopped. */
void vsock_destroy(struct virtio_dev *d);

const struct vsock_stats *vsock_get_stats(struct vsock *vs);
unsigned vsock_nconns(struct vsock *vs);
/* Connection HOST_PORT <-> GUEST_PORT: false if there is none. */
bool vsock_conn_info(struct vsock *vs, uint32_t host_port, uint32_t guest_port, struct vsock_conn_info *out);

#endif
