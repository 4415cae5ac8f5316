/* One tar implementation for `sandbox cp`, built into both sides (the
 * static guest-init and the static sandbox binary; no libarchive):
 *
 *   tar_write():   a tree (a file, a symlink or a directory and everything
 *                  under it) as a tar stream on an fd;
 *   tar_extract(): a tar stream from an fd into a directory given as a
 *                  dirfd, never outside it.
 *
 * Format: POSIX ustar, with pax extended headers ('x': path, linkpath,
 * size, uid, gid, mtime) for what does not fit; the reader also takes GNU
 * long names ('L', 'K'), base-256 numbers, and skips pax global headers
 * ('g'). Entries: regular files, directories, symlinks, hard links (read
 * only: the writer copies each link's data); device nodes, FIFOs and
 * sockets are neither written nor created (skipped). Kept: mode (07777),
 * uid/gid (numeric only), mtime.
 *
 * The reader takes hostile input (the host reads what a sandbox's guest
 * wrote): names with a `..` component or a leading `/` are refused; every
 * path is resolved beneath the root dirfd with openat2(RESOLVE_BENEATH |
 * RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS), so no symlink is followed
 * on the way, neither one in the archive nor one already there; symlinks
 * are created as symlinks and an entry over an existing symlink or file
 * replaces it (unlink first, create with O_EXCL|O_NOFOLLOW: nothing is
 * written through a link); a directory is never replaced by a
 * non-directory. Caps on the bytes read and on the entries, checked
 * before anything past them is written. Errors: common/err.h. */
#ifndef SANDBOX_TAR_H
#define SANDBOX_TAR_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"

#define TAR_MAX_PATH 4096       /* an entry's name or link target, bytes */
#define TAR_MAX_PAX (64 * 1024) /* one pax or GNU long-name header's data */
#define TAR_MAX_DEPTH 256       /* directories the writer descends */

/* tar_write flags */
enum {
	TAR_W_FOLLOW = 1,       /* the top is a symlink: archive what it points to */
};

/* tar_extract options */
struct tar_xopts {
	uint64_t max_bytes;     /* of the stream; 0: no cap */
	uint64_t max_entries;   /* 0: no cap */
	bool owner;             /* chown to the archive's uid/gid (else the creator's) */
	bool no_suid;           /* drop setuid/setgid bits from files */
};

struct tar_result {
	uint64_t bytes;         /* of the stream, read */
	uint64_t entries;       /* entries (headers that name something) */
	char top[256];          /* the first component of the first entry's name */
	bool several_tops;      /* entries under more than one top-level name */
	enum { TAR_OVER_NONE, TAR_OVER_BYTES, TAR_OVER_ENTRIES } over;  /* which cap failed */
};

/* Write PATH (resolved from DIRFD, AT_FDCWD or a directory; symlinks on
 * the way are followed, the last component only with TAR_W_FOLLOW) to OUT
 * as a tar stream whose entries are named ARCNAME and ARCNAME/... (ARCNAME
 * "." names them "." and "./..."), and the end-of-archive blocks. */
int tar_write(int out, int dirfd, const char *path, const char *arcname, unsigned flags, struct err *e);

/* Read a tar stream from IN (to its end-of-archive blocks or its end) and
 * create what it holds beneath ROOT (a directory fd). RES (may be NULL)
 * gets what was read. 0, or -1 with E filled (RES->over says if a cap
 * was the cause); what was created before the error stays. */
int tar_extract(int in, int root, const struct tar_xopts *o, struct tar_result *res, struct err *e);

#endif
