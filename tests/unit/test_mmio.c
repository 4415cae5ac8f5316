/* Unit tests for the virtio-mmio transport's status and feature rules
 * (issue 13, finding 5): a stand-in device with one queue and one feature
 * bit of its own, driven through the registers by the shared test driver.
 * Status only moves forward (bits added, 0 = reset); DRIVER_FEATURES is
 * frozen from FEATURES_OK until reset, so a live device cannot be made to
 * renegotiate; DEVICE_NEEDS_RESET belongs to the device. */
#include "unit.h"

#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>

#include "virtio_driver.h"

#define MEM (1 * MIB)
#define QSZ 16
#define DESC 0x1000ULL
#define AVAIL 0x2000ULL
#define USED 0x3000ULL

#define F_DEV 0 /* the stand-in device's own feature bit */
#define S_ACK VIRTIO_CONFIG_S_ACKNOWLEDGE
#define S_DRV (S_ACK | VIRTIO_CONFIG_S_DRIVER)
#define S_FOK (S_DRV | VIRTIO_CONFIG_S_FEATURES_OK)
#define S_LIVE (S_FOK | VIRTIO_CONFIG_S_DRIVER_OK)

struct fake {
	struct guest_mem gm;
	struct virtio_dev d;
	struct vdev t;
	int activations, resets;
	int refuse_activate;
};

static int fake_activate(struct virtio_dev *d)
{
	struct fake *f = d->priv;
	f->activations++;
	return f->refuse_activate ? -1 : 0;
}

static void fake_reset(struct virtio_dev *d)
{
	((struct fake *)d->priv)->resets++;
}

static const struct virtio_ops fake_ops = {
	.name = "fake",
	.device_id = 42,
	.nqueues = 1,
	.features = F(F_DEV),
	.activate = fake_activate,
	.reset = fake_reset,
};

/* A device with a smaller second queue (as vsock's RX queue). */
static const struct virtio_ops small_ops = {
	.name = "small",
	.device_id = 43,
	.nqueues = 2,
	.queue_max = { [1] = 32 },
};

static int setup(void **state)
{
	struct fake *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	test_gm_alloc(&f->gm, MEM, 0);
	virtio_dev_init(&f->d, &fake_ops, f, &f->gm);
	vdev_attach(&f->t, &f->d, &f->gm, NULL);
	vq_init(&f->t.q[0], &f->gm, QSZ, DESC, AVAIL, USED);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fake *f = *state;
	pthread_mutex_destroy(&f->d.lock);
	test_gm_release(&f->gm);
	free(f);
	return 0;
}

static uint32_t status(struct fake *f) { return vdev_rd(&f->t, VIRTIO_MMIO_STATUS); }
static void set_status(struct fake *f, uint32_t v) { vdev_wr(&f->t, VIRTIO_MMIO_STATUS, v); }

static void write_features(struct fake *f, uint64_t feat)
{
	vdev_wr(&f->t, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	vdev_wr(&f->t, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)feat);
	vdev_wr(&f->t, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	vdev_wr(&f->t, VIRTIO_MMIO_DRIVER_FEATURES, (uint32_t)(feat >> 32));
}

/* The attack of finding 5: a live device without F_DEV; the driver clears
 * FEATURES_OK (and DRIVER_OK), writes F_DEV, sets FEATURES_OK again. */
static void test_no_renegotiation_while_live(void **state)
{
	struct fake *f = *state;
	vdev_init(&f->t, F(VIRTIO_F_VERSION_1));
	assert_int_equal(f->activations, 1);
	assert_false(virtio_has_feature(&f->d, F_DEV));
	int resets = f->resets;

	set_status(f, S_DRV);
	assert_int_equal(status(f), S_LIVE);
	write_features(f, F(VIRTIO_F_VERSION_1) | F(F_DEV));
	set_status(f, S_FOK);
	set_status(f, S_LIVE);
	assert_false(virtio_has_feature(&f->d, F_DEV));
	assert_int_equal(f->d.driver_features, F(VIRTIO_F_VERSION_1));
	assert_int_equal(status(f), S_LIVE);
	assert_true(f->d.active);
	assert_int_equal(f->activations, 1);
	assert_int_equal(f->resets, resets);
}

/* Between FEATURES_OK and DRIVER_OK, too: the features are frozen. */
static void test_features_frozen_after_features_ok(void **state)
{
	struct fake *f = *state;
	assert_true(vdev_negotiate(&f->t, F(VIRTIO_F_VERSION_1)));
	write_features(f, F(VIRTIO_F_VERSION_1) | F(F_DEV));
	set_status(f, S_DRV);           /* tries to take FEATURES_OK back */
	assert_int_equal(status(f), S_FOK);
	write_features(f, F(VIRTIO_F_VERSION_1) | F(F_DEV));
	assert_int_equal(f->d.driver_features, F(VIRTIO_F_VERSION_1));
}

/* Any write that clears a bit is ignored; adding bits works, FAILED too. */
static void test_status_only_moves_forward(void **state)
{
	struct fake *f = *state;
	set_status(f, S_ACK);
	set_status(f, S_DRV);
	assert_int_equal(status(f), S_DRV);
	set_status(f, VIRTIO_CONFIG_S_DRIVER);  /* drops ACKNOWLEDGE */
	assert_int_equal(status(f), S_DRV);
	set_status(f, S_ACK);
	assert_int_equal(status(f), S_DRV);
	set_status(f, S_DRV);                   /* the same again is fine */
	assert_int_equal(status(f), S_DRV);
	set_status(f, S_DRV | VIRTIO_CONFIG_S_FAILED);
	assert_int_equal(status(f), S_DRV | VIRTIO_CONFIG_S_FAILED);
	set_status(f, S_DRV);
	assert_int_equal(status(f), S_DRV | VIRTIO_CONFIG_S_FAILED);
}

/* Writing 0 still resets, and a fresh negotiation then takes new features. */
static void test_reset_allows_new_negotiation(void **state)
{
	struct fake *f = *state;
	vdev_init(&f->t, F(VIRTIO_F_VERSION_1));
	int resets = f->resets;
	set_status(f, 0);
	assert_int_equal(status(f), 0);
	assert_false(f->d.active);
	assert_int_equal(f->d.driver_features, 0);
	assert_int_equal(f->resets, resets + 1);
	vdev_init(&f->t, F(VIRTIO_F_VERSION_1) | F(F_DEV));
	assert_true(virtio_has_feature(&f->d, F_DEV));
	assert_int_equal(f->activations, 2);
}

/* Features the device did not offer, or no VERSION_1: FEATURES_OK does not
 * stick, and DRIVER_OK without it is FAILED, not a live device. */
static void test_features_ok_refused(void **state)
{
	struct fake *f = *state;
	assert_false(vdev_negotiate(&f->t, F(VIRTIO_F_VERSION_1) | F(5)));
	assert_int_equal(status(f), S_DRV);
	assert_false(vdev_negotiate(&f->t, F(F_DEV)));
	set_status(f, S_DRV | VIRTIO_CONFIG_S_DRIVER_OK);
	assert_int_equal(status(f), S_DRV | VIRTIO_CONFIG_S_FAILED);
	assert_false(f->d.active);
	assert_int_equal(f->activations, 0);
}

/* DEVICE_NEEDS_RESET is the device's: the driver cannot set it, cannot
 * clear it, and a device that needs a reset is not activated until then. */
static void test_needs_reset_is_the_devices(void **state)
{
	struct fake *f = *state;
	set_status(f, S_ACK | VIRTIO_CONFIG_S_NEEDS_RESET);
	assert_int_equal(status(f), S_ACK);

	f->refuse_activate = 1;
	vdev_negotiate(&f->t, F(VIRTIO_F_VERSION_1));
	assert_true(vdev_queue_setup(&f->t, 0));
	set_status(f, S_LIVE);
	assert_int_equal(f->activations, 1);
	assert_int_equal(status(f), S_FOK | VIRTIO_CONFIG_S_NEEDS_RESET);
	assert_false(f->d.active);

	f->refuse_activate = 0;
	set_status(f, S_LIVE);                  /* not without a reset first */
	assert_int_equal(f->activations, 1);
	assert_false(f->d.active);
	assert_true(status(f) & VIRTIO_CONFIG_S_NEEDS_RESET);
	assert_false(status(f) & VIRTIO_CONFIG_S_DRIVER_OK);

	set_status(f, 0);
	assert_int_equal(status(f), 0);
	vdev_init(&f->t, F(VIRTIO_F_VERSION_1));
	assert_int_equal(f->activations, 2);
}

/* A ring the device found broken (virtio_needs_reset) stays flagged
 * whatever the driver writes, short of a reset. */
static void test_needs_reset_survives_driver_writes(void **state)
{
	struct fake *f = *state;
	vdev_init(&f->t, F(VIRTIO_F_VERSION_1));
	pthread_mutex_lock(&f->d.lock);
	virtio_needs_reset(&f->d);
	pthread_mutex_unlock(&f->d.lock);
	set_status(f, S_LIVE);
	assert_int_equal(status(f), S_LIVE | VIRTIO_CONFIG_S_NEEDS_RESET);
	set_status(f, S_LIVE | VIRTIO_CONFIG_S_FAILED);
	assert_int_equal(status(f), S_LIVE | VIRTIO_CONFIG_S_FAILED | VIRTIO_CONFIG_S_NEEDS_RESET);
	set_status(f, 0);
	assert_int_equal(status(f), 0);
}

/* QueueNumMax is the device's per queue; a larger QUEUE_NUM is refused
 * (the queue cannot become ready), one within it is kept. */
static void test_queue_max_per_queue(void **state)
{
	struct fake *f = *state;
	struct virtio_dev d;
	struct vdev t;
	virtio_dev_init(&d, &small_ops, f, &f->gm);
	vdev_attach(&t, &d, &f->gm, NULL);
	vdev_wr(&t, VIRTIO_MMIO_QUEUE_SEL, 0);
	assert_int_equal(vdev_rd(&t, VIRTIO_MMIO_QUEUE_NUM_MAX), VIRTQ_MAX_SIZE);
	vdev_wr(&t, VIRTIO_MMIO_QUEUE_SEL, 1);
	assert_int_equal(vdev_rd(&t, VIRTIO_MMIO_QUEUE_NUM_MAX), 32);
	vdev_wr(&t, VIRTIO_MMIO_QUEUE_NUM, 64);
	assert_int_equal(d.vq[1].num, 0);
	vdev_wr(&t, VIRTIO_MMIO_QUEUE_NUM, 32);
	assert_int_equal(d.vq[1].num, 32);
	vdev_wr(&t, VIRTIO_MMIO_QUEUE_SEL, 0);
	vdev_wr(&t, VIRTIO_MMIO_QUEUE_NUM, 256);
	assert_int_equal(d.vq[0].num, 256);
	vdev_wr(&t, VIRTIO_MMIO_QUEUE_SEL, 2);
	assert_int_equal(vdev_rd(&t, VIRTIO_MMIO_QUEUE_NUM_MAX), 0);
	pthread_mutex_destroy(&d.lock);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_no_renegotiation_while_live, setup, teardown),
		cmocka_unit_test_setup_teardown(test_features_frozen_after_features_ok, setup, teardown),
		cmocka_unit_test_setup_teardown(test_status_only_moves_forward, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset_allows_new_negotiation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_features_ok_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_needs_reset_is_the_devices, setup, teardown),
		cmocka_unit_test_setup_teardown(test_needs_reset_survives_driver_writes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_queue_max_per_queue, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
