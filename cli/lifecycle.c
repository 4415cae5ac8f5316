/* `sandbox kill | stop | rm | prune`: signalling and ending the sandboxes
 * `sandbox run` recorded in the state directory (state.h), and removing
 * what is left of them; what a recorded sandbox is now, and whether its
 * pids may be signalled: lifecycle_status.c; ps and inspect: ps.c.
 *
 * Signals: --isolation vm: sigqueue(vmm_pid, SIG_FORWARD, SIG), which the
 * VMM hands to the guest agent, which signals the container (even KILL
 * reaches the container, not the VMM). --isolation container: kill(vmm_pid,
 * SIG) to the host-mode runtime (guest-init --host), which forwards TERM,
 * INT, HUP, QUIT, USR1, USR2 and WINCH; KILL ends it, and the container
 * with it (PDEATHSIG).
 *
 * The state is data: a pid from it is signalled only once it is checked to
 * be what the owner recorded (lifecycle_status.c). */
#include "lifecycle_impl.h"
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "events.h"
#include "vm.h"

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

/* ------------------------------------------------------------------ */
/* signals */

/* "TERM", "SIGTERM", "sigterm", "15": the number, or -1. Signals 1-31 (the
 * agent's forwarding carries those). */
static int parse_signal(const char *s)
{
	int sig = state_signal(s);
	return sig > 31 ? -1 : sig;
}

/* Signal the container of S (running). */
static int send_signal(const struct sandbox_state *s, int sig, struct err *e)
{
	if (!lc_vmm_running(s))
		return err_set(e, "%s: its VMM (pid %d) is not running", s->name, (int)s->vmm_pid);
	if (!lc_vmm_trusted(s))
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
	if (errno == EPERM && lc_owner_trusted(s) && sigqueue(s->pid, SIG_FORWARD, val) == 0)
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
	if (lc_find_started(ref, &s, &v, &e))
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
		if (!lc_owner_running(s))
			return true;
		if (t >= ms)
			return false;
		lc_sleep_ms(50);
	}
}

/* The owner is gone. It exits as soon as the container's status is in,
 * while its VMM may still be closing the VM in the kernel (tens of ms):
 * stop and rm -f return once that is over too (bounded). */
static int vmm_gone(const struct sandbox_state *s)
{
	for (unsigned t = 0; lc_vmm_trusted(s); t += 20) {
		if (t == 5000)
			kill(s->vmm_pid, SIGKILL);
		if (t >= 10000)
			break;
		lc_sleep_ms(20);
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
	if (sig > 0 && lc_vmm_running(s))
		send_signal(s, sig, &ignored);
	if (wait_owner(s, wait_ms))
		return vmm_gone(s);
	if (lc_vmm_running(s))
		send_signal(s, SIGKILL, &ignored);
	if (wait_owner(s, 5000))
		return vmm_gone(s);
	if (lc_vmm_trusted(s))
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
		if (lc_find_started(argv[i], &s, &v, &e)) {
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
			lc_clean_dead(s.id);
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
		if (lc_find_started(ref, &s, &v, &e)) {
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
				if (lc_owner_trusted(&s))
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
			if (lc_view_of(&now) == V_DEAD) {
				state_unlock(lock);
				lc_clean_dead(s.id);
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
		enum view v = lc_view_of(&s);
		if (v != V_EXITED && v != V_DEAD)
			continue;
		/* When it ended: its state's last write (the exit). */
		char path[700];
		struct stat st;
		state_path(path, sizeof(path), s.id, "state");
		if (until && (stat(path, &st) || now - (long long)st.st_mtime < until))
			continue;
		if (v == V_DEAD) {
			if (!lc_clean_dead(s.id))
				continue;
		} else {
			int lock = state_lock(&e);
			struct sandbox_state now_s;
			bool still = !state_read(s.id, &now_s, &e) && lc_view_of(&now_s) == V_EXITED;
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
