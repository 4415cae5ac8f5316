/* Helpers of the command line's commands. */
#ifndef SANDBOX_CLI_H
#define SANDBOX_CLI_H

/* The command line's one-line error: "sandbox: MESSAGE" on stderr;
 * returns 125 (an error of sandbox itself, as Docker's). */
int cli_fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
