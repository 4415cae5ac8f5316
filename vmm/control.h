/* The VMM's control socket (vm_config.control, ROOT/<id>/sock/ctl for
 * sandbox run): one request per connection, a line of text, answered
 * with "ok" or "error: MESSAGE".
 *
 *   pause                 stop the vCPUs (memory, devices and the agent
 *                         channel stay); `sandbox pause`
 *   resume                let them run again
 *   snapshot              with two fds (SCM_RIGHTS): the state file and
 *                         the memory file to write (the caller opened them:
 *                         the jailed VMM opens no path). The agent channel
 *                         is quiesced, the VM paused and saved, and left
 *                         so: the caller copies the writable layer, then
 *                         sends resume (the channel carries on) or ends
 *                         the VM.
 *   workingset SCOPE      with one fd (SCM_RIGHTS), a restored VM only: the
 *                         guest pages mapped so far, as the snapshot's
 *                         working set file (snapshot/workingset.h) written
 *                         to the fd; SCOPE is enum ws_scope.
 *
 * The socket is bound before the jail; one thread of its own (with its own
 * seccomp filter) serves it. Whoever can connect controls the VM: the
 * socket's directory is the owner's, mode 0700. */
#ifndef SANDBOX_CONTROL_H
#define SANDBOX_CONTROL_H

#include <pthread.h>
#include <stdbool.h>

#include "util.h"

struct vm;

struct vm_control {
	int listen_fd;          /* -1: none */
	int stop_fd;            /* eventfd */
	pthread_t thread;
	bool started;
	/* sandbox run's agent channel, quiesced around a snapshot */
	int (*quiesce)(void *arg);
	void (*unquiesce)(void *arg);
	void *arg;
	bool quiesced;          /* by a snapshot, until resume */
};

/* Bind and listen on PATH (before the jail). */
int control_listen(struct vm_control *c, const char *path, struct err *e);
/* Serve it on a thread of its own (after the jail). */
int control_start(struct vm_control *c, struct vm *vm, struct err *e);
void control_stop(struct vm_control *c);

/* The client side (the command line): send REQ (with NFDS fds) to the
 * socket at PATH and wait up to TIMEOUT_S for the answer. 0 for "ok", -1
 * with E filled with the VMM's message or what failed. */
int control_request(const char *path, const char *req, const int *fds, int nfds, int timeout_s, struct err *e);

#endif
