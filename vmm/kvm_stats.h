/* KVM's binary statistics (KVM_GET_STATS_FD, Linux 5.14+): the in-kernel
 * counters the VMM never sees as exits (nested page faults handled in
 * KVM, the NPT's 4 KiB and 2 MiB leaves), for `--timings` and bench/.
 * The fds are made before the jail and read once at the end with read()
 * from offset 0 (the whole file: header, descriptors, data); parsing is a
 * pure function over those bytes. Diagnostics only: any failure leaves
 * the counters out of the report. */
#ifndef SANDBOX_VMM_KVM_STATS_H
#define SANDBOX_VMM_KVM_STATS_H

#include <stddef.h>
#include <stdint.h>

#include "../common/err.h"

#define KVM_STATS_MAX_FILE (256u * 1024u)

/* The counters reported: per-vCPU ones summed over vCPUs, and the VM's. */
enum kvm_stat {
	KS_EXITS,           /* every exit from the guest (vCPU) */
	KS_PF_TAKEN,        /* nested page faults KVM's MMU handled */
	KS_PF_FIXED,        /* of them, a new mapping made */
	KS_PF_SPURIOUS,
	KS_PF_FAST,
	KS_HALT_EXITS,
	KS_IO_EXITS,
	KS_MMIO_EXITS,
	KS_IRQ_EXITS,
	KS_PAGES_4K,        /* the NPT's 4 KiB leaves now (VM) */
	KS_PAGES_2M,        /* its 2 MiB leaves (VM) */
	KS_N
};

extern const char *const kvm_stat_names[KS_N];

/* Adds the first value of each named counter found in the stats file BUF
 * (LEN bytes, as read from offset 0) to SUM[KS_*] and sets bit i of
 * *FOUND for each one found. The file is checked as a whole: header
 * offsets, descriptor sizes, each value inside the data; -1 and E on any
 * inconsistency (SUM then unchanged). */
int kvm_stats_parse(const uint8_t *buf, size_t len, uint64_t sum[KS_N], uint32_t *found, struct err *e);

/* KVM_GET_STATS_FD on a VM or vCPU fd; -1 if the kernel has none. */
int kvm_stats_open(int kvm_obj_fd);

/* Reads the whole stats file of SFD (never read before: offset 0) and
 * parses it into SUM / FOUND. Only read(2): allowed after the jail. */
int kvm_stats_collect(int sfd, uint64_t sum[KS_N], uint32_t *found, struct err *e);

#endif
