/* A snapshot's working set (the file `workingset` beside vm.state): the
 * guest pages a restored clone touched, recorded once, so that later
 * clones have KVM map exactly those pages before the guest runs
 * (KVM_PRE_FAULT_MEMORY) instead of taking a stage-2 fault on each.
 * Record and prefetch, as REAP does for Firecracker's snapshots.
 *
 *   header (32 bytes, little endian):
 *     magic "SBXWSET\0", u32 version, u32 pages (guest memory / 4 KiB),
 *     u32 scope (what the recording clone did: enum ws_scope), u32 crc32
 *     of both bitmaps, u64 zero
 *   two bitmaps of one bit per guest page each (in the mapping's order:
 *     page i is host offset i * 4096), pages / 8 bytes rounded up:
 *     touched (the page was in the recording clone's page tables), then
 *     written (it was its own copy there, no longer the snapshot file's:
 *     the guest wrote it), a subset of touched
 *
 * A later clone copies its written pages up front (MADV_POPULATE_WRITE:
 * one pass of the host's page faults, not one VM exit each) and has KVM
 * map every touched one (KVM_PRE_FAULT_MEMORY), the written ones writable.
 *
 * The file is a hint, and hostile input like every file of a snapshot:
 * one that does not parse is ignored (and recorded again), never used. */
#ifndef SANDBOX_SNAPSHOT_WORKINGSET_H
#define SANDBOX_SNAPSHOT_WORKINGSET_H

#include <stddef.h>
#include <stdint.h>

#include "memory.h"
#include "util.h"

#define WS_MAGIC "SBXWSET"
#define WS_VERSION 2
#define WS_HDR_SIZE 32
#define WS_PAGE 4096u

/* What the clone that recorded the set had done: taken its identity
 * (a detached clone, recorded once it resumed), or also run a command
 * (run --from SNAP CMD, recorded when it ended): the larger set. */
enum ws_scope { WS_SCOPE_RESTORE = 1, WS_SCOPE_COMMAND = 2 };

struct ws {
	uint32_t pages;         /* bits in the bitmap */
	uint32_t scope;
	const uint8_t *bits;    /* touched, into the parsed buffer */
	const uint8_t *written; /* written (a subset), the same */
};

/* Bytes of a working-set file for MEM_BYTES of guest memory. */
size_t ws_file_size(uint64_t mem_bytes);
/* Check BUF (LEN bytes) as the working set of a guest of MEM_BYTES:
 * magic, version, sizes, scope, checksum. 0 with *W, or -1 with E. */
int ws_parse(const uint8_t *buf, size_t len, uint64_t mem_bytes, struct ws *w, struct err *e);
/* Fill HDR for BITS (both bitmaps of PAGES bits, one after the other)
 * recorded with SCOPE. */
void ws_header(uint8_t hdr[WS_HDR_SIZE], uint32_t pages, uint32_t scope, const uint8_t *bits);
/* Build the bitmaps of GM's pages present in this process's page tables
 * (touched) and of those among them that are its own, not a file's
 * (written), from PAGEMAP_FD (/proc/self/pagemap, opened before the
 * jail) and write the whole file to OUT_FD. */
int ws_record(const struct guest_mem *gm, int pagemap_fd, uint32_t scope, int out_fd, struct err *e);
/* Have KVM map W's pages of GM (through VCPU_FD) now: runs of set bits,
 * one KVM_PRE_FAULT_MEMORY each. Best effort (a kernel without the ioctl
 * maps none). Returns the pages mapped. */
long ws_prefault(const struct guest_mem *gm, int vcpu_fd, const struct ws *w);
/* Copy W's written pages of GM into this process now, as a write would
 * (MADV_POPULATE_WRITE, Linux >= 5.14), runs at a time: before
 * ws_prefault, so that KVM maps them writable. Best effort. Returns the
 * pages populated. */
long ws_populate(const struct guest_mem *gm, const struct ws *w);

#endif
