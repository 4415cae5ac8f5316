/* A 16550A UART at COM1, enough for Linux's 8250 driver and early printk:
 * transmit (to a host fd, or dropped), the THR-empty interrupt, FIFO
 * detection, scratch and divisor registers. Receive is not wired yet. */
#ifndef SANDBOX_SERIAL_H
#define SANDBOX_SERIAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

/* Guest-visible register state: plain data, so it can be saved. */
struct serial_state {
	uint8_t ier, lcr, mcr, lsr, msr, scr, dll, dlm, fcr;
	bool thri_pending;   /* "transmitter empty" interrupt waiting */
	bool irq_level;      /* what we last told the irqchip */
};

struct serial {
	struct serial_state s;
	pthread_mutex_t lock;
	int out_fd;          /* -1: output dropped */
	/* Non-zero once the VM is asked to end (vm->end): output that cannot
	 * go at once is then dropped. NULL: never. */
	const _Atomic int *ending;
	uint8_t buf[256];    /* output is flushed per line or when full */
	unsigned nbuf;
	void (*irq)(void *ctx, int level);
	void *irq_ctx;
};

void serial_init(struct serial *u, int out_fd, void (*irq)(void *, int), void *irq_ctx);
/* The bus handler (see bus.h) for the 8 registers. */
void serial_io(void *dev, uint64_t offset, uint8_t *data, uint32_t len, bool is_write);
void serial_flush(struct serial *u);

#endif
