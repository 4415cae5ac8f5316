/* virtio-net driven through the virtio-mmio transport like a guest driver
 * would, over malloc'd guest memory, with one end of a SOCK_DGRAM
 * socketpair standing in for the tap (one datagram = one vnet header +
 * frame, as a tap with IFF_VNET_HDR reads and writes them). The event loop
 * is real but not started: the tests dispatch its ready events themselves,
 * which also shows when the backend is (not) polled. */
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>

#include "../../vmm/devices/virtio_net.h"
#include "../../vmm/evloop.h"
#include "../../vmm/virtio/mmio.h"

#define MEM (8u << 20)
#define QSZ 16
#define RXBUF 0x100000ULL   /* RX buffers: 64 KiB apart */
#define TXBUF 0x300000ULL
#define BIG 0x500000ULL     /* room for 64 KiB+ frames */
#define INDIRECT 0x7000ULL

#define F(bit) (1ULL << (bit))
#define BASE_FEATURES (F(VIRTIO_F_VERSION_1) | F(VIRTIO_NET_F_MAC) | F(VIRTIO_NET_F_STATUS))

static const uint8_t test_mac[6] = { 0x02, 0x11, 0x22, 0x33, 0x44, 0x55 };

struct tq {
	uint64_t desc, avail, used;
	uint16_t avail_idx;     /* driver's next avail index */
	uint16_t used_seen;     /* used entries already looked at */
};

struct fx {
	struct guest_mem gm;
	struct evloop loop;
	int sock;               /* the test's end; the device has the other */
	struct virtio_net *n;
	struct virtio_dev *d;
	struct tq q[2];
	unsigned irqs, kicks;
};

static void t_irq(struct virtio_dev *d) { ((struct fx *)d->host)->irqs++; }
static void t_kick(struct virtio_dev *d, unsigned q) { (void)q; ((struct fx *)d->host)->kicks++; }

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	test_gm_alloc(&f->gm, MEM, 0xee);
	struct err e = { 0 };
	assert_int_equal(evloop_init(&f->loop, &e), 0);
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), 0);
	int big = 1 << 20;
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
	setsockopt(sv[1], SOL_SOCKET, SO_SNDBUF, &big, sizeof(big));
	f->sock = sv[1];
	f->n = vnet_create(&f->gm, &f->loop, sv[0], false, test_mac, true, true, "test0", &e);
	assert_non_null(f->n);
	f->d = vnet_dev(f->n);
	f->d->raise_irq = t_irq;
	f->d->kick = t_kick;
	f->d->host = f;
	f->q[VNET_RXQ] = (struct tq){ .desc = 0x1000, .avail = 0x2000, .used = 0x3000 };
	f->q[VNET_TXQ] = (struct tq){ .desc = 0x4000, .avail = 0x5000, .used = 0x6000 };
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	f->d->ops->destroy(f->d);
	close(f->sock);
	evloop_free(&f->loop);
	test_gm_release(&f->gm);
	free(f);
	return 0;
}

/* ---- the driver side ---- */

static uint32_t rd(struct fx *f, uint64_t off)
{
	uint32_t v;
	virtio_mmio_io(f->d, off, (uint8_t *)&v, 4, false);
	return v;
}
static void wr(struct fx *f, uint64_t off, uint32_t v) { virtio_mmio_io(f->d, off, (uint8_t *)&v, 4, true); }

static uint64_t device_features(struct fx *f)
{
	wr(f, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	uint64_t lo = rd(f, VIRTIO_MMIO_DEVICE_FEATURES);
	wr(f, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	return lo | (uint64_t)rd(f, VIRTIO_MMIO_DEVICE_FEATURES) << 32;
}

/* The driver's init sequence (virtio 1.x 3.1.1) with FEATURES; fresh rings. */
static void driver_init(struct fx *f, uint64_t features)
{
	wr(f, VIRTIO_MMIO_STATUS, 0);
	wr(f, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE);
	wr(f, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	assert_int_equal(features & ~device_features(f), 0);
	wr(f, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(f, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)features);
	wr(f, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(f, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(features >> 32));
	uint32_t st = VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK;
	wr(f, VIRTIO_MMIO_STATUS, st);
	assert_true(rd(f, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_FEATURES_OK);
	for (unsigned i = 0; i < 2; i++) {
		struct tq *q = &f->q[i];
		assert_int_equal(gm_write(&f->gm, q->desc, (uint8_t[16 * QSZ]){ 0 }, 16 * QSZ), 0);
		assert_int_equal(gm_write(&f->gm, q->avail, (uint8_t[6 + 2 * QSZ]){ 0 }, 6 + 2 * QSZ), 0);
		assert_int_equal(gm_write(&f->gm, q->used, (uint8_t[6 + 8 * QSZ]){ 0 }, 6 + 8 * QSZ), 0);
		q->avail_idx = q->used_seen = 0;
		wr(f, VIRTIO_MMIO_QUEUE_SEL, i);
		assert_int_equal(rd(f, VIRTIO_MMIO_QUEUE_NUM_MAX), VIRTQ_MAX_SIZE);
		wr(f, VIRTIO_MMIO_QUEUE_NUM, QSZ);
		wr(f, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)q->desc);
		wr(f, VIRTIO_MMIO_QUEUE_DESC_HIGH, 0);
		wr(f, VIRTIO_MMIO_QUEUE_AVAIL_LOW, (uint32_t)q->avail);
		wr(f, VIRTIO_MMIO_QUEUE_AVAIL_HIGH, 0);
		wr(f, VIRTIO_MMIO_QUEUE_USED_LOW, (uint32_t)q->used);
		wr(f, VIRTIO_MMIO_QUEUE_USED_HIGH, 0);
		wr(f, VIRTIO_MMIO_QUEUE_READY, 1);
		assert_int_equal(rd(f, VIRTIO_MMIO_QUEUE_READY), 1);
	}
	wr(f, VIRTIO_MMIO_STATUS, st | VIRTIO_CONFIG_S_DRIVER_OK);
	assert_true(rd(f, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_DRIVER_OK);
	assert_true(f->d->active);
}

static void set_desc(struct fx *f, unsigned qi, unsigned i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	struct vring_desc d = { .addr = addr, .len = len, .flags = flags, .next = next };
	assert_int_equal(gm_write(&f->gm, f->q[qi].desc + 16ULL * i, &d, sizeof(d)), 0);
}

static void offer(struct fx *f, unsigned qi, uint16_t head)
{
	struct tq *q = &f->q[qi];
	uint16_t *a = gm_ptr(&f->gm, q->avail, 4 + 2 * QSZ + 2);
	a[2 + q->avail_idx % QSZ] = head;
	q->avail_idx++;
	__atomic_store_n(&a[1], q->avail_idx, __ATOMIC_RELEASE);
}

static uint16_t used_idx(struct fx *f, unsigned qi) { return *(uint16_t *)gm_ptr(&f->gm, f->q[qi].used + 2, 2); }

/* The next used entry the test has not seen yet; fails if there is none. */
static struct vring_used_elem next_used(struct fx *f, unsigned qi)
{
	struct tq *q = &f->q[qi];
	assert_true((uint16_t)(used_idx(f, qi) - q->used_seen) > 0);
	struct vring_used_elem e;
	assert_int_equal(gm_read(&f->gm, &e, q->used + 4 + 8ULL * (q->used_seen % QSZ), sizeof(e)), 0);
	q->used_seen++;
	return e;
}

static unsigned pending_used(struct fx *f, unsigned qi) { return (uint16_t)(used_idx(f, qi) - f->q[qi].used_seen); }

/* Dispatch what the event loop would: every ready fd's callback, until
 * nothing is ready. Returns the callbacks run. */
static int run_loop(struct fx *f)
{
	int total = 0;
	for (int round = 0; round < 64; round++) {
		struct epoll_event ev[8];
		int k = epoll_wait(f->loop.epfd, ev, 8, 0);
		if (k <= 0)
			return total;
		for (int i = 0; i < k; i++) {
			struct evloop_entry *s = ev[i].data.ptr;
			if (s && s->fn)
				s->fn(s->ctx, ev[i].events);
		}
		total += k;
	}
	fail_msg("the event loop never went idle: something spins");
	return total;
}

static void pattern(uint8_t *p, size_t len, unsigned seed)
{
	uint32_t x = seed * 2654435761u + 1;
	for (size_t i = 0; i < len; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		p[i] = (uint8_t)x;
	}
}

static bool status_needs_reset(struct fx *f) { return rd(f, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET; }

/* ---- TX helpers ---- */

/* Receive one datagram from the device (or -1 if none). */
static ssize_t recv_frame(struct fx *f, uint8_t *buf, size_t len)
{
	ssize_t n = recv(f->sock, buf, len, 0);
	if (n < 0)
		assert_int_equal(errno, EAGAIN);
	return n;
}

static struct virtio_net_hdr_v1 plain_hdr(void)
{
	return (struct virtio_net_hdr_v1){ .gso_type = VIRTIO_NET_HDR_GSO_NONE };
}

/* Put header H and a FRAME_LEN-byte pattern frame at TXBUF as one
 * descriptor chain of head HEAD (header and frame in separate descriptors
 * if SPLIT). Returns the expected datagram in OUT. */
static size_t tx_post(struct fx *f, uint16_t head, const struct virtio_net_hdr_v1 *h, size_t frame_len, bool split,
		      unsigned seed, uint8_t *out)
{
	memcpy(out, h, sizeof(*h));
	pattern(out + sizeof(*h), frame_len, seed);
	uint64_t at = TXBUF + 0x20000ULL * (head % 8);
	assert_int_equal(gm_write(&f->gm, at, out, sizeof(*h) + frame_len), 0);
	if (split) {
		set_desc(f, VNET_TXQ, head, at, sizeof(*h), VRING_DESC_F_NEXT, (uint16_t)((head + 1) % QSZ));
		set_desc(f, VNET_TXQ, (head + 1) % QSZ, at + sizeof(*h), (uint32_t)frame_len, 0, 0);
	} else {
		set_desc(f, VNET_TXQ, head, at, (uint32_t)(sizeof(*h) + frame_len), 0, 0);
	}
	offer(f, VNET_TXQ, head);
	return sizeof(*h) + frame_len;
}

/* A good frame still goes through, byte-exact. */
static void tx_good_frame_works(struct fx *f)
{
	static uint8_t want[2048], got[4096];
	struct virtio_net_hdr_v1 h = plain_hdr();
	size_t len = tx_post(f, 12, &h, 100, true, 77, want);
	virtio_process_queue(f->d, VNET_TXQ);
	struct vring_used_elem e = next_used(f, VNET_TXQ);
	assert_int_equal(e.id, 12);
	assert_int_equal(e.len, 0);
	assert_int_equal(recv_frame(f, got, sizeof(got)), (ssize_t)len);
	assert_memory_equal(got, want, len);
	assert_false(status_needs_reset(f));
}

/* ---- RX helpers ---- */

static void send_frame(struct fx *f, const struct virtio_net_hdr_v1 *h, const uint8_t *frame, size_t len)
{
	struct iovec iov[2] = { { (void *)h, sizeof(*h) }, { (void *)frame, len } };
	assert_int_equal(writev(f->sock, iov, 2), (ssize_t)(sizeof(*h) + len));
}

/* One writable RX buffer of LEN bytes at slot I (head I). */
static uint64_t rx_post(struct fx *f, uint16_t i, uint32_t len)
{
	uint64_t at = RXBUF + 0x10000ULL * i;
	set_desc(f, VNET_RXQ, i, at, len, VRING_DESC_F_WRITE, 0);
	offer(f, VNET_RXQ, i);
	return at;
}

/* ------------------------------------------------------------------ */

static void test_identity_and_config(void **state)
{
	struct fx *f = *state;
	assert_int_equal(rd(f, VIRTIO_MMIO_MAGIC_VALUE), 0x74726976);
	assert_int_equal(rd(f, VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_NET);
	uint64_t feat = device_features(f);
	assert_true(feat & F(VIRTIO_NET_F_MAC));
	assert_true(feat & F(VIRTIO_NET_F_STATUS));
	assert_true(feat & F(VIRTIO_NET_F_MRG_RXBUF));
	assert_true(feat & F(VIRTIO_NET_F_CSUM));
	assert_true(feat & F(VIRTIO_NET_F_GUEST_CSUM));
	assert_true(feat & F(VIRTIO_NET_F_HOST_TSO4));
	assert_true(feat & F(VIRTIO_NET_F_GUEST_TSO4));
	assert_false(feat & F(VIRTIO_NET_F_CTRL_VQ));
	assert_false(feat & F(VIRTIO_NET_F_MQ));
	/* The MAC, byte by byte as Linux reads it. */
	for (unsigned i = 0; i < 6; i++) {
		uint8_t b = 0;
		virtio_mmio_io(f->d, VIRTIO_MMIO_CONFIG + i, &b, 1, false);
		assert_int_equal(b, test_mac[i]);
	}
	uint16_t v = 0;
	virtio_mmio_io(f->d, VIRTIO_MMIO_CONFIG + offsetof(struct virtio_net_config, status), (uint8_t *)&v, 2, false);
	assert_int_equal(v, VIRTIO_NET_S_LINK_UP);
	virtio_mmio_io(f->d, VIRTIO_MMIO_CONFIG + offsetof(struct virtio_net_config, max_virtqueue_pairs),
		       (uint8_t *)&v, 2, false);
	assert_int_equal(v, 1);
	/* Past the config space (no MTU, speed, RSS fields): all ones. */
	uint32_t w = 0;
	virtio_mmio_io(f->d, VIRTIO_MMIO_CONFIG + 10, (uint8_t *)&w, 4, false);
	assert_int_equal(w, 0xffffffffu);
	/* Config writes are ignored: the MAC stays. */
	uint8_t z = 0;
	virtio_mmio_io(f->d, VIRTIO_MMIO_CONFIG, &z, 1, true);
	virtio_mmio_io(f->d, VIRTIO_MMIO_CONFIG, &z, 1, false);
	assert_int_equal(z, test_mac[0]);
}

static void test_offload_off_and_mrg_off_not_offered(void **state)
{
	(void)state;
	struct guest_mem gm;
	test_gm_alloc(&gm, 2 << 20, 0);
	struct err e;
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0, sv), 0);
	struct virtio_net *n = vnet_create(&gm, NULL, sv[0], false, test_mac, false, false, "x", &e);
	assert_non_null(n);
	uint64_t feat = vnet_dev(n)->ops->features;
	assert_int_equal(feat, F(VIRTIO_NET_F_MAC) | F(VIRTIO_NET_F_STATUS));
	vnet_dev(n)->ops->destroy(vnet_dev(n));
	close(sv[1]);
	test_gm_release(&gm);
}

static void test_default_mac(void **state)
{
	(void)state;
	uint8_t a[6], b[6], c[6];
	vnet_default_mac("tap0", a);
	vnet_default_mac("tap0", b);
	vnet_default_mac("tap1", c);
	assert_memory_equal(a, b, 6);            /* stable */
	assert_memory_not_equal(a, c, 6);        /* per tap */
	assert_int_equal(a[0] & 3, 2);           /* locally administered, unicast */
}

static void test_parse_spec(void **state)
{
	(void)state;
	struct net_config s;
	struct err e;
	assert_int_equal(vnet_parse_spec("tap=tap0", &s, &e), 0);
	assert_string_equal(s.tap, "tap0");
	assert_false(s.has_mac);
	assert_false(s.has_ip);
	assert_false(s.no_offload || s.no_mrg_rxbuf);
	assert_int_equal(vnet_parse_spec("mac=02:aa:BB:cc:dd:0e,tap=sb-0.x_,host-ip=10.0.2.1/24,offload=off,mrg_rxbuf=off",
					 &s, &e), 0);
	assert_string_equal(s.tap, "sb-0.x_");
	assert_true(s.has_mac);
	assert_memory_equal(s.mac, ((uint8_t[]){ 0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0x0e }), 6);
	assert_true(s.has_ip);
	assert_int_equal(ntohl(s.ip.s_addr), 0x0a000201);
	assert_int_equal(s.prefix, 24);
	assert_true(s.no_offload && s.no_mrg_rxbuf);
	assert_int_equal(vnet_parse_spec("tap=t,bridge=br0", &s, &e), 0);
	assert_string_equal(s.bridge, "br0");

	static const struct {
		const char *spec, *msg;
	} bad[] = {
		{ "", "empty" },
		{ "tap0", "KEY=VALUE" },
		{ "tap=", "interface name" },
		{ "tap=0123456789abcdef", "interface name" },
		{ "tap=a/b", "interface name" },
		{ "tap=..", "interface name" },
		{ "tap=a b", "interface name" },
		{ "tap=a,", "empty option" },
		{ "tap=a,,mac=02:00:00:00:00:01", "empty option" },
		{ "tap=a,tap=b", "twice" },
		{ "mac=02:00:00:00:00:01", "tap=NAME is required" },
		{ "tap=a,mac=02:00:00:00:00", "XX:XX" },
		{ "tap=a,mac=02:00:00:00:00:0g", "XX:XX" },
		{ "tap=a,mac=02-00-00-00-00-01", "XX:XX" },
		{ "tap=a,mac=03:00:00:00:00:01", "multicast" },
		{ "tap=a,mac=00:00:00:00:00:00", "zero" },
		{ "tap=a,host-ip=10.0.2.1", "A.B.C.D/N" },
		{ "tap=a,host-ip=10.0.2.1/0", "A.B.C.D/N" },
		{ "tap=a,host-ip=10.0.2.1/33", "A.B.C.D/N" },
		{ "tap=a,host-ip=10.0.2/24", "A.B.C.D/N" },
		{ "tap=a,host-ip=10.0.2.256/24", "A.B.C.D/N" },
		{ "tap=a,host-ip=10.0.2.1/2x", "A.B.C.D/N" },
		{ "tap=a,host-ip=/24", "A.B.C.D/N" },
		{ "tap=a,host-ip=10.0.2.1/24,bridge=br0", "exclude" },
		{ "tap=a,bridge=", "interface name" },
		{ "tap=a,offload=maybe", "on or off" },
		{ "tap=a,mrg_rxbuf=1", "on or off" },
		{ "tap=a,vhost=on", "unknown option 'vhost'" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		memset(&e, 0, sizeof(e));
		if (vnet_parse_spec(bad[i].spec, &s, &e) != -1)
			fail_msg("spec \"%s\" was accepted", bad[i].spec);
		assert_err_contains(&e, bad[i].msg);
		assert_null(strchr(e.msg, '\n'));
	}
}

static void test_not_polled_before_driver_ok(void **state)
{
	struct fx *f = *state;
	assert_false(vnet_backend_polled(f->n));
	uint8_t frame[60] = { 1 };
	struct virtio_net_hdr_v1 h = plain_hdr();
	send_frame(f, &h, frame, sizeof(frame));
	assert_int_equal(run_loop(f), 0); /* a waiting frame wakes nobody */
	driver_init(f, BASE_FEATURES);
	assert_true(vnet_backend_polled(f->n));
	/* Reset: unpolled again. */
	wr(f, VIRTIO_MMIO_STATUS, 0);
	assert_false(vnet_backend_polled(f->n));
	assert_int_equal(run_loop(f), 0);
}

static void test_tx_byte_exact(void **state)
{
	struct fx *f = *state;
	driver_init(f, BASE_FEATURES);
	static uint8_t want[2048], got[4096];
	/* header and frame in one descriptor, then in two */
	for (int split = 0; split < 2; split++) {
		struct virtio_net_hdr_v1 h = plain_hdr();
		unsigned irqs = f->irqs;
		size_t len = tx_post(f, (uint16_t)(2 * split), &h, 60 + 1000 * split, split, 1 + split, want);
		virtio_process_queue(f->d, VNET_TXQ);
		struct vring_used_elem e = next_used(f, VNET_TXQ);
		assert_int_equal(e.id, 2 * split);
		assert_int_equal(e.len, 0);
		assert_int_equal(recv_frame(f, got, sizeof(got)), (ssize_t)len);
		assert_memory_equal(got, want, len);
		assert_int_equal(f->irqs, irqs + 1);
	}
	assert_int_equal(recv_frame(f, got, sizeof(got)), -1);
	struct vnet_stats st = vnet_get_stats(f->n);
	assert_int_equal(st.tx_packets, 2);
	assert_int_equal(st.tx_bytes, 60 + 1060);
	assert_int_equal(st.tx_bad, 0);
}

static void test_tx_scattered_and_indirect(void **state)
{
	struct fx *f = *state;
	driver_init(f, BASE_FEATURES | F(VIRTIO_RING_F_INDIRECT_DESC));
	static uint8_t want[4096], got[4096];
	struct virtio_net_hdr_v1 h = plain_hdr();
	h.num_buffers = 0;
	memcpy(want, &h, sizeof(h));
	pattern(want + 12, 1500, 9);
	assert_int_equal(gm_write(&f->gm, TXBUF, want, 1512), 0);
	/* Header split 5+7, frame over three pieces, via an indirect table. */
	struct vring_desc t[5] = {
		{ TXBUF, 5, VRING_DESC_F_NEXT, 1 },
		{ TXBUF + 5, 7, VRING_DESC_F_NEXT, 2 },
		{ TXBUF + 12, 1, VRING_DESC_F_NEXT, 3 },
		{ TXBUF + 13, 999, VRING_DESC_F_NEXT, 4 },
		{ TXBUF + 1012, 500, 0, 0 },
	};
	assert_int_equal(gm_write(&f->gm, INDIRECT, t, sizeof(t)), 0);
	set_desc(f, VNET_TXQ, 3, INDIRECT, sizeof(t), VRING_DESC_F_INDIRECT, 0);
	offer(f, VNET_TXQ, 3);
	virtio_process_queue(f->d, VNET_TXQ);
	assert_int_equal(next_used(f, VNET_TXQ).id, 3);
	assert_int_equal(recv_frame(f, got, sizeof(got)), 1512);
	assert_memory_equal(got, want, 1512);
}

static void test_tx_offload_header_passes(void **state)
{
	struct fx *f = *state;
	driver_init(f, BASE_FEATURES | F(VIRTIO_NET_F_CSUM) | F(VIRTIO_NET_F_HOST_TSO4));
	static uint8_t want[8192], got[8192];
	struct virtio_net_hdr_v1 h = {
		.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
		.gso_type = VIRTIO_NET_HDR_GSO_TCPV4,
		.hdr_len = 66,
		.gso_size = 1448,
		.csum_start = 34,
		.csum_offset = 16,
	};
	size_t len = tx_post(f, 0, &h, 4000, true, 3, want);
	virtio_process_queue(f->d, VNET_TXQ);
	next_used(f, VNET_TXQ);
	assert_int_equal(recv_frame(f, got, sizeof(got)), (ssize_t)len);
	assert_memory_equal(got, want, len);
	/* A largest GSO frame still goes. */
	static uint8_t big[VNET_HDR_LEN + VNET_MAX_FRAME];
	memcpy(big, &h, sizeof(h));
	pattern(big + 12, VNET_MAX_FRAME, 4);
	assert_int_equal(gm_write(&f->gm, BIG, big, sizeof(big)), 0);
	set_desc(f, VNET_TXQ, 5, BIG, sizeof(big), 0, 0);
	offer(f, VNET_TXQ, 5);
	virtio_process_queue(f->d, VNET_TXQ);
	next_used(f, VNET_TXQ);
	static uint8_t rbig[sizeof(big) + 16];
	assert_int_equal(recv_frame(f, rbig, sizeof(rbig)), (ssize_t)sizeof(big));
	assert_memory_equal(rbig, big, sizeof(big));
	assert_int_equal(vnet_get_stats(f->n).tx_packets, 2);
}

/* Each hostile TX request is completed empty, sends nothing, and the next
 * good request still works. */
static void test_tx_hostile_requests(void **state)
{
	struct fx *f = *state;
	driver_init(f, BASE_FEATURES | F(VIRTIO_NET_F_CSUM)); /* no HOST_TSO4 */
	static uint8_t buf[4096], got[4096];
	struct virtio_net_hdr_v1 h;
	unsigned nbad = 0;
	for (unsigned c = 0;; c++) {
		h = plain_hdr();
		pattern(buf, sizeof(buf), c);
		memcpy(buf, &h, sizeof(h));
		assert_int_equal(gm_write(&f->gm, TXBUF, buf, sizeof(buf)), 0);
		uint16_t head = 0;
		switch (c) {
		case 0: /* header only */
			set_desc(f, VNET_TXQ, 0, TXBUF, 12, 0, 0);
			break;
		case 1: /* shorter than an Ethernet header */
			set_desc(f, VNET_TXQ, 0, TXBUF, 12 + 13, 0, 0);
			break;
		case 2: /* shorter than the vnet header */
			set_desc(f, VNET_TXQ, 0, TXBUF, 8, 0, 0);
			break;
		case 3: /* descriptor loop */
			set_desc(f, VNET_TXQ, 0, TXBUF, 12, VRING_DESC_F_NEXT, 1);
			set_desc(f, VNET_TXQ, 1, TXBUF + 12, 100, VRING_DESC_F_NEXT, 0);
			break;
		case 4: /* buffer outside guest memory */
			set_desc(f, VNET_TXQ, 0, TXBUF, 12, VRING_DESC_F_NEXT, 1);
			set_desc(f, VNET_TXQ, 1, MEM - 50, 100, 0, 0);
			break;
		case 5: /* zero-length descriptor */
			set_desc(f, VNET_TXQ, 0, TXBUF, 12, VRING_DESC_F_NEXT, 1);
			set_desc(f, VNET_TXQ, 1, TXBUF + 12, 0, 0, 0);
			break;
		case 6: /* huge length */
			set_desc(f, VNET_TXQ, 0, TXBUF, 0xffffffffu, 0, 0);
			break;
		case 7: /* a device-writable buffer in a TX chain */
			set_desc(f, VNET_TXQ, 0, TXBUF, 112, VRING_DESC_F_NEXT, 1);
			set_desc(f, VNET_TXQ, 1, TXBUF + 200, 100, VRING_DESC_F_WRITE, 0);
			break;
		case 8: /* larger than a 64 KiB GSO frame */
			set_desc(f, VNET_TXQ, 0, BIG, VNET_HDR_LEN + VNET_MAX_FRAME + 1, 0, 0);
			break;
		case 9: /* flags the driver must not set */
			h.flags = VIRTIO_NET_HDR_F_DATA_VALID;
			break;
		case 10: /* checksum offset past the frame */
			h.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
			h.csum_start = 90;
			h.csum_offset = 9;
			break;
		case 11: /* TSO not negotiated */
			h.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
			h.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
			h.gso_size = 1000;
			break;
		case 12: /* GSO type never offered */
			h.gso_type = VIRTIO_NET_HDR_GSO_UDP;
			break;
		case 13: /* ECN bit never offered */
			h.gso_type = VIRTIO_NET_HDR_GSO_NONE | VIRTIO_NET_HDR_GSO_ECN;
			break;
		case 14: /* hdr_len past the frame */
			h.hdr_len = 101;
			break;
		case 15: /* indirect without negotiating it */
			set_desc(f, VNET_TXQ, 0, INDIRECT, 16, VRING_DESC_F_INDIRECT, 0);
			break;
		case 16: /* next index out of range */
			set_desc(f, VNET_TXQ, 0, TXBUF, 12, VRING_DESC_F_NEXT, QSZ + 5);
			break;
		default:
			goto done;
		}
		if (c >= 9 && c <= 14) { /* a 100-byte frame behind header H */
			memcpy(buf, &h, sizeof(h));
			assert_int_equal(gm_write(&f->gm, TXBUF, buf, 112), 0);
			set_desc(f, VNET_TXQ, 0, TXBUF, 112, 0, 0);
		}
		offer(f, VNET_TXQ, head);
		unsigned irqs = f->irqs;
		virtio_process_queue(f->d, VNET_TXQ);
		struct vring_used_elem e = next_used(f, VNET_TXQ);
		assert_int_equal(e.id, head);
		assert_int_equal(e.len, 0);
		assert_int_equal(f->irqs, irqs + 1); /* the driver learns it is done */
		if (recv_frame(f, got, sizeof(got)) != -1)
			fail_msg("hostile TX case %u reached the backend", c);
		nbad++;
		assert_int_equal(vnet_get_stats(f->n).tx_bad, nbad);
		tx_good_frame_works(f);
	}
done:
	assert_int_equal(vnet_get_stats(f->n).tx_packets, nbad);
}

static void test_tx_broken_ring_needs_reset(void **state)
{
	struct fx *f = *state;
	driver_init(f, BASE_FEATURES);
	uint16_t *a = gm_ptr(&f->gm, f->q[VNET_TXQ].avail, 4);
	a[1] = QSZ + 3; /* more entries than the ring has */
	virtio_process_queue(f->d, VNET_TXQ);
	assert_true(status_needs_reset(f));
	assert_int_equal(pending_used(f, VNET_TXQ), 0);
	/* The driver resets and starts over: the device serves again. */
	driver_init(f, BASE_FEATURES);
	assert_false(status_needs_reset(f));
	tx_good_frame_works(f);
}

static void test_rx_byte_exact(void **state)
{
	struct fx *f = *state;
	driver_init(f, BASE_FEATURES);
	/* A header descriptor and a data descriptor, like a small-buffer driver. */
	set_desc(f, VNET_RXQ, 0, RXBUF, 12, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1);
	set_desc(f, VNET_RXQ, 1, RXBUF + 0x1000, 1514, VRING_DESC_F_WRITE, 0);
	offer(f, VNET_RXQ, 0);
	virtio_process_queue(f->d, VNET_RXQ);
	uint8_t frame[100];
	pattern(frame, sizeof(frame), 5);
	/* What the tap hands over: flags the guest did not negotiate, junk
	 * where num_buffers goes. */
	struct virtio_net_hdr_v1 h = plain_hdr();
	h.flags = VIRTIO_NET_HDR_F_DATA_VALID;
	h.num_buffers = 0x7777;
	send_frame(f, &h, frame, sizeof(frame));
	unsigned irqs = f->irqs;
	assert_true(run_loop(f) >= 1);
	struct vring_used_elem e = next_used(f, VNET_RXQ);
	assert_int_equal(e.id, 0);
	assert_int_equal(e.len, 12 + sizeof(frame));
	assert_int_equal(f->irqs, irqs + 1);
	struct virtio_net_hdr_v1 gh;
	gm_read(&f->gm, &gh, RXBUF, sizeof(gh));
	struct virtio_net_hdr_v1 want = plain_hdr();
	want.num_buffers = 1; /* flags cleared: no GUEST_CSUM */
	assert_memory_equal(&gh, &want, sizeof(want));
	assert_memory_equal(gm_ptr(&f->gm, RXBUF + 0x1000, sizeof(frame)), frame, sizeof(frame));
	assert_true(all_bytes(gm_ptr(&f->gm, RXBUF + 0x1000 + sizeof(frame), 16), 16, 0xee)); /* nothing past it */
	struct vnet_stats st = vnet_get_stats(f->n);
	assert_int_equal(st.rx_packets, 1);
	assert_int_equal(st.rx_bytes, sizeof(frame));
}

static void test_rx_csum_flags_pass_with_guest_csum(void **state)
{
	struct fx *f = *state;
	driver_init(f, BASE_FEATURES | F(VIRTIO_NET_F_GUEST_CSUM));
	rx_post(f, 0, 2048);
	uint8_t frame[200];
	pattern(frame, sizeof(frame), 6);
	struct virtio_net_hdr_v1 h = { .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .csum_start = 34, .csum_offset = 6 };
	send_frame(f, &h, frame, sizeof(frame));
	run_loop(f);
	assert_int_equal(next_used(f, VNET_RXQ).len, 212);
	struct virtio_net_hdr_v1 gh;
	gm_read(&f->gm, &gh, RXBUF, sizeof(gh));
	h.num_buffers = 1;
	assert_memory_equal(&gh, &h, sizeof(h));
}

static void test_rx_mergeable(void **state)
{
	struct fx *f = *state;
	driver_init(f, BASE_FEATURES | F(VIRTIO_NET_F_MRG_RXBUF));
	for (uint16_t i = 0; i < 4; i++)
		rx_post(f, i, 1000);
	static uint8_t frame[2500];
	pattern(frame, sizeof(frame), 8);
	struct virtio_net_hdr_v1 h = plain_hdr();
	send_frame(f, &h, frame, sizeof(frame));
	run_loop(f);
	/* 12 + 2500 bytes over three 1000-byte buffers. */
	assert_int_equal(pending_used(f, VNET_RXQ), 3);
	uint32_t lens[3] = { 1000, 1000, 512 };
	for (uint16_t i = 0; i < 3; i++) {
		struct vring_used_elem e = next_used(f, VNET_RXQ);
		assert_int_equal(e.id, i);
		assert_int_equal(e.len, lens[i]);
	}
	struct virtio_net_hdr_v1 gh;
	gm_read(&f->gm, &gh, RXBUF, sizeof(gh));
	assert_int_equal(gh.num_buffers, 3);
	assert_memory_equal(gm_ptr(&f->gm, RXBUF + 12, 988), frame, 988);
	assert_memory_equal(gm_ptr(&f->gm, RXBUF + 0x10000, 1000), frame + 988, 1000);
	assert_memory_equal(gm_ptr(&f->gm, RXBUF + 0x20000, 512), frame + 1988, 512);
	/* The fourth buffer takes the next frame on its own. */
	uint8_t small[50];
	pattern(small, sizeof(small), 9);
	send_frame(f, &h, small, sizeof(small));
	run_loop(f);
	struct vring_used_elem e = next_used(f, VNET_RXQ);
	assert_int_equal(e.id, 3);
	assert_int_equal(e.len, 62);
	gm_read(&f->gm, &gh, RXBUF + 0x30000, sizeof(gh));
	assert_int_equal(gh.num_buffers, 1);
	assert_memory_equal(gm_ptr(&f->gm, RXBUF + 0x30000 + 12, sizeof(small)), small, sizeof(small));
	assert_int_equal(vnet_get_stats(f->n).rx_packets, 2);
}

static void test_rx_gso_frame(void **state)
{
	struct fx *f = *state;
	driver_init(f, BASE_FEATURES | F(VIRTIO_NET_F_GUEST_CSUM) | F(VIRTIO_NET_F_GUEST_TSO4));
	/* Without mergeable buffers the driver posts big chains. */
	set_desc(f, VNET_RXQ, 0, BIG, VNET_HDR_LEN + VNET_MAX_FRAME, VRING_DESC_F_WRITE, 0);
	offer(f, VNET_RXQ, 0);
	static uint8_t frame[VNET_MAX_FRAME];
	pattern(frame, sizeof(frame), 10);
	struct virtio_net_hdr_v1 h = { .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .gso_type = VIRTIO_NET_HDR_GSO_TCPV4,
				       .hdr_len = 66, .gso_size = 1448, .csum_start = 34, .csum_offset = 16 };
	send_frame(f, &h, frame, sizeof(frame));
	run_loop(f);
	assert_int_equal(next_used(f, VNET_RXQ).len, VNET_HDR_LEN + VNET_MAX_FRAME);
	struct virtio_net_hdr_v1 gh;
	gm_read(&f->gm, &gh, BIG, sizeof(gh));
	h.num_buffers = 1;
	assert_memory_equal(&gh, &h, sizeof(h));
	assert_memory_equal(gm_ptr(&f->gm, BIG + 12, sizeof(frame)), frame, sizeof(frame));
}

static void test_rx_gso_not_negotiated_dropped(void **state)
{
	struct fx *f = *state;
	driver_init(f, BASE_FEATURES | F(VIRTIO_NET_F_GUEST_CSUM)); /* no GUEST_TSO4 */
	rx_post(f, 0, 4096);
	uint8_t frame[1000] = { 0 };
	struct virtio_net_hdr_v1 h = { .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .gso_type = VIRTIO_NET_HDR_GSO_TCPV4,
				       .gso_size = 500, .csum_start = 34, .csum_offset = 16 };
	send_frame(f, &h, frame, sizeof(frame));
	run_loop(f);
	assert_int_equal(pending_used(f, VNET_RXQ), 0);
	assert_int_equal(vnet_get_stats(f->n).rx_dropped, 1);
}

static void test_rx_no_buffers_stops_polling(void **state)
{
	struct fx *f = *state;
	driver_init(f, BASE_FEATURES | F(VIRTIO_RING_F_EVENT_IDX));
	uint8_t frame[64];
	pattern(frame, sizeof(frame), 11);
	struct virtio_net_hdr_v1 h = plain_hdr();
	send_frame(f, &h, frame, sizeof(frame));
	/* One wake-up finds no buffers; after it the backend is not polled,
	 * so the waiting frame wakes nobody again (no spinning). */
	assert_int_equal(run_loop(f), 1);
	assert_false(vnet_backend_polled(f->n));
	assert_int_equal(run_loop(f), 0);
	assert_int_equal(vnet_get_stats(f->n).rx_stalls, 1);
	/* The device asked to be kicked at the next buffer (avail_event). */
	uint16_t avail_event;
	gm_read(&f->gm, &avail_event, f->q[VNET_RXQ].used + 4 + 8 * QSZ, 2);
	assert_int_equal(avail_event, 0);
	/* The driver refills and kicks: polled again, the frame arrives. */
	rx_post(f, 0, 2048);
	virtio_process_queue(f->d, VNET_RXQ);
	assert_true(vnet_backend_polled(f->n));
	assert_int_equal(run_loop(f), 1);
	assert_int_equal(next_used(f, VNET_RXQ).len, 12 + sizeof(frame));
	assert_memory_equal(gm_ptr(&f->gm, RXBUF + 12, sizeof(frame)), frame, sizeof(frame));
	/* The ring is empty again: unpolled at once, and the driver is asked
	 * to kick at its next buffer. */
	assert_false(vnet_backend_polled(f->n));
	gm_read(&f->gm, &avail_event, f->q[VNET_RXQ].used + 4 + 8 * QSZ, 2);
	assert_int_equal(avail_event, 1);
	send_frame(f, &h, frame, sizeof(frame));
	assert_int_equal(run_loop(f), 0);
	assert_int_equal(vnet_get_stats(f->n).rx_stalls, 2);
}

static void test_rx_too_big_dropped(void **state)
{
	struct fx *f = *state;
	driver_init(f, BASE_FEATURES);
	rx_post(f, 0, 12 + 100);
	static uint8_t frame[500];
	pattern(frame, sizeof(frame), 12);
	struct virtio_net_hdr_v1 h = plain_hdr();
	send_frame(f, &h, frame, 101); /* one byte too many */
	send_frame(f, &h, frame, sizeof(frame));
	send_frame(f, &h, frame, 100); /* fits exactly */
	run_loop(f);
	struct vring_used_elem e = next_used(f, VNET_RXQ);
	assert_int_equal(e.id, 0);
	assert_int_equal(e.len, 112);
	assert_memory_equal(gm_ptr(&f->gm, RXBUF + 12, 100), frame, 100);
	assert_true(all_bytes(gm_ptr(&f->gm, RXBUF + 112, 64), 64, 0xee)); /* nothing written past the buffer */
	assert_int_equal(pending_used(f, VNET_RXQ), 0);
	struct vnet_stats st = vnet_get_stats(f->n);
	assert_int_equal(st.rx_dropped, 2);
	assert_int_equal(st.rx_packets, 1);
}

static void test_rx_too_big_for_merged_buffers(void **state)
{
	struct fx *f = *state;
	driver_init(f, BASE_FEATURES | F(VIRTIO_NET_F_MRG_RXBUF));
	rx_post(f, 0, 600);
	rx_post(f, 1, 600);
	static uint8_t frame[1500];
	pattern(frame, sizeof(frame), 13);
	struct virtio_net_hdr_v1 h = plain_hdr();
	send_frame(f, &h, frame, 1189); /* 12 + 1189 > 1200 */
	send_frame(f, &h, frame, 1188); /* fits exactly */
	run_loop(f);
	assert_int_equal(pending_used(f, VNET_RXQ), 2);
	assert_int_equal(next_used(f, VNET_RXQ).len, 600);
	assert_int_equal(next_used(f, VNET_RXQ).len, 600);
	assert_memory_equal(gm_ptr(&f->gm, RXBUF + 12, 588), frame, 588);
	assert_memory_equal(gm_ptr(&f->gm, RXBUF + 0x10000, 600), frame + 588, 600);
	assert_int_equal(vnet_get_stats(f->n).rx_dropped, 1);
}

static void test_rx_runts_dropped(void **state)
{
	struct fx *f = *state;
	driver_init(f, BASE_FEATURES);
	rx_post(f, 0, 2048);
	uint8_t junk[30] = { 0 };
	assert_int_equal(send(f->sock, junk, 5, 0), 5);        /* shorter than a header */
	assert_int_equal(send(f->sock, junk, 0, 0), 0);        /* empty */
	assert_int_equal(send(f->sock, junk, 12 + 13, 0), 25); /* no full Ethernet header */
	uint8_t frame[60];
	pattern(frame, sizeof(frame), 14);
	struct virtio_net_hdr_v1 h = plain_hdr();
	send_frame(f, &h, frame, sizeof(frame));
	run_loop(f);
	assert_int_equal(next_used(f, VNET_RXQ).len, 72);
	assert_memory_equal(gm_ptr(&f->gm, RXBUF + 12, sizeof(frame)), frame, sizeof(frame));
	assert_int_equal(vnet_get_stats(f->n).rx_dropped, 3);
}

/* Hostile RX buffers are completed empty; a good one behind them gets the frame. */
static void test_rx_hostile_buffers(void **state)
{
	struct fx *f = *state;
	for (int mrg = 0; mrg < 2; mrg++) {
		driver_init(f, BASE_FEATURES | (mrg ? F(VIRTIO_NET_F_MRG_RXBUF) : 0));
		unsigned bad_before = (unsigned)vnet_get_stats(f->n).rx_bad;
		/* 0: readable buffer */
		set_desc(f, VNET_RXQ, 0, RXBUF, 2048, 0, 0);
		/* 1: readable then writable */
		set_desc(f, VNET_RXQ, 1, RXBUF, 16, VRING_DESC_F_NEXT, 2);
		set_desc(f, VNET_RXQ, 2, RXBUF + 16, 2048, VRING_DESC_F_WRITE, 0);
		/* 3: loop */
		set_desc(f, VNET_RXQ, 3, RXBUF, 2048, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 4);
		set_desc(f, VNET_RXQ, 4, RXBUF, 2048, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 3);
		/* 5: outside guest memory */
		set_desc(f, VNET_RXQ, 5, MEM - 1000, 2048, VRING_DESC_F_WRITE, 0);
		/* 6: zero length */
		set_desc(f, VNET_RXQ, 6, RXBUF, 0, VRING_DESC_F_WRITE, 0);
		/* 7: huge length */
		set_desc(f, VNET_RXQ, 7, RXBUF, 0xfffffff0u, VRING_DESC_F_WRITE, 0);
		/* 8: too small for the header */
		set_desc(f, VNET_RXQ, 8, RXBUF, 11, VRING_DESC_F_WRITE, 0);
		/* 9: good */
		set_desc(f, VNET_RXQ, 9, RXBUF + 0x10000, 2048, VRING_DESC_F_WRITE, 0);
		uint16_t heads[] = { 0, 1, 3, 5, 6, 7, 8, 9 };
		for (unsigned i = 0; i < ARRAY_SIZE(heads); i++)
			offer(f, VNET_RXQ, heads[i]);
		uint8_t frame[80];
		pattern(frame, sizeof(frame), 15);
		struct virtio_net_hdr_v1 h = plain_hdr();
		send_frame(f, &h, frame, sizeof(frame));
		run_loop(f);
		for (unsigned i = 0; i < ARRAY_SIZE(heads) - 1; i++) {
			struct vring_used_elem e = next_used(f, VNET_RXQ);
			assert_int_equal(e.id, heads[i]);
			assert_int_equal(e.len, 0);
		}
		struct vring_used_elem e = next_used(f, VNET_RXQ);
		assert_int_equal(e.id, 9);
		assert_int_equal(e.len, 92);
		assert_memory_equal(gm_ptr(&f->gm, RXBUF + 0x10000 + 12, sizeof(frame)), frame, sizeof(frame));
		assert_int_equal(vnet_get_stats(f->n).rx_bad - bad_before, ARRAY_SIZE(heads) - 1);
		assert_false(status_needs_reset(f));
	}
}

/* An indirect table of N descriptors of PIECE bytes each from AT, FLAGS on each. */
static void indirect_table(struct fx *f, uint64_t table, unsigned n, uint64_t at, uint32_t piece, uint16_t flags)
{
	for (unsigned i = 0; i < n; i++) {
		struct vring_desc d = { .addr = at + (uint64_t)piece * i, .len = piece,
					.flags = (uint16_t)(flags | (i + 1 < n ? VRING_DESC_F_NEXT : 0)),
					.next = (uint16_t)(i + 1) };
		assert_int_equal(gm_write(&f->gm, table + 16ULL * i, &d, sizeof(d)), 0);
	}
}

/* Chains in many pieces: what readv cannot take now waits in the ring;
 * what it can never take is completed empty. */
static void test_rx_fragmented_chains(void **state)
{
	struct fx *f = *state;
	driver_init(f, BASE_FEATURES | F(VIRTIO_NET_F_MRG_RXBUF) | F(VIRTIO_RING_F_INDIRECT_DESC));
	/* A: one 100-byte buffer. B: 1022 pieces of 2 bytes (the header alone
	 * spans six), which do not fit next to A's piece. C: 1023 pieces,
	 * more than a readv can ever take. D: good. */
	rx_post(f, 0, 100);
	indirect_table(f, BIG, 1022, RXBUF + 0x10000, 2, VRING_DESC_F_WRITE);
	set_desc(f, VNET_RXQ, 1, BIG, 1022 * 16, VRING_DESC_F_INDIRECT, 0);
	offer(f, VNET_RXQ, 1);
	indirect_table(f, BIG + 0x10000, 1023, RXBUF + 0x20000, 2, VRING_DESC_F_WRITE);
	set_desc(f, VNET_RXQ, 2, BIG + 0x10000, 1023 * 16, VRING_DESC_F_INDIRECT, 0);
	offer(f, VNET_RXQ, 2);
	rx_post(f, 3, 2048);
	uint8_t frame[1000];
	pattern(frame, sizeof(frame), 17);
	struct virtio_net_hdr_v1 h = plain_hdr();
	send_frame(f, &h, frame, 50);   /* into A */
	send_frame(f, &h, frame, 60);   /* into B */
	send_frame(f, &h, frame, 70);   /* C is skipped: into D */
	run_loop(f);
	struct vring_used_elem e = next_used(f, VNET_RXQ);
	assert_int_equal(e.id, 0);
	assert_int_equal(e.len, 62);
	e = next_used(f, VNET_RXQ);
	assert_int_equal(e.id, 1);
	assert_int_equal(e.len, 72);
	struct virtio_net_hdr_v1 gh;
	gm_read(&f->gm, &gh, RXBUF + 0x10000, sizeof(gh));
	assert_int_equal(gh.num_buffers, 1);
	assert_memory_equal(gm_ptr(&f->gm, RXBUF + 0x10000 + 12, 60), frame, 60);
	e = next_used(f, VNET_RXQ);
	assert_int_equal(e.id, 2);
	assert_int_equal(e.len, 0);
	e = next_used(f, VNET_RXQ);
	assert_int_equal(e.id, 3);
	assert_int_equal(e.len, 82);
	assert_memory_equal(gm_ptr(&f->gm, RXBUF + 0x30000 + 12, 70), frame, 70);
	struct vnet_stats st = vnet_get_stats(f->n);
	assert_int_equal(st.rx_packets, 3);
	assert_int_equal(st.rx_bad, 1);
	assert_false(status_needs_reset(f));
}

/* A TX frame in 1023 pieces goes (header separate); in 1024 it cannot go
 * in one writev and is refused. */
static void test_tx_fragmented_chains(void **state)
{
	struct fx *f = *state;
	driver_init(f, BASE_FEATURES | F(VIRTIO_RING_F_INDIRECT_DESC));
	static uint8_t want[4096], got[4096];
	struct virtio_net_hdr_v1 h = plain_hdr();
	memcpy(want, &h, sizeof(h));
	pattern(want + 12, 1023, 18);
	assert_int_equal(gm_write(&f->gm, TXBUF, want, 12 + 1023), 0);
	/* header + 1023 one-byte pieces */
	struct vring_desc hd = { TXBUF, 12, VRING_DESC_F_NEXT, 1 };
	assert_int_equal(gm_write(&f->gm, BIG, &hd, sizeof(hd)), 0);
	indirect_table(f, BIG + 16, 1023, TXBUF + 12, 1, 0);
	for (unsigned i = 0; i < 1023; i++) /* renumber: entry i+1 chains to i+2 */
		assert_int_equal(gm_write(&f->gm, BIG + 16 + 16ULL * i + 14, &(uint16_t){ (uint16_t)(i + 2) }, 2), 0);
	set_desc(f, VNET_TXQ, 0, BIG, 1024 * 16, VRING_DESC_F_INDIRECT, 0);
	offer(f, VNET_TXQ, 0);
	virtio_process_queue(f->d, VNET_TXQ);
	assert_int_equal(next_used(f, VNET_TXQ).len, 0);
	assert_int_equal(recv_frame(f, got, sizeof(got)), 12 + 1023);
	assert_memory_equal(got, want, 12 + 1023);
	/* header + 8 bytes in the first piece, then 1023 pieces: 1024 frame pieces */
	hd.len = 20;
	assert_int_equal(gm_write(&f->gm, BIG, &hd, sizeof(hd)), 0);
	indirect_table(f, BIG + 16, 1023, TXBUF + 20, 1, 0);
	for (unsigned i = 0; i < 1023; i++)
		assert_int_equal(gm_write(&f->gm, BIG + 16 + 16ULL * i + 14, &(uint16_t){ (uint16_t)(i + 2) }, 2), 0);
	offer(f, VNET_TXQ, 0);
	virtio_process_queue(f->d, VNET_TXQ);
	assert_int_equal(next_used(f, VNET_TXQ).len, 0);
	assert_int_equal(recv_frame(f, got, sizeof(got)), -1);
	assert_int_equal(vnet_get_stats(f->n).tx_bad, 1);
	tx_good_frame_works(f);
}

static void test_rx_broken_ring_needs_reset(void **state)
{
	struct fx *f = *state;
	driver_init(f, BASE_FEATURES);
	uint16_t *a = gm_ptr(&f->gm, f->q[VNET_RXQ].avail, 4);
	a[2] = QSZ + 1; /* a head beyond the table */
	a[1] = 1;
	uint8_t frame[60] = { 0 };
	struct virtio_net_hdr_v1 h = plain_hdr();
	send_frame(f, &h, frame, sizeof(frame));
	run_loop(f);
	assert_true(status_needs_reset(f));
	assert_false(vnet_backend_polled(f->n));
	assert_int_equal(run_loop(f), 0);
	/* After a reset the waiting frame is delivered. */
	driver_init(f, BASE_FEATURES);
	rx_post(f, 0, 2048);
	run_loop(f);
	assert_int_equal(next_used(f, VNET_RXQ).len, 72);
}

/* Buffers the device held are forgotten when the driver resets: the next
 * frame goes to the new ring, the old buffers stay untouched. */
static void test_reset_drops_held_buffers(void **state)
{
	struct fx *f = *state;
	driver_init(f, BASE_FEATURES | F(VIRTIO_NET_F_MRG_RXBUF));
	for (uint16_t i = 0; i < 4; i++)
		rx_post(f, i, 1500);
	uint8_t frame[100];
	pattern(frame, sizeof(frame), 16);
	struct virtio_net_hdr_v1 h = plain_hdr();
	send_frame(f, &h, frame, sizeof(frame));
	run_loop(f);
	assert_int_equal(next_used(f, VNET_RXQ).id, 0);
	memset(gm_ptr(&f->gm, RXBUF, 0x40000), 0xee, 0x40000);
	/* Reset; the new ring's buffers live elsewhere. */
	f->q[VNET_RXQ].desc = 0x8000;
	driver_init(f, BASE_FEATURES | F(VIRTIO_NET_F_MRG_RXBUF));
	set_desc(f, VNET_RXQ, 0, BIG, 1500, VRING_DESC_F_WRITE, 0);
	set_desc(f, VNET_RXQ, 1, BIG + 0x10000, 1500, VRING_DESC_F_WRITE, 0);
	offer(f, VNET_RXQ, 0);
	offer(f, VNET_RXQ, 1);
	virtio_process_queue(f->d, VNET_RXQ);
	send_frame(f, &h, frame, sizeof(frame));
	run_loop(f);
	struct vring_used_elem e = next_used(f, VNET_RXQ);
	assert_int_equal(e.id, 0);
	assert_int_equal(e.len, 112);
	assert_memory_equal(gm_ptr(&f->gm, BIG + 12, sizeof(frame)), frame, sizeof(frame));
	assert_true(all_bytes(gm_ptr(&f->gm, RXBUF, 0x40000), 0x40000, 0xee));
	/* Same when the driver re-creates the RX queue without a reset. */
	wr(f, VIRTIO_MMIO_QUEUE_SEL, VNET_RXQ);
	wr(f, VIRTIO_MMIO_QUEUE_READY, 0);
	f->q[VNET_RXQ].avail_idx = f->q[VNET_RXQ].used_seen = 0;
	memset(gm_ptr(&f->gm, f->q[VNET_RXQ].used, 6 + 8 * QSZ), 0, 6 + 8 * QSZ);
	memset(gm_ptr(&f->gm, f->q[VNET_RXQ].avail, 6 + 2 * QSZ), 0, 6 + 2 * QSZ);
	wr(f, VIRTIO_MMIO_QUEUE_READY, 1);
	set_desc(f, VNET_RXQ, 0, RXBUF + 0x10000, 1500, VRING_DESC_F_WRITE, 0);
	offer(f, VNET_RXQ, 0);
	virtio_process_queue(f->d, VNET_RXQ);
	send_frame(f, &h, frame, sizeof(frame));
	run_loop(f);
	e = next_used(f, VNET_RXQ);
	assert_int_equal(e.id, 0);
	assert_int_equal(e.len, 112);
	assert_memory_equal(gm_ptr(&f->gm, RXBUF + 0x10000 + 12, sizeof(frame)), frame, sizeof(frame));
	assert_true(all_bytes(gm_ptr(&f->gm, BIG + 0x10000, 1500), 1500, 0xee)); /* the old held buffer */
}

/* Many frames, both directions interleaved, the ring wrapping around. */
static void test_many_frames_wrap(void **state)
{
	struct fx *f = *state;
	driver_init(f, BASE_FEATURES | F(VIRTIO_NET_F_MRG_RXBUF) | F(VIRTIO_RING_F_EVENT_IDX));
	static uint8_t frame[1514], got[2048];
	struct virtio_net_hdr_v1 h = plain_hdr();
	uint16_t next_rx = 0;
	for (unsigned i = 0; i < 5 * QSZ; i++) {
		/* keep the RX ring half full */
		while ((uint16_t)(f->q[VNET_RXQ].avail_idx - f->q[VNET_RXQ].used_seen) < QSZ / 2) {
			rx_post(f, next_rx % QSZ, 2048);
			next_rx++;
		}
		virtio_process_queue(f->d, VNET_RXQ);
		size_t len = 60 + (i * 97) % 1454;
		pattern(frame, len, 100 + i);
		send_frame(f, &h, frame, len);
		run_loop(f);
		struct vring_used_elem e = next_used(f, VNET_RXQ);
		assert_int_equal(e.len, 12 + len);
		assert_memory_equal(gm_ptr(&f->gm, RXBUF + 0x10000ULL * e.id + 12, len), frame, len);
		static uint8_t want[2048];
		size_t tl = tx_post(f, (uint16_t)((i * 2) % QSZ), &h, len, true, 200 + i, want);
		virtio_process_queue(f->d, VNET_TXQ);
		assert_int_equal(next_used(f, VNET_TXQ).len, 0);
		assert_int_equal(recv_frame(f, got, sizeof(got)), (ssize_t)tl);
		assert_memory_equal(got, want, tl);
	}
	struct vnet_stats st = vnet_get_stats(f->n);
	assert_int_equal(st.rx_packets, 5 * QSZ);
	assert_int_equal(st.tx_packets, 5 * QSZ);
	assert_int_equal(st.rx_bad + st.tx_bad + st.rx_dropped + st.tx_dropped, 0);
}

static void test_backend_error_stops_polling(void **state)
{
	struct fx *f = *state;
	driver_init(f, BASE_FEATURES);
	rx_post(f, 0, 2048);
	vnet_backend_event(f->n, EPOLLERR); /* as epoll reports a dead tap */
	assert_false(vnet_backend_polled(f->n));
	assert_int_equal(run_loop(f), 0);
	/* TX requests still complete (the frames are dropped). */
	static uint8_t want[256];
	struct virtio_net_hdr_v1 h = plain_hdr();
	tx_post(f, 0, &h, 60, false, 1, want);
	virtio_process_queue(f->d, VNET_TXQ);
	assert_int_equal(next_used(f, VNET_TXQ).len, 0);
	assert_int_equal(vnet_get_stats(f->n).tx_dropped, 1);
	/* A driver kick does not bring a dead backend back. */
	virtio_process_queue(f->d, VNET_RXQ);
	assert_false(vnet_backend_polled(f->n));
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_identity_and_config),
		cmocka_unit_test(test_offload_off_and_mrg_off_not_offered),
		cmocka_unit_test(test_default_mac),
		cmocka_unit_test(test_parse_spec),
		T(test_not_polled_before_driver_ok),
		T(test_tx_byte_exact),
		T(test_tx_scattered_and_indirect),
		T(test_tx_offload_header_passes),
		T(test_tx_hostile_requests),
		T(test_tx_broken_ring_needs_reset),
		T(test_rx_byte_exact),
		T(test_rx_csum_flags_pass_with_guest_csum),
		T(test_rx_mergeable),
		T(test_rx_gso_frame),
		T(test_rx_gso_not_negotiated_dropped),
		T(test_rx_no_buffers_stops_polling),
		T(test_rx_too_big_dropped),
		T(test_rx_too_big_for_merged_buffers),
		T(test_rx_runts_dropped),
		T(test_rx_hostile_buffers),
		T(test_rx_fragmented_chains),
		T(test_tx_fragmented_chains),
		T(test_rx_broken_ring_needs_reset),
		T(test_reset_drops_held_buffers),
		T(test_many_frames_wrap),
		T(test_backend_error_stops_polling),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
