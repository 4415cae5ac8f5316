/* Unit tests for virtio-balloon's free page reporting
 * (vmm/devices/virtio_balloon.c), reached the way the VM reaches it:
 * through the device-module table, with a device_ctx whose attach hands
 * the device to the shared test driver. Guest memory is a real anonymous
 * mapping (and once a shared memfd), so a report really drops pages: what
 * the guest reported reads back as zeroes, what it did not keeps its bytes.
 * Hostile reports (misaligned, outside RAM, past its end, readable
 * buffers, bad chains, the inflate queue) drop nothing. */
#include "unit.h"

#include <linux/virtio_balloon.h>
#include <linux/virtio_ids.h>
#include <sys/mman.h>
#include <unistd.h>

#include "../../vmm/devices/modules.h"
#include "../../vmm/devices/virtio_balloon.h"
#include "virtio_driver.h"

#define MEM (2u << 20)
#define QSZ 32
#define PG 4096u
#define DATA 0x100000ULL        /* the pages reported live from here */
#define FILL 0xaa

struct fx {
	struct guest_mem gm;
	struct evloop loop;
	struct vdev v;
	struct virtio_dev *d;
	bool mapped;                    /* gm is our mmap (else gm_init_shared's) */
};

static const struct device_module *module_of_table(void)
{
	for (const struct device_module *const *m = device_modules; *m; m++)
		if (!strcmp((*m)->name, "virtio-balloon"))
			return *m;
	fail_msg("no virtio-balloon in the device-module table");
	return NULL;
}

static int capture(const struct device_ctx *ctx, struct virtio_dev *d, struct err *e)
{
	(void)e;
	*(struct virtio_dev **)ctx->host = d;
	return 0;
}

/* A device from --balloon report over MEM bytes of anonymous memory (or a
 * shared memfd), negotiated with FEATURES. */
static void fx_start(struct fx *f, bool shared, uint64_t features)
{
	memset(f, 0, sizeof(*f));
	struct err e = { 0 };
	if (shared) {
		assert_int_equal(gm_init_shared(&f->gm, MEM, &e), 0);
	} else {
		void *p = mmap(NULL, MEM, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		assert_true(p != MAP_FAILED);
		gm_wrap(&f->gm, p, MEM);
		f->mapped = true;
	}
	memset(f->gm.host, FILL, MEM);
	assert_int_equal(evloop_init(&f->loop, &e), 0);
	const struct device_module *m = module_of_table();
	struct vm_config c = { 0 };
	if (m->parse("report", &c, &e))
		fail_msg("--balloon report: %s", e.msg);
	assert_true(c.has_balloon);
	struct device_ctx ctx = { .mem = &f->gm, .loop = &f->loop, .attach = capture, .host = &f->d };
	if (m->create(&ctx, &c, &e))
		fail_msg("create: %s", e.msg);
	assert_non_null(f->d);
	vdev_attach(&f->v, f->d, &f->gm, &f->loop);
	for (unsigned i = 0; i < BALLOON_NQUEUES; i++)
		vq_init(&f->v.q[i], &f->gm, i == BALLOON_Q_REPORTING ? QSZ : 8, 0x1000 + i * 0x1000,
			0x4000 + i * 0x1000, 0x7000 + i * 0x1000);
	vdev_init(&f->v, F(VIRTIO_F_VERSION_1) | features);
}

static void fx_stop(struct fx *f)
{
	f->d->ops->destroy(f->d);
	evloop_free(&f->loop);
	if (f->mapped)
		munmap(f->gm.host, MEM);
	else
		gm_free(&f->gm);
}

static bool all(const uint8_t *p, size_t n, uint8_t v)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != v)
			return false;
	return true;
}

/* Offer SEGS on queue QI as one chain at descriptor 0 and run the device;
 * the chain must come back, with length 0. */
static void report(struct fx *f, unsigned qi, const struct vq_seg *s, unsigned n)
{
	struct vq *q = &f->v.q[qi];
	vq_write_chain(&f->gm, q->desc, 0, s, n);
	vq_offer(q, 0);
	vdev_kick(&f->v, qi);
	struct vring_used_elem u = vq_take(q);
	assert_int_equal(u.id, 0);
	assert_int_equal(u.len, 0);
}

static const struct balloon_state *st(struct fx *f) { return balloon_dev_state(f->d); }

static void test_identity(void **state)
{
	(void)state;
	struct fx f;
	fx_start(&f, false, F(VIRTIO_BALLOON_F_REPORTING));
	assert_int_equal(vdev_rd(&f.v, VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_BALLOON);
	uint64_t feat = vdev_features(&f.v);
	assert_true(feat & F(VIRTIO_BALLOON_F_REPORTING));
	/* nothing else of the balloon's: it never inflates, has no stats */
	assert_false(feat & (F(VIRTIO_BALLOON_F_MUST_TELL_HOST) | F(VIRTIO_BALLOON_F_STATS_VQ) |
			     F(VIRTIO_BALLOON_F_DEFLATE_ON_OOM) | F(VIRTIO_BALLOON_F_FREE_PAGE_HINT) |
			     F(VIRTIO_BALLOON_F_PAGE_POISON)));
	/* the reporting queue holds a whole report (PAGE_REPORTING_CAPACITY 32) */
	vdev_wr(&f.v, VIRTIO_MMIO_QUEUE_SEL, BALLOON_Q_REPORTING);
	assert_true(vdev_rd(&f.v, VIRTIO_MMIO_QUEUE_NUM_MAX) >= 32);
	/* num_pages 0; actual is the driver's, written whole only */
	uint32_t cfg = VIRTIO_MMIO_CONFIG;
	assert_int_equal(vdev_rd(&f.v, cfg + offsetof(struct virtio_balloon_config, num_pages)), 0);
	vdev_wr(&f.v, cfg + offsetof(struct virtio_balloon_config, actual), 7);
	assert_int_equal(vdev_rd(&f.v, cfg + offsetof(struct virtio_balloon_config, actual)), 7);
	assert_int_equal(st(&f)->actual, 7);
	vdev_wr(&f.v, cfg + offsetof(struct virtio_balloon_config, num_pages), 99);
	assert_int_equal(vdev_rd(&f.v, cfg + offsetof(struct virtio_balloon_config, num_pages)), 0);
	/* a reset forgets it */
	vdev_wr(&f.v, VIRTIO_MMIO_STATUS, 0);
	assert_int_equal(st(&f)->actual, 0);
	fx_stop(&f);
}

/* Reported pages read as zeroes afterwards; the others keep their bytes. */
static void test_report_drops_pages(void **state)
{
	(void)state;
	for (int shared = 0; shared < 2; shared++) {
		struct fx f;
		fx_start(&f, shared, F(VIRTIO_BALLOON_F_REPORTING));
		struct vq_seg s[] = {
			{ DATA, PG, true },
			{ DATA + 4 * PG, 4 * PG, true },
			{ DATA + 64 * PG, 512 * PG, true },     /* 2 MiB, an order-9 block: most of what is left */
		};
		/* the last range ends at the end of memory */
		s[2].len = (uint32_t)(MEM - s[2].gpa);
		report(&f, BALLOON_Q_REPORTING, s, 3);
		if (shared) {
			/* a shared memfd gives the pages back only with MADV_REMOVE:
			 * the file itself has a hole there now (looked at before anything
			 * reads them: a read of a shmem hole allocates a page) */
			assert_int_equal(lseek(f.gm.fd, (off_t)DATA, SEEK_HOLE), (off_t)DATA);
			assert_int_equal(lseek(f.gm.fd, (off_t)DATA, SEEK_DATA), (off_t)(DATA + PG));
		}
		assert_true(all(f.gm.host + DATA, PG, 0));
		assert_true(all(f.gm.host + DATA + PG, 3 * PG, FILL));
		assert_true(all(f.gm.host + DATA + 4 * PG, 4 * PG, 0));
		assert_true(all(f.gm.host + DATA + 8 * PG, 56 * PG, FILL));
		assert_true(all(f.gm.host + DATA + 64 * PG, MEM - DATA - 64 * PG, 0));
		assert_int_equal(st(&f)->reports, 1);
		assert_int_equal(st(&f)->ranges, 3);
		assert_int_equal(st(&f)->bytes, PG + 4 * PG + (MEM - DATA - 64 * PG));
		assert_int_equal(st(&f)->bad, 0);
		assert_int_equal(st(&f)->failed, 0);
		assert_true(f.v.irqs > 0);
		fx_stop(&f);
	}
}

/* Reports no honest driver makes: nothing is dropped, each is completed. */
static void test_hostile_reports(void **state)
{
	(void)state;
	struct fx f;
	fx_start(&f, false, F(VIRTIO_BALLOON_F_REPORTING) | F(VIRTIO_RING_F_INDIRECT_DESC));
	const struct { struct vq_seg s[2]; unsigned n; uint64_t bad; } cases[] = {
		{ { { DATA + 1, PG, true } }, 1, 1 },                   /* misaligned address */
		{ { { DATA, PG + 512, true } }, 1, 1 },                 /* misaligned length */
		{ { { DATA, 100, true } }, 1, 1 },                      /* less than a page */
		{ { { MEM - PG, 2 * PG, true } }, 1, 1 },               /* past the end of RAM */
		{ { { 4ULL << 30, PG, true } }, 1, 1 },                 /* a device window above RAM */
		{ { { ~0ULL - PG + 1, PG, true } }, 1, 1 },             /* wraps */
		{ { { DATA, PG, false } }, 1, 1 },                      /* readable: not a report */
		{ { { DATA, PG, false }, { DATA + PG, PG, true } }, 2, 1 }, /* partly readable: whole chain */
	};
	uint64_t bad = 0;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		report(&f, BALLOON_Q_REPORTING, cases[i].s, cases[i].n);
		bad += cases[i].bad;
		if (st(&f)->bad != bad)
			fail_msg("case %zu: bad %llu, want %llu", i, (unsigned long long)st(&f)->bad,
				 (unsigned long long)bad);
		assert_true(all(f.gm.host + DATA, MEM - DATA, FILL));
		assert_int_equal(st(&f)->ranges, 0);
	}
	/* a good range next to a bad one: only the good one goes */
	struct vq_seg mix[] = { { DATA + 3, PG, true }, { DATA + 8 * PG, PG, true } };
	report(&f, BALLOON_Q_REPORTING, mix, 2);
	assert_true(all(f.gm.host + DATA, 8 * PG, FILL));
	assert_true(all(f.gm.host + DATA + 8 * PG, PG, 0));
	assert_true(all(f.gm.host + DATA + 9 * PG, MEM - DATA - 9 * PG, FILL));
	assert_int_equal(st(&f)->ranges, 1);
	/* a loop in the descriptor table: completed, nothing dropped */
	struct vq *q = &f.v.q[BALLOON_Q_REPORTING];
	vq_set_desc(q, 0, DATA + 16 * PG, PG, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1);
	vq_set_desc(q, 1, DATA + 17 * PG, PG, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 0);
	vq_offer(q, 0);
	vdev_kick(&f.v, BALLOON_Q_REPORTING);
	assert_int_equal(vq_take(q).len, 0);
	assert_true(all(f.gm.host + DATA + 16 * PG, 2 * PG, FILL));
	/* the inflate and deflate queues: completed without effect */
	struct vq_seg pfns[] = { { DATA + 20 * PG, 64, false } };
	memset(f.gm.host + DATA + 20 * PG, 0, 64);   /* PFN 0 ... */
	report(&f, BALLOON_Q_INFLATE, pfns, 1);
	report(&f, BALLOON_Q_DEFLATE, pfns, 1);
	assert_true(all(f.gm.host, 0x1000, FILL));
	assert_int_equal(st(&f)->ranges, 1);
	assert_false(vdev_needs_reset(&f.v));
	fx_stop(&f);
}

/* Without REPORTING negotiated the third queue's chains drop nothing. */
static void test_not_negotiated(void **state)
{
	(void)state;
	struct fx f;
	fx_start(&f, false, 0);
	struct vq_seg s[] = { { DATA, PG, true } };
	report(&f, BALLOON_Q_REPORTING, s, 1);
	assert_true(all(f.gm.host + DATA, PG, FILL));
	assert_int_equal(st(&f)->ranges, 0);
	fx_stop(&f);
}

/* The pure parser, without a device: ranges out, the rest counted. */
static void test_parse_report(void **state)
{
	(void)state;
	struct guest_mem gm;
	void *p = mmap(NULL, MEM, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(p != MAP_FAILED);
	gm_wrap(&gm, p, MEM);
	struct virtq_chain *c = calloc(1, sizeof(*c));
	assert_non_null(c);
	struct balloon_range r[2];
	uint64_t bad = 0;
	c->nseg = 3;
	c->seg[0] = (struct virtq_seg){ 0, PG, true };
	c->seg[1] = (struct virtq_seg){ PG, 0, true };
	c->seg[2] = (struct virtq_seg){ 2 * PG, 2 * PG, true };
	assert_int_equal(balloon_parse_report(&gm, c, r, 2, &bad), 2);
	assert_int_equal(bad, 1);      /* the empty one */
	assert_ptr_equal(r[0].host, gm.host);
	assert_int_equal(r[1].gpa, 2 * PG);
	assert_int_equal(r[1].len, 2 * PG);
	/* more ranges than room: the rest counted */
	bad = 0;
	c->seg[1].len = PG;
	assert_int_equal(balloon_parse_report(&gm, c, r, 2, &bad), 2);
	assert_int_equal(bad, 1);
	/* a chain with an error or nothing in it: nothing */
	bad = 0;
	c->err = VIRTQ_ERR_ADDR;
	assert_int_equal(balloon_parse_report(&gm, c, r, 2, &bad), 0);
	c->err = VIRTQ_OK;
	c->nseg = 0;
	assert_int_equal(balloon_parse_report(&gm, c, r, 2, &bad), 0);
	assert_int_equal(bad, 2);
	free(c);
	munmap(p, MEM);
}

/* Snapshots carry "actual" and the counters; a hostile state is refused. */
static void test_snapshot_state(void **state)
{
	(void)state;
	struct fx f;
	fx_start(&f, false, F(VIRTIO_BALLOON_F_REPORTING));
	struct vq_seg s[] = { { DATA, PG, true } };
	report(&f, BALLOON_Q_REPORTING, s, 1);
	uint8_t buf[256];
	struct err e = { 0 };
	assert_int_equal(f.d->ops->save(f.d, buf, 8, &e), -1);
	long n = f.d->ops->save(f.d, buf, sizeof(buf), &e);
	assert_true(n > 0);
	struct fx g;
	fx_start(&g, false, F(VIRTIO_BALLOON_F_REPORTING));
	assert_int_equal(g.d->ops->restore(g.d, buf, (size_t)n, &e), 0);
	assert_int_equal(st(&g)->ranges, 1);
	memset(&e, 0, sizeof(e));
	assert_int_equal(g.d->ops->restore(g.d, buf, (size_t)n - 1, &e), -1);
	assert_err_contains(&e, "virtio-balloon state");
	struct balloon_state bs;
	memcpy(&bs, buf, sizeof(bs));
	bs.actual = 5;
	memset(&e, 0, sizeof(e));
	assert_int_equal(g.d->ops->restore(g.d, (const uint8_t *)&bs, sizeof(bs), &e), -1);
	assert_err_contains(&e, "never inflates");
	fx_stop(&g);
	fx_stop(&f);
}

static void test_parse_option(void **state)
{
	(void)state;
	const struct device_module *m = module_of_table();
	struct vm_config c = { 0 };
	struct err e = { 0 };
	assert_int_equal(m->parse("report", &c, &e), 0);
	assert_true(c.has_balloon);
	assert_int_equal(m->parse("report", &c, &e), -1);
	assert_err_contains(&e, "one balloon device at most");
	const char *bad[] = { "", "on", "inflate", "report,order=3" };
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		c = (struct vm_config){ 0 };
		memset(&e, 0, sizeof(e));
		assert_int_equal(m->parse(bad[i], &c, &e), -1);
		assert_err_contains(&e, "want report");
		assert_null(strchr(e.msg, '\n'));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_identity),
		cmocka_unit_test(test_report_drops_pages),
		cmocka_unit_test(test_hostile_reports),
		cmocka_unit_test(test_not_negotiated),
		cmocka_unit_test(test_parse_report),
		cmocka_unit_test(test_snapshot_state),
		cmocka_unit_test(test_parse_option),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
