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
 *  2. unshare mount, IPC, UTS, cgroup and network, with --net too (the tap
 *     is an fd opened and configured before, which keeps working from
 *     another namespace; the host's network, abstract Unix sockets
 *     included, is then out of reach); no PID namespace: it only applies
 *     to children and the VMM forks none.
 *  3. "/" made rprivate; the jail root is a fresh tmpfs (so nothing is left
 *     on the host when the VMM exits) holding only what is used by path
 *     after start: the directory of the --vsock uds, at the same path
 *     (guest-initiated connects open "UDS_<port>", the socket is removed at
 *     exit), bind-mounted with an idmap showing the VMM's own (root) files
 *     as the jail uid's so both keep working unprivileged — so the VMM can
 *     write whatever is in it, and that directory must hold nothing else
 *     (sandbox run gives it ROOT/<id>/sock, made for it; see
 *     jail_socket_dir); and /proc
 *     (/proc/self/status for --timings; a fresh procfs limited to
 *     processes, else a bind of the host's). pivot_root into it, old root
 *     detached (from an initramfs root, where pivot_root is refused: every
 *     other mount detached, the jail moved over / and chrooted into), the
 *     tmpfs remounted read-only, cwd kept by path.
 *  4. rlimits: NOFILE = open fds + 256 vsock connections + slack, CORE 0,
 *     NPROC 4096 for the jail uid; FSIZE stays unlimited (disks are written
 *     through fds opened before, and FSIZE applies to them too).
 *  5. setgroups(none), gid and uid to the jail's (gid = uid), every
 *     capability set emptied (bounding, ambient, inheritable, effective,
 *     permitted), securebits locked, no_new_privs, not dumpable (no ptrace
 *     or /proc/PID access by the same uid, whatever fs.suid_dumpable says).
 *
 * The jail uid: --jail-uid N, else one of its own per VMM, so that one
 * compromised VMM cannot signal or ptrace another: JAIL_UID_BASE + a slot,
 * the first slot whose lock file (JAIL_LOCK_DIR/uid.SLOT, flock held by the
 * VMM until it exits) is free and whose uid no live process has as its
 * real uid (so a VMM that closed its lock fd still keeps its uid from being
 * handed out: it cannot change its real uid). The
 * range is outside the subordinate ids useradd hands out (SUB_UID_MIN..MAX,
 * 100000..600100000 by default), systemd's container and foreign ranges
 * (524288..1879048191, 0x7ffe0000..0x7ffeffff), and below 2^31.
 */
#ifndef SANDBOX_JAIL_JAIL_H
#define SANDBOX_JAIL_JAIL_H

#include <stdbool.h>

#include "util.h"

struct vm;

#define JAIL_UID_BASE 2000000000u
#define JAIL_UID_SLOTS 65536u
#define JAIL_LOCK_DIR "/run/sandbox-jail"

/* The uid (= gid) this VMM will take in the jail: --jail-uid, else a free
 * slot of the range (allocated once per process, held until it exits). */
int jail_pick_uid(const struct vm *vm, unsigned *uid, struct err *e);

/* Make DIR (absolute, its parent existing and ours), mode 0700, for the
 * vsock socket alone: the directory jail_enter hands to the VMM. An
 * existing DIR (or anything at that path) is refused, not reused. */
int jail_socket_dir(const char *dir, struct err *e);

/* Enter the jail if vm->cfg asks for it (see vm_config.jail). Must be
 * called while the process has a single thread. */
int jail_enter(struct vm *vm, struct err *e);

/* Whether the jail is on for this configuration (root and not --no-jail). */
bool jail_wanted(const struct vm *vm);

#endif
