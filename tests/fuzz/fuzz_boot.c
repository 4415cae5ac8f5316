/* libFuzzer target: the kernel loader (vmm/arch/x86/boot.c) fed an
 * arbitrary kernel file (ELF vmlinux or bzImage), initrd and command line,
 * loading into a fake guest memory: a malloc'd buffer (so ASan sees any
 * byte written or read outside it) laid out as 8 MiB of low RAM at 0 plus
 * 1 MiB "above the 4 GiB gap", the two regions the real layout has.
 * Whatever the file says, the loader must stay inside guest memory, never
 * crash, and report what it loaded consistently (entry inside the image,
 * image inside RAM, initrd above the kernel).
 *
 * Input: [flags u8][cmdline len u8][initrd len u16 LE][cmdline][initrd][kernel]
 *   make fuzz-smoke / make fuzz */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "arch/x86/boot.h"
#include "arch/x86/layout.h"
#include "memory.h"

#define LOW (8 * MIB)
#define HIGH (1 * MIB)

static uint8_t *mem;
static int kfd = -1, ifd = -1;

static int put(int fd, const uint8_t *p, size_t n)
{
	if (ftruncate(fd, 0))
		return -1;
	/* one pwrite of a memfd writes everything */
	return n && pwrite(fd, p, n, 0) != (ssize_t)n ? -1 : 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!mem) {
		mem = malloc(LOW + HIGH);
		kfd = memfd_create("fuzz-kernel", MFD_CLOEXEC);
		ifd = memfd_create("fuzz-initrd", MFD_CLOEXEC);
		if (!mem || kfd < 0 || ifd < 0)
			abort();
	}
	if (size < 4)
		return 0;
	uint8_t flags = data[0];
	size_t clen = data[1], ilen = (size_t)data[2] | (size_t)data[3] << 8;
	data += 4;
	size -= 4;
	if (clen > size)
		clen = size;
	char cmdline[256];
	memcpy(cmdline, data, clen);
	cmdline[clen] = '\0';
	data += clen;
	size -= clen;
	if (ilen > size)
		ilen = size;
	if (put(ifd, data, ilen) || put(kfd, data + ilen, size - ilen))
		abort();

	struct guest_mem gm;
	if (flags & 1) {
		/* Two regions: low RAM and a small one at 4 GiB. */
		memset(&gm, 0, sizeof(gm));
		gm.host = mem;
		gm.size = LOW + HIGH;
		gm.nregions = 2;
		gm.r[0] = (struct gm_region){ .gpa = 0, .len = LOW, .host_off = 0 };
		gm.r[1] = (struct gm_region){ .gpa = MMIO_GAP_END, .len = HIGH, .host_off = LOW };
	} else {
		gm_wrap(&gm, mem, LOW);
	}

	struct boot_image img;
	struct err e;
	if (kernel_load(&gm, kfd, &img, &e))
		return 0;
	/* What a successful load promises. */
	if (img.load_start >= img.load_end || img.entry < img.load_start || img.entry >= img.load_end)
		abort();
	if (img.load_start < HIMEM_START || !gm_ptr(&gm, img.load_start, 1))
		abort();
	if (img.kind == KERNEL_BZIMAGE && img.setup_len > sizeof(img.setup_raw))
		abort();
	uint64_t iaddr = 0, isize = 0;
	if ((flags & 2) && initrd_load(&gm, ifd, &img, &iaddr, &isize, &e) == 0) {
		if (isize != ilen || !gm_ptr(&gm, iaddr, isize) || iaddr < img.load_end || (iaddr & 0xfff))
			abort();
		if (img.initrd_max != UINT64_MAX && isize && iaddr + isize - 1 > img.initrd_max)
			abort();
	}
	if (boot_write_tables(&gm, &e))
		abort(); /* 8 MiB always has room */
	if (zero_page_setup(&gm, &img, cmdline, iaddr, isize, &e) == 0) {
		const struct boot_params *bp = gm_ptr(&gm, ZERO_PAGE_ADDR, sizeof(*bp));
		if (!bp || bp->e820_entries > E820_MAX_ENTRIES_ZEROPAGE ||
		    bp->hdr.cmdline_size != strlen(cmdline))
			abort();
	}
	return 0;
}
