/* The virtio device modules. Each parses its own command-line SPEC (from
 * struct vm_config), creates its devices and attaches them with
 * virtio_attach(). Called from vm_devices_init(), before vm_load(). */
#ifndef SANDBOX_DEVICE_MODULES_H
#define SANDBOX_DEVICE_MODULES_H

#include "util.h"

struct vm;

/* --disk PATH[,ro][,id=ID]  (virtio_blk.c) */
int blk_devices_init(struct vm *vm, struct err *e);
extern const char blk_usage[];
/* --net SPEC  (virtio_net.c) */
int net_device_init(struct vm *vm, struct err *e);
extern const char net_usage[];
/* --vsock SPEC  (virtio_vsock.c) */
int vsock_device_init(struct vm *vm, struct err *e);
extern const char vsock_usage[];

/* All modules' usage text, for --help. */
const char *devices_usage(void);

#endif
