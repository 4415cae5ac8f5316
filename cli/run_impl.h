/* The parts of `sandbox run`, one file each: options (run_opts.c), the
 * image's run defaults (runconf.c), the container's spec for guest-init
 * (run_spec.c), the VMM child (run_vm.c), the host-mode child
 * (run_host.c), -p proxies (run_proxy.c) and the owner (run.c). */
#ifndef SANDBOX_RUN_IMPL_H
#define SANDBOX_RUN_IMPL_H

#include <stdbool.h>
#include <stdint.h>

#include "logs.h"
#include "run.h"
#include "spec.h"
#include "util.h"
#include "vm.h"

#define EXIT_ERR 125
#define MAX_LIST 64
#define GUEST_MEM_DEFAULT (128 * MIB)
#define GUEST_MEM_OVERHEAD (96 * MIB)   /* guest kernel + init beside a --memory limit */

/* How the VM reaches the image (--image-transport, docs/pmem.md). */
enum image_transport {
	IMAGE_TRANSPORT_DEFAULT = 0,    /* IMAGE_TRANSPORT_PREFERRED for erofs images, else blk */
	IMAGE_TRANSPORT_BLK,            /* virtio-blk: /dev/vda, the guest's own page cache */
	IMAGE_TRANSPORT_PMEM,           /* virtio-pmem + DAX: the host's page cache, shared */
};
/* The default for an erofs image, as measured (SPEC.md, docs/pmem.md). */
#define IMAGE_TRANSPORT_PREFERRED IMAGE_TRANSPORT_BLK

struct run_opts {
	bool interactive, tty, rm, detach, read_only, init;
	enum image_transport image_transport;
	const char *name, *workdir, *user, *hostname, *network, *kernel, *initrd, *isolation, *image;
	char *env[MAX_LIST * 4];
	int nenv;
	char *ports[16];
	int nports;
	char *volumes[VM_MAX_DISKS - 2];        /* the image and the writable layer besides */
	int nvol;
	const char *cpus;
	long long memory, pids;
	uint64_t storage;                       /* the writable layer's bytes (--storage) */
	unsigned timeout;
	unsigned ttl;                           /* --ttl seconds, 0 none */
	struct log_conf log;                    /* --log-driver, --log-opt */
	bool log_given;                         /* --log-driver given */
	char **cmd;
	int ncmd;
	/* sandbox-runtime (oci/, docs/oci-runtime.md) sets these; sandbox run
	 * leaves them zero (ready_fd -1). */
	const char *rootfs;             /* the root: this host directory over virtio-fs, no image */
	bool rootfs_ro;
	/* A pod's sandbox (oci/pod.c): rootfs is the pod's share, whose
	 * virtiofsd sees the mounts made beneath it later; the container's
	 * root is POD_MEMBER/rootfs in it. NULL: rootfs is the root. */
	const char *pod_member;
	struct cspec_rlimit rlimits[CSPEC_MAX_RLIMITS];
	unsigned nrlimits;
	bool caps_given;                /* config.json's capabilities, seccomp, masked paths */
	uint64_t cap_bounding, cap_effective;
	bool no_seccomp, paths_given;
	const char *masked[CSPEC_MAX_PATHS], *ro_paths[CSPEC_MAX_PATHS];
	unsigned nmasked, nro_paths;
	int ready_fd;                   /* >= 0: create: once the VMM runs, "s<id>" here, then
					   closed; stdio stays the caller's (no -d fork) */
	bool start_gate;                /* the relay sends CONFIG only after a byte comes
					   into ROOT/<id>/start (a FIFO): sandbox-runtime start */
	int gate_fd;                    /* its read end, for the VMM (run.c opens it) */
	int booted_fd;                  /* the VMM's relay says here that the VM is up (run.c) */
	const char *netns;              /* the NIC in this network namespace (run_netns.c) */
	const char *from;                       /* --from SNAPSHOT: a clone of it */
	bool network_set;                       /* --network given */
};

/* The image's run defaults (image tool: `sandbox-image runconf NAME`). */
struct runconf {
	char *buf;
	const char *disk, *fstype, *workdir, *user, *stopsignal;
	char *entrypoint[SB_RUN_MAX_ARGS], *cmd[SB_RUN_MAX_ARGS], *env[SB_RUN_MAX_ARGS];
	int nentry, ncmd, nenv;
};


/* The owner's signal for "the VMM's status pipe has something". */
#define SIG_DONE (SIGRTMIN + 5)
/* What the VMM tells its owner on that pipe: notes of NOTE_SIZE bytes,
 * each one write (atomic: under PIPE_BUF), a kind and a u32 (little
 * endian). NOTE_STATUS: the container's status, final, its output all
 * written; NOTE_OOM: the guest's count of OOM kills in the container
 * grew to the value (taken by the relay within its bounds). */
enum { NOTE_STATUS = 1, NOTE_OOM = 2 };
#define NOTE_SIZE 5

/* Host directories as volumes in the VM (run_fs.c): one virtiofsd each. */
#define VIRTIOFSD_DEFAULT "/usr/lib/qemu/virtiofsd"
struct fs_daemon {
	int vol;                        /* its -v in run_opts.volumes */
	bool ro;
	bool pod;                       /* a pod's share: later mounts beneath it propagate in */
	char dir[PATH_MAX];             /* the directory, absolute */
	char tag[8];                    /* "fs0": the virtio-fs tag */
	char sock[700];                 /* ROOT/<id>/sock/fs0 */
	pid_t pid;                      /* 0: not running */
};
struct fs_daemons {
	struct fs_daemon d[VM_MAX_DISKS];
	int n;
	bool sock_dir_made;             /* ROOT/<id>/sock exists (the VMM's too) */
};

/* The container's spec for guest-init (common/spec.h) and the strings
 * of it that are made here rather than taken from the options or image. */
struct run_spec {
	struct cspec c;
	char hostname[16];
	char term[512];
	char vol_dev[CSPEC_MAX_VOLUMES][8];
	char vol_path[CSPEC_MAX_VOLUMES][CSPEC_MAX_PATH + 1];
	char upper_dev[8];
	char storage[600];      /* the writable layer's file (storage.h); "": none (--read-only) */
	const struct fs_daemons *fsd;   /* the VM's directory volumes; NULL: none */
	const struct snap_from *from;   /* --from: the snapshot; NULL: boot */
};
struct snap_from;
struct sandbox_state;
/* The VM's RAM and vCPUs for O (run_vm.c). */
/* The transport the VM gets for RC's image: O's choice, else the default
 * for its file system. */
enum image_transport run_image_transport(const struct run_opts *o, const struct runconf *rc);
void vm_size(const struct run_opts *o, uint64_t *mem_bytes, unsigned *ncpus);
/* Free page reporting (virtio-balloon) wanted: unless SANDBOX_NO_BALLOON
 * is set (bench/'s comparisons only). A snapshot records it: its clones
 * have the device exactly when the source had it. */
bool run_balloon(void);

/* run_create.c: the making of a sandbox before its owner forks, in this
 * order. Each returns 0, -1 with E filled, or a status already reported.
 * The image's run configuration into RC, or, with --from, the snapshot
 * opened into FROM (and O's image, network, cpus and memory taken from
 * it). */
int run_resolve(struct run_opts *o, struct runconf *rc, struct snap_from *from, struct err *e);
/* S, new, written in the state directory (under the lock: its name is
 * free, the host's limits allow it, a subnet for --network tap). */
int run_create_state(const struct run_opts *o, const struct runconf *rc, const struct snap_from *from,
		     struct sandbox_state *s, struct err *e);
/* SPEC for S, its writable layer, and for a VM its record (ROOT/<id>/vm);
 * on failure the caller removes S. */
int run_make_spec(const struct run_opts *o, const struct runconf *rc, const struct snap_from *from,
		  const struct sandbox_state *s, struct run_spec *spec, struct err *e);

/* Where the guest kernel, initramfs, sandbox-image and guest-init are. */
extern const char *run_bindir;

/* Errors: as everywhere (common/err.h), a function that can fail fills
 * E and returns -1; cmd_run() and the children's *_child_main() (the top
 * level of their processes) print. */

/* run.c: the owner's whole life for options O (checked); the
 * container's status, or -1 with E filled if the sandbox could not be
 * set up (nothing left behind then). */
int run_main(struct run_opts *o, uint64_t start, struct err *e);
/* run_opts.c: 0, or -1 with E filled (--help prints and exits 0). */
int parse_run_args(int argc, char **argv, struct run_opts *o, struct err *e);
/* runconf.c: from the image tool's cache file (-1: not there or not
 * usable, no error), else by running it (-1 with E filled). */
int runconf_cached(const char *image, struct runconf *rc);
int runconf_load(const char *image, struct runconf *rc, struct err *e);
/* run_spec.c: the part both isolation modes share, checked; the VM adds
 * its devices and stdio. spec_volume: volume disk DISK (1 = vdb) at PATH
 * (LEN bytes of it). */
int spec_fill(const struct run_opts *o, const struct runconf *rc, const char *id, struct run_spec *s,
	      struct err *e);
int spec_volume(struct run_spec *s, unsigned disk, const char *path, size_t len, bool ro, struct err *e);
/* run_vm.c, run_host.c: the child's whole life; they print their error
 * and return the status to _exit with. DONE_FD: the notes above
 * (vm_child_main's comment); READY_FD (-1: none): a byte once a
 * clone's guest took its new identity (--from). */
int vm_child_main(const struct run_opts *o, const struct runconf *rc, const char *id, int net,
		  struct run_spec *spec, uint64_t start, int done_fd, int ready_fd);
int host_child_main(const struct run_opts *o, const struct runconf *rc, const char *id, struct run_spec *spec);
/* run_fs.c: is the -v argument's source a directory (else a disk image)?
 * The daemon binary (SANDBOX_VIRTIOFSD overrides). Start a virtiofsd for
 * each directory volume (the VM only), before the VMM; stop them all. */
bool volume_is_dir(const char *vol);
const char *virtiofsd_path(void);
int fs_daemons_start(const struct run_opts *o, const char *id, struct fs_daemons *fd, struct err *e);
void fs_daemons_stop(struct fs_daemons *fd);
/* run_spec.c: a virtio-fs volume, by its tag. */
int spec_volume_fs(struct run_spec *s, const char *tag, const char *path, size_t len, bool ro, struct err *e);
/* run_netns.c: in the VMM child, before the VM is made: join the network
 * namespace PATH, take its interface's address for the guest (C's eth0)
 * and bridge it with the tap TAP (NET). 0, or -1 with E filled. */
struct net_config;
int netns_wire(const char *path, const char *tap, struct net_config *net, struct cspec *c, struct err *e);
/* run_proxy.c */
int start_proxies(const struct run_opts *o, int net, struct err *e);
/* -p [HOST_IP:]HOST:GUEST: HOST_IP (IPv4, default 127.0.0.1) and the two
 * ports (1-65535); -1 if malformed. */
struct in_addr;
int proxy_spec_parse(const char *spec, struct in_addr *ip, unsigned *host, unsigned *guest);
/* Connections forwarded at once per -p port; more are closed at accept. */
#define PROXY_MAX_CONNS 256

#endif
