/* Reading a file of lines that others append to and rotate by renaming
 * (the collected log, logs.h; the events log, events.h): PATH is written
 * to; at its cap it is renamed to PATH.1, PATH.1 to PATH.2, ... and the
 * oldest past the kept count is removed. Used by `sandbox logs` and
 * `sandbox events`.
 *
 * A follower (-f) polls, and any number of rotations may happen between
 * two polls. It never loses a line across them while the files still
 * exist: it holds the file it is reading open (so it can read it to its
 * end wherever it was renamed to, or after it was removed), and goes on
 * by the chain of files, not by names: the file after HELD is the one
 * at index j-1 where HELD is now at index j, checked by finding HELD
 * still at j after opening j-1 (a rotation renames the higher index
 * first, so while HELD sits at j nothing but its successor can be at
 * j-1). Only when HELD itself was removed (more rotations than files
 * kept) are lines lost, and then it says how many files were: from the
 * files' sequence numbers (SEQ), or "an unknown number" without them. */
#ifndef SANDBOX_FOLLOW_H
#define SANDBOX_FOLLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* One complete line, without its '\n'. */
typedef void (*line_fn)(const char *line, size_t len, void *ctx);

/* Every complete line of FD from *POS on, to FN; a line longer than CAP
 * bytes (LINE is the caller's buffer) is passed over. *POS ends just past
 * the last complete line, so a line not yet ended is read again next
 * time. */
void lines_read(int fd, off_t *pos, char *line, size_t cap, line_fn fn, void *ctx);

/* follow_next's *LOST when files were removed but their count is not
 * known (no SEQ). */
#define FOLLOW_LOST_UNKNOWN (-1L)

struct follow {
	const char *path;       /* the file written to */
	int max;                /* rotated files are PATH.1 (newest) ... PATH.MAX at most */
	/* A file's place in the rotation (0, 1, 2, ... as the writer made
	 * them), read from its content, or -1; NULL: the writer keeps none. */
	long (*seq)(int fd);
	int fd;                 /* the file read so far, -1: none yet */
	off_t pos;              /* where in it */
	char *line;             /* the caller's line buffer */
	size_t cap;
	line_fn fn;
	void *ctx;
};

/* The oldest file kept, opened (read-only), or -1 if there is none. */
int follow_oldest(const struct follow *f);

/* The file after HELD in the rotation, opened, once HELD has been
 * rotated away (its content then is final); -1 while HELD is still the
 * file written to (or the rotation is half done: ask again later). If
 * HELD was removed, the oldest file kept is returned and the count of
 * files removed between the two is added to *LOST (FOLLOW_LOST_UNKNOWN,
 * sticky, if it cannot be told). */
int follow_next(const struct follow *f, int held, long *lost);

/* One step of -f: every line written since the last step, across any
 * number of rotations, in order, once each. F->fd -1: start from the
 * oldest file kept (if any yet). Returns the count of files removed
 * before they could be read (0 normally; FOLLOW_LOST_UNKNOWN). */
long follow_step(struct follow *f);
/* Whether a line about lost files may go to stderr: not to a pipe whose
 * reader is gone (a client that stopped reading), where the write would
 * end the follower by SIGPIPE. */
bool follow_may_say(void);
/* Close what F holds. */
void follow_end(struct follow *f);

#endif
