/* The device modules: one table (modules.c) that the command line
 * (vmm/cmd.c: its options and --help) and the VM (vm_devices_init)
 * iterate. A module parses its option's argument into struct vm_config,
 * once, at the edge; it creates its devices from that typed config over a
 * narrow device_ctx, not struct vm. A new device is its own file and one
 * line in the table (and its typed config in ../config.h). */
#ifndef SANDBOX_DEVICE_MODULES_H
#define SANDBOX_DEVICE_MODULES_H

#include "../config.h"
#include "../evloop.h"
#include "../memory.h"
#include "../virtio/mmio.h"
#include "util.h"

/* What a device gets from the VM, for the create call (the pointers in it
 * stay valid for the VM's life; the struct itself does not). */
struct device_ctx {
	const struct guest_mem *mem;    /* guest memory, for the queues */
	struct evloop *loop;            /* the device thread: backend fds, timers */
	/* Give DEV a register window, an interrupt and queue kicks, and
	 * announce it to the guest. From the call on DEV is the VM's, whether
	 * it succeeds or fails: it is freed with DEV->ops->destroy (at once,
	 * or with the VM), so a caller that gets -1 only reports. */
	int (*attach)(const struct device_ctx *ctx, struct virtio_dev *dev, struct err *e);
	/* Show LEN bytes of host memory at HOST to the guest above its RAM,
	 * read-only if READONLY (vm_map_window in ../vm.h); *GPA: where. The
	 * device keeps HOST mapped and unmaps it in its destroy. NULL where
	 * there is no VM (unit tests give their own). */
	int (*map_window)(const struct device_ctx *ctx, void *host, uint64_t len, bool readonly, uint64_t *gpa,
			  struct err *e);
	void *host;                     /* for attach (the VM) */
};

struct device_module {
	const char *name;               /* "virtio-blk" */
	const char *option;             /* "disk": the command line's --disk ARG */
	const char *arg;                /* "SPEC": ARG in the option list */
	const char *summary;            /* the option list's line */
	const char *usage;              /* the long text after the option list */
	/* --OPTION ARG: fill the module's part of C, or a one-line error
	 * naming the option. */
	int (*parse)(const char *arg, struct vm_config *c, struct err *e);
	/* Create and attach the devices C asks for (none: return 0). */
	int (*create)(const struct device_ctx *ctx, const struct vm_config *c, struct err *e);
};

/* The table, NULL-terminated. */
extern const struct device_module *const device_modules[];

/* All modules' usage text, for --help. */
const char *devices_usage(void);

#endif
