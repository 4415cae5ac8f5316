/* /dev/kvm: opening it, checking the API and the capabilities we use, and
 * telling apart hosts where a stock Linux guest cannot run (PVM). */
#ifndef SANDBOX_KVM_H
#define SANDBOX_KVM_H

#include <linux/kvm.h>
#include <stdbool.h>

#include "util.h"

struct kvm {
	int fd;
	int run_size;      /* KVM_GET_VCPU_MMAP_SIZE */
	bool pvm;          /* the host's KVM is kvm_pvm */
	bool tsc_deadline; /* in-kernel LAPIC emulates the TSC-deadline timer */
};

/* Where the host's KVM module can be told apart (tests override it). */
#define KVM_DEV_PATH "/dev/kvm"
#define KVM_PVM_SYSFS "/sys/module/kvm_pvm"

/* True if the host's KVM backend is PVM (pagetable-based virtual machine),
 * which runs only PVM-patched guest kernels. */
bool kvm_host_is_pvm(void);

/* Open /dev/kvm and check API version 12 and every capability the VMM
 * needs. On a PVM host this fails with an explanation unless ALLOW_PVM. */
int kvm_open(struct kvm *k, const char *path, bool allow_pvm, struct err *e);
void kvm_close(struct kvm *k);

/* KVM_GET_SUPPORTED_CPUID into a malloc'd array (caller frees). */
int kvm_supported_cpuid(struct kvm *k, struct kvm_cpuid2 **out, struct err *e);

/* The message that explains a PVM host; shared with the run loop for the
 * internal error a stock kernel hits there. */
extern const char kvm_pvm_advice[];

#endif
