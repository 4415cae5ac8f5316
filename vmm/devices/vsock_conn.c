/* virtio-vsock connection layer: the per-connection state machine and the
 * credit scheme in both directions (virtio_vsock.c's header describes
 * both), over the stream sockets backends hand out. The device
 * (vsock_dev.c) gives us checked packets and RX buffers; we decide what a
 * packet means for its connection and move the payload between guest
 * memory and the socket.
 *
 * States: a guest REQUEST makes a connection RESPONDING (its backend's
 * socket connected), ESTABLISHED once our RESPONSE is out. A host
 * connection starts in HELLO (its backend reads the opening request),
 * then REQUEST, REQUEST_SENT, and ESTABLISHED at the guest's RESPONSE.
 * Any violation, RST or dead socket makes it DEAD: its socket is closed,
 * an RST goes to the guest if the guest knows the pair, then it is freed
 * (at the end of the current batch of events, which may still name it). */
#include "vsock_int.h"

#include <errno.h>
#include <linux/virtio_vsock.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define PUMP_ROUNDS 4        /* readv batches per socket event */

static void conn_kill(struct vsock *vs, struct conn *c, bool rst);

void conns_init(struct vsock *vs)
{
	list_init(&vs->conns);
	list_init(&vs->ctl);
	list_init(&vs->rx_wait);
	list_init(&vs->grave);
	vs->next_port = VSOCK_HOST_PORT_BASE;
}

/* ------------------------------------------------------------------ */
/* connection table */

static unsigned bucket(uint32_t host_port, uint32_t guest_port)
{
	uint32_t h = host_port * 0x9e3779b1u ^ guest_port * 0x85ebca6bu;
	return (h ^ (h >> 16)) % NBUCKETS;
}

struct conn *conn_lookup(struct vsock *vs, uint32_t host_port, uint32_t guest_port)
{
	for (struct conn *c = vs->table[bucket(host_port, guest_port)]; c; c = c->hnext)
		if (c->host_port == host_port && c->guest_port == guest_port)
			return c;
	return NULL;
}

void conn_table_add(struct vsock *vs, struct conn *c)
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

struct conn *conn_new(struct vsock *vs, int fd, enum cstate st)
{
	struct conn *c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->kind = W_CONN;
	c->serial = ++vs->next_serial;
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

/* Unlink C everywhere; it is freed by conns_reap() when the current
 * batch of events is done (an event for it may still be in that batch). */
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

void conns_reap(struct vsock *vs)
{
	while (!list_empty(&vs->grave)) {
		struct conn *c = container(vs->grave.next, struct conn, grave);
		list_del(&c->grave);
		free(c->buf);
		free(c);
	}
}

/* The driver reset the device, or it is being destroyed: every
 * connection goes, without RSTs (the guest's sockets are gone too). */
void conns_drop_all(struct vsock *vs)
{
	while (!list_empty(&vs->conns)) {
		struct conn *c = container(vs->conns.next, struct conn, all);
		conn_bury(vs, c);
	}
	conns_reap(vs);
	list_init(&vs->ctl);
	list_init(&vs->rx_wait);
}

void conn_ctl_enqueue(struct vsock *vs, struct conn *c)
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
/* control packets to the guest */

/* A header-only packet on C (carries our credit). */
static bool send_ctl(struct vsock *vs, struct conn *c, uint16_t op, uint32_t flags)
{
	if (!vsock_rx_get(vs, &vs->rxc[0], false, false))
		return false;
	vsock_rx_put(vs, &vs->rxc[0], c->host_port, c->guest_port, op, VIRTIO_VSOCK_TYPE_STREAM, 0, flags,
		     c->fwd_cnt);
	c->last_fwd_sent = c->fwd_cnt;
	c->pend_credit = false; /* every packet carries our credit */
	if (op == VIRTIO_VSOCK_OP_RST)
		vs->stats.rst_sent++;
	else if (op == VIRTIO_VSOCK_OP_CREDIT_UPDATE)
		vs->stats.credit_updates++;
	return true;
}

/* Send each queued connection's control packets until the RX buffers run
 * out. Returns false if some are still waiting. */
bool conns_flush_ctl(struct vsock *vs)
{
	while (!list_empty(&vs->ctl)) {
		struct conn *c = container(vs->ctl.next, struct conn, ctl);
		if (c->pend_rst) {
			if (!send_ctl(vs, c, VIRTIO_VSOCK_OP_RST, 0))
				return false;
			c->pend_rst = false;
			conn_bury(vs, c);
			continue;
		}
		if (c->state == C_REQUEST) {
			if (!send_ctl(vs, c, VIRTIO_VSOCK_OP_REQUEST, 0))
				return false;
			c->state = C_REQUEST_SENT;
			continue;
		}
		if (c->state == C_RESPONDING) {
			if (!send_ctl(vs, c, VIRTIO_VSOCK_OP_RESPONSE, 0))
				return false;
			c->state = C_ESTABLISHED;
			conn_update_events(vs, c);
			continue;
		}
		if (c->state == C_ESTABLISHED && c->pend_shutdown) {
			if (!send_ctl(vs, c, VIRTIO_VSOCK_OP_SHUTDOWN, VIRTIO_VSOCK_SHUTDOWN_SEND))
				return false;
			c->pend_shutdown = false;
			continue;
		}
		if (c->state == C_ESTABLISHED && c->pend_credit) {
			if (!send_ctl(vs, c, VIRTIO_VSOCK_OP_CREDIT_UPDATE, 0))
				return false;
			continue;
		}
		list_del(&c->ctl);
		c->on_ctl = false;
	}
	return true;
}

/* ------------------------------------------------------------------ */
/* host -> guest */

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
		if (vsock_rst_pending(vs) || !list_empty(&vs->ctl)) {
			/* Control packets first (they may be waiting for
			 * buffers); data must not overtake a SHUTDOWN. */
			vsock_flush_ctl(vs);
			if (vsock_rst_pending(vs) || !list_empty(&vs->ctl))
				goto starved;
		}
		uint32_t plan[RX_BATCH], total = 0;
		unsigned npop = 0, niov = 0;
		while (npop < RX_BATCH && credit && niov < RX_IOV) {
			struct virtq_chain *ch = &vs->rxc[npop];
			if (!vsock_rx_get(vs, ch, true, npop > 0))
				break;
			uint64_t take = ch->write_len - VSOCK_HDR_SIZE;
			if (take > credit)
				take = credit;
			if (take > VSOCK_MAX_PKT)
				take = VSOCK_MAX_PKT;
			uint64_t got;
			int n = virtq_chain_iov(vs->dev.gm, ch, true, VSOCK_HDR_SIZE, take, vs->iov + niov,
						RX_IOV - (int)niov, &got);
			if (got == 0) { /* no room for even one iovec: keep it for later */
				vsock_rx_unpop(vs, 1);
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
			vsock_rx_unpop(vs, npop);
			if (errno != EAGAIN)
				conn_kill(vs, c, true); /* ECONNRESET and the like */
			return;
		}
		if (r == 0) {
			/* EOF: the host will send no more. The SHUTDOWN goes in
			 * order, after every byte already sent. */
			vsock_rx_unpop(vs, npop);
			c->host_eof = true;
			c->pend_shutdown = true;
			conn_ctl_enqueue(vs, c);
			vsock_flush_ctl(vs);
			return;
		}
		unsigned used = 0;
		for (uint32_t left = (uint32_t)r; left; used++) {
			uint32_t n = left < plan[used] ? left : plan[used];
			vsock_rx_put(vs, &vs->rxc[used], c->host_port, c->guest_port, VIRTIO_VSOCK_OP_RW,
				     VIRTIO_VSOCK_TYPE_STREAM, n, 0, c->fwd_cnt);
			c->tx_cnt += n;
			left -= n;
		}
		c->last_fwd_sent = c->fwd_cnt;
		c->pend_credit = false;
		vsock_rx_unpop(vs, npop - used);
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

/* New RX buffers: resume the sockets that were waiting for them. */
void conns_rx_ready(struct vsock *vs)
{
	while (!list_empty(&vs->rx_wait)) {
		struct conn *c = container(vs->rx_wait.next, struct conn, rxw);
		list_del(&c->rxw);
		c->rx_waiting = false;
		conn_update_events(vs, c);
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
void conn_update_events(struct vsock *vs, struct conn *c)
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
		conn_ctl_enqueue(vs, c);
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
		conn_ctl_enqueue(vs, c);
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

/* ------------------------------------------------------------------ */
/* host-initiated connections */

static uint32_t alloc_host_port(struct vsock *vs, uint32_t guest_port)
{
	for (;;) {
		uint32_t p = vs->next_port++;
		if (vs->next_port < VSOCK_HOST_PORT_BASE)
			vs->next_port = VSOCK_HOST_PORT_BASE;
		if (!conn_lookup(vs, p, guest_port))
			return p;
	}
}

/* A backend's listener gave us FD: its opening request comes next. */
void conn_accept(struct vsock *vs, struct vsock_backend *be, int fd)
{
	struct conn *c = conn_new(vs, fd, C_HELLO);
	if (!c) {
		close(fd);
		return;
	}
	c->be = be;
	conn_update_events(vs, c);
}

static void conn_hello(struct vsock *vs, struct conn *c)
{
	uint32_t port;
	int r = c->be->ops->handshake(c->be->ctx, c->fd, c->line, sizeof(c->line), &c->nline, &port);
	if (r == 0)
		return;
	if (r < 0 || !vs->dev.active) {
		conn_kill(vs, c, false);
		return;
	}
	c->guest_port = port;
	c->host_port = alloc_host_port(vs, port);
	conn_table_add(vs, c);
	c->state = C_REQUEST;
	conn_ctl_enqueue(vs, c);
	conn_update_events(vs, c); /* quiet until the guest answers */
}

/* C's socket is ready (device thread, in a batch of events). */
void conn_event(struct vsock *vs, struct conn *c, uint32_t e)
{
	if (c->buried || c->fd < 0)
		return;
	if (c->state == C_HELLO) {
		conn_hello(vs, c);
		return;
	}
	if (c->state != C_ESTABLISHED)
		return;
	if ((e & (EPOLLOUT | EPOLLERR | EPOLLHUP)) && c->buf_len && conn_flush(vs, c))
		return;
	if (e & (EPOLLIN | EPOLLERR | EPOLLHUP))
		conn_pump_in(vs, c);
	conn_update_events(vs, c);
}

/* ------------------------------------------------------------------ */
/* guest -> host */

/* Guest payload: straight to the socket if nothing is queued before it,
 * the rest into the ring (credit guarantees it fits). -1: connection died. */
static int conn_write(struct vsock *vs, struct conn *c, const struct virtq_chain *ch, uint32_t len)
{
	const struct guest_mem *gm = vs->dev.gm;
	uint64_t off = VSOCK_HDR_SIZE;
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

static void guest_request(struct vsock *vs, const struct vsock_pkt *p)
{
	if (vs->nconns >= VSOCK_MAX_CONNS) {
		vsock_rst_no_conn(vs, p->host_port, p->guest_port, VIRTIO_VSOCK_TYPE_STREAM);
		return;
	}
	struct vsock_backend *be = vsock_backend_for(vs, p->host_port);
	int fd = be ? be->ops->connect(be->ctx, p->host_port) : -1;
	struct conn *c = fd >= 0 ? conn_new(vs, fd, C_RESPONDING) : NULL;
	if (!c) {
		if (fd >= 0)
			close(fd);
		vs->stats.refused++;
		vsock_rst_no_conn(vs, p->host_port, p->guest_port, VIRTIO_VSOCK_TYPE_STREAM);
		return;
	}
	c->be = be;
	c->host_port = p->host_port;
	c->guest_port = p->guest_port;
	c->peer_buf_alloc = p->buf_alloc;
	c->peer_fwd_cnt = p->fwd_cnt;
	conn_table_add(vs, c);
	conn_ctl_enqueue(vs, c);
}

static void guest_response(struct vsock *vs, struct conn *c)
{
	if (c->state != C_REQUEST_SENT) {
		conn_kill(vs, c, true);
		return;
	}
	if (c->be->ops->accepted(c->be->ctx, c->fd, c->host_port)) {
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

/* A guest packet the device checked: what it means for its connection. */
void conn_packet(struct vsock *vs, const struct vsock_pkt *p)
{
	struct conn *c = conn_lookup(vs, p->host_port, p->guest_port);
	if (c && c->state == C_DEAD) {
		/* Our RST for this pair is on its way; a new REQUEST on it
		 * gets one of its own. */
		if (p->op == VIRTIO_VSOCK_OP_REQUEST)
			vsock_rst_no_conn(vs, p->host_port, p->guest_port, VIRTIO_VSOCK_TYPE_STREAM);
		return;
	}
	if (p->type != VIRTIO_VSOCK_TYPE_STREAM) {
		/* SEQPACKET is not offered; answer like Linux does. */
		vs->stats.tx_bad++;
		if (p->op != VIRTIO_VSOCK_OP_RST) {
			if (c)
				conn_kill(vs, c, true);
			else
				vsock_rst_no_conn(vs, p->host_port, p->guest_port,
						  p->type == VIRTIO_VSOCK_TYPE_SEQPACKET ? p->type :
											   VIRTIO_VSOCK_TYPE_STREAM);
		}
		return;
	}
	if (p->len > p->room) {
		/* The header claims more payload than the chain holds: for a
		 * live connection that is lost data, so reset it. */
		vs->stats.tx_bad++;
		if (c)
			conn_kill(vs, c, true);
		return;
	}
	vs->stats.tx_pkts++;
	if (p->op == VIRTIO_VSOCK_OP_RW)
		vs->stats.tx_bytes += p->len;
	if (!c) {
		if (p->op == VIRTIO_VSOCK_OP_REQUEST)
			guest_request(vs, p);
		else if (p->op != VIRTIO_VSOCK_OP_RST)
			vsock_rst_no_conn(vs, p->host_port, p->guest_port, VIRTIO_VSOCK_TYPE_STREAM);
		return;
	}
	if (c->state == C_HELLO || c->state == C_REQUEST) {
		/* Not announced to the guest yet: it cannot know this pair. */
		vsock_rst_no_conn(vs, p->host_port, p->guest_port, VIRTIO_VSOCK_TYPE_STREAM);
		return;
	}
	/* Every header carries the sender's credit. */
	c->peer_buf_alloc = p->buf_alloc;
	c->peer_fwd_cnt = p->fwd_cnt;
	switch (p->op) {
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
		guest_shutdown(vs, c, p->flags);
		break;
	case VIRTIO_VSOCK_OP_RW:
		guest_rw(vs, c, p->ch, p->len);
		break;
	case VIRTIO_VSOCK_OP_CREDIT_UPDATE:
		break;
	case VIRTIO_VSOCK_OP_CREDIT_REQUEST:
		if (c->state == C_ESTABLISHED) {
			c->pend_credit = true;
			conn_ctl_enqueue(vs, c);
		}
		break;
	}
	conn_update_events(vs, c);
}
