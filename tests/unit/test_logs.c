/* The collected log's records (cli/log_fmt.c): encoding round trips
 * through the strict decoder (escapes, invalid UTF-8, partial lines),
 * hostile lines are refused, and --since/--until times parse. */
#include "unit.h"

#include "../../cli/logs.h"

static char *encode(const struct log_rec *r)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	log_encode(f, r);
	fclose(f);
	return buf;
}

static void test_round_trip(void **state)
{
	(void)state;
	char data[] = "a \"quoted\" \\ tab\there \x01 caf\xc3\xa9 \xff end";
	struct log_rec r = { .time_ns = 1796600000123456789LL, .stream = LOG_STDERR, .id = "0123456789abcdef",
			     .name = "web", .data = data, .len = sizeof(data) - 1 };
	char *line = encode(&r);
	assert_string_equal(line, "{\"time\":\"2026-12-06T23:33:20.123456789Z\",\"id\":\"0123456789abcdef\","
				  "\"name\":\"web\",\"stream\":\"stderr\",\"line\":\"a \\\"quoted\\\" \\\\ tab\\u0009here "
				  "\\u0001 caf\xc3\xa9 \\ufffd end\"}\n");
	char buf[256];
	struct log_rec d;
	assert_int_equal(log_decode(line, strlen(line) - 1, buf, sizeof(buf), &d), 0);
	assert_int_equal(d.time_ns, r.time_ns);
	assert_int_equal(d.stream, LOG_STDERR);
	assert_false(d.partial);
	assert_string_equal(d.data, "a \"quoted\" \\ tab\there \x01 caf\xc3\xa9 \xef\xbf\xbd end");
	free(line);
	/* a partial record, a NUL byte inside */
	char nul[] = { 'x', 0, 'y' };
	r = (struct log_rec){ .time_ns = 5, .stream = LOG_STDOUT, .id = "i", .name = "n", .data = nul, .len = 3,
			      .partial = true };
	line = encode(&r);
	assert_non_null(strstr(line, "\"line\":\"x\\u0000y\",\"partial\":true}\n"));
	assert_int_equal(log_decode(line, strlen(line) - 1, buf, sizeof(buf), &d), 0);
	assert_true(d.partial);
	assert_int_equal(d.len, 3);
	assert_memory_equal(d.data, nul, 3);
	assert_int_equal(d.time_ns, 5);
	free(line);
}

static void test_refused(void **state)
{
	(void)state;
	static const char *const bad[] = {
		"",
		"{}",
		"{\"time\":\"x\",\"id\":\"a\",\"name\":\"b\",\"stream\":\"stdout\",\"line\":\"l\"}",
		"{\"time\":\"2026-12-07T00:53:20Z\",\"id\":\"a\",\"name\":\"b\",\"stream\":\"stdin\",\"line\":\"l\"}",
		"{\"time\":\"2026-12-07T00:53:20Z\",\"id\":\"a\",\"name\":\"b\",\"stream\":\"stdout\",\"line\":\"l\"} ",
		"{\"time\":\"2026-12-07T00:53:20Z\",\"id\":\"a\",\"name\":\"b\",\"stream\":\"stdout\",\"line\":\"l",
		"{\"time\":\"2026-12-07T00:53:20Z\",\"id\":\"a\",\"name\":\"b\",\"stream\":\"stdout\",\"line\":\"\\q\"}",
		"{\"time\":\"2026-12-07T00:53:20Z\",\"id\":\"a\",\"name\":\"b\",\"stream\":\"stdout\",\"line\":\"\\u12\"}",
		"{\"time\":\"2026-13-07T00:53:20Z\",\"id\":\"a\",\"name\":\"b\",\"stream\":\"stdout\",\"line\":\"l\"}",
		"{\"time\":\"2026-12-07T00:53:20Z\",\"id\":\"a\",\"name\":\"b\",\"stream\":\"stdout\",\"line\":\"raw\ttab\"}",
	};
	char buf[64];
	struct log_rec d;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(log_decode(bad[i], strlen(bad[i]), buf, sizeof(buf), &d), -1);
	/* too long for the buffer */
	const char *ok = "{\"time\":\"2026-12-07T00:53:20Z\",\"id\":\"a\",\"name\":\"b\",\"stream\":\"stdout\",\"line\":\"0123456789\"}";
	assert_int_equal(log_decode(ok, strlen(ok), buf, 10, &d), -1);
	assert_int_equal(log_decode(ok, strlen(ok), buf, 11, &d), 0);
	assert_int_equal(d.time_ns, 1796604800LL * 1000000000LL);
}

/* A log file's first line, {"file":N}: written and read back; anything
 * else is not one; and it is not a record (readers skip it). */
static void test_head(void **state)
{
	(void)state;
	char h[64];
	assert_int_equal(log_head_text(0, h, sizeof(h)), 11);
	assert_string_equal(h, "{\"file\":0}\n");
	assert_int_equal(log_head_parse(h, 10), 0);
	assert_int_equal(log_head_text(123456789012, h, sizeof(h)), 22);
	assert_int_equal(log_head_parse(h, 21), 123456789012);
	assert_int_equal(log_head_text(5, h, 5), -1);
	static const char *const bad[] = {
		"", "{\"file\":}", "{\"file\":-1}", "{\"file\":01}", "{\"file\":1} ", "{\"file\":1",
		"{\"file\":1x}", "{\"file\":1234567890123456789}", "{\"file\":\"1\"}", "{\"File\":1}",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(log_head_parse(bad[i], strlen(bad[i])), -1);
	struct log_rec d;
	char buf[64];
	assert_int_equal(log_decode("{\"file\":3}", 10, buf, sizeof(buf), &d), -1);
}

static void test_times(void **state)
{
	(void)state;
	int64_t t, now = 1796600000LL * 1000000000LL;
	assert_int_equal(log_parse_time("10s", now, &t), 0);
	assert_int_equal(t, now - 10000000000LL);
	assert_int_equal(log_parse_time("1.5h", now, &t), 0);
	assert_int_equal(t, now - 5400LL * 1000000000LL);
	assert_int_equal(log_parse_time("2d", now, &t), 0);
	assert_int_equal(t, now - 172800LL * 1000000000LL);
	assert_int_equal(log_parse_time("1796600000", now, &t), 0);
	assert_int_equal(t, now);
	assert_int_equal(log_parse_time("2026-12-06T23:33:20Z", now, &t), 0);
	assert_int_equal(t, now);
	assert_int_equal(log_parse_time("2026-12-07T00:33:20.5+01:00", now, &t), 0);
	assert_int_equal(t, now + 500000000LL);
	assert_int_equal(log_parse_time("1970-01-01T00:00:00Z", now, &t), 0);
	assert_int_equal(t, 0);
	static const char *const bad[] = { "", "x", "10x", "-5s", "10ss", "2026-12-07", "2026-12-07T00:53:20",
					   "2026-12-07T25:00:00Z", "s" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(log_parse_time(bad[i], now, &t), -1);
	char buf[40];
	log_time_text(0, buf, sizeof(buf));
	assert_string_equal(buf, "1970-01-01T00:00:00.000000000Z");
}

static void test_options(void **state)
{
	(void)state;
	struct log_conf c = { .max_size = 1, .max_files = 1 };
	struct err e;
	assert_int_equal(log_parse_opt("max-size=10m", &c, &e), 0);
	assert_int_equal(c.max_size, 10 << 20);
	assert_int_equal(log_parse_opt("max-size=65536", &c, &e), 0);
	assert_int_equal(c.max_size, 65536);
	assert_int_equal(log_parse_opt("max-file=3", &c, &e), 0);
	assert_int_equal(c.max_files, 3);
	assert_int_equal(log_parse_opt("max-size=1", &c, &e), -1);
	assert_int_equal(log_parse_opt("max-file=0", &c, &e), -1);
	assert_int_equal(log_parse_opt("mode=fast", &c, &e), -1);
	enum log_driver d;
	assert_int_equal(log_parse_driver("json-file", &d, &e), 0);
	assert_int_equal(d, LOG_JSON_FILE);
	assert_int_equal(log_parse_driver("none", &d, &e), 0);
	assert_int_equal(log_parse_driver("syslog", &d, &e), -1);
	assert_non_null(strstr(e.msg, "not json-file"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip), cmocka_unit_test(test_refused), cmocka_unit_test(test_head), cmocka_unit_test(test_times),
		cmocka_unit_test(test_options),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
