/* libFuzzer target: virtio-pmem's flush queue (vmm/devices/virtio_pmem.c)
 * behind the real transport, over guest memory the fuzzer writes (rings,
 * descriptors, requests), and its request parser alone. Invariants: every
 * completion is 0 or 4 bytes (where the guest did not aim a buffer at its
 * own used ring); the answer is 0 only for a well-formed flush;
 * the device never asks for a reset on a well-formed ring it set up.
 *   make fuzz-smoke */
#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_pmem.h>
#include <linux/virtio_ring.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../vmm/devices/virtio_pmem.h"
#include "../../vmm/virtio/mmio.h"

#define MEM (64 * 1024)
#define QSZ 16
#define RING 0x0                /* descriptors; avail at +0x100, used at +0x200 */

static uint8_t *mem;
static struct guest_mem gm;
static struct virtio_dev *dev;

static uint32_t rd(uint64_t off)
{
	uint32_t v;
	virtio_mmio_io(dev, off, (uint8_t *)&v, 4, false);
	return v;
}
static void wr(uint64_t off, uint32_t v) { virtio_mmio_io(dev, off, (uint8_t *)&v, 4, true); }

static void init_once(void)
{
	struct err e;
	mem = calloc(1, MEM);
	gm_wrap(&gm, mem, MEM);
	dev = pmem_dev_new(&gm, 4ULL << 30, 2ULL << 20, &e);
	if (!dev)
		abort();
}

static void bring_up(uint32_t features)
{
	wr(VIRTIO_MMIO_STATUS, 0);
	wr(VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	for (uint32_t i = 0; i < 2; i++) {
		wr(VIRTIO_MMIO_DEVICE_FEATURES_SEL, i);
		uint32_t f = rd(VIRTIO_MMIO_DEVICE_FEATURES) & (i ? 0xffffffffu : features);
		wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, i);
		wr(VIRTIO_MMIO_DRIVER_FEATURES, f);
	}
	wr(VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK);
	wr(VIRTIO_MMIO_QUEUE_SEL, 0);
	wr(VIRTIO_MMIO_QUEUE_NUM, QSZ);
	wr(VIRTIO_MMIO_QUEUE_DESC_LOW, RING);
	wr(VIRTIO_MMIO_QUEUE_AVAIL_LOW, RING + 0x100);
	wr(VIRTIO_MMIO_QUEUE_USED_LOW, RING + 0x200);
	wr(VIRTIO_MMIO_QUEUE_READY, 1);
	wr(VIRTIO_MMIO_STATUS, rd(VIRTIO_MMIO_STATUS) | VIRTIO_CONFIG_S_DRIVER_OK);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!mem)
		init_once();
	if (size < 8)
		return 0;
	/* the parser alone */
	uint32_t resp = 0xdeadbeef;
	uint32_t n = pmem_serve(data + 2, data[0] % 8, data[1] % 8, &resp);
	if (n != 0 && n != 4)
		abort();
	if (n == 4 && resp == 0 && (data[0] % 8 < 4 || memcmp(data + 2, "\0\0\0\0", 4)))
		abort();
	/* the device */
	memset(mem, 0, MEM);
	memcpy(mem, data + 8, size - 8 > MEM ? MEM : size - 8);
	bring_up(data[2] & 0x80 ? 0xffffffffu : 0);
	if (!dev->active)
		return 0;
	/* Most inputs: buffers pulled into memory and chains offered, so the
	 * request handling (not only the bounds checks) runs. */
	struct { uint64_t addr; uint32_t len; uint16_t flags, next; } *desc = (void *)(mem + RING);
	uint16_t *avail = (uint16_t *)(mem + RING + 0x100);
	if (!(data[3] & 0x80))
		for (unsigned i = 0; i < QSZ; i++) {
			desc[i].addr = 0x800 + desc[i].addr % 0x1000;
			desc[i].len %= 16;
			desc[i].next %= QSZ;
		}
	unsigned offered = 1 + data[4] % QSZ;
	if (!(data[5] & 0x80)) {
		avail[1] = (uint16_t)offered;
		for (unsigned i = 0; i < offered; i++)
			avail[2 + i] = (uint16_t)((data[6] + i * 3) % QSZ);
	}
	memset(mem + RING + 0x200, 0, 4 + 8 * QSZ); /* only the device writes the used ring */
	/* ... unless the guest aims a buffer at its rings: the device then
	 * writes an answer where the guest asked, over its used ring (or over
	 * a descriptor a later chain then reads), and the used ring says
	 * nothing about the device. Such inputs (a buffer over the rings, or
	 * an indirect table, which may hold one) still run, unchecked. */
	bool ring_own = true;
	for (unsigned i = 0; i < QSZ; i++)
		if ((desc[i].flags & VRING_DESC_F_INDIRECT) ||
		    (desc[i].addr < RING + 0x200 + 4 + 8 * QSZ && desc[i].addr + desc[i].len > RING))
			ring_own = false;
	virtio_process_queue(dev, 0);
	const struct { uint16_t flags, idx; struct { uint32_t id, len; } ring[QSZ]; } *used = (void *)(mem + RING + 0x200);
	for (unsigned i = 0; ring_own && i < QSZ && i < used->idx; i++)
		if (used->ring[i].len != 0 && used->ring[i].len != 4)
			abort();
	return 0;
}
