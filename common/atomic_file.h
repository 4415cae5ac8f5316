/* Replacing a small file whole: written to NAME.tmp beside it, then
 * renamed over NAME, so a reader sees the old content or the new one,
 * never a part. The one writer of the command line's key=value records
 * (cli/state.c's state, cli/vm_record.c's VM record and snapshot meta,
 * sandbox-runtime's record of a container: oci/state.c). */
#ifndef SANDBOX_ATOMIC_FILE_H
#define SANDBOX_ATOMIC_FILE_H

#include "err.h"

/* fsync before the rename: the file must outlive a crash of the host, not
 * only of this process (records kept on disk; the state directory is
 * usually a tmpfs and is written often). */
#define ATOMIC_SYNC 1

/* Replace NAME, relative to directory DFD (AT_FDCWD: NAME is a path), with
 * the text FMT makes. NAME.tmp is made fresh, mode 0600: one left by a
 * write that died, or planted (a symlink), is unlinked first, and the new
 * one is created with O_EXCL and never opened through a symlink. SHOW
 * names the file in errors. 0, or -1 with E filled (NAME untouched,
 * NAME.tmp removed). */
int atomic_printf(int dfd, const char *name, const char *show, int flags, struct err *e, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

#endif
