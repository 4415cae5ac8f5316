/* sandbox-runtime: config.json's typed form into sandbox run's options. */
#ifndef SANDBOX_OCI_MAP_H
#define SANDBOX_OCI_MAP_H

#include "oci.h"
#include "run_impl.h"

/* Fill O (its strings point into C and static buffers here: one
 * container per process) for the container ID. 0, or -1 with E filled. */
int oci_map(const struct oci_config *c, const char *id, struct run_opts *o, struct err *e);

#endif
