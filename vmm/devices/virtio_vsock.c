/* virtio-vsock (virtio 1.x, 5.10): stream sockets between the guest and
 * Unix sockets on the host, in Firecracker's model.
 *
 *   --vsock cid=N,uds=PATH
 *
 * Host-initiated: a host process connects to the Unix socket PATH (the
 * VMM listens there) and writes "CONNECT <port>\n"; the VMM asks the guest
 * (OP_REQUEST to that port), answers "OK <host_port>\n" when the guest
 * accepts (OP_RESPONSE) or closes the Unix connection when it refuses
 * (OP_RST), then relays bytes both ways. Guest-initiated: a guest connect
 * to (CID 2, port P) makes the VMM connect to the Unix socket "PATH_P";
 * if nothing listens there the guest gets OP_RST.
 *
 * Connections are keyed by (host port, guest port). Flow control is the
 * spec's credit scheme in both directions:
 *  - guest -> host: we advertise VSOCK_BUF_ALLOC bytes per connection and
 *    our fwd_cnt (bytes written to the Unix socket). Payload goes straight
 *    from guest memory to the socket; what the socket does not take waits
 *    in a per-connection ring of at most VSOCK_BUF_ALLOC bytes, so a slow
 *    reader runs the guest out of credit instead of growing our memory. A
 *    guest that sends beyond its credit is reset, never silently cut.
 *    CREDIT_UPDATE goes out when the guest's view of our free space falls
 *    below half and we have drained more.
 *  - host -> guest: we read a socket only while the guest's credit
 *    (buf_alloc - (tx_cnt - fwd_cnt) from its headers) is positive and it
 *    has RX buffers; otherwise the socket leaves the epoll set until a
 *    CREDIT_UPDATE or an RX kick, so the host writer blocks in its socket.
 *    Reads go straight into the guest's RX buffers (several per readv).
 * Half-close: Unix EOF -> SHUTDOWN(SEND) to the guest after the data;
 * guest SHUTDOWN(SEND) -> shutdown(SHUT_WR) once our ring is drained;
 * guest SHUTDOWN(both) -> RST back and close once drained.
 *
 * Every guest packet is checked: a readable 44-byte header, len within the
 * chain, src_cid = the guest's, dst_cid = 2, a known op and type. A bad
 * packet is dropped (or answered with RST when it names a connection or
 * an unsupported type) and the device keeps serving.
 *
 * Threads: all socket work runs on the VM's device thread. The device's
 * sockets live in their own epoll set, registered as one fd on the VM's
 * event loop; its callback takes the device lock *before* collecting
 * events, so a vCPU thread resetting the device (lock held) can free
 * connections without racing a half-delivered event. Connections closed
 * while a batch is being handled are freed at the end of it. */
#include "vsock_dev.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_vsock.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <unistd.h>

#include "../vm.h"
#include "../../common/proto.h"
#include "modules.h"

const char vsock_usage[] =
	"--vsock cid=N,uds=PATH\n"
	"  virtio-vsock device: guest CID N (3 or more) with Unix-socket host ends\n"
	"  (Firecracker's model). The VMM listens on PATH: a host process connects,\n"
	"  writes \"CONNECT <port>\\n\" and gets \"OK <host_port>\\n\" once a guest\n"
	"  socket on <port> accepts (the connection closes if none does). A guest\n"
	"  connect to CID 2 port P goes to the Unix socket PATH_P. PATH must not\n"
	"  contain ','; a stale socket file at PATH is replaced.\n";

#define RXQ 0
#define TXQ 1
#define EVQ 2
#define HDR_SIZE ((uint32_t)sizeof(struct virtio_vsock_hdr))
#define NBUCKETS 256
#define RST_QUEUE 64         /* pending RSTs for packets without a connection */
#define RX_BATCH 8           /* RX buffers filled by one readv */
#define RX_IOV 64
#define TX_IOV 64
#define TX_BUDGET 256        /* TX chains per kick before yielding */
#define PUMP_ROUNDS 4        /* readv batches per socket event */
#define EP_BATCH 64

struct link {
	struct link *prev, *next;
};

static void list_init(struct link *h) { h->prev = h->next = h; }
static bool list_empty(const struct link *h) { return h->next == h; }
static void list_add_tail(struct link *h, struct link *n)
{
	n->prev = h->prev;
	n->next = h;
	h->prev->next = n;
	h->prev = n;
}
static void list_del(struct link *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	n->prev = n->next = n;
}
#define container(p, type, member) ((type *)((char *)(p) - offsetof(type, member)))

enum cstate {
	C_HELLO,        /* host side accepted, reading "CONNECT <port>\n" */
	C_REQUEST,      /* OP_REQUEST to send to the guest */
	C_REQUEST_SENT, /* waiting for the guest's RESPONSE or RST */
	C_RESPONDING,   /* guest connected to us: OP_RESPONSE to send */
	C_ESTABLISHED,
	C_DEAD,         /* socket closed; maybe an RST to send, then freed */
};

struct conn {
	struct conn *hnext;             /* hash chain, while in_table */
	struct link all, ctl, rxw, grave;
	bool in_table, on_ctl, rx_waiting, buried;
	int fd;
	bool registered;                /* in the device's epoll set */
	uint32_t ep_events;
	enum cstate state;
	uint32_t host_port, guest_port;
	char line[32];                  /* the CONNECT line so far */
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

struct vsock {
	struct virtio_dev dev;          /* first: d->priv and the container are the same */
	struct vsock_config cfg;
	uint8_t config[8];              /* le64 guest_cid */
	struct evloop *loop;
	bool on_loop;
	int epfd, listen_fd;
	bool local_used;                /* cfg.local_fd went to a connection */
	struct conn *table[NBUCKETS];
	struct link conns, ctl, rx_wait, grave;
	unsigned nconns;
	uint32_t next_port;
	bool rx_starved;
	bool rx_used, tx_used;          /* pushed since the last notify */
	struct rst_req rst[RST_QUEUE];
	unsigned rst_head, rst_n;
	struct vsock_stats stats;
	struct virtq_chain txc;         /* the TX packet in progress */
	struct virtq_chain rxc[RX_BATCH]; /* RX buffers being filled */
	struct iovec iov[RX_IOV > TX_IOV ? RX_IOV : TX_IOV];
};

static struct vsock *to_vs(const struct virtio_dev *d) { return d->priv; }

static void update_events(struct vsock *vs, struct conn *c);
static void conn_kill(struct vsock *vs, struct conn *c, bool rst);

/* ------------------------------------------------------------------ */
/* connection table */

static unsigned bucket(uint32_t host_port, uint32_t guest_port)
{
	uint32_t h = host_port * 0x9e3779b1u ^ guest_port * 0x85ebca6bu;
	return (h ^ (h >> 16)) % NBUCKETS;
}

static struct conn *lookup(struct vsock *vs, uint32_t host_port, uint32_t guest_port)
{
	for (struct conn *c = vs->table[bucket(host_port, guest_port)]; c; c = c->hnext)
		if (c->host_port == host_port && c->guest_port == guest_port)
			return c;
	return NULL;
}

static void table_add(struct vsock *vs, struct conn *c)
{
	struct conn **b = &vs->table[bucket(c->host_port, c->guest_port)];
	c->hnext = *b;
	*b = c;
	c->in_table = true;
}

static void table_del(struct vsock *vs, struct conn *c)
{
	if (!c->in_table)
		return;
	for (struct conn **p = &vs->table[bucket(c->host_port, c->guest_port)]; *p; p = &(*p)->hnext)
		if (*p == c) {
			*p = c->hnext;
			break;
		}
	c->in_table = false;
}

static struct conn *conn_new(struct vsock *vs, int fd, enum cstate st)
{
	struct conn *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->fd = fd;
	c->state = st;
	list_init(&c->ctl);
	list_init(&c->rxw);
	list_init(&c->grave);
	list_add_tail(&vs->conns, &c->all);
	vs->nconns++;
	return c;
}

static void conn_close_fd(struct conn *c)
{
	if (c->fd >= 0)
		close(c->fd); /* also leaves the epoll set */
	c->fd = -1;
	c->registered = false;
	c->ep_events = 0;
}

/* Unlink C everywhere; it is freed by reap() when the current batch of
 * events is done (an event for it may still be in that batch). */
static void conn_bury(struct vsock *vs, struct conn *c)
{
	if (c->buried)
		return;
	conn_close_fd(c);
	table_del(vs, c);
	list_del(&c->all);
	list_del(&c->ctl);
	list_del(&c->rxw);
	c->on_ctl = c->rx_waiting = false;
	c->state = C_DEAD;
	c->buried = true;
	list_add_tail(&vs->grave, &c->grave);
	vs->nconns--;
}

static void conn_free(struct conn *c)
{
	free(c->buf);
	free(c);
}

static void reap(struct vsock *vs)
{
	while (!list_empty(&vs->grave)) {
		struct conn *c = container(vs->grave.next, struct conn, grave);
		list_del(&c->grave);
		conn_free(c);
	}
}

static void ctl_enqueue(struct vsock *vs, struct conn *c)
{
	if (!c->on_ctl && !c->buried) {
		list_add_tail(&vs->ctl, &c->ctl);
		c->on_ctl = true;
	}
}

/* The guest's free space for our data on C. */
static uint32_t conn_credit(const struct conn *c)
{
	uint32_t used = c->tx_cnt - c->peer_fwd_cnt;
	return used >= c->peer_buf_alloc ? 0 : c->peer_buf_alloc - used;
}

/* ------------------------------------------------------------------ */
/* RX: packets to the guest */

/* Take the next RX buffer into *C that can hold a header (and, with DATA,
 * a byte of payload). Unusable chains are returned empty. With NO_SKIP
 * (filling several buffers in one go) an unusable chain is left in the
 * ring and the batch ends, so the batch's chains stay contiguous and can
 * be given back with rx_unpop(). Returns 1, or 0 with none available. */
static int rx_get(struct vsock *vs, struct virtq_chain *c, bool data, bool no_skip)
{
	struct virtio_dev *d = &vs->dev;
	struct virtq *q = &d->vq[RXQ];
	if (!d->active || !q->ready || q->broken)
		return 0;
	for (unsigned tries = 0; tries <= 2u * VIRTQ_MAX_SIZE; tries++) {
		int r = virtq_pop(q, d->gm, c);
		if (r < 0) {
			virtio_needs_reset(d);
			return 0;
		}
		if (r == 0) {
			/* Ask for a kick when buffers come, then look again. */
			virtq_update_avail_event(q, d->gm);
			if (virtq_has_work(q, d->gm))
				continue;
			if (!vs->rx_starved)
				vs->stats.rx_stalls++;
			vs->rx_starved = true;
			return 0;
		}
		if (!c->err && c->write_len >= HDR_SIZE + (data ? 1 : 0))
			return 1;
		if (no_skip) {
			virtq_unpop(q, 1);
			return 0;
		}
		virtq_push(q, d->gm, c->head, 0);
		vs->rx_used = true;
		vs->stats.rx_bad++;
	}
	return 0;
}

/* Give back the last N buffers taken with rx_get() (unused, in order). */
static void rx_unpop(struct vsock *vs, unsigned n)
{
	virtq_unpop(&vs->dev.vq[RXQ], (uint16_t)n);
}

static void put_hdr(struct vsock *vs, const struct virtq_chain *c, uint32_t host_port, uint32_t guest_port,
		    uint16_t op, uint16_t type, uint32_t len, uint32_t flags, uint32_t buf_alloc, uint32_t fwd_cnt)
{
	struct virtio_vsock_hdr h = {
		.src_cid = htole64(VSOCK_HOST_CID),
		.dst_cid = htole64(vs->cfg.cid),
		.src_port = htole32(host_port),
		.dst_port = htole32(guest_port),
		.len = htole32(len),
		.type = htole16(type),
		.op = htole16(op),
		.flags = htole32(flags),
		.buf_alloc = htole32(buf_alloc),
		.fwd_cnt = htole32(fwd_cnt),
	};
	virtq_chain_write(vs->dev.gm, c, 0, &h, HDR_SIZE);
	virtq_push(&vs->dev.vq[RXQ], vs->dev.gm, c->head, HDR_SIZE + len);
	vs->rx_used = true;
	vs->stats.rx_pkts++;
	vs->stats.rx_bytes += len;
}

/* A header-only packet on C (fills in our credit). */
static bool send_ctl(struct vsock *vs, struct conn *c, uint16_t op, uint32_t flags)
{
	if (!rx_get(vs, &vs->rxc[0], false, false))
		return false;
	put_hdr(vs, &vs->rxc[0], c->host_port, c->guest_port, op, VIRTIO_VSOCK_TYPE_STREAM, 0, flags,
		VSOCK_BUF_ALLOC, c->fwd_cnt);
	c->last_fwd_sent = c->fwd_cnt;
	c->pend_credit = false; /* every packet carries our credit */
	if (op == VIRTIO_VSOCK_OP_RST)
		vs->stats.rst_sent++;
	else if (op == VIRTIO_VSOCK_OP_CREDIT_UPDATE)
		vs->stats.credit_updates++;
	return true;
}

/* Answer a packet that has no connection with RST (best effort: a
 * bounded queue, so a flood of bad packets cannot grow our memory). */
static void rst_no_conn(struct vsock *vs, uint32_t host_port, uint32_t guest_port, uint16_t type)
{
	if (vs->rst_n == RST_QUEUE) {
		vs->stats.rst_dropped++;
		return;
	}
	vs->rst[(vs->rst_head + vs->rst_n) % RST_QUEUE] = (struct rst_req){ host_port, guest_port, type };
	vs->rst_n++;
}

/* Send what is pending: RSTs for unknown connections, then each queued
 * connection's control packets, until the RX buffers run out. */
static void flush_ctl(struct vsock *vs)
{
	while (vs->rst_n) {
		struct rst_req *r = &vs->rst[vs->rst_head];
		if (!rx_get(vs, &vs->rxc[0], false, false))
			return;
		put_hdr(vs, &vs->rxc[0], r->host_port, r->guest_port, VIRTIO_VSOCK_OP_RST, r->type, 0, 0,
			VSOCK_BUF_ALLOC, 0);
		vs->stats.rst_sent++;
		vs->rst_head = (vs->rst_head + 1) % RST_QUEUE;
		vs->rst_n--;
	}
	while (!list_empty(&vs->ctl)) {
		struct conn *c = container(vs->ctl.next, struct conn, ctl);
		if (c->pend_rst) {
			if (!send_ctl(vs, c, VIRTIO_VSOCK_OP_RST, 0))
				return;
			c->pend_rst = false;
			conn_bury(vs, c);
			continue;
		}
		if (c->state == C_REQUEST) {
			if (!send_ctl(vs, c, VIRTIO_VSOCK_OP_REQUEST, 0))
				return;
			c->state = C_REQUEST_SENT;
			continue;
		}
		if (c->state == C_RESPONDING) {
			if (!send_ctl(vs, c, VIRTIO_VSOCK_OP_RESPONSE, 0))
				return;
			c->state = C_ESTABLISHED;
			update_events(vs, c);
			continue;
		}
		if (c->state == C_ESTABLISHED && c->pend_shutdown) {
			if (!send_ctl(vs, c, VIRTIO_VSOCK_OP_SHUTDOWN, VIRTIO_VSOCK_SHUTDOWN_SEND))
				return;
			c->pend_shutdown = false;
			continue;
		}
		if (c->state == C_ESTABLISHED && c->pend_credit) {
			if (!send_ctl(vs, c, VIRTIO_VSOCK_OP_CREDIT_UPDATE, 0))
				return;
			continue;
		}
		list_del(&c->ctl);
		c->on_ctl = false;
	}
}

/* Read from C's socket into RX buffers while the guest has credit and
 * buffers: up to RX_BATCH buffers per readv, PUMP_ROUNDS readvs. */
static void conn_pump_in(struct vsock *vs, struct conn *c)
{
	for (unsigned round = 0; round < PUMP_ROUNDS; round++) {
		if (c->state != C_ESTABLISHED || c->host_eof || c->guest_shut_rcv || c->rx_waiting)
			return;
		uint32_t credit = conn_credit(c);
		if (!credit)
			return;
		if (vs->rst_n || !list_empty(&vs->ctl)) {
			/* Control packets first (they may be waiting for
			 * buffers); data must not overtake a SHUTDOWN. */
			flush_ctl(vs);
			if (vs->rst_n || !list_empty(&vs->ctl))
				goto starved;
		}
		uint32_t plan[RX_BATCH], total = 0;
		unsigned npop = 0, niov = 0;
		while (npop < RX_BATCH && credit && niov < RX_IOV) {
			struct virtq_chain *ch = &vs->rxc[npop];
			if (!rx_get(vs, ch, true, npop > 0))
				break;
			uint64_t take = ch->write_len - HDR_SIZE;
			if (take > credit)
				take = credit;
			if (take > VSOCK_MAX_PKT)
				take = VSOCK_MAX_PKT;
			uint64_t got;
			int n = virtq_chain_iov(vs->dev.gm, ch, true, HDR_SIZE, take, vs->iov + niov,
						RX_IOV - (int)niov, &got);
			if (got == 0) { /* no room for even one iovec: keep it for later */
				rx_unpop(vs, 1);
				break;
			}
			niov += (unsigned)n;
			plan[npop++] = (uint32_t)got;
			credit -= (uint32_t)got;
			total += (uint32_t)got;
		}
		if (npop == 0)
			goto starved;
		ssize_t r;
		do
			r = readv(c->fd, vs->iov, (int)niov);
		while (r < 0 && errno == EINTR);
		if (r < 0) {
			rx_unpop(vs, npop);
			if (errno != EAGAIN)
				conn_kill(vs, c, true); /* ECONNRESET and the like */
			return;
		}
		if (r == 0) {
			/* EOF: the host will send no more. The SHUTDOWN goes in
			 * order, after every byte already sent. */
			rx_unpop(vs, npop);
			c->host_eof = true;
			c->pend_shutdown = true;
			ctl_enqueue(vs, c);
			flush_ctl(vs);
			return;
		}
		unsigned used = 0;
		for (uint32_t left = (uint32_t)r; left; used++) {
			uint32_t n = left < plan[used] ? left : plan[used];
			put_hdr(vs, &vs->rxc[used], c->host_port, c->guest_port, VIRTIO_VSOCK_OP_RW,
				VIRTIO_VSOCK_TYPE_STREAM, n, 0, VSOCK_BUF_ALLOC, c->fwd_cnt);
			c->tx_cnt += n;
			left -= n;
		}
		c->last_fwd_sent = c->fwd_cnt;
		c->pend_credit = false;
		rx_unpop(vs, npop - used);
		if ((size_t)r < total)
			return; /* the socket is drained for now */
	}
	return;
starved:
	/* No RX buffers: stop polling this socket until the guest refills. */
	if (!c->rx_waiting) {
		c->rx_waiting = true;
		list_add_tail(&vs->rx_wait, &c->rxw);
	}
}

/* ------------------------------------------------------------------ */
/* socket side */

static uint32_t conn_want(const struct conn *c)
{
	if (c->fd < 0)
		return 0;
	switch (c->state) {
	case C_HELLO:
		return EPOLLIN;
	case C_ESTABLISHED: {
		uint32_t ev = 0;
		if (!c->host_eof && !c->guest_shut_rcv && !c->rx_waiting && conn_credit(c))
			ev |= EPOLLIN;
		if (c->buf_len)
			ev |= EPOLLOUT;
		return ev;
	}
	default:
		return 0;
	}
}

/* Poll C's socket for exactly what it can use now. A socket with nothing
 * to do leaves the epoll set: a hung-up peer would otherwise report
 * EPOLLHUP forever while we wait for credit or buffers. */
static void update_events(struct vsock *vs, struct conn *c)
{
	if (c->buried)
		return;
	uint32_t want = conn_want(c);
	if (c->registered && want == c->ep_events)
		return;
	if (!want) {
		if (c->registered)
			epoll_ctl(vs->epfd, EPOLL_CTL_DEL, c->fd, NULL);
		c->registered = false;
		c->ep_events = 0;
		return;
	}
	struct epoll_event ev = { .events = want, .data.ptr = c };
	if (epoll_ctl(vs->epfd, c->registered ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, c->fd, &ev)) {
		conn_kill(vs, c, true);
		return;
	}
	c->registered = true;
	c->ep_events = want;
}

/* Close C's socket; with RST tell the guest (the connection is freed once
 * the RST is out), else free it now. */
static void conn_kill(struct vsock *vs, struct conn *c, bool rst)
{
	if (c->buried)
		return;
	conn_close_fd(c);
	list_del(&c->rxw);
	c->rx_waiting = false;
	bool guest_knows = c->state == C_REQUEST_SENT || c->state == C_RESPONDING || c->state == C_ESTABLISHED ||
			   c->state == C_DEAD;
	c->state = C_DEAD;
	if (rst && guest_knows) {
		c->pend_rst = true;
		ctl_enqueue(vs, c);
	} else {
		conn_bury(vs, c);
	}
}

/* Tell the guest about drained space when its view of our free space is
 * below half and it would learn something new. */
static void credit_check(struct vsock *vs, struct conn *c)
{
	if (c->state != C_ESTABLISHED || c->fwd_cnt == c->last_fwd_sent || c->guest_shut_send)
		return; /* nothing new, or the guest will not send again */
	uint32_t seen_used = c->rx_cnt - c->last_fwd_sent;
	if (seen_used > VSOCK_BUF_ALLOC / 2) {
		c->pend_credit = true;
		ctl_enqueue(vs, c);
	}
}

/* Both directions done on the guest's side, or its sending side done:
 * act once our ring has reached the socket. */
static void shut_check(struct vsock *vs, struct conn *c)
{
	if (c->state != C_ESTABLISHED || c->buf_len || !c->guest_shut_send)
		return;
	if (!c->wr_shut) {
		shutdown(c->fd, SHUT_WR);
		c->wr_shut = true;
	}
	if (c->guest_shut_rcv)
		conn_kill(vs, c, true); /* the guest waits for our RST to finish its close */
}

/* Write the ring to the socket. Returns -1 if the connection died. */
static int conn_flush(struct vsock *vs, struct conn *c)
{
	while (c->buf_len) {
		struct iovec iov[2];
		uint32_t first = VSOCK_BUF_ALLOC - c->buf_head;
		if (first > c->buf_len)
			first = c->buf_len;
		iov[0] = (struct iovec){ c->buf + c->buf_head, first };
		iov[1] = (struct iovec){ c->buf, c->buf_len - first };
		struct msghdr m = { .msg_iov = iov, .msg_iovlen = iov[1].iov_len ? 2 : 1 };
		ssize_t r = sendmsg(c->fd, &m, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EAGAIN)
			break;
		if (r <= 0) {
			conn_kill(vs, c, true); /* EPIPE: the host end is gone */
			return -1;
		}
		c->buf_head = (c->buf_head + (uint32_t)r) % VSOCK_BUF_ALLOC;
		c->buf_len -= (uint32_t)r;
		c->fwd_cnt += (uint32_t)r;
	}
	if (!c->buf_len)
		c->buf_head = 0;
	credit_check(vs, c);
	shut_check(vs, c);
	return 0;
}

/* Guest payload: straight to the socket if nothing is queued before it,
 * the rest into the ring (credit guarantees it fits). -1: connection died. */
static int conn_write(struct vsock *vs, struct conn *c, const struct virtq_chain *ch, uint32_t len)
{
	const struct guest_mem *gm = vs->dev.gm;
	uint64_t off = HDR_SIZE;
	uint32_t left = len;
	while (left && !c->buf_len) {
		uint64_t got;
		int n = virtq_chain_iov(gm, ch, false, off, left, vs->iov, TX_IOV, &got);
		if (!got)
			break;
		struct msghdr m = { .msg_iov = vs->iov, .msg_iovlen = (size_t)n };
		ssize_t r = sendmsg(c->fd, &m, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && errno == EAGAIN)
			break;
		if (r <= 0) {
			conn_kill(vs, c, true);
			return -1;
		}
		off += (uint64_t)r;
		left -= (uint32_t)r;
		c->fwd_cnt += (uint32_t)r;
		if ((uint64_t)r < got)
			break;
	}
	if (left) {
		if (!c->buf) {
			c->buf = malloc(VSOCK_BUF_ALLOC);
			if (!c->buf) {
				conn_kill(vs, c, true);
				return -1;
			}
		}
		/* Copy in at most two pieces (the ring wraps once). */
		uint32_t tail = (c->buf_head + c->buf_len) % VSOCK_BUF_ALLOC;
		uint32_t first = VSOCK_BUF_ALLOC - tail;
		if (first > left)
			first = left;
		virtq_chain_read(gm, ch, off, c->buf + tail, first);
		if (left > first)
			virtq_chain_read(gm, ch, off + first, c->buf, left - first);
		c->buf_len += left;
	}
	return 0;
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

static uint32_t alloc_host_port(struct vsock *vs, uint32_t guest_port)
{
	for (;;) {
		uint32_t p = vs->next_port++;
		if (vs->next_port < VSOCK_HOST_PORT_BASE)
			vs->next_port = VSOCK_HOST_PORT_BASE;
		if (!lookup(vs, p, guest_port))
			return p;
	}
}

/* Read the host's "CONNECT <port>\n" without consuming anything after the
 * newline: that is already data for the guest. */
static void conn_hello(struct vsock *vs, struct conn *c)
{
	char tmp[sizeof(c->line)];
	size_t room = sizeof(c->line) - 1 - c->nline;
	ssize_t r = recv(c->fd, tmp, room, MSG_PEEK | MSG_DONTWAIT);
	if (r < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (r <= 0) {
		conn_kill(vs, c, false);
		return;
	}
	char *nl = memchr(tmp, '\n', (size_t)r);
	size_t take = nl ? (size_t)(nl - tmp) + 1 : (size_t)r;
	if (recv(c->fd, tmp, take, MSG_DONTWAIT) != (ssize_t)take) {
		conn_kill(vs, c, false);
		return;
	}
	memcpy(c->line + c->nline, tmp, take);
	c->nline += (unsigned)take;
	if (!nl) {
		if (c->nline >= sizeof(c->line) - 1)
			conn_kill(vs, c, false); /* no newline in a sane length */
		return;
	}
	c->line[c->nline - 1] = '\0';
	uint32_t port;
	if (!parse_connect(c->line, &port) || !vs->dev.active) {
		conn_kill(vs, c, false);
		return;
	}
	c->guest_port = port;
	c->host_port = alloc_host_port(vs, port);
	table_add(vs, c);
	c->state = C_REQUEST;
	ctl_enqueue(vs, c);
	update_events(vs, c); /* quiet until the guest answers */
}

static void accept_conns(struct vsock *vs)
{
	for (unsigned i = 0; i < 16; i++) {
		int fd = accept4(vs->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0)
			return;
		vs->stats.host_conns++;
		if (!vs->dev.active || vs->nconns >= VSOCK_MAX_CONNS) {
			close(fd); /* no guest driver yet, or too many: the host retries */
			continue;
		}
		struct conn *c = conn_new(vs, fd, C_HELLO);
		if (!c) {
			close(fd);
			continue;
		}
		update_events(vs, c);
	}
}

/* After any work: send pending control packets, interrupt the guest for
 * what was pushed, free connections closed on the way. */
static void finish(struct vsock *vs)
{
	flush_ctl(vs);
	if (vs->rx_used) {
		vs->rx_used = false;
		virtio_notify_used(&vs->dev, RXQ);
	}
	if (vs->tx_used) {
		vs->tx_used = false;
		virtio_notify_used(&vs->dev, TXQ);
	}
	reap(vs);
}

/* The device's epoll set is readable (device thread). */
static void on_sockets(void *ctx, uint32_t events)
{
	struct vsock *vs = ctx;
	(void)events;
	pthread_mutex_lock(&vs->dev.lock);
	struct epoll_event ev[EP_BATCH];
	int n = epoll_wait(vs->epfd, ev, EP_BATCH, 0);
	for (int i = 0; i < n; i++) {
		struct conn *c = ev[i].data.ptr;
		if (!c) {
			accept_conns(vs);
			continue;
		}
		if (c->buried || c->fd < 0)
			continue;
		uint32_t e = ev[i].events;
		if (c->state == C_HELLO) {
			conn_hello(vs, c);
			continue;
		}
		if (c->state != C_ESTABLISHED)
			continue;
		if ((e & (EPOLLOUT | EPOLLERR | EPOLLHUP)) && c->buf_len && conn_flush(vs, c))
			continue;
		if (e & (EPOLLIN | EPOLLERR | EPOLLHUP))
			conn_pump_in(vs, c);
		update_events(vs, c);
	}
	finish(vs);
	pthread_mutex_unlock(&vs->dev.lock);
}

/* ------------------------------------------------------------------ */
/* TX: packets from the guest */

static void guest_request(struct vsock *vs, const struct virtio_vsock_hdr *h, uint32_t host_port,
			  uint32_t guest_port)
{
	if (vs->nconns >= VSOCK_MAX_CONNS) {
		rst_no_conn(vs, host_port, guest_port, VIRTIO_VSOCK_TYPE_STREAM);
		return;
	}
	int fd = -1;
	if (vs->cfg.has_local && host_port == vs->cfg.local_port) {
		if (!vs->local_used)
			fd = vs->cfg.local_fd;  /* the connection owns it now */
		vs->local_used = true;
	} else {
		struct sockaddr_un a = { .sun_family = AF_UNIX };
		int n = snprintf(a.sun_path, sizeof(a.sun_path), "%s_%u", vs->cfg.uds, host_port);
		if (n > 0 && (size_t)n < sizeof(a.sun_path))
			fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		/* Non-blocking: a listener with a full backlog is a refusal,
		 * not a stall of the device thread. */
		if (fd >= 0 && connect(fd, (struct sockaddr *)&a, sizeof(a))) {
			close(fd);
			fd = -1;
		}
	}
	struct conn *c = fd >= 0 ? conn_new(vs, fd, C_RESPONDING) : NULL;
	if (!c) {
		if (fd >= 0)
			close(fd);
		vs->stats.refused++;
		rst_no_conn(vs, host_port, guest_port, VIRTIO_VSOCK_TYPE_STREAM);
		return;
	}
	c->host_port = host_port;
	c->guest_port = guest_port;
	c->peer_buf_alloc = le32toh(h->buf_alloc);
	c->peer_fwd_cnt = le32toh(h->fwd_cnt);
	table_add(vs, c);
	ctl_enqueue(vs, c);
}

static void guest_response(struct vsock *vs, struct conn *c)
{
	if (c->state != C_REQUEST_SENT) {
		conn_kill(vs, c, true);
		return;
	}
	char ok[32];
	int n = snprintf(ok, sizeof(ok), "OK %u\n", c->host_port);
	/* A fresh socket's buffer is empty: this cannot be short unless the
	 * host end is gone. */
	if (send(c->fd, ok, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL) != n) {
		conn_kill(vs, c, true);
		return;
	}
	c->state = C_ESTABLISHED;
}

static void guest_rw(struct vsock *vs, struct conn *c, const struct virtq_chain *ch, uint32_t len)
{
	if (c->state != C_ESTABLISHED || c->guest_shut_send) {
		conn_kill(vs, c, true);
		return;
	}
	if (!len)
		return;
	/* Credit: what the guest may have outstanding with us. */
	if ((uint64_t)c->buf_len + len > VSOCK_BUF_ALLOC) {
		vs->stats.credit_violations++;
		conn_kill(vs, c, true);
		return;
	}
	c->rx_cnt += len;
	if (conn_write(vs, c, ch, len))
		return;
	credit_check(vs, c);
}

static void guest_shutdown(struct vsock *vs, struct conn *c, uint32_t flags)
{
	if (c->state != C_ESTABLISHED) {
		conn_kill(vs, c, true);
		return;
	}
	if (flags & VIRTIO_VSOCK_SHUTDOWN_RCV)
		c->guest_shut_rcv = true;
	if (flags & VIRTIO_VSOCK_SHUTDOWN_SEND)
		c->guest_shut_send = true;
	shut_check(vs, c);
}

static void guest_rst(struct vsock *vs, struct conn *c)
{
	/* The guest gave up: hand the socket what we hold (best effort,
	 * without waiting), then close. */
	if (c->state == C_ESTABLISHED && c->buf_len)
		conn_flush(vs, c);
	conn_kill(vs, c, false);
}

/* One TX chain: check it, act on it. */
static void tx_packet(struct vsock *vs, const struct virtq_chain *ch)
{
	struct virtio_vsock_hdr h;
	if (ch->err || ch->read_len < HDR_SIZE || virtq_chain_read(vs->dev.gm, ch, 0, &h, HDR_SIZE) != HDR_SIZE) {
		vs->stats.tx_bad++;
		return;
	}
	uint64_t src_cid = le64toh(h.src_cid), dst_cid = le64toh(h.dst_cid);
	uint32_t guest_port = le32toh(h.src_port), host_port = le32toh(h.dst_port);
	uint32_t len = le32toh(h.len);
	uint16_t type = le16toh(h.type), op = le16toh(h.op);
	/* Spoofed or misdirected: nobody to answer. */
	if (src_cid != vs->cfg.cid || dst_cid != VSOCK_HOST_CID) {
		vs->stats.tx_bad++;
		return;
	}
	if (op < VIRTIO_VSOCK_OP_REQUEST || op > VIRTIO_VSOCK_OP_CREDIT_REQUEST) {
		vs->stats.tx_bad++;
		return;
	}
	struct conn *c = lookup(vs, host_port, guest_port);
	if (c && c->state == C_DEAD) {
		/* Our RST for this pair is on its way; a new REQUEST on it
		 * gets one of its own. */
		if (op == VIRTIO_VSOCK_OP_REQUEST)
			rst_no_conn(vs, host_port, guest_port, VIRTIO_VSOCK_TYPE_STREAM);
		return;
	}
	if (type != VIRTIO_VSOCK_TYPE_STREAM) {
		/* SEQPACKET is not offered; answer like Linux does. */
		vs->stats.tx_bad++;
		if (op != VIRTIO_VSOCK_OP_RST) {
			if (c)
				conn_kill(vs, c, true);
			else
				rst_no_conn(vs, host_port, guest_port, type == VIRTIO_VSOCK_TYPE_SEQPACKET ? type :
					    VIRTIO_VSOCK_TYPE_STREAM);
		}
		return;
	}
	if ((uint64_t)len > ch->read_len - HDR_SIZE) {
		/* The header claims more payload than the chain holds: for a
		 * live connection that is lost data, so reset it. */
		vs->stats.tx_bad++;
		if (c)
			conn_kill(vs, c, true);
		return;
	}
	vs->stats.tx_pkts++;
	if (op == VIRTIO_VSOCK_OP_RW)
		vs->stats.tx_bytes += len;
	if (!c) {
		if (op == VIRTIO_VSOCK_OP_REQUEST)
			guest_request(vs, &h, host_port, guest_port);
		else if (op != VIRTIO_VSOCK_OP_RST)
			rst_no_conn(vs, host_port, guest_port, VIRTIO_VSOCK_TYPE_STREAM);
		return;
	}
	if (c->state == C_HELLO || c->state == C_REQUEST) {
		/* Not announced to the guest yet: it cannot know this pair. */
		rst_no_conn(vs, host_port, guest_port, VIRTIO_VSOCK_TYPE_STREAM);
		return;
	}
	/* Every header carries the sender's credit. */
	c->peer_buf_alloc = le32toh(h.buf_alloc);
	c->peer_fwd_cnt = le32toh(h.fwd_cnt);
	switch (op) {
	case VIRTIO_VSOCK_OP_REQUEST:
		/* A second REQUEST for a live pair: the guest lost track. */
		conn_kill(vs, c, true);
		return;
	case VIRTIO_VSOCK_OP_RESPONSE:
		guest_response(vs, c);
		break;
	case VIRTIO_VSOCK_OP_RST:
		guest_rst(vs, c);
		return;
	case VIRTIO_VSOCK_OP_SHUTDOWN:
		guest_shutdown(vs, c, le32toh(h.flags));
		break;
	case VIRTIO_VSOCK_OP_RW:
		guest_rw(vs, c, ch, len);
		break;
	case VIRTIO_VSOCK_OP_CREDIT_UPDATE:
		break;
	case VIRTIO_VSOCK_OP_CREDIT_REQUEST:
		if (c->state == C_ESTABLISHED) {
			c->pend_credit = true;
			ctl_enqueue(vs, c);
		}
		break;
	}
	update_events(vs, c);
}

static void process_tx(struct vsock *vs)
{
	struct virtio_dev *d = &vs->dev;
	struct virtq *q = &d->vq[TXQ];
	for (unsigned served = 0;; served++) {
		if (served == TX_BUDGET) {
			/* Let the sockets and other devices run; come back. */
			if (d->kick)
				d->kick(d, TXQ);
			break;
		}
		if (virtio_next_chain(d, TXQ, &vs->txc) != 1)
			break;
		tx_packet(vs, &vs->txc);
		virtq_push(q, d->gm, vs->txc.head, 0);
		vs->tx_used = true;
	}
}

/* ------------------------------------------------------------------ */
/* virtio ops */

static void vsock_queue_notify(struct virtio_dev *d, unsigned q)
{
	struct vsock *vs = to_vs(d);
	if (q == TXQ) {
		process_tx(vs);
	} else if (q == RXQ) {
		/* New RX buffers: resume the sockets that were waiting. */
		vs->rx_starved = false;
		while (!list_empty(&vs->rx_wait)) {
			struct conn *c = container(vs->rx_wait.next, struct conn, rxw);
			list_del(&c->rxw);
			c->rx_waiting = false;
			update_events(vs, c);
		}
	}
	/* EVQ: we keep the event buffers; there is no event to report
	 * (TRANSPORT_RESET is for migration). */
	finish(vs);
}

static void vsock_config_read(struct virtio_dev *d, uint32_t off, uint8_t *data, uint32_t len)
{
	memcpy(data, to_vs(d)->config + off, len); /* off + len checked by the transport */
}

static void drop_all(struct vsock *vs)
{
	while (!list_empty(&vs->conns)) {
		struct conn *c = container(vs->conns.next, struct conn, all);
		conn_bury(vs, c);
	}
	reap(vs);
	list_init(&vs->ctl);
	list_init(&vs->rx_wait);
	vs->rst_n = vs->rst_head = 0;
	vs->rx_starved = false;
	vs->rx_used = vs->tx_used = false;
}

/* The driver reset the device (vCPU thread, lock held): its sockets are
 * gone, so are ours. The listening socket stays. */
static void vsock_reset(struct virtio_dev *d)
{
	drop_all(to_vs(d));
}

void vsock_destroy(struct virtio_dev *d)
{
	struct vsock *vs = to_vs(d);
	drop_all(vs);
	if (vs->cfg.has_local && !vs->local_used)
		close(vs->cfg.local_fd);
	if (vs->listen_fd >= 0) {
		close(vs->listen_fd);
		unlink(vs->cfg.uds);
	}
	if (vs->epfd >= 0)
		close(vs->epfd);
	pthread_mutex_destroy(&d->lock);
	free(vs);
}

static const struct virtio_ops vsock_ops = {
	.name = "virtio-vsock",
	.device_id = VIRTIO_ID_VSOCK,
	.nqueues = 3,
	.features = 0, /* stream only: no VIRTIO_VSOCK_F_SEQPACKET */
	.config_size = 8,
	.config_read = vsock_config_read,
	.queue_notify = vsock_queue_notify,
	.reset = vsock_reset,
	.destroy = vsock_destroy,
};

/* ------------------------------------------------------------------ */
/* setup */

int vsock_parse(const char *spec, struct vsock_config *cfg, struct err *e)
{
	memset(cfg, 0, sizeof(*cfg));
	bool have_cid = false;
	const char *p = spec;
	while (*p) {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		if (n > 4 && !strncmp(p, "cid=", 4)) {
			char num[24];
			if (n - 4 >= sizeof(num))
				return err_set(e, "--vsock '%s': bad cid", spec);
			memcpy(num, p + 4, n - 4);
			num[n - 4] = '\0';
			char *x;
			errno = 0;
			unsigned long long v = strtoull(num, &x, 10);
			if (*x || num[0] < '0' || num[0] > '9' || errno || v < 3 || v >= 0xffffffffULL)
				return err_set(e, "--vsock '%s': cid must be a number from 3 to 4294967294", spec);
			cfg->cid = v;
			have_cid = true;
		} else if (n > 4 && !strncmp(p, "uds=", 4)) {
			/* Room for the listener, and for "_PORT" of guest connects. */
			if (n - 4 >= sizeof(cfg->uds))
				return err_set(e, "--vsock '%s': uds path longer than %zu bytes", spec,
					       sizeof(cfg->uds) - 1);
			memcpy(cfg->uds, p + 4, n - 4);
			cfg->uds[n - 4] = '\0';
		} else {
			return err_set(e, "--vsock '%s': unknown option '%.*s' (want cid=N,uds=PATH)", spec, (int)n, p);
		}
		p += n;
		if (*p == ',')
			p++;
	}
	if (!have_cid || !cfg->uds[0])
		return err_set(e, "--vsock '%s': want cid=N,uds=PATH", spec);
	return 0;
}

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

struct vsock *vsock_create(const struct vsock_config *cfg, struct evloop *loop, const struct guest_mem *gm,
			   struct err *e)
{
	struct vsock *vs = calloc(1, sizeof(*vs));
	if (!vs) {
		err_set(e, "--vsock: out of memory");
		return NULL;
	}
	vs->cfg = *cfg;
	vs->loop = loop;
	vs->epfd = vs->listen_fd = -1;
	vs->next_port = VSOCK_HOST_PORT_BASE;
	list_init(&vs->conns);
	list_init(&vs->ctl);
	list_init(&vs->rx_wait);
	list_init(&vs->grave);
	uint64_t le = htole64(cfg->cid);
	memcpy(vs->config, &le, sizeof(le));
	virtio_dev_init(&vs->dev, &vsock_ops, vs, gm);

	vs->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (vs->epfd < 0) {
		err_sys(e, "--vsock: epoll_create1");
		goto fail;
	}
	vs->listen_fd = listen_uds(cfg->uds, e);
	if (vs->listen_fd < 0)
		goto fail;
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
	if (epoll_ctl(vs->epfd, EPOLL_CTL_ADD, vs->listen_fd, &ev)) {
		err_sys(e, "--vsock: epoll_ctl");
		goto fail;
	}
	if (evloop_add(loop, vs->epfd, EPOLLIN, on_sockets, vs, e)) {
		err_wrap(e, "--vsock");
		goto fail;
	}
	vs->on_loop = true;
	return vs;
fail:
	vsock_destroy(&vs->dev);
	return NULL;
}

struct virtio_dev *vsock_virtio(struct vsock *vs) { return &vs->dev; }
const struct vsock_stats *vsock_get_stats(struct vsock *vs) { return &vs->stats; }
unsigned vsock_nconns(struct vsock *vs) { return vs->nconns; }

bool vsock_conn_info(struct vsock *vs, uint32_t host_port, uint32_t guest_port, struct vsock_conn_info *out)
{
	struct conn *c = lookup(vs, host_port, guest_port);
	if (!c || c->state == C_DEAD)
		return false;
	*out = (struct vsock_conn_info){
		.established = c->state == C_ESTABLISHED,
		.rx_cnt = c->rx_cnt,
		.fwd_cnt = c->fwd_cnt,
		.buffered = c->buf_len,
		.tx_cnt = c->tx_cnt,
		.peer_buf_alloc = c->peer_buf_alloc,
		.peer_fwd_cnt = c->peer_fwd_cnt,
		.reading = c->registered && (c->ep_events & EPOLLIN),
		.guest_shut_send = c->guest_shut_send,
		.guest_shut_rcv = c->guest_shut_rcv,
		.host_eof = c->host_eof,
	};
	return true;
}

int vsock_device_init(struct vm *vm, struct err *e)
{
	if (!vm->cfg.has_vsock)
		return 0;
	struct vsock_config cfg = vm->cfg.vsock;
	if (vm->cfg.has_agent) {
		cfg.has_local = true;
		cfg.local_port = SB_AGENT_PORT;
		cfg.local_fd = vm->cfg.agent_fd;
	}
	struct vsock *vs = vsock_create(&cfg, &vm->loop, &vm->mem, e);
	if (!vs)
		return -1;
	unsigned before = vm->nvirtio;
	if (virtio_attach(vm, &vs->dev, e)) {
		if (vm->nvirtio == before)
			vsock_destroy(&vs->dev); /* else vm_destroy() calls ops->destroy */
		return err_wrap(e, "--vsock");
	}
	return 0;
}
