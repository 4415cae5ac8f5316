/* The small library every host program links (the VMM, the command line,
 * the image tool): errors, time, sizes. */
#ifndef SANDBOX_UTIL_H
#define SANDBOX_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/* The error convention of every host program (after crun): a function
 * that can fail takes a struct err *, returns -1 (or < 0) and fills it;
 * callers add context with err_wrap(); only a command's top level prints
 * (one line: "sandbox: MSG") and exits with err_exit_status().
 * Allocation failure is an error like any other: err_oom(). */
struct err {
	char msg[512];
	int errnum;    /* errno behind it (err_sys), 0 if none */
	int status;    /* exit status it calls for (err_status), 0: the caller's default */
};

int err_set(struct err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Like err_set but appends ": strerror(errno)" and keeps errno. */
int err_sys(struct err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
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

/* Monotonic time in nanoseconds. */
uint64_t now_ns(void);
/* CPU time (user+sys) of this process in nanoseconds. */
uint64_t cpu_ns(void);

/* Parse a size such as "512M", "1G", "65536K" or a plain number of MiB.
 * Returns -1 on syntax error or overflow. */
int parse_size(const char *s, uint64_t *out);

/* Read all of /proc/self/status field NAME (e.g. "VmHWM") in KiB, or -1. */
long proc_status_kib(const char *name);

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define KIB (1024ULL)
#define MIB (1024ULL * 1024)
#define GIB (1024ULL * 1024 * 1024)

/* The directory this program's binary is in (guest kernel, initramfs,
 * sandbox-image and guest-init sit beside it); "." if unknown. */
const char *self_dir(void);

#endif
