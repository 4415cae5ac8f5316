/* The guest event port (common/abi.h): the boot timer, the exit status
 * the guest reports, and its last words. */
#ifndef SANDBOX_EVENT_PORT_H
#define SANDBOX_EVENT_PORT_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "../../common/abi.h"

struct event_port {
	_Atomic uint64_t init_reached_ns; /* 0 until the first SB_EVENT_INIT_REACHED */
	_Atomic int exit_status;          /* -1 until the guest reports one */
	_Atomic unsigned nwords;          /* bytes of words[] taken (may pass the size) */
	char words[SB_EVENT_WORDS_MAX + 1];
	uint64_t (*clock)(void *ctx);     /* returns the timestamp to record */
	void *ctx;
};

void event_port_init(struct event_port *p, uint64_t (*clock)(void *), void *ctx);
void event_port_io(void *dev, uint64_t offset, uint8_t *data, uint32_t len, bool is_write);
/* The guest's last words, NUL-terminated, "" if none; call once the
 * vCPUs are stopped. */
const char *event_port_words(const struct event_port *p);

#endif
