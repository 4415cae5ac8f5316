/* common/err.c: the error convention. A message is one line whatever it
 * quotes (a bundle's path, a guest's name), keeps the errno text and the
 * status it was given, and a wrap that would overflow keeps what fits. */
#include "unit.h"

#include <errno.h>

#include "../../common/err.h"

static void test_one_line(void **state)
{
	(void)state;
	struct err e = { 0 };
	assert_int_equal(err_set(&e, "path %s: bad", "/proc/7\n7/ns\tipc\x1b[2J\x7f"), -1);
	assert_string_equal(e.msg, "path /proc/7?7/ns?ipc?[2J?: bad");
	err_status(&e, 126, "a\r\nb");
	assert_string_equal(e.msg, "a??b");
	assert_int_equal(err_exit_status(&e, 1), 126);
	err_wrap(&e, "ctx\n%s", "x");
	assert_string_equal(e.msg, "ctx?x: a??b");
	assert_int_equal(err_exit_status(&e, 1), 126);
	/* bytes above 0x7f (UTF-8) stay */
	err_set(&e, "%s", "caf\xc3\xa9");
	assert_string_equal(e.msg, "caf\xc3\xa9");
}

static void test_errno_and_status(void **state)
{
	(void)state;
	struct err e = { 0 };
	errno = ENOENT;
	err_sys(&e, "open %s", "x\ny");
	assert_int_equal(e.errnum, ENOENT);
	assert_string_equal(e.msg, "open x?y: No such file or directory");
	assert_int_equal(err_exit_status(&e, 1), 1);
	e.status = 127;
	err_errno(&e, EACCES, "exec");
	assert_int_equal(e.status, 127);
	e.status = 0;
	err_errno(&e, 0, "plain");
	assert_string_equal(e.msg, "plain");
	assert_int_equal(e.status, 125);
	err_oom(&e, "buffer");
	assert_string_equal(e.msg, "buffer: Cannot allocate memory");
}

static void test_wrap_truncates(void **state)
{
	(void)state;
	struct err e = { 0 };
	char longer[600];
	memset(longer, 'x', sizeof(longer) - 1);
	longer[sizeof(longer) - 1] = '\0';
	err_set(&e, "%s", longer);
	assert_int_equal(strlen(e.msg), sizeof(e.msg) - 1);
	err_wrap(&e, "ctx");
	assert_int_equal(strlen(e.msg), sizeof(e.msg) - 1);
	assert_memory_equal(e.msg, "ctx: xxx", 8);
	assert_int_equal(err_set(NULL, "nothing"), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_line),
		cmocka_unit_test(test_errno_and_status),
		cmocka_unit_test(test_wrap_truncates),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
