/* The snapshot file (vm.state): a header, then records, all checked on
 * load as hostile input (a snapshot is a file anyone may have edited).
 *
 *   header (64 bytes, little endian):
 *     magic "SBXSNAP\0", u32 version, u32 header size, u64 payload bytes,
 *     u32 crc32 of the payload, u32 CPU fingerprint (the host's supported
 *     CPUID, hashed), char build[32] (the VMM build that wrote it)
 *   payload: records, each u32 tag, u32 length, LENGTH bytes
 *
 * The guest memory is a file of its own (memory, mapped MAP_PRIVATE by
 * every clone), the writable layer another (layer). A record's body is
 * the plain struct the VMM keeps; fields with meaning to us are checked
 * by whoever restores them, kernel structs by KVM itself. */
#ifndef SANDBOX_SNAPSHOT_FORMAT_H
#define SANDBOX_SNAPSHOT_FORMAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util.h"

#define SNAP_MAGIC "SBXSNAP"
#define SNAP_VERSION 1
#define SNAP_HDR_SIZE 64
#define SNAP_MAX_PAYLOAD (64u << 20)
#define SNAP_BUILD_LEN 32

enum snap_tag {
	SNAP_T_CONFIG = 1,      /* struct snap_config */
	SNAP_T_VCPU = 2,        /* u32 index, struct vcpu_state */
	SNAP_T_CHIPS = 3,       /* struct vm_chip_state */
	SNAP_T_SERIAL = 4,      /* struct serial_state */
	SNAP_T_VIRTIO = 5,      /* u32 slot, struct virtio_snap, device bytes */
	SNAP_T_AGENT = 6,       /* the agent channel: struct snap_agent */
};

/* Writing: records appended to a growing buffer. */
struct snap_w {
	uint8_t *buf;
	size_t len, cap;
	bool oom;
};
void snap_w_init(struct snap_w *w);
void snap_w_free(struct snap_w *w);
/* Append a record of TAG made of two parts (B may be NULL). */
void snap_w_rec(struct snap_w *w, uint32_t tag, const void *a, size_t alen, const void *b, size_t blen);
/* The header for W's payload into HDR. */
void snap_header(const struct snap_w *w, uint32_t cpu_fp, const char *build, uint8_t hdr[SNAP_HDR_SIZE]);

/* Reading: a checked view of a loaded file. */
struct snap_rec {
	uint32_t tag, len;
	const uint8_t *data;
};
struct snap_r {
	const uint8_t *payload;
	size_t len, off;
	uint32_t cpu_fp;
	char build[SNAP_BUILD_LEN + 1];
};
/* Check FILE (LEN bytes): header, sizes, checksum, and that the records
 * tile the payload exactly. With CHECK_CRC false (fuzzing only) the
 * checksum is not compared. */
int snap_open(struct snap_r *r, const uint8_t *file, size_t len, bool check_crc, struct err *e);
/* The next record: 1 with *REC, 0 at the end. */
int snap_next(struct snap_r *r, struct snap_rec *rec);
/* Find the first record of TAG (from the start); its body must be exactly
 * SIZE bytes (0: any). 0 found, -1 with E filled. */
int snap_find(const struct snap_r *r, uint32_t tag, size_t size, struct snap_rec *rec, struct err *e);

uint32_t snap_crc32(const void *data, size_t len);
uint32_t snap_fnv1a(const void *data, size_t len);

#endif
