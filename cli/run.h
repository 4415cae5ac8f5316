/* `sandbox run` and the lifecycle commands around it. */
#ifndef SANDBOX_RUN_H
#define SANDBOX_RUN_H

#include <stdint.h>
#include <stdio.h>

#include "spec.h"

/* An image's Entrypoint, Cmd and Env entries: the spec's limit, which
 * guest-init shares (common/spec.h). */
#define SB_RUN_MAX_ARGS CSPEC_MAX_ARGS

/* sandbox run [OPTIONS] IMAGE [CMD...]: argv[0] is "run". START is the
 * process start (ns), for --timings-style accounting in the VMM. */
int cmd_run(int argc, char **argv, uint64_t start);
void run_usage(FILE *f);

#endif
