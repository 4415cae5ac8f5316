/* Unit tests for the relay thread's output side (issue 13, `sandbox run`
 * with a reader that stops reading): the test plays the guest agent on
 * the relay's socketpair and sends STDOUT frames; the relay's stdout is a
 * blocking pipe. A reader that stops reading holds the relay only until
 * relay_stop (the VM ended); a slow reader loses nothing; a reader that
 * went away stops our output, not the relay (EXIT still counts). And the
 * guest's OOM counts: only one that grew, within SB_OOM_MAX, is taken. */
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>

#include "../../common/proto.h"
#include <sys/socket.h>

#include "../../vmm/relay.h"

#define FRAME (16 * 1024)
#define NFRAMES 8             /* 128 KiB: far more than the pipe holds */

struct fix {
	struct relay r;
	int guest;              /* the agent's end of the channel */
	int rd, wr;             /* the relay's stdout */
	_Atomic int exits;
	pthread_t stopper;
	_Atomic bool stopped;
	uint32_t ooms[8];       /* the counts on_oom was called with */
	_Atomic int nooms;
};

static char *no_config[] = { NULL };

static void on_exit_cb(void *arg)
{
	atomic_fetch_add(&((struct fix *)arg)->exits, 1);
}

static void on_oom_cb(void *arg, uint32_t n)
{
	struct fix *f = arg;
	int i = atomic_load(&f->nooms);
	if (i < 8)
		f->ooms[i] = n;
	atomic_store(&f->nooms, i + 1);
}

static int setup(void **state)
{
	struct fix *f = calloc(1, sizeof(*f));
	assert_non_null(f);
	signal(SIGPIPE, SIG_IGN);       /* as sandbox run does */
	int p[2];
	assert_int_equal(pipe2(p, O_CLOEXEC), 0);
	f->rd = p[0];
	f->wr = p[1];
	fcntl(f->wr, F_SETPIPE_SZ, 4096);
	assert_int_equal(relay_init(&f->r, &f->guest), 0);
	f->r.config = no_config;
	f->r.in_fd = -1;
	f->r.out_fd = f->wr;
	f->r.err_fd = f->wr;
	f->r.no_seccomp = true;
	f->r.on_exit = on_exit_cb;
	f->r.on_exit_arg = f;
	f->r.on_oom = on_oom_cb;
	assert_int_equal(relay_start(&f->r), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fix *f = *state;
	if (f->rd >= 0)
		close(f->rd);
	close(f->wr);
	close(f->guest);
	free(f);
	signal(SIGPIPE, SIG_DFL);
	return 0;
}

/* The agent sends frame TYPE with LEN bytes of C (the socket is
 * non-blocking: wait for room). */
static void agent_send(struct fix *f, uint8_t type, char c, uint32_t len)
{
	struct sb_tx tx;
	assert_int_equal(sb_tx_init(&tx, 0), 0);
	static char buf[FRAME];
	memset(buf, c, len);
	assert_int_equal(sb_tx_put(&tx, type, buf, len), 0);
	while (!sb_tx_empty(&tx)) {
		assert_true(sb_tx_flush(&tx, f->guest) >= 0);
		struct pollfd pf = { .fd = f->guest, .events = POLLOUT };
		poll(&pf, 1, 100);
	}
	sb_tx_free(&tx);
}

static void send_output(struct fix *f)
{
	for (int i = 0; i < NFRAMES; i++)
		agent_send(f, SB_F_STDOUT, 'o', FRAME);
}

static void send_exit(struct fix *f, uint32_t status)
{
	uint8_t b[4];
	sb_put_u32(b, status);
	struct sb_tx tx;
	assert_int_equal(sb_tx_init(&tx, 0), 0);
	assert_int_equal(sb_tx_put(&tx, SB_F_EXIT, b, 4), 0);
	while (!sb_tx_empty(&tx))
		assert_true(sb_tx_flush(&tx, f->guest) >= 0);
	sb_tx_free(&tx);
}

static void *stop_relay(void *arg)
{
	struct fix *f = arg;
	relay_stop(&f->r);
	atomic_store(&f->stopped, true);
	return NULL;
}

/* relay_stop on another thread, joined within MS milliseconds. */
static bool stops_within(struct fix *f, long ms)
{
	assert_int_equal(pthread_create(&f->stopper, NULL, stop_relay, f), 0);
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return pthread_timedjoin_np(f->stopper, NULL, &ts) == 0;
}

/* Bytes the reader finds in the pipe within MS milliseconds of quiet. */
static size_t drain(struct fix *f, int ms)
{
	static char buf[65536];
	size_t total = 0;
	for (;;) {
		struct pollfd pf = { .fd = f->rd, .events = POLLIN };
		if (poll(&pf, 1, ms) <= 0)
			return total;
		ssize_t n = read(f->rd, buf, sizeof(buf));
		if (n <= 0)
			return total;
		total += (size_t)n;
	}
}

/* The reader stops reading, then the VM ends: relay_stop returns. */
static void test_stopped_reader_does_not_hold_stop(void **state)
{
	struct fix *f = *state;
	send_output(f);
	usleep(300 * 1000);             /* the relay fills the pipe and waits */
	if (!stops_within(f, 2000))
		fail_msg("relay_stop stayed blocked behind a reader that stopped reading");
	assert_true(atomic_load(&f->stopped));
}

/* A slow reader: everything arrives, in order, then EXIT counts. */
static void test_slow_reader_gets_everything(void **state)
{
	struct fix *f = *state;
	send_output(f);
	usleep(300 * 1000);
	send_exit(f, 7);
	size_t got = drain(f, 500);
	assert_int_equal(got, (size_t)NFRAMES * FRAME);
	for (int i = 0; i < 100 && atomic_load(&f->exits) == 0; i++)
		usleep(10 * 1000);
	assert_int_equal(atomic_load(&f->exits), 1);
	assert_int_equal(atomic_load(&f->r.status), 7);
	assert_true(stops_within(f, 2000));
}

/* The reader went away: output stops, the relay still takes EXIT. */
static void test_closed_reader_stops_output_only(void **state)
{
	struct fix *f = *state;
	close(f->rd);
	f->rd = -1;
	send_output(f);
	send_exit(f, 3);
	for (int i = 0; i < 200 && atomic_load(&f->exits) == 0; i++)
		usleep(10 * 1000);
	assert_int_equal(atomic_load(&f->r.status), 3);
	assert_true(stops_within(f, 2000));
	assert_int_equal(f->r.err[0], '\0');
}

/* The guest no longer reads (its session shut the connection's reading
 * side) when we have something to send: we stop sending, not reading:
 * what it sends after (its EXIT) still counts. */
static void test_guest_stops_reading(void **state)
{
	struct fix *f = *state;
	assert_int_equal(shutdown(f->guest, SHUT_RD), 0);
	relay_signal(&f->r, SIGTERM);   /* a frame to send: EPIPE */
	usleep(100 * 1000);
	assert_int_equal(atomic_load(&f->exits), 0);
	agent_send(f, SB_F_STDOUT, 'o', 16);
	send_exit(f, 4);
	for (int i = 0; i < 200 && atomic_load(&f->exits) == 0; i++)
		usleep(10 * 1000);
	assert_int_equal(atomic_load(&f->exits), 1);
	assert_int_equal(atomic_load(&f->r.status), 4);
	char out[32];
	assert_int_equal(read(f->rd, out, sizeof(out)), 16);
	assert_true(stops_within(f, 2000));
	assert_int_equal(f->r.err[0], '\0');
}

/* A guest's OOM counts: taken when they grow and stay within bounds;
 * one that went down, stayed, or is past SB_OOM_MAX is dropped. */
static void test_oom_counts_bounded(void **state)
{
	struct fix *f = *state;
	const uint32_t sent[] = { 2, 1, 2, SB_OOM_MAX + 1, UINT32_MAX, 5, SB_OOM_MAX, 7 };
	for (size_t i = 0; i < sizeof(sent) / sizeof(sent[0]); i++) {
		uint8_t b[4];
		sb_put_u32(b, sent[i]);
		struct sb_tx tx;
		assert_int_equal(sb_tx_init(&tx, 0), 0);
		assert_int_equal(sb_tx_put(&tx, SB_F_OOM, b, 4), 0);
		while (!sb_tx_empty(&tx))
			assert_true(sb_tx_flush(&tx, f->guest) >= 0);
		sb_tx_free(&tx);
	}
	send_exit(f, 0);
	for (int i = 0; i < 200 && atomic_load(&f->exits) == 0; i++)
		usleep(10 * 1000);
	assert_int_equal(atomic_load(&f->exits), 1);
	assert_int_equal(atomic_load(&f->nooms), 3);
	assert_int_equal(f->ooms[0], 2);
	assert_int_equal(f->ooms[1], 5);
	assert_int_equal(f->ooms[2], SB_OOM_MAX);
	assert_int_equal(f->r.oom_kills, SB_OOM_MAX);
	assert_true(stops_within(f, 2000));
	assert_int_equal(f->r.err[0], '\0');
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_stopped_reader_does_not_hold_stop, setup, teardown),
		cmocka_unit_test_setup_teardown(test_slow_reader_gets_everything, setup, teardown),
		cmocka_unit_test_setup_teardown(test_closed_reader_stops_output_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_oom_counts_bounded, setup, teardown),
		cmocka_unit_test_setup_teardown(test_guest_stops_reading, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
