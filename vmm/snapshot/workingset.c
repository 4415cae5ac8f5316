/* A snapshot's working set: record and prefetch (workingset.h). */
#include "workingset.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "format.h"

/* Linux 6.10's uAPI, for older headers. */
#ifndef KVM_PRE_FAULT_MEMORY
struct kvm_pre_fault_memory {
	__u64 gpa;
	__u64 size;
	__u64 flags;
	__u64 padding[5];
};
#define KVM_PRE_FAULT_MEMORY _IOWR(KVMIO, 0xd5, struct kvm_pre_fault_memory)
#endif

#define PAGEMAP_PRESENT (1ULL << 63)
#define PAGEMAP_SWAPPED (1ULL << 62)
#define PAGEMAP_FILE (1ULL << 61)      /* a file's page (or shared anonymous) */

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

static uint32_t get32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void put32(uint8_t *p, uint32_t v)
{
	for (int i = 0; i < 4; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

static size_t bitmap_bytes(uint64_t pages)
{
	return (size_t)((pages + 7) / 8);
}

size_t ws_file_size(uint64_t mem_bytes)
{
	return WS_HDR_SIZE + 2 * bitmap_bytes(mem_bytes / WS_PAGE);
}

int ws_parse(const uint8_t *buf, size_t len, uint64_t mem_bytes, struct ws *w, struct err *e)
{
	if (mem_bytes == 0 || mem_bytes % WS_PAGE || mem_bytes / WS_PAGE > UINT32_MAX)
		return err_set(e, "working set: guest memory of %llu bytes", (unsigned long long)mem_bytes);
	if (len < WS_HDR_SIZE || memcmp(buf, WS_MAGIC, sizeof(WS_MAGIC)))
		return err_set(e, "working set: not one (no header)");
	uint32_t version = get32(buf + 8), pages = get32(buf + 12), scope = get32(buf + 16), crc = get32(buf + 20);
	if (version != WS_VERSION)
		return err_set(e, "working set: version %u, not %u", version, WS_VERSION);
	if (pages != mem_bytes / WS_PAGE)
		return err_set(e, "working set: %u pages for a guest of %llu", pages,
			       (unsigned long long)(mem_bytes / WS_PAGE));
	if (scope != WS_SCOPE_RESTORE && scope != WS_SCOPE_COMMAND)
		return err_set(e, "working set: scope %u", scope);
	for (size_t i = 24; i < WS_HDR_SIZE; i++)
		if (buf[i])
			return err_set(e, "working set: reserved header bytes are not zero");
	if (len != ws_file_size(mem_bytes))
		return err_set(e, "working set: %zu bytes, not %zu", len, ws_file_size(mem_bytes));
	const uint8_t *bits = buf + WS_HDR_SIZE;
	size_t nb = bitmap_bytes(pages);
	const uint8_t *written = bits + nb;
	if (pages % 8 && ((bits[nb - 1] | written[nb - 1]) >> (pages % 8)))
		return err_set(e, "working set: bits past the last page");
	if (snap_crc32(bits, 2 * nb) != crc)
		return err_set(e, "working set: checksum mismatch");
	for (size_t i = 0; i < nb; i++)
		if (written[i] & ~bits[i])
			return err_set(e, "working set: a page written but not touched");
	*w = (struct ws){ .pages = pages, .scope = scope, .bits = bits, .written = written };
	return 0;
}

void ws_header(uint8_t hdr[WS_HDR_SIZE], uint32_t pages, uint32_t scope, const uint8_t *bits)
{
	memset(hdr, 0, WS_HDR_SIZE);
	memcpy(hdr, WS_MAGIC, sizeof(WS_MAGIC));
	put32(hdr + 8, WS_VERSION);
	put32(hdr + 12, pages);
	put32(hdr + 16, scope);
	put32(hdr + 20, snap_crc32(bits, 2 * bitmap_bytes(pages)));
}

static int write_all(int fd, const uint8_t *p, size_t n, off_t off)
{
	while (n) {
		ssize_t r = pwrite(fd, p, n, off);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		p += r;
		n -= (size_t)r;
		off += r;
	}
	return 0;
}

int ws_record(const struct guest_mem *gm, int pagemap_fd, uint32_t scope, int out_fd, struct err *e)
{
	if (pagemap_fd < 0)
		return err_set(e, "working set: this VMM cannot read its page tables");
	if (gm->size % WS_PAGE || gm->size / WS_PAGE > UINT32_MAX)
		return err_set(e, "working set: guest memory of %llu bytes", (unsigned long long)gm->size);
	uint32_t pages = (uint32_t)(gm->size / WS_PAGE);
	size_t len = ws_file_size(gm->size);
	uint8_t *file = calloc(1, len);
	if (!file)
		return err_oom(e, "working set");
	uint8_t *bits = file + WS_HDR_SIZE, *written = bits + bitmap_bytes(pages);
	/* /proc/self/pagemap: one u64 per virtual page, in chunks */
	enum { CHUNK = 4096 };
	static uint64_t ent[CHUNK];
	uint64_t first = (uint64_t)(uintptr_t)gm->host / WS_PAGE;
	for (uint32_t i = 0; i < pages;) {
		uint32_t n = pages - i < CHUNK ? pages - i : CHUNK;
		ssize_t r = pread(pagemap_fd, ent, n * sizeof(uint64_t), (off_t)((first + i) * sizeof(uint64_t)));
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0 || r % sizeof(uint64_t)) {
			free(file);
			return err_sys(e, "working set: reading the page tables");
		}
		uint32_t got = (uint32_t)((size_t)r / sizeof(uint64_t));
		for (uint32_t k = 0; k < got; k++) {
			uint8_t b = (uint8_t)(1u << ((i + k) % 8));
			if (ent[k] & (PAGEMAP_PRESENT | PAGEMAP_SWAPPED))
				bits[(i + k) / 8] |= b;
			/* present and not the file's: a copy the guest wrote */
			if ((ent[k] & PAGEMAP_PRESENT) && !(ent[k] & PAGEMAP_FILE))
				written[(i + k) / 8] |= b;
		}
		i += got;
	}
	ws_header(file, pages, scope, bits);
	int rc = 0;
	if (ftruncate(out_fd, 0) || write_all(out_fd, file, len, 0))
		rc = err_sys(e, "working set: writing it");
	free(file);
	return rc;
}

static bool bit(const uint8_t *map, uint32_t i)
{
	return map[i / 8] & (1u << (i % 8));
}

/* Call FN on each run of MAP's set bits, split by GM's regions, as
 * (region, host offset, length); stop when it returns < 0. The pages
 * FN says it did. */
static long each_run(const struct guest_mem *gm, const struct ws *w, const uint8_t *map,
		     int (*fn)(const struct guest_mem *, const struct gm_region *, uint64_t, uint64_t, void *), void *arg)
{
	if ((uint64_t)w->pages * WS_PAGE != gm->size)
		return 0;
	long done = 0;
	for (uint32_t i = 0; i < w->pages;) {
		if (!bit(map, i)) {
			i++;
			continue;
		}
		uint32_t j = i;
		while (j < w->pages && bit(map, j))
			j++;
		/* the run [i, j) in host offsets; each guest region's part of it */
		uint64_t lo = (uint64_t)i * WS_PAGE, hi = (uint64_t)j * WS_PAGE;
		for (unsigned r = 0; r < gm->nregions; r++) {
			const struct gm_region *g = &gm->r[r];
			uint64_t a = lo > g->host_off ? lo : g->host_off;
			uint64_t b = hi < g->host_off + g->len ? hi : g->host_off + g->len;
			if (a >= b)
				continue;
			int k = fn(gm, g, a, b - a, arg);
			if (k < 0)
				return done;
			if (k > 0)
				done += (long)((b - a) / WS_PAGE);
		}
		i = j;
	}
	return done;
}

/* KVM maps [GPA, GPA+LEN) now: 1 done, 0 not (this range), -1 this
 * kernel cannot (no KVM_PRE_FAULT_MEMORY: Linux before 6.10). */
static int prefault(int vcpu_fd, uint64_t gpa, uint64_t len)
{
	struct kvm_pre_fault_memory pf = { .gpa = gpa, .size = len };
	while (pf.size) {
		if (ioctl(vcpu_fd, KVM_PRE_FAULT_MEMORY, &pf) == 0 || errno == EINTR || errno == EAGAIN)
			continue;
		return errno == ENOTTY || errno == EOPNOTSUPP ? -1 : 0;
	}
	return 1;
}

static int prefault_run(const struct guest_mem *gm, const struct gm_region *g, uint64_t off, uint64_t len, void *arg)
{
	(void)gm;
	return prefault(*(int *)arg, g->gpa + (off - g->host_off), len);
}

long ws_prefault(const struct guest_mem *gm, int vcpu_fd, const struct ws *w)
{
	return each_run(gm, w, w->bits, prefault_run, &vcpu_fd);
}

static int populate_run(const struct guest_mem *gm, const struct gm_region *g, uint64_t off, uint64_t len, void *arg)
{
	(void)g;
	(void)arg;
	if (madvise(gm->host + off, len, MADV_POPULATE_WRITE) == 0)
		return 1;
	return errno == EINVAL ? -1 : 0;        /* EINVAL: a kernel before 5.14 */
}

long ws_populate(const struct guest_mem *gm, const struct ws *w)
{
	return each_run(gm, w, w->written, populate_run, NULL);
}
