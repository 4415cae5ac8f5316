/* Unit tests for rootfs/apply.c: tar path normalisation and refusal
 * (absolute, "..", the root as a non-directory), and layers written by
 * libarchive applied into a temporary root, nothing landing outside it;
 * the byte and entry limits (and their environment variables). */
#include "unit.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <time.h>

#include "../../rootfs/image.h"

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
	/* The limits come from the environment unless a test sets them. */
	unsetenv("SANDBOX_IMAGE_MAX_BYTES");
	unsetenv("SANDBOX_IMAGE_MAX_ENTRIES");
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
	struct apply *a = apply_new(rootfd, layers, e);
	assert_non_null(a);
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
	struct err e = { 0 };
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
	struct err e = { 0 };
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
	struct err e = { 0 };
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
		struct err e = { 0 };
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

/* ---- limits ---- */

/* Apply the tars NAMES[0..n) in order into a fresh tmpdir/root/tree with
 * one struct apply; limits set unless max_bytes is 0 (then from the
 * environment). 0 or -1 and the error. */
static int apply_limited(const char *const *names, size_t n, bool layers, uint64_t max_bytes,
			 uint64_t max_entries, struct err *e)
{
	rm_rf_at(dfd, "root");
	assert_int_equal(mkdirat(dfd, "root", 0755), 0);
	assert_int_equal(mkdirat(dfd, "root/tree", 0755), 0);
	int rootfd = openat(dfd, "root/tree", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(rootfd >= 0);
	struct apply *a = apply_new(rootfd, layers, e);
	assert_non_null(a);
	if (max_bytes)
		apply_set_limits(a, max_bytes, max_entries);
	int rc = 0;
	for (size_t i = 0; i < n && !rc; i++)
		rc = apply_tar_at(a, dfd, names[i], e);
	if (!rc)
		rc = apply_finish(a, e);
	apply_free(a);
	close(rootfd);
	return rc;
}

static void want_error(int rc, const struct err *e, const char *want)
{
	if (rc == 0)
		fail_msg("accepted, wanted '%s'", want);
	if (!strstr(e->msg, want))
		fail_msg("error '%s' lacks '%s'", e->msg, want);
}

static const char data60[] = "0123456789012345678901234567890123456789012345678901234567890";

static void test_limit_bytes(void **state)
{
	(void)state;
	/* 40 + 60 = 100 bytes; the directory and the hard link cost none. */
	const struct ent l1[] = {
		{ "d/", AE_IFDIR, NULL },
		{ "d/forty", AE_IFREG, "0123456789012345678901234567890123456789" },
		{ "d/empty", AE_IFREG, "" },
		{ "d/link", 0, "d/forty" },
	};
	const struct ent l2[] = { { "sixty", AE_IFREG, data60 + 1 } };
	mktar("l1.tar", l1, ARRAY_SIZE(l1));
	mktar("l2.tar", l2, ARRAY_SIZE(l2));
	const char *both[] = { "l1.tar", "l2.tar" };
	struct err e = { 0 };
	/* At the cap: fine. */
	if (apply_limited(both, 2, true, 100, 100, &e))
		fail_msg("%s", e.msg);
	struct stat st;
	assert_int_equal(fstatat(dfd, "root/tree/sixty", &st, 0), 0);
	assert_int_equal(st.st_size, 60);
	/* One byte less: the second layer goes over (the budget spans layers). */
	memset(&e, 0, sizeof(e));
	want_error(apply_limited(both, 2, true, 99, 100, &e), &e,
		   "image too large: its layers unpack to more than 99 bytes (SANDBOX_IMAGE_MAX_BYTES)");
	/* Each alone fits. */
	if (apply_limited(both + 1, 1, true, 99, 100, &e))
		fail_msg("%s", e.msg);
	/* A rootfs tar (no layers) says so. */
	want_error(apply_limited(both + 1, 1, false, 59, 100, &e), &e,
		   "image too large: it unpacks to more than 59 bytes");
	/* The refused file was never created (its header gave its size). */
	assert_int_equal(fstatat(dfd, "root/tree/sixty", &st, 0), -1);
}

/* Append a pax record "LEN KEY=VALUE\n" to BUF at *n. */
static void pax_record(char *buf, size_t *n, const char *key, const char *value)
{
	size_t body = strlen(key) + strlen(value) + 3; /* ' ', '=', '\n' */
	size_t len = body + 1;
	while (len != body + (size_t)snprintf(NULL, 0, "%zu", len))
		len = body + (size_t)snprintf(NULL, 0, "%zu", len);
	*n += (size_t)sprintf(buf + *n, "%zu %s=%s\n", len, key, value);
}

/* A ustar header block. */
static void tar_header(unsigned char h[512], const char *name, uint64_t size, char type)
{
	memset(h, 0, 512);
	snprintf((char *)h, 100, "%s", name);
	memcpy(h + 100, "0000644", 8);
	memcpy(h + 108, "0000000", 8);
	memcpy(h + 116, "0000000", 8);
	snprintf((char *)h + 124, 12, "%011llo", (unsigned long long)size);
	snprintf((char *)h + 136, 12, "%011o", 1700000000);
	h[156] = (unsigned char)type;
	memcpy(h + 257, "ustar", 6);
	memcpy(h + 263, "00", 2);
	memset(h + 148, ' ', 8);
	unsigned sum = 0;
	for (int i = 0; i < 512; i++)
		sum += h[i];
	snprintf((char *)h + 148, 8, "%06o", sum);
}

/* tmpdir/NAME: a pax (GNU sparse 0.1) tar of one file "big", whose header
 * says SIZE bytes, holding 4096 bytes of data at offset OFF. */
static void mksparse(const char *name, uint64_t size, uint64_t off)
{
	char rec[512] = { 0 }, v[64];
	size_t n = 0;
	snprintf(v, sizeof(v), "%llu", (unsigned long long)size);
	pax_record(rec, &n, "GNU.sparse.size", v);
	snprintf(v, sizeof(v), "%llu,4096", (unsigned long long)off);
	pax_record(rec, &n, "GNU.sparse.map", v);
	unsigned char blk[512];
	char path[128];
	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	FILE *f = fopen(path, "we");
	assert_non_null(f);
	tar_header(blk, "PaxHeaders/big", n, 'x');
	fwrite(blk, 1, 512, f);
	fwrite(rec, 1, 512, f);
	tar_header(blk, "big", 4096, '0');
	fwrite(blk, 1, 512, f);
	memset(blk, 'x', sizeof(blk));
	for (int i = 0; i < 8; i++)
		fwrite(blk, 1, 512, f);
	memset(blk, 0, sizeof(blk));
	fwrite(blk, 1, 512, f);
	fwrite(blk, 1, 512, f);
	assert_int_equal(fclose(f), 0);
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* A sparse entry of 1 TiB (4 KiB of data at its end) is refused under the
 * default 16 GiB at once, and leaves no file of that size behind. So does
 * a header claiming a small size whose data block lies far out. A small
 * sparse file still applies, holes counted. */
static void test_limit_sparse(void **state)
{
	(void)state;
	unsetenv("SANDBOX_IMAGE_MAX_BYTES");
	unsetenv("SANDBOX_IMAGE_MAX_ENTRIES");
	const char *one[] = { "sparse.tar" };
	struct err e = { 0 };
	struct stat st;

	mksparse("sparse.tar", 1ULL << 20, (1ULL << 20) - 4096);
	if (apply_limited(one, 1, true, 0, 0, &e))
		fail_msg("%s", e.msg);
	assert_int_equal(fstatat(dfd, "root/tree/big", &st, 0), 0);
	assert_int_equal(st.st_size, 1 << 20);
	/* The hole counts: 1 MiB, not 4 KiB. */
	want_error(apply_limited(one, 1, true, (1 << 20) - 1, 10, &e), &e, "image too large");

	const uint64_t tib = 1ULL << 40;
	uint64_t offs[][2] = { { tib, tib - 4096 }, { 4096, tib - 4096 } };
	for (size_t i = 0; i < ARRAY_SIZE(offs); i++) {
		mksparse("sparse.tar", offs[i][0], offs[i][1]);
		memset(&e, 0, sizeof(e));
		double t0 = now_s();
		int rc = apply_limited(one, 1, true, 0, 0, &e);
		double dt = now_s() - t0;
		if (rc == 0 || !strstr(e.msg, "image too large: its layers unpack to more than 16 GiB "
					      "(SANDBOX_IMAGE_MAX_BYTES)"))
			fail_msg("case %zu: rc %d, '%s'", i, rc, e.msg);
		if (dt > 2)
			fail_msg("case %zu: took %.1f s", i, dt);
		/* Nothing past the cap on disk: absent, or no bigger than it. */
		if (!fstatat(dfd, "root/tree/big", &st, 0) && (uint64_t)st.st_size > 16 * GIB)
			fail_msg("case %zu: left a %lld-byte file", i, (long long)st.st_size);
	}
}

static void test_limit_entries(void **state)
{
	(void)state;
	const struct ent l1[] = { { "a/", AE_IFDIR, NULL }, { "a/f", AE_IFREG, "x" } };
	const struct ent l2[] = { { "a/.wh.f", AE_IFREG, "" }, { "b", AE_IFLNK, "a" } };
	mktar("e1.tar", l1, ARRAY_SIZE(l1));
	mktar("e2.tar", l2, ARRAY_SIZE(l2));
	const char *both[] = { "e1.tar", "e2.tar" };
	struct err e = { 0 };
	if (apply_limited(both, 2, true, 100, 4, &e))
		fail_msg("%s", e.msg);
	/* Whiteouts and links count, across layers. */
	want_error(apply_limited(both, 2, true, 100, 3, &e), &e,
		   "image has more than 3 entries (SANDBOX_IMAGE_MAX_ENTRIES)");
	struct stat st;
	assert_int_equal(fstatat(dfd, "root/tree/b", &st, AT_SYMLINK_NOFOLLOW), -1);
}

/* The environment sets the limits; a bad value is an error naming it. */
static void test_limit_env(void **state)
{
	(void)state;
	const struct ent l[] = { { "d/", AE_IFDIR, NULL }, { "sixty", AE_IFREG, data60 + 1 } };
	mktar("env.tar", l, ARRAY_SIZE(l));
	const char *one[] = { "env.tar" };
	struct err e = { 0 };
	static const struct { const char *bytes, *entries, *want; } cases[] = {
		{ "60", "2", NULL },                 /* plain bytes, exactly enough */
		{ "1k", NULL, NULL },
		{ "1MiB", "1000", NULL },
		{ "", "", NULL },                    /* empty: the defaults */
		{ "59", NULL, "more than 59 bytes (SANDBOX_IMAGE_MAX_BYTES)" },
		{ "1g", "1", "image has more than 1 entries (SANDBOX_IMAGE_MAX_ENTRIES)" },
		{ "abc", NULL, "SANDBOX_IMAGE_MAX_BYTES=abc: not a size" },
		{ "10x", NULL, "SANDBOX_IMAGE_MAX_BYTES=10x: not a size" },
		{ "-1", NULL, "SANDBOX_IMAGE_MAX_BYTES=-1: not a size" },
		{ "1.5G", NULL, "SANDBOX_IMAGE_MAX_BYTES=1.5G: not a size" },
		{ "99999999999999999999", NULL, "SANDBOX_IMAGE_MAX_BYTES=99999999999999999999: not a size" },
		{ "99999999999G", NULL, "not a size" },
		{ "0", NULL, "SANDBOX_IMAGE_MAX_BYTES=0: must be more than 0" },
		{ NULL, "many", "SANDBOX_IMAGE_MAX_ENTRIES=many: not a number" },
		{ NULL, "10k", "SANDBOX_IMAGE_MAX_ENTRIES=10k: not a number" },
		{ NULL, "-5", "SANDBOX_IMAGE_MAX_ENTRIES=-5: not a number" },
		{ NULL, "0", "SANDBOX_IMAGE_MAX_ENTRIES=0: must be more than 0" },
	};
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		unsetenv("SANDBOX_IMAGE_MAX_BYTES");
		unsetenv("SANDBOX_IMAGE_MAX_ENTRIES");
		if (cases[i].bytes)
			setenv("SANDBOX_IMAGE_MAX_BYTES", cases[i].bytes, 1);
		if (cases[i].entries)
			setenv("SANDBOX_IMAGE_MAX_ENTRIES", cases[i].entries, 1);
		memset(&e, 0, sizeof(e));
		int rc = apply_limited(one, 1, true, 0, 0, &e);
		if (!cases[i].want && rc)
			fail_msg("case %zu: %s", i, e.msg);
		if (cases[i].want)
			want_error(rc, &e, cases[i].want);
	}
	/* apply_set_limits wins over the environment (a bad value included). */
	setenv("SANDBOX_IMAGE_MAX_BYTES", "bad", 1);
	if (apply_limited(one, 1, true, 100, 10, &e))
		fail_msg("%s", e.msg);
	unsetenv("SANDBOX_IMAGE_MAX_BYTES");
	unsetenv("SANDBOX_IMAGE_MAX_ENTRIES");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_normalise),
		cmocka_unit_test(test_apply_good),
		cmocka_unit_test(test_apply_refused),
		cmocka_unit_test(test_apply_through_symlink),
		cmocka_unit_test(test_opaque_deep),
		cmocka_unit_test(test_limit_bytes),
		cmocka_unit_test(test_limit_sparse),
		cmocka_unit_test(test_limit_entries),
		cmocka_unit_test(test_limit_env),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
