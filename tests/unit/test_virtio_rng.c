/* Unit tests for virtio-rng (vmm/devices/virtio_rng.c), reached the way the
 * VM reaches it: through the device-module table, with a device_ctx whose
 * attach hands the device to the shared test driver. The queue is fed a
 * good request and hostile ones (addresses outside guest memory, chains
 * with nothing writable, loops, huge lengths); the rate limit is checked
 * against the clock. */
#include "unit.h"

#include <linux/virtio_ids.h>
#include <time.h>

#include "../../vmm/devices/modules.h"
#include "virtio_driver.h"

#define MEM (1u << 20)
#define QSZ 16
#define DATA 0x10000ULL         /* buffers from here */
#define FILL 0xee               /* what the test memory holds before the device writes */

struct fx {
	struct guest_mem gm;
	struct evloop loop;
	struct vdev v;
	struct virtio_dev *d;
};

static const struct device_module *rng_module_of_table(void)
{
	for (const struct device_module *const *m = device_modules; *m; m++)
		if (!strcmp((*m)->name, "virtio-rng"))
			return *m;
	fail_msg("no virtio-rng in the device-module table");
	return NULL;
}

static int capture(const struct device_ctx *ctx, struct virtio_dev *d, struct err *e)
{
	(void)e;
	*(struct virtio_dev **)ctx->host = d;
	return 0;
}

/* A device from --rng SPEC, driven by F's test driver. */
static void fx_start(struct fx *f, const char *spec)
{
	memset(f, 0, sizeof(*f));
	test_gm_alloc(&f->gm, MEM, FILL);
	struct err e = { 0 };
	assert_int_equal(evloop_init(&f->loop, &e), 0);
	const struct device_module *m = rng_module_of_table();
	struct vm_config c = { 0 };
	if (m->parse(spec, &c, &e))
		fail_msg("--rng %s: %s", spec, e.msg);
	assert_true(c.has_rng);
	struct device_ctx ctx = { .mem = &f->gm, .loop = &f->loop, .attach = capture, .host = &f->d };
	if (m->create(&ctx, &c, &e))
		fail_msg("create: %s", e.msg);
	assert_non_null(f->d);
	vdev_attach(&f->v, f->d, &f->gm, &f->loop);
	vq_init(&f->v.q[0], &f->gm, QSZ, 0x1000, 0x2000, 0x3000);
	vdev_init(&f->v, F(VIRTIO_F_VERSION_1));
}

static void fx_stop(struct fx *f)
{
	f->d->ops->destroy(f->d);
	evloop_free(&f->loop);
	test_gm_release(&f->gm);
}

static uint8_t *at(struct fx *f, uint64_t gpa) { return f->gm.host + gpa; }

static bool all(const uint8_t *p, size_t n, uint8_t v)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != v)
			return false;
	return true;
}

/* Offer chain HEAD, kick, and take its completion: the used length. */
static uint32_t serve(struct fx *f, uint16_t head)
{
	vq_offer(&f->v.q[0], head);
	vdev_kick(&f->v, 0);
	assert_int_equal(vq_pending(&f->v.q[0]), 1);
	struct vring_used_elem u = vq_take(&f->v.q[0]);
	assert_int_equal(u.id, head);
	return u.len;
}

/* One writable buffer of LEN at GPA as chain 0: filled with random bytes,
 * nothing written around it. */
static void good_request(struct fx *f, uint64_t gpa, uint32_t len)
{
	memset(at(f, gpa - 16), FILL, len + 32);
	struct vq_seg s = { gpa, len, true };
	vq_write_chain(&f->gm, f->v.q[0].desc, 0, &s, 1);
	assert_int_equal(serve(f, 0), len);
	assert_false(all(at(f, gpa), len, FILL)); /* 2^-(8*len) odds of a false alarm */
	assert_true(all(at(f, gpa - 16), 16, FILL));
	assert_true(all(at(f, gpa + len), 16, FILL));
	assert_false(vdev_needs_reset(&f->v));
}

static void test_identity(void **state)
{
	(void)state;
	struct fx f;
	fx_start(&f, "on");
	assert_int_equal(vdev_rd(&f.v, VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_RNG);
	assert_int_equal(f.d->ops->nqueues, 1);
	good_request(&f, DATA, 64);
	/* Two buffers in one chain: both filled, the length is their sum. */
	memset(at(&f, DATA), FILL, 0x2000);
	struct vq_seg s[2] = { { DATA, 16, true }, { DATA + 0x1000, 48, true } };
	vq_write_chain(&f.gm, f.v.q[0].desc, 2, s, 2);
	assert_int_equal(serve(&f, 2), 64);
	assert_false(all(at(&f, DATA), 16, FILL));
	assert_false(all(at(&f, DATA + 0x1000), 48, FILL));
	assert_true(all(at(&f, DATA + 16), 0x1000 - 16, FILL));
	fx_stop(&f);
}

/* Each hostile chain is completed with length 0 and writes nothing; the
 * device keeps serving good requests after it. */
static void test_hostile_chains(void **state)
{
	(void)state;
	struct fx f;
	fx_start(&f, "on");
	struct vq *q = &f.v.q[0];
	static const struct {
		const char *what;
		uint64_t addr;
		uint32_t len;
		uint16_t flags;
	} one[] = {
		{ "address past guest memory", MEM + 0x1000ULL, 64, VRING_DESC_F_WRITE },
		{ "buffer running off the end of memory", MEM - 32, 64, VRING_DESC_F_WRITE },
		{ "address near 2^64", ~0ULL - 15, 64, VRING_DESC_F_WRITE },
		{ "huge length", DATA, 0xffffffffu, VRING_DESC_F_WRITE },
		{ "zero length", DATA, 0, VRING_DESC_F_WRITE },
		{ "readable only (nothing to write into)", DATA, 64, 0 },
	};
	for (size_t i = 0; i < ARRAY_SIZE(one); i++) {
		memset(at(&f, DATA), FILL, 0x1000);
		vq_set_desc(q, 1, one[i].addr, one[i].len, one[i].flags, 0);
		uint32_t len = serve(&f, 1);
		if (len != 0)
			fail_msg("%s: completed with %u bytes", one[i].what, len);
		assert_true(all(at(&f, DATA), 0x1000, FILL));
		good_request(&f, DATA + 0x2000, 32);
	}
	/* A readable buffer before a writable one: not an rng request. */
	memset(at(&f, DATA), FILL, 0x1000);
	struct vq_seg mixed[2] = { { DATA, 16, false }, { DATA + 0x100, 64, true } };
	vq_write_chain(&f.gm, q->desc, 3, mixed, 2);
	assert_int_equal(serve(&f, 3), 0);
	assert_true(all(at(&f, DATA), 0x1000, FILL));
	good_request(&f, DATA + 0x2000, 32);
	/* A writable buffer before a readable one (order). */
	struct vq_seg order[2] = { { DATA + 0x100, 64, true }, { DATA, 16, false } };
	vq_write_chain(&f.gm, q->desc, 3, order, 2);
	assert_int_equal(serve(&f, 3), 0);
	assert_true(all(at(&f, DATA), 0x1000, FILL));
	/* A loop: descriptor 5 -> 6 -> 5 ... */
	vq_set_desc(q, 5, DATA, 8, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 6);
	vq_set_desc(q, 6, DATA + 8, 8, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 5);
	assert_int_equal(serve(&f, 5), 0);
	assert_true(all(at(&f, DATA), 0x1000, FILL));
	/* A next index past the table. */
	vq_set_desc(q, 7, DATA, 8, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 999);
	assert_int_equal(serve(&f, 7), 0);
	assert_true(all(at(&f, DATA), 0x1000, FILL));
	/* Indirect without the feature. */
	vq_set_desc(q, 8, DATA + 0x800, 16, VRING_DESC_F_INDIRECT, 0);
	assert_int_equal(serve(&f, 8), 0);
	assert_true(all(at(&f, DATA), 0x1000, FILL));
	good_request(&f, DATA + 0x2000, 32);
	fx_stop(&f);
}

/* A buffer larger than one request's worth: RNG_MAX_REQ (64 KiB) filled,
 * not one byte more. */
static void test_large_buffer(void **state)
{
	(void)state;
	struct fx f;
	fx_start(&f, "rate=1M,burst=1M");
	uint32_t len = 256 * 1024;
	struct vq_seg s = { DATA, len, true };
	vq_write_chain(&f.gm, f.v.q[0].desc, 0, &s, 1);
	assert_int_equal(serve(&f, 0), 64 * 1024);
	assert_false(all(at(&f, DATA + 60 * 1024), 4096, FILL));
	assert_true(all(at(&f, DATA + 64 * 1024), len - 64 * 1024, FILL));
	fx_stop(&f);
}

static uint64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* rate=64K,burst=4K: the first 4 KiB at once, then a request waits in the
 * ring (no spinning, no completion) until the timer says the bucket has
 * refilled; a guest that keeps asking gets no more than RATE a second. */
static void test_rate_limit(void **state)
{
	(void)state;
	struct fx f;
	fx_start(&f, "rate=64K,burst=4K");
	struct vq *q = &f.v.q[0];
	for (unsigned i = 0; i < 8; i++) {
		struct vq_seg s = { DATA + i * 0x1000ULL, 4096, true };
		vq_write_chain(&f.gm, q->desc, i, &s, 1);
	}
	uint64_t t0 = mono_ns();
	for (unsigned i = 0; i < 8; i++)
		vq_offer(q, (uint16_t)i);
	vdev_kick(&f.v, 0);
	/* The full bucket: one request; the rest wait. */
	assert_int_equal(vq_pending(q), 1);
	struct vring_used_elem u = vq_take(q);
	assert_int_equal(u.len, 4096);
	vq_offer(q, (uint16_t)u.id);
	vdev_kick(&f.v, 0);
	assert_int_equal(vq_pending(q), 0);
	/* From now on only the timer serves: 28 KiB at 64 KiB/s is ~440 ms.
	 * Every completed buffer is offered again, as a hungry driver does. */
	uint64_t got = 0;
	unsigned wakeups = 0;
	while (got < 7 * 4096 && mono_ns() - t0 < 10000000000ULL) {
		struct timespec ts = { 0, 2000000 };
		nanosleep(&ts, NULL);
		wakeups += (unsigned)vdev_run_loop(&f.v);
		while (vq_pending(q)) {
			u = vq_take(q);
			assert_true(u.len > 0 && u.len <= 4096);
			got += u.len;
			vq_offer(q, (uint16_t)u.id);
			vdev_kick(&f.v, 0);
		}
	}
	uint64_t ms = (mono_ns() - t0) / 1000000;
	assert_true(got >= 7 * 4096);
	assert_true(wakeups > 0);
	if (ms < 380)
		fail_msg("28 KiB beyond the burst in %llu ms: faster than 64 KiB/s", (unsigned long long)ms);
	assert_false(vdev_needs_reset(&f.v));
	fx_stop(&f);
}

static void test_parse(void **state)
{
	(void)state;
	const struct device_module *m = rng_module_of_table();
	struct vm_config c = { 0 };
	struct err e = { 0 };
	assert_int_equal(m->parse("on", &c, &e), 0);
	assert_true(c.has_rng);
	assert_int_equal(c.rng.rate, 0); /* the default */
	c = (struct vm_config){ 0 };
	assert_int_equal(m->parse("rate=1M,burst=4K", &c, &e), 0);
	assert_int_equal(c.rng.rate, 1 << 20);
	assert_int_equal(c.rng.burst, 4096);
	assert_int_equal(m->parse("on", &c, &e), -1); /* a second --rng */
	assert_err_contains(&e, "at most");
	static const struct {
		const char *spec, *msg;
	} bad[] = {
		{ "", "unknown option" },
		{ "off", "unknown option 'off'" },
		{ "rate=", "unknown option" },
		{ "rate=0", "from 1 byte" },
		{ "rate=2G", "from 1 byte" },
		{ "rate=lots", "from 1 byte" },
		{ "burst=99999999999999999999999999999", "a size" },
		{ "rate=1M,", "unknown option ''" },
		{ "speed=1M", "unknown option 'speed=1M'" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		c = (struct vm_config){ 0 };
		memset(&e, 0, sizeof(e));
		if (m->parse(bad[i].spec, &c, &e) != -1)
			fail_msg("--rng '%s' was accepted", bad[i].spec);
		assert_err_contains(&e, bad[i].msg);
		assert_null(strchr(e.msg, '\n'));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_identity),
		cmocka_unit_test(test_hostile_chains),
		cmocka_unit_test(test_large_buffer),
		cmocka_unit_test(test_rate_limit),
		cmocka_unit_test(test_parse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
