#include "cli.h"

#include <stdarg.h>
#include <stdio.h>

#define EXIT_ERR 125

int cli_fail(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	fputs("sandbox: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	return EXIT_ERR;
}

int cli_report(const struct err *e)
{
	fprintf(stderr, "sandbox: %s\n", e->msg);
	return err_exit_status(e, EXIT_ERR);
}
