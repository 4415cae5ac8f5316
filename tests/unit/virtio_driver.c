/* The unit tests' virtio driver (virtio_driver.h says what it is for). */
#include "unit.h"

#include <sys/epoll.h>

#include <linux/virtio_ids.h>

#include "virtio_driver.h"

/* ---- the queue ---- */

void vq_init(struct vq *q, const struct guest_mem *gm, uint16_t num, uint64_t desc, uint64_t avail,
	     uint64_t used)
{
	*q = (struct vq){ .gm = gm, .num = num, .desc = desc, .avail = avail, .used = used };
}

static void zero(const struct guest_mem *gm, uint64_t gpa, uint64_t len)
{
	void *p = gm_ptr(gm, gpa, len);
	assert_non_null(p);
	memset(p, 0, len);
}

void vq_clear(struct vq *q)
{
	zero(q->gm, q->desc, 16ULL * q->num);
	zero(q->gm, q->avail, 6 + 2ULL * q->num);
	zero(q->gm, q->used, 6 + 8ULL * q->num);
	q->avail_idx = q->used_seen = 0;
}

void vq_table_desc(const struct guest_mem *gm, uint64_t table, unsigned i, uint64_t addr, uint32_t len,
		   uint16_t flags, uint16_t next)
{
	struct vring_desc d = { .addr = addr, .len = len, .flags = flags, .next = next };
	assert_int_equal(gm_write(gm, table + 16ULL * i, &d, sizeof(d)), 0);
}

void vq_set_desc(struct vq *q, unsigned i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	vq_table_desc(q->gm, q->desc, i, addr, len, flags, next);
}

void vq_write_chain(const struct guest_mem *gm, uint64_t table, unsigned first, const struct vq_seg *s,
		    unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		vq_table_desc(gm, table, first + i, s[i].gpa, s[i].len,
			      (uint16_t)((s[i].w ? VRING_DESC_F_WRITE : 0) | (i + 1 < n ? VRING_DESC_F_NEXT : 0)),
			      (uint16_t)(first + i + 1));
}

/* The avail ring: flags, idx, ring[num], used_event. */
static uint16_t *avail_ring(struct vq *q)
{
	uint16_t *a = gm_ptr(q->gm, q->avail, 6 + 2ULL * q->num);
	assert_non_null(a);
	return a;
}

void vq_put_avail(struct vq *q, uint16_t slot, uint16_t head)
{
	avail_ring(q)[2 + slot % q->num] = head;
}

/* Release: the device must see the entry before the index that covers it. */
void vq_publish(struct vq *q, uint16_t idx)
{
	__atomic_store_n(&avail_ring(q)[1], idx, __ATOMIC_RELEASE);
}

void vq_offer(struct vq *q, uint16_t head)
{
	vq_put_avail(q, q->avail_idx, head);
	q->avail_idx++;
	vq_publish(q, q->avail_idx);
}

void vq_set_avail_flags(struct vq *q, uint16_t flags)
{
	avail_ring(q)[0] = flags;
}

void vq_set_used_event(struct vq *q, uint16_t v)
{
	avail_ring(q)[2 + q->num] = v;
}

/* The used ring: flags, idx, ring[num] of 8-byte entries, avail_event. */
static uint16_t *used_field(struct vq *q, uint64_t off)
{
	uint16_t *p = gm_ptr(q->gm, q->used + off, 2);
	assert_non_null(p);
	return p;
}

uint16_t vq_avail_event(struct vq *q)
{
	return *used_field(q, 4 + 8ULL * q->num);
}

uint16_t vq_used_idx(struct vq *q)
{
	return __atomic_load_n(used_field(q, 2), __ATOMIC_ACQUIRE);
}

void vq_start_at(struct vq *q, uint16_t idx)
{
	q->avail_idx = q->used_seen = idx;
	vq_publish(q, idx);
	*used_field(q, 2) = idx;
}

struct vring_used_elem vq_used_elem(struct vq *q, uint16_t i)
{
	struct vring_used_elem e;
	assert_int_equal(gm_read(q->gm, &e, q->used + 4 + 8ULL * (i % q->num), sizeof(e)), 0);
	return e;
}

unsigned vq_pending(struct vq *q)
{
	return (uint16_t)(vq_used_idx(q) - q->used_seen);
}

struct vring_used_elem vq_take(struct vq *q)
{
	if (!vq_pending(q))
		fail_msg("no used entry to take (used idx %u)", vq_used_idx(q));
	return vq_used_elem(q, q->used_seen++);
}

/* ---- the device ---- */

static void on_irq(struct virtio_dev *d)
{
	((struct vdev *)d->host)->irqs++;
}

static void on_kick(struct virtio_dev *d, unsigned q)
{
	struct vdev *t = d->host;
	assert_true(q < VIRTIO_MAX_QUEUES);
	t->kicks++;
	t->kicked |= 1u << q; /* like the VM's kick eventfd: coalesced until run */
}

void vdev_attach(struct vdev *t, struct virtio_dev *d, const struct guest_mem *gm, struct evloop *loop)
{
	*t = (struct vdev){ .d = d, .gm = gm, .loop = loop };
	d->host = t;
	d->raise_irq = on_irq;
	d->kick = on_kick;
}

uint32_t vdev_rd(struct vdev *t, uint32_t off)
{
	uint32_t v = 0;
	virtio_mmio_io(t->d, off, (uint8_t *)&v, 4, false);
	return v;
}

void vdev_wr(struct vdev *t, uint32_t off, uint32_t v)
{
	virtio_mmio_io(t->d, off, (uint8_t *)&v, 4, true);
}

uint64_t vdev_features(struct vdev *t)
{
	vdev_wr(t, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	uint64_t lo = vdev_rd(t, VIRTIO_MMIO_DEVICE_FEATURES);
	vdev_wr(t, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	return lo | (uint64_t)vdev_rd(t, VIRTIO_MMIO_DEVICE_FEATURES) << 32;
}

bool vdev_needs_reset(struct vdev *t)
{
	return vdev_rd(t, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET;
}

#define S_DRIVER (VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER)

bool vdev_negotiate(struct vdev *t, uint64_t features)
{
	vdev_wr(t, VIRTIO_MMIO_STATUS, 0);
	vdev_wr(t, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE);
	vdev_wr(t, VIRTIO_MMIO_STATUS, S_DRIVER);
	vdev_wr(t, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	vdev_wr(t, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)features);
	vdev_wr(t, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	vdev_wr(t, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(features >> 32));
	vdev_wr(t, VIRTIO_MMIO_STATUS, S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK);
	return vdev_rd(t, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_FEATURES_OK;
}

bool vdev_queue_setup(struct vdev *t, unsigned qi)
{
	const struct vq *q = &t->q[qi];
	vdev_wr(t, VIRTIO_MMIO_QUEUE_SEL, qi);
	vdev_wr(t, VIRTIO_MMIO_QUEUE_NUM, q->num);
	vdev_wr(t, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)q->desc);
	vdev_wr(t, VIRTIO_MMIO_QUEUE_DESC_HIGH, (uint32_t)(q->desc >> 32));
	vdev_wr(t, VIRTIO_MMIO_QUEUE_AVAIL_LOW, (uint32_t)q->avail);
	vdev_wr(t, VIRTIO_MMIO_QUEUE_AVAIL_HIGH, (uint32_t)(q->avail >> 32));
	vdev_wr(t, VIRTIO_MMIO_QUEUE_USED_LOW, (uint32_t)q->used);
	vdev_wr(t, VIRTIO_MMIO_QUEUE_USED_HIGH, (uint32_t)(q->used >> 32));
	vdev_wr(t, VIRTIO_MMIO_QUEUE_READY, 1);
	return vdev_rd(t, VIRTIO_MMIO_QUEUE_READY) == 1;
}

void vdev_init(struct vdev *t, uint64_t features)
{
	assert_int_equal(vdev_rd(t, VIRTIO_MMIO_MAGIC_VALUE), 0x74726976); /* "virt" */
	assert_int_equal(vdev_rd(t, VIRTIO_MMIO_VERSION), 2);
	assert_int_equal(vdev_rd(t, VIRTIO_MMIO_DEVICE_ID), t->d->ops->device_id);
	assert_int_equal(features & ~vdev_features(t), 0);
	assert_true(vdev_negotiate(t, features));
	for (unsigned i = 0; i < t->d->ops->nqueues; i++) {
		struct vq *q = &t->q[i];
		if (!q->num)
			fail_msg("queue %u of %s has no vq_init()", i, t->d->ops->name);
		vq_clear(q);
		vdev_wr(t, VIRTIO_MMIO_QUEUE_SEL, i);
		uint32_t max = t->d->ops->queue_max[i] ? t->d->ops->queue_max[i] : VIRTQ_MAX_SIZE;
		assert_int_equal(vdev_rd(t, VIRTIO_MMIO_QUEUE_NUM_MAX), max);
		assert_true(q->num <= max);
		assert_true(vdev_queue_setup(t, i));
	}
	vdev_wr(t, VIRTIO_MMIO_STATUS, S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK);
	assert_true(vdev_rd(t, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_DRIVER_OK);
	assert_true(t->d->active);
}

/* One epoll round over the device's loop: run every ready callback. */
static int dispatch_ready(struct evloop *l)
{
	struct epoll_event ev[8];
	int n = epoll_wait(l->epfd, ev, 8, 0);
	for (int i = 0; i < n; i++) {
		struct evloop_entry *s = ev[i].data.ptr;
		if (s && s->fn)
			s->fn(s->ctx, ev[i].events);
	}
	return n < 0 ? 0 : n;
}

void vdev_pump(struct vdev *t)
{
	for (unsigned round = 0;; round++) {
		if (round > 20000)
			fail_msg("%s does not go idle", t->d->ops->name);
		bool did = false;
		for (unsigned q = 0; q < VIRTIO_MAX_QUEUES; q++)
			if (t->kicked & (1u << q)) {
				t->kicked &= ~(1u << q);
				virtio_process_queue(t->d, q);
				did = true;
			}
		if (t->loop && dispatch_ready(t->loop))
			did = true;
		if (!did)
			return;
	}
}

void vdev_kick(struct vdev *t, unsigned q)
{
	vdev_wr(t, VIRTIO_MMIO_QUEUE_NOTIFY, q);
	vdev_pump(t);
}

int vdev_run_loop(struct vdev *t)
{
	assert_non_null(t->loop);
	int total = 0;
	for (int round = 0; round < 64; round++) {
		int n = dispatch_ready(t->loop);
		if (!n)
			return total;
		total += n;
	}
	fail_msg("the event loop never went idle: something spins");
	return total;
}
