/* The VMM's entry points for the command line (vmm/cmd.c). */
#ifndef SANDBOX_VMM_H
#define SANDBOX_VMM_H

#include <stdint.h>
#include <stdio.h>

/* `sandbox vm ARGS`: boot a kernel in a microVM; returns the exit status.
 * START: now_ns() when the process started. */
int vmm_main(int argc, char **argv, uint64_t start);
/* `sandbox kvm-check`: 0 if this host's KVM boots stock Linux guests. */
int vmm_kvm_check(void);
/* The `sandbox vm` part of --help. */
void vmm_usage(FILE *f);

#endif
