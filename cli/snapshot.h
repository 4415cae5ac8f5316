/* Snapshots on the command line (snapshot.c): `sandbox pause`, `resume`,
 * `snapshot`, `clone`, and what `sandbox run --from NAME` needs.
 *
 *   SNAPSHOTS = $SANDBOX_SNAPSHOT_DIR, else /var/lib/sandbox/snapshots
 *               (root), else $XDG_DATA_HOME/sandbox/snapshots, else
 *               ~/.local/share/sandbox/snapshots (trusted as the state
 *               root is: this user's, closed to group and others)
 *   SNAPSHOTS/NAME/meta      the sandbox it was (struct vm_record), key=value
 *   SNAPSHOTS/NAME/vm.state  the machine (vmm/snapshot/format.h)
 *   SNAPSHOTS/NAME/memory    the guest memory, sparse; mapped MAP_PRIVATE
 *                            by every clone
 *   SNAPSHOTS/NAME/layer     the writable layer, copied for each clone
 * Every file is made mode 0600. docs/snapshots.md. */
#ifndef SANDBOX_CLI_SNAPSHOT_H
#define SANDBOX_CLI_SNAPSHOT_H

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "util.h"

/* What a VM sandbox is made of, beyond its state file: written by the
 * owner as ROOT/<id>/vm, copied into a snapshot's meta. */
struct vm_record {
	char image[256];
	char command[1024];
	char disk[PATH_MAX];            /* the image's erofs disk */
	unsigned long long disk_dev, disk_ino, disk_size;
	long long disk_mtime;           /* its identity: the same file, unchanged */
	int pmem;                       /* 1: the image on virtio-pmem (image_transport=pmem) */
	char stop_signal[16];
	char cpus[16];
	long long memory;               /* --memory, 0 none */
	unsigned long long mem_bytes;   /* the VM's RAM */
	unsigned ncpus;
	int net;                        /* 1: --network tap */
	int layer;                      /* 1: a writable layer on disk */
	int volumes;                    /* -v volumes (a snapshot refuses them) */
	int balloon;                    /* 1: free page reporting (virtio-balloon) */
	long long created;              /* the snapshot's time */
	unsigned uid;                   /* the snapshot's maker */
};

int vm_record_write(const char *path, const struct vm_record *r, struct err *e);
int vm_record_read(const char *path, struct vm_record *r, struct err *e);
/* Fill R's disk identity from DISK. */
int vm_record_disk(struct vm_record *r, const char *disk, struct err *e);

/* sandbox run --from NAME: the snapshot, checked and opened. */
struct snap_from {
	char name[64];
	char dir[PATH_MAX];
	struct vm_record rec;
	int state_fd, mem_fd, layer_fd;
	/* its working set (vmm/snapshot/workingset.h): open and usable, with
	 * the scope it was recorded with; -1 and 0 if none (yet) */
	int ws_fd;
	uint32_t ws_scope;
};
int snap_from_open(const char *name, struct snap_from *f, struct err *e);
void snap_from_close(struct snap_from *f);
/* A clone of F (sandbox S) has resumed (SCOPE WS_SCOPE_RESTORE) or ran
 * its command (WS_SCOPE_COMMAND): if F has no working set as broad yet,
 * the VMM records the pages it has mapped as F's. Best effort. */
struct sandbox_state;
void snap_ws_record(const struct snap_from *f, const struct sandbox_state *s, uint32_t scope);

/* S, the running VM sandbox REF names (refused: none, or one with
 * --isolation container). 0, or -1 with E. */
int snap_vm_sandbox(const char *ref, struct sandbox_state *s, struct err *e);
/* S's VMM control socket. */
void snap_ctl_path(const struct sandbox_state *s, char *buf, size_t len);

/* pause.c */
int cmd_pause(int argc, char **argv);
int cmd_resume(int argc, char **argv);
int cmd_snapshot(int argc, char **argv);
int cmd_clone(int argc, char **argv);
void snapshot_usage(FILE *f);

#endif
