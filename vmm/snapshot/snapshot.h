/* Whole-VM snapshots: save a paused VM (vCPUs, in-kernel interrupt
 * controllers, PIT and clock, the serial port, every virtio device with
 * its queues) and its guest memory; restore them into a VM made with the
 * same devices. The file format is format.h's. docs/snapshots.md. */
#ifndef SANDBOX_SNAPSHOT_H
#define SANDBOX_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

#include "format.h"
#include "util.h"

struct vm;
struct vcpu_state;
struct serial_state;
struct virtio_dev;

#define SNAP_MAX_VCPUS 32       /* MAX_VCPUS */
#define SNAP_MAX_DEVICES 16     /* VM_MAX_VIRTIO */

/* What the loading VMM expects of a snapshot. */
struct snap_expect {
	const char *build;
	uint32_t cpu_fp;
	uint64_t mem_bytes;
	unsigned ncpus, nvirtio;
	uint32_t device_id[SNAP_MAX_DEVICES];
};

/* A snapshot checked as far as it can be without a VM: the header, the
 * checksum, every record's size, none missing, none twice, none unknown,
 * indices in range. Records point into the file. */
struct snap_parsed {
	uint64_t mem_bytes;
	unsigned ncpus, nvirtio;
	uint32_t device_id[SNAP_MAX_DEVICES];
	struct snap_rec vcpu[SNAP_MAX_VCPUS];
	struct snap_rec chips, serial;
	struct snap_rec virtio[SNAP_MAX_DEVICES];
};

/* X NULL: take the file's own configuration (fuzzing, inspection). */
int snapshot_parse(const uint8_t *file, size_t len, bool check_crc, const struct snap_expect *x,
		   struct snap_parsed *p, struct err *e);
/* One serial record into U, checked. */
int snapshot_serial(const struct snap_rec *rec, struct serial_state *u, struct err *e);
/* One device record into D (its transport state, then its own). */
int snapshot_virtio(struct virtio_dev *d, const struct snap_rec *rec, struct err *e);

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
