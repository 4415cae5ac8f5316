/* libFuzzer target: the virtio-blk and virtio-net request parsers behind a
 * real transport, over guest memory the fuzzer writes (rings, descriptors,
 * request headers, frames). The devices are set up once; every input resets
 * them, brings them up through the MMIO registers and serves their queues.
 *   make fuzz-smoke */
#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../vmm/devices/virtio_blk.h"
#include "../../vmm/devices/virtio_net.h"
#include "../../vmm/evloop.h"
#include "../../vmm/virtio/mmio.h"

#define MEM (256 * 1024)
#define QSZ 16

static uint8_t *mem;
static struct guest_mem gm;
static struct virtio_dev *blk, *net;
static struct virtio_net *vnet;
static struct evloop loop;
static int peer = -1; /* the other end of the net backend */

static uint32_t rd(struct virtio_dev *d, uint64_t off)
{
	uint32_t v;
	virtio_mmio_io(d, off, (uint8_t *)&v, 4, false);
	return v;
}
static void wr(struct virtio_dev *d, uint64_t off, uint32_t v) { virtio_mmio_io(d, off, (uint8_t *)&v, 4, true); }

static void init_once(void)
{
	struct err e;
	mem = calloc(1, MEM);
	gm_wrap(&gm, mem, MEM);
	char path[] = "/tmp/sandbox-fuzz-XXXXXX";
	int fd = mkstemp(path);
	if (fd < 0 || ftruncate(fd, 1 << 20))
		abort();
	close(fd);
	struct blk_config bc = { .id = "fuzz" };
	snprintf(bc.path, sizeof(bc.path), "%s", path);
	blk = blk_create(&bc, &gm, &e);
	unlink(path);
	if (!blk || evloop_init(&loop, &e))
		abort();
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_DGRAM | SOCK_NONBLOCK, 0, sv))
		abort();
	uint8_t mac[6] = { 2, 0, 0, 0, 0, 1 };
	vnet = vnet_create(&gm, &loop, sv[0], false, mac, true, true, "fuzz", &e);
	if (!vnet)
		abort();
	net = vnet_dev(vnet);
	peer = sv[1];
}

/* Bring D up with the features it offers and queues at addresses taken
 * from the input; returns false if the device refused. */
static bool bring_up(struct virtio_dev *d, const uint8_t *sel)
{
	wr(d, VIRTIO_MMIO_STATUS, 0);
	wr(d, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	for (uint32_t i = 0; i < 2; i++) {
		wr(d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, i);
		uint32_t f = rd(d, VIRTIO_MMIO_DEVICE_FEATURES) & (i ? 0xffffffffu : ~(uint32_t)sel[0] | 0xff000000u);
		wr(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, i);
		wr(d, VIRTIO_MMIO_DRIVER_FEATURES, f);
	}
	wr(d, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK);
	for (unsigned q = 0; q < d->ops->nqueues; q++) {
		/* Rings in the first KiBs, which the input fills; a few inputs
		 * move them elsewhere. */
		uint64_t base = (sel[1 + q] & 0x80) ? ((uint64_t)(sel[1 + q] % 48) + 1) * 4096 : q * 0x400ULL;
		wr(d, VIRTIO_MMIO_QUEUE_SEL, q);
		wr(d, VIRTIO_MMIO_QUEUE_NUM, QSZ);
		wr(d, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)base);
		wr(d, VIRTIO_MMIO_QUEUE_AVAIL_LOW, (uint32_t)(base + 0x100));
		wr(d, VIRTIO_MMIO_QUEUE_USED_LOW, (uint32_t)(base + 0x200));
		wr(d, VIRTIO_MMIO_QUEUE_READY, 1);
	}
	wr(d, VIRTIO_MMIO_STATUS, rd(d, VIRTIO_MMIO_STATUS) | VIRTIO_CONFIG_S_DRIVER_OK);
	return d->active;
}

/* Give the fuzzer a head start: offer N chains from its own descriptor
 * table and, for most inputs, pull buffer addresses into guest memory so
 * the request parsers (not only the bounds checks) get exercised. */
static void shape_rings(struct virtio_dev *d, const uint8_t *sel)
{
	for (unsigned q = 0; q < d->ops->nqueues; q++) {
		struct virtq *vq = &d->vq[q];
		if (!vq->ready)
			continue;
		struct { uint64_t addr; uint32_t len; uint16_t flags, next; } *desc = gm_ptr(&gm, vq->desc, 16 * QSZ);
		uint16_t *avail = gm_ptr(&gm, vq->avail, 6 + 2 * QSZ);
		if (!desc || !avail)
			continue;
		if (!(sel[0] & 0x80))
			for (unsigned i = 0; i < QSZ; i++) {
				desc[i].addr = 0x800 + desc[i].addr % 0x1000;
				desc[i].len %= 0x1000;
				desc[i].next %= QSZ;
			}
		unsigned n = 1 + sel[1] % QSZ;
		avail[1] = (uint16_t)n;
		for (unsigned i = 0; i < n; i++)
			avail[2 + i] = (uint16_t)((sel[2] + i * 3) % QSZ);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!mem)
		init_once();
	if (size < 8)
		return 0;
	memset(mem, 0, MEM);
	memcpy(mem, data + 8, size - 8 > MEM ? MEM : size - 8);

	if (bring_up(blk, data)) {
		shape_rings(blk, data + 4);
		virtio_process_queue(blk, 0);
	}
	if (bring_up(net, data + 3)) {
		shape_rings(net, data + 5);
		virtio_process_queue(net, 1);          /* TX: guest frames to the backend */
		uint8_t frame[128];
		memcpy(frame, data, 8);
		memset(frame + 8, data[7], sizeof(frame) - 8);
		if (send(peer, frame, 14 + data[6] % 100, MSG_DONTWAIT) >= 0)
			vnet_backend_event(vnet, 1);   /* RX: a frame into guest buffers */
		virtio_process_queue(net, 0);
		uint8_t sink[70000];
		while (recv(peer, sink, sizeof(sink), MSG_DONTWAIT) > 0)
			;
	}
	return 0;
}
