/* What a VM is made of: struct vm_config and the typed configuration of
 * each device. The command line (`sandbox vm`, vmm/cmd.c) fills these
 * from its option strings once, with the device modules' parse functions
 * (devices/modules.h); `sandbox run` (cli/run_vm.c) fills them directly.
 * The devices read them and nothing else: no option string travels
 * further than the command line. */
#ifndef SANDBOX_VM_CONFIG_H
#define SANDBOX_VM_CONFIG_H

#include <limits.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdbool.h>
#include <stdint.h>

#include "devices/vsock_dev.h"  /* struct vsock_config: the device's own */

#define VM_MAX_DISKS 8
#define BLK_ID_MAX 20           /* VIRTIO_BLK_ID_BYTES */

/* One virtio-blk disk (--disk PATH[,ro][,id=ID]). */
struct blk_config {
	char path[PATH_MAX];
	bool ro;                        /* the guest sees a read-only disk */
	char id[BLK_ID_MAX + 1];        /* "": the file name */
};

/* The virtio-net device (--net tap=NAME[,...]). Zero is the default for
 * every field but tap. */
struct net_config {
	char tap[IFNAMSIZ];             /* created if missing, brought up */
	bool has_mac;
	uint8_t mac[6];                 /* else vnet_default_mac(tap) */
	bool has_ip;                    /* give the tap IP/PREFIX */
	struct in_addr ip;
	unsigned prefix;
	char bridge[IFNAMSIZ];          /* "": none; else make the tap its port */
	bool no_offload;                /* do not offer checksum/TSO offloads */
	bool no_mrg_rxbuf;              /* do not offer mergeable RX buffers */
};

/* The virtio-rng device (--rng). Zero: the default (virtio_rng.c). */
struct rng_config {
	uint64_t rate;                  /* bytes per second */
	uint64_t burst;                 /* bytes the token bucket holds */
};

/* A virtio-fs device (--fs tag=TAG,socket=PATH): a directory the
 * vhost-user daemon at PATH (virtiofsd) exports, mounted in the guest as
 * `mount -t virtiofs TAG DIR`. */
#define VM_MAX_FS 6
#define FS_TAG_MAX 36                   /* the config space's tag[36] */
struct fs_config {
	char tag[FS_TAG_MAX + 1];
	char socket[108];               /* sun_path */
};

/* The virtio-pmem device (--pmem PATH): a read-only file (the erofs image)
 * mapped from the host's page cache into guest-physical space above RAM;
 * the guest sees /dev/pmem0 and mounts it with DAX (docs/pmem.md). */
struct pmem_config {
	char path[PATH_MAX];
};

struct vm_config {
	const char *kernel;
	const char *initrd;        /* may be NULL */
	const char *cmdline;       /* full command line, or NULL for the default */
	const char *append;        /* appended to the command line, may be NULL */
	uint64_t mem_bytes;
	unsigned ncpus;
	bool console;              /* serial console on stdout */
	bool timings;              /* print phase timings at exit */
	bool allow_pvm;            /* try even on a PVM host */
	bool no_seccomp;           /* --no-seccomp: no per-thread filters (debugging) */
	int jail;                  /* jail/jail.h: 0 default (on as root), 1 --jail, -1 --no-jail */
	unsigned jail_uid;         /* --jail-uid (gid too); 0: JAIL_DEFAULT_UID */
	unsigned timeout_s;        /* 0 = none */
	/* devices (devices/modules.h); the guest sees the disks as vda, vdb... */
	unsigned ndisks;
	struct blk_config disks[VM_MAX_DISKS];
	bool has_net;
	struct net_config net;
	bool has_vsock;
	struct vsock_config vsock;
	bool has_rng;
	struct rng_config rng;
	bool has_pmem;
	struct pmem_config pmem;
	bool has_balloon;          /* --balloon report: free page reporting (virtio_balloon.c) */
	unsigned nfs;              /* with any, guest memory is a shared memfd */
	struct fs_config fs[VM_MAX_FS];
	/* sandbox run: the VMM's end of the agent channel (common/proto.h),
	 * the vsock device's endpoint for guest connects to SB_AGENT_PORT. */
	bool has_agent;
	int agent_fd;
	/* Restore from a snapshot instead of booting (vmm/snapshot/): its
	 * state file (vm.state) and memory file, open. */
	bool restore;
	int restore_state_fd, restore_mem_fd;
	/* Its working set (vmm/snapshot/workingset.h), open, or -1: the pages
	 * to map before the guest runs. */
	int restore_ws_fd;
	bool restore_record_ws;    /* this clone will record one (control.c) */
	/* The control socket (vmm/control.c: pause, resume, snapshot); ""
	 * for none. Bound before the jail. */
	char control[108];
};

#endif
