/* `sandbox ps | kill | stop | logs | rm | inspect`: what `sandbox run`
 * recorded in the state directory (run/state.h), read back and acted on.
 *
 * A sandbox's status, as shown:
 *   running     its owner (`sandbox run`, pid/pid_start) lives
 *   exited (N)  the owner recorded the container's status N and ended
 *   dead        the state says running but the owner is gone (killed -9,
 *               crashed, host reboot): nothing will ever record an exit.
 * `ps` cleans dead sandboxes up when it sees them: it SIGKILLs the VMM if
 * that is still the process the owner started (start time checked, so a
 * reused pid is never hit), makes sure its tap device is gone, and removes
 * the state directory; it lists them once as "dead" (with -a) and says so
 * on stderr. Their exit status is unknown, so they are not kept as exited.
 *
 * Signals: --isolation vm: sigqueue(vmm_pid, SIG_FORWARD, SIG), which the
 * VMM hands to the guest agent, which signals the container (even KILL
 * reaches the container, not the VMM). --isolation container: kill(vmm_pid,
 * SIG) to the host-mode runtime (guest-init --host), which forwards TERM,
 * INT, HUP, QUIT, USR1, USR2 and WINCH; KILL ends it, and the container
 * with it (PDEATHSIG).
 *
 * The state is data: before a pid from it is signalled, that process is
 * checked to be what the owner recorded (vmm_trusted, owner_trusted), and
 * a damaged state file (state.c) is reported, never acted on. */
#include "lifecycle.h"
#include "cli.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "events.h"
#include "hostlimits.h"
#include "json.h"
#include "procstat.h"
#include "state.h"
#include "table.h"
#include "vm.h"

#define EXIT_ERR 125

void lifecycle_usage(FILE *f)
{
	fprintf(f,
		"  ps [-a] [-q] [--format json]   list running sandboxes (-a: all)\n"
		"  kill ID|NAME [SIGNAL]          signal the container (default KILL)\n"
		"  stop [-t SECONDS] ID|NAME      stop signal, then KILL after -t (default 10)\n"
		"  logs [-f] [--tail N] ID|NAME   output of a sandbox (-f: follow; sandbox logs -h)\n"
		"  rm [-f] ID|NAME...             remove ended sandboxes (-f: kill running ones)\n"
		"  inspect ID|NAME...             the recorded state as JSON\n"
		"  prune [--until DURATION]       remove ended sandboxes (ended DURATION ago)\n"
		"  check                          can this host run sandboxes? what to fix\n");
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* ------------------------------------------------------------------ */
/* status */

enum view { V_CREATED, V_RUNNING, V_EXITED, V_DEAD };

/* A zombie still has its /proc entry (and start time) until reaped. */
static bool proc_zombie(pid_t pid)
{
	struct proc_stat st;
	return proc_stat_read(pid, &st) || st.state == 'Z' || st.state == 'X';
}

static bool owner_running(const struct sandbox_state *s)
{
	return state_owner_alive(s) && !proc_zombie(s->pid);
}

static bool vmm_running(const struct sandbox_state *s)
{
	return state_vmm_alive(s) && !proc_zombie(s->vmm_pid);
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
static bool owner_trusted(const struct sandbox_state *s)
{
	return owner_running(s) && proc_runs_ours(s->pid);
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
static bool vmm_trusted(const struct sandbox_state *s)
{
	if (!vmm_running(s) || !proc_runs_ours(s->vmm_pid))
		return false;
	pid_t parent = proc_ppid(s->vmm_pid);
	if (owner_running(s))
		return parent == s->pid;
	return parent > 0 && (parent == 1 || !proc_runs_ours(parent));
}

static enum view view_of(const struct sandbox_state *s)
{
	if (!strcmp(s->status, "exited"))
		return V_EXITED;
	if (!owner_running(s))
		return V_DEAD;
	/* paused (sandbox pause): alive, its vCPUs stopped */
	return strcmp(s->status, "running") && strcmp(s->status, "paused") ? V_CREATED : V_RUNNING;
}

static void status_text(const struct sandbox_state *s, enum view v, char *buf, size_t len)
{
	switch (v) {
	case V_CREATED: snprintf(buf, len, "created"); break;
	case V_RUNNING: snprintf(buf, len, "%s", strcmp(s->status, "paused") ? "running" : "paused"); break;
	case V_EXITED: snprintf(buf, len, "exited (%d)", s->exit_code); break;
	case V_DEAD: snprintf(buf, len, "dead"); break;
	}
}

static void age_text(long long created, char *buf, size_t len)
{
	long long d = (long long)time(NULL) - created;
	if (d < 0)
		d = 0;
	if (d < 60)
		snprintf(buf, len, "%llds", d);
	else if (d < 3600)
		snprintf(buf, len, "%lldm", d / 60);
	else if (d < 86400)
		snprintf(buf, len, "%lldh", d / 3600);
	else
		snprintf(buf, len, "%lldd", d / 86400);
}

static void mem_text(long long b, char *buf, size_t len)
{
	if (b <= 0)
		snprintf(buf, len, "-");
	else if (b % (1LL << 30) == 0)
		snprintf(buf, len, "%lldg", b >> 30);
	else if (b % (1LL << 20) == 0)
		snprintf(buf, len, "%lldm", b >> 20);
	else if (b % 1024 == 0)
		snprintf(buf, len, "%lldk", b >> 10);
	else
		snprintf(buf, len, "%lld", b);
}

/* ------------------------------------------------------------------ */
/* cleaning a dead sandbox */

static bool wait_gone(pid_t pid, unsigned long long start, unsigned ms)
{
	for (unsigned t = 0;; t += 20) {
		if (state_proc_start(pid) != start || proc_zombie(pid))
			return true;
		if (t >= ms)
			return false;
		sleep_ms(20);
	}
}

/* A tap that outlived its VMM (it should not: ours are not persistent). */
static void tap_remove(const char *name)
{
	if (!name[0] || !if_nametoindex(name))
		return;
	for (int i = 0; i < 50 && if_nametoindex(name); i++)
		sleep_ms(20);
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
static int clean_dead(const char *id)
{
	struct err e;
	int lock = state_lock(&e);
	struct sandbox_state s;
	int r = 0;
	if (!state_read(id, &s, &e) && view_of(&s) == V_DEAD) {
		if (vmm_trusted(&s)) {
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
/* JSON */

static void json_state(FILE *f, const struct sandbox_state *s, enum view v, const char *indent)
{
	char st[32], age[32], dir[700];
	status_text(s, v, st, sizeof(st));
	age_text(s->created, age, sizeof(age));
	state_path(dir, sizeof(dir), s->id, NULL);
	fprintf(f, "%s{\"id\": ", indent);
	json_str(f, s->id);
	fputs(", \"name\": ", f);
	json_str(f, s->name);
	fputs(", \"image\": ", f);
	json_str(f, s->image);
	fputs(", \"command\": ", f);
	json_str(f, s->command);
	fputs(", \"status\": ", f);
	json_str(f, st);
	fprintf(f, ", \"running\": %s", v == V_RUNNING || v == V_CREATED ? "true" : "false");
	if (v == V_EXITED)
		fprintf(f, ", \"exit_code\": %d", s->exit_code);
	else
		fputs(", \"exit_code\": null", f);
	fprintf(f, ", \"created\": %lld, \"age\": ", s->created);
	json_str(f, age);
	fputs(", \"isolation\": ", f);
	json_str(f, s->isolation);
	fputs(", \"cpus\": ", f);
	json_str(f, s->cpus);
	fprintf(f, ", \"memory\": %lld, \"pid\": %d, \"vmm_pid\": %d", s->memory, (int)s->pid,
		v == V_EXITED ? 0 : (int)s->vmm_pid);
	/* OOM kills as the owner last heard of them (docs/stats.md) */
	fprintf(f, ", \"oom_kills\": %lld", s->oom_kills);
	fprintf(f, ", \"net\": %d, \"tap\": ", s->net);
	json_str(f, s->tap);
	fputs(", \"stop_signal\": ", f);
	json_str(f, s->stop_signal);
	fprintf(f, ", \"rm\": %s, \"detached\": %s, \"state_dir\": ", s->rm ? "true" : "false",
		s->detached ? "true" : "false");
	json_str(f, dir);
	fputc('}', f);
}

/* ------------------------------------------------------------------ */
/* ps */

struct row {
	char id[13], name[64], image[256], status[32], age[32], cpus[16], mem[24], command[1024];
};

enum { R_ID, R_NAME, R_IMAGE, R_STATUS, R_AGE, R_CPUS, R_MEM, R_COMMAND, R_N };

static const struct table_col ps_cols[R_N] = {
	{ "ID", 0, false }, { "NAME", 0, false }, { "IMAGE", 0, false }, { "STATUS", 0, false },
	{ "AGE", 0, false }, { "CPUS", 0, false }, { "MEMORY", 0, false }, { "COMMAND", 0, false },
};

/* A table_cell_fn over an array of struct row. */
static const char *ps_cell(const void *ctx, size_t i, int col, char *buf, size_t len)
{
	(void)buf;
	(void)len;
	const struct row *r = (const struct row *)ctx + i;
	const char *cols[R_N] = { r->id, r->name, r->image, r->status, r->age, r->cpus, r->mem, r->command };
	return col >= 0 && col < R_N ? cols[col] : "";
}

static int cmp_ll(const void *a, const void *b)
{
	long long x = *(const long long *)a, y = *(const long long *)b;
	return x < y ? -1 : x > y;
}

/* Running sandboxes far past their peers' age (hostlimits.h's
 * outlier_factor and outlier_min_age) get "(old)" after their status. */
static void mark_outliers(struct row *rows, const struct sandbox_state *st, const enum view *views, size_t n)
{
	struct limits l;
	struct err e;
	if (limits_load(&l, &e))
		return;         /* run reports a broken config; ps still lists */
	long long *ages = calloc(n + 1, sizeof(*ages)), now = (long long)time(NULL);
	int running = 0;
	if (!ages)
		return;
	for (size_t i = 0; i < n; i++)
		if (views[i] == V_RUNNING)
			ages[running++] = now - st[i].created;
	qsort(ages, (size_t)running, sizeof(*ages), cmp_ll);
	long long median = running ? ages[running / 2] : 0;
	for (size_t i = 0; i < n; i++)
		if (views[i] == V_RUNNING && limits_outlier(&l, now - st[i].created, median, running))
			snprintf(rows[i].status, sizeof(rows[i].status), "running (old)");
	free(ages);
}

int cmd_ps(int argc, char **argv)
{
	enum { O_FORMAT = 256 };
	static const struct option opts[] = {
		{ "all", no_argument, 0, 'a' }, { "quiet", no_argument, 0, 'q' },
		{ "format", required_argument, 0, O_FORMAT }, { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 },
	};
	bool all = false, quiet = false, json = false;
	opterr = 0;
	optind = 1;
	int c;
	while ((c = getopt_long(argc, argv, "+aqh", opts, NULL)) != -1) {
		switch (c) {
		case 'a': all = true; break;
		case 'q': quiet = true; break;
		case O_FORMAT:
			if (strcmp(optarg, "json") && strcmp(optarg, "table"))
				return cli_fail("ps --format: '%s' is not json or table", optarg);
			json = !strcmp(optarg, "json");
			break;
		case 'h':
			printf("usage: sandbox ps [-a] [-q] [--format json|table]\n");
			return 0;
		default:
			return cli_fail("ps: unknown or incomplete option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cli_fail("ps: unexpected argument '%s'", argv[optind]);
	struct err e;
	if (!state_root(&e))
		return cli_report(&e);
	size_t n;
	char **ids = state_list(&n, &e);
	if (!ids)
		return cli_report(&e);
	struct row *rows = calloc(n + 1, sizeof(*rows));
	struct sandbox_state *states = calloc(n + 1, sizeof(*states));
	enum view *views = calloc(n + 1, sizeof(*views));
	if (!rows || !states || !views) {
		err_oom(&e, "ps");
		return cli_report(&e);
	}
	size_t nr = 0;
	for (size_t i = 0; i < n; i++) {
		struct sandbox_state *s = &states[nr];
		if (state_read(ids[i], s, &e)) {
			/* ENOENT: removed meanwhile, or not written yet */
			if (e.errnum != ENOENT)
				cli_report(&e);
			continue;
		}
		enum view v = view_of(s);
		if (v == V_DEAD) {
			if (!clean_dead(s->id))
				continue;
			fprintf(stderr, "sandbox: %s (%.12s) was dead (its owner process died): cleaned up\n",
				s->name, s->id);
		}
		if (!all && v != V_RUNNING && v != V_CREATED)
			continue;
		views[nr] = v;
		struct row *r = &rows[nr++];
		snprintf(r->id, sizeof(r->id), "%.12s", s->id);
		snprintf(r->name, sizeof(r->name), "%s", s->name);
		snprintf(r->image, sizeof(r->image), "%s", s->image);
		status_text(s, v, r->status, sizeof(r->status));
		age_text(s->created, r->age, sizeof(r->age));
		snprintf(r->cpus, sizeof(r->cpus), "%s", s->cpus);
		mem_text(s->memory, r->mem, sizeof(r->mem));
		snprintf(r->command, sizeof(r->command), "%s", s->command);
	}
	state_free_list(ids, n);
	mark_outliers(rows, states, views, nr);
	if (json) {
		printf("[");
		for (size_t i = 0; i < nr; i++) {
			printf("%s\n", i ? "," : "");
			json_state(stdout, &states[i], views[i], "  ");
		}
		printf("%s]\n", nr ? "\n" : "");
	} else if (quiet) {
		for (size_t i = 0; i < nr; i++)
			printf("%s\n", rows[i].id);
	} else {
		table_print(stdout, ps_cols, R_N, nr, ps_cell, rows);
	}
	free(rows);
	free(states);
	free(views);
	return 0;
}

/* ------------------------------------------------------------------ */
/* signals */

/* "TERM", "SIGTERM", "sigterm", "15": the number, or -1. Signals 1-31 (the
 * agent's forwarding carries those). */
static int parse_signal(const char *s)
{
	int sig = state_signal(s);
	return sig > 31 ? -1 : sig;
}

/* Reads REF's state; for a "created" sandbox waits (up to 5 s) until the
 * owner has started its VMM. */
static int find_started(const char *ref, struct sandbox_state *s, enum view *v, struct err *e)
{
	if (state_find(ref, s, e))
		return -1;
	*v = view_of(s);
	for (int i = 0; i < 250 && *v == V_CREATED; i++) {
		sleep_ms(20);
		if (state_read(s->id, s, e))
			return -1;
		*v = view_of(s);
	}
	return 0;
}

/* Signal the container of S (running). */
static int send_signal(const struct sandbox_state *s, int sig, struct err *e)
{
	if (!vmm_running(s))
		return err_set(e, "%s: its VMM (pid %d) is not running", s->name, (int)s->vmm_pid);
	if (!vmm_trusted(s))
		return err_set(e, "%s: pid %d is not this sandbox's VMM (its state is wrong): not signalled", s->name,
			       (int)s->vmm_pid);
	if (!strcmp(s->isolation, "container")) {
		if (kill(s->vmm_pid, sig))
			return err_sys(e, "%s: kill %d", s->name, (int)s->vmm_pid);
		return 0;
	}
	union sigval val = { .sival_int = sig };
	if (sigqueue(s->vmm_pid, SIG_FORWARD, val) == 0)
		return 0;
	/* A VMM jailed as another uid: the owner passes SIG_FORWARD on. */
	if (errno == EPERM && owner_trusted(s) && sigqueue(s->pid, SIG_FORWARD, val) == 0)
		return 0;
	return err_sys(e, "%s: signal the VMM (pid %d)", s->name, (int)s->vmm_pid);
}

int cmd_kill(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "signal", required_argument, 0, 's' }, { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 },
	};
	const char *signame = NULL;
	opterr = 0;
	optind = 1;
	int c;
	while ((c = getopt_long(argc, argv, "+s:h", opts, NULL)) != -1) {
		switch (c) {
		case 's': signame = optarg; break;
		case 'h':
			printf("usage: sandbox kill [-s SIGNAL] ID|NAME [SIGNAL]   (default KILL)\n");
			return 0;
		default:
			return cli_fail("kill: unknown or incomplete option '%s'", argv[optind - 1]);
		}
	}
	int left = argc - optind;
	if (left < 1 || left > 2 || (left == 2 && signame))
		return cli_fail("usage: sandbox kill ID|NAME [SIGNAL]");
	if (left == 2)
		signame = argv[optind + 1];
	int sig = parse_signal(signame ? signame : "KILL");
	if (sig < 0)
		return cli_fail("kill: '%s' is not a signal (e.g. TERM, SIGKILL, 9)", signame);
	const char *ref = argv[optind];
	struct sandbox_state s;
	enum view v;
	struct err e;
	if (find_started(ref, &s, &v, &e))
		return cli_report(&e);
	if (v != V_RUNNING)
		return cli_fail("%s is not running", ref);
	if (send_signal(&s, sig, &e))
		return cli_report(&e);
	char extra[32];
	snprintf(extra, sizeof(extra), ",\"signal\":%d", sig);
	events_emit("kill", &s, extra);
	printf("%s\n", ref);
	return 0;
}

/* ------------------------------------------------------------------ */
/* stop */

static bool wait_owner(const struct sandbox_state *s, unsigned ms)
{
	for (unsigned t = 0;; t += 50) {
		if (!owner_running(s))
			return true;
		if (t >= ms)
			return false;
		sleep_ms(50);
	}
}

/* The owner is gone. It exits as soon as the container's status is in,
 * while its VMM may still be closing the VM in the kernel (tens of ms):
 * stop and rm -f return once that is over too (bounded). */
static int vmm_gone(const struct sandbox_state *s)
{
	for (unsigned t = 0; vmm_trusted(s); t += 20) {
		if (t == 5000)
			kill(s->vmm_pid, SIGKILL);
		if (t >= 10000)
			break;
		sleep_ms(20);
	}
	return 0;
}

/* Stop S: SIG, wait up to WAIT_MS, then KILL through the agent, 5 s more,
 * then SIGKILL the VMM itself. A signal that cannot be sent is no error
 * by itself: the owner may end anyway, and the next step is tried; only a
 * sandbox still there at the end is. */
static int stop_sandbox(const char *ref, struct sandbox_state *s, int sig, unsigned wait_ms, struct err *e)
{
	struct err ignored;
	if (sig > 0 && vmm_running(s))
		send_signal(s, sig, &ignored);
	if (wait_owner(s, wait_ms))
		return vmm_gone(s);
	if (vmm_running(s))
		send_signal(s, SIGKILL, &ignored);
	if (wait_owner(s, 5000))
		return vmm_gone(s);
	if (vmm_trusted(s))
		kill(s->vmm_pid, SIGKILL);
	if (wait_owner(s, 5000))
		return vmm_gone(s);
	return err_set(e, "%s did not stop (owner pid %d still runs)", ref, (int)s->pid);
}

int cmd_stop(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "time", required_argument, 0, 't' }, { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 },
	};
	long secs = 10;
	opterr = 0;
	optind = 1;
	int c;
	char *end;
	while ((c = getopt_long(argc, argv, "+t:h", opts, NULL)) != -1) {
		switch (c) {
		case 't':
			secs = strtol(optarg, &end, 10);
			if (end == optarg || *end || secs < 0 || secs > 86400)
				return cli_fail("stop -t: '%s' is not a number of seconds", optarg);
			break;
		case 'h':
			printf("usage: sandbox stop [-t SECONDS] ID|NAME...\n");
			return 0;
		default:
			return cli_fail("stop: unknown or incomplete option '%s'", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return cli_fail("usage: sandbox stop [-t SECONDS] ID|NAME...");
	int rc = 0;
	for (int i = optind; i < argc; i++) {
		struct sandbox_state s;
		enum view v;
		struct err e;
		if (find_started(argv[i], &s, &v, &e)) {
			rc = cli_report(&e);
			continue;
		}
		if (v == V_RUNNING) {
			events_emit("stop", &s, NULL);
			int sig = parse_signal(s.stop_signal[0] ? s.stop_signal : "TERM");
			if (stop_sandbox(argv[i], &s, sig < 0 ? SIGTERM : sig, (unsigned)secs * 1000, &e)) {
				rc = cli_report(&e);
				continue;
			}
		} else if (v == V_DEAD) {
			clean_dead(s.id);
		}
		printf("%s\n", argv[i]);   /* Docker: stopping a stopped one succeeds */
	}
	return rc;
}

/* ------------------------------------------------------------------ */
/* rm */

int cmd_rm(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "force", no_argument, 0, 'f' }, { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 },
	};
	bool force = false;
	opterr = 0;
	optind = 1;
	int c;
	while ((c = getopt_long(argc, argv, "+fh", opts, NULL)) != -1) {
		switch (c) {
		case 'f': force = true; break;
		case 'h':
			printf("usage: sandbox rm [-f] ID|NAME...\n");
			return 0;
		default:
			return cli_fail("rm: unknown or incomplete option '%s'", argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return cli_fail("usage: sandbox rm [-f] ID|NAME...");
	int rc = 0;
	for (int i = optind; i < argc; i++) {
		const char *ref = argv[i];
		struct sandbox_state s;
		enum view v;
		struct err e;
		if (find_started(ref, &s, &v, &e)) {
			rc = cli_report(&e);
			continue;
		}
		if (v == V_RUNNING || v == V_CREATED) {
			if (!force) {
				rc = cli_fail("%s is running: stop it first, or rm -f", ref);
				continue;
			}
			/* The owner must be gone before the state goes, or its
			 * last write would bring the directory back. */
			if (stop_sandbox(ref, &s, v == V_RUNNING ? SIGKILL : 0, 10000, &e)) {
				if (owner_trusted(&s))
					kill(s.pid, SIGKILL);
				if (!wait_owner(&s, 3000)) {
					rc = cli_report(&e);
					continue;
				}
			}
		}
		int lock = state_lock(&e);
		struct sandbox_state now;
		if (!state_read(s.id, &now, &e)) {
			if (view_of(&now) == V_DEAD) {
				state_unlock(lock);
				clean_dead(s.id);
				lock = -1;
			} else if (state_remove(s.id) && errno != ENOENT) {
				rc = cli_fail("rm %s: %s", ref, strerror(errno));
				state_unlock(lock);
				continue;
			}
		}
		state_unlock(lock);
		events_emit("remove", &s, NULL);
		printf("%s\n", ref);
	}
	return rc;
}

/* ------------------------------------------------------------------ */
/* inspect */

int cmd_inspect(int argc, char **argv)
{
	if (argc >= 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		printf("usage: sandbox inspect ID|NAME...   (a JSON array, one object each)\n");
		return 0;
	}
	if (argc < 2)
		return cli_fail("usage: sandbox inspect ID|NAME...");
	struct err e;
	struct sandbox_state *st = calloc((size_t)argc, sizeof(*st));
	if (!st) {
		err_oom(&e, "inspect");
		return cli_report(&e);
	}
	int n = 0;
	for (int i = 1; i < argc; i++) {
		if (state_find(argv[i], &st[n], &e)) {
			free(st);
			return cli_report(&e);
		}
		n++;
	}
	printf("[\n");
	for (int i = 0; i < n; i++) {
		json_state(stdout, &st[i], view_of(&st[i]), "  ");
		printf("%s\n", i + 1 < n ? "," : "");
	}
	printf("]\n");
	free(st);
	return 0;
}

/* ------------------------------------------------------------------ */
/* for exec */

int lifecycle_find_running(const char *ref, struct sandbox_state *s, struct err *e)
{
	if (state_find(ref, s, e))
		return -1;
	enum view v = view_of(s);
	for (int i = 0; i < 250 && v == V_CREATED; i++) {   /* starting: wait (5 s) */
		sleep_ms(20);
		if (state_read(s->id, s, e))
			return -1;
		v = view_of(s);
	}
	if (v != V_RUNNING || !vmm_running(s))
		return err_set(e, "%s is not running", ref);
	if (!strcmp(s->status, "paused"))
		return err_set(e, "%s is paused (sandbox resume %s)", ref, ref);
	if (!vmm_trusted(s))
		return err_set(e, "%s: pid %d is not this sandbox's VMM (its state is wrong)", ref, (int)s->vmm_pid);
	return 0;
}

/* ------------------------------------------------------------------ */
/* prune */

int cmd_prune(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "until", required_argument, 0, 'u' }, { "force", no_argument, 0, 'f' },
		{ "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 },
	};
	long long until = 0;
	opterr = 0;
	optind = 1;
	int c;
	while ((c = getopt_long(argc, argv, "+fh", opts, NULL)) != -1) {
		switch (c) {
		case 'u': {
			char *end;
			double d = strtod(optarg, &end);
			double mul = !*end ? 1 : !strcmp(end, "s") ? 1 : !strcmp(end, "m") ? 60 : !strcmp(end, "h") ? 3600 :
				     !strcmp(end, "d") ? 86400 : 0;
			if (end == optarg || !mul || !(d >= 0) || d * mul > 1e10)
				return cli_fail("prune --until: '%s' is not a duration (30s, 10m, 2h, 7d)", optarg);
			until = (long long)(d * mul);
			break;
		}
		case 'f': break;        /* Docker's: nothing is asked here anyway */
		case 'h':
			printf("usage: sandbox prune [--until DURATION]   remove ended sandboxes (that ended\n"
			       "                                          at least DURATION ago)\n");
			return 0;
		default: return cli_fail("prune: unknown or incomplete option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cli_fail("prune: unexpected argument '%s'", argv[optind]);
	struct err e;
	size_t n;
	char **ids = state_list(&n, &e);
	if (!ids)
		return cli_report(&e);
	long long now = (long long)time(NULL);
	int removed = 0;
	for (size_t i = 0; i < n; i++) {
		struct sandbox_state s;
		if (state_read(ids[i], &s, &e))
			continue;
		enum view v = view_of(&s);
		if (v != V_EXITED && v != V_DEAD)
			continue;
		/* When it ended: its state's last write (the exit). */
		char path[700];
		struct stat st;
		state_path(path, sizeof(path), s.id, "state");
		if (until && (stat(path, &st) || now - (long long)st.st_mtime < until))
			continue;
		if (v == V_DEAD) {
			if (!clean_dead(s.id))
				continue;
		} else {
			int lock = state_lock(&e);
			struct sandbox_state now_s;
			bool still = !state_read(s.id, &now_s, &e) && view_of(&now_s) == V_EXITED;
			if (still)
				state_remove(s.id);
			state_unlock(lock);
			if (!still)
				continue;
		}
		events_emit("remove", &s, NULL);
		printf("%s\n", s.id);
		removed++;
	}
	state_free_list(ids, n);
	fprintf(stderr, "removed %d sandbox%s\n", removed, removed == 1 ? "" : "es");
	return 0;
}
