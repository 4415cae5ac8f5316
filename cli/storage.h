/* The writable layer on disk (`sandbox run --storage SIZE`): the
 * overlay's upper layer is an ext4 filesystem in a sparse file, a disk of
 * the VM (mounted by guest-init) or, with --isolation container, a loop
 * device on this host. A full layer is ENOSPC in the container, and the
 * bytes written live in that file, never in memory (docs/storage.md).
 *
 *   STORAGE = $SANDBOX_STORAGE_DIR, else /var/lib/sandbox/storage (root),
 *             else $XDG_DATA_HOME/sandbox/storage, else
 *             ~/.local/share/sandbox/storage: a disk-backed directory, not
 *             the state root (/run, $XDG_RUNTIME_DIR: memory)
 *   STORAGE/<id>.ext4               sandbox ID's layer, removed with its
 *                                   state (state_remove)
 *   STORAGE/.template-v1-<bytes>.ext4  an empty filesystem of that size,
 *                                   made once by mke2fs; each layer is a
 *                                   sparse copy of it (or a reflink)
 *   STORAGE/.lock                   flock while a template is made
 *
 * STORAGE is trusted like the state root: a real directory of this user,
 * closed to group and others; files are opened without following
 * symlinks. */
#ifndef SANDBOX_STORAGE_H
#define SANDBOX_STORAGE_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

#define STORAGE_DEFAULT GIB             /* --storage when not given */
#define STORAGE_MIN (16 * MIB)
#define STORAGE_MAX (1024 * GIB)

/* STORAGE (made 0700 if missing), or NULL with E filled. */
const char *storage_root(struct err *e);
/* Make sandbox ID's layer of SIZE bytes (STORAGE_MIN..STORAGE_MAX, a
 * multiple of 1 MiB) and put its path in PATH. 0, or -1 with E filled
 * and nothing left behind (but a template, which is kept). */
int storage_create(const char *id, uint64_t size, char *path, size_t len, struct err *e);
/* The path of ID's layer (whether it exists or not). */
int storage_path(const char *id, char *path, size_t len, struct err *e);
/* OUT becomes a copy of IN, holes kept (a reflink where it can). */
int storage_copy(int in, int out, struct err *e);
/* Make ID's layer a copy of SRC (a snapshot's layer): PATH as for
 * storage_create. */
int storage_create_from(const char *id, int src, char *path, size_t len, struct err *e);
/* Remove ID's layer if there is one (no error: nothing to do, or nothing
 * that can be done). */
void storage_remove(const char *id);

#endif
