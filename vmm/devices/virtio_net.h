/* virtio-net (virtio 1.x, 5.1) over a packet fd: one RX and one TX queue,
 * frames carried with a 12-byte struct virtio_net_hdr_v1 in front, the
 * same layout a tap with IFF_VNET_HDR and TUNSETVNETHDRSZ 12 reads and
 * writes. The backend is any fd with datagram semantics (a tap; in the
 * unit tests one end of a SOCK_DGRAM socketpair), polled on an event loop.
 * Everything the guest hands over is checked: a bad request is completed
 * empty and counted, and the device keeps serving. */
#ifndef SANDBOX_VIRTIO_NET_H
#define SANDBOX_VIRTIO_NET_H

#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include "../config.h"
#include "../evloop.h"
#include "../memory.h"
#include "util.h"
#include "../virtio/mmio.h"

#define VNET_RXQ 0
#define VNET_TXQ 1
#define VNET_HDR_LEN 12u                    /* sizeof(struct virtio_net_hdr_v1) */
#define VNET_MAX_FRAME (65535u + 14u + 4u)  /* a 64 KiB GSO frame, Ethernet + VLAN header */
#define VNET_MIN_FRAME 14u                  /* an Ethernet header */

/* Parse "tap=NAME[,mac=..][,host-ip=A.B.C.D/N][,bridge=BR][,offload=on|off][,mrg_rxbuf=on|off]". */
int vnet_parse_spec(const char *spec, struct net_config *s, struct err *e);
/* The default MAC for tap NAME: locally administered, unicast, stable. */
void vnet_default_mac(const char *name, uint8_t mac[6]);

struct vnet_stats {
	uint64_t tx_packets, tx_bytes;
	uint64_t tx_bad;        /* malformed requests (chain, header, size) */
	uint64_t tx_dropped;    /* well-formed, but the backend refused them */
	uint64_t rx_packets, rx_bytes;
	uint64_t rx_bad;        /* malformed RX buffers, completed empty */
	uint64_t rx_dropped;    /* frames too big for the buffers, runts, bad headers */
	uint64_t rx_stalls;     /* times the backend was unpolled for want of buffers */
};

struct virtio_net;

/* A device over guest memory GM whose frames go to and come from FD; FD is
 * watched on LOOP (added here, unpolled until the driver is ready) and owned
 * by the device from now on, also on failure. IS_TAP: FD takes
 * TUNSETOFFLOAD. OFFLOAD / MRG_RXBUF: offer those features. NAME is for
 * messages. Freed by the device's destroy op. */
struct virtio_net *vnet_create(const struct guest_mem *gm, struct evloop *loop, int fd, bool is_tap,
			       const uint8_t mac[6], bool offload, bool mrg_rxbuf, const char *name,
			       struct err *e);
struct virtio_dev *vnet_dev(struct virtio_net *n);
/* The event-loop callback for FD (exposed for tests). */
void vnet_backend_event(void *ctx, uint32_t events);
/* Is FD currently polled for input? */
bool vnet_backend_polled(struct virtio_net *n);
struct vnet_stats vnet_get_stats(struct virtio_net *n);

#endif
