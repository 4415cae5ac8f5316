#include "event_port.h"

#include <string.h>

#include "../../common/abi.h"

void event_port_init(struct event_port *p, uint64_t (*clock)(void *), void *ctx)
{
	atomic_store(&p->init_reached_ns, 0);
	atomic_store(&p->exit_status, -1);
	p->clock = clock;
	p->ctx = ctx;
}

void event_port_io(void *dev, uint64_t offset, uint8_t *data, uint32_t len, bool is_write)
{
	struct event_port *p = dev;
	if (!is_write) {
		memset(data, 0, len);
		return;
	}
	if (len != 1)
		return;
	if (offset == 0 && data[0] == SB_EVENT_INIT_REACHED) {
		uint64_t zero = 0;
		uint64_t t = p->clock(p->ctx);
		atomic_compare_exchange_strong(&p->init_reached_ns, &zero, t ? t : 1);
	} else if (offset == SB_EVENT_EXIT_STATUS_OFF) {
		atomic_store(&p->exit_status, data[0]);
	}
}
