/* Unit tests for the event loop's thread-start hook (how the VM gives the
 * device thread its seccomp filter without the loop knowing of seccomp):
 * the hook runs on the loop thread, evloop_start returns only after it,
 * and a failing hook is evloop_start's error with no event ever served. */
#include "unit.h"

#include <pthread.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>

#include "../../vmm/evloop.h"

struct probe {
	pthread_t caller;
	bool on_loop_thread;
	int calls;
	int served;
	bool fail;
};

static int hook(void *arg, struct err *e)
{
	struct probe *p = arg;
	/* Slow on purpose: evloop_start must wait for us. */
	usleep(50 * 1000);
	p->on_loop_thread = !pthread_equal(pthread_self(), p->caller);
	p->calls++;
	if (p->fail)
		return err_set(e, "no filter for you");
	return 0;
}

static void on_event(void *ctx, uint32_t events)
{
	(void)events;
	((struct probe *)ctx)->served++;
}

static void test_hook_runs_first_on_the_loop_thread(void **state)
{
	(void)state;
	struct evloop l;
	struct err e = { 0 };
	struct probe p = { .caller = pthread_self() };
	assert_int_equal(evloop_init(&l, &e), 0);
	l.on_start = hook;
	l.on_start_arg = &p;
	assert_int_equal(evloop_start(&l, &e), 0);
	assert_int_equal(p.calls, 1);     /* done before evloop_start returned */
	assert_true(p.on_loop_thread);
	evloop_free(&l);
}

static void test_failing_hook_is_start_error(void **state)
{
	(void)state;
	struct evloop l;
	struct err e = { 0 };
	struct probe p = { .caller = pthread_self(), .fail = true };
	assert_int_equal(evloop_init(&l, &e), 0);
	int fd = eventfd(1, EFD_CLOEXEC);      /* readable from the start */
	assert_true(fd >= 0);
	assert_int_equal(evloop_add(&l, fd, EPOLLIN, on_event, &p, &e), 0);
	l.on_start = hook;
	l.on_start_arg = &p;
	assert_int_equal(evloop_start(&l, &e), -1);
	assert_err_contains(&e, "the device thread: no filter for you");
	assert_false(l.running);
	usleep(20 * 1000);
	assert_int_equal(p.served, 0);         /* it never served an event */
	evloop_free(&l);                       /* no thread to join */
	close(fd);
}

static void test_no_hook(void **state)
{
	(void)state;
	struct evloop l;
	struct err e = { 0 };
	struct probe p = { 0 };
	assert_int_equal(evloop_init(&l, &e), 0);
	int fd = eventfd(1, EFD_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(evloop_add(&l, fd, EPOLLIN | EPOLLET, on_event, &p, &e), 0);
	assert_int_equal(evloop_start(&l, &e), 0);
	for (int i = 0; i < 200 && !__atomic_load_n(&p.served, __ATOMIC_SEQ_CST); i++)
		usleep(5 * 1000);
	evloop_stop(&l);
	assert_int_equal(p.served, 1);
	evloop_free(&l);
	close(fd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hook_runs_first_on_the_loop_thread),
		cmocka_unit_test(test_failing_hook_is_start_error),
		cmocka_unit_test(test_no_hook),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
