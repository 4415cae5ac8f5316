/* The follower of a rotated log (cli/follow.c): with a writer that
 * rotates as the collector does (log.json -> .1 -> .2 ..., the oldest
 * past max-file removed, each file starting with {"file":N}), every line
 * comes out once and in order across any number of rotations between two
 * steps while the files are kept; when more rotations happened than
 * files are kept, the count of files removed is told exactly (or as
 * unknown without sequence numbers), and the lines of the files kept
 * still come out in order. */
#include "unit.h"

#include <fcntl.h>
#include <sys/stat.h>

#include "../../cli/follow.h"
#include "../../cli/logs.h"

struct writer {
	char path[128];
	int fd, max_files, per_file, in_file;
	long seq, next;         /* the file's place; the next line's number */
};

static void w_open(struct writer *w)
{
	w->fd = open(w->path, O_WRONLY | O_CREAT | O_APPEND, 0600);
	assert_true(w->fd >= 0);
	char head[64];
	int n = log_head_text(w->seq, head, sizeof(head));
	assert_true(n > 0 && write(w->fd, head, (size_t)n) == n);
	w->in_file = 0;
}

/* As cli/log_collect.c's rotate(); HALF: stop before the new file is
 * made (a rotation in progress). */
static void w_rotate(struct writer *w, bool half)
{
	char from[160], to[160];
	close(w->fd);
	if (w->max_files <= 1) {
		unlink(w->path);
	} else {
		for (int i = w->max_files - 1; i >= 1; i--) {
			if (i == 1)
				snprintf(from, sizeof(from), "%s", w->path);
			else
				snprintf(from, sizeof(from), "%s.%d", w->path, i - 1);
			snprintf(to, sizeof(to), "%s.%d", w->path, i);
			rename(from, to);
		}
	}
	w->seq++;
	if (!half)
		w_open(w);
}

static void w_lines(struct writer *w, int n)
{
	for (int k = 0; k < n; k++) {
		if (w->in_file == w->per_file)
			w_rotate(w, false);
		char l[32];
		int len = snprintf(l, sizeof(l), "line %ld\n", w->next++);
		assert_int_equal(write(w->fd, l, (size_t)len), len);
		w->in_file++;
	}
}

struct seen {
	long *nums;
	size_t n, cap;
};

static void take(const char *line, size_t len, void *ctx)
{
	struct seen *s = ctx;
	if (log_head_parse(line, len) >= 0)
		return;
	char num[32];
	assert_true(len > 5 && len < sizeof(num) && !memcmp(line, "line ", 5));
	memcpy(num, line + 5, len - 5);
	num[len - 5] = '\0';
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 256;
		s->nums = realloc(s->nums, s->cap * sizeof(long));
		assert_non_null(s->nums);
	}
	s->nums[s->n++] = strtol(num, NULL, 10);
}

struct fixture {
	char dir[64];
	struct writer w;
	struct seen seen;
	char line[256];
	struct follow f;
};

static void setup_fx(struct fixture *x, int max_files, int per_file, bool seq)
{
	memset(x, 0, sizeof(*x));
	snprintf(x->dir, sizeof(x->dir), "/tmp/sandbox-unit-follow-XXXXXX");
	assert_non_null(mkdtemp(x->dir));
	snprintf(x->w.path, sizeof(x->w.path), "%s/log.json", x->dir);
	x->w.max_files = max_files;
	x->w.per_file = per_file;
	w_open(&x->w);
	x->f = (struct follow){ .path = x->w.path, .max = LOG_FILES_MAX, .seq = seq ? log_file_seq : NULL, .fd = -1,
				.line = x->line, .cap = sizeof(x->line), .fn = take, .ctx = &x->seen };
}

static void teardown_fx(struct fixture *x)
{
	follow_end(&x->f);
	close(x->w.fd);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", x->dir);
	assert_int_equal(system(cmd), 0);
	free(x->seen.nums);
}

/* The lines seen are FROM, FROM+1, ... TO-1 (no gap, no repeat). */
static void assert_run(const struct seen *s, size_t at, long from, long to)
{
	assert_true(s->n >= at + (size_t)(to - from));
	for (long v = from; v < to; v++)
		assert_int_equal(s->nums[at + (size_t)(v - from)], v);
}

static void test_many_rotations(void **state)
{
	(void)state;
	static struct fixture x;
	setup_fx(&x, 100, 20, true);
	w_lines(&x.w, 30);
	assert_int_equal(follow_step(&x.f), 0);         /* from the oldest */
	assert_int_equal(x.seen.n, 30);
	/* 95 rotations between two steps (the bug: 84 at 4k lost all but
	 * the last file's lines) */
	w_lines(&x.w, 20 * 95);
	assert_int_equal(follow_step(&x.f), 0);
	assert_int_equal(x.seen.n, 30 + 20 * 95);
	assert_run(&x.seen, 0, 0, 30 + 20 * 95);
	/* and goes on in the file written to */
	w_lines(&x.w, 7);
	assert_int_equal(follow_step(&x.f), 0);
	assert_int_equal(follow_step(&x.f), 0);
	assert_run(&x.seen, 0, 0, 37 + 20 * 95);
	assert_int_equal(x.seen.n, 37 + 20 * 95);
	teardown_fx(&x);
}

/* A line not yet ended waits; a rotation half done (log.json missing)
 * loses nothing. */
static void test_half_rotation(void **state)
{
	(void)state;
	static struct fixture x;
	setup_fx(&x, 3, 1000, true);
	w_lines(&x.w, 5);
	assert_int_equal(write(x.w.fd, "line 5", 6), 6);
	assert_int_equal(follow_step(&x.f), 0);
	assert_int_equal(x.seen.n, 5);
	assert_int_equal(write(x.w.fd, "\n", 1), 1);
	x.w.next = 6;
	x.w.in_file++;
	w_rotate(&x.w, true);
	assert_int_equal(follow_step(&x.f), 0);
	assert_int_equal(x.seen.n, 6);
	w_open(&x.w);
	w_lines(&x.w, 3);
	assert_int_equal(follow_step(&x.f), 0);
	assert_run(&x.seen, 0, 0, 9);
	assert_int_equal(x.seen.n, 9);
	teardown_fx(&x);
}

/* More rotations than files kept: the rest of the file held, the count
 * of files removed, then the files kept, in order. */
static void test_removed_counted(void **state)
{
	(void)state;
	static struct fixture x;
	setup_fx(&x, 3, 10, true);
	w_lines(&x.w, 4);               /* file 0: 0..3 */
	assert_int_equal(follow_step(&x.f), 0);
	w_lines(&x.w, 6 + 10 * 10);     /* to file 10: files 8, 9, 10 kept */
	assert_int_equal(follow_step(&x.f), 7);
	assert_run(&x.seen, 0, 0, 10);  /* file 0 to its end, through the fd held */
	assert_run(&x.seen, 10, 80, 110);
	assert_int_equal(x.seen.n, 10 + 30);
	teardown_fx(&x);
}

/* max-file=1: log.json is removed at each rotation; one rotation loses
 * nothing, two lose one file. */
static void test_one_file(void **state)
{
	(void)state;
	static struct fixture x;
	setup_fx(&x, 1, 10, true);
	w_lines(&x.w, 3);
	assert_int_equal(follow_step(&x.f), 0);
	w_lines(&x.w, 7 + 5);           /* one rotation */
	assert_int_equal(follow_step(&x.f), 0);
	assert_run(&x.seen, 0, 0, 15);
	w_lines(&x.w, 5 + 10 + 2);      /* two more */
	assert_int_equal(follow_step(&x.f), 1);
	assert_run(&x.seen, 0, 0, 20);
	assert_run(&x.seen, 20, 30, 32);
	assert_int_equal(x.seen.n, 22);
	teardown_fx(&x);
}

/* Without sequence numbers (the events log) the loss is said, uncounted. */
static void test_removed_unknown(void **state)
{
	(void)state;
	static struct fixture x;
	setup_fx(&x, 2, 10, false);
	w_lines(&x.w, 2);
	assert_int_equal(follow_step(&x.f), 0);
	w_lines(&x.w, 8 + 10 * 3);
	assert_int_equal(follow_step(&x.f), FOLLOW_LOST_UNKNOWN);
	assert_run(&x.seen, 0, 0, 10);
	assert_run(&x.seen, 10, 20, 40);
	teardown_fx(&x);
}

/* The chain walked without reading (`sandbox logs` without -f): every
 * file kept, oldest first. */
static void test_chain(void **state)
{
	(void)state;
	static struct fixture x;
	setup_fx(&x, 5, 10, true);
	w_lines(&x.w, 73);              /* files 3..7 kept */
	long lost = 0;
	int n = 0, fd = follow_oldest(&x.f);
	while (fd >= 0) {
		assert_int_equal(log_file_seq(fd), 3 + n);
		n++;
		int next = follow_next(&x.f, fd, &lost);
		close(fd);
		fd = next;
	}
	assert_int_equal(n, 5);
	assert_int_equal(lost, 0);
	teardown_fx(&x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_many_rotations), cmocka_unit_test(test_half_rotation),
		cmocka_unit_test(test_removed_counted), cmocka_unit_test(test_one_file),
		cmocka_unit_test(test_removed_unknown), cmocka_unit_test(test_chain),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
