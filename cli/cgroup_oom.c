/* cgroup_oom.h: a process's cgroup v2 group from /proc/PID/cgroup, its
 * memory.events under the cgroup2 mount (the unified hierarchy of a
 * hybrid host too). */
#include "cgroup_oom.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "memevents.h"

static ssize_t read_text(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n;
	do
		n = read(fd, buf, len - 1);
	while (n < 0 && errno == EINTR);
	close(fd);
	if (n >= 0)
		buf[n] = '\0';
	return n;
}

long long cgroup_oom_kills(pid_t pid)
{
	static const char *const roots[] = { "/sys/fs/cgroup", "/sys/fs/cgroup/unified" };
	char path[700], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
	ssize_t n = read_text(path, buf, sizeof(buf));
	const char *g = n > 0 ? strstr(buf, "0::/") : NULL;
	if (!g || (g != buf && g[-1] != '\n'))
		return -1;
	g += 3;
	size_t len = strcspn(g, "\n");
	if (len <= 1 || memmem(g, len, "/..", 3))
		return -1;      /* the root group: nothing of its own */
	for (size_t r = 0; r < 2; r++) {
		struct statfs sf;
		uint32_t v;
		if (statfs(roots[r], &sf) || sf.f_type != CGROUP2_SUPER_MAGIC)
			continue;
		if (snprintf(path, sizeof(path), "%s%.*s/memory.events", roots[r], (int)len, g) >= (int)sizeof(path))
			return -1;
		n = read_text(path, buf, sizeof(buf));
		if (n > 0 && !memevents_oom_kill(buf, (size_t)n, &v))
			return v;
	}
	return -1;
}

pid_t cgroup_runtime_child(pid_t runtime)
{
	char path[96], buf[256];
	snprintf(path, sizeof(path), "/proc/%d/task/%d/children", (int)runtime, (int)runtime);
	if (read_text(path, buf, sizeof(buf)) <= 0)
		return 0;
	long v = strtol(buf, NULL, 10);
	return v > 1 && v < 1 << 22 ? (pid_t)v : 0;
}
