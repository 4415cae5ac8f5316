/* Helpers of the programs that run inside a sandbox (inside.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "inside.h"

long inside_kallsyms(long *nonzero)
{
	FILE *f = fopen("/proc/kallsyms", "r");
	char line[512];
	long n = 0;
	*nonzero = 0;
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		n++;
		if (strtoull(line, NULL, 16))
			(*nonzero)++;
	}
	fclose(f);
	return n;
}

int inside_blkdevs(int (*fn)(const char *name, unsigned maj, unsigned min, void *arg), void *arg, int *n)
{
	DIR *d = opendir("/sys/block");
	struct dirent *e;
	char path[600], dev[64];
	int r = 0;
	*n = 0;
	if (!d)
		return -1;
	while (!r && (e = readdir(d))) {
		unsigned maj, min;
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/block/%s/dev", e->d_name);
		FILE *f = fopen(path, "r");
		int ok = f && fgets(dev, sizeof(dev), f) && sscanf(dev, "%u:%u", &maj, &min) == 2;
		if (f)
			fclose(f);
		if (!ok)
			continue;
		(*n)++;
		r = fn(e->d_name, maj, min, arg);
	}
	closedir(d);
	return r;
}

int inside_fill(const char *path, long max_mib, long *wrote)
{
	static char blk[1 << 20];
	memset(blk, 0x5a, sizeof(blk));
	*wrote = 0;
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	int err = 0;
	while (*wrote < max_mib && !err) {
		size_t done = 0;
		while (done < sizeof(blk)) {
			ssize_t n = write(fd, blk + done, sizeof(blk) - done);
			if (n <= 0) {
				err = n < 0 ? errno : ENOSPC;
				break;
			}
			done += (size_t)n;
		}
		if (!err)
			(*wrote)++;
	}
	if (!err && fsync(fd))
		err = errno;
	close(fd);
	unlink(path);
	return err;
}

int inside_forkbomb(int n, int *forked)
{
	static pid_t kids[4096];
	int err = 0;
	*forked = 0;
	if (n > 4096)
		n = 4096;
	for (int i = 0; i < n; i++) {
		pid_t c = fork();
		if (c == 0) {
			pause();
			_exit(0);
		}
		if (c < 0) {
			err = errno;
			break;
		}
		kids[(*forked)++] = c;
	}
	for (int i = 0; i < *forked; i++)
		kill(kids[i], SIGKILL);
	for (int i = 0; i < *forked; i++)
		waitpid(kids[i], NULL, 0);
	return err;
}

long inside_alloc(long mib)
{
	for (long i = 0; i < mib; i++) {
		char *p = malloc(1 << 20);
		if (!p)
			return i;
		memset(p, 1, 1 << 20);
	}
	return mib;
}

int inside_tcp_connect(const char *addr, int port, int ms, int *fd)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
	*fd = -1;
	if (inet_pton(AF_INET, addr, &sa.sin_addr) != 1)
		return EINVAL;
	int s = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s < 0)
		return errno;
	int r = connect(s, (struct sockaddr *)&sa, sizeof(sa)), e = errno;
	if (r && e == EINPROGRESS) {
		struct pollfd p = { .fd = s, .events = POLLOUT };
		socklen_t l = sizeof(e);
		if (poll(&p, 1, ms) != 1)
			e = ETIMEDOUT;
		else if (getsockopt(s, SOL_SOCKET, SO_ERROR, &e, &l) == 0 && e == 0)
			r = 0;
	}
	if (r) {
		close(s);
		return e;
	}
	fcntl(s, F_SETFL, fcntl(s, F_GETFL) & ~O_NONBLOCK);
	*fd = s;
	return 0;
}

socklen_t inside_abstract_addr(const char *name, struct sockaddr_un *su)
{
	memset(su, 0, sizeof(*su));
	su->sun_family = AF_UNIX;
	size_t n = strnlen(name, sizeof(su->sun_path) - 2);
	memcpy(su->sun_path + 1, name, n);   /* sun_path[0] = 0: abstract */
	return (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + n);
}
