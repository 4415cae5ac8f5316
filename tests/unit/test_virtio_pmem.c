/* Unit tests for virtio-pmem (vmm/devices/virtio_pmem.c), reached the way
 * the VM reaches it: through the device-module table, with a device_ctx
 * whose map_window records the window and whose attach hands the device to
 * the shared test driver. Checked: the region maps the file's bytes, zero
 * past them, rounded to 2 MiB, and can never be made writable; the config
 * space says where it is; flush requests are answered and write nothing
 * else; hostile chains are completed empty; the pure request parser; the
 * snapshot record (the window's identity): a round trip into a device made
 * again from the same file, and every corrupt field or changed file refused. */
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_pmem.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>

#include "../../vmm/arch/x86/layout.h"
#include "../../vmm/devices/modules.h"
#include "../../vmm/devices/virtio_pmem.h"
#include "virtio_driver.h"

#define MEM (1u << 20)
#define QSZ 16
#define DATA 0x10000ULL
#define FILL 0xee
#define WINDOW_GPA (4ULL << 30)

struct fx {
	struct guest_mem gm;
	struct evloop loop;
	struct vdev v;
	struct virtio_dev *d;
	char path[64];
	uint8_t *win_host;
	uint64_t win_len;
	bool win_ro;
	int windows;
	int fail_window;        /* map_window fails */
	uint64_t win_gpa;       /* where map_window puts it; 0: WINDOW_GPA */
};

static const struct device_module *pmem_module_of_table(void)
{
	for (const struct device_module *const *m = device_modules; *m; m++)
		if (!strcmp((*m)->name, "virtio-pmem"))
			return *m;
	fail_msg("no virtio-pmem in the device-module table");
	return NULL;
}

static int capture(const struct device_ctx *ctx, struct virtio_dev *d, struct err *e)
{
	(void)e;
	((struct fx *)ctx->host)->d = d;
	return 0;
}

static int map_window(const struct device_ctx *ctx, void *host, uint64_t len, bool ro, uint64_t *gpa,
		      struct err *e)
{
	struct fx *f = ctx->host;
	if (f->fail_window)
		return err_set(e, "no window today");
	f->win_host = host;
	f->win_len = len;
	f->win_ro = ro;
	f->windows++;
	*gpa = f->win_gpa ? f->win_gpa : WINDOW_GPA;
	return 0;
}

/* A file of SIZE bytes, byte i = i * 7 + 1. */
static void make_file(struct fx *f, uint64_t size)
{
	snprintf(f->path, sizeof(f->path), "/tmp/sandbox-pmem-test-XXXXXX");
	int fd = mkstemp(f->path);
	assert_true(fd >= 0);
	uint8_t buf[4096];
	for (uint64_t off = 0; off < size;) {
		size_t n = size - off < sizeof(buf) ? (size_t)(size - off) : sizeof(buf);
		for (size_t i = 0; i < n; i++)
			buf[i] = (uint8_t)((off + i) * 7 + 1);
		assert_int_equal(write(fd, buf, n), (ssize_t)n);
		off += n;
	}
	close(fd);
}

static int fx_create(struct fx *f, struct err *e)
{
	const struct device_module *m = pmem_module_of_table();
	struct vm_config c = { 0 };
	if (m->parse(f->path, &c, e))
		return -1;
	assert_true(c.has_pmem);
	struct device_ctx ctx = { .mem = &f->gm, .loop = &f->loop, .attach = capture, .map_window = map_window,
				  .host = f };
	return m->create(&ctx, &c, e);
}

static void fx_start(struct fx *f, uint64_t size)
{
	memset(f, 0, sizeof(*f));
	test_gm_alloc(&f->gm, MEM, FILL);
	struct err e = { 0 };
	assert_int_equal(evloop_init(&f->loop, &e), 0);
	make_file(f, size);
	if (fx_create(f, &e))
		fail_msg("create: %s", e.msg);
	assert_non_null(f->d);
	vdev_attach(&f->v, f->d, &f->gm, &f->loop);
	vq_init(&f->v.q[0], &f->gm, QSZ, 0x1000, 0x2000, 0x3000);
	vdev_init(&f->v, F(VIRTIO_F_VERSION_1));
}

static void fx_stop(struct fx *f)
{
	if (f->d)
		f->d->ops->destroy(f->d);
	evloop_free(&f->loop);
	test_gm_release(&f->gm);
	unlink(f->path);
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

/* A request of TYPE: 4 readable bytes at DATA, the answer at DATA + 0x100
 * (4 writable bytes): the used length, and *RET the answer. */
static uint32_t request(struct fx *f, uint32_t type, uint32_t *ret)
{
	memset(at(f, DATA), FILL, 0x1000);
	uint32_t le = htole32(type);
	memcpy(at(f, DATA), &le, 4);
	struct vq_seg s[2] = { { DATA, 4, false }, { DATA + 0x100, 4, true } };
	vq_write_chain(&f->gm, f->v.q[0].desc, 0, s, 2);
	uint32_t len = serve(f, 0);
	memcpy(ret, at(f, DATA + 0x100), 4);
	*ret = le32toh(*ret);
	/* nothing around the answer written */
	assert_true(all(at(f, DATA + 0x104), 0x1000 - 0x104, FILL));
	assert_true(all(at(f, DATA + 4), 0xfc, FILL));
	return len;
}

static void test_region(void **state)
{
	(void)state;
	struct fx f;
	uint64_t size = 3 * 1024 * 1024 + 123; /* not page aligned: the tail reads as zeroes */
	fx_start(&f, size);
	assert_int_equal(vdev_rd(&f.v, VIRTIO_MMIO_DEVICE_ID), VIRTIO_ID_PMEM);
	assert_int_equal(f.windows, 1);
	assert_true(f.win_ro);
	assert_int_equal(f.win_len, 4ULL << 20); /* rounded up to 2 MiB */
	for (uint64_t i = 0; i < size; i += 4093)
		if (f.win_host[i] != (uint8_t)(i * 7 + 1))
			fail_msg("byte %llu of the region differs from the file", (unsigned long long)i);
	assert_int_equal(f.win_host[size - 1], (uint8_t)((size - 1) * 7 + 1));
	assert_true(all(f.win_host + size, f.win_len - size, 0));
	/* The mapping can never become writable: the file's part is MAP_SHARED
	 * from an O_RDONLY descriptor. */
	assert_int_equal(mprotect(f.win_host, 4096, PROT_READ | PROT_WRITE), -1);
	assert_int_equal(errno, EACCES);
	/* The config space: where and how large. */
	uint64_t start = 0, len = 0;
	for (unsigned i = 0; i < 2; i++) {
		start |= (uint64_t)vdev_rd(&f.v, VIRTIO_MMIO_CONFIG + 4 * i) << (32 * i);
		len |= (uint64_t)vdev_rd(&f.v, VIRTIO_MMIO_CONFIG + 8 + 4 * i) << (32 * i);
	}
	assert_int_equal(start, WINDOW_GPA);
	assert_int_equal(len, 4ULL << 20);
	const struct pmem_state *st = pmem_dev_state(f.d);
	assert_non_null(st);
	assert_int_equal(st->gpa, WINDOW_GPA);
	assert_int_equal(st->size, 4ULL << 20);
	assert_int_equal(st->file_size, size);
	/* No features beyond VERSION_1 (no SHMEM_REGION). */
	assert_int_equal(vdev_features(&f.v) & 0xffffffffULL & ~F(VIRTIO_RING_F_EVENT_IDX) & ~F(VIRTIO_RING_F_INDIRECT_DESC), 0);
	fx_stop(&f);
}

static void test_flush(void **state)
{
	(void)state;
	struct fx f;
	fx_start(&f, 8192);
	uint8_t before[8192];
	memcpy(before, f.win_host, sizeof(before));
	uint32_t ret = 77;
	assert_int_equal(request(&f, VIRTIO_PMEM_REQ_TYPE_FLUSH, &ret), 4);
	assert_int_equal(ret, 0);
	assert_int_equal(request(&f, 1, &ret), 4);  /* unknown type: an error */
	assert_int_not_equal(ret, 0);
	assert_int_equal(request(&f, 0xffffffffu, &ret), 4);
	assert_int_not_equal(ret, 0);
	assert_int_equal(pmem_dev_state(f.d)->flushes, 1);
	assert_int_equal(pmem_dev_state(f.d)->bad, 2);
	assert_memory_equal(before, f.win_host, sizeof(before));
	assert_true(vdev_rd(&f.v, VIRTIO_MMIO_INTERRUPT_STATUS) & VIRTIO_MMIO_INT_VRING);
	assert_false(vdev_needs_reset(&f.v));
	fx_stop(&f);
}

static void test_hostile_chains(void **state)
{
	(void)state;
	struct fx f;
	fx_start(&f, 4096);
	struct vq *q = &f.v.q[0];
	uint32_t ret;
	/* No room for the answer: completed empty, nothing written. */
	memset(at(&f, DATA), FILL, 0x1000);
	struct vq_seg small[2] = { { DATA, 4, false }, { DATA + 0x100, 3, true } };
	vq_write_chain(&f.gm, q->desc, 0, small, 2);
	assert_int_equal(serve(&f, 0), 0);
	assert_true(all(at(&f, DATA + 4), 0x1000 - 4, FILL));
	/* Readable only. */
	struct vq_seg ronly = { DATA, 4, false };
	vq_write_chain(&f.gm, q->desc, 0, &ronly, 1);
	assert_int_equal(serve(&f, 0), 0);
	/* A short request: an error answer. */
	memset(at(&f, DATA), FILL, 0x1000);
	struct vq_seg shortreq[2] = { { DATA, 2, false }, { DATA + 0x100, 4, true } };
	vq_write_chain(&f.gm, q->desc, 0, shortreq, 2);
	assert_int_equal(serve(&f, 0), 4);
	memcpy(&ret, at(&f, DATA + 0x100), 4);
	assert_int_not_equal(ret, 0);
	/* The answer split over two buffers (1 + 3 bytes): still written whole. */
	memset(at(&f, DATA), 0, 4);
	struct vq_seg split[3] = { { DATA, 4, false }, { DATA + 0x200, 1, true }, { DATA + 0x300, 3, true } };
	vq_write_chain(&f.gm, q->desc, 0, split, 3);
	assert_int_equal(serve(&f, 0), 4);
	/* Outside guest memory, a writable buffer first, a loop, a bad index. */
	vq_set_desc(q, 1, MEM + 0x1000ULL, 4, 0, 0);
	assert_int_equal(serve(&f, 1), 0);
	vq_set_desc(q, 1, ~0ULL - 1, 4, VRING_DESC_F_WRITE, 0);
	assert_int_equal(serve(&f, 1), 0);
	struct vq_seg order[2] = { { DATA + 0x100, 4, true }, { DATA, 4, false } };
	vq_write_chain(&f.gm, q->desc, 2, order, 2);
	assert_int_equal(serve(&f, 2), 0);
	vq_set_desc(q, 5, DATA, 4, VRING_DESC_F_NEXT, 6);
	vq_set_desc(q, 6, DATA + 0x100, 4, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 5);
	assert_int_equal(serve(&f, 5), 0);
	vq_set_desc(q, 7, DATA, 4, VRING_DESC_F_NEXT, 999);
	assert_int_equal(serve(&f, 7), 0);
	assert_false(vdev_needs_reset(&f.v));
	/* and still serving */
	assert_int_equal(request(&f, VIRTIO_PMEM_REQ_TYPE_FLUSH, &ret), 4);
	assert_int_equal(ret, 0);
	fx_stop(&f);
}

static void test_serve(void **state)
{
	(void)state;
	uint32_t resp = 5;
	uint8_t flush[4] = { 0 }, other[4] = { 2, 0, 0, 0 };
	assert_int_equal(pmem_serve(flush, 4, 4, &resp), 4);
	assert_int_equal(resp, 0);
	assert_int_equal(pmem_serve(flush, 4, 3, &resp), 0);
	assert_int_equal(pmem_serve(flush, 4, 0, &resp), 0);
	assert_int_equal(pmem_serve(other, 4, 4, &resp), 4);
	assert_int_not_equal(resp, 0);
	assert_int_equal(pmem_serve(flush, 3, 4, &resp), 4);
	assert_int_not_equal(resp, 0);
	assert_int_equal(pmem_serve(NULL, 0, 8, &resp), 4);
	assert_int_not_equal(resp, 0);
}

static void test_create_errors(void **state)
{
	(void)state;
	struct fx f;
	memset(&f, 0, sizeof(f));
	test_gm_alloc(&f.gm, MEM, FILL);
	struct err e = { 0 };
	assert_int_equal(evloop_init(&f.loop, &e), 0);
	/* missing file */
	snprintf(f.path, sizeof(f.path), "/nonexistent/image.erofs");
	assert_int_equal(fx_create(&f, &e), -1);
	assert_err_contains(&e, "/nonexistent/image.erofs");
	/* an empty file */
	make_file(&f, 0);
	memset(&e, 0, sizeof(e));
	assert_int_equal(fx_create(&f, &e), -1);
	assert_err_contains(&e, "size 0");
	unlink(f.path);
	/* a directory */
	snprintf(f.path, sizeof(f.path), "/tmp");
	memset(&e, 0, sizeof(e));
	assert_int_equal(fx_create(&f, &e), -1);
	assert_err_contains(&e, "not a regular file");
	/* the window refused */
	make_file(&f, 4096);
	f.fail_window = 1;
	memset(&e, 0, sizeof(e));
	assert_int_equal(fx_create(&f, &e), -1);
	assert_err_contains(&e, "no window today");
	assert_null(f.d);
	/* a writer holds the file's lock */
	f.fail_window = 0;
	int fd = open(f.path, O_RDWR);
	assert_true(fd >= 0);
	struct flock lk = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
	assert_int_equal(fcntl(fd, F_OFD_SETLK, &lk), 0);
	memset(&e, 0, sizeof(e));
	assert_int_equal(fx_create(&f, &e), -1);
	assert_err_contains(&e, "in use by a writer");
	close(fd);
	unlink(f.path);
	evloop_free(&f.loop);
	test_gm_release(&f.gm);
	/* a region that is not 2 MiB aligned */
	memset(&e, 0, sizeof(e));
	assert_null(pmem_dev_new(&f.gm, WINDOW_GPA + 4096, 2 << 20, &e));
	assert_null(pmem_dev_new(&f.gm, WINDOW_GPA, 4096, &e));
	assert_null(pmem_dev_new(&f.gm, ~0ULL - (2ULL << 20) + 1, 4ULL << 20, &e));
}

/* A second device for F's file (as a restoring VM makes it), at GPA. */
static void fx_again(struct fx *g, const struct fx *f, uint64_t gpa)
{
	memset(g, 0, sizeof(*g));
	test_gm_alloc(&g->gm, MEM, FILL);
	struct err e = { 0 };
	assert_int_equal(evloop_init(&g->loop, &e), 0);
	memcpy(g->path, f->path, sizeof(g->path));
	g->win_gpa = gpa;
	if (fx_create(g, &e))
		fail_msg("create: %s", e.msg);
}

static void fx_drop(struct fx *g)
{
	g->d->ops->destroy(g->d);
	evloop_free(&g->loop);
	test_gm_release(&g->gm);
}

/* Restore BLOB (N bytes) into a device made again from F's file at GPA:
 * 0, or -1 with E's message containing WHY. */
static int restore_into_new(const struct fx *f, uint64_t gpa, const uint8_t *blob, size_t n, const char *why)
{
	struct fx g;
	fx_again(&g, f, gpa);
	struct err e = { 0 };
	int r = g.d->ops->restore(g.d, blob, n, &e);
	if (r == 0) {
		assert_int_equal(pmem_dev_state(g.d)->flushes, pmem_dev_state(f->d)->flushes);
		assert_int_equal(pmem_dev_state(g.d)->bad, pmem_dev_state(f->d)->bad);
	} else {
		assert_err_contains(&e, why);
	}
	fx_drop(&g);
	return r;
}

/* Decode a copy of BLOB with *S changed by EDIT: must be refused. */
static void refused(const uint8_t *blob, size_t n, const struct guest_mem *gm, const char *why,
		    void (*edit)(struct pmem_snap *s))
{
	uint8_t copy[sizeof(struct pmem_snap) + 128];
	assert_true(n <= sizeof(copy));
	memcpy(copy, blob, n);
	struct pmem_snap s;
	memcpy(&s, copy, sizeof(s));
	edit(&s);
	memcpy(copy, &s, sizeof(s));
	struct pmem_state st;
	char path[PATH_MAX];
	struct err e = { 0 };
	assert_int_equal(pmem_snap_decode(copy, n, gm, &st, path, sizeof(path), &e), -1);
	assert_err_contains(&e, why);
}

static void e_pad(struct pmem_snap *s) { s->pad = 1; }
static void e_nopath(struct pmem_snap *s) { s->path_len = 0; }
static void e_longpath(struct pmem_snap *s) { s->path_len++; }
static void e_hugepath(struct pmem_snap *s) { s->path_len = 0xffffffffu; }
static void e_nofile(struct pmem_snap *s) { s->st.file_size = 0; }
static void e_bigfile(struct pmem_snap *s) { s->st.file_size = 65ULL << 30; s->st.size = 65ULL << 30; }
static void e_size(struct pmem_snap *s) { s->st.size += 2ULL << 20; }
static void e_smallsize(struct pmem_snap *s) { s->st.file_size = s->st.size + 1; }
static void e_unaligned(struct pmem_snap *s) { s->st.gpa += 2ULL << 20; }
static void e_low(struct pmem_snap *s) { s->st.gpa = 0; }
static void e_inram(struct pmem_snap *s) { s->st.gpa = 4ULL << 30; }
static void e_wrap(struct pmem_snap *s) { s->st.gpa = 0ULL - (128ULL << 20); }
static void e_beyond(struct pmem_snap *s) { s->st.gpa = (1ULL << 52) - (128ULL << 20) + (128ULL << 20); }

static void test_snapshot_state(void **state)
{
	(void)state;
	struct fx f;
	fx_start(&f, 3 * 1024 * 1024 + 123);
	uint32_t ret;
	assert_int_equal(request(&f, VIRTIO_PMEM_REQ_TYPE_FLUSH, &ret), 4);
	assert_int_equal(request(&f, 9, &ret), 4);
	uint8_t blob[sizeof(struct pmem_snap) + 128];
	struct err e = { 0 };
	long n = f.d->ops->save(f.d, blob, sizeof(blob), &e);
	assert_int_equal(n, (long)(sizeof(struct pmem_snap) + strlen(f.path)));
	assert_int_equal(f.d->ops->save(f.d, blob, (size_t)n - 1, &e), -1);  /* no room */
	assert_err_contains(&e, "no room");
	/* The record names the window, never its bytes. */
	assert_memory_equal(blob + sizeof(struct pmem_snap), f.path, strlen(f.path));
	struct pmem_state st;
	char path[PATH_MAX];
	assert_int_equal(pmem_snap_decode(blob, (size_t)n, &f.gm, &st, path, sizeof(path), &e), 0);
	assert_string_equal(path, f.path);
	assert_memory_equal(&st, pmem_dev_state(f.d), sizeof(st));

	/* Round trip: the same file mapped again, at the same place. */
	assert_int_equal(restore_into_new(&f, 0, blob, (size_t)n, NULL), 0);

	/* Corrupt fields, each refused by the decoder. */
	refused(blob, (size_t)n, &f.gm, "bytes", e_pad);
	refused(blob, (size_t)n, &f.gm, "path of 0", e_nopath);
	refused(blob, (size_t)n, &f.gm, "bytes", e_longpath);
	refused(blob, (size_t)n, &f.gm, "bytes", e_hugepath);
	refused(blob, (size_t)n, &f.gm, "for a file of 0", e_nofile);
	refused(blob, (size_t)n, &f.gm, "window of", e_bigfile);
	refused(blob, (size_t)n, &f.gm, "window of", e_size);
	refused(blob, (size_t)n, &f.gm, "window of", e_smallsize);
	refused(blob, (size_t)n, &f.gm, "not above RAM", e_unaligned);
	refused(blob, (size_t)n, &f.gm, "not above RAM", e_low);
	refused(blob, (size_t)n, &f.gm, "not above RAM", e_wrap);
	refused(blob, (size_t)n, &f.gm, "not above RAM", e_beyond);
	/* A window inside RAM: a guest with RAM above 4 GiB. */
	struct guest_mem big = f.gm;
	big.nregions = 2;
	big.r[1] = (struct gm_region){ .gpa = 4ULL << 30, .len = 1ULL << 30, .host_off = 0 };
	refused(blob, (size_t)n, &big, "not above RAM", e_inram);
	/* Short, or a NUL in the path. */
	assert_int_equal(pmem_snap_decode(blob, sizeof(struct pmem_snap) - 1, &f.gm, &st, path, sizeof(path), &e), -1);
	assert_int_equal(pmem_snap_decode(blob, (size_t)n, &f.gm, &st, path, 4, &e), -1);
	uint8_t nul[sizeof(blob)];
	memcpy(nul, blob, (size_t)n);
	nul[sizeof(struct pmem_snap) + 3] = '\0';
	assert_int_equal(pmem_snap_decode(nul, (size_t)n, &f.gm, &st, path, sizeof(path), &e), -1);
	assert_err_contains(&e, "NUL");

	/* The VM's window elsewhere. */
	assert_int_equal(restore_into_new(&f, WINDOW_GPA + (128ULL << 20), blob, (size_t)n, "not this VM's"), -1);
	/* The file touched (its mtime), then replaced by another of the same
	 * size and bytes (a new inode, as a re-import renames one in). */
	struct timespec ts[2] = { { .tv_nsec = UTIME_OMIT }, { .tv_sec = 1000000000, .tv_nsec = 5 } };
	assert_int_equal(utimensat(AT_FDCWD, f.path, ts, 0), 0);
	assert_int_equal(restore_into_new(&f, 0, blob, (size_t)n, "changed since"), -1);
	struct fx other;
	memset(&other, 0, sizeof(other));
	make_file(&other, 3 * 1024 * 1024 + 123);
	assert_int_equal(rename(other.path, f.path), 0);
	assert_int_equal(restore_into_new(&f, 0, blob, (size_t)n, "changed since"), -1);
	/* Another path. */
	make_file(&other, 3 * 1024 * 1024 + 123);
	struct fx g;
	fx_again(&g, &other, 0);
	assert_int_equal(g.d->ops->restore(g.d, blob, (size_t)n, &e), -1);
	assert_err_contains(&e, "this VM maps");
	fx_drop(&g);
	unlink(other.path);
	/* A device without a file (pmem_dev_new alone) has nothing to save. */
	struct virtio_dev *bare = pmem_dev_new(&f.gm, WINDOW_GPA, 2ULL << 20, &e);
	assert_non_null(bare);
	assert_int_equal(bare->ops->save(bare, blob, sizeof(blob), &e), -1);
	bare->ops->destroy(bare);
	fx_stop(&f);
}

static void test_parse(void **state)
{
	(void)state;
	const struct device_module *m = pmem_module_of_table();
	struct vm_config c = { 0 };
	struct err e = { 0 };
	assert_int_equal(m->parse("/some/image.erofs", &c, &e), 0);
	assert_string_equal(c.pmem.path, "/some/image.erofs");
	assert_int_equal(m->parse("/other", &c, &e), -1);
	assert_err_contains(&e, "one pmem device");
	c = (struct vm_config){ 0 };
	assert_int_equal(m->parse("", &c, &e), -1);
	assert_err_contains(&e, "no file name");
	char longp[PATH_MAX + 10];
	memset(longp, 'a', sizeof(longp) - 1);
	longp[sizeof(longp) - 1] = '\0';
	assert_int_equal(m->parse(longp, &c, &e), -1);
	assert_err_contains(&e, "longer than");
	assert_false(c.has_pmem);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_region),
		cmocka_unit_test(test_flush),
		cmocka_unit_test(test_hostile_chains),
		cmocka_unit_test(test_serve),
		cmocka_unit_test(test_create_errors),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_snapshot_state),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
