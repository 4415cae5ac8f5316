/* virtio-vsock connections seen from outside: what tests, fuzz targets
 * and `conns_check` (the layer's invariants) read of vsock_conn.c's
 * state, never changing it. */
#include "vsock_int.h"

#include <sys/epoll.h>

static void conn_info(const struct conn *c, struct vsock_conn_info *out)
{
	*out = (struct vsock_conn_info){
		.serial = c->serial,
		.host_port = c->host_port,
		.guest_port = c->guest_port,
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
}

bool vsock_conn_info(struct vsock *vs, uint32_t host_port, uint32_t guest_port, struct vsock_conn_info *out)
{
	struct conn *c = conn_lookup(vs, host_port, guest_port);
	if (!c || c->state == C_DEAD)
		return false;
	conn_info(c, out);
	return true;
}

void vsock_foreach_conn(struct vsock *vs, void (*fn)(void *arg, const struct vsock_conn_info *ci), void *arg)
{
	for (struct link *l = vs->conns.next; l != &vs->conns; l = l->next) {
		const struct conn *c = container(l, struct conn, all);
		if (c->state == C_DEAD || c->state == C_HELLO)
			continue;
		struct vsock_conn_info ci;
		conn_info(c, &ci);
		fn(arg, &ci);
	}
}

const char *conns_check(struct vsock *vs)
{
	unsigned n = 0;
	for (struct link *l = vs->conns.next; l != &vs->conns; l = l->next, n++) {
		const struct conn *c = container(l, struct conn, all);
		if (c->buried)
			return "a buried connection on the list of live ones";
		if (c->buf_len > VSOCK_BUF_ALLOC || c->buf_head >= VSOCK_BUF_ALLOC)
			return "a connection's ring beyond VSOCK_BUF_ALLOC";
		/* (A dead connection's counters stop where the socket failed.) */
		if (c->state != C_DEAD && c->buf_len != c->rx_cnt - c->fwd_cnt)
			return "buffered bytes differ from received minus forwarded";
		if (c->buf_len && !c->buf)
			return "buffered bytes without a ring";
		if (c->registered && c->fd < 0)
			return "a closed socket in the epoll set";
		if (c->rx_waiting != !list_empty(&c->rxw))
			return "rx_waiting and the RX wait list disagree";
		if (c->on_ctl != !list_empty(&c->ctl))
			return "on_ctl and the control list disagree";
		if (c->state == C_HELLO && c->in_table)
			return "a connection in HELLO in the table";
		if (c->in_table && conn_lookup(vs, c->host_port, c->guest_port) != c)
			return "a connection in the table that lookup does not find";
		if (c->state != C_DEAD && c->state != C_HELLO && !c->in_table)
			return "a live connection outside the table";
		if (c->state == C_DEAD && !c->pend_rst)
			return "a dead connection with no RST to send";
		if (c->state == C_HELLO && !c->be)
			return "a host connection without a backend";
	}
	if (n != vs->nconns)
		return "nconns differs from the list of connections";
	if (vs->nconns > VSOCK_MAX_CONNS)
		return "more connections than VSOCK_MAX_CONNS";
	if (!list_empty(&vs->grave))
		return "connections left unfreed after a batch";
	return NULL;
}
