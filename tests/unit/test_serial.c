/* Unit tests for the serial console's output under a hostile or absent
 * reader (issue 13, `sandbox vm --console`): a reader that stops reading
 * holds the writing vCPU only until the VM is asked to end; a slow reader
 * loses nothing; a reader that went away costs no signal and no wait. The
 * UART writes to a blocking pipe, as to a blocking stdout. */
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/serial_reg.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>

#include "../../vmm/devices/serial.h"

struct fix {
	struct serial u;
	_Atomic int end;        /* stands in for vm->end */
	int rd, wr;
	pthread_t writer;
	_Atomic bool done;
};

static void fill_pipe(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	assert_int_equal(fcntl(fd, F_SETFL, fl | O_NONBLOCK), 0);
	char junk[512];
	memset(junk, 'j', sizeof(junk));
	while (write(fd, junk, sizeof(junk)) > 0)
		;
	assert_int_equal(errno, EAGAIN);
	assert_int_equal(fcntl(fd, F_SETFL, fl), 0);
}

static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	int p[2];
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	f->rd = p[0];
	f->wr = p[1];
	fcntl(f->wr, F_SETPIPE_SZ, 4096);   /* quick to fill */
	serial_init(&f->u, f->wr, NULL, NULL);
	f->u.ending = &f->end;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;
	if (f->rd >= 0)
		close(f->rd);
	close(f->wr);
	pthread_mutex_destroy(&f->u.lock);
	free(f);
	return 0;
}

static void put(struct fix *f, const char *s)
{
	for (; *s; s++) {
		uint8_t v = (uint8_t)*s;
		serial_io(&f->u, UART_TX, &v, 1, true);
	}
}

/* A vCPU writing a line to the console. */
static void *vcpu_writes(void *arg)
{
	struct fix *f = arg;
	put(f, "guest says hello\n");
	atomic_store(&f->done, true);
	return NULL;
}

static void start_writer(struct fix *f)
{
	assert_int_equal(pthread_create(&f->writer, NULL, vcpu_writes, f), 0);
}

/* Join the writer within MS milliseconds; false (and the thread left
 * behind, the test failing) if it is still stuck. */
static bool joined_within(struct fix *f, long ms)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return pthread_timedjoin_np(f->writer, NULL, &ts) == 0;
}

/* The reader stops reading: the vCPU waits while the VM runs (nothing
 * dropped), and comes back promptly once the VM is asked to end. */
static void test_stopped_reader_releases_vcpu_at_end(void **state)
{
	struct fix *f = *state;
	fill_pipe(f->wr);
	start_writer(f);
	usleep(300 * 1000);
	assert_false(atomic_load(&f->done));    /* back-pressure, not loss */
	atomic_store(&f->end, 1);
	if (!joined_within(f, 2000))
		fail_msg("the vCPU stayed stuck on a full console after the VM was asked to end");
	assert_true(atomic_load(&f->done));
}

/* A slow reader gets every byte. */
static void test_slow_reader_loses_nothing(void **state)
{
	struct fix *f = *state;
	fill_pipe(f->wr);
	start_writer(f);
	usleep(300 * 1000);
	char buf[8192] = "";
	size_t got = 0;
	/* Drain the junk, then the line behind it. */
	while (!strstr(buf, "guest says hello\n")) {
		ssize_t n = read(f->rd, buf + got, sizeof(buf) - 1 - got);
		assert_true(n > 0);
		got += (size_t)n;
		buf[got] = '\0';
		if (got > sizeof(buf) - 600) {
			size_t keep = 100;
			memmove(buf, buf + got - keep, keep);
			got = keep;
			buf[got] = '\0';
		}
	}
	assert_true(joined_within(f, 2000));
}

/* The reader went away (| head): with SIGPIPE ignored, as vmm_main does,
 * the write fails, output is dropped from then on, nobody waits. */
static void test_closed_reader_drops_output(void **state)
{
	struct fix *f = *state;
	signal(SIGPIPE, SIG_IGN);
	close(f->rd);
	f->rd = -1;
	start_writer(f);
	assert_true(joined_within(f, 1000));
	assert_int_equal(f->u.out_fd, -1);
	put(f, "more\n");
	serial_flush(&f->u);
	signal(SIGPIPE, SIG_DFL);
}

/* The main thread's last flush after the VM ended: bounded too. */
static void test_final_flush_bounded(void **state)
{
	struct fix *f = *state;
	fill_pipe(f->wr);
	put(f, "partial line");
	atomic_store(&f->end, 1);
	uint64_t t0 = now_ns();
	serial_flush(&f->u);
	assert_true(now_ns() - t0 < 1000000000ULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_stopped_reader_releases_vcpu_at_end, setup, teardown),
		cmocka_unit_test_setup_teardown(test_slow_reader_loses_nothing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_closed_reader_drops_output, setup, teardown),
		cmocka_unit_test_setup_teardown(test_final_flush_bounded, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
