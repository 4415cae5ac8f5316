/* Unit tests for the emulated devices and the I/O bus: the 8250 UART,
 * the i8042 / port 0xcf9 reset, the guest event port and bus dispatch. */
#include "unit.h"

#include <fcntl.h>
#include <signal.h>
#include <linux/serial_reg.h>

#include "../../common/abi.h"
#include "../../vmm/bus.h"
#include "../../vmm/devices/event_port.h"
#include "../../vmm/devices/i8042.h"
#include "../../vmm/devices/serial.h"

/* ------------------------------------------------------------------ */
/* serial */

struct irq_log {
	int calls;
	int level;
};

static void irq_cb(void *ctx, int level)
{
	struct irq_log *l = ctx;
	l->calls++;
	l->level = level;
}

struct uart_fixture {
	struct serial u;
	struct irq_log irq;
	int rd, wr; /* pipe: the UART writes to wr */
};

static void uart_setup(struct uart_fixture *f)
{
	memset(f, 0, sizeof(*f));
	int p[2];
	assert_int_equal(pipe2(p, O_NONBLOCK | O_CLOEXEC), 0);
	f->rd = p[0];
	f->wr = p[1];
	serial_init(&f->u, f->wr, irq_cb, &f->irq);
}

static void uart_teardown(struct uart_fixture *f)
{
	close(f->rd);
	close(f->wr);
	pthread_mutex_destroy(&f->u.lock);
}

static void uart_out(struct uart_fixture *f, unsigned reg, uint8_t v)
{
	serial_io(&f->u, reg, &v, 1, true);
}

static uint8_t uart_in(struct uart_fixture *f, unsigned reg)
{
	uint8_t v = 0x5a;
	serial_io(&f->u, reg, &v, 1, false);
	return v;
}

/* What the UART has written to the pipe so far (NUL-terminated). */
static size_t drain(struct uart_fixture *f, char *buf, size_t size)
{
	ssize_t n = read(f->rd, buf, size - 1);
	if (n < 0)
		n = 0;
	buf[n] = '\0';
	return (size_t)n;
}

static void test_serial_output_flushed_per_line(void **state)
{
	(void)state;
	struct uart_fixture f;
	uart_setup(&f);
	char buf[512];
	uart_out(&f, UART_TX, 'o');
	uart_out(&f, UART_TX, 'k');
	assert_int_equal(drain(&f, buf, sizeof(buf)), 0); /* buffered until the newline */
	uart_out(&f, UART_TX, '\n');
	assert_int_equal(drain(&f, buf, sizeof(buf)), 3);
	assert_string_equal(buf, "ok\n");
	/* serial_flush() pushes out a partial line. */
	uart_out(&f, UART_TX, '$');
	assert_int_equal(drain(&f, buf, sizeof(buf)), 0);
	serial_flush(&f.u);
	assert_string_equal(buf, "");
	assert_int_equal(drain(&f, buf, sizeof(buf)), 1);
	assert_string_equal(buf, "$");
	/* A long line is flushed when the buffer fills, nothing lost. */
	for (unsigned i = 0; i < 300; i++)
		uart_out(&f, UART_TX, (uint8_t)('a' + i % 26));
	size_t n = drain(&f, buf, sizeof(buf));
	assert_int_equal(n, sizeof(f.u.buf));
	serial_flush(&f.u);
	n += drain(&f, buf + n, sizeof(buf) - n);
	assert_int_equal(n, 300);
	for (unsigned i = 0; i < 300; i++)
		assert_int_equal(buf[i], 'a' + i % 26);
	uart_teardown(&f);
}

static void test_serial_output_dropped_without_fd(void **state)
{
	(void)state;
	struct serial u;
	serial_init(&u, -1, NULL, NULL); /* no fd, no irq callback */
	uint8_t v = 1;
	serial_io(&u, UART_IER, &v, 1, true); /* raises THRI with no callback */
	for (unsigned i = 0; i < 1000; i++) {
		v = (i % 50 == 0) ? '\n' : 'x';
		serial_io(&u, UART_TX, &v, 1, true);
	}
	serial_flush(&u);
	assert_int_equal(u.nbuf, 0);
	/* A closed reader: the write fails, the guest must not hang. */
	int p[2];
	assert_int_equal(pipe(p), 0);
	close(p[0]);
	serial_init(&u, p[1], NULL, NULL);
	v = '\n';
	serial_io(&u, UART_TX, &v, 1, true); /* EPIPE: SIGPIPE is ignored in main() */
	assert_int_equal(u.nbuf, 0);
	close(p[1]);
}

static void test_serial_thri_interrupt(void **state)
{
	(void)state;
	struct uart_fixture f;
	uart_setup(&f);
	/* Nothing pending after reset. */
	assert_int_equal(uart_in(&f, UART_IIR), UART_IIR_NO_INT);
	assert_int_equal(f.irq.calls, 0);
	/* Enabling THRI with an empty transmitter raises the line. */
	uart_out(&f, UART_IER, UART_IER_THRI);
	assert_int_equal(f.irq.calls, 1);
	assert_int_equal(f.irq.level, 1);
	assert_int_equal(uart_in(&f, UART_IER), UART_IER_THRI);
	/* Reading IIR reports THRI once and lowers the line. */
	assert_int_equal(uart_in(&f, UART_IIR), UART_IIR_THRI);
	assert_int_equal(f.irq.calls, 2);
	assert_int_equal(f.irq.level, 0);
	assert_int_equal(uart_in(&f, UART_IIR), UART_IIR_NO_INT);
	assert_int_equal(f.irq.calls, 2);
	/* Each transmitted byte raises it again. */
	uart_out(&f, UART_TX, 'x');
	assert_int_equal(f.irq.level, 1);
	assert_int_equal(f.irq.calls, 3);
	uart_out(&f, UART_TX, 'y'); /* already high: no new edge */
	assert_int_equal(f.irq.calls, 3);
	assert_int_equal(uart_in(&f, UART_IIR), UART_IIR_THRI);
	assert_int_equal(f.irq.level, 0);
	/* With the FIFO enabled IIR has bits 7:6 set. */
	uart_out(&f, UART_FCR, UART_FCR_ENABLE_FIFO);
	assert_int_equal(uart_in(&f, UART_IIR), 0xc0 | UART_IIR_NO_INT);
	uart_out(&f, UART_TX, 'z');
	assert_int_equal(uart_in(&f, UART_IIR), 0xc0 | UART_IIR_THRI);
	/* Disabling THRI lowers a pending interrupt without a read. */
	uart_out(&f, UART_TX, '\n');
	assert_int_equal(f.irq.level, 1);
	uart_out(&f, UART_IER, 0);
	assert_int_equal(f.irq.level, 0);
	assert_int_equal(uart_in(&f, UART_IIR) & 0x0f, UART_IIR_NO_INT);
	/* Writes without THRI enabled never raise the line. */
	int calls = f.irq.calls;
	uart_out(&f, UART_TX, 'q');
	assert_int_equal(f.irq.calls, calls);
	uart_teardown(&f);
}

static void test_serial_scratch(void **state)
{
	(void)state;
	struct uart_fixture f;
	uart_setup(&f);
	static const uint8_t vals[] = { 0x00, 0x55, 0xaa, 0xff, 0x42 };
	for (size_t i = 0; i < ARRAY_SIZE(vals); i++) {
		uart_out(&f, UART_SCR, vals[i]);
		assert_int_equal(uart_in(&f, UART_SCR), vals[i]);
	}
	/* Scratch is independent of DLAB. */
	uart_out(&f, UART_LCR, UART_LCR_DLAB);
	assert_int_equal(uart_in(&f, UART_SCR), 0x42);
	uart_teardown(&f);
}

static void test_serial_divisor_latch(void **state)
{
	(void)state;
	struct uart_fixture f;
	uart_setup(&f);
	char buf[64];
	uart_out(&f, UART_IER, UART_IER_RDI);
	/* Reset divisor: 12 (9600 baud). */
	uart_out(&f, UART_LCR, UART_LCR_DLAB | UART_LCR_WLEN8);
	assert_int_equal(uart_in(&f, UART_LCR), UART_LCR_DLAB | UART_LCR_WLEN8);
	assert_int_equal(uart_in(&f, UART_DLL), 12);
	assert_int_equal(uart_in(&f, UART_DLM), 0);
	/* 115200 baud: divisor 1; and a high byte. The '\n' is a divisor
	 * value here, not output. */
	uart_out(&f, UART_DLL, '\n');
	uart_out(&f, UART_DLM, 0x03);
	assert_int_equal(uart_in(&f, UART_DLL), '\n');
	assert_int_equal(uart_in(&f, UART_DLM), 0x03);
	assert_int_equal(drain(&f, buf, sizeof(buf)), 0);
	assert_int_equal(f.u.nbuf, 0);
	uart_out(&f, UART_DLL, 1);
	/* DLAB off: offsets 0 and 1 are the data and IER again, untouched
	 * by the divisor writes. */
	uart_out(&f, UART_LCR, UART_LCR_WLEN8);
	assert_int_equal(uart_in(&f, UART_IER), UART_IER_RDI);
	assert_int_equal(uart_in(&f, UART_RX), 0);
	uart_out(&f, UART_TX, 'A');
	uart_out(&f, UART_TX, '\n');
	assert_int_equal(drain(&f, buf, sizeof(buf)), 2);
	assert_string_equal(buf, "A\n");
	/* And the latch kept its value. */
	uart_out(&f, UART_LCR, UART_LCR_DLAB);
	assert_int_equal(uart_in(&f, UART_DLL), 1);
	assert_int_equal(uart_in(&f, UART_DLM), 0x03);
	uart_teardown(&f);
}

static void test_serial_status_registers(void **state)
{
	(void)state;
	struct uart_fixture f;
	uart_setup(&f);
	uint8_t lsr = uart_in(&f, UART_LSR);
	assert_int_equal(lsr & (UART_LSR_THRE | UART_LSR_TEMT), UART_LSR_THRE | UART_LSR_TEMT);
	assert_int_equal(lsr & UART_LSR_DR, 0); /* nothing to receive */
	/* Still empty after transmitting (the byte leaves at once). */
	uart_out(&f, UART_TX, 'x');
	lsr = uart_in(&f, UART_LSR);
	assert_int_equal(lsr & (UART_LSR_THRE | UART_LSR_TEMT), UART_LSR_THRE | UART_LSR_TEMT);
	/* LSR and MSR are read-only. */
	uart_out(&f, UART_LSR, 0);
	assert_int_equal(uart_in(&f, UART_LSR), lsr);
	uint8_t msr = uart_in(&f, UART_MSR);
	assert_true(msr & UART_MSR_CTS);
	assert_true(msr & UART_MSR_DSR);
	uart_out(&f, UART_MSR, 0);
	assert_int_equal(uart_in(&f, UART_MSR), msr);
	/* Loopback: MCR outputs show up on MSR, transmitted bytes do not
	 * reach the host. */
	uart_out(&f, UART_MCR, UART_MCR_LOOP | UART_MCR_RTS);
	assert_int_equal(uart_in(&f, UART_MSR), UART_MSR_CTS);
	uart_out(&f, UART_MCR, UART_MCR_LOOP | UART_MCR_DTR | UART_MCR_OUT2);
	assert_int_equal(uart_in(&f, UART_MSR), UART_MSR_DSR | UART_MSR_DCD);
	uart_out(&f, UART_TX, '\n');
	char buf[16];
	assert_int_equal(drain(&f, buf, sizeof(buf)), 0);
	uart_teardown(&f);
}

static void test_serial_bad_accesses(void **state)
{
	(void)state;
	struct uart_fixture f;
	uart_setup(&f);
	uart_out(&f, UART_SCR, 0x37);
	uint8_t d[8];
	/* Offsets beyond the 8 registers. */
	memset(d, 0, sizeof(d));
	serial_io(&f.u, 8, d, 1, false);
	assert_int_equal(d[0], 0xff);
	memset(d, 0, sizeof(d));
	serial_io(&f.u, UINT64_MAX, d, 1, false);
	assert_int_equal(d[0], 0xff);
	/* Wider than a byte: all ones, for every byte. */
	memset(d, 0, sizeof(d));
	serial_io(&f.u, UART_SCR, d, 2, false);
	assert_true(all_bytes(d, 2, 0xff));
	memset(d, 0, sizeof(d));
	serial_io(&f.u, 0, d, 8, false);
	assert_true(all_bytes(d, 8, 0xff));
	/* Such writes change nothing and send nothing. */
	memset(d, '\n', sizeof(d));
	serial_io(&f.u, UART_TX, d, 4, true);
	serial_io(&f.u, UART_SCR, d, 2, true);
	serial_io(&f.u, 100, d, 1, true);
	serial_io(&f.u, UART_SCR, d, 0, true);
	assert_int_equal(uart_in(&f, UART_SCR), 0x37);
	char buf[16];
	assert_int_equal(drain(&f, buf, sizeof(buf)), 0);
	assert_int_equal(f.u.nbuf, 0);
	assert_int_equal(f.irq.calls, 0);
	uart_teardown(&f);
}

/* ------------------------------------------------------------------ */
/* i8042 and port 0xcf9 */

static void reset_cb(void *ctx) { (*(int *)ctx)++; }

static void test_i8042_reset(void **state)
{
	(void)state;
	int resets = 0;
	struct i8042 k;
	i8042_init(&k, reset_cb, &resets);
	uint8_t v;
	/* Other commands on 0x64, and 0xfe on the data port: nothing. */
	static const uint8_t others[] = { 0x00, 0x20, 0x60, 0xaa, 0xad, 0xd1, 0xfd, 0xff };
	for (size_t i = 0; i < ARRAY_SIZE(others); i++) {
		v = others[i];
		i8042_io(&k, 4, &v, 1, true);
	}
	v = I8042_CMD_RESET;
	i8042_io(&k, 0, &v, 1, true);
	uint8_t wide[2] = { I8042_CMD_RESET, 0 };
	i8042_io(&k, 4, wide, 2, true);
	assert_int_equal(resets, 0);
	/* Reads: controller idle, buffers empty; never a reset. */
	uint8_t r[2] = { 0xaa, 0xaa };
	i8042_io(&k, 4, r, 1, false);
	assert_int_equal(r[0], 0);
	i8042_io(&k, 0, r, 2, false);
	assert_true(all_bytes(r, 2, 0));
	assert_int_equal(resets, 0);
	/* The pulse-reset command. */
	v = I8042_CMD_RESET;
	i8042_io(&k, 4, &v, 1, true);
	assert_int_equal(resets, 1);
	i8042_io(&k, 4, &v, 1, true);
	assert_int_equal(resets, 2);
	/* Without a callback: no crash. */
	i8042_init(&k, NULL, NULL);
	i8042_io(&k, 4, &v, 1, true);
}

static void test_cf9_reset(void **state)
{
	(void)state;
	int resets = 0;
	struct i8042 k;
	i8042_init(&k, reset_cb, &resets);
	uint8_t v = 0x02; /* select hard reset, but not start it */
	reset_cf9_io(&k, 0, &v, 1, true);
	assert_int_equal(resets, 0);
	v = 0;
	reset_cf9_io(&k, 0, &v, 1, false);
	assert_int_equal(resets, 0);
	v = 0x06;
	reset_cf9_io(&k, 0, &v, 1, true);
	assert_int_equal(resets, 1);
	v = 0x04;
	reset_cf9_io(&k, 0, &v, 1, true);
	assert_int_equal(resets, 2);
	uint8_t wide[4] = { 0x06, 0x06, 0x06, 0x06 };
	reset_cf9_io(&k, 0, wide, 4, true);
	assert_int_equal(resets, 2);
}

/* ------------------------------------------------------------------ */
/* event port */

struct fake_clock {
	uint64_t next;
	int calls;
};

static uint64_t clock_cb(void *ctx)
{
	struct fake_clock *c = ctx;
	c->calls++;
	uint64_t t = c->next;
	c->next += 1000;
	return t;
}

static void test_event_port_init_reached_once(void **state)
{
	(void)state;
	struct fake_clock clk = { .next = 5000 };
	struct event_port p;
	event_port_init(&p, clock_cb, &clk);
	assert_int_equal(atomic_load(&p.init_reached_ns), 0);
	assert_int_equal(atomic_load(&p.exit_status), -1);
	/* Other events, or the event on the wrong offset or width: ignored. */
	uint8_t v = SB_EVENT_INIT_REACHED - 1;
	event_port_io(&p, 0, &v, 1, true);
	uint8_t w[2] = { SB_EVENT_INIT_REACHED, 0 };
	event_port_io(&p, 0, w, 2, true);
	assert_int_equal(atomic_load(&p.init_reached_ns), 0);
	/* The first one records the time... */
	v = SB_EVENT_INIT_REACHED;
	event_port_io(&p, 0, &v, 1, true);
	assert_int_equal(atomic_load(&p.init_reached_ns), 5000);
	/* ...and later ones do not move it. */
	event_port_io(&p, 0, &v, 1, true);
	event_port_io(&p, 0, &v, 1, true);
	assert_int_equal(atomic_load(&p.init_reached_ns), 5000);
	assert_int_equal(atomic_load(&p.exit_status), -1);
	/* Reads return zeros. */
	uint8_t r[2] = { 0xff, 0xff };
	event_port_io(&p, 0, r, 2, false);
	assert_true(all_bytes(r, 2, 0));
}

static void test_event_port_zero_clock(void **state)
{
	(void)state;
	/* A clock reading of 0 must still count as "reached". */
	struct fake_clock clk = { .next = 0 };
	struct event_port p;
	event_port_init(&p, clock_cb, &clk);
	uint8_t v = SB_EVENT_INIT_REACHED;
	event_port_io(&p, 0, &v, 1, true);
	assert_int_not_equal(atomic_load(&p.init_reached_ns), 0);
	uint64_t first = atomic_load(&p.init_reached_ns);
	event_port_io(&p, 0, &v, 1, true);
	assert_int_equal(atomic_load(&p.init_reached_ns), first);
}

/* The guest's last words: printable bytes kept in order, others shown
 * as '?', at most SB_EVENT_WORDS_MAX of them however many come; a wider
 * write is ignored; nothing said is "". */
static void test_event_port_words(void **state)
{
	(void)state;
	struct fake_clock clk = { .next = 1 };
	struct event_port p;
	event_port_init(&p, clock_cb, &clk);
	assert_string_equal(event_port_words(&p), "");
	const char *msg = "connect: Connection timed out";
	for (const char *c = msg; *c; c++) {
		uint8_t b = (uint8_t)*c;
		event_port_io(&p, SB_EVENT_WORDS_OFF, &b, 1, true);
	}
	assert_string_equal(event_port_words(&p), msg);
	uint8_t bad[] = { '\n', 0x1b, 0x7f, 0xff, 0 };
	for (size_t i = 0; i < sizeof(bad); i++)
		event_port_io(&p, SB_EVENT_WORDS_OFF, &bad[i], 1, true);
	uint8_t two[2] = { 'x', 'y' };
	event_port_io(&p, SB_EVENT_WORDS_OFF, two, 2, true);
	char want[128];
	snprintf(want, sizeof(want), "%s?????", msg);
	assert_string_equal(event_port_words(&p), want);
	/* A guest that goes on and on: bounded, and the count never wraps. */
	for (unsigned i = 0; i < 3 * SB_EVENT_WORDS_MAX; i++) {
		uint8_t b = 'z';
		event_port_io(&p, SB_EVENT_WORDS_OFF, &b, 1, true);
	}
	const char *w = event_port_words(&p);
	assert_int_equal(strlen(w), SB_EVENT_WORDS_MAX);
	assert_memory_equal(w, want, strlen(want));
	assert_int_equal(w[SB_EVENT_WORDS_MAX - 1], 'z');
	assert_int_equal(atomic_load(&p.exit_status), -1);
	assert_int_equal(atomic_load(&p.init_reached_ns), 0);
}

static void test_event_port_exit_status(void **state)
{
	(void)state;
	struct fake_clock clk = { .next = 1 };
	struct event_port p;
	event_port_init(&p, clock_cb, &clk);
	uint8_t v = 42;
	event_port_io(&p, SB_EVENT_EXIT_STATUS_OFF, &v, 1, true);
	assert_int_equal(atomic_load(&p.exit_status), 42);
	assert_int_equal(atomic_load(&p.init_reached_ns), 0); /* not an event */
	/* The last status wins; the full byte range. */
	v = 0;
	event_port_io(&p, SB_EVENT_EXIT_STATUS_OFF, &v, 1, true);
	assert_int_equal(atomic_load(&p.exit_status), 0);
	v = 255;
	event_port_io(&p, SB_EVENT_EXIT_STATUS_OFF, &v, 1, true);
	assert_int_equal(atomic_load(&p.exit_status), 255);
	/* 123 on the status offset is a status, not the init event. */
	v = SB_EVENT_INIT_REACHED;
	event_port_io(&p, SB_EVENT_EXIT_STATUS_OFF, &v, 1, true);
	assert_int_equal(atomic_load(&p.exit_status), SB_EVENT_INIT_REACHED);
	assert_int_equal(atomic_load(&p.init_reached_ns), 0);
	/* A wide write is ignored. */
	uint8_t w[2] = { 7, 7 };
	event_port_io(&p, SB_EVENT_EXIT_STATUS_OFF, w, 2, true);
	assert_int_equal(atomic_load(&p.exit_status), SB_EVENT_INIT_REACHED);
}

/* ------------------------------------------------------------------ */
/* bus */

struct fake_dev {
	int calls;
	uint64_t offset;
	uint32_t len;
	bool is_write;
	uint8_t written[8];
};

/* Records the access; reads return 0x10, 0x11, ... */
static void fake_io(void *dev, uint64_t offset, uint8_t *data, uint32_t len, bool is_write)
{
	struct fake_dev *d = dev;
	d->calls++;
	d->offset = offset;
	d->len = len;
	d->is_write = is_write;
	assert_true(len >= 1 && len <= 8);
	if (is_write)
		memcpy(d->written, data, len);
	else
		for (uint32_t i = 0; i < len; i++)
			data[i] = (uint8_t)(0x10 + i);
}

static void test_bus_register(void **state)
{
	(void)state;
	struct bus b;
	memset(&b, 0, sizeof(b));
	struct fake_dev a, c;
	struct err e = { 0 };
	assert_int_equal(bus_register(&b, 0x3f8, 8, fake_io, &a, "com1", &e), 0);
	/* Overlaps: the same range, inside, across either edge, around. */
	assert_int_equal(bus_register(&b, 0x3f8, 8, fake_io, &c, "dup", &e), -1);
	assert_err_contains(&e, "dup overlaps com1 at 0x3f8");
	assert_int_equal(bus_register(&b, 0x3fa, 1, fake_io, &c, "x", &e), -1);
	assert_int_equal(bus_register(&b, 0x3f0, 9, fake_io, &c, "x", &e), -1);
	assert_int_equal(bus_register(&b, 0x3ff, 4, fake_io, &c, "x", &e), -1);
	assert_int_equal(bus_register(&b, 0x300, 0x200, fake_io, &c, "x", &e), -1);
	/* Adjacent on both sides is fine. */
	assert_int_equal(bus_register(&b, 0x3f0, 8, fake_io, &c, "below", &e), 0);
	assert_int_equal(bus_register(&b, 0x400, 2, fake_io, &c, "above", &e), 0);
	/* Empty and wrapping ranges. */
	assert_int_equal(bus_register(&b, 0x1000, 0, fake_io, &c, "empty", &e), -1);
	assert_err_contains(&e, "bad range");
	assert_int_equal(bus_register(&b, UINT64_MAX, 2, fake_io, &c, "wrap", &e), -1);
	/* A range that wraps must not slip past the overlap check either. */
	assert_int_equal(bus_register(&b, UINT64_MAX - 1, 0x500, fake_io, &c, "wrap2", &e), -1);
	assert_int_equal(b.n, 3);
	/* Full table. */
	while (b.n < BUS_MAX_RANGES)
		assert_int_equal(bus_register(&b, 0x10000 + b.n * 16ULL, 16, fake_io, &c, "fill", &e), 0);
	assert_int_equal(bus_register(&b, 0x90000, 1, fake_io, &c, "one more", &e), -1);
	assert_err_contains(&e, "too many devices");
	assert_int_equal(b.n, BUS_MAX_RANGES);
}

static void test_bus_dispatch(void **state)
{
	(void)state;
	struct bus b;
	memset(&b, 0, sizeof(b));
	struct fake_dev d1, d2;
	memset(&d1, 0, sizeof(d1));
	memset(&d2, 0, sizeof(d2));
	struct err e;
	assert_int_equal(bus_register(&b, 0x60, 1, fake_io, &d1, "kbd-data", &e), 0);
	assert_int_equal(bus_register(&b, 0xd0000000, 0x1000, fake_io, &d2, "virtio", &e), 0);

	/* A read inside d2, at the right offset and width. */
	uint8_t buf[8] = { 0 };
	assert_true(bus_dispatch(&b, 0xd0000070, buf, 4, false));
	assert_int_equal(d2.calls, 1);
	assert_int_equal(d2.offset, 0x70);
	assert_int_equal(d2.len, 4);
	assert_false(d2.is_write);
	assert_memory_equal(buf, "\x10\x11\x12\x13", 4);
	assert_int_equal(d1.calls, 0);
	/* A write to d1. */
	buf[0] = 0xab;
	assert_true(bus_dispatch(&b, 0x60, buf, 1, true));
	assert_int_equal(d1.calls, 1);
	assert_int_equal(d1.offset, 0);
	assert_true(d1.is_write);
	assert_int_equal(d1.written[0], 0xab);
	/* The last byte of d2. */
	assert_true(bus_dispatch(&b, 0xd0000fff, buf, 1, false));
	assert_int_equal(d2.offset, 0xfff);

	/* Unclaimed: reads are all ones, writes dropped, nobody called. */
	int c1 = d1.calls, c2 = d2.calls;
	memset(buf, 0, sizeof(buf));
	assert_false(bus_dispatch(&b, 0x61, buf, 4, false));
	assert_true(all_bytes(buf, 4, 0xff));
	assert_int_equal(buf[4], 0);
	memset(buf, 0, sizeof(buf));
	assert_false(bus_dispatch(&b, 0xd0001000, buf, 8, false));
	assert_true(all_bytes(buf, 8, 0xff));
	assert_false(bus_dispatch(&b, 0x5f, buf, 1, true));
	assert_false(bus_dispatch(&b, 0, buf, 1, false));
	assert_int_equal(d1.calls, c1);
	assert_int_equal(d2.calls, c2);
}

static void test_bus_clipped_access(void **state)
{
	(void)state;
	struct bus b;
	memset(&b, 0, sizeof(b));
	struct fake_dev d;
	memset(&d, 0, sizeof(d));
	struct err e;
	assert_int_equal(bus_register(&b, 0x1000, 4, fake_io, &d, "dev", &e), 0);
	/* A 4-byte read at offset 2: the device sees 2 bytes, the rest of
	 * the access reads as all ones. */
	uint8_t buf[8];
	memset(buf, 0, sizeof(buf));
	assert_true(bus_dispatch(&b, 0x1002, buf, 4, false));
	assert_int_equal(d.offset, 2);
	assert_int_equal(d.len, 2);
	assert_memory_equal(buf, "\x10\x11\xff\xff", 4);
	assert_int_equal(buf[4], 0);
	/* An 8-byte read at the last byte. */
	memset(buf, 0, sizeof(buf));
	assert_true(bus_dispatch(&b, 0x1003, buf, 8, false));
	assert_int_equal(d.offset, 3);
	assert_int_equal(d.len, 1);
	assert_int_equal(buf[0], 0x10);
	assert_true(all_bytes(buf + 1, 7, 0xff));
	/* A clipped write: only the bytes inside the range reach it. */
	memcpy(buf, "ABCDEFGH", 8);
	memset(d.written, 0, sizeof(d.written));
	assert_true(bus_dispatch(&b, 0x1001, buf, 8, true));
	assert_int_equal(d.offset, 1);
	assert_int_equal(d.len, 3);
	assert_memory_equal(d.written, "ABC\0", 4);
	assert_memory_equal(buf, "ABCDEFGH", 8); /* the caller's data untouched */
}

static void test_bus_serial_end_to_end(void **state)
{
	(void)state;
	/* The UART behind the bus at COM1, as the VMM wires it. */
	struct uart_fixture f;
	uart_setup(&f);
	struct bus b;
	memset(&b, 0, sizeof(b));
	struct err e;
	assert_int_equal(bus_register(&b, 0x3f8, 8, serial_io, &f.u, "com1", &e), 0);
	const char *s = "boot\n";
	for (const char *c = s; *c; c++) {
		uint8_t v = (uint8_t)*c;
		assert_true(bus_dispatch(&b, 0x3f8, &v, 1, true));
	}
	char buf[16];
	assert_int_equal(drain(&f, buf, sizeof(buf)), 5);
	assert_string_equal(buf, "boot\n");
	uint8_t v = 0;
	assert_true(bus_dispatch(&b, 0x3f8 + UART_LSR, &v, 1, false));
	assert_int_equal(v & UART_LSR_THRE, UART_LSR_THRE);
	uart_teardown(&f);
}

int main(void)
{
	/* The closed-pipe test must see EPIPE, not die of SIGPIPE. */
	signal(SIGPIPE, SIG_IGN);
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_serial_output_flushed_per_line),
		cmocka_unit_test(test_serial_output_dropped_without_fd),
		cmocka_unit_test(test_serial_thri_interrupt),
		cmocka_unit_test(test_serial_scratch),
		cmocka_unit_test(test_serial_divisor_latch),
		cmocka_unit_test(test_serial_status_registers),
		cmocka_unit_test(test_serial_bad_accesses),
		cmocka_unit_test(test_i8042_reset),
		cmocka_unit_test(test_cf9_reset),
		cmocka_unit_test(test_event_port_init_reached_once),
		cmocka_unit_test(test_event_port_zero_clock),
		cmocka_unit_test(test_event_port_exit_status),
		cmocka_unit_test(test_event_port_words),
		cmocka_unit_test(test_bus_register),
		cmocka_unit_test(test_bus_dispatch),
		cmocka_unit_test(test_bus_clipped_access),
		cmocka_unit_test(test_bus_serial_end_to_end),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
