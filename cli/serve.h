/* `sandbox serve`: runs sandbox-serve (api/), the HTTP API. */
#ifndef SANDBOX_SERVE_H
#define SANDBOX_SERVE_H

#include <stdio.h>

int cmd_serve(int argc, char **argv);
void serve_usage(FILE *f);

#endif
