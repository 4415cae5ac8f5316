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

/* Run on the loop thread before its first event, and evloop_start waits
 * for it: the VM loads the device thread's seccomp filter here. A failure
 * (-1, E filled) ends the thread before it serves anything and is
 * evloop_start's error. */
typedef int (*evloop_start_fn)(void *arg, struct err *e);

struct evloop {
	int epfd;
	int stop_fd;        /* eventfd: wakes the loop to stop */
	pthread_t thread;
	bool running;
	evloop_start_fn on_start;   /* NULL: none */
	void *on_start_arg;
	/* on_start's outcome, handed from the new thread to evloop_start */
	pthread_mutex_t start_lock;
	pthread_cond_t start_cond;
	int start_state;            /* 0 waiting, 1 ready, -1 failed */
	struct err start_err;
	/* evloop_hold: the loop thread waits, between events, until released */
	int hold_fd;                /* eventfd: asks the loop to wait */
	pthread_mutex_t hold_lock;
	pthread_cond_t hold_cond;
	int hold;                   /* 0 none, 1 asked, 2 the loop waits */
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
/* Forget FD without a syscall, for a device's teardown when its fd is
 * closed right after (closing it leaves the epoll set; the teardown's
 * seccomp filter has no epoll_ctl). Same rule as evloop_del: from the
 * loop's thread, or when the loop does not run. */
void evloop_forget(struct evloop *l, int fd);
/* Start the loop thread; returns once its on_start hook has run. */
int evloop_start(struct evloop *l, struct err *e);
/* Stop and join the loop thread. */
void evloop_stop(struct evloop *l);
void evloop_free(struct evloop *l);
/* Make the loop thread wait between two events and return once it does
 * (at once if the loop does not run): no device work happens until
 * evloop_release. For snapshots, with the vCPUs paused. */
void evloop_hold(struct evloop *l);
void evloop_release(struct evloop *l);

#endif
