/* The agent protocol's framing (common/proto.c): whole frames in any
 * split, hostile headers and payloads refused, back-pressure accounting,
 * CONFIG packing. */
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>

#include "../../common/proto.h"
#include "../../common/spec.h"

static size_t frame(uint8_t *out, uint8_t type, const void *data, uint32_t len)
{
	sb_put_u32(out, len);
	out[4] = type;
	out[5] = out[6] = out[7] = 0;
	memcpy(out + SB_FRAME_HDR, data, len);
	return SB_FRAME_HDR + len;
}

static void test_frames_any_split(void **state)
{
	(void)state;
	uint8_t buf[256];
	size_t n = frame(buf, SB_F_STDOUT, "hello", 5);
	n += frame(buf + n, SB_F_EXIT, "\x2a\0\0\0", 4);
	for (size_t split = 0; split <= n; split++) {
		struct sb_rx rx;
		struct sb_frame f;
		const char *msg;
		assert_int_equal(sb_rx_init(&rx), 0);
		sb_rx_feed(&rx, buf, split);
		int got = 0;
		while (sb_rx_next(&rx, &f, &msg) == 1)
			got++;
		sb_rx_feed(&rx, buf + split, n - split);
		while (sb_rx_next(&rx, &f, &msg) == 1) {
			got++;
			if (f.type == SB_F_EXIT)
				assert_int_equal(sb_get_u32(f.data), 42);
			else
				assert_memory_equal(f.data, "hello", 5);
		}
		assert_int_equal(got, 2);
		sb_rx_free(&rx);
	}
}

static void test_hostile_headers(void **state)
{
	(void)state;
	struct sb_rx rx;
	struct sb_frame f;
	const char *msg = NULL;
	uint8_t h[SB_FRAME_HDR] = { 0 };
	assert_int_equal(sb_rx_init(&rx), 0);
	sb_put_u32(h, SB_FRAME_MAX + 1);           /* too long */
	h[4] = SB_F_STDOUT;
	sb_rx_feed(&rx, h, sizeof(h));
	assert_int_equal(sb_rx_next(&rx, &f, &msg), -1);
	assert_non_null(msg);
	sb_rx_free(&rx);

	assert_int_equal(sb_rx_init(&rx), 0);
	sb_put_u32(h, 0xffffffffu);                /* wraps if added carelessly */
	sb_rx_feed(&rx, h, sizeof(h));
	assert_int_equal(sb_rx_next(&rx, &f, &msg), -1);
	sb_rx_free(&rx);

	assert_int_equal(sb_rx_init(&rx), 0);
	sb_put_u32(h, 0);
	h[7] = 1;                                  /* reserved bytes must be 0 */
	sb_rx_feed(&rx, h, sizeof(h));
	assert_int_equal(sb_rx_next(&rx, &f, &msg), -1);
	sb_rx_free(&rx);
}

static void test_validity_by_direction(void **state)
{
	(void)state;
	assert_true(sb_frame_valid(SB_F_STDOUT, 10, true));
	assert_false(sb_frame_valid(SB_F_STDOUT, 10, false));  /* the host never sends output */
	assert_false(sb_frame_valid(SB_F_CONFIG, 10, true));   /* the guest never sends config */
	assert_true(sb_frame_valid(SB_F_EXIT, 4, true));
	assert_false(sb_frame_valid(SB_F_EXIT, 3, true));
	assert_false(sb_frame_valid(SB_F_EXIT, 5, true));
	assert_true(sb_frame_valid(SB_F_SIGNAL, 4, false));
	assert_false(sb_frame_valid(SB_F_SIGNAL, 0, false));
	assert_false(sb_frame_valid(SB_F_BYE, 1, false));
	assert_false(sb_frame_valid(0, 0, true));
	assert_false(sb_frame_valid(255, 0, false));
	assert_false(sb_frame_valid(SB_F_STDIN, SB_FRAME_MAX + 1, false));
}

static void test_tx_room_and_flush(void **state)
{
	(void)state;
	struct sb_tx tx;
	int sv[2];
	static uint8_t big[SB_FRAME_MAX];
	assert_int_equal(sb_tx_init(&tx, 0), 0);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK, 0, sv), 0);
	assert_true(sb_tx_room(&tx) >= SB_FRAME_MAX);
	assert_int_equal(sb_tx_put(&tx, SB_F_STDOUT, big, SB_FRAME_MAX), 0);
	assert_int_equal(sb_tx_put(&tx, SB_F_STDOUT, big, 1), -1);  /* full: the caller waits */
	assert_int_equal(sb_tx_put(&tx, SB_F_STDOUT, big, SB_FRAME_MAX + 1), -1);
	int r = sb_tx_flush(&tx, sv[0]);
	assert_true(r == 0 || r == 1);
	/* drain the peer until everything went through */
	struct sb_rx rx;
	struct sb_frame f;
	const char *msg;
	int frames = 0;
	assert_int_equal(sb_rx_init(&rx), 0);
	while (frames == 0) {
		sb_rx_fill(&rx, sv[1]);
		if (!sb_tx_empty(&tx))
			sb_tx_flush(&tx, sv[0]);
		while (sb_rx_next(&rx, &f, &msg) == 1) {
			assert_int_equal(f.len, SB_FRAME_MAX);
			frames++;
		}
	}
	assert_true(sb_tx_empty(&tx));
	assert_int_equal(sb_tx_put(&tx, SB_F_STDOUT, big, 1), 0);
	sb_rx_free(&rx);
	sb_tx_free(&tx);
	close(sv[0]);
	close(sv[1]);
}

/* CONFIG carries the spec's encoding (common/spec.h; its own tests are
 * test_spec.c) through the framing unchanged, as relay.c sends it and
 * agent.c decodes it. */
static void test_config_carries_spec(void **state)
{
	(void)state;
	struct cspec in = { .hostname = "box", .argv = { "sh", "-c", "echo a b" }, .nargv = 3,
			    .image_dev = "vda", .image_fs = "erofs" };
	static uint8_t buf[CSPEC_MAX_SIZE];
	size_t len;
	struct cspec_err e;
	struct sb_tx tx;
	struct sb_rx rx;
	struct sb_frame f;
	const char *msg;
	static struct cspec out;
	assert_int_equal(cspec_encode(&in, buf, sizeof(buf), &len, &e), 0);
	assert_true(sb_frame_valid(SB_F_CONFIG, (uint32_t)len, false));
	assert_int_equal(sb_tx_init(&tx, 0), 0);
	assert_int_equal(sb_rx_init(&rx), 0);
	assert_int_equal(sb_tx_put(&tx, SB_F_CONFIG, buf, (uint32_t)len), 0);
	sb_rx_feed(&rx, tx.buf + tx.off, tx.len - tx.off);
	assert_int_equal(sb_rx_next(&rx, &f, &msg), 1);
	assert_int_equal(f.type, SB_F_CONFIG);
	assert_int_equal(f.len, len);
	assert_int_equal(cspec_decode(f.data, f.len, &out, &e), 0);
	assert_int_equal(out.nargv, 3);
	assert_string_equal(out.argv[2], "echo a b");
	assert_string_equal(out.image_fs, "erofs");
	/* The largest spec fits one frame. */
	assert_true(CSPEC_MAX_SIZE <= SB_FRAME_MAX);
	sb_rx_free(&rx);
	sb_tx_free(&tx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_frames_any_split),
		cmocka_unit_test(test_hostile_headers),
		cmocka_unit_test(test_validity_by_direction),
		cmocka_unit_test(test_tx_room_and_flush),
		cmocka_unit_test(test_config_carries_spec),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
