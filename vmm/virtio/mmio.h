/* The virtio-mmio transport, version 2 (virtio 1.x, 4.2.2): registers,
 * feature negotiation, device status, queue setup, interrupt status and
 * the device-specific config space. Device types plug in through struct
 * virtio_ops. The transport knows nothing of KVM: the VM glue (attach.c)
 * wires kicks to ioeventfds and interrupts to irqfds; unit tests wire them
 * to plain callbacks.
 *
 * Locking: dev->lock guards the registers, the queues and the device's own
 * state. The transport holds it when it calls any op; devices take it
 * themselves when work starts elsewhere (a backend fd becoming readable). */
#ifndef SANDBOX_VIRTIO_MMIO_H
#define SANDBOX_VIRTIO_MMIO_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "../memory.h"
#include "virtq.h"
#include "util.h"

#define VIRTIO_MAX_QUEUES 8
#define VIRTIO_MMIO_SIZE 0x1000
#define VIRTIO_MMIO_VENDOR 0x53424f58   /* "SBOX" */

struct virtio_dev;

struct virtio_ops {
	const char *name;
	uint32_t device_id;             /* VIRTIO_ID_* */
	unsigned nqueues;
	uint64_t features;              /* device-specific feature bits */
	uint32_t config_size;           /* bytes of config space */
	/* The largest size each queue may have (QueueNumMax); 0: VIRTQ_MAX_SIZE.
	 * A driver that fills a queue with buffers of its own memory (the
	 * vsock RX queue) costs that much guest RAM per sandbox. A power of 2. */
	uint16_t queue_max[VIRTIO_MAX_QUEUES];
	/* Config space access, OFF + LEN already checked against config_size. */
	void (*config_read)(struct virtio_dev *d, uint32_t off, uint8_t *data, uint32_t len);
	void (*config_write)(struct virtio_dev *d, uint32_t off, const uint8_t *data, uint32_t len);
	/* The driver kicked queue Q (runs on the device thread). */
	void (*queue_notify)(struct virtio_dev *d, unsigned q);
	/* DRIVER_OK was set: start backends. Return -1 to refuse. */
	int (*activate)(struct virtio_dev *d);
	/* The driver reset the device: drop in-flight state. */
	void (*reset)(struct virtio_dev *d);
	/* The VM is going away (device thread stopped): free everything. */
	void (*destroy)(struct virtio_dev *d);
	/* Snapshots (NULL: the device has no state beyond the transport's).
	 * save writes its own state into BUF (CAP bytes) and returns the bytes
	 * used, or -1 with E filled (it cannot be saved: why); it runs with
	 * the vCPUs paused and the device thread held. restore gets those
	 * bytes back (hostile: check them) after the transport's state, before
	 * the guest runs. */
	long (*save)(struct virtio_dev *d, uint8_t *buf, size_t cap, struct err *e);
	int (*restore)(struct virtio_dev *d, const uint8_t *buf, size_t len, struct err *e);
	/* Queue kicks are read by a back end outside the VMM (vhost-user,
	 * virtio_fs.c), which gets the queues' eventfds (queue_kickfd): the
	 * device thread does not watch them, and queue_notify is not used. */
	bool external_kicks;
};

struct virtio_dev {
	const struct virtio_ops *ops;
	void *priv;
	const struct guest_mem *gm;
	pthread_mutex_t lock;

	/* guest-visible state: plain data, so it can be saved */
	uint64_t driver_features;
	uint32_t dev_feat_sel, drv_feat_sel, queue_sel;
	uint32_t status;
	uint32_t isr;
	uint32_t config_gen;
	bool active;
	struct virtq vq[VIRTIO_MAX_QUEUES];

	/* host plumbing */
	void (*raise_irq)(struct virtio_dev *d);        /* edge: irqfd write */
	void (*kick)(struct virtio_dev *d, unsigned q);  /* defer a queue notify */
	int (*queue_kickfd)(struct virtio_dev *d, unsigned q); /* Q's eventfd (-1: none) */
	void *host;                                      /* for the callbacks */
	uint64_t base;
	unsigned gsi;
};

/* Initialise DEV for OPS over guest memory GM. */
void virtio_dev_init(struct virtio_dev *d, const struct virtio_ops *ops, void *priv,
		     const struct guest_mem *gm);
/* Bus handler for the 4 KiB register window. */
void virtio_mmio_io(void *dev, uint64_t offset, uint8_t *data, uint32_t len, bool is_write);

/* The transport's guest-visible state, for snapshots. */
struct virtq_snap {
	uint64_t desc, avail, used;
	uint16_t num, last_avail, used_idx, signalled_used;
	uint8_t ready, event_idx, indirect, signalled_valid, broken, pad[7];
};
struct virtio_snap {
	uint32_t device_id, nqueues;
	uint64_t driver_features;
	uint32_t dev_feat_sel, drv_feat_sel, queue_sel, status, isr, config_gen;
	uint8_t active, pad[7];
	struct virtq_snap vq[VIRTIO_MAX_QUEUES];
};
void virtio_snap_save(struct virtio_dev *d, struct virtio_snap *s);
/* Check S against D (same device, sane queues inside guest memory,
 * features it offers) and put it back; activates the device if the saved
 * one was. -1 with E filled. */
int virtio_snap_restore(struct virtio_dev *d, const struct virtio_snap *s, struct err *e);

/* Features the transport itself offers on top of ops->features. */
uint64_t virtio_transport_features(void);
bool virtio_has_feature(const struct virtio_dev *d, unsigned bit);

/* Completed work on queue Q: interrupt the driver if it wants one.
 * Call with d->lock held. */
void virtio_notify_used(struct virtio_dev *d, unsigned q);
/* A back end outside the VMM used a queue and asked for an interrupt
 * (its call eventfd): set the VRING bit and raise it, as it decided. */
void virtio_raise_vring(struct virtio_dev *d);
/* Config space changed. */
void virtio_notify_config(struct virtio_dev *d);
/* A ring is malformed: set DEVICE_NEEDS_RESET and tell the driver. */
void virtio_needs_reset(struct virtio_dev *d);
/* The next chain on queue Q, for a device serving it (d->lock held):
 * 1 with *C filled; 0 when the queue is empty, after asking the driver for
 * a kick past what was taken (event idx) and looking once more to close
 * the race with it; -1 when the ring is malformed (DEVICE_NEEDS_RESET set). */
int virtio_next_chain(struct virtio_dev *d, unsigned q, struct virtq_chain *c);
/* Run ops->queue_notify(Q) now, under the lock (device thread). */
void virtio_process_queue(struct virtio_dev *d, unsigned q);

#endif
