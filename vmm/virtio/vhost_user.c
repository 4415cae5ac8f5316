/* The vhost-user front end: framing and the messages virtio-fs uses (see
 * vhost_user.h). */
#include "vhost_user.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

static const char *req_name(uint32_t r)
{
	switch (r) {
	case VHU_GET_FEATURES: return "GET_FEATURES";
	case VHU_SET_FEATURES: return "SET_FEATURES";
	case VHU_SET_OWNER: return "SET_OWNER";
	case VHU_SET_MEM_TABLE: return "SET_MEM_TABLE";
	case VHU_SET_VRING_NUM: return "SET_VRING_NUM";
	case VHU_SET_VRING_ADDR: return "SET_VRING_ADDR";
	case VHU_SET_VRING_BASE: return "SET_VRING_BASE";
	case VHU_GET_VRING_BASE: return "GET_VRING_BASE";
	case VHU_SET_VRING_KICK: return "SET_VRING_KICK";
	case VHU_SET_VRING_CALL: return "SET_VRING_CALL";
	case VHU_GET_PROTOCOL_FEATURES: return "GET_PROTOCOL_FEATURES";
	case VHU_SET_PROTOCOL_FEATURES: return "SET_PROTOCOL_FEATURES";
	case VHU_SET_VRING_ENABLE: return "SET_VRING_ENABLE";
	}
	return "?";
}

void vhu_init_fd(struct vhu *v, int fd)
{
	memset(v, 0, sizeof(*v));
	v->fd = fd;
}

void vhu_close(struct vhu *v)
{
	if (v->fd >= 0)
		close(v->fd);
	v->fd = -1;
	v->broken = true;
}

int vhu_connect(struct vhu *v, const char *path, unsigned wait_ms, unsigned timeout_ms, struct err *e)
{
	vhu_init_fd(v, -1);
	struct sockaddr_un a = { .sun_family = AF_UNIX };
	if (strlen(path) >= sizeof(a.sun_path))
		return err_set(e, "vhost-user socket %s: path too long", path);
	memcpy(a.sun_path, path, strlen(path) + 1);
	uint64_t deadline = now_ns() + (uint64_t)wait_ms * 1000000ULL;
	for (;;) {
		int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return err_sys(e, "vhost-user socket");
		if (connect(fd, (struct sockaddr *)&a, sizeof(a)) == 0) {
			struct timeval tv = { .tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000 };
			if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ||
			    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv))) {
				err_sys(e, "vhost-user socket %s: timeouts", path);
				close(fd);
				return -1;
			}
			v->fd = fd;
			return 0;
		}
		int errnum = errno;
		close(fd);
		/* Not there yet, or bound but not yet listening. */
		if ((errnum != ENOENT && errnum != ECONNREFUSED) || now_ns() >= deadline)
			return err_errno(e, errnum, "connect to vhost-user daemon %s", path);
		struct timespec ts = { 0, 10 * 1000000L };
		nanosleep(&ts, NULL);
	}
}

static int broken(struct vhu *v, struct err *e)
{
	v->broken = true;
	(void)e;
	return -1;
}

int vhu_send(struct vhu *v, uint32_t req, uint32_t flags, const void *payload, uint32_t len, const int *fds,
	     unsigned nfds, struct err *e)
{
	if (v->broken || v->fd < 0)
		return err_set(e, "vhost-user %s: the connection is broken", req_name(req));
	if (nfds > VHU_MAX_REGIONS)
		return err_set(e, "vhost-user %s: too many descriptors", req_name(req));
	struct vhu_hdr h = { .request = req, .flags = VHU_VERSION | flags, .size = len };
	struct iovec iov[2] = { { &h, sizeof(h) }, { (void *)payload, len } };
	union {
		char buf[CMSG_SPACE(sizeof(int) * VHU_MAX_REGIONS)];
		struct cmsghdr align;
	} u;
	struct msghdr m = { .msg_iov = iov, .msg_iovlen = len ? 2 : 1 };
	if (nfds) {
		memset(&u, 0, sizeof(u));
		m.msg_control = u.buf;
		m.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		struct cmsghdr *c = CMSG_FIRSTHDR(&m);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
	}
	size_t want = sizeof(h) + len;
	ssize_t n;
	do
		n = sendmsg(v->fd, &m, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		err_sys(e, "vhost-user %s: send", req_name(req));
		return broken(v, e);
	}
	/* Unix stream sockets send a message this small whole, or fail. */
	if ((size_t)n != want) {
		err_set(e, "vhost-user %s: short send (%zd of %zu bytes)", req_name(req), n, want);
		return broken(v, e);
	}
	return 0;
}

/* Read exactly LEN bytes (the header's: closing any descriptor sent). */
static int read_exact(struct vhu *v, void *buf, size_t len, uint32_t req, struct err *e)
{
	size_t done = 0;
	while (done < len) {
		union {
			char buf[CMSG_SPACE(sizeof(int) * VHU_MAX_REGIONS)];
			struct cmsghdr align;
		} u;
		struct iovec iov = { (char *)buf + done, len - done };
		struct msghdr m = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = u.buf,
				    .msg_controllen = sizeof(u.buf) };
		ssize_t n = recvmsg(v->fd, &m, MSG_CMSG_CLOEXEC);
		if (n < 0 && errno == EINTR)
			continue;
		for (struct cmsghdr *c = n >= 0 ? CMSG_FIRSTHDR(&m) : NULL; c; c = CMSG_NXTHDR(&m, c)) {
			if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
				continue;
			size_t k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			for (size_t i = 0; i < k; i++) {
				int fd;
				memcpy(&fd, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
				close(fd);
			}
		}
		if (n < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				err_set(e, "vhost-user %s: no reply from the daemon in time", req_name(req));
			else
				err_sys(e, "vhost-user %s: receive", req_name(req));
			return broken(v, e);
		}
		if (n == 0) {
			err_set(e, "vhost-user %s: the daemon closed the connection", req_name(req));
			return broken(v, e);
		}
		done += (size_t)n;
	}
	return 0;
}

int vhu_recv_reply(struct vhu *v, uint32_t req, void *payload, uint32_t len, struct err *e)
{
	if (v->broken || v->fd < 0)
		return err_set(e, "vhost-user %s: the connection is broken", req_name(req));
	struct vhu_hdr h;
	if (read_exact(v, &h, sizeof(h), req, e))
		return -1;
	if ((h.flags & 3) != VHU_VERSION || !(h.flags & VHU_FLAG_REPLY)) {
		err_set(e, "vhost-user %s: bad reply flags 0x%x", req_name(req), h.flags);
		return broken(v, e);
	}
	if (h.request != req) {
		err_set(e, "vhost-user %s: the reply is to request %u", req_name(req), h.request);
		return broken(v, e);
	}
	if (h.size != len) {
		err_set(e, "vhost-user %s: reply of %u bytes, want %u", req_name(req), h.size, len);
		return broken(v, e);
	}
	return len ? read_exact(v, payload, len, req, e) : 0;
}

/* Send; when the back end acknowledges (REPLY_ACK), wait for its status. */
static int send_acked(struct vhu *v, uint32_t req, const void *payload, uint32_t len, const int *fds, unsigned nfds,
		      struct err *e)
{
	bool ack = v->protocol & (1ULL << VHU_PROTOCOL_F_REPLY_ACK);
	if (vhu_send(v, req, ack ? VHU_FLAG_NEED_REPLY : 0, payload, len, fds, nfds, e))
		return -1;
	if (!ack)
		return 0;
	uint64_t st;
	if (vhu_recv_reply(v, req, &st, sizeof(st), e))
		return -1;
	if (st)
		return err_set(e, "vhost-user %s: the daemon refused it (status %llu)", req_name(req),
			       (unsigned long long)st);
	return 0;
}

static int get_u64(struct vhu *v, uint32_t req, uint64_t *out, struct err *e)
{
	if (vhu_send(v, req, 0, NULL, 0, NULL, 0, e))
		return -1;
	return vhu_recv_reply(v, req, out, sizeof(*out), e);
}

int vhu_handshake(struct vhu *v, uint64_t want_protocol, struct err *e)
{
	if (get_u64(v, VHU_GET_FEATURES, &v->features, e))
		return -1;
	if (v->features & (1ULL << VHU_F_PROTOCOL_FEATURES)) {
		uint64_t p;
		if (get_u64(v, VHU_GET_PROTOCOL_FEATURES, &p, e))
			return -1;
		p &= want_protocol;
		/* Not acknowledged: REPLY_ACK applies from the next message. */
		if (vhu_send(v, VHU_SET_PROTOCOL_FEATURES, 0, &p, sizeof(p), NULL, 0, e))
			return -1;
		v->protocol = p;
	}
	return send_acked(v, VHU_SET_OWNER, NULL, 0, NULL, 0, e);
}

int vhu_set_features(struct vhu *v, uint64_t f, struct err *e)
{
	f |= v->features & (1ULL << VHU_F_PROTOCOL_FEATURES);
	return send_acked(v, VHU_SET_FEATURES, &f, sizeof(f), NULL, 0, e);
}

int vhu_set_mem_table(struct vhu *v, const struct guest_mem *gm, int memfd, struct err *e)
{
	struct vhu_mem m = { .nregions = gm->nregions };
	int fds[VHU_MAX_REGIONS];
	if (gm->nregions > VHU_MAX_REGIONS)
		return err_set(e, "vhost-user SET_MEM_TABLE: too many regions");
	for (unsigned i = 0; i < gm->nregions; i++) {
		m.r[i] = (struct vhu_region){ .gpa = gm->r[i].gpa, .size = gm->r[i].len,
					      .uaddr = (uint64_t)(uintptr_t)(gm->host + gm->r[i].host_off),
					      .mmap_offset = gm->r[i].host_off };
		fds[i] = memfd;
	}
	/* The payload is the header and the regions used. */
	uint32_t len = (uint32_t)(8 + sizeof(struct vhu_region) * gm->nregions);
	return send_acked(v, VHU_SET_MEM_TABLE, &m, len, fds, gm->nregions, e);
}

static int set_state(struct vhu *v, uint32_t req, unsigned idx, unsigned num, struct err *e)
{
	struct vhu_vring_state s = { .index = idx, .num = num };
	return send_acked(v, req, &s, sizeof(s), NULL, 0, e);
}

int vhu_set_vring_num(struct vhu *v, unsigned idx, unsigned num, struct err *e)
{
	return set_state(v, VHU_SET_VRING_NUM, idx, num, e);
}

int vhu_set_vring_base(struct vhu *v, unsigned idx, unsigned base, struct err *e)
{
	return set_state(v, VHU_SET_VRING_BASE, idx, base, e);
}

int vhu_set_vring_enable(struct vhu *v, unsigned idx, bool on, struct err *e)
{
	return set_state(v, VHU_SET_VRING_ENABLE, idx, on, e);
}

int vhu_set_vring_addr(struct vhu *v, const struct vhu_vring_addr *a, struct err *e)
{
	return send_acked(v, VHU_SET_VRING_ADDR, a, sizeof(*a), NULL, 0, e);
}

int vhu_set_vring_fd(struct vhu *v, enum vhu_request req, unsigned idx, int fd, struct err *e)
{
	uint64_t u = idx | (fd < 0 ? VHU_VRING_NOFD : 0);
	return send_acked(v, req, &u, sizeof(u), fd < 0 ? NULL : &fd, fd < 0 ? 0 : 1, e);
}

int vhu_get_vring_base(struct vhu *v, unsigned idx, unsigned *base, struct err *e)
{
	struct vhu_vring_state s = { .index = idx };
	if (vhu_send(v, VHU_GET_VRING_BASE, 0, &s, sizeof(s), NULL, 0, e) ||
	    vhu_recv_reply(v, VHU_GET_VRING_BASE, &s, sizeof(s), e))
		return -1;
	if (s.index != idx) {
		err_set(e, "vhost-user GET_VRING_BASE: the reply is for ring %u, not %u", s.index, idx);
		return broken(v, e);
	}
	if (s.num > 0xffff) {
		err_set(e, "vhost-user GET_VRING_BASE: ring %u base %u out of range", idx, s.num);
		return broken(v, e);
	}
	*base = s.num;
	return 0;
}
