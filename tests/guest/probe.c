/* probe: a small static program that answers from inside a container
 * (crun's tests/init.c is the model). One subcommand per run:
 *   hostname | cwd | id | caps | seccomp | nnp | mounts | ns | pid | env NAME
 *   isatty | rlimit NAME | read PATH | write PATH | stdin | sleep SEC
 *   try OP (prints OK or the errno name) | exit N | kill SIG | alloc MiB | forkbomb N
 * Escape attempts (tests/security/escape.sh):
 *   fds | kallsyms | blkdevs | rawdisk MAJ MIN read|write [NODE] | fill PATH MAXMIB
 *   connect ADDR PORT | listen ADDR PORT SEC | uconnect NAME | ulisten NAME SEC
 *   (try ptrace1, rawsock, rawip, vsock, syslog, kvm, vda, exe-self, exe-1, exe-1-opath)
 * Errors of the probe itself exit 2. */
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/keyctl.h>
#include <linux/perf_event.h>
#include <sched.h>
#include <stddef.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <dirent.h>
#include <linux/if_ether.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include "inside.h"

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
	if (!strcmp(op, "ptrace1")) {  /* attach to PID 1 from a child */
		pid_t c = fork();
		if (c == 0) {
			long r = ptrace(PTRACE_ATTACH, 1, NULL, NULL);
			if (r == 0)
				ptrace(PTRACE_DETACH, 1, NULL, NULL);
			_exit(r < 0 ? errno : 0);
		}
		int st = 0;
		if (c < 0 || waitpid(c, &st, 0) < 0)
			return -1;
		errno = WIFEXITED(st) ? WEXITSTATUS(st) : EINTR;
		return errno ? -1 : 0;
	}
	if (!strcmp(op, "rawsock"))
		return socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
	if (!strcmp(op, "rawip"))
		return socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
	if (!strcmp(op, "vsock"))      /* the host's CID 2 ports, or a listener */
		return socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (!strcmp(op, "syslog")) {   /* SYSLOG_ACTION_READ_ALL */
		static char kbuf[4096];
		return syscall(SYS_syslog, 3, kbuf, (int)sizeof(kbuf));
	}
	if (!strcmp(op, "kvm"))
		return open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (!strcmp(op, "vda"))
		return open("/dev/vda", O_RDWR | O_CLOEXEC);
	if (!strcmp(op, "exe-self"))
		return open("/proc/self/exe", O_WRONLY | O_CLOEXEC);
	if (!strcmp(op, "exe-1"))
		return open("/proc/1/exe", O_WRONLY | O_CLOEXEC);
	if (!strcmp(op, "exe-1-opath")) {  /* runc CVE-2019-5736: O_PATH, then reopen for writing */
		int fd = open("/proc/1/exe", O_PATH | O_CLOEXEC);
		if (fd < 0)
			return -1;
		char p[64];
		snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
		long r = open(p, O_WRONLY | O_CLOEXEC);
		int e = errno;
		close(fd);
		errno = e;
		return r;
	}
	fprintf(stderr, "probe: unknown op %s\n", op);
	exit(2);
}

/* The open descriptors (CVE-2024-21626: a host directory fd leaked into
 * the container), then fds 3..20 probed with fstat and openat(fd, ".."). */
static int fds(void)
{
	char buf[4096], path[300];
	DIR *d = opendir("/proc/self/fd");
	if (!d) {
		printf("opendir: %s\n", strerrorname_np(errno));
		return 1;
	}
	int self = dirfd(d);
	struct dirent *e;
	printf("fds:");
	while ((e = readdir(d)))
		if (e->d_name[0] != '.') {
			snprintf(path, sizeof(path), "/proc/self/fd/%s", e->d_name);
			ssize_t n = readlink(path, buf, sizeof(buf) - 1);
			buf[n > 0 ? n : 0] = '\0';
			printf(" %s%s=%s", e->d_name, atoi(e->d_name) == self ? "(listing)" : "", buf);
		}
	printf("\n");
	int leaked = 0;
	for (int fd = 3; fd <= 20; fd++) {
		struct stat st;
		if (fd == self || fstat(fd, &st))
			continue;
		int up = openat(fd, "..", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		printf("fd %d open: mode %o, openat(..) %s\n", fd, st.st_mode & S_IFMT, up >= 0 ? "OK" : strerrorname_np(errno));
		if (up >= 0)
			close(up);
		leaked++;
	}
	closedir(d);
	printf("cwd=%s leaked=%d\n", getcwd(buf, sizeof(buf)) ? buf : strerrorname_np(errno), leaked);
	return 0;
}

/* /proc/kallsyms: how many symbols, how many with a non-zero address. */
static int kallsyms(void)
{
	long nonzero, n = inside_kallsyms(&nonzero);
	if (n < 0) {
		printf("%s\n", strerrorname_np(errno));
		return 1;
	}
	printf("symbols=%ld nonzero=%ld\n", n, nonzero);
	return 0;
}

/* Block devices the kernel has (sysfs): NAME MAJ:MIN */
static int blkdev_line(const char *name, unsigned maj, unsigned min, void *arg)
{
	(void)arg;
	printf("%s %u:%u\n", name, maj, min);
	return 0;
}

static int blkdevs(void)
{
	int n;
	return inside_blkdevs(blkdev_line, NULL, &n) ? 1 : 0;
}

/* mknod a block device and open it: "read" reads its first sector,
 * "write" writes that sector back unchanged (only ever on a guest's disk). */
static int rawdisk(unsigned maj, unsigned min, const char *mode, const char *node)
{
	char sec[512];
	int w = !strcmp(mode, "write");
	unlink(node);
	if (mknod(node, S_IFBLK | 0600, makedev(maj, min))) {
		printf("mknod %s\n", strerrorname_np(errno));
		return 1;
	}
	int fd = open(node, (w ? O_RDWR : O_RDONLY) | O_CLOEXEC);
	if (fd < 0) {
		printf("open %s\n", strerrorname_np(errno));
		unlink(node);
		return 1;
	}
	ssize_t n = pread(fd, sec, sizeof(sec), 0);
	if (n != (ssize_t)sizeof(sec)) {
		printf("read %s\n", n < 0 ? strerrorname_np(errno) : "short");
		close(fd);
		unlink(node);
		return 1;
	}
	if (w) {
		n = pwrite(fd, sec, sizeof(sec), 0);
		if (n == (ssize_t)sizeof(sec) && fsync(fd))
			n = -1;
		printf("read OK, write %s\n", n == (ssize_t)sizeof(sec) ? "OK" : n < 0 ? strerrorname_np(errno) : "short");
	} else {
		printf("read OK\n");
	}
	close(fd);
	unlink(node);
	return 0;
}

/* Write 1 MiB blocks to PATH until an error or MAXMIB, then remove it. */
static int fill(const char *path, long max)
{
	long mib;
	int err = inside_fill(path, max, &mib);
	if (err < 0) {
		printf("open %s\n", strerrorname_np(errno));
		return 1;
	}
	printf("wrote %ld MiB%s%s\n", mib, err ? ", then " : " (the cap)", err ? strerrorname_np(err) : "");
	return 0;
}

static int inet_addr_of(const char *a, const char *port, struct sockaddr_in *sa)
{
	memset(sa, 0, sizeof(*sa));
	sa->sin_family = AF_INET;
	sa->sin_port = htons(atoi(port));
	return inet_pton(AF_INET, a, &sa->sin_addr) == 1 ? 0 : -1;
}

/* TCP connect with a 3 s limit: OK (and the first line the peer sends) or the errno. */
static int tcp_connect(const char *a, const char *port)
{
	int s, e = inside_tcp_connect(a, atoi(port), 3000, &s);
	if (e == EINVAL)
		return 2;
	if (e) {
		printf("%s\n", strerrorname_np(e));
		return 1;
	}
	char buf[256] = "";
	struct pollfd p = { .fd = s, .events = POLLIN };
	ssize_t n = poll(&p, 1, 2000) == 1 ? read(s, buf, sizeof(buf) - 1) : 0;
	buf[n > 0 ? n : 0] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	printf("OK %s\n", buf);
	close(s);
	return 0;
}

/* Accept on ADDR:PORT for SEC seconds, greeting each peer: "probe-listener". */
static int tcp_listen(const char *a, const char *port, int sec)
{
	struct sockaddr_in sa;
	int one = 1;
	if (inet_addr_of(a, port, &sa))
		return 2;
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (s < 0 || bind(s, (struct sockaddr *)&sa, sizeof(sa)) || listen(s, 16)) {
		fprintf(stderr, "probe: listen %s:%s: %s\n", a, port, strerror(errno));
		return 2;
	}
	alarm(sec);
	for (;;) {
		int c = accept(s, NULL, NULL);
		if (c < 0)
			continue;
		if (write(c, "probe-listener\n", 15) == 15)
			printf("accepted\n");
		close(c);
	}
}

/* Abstract unix sockets ("@NAME") are per network namespace. */

static int unix_connect(const char *name)
{
	struct sockaddr_un su;
	socklen_t l = inside_abstract_addr(name, &su);
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0 || connect(s, (struct sockaddr *)&su, l)) {
		printf("%s\n", strerrorname_np(errno));
		return 1;
	}
	printf("OK\n");
	close(s);
	return 0;
}

static int unix_listen(const char *name, int sec)
{
	struct sockaddr_un su;
	socklen_t l = inside_abstract_addr(name, &su);
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0 || bind(s, (struct sockaddr *)&su, l) || listen(s, 16)) {
		fprintf(stderr, "probe: listen @%s: %s\n", name, strerror(errno));
		return 2;
	}
	alarm(sec);
	for (;;) {
		int c = accept(s, NULL, NULL);
		if (c >= 0) {
			printf("accepted\n");
			close(c);
		}
	}
}

static int forkbomb(int n)
{
	int ok, first_err = inside_forkbomb(n, &ok);
	if (n > 4096)
		n = 4096;
	printf("forked %d of %d%s%s\n", ok, n, first_err ? ", then " : "", first_err ? strerrorname_np(first_err) : "");
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
		long mib = atol(arg), got = inside_alloc(mib);
		if (got < mib) {
			printf("malloc failed after %ld MiB\n", got);
			return 1;
		}
		printf("allocated %ld MiB\n", mib);
	} else if (!strcmp(cmd, "forkbomb") && arg) {
		return forkbomb(atoi(arg));
	} else if (!strcmp(cmd, "fds")) {
		return fds();
	} else if (!strcmp(cmd, "kallsyms")) {
		return kallsyms();
	} else if (!strcmp(cmd, "blkdevs")) {
		return blkdevs();
	} else if (!strcmp(cmd, "rawdisk") && argc > 4) {
		return rawdisk(atoi(argv[2]), atoi(argv[3]), argv[4], argc > 5 ? argv[5] : "/tmp/probe-blk");
	} else if (!strcmp(cmd, "fill") && argc > 3) {
		return fill(arg, atol(argv[3]));
	} else if (!strcmp(cmd, "connect") && argc > 3) {
		return tcp_connect(arg, argv[3]);
	} else if (!strcmp(cmd, "listen") && argc > 4) {
		return tcp_listen(arg, argv[3], atoi(argv[4]));
	} else if (!strcmp(cmd, "uconnect") && arg) {
		return unix_connect(arg);
	} else if (!strcmp(cmd, "ulisten") && argc > 3) {
		return unix_listen(arg, atoi(argv[3]));
	} else {
		fprintf(stderr, "usage: probe hostname|cwd|id|caps|seccomp|nnp|mounts|ns|pid|env NAME|isatty|"
				"rlimit NAME|read PATH|write PATH|stdin|sleep SEC|try OP|exit N|kill SIG|alloc MiB|forkbomb N\n");
		return 2;
	}
	return 0;
}
