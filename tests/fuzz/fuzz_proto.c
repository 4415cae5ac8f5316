/* libFuzzer target: the agent protocol's receive side (common/proto.c) as
 * both ends use it. The input is what a hostile guest (or host) writes to
 * the vsock stream, fed in chunks whose sizes come from the input too.
 * Every frame that comes out must lie inside the receive buffer and be
 * no longer than SB_FRAME_MAX; CONFIG payloads are decoded as guest-init
 * does (the decoder alone: fuzz_spec), every payload as memory.events
 * text (common/memevents.c); nothing may read or write out of
 * bounds (ASan). */
#include <assert.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../../common/memevents.h"
#include "../../common/proto.h"
#include "../../common/spec.h"

static void drain(struct sb_rx *rx)
{
	struct sb_frame f;
	const char *msg;
	static struct cspec spec;
	static uint8_t copy[SB_FRAME_MAX];
	int r;
	while ((r = sb_rx_next(rx, &f, &msg)) == 1) {
		assert(f.len <= SB_FRAME_MAX);
		assert(f.data >= rx->buf && f.data + f.len <= rx->buf + SB_FRAME_HDR + SB_FRAME_MAX);
		(void)sb_frame_valid(f.type, f.len, true);
		(void)sb_frame_valid(f.type, f.len, false);
		if (f.type == SB_F_CONFIG) {
			struct cspec_err e;
			memcpy(copy, f.data, f.len);
			if (cspec_decode(copy, f.len, &spec, &e) == 0)
				for (unsigned i = 0; i < spec.nargv; i++)
					assert((uint8_t *)spec.argv[i] >= copy && (uint8_t *)spec.argv[i] < copy + f.len);
		}
		if ((f.type == SB_F_EXIT || f.type == SB_F_SIGNAL) && f.len == 4)
			(void)sb_get_u32(f.data);
		/* an OOM count as the host takes it; any payload as the text
		 * of memory.events (the count's source in the guest, and the
		 * host's own file in container isolation) */
		if (f.type == SB_F_OOM && sb_frame_valid(f.type, f.len, true)) {
			uint32_t n = sb_get_u32(f.data);
			(void)(n <= SB_OOM_MAX);
		}
		uint32_t kills;
		if (memevents_oom_kill((const char *)f.data, f.len, &kills) == 0)
			assert(f.len >= 11);    /* "oom_kill N\n" at least */
	}
	if (r < 0) {            /* a protocol error ends the connection */
		assert(msg);
		rx->len = rx->off = 0;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sb_rx rx;
	if (!rx.buf && sb_rx_init(&rx))
		return 0;
	rx.len = rx.off = 0;
	/* First byte: chunk size for feeding (1..256), the rest: the stream. */
	size_t chunk = size ? (size_t)data[0] + 1 : 1;
	for (size_t off = size ? 1 : 0; off < size;) {
		size_t n = size - off < chunk ? size - off : chunk;
		size_t took = sb_rx_feed(&rx, data + off, n);
		off += took;
		drain(&rx);
		if (!took && rx.len - rx.off >= SB_FRAME_HDR + SB_FRAME_MAX)
			rx.len = rx.off = 0;    /* cannot happen: a full buffer holds a frame */
	}
	/* The send side with the same bytes as payloads. */
	static struct sb_tx tx;
	if (!tx.buf && sb_tx_init(&tx, 0))
		return 0;
	tx.len = tx.off = 0;
	while (sb_tx_put(&tx, SB_F_STDOUT, data, (uint32_t)(size < SB_DATA_CHUNK ? size : SB_DATA_CHUNK)) == 0)
		if (sb_tx_room(&tx) < SB_DATA_CHUNK)
			break;
	return 0;
}
