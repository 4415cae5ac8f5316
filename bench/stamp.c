/* stamp: spawn a command and time it from the outside, the same way for
 * every VMM the boot benchmark compares.
 *
 *   stamp [--fifo PATH] [--timeout S] [--guest-mib N] [--] CMD ARGS...
 *
 * - T0 = CLOCK_MONOTONIC just before the spawn; exported to CMD as
 *   SANDBOX_T0_NS (our VMM then measures its own phases from T0).
 * - --fifo PATH: a FIFO opened (read end, non-blocking, plus a write end we
 *   hold so poll never reports a spurious HUP) before the spawn; the moment
 *   its first byte arrives is init_ms. QEMU's isa-debugcon writes the guest
 *   init's port 0x440 byte there.
 * - --timeout S (seconds, may be fractional): SIGKILL the command then.
 * - --guest-mib N: when the FIFO's first byte arrives, read CMD's
 *   /proc/PID/smaps and split its resident memory into the guest RAM mapping
 *   (the anonymous mapping of N MiB, up to N+2 MiB) and the rest (the VMM's
 *   own): rss_at_init_kib, guest_rss_at_init_kib, vmm_rss_at_init_kib.
 * - At the end one line on stderr:
 *     stamp: init_ms=.. exit_ms=.. status=.. maxrss_kib=.. cpu_ms=..
 *            user_ms=.. sys_ms=.. timed_out=0|1 fifo_bytes=.. first_byte=..
 *            [rss_at_init_kib=.. guest_rss_at_init_kib=.. vmm_rss_at_init_kib=..]
 *   init_ms=-1 when no byte came; status is the exit code, or 128+signal;
 *   maxrss_kib and the CPU times come from wait4's rusage of CMD.
 * stamp's own exit status is CMD's (124 after a timeout, 125 on its own
 * errors). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: stamp [--fifo PATH] [--timeout SECONDS] [--guest-mib N] [--] CMD [ARGS...]\n");
}

static int die(const char *what)
{
	fprintf(stderr, "stamp: %s: %s\n", what, strerror(errno));
	return 125;
}

/* Resident KiB of PID: all mappings, and those sized like guest RAM. */
static int smaps_split(pid_t pid, unsigned long guest_mib, long *total, long *guest)
{
	char path[64], line[512];
	snprintf(path, sizeof(path), "/proc/%d/smaps", (int)pid);
	FILE *f = fopen(path, "re");
	if (!f)
		return -1;
	unsigned long long lo = (unsigned long long)guest_mib << 20, hi = lo + (2ULL << 20), size = 0;
	*total = *guest = 0;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long a, b;
		long kib;
		char c;
		if (sscanf(line, "%llx-%llx %c", &a, &b, &c) == 3 && b > a)
			size = b - a;
		else if (sscanf(line, "Rss: %ld kB", &kib) == 1) {
			*total += kib;
			if (size >= lo && size <= hi)
				*guest += kib;
		}
	}
	fclose(f);
	return 0;
}

static double tv_ms(struct timeval tv) { return (double)tv.tv_sec * 1e3 + (double)tv.tv_usec / 1e3; }

int main(int argc, char **argv)
{
	const char *fifo = NULL;
	double timeout_s = 0;
	unsigned long guest_mib = 0;
	int i = 1;
	for (; i < argc; i++) {
		if (!strcmp(argv[i], "--")) {
			i++;
			break;
		} else if (!strcmp(argv[i], "--fifo") && i + 1 < argc) {
			fifo = argv[++i];
		} else if (!strcmp(argv[i], "--timeout") && i + 1 < argc) {
			char *end;
			timeout_s = strtod(argv[++i], &end);
			if (*end || timeout_s < 0) {
				fprintf(stderr, "stamp: bad --timeout '%s'\n", argv[i]);
				return 125;
			}
		} else if (!strcmp(argv[i], "--guest-mib") && i + 1 < argc) {
			char *end;
			guest_mib = strtoul(argv[++i], &end, 10);
			if (*end || !guest_mib) {
				fprintf(stderr, "stamp: bad --guest-mib '%s'\n", argv[i]);
				return 125;
			}
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return 0;
		} else if (argv[i][0] == '-') {
			fprintf(stderr, "stamp: unknown option '%s'\n", argv[i]);
			usage(stderr);
			return 125;
		} else {
			break;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return 125;
	}

	int rfd = -1, wfd = -1;
	if (fifo) {
		struct stat st;
		if (stat(fifo, &st) == 0 && !S_ISFIFO(st.st_mode)) {
			fprintf(stderr, "stamp: %s is not a FIFO\n", fifo);
			return 125;
		}
		if (stat(fifo, &st) && mkfifo(fifo, 0600))
			return die("mkfifo");
		rfd = open(fifo, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
		if (rfd < 0)
			return die("open fifo (read)");
		/* Our own writer: without it poll reports POLLHUP until the
		 * command opens the FIFO, and again when it closes it. */
		wfd = open(fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
		if (wfd < 0)
			return die("open fifo (write)");
	}

	/* SIGCHLD through a signalfd; the child gets an empty mask back. */
	sigset_t chld, empty;
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigemptyset(&empty);
	if (sigprocmask(SIG_BLOCK, &chld, NULL))
		return die("sigprocmask");
	int sfd = signalfd(-1, &chld, SFD_CLOEXEC | SFD_NONBLOCK);
	if (sfd < 0)
		return die("signalfd");
	posix_spawnattr_t attr;
	posix_spawnattr_init(&attr);
	posix_spawnattr_setsigmask(&attr, &empty);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);

	uint64_t t0 = now_ns();
	char t0s[32];
	snprintf(t0s, sizeof(t0s), "%llu", (unsigned long long)t0);
	if (setenv("SANDBOX_T0_NS", t0s, 1))
		return die("setenv");
	pid_t pid;
	int rc = posix_spawnp(&pid, argv[i], NULL, &attr, &argv[i], environ);
	if (rc) {
		errno = rc;
		fprintf(stderr, "stamp: cannot run %s: %s\n", argv[i], strerror(errno));
		return 127;
	}
	uint64_t deadline = timeout_s > 0 ? t0 + (uint64_t)(timeout_s * 1e9) : 0;

	int64_t init_ns = -1;
	long fifo_bytes = 0;
	int first_byte = -1, timed_out = 0, status = 0;
	long rss_init = -1, guest_init = -1;
	struct rusage ru;
	memset(&ru, 0, sizeof(ru));
	for (;;) {
		/* Reap first: a SIGCHLD may have come before the signalfd was read. */
		pid_t w = wait4(pid, &status, WNOHANG, &ru);
		if (w == pid)
			break;
		if (w < 0 && errno != EINTR)
			return die("wait4");
		struct pollfd p[2] = { { .fd = sfd, .events = POLLIN }, { .fd = rfd, .events = POLLIN } };
		int timeout_ms = -1;
		if (deadline && !timed_out) {
			uint64_t now = now_ns();
			if (now >= deadline) {
				timed_out = 1;
				kill(pid, SIGKILL);
				continue;
			}
			timeout_ms = (int)((deadline - now + 999999) / 1000000);
		}
		int n = poll(p, rfd >= 0 ? 2 : 1, timeout_ms);
		uint64_t t = now_ns();
		if (n < 0 && errno != EINTR)
			return die("poll");
		if (n > 0 && (p[1].revents & POLLIN)) {
			unsigned char buf[256];
			ssize_t r;
			while ((r = read(rfd, buf, sizeof(buf))) > 0) {
				if (init_ns < 0) {
					init_ns = (int64_t)(t - t0);
					first_byte = buf[0];
					if (guest_mib && smaps_split(pid, guest_mib, &rss_init, &guest_init))
						rss_init = guest_init = -1;
				}
				fifo_bytes += r;
			}
		}
		if (n > 0 && (p[0].revents & POLLIN)) {
			struct signalfd_siginfo si;
			while (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
				;
		}
	}
	uint64_t exit_ns = now_ns() - t0;
	/* Bytes that came in just before the exit still count as "init seen"
	 * (timestamped at the exit: an upper bound). */
	if (rfd >= 0 && init_ns < 0) {
		unsigned char buf[256];
		ssize_t r;
		while ((r = read(rfd, buf, sizeof(buf))) > 0) {
			if (init_ns < 0) {
				init_ns = (int64_t)exit_ns;
				first_byte = buf[0];
			}
			fifo_bytes += r;
		}
	}

	int code = WIFEXITED(status) ? WEXITSTATUS(status) : WIFSIGNALED(status) ? 128 + WTERMSIG(status) : 125;
	double user = tv_ms(ru.ru_utime), sys = tv_ms(ru.ru_stime);
	char init_s[32];
	if (init_ns < 0)
		snprintf(init_s, sizeof(init_s), "-1");
	else
		snprintf(init_s, sizeof(init_s), "%.3f", (double)init_ns / 1e6);
	char smaps_s[128] = "";
	if (guest_mib)
		snprintf(smaps_s, sizeof(smaps_s), " rss_at_init_kib=%ld guest_rss_at_init_kib=%ld vmm_rss_at_init_kib=%ld",
			 rss_init, guest_init, rss_init >= 0 ? rss_init - guest_init : -1);
	fprintf(stderr,
		"stamp: init_ms=%s exit_ms=%.3f status=%d maxrss_kib=%ld cpu_ms=%.3f user_ms=%.3f sys_ms=%.3f "
		"timed_out=%d fifo_bytes=%ld first_byte=%d%s\n",
		init_s, (double)exit_ns / 1e6, code, ru.ru_maxrss, user + sys, user, sys, timed_out, fifo_bytes,
		first_byte, smaps_s);
	if (wfd >= 0)
		close(wfd);
	if (rfd >= 0)
		close(rfd);
	return timed_out ? 124 : code;
}
