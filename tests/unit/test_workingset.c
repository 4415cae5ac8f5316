/* A snapshot's working set (vmm/snapshot/workingset.c): the file's
 * checks as hostile input, and recording from a page table's view. */
#include "unit.h"

#include <fcntl.h>
#include <sys/mman.h>

#include "../../vmm/snapshot/workingset.h"

#define PAGES 64u
#define MEM ((uint64_t)PAGES * WS_PAGE)

#define NB (PAGES / 8)     /* one bitmap's bytes */

/* A valid file for PAGES pages with the pages in SET touched, the first
 * NWRITTEN of them written too. */
static size_t make(uint8_t *f, const unsigned *set, size_t n, size_t nwritten, uint32_t scope)
{
	size_t len = ws_file_size(MEM);
	memset(f, 0, len);
	for (size_t i = 0; i < n; i++) {
		f[WS_HDR_SIZE + set[i] / 8] |= (uint8_t)(1u << (set[i] % 8));
		if (i < nwritten)
			f[WS_HDR_SIZE + NB + set[i] / 8] |= (uint8_t)(1u << (set[i] % 8));
	}
	ws_header(f, PAGES, scope, f + WS_HDR_SIZE);
	return len;
}

static void test_roundtrip(void **state)
{
	(void)state;
	uint8_t f[WS_HDR_SIZE + 2 * NB];
	const unsigned set[] = { 9, 0, 63 };
	size_t len = make(f, set, 3, 1, WS_SCOPE_COMMAND);
	assert_int_equal(len, sizeof(f));
	struct ws w;
	struct err e;
	assert_int_equal(ws_parse(f, len, MEM, &w, &e), 0);
	assert_int_equal(w.pages, PAGES);
	assert_int_equal(w.scope, WS_SCOPE_COMMAND);
	assert_int_equal(w.bits[0], 1);
	assert_int_equal(w.bits[1], 2);
	assert_int_equal(w.bits[7], 0x80);
	assert_int_equal(w.written[0], 0);
	assert_int_equal(w.written[1], 2);
	assert_int_equal(w.written[7], 0);
}

static void expect_bad(uint8_t *f, size_t len, uint64_t mem, const char *why)
{
	struct ws w;
	struct err e = { 0 };
	assert_int_equal(ws_parse(f, len, mem, &w, &e), -1);
	if (!strstr(e.msg, why))
		fail_msg("'%s' does not say '%s'", e.msg, why);
}

static void test_hostile(void **state)
{
	(void)state;
	uint8_t f[WS_HDR_SIZE + 2 * NB + 8];
	const unsigned set[] = { 3 };
	size_t len = make(f, set, 1, 1, WS_SCOPE_RESTORE);
	expect_bad(f, 10, MEM, "no header");
	expect_bad(f, len - 1, MEM, "bytes, not");
	expect_bad(f, len + 1, MEM, "bytes, not");
	expect_bad(f, len, MEM * 2, "pages for a guest");
	expect_bad(f, len, 0, "guest memory");
	expect_bad(f, len, MEM + 1, "guest memory");
	f[0] ^= 1;
	expect_bad(f, len, MEM, "no header");
	f[0] ^= 1;
	f[8] = 1;               /* version 1: one bitmap */
	expect_bad(f, len, MEM, "version");
	f[8] = 2;
	f[16] = 7;              /* scope */
	expect_bad(f, len, MEM, "scope");
	f[16] = 1;
	f[30] = 1;              /* reserved */
	expect_bad(f, len, MEM, "reserved");
	f[30] = 0;
	f[WS_HDR_SIZE] ^= 0x10; /* a bit changed: the checksum */
	expect_bad(f, len, MEM, "checksum");
	f[WS_HDR_SIZE] ^= 0x10;
	f[WS_HDR_SIZE + NB + 1] = 1; /* page 8 written, never touched */
	ws_header(f, PAGES, WS_SCOPE_RESTORE, f + WS_HDR_SIZE);
	expect_bad(f, len, MEM, "written but not touched");
	f[WS_HDR_SIZE + NB + 1] = 0;
	ws_header(f, PAGES, WS_SCOPE_RESTORE, f + WS_HDR_SIZE);
	struct ws w;
	struct err e;
	assert_int_equal(ws_parse(f, len, MEM, &w, &e), 0);

	/* a guest whose page count is not a multiple of 8: no bit past it */
	uint64_t mem = 12 * WS_PAGE;
	uint8_t g[WS_HDR_SIZE + 4];
	memset(g, 0, sizeof(g));
	g[WS_HDR_SIZE + 1] = 0x10;      /* page 12: past the end */
	ws_header(g, 12, WS_SCOPE_RESTORE, g + WS_HDR_SIZE);
	expect_bad(g, sizeof(g), mem, "past the last page");
	g[WS_HDR_SIZE + 1] = 0x08;      /* page 11: the last */
	g[WS_HDR_SIZE + 3] = 0x10;      /* written past the end */
	ws_header(g, 12, WS_SCOPE_RESTORE, g + WS_HDR_SIZE);
	expect_bad(g, sizeof(g), mem, "past the last page");
	g[WS_HDR_SIZE + 3] = 0x08;
	ws_header(g, 12, WS_SCOPE_RESTORE, g + WS_HDR_SIZE);
	assert_int_equal(ws_parse(g, sizeof(g), mem, &w, &e), 0);
	assert_int_equal(w.written[1], 0x08);
}

/* Recording: a file standing in for /proc/self/pagemap, with the entries
 * of GM's pages at their place (one u64 per virtual page). */
static void test_record(void **state)
{
	(void)state;
	uint8_t *buf = mmap(NULL, MEM, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(buf != MAP_FAILED);
	struct guest_mem gm;
	gm_wrap(&gm, buf, MEM);
	char pm[] = "/tmp/test-ws-pagemap.XXXXXX", out[] = "/tmp/test-ws-out.XXXXXX";
	int pfd = mkstemp(pm), ofd = mkstemp(out);
	assert_true(pfd >= 0 && ofd >= 0);
	unlink(pm);
	unlink(out);
	off_t base = (off_t)((uintptr_t)buf / WS_PAGE * sizeof(uint64_t));
	/* 1 and 40: the VMM's own copies (written); 2: the file's page */
	const unsigned present[] = { 1, 2, 40 }, swapped = 50, absent = 3;
	for (size_t i = 0; i < 3; i++) {
		uint64_t v = 1ULL << 63 | (present[i] == 2 ? 1ULL << 61 : 0) | 12345;
		assert_int_equal(pwrite(pfd, &v, 8, base + (off_t)present[i] * 8), 8);
	}
	uint64_t v = 1ULL << 62;
	assert_int_equal(pwrite(pfd, &v, 8, base + (off_t)swapped * 8), 8);
	v = 12345;              /* a PFN but neither present nor swapped */
	assert_int_equal(pwrite(pfd, &v, 8, base + (off_t)absent * 8), 8);
	v = 0;
	assert_int_equal(pwrite(pfd, &v, 8, base + (off_t)PAGES * 8), 8);    /* the file's end */

	struct err e;
	assert_int_equal(ws_record(&gm, pfd, WS_SCOPE_RESTORE, ofd, &e), 0);
	uint8_t f[WS_HDR_SIZE + 2 * NB + 1];
	ssize_t n = pread(ofd, f, sizeof(f), 0);
	assert_int_equal(n, WS_HDR_SIZE + 2 * NB);
	struct ws w;
	assert_int_equal(ws_parse(f, (size_t)n, MEM, &w, &e), 0);
	assert_int_equal(w.scope, WS_SCOPE_RESTORE);
	for (unsigned i = 0; i < PAGES; i++) {
		bool want = i == 1 || i == 2 || i == 40 || i == swapped;
		assert_int_equal(!!(w.bits[i / 8] & (1u << (i % 8))), want);
		assert_int_equal(!!(w.written[i / 8] & (1u << (i % 8))), i == 1 || i == 40);
	}
	/* no page tables to read: one clear error */
	assert_int_equal(ws_record(&gm, -1, WS_SCOPE_RESTORE, ofd, &e), -1);
	assert_non_null(strstr(e.msg, "page tables"));
	close(pfd);
	close(ofd);
	munmap(buf, MEM);
}

/* Populating: a private file mapping's written pages become this
 * process's own copies (the file unchanged); the others stay the file's. */
static void test_populate(void **state)
{
	(void)state;
	char path[] = "/tmp/test-ws-mem.XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	unlink(path);
	assert_int_equal(ftruncate(fd, (off_t)MEM), 0);
	assert_int_equal(pwrite(fd, "A", 1, 5 * WS_PAGE), 1);
	uint8_t *mem = mmap(NULL, MEM, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
	assert_true(mem != MAP_FAILED);
	struct guest_mem gm;
	gm_wrap(&gm, mem, MEM);
	uint8_t f[WS_HDR_SIZE + 2 * NB];
	const unsigned set[] = { 5, 6, 7, 20 };
	size_t len = make(f, set, 4, 3, WS_SCOPE_RESTORE);      /* 5-7 written */
	struct ws w;
	struct err e;
	assert_int_equal(ws_parse(f, len, MEM, &w, &e), 0);
	long n = ws_populate(&gm, &w);
	int pm = open("/proc/self/pagemap", O_RDONLY);
	assert_true(pm >= 0);
	for (unsigned i = 0; i < PAGES; i++) {
		uint64_t v = 0;
		assert_int_equal(pread(pm, &v, 8, (off_t)((uintptr_t)mem / WS_PAGE + i) * 8), 8);
		if (n == 3 && i >= 5 && i <= 7)
			assert_true((v & 1ULL << 63) && !(v & 1ULL << 61));    /* own copies */
		else
			assert_false(v & 1ULL << 63);
	}
	if (n != 3)     /* a kernel before 5.14 populates nothing */
		assert_int_equal(n, 0);
	assert_int_equal(mem[5 * WS_PAGE], 'A');
	char c = 0;
	assert_int_equal(pread(fd, &c, 1, 5 * WS_PAGE), 1);
	assert_int_equal(c, 'A');
	close(pm);
	munmap(mem, MEM);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roundtrip),
		cmocka_unit_test(test_hostile),
		cmocka_unit_test(test_record),
		cmocka_unit_test(test_populate),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
