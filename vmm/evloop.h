/* The device event loop: one thread, one epoll set. Queue notifications
 * (ioeventfds), backend fds (tap, sockets) and timers all arrive here, so
 * device work runs off the vCPU threads and nothing busy-polls. */
#ifndef SANDBOX_EVLOOP_H
#define SANDBOX_EVLOOP_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "util.h"

typedef void (*evloop_fn)(void *ctx, uint32_t events);

#define EVLOOP_MAX 128

struct evloop {
	int epfd;
	int stop_fd;        /* eventfd: wakes the loop to stop */
	pthread_t thread;
	bool running;
	unsigned n;
	struct evloop_entry {
		int fd;
		evloop_fn fn;
		void *ctx;
	} e[EVLOOP_MAX];
};

int evloop_init(struct evloop *l, struct err *e);
/* Watch FD for EVENTS (EPOLLIN ...). Safe to call while the loop runs. */
int evloop_add(struct evloop *l, int fd, uint32_t events, evloop_fn fn, void *ctx, struct err *e);
int evloop_mod(struct evloop *l, int fd, uint32_t events);
void evloop_del(struct evloop *l, int fd);
int evloop_start(struct evloop *l, struct err *e);
/* Stop and join the loop thread. */
void evloop_stop(struct evloop *l);
void evloop_free(struct evloop *l);

#endif
