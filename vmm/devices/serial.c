#include "serial.h"

#include <errno.h>
#include <linux/serial_reg.h>
#include <string.h>
#include <unistd.h>

void serial_init(struct serial *u, int out_fd, void (*irq)(void *, int), void *irq_ctx)
{
	memset(u, 0, sizeof(*u));
	pthread_mutex_init(&u->lock, NULL);
	u->out_fd = out_fd;
	u->irq = irq;
	u->irq_ctx = irq_ctx;
	u->s.lsr = UART_LSR_TEMT | UART_LSR_THRE;
	u->s.msr = UART_MSR_DCD | UART_MSR_DSR | UART_MSR_CTS;
	u->s.mcr = UART_MCR_OUT2;
	u->s.dll = 12; /* 9600 baud */
}

static void flush_locked(struct serial *u)
{
	uint8_t *p = u->buf;
	unsigned n = u->nbuf;
	u->nbuf = 0;
	if (u->out_fd < 0)
		return;
	while (n) {
		ssize_t w = write(u->out_fd, p, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return; /* host side closed: drop output, never block the guest */
		p += w;
		n -= (unsigned)w;
	}
}

void serial_flush(struct serial *u)
{
	pthread_mutex_lock(&u->lock);
	flush_locked(u);
	pthread_mutex_unlock(&u->lock);
}

static void update_irq(struct serial *u)
{
	bool level = u->s.thri_pending && (u->s.ier & UART_IER_THRI);
	if (level != u->s.irq_level) {
		u->s.irq_level = level;
		if (u->irq)
			u->irq(u->irq_ctx, level);
	}
}

static uint8_t iir(struct serial *u)
{
	uint8_t fifo = (u->s.fcr & UART_FCR_ENABLE_FIFO) ? 0xc0 : 0;
	if (u->s.thri_pending && (u->s.ier & UART_IER_THRI))
		return fifo | UART_IIR_THRI;
	return fifo | UART_IIR_NO_INT;
}

static void write_reg(struct serial *u, unsigned reg, uint8_t v)
{
	bool dlab = u->s.lcr & UART_LCR_DLAB;
	switch (reg) {
	case UART_TX:
		if (dlab) {
			u->s.dll = v;
			break;
		}
		if (u->s.mcr & UART_MCR_LOOP)
			break; /* loopback data would go to the receiver, which we lack */
		u->buf[u->nbuf++] = v;
		if (v == '\n' || u->nbuf == sizeof(u->buf))
			flush_locked(u);
		/* The byte left at once: the transmitter is empty again. */
		u->s.thri_pending = true;
		break;
	case UART_IER:
		if (dlab) {
			u->s.dlm = v;
			break;
		}
		/* Enabling THRI while the THR is empty raises the interrupt. */
		if ((v & UART_IER_THRI) && !(u->s.ier & UART_IER_THRI))
			u->s.thri_pending = true;
		u->s.ier = v & 0x0f;
		break;
	case UART_FCR:
		u->s.fcr = v & (UART_FCR_ENABLE_FIFO | 0xc0);
		break;
	case UART_LCR:
		u->s.lcr = v;
		break;
	case UART_MCR:
		u->s.mcr = v & 0x1f;
		break;
	case UART_SCR:
		u->s.scr = v;
		break;
	default:
		break; /* LSR and MSR are read-only */
	}
}

static uint8_t read_reg(struct serial *u, unsigned reg)
{
	bool dlab = u->s.lcr & UART_LCR_DLAB;
	switch (reg) {
	case UART_RX:
		return dlab ? u->s.dll : 0;
	case UART_IER:
		return dlab ? u->s.dlm : u->s.ier;
	case UART_IIR: {
		uint8_t v = iir(u);
		if ((v & 0x0f) == UART_IIR_THRI)
			u->s.thri_pending = false; /* reading IIR clears THRE */
		return v;
	}
	case UART_LCR:
		return u->s.lcr;
	case UART_MCR:
		return u->s.mcr;
	case UART_LSR:
		return u->s.lsr;
	case UART_MSR:
		if (u->s.mcr & UART_MCR_LOOP) {
			/* Loopback: modem outputs appear on the inputs. */
			uint8_t m = u->s.mcr;
			return (uint8_t)(((m & UART_MCR_RTS) ? UART_MSR_CTS : 0) |
					 ((m & UART_MCR_DTR) ? UART_MSR_DSR : 0) |
					 ((m & UART_MCR_OUT1) ? UART_MSR_RI : 0) |
					 ((m & UART_MCR_OUT2) ? UART_MSR_DCD : 0));
		}
		return u->s.msr;
	case UART_SCR:
		return u->s.scr;
	}
	return 0xff;
}

void serial_io(void *dev, uint64_t offset, uint8_t *data, uint32_t len, bool is_write)
{
	struct serial *u = dev;
	if (len != 1 || offset > 7) {
		if (!is_write)
			memset(data, 0xff, len);
		return;
	}
	pthread_mutex_lock(&u->lock);
	if (is_write)
		write_reg(u, (unsigned)offset, data[0]);
	else
		data[0] = read_reg(u, (unsigned)offset);
	update_irq(u);
	pthread_mutex_unlock(&u->lock);
}
