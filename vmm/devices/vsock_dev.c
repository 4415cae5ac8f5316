/* virtio-vsock, the virtio device (virtio 1.x, 5.10): the RX/TX/event
 * queues, the packet header checks, RX buffers for the connection layer,
 * RSTs for packets without a connection, the device's epoll set and its
 * backends. What a packet means for a connection is vsock_conn.c's.
 *
 * Every guest packet is checked here first: a readable 44-byte header,
 * src_cid = the guest's, dst_cid = 2, a known op. The payload length
 * against the chain and the type are judged by the connection layer
 * (their answer depends on the connection). A bad packet is dropped and
 * the device keeps serving.
 *
 * Threads: all socket work runs on the VM's device thread. The device's
 * sockets live in their own epoll set, registered as one fd on the VM's
 * event loop; its callback takes the device lock *before* collecting
 * events, so a vCPU thread resetting the device (lock held) can free
 * connections without racing a half-delivered event. Connections closed
 * while a batch is being handled are freed at the end of it. */
#include "vsock_int.h"

#include <endian.h>
#include <errno.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_vsock.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

_Static_assert(sizeof(struct virtio_vsock_hdr) == VSOCK_HDR_SIZE, "virtio_vsock_hdr size");

#define TX_BUDGET 256        /* TX chains per kick before yielding */
#define EP_BATCH 64
#define ACCEPT_BATCH 16      /* host connections taken per listener event */

static struct vsock *to_vs(const struct virtio_dev *d) { return d->priv; }

/* ------------------------------------------------------------------ */
/* RX: packets to the guest */

/* Take the next RX buffer into *C that can hold a header (and, with DATA,
 * a byte of payload). Unusable chains are returned empty. With NO_SKIP
 * (filling several buffers in one go) an unusable chain is left in the
 * ring and the batch ends, so the batch's chains stay contiguous and can
 * be given back with vsock_rx_unpop(). Returns 1, or 0 with none
 * available. */
int vsock_rx_get(struct vsock *vs, struct virtq_chain *c, bool data, bool no_skip)
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
		if (!c->err && c->write_len >= VSOCK_HDR_SIZE + (data ? 1 : 0))
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

/* Give back the last N buffers taken with vsock_rx_get() (unused, in order). */
void vsock_rx_unpop(struct vsock *vs, unsigned n)
{
	virtq_unpop(&vs->dev.vq[RXQ], (uint16_t)n);
}

/* Complete RX buffer C as a packet: our header, with our buffer size and
 * FWD_CNT as the credit, before LEN payload bytes already in place. */
void vsock_rx_put(struct vsock *vs, const struct virtq_chain *c, uint32_t host_port, uint32_t guest_port,
		  uint16_t op, uint16_t type, uint32_t len, uint32_t flags, uint32_t fwd_cnt)
{
	struct virtio_vsock_hdr h = {
		.src_cid = htole64(VSOCK_HOST_CID),
		.dst_cid = htole64(vs->cid),
		.src_port = htole32(host_port),
		.dst_port = htole32(guest_port),
		.len = htole32(len),
		.type = htole16(type),
		.op = htole16(op),
		.flags = htole32(flags),
		.buf_alloc = htole32(VSOCK_BUF_ALLOC),
		.fwd_cnt = htole32(fwd_cnt),
	};
	virtq_chain_write(vs->dev.gm, c, 0, &h, VSOCK_HDR_SIZE);
	virtq_push(&vs->dev.vq[RXQ], vs->dev.gm, c->head, VSOCK_HDR_SIZE + len);
	vs->rx_used = true;
	vs->stats.rx_pkts++;
	vs->stats.rx_bytes += len;
}

/* Answer a packet that has no connection with RST (best effort: a
 * bounded queue, so a flood of bad packets cannot grow our memory). */
void vsock_rst_no_conn(struct vsock *vs, uint32_t host_port, uint32_t guest_port, uint16_t type)
{
	if (vs->rst_n == RST_QUEUE) {
		vs->stats.rst_dropped++;
		return;
	}
	vs->rst[(vs->rst_head + vs->rst_n) % RST_QUEUE] = (struct rst_req){ host_port, guest_port, type };
	vs->rst_n++;
}

bool vsock_rst_pending(const struct vsock *vs) { return vs->rst_n > 0; }

/* Send what is pending: RSTs for unknown connections, then each queued
 * connection's control packets, until the RX buffers run out. */
void vsock_flush_ctl(struct vsock *vs)
{
	while (vs->rst_n) {
		struct rst_req *r = &vs->rst[vs->rst_head];
		if (!vsock_rx_get(vs, &vs->rxc[0], false, false))
			return;
		vsock_rx_put(vs, &vs->rxc[0], r->host_port, r->guest_port, VIRTIO_VSOCK_OP_RST, r->type, 0, 0, 0);
		vs->stats.rst_sent++;
		vs->rst_head = (vs->rst_head + 1) % RST_QUEUE;
		vs->rst_n--;
	}
	conns_flush_ctl(vs);
}

/* ------------------------------------------------------------------ */
/* backends */

struct vsock_backend *vsock_backend_for(struct vsock *vs, uint32_t port)
{
	struct vsock_backend *any = NULL;
	for (unsigned i = 0; i < vs->nbe; i++) {
		if (vs->be[i].port == port)
			return &vs->be[i];
		if (vs->be[i].port == VSOCK_ANY_PORT)
			any = &vs->be[i];
	}
	return any;
}

int vsock_add_backend(struct vsock *vs, uint64_t port, const struct vsock_backend_ops *ops, void *ctx,
		      struct err *e)
{
	if (port != VSOCK_ANY_PORT && port > UINT32_MAX)
		return err_set(e, "vsock: backend %s: port %llu out of range", ops->name, (unsigned long long)port);
	for (unsigned i = 0; i < vs->nbe; i++)
		if (vs->be[i].port == port)
			return err_set(e, "vsock: backend %s: port already served by %s", ops->name,
				       vs->be[i].ops->name);
	if (vs->nbe == VSOCK_MAX_BACKENDS)
		return err_set(e, "vsock: backend %s: more than %d backends", ops->name, VSOCK_MAX_BACKENDS);
	if (!ops->connect || (ops->listen_fd && (!ops->accept || !ops->handshake || !ops->accepted)))
		return err_set(e, "vsock: backend %s: incomplete ops", ops->name);
	struct vsock_backend *be = &vs->be[vs->nbe];
	*be = (struct vsock_backend){ .kind = W_LISTEN, .ops = ops, .ctx = ctx, .port = port };
	if (ops->listen_fd) {
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = be };
		if (epoll_ctl(vs->epfd, EPOLL_CTL_ADD, ops->listen_fd(ctx), &ev))
			return err_sys(e, "vsock: backend %s: epoll_ctl", ops->name);
	}
	vs->nbe++;
	return 0;
}

/* A backend's listener is readable: take its new host connections. */
static void accept_conns(struct vsock *vs, struct vsock_backend *be)
{
	for (unsigned i = 0; i < ACCEPT_BATCH; i++) {
		int fd = be->ops->accept(be->ctx);
		if (fd < 0)
			return;
		vs->stats.host_conns++;
		if (!vs->dev.active || vs->nconns >= VSOCK_MAX_CONNS) {
			close(fd); /* no guest driver yet, or too many: the host retries */
			continue;
		}
		conn_accept(vs, be, fd);
	}
}

/* ------------------------------------------------------------------ */
/* events */

/* After any work: send pending control packets, interrupt the guest for
 * what was pushed, free connections closed on the way. */
static void finish(struct vsock *vs)
{
	vsock_flush_ctl(vs);
	if (vs->rx_used) {
		vs->rx_used = false;
		virtio_notify_used(&vs->dev, RXQ);
	}
	if (vs->tx_used) {
		vs->tx_used = false;
		virtio_notify_used(&vs->dev, TXQ);
	}
	conns_reap(vs);
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
		enum vsock_watch *w = ev[i].data.ptr;
		if (*w == W_LISTEN)
			accept_conns(vs, container(w, struct vsock_backend, kind));
		else
			conn_event(vs, container(w, struct conn, kind), ev[i].events);
	}
	finish(vs);
	pthread_mutex_unlock(&vs->dev.lock);
}

/* ------------------------------------------------------------------ */
/* TX: packets from the guest */

/* One TX chain: check its header, hand it to the connection layer. */
static void tx_packet(struct vsock *vs, const struct virtq_chain *ch)
{
	struct virtio_vsock_hdr h;
	if (ch->err || ch->read_len < VSOCK_HDR_SIZE ||
	    virtq_chain_read(vs->dev.gm, ch, 0, &h, VSOCK_HDR_SIZE) != VSOCK_HDR_SIZE) {
		vs->stats.tx_bad++;
		return;
	}
	/* Spoofed or misdirected: nobody to answer. */
	if (le64toh(h.src_cid) != vs->cid || le64toh(h.dst_cid) != VSOCK_HOST_CID) {
		vs->stats.tx_bad++;
		return;
	}
	uint16_t op = le16toh(h.op);
	if (op < VIRTIO_VSOCK_OP_REQUEST || op > VIRTIO_VSOCK_OP_CREDIT_REQUEST) {
		vs->stats.tx_bad++;
		return;
	}
	struct vsock_pkt p = {
		.host_port = le32toh(h.dst_port),
		.guest_port = le32toh(h.src_port),
		.len = le32toh(h.len),
		.room = ch->read_len - VSOCK_HDR_SIZE,
		.type = le16toh(h.type),
		.op = op,
		.flags = le32toh(h.flags),
		.buf_alloc = le32toh(h.buf_alloc),
		.fwd_cnt = le32toh(h.fwd_cnt),
		.ch = ch,
	};
	conn_packet(vs, &p);
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
		vs->rx_starved = false;
		conns_rx_ready(vs);
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
	conns_drop_all(vs);
	vs->rst_n = vs->rst_head = 0;
	vs->rx_starved = false;
	vs->rx_used = vs->tx_used = false;
}

/* The driver reset the device (vCPU thread, lock held): its sockets are
 * gone, so are ours. The backends' listeners stay. */
static void vsock_reset(struct virtio_dev *d)
{
	drop_all(to_vs(d));
}

void vsock_destroy(struct virtio_dev *d)
{
	struct vsock *vs = to_vs(d);
	drop_all(vs);
	for (unsigned i = 0; i < vs->nbe; i++)
		vs->be[i].ops->destroy(vs->be[i].ctx); /* closing a listener takes it out of the epoll set */
	/* No evloop_del(): the loop is stopped and goes next (and teardown's
	 * seccomp filter has no epoll_ctl); closing epfd leaves its epoll set. */
	if (vs->epfd >= 0)
		close(vs->epfd);
	pthread_mutex_destroy(&d->lock);
	free(vs);
}

static long vsock_save(struct virtio_dev *d, uint8_t *buf, size_t cap, struct err *e)
{
	return conns_save(to_vs(d), buf, cap, e);
}

static int vsock_restore(struct virtio_dev *d, const uint8_t *buf, size_t len, struct err *e)
{
	return conns_restore(to_vs(d), buf, len, e);
}

static const struct virtio_ops vsock_ops = {
	.save = vsock_save,
	.restore = vsock_restore,
	.name = "virtio-vsock",
	.device_id = VIRTIO_ID_VSOCK,
	.nqueues = 3,
	/* RX: the guest keeps its RX queue full of 4 KiB buffers (skbs)
	 * allocated from its RAM: at 256 the guest's Slab was 0.8 MiB more
	 * per sandbox than at 64 (measured, docs/pmem.md), which still keeps
	 * 256 KiB in flight towards the guest. TX and events: the default. */
	.queue_max = { [RXQ] = VSOCK_RX_QUEUE_MAX },
	.features = 0, /* stream only: no VIRTIO_VSOCK_F_SEQPACKET */
	.config_size = 8,
	.config_read = vsock_config_read,
	.queue_notify = vsock_queue_notify,
	.reset = vsock_reset,
	.destroy = vsock_destroy,
};

/* ------------------------------------------------------------------ */
/* setup and looking in */

struct vsock *vsock_dev_new(uint64_t cid, struct evloop *loop, const struct guest_mem *gm, struct err *e)
{
	struct vsock *vs = calloc(1, sizeof(*vs));
	if (!vs) {
		err_set(e, "--vsock: out of memory");
		return NULL;
	}
	vs->cid = cid;
	vs->loop = loop;
	vs->epfd = -1;
	conns_init(vs);
	uint64_t le = htole64(cid);
	memcpy(vs->config, &le, sizeof(le));
	virtio_dev_init(&vs->dev, &vsock_ops, vs, gm);

	vs->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (vs->epfd < 0) {
		err_sys(e, "--vsock: epoll_create1");
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

const char *vsock_check_invariants(struct vsock *vs)
{
	if (vs->rst_n > RST_QUEUE || vs->rst_head >= RST_QUEUE)
		return "the RST queue beyond its bounds";
	if (!vs->dev.active && vs->nconns)
		return "connections on an inactive device";
	return conns_check(vs);
}
