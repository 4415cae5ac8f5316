/* Unit tests for vmm/arch/x86/boot.c: kernel (ELF vmlinux and bzImage)
 * and initrd loading, the e820 map, the command line, the zero page and
 * the boot page tables / GDT. Kernels are synthetic images written to
 * temporary files; the real guest kernels in build/ are used if present. */
#include "unit.h"

#include <elf.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <sys/mman.h>
#include <sys/stat.h>

#include "../../vmm/arch/x86/boot.h"
#include "../../vmm/arch/x86/layout.h"

#define FILL 0xcc /* guest memory before a load: tells written from untouched */

/* ------------------------------------------------------------------ */
/* Synthetic vmlinux: two PT_LOAD segments and a PT_NOTE.
 *
 *   file 0x0000  ELF header, program headers at 0x40
 *   file 0x1000  segment 0: 0x800 bytes  -> 16 MiB,          memsz 0x1000
 *   file 0x1800  segment 1: 0x400 bytes  -> 16 MiB + 0x2000, memsz 0x3000
 *
 * So the kernel occupies 16 MiB .. 16 MiB + 0x5000 and has bss in both
 * segments. The PT_NOTE has paddr 0, which would be refused (below 1 MiB)
 * if the loader did not skip non-PT_LOAD headers. */
#define ELF_LOAD      0x1000000ULL
#define ELF_SEG0_OFF  0x1000
#define ELF_SEG0_FSZ  0x800
#define ELF_SEG0_MSZ  0x1000
#define ELF_SEG1_OFF  0x1800
#define ELF_SEG1_ADDR (ELF_LOAD + 0x2000)
#define ELF_SEG1_FSZ  0x400
#define ELF_SEG1_MSZ  0x3000
#define ELF_END       (ELF_SEG1_ADDR + ELF_SEG1_MSZ)
#define ELF_ENTRY     (ELF_LOAD + 0x100)
#define ELF_FILE_SIZE (ELF_SEG1_OFF + ELF_SEG1_FSZ)

struct elf_image {
	uint8_t bytes[ELF_FILE_SIZE];
	Elf64_Ehdr *eh;
	Elf64_Phdr *ph; /* 3 entries */
};

static void elf_image_init(struct elf_image *im)
{
	memset(im->bytes, 0, sizeof(im->bytes));
	im->eh = (Elf64_Ehdr *)im->bytes;
	im->ph = (Elf64_Phdr *)(im->bytes + sizeof(Elf64_Ehdr));
	Elf64_Ehdr *eh = im->eh;
	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS64;
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_ident[EI_VERSION] = EV_CURRENT;
	eh->e_type = ET_EXEC;
	eh->e_machine = EM_X86_64;
	eh->e_version = EV_CURRENT;
	eh->e_entry = ELF_ENTRY;
	eh->e_phoff = sizeof(Elf64_Ehdr);
	eh->e_ehsize = sizeof(Elf64_Ehdr);
	eh->e_phentsize = sizeof(Elf64_Phdr);
	eh->e_phnum = 3;
	im->ph[0] = (Elf64_Phdr){ .p_type = PT_LOAD, .p_flags = PF_R | PF_X, .p_offset = ELF_SEG0_OFF,
				  .p_vaddr = 0xffffffff81000000ULL, .p_paddr = ELF_LOAD,
				  .p_filesz = ELF_SEG0_FSZ, .p_memsz = ELF_SEG0_MSZ, .p_align = 0x200000 };
	im->ph[1] = (Elf64_Phdr){ .p_type = PT_LOAD, .p_flags = PF_R | PF_W, .p_offset = ELF_SEG1_OFF,
				  .p_vaddr = 0xffffffff81002000ULL, .p_paddr = ELF_SEG1_ADDR,
				  .p_filesz = ELF_SEG1_FSZ, .p_memsz = ELF_SEG1_MSZ, .p_align = 0x1000 };
	im->ph[2] = (Elf64_Phdr){ .p_type = PT_NOTE, .p_offset = 0x200, .p_paddr = 0,
				  .p_filesz = 0x10, .p_memsz = 0x10 };
	for (unsigned i = 0; i < ELF_SEG0_FSZ; i++)
		im->bytes[ELF_SEG0_OFF + i] = (uint8_t)(i * 7 + 1);
	for (unsigned i = 0; i < ELF_SEG1_FSZ; i++)
		im->bytes[ELF_SEG1_OFF + i] = (uint8_t)(i * 13 + 5);
}

/* Run elf_load() on the first LEN bytes of IM with guest memory of MEM
 * bytes; returns its result and leaves the memory in *GM for inspection. */
static int elf_try(const struct elf_image *im, size_t len, uint64_t mem, struct guest_mem *gm,
		   struct boot_image *img, struct err *e)
{
	test_gm_alloc(gm, mem, FILL);
	int fd = temp_file(im->bytes, len);
	memset(e, 0, sizeof(*e));
	int r = elf_load(gm, fd, len, img, e);
	close(fd);
	return r;
}

/* Expect elf_load() of IM (LEN bytes, 32 MiB of memory) to fail with an
 * error containing NEEDLE and without writing guest memory. */
static void elf_expect_fail(const struct elf_image *im, size_t len, const char *needle)
{
	struct guest_mem gm;
	struct boot_image img;
	struct err e;
	assert_int_equal(elf_try(im, len, 32 * MIB, &gm, &img, &e), -1);
	assert_err_contains(&e, needle);
	assert_true(all_bytes(gm.host, gm.size, FILL));
	test_gm_release(&gm);
}

static void test_elf_valid_loads(void **state)
{
	(void)state;
	struct elf_image im;
	elf_image_init(&im);
	struct guest_mem gm;
	test_gm_alloc(&gm, 32 * MIB, FILL);
	int fd = temp_file(im.bytes, sizeof(im.bytes));
	struct boot_image img;
	struct err e = { 0 };
	/* Through kernel_load(): the ELF magic must select the ELF loader. */
	assert_int_equal(kernel_load(&gm, fd, &img, &e), 0);
	close(fd);

	assert_int_equal(img.kind, KERNEL_ELF);
	assert_int_equal(img.entry, ELF_ENTRY);
	assert_int_equal(img.load_start, ELF_LOAD);
	assert_int_equal(img.load_end, ELF_END);
	assert_int_equal(img.cmdline_max, 2047);
	assert_int_equal(img.initrd_max, 0x7fffffff);

	/* File bytes at the physical addresses, bss zeroed. */
	assert_memory_equal(gm.host + ELF_LOAD, im.bytes + ELF_SEG0_OFF, ELF_SEG0_FSZ);
	assert_true(all_bytes(gm.host + ELF_LOAD + ELF_SEG0_FSZ, ELF_SEG0_MSZ - ELF_SEG0_FSZ, 0));
	assert_memory_equal(gm.host + ELF_SEG1_ADDR, im.bytes + ELF_SEG1_OFF, ELF_SEG1_FSZ);
	assert_true(all_bytes(gm.host + ELF_SEG1_ADDR + ELF_SEG1_FSZ, ELF_SEG1_MSZ - ELF_SEG1_FSZ, 0));
	/* Nothing else written: below, between the segments, above, and
	 * where the PT_NOTE would have gone. */
	assert_true(all_bytes(gm.host, ELF_LOAD, FILL));
	assert_true(all_bytes(gm.host + ELF_LOAD + ELF_SEG0_MSZ, ELF_SEG1_ADDR - ELF_LOAD - ELF_SEG0_MSZ, FILL));
	assert_true(all_bytes(gm.host + ELF_END, gm.size - ELF_END, FILL));
	test_gm_release(&gm);
}

static void test_elf_truncated_header(void **state)
{
	(void)state;
	struct elf_image im;
	elf_image_init(&im);
	elf_expect_fail(&im, 40, "truncated ELF header");
	/* kernel_load() sees the magic and must report the ELF problem. */
	struct guest_mem gm;
	test_gm_alloc(&gm, 32 * MIB, FILL);
	int fd = temp_file(im.bytes, 40);
	struct boot_image img;
	struct err e = { 0 };
	assert_int_equal(kernel_load(&gm, fd, &img, &e), -1);
	assert_err_contains(&e, "truncated ELF header");
	close(fd);
	test_gm_release(&gm);
}

static void test_elf_truncated_phdrs(void **state)
{
	(void)state;
	struct elf_image im;
	elf_image_init(&im);
	/* Header and one of the three program headers. */
	elf_expect_fail(&im, sizeof(Elf64_Ehdr) + sizeof(Elf64_Phdr), "program headers end beyond the file");
	/* A phoff beyond the file. */
	elf_image_init(&im);
	im.eh->e_phoff = ELF_FILE_SIZE + 0x1000;
	elf_expect_fail(&im, sizeof(im.bytes), "program headers end beyond the file");
	/* A phoff so large that phoff + size wraps. */
	elf_image_init(&im);
	im.eh->e_phoff = UINT64_MAX - 8;
	elf_expect_fail(&im, sizeof(im.bytes), "program headers end beyond the file");
}

static void test_elf_truncated_segment(void **state)
{
	(void)state;
	struct elf_image im;
	elf_image_init(&im);
	/* Segment 0 is complete, segment 1 is cut: nothing may be copied,
	 * not even segment 0 (all checks come before any copy). */
	elf_expect_fail(&im, ELF_SEG1_OFF + ELF_SEG1_FSZ / 2, "truncated vmlinux: segment 1");
	/* A p_offset beyond the end of the file, and one that wraps. */
	elf_image_init(&im);
	im.ph[0].p_offset = ELF_FILE_SIZE + 1;
	elf_expect_fail(&im, sizeof(im.bytes), "truncated vmlinux: segment 0");
	elf_image_init(&im);
	im.ph[0].p_offset = UINT64_MAX - 0x10;
	elf_expect_fail(&im, sizeof(im.bytes), "truncated vmlinux: segment 0");
}

static void test_elf_bad_magic(void **state)
{
	(void)state;
	struct elf_image im;
	elf_image_init(&im);
	im.bytes[1] = 'X';
	elf_expect_fail(&im, sizeof(im.bytes), "not an ELF file");
}

static void test_elf_wrong_class_machine(void **state)
{
	(void)state;
	struct elf_image im;
	elf_image_init(&im);
	im.eh->e_ident[EI_CLASS] = ELFCLASS32;
	elf_expect_fail(&im, sizeof(im.bytes), "not an x86_64");

	elf_image_init(&im);
	im.eh->e_ident[EI_DATA] = ELFDATA2MSB;
	elf_expect_fail(&im, sizeof(im.bytes), "not an x86_64");

	elf_image_init(&im);
	im.eh->e_machine = EM_386;
	elf_expect_fail(&im, sizeof(im.bytes), "not an x86_64");

	elf_image_init(&im);
	im.eh->e_machine = EM_AARCH64;
	elf_expect_fail(&im, sizeof(im.bytes), "not an x86_64");

	elf_image_init(&im);
	im.eh->e_type = ET_DYN;
	elf_expect_fail(&im, sizeof(im.bytes), "not an executable vmlinux");
}

static void test_elf_segment_outside_memory(void **state)
{
	(void)state;
	struct elf_image im;
	/* Segment 1 starts inside memory but runs past its end (32 MiB). */
	elf_image_init(&im);
	im.ph[1].p_paddr = 32 * MIB - 0x1000;
	elf_expect_fail(&im, sizeof(im.bytes), "does not fit in guest memory");
	/* Entirely beyond the end of memory. */
	elf_image_init(&im);
	im.ph[1].p_paddr = 64 * MIB;
	elf_expect_fail(&im, sizeof(im.bytes), "does not fit in guest memory");
	/* paddr + memsz wraps the address space. */
	elf_image_init(&im);
	im.ph[1].p_paddr = UINT64_MAX - 0xfff;
	elf_expect_fail(&im, sizeof(im.bytes), "wraps the address space");
}

static void test_elf_segment_below_1mib(void **state)
{
	(void)state;
	struct elf_image im;
	elf_image_init(&im);
	im.ph[0].p_paddr = 0x9000; /* on top of the page tables */
	elf_expect_fail(&im, sizeof(im.bytes), "below 1 MiB");
	elf_image_init(&im);
	im.ph[1].p_paddr = HIMEM_START - 1;
	elf_expect_fail(&im, sizeof(im.bytes), "below 1 MiB");
}

static void test_elf_filesz_gt_memsz(void **state)
{
	(void)state;
	struct elf_image im;
	elf_image_init(&im);
	im.ph[1].p_memsz = ELF_SEG1_FSZ - 1;
	elf_expect_fail(&im, sizeof(im.bytes), "file size exceeds memory size");
}

static void test_elf_entry_outside_segments(void **state)
{
	(void)state;
	struct elf_image im;
	elf_image_init(&im);
	im.eh->e_entry = ELF_LOAD - 1;
	elf_expect_fail(&im, sizeof(im.bytes), "entry");
	elf_image_init(&im);
	im.eh->e_entry = ELF_END; /* one past the end */
	elf_expect_fail(&im, sizeof(im.bytes), "outside the loaded kernel");
	/* A virtual entry address (what an unpatched vmlinux would give). */
	elf_image_init(&im);
	im.eh->e_entry = 0xffffffff81000100ULL;
	elf_expect_fail(&im, sizeof(im.bytes), "outside the loaded kernel");
	/* The last byte of the kernel is still inside. */
	elf_image_init(&im);
	im.eh->e_entry = ELF_END - 1;
	struct guest_mem gm;
	struct boot_image img;
	struct err e;
	assert_int_equal(elf_try(&im, sizeof(im.bytes), 32 * MIB, &gm, &img, &e), 0);
	assert_int_equal(img.entry, ELF_END - 1);
	test_gm_release(&gm);
}

static void test_elf_bad_phnum(void **state)
{
	(void)state;
	struct elf_image im;
	elf_image_init(&im);
	im.eh->e_phnum = 0;
	elf_expect_fail(&im, sizeof(im.bytes), "bad ELF program header table");
	elf_image_init(&im);
	im.eh->e_phnum = 65;
	elf_expect_fail(&im, sizeof(im.bytes), "bad ELF program header table");
	elf_image_init(&im);
	im.eh->e_phnum = 0xffff; /* PN_XNUM */
	elf_expect_fail(&im, sizeof(im.bytes), "bad ELF program header table");
	elf_image_init(&im);
	im.eh->e_phentsize = sizeof(Elf64_Phdr) / 2;
	elf_expect_fail(&im, sizeof(im.bytes), "bad ELF program header table");
	/* Program headers present, but none of them PT_LOAD. */
	elf_image_init(&im);
	im.ph[0].p_type = PT_NULL;
	im.ph[1].p_type = PT_GNU_STACK;
	elf_expect_fail(&im, sizeof(im.bytes), "no loadable segments");
}

static void test_elf_kernel_larger_than_ram(void **state)
{
	(void)state;
	struct elf_image im;
	elf_image_init(&im);
	/* 40 MiB of bss at 16 MiB + 0x2000: needs 57 MiB (rounded up). */
	im.ph[1].p_memsz = 40 * MIB;
	im.eh->e_entry = ELF_LOAD;
	struct guest_mem gm;
	struct boot_image img;
	struct err e;
	assert_int_equal(elf_try(&im, sizeof(im.bytes), 24 * MIB, &gm, &img, &e), -1);
	assert_err_contains(&e, "(24 MiB;");
	assert_err_contains(&e, "needs at least 57 MiB");
	assert_true(all_bytes(gm.host, gm.size, FILL));
	test_gm_release(&gm);
	/* With enough memory the same image loads and the bss is cleared. */
	assert_int_equal(elf_try(&im, sizeof(im.bytes), 58 * MIB, &gm, &img, &e), 0);
	assert_int_equal(img.load_end, ELF_SEG1_ADDR + 40 * MIB);
	assert_true(all_bytes(gm.host + ELF_SEG1_ADDR + ELF_SEG1_FSZ, 40 * MIB - ELF_SEG1_FSZ, 0));
	test_gm_release(&gm);
}

/* ------------------------------------------------------------------ */
/* Synthetic bzImage: 3 setup sectors after the boot sector, then a
 * payload of BZ_PAYLOAD bytes that the loader copies to pref_address. */
#define BZ_SETUP_SECTS 3
#define BZ_SETUP_BYTES ((BZ_SETUP_SECTS + 1) * 512)
#define BZ_PAYLOAD     0x1000
#define BZ_SIZE        (BZ_SETUP_BYTES + BZ_PAYLOAD)
#define BZ_LOAD        0x1000000ULL
#define BZ_INIT_SIZE   0x20000

struct bz_image {
	uint8_t bytes[BZ_SIZE];
	struct setup_header h;  /* edited, then placed by bz_bytes() */
};

static void bz_init(struct bz_image *bz)
{
	memset(bz, 0, sizeof(*bz));
	struct setup_header *h = &bz->h;
	h->setup_sects = BZ_SETUP_SECTS;
	h->boot_flag = 0xaa55;
	h->jump = 0x66eb;              /* jmp short: header ends at 0x202 + 0x66 */
	h->header = 0x53726448;        /* "HdrS" */
	h->version = 0x020f;
	h->loadflags = LOADED_HIGH;
	h->code32_start = 0x100000;
	h->kernel_alignment = 0x200000;
	h->relocatable_kernel = 1;
	h->xloadflags = XLF_KERNEL_64;
	h->cmdline_size = 2047;
	h->initrd_addr_max = 0x7fffffff;
	h->pref_address = BZ_LOAD;
	h->init_size = BZ_INIT_SIZE;
	for (unsigned i = 0; i < BZ_PAYLOAD; i++)
		bz->bytes[BZ_SETUP_BYTES + i] = (uint8_t)(i * 31 + 3);
}

static const uint8_t *bz_bytes(struct bz_image *bz)
{
	memcpy(bz->bytes + 0x1f1, &bz->h, sizeof(bz->h));
	return bz->bytes;
}

static int bz_try(struct bz_image *bz, size_t len, uint64_t mem, struct guest_mem *gm,
		  struct boot_image *img, struct err *e)
{
	test_gm_alloc(gm, mem, FILL);
	int fd = temp_file(bz_bytes(bz), len);
	memset(e, 0, sizeof(*e));
	int r = kernel_load(gm, fd, img, e);
	close(fd);
	return r;
}

static void bz_expect_fail(struct bz_image *bz, size_t len, const char *needle)
{
	struct guest_mem gm;
	struct boot_image img;
	struct err e;
	assert_int_equal(bz_try(bz, len, 32 * MIB, &gm, &img, &e), -1);
	assert_err_contains(&e, needle);
	assert_true(all_bytes(gm.host, gm.size, FILL));
	test_gm_release(&gm);
}

static void test_bzimage_valid_loads(void **state)
{
	(void)state;
	struct bz_image bz;
	bz_init(&bz);
	struct guest_mem gm;
	struct boot_image img;
	struct err e;
	assert_int_equal(bz_try(&bz, BZ_SIZE, 32 * MIB, &gm, &img, &e), 0);
	assert_int_equal(img.kind, KERNEL_BZIMAGE);
	assert_int_equal(img.entry, BZ_LOAD + 0x200);
	assert_int_equal(img.load_start, BZ_LOAD);
	assert_int_equal(img.load_end, BZ_LOAD + BZ_INIT_SIZE); /* init_size > payload */
	assert_int_equal(img.cmdline_max, 2047);
	assert_int_equal(img.initrd_max, 0x7fffffff);
	/* The payload (everything after the setup sectors) at pref_address;
	 * the setup sectors themselves are not loaded. */
	assert_memory_equal(gm.host + BZ_LOAD, bz.bytes + BZ_SETUP_BYTES, BZ_PAYLOAD);
	assert_true(all_bytes(gm.host, BZ_LOAD, FILL));
	assert_true(all_bytes(gm.host + BZ_LOAD + BZ_PAYLOAD, gm.size - BZ_LOAD - BZ_PAYLOAD, FILL));
	/* Setup header saved for the zero page, up to the end given by the
	 * jump at 0x200. */
	assert_int_equal(img.setup_len, 0x202 + 0x66 - 0x1f1);
	assert_memory_equal(img.setup_raw, bz.bytes + 0x1f1, img.setup_len);
	test_gm_release(&gm);
}

static void test_bzimage_flags(void **state)
{
	(void)state;
	struct bz_image bz;
	struct guest_mem gm;
	struct boot_image img;
	struct err e;
	/* Above-4G initrd allowed; no cmdline_size: the 2048-byte default. */
	bz_init(&bz);
	bz.h.xloadflags |= XLF_CAN_BE_LOADED_ABOVE_4G;
	bz.h.cmdline_size = 0;
	assert_int_equal(bz_try(&bz, BZ_SIZE, 32 * MIB, &gm, &img, &e), 0);
	assert_int_equal(img.initrd_max, UINT64_MAX);
	assert_int_equal(img.cmdline_max, 2047);
	test_gm_release(&gm);
	/* init_size smaller than the payload: the payload decides load_end;
	 * no pref_address: loaded at 1 MiB. */
	bz_init(&bz);
	bz.h.init_size = 0x10;
	bz.h.pref_address = 0;
	assert_int_equal(bz_try(&bz, BZ_SIZE, 32 * MIB, &gm, &img, &e), 0);
	assert_int_equal(img.load_start, HIMEM_START);
	assert_int_equal(img.entry, HIMEM_START + 0x200);
	assert_int_equal(img.load_end, HIMEM_START + BZ_PAYLOAD);
	assert_memory_equal(gm.host + HIMEM_START, bz.bytes + BZ_SETUP_BYTES, BZ_PAYLOAD);
	test_gm_release(&gm);
	/* setup_sects 0 means 4. */
	bz_init(&bz);
	bz.h.setup_sects = 0;
	uint8_t big[5 * 512 + 64];
	memset(big, 0x5a, sizeof(big));
	memcpy(big, bz_bytes(&bz), 0x290);
	test_gm_alloc(&gm, 32 * MIB, FILL);
	int fd = temp_file(big, sizeof(big));
	assert_int_equal(kernel_load(&gm, fd, &img, &e), 0);
	close(fd);
	assert_true(all_bytes(gm.host + BZ_LOAD, 64, 0x5a));
	assert_int_equal(gm.host[BZ_LOAD + 64], FILL);
	test_gm_release(&gm);
}

static void test_bzimage_old_protocol(void **state)
{
	(void)state;
	struct bz_image bz;
	bz_init(&bz);
	bz.h.version = 0x020b; /* 2.11: no 64-bit entry */
	bz_expect_fail(&bz, BZ_SIZE, "boot protocol 2.11 has no 64-bit entry point");
}

static void test_bzimage_no_64bit_flag(void **state)
{
	(void)state;
	struct bz_image bz;
	bz_init(&bz);
	bz.h.xloadflags = XLF_CAN_BE_LOADED_ABOVE_4G;
	bz_expect_fail(&bz, BZ_SIZE, "no 64-bit entry point");
	bz_init(&bz);
	bz.h.loadflags = 0;
	bz_expect_fail(&bz, BZ_SIZE, "not a protected-mode (high) kernel");
	bz_init(&bz);
	bz.h.pref_address = 0x90000;
	bz_expect_fail(&bz, BZ_SIZE, "below 1 MiB");
}

static void test_bzimage_truncated(void **state)
{
	(void)state;
	struct bz_image bz;
	bz_init(&bz);
	/* The file ends exactly where the payload would start. */
	bz_expect_fail(&bz, BZ_SETUP_BYTES, "setup (2048 bytes) reaches the end of the file");
	bz_init(&bz);
	bz.h.setup_sects = 200; /* claims 100 KiB of setup in a 6 KiB file */
	bz_expect_fail(&bz, BZ_SIZE, "reaches the end of the file");
}

static void test_bzimage_too_short(void **state)
{
	(void)state;
	struct bz_image bz;
	bz_init(&bz);
	bz_expect_fail(&bz, 0x200, "too short to be a kernel (512 bytes)");
	bz_expect_fail(&bz, 0x28f, "too short");
	bz_expect_fail(&bz, 0, "too short");
}

static void test_bzimage_too_big_for_memory(void **state)
{
	(void)state;
	struct bz_image bz;
	bz_init(&bz);
	bz.h.init_size = 20 * MIB; /* 16 + 20 = 36 MiB in 32 MiB */
	bz_expect_fail(&bz, BZ_SIZE, "need at least 36 MiB");
	bz_init(&bz);
	bz.h.pref_address = UINT64_MAX - 0xfff; /* load + need wraps */
	bz_expect_fail(&bz, BZ_SIZE, "guest memory is 32 MiB");
}

static void test_kernel_neither_elf_nor_bzimage(void **state)
{
	(void)state;
	uint8_t junk[4096];
	uint32_t x = 0x12345678;
	for (size_t i = 0; i < sizeof(junk); i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		junk[i] = (uint8_t)x;
	}
	junk[0] = 0; /* certainly not "\177ELF" */
	struct guest_mem gm;
	test_gm_alloc(&gm, 32 * MIB, FILL);
	int fd = temp_file(junk, sizeof(junk));
	struct boot_image img;
	struct err e = { 0 };
	assert_int_equal(kernel_load(&gm, fd, &img, &e), -1);
	assert_err_contains(&e, "neither an ELF vmlinux nor a bzImage");
	close(fd);
	/* Not a regular file. */
	fd = open("/dev/null", O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(kernel_load(&gm, fd, &img, &e), -1);
	assert_err_contains(&e, "not a regular file");
	close(fd);
	assert_true(all_bytes(gm.host, gm.size, FILL));
	test_gm_release(&gm);
}

/* ------------------------------------------------------------------ */
/* The real guest kernels, if built. */

/* PATH gets <dir>/NAME for the first of: the build directory holding this
 * test binary, <root>/build, ./build. Returns 0 if found. */
static int find_kernel(const char *name, char *path, size_t size)
{
	char exe[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n <= 0)
		return -1;
	exe[n] = '\0';
	char *tests_dir = dirname(exe);              /* <root>/<build>/tests */
	char *build_dir = dirname(tests_dir);        /* <root>/<build> */
	snprintf(path, size, "%s/%s", build_dir, name);
	if (access(path, R_OK) == 0)
		return 0;
	char *root = dirname(build_dir);
	snprintf(path, size, "%s/build/%s", root, name);
	if (access(path, R_OK) == 0)
		return 0;
	snprintf(path, size, "build/%s", name); /* run from the source tree */
	return access(path, R_OK) == 0 ? 0 : -1;
}

static void real_kernel(const char *name, enum kernel_kind kind)
{
	char path[PATH_MAX + 64];
	if (find_kernel(name, path, sizeof(path))) {
		print_message("no %s: skipped\n", name);
		skip();
	}
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	struct stat st;
	assert_int_equal(fstat(fd, &st), 0);

	/* 128 MiB, mmap'd: most of it is never touched. */
	uint64_t size = 128 * MIB;
	void *buf = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(buf != MAP_FAILED);
	struct guest_mem gm;
	gm_wrap(&gm, buf, size);
	struct boot_image img;
	struct err e = { 0 };
	if (kernel_load(&gm, fd, &img, &e))
		fail_msg("%s: %s", path, e.msg);
	assert_int_equal(img.kind, kind);
	assert_true(img.load_start >= HIMEM_START);
	assert_true(img.load_end > img.load_start);
	assert_true(img.load_end <= size);
	assert_true(img.entry >= img.load_start && img.entry < img.load_end);
	assert_true(img.cmdline_max >= 255);
	if (kind == KERNEL_BZIMAGE) {
		/* The payload follows the setup sectors in the file. */
		uint8_t sects;
		assert_int_equal(pread(fd, &sects, 1, 0x1f1), 1);
		uint64_t off = ((uint64_t)(sects ? sects : 4) + 1) * 512;
		uint8_t head[256];
		assert_int_equal(pread(fd, head, sizeof(head), (off_t)off), (ssize_t)sizeof(head));
		assert_memory_equal(gm.host + img.load_start, head, sizeof(head));
		assert_int_equal(img.entry, img.load_start + 0x200);
		assert_true(img.setup_len > 0x202 - 0x1f1);
	}
	/* The whole boot sequence must work with it. */
	assert_int_equal(boot_write_tables(&gm, &e), 0);
	assert_int_equal(zero_page_setup(&gm, &img, "console=ttyS0 quiet", 0, 0, &e), 0);
	munmap(buf, size);

	/* 8 MiB is too small for any of them (x86_64 loads at 16 MiB). */
	size = 8 * MIB;
	buf = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	assert_true(buf != MAP_FAILED);
	gm_wrap(&gm, buf, size);
	memset(&e, 0, sizeof(e));
	assert_int_equal(kernel_load(&gm, fd, &img, &e), -1);
	assert_err_contains(&e, "MiB");
	munmap(buf, size);
	close(fd);
}

static void test_real_vmlinux(void **state)
{
	(void)state;
	real_kernel("guest-vmlinux", KERNEL_ELF);
}

static void test_real_bzimage(void **state)
{
	(void)state;
	real_kernel("guest-bzImage", KERNEL_BZIMAGE);
}

/* ------------------------------------------------------------------ */
/* initrd */

static struct boot_image elf_img_at(uint64_t load_end, uint64_t initrd_max)
{
	struct boot_image img;
	memset(&img, 0, sizeof(img));
	img.kind = KERNEL_ELF;
	img.entry = ELF_LOAD;
	img.load_start = ELF_LOAD;
	img.load_end = load_end;
	img.cmdline_max = 2047;
	img.initrd_max = initrd_max;
	return img;
}

static void test_initrd_placement(void **state)
{
	(void)state;
	uint8_t data[10000];
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i ^ (i >> 8));
	struct guest_mem gm;
	test_gm_alloc(&gm, 64 * MIB, FILL);
	struct boot_image img = elf_img_at(ELF_END, 0x7fffffff);
	int fd = temp_file(data, sizeof(data));
	uint64_t addr = 0, size = 0;
	struct err e = { 0 };
	assert_int_equal(initrd_load(&gm, fd, &img, &addr, &size, &e), 0);
	close(fd);
	assert_int_equal(size, sizeof(data));
	assert_int_equal(addr % 4096, 0);
	assert_true(addr >= img.load_end);
	assert_true(addr + size <= 64 * MIB);
	/* As high as possible: less than a page left above it. */
	assert_true(64 * MIB - (addr + size) < 4096);
	assert_int_equal(addr, (64 * MIB - sizeof(data)) & ~0xfffULL);
	assert_memory_equal(gm.host + addr, data, sizeof(data));
	assert_true(all_bytes(gm.host, addr, FILL));
	assert_true(all_bytes(gm.host + addr + size, gm.size - addr - size, FILL));
	test_gm_release(&gm);
}

/* In real (owned, private) guest memory the initrd's whole pages are the
 * file's, mapped private: the guest reads the file's bytes, its writes
 * stay its own, and the file is unchanged. */
static void test_initrd_mapped_from_file(void **state)
{
	(void)state;
	uint8_t data[3 * 4096 + 123];
	for (size_t i = 0; i < sizeof(data); i++)
		data[i] = (uint8_t)(i * 7 + 1);
	struct guest_mem gm;
	struct err e = { 0 };
	assert_int_equal(gm_init(&gm, 64 * MIB, &e), 0);
	struct boot_image img = elf_img_at(ELF_END, 0x7fffffff);
	int fd = temp_file(data, sizeof(data));
	uint64_t addr = 0, size = 0;
	assert_int_equal(initrd_load(&gm, fd, &img, &addr, &size, &e), 0);
	assert_int_equal(size, sizeof(data));
	assert_memory_equal(gm.host + addr, data, sizeof(data));
	/* the whole pages are a private file mapping: resident as the file's */
	FILE *f = fopen("/proc/self/maps", "re");
	assert_non_null(f);
	char line[512], want[32];
	snprintf(want, sizeof(want), "%lx-", (unsigned long)(uintptr_t)(gm.host + addr));
	bool found = false;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, want, strlen(want)))
			found = strstr(line, " rw-p ") && !strstr(line, " 00:00 ");
	fclose(f);
	assert_true(found);
	gm.host[addr] ^= 0xff;
	uint8_t back;
	assert_int_equal(pread(fd, &back, 1, 0), 1);
	assert_int_equal(back, data[0]);
	close(fd);
	gm_free(&gm);
}

static void test_initrd_respects_initrd_max(void **state)
{
	(void)state;
	uint8_t data[8192 + 100];
	memset(data, 0x42, sizeof(data));
	struct guest_mem gm;
	test_gm_alloc(&gm, 64 * MIB, FILL);
	/* The kernel can only reach up to 32 MiB - 1. */
	struct boot_image img = elf_img_at(ELF_END, 32 * MIB - 1);
	int fd = temp_file(data, sizeof(data));
	uint64_t addr = 0, size = 0;
	struct err e = { 0 };
	assert_int_equal(initrd_load(&gm, fd, &img, &addr, &size, &e), 0);
	close(fd);
	assert_true(addr + size <= 32 * MIB);
	assert_int_equal(addr, (32 * MIB - sizeof(data)) & ~0xfffULL);
	assert_true(all_bytes(gm.host + addr, size, 0x42));
	test_gm_release(&gm);
}

static void test_initrd_too_large(void **state)
{
	(void)state;
	struct guest_mem gm;
	test_gm_alloc(&gm, 32 * MIB, FILL);
	/* Kernel ends at 16 MiB + 0x5000 (already page aligned): exactly
	 * 16 MiB - 0x5000 are free above it. */
	struct boot_image img = elf_img_at(ELF_END, 0x7fffffff);
	uint64_t room = 32 * MIB - ELF_END;
	uint64_t addr = 0, size = 0;
	struct err e = { 0 };

	int fd = temp_file(NULL, room); /* sparse: reads as zeros */
	assert_int_equal(initrd_load(&gm, fd, &img, &addr, &size, &e), 0);
	close(fd);
	assert_int_equal(addr, ELF_END);
	assert_int_equal(size, room);
	assert_true(all_bytes(gm.host + addr, size, 0));

	memset(gm.host, FILL, gm.size);
	fd = temp_file(NULL, room + 1);
	assert_int_equal(initrd_load(&gm, fd, &img, &addr, &size, &e), -1);
	close(fd);
	assert_err_contains(&e, "does not fit in guest memory above the kernel");
	assert_true(all_bytes(gm.host, gm.size, FILL));

	fd = temp_file(NULL, 64 * MIB); /* larger than all of memory */
	assert_int_equal(initrd_load(&gm, fd, &img, &addr, &size, &e), -1);
	close(fd);
	assert_err_contains(&e, "does not fit");
	/* An unaligned kernel end rounds the floor up to a page. */
	img = elf_img_at(ELF_END - 1, 0x7fffffff);
	fd = temp_file(NULL, room + 1);
	assert_int_equal(initrd_load(&gm, fd, &img, &addr, &size, &e), -1);
	close(fd);
	test_gm_release(&gm);
}

/* ------------------------------------------------------------------ */
/* e820 */

static void expect_e820(const struct boot_e820_entry *t, uint64_t addr, uint64_t size, uint32_t type)
{
	assert_int_equal(t->addr, addr);
	assert_int_equal(t->size, size);
	assert_int_equal(t->type, type);
}

static uint8_t dummy_host[64]; /* e820_build() only reads the layout */

static void test_e820_128m(void **state)
{
	(void)state;
	struct guest_mem gm;
	gm_wrap(&gm, dummy_host, 128 * MIB);
	struct boot_e820_entry t[8];
	struct err e = { 0 };
	assert_int_equal(e820_build(&gm, t, 8, &e), 3);
	expect_e820(&t[0], 0, 0x9fc00, E820_TYPE_RAM);
	expect_e820(&t[1], 0x9fc00, 0x400, E820_TYPE_RESERVED);
	expect_e820(&t[2], 0x100000, 127 * MIB, E820_TYPE_RAM);
	/* The smallest memory: 2 MiB. */
	gm_wrap(&gm, dummy_host, 2 * MIB);
	assert_int_equal(e820_build(&gm, t, 8, &e), 3);
	expect_e820(&t[2], 0x100000, MIB, E820_TYPE_RAM);
}

static void test_e820_above_4g(void **state)
{
	(void)state;
	struct guest_mem gm;
	gm_wrap(&gm, dummy_host, 3 * GIB + 2 * MIB);
	struct boot_e820_entry t[8];
	struct err e = { 0 };
	assert_int_equal(e820_build(&gm, t, 8, &e), 4);
	expect_e820(&t[0], 0, 0x9fc00, E820_TYPE_RAM);
	expect_e820(&t[1], 0x9fc00, 0x400, E820_TYPE_RESERVED);
	expect_e820(&t[2], 0x100000, 3 * GIB - MIB, E820_TYPE_RAM); /* up to the MMIO gap */
	expect_e820(&t[3], 4 * GIB, 2 * MIB, E820_TYPE_RAM);
	/* Exactly 3 GiB: no high region. */
	gm_wrap(&gm, dummy_host, 3 * GIB);
	assert_int_equal(e820_build(&gm, t, 8, &e), 3);
	expect_e820(&t[2], 0x100000, 3 * GIB - MIB, E820_TYPE_RAM);
}

static void test_e820_table_too_small(void **state)
{
	(void)state;
	struct guest_mem gm;
	gm_wrap(&gm, dummy_host, 128 * MIB);
	struct boot_e820_entry t[4];
	memset(t, 0xab, sizeof(t));
	struct err e = { 0 };
	assert_int_equal(e820_build(&gm, t, 2, &e), -1);
	assert_err_contains(&e, "e820 table full (2 entries)");
	/* Nothing written past MAX. */
	assert_true(all_bytes(&t[2], 2 * sizeof(t[0]), 0xab));

	gm_wrap(&gm, dummy_host, 3 * GIB + 2 * MIB);
	memset(t, 0xab, sizeof(t));
	assert_int_equal(e820_build(&gm, t, 3, &e), -1);
	assert_true(all_bytes(&t[3], sizeof(t[0]), 0xab));
	assert_int_equal(e820_build(&gm, t, 0, &e), -1);
}

static void test_e820_memory_too_small(void **state)
{
	(void)state;
	struct guest_mem gm;
	struct boot_e820_entry t[8];
	struct err e = { 0 };
	gm_wrap(&gm, dummy_host, 2 * MIB - 4096);
	assert_int_equal(e820_build(&gm, t, 8, &e), -1);
	assert_err_contains(&e, "too small");
	gm_wrap(&gm, dummy_host, 1 * MIB);
	assert_int_equal(e820_build(&gm, t, 8, &e), -1);
	gm_wrap(&gm, dummy_host, 0);
	assert_int_equal(e820_build(&gm, t, 8, &e), -1);
}

/* ------------------------------------------------------------------ */
/* Command line, zero page, page tables */

static char *repeat(char c, size_t n)
{
	char *s = malloc(n + 1);
	assert_non_null(s);
	memset(s, c, n);
	s[n] = '\0';
	return s;
}

static void test_cmdline_check(void **state)
{
	(void)state;
	struct boot_image img = elf_img_at(ELF_END, 0x7fffffff);
	struct err e = { 0 };
	char *s = repeat('a', 2048);
	/* The kernel's limit: 2047 characters plus the NUL. */
	s[2047] = '\0';
	assert_int_equal(cmdline_check(s, &img, &e), 0);
	s[2047] = 'a';
	assert_int_equal(cmdline_check(s, &img, &e), -1);
	assert_err_contains(&e, "2048 bytes; this kernel accepts at most 2047");
	assert_int_equal(cmdline_check("", &img, &e), 0);
	free(s);
	/* A kernel that accepts more is capped at our CMDLINE_MAX. */
	img.cmdline_max = 100000;
	s = repeat('b', CMDLINE_MAX);
	assert_int_equal(cmdline_check(s, &img, &e), -1);
	assert_err_contains(&e, "at most 4095");
	s[CMDLINE_MAX - 1] = '\0';
	assert_int_equal(cmdline_check(s, &img, &e), 0);
	free(s);
	/* A small limit from the bzImage header. */
	img.cmdline_max = 255;
	s = repeat('c', 256);
	assert_int_equal(cmdline_check(s, &img, &e), -1);
	s[255] = '\0';
	assert_int_equal(cmdline_check(s, &img, &e), 0);
	free(s);
}

static void test_zero_page_elf(void **state)
{
	(void)state;
	struct guest_mem gm;
	test_gm_alloc(&gm, 64 * MIB, FILL);
	struct boot_image img = elf_img_at(ELF_END, 0x7fffffff);
	const char *cmdline = "console=ttyS0 reboot=k panic=-1";
	struct err e = { 0 };
	assert_int_equal(zero_page_setup(&gm, &img, cmdline, 0x3000000, 0x12345, &e), 0);

	assert_string_equal((char *)gm.host + CMDLINE_ADDR, cmdline);
	const struct boot_params *bp = (const void *)(gm.host + ZERO_PAGE_ADDR);
	assert_int_equal(bp->hdr.boot_flag, 0xaa55);
	assert_int_equal(bp->hdr.header, 0x53726448);
	assert_int_equal(bp->hdr.type_of_loader, 0xff);
	assert_true(bp->hdr.loadflags & LOADED_HIGH);
	assert_int_equal(bp->hdr.cmd_line_ptr, CMDLINE_ADDR);
	assert_int_equal(bp->ext_cmd_line_ptr, 0);
	assert_int_equal(bp->hdr.ramdisk_image, 0x3000000);
	assert_int_equal(bp->hdr.ramdisk_size, 0x12345);
	assert_int_equal(bp->ext_ramdisk_image, 0);
	assert_int_equal(bp->ext_ramdisk_size, 0);
	assert_int_equal(bp->hdr.kernel_alignment, 0x1000000);
	/* The e820 map is the one e820_build() gives. */
	assert_int_equal(bp->e820_entries, 3);
	expect_e820(&bp->e820_table[0], 0, 0x9fc00, E820_TYPE_RAM);
	expect_e820(&bp->e820_table[1], 0x9fc00, 0x400, E820_TYPE_RESERVED);
	expect_e820(&bp->e820_table[2], 0x100000, 63 * MIB, E820_TYPE_RAM);
	/* Everything else in the zero page is zero, not left over. */
	assert_true(all_bytes(&bp->screen_info, sizeof(bp->screen_info), 0));
	assert_true(all_bytes(bp->_pad9, sizeof(bp->_pad9), 0));
	assert_int_equal(bp->hdr.setup_sects, 0);
	/* Nothing written past the zero page or the command line. */
	assert_true(all_bytes(gm.host + ZERO_PAGE_ADDR + sizeof(*bp), CMDLINE_ADDR - ZERO_PAGE_ADDR - sizeof(*bp), FILL));
	assert_int_equal(gm.host[CMDLINE_ADDR + strlen(cmdline) + 1], FILL);

	/* No initrd: ramdisk fields stay zero. */
	assert_int_equal(zero_page_setup(&gm, &img, "x", 0, 0, &e), 0);
	assert_int_equal(bp->hdr.ramdisk_image, 0);
	assert_int_equal(bp->hdr.ramdisk_size, 0);
	assert_string_equal((char *)gm.host + CMDLINE_ADDR, "x");
	test_gm_release(&gm);
}

static void test_zero_page_bzimage(void **state)
{
	(void)state;
	struct bz_image bz;
	bz_init(&bz);
	struct guest_mem gm;
	struct boot_image img;
	struct err e;
	assert_int_equal(bz_try(&bz, BZ_SIZE, 64 * MIB, &gm, &img, &e), 0);
	assert_int_equal(zero_page_setup(&gm, &img, "console=ttyS0", 0x2000000, 0x1000, &e), 0);
	const struct boot_params *bp = (const void *)(gm.host + ZERO_PAGE_ADDR);
	/* The kernel's own header fields come through... */
	assert_int_equal(bp->hdr.setup_sects, BZ_SETUP_SECTS);
	assert_int_equal(bp->hdr.version, 0x020f);
	assert_int_equal(bp->hdr.pref_address, BZ_LOAD);
	assert_int_equal(bp->hdr.init_size, BZ_INIT_SIZE);
	assert_int_equal(bp->hdr.xloadflags, XLF_KERNEL_64);
	/* ...with the boot loader's fields filled in. */
	assert_int_equal(bp->hdr.type_of_loader, 0xff);
	assert_int_equal(bp->hdr.cmd_line_ptr, CMDLINE_ADDR);
	assert_int_equal(bp->hdr.ramdisk_image, 0x2000000);
	assert_int_equal(bp->hdr.ramdisk_size, 0x1000);
	assert_int_equal(bp->e820_entries, 3);
	test_gm_release(&gm);
}

static void test_zero_page_errors(void **state)
{
	(void)state;
	struct guest_mem gm;
	test_gm_alloc(&gm, 4 * MIB, FILL);
	struct boot_image img = elf_img_at(ELF_END, 0x7fffffff);
	struct err e = { 0 };
	char *s = repeat('a', 2048);
	assert_int_equal(zero_page_setup(&gm, &img, s, 0, 0, &e), -1);
	assert_err_contains(&e, "command line");
	free(s);
	test_gm_release(&gm);
	/* Memory that ends inside the zero page. */
	test_gm_alloc(&gm, ZERO_PAGE_ADDR + 100, FILL);
	assert_int_equal(zero_page_setup(&gm, &img, "x", 0, 0, &e), -1);
	assert_err_contains(&e, "zero page");
	test_gm_release(&gm);
}

static void test_boot_write_tables(void **state)
{
	(void)state;
	struct guest_mem gm;
	test_gm_alloc(&gm, 2 * MIB, FILL);
	struct err e = { 0 };
	assert_int_equal(boot_write_tables(&gm, &e), 0);

	const uint64_t *pml4 = (const void *)(gm.host + PML4_ADDR);
	const uint64_t *pdpt = (const void *)(gm.host + PDPT_ADDR);
	const uint64_t *pd = (const void *)(gm.host + PD_ADDR);
	assert_int_equal(pml4[0], PDPT_ADDR | 3);
	for (unsigned i = 1; i < 512; i++)
		assert_int_equal(pml4[i], 0);
	for (unsigned i = 0; i < 4; i++)
		assert_int_equal(pdpt[i], (PD_ADDR + i * 4096) | 3);
	for (unsigned i = 4; i < 512; i++)
		assert_int_equal(pdpt[i], 0);
	/* 2 MiB pages: present, writable, PS. */
	assert_int_equal(pd[0], 0x83);
	assert_int_equal(pd[1], 2 * MIB | 0x83);
	assert_int_equal(pd[511], 1 * GIB - 2 * MIB + 0x83);
	assert_int_equal(pd[512], 1 * GIB | 0x83);
	assert_int_equal(pd[1536], 3 * GIB | 0x83);
	assert_int_equal(pd[2047], (4 * GIB - 2 * MIB) | 0x83);
	/* Walk it: every 2 MiB of 0..4 GiB maps to itself. */
	for (uint64_t va = 0; va < 4 * GIB; va += 2 * MIB) {
		uint64_t l4 = pml4[(va >> 39) & 511];
		assert_true(l4 & 1);
		const uint64_t *l3t = (const void *)(gm.host + (l4 & ~0xfffULL));
		uint64_t l3 = l3t[(va >> 30) & 511];
		assert_true(l3 & 1);
		const uint64_t *l2t = (const void *)(gm.host + (l3 & ~0xfffULL));
		uint64_t l2 = l2t[(va >> 21) & 511];
		assert_int_equal(l2 & 0x83, 0x83);
		assert_int_equal(l2 & ~0x1fffffULL, va);
	}
	/* Nothing maps 4 GiB and above. */
	assert_int_equal(pdpt[4] & 1, 0);
	/* Just past the 4 PD pages: untouched. */
	assert_true(all_bytes(gm.host + PD_ADDR + 4 * 4096, 64, FILL));

	/* The GDT (all of it, TSS descriptor included) survives the IDT
	 * write: the two must not overlap. */
	assert_true(BOOT_IDT_ADDR >= BOOT_GDT_ADDR + sizeof(boot_gdt) ||
		    BOOT_IDT_ADDR + 8 <= BOOT_GDT_ADDR);
	assert_memory_equal(gm.host + BOOT_GDT_ADDR, boot_gdt, sizeof(boot_gdt));
	uint64_t cs = boot_gdt[BOOT_GDT_CODE];
	assert_true(cs & (1ULL << 53));  /* L: 64-bit code */
	assert_true(cs & (1ULL << 47));  /* present */
	assert_false(cs & (1ULL << 54)); /* D must be 0 with L */
	assert_true(boot_gdt[BOOT_GDT_DATA] & (1ULL << 47));
	assert_int_equal(boot_gdt[0], 0);
	assert_true(all_bytes(gm.host + BOOT_IDT_ADDR, 8, 0));
	test_gm_release(&gm);

	/* Too small for the page directories at 0xb000..0xf000. */
	test_gm_alloc(&gm, PD_ADDR + 3 * 4096, FILL);
	assert_int_equal(boot_write_tables(&gm, &e), -1);
	assert_err_contains(&e, "too small for boot tables");
	assert_true(all_bytes(gm.host, gm.size, FILL));
	test_gm_release(&gm);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_elf_valid_loads),
		cmocka_unit_test(test_elf_truncated_header),
		cmocka_unit_test(test_elf_truncated_phdrs),
		cmocka_unit_test(test_elf_truncated_segment),
		cmocka_unit_test(test_elf_bad_magic),
		cmocka_unit_test(test_elf_wrong_class_machine),
		cmocka_unit_test(test_elf_segment_outside_memory),
		cmocka_unit_test(test_elf_segment_below_1mib),
		cmocka_unit_test(test_elf_filesz_gt_memsz),
		cmocka_unit_test(test_elf_entry_outside_segments),
		cmocka_unit_test(test_elf_bad_phnum),
		cmocka_unit_test(test_elf_kernel_larger_than_ram),
		cmocka_unit_test(test_bzimage_valid_loads),
		cmocka_unit_test(test_bzimage_flags),
		cmocka_unit_test(test_bzimage_old_protocol),
		cmocka_unit_test(test_bzimage_no_64bit_flag),
		cmocka_unit_test(test_bzimage_truncated),
		cmocka_unit_test(test_bzimage_too_short),
		cmocka_unit_test(test_bzimage_too_big_for_memory),
		cmocka_unit_test(test_kernel_neither_elf_nor_bzimage),
		cmocka_unit_test(test_real_vmlinux),
		cmocka_unit_test(test_real_bzimage),
		cmocka_unit_test(test_initrd_placement),
		cmocka_unit_test(test_initrd_mapped_from_file),
		cmocka_unit_test(test_initrd_respects_initrd_max),
		cmocka_unit_test(test_initrd_too_large),
		cmocka_unit_test(test_e820_128m),
		cmocka_unit_test(test_e820_above_4g),
		cmocka_unit_test(test_e820_table_too_small),
		cmocka_unit_test(test_e820_memory_too_small),
		cmocka_unit_test(test_cmdline_check),
		cmocka_unit_test(test_zero_page_elf),
		cmocka_unit_test(test_zero_page_bzimage),
		cmocka_unit_test(test_zero_page_errors),
		cmocka_unit_test(test_boot_write_tables),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
