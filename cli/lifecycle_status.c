/* What a recorded sandbox is now (lifecycle_impl.h), for ps, kill, stop,
 * rm, inspect, prune and exec. A sandbox's status, as shown:
 *   running     its owner (`sandbox run`, pid/pid_start) lives
 *   exited (N)  the owner recorded the container's status N and ended
 *   dead        the state says running but the owner is gone (killed -9,
 *               crashed, host reboot): nothing will ever record an exit.
 * A dead sandbox is cleaned up when it is seen (lc_clean_dead): its VMM
 * SIGKILLed if that is still the process the owner started (start time
 * checked, so a reused pid is never hit), its tap device made sure gone,
 * its state directory removed. Its exit status is unknown, so it is not
 * kept as exited.
 *
 * The state is data: before a pid from it is signalled, that process is
 * checked to be what the owner recorded (lc_vmm_trusted, lc_owner_trusted),
 * and a damaged state file (state.c) is reported, never acted on. */
#include "lifecycle_impl.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "procstat.h"

void lc_sleep_ms(unsigned ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* ------------------------------------------------------------------ */
/* status */

/* A zombie still has its /proc entry (and start time) until reaped. */
bool lc_proc_zombie(pid_t pid)
{
	struct proc_stat st;
	return proc_stat_read(pid, &st) || st.state == 'Z' || st.state == 'X';
}

bool lc_owner_running(const struct sandbox_state *s)
{
	return state_owner_alive(s) && !lc_proc_zombie(s->pid);
}

bool lc_vmm_running(const struct sandbox_state *s)
{
	return state_vmm_alive(s) && !lc_proc_zombie(s->vmm_pid);
}

/* PID's parent, 0 if unknown. */
static pid_t proc_ppid(pid_t pid)
{
	struct proc_stat st;
	return proc_stat_read(pid, &st) ? 0 : st.ppid;
}

static bool exe_path(const char *link, char *buf, size_t len)
{
	ssize_t n = readlink(link, buf, len - 1);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	static const char del[] = " (deleted)";    /* rebuilt in place since */
	if ((size_t)n > sizeof(del) - 1 && !strcmp(buf + n - (sizeof(del) - 1), del))
		buf[n - (sizeof(del) - 1)] = '\0';
	return true;
}

/* Does PID run this program (owners and VMMs are this binary) or the
 * guest-init beside it (the host-mode runtime)? Compared by path, so that
 * a binary rebuilt in place still counts; another program at another path
 * (anything a forged state could name) does not. */
static bool proc_runs_ours(pid_t pid)
{
	char link[64], exe[PATH_MAX], self[PATH_MAX], gi[PATH_MAX + 16], real[PATH_MAX];
	snprintf(link, sizeof(link), "/proc/%d/exe", (int)pid);
	if (!exe_path(link, exe, sizeof(exe)))
		return false;
	if (exe_path("/proc/self/exe", self, sizeof(self)) && !strcmp(exe, self))
		return true;
	snprintf(gi, sizeof(gi), "%s/guest-init", self_dir());
	return realpath(gi, real) && !strcmp(exe, real);
}

/* May the owner of S be signalled? It is the process that wrote the state
 * (start time) and runs this program. */
bool lc_owner_trusted(const struct sandbox_state *s)
{
	return lc_owner_running(s) && proc_runs_ours(s->pid);
}

/* May vmm_pid of S be signalled? A pid in the state is only a number in a
 * file, so: it is the process recorded (its start time is vmm_start, which
 * the owner took itself), it runs this program or guest-init, and it is the
 * owner's child while the owner lives (the owner forks it); once the owner
 * died it is an orphan (a jailed VMM changed uid and so lost its
 * PDEATHSIG), never a child of another live sandbox process: a VMM with
 * such a parent is another sandbox's. The start time alone would let a
 * forged state name any process of ours; its parent and its program pin it
 * to what a sandbox's VMM is. */
bool lc_vmm_trusted(const struct sandbox_state *s)
{
	if (!lc_vmm_running(s) || !proc_runs_ours(s->vmm_pid))
		return false;
	pid_t parent = proc_ppid(s->vmm_pid);
	if (lc_owner_running(s))
		return parent == s->pid;
	return parent > 0 && (parent == 1 || !proc_runs_ours(parent));
}

enum view lc_view_of(const struct sandbox_state *s)
{
	if (!strcmp(s->status, "exited"))
		return V_EXITED;
	if (!lc_owner_running(s))
		return V_DEAD;
	/* paused (sandbox pause): alive, its vCPUs stopped */
	return strcmp(s->status, "running") && strcmp(s->status, "paused") ? V_CREATED : V_RUNNING;
}

void lc_status_text(const struct sandbox_state *s, enum view v, char *buf, size_t len)
{
	switch (v) {
	case V_CREATED: snprintf(buf, len, "created"); break;
	case V_RUNNING: snprintf(buf, len, "%s", strcmp(s->status, "paused") ? "running" : "paused"); break;
	case V_EXITED: snprintf(buf, len, "exited (%d)", s->exit_code); break;
	case V_DEAD: snprintf(buf, len, "dead"); break;
	}
}

/* ------------------------------------------------------------------ */
/* cleaning a dead sandbox */

static bool wait_gone(pid_t pid, unsigned long long start, unsigned ms)
{
	for (unsigned t = 0;; t += 20) {
		if (state_proc_start(pid) != start || lc_proc_zombie(pid))
			return true;
		if (t >= ms)
			return false;
		lc_sleep_ms(20);
	}
}

/* A tap that outlived its VMM (it should not: ours are not persistent). */
static void tap_remove(const char *name)
{
	if (!name[0] || !if_nametoindex(name))
		return;
	for (int i = 0; i < 50 && if_nametoindex(name); i++)
		lc_sleep_ms(20);
	if (!if_nametoindex(name))
		return;
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return;
	struct ifreq ifr = { .ifr_flags = IFF_TAP | IFF_NO_PI };
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(fd, TUNSETIFF, &ifr) == 0)
		ioctl(fd, TUNSETPERSIST, 0);
	close(fd);
}

/* Under the state lock: if ID is (still) dead, end what is left of it and
 * remove its state. 1: cleaned, 0: not dead after all. */
int lc_clean_dead(const char *id)
{
	struct err e;
	int lock = state_lock(&e);
	struct sandbox_state s;
	int r = 0;
	if (!state_read(id, &s, &e) && lc_view_of(&s) == V_DEAD) {
		if (lc_vmm_trusted(&s)) {
			unsigned long long start = state_proc_start(s.vmm_pid);
			kill(s.vmm_pid, SIGKILL);
			wait_gone(s.vmm_pid, start, 3000);
		}
		tap_remove(s.tap);
		state_remove(id);
		r = 1;
	}
	state_unlock(lock);
	return r;
}

/* ------------------------------------------------------------------ */
/* finding one */

/* Reads REF's state; for a "created" sandbox waits (up to 5 s) until the
 * owner has started its VMM. */
int lc_find_started(const char *ref, struct sandbox_state *s, enum view *v, struct err *e)
{
	if (state_find(ref, s, e))
		return -1;
	*v = lc_view_of(s);
	for (int i = 0; i < 250 && *v == V_CREATED; i++) {
		lc_sleep_ms(20);
		if (state_read(s->id, s, e))
			return -1;
		*v = lc_view_of(s);
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* for exec */

int lifecycle_find_running(const char *ref, struct sandbox_state *s, struct err *e)
{
	enum view v;
	if (lc_find_started(ref, s, &v, e))
		return -1;
	if (v != V_RUNNING || !lc_vmm_running(s))
		return err_set(e, "%s is not running", ref);
	if (!strcmp(s->status, "paused"))
		return err_set(e, "%s is paused (sandbox resume %s)", ref, ref);
	if (!lc_vmm_trusted(s))
		return err_set(e, "%s: pid %d is not this sandbox's VMM (its state is wrong)", ref, (int)s->vmm_pid);
	return 0;
}
