/* x86 vCPU state at power-on: CPUID, MSRs, LAPIC LINT pins, and for the
 * boot CPU the 64-bit entry state the Linux boot protocol asks for. */
#ifndef SANDBOX_X86_REGS_H
#define SANDBOX_X86_REGS_H

#include <linux/kvm.h>
#include <stdbool.h>
#include <stdint.h>

#include "util.h"

/* Filter SUPPORTED for vCPU ID of NCPUS and set it (before any KVM_RUN). */
int regs_set_cpuid(int vcpu_fd, const struct kvm_cpuid2 *supported, unsigned id, unsigned ncpus,
		   bool tsc_deadline, struct err *e);
/* LINT0 = ExtINT (the PIC, for virtual-wire mode), LINT1 = NMI. */
int regs_set_lapic(int vcpu_fd, struct err *e);
/* Long mode with the identity page tables and boot GDT of boot.c, RIP at
 * ENTRY, RSI at the zero page. Only for vCPU 0: the others wait for the
 * guest's INIT/SIPI in the in-kernel LAPIC. */
int regs_set_boot_cpu(int vcpu_fd, uint64_t entry, struct err *e);

#endif
