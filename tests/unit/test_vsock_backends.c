/* virtio-vsock backends (vsock_dev.h): the device routes a guest connect
 * by host port to the backend registered for it, else to the default one;
 * the agent endpoint gives its socket to the first connect only; the
 * registration rules. Driven by the shared virtio test driver, with the
 * device's event loop dispatched by hand. (test_virtio_vsock.c covers the
 * device, the connection layer and the Unix muxer in depth.) */
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>

#include <linux/virtio_vsock.h>

#include "../../common/proto.h"
#include "../../vmm/devices/vsock_dev.h"
#include "../../vmm/evloop.h"
#include "virtio_driver.h"

#define MEM (2u << 20)
#define QSZ 16
#define RXQ 0
#define TXQ 1
#define EVQ 2
#define RXBUF(i) (0x100000ULL + (i) * 0x1000ULL)
#define TXBUF(i) (0x80000ULL + (i) * 0x1000ULL)
#define HDR ((uint32_t)sizeof(struct virtio_vsock_hdr))
#define CID 3

struct fx {
	struct guest_mem gm;
	struct evloop loop;
	char dir[64];
	struct vsock *vs;
	struct vdev v;
	unsigned tx_next;
};

struct pkt {
	uint32_t src_port, dst_port, len;
	uint16_t op;
	char data[256];
};

static struct fx *fx_new(bool with_unix)
{
	struct fx *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	test_gm_alloc(&f->gm, MEM, 0);
	struct err e = { 0 };
	assert_int_equal(evloop_init(&f->loop, &e), 0);
	snprintf(f->dir, sizeof(f->dir), "/tmp/sandbox-vsockbe-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	if (with_unix) {
		struct vsock_config cfg = { .cid = CID };
		snprintf(cfg.uds, sizeof(cfg.uds), "%s/v.sock", f->dir);
		f->vs = vsock_create(&cfg, &f->loop, &f->gm, &e);
	} else {
		f->vs = vsock_dev_new(CID, &f->loop, &f->gm, &e);
	}
	if (!f->vs)
		fail_msg("%s", e.msg);
	vdev_attach(&f->v, vsock_virtio(f->vs), &f->gm, &f->loop);
	vq_init(&f->v.q[RXQ], &f->gm, QSZ, 0x1000, 0x2000, 0x3000);
	vq_init(&f->v.q[TXQ], &f->gm, QSZ, 0x4000, 0x5000, 0x6000);
	vq_init(&f->v.q[EVQ], &f->gm, QSZ, 0x7000, 0x8000, 0x9000);
	return f;
}

/* Bring the device up with RX buffers (after the backends are added). */
static void fx_start(struct fx *f)
{
	vdev_init(&f->v, F(VIRTIO_F_VERSION_1));
	for (unsigned i = 0; i < QSZ; i++) {
		vq_set_desc(&f->v.q[RXQ], i, RXBUF(i), 4096, VRING_DESC_F_WRITE, 0);
		vq_offer(&f->v.q[RXQ], (uint16_t)i);
	}
	vdev_kick(&f->v, RXQ);
}

static void fx_free(struct fx *f)
{
	if (f->vs)
		vsock_destroy(vsock_virtio(f->vs));
	evloop_free(&f->loop);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	test_gm_release(&f->gm);
	free(f);
}

static void check_sound(struct fx *f)
{
	const char *why = vsock_check_invariants(f->vs);
	if (why)
		fail_msg("invariant: %s", why);
}

/* The guest sends OP from GPORT to HPORT (with LEN bytes of DATA). */
static void gsend(struct fx *f, uint32_t gport, uint32_t hport, uint16_t op, const void *data, uint32_t len)
{
	unsigned k = f->tx_next++ % QSZ;
	struct virtio_vsock_hdr h = {
		.src_cid = htole64(CID), .dst_cid = htole64(VSOCK_HOST_CID),
		.src_port = htole32(gport), .dst_port = htole32(hport),
		.len = htole32(len), .type = htole16(VIRTIO_VSOCK_TYPE_STREAM), .op = htole16(op),
		.buf_alloc = htole32(64 * 1024),
	};
	assert_int_equal(gm_write(&f->gm, TXBUF(k), &h, HDR), 0);
	if (len)
		assert_int_equal(gm_write(&f->gm, TXBUF(k) + HDR, data, len), 0);
	vq_set_desc(&f->v.q[TXQ], k, TXBUF(k), HDR + len, 0, 0);
	vq_offer(&f->v.q[TXQ], (uint16_t)k);
	vdev_kick(&f->v, TXQ);
	assert_int_equal(vq_take(&f->v.q[TXQ]).id, k);
	check_sound(f);
}

/* The next packet to the guest (its buffer goes back to the device). */
static void grecv(struct fx *f, struct pkt *p)
{
	vdev_pump(&f->v);
	struct vring_used_elem e = vq_take(&f->v.q[RXQ]);
	struct virtio_vsock_hdr h;
	assert_int_equal(gm_read(&f->gm, &h, RXBUF(e.id), HDR), 0);
	p->src_port = le32toh(h.src_port);
	p->dst_port = le32toh(h.dst_port);
	p->len = le32toh(h.len);
	p->op = le16toh(h.op);
	assert_true(p->len < sizeof(p->data));
	assert_int_equal(gm_read(&f->gm, p->data, RXBUF(e.id) + HDR, p->len), 0);
	p->data[p->len] = '\0';
	vq_offer(&f->v.q[RXQ], (uint16_t)e.id);
	vdev_kick(&f->v, RXQ);
	check_sound(f);
}

static void expect(struct fx *f, uint32_t hport, uint32_t gport, uint16_t op)
{
	struct pkt p;
	grecv(f, &p);
	if (p.op != op || p.src_port != hport || p.dst_port != gport)
		fail_msg("got op %u %u->%u, want op %u %u->%u", p.op, p.src_port, p.dst_port, op, hport, gport);
}

static void test_agent_endpoint(void **state)
{
	(void)state;
	struct fx *f = fx_new(true);
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
	struct err e = { 0 };
	assert_int_equal(vsock_add_agent(f->vs, SB_AGENT_PORT, sv[0], &e), 0);
	fx_start(f);

	/* The agent connects and gets the socket: bytes both ways. */
	gsend(f, 1000, SB_AGENT_PORT, VIRTIO_VSOCK_OP_REQUEST, NULL, 0);
	expect(f, SB_AGENT_PORT, 1000, VIRTIO_VSOCK_OP_RESPONSE);
	assert_int_equal(send(sv[1], "ping", 4, 0), 4);
	struct pkt p;
	grecv(f, &p);
	assert_int_equal(p.op, VIRTIO_VSOCK_OP_RW);
	assert_string_equal(p.data, "ping");
	gsend(f, 1000, SB_AGENT_PORT, VIRTIO_VSOCK_OP_RW, "pong", 4);
	char buf[16] = { 0 };
	assert_int_equal(recv(sv[1], buf, sizeof(buf), MSG_DONTWAIT), 4);
	assert_string_equal(buf, "pong");

	/* Anyone else is refused: the channel is the agent's. */
	gsend(f, 1001, SB_AGENT_PORT, VIRTIO_VSOCK_OP_REQUEST, NULL, 0);
	expect(f, SB_AGENT_PORT, 1001, VIRTIO_VSOCK_OP_RST);
	assert_int_equal(vsock_get_stats(f->vs)->refused, 1);
	/* ... also once the agent has let go of it. */
	gsend(f, 1000, SB_AGENT_PORT, VIRTIO_VSOCK_OP_RST, NULL, 0);
	assert_int_equal(recv(sv[1], buf, sizeof(buf), MSG_DONTWAIT), 0);
	gsend(f, 1002, SB_AGENT_PORT, VIRTIO_VSOCK_OP_REQUEST, NULL, 0);
	expect(f, SB_AGENT_PORT, 1002, VIRTIO_VSOCK_OP_RST);
	assert_int_equal(vsock_get_stats(f->vs)->refused, 2);
	assert_int_equal(vsock_nconns(f->vs), 0);
	close(sv[1]);
	fx_free(f);
}

static void test_agent_fd_closed_when_unused(void **state)
{
	(void)state;
	struct fx *f = fx_new(true);
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
	struct err e = { 0 };
	assert_int_equal(vsock_add_agent(f->vs, SB_AGENT_PORT, sv[0], &e), 0);
	/* A second endpoint for the same port is an error, and that fd stays
	 * the caller's. */
	int sv2[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv2), 0);
	assert_int_equal(vsock_add_agent(f->vs, SB_AGENT_PORT, sv2[0], &e), -1);
	assert_err_contains(&e, "already served by agent");
	assert_int_not_equal(fcntl(sv2[0], F_GETFD), -1);
	close(sv2[0]);
	close(sv2[1]);
	vsock_destroy(vsock_virtio(f->vs));
	f->vs = NULL;
	char c;
	assert_int_equal(recv(sv[1], &c, 1, MSG_DONTWAIT), 0); /* our end was closed */
	close(sv[1]);
	fx_free(f);
}

/* A backend of the test's own: socketpairs, counting what it is asked. */
struct test_be {
	unsigned connects, destroyed;
	uint32_t last_port;
	int peer;
};

static int tb_connect(void *ctx, uint32_t port)
{
	struct test_be *t = ctx;
	t->connects++;
	t->last_port = port;
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv))
		return -1;
	if (t->peer >= 0)
		close(t->peer);
	t->peer = sv[1];
	return sv[0];
}

static void tb_destroy(void *ctx) { ((struct test_be *)ctx)->destroyed++; }
static int tb_listen_fd(void *ctx) { (void)ctx; return -1; }

static const struct vsock_backend_ops tb_ops = { .name = "test", .connect = tb_connect, .destroy = tb_destroy };

static void test_routing_by_port(void **state)
{
	(void)state;
	struct fx *f = fx_new(true); /* the Unix muxer serves any port */
	struct test_be t = { .peer = -1 };
	struct err e = { 0 };
	assert_int_equal(vsock_add_backend(f->vs, 77, &tb_ops, &t, &e), 0);
	fx_start(f);
	gsend(f, 2000, 77, VIRTIO_VSOCK_OP_REQUEST, NULL, 0);
	expect(f, 77, 2000, VIRTIO_VSOCK_OP_RESPONSE);
	assert_int_equal(t.connects, 1);
	assert_int_equal(t.last_port, 77);
	gsend(f, 2000, 77, VIRTIO_VSOCK_OP_RW, "via test", 8);
	char buf[16] = { 0 };
	assert_int_equal(recv(t.peer, buf, sizeof(buf), MSG_DONTWAIT), 8);
	assert_string_equal(buf, "via test");
	/* Port 78 goes to the default backend (nothing listens at PATH_78). */
	gsend(f, 2001, 78, VIRTIO_VSOCK_OP_REQUEST, NULL, 0);
	expect(f, 78, 2001, VIRTIO_VSOCK_OP_RST);
	assert_int_equal(t.connects, 1);
	assert_int_equal(t.destroyed, 0);
	vsock_destroy(vsock_virtio(f->vs));
	f->vs = NULL;
	assert_int_equal(t.destroyed, 1);
	close(t.peer);
	fx_free(f);
}

static void test_no_backend_refuses(void **state)
{
	(void)state;
	struct fx *f = fx_new(false);
	fx_start(f);
	gsend(f, 3000, SB_AGENT_PORT, VIRTIO_VSOCK_OP_REQUEST, NULL, 0);
	expect(f, SB_AGENT_PORT, 3000, VIRTIO_VSOCK_OP_RST);
	assert_int_equal(vsock_get_stats(f->vs)->refused, 1);
	fx_free(f);
}

static void test_registration_rules(void **state)
{
	(void)state;
	struct fx *f = fx_new(true);
	struct test_be t = { .peer = -1 };
	struct err e = { 0 };
	assert_int_equal(vsock_add_backend(f->vs, VSOCK_ANY_PORT, &tb_ops, &t, &e), -1);
	assert_err_contains(&e, "already served by unix");
	assert_int_equal(vsock_add_backend(f->vs, (uint64_t)UINT32_MAX + 1, &tb_ops, &t, &e), -1);
	assert_err_contains(&e, "out of range");
	static const struct vsock_backend_ops half = { .name = "half", .connect = tb_connect,
						       .listen_fd = NULL, .accept = NULL, .destroy = tb_destroy };
	static const struct vsock_backend_ops no_accept = { .name = "listener", .connect = tb_connect,
							    .listen_fd = tb_listen_fd, .destroy = tb_destroy };
	assert_int_equal(vsock_add_backend(f->vs, 5, &no_accept, &t, &e), -1);
	assert_err_contains(&e, "incomplete ops");
	unsigned n = 1; /* the Unix muxer */
	for (uint32_t port = 10; n < VSOCK_MAX_BACKENDS; port++, n++)
		assert_int_equal(vsock_add_backend(f->vs, port, &half, &t, &e), 0);
	assert_int_equal(vsock_add_backend(f->vs, 99, &half, &t, &e), -1);
	assert_err_contains(&e, "more than");
	assert_int_equal(t.destroyed, 0); /* failures leave CTX to the caller */
	vsock_destroy(vsock_virtio(f->vs));
	f->vs = NULL;
	assert_int_equal(t.destroyed, VSOCK_MAX_BACKENDS - 1);
	fx_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_agent_endpoint),
		cmocka_unit_test(test_agent_fd_closed_when_unused),
		cmocka_unit_test(test_routing_by_port),
		cmocka_unit_test(test_no_backend_refuses),
		cmocka_unit_test(test_registration_rules),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
