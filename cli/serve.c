/* `sandbox serve ...`: the API server is its own program beside this one
 * (sandbox-serve, api/), linked with libmicrohttpd; this runs it. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "serve.h"
#include "util.h"

int cmd_serve(int argc, char **argv)
{
	(void)argc;
	char tool[4160];
	snprintf(tool, sizeof(tool), "%s/sandbox-serve", self_dir());
	argv[0] = tool;
	execv(tool, argv);
	return cli_fail("cannot run %s: %s", tool, strerror(errno));
}

void serve_usage(FILE *f)
{
	fprintf(f, "  serve [--socket PATH | --tcp ADDR:PORT --token-file F]\n"
		   "                                 the HTTP API and dashboard (sandbox serve --help)\n");
}
