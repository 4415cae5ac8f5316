/* virtio-balloon (virtio 1.x, 5.5) for free page reporting only
 * (VIRTIO_BALLOON_F_REPORTING): the guest reports pages it has freed and
 * the VMM drops them from the host (docs/pmem.md, "free page reporting"). */
#ifndef SANDBOX_VIRTIO_BALLOON_H
#define SANDBOX_VIRTIO_BALLOON_H

#include <stdint.h>

#include "../virtio/mmio.h"

/* Queues, in the order the driver sets them up when only REPORTING is
 * negotiated (no stats, no free page hints). */
enum { BALLOON_Q_INFLATE, BALLOON_Q_DEFLATE, BALLOON_Q_REPORTING, BALLOON_NQUEUES };

/* The device's state, plain data (what a snapshot keeps). */
struct balloon_state {
	uint32_t actual;        /* config space "actual", as the driver last wrote it (CPU order) */
	uint32_t pad;
	uint64_t reports;       /* reporting chains served */
	uint64_t ranges;        /* ranges dropped from the host */
	uint64_t bytes;         /* bytes of them */
	uint64_t bad;           /* chains or ranges refused (outside RAM, misaligned, readable, ...) */
	uint64_t failed;        /* madvise refused a range (counted, the guest goes on) */
};

/* One range of guest RAM the guest reported free: host address and length,
 * both multiples of BALLOON_PAGE, inside one guest RAM region. */
#define BALLOON_PAGE 4096u
struct balloon_range {
	uint8_t *host;
	uint64_t gpa, len;
};

/* Parse one reporting chain C over guest memory GM (pure: unit tests and
 * the fuzz target call it). A chain the virtqueue walk rejected, or with
 * any device-readable buffer (the driver only posts device-writable ones),
 * gives no range and counts 1 in *BAD. Otherwise each buffer that is
 * page-aligned in address and length and lies inside one RAM region (so
 * never a device window: they are not guest RAM) becomes a range in OUT
 * (at most MAX; the rest are counted bad), every other buffer is counted
 * in *BAD. Returns the number of ranges. */
unsigned balloon_parse_report(const struct guest_mem *gm, const struct virtq_chain *c, struct balloon_range *out,
			      unsigned max, uint64_t *bad);

/* Drop R's pages from the host: MADV_DONTNEED (anonymous or MAP_PRIVATE
 * memory: the next guest access reads zeroes or the mapped file's bytes),
 * MADV_REMOVE where guest memory is a shared memfd (SHARED), which would
 * otherwise keep the pages. -1 with errno on failure. */
int balloon_discard(const struct balloon_range *r, bool shared);

/* A balloon device over GM (tests; the module makes its own). */
struct virtio_dev *balloon_dev_new(const struct guest_mem *gm, struct err *e);
const struct balloon_state *balloon_dev_state(const struct virtio_dev *d);

#endif
