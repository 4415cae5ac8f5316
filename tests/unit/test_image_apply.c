/* Unit tests for image/apply.c: tar path normalisation and refusal
 * (absolute, "..", the root as a non-directory), and layers written by
 * libarchive applied into a temporary root, nothing landing outside it. */
#include "unit.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "../../image/image.h"

static void test_normalise(void **state)
{
	(void)state;
	static const struct { const char *in, *out; } ok[] = {
		{ "a", "a" }, { "a/b", "a/b" }, { "./a", "a" }, { "a/", "a" }, { "./a/./b/", "a/b" },
		{ "a//b///c", "a/b/c" }, { ".", "" }, { "./", "" }, { "", "" }, { "././.", "" },
		{ "..a/b..", "..a/b.." }, { "a/...", "a/..." }, { ".wh.x", ".wh.x" },
		{ "a/.wh..wh..opq", "a/.wh..wh..opq" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
		char buf[64];
		snprintf(buf, sizeof(buf), "%s", ok[i].in);
		if (path_normalise(buf))
			fail_msg("'%s' refused", ok[i].in);
		if (strcmp(buf, ok[i].out))
			fail_msg("'%s' gave '%s', want '%s'", ok[i].in, buf, ok[i].out);
	}
	static const char *bad[] = { "/", "/etc/passwd", "//a", "..", "../a", "a/..", "a/../b",
				     "./../a", "a/b/../../..", "a//..//b", "../" };
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		char buf[64];
		snprintf(buf, sizeof(buf), "%s", bad[i]);
		if (!path_normalise(buf))
			fail_msg("'%s' accepted (as '%s')", bad[i], buf);
	}
}

/* ---- layers ---- */
static char tmpdir[64];
static int dfd = -1;

static int setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/sandbox-unit-apply.XXXXXX");
	if (!mkdtemp(tmpdir))
		return -1;
	dfd = open(tmpdir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return dfd < 0 ? -1 : 0;
}

static int teardown(void **state)
{
	(void)state;
	close(dfd);
	return rm_rf_at(AT_FDCWD, tmpdir);
}

struct ent {
	const char *path;
	mode_t type;      /* AE_IFREG, AE_IFDIR, AE_IFLNK; 0: hard link */
	const char *data; /* file content, symlink or hard link target */
};

/* Write ENTS as a pax tar at tmpdir/NAME. */
static void mktar(const char *name, const struct ent *ents, size_t n)
{
	char path[128];
	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	struct archive *w = archive_write_new();
	archive_write_set_format_pax_restricted(w);
	assert_int_equal(archive_write_open_filename(w, path), ARCHIVE_OK);
	for (size_t i = 0; i < n; i++) {
		struct archive_entry *en = archive_entry_new();
		archive_entry_set_pathname(en, ents[i].path);
		archive_entry_set_mtime(en, 1700000000, 0);
		if (ents[i].type == 0) {
			archive_entry_set_filetype(en, AE_IFREG);
			archive_entry_set_hardlink(en, ents[i].data);
		} else {
			archive_entry_set_filetype(en, ents[i].type);
			archive_entry_set_perm(en, ents[i].type == AE_IFDIR ? 0755 : 0644);
			if (ents[i].type == AE_IFLNK)
				archive_entry_set_symlink(en, ents[i].data);
			if (ents[i].type == AE_IFREG)
				archive_entry_set_size(en, (la_int64_t)strlen(ents[i].data));
		}
		assert_int_equal(archive_write_header(w, en), ARCHIVE_OK);
		if (ents[i].type == AE_IFREG)
			assert_int_equal(archive_write_data(w, ents[i].data, strlen(ents[i].data)),
					 (la_ssize_t)strlen(ents[i].data));
		archive_entry_free(en);
	}
	assert_int_equal(archive_write_close(w), ARCHIVE_OK);
	archive_write_free(w);
}

/* Apply tmpdir/TAR into a fresh tmpdir/root/tree; 0 or -1 and the error.
 * tmpdir/root/outside is a sibling that nothing may touch. */
static int apply_one(const char *tar, bool layers, struct err *e)
{
	rm_rf_at(dfd, "root");
	assert_int_equal(mkdirat(dfd, "root", 0755), 0);
	assert_int_equal(mkdirat(dfd, "root/tree", 0755), 0);
	assert_int_equal(mkdirat(dfd, "root/outside", 0755), 0);
	int rootfd = openat(dfd, "root/tree", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(rootfd >= 0);
	struct apply *a = apply_new(rootfd, layers);
	int rc = apply_tar_at(a, dfd, tar, e);
	if (!rc)
		rc = apply_finish(a, e);
	apply_free(a);
	close(rootfd);
	return rc;
}

static void assert_outside_untouched(void)
{
	struct stat st;
	int fd = openat(dfd, "root/outside", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(fstatat(fd, "evil", &st, AT_SYMLINK_NOFOLLOW), -1);
	close(fd);
	assert_int_equal(fstatat(dfd, "root/evil", &st, AT_SYMLINK_NOFOLLOW), -1);
	assert_int_equal(fstatat(dfd, "evil", &st, AT_SYMLINK_NOFOLLOW), -1);
}

static void test_apply_good(void **state)
{
	(void)state;
	const struct ent ents[] = {
		{ "./", AE_IFDIR, NULL },
		{ "./etc/", AE_IFDIR, NULL },
		{ "./etc//hello", AE_IFREG, "hello\n" },
		{ "etc/hello-link", 0, "./etc/hello" },
		{ "bin/sh", AE_IFLNK, "busybox" },
		{ "abs", AE_IFLNK, "/etc/hello" },
		{ "deep/er/file", AE_IFREG, "x" }, /* missing parents are made */
	};
	mktar("good.tar", ents, ARRAY_SIZE(ents));
	struct err e = { { 0 } };
	if (apply_one("good.tar", true, &e))
		fail_msg("%s", e.msg);
	char buf[32] = { 0 };
	int fd = openat(dfd, "root/tree/etc/hello", O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(read(fd, buf, sizeof(buf)), 6);
	close(fd);
	assert_string_equal(buf, "hello\n");
	struct stat a, b;
	assert_int_equal(fstatat(dfd, "root/tree/etc/hello", &a, 0), 0);
	assert_int_equal(fstatat(dfd, "root/tree/etc/hello-link", &b, 0), 0);
	assert_int_equal(a.st_ino, b.st_ino);
	assert_int_equal(a.st_mtime, 1700000000);
	memset(buf, 0, sizeof(buf));
	assert_int_equal(readlinkat(dfd, "root/tree/abs", buf, sizeof(buf)), 10);
	assert_string_equal(buf, "/etc/hello");
	assert_int_equal(fstatat(dfd, "root/tree/deep/er", &a, 0), 0);
	assert_int_equal(a.st_mode & 07777, 0755);
	assert_int_equal(a.st_mtime, 0); /* no entry for it: time 0 */
	assert_outside_untouched();
}

/* One bad entry after a good one: an error naming it, nothing outside. */
static void refused(const struct ent *bad, const char *want)
{
	const struct ent ents[] = { { "ok", AE_IFREG, "ok" }, *bad };
	mktar("bad.tar", ents, 2);
	struct err e = { { 0 } };
	if (!apply_one("bad.tar", true, &e))
		fail_msg("'%s' accepted", bad->path);
	if (!strstr(e.msg, want))
		fail_msg("'%s': error '%s' lacks '%s'", bad->path, e.msg, want);
	assert_outside_untouched();
}

static void test_apply_refused(void **state)
{
	(void)state;
	static const struct ent abs = { "/evil", AE_IFREG, "x" };
	static const struct ent up = { "../evil", AE_IFREG, "x" };
	static const struct ent up2 = { "a/../../outside/evil", AE_IFREG, "x" };
	static const struct ent updir = { "../evil/", AE_IFDIR, NULL };
	static const struct ent uplink = { "../evil", AE_IFLNK, "/etc/passwd" };
	static const struct ent hl = { "link", 0, "../outside/evil" };
	static const struct ent hlabs = { "link", 0, "/etc/passwd" };
	static const struct ent hlroot = { "link", 0, "./" };
	static const struct ent rootfile = { ".", AE_IFREG, "x" };
	static const struct ent rootlink = { ".", AE_IFLNK, "/" };
	refused(&abs, "escapes the image root");
	refused(&up, "escapes the image root");
	refused(&up2, "escapes the image root");
	refused(&updir, "escapes the image root");
	refused(&uplink, "escapes the image root");
	refused(&hl, "hard link target");
	refused(&hlabs, "hard link target");
	refused(&hlroot, "hard link target");
	refused(&rootfile, "non-directory entry for the image root");
	refused(&rootlink, "non-directory entry for the image root");
}

/* An entry below a symlink is refused, never followed out of the root. */
static void test_apply_through_symlink(void **state)
{
	(void)state;
	static const struct ent link = { "out", AE_IFLNK, "../outside" };
	const struct ent ents[] = { link, { "out/evil", AE_IFREG, "x" } };
	mktar("sym.tar", ents, 2);
	struct err e = { { 0 } };
	assert_int_equal(apply_one("sym.tar", true, &e), -1);
	assert_outside_untouched();
}

/* An opaque whiteout over a very deep tree is refused with an error (it
 * once recursed with a large stack frame per level until the stack ran
 * out), and an ordinary depth still works. */
static void test_opaque_deep(void **state)
{
	(void)state;
	static struct ent ents[400];
	static char paths[400][1024];
	for (int depth = 100; depth <= 300; depth += 200) {
		size_t n = 0;
		ents[n++] = (struct ent){ "d/", AE_IFDIR, NULL };
		ents[n++] = (struct ent){ "d/.wh..wh..opq", AE_IFREG, "" };
		strcpy(paths[0], "d");
		for (int i = 1; i <= depth; i++) {
			size_t l = strlen(paths[i - 1]);
			memcpy(paths[i], paths[i - 1], l);
			memcpy(paths[i] + l, "/a", 3);
			ents[n++] = (struct ent){ paths[i], AE_IFDIR, NULL };
		}
		mktar("deep.tar", ents, n);
		struct err e = { { 0 } };
		int rc = apply_one("deep.tar", true, &e);
		if (depth <= 256) {
			assert_int_equal(rc, 0);
		} else {
			assert_int_equal(rc, -1);
			if (!strstr(e.msg, "nested deeper"))
				fail_msg("%s", e.msg);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_normalise),
		cmocka_unit_test(test_apply_good),
		cmocka_unit_test(test_apply_refused),
		cmocka_unit_test(test_apply_through_symlink),
		cmocka_unit_test(test_opaque_deep),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
