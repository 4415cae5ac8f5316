/* Lines of a file that grows and rotates (follow.h): the reader and the
 * -f step shared by `sandbox logs` (logs_cmd.c) and `sandbox events`
 * (events.c): the chain of rotated files followed by the file held open,
 * never by a name alone. */
#include "follow.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/stat.h>
#include <time.h>
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

/* PATH (I 0) or PATH.I */
static void name_of(const struct follow *f, int i, char *buf, size_t len)
{
	if (i)
		snprintf(buf, len, "%s.%d", f->path, i);
	else
		snprintf(buf, len, "%s", f->path);
}

static int open_at(const struct follow *f, int i)
{
	char p[PATH_MAX];
	name_of(f, i, p, sizeof(p));
	/* O_NONBLOCK: a FIFO planted there would wait */
	int fd = open(p, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK);
	struct stat st;
	if (fd >= 0 && (fstat(fd, &st) || !S_ISREG(st.st_mode))) {
		close(fd);
		return -1;
	}
	return fd;
}

static bool same_at(const struct follow *f, int i, const struct stat *st)
{
	char p[PATH_MAX];
	struct stat s;
	name_of(f, i, p, sizeof(p));
	return !lstat(p, &s) && s.st_dev == st->st_dev && s.st_ino == st->st_ino;
}

/* Where the file ST is now: 0 (PATH) ... f->max, or -1 (not seen: it
 * may have moved on while we looked). */
static int find(const struct follow *f, const struct stat *st)
{
	for (int i = 0; i <= f->max; i++)
		if (same_at(f, i, st))
			return i;
	return -1;
}

static void pause_briefly(void)
{
	struct timespec ts = { 0, 1000000 };
	nanosleep(&ts, NULL);
}

int follow_oldest(const struct follow *f)
{
	for (int i = f->max; i >= 0; i--) {
		int fd = open_at(f, i);
		if (fd >= 0)
			return fd;
	}
	return -1;
}

/* HELD is gone; NEXT is the oldest file kept: how many were between. */
static void count_removed(const struct follow *f, int held, int next, long *lost)
{
	long a = f->seq ? f->seq(held) : -1, b = f->seq ? f->seq(next) : -1;
	if (a < 0 || b <= a)
		*lost = FOLLOW_LOST_UNKNOWN;
	else if (*lost != FOLLOW_LOST_UNKNOWN)
		*lost += b - a - 1;
}

int follow_next(const struct follow *f, int held, long *lost)
{
	/* A rotation in progress leaves a name missing for a moment, or
	 * moves HELD on while we look: a few quick tries, then the next
	 * step. */
	for (int tries = 0; tries < 20; tries++) {
		struct stat h, s;
		if (tries)
			pause_briefly();
		if (fstat(held, &h))
			return -1;
		if (h.st_nlink == 0) {
			/* removed: renamed over past the last kept, or
			 * unlinked (one file kept) */
			int fd = follow_oldest(f);
			if (fd < 0)
				continue;
			if (!fstat(fd, &s) && s.st_dev == h.st_dev && s.st_ino == h.st_ino) {
				close(fd);
				continue;
			}
			count_removed(f, held, fd, lost);
			return fd;
		}
		int j = find(f, &h);
		if (j == 0)
			return -1;      /* still the file written to */
		if (j < 0)
			continue;
		int fd = open_at(f, j - 1);
		if (fd < 0)
			continue;
		/* Still at j, so what was at j-1 when we opened it is its
		 * successor: renames go from the highest index down. */
		if (same_at(f, j, &h))
			return fd;
		close(fd);
	}
	return -1;
}

long follow_step(struct follow *f)
{
	long lost = 0;
	if (f->fd < 0) {
		f->fd = follow_oldest(f);
		f->pos = 0;
		if (f->fd < 0)
			return 0;
	}
	for (;;) {
		/* Looked at before reading: if it was already rotated away,
		 * what we read next is all it will ever hold. */
		struct stat h;
		bool current = !fstat(f->fd, &h) && h.st_nlink && same_at(f, 0, &h);
		lines_read(f->fd, &f->pos, f->line, f->cap, f->fn, f->ctx);
		if (current)
			return lost;
		int next = follow_next(f, f->fd, &lost);
		if (next < 0)
			return lost;
		close(f->fd);
		f->fd = next;
		f->pos = 0;
	}
}

bool follow_may_say(void)
{
	struct pollfd pf = { .fd = 2, .events = POLLOUT };
	return !(poll(&pf, 1, 0) == 1 && (pf.revents & POLLERR));
}

void follow_end(struct follow *f)
{
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
}
