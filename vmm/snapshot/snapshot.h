/* Whole-VM snapshots: save a paused VM (vCPUs, in-kernel interrupt
 * controllers, PIT and clock, the serial port, every virtio device with
 * its queues) and its guest memory; restore them into a VM made with the
 * same devices. The file format is format.h's. docs/snapshots.md. */
#ifndef SANDBOX_SNAPSHOT_H
#define SANDBOX_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

struct vm;
struct vcpu_state;

/* The VMM build a snapshot must come from, and the host CPU's
 * fingerprint (its supported CPUID, as KVM reports it). */
const char *snapshot_build_id(void);
uint32_t snapshot_cpu_fp(const struct vm *vm);

/* Write VM's state (VCPUS: each vCPU's, saved by vm_pause) to STATE_FD
 * and its memory to MEM_FD (sparse: zero pages are holes). The vCPUs
 * are paused and the device thread held. */
int snapshot_save(struct vm *vm, const struct vcpu_state *vcpus, int state_fd, int mem_fd, struct err *e);

/* Check FILE (the state file's LEN bytes) and put it into VM, which
 * vm_create made (its memory mapped from the snapshot's memory file) and
 * vm_devices_init gave the same devices; instead of vm_load. */
int snapshot_restore(struct vm *vm, const uint8_t *file, size_t len, struct err *e);
/* After a restore, before the guest runs: let each device look at its
 * queues once (the guest's last kicks happened before the save). */
void snapshot_kick_devices(struct vm *vm);

#endif
