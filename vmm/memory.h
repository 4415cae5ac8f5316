/* Guest physical memory: one host mapping, split into at most two guest
 * regions around the 32-bit MMIO gap. Every access to guest memory goes
 * through gm_ptr(), which checks bounds and overflow; device and boot code
 * takes a struct guest_mem so unit tests can hand it a plain buffer. */
#ifndef SANDBOX_MEMORY_H
#define SANDBOX_MEMORY_H

#include <stdbool.h>
#include <stdint.h>

#include "util.h"

struct gm_region {
	uint64_t gpa;      /* guest physical start */
	uint64_t len;      /* bytes */
	uint64_t host_off; /* offset into guest_mem.host */
};

struct guest_mem {
	uint8_t *host;     /* one mapping of size bytes (could be file-backed) */
	uint64_t size;
	unsigned nregions;
	struct gm_region r[2];
	bool owned;        /* mapped by gm_init(), unmapped by gm_free() */
	bool shared;       /* a MAP_SHARED memfd (fd), for a vhost-user back end */
	int fd;            /* the memfd, or -1 */
};

/* Map SIZE bytes of anonymous guest memory and lay it out: RAM from 0 up
 * to the MMIO gap, the rest above 4 GiB. SIZE must be a multiple of 2 MiB
 * and at least 2 MiB. */
int gm_init(struct guest_mem *gm, uint64_t size, struct err *e);
/* The same over a memfd mapped MAP_SHARED (gm->fd), so that another
 * process (virtiofsd) can map the guest's memory too. Only when a device
 * needs it: anonymous memory keeps the kernel's pages file-mapped. */
int gm_init_shared(struct guest_mem *gm, uint64_t size, struct err *e);
/* Map FD, a snapshot's memory file of exactly SIZE bytes, MAP_PRIVATE:
 * what the guest writes stays its own. FD may be closed after. */
int gm_init_file(struct guest_mem *gm, uint64_t size, int fd, struct err *e);
/* Describe an existing buffer with the same layout rules (for tests). */
void gm_wrap(struct guest_mem *gm, void *buf, uint64_t size);
void gm_free(struct guest_mem *gm);

/* Host pointer for guest range [gpa, gpa+len) or NULL if any byte of it
 * lies outside guest RAM, the range wraps, or it straddles two regions.
 * len == 0 is valid for any gpa inside (or at the end of) a region. */
void *gm_ptr(const struct guest_mem *gm, uint64_t gpa, uint64_t len);

/* Copies through gm_ptr(); return -1 if out of range. */
int gm_read(const struct guest_mem *gm, void *dst, uint64_t gpa, uint64_t len);
int gm_write(const struct guest_mem *gm, uint64_t gpa, const void *src, uint64_t len);

/* Bytes of guest memory resident on the host (mincore), or -1. */
long long gm_resident_bytes(const struct guest_mem *gm);

#endif
