/* Host-wide limits (cli/hostlimits.c): the config file's parsing, the
 * memory a sandbox commits, the outlier rule of ps. */
#include "unit.h"

#include "../../cli/hostlimits.h"

static void test_parse(void **state)
{
	(void)state;
	struct limits l;
	struct err e;
	const char *ok = "# host limits\n\nmax_sandboxes = 2\n  max_memory=1g   # guest memory\nmax_per_user= 5\n"
			 "outlier_factor = 3\noutlier_min_age = 2m\n";
	assert_int_equal(limits_parse(ok, "cfg", &l, &e), 0);
	assert_int_equal(l.max_sandboxes, 2);
	assert_int_equal(l.max_memory, 1ULL << 30);
	assert_int_equal(l.max_per_user, 5);
	assert_true(l.outlier_factor == 3);
	assert_int_equal(l.outlier_min_age, 120);
	assert_int_equal(limits_parse("", "cfg", &l, &e), 0);
	assert_int_equal(l.max_sandboxes, 0);
	assert_true(l.outlier_factor == 10);
	assert_int_equal(l.outlier_min_age, 3600);
	static const struct {
		const char *text, *msg;
	} bad[] = {
		{ "max_sandbox = 2\n", "cfg:1: unknown key 'max_sandbox'" },
		{ "\nmax_sandboxes 2\n", "cfg:2: want KEY = VALUE" },
		{ "max_sandboxes = -1\n", "cfg:1: max_sandboxes" },
		{ "max_sandboxes = 2x\n", "not a valid value" },
		{ "max_memory = lots\n", "max_memory" },
		{ "outlier_factor = 0.5\n", "outlier_factor" },
		{ "outlier_min_age = 5y\n", "outlier_min_age" },
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(limits_parse(bad[i].text, "cfg", &l, &e), -1);
		if (!strstr(e.msg, bad[i].msg))
			fail_msg("'%s': '%s' lacks '%s'", bad[i].text, e.msg, bad[i].msg);
	}
}

static void test_memory_outlier(void **state)
{
	(void)state;
	assert_int_equal(limits_guest_memory("vm", 0), 128ULL << 20);
	assert_int_equal(limits_guest_memory("vm", 256LL << 20), (256ULL + 96) << 20);
	assert_int_equal(limits_guest_memory("container", 0), 0);
	assert_int_equal(limits_guest_memory("container", 64LL << 20), 64ULL << 20);
	struct limits l = { .outlier_factor = 10, .outlier_min_age = 3600 };
	assert_false(limits_outlier(&l, 100000, 60, 2));        /* too few peers */
	assert_true(limits_outlier(&l, 100000, 60, 3));
	assert_false(limits_outlier(&l, 500, 10, 5));           /* younger than the minimum */
	assert_false(limits_outlier(&l, 4000, 3600, 5));        /* not 10x its peers */
	assert_true(limits_outlier(&l, 3600, 0, 5));            /* peers just started */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_memory_outlier),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
