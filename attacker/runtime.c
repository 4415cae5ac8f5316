/* The runtime's own leftovers and neighbours: its binary (/proc/self/exe),
 * descriptors it left open (CVE-2024-21626), another process by its
 * host pid. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

#include "attacker.h"
#include "inside.h"

int a_exe(void)
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
int a_fds(void)
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
int a_neighbour(int pid)
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
