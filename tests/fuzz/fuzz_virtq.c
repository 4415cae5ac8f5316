/* libFuzzer target: the split virtqueue walker and the virtio-mmio
 * transport fed a guest memory image and register writes chosen by the
 * fuzzer. Whatever the guest puts in its rings, the VMM must not read or
 * write outside guest memory, loop forever or crash.
 *   make fuzz-smoke        (a short run of every target) */
#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../vmm/virtio/mmio.h"
#include "../../vmm/virtio/virtq.h"

#define MEM (64 * 1024)

static struct virtq_chain chain;

static void drain(struct virtio_dev *d, unsigned q)
{
	uint8_t buf[4096];
	for (int i = 0; i < 64; i++) {
		int r = virtq_pop(&d->vq[q], d->gm, &chain);
		if (r < 0)
			virtio_needs_reset(d);
		if (r != 1)
			break;
		uint64_t n = virtq_chain_read(d->gm, &chain, 0, buf, sizeof(buf));
		virtq_chain_write(d->gm, &chain, n / 2, buf, n);
		struct iovec iov[16];
		uint64_t got;
		virtq_chain_iov(d->gm, &chain, true, 1, 1u << 20, iov, 16, &got);
		virtq_push(&d->vq[q], d->gm, chain.head, (uint32_t)got);
		virtio_notify_used(d, q);
	}
	virtq_update_avail_event(&d->vq[q], d->gm);
}

static const struct virtio_ops ops = {
	.name = "fuzz", .device_id = 2, .nqueues = 2, .features = 0, .config_size = 8,
	.queue_notify = drain,
};
static void kick(struct virtio_dev *d, unsigned q) { virtio_process_queue(d, q); }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t *mem;
	if (!mem)
		mem = malloc(MEM);
	/* Input: [n_ops][ops: (offset u8 (x4), value u32)...][memory image] */
	if (size < 1)
		return 0;
	size_t nops = data[0] % 48;
	size_t ops_len = nops * 5;
	if (size < 1 + ops_len)
		return 0;
	const uint8_t *op = data + 1;
	size_t img = size - 1 - ops_len;
	memset(mem, 0, MEM);
	memcpy(mem, data + 1 + ops_len, img > MEM ? MEM : img);

	struct guest_mem gm;
	gm_wrap(&gm, mem, MEM);
	struct virtio_dev d;
	virtio_dev_init(&d, &ops, NULL, &gm);
	d.kick = kick;
	for (size_t i = 0; i < nops; i++, op += 5) {
		uint64_t off = (uint64_t)op[0] * 4;
		uint32_t v;
		memcpy(&v, op + 1, 4);
		virtio_mmio_io(&d, off, (uint8_t *)&v, 4, true);
		/* Help the fuzzer reach an active device now and then. */
		if (off == VIRTIO_MMIO_STATUS && (v & VIRTIO_CONFIG_S_DRIVER_OK))
			for (unsigned q = 0; q < ops.nqueues; q++)
				virtio_process_queue(&d, q);
	}
	/* Also walk the rings directly with every combination of flags. */
	for (unsigned q = 0; q < ops.nqueues; q++) {
		struct virtq vq = d.vq[q];
		if (!virtq_valid(&vq, &gm))
			continue;
		vq.ready = true;
		vq.indirect = true;
		vq.event_idx = size & 1;
		for (int i = 0; i < 64 && virtq_pop(&vq, &gm, &chain) == 1; i++)
			virtq_push(&vq, &gm, chain.head, 0);
	}
	pthread_mutex_destroy(&d.lock);
	return 0;
}
