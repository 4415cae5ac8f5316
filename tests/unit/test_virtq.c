/* Split virtqueue and virtio-mmio transport under hostile rings. Each bad
 * request must fail on its own and leave the queue serving the next one. */
#include "unit.h"

#include <linux/virtio_ids.h>

#include "../../vmm/virtio/virtq.h"
#include "virtio_driver.h"

#define MEM (1u << 20)
#define DESC 0x1000
#define AVAIL 0x2000
#define USED 0x3000
#define QSZ 16

struct ring {
	struct guest_mem gm;
	struct vq drv;          /* the driver's side of the ring */
	struct virtq q;         /* the device's */
	struct virtq_chain c;
};

static int setup(void **state)
{
	struct ring *r = calloc(1, sizeof(*r));
	test_gm_alloc(&r->gm, MEM, 0);
	vq_init(&r->drv, &r->gm, QSZ, DESC, AVAIL, USED);
	r->q.num = QSZ;
	r->q.desc = DESC;
	r->q.avail = AVAIL;
	r->q.used = USED;
	r->q.ready = true;
	r->q.indirect = true;
	*state = r;
	return 0;
}

static int teardown(void **state)
{
	struct ring *r = *state;
	test_gm_release(&r->gm);
	free(r);
	return 0;
}

static void set_desc(struct ring *r, unsigned i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	vq_set_desc(&r->drv, i, addr, len, flags, next);
}

static void offer(struct ring *r, uint16_t head) { vq_offer(&r->drv, head); }
static uint16_t used_idx(struct ring *r) { return vq_used_idx(&r->drv); }

/* Offer a good two-segment request at descriptor BASE and check it pops. */
static void good_request_works(struct ring *r, unsigned base)
{
	set_desc(r, base, 0x10000, 100, VRING_DESC_F_NEXT, (uint16_t)(base + 1));
	set_desc(r, base + 1, 0x20000, 200, VRING_DESC_F_WRITE, 0);
	offer(r, (uint16_t)base);
	assert_int_equal(virtq_pop(&r->q, &r->gm, &r->c), 1);
	assert_int_equal(r->c.err, VIRTQ_OK);
	assert_int_equal(r->c.head, base);
	assert_int_equal(r->c.nseg, 2);
	assert_int_equal(r->c.nread, 1);
	assert_int_equal(r->c.read_len, 100);
	assert_int_equal(r->c.write_len, 200);
	uint16_t before = used_idx(r);
	virtq_push(&r->q, &r->gm, r->c.head, 7);
	assert_int_equal(used_idx(r), (uint16_t)(before + 1));
	struct vring_used_elem e = vq_used_elem(&r->drv, before);
	assert_int_equal(e.id, base);
	assert_int_equal(e.len, 7);
}

static void expect_bad_chain(struct ring *r, uint16_t head, enum virtq_chain_err want)
{
	offer(r, head);
	assert_int_equal(virtq_pop(&r->q, &r->gm, &r->c), 1);
	assert_int_equal(r->c.err, want);
	assert_int_equal(r->c.nseg, 0);
	assert_int_equal(r->c.read_len + r->c.write_len, 0);
	virtq_push(&r->q, &r->gm, r->c.head, 0); /* the device completes it empty */
	assert_false(r->q.broken);
	good_request_works(r, 10);
}

static void test_empty_ring(void **state)
{
	struct ring *r = *state;
	assert_int_equal(virtq_pop(&r->q, &r->gm, &r->c), 0);
	assert_false(virtq_has_work(&r->q, &r->gm));
}

static void test_good_chain(void **state)
{
	struct ring *r = *state;
	good_request_works(r, 0);
	assert_int_equal(virtq_pop(&r->q, &r->gm, &r->c), 0);
}

static void test_descriptor_loop(void **state)
{
	struct ring *r = *state;
	set_desc(r, 0, 0x10000, 16, VRING_DESC_F_NEXT, 1);
	set_desc(r, 1, 0x10000, 16, VRING_DESC_F_NEXT, 0);
	expect_bad_chain(r, 0, VIRTQ_ERR_LOOP);
}

static void test_self_loop(void **state)
{
	struct ring *r = *state;
	set_desc(r, 3, 0x10000, 16, VRING_DESC_F_NEXT, 3);
	expect_bad_chain(r, 3, VIRTQ_ERR_LOOP);
}

static void test_address_outside_memory(void **state)
{
	struct ring *r = *state;
	set_desc(r, 0, MEM - 8, 16, 0, 0);
	expect_bad_chain(r, 0, VIRTQ_ERR_ADDR);
}

static void test_address_wraps(void **state)
{
	struct ring *r = *state;
	set_desc(r, 0, UINT64_MAX - 4, 16, 0, 0);
	expect_bad_chain(r, 0, VIRTQ_ERR_ADDR);
}

static void test_zero_length(void **state)
{
	struct ring *r = *state;
	set_desc(r, 0, 0x10000, 0, 0, 0);
	expect_bad_chain(r, 0, VIRTQ_ERR_LEN);
}

static void test_huge_length(void **state)
{
	struct ring *r = *state;
	set_desc(r, 0, 0x10000, 0xffffffffu, VRING_DESC_F_WRITE, 0);
	expect_bad_chain(r, 0, VIRTQ_ERR_ADDR);
}

static void test_next_out_of_range(void **state)
{
	struct ring *r = *state;
	set_desc(r, 0, 0x10000, 16, VRING_DESC_F_NEXT, QSZ);
	expect_bad_chain(r, 0, VIRTQ_ERR_INDEX);
}

static void test_readable_after_writable(void **state)
{
	struct ring *r = *state;
	set_desc(r, 0, 0x10000, 16, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1);
	set_desc(r, 1, 0x20000, 16, 0, 0);
	expect_bad_chain(r, 0, VIRTQ_ERR_ORDER);
}

static void test_avail_index_jump_breaks_ring(void **state)
{
	struct ring *r = *state;
	vq_publish(&r->drv, QSZ + 1); /* more buffers than the queue holds */
	assert_int_equal(virtq_pop(&r->q, &r->gm, &r->c), -1);
	assert_true(r->q.broken);
	assert_int_equal(virtq_pop(&r->q, &r->gm, &r->c), 0);
	/* A reset (as the transport does) makes it usable again. */
	virtq_reset(&r->q);
}

static void test_head_out_of_range_breaks_ring(void **state)
{
	struct ring *r = *state;
	offer(r, QSZ + 3);
	assert_int_equal(virtq_pop(&r->q, &r->gm, &r->c), -1);
	assert_true(r->q.broken);
}

static void test_wrapping_indices(void **state)
{
	struct ring *r = *state;
	/* Start both sides just below the 16-bit wrap. */
	r->q.last_avail = 0xfffe;
	r->q.used_idx = 0xfffe;
	vq_start_at(&r->drv, 0xfffe);
	for (int i = 0; i < 5; i++)
		good_request_works(r, 0);
	assert_int_equal(r->q.last_avail, 3);
	assert_int_equal(used_idx(r), 3);
}

static void test_indirect_table(void **state)
{
	struct ring *r = *state;
	struct vring_desc t[3] = {
		{ .addr = 0x10000, .len = 16, .flags = VRING_DESC_F_NEXT, .next = 1 },
		{ .addr = 0x11000, .len = 512, .flags = VRING_DESC_F_NEXT, .next = 2 },
		{ .addr = 0x12000, .len = 1, .flags = VRING_DESC_F_WRITE },
	};
	gm_write(&r->gm, 0x40000, t, sizeof(t));
	set_desc(r, 0, 0x40000, sizeof(t), VRING_DESC_F_INDIRECT, 0);
	offer(r, 0);
	assert_int_equal(virtq_pop(&r->q, &r->gm, &r->c), 1);
	assert_int_equal(r->c.err, VIRTQ_OK);
	assert_int_equal(r->c.nseg, 3);
	assert_int_equal(r->c.read_len, 528);
	assert_int_equal(r->c.write_len, 1);
}

static void test_indirect_nested(void **state)
{
	struct ring *r = *state;
	struct vring_desc t[1] = { { .addr = 0x40000, .len = 16, .flags = VRING_DESC_F_INDIRECT } };
	gm_write(&r->gm, 0x40000, t, sizeof(t));
	set_desc(r, 0, 0x40000, sizeof(t), VRING_DESC_F_INDIRECT, 0);
	expect_bad_chain(r, 0, VIRTQ_ERR_INDIRECT);
}

static void test_indirect_bad_length(void **state)
{
	struct ring *r = *state;
	set_desc(r, 0, 0x40000, 17, VRING_DESC_F_INDIRECT, 0);
	expect_bad_chain(r, 0, VIRTQ_ERR_INDIRECT);
}

static void test_indirect_loop(void **state)
{
	struct ring *r = *state;
	struct vring_desc t[2] = {
		{ .addr = 0x10000, .len = 16, .flags = VRING_DESC_F_NEXT, .next = 1 },
		{ .addr = 0x10000, .len = 16, .flags = VRING_DESC_F_NEXT, .next = 0 },
	};
	gm_write(&r->gm, 0x40000, t, sizeof(t));
	set_desc(r, 0, 0x40000, sizeof(t), VRING_DESC_F_INDIRECT, 0);
	expect_bad_chain(r, 0, VIRTQ_ERR_LOOP);
}

static void test_indirect_not_negotiated(void **state)
{
	struct ring *r = *state;
	r->q.indirect = false;
	set_desc(r, 0, 0x40000, 16, VRING_DESC_F_INDIRECT, 0);
	expect_bad_chain(r, 0, VIRTQ_ERR_INDIRECT);
}

static void test_indirect_table_outside_memory(void **state)
{
	struct ring *r = *state;
	set_desc(r, 0, MEM - 16, 32, VRING_DESC_F_INDIRECT, 0);
	expect_bad_chain(r, 0, VIRTQ_ERR_ADDR);
}

static void test_notify_flags_without_event_idx(void **state)
{
	struct ring *r = *state;
	good_request_works(r, 0);
	assert_true(virtq_should_notify(&r->q, &r->gm));
	vq_set_avail_flags(&r->drv, VRING_AVAIL_F_NO_INTERRUPT);
	good_request_works(r, 0);
	assert_false(virtq_should_notify(&r->q, &r->gm));
}

static void test_event_idx(void **state)
{
	struct ring *r = *state;
	r->q.event_idx = true;
	good_request_works(r, 0);                    /* used idx 1 */
	assert_true(virtq_should_notify(&r->q, &r->gm)); /* first time: always */
	vq_set_used_event(&r->drv, 2);               /* interrupt me when idx passes 2 */
	good_request_works(r, 0);                    /* used idx 2 */
	assert_false(virtq_should_notify(&r->q, &r->gm));
	good_request_works(r, 0);                    /* used idx 3 > 2 */
	assert_true(virtq_should_notify(&r->q, &r->gm));
	/* avail_event tells the driver what we have consumed. */
	virtq_update_avail_event(&r->q, &r->gm);
	assert_int_equal(vq_avail_event(&r->drv), r->q.last_avail);
}

static void test_valid(void **state)
{
	struct ring *r = *state;
	assert_true(virtq_valid(&r->q, &r->gm));
	struct virtq q = r->q;
	q.num = 24; /* not a power of two */
	assert_false(virtq_valid(&q, &r->gm));
	q = r->q;
	q.num = 512; /* above our maximum */
	assert_false(virtq_valid(&q, &r->gm));
	q = r->q;
	q.desc = DESC + 8; /* misaligned */
	assert_false(virtq_valid(&q, &r->gm));
	q = r->q;
	q.used = MEM - 8; /* ring past the end of memory */
	assert_false(virtq_valid(&q, &r->gm));
	q = r->q;
	q.num = 0;
	assert_false(virtq_valid(&q, &r->gm));
}

static void test_chain_copy(void **state)
{
	struct ring *r = *state;
	set_desc(r, 0, 0x10000, 4, VRING_DESC_F_NEXT, 1);
	set_desc(r, 1, 0x11000, 4, VRING_DESC_F_NEXT, 2);
	set_desc(r, 2, 0x12000, 3, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 3);
	set_desc(r, 3, 0x13000, 5, VRING_DESC_F_WRITE, 0);
	gm_write(&r->gm, 0x10000, "abcd", 4);
	gm_write(&r->gm, 0x11000, "efgh", 4);
	offer(r, 0);
	assert_int_equal(virtq_pop(&r->q, &r->gm, &r->c), 1);
	char buf[16] = { 0 };
	assert_int_equal(virtq_chain_read(&r->gm, &r->c, 2, buf, 100), 6);
	assert_string_equal(buf, "cdefgh");
	assert_int_equal(virtq_chain_write(&r->gm, &r->c, 1, "XYZUVW!", 7), 7);
	char out[8] = { 0 };
	gm_read(&r->gm, out, 0x12000, 3);
	assert_int_equal(memcmp(out, "\0XY", 3), 0);
	gm_read(&r->gm, out, 0x13000, 5);
	assert_int_equal(memcmp(out, "ZUVW!", 5), 0);
	struct iovec iov[4];
	uint64_t got;
	assert_int_equal(virtq_chain_iov(&r->gm, &r->c, true, 2, 10, iov, 4, &got), 2);
	assert_int_equal(got, 6);
	assert_int_equal(iov[0].iov_len, 1);
	assert_int_equal(iov[1].iov_len, 5);
}

/* ---- the transport ---- */

static unsigned notifies;
static void t_notify(struct virtio_dev *d, unsigned q)
{
	struct virtq_chain *c = d->priv;
	notifies++;
	while (virtq_pop(&d->vq[q], d->gm, c) == 1) {
		virtq_push(&d->vq[q], d->gm, c->head, 0);
		virtio_notify_used(d, q);
	}
}
static void t_cfg(struct virtio_dev *d, uint32_t off, uint8_t *data, uint32_t len)
{
	(void)d;
	for (uint32_t i = 0; i < len; i++)
		data[i] = (uint8_t)(0xa0 + off + i);
}
static const struct virtio_ops t_ops = {
	.name = "test", .device_id = VIRTIO_ID_BLOCK, .nqueues = 1, .features = 1ULL << 5,
	.config_size = 8, .config_read = t_cfg, .queue_notify = t_notify,
};

/* The device over the ring's memory, its queue 0 at DESC/AVAIL/USED. */
static void dev_init(struct ring *r, struct virtio_dev *d, struct vdev *v)
{
	virtio_dev_init(d, &t_ops, &r->c, &r->gm);
	vdev_attach(v, d, &r->gm, NULL);
	vq_init(&v->q[0], &r->gm, QSZ, DESC, AVAIL, USED);
}

static void test_mmio_identity_and_config(void **state)
{
	struct ring *r = *state;
	struct virtio_dev d;
	struct vdev v;
	dev_init(r, &d, &v);
	assert_int_equal(vdev_rd(&v, VIRTIO_MMIO_MAGIC_VALUE), 0x74726976);
	assert_int_equal(vdev_rd(&v, VIRTIO_MMIO_VERSION), 2);
	assert_int_equal(vdev_rd(&v, VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_BLOCK);
	vdev_wr(&v, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	assert_true(vdev_rd(&v, VIRTIO_MMIO_DEVICE_FEATURES) & (1u << (VIRTIO_F_VERSION_1 - 32)));
	uint8_t b[4];
	virtio_mmio_io(&d, VIRTIO_MMIO_CONFIG + 2, b, 2, false);
	assert_int_equal(b[0], 0xa2);
	/* Past the config space: all ones, no call. */
	virtio_mmio_io(&d, VIRTIO_MMIO_CONFIG + 7, b, 4, false);
	assert_true(all_bytes(b, 4, 0xff));
	/* Unaligned or odd-sized register access is ignored. */
	virtio_mmio_io(&d, VIRTIO_MMIO_STATUS + 1, b, 2, false);
	assert_true(all_bytes(b, 2, 0xff));
}

static void test_mmio_feature_negotiation(void **state)
{
	struct ring *r = *state;
	struct virtio_dev d;
	struct vdev v;
	dev_init(r, &d, &v);
	/* Without VERSION_1 the device refuses FEATURES_OK. */
	assert_false(vdev_negotiate(&v, 1ULL << 5));
	/* A feature the device never offered is refused too. */
	assert_false(vdev_negotiate(&v, (1ULL << VIRTIO_F_VERSION_1) | (1ULL << 6)));
	assert_true(vdev_negotiate(&v, (1ULL << VIRTIO_F_VERSION_1) | (1ULL << 5)));
	/* DRIVER_OK without FEATURES_OK fails the device. */
	vdev_wr(&v, VIRTIO_MMIO_STATUS, 0);
	vdev_wr(&v, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_DRIVER_OK);
	assert_true(vdev_rd(&v, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_FAILED);
	assert_false(d.active);
}

static void test_mmio_queue_setup_and_notify(void **state)
{
	struct ring *r = *state;
	struct virtio_dev d;
	struct vdev v;
	dev_init(r, &d, &v);
	assert_true(vdev_negotiate(&v, 1ULL << VIRTIO_F_VERSION_1));
	/* A ring outside guest memory is refused. */
	vq_init(&v.q[0], &r->gm, QSZ, MEM - 16, AVAIL, USED);
	assert_false(vdev_queue_setup(&v, 0));
	assert_int_equal(vdev_rd(&v, VIRTIO_MMIO_QUEUE_READY), 0);
	/* A queue size above the maximum is refused. */
	vq_init(&v.q[0], &r->gm, 1024, DESC, AVAIL, USED);
	assert_false(vdev_queue_setup(&v, 0));
	assert_int_equal(vdev_rd(&v, VIRTIO_MMIO_QUEUE_READY), 0);
	vq_init(&v.q[0], &r->gm, QSZ, DESC, AVAIL, USED);
	assert_true(vdev_queue_setup(&v, 0));
	/* Addresses cannot change under a ready queue. */
	vdev_wr(&v, VIRTIO_MMIO_QUEUE_DESC_LOW, 0x5000);
	assert_int_equal(d.vq[0].desc, DESC);
	vdev_wr(&v, VIRTIO_MMIO_STATUS, vdev_rd(&v, VIRTIO_MMIO_STATUS) | VIRTIO_CONFIG_S_DRIVER_OK);
	assert_true(d.active);

	notifies = 0;
	vdev_wr(&v, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	vdev_wr(&v, VIRTIO_MMIO_QUEUE_NOTIFY, 5); /* no such queue */
	assert_int_equal(v.kicks, 1);
	assert_int_equal(v.kicked, 1u << 0);

	vq_set_desc(&v.q[0], 0, 0x10000, 16, 0, 0);
	vq_offer(&v.q[0], 0);
	virtio_process_queue(&d, 0);
	assert_int_equal(notifies, 1);
	assert_int_equal(v.irqs, 1);
	assert_int_equal(vdev_rd(&v, VIRTIO_MMIO_INTERRUPT_STATUS), VIRTIO_MMIO_INT_VRING);
	vdev_wr(&v, VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_INT_VRING);
	assert_int_equal(vdev_rd(&v, VIRTIO_MMIO_INTERRUPT_STATUS), 0);

	/* Reset clears everything. */
	vdev_wr(&v, VIRTIO_MMIO_STATUS, 0);
	assert_int_equal(vdev_rd(&v, VIRTIO_MMIO_STATUS), 0);
	assert_int_equal(vdev_rd(&v, VIRTIO_MMIO_QUEUE_READY), 0);
	assert_false(d.active);
	virtio_process_queue(&d, 0);
	assert_int_equal(notifies, 1); /* not called on an inactive device */
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_empty_ring), T(test_good_chain), T(test_descriptor_loop), T(test_self_loop),
		T(test_address_outside_memory), T(test_address_wraps), T(test_zero_length),
		T(test_huge_length), T(test_next_out_of_range), T(test_readable_after_writable),
		T(test_avail_index_jump_breaks_ring), T(test_head_out_of_range_breaks_ring),
		T(test_wrapping_indices), T(test_indirect_table), T(test_indirect_nested),
		T(test_indirect_bad_length), T(test_indirect_loop), T(test_indirect_not_negotiated),
		T(test_indirect_table_outside_memory), T(test_notify_flags_without_event_idx),
		T(test_event_idx), T(test_valid), T(test_chain_copy), T(test_mmio_identity_and_config),
		T(test_mmio_feature_negotiation), T(test_mmio_queue_setup_and_notify),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
