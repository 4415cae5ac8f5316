/* The one error convention of every program in the project (the VMM, the
 * command line, the image tool, guest-init), after crun's: a function that
 * can fail takes a struct err *, returns -1 (or < 0) and fills it; callers
 * add context with err_wrap(); only a command's top level prints (one
 * line: "sandbox: MSG") and exits with err_exit_status().
 * Allocation failure is an error like any other: err_oom(). A message is
 * always one line: control bytes in what it quotes become '?'. */
#ifndef SANDBOX_ERR_H
#define SANDBOX_ERR_H

struct err {
	char msg[512];
	int errnum;    /* errno behind it (err_sys, err_errno), 0 if none */
	int status;    /* exit status it calls for (err_status), 0: the caller's default */
};

int err_set(struct err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Like err_set but appends ": strerror(errno)" and keeps errno. */
int err_sys(struct err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* With an explicit ERRNUM (0: none): appends ": strerror(ERRNUM)" when
 * set, and keeps a status already chosen (e.g. 126/127 for exec) or makes
 * it 125, Docker's "the runtime failed". guest-init's form. */
int err_errno(struct err *e, int errnum, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* Like err_set, with the exit status the failure calls for (e.g. Docker's
 * 125/126/127). */
int err_status(struct err *e, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* "WHAT: Cannot allocate memory". */
int err_oom(struct err *e, const char *what);
/* Prefix an existing message with more context: "ctx: old" (errnum and
 * status kept). */
int err_wrap(struct err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The status E asks for, else FALLBACK. */
int err_exit_status(const struct err *e, int fallback);

#endif
