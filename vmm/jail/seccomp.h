/* Per-thread seccomp filters for the VMM (libseccomp). Each kind of VMM
 * thread gets its own allowlist (the tables in seccomp.c); anything else
 * kills the whole process (SCMP_ACT_KILL_PROCESS, the VMM dies of SIGSYS).
 *
 * Order (vm_run): seccomp_arm(vm) → start the device thread, which calls
 * seccomp_enter_evloop() before its first event → seccomp_wait_evloop() →
 * start the vCPU threads, each calling seccomp_enter(SB_SECCOMP_VCPU)
 * before its first KVM_RUN → seccomp_enter(SB_SECCOMP_MAIN) on the main
 * thread. A filter covers only the thread that loads it (no TSYNC), and
 * threads inherit the filter of their creator, so the main thread loads
 * its own last. */
#ifndef SANDBOX_JAIL_SECCOMP_H
#define SANDBOX_JAIL_SECCOMP_H

#include <stdbool.h>

#include "util.h"

struct vm;

enum sb_seccomp_thread {
	SB_SECCOMP_VCPU,    /* KVM_RUN loop, port/MMIO exits, device registers */
	SB_SECCOMP_EVLOOP,  /* the device thread: queues, tap, disks, sockets */
	SB_SECCOMP_MAIN,    /* after start-up: waits, joins, cleans up, exits */
	SB_SECCOMP_RELAY,   /* sandbox run's agent channel: stdio and signals */
	SB_SECCOMP_NKINDS
};

/* Install KIND's filter on the calling thread. */
int seccomp_install(enum sb_seccomp_thread kind, struct err *e);
/* How many syscalls KIND allows (ioctl counts once), and how many ioctl
 * request numbers; -1 if a name is unknown on this architecture. */
int seccomp_nsyscalls(enum sb_seccomp_thread kind);
int seccomp_nioctls(enum sb_seccomp_thread kind);
const char *seccomp_kind_name(enum sb_seccomp_thread kind);

/* vm_run's side: filters are on unless vm->cfg.no_seccomp. seccomp_arm
 * records the VM (failures end it) before the device thread starts. */
void seccomp_arm(struct vm *vm);
/* The device thread's hook (evloop.c). Declared weak so builds without
 * this file (the fuzzers) still link; a no-op unless armed. */
void seccomp_enter_evloop(void) __attribute__((weak));
/* Wait until the device thread has its filter (or failed). */
void seccomp_wait_evloop(void);
/* Install KIND's filter on this thread if armed; on failure end the VM. */
int seccomp_enter(enum sb_seccomp_thread kind);

#endif
