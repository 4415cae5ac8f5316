/* The devices a container can reach: /dev/kvm, what /dev holds, block
 * devices made with mknod, the image disk. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "attacker.h"
#include "inside.h"

int a_kvm(void)
{
	res("open", open("/dev/kvm", O_RDWR | O_CLOEXEC), 1);
	return 0;
}

int a_dev(void)
{
	static const char *const minimal[] = { "core", "fd", "full", "mqueue", "null", "ptmx", "pts",
		"random", "shm", "stderr", "stdin", "stdout", "tty", "urandom", "zero", "console" };
	DIR *d = opendir("/dev");
	struct dirent *e;
	int n = 0, extra = 0;
	if (!d) {
		printf("opendir=%s\n", ename(errno));
		return 0;
	}
	printf("extra=");
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		n++;
		size_t i;
		for (i = 0; i < sizeof(minimal) / sizeof(minimal[0]); i++)
			if (!strcmp(e->d_name, minimal[i]))
				break;
		if (i == sizeof(minimal) / sizeof(minimal[0]))
			printf("%s%s", extra++ ? "," : "", e->d_name);
	}
	closedir(d);
	printf("%s\nentries=%d\nextra_count=%d\n", extra ? "" : "-", n, extra);
	return 0;
}

/* mknod each block device the kernel lists (sysfs) and read its first
 * sector; stops at the first that reads. */
struct mknod_try {
	const char *node;
};

static int mknod_one(const char *name, unsigned maj, unsigned min, void *arg)
{
	const char *node = ((struct mknod_try *)arg)->node;
	char sec[512];
	unlink(node);
	if (mknod(node, S_IFBLK | 0600, makedev(maj, min))) {
		printf("mknod=%s\n", ename(errno));
		return 1;
	}
	int fd = open(node, O_RDONLY | O_CLOEXEC);
	unlink(node);
	if (fd < 0) {
		printf("mknod=OK\nopen=%s\ndevice=%s\n", ename(errno), name);
		return 0;
	}
	ssize_t n = pread(fd, sec, sizeof(sec), 0);
	close(fd);
	printf("mknod=OK\nopen=OK\nread=%s\ndevice=%s\n", n == (ssize_t)sizeof(sec) ? "OK" : n < 0 ? ename(errno) : "short", name);
	return n == (ssize_t)sizeof(sec);
}

int a_mknod(void)
{
	struct mknod_try t = { "/tmp/.attacker-blk" };
	int tried = 0;
	if (mkdir("/tmp", 01777) && errno != EEXIST)
		t.node = "/.attacker-blk";
	inside_blkdevs(mknod_one, &t, &tried);
	if (!tried) {   /* no sysfs view: try loop0 (7:0) blind */
		res("mknod", mknod(t.node, S_IFBLK | 0600, makedev(7, 0)), 0);
		unlink(t.node);
	}
	printf("devices_tried=%d\n", tried);
	return 0;
}

int a_vda(void)
{
	res("open", open("/dev/vda", O_RDWR | O_CLOEXEC), 1);
	return 0;
}
