/* Container isolation's OOM kills, read on the host: the container's
 * cgroup v2 group (guest-init's runtime makes one where a limit needs
 * it, sandbox-PID under the cgroup2 root) counts them in memory.events'
 * oom_kill (common/memevents.h). A VM's count comes from its guest
 * instead (docs/stats.md). */
#ifndef SANDBOX_CGROUP_OOM_H
#define SANDBOX_CGROUP_OOM_H

#include <sys/types.h>

/* The OOM kill count of PID's cgroup v2 group; -1 if it has none of its
 * own (the root group, a cgroup v1 host) or it cannot be read. */
long long cgroup_oom_kills(pid_t pid);
/* The first child of RUNTIME (/proc/RUNTIME/task/RUNTIME/children): the
 * container's first process; 0 if none. */
pid_t cgroup_runtime_child(pid_t runtime);

#endif
