#include "boot.h"

#include <elf.h>
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "layout.h"

#define SETUP_HDR_OFF    0x1f1
#define BOOT_FLAG_MAGIC  0xaa55
#define HDRS_MAGIC       0x53726448  /* "HdrS" */
#define ELF_MAX_PHDRS    64
#define LINUX_CMDLINE_DEFAULT 2048   /* x86 COMMAND_LINE_SIZE, incl. NUL */
#define INITRD_MAX_DEFAULT 0x7fffffffULL

const uint64_t boot_gdt[BOOT_GDT_ENTRIES] = {
	[0] = 0,
	[1] = 0,
	[BOOT_GDT_CODE] = 0x00af9b000000ffffULL, /* 64-bit code, present, DPL 0 */
	[BOOT_GDT_DATA] = 0x00cf93000000ffffULL, /* data, 4 GiB, writable */
	[BOOT_GDT_TSS]  = 0x00008b0000000067ULL, /* busy 64-bit TSS at 0 */
};

/* Read exactly LEN bytes at OFF; a short file is an error. */
static int read_exact(int fd, void *buf, uint64_t len, uint64_t off)
{
	uint8_t *p = buf;
	while (len) {
		size_t chunk = len > (1u << 30) ? (1u << 30) : (size_t)len;
		ssize_t n = pread(fd, p, chunk, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		off += (uint64_t)n;
		len -= (uint64_t)n;
	}
	return 0;
}

static uint64_t mib_up(uint64_t b) { return (b + MIB - 1) / MIB; }

int elf_load(const struct guest_mem *gm, int fd, uint64_t fsize, struct boot_image *img, struct err *e)
{
	Elf64_Ehdr eh;
	if (fsize < sizeof(eh) || read_exact(fd, &eh, sizeof(eh), 0))
		return err_set(e, "truncated ELF header");
	if (memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0)
		return err_set(e, "not an ELF file");
	if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB ||
	    eh.e_machine != EM_X86_64)
		return err_set(e, "not an x86_64 little-endian ELF64 kernel");
	if (eh.e_type != ET_EXEC)
		return err_set(e, "ELF type %u is not an executable vmlinux", eh.e_type);
	if (eh.e_phentsize != sizeof(Elf64_Phdr) || eh.e_phnum == 0 || eh.e_phnum > ELF_MAX_PHDRS)
		return err_set(e, "bad ELF program header table (%u entries of %u bytes)",
			       eh.e_phnum, eh.e_phentsize);
	uint64_t ph_bytes = (uint64_t)eh.e_phnum * sizeof(Elf64_Phdr);
	if (eh.e_phoff > fsize || ph_bytes > fsize - eh.e_phoff)
		return err_set(e, "truncated ELF: program headers end beyond the file");

	Elf64_Phdr ph[ELF_MAX_PHDRS];
	if (read_exact(fd, ph, ph_bytes, eh.e_phoff))
		return err_set(e, "cannot read ELF program headers");

	uint64_t lo = UINT64_MAX, hi = 0;
	unsigned nload = 0;
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		const Elf64_Phdr *p = &ph[i];
		if (p->p_type != PT_LOAD)
			continue;
		if (p->p_filesz > p->p_memsz)
			return err_set(e, "ELF segment %u: file size exceeds memory size", i);
		if (p->p_offset > fsize || p->p_filesz > fsize - p->p_offset)
			return err_set(e, "truncated vmlinux: segment %u ends at byte %llu of a %llu-byte file", i,
				       (unsigned long long)(p->p_offset + p->p_filesz), (unsigned long long)fsize);
		if (p->p_paddr < HIMEM_START)
			return err_set(e, "ELF segment %u at 0x%llx lies below 1 MiB", i,
				       (unsigned long long)p->p_paddr);
		if (p->p_memsz > UINT64_MAX - p->p_paddr)
			return err_set(e, "ELF segment %u wraps the address space", i);
		uint8_t *dst = gm_ptr(gm, p->p_paddr, p->p_memsz);
		if (!dst)
			return err_set(e, "kernel segment 0x%llx-0x%llx does not fit in guest memory "
				       "(%llu MiB; the kernel needs at least %llu MiB)",
				       (unsigned long long)p->p_paddr,
				       (unsigned long long)(p->p_paddr + p->p_memsz),
				       (unsigned long long)(gm->size / MIB),
				       (unsigned long long)mib_up(p->p_paddr + p->p_memsz));
		nload++;
		if (p->p_paddr < lo)
			lo = p->p_paddr;
		if (p->p_paddr + p->p_memsz > hi)
			hi = p->p_paddr + p->p_memsz;
	}
	if (!nload)
		return err_set(e, "ELF has no loadable segments");
	if (eh.e_entry < lo || eh.e_entry >= hi)
		return err_set(e, "ELF entry 0x%llx is outside the loaded kernel (is this a vmlinux?)",
			       (unsigned long long)eh.e_entry);

	/* All checks passed: copy. */
	for (unsigned i = 0; i < eh.e_phnum; i++) {
		const Elf64_Phdr *p = &ph[i];
		if (p->p_type != PT_LOAD)
			continue;
		uint8_t *dst = gm_ptr(gm, p->p_paddr, p->p_memsz);
		/* In real guest memory the page-aligned part of a segment is
		 * mapped from the file (MAP_PRIVATE): its pages stay shared in
		 * the page cache between sandboxes until a guest writes one
		 * (about 5 MiB less per sandbox). build.sh replaces kernels by
		 * rename, never in place, as such mappings need. Not in shared
		 * (memfd) memory: a vhost-user daemon maps the memfd and must
		 * see every guest page, the kernel's too (freed init memory
		 * becomes buffers), so there the kernel is copied. */
		uint64_t done = 0, whole = p->p_filesz & ~(uint64_t)4095;
		if (gm->owned && !gm->shared && whole && !(p->p_offset & 4095) && !((uintptr_t)dst & 4095)) {
			if (mmap(dst, whole, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED, fd,
				 (off_t)p->p_offset) == MAP_FAILED)
				return err_sys(e, "mapping kernel segment %u", i);
			done = whole;
		}
		if (read_exact(fd, dst + done, p->p_filesz - done, p->p_offset + done))
			return err_sys(e, "reading kernel segment %u", i);
		memset(dst + p->p_filesz, 0, p->p_memsz - p->p_filesz);
	}

	memset(img, 0, sizeof(*img));
	img->kind = KERNEL_ELF;
	img->entry = eh.e_entry;
	img->load_start = lo;
	img->load_end = hi;
	img->cmdline_max = LINUX_CMDLINE_DEFAULT - 1;
	img->initrd_max = INITRD_MAX_DEFAULT;
	return 0;
}

int bzimage_load(const struct guest_mem *gm, int fd, uint64_t fsize, struct boot_image *img, struct err *e)
{
	uint8_t buf[0x290];
	if (fsize < sizeof(buf) || read_exact(fd, buf, sizeof(buf), 0))
		return err_set(e, "file too short to be a kernel (%llu bytes)", (unsigned long long)fsize);
	struct setup_header h;
	memcpy(&h, buf + SETUP_HDR_OFF, sizeof(h));
	if (h.boot_flag != BOOT_FLAG_MAGIC || h.header != HDRS_MAGIC)
		return err_set(e, "not a Linux kernel (neither an ELF vmlinux nor a bzImage)");
	if (h.version < 0x020c || !(h.xloadflags & XLF_KERNEL_64))
		return err_set(e, "bzImage boot protocol %u.%u has no 64-bit entry point (need 2.12+)",
			       h.version >> 8, h.version & 0xff);
	if (!(h.loadflags & LOADED_HIGH))
		return err_set(e, "bzImage is not a protected-mode (high) kernel");
	uint64_t setup_sects = h.setup_sects ? h.setup_sects : 4;
	uint64_t off = (setup_sects + 1) * 512;
	if (off >= fsize)
		return err_set(e, "truncated bzImage: setup (%llu bytes) reaches the end of the file",
			       (unsigned long long)off);
	uint64_t payload = fsize - off;
	uint64_t load = h.pref_address ? h.pref_address : HIMEM_START;
	if (load < HIMEM_START)
		return err_set(e, "bzImage wants to load at 0x%llx, below 1 MiB", (unsigned long long)load);
	if (h.code32_start && h.code32_start != HIMEM_START && !(h.loadflags & LOADED_HIGH))
		return err_set(e, "unsupported bzImage load address");
	uint64_t need = payload > h.init_size ? payload : h.init_size;
	/* The 64-bit entry (startup_64) is 0x200 into the kernel: it must lie
	 * inside what we load (load_start..load_end). */
	if (need <= 0x200)
		return err_set(e, "bzImage kernel of %llu bytes (init_size %u) ends before its 64-bit entry at 0x200",
			       (unsigned long long)payload, h.init_size);
	if (need > UINT64_MAX - load || !gm_ptr(gm, load, need))
		return err_set(e, "kernel needs 0x%llx-0x%llx but guest memory is %llu MiB (need at least %llu MiB)",
			       (unsigned long long)load, (unsigned long long)(load + need),
			       (unsigned long long)(gm->size / MIB), (unsigned long long)mib_up(load + need));
	if (read_exact(fd, gm_ptr(gm, load, payload), payload, off))
		return err_sys(e, "reading bzImage payload");

	memset(img, 0, sizeof(*img));
	img->kind = KERNEL_BZIMAGE;
	img->entry = load + 0x200; /* startup_64 */
	img->load_start = load;
	img->load_end = load + need;
	img->cmdline_max = h.cmdline_size ? h.cmdline_size : LINUX_CMDLINE_DEFAULT - 1;
	img->initrd_max = h.initrd_addr_max ? h.initrd_addr_max : INITRD_MAX_DEFAULT;
	if (h.xloadflags & XLF_CAN_BE_LOADED_ABOVE_4G)
		img->initrd_max = UINT64_MAX;
	/* The header runs to 0x202 + the byte at 0x201 (the setup jump). */
	uint64_t end = 0x202 + (uint64_t)buf[0x201];
	if (end > sizeof(buf))
		end = sizeof(buf);
	img->setup_len = (uint32_t)(end - SETUP_HDR_OFF);
	memcpy(img->setup_raw, buf + SETUP_HDR_OFF, img->setup_len);
	return 0;
}

int kernel_load(const struct guest_mem *gm, int fd, struct boot_image *img, struct err *e)
{
	struct stat st;
	if (fstat(fd, &st))
		return err_sys(e, "stat");
	if (!S_ISREG(st.st_mode))
		return err_set(e, "not a regular file");
	uint64_t fsize = (uint64_t)st.st_size;
	unsigned char magic[SELFMAG];
	if (fsize >= SELFMAG && read_exact(fd, magic, SELFMAG, 0) == 0 && memcmp(magic, ELFMAG, SELFMAG) == 0)
		return elf_load(gm, fd, fsize, img, e);
	return bzimage_load(gm, fd, fsize, img, e);
}

int initrd_load(const struct guest_mem *gm, int fd, const struct boot_image *img,
		uint64_t *addr, uint64_t *size, struct err *e)
{
	struct stat st;
	if (fstat(fd, &st))
		return err_sys(e, "stat");
	if (!S_ISREG(st.st_mode))
		return err_set(e, "not a regular file");
	uint64_t len = (uint64_t)st.st_size;
	/* Highest usable address: the end of low RAM, the kernel's limit. */
	uint64_t top = gm->r[0].gpa + gm->r[0].len;
	if (img->initrd_max != UINT64_MAX && img->initrd_max + 1 < top)
		top = img->initrd_max + 1;
	uint64_t floor = (img->load_end + 0xfff) & ~0xfffULL;
	if (len > top || ((top - len) & ~0xfffULL) < floor)
		return err_set(e, "initrd of %llu KiB does not fit in guest memory above the kernel "
			       "(%llu KiB free); give the guest more memory",
			       (unsigned long long)(len / KIB),
			       (unsigned long long)(top > floor ? (top - floor) / KIB : 0));
	uint64_t at = (top - len) & ~0xfffULL;
	void *dst = gm_ptr(gm, at, len);
	if (!dst)
		return err_set(e, "initrd placement 0x%llx is outside guest memory", (unsigned long long)at);
	/* As the kernel's segments (elf_load): in real guest memory the
	 * whole pages are mapped from the file (MAP_PRIVATE), shared in the
	 * page cache between sandboxes. The guest keeps them (retain_initrd
	 * on the command line, vm.c): freeing would poison, so copy, every
	 * page (about 0.9 MiB per sandbox, docs/pmem.md). Copied into shared
	 * (memfd) memory, which a vhost-user daemon must see whole. */
	uint64_t done = 0, whole = len & ~(uint64_t)4095;
	if (gm->owned && !gm->shared && whole && !((uintptr_t)dst & 4095)) {
		if (mmap(dst, whole, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED, fd, 0) == MAP_FAILED)
			return err_sys(e, "mapping the initrd");
		done = whole;
	}
	if (read_exact(fd, (uint8_t *)dst + done, len - done, done))
		return err_sys(e, "reading initrd");
	*addr = at;
	*size = len;
	return 0;
}

static int e820_add(struct boot_e820_entry *tab, unsigned max, unsigned *n,
		    uint64_t addr, uint64_t size, uint32_t type)
{
	if (!size)
		return 0;
	if (*n >= max)
		return -1;
	tab[*n] = (struct boot_e820_entry){ .addr = addr, .size = size, .type = type };
	(*n)++;
	return 0;
}

int e820_build(const struct guest_mem *gm, struct boot_e820_entry *tab, unsigned max, struct err *e)
{
	unsigned n = 0;
	const struct gm_region *low = &gm->r[0];
	if (gm->nregions < 1 || low->gpa != 0 || low->len < HIMEM_START + MIB)
		return err_set(e, "guest memory too small for the PC layout (need at least 2 MiB)");
	int r = 0;
	r |= e820_add(tab, max, &n, 0, MPTABLE_ADDR, E820_TYPE_RAM);
	r |= e820_add(tab, max, &n, MPTABLE_ADDR, EBDA_END - MPTABLE_ADDR, E820_TYPE_RESERVED);
	r |= e820_add(tab, max, &n, HIMEM_START, low->len - HIMEM_START, E820_TYPE_RAM);
	for (unsigned i = 1; i < gm->nregions; i++)
		r |= e820_add(tab, max, &n, gm->r[i].gpa, gm->r[i].len, E820_TYPE_RAM);
	if (r)
		return err_set(e, "e820 table full (%u entries)", max);
	return (int)n;
}

int cmdline_check(const char *cmdline, const struct boot_image *img, struct err *e)
{
	size_t len = strlen(cmdline);
	uint64_t max = img->cmdline_max;
	if (max > CMDLINE_MAX - 1)
		max = CMDLINE_MAX - 1;
	if (len > max)
		return err_set(e, "kernel command line is %zu bytes; this kernel accepts at most %llu",
			       len, (unsigned long long)max);
	return 0;
}

int boot_write_tables(const struct guest_mem *gm, struct err *e)
{
	uint64_t *pml4 = gm_ptr(gm, PML4_ADDR, 4096);
	uint64_t *pdpt = gm_ptr(gm, PDPT_ADDR, 4096);
	uint64_t *pd = gm_ptr(gm, PD_ADDR, 4096 * PD_PAGES);
	uint64_t *gdt = gm_ptr(gm, BOOT_GDT_ADDR, sizeof(boot_gdt));
	uint64_t *idt = gm_ptr(gm, BOOT_IDT_ADDR, 8);
	if (!pml4 || !pdpt || !pd || !gdt || !idt)
		return err_set(e, "guest memory too small for boot tables");
	memset(pml4, 0, 4096);
	memset(pdpt, 0, 4096);
	pml4[0] = PDPT_ADDR | 0x3;                 /* present, writable */
	for (unsigned i = 0; i < PD_PAGES; i++)
		pdpt[i] = (PD_ADDR + i * 4096ULL) | 0x3;
	for (uint64_t j = 0; j < 512ULL * PD_PAGES; j++)
		pd[j] = (j << 21) | 0x83;          /* present, writable, 2 MiB page */
	memcpy(gdt, boot_gdt, sizeof(boot_gdt));
	*idt = 0;
	return 0;
}

int zero_page_setup(const struct guest_mem *gm, const struct boot_image *img, const char *cmdline,
		    uint64_t initrd_addr, uint64_t initrd_size, struct err *e)
{
	struct boot_params *bp = gm_ptr(gm, ZERO_PAGE_ADDR, sizeof(*bp));
	if (!bp)
		return err_set(e, "guest memory too small for the zero page");
	if (cmdline_check(cmdline, img, e))
		return -1;
	size_t clen = strlen(cmdline) + 1;
	if (gm_write(gm, CMDLINE_ADDR, cmdline, clen))
		return err_set(e, "guest memory too small for the command line");

	memset(bp, 0, sizeof(*bp));
	if (img->kind == KERNEL_BZIMAGE)
		memcpy((uint8_t *)bp + SETUP_HDR_OFF, img->setup_raw, img->setup_len);
	struct setup_header *h = &bp->hdr;
	h->boot_flag = BOOT_FLAG_MAGIC;
	h->header = HDRS_MAGIC;
	h->type_of_loader = 0xff;            /* "undefined" boot loader */
	h->loadflags |= LOADED_HIGH;
	if (img->kind == KERNEL_ELF)
		h->kernel_alignment = 0x1000000;
	h->cmd_line_ptr = (uint32_t)CMDLINE_ADDR;
	h->cmdline_size = (uint32_t)(clen - 1);
	if (initrd_size) {
		if (initrd_addr + initrd_size > (1ULL << 32)) {
			h->ramdisk_image = (uint32_t)initrd_addr;
			bp->ext_ramdisk_image = (uint32_t)(initrd_addr >> 32);
			bp->ext_ramdisk_size = (uint32_t)(initrd_size >> 32);
		} else {
			h->ramdisk_image = (uint32_t)initrd_addr;
		}
		h->ramdisk_size = (uint32_t)initrd_size;
	}
	int n = e820_build(gm, bp->e820_table, E820_MAX_ENTRIES_ZEROPAGE, e);
	if (n < 0)
		return -1;
	bp->e820_entries = (uint8_t)n;
	return 0;
}
