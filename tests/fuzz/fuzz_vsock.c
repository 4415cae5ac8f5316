/* libFuzzer target: the virtio-vsock device (vsock_dev.c, vsock_conn.c and
 * both backends) driven by a hostile guest and a busy host. Each input is
 * a program run against a fresh device: its Unix muxer listening in a
 * temporary directory (with listeners at PATH_1 and PATH_2 for guest
 * connects), its agent endpoint on SB_AGENT_PORT over a socketpair.
 *
 * Input: one byte of set-up (bit 0: EVENT_IDX), then commands, each an
 * opcode byte (high bit: kick the queue now) and its operands; reading
 * past the end gives zeros:
 *   TX        a packet from header fields the input picks (ports from a
 *             small set or raw, lengths honest or not, any op/type/cid,
 *             credit values), header split or whole, payload after
 *   TX_RAW    a TX chain of raw descriptors (any address, length, flags)
 *   RX        honest RX buffers of a few sizes
 *   RX_RAW    RX chains of raw descriptors
 *   CONNECT   a host process connects to PATH and writes a line
 *   ACCEPT    a host listener at PATH_P takes a guest's connection
 *   WRITE / READ / SHUT   on one of the host ends
 *   PUMP      run the device's socket events and deferred kicks
 *   RESET     the driver resets the device and brings it up again
 *   EVQ       event-queue buffers
 *
 * Checked after every step, besides ASan/UBSan: the device's own
 * bookkeeping (vsock_check_invariants), every RX packet well-formed and
 * within the buffer it was given, no RX buffer completed twice, no data
 * beyond the credit the guest gave a connection, the device goes idle,
 * no file descriptor leaks across inputs.
 *   make fuzz-smoke */
#include <dirent.h>
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_ring.h>
#include <linux/virtio_vsock.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "../../common/proto.h"
#include "../../vmm/devices/vsock_dev.h"
#include "../../vmm/evloop.h"
#include "../../vmm/virtio/mmio.h"

#define MEM 0x60000
#define QSZ 32
#define RING(q) ((uint64_t)(q) * 0x1000)
#define DESC(q) RING(q)
#define AVAIL(q) (RING(q) + 0x400)
#define USED(q) (RING(q) + 0x800)
#define RXBUF(i) (0x10000ULL + (i) * 0x1000ULL)
#define TXHDR(k) (0x30000ULL + (k) * 0x40ULL)
#define TXDATA(k) (0x40000ULL + (k) * 0x1000ULL)
#define EVBUF 0x50000ULL
#define HONEST 24            /* descriptors 0..23 honest, 24..31 raw */
#define HDR ((uint32_t)sizeof(struct virtio_vsock_hdr))
#define CID 3
#define RXQ 0
#define TXQ 1
#define EVQ 2
#define NHOST 8
#define NPAIRS 64
#define MAXSNAP 300

#define check(cond, ...)                                                                \
	do {                                                                            \
		if (!(cond)) {                                                          \
			fprintf(stderr, "fuzz_vsock: " __VA_ARGS__);                     \
			fprintf(stderr, "\n");                                          \
			abort();                                                        \
		}                                                                       \
	} while (0)

static uint8_t *mem;
static struct guest_mem gm;
static struct evloop loop;
static char dir[64], uds[108];
static int listeners[2] = { -1, -1 };  /* PATH_1, PATH_2 */
static int fd_mark;                     /* open fds when the input started */

/* per input */
static struct vsock *vs;
static struct virtio_dev *d;
static int agent_peer;
static int host[NHOST];
static unsigned nhost;
static uint32_t kicked;
static uint16_t avail_idx[3], used_seen[3];
static uint32_t rx_size[QSZ];          /* honest RX buffer posted: its size, else 0 */
static unsigned tx_next;
static bool event_idx;
static struct pair { uint32_t hport, gport, received; } pairs[NPAIRS];
static unsigned npairs;

/* ------------------------------------------------------------------ */
/* input */

static const uint8_t *in;
static size_t in_len, in_pos;

static uint8_t u8(void) { return in_pos < in_len ? in[in_pos++] : 0; }
static uint16_t u16(void) { return (uint16_t)(u8() | u8() << 8); }
static uint32_t u32(void) { return (uint32_t)u16() | (uint32_t)u16() << 16; }
static uint64_t u64(void) { return (uint64_t)u32() | (uint64_t)u32() << 32; }
static size_t bytes(void *dst, size_t n)
{
	size_t have = in_pos < in_len ? in_len - in_pos : 0;
	if (n > have)
		n = have;
	memcpy(dst, in + in_pos, n);
	in_pos += n;
	return n;
}

/* ------------------------------------------------------------------ */
/* credit: what the device may send each connection */

struct snap {
	uint64_t serial;
	uint32_t tx_cnt, credit;
};
static struct snap snaps[MAXSNAP];
static unsigned nsnap;

static void snap_one(void *arg, const struct vsock_conn_info *ci)
{
	(void)arg;
	check(nsnap < MAXSNAP, "more connections than VSOCK_MAX_CONNS");
	uint32_t used = ci->tx_cnt - ci->peer_fwd_cnt;
	snaps[nsnap++] = (struct snap){ ci->serial, ci->tx_cnt,
					used >= ci->peer_buf_alloc ? 0 : ci->peer_buf_alloc - used };
}

static void credit_one(void *arg, const struct vsock_conn_info *ci)
{
	(void)arg;
	for (unsigned i = 0; i < nsnap; i++)
		if (snaps[i].serial == ci->serial) {
			uint32_t sent = ci->tx_cnt - snaps[i].tx_cnt;
			check(sent <= snaps[i].credit, "%u bytes sent to %u:%u with %u bytes of credit", sent,
			      ci->host_port, ci->guest_port, snaps[i].credit);
			return;
		}
	/* New in this step (perhaps on the ports of one that ended in it):
	 * no socket event has been served for it yet. */
	check(ci->tx_cnt == 0, "a new connection already sent %u bytes", ci->tx_cnt);
}

static void before(void)
{
	nsnap = 0;
	vsock_foreach_conn(vs, snap_one, NULL);
}

static struct pair *pair(uint32_t hport, uint32_t gport)
{
	for (unsigned i = 0; i < npairs; i++)
		if (pairs[i].hport == hport && pairs[i].gport == gport)
			return &pairs[i];
	if (npairs == NPAIRS)
		return NULL;
	pairs[npairs] = (struct pair){ hport, gport, 0 };
	return &pairs[npairs++];
}

/* Take every RX packet the device completed and check it. */
static void rx_collect(void)
{
	uint16_t *used = gm_ptr(&gm, USED(RXQ), 4 + 8 * QSZ);
	uint16_t idx = __atomic_load_n(&used[1], __ATOMIC_ACQUIRE);
	check((uint16_t)(idx - used_seen[RXQ]) <= QSZ, "RX used ring ran %u entries ahead",
	      (uint16_t)(idx - used_seen[RXQ]));
	while (used_seen[RXQ] != idx) {
		struct vring_used_elem e;
		check(!gm_read(&gm, &e, USED(RXQ) + 4 + 8ULL * (used_seen[RXQ] % QSZ), sizeof(e)), "used ring");
		used_seen[RXQ]++;
		check(e.id < QSZ, "RX used id %u", e.id);
		if (e.id >= HONEST)
			continue; /* a raw chain: nothing to hold the device to */
		uint32_t size = rx_size[e.id];
		check(size, "RX buffer %u completed twice", e.id);
		rx_size[e.id] = 0;
		if (e.len == 0)
			continue; /* returned unused */
		check(e.len >= HDR && e.len <= size, "RX used len %u in a buffer of %u", e.len, size);
		struct virtio_vsock_hdr h;
		check(!gm_read(&gm, &h, RXBUF(e.id), HDR), "RX header");
		uint32_t len = le32toh(h.len);
		uint16_t op = le16toh(h.op), type = le16toh(h.type);
		check(len == e.len - HDR, "RX header len %u, used len %u", len, e.len);
		check(le64toh(h.src_cid) == VSOCK_HOST_CID && le64toh(h.dst_cid) == CID, "RX cids");
		check(op >= VIRTIO_VSOCK_OP_REQUEST && op <= VIRTIO_VSOCK_OP_CREDIT_UPDATE, "RX op %u", op);
		check(type == VIRTIO_VSOCK_TYPE_STREAM ||
			      (type == VIRTIO_VSOCK_TYPE_SEQPACKET && op == VIRTIO_VSOCK_OP_RST),
		      "RX type %u op %u", type, op);
		check(op == VIRTIO_VSOCK_OP_RW ? len > 0 : len == 0, "RX op %u with %u bytes", op, len);
		check(le32toh(h.buf_alloc) == VSOCK_BUF_ALLOC, "RX buf_alloc");
		if (op == VIRTIO_VSOCK_OP_RW) {
			struct pair *p = pair(le32toh(h.src_port), le32toh(h.dst_port));
			if (p)
				p->received += len;
		}
	}
}

static void after(void)
{
	vsock_foreach_conn(vs, credit_one, NULL);
	const char *why = vsock_check_invariants(vs);
	check(!why, "invariant: %s", why);
	rx_collect();
}

/* ------------------------------------------------------------------ */
/* the driver */

static uint32_t rd(uint32_t off)
{
	uint32_t v = 0;
	virtio_mmio_io(d, off, (uint8_t *)&v, 4, false);
	return v;
}
static void wr(uint32_t off, uint32_t v) { virtio_mmio_io(d, off, (uint8_t *)&v, 4, true); }
static void on_kick(struct virtio_dev *dev, unsigned q) { (void)dev, kicked |= 1u << q; }

/* Run the device until idle: deferred queue work and socket events, each
 * one step between checks. */
static void pump(void)
{
	for (unsigned round = 0;; round++) {
		check(round < 5000, "the device does not go idle");
		bool did = false;
		for (unsigned q = 0; q < 3; q++)
			if (kicked & (1u << q)) {
				kicked &= ~(1u << q);
				before();
				virtio_process_queue(d, q);
				after();
				did = true;
			}
		struct epoll_event ev[8];
		int n = epoll_wait(loop.epfd, ev, 8, 0);
		for (int k = 0; k < n; k++) {
			struct evloop_entry *s = ev[k].data.ptr;
			if (!s || !s->fn)
				continue;
			before();
			s->fn(s->ctx, ev[k].events);
			after();
			did = true;
		}
		if (!did)
			return;
	}
}

static void bring_up(void)
{
	wr(VIRTIO_MMIO_STATUS, 0);
	memset(mem, 0, 0x3000);
	memset(avail_idx, 0, sizeof(avail_idx));
	memset(used_seen, 0, sizeof(used_seen));
	memset(rx_size, 0, sizeof(rx_size));
	kicked = 0;
	uint32_t st = VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER;
	wr(VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE);
	wr(VIRTIO_MMIO_STATUS, st);
	wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	wr(VIRTIO_MMIO_DRIVER_FEATURES, 1u << (VIRTIO_F_VERSION_1 - 32));
	wr(VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	wr(VIRTIO_MMIO_DRIVER_FEATURES, event_idx ? 1u << VIRTIO_RING_F_EVENT_IDX : 0);
	st |= VIRTIO_CONFIG_S_FEATURES_OK;
	wr(VIRTIO_MMIO_STATUS, st);
	for (unsigned q = 0; q < 3; q++) {
		wr(VIRTIO_MMIO_QUEUE_SEL, q);
		wr(VIRTIO_MMIO_QUEUE_NUM, QSZ);
		wr(VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)DESC(q));
		wr(VIRTIO_MMIO_QUEUE_AVAIL_LOW, (uint32_t)AVAIL(q));
		wr(VIRTIO_MMIO_QUEUE_USED_LOW, (uint32_t)USED(q));
		wr(VIRTIO_MMIO_QUEUE_READY, 1);
	}
	wr(VIRTIO_MMIO_STATUS, st | VIRTIO_CONFIG_S_DRIVER_OK);
	check(d->active, "the device refused an honest driver (status 0x%x)", rd(VIRTIO_MMIO_STATUS));
	uint64_t cid = 0;
	for (unsigned i = 0; i < 2; i++) {
		uint32_t v = rd(VIRTIO_MMIO_CONFIG + 4 * i);
		cid |= (uint64_t)v << (32 * i);
	}
	check(cid == CID, "config guest_cid %llu", (unsigned long long)cid);
}

static void set_desc(unsigned q, unsigned i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	struct vring_desc v = { .addr = addr, .len = len, .flags = flags, .next = next };
	gm_write(&gm, DESC(q) + 16ULL * i, &v, sizeof(v));
}

static void offer(unsigned q, uint16_t head)
{
	uint16_t *a = gm_ptr(&gm, AVAIL(q), 6 + 2 * QSZ);
	a[2 + avail_idx[q] % QSZ] = head;
	avail_idx[q]++;
	__atomic_store_n(&a[1], avail_idx[q], __ATOMIC_RELEASE);
}

/* Kick Q now (the command's high bit) and run the device. */
static void maybe_kick(bool now, unsigned q)
{
	if (!now)
		return;
	wr(VIRTIO_MMIO_QUEUE_NOTIFY, q);
	pump();
}

/* ------------------------------------------------------------------ */
/* commands */

static uint32_t pick_hport(void)
{
	uint8_t s = u8();
	switch (s % 8) {
	case 0: case 6: return SB_AGENT_PORT;
	case 1: case 7: return 1;
	case 2: return 2;
	case 3: return 3;                                  /* nobody listens */
	case 4: return VSOCK_HOST_PORT_BASE + (s >> 3) % 4; /* host-initiated ones */
	default: return u32();
	}
}

static uint32_t pick_gport(void)
{
	uint8_t s = u8();
	return s >= 0xf0 ? u32() : 5000 + s % 4;
}

static void cmd_tx(bool now)
{
	uint8_t t = u8();
	uint16_t op = (t & 0x80) ? u16() : (uint16_t)(1 + u8() % 7);
	uint32_t hport = pick_hport(), gport = pick_gport();
	uint32_t n = u16() % 2048;
	uint8_t payload[2048];
	n = (uint32_t)bytes(payload, n);
	uint32_t len = n;
	switch ((t >> 1) & 3) {
	case 1: len = n + u8(); break;
	case 2: len = u32(); break;
	}
	uint16_t type = (t & 0x08) ? u16() : VIRTIO_VSOCK_TYPE_STREAM;
	uint64_t src = (t & 0x10) ? u64() : CID, dst = (t & 0x20) ? u64() : VSOCK_HOST_CID;
	uint8_t f = u8();
	uint32_t flags = f >= 0xf0 ? u32() : f & 3;
	uint8_t b = u8();
	uint32_t buf_alloc = b % 4 == 0 ? 256 * 1024 : b % 4 == 1 ? 0 : b % 4 == 2 ? u32() : 4096;
	uint8_t w = u8();
	struct pair *p = pair(hport, gport);
	uint32_t fwd = w % 3 == 0 ? 0 : w % 3 == 1 ? u32() : p ? p->received : 0;
	struct virtio_vsock_hdr h = {
		.src_cid = htole64(src), .dst_cid = htole64(dst),
		.src_port = htole32(gport), .dst_port = htole32(hport),
		.len = htole32(len), .type = htole16(type), .op = htole16(op),
		.flags = htole32(flags), .buf_alloc = htole32(buf_alloc), .fwd_cnt = htole32(fwd),
	};
	unsigned k = tx_next++ % 8, first = 4 * k;
	gm_write(&gm, TXHDR(k), &h, HDR);
	gm_write(&gm, TXDATA(k), payload, n);
	/* The header whole, split in two, or header and payload in one. */
	unsigned i = first;
	if (t & 0x40) {
		set_desc(TXQ, i, TXHDR(k), 20, VRING_DESC_F_NEXT, (uint16_t)(i + 1));
		i++;
		set_desc(TXQ, i, TXHDR(k) + 20, HDR - 20, n ? VRING_DESC_F_NEXT : 0, (uint16_t)(i + 1));
	} else {
		set_desc(TXQ, i, TXHDR(k), HDR, n ? VRING_DESC_F_NEXT : 0, (uint16_t)(i + 1));
	}
	if (n)
		set_desc(TXQ, i + 1, TXDATA(k), n, 0, 0);
	offer(TXQ, (uint16_t)first);
	maybe_kick(now, TXQ);
}

static void raw_chain(unsigned q)
{
	unsigned head = HONEST + u8() % (QSZ - HONEST), nd = 1 + u8() % 3;
	for (unsigned j = 0; j < nd; j++) {
		uint64_t addr = u32() % (2 * MEM);
		uint32_t len = u16();
		uint16_t flags = u8() & 7;
		uint16_t next = (uint16_t)(HONEST + u8() % (QSZ - HONEST + 2));
		set_desc(q, HONEST + (head - HONEST + j) % (QSZ - HONEST), addr, len, flags, next);
	}
	offer(q, (uint16_t)head);
}

static void cmd_rx(bool now)
{
	unsigned n = 1 + u8() % 8;
	uint8_t s = u8();
	uint32_t size = s % 4 == 0 ? 4096 : s % 4 == 1 ? HDR : s % 4 == 2 ? HDR + 1 + u8() : 64;
	for (unsigned i = 0; i < HONEST && n; i++) {
		if (rx_size[i])
			continue;
		set_desc(RXQ, i, RXBUF(i), size, VRING_DESC_F_WRITE, 0);
		rx_size[i] = size;
		offer(RXQ, (uint16_t)i);
		n--;
	}
	maybe_kick(now, RXQ);
}

static void add_host(int fd)
{
	if (fd < 0)
		return;
	if (nhost == NHOST) {
		close(fd);
		return;
	}
	host[nhost++] = fd;
}

static void cmd_connect(void)
{
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	check(fd >= 0, "socket: %s", strerror(errno));
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", uds);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a))) {
		close(fd);
		return;
	}
	char line[64];
	uint8_t m = u8();
	int n;
	if (m % 4 == 1)
		n = (int)bytes(line, 1 + u8() % 40);
	else
		n = snprintf(line, sizeof(line), "CONNECT %u%s", pick_gport(), m % 4 == 3 ? "" : "\n");
	send(fd, line, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL);
	add_host(fd);
}

static void cmd_accept(void)
{
	add_host(accept4(listeners[u8() & 1], NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC));
}

static int pick_host(void)
{
	uint8_t s = u8();
	if (!nhost || s % (nhost + 1) == nhost)
		return agent_peer;
	return host[s % (nhost + 1)];
}

static void cmd_write(void)
{
	int fd = pick_host();
	static uint8_t buf[8192];
	size_t n = u16() % sizeof(buf);
	size_t got = bytes(buf, n);
	/* A little input goes a long way: repeat it. */
	for (size_t i = got; i < n; i++)
		buf[i] = got ? buf[i % got] : (uint8_t)i;
	if (fd >= 0)
		send(fd, buf, n, MSG_DONTWAIT | MSG_NOSIGNAL);
}

static void cmd_read(void)
{
	int fd = pick_host();
	static uint8_t sink[1 << 17];
	if (fd >= 0)
		recv(fd, sink, 1 + (size_t)u16() * 2, MSG_DONTWAIT);
}

static void cmd_shut(void)
{
	uint8_t s = u8();
	if (!nhost)
		return;
	unsigned k = s % nhost;
	if (s & 0x80) {
		shutdown(host[k], SHUT_WR);
		return;
	}
	close(host[k]);
	host[k] = host[--nhost];
}

static void cmd_evq(bool now)
{
	set_desc(EVQ, 0, EVBUF, 8, VRING_DESC_F_WRITE, 0);
	offer(EVQ, 0);
	maybe_kick(now, EVQ);
}

/* ------------------------------------------------------------------ */

static int listen_at(const char *path)
{
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	snprintf(a.sun_path, sizeof(a.sun_path), "%s", path);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	check(fd >= 0 && !bind(fd, (struct sockaddr *)&a, sizeof(a)) && !listen(fd, 64), "listen %s: %s", path,
	      strerror(errno));
	return fd;
}

static void init_once(void)
{
	struct err e;
	mem = calloc(1, MEM);
	check(mem, "out of memory");
	gm_wrap(&gm, mem, MEM);
	snprintf(dir, sizeof(dir), "/tmp/sandbox-fuzz-vsock-XXXXXX");
	check(mkdtemp(dir), "mkdtemp: %s", strerror(errno));
	snprintf(uds, sizeof(uds), "%s/v.sock", dir);
	char p[128];
	for (unsigned i = 0; i < 2; i++) {
		snprintf(p, sizeof(p), "%s_%u", uds, i + 1);
		listeners[i] = listen_at(p);
	}
}

static int open_fds(void)
{
	DIR *dp = opendir("/proc/self/fd");
	check(dp, "/proc/self/fd: %s", strerror(errno));
	int n = 0;
	while (readdir(dp))
		n++;
	closedir(dp);
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!mem)
		init_once();
	in = data;
	in_len = size;
	in_pos = 0;
	memset(mem, 0, MEM);
	nhost = npairs = tx_next = 0;
	fd_mark = open_fds();

	struct err e;
	/* A loop per input: a destroyed device leaves its slot behind (as in
	 * the VMM, where the loop goes right after the devices). */
	check(!evloop_init(&loop, &e), "evloop: %s", e.msg);
	struct vsock_config cfg = { .cid = CID };
	snprintf(cfg.uds, sizeof(cfg.uds), "%s", uds);
	vs = vsock_create(&cfg, &loop, &gm, &e);
	check(vs, "vsock_create: %s", e.msg);
	int sv[2];
	check(!socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, sv), "socketpair");
	check(!vsock_add_agent(vs, SB_AGENT_PORT, sv[0], &e), "vsock_add_agent: %s", e.msg);
	agent_peer = sv[1];
	d = vsock_virtio(vs);
	d->kick = on_kick;

	event_idx = u8() & 1;
	bring_up();
	for (unsigned steps = 0; in_pos < in_len && steps < 256; steps++) {
		uint8_t c = u8();
		bool now = c & 0x80;
		switch ((c & 0x7f) % 12) {
		case 0: case 1: cmd_tx(now); break;
		case 2: raw_chain(TXQ); maybe_kick(now, TXQ); break;
		case 3: cmd_rx(now); break;
		case 4: raw_chain(RXQ); maybe_kick(now, RXQ); break;
		case 5: cmd_connect(); break;
		case 6: cmd_accept(); break;
		case 7: cmd_write(); break;
		case 8: cmd_read(); break;
		case 9: cmd_shut(); break;
		case 10: pump(); break;
		case 11:
			if (now) {
				before();
				bring_up();
				after();
				check(vsock_nconns(vs) == 0, "connections left after a reset");
			} else {
				cmd_evq(c & 0x40);
			}
			break;
		}
		rx_collect();
	}
	pump();

	if (getenv("FUZZ_VSOCK_VERBOSE")) { /* what an input reached, for writing seeds */
		const struct vsock_stats *st = vsock_get_stats(vs);
		fprintf(stderr,
			"tx %llu (bad %llu, %llu B) rx %llu (bad %llu, %llu B) rst %llu refused %llu host %llu "
			"credit updates %llu violations %llu stalls %llu conns %u\n",
			(unsigned long long)st->tx_pkts, (unsigned long long)st->tx_bad,
			(unsigned long long)st->tx_bytes, (unsigned long long)st->rx_pkts,
			(unsigned long long)st->rx_bad, (unsigned long long)st->rx_bytes,
			(unsigned long long)st->rst_sent, (unsigned long long)st->refused,
			(unsigned long long)st->host_conns, (unsigned long long)st->credit_updates,
			(unsigned long long)st->credit_violations, (unsigned long long)st->rx_stalls, vsock_nconns(vs));
	}
	vsock_destroy(d);
	evloop_free(&loop);
	for (unsigned i = 0; i < nhost; i++)
		close(host[i]);
	close(agent_peer);
	for (unsigned i = 0; i < 2; i++) {
		int fd;
		while ((fd = accept4(listeners[i], NULL, NULL, SOCK_CLOEXEC)) >= 0)
			close(fd);
	}
	/* Everything the device and this input opened is closed again. */
	int fds = open_fds();
	check(fds == fd_mark, "file descriptors leak: %d open, %d before the input", fds, fd_mark);
	return 0;
}
