/* The pure part of sandbox stats (cli/stats_fmt.c): /proc text parsed,
 * including hostile process names; sizes, CPU %, the table, JSON and
 * Prometheus text. */
#include "unit.h"

#include "../../cli/stats.h"
#include "../../common/memevents.h"
#include "../../common/proto.h"

static __attribute__((noinline)) char *capture(void (*fn)(FILE *, const struct sandbox_stats *, size_t), const struct sandbox_stats *s,
		     size_t n)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	fn(f, s, n);
	fclose(f);
	return buf;
}

static void test_parse_stat(void **state)
{
	(void)state;
	struct proc_sample p;
	const char *line = "1234 (sandbox) S 1000 1234 1234 0 -1 4194560 100 0 0 0 250 50 0 0 20 0 3 0 987654 "
			   "1000000 300 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n";
	assert_int_equal(stats_parse_stat(line, &p), 0);
	assert_int_equal(p.pid, 1234);
	assert_int_equal(p.ppid, 1000);
	assert_int_equal(p.state, 'S');
	assert_int_equal(p.ticks, 300);
	assert_int_equal(p.start, 987654);
	/* A name with spaces and ')' in it: the last ')' ends it. */
	const char *evil = "77 (a) b) S 1 (x) R 5 77 77 0 -1 0 0 0 0 0 1 2 0 0 20 0 1 0 42 0 0\n";
	assert_int_equal(stats_parse_stat(evil, &p), 0);
	assert_int_equal(p.pid, 77);
	assert_int_equal(p.ppid, 5);
	assert_int_equal(p.ticks, 3);
	assert_int_equal(p.start, 42);
	assert_int_equal(stats_parse_stat("", &p), -1);
	assert_int_equal(stats_parse_stat("12 (x) S 1 2", &p), -1);
	assert_int_equal(stats_parse_stat("x (y) S 1 2 3", &p), -1);
	assert_int_equal(stats_parse_stat("5 (y) S one 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20", &p), -1);
}

static void test_parse_files(void **state)
{
	(void)state;
	uint64_t a, b;
	assert_int_equal(stats_parse_rollup("55d0-7ff [rollup]\nRss:        1536 kB\nPss:         512 kB\n"
					    "Pss_Anon:  100 kB\n", &a, &b), 0);
	assert_int_equal(a, 1536 * 1024);
	assert_int_equal(b, 512 * 1024);
	assert_int_equal(stats_parse_rollup("nothing here\n", &a, &b), -1);
	assert_int_equal(stats_parse_io("rchar: 10\nwchar: 20\nsyscr: 1\nsyscw: 2\nread_bytes: 4096\n"
					"write_bytes: 8192\ncancelled_write_bytes: 0\n", &a, &b), 0);
	assert_int_equal(a, 4096);
	assert_int_equal(b, 8192);
	assert_int_equal(stats_parse_io("rchar: 10\n", &a, &b), -1);
	assert_int_equal(stats_parse_meminfo("MemTotal:  1000 kB\nMemFree: 5 kB\nMemAvailable:  600 kB\n", &a, &b), 0);
	assert_int_equal(a, 1000 * 1024);
	assert_int_equal(b, 600 * 1024);
}

static void test_parse_guest(void **state)
{
	(void)state;
	uint64_t t, u;
	int p;
	assert_int_equal(stats_parse_guest("MemTotal: 100000 kB\nMemFree: 1 kB\nMemAvailable: 60000 kB\npids: 3\n", &t, &u, &p), 0);
	assert_int_equal(t, 100000 * 1024);
	assert_int_equal(u, 40000 * 1024);
	assert_int_equal(p, 3);
	/* the guest is not trusted */
	assert_int_equal(stats_parse_guest("MemTotal: 100 kB\nMemAvailable: 200 kB\npids: 3\n", &t, &u, &p), -1);
	assert_int_equal(stats_parse_guest("MemTotal: 0 kB\nMemAvailable: 0 kB\npids: 3\n", &t, &u, &p), -1);
	assert_int_equal(stats_parse_guest("MemTotal: 100 kB\nMemAvailable: 50 kB\n", &t, &u, &p), -1);
	assert_int_equal(stats_parse_guest("MemTotal: 100 kB\nMemAvailable: 50 kB\npids: 99999999\n", &t, &u, &p), -1);
	assert_int_equal(stats_parse_guest("MemTotal: 99999999999999999 kB\nMemAvailable: 5 kB\npids: 1\n", &t, &u, &p), -1);
	assert_int_equal(stats_parse_guest("", &t, &u, &p), -1);
}

static void test_human_cpu(void **state)
{
	(void)state;
	char b[32];
	stats_human(0, b, sizeof(b));
	assert_string_equal(b, "0B");
	stats_human(1023, b, sizeof(b));
	assert_string_equal(b, "1023B");
	stats_human(1536, b, sizeof(b));
	assert_string_equal(b, "1.5KiB");
	stats_human(2ULL << 30, b, sizeof(b));
	assert_string_equal(b, "2GiB");
	stats_human(150ULL << 20, b, sizeof(b));
	assert_string_equal(b, "150MiB");
	assert_true(stats_cpu_percent(500000000, 1000000000) > 49.99 && stats_cpu_percent(500000000, 1000000000) < 50.01);
	assert_true(stats_cpu_percent(1, 0) < 0);
}

/* cgroup v2 memory.events, as a 6.1 kernel writes it, and what is not. */
static void test_parse_memevents(void **state)
{
	(void)state;
	uint32_t v = 7;
	const char *ok = "low 0\nhigh 0\nmax 12\noom 3\noom_kill 2\noom_group_kill 0\n";
	assert_int_equal(memevents_oom_kill(ok, strlen(ok), &v), 0);
	assert_int_equal(v, 2);
	const char *big = "oom_kill 4294967295\n";
	assert_int_equal(memevents_oom_kill(big, strlen(big), &v), 0);
	assert_int_equal(v, 4294967295u);
	/* the length is what counts: no NUL needed, none read past */
	assert_int_equal(memevents_oom_kill("oom_kill 5\nxx", 11, &v), 0);
	assert_int_equal(v, 5);
	const char *bad[] = {
		"",                                     /* no oom_kill */
		"low 0\nhigh 0\n",                      /* no oom_kill */
		"oom_kill 4294967296\n",                /* past u32 */
		"oom_kill 99999999999999999999999\n",   /* past u64 */
		"oom_kill 1",                           /* cut short */
		"oom_kill -1\n", "oom_kill  1\n", "oom_kill\t1\n", "oom_kill 1 \n", "oom_kill \n",
		"oom_kill 1\noom_kill 2\n",              /* twice */
		"OOM_KILL 1\n", "low 0\n\noom_kill 1\n", "oom_kill 0x10\n",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		v = 7;
		assert_int_equal(memevents_oom_kill(bad[i], strlen(bad[i]), &v), -1);
	}
	/* the OOM frame the count travels in: a u32, from the guest only */
	assert_true(sb_frame_valid(SB_F_OOM, 4, true));
	assert_false(sb_frame_valid(SB_F_OOM, 8, true));
	assert_false(sb_frame_valid(SB_F_OOM, 4, false));
}

static struct sandbox_stats sample(void)
{
	struct sandbox_stats s = { .created = 1700000000, .running = true, .cpu_ns = 1500000000, .cpu_percent = 12.5,
				   .pss = 3 << 20, .vmm_rss = 5 << 20, .blk_read = 4096, .pids = 2, .nprocs = 3 };
	snprintf(s.id, sizeof(s.id), "0123456789abcdef");
	snprintf(s.name, sizeof(s.name), "web\"1");
	snprintf(s.image, sizeof(s.image), "busy\\box");
	snprintf(s.isolation, sizeof(s.isolation), "container");
	snprintf(s.status, sizeof(s.status), "running");
	return s;
}

static void test_json(void **state)
{
	(void)state;
	struct sandbox_stats s[2] = { sample(), sample() };
	s[1].cpu_percent = -1;
	s[1].pids = -1;
	s[0].oom_kills = 3;
	s[1].oom_kills = -1;
	char *out = capture(stats_print_json, s, 2);
	assert_non_null(strstr(out, "\"oom_kills\":3"));
	assert_non_null(strstr(out, "\"oom_kills\":null"));
	assert_non_null(strstr(out, "\"name\":\"web\\\"1\""));
	assert_non_null(strstr(out, "\"image\":\"busy\\\\box\""));
	assert_non_null(strstr(out, "\"cpu_percent\":12.50"));
	assert_non_null(strstr(out, "\"cpu_percent\":null"));
	assert_non_null(strstr(out, "\"pids\":null"));
	assert_non_null(strstr(out, "\"cpu_seconds\":1.500"));
	assert_non_null(strstr(out, "\"memory_pss\":3145728"));
	assert_int_equal(out[0], '[');
	assert_string_equal(out + strlen(out) - 2, "]\n");
	free(out);
	out = capture(stats_print_json, s, 0);
	assert_string_equal(out, "[]\n");
	free(out);
}

static void test_table(void **state)
{
	(void)state;
	struct sandbox_stats s = sample();
	s.mem_limit = 256 << 20;
	s.oom_kills = 4;
	char *out = capture(stats_print_table, &s, 1);
	assert_non_null(strstr(out, " OOM "));
	assert_non_null(strstr(out, " 2      4 "));    /* PIDS, OOM */
	assert_non_null(strstr(out, "ID "));
	assert_non_null(strstr(out, "0123456789ab "));
	assert_null(strstr(out, "0123456789abc"));
	assert_non_null(strstr(out, "12.50%"));
	assert_non_null(strstr(out, "3MiB / 256MiB"));
	assert_non_null(strstr(out, "4KiB / 0B"));
	free(out);
}

/* The table printer (cli/table.c): a name longer than its column's width
 * widens the column for every row, so the columns after it stay aligned. */
static void test_table_widens(void **state)
{
	(void)state;
	struct sandbox_stats s[2] = { sample(), sample() };
	snprintf(s[1].name, sizeof(s[1].name), "a-name-longer-than-twenty-chars");
	char *out = capture(stats_print_table, s, 2);
	char *l1 = strchr(out, '\n') + 1, *l2 = strchr(l1, '\n') + 1;
	assert_int_equal(strstr(l1, "12.50%") - l1, strstr(l2, "12.50%") - l2);
	assert_int_equal(strstr(out, "CPU %") - out + 5, strstr(l1, "12.50%") - l1 + 6);  /* right-aligned */
	assert_non_null(strstr(l2, "a-name-longer-than-twenty-chars  "));
	free(out);
}

static void test_prometheus(void **state)
{
	(void)state;
	struct sandbox_stats s[3] = { sample(), sample(), sample() };
	s[1].running = false;
	s[2].pids = -1;
	s[0].oom_kills = 1;
	s[2].oom_kills = -1;
	snprintf(s[2].name, sizeof(s[2].name), "line\nbreak");
	struct host_stats h = { .mem_total = 1 << 30, .mem_available = 1 << 29, .load1 = 0.5, .ncpu = 2 };
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	stats_print_prometheus(f, s, 3, &h, 1700000100);
	fclose(f);
	assert_non_null(strstr(buf, "# TYPE sandbox_cpu_seconds_total counter\n"));
	assert_non_null(strstr(buf, "sandbox_cpu_seconds_total{id=\"0123456789abcdef\",name=\"web\\\"1\","
				    "image=\"busy\\\\box\",isolation=\"container\"} 1.500\n"));
	assert_non_null(strstr(buf, "name=\"line\\nbreak\""));
	assert_non_null(strstr(buf, "sandbox_sandboxes{state=\"running\"} 2\n"));
	assert_non_null(strstr(buf, "sandbox_sandboxes{state=\"ended\"} 1\n"));
	assert_non_null(strstr(buf, "sandbox_host_memory_total_bytes 1073741824\n"));
	/* one pids series: the ended one and the unknown one have none */
	size_t pids = 0;
	for (char *p = buf; (p = strstr(p, "\nsandbox_pids{")); p++)
		pids++;
	assert_int_equal(pids, 1);
	/* OOM kills: a counter, one series (the unknown one has none) */
	assert_non_null(strstr(buf, "# TYPE sandbox_oom_kills_total counter\n"));
	assert_non_null(strstr(buf, "sandbox_oom_kills_total{id=\"0123456789abcdef\",name=\"web\\\"1\","
				    "image=\"busy\\\\box\",isolation=\"container\"} 1\n"));
	size_t ooms = 0;
	for (char *p = buf; (p = strstr(p, "\nsandbox_oom_kills_total{")); p++)
		ooms++;
	assert_int_equal(ooms, 1);
	/* every line is a comment or NAME{...} VALUE / NAME VALUE */
	for (char *l = buf; *l; l = strchr(l, '\n') + 1) {
		assert_non_null(strchr(l, '\n'));
		if (*l == '#')
			continue;
		assert_true((*l >= 'a' && *l <= 'z') || *l == '_');
	}
	free(buf);
}

static void test_histogram(void **state)
{
	(void)state;
	struct host_stats h = { 0 };
	stats_count_event(&h, "start", 30);     /* 0.03 s */
	stats_count_event(&h, "start", 3000);   /* 3 s */
	stats_count_event(&h, "start", -1);     /* no time: counted as an event only */
	stats_count_event(&h, "exit", -1);
	stats_count_event(&h, "bogus", 5);
	stats_count_event(&h, "restore", 200);  /* a clone: 0.2 s */
	stats_count_event(&h, "oom", -1);
	assert_int_equal(h.start_count, 2);
	assert_int_equal(h.events[1], 3);
	assert_int_equal(h.events[5], 1);
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	stats_print_prometheus(f, NULL, 0, &h, 0);
	fclose(f);
	assert_non_null(strstr(buf, "# TYPE sandbox_start_seconds histogram\n"));
	assert_non_null(strstr(buf, "sandbox_start_seconds_bucket{le=\"0.025\"} 0\n"));
	assert_non_null(strstr(buf, "sandbox_start_seconds_bucket{le=\"0.05\"} 1\n"));
	assert_non_null(strstr(buf, "sandbox_start_seconds_bucket{le=\"2.5\"} 1\n"));
	assert_non_null(strstr(buf, "sandbox_start_seconds_bucket{le=\"5\"} 2\n"));
	assert_non_null(strstr(buf, "sandbox_start_seconds_bucket{le=\"+Inf\"} 2\n"));
	assert_non_null(strstr(buf, "sandbox_start_seconds_sum 3.030000\n"));
	assert_non_null(strstr(buf, "# TYPE sandbox_restore_seconds histogram\n"));
	assert_non_null(strstr(buf, "sandbox_restore_seconds_bucket{le=\"0.1\"} 0\n"));
	assert_non_null(strstr(buf, "sandbox_restore_seconds_bucket{le=\"0.25\"} 1\n"));
	assert_non_null(strstr(buf, "sandbox_restore_seconds_count 1\n"));
	assert_non_null(strstr(buf, "sandbox_events_total{type=\"restore\"} 1\n"));
	assert_non_null(strstr(buf, "sandbox_events_total{type=\"oom\"} 1\n"));
	assert_non_null(strstr(buf, "sandbox_events_total{type=\"start\"} 3\n"));
	assert_non_null(strstr(buf, "sandbox_sandboxes{state=\"running\"} 0\n"));
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_stat), cmocka_unit_test(test_parse_files), cmocka_unit_test(test_human_cpu),
		cmocka_unit_test(test_json), cmocka_unit_test(test_table), cmocka_unit_test(test_table_widens), cmocka_unit_test(test_prometheus),
		cmocka_unit_test(test_histogram), cmocka_unit_test(test_parse_guest), cmocka_unit_test(test_parse_memevents),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
