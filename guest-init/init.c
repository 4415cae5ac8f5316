/* The guest's PID 1 (first version): proves the boot. It mounts the basic
 * filesystems, stops the VMM's boot timer, prints a marker with what the
 * guest sees (CPUs, memory), reports an exit status and resets the VM.
 * The container runtime grows here in a later step. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/io.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/sysinfo.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../common/abi.h"
#include "container.h"

static void console_stdio(void)
{
	int fd = open("/dev/console", O_RDWR | O_NOCTTY);
	if (fd < 0)
		fd = open("/dev/null", O_RDWR);
	if (fd < 0)
		return;
	for (int i = 0; i < 3; i++)
		if (fd != i)
			dup2(fd, i);
	if (fd > 2)
		close(fd);
}

static void early_mounts(void)
{
	mkdir("/dev", 0755);
	mkdir("/proc", 0555);
	mkdir("/sys", 0555);
	if (mount("devtmpfs", "/dev", "devtmpfs", MS_NOSUID, "mode=0755") && errno != EBUSY)
		perror("sandbox-init: mount /dev");
	console_stdio();
	if (mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL))
		perror("sandbox-init: mount /proc");
	if (mount("sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL))
		perror("sandbox-init: mount /sys");
	mkdir("/dev/pts", 0755);
	if (mount("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "ptmxmode=0666,mode=0620"))
		perror("sandbox-init: mount /dev/pts");
	/* favordynmods: moving a process into a cgroup (the container's
	 * start, every exec) need not wait for an RCU grace period: without
	 * it each move took ~28 ms on one vCPU in the test host (most of an
	 * exec's time); forks and exits pay a little more for it. */
	if (mount("cgroup2", "/sys/fs/cgroup", "cgroup2", MS_NOSUID | MS_NODEV | MS_NOEXEC, "favordynmods") &&
	    mount("cgroup2", "/sys/fs/cgroup", "cgroup2", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL))
		perror("sandbox-init: mount /sys/fs/cgroup");
}

/* Value of "key=" on the kernel command line, or NULL. */
static const char *cmdline_value(const char *key)
{
	static char buf[4096];
	int fd = open("/proc/cmdline", O_RDONLY);
	if (fd < 0)
		return NULL;
	ssize_t n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return NULL;
	buf[n] = '\0';
	size_t klen = strlen(key);
	for (char *tok = strtok(buf, " \n"); tok; tok = strtok(NULL, " \n"))
		if (!strncmp(tok, key, klen) && tok[klen] == '=')
			return tok + klen + 1;
	return NULL;
}

/* Run PATH, reap every child until it ends, return its status in the
 * shell's convention (128+N for death by signal N). */
static int run_program(const char *path)
{
	pid_t pid = fork();
	if (pid < 0) {
		perror("sandbox-init: fork");
		return 125;
	}
	if (pid == 0) {
		char *argv[] = { (char *)path, NULL };
		char *envp[] = { "PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/", "TERM=dumb", NULL };
		execve(path, argv, envp);
		fprintf(stderr, "sandbox-init: exec %s: %s\n", path, strerror(errno));
		_exit(errno == ENOENT ? 127 : 126);
	}
	for (;;) {
		int st;
		pid_t w = wait(&st);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return 125;
		if (w == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	}
}

static int have_port;

static void event(unsigned off, unsigned char v)
{
	outb(v, SB_EVENT_PORT + off);
}

void init_last_words(const char *msg)
{
	fprintf(stderr, "sandbox-init: %s\n", msg);
	for (size_t i = 0; have_port && msg[i] && i < SB_EVENT_WORDS_MAX; i++)
		event(SB_EVENT_WORDS_OFF, (unsigned char)msg[i]);
}

int main(int argc, char **argv)
{
	/* --host: run a container on this host (the "plain container"
	 * baseline, and how the container setup is tested without a VM). */
	if (argc > 1 && !strcmp(argv[1], "--host"))
		return host_main(argc, argv);
	/* --exec: a process in such a container (sandbox exec). */
	if (argc > 1 && !strcmp(argv[1], "--exec"))
		return exec_host_main(argc, argv);
	early_mounts();
	have_port = ioperm(SB_EVENT_PORT, SB_EVENT_PORT_LEN, 1) == 0;
	if (have_port)
		event(0, SB_EVENT_INIT_REACHED);
	else
		perror("sandbox-init: ioperm");

	struct sysinfo si;
	sysinfo(&si);
	unsigned long long mem_mib = (unsigned long long)si.totalram * si.mem_unit >> 20;
	printf("sandbox-init: reached init: cpus=%ld mem_mib=%llu\n", sysconf(_SC_NPROCESSORS_ONLN), mem_mib);
	fflush(stdout);

	int status = 0;
	const char *s = cmdline_value("sandbox.exit");
	if (s)
		status = atoi(s) & 0xff;
	/* sandbox.run=PATH: run one program (tests use a shell script) and
	 * report its status. The container runtime replaces this later. */
	const char *run = cmdline_value("sandbox.run");
	if (run)
		status = run_program(run);
	else if (cmdline_value("sandbox.agent"))
		status = agent_main(cmdline_value("sandbox.timings") != NULL);
	if (have_port)
		event(SB_EVENT_EXIT_STATUS_OFF, (unsigned char)status);
	sync();
	reboot(RB_AUTOBOOT);
	/* Not reached unless reboot failed: PID 1 must not exit. */
	perror("sandbox-init: reboot");
	for (;;)
		pause();
}
