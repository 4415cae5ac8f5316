/* Saving and restoring a whole VM (snapshot.h). */
#include "snapshot.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../arch/x86/layout.h"
#include "../arch/x86/vcpu_state.h"
#include "../vm.h"
#include "format.h"

#define DEV_STATE_MAX (64 * 1024)

_Static_assert(SNAP_MAX_VCPUS == MAX_VCPUS, "snapshot.h's vCPU limit");
_Static_assert(SNAP_MAX_DEVICES == VM_MAX_VIRTIO, "snapshot.h's device limit");
#define PAGE 4096

/* What the restoring VM must have made the same way. */
struct snap_config {
	uint64_t mem_bytes;
	uint32_t ncpus, nvirtio;
	uint32_t device_id[SNAP_MAX_DEVICES];
};

struct snap_vcpu {
	uint32_t index, pad;
	struct vcpu_state s;
};

struct snap_virtio {
	uint32_t slot, pad;
	struct virtio_snap t;
};

struct snap_serial {
	uint8_t ier, lcr, mcr, lsr, msr, scr, dll, dlm, fcr, thri_pending, irq_level, pad[5];
};

const char *snapshot_build_id(void)
{
	/* Any rebuild may change a struct a record holds: one build reads
	 * only its own snapshots. */
	return "sandbox " __DATE__ " " __TIME__;
}

uint32_t snapshot_cpu_fp(const struct vm *vm)
{
	if (!vm->cpuid)
		return 0;
	return snap_fnv1a(vm->cpuid->entries, vm->cpuid->nent * sizeof(vm->cpuid->entries[0]));
}

static int write_all_at(int fd, const uint8_t *p, size_t n, off_t off, struct err *e)
{
	while (n) {
		ssize_t w = pwrite(fd, p, n, off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return err_sys(e, "writing the snapshot");
		p += w;
		n -= (size_t)w;
		off += w;
	}
	return 0;
}

static bool zero_page(const uint8_t *p)
{
	const uint64_t *q = (const uint64_t *)p;
	for (size_t i = 0; i < PAGE / 8; i++)
		if (q[i])
			return false;
	return true;
}

/* Guest memory, sparse: runs of non-zero pages written, zero pages left
 * as holes (a fresh guest is mostly zeros). */
static int save_memory(const struct guest_mem *gm, int fd, struct err *e)
{
	if (ftruncate(fd, 0) || ftruncate(fd, (off_t)gm->size))
		return err_sys(e, "sizing the snapshot's memory file");
	uint64_t run = 0, len = 0;
	for (uint64_t off = 0; off < gm->size; off += PAGE) {
		if (!zero_page(gm->host + off)) {
			if (!len)
				run = off;
			len += PAGE;
			continue;
		}
		if (len && write_all_at(fd, gm->host + run, len, (off_t)run, e))
			return -1;
		len = 0;
	}
	if (len && write_all_at(fd, gm->host + run, len, (off_t)run, e))
		return -1;
	return 0;
}

int snapshot_save(struct vm *vm, const struct vcpu_state *vcpus, int state_fd, int mem_fd, struct err *e)
{
	struct snap_w w;
	snap_w_init(&w);
	int rc = -1;
	uint8_t *blob = malloc(DEV_STATE_MAX);
	struct snap_vcpu *sv = malloc(sizeof(*sv));
	if (!blob || !sv) {
		err_oom(e, "snapshot");
		goto out;
	}
	struct snap_config c = { .mem_bytes = vm->mem.size, .ncpus = vm->ncpus, .nvirtio = vm->nvirtio };
	for (unsigned i = 0; i < vm->nvirtio; i++)
		c.device_id[i] = vm->virtio[i].dev->ops->device_id;
	snap_w_rec(&w, SNAP_T_CONFIG, &c, sizeof(c), NULL, 0);
	for (unsigned i = 0; i < vm->ncpus; i++) {
		memset(sv, 0, sizeof(*sv));
		sv->index = i;
		sv->s = vcpus[i];
		snap_w_rec(&w, SNAP_T_VCPU, sv, sizeof(*sv), NULL, 0);
	}
	struct vm_chip_state chips;
	if (vm_chip_save(vm->vm_fd, &chips, e))
		goto out;
	snap_w_rec(&w, SNAP_T_CHIPS, &chips, sizeof(chips), NULL, 0);
	pthread_mutex_lock(&vm->serial.lock);
	const struct serial_state *u = &vm->serial.s;
	struct snap_serial ss = { u->ier, u->lcr, u->mcr, u->lsr, u->msr, u->scr, u->dll, u->dlm, u->fcr,
				  u->thri_pending, u->irq_level, { 0 } };
	pthread_mutex_unlock(&vm->serial.lock);
	snap_w_rec(&w, SNAP_T_SERIAL, &ss, sizeof(ss), NULL, 0);
	for (unsigned i = 0; i < vm->nvirtio; i++) {
		struct virtio_dev *d = vm->virtio[i].dev;
		long n = 0;
		if (d->ops->save) {
			pthread_mutex_lock(&d->lock);
			n = d->ops->save(d, blob, DEV_STATE_MAX, e);
			pthread_mutex_unlock(&d->lock);
			if (n < 0)
				goto out;
		}
		struct snap_virtio h = { .slot = i };
		virtio_snap_save(d, &h.t);   /* after save: it may give back buffers */
		snap_w_rec(&w, SNAP_T_VIRTIO, &h, sizeof(h), blob, (size_t)n);
	}
	if (w.oom) {
		err_oom(e, "snapshot");
		goto out;
	}
	uint8_t hdr[SNAP_HDR_SIZE];
	snap_header(&w, snapshot_cpu_fp(vm), snapshot_build_id(), hdr);
	if (ftruncate(state_fd, 0) || write_all_at(state_fd, hdr, sizeof(hdr), 0, e) ||
	    write_all_at(state_fd, w.buf, w.len, SNAP_HDR_SIZE, e))
		goto out;
	if (save_memory(&vm->mem, mem_fd, e))
		goto out;
	if (fdatasync(state_fd) || fdatasync(mem_fd)) {
		err_sys(e, "syncing the snapshot");
		goto out;
	}
	rc = 0;
out:
	free(blob);
	free(sv);
	snap_w_free(&w);
	return rc;
}

int snapshot_serial(const struct snap_rec *rec, struct serial_state *u, struct err *e)
{
	struct snap_serial ss;
	if (rec->len != sizeof(ss))
		return err_set(e, "snapshot: serial record of %u bytes", rec->len);
	memcpy(&ss, rec->data, sizeof(ss));
	if (ss.thri_pending > 1 || ss.irq_level > 1)
		return err_set(e, "snapshot: impossible serial port state");
	*u = (struct serial_state){ ss.ier, ss.lcr, ss.mcr, ss.lsr, ss.msr, ss.scr, ss.dll, ss.dlm, ss.fcr,
				    ss.thri_pending != 0, ss.irq_level != 0 };
	return 0;
}

int snapshot_virtio(struct virtio_dev *d, const struct snap_rec *rec, struct err *e)
{
	struct snap_virtio h;
	if (rec->len < sizeof(h))
		return err_set(e, "snapshot: device record of %u bytes", rec->len);
	memcpy(&h, rec->data, sizeof(h));
	size_t blen = rec->len - sizeof(h);
	if (virtio_snap_restore(d, &h.t, e))
		return -1;
	if (d->ops->restore) {
		pthread_mutex_lock(&d->lock);
		int k = d->ops->restore(d, rec->data + sizeof(h), blen, e);
		pthread_mutex_unlock(&d->lock);
		return k;
	}
	if (blen)
		return err_set(e, "snapshot: %s has state this build does not take", d->ops->name);
	return 0;
}

int snapshot_parse(const uint8_t *file, size_t len, bool check_crc, const struct snap_expect *x,
		   struct snap_parsed *p, struct err *e)
{
	struct snap_r r;
	struct snap_rec rec;
	memset(p, 0, sizeof(*p));
	if (snap_open(&r, file, len, check_crc, e))
		return -1;
	if (x && strcmp(r.build, x->build))
		return err_set(e, "the snapshot was made by another sandbox build (%s; this is %s)", r.build, x->build);
	if (x && r.cpu_fp != x->cpu_fp)
		return err_set(e, "the snapshot was made on a host with another CPU feature set");
	struct snap_config c;
	if (snap_find(&r, SNAP_T_CONFIG, sizeof(c), &rec, e))
		return -1;
	memcpy(&c, rec.data, sizeof(c));
	if (c.ncpus < 1 || c.ncpus > SNAP_MAX_VCPUS || c.nvirtio > SNAP_MAX_DEVICES)
		return err_set(e, "snapshot: %u vCPUs and %u devices", c.ncpus, c.nvirtio);
	if (x && (c.mem_bytes != x->mem_bytes || c.ncpus != x->ncpus || c.nvirtio != x->nvirtio))
		return err_set(e, "the snapshot's VM (%llu MiB, %u vCPUs, %u devices) is not this one "
			       "(%llu MiB, %u vCPUs, %u devices)", (unsigned long long)(c.mem_bytes / MIB), c.ncpus,
			       c.nvirtio, (unsigned long long)(x->mem_bytes / MIB), x->ncpus, x->nvirtio);
	for (unsigned i = 0; x && i < c.nvirtio; i++)
		if (c.device_id[i] != x->device_id[i])
			return err_set(e, "the snapshot's device %u is of another type", i);
	p->mem_bytes = c.mem_bytes;
	p->ncpus = c.ncpus;
	p->nvirtio = c.nvirtio;
	memcpy(p->device_id, c.device_id, sizeof(p->device_id));
	bool configs = false;
	while (snap_next(&r, &rec)) {
		uint32_t idx;
		switch (rec.tag) {
		case SNAP_T_CONFIG:
			if (configs)
				return err_set(e, "snapshot: two configuration records");
			configs = true;
			break;
		case SNAP_T_VCPU:
			if (rec.len != sizeof(struct snap_vcpu))
				return err_set(e, "snapshot: vCPU record of %u bytes", rec.len);
			memcpy(&idx, rec.data, 4);
			if (idx >= p->ncpus || p->vcpu[idx].data)
				return err_set(e, "snapshot: vCPU record %u twice or out of range", idx);
			p->vcpu[idx] = rec;
			break;
		case SNAP_T_CHIPS:
			if (rec.len != sizeof(struct vm_chip_state) || p->chips.data)
				return err_set(e, "snapshot: interrupt controller record twice or of %u bytes", rec.len);
			p->chips = rec;
			break;
		case SNAP_T_SERIAL:
			if (rec.len != sizeof(struct snap_serial) || p->serial.data)
				return err_set(e, "snapshot: serial record twice or of %u bytes", rec.len);
			p->serial = rec;
			break;
		case SNAP_T_VIRTIO:
			if (rec.len < sizeof(struct snap_virtio))
				return err_set(e, "snapshot: device record of %u bytes", rec.len);
			memcpy(&idx, rec.data, 4);
			if (idx >= p->nvirtio || p->virtio[idx].data)
				return err_set(e, "snapshot: device record %u twice or out of range", idx);
			p->virtio[idx] = rec;
			break;
		default:
			return err_set(e, "snapshot: unknown record %u", rec.tag);
		}
	}
	for (unsigned i = 0; i < p->ncpus; i++)
		if (!p->vcpu[i].data)
			return err_set(e, "snapshot: no state for vCPU %u", i);
	for (unsigned i = 0; i < p->nvirtio; i++)
		if (!p->virtio[i].data)
			return err_set(e, "snapshot: no state for device %u", i);
	if (!p->chips.data || !p->serial.data)
		return err_set(e, "snapshot: no interrupt controller or serial state");
	return 0;
}

int snapshot_restore(struct vm *vm, const uint8_t *file, size_t len, struct err *e)
{
	struct snap_expect x = { .build = snapshot_build_id(), .cpu_fp = snapshot_cpu_fp(vm),
				 .mem_bytes = vm->mem.size, .ncpus = vm->ncpus, .nvirtio = vm->nvirtio };
	for (unsigned i = 0; i < vm->nvirtio; i++)
		x.device_id[i] = vm->virtio[i].dev->ops->device_id;
	struct snap_parsed *p = malloc(sizeof(*p));
	struct snap_vcpu *sv = malloc(sizeof(*sv));
	int rc = -1;
	if (!p || !sv) {
		err_oom(e, "snapshot");
		goto out;
	}
	if (snapshot_parse(file, len, true, &x, p, e))
		goto out;
	for (unsigned i = 0; i < vm->ncpus; i++) {
		memcpy(sv, p->vcpu[i].data, sizeof(*sv));
		if (vcpu_state_restore(vm->vcpus[i].fd, &sv->s, e)) {
			err_wrap(e, "snapshot: vCPU %u", i);
			goto out;
		}
	}
	struct vm_chip_state cs;
	memcpy(&cs, p->chips.data, sizeof(cs));
	if (vm_chip_restore(vm->vm_fd, &cs, e) || snapshot_serial(&p->serial, &vm->serial.s, e))
		goto out;
	for (unsigned i = 0; i < vm->nvirtio; i++)
		if (snapshot_virtio(vm->virtio[i].dev, &p->virtio[i], e))
			goto out;
	rc = 0;
out:
	free(p);
	free(sv);
	return rc;
}

void snapshot_kick_devices(struct vm *vm)
{
	for (unsigned i = 0; i < vm->nvirtio; i++) {
		struct virtio_dev *d = vm->virtio[i].dev;
		if (d->ops->external_kicks)
			continue;
		for (unsigned q = 0; q < d->ops->nqueues; q++)
			virtio_process_queue(d, q);
	}
}
