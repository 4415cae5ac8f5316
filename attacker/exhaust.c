/* Exhaustion: fork, memory, disk, descriptor and inotify bombs, each
 * bounded by its argument. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "attacker.h"
#include "inside.h"

int a_forkbomb(int n)
{
	int ok, err = inside_forkbomb(n, &ok);
	printf("wanted=%d\nforked=%d\nstopped_by=%s\n", n, ok, err ? ename(err) : "-");
	return 0;
}

int a_membomb(long mib)
{
	printf("wanted_mib=%ld\n", mib);
	fflush(stdout);
	long got = inside_alloc(mib);
	printf("allocated_mib=%ld\nstopped_by=%s\n", got, got < mib ? "ENOMEM" : "-");
	return 0;
}

int a_fill(long max)
{
	long mib;
	int err = inside_fill("/.attacker-fill", max, &mib);
	if (err < 0)
		err = inside_fill("/tmp/.attacker-fill", max, &mib);
	if (err < 0) {
		printf("open=%s\n", ename(errno));
		return 0;
	}
	printf("wanted_mib=%ld\nwrote_mib=%ld\nstopped_by=%s\n", max, mib, err ? ename(err) : "-");
	return 0;
}

int a_fdbomb(void)
{
	int n = 0, err = 0;
	for (;;) {
		int fd = open("/", O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			err = errno;
			break;
		}
		if (++n >= 1 << 20)
			break;
	}
	printf("opened=%d\nstopped_by=%s\n", n, err ? ename(err) : "-");
	return 0;
}

int a_inotify(int max)
{
	static int fds[65536];
	int n = 0, err = 0;
	if (max > 65536)
		max = 65536;
	while (n < max) {
		int fd = inotify_init1(IN_CLOEXEC);
		if (fd < 0) {
			err = errno;
			break;
		}
		fds[n++] = fd;
	}
	printf("instances=%d\nstopped_by=%s\n", n, err ? ename(err) : "-");
	for (int i = 0; i < n; i++)
		close(fds[i]);
	return 0;
}
