/* virtio-vsock connections in a snapshot (vmm/snapshot/): what of
 * vsock_conn.c's state a restored VM keeps. */
#include "vsock_int.h"

#include <linux/virtio_vsock.h>
#include <string.h>
#include <unistd.h>

/* One connection in a snapshot. Only the agent channel lives on in a
 * restored VM (the relay quiesced it: no byte in flight either way);
 * every other connection the guest had is reset there. */
struct conn_snap {
	uint32_t host_port, guest_port;
	uint32_t rx_cnt, fwd_cnt, last_fwd_sent, tx_cnt, peer_buf_alloc, peer_fwd_cnt;
	uint8_t agent, shut_send, shut_rcv, pend_credit;
};

static bool is_agent(const struct conn *c)
{
	return c->be && !strcmp(c->be->ops->name, "agent");
}

long conns_save(struct vsock *vs, uint8_t *buf, size_t cap, struct err *e)
{
	size_t n = 0;
	for (struct link *l = vs->conns.next; l != &vs->conns; l = l->next)
		n++;
	if (cap < 4 + n * sizeof(struct conn_snap))
		return err_set(e, "vsock: %zu connections do not fit in the snapshot", n);
	uint32_t count = 0;
	uint8_t *p = buf + 4;
	for (struct link *l = vs->conns.next; l != &vs->conns; l = l->next) {
		struct conn *c = container(l, struct conn, all);
		struct conn_snap s = { .host_port = c->host_port, .guest_port = c->guest_port };
		if (is_agent(c) && c->state == C_ESTABLISHED) {
			if (c->buf_len || c->rx_cnt != c->fwd_cnt)
				return err_set(e, "vsock: the agent channel has bytes in flight");
			s = (struct conn_snap){ .host_port = c->host_port, .guest_port = c->guest_port,
						.rx_cnt = c->rx_cnt, .fwd_cnt = c->fwd_cnt,
						.last_fwd_sent = c->last_fwd_sent, .tx_cnt = c->tx_cnt,
						.peer_buf_alloc = c->peer_buf_alloc, .peer_fwd_cnt = c->peer_fwd_cnt,
						.agent = 1, .shut_send = c->guest_shut_send,
						.shut_rcv = c->guest_shut_rcv, .pend_credit = c->pend_credit };
		}
		memcpy(p, &s, sizeof(s));
		p += sizeof(s);
		count++;
	}
	memcpy(buf, &count, 4);
	return (long)(p - buf);
}

int conns_restore(struct vsock *vs, const uint8_t *buf, size_t len, struct err *e)
{
	uint32_t count;
	if (len < 4)
		return err_set(e, "vsock: snapshot state cut short");
	memcpy(&count, buf, 4);
	if (count > VSOCK_MAX_CONNS || len != 4 + (size_t)count * sizeof(struct conn_snap))
		return err_set(e, "vsock: snapshot state of %zu bytes for %u connections", len, count);
	if (count && !vs->dev.active)
		return err_set(e, "vsock: connections on a device the driver never brought up");
	bool agent_seen = false;
	for (uint32_t i = 0; i < count; i++) {
		struct conn_snap s;
		memcpy(&s, buf + 4 + i * sizeof(s), sizeof(s));
		if (!s.agent) {
			/* the guest's socket must learn that this one is gone */
			vsock_rst_no_conn(vs, s.host_port, s.guest_port, VIRTIO_VSOCK_TYPE_STREAM);
			continue;
		}
		struct vsock_backend *be = vsock_backend_for(vs, s.host_port);
		if (agent_seen || s.agent != 1 || s.shut_send > 1 || s.shut_rcv > 1 || s.pend_credit > 1 ||
		    s.rx_cnt != s.fwd_cnt || !be || strcmp(be->ops->name, "agent"))
			return err_set(e, "vsock: the snapshot's agent connection is not one this VM can take");
		agent_seen = true;
		int fd = be->ops->connect(be->ctx, s.host_port);
		if (fd < 0)
			return err_sys(e, "vsock: the agent channel");
		struct conn *c = conn_new(vs, fd, C_ESTABLISHED);
		if (!c) {
			close(fd);
			return err_oom(e, "vsock connection");
		}
		c->be = be;
		c->host_port = s.host_port;
		c->guest_port = s.guest_port;
		c->rx_cnt = s.rx_cnt;
		c->fwd_cnt = s.fwd_cnt;
		c->last_fwd_sent = s.last_fwd_sent;
		c->tx_cnt = s.tx_cnt;
		c->peer_buf_alloc = s.peer_buf_alloc;
		c->peer_fwd_cnt = s.peer_fwd_cnt;
		c->guest_shut_send = s.shut_send;
		c->guest_shut_rcv = s.shut_rcv;
		conn_table_add(vs, c);
		if (s.pend_credit) {
			c->pend_credit = true;
			conn_ctl_enqueue(vs, c);
		}
		conn_update_events(vs, c);
	}
	return 0;
}
