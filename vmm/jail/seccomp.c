/* Per-thread seccomp allowlists (see seccomp.h). The tables below are the
 * whole policy: one per thread kind, syscalls by name, ioctl by request
 * number. Anything not listed kills the VMM with SIGSYS.
 *
 * How the lists were found: reading every path each thread runs after
 * start-up (vcpu.c, evloop.c, devices/, virtio/, vm.c's end and clean-up,
 * glibc's malloc/free, stdio and thread exit) and checking with
 * `strace -f` on boot, blk, net and vsock runs. */
#include "jail/seccomp.h"

#include <errno.h>
#include <signal.h>
#include <ucontext.h>
#include <stdlib.h>
#include <linux/if_tun.h>
#include <linux/kvm.h>
#include <seccomp.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

/* What every one of our threads needs: glibc's malloc and free (arenas
 * grow and trim with mmap/munmap/madvise/mprotect/brk; a thread's exit
 * also madvises its stack away), mutexes and joins (futex), signals (the
 * vCPU kick's handler returns, pthread_kill = getpid + tgkill under a
 * blocked mask), time (vDSO, the syscall as fallback), writing to
 * stdout/stderr/eventfds, closing fds, ending the thread. tgkill only to
 * our own process (restricted below). */
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
 * makes no ioctl at all; socket only for AF_UNIX (restricted below): a
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

#if defined(__SANITIZE_ADDRESS__)
/* ASan/UBSan builds (make check-asan): the sanitizer runtime's own calls —
 * its allocator, thread start/exit bookkeeping, reports (readlink of the
 * binary, /proc/self/maps), and LeakSanitizer at exit, which stops the
 * world from a tracer task (clone, ptrace, wait4, /proc/self/task). Only
 * these builds allow them. */
#define SANITIZER_SYSCALLS                                                         \
	"sigaltstack", "prctl", "sched_yield", "readlink", "open", "openat", "read", \
	"getdents", "getdents64", "clone", "ptrace", "wait4", "rt_sigaction", "nanosleep",    \
	"clock_nanosleep", "sched_getaffinity", "getrlimit", "prlimit64",         \
	"fstat", "newfstatat", "lseek", "pipe2", "mremap", "kill", "exit_group",  \
	"getppid", "set_robust_list", "write", "writev", "uname", "getrusage"
static const char *const sanitizer_syscalls[] = { SANITIZER_SYSCALLS };
#define NSANITIZER ARRAY_SIZE(sanitizer_syscalls)
#else
static const char *const *const sanitizer_syscalls = NULL;
#define NSANITIZER 0
#endif

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

const char *seccomp_kind_name(enum sb_seccomp_thread kind)
{
	return kind < SB_SECCOMP_NKINDS ? policies[kind].name : "?";
}

int seccomp_nioctls(enum sb_seccomp_thread kind)
{
	return kind < SB_SECCOMP_NKINDS ? (int)policies[kind].nioctls : -1;
}

/* Distinct syscall numbers in KIND's table (the common part and a
 * per-thread entry may name the same call). */
int seccomp_nsyscalls(enum sb_seccomp_thread kind)
{
	if (kind >= SB_SECCOMP_NKINDS)
		return -1;
	const struct policy *p = &policies[kind];
	int nr[128], n = 0;
	for (unsigned i = 0; i < p->nsyscalls; i++) {
		int s = seccomp_syscall_resolve_name(p->syscalls[i]);
		if (s == __NR_SCMP_ERROR)
			return -1;
		bool dup = false;
		for (int j = 0; j < n; j++)
			dup |= nr[j] == s;
		if (!dup && n < (int)ARRAY_SIZE(nr))
			nr[n++] = s;
	}
	return n;
}

/* Calls allowed only with a given first argument, in every table that
 * names them: socket(AF_UNIX, ...) and tgkill(our pid, ...) (our threads
 * signal each other; the pid is taken when the filter is built, in the
 * VMM process itself). Sanitizer builds' kill stays unrestricted: their
 * runtime's tracer task is another process. */
static int add_restricted(scmp_filter_ctx ctx, int nr, bool *done)
{
	*done = true;
	if (nr == SCMP_SYS(socket))
		return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1, SCMP_A0(SCMP_CMP_EQ, AF_UNIX));
	if (nr == SCMP_SYS(tgkill))
		return seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1, SCMP_A0(SCMP_CMP_EQ, (scmp_datum_t)getpid()));
	*done = false;
	return 0;
}

static int add_names(scmp_filter_ctx ctx, const char *const *names, unsigned n, struct err *e)
{
	for (unsigned i = 0; i < n; i++) {
		int nr = seccomp_syscall_resolve_name(names[i]);
		if (nr == __NR_SCMP_ERROR)
			return err_set(e, "seccomp: unknown syscall %s", names[i]);
		if (nr == SCMP_SYS(ioctl))
			continue; /* only with its request numbers, below */
		bool done;
		int r = add_restricted(ctx, nr, &done);
		if (!done)
			r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
		if (r && r != -EEXIST)
			return err_set(e, "seccomp: allowing %s: %s", names[i], strerror(-r));
	}
	return 0;
}

/* SANDBOX_SECCOMP_TRAP=1 (debugging a filter): a refused call raises
 * SIGSYS instead of killing at once, and this handler names it on stderr
 * (number, the address of the syscall instruction, then 24 words of the
 * stack for addr2line) before the process dies with the same status
 * (128 + SIGSYS). Only write and the signal's own calls are used here. */
static void trap_handler(int sig, siginfo_t *si, void *uc)
{
	(void)uc;
	char msg[1024];
	size_t len = 0;
	const char *head = "sandbox: seccomp refused syscall ";
	while (*head)
		msg[len++] = *head++;
	char num[24];
	int n = 0;
	unsigned v = (unsigned)si->si_syscall;
	do
		num[n++] = (char)('0' + v % 10);
	while ((v /= 10) && n < 12);
	while (n)
		msg[len++] = num[--n];
	const char *at = " at 0x";
	while (*at)
		msg[len++] = *at++;
	uintptr_t a = (uintptr_t)si->si_call_addr;
	for (int shift = (int)sizeof(a) * 8 - 4; shift >= 0; shift -= 4)
		msg[len++] = "0123456789abcdef"[(a >> shift) & 15];
	msg[len++] = '\n';
	{
		ucontext_t *u = uc;
		uintptr_t *sp = (uintptr_t *)u->uc_mcontext.gregs[REG_RSP];
		for (int k = 0; k < 24 && len < sizeof(msg) - 20; k++) {
			uintptr_t w = sp[k];
			msg[len++] = ' ';
			for (int shift = 44; shift >= 0; shift -= 4)
				msg[len++] = "0123456789abcdef"[(w >> shift) & 15];
		}
		msg[len++] = '\n';
	}
	if (write(2, msg, len) < 0) {
		/* nothing more to say */
	}
	signal(sig, SIG_DFL);
	raise(sig);
}

int seccomp_install(enum sb_seccomp_thread kind, struct err *e)
{
	if (kind >= SB_SECCOMP_NKINDS)
		return err_set(e, "seccomp: bad thread kind %d", (int)kind);
	const struct policy *p = &policies[kind];
	uint32_t deny = SCMP_ACT_KILL_PROCESS;
	const char *trap = getenv("SANDBOX_SECCOMP_TRAP");
	if (trap && *trap == '1') {
		struct sigaction sa = { .sa_sigaction = trap_handler, .sa_flags = SA_SIGINFO };
		sigemptyset(&sa.sa_mask);
		sigaction(SIGSYS, &sa, NULL);
		deny = SCMP_ACT_TRAP;
	}
	scmp_filter_ctx ctx = seccomp_init(deny);
	if (!ctx)
		return err_set(e, "seccomp: seccomp_init failed");
	int r = add_names(ctx, p->syscalls, p->nsyscalls, e);
	if (!r)
		r = add_names(ctx, sanitizer_syscalls, NSANITIZER, e);
	for (unsigned i = 0; !r && i < p->nioctls; i++) {
		int rr = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, SCMP_SYS(ioctl), 1,
					  SCMP_A1(SCMP_CMP_EQ, (scmp_datum_t)p->ioctls[i]));
		if (rr)
			r = err_set(e, "seccomp: allowing ioctl 0x%lx: %s", p->ioctls[i], strerror(-rr));
	}
	if (!r) {
		int rr = seccomp_load(ctx);
		if (rr)
			r = err_set(e, "seccomp: loading the %s filter: %s", p->name, strerror(-rr));
	}
	seccomp_release(ctx);
	return r;
}
