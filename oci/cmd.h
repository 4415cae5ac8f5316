/* sandbox-runtime's commands (docs/oci-runtime.md) and what they share.
 *
 * main.c: the global flags, the log and the one error line, the commands
 * table; io.c: the engine's pid file and console socket; create.c:
 * create (a VM of its own, or a pod's container); life.c: start, state,
 * kill, delete, ps, pause, resume; exec.c: exec; update.c: update.
 * A command takes its own argv (argv[0]: its name) and returns the exit
 * status; errors are printed once, by oci_fail. */
#ifndef SANDBOX_OCI_CMD_H
#define SANDBOX_OCI_CMD_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "err.h"
#include "ostate.h"

#define RUNTIME_VERSION "0.1.0"
#define OCI_SPEC_VERSION "1.0.2"

/* main.c: when this process started (create's timings). */
extern uint64_t oci_started_ns;
/* main.c: a LEVEL line in --log's file (text or json), if given. */
void oci_log(const char *level, const char *msg);
/* main.c: the one error line (stderr and the log): 1, runc's exit status. */
int oci_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
int oci_fail_err(const struct err *e);
/* main.c: --root made and checked, the sandbox state under ROOT/.sandbox. */
int oci_set_roots(struct err *e);
void oci_sleep_ms(unsigned ms);
/* io.c: PID into FILE atomically (engines poll for it). */
int oci_pid_file_write(const char *file, pid_t pid, struct err *e);
/* io.c: terminal: true: a pty whose master goes to the engine over SOCK,
 * its slave our stdio. */
int oci_console_setup(const char *sock, struct err *e);
/* create.c: ROOT/<id> (only flat files of ours) removed. */
int oci_dir_remove(const char *dir);
/* life.c: the one container id of a command, and its record (1 after
 * the error line). */
int oci_one_id(int argc, char **argv, const char *cmd, const char **id);
int oci_load(const char *id, struct oci_state *s);

int oci_cmd_create(int argc, char **argv);
int oci_cmd_start(int argc, char **argv);
int oci_cmd_state(int argc, char **argv);
int oci_cmd_kill(int argc, char **argv);
int oci_cmd_delete(int argc, char **argv);
int oci_cmd_ps(int argc, char **argv);
int oci_cmd_pause_resume(int argc, char **argv);
int oci_cmd_exec(int argc, char **argv);
int oci_cmd_update(int argc, char **argv);
int oci_cmd_features(int argc, char **argv);

#endif
