/* One VMM thread kind's seccomp filter built with libseccomp from the
 * tables in jail/seccomp_policy.h. Used on the build host by the generator
 * (seccomp-vmm.c), whose output the VMM embeds, and by the unit test,
 * which builds every filter again at run time to check the embedded ones
 * are current. The VMM links neither this nor libseccomp. */
#ifndef SANDBOX_JAIL_GEN_SECCOMP_BUILD_H
#define SANDBOX_JAIL_GEN_SECCOMP_BUILD_H

#include <linux/filter.h>
#include <seccomp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jail/seccomp.h"

/* KIND's filter: DENY (SCMP_ACT_KILL_PROCESS or SCMP_ACT_TRAP) for any
 * call not allowed; with SANITIZER, the sanitizer runtime's calls added to
 * the table; tgkill allowed only with PID as its first argument. NULL and
 * E filled on failure. */
scmp_filter_ctx seccomp_build(enum sb_seccomp_thread kind, uint32_t deny, bool sanitizer, uint32_t pid,
			      struct err *e);
/* The same, exported as the classic BPF program seccomp_load would load:
 * *PROG (malloc'd, the caller frees) of *LEN instructions. */
int seccomp_build_bpf(enum sb_seccomp_thread kind, uint32_t deny, bool sanitizer, uint32_t pid,
		      struct sock_filter **prog, size_t *len, struct err *e);
/* Distinct syscall numbers in KIND's table, the sanitizer's not counted
 * (ioctl counts once); -1 if a name is unknown here. */
int seccomp_build_nsyscalls(enum sb_seccomp_thread kind);
int seccomp_build_nioctls(enum sb_seccomp_thread kind);
const char *seccomp_build_name(enum sb_seccomp_thread kind);

#endif
