/* The error convention (err.h). Only libc: the host programs and the
 * static guest-init link the same file. */
#include "err.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* A message is one line whatever it quotes (a path from a bundle, a name
 * from the guest): control bytes become '?'. */
static void err_one_line(char *msg)
{
	for (unsigned char *p = (unsigned char *)msg; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			*p = '?';
}

static int err_vset(struct err *e, int errnum, const char *fmt, va_list ap)
{
	if (!e)
		return -1;
	e->errnum = errnum;
	e->status = 0;
	int n = vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	if (errnum && n >= 0 && (size_t)n < sizeof(e->msg))
		snprintf(e->msg + n, sizeof(e->msg) - n, ": %s", strerror(errnum));
	err_one_line(e->msg);
	return -1;
}

int err_set(struct err *e, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	err_vset(e, 0, fmt, ap);
	va_end(ap);
	return -1;
}

int err_sys(struct err *e, const char *fmt, ...)
{
	int errnum = errno;
	va_list ap;
	va_start(ap, fmt);
	err_vset(e, errnum, fmt, ap);
	va_end(ap);
	return -1;
}

int err_errno(struct err *e, int errnum, const char *fmt, ...)
{
	if (!e)
		return -1;
	/* The caller may have chosen the status first (exec's 126/127). */
	int status = e->status;
	va_list ap;
	va_start(ap, fmt);
	err_vset(e, errnum, fmt, ap);
	va_end(ap);
	e->status = status ? status : 125;
	return -1;
}

int err_status(struct err *e, int status, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	err_vset(e, 0, fmt, ap);
	va_end(ap);
	if (e)
		e->status = status;
	return -1;
}

int err_oom(struct err *e, const char *what)
{
	errno = ENOMEM;
	return err_sys(e, "%s", what);
}

int err_exit_status(const struct err *e, int fallback)
{
	return e && e->status > 0 && e->status < 256 ? e->status : fallback;
}

int err_wrap(struct err *e, const char *fmt, ...)
{
	if (!e)
		return -1;
	char prefix[256], old[sizeof(e->msg)];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof(prefix), fmt, ap);
	va_end(ap);
	memcpy(old, e->msg, sizeof(old));
	if (snprintf(e->msg, sizeof(e->msg), "%s: %s", prefix, old) >= (int)sizeof(e->msg))
		e->msg[sizeof(e->msg) - 1] = '\0'; /* truncated: keep what fits */
	err_one_line(e->msg);
	return -1;
}
