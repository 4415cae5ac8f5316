/* The agent protocol's framing (see proto.h). No allocation after init,
 * no blocking: callers poll. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proto.h"

int sb_rx_init(struct sb_rx *rx)
{
	rx->buf = malloc(SB_FRAME_HDR + SB_FRAME_MAX);
	rx->len = rx->off = 0;
	return rx->buf ? 0 : -1;
}

void sb_rx_free(struct sb_rx *rx)
{
	free(rx->buf);
	rx->buf = NULL;
}

/* Move the unparsed bytes to the front, so a whole frame fits. */
static void rx_compact(struct sb_rx *rx)
{
	if (rx->off) {
		memmove(rx->buf, rx->buf + rx->off, rx->len - rx->off);
		rx->len -= rx->off;
		rx->off = 0;
	}
}

long sb_rx_fill(struct sb_rx *rx, int fd)
{
	rx_compact(rx);
	size_t room = SB_FRAME_HDR + SB_FRAME_MAX - rx->len;
	if (!room) {
		errno = EAGAIN;
		return -1;
	}
	ssize_t n;
	do
		n = read(fd, rx->buf + rx->len, room);
	while (n < 0 && errno == EINTR);
	if (n > 0)
		rx->len += (size_t)n;
	return (long)n;
}

size_t sb_rx_feed(struct sb_rx *rx, const void *data, size_t len)
{
	rx_compact(rx);
	size_t room = SB_FRAME_HDR + SB_FRAME_MAX - rx->len;
	if (len > room)
		len = room;
	memcpy(rx->buf + rx->len, data, len);
	rx->len += len;
	return len;
}

bool sb_frame_valid(uint8_t type, uint32_t len, bool from_guest)
{
	if (len > SB_FRAME_MAX)
		return false;
	if (from_guest) {
		switch (type) {
		case SB_F_STARTED: return len == 0;
		case SB_F_STDOUT:
		case SB_F_STDERR: return true;
		case SB_F_EXIT:
		case SB_F_OOM: return len == 4;
		case SB_F_QUIESCED:
		case SB_F_RESUMED: return len == 0;
		default: return false;
		}
	}
	switch (type) {
	case SB_F_CONFIG:
	case SB_F_EXEC:
	case SB_F_STDIN: return true;
	case SB_F_STDIN_EOF:
	case SB_F_DETACH:
	case SB_F_BYE: return len == 0;
	case SB_F_SIGNAL: return len == 4;
	case SB_F_WINSIZE: return len == 4;
	case SB_F_QUIESCE:
	case SB_F_RESUME: return len == 0;
	case SB_F_RESTORED: return len == SB_RESTORED_SIZE;
	default: return false;
	}
}

int sb_rx_next(struct sb_rx *rx, struct sb_frame *f, const char **msg)
{
	size_t have = rx->len - rx->off;
	if (have < SB_FRAME_HDR)
		return 0;
	const uint8_t *h = rx->buf + rx->off;
	uint32_t len = sb_get_u32(h);
	if (len > SB_FRAME_MAX) {
		*msg = "frame too long";
		return -1;
	}
	if (h[5] | h[6] | h[7]) {
		*msg = "bad frame header";
		return -1;
	}
	if (have - SB_FRAME_HDR < len)
		return 0;
	f->type = h[4];
	f->len = len;
	f->data = h + SB_FRAME_HDR;
	rx->off += SB_FRAME_HDR + len;
	return 1;
}

int sb_tx_init(struct sb_tx *tx, size_t cap)
{
	if (cap < SB_FRAME_HDR + SB_FRAME_MAX)
		cap = SB_FRAME_HDR + SB_FRAME_MAX;
	tx->buf = malloc(cap);
	tx->cap = cap;
	tx->len = tx->off = 0;
	return tx->buf ? 0 : -1;
}

void sb_tx_free(struct sb_tx *tx)
{
	free(tx->buf);
	tx->buf = NULL;
}

size_t sb_tx_room(const struct sb_tx *tx)
{
	size_t free_bytes = tx->cap - (tx->len - tx->off);
	return free_bytes > SB_FRAME_HDR ? free_bytes - SB_FRAME_HDR : 0;
}

uint8_t *sb_tx_reserve(struct sb_tx *tx, uint32_t len)
{
	if (len > SB_FRAME_MAX || len > sb_tx_room(tx))
		return NULL;
	if (tx->cap - tx->len < SB_FRAME_HDR + (size_t)len) {
		memmove(tx->buf, tx->buf + tx->off, tx->len - tx->off);
		tx->len -= tx->off;
		tx->off = 0;
	}
	return tx->buf + tx->len + SB_FRAME_HDR;
}

void sb_tx_commit(struct sb_tx *tx, uint8_t type, uint32_t n)
{
	uint8_t *h = tx->buf + tx->len;
	sb_put_u32(h, n);
	h[4] = type;
	h[5] = h[6] = h[7] = 0;
	tx->len += SB_FRAME_HDR + (size_t)n;
}

int sb_tx_put(struct sb_tx *tx, uint8_t type, const void *data, uint32_t len)
{
	uint8_t *p = sb_tx_reserve(tx, len);
	if (!p)
		return -1;
	if (len)
		memcpy(p, data, len);
	sb_tx_commit(tx, type, len);
	return 0;
}

int sb_tx_flush(struct sb_tx *tx, int fd)
{
	while (tx->off < tx->len) {
		ssize_t n = write(fd, tx->buf + tx->off, tx->len - tx->off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 1;
		if (n <= 0)
			return -1;
		tx->off += (size_t)n;
	}
	tx->len = tx->off = 0;
	return 0;
}

void sb_restored_encode(const struct sb_restored *r, uint8_t out[SB_RESTORED_SIZE])
{
	memset(out, 0, SB_RESTORED_SIZE);
	sb_put_u32(out, (uint32_t)r->realtime_ns);
	sb_put_u32(out + 4, (uint32_t)(r->realtime_ns >> 32));
	memcpy(out + 8, r->seed, SB_SEED_LEN);
	memcpy(out + 72, r->mac, 6);
	out[78] = r->has_net;
	out[79] = r->prefix;
	memcpy(out + 80, &r->addr, 4);
	memcpy(out + 84, &r->gw, 4);
	memcpy(out + 88, r->hostname, strnlen(r->hostname, 63));
}

int sb_restored_decode(const uint8_t *in, size_t len, struct sb_restored *r)
{
	if (len != SB_RESTORED_SIZE)
		return -1;
	memset(r, 0, sizeof(*r));
	r->realtime_ns = sb_get_u32(in) | (uint64_t)sb_get_u32(in + 4) << 32;
	memcpy(r->seed, in + 8, SB_SEED_LEN);
	memcpy(r->mac, in + 72, 6);
	if (in[78] > 1 || in[79] > 32)
		return -1;
	r->has_net = in[78];
	r->prefix = in[79];
	memcpy(&r->addr, in + 80, 4);
	memcpy(&r->gw, in + 84, 4);
	const char *h = (const char *)in + 88;
	size_t n = strnlen(h, 64);
	if (n == 64)
		return -1;
	for (size_t i = 0; i < n; i++)
		if (!(isalnum((unsigned char)h[i]) || h[i] == '-' || h[i] == '.'))
			return -1;
	memcpy(r->hostname, h, n);
	/* the rest of the field must be zero */
	for (size_t i = n; i < 64; i++)
		if (h[i])
			return -1;
	for (size_t i = 152; i < SB_RESTORED_SIZE; i++)
		if (in[i])
			return -1;
	return 0;
}
