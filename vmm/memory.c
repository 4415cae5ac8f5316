#include "memory.h"

#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>
#include <stdlib.h>

#include "arch/x86/layout.h"

static void layout(struct guest_mem *gm)
{
	uint64_t low = gm->size < MMIO_GAP_START ? gm->size : MMIO_GAP_START;
	gm->nregions = 1;
	gm->r[0] = (struct gm_region){ .gpa = 0, .len = low, .host_off = 0 };
	if (gm->size > low) {
		gm->r[1] = (struct gm_region){ .gpa = MMIO_GAP_END, .len = gm->size - low, .host_off = low };
		gm->nregions = 2;
	}
}

static int map(struct guest_mem *gm, uint64_t size, bool shared, struct err *e)
{
	memset(gm, 0, sizeof(*gm));
	gm->fd = -1;
	if (size < 2 * MIB || size % (2 * MIB))
		return err_set(e, "guest memory must be a multiple of 2 MiB and at least 2 MiB (got %llu bytes)",
			       (unsigned long long)size);
	if (size > GUEST_MEM_MAX)
		return err_set(e, "guest memory %llu MiB exceeds the maximum of %llu MiB",
			       (unsigned long long)(size / MIB), (unsigned long long)(GUEST_MEM_MAX / MIB));
	int fd = -1;
	if (shared) {
		fd = memfd_create("sandbox-guest-ram", MFD_CLOEXEC);
		if (fd < 0)
			return err_sys(e, "memfd for guest memory");
		if (ftruncate(fd, (off_t)size)) {
			err_sys(e, "sizing the guest memory memfd to %llu MiB", (unsigned long long)(size / MIB));
			close(fd);
			return -1;
		}
	}
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       shared ? MAP_SHARED | MAP_NORESERVE : MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, fd, 0);
	if (p == MAP_FAILED) {
		err_sys(e, "mapping %llu MiB of guest memory", (unsigned long long)(size / MIB));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	gm->host = p;
	gm->fd = fd;
	gm->shared = shared;
	gm->size = size;
	gm->owned = true;
	layout(gm);
	return 0;
}

int gm_init(struct guest_mem *gm, uint64_t size, struct err *e)
{
	return map(gm, size, false, e);
}

int gm_init_file(struct guest_mem *gm, uint64_t size, int fd, struct err *e)
{
	memset(gm, 0, sizeof(*gm));
	gm->fd = -1;
	if (size < 2 * MIB || size % (2 * MIB) || size > GUEST_MEM_MAX)
		return err_set(e, "guest memory of %llu bytes in the snapshot", (unsigned long long)size);
	struct stat st;
	if (fstat(fd, &st))
		return err_sys(e, "the snapshot's memory file");
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size != size)
		return err_set(e, "the snapshot's memory file holds %lld bytes, not the %llu it should",
			       (long long)st.st_size, (unsigned long long)size);
	/* Private: every clone shares the page cache's copy of what it only
	 * reads, and a page it writes becomes its own. */
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_NORESERVE, fd, 0);
	if (p == MAP_FAILED)
		return err_sys(e, "mapping the snapshot's %llu MiB of memory", (unsigned long long)(size / MIB));
	gm->host = p;
	gm->size = size;
	gm->owned = true;
	layout(gm);
	return 0;
}

int gm_init_shared(struct guest_mem *gm, uint64_t size, struct err *e)
{
	return map(gm, size, true, e);
}

void gm_wrap(struct guest_mem *gm, void *buf, uint64_t size)
{
	memset(gm, 0, sizeof(*gm));
	gm->fd = -1;
	gm->host = buf;
	gm->size = size;
	layout(gm);
}

void gm_free(struct guest_mem *gm)
{
	if (gm->owned && gm->host)
		munmap(gm->host, gm->size);
	if (gm->owned && gm->fd >= 0)
		close(gm->fd);
	memset(gm, 0, sizeof(*gm));
	gm->fd = -1;
}

void *gm_ptr(const struct guest_mem *gm, uint64_t gpa, uint64_t len)
{
	for (unsigned i = 0; i < gm->nregions; i++) {
		const struct gm_region *r = &gm->r[i];
		if (gpa < r->gpa)
			continue;
		uint64_t off = gpa - r->gpa;
		if (off > r->len || len > r->len - off)
			continue;
		return gm->host + r->host_off + off;
	}
	return NULL;
}

int gm_read(const struct guest_mem *gm, void *dst, uint64_t gpa, uint64_t len)
{
	void *p = gm_ptr(gm, gpa, len);
	if (!p)
		return -1;
	memcpy(dst, p, len);
	return 0;
}

int gm_write(const struct guest_mem *gm, uint64_t gpa, const void *src, uint64_t len)
{
	void *p = gm_ptr(gm, gpa, len);
	if (!p)
		return -1;
	memcpy(p, src, len);
	return 0;
}

/* Resident pages of the guest mapping that this process maps, from
 * /proc/self/smaps: the VMAs inside [host, host + size) (the kernel mapped
 * from its file splits the guest memory into several). mincore() would also
 * count file pages that sit in the page cache but are not ours. */
static long long smaps_rss(const struct guest_mem *gm)
{
	FILE *f = fopen("/proc/self/smaps", "re");
	if (!f)
		return -1;
	char line[512];
	long long total = 0;
	bool inside = false;
	uintptr_t lo = (uintptr_t)gm->host, hi = lo + gm->size;
	while (fgets(line, sizeof(line), f)) {
		unsigned long a, b;
		long long kib;
		char c;
		if (sscanf(line, "%lx-%lx %c", &a, &b, &c) == 3 && strchr(line, '-') < strchr(line, ' '))
			inside = a >= lo && b <= hi;
		else if (inside && sscanf(line, "Rss: %lld kB", &kib) == 1)
			total += kib * 1024;
	}
	fclose(f);
	return total;
}

long long gm_resident_bytes(const struct guest_mem *gm)
{
	long long rss = gm->owned ? smaps_rss(gm) : -1;
	if (rss >= 0)
		return rss;
	long page = sysconf(_SC_PAGESIZE);
	size_t pages = (gm->size + page - 1) / page;
	unsigned char *vec = malloc(pages);
	if (!vec)
		return -1;
	long long n = -1;
	if (mincore(gm->host, gm->size, vec) == 0) {
		n = 0;
		for (size_t i = 0; i < pages; i++)
			n += vec[i] & 1;
		n *= page;
	}
	free(vec);
	return n;
}
