/* virtio-vsock through the virtio-mmio transport: the shared test driver
 * (virtio_driver.h) plays the guest (rings in malloc'd guest memory), real
 * Unix sockets in a temporary directory play the host, and the device's
 * event loop is pumped by hand so every step is deterministic. Covers
 * connects both ways, byte-exact data both ways, credit accounting and
 * back-pressure, half-close, RST, reset, and hostile packets and buffers
 * (each must fail on its own while the device keeps serving). */
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <linux/virtio_ids.h>
#include <linux/virtio_vsock.h>

#include "../../vmm/devices/vsock_dev.h"
#include "../../vmm/evloop.h"
#include "virtio_driver.h"

#define MEM (8u << 20)
#define QSZ 64
#define RING(q) (0x10000ULL + (q) * 0x1000ULL)
#define DESC(q) RING(q)
#define AVAIL(q) (RING(q) + 0x400)
#define USED(q) (RING(q) + 0x600)
#define RXBUF(i) (0x100000ULL + (i) * 0x2000ULL)  /* up to 8 KiB each */
#define TXHDR(k) (0x200000ULL + (k) * 0x40ULL)
#define TXDATA(k) (0x300000ULL + (k) * 0x10000ULL) /* 64 KiB each */
#define TXPAIRS (QSZ / 2)
#define HDR ((uint32_t)sizeof(struct virtio_vsock_hdr))
#define CID 3
#define RXQ 0
#define TXQ 1
#define EVQ 2

struct fx {
	struct guest_mem gm;
	struct evloop loop;
	struct vsock *vs;
	struct virtio_dev *d;
	struct vdev v;            /* the driver: v.q[RXQ], v.q[TXQ], v.q[EVQ] */
	char dir[64];
	char uds[108];
	unsigned tx_next;
	bool rx_busy[QSZ];        /* descriptor posted to the device */
	uint32_t rx_size;         /* size of the buffers rx_post() offers */
	bool auto_refill;         /* re-post an RX buffer once it is read */
};

static struct vq *rxq(struct fx *f) { return &f->v.q[RXQ]; }
static struct vq *txq(struct fx *f) { return &f->v.q[TXQ]; }

struct pkt {
	uint64_t src_cid, dst_cid;
	uint32_t src_port, dst_port, len, flags, buf_alloc, fwd_cnt;
	uint16_t type, op;
	uint32_t used_len;
	uint8_t data[8192];
};

/* A guest-side stream as the test's "guest kernel" tracks it. */
struct gconn {
	uint32_t gport, hport;
	uint32_t buf_alloc, fwd_cnt;          /* what we advertise */
	uint32_t tx_cnt;                      /* payload we sent */
	uint32_t peer_buf_alloc, peer_fwd_cnt; /* the device's credit */
	int host;                             /* the Unix end */
};

/* ------------------------------------------------------------------ */
/* the driver */

static void driver_init(struct fx *f, bool event_idx)
{
	memset(f->rx_busy, 0, sizeof(f->rx_busy));
	f->tx_next = 0;
	vdev_init(&f->v, F(VIRTIO_F_VERSION_1) | (event_idx ? F(VIRTIO_RING_F_EVENT_IDX) : 0));
}

/* Offer N more RX buffers of f->rx_size bytes (free descriptors). */
static void rx_post(struct fx *f, unsigned n)
{
	for (unsigned i = 0; i < QSZ && n; i++) {
		if (f->rx_busy[i])
			continue;
		vq_set_desc(rxq(f), i, RXBUF(i), f->rx_size, VRING_DESC_F_WRITE, 0);
		f->rx_busy[i] = true;
		vq_offer(rxq(f), (uint16_t)i);
		n--;
	}
	vdev_kick(&f->v, RXQ);
}

static unsigned rx_free(struct fx *f)
{
	unsigned n = 0;
	for (unsigned i = 0; i < QSZ; i++)
		n += !f->rx_busy[i];
	return n;
}

/* The next packet the device gave the guest, if any. */
static bool rx_take(struct fx *f, struct pkt *p)
{
	if (!vq_pending(rxq(f)))
		return false;
	struct vring_used_elem e = vq_take(rxq(f));
	assert_true(e.id < QSZ);
	assert_true(f->rx_busy[e.id]);
	f->rx_busy[e.id] = false;
	memset(p, 0, sizeof(*p));
	p->used_len = e.len;
	if (e.len >= HDR) {
		struct virtio_vsock_hdr h;
		assert_int_equal(gm_read(&f->gm, &h, RXBUF(e.id), HDR), 0);
		p->src_cid = le64toh(h.src_cid);
		p->dst_cid = le64toh(h.dst_cid);
		p->src_port = le32toh(h.src_port);
		p->dst_port = le32toh(h.dst_port);
		p->len = le32toh(h.len);
		p->type = le16toh(h.type);
		p->op = le16toh(h.op);
		p->flags = le32toh(h.flags);
		p->buf_alloc = le32toh(h.buf_alloc);
		p->fwd_cnt = le32toh(h.fwd_cnt);
		assert_int_equal(p->used_len, HDR + p->len);
		assert_true(p->len <= f->rx_size - HDR);
		assert_int_equal(gm_read(&f->gm, p->data, RXBUF(e.id) + HDR, p->len), 0);
		/* Every packet comes from the host to us. */
		assert_int_equal(p->src_cid, VSOCK_HOST_CID);
		assert_int_equal(p->dst_cid, CID);
	}
	if (f->auto_refill)
		rx_post(f, 1);
	return true;
}

static void put_hdr(struct virtio_vsock_hdr *h, uint64_t src_cid, uint64_t dst_cid, uint32_t src_port,
		    uint32_t dst_port, uint16_t op, uint16_t type, uint32_t len, uint32_t flags, uint32_t buf_alloc,
		    uint32_t fwd_cnt)
{
	*h = (struct virtio_vsock_hdr){
		.src_cid = htole64(src_cid),
		.dst_cid = htole64(dst_cid),
		.src_port = htole32(src_port),
		.dst_port = htole32(dst_port),
		.len = htole32(len),
		.type = htole16(type),
		.op = htole16(op),
		.flags = htole32(flags),
		.buf_alloc = htole32(buf_alloc),
		.fwd_cnt = htole32(fwd_cnt),
	};
}

/* Offer a TX packet: the header and (if any) NDATA payload bytes in a
 * second descriptor, as Linux does; no kick. */
static void tx_offer(struct fx *f, const struct virtio_vsock_hdr *h, const void *data, uint32_t ndata)
{
	unsigned k = f->tx_next++ % TXPAIRS;
	assert_int_equal(gm_write(&f->gm, TXHDR(k), h, HDR), 0);
	if (ndata) {
		assert_true(ndata <= 0x10000);
		assert_int_equal(gm_write(&f->gm, TXDATA(k), data, ndata), 0);
		vq_set_desc(txq(f), 2 * k, TXHDR(k), HDR, VRING_DESC_F_NEXT, (uint16_t)(2 * k + 1));
		vq_set_desc(txq(f), 2 * k + 1, TXDATA(k), ndata, 0, 0);
	} else {
		vq_set_desc(txq(f), 2 * k, TXHDR(k), HDR, 0, 0);
	}
	vq_offer(txq(f), (uint16_t)(2 * k));
}

static void tx_raw(struct fx *f, const struct virtio_vsock_hdr *h, const void *data, uint32_t ndata)
{
	uint16_t before = vq_used_idx(txq(f));
	tx_offer(f, h, data, ndata);
	vdev_kick(&f->v, TXQ);
	/* Whatever it was, the device completed it, with nothing written. */
	assert_int_equal(vq_used_idx(txq(f)), (uint16_t)(before + 1));
	struct vring_used_elem e = vq_used_elem(txq(f), before);
	assert_int_equal(e.len, 0);
}

/* Send OP on G with our credit. */
static void gsend(struct fx *f, struct gconn *g, uint16_t op, uint32_t flags, const void *data, uint32_t len)
{
	struct virtio_vsock_hdr h;
	put_hdr(&h, CID, VSOCK_HOST_CID, g->gport, g->hport, op, VIRTIO_VSOCK_TYPE_STREAM, len, flags, g->buf_alloc,
		g->fwd_cnt);
	if (op == VIRTIO_VSOCK_OP_RW)
		g->tx_cnt += len;
	tx_raw(f, &h, data, len);
}

static uint32_t gcredit(const struct gconn *g)
{
	uint32_t used = g->tx_cnt - g->peer_fwd_cnt;
	return used >= g->peer_buf_alloc ? 0 : g->peer_buf_alloc - used;
}

/* Take the next packet, which must be for G; update G's view of the
 * device's credit and count received payload as consumed (the guest app
 * reads it at once) unless HOLD. */
static bool grecv(struct fx *f, struct gconn *g, struct pkt *p, bool hold)
{
	if (!rx_take(f, p))
		return false;
	assert_int_equal(p->src_port, g->hport);
	assert_int_equal(p->dst_port, g->gport);
	assert_int_equal(p->type, VIRTIO_VSOCK_TYPE_STREAM);
	g->peer_buf_alloc = p->buf_alloc;
	g->peer_fwd_cnt = p->fwd_cnt;
	if (p->op == VIRTIO_VSOCK_OP_RW && !hold)
		g->fwd_cnt += p->len;
	return true;
}

static void expect_pkt(struct fx *f, struct gconn *g, uint16_t op)
{
	struct pkt p;
	assert_true(grecv(f, g, &p, false));
	if (p.op != op)
		fail_msg("got op %u, want %u", p.op, op);
}

static void expect_no_pkt(struct fx *f)
{
	struct pkt p;
	if (rx_take(f, &p))
		fail_msg("unexpected packet op %u %u->%u len %u", p.op, p.src_port, p.dst_port, p.len);
}

/* ------------------------------------------------------------------ */
/* host side */

static int host_listen(struct fx *f, uint32_t port)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	int n = snprintf(a.sun_path, sizeof(a.sun_path), "%s_%u", f->uds, port);
	assert_true(n > 0 && (size_t)n < sizeof(a.sun_path));
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(fd, 8), 0);
	return fd;
}

static int host_connect(struct fx *f)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", f->uds);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	return fd;
}

static void host_write(int fd, const void *buf, size_t len)
{
	assert_int_equal(send(fd, buf, len, MSG_NOSIGNAL), (ssize_t)len);
}

/* Read what is there without blocking; -1 on EOF with nothing read. */
static ssize_t host_read(int fd, void *buf, size_t len)
{
	ssize_t r = recv(fd, buf, len, MSG_DONTWAIT);
	if (r < 0) {
		assert_true(errno == EAGAIN);
		return 0;
	}
	return r == 0 ? -1 : r;
}

/* Read exactly LEN bytes, pumping the device while the socket is empty. */
static void host_read_exact(struct fx *f, int fd, void *buf, size_t len)
{
	size_t n = 0;
	for (unsigned idle = 0; n < len; idle++) {
		assert_true(idle < 1000);
		ssize_t r = host_read(fd, (uint8_t *)buf + n, len - n);
		assert_true(r >= 0);
		if (r == 0)
			vdev_pump(&f->v);
		n += (size_t)r;
	}
}

static bool host_at_eof(int fd)
{
	char c;
	ssize_t r = recv(fd, &c, 1, MSG_DONTWAIT);
	return r == 0 || (r < 0 && errno == ECONNRESET);
}

static void pattern(uint8_t *buf, size_t len, uint64_t off, uint8_t seed)
{
	for (size_t i = 0; i < len; i++) {
		uint64_t x = off + i;
		buf[i] = (uint8_t)(x * 131 + (x >> 8) * 7 + (x >> 16) + seed);
	}
}

static void check_pattern(const uint8_t *buf, size_t len, uint64_t off, uint8_t seed)
{
	for (size_t i = 0; i < len; i++) {
		uint64_t x = off + i;
		uint8_t want = (uint8_t)(x * 131 + (x >> 8) * 7 + (x >> 16) + seed);
		if (buf[i] != want)
			fail_msg("byte %llu: got 0x%02x, want 0x%02x", (unsigned long long)x, buf[i], want);
	}
}

/* ------------------------------------------------------------------ */
/* fixture */

static struct fx *fx_new(void)
{
	struct fx *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	test_gm_alloc(&f->gm, MEM, 0);
	struct err e;
	assert_int_equal(evloop_init(&f->loop, &e), 0);
	snprintf(f->dir, sizeof(f->dir), "/tmp/sandbox-vsock-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->uds, sizeof(f->uds), "%s/v.sock", f->dir);
	struct vsock_config cfg;
	char spec[200];
	snprintf(spec, sizeof(spec), "cid=%u,uds=%s", CID, f->uds);
	assert_int_equal(vsock_parse(spec, &cfg, &e), 0);
	f->vs = vsock_create(&cfg, &f->loop, &f->gm, &e);
	if (!f->vs)
		fail_msg("vsock_create: %s", e.msg);
	f->d = vsock_virtio(f->vs);
	vdev_attach(&f->v, f->d, &f->gm, &f->loop);
	for (unsigned q = 0; q < 3; q++)
		vq_init(&f->v.q[q], &f->gm, QSZ, DESC(q), AVAIL(q), USED(q));
	f->rx_size = 4096;
	f->auto_refill = true;
	return f;
}

static int setup(void **state)
{
	struct fx *f = fx_new();
	driver_init(f, true);
	rx_post(f, QSZ);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	vsock_destroy(f->d);
	evloop_free(&f->loop);
	/* The device removed its socket; remove ours and the directory. */
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	assert_int_equal(system(cmd), 0);
	test_gm_release(&f->gm);
	free(f);
	return 0;
}

/* Guest connects to host port HPORT from GPORT; returns the accepted Unix
 * end in g->host. The listener L stays open. */
static void guest_connect(struct fx *f, struct gconn *g, int l, uint32_t gport, uint32_t hport, uint32_t buf_alloc)
{
	*g = (struct gconn){ .gport = gport, .hport = hport, .buf_alloc = buf_alloc, .host = -1 };
	gsend(f, g, VIRTIO_VSOCK_OP_REQUEST, 0, NULL, 0);
	struct pkt p;
	assert_true(grecv(f, g, &p, false));
	assert_int_equal(p.op, VIRTIO_VSOCK_OP_RESPONSE);
	assert_int_equal(p.buf_alloc, VSOCK_BUF_ALLOC);
	assert_int_equal(p.fwd_cnt, 0);
	assert_int_equal(p.len, 0);
	g->host = accept4(l, NULL, NULL, SOCK_CLOEXEC);
	assert_true(g->host >= 0);
}

/* Host connects through the device's socket to guest port GPORT; the
 * guest accepts. */
static void host_connect_to_guest(struct fx *f, struct gconn *g, uint32_t gport, uint32_t buf_alloc)
{
	int h = host_connect(f);
	char line[32];
	int n = snprintf(line, sizeof(line), "CONNECT %u\n", gport);
	host_write(h, line, (size_t)n);
	vdev_pump(&f->v);
	struct pkt p;
	assert_true(rx_take(f, &p));
	assert_int_equal(p.op, VIRTIO_VSOCK_OP_REQUEST);
	assert_int_equal(p.dst_port, gport);
	assert_true(p.src_port >= VSOCK_HOST_PORT_BASE);
	assert_int_equal(p.buf_alloc, VSOCK_BUF_ALLOC);
	*g = (struct gconn){ .gport = gport, .hport = p.src_port, .buf_alloc = buf_alloc, .host = h,
			     .peer_buf_alloc = p.buf_alloc, .peer_fwd_cnt = p.fwd_cnt };
	gsend(f, g, VIRTIO_VSOCK_OP_RESPONSE, 0, NULL, 0);
	char ok[32] = { 0 };
	n = snprintf(line, sizeof(line), "OK %u\n", g->hport);
	/* Exactly the OK line: anything after it is data from the guest. */
	assert_int_equal(recv(h, ok, (size_t)n, MSG_DONTWAIT), n);
	assert_string_equal(ok, line);
}

/* The host end of G closes: the guest hears SHUTDOWN(SEND), then resets. */
static void host_close(struct fx *f, struct gconn *g)
{
	close(g->host);
	g->host = -1;
	vdev_pump(&f->v);
	struct pkt p;
	assert_true(grecv(f, g, &p, false));
	assert_int_equal(p.op, VIRTIO_VSOCK_OP_SHUTDOWN);
	assert_int_equal(p.flags, VIRTIO_VSOCK_SHUTDOWN_SEND);
	gsend(f, g, VIRTIO_VSOCK_OP_RST, 0, NULL, 0);
	expect_no_pkt(f);
}

/* A fresh guest connection moves data both ways: the device still serves. */
static void connection_works(struct fx *f)
{
	static uint32_t gport = 40000;
	int l = host_listen(f, 7777);
	struct gconn g;
	guest_connect(f, &g, l, gport++, 7777, 65536);
	gsend(f, &g, VIRTIO_VSOCK_OP_RW, 0, "ping", 4);
	char buf[16] = { 0 };
	assert_int_equal(host_read(g.host, buf, sizeof(buf)), 4);
	assert_string_equal(buf, "ping");
	host_write(g.host, "pong", 4);
	vdev_pump(&f->v);
	struct pkt p;
	assert_true(grecv(f, &g, &p, false));
	assert_int_equal(p.op, VIRTIO_VSOCK_OP_RW);
	assert_int_equal(p.len, 4);
	assert_memory_equal(p.data, "pong", 4);
	gsend(f, &g, VIRTIO_VSOCK_OP_SHUTDOWN, VIRTIO_VSOCK_SHUTDOWN_RCV | VIRTIO_VSOCK_SHUTDOWN_SEND, NULL, 0);
	expect_pkt(f, &g, VIRTIO_VSOCK_OP_RST);
	assert_true(host_at_eof(g.host));
	close(g.host);
	close(l);
	char path[160];
	snprintf(path, sizeof(path), "%s_7777", f->uds);
	unlink(path);
}

/* ------------------------------------------------------------------ */
/* tests */

static void test_config_and_features(void **state)
{
	struct fx *f = *state;
	assert_int_equal(vdev_rd(&f->v, VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_VSOCK);
	assert_int_equal(vdev_rd(&f->v, VIRTIO_MMIO_CONFIG), CID);
	assert_int_equal(vdev_rd(&f->v, VIRTIO_MMIO_CONFIG + 4), 0);
	uint8_t b[8];
	for (unsigned i = 0; i < 8; i++)
		virtio_mmio_io(f->d, VIRTIO_MMIO_CONFIG + i, &b[i], 1, false);
	assert_int_equal(b[0], CID);
	assert_true(all_bytes(b + 1, 7, 0));
	/* Read-only, and nothing beyond 8 bytes. */
	uint32_t v = 99;
	virtio_mmio_io(f->d, VIRTIO_MMIO_CONFIG, (uint8_t *)&v, 4, true);
	assert_int_equal(vdev_rd(&f->v, VIRTIO_MMIO_CONFIG), CID);
	assert_int_equal(vdev_rd(&f->v, VIRTIO_MMIO_CONFIG + 8), 0xffffffff);
	/* Stream only: no SEQPACKET feature. */
	vdev_wr(&f->v, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	assert_int_equal(vdev_rd(&f->v, VIRTIO_MMIO_DEVICE_FEATURES) & (1u << VIRTIO_VSOCK_F_SEQPACKET), 0);
}

static void test_guest_connect_data_both_ways(void **state)
{
	struct fx *f = *state;
	int l = host_listen(f, 5000);
	struct gconn g;
	guest_connect(f, &g, l, 1234, 5000, 65536);
	assert_int_equal(vsock_nconns(f->vs), 1);

	/* guest -> host, byte-exact, several packets */
	uint8_t *buf = malloc(200000);
	pattern(buf, 200000, 0, 1);
	for (uint32_t off = 0; off < 150000; off += 50000)
		gsend(f, &g, VIRTIO_VSOCK_OP_RW, 0, buf + off, 50000);
	uint8_t *got = malloc(200000);
	host_read_exact(f, g.host, got, 150000);
	check_pattern(got, 150000, 0, 1);
	char extra;
	assert_int_equal(host_read(g.host, &extra, 1), 0);
	struct vsock_conn_info ci;
	assert_true(vsock_conn_info(f->vs, 5000, 1234, &ci));
	assert_int_equal(ci.rx_cnt, 150000);
	assert_int_equal(ci.fwd_cnt, 150000);
	assert_int_equal(ci.buffered, 0);

	/* host -> guest: split into the guest's 4 KiB buffers, in order */
	pattern(buf, 100000, 0, 2);
	host_write(g.host, buf, 100000);
	vdev_pump(&f->v);
	size_t m = 0;
	struct pkt p;
	while (m < 100000) {
		if (!grecv(f, &g, &p, false)) {
			/* Out of credit: tell the device what we consumed. */
			gsend(f, &g, VIRTIO_VSOCK_OP_CREDIT_UPDATE, 0, NULL, 0);
			assert_true(grecv(f, &g, &p, false));
		}
		if (p.op == VIRTIO_VSOCK_OP_CREDIT_UPDATE)
			continue; /* the host drained what we sent before */
		assert_int_equal(p.op, VIRTIO_VSOCK_OP_RW);
		assert_true(p.len > 0 && p.len <= 4096 - HDR);
		check_pattern(p.data, p.len, m, 2);
		m += p.len;
	}
	assert_int_equal(m, 100000);
	assert_true(vsock_conn_info(f->vs, 5000, 1234, &ci));
	assert_int_equal(ci.tx_cnt, 100000);

	/* The guest closes: the host sees EOF, the device answers RST. */
	gsend(f, &g, VIRTIO_VSOCK_OP_SHUTDOWN, VIRTIO_VSOCK_SHUTDOWN_RCV | VIRTIO_VSOCK_SHUTDOWN_SEND, NULL, 0);
	expect_pkt(f, &g, VIRTIO_VSOCK_OP_RST);
	assert_true(host_at_eof(g.host));
	assert_int_equal(vsock_nconns(f->vs), 0);
	expect_no_pkt(f);
	free(buf);
	free(got);
	close(g.host);
	close(l);
}

static void test_guest_connect_refused(void **state)
{
	struct fx *f = *state;
	struct gconn g = { .gport = 1111, .hport = 5001, .buf_alloc = 4096 };
	gsend(f, &g, VIRTIO_VSOCK_OP_REQUEST, 0, NULL, 0);
	expect_pkt(f, &g, VIRTIO_VSOCK_OP_RST);
	assert_int_equal(vsock_get_stats(f->vs)->refused, 1);
	assert_int_equal(vsock_nconns(f->vs), 0);
	/* A listener that went away (stale socket file) is refused too. */
	int l = host_listen(f, 5001);
	close(l);
	gsend(f, &g, VIRTIO_VSOCK_OP_REQUEST, 0, NULL, 0);
	expect_pkt(f, &g, VIRTIO_VSOCK_OP_RST);
	assert_int_equal(vsock_get_stats(f->vs)->refused, 2);
	connection_works(f);
}

static void test_host_connect(void **state)
{
	struct fx *f = *state;
	int h = host_connect(f);
	/* The CONNECT line arrives in pieces, with data right behind it. */
	host_write(h, "CONN", 4);
	vdev_pump(&f->v);
	expect_no_pkt(f);
	host_write(h, "ECT 52\nearly", 12);
	vdev_pump(&f->v);
	struct pkt p;
	assert_true(rx_take(f, &p));
	assert_int_equal(p.op, VIRTIO_VSOCK_OP_REQUEST);
	assert_int_equal(p.dst_port, 52);
	assert_true(p.src_port >= VSOCK_HOST_PORT_BASE);
	struct gconn g = { .gport = 52, .hport = p.src_port, .buf_alloc = 65536, .host = h };
	/* Nothing is relayed before the guest accepts. */
	expect_no_pkt(f);
	gsend(f, &g, VIRTIO_VSOCK_OP_RESPONSE, 0, NULL, 0);
	char line[32], want[32];
	int n = snprintf(want, sizeof(want), "OK %u\n", g.hport);
	memset(line, 0, sizeof(line));
	assert_int_equal(host_read(h, line, sizeof(line)), n);
	assert_string_equal(line, want);
	assert_true(grecv(f, &g, &p, false));
	assert_int_equal(p.op, VIRTIO_VSOCK_OP_RW);
	assert_int_equal(p.len, 5);
	assert_memory_equal(p.data, "early", 5);
	gsend(f, &g, VIRTIO_VSOCK_OP_RW, 0, "pong", 4);
	memset(line, 0, sizeof(line));
	assert_int_equal(host_read(h, line, sizeof(line)), 4);
	assert_string_equal(line, "pong");
	/* A second host connection to the same guest port gets its own host port. */
	struct gconn g2;
	host_connect_to_guest(f, &g2, 52, 65536);
	assert_true(g2.hport != g.hport);
	assert_int_equal(vsock_nconns(f->vs), 2);
	/* The host closes: SHUTDOWN(SEND) to the guest, which then closes too. */
	close(h);
	vdev_pump(&f->v);
	assert_true(grecv(f, &g, &p, false));
	assert_int_equal(p.op, VIRTIO_VSOCK_OP_SHUTDOWN);
	assert_int_equal(p.flags, VIRTIO_VSOCK_SHUTDOWN_SEND);
	gsend(f, &g, VIRTIO_VSOCK_OP_SHUTDOWN, VIRTIO_VSOCK_SHUTDOWN_RCV | VIRTIO_VSOCK_SHUTDOWN_SEND, NULL, 0);
	expect_pkt(f, &g, VIRTIO_VSOCK_OP_RST);
	assert_int_equal(vsock_nconns(f->vs), 1);
	close(g2.host);
	vdev_pump(&f->v);
	expect_pkt(f, &g2, VIRTIO_VSOCK_OP_SHUTDOWN);
	gsend(f, &g2, VIRTIO_VSOCK_OP_RST, 0, NULL, 0);
	expect_no_pkt(f);
	assert_int_equal(vsock_nconns(f->vs), 0);
}

static void test_host_connect_refused_and_bad_lines(void **state)
{
	struct fx *f = *state;
	/* The guest refuses (nothing listens): the Unix connection closes. */
	int h = host_connect(f);
	host_write(h, "CONNECT 99\n", 11);
	vdev_pump(&f->v);
	struct pkt p;
	assert_true(rx_take(f, &p));
	assert_int_equal(p.op, VIRTIO_VSOCK_OP_REQUEST);
	struct gconn g = { .gport = 99, .hport = p.src_port };
	gsend(f, &g, VIRTIO_VSOCK_OP_RST, 0, NULL, 0);
	assert_true(host_at_eof(h));
	close(h);
	expect_no_pkt(f);
	assert_int_equal(vsock_nconns(f->vs), 0);

	static const char *bad[] = {
		"HELLO 5\n", "CONNECT\n", "CONNECT \n", "CONNECT -1\n", "CONNECT 5x\n", "CONNECT 4294967296\n",
		"connect 5\n", "CONNECT 99999999999999999999\n", "CONNECT 5 6\n",
		"CONNECT 0000000000000000000000000000000000000000005\n", /* no newline in 31 bytes */
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		h = host_connect(f);
		host_write(h, bad[i], strlen(bad[i]));
		vdev_pump(&f->v);
		if (!host_at_eof(h))
			fail_msg("'%s' was accepted", bad[i]);
		close(h);
		expect_no_pkt(f);
	}
	/* A client that hangs up halfway through the line. */
	h = host_connect(f);
	host_write(h, "CONNE", 5);
	vdev_pump(&f->v);
	close(h);
	vdev_pump(&f->v);
	assert_int_equal(vsock_nconns(f->vs), 0);
	/* "\r\n" is fine; the largest port too. */
	h = host_connect(f);
	host_write(h, "CONNECT 4294967295\r\n", 20);
	vdev_pump(&f->v);
	assert_true(rx_take(f, &p));
	assert_int_equal(p.op, VIRTIO_VSOCK_OP_REQUEST);
	assert_int_equal(p.dst_port, 4294967295u);
	close(h);
	connection_works(f);
}

static void test_host_connect_before_driver(void **state)
{
	(void)state;
	struct fx *f = fx_new();
	*state = f;
	/* No driver yet: connections are closed at once (the host retries). */
	int h = host_connect(f);
	vdev_pump(&f->v);
	assert_true(host_at_eof(h));
	close(h);
	assert_int_equal(vsock_nconns(f->vs), 0);
	driver_init(f, false); /* and without event_idx */
	rx_post(f, QSZ);
	struct gconn g;
	host_connect_to_guest(f, &g, 7, 4096);
	gsend(f, &g, VIRTIO_VSOCK_OP_RW, 0, "x", 1);
	char c;
	assert_int_equal(host_read(g.host, &c, 1), 1);
	host_close(f, &g);
	assert_int_equal(vsock_nconns(f->vs), 0);
	connection_works(f);
}

/* A slow host reader: the device buffers at most its advertised space,
 * the guest runs out of credit, nothing is lost, credit comes back as the
 * host drains. Three streams at once stay apart. */
static void test_guest_to_host_backpressure(void **state)
{
	struct fx *f = *state;
	enum { NS = 3, TOTAL = 3 << 20 };
	int l = host_listen(f, 6000);
	struct gconn g[NS];
	for (unsigned s = 0; s < NS; s++)
		guest_connect(f, &g[s], l, 2000 + s, 6000, 65536);
	uint8_t *chunk = malloc(65536), *got = malloc(65536);
	size_t sent[NS] = { 0 }, recvd[NS] = { 0 };
	unsigned stalls = 0, rounds = 0;
	while (recvd[0] < TOTAL || recvd[1] < TOTAL || recvd[2] < TOTAL) {
		assert_true(++rounds < 100000);
		/* Each guest stream sends as far as its credit allows. */
		bool stalled = true;
		for (unsigned s = 0; s < NS; s++) {
			uint32_t c = gcredit(&g[s]);
			size_t left = TOTAL - sent[s];
			uint32_t n = c < 65536 ? c : 65536;
			if (n > left)
				n = (uint32_t)left;
			if (!n)
				continue;
			stalled = false;
			pattern(chunk, n, sent[s], (uint8_t)(10 + s));
			gsend(f, &g[s], VIRTIO_VSOCK_OP_RW, 0, chunk, n);
			sent[s] += n;
			struct vsock_conn_info ci;
			assert_true(vsock_conn_info(f->vs, 6000, g[s].gport, &ci));
			assert_true(ci.buffered <= VSOCK_BUF_ALLOC);
			assert_int_equal(ci.rx_cnt - ci.fwd_cnt, ci.buffered);
			assert_int_equal(ci.rx_cnt, (uint32_t)sent[s]);
		}
		if (stalled)
			stalls++;
		/* The host reads a little from each, slower than the guest writes. */
		for (unsigned s = 0; s < NS; s++) {
			size_t want = rounds % 3 == 0 ? 65536 : 9000;
			ssize_t r = host_read(g[s].host, got, want);
			assert_true(r >= 0);
			check_pattern(got, (size_t)r, recvd[s], (uint8_t)(10 + s));
			recvd[s] += (size_t)r;
		}
		vdev_pump(&f->v);
		struct pkt p;
		while (rx_take(f, &p)) {
			assert_true(p.op == VIRTIO_VSOCK_OP_CREDIT_UPDATE);
			unsigned s = p.dst_port - 2000;
			assert_true(s < NS);
			/* fwd_cnt only grows, never past what we sent */
			assert_true(p.fwd_cnt - g[s].peer_fwd_cnt <= g[s].tx_cnt - g[s].peer_fwd_cnt);
			g[s].peer_buf_alloc = p.buf_alloc;
			g[s].peer_fwd_cnt = p.fwd_cnt;
		}
	}
	/* The guest really had to wait for credit. */
	assert_true(stalls > 0);
	assert_true(vsock_get_stats(f->vs)->credit_updates > 0);
	assert_int_equal(vsock_get_stats(f->vs)->credit_violations, 0);
	for (unsigned s = 0; s < NS; s++) {
		assert_int_equal(recvd[s], TOTAL);
		close(g[s].host);
	}
	free(chunk);
	free(got);
	close(l);
}

/* A guest that ignores its credit is reset; what was accepted reaches the
 * host intact. */
static void test_guest_credit_violation(void **state)
{
	struct fx *f = *state;
	int l = host_listen(f, 6001);
	struct gconn g;
	guest_connect(f, &g, l, 3000, 6001, 65536);
	uint8_t *chunk = malloc(65536);
	size_t sent = 0;
	struct pkt p;
	bool reset = false;
	for (unsigned i = 0; i < 200 && !reset; i++) {
		pattern(chunk, 65536, sent, 5);
		gsend(f, &g, VIRTIO_VSOCK_OP_RW, 0, chunk, 65536);
		sent += 65536;
		while (grecv(f, &g, &p, false))
			if (p.op == VIRTIO_VSOCK_OP_RST)
				reset = true;
	}
	assert_true(reset);
	assert_int_equal(vsock_get_stats(f->vs)->credit_violations, 1);
	/* The host gets a clean prefix, then EOF. */
	size_t n = 0;
	for (;;) {
		ssize_t r = host_read(g.host, chunk, 65536);
		if (r < 0)
			break;
		assert_true(r > 0);
		check_pattern(chunk, (size_t)r, n, 5);
		n += (size_t)r;
	}
	assert_true(n > 0 && n < sent);
	assert_int_equal(vsock_nconns(f->vs), 0);
	free(chunk);
	close(g.host);
	close(l);
	connection_works(f);
}

/* The device never sends more than the guest's credit. */
static void test_host_to_guest_credit(void **state)
{
	struct fx *f = *state;
	int l = host_listen(f, 6002);
	struct gconn g;
	guest_connect(f, &g, l, 3001, 6002, 8192);
	enum { TOTAL = 100000 };
	uint8_t *buf = malloc(TOTAL);
	pattern(buf, TOTAL, 0, 9);
	host_write(g.host, buf, TOTAL);
	vdev_pump(&f->v);
	size_t got = 0;
	struct pkt p;
	while (got < TOTAL) {
		/* Everything the guest allows arrives; not a byte more. */
		uint32_t window = 0;
		while (grecv(f, &g, &p, true)) {
			assert_int_equal(p.op, VIRTIO_VSOCK_OP_RW);
			check_pattern(p.data, p.len, got, 9);
			got += p.len;
			window += p.len;
		}
		assert_true(window == 8192 || got == TOTAL);
		struct vsock_conn_info ci;
		assert_true(vsock_conn_info(f->vs, 6002, 3001, &ci));
		assert_int_equal(ci.tx_cnt, (uint32_t)got);
		if (got < TOTAL)
			assert_false(ci.reading); /* out of credit: the socket is not polled */
		/* The guest app reads it all and tells the device. */
		g.fwd_cnt += window;
		gsend(f, &g, VIRTIO_VSOCK_OP_CREDIT_UPDATE, 0, NULL, 0);
	}
	assert_int_equal(got, TOTAL);
	/* A smaller buffer from the guest shrinks the window at once. */
	g.buf_alloc = 1000;
	gsend(f, &g, VIRTIO_VSOCK_OP_CREDIT_UPDATE, 0, NULL, 0);
	host_write(g.host, buf, 5000);
	vdev_pump(&f->v);
	assert_true(grecv(f, &g, &p, true));
	assert_int_equal(p.len, 1000);
	expect_no_pkt(f);
	/* CREDIT_REQUEST gets our counters. */
	gsend(f, &g, VIRTIO_VSOCK_OP_RW, 0, "abc", 3);
	gsend(f, &g, VIRTIO_VSOCK_OP_CREDIT_REQUEST, 0, NULL, 0);
	assert_true(grecv(f, &g, &p, true));
	assert_int_equal(p.op, VIRTIO_VSOCK_OP_CREDIT_UPDATE);
	assert_int_equal(p.fwd_cnt, 3);
	assert_int_equal(p.buf_alloc, VSOCK_BUF_ALLOC);
	/* A guest claiming to have consumed more than it got earns nothing. */
	g.fwd_cnt = g.fwd_cnt + 1000 + 50000;
	gsend(f, &g, VIRTIO_VSOCK_OP_CREDIT_UPDATE, 0, NULL, 0);
	expect_no_pkt(f);
	free(buf);
	close(g.host);
	close(l);
}

/* No RX buffers: the device stops reading sockets (no spinning, even on a
 * hung-up peer) and resumes when the guest refills. */
static void test_rx_starvation(void **state)
{
	struct fx *f = *state;
	/* Small RX buffers, so the host's data outlasts them. */
	f->rx_size = 1024;
	driver_init(f, true);
	rx_post(f, QSZ);
	int l = host_listen(f, 6003);
	struct gconn g;
	guest_connect(f, &g, l, 3002, 6003, 1 << 20);
	/* Use up every RX buffer we have posted, then post none. */
	f->auto_refill = false;
	enum { TOTAL = 100000 };
	uint8_t *buf = malloc(TOTAL);
	pattern(buf, TOTAL, 0, 4);
	host_write(g.host, buf, TOTAL);
	vdev_pump(&f->v);
	/* Every posted buffer filled, none left. */
	assert_int_equal(vq_pending(rxq(f)), QSZ);
	struct vsock_conn_info ci;
	assert_true(vsock_conn_info(f->vs, 6003, 3002, &ci));
	assert_false(ci.reading);
	assert_true(vsock_get_stats(f->vs)->rx_stalls >= 1);
	/* The host hangs up while we wait: still idle, and its data is kept. */
	shutdown(g.host, SHUT_WR);
	vdev_pump(&f->v);
	size_t got = 0;
	struct pkt p;
	bool shut = false;
	for (unsigned round = 0; !shut; round++) {
		assert_true(round < 100);
		while (grecv(f, &g, &p, false)) {
			if (p.op == VIRTIO_VSOCK_OP_SHUTDOWN) {
				assert_int_equal(p.flags, VIRTIO_VSOCK_SHUTDOWN_SEND);
				shut = true;
				continue;
			}
			assert_false(shut); /* data never after the SHUTDOWN */
			assert_int_equal(p.op, VIRTIO_VSOCK_OP_RW);
			check_pattern(p.data, p.len, got, 4);
			got += p.len;
		}
		rx_post(f, 16);
	}
	assert_int_equal(got, TOTAL);
	free(buf);
	close(g.host);
	close(l);
	f->auto_refill = true;
	rx_post(f, QSZ);
	connection_works(f);
}

/* Control packets wait for RX buffers too, in order. */
static void test_control_waits_for_buffers(void **state)
{
	struct fx *f = *state;
	f->auto_refill = false;
	struct pkt p;
	/* Use up the posted buffers with RSTs for unknown connections. */
	for (unsigned i = 0; i < QSZ; i++) {
		struct gconn x = { .gport = 1, .hport = 1 };
		gsend(f, &x, VIRTIO_VSOCK_OP_RW, 0, "z", 1);
	}
	for (unsigned i = 0; i < QSZ; i++)
		assert_true(rx_take(f, &p));
	assert_int_equal(rx_free(f), QSZ);
	int l = host_listen(f, 6004);
	struct gconn g = { .gport = 3003, .hport = 6004, .buf_alloc = 65536 };
	gsend(f, &g, VIRTIO_VSOCK_OP_REQUEST, 0, NULL, 0);
	struct gconn x = { .gport = 9, .hport = 9 };
	gsend(f, &x, VIRTIO_VSOCK_OP_RW, 0, "z", 1); /* an RST for later */
	expect_no_pkt(f);
	/* The Unix side is connected but hears nothing until the RESPONSE is out. */
	int h = accept4(l, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	assert_true(h >= 0);
	host_write(h, "data", 4);
	vdev_pump(&f->v);
	rx_post(f, 1);
	assert_true(rx_take(f, &p)); /* the RST first */
	assert_int_equal(p.op, VIRTIO_VSOCK_OP_RST);
	assert_int_equal(p.dst_port, 9);
	rx_post(f, 1);
	assert_true(grecv(f, &g, &p, false));
	assert_int_equal(p.op, VIRTIO_VSOCK_OP_RESPONSE);
	rx_post(f, 1);
	assert_true(grecv(f, &g, &p, false));
	assert_int_equal(p.op, VIRTIO_VSOCK_OP_RW);
	assert_memory_equal(p.data, "data", 4);
	f->auto_refill = true;
	rx_post(f, QSZ);
	close(h);
	close(l);
}

static void test_half_close(void **state)
{
	struct fx *f = *state;
	int l = host_listen(f, 6005);
	struct gconn g;
	guest_connect(f, &g, l, 3004, 6005, 65536);
	/* Host half-closes after "bye": data, then SHUTDOWN(SEND). */
	host_write(g.host, "bye", 3);
	shutdown(g.host, SHUT_WR);
	vdev_pump(&f->v);
	struct pkt p;
	assert_true(grecv(f, &g, &p, false));
	assert_int_equal(p.op, VIRTIO_VSOCK_OP_RW);
	assert_memory_equal(p.data, "bye", 3);
	assert_true(grecv(f, &g, &p, false));
	assert_int_equal(p.op, VIRTIO_VSOCK_OP_SHUTDOWN);
	assert_int_equal(p.flags, VIRTIO_VSOCK_SHUTDOWN_SEND);
	expect_no_pkt(f);
	/* The guest can still send. */
	gsend(f, &g, VIRTIO_VSOCK_OP_RW, 0, "more", 4);
	char buf[8] = { 0 };
	assert_int_equal(host_read(g.host, buf, sizeof(buf)), 4);
	assert_string_equal(buf, "more");
	/* Guest SHUTDOWN(SEND): the host reads EOF; the connection lives on. */
	gsend(f, &g, VIRTIO_VSOCK_OP_SHUTDOWN, VIRTIO_VSOCK_SHUTDOWN_SEND, NULL, 0);
	assert_true(host_at_eof(g.host));
	expect_no_pkt(f);
	assert_int_equal(vsock_nconns(f->vs), 1);
	/* Data after its own SHUTDOWN(SEND) is a protocol error: RST. */
	gsend(f, &g, VIRTIO_VSOCK_OP_RW, 0, "late", 4);
	expect_pkt(f, &g, VIRTIO_VSOCK_OP_RST);
	assert_int_equal(vsock_nconns(f->vs), 0);
	close(g.host);

	/* The other way round: the guest half-closes first, the host keeps
	 * sending, then closes; the guest's final SHUTDOWN gets the RST. */
	guest_connect(f, &g, l, 3005, 6005, 65536);
	gsend(f, &g, VIRTIO_VSOCK_OP_SHUTDOWN, VIRTIO_VSOCK_SHUTDOWN_SEND, NULL, 0);
	assert_true(host_at_eof(g.host));
	host_write(g.host, "still", 5);
	vdev_pump(&f->v);
	assert_true(grecv(f, &g, &p, false));
	assert_int_equal(p.op, VIRTIO_VSOCK_OP_RW);
	assert_memory_equal(p.data, "still", 5);
	close(g.host);
	vdev_pump(&f->v);
	expect_pkt(f, &g, VIRTIO_VSOCK_OP_SHUTDOWN);
	gsend(f, &g, VIRTIO_VSOCK_OP_SHUTDOWN, VIRTIO_VSOCK_SHUTDOWN_RCV | VIRTIO_VSOCK_SHUTDOWN_SEND, NULL, 0);
	expect_pkt(f, &g, VIRTIO_VSOCK_OP_RST);
	assert_int_equal(vsock_nconns(f->vs), 0);

	/* SHUTDOWN(both) while the host is slow: the RST waits until every
	 * byte reached the socket. */
	guest_connect(f, &g, l, 3006, 6005, 65536);
	uint8_t *chunk = malloc(65536);
	size_t sent = 0;
	struct vsock_conn_info ci;
	do {
		uint32_t n = gcredit(&g) < 65536 ? gcredit(&g) : 65536;
		assert_true(n > 0);
		pattern(chunk, n, sent, 7);
		gsend(f, &g, VIRTIO_VSOCK_OP_RW, 0, chunk, n);
		sent += n;
		while (grecv(f, &g, &p, false))
			assert_int_equal(p.op, VIRTIO_VSOCK_OP_CREDIT_UPDATE);
		assert_true(vsock_conn_info(f->vs, 6005, 3006, &ci));
	} while (ci.buffered == 0);
	gsend(f, &g, VIRTIO_VSOCK_OP_SHUTDOWN, VIRTIO_VSOCK_SHUTDOWN_RCV | VIRTIO_VSOCK_SHUTDOWN_SEND, NULL, 0);
	expect_no_pkt(f);
	size_t n = 0;
	for (unsigned i = 0; i < 10000; i++) {
		ssize_t r = host_read(g.host, chunk, 65536);
		if (r < 0)
			break;
		check_pattern(chunk, (size_t)r, n, 7);
		n += (size_t)r;
		vdev_pump(&f->v);
	}
	assert_int_equal(n, sent);
	expect_pkt(f, &g, VIRTIO_VSOCK_OP_RST);
	assert_int_equal(vsock_nconns(f->vs), 0);
	free(chunk);
	close(g.host);
	close(l);
}

static void test_guest_rst_and_unknown_connections(void **state)
{
	struct fx *f = *state;
	int l = host_listen(f, 6006);
	struct gconn g;
	guest_connect(f, &g, l, 3007, 6006, 65536);
	gsend(f, &g, VIRTIO_VSOCK_OP_RW, 0, "last", 4);
	gsend(f, &g, VIRTIO_VSOCK_OP_RST, 0, NULL, 0);
	char buf[8] = { 0 };
	assert_int_equal(host_read(g.host, buf, sizeof(buf)), 4);
	assert_true(host_at_eof(g.host));
	expect_no_pkt(f); /* never an RST for an RST */
	assert_int_equal(vsock_nconns(f->vs), 0);
	close(g.host);
	/* Packets for connections that do not exist: RST, ports swapped. */
	static const uint16_t ops[] = { VIRTIO_VSOCK_OP_RW, VIRTIO_VSOCK_OP_RESPONSE, VIRTIO_VSOCK_OP_SHUTDOWN,
					VIRTIO_VSOCK_OP_CREDIT_UPDATE, VIRTIO_VSOCK_OP_CREDIT_REQUEST };
	for (size_t i = 0; i < ARRAY_SIZE(ops); i++) {
		struct gconn x = { .gport = 555, .hport = 666 };
		gsend(f, &x, ops[i], 0, "q", ops[i] == VIRTIO_VSOCK_OP_RW);
		struct pkt p;
		assert_true(rx_take(f, &p));
		assert_int_equal(p.op, VIRTIO_VSOCK_OP_RST);
		assert_int_equal(p.src_port, 666);
		assert_int_equal(p.dst_port, 555);
	}
	struct gconn x = { .gport = 555, .hport = 666 };
	gsend(f, &x, VIRTIO_VSOCK_OP_RST, 0, NULL, 0);
	expect_no_pkt(f);
	/* A duplicate REQUEST for a live pair resets it. */
	guest_connect(f, &g, l, 3008, 6006, 65536);
	gsend(f, &g, VIRTIO_VSOCK_OP_REQUEST, 0, NULL, 0);
	expect_pkt(f, &g, VIRTIO_VSOCK_OP_RST);
	assert_true(host_at_eof(g.host));
	close(g.host);
	close(l);
	connection_works(f);
}

static void test_hostile_packets(void **state)
{
	struct fx *f = *state;
	int l = host_listen(f, 6007);
	struct gconn g;
	guest_connect(f, &g, l, 3009, 6007, 65536);
	const struct vsock_stats *st = vsock_get_stats(f->vs);
	struct virtio_vsock_hdr h;
	struct pkt p;
	uint64_t bad = st->tx_bad;

	/* Wrong CIDs: dropped without an answer. */
	static const uint64_t cids[][2] = { { 99, 2 }, { CID, 7 }, { CID, CID }, { 2, 2 }, { CID + (1ULL << 32), 2 } };
	for (size_t i = 0; i < ARRAY_SIZE(cids); i++) {
		put_hdr(&h, cids[i][0], cids[i][1], 3009, 6007, VIRTIO_VSOCK_OP_RW, 1, 3, 0, 65536, 0);
		tx_raw(f, &h, "bad", 3);
		assert_int_equal(st->tx_bad, ++bad);
		expect_no_pkt(f);
	}
	/* Unknown ops. */
	static const uint16_t ops[] = { 0, 8, 100, 0xffff };
	for (size_t i = 0; i < ARRAY_SIZE(ops); i++) {
		put_hdr(&h, CID, 2, 3009, 6007, ops[i], 1, 0, 0, 65536, 0);
		tx_raw(f, &h, NULL, 0);
		assert_int_equal(st->tx_bad, ++bad);
		expect_no_pkt(f);
	}
	/* A header shorter than 44 bytes, in one or two descriptors. */
	put_hdr(&h, CID, 2, 3009, 6007, VIRTIO_VSOCK_OP_RW, 1, 0, 0, 65536, 0);
	assert_int_equal(gm_write(&f->gm, TXHDR(0), &h, HDR), 0);
	vq_set_desc(txq(f), 0, TXHDR(0), 20, 0, 0);
	vq_offer(txq(f), 0);
	vdev_kick(&f->v, TXQ);
	assert_int_equal(st->tx_bad, ++bad);
	/* The header in a device-writable buffer is no header. */
	vq_set_desc(txq(f), 0, TXHDR(0), HDR, VRING_DESC_F_WRITE, 0);
	vq_offer(txq(f), 0);
	vdev_kick(&f->v, TXQ);
	assert_int_equal(st->tx_bad, ++bad);
	expect_no_pkt(f);
	/* Unknown connection, len beyond the chain: dropped. */
	put_hdr(&h, CID, 2, 1, 2, VIRTIO_VSOCK_OP_RW, 1, 100, 0, 65536, 0);
	tx_raw(f, &h, "short", 5);
	assert_int_equal(st->tx_bad, ++bad);
	put_hdr(&h, CID, 2, 1, 2, VIRTIO_VSOCK_OP_RW, 1, 0xffffffff, 0, 65536, 0);
	tx_raw(f, &h, NULL, 0);
	assert_int_equal(st->tx_bad, ++bad);
	expect_no_pkt(f);
	/* SEQPACKET (not offered) or a bogus type: RST, like Linux. */
	struct gconn x = { .gport = 77, .hport = 6007 };
	put_hdr(&h, CID, 2, 77, 6007, VIRTIO_VSOCK_OP_REQUEST, VIRTIO_VSOCK_TYPE_SEQPACKET, 0, 0, 65536, 0);
	tx_raw(f, &h, NULL, 0);
	assert_true(rx_take(f, &p));
	assert_int_equal(p.op, VIRTIO_VSOCK_OP_RST);
	assert_int_equal(p.type, VIRTIO_VSOCK_TYPE_SEQPACKET);
	put_hdr(&h, CID, 2, 77, 6007, VIRTIO_VSOCK_OP_REQUEST, 9, 0, 0, 65536, 0);
	tx_raw(f, &h, NULL, 0);
	assert_true(rx_take(f, &p));
	assert_int_equal(p.op, VIRTIO_VSOCK_OP_RST);
	assert_int_equal(p.type, VIRTIO_VSOCK_TYPE_STREAM);
	(void)x;
	bad += 2;
	assert_int_equal(st->tx_bad, bad);
	/* Bad chains: a loop, memory outside the guest, a zero length. */
	vq_set_desc(txq(f), 5, TXHDR(5), HDR, VRING_DESC_F_NEXT, 5);
	vq_offer(txq(f), 5);
	vq_set_desc(txq(f), 6, MEM - 10, HDR, 0, 0);
	vq_offer(txq(f), 6);
	vq_set_desc(txq(f), 7, UINT64_MAX - 8, HDR, 0, 0);
	vq_offer(txq(f), 7);
	vq_set_desc(txq(f), 8, TXHDR(8), 0, 0, 0);
	vq_offer(txq(f), 8);
	vq_set_desc(txq(f), 9, TXHDR(9), HDR, VRING_DESC_F_INDIRECT, 0); /* INDIRECT not negotiated */
	vq_offer(txq(f), 9);
	uint16_t before = vq_used_idx(txq(f));
	vdev_kick(&f->v, TXQ);
	assert_int_equal(vq_used_idx(txq(f)), (uint16_t)(before + 5));
	bad += 5;
	assert_int_equal(st->tx_bad, bad);
	expect_no_pkt(f);
	/* The established connection never noticed. */
	gsend(f, &g, VIRTIO_VSOCK_OP_RW, 0, "fine", 4);
	char buf[8] = { 0 };
	assert_int_equal(host_read(g.host, buf, sizeof(buf)), 4);
	assert_string_equal(buf, "fine");
	/* A live connection with a lying length is reset (it lost data). */
	put_hdr(&h, CID, 2, 3009, 6007, VIRTIO_VSOCK_OP_RW, 1, 1000, 0, 65536, 0);
	tx_raw(f, &h, "tiny", 4);
	expect_pkt(f, &g, VIRTIO_VSOCK_OP_RST);
	assert_true(host_at_eof(g.host));
	close(g.host);
	/* A payload split over many small descriptors is fine. */
	guest_connect(f, &g, l, 3010, 6007, 65536);
	put_hdr(&h, CID, 2, 3010, 6007, VIRTIO_VSOCK_OP_RW, 1, 30, 0, 65536, 0);
	assert_int_equal(gm_write(&f->gm, TXHDR(20), &h, HDR), 0);
	vq_set_desc(txq(f), 40, TXHDR(20), 10, VRING_DESC_F_NEXT, 41);
	vq_set_desc(txq(f), 41, TXHDR(20) + 10, HDR - 10, VRING_DESC_F_NEXT, 42);
	for (unsigned i = 0; i < 10; i++) {
		char c3[3] = { (char)('a' + i), (char)('a' + i), (char)('a' + i) };
		assert_int_equal(gm_write(&f->gm, TXDATA(20) + 3 * i, c3, 3), 0);
		vq_set_desc(txq(f), 42 + i, TXDATA(20) + 3 * i, 3, i < 9 ? VRING_DESC_F_NEXT : 0, (uint16_t)(43 + i));
	}
	vq_offer(txq(f), 40);
	vdev_kick(&f->v, TXQ);
	char b30[32] = { 0 };
	assert_int_equal(host_read(g.host, b30, sizeof(b30)), 30);
	assert_string_equal(b30, "aaabbbcccdddeeefffggghhhiiijjj");
	host_close(f, &g);
	close(l);
	connection_works(f);
}

/* Bad RX buffers are handed back empty; the packet goes in the next good one. */
static void test_hostile_rx_buffers(void **state)
{
	struct fx *f = *state;
	/* Start over with no RX buffers posted. */
	driver_init(f, true);
	f->auto_refill = false;
	vq_set_desc(rxq(f), 0, MEM - 100, 4096, VRING_DESC_F_WRITE, 0);       /* outside memory */
	vq_set_desc(rxq(f), 1, RXBUF(1), 20, VRING_DESC_F_WRITE, 0);          /* too small for a header */
	vq_set_desc(rxq(f), 2, RXBUF(2), 4096, 0, 0);                         /* not writable */
	vq_set_desc(rxq(f), 3, RXBUF(3), 4096, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 3); /* loop */
	for (uint16_t i = 0; i < 4; i++) {
		f->rx_busy[i] = true;
		vq_offer(rxq(f), i);
	}
	vdev_kick(&f->v, RXQ);
	expect_no_pkt(f); /* nothing to send yet: nothing consumed */
	assert_int_equal(vq_used_idx(rxq(f)), 0);
	struct gconn x = { .gport = 1, .hport = 2 };
	gsend(f, &x, VIRTIO_VSOCK_OP_RW, 0, "z", 1); /* wants an RST */
	struct pkt p;
	for (unsigned i = 0; i < 4; i++) {
		assert_true(rx_take(f, &p));
		assert_int_equal(p.used_len, 0);
	}
	assert_int_equal(vsock_get_stats(f->vs)->rx_bad, 4);
	expect_no_pkt(f);
	rx_post(f, 1);
	assert_true(rx_take(f, &p));
	assert_int_equal(p.op, VIRTIO_VSOCK_OP_RST);
	expect_no_pkt(f);
	/* A buffer with room for a header only carries a control packet... */
	vq_set_desc(rxq(f), 10, RXBUF(10), HDR, VRING_DESC_F_WRITE, 0);
	f->rx_busy[10] = true;
	vq_offer(rxq(f), 10);
	vdev_kick(&f->v, RXQ);
	gsend(f, &x, VIRTIO_VSOCK_OP_RW, 0, "z", 1);
	assert_true(rx_take(f, &p));
	assert_int_equal(p.used_len, HDR);
	assert_int_equal(p.op, VIRTIO_VSOCK_OP_RST);
	assert_int_equal(vq_used_elem(rxq(f), (uint16_t)(rxq(f)->used_seen - 1)).id, 10);
	/* ...and comes back empty when data needs room; the data takes the next. */
	int l = host_listen(f, 6009);
	struct gconn g;
	rx_post(f, 1);
	guest_connect(f, &g, l, 3012, 6009, 65536);
	vq_set_desc(rxq(f), 10, RXBUF(10), HDR, VRING_DESC_F_WRITE, 0);
	f->rx_busy[10] = true;
	vq_offer(rxq(f), 10);
	rx_post(f, 1);
	host_write(g.host, "data", 4);
	vdev_pump(&f->v);
	assert_true(rx_take(f, &p));
	assert_int_equal(p.used_len, 0);
	assert_int_equal(vsock_get_stats(f->vs)->rx_bad, 5);
	assert_true(grecv(f, &g, &p, false));
	assert_int_equal(p.op, VIRTIO_VSOCK_OP_RW);
	assert_memory_equal(p.data, "data", 4);
	f->auto_refill = true;
	rx_post(f, QSZ);
	host_close(f, &g);
	close(l);
	connection_works(f);
}

/* A flood of packets needing RSTs while the guest posts no RX buffers:
 * the pending RSTs are bounded, the rest are counted as dropped. */
static void test_rst_flood_is_bounded(void **state)
{
	struct fx *f = *state;
	f->auto_refill = false;
	struct pkt p;
	for (unsigned i = 0; i < QSZ; i++) { /* use up the posted buffers */
		struct gconn x = { .gport = 1, .hport = 1 };
		gsend(f, &x, VIRTIO_VSOCK_OP_RW, 0, "z", 1);
	}
	for (unsigned i = 0; i < QSZ; i++)
		assert_true(rx_take(f, &p));
	const struct vsock_stats *st = vsock_get_stats(f->vs);
	uint64_t sent = st->rst_sent;
	for (unsigned i = 0; i < 1000; i++) {
		struct gconn x = { .gport = 100 + i, .hport = 1 };
		gsend(f, &x, VIRTIO_VSOCK_OP_RW, 0, "z", 1);
	}
	assert_true(st->rst_dropped > 0 && st->rst_dropped < 1000);
	f->auto_refill = true;
	rx_post(f, QSZ);
	unsigned n = 0;
	while (rx_take(f, &p)) {
		assert_int_equal(p.op, VIRTIO_VSOCK_OP_RST);
		assert_int_equal(p.dst_port, 100 + n); /* in order, the first ones */
		n++;
	}
	assert_int_equal(n + st->rst_dropped, 1000);
	assert_int_equal(st->rst_sent, sent + n);
	connection_works(f);
}

/* A malformed ring needs a reset; after it the device works again. */
static void test_broken_ring_and_reset(void **state)
{
	struct fx *f = *state;
	int l = host_listen(f, 6008);
	struct gconn g1, g2;
	guest_connect(f, &g1, l, 3011, 6008, 65536);
	host_connect_to_guest(f, &g2, 80, 65536);
	assert_int_equal(vsock_nconns(f->vs), 2);
	/* More than the ring holds. */
	vq_publish(txq(f), (uint16_t)(txq(f)->avail_idx + QSZ + 1));
	vdev_wr(&f->v, VIRTIO_MMIO_QUEUE_NOTIFY, TXQ);
	vdev_pump(&f->v);
	assert_true(vdev_rd(&f->v, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET);
	/* The driver resets: every connection goes, the listener stays. */
	vdev_wr(&f->v, VIRTIO_MMIO_STATUS, 0);
	assert_int_equal(vsock_nconns(f->vs), 0);
	assert_true(host_at_eof(g1.host));
	assert_true(host_at_eof(g2.host));
	close(g1.host);
	close(g2.host);
	vdev_pump(&f->v);
	driver_init(f, true);
	rx_post(f, QSZ);
	struct gconn g3;
	host_connect_to_guest(f, &g3, 81, 65536);
	host_close(f, &g3);
	close(l);
	connection_works(f);
}

static void test_spec_parsing(void **state)
{
	(void)state;
	struct vsock_config c;
	struct err e;
	assert_int_equal(vsock_parse("cid=3,uds=/tmp/x.sock", &c, &e), 0);
	assert_int_equal(c.cid, 3);
	assert_string_equal(c.uds, "/tmp/x.sock");
	assert_int_equal(vsock_parse("uds=rel,cid=4294967294", &c, &e), 0);
	assert_int_equal(c.cid, 4294967294u);
	assert_string_equal(c.uds, "rel");
	static const char *bad[] = {
		"", "cid=3", "uds=/x", "cid=2,uds=/x", "cid=0,uds=/x", "cid=4294967295,uds=/x", "cid=-3,uds=/x",
		"cid=3x,uds=/x", "cid=,uds=/x", "cid=3,uds=", "cid=3,uds=/x,ro", "cid=3,path=/x",
		"cid=99999999999999999999999,uds=/x",
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		if (vsock_parse(bad[i], &c, &e) == 0)
			fail_msg("'%s' was accepted", bad[i]);
	char longp[200];
	memset(longp, 'a', sizeof(longp));
	memcpy(longp, "cid=3,uds=", 10);
	longp[sizeof(longp) - 1] = '\0';
	assert_int_equal(vsock_parse(longp, &c, &e), -1);
	assert_err_contains(&e, "longer");
}

static void test_socket_path(void **state)
{
	(void)state;
	struct guest_mem gm;
	test_gm_alloc(&gm, 1 << 20, 0);
	struct evloop loop;
	struct err e;
	assert_int_equal(evloop_init(&loop, &e), 0);
	char dir[] = "/tmp/sandbox-vsock-XXXXXX";
	assert_non_null(mkdtemp(dir));
	struct vsock_config cfg = { .cid = 3 };
	snprintf(cfg.uds, sizeof(cfg.uds), "%s/s", dir);
	/* A stale socket (nobody listening) is replaced. */
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", cfg.uds);
	assert_int_equal(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	close(s);
	struct vsock *vs = vsock_create(&cfg, &loop, &gm, &e);
	assert_non_null(vs);
	/* A live one is not taken over. */
	struct vsock *vs2 = vsock_create(&cfg, &loop, &gm, &e);
	assert_null(vs2);
	assert_err_contains(&e, "in use");
	vsock_destroy(vsock_virtio(vs));
	struct stat st;
	assert_int_equal(stat(cfg.uds, &st), -1); /* removed at the end */
	/* Any other file is left alone. */
	int fd = open(cfg.uds, O_CREAT | O_WRONLY, 0600);
	assert_true(fd >= 0);
	close(fd);
	assert_null(vsock_create(&cfg, &loop, &gm, &e));
	assert_int_equal(stat(cfg.uds, &st), 0);
	unlink(cfg.uds);
	/* A missing directory. */
	snprintf(cfg.uds, sizeof(cfg.uds), "%s/no/such", dir);
	assert_null(vsock_create(&cfg, &loop, &gm, &e));
	rmdir(dir);
	evloop_free(&loop);
	test_gm_release(&gm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_config_and_features, setup, teardown),
		cmocka_unit_test_setup_teardown(test_guest_connect_data_both_ways, setup, teardown),
		cmocka_unit_test_setup_teardown(test_guest_connect_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_host_connect, setup, teardown),
		cmocka_unit_test_setup_teardown(test_host_connect_refused_and_bad_lines, setup, teardown),
		cmocka_unit_test_teardown(test_host_connect_before_driver, teardown),
		cmocka_unit_test_setup_teardown(test_guest_to_host_backpressure, setup, teardown),
		cmocka_unit_test_setup_teardown(test_guest_credit_violation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_host_to_guest_credit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rx_starvation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_control_waits_for_buffers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_half_close, setup, teardown),
		cmocka_unit_test_setup_teardown(test_guest_rst_and_unknown_connections, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile_packets, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile_rx_buffers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_rst_flood_is_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_broken_ring_and_reset, setup, teardown),
		cmocka_unit_test(test_spec_parsing),
		cmocka_unit_test(test_socket_path),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
