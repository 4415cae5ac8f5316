/* The host end of the agent channel (common/proto.h) inside the VMM
 * process of `sandbox run`: one thread that sends the container's config,
 * relays stdin/stdout/stderr, forwards signals and window size, and keeps
 * the exit status the guest reports. */
#ifndef SANDBOX_RELAY_H
#define SANDBOX_RELAY_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

struct relay {
	int sock;               /* our end of the socketpair given to vsock */
	int in_fd;              /* -1: no stdin relayed */
	int out_fd, err_fd;
	bool tty;               /* in_fd is a terminal: window size follows it */
	bool no_seccomp;
	const void *config;     /* the first frame's payload: the spec (common/spec.h) */
	size_t config_len;
	uint8_t config_type;    /* the first frame: SB_F_CONFIG (0 means it), or SB_F_EXEC */
	int booted_fd;          /* >= 0: one byte here (then closed) once the relay runs:
				   the VM is made and its vCPUs are about to start */
	int gate_fd;            /* >= 0: send the config only once a byte can be read here
				   (sandbox-runtime start; the VM boots meanwhile) */
	bool detach;            /* exec -d: on STARTED send DETACH and end with status 0 */
	int wake;               /* eventfd: signals queued or stop */
	_Atomic int status;     /* the guest's EXIT, -1 until then */
	_Atomic uint64_t exit_ns; /* now_ns() when EXIT came (timings) */
	_Atomic unsigned sig_pending; /* bitmap of signals 1..31 to forward */
	_Atomic bool winch, stop;
	/* Called on the relay thread when EXIT came (all output before it is
	 * written): sandbox run ends the VM there. The guest synced its disks
	 * before sending EXIT, so nothing it still does matters. */
	void (*on_exit)(void *arg);
	void *on_exit_arg;
	/* Called on the relay thread when the guest says RESUMED (a clone
	 * took its identity; a snapshot's source runs on). */
	void (*on_resumed)(void *arg);
	/* Called on the relay thread when the guest reports a higher OOM
	 * kill count (an OOM frame: common/proto.h), N <= SB_OOM_MAX. */
	void (*on_oom)(void *arg, uint32_t n);
	uint32_t oom_kills;     /* the last count taken (relay thread only) */
	/* Called on the relay thread when it ends, for any reason. */
	void (*on_end)(void *arg);
	pthread_t thread;
	bool started;
	char err[600];          /* a protocol error, if one ended the relay */
	/* Snapshots (relay_quiesce): Q_* below, under qlock. */
	pthread_mutex_t qlock;
	pthread_cond_t qcond;
	int quiesce;
	bool resume_asked, ended;
};

enum { Q_NONE, Q_ASKED, Q_SENT, Q_DONE };

/* Make the socketpair: *GUEST_END goes to the vsock device (vm_config
 * agent_fd). */
int relay_init(struct relay *r, int *guest_end);
/* Or relay over SOCK, connected already (sandbox exec's vsock stream);
 * the relay owns it from here. */
int relay_init_sock(struct relay *r, int sock);
int relay_start(struct relay *r);
/* Queue SIG for the container (any thread, async-signal-safe). */
void relay_signal(struct relay *r, int sig);
void relay_winch(struct relay *r);
/* Snapshots: send QUIESCE and wait (up to TIMEOUT_MS) for the guest's
 * QUIESCED, after which neither side sends a frame: the channel is at a
 * frame boundary both ways and empty. 0, or -1 (timeout, or the relay
 * ended). Stdin and signals wait meanwhile. */
int relay_quiesce(struct relay *r, int timeout_ms);
/* Send RESUME: the guest carries on. */
void relay_resume(struct relay *r);
/* Stop the thread (after the VM ended) and free what it holds. */
void relay_stop(struct relay *r);

#endif
