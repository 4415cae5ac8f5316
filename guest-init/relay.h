/* One process's stdio over one agent connection (common/proto.h), inside
 * the guest: the container's first process (agent.c) and every `sandbox
 * exec` process (exec.c) are each relayed by one struct relay.
 *
 *   relay_spawn(): pipes (or a pty) → fork CHILD with them as its stdio
 *   relay_run():   frames from the host to the child's stdin, signals and
 *                  window size; its output to frames; its status as EXIT
 *                  once its output is drained; the host's BYE ends it.
 *
 * A connection that breaks, or a host frame that is invalid, ends the
 * relay; the child is then killed (unless the host detached it). */
#ifndef SB_GUEST_RELAY_H
#define SB_GUEST_RELAY_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "../common/proto.h"
#include "container.h"

struct relay {
	int vs;                     /* the connection, non-blocking */
	int in_w;                   /* child's stdin (or the pty master), -1 when closed */
	int out_r, err_r;           /* its stdout/stderr (pty: out_r only) */
	bool tty;
	int sigfd;                  /* SIGCHLD (blocked by the caller) */
	pid_t child;
	int status;                 /* -1 while the child runs */
	bool detached;              /* the host sent DETACH: it goes, the child stays */
	struct sb_rx rx;
	struct sb_tx tx;
	uint8_t pend[SB_FRAME_MAX]; /* stdin bytes the child has not taken */
	size_t pend_len, pend_off;
	bool stdin_eof, bye;
	/* Optional: another fd to watch (PID 1's exec listener) and what to
	 * do when it is readable. */
	int extra_fd;
	void (*on_extra)(struct relay *r);
	/* Optional: one more (PID 1's OOM watch), polled only while frames
	 * may be sent (not quiesced, room in the queue). */
	int watch_fd;
	void (*on_watch)(struct relay *r);
	/* Optional: called once the child's output is drained, right before
	 * EXIT is queued (PID 1 syncs disks and adds its timings there). */
	void (*before_exit)(struct relay *r);
	/* Optional: called for each child reaped that is not r->child. */
	void (*on_reap)(pid_t pid, int status);
	/* Snapshots: 0 running, 1 the host asked QUIESCE, 2 QUIESCED sent
	 * (no output is taken until RESUME or RESTORED). */
	int quiesce;
	/* Optional: a RESTORED frame came (this is a sandbox restored from a
	 * snapshot): take its new identity. */
	void (*on_restored)(struct relay *r, const struct sb_restored *id);
	/* Called when QUIESCE comes (a snapshot is about to be taken). */
	void (*on_quiesce)(struct relay *r);
};

/* What relay_spawn runs in the child, with stdio in place and every
 * other fd close-on-exec (it closes those it must not hold before); it
 * must not return. */
typedef void (*relay_child_fn)(void *arg, bool tty);

/* Buffers; extra_fd and watch_fd -1. 0, or -1 (out of memory). */
int relay_init(struct relay *r, int vs);
/* Block until the first frame, which must be of TYPE; copy its payload
 * into BUF (CAP bytes): its length, or -1 with ERR filled. */
long relay_first_frame(struct relay *r, uint8_t type, void *buf, size_t cap, struct err *err);
/* Stdio for the child (a pty of ROWS x COLS with TTY, else pipes; stdin
 * from the host only with STDIN_OPEN), then fork it. */
int relay_spawn(struct relay *r, bool tty, bool stdin_open, uint16_t rows, uint16_t cols,
		relay_child_fn fn, void *arg, struct err *err);
/* Relay until the child ended, its output went out as frames, EXIT was
 * sent and the host said BYE, or the connection broke. Returns the
 * child's status (the child is killed first if the host went away
 * without detaching it). */
int relay_run(struct relay *r);
/* Send "sandbox: MSG" as stderr (MSG NULL: nothing) and STATUS as EXIT,
 * then wait (bounded) for BYE: how a setup failure (or a session with
 * nothing to run, STATUS 0) reaches the host. */
void relay_fail(struct relay *r, const char *msg, int status);
uint64_t relay_mono_ms(void);

#endif
