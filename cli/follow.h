/* Reading a file of lines that others append to and rotate by renaming
 * it away (the collected log, logs.h; the events log, events.h): every
 * complete line from where the reader left off, and a follower (-f) that
 * notices the rotation, reads the rest of the old file and goes on in the
 * new one from its start. Used by `sandbox logs` and `sandbox events`. */
#ifndef SANDBOX_FOLLOW_H
#define SANDBOX_FOLLOW_H

#include <stddef.h>
#include <sys/types.h>

/* One complete line, without its '\n'. */
typedef void (*line_fn)(const char *line, size_t len, void *ctx);

/* Every complete line of FD from *POS on, to FN; a line longer than CAP
 * bytes (LINE is the caller's buffer) is passed over. *POS ends just past
 * the last complete line, so a line not yet ended is read again next
 * time. */
void lines_read(int fd, off_t *pos, char *line, size_t cap, line_fn fn, void *ctx);

struct follow {
	int fd;                 /* the file read so far, -1: none yet */
	off_t pos;              /* where in it */
	char *line;             /* the caller's line buffer */
	size_t cap;
	line_fn fn;
	void *ctx;
};

/* One step of -f. FRESH: the file opened again by its name now (-1 if it
 * is missing), taken or closed here. If it is another file than F->fd
 * (the old one was rotated away, or there was none), the rest of the old
 * one is read and closed and FRESH is read from its start; then whatever
 * was appended is read. */
void follow_step(struct follow *f, int fresh);
/* Close what F holds. */
void follow_end(struct follow *f);

#endif
