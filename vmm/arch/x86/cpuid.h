/* CPUID for the guest: KVM_GET_SUPPORTED_CPUID, then adjusted per vCPU. */
#ifndef SANDBOX_X86_CPUID_H
#define SANDBOX_X86_CPUID_H

#include <linux/kvm.h>
#include <stdint.h>

/* Adjust the supported CPUID C in place for vCPU ID of NCPUS:
 * - leaf 1: APIC ID, logical CPU count, HTT, the hypervisor bit;
 * - leaves 0xb / 0x1f: a topology of NCPUS cores with one thread each;
 * - leaf 4: cores per package;
 * - leaf 0xa: no performance counters (no vPMU: smaller attack surface);
 * - leaf 6: no thermal / power management features;
 * - leaf 0x80000008: core count for AMD guests.
 * Pure function on the array: no KVM needed. */
void cpuid_filter(struct kvm_cpuid2 *c, unsigned id, unsigned ncpus);

/* Find leaf FUNCTION/INDEX in C, or NULL. */
struct kvm_cpuid_entry2 *cpuid_find(struct kvm_cpuid2 *c, uint32_t function, uint32_t index);

#define CPUID_1_ECX_HYPERVISOR (1u << 31)
#define CPUID_1_EDX_HTT        (1u << 28)
#define CPUID_1_ECX_TSC_DEADLINE (1u << 24)

#endif
