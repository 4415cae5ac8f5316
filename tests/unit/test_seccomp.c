/* Unit tests for vmm/jail/seccomp.c: each thread kind's filter, loaded in
 * a forked child, lets the calls its thread makes through and kills the
 * whole process with SIGSYS on anything else (SCMP_ACT_KILL_PROCESS);
 * filters are per thread. */
#include "unit.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <pthread.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>

#include "../../vmm/jail/seccomp.h"

enum { EXIT_OK = 0, EXIT_INSTALL = 10, EXIT_ALLOWED_FAILED = 11, EXIT_SURVIVED = 12 };

/* Run FN(ARG) in a forked child; return its raw wait status. */
static int in_child(int (*fn)(void *), void *arg)
{
	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) /* SYS_exit: only the main filter allows exit_group */
		syscall(SYS_exit, fn(arg));
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	return st;
}

static void assert_sigsys(int st)
{
	if (!WIFSIGNALED(st))
		fail_msg("child was not killed: exit status %d", WIFEXITED(st) ? WEXITSTATUS(st) : -1);
	assert_int_equal(WTERMSIG(st), SIGSYS);
}

static void assert_exit_ok(int st)
{
	if (WIFSIGNALED(st))
		fail_msg("child killed by signal %d", WTERMSIG(st));
	assert_true(WIFEXITED(st));
	assert_int_equal(WEXITSTATUS(st), EXIT_OK);
}

/* ------------------------------------------------------------------ */

struct probe {
	enum sb_seccomp_thread kind;
	int forbidden; /* which forbidden call to make */
};

enum { F_NONE, F_SOCKET, F_EXECVE, F_IOCTL_TCGETS, F_OPENAT, F_UNLINK };

static int install(enum sb_seccomp_thread kind)
{
	struct err e;
	return seccomp_install(kind, &e);
}

static int probe_child(void *arg)
{
	const struct probe *pr = arg;
	int p[2];
	if (pipe(p))
		return EXIT_INSTALL;
	if (install(pr->kind))
		return EXIT_INSTALL;
	/* Allowed: write, malloc/free through mmap, close. */
	if (write(p[1], "x", 1) != 1)
		return EXIT_ALLOWED_FAILED;
	void *big = malloc(4 * MIB);
	if (!big)
		return EXIT_ALLOWED_FAILED;
	memset(big, 1, 4 * MIB);
	free(big);
	if (close(p[0]) || close(p[1]))
		return EXIT_ALLOWED_FAILED;
	switch (pr->forbidden) {
	case F_SOCKET:
		socket(AF_INET, SOCK_STREAM, 0);
		break;
	case F_EXECVE: {
		char *argv[] = { "/bin/true", NULL };
		execve("/bin/true", argv, (char *[]){ NULL });
		break;
	}
	case F_IOCTL_TCGETS: {
		struct termios t;
		ioctl(0, TCGETS, &t);
		break;
	}
	case F_OPENAT:
		open("/dev/null", O_RDONLY);
		break;
	case F_UNLINK:
		unlink("/nonexistent/sandbox-seccomp-test");
		break;
	default:
		return EXIT_OK;
	}
	return EXIT_SURVIVED;
}

static void check(enum sb_seccomp_thread kind, int forbidden)
{
	struct probe pr = { kind, forbidden };
	int st = in_child(probe_child, &pr);
	if (forbidden == F_NONE)
		assert_exit_ok(st);
	else
		assert_sigsys(st);
}

static void test_allowed_calls_work(void **state)
{
	(void)state;
	for (int k = 0; k < SB_SECCOMP_NKINDS; k++)
		check(k, F_NONE);
	struct err e;
	assert_int_equal(seccomp_install(SB_SECCOMP_NKINDS, &e), -1); /* a bad kind is refused */
}

static void test_socket_kills(void **state)
{
	(void)state;
	check(SB_SECCOMP_VCPU, F_SOCKET);
	check(SB_SECCOMP_MAIN, F_SOCKET);
	check(SB_SECCOMP_RELAY, F_SOCKET);
}

/* The device thread opens Unix sockets (vsock's guest-initiated connects)
 * and nothing else: with --net it once shared the host's network, so an
 * AF_INET socket reached host-local services (2026-12 review). */
static int evloop_socket_child(void *arg)
{
	int family = *(int *)arg;
	if (install(SB_SECCOMP_EVLOOP))
		return EXIT_INSTALL;
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s < 0)
		return EXIT_ALLOWED_FAILED;
	close(s);
	if (family == AF_UNIX)
		return EXIT_OK;
	socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	return EXIT_SURVIVED;
}

static void test_evloop_socket_unix_only(void **state)
{
	(void)state;
	int unix_ = AF_UNIX;
	assert_exit_ok(in_child(evloop_socket_child, &unix_));
	int refused[] = { AF_INET, AF_INET6, AF_NETLINK, AF_PACKET, 40 /* AF_VSOCK */ };
	for (unsigned i = 0; i < ARRAY_SIZE(refused); i++)
		assert_sigsys(in_child(evloop_socket_child, &refused[i]));
}

/* tgkill only to our own process, on every thread kind: signals between
 * our threads work, one to another process (another sandbox's VMM) kills
 * the caller. */
static int tgkill_child(void *arg)
{
	const int *a = arg;
	pid_t self = getpid(), tid = (pid_t)syscall(SYS_gettid), parent = getppid();
	if (install((enum sb_seccomp_thread)a[0]))
		return EXIT_INSTALL;
	if (syscall(SYS_tgkill, self, tid, 0))
		return EXIT_ALLOWED_FAILED;
	if (!a[1])
		return EXIT_OK;
	syscall(SYS_tgkill, parent, parent, 0);
	return EXIT_SURVIVED;
}

static void test_tgkill_own_process_only(void **state)
{
	(void)state;
	for (int k = 0; k < SB_SECCOMP_NKINDS; k++) {
		int own[2] = { k, 0 }, other[2] = { k, 1 };
		assert_exit_ok(in_child(tgkill_child, own));
		assert_sigsys(in_child(tgkill_child, other));
	}
}

static void test_execve_kills(void **state)
{
	(void)state;
	for (int k = 0; k < SB_SECCOMP_NKINDS; k++)
		check(k, F_EXECVE);
}

static void test_ioctl_by_request(void **state)
{
	(void)state;
	/* A terminal ioctl is on no list; the device thread has no ioctl. */
	for (int k = 0; k < SB_SECCOMP_NKINDS; k++)
		check(k, F_IOCTL_TCGETS);
}

/* vCPU and device threads open no files and remove none. (Sanitizer
 * builds let every thread open: their runtime reads /proc for reports.) */
static void test_files_kill_worker_threads(void **state)
{
	(void)state;
	check(SB_SECCOMP_VCPU, F_UNLINK);
	check(SB_SECCOMP_EVLOOP, F_UNLINK);
#if !defined(__SANITIZE_ADDRESS__)
	check(SB_SECCOMP_VCPU, F_OPENAT);
	check(SB_SECCOMP_EVLOOP, F_OPENAT);
#endif
}

/* vCPU filter: KVM_RUN on a bad fd fails with EBADF instead of killing. */
static int kvm_run_child(void *arg)
{
	(void)arg;
	if (install(SB_SECCOMP_VCPU))
		return EXIT_INSTALL;
	if (ioctl(-1, KVM_RUN, 0) != -1 || errno != EBADF)
		return EXIT_ALLOWED_FAILED;
	if (ioctl(-1, KVM_IRQ_LINE, NULL) != -1 || errno != EBADF)
		return EXIT_ALLOWED_FAILED;
	/* Not on the vCPU list: creating vCPUs or memory slots. */
	ioctl(-1, KVM_SET_USER_MEMORY_REGION, NULL);
	return EXIT_SURVIVED;
}

static void test_vcpu_ioctls(void **state)
{
	(void)state;
	assert_sigsys(in_child(kvm_run_child, NULL));
}

/* Filters are per thread: a filter loaded by one thread leaves the others
 * (here the child's main thread) free, and a thread created afterwards by
 * an unfiltered thread is unfiltered too. */
static void *filtered_thread(void *arg)
{
	*(int *)arg = install(SB_SECCOMP_VCPU);
	return NULL;
}

static int per_thread_child(void *arg)
{
	(void)arg;
	pthread_t t;
	int r = -1;
	if (pthread_create(&t, NULL, filtered_thread, &r) || pthread_join(t, NULL) || r)
		return EXIT_INSTALL;
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	if (s < 0)
		return EXIT_ALLOWED_FAILED;
	close(s);
	return EXIT_OK;
}

static void test_filter_is_per_thread(void **state)
{
	(void)state;
	assert_exit_ok(in_child(per_thread_child, NULL));
}

/* SANDBOX_SECCOMP_TRAP=1: a refused call traps; the handler names it on
 * stderr, then the process dies of SIGSYS as without it. */
static int trap_child(void *arg)
{
	int fd = *(int *)arg;
	if (dup2(fd, 2) != 2 || setenv("SANDBOX_SECCOMP_TRAP", "1", 1))
		return EXIT_INSTALL;
	if (install(SB_SECCOMP_VCPU))
		return EXIT_INSTALL;
	syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);
	return EXIT_SURVIVED;
}

static void test_trap_names_the_call(void **state)
{
	(void)state;
	int p[2];
	assert_int_equal(pipe(p), 0);
	assert_sigsys(in_child(trap_child, &p[1]));
	close(p[1]);
	char buf[1024] = "";
	ssize_t n = read(p[0], buf, sizeof(buf) - 1);
	close(p[0]);
	assert_true(n > 0);
	char want[64];
	snprintf(want, sizeof(want), "sandbox: seccomp refused syscall %d at 0x", SYS_socket);
	if (!strstr(buf, want))
		fail_msg("stderr: %s", buf);
}

static void test_counts(void **state)
{
	(void)state;
	for (int k = 0; k < SB_SECCOMP_NKINDS; k++) {
		int n = seccomp_nsyscalls(k);
		assert_true(n > 10);
		assert_true(n < 64);
		assert_non_null(seccomp_kind_name(k));
		print_message("seccomp %s: %d syscalls, %d ioctl requests\n", seccomp_kind_name(k), n,
			      seccomp_nioctls(k));
	}
	assert_int_equal(seccomp_nioctls(SB_SECCOMP_EVLOOP), 0);
	/* KVM_RUN, the serial IRQ, TUNSETOFFLOAD, and the nine KVM_GET_* a
	 * paused vCPU saves its state with */
	assert_int_equal(seccomp_nioctls(SB_SECCOMP_VCPU), 12);
	assert_int_equal(seccomp_nioctls(SB_SECCOMP_CONTROL), 3);
	assert_int_equal(seccomp_nsyscalls(SB_SECCOMP_NKINDS), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counts),
		cmocka_unit_test(test_allowed_calls_work),
		cmocka_unit_test(test_socket_kills),
		cmocka_unit_test(test_evloop_socket_unix_only),
		cmocka_unit_test(test_tgkill_own_process_only),
		cmocka_unit_test(test_execve_kills),
		cmocka_unit_test(test_ioctl_by_request),
		cmocka_unit_test(test_files_kill_worker_threads),
		cmocka_unit_test(test_vcpu_ioctls),
		cmocka_unit_test(test_filter_is_per_thread),
		cmocka_unit_test(test_trap_names_the_call),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
