/* Sandbox state on the host, so that `ps`, `kill`, `stop`, `logs`, `rm`
 * and `inspect` find what `run` started, and state left by a process that
 * died is noticed and cleaned.
 *
 *   ROOT = $SANDBOX_STATE_DIR, else /run/sandbox (root), else
 *          $XDG_RUNTIME_DIR/sandbox, else /tmp/sandbox-<uid>
 *   ROOT/.lock           flock: allocations (names, subnets) and clean-up
 *   ROOT/<id>/state      "key=value" lines (below), replaced atomically
 *   ROOT/<id>/log        stdout+stderr of a detached (-d) sandbox
 *   ROOT/<id>/vsock      the VM's vsock socket (host-initiated connects)
 *
 * state keys: id name image command created (unix s) isolation cpus
 * memory (bytes, 0 none) pid pid_start (the owner: `sandbox run`, which exits with
 * the container's status) vmm_pid (the VMM or host-mode runtime) status
 * (created|running|exited) exit_code net (subnet index, 0 none) tap
 * stop_signal rm (1: removed at exit) detached vmm_start (the VMM's start
 * time, taken by state_write, so that a reused pid is never signalled)
 * log_driver (json-file|journald|none, "" none: an attached run) ttl
 * (seconds, 0 none: the owner stops and removes the sandbox after it)
 * oom_kills (processes of the container the OOM killer killed, as the
 * guest reported them: the owner updates it, docs/stats.md); these three
 * may be missing (state written before they existed).
 *
 * Trust (state.c): ROOT and ROOT/<id> must be real directories of this
 * user that group and others cannot write, files in them are never opened
 * through a symlink, values with control characters are refused, and a
 * state file that does not parse strictly (every key once, nothing else,
 * values as the owner writes them) is "damaged": the error says so and
 * where to remove it, and nothing in it is acted on. */
#ifndef SANDBOX_STATE_H
#define SANDBOX_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "util.h"

#define STATE_ID_LEN 16     /* hex digits */

struct sandbox_state {
	char id[STATE_ID_LEN + 1];
	char name[64];
	char image[256];
	char command[1024];
	long long created;
	char isolation[16];
	char cpus[16];
	long long memory;
	pid_t pid, vmm_pid;
	unsigned long long pid_start;   /* the owner's start time (/proc/PID/stat) */
	unsigned long long vmm_start;   /* vmm_pid's start time (set by state_write) */
	char status[16];
	int exit_code;
	int net;
	char tap[16];
	char stop_signal[16];
	bool rm, detached;
	char log_driver[16];
	long long ttl;
	long long oom_kills;
};

/* The state root (created 0700 if missing; refused if it is a symlink,
 * another user's, or writable by group or others). */
const char *state_root(struct err *e);
/* Lock/unlock ROOT/.lock (exclusive). */
int state_lock(struct err *e);
void state_unlock(int fd);
/* Path of FILE in sandbox ID's directory. */
void state_path(char *buf, size_t len, const char *id, const char *file);
/* Open FILE in sandbox ID's directory (FLAGS as open(2), plus O_NOFOLLOW
 * and O_CLOEXEC; MODE for O_CREAT): a regular file only. */
int state_open(const char *id, const char *file, int flags, mode_t mode, struct err *e);
/* Replace ID's state (refused if a value holds a control character). */
int state_write(const struct sandbox_state *s, struct err *e);
/* Read ID's state. Fails with e->errnum ENOENT if there is none (not yet
 * written, or removed meanwhile), else the error says what is wrong
 * (EBADMSG: "damaged state file"); S is all zero then. */
int state_read(const char *id, struct sandbox_state *s, struct err *e);
/* Every sandbox's id (sorted by creation); free with state_free_list.
 * NULL with E filled if the root cannot be read or memory runs out (an
 * empty root is an empty list, never NULL). */
char **state_list(size_t *n, struct err *e);
void state_free_list(char **ids, size_t n);
/* Find a sandbox by id, unique id prefix, or name. */
int state_find(const char *ref, struct sandbox_state *s, struct err *e);
/* Is the owner of S alive (and the same process that wrote it)? A state
 * whose owner died is "dead": its VMM is killed and it is cleaned. */
bool state_owner_alive(const struct sandbox_state *s);
/* Is vmm_pid still the process the owner started? */
bool state_vmm_alive(const struct sandbox_state *s);
/* Remove ID's directory and everything in it, and its writable layer
 * (storage.h). */
int state_remove(const char *id);
/* Start time of PID (clock ticks since boot), 0 if it is gone. */
unsigned long long state_proc_start(pid_t pid);
/* Signal NAME ("TERM", "SIGTERM", "sigterm", "SIGRTMIN+3") or number
 * (1-64) as a number, -1 if it is none (or too long to record). */
int state_signal(const char *name);
/* mkdir -p PATH (MODE for each directory made). */
int state_mkdir_p(const char *path, mode_t mode);
/* Open directory NAME (relative to AT; PATH to show) as trusted state:
 * a real directory, this user's, not writable by group or others. WHAT
 * names it in errors, FIX says what to do. An fd, or -1 with E filled. */
int state_trusted_dir(int at, const char *name, const char *path, const char *what, const char *fix,
		      struct err *e);
/* A fresh random id. */
void state_new_id(char id[STATE_ID_LEN + 1]);

#endif
