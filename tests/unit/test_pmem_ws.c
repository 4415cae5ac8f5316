/* The pmem window's working set (vmm/devices/pmem_ws.c): the record's
 * format as hostile input, the runs and pagemap helpers, and the device
 * keeping it through the device-module table: a first VM records the
 * window pages it touched (as KVM's faults would, through the host
 * mapping), the next one is handed them to map first and adds its own,
 * and a record of another file (the image touched) is not used. */
#include "unit.h"

#include <fcntl.h>
#include <sys/stat.h>

#include "../../vmm/devices/modules.h"
#include "../../vmm/devices/pmem_ws.h"

#define WIN (4ULL << 20)
#define PAGES (WIN / PMEM_WS_PAGE)

static const struct pmem_ws_id ID = { .file_size = 3u << 20, .dev = 7, .ino = 9, .mtime_ns = 123456789 };

static bool bit(const uint8_t *bits, uint64_t i) { return bits[i / 8] >> (i % 8) & 1; }

static void test_format(void **state)
{
	(void)state;
	size_t size = pmem_ws_size(WIN);
	assert_int_equal(size, PMEM_WS_HDR + PAGES / 8);
	uint8_t *rec = calloc(1, size), *bad = malloc(size);
	assert_non_null(rec);
	assert_non_null(bad);
	pmem_ws_header(rec, &ID, WIN);
	rec[PMEM_WS_HDR] = 0x81;
	const uint8_t *bits = NULL;
	struct err e;
	assert_int_equal(pmem_ws_parse(rec, size, &ID, WIN, &bits, &e), 0);
	assert_ptr_equal(bits, rec + PMEM_WS_HDR);
	assert_true(bit(bits, 0) && bit(bits, 7) && !bit(bits, 1));
	/* the wrong size, another window, another file, a corrupt header */
	assert_int_equal(pmem_ws_parse(rec, size - 1, &ID, WIN, &bits, &e), -1);
	assert_int_equal(pmem_ws_parse(rec, size, &ID, WIN + (2u << 20), &bits, &e), -1);
	assert_int_equal(pmem_ws_parse(rec, size, &ID, 0, &bits, &e), -1);
	assert_int_equal(pmem_ws_parse(rec, size, &ID, WIN + 1, &bits, &e), -1);
	for (unsigned f = 0; f < 4; f++) {
		struct pmem_ws_id other = ID;
		uint64_t *field[] = { &other.file_size, &other.dev, &other.ino, &other.mtime_ns };
		(*field[f])++;
		assert_int_equal(pmem_ws_parse(rec, size, &other, WIN, &bits, &e), -1);
	}
	for (size_t i = 0; i < PMEM_WS_HDR; i++) {   /* any header byte changed */
		memcpy(bad, rec, size);
		bad[i] ^= 0x10;
		assert_int_equal(pmem_ws_parse(bad, size, &ID, WIN, &bits, &e), -1);
	}
	/* a window of a page count not a multiple of 8: bits past it refused */
	uint64_t odd = 13 * PMEM_WS_PAGE;
	size_t osize = pmem_ws_size(odd);
	assert_int_equal(osize, PMEM_WS_HDR + 2);
	memset(bad, 0, osize);
	pmem_ws_header(bad, &ID, odd);
	bad[PMEM_WS_HDR + 1] = 0x10;    /* page 12: the last */
	assert_int_equal(pmem_ws_parse(bad, osize, &ID, odd, &bits, &e), 0);
	bad[PMEM_WS_HDR + 1] = 0x20;    /* page 13: past the window */
	assert_int_equal(pmem_ws_parse(bad, osize, &ID, odd, &bits, &e), -1);
	free(rec);
	free(bad);
}

static void test_runs(void **state)
{
	(void)state;
	uint8_t bits[8] = { 0 };
	uint64_t pos = 0, start, n;
	assert_int_equal(pmem_ws_next_run(bits, 64, &pos, &start, &n), 0);
	const unsigned set[] = { 0, 1, 2, 7, 8, 9, 30, 63 };
	for (size_t i = 0; i < ARRAY_SIZE(set); i++)
		bits[set[i] / 8] |= (uint8_t)(1u << (set[i] % 8));
	const uint64_t want[][2] = { { 0, 3 }, { 7, 3 }, { 30, 1 }, { 63, 1 } };
	pos = 0;
	for (size_t i = 0; i < ARRAY_SIZE(want); i++) {
		assert_int_equal(pmem_ws_next_run(bits, 64, &pos, &start, &n), 1);
		assert_int_equal(start, want[i][0]);
		assert_int_equal(n, want[i][1]);
	}
	assert_int_equal(pmem_ws_next_run(bits, 64, &pos, &start, &n), 0);
	/* PAGES cuts a run short, and bits past it are never reported */
	pos = 0;
	assert_int_equal(pmem_ws_next_run(bits, 2, &pos, &start, &n), 1);
	assert_int_equal(start, 0);
	assert_int_equal(n, 2);
	assert_int_equal(pmem_ws_next_run(bits, 2, &pos, &start, &n), 0);
	/* pagemap entries: present is bit 63, other bits mean nothing here */
	uint64_t ent[16] = { 0 };
	ent[3] = 1ULL << 63;
	ent[15] = 1ULL << 63 | 1ULL << 61 | 12345;
	ent[4] = 1ULL << 62;            /* swapped, not present */
	uint8_t b2[2] = { 0x01, 0 };    /* page 0 already set: kept */
	assert_int_equal(pmem_ws_add_present(b2, ent, 16), 3);
	assert_int_equal(b2[0], 0x09);
	assert_int_equal(b2[1], 0x80);
}

/* ---- the device keeping its record --------------------------------- */

struct fx {
	char path[64], ws[80];
	struct virtio_dev *d;
	const uint8_t *host;
	const uint8_t *prefault;
	int prefaults;
};

static int capture(const struct device_ctx *ctx, struct virtio_dev *d, struct err *e)
{
	(void)e;
	((struct fx *)ctx->host)->d = d;
	return 0;
}

static int map_window(const struct device_ctx *ctx, void *host, uint64_t len, bool ro, uint64_t *gpa,
		      struct err *e)
{
	(void)len;
	(void)ro;
	(void)e;
	((struct fx *)ctx->host)->host = host;
	*gpa = 4ULL << 30;
	return 0;
}

static void prefault(const struct device_ctx *ctx, uint64_t gpa, const uint8_t *bits)
{
	struct fx *f = ctx->host;
	assert_int_equal(gpa, 4ULL << 30);
	f->prefault = bits;
	f->prefaults++;
}

/* A VM's life: the device made (with its working set), PAGES[] of the
 * window read through the host mapping (as KVM's faults read it), then
 * destroyed (the record written). CHECK, if given, sees the bits it was
 * handed, before the touches. */
static void vm_life(struct fx *f, const unsigned *touch, size_t n, void (*check)(const uint8_t *))
{
	struct evloop loop;
	struct guest_mem gm;
	struct err e = { 0 };
	test_gm_alloc(&gm, 1u << 20, 0);
	assert_int_equal(evloop_init(&loop, &e), 0);
	const struct device_module *m = NULL;
	for (const struct device_module *const *p = device_modules; *p; p++)
		if (!strcmp((*p)->name, "virtio-pmem"))
			m = *p;
	assert_non_null(m);
	struct vm_config c = { 0 };
	assert_int_equal(m->parse(f->path, &c, &e), 0);
	c.pmem.ws = true;
	f->d = NULL;
	f->prefault = NULL;
	f->prefaults = 0;
	struct device_ctx ctx = { .mem = &gm, .loop = &loop, .attach = capture, .map_window = map_window,
				  .prefault_window = prefault, .host = f };
	if (m->create(&ctx, &c, &e))
		fail_msg("create: %s", e.msg);
	assert_non_null(f->d);
	if (check)
		check(f->prefault);
	volatile uint8_t sink = 0;
	for (size_t i = 0; i < n; i++)
		sink += f->host[(uint64_t)touch[i] * PMEM_WS_PAGE];
	(void)sink;
	f->d->ops->destroy(f->d);
	evloop_free(&loop);
	test_gm_release(&gm);
}

/* The record as the device left it: its bits (static), or NULL if the
 * file is not a record of the image as it is now. */
static const uint8_t *record(struct fx *f)
{
	static uint8_t buf[PMEM_WS_HDR + PAGES / 8 + 1];
	int fd = open(f->ws, O_RDONLY);
	assert_true(fd >= 0);
	ssize_t len = read(fd, buf, sizeof(buf));
	close(fd);
	struct stat st;
	assert_int_equal(stat(f->path, &st), 0);
	struct pmem_ws_id id = { .file_size = (uint64_t)st.st_size, .dev = st.st_dev, .ino = st.st_ino,
				 .mtime_ns = (uint64_t)st.st_mtim.tv_sec * 1000000000u + (uint64_t)st.st_mtim.tv_nsec };
	const uint8_t *bits;
	struct err e;
	return len > 0 && !pmem_ws_parse(buf, (size_t)len, &id, WIN, &bits, &e) ? bits : NULL;
}

static void none(const uint8_t *bits) { assert_null(bits); }
static void first(const uint8_t *bits)
{
	assert_non_null(bits);
	assert_true(bit(bits, 0) && bit(bits, 300));
	assert_false(bit(bits, 200) || bit(bits, 600) || bit(bits, 900));
}

static void test_device(void **state)
{
	(void)state;
	struct fx f = { 0 };
	snprintf(f.path, sizeof(f.path), "/tmp/sandbox-pmem-ws-test-XXXXXX");
	int fd = mkstemp(f.path);
	assert_true(fd >= 0);
	assert_int_equal(ftruncate(fd, 3u << 20), 0);   /* 768 pages of file, the window 1024 */
	close(fd);
	snprintf(f.ws, sizeof(f.ws), "%s.ws", f.path);

	/* no record yet: nothing to map first; the pages touched are kept
	 * (with the host's fault-around: a superset, never far pages) */
	const unsigned t1[] = { 0, 300 };
	vm_life(&f, t1, 2, none);
	const uint8_t *b = record(&f);
	assert_non_null(b);
	first(b);
	/* the next VM is handed them, and adds its own */
	const unsigned t2[] = { 600 };
	vm_life(&f, t2, 1, first);
	b = record(&f);
	assert_non_null(b);
	assert_true(bit(b, 0) && bit(b, 300) && bit(b, 600));
	assert_false(bit(b, 200) || bit(b, 900));
	/* the image changed (mtime): its record is not used, and is made
	 * again for the file as it is */
	struct timespec ts[2] = { { 0, UTIME_OMIT }, { 1000, 0 } };
	assert_int_equal(utimensat(AT_FDCWD, f.path, ts, 0), 0);
	assert_null(record(&f));
	const unsigned t3[] = { 900 };
	vm_life(&f, t3, 1, none);
	b = record(&f);
	assert_non_null(b);
	assert_true(bit(b, 900));
	assert_false(bit(b, 0) || bit(b, 300) || bit(b, 600));
	/* a corrupt record (a hostile VMM wrote it): not used, made again */
	fd = open(f.ws, O_WRONLY | O_TRUNC);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "garbage", 7), 7);
	close(fd);
	vm_life(&f, t1, 2, none);
	b = record(&f);
	assert_non_null(b);
	first(b);
	/* a symlink in its place is not followed */
	unlink(f.ws);
	assert_int_equal(symlink("/nonexistent-target", f.ws), 0);
	vm_life(&f, t1, 2, none);
	struct stat st;
	assert_int_equal(lstat(f.ws, &st), 0);
	assert_true(S_ISLNK(st.st_mode));
	unlink(f.ws);
	unlink(f.path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format),
		cmocka_unit_test(test_runs),
		cmocka_unit_test(test_device),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
