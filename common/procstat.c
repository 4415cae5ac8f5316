/* One reader of /proc/PID/stat (procstat.h). */
#include "procstat.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int proc_stat_read(pid_t pid, struct proc_stat *out)
{
	char path[64], buf[1024];
	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	/* "pid (comm) state ppid ...": comm may hold anything, spaces and
	 * parentheses too, but the last ')' ends it. */
	char *p = strrchr(buf, ')');
	int ppid;
	if (!p || p[1] != ' ' || sscanf(p + 1, " %c %d", &out->state, &ppid) != 2)
		return -1;
	out->ppid = (pid_t)ppid;
	out->start = 0;
	/* fields after ")": state(3) ppid(4) ... starttime(22) */
	int field = 2;
	char *save = NULL;
	for (char *tok = strtok_r(p + 1, " ", &save); tok; tok = strtok_r(NULL, " ", &save))
		if (++field == 22) {
			out->start = strtoull(tok, NULL, 10);
			break;
		}
	return 0;
}
