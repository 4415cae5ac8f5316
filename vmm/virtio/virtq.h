/* Split virtqueues (virtio 1.x, 2.7) walked defensively: the guest owns the
 * rings and may change them at any moment, so every descriptor is copied
 * once, checked, and only then used. A malformed chain fails that request
 * (the device completes it with no data); a malformed ring marks the queue
 * broken so the device can ask for a reset. Nothing here touches KVM:
 * unit tests and fuzzers drive it with a plain buffer as guest memory. */
#ifndef SANDBOX_VIRTQ_H
#define SANDBOX_VIRTQ_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/uio.h>

#include "../memory.h"

#define VIRTQ_MAX_SIZE 256      /* largest queue we offer */
#define VIRTQ_MAX_SEGS 1024     /* longest chain, counting indirect tables */

struct virtq {
	/* set by the driver through the transport */
	uint16_t num;           /* queue size, a power of two <= VIRTQ_MAX_SIZE */
	bool ready;
	uint64_t desc, avail, used;
	bool event_idx;         /* VIRTIO_RING_F_EVENT_IDX negotiated */
	bool indirect;          /* VIRTIO_RING_F_INDIRECT_DESC negotiated */
	/* device side */
	uint16_t last_avail;    /* next avail ring entry to take */
	uint16_t used_idx;      /* our copy of used->idx */
	uint16_t signalled_used;
	bool signalled_valid;
	bool broken;            /* ring is malformed: stop until reset */
};

struct virtq_seg {
	uint64_t gpa;
	uint32_t len;
	bool writable;
};

enum virtq_chain_err {
	VIRTQ_OK = 0,
	VIRTQ_ERR_ADDR,         /* a buffer lies outside guest memory */
	VIRTQ_ERR_LOOP,         /* more descriptors than the queue can hold */
	VIRTQ_ERR_INDEX,        /* a next index beyond the table */
	VIRTQ_ERR_INDIRECT,     /* bad or nested indirect table */
	VIRTQ_ERR_ORDER,        /* a readable buffer after a writable one */
	VIRTQ_ERR_LEN,          /* zero-length buffer or total length overflow */
};

struct virtq_chain {
	uint16_t head;
	enum virtq_chain_err err;
	unsigned nseg;
	unsigned nread;                  /* the first nread segments are readable */
	uint64_t read_len, write_len;
	struct virtq_seg seg[VIRTQ_MAX_SEGS];
};

/* Check the driver's queue addresses and size (at QueueReady). */
bool virtq_valid(const struct virtq *q, const struct guest_mem *gm);
void virtq_reset(struct virtq *q);

/* Take the next available chain. Returns 1 with *C filled (check C->err:
 * a bad chain must still be completed with virtq_push), 0 if the ring is
 * empty, -1 if the ring itself is malformed (q->broken is then set). */
int virtq_pop(struct virtq *q, const struct guest_mem *gm, struct virtq_chain *c);

/* Give back the last N chains taken with virtq_pop() and not yet pushed,
 * so the next pop sees them again (a device that cannot use them yet). */
void virtq_unpop(struct virtq *q, uint16_t n);

/* Return chain HEAD to the driver with LEN bytes written. */
void virtq_push(struct virtq *q, const struct guest_mem *gm, uint16_t head, uint32_t len);

/* Whether the driver wants an interrupt for what was pushed since the last
 * call (honours VRING_AVAIL_F_NO_INTERRUPT or used_event). */
bool virtq_should_notify(struct virtq *q, const struct guest_mem *gm);

/* With event_idx: tell the driver to notify when it adds past what we
 * have consumed. Call before going back to sleep, then re-check. */
void virtq_update_avail_event(struct virtq *q, const struct guest_mem *gm);
/* Suppress/allow driver notifications without event_idx. */
void virtq_set_no_notify(struct virtq *q, const struct guest_mem *gm, bool no_notify);
/* True if the driver has made buffers available that we have not taken. */
bool virtq_has_work(const struct virtq *q, const struct guest_mem *gm);

/* Copy between a chain's buffers and a host buffer. OFF counts from the
 * start of the readable (for read) or writable (for write) part. Return
 * the bytes copied. */
uint64_t virtq_chain_read(const struct guest_mem *gm, const struct virtq_chain *c, uint64_t off,
			  void *dst, uint64_t len);
uint64_t virtq_chain_write(const struct guest_mem *gm, const struct virtq_chain *c, uint64_t off,
			   const void *src, uint64_t len);
/* Host iovecs for LEN bytes of the readable or writable part starting at
 * OFF. Returns the number of iovecs (<= MAX) and sets *GOT to the bytes. */
int virtq_chain_iov(const struct guest_mem *gm, const struct virtq_chain *c, bool writable,
		    uint64_t off, uint64_t len, struct iovec *iov, int max, uint64_t *got);

const char *virtq_err_str(enum virtq_chain_err e);

#endif
