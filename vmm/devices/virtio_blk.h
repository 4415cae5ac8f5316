/* virtio-blk (virtio 1.x, 5.2) backed by a host file or block device.
 * One request queue; requests run synchronously on the device thread with
 * preadv/pwritev straight between the file (page cache) and guest memory.
 * A malformed request fails that request only (VIRTIO_BLK_S_IOERR or
 * S_UNSUPP, or a zero-length completion when the chain has no status
 * byte); the device keeps serving.
 *
 * The VM uses the --disk module (blk_module, modules.h); these let unit
 * tests build a device over a plain-buffer guest memory. */
#ifndef SANDBOX_VIRTIO_BLK_H
#define SANDBOX_VIRTIO_BLK_H

#include <stdbool.h>
#include <stdint.h>

#include "../config.h"
#include "../memory.h"
#include "util.h"
#include "../virtio/mmio.h"

#define BLK_SEG_MAX 254                     /* data segments per request (queue size - 2) */
#define BLK_SIZE_MAX (1024 * 1024)          /* bytes per segment */
#define BLK_MAX_DATA ((uint64_t)BLK_SEG_MAX * BLK_SIZE_MAX) /* bytes per read/write */
#define BLK_DWZ_SEG_MAX 32                  /* segments per discard / write-zeroes */
#define BLK_DISCARD_SECTORS_MAX (1U << 22)  /* 2 GiB per discard segment */
#define BLK_WZ_SECTORS_MAX (1U << 15)       /* 16 MiB per write-zeroes segment */
#define BLK_BATCH 64                        /* requests per queue_notify before yielding */

/* What a device did, for tests and diagnostics. */
struct blk_stats {
	uint64_t reads, writes, flushes, get_ids, discards, write_zeroes;
	uint64_t ioerr;          /* requests completed with VIRTIO_BLK_S_IOERR */
	uint64_t unsupp;         /* ... with VIRTIO_BLK_S_UNSUPP */
	uint64_t bad_chains;     /* malformed chains / no status byte: completed with len 0 */
};

/* Parse the command line's --disk SPEC ("PATH[,ro][,id=ID]") into C. */
int blk_parse(const char *spec, struct blk_config *c, struct err *e);
/* Open and check C's file and build the device over guest memory GM (not
 * attached to anything). NULL + E on error, with a one-line message
 * naming the option. */
struct virtio_dev *blk_create(const struct blk_config *c, const struct guest_mem *gm, struct err *e);
/* Close the file and free the device (also its ops->destroy). */
void blk_destroy(struct virtio_dev *d);
/* The ID string the device reports (up to 20 bytes, NUL-terminated here). */
const char *blk_id(const struct virtio_dev *d);
const struct blk_stats *blk_get_stats(const struct virtio_dev *d);

#endif
