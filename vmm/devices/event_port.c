#include "event_port.h"

#include <string.h>

void event_port_init(struct event_port *p, uint64_t (*clock)(void *), void *ctx)
{
	atomic_store(&p->init_reached_ns, 0);
	atomic_store(&p->exit_status, -1);
	atomic_store(&p->nwords, 0);
	memset(p->words, 0, sizeof(p->words));
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
	} else if (offset == SB_EVENT_WORDS_OFF) {
		/* Hostile bytes for a terminal: printable ASCII only, a bounded
		 * count. Each vCPU takes its own slot. */
		unsigned i = atomic_fetch_add(&p->nwords, 1);
		if (i < SB_EVENT_WORDS_MAX)
			p->words[i] = data[0] >= 0x20 && data[0] < 0x7f ? (char)data[0] : '?';
		else
			atomic_store(&p->nwords, SB_EVENT_WORDS_MAX); /* never wraps */
	}
}

const char *event_port_words(const struct event_port *p)
{
	return p->words;    /* zeroed at init; its last byte is never written */
}
