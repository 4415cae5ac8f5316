/* virtio-net with a TAP backend (virtio 1.x, 5.1). See virtio_net.h.
 *
 * TX: each chain is [virtio_net_hdr_v1][frame] in readable buffers. The
 * header is copied out and checked against what was negotiated, then the
 * checked copy and the frame (straight from guest memory) go to the tap in
 * one writev. A TX chain is always completed with length 0.
 *
 * RX: when the tap is readable, hold enough posted buffers for one frame
 * (one chain, or with VIRTIO_NET_F_MRG_RXBUF as many as a largest frame
 * needs), readv the tap straight into them (the header into a host copy
 * first, so it can be fixed up), complete the chains the frame used and
 * keep the others for the next frame. With no buffers posted the tap is
 * taken out of the epoll set until the driver kicks the RX queue, so
 * nothing spins. A frame larger than the held buffers is dropped.
 *
 * All work runs on the VM's device thread with dev.lock held. */
#include "virtio_net.h"

#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <linux/if_tun.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_net.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/uio.h>
#include <unistd.h>

#include "modules.h"
#include "tap.h"

_Static_assert(sizeof(struct virtio_net_hdr_v1) == VNET_HDR_LEN, "virtio_net_hdr_v1 is 12 bytes");

#define IOV_LIMIT 1024          /* UIO_MAXIOV: the most readv/writev take */
#define RX_BUDGET 64            /* frames per wake-up, then let others run */
#define TX_BUDGET 256           /* requests per kick, then re-kick ourselves */
#define POOL_MAX (IOV_LIMIT - 2) /* held RX pieces: readv also takes the header and overflow byte */
#define CONFIG_SIZE offsetof(struct virtio_net_config, mtu)

struct rx_slot {
	uint16_t head;
	uint32_t len;           /* writable bytes */
	uint16_t iov_first, niov; /* its pieces in pool[] */
};

struct virtio_net {
	struct virtio_dev dev;
	struct virtio_ops ops;
	const struct guest_mem *gm;
	struct evloop *loop;
	int fd;
	bool is_tap;
	bool polling;           /* fd is in the epoll set for EPOLLIN */
	bool dead;              /* the backend failed for good: no longer watched */
	uint8_t mac[6];
	char name[IFNAMSIZ];
	/* negotiated, set at activate */
	bool mrg_rxbuf, guest_csum, guest_tso4, host_csum, host_tso4;
	struct vnet_stats st;

	/* scratch, used under dev.lock only */
	struct virtq_chain chain;
	struct iovec iov[IOV_LIMIT];
	/* RX chains popped and not yet used */
	struct rx_slot held[VIRTQ_MAX_SIZE];
	unsigned nheld, npool;
	struct iovec pool[POOL_MAX];
	uint16_t held_avail, held_used;         /* ring indices when last looked at */
	struct iovec hdr_iov[VNET_HDR_LEN];     /* where the first RX chain's header goes */
	unsigned hdr_niov;
	uint8_t overflow;                       /* the last readv byte: frame too big */
};

static uint16_t le16(uint16_t v) { return le16toh(v); }

/* ------------------------------------------------------------------ */
/* --net SPEC */

static const char net_usage[] =
	"--net tap=NAME[,mac=XX:XX:XX:XX:XX:XX][,host-ip=A.B.C.D/N][,bridge=BR]\n"
	"      [,offload=on|off][,mrg_rxbuf=on|off]\n"
	"  virtio-net device (eth0 in the guest) on tap NAME, created if missing\n"
	"  (and then gone when the VMM exits) and brought up; needs CAP_NET_ADMIN.\n"
	"  host-ip: give the tap that address; bridge: make the tap a port of the\n"
	"  existing bridge BR. mac: default a stable locally administered address\n"
	"  derived from NAME. offload: checksum and TSOv4 offloads; mrg_rxbuf:\n"
	"  mergeable receive buffers (both on by default).\n";

static bool valid_ifname(const char *s, size_t len)
{
	if (len == 0 || len >= IFNAMSIZ)
		return false;
	if ((len == 1 && s[0] == '.') || (len == 2 && s[0] == '.' && s[1] == '.'))
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
		      c == '-' || c == '.'))
			return false;
	}
	return true;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static bool parse_mac(const char *s, size_t len, uint8_t mac[6])
{
	if (len != 17)
		return false;
	for (unsigned i = 0; i < 6; i++) {
		int hi = hexval(s[3 * i]), lo = hexval(s[3 * i + 1]);
		if (hi < 0 || lo < 0 || (i < 5 && s[3 * i + 2] != ':'))
			return false;
		mac[i] = (uint8_t)(hi << 4 | lo);
	}
	return true;
}

static bool parse_onoff(const char *v, size_t len, bool *out)
{
	if (len == 2 && !memcmp(v, "on", 2))
		*out = true;
	else if (len == 3 && !memcmp(v, "off", 3))
		*out = false;
	else
		return false;
	return true;
}

static bool parse_ipv4(const char *v, size_t len, struct in_addr *ip, unsigned *prefix)
{
	const char *slash = memchr(v, '/', len);
	if (!slash)
		return false;
	char addr[INET_ADDRSTRLEN];
	size_t alen = (size_t)(slash - v), plen = len - alen - 1;
	if (alen == 0 || alen >= sizeof(addr) || plen == 0 || plen > 2)
		return false;
	memcpy(addr, v, alen);
	addr[alen] = '\0';
	if (inet_pton(AF_INET, addr, ip) != 1)
		return false;
	unsigned p = 0;
	for (size_t i = 0; i < plen; i++) {
		char c = slash[1 + i];
		if (c < '0' || c > '9')
			return false;
		p = p * 10 + (unsigned)(c - '0');
	}
	if (p < 1 || p > 32)
		return false;
	*prefix = p;
	return true;
}

int vnet_parse_spec(const char *spec, struct net_config *s, struct err *e)
{
	memset(s, 0, sizeof(*s));
	bool on, seen_off = false, seen_mrg = false;
	if (!spec || !*spec)
		return err_set(e, "empty spec (want tap=NAME[,...])");
	const char *p = spec;
	for (;;) {
		const char *end = strchr(p, ',');
		size_t n = end ? (size_t)(end - p) : strlen(p);
		const char *eq = memchr(p, '=', n);
		if (n == 0)
			return err_set(e, "empty option (a stray comma?)");
		if (!eq)
			return err_set(e, "'%.*s': want KEY=VALUE", (int)n, p);
		size_t klen = (size_t)(eq - p), vlen = n - klen - 1;
		const char *v = eq + 1;
#define KEY(k) (klen == sizeof(k) - 1 && !memcmp(p, k, klen))
		if (KEY("tap")) {
			if (s->tap[0])
				return err_set(e, "tap= given twice");
			if (!valid_ifname(v, vlen))
				return err_set(e, "tap=%.*s: want an interface name of 1-%d characters [A-Za-z0-9_.-]",
					       (int)vlen, v, IFNAMSIZ - 1);
			memcpy(s->tap, v, vlen);
		} else if (KEY("mac")) {
			if (s->has_mac)
				return err_set(e, "mac= given twice");
			if (!parse_mac(v, vlen, s->mac))
				return err_set(e, "mac=%.*s: want XX:XX:XX:XX:XX:XX", (int)vlen, v);
			if (s->mac[0] & 1)
				return err_set(e, "mac=%.*s: a multicast address", (int)vlen, v);
			static const uint8_t zero[6];
			if (!memcmp(s->mac, zero, 6))
				return err_set(e, "mac=%.*s: the zero address", (int)vlen, v);
			s->has_mac = true;
		} else if (KEY("host-ip")) {
			if (s->has_ip)
				return err_set(e, "host-ip= given twice");
			if (!parse_ipv4(v, vlen, &s->ip, &s->prefix))
				return err_set(e, "host-ip=%.*s: want A.B.C.D/N with N in 1-32", (int)vlen, v);
			s->has_ip = true;
		} else if (KEY("bridge")) {
			if (s->bridge[0])
				return err_set(e, "bridge= given twice");
			if (!valid_ifname(v, vlen))
				return err_set(e, "bridge=%.*s: want an interface name of 1-%d characters [A-Za-z0-9_.-]",
					       (int)vlen, v, IFNAMSIZ - 1);
			memcpy(s->bridge, v, vlen);
		} else if (KEY("offload")) {
			if (seen_off)
				return err_set(e, "offload= given twice");
			if (!parse_onoff(v, vlen, &on))
				return err_set(e, "offload=%.*s: want on or off", (int)vlen, v);
			s->no_offload = !on;
			seen_off = true;
		} else if (KEY("mrg_rxbuf")) {
			if (seen_mrg)
				return err_set(e, "mrg_rxbuf= given twice");
			if (!parse_onoff(v, vlen, &on))
				return err_set(e, "mrg_rxbuf=%.*s: want on or off", (int)vlen, v);
			s->no_mrg_rxbuf = !on;
			seen_mrg = true;
		} else {
			return err_set(e, "unknown option '%.*s' (want tap, mac, host-ip, bridge, offload, mrg_rxbuf)",
				       (int)klen, p);
		}
#undef KEY
		if (!end)
			break;
		p = end + 1;
	}
	if (!s->tap[0])
		return err_set(e, "tap=NAME is required");
	if (s->has_ip && s->bridge[0])
		return err_set(e, "host-ip= and bridge= exclude each other (give the address to the bridge)");
	return 0;
}

void vnet_default_mac(const char *name, uint8_t mac[6])
{
	uint32_t h = 2166136261u; /* FNV-1a */
	for (const char *c = name; *c; c++)
		h = (h ^ (uint8_t)*c) * 16777619u;
	mac[0] = 0x02; /* locally administered, unicast */
	mac[1] = 0x53; /* 'S' */
	mac[2] = 0x42; /* 'B' */
	mac[3] = (uint8_t)(h >> 16);
	mac[4] = (uint8_t)(h >> 8);
	mac[5] = (uint8_t)h;
}

/* ------------------------------------------------------------------ */
/* backend polling */

static void set_polling(struct virtio_net *n, bool on)
{
	if (n->polling == on || n->dead || !n->loop)
		return;
	if (evloop_mod(n->loop, n->fd, on ? EPOLLIN : 0) == 0)
		n->polling = on;
}

/* The backend is gone (tap deleted, fd error): stop watching it for good.
 * Only on the device thread (evloop_del's rule). */
static void backend_lost(struct virtio_net *n, const char *why, int err)
{
	if (n->dead)
		return;
	if (n->loop)
		evloop_del(n->loop, n->fd);
	n->dead = true;
	n->polling = false;
	fprintf(stderr, "sandbox: warning: net %s: %s%s%s; the guest's network is down\n", n->name, why,
		err ? ": " : "", err ? strerror(err) : "");
}

/* ------------------------------------------------------------------ */
/* TX */

/* Check a TX header against the negotiated features and the frame length. */
static bool tx_header_ok(const struct virtio_net *n, const struct virtio_net_hdr_v1 *h, uint32_t frame_len)
{
	if (h->flags & ~VIRTIO_NET_HDR_F_NEEDS_CSUM)
		return false; /* DATA_VALID / RSC_INFO are device-to-driver only */
	if (h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
		if (!n->host_csum)
			return false;
		if ((uint32_t)le16(h->csum_start) + le16(h->csum_offset) + 2 > frame_len)
			return false;
	}
	if (le16(h->hdr_len) > frame_len)
		return false;
	switch (h->gso_type) {
	case VIRTIO_NET_HDR_GSO_NONE:
		return true;
	case VIRTIO_NET_HDR_GSO_TCPV4:
		return n->host_tso4 && (h->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) && le16(h->gso_size) != 0;
	default:
		return false; /* TCPv6, UDP, ECN: not offered */
	}
}

/* Send one TX chain to the backend. Returns false for a malformed request. */
static bool tx_one(struct virtio_net *n, const struct virtq_chain *c)
{
	if (c->err || c->nread != c->nseg)
		return false; /* TX buffers are device-readable only */
	if (c->read_len < VNET_HDR_LEN + VNET_MIN_FRAME || c->read_len > VNET_HDR_LEN + VNET_MAX_FRAME)
		return false;
	uint32_t frame_len = (uint32_t)(c->read_len - VNET_HDR_LEN);
	/* One copy of the header: it is what we check and what the tap gets,
	 * whatever the guest does to its own copy meanwhile. */
	struct virtio_net_hdr_v1 h;
	if (virtq_chain_read(n->gm, c, 0, &h, sizeof(h)) != sizeof(h))
		return false;
	if (!tx_header_ok(n, &h, frame_len))
		return false;
	n->iov[0] = (struct iovec){ .iov_base = &h, .iov_len = sizeof(h) };
	uint64_t got = 0;
	int k = virtq_chain_iov(n->gm, c, false, VNET_HDR_LEN, frame_len, &n->iov[1], IOV_LIMIT - 1, &got);
	if (got != frame_len)
		return false; /* more pieces than writev takes */
	if (n->dead) {
		n->st.tx_dropped++;
		return true;
	}
	ssize_t w = writev(n->fd, n->iov, k + 1);
	if (w != (ssize_t)(VNET_HDR_LEN + frame_len)) {
		n->st.tx_dropped++; /* EAGAIN, ENOBUFS, the tap refusing the header, link down */
		return true;
	}
	n->st.tx_packets++;
	n->st.tx_bytes += frame_len;
	return true;
}

static void tx_process(struct virtio_net *n)
{
	struct virtio_dev *d = &n->dev;
	struct virtq *q = &d->vq[VNET_TXQ];
	unsigned done = 0;
	bool pushed = false;
	for (;;) {
		int r = 0;
		while (done < TX_BUDGET && (r = virtq_pop(q, n->gm, &n->chain)) == 1) {
			done++;
			if (!tx_one(n, &n->chain))
				n->st.tx_bad++;
			virtq_push(q, n->gm, n->chain.head, 0);
			pushed = true;
		}
		if (done < TX_BUDGET && r < 0) {
			virtio_needs_reset(d);
			break;
		}
		if (done >= TX_BUDGET) {
			/* Let the other devices run; come back through our own kick. */
			if (virtq_has_work(q, n->gm) && d->kick)
				d->kick(d, VNET_TXQ);
			break;
		}
		virtq_update_avail_event(q, n->gm);
		if (!virtq_has_work(q, n->gm))
			break;
	}
	if (pushed)
		virtio_notify_used(d, VNET_TXQ);
}

/* ------------------------------------------------------------------ */
/* RX
 *
 * Popped RX chains are held (n->held, their buffers in n->pool) until a
 * frame uses them, so each chain is walked once however many frames pass
 * before it fills. Enough are held for a largest frame where the ring
 * allows; a frame that does not fit what is held is dropped. Held chains
 * belong to the device until used or until the driver resets the device
 * or re-creates the queue. */

/* A chain the device may write a frame (or, with mergeable buffers, the
 * rest of one) into. */
static bool rx_chain_ok(const struct virtq_chain *c)
{
	return !c->err && c->nread == 0 && c->write_len >= VNET_HDR_LEN;
}

static void rx_mark(struct virtio_net *n, const struct virtq *q)
{
	n->held_avail = q->last_avail;
	n->held_used = q->used_idx;
}

/* Forget held chains if the driver re-created the queue under them (the
 * transport zeroes both ring indices then; with chains held they differ). */
static void rx_check_held(struct virtio_net *n, const struct virtq *q)
{
	if (n->nheld && (!q->ready || q->last_avail != n->held_avail || q->used_idx != n->held_used))
		n->nheld = n->npool = 0;
}

static uint64_t rx_held_cap(const struct virtio_net *n)
{
	uint64_t cap = 0;
	for (unsigned i = 0; i < n->nheld; i++)
		cap += n->held[i].len;
	return cap >= VNET_HDR_LEN ? cap - VNET_HDR_LEN : 0;
}

enum fill { FILL_OK, FILL_BUDGET, FILL_BROKEN };

/* Hold chains until a largest frame fits (one chain without mergeable
 * buffers). Malformed chains are completed empty, each costing one unit
 * of *BUDGET. */
static enum fill rx_fill(struct virtio_net *n, struct virtq *q, unsigned *budget, bool *pushed)
{
	unsigned max_chains = n->mrg_rxbuf ? q->num : 1;
	uint64_t cap = rx_held_cap(n);
	enum fill res = FILL_OK;
	while (n->nheld < max_chains && (n->nheld == 0 || cap < VNET_MAX_FRAME)) {
		int r = virtq_pop(q, n->gm, &n->chain);
		if (r < 0) {
			res = FILL_BROKEN;
			break;
		}
		if (r == 0)
			break;
		struct virtq_chain *c = &n->chain;
		uint64_t got = 0;
		int k = 0;
		if (rx_chain_ok(c)) {
			k = virtq_chain_iov(n->gm, c, true, 0, c->write_len, &n->pool[n->npool], POOL_MAX - (int)n->npool,
					    &got);
			if (got != c->write_len && n->nheld) {
				/* No room for its pieces now: give it back (nothing
				 * was pushed since it was popped) and use what we hold. */
				virtq_unpop(q, 1);
				break;
			}
		}
		if (got != c->write_len || !rx_chain_ok(c)) {
			virtq_push(q, n->gm, c->head, 0);
			*pushed = true;
			n->st.rx_bad++;
			if (++*budget >= RX_BUDGET) {
				res = FILL_BUDGET;
				break;
			}
			continue;
		}
		n->held[n->nheld++] = (struct rx_slot){ .head = c->head, .len = (uint32_t)c->write_len,
							.iov_first = (uint16_t)n->npool, .niov = (uint16_t)k };
		n->npool += (unsigned)k;
		cap = rx_held_cap(n);
	}
	rx_mark(n, q);
	return res;
}

/* readv() vector for the held chains: the header into H, the frame after
 * it, then one overflow byte. Also notes where the header goes in guest
 * memory. Returns the vector length. */
static int rx_iov(struct virtio_net *n, struct virtio_net_hdr_v1 *h)
{
	int niov = 0;
	n->iov[niov++] = (struct iovec){ .iov_base = h, .iov_len = sizeof(*h) };
	size_t skip = VNET_HDR_LEN;
	n->hdr_niov = 0;
	for (unsigned i = 0; i < n->npool; i++) {
		struct iovec v = n->pool[i];
		if (skip) {
			size_t k = v.iov_len < skip ? v.iov_len : skip;
			n->hdr_iov[n->hdr_niov++] = (struct iovec){ .iov_base = v.iov_base, .iov_len = k };
			skip -= k;
			v.iov_base = (uint8_t *)v.iov_base + k;
			v.iov_len -= k;
			if (!v.iov_len)
				continue;
		}
		n->iov[niov++] = v;
	}
	n->iov[niov++] = (struct iovec){ .iov_base = &n->overflow, .iov_len = 1 };
	return niov;
}

/* The first USED held chains are done: drop them from the hold. */
static void rx_release(struct virtio_net *n, unsigned used)
{
	if (used >= n->nheld) {
		n->nheld = n->npool = 0;
		return;
	}
	unsigned first = n->held[used].iov_first;
	memmove(n->pool, n->pool + first, (n->npool - first) * sizeof(n->pool[0]));
	n->npool -= first;
	memmove(n->held, n->held + used, (n->nheld - used) * sizeof(n->held[0]));
	n->nheld -= used;
	for (unsigned i = 0; i < n->nheld; i++)
		n->held[i].iov_first = (uint16_t)(n->held[i].iov_first - first);
}

static void rx_process(struct virtio_net *n)
{
	struct virtio_dev *d = &n->dev;
	struct virtq *q = &d->vq[VNET_RXQ];
	bool pushed = false;
	if (!d->active || !q->ready || q->broken || n->dead) {
		n->nheld = n->npool = 0;
		set_polling(n, false);
		return;
	}
	rx_check_held(n, q);
	for (unsigned budget = 0; budget < RX_BUDGET;) {
		enum fill f = rx_fill(n, q, &budget, &pushed);
		if (f == FILL_BROKEN) {
			n->nheld = n->npool = 0;
			virtio_needs_reset(d);
			set_polling(n, false);
			break;
		}
		if (f == FILL_BUDGET)
			break; /* level-triggered: we are called again if a frame waits */
		if (n->nheld == 0) {
			/* No buffers: stop reading the backend until the driver
			 * refills (it kicks the RX queue). Ask for that kick, then
			 * look once more in case a refill raced with us. */
			virtq_update_avail_event(q, n->gm);
			if (virtq_has_work(q, n->gm))
				continue;
			set_polling(n, false);
			n->st.rx_stalls++;
			break;
		}
		struct virtio_net_hdr_v1 h;
		int niov = rx_iov(n, &h);
		ssize_t got = readv(n->fd, n->iov, niov);
		if (got < 0) {
			int err = errno;
			if (err != EAGAIN && err != EWOULDBLOCK && err != EINTR)
				backend_lost(n, "read", err);
			break;
		}
		budget++;
		uint64_t frame_len = (uint64_t)got >= VNET_HDR_LEN ? (uint64_t)got - VNET_HDR_LEN : 0;
		/* A tap returns the full length of a frame it truncated; the
		 * overflow byte catches the same for plain datagram sockets. */
		bool bad = (uint64_t)got < VNET_HDR_LEN + VNET_MIN_FRAME || frame_len > rx_held_cap(n);
		if (!bad && h.gso_type != VIRTIO_NET_HDR_GSO_NONE)
			bad = !(n->guest_tso4 && h.gso_type == VIRTIO_NET_HDR_GSO_TCPV4);
		if (bad) {
			n->st.rx_dropped++; /* the buffers stay held for the next frame */
			continue;
		}
		/* Spread the frame over the held chains, first one first. */
		uint64_t left = frame_len + VNET_HDR_LEN;
		unsigned used = 0;
		do {
			uint32_t take = left < n->held[used].len ? (uint32_t)left : n->held[used].len;
			n->held[used].len = take; /* now: bytes written */
			left -= take;
			used++;
		} while (left && used < n->nheld);
		/* The header the driver sees: flags only as negotiated, our
		 * buffer count. */
		h.flags &= n->guest_csum ? (VIRTIO_NET_HDR_F_NEEDS_CSUM | VIRTIO_NET_HDR_F_DATA_VALID) : 0;
		h.num_buffers = htole16((uint16_t)used);
		const uint8_t *hp = (const uint8_t *)&h;
		for (unsigned i = 0, off = 0; i < n->hdr_niov; i++) {
			memcpy(n->hdr_iov[i].iov_base, hp + off, n->hdr_iov[i].iov_len);
			off += (unsigned)n->hdr_iov[i].iov_len;
		}
		for (unsigned i = 0; i < used; i++)
			virtq_push(q, n->gm, n->held[i].head, n->held[i].len);
		rx_release(n, used);
		rx_mark(n, q);
		pushed = true;
		n->st.rx_packets++;
		n->st.rx_bytes += frame_len;
	}
	if (pushed)
		virtio_notify_used(d, VNET_RXQ);
}

/* ------------------------------------------------------------------ */
/* device ops */

static void net_config_read(struct virtio_dev *d, uint32_t off, uint8_t *data, uint32_t len)
{
	struct virtio_net *n = d->priv;
	uint8_t cfg[CONFIG_SIZE];
	memcpy(cfg, n->mac, 6);
	uint16_t status = htole16(VIRTIO_NET_S_LINK_UP), pairs = htole16(1);
	memcpy(cfg + offsetof(struct virtio_net_config, status), &status, 2);
	memcpy(cfg + offsetof(struct virtio_net_config, max_virtqueue_pairs), &pairs, 2);
	memcpy(data, cfg + off, len); /* the transport checked off + len */
}

static void net_queue_notify(struct virtio_dev *d, unsigned q)
{
	struct virtio_net *n = d->priv;
	if (q == VNET_TXQ) {
		tx_process(n);
	} else if (q == VNET_RXQ) {
		/* New buffers: watch the backend again; epoll says if a frame waits. */
		if (!n->polling && !n->dead)
			set_polling(n, true);
	}
}

static int net_activate(struct virtio_dev *d)
{
	struct virtio_net *n = d->priv;
	n->mrg_rxbuf = virtio_has_feature(d, VIRTIO_NET_F_MRG_RXBUF);
	n->guest_csum = virtio_has_feature(d, VIRTIO_NET_F_GUEST_CSUM);
	n->guest_tso4 = n->guest_csum && virtio_has_feature(d, VIRTIO_NET_F_GUEST_TSO4);
	n->host_csum = virtio_has_feature(d, VIRTIO_NET_F_CSUM);
	n->host_tso4 = n->host_csum && virtio_has_feature(d, VIRTIO_NET_F_HOST_TSO4);
	if (n->is_tap) {
		unsigned off = (n->guest_csum ? TUN_F_CSUM : 0) | (n->guest_tso4 ? TUN_F_TSO4 : 0);
		if (tap_set_offload(n->fd, off)) {
			/* The tap then sends fully checksummed frames: still correct. */
			n->guest_tso4 = false;
			tap_set_offload(n->fd, 0);
		}
	}
	set_polling(n, true);
	return 0;
}

/* Snapshots: RX buffers we popped and hold go back to the ring (the
 * saved queue position then covers them), so a restored device sees
 * them again; we pop them again here too. Nothing else is in flight:
 * frames go between the tap and the rings on the held device thread. */
static long net_save(struct virtio_dev *d, uint8_t *buf, size_t cap, struct err *e)
{
	(void)buf;
	(void)cap;
	(void)e;
	struct virtio_net *n = d->priv;
	if (n->nheld)
		virtq_unpop(&d->vq[VNET_RXQ], (uint16_t)n->nheld);
	n->nheld = n->npool = 0;
	return 0;
}

static void net_reset(struct virtio_dev *d)
{
	struct virtio_net *n = d->priv;
	set_polling(n, false);
	n->nheld = n->npool = 0; /* the rings are gone */
	n->mrg_rxbuf = n->guest_csum = n->guest_tso4 = n->host_csum = n->host_tso4 = false;
	if (n->is_tap && !n->dead)
		tap_set_offload(n->fd, 0);
}

static void net_destroy(struct virtio_dev *d)
{
	struct virtio_net *n = d->priv;
	if (n->fd >= 0) {
		/* The loop may outlive the device (its slot is cleared), but the
		 * teardown filter has no epoll_ctl (an ASan VMM with --net died
		 * of SIGSYS at exit): close() takes the fd out of the set. */
		if (n->loop)
			evloop_forget(n->loop, n->fd);
		close(n->fd);
	}
	pthread_mutex_destroy(&d->lock);
	free(n);
}

void vnet_backend_event(void *ctx, uint32_t events)
{
	struct virtio_net *n = ctx;
	pthread_mutex_lock(&n->dev.lock);
	if (events & (EPOLLERR | EPOLLHUP))
		backend_lost(n, "backend error", 0);
	else if (events & EPOLLIN)
		rx_process(n);
	pthread_mutex_unlock(&n->dev.lock);
}

struct virtio_net *vnet_create(const struct guest_mem *gm, struct evloop *loop, int fd, bool is_tap,
			       const uint8_t mac[6], bool offload, bool mrg_rxbuf, const char *name,
			       struct err *e)
{
	struct virtio_net *n = calloc(1, sizeof(*n));
	if (!n) {
		close(fd);
		err_set(e, "out of memory");
		return NULL;
	}
	n->gm = gm;
	n->loop = loop;
	n->fd = fd;
	n->is_tap = is_tap;
	memcpy(n->mac, mac, 6);
	snprintf(n->name, sizeof(n->name), "%s", name);
	n->ops = (struct virtio_ops){
		.name = "virtio-net",
		.device_id = VIRTIO_ID_NET,
		.nqueues = 2,
		.features = (1ULL << VIRTIO_NET_F_MAC) | (1ULL << VIRTIO_NET_F_STATUS),
		.config_size = CONFIG_SIZE,
		.config_read = net_config_read,
		.queue_notify = net_queue_notify,
		.activate = net_activate,
		.reset = net_reset,
		.save = net_save,
		.destroy = net_destroy,
	};
	if (mrg_rxbuf)
		n->ops.features |= 1ULL << VIRTIO_NET_F_MRG_RXBUF;
	if (offload)
		n->ops.features |= (1ULL << VIRTIO_NET_F_CSUM) | (1ULL << VIRTIO_NET_F_GUEST_CSUM) |
				   (1ULL << VIRTIO_NET_F_HOST_TSO4) | (1ULL << VIRTIO_NET_F_GUEST_TSO4);
	virtio_dev_init(&n->dev, &n->ops, n, gm);
	if (loop && evloop_add(loop, fd, 0, vnet_backend_event, n, e)) {
		net_destroy(&n->dev);
		return NULL;
	}
	return n;
}

struct virtio_dev *vnet_dev(struct virtio_net *n) { return &n->dev; }

bool vnet_backend_polled(struct virtio_net *n)
{
	pthread_mutex_lock(&n->dev.lock);
	bool p = n->polling;
	pthread_mutex_unlock(&n->dev.lock);
	return p;
}

struct vnet_stats vnet_get_stats(struct virtio_net *n)
{
	pthread_mutex_lock(&n->dev.lock);
	struct vnet_stats s = n->st;
	pthread_mutex_unlock(&n->dev.lock);
	return s;
}

/* ------------------------------------------------------------------ */
/* the module: --net SPEC */

static int net_module_parse(const char *arg, struct vm_config *c, struct err *e)
{
	if (c->has_net)
		return err_set(e, "--net: one network device at most");
	if (vnet_parse_spec(arg, &c->net, e))
		return err_wrap(e, "--net");
	c->has_net = true;
	return 0;
}

static int net_module_create(const struct device_ctx *ctx, const struct vm_config *c, struct err *e)
{
	if (!c->has_net)
		return 0;
	const struct net_config *s = &c->net;
	if (!s->tap[0])
		return err_set(e, "--net: no tap name");
	uint8_t mac[6];
	if (s->has_mac)
		memcpy(mac, s->mac, 6);
	else
		vnet_default_mac(s->tap, mac);
	int fd = tap_open(s->tap, VNET_HDR_LEN, e);
	if (fd < 0)
		return err_wrap(e, "--net");
	if ((s->has_ip && tap_set_ipv4(s->tap, s->ip, s->prefix, e)) ||
	    (s->bridge[0] && tap_enslave(s->tap, s->bridge, e)) || tap_set_up(s->tap, e)) {
		close(fd);
		return err_wrap(e, "--net");
	}
	struct virtio_net *n = vnet_create(ctx->mem, ctx->loop, fd, true, mac, !s->no_offload, !s->no_mrg_rxbuf,
					   s->tap, e);
	if (!n || ctx->attach(ctx, vnet_dev(n), e))
		return err_wrap(e, "--net");
	return 0;
}

const struct device_module net_module = {
	.name = "virtio-net",
	.option = "net",
	.arg = "SPEC",
	.summary = "virtio-net device with a TAP backend, see below",
	.usage = net_usage,
	.parse = net_module_parse,
	.create = net_module_create,
};
