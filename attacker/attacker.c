/* sandbox-attacker: the program `sandbox audit` runs inside a sandbox (or a
 * runc/crun bundle of the same image). One attack per run:
 *   sandbox-attacker ATTACK [ARG...]
 * It prints its evidence as "key=value" lines (values without spaces or
 * newlines: errno names, counts, comma lists) and exits 0; the verdict is
 * made on the host (cli/audit_catalogue.c). It never writes to anything
 * the host shares: kernel interfaces are opened for writing and closed
 * unwritten, the clock is set to the time it already has. Errors of the
 * attacker itself (bad arguments) exit 2. Static: the image needs nothing. */
#include <errno.h>
#include <fcntl.h>
#include <dirent.h>
#include <net/if.h>
#include <arpa/inet.h>
#include <linux/bpf.h>
#include <linux/fs.h>
#include <linux/if_ether.h>
#include <linux/io_uring.h>
#include <linux/keyctl.h>
#include <linux/perf_event.h>
#include <linux/userfaultfd.h>
#include <linux/vm_sockets.h>
#include <netinet/in.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/ioctl.h>
#include <sys/io.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "attacker.h"
#include "inside.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

const char *ename(int e)
{
	const char *n = strerrorname_np(e);
	return n ? n : "EUNKNOWN";
}

void res(const char *key, long r, int fd)
{
	if (r < 0) {
		printf("%s=%s\n", key, ename(errno));
		return;
	}
	printf("%s=OK\n", key);
	if (fd)
		close((int)r);
}

void kv_clean(const char *key, const char *v)
{
	printf("%s=", key);
	for (; *v && *v != '\n'; v++)
		putchar(*v == ' ' || *v == '\t' || *v == '=' ? '_' : *v);
	putchar('\n');
}

static long try_wronly(const char *path)
{
	return open(path, O_WRONLY | O_CLOEXEC);
}

/* ---- devices --------------------------------------------------------------- */
static int a_kvm(void)
{
	res("open", open("/dev/kvm", O_RDWR | O_CLOEXEC), 1);
	return 0;
}

static int a_dev(void)
{
	static const char *const minimal[] = { "core", "fd", "full", "mqueue", "null", "ptmx", "pts",
		"random", "shm", "stderr", "stdin", "stdout", "tty", "urandom", "zero", "console" };
	DIR *d = opendir("/dev");
	struct dirent *e;
	int n = 0, extra = 0;
	if (!d) {
		printf("opendir=%s\n", ename(errno));
		return 0;
	}
	printf("extra=");
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		n++;
		size_t i;
		for (i = 0; i < sizeof(minimal) / sizeof(minimal[0]); i++)
			if (!strcmp(e->d_name, minimal[i]))
				break;
		if (i == sizeof(minimal) / sizeof(minimal[0]))
			printf("%s%s", extra++ ? "," : "", e->d_name);
	}
	closedir(d);
	printf("%s\nentries=%d\nextra_count=%d\n", extra ? "" : "-", n, extra);
	return 0;
}

/* mknod each block device the kernel lists (sysfs) and read its first
 * sector; stops at the first that reads. */
struct mknod_try {
	const char *node;
};

static int mknod_one(const char *name, unsigned maj, unsigned min, void *arg)
{
	const char *node = ((struct mknod_try *)arg)->node;
	char sec[512];
	unlink(node);
	if (mknod(node, S_IFBLK | 0600, makedev(maj, min))) {
		printf("mknod=%s\n", ename(errno));
		return 1;
	}
	int fd = open(node, O_RDONLY | O_CLOEXEC);
	unlink(node);
	if (fd < 0) {
		printf("mknod=OK\nopen=%s\ndevice=%s\n", ename(errno), name);
		return 0;
	}
	ssize_t n = pread(fd, sec, sizeof(sec), 0);
	close(fd);
	printf("mknod=OK\nopen=OK\nread=%s\ndevice=%s\n", n == (ssize_t)sizeof(sec) ? "OK" : n < 0 ? ename(errno) : "short", name);
	return n == (ssize_t)sizeof(sec);
}

static int a_mknod(void)
{
	struct mknod_try t = { "/tmp/.attacker-blk" };
	int tried = 0;
	if (mkdir("/tmp", 01777) && errno != EEXIST)
		t.node = "/.attacker-blk";
	inside_blkdevs(mknod_one, &t, &tried);
	if (!tried) {   /* no sysfs view: try loop0 (7:0) blind */
		res("mknod", mknod(t.node, S_IFBLK | 0600, makedev(7, 0)), 0);
		unlink(t.node);
	}
	printf("devices_tried=%d\n", tried);
	return 0;
}

static int a_vda(void)
{
	res("open", open("/dev/vda", O_RDWR | O_CLOEXEC), 1);
	return 0;
}

/* ---- privileged kernel interfaces ------------------------------------------------ */
static int a_module(void)
{
	res("init_module", syscall(SYS_init_module, NULL, 0, ""), 0);
	res("finit_module", syscall(SYS_finit_module, -1, "", 0), 0);
	return 0;
}

static int a_mount(void)
{
	res("mount", mount("none", "/tmp", "tmpfs", 0, NULL), 0);
	return 0;
}

static int a_ptrace(void)
{
	pid_t c = fork();
	if (c == 0) {   /* our parent, from a child: SEIZE (ATTACH's permission
			 * check without stopping it; detached when we exit) */
		long r = ptrace(PTRACE_SEIZE, getppid(), NULL, NULL);
		_exit(r < 0 ? errno : 0);
	}
	int st = 0;
	if (c < 0 || waitpid(c, &st, 0) < 0) {
		printf("fork=%s\n", ename(errno));
		return 0;
	}
	int e = WIFEXITED(st) ? WEXITSTATUS(st) : EINTR;
	printf("ptrace_parent=%s\n", e ? ename(e) : "OK");
	return 0;
}

static int a_syslog(void)
{
	static char kbuf[4096];
	long r = syscall(SYS_syslog, 3, kbuf, (int)sizeof(kbuf));
	res("syslog", r, 0);
	if (r > 0)
		printf("bytes=%ld\n", r);
	return 0;
}

static int a_kallsyms(void)
{
	long nonzero, n = inside_kallsyms(&nonzero);
	if (n < 0) {
		printf("open=%s\n", ename(errno));
		return 0;
	}
	printf("open=OK\nsymbols=%ld\nnonzero=%ld\n", n, nonzero);
	return 0;
}

/* The host's kernel identity: what a container learns of the kernel it
 * runs on (for targeting a kernel exploit). */
static int a_kernel_id(void)
{
	struct utsname u;
	char buf[512];
	if (uname(&u) == 0)
		kv_clean("release", u.release);
	FILE *f = fopen("/proc/version", "r");
	if (f && fgets(buf, sizeof(buf), f))
		kv_clean("version", buf);
	else
		printf("version=%s\n", ename(errno));
	if (f)
		fclose(f);
	f = fopen("/proc/cpuinfo", "r");
	while (f && fgets(buf, sizeof(buf), f))
		if (!strncmp(buf, "microcode", 9)) {
			char *v = strchr(buf, ':');
			kv_clean("microcode", v ? v + 2 : "?");
			break;
		}
	if (f)
		fclose(f);
	return 0;
}

/* cgroup v1 release_agent (CVE-2022-0492's path): a release_agent or
 * notify_on_release file we could open for writing, or a cgroup v1
 * hierarchy we could mount to get one. */
static void scan_cgroup(const char *dir, int depth, int *found, int *wr, int *nor)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	char p[1024];
	if (!d)
		return;
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
		if (!strcmp(e->d_name, "release_agent")) {
			(*found)++;
			long fd = try_wronly(p);
			if (fd >= 0) {
				(*wr)++;
				close((int)fd);
			}
		} else if (!strcmp(e->d_name, "notify_on_release")) {
			long fd = try_wronly(p);
			if (fd >= 0) {
				(*nor)++;
				close((int)fd);
			}
		} else if (e->d_type == DT_DIR && depth < 2) {
			scan_cgroup(p, depth + 1, found, wr, nor);
		}
	}
	closedir(d);
}

static int a_release_agent(void)
{
	int found = 0, wr = 0, nor = 0;
	scan_cgroup("/sys/fs/cgroup", 0, &found, &wr, &nor);
	printf("release_agent_files=%d\nrelease_agent_writable=%d\nnotify_on_release_writable=%d\n", found, wr, nor);
	if (mkdir("/tmp", 01777) && errno != EEXIST) { /* read-only root */ }
	mkdir("/tmp/.attacker-cg", 0700);
	long r = mount("cgroup", "/tmp/.attacker-cg", "cgroup", 0, "rdma");
	res("mount_cgroup_v1", r, 0);
	if (r == 0) {
		found = wr = nor = 0;
		scan_cgroup("/tmp/.attacker-cg", 0, &found, &wr, &nor);
		printf("mounted_release_agent_writable=%d\n", wr);
		umount2("/tmp/.attacker-cg", MNT_DETACH);
	}
	rmdir("/tmp/.attacker-cg");
	return 0;
}

/* A user namespace, then a capability used in it (mount). */
static int a_userns(void)
{
	long r = unshare(CLONE_NEWUSER | CLONE_NEWNS);
	res("unshare_user", r, 0);
	if (r == 0)
		res("mount_in_userns", mount("none", "/tmp", "tmpfs", 0, NULL), 0);
	return 0;
}

/* One kernel interface that a shared kernel exposes to every container. */
static int a_sys(const char *op)
{
	long r;
	if (!strcmp(op, "io_uring_setup")) {
		struct io_uring_params p;
		memset(&p, 0, sizeof(p));
		r = syscall(SYS_io_uring_setup, 4, &p);
		res("result", r, 1);
	} else if (!strcmp(op, "bpf")) {
		union bpf_attr a;
		memset(&a, 0, sizeof(a));
		a.map_type = BPF_MAP_TYPE_ARRAY;
		a.key_size = 4;
		a.value_size = 4;
		a.max_entries = 1;
		r = syscall(SYS_bpf, BPF_MAP_CREATE, &a, sizeof(a));
		res("result", r, 1);
	} else if (!strcmp(op, "perf_event_open")) {
		struct perf_event_attr a = { .type = PERF_TYPE_SOFTWARE, .size = sizeof(a),
					     .config = PERF_COUNT_SW_CPU_CLOCK, .exclude_kernel = 1 };
		r = syscall(SYS_perf_event_open, &a, 0, -1, -1, 0);
		res("result", r, 1);
	} else if (!strcmp(op, "userfaultfd")) {
		r = syscall(SYS_userfaultfd, O_CLOEXEC);
		res("result", r, 1);
	} else if (!strcmp(op, "keyctl")) {
		r = syscall(SYS_keyctl, KEYCTL_GET_KEYRING_ID, KEY_SPEC_SESSION_KEYRING, 0);
		res("result", r, 0);
	} else if (!strcmp(op, "add_key")) {
		r = syscall(SYS_add_key, "user", "sandbox-attacker", "x", 1, KEY_SPEC_PROCESS_KEYRING);
		res("result", r, 0);
	} else if (!strcmp(op, "kexec_load")) {
		/* an unknown flag bit: EINVAL once past the permission check
		 * (no segments and no flags would unload a loaded kernel) */
		r = syscall(SYS_kexec_load, 0, 0, NULL, 0x8000UL);
		res("result", r, 0);
	} else {
		fprintf(stderr, "sandbox-attacker: unknown syscall %s\n", op);
		return 2;
	}
	return 0;
}

/* Kernel-wide settings: opened for writing, never written. */
static int a_procsys(void)
{
	res("core_pattern", try_wronly("/proc/sys/kernel/core_pattern"), 1);
	res("sysrq_trigger", try_wronly("/proc/sysrq-trigger"), 1);
	res("drop_caches", try_wronly("/proc/sys/vm/drop_caches"), 1);
	res("modprobe", try_wronly("/proc/sys/kernel/modprobe"), 1);
	return 0;
}

static int a_sysfs(void)
{
	res("uevent_helper", try_wronly("/sys/kernel/uevent_helper"), 1);
	res("thp_enabled", try_wronly("/sys/kernel/mm/transparent_hugepage/enabled"), 1);
	res("power_state", try_wronly("/sys/power/state"), 1);
	return 0;
}

/* The clock: set it to the time it already has (a step of microseconds),
 * and a time namespace. */
static int a_clock(void)
{
	struct timespec t;
	clock_gettime(CLOCK_REALTIME, &t);
	res("clock_settime", clock_settime(CLOCK_REALTIME, &t), 0);
	res("unshare_time", unshare(CLONE_NEWTIME), 0);
	return 0;
}

/* ---- the network ---------------------------------------------------------------- */
static int a_sniff(void)
{
	long s = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
	res("packet_socket", s, 1);
	struct if_nameindex *ifs = if_nameindex(), *i;
	int n = 0;
	printf("interfaces=");
	for (i = ifs; i && i->if_index; i++)
		printf("%s%s", n++ ? "," : "", i->if_name);
	printf("%s\nnon_lo=", n ? "" : "-");
	n = 0;
	for (i = ifs; i && i->if_index; i++)
		if (strcmp(i->if_name, "lo"))
			n++;
	printf("%d\n", n);
	if (ifs)
		if_freenameindex(ifs);
	return 0;
}

static int a_vsock(void)
{
	long s = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
	res("socket", s, 0);
	if (s >= 0) {
		struct sockaddr_vm a = { .svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_HOST, .svm_port = 1024 };
		res("connect_host_1024", connect((int)s, (struct sockaddr *)&a, sizeof(a)), 0);
		close((int)s);
	}
	return 0;
}

/* TCP connect with a 2 s limit: OK or the errno name. */
static const char *tcp_try(const char *addr, int port)
{
	int fd, e = inside_tcp_connect(addr, port, 2000, &fd);
	if (e)
		return ename(e);
	close(fd);
	return "OK";
}

static int a_hostlo(int port)
{
	static const char *const addrs[] = { "127.0.0.1", "10.0.2.2", "172.30.0.1", "172.17.0.1" };
	for (size_t i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++)
		printf("%s=%s\n", addrs[i], tcp_try(addrs[i], port));
	return 0;
}

static int a_abstract(const char *name)
{
	struct sockaddr_un su;
	socklen_t l = inside_abstract_addr(name, &su);
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0) {
		printf("connect=%s\n", ename(errno));
		return 0;
	}
	res("connect", connect(s, (struct sockaddr *)&su, l), 0);
	close(s);
	return 0;
}

/* ---- the runtime's binaries and descriptors ---------------------------------------- */
static int a_exe(void)
{
	res("exe_self", open("/proc/self/exe", O_WRONLY | O_CLOEXEC), 1);
	res("exe_1", open("/proc/1/exe", O_WRONLY | O_CLOEXEC), 1);
	int fd = open("/proc/1/exe", O_PATH | O_CLOEXEC);
	if (fd < 0) {
		printf("exe_1_opath=%s\n", ename(errno));
		return 0;
	}
	char p[64];
	snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
	res("exe_1_opath", open(p, O_WRONLY | O_CLOEXEC), 1);
	close(fd);
	return 0;
}

/* CVE-2024-21626: descriptors 3..63 left open by the runtime; a directory
 * among them leads out of the root with openat(fd, ".."). */
static int a_fds(void)
{
	int leaked = 0, dirs = 0;
	printf("open_fds=");
	for (int fd = 3; fd < 64; fd++) {
		struct stat st;
		if (fstat(fd, &st))
			continue;
		char p[64], t[256];
		snprintf(p, sizeof(p), "/proc/self/fd/%d", fd);
		ssize_t n = readlink(p, t, sizeof(t) - 1);
		t[n > 0 ? n : 0] = '\0';
		for (char *c = t; *c; c++)
			if (*c == ' ' || *c == ',' || *c == '=')
				*c = '_';
		printf("%s%d:%s", leaked ? "," : "", fd, t);
		leaked++;
		if (S_ISDIR(st.st_mode))
			dirs++;
	}
	char cwd[512];
	printf("%s\nleaked=%d\nleaked_dirs=%d\n", leaked ? "" : "-", leaked, dirs);
	kv_clean("cwd", getcwd(cwd, sizeof(cwd)) ? cwd : ename(errno));
	return 0;
}

/* Another process: the audit's own process on the host, by its host pid.
 * Its command line read, then its memory (process_vm_readv, /proc/PID/mem). */
static int a_neighbour(int pid)
{
	char p[64], buf[256];
	snprintf(p, sizeof(p), "/proc/%d/cmdline", pid);
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		printf("cmdline=%s\n", ename(errno));
	} else {
		ssize_t n = read(fd, buf, sizeof(buf) - 1);
		close(fd);
		buf[n > 0 ? n : 0] = '\0';
		for (ssize_t i = 0; i < n; i++)
			if (buf[i] == '\0')
				buf[i] = ' ';
		kv_clean("cmdline", n > 0 ? buf : "(empty)");
	}
	char b[16];
	struct iovec l = { b, sizeof(b) }, r = { (void *)0x400000, sizeof(b) };
	res("process_vm_readv", process_vm_readv(pid, &l, 1, &r, 1, 0), 0);
	snprintf(p, sizeof(p), "/proc/%d/mem", pid);
	res("proc_mem", open(p, O_RDONLY | O_CLOEXEC), 1);
	return 0;
}

/* ---- --privileged-attacker: every capability, no seccomp ---------------------------------
 * MODE "hit" only where the kernel is the sandbox's own (the VM): there
 * the attack is made for real against the VMM's devices. "probe" (a
 * shared kernel: the host's) only shows that the door is open and never
 * goes through it: no write to this host's ports, disks or vsock. */

/* I/O ports: iopl(3), then garbage written to every port but the ones
 * that end the machine or its interrupts (i8042 0x60/0x64, 0x92, 0xcf9,
 * the exit port 0x440-0x441, PIC, PIT, RTC, ELCR, the serial data port),
 * then every port read back. The VMM's bus answers them all. */
static int a_ports(const char *mode)
{
	long r = iopl(3);
	res("iopl", r, 0);
	if (r < 0 || strcmp(mode, "hit")) {
		if (r == 0)
			iopl(0);
		return 0;
	}
	static const struct { unsigned lo, hi; } keep[] = {
		{ 0x20, 0x21 }, { 0x40, 0x43 }, { 0x60, 0x64 }, { 0x70, 0x71 }, { 0x92, 0x92 },
		{ 0xa0, 0xa1 }, { 0x3f8, 0x3f8 }, { 0x440, 0x441 }, { 0x4d0, 0x4d1 }, { 0xcf8, 0xcff },
	};
	unsigned long seed = 0x9e3779b97f4a7c15UL, written = 0, ones = 0;
	for (unsigned round = 0; round < 2; round++)
		for (unsigned p = 0; p <= 0xffff; p++) {
			size_t i;
			for (i = 0; i < sizeof(keep) / sizeof(keep[0]); i++)
				if (p >= keep[i].lo && p <= keep[i].hi)
					break;
			if (i < sizeof(keep) / sizeof(keep[0]))
				continue;
			seed = seed * 6364136223846793005UL + 1442695040888963407UL;
			outb((unsigned char)(seed >> 56), (unsigned short)p);
			written++;
			ones += inb((unsigned short)p) == 0xff;
		}
	iopl(0);
	printf("ports_written=%lu\nreads_all_ones=%lu\n", written, ones);
	return 0;
}

/* vsock: the host (CID 2): 64 connections to the agent's port 1024, each
 * sent 64 KiB of garbage frames, and one connection to each of ports
 * 1..512. */
static int a_vsock_flood(const char *mode)
{
	int s = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
	res("socket", s, 0);
	if (s < 0 || strcmp(mode, "hit")) {
		if (s >= 0)
			close(s);
		return 0;
	}
	close(s);
	static char junk[65536];
	unsigned long seed = 42;
	for (size_t i = 0; i < sizeof(junk); i++) {
		seed = seed * 6364136223846793005UL + 1442695040888963407UL;
		junk[i] = (char)(seed >> 56);
	}
	int fds[64], connected = 0, refused = 0;
	long sent = 0;
	for (int i = 0; i < 64; i++) {
		fds[i] = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
		struct sockaddr_vm a = { .svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_HOST, .svm_port = 1024 };
		struct timeval tv = { 2, 0 };
		setsockopt(fds[i], SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		if (fds[i] >= 0 && connect(fds[i], (struct sockaddr *)&a, sizeof(a)) == 0) {
			connected++;
			ssize_t n = send(fds[i], junk, sizeof(junk), MSG_NOSIGNAL);
			if (n > 0)
				sent += n;
		} else {
			refused++;
		}
	}
	for (int i = 0; i < 64; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	int other = 0;
	for (unsigned port = 1; port <= 512; port++) {
		int f = socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0);
		struct sockaddr_vm a = { .svm_family = AF_VSOCK, .svm_cid = VMADDR_CID_HOST, .svm_port = port };
		if (f >= 0 && connect(f, (struct sockaddr *)&a, sizeof(a)) == 0) {
			other++;
			send(f, junk, 4096, MSG_NOSIGNAL);
		}
		if (f >= 0)
			close(f);
	}
	printf("agent_port_connected=%d\nagent_port_refused=%d\nbytes_sent=%ld\nother_ports_connected=%d\n",
	       connected, refused, sent, other);
	return 0;
}

/* Block devices: mknod each (on a tmpfs of our own without nodev: the
 * root is nodev); "hit" makes vda (the image disk, read-only at the
 * virtio level) writable in the guest kernel (BLKROSET 0), writes garbage
 * to its first sector and fsyncs, so the write request reaches the VMM;
 * "probe" only reads (a host's disks are never written). */
struct rawdisk_try {
	const char *node;
	int hit, tried;
};

static int rawdisk_one(const char *name, unsigned maj, unsigned min, void *arg)
{
	struct rawdisk_try *t = arg;
	char sec[512];
	if (t->hit && strcmp(name, "vda"))
		return 0;
	t->tried++;
	unlink(t->node);
	if (mknod(t->node, S_IFBLK | 0600, makedev(maj, min))) {
		printf("mknod=%s\n", ename(errno));
		return 1;
	}
	int fd = open(t->node, (t->hit ? O_RDWR : O_RDONLY) | O_CLOEXEC);
	if (fd < 0 && t->hit && (errno == EROFS || errno == EACCES)) {
		int ro = open(t->node, O_RDONLY | O_CLOEXEC), zero = 0;
		res("blkroset", ro < 0 ? -1 : ioctl(ro, BLKROSET, &zero), 0);
		if (ro >= 0)
			close(ro);
		fd = open(t->node, O_RDWR | O_CLOEXEC);
	}
	unlink(t->node);
	if (fd < 0) {
		printf("device=%s\nopen=%s\n", name, ename(errno));
		return 0;
	}
	ssize_t n = pread(fd, sec, sizeof(sec), 0);
	printf("device=%s\nread=%s\n", name, n == (ssize_t)sizeof(sec) ? "OK" : n < 0 ? ename(errno) : "short");
	if (t->hit) {
		memset(sec, 0xa5, sizeof(sec));
		n = pwrite(fd, sec, sizeof(sec), 0);
		printf("write=%s\n", n == (ssize_t)sizeof(sec) ? "OK" : n < 0 ? ename(errno) : "short");
		printf("fsync=%s\n", fsync(fd) ? ename(errno) : "OK");
	}
	close(fd);
	return !t->hit && n == (ssize_t)sizeof(sec);
}

static int a_rawdisk(const char *mode)
{
	struct rawdisk_try t = { "/.attacker-dev/disk", !strcmp(mode, "hit"), 0 };
	const char *dir = "/.attacker-dev";
	int seen;
	mkdir(dir, 0700);
	long m = mount("tmpfs", dir, "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=700");
	res("mount_dev_tmpfs", m, 0);
	if (m < 0)
		t.node = "/.attacker-disk";
	inside_blkdevs(rawdisk_one, &t, &seen);
	if (m == 0)
		umount2(dir, MNT_DETACH);
	rmdir(dir);
	printf("devices_tried=%d\n", t.tried);
	return 0;
}

/* ---- the attack surface: which syscalls reach a kernel ------------------------------ */
/* Every syscall number in a child of its own (2 s alarm), all arguments
 * -1: refused (EPERM or ENOSYS: a filter, a missing capability checked
 * first, or no such call) or reached (any other answer: the kernel's code
 * for it ran, if only to validate the arguments). Never called: the ones
 * that end, fork, block or sync the machine whatever the arguments. */
static int a_syscalls(void)
{
	static const int skip[] = { SYS_exit, SYS_exit_group, SYS_fork, SYS_vfork, SYS_clone, SYS_rt_sigreturn,
				    SYS_pause, SYS_rt_sigsuspend, SYS_sync, SYS_reboot, SYS_vhangup, 435 /* clone3 */,
				    /* key -1 is a real key: they would make IPC objects */
				    SYS_msgget, SYS_semget, SYS_shmget };
	int reached = 0, refused = 0, skipped = 0, max = 463;
	for (int nr = 0; nr < max; nr++) {
		size_t i;
		for (i = 0; i < sizeof(skip) / sizeof(skip[0]); i++)
			if (skip[i] == nr)
				break;
		if (i < sizeof(skip) / sizeof(skip[0]) || (nr > 334 && nr < 424)) {
			skipped += i < sizeof(skip) / sizeof(skip[0]);
			continue;
		}
		pid_t c = fork();
		if (c == 0) {
			alarm(2);
			long r = syscall(nr, -1L, -1L, -1L, -1L, -1L, -1L);
			_exit(r < 0 && (errno == EPERM || errno == ENOSYS) ? 1 : 0);
		}
		int st = 0;
		if (c < 0 || waitpid(c, &st, 0) < 0) {
			printf("fork=%s\n", ename(errno));
			return 0;
		}
		if (WIFEXITED(st) && WEXITSTATUS(st) == 1)
			refused++;
		else
			reached++;
	}
	printf("syscalls_reached=%d\nsyscalls_refused=%d\nsyscalls_skipped=%d\n", reached, refused, skipped);
	return 0;
}

/* ---- exhaustion ------------------------------------------------------------------ */
static int a_forkbomb(int n)
{
	int ok, err = inside_forkbomb(n, &ok);
	printf("wanted=%d\nforked=%d\nstopped_by=%s\n", n, ok, err ? ename(err) : "-");
	return 0;
}

static int a_membomb(long mib)
{
	printf("wanted_mib=%ld\n", mib);
	fflush(stdout);
	long got = inside_alloc(mib);
	printf("allocated_mib=%ld\nstopped_by=%s\n", got, got < mib ? "ENOMEM" : "-");
	return 0;
}

static int a_fill(long max)
{
	long mib;
	int err = inside_fill("/.attacker-fill", max, &mib);
	if (err < 0)
		err = inside_fill("/tmp/.attacker-fill", max, &mib);
	if (err < 0) {
		printf("open=%s\n", ename(errno));
		return 0;
	}
	printf("wanted_mib=%ld\nwrote_mib=%ld\nstopped_by=%s\n", max, mib, err ? ename(err) : "-");
	return 0;
}

static int a_fdbomb(void)
{
	int n = 0, err = 0;
	for (;;) {
		int fd = open("/", O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			err = errno;
			break;
		}
		if (++n >= 1 << 20)
			break;
	}
	printf("opened=%d\nstopped_by=%s\n", n, err ? ename(err) : "-");
	return 0;
}

static int a_inotify(int max)
{
	static int fds[65536];
	int n = 0, err = 0;
	if (max > 65536)
		max = 65536;
	while (n < max) {
		int fd = inotify_init1(IN_CLOEXEC);
		if (fd < 0) {
			err = errno;
			break;
		}
		fds[n++] = fd;
	}
	printf("instances=%d\nstopped_by=%s\n", n, err ? ename(err) : "-");
	for (int i = 0; i < n; i++)
		close(fds[i]);
	return 0;
}

int main(int argc, char **argv)
{
	const char *a = argc > 1 ? argv[1] : "";
	const char *x = argc > 2 ? argv[2] : NULL;
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("attack=%s\n", a);
	static const struct { const char *name; int (*fn)(void); } plain[] = {
		{ "kvm", a_kvm }, { "dev", a_dev }, { "mknod", a_mknod }, { "vda", a_vda },
		{ "module", a_module }, { "mount", a_mount }, { "ptrace", a_ptrace },
		{ "syslog", a_syslog }, { "kallsyms", a_kallsyms }, { "kernel-id", a_kernel_id },
		{ "release-agent", a_release_agent }, { "userns", a_userns }, { "procsys", a_procsys },
		{ "sysfs", a_sysfs }, { "clock", a_clock }, { "sniff", a_sniff }, { "vsock", a_vsock },
		{ "exe", a_exe }, { "fds", a_fds }, { "fdbomb", a_fdbomb }, { "syscalls", a_syscalls },
	};
	for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++)
		if (!strcmp(a, plain[i].name))
			return plain[i].fn();
	if (!strcmp(a, "sys") && x)
		return a_sys(x);
	if (!strcmp(a, "hostlo") && x)
		return a_hostlo(atoi(x));
	if (!strcmp(a, "abstract") && x)
		return a_abstract(x);
	if (!strcmp(a, "ports") && x)
		return a_ports(x);
	if (!strcmp(a, "vsock-flood") && x)
		return a_vsock_flood(x);
	if (!strcmp(a, "rawdisk") && x)
		return a_rawdisk(x);
	if (!strcmp(a, "neighbour") && x)
		return a_neighbour(atoi(x));
	if (!strcmp(a, "hold") && x)
		return a_hold(x, argv);
	if (!strcmp(a, "held") && x)
		return a_held(x);
	if (!strcmp(a, "nbr-files") && argc > 4)
		return a_nbr_files(x, atoi(argv[3]), argv[4]);
	if (!strcmp(a, "nbr-mem") && argc > 3)
		return a_nbr_mem(x, atoi(argv[3]));
	if (!strcmp(a, "nbr-net") && x)
		return a_nbr_net(x);
	if (!strcmp(a, "forkbomb") && x)
		return a_forkbomb(atoi(x));
	if (!strcmp(a, "membomb") && x)
		return a_membomb(atol(x));
	if (!strcmp(a, "fill") && x)
		return a_fill(atol(x));
	if (!strcmp(a, "inotify") && x)
		return a_inotify(atoi(x));
	fprintf(stderr, "usage: sandbox-attacker ATTACK [ARG] (see cli/audit_catalogue.c)\n");
	return 2;
}
