/* The x86 guest physical address map. Every fixed guest address the VMM
 * uses is named here, with what lives there.
 *
 *   0x000500  GDT used for the 64-bit entry (BOOT_GDT_ENTRIES = 5 entries)
 *   0x000528  IDT (empty: the kernel sets up its own before enabling irqs)
 *   0x007000  zero page (struct boot_params)
 *   0x008ff0  initial stack pointer (grows down, below the page tables)
 *   0x009000  PML4, PDPT at 0x00a000, 4 page directories at 0x00b000
 *   0x020000  kernel command line
 *   0x09fc00  MP floating pointer + MP configuration table (1 KiB)
 *   0x0a0000  legacy VGA / BIOS hole (reserved in e820)
 *   0x100000  high memory: kernel (vmlinux loads at its physical address,
 *             16 MiB for x86_64 defaults), then free RAM, initrd at the top
 *   3 GiB     MMIO gap: virtio-mmio devices, IOAPIC, LAPIC, KVM's TSS
 *   4 GiB     RAM beyond 3 GiB continues here
 *   above RAM device memory windows (virtio-pmem: the read-only image),
 *             from the first DEVICE_WINDOW_ALIGN boundary at or above both
 *             4 GiB and the end of RAM, each window on that alignment
 */
#ifndef SANDBOX_X86_LAYOUT_H
#define SANDBOX_X86_LAYOUT_H

#define BOOT_GDT_ADDR      0x500ULL
#define BOOT_IDT_ADDR      0x528ULL   /* right after the 5-entry GDT */
#define ZERO_PAGE_ADDR     0x7000ULL
#define BOOT_STACK_ADDR    0x8ff0ULL
#define PML4_ADDR          0x9000ULL
#define PDPT_ADDR          0xa000ULL
#define PD_ADDR            0xb000ULL   /* 4 pages: identity map of 0..4 GiB */
#define PD_PAGES           4
#define CMDLINE_ADDR       0x20000ULL
#define CMDLINE_MAX        4096ULL     /* our cap; the kernel may allow less */
#define MPTABLE_ADDR       0x9fc00ULL  /* last KiB of base memory: Linux scans it */
#define MPTABLE_MAX        0x400ULL
#define EBDA_END           0xa0000ULL
#define HIMEM_START        0x100000ULL /* 1 MiB */

#define MMIO_GAP_START     0xc0000000ULL  /* 3 GiB */
#define MMIO_GAP_END       0x100000000ULL /* 4 GiB */
#define VIRTIO_MMIO_BASE   0xd0000000ULL  /* virtio-mmio devices, 4 KiB each */
#define IOAPIC_ADDR        0xfec00000ULL
#define LAPIC_ADDR         0xfee00000ULL
#define KVM_IDENTITY_MAP_ADDR 0xfffbc000ULL /* one page, used by VMX */
#define KVM_TSS_ADDR       0xfffbd000ULL  /* three pages, used by VMX */

/* Device memory windows (vm_map_window): each starts on a memory-section
 * boundary (x86_64 SECTION_SIZE_BITS = 27: 128 MiB), so the guest's
 * memremap_pages never shares a section with RAM or another window, and is
 * a multiple of DEVICE_WINDOW_GRAIN long (a sub-section, 2 MiB: the least
 * memremap_pages accepts with SPARSEMEM_VMEMMAP, and a PMD for DAX). */
#define DEVICE_WINDOW_ALIGN (128ULL << 20)
#define DEVICE_WINDOW_GRAIN (2ULL << 20)
#define VM_MAX_WINDOWS     4

#define IOAPIC_PINS        24
#define MAX_VCPUS          32          /* the MP table must fit its 1 KiB */
#define GUEST_MEM_MAX      (1ULL << 40) /* 1 TiB */

/* Legacy PC I/O ports we emulate. */
#define SERIAL_COM1_PORT   0x3f8
#define SERIAL_COM1_IRQ    4
#define I8042_DATA_PORT    0x60
#define I8042_CMD_PORT     0x64
#define RESET_CF9_PORT     0xcf9

#endif
