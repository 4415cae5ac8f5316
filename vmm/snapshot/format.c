/* The snapshot file format (format.h): writer and checked reader. */
#include "format.h"

#include <stdlib.h>
#include <string.h>

void snap_w_init(struct snap_w *w) { *w = (struct snap_w){ 0 }; }
void snap_w_free(struct snap_w *w)
{
	free(w->buf);
	*w = (struct snap_w){ 0 };
}

static void put_u32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}
static uint32_t get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

void snap_w_rec(struct snap_w *w, uint32_t tag, const void *a, size_t alen, const void *b, size_t blen)
{
	size_t need = 8 + alen + blen;
	if (w->oom || alen + blen > SNAP_MAX_PAYLOAD || w->len + need > SNAP_MAX_PAYLOAD) {
		w->oom = true;
		return;
	}
	if (w->len + need > w->cap) {
		size_t cap = w->cap ? w->cap : 64 * 1024;
		while (cap < w->len + need)
			cap *= 2;
		uint8_t *nb = realloc(w->buf, cap);
		if (!nb) {
			w->oom = true;
			return;
		}
		w->buf = nb;
		w->cap = cap;
	}
	uint8_t *p = w->buf + w->len;
	put_u32(p, tag);
	put_u32(p + 4, (uint32_t)(alen + blen));
	if (alen)
		memcpy(p + 8, a, alen);
	if (blen)
		memcpy(p + 8 + alen, b, blen);
	w->len += need;
}

void snap_header(const struct snap_w *w, uint32_t cpu_fp, const char *build, uint8_t hdr[SNAP_HDR_SIZE])
{
	memset(hdr, 0, SNAP_HDR_SIZE);
	memcpy(hdr, SNAP_MAGIC, 8);
	put_u32(hdr + 8, SNAP_VERSION);
	put_u32(hdr + 12, SNAP_HDR_SIZE);
	put_u32(hdr + 16, (uint32_t)w->len);
	put_u32(hdr + 20, 0);
	put_u32(hdr + 24, snap_crc32(w->buf, w->len));
	put_u32(hdr + 28, cpu_fp);
	memcpy(hdr + 32, build, strnlen(build, SNAP_BUILD_LEN));
}

int snap_open(struct snap_r *r, const uint8_t *file, size_t len, bool check_crc, struct err *e)
{
	memset(r, 0, sizeof(*r));
	if (len < SNAP_HDR_SIZE || memcmp(file, SNAP_MAGIC, 8))
		return err_set(e, "not a sandbox snapshot (bad magic)");
	uint32_t version = get_u32(file + 8), hsize = get_u32(file + 12);
	if (version != SNAP_VERSION)
		return err_set(e, "snapshot format version %u (this sandbox reads %u)", version, SNAP_VERSION);
	if (hsize != SNAP_HDR_SIZE)
		return err_set(e, "snapshot header of %u bytes (expected %u)", hsize, SNAP_HDR_SIZE);
	uint64_t plen = get_u32(file + 16) | (uint64_t)get_u32(file + 20) << 32;
	if (plen > SNAP_MAX_PAYLOAD || plen != len - SNAP_HDR_SIZE)
		return err_set(e, "snapshot truncated or padded (%llu payload bytes, file holds %zu)",
			       (unsigned long long)plen, len - SNAP_HDR_SIZE);
	r->payload = file + SNAP_HDR_SIZE;
	r->len = (size_t)plen;
	if (check_crc && snap_crc32(r->payload, r->len) != get_u32(file + 24))
		return err_set(e, "snapshot checksum mismatch (the file is corrupt)");
	r->cpu_fp = get_u32(file + 28);
	memcpy(r->build, file + 32, SNAP_BUILD_LEN);
	r->build[SNAP_BUILD_LEN] = '\0';
	/* the records must tile the payload */
	size_t off = 0;
	while (off < r->len) {
		if (r->len - off < 8)
			return err_set(e, "snapshot record header cut short at byte %zu", off);
		uint32_t rl = get_u32(r->payload + off + 4);
		if (rl > r->len - off - 8)
			return err_set(e, "snapshot record at byte %zu runs past the end", off);
		off += 8 + rl;
	}
	return 0;
}

int snap_next(struct snap_r *r, struct snap_rec *rec)
{
	if (r->off >= r->len)
		return 0;
	rec->tag = get_u32(r->payload + r->off);
	rec->len = get_u32(r->payload + r->off + 4);
	rec->data = r->payload + r->off + 8;
	r->off += 8 + rec->len;   /* tiled: checked by snap_open */
	return 1;
}

int snap_find(const struct snap_r *r, uint32_t tag, size_t size, struct snap_rec *rec, struct err *e)
{
	struct snap_r it = *r;
	it.off = 0;
	while (snap_next(&it, rec))
		if (rec->tag == tag) {
			if (size && rec->len != size)
				return err_set(e, "snapshot record %u: %u bytes (expected %zu)", tag, rec->len, size);
			return 0;
		}
	return err_set(e, "snapshot has no record %u", tag);
}

uint32_t snap_crc32(const void *data, size_t len)
{
	static uint32_t table[256];
	static bool ready;
	if (!ready) {
		for (uint32_t i = 0; i < 256; i++) {
			uint32_t c = i;
			for (int k = 0; k < 8; k++)
				c = c & 1 ? 0xedb88320u ^ (c >> 1) : c >> 1;
			table[i] = c;
		}
		ready = true;
	}
	const uint8_t *p = data;
	uint32_t c = 0xffffffffu;
	for (size_t i = 0; i < len; i++)
		c = table[(c ^ p[i]) & 0xff] ^ (c >> 8);
	return c ^ 0xffffffffu;
}

uint32_t snap_fnv1a(const void *data, size_t len)
{
	const uint8_t *p = data;
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < len; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}
