/* Host-wide guards against sprawl (docs/limits.md), from a config file:
 * $SANDBOX_CONFIG, else /etc/sandbox/config; missing: no limits.
 *   # comments, one KEY = VALUE a line
 *   max_sandboxes = 50          sandboxes running at once on this host
 *   max_memory = 16g            guest memory committed by them together
 *   max_per_user = 10           sandboxes running at once per user
 *   outlier_factor = 10         ps marks a running sandbox "(old)" when it
 *   outlier_min_age = 1h        is that many times its peers' median age
 *                               and at least this old
 * `sandbox run` checks the limits under the state lock, so two runs at
 * once cannot both take the last place. */
#ifndef SANDBOX_HOSTLIMITS_H
#define SANDBOX_HOSTLIMITS_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"

struct limits {
	long max_sandboxes, max_per_user;       /* 0: none */
	uint64_t max_memory;                    /* bytes, 0: none */
	double outlier_factor;
	long outlier_min_age;                   /* seconds */
	char path[512];                         /* where they came from */
};

/* Pure: TEXT (the file's content; PATH for messages) into L (defaults
 * first). 0, or -1 with E naming the line. */
int limits_parse(const char *text, const char *path, struct limits *l, struct err *e);
/* Read the file (missing: the defaults). */
int limits_load(struct limits *l, struct err *e);
/* Guest memory a sandbox commits: the VM's (the default, or --memory plus
 * the kernel's share), a container's limit. */
uint64_t limits_guest_memory(const char *isolation, long long memory);
/* Would one more sandbox of MEM bytes (for this user) pass L, given the
 * running ones? Under the state lock. 0, or -1 with E saying which limit
 * (status 125). */
int limits_check(const struct limits *l, uint64_t mem, struct err *e);
/* Is AGE an outlier among running ages (median MEDIAN)? Pure. */
bool limits_outlier(const struct limits *l, long long age, long long median, int running);

#endif
