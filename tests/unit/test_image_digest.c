/* Unit tests for rootfs/digest.c (digest strings, sha256 of files and of
 * decompressed streams, opening beneath a directory) and for the
 * descriptor checks of rootfs/source.c on a small OCI layout made here. */
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>

#include "../../rootfs/image.h"

#define ABC_SHA "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
#define EMPTY_SHA "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static char tmpdir[64];
static int dfd = -1;

static int setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/sandbox-unit-image.XXXXXX");
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

static void put(const char *path, const void *data, size_t len)
{
	int fd = openat(dfd, path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

static void test_digest_parse(void **state)
{
	(void)state;
	char hex[SHA256_HEX_LEN + 1];
	struct err e = { 0 };
	assert_int_equal(digest_parse("sha256:" ABC_SHA, hex, &e), 0);
	assert_string_equal(hex, ABC_SHA);
	const char *bad[] = {
		"", "sha256:", ABC_SHA, "sha512:" ABC_SHA, "SHA256:" ABC_SHA,
		"sha256:BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD",
		"sha256:" ABC_SHA "0", "sha256:ba7816bf", "sha256:" ABC_SHA "\n",
		"sha256:g a7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015a",
		"sha256:../../../../../../../../../../../../../../../../../etc/passwd",
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		e.msg[0] = '\0';
		if (!digest_parse(bad[i], hex, &e))
			fail_msg("accepted '%s'", bad[i]);
		assert_true(strstr(e.msg, "digest") != NULL);
	}
}

static void test_sha256_file(void **state)
{
	(void)state;
	char hex[SHA256_HEX_LEN + 1];
	uint64_t size = 0;
	struct err e = { 0 };
	put("abc", "abc", 3);
	put("empty", "", 0);
	assert_int_equal(sha256_file_at(dfd, "abc", hex, &size, &e), 0);
	assert_string_equal(hex, ABC_SHA);
	assert_int_equal(size, 3);
	assert_int_equal(sha256_file_at(dfd, "empty", hex, &size, &e), 0);
	assert_string_equal(hex, EMPTY_SHA);
	assert_int_equal(size, 0);
	assert_int_equal(sha256_file_at(dfd, "missing", hex, &size, &e), -1);
	assert_non_null(strstr(e.msg, "missing"));
	/* In pieces, as a stream. */
	struct sha256 *h = sha256_new(&e);
	assert_non_null(h);
	sha256_update(h, "a", 1);
	sha256_update(h, "bc", 2);
	sha256_final(h, hex);
	assert_string_equal(hex, ABC_SHA);
}

static void test_sha256_uncompressed(void **state)
{
	(void)state;
	char hex[SHA256_HEX_LEN + 1];
	struct err e = { 0 };
	/* `printf abc | gzip -n`: the diff_id is the sha256 of "abc". */
	static const unsigned char gz[] = {
		0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x4b, 0x4c,
		0x4a, 0x06, 0x00, 0xc2, 0x41, 0x24, 0x35, 0x03, 0x00, 0x00, 0x00,
	};
	put("abc.gz", gz, sizeof(gz));
	assert_int_equal(sha256_uncompressed_at(dfd, "abc.gz", hex, &e), 0);
	assert_string_equal(hex, ABC_SHA);
	put("abc", "abc", 3); /* a plain stream is its own diff_id */
	assert_int_equal(sha256_uncompressed_at(dfd, "abc", hex, &e), 0);
	assert_string_equal(hex, ABC_SHA);
	put("trunc.gz", gz, 12); /* truncated gzip: an error, not a digest */
	assert_int_equal(sha256_uncompressed_at(dfd, "trunc.gz", hex, &e), -1);
}

static void test_open_beneath(void **state)
{
	(void)state;
	struct err e = { 0 };
	put("file", "x", 1);
	assert_int_equal(mkdirat(dfd, "sub", 0755), 0);
	assert_int_equal(symlinkat("/etc/passwd", dfd, "abs-link"), 0);
	assert_int_equal(symlinkat("../../../../etc/passwd", dfd, "sub/up-link"), 0);
	assert_int_equal(symlinkat("../file", dfd, "sub/in-link"), 0);
	int fd = open_beneath(dfd, "sub/../file", O_RDONLY, &e);
	assert_true(fd >= 0);
	close(fd);
	fd = open_beneath(dfd, "sub/in-link", O_RDONLY, &e); /* stays inside */
	assert_true(fd >= 0);
	close(fd);
	const char *out[] = { "../x", "/etc/passwd", "abs-link", "sub/up-link", "sub/../../x" };
	for (size_t i = 0; i < ARRAY_SIZE(out); i++) {
		fd = open_beneath(dfd, out[i], O_RDONLY, &e);
		if (fd >= 0)
			fail_msg("'%s' opened", out[i]);
	}
	char *text;
	size_t len;
	assert_int_equal(read_file_at(dfd, "file", 1, &text, &len, &e), 0);
	assert_string_equal(text, "x");
	free(text);
	put("big", "0123456789", 10);
	assert_int_equal(read_file_at(dfd, "big", 9, &text, &len, &e), -1);
	assert_int_equal(read_file_at(dfd, "sub", 100, &text, &len, &e), -1); /* a directory */
}

/* ---- descriptors, through src_open on a layout with no layers ---- */

/* Store DATA as a blob; its digest into DIGEST. */
static void blob(const char *data, char digest[80])
{
	char hex[SHA256_HEX_LEN + 1], path[128];
	struct sha256 *h = sha256_new(NULL);
	assert_non_null(h);
	sha256_update(h, data, strlen(data));
	sha256_final(h, hex);
	snprintf(path, sizeof(path), "layout/blobs/sha256/%s", hex);
	put(path, data, strlen(data));
	snprintf(digest, 80, "sha256:%s", hex);
}

/* A layout whose index points at the manifest with (digest, size) as
 * given by the callers' tweaks; src_open's result and error. */
static int open_layout(const char *cfg_digest_override, long cfg_size_delta, long man_size_delta,
		       bool corrupt_manifest, struct err *e, char cfg_hex[SHA256_HEX_LEN + 1])
{
	char cfg[80], man[80], json[1024];
	assert_int_equal(rm_rf_at(dfd, "layout"), 0);
	assert_int_equal(rm_rf_at(dfd, "work"), 0);
	assert_int_equal(mkdirat(dfd, "layout", 0755), 0);
	assert_int_equal(mkdirat(dfd, "layout/blobs", 0755), 0);
	assert_int_equal(mkdirat(dfd, "layout/blobs/sha256", 0755), 0);
	assert_int_equal(mkdirat(dfd, "work", 0755), 0);
	put("layout/oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}", 30);
	const char *config = "{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Cmd\":[\"sh\"]},"
			     "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[]}}";
	blob(config, cfg);
	memcpy(cfg_hex, cfg + 7, SHA256_HEX_LEN + 1);
	snprintf(json, sizeof(json),
		 "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
		 "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"%s\",\"size\":%ld},"
		 "\"layers\":[]}",
		 cfg_digest_override ? cfg_digest_override : cfg, (long)strlen(config) + cfg_size_delta);
	blob(json, man);
	if (corrupt_manifest) {
		char path[128];
		snprintf(path, sizeof(path), "layout/blobs/sha256/%s", man + 7);
		json[strlen(json) - 2] = ' ';
		put(path, json, strlen(json));
	}
	snprintf(json, sizeof(json),
		 "{\"schemaVersion\":2,\"manifests\":[{\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
		 "\"digest\":\"%s\",\"size\":%ld,\"annotations\":{\"org.opencontainers.image.ref.name\":\"t\"}}]}",
		 man, (long)strlen(json) + man_size_delta);
	put("layout/index.json", json, strlen(json));
	char spec[128];
	snprintf(spec, sizeof(spec), "%.60s/layout:t", tmpdir);
	int workfd = openat(dfd, "work", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	assert_true(workfd >= 0);
	struct image_src s;
	int rc = src_open(spec, SRC_OCI, workfd, &s, e);
	if (!rc) {
		assert_string_equal(s.key, cfg_hex);
		assert_int_equal(s.nlayers, 0);
		assert_non_null(strstr(s.config_json, "\"Cmd\":[\"sh\"]"));
	}
	src_close(&s);
	close(workfd);
	return rc;
}

static void test_descriptors(void **state)
{
	(void)state;
	struct err e = { 0 };
	char hex[SHA256_HEX_LEN + 1];
	assert_int_equal(open_layout(NULL, 0, 0, false, &e, hex), 0);
	e.msg[0] = '\0';
	assert_int_equal(open_layout(NULL, 1, 0, false, &e, hex), -1);
	assert_non_null(strstr(e.msg, "descriptor says"));
	assert_int_equal(open_layout(NULL, 0, -1, false, &e, hex), -1);
	assert_non_null(strstr(e.msg, "descriptor says"));
	assert_int_equal(open_layout(NULL, 0, 0, true, &e, hex), -1);
	assert_non_null(strstr(e.msg, "digest mismatch"));
	assert_int_equal(open_layout("sha256:" EMPTY_SHA, 0, 0, false, &e, hex), -1); /* no such blob */
	assert_int_equal(open_layout("sha512:abc", 0, 0, false, &e, hex), -1);
	assert_non_null(strstr(e.msg, "only sha256"));
	assert_int_equal(open_layout("sha256:../../index.json", 0, 0, false, &e, hex), -1);
	assert_non_null(strstr(e.msg, "malformed digest"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_digest_parse),
		cmocka_unit_test(test_sha256_file),
		cmocka_unit_test(test_sha256_uncompressed),
		cmocka_unit_test(test_open_beneath),
		cmocka_unit_test(test_descriptors),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
