/* `sandbox cp`'s two ends, the same code on both sides (common/tar_write.c, tar_read.c
 * underneath): the sending side archives its path, the receiving side
 * extracts the stream beside its destination and puts it in place as
 * `docker cp` does. Copying in, the host sends and guest-init (in the
 * container's namespaces and root) receives; copying out, the other way.
 *
 * Placement (SRC the sent item, named N; DEST the receiver's path):
 *   SRC a file:      DEST an existing directory → DEST/N; else DEST
 *                    (its parent must exist; DEST ending in / must be an
 *                    existing directory); an existing file is replaced.
 *   SRC a directory: DEST missing → created as a copy of SRC;
 *                    DEST an existing directory → DEST/N, or with
 *                    CP_CONTENTS (SRC ended in "/.") SRC's contents merged
 *                    into DEST; DEST a file → error.
 *   CP_INTO (a tar stream from `-`): DEST must be an existing directory;
 *                    the stream's entries are merged into it.
 * Merging: what is not there is moved in, a directory into a directory
 * merges, a file replaces a file; a directory never replaces a file or
 * the other way round.
 *
 * Nothing reaches DEST before the whole stream is extracted (into a
 * directory .sandbox-cp-XXXXXX beside its final place, removed on any
 * error): a failed copy, a cap that was hit, leaves nothing. */
#ifndef SANDBOX_CP_H
#define SANDBOX_CP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* Flags; they cross to guest-init in the spec (common/spec.h). */
enum {
	CP_CONTENTS = 1,        /* SRC ended in "/.": its contents */
	CP_INTO = 2,            /* the stream is a user's tar (`-`): merge it into DEST */
	CP_OWNER = 4,           /* -a: keep the archive's uid/gid (else the receiver's) */
	CP_FOLLOW = 8,          /* -L: SRC a symlink: copy what it points to */
	CP_ALL = 15,
};

/* Split a SRC as the user gave it: *CONTENTS set when it ends in "/."
 * (or is "."); PATH gets it without that, or trailing slashes. */
int cp_src_path(const char *src, char *path, size_t cap, unsigned *contents, struct err *e);

/* Send SRC (a path as cp_src_path leaves it) to OUT as a tar stream of
 * one top-level entry named after its last component. FLAGS: CP_CONTENTS
 * (SRC must be a directory), CP_FOLLOW. */
int cp_send(int out, const char *src, unsigned flags, struct err *e);

/* Receive the stream on IN into DEST as the placement rules above say.
 * MAX_BYTES, MAX_ENTRIES: caps on the stream (0: none); NO_SUID: drop
 * setuid/setgid bits unless CP_OWNER. *OVER (may be NULL): set when a cap
 * was the cause of a failure. */
int cp_receive(int in, const char *dest, unsigned flags, uint64_t max_bytes, uint64_t max_entries, bool no_suid,
	       bool *over, struct err *e);

#endif
