/* The VMM's seccomp policy: one allowlist per thread kind, syscalls by
 * name, ioctl by request number. Anything not listed kills the VMM with
 * SIGSYS. This is the only copy of the tables: the build-time generator
 * (vmm/jail/gen/seccomp-vmm.c, through gen/seccomp_build.c) compiles them
 * into the BPF programs seccomp.c loads, and the unit test compiles them
 * again at run time to check the embedded programs are current. Data
 * only: no libseccomp here.
 *
 * How the lists were found: reading every path each thread runs after
 * start-up (vcpu.c, evloop.c, devices/, virtio/, vm.c's end and clean-up,
 * glibc's malloc/free, stdio and thread exit) and checking with
 * `strace -f` on boot, blk, net and vsock runs. */
#ifndef SANDBOX_JAIL_SECCOMP_POLICY_H
#define SANDBOX_JAIL_SECCOMP_POLICY_H

#include <linux/if_tun.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include "jail/seccomp.h"

/* What every one of our threads needs: glibc's malloc and free (arenas
 * grow and trim with mmap/munmap/madvise/mprotect/brk; a thread's exit
 * also madvises its stack away), mutexes and joins (futex), signals (the
 * vCPU kick's handler returns, pthread_kill = getpid + tgkill under a
 * blocked mask), time (vDSO, the syscall as fallback), writing to
 * stdout/stderr/eventfds, closing fds, ending the thread. tgkill only to
 * our own process (restricted[], below). */
#define COMMON_SYSCALLS                                                        \
	"futex", "mmap", "munmap", "mprotect", "madvise", "brk",               \
	"rt_sigreturn", "rt_sigprocmask", "restart_syscall",                   \
	"clock_gettime", "getpid", "tgkill",                                    \
	"write", "close", "exit"

/* vCPU threads: KVM_RUN and the exits it returns. Port and MMIO handlers
 * run devices' register code: the serial port (write to stdout, its
 * interrupt line), virtio status writes (activate: TUNSETOFFLOAD and
 * watching the tap; reset: drop vsock connections — close, epoll_ctl,
 * free; virtio-fs: vhost-user messages on its connected socket), queue kicks (write to the eventfd), and ending the VM (signal the
 * other vCPUs and the main thread). */
static const char *const vcpu_syscalls[] = {
	COMMON_SYSCALLS,
	"ioctl", "epoll_ctl",
	"poll",             /* the serial console waits for room (serial.c) */
	"sendmsg", "recvmsg", /* virtio-fs activate / reset: vhost-user messages to the daemon's
			       * socket, connected before the jail (virtio_fs.c) */
};
static const unsigned long vcpu_ioctls[] = {
	KVM_RUN,            /* the loop */
	KVM_IRQ_LINE,       /* serial interrupt (vm_irq_line) */
	TUNSETOFFLOAD,      /* virtio-net activate / reset */
	/* a paused vCPU saves its own state for a snapshot (vcpu_state.c) */
	KVM_GET_MP_STATE, KVM_GET_REGS, KVM_GET_SREGS, KVM_GET_XSAVE, KVM_GET_XCRS,
	KVM_GET_DEBUGREGS, KVM_GET_LAPIC, KVM_GET_MSRS, KVM_GET_VCPU_EVENTS,
};

/* The device thread: epoll, eventfd kicks and irqfds, disks (positioned
 * vectored I/O, flush, discard and write-zeroes), the tap (vectored
 * read/write), vsock's Unix sockets (accept host connections, connect for
 * guest-initiated ones, stream data, half-close). It opens no files and
 * makes no ioctl at all; socket only for AF_UNIX (restricted[], below): a
 * compromised device thread makes no TCP/UDP/netlink/vsock socket, so it
 * reaches no network service, whatever network namespace it is in. */
static const char *const evloop_syscalls[] = {
	COMMON_SYSCALLS,
	"epoll_wait", "epoll_ctl",
	"read", "readv", "writev",
	"preadv", "pwritev", "pwrite64", "fdatasync", "fallocate",
	"socket", "connect", "accept4", "sendmsg", "sendto", "recvfrom", "shutdown",
	"getrandom", "timerfd_settime",  /* virtio-rng: its bytes, its rate limit's timer */
};
static const unsigned long evloop_ioctls[] = { 0 };

/* The main thread once the guest runs: wait for a signal or the timeout,
 * join the threads, then report (--timings reads /proc/self/status and
 * mincore; a timeout reads the vCPUs' registers) and tear down: close fds,
 * unmap memory, remove the vsock socket file, exit the process. */
static const char *const main_syscalls[] = {
	COMMON_SYSCALLS,
	"rt_sigtimedwait", "ioctl", "gettid", "poll", /* poll: the console's last flush */
	"openat", "read", "newfstatat", "mincore", "unlink", "exit_group",
};
static const unsigned long main_ioctls[] = {
	KVM_GET_REGS,       /* describe_vcpus on --timeout */
	KVM_GET_MP_STATE,
};

/* sandbox run's relay thread (run/relay.c): poll the agent socket, stdin
 * and its eventfd; read and write them; the terminal's window size. It
 * loads its filter itself, first thing. */
static const char *const relay_syscalls[] = {
	COMMON_SYSCALLS,
	"poll", "ppoll", "read", "ioctl",
};
static const unsigned long relay_ioctls[] = {
	TIOCGWINSZ,
};

/* The control thread (control.c): accept a request on its socket, with
 * the snapshot's files as fds; pause (kick the vCPUs: tgkill), save the
 * in-kernel chips, write the files it was given. It opens nothing. */
static const char *const control_syscalls[] = {
	COMMON_SYSCALLS,
	"poll", "accept4", "recvmsg", "read", "ioctl", "pwrite64", "ftruncate", "fdatasync",
	"pread64", /* /proc/self/pagemap: a working set (snapshot/workingset.c) */
};
static const unsigned long control_ioctls[] = {
	KVM_GET_IRQCHIP, KVM_GET_PIT2, KVM_GET_CLOCK,
};

/* Builds with AddressSanitizer (make check-asan) add these to every
 * table: the sanitizer runtime's own calls — its allocator, thread
 * start/exit bookkeeping, reports (readlink of the binary,
 * /proc/self/maps), and LeakSanitizer at exit, which stops the world from
 * a tracer task (clone, ptrace, wait4, /proc/self/task). The generator
 * emits every filter with and without them; seccomp.c picks with
 * __SANITIZE_ADDRESS__, so only those builds allow them. */
static const char *const sanitizer_syscalls[] = {
	"sigaltstack", "prctl", "sched_yield", "readlink", "open", "openat", "read",
	"getdents", "getdents64", "clone", "ptrace", "wait4", "rt_sigaction", "nanosleep",
	"clock_nanosleep", "sched_getaffinity", "getrlimit", "prlimit64",
	"fstat", "newfstatat", "lseek", "pipe2", "mremap", "kill", "exit_group",
	"getppid", "set_robust_list", "write", "writev", "uname", "getrusage",
};

/* Calls allowed only with a given first argument, in every table that
 * names them: socket(AF_UNIX, ...) and tgkill(our pid, ...) (our threads
 * signal each other). The pid is the VMM's own, known only at run time:
 * the generator compiles a placeholder (SB_SECCOMP_PID_SENTINEL) that
 * seccomp.c replaces before loading. Sanitizer builds' kill stays
 * unrestricted: their runtime's tracer task is another process. */
#define SB_SECCOMP_ARG0_OWN_PID (-1L)
static const struct restricted {
	const char *name;
	long arg0; /* or SB_SECCOMP_ARG0_OWN_PID */
} restricted[] = {
	{ "socket", AF_UNIX },
	{ "tgkill", SB_SECCOMP_ARG0_OWN_PID },
};

static const struct policy {
	const char *name;
	const char *const *syscalls;
	unsigned nsyscalls;
	const unsigned long *ioctls;
	unsigned nioctls;
} policies[SB_SECCOMP_NKINDS] = {
	[SB_SECCOMP_VCPU] = { "vcpu", vcpu_syscalls, ARRAY_SIZE(vcpu_syscalls), vcpu_ioctls,
			      ARRAY_SIZE(vcpu_ioctls) },
	[SB_SECCOMP_EVLOOP] = { "evloop", evloop_syscalls, ARRAY_SIZE(evloop_syscalls), evloop_ioctls, 0 },
	[SB_SECCOMP_MAIN] = { "main", main_syscalls, ARRAY_SIZE(main_syscalls), main_ioctls,
			      ARRAY_SIZE(main_ioctls) },
	[SB_SECCOMP_RELAY] = { "relay", relay_syscalls, ARRAY_SIZE(relay_syscalls), relay_ioctls,
			       ARRAY_SIZE(relay_ioctls) },
	[SB_SECCOMP_CONTROL] = { "control", control_syscalls, ARRAY_SIZE(control_syscalls), control_ioctls,
				 ARRAY_SIZE(control_ioctls) },
};


#endif
