#include "virtq.h"

#include <linux/virtio_ring.h>
#include <string.h>

/* Ring layout sizes (virtio 1.x 2.7). */
static uint64_t desc_bytes(uint16_t num) { return 16ULL * num; }
static uint64_t avail_bytes(uint16_t num) { return 6ULL + 2ULL * num; }  /* incl. used_event */
static uint64_t used_bytes(uint16_t num) { return 6ULL + 8ULL * num; }   /* incl. avail_event */

bool virtq_valid(const struct virtq *q, const struct guest_mem *gm)
{
	if (q->num == 0 || q->num > VIRTQ_MAX_SIZE || (q->num & (q->num - 1)))
		return false;
	if ((q->desc & 15) || (q->avail & 1) || (q->used & 3))
		return false;
	return gm_ptr(gm, q->desc, desc_bytes(q->num)) && gm_ptr(gm, q->avail, avail_bytes(q->num)) &&
	       gm_ptr(gm, q->used, used_bytes(q->num));
}

void virtq_reset(struct virtq *q)
{
	memset(q, 0, sizeof(*q));
}

static uint16_t load16(const void *p) { return __atomic_load_n((const uint16_t *)p, __ATOMIC_ACQUIRE); }
static void store16(void *p, uint16_t v) { __atomic_store_n((uint16_t *)p, v, __ATOMIC_RELEASE); }

static uint16_t *avail_ring(const struct virtq *q, const struct guest_mem *gm)
{
	return gm_ptr(gm, q->avail, avail_bytes(q->num));
}

static uint8_t *used_ring(const struct virtq *q, const struct guest_mem *gm)
{
	return gm_ptr(gm, q->used, used_bytes(q->num));
}

bool virtq_has_work(const struct virtq *q, const struct guest_mem *gm)
{
	if (!q->ready || q->broken)
		return false;
	uint16_t *a = avail_ring(q, gm);
	return a && load16(&a[1]) != q->last_avail;
}

static int add_seg(struct virtq_chain *c, const struct guest_mem *gm, const struct vring_desc *d)
{
	if (c->nseg >= VIRTQ_MAX_SEGS)
		return VIRTQ_ERR_LOOP;
	if (d->len == 0)
		return VIRTQ_ERR_LEN;
	if (!gm_ptr(gm, d->addr, d->len))
		return VIRTQ_ERR_ADDR;
	bool w = d->flags & VRING_DESC_F_WRITE;
	if (!w && c->nseg > c->nread)
		return VIRTQ_ERR_ORDER;
	c->seg[c->nseg++] = (struct virtq_seg){ .gpa = d->addr, .len = d->len, .writable = w };
	if (w)
		c->write_len += d->len;
	else {
		c->read_len += d->len;
		c->nread++;
	}
	return VIRTQ_OK;
}

/* Walk an indirect table: its descriptors chain only among themselves. */
static int walk_indirect(struct virtq_chain *c, const struct guest_mem *gm, const struct vring_desc *ind)
{
	if (ind->len == 0 || ind->len % sizeof(struct vring_desc) || ind->len / sizeof(struct vring_desc) > VIRTQ_MAX_SEGS)
		return VIRTQ_ERR_INDIRECT;
	unsigned n = ind->len / sizeof(struct vring_desc);
	const struct vring_desc *table = gm_ptr(gm, ind->addr, ind->len);
	if (!table)
		return VIRTQ_ERR_ADDR;
	unsigned i = 0;
	for (unsigned steps = 0;; steps++) {
		if (steps >= n)
			return VIRTQ_ERR_LOOP;
		struct vring_desc d;
		memcpy(&d, &table[i], sizeof(d)); /* one read: the guest may change it */
		if (d.flags & VRING_DESC_F_INDIRECT)
			return VIRTQ_ERR_INDIRECT; /* nesting is forbidden */
		int r = add_seg(c, gm, &d);
		if (r)
			return r;
		if (!(d.flags & VRING_DESC_F_NEXT))
			return VIRTQ_OK;
		if (d.next >= n)
			return VIRTQ_ERR_INDEX;
		i = d.next;
	}
}

static int walk(struct virtq *q, const struct guest_mem *gm, struct virtq_chain *c, uint16_t head)
{
	const struct vring_desc *table = gm_ptr(gm, q->desc, desc_bytes(q->num));
	uint16_t i = head;
	for (unsigned steps = 0;; steps++) {
		if (steps >= q->num)
			return VIRTQ_ERR_LOOP;
		struct vring_desc d;
		memcpy(&d, &table[i], sizeof(d));
		if (d.flags & VRING_DESC_F_INDIRECT) {
			/* An indirect descriptor must be the only one in its chain. */
			if (!q->indirect || (d.flags & VRING_DESC_F_NEXT) || steps != 0)
				return VIRTQ_ERR_INDIRECT;
			return walk_indirect(c, gm, &d);
		}
		int r = add_seg(c, gm, &d);
		if (r)
			return r;
		if (!(d.flags & VRING_DESC_F_NEXT))
			return VIRTQ_OK;
		if (d.next >= q->num)
			return VIRTQ_ERR_INDEX;
		i = d.next;
	}
}

int virtq_pop(struct virtq *q, const struct guest_mem *gm, struct virtq_chain *c)
{
	if (!q->ready || q->broken)
		return 0;
	uint16_t *a = avail_ring(q, gm);
	if (!a) {
		q->broken = true;
		return -1;
	}
	uint16_t avail_idx = load16(&a[1]);
	uint16_t pending = (uint16_t)(avail_idx - q->last_avail);
	if (pending == 0)
		return 0;
	if (pending > q->num) {
		/* The driver claims more buffers than the queue holds. */
		q->broken = true;
		return -1;
	}
	uint16_t head = load16(&a[2 + (q->last_avail % q->num)]);
	if (head >= q->num) {
		q->broken = true;
		return -1;
	}
	q->last_avail++;
	c->head = head;
	c->nseg = c->nread = 0;
	c->read_len = c->write_len = 0;
	c->err = (enum virtq_chain_err)walk(q, gm, c, head);
	if (c->err) {
		c->nseg = c->nread = 0;
		c->read_len = c->write_len = 0;
	}
	return 1;
}

void virtq_unpop(struct virtq *q, uint16_t n)
{
	q->last_avail = (uint16_t)(q->last_avail - n);
}

void virtq_push(struct virtq *q, const struct guest_mem *gm, uint16_t head, uint32_t len)
{
	uint8_t *u = used_ring(q, gm);
	if (!u)
		return;
	struct vring_used_elem e = { .id = head, .len = len };
	memcpy(u + 4 + 8ULL * (q->used_idx % q->num), &e, sizeof(e));
	q->used_idx++;
	store16(u + 2, q->used_idx); /* release: the element is visible first */
}

bool virtq_should_notify(struct virtq *q, const struct guest_mem *gm)
{
	uint16_t *a = avail_ring(q, gm);
	if (!a)
		return true;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	uint16_t old = q->signalled_used, now = q->used_idx;
	bool valid = q->signalled_valid;
	q->signalled_used = now;
	q->signalled_valid = true;
	if (!q->event_idx)
		return !(load16(&a[0]) & VRING_AVAIL_F_NO_INTERRUPT);
	if (!valid)
		return true;
	uint16_t used_event = load16(&a[2 + q->num]);
	return (uint16_t)(now - used_event - 1) < (uint16_t)(now - old);
}

void virtq_update_avail_event(struct virtq *q, const struct guest_mem *gm)
{
	if (!q->event_idx)
		return;
	uint8_t *u = used_ring(q, gm);
	if (u)
		store16(u + 4 + 8ULL * q->num, q->last_avail);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

void virtq_set_no_notify(struct virtq *q, const struct guest_mem *gm, bool no_notify)
{
	if (q->event_idx)
		return;
	uint8_t *u = used_ring(q, gm);
	if (u)
		store16(u, no_notify ? VRING_USED_F_NO_NOTIFY : 0);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

/* Copy through the host iovecs of the chain's readable or writable part. */
static uint64_t chain_copy(const struct guest_mem *gm, const struct virtq_chain *c, bool writable,
			   uint64_t off, uint8_t *buf, uint64_t len, bool to_guest)
{
	struct iovec iov[64];
	uint64_t done = 0;
	while (done < len) {
		uint64_t got;
		int n = virtq_chain_iov(gm, c, writable, off + done, len - done, iov, 64, &got);
		if (n == 0)
			break;
		for (int i = 0; i < n; i++) {
			if (to_guest)
				memcpy(iov[i].iov_base, buf + done, iov[i].iov_len);
			else
				memcpy(buf + done, iov[i].iov_base, iov[i].iov_len);
			done += iov[i].iov_len;
		}
	}
	return done;
}

uint64_t virtq_chain_read(const struct guest_mem *gm, const struct virtq_chain *c, uint64_t off,
			  void *dst, uint64_t len)
{
	return chain_copy(gm, c, false, off, dst, len, false);
}

uint64_t virtq_chain_write(const struct guest_mem *gm, const struct virtq_chain *c, uint64_t off,
			   const void *src, uint64_t len)
{
	return chain_copy(gm, c, true, off, (uint8_t *)src, len, true);
}

int virtq_chain_iov(const struct guest_mem *gm, const struct virtq_chain *c, bool writable,
		    uint64_t off, uint64_t len, struct iovec *iov, int max, uint64_t *got)
{
	int n = 0;
	uint64_t done = 0;
	for (unsigned i = 0; i < c->nseg && done < len && n < max; i++) {
		const struct virtq_seg *s = &c->seg[i];
		if (s->writable != writable)
			continue;
		if (off >= s->len) {
			off -= s->len;
			continue;
		}
		uint64_t k = s->len - off;
		if (k > len - done)
			k = len - done;
		void *p = gm_ptr(gm, s->gpa + off, k);
		if (!p)
			break;
		iov[n].iov_base = p;
		iov[n].iov_len = k;
		n++;
		done += k;
		off = 0;
	}
	*got = done;
	return n;
}

const char *virtq_err_str(enum virtq_chain_err e)
{
	switch (e) {
	case VIRTQ_OK: return "ok";
	case VIRTQ_ERR_ADDR: return "buffer outside guest memory";
	case VIRTQ_ERR_LOOP: return "descriptor loop or chain too long";
	case VIRTQ_ERR_INDEX: return "descriptor index out of range";
	case VIRTQ_ERR_INDIRECT: return "bad indirect descriptor table";
	case VIRTQ_ERR_ORDER: return "readable buffer after a writable one";
	case VIRTQ_ERR_LEN: return "zero or overflowing buffer length";
	}
	return "?";
}
