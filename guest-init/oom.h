/* PID 1 in the VM: the container's OOM kill count, from its cgroup's
 * memory.events, as OOM frames to the host (oom.c says how). */
#ifndef SB_GUEST_OOM_H
#define SB_GUEST_OOM_H

#include <stdint.h>

#include "../common/err.h"
#include "../common/proto.h"

struct oom_watch {
	int events_fd;          /* memory.events, open; -1: not watching */
	int inotify_fd;         /* readable when memory.events changed */
	uint32_t base;          /* the count this sandbox started from (a clone: the snapshot's) */
	uint32_t sent;          /* the last count queued for the host */
};

void oom_watch_init(struct oom_watch *w);
/* Watch CGROUP_DIR's memory.events: 0, or -1 with ERR filled. */
int oom_watch_start(struct oom_watch *w, const char *cgroup_dir, struct err *err);
/* Take the change notices and, if the count grew, queue an OOM frame on
 * TX (when it does not fit, the next check sends it). */
void oom_watch_check(struct oom_watch *w, struct sb_tx *tx);
/* A clone: count from here. */
void oom_watch_rebase(struct oom_watch *w);
void oom_watch_stop(struct oom_watch *w);

#endif
