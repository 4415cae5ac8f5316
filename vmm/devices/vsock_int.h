/* virtio-vsock internals shared by the device (vsock_dev.c) and the
 * connection layer (vsock_conn.c). Backends do not see this: they only
 * know struct vsock_backend_ops (vsock_dev.h). */
#ifndef SANDBOX_VSOCK_INT_H
#define SANDBOX_VSOCK_INT_H

#include <stddef.h>
#include <sys/uio.h>

#include "vsock_dev.h"
#include "../virtio/virtq.h"

#define RXQ 0
#define TXQ 1
#define EVQ 2
#define VSOCK_HDR_SIZE 44u   /* sizeof(struct virtio_vsock_hdr), checked in vsock_dev.c */
#define NBUCKETS 256
#define RST_QUEUE 64         /* pending RSTs for packets without a connection */
#define RX_BATCH 32          /* RX buffers filled by one readv (of 4 KiB: Linux's) */
#define VSOCK_RX_QUEUE_MAX 64 /* the RX queue's QueueNumMax: its buffers are guest RAM (vsock_dev.c) */
#define RX_IOV 64
#define TX_IOV 64
#define HELLO_MAX 32         /* a host connection's opening line, with its newline */

struct link {
	struct link *prev, *next;
};

static inline void list_init(struct link *h) { h->prev = h->next = h; }
static inline bool list_empty(const struct link *h) { return h->next == h; }
static inline void list_add_tail(struct link *h, struct link *n)
{
	n->prev = h->prev;
	n->next = h;
	h->prev->next = n;
	h->prev = n;
}
static inline void list_del(struct link *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	n->prev = n->next = n;
}
#define container(p, type, member) ((type *)((char *)(p) - offsetof(type, member)))

/* What an entry of the device's epoll set is: the first member of a
 * connection and of a backend slot. */
enum vsock_watch { W_CONN, W_LISTEN };

struct vsock_backend {
	enum vsock_watch kind;          /* first: W_LISTEN */
	const struct vsock_backend_ops *ops;
	void *ctx;
	uint64_t port;                  /* a host port, or VSOCK_ANY_PORT */
};

enum cstate {
	C_HELLO,        /* host side accepted, reading its opening request */
	C_REQUEST,      /* OP_REQUEST to send to the guest */
	C_REQUEST_SENT, /* waiting for the guest's RESPONSE or RST */
	C_RESPONDING,   /* guest connected to us: OP_RESPONSE to send */
	C_ESTABLISHED,
	C_DEAD,         /* socket closed; maybe an RST to send, then freed */
};

struct conn {
	enum vsock_watch kind;          /* first: W_CONN */
	struct conn *hnext;             /* hash chain, while in_table */
	struct link all, ctl, rxw, grave;
	bool in_table, on_ctl, rx_waiting, buried;
	int fd;
	bool registered;                /* in the device's epoll set */
	uint32_t ep_events;
	enum cstate state;
	struct vsock_backend *be;       /* host-initiated: the backend it came from */
	uint32_t host_port, guest_port;
	uint64_t serial;                /* this device's count of connections at its making */
	char line[HELLO_MAX];           /* the opening request so far */
	unsigned nline;
	/* guest -> host */
	uint32_t rx_cnt;                /* payload bytes received from the guest */
	uint32_t fwd_cnt;               /* ... written to the socket */
	uint32_t last_fwd_sent;         /* fwd_cnt as the guest last saw it */
	uint8_t *buf;                   /* ring of VSOCK_BUF_ALLOC bytes, lazily */
	uint32_t buf_head, buf_len;     /* invariant: buf_len == rx_cnt - fwd_cnt */
	/* host -> guest */
	uint32_t tx_cnt;                /* payload bytes sent to the guest */
	uint32_t peer_buf_alloc, peer_fwd_cnt;
	bool guest_shut_send, guest_shut_rcv;
	bool host_eof;                  /* read EOF from the socket */
	bool wr_shut;                   /* shutdown(SHUT_WR) done */
	bool pend_shutdown, pend_credit, pend_rst;
};

struct rst_req {
	uint32_t host_port, guest_port;
	uint16_t type;
};

/* A guest packet whose header passed the device's checks (readable, from
 * the guest's CID to ours, a known op). */
struct vsock_pkt {
	uint32_t host_port, guest_port;
	uint32_t len;                   /* as the header claims it */
	uint64_t room;                  /* payload bytes the chain really holds */
	uint16_t type, op;
	uint32_t flags, buf_alloc, fwd_cnt;
	const struct virtq_chain *ch;   /* payload at VSOCK_HDR_SIZE */
};

struct vsock {
	struct virtio_dev dev;          /* first: d->priv and the container are the same */
	uint64_t cid;
	uint8_t config[8];              /* le64 guest_cid */
	struct evloop *loop;
	bool on_loop;
	int epfd;
	struct vsock_backend be[VSOCK_MAX_BACKENDS];
	unsigned nbe;
	/* device: queues and packets without a connection */
	bool rx_starved;
	bool rx_used, tx_used;          /* pushed since the last notify */
	struct rst_req rst[RST_QUEUE];
	unsigned rst_head, rst_n;
	struct vsock_stats stats;
	struct virtq_chain txc;         /* the TX packet in progress */
	struct virtq_chain rxc[RX_BATCH]; /* RX buffers being filled */
	struct iovec iov[RX_IOV > TX_IOV ? RX_IOV : TX_IOV];
	/* connections (vsock_conn.c) */
	struct conn *table[NBUCKETS];
	struct link conns, ctl, rx_wait, grave;
	unsigned nconns;
	uint32_t next_port;
	uint64_t next_serial;           /* tells connections on the same ports apart (tests) */
};

/* vsock_dev.c: packets to the guest */
int vsock_rx_get(struct vsock *vs, struct virtq_chain *c, bool data, bool no_skip);
void vsock_rx_unpop(struct vsock *vs, unsigned n);
void vsock_rx_put(struct vsock *vs, const struct virtq_chain *c, uint32_t host_port, uint32_t guest_port,
		  uint16_t op, uint16_t type, uint32_t len, uint32_t flags, uint32_t fwd_cnt);
void vsock_rst_no_conn(struct vsock *vs, uint32_t host_port, uint32_t guest_port, uint16_t type);
bool vsock_rst_pending(const struct vsock *vs);
void vsock_flush_ctl(struct vsock *vs);
struct vsock_backend *vsock_backend_for(struct vsock *vs, uint32_t port);

/* vsock_conn.c */
void conns_init(struct vsock *vs);
void conn_packet(struct vsock *vs, const struct vsock_pkt *p);
void conn_event(struct vsock *vs, struct conn *c, uint32_t events);
void conn_accept(struct vsock *vs, struct vsock_backend *be, int fd);
bool conns_flush_ctl(struct vsock *vs);
void conns_rx_ready(struct vsock *vs);
void conns_reap(struct vsock *vs);
void conns_drop_all(struct vsock *vs);
/* vsock_conn.c, for its two companions below */
struct conn *conn_new(struct vsock *vs, int fd, enum cstate st);
struct conn *conn_lookup(struct vsock *vs, uint32_t host_port, uint32_t guest_port);
void conn_table_add(struct vsock *vs, struct conn *c);
void conn_ctl_enqueue(struct vsock *vs, struct conn *c);
void conn_update_events(struct vsock *vs, struct conn *c);

/* vsock_conn_info.c: looking in (tests, fuzzing) */
const char *conns_check(struct vsock *vs);

/* vsock_conn_snap.c: snapshots */
long conns_save(struct vsock *vs, uint8_t *buf, size_t cap, struct err *e);
int conns_restore(struct vsock *vs, const uint8_t *buf, size_t len, struct err *e);

#endif
