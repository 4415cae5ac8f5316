/* The container's spec as it crosses from the owner to guest-init: one
 * typed struct, one versioned binary encoding, the same code on both sides
 * (spec.c: the check; spec_enc.c: the encoder; spec_dec.c: the decoder;
 * the tags in spec_int.h) and its limits defined here only.
 *
 * `sandbox run` fills a struct cspec and encodes it; in the VM it is the
 * agent protocol's CONFIG payload (common/proto.h), with --isolation
 * container it reaches `guest-init --host ROOTFS --spec-fd N` through an
 * inherited memfd. guest-init decodes it and runs the container from the
 * typed fields. The host mode's human options (guest-init/spec.c) fill the
 * same struct and pass the same check.
 *
 * Encoding, all integers little endian:
 *   header  u32 magic CSPEC_MAGIC, u32 version CSPEC_VERSION,
 *           u32 length of the records that follow (the rest of the buffer)
 *   record  u16 tag, u16 zero, u32 value length, the value
 * A string is its bytes and one NUL, which ends it and its record (or its
 * field, in a record of several). Records may come in any order; the
 * repeatable ones (ENV, ARG, RLIMIT, VOLUME, BIND...) keep theirs. The decoder
 * refuses anything else: another magic or version, a truncated or
 * overlong record or buffer, an unknown tag, a nonzero reserved field, a
 * singleton twice, a string with a NUL inside or none at its end, counts
 * or lengths over the limits below, values cspec_check() refuses. */
#ifndef SANDBOX_SPEC_H
#define SANDBOX_SPEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CSPEC_MAGIC 0x70534253u         /* "SBSp" */
#define CSPEC_VERSION 1u

#define CSPEC_MAX_ARGS 256              /* the command and its arguments */
#define CSPEC_MAX_ENV 256
#define CSPEC_MAX_RLIMITS 16
#define CSPEC_MAX_VOLUMES 8
#define CSPEC_MAX_STR (128 * 1024)      /* bytes of one string, as exec's (MAX_ARG_STRLEN) */
#define CSPEC_MAX_PATH 4096             /* cwd, volume paths */
#define CSPEC_MAX_HOSTNAME 64
#define CSPEC_MAX_DEVNAME 31            /* "vda", "erofs": [a-z0-9] */
#define CSPEC_MAX_PATHS 32              /* masked and read-only paths, each list */
#define CSPEC_MAX_BINDS 32              /* a pod member's binds of host paths */
#define CSPEC_CAP_BITS 41               /* capabilities 0..40 (CAP_CHECKPOINT_RESTORE) */
#define CSPEC_MAX_SIZE (192 * 1024)     /* the whole encoding; fits one CONFIG frame */

enum cspec_network {
	CSPEC_NET_NONE = 0,             /* a namespace with only lo */
	CSPEC_NET_HOST = 1,             /* the (guest's) host's network */
};

/* What an exec connection does (sandbox cp rides on sandbox exec): run
 * argv, or, inside the container's namespaces and root, stream the path
 * argv[0] as a tar on stdout (TAR_OUT) or extract the tar on stdin at it
 * (TAR_IN), with common/cp.h's CP_* flags; or (UPDATE, sandbox-runtime
 * update) set the running container's limits. */
enum cspec_action {
	CSPEC_ACT_NONE = 0,
	CSPEC_ACT_TAR_OUT = 1,
	CSPEC_ACT_TAR_IN = 2,
	CSPEC_ACT_UPDATE = 3,           /* change the container's cgroup limits (memory, pids,
					 * cpu_quota_us: those set) to these; argv: "update" */
	CSPEC_ACT_CONTAINER = 4,        /* a pod's next container (pod_member): its own mount
					 * (and PID) namespace and root, the first container's
					 * network, IPC and UTS namespaces; argv and the walls
					 * are its own, nothing is merged from the first */
};
#define CSPEC_MAX_MEMBER 128            /* a pod member's name: an OCI container id */
#define CSPEC_CP_FLAGS 0xfu             /* the CP_* bits (common/cp.h) */

struct cspec_rlimit {
	uint32_t resource;              /* RLIMIT_* (Linux's numbers, < 16) */
	uint64_t soft, hard;
};

struct cspec_volume {
	const char *dev;                /* guest block device: "vdb"; with fs, a virtio-fs tag: "fs0" */
	const char *path;               /* absolute, in the container */
	bool ro;
	bool fs;                        /* a host directory over virtio-fs (mount -t virtiofs DEV) */
};

/* A pod member's bind of a host path (sandbox-runtime, docs/kubernetes.md):
 * the host bound it into the pod's directory at MEMBER/v<i> (i: its place
 * in the list), the guest binds that at PATH in the member's root. */
struct cspec_bind {
	const char *path;               /* absolute, in the container; not "/", no ".." */
	bool ro;
	bool file;                      /* a file (else a directory) */
};

/* Strings are NULL when not set (the defaults are guest-init's); after
 * cspec_decode they point into the decoded buffer. */
struct cspec {
	const char *hostname;           /* NULL: "sandbox" */
	const char *cwd;                /* NULL: "/" */
	const char *user;               /* "uid[:gid]" or a name; NULL: root */
	const char *env[CSPEC_MAX_ENV]; /* "K=V" */
	unsigned nenv;
	const char *argv[CSPEC_MAX_ARGS];
	unsigned nargv;                 /* at least 1 */
	uint64_t memory;                /* bytes, 0: no limit */
	uint64_t pids;                  /* 0: no limit */
	uint64_t cpu_quota_us;          /* per 100 ms period, 0: no limit */
	struct cspec_rlimit rlimits[CSPEC_MAX_RLIMITS];
	unsigned nrlimits;
	bool read_only;
	bool init;                      /* a reaper is PID 1, the command PID 2 */
	/* `sandbox audit --privileged-attacker` only (docs/audit.md), never
	 * an option of sandbox run: every capability, no no_new_privs, no
	 * seccomp, for the container and its execs. */
	bool audit_privileged;
	enum cspec_network network;
	/* An OCI config's walls (sandbox-runtime): without caps_given the
	 * guest's default capabilities (Docker's set); with it, these sets
	 * (bits 0..CSPEC_CAP_BITS-1, effective within bounding). */
	bool caps_given;
	uint64_t cap_bounding, cap_effective;
	bool no_seccomp;                /* no seccomp filter (an OCI config without linux.seccomp) */
	/* Without paths_given, runc's default masked and read-only paths;
	 * with it, these (absolute paths; either list may be empty). */
	bool paths_given;
	const char *masked[CSPEC_MAX_PATHS];
	unsigned nmasked;
	const char *ro_paths[CSPEC_MAX_PATHS];
	unsigned nro_paths;
	/* The VM's part (the guest's devices and stdio); none in host mode. */
	bool stdin_open;                /* the host relays stdin (else /dev/null) */
	bool tty;                       /* a pty for stdio, this size */
	uint16_t rows, cols;
	const char *image_dev, *image_fs;       /* the image disk, read-only */
	bool image_dax;                 /* mount it with -o dax=always (virtio-pmem: "pmem0") */
	struct cspec_volume volumes[CSPEC_MAX_VOLUMES];
	unsigned nvolumes;
	bool eth;                       /* configure eth0: */
	uint32_t eth_addr, eth_gw, eth_dns;     /* network byte order; gw, dns 0: none */
	uint8_t eth_prefix;             /* 1..32 */
	/* The writable layer (the overlay's upper): a disk of its own, ext4,
	 * mounted read-write (--storage), or else a tmpfs of upper_size bytes
	 * (0: tmpfs's default); not both. */
	const char *upper_dev;          /* "vdc"; NULL: a tmpfs */
	uint64_t upper_size;            /* tmpfs bytes, 0: tmpfs's default */
	/* The layer is thrown away when the container ends (--rm): the
	 * guest syncs only the writable volumes before EXIT, not the layer.
	 * Without it everything is synced (a kept layer stays consistent). */
	bool upper_scratch;
	/* sandbox cp: argv is then one absolute path in the container */
	enum cspec_action action;
	uint32_t cp_flags;              /* CSPEC_CP_FLAGS bits, only with an action */
	/* Pods (sandbox-runtime, docs/kubernetes.md): the VM's root share is
	 * the pod's directory, each container's root at MEMBER/rootfs in it.
	 * With no action: the first container's name (its root is there), or,
	 * on an exec connection, the member the exec joins; with
	 * CSPEC_ACT_CONTAINER: the member to run. Names: [A-Za-z0-9_+.-],
	 * 1..CSPEC_MAX_MEMBER bytes, not starting with '.'. pod_share_pid
	 * (CONTAINER only): the first container's PID namespace, not one of
	 * its own. */
	const char *pod_member;
	bool pod_share_pid;
	struct cspec_bind binds[CSPEC_MAX_BINDS];       /* CONTAINER only */
	unsigned nbinds;
};

/* Is S a pod member's name (see struct cspec)? */
bool cspec_member_ok(const char *s);

/* What went wrong, for either side's own error type. */
struct cspec_err {
	char msg[200];
};

/* Is S a spec both sides accept (the limits, the shape of each value)?
 * 0, or -1 with E filled. */
int cspec_check(const struct cspec *s, struct cspec_err *e);
/* Encode S (checked first) into BUF of CAP bytes; *LEN: the bytes used.
 * 0, or -1 with E filled (a bad spec, or more than CAP or CSPEC_MAX_SIZE). */
int cspec_encode(const struct cspec *s, void *buf, size_t cap, size_t *len, struct cspec_err *e);
/* Decode LEN bytes of BUF into *OUT, whose strings then point into BUF
 * (keep it alive and unchanged). 0, or -1 with E filled and *OUT zeroed. */
int cspec_decode(const void *buf, size_t len, struct cspec *out, struct cspec_err *e);

#endif
