/* Per-thread seccomp filters for the VMM (libseccomp). Each kind of VMM
 * thread gets its own allowlist (the tables in seccomp.c); anything else
 * kills the whole process (SCMP_ACT_KILL_PROCESS, the VMM dies of SIGSYS).
 *
 * This file knows only the filters; the VM decides when each thread loads
 * its own (vm_run, vm_seccomp_enter in vm.c): the device thread from its
 * event loop's start hook before its first event (evloop_start waits for
 * it), each vCPU thread before its first KVM_RUN, the main thread once
 * they are all started. A filter covers only the thread that loads it (no
 * TSYNC), and threads inherit the filter of their creator, so the main
 * thread loads its own last. */
#ifndef SANDBOX_JAIL_SECCOMP_H
#define SANDBOX_JAIL_SECCOMP_H

#include <stdbool.h>

#include "util.h"

enum sb_seccomp_thread {
	SB_SECCOMP_VCPU,    /* KVM_RUN loop, port/MMIO exits, device registers */
	SB_SECCOMP_EVLOOP,  /* the device thread: queues, tap, disks, sockets */
	SB_SECCOMP_MAIN,    /* after start-up: waits, joins, cleans up, exits */
	SB_SECCOMP_RELAY,   /* sandbox run's agent channel: stdio and signals */
	SB_SECCOMP_CONTROL, /* the control socket: pause, resume, snapshot */
	SB_SECCOMP_NKINDS
};

/* Install KIND's filter on the calling thread. */
int seccomp_install(enum sb_seccomp_thread kind, struct err *e);
/* How many syscalls KIND allows (ioctl counts once), and how many ioctl
 * request numbers; -1 if a name is unknown on this architecture. */
int seccomp_nsyscalls(enum sb_seccomp_thread kind);
int seccomp_nioctls(enum sb_seccomp_thread kind);
const char *seccomp_kind_name(enum sb_seccomp_thread kind);

#endif
