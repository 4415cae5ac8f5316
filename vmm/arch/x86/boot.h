/* The Linux x86 64-bit boot protocol: kernel and initrd loading, the zero
 * page, the e820 map, identity page tables and the boot GDT.
 * Everything here works on a struct guest_mem and file descriptors only, so
 * unit tests can run it without KVM.
 *
 * Order: kernel_load() → initrd_load() → boot_write_tables() →
 *        zero_page_setup(); then regs_setup_boot_cpu() (regs.c) uses
 *        boot_image.entry and ZERO_PAGE_ADDR. */
#ifndef SANDBOX_X86_BOOT_H
#define SANDBOX_X86_BOOT_H

#include <asm/bootparam.h>
#include <stdbool.h>
#include <stdint.h>

#include "../../memory.h"

#define E820_TYPE_RAM      1
#define E820_TYPE_RESERVED 2

enum kernel_kind { KERNEL_ELF = 1, KERNEL_BZIMAGE = 2 };

struct boot_image {
	enum kernel_kind kind;
	uint64_t entry;          /* guest physical 64-bit entry point */
	uint64_t load_start;     /* guest physical range the kernel occupies */
	uint64_t load_end;       /*   (including bss / init_size), exclusive */
	uint32_t cmdline_max;    /* longest command line, without the NUL */
	uint64_t initrd_max;     /* highest guest address the initrd may use */
	/* bzImage only: the setup header bytes to copy into the zero page */
	uint8_t setup_raw[0x290 - 0x1f1];
	uint32_t setup_len;
};

/* Load a kernel image from FD: an uncompressed vmlinux (ELF64, x86_64)
 * or, failing the ELF magic, a bzImage with a 64-bit entry point (boot
 * protocol ≥ 2.12). Checks every size and offset against the file and
 * guest memory; refuses segments below 1 MiB (the boot tables live there). */
int kernel_load(const struct guest_mem *gm, int fd, struct boot_image *img, struct err *e);
int elf_load(const struct guest_mem *gm, int fd, uint64_t fsize, struct boot_image *img, struct err *e);
int bzimage_load(const struct guest_mem *gm, int fd, uint64_t fsize, struct boot_image *img, struct err *e);

/* Place the initrd from FD as high as the kernel allows, page aligned,
 * above the kernel. */
int initrd_load(const struct guest_mem *gm, int fd, const struct boot_image *img,
		uint64_t *addr, uint64_t *size, struct err *e);

/* Fill TAB (room for MAX entries) with the guest's e820 map. Returns the
 * number of entries, or -1 if MAX is too small. */
int e820_build(const struct guest_mem *gm, struct boot_e820_entry *tab, unsigned max, struct err *e);

/* Check a command line against the kernel's limit. */
int cmdline_check(const char *cmdline, const struct boot_image *img, struct err *e);

/* Identity page tables for 0..4 GiB (2 MiB pages) and the boot GDT. */
int boot_write_tables(const struct guest_mem *gm, struct err *e);

/* The zero page: setup header, command line, initrd, e820. */
int zero_page_setup(const struct guest_mem *gm, const struct boot_image *img, const char *cmdline,
		    uint64_t initrd_addr, uint64_t initrd_size, struct err *e);

/* GDT entries of the boot GDT (selectors are index * 8). */
#define BOOT_GDT_CODE 2   /* __BOOT_CS = 0x10, as the boot protocol asks */
#define BOOT_GDT_DATA 3   /* __BOOT_DS = 0x18 */
#define BOOT_GDT_TSS  4   /* a TSS descriptor: VMX requires a usable TR */
#define BOOT_GDT_ENTRIES 5
extern const uint64_t boot_gdt[BOOT_GDT_ENTRIES];

#endif
