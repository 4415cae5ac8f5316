/* PID 1 in the VM: the container's OOM kills, told to the host.
 *
 * The container's cgroup (cgroup_container) counts in memory.events'
 * oom_kill every process of it the OOM killer killed, for its own
 * memory.max or for the whole guest running out. A cgroup v2 file like
 * it signals modification (inotify IN_MODIFY) when a count changes, so
 * PID 1 waits for that in its relay loop; when oom_kill grew, an OOM
 * frame (common/proto.h) with the count goes to the host. Nothing is
 * polled on a timer. A clone (restored from a snapshot) counts from
 * what the snapshot had: its own kills only. */
#include "oom.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "../common/memevents.h"

void oom_watch_init(struct oom_watch *w)
{
	w->events_fd = w->inotify_fd = -1;
	w->base = w->sent = 0;
}

/* The count now, minus BASE; the last one if it cannot be read. */
static uint32_t count(struct oom_watch *w)
{
	char buf[512];
	ssize_t n = pread(w->events_fd, buf, sizeof(buf) - 1, 0);
	uint32_t v;
	if (n <= 0 || memevents_oom_kill(buf, (size_t)n, &v) || v < w->base)
		return w->sent;
	return v - w->base;
}

int oom_watch_start(struct oom_watch *w, const char *cgroup_dir, struct err *err)
{
	char path[300];
	if (snprintf(path, sizeof(path), "%s/memory.events", cgroup_dir) >= (int)sizeof(path))
		return err_errno(err, ENAMETOOLONG, "%s", cgroup_dir);
	w->events_fd = open(path, O_RDONLY | O_CLOEXEC);
	if (w->events_fd < 0)
		return err_errno(err, errno, "open %s", path);
	w->inotify_fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (w->inotify_fd < 0 || inotify_add_watch(w->inotify_fd, path, IN_MODIFY) < 0) {
		err_errno(err, errno, "watch %s", path);
		oom_watch_stop(w);
		return -1;
	}
	w->base = 0;
	w->sent = count(w);     /* a fresh group: 0 */
	return 0;
}

void oom_watch_check(struct oom_watch *w, struct sb_tx *tx)
{
	if (w->events_fd < 0)
		return;
	char ev[4096];
	while (w->inotify_fd >= 0 && read(w->inotify_fd, ev, sizeof(ev)) > 0)
		;
	uint32_t n = count(w);
	if (n <= w->sent || n > SB_OOM_MAX)
		return;
	uint8_t b[4];
	sb_put_u32(b, n);
	if (!sb_tx_put(tx, SB_F_OOM, b, 4))
		w->sent = n;
}

void oom_watch_rebase(struct oom_watch *w)
{
	if (w->events_fd < 0)
		return;
	w->base = 0;
	w->sent = 0;
	w->base = count(w);
}

void oom_watch_stop(struct oom_watch *w)
{
	if (w->events_fd >= 0)
		close(w->events_fd);
	if (w->inotify_fd >= 0)
		close(w->inotify_fd);
	w->events_fd = w->inotify_fd = -1;
}
