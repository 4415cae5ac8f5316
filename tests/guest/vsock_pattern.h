/* The byte streams the vsock end-to-end test sends: a xorshift64 sequence
 * per seed, so both ends (tests/guest/vsock-guest.c in the guest,
 * tests/tools/vsock-host.c on the host) can produce and check any stream
 * of any length without storing it. Different seeds give unrelated
 * streams, so a mixed-up or shifted stream fails the check at once. */
#ifndef SANDBOX_VSOCK_PATTERN_H
#define SANDBOX_VSOCK_PATTERN_H

#include <stdint.h>
#include <string.h>

struct pat {
	uint64_t s;
	uint64_t off;          /* bytes produced so far */
	uint8_t word[8];
};

static inline void pat_init(struct pat *p, uint64_t seed)
{
	p->s = seed * 0x9e3779b97f4a7c15ULL + 0x2545f4914f6cdd1dULL;
	p->off = 0;
}

static inline uint64_t pat_next(struct pat *p)
{
	uint64_t x = p->s;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	p->s = x;
	return x * 0x2545f4914f6cdd1dULL;
}

/* The next LEN bytes of the stream. */
static inline void pat_fill(struct pat *p, uint8_t *buf, size_t len)
{
	size_t i = 0;
	while (i < len) {
		unsigned k = (unsigned)(p->off & 7);
		if (k == 0 && len - i >= 8) {
			uint64_t v = pat_next(p);
			memcpy(buf + i, &v, 8);
			i += 8;
			p->off += 8;
			continue;
		}
		if (k == 0) {
			uint64_t v = pat_next(p);
			memcpy(p->word, &v, 8);
		}
		buf[i++] = p->word[k];
		p->off++;
	}
}

/* Check the next LEN bytes; returns the offset of the first wrong byte
 * within BUF, or -1 if all match. */
static inline long pat_check(struct pat *p, const uint8_t *buf, size_t len)
{
	uint8_t tmp[4096];
	size_t done = 0;
	while (done < len) {
		size_t n = len - done < sizeof(tmp) ? len - done : sizeof(tmp);
		pat_fill(p, tmp, n);
		if (memcmp(tmp, buf + done, n))
			for (size_t i = 0; i < n; i++)
				if (tmp[i] != buf[done + i])
					return (long)(done + i);
		done += n;
	}
	return -1;
}

#endif
