/* The container spec's encoding (common/spec.c): a full spec survives the
 * round trip field by field; every malformed buffer is refused (each case
 * built record by record, so it differs from a valid one in one point);
 * the limits hold on both sides. */
#include "unit.h"

#include <arpa/inet.h>

#include "../../common/spec.h"

/* ------------------------------------------------------------------ */
/* hand-made encodings */

enum {
	T_HOSTNAME = 1, T_CWD, T_USER, T_ENV, T_ARG, T_MEMORY, T_PIDS, T_CPU_QUOTA, T_RLIMIT, T_FLAGS,
	T_NETWORK, T_TTY, T_IMAGE, T_VOLUME, T_ETH, T_UPPER_SIZE, T_UPPER_DEV, T_ACTION, T_CAPS, T_MASKED,
	T_RO_PATH, T_POD, T_BIND,
};

struct b {
	uint8_t buf[CSPEC_MAX_SIZE + 64];
	size_t len;
};
static struct b B;

static void b_u16(uint16_t v) { B.buf[B.len++] = (uint8_t)v; B.buf[B.len++] = (uint8_t)(v >> 8); }
static void b_u32(uint32_t v) { b_u16((uint16_t)v); b_u16((uint16_t)(v >> 16)); }
static void b_raw(const void *p, size_t n) { memcpy(B.buf + B.len, p, n); B.len += n; }

/* A header (the records' length set by b_end) and the one record every
 * spec needs, so a case adds only what it tests. */
static void b_begin_bare(void)
{
	B.len = 0;
	b_u32(CSPEC_MAGIC);
	b_u32(CSPEC_VERSION);
	b_u32(0);
}
static void b_rec(uint16_t tag, const void *v, size_t n)
{
	b_u16(tag);
	b_u16(0);
	b_u32((uint32_t)n);
	b_raw(v, n);
}
static void b_str(uint16_t tag, const char *s) { b_rec(tag, s, strlen(s) + 1); }
static void b_recu64(uint16_t tag, uint64_t v)
{
	uint8_t x[8];
	for (int i = 0; i < 8; i++)
		x[i] = (uint8_t)(v >> (8 * i));
	b_rec(tag, x, 8);
}
static void b_recu32(uint16_t tag, uint32_t v)
{
	uint8_t x[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };
	b_rec(tag, x, 4);
}
static void b_begin(void)
{
	b_begin_bare();
	b_str(T_ARG, "true");
}
static void b_end(void)
{
	uint32_t body = (uint32_t)(B.len - 12);
	for (int i = 0; i < 4; i++)
		B.buf[8 + i] = (uint8_t)(body >> (8 * i));
}

static struct cspec out;

static int dec(void)
{
	struct cspec_err e = { { 0 } };
	int r = cspec_decode(B.buf, B.len, &out, &e);
	if (r)
		assert_true(e.msg[0] != '\0');      /* every refusal says why */
	return r;
}

#define REFUSED(what) do { b_end(); assert_int_equal(dec(), -1); (void)(what); } while (0)

/* ------------------------------------------------------------------ */

static struct cspec full(void)
{
	struct cspec s = {
		.hostname = "probe-box", .cwd = "/srv/app", .user = "1000:1000",
		.env = { "PATH=/bin", "A=", "B=x=y" }, .nenv = 3,
		.argv = { "/bin/sh", "-c", "echo \"a b\"", "" }, .nargv = 4,
		.memory = 64ULL << 20, .pids = 100, .cpu_quota_us = 150000,
		.rlimits = { { 7, 1024, 4096 }, { 4, 0, 0 } }, .nrlimits = 2,
		.read_only = true, .init = true, .audit_privileged = true, .network = CSPEC_NET_HOST,
		.stdin_open = true, .tty = true, .rows = 50, .cols = 132,
		.image_dev = "pmem0", .image_fs = "erofs", .image_dax = true,
		.volumes = { { "vdb", "/data", false, false }, { "vdc", "/ro/x", true, false }, { "fs0", "/host", true, true } },
		.nvolumes = 3,
		.eth = true, .eth_addr = htonl(0xac1e0502), .eth_gw = htonl(0xac1e0501), .eth_dns = htonl(0x08080808),
		.eth_prefix = 24, .upper_dev = "vdd", .upper_scratch = true,
	};
	return s;
}

static void assert_same(const struct cspec *a, const struct cspec *b)
{
	assert_string_equal(a->hostname, b->hostname);
	assert_string_equal(a->cwd, b->cwd);
	assert_string_equal(a->user, b->user);
	assert_int_equal(a->nenv, b->nenv);
	for (unsigned i = 0; i < a->nenv; i++)
		assert_string_equal(a->env[i], b->env[i]);
	assert_int_equal(a->nargv, b->nargv);
	for (unsigned i = 0; i < a->nargv; i++)
		assert_string_equal(a->argv[i], b->argv[i]);
	assert_true(a->memory == b->memory && a->pids == b->pids && a->cpu_quota_us == b->cpu_quota_us);
	assert_int_equal(a->nrlimits, b->nrlimits);
	for (unsigned i = 0; i < a->nrlimits; i++)
		assert_true(a->rlimits[i].resource == b->rlimits[i].resource && a->rlimits[i].soft == b->rlimits[i].soft &&
			    a->rlimits[i].hard == b->rlimits[i].hard);
	assert_true(a->read_only == b->read_only && a->init == b->init && a->network == b->network);
	assert_true(a->audit_privileged == b->audit_privileged);
	assert_true(a->upper_scratch == b->upper_scratch);
	assert_true(a->stdin_open == b->stdin_open && a->tty == b->tty && a->rows == b->rows && a->cols == b->cols);
	assert_string_equal(a->image_dev, b->image_dev);
	assert_string_equal(a->image_fs, b->image_fs);
	assert_true(a->image_dax == b->image_dax);
	assert_int_equal(a->nvolumes, b->nvolumes);
	for (unsigned i = 0; i < a->nvolumes; i++) {
		assert_string_equal(a->volumes[i].dev, b->volumes[i].dev);
		assert_string_equal(a->volumes[i].path, b->volumes[i].path);
		assert_int_equal(a->volumes[i].ro, b->volumes[i].ro);
		assert_int_equal(a->volumes[i].fs, b->volumes[i].fs);
	}
	assert_true(a->eth == b->eth && a->eth_addr == b->eth_addr && a->eth_gw == b->eth_gw &&
		    a->eth_dns == b->eth_dns && a->eth_prefix == b->eth_prefix);
	assert_true(a->upper_size == b->upper_size);
	if (a->upper_dev || b->upper_dev)
		assert_string_equal(a->upper_dev, b->upper_dev);
}

static uint8_t enc[CSPEC_MAX_SIZE];

static void test_round_trip_full(void **state)
{
	(void)state;
	struct cspec in = full();
	struct cspec_err e;
	size_t len;
	assert_int_equal(cspec_encode(&in, enc, sizeof(enc), &len, &e), 0);
	assert_int_equal(cspec_decode(enc, len, &out, &e), 0);
	assert_same(&in, &out);
	/* The decoded strings point into the buffer (nothing is copied). */
	assert_true((const uint8_t *)out.argv[0] > enc && (const uint8_t *)out.argv[0] < enc + len);
	/* Encoding the decoded spec gives the same bytes. */
	static uint8_t again[CSPEC_MAX_SIZE];
	size_t len2;
	assert_int_equal(cspec_encode(&out, again, sizeof(again), &len2, &e), 0);
	assert_int_equal(len2, len);
	assert_memory_equal(again, enc, len);
}

static void test_round_trip_minimal(void **state)
{
	(void)state;
	struct cspec in = { .argv = { "true" }, .nargv = 1 };
	struct cspec_err e;
	size_t len;
	assert_int_equal(cspec_encode(&in, enc, sizeof(enc), &len, &e), 0);
	assert_int_equal(len, 12 + 8 + 5);
	assert_int_equal(cspec_decode(enc, len, &out, &e), 0);
	assert_null(out.hostname);
	assert_null(out.cwd);
	assert_null(out.user);
	assert_null(out.image_dev);
	assert_false(out.eth || out.tty || out.read_only || out.init || out.stdin_open || out.audit_privileged ||
		     out.upper_scratch);
	assert_int_equal(out.network, CSPEC_NET_NONE);
	assert_true(out.memory == 0 && out.upper_size == 0);
	assert_null(out.upper_dev);
	assert_int_equal(out.nargv, 1);
	assert_string_equal(out.argv[0], "true");
}

/* Every prefix of a valid encoding and every single-byte change to its
 * header is refused; a refusal leaves *OUT zeroed. */
static void test_truncated_and_header(void **state)
{
	(void)state;
	struct cspec in = full();
	struct cspec_err e;
	size_t len;
	assert_int_equal(cspec_encode(&in, enc, sizeof(enc), &len, &e), 0);
	for (size_t n = 0; n < len; n++) {
		memset(&out, 0xa5, sizeof(out));
		assert_int_equal(cspec_decode(enc, n, &out, &e), -1);
		assert_null(out.argv[0]);
		assert_int_equal(out.nargv, 0);
	}
	for (size_t i = 0; i < 12; i++) {
		enc[i] ^= 0x01;
		assert_int_equal(cspec_decode(enc, len, &out, &e), -1);
		enc[i] ^= 0x01;
	}
	assert_int_equal(cspec_decode(enc, len, &out, &e), 0);
	/* Trailing bytes after the records. */
	enc[len] = 0;
	assert_int_equal(cspec_decode(enc, len + 1, &out, &e), -1);
}

static void test_header(void **state)
{
	(void)state;
	b_begin();
	b_end();
	assert_int_equal(dec(), 0);
	B.buf[4] = 2;           /* version 2 */
	assert_int_equal(dec(), -1);
	B.buf[4] = 0;           /* version 0 */
	assert_int_equal(dec(), -1);
	B.buf[4] = 1;
	B.buf[0] ^= 0x20;       /* magic */
	assert_int_equal(dec(), -1);
	B.buf[0] ^= 0x20;
	B.buf[8]++;             /* records' length one more than there is */
	assert_int_equal(dec(), -1);
	B.buf[8] -= 2;          /* one less */
	assert_int_equal(dec(), -1);
}

static void test_record_framing(void **state)
{
	(void)state;
	/* The value's length beyond the buffer. */
	b_begin();
	b_u16(T_HOSTNAME);
	b_u16(0);
	b_u32(100);
	b_raw("box", 4);
	REFUSED("vlen past the end");
	/* A record header cut short. */
	b_begin();
	b_u16(T_HOSTNAME);
	b_u16(0);
	REFUSED("short header");
	/* Reserved bits. */
	b_begin();
	b_u16(T_HOSTNAME);
	b_u16(1);
	b_u32(4);
	b_raw("box", 4);
	REFUSED("reserved");
	/* Unknown tags. */
	uint16_t unknown[] = { 0, T_RO_PATH + 1, 31, 32, 0xffff };
	for (size_t i = 0; i < ARRAY_SIZE(unknown); i++) {
		b_begin();
		b_str(unknown[i], "x");
		REFUSED("unknown tag");
	}
}

static void test_strings(void **state)
{
	(void)state;
	b_begin();
	b_rec(T_HOSTNAME, "ab\0c", 5);          /* a NUL inside */
	REFUSED("NUL inside");
	b_begin();
	b_rec(T_HOSTNAME, "abc", 3);            /* no NUL at the end */
	REFUSED("no NUL");
	b_begin();
	b_rec(T_HOSTNAME, "", 0);               /* no bytes at all */
	REFUSED("empty record");
	b_begin();
	b_rec(T_ARG, "a\0b", 4);                /* an argument with a NUL inside */
	REFUSED("arg NUL inside");
	b_begin();
	b_rec(T_IMAGE, "vda\0erofs\0x", 12);   /* a third string */
	REFUSED("image: trailing");
	b_begin();
	b_rec(T_IMAGE, "vda", 4);              /* one string of two */
	REFUSED("image: one string");
	b_begin();
	b_str(T_HOSTNAME, "");                  /* empty hostname, cwd, user */
	REFUSED("empty hostname");
	b_begin();
	b_str(T_CWD, "");
	REFUSED("empty cwd");
	b_begin();
	b_str(T_USER, "");
	REFUSED("empty user");
	char host[CSPEC_MAX_HOSTNAME + 2];
	memset(host, 'h', sizeof(host) - 1);
	host[sizeof(host) - 1] = '\0';
	b_begin();
	b_str(T_HOSTNAME, host);
	REFUSED("hostname too long");
	host[CSPEC_MAX_HOSTNAME] = '\0';
	b_begin();
	b_str(T_HOSTNAME, host);
	b_end();
	assert_int_equal(dec(), 0);
	/* An argument may be empty (exec decides), the command too. */
	b_begin_bare();
	b_str(T_ARG, "");
	b_str(T_ARG, "");
	b_end();
	assert_int_equal(dec(), 0);
	assert_int_equal(out.nargv, 2);
}

static void test_long_strings(void **state)
{
	(void)state;
	static char big[CSPEC_MAX_STR + 2];
	memset(big, 'a', sizeof(big) - 1);
	big[CSPEC_MAX_STR] = '\0';              /* exactly the limit */
	b_begin();
	b_str(T_ARG, big);
	b_end();
	assert_int_equal(dec(), 0);
	big[CSPEC_MAX_STR] = 'a';               /* one more */
	b_begin();
	b_str(T_ARG, big);
	REFUSED("arg too long");
	memcpy(big, "K=", 2);
	b_begin();
	b_str(T_ENV, big);
	REFUSED("env too long");
	/* More than CSPEC_MAX_SIZE in all, of strings each within its limit. */
	big[CSPEC_MAX_STR / 2] = '\0';
	b_begin();
	b_str(T_ARG, big);
	b_str(T_ARG, big);
	b_str(T_ARG, big);
	b_end();
	assert_true(B.len > CSPEC_MAX_SIZE);
	assert_int_equal(dec(), -1);
	/* And the encoder will not make one. */
	struct cspec s = { .argv = { big, big, big }, .nargv = 3 };
	struct cspec_err e;
	size_t len;
	static uint8_t huge[2 * CSPEC_MAX_SIZE];
	assert_int_equal(cspec_encode(&s, huge, sizeof(huge), &len, &e), -1);
	assert_non_null(strstr(e.msg, "fit"));
}

static void test_singletons_twice(void **state)
{
	(void)state;
	uint8_t tty[4] = { 24, 0, 80, 0 };
	uint8_t eth[16] = { 10, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 24, 0, 0, 0 };
	for (int t = T_HOSTNAME; t <= T_UPPER_DEV; t++) {
		if (t == T_ENV || t == T_ARG || t == T_RLIMIT || t == T_VOLUME)
			continue;
		b_begin();
		for (int k = 0; k < 2; k++) {
			switch (t) {
			case T_HOSTNAME: case T_CWD: b_str((uint16_t)t, "/x"); break;
			case T_USER: b_str((uint16_t)t, "root"); break;
			case T_UPPER_DEV: b_str((uint16_t)t, "vdc"); break;
			case T_MEMORY: case T_PIDS: case T_CPU_QUOTA: case T_UPPER_SIZE: b_recu64((uint16_t)t, 5); break;
			case T_FLAGS: b_recu32((uint16_t)t, 1); break;
			case T_NETWORK: b_recu32((uint16_t)t, CSPEC_NET_HOST); break;
			case T_TTY: b_rec((uint16_t)t, tty, 4); break;
			case T_IMAGE: b_rec((uint16_t)t, "vda\0erofs", 10); break;
			case T_ETH: b_rec((uint16_t)t, eth, 16); break;
			}
			if (k == 0) {   /* once is fine */
				b_end();
				assert_int_equal(dec(), 0);
			}
		}
		REFUSED("twice");
	}
	/* The repeatable ones keep their order. */
	b_begin_bare();
	b_str(T_ENV, "A=1");
	b_str(T_ARG, "one");
	b_str(T_ENV, "A=2");
	b_str(T_ARG, "two");
	b_end();
	assert_int_equal(dec(), 0);
	assert_string_equal(out.env[1], "A=2");
	assert_string_equal(out.argv[1], "two");
}

static void test_fixed_sizes(void **state)
{
	(void)state;
	uint8_t z[24] = { 1 };
	int fixed[][2] = { { T_MEMORY, 8 }, { T_PIDS, 8 }, { T_CPU_QUOTA, 8 }, { T_UPPER_SIZE, 8 }, { T_FLAGS, 4 },
			   { T_NETWORK, 4 }, { T_TTY, 4 }, { T_RLIMIT, 20 }, { T_ETH, 16 } };
	for (size_t i = 0; i < ARRAY_SIZE(fixed); i++) {
		b_begin();
		b_rec((uint16_t)fixed[i][0], z, (size_t)fixed[i][1] - 1);
		REFUSED("short");
		b_begin();
		b_rec((uint16_t)fixed[i][0], z, (size_t)fixed[i][1] + 1);
		REFUSED("long");
	}
}

static void test_values(void **state)
{
	(void)state;
	/* 0 is "not set", which is never written. */
	b_begin();
	b_recu64(T_MEMORY, 0);
	REFUSED("memory 0");
	b_begin();
	b_recu32(T_FLAGS, 0);
	REFUSED("flags 0");
	b_begin();
	b_recu32(T_FLAGS, 256);
	REFUSED("unknown flag");
	b_begin();
	b_recu32(T_NETWORK, CSPEC_NET_NONE);
	REFUSED("network none written");
	b_begin();
	b_recu32(T_NETWORK, 2);
	REFUSED("network 2");
	b_begin();
	b_recu64(T_MEMORY, 1ULL << 63);
	REFUSED("memory above 2^63");
	/* Environment: KEY=VALUE. */
	b_begin();
	b_str(T_ENV, "NOEQUALS");
	REFUSED("env without =");
	b_begin();
	b_str(T_ENV, "=x");
	REFUSED("env without a key");
	/* rlimits */
	uint8_t rl[20] = { 16 };                /* resource 16 */
	b_begin();
	b_rec(T_RLIMIT, rl, 20);
	REFUSED("rlimit resource");
	memset(rl, 0, sizeof(rl));
	rl[0] = 7;
	rl[4] = 2;                              /* soft 2 > hard 0 */
	b_begin();
	b_rec(T_RLIMIT, rl, 20);
	REFUSED("soft > hard");
	rl[12] = 2;                             /* hard 2 */
	b_begin();
	b_rec(T_RLIMIT, rl, 20);
	b_end();
	assert_int_equal(dec(), 0);
	b_rec(T_RLIMIT, rl, 20);
	REFUSED("rlimit twice");
	/* Devices and paths. */
	const char *bad_dev[] = { "../vda", "VDA", "vd a", "abcdefghijklmnopqrstuvwxyz0123456" };
	for (size_t i = 0; i < ARRAY_SIZE(bad_dev); i++) {
		uint8_t v[64] = { 0 };
		size_t n = strlen(bad_dev[i]) + 1;
		memcpy(v, bad_dev[i], n);
		memcpy(v + n, "ext4", 5);
		b_begin();
		b_rec(T_IMAGE, v, n + 5);
		REFUSED("image dev");
		memset(v, 0, sizeof(v));
		memcpy(v + 4, bad_dev[i], n);
		memcpy(v + 4 + n, "/data", 6);
		b_begin();
		b_rec(T_VOLUME, v, 4 + n + 6);
		REFUSED("volume dev");
		b_begin();
		b_str(T_UPPER_DEV, bad_dev[i]);
		REFUSED("writable layer dev");
	}
	/* The writable layer: a disk or a tmpfs size, not both. */
	b_begin();
	b_str(T_UPPER_DEV, "vdc");
	b_end();
	assert_int_equal(dec(), 0);
	assert_string_equal(out.upper_dev, "vdc");
	assert_true(out.upper_size == 0);
	b_recu64(T_UPPER_SIZE, 1 << 20);
	REFUSED("writable layer on a disk and a tmpfs size");
	b_begin();
	b_str(T_UPPER_DEV, "");
	REFUSED("writable layer dev empty");
	b_begin();
	b_rec(T_IMAGE, "vda\0", 5);             /* no fstype */
	REFUSED("image fstype empty");
	b_begin();
	b_rec(T_VOLUME, "\0\0\0\0vdb\0data", 13);    /* relative */
	REFUSED("volume path relative");
	b_begin();
	b_rec(T_VOLUME, "\4\0\0\0vdb\0/data", 14);   /* unknown volume flag */
	REFUSED("volume flag");
	b_begin();
	b_rec(T_VOLUME, "\1\0\0\0vdb\0/data", 14);
	b_end();
	assert_int_equal(dec(), 0);
	assert_true(out.volumes[0].ro);
	assert_false(out.volumes[0].fs);
	b_begin();
	b_rec(T_VOLUME, "\3\0\0\0fs0\0/data", 14);   /* a virtio-fs tag, read-only */
	b_end();
	assert_int_equal(dec(), 0);
	assert_true(out.volumes[0].ro);
	assert_true(out.volumes[0].fs);
	assert_string_equal(out.volumes[0].dev, "fs0");
	/* eth0 */
	uint8_t eth[16] = { 10, 0, 0, 2, 10, 0, 0, 1, 0, 0, 0, 0, 0 };
	b_begin();
	b_rec(T_ETH, eth, 16);
	REFUSED("prefix 0");
	eth[12] = 33;
	b_begin();
	b_rec(T_ETH, eth, 16);
	REFUSED("prefix 33");
	eth[12] = 32;
	eth[13] = 1;                            /* prefix 288 */
	b_begin();
	b_rec(T_ETH, eth, 16);
	REFUSED("prefix 288");
	eth[13] = 0;
	memset(eth, 0, 4);                      /* no address */
	b_begin();
	b_rec(T_ETH, eth, 16);
	REFUSED("no address");
	/* No command. */
	b_begin_bare();
	b_str(T_HOSTNAME, "box");
	REFUSED("no arg");
}

static void test_counts(void **state)
{
	(void)state;
	struct { int tag, max; } lists[] = { { T_ARG, CSPEC_MAX_ARGS }, { T_ENV, CSPEC_MAX_ENV },
					     { T_RLIMIT, CSPEC_MAX_RLIMITS }, { T_VOLUME, CSPEC_MAX_VOLUMES } };
	for (size_t l = 0; l < ARRAY_SIZE(lists); l++) {
		for (int extra = 0; extra < 2; extra++) {
			if (lists[l].tag == T_ARG)
				b_begin_bare();
			else
				b_begin();
			for (int i = 0; i < lists[l].max + extra; i++) {
				uint8_t v[40] = { 0 };
				switch (lists[l].tag) {
				case T_ARG: b_str(T_ARG, "x"); break;
				case T_ENV: b_str(T_ENV, "K=V"); break;
				case T_RLIMIT:
					v[0] = (uint8_t)(i % 16);       /* the 17th repeats one: the count is first */
					b_rec(T_RLIMIT, v, 20);
					break;
				case T_VOLUME:
					memcpy(v + 4, "vdb\0/v", 7);
					b_rec(T_VOLUME, v, 11);
					break;
				}
			}
			b_end();
			assert_int_equal(dec(), extra ? -1 : 0);
		}
	}
}

/* The encoder checks what the decoder checks, and its buffer's size. */
static void test_encoder_limits(void **state)
{
	(void)state;
	static struct cspec s;
	struct cspec_err e;
	size_t len;
	memset(&s, 0, sizeof(s));
	for (int i = 0; i < CSPEC_MAX_ARGS; i++)
		s.argv[i] = "x";
	s.nargv = CSPEC_MAX_ARGS;
	assert_int_equal(cspec_encode(&s, enc, sizeof(enc), &len, &e), 0);
	assert_int_equal(cspec_decode(enc, len, &out, &e), 0);
	assert_int_equal(out.nargv, CSPEC_MAX_ARGS);
	s.nargv = CSPEC_MAX_ARGS + 1;
	assert_int_equal(cspec_encode(&s, enc, sizeof(enc), &len, &e), -1);
	assert_non_null(strstr(e.msg, "too many arguments"));
	s.nargv = 0;
	assert_int_equal(cspec_encode(&s, enc, sizeof(enc), &len, &e), -1);
	s.nargv = 1;
	s.nenv = CSPEC_MAX_ENV + 1;
	for (int i = 0; i < CSPEC_MAX_ENV; i++)
		s.env[i] = "K=V";
	assert_int_equal(cspec_encode(&s, enc, sizeof(enc), &len, &e), -1);
	s.nenv = 1;
	s.env[0] = "novalue";
	assert_int_equal(cspec_encode(&s, enc, sizeof(enc), &len, &e), -1);
	s.env[0] = "K=V";
	s.nvolumes = CSPEC_MAX_VOLUMES + 1;
	assert_int_equal(cspec_encode(&s, enc, sizeof(enc), &len, &e), -1);
	s.nvolumes = 0;
	s.tty = false;
	s.rows = 5;             /* a size without a tty */
	assert_int_equal(cspec_encode(&s, enc, sizeof(enc), &len, &e), -1);
	s.rows = 0;
	s.image_dev = "vda";    /* a device without a file system type */
	assert_int_equal(cspec_encode(&s, enc, sizeof(enc), &len, &e), -1);
	s.image_dev = NULL;
	s.image_dax = true;     /* DAX without an image */
	assert_int_equal(cspec_encode(&s, enc, sizeof(enc), &len, &e), -1);
	s.image_dax = false;
	s.eth_gw = 1;           /* a gateway without eth0 */
	assert_int_equal(cspec_encode(&s, enc, sizeof(enc), &len, &e), -1);
	s.eth_gw = 0;
	s.network = (enum cspec_network)7;
	assert_int_equal(cspec_encode(&s, enc, sizeof(enc), &len, &e), -1);
	s.network = CSPEC_NET_NONE;
	/* The buffer: exactly enough, one byte less. */
	assert_int_equal(cspec_encode(&s, enc, sizeof(enc), &len, &e), 0);
	size_t need = len;
	static uint8_t exact[CSPEC_MAX_SIZE];
	memset(exact, 0xee, sizeof(exact));
	assert_int_equal(cspec_encode(&s, exact, need, &len, &e), 0);
	assert_int_equal(len, need);
	assert_int_equal(exact[need], 0xee);    /* nothing written past it */
	assert_int_equal(cspec_encode(&s, exact, need - 1, &len, &e), -1);
	assert_non_null(strstr(e.msg, "fit"));
}

/* sandbox cp's action: one absolute path, the CP_* flags. */
static void b_action(uint32_t action, uint32_t flags)
{
	uint8_t x[8] = { (uint8_t)action, (uint8_t)(action >> 8), 0, 0, (uint8_t)flags, (uint8_t)(flags >> 8), 0, 0 };
	b_rec(T_ACTION, x, 8);
}

static void test_action(void **state)
{
	(void)state;
	struct cspec in = { .argv = { "/srv/data" }, .nargv = 1, .stdin_open = true,
			    .action = CSPEC_ACT_TAR_IN, .cp_flags = 5 };
	struct cspec_err e;
	size_t len;
	assert_int_equal(cspec_encode(&in, enc, sizeof(enc), &len, &e), 0);
	assert_int_equal(cspec_decode(enc, len, &out, &e), 0);
	assert_int_equal(out.action, CSPEC_ACT_TAR_IN);
	assert_int_equal(out.cp_flags, 5);
	assert_string_equal(out.argv[0], "/srv/data");
	/* an exec without an action encodes as before: no record */
	struct cspec plain = { .argv = { "true" }, .nargv = 1 };
	assert_int_equal(cspec_encode(&plain, enc, sizeof(enc), &len, &e), 0);
	assert_int_equal(len, 12 + 8 + 5);
	/* the encoder's check */
	struct cspec bad = in;
	bad.argv[0] = "relative";
	assert_int_equal(cspec_encode(&bad, enc, sizeof(enc), &len, &e), -1);
	bad = in;
	bad.argv[1] = "/two";
	bad.nargv = 2;
	assert_int_equal(cspec_encode(&bad, enc, sizeof(enc), &len, &e), -1);
	bad = plain;
	bad.cp_flags = 1;
	assert_int_equal(cspec_encode(&bad, enc, sizeof(enc), &len, &e), -1);
	/* the decoder's */
	b_begin_bare();
	b_str(T_ARG, "/x");
	b_action(CSPEC_ACT_TAR_OUT, 0);
	b_end();
	assert_int_equal(dec(), 0);
	assert_int_equal(out.action, CSPEC_ACT_TAR_OUT);
	b_action(CSPEC_ACT_TAR_OUT, 0);
	REFUSED("action twice");
	b_begin_bare();
	b_str(T_ARG, "/x");
	b_action(CSPEC_ACT_NONE, 0);
	REFUSED("action none written");
	b_begin_bare();
	b_str(T_ARG, "/x");
	b_action(4, 0);
	REFUSED("action 4 (a pod's container) without its name");
	b_begin_bare();
	b_str(T_ARG, "/x");
	b_action(5, 0);
	REFUSED("action 5");
	b_begin_bare();
	b_str(T_ARG, "/x");
	b_action(CSPEC_ACT_TAR_IN, 0x10);
	REFUSED("unknown copy flag");
	b_begin_bare();
	b_str(T_ARG, "x");
	b_action(CSPEC_ACT_TAR_IN, 0);
	REFUSED("relative path");
	b_begin_bare();
	b_str(T_ARG, "/x");
	b_str(T_ARG, "/y");
	b_action(CSPEC_ACT_TAR_IN, 0);
	REFUSED("two paths");
	b_begin_bare();
	b_str(T_ARG, "/x");
	b_recu32(T_ACTION, CSPEC_ACT_TAR_IN);
	REFUSED("short action record");
}

/* a pod record: u32 flags, the member's name */
static void b_pod(uint32_t flags, const char *name)
{
	uint8_t v[256];
	size_t n = strlen(name) + 1;
	for (int i = 0; i < 4; i++)
		v[i] = (uint8_t)(flags >> (8 * i));
	memcpy(v + 4, name, n);
	b_rec(T_POD, v, 4 + n);
}

/* sandbox-runtime's pods: the first container's name, a member to run,
 * an exec into a member */
static void test_pod(void **state)
{
	(void)state;
	struct cspec_err e;
	size_t len;
	struct cspec m = { .argv = { "sh" }, .nargv = 1, .action = CSPEC_ACT_CONTAINER, .pod_member = "app-1.x_y+z",
			   .pod_share_pid = true };
	assert_int_equal(cspec_encode(&m, enc, sizeof(enc), &len, &e), 0);
	assert_int_equal(cspec_decode(enc, len, &out, &e), 0);
	assert_int_equal(out.action, CSPEC_ACT_CONTAINER);
	assert_string_equal(out.pod_member, "app-1.x_y+z");
	assert_true(out.pod_share_pid);
	struct cspec first = { .argv = { "pause" }, .nargv = 1, .pod_member = "p", .image_dev = "fs0",
			       .image_fs = "virtiofs" };
	assert_int_equal(cspec_encode(&first, enc, sizeof(enc), &len, &e), 0);
	assert_int_equal(cspec_decode(enc, len, &out, &e), 0);
	assert_string_equal(out.pod_member, "p");
	assert_int_equal(out.action, CSPEC_ACT_NONE);
	/* the encoder's check */
	struct cspec bad = m;
	bad.pod_member = NULL;
	assert_int_equal(cspec_encode(&bad, enc, sizeof(enc), &len, &e), -1);
	bad = m;
	bad.pod_member = "../etc";
	assert_int_equal(cspec_encode(&bad, enc, sizeof(enc), &len, &e), -1);
	bad = first;
	bad.pod_share_pid = true;
	assert_int_equal(cspec_encode(&bad, enc, sizeof(enc), &len, &e), -1);
	/* the decoder's */
	b_begin_bare();
	b_str(T_ARG, "sh");
	b_pod(0, ".x");
	REFUSED("a name starting with a dot");
	b_begin_bare();
	b_str(T_ARG, "sh");
	b_pod(0, "a/b");
	REFUSED("a slash in the name");
	b_begin_bare();
	b_str(T_ARG, "sh");
	b_pod(2, "a");
	REFUSED("unknown pod flag");
	b_begin_bare();
	b_str(T_ARG, "sh");
	b_pod(1, "a");
	REFUSED("share pid without a container action");
	b_begin_bare();
	b_str(T_ARG, "/x");
	b_action(CSPEC_ACT_TAR_OUT, 0);
	b_pod(0, "a");
	REFUSED("a pod member with a copy");
	b_begin_bare();
	b_str(T_ARG, "sh");
	b_pod(0, "a");
	b_pod(0, "b");
	REFUSED("pod record twice");
	b_begin_bare();
	b_str(T_ARG, "sh");
	b_recu32(T_POD, 0);
	REFUSED("pod record without a name");
}

/* a bind record: u32 flags, the path */
static void b_bind(uint32_t flags, const char *path)
{
	uint8_t v[256];
	size_t n = strlen(path) + 1;
	for (int i = 0; i < 4; i++)
		v[i] = (uint8_t)(flags >> (8 * i));
	memcpy(v + 4, path, n);
	b_rec(T_BIND, v, 4 + n);
}

/* a pod member's binds of host paths: round trip, order, the checks */
static void test_pod_binds(void **state)
{
	(void)state;
	struct cspec_err e;
	size_t len;
	struct cspec m = { .argv = { "sh" }, .nargv = 1, .action = CSPEC_ACT_CONTAINER, .pod_member = "app",
			   .binds = { { "/data", false, false }, { "/etc/hosts", true, true } }, .nbinds = 2 };
	assert_int_equal(cspec_encode(&m, enc, sizeof(enc), &len, &e), 0);
	assert_int_equal(cspec_decode(enc, len, &out, &e), 0);
	assert_int_equal(out.nbinds, 2);
	assert_string_equal(out.binds[0].path, "/data");
	assert_false(out.binds[0].ro || out.binds[0].file);
	assert_string_equal(out.binds[1].path, "/etc/hosts");
	assert_true(out.binds[1].ro && out.binds[1].file);
	struct cspec bad = m;
	bad.binds[0].path = "/";
	assert_int_equal(cspec_encode(&bad, enc, sizeof(enc), &len, &e), -1);
	bad.binds[0].path = "data";
	assert_int_equal(cspec_encode(&bad, enc, sizeof(enc), &len, &e), -1);
	bad.binds[0].path = "/a/..";
	assert_int_equal(cspec_encode(&bad, enc, sizeof(enc), &len, &e), -1);
	bad = m;
	bad.nbinds = CSPEC_MAX_BINDS + 1;
	assert_int_equal(cspec_encode(&bad, enc, sizeof(enc), &len, &e), -1);
	/* the decoder's: each case one point away from this one */
	b_begin_bare();
	b_str(T_ARG, "sh");
	b_action(CSPEC_ACT_CONTAINER, 0);
	b_pod(0, "a");
	b_bind(3, "/d");
	b_end();
	assert_int_equal(dec(), 0);
	assert_true(out.nbinds == 1 && out.binds[0].ro && out.binds[0].file);
	b_begin_bare();
	b_str(T_ARG, "sh");
	b_action(CSPEC_ACT_CONTAINER, 0);
	b_pod(0, "a");
	b_bind(4, "/d");
	REFUSED("unknown bind flag");
	b_begin_bare();
	b_str(T_ARG, "sh");
	b_pod(0, "a");
	b_bind(0, "/d");
	REFUSED("a bind outside a pod's container");
	b_begin_bare();
	b_str(T_ARG, "sh");
	b_action(CSPEC_ACT_CONTAINER, 0);
	b_pod(0, "a");
	b_bind(0, "/../etc");
	REFUSED("a bind path with ..");
	b_begin_bare();
	b_str(T_ARG, "sh");
	b_action(CSPEC_ACT_CONTAINER, 0);
	b_pod(0, "a");
	b_recu32(T_BIND, 1);
	REFUSED("a bind record without a path");
	b_begin_bare();
	b_str(T_ARG, "sh");
	b_action(CSPEC_ACT_CONTAINER, 0);
	b_pod(0, "a");
	for (int i = 0; i <= CSPEC_MAX_BINDS; i++)
		b_bind(0, "/d");
	REFUSED("more binds than the limit");
}

/* sandbox-runtime: update, capabilities, seccomp off, masked paths */
static void test_oci_walls(void **state)
{
	(void)state;
	struct cspec_err e;
	size_t len;
	struct cspec up = { .argv = { "update" }, .nargv = 1, .action = CSPEC_ACT_UPDATE, .memory = 64 << 20,
			    .pids = 10 };
	assert_int_equal(cspec_encode(&up, enc, sizeof(enc), &len, &e), 0);
	assert_int_equal(cspec_decode(enc, len, &out, &e), 0);
	assert_int_equal(out.action, CSPEC_ACT_UPDATE);
	assert_int_equal(out.memory, 64 << 20);
	assert_int_equal(out.pids, 10);
	struct cspec bad = up;
	bad.memory = bad.pids = 0;
	assert_int_equal(cspec_encode(&bad, enc, sizeof(enc), &len, &e), -1);      /* nothing to update */
	bad = up;
	bad.argv[0] = "/x";
	assert_int_equal(cspec_encode(&bad, enc, sizeof(enc), &len, &e), -1);
	bad = up;
	bad.cp_flags = 1;
	assert_int_equal(cspec_encode(&bad, enc, sizeof(enc), &len, &e), -1);

	struct cspec w = { .argv = { "sh" }, .nargv = 1, .caps_given = true, .cap_bounding = 0x3f,
			   .cap_effective = 0x21, .no_seccomp = true, .paths_given = true,
			   .masked = { "/proc/kcore", "/sys/firmware" }, .nmasked = 2, .ro_paths = { "/proc/sys" },
			   .nro_paths = 1 };
	assert_int_equal(cspec_encode(&w, enc, sizeof(enc), &len, &e), 0);
	assert_int_equal(cspec_decode(enc, len, &out, &e), 0);
	assert_true(out.caps_given && out.cap_bounding == 0x3f && out.cap_effective == 0x21);
	assert_true(out.no_seccomp && out.paths_given);
	assert_int_equal(out.nmasked, 2);
	assert_string_equal(out.masked[1], "/sys/firmware");
	assert_int_equal(out.nro_paths, 1);
	assert_string_equal(out.ro_paths[0], "/proc/sys");
	/* paths given, both lists empty: unmasked (a record-less flag) */
	struct cspec none = { .argv = { "sh" }, .nargv = 1, .paths_given = true };
	assert_int_equal(cspec_encode(&none, enc, sizeof(enc), &len, &e), 0);
	assert_int_equal(cspec_decode(enc, len, &out, &e), 0);
	assert_true(out.paths_given && !out.nmasked && !out.nro_paths);
	/* refused: a capability past the last, effective outside bounding,
	 * sets or paths without their flag, relative or .. paths */
	bad = w;
	bad.cap_bounding = 1ULL << CSPEC_CAP_BITS;
	assert_int_equal(cspec_encode(&bad, enc, sizeof(enc), &len, &e), -1);
	bad = w;
	bad.cap_effective = 0x40;
	assert_int_equal(cspec_encode(&bad, enc, sizeof(enc), &len, &e), -1);
	bad = w;
	bad.caps_given = false;
	assert_int_equal(cspec_encode(&bad, enc, sizeof(enc), &len, &e), -1);
	bad = w;
	bad.paths_given = false;
	assert_int_equal(cspec_encode(&bad, enc, sizeof(enc), &len, &e), -1);
	bad = w;
	bad.masked[0] = "proc/kcore";
	assert_int_equal(cspec_encode(&bad, enc, sizeof(enc), &len, &e), -1);
	bad = w;
	bad.ro_paths[0] = "/proc/../etc";
	assert_int_equal(cspec_encode(&bad, enc, sizeof(enc), &len, &e), -1);
	/* the decoder: a capability past the last, a masked path without
	 * the flag, a short caps record */
	b_begin_bare();
	b_str(T_ARG, "sh");
	uint8_t caps[16] = { 0 };
	caps[5] = 0x02;         /* bit 41 */
	b_rec(T_CAPS, caps, 16);
	REFUSED("capability 41");
	b_begin_bare();
	b_str(T_ARG, "sh");
	b_str(T_MASKED, "/proc/kcore");
	REFUSED("masked path without the flag");
	b_begin_bare();
	b_str(T_ARG, "sh");
	b_rec(T_CAPS, caps, 8);
	REFUSED("short caps record");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip_full),
		cmocka_unit_test(test_round_trip_minimal),
		cmocka_unit_test(test_truncated_and_header),
		cmocka_unit_test(test_header),
		cmocka_unit_test(test_record_framing),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_long_strings),
		cmocka_unit_test(test_singletons_twice),
		cmocka_unit_test(test_fixed_sizes),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_counts),
		cmocka_unit_test(test_encoder_limits),
		cmocka_unit_test(test_action),
		cmocka_unit_test(test_oci_walls),
		cmocka_unit_test(test_pod),
		cmocka_unit_test(test_pod_binds),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
