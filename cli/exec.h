/* `sandbox exec`: a process in a running sandbox (exec.c). */
#ifndef SANDBOX_EXEC_H
#define SANDBOX_EXEC_H

#include <stdio.h>

int cmd_exec(int argc, char **argv);
void exec_usage(FILE *f);

#endif
