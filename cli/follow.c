/* Lines of a file that grows and rotates (follow.h): the reader and the
 * -f step shared by `sandbox logs` (logs_cmd.c) and `sandbox events`
 * (events.c). */
#include "follow.h"

#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

void lines_read(int fd, off_t *pos, char *line, size_t cap, line_fn fn, void *ctx)
{
	char rd[1 << 16];
	size_t n = 0;
	off_t at = *pos;
	if (lseek(fd, at, SEEK_SET) < 0)
		return;
	for (;;) {
		ssize_t r = read(fd, rd, sizeof(rd));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		for (ssize_t i = 0; i < r; i++) {
			if (rd[i] != '\n') {
				if (n < cap)
					line[n] = rd[i];
				n++;
				continue;
			}
			if (n <= cap)
				fn(line, n, ctx);
			at += (off_t)n + 1;
			n = 0;
		}
	}
	*pos = at;
}

void follow_step(struct follow *f, int fresh)
{
	struct stat a, b;
	if (fresh >= 0 && (f->fd < 0 || (!fstat(f->fd, &a) && !fstat(fresh, &b) && a.st_ino != b.st_ino))) {
		if (f->fd >= 0) {
			lines_read(f->fd, &f->pos, f->line, f->cap, f->fn, f->ctx);
			close(f->fd);
		}
		f->fd = fresh;
		f->pos = 0;
	} else if (fresh >= 0) {
		close(fresh);
	}
	if (f->fd >= 0)
		lines_read(f->fd, &f->pos, f->line, f->cap, f->fn, f->ctx);
}

void follow_end(struct follow *f)
{
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
}
