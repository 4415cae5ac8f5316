/* atomic_file.h: a small file replaced whole (temp file, optional fsync,
 * rename). */
#include "atomic_file.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

int atomic_printf(int dfd, const char *name, const char *show, int flags, struct err *e, const char *fmt, ...)
{
	char tmp[PATH_MAX];
	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", name) >= sizeof(tmp))
		return err_set(e, "%s: path too long", show);
	if (unlinkat(dfd, tmp, 0) && errno != ENOENT)
		return err_sys(e, "remove %s.tmp", show);
	int fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	FILE *f = fd < 0 ? NULL : fdopen(fd, "w");
	if (!f) {
		err_sys(e, "write %s.tmp", show);
		if (fd >= 0) {
			close(fd);
			unlinkat(dfd, tmp, 0);
		}
		return -1;
	}
	va_list ap;
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	int bad = ferror(f) || fflush(f) || ((flags & ATOMIC_SYNC) && fsync(fd));
	int errnum = errno;
	if (fclose(f) && !bad) {
		bad = 1;
		errnum = errno;
	}
	if (bad) {
		errno = errnum;
		err_sys(e, "write %s.tmp", show);
		unlinkat(dfd, tmp, 0);
		return -1;
	}
	if (renameat(dfd, tmp, dfd, name)) {
		err_sys(e, "rename %s.tmp", show);
		unlinkat(dfd, tmp, 0);
		return -1;
	}
	return 0;
}
