/* Unit tests for virtio-blk: the shared test driver (virtio_driver.h)
 * sets the device up through the virtio-mmio registers over a malloc'd
 * guest memory, the tests write descriptors and rings into that memory,
 * kick, and check the used ring, the status byte and the backing temp
 * file. Hostile chains each fail their own request, and a good request
 * right after must still work. */
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_ids.h>

#include "../../vmm/devices/virtio_blk.h"
#include "virtio_driver.h"

/* A device from a --disk SPEC, parsed as the command line parses it. */
static struct virtio_dev *blk_create_spec(const char *spec, const struct guest_mem *gm, struct err *e)
{
	struct blk_config c;
	if (blk_parse(spec, &c, e))
		return NULL;
	return blk_create(&c, gm, e);
}

/* Guest memory layout of the test driver. */
#define GM_SIZE (8 * MIB)
#define DESC 0x1000ULL    /* descriptor table, up to 256 entries */
#define AVAIL 0x3000ULL   /* avail ring */
#define USED 0x4000ULL    /* used ring */
#define IND 0x8000ULL     /* an indirect table */
#define HDR 0x10000ULL    /* request header */
#define STATUS 0x10100ULL /* status byte */
#define DATA 0x100000ULL  /* 1 MiB of data buffers */
#define DATA2 0x200000ULL /* more data */

#define FILE_SECTORS 256ULL /* default disk: 128 KiB */

struct drv {
	struct guest_mem gm;
	struct virtio_dev *d;
	struct vdev v;        /* the driver; v.q[0] the request queue */
	char path[128];
	int fd;               /* the test's own view of the backing file */
};

static struct vq *rq(struct drv *t) { return &t->v.q[0]; }

static uint8_t pat(uint64_t off)
{
	return (uint8_t)(off * 7 + (off >> 9) * 13 + 1);
}

/* The driver's side of device initialisation, with the features it
 * wants of those offered and fresh rings of NUM entries. */
static void drv_init(struct drv *t, uint64_t want, uint16_t num)
{
	vq_init(rq(t), &t->gm, num, DESC, AVAIL, USED);
	vdev_init(&t->v, (vdev_features(&t->v) & want) | (1ULL << VIRTIO_F_VERSION_1));
}

/* A backing file of SECTORS sectors filled with pat(), named after NAME
 * (a mkstemp template suffix); its path in t->path. */
static void make_file(struct drv *t, const char *name, uint64_t sectors)
{
	snprintf(t->path, sizeof(t->path), "/tmp/%sXXXXXX", name);
	t->fd = mkstemp(t->path);
	assert_true(t->fd >= 0);
	uint8_t buf[4096];
	for (uint64_t off = 0; off < sectors * 512; off += sizeof(buf)) {
		size_t n = sectors * 512 - off < sizeof(buf) ? (size_t)(sectors * 512 - off) : sizeof(buf);
		for (size_t i = 0; i < n; i++)
			buf[i] = pat(off + i);
		assert_int_equal(pwrite(t->fd, buf, n, (off_t)off), (ssize_t)n);
	}
}

/* Device on a fresh file: OPTS is appended to the path (",ro", ",id=x"). */
static struct drv *setup_opts(const char *opts, uint64_t sectors, uint64_t want)
{
	struct drv *t = calloc(1, sizeof(*t));
	assert_non_null(t);
	test_gm_alloc(&t->gm, GM_SIZE, 0xcc);
	make_file(t, "sandbox-blk-", sectors);
	char spec[256];
	snprintf(spec, sizeof(spec), "%s%s", t->path, opts);
	struct err e = { 0 };
	t->d = blk_create_spec(spec, &t->gm, &e);
	if (!t->d)
		fail_msg("blk_create(%s): %s", spec, e.msg);
	vdev_attach(&t->v, t->d, &t->gm, NULL);
	drv_init(t, want, 16);
	return t;
}

#define ALL_FEATURES (~0ULL & ~(1ULL << VIRTIO_RING_F_EVENT_IDX))

static struct drv *setup(void)
{
	return setup_opts("", FILE_SECTORS, ALL_FEATURES);
}

static void teardown(struct drv *t)
{
	blk_destroy(t->d);
	close(t->fd);
	unlink(t->path);
	test_gm_release(&t->gm);
	free(t);
}

/* ------------------------------------------------------------------ */
/* building requests */

/* Take the next used entry; it must be for HEAD. Returns its length. */
static uint32_t take_used(struct drv *t, uint16_t head)
{
	struct vring_used_elem e = vq_take(rq(t));
	assert_int_equal(e.id, head);
	return e.len;
}

/* Submit SEGS as one chain at descriptor 0 and return the used length. */
static uint32_t submit(struct drv *t, const struct vq_seg *s, unsigned n)
{
	vq_write_chain(&t->gm, DESC, 0, s, n);
	vq_offer(rq(t), 0);
	vdev_kick(&t->v, 0);
	assert_int_equal(vq_pending(rq(t)), 1); /* completed, and only it */
	return take_used(t, 0);
}

static void put_hdr(struct drv *t, uint64_t gpa, uint32_t type, uint64_t sector)
{
	struct virtio_blk_outhdr h = { .type = type, .ioprio = 0, .sector = sector };
	assert_int_equal(gm_write(&t->gm, gpa, &h, sizeof(h)), 0);
}

static uint8_t status_at(struct drv *t, uint64_t gpa)
{
	return t->gm.host[gpa];
}

/* A well-formed request: header, optional data (device-writable for IN
 * and GET_ID), status. For OUT, DATA is copied in first; for IN it is
 * filled from guest memory afterwards. */
static uint8_t req(struct drv *t, uint32_t type, uint64_t sector, void *data, uint32_t len, bool dev_writes,
		   uint32_t *used)
{
	put_hdr(t, HDR, type, sector);
	t->gm.host[STATUS] = 0xee;
	struct vq_seg s[3];
	unsigned n = 0;
	s[n++] = (struct vq_seg){ HDR, 16, false };
	if (len) {
		assert_true(len <= 1 * MIB);
		if (dev_writes)
			memset(t->gm.host + DATA, 0xdd, len);
		else
			memcpy(t->gm.host + DATA, data, len);
		s[n++] = (struct vq_seg){ DATA, len, dev_writes };
	}
	s[n++] = (struct vq_seg){ STATUS, 1, true };
	uint32_t u = submit(t, s, n);
	if (used)
		*used = u;
	if (dev_writes && data)
		memcpy(data, t->gm.host + DATA, len);
	return status_at(t, STATUS);
}

/* The file's bytes [off, off+len) are pat() (or, with EXPECT, EXPECT). */
static void assert_file(struct drv *t, uint64_t off, uint64_t len, const uint8_t *expect)
{
	uint8_t *buf = malloc(len);
	assert_non_null(buf);
	assert_int_equal(pread(t->fd, buf, len, (off_t)off), (ssize_t)len);
	for (uint64_t i = 0; i < len; i++) {
		uint8_t want = expect ? expect[i] : pat(off + i);
		if (buf[i] != want)
			fail_msg("file byte %llu: 0x%02x, want 0x%02x", (unsigned long long)(off + i), buf[i], want);
	}
	free(buf);
}

static void assert_file_size(struct drv *t, uint64_t size)
{
	struct stat st;
	assert_int_equal(fstat(t->fd, &st), 0);
	assert_int_equal((uint64_t)st.st_size, size);
}

/* A good read after whatever came before: the device still serves. */
static void assert_still_serves(struct drv *t)
{
	uint8_t buf[1024];
	uint32_t used = 0;
	assert_int_equal(req(t, VIRTIO_BLK_T_IN, 3, buf, sizeof(buf), true, &used), VIRTIO_BLK_S_OK);
	assert_int_equal(used, sizeof(buf) + 1);
	for (unsigned i = 0; i < sizeof(buf); i++)
		assert_int_equal(buf[i], pat(3 * 512 + i));
}

/* ------------------------------------------------------------------ */
/* features, config */

static void test_blk_features_and_config(void **state)
{
	(void)state;
	struct drv *t = setup();
	uint64_t f = vdev_features(&t->v);
	assert_true(f & (1ULL << VIRTIO_F_VERSION_1));
	assert_true(f & (1ULL << VIRTIO_BLK_F_FLUSH));
	assert_true(f & (1ULL << VIRTIO_BLK_F_SEG_MAX));
	assert_true(f & (1ULL << VIRTIO_BLK_F_SIZE_MAX));
	assert_true(f & (1ULL << VIRTIO_BLK_F_DISCARD));
	assert_true(f & (1ULL << VIRTIO_BLK_F_WRITE_ZEROES));
	assert_false(f & (1ULL << VIRTIO_BLK_F_RO));
	assert_false(f & (1ULL << VIRTIO_BLK_F_MQ));
	assert_false(f & (1ULL << VIRTIO_BLK_F_CONFIG_WCE));

	struct virtio_blk_config c;
	uint8_t *p = (uint8_t *)&c;
	memset(&c, 0, sizeof(c));
	/* Read the config space in odd pieces, as a driver may. */
	for (uint32_t off = 0; off < 60; off += 4)
		virtio_mmio_io(t->d, VIRTIO_MMIO_CONFIG + off, p + off, 4, false);
	assert_int_equal(c.capacity, FILE_SECTORS);
	assert_int_equal(c.seg_max, BLK_SEG_MAX);
	assert_int_equal(c.size_max, BLK_SIZE_MAX);
	assert_int_equal(c.max_discard_seg, BLK_DWZ_SEG_MAX);
	assert_int_equal(c.max_discard_sectors, BLK_DISCARD_SECTORS_MAX);
	assert_int_equal(c.max_write_zeroes_seg, BLK_DWZ_SEG_MAX);
	assert_int_equal(c.max_write_zeroes_sectors, BLK_WZ_SECTORS_MAX);
	assert_int_equal(c.write_zeroes_may_unmap, 1);
	assert_int_equal(c.unused, 0);
	assert_true(all_bytes(c.unused1, sizeof(c.unused1), 0));
	uint64_t cap = 0;
	virtio_mmio_io(t->d, VIRTIO_MMIO_CONFIG, (uint8_t *)&cap, 8, false);
	assert_int_equal(cap, FILE_SECTORS);
	/* Beyond the config space: all ones; writes are ignored. */
	uint32_t v = 0;
	virtio_mmio_io(t->d, VIRTIO_MMIO_CONFIG + 60, (uint8_t *)&v, 4, false);
	assert_int_equal(v, 0xffffffff);
	v = 0;
	virtio_mmio_io(t->d, VIRTIO_MMIO_CONFIG, (uint8_t *)&v, 4, true);
	virtio_mmio_io(t->d, VIRTIO_MMIO_CONFIG, (uint8_t *)&cap, 8, false);
	assert_int_equal(cap, FILE_SECTORS);
	teardown(t);

	/* Read-only: RO offered, discard / write zeroes not. */
	t = setup_opts(",ro", FILE_SECTORS, ALL_FEATURES);
	f = vdev_features(&t->v);
	assert_true(f & (1ULL << VIRTIO_BLK_F_RO));
	assert_true(f & (1ULL << VIRTIO_BLK_F_FLUSH));
	assert_false(f & (1ULL << VIRTIO_BLK_F_DISCARD));
	assert_false(f & (1ULL << VIRTIO_BLK_F_WRITE_ZEROES));
	teardown(t);
}

/* ------------------------------------------------------------------ */
/* round trips */

static void test_blk_read_write(void **state)
{
	(void)state;
	struct drv *t = setup();
	const struct blk_stats *st = blk_get_stats(t->d);
	uint8_t buf[4096], got[4096];
	uint32_t used;

	/* Read sectors 3-4. */
	assert_int_equal(req(t, VIRTIO_BLK_T_IN, 3, got, 1024, true, &used), VIRTIO_BLK_S_OK);
	assert_int_equal(used, 1025);
	for (unsigned i = 0; i < 1024; i++)
		assert_int_equal(got[i], pat(3 * 512 + i));
	/* The last sector. */
	assert_int_equal(req(t, VIRTIO_BLK_T_IN, FILE_SECTORS - 1, got, 512, true, &used), VIRTIO_BLK_S_OK);
	for (unsigned i = 0; i < 512; i++)
		assert_int_equal(got[i], pat((FILE_SECTORS - 1) * 512 + i));

	/* Write 3 sectors at 10; the file has them, neighbours intact. */
	for (unsigned i = 0; i < 1536; i++)
		buf[i] = (uint8_t)(0xa5 ^ i);
	assert_int_equal(req(t, VIRTIO_BLK_T_OUT, 10, buf, 1536, false, &used), VIRTIO_BLK_S_OK);
	assert_int_equal(used, 1);
	assert_file(t, 10 * 512, 1536, buf);
	assert_file(t, 9 * 512, 512, NULL);
	assert_file(t, 13 * 512, 512, NULL);
	assert_file_size(t, FILE_SECTORS * 512);
	/* And reads return what was written. */
	assert_int_equal(req(t, VIRTIO_BLK_T_IN, 10, got, 1536, true, NULL), VIRTIO_BLK_S_OK);
	assert_memory_equal(got, buf, 1536);
	/* A zero-length read is a no-op that succeeds. */
	assert_int_equal(req(t, VIRTIO_BLK_T_IN, 0, NULL, 0, true, &used), VIRTIO_BLK_S_OK);
	assert_int_equal(used, 1);
	assert_int_equal(st->reads, 4);
	assert_int_equal(st->writes, 1);
	assert_int_equal(st->ioerr + st->unsupp + st->bad_chains, 0);
	assert_true(t->v.irqs >= 5); /* every completion interrupts (no suppression asked) */
	teardown(t);
}

/* Data scattered over several descriptors, a header split in two, data
 * and status sharing one buffer, and an indirect table. */
static void test_blk_scatter_gather(void **state)
{
	(void)state;
	struct drv *t = setup();
	/* IN: header in 2 pieces, data in 3 (512 + 1024 + 512), status. */
	put_hdr(t, HDR, VIRTIO_BLK_T_IN, 4);
	t->gm.host[STATUS] = 0xee;
	struct vq_seg s[] = {
		{ HDR, 8, false }, { HDR + 8, 8, false },
		{ DATA, 512, true }, { DATA2, 1024, true }, { DATA + 0x8000, 512, true },
		{ STATUS, 1, true },
	};
	assert_int_equal(submit(t, s, 6), 2049);
	assert_int_equal(status_at(t, STATUS), VIRTIO_BLK_S_OK);
	for (unsigned i = 0; i < 512; i++) {
		assert_int_equal(t->gm.host[DATA + i], pat(4 * 512 + i));
		assert_int_equal(t->gm.host[DATA + 0x8000 + i], pat(7 * 512 + i));
	}
	for (unsigned i = 0; i < 1024; i++)
		assert_int_equal(t->gm.host[DATA2 + i], pat(5 * 512 + i));

	/* OUT: data in 2 pieces. */
	memset(t->gm.host + DATA, 0x11, 512);
	memset(t->gm.host + DATA2, 0x22, 512);
	put_hdr(t, HDR, VIRTIO_BLK_T_OUT, 20);
	struct vq_seg w[] = { { HDR, 16, false }, { DATA, 512, false }, { DATA2, 512, false }, { STATUS, 1, true } };
	assert_int_equal(submit(t, w, 4), 1);
	assert_int_equal(status_at(t, STATUS), VIRTIO_BLK_S_OK);
	uint8_t want[1024];
	memset(want, 0x11, 512);
	memset(want + 512, 0x22, 512);
	assert_file(t, 20 * 512, 1024, want);

	/* IN: the status byte is the last byte of the data buffer. */
	put_hdr(t, HDR, VIRTIO_BLK_T_IN, 6);
	t->gm.host[DATA + 512] = 0xee;
	struct vq_seg one[] = { { HDR, 16, false }, { DATA, 513, true } };
	assert_int_equal(submit(t, one, 2), 513);
	assert_int_equal(status_at(t, DATA + 512), VIRTIO_BLK_S_OK);
	for (unsigned i = 0; i < 512; i++)
		assert_int_equal(t->gm.host[DATA + i], pat(6 * 512 + i));

	/* Indirect: the whole request in a table. */
	put_hdr(t, HDR, VIRTIO_BLK_T_IN, 8);
	t->gm.host[STATUS] = 0xee;
	struct vq_seg ind[] = { { HDR, 16, false }, { DATA, 512, true }, { STATUS, 1, true } };
	vq_write_chain(&t->gm, IND, 0, ind, 3);
	vq_table_desc(&t->gm, DESC, 0, IND, 3 * 16, VRING_DESC_F_INDIRECT, 0);
	vq_offer(rq(t), 0);
	vdev_kick(&t->v, 0);
	assert_int_equal(take_used(t, 0), 513);
	assert_int_equal(status_at(t, STATUS), VIRTIO_BLK_S_OK);
	for (unsigned i = 0; i < 512; i++)
		assert_int_equal(t->gm.host[DATA + i], pat(8 * 512 + i));
	teardown(t);
}

static void test_blk_flush(void **state)
{
	(void)state;
	struct drv *t = setup();
	uint32_t used = 0;
	uint8_t buf[512] = { 1 };
	assert_int_equal(req(t, VIRTIO_BLK_T_OUT, 2, buf, 512, false, NULL), VIRTIO_BLK_S_OK);
	assert_int_equal(req(t, VIRTIO_BLK_T_FLUSH, 0, NULL, 0, false, &used), VIRTIO_BLK_S_OK);
	assert_int_equal(used, 1);
	assert_int_equal(blk_get_stats(t->d)->flushes, 1);
	assert_file(t, 2 * 512, 512, buf);
	/* A flush carrying data in either direction is malformed. */
	assert_int_equal(req(t, VIRTIO_BLK_T_FLUSH, 0, buf, 512, false, NULL), VIRTIO_BLK_S_IOERR);
	assert_int_equal(req(t, VIRTIO_BLK_T_FLUSH, 0, buf, 512, true, NULL), VIRTIO_BLK_S_IOERR);
	assert_still_serves(t);
	teardown(t);
}

static void get_id(struct drv *t, uint32_t len, char *out, uint32_t *used)
{
	assert_int_equal(req(t, VIRTIO_BLK_T_GET_ID, 0, out, len, true, used), VIRTIO_BLK_S_OK);
}

static void test_blk_get_id(void **state)
{
	(void)state;
	char id[32];
	uint32_t used;
	/* Default: the file name, "sandbox-blk-XXXXXX" (18 bytes), NUL-padded. */
	struct drv *t = setup();
	const char *base = strrchr(t->path, '/') + 1;
	assert_int_equal(strlen(base), 18);
	get_id(t, 20, id, &used);
	assert_int_equal(used, 21);
	assert_memory_equal(id, base, 18);
	assert_int_equal(id[18], 0);
	assert_int_equal(id[19], 0);
	assert_string_equal(blk_id(t->d), base);
	/* A smaller buffer gets the first bytes; a larger one 20 bytes. */
	get_id(t, 8, id, &used);
	assert_int_equal(used, 9);
	assert_memory_equal(id, base, 8);
	memset(id, 0x7f, sizeof(id));
	get_id(t, 32, id, &used);
	assert_int_equal(used, 21);
	assert_int_equal(blk_get_stats(t->d)->get_ids, 3);
	/* GET_ID with readable data, or with no room: IOERR. */
	assert_int_equal(req(t, VIRTIO_BLK_T_GET_ID, 0, id, 20, false, NULL), VIRTIO_BLK_S_IOERR);
	assert_int_equal(req(t, VIRTIO_BLK_T_GET_ID, 0, NULL, 0, true, NULL), VIRTIO_BLK_S_IOERR);
	teardown(t);

	/* id= given, shorter than 20. */
	t = setup_opts(",id=disk-1", FILE_SECTORS, ALL_FEATURES);
	get_id(t, 20, id, &used);
	assert_memory_equal(id, "disk-1\0\0\0\0\0\0\0\0\0\0\0\0\0\0", 20);
	teardown(t);

	/* Exactly 20: no terminator. */
	t = setup_opts(",ro,id=abcdefghij0123456789", FILE_SECTORS, ALL_FEATURES);
	memset(id, 0x7f, sizeof(id));
	get_id(t, 21, id, &used);
	assert_int_equal(used, 21);
	assert_memory_equal(id, "abcdefghij0123456789", 20);
	assert_int_equal((uint8_t)id[20], 0xdd); /* the 21st byte is not touched */
	teardown(t);

	/* A long file name is cut to 20 bytes. */
	t = calloc(1, sizeof(*t));
	make_file(t, "sandbox-blk-a-rather-long-file-name-", 8);
	struct guest_mem gm;
	test_gm_alloc(&gm, GM_SIZE, 0);
	struct err e;
	struct virtio_dev *d = blk_create_spec(t->path, &gm, &e);
	assert_non_null(d);
	assert_string_equal(blk_id(d), "sandbox-blk-a-rather");
	blk_destroy(d);
	test_gm_release(&gm);
	close(t->fd);
	unlink(t->path);
	free(t);
}

static void test_blk_read_only(void **state)
{
	(void)state;
	struct drv *t = setup_opts(",ro", FILE_SECTORS, ALL_FEATURES);
	uint8_t buf[1024];
	memset(buf, 0x5a, sizeof(buf));
	assert_int_equal(req(t, VIRTIO_BLK_T_OUT, 0, buf, 1024, false, NULL), VIRTIO_BLK_S_IOERR);
	assert_int_equal(req(t, VIRTIO_BLK_T_OUT, 100, buf, 512, false, NULL), VIRTIO_BLK_S_IOERR);
	assert_file(t, 0, FILE_SECTORS * 512, NULL);
	assert_int_equal(blk_get_stats(t->d)->writes, 0); /* refused before the file (opened O_RDONLY anyway) */
	/* Discard / write zeroes were not offered. */
	struct virtio_blk_discard_write_zeroes seg = { .sector = 0, .num_sectors = 8, .flags = 0 };
	assert_int_equal(req(t, VIRTIO_BLK_T_DISCARD, 0, &seg, 16, false, NULL), VIRTIO_BLK_S_UNSUPP);
	assert_int_equal(req(t, VIRTIO_BLK_T_WRITE_ZEROES, 0, &seg, 16, false, NULL), VIRTIO_BLK_S_UNSUPP);
	assert_file(t, 0, FILE_SECTORS * 512, NULL);
	/* Reads, flushes and GET_ID work. */
	assert_still_serves(t);
	assert_int_equal(req(t, VIRTIO_BLK_T_FLUSH, 0, NULL, 0, false, NULL), VIRTIO_BLK_S_OK);
	char id[20];
	get_id(t, 20, id, NULL);
	teardown(t);
}

/* ------------------------------------------------------------------ */
/* hostile requests: each fails alone */

/* Chains the virtqueue layer rejects: completed with length 0 and no
 * status written (there is no trustworthy status byte). */
static void test_blk_bad_chains(void **state)
{
	(void)state;
	struct drv *t = setup();
	const struct blk_stats *st = blk_get_stats(t->d);
	uint64_t bad = 0;
	put_hdr(t, HDR, VIRTIO_BLK_T_IN, 0);

	/* A descriptor loop: 0 -> 1 -> 0. */
	vq_table_desc(&t->gm, DESC, 0, HDR, 16, VRING_DESC_F_NEXT, 1);
	vq_table_desc(&t->gm, DESC, 1, STATUS, 1, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 0);
	t->gm.host[STATUS] = 0xee;
	vq_offer(rq(t), 0);
	vdev_kick(&t->v, 0);
	assert_int_equal(take_used(t, 0), 0);
	assert_int_equal(status_at(t, STATUS), 0xee);
	assert_int_equal(st->bad_chains, ++bad);
	assert_still_serves(t);

	/* A self-loop. */
	vq_table_desc(&t->gm, DESC, 0, HDR, 16, VRING_DESC_F_NEXT, 0);
	vq_offer(rq(t), 0);
	vdev_kick(&t->v, 0);
	assert_int_equal(take_used(t, 0), 0);
	assert_int_equal(st->bad_chains, ++bad);
	assert_still_serves(t);

	/* A next index beyond the table. */
	vq_table_desc(&t->gm, DESC, 0, HDR, 16, VRING_DESC_F_NEXT, 200);
	vq_offer(rq(t), 0);
	vdev_kick(&t->v, 0);
	assert_int_equal(take_used(t, 0), 0);
	assert_int_equal(st->bad_chains, ++bad);
	assert_still_serves(t);

	/* Buffers outside guest memory, or wrapping the address space. */
	static const uint64_t addrs[] = { GM_SIZE - 256, GM_SIZE, 0xd0000000ULL, UINT64_MAX - 100, UINT64_MAX };
	for (size_t i = 0; i < ARRAY_SIZE(addrs); i++) {
		struct vq_seg s[] = { { HDR, 16, false }, { addrs[i], 512, true }, { STATUS, 1, true } };
		t->gm.host[STATUS] = 0xee;
		assert_int_equal(submit(t, s, 3), 0);
		assert_int_equal(status_at(t, STATUS), 0xee);
		assert_int_equal(st->bad_chains, ++bad);
		assert_still_serves(t);
	}
	/* The header itself outside memory. */
	struct vq_seg oob_hdr[] = { { GM_SIZE - 8, 16, false }, { STATUS, 1, true } };
	assert_int_equal(submit(t, oob_hdr, 2), 0);
	assert_int_equal(st->bad_chains, ++bad);

	/* Zero-length and huge buffers. */
	static const uint32_t lens[] = { 0, 0x80000000U, 0xffffffffU, GM_SIZE - DATA + 1 };
	for (size_t i = 0; i < ARRAY_SIZE(lens); i++) {
		struct vq_seg s[] = { { HDR, 16, false }, { DATA, lens[i], true }, { STATUS, 1, true } };
		t->gm.host[STATUS] = 0xee;
		assert_int_equal(submit(t, s, 3), 0);
		assert_int_equal(status_at(t, STATUS), 0xee);
		assert_int_equal(st->bad_chains, ++bad);
		assert_still_serves(t);
	}

	/* The status byte in a readable buffer (no writable byte at all):
	 * nothing is written, not even into the "status" byte. */
	for (uint32_t type = 0; type < 2; type++) {
		put_hdr(t, HDR, type, 0);
		struct vq_seg s[] = { { HDR, 16, false }, { DATA, 512, false }, { STATUS, 1, false } };
		memset(t->gm.host + DATA, 0x33, 512);
		t->gm.host[STATUS] = 0xee;
		assert_int_equal(submit(t, s, 3), 0);
		assert_int_equal(status_at(t, STATUS), 0xee);
		assert_int_equal(st->bad_chains, ++bad);
		assert_file(t, 0, 1024, NULL);
		assert_still_serves(t);
	}

	/* A readable buffer after a writable one. */
	put_hdr(t, HDR, VIRTIO_BLK_T_OUT, 0);
	struct vq_seg order[] = { { HDR, 16, false }, { STATUS, 1, true }, { DATA, 512, false } };
	assert_int_equal(submit(t, order, 3), 0);
	assert_int_equal(st->bad_chains, ++bad);
	assert_file(t, 0, 1024, NULL);

	/* An indirect descriptor without VIRTIO_RING_F_INDIRECT_DESC. */
	drv_init(t, ALL_FEATURES & ~(1ULL << VIRTIO_RING_F_INDIRECT_DESC), 16);
	struct vq_seg ind[] = { { HDR, 16, false }, { DATA, 512, true }, { STATUS, 1, true } };
	vq_write_chain(&t->gm, IND, 0, ind, 3);
	vq_table_desc(&t->gm, DESC, 0, IND, 48, VRING_DESC_F_INDIRECT, 0);
	vq_offer(rq(t), 0);
	vdev_kick(&t->v, 0);
	assert_int_equal(take_used(t, 0), 0);
	assert_int_equal(st->bad_chains, ++bad);
	assert_still_serves(t);

	/* Indirect negotiated, but a nested table, a table with a loop, a
	 * table of odd length, an indirect descriptor chained to another. */
	drv_init(t, ALL_FEATURES, 16);
	vq_write_chain(&t->gm, IND, 0, ind, 3);
	vq_table_desc(&t->gm, IND, 1, IND, 48, VRING_DESC_F_INDIRECT | VRING_DESC_F_NEXT, 2);
	vq_table_desc(&t->gm, DESC, 0, IND, 48, VRING_DESC_F_INDIRECT, 0);
	vq_offer(rq(t), 0);
	vdev_kick(&t->v, 0);
	assert_int_equal(take_used(t, 0), 0);
	vq_write_chain(&t->gm, IND, 0, ind, 3);
	vq_table_desc(&t->gm, IND, 2, STATUS, 1, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1);
	vq_offer(rq(t), 0);
	vdev_kick(&t->v, 0);
	assert_int_equal(take_used(t, 0), 0);
	vq_write_chain(&t->gm, IND, 0, ind, 3);
	vq_table_desc(&t->gm, DESC, 0, IND, 47, VRING_DESC_F_INDIRECT, 0);
	vq_offer(rq(t), 0);
	vdev_kick(&t->v, 0);
	assert_int_equal(take_used(t, 0), 0);
	vq_table_desc(&t->gm, DESC, 0, IND, 48, VRING_DESC_F_INDIRECT | VRING_DESC_F_NEXT, 1);
	vq_table_desc(&t->gm, DESC, 1, STATUS, 1, VRING_DESC_F_WRITE, 0);
	vq_offer(rq(t), 0);
	vdev_kick(&t->v, 0);
	assert_int_equal(take_used(t, 0), 0);
	bad += 4;
	assert_int_equal(st->bad_chains, bad);
	assert_still_serves(t);
	assert_int_equal(st->ioerr + st->unsupp, 0);
	assert_file(t, 0, FILE_SECTORS * 512, NULL);
	teardown(t);
}

/* Well-formed chains with bad requests in them: IOERR or UNSUPP in the
 * status byte, nothing done to the file. */
static void test_blk_bad_requests(void **state)
{
	(void)state;
	struct drv *t = setup();
	const struct blk_stats *st = blk_get_stats(t->d);
	uint8_t buf[2048];
	memset(buf, 0x77, sizeof(buf));
	uint32_t used;

	/* The header in a writable buffer: no readable part at all. */
	put_hdr(t, HDR, VIRTIO_BLK_T_IN, 0);
	t->gm.host[STATUS] = 0xee;
	struct vq_seg wh[] = { { HDR, 16, true }, { DATA, 512, true }, { STATUS, 1, true } };
	assert_int_equal(submit(t, wh, 3), 1);
	assert_int_equal(status_at(t, STATUS), VIRTIO_BLK_S_IOERR);
	assert_still_serves(t);
	/* A short header (8 of 16 bytes readable). */
	put_hdr(t, HDR, VIRTIO_BLK_T_OUT, 0);
	memcpy(t->gm.host + DATA, buf, 512);
	struct vq_seg sh[] = { { HDR, 8, false }, { STATUS, 1, true } };
	assert_int_equal(submit(t, sh, 2), 1);
	assert_int_equal(status_at(t, STATUS), VIRTIO_BLK_S_IOERR);
	assert_still_serves(t);

	/* Sector ranges outside the disk; the file never grows. */
	static const struct { uint64_t sector; uint32_t len; } ranges[] = {
		{ FILE_SECTORS, 512 },                    /* just past the end */
		{ FILE_SECTORS - 1, 1024 },               /* straddles the end */
		{ FILE_SECTORS + 1, 0 },                  /* empty, but beyond */
		{ 1ULL << 40, 512 },
		{ UINT64_MAX / 512 + 1, 512 },            /* sector * 512 wraps to 0 */
		{ (UINT64_MAX / 512) * 2, 1024 },         /* wraps to a small offset */
		{ 1ULL << 63, 512 },
		{ UINT64_MAX, 512 },                      /* sector + n wraps */
		{ UINT64_MAX - 1, 1024 },
	};
	for (size_t i = 0; i < ARRAY_SIZE(ranges); i++) {
		assert_int_equal(req(t, VIRTIO_BLK_T_IN, ranges[i].sector, buf, ranges[i].len, true, &used),
				 VIRTIO_BLK_S_IOERR);
		assert_int_equal(used, 1);
		memset(buf, 0x77, sizeof(buf));
		assert_int_equal(req(t, VIRTIO_BLK_T_OUT, ranges[i].sector, buf, ranges[i].len, false, &used),
				 VIRTIO_BLK_S_IOERR);
		assert_int_equal(used, 1);
		assert_still_serves(t);
	}
	assert_file_size(t, FILE_SECTORS * 512);
	assert_file(t, 0, FILE_SECTORS * 512, NULL);

	/* Lengths that are not whole sectors. */
	static const uint32_t lens[] = { 1, 100, 511, 513, 1000 };
	for (size_t i = 0; i < ARRAY_SIZE(lens); i++) {
		assert_int_equal(req(t, VIRTIO_BLK_T_IN, 0, buf, lens[i], true, NULL), VIRTIO_BLK_S_IOERR);
		assert_int_equal(req(t, VIRTIO_BLK_T_OUT, 0, buf, lens[i], false, NULL), VIRTIO_BLK_S_IOERR);
	}
	assert_file(t, 0, FILE_SECTORS * 512, NULL);
	assert_still_serves(t);

	/* Data direction against the type: a read with readable data, a
	 * write with writable data. */
	assert_int_equal(req(t, VIRTIO_BLK_T_IN, 0, buf, 512, false, NULL), VIRTIO_BLK_S_IOERR);
	assert_int_equal(req(t, VIRTIO_BLK_T_OUT, 0, buf, 512, true, NULL), VIRTIO_BLK_S_IOERR);
	put_hdr(t, HDR, VIRTIO_BLK_T_IN, 0);
	struct vq_seg both[] = { { HDR, 16, false }, { DATA, 512, false }, { DATA2, 512, true }, { STATUS, 1, true } };
	assert_int_equal(submit(t, both, 4), 1);
	assert_int_equal(status_at(t, STATUS), VIRTIO_BLK_S_IOERR);
	put_hdr(t, HDR, VIRTIO_BLK_T_OUT, 0);
	assert_int_equal(submit(t, both, 4), 1);
	assert_int_equal(status_at(t, STATUS), VIRTIO_BLK_S_IOERR);
	assert_file(t, 0, FILE_SECTORS * 512, NULL);
	assert_still_serves(t);

	/* Unknown or unsupported types. */
	static const uint32_t types[] = { 2, 3, 5, 10, 14, 16, 99, 0x80000000U, 0x80000001U, 0xffffffffU };
	for (size_t i = 0; i < ARRAY_SIZE(types); i++) {
		assert_int_equal(req(t, types[i], 0, buf, 512, true, &used), VIRTIO_BLK_S_UNSUPP);
		assert_int_equal(used, 1);
		assert_int_equal(req(t, types[i], 0, NULL, 0, true, NULL), VIRTIO_BLK_S_UNSUPP);
	}
	assert_int_equal(st->unsupp, 2 * ARRAY_SIZE(types));
	assert_file(t, 0, FILE_SECTORS * 512, NULL);
	assert_still_serves(t);
	assert_int_equal(st->bad_chains, 0);
	teardown(t);
}

/* Requests over BLK_MAX_DATA fail; exactly BLK_MAX_DATA works. Built from
 * 1 MiB descriptors in an indirect table all pointing at one buffer. */
static void test_blk_request_size_limit(void **state)
{
	(void)state;
	struct drv *t = calloc(1, sizeof(*t));
	test_gm_alloc(&t->gm, GM_SIZE, 0);
	make_file(t, "sandbox-blk-big-", 8);
	assert_int_equal(ftruncate(t->fd, (off_t)(512 * MIB)), 0); /* sparse */
	struct err e;
	t->d = blk_create_spec(t->path, &t->gm, &e);
	assert_non_null(t->d);
	vdev_attach(&t->v, t->d, &t->gm, NULL);
	drv_init(t, ALL_FEATURES, 16);
	for (unsigned extra = 0; extra < 2; extra++) {
		unsigned n = BLK_SEG_MAX + extra;
		put_hdr(t, HDR, VIRTIO_BLK_T_IN, 1024);
		vq_table_desc(&t->gm, IND, 0, HDR, 16, VRING_DESC_F_NEXT, 1);
		for (unsigned i = 1; i <= n; i++)
			vq_table_desc(&t->gm, IND, i, DATA, BLK_SIZE_MAX, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, (uint16_t)(i + 1));
		vq_table_desc(&t->gm, IND, n + 1, STATUS, 1, VRING_DESC_F_WRITE, 0);
		vq_table_desc(&t->gm, DESC, 0, IND, 16 * (n + 2), VRING_DESC_F_INDIRECT, 0);
		t->gm.host[STATUS] = 0xee;
		vq_offer(rq(t), 0);
		vdev_kick(&t->v, 0);
		if (extra == 0) {
			assert_int_equal(take_used(t, 0), BLK_MAX_DATA + 1);
			assert_int_equal(status_at(t, STATUS), VIRTIO_BLK_S_OK);
			assert_true(all_bytes(t->gm.host + DATA, BLK_SIZE_MAX, 0)); /* sparse: zeroes */
		} else {
			assert_int_equal(take_used(t, 0), 1);
			assert_int_equal(status_at(t, STATUS), VIRTIO_BLK_S_IOERR);
		}
	}
	teardown(t);
}

/* ------------------------------------------------------------------ */
/* rings */

/* The avail index wraps from 65535 to 0: requests keep flowing. */
static void test_blk_avail_index_wraps(void **state)
{
	(void)state;
	struct drv *t = setup();
	/* Put both sides just before the wrap (as after 65534 requests). */
	t->d->vq[0].last_avail = t->d->vq[0].used_idx = 65534;
	vq_start_at(rq(t), 65534);
	for (int i = 0; i < 5; i++)
		assert_still_serves(t);
	assert_int_equal(rq(t)->avail_idx, 3);
	assert_int_equal(vq_used_idx(rq(t)), 3);
	/* Several at once across the wrap, with one notify. */
	for (uint16_t i = 0; i < 4; i++) {
		put_hdr(t, HDR + 32 * i, VIRTIO_BLK_T_IN, i);
		struct vq_seg s[] = { { HDR + 32 * i, 16, false }, { DATA + 512 * i, 512, true }, { STATUS + i, 1, true } };
		vq_write_chain(&t->gm, DESC, 3 * i, s, 3);
	}
	t->d->vq[0].last_avail = t->d->vq[0].used_idx = 65534;
	vq_start_at(rq(t), 65534);
	for (uint16_t i = 0; i < 4; i++)
		vq_offer(rq(t), (uint16_t)(3 * i));
	vdev_kick(&t->v, 0);
	for (uint16_t i = 0; i < 4; i++) {
		assert_int_equal(take_used(t, (uint16_t)(3 * i)), 513);
		assert_int_equal(status_at(t, STATUS + i), VIRTIO_BLK_S_OK);
		assert_int_equal(t->gm.host[DATA + 512 * i], pat(512ULL * i));
	}
	teardown(t);
}

/* A malformed ring (avail index too far ahead, a head out of range) stops
 * the queue and asks for a reset; after the driver resets, it works. */
static void test_blk_broken_ring_needs_reset(void **state)
{
	(void)state;
	struct drv *t = setup();
	for (int kind = 0; kind < 2; kind++) {
		struct vq *q = rq(t);
		if (kind == 0) {
			vq_publish(q, (uint16_t)(q->avail_idx + 17)); /* 17 > queue size 16 */
		} else {
			vq_put_avail(q, q->avail_idx, 16);             /* head == num */
			vq_publish(q, (uint16_t)(q->avail_idx + 1));
		}
		unsigned irqs = t->v.irqs;
		vdev_kick(&t->v, 0);
		assert_int_equal(vq_pending(q), 0); /* nothing completed */
		assert_true(vdev_rd(&t->v, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET);
		assert_true(vdev_rd(&t->v, VIRTIO_MMIO_INTERRUPT_STATUS) & VIRTIO_MMIO_INT_CONFIG);
		assert_int_equal(t->v.irqs, irqs + 1);
		/* Further kicks do nothing until the reset. */
		vdev_kick(&t->v, 0);
		assert_int_equal(vq_pending(q), 0);
		drv_init(t, ALL_FEATURES, 16); /* writes status 0 first */
		assert_false(vdev_rd(&t->v, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET);
		assert_still_serves(t);
	}
	teardown(t);
}

/* More requests than one batch: the device yields (re-kicks itself) and
 * finishes them on the next round. */
static void test_blk_batches(void **state)
{
	(void)state;
	struct drv *t = setup();
	drv_init(t, ALL_FEATURES, 256);
	/* One descriptor per request, pointing at its own indirect table. */
	const unsigned n = BLK_BATCH * 2 + 10;
	for (unsigned i = 0; i < n; i++) {
		put_hdr(t, DATA2 + 32 * i, VIRTIO_BLK_T_GET_ID, 0);
		vq_table_desc(&t->gm, IND, 2 * i, DATA2 + 32 * i, 16, VRING_DESC_F_NEXT, 1); /* next: in its table */
		vq_table_desc(&t->gm, IND, 2 * i + 1, DATA + 32 * i, 21, VRING_DESC_F_WRITE, 0);
		vq_table_desc(&t->gm, DESC, i, IND + 32 * i, 32, VRING_DESC_F_INDIRECT, 0);
		vq_offer(rq(t), (uint16_t)i);
	}
	t->v.kicks = 0;
	vdev_kick(&t->v, 0);
	assert_int_equal(t->v.kicks, 3); /* the driver's, and two of the device's own */
	for (unsigned i = 0; i < n; i++) {
		assert_int_equal(take_used(t, (uint16_t)i), 21);
		assert_int_equal(t->gm.host[DATA + 32 * i + 20], VIRTIO_BLK_S_OK);
	}
	assert_int_equal(blk_get_stats(t->d)->get_ids, n);
	teardown(t);
}

/* Interrupt suppression: VRING_AVAIL_F_NO_INTERRUPT, and with event idx
 * the used_event index; the device publishes avail_event. */
static void test_blk_notification_suppression(void **state)
{
	(void)state;
	struct drv *t = setup();
	vq_set_avail_flags(rq(t), VRING_AVAIL_F_NO_INTERRUPT);
	unsigned irqs = t->v.irqs;
	assert_still_serves(t);
	assert_int_equal(t->v.irqs, irqs);
	vq_set_avail_flags(rq(t), 0);
	assert_still_serves(t);
	assert_int_equal(t->v.irqs, irqs + 1);

	drv_init(t, ALL_FEATURES | (1ULL << VIRTIO_RING_F_EVENT_IDX), 16);
	irqs = t->v.irqs;
	assert_still_serves(t);            /* first completion: always */
	assert_int_equal(t->v.irqs, irqs + 1);
	assert_int_equal(vq_avail_event(rq(t)), 1); /* kick me when you add entry 1 */
	vq_set_used_event(rq(t), 5);       /* interrupt when used passes 5 */
	for (int i = 0; i < 4; i++)
		assert_still_serves(t);    /* used idx 2..5: entries 1..4 */
	assert_int_equal(t->v.irqs, irqs + 1);
	assert_still_serves(t);            /* entry 5 */
	assert_int_equal(t->v.irqs, irqs + 2);
	assert_int_equal(vq_avail_event(rq(t)), 6);
	teardown(t);
}

static void test_blk_reset(void **state)
{
	(void)state;
	struct drv *t = setup();
	uint8_t buf[512];
	memset(buf, 0x42, sizeof(buf));
	assert_int_equal(req(t, VIRTIO_BLK_T_OUT, 1, buf, 512, false, NULL), VIRTIO_BLK_S_OK);
	vdev_wr(&t->v, VIRTIO_MMIO_STATUS, 0);
	assert_int_equal(vdev_rd(&t->v, VIRTIO_MMIO_STATUS), 0);
	assert_int_equal(vdev_rd(&t->v, VIRTIO_MMIO_QUEUE_READY), 0);
	/* A kick on a reset device does nothing. */
	vq_offer(rq(t), 0);
	vdev_kick(&t->v, 0);
	assert_int_equal(vq_pending(rq(t)), 0);
	drv_init(t, ALL_FEATURES, 16);
	uint8_t got[512];
	assert_int_equal(req(t, VIRTIO_BLK_T_IN, 1, got, 512, true, NULL), VIRTIO_BLK_S_OK);
	assert_memory_equal(got, buf, 512);
	assert_still_serves(t);
	teardown(t);
}

/* ------------------------------------------------------------------ */
/* discard and write zeroes */

static uint8_t dwz(struct drv *t, uint32_t type, const struct virtio_blk_discard_write_zeroes *s, unsigned n)
{
	return req(t, type, 0, (void *)s, 16 * n, false, NULL);
}

static void test_blk_discard_write_zeroes(void **state)
{
	(void)state;
	struct drv *t = setup();
	const struct blk_stats *st = blk_get_stats(t->d);
	static const uint8_t zero[BLK_DWZ_SEG_MAX * 512];
	/* Write zeroes, without and with unmap; two segments in one request. */
	struct virtio_blk_discard_write_zeroes s[BLK_DWZ_SEG_MAX + 1] = {
		{ .sector = 20, .num_sectors = 8, .flags = 0 },
		{ .sector = 40, .num_sectors = 3, .flags = VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP },
	};
	assert_int_equal(dwz(t, VIRTIO_BLK_T_WRITE_ZEROES, s, 2), VIRTIO_BLK_S_OK);
	assert_file(t, 20 * 512, 8 * 512, zero);
	assert_file(t, 40 * 512, 3 * 512, zero);
	assert_file(t, 19 * 512, 512, NULL);
	assert_file(t, 28 * 512, 12 * 512, NULL);
	assert_file(t, 43 * 512, 512, NULL);
	assert_file_size(t, FILE_SECTORS * 512);
	/* Discard: succeeds; neighbours untouched, size unchanged. */
	s[0] = (struct virtio_blk_discard_write_zeroes){ .sector = 64, .num_sectors = 16, .flags = 0 };
	assert_int_equal(dwz(t, VIRTIO_BLK_T_DISCARD, s, 1), VIRTIO_BLK_S_OK);
	assert_file(t, 63 * 512, 512, NULL);
	assert_file(t, 80 * 512, 512, NULL);
	assert_file_size(t, FILE_SECTORS * 512);
	/* Zero sectors: a no-op. */
	s[0].num_sectors = 0;
	assert_int_equal(dwz(t, VIRTIO_BLK_T_DISCARD, s, 1), VIRTIO_BLK_S_OK);
	assert_int_equal(st->write_zeroes, 1);
	assert_int_equal(st->discards, 2);

	/* Flags: unmap on a discard, unknown bits on either: UNSUPP. */
	s[0] = (struct virtio_blk_discard_write_zeroes){ .sector = 100, .num_sectors = 8, .flags = VIRTIO_BLK_WRITE_ZEROES_FLAG_UNMAP };
	assert_int_equal(dwz(t, VIRTIO_BLK_T_DISCARD, s, 1), VIRTIO_BLK_S_UNSUPP);
	s[0].flags = 2;
	assert_int_equal(dwz(t, VIRTIO_BLK_T_DISCARD, s, 1), VIRTIO_BLK_S_UNSUPP);
	assert_int_equal(dwz(t, VIRTIO_BLK_T_WRITE_ZEROES, s, 1), VIRTIO_BLK_S_UNSUPP);
	s[0].flags = 0x80000001U;
	assert_int_equal(dwz(t, VIRTIO_BLK_T_WRITE_ZEROES, s, 1), VIRTIO_BLK_S_UNSUPP);
	/* Ranges: beyond the disk, wrapping, over the per-segment limit. A bad
	 * second segment fails the request before the first is carried out. */
	s[0] = (struct virtio_blk_discard_write_zeroes){ .sector = 100, .num_sectors = 8, .flags = 0 };
	s[1] = (struct virtio_blk_discard_write_zeroes){ .sector = FILE_SECTORS - 4, .num_sectors = 8, .flags = 0 };
	assert_int_equal(dwz(t, VIRTIO_BLK_T_WRITE_ZEROES, s, 2), VIRTIO_BLK_S_IOERR);
	s[1].sector = UINT64_MAX - 2;
	assert_int_equal(dwz(t, VIRTIO_BLK_T_WRITE_ZEROES, s, 2), VIRTIO_BLK_S_IOERR);
	s[1] = (struct virtio_blk_discard_write_zeroes){ .sector = 0, .num_sectors = BLK_WZ_SECTORS_MAX + 1, .flags = 0 };
	assert_int_equal(dwz(t, VIRTIO_BLK_T_WRITE_ZEROES, s, 2), VIRTIO_BLK_S_IOERR);
	s[1].flags = 4;
	assert_int_equal(dwz(t, VIRTIO_BLK_T_WRITE_ZEROES, s, 2), VIRTIO_BLK_S_UNSUPP);
	assert_file(t, 100 * 512, 8 * 512, NULL);
	/* Payload shape: none, not whole segments, too many segments, or
	 * writable instead of readable. */
	for (unsigned i = 0; i <= BLK_DWZ_SEG_MAX; i++)
		s[i] = (struct virtio_blk_discard_write_zeroes){ .sector = 100 + i, .num_sectors = 1, .flags = 0 };
	assert_int_equal(dwz(t, VIRTIO_BLK_T_WRITE_ZEROES, s, BLK_DWZ_SEG_MAX + 1), VIRTIO_BLK_S_IOERR);
	assert_int_equal(dwz(t, VIRTIO_BLK_T_DISCARD, s, 0), VIRTIO_BLK_S_IOERR);
	assert_int_equal(req(t, VIRTIO_BLK_T_WRITE_ZEROES, 0, s, 24, false, NULL), VIRTIO_BLK_S_IOERR);
	uint8_t wbuf[16];
	assert_int_equal(req(t, VIRTIO_BLK_T_WRITE_ZEROES, 0, wbuf, 16, true, NULL), VIRTIO_BLK_S_IOERR);
	assert_file(t, 100 * 512, BLK_DWZ_SEG_MAX * 512, NULL);
	/* The maximum number of segments is fine. */
	assert_int_equal(dwz(t, VIRTIO_BLK_T_WRITE_ZEROES, s, BLK_DWZ_SEG_MAX), VIRTIO_BLK_S_OK);
	assert_file(t, 100 * 512, BLK_DWZ_SEG_MAX * 512, zero);
	assert_still_serves(t);

	/* Not negotiated: UNSUPP. */
	drv_init(t, ALL_FEATURES & ~((1ULL << VIRTIO_BLK_F_DISCARD) | (1ULL << VIRTIO_BLK_F_WRITE_ZEROES)), 16);
	s[0] = (struct virtio_blk_discard_write_zeroes){ .sector = 200, .num_sectors = 8, .flags = 0 };
	assert_int_equal(dwz(t, VIRTIO_BLK_T_DISCARD, s, 1), VIRTIO_BLK_S_UNSUPP);
	assert_int_equal(dwz(t, VIRTIO_BLK_T_WRITE_ZEROES, s, 1), VIRTIO_BLK_S_UNSUPP);
	assert_file(t, 200 * 512, 8 * 512, NULL);
	teardown(t);
}

/* ------------------------------------------------------------------ */
/* --disk options */

static void expect_create_error(const char *spec, const char *needle)
{
	struct guest_mem gm;
	uint8_t buf[4096];
	gm_wrap(&gm, buf, sizeof(buf));
	struct err e = { 0 };
	struct virtio_dev *d = blk_create_spec(spec, &gm, &e);
	if (d)
		fail_msg("blk_create(%s) succeeded", spec);
	assert_err_contains(&e, needle);
	assert_null(strchr(e.msg, '\n')); /* one line */
}

static void test_blk_spec_errors(void **state)
{
	(void)state;
	struct drv f;
	make_file(&f, "sandbox-blk-spec-", 4);
	char spec[256];
	expect_create_error("", "no file name");
	expect_create_error(",ro", "no file name");
	expect_create_error("/nonexistent/disk.img", "No such file");
	expect_create_error("/tmp", "Is a directory");
	expect_create_error("/tmp,ro", "not a regular file or block device");
	expect_create_error("/dev/null", "not a regular file or block device");
	snprintf(spec, sizeof(spec), "%s,bogus", f.path);
	expect_create_error(spec, "unknown option 'bogus'");
	snprintf(spec, sizeof(spec), "%s,", f.path);
	expect_create_error(spec, "unknown option ''");
	snprintf(spec, sizeof(spec), "%s,ro,,id=x", f.path);
	expect_create_error(spec, "unknown option ''");
	snprintf(spec, sizeof(spec), "%s,RO", f.path);
	expect_create_error(spec, "unknown option 'RO'");
	snprintf(spec, sizeof(spec), "%s,id=", f.path);
	expect_create_error(spec, "id must be 1 to 20");
	snprintf(spec, sizeof(spec), "%s,id=abcdefghij0123456789x", f.path);
	expect_create_error(spec, "id must be 1 to 20");
	snprintf(spec, sizeof(spec), "%s,id=a b", f.path);
	expect_create_error(spec, "printable");
	snprintf(spec, sizeof(spec), "%s,id=caf\xc3\xa9", f.path);
	expect_create_error(spec, "printable");
	/* Not a whole number of sectors. */
	assert_int_equal(ftruncate(f.fd, 1000), 0);
	snprintf(spec, sizeof(spec), "%s,ro", f.path);
	expect_create_error(spec, "not a multiple of 512");
	/* An empty file is a disk of capacity 0. */
	assert_int_equal(ftruncate(f.fd, 0), 0);
	struct guest_mem gm;
	test_gm_alloc(&gm, GM_SIZE, 0);
	struct err e;
	struct virtio_dev *d = blk_create_spec(f.path, &gm, &e);
	assert_non_null(d);
	uint64_t cap = 1;
	virtio_mmio_io(d, VIRTIO_MMIO_CONFIG, (uint8_t *)&cap, 8, false);
	assert_int_equal(cap, 0);
	/* Locks: one writer or many readers per image. */
	assert_int_equal(ftruncate(f.fd, 4096), 0);
	expect_create_error(f.path, "in use");
	snprintf(spec, sizeof(spec), "%s,ro", f.path);
	expect_create_error(spec, "in use");
	blk_destroy(d);
	struct virtio_dev *r1 = blk_create_spec(spec, &gm, &e), *r2 = blk_create_spec(spec, &gm, &e);
	assert_non_null(r1);
	assert_non_null(r2);
	expect_create_error(f.path, "in use");
	blk_destroy(r1);
	blk_destroy(r2);
	d = blk_create_spec(f.path, &gm, &e);
	assert_non_null(d);
	blk_destroy(d);
	test_gm_release(&gm);
	close(f.fd);
	unlink(f.path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_blk_features_and_config),
		cmocka_unit_test(test_blk_read_write),
		cmocka_unit_test(test_blk_scatter_gather),
		cmocka_unit_test(test_blk_flush),
		cmocka_unit_test(test_blk_get_id),
		cmocka_unit_test(test_blk_read_only),
		cmocka_unit_test(test_blk_bad_chains),
		cmocka_unit_test(test_blk_bad_requests),
		cmocka_unit_test(test_blk_request_size_limit),
		cmocka_unit_test(test_blk_avail_index_wraps),
		cmocka_unit_test(test_blk_broken_ring_needs_reset),
		cmocka_unit_test(test_blk_batches),
		cmocka_unit_test(test_blk_notification_suppression),
		cmocka_unit_test(test_blk_reset),
		cmocka_unit_test(test_blk_discard_write_zeroes),
		cmocka_unit_test(test_blk_spec_errors),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
