/* Private to the tar writer (tar_write.c) and reader (tar_read.c): the
 * ustar layout and the I/O helpers both use. */
#ifndef SANDBOX_TAR_INT_H
#define SANDBOX_TAR_INT_H

#include <errno.h>
#include <stdint.h>
#include <sys/types.h>
#include <unistd.h>

#define BLK 512
#define IOBUF (256 * 1024)
#define SPLICE_MIN (64 * 1024)          /* smaller files are gathered in IOBUF */
#define SPLICE_CHUNK (1024 * 1024)

/* ustar header field offsets and sizes */
#define H_NAME 0
#define H_MODE 100
#define H_UID 108
#define H_GID 116
#define H_SIZE 124
#define H_MTIME 136
#define H_CHKSUM 148
#define H_TYPE 156
#define H_LINK 157
#define H_MAGIC 257
#define H_VERSION 263
#define H_PREFIX 345

static inline ssize_t read_full(int fd, void *buf, size_t n)
{
	size_t got = 0;
	while (got < n) {
		ssize_t k = read(fd, (char *)buf + got, n - got);
		if (k < 0 && errno == EINTR)
			continue;
		if (k < 0)
			return -1;
		if (k == 0)
			break;
		got += (size_t)k;
	}
	return (ssize_t)got;
}

static inline int write_full(int fd, const void *buf, size_t n)
{
	while (n) {
		ssize_t k = write(fd, buf, n);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		buf = (const char *)buf + k;
		n -= (size_t)k;
	}
	return 0;
}

#endif
