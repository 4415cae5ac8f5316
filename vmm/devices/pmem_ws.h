/* The pmem window's working set (docs/pmem.md, issue 18): which 4 KiB
 * pages of the image earlier sandboxes on it touched, so that KVM maps
 * them before the guest runs (KVM_PRE_FAULT_MEMORY) instead of taking a
 * nested page fault (a VM exit) on the first touch of each. A DAX file
 * page is mapped in the guest one 4 KiB page per fault, and each one
 * touched the first time in a VM is also such an exit; in the test host
 * (QEMU TCG) each costs of the order of a millisecond.
 *
 * The record lives beside the image, `<image>.ws` (a cache sidecar: the
 * cache's prune removes it with its image). A VMM reads it before the
 * guest runs and, as the VM ends, writes back the union of it and the
 * window pages now mapped in its own page table (/proc/self/pagemap: a
 * page KVM mapped for the guest is mapped there, with the host's fault-
 * around, 16 pages, so the record is a superset). Written in place with
 * write(2) from offset 0 over a file of the one size a record of this
 * image has: concurrent writers and readers see a mix of two unions of
 * the same header, itself valid. Best effort throughout: no record, an
 * unwritable directory or a record of another file only cost the faults.
 *
 * File (little-endian): "SBPMEMWS", u64 file_size, dev, ino, mtime_ns
 * (the image's identity, as the snapshot record's), u64 pages (the
 * window's), then the bitmap, one bit per page, padding bits zero. */
#ifndef SANDBOX_VMM_PMEM_WS_H
#define SANDBOX_VMM_PMEM_WS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../../common/err.h"

#define PMEM_WS_MAGIC "SBPMEMWS"
#define PMEM_WS_HDR 48u
#define PMEM_WS_PAGE 4096u

struct pmem_ws_id {
	uint64_t file_size, dev, ino, mtime_ns;
};

/* Bytes of a record of a window of WINDOW_LEN bytes. */
size_t pmem_ws_size(uint64_t window_len);

/* Check a record (LEN bytes, hostile: any VMM that ran a guest wrote it)
 * against the image ID and the window's length: magic, exact size,
 * identity, page count, zero padding. 0 and *BITS (inside BUF), or -1
 * with E. */
int pmem_ws_parse(const uint8_t *buf, size_t len, const struct pmem_ws_id *id, uint64_t window_len,
		  const uint8_t **bits, struct err *e);

/* Write the header for ID and WINDOW_LEN into REC (pmem_ws_size bytes),
 * the bitmap after it untouched. */
void pmem_ws_header(uint8_t *rec, const struct pmem_ws_id *id, uint64_t window_len);

/* OR into BITS (PAGES bits) the pages whose pagemap entry ENT[i] says
 * present; the number of pages set in BITS after. */
uint64_t pmem_ws_add_present(uint8_t *bits, const uint64_t *ent, uint64_t pages);

/* The next run of set bits at or after *POS in BITS (PAGES bits): 1 with
 * [*START, *START + *N), *POS moved past it; 0 at the end. */
int pmem_ws_next_run(const uint8_t *bits, uint64_t pages, uint64_t *pos, uint64_t *start, uint64_t *n);

/* One device's record: opened before the jail, saved as the VM ends. */
struct pmem_ws {
	uint8_t *rec;           /* pmem_ws_size bytes: header and bitmap; NULL: off */
	uint64_t pages;
	const uint8_t *host;    /* the window's mapping */
	int out_fd;             /* <image>.ws, for writing from offset 0; -1 */
	int pagemap_fd;         /* /proc/self/pagemap, at the window's entries; -1 */
	uint64_t loaded;        /* pages the record held at start */
};

/* Before the jail: read IMAGE.ws if it is a record of this image and
 * window (else start empty), open it for writing and /proc/self/pagemap
 * positioned at HOST's entries. Never fails: on any error W is off (or
 * loads nothing), a note in W's counters only. */
void pmem_ws_open(struct pmem_ws *w, const char *image, const struct pmem_ws_id *id, const void *host,
		  uint64_t window_len);

/* The pages to map before the guest runs (NULL if none). */
const uint8_t *pmem_ws_bits(const struct pmem_ws *w);

/* As the VM ends (jailed: read and write only): add the window pages
 * mapped now and write the record. Frees W. */
void pmem_ws_save(struct pmem_ws *w);

/* Free W without saving. */
void pmem_ws_free(struct pmem_ws *w);

#endif
