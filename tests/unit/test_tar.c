/* The tar writer and extractor (common/tar_write.c, tar_read.c) and cp's placement
 * (common/cp.c): a tree survives the round trip (data, modes, symlinks,
 * long names, empty directories); hostile archives ("..", absolute names,
 * a symlink then a path through it, hard links out, caps, truncation, bad
 * checksums) create nothing outside the root; docker cp's placement. */
#include "unit.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "../../common/cp.h"
#include "../../common/tar.h"

static char base[256];

static void sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void sh(const char *fmt, ...)
{
	char cmd[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	assert_int_equal(system(cmd), 0);
}

static int setup(void **state)
{
	(void)state;
	snprintf(base, sizeof(base), "/tmp/test_tar.XXXXXX");
	assert_non_null(mkdtemp(base));
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	sh("rm -rf %s", base);
	return 0;
}

static char *p(const char *rel)
{
	static char buf[4][1024];
	static int i;
	i = (i + 1) % 4;
	snprintf(buf[i], sizeof(buf[i]), "%s/%s", base, rel);
	return buf[i];
}

/* A tar stream in a memfd, rewound. */
static int archive_of(const char *path, const char *arcname)
{
	int fd = memfd_create("tar", 0);
	struct err e = { 0 };
	assert_true(fd >= 0);
	assert_int_equal(tar_write(fd, AT_FDCWD, path, arcname, 0, &e), 0);
	lseek(fd, 0, SEEK_SET);
	return fd;
}

static int extract(int fd, const char *dir, const struct tar_xopts *o, struct tar_result *res, struct err *e)
{
	int root = open(dir, O_RDONLY | O_DIRECTORY);
	assert_true(root >= 0);
	int rc = tar_extract(fd, root, o, res, e);
	close(root);
	return rc;
}

static void test_round_trip(void **state)
{
	(void)state;
	char longname[300];
	memset(longname, 'n', 250);
	longname[250] = '\0';
	sh("mkdir -p %s/src/sub/deeper %s/src/empty %s/out", base, base, base);
	sh("cd %s/src && printf hello > a && chmod 0640 a && head -c 100000 /dev/urandom > sub/big && "
	   "chmod 4755 sub/big && ln -s ../a sub/link && ln -s /etc/passwd abs && printf x > %s.f && "
	   "mkdir -p %s/%s && printf y > %s/%s/%s && chmod 0711 sub/deeper && : > emptyfile",
	   base, longname, longname, longname, longname, longname, longname);
	int fd = archive_of(p("src"), "src");
	struct err e = { 0 };
	struct tar_xopts o = { 0 };
	struct tar_result res;
	assert_int_equal(extract(fd, p("out"), &o, &res, &e), 0);
	close(fd);
	assert_string_equal(res.top, "src");
	assert_false(res.several_tops);
	/* GNU tar agrees that the archive is well formed, and diff that the trees are the same */
	sh("diff -r --no-dereference %s/src %s/out/src", base, base);
	sh("cd %s && [ \"$(cd src && find . -printf '%%p %%m %%l\\n' | sort)\" = \"$(cd out/src && find . -printf '%%p %%m %%l\\n' | sort)\" ]", base);
	fd = archive_of(p("src"), "src");
	sh("mkdir %s/gnu && cat /proc/%d/fd/%d | tar -x -C %s/gnu && diff -r --no-dereference %s/src %s/gnu/src", base,
	   (int)getpid(), fd, base, base, base);
	close(fd);
	/* and we read what GNU tar writes, pax and GNU long names both */
	for (int f = 0; f < 2; f++) {
		sh("rm -rf %s/out2 && mkdir %s/out2 && cd %s && tar --format=%s -cf %s/t.tar src", base, base, base,
		   f ? "gnu" : "pax", base);
		fd = open(p("t.tar"), O_RDONLY);
		assert_int_equal(extract(fd, p("out2"), &o, &res, &e), 0);
		close(fd);
		sh("diff -r --no-dereference %s/src %s/out2/src", base, base);
	}
}

static void test_root_name(void **state)
{
	(void)state;
	sh("mkdir -p %s/src/d %s/out && echo a > %s/src/d/f", base, base, base);
	int fd = archive_of(p("src"), ".");
	struct err e = { 0 };
	struct tar_xopts o = { 0 };
	struct tar_result res;
	assert_int_equal(extract(fd, p("out"), &o, &res, &e), 0);
	assert_string_equal(res.top, ".");
	assert_false(res.several_tops);
	sh("diff -r %s/src %s/out", base, base);
}

/* A hand-made archive: entries "type:name[:link[:data]]" in the given
 * order, through GNU tar's own format where it can, else ours. */
struct hent {
	char type;
	const char *name, *link, *data;
};

static void put_oct(uint8_t *f, size_t n, unsigned long long v)
{
	char tmp[32];
	snprintf(tmp, sizeof(tmp), "%0*llo", (int)n - 1, v);
	memcpy(f, tmp, n - 1);
	f[n - 1] = 0;
}

static int hand_archive(const struct hent *ents, size_t n, bool end)
{
	int fd = memfd_create("tar", 0);
	for (size_t i = 0; i < n; i++) {
		uint8_t h[512] = { 0 };
		size_t dlen = ents[i].data ? strlen(ents[i].data) : 0;
		snprintf((char *)h, 100, "%s", ents[i].name);
		put_oct(h + 100, 8, ents[i].type == '5' ? 0755 : 0644);
		put_oct(h + 108, 8, 0);
		put_oct(h + 116, 8, 0);
		put_oct(h + 124, 12, dlen);
		put_oct(h + 136, 12, 0);
		h[156] = (uint8_t)ents[i].type;
		if (ents[i].link)
			snprintf((char *)h + 157, 100, "%s", ents[i].link);
		memcpy(h + 257, "ustar", 6);
		memcpy(h + 263, "00", 2);
		memset(h + 148, ' ', 8);
		unsigned sum = 0;
		for (int k = 0; k < 512; k++)
			sum += h[k];
		snprintf((char *)h + 148, 8, "%06o", sum);
		assert_int_equal(write(fd, h, 512), 512);
		if (dlen) {
			uint8_t blk[512] = { 0 };
			assert_true(dlen <= 512);
			memcpy(blk, ents[i].data, dlen);
			assert_int_equal(write(fd, blk, 512), 512);
		}
	}
	if (end) {
		uint8_t z[1024] = { 0 };
		assert_int_equal(write(fd, z, 1024), 1024);
	}
	lseek(fd, 0, SEEK_SET);
	return fd;
}

static int try_hand(const struct hent *ents, size_t n, struct err *e, struct tar_result *res)
{
	sh("rm -rf %s/out %s/outside && mkdir -p %s/out %s/outside", base, base, base, base);
	int fd = hand_archive(ents, n, true);
	struct tar_xopts o = { .max_bytes = 1 << 20, .max_entries = 100 };
	int rc = extract(fd, p("out"), &o, res, e);
	close(fd);
	/* whatever happened: nothing outside the root */
	DIR *d = opendir(p("outside"));
	int count = 0;
	struct dirent *de;
	while ((de = readdir(d)))
		count += de->d_name[0] != '.';
	closedir(d);
	assert_int_equal(count, 0);
	struct stat st;
	assert_int_not_equal(stat("/tmp/test_tar_escape", &st), 0);
	return rc;
}

static void test_hostile(void **state)
{
	(void)state;
	struct err e;
	struct tar_result res;
	const struct hent dotdot[] = { { '0', "../outside/x", NULL, "bad" } };
	memset(&e, 0, sizeof(e));
	assert_int_equal(try_hand(dotdot, 1, &e, &res), -1);
	assert_non_null(strstr(e.msg, ".."));
	const struct hent dotdot2[] = { { '0', "a/../../outside/x", NULL, "bad" } };
	assert_int_equal(try_hand(dotdot2, 1, &e, &res), -1);
	const struct hent abs[] = { { '0', "/tmp/test_tar_escape", NULL, "bad" } };
	assert_int_equal(try_hand(abs, 1, &e, &res), -1);
	assert_non_null(strstr(e.msg, "absolute"));
	/* a symlink, then a file through it */
	char out_abs[600];
	snprintf(out_abs, sizeof(out_abs), "%s/outside", base);
	const struct hent through[] = { { '2', "l", out_abs, NULL }, { '0', "l/x", NULL, "bad" } };
	assert_int_equal(try_hand(through, 2, &e, &res), -1);
	assert_non_null(strstr(e.msg, "symlink"));
	const struct hent through_rel[] = { { '2', "l", "../outside", NULL }, { '5', "l/d", NULL, NULL } };
	assert_int_equal(try_hand(through_rel, 2, &e, &res), -1);
	/* a symlink, then a file of the same name: the link is replaced, not written through */
	snprintf(out_abs, sizeof(out_abs), "%s/outside/x", base);
	const struct hent over[] = { { '2', "l", out_abs, NULL }, { '0', "l", NULL, "data" } };
	assert_int_equal(try_hand(over, 2, &e, &res), 0);
	struct stat st;
	assert_int_equal(lstat(p("out/l"), &st), 0);
	assert_true(S_ISREG(st.st_mode));
	/* a hard link to something outside */
	const struct hent hl[] = { { '1', "h", "../outside/x", NULL } };
	assert_int_equal(try_hand(hl, 1, &e, &res), -1);
	const struct hent hl2[] = { { '2', "l", "/etc", NULL }, { '1', "h", "l/passwd", NULL } };
	assert_int_equal(try_hand(hl2, 2, &e, &res), -1);
	const struct hent hlok[] = { { '0', "f", NULL, "same" }, { '1', "h", "f", NULL } };
	assert_int_equal(try_hand(hlok, 2, &e, &res), 0);
	/* a directory is not replaced by a file */
	const struct hent dirfile[] = { { '5', "d", NULL, NULL }, { '0', "d", NULL, "x" } };
	assert_int_equal(try_hand(dirfile, 2, &e, &res), -1);
	/* devices are skipped, unknown types refused */
	const struct hent dev[] = { { '3', "tty", NULL, NULL }, { '0', "f", NULL, "x" } };
	assert_int_equal(try_hand(dev, 2, &e, &res), 0);
	assert_int_not_equal(lstat(p("out/tty"), &st), 0);
	const struct hent sparse[] = { { 'S', "s", NULL, NULL } };
	assert_int_equal(try_hand(sparse, 1, &e, &res), -1);
	/* several top-level names are noted */
	const struct hent tops[] = { { '0', "a", NULL, "x" }, { '0', "./b", NULL, "x" } };
	assert_int_equal(try_hand(tops, 2, &e, &res), 0);
	assert_true(res.several_tops);
}

static void test_malformed(void **state)
{
	(void)state;
	struct err e = { 0 };
	struct tar_result res;
	struct tar_xopts o = { 0 };
	sh("rm -rf %s/out && mkdir -p %s/out", base, base);
	/* a bad checksum */
	const struct hent one[] = { { '0', "f", NULL, "data" } };
	int fd = hand_archive(one, 1, true);
	uint8_t h[512];
	assert_int_equal(pread(fd, h, 512, 0), 512);
	h[0] ^= 1;
	assert_int_equal(pwrite(fd, h, 512, 0), 512);
	assert_int_equal(extract(fd, p("out"), &o, &res, &e), -1);
	assert_non_null(strstr(e.msg, "checksum"));
	close(fd);
	/* truncated inside the data */
	fd = hand_archive(one, 1, false);
	assert_int_equal(ftruncate(fd, 600), 0);
	assert_int_equal(extract(fd, p("out"), &o, &res, &e), -1);
	assert_non_null(strstr(e.msg, "truncated"));
	close(fd);
	/* empty */
	fd = memfd_create("t", 0);
	assert_int_equal(extract(fd, p("out"), &o, &res, &e), -1);
	close(fd);
	/* a huge pax header */
	fd = memfd_create("t", 0);
	uint8_t x[512] = { 0 };
	snprintf((char *)x, 100, "pax");
	put_oct(x + 124, 12, 1ULL << 30);
	x[156] = 'x';
	memset(x + 148, ' ', 8);
	unsigned sum = 0;
	for (int k = 0; k < 512; k++)
		sum += x[k];
	snprintf((char *)x + 148, 8, "%06o", sum);
	assert_int_equal(write(fd, x, 512), 512);
	lseek(fd, 0, SEEK_SET);
	assert_int_equal(extract(fd, p("out"), &o, &res, &e), -1);
	close(fd);
}

static void test_caps(void **state)
{
	(void)state;
	sh("mkdir -p %s/src/many %s/out && cd %s/src && head -c 300000 /dev/zero > big && "
	   "for i in $(seq 1 50); do : > many/$i; done", base, base, base);
	struct err e = { 0 };
	struct tar_result res;
	int fd = archive_of(p("src/big"), "big");
	struct tar_xopts o = { .max_bytes = 200000 };
	assert_int_equal(extract(fd, p("out"), &o, &res, &e), -1);
	assert_int_equal(res.over, TAR_OVER_BYTES);
	assert_true(res.bytes <= 200000);
	close(fd);
	fd = archive_of(p("src/many"), "many");
	struct tar_xopts o2 = { .max_entries = 10 };
	assert_int_equal(extract(fd, p("out"), &o2, &res, &e), -1);
	assert_int_equal(res.over, TAR_OVER_ENTRIES);
	assert_int_equal(res.entries, 10);
	close(fd);
	/* cp_receive leaves nothing when a cap is hit */
	sh("rm -rf %s/out && mkdir %s/out", base, base);
	fd = archive_of(p("src/big"), "big");
	bool over;
	assert_int_equal(cp_receive(fd, p("out/copy"), 0, 200000, 0, true, &over, &e), -1);
	assert_true(over);
	close(fd);
	sh("[ -z \"$(ls -A %s/out)\" ]", base);
}

/* cp_send SRC | cp_receive DEST, as the user would type them. */
static int cp(const char *src, const char *dest, unsigned flags, struct err *e)
{
	char path[1024];
	unsigned contents;
	assert_int_equal(cp_src_path(p(src), path, sizeof(path), &contents, e), 0);
	int fd = memfd_create("t", 0);
	if (cp_send(fd, path, contents | flags, e)) {
		close(fd);
		return -1;
	}
	lseek(fd, 0, SEEK_SET);
	size_t n = strlen(dest);
	char d[1024];
	snprintf(d, sizeof(d), "%s", p(dest));
	(void)n;
	int rc = cp_receive(fd, d, contents | flags, 0, 0, false, NULL, e);
	close(fd);
	return rc;
}

static void test_placement(void **state)
{
	(void)state;
	struct err e = { 0 };
	sh("mkdir -p %s/s/dir/sub %s/d/existing/dir && echo one > %s/s/file && echo two > %s/s/dir/sub/f && "
	   "echo old > %s/d/oldfile && echo keep > %s/d/existing/dir/keep", base, base, base, base, base, base);
	/* a file */
	assert_int_equal(cp("s/file", "d", 0, &e), 0);            /* into a directory */
	sh("grep -q one %s/d/file", base);
	assert_int_equal(cp("s/file", "d/newname", 0, &e), 0);    /* a new name */
	sh("grep -q one %s/d/newname", base);
	assert_int_equal(cp("s/file", "d/oldfile", 0, &e), 0);    /* onto a file */
	sh("grep -q one %s/d/oldfile", base);
	assert_int_equal(cp("s/file", "d/nodir/", 0, &e), -1);    /* a missing directory */
	assert_int_equal(cp("s/file", "d/no/such/x", 0, &e), -1); /* the parent must exist */
	assert_non_null(strstr(e.msg, "parent"));
	/* a directory */
	assert_int_equal(cp("s/dir", "d/newdir", 0, &e), 0);      /* created */
	sh("grep -q two %s/d/newdir/sub/f", base);
	assert_int_equal(cp("s/dir", "d/existing", 0, &e), 0);    /* inside, merged */
	sh("grep -q two %s/d/existing/dir/sub/f && grep -q keep %s/d/existing/dir/keep", base, base);
	assert_int_equal(cp("s/dir/.", "d/existing", 0, &e), 0);  /* its contents */
	sh("grep -q two %s/d/existing/sub/f", base);
	assert_int_equal(cp("s/dir", "d/oldfile", 0, &e), -1);    /* onto a file */
	assert_int_equal(cp("s/file/.", "d", 0, &e), -1);         /* contents of a file */
	/* no temporary directory is left behind */
	sh("! ls -A %s/d %s/d/existing | grep -q sandbox-cp", base, base);
	/* a tar stream merged into a directory (cp - ID:DEST) */
	sh("mkdir -p %s/into && cd %s/s && tar -cf %s/in.tar file dir", base, base, base);
	int fd = open(p("in.tar"), O_RDONLY);
	assert_int_equal(cp_receive(fd, p("into"), CP_INTO, 0, 0, false, NULL, &e), 0);
	close(fd);
	sh("grep -q one %s/into/file && grep -q two %s/into/dir/sub/f", base, base);
	fd = open(p("in.tar"), O_RDONLY);
	assert_int_equal(cp_receive(fd, p("into/file"), CP_INTO, 0, 0, false, NULL, &e), -1);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_root_name, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hostile, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_caps, setup, teardown),
		cmocka_unit_test_setup_teardown(test_placement, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
