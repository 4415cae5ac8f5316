/* The agent protocol: one vsock stream between the sandbox owner on the
 * host (vmm/relay.c) and the guest's PID 1 (guest-init/agent.c).
 *
 * The guest connects to (CID 2, port SB_AGENT_PORT) as soon as it runs:
 * that connection carries the container's first process. Once it runs,
 * the guest listens on SB_EXEC_PORT: each host connection there carries
 * one `sandbox exec` process (EXEC first instead of CONFIG), so every
 * process has its own stream and flow control.
 * Everything after is frames: an 8-byte header (u32 payload length, little
 * endian; u8 type; 3 zero bytes) and the payload.
 *
 *   host → guest  CONFIG     the container's spec, encoded (common/spec.h)
 *                 STDIN      bytes for the container's stdin
 *                 STDIN_EOF  the host's stdin ended
 *                 SIGNAL     u32 signal number for the container
 *                 WINSIZE    u16 rows, u16 cols (the host's terminal)
 *                 BYE        the host has everything up to EXIT
 *                 EXEC       (an exec connection's first frame) the
 *                            process to start, encoded as a spec (or
 *                            a sandbox cp action: tar as stdin/stdout)
 *                 DETACH     the host goes; the process stays (exec -d)
 *                 QUIESCE    (snapshots) send nothing more after QUIESCED
 *                            until RESUME or RESTORED
 *                 RESUME     carry on (the snapshot is taken, or failed)
 *                 RESTORED   carry on as a new sandbox restored from a
 *                            snapshot: struct sb_restored (reseed the
 *                            random pool, step the clock, new identity)
 *   guest → host  STARTED    the exec'd process runs (sent on exec
 *                            connections once exec(2) succeeded)
 *                 STDOUT / STDERR  its output
 *                 EXIT       u32 exit status (128+N: signal N), after the
 *                            last output; the guest waits for BYE, then ends.
 *                 QUIESCED   the last frame before RESUME/RESTORED: every
 *                            frame before it is whole and sent
 *                 RESUMED    RESUME or RESTORED is done (a clone has its
 *                            new identity): execs are taken again
 *                 OOM        u32: how many of the container's processes
 *                            the OOM killer killed so far (its cgroup's
 *                            memory.events oom_kill; PID 1's first
 *                            connection only), sent when it grew; the
 *                            host takes a count that grew and is at most
 *                            SB_OOM_MAX, and nothing else
 *
 * Both ends are hostile to each other in principle (the guest certainly
 * is): a frame longer than SB_FRAME_MAX, an unknown type or a payload of
 * the wrong size is a protocol error that ends the connection, nothing
 * else. The same code (proto.c) is built into the VMM and the static
 * guest-init. */
#ifndef SANDBOX_PROTO_H
#define SANDBOX_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SB_AGENT_PORT 1024
#define SB_EXEC_PORT 1025
#define SB_FRAME_HDR 8
#define SB_FRAME_MAX (256 * 1024)   /* payload bytes */
#define SB_DATA_CHUNK (32 * 1024)   /* STDIN/STDOUT/STDERR payloads we send */

enum sb_frame_type {
	SB_F_CONFIG = 1,
	SB_F_STDIN = 2,
	SB_F_STDIN_EOF = 3,
	SB_F_SIGNAL = 4,
	SB_F_WINSIZE = 5,
	SB_F_BYE = 6,
	SB_F_EXEC = 7,
	SB_F_DETACH = 8,
	SB_F_QUIESCE = 9,
	SB_F_RESUME = 10,
	SB_F_RESTORED = 11,
	SB_F_STARTED = 16,
	SB_F_STDOUT = 17,
	SB_F_STDERR = 18,
	SB_F_EXIT = 19,
	SB_F_QUIESCED = 20,
	SB_F_RESUMED = 21,
	SB_F_OOM = 22,
};

#define SB_OOM_MAX 1000000000u      /* an OOM frame's count, at most */

/* RESTORED's payload (SB_RESTORED_SIZE bytes, little endian):
 *   u64 realtime_ns, u8 seed[64], u8 mac[6], u8 has_net, u8 prefix,
 *   u32 addr, u32 gw (network byte order), char hostname[64] (NUL-padded) */
#define SB_RESTORED_SIZE 160
#define SB_SEED_LEN 64
struct sb_restored {
	uint64_t realtime_ns;
	uint8_t seed[SB_SEED_LEN];
	uint8_t mac[6];
	bool has_net;
	uint8_t prefix;
	uint32_t addr, gw;
	char hostname[64];
};
void sb_restored_encode(const struct sb_restored *r, uint8_t out[SB_RESTORED_SIZE]);
/* -1 if a field is out of range (prefix > 32, hostname not terminated or
 * not a valid host name). */
int sb_restored_decode(const uint8_t *in, size_t len, struct sb_restored *r);

struct sb_frame {
	uint8_t type;
	uint32_t len;
	const uint8_t *data;        /* points into the rx buffer */
};

/* Receive side: bytes in, whole frames out. */
struct sb_rx {
	uint8_t *buf;               /* SB_FRAME_HDR + SB_FRAME_MAX bytes */
	size_t len;                 /* bytes held */
	size_t off;                 /* start of the first unparsed frame */
};

/* Send side: frames queued until the (non-blocking) socket takes them. */
struct sb_tx {
	uint8_t *buf;
	size_t cap, len, off;
};

int sb_rx_init(struct sb_rx *rx);
void sb_rx_free(struct sb_rx *rx);
/* Read what FD has into RX: >0 bytes read, 0 end of stream, -1 error
 * (errno; EAGAIN when there is nothing now). */
long sb_rx_fill(struct sb_rx *rx, int fd);
/* Feed LEN bytes (for tests and fuzzers): returns how many were taken. */
size_t sb_rx_feed(struct sb_rx *rx, const void *data, size_t len);
/* Next whole frame: 1 with *F filled (valid until the next call), 0 when
 * more bytes are needed, -1 on a protocol error (MSG says which). */
int sb_rx_next(struct sb_rx *rx, struct sb_frame *f, const char **msg);
/* Is a frame of this type and payload length valid from a peer that is
 * the guest (FROM_GUEST) or the host? */
bool sb_frame_valid(uint8_t type, uint32_t len, bool from_guest);

int sb_tx_init(struct sb_tx *tx, size_t cap);
void sb_tx_free(struct sb_tx *tx);
/* Queue a frame; -1 if it does not fit (the caller stops reading its
 * sources until sb_tx_flush makes room). */
int sb_tx_put(struct sb_tx *tx, uint8_t type, const void *data, uint32_t len);
size_t sb_tx_room(const struct sb_tx *tx);   /* payload bytes that fit now */
/* Room for a frame of up to LEN payload bytes (LEN <= sb_tx_room), to be
 * read into directly: the payload's address, or NULL if it does not fit.
 * sb_tx_commit then queues the frame with the N <= LEN bytes written
 * there; nothing is queued without it. */
uint8_t *sb_tx_reserve(struct sb_tx *tx, uint32_t len);
void sb_tx_commit(struct sb_tx *tx, uint8_t type, uint32_t n);
/* Write what is queued: 0 all written, 1 some left (wait for POLLOUT),
 * -1 error (errno). */
int sb_tx_flush(struct sb_tx *tx, int fd);
static inline bool sb_tx_empty(const struct sb_tx *tx) { return tx->len == tx->off; }

static inline void sb_put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
	p[3] = (uint8_t)(v >> 24);
}
static inline uint32_t sb_get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

#endif
