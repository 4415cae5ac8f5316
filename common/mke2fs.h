/* e2fsprogs' mke2fs, found and run: one helper for the two programs that
 * make ext4 filesystems (the writable layer's templates, cli/storage.c,
 * and the image tool's ext4 fallback, rootfs/mkfs.c). */
#ifndef SANDBOX_MKE2FS_H
#define SANDBOX_MKE2FS_H

#include <signal.h>
#include <stddef.h>
#include <sys/types.h>

#include "err.h"

/* The filesystem tool running now (mke2fs_run, rootfs/mkfs.c's mkfs.erofs),
 * or 0: an import interrupted by a signal stops it before it removes its
 * work directory, where the tool would go on creating files. */
extern volatile sig_atomic_t mkfs_child;
/* Wait for PID, that tool (mkfs_child set by the caller once it forked),
 * into *STATUS; mkfs_child is 0 again after. 0, or -1 with errno. */
int mkfs_wait(pid_t pid, int *status);

/* e2fsprogs' mke2fs in $PATH: its path into PATH (LEN bytes). -1 with E
 * filled ("mke2fs not found", or "PATH is busybox's mke2fs, which cannot
 * make ext4") when there is none: the caller adds what to install. */
int mke2fs_find(char *path, size_t len, struct err *e);
/* Run mke2fs at PATH with ARGV (argv[0] included), stdin and stdout on
 * /dev/null, ENV_ADD ("K=V" or NULL) added to its environment. 0, or -1
 * with E naming the status and mke2fs's first line on stderr. */
int mke2fs_run(const char *path, char *const argv[], char *env_add, struct err *e);

#endif
