/* The guest's side of virtio for the unit tests, shared by every virtio
 * test (after Firecracker's devices/virtio/test_utils.rs): struct vq lays
 * out one split virtqueue in test guest memory and plays the driver on it
 * (descriptors, avail ring, used ring); struct vdev drives a device through
 * the virtio-mmio registers (feature negotiation, queue setup, kicks) and
 * stands in for the VM's plumbing (interrupts and kicks are counted, the
 * device's event loop is dispatched by hand, so every step is
 * deterministic). Ring fields are written raw, so tests can also write
 * what no honest driver would. */
#ifndef SANDBOX_TEST_VIRTIO_DRIVER_H
#define SANDBOX_TEST_VIRTIO_DRIVER_H

#include <stdbool.h>
#include <stdint.h>

#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_ring.h>

#include "../../vmm/evloop.h"
#include "../../vmm/memory.h"
#include "../../vmm/virtio/mmio.h"

#define F(bit) (1ULL << (bit))

/* ---- one virtqueue, the driver's view ---- */

struct vq {
	const struct guest_mem *gm;
	uint16_t num;           /* queue size */
	uint64_t desc, avail, used;
	uint16_t avail_idx;     /* the driver's avail->idx */
	uint16_t used_seen;     /* used entries the driver has taken */
};

/* A queue of NUM entries with its rings at DESC, AVAIL and USED. */
void vq_init(struct vq *q, const struct guest_mem *gm, uint16_t num, uint64_t desc, uint64_t avail,
	     uint64_t used);
/* Fresh rings, as a driver sets them up: the table and both rings zeroed,
 * the driver's indices back to 0. */
void vq_clear(struct vq *q);

/* Entry I of the queue's descriptor table. */
void vq_set_desc(struct vq *q, unsigned i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next);
/* Entry I of any descriptor table at TABLE (an indirect one, say). */
void vq_table_desc(const struct guest_mem *gm, uint64_t table, unsigned i, uint64_t addr, uint32_t len,
		   uint16_t flags, uint16_t next);

struct vq_seg {
	uint64_t gpa;
	uint32_t len;
	bool w;                 /* device-writable */
};
/* Entries FIRST..FIRST+N-1 of TABLE for SEGS, chained in order. */
void vq_write_chain(const struct guest_mem *gm, uint64_t table, unsigned first, const struct vq_seg *s,
		    unsigned n);

/* Make chain HEAD available: the next avail entry, then avail->idx. */
void vq_offer(struct vq *q, uint16_t head);
/* Raw avail ring writes, for rings no honest driver makes: entry SLOT
 * (taken modulo the size) and avail->idx, the driver's index untouched. */
void vq_put_avail(struct vq *q, uint16_t slot, uint16_t head);
void vq_publish(struct vq *q, uint16_t idx);
void vq_set_avail_flags(struct vq *q, uint16_t flags);
/* used_event (event idx): interrupt me when used->idx passes V. */
void vq_set_used_event(struct vq *q, uint16_t v);
/* avail_event, which the device publishes (event idx). */
uint16_t vq_avail_event(struct vq *q);
/* Both rings and the driver's indices at IDX, as after IDX requests. */
void vq_start_at(struct vq *q, uint16_t idx);

uint16_t vq_used_idx(struct vq *q);
struct vring_used_elem vq_used_elem(struct vq *q, uint16_t i);
/* Used entries the driver has not taken yet. */
unsigned vq_pending(struct vq *q);
/* Take the next used entry; fails the test if there is none. */
struct vring_used_elem vq_take(struct vq *q);

/* ---- a device, through the transport ---- */

struct vdev {
	struct virtio_dev *d;
	const struct guest_mem *gm;
	struct evloop *loop;    /* the device's event loop (not started), or NULL */
	struct vq q[VIRTIO_MAX_QUEUES];
	unsigned irqs;          /* interrupts the device raised */
	unsigned kicks;         /* kicks, the driver's and the device's own */
	uint32_t kicked;        /* queues kicked and not run yet */
};

/* Plug D into T: its interrupts and kicks come to T. The queues are set
 * up with vq_init() on T->q[i] before vdev_init(). */
void vdev_attach(struct vdev *t, struct virtio_dev *d, const struct guest_mem *gm, struct evloop *loop);

uint32_t vdev_rd(struct vdev *t, uint32_t off);
void vdev_wr(struct vdev *t, uint32_t off, uint32_t v);
/* The 64 feature bits the device offers. */
uint64_t vdev_features(struct vdev *t);
bool vdev_needs_reset(struct vdev *t);

/* The steps of driver initialisation (virtio 1.x, 3.1.1), unchecked so a
 * test can see the device refuse them: reset, ACKNOWLEDGE, DRIVER, write
 * FEATURES, FEATURES_OK; true if the device kept FEATURES_OK. */
bool vdev_negotiate(struct vdev *t, uint64_t features);
/* Register T->q[QI] (size, ring addresses, QueueReady); true if ready. */
bool vdev_queue_setup(struct vdev *t, unsigned qi);
/* The whole sequence, each step checked: the device's identity, FEATURES
 * (which it must offer), every queue with fresh rings, DRIVER_OK. */
void vdev_init(struct vdev *t, uint64_t features);

/* Write QueueNotify for Q and run the device until it is idle. */
void vdev_kick(struct vdev *t, unsigned q);
/* Run the device until nothing is left: the queues kicked (by the driver
 * or by the device deferring work to itself) and the ready events of its
 * event loop. A device that never goes idle fails the test. */
void vdev_pump(struct vdev *t);
/* Dispatch only the event loop's ready events until none is ready;
 * returns the callbacks run (0: nothing woke the device). */
int vdev_run_loop(struct vdev *t);

#endif
