/* Helpers of the command line's commands.
 *
 * Errors (common/err.h): helpers fill a struct err and return -1; only a
 * command's top-level function (what main.c dispatches to, or the main
 * function of a process sandbox run forks) prints, once, with
 * cli_report(). */
#ifndef SANDBOX_CLI_H
#define SANDBOX_CLI_H

#include "err.h"

/* The command line's one-line error: "sandbox: MESSAGE" on stderr;
 * returns 125 (an error of sandbox itself, as Docker's). For a command's
 * own option parsing; helpers fill a struct err instead. */
int cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print E as that one line; returns the exit status it calls for, 125
 * unless it says otherwise. */
int cli_report(const struct err *e);
/* Our terminal (stdin) in raw mode while a container's terminal is
 * relayed, and back as it was (a no-op unless raw was set). */
void cli_tty_raw(void);
void cli_tty_restore(void);
/* /dev/null as stdin (a container that gets no stdin). */
int cli_stdin_null(struct err *e);

#endif
