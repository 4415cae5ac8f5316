/* The default seccomp profile, loaded last before exec (libseccomp, linked
 * statically). Reference: Docker's default profile (moby
 * profiles/seccomp/default.json). This first version keeps its key
 * denials rather than its full allowlist: every syscall below fails with
 * EPERM (clone3 with ENOSYS, as in Docker, so libc falls back to clone,
 * whose namespace flags are then checked). Only the native ABI is allowed:
 * 32-bit and x32 syscalls kill the process. */
#include <errno.h>
#include <sched.h>
#include <seccomp.h>
#include <stddef.h>
#include <sys/stat.h>

#include "container.h"

static const char *const denied[] = {
	/* mounts and the root */
	"mount", "umount", "umount2", "pivot_root",
	"fsopen", "fsconfig", "fsmount", "fspick", "move_mount", "open_tree", "mount_setattr",
	/* namespaces */
	"unshare", "setns",
	/* keys */
	"keyctl", "add_key", "request_key",
	/* kernel modules, kexec, reboot, swap */
	"init_module", "finit_module", "delete_module", "create_module", "query_module",
	"get_kernel_syms", "kexec_load", "kexec_file_load", "reboot", "swapon", "swapoff",
	/* tracing and other processes' memory */
	"ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "perf_event_open",
	"bpf", "userfaultfd", "lookup_dcookie",
	/* file handles (the shocker escape) */
	"open_by_handle_at", "name_to_handle_at",
	/* clocks, accounting, quotas, old or host-wide interfaces */
	"settimeofday", "stime", "clock_settime", "clock_adjtime",
	"acct", "quotactl", "quotactl_fd", "nfsservctl", "sysfs", "_sysctl", "uselib", "ustat",
	"vhangup", "syslog", "iopl", "ioperm", "vm86", "vm86old",
	/* NUMA policy and io_uring (Docker: CAP_SYS_NICE / blocked) */
	"mbind", "set_mempolicy", "move_pages", "migrate_pages",
	"io_uring_setup", "io_uring_enter", "io_uring_register",
};

static const unsigned long ns_flags[] = {
	CLONE_NEWNS, CLONE_NEWUTS, CLONE_NEWIPC, CLONE_NEWUSER, CLONE_NEWPID, CLONE_NEWNET,
	CLONE_NEWCGROUP, 0x00000080 /* CLONE_NEWTIME */,
};

int seccomp_apply_default(struct sb_err *err)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	int r;
	if (!ctx)
		return sb_fail(err, ENOMEM, "seccomp_init");
	for (size_t i = 0; i < sizeof(denied) / sizeof(denied[0]); i++) {
		int nr = seccomp_syscall_resolve_name(denied[i]);
		if (nr == __NR_SCMP_ERROR)
			continue;       /* not a syscall on this architecture */
		if ((r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), nr, 0)) < 0 && r != -EDOM) {
			seccomp_release(ctx);
			return sb_fail(err, -r, "rule for %s", denied[i]);
		}
	}
	/* clone with any namespace flag (arg 0 on x86-64). */
	for (size_t i = 0; i < sizeof(ns_flags) / sizeof(ns_flags[0]); i++)
		if ((r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1,
					  SCMP_A0(SCMP_CMP_MASKED_EQ, ns_flags[i], ns_flags[i]))) < 0) {
			seccomp_release(ctx);
			return sb_fail(err, -r, "rule for clone");
		}
	/* Device nodes: Docker keeps CAP_MKNOD and lets its device cgroup
	 * refuse opening them; we have no device cgroup (cgroup v2 would need a
	 * BPF program), so creating a character or block device fails here:
	 * mknod's mode is arg 1, mknodat's arg 2. FIFOs and sockets stay. */
	static const unsigned long dev_types[] = { S_IFCHR, S_IFBLK };
	for (size_t i = 0; i < 2; i++)
		if ((r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(mknod), 1,
					  SCMP_A1(SCMP_CMP_MASKED_EQ, S_IFMT, dev_types[i]))) < 0 ||
		    (r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(mknodat), 1,
					  SCMP_A2(SCMP_CMP_MASKED_EQ, S_IFMT, dev_types[i]))) < 0) {
			seccomp_release(ctx);
			return sb_fail(err, -r, "rule for mknod");
		}
	if ((r = seccomp_rule_add(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0)) < 0) {
		seccomp_release(ctx);
		return sb_fail(err, -r, "rule for clone3");
	}
	r = seccomp_load(ctx);
	seccomp_release(ctx);
	if (r < 0)
		return sb_fail(err, -r, "load the filter");
	return 0;
}
