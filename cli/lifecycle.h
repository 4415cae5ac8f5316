/* The commands around `sandbox run` that work on the state directory
 * (run/state.h): ps, kill, stop, logs, rm, inspect; and `sandbox check`.
 * Each takes argv with argv[0] the command's name and returns the exit
 * status (125 on an error, reported as one "sandbox: ..." line). */
#ifndef SANDBOX_LIFECYCLE_H
#define SANDBOX_LIFECYCLE_H

#include <stdio.h>

int cmd_ps(int argc, char **argv);
int cmd_kill(int argc, char **argv);
int cmd_stop(int argc, char **argv);
int cmd_logs(int argc, char **argv);
int cmd_rm(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
/* check.c: can this host run sandboxes? 0 if VM sandboxes run natively. */
int cmd_check(int argc, char **argv);
/* The usage lines of these commands (for sandbox --help). */
void lifecycle_usage(FILE *f);

#endif
