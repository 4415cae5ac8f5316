/* The commands around `sandbox run` that work on the state directory
 * (run/state.h): ps, kill, stop, logs, rm, inspect; and `sandbox check`.
 * Each takes argv with argv[0] the command's name and returns the exit
 * status (125 on an error, reported as one "sandbox: ..." line). */
#ifndef SANDBOX_LIFECYCLE_H
#define SANDBOX_LIFECYCLE_H

#include <stdio.h>

#include "state.h"

int cmd_ps(int argc, char **argv);
int cmd_kill(int argc, char **argv);
int cmd_stop(int argc, char **argv);
int cmd_rm(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
/* Remove ended sandboxes (--until: ended at least that long ago). */
int cmd_prune(int argc, char **argv);
/* check.c: can this host run sandboxes? 0 if VM sandboxes run natively. */
int cmd_check(int argc, char **argv);
/* Find REF and check that it runs, with a VMM (or host runtime) that is
 * the one its owner started (waiting a little for one that is starting):
 * 0, or -1 with E saying why not ("NAME is not running"). */
int lifecycle_find_running(const char *ref, struct sandbox_state *s, struct err *e);
/* The usage lines of these commands (for sandbox --help). */
void lifecycle_usage(FILE *f);

#endif
