/* virtio-pmem (virtio 1.x, 5.19): a host file mapped read-only into the
 * guest's physical address space (docs/pmem.md). */
#ifndef SANDBOX_VIRTIO_PMEM_H
#define SANDBOX_VIRTIO_PMEM_H

#include <stdint.h>

#include "../virtio/mmio.h"

/* The device's own state, plain data: with the transport's (struct
 * virtio_dev) it is all a snapshot saves. The mapping itself is not saved:
 * a restore maps the same file again (same path, size and identity) at the
 * same GPA, and the guest's view is the same bytes. */
struct pmem_state {
	uint64_t gpa;           /* the region's guest-physical start */
	uint64_t size;          /* its length: the file rounded up to DEVICE_WINDOW_GRAIN */
	uint64_t file_size;     /* bytes of the file in it; the rest reads as zeroes */
	uint64_t file_dev, file_ino, file_mtime_ns; /* which file (a restore checks it) */
	uint64_t flushes;       /* flush requests answered */
	uint64_t bad;           /* malformed requests completed empty or with an error */
};

/* The device's snapshot record (after the transport's struct virtio_snap):
 * its state, then PATH_LEN bytes of the image file's path (no NUL). The
 * window's identity, never its bytes: a restore maps the file again and
 * checks it is the very file (docs/pmem.md, docs/snapshots.md). */
struct pmem_snap {
	struct pmem_state st;
	uint32_t path_len;
	uint32_t pad;           /* 0 */
};
/* Encode ST and PATH into BUF (CAP bytes): the bytes used, or -1 with E. */
long pmem_snap_encode(const struct pmem_state *st, const char *path, uint8_t *buf, size_t cap, struct err *e);
/* Decode a record body (LEN bytes, hostile) into *ST and PATH (PATH_CAP
 * bytes, NUL-terminated), checking every field against itself and GM's RAM:
 * the sizes, the path, a window on DEVICE_WINDOW_ALIGN above 4 GiB and
 * the end of RAM, inside x86's 52 physical address bits, as long as the
 * file rounded up to DEVICE_WINDOW_GRAIN. Pure: the unit tests and the
 * fuzz target call it. 0, or -1 with E filled. */
int pmem_snap_decode(const uint8_t *buf, size_t len, const struct guest_mem *gm, struct pmem_state *st, char *path,
		     size_t path_cap, struct err *e);

/* Read-only host mapping of a file for a device window: LEN bytes (the
 * file's size rounded up to DEVICE_WINDOW_GRAIN), the file MAP_SHARED from
 * the page cache and anonymous zero pages past it, all PROT_READ. */
struct pmem_map {
	uint8_t *host;
	uint64_t len;
	uint64_t file_size;
};
/* Map FD (opened O_RDONLY, SIZE bytes, SIZE > 0) into *M. */
int pmem_map_file(int fd, uint64_t size, struct pmem_map *m, struct err *e);
void pmem_unmap(struct pmem_map *m);

/* A virtio-pmem device for a region already in the guest at GPA, SIZE
 * bytes (the flush queue and the config space; the mapping is the
 * caller's). NULL with E filled on failure. */
struct virtio_dev *pmem_dev_new(const struct guest_mem *gm, uint64_t gpa, uint64_t size, struct err *e);
/* Its state (for tests and a snapshot). */
const struct pmem_state *pmem_dev_state(const struct virtio_dev *d);

/* Answer one request on the flush queue, given what the chain holds (its
 * readable bytes REQ, REQ_LEN of them; WRITE_LEN writable bytes): the
 * virtio_pmem_resp to write in *RESP. Returns the bytes to complete the
 * chain with (4), or 0 for a chain that cannot take an answer. Pure: the
 * fuzz target and the unit tests call it directly. */
uint32_t pmem_serve(const uint8_t *req, uint64_t req_len, uint64_t write_len, uint32_t *resp);

#endif
