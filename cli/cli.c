#include "cli.h"

#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <termios.h>
#include <unistd.h>

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

static struct termios saved_tio;
static bool tio_saved;

void cli_tty_raw(void)
{
	struct termios t;
	if (!isatty(0) || tcgetattr(0, &saved_tio))
		return;
	tio_saved = true;
	t = saved_tio;
	cfmakeraw(&t);
	tcsetattr(0, TCSANOW, &t);
}

void cli_tty_restore(void)
{
	if (tio_saved)
		tcsetattr(0, TCSANOW, &saved_tio);
}

int cli_stdin_null(struct err *e)
{
	int nul = open("/dev/null", O_RDONLY);
	if (nul < 0 || dup2(nul, 0) < 0)
		return err_sys(e, "/dev/null");
	if (nul)
		close(nul);
	return 0;
}
