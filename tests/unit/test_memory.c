/* Unit tests for vmm/memory.c (guest memory layout and bounds checks) and
 * the helpers in common/util.c and common/err.c (parse_size, err_*). */
#include "unit.h"

#include <errno.h>

#include "../../vmm/arch/x86/layout.h"

/* For layouts too big to allocate: gm_wrap() and gm_ptr() only do
 * arithmetic on the host pointer, they never dereference it. */
static uint8_t dummy[16];

/* Where gm_ptr() points, as an offset into the host buffer (compared as
 * integers: the pointer may lie far beyond the dummy object), or -1. */
static int64_t host_off(const struct guest_mem *gm, uint64_t gpa, uint64_t len)
{
	void *p = gm_ptr(gm, gpa, len);
	return p ? (int64_t)((uintptr_t)p - (uintptr_t)gm->host) : -1;
}

static void test_gm_ptr_single_region(void **state)
{
	(void)state;
	const uint64_t size = 8 * MIB;
	struct guest_mem gm;
	test_gm_alloc(&gm, size, 0);
	uint8_t *h = gm.host;
	assert_int_equal(gm.nregions, 1);
	assert_int_equal(gm.r[0].gpa, 0);
	assert_int_equal(gm.r[0].len, size);

	assert_ptr_equal(gm_ptr(&gm, 0, 0), h);
	assert_ptr_equal(gm_ptr(&gm, 0, 1), h);
	assert_ptr_equal(gm_ptr(&gm, 0x1234, 16), h + 0x1234);
	assert_ptr_equal(gm_ptr(&gm, 0, size), h);          /* all of it */
	assert_ptr_equal(gm_ptr(&gm, size - 1, 1), h + size - 1);
	/* Exactly at the end: an empty range is fine, one byte is not. */
	assert_ptr_equal(gm_ptr(&gm, size, 0), h + size);
	assert_null(gm_ptr(&gm, size, 1));
	assert_null(gm_ptr(&gm, size - 1, 2));
	assert_null(gm_ptr(&gm, 0, size + 1));
	assert_null(gm_ptr(&gm, size + 1, 0));
	assert_null(gm_ptr(&gm, 1 * GIB, 1));
	test_gm_release(&gm);
}

static void test_gm_ptr_wraparound(void **state)
{
	(void)state;
	struct guest_mem gm;
	test_gm_alloc(&gm, 2 * MIB, 0);
	/* gpa + len overflows 64 bits: a naive "gpa + len <= end" passes. */
	assert_null(gm_ptr(&gm, UINT64_MAX, 2));
	assert_null(gm_ptr(&gm, UINT64_MAX - 10, 20));
	assert_null(gm_ptr(&gm, UINT64_MAX, 0));
	assert_null(gm_ptr(&gm, 1, UINT64_MAX));
	assert_null(gm_ptr(&gm, 0x1000, UINT64_MAX - 0xfff)); /* ends at exactly 2^64 */
	assert_null(gm_ptr(&gm, 2 * MIB - 1, UINT64_MAX));
	test_gm_release(&gm);
	/* Same with a high region. */
	gm_wrap(&gm, dummy, 3 * GIB + 4 * MIB);
	assert_null(gm_ptr(&gm, 4 * GIB, UINT64_MAX));
	assert_null(gm_ptr(&gm, UINT64_MAX - 0xfff, 0x2000));
	assert_null(gm_ptr(&gm, 4 * GIB + 0x1000, UINT64_MAX - 4 * GIB));
}

static void test_gm_ptr_two_regions(void **state)
{
	(void)state;
	struct guest_mem gm;
	gm_wrap(&gm, dummy, 3 * GIB + 4 * MIB);
	assert_int_equal(gm.nregions, 2);
	assert_int_equal(gm.r[0].gpa, 0);
	assert_int_equal(gm.r[0].len, 3 * GIB);
	assert_int_equal(gm.r[0].host_off, 0);
	assert_int_equal(gm.r[1].gpa, 4 * GIB);
	assert_int_equal(gm.r[1].len, 4 * MIB);
	assert_int_equal(gm.r[1].host_off, 3 * GIB);

	assert_int_equal(host_off(&gm, 3 * GIB - 1, 1), 3 * GIB - 1);
	assert_int_equal(host_off(&gm, 3 * GIB, 0), 3 * GIB); /* end of region 0 */
	/* The MMIO gap is not RAM. */
	assert_null(gm_ptr(&gm, 3 * GIB, 1));
	assert_null(gm_ptr(&gm, IOAPIC_ADDR, 4));
	assert_null(gm_ptr(&gm, 4 * GIB - 1, 1));
	/* Ranges that straddle a region edge and the gap. */
	assert_null(gm_ptr(&gm, 3 * GIB - 1, 2));
	assert_null(gm_ptr(&gm, 4 * GIB - 1, 2));
	assert_null(gm_ptr(&gm, 3 * GIB - 4096, 1 * GIB + 8192));
	assert_null(gm_ptr(&gm, 0, 3 * GIB + 4 * MIB)); /* the size, but not contiguous */
	/* The high region maps right after the low one in the host buffer. */
	assert_int_equal(host_off(&gm, 4 * GIB, 1), 3 * GIB);
	assert_int_equal(host_off(&gm, 4 * GIB, 4 * MIB), 3 * GIB);
	assert_int_equal(host_off(&gm, 4 * GIB + 4 * MIB - 1, 1), 3 * GIB + 4 * MIB - 1);
	assert_int_equal(host_off(&gm, 4 * GIB + 4 * MIB, 0), 3 * GIB + 4 * MIB);
	assert_null(gm_ptr(&gm, 4 * GIB + 4 * MIB, 1));
	assert_null(gm_ptr(&gm, 4 * GIB + 4 * MIB - 1, 2));
	assert_null(gm_ptr(&gm, 4 * GIB + 3 * GIB, 1)); /* where the host offset would be */
	/* Exactly 3 GiB: one region. */
	gm_wrap(&gm, dummy, 3 * GIB);
	assert_int_equal(gm.nregions, 1);
	assert_null(gm_ptr(&gm, 4 * GIB, 0));
	assert_null(gm_ptr(&gm, 4 * GIB, 1));
}

static void test_gm_read_write(void **state)
{
	(void)state;
	struct guest_mem gm;
	test_gm_alloc(&gm, 2 * MIB, 0xee);
	const char msg[] = "hello, guest";
	assert_int_equal(gm_write(&gm, 0x1234, msg, sizeof(msg)), 0);
	assert_memory_equal(gm.host + 0x1234, msg, sizeof(msg));
	assert_int_equal(gm.host[0x1233], 0xee);
	assert_int_equal(gm.host[0x1234 + sizeof(msg)], 0xee);
	char back[sizeof(msg)];
	assert_int_equal(gm_read(&gm, back, 0x1234, sizeof(back)), 0);
	assert_memory_equal(back, msg, sizeof(msg));
	/* Last bytes of memory. */
	assert_int_equal(gm_write(&gm, 2 * MIB - 4, "abcd", 4), 0);
	assert_memory_equal(gm.host + 2 * MIB - 4, "abcd", 4);
	/* Partly outside: refused, nothing written or read. */
	assert_int_equal(gm_write(&gm, 2 * MIB - 2, "WXYZ", 4), -1);
	assert_memory_equal(gm.host + 2 * MIB - 4, "abcd", 4);
	memset(back, 0x11, sizeof(back));
	assert_int_equal(gm_read(&gm, back, 2 * MIB - 2, 4), -1);
	assert_true(all_bytes(back, sizeof(back), 0x11));
	assert_int_equal(gm_read(&gm, back, UINT64_MAX - 1, 4), -1);
	assert_int_equal(gm_write(&gm, UINT64_MAX - 1, "WXYZ", 4), -1);
	/* Zero-length accesses at the end are fine. */
	assert_int_equal(gm_write(&gm, 2 * MIB, "", 0), 0);
	assert_int_equal(gm_read(&gm, back, 2 * MIB, 0), 0);
	test_gm_release(&gm);
}

static void test_gm_init_rejects_bad_sizes(void **state)
{
	(void)state;
	static const uint64_t bad[] = { 0, 4096, 1 * MIB, 2 * MIB - 1, 2 * MIB + 4096, 3 * MIB, 127 * MIB };
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct guest_mem gm;
		struct err e = { 0 };
		memset(&gm, 0x5a, sizeof(gm));
		assert_int_equal(gm_init(&gm, bad[i], &e), -1);
		assert_err_contains(&e, "multiple of 2 MiB");
		assert_null(gm.host);
		assert_false(gm.owned);
		gm_free(&gm); /* safe on a failed init */
	}
	struct guest_mem gm;
	struct err e = { 0 };
	assert_int_equal(gm_init(&gm, GUEST_MEM_MAX + 2 * MIB, &e), -1);
	assert_err_contains(&e, "exceeds the maximum");
}

static void test_gm_init_layout(void **state)
{
	(void)state;
	struct guest_mem gm;
	struct err e = { 0 };
	assert_int_equal(gm_init(&gm, 2 * MIB, &e), 0);
	assert_non_null(gm.host);
	assert_true(gm.owned);
	assert_int_equal(gm.size, 2 * MIB);
	assert_int_equal(gm.nregions, 1);
	/* Zeroed and writable to the last byte. */
	assert_true(all_bytes(gm.host, 4096, 0));
	gm.host[2 * MIB - 1] = 1;
	assert_int_equal(gm_write(&gm, 0x1000, "x", 1), 0);
	long long res = gm_resident_bytes(&gm);
	assert_true(res >= 2 * 4096 && res <= (long long)(2 * MIB));
	gm_free(&gm);
	assert_null(gm.host);
	assert_int_equal(gm.nregions, 0);

	/* Above the gap (address space only: MAP_NORESERVE, untouched). */
	assert_int_equal(gm_init(&gm, 3 * GIB + 2 * MIB, &e), 0);
	assert_int_equal(gm.nregions, 2);
	assert_int_equal(gm.r[1].gpa, 4 * GIB);
	assert_int_equal(gm.r[1].len, 2 * MIB);
	assert_int_equal(gm.r[1].host_off, 3 * GIB);
	assert_int_equal(gm_write(&gm, 4 * GIB + 2 * MIB - 4, "end", 4), 0);
	assert_memory_equal(gm.host + 3 * GIB + 2 * MIB - 4, "end", 4);
	assert_int_equal(gm_write(&gm, 3 * GIB, "gap", 4), -1);
	gm_free(&gm);
}

static void test_gm_wrap_not_owned(void **state)
{
	(void)state;
	struct guest_mem gm;
	uint8_t buf[64];
	gm_wrap(&gm, buf, sizeof(buf));
	assert_false(gm.owned);
	gm_free(&gm); /* must not munmap a buffer it did not map */
	assert_null(gm.host);
	buf[0] = 1; /* still ours (ASan would flag a bad free/unmap) */
	assert_int_equal(buf[0], 1);
}

/* ------------------------------------------------------------------ */
/* parse_size */

static void expect_size(const char *s, uint64_t want)
{
	uint64_t v = 0xdeadbeef;
	if (parse_size(s, &v) != 0)
		fail_msg("parse_size(\"%s\") failed", s);
	if (v != want)
		fail_msg("parse_size(\"%s\") = %llu, want %llu", s, (unsigned long long)v,
			 (unsigned long long)want);
}

static void expect_bad_size(const char *s)
{
	uint64_t v = 0xdeadbeef;
	if (parse_size(s, &v) != -1)
		fail_msg("parse_size(\"%s\") accepted: %llu", s ? s : "(null)", (unsigned long long)v);
	assert_int_equal(v, 0xdeadbeef); /* untouched on failure */
}

static void test_parse_size_valid(void **state)
{
	(void)state;
	expect_size("128M", 128 * MIB);
	expect_size("128m", 128 * MIB);
	expect_size("1G", GIB);
	expect_size("2g", 2 * GIB);
	expect_size("512", 512 * MIB); /* a plain number is MiB */
	expect_size("4K", 4096);
	expect_size("65536k", 64 * MIB);
	expect_size("0", 0);
	expect_size("512MiB", 512 * MIB);
	expect_size("512Mi", 512 * MIB);
	expect_size("1GB", GIB);
	expect_size("1Gb", GIB);
	expect_size("16384G", 16384 * GIB);
	/* The largest that fits: 2^64 - 2^30. */
	expect_size("17179869183G", UINT64_MAX - GIB + 1);
}

static void test_parse_size_invalid(void **state)
{
	(void)state;
	expect_bad_size(NULL);
	expect_bad_size("");
	expect_bad_size("abc");
	expect_bad_size("M");
	expect_bad_size("-1");
	expect_bad_size("+1");
	expect_bad_size(" 1M");
	expect_bad_size("1M ");
	expect_bad_size("1X");
	expect_bad_size("1T");
	expect_bad_size("1.5G");
	expect_bad_size("12MM");
	expect_bad_size("1MiBB");
	expect_bad_size("1i");
	expect_bad_size("1B");
	expect_bad_size("0x10");
	/* Overflow: in strtoull, and in the multiplication. */
	expect_bad_size("99999999999999999999999");
	expect_bad_size("18446744073709551616");
	expect_bad_size("18446744073709551615");   /* UINT64_MAX MiB */
	expect_bad_size("17179869184G");            /* exactly 2^64 */
	expect_bad_size("17592186044416M");         /* 2^44 MiB = 2^64 */
	expect_bad_size("18014398509481984K");      /* 2^54 KiB = 2^64 */
	uint64_t v;
	assert_int_equal(parse_size("18014398509481983K", &v), 0);
	assert_int_equal(v, UINT64_MAX - 1023);
}

/* ------------------------------------------------------------------ */
/* err_* */

static void test_err_helpers(void **state)
{
	(void)state;
	struct err e = { 0 };
	assert_int_equal(err_set(&e, "bad %s %d", "thing", 42), -1);
	assert_string_equal(e.msg, "bad thing 42");

	errno = ENOENT;
	assert_int_equal(err_sys(&e, "opening %s", "/x"), -1);
	assert_string_equal(e.msg, "opening /x: No such file or directory");

	assert_int_equal(err_wrap(&e, "loading kernel"), -1);
	assert_string_equal(e.msg, "loading kernel: opening /x: No such file or directory");

	/* A NULL err is allowed: the functions only return -1. */
	assert_int_equal(err_set(NULL, "x"), -1);
	assert_int_equal(err_sys(NULL, "x"), -1);
	assert_int_equal(err_wrap(NULL, "x"), -1);
}

/* err_errno: guest-init's form, an explicit errno and a status kept or 125. */
static void test_err_errno(void **state)
{
	(void)state;
	struct err e = { 0 };
	assert_int_equal(err_errno(&e, EACCES, "mount %s", "/proc"), -1);
	assert_string_equal(e.msg, "mount /proc: Permission denied");
	assert_int_equal(e.errnum, EACCES);
	assert_int_equal(e.status, 125);
	assert_int_equal(err_exit_status(&e, 1), 125);

	/* No errno: no suffix. */
	e = (struct err){ 0 };
	err_errno(&e, 0, "bad spec");
	assert_string_equal(e.msg, "bad spec");
	assert_int_equal(e.errnum, 0);

	/* A status chosen first (exec's 127) survives. */
	e = (struct err){ .status = 127 };
	err_errno(&e, ENOENT, "exec %s", "nope");
	assert_int_equal(e.status, 127);
	assert_int_equal(err_wrap(&e, "container"), -1);
	assert_string_equal(e.msg, "container: exec nope: No such file or directory");
	assert_int_equal(e.status, 127);
	assert_int_equal(e.errnum, ENOENT);

	assert_int_equal(err_errno(NULL, EIO, "x"), -1);
}

static void test_err_truncation(void **state)
{
	(void)state;
	struct err e;
	char longs[1000];
	memset(longs, 'q', sizeof(longs) - 1);
	longs[sizeof(longs) - 1] = '\0';
	/* Longer than the buffer: truncated, still terminated. */
	err_set(&e, "%s", longs);
	assert_int_equal(strlen(e.msg), sizeof(e.msg) - 1);
	errno = EIO;
	err_sys(&e, "%s", longs);
	assert_int_equal(strlen(e.msg), sizeof(e.msg) - 1);
	/* Wrapping a full message keeps the prefix and stays terminated. */
	err_wrap(&e, "ctx");
	assert_int_equal(strlen(e.msg), sizeof(e.msg) - 1);
	assert_memory_equal(e.msg, "ctx: qqq", 8);
	/* A prefix longer than its own buffer. */
	err_set(&e, "inner");
	err_wrap(&e, "%s", longs);
	size_t n = strlen(e.msg);
	assert_true(n < sizeof(e.msg));
	assert_true(n > 7);
	assert_string_equal(e.msg + n - 7, ": inner"); /* the cause survives */
	/* Wrapping many times never overflows. */
	err_set(&e, "base");
	for (int i = 0; i < 200; i++)
		err_wrap(&e, "level %d", i);
	assert_true(strlen(e.msg) < sizeof(e.msg));
	assert_memory_equal(e.msg, "level 199: level 198", 20);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gm_ptr_single_region),
		cmocka_unit_test(test_gm_ptr_wraparound),
		cmocka_unit_test(test_gm_ptr_two_regions),
		cmocka_unit_test(test_gm_read_write),
		cmocka_unit_test(test_gm_init_rejects_bad_sizes),
		cmocka_unit_test(test_gm_init_layout),
		cmocka_unit_test(test_gm_wrap_not_owned),
		cmocka_unit_test(test_parse_size_valid),
		cmocka_unit_test(test_parse_size_invalid),
		cmocka_unit_test(test_err_helpers),
		cmocka_unit_test(test_err_errno),
		cmocka_unit_test(test_err_truncation),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
