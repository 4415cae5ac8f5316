/* `sandbox exec`: a process in a running sandbox (exec.c); its stream,
 * for sandbox cp (cp.c). */
#ifndef SANDBOX_EXEC_H
#define SANDBOX_EXEC_H

#include <stdbool.h>
#include <stdio.h>
#include <sys/types.h>

#include "err.h"
#include "relay.h"
#include "spec.h"
#include "state.h"

int cmd_exec(int argc, char **argv);
/* ARGV (ARGC strings) as an exec in VM sandbox S with our stdio, as
 * `sandbox exec [-i] [-t]` would: its status, or -1 with E filled. */
int exec_command(const struct sandbox_state *s, char **argv, int argc, bool interactive, bool tty, struct err *e);
/* X (any spec: a pod member's container, sandbox-runtime) in VM sandbox
 * S with our stdio, as exec_command: its status, or -1 with E filled.
 * SIG_FORWARD's value (vm.h) reaches it as that signal. */
int exec_run_spec(const struct sandbox_state *s, const struct cspec *x, bool interactive, bool tty, struct err *e);
void exec_usage(FILE *f);
/* cp.c: `sandbox cp`, an exec that streams tar. */
int cmd_cp(int argc, char **argv);
void cp_usage(FILE *f);

/* An exec with the given stdio, for sandbox cp: the VM's vsock stream
 * (relayed by a thread: IN read into STDIN frames, STDOUT and STDERR
 * frames written to OUT and ERR) or `guest-init --exec` as a child with
 * them as its stdio. */
struct exec_stream {
	bool vm;
	struct relay r;
	int done;               /* eventfd: the relay ended */
	int close_fds[2];       /* IN and OUT, closed once the stream ended */
	pid_t pid;              /* container isolation: guest-init --exec */
};

/* Start X in S. IN (-1: none) and OUT are closed by the stream when it
 * ends (so the other ends see EOF or EPIPE), unless they are 0-2. */
int exec_stream_start(struct exec_stream *xs, const struct sandbox_state *s, const struct cspec *x, int in,
		      int out, int err_fd, struct err *e);
/* Wait for its end (ABORT: end it now): its status (137 when the sandbox
 * ended under it), or -1 with E filled. */
int exec_stream_wait(struct exec_stream *xs, bool abort_it, struct err *e);

#endif
