/* probe: a small static program that answers from inside a container
 * (crun's tests/init.c is the model). One subcommand per run:
 *   hostname | cwd | id | caps | seccomp | nnp | mounts | ns | pid | env NAME
 *   isatty | rlimit NAME | read PATH | write PATH | stdin | sleep SEC
 *   try OP (prints OK or the errno name) | exit N | kill SIG | alloc MiB | forkbomb N
 * Errors of the probe itself exit 2. */
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/keyctl.h>
#include <linux/perf_event.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

static int status_field(const char *prefix)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	int found = 0;
	if (!f)
		return 2;
	while (fgets(line, sizeof(line), f))
		if (!prefix || !strncmp(line, prefix, strlen(prefix))) {
			fputs(line, stdout);
			found = 1;
		}
	fclose(f);
	return found ? 0 : 2;
}

static int cat(const char *path)
{
	char buf[4096];
	int fd = open(path, O_RDONLY);
	if (fd < 0) {
		printf("%s\n", strerrorname_np(errno));
		return 1;
	}
	ssize_t n, total = 0;
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		fwrite(buf, 1, n, stdout);
		total += n;
	}
	if (n < 0)
		printf("%s\n", strerrorname_np(errno));
	close(fd);
	if (total == 0 && n == 0)
		printf("(empty)\n");
	return n < 0;
}

/* Each returns the syscall's result (<0 with errno on failure). */
static long try_op(const char *op)
{
	if (!strcmp(op, "mount"))
		return mount("none", "/tmp", "tmpfs", 0, NULL);
	if (!strcmp(op, "umount"))
		return umount2("/proc", MNT_DETACH);
	if (!strcmp(op, "keyctl"))
		return syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0);
	if (!strcmp(op, "add_key"))
		return syscall(SYS_add_key, "user", "probe", "x", 1, KEY_SPEC_SESSION_KEYRING);
	if (!strcmp(op, "request_key"))
		return syscall(SYS_request_key, "user", "probe", NULL, 0);
	if (!strcmp(op, "init_module"))
		return syscall(SYS_init_module, NULL, 0, "");
	if (!strcmp(op, "finit_module"))
		return syscall(SYS_finit_module, -1, "", 0);
	if (!strcmp(op, "delete_module"))
		return syscall(SYS_delete_module, "probe_nonexistent", O_NONBLOCK);
	if (!strcmp(op, "kexec_load"))
		return syscall(SYS_kexec_load, 0, 0, NULL, 0);
	if (!strcmp(op, "reboot"))
		return syscall(SYS_reboot, 0, 0, 0, NULL);     /* bad magic: EINVAL if it got through */
	if (!strcmp(op, "swapon"))
		return syscall(SYS_swapon, "/nonexistent", 0);
	if (!strcmp(op, "bpf")) {
		union bpf_attr a;
		memset(&a, 0, sizeof(a));
		return syscall(SYS_bpf, BPF_MAP_CREATE, &a, sizeof(a));
	}
	if (!strcmp(op, "perf_event_open")) {
		struct perf_event_attr a = { .type = PERF_TYPE_SOFTWARE, .size = sizeof(a),
					     .config = PERF_COUNT_SW_CPU_CLOCK, .exclude_kernel = 1 };
		return syscall(SYS_perf_event_open, &a, 0, -1, -1, 0);
	}
	if (!strcmp(op, "unshare"))
		return unshare(CLONE_NEWUSER);
	if (!strcmp(op, "setns"))
		return setns(open("/proc/self/ns/uts", O_RDONLY), 0);
	if (!strcmp(op, "clone-ns")) {
		long r = syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, NULL, NULL, NULL, 0);
		if (r == 0)
			_exit(0);
		if (r > 0)
			waitpid(r, NULL, 0);
		return r;
	}
	if (!strcmp(op, "ptrace")) {   /* attach to a child of ours */
		pid_t c = fork();
		if (c == 0) {
			pause();
			_exit(0);
		}
		long r = ptrace(PTRACE_ATTACH, c, NULL, NULL);
		int e = errno;
		kill(c, SIGKILL);
		waitpid(c, NULL, 0);
		errno = e;
		return r;
	}
	if (!strcmp(op, "open_by_handle_at"))
		return syscall(SYS_open_by_handle_at, -1, NULL, 0);
	if (!strcmp(op, "pivot_root"))
		return syscall(SYS_pivot_root, "/nonexistent", "/nonexistent");
	if (!strcmp(op, "i386")) {     /* getpid through the 32-bit ABI */
		long r = 20;
		__asm__ volatile("int $0x80" : "+a"(r) : : "memory");
		if (r < 0) {
			errno = -r;
			return -1;
		}
		return r;
	}
	if (!strcmp(op, "chroot"))
		return chroot("/");
	if (!strcmp(op, "mknod"))
		return mknod("/tmp/probe-null", S_IFCHR | 0600, makedev(1, 3));
	if (!strcmp(op, "fork")) {
		pid_t c = fork();
		if (c == 0)
			_exit(0);
		if (c > 0)
			waitpid(c, NULL, 0);
		return c;
	}
	fprintf(stderr, "probe: unknown op %s\n", op);
	exit(2);
}

static int forkbomb(int n)
{
	int ok = 0, first_err = 0;
	pid_t kids[4096];
	if (n > 4096)
		n = 4096;
	for (int i = 0; i < n; i++) {
		pid_t c = fork();
		if (c == 0) {
			pause();
			_exit(0);
		}
		if (c < 0) {
			first_err = errno;
			break;
		}
		kids[ok++] = c;
	}
	printf("forked %d of %d%s%s\n", ok, n, first_err ? ", then " : "", first_err ? strerrorname_np(first_err) : "");
	for (int i = 0; i < ok; i++)
		kill(kids[i], SIGKILL);
	for (int i = 0; i < ok; i++)
		waitpid(kids[i], NULL, 0);
	return ok == n ? 0 : 1;
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : "", *arg = argc > 2 ? argv[2] : NULL;
	char buf[4096];
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(cmd, "hostname")) {
		gethostname(buf, sizeof(buf));
		printf("%s\n", buf);
	} else if (!strcmp(cmd, "cwd")) {
		printf("%s\n", getcwd(buf, sizeof(buf)) ? buf : strerrorname_np(errno));
	} else if (!strcmp(cmd, "id")) {
		gid_t g[256];
		int n = getgroups(256, g);
		printf("uid=%u gid=%u groups=", getuid(), getgid());
		for (int i = 0; i < n; i++)
			printf("%s%u", i ? "," : "", g[i]);
		printf("\n");
	} else if (!strcmp(cmd, "caps")) {
		return status_field("Cap");
	} else if (!strcmp(cmd, "seccomp")) {
		return status_field("Seccomp:");
	} else if (!strcmp(cmd, "nnp")) {
		return status_field("NoNewPrivs:");
	} else if (!strcmp(cmd, "mounts")) {
		return cat("/proc/self/mountinfo");
	} else if (!strcmp(cmd, "ns")) {
		static const char *const ns[] = { "mnt", "pid", "uts", "ipc", "net", "cgroup", "user" };
		for (size_t i = 0; i < sizeof(ns) / sizeof(ns[0]); i++) {
			struct stat st;
			snprintf(buf, sizeof(buf), "/proc/self/ns/%s", ns[i]);
			if (stat(buf, &st) == 0)
				printf("%s %lu\n", ns[i], (unsigned long)st.st_ino);
		}
	} else if (!strcmp(cmd, "pid")) {
		printf("pid=%d ppid=%d\n", getpid(), getppid());
	} else if (!strcmp(cmd, "env") && arg) {
		const char *v = getenv(arg);
		if (!v)
			return 1;
		printf("%s\n", v);
	} else if (!strcmp(cmd, "isatty")) {
		printf("stdin=%d stdout=%d stderr=%d\n", isatty(0), isatty(1), isatty(2));
	} else if (!strcmp(cmd, "rlimit") && arg) {
		static const struct { const char *n; int r; } rl[] = {
			{ "nofile", RLIMIT_NOFILE }, { "nproc", RLIMIT_NPROC }, { "core", RLIMIT_CORE },
			{ "stack", RLIMIT_STACK }, { "as", RLIMIT_AS }, { "fsize", RLIMIT_FSIZE },
		};
		for (size_t i = 0; i < sizeof(rl) / sizeof(rl[0]); i++) {
			struct rlimit l;
			if (strcmp(arg, rl[i].n) || getrlimit(rl[i].r, &l))
				continue;
			printf("%llu %llu\n", (unsigned long long)l.rlim_cur, (unsigned long long)l.rlim_max);
			return 0;
		}
		return 2;
	} else if (!strcmp(cmd, "read") && arg) {
		return cat(arg);
	} else if (!strcmp(cmd, "write") && arg) {
		int fd = open(arg, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd < 0 || write(fd, "probe\n", 6) != 6) {
			printf("%s\n", strerrorname_np(errno));
			return 1;
		}
		close(fd);
		printf("OK\n");
	} else if (!strcmp(cmd, "stdin")) {
		ssize_t n;
		while ((n = read(0, buf, sizeof(buf))) > 0)
			fwrite(buf, 1, n, stdout);
	} else if (!strcmp(cmd, "sleep") && arg) {
		sleep(atoi(arg));
	} else if (!strcmp(cmd, "try") && arg) {
		long r = try_op(arg);
		printf("%s\n", r < 0 ? strerrorname_np(errno) : "OK");
	} else if (!strcmp(cmd, "exit") && arg) {
		return atoi(arg);
	} else if (!strcmp(cmd, "kill") && arg) {
		kill(getpid(), atoi(arg));
		sleep(1);
		printf("still alive after signal %s (pid %d)\n", arg, getpid());
		return 99;
	} else if (!strcmp(cmd, "alloc") && arg) {
		long mib = atol(arg);
		for (long i = 0; i < mib; i++) {
			char *p = malloc(1 << 20);
			if (!p) {
				printf("malloc failed after %ld MiB\n", i);
				return 1;
			}
			memset(p, 1, 1 << 20);
		}
		printf("allocated %ld MiB\n", mib);
	} else if (!strcmp(cmd, "forkbomb") && arg) {
		return forkbomb(atoi(arg));
	} else {
		fprintf(stderr, "usage: probe hostname|cwd|id|caps|seccomp|nnp|mounts|ns|pid|env NAME|isatty|"
				"rlimit NAME|read PATH|write PATH|stdin|sleep SEC|try OP|exit N|kill SIG|alloc MiB|forkbomb N\n");
		return 2;
	}
	return 0;
}
