/* KVM's binary statistics file (vmm/kvm_stats.c): the parser over a file
 * laid out as the kernel lays it out, and each inconsistency refused. */
#include "unit.h"

#include "../../vmm/kvm_stats.h"

#define NAME 48u
#define STRIDE (16u + NAME)

/* A stats file: header, an id, NDESC descriptors named NAMES, each with
 * one u64 value VALS[i] (the third has two values), then the data. */
static size_t make(uint8_t *f, const char *const *names, const uint64_t *vals, unsigned ndesc)
{
	uint32_t id_off = 24, desc_off = id_off + NAME, data_off = desc_off + ndesc * STRIDE;
	uint32_t hdr[6] = { 0, NAME, ndesc, id_off, desc_off, data_off };
	memset(f, 0, 4096);
	memcpy(f, hdr, sizeof(hdr));
	strcpy((char *)f + id_off, "kvm-1234");
	uint32_t off = 0;
	for (unsigned i = 0; i < ndesc; i++) {
		uint8_t *d = f + desc_off + i * STRIDE;
		uint16_t size = i == 2 ? 2 : 1;
		memcpy(d + 6, &size, 2);
		memcpy(d + 8, &off, 4);
		strcpy((char *)d + 16, names[i]);
		memcpy(f + data_off + off, &vals[i], 8);
		off += size * 8u;
	}
	return data_off + off;
}

static const char *const names[] = { "halt_successful_poll", "exits", "pf_taken", "pages_4k", "pf_fixed" };
static const uint64_t vals[] = { 7, 1000, 300, 55, 250 };

static void test_parse(void **state)
{
	(void)state;
	uint8_t f[4096];
	size_t len = make(f, names, vals, 5);
	uint64_t sum[KS_N] = { 0 };
	uint32_t found = 0;
	struct err e;
	assert_int_equal(kvm_stats_parse(f, len, sum, &found, &e), 0);
	assert_int_equal(sum[KS_EXITS], 1000);
	assert_int_equal(sum[KS_PF_TAKEN], 300);
	assert_int_equal(sum[KS_PF_FIXED], 250);
	assert_int_equal(sum[KS_PAGES_4K], 55);
	assert_int_equal(found, 1u << KS_EXITS | 1u << KS_PF_TAKEN | 1u << KS_PF_FIXED | 1u << KS_PAGES_4K);
	/* a second file (another vCPU) adds */
	assert_int_equal(kvm_stats_parse(f, len, sum, &found, &e), 0);
	assert_int_equal(sum[KS_EXITS], 2000);
	assert_int_equal(sum[KS_PAGES_2M], 0);
}

static void test_hostile(void **state)
{
	(void)state;
	uint8_t f[4096];
	size_t len = make(f, names, vals, 5);
	uint64_t sum[KS_N] = { 0 };
	uint32_t found = 0, v;
	struct err e;
	for (size_t cut = 0; cut < len; cut++)    /* every truncation is refused */
		assert_int_equal(kvm_stats_parse(f, cut, sum, &found, &e), -1);
	uint8_t g[4096];
	memcpy(g, f, sizeof(g));
	v = 0;                                     /* name size 0 */
	memcpy(g + 4, &v, 4);
	assert_int_equal(kvm_stats_parse(g, len, sum, &found, &e), -1);
	memcpy(g, f, sizeof(g));
	v = 0xffffffffu;                           /* descriptor count overflows */
	memcpy(g + 8, &v, 4);
	assert_int_equal(kvm_stats_parse(g, len, sum, &found, &e), -1);
	memcpy(g, f, sizeof(g));
	v = 4;                                     /* descriptors inside the header */
	memcpy(g + 16, &v, 4);
	assert_int_equal(kvm_stats_parse(g, len, sum, &found, &e), -1);
	memcpy(g, f, sizeof(g));
	v = 0xfffffff0u;                           /* a value far beyond the data */
	memcpy(g + 24 + NAME + 1 * STRIDE + 8, &v, 4);
	assert_int_equal(kvm_stats_parse(g, len, sum, &found, &e), -1);
	memcpy(g, f, sizeof(g));
	memset(g + 24 + NAME + 16, 'x', NAME);     /* a name without its NUL */
	assert_int_equal(kvm_stats_parse(g, len, sum, &found, &e), -1);
	for (unsigned k = 0; k < KS_N; k++)        /* nothing was added */
		assert_int_equal(sum[k], 0);
	assert_int_equal(found, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_hostile),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
