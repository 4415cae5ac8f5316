/* Per-thread seccomp filters for the VMM. Each kind of VMM thread gets its
 * own allowlist (the tables in seccomp_policy.h, compiled to BPF at build
 * time by gen/seccomp-vmm.c); anything else kills the whole process
 * (SECCOMP_RET_KILL_PROCESS, the VMM dies of SIGSYS).
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
#include <stddef.h>

#include "util.h"

enum sb_seccomp_thread {
	SB_SECCOMP_VCPU,    /* KVM_RUN loop, port/MMIO exits, device registers */
	SB_SECCOMP_EVLOOP,  /* the device thread: queues, tap, disks, sockets */
	SB_SECCOMP_MAIN,    /* after start-up: waits, joins, cleans up, exits */
	SB_SECCOMP_RELAY,   /* sandbox run's agent channel: stdio and signals */
	SB_SECCOMP_CONTROL, /* the control socket: pause, resume, snapshot */
	SB_SECCOMP_NKINDS
};

/* Install KIND's filter on the calling thread (SANDBOX_SECCOMP_TRAP=1:
 * refusals trap to a handler that names the call, then die the same way). */
int seccomp_install(enum sb_seccomp_thread kind, struct err *e);
/* The BPF program seccomp_install loads for KIND in this process (our pid
 * in it; TRAP: refusals trap instead of killing), copied into OUT (room
 * for MAX instructions). Its length, or -1 and E filled. */
struct sock_filter;
int seccomp_program(enum sb_seccomp_thread kind, bool trap, struct sock_filter *out, size_t max, struct err *e);
/* How many syscalls KIND's table allows (ioctl counts once; the
 * sanitizer's not counted), and how many ioctl request numbers (counted
 * at build time); -1 for a bad kind. */
int seccomp_nsyscalls(enum sb_seccomp_thread kind);
int seccomp_nioctls(enum sb_seccomp_thread kind);
const char *seccomp_kind_name(enum sb_seccomp_thread kind);

#endif
