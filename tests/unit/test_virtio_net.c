/* virtio-net driven through the virtio-mmio transport by the shared test
 * driver (virtio_driver.h), over malloc'd guest memory, with one end of a
 * SOCK_DGRAM socketpair standing in for the tap (one datagram = one vnet
 * header + frame, as a tap with IFF_VNET_HDR reads and writes them). The
 * event loop is real but not started: the tests dispatch its ready events
 * themselves, which also shows when the backend is (not) polled. */
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/epoll.h>
#include <sys/socket.h>

#include <linux/virtio_ids.h>
#include <linux/virtio_net.h>

#include "../../vmm/devices/virtio_net.h"
#include "../../vmm/evloop.h"
#include "virtio_driver.h"

#define MEM (8u << 20)
#define QSZ 16
#define RXBUF 0x100000ULL   /* RX buffers: 64 KiB apart */
#define TXBUF 0x300000ULL
#define BIG 0x500000ULL     /* room for 64 KiB+ frames */
#define INDIRECT 0x7000ULL

#define BASE_FEATURES (F(VIRTIO_F_VERSION_1) | F(VIRTIO_NET_F_MAC) | F(VIRTIO_NET_F_STATUS))

static const uint8_t test_mac[6] = { 0x02, 0x11, 0x22, 0x33, 0x44, 0x55 };

struct fx {
	struct guest_mem gm;
	struct evloop loop;
	int sock;               /* the test's end; the device has the other */
	struct virtio_net *n;
	struct virtio_dev *d;
	struct vdev v;          /* the driver: v.q[VNET_RXQ], v.q[VNET_TXQ] */
};

static struct vq *rxq(struct fx *f) { return &f->v.q[VNET_RXQ]; }
static struct vq *txq(struct fx *f) { return &f->v.q[VNET_TXQ]; }

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
	vdev_attach(&f->v, f->d, &f->gm, &f->loop);
	vq_init(rxq(f), &f->gm, QSZ, 0x1000, 0x2000, 0x3000);
	vq_init(txq(f), &f->gm, QSZ, 0x4000, 0x5000, 0x6000);
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
		vq_set_desc(txq(f), head, at, sizeof(*h), VRING_DESC_F_NEXT, (uint16_t)((head + 1) % QSZ));
		vq_set_desc(txq(f), (head + 1) % QSZ, at + sizeof(*h), (uint32_t)frame_len, 0, 0);
	} else {
		vq_set_desc(txq(f), head, at, (uint32_t)(sizeof(*h) + frame_len), 0, 0);
	}
	vq_offer(txq(f), head);
	return sizeof(*h) + frame_len;
}

/* A good frame still goes through, byte-exact. */
static void tx_good_frame_works(struct fx *f)
{
	static uint8_t want[2048], got[4096];
	struct virtio_net_hdr_v1 h = plain_hdr();
	size_t len = tx_post(f, 12, &h, 100, true, 77, want);
	virtio_process_queue(f->d, VNET_TXQ);
	struct vring_used_elem e = vq_take(txq(f));
	assert_int_equal(e.id, 12);
	assert_int_equal(e.len, 0);
	assert_int_equal(recv_frame(f, got, sizeof(got)), (ssize_t)len);
	assert_memory_equal(got, want, len);
	assert_false(vdev_needs_reset(&f->v));
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
	vq_set_desc(rxq(f), i, at, len, VRING_DESC_F_WRITE, 0);
	vq_offer(rxq(f), i);
	return at;
}

/* ------------------------------------------------------------------ */

static void test_identity_and_config(void **state)
{
	struct fx *f = *state;
	assert_int_equal(vdev_rd(&f->v, VIRTIO_MMIO_MAGIC_VALUE), 0x74726976);
	assert_int_equal(vdev_rd(&f->v, VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_NET);
	uint64_t feat = vdev_features(&f->v);
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
	assert_int_equal(vdev_run_loop(&f->v), 0); /* a waiting frame wakes nobody */
	vdev_init(&f->v, BASE_FEATURES);
	assert_true(vnet_backend_polled(f->n));
	/* Reset: unpolled again. */
	vdev_wr(&f->v, VIRTIO_MMIO_STATUS, 0);
	assert_false(vnet_backend_polled(f->n));
	assert_int_equal(vdev_run_loop(&f->v), 0);
}

static void test_tx_byte_exact(void **state)
{
	struct fx *f = *state;
	vdev_init(&f->v, BASE_FEATURES);
	static uint8_t want[2048], got[4096];
	/* header and frame in one descriptor, then in two */
	for (int split = 0; split < 2; split++) {
		struct virtio_net_hdr_v1 h = plain_hdr();
		unsigned irqs = f->v.irqs;
		size_t len = tx_post(f, (uint16_t)(2 * split), &h, 60 + 1000 * split, split, 1 + split, want);
		virtio_process_queue(f->d, VNET_TXQ);
		struct vring_used_elem e = vq_take(txq(f));
		assert_int_equal(e.id, 2 * split);
		assert_int_equal(e.len, 0);
		assert_int_equal(recv_frame(f, got, sizeof(got)), (ssize_t)len);
		assert_memory_equal(got, want, len);
		assert_int_equal(f->v.irqs, irqs + 1);
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
	vdev_init(&f->v, BASE_FEATURES | F(VIRTIO_RING_F_INDIRECT_DESC));
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
	vq_set_desc(txq(f), 3, INDIRECT, sizeof(t), VRING_DESC_F_INDIRECT, 0);
	vq_offer(txq(f), 3);
	virtio_process_queue(f->d, VNET_TXQ);
	assert_int_equal(vq_take(txq(f)).id, 3);
	assert_int_equal(recv_frame(f, got, sizeof(got)), 1512);
	assert_memory_equal(got, want, 1512);
}

static void test_tx_offload_header_passes(void **state)
{
	struct fx *f = *state;
	vdev_init(&f->v, BASE_FEATURES | F(VIRTIO_NET_F_CSUM) | F(VIRTIO_NET_F_HOST_TSO4));
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
	vq_take(txq(f));
	assert_int_equal(recv_frame(f, got, sizeof(got)), (ssize_t)len);
	assert_memory_equal(got, want, len);
	/* A largest GSO frame still goes. */
	static uint8_t big[VNET_HDR_LEN + VNET_MAX_FRAME];
	memcpy(big, &h, sizeof(h));
	pattern(big + 12, VNET_MAX_FRAME, 4);
	assert_int_equal(gm_write(&f->gm, BIG, big, sizeof(big)), 0);
	vq_set_desc(txq(f), 5, BIG, sizeof(big), 0, 0);
	vq_offer(txq(f), 5);
	virtio_process_queue(f->d, VNET_TXQ);
	vq_take(txq(f));
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
	vdev_init(&f->v, BASE_FEATURES | F(VIRTIO_NET_F_CSUM)); /* no HOST_TSO4 */
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
			vq_set_desc(txq(f), 0, TXBUF, 12, 0, 0);
			break;
		case 1: /* shorter than an Ethernet header */
			vq_set_desc(txq(f), 0, TXBUF, 12 + 13, 0, 0);
			break;
		case 2: /* shorter than the vnet header */
			vq_set_desc(txq(f), 0, TXBUF, 8, 0, 0);
			break;
		case 3: /* descriptor loop */
			vq_set_desc(txq(f), 0, TXBUF, 12, VRING_DESC_F_NEXT, 1);
			vq_set_desc(txq(f), 1, TXBUF + 12, 100, VRING_DESC_F_NEXT, 0);
			break;
		case 4: /* buffer outside guest memory */
			vq_set_desc(txq(f), 0, TXBUF, 12, VRING_DESC_F_NEXT, 1);
			vq_set_desc(txq(f), 1, MEM - 50, 100, 0, 0);
			break;
		case 5: /* zero-length descriptor */
			vq_set_desc(txq(f), 0, TXBUF, 12, VRING_DESC_F_NEXT, 1);
			vq_set_desc(txq(f), 1, TXBUF + 12, 0, 0, 0);
			break;
		case 6: /* huge length */
			vq_set_desc(txq(f), 0, TXBUF, 0xffffffffu, 0, 0);
			break;
		case 7: /* a device-writable buffer in a TX chain */
			vq_set_desc(txq(f), 0, TXBUF, 112, VRING_DESC_F_NEXT, 1);
			vq_set_desc(txq(f), 1, TXBUF + 200, 100, VRING_DESC_F_WRITE, 0);
			break;
		case 8: /* larger than a 64 KiB GSO frame */
			vq_set_desc(txq(f), 0, BIG, VNET_HDR_LEN + VNET_MAX_FRAME + 1, 0, 0);
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
			vq_set_desc(txq(f), 0, INDIRECT, 16, VRING_DESC_F_INDIRECT, 0);
			break;
		case 16: /* next index out of range */
			vq_set_desc(txq(f), 0, TXBUF, 12, VRING_DESC_F_NEXT, QSZ + 5);
			break;
		default:
			goto done;
		}
		if (c >= 9 && c <= 14) { /* a 100-byte frame behind header H */
			memcpy(buf, &h, sizeof(h));
			assert_int_equal(gm_write(&f->gm, TXBUF, buf, 112), 0);
			vq_set_desc(txq(f), 0, TXBUF, 112, 0, 0);
		}
		vq_offer(txq(f), head);
		unsigned irqs = f->v.irqs;
		virtio_process_queue(f->d, VNET_TXQ);
		struct vring_used_elem e = vq_take(txq(f));
		assert_int_equal(e.id, head);
		assert_int_equal(e.len, 0);
		assert_int_equal(f->v.irqs, irqs + 1); /* the driver learns it is done */
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
	vdev_init(&f->v, BASE_FEATURES);
	vq_publish(txq(f), QSZ + 3); /* more entries than the ring has */
	virtio_process_queue(f->d, VNET_TXQ);
	assert_true(vdev_needs_reset(&f->v));
	assert_int_equal(vq_pending(txq(f)), 0);
	/* The driver resets and starts over: the device serves again. */
	vdev_init(&f->v, BASE_FEATURES);
	assert_false(vdev_needs_reset(&f->v));
	tx_good_frame_works(f);
}

static void test_rx_byte_exact(void **state)
{
	struct fx *f = *state;
	vdev_init(&f->v, BASE_FEATURES);
	/* A header descriptor and a data descriptor, like a small-buffer driver. */
	vq_set_desc(rxq(f), 0, RXBUF, 12, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1);
	vq_set_desc(rxq(f), 1, RXBUF + 0x1000, 1514, VRING_DESC_F_WRITE, 0);
	vq_offer(rxq(f), 0);
	virtio_process_queue(f->d, VNET_RXQ);
	uint8_t frame[100];
	pattern(frame, sizeof(frame), 5);
	/* What the tap hands over: flags the guest did not negotiate, junk
	 * where num_buffers goes. */
	struct virtio_net_hdr_v1 h = plain_hdr();
	h.flags = VIRTIO_NET_HDR_F_DATA_VALID;
	h.num_buffers = 0x7777;
	send_frame(f, &h, frame, sizeof(frame));
	unsigned irqs = f->v.irqs;
	assert_true(vdev_run_loop(&f->v) >= 1);
	struct vring_used_elem e = vq_take(rxq(f));
	assert_int_equal(e.id, 0);
	assert_int_equal(e.len, 12 + sizeof(frame));
	assert_int_equal(f->v.irqs, irqs + 1);
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
	vdev_init(&f->v, BASE_FEATURES | F(VIRTIO_NET_F_GUEST_CSUM));
	rx_post(f, 0, 2048);
	uint8_t frame[200];
	pattern(frame, sizeof(frame), 6);
	struct virtio_net_hdr_v1 h = { .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .csum_start = 34, .csum_offset = 6 };
	send_frame(f, &h, frame, sizeof(frame));
	vdev_run_loop(&f->v);
	assert_int_equal(vq_take(rxq(f)).len, 212);
	struct virtio_net_hdr_v1 gh;
	gm_read(&f->gm, &gh, RXBUF, sizeof(gh));
	h.num_buffers = 1;
	assert_memory_equal(&gh, &h, sizeof(h));
}

static void test_rx_mergeable(void **state)
{
	struct fx *f = *state;
	vdev_init(&f->v, BASE_FEATURES | F(VIRTIO_NET_F_MRG_RXBUF));
	for (uint16_t i = 0; i < 4; i++)
		rx_post(f, i, 1000);
	static uint8_t frame[2500];
	pattern(frame, sizeof(frame), 8);
	struct virtio_net_hdr_v1 h = plain_hdr();
	send_frame(f, &h, frame, sizeof(frame));
	vdev_run_loop(&f->v);
	/* 12 + 2500 bytes over three 1000-byte buffers. */
	assert_int_equal(vq_pending(rxq(f)), 3);
	uint32_t lens[3] = { 1000, 1000, 512 };
	for (uint16_t i = 0; i < 3; i++) {
		struct vring_used_elem e = vq_take(rxq(f));
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
	vdev_run_loop(&f->v);
	struct vring_used_elem e = vq_take(rxq(f));
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
	vdev_init(&f->v, BASE_FEATURES | F(VIRTIO_NET_F_GUEST_CSUM) | F(VIRTIO_NET_F_GUEST_TSO4));
	/* Without mergeable buffers the driver posts big chains. */
	vq_set_desc(rxq(f), 0, BIG, VNET_HDR_LEN + VNET_MAX_FRAME, VRING_DESC_F_WRITE, 0);
	vq_offer(rxq(f), 0);
	static uint8_t frame[VNET_MAX_FRAME];
	pattern(frame, sizeof(frame), 10);
	struct virtio_net_hdr_v1 h = { .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .gso_type = VIRTIO_NET_HDR_GSO_TCPV4,
				       .hdr_len = 66, .gso_size = 1448, .csum_start = 34, .csum_offset = 16 };
	send_frame(f, &h, frame, sizeof(frame));
	vdev_run_loop(&f->v);
	assert_int_equal(vq_take(rxq(f)).len, VNET_HDR_LEN + VNET_MAX_FRAME);
	struct virtio_net_hdr_v1 gh;
	gm_read(&f->gm, &gh, BIG, sizeof(gh));
	h.num_buffers = 1;
	assert_memory_equal(&gh, &h, sizeof(h));
	assert_memory_equal(gm_ptr(&f->gm, BIG + 12, sizeof(frame)), frame, sizeof(frame));
}

static void test_rx_gso_not_negotiated_dropped(void **state)
{
	struct fx *f = *state;
	vdev_init(&f->v, BASE_FEATURES | F(VIRTIO_NET_F_GUEST_CSUM)); /* no GUEST_TSO4 */
	rx_post(f, 0, 4096);
	uint8_t frame[1000] = { 0 };
	struct virtio_net_hdr_v1 h = { .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .gso_type = VIRTIO_NET_HDR_GSO_TCPV4,
				       .gso_size = 500, .csum_start = 34, .csum_offset = 16 };
	send_frame(f, &h, frame, sizeof(frame));
	vdev_run_loop(&f->v);
	assert_int_equal(vq_pending(rxq(f)), 0);
	assert_int_equal(vnet_get_stats(f->n).rx_dropped, 1);
}

static void test_rx_no_buffers_stops_polling(void **state)
{
	struct fx *f = *state;
	vdev_init(&f->v, BASE_FEATURES | F(VIRTIO_RING_F_EVENT_IDX));
	uint8_t frame[64];
	pattern(frame, sizeof(frame), 11);
	struct virtio_net_hdr_v1 h = plain_hdr();
	send_frame(f, &h, frame, sizeof(frame));
	/* One wake-up finds no buffers; after it the backend is not polled,
	 * so the waiting frame wakes nobody again (no spinning). */
	assert_int_equal(vdev_run_loop(&f->v), 1);
	assert_false(vnet_backend_polled(f->n));
	assert_int_equal(vdev_run_loop(&f->v), 0);
	assert_int_equal(vnet_get_stats(f->n).rx_stalls, 1);
	/* The device asked to be kicked at the next buffer (avail_event). */
	assert_int_equal(vq_avail_event(rxq(f)), 0);
	/* The driver refills and kicks: polled again, the frame arrives. */
	rx_post(f, 0, 2048);
	virtio_process_queue(f->d, VNET_RXQ);
	assert_true(vnet_backend_polled(f->n));
	assert_int_equal(vdev_run_loop(&f->v), 1);
	assert_int_equal(vq_take(rxq(f)).len, 12 + sizeof(frame));
	assert_memory_equal(gm_ptr(&f->gm, RXBUF + 12, sizeof(frame)), frame, sizeof(frame));
	/* The ring is empty again: unpolled at once, and the driver is asked
	 * to kick at its next buffer. */
	assert_false(vnet_backend_polled(f->n));
	assert_int_equal(vq_avail_event(rxq(f)), 1);
	send_frame(f, &h, frame, sizeof(frame));
	assert_int_equal(vdev_run_loop(&f->v), 0);
	assert_int_equal(vnet_get_stats(f->n).rx_stalls, 2);
}

static void test_rx_too_big_dropped(void **state)
{
	struct fx *f = *state;
	vdev_init(&f->v, BASE_FEATURES);
	rx_post(f, 0, 12 + 100);
	static uint8_t frame[500];
	pattern(frame, sizeof(frame), 12);
	struct virtio_net_hdr_v1 h = plain_hdr();
	send_frame(f, &h, frame, 101); /* one byte too many */
	send_frame(f, &h, frame, sizeof(frame));
	send_frame(f, &h, frame, 100); /* fits exactly */
	vdev_run_loop(&f->v);
	struct vring_used_elem e = vq_take(rxq(f));
	assert_int_equal(e.id, 0);
	assert_int_equal(e.len, 112);
	assert_memory_equal(gm_ptr(&f->gm, RXBUF + 12, 100), frame, 100);
	assert_true(all_bytes(gm_ptr(&f->gm, RXBUF + 112, 64), 64, 0xee)); /* nothing written past the buffer */
	assert_int_equal(vq_pending(rxq(f)), 0);
	struct vnet_stats st = vnet_get_stats(f->n);
	assert_int_equal(st.rx_dropped, 2);
	assert_int_equal(st.rx_packets, 1);
}

static void test_rx_too_big_for_merged_buffers(void **state)
{
	struct fx *f = *state;
	vdev_init(&f->v, BASE_FEATURES | F(VIRTIO_NET_F_MRG_RXBUF));
	rx_post(f, 0, 600);
	rx_post(f, 1, 600);
	static uint8_t frame[1500];
	pattern(frame, sizeof(frame), 13);
	struct virtio_net_hdr_v1 h = plain_hdr();
	send_frame(f, &h, frame, 1189); /* 12 + 1189 > 1200 */
	send_frame(f, &h, frame, 1188); /* fits exactly */
	vdev_run_loop(&f->v);
	assert_int_equal(vq_pending(rxq(f)), 2);
	assert_int_equal(vq_take(rxq(f)).len, 600);
	assert_int_equal(vq_take(rxq(f)).len, 600);
	assert_memory_equal(gm_ptr(&f->gm, RXBUF + 12, 588), frame, 588);
	assert_memory_equal(gm_ptr(&f->gm, RXBUF + 0x10000, 600), frame + 588, 600);
	assert_int_equal(vnet_get_stats(f->n).rx_dropped, 1);
}

static void test_rx_runts_dropped(void **state)
{
	struct fx *f = *state;
	vdev_init(&f->v, BASE_FEATURES);
	rx_post(f, 0, 2048);
	uint8_t junk[30] = { 0 };
	assert_int_equal(send(f->sock, junk, 5, 0), 5);        /* shorter than a header */
	assert_int_equal(send(f->sock, junk, 0, 0), 0);        /* empty */
	assert_int_equal(send(f->sock, junk, 12 + 13, 0), 25); /* no full Ethernet header */
	uint8_t frame[60];
	pattern(frame, sizeof(frame), 14);
	struct virtio_net_hdr_v1 h = plain_hdr();
	send_frame(f, &h, frame, sizeof(frame));
	vdev_run_loop(&f->v);
	assert_int_equal(vq_take(rxq(f)).len, 72);
	assert_memory_equal(gm_ptr(&f->gm, RXBUF + 12, sizeof(frame)), frame, sizeof(frame));
	assert_int_equal(vnet_get_stats(f->n).rx_dropped, 3);
}

/* Hostile RX buffers are completed empty; a good one behind them gets the frame. */
static void test_rx_hostile_buffers(void **state)
{
	struct fx *f = *state;
	for (int mrg = 0; mrg < 2; mrg++) {
		vdev_init(&f->v, BASE_FEATURES | (mrg ? F(VIRTIO_NET_F_MRG_RXBUF) : 0));
		unsigned bad_before = (unsigned)vnet_get_stats(f->n).rx_bad;
		/* 0: readable buffer */
		vq_set_desc(rxq(f), 0, RXBUF, 2048, 0, 0);
		/* 1: readable then writable */
		vq_set_desc(rxq(f), 1, RXBUF, 16, VRING_DESC_F_NEXT, 2);
		vq_set_desc(rxq(f), 2, RXBUF + 16, 2048, VRING_DESC_F_WRITE, 0);
		/* 3: loop */
		vq_set_desc(rxq(f), 3, RXBUF, 2048, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 4);
		vq_set_desc(rxq(f), 4, RXBUF, 2048, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 3);
		/* 5: outside guest memory */
		vq_set_desc(rxq(f), 5, MEM - 1000, 2048, VRING_DESC_F_WRITE, 0);
		/* 6: zero length */
		vq_set_desc(rxq(f), 6, RXBUF, 0, VRING_DESC_F_WRITE, 0);
		/* 7: huge length */
		vq_set_desc(rxq(f), 7, RXBUF, 0xfffffff0u, VRING_DESC_F_WRITE, 0);
		/* 8: too small for the header */
		vq_set_desc(rxq(f), 8, RXBUF, 11, VRING_DESC_F_WRITE, 0);
		/* 9: good */
		vq_set_desc(rxq(f), 9, RXBUF + 0x10000, 2048, VRING_DESC_F_WRITE, 0);
		uint16_t heads[] = { 0, 1, 3, 5, 6, 7, 8, 9 };
		for (unsigned i = 0; i < ARRAY_SIZE(heads); i++)
			vq_offer(rxq(f), heads[i]);
		uint8_t frame[80];
		pattern(frame, sizeof(frame), 15);
		struct virtio_net_hdr_v1 h = plain_hdr();
		send_frame(f, &h, frame, sizeof(frame));
		vdev_run_loop(&f->v);
		for (unsigned i = 0; i < ARRAY_SIZE(heads) - 1; i++) {
			struct vring_used_elem e = vq_take(rxq(f));
			assert_int_equal(e.id, heads[i]);
			assert_int_equal(e.len, 0);
		}
		struct vring_used_elem e = vq_take(rxq(f));
		assert_int_equal(e.id, 9);
		assert_int_equal(e.len, 92);
		assert_memory_equal(gm_ptr(&f->gm, RXBUF + 0x10000 + 12, sizeof(frame)), frame, sizeof(frame));
		assert_int_equal(vnet_get_stats(f->n).rx_bad - bad_before, ARRAY_SIZE(heads) - 1);
		assert_false(vdev_needs_reset(&f->v));
	}
}

/* An indirect table of N descriptors of PIECE bytes each from AT, FLAGS on each. */
static void indirect_table(struct fx *f, uint64_t table, unsigned n, uint64_t at, uint32_t piece, uint16_t flags)
{
	for (unsigned i = 0; i < n; i++)
		vq_table_desc(&f->gm, table, i, at + (uint64_t)piece * i, piece,
			      (uint16_t)(flags | (i + 1 < n ? VRING_DESC_F_NEXT : 0)), (uint16_t)(i + 1));
}

/* Chains in many pieces: what readv cannot take now waits in the ring;
 * what it can never take is completed empty. */
static void test_rx_fragmented_chains(void **state)
{
	struct fx *f = *state;
	vdev_init(&f->v, BASE_FEATURES | F(VIRTIO_NET_F_MRG_RXBUF) | F(VIRTIO_RING_F_INDIRECT_DESC));
	/* A: one 100-byte buffer. B: 1022 pieces of 2 bytes (the header alone
	 * spans six), which do not fit next to A's piece. C: 1023 pieces,
	 * more than a readv can ever take. D: good. */
	rx_post(f, 0, 100);
	indirect_table(f, BIG, 1022, RXBUF + 0x10000, 2, VRING_DESC_F_WRITE);
	vq_set_desc(rxq(f), 1, BIG, 1022 * 16, VRING_DESC_F_INDIRECT, 0);
	vq_offer(rxq(f), 1);
	indirect_table(f, BIG + 0x10000, 1023, RXBUF + 0x20000, 2, VRING_DESC_F_WRITE);
	vq_set_desc(rxq(f), 2, BIG + 0x10000, 1023 * 16, VRING_DESC_F_INDIRECT, 0);
	vq_offer(rxq(f), 2);
	rx_post(f, 3, 2048);
	uint8_t frame[1000];
	pattern(frame, sizeof(frame), 17);
	struct virtio_net_hdr_v1 h = plain_hdr();
	send_frame(f, &h, frame, 50);   /* into A */
	send_frame(f, &h, frame, 60);   /* into B */
	send_frame(f, &h, frame, 70);   /* C is skipped: into D */
	vdev_run_loop(&f->v);
	struct vring_used_elem e = vq_take(rxq(f));
	assert_int_equal(e.id, 0);
	assert_int_equal(e.len, 62);
	e = vq_take(rxq(f));
	assert_int_equal(e.id, 1);
	assert_int_equal(e.len, 72);
	struct virtio_net_hdr_v1 gh;
	gm_read(&f->gm, &gh, RXBUF + 0x10000, sizeof(gh));
	assert_int_equal(gh.num_buffers, 1);
	assert_memory_equal(gm_ptr(&f->gm, RXBUF + 0x10000 + 12, 60), frame, 60);
	e = vq_take(rxq(f));
	assert_int_equal(e.id, 2);
	assert_int_equal(e.len, 0);
	e = vq_take(rxq(f));
	assert_int_equal(e.id, 3);
	assert_int_equal(e.len, 82);
	assert_memory_equal(gm_ptr(&f->gm, RXBUF + 0x30000 + 12, 70), frame, 70);
	struct vnet_stats st = vnet_get_stats(f->n);
	assert_int_equal(st.rx_packets, 3);
	assert_int_equal(st.rx_bad, 1);
	assert_false(vdev_needs_reset(&f->v));
}

/* A TX frame in 1023 pieces goes (header separate); in 1024 it cannot go
 * in one writev and is refused. */
static void test_tx_fragmented_chains(void **state)
{
	struct fx *f = *state;
	vdev_init(&f->v, BASE_FEATURES | F(VIRTIO_RING_F_INDIRECT_DESC));
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
	vq_set_desc(txq(f), 0, BIG, 1024 * 16, VRING_DESC_F_INDIRECT, 0);
	vq_offer(txq(f), 0);
	virtio_process_queue(f->d, VNET_TXQ);
	assert_int_equal(vq_take(txq(f)).len, 0);
	assert_int_equal(recv_frame(f, got, sizeof(got)), 12 + 1023);
	assert_memory_equal(got, want, 12 + 1023);
	/* header + 8 bytes in the first piece, then 1023 pieces: 1024 frame pieces */
	hd.len = 20;
	assert_int_equal(gm_write(&f->gm, BIG, &hd, sizeof(hd)), 0);
	indirect_table(f, BIG + 16, 1023, TXBUF + 20, 1, 0);
	for (unsigned i = 0; i < 1023; i++)
		assert_int_equal(gm_write(&f->gm, BIG + 16 + 16ULL * i + 14, &(uint16_t){ (uint16_t)(i + 2) }, 2), 0);
	vq_offer(txq(f), 0);
	virtio_process_queue(f->d, VNET_TXQ);
	assert_int_equal(vq_take(txq(f)).len, 0);
	assert_int_equal(recv_frame(f, got, sizeof(got)), -1);
	assert_int_equal(vnet_get_stats(f->n).tx_bad, 1);
	tx_good_frame_works(f);
}

static void test_rx_broken_ring_needs_reset(void **state)
{
	struct fx *f = *state;
	vdev_init(&f->v, BASE_FEATURES);
	vq_put_avail(rxq(f), 0, QSZ + 1); /* a head beyond the table */
	vq_publish(rxq(f), 1);
	uint8_t frame[60] = { 0 };
	struct virtio_net_hdr_v1 h = plain_hdr();
	send_frame(f, &h, frame, sizeof(frame));
	vdev_run_loop(&f->v);
	assert_true(vdev_needs_reset(&f->v));
	assert_false(vnet_backend_polled(f->n));
	assert_int_equal(vdev_run_loop(&f->v), 0);
	/* After a reset the waiting frame is delivered. */
	vdev_init(&f->v, BASE_FEATURES);
	rx_post(f, 0, 2048);
	vdev_run_loop(&f->v);
	assert_int_equal(vq_take(rxq(f)).len, 72);
}

/* Buffers the device held are forgotten when the driver resets: the next
 * frame goes to the new ring, the old buffers stay untouched. */
static void test_reset_drops_held_buffers(void **state)
{
	struct fx *f = *state;
	vdev_init(&f->v, BASE_FEATURES | F(VIRTIO_NET_F_MRG_RXBUF));
	for (uint16_t i = 0; i < 4; i++)
		rx_post(f, i, 1500);
	uint8_t frame[100];
	pattern(frame, sizeof(frame), 16);
	struct virtio_net_hdr_v1 h = plain_hdr();
	send_frame(f, &h, frame, sizeof(frame));
	vdev_run_loop(&f->v);
	assert_int_equal(vq_take(rxq(f)).id, 0);
	memset(gm_ptr(&f->gm, RXBUF, 0x40000), 0xee, 0x40000);
	/* Reset; the new ring's buffers live elsewhere. */
	rxq(f)->desc = 0x8000;
	vdev_init(&f->v, BASE_FEATURES | F(VIRTIO_NET_F_MRG_RXBUF));
	vq_set_desc(rxq(f), 0, BIG, 1500, VRING_DESC_F_WRITE, 0);
	vq_set_desc(rxq(f), 1, BIG + 0x10000, 1500, VRING_DESC_F_WRITE, 0);
	vq_offer(rxq(f), 0);
	vq_offer(rxq(f), 1);
	virtio_process_queue(f->d, VNET_RXQ);
	send_frame(f, &h, frame, sizeof(frame));
	vdev_run_loop(&f->v);
	struct vring_used_elem e = vq_take(rxq(f));
	assert_int_equal(e.id, 0);
	assert_int_equal(e.len, 112);
	assert_memory_equal(gm_ptr(&f->gm, BIG + 12, sizeof(frame)), frame, sizeof(frame));
	assert_true(all_bytes(gm_ptr(&f->gm, RXBUF, 0x40000), 0x40000, 0xee));
	/* Same when the driver re-creates the RX queue without a reset. */
	vdev_wr(&f->v, VIRTIO_MMIO_QUEUE_SEL, VNET_RXQ);
	vdev_wr(&f->v, VIRTIO_MMIO_QUEUE_READY, 0);
	rxq(f)->avail_idx = rxq(f)->used_seen = 0; /* fresh rings, the table kept */
	memset(gm_ptr(&f->gm, rxq(f)->used, 6 + 8 * QSZ), 0, 6 + 8 * QSZ);
	memset(gm_ptr(&f->gm, rxq(f)->avail, 6 + 2 * QSZ), 0, 6 + 2 * QSZ);
	vdev_wr(&f->v, VIRTIO_MMIO_QUEUE_READY, 1);
	vq_set_desc(rxq(f), 0, RXBUF + 0x10000, 1500, VRING_DESC_F_WRITE, 0);
	vq_offer(rxq(f), 0);
	virtio_process_queue(f->d, VNET_RXQ);
	send_frame(f, &h, frame, sizeof(frame));
	vdev_run_loop(&f->v);
	e = vq_take(rxq(f));
	assert_int_equal(e.id, 0);
	assert_int_equal(e.len, 112);
	assert_memory_equal(gm_ptr(&f->gm, RXBUF + 0x10000 + 12, sizeof(frame)), frame, sizeof(frame));
	assert_true(all_bytes(gm_ptr(&f->gm, BIG + 0x10000, 1500), 1500, 0xee)); /* the old held buffer */
}

/* Many frames, both directions interleaved, the ring wrapping around. */
static void test_many_frames_wrap(void **state)
{
	struct fx *f = *state;
	vdev_init(&f->v, BASE_FEATURES | F(VIRTIO_NET_F_MRG_RXBUF) | F(VIRTIO_RING_F_EVENT_IDX));
	static uint8_t frame[1514], got[2048];
	struct virtio_net_hdr_v1 h = plain_hdr();
	uint16_t next_rx = 0;
	for (unsigned i = 0; i < 5 * QSZ; i++) {
		/* keep the RX ring half full */
		while ((uint16_t)(rxq(f)->avail_idx - rxq(f)->used_seen) < QSZ / 2) {
			rx_post(f, next_rx % QSZ, 2048);
			next_rx++;
		}
		virtio_process_queue(f->d, VNET_RXQ);
		size_t len = 60 + (i * 97) % 1454;
		pattern(frame, len, 100 + i);
		send_frame(f, &h, frame, len);
		vdev_run_loop(&f->v);
		struct vring_used_elem e = vq_take(rxq(f));
		assert_int_equal(e.len, 12 + len);
		assert_memory_equal(gm_ptr(&f->gm, RXBUF + 0x10000ULL * e.id + 12, len), frame, len);
		static uint8_t want[2048];
		size_t tl = tx_post(f, (uint16_t)((i * 2) % QSZ), &h, len, true, 200 + i, want);
		virtio_process_queue(f->d, VNET_TXQ);
		assert_int_equal(vq_take(txq(f)).len, 0);
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
	vdev_init(&f->v, BASE_FEATURES);
	rx_post(f, 0, 2048);
	vnet_backend_event(f->n, EPOLLERR); /* as epoll reports a dead tap */
	assert_false(vnet_backend_polled(f->n));
	assert_int_equal(vdev_run_loop(&f->v), 0);
	/* TX requests still complete (the frames are dropped). */
	static uint8_t want[256];
	struct virtio_net_hdr_v1 h = plain_hdr();
	tx_post(f, 0, &h, 60, false, 1, want);
	virtio_process_queue(f->d, VNET_TXQ);
	assert_int_equal(vq_take(txq(f)).len, 0);
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
