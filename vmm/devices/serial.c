#include "serial.h"

#include <errno.h>
#include <linux/serial_reg.h>
#include <poll.h>
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

/* How long one wait for room on the output lasts; the end flag is looked
 * at between waits. */
#define WAIT_SLICE_MS 100

static bool ending(const struct serial *u)
{
	return u->ending && atomic_load(u->ending);
}

/* Console output must not keep a vCPU (or the main thread's last flush)
 * stuck once the VM is asked to end, whatever the reader does:
 * - a reader that went away: SIGPIPE is ignored by the VMM (vmm_main), so
 *   write fails with EPIPE, and output is dropped from then on;
 * - a reader that stops reading fills the pipe: output waits for room
 *   (back-pressure, nothing is lost while the VM runs) in poll() slices of
 *   WAIT_SLICE_MS, looking at the VM's end flag between them; once it is
 *   set, one more slice, then the rest is dropped. We write only when the
 *   fd is writable, and then a write of at most sizeof(buf) < PIPE_BUF
 *   bytes to a pipe or socket with room does not block. A write() blocked
 *   anyway (a terminal held by ^S) is interrupted by the vCPU kick
 *   (SIG_KICK has no SA_RESTART) and, the VM ending, dropped. Waiting in
 *   write() alone was not enough: a kick landing just before the write is
 *   lost, and the EINTR retry there kept the vCPU stuck for good. */
static void flush_locked(struct serial *u)
{
	uint8_t *p = u->buf;
	unsigned n = u->nbuf;
	u->nbuf = 0;
	bool last_slice = false;
	while (n && u->out_fd >= 0) {
		struct pollfd pf = { .fd = u->out_fd, .events = POLLOUT };
		int r = poll(&pf, 1, WAIT_SLICE_MS);
		if (r < 0 && errno != EINTR) {
			u->out_fd = -1;
			return;
		}
		if (r <= 0 || !(pf.revents & (POLLOUT | POLLERR | POLLHUP | POLLNVAL))) {
			if (last_slice)
				return; /* the VM is ending and the reader takes nothing */
			last_slice = ending(u);
			continue;
		}
		ssize_t w = write(u->out_fd, p, n);
		if (w < 0 && (errno == EINTR || errno == EAGAIN)) {
			if (ending(u))
				return;
			continue;
		}
		if (w <= 0) {
			u->out_fd = -1; /* the host side is closed: drop output from now on */
			return;
		}
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
