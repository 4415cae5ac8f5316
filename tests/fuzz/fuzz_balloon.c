/* libFuzzer target: virtio-balloon's free page reporting
 * (vmm/devices/virtio_balloon.c): its report parser alone, over chains the
 * fuzzer writes, and the device behind the real transport over guest
 * memory the fuzzer writes (rings, descriptors). Invariants: every range
 * the parser gives is page-aligned, non-empty and inside guest RAM (its
 * host address the RAM's own); every completion is 0 bytes; the device
 * never asks for a reset on a well-formed ring it set up.
 *   make fuzz-smoke */
#include <linux/virtio_balloon.h>
#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_ring.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "../../vmm/devices/virtio_balloon.h"
#include "../../vmm/virtio/mmio.h"

#define MEM (64 * 1024)
#define QSZ 16
#define RING 0x0                /* descriptors; avail at +0x100, used at +0x200 */

static uint8_t *mem;
static struct guest_mem gm;
static struct virtio_dev *dev;
static struct virtq_chain chain;

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
	mem = mmap(NULL, MEM, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (mem == MAP_FAILED)
		abort();
	gm_wrap(&gm, mem, MEM);
	dev = balloon_dev_new(&gm, &e);
	if (!dev)
		abort();
}

static void bring_up(uint32_t features, unsigned qi)
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
	wr(VIRTIO_MMIO_QUEUE_SEL, qi);
	wr(VIRTIO_MMIO_QUEUE_NUM, QSZ);
	wr(VIRTIO_MMIO_QUEUE_DESC_LOW, RING);
	wr(VIRTIO_MMIO_QUEUE_AVAIL_LOW, RING + 0x100);
	wr(VIRTIO_MMIO_QUEUE_USED_LOW, RING + 0x200);
	wr(VIRTIO_MMIO_QUEUE_READY, 1);
	wr(VIRTIO_MMIO_STATUS, rd(VIRTIO_MMIO_STATUS) | VIRTIO_CONFIG_S_DRIVER_OK);
}

/* The parser over a chain made of the input: 12 bytes a segment. */
static void parse_alone(const uint8_t *data, size_t size)
{
	memset(&chain, 0, offsetof(struct virtq_chain, seg));
	chain.err = data[0] % 4 == 0 ? VIRTQ_ERR_ADDR : VIRTQ_OK;
	chain.nread = data[1] % 8 == 0;
	size_t n = (size - 2) / 12;
	if (n > VIRTQ_MAX_SEGS)
		n = VIRTQ_MAX_SEGS;
	for (size_t i = 0; i < n; i++) {
		const uint8_t *p = data + 2 + i * 12;
		memcpy(&chain.seg[i].gpa, p, 8);
		memcpy(&chain.seg[i].len, p + 8, 4);
		if (p[0] & 1) /* often near guest memory, so some ranges pass */
			chain.seg[i].gpa %= 2 * MEM;
		if (p[8] & 1)
			chain.seg[i].len %= 4 * BALLOON_PAGE;
		chain.seg[i].gpa &= ~(uint64_t)(p[1] & 1 ? 0xfff : 0);
		chain.seg[i].len &= ~(uint32_t)(p[9] & 1 ? 0xfff : 0);
		chain.seg[i].writable = true;
	}
	chain.nseg = (unsigned)n;
	struct balloon_range r[8];
	uint64_t bad = 0;
	unsigned got = balloon_parse_report(&gm, &chain, r, 8, &bad);
	if (got > 8 || got + bad > (n ? n : 1) || ((chain.err || chain.nread) && got))
		abort();
	for (unsigned i = 0; i < got; i++)
		if (r[i].len == 0 || r[i].len % BALLOON_PAGE || r[i].gpa % BALLOON_PAGE || r[i].gpa + r[i].len > MEM ||
		    r[i].gpa + r[i].len < r[i].gpa || r[i].host != mem + r[i].gpa)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!mem)
		init_once();
	if (size < 8)
		return 0;
	parse_alone(data, size);
	/* the device */
	memset(mem, 0, MEM);
	memcpy(mem, data + 8, size - 8 > MEM ? MEM : size - 8);
	unsigned qi = data[7] % BALLOON_NQUEUES;
	bring_up(data[2] & 0x80 ? 0xffffffffu : 1u << VIRTIO_BALLOON_F_REPORTING, qi);
	if (!dev->active)
		return 0;
	/* Most inputs: page-sized buffers above the rings, so reports pass
	 * the checks and pages really are dropped. */
	struct { uint64_t addr; uint32_t len; uint16_t flags, next; } *desc = (void *)(mem + RING);
	uint16_t *avail = (uint16_t *)(mem + RING + 0x100);
	if (!(data[3] & 0x80))
		for (unsigned i = 0; i < QSZ; i++) {
			desc[i].addr = (0x1000 + desc[i].addr % (MEM - 0x1000)) & ~0xfffULL;
			desc[i].len = (uint32_t)BALLOON_PAGE * (1 + desc[i].len % 2);
			desc[i].flags |= VRING_DESC_F_WRITE;
			desc[i].flags &= (uint16_t)~VRING_DESC_F_INDIRECT;
			desc[i].next %= QSZ;
		}
	unsigned offered = 1 + data[4] % QSZ;
	if (!(data[5] & 0x80)) {
		avail[1] = (uint16_t)offered;
		for (unsigned i = 0; i < offered; i++)
			avail[2 + i] = (uint16_t)((data[6] + i * 3) % QSZ);
	}
	memset(mem + RING + 0x200, 0, 4 + 8 * QSZ); /* only the device writes the used ring */
	virtio_process_queue(dev, qi);
	const struct { uint16_t flags, idx; struct { uint32_t id, len; } ring[QSZ]; } *used = (void *)(mem + RING + 0x200);
	for (unsigned i = 0; i < QSZ && i < used->idx; i++)
		if (used->ring[i].len != 0)
			abort();
	return 0;
}
