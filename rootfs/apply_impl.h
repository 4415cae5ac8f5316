/* apply.c's parts (image.h's apply_* interface, one job a file): the
 * tar reader, limits and the end (apply.c), paths beneath the root
 * (apply_path.c), one tar entry into the tree (apply_entry.c), whiteouts
 * and opaque directories (apply_whiteout.c). Internal to rootfs/. */
#ifndef SANDBOX_APPLY_IMPL_H
#define SANDBOX_APPLY_IMPL_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "image.h"

struct archive;
struct archive_entry;

struct dir_rec {
	char *path;
	mode_t mode;
	struct timespec times[2];
};

/* A set of paths (open addressing, FNV-1a). */
struct pathset {
	char **slot;
	size_t cap, n;
};

struct apply {
	int rootfd;
	bool layers, root;
	struct dir_rec *dirs;
	size_t ndirs, capdirs;
	struct pathset seen;     /* paths written by the current layer */
	char **opaque;           /* opaque dirs of the current layer */
	size_t nopaque;
	unsigned long skipped_dev;
	/* Limits (apply_set_limits, else the environment on the first tar). */
	bool limits_set;
	uint64_t max_bytes, max_entries;
	uint64_t bytes, entries; /* used so far, across every tar */
};

/* ---- apply_path.c ---- */
/* Open the parent directory of PATH (normalised, not "") beneath the
 * root, one component at a time, never through a symlink, creating
 * missing directories (0755, recorded) if CREATE (else -1 with errno
 * ENOENT and no message); *NAME points at the last component. */
int apply_open_parent(struct apply *a, char *path, const char **name, bool create, struct err *e);
/* The directory PATH ("" the root) beneath the root, read-only, never
 * through a symlink: an fd, or -1 with errno. */
int apply_open_dir(struct apply *a, const char *path);
/* Record directory PATH (mode 0755, time 0 until an entry says): applied
 * by apply_finish. */
struct dir_rec *apply_dir_rec(struct apply *a, const char *path, struct err *e);

/* ---- apply_whiteout.c ---- */
bool pathset_has(const struct pathset *p, const char *s);
int pathset_add(struct pathset *p, const char *s, struct err *e);
void pathset_clear(struct pathset *p);
/* The whiteout PATH (its last component NAME, ".wh.*", in the directory
 * PFD): the hidden entry removed, or its directory marked opaque. */
int apply_whiteout(struct apply *a, char *path, const char *name, int pfd, struct err *e);
/* End of a layer: its opaque directories lose every child the layer did
 * not write. */
int apply_finish_layer(struct apply *a, struct err *e);

/* ---- apply_entry.c ---- */
/* One tar entry (its data read from AR) into the tree. */
int apply_entry(struct apply *a, struct archive *ar, struct archive_entry *ent, struct err *e);

#endif
