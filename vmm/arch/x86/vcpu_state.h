/* x86 machine state for snapshots: everything KVM holds for one vCPU and
 * for the VM's in-kernel devices (PIC, IOAPIC, PIT, kvmclock), as plain
 * structs that can be written to a file and read back. */
#ifndef SANDBOX_X86_VCPU_STATE_H
#define SANDBOX_X86_VCPU_STATE_H

#include <linux/kvm.h>
#include <stdint.h>

#include "util.h"

#define VCPU_STATE_MAX_MSRS 256

struct vcpu_state {
	struct kvm_regs regs;
	struct kvm_sregs sregs;
	/* struct kvm_xsave's 4 KiB region (its newer header ends in a
	 * flexible array: kept as bytes here, KVM_GET_XSAVE fills 4 KiB) */
	uint32_t xsave[1024];
	struct kvm_xcrs xcrs;
	struct kvm_lapic_state lapic;
	struct kvm_mp_state mp;
	struct kvm_vcpu_events events;
	struct kvm_debugregs debugregs;
	uint32_t nmsrs;
	struct kvm_msr_entry msrs[VCPU_STATE_MAX_MSRS];
};

struct vm_chip_state {
	struct kvm_irqchip pic_master, pic_slave, ioapic;
	struct kvm_pit_state2 pit;
	struct kvm_clock_data clock;
};

/* The MSRs KVM can save and restore on this host (KVM_GET_MSR_INDEX_LIST),
 * read once from the /dev/kvm fd before any thread runs. */
int vcpu_state_msr_list(int kvm_fd, struct err *e);
/* Read vCPU FD's state into S (the vCPU must not be in KVM_RUN). */
int vcpu_state_save(int fd, struct vcpu_state *s, struct err *e);
/* Put S back into vCPU FD (before it first runs). */
int vcpu_state_restore(int fd, const struct vcpu_state *s, struct err *e);
int vm_chip_save(int vm_fd, struct vm_chip_state *s, struct err *e);
int vm_chip_restore(int vm_fd, const struct vm_chip_state *s, struct err *e);

#endif
