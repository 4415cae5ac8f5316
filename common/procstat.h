/* What /proc/PID/stat says of a process, for the owner checks of the
 * command line and sandbox-runtime and for guest-init's search of the
 * container's init: one reader of that line. */
#ifndef SANDBOX_PROCSTAT_H
#define SANDBOX_PROCSTAT_H

#include <sys/types.h>

struct proc_stat {
	char state;                     /* R, S, D, Z, X, ... */
	pid_t ppid;
	unsigned long long start;       /* starttime, clock ticks after boot */
};

/* PID's state, parent and start time: 0, or -1 if it is gone or its
 * line cannot be read. */
int proc_stat_read(pid_t pid, struct proc_stat *out);

#endif
