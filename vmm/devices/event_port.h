/* The guest event port (common/abi.h): the boot timer and the exit status
 * the guest reports. */
#ifndef SANDBOX_EVENT_PORT_H
#define SANDBOX_EVENT_PORT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

struct event_port {
	_Atomic uint64_t init_reached_ns; /* 0 until the first SB_EVENT_INIT_REACHED */
	_Atomic int exit_status;          /* -1 until the guest reports one */
	uint64_t (*clock)(void *ctx);     /* returns the timestamp to record */
	void *ctx;
};

void event_port_init(struct event_port *p, uint64_t (*clock)(void *), void *ctx);
void event_port_io(void *dev, uint64_t offset, uint8_t *data, uint32_t len, bool is_write);

#endif
