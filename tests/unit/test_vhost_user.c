/* Unit tests for the vhost-user front end's framing (vmm/virtio/vhost_user.c)
 * against a fake back end on the other end of a socketpair: the replies are
 * written before the call (the socket buffers them), what the front end
 * sent is read and checked after. Hostile replies: another request id,
 * wrong sizes, no reply flag, a bad version, descriptors beside a reply,
 * a refusal under REPLY_ACK, silence (the receive timeout) and a hang-up;
 * each leaves the connection broken, so nothing more is sent. */
#include "unit.h"

#include <dirent.h>
#include <errno.h>
#include <sys/socket.h>
#include <sys/time.h>

#include "../../vmm/virtio/vhost_user.h"

struct fx {
	struct vhu v;
	int peer;
};

static int setup(void **state)
{
	static struct fx f;
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	struct timeval tv = { 0, 200 * 1000 };   /* a silent back end: 0.2 s */
	assert_int_equal(setsockopt(sv[0], SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)), 0);
	vhu_init_fd(&f.v, sv[0]);
	f.peer = sv[1];
	*state = &f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	vhu_close(&f->v);
	if (f->peer >= 0)
		close(f->peer);
	return 0;
}

/* The back end's reply: header fields as given, then LEN payload bytes. */
static void reply(struct fx *f, uint32_t req, uint32_t flags, uint32_t size, const void *p, size_t len)
{
	struct vhu_hdr h = { .request = req, .flags = flags, .size = size };
	assert_int_equal(write(f->peer, &h, sizeof(h)), sizeof(h));
	if (len)
		assert_int_equal(write(f->peer, p, len), (ssize_t)len);
}

static void reply_u64(struct fx *f, uint32_t req, uint64_t v)
{
	reply(f, req, VHU_VERSION | VHU_FLAG_REPLY, 8, &v, 8);
}

/* The next message the front end sent: its header, payload into BUF (at
 * most CAP bytes) and the descriptors beside it (closed; their count). */
static unsigned next_msg(struct fx *f, struct vhu_hdr *h, void *buf, size_t cap)
{
	union {
		char b[CMSG_SPACE(sizeof(int) * VHU_MAX_REGIONS)];
		struct cmsghdr align;
	} u;
	struct iovec iov = { h, sizeof(*h) };
	struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.b, .msg_controllen = sizeof(u.b) };
	assert_int_equal(recvmsg(f->peer, &m, MSG_WAITALL), sizeof(*h));
	unsigned nfds = 0;
	for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c)) {
		size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		for (size_t i = 0; i < k; i++) {
			int fd;
			memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
			close(fd);
			nfds++;
		}
	}
	assert_true(h->size <= cap);
	if (h->size)
		assert_int_equal(recv(f->peer, buf, h->size, MSG_WAITALL), (ssize_t)h->size);
	return nfds;
}

static bool nothing_sent(struct fx *f)
{
	char c;
	return recv(f->peer, &c, 1, MSG_DONTWAIT) < 0 && errno == EAGAIN;
}

static void test_handshake(void **state)
{
	struct fx *f = *state;
	struct err e = { 0 };
	uint64_t feat = (1ULL << 32) | (1ULL << VHU_F_PROTOCOL_FEATURES) | (1ULL << 28);
	reply_u64(f, VHU_GET_FEATURES, feat);
	reply_u64(f, VHU_GET_PROTOCOL_FEATURES, (1ULL << VHU_PROTOCOL_F_REPLY_ACK) | 1 /* MQ */);
	reply_u64(f, VHU_SET_OWNER, 0);                 /* the ack */
	assert_int_equal(vhu_handshake(&f->v, 1ULL << VHU_PROTOCOL_F_REPLY_ACK, &e), 0);
	assert_int_equal(f->v.features, feat);
	assert_int_equal(f->v.protocol, 1ULL << VHU_PROTOCOL_F_REPLY_ACK);   /* MQ was not asked for */

	struct vhu_hdr h;
	uint64_t p;
	assert_int_equal(next_msg(f, &h, &p, 8), 0);
	assert_int_equal(h.request, VHU_GET_FEATURES);
	assert_int_equal(h.flags, VHU_VERSION);
	assert_int_equal(h.size, 0);
	next_msg(f, &h, &p, 8);
	assert_int_equal(h.request, VHU_GET_PROTOCOL_FEATURES);
	next_msg(f, &h, &p, 8);
	assert_int_equal(h.request, VHU_SET_PROTOCOL_FEATURES);
	assert_int_equal(h.size, 8);
	assert_int_equal(p, 1ULL << VHU_PROTOCOL_F_REPLY_ACK);
	next_msg(f, &h, &p, 8);
	assert_int_equal(h.request, VHU_SET_OWNER);
	assert_int_equal(h.flags, VHU_VERSION | VHU_FLAG_NEED_REPLY);

	/* SET_FEATURES keeps the protocol-features bit the back end offered. */
	reply_u64(f, VHU_SET_FEATURES, 0);
	assert_int_equal(vhu_set_features(&f->v, 1ULL << 32, &e), 0);
	next_msg(f, &h, &p, 8);
	assert_int_equal(h.request, VHU_SET_FEATURES);
	assert_int_equal(p, (1ULL << 32) | (1ULL << VHU_F_PROTOCOL_FEATURES));
	assert_true(nothing_sent(f));
}

/* Without protocol features: no protocol messages, no acks. */
static void test_handshake_plain(void **state)
{
	struct fx *f = *state;
	struct err e = { 0 };
	reply_u64(f, VHU_GET_FEATURES, 1ULL << 32);
	assert_int_equal(vhu_handshake(&f->v, 1ULL << VHU_PROTOCOL_F_REPLY_ACK, &e), 0);
	assert_int_equal(f->v.protocol, 0);
	struct vhu_hdr h;
	uint64_t p;
	next_msg(f, &h, &p, 8);
	assert_int_equal(h.request, VHU_GET_FEATURES);
	next_msg(f, &h, &p, 8);
	assert_int_equal(h.request, VHU_SET_OWNER);
	assert_int_equal(h.flags, VHU_VERSION);
	assert_true(nothing_sent(f));
}

/* A hostile reply to GET_FEATURES, then: the call fails with MSG in the
 * error, the connection is broken and the next call sends nothing. */
static void hostile(struct fx *f, const char *msg)
{
	struct err e = { 0 };
	assert_int_equal(vhu_handshake(&f->v, 0, &e), -1);
	if (!strstr(e.msg, msg))
		fail_msg("error '%s' does not say '%s'", e.msg, msg);
	assert_true(f->v.broken);
	struct vhu_hdr h;
	uint64_t p;
	next_msg(f, &h, &p, 8);         /* the GET_FEATURES that was answered badly */
	e.msg[0] = '\0';
	assert_int_equal(vhu_set_vring_num(&f->v, 0, 128, &e), -1);
	assert_non_null(strstr(e.msg, "broken"));
	assert_true(nothing_sent(f));
}

static void test_wrong_request(void **state)
{
	struct fx *f = *state;
	reply_u64(f, VHU_GET_PROTOCOL_FEATURES, 1);
	hostile(f, "the reply is to request 15");
}

static void test_wrong_size_short(void **state)
{
	struct fx *f = *state;
	uint32_t v = 1;
	reply(f, VHU_GET_FEATURES, VHU_VERSION | VHU_FLAG_REPLY, 4, &v, 4);
	hostile(f, "reply of 4 bytes, want 8");
}

static void test_wrong_size_long(void **state)
{
	struct fx *f = *state;
	uint8_t big[64] = { 0 };
	reply(f, VHU_GET_FEATURES, VHU_VERSION | VHU_FLAG_REPLY, sizeof(big), big, sizeof(big));
	hostile(f, "reply of 64 bytes, want 8");
}

static void test_huge_size(void **state)
{
	struct fx *f = *state;
	reply(f, VHU_GET_FEATURES, VHU_VERSION | VHU_FLAG_REPLY, 0xffffffffu, NULL, 0);
	hostile(f, "want 8");
}

static void test_no_reply_flag(void **state)
{
	struct fx *f = *state;
	uint64_t v = 1;
	reply(f, VHU_GET_FEATURES, VHU_VERSION, 8, &v, 8);
	hostile(f, "bad reply flags");
}

static void test_bad_version(void **state)
{
	struct fx *f = *state;
	uint64_t v = 1;
	reply(f, VHU_GET_FEATURES, 2 | VHU_FLAG_REPLY, 8, &v, 8);
	hostile(f, "bad reply flags");
}

static void test_truncated_payload(void **state)
{
	struct fx *f = *state;
	uint32_t v = 1;
	reply(f, VHU_GET_FEATURES, VHU_VERSION | VHU_FLAG_REPLY, 8, &v, 4);
	shutdown(f->peer, SHUT_WR);
	hostile(f, "closed the connection");
}

static void test_silence(void **state)
{
	struct fx *f = *state;
	hostile(f, "no reply from the daemon in time");
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;
	assert_non_null(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

/* Descriptors beside a reply are not kept. */
static void test_reply_fds_closed(void **state)
{
	struct fx *f = *state;
	struct err e = { 0 };
	int before = count_fds();
	int fds[3] = { dup(0), dup(0), dup(0) };
	struct vhu_hdr h = { .request = VHU_GET_FEATURES, .flags = VHU_VERSION | VHU_FLAG_REPLY, .size = 8 };
	uint64_t v = 1ULL << 32;
	struct iovec iov[2] = { { &h, sizeof(h) }, { &v, 8 } };
	union {
		char b[CMSG_SPACE(sizeof(fds))];
		struct cmsghdr align;
	} u;
	memset(&u, 0, sizeof(u));
	struct msghdr m = { .msg_iov = iov, .msg_iovlen = 2, .msg_control = u.b, .msg_controllen = sizeof(u.b) };
	struct cmsghdr *c = CMSG_FIRSTHDR(&m);
	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(fds));
	memcpy(CMSG_DATA(c), fds, sizeof(fds));
	assert_int_equal(sendmsg(f->peer, &m, 0), sizeof(h) + 8);
	for (int i = 0; i < 3; i++)
		close(fds[i]);
	assert_int_equal(vhu_handshake(&f->v, 0, &e), 0);
	assert_int_equal(count_fds(), before);
}

/* REPLY_ACK: a nonzero status is a refusal. */
static void test_ack_refused(void **state)
{
	struct fx *f = *state;
	struct err e = { 0 };
	f->v.protocol = 1ULL << VHU_PROTOCOL_F_REPLY_ACK;
	reply_u64(f, VHU_SET_VRING_NUM, 1);
	assert_int_equal(vhu_set_vring_num(&f->v, 1, 256, &e), -1);
	assert_non_null(strstr(e.msg, "refused"));
	struct vhu_hdr h;
	struct vhu_vring_state s;
	next_msg(f, &h, &s, sizeof(s));
	assert_int_equal(h.request, VHU_SET_VRING_NUM);
	assert_int_equal(h.flags, VHU_VERSION | VHU_FLAG_NEED_REPLY);
	assert_int_equal(s.index, 1);
	assert_int_equal(s.num, 256);
	/* An ack for another request is out of step. */
	reply_u64(f, VHU_SET_VRING_ADDR, 0);
	assert_int_equal(vhu_set_vring_base(&f->v, 1, 0, &e), -1);
	assert_non_null(strstr(e.msg, "the reply is to request 9"));
	assert_true(f->v.broken);
}

static void test_get_vring_base(void **state)
{
	struct fx *f = *state;
	struct err e = { 0 };
	struct vhu_vring_state s = { .index = 1, .num = 42 };
	reply(f, VHU_GET_VRING_BASE, VHU_VERSION | VHU_FLAG_REPLY, sizeof(s), &s, sizeof(s));
	unsigned base = 0;
	assert_int_equal(vhu_get_vring_base(&f->v, 1, &base, &e), 0);
	assert_int_equal(base, 42);
	/* the state of another ring */
	s.index = 0;
	reply(f, VHU_GET_VRING_BASE, VHU_VERSION | VHU_FLAG_REPLY, sizeof(s), &s, sizeof(s));
	assert_int_equal(vhu_get_vring_base(&f->v, 1, &base, &e), -1);
	assert_non_null(strstr(e.msg, "for ring 0, not 1"));
	assert_true(f->v.broken);
}

static void test_get_vring_base_range(void **state)
{
	struct fx *f = *state;
	struct err e = { 0 };
	struct vhu_vring_state s = { .index = 0, .num = 0x10000 };
	reply(f, VHU_GET_VRING_BASE, VHU_VERSION | VHU_FLAG_REPLY, sizeof(s), &s, sizeof(s));
	unsigned base = 0;
	assert_int_equal(vhu_get_vring_base(&f->v, 0, &base, &e), -1);
	assert_non_null(strstr(e.msg, "out of range"));
}

/* The memory table: one descriptor per region, offsets and addresses. */
static void test_mem_table(void **state)
{
	struct fx *f = *state;
	struct err e = { 0 };
	static uint8_t buf[4 * 1024 * 1024];
	struct guest_mem gm;
	gm_wrap(&gm, buf, sizeof(buf));
	int memfd = dup(0);
	assert_int_equal(vhu_set_mem_table(&f->v, &gm, memfd, &e), 0);
	close(memfd);
	struct vhu_hdr h;
	struct vhu_mem m;
	assert_int_equal(next_msg(f, &h, &m, sizeof(m)), gm.nregions);
	assert_int_equal(h.request, VHU_SET_MEM_TABLE);
	assert_int_equal(h.size, 8 + 32 * gm.nregions);
	assert_int_equal(m.nregions, 1);
	assert_int_equal(m.r[0].gpa, 0);
	assert_int_equal(m.r[0].size, sizeof(buf));
	assert_int_equal(m.r[0].uaddr, (uint64_t)(uintptr_t)buf);
	assert_int_equal(m.r[0].mmap_offset, 0);
}

/* Kick and call: the ring index, the descriptor beside it. */
static void test_vring_fd(void **state)
{
	struct fx *f = *state;
	struct err e = { 0 };
	int fd = dup(0);
	assert_int_equal(vhu_set_vring_fd(&f->v, VHU_SET_VRING_KICK, 1, fd, &e), 0);
	close(fd);
	struct vhu_hdr h;
	uint64_t u;
	assert_int_equal(next_msg(f, &h, &u, 8), 1);
	assert_int_equal(h.request, VHU_SET_VRING_KICK);
	assert_int_equal(u, 1);
}

/* A back end that is gone: sending fails (no SIGPIPE), broken. */
static void test_send_to_closed(void **state)
{
	struct fx *f = *state;
	struct err e = { 0 };
	close(f->peer);
	f->peer = -1;
	assert_int_equal(vhu_set_vring_enable(&f->v, 0, true, &e), -1);
	assert_true(f->v.broken);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_handshake, setup, teardown),
		cmocka_unit_test_setup_teardown(test_handshake_plain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_request, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_size_short, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_size_long, setup, teardown),
		cmocka_unit_test_setup_teardown(test_huge_size, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_reply_flag, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_version, setup, teardown),
		cmocka_unit_test_setup_teardown(test_truncated_payload, setup, teardown),
		cmocka_unit_test_setup_teardown(test_silence, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reply_fds_closed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ack_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_get_vring_base, setup, teardown),
		cmocka_unit_test_setup_teardown(test_get_vring_base_range, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mem_table, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vring_fd, setup, teardown),
		cmocka_unit_test_setup_teardown(test_send_to_closed, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
