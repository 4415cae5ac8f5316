/* The vhost-user front end (the VMM's side of the protocol; QEMU's
 * docs/interop/vhost-user.rst): messages over a connected Unix stream
 * socket, file descriptors beside them in SCM_RIGHTS. What virtio-fs needs
 * (devices/virtio_fs.c): features, protocol features, SET_OWNER, the
 * memory table and the vring messages, GET_VRING_BASE to stop a ring.
 *
 * Every reply is checked before anything in it is used: the version bits,
 * the reply flag, the request it answers and its exact size. A reply that
 * fails a check, a short read, a timeout (the socket's SO_RCVTIMEO) or a
 * send error marks the connection broken: the stream can no longer be
 * trusted to be in step, so every later call fails at once. Descriptors
 * that come with a reply are closed (none of the replies used carries one).
 *
 * Not thread-safe: the caller serialises (virtio_fs.c: under the device's
 * lock). Calls block, bounded by the socket's timeouts. */
#ifndef SANDBOX_VHOST_USER_H
#define SANDBOX_VHOST_USER_H

#include <stdbool.h>
#include <stdint.h>

#include "../memory.h"
#include "util.h"

enum vhu_request {
	VHU_GET_FEATURES = 1,
	VHU_SET_FEATURES = 2,
	VHU_SET_OWNER = 3,
	VHU_SET_MEM_TABLE = 5,
	VHU_SET_VRING_NUM = 8,
	VHU_SET_VRING_ADDR = 9,
	VHU_SET_VRING_BASE = 10,
	VHU_GET_VRING_BASE = 11,
	VHU_SET_VRING_KICK = 12,
	VHU_SET_VRING_CALL = 13,
	VHU_GET_PROTOCOL_FEATURES = 15,
	VHU_SET_PROTOCOL_FEATURES = 16,
	VHU_SET_VRING_ENABLE = 18,
};

#define VHU_VERSION 0x1u
#define VHU_FLAG_REPLY (1u << 2)
#define VHU_FLAG_NEED_REPLY (1u << 3)
#define VHU_F_PROTOCOL_FEATURES 30              /* a feature bit, never offered to the guest */
#define VHU_PROTOCOL_F_REPLY_ACK 3
#define VHU_MAX_REGIONS 8
#define VHU_VRING_NOFD (1ULL << 8)

struct vhu_hdr {
	uint32_t request;
	uint32_t flags;
	uint32_t size;                          /* payload bytes that follow */
} __attribute__((packed));

struct vhu_vring_state {
	uint32_t index;
	uint32_t num;
};

struct vhu_vring_addr {
	uint32_t index;
	uint32_t flags;
	uint64_t desc, used, avail, log;        /* the front end's addresses */
};

struct vhu_region {
	uint64_t gpa, size, uaddr, mmap_offset;
};

struct vhu_mem {
	uint32_t nregions;
	uint32_t padding;
	struct vhu_region r[VHU_MAX_REGIONS];
};

struct vhu {
	int fd;                                 /* connected stream socket; -1: none */
	bool broken;                            /* out of step: every call fails */
	uint64_t features;                      /* the back end's (GET_FEATURES) */
	uint64_t protocol;                      /* protocol features agreed on */
};

/* Connect to PATH (waiting up to WAIT_MS for a daemon that has not
 * listened yet), with send and receive timeouts of TIMEOUT_MS. */
int vhu_connect(struct vhu *v, const char *path, unsigned wait_ms, unsigned timeout_ms, struct err *e);
/* Use FD (already connected; the unit tests' socketpair). */
void vhu_init_fd(struct vhu *v, int fd);
void vhu_close(struct vhu *v);

/* GET_FEATURES; with VHU_F_PROTOCOL_FEATURES, GET_PROTOCOL_FEATURES and
 * SET_PROTOCOL_FEATURES (what both know of WANT_PROTOCOL); SET_OWNER. */
int vhu_handshake(struct vhu *v, uint64_t want_protocol, struct err *e);
/* SET_FEATURES: F, plus VHU_F_PROTOCOL_FEATURES if the back end offers it. */
int vhu_set_features(struct vhu *v, uint64_t f, struct err *e);
/* SET_MEM_TABLE: GM's regions, each backed by MEMFD at its host offset. */
int vhu_set_mem_table(struct vhu *v, const struct guest_mem *gm, int memfd, struct err *e);
int vhu_set_vring_num(struct vhu *v, unsigned idx, unsigned num, struct err *e);
int vhu_set_vring_base(struct vhu *v, unsigned idx, unsigned base, struct err *e);
int vhu_set_vring_addr(struct vhu *v, const struct vhu_vring_addr *a, struct err *e);
/* SET_VRING_KICK / SET_VRING_CALL with FD. */
int vhu_set_vring_fd(struct vhu *v, enum vhu_request req, unsigned idx, int fd, struct err *e);
int vhu_set_vring_enable(struct vhu *v, unsigned idx, bool on, struct err *e);
/* GET_VRING_BASE: stops the ring; *BASE: where the back end got to. */
int vhu_get_vring_base(struct vhu *v, unsigned idx, unsigned *base, struct err *e);

/* The framing, for the calls above and the unit tests: send one message
 * (FDS beside it), and read the reply to REQ, whose payload must be
 * exactly LEN bytes. */
int vhu_send(struct vhu *v, uint32_t req, uint32_t flags, const void *payload, uint32_t len, const int *fds,
	     unsigned nfds, struct err *e);
int vhu_recv_reply(struct vhu *v, uint32_t req, void *payload, uint32_t len, struct err *e);

#endif
