#include "mmio.h"

#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_ring.h>
#include <string.h>

#define MAGIC 0x74726976 /* "virt" */

uint64_t virtio_transport_features(void)
{
	return (1ULL << VIRTIO_F_VERSION_1) | (1ULL << VIRTIO_RING_F_INDIRECT_DESC) |
	       (1ULL << VIRTIO_RING_F_EVENT_IDX);
}

void virtio_dev_init(struct virtio_dev *d, const struct virtio_ops *ops, void *priv,
		     const struct guest_mem *gm)
{
	memset(d, 0, sizeof(*d));
	d->ops = ops;
	d->priv = priv;
	d->gm = gm;
	pthread_mutex_init(&d->lock, NULL);
}

bool virtio_has_feature(const struct virtio_dev *d, unsigned bit)
{
	return bit < 64 && (d->driver_features & (1ULL << bit));
}

static uint64_t offered(const struct virtio_dev *d)
{
	return d->ops->features | virtio_transport_features();
}

static void reset_locked(struct virtio_dev *d)
{
	if (d->ops->reset)
		d->ops->reset(d);
	for (unsigned i = 0; i < VIRTIO_MAX_QUEUES; i++)
		virtq_reset(&d->vq[i]);
	d->driver_features = 0;
	d->dev_feat_sel = d->drv_feat_sel = d->queue_sel = 0;
	d->status = 0;
	__atomic_store_n(&d->isr, 0, __ATOMIC_SEQ_CST);
	d->active = false;
}

static void raise(struct virtio_dev *d, uint32_t bits)
{
	__atomic_or_fetch(&d->isr, bits, __ATOMIC_SEQ_CST);
	if (d->raise_irq)
		d->raise_irq(d);
}

void virtio_notify_used(struct virtio_dev *d, unsigned q)
{
	if (q < VIRTIO_MAX_QUEUES && virtq_should_notify(&d->vq[q], d->gm))
		raise(d, VIRTIO_MMIO_INT_VRING);
}

void virtio_raise_vring(struct virtio_dev *d)
{
	raise(d, VIRTIO_MMIO_INT_VRING);
}

void virtio_notify_config(struct virtio_dev *d)
{
	d->config_gen++;
	raise(d, VIRTIO_MMIO_INT_CONFIG);
}

void virtio_needs_reset(struct virtio_dev *d)
{
	if (d->status & VIRTIO_CONFIG_S_NEEDS_RESET)
		return;
	d->status |= VIRTIO_CONFIG_S_NEEDS_RESET;
	if (d->status & VIRTIO_CONFIG_S_DRIVER_OK)
		virtio_notify_config(d);
}

int virtio_next_chain(struct virtio_dev *d, unsigned q, struct virtq_chain *c)
{
	struct virtq *vq = &d->vq[q];
	for (;;) {
		int r = virtq_pop(vq, d->gm, c);
		if (r < 0) {
			virtio_needs_reset(d);
			return -1;
		}
		if (r == 1)
			return 1;
		virtq_update_avail_event(vq, d->gm);
		if (!virtq_has_work(vq, d->gm))
			return 0;
	}
}

void virtio_process_queue(struct virtio_dev *d, unsigned q)
{
	pthread_mutex_lock(&d->lock);
	if (d->active && q < d->ops->nqueues && d->vq[q].ready && d->ops->queue_notify)
		d->ops->queue_notify(d, q);
	pthread_mutex_unlock(&d->lock);
}

/* Status only moves forward (virtio 1.x 2.1, 3.1.1): the driver adds bits
 * one step at a time, and only a write of 0 (reset) clears them. A write
 * that would clear a bit is ignored as a whole. Otherwise a driver could
 * clear FEATURES_OK on a live device, write DRIVER_FEATURES again (which
 * FEATURES_OK freezes) and have the device run with features it never
 * checked. We ignore rather than set DEVICE_NEEDS_RESET: the device stays as
 * negotiated and activated, and a confused driver still recovers by reset.
 * DEVICE_NEEDS_RESET is the device's own bit: a driver write neither sets
 * nor clears it, and a device that set it is not activated until reset. */
static void set_status(struct virtio_dev *d, uint32_t v)
{
	if (v == 0) {
		reset_locked(d);
		return;
	}
	uint32_t keep = d->status & VIRTIO_CONFIG_S_NEEDS_RESET;
	uint32_t cur = d->status & ~VIRTIO_CONFIG_S_NEEDS_RESET;
	v &= ~VIRTIO_CONFIG_S_NEEDS_RESET;
	if ((v & cur) != cur)
		return;
	/* FEATURES_OK only sticks if what the driver chose is acceptable. */
	if ((v & VIRTIO_CONFIG_S_FEATURES_OK) && !(cur & VIRTIO_CONFIG_S_FEATURES_OK)) {
		uint64_t f = d->driver_features;
		if ((f & ~offered(d)) || !(f & (1ULL << VIRTIO_F_VERSION_1)))
			v &= ~VIRTIO_CONFIG_S_FEATURES_OK;
	}
	if ((v & VIRTIO_CONFIG_S_DRIVER_OK) && !d->active) {
		if (!(v & VIRTIO_CONFIG_S_FEATURES_OK)) {
			v = (v & ~VIRTIO_CONFIG_S_DRIVER_OK) | VIRTIO_CONFIG_S_FAILED;
		} else if (keep) {
			v &= ~VIRTIO_CONFIG_S_DRIVER_OK;
		} else {
			bool ev = virtio_has_feature(d, VIRTIO_RING_F_EVENT_IDX);
			bool ind = virtio_has_feature(d, VIRTIO_RING_F_INDIRECT_DESC);
			for (unsigned i = 0; i < d->ops->nqueues; i++) {
				d->vq[i].event_idx = ev;
				d->vq[i].indirect = ind;
			}
			if (d->ops->activate && d->ops->activate(d))
				v = (v & ~VIRTIO_CONFIG_S_DRIVER_OK) | VIRTIO_CONFIG_S_NEEDS_RESET;
			else
				d->active = true;
		}
	}
	d->status = v | keep;
}

static struct virtq *sel_queue(struct virtio_dev *d)
{
	return d->queue_sel < d->ops->nqueues ? &d->vq[d->queue_sel] : NULL;
}

/* The selected queue's QueueNumMax (queue_sel checked by the caller). */
static uint16_t sel_queue_max(const struct virtio_dev *d)
{
	uint16_t m = d->ops->queue_max[d->queue_sel];
	return m && m <= VIRTQ_MAX_SIZE ? m : VIRTQ_MAX_SIZE;
}

/* Queue addresses may only change while the queue is not ready. */
static void set_half(struct virtio_dev *d, uint64_t *field, uint32_t v, bool high)
{
	struct virtq *q = sel_queue(d);
	if (!q || q->ready)
		return;
	*field = high ? ((*field & 0xffffffffULL) | ((uint64_t)v << 32)) : ((*field & ~0xffffffffULL) | v);
}

static uint32_t reg_read(struct virtio_dev *d, uint64_t off)
{
	struct virtq *q = sel_queue(d);
	switch (off) {
	case VIRTIO_MMIO_MAGIC_VALUE: return MAGIC;
	case VIRTIO_MMIO_VERSION: return 2;
	case VIRTIO_MMIO_DEVICE_ID: return d->ops->device_id;
	case VIRTIO_MMIO_VENDOR_ID: return VIRTIO_MMIO_VENDOR;
	case VIRTIO_MMIO_DEVICE_FEATURES:
		return d->dev_feat_sel < 2 ? (uint32_t)(offered(d) >> (32 * d->dev_feat_sel)) : 0;
	case VIRTIO_MMIO_QUEUE_NUM_MAX: return q ? sel_queue_max(d) : 0;
	case VIRTIO_MMIO_QUEUE_READY: return q ? q->ready : 0;
	case VIRTIO_MMIO_INTERRUPT_STATUS: return __atomic_load_n(&d->isr, __ATOMIC_SEQ_CST);
	case VIRTIO_MMIO_STATUS: return d->status;
	case VIRTIO_MMIO_SHM_LEN_LOW:
	case VIRTIO_MMIO_SHM_LEN_HIGH:
	case VIRTIO_MMIO_SHM_BASE_LOW:
	case VIRTIO_MMIO_SHM_BASE_HIGH: return 0xffffffff; /* no shared memory regions */
	case VIRTIO_MMIO_CONFIG_GENERATION: return d->config_gen;
	}
	return 0;
}

static void reg_write(struct virtio_dev *d, uint64_t off, uint32_t v)
{
	struct virtq *q = sel_queue(d);
	switch (off) {
	case VIRTIO_MMIO_DEVICE_FEATURES_SEL: d->dev_feat_sel = v; break;
	case VIRTIO_MMIO_DRIVER_FEATURES_SEL: d->drv_feat_sel = v; break;
	case VIRTIO_MMIO_DRIVER_FEATURES:
		/* Frozen from FEATURES_OK until reset (set_status keeps it set). */
		if (d->drv_feat_sel < 2 && !(d->status & VIRTIO_CONFIG_S_FEATURES_OK)) {
			unsigned sh = 32 * d->drv_feat_sel;
			d->driver_features = (d->driver_features & ~(0xffffffffULL << sh)) | ((uint64_t)v << sh);
		}
		break;
	case VIRTIO_MMIO_QUEUE_SEL: d->queue_sel = v; break;
	case VIRTIO_MMIO_QUEUE_NUM:
		if (q && !q->ready)
			q->num = v <= sel_queue_max(d) ? (uint16_t)v : 0;
		break;
	case VIRTIO_MMIO_QUEUE_READY:
		if (!q)
			break;
		if (v == 1 && !q->ready) {
			/* Refuse a queue whose rings do not fit guest memory. */
			q->ready = virtq_valid(q, d->gm);
			q->last_avail = q->used_idx = 0;
			q->signalled_valid = false;
			q->broken = false;
		} else if (v == 0) {
			q->ready = false;
		}
		break;
	case VIRTIO_MMIO_QUEUE_NOTIFY:
		break; /* handled outside the lock by virtio_mmio_io */
	case VIRTIO_MMIO_INTERRUPT_ACK:
		__atomic_and_fetch(&d->isr, ~v, __ATOMIC_SEQ_CST);
		break;
	case VIRTIO_MMIO_STATUS: set_status(d, v); break;
	case VIRTIO_MMIO_QUEUE_DESC_LOW: if (q) set_half(d, &q->desc, v, false); break;
	case VIRTIO_MMIO_QUEUE_DESC_HIGH: if (q) set_half(d, &q->desc, v, true); break;
	case VIRTIO_MMIO_QUEUE_AVAIL_LOW: if (q) set_half(d, &q->avail, v, false); break;
	case VIRTIO_MMIO_QUEUE_AVAIL_HIGH: if (q) set_half(d, &q->avail, v, true); break;
	case VIRTIO_MMIO_QUEUE_USED_LOW: if (q) set_half(d, &q->used, v, false); break;
	case VIRTIO_MMIO_QUEUE_USED_HIGH: if (q) set_half(d, &q->used, v, true); break;
	case VIRTIO_MMIO_SHM_SEL: break;
	}
}

void virtio_mmio_io(void *dev, uint64_t offset, uint8_t *data, uint32_t len, bool is_write)
{
	struct virtio_dev *d = dev;
	if (offset >= VIRTIO_MMIO_CONFIG) {
		uint64_t off = offset - VIRTIO_MMIO_CONFIG;
		pthread_mutex_lock(&d->lock);
		if (off <= d->ops->config_size && len <= d->ops->config_size - off) {
			if (is_write) {
				if (d->ops->config_write)
					d->ops->config_write(d, (uint32_t)off, data, len);
			} else if (d->ops->config_read) {
				d->ops->config_read(d, (uint32_t)off, data, len);
			} else {
				memset(data, 0, len);
			}
		} else if (!is_write) {
			memset(data, 0xff, len);
		}
		pthread_mutex_unlock(&d->lock);
		return;
	}
	/* Registers are 32 bits wide and aligned; anything else is ignored. */
	if (len != 4 || (offset & 3)) {
		if (!is_write)
			memset(data, 0xff, len);
		return;
	}
	if (is_write && offset == VIRTIO_MMIO_QUEUE_NOTIFY) {
		/* Normally an ioeventfd catches this before it exits to us. */
		uint32_t v;
		memcpy(&v, data, 4);
		if (v < d->ops->nqueues && d->kick)
			d->kick(d, v);
		return;
	}
	pthread_mutex_lock(&d->lock);
	if (is_write) {
		uint32_t v;
		memcpy(&v, data, 4);
		reg_write(d, offset, v);
	} else {
		uint32_t v = reg_read(d, offset);
		memcpy(data, &v, 4);
	}
	pthread_mutex_unlock(&d->lock);
}

void virtio_snap_save(struct virtio_dev *d, struct virtio_snap *s)
{
	memset(s, 0, sizeof(*s));
	pthread_mutex_lock(&d->lock);
	s->device_id = d->ops->device_id;
	s->nqueues = d->ops->nqueues;
	s->driver_features = d->driver_features;
	s->dev_feat_sel = d->dev_feat_sel;
	s->drv_feat_sel = d->drv_feat_sel;
	s->queue_sel = d->queue_sel;
	s->status = d->status;
	s->isr = d->isr;
	s->config_gen = d->config_gen;
	s->active = d->active;
	for (unsigned i = 0; i < d->ops->nqueues && i < VIRTIO_MAX_QUEUES; i++) {
		const struct virtq *q = &d->vq[i];
		s->vq[i] = (struct virtq_snap){ .desc = q->desc, .avail = q->avail, .used = q->used, .num = q->num,
						.last_avail = q->last_avail, .used_idx = q->used_idx,
						.signalled_used = q->signalled_used, .ready = q->ready,
						.event_idx = q->event_idx, .indirect = q->indirect,
						.signalled_valid = q->signalled_valid, .broken = q->broken };
	}
	pthread_mutex_unlock(&d->lock);
}

int virtio_snap_restore(struct virtio_dev *d, const struct virtio_snap *s, struct err *e)
{
	if (s->device_id != d->ops->device_id || s->nqueues != d->ops->nqueues)
		return err_set(e, "%s: the snapshot has device %u with %u queues here", d->ops->name, s->device_id,
			       s->nqueues);
	if ((s->driver_features & ~offered(d)) || s->active > 1 || s->isr > 3 ||
	    (s->status & ~(uint32_t)0xff))
		return err_set(e, "%s: impossible transport state in the snapshot", d->ops->name);
	if (s->active && !(s->status & VIRTIO_CONFIG_S_DRIVER_OK))
		return err_set(e, "%s: active without DRIVER_OK in the snapshot", d->ops->name);
	pthread_mutex_lock(&d->lock);
	d->driver_features = s->driver_features;
	d->dev_feat_sel = s->dev_feat_sel;
	d->drv_feat_sel = s->drv_feat_sel;
	d->queue_sel = s->queue_sel;
	d->isr = s->isr;
	d->config_gen = s->config_gen;
	for (unsigned i = 0; i < d->ops->nqueues; i++) {
		const struct virtq_snap *v = &s->vq[i];
		struct virtq *q = &d->vq[i];
		*q = (struct virtq){ .num = v->num, .ready = v->ready != 0, .desc = v->desc, .avail = v->avail,
				     .used = v->used, .event_idx = v->event_idx != 0, .indirect = v->indirect != 0,
				     .last_avail = v->last_avail, .used_idx = v->used_idx,
				     .signalled_used = v->signalled_used, .signalled_valid = v->signalled_valid != 0,
				     .broken = v->broken != 0 };
		if (q->ready && !virtq_valid(q, d->gm)) {
			pthread_mutex_unlock(&d->lock);
			return err_set(e, "%s: queue %u of the snapshot lies outside guest memory", d->ops->name, i);
		}
	}
	d->status = s->status;
	d->active = false;
	int rc = 0;
	if (s->active) {
		if (d->ops->activate && d->ops->activate(d))
			rc = err_set(e, "%s: could not activate the restored device", d->ops->name);
		else
			d->active = true;
	}
	pthread_mutex_unlock(&d->lock);
	return rc;
}
