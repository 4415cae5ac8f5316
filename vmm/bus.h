/* Port I/O and MMIO dispatch. Devices register a range and one handler;
 * unclaimed reads return all ones and unclaimed writes are dropped, as on
 * real hardware. The table is fixed before the vCPUs start, so lookups
 * need no lock; each device serialises its own state. */
#ifndef SANDBOX_BUS_H
#define SANDBOX_BUS_H

#include <stdbool.h>
#include <stdint.h>

#include "util.h"

/* OFFSET is relative to the range's base; LEN is 1..8; DATA is LEN bytes
 * to write, or to fill on a read. */
typedef void (*bus_io_fn)(void *dev, uint64_t offset, uint8_t *data, uint32_t len, bool is_write);

struct bus_range {
	uint64_t base, len;
	bus_io_fn fn;
	void *dev;
	const char *name;
};

#define BUS_MAX_RANGES 32

struct bus {
	unsigned n;
	struct bus_range r[BUS_MAX_RANGES];
};

/* Fails if the range is empty, wraps, overlaps another or the bus is full. */
int bus_register(struct bus *b, uint64_t base, uint64_t len, bus_io_fn fn, void *dev,
		 const char *name, struct err *e);
/* Returns true if a device claimed the access. */
bool bus_dispatch(const struct bus *b, uint64_t addr, uint8_t *data, uint32_t len, bool is_write);

#endif
