#include "evloop.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

static pthread_mutex_t table_lock = PTHREAD_MUTEX_INITIALIZER;

int evloop_init(struct evloop *l, struct err *e)
{
	memset(l, 0, sizeof(*l));
	pthread_mutex_init(&l->start_lock, NULL);
	pthread_cond_init(&l->start_cond, NULL);
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (l->epfd < 0)
		return err_sys(e, "epoll_create1");
	l->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (l->stop_fd < 0)
		return err_sys(e, "eventfd");
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->stop_fd, &ev))
		return err_sys(e, "epoll_ctl");
	pthread_mutex_init(&l->hold_lock, NULL);
	pthread_cond_init(&l->hold_cond, NULL);
	l->hold_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (l->hold_fd < 0)
		return err_sys(e, "eventfd");
	ev.data.ptr = &l->hold_fd;
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, l->hold_fd, &ev))
		return err_sys(e, "epoll_ctl");
	return 0;
}

int evloop_add(struct evloop *l, int fd, uint32_t events, evloop_fn fn, void *ctx, struct err *e)
{
	pthread_mutex_lock(&table_lock);
	struct evloop_entry *slot = NULL;
	for (unsigned i = 0; i < l->n; i++)
		if (l->e[i].fn == NULL) {
			slot = &l->e[i];
			break;
		}
	if (!slot && l->n < EVLOOP_MAX)
		slot = &l->e[l->n++];
	if (!slot) {
		pthread_mutex_unlock(&table_lock);
		return err_set(e, "event loop full");
	}
	*slot = (struct evloop_entry){ .fd = fd, .fn = fn, .ctx = ctx };
	pthread_mutex_unlock(&table_lock);
	struct epoll_event ev = { .events = events, .data.ptr = slot };
	if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev)) {
		slot->fn = NULL;
		return err_sys(e, "epoll_ctl add fd %d", fd);
	}
	return 0;
}

static struct evloop_entry *find(struct evloop *l, int fd)
{
	for (unsigned i = 0; i < l->n; i++)
		if (l->e[i].fn && l->e[i].fd == fd)
			return &l->e[i];
	return NULL;
}

int evloop_mod(struct evloop *l, int fd, uint32_t events)
{
	struct evloop_entry *s = find(l, fd);
	if (!s)
		return -1;
	struct epoll_event ev = { .events = events, .data.ptr = s };
	return epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev);
}

void evloop_forget(struct evloop *l, int fd)
{
	pthread_mutex_lock(&table_lock);
	struct evloop_entry *s = find(l, fd);
	if (s)
		s->fn = NULL;
	pthread_mutex_unlock(&table_lock);
}

void evloop_del(struct evloop *l, int fd)
{
	/* Only from the loop thread itself or before it starts: a slot is not
	 * reused while an event for it may still be in flight. */
	epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
	pthread_mutex_lock(&table_lock);
	struct evloop_entry *s = find(l, fd);
	if (s)
		s->fn = NULL;
	pthread_mutex_unlock(&table_lock);
}

/* Tell evloop_start how the on_start hook went. */
static void started(struct evloop *l, int state)
{
	pthread_mutex_lock(&l->start_lock);
	l->start_state = state;
	pthread_cond_signal(&l->start_cond);
	pthread_mutex_unlock(&l->start_lock);
}

/* The hold eventfd fired: say so and wait for evloop_release. */
static void held(struct evloop *l)
{
	uint64_t v;
	if (read(l->hold_fd, &v, sizeof(v)) < 0) {
		/* EAGAIN: nothing asked */
	}
	pthread_mutex_lock(&l->hold_lock);
	if (l->hold == 1) {
		l->hold = 2;
		pthread_cond_broadcast(&l->hold_cond);
		while (l->hold)
			pthread_cond_wait(&l->hold_cond, &l->hold_lock);
	}
	pthread_mutex_unlock(&l->hold_lock);
}

void evloop_hold(struct evloop *l)
{
	if (!l->running)
		return;
	pthread_mutex_lock(&l->hold_lock);
	l->hold = 1;
	uint64_t one = 1;
	if (write(l->hold_fd, &one, sizeof(one)) < 0) {
		/* cannot happen for an eventfd below its maximum */
	}
	while (l->hold == 1)
		pthread_cond_wait(&l->hold_cond, &l->hold_lock);
	pthread_mutex_unlock(&l->hold_lock);
}

void evloop_release(struct evloop *l)
{
	pthread_mutex_lock(&l->hold_lock);
	l->hold = 0;
	pthread_cond_broadcast(&l->hold_cond);
	pthread_mutex_unlock(&l->hold_lock);
}

static void *loop(void *arg)
{
	struct evloop *l = arg;
	struct epoll_event evs[32];
	if (l->on_start && l->on_start(l->on_start_arg, &l->start_err)) {
		started(l, -1);
		return NULL;
	}
	started(l, 1);
	for (;;) {
		int n = epoll_wait(l->epfd, evs, 32, -1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		for (int i = 0; i < n; i++) {
			struct evloop_entry *s = evs[i].data.ptr;
			if (!s)
				return NULL; /* stop_fd */
			if ((void *)s == &l->hold_fd) {
				held(l);
				continue;
			}
			if (s->fn)
				s->fn(s->ctx, evs[i].events);
		}
	}
	return NULL;
}

int evloop_start(struct evloop *l, struct err *e)
{
	l->start_state = 0;
	int r = pthread_create(&l->thread, NULL, loop, l);
	if (r) {
		errno = r;
		return err_sys(e, "starting the device thread");
	}
	pthread_mutex_lock(&l->start_lock);
	while (l->start_state == 0)
		pthread_cond_wait(&l->start_cond, &l->start_lock);
	int state = l->start_state;
	pthread_mutex_unlock(&l->start_lock);
	if (state < 0) {
		pthread_join(l->thread, NULL);
		*e = l->start_err;
		return err_wrap(e, "the device thread");
	}
	l->running = true;
	return 0;
}

void evloop_stop(struct evloop *l)
{
	if (!l->running)
		return;
	uint64_t one = 1;
	if (write(l->stop_fd, &one, sizeof(one)) < 0) {
		/* cannot happen for an eventfd below its maximum */
	}
	pthread_join(l->thread, NULL);
	l->running = false;
}

void evloop_free(struct evloop *l)
{
	evloop_stop(l);
	if (l->epfd > 0)
		close(l->epfd);
	if (l->stop_fd > 0)
		close(l->stop_fd);
	if (l->hold_fd > 0)
		close(l->hold_fd);
	l->epfd = l->stop_fd = l->hold_fd = -1;
	pthread_cond_destroy(&l->start_cond);
	pthread_mutex_destroy(&l->start_lock);
}
