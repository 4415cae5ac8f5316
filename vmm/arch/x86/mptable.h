/* The Intel MultiProcessor Specification 1.4 table: tells a guest without
 * ACPI about its CPUs, the IOAPIC and how ISA IRQs are routed. */
#ifndef SANDBOX_X86_MPTABLE_H
#define SANDBOX_X86_MPTABLE_H

#include <stdint.h>

#include "../../memory.h"

/* Write the floating pointer and configuration table at MPTABLE_ADDR for
 * NCPUS processors (APIC IDs 0..NCPUS-1), one IOAPIC with ID NCPUS and
 * pins 0..23 mapped 1:1 to ISA IRQs. Fails if NCPUS is 0 or above
 * MAX_VCPUS or the table would not fit. Returns the bytes written. */
int mptable_write(const struct guest_mem *gm, unsigned ncpus, struct err *e);

/* Bytes the table needs for NCPUS processors. */
uint64_t mptable_size(unsigned ncpus);

/* Checksum helper: the byte that makes the sum of BUF[0..LEN) zero. */
uint8_t mp_checksum(const void *buf, uint64_t len);

#endif
