/* The small library every host program links (the VMM, the command line,
 * the image tool): time, sizes; errors are err.h's. */
#ifndef SANDBOX_UTIL_H
#define SANDBOX_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"   /* the error convention, for every includer of util.h */

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
