/* The VMM's jail: what the VMM process can still reach once the guest
 * runs. jail_enter() runs at the start of vm_run(), after the kernel,
 * initrd and every device (disks, tap, vsock listener) are open and before
 * any thread starts or any seccomp filter is loaded (jail/seccomp.h), and
 * only when running as root (--jail / --no-jail, default on as root):
 *
 *  1. cgroup v2 (if /sys/fs/cgroup is a writable cgroup v2 with the
 *     memory and/or pids controller): a group sandbox-vmm.PID beside ours
 *     (under the root if we are in it) with memory.max = guest memory +
 *     overhead, memory.swap.max 0, pids.max = vCPUs + 8; we move in. Empty
 *     groups of dead VMMs are removed here too. Else: no limits (noted on
 *     stderr only with an explicit --jail).
 *  2. unshare mount, IPC, UTS, cgroup, and network unless --net; no PID
 *     namespace: it only applies to children and the VMM forks none.
 *  3. "/" made rprivate; the jail root is a fresh tmpfs (so nothing is left
 *     on the host when the VMM exits) holding only what is used by path
 *     after start: the directory of the --vsock uds, at the same path
 *     (guest-initiated connects open "UDS_<port>", the socket is removed at
 *     exit), bind-mounted with an idmap showing the VMM's own (root) files
 *     as the jail uid's so both keep working unprivileged; and /proc
 *     (/proc/self/status for --timings; a fresh procfs limited to
 *     processes, else a bind of the host's). pivot_root into it, old root
 *     detached (from an initramfs root, where pivot_root is refused: every
 *     other mount detached, the jail moved over / and chrooted into), the
 *     tmpfs remounted read-only, cwd kept by path.
 *  4. rlimits: NOFILE = open fds + 256 vsock connections + slack, CORE 0,
 *     NPROC 4096 for the jail uid; FSIZE stays unlimited (disks are written
 *     through fds opened before, and FSIZE applies to them too).
 *  5. setgroups(none), gid and uid to the jail's (--jail-uid N, default
 *     65534; gid = uid), every capability set emptied (bounding, ambient,
 *     inheritable, effective, permitted), securebits locked, no_new_privs.
 */
#ifndef SANDBOX_JAIL_JAIL_H
#define SANDBOX_JAIL_JAIL_H

#include <stdbool.h>

#include "util.h"

struct vm;

#define JAIL_DEFAULT_UID 65534u

/* Enter the jail if vm->cfg asks for it (see vm_config.jail). Must be
 * called while the process has a single thread. */
int jail_enter(struct vm *vm, struct err *e);

/* Whether the jail is on for this configuration (root and not --no-jail). */
bool jail_wanted(const struct vm *vm);

#endif
