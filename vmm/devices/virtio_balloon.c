/* virtio-balloon (virtio 1.x, 5.5), for free page reporting only: the
 * guest's page allocator reports free blocks (of page_reporting.
 * page_reporting_order pages and up) on the reporting queue, and the VMM
 * drops them from the host with madvise, so pages a guest touched once
 * (boot allocations, init memory, a freed heap) and gave back stop costing
 * host memory. The guest gets them back, zeroed or as the mapped file's
 * bytes, on its next touch (docs/pmem.md).
 *
 *   --balloon report
 *
 * Features: VIRTIO_BALLOON_F_REPORTING only. The balloon itself never
 * inflates (num_pages stays 0); a chain posted on the inflate or deflate
 * queue is completed without effect. The guest is hostile: every reported
 * buffer is checked (balloon_parse_report) to be page-aligned guest RAM,
 * inside one RAM region, so it never reaches a device window (pmem), which
 * is not guest RAM, or anything outside the guest. */
#include <errno.h>
#include <linux/virtio_balloon.h>
#include <linux/virtio_ids.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "modules.h"
#include "virtio_balloon.h"

#define BALLOON_BATCH 64                /* chains per run before yielding */
#define BALLOON_MAX_RANGES 256          /* the driver sends 32 (PAGE_REPORTING_CAPACITY) */

static const char balloon_usage[] =
	"--balloon report\n"
	"  virtio-balloon device for free page reporting only: the guest reports the\n"
	"  pages it has freed and the VMM gives them back to the host (madvise), so\n"
	"  memory a guest touched once and freed stops costing host memory. The\n"
	"  guest's page_reporting.page_reporting_order=N (kernel command line) sets\n"
	"  the smallest block it reports (2^N pages; default 9, 2 MiB).\n";

struct balloon {
	struct virtio_dev dev;          /* first: d->priv and the container are the same */
	struct balloon_state st;
	struct virtq_chain chain;
	struct balloon_range r[BALLOON_MAX_RANGES];
};

/* ------------------------------------------------------------------ */
/* reports */

unsigned balloon_parse_report(const struct guest_mem *gm, const struct virtq_chain *c, struct balloon_range *out,
			      unsigned max, uint64_t *bad)
{
	if (c->err || c->nread || c->nseg == 0) {
		(*bad)++;
		return 0;
	}
	unsigned n = 0;
	for (unsigned i = 0; i < c->nseg && i < VIRTQ_MAX_SEGS; i++) {
		const struct virtq_seg *s = &c->seg[i];
		uint8_t *h = s->len ? gm_ptr(gm, s->gpa, s->len) : NULL;
		if (!h || s->gpa % BALLOON_PAGE || s->len % BALLOON_PAGE || (uintptr_t)h % BALLOON_PAGE || n == max) {
			(*bad)++;
			continue;
		}
		out[n++] = (struct balloon_range){ .host = h, .gpa = s->gpa, .len = s->len };
	}
	return n;
}

int balloon_discard(const struct balloon_range *r, bool shared)
{
	return madvise(r->host, r->len, shared ? MADV_REMOVE : MADV_DONTNEED);
}

static void balloon_report(struct balloon *b, const struct virtq_chain *c)
{
	unsigned n = balloon_parse_report(b->dev.gm, c, b->r, BALLOON_MAX_RANGES, &b->st.bad);
	if (n)
		b->st.reports++;
	for (unsigned i = 0; i < n; i++) {
		if (balloon_discard(&b->r[i], b->dev.gm->shared)) {
			b->st.failed++;
			continue;
		}
		b->st.ranges++;
		b->st.bytes += b->r[i].len;
	}
}

static void balloon_queue_notify(struct virtio_dev *d, unsigned qi)
{
	struct balloon *b = d->priv;
	struct virtq *q = &d->vq[qi];
	unsigned done = 0;
	bool yield = false;
	for (;;) {
		if (done == BALLOON_BATCH) {
			yield = true;
			break;
		}
		if (virtio_next_chain(d, qi, &b->chain) != 1)
			break;
		if (qi == BALLOON_Q_REPORTING && virtio_has_feature(d, VIRTIO_BALLOON_F_REPORTING))
			balloon_report(b, &b->chain);
		else
			b->st.bad++;    /* inflate/deflate: never asked for */
		/* Nothing is written into a report's buffers: length 0. */
		virtq_push(q, d->gm, b->chain.head, 0);
		done++;
	}
	if (yield && d->kick)
		d->kick(d, qi); /* let the other devices on this thread run; come back */
	if (done)
		virtio_notify_used(d, qi);
}

/* ------------------------------------------------------------------ */
/* config space: num_pages (always 0), actual (the driver's) */

static void balloon_config_read(struct virtio_dev *d, uint32_t off, uint8_t *data, uint32_t len)
{
	struct balloon *b = d->priv;
	struct virtio_balloon_config cfg = { .actual = htole32(b->st.actual) };
	memcpy(data, (const uint8_t *)&cfg + off, len); /* off + len checked by the transport */
}

static void balloon_config_write(struct virtio_dev *d, uint32_t off, const uint8_t *data, uint32_t len)
{
	struct balloon *b = d->priv;
	uint32_t v;
	/* Only "actual" is the driver's to write, and only whole. */
	if (off != offsetof(struct virtio_balloon_config, actual) || len != sizeof(v))
		return;
	memcpy(&v, data, sizeof(v));
	b->st.actual = le32toh(v);
}

static void balloon_reset(struct virtio_dev *d)
{
	struct balloon *b = d->priv;
	b->st.actual = 0;
}

static void balloon_destroy(struct virtio_dev *d)
{
	pthread_mutex_destroy(&d->lock);
	free(d->priv);
}

/* Snapshots: the config space's "actual" and the counters; the dropped
 * pages are zero pages in the memory file like any other. */
static long balloon_save(struct virtio_dev *d, uint8_t *buf, size_t cap, struct err *e)
{
	struct balloon *b = d->priv;
	if (cap < sizeof(b->st))
		return err_set(e, "virtio-balloon: no room for its state");
	memcpy(buf, &b->st, sizeof(b->st));
	return (long)sizeof(b->st);
}

static int balloon_restore(struct virtio_dev *d, const uint8_t *buf, size_t len, struct err *e)
{
	struct balloon *b = d->priv;
	struct balloon_state s;
	if (len != sizeof(s))
		return err_set(e, "snapshot: virtio-balloon state of %zu bytes (want %zu)", len, sizeof(s));
	memcpy(&s, buf, sizeof(s));
	if (s.actual != 0)
		return err_set(e, "snapshot: virtio-balloon holds %u pages (this device never inflates)", s.actual);
	b->st = s;
	return 0;
}

static const struct virtio_ops balloon_ops = {
	.name = "virtio-balloon",
	.device_id = VIRTIO_ID_BALLOON,
	.nqueues = BALLOON_NQUEUES,
	.features = 1ULL << VIRTIO_BALLOON_F_REPORTING,
	.config_size = sizeof(struct virtio_balloon_config),
	.queue_max = { 8, 8, 32 },      /* the driver posts one report of up to 32 ranges at a time */
	.config_read = balloon_config_read,
	.config_write = balloon_config_write,
	.queue_notify = balloon_queue_notify,
	.reset = balloon_reset,
	.destroy = balloon_destroy,
	.save = balloon_save,
	.restore = balloon_restore,
};

struct virtio_dev *balloon_dev_new(const struct guest_mem *gm, struct err *e)
{
	struct balloon *b = calloc(1, sizeof(*b));
	if (!b) {
		err_oom(e, "virtio-balloon");
		return NULL;
	}
	virtio_dev_init(&b->dev, &balloon_ops, b, gm);
	return &b->dev;
}

const struct balloon_state *balloon_dev_state(const struct virtio_dev *d)
{
	return d->ops == &balloon_ops ? &((const struct balloon *)d->priv)->st : NULL;
}

/* ------------------------------------------------------------------ */
/* the module: --balloon */

static int balloon_module_parse(const char *arg, struct vm_config *c, struct err *e)
{
	if (c->has_balloon)
		return err_set(e, "--balloon: one balloon device at most");
	if (strcmp(arg, "report"))
		return err_set(e, "--balloon '%s': want report (free page reporting; the balloon never inflates)", arg);
	c->has_balloon = true;
	return 0;
}

static int balloon_module_create(const struct device_ctx *ctx, const struct vm_config *c, struct err *e)
{
	if (!c->has_balloon)
		return 0;
	struct virtio_dev *d = balloon_dev_new(ctx->mem, e);
	if (!d)
		return err_wrap(e, "--balloon");
	if (ctx->attach(ctx, d, e))
		return err_wrap(e, "--balloon");
	return 0;
}

const struct device_module balloon_module = {
	.name = "virtio-balloon",
	.option = "balloon",
	.arg = "report",
	.summary = "virtio-balloon device, free page reporting only, see below",
	.usage = balloon_usage,
	.parse = balloon_module_parse,
	.create = balloon_module_create,
};
