/* libFuzzer target: the snapshot loader (vmm/snapshot/), everything of it
 * that runs before KVM sees a byte: the file's header and records
 * (snapshot_parse, format.c), the serial port's record, and each device
 * record put into a real virtio-vsock device over a small guest memory
 * (the transport's state with its queues, then the device's own: the
 * agent connection it keeps, the resets it owes), or, for a record the
 * configuration calls virtio-pmem (device id 27), a virtio-pmem device:
 * its transport and its window's identity (pmem_snap_decode: the sizes,
 * the path, the window against RAM and the physical address space;
 * seed: seeds/fuzz_snapshot/pmem). The checksum is not
 * compared (the fuzzer would never get past it); every other check is the
 * loader's own. Checked besides ASan/UBSan: the device's bookkeeping
 * after each restore, and no file descriptor leaks.
 *   make fuzz-smoke */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../common/proto.h"
#include <linux/virtio_ids.h>

#include "../../vmm/devices/serial.h"
#include "../../vmm/devices/virtio_pmem.h"
#include "../../vmm/devices/vsock_dev.h"
#include "../../vmm/evloop.h"
#include "../../vmm/snapshot/snapshot.h"
#include "../../vmm/virtio/mmio.h"

#define MEM 0x40000

static uint8_t *mem;
static struct guest_mem gm;

static int open_fds(void)
{
	int n = 0;
	DIR *d = opendir("/proc/self/fd");
	if (!d)
		return -1;
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct snap_parsed p;
	if (!mem) {
		mem = calloc(1, MEM);
		gm_wrap(&gm, mem, MEM);
	}
	int fds = open_fds();
	struct err e;
	if (snapshot_parse(data, size, false, NULL, &p, &e))
		return 0;
	struct serial_state u;
	snapshot_serial(&p.serial, &u, &e);
	for (unsigned i = 0; i < p.nvirtio; i++) {
		if (p.device_id[i] == VIRTIO_ID_PMEM) {
			/* a 4 MiB window at 4 GiB, as a VM of this memory has it */
			struct virtio_dev *d = pmem_dev_new(&gm, 4ULL << 30, 4ULL << 20, &e);
			if (!d)
				abort();
			struct pmem_state before = *pmem_dev_state(d);
			if (snapshot_virtio(d, &p.virtio[i], &e) == 0) {
				/* without an image file nothing can match it */
				fprintf(stderr, "fuzz_snapshot: a pmem record restored into a device without a file\n");
				abort();
			}
			const struct pmem_state *after = pmem_dev_state(d);
			if (after->gpa != before.gpa || after->size != before.size || after->file_ino != before.file_ino) {
				fprintf(stderr, "fuzz_snapshot: a refused pmem record changed the window\n");
				abort();
			}
			d->ops->destroy(d);
			continue;
		}
		struct evloop loop;
		if (evloop_init(&loop, &e))
			abort();
		struct vsock *vs = vsock_dev_new(3, &loop, &gm, &e);
		if (!vs)
			abort();
		int sv[2];
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv) ||
		    vsock_add_agent(vs, SB_AGENT_PORT, sv[0], &e))
			abort();
		struct virtio_dev *d = vsock_virtio(vs);
		snapshot_virtio(d, &p.virtio[i], &e);
		const char *bad = vsock_check_invariants(vs);
		if (bad) {
			fprintf(stderr, "fuzz_snapshot: after a restore: %s\n", bad);
			abort();
		}
		vsock_destroy(d);
		evloop_free(&loop);
		close(sv[1]);
	}
	if (fds >= 0 && open_fds() != fds) {
		fprintf(stderr, "fuzz_snapshot: %d file descriptors leaked\n", open_fds() - fds);
		abort();
	}
	return 0;
}
