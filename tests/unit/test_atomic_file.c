/* common/atomic_file.c: a small file replaced whole. The new content
 * arrives by rename (no half-written file), the temp file is made fresh
 * (a planted symlink at NAME.tmp is replaced, never written through), and
 * a failure leaves NAME as it was and no NAME.tmp behind. */
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "../../common/atomic_file.h"

static char dir[64];
static int dfd = -1;

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/sandbox-unit-atomic-XXXXXX");
	assert_non_null(mkdtemp(dir));
	dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(dfd >= 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	static const char *const names[] = { "rec", "rec.tmp", "victim", "sub/rec", "sub" };
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (unlinkat(dfd, names[i], 0))
			unlinkat(dfd, names[i], AT_REMOVEDIR);
	close(dfd);
	rmdir(dir);
	return 0;
}

static char *slurp(const char *name)
{
	static char buf[256];
	int fd = openat(dfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	buf[n < 0 ? 0 : n] = '\0';
	return buf;
}

static void test_write_replace(void **state)
{
	(void)state;
	struct err e;
	assert_int_equal(atomic_printf(dfd, "rec", "REC", 0, &e, "a=%d\nb=%s\n", 1, "x"), 0);
	assert_string_equal(slurp("rec"), "a=1\nb=x\n");
	assert_int_equal(atomic_printf(dfd, "rec", "REC", ATOMIC_SYNC, &e, "a=%d\n", 2), 0);
	assert_string_equal(slurp("rec"), "a=2\n");
	struct stat st;
	assert_int_equal(fstatat(dfd, "rec", &st, 0), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	assert_int_equal(faccessat(dfd, "rec.tmp", F_OK, AT_SYMLINK_NOFOLLOW), -1);
}

static void test_planted_symlink(void **state)
{
	(void)state;
	struct err e;
	int v = openat(dfd, "victim", O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	assert_true(v >= 0);
	assert_int_equal(write(v, "keep", 4), 4);
	close(v);
	assert_int_equal(symlinkat("victim", dfd, "rec.tmp"), 0);
	assert_int_equal(atomic_printf(dfd, "rec", "REC", 0, &e, "new\n"), 0);
	assert_string_equal(slurp("victim"), "keep");
	assert_string_equal(slurp("rec"), "new\n");
}

static void test_failure_keeps_old(void **state)
{
	(void)state;
	struct err e;
	assert_int_equal(atomic_printf(dfd, "rec", "REC", 0, &e, "old\n"), 0);
	/* renaming a file over a directory fails: the old NAME stays */
	assert_int_equal(mkdirat(dfd, "sub", 0700), 0);
	assert_int_equal(mkdirat(dfd, "sub/rec", 0700), 0);
	assert_int_equal(atomic_printf(dfd, "sub/rec", "SUB", 0, &e, "x\n"), -1);
	assert_non_null(strstr(e.msg, "rename SUB.tmp"));
	assert_int_equal(faccessat(dfd, "sub/rec.tmp", F_OK, AT_SYMLINK_NOFOLLOW), -1);
	/* a path (AT_FDCWD) in a directory that is not there */
	char path[128];
	snprintf(path, sizeof(path), "%s/none/rec", dir);
	assert_int_equal(atomic_printf(AT_FDCWD, path, path, ATOMIC_SYNC, &e, "x\n"), -1);
	assert_non_null(strstr(e.msg, "write "));
	assert_string_equal(slurp("rec"), "old\n");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_write_replace, setup, teardown),
		cmocka_unit_test_setup_teardown(test_planted_symlink, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failure_keeps_old, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
