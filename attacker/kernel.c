/* The privileged kernel interfaces a shared kernel exposes: modules,
 * mount, ptrace, the kernel log and symbols, its identity, cgroup v1
 * release_agent, user namespaces, kernel-wide settings, the clock. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/io_uring.h>
#include <linux/keyctl.h>
#include <linux/perf_event.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "attacker.h"
#include "inside.h"

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

static long try_wronly(const char *path)
{
	return open(path, O_WRONLY | O_CLOEXEC);
}

int a_module(void)
{
	res("init_module", syscall(SYS_init_module, NULL, 0, ""), 0);
	res("finit_module", syscall(SYS_finit_module, -1, "", 0), 0);
	return 0;
}

int a_mount(void)
{
	res("mount", mount("none", "/tmp", "tmpfs", 0, NULL), 0);
	return 0;
}

int a_ptrace(void)
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

int a_syslog(void)
{
	static char kbuf[4096];
	long r = syscall(SYS_syslog, 3, kbuf, (int)sizeof(kbuf));
	res("syslog", r, 0);
	if (r > 0)
		printf("bytes=%ld\n", r);
	return 0;
}

int a_kallsyms(void)
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
int a_kernel_id(void)
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

int a_release_agent(void)
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
int a_userns(void)
{
	long r = unshare(CLONE_NEWUSER | CLONE_NEWNS);
	res("unshare_user", r, 0);
	if (r == 0)
		res("mount_in_userns", mount("none", "/tmp", "tmpfs", 0, NULL), 0);
	return 0;
}

/* One kernel interface that a shared kernel exposes to every container. */
int a_sys(const char *op)
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
int a_procsys(void)
{
	res("core_pattern", try_wronly("/proc/sys/kernel/core_pattern"), 1);
	res("sysrq_trigger", try_wronly("/proc/sysrq-trigger"), 1);
	res("drop_caches", try_wronly("/proc/sys/vm/drop_caches"), 1);
	res("modprobe", try_wronly("/proc/sys/kernel/modprobe"), 1);
	return 0;
}

int a_sysfs(void)
{
	res("uevent_helper", try_wronly("/sys/kernel/uevent_helper"), 1);
	res("thp_enabled", try_wronly("/sys/kernel/mm/transparent_hugepage/enabled"), 1);
	res("power_state", try_wronly("/sys/power/state"), 1);
	return 0;
}

/* The clock: set it to the time it already has (a step of microseconds),
 * and a time namespace. */
int a_clock(void)
{
	struct timespec t;
	clock_gettime(CLOCK_REALTIME, &t);
	res("clock_settime", clock_settime(CLOCK_REALTIME, &t), 0);
	res("unshare_time", unshare(CLONE_NEWTIME), 0);
	return 0;
}
