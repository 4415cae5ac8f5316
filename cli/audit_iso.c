/* The isolations of `sandbox audit` (audit_iso.h): running a program,
 * and ours (vm, container); the OCI runtimes are audit_oci.c. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "audit_iso.h"
#include "run.h"
#include "state.h"
#include "util.h"

/* ---- running a program ------------------------------------------------------------- */
static void spawn(int (*fn)(int, char **), char *const *argv, int timeout_s, struct audit_evidence *ev)
{
	int po[2], pe[2];
	char errbuf[512];
	size_t no = 0, ne = 0;
	memset(ev, 0, sizeof(*ev));
	ev->status = -1;
	if (pipe2(po, O_CLOEXEC) || pipe2(pe, O_CLOEXEC)) {
		snprintf(ev->err, sizeof(ev->err), "pipe: %s", strerror(errno));
		return;
	}
	pid_t pid = fork();
	if (pid < 0) {
		snprintf(ev->err, sizeof(ev->err), "fork: %s", strerror(errno));
		close(po[0]), close(po[1]), close(pe[0]), close(pe[1]);
		return;
	}
	if (pid == 0) {
		setpgid(0, 0);
		int nul = open("/dev/null", O_RDONLY);
		if (nul < 0 || dup2(nul, 0) < 0 || dup2(po[1], 1) < 0 || dup2(pe[1], 2) < 0)
			_exit(127);
		if (fn) {   /* no exec to close them: the pipes' own ends go now
			     * (a daemon FN forks would keep them, and us waiting) */
			close(po[0]), close(po[1]), close(pe[0]), close(pe[1]), close(nul);
			int argc = 0;
			while (argv[argc])
				argc++;
			fflush(NULL);
			_exit(fn(argc, (char **)argv));
		}
		execvp(argv[0], argv);
		fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	setpgid(pid, pid);
	close(po[1]);
	close(pe[1]);
	struct pollfd p[2] = { { .fd = po[0], .events = POLLIN }, { .fd = pe[0], .events = POLLIN } };
	uint64_t deadline = now_ns() + (uint64_t)timeout_s * 1000000000ULL;
	int open_fds = 2;
	while (open_fds) {
		uint64_t now = now_ns();
		if (now >= deadline) {
			ev->timed_out = true;
			kill(-pid, SIGKILL);
			break;
		}
		int r = poll(p, 2, (int)((deadline - now) / 1000000) + 1);
		if (r < 0 && errno == EINTR)
			continue;
		for (int i = 0; i < 2 && r > 0; i++) {
			if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
				continue;
			char tmp[4096];
			ssize_t n = read(p[i].fd, tmp, sizeof(tmp));
			if (n <= 0) {
				close(p[i].fd);
				p[i].fd = -1;
				open_fds--;
				continue;
			}
			char *dst = i ? errbuf : ev->out;
			size_t *len = i ? &ne : &no, cap = i ? sizeof(errbuf) : sizeof(ev->out);
			size_t k = (size_t)n < cap - 1 - *len ? (size_t)n : cap - 1 - *len;
			memcpy(dst + *len, tmp, k);
			*len += k;
		}
	}
	for (int i = 0; i < 2; i++)
		if (p[i].fd >= 0)
			close(p[i].fd);
	ev->out[no] = '\0';
	errbuf[ne] = '\0';
	size_t l = strcspn(errbuf, "\n");
	snprintf(ev->err, sizeof(ev->err), "%.*s", (int)l, errbuf);
	int st = 0;
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	ev->status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	/* nothing of its group left behind (a timed-out runtime's children) */
	kill(-pid, SIGKILL);
}

void audit_spawn(char *const *argv, int timeout_s, struct audit_evidence *ev)
{
	spawn(NULL, argv, timeout_s, ev);
}

void audit_spawn_fn(int (*fn)(int, char **), char *const *argv, int timeout_s, struct audit_evidence *ev)
{
	spawn(fn, argv, timeout_s, ev);
}

int audit_run_quiet(char *const *argv, int timeout_s, struct audit_evidence *ev, struct err *e)
{
	audit_spawn(argv, timeout_s, ev);
	if (ev->timed_out)
		return err_set(e, "%s %s: timed out after %d s", argv[0], argv[1] ? argv[1] : "", timeout_s);
	if (ev->status != 0)
		return err_set(e, "%s %s: status %d%s%s", argv[0], argv[1] ? argv[1] : "", ev->status,
			       ev->err[0] ? ": " : "", ev->err);
	return 0;
}

/* ---- ours: sandbox run -d, cp, exec ------------------------------------------------- */
static void sb_path(const struct audit_run *r, char *buf, size_t n)
{
	snprintf(buf, n, "%s/sandbox", r->self);
}

static int ours_available(struct audit_run *r, struct err *e)
{
	char sb[PATH_MAX + 16];
	struct audit_evidence ev;
	sb_path(r, sb, sizeof(sb));
	if (!strcmp(r->iso->name, "vm")) {
		char *argv[] = { sb, "kvm-check", NULL };
		audit_spawn(argv, 30, &ev);
		if (ev.status != 0) {
			char *nl = strchr(ev.out, '\n');
			if (nl)
				*nl = '\0';
			return err_set(e, "this host's KVM cannot boot a Linux guest (sandbox kvm-check: %s)",
				       ev.out[0] ? ev.out : ev.err);
		}
	}
	return 0;
}

/* `sandbox run` in a child of this process with the audit's privileged
 * spec flag set (never reachable from a command line); ARGV from "run". */
static struct audit_run *inproc_run;
static int run_privileged(int argc, char **argv)
{
	for (int i = 0; i < 2; i++)
		if (inproc_run->close_fds[i] >= 0)
			close(inproc_run->close_fds[i]);
	audit_privileged_attacker = true;
	return cmd_run(argc - 1, argv + 1, now_ns());
}

/* `sandbox run -d` of NAME (NETWORK), then the attacker copied in. */
static int ours_boot(struct audit_run *r, const char *name, const char *network, bool privileged, struct err *e)
{
	char sb[PATH_MAX + 16], pids[16], mem[16], sto[16], dst[128];
	struct audit_evidence ev;
	sb_path(r, sb, sizeof(sb));
	snprintf(pids, sizeof(pids), "%d", AUDIT_PIDS_LIMIT);
	snprintf(mem, sizeof(mem), "%dm", AUDIT_MEMORY_MIB);
	snprintf(sto, sizeof(sto), "%dm", AUDIT_STORAGE_MIB);
	char *run[] = { sb, "run", "-d", "--name", (char *)name, "--isolation", (char *)r->iso->name, "--network",
			(char *)network, "--pids-limit", pids, "--memory", mem, "--storage", sto, (char *)r->image, "sleep",
			"86400", NULL };
	if (privileged) {
		inproc_run = r;
		audit_spawn_fn(run_privileged, run, 180, &ev);
		if (ev.timed_out || ev.status != 0)
			return err_set(e, "starting the privileged %s sandbox: status %d%s%s", r->iso->name, ev.status,
				       ev.err[0] ? ": " : "", ev.err);
	} else if (audit_run_quiet(run, 180, &ev, e)) {
		return err_wrap(e, "starting the %s sandbox", r->iso->name);
	}
	snprintf(dst, sizeof(dst), "%s:/sandbox-attacker", name);
	/* A sandbox just started by run -d may not be found by name yet: a
	 * few tries, bounded. */
	char *cp[] = { sb, "cp", r->attacker, dst, NULL };
	for (int i = 0;; i++) {
		if (!audit_run_quiet(cp, 120, &ev, e))
			return 0;
		if (i == 20 || strstr(e->msg, "is not running")) {
			/* ended at once: its log says why */
			char *logs[] = { sb, "logs", (char *)name, NULL };
			struct audit_evidence lg;
			audit_spawn(logs, 30, &lg);
			char *last = strrchr(lg.out, '\n');
			while (last && last > lg.out && last[1] == '\0') {
				*last = '\0';
				last = strrchr(lg.out, '\n');
			}
			if (lg.out[0])
				err_wrap(e, "%.200s", last ? last + 1 : lg.out);
			return err_wrap(e, "copying the attacker in");
		}
		usleep(250 * 1000);
	}
}

static int ours_start(struct audit_run *r, struct err *e)
{
	snprintf(r->name, sizeof(r->name), "audit-%d-%s", (int)getpid(), r->iso->name);
	r->started = true;   /* from here, stop removes whatever run left */
	return ours_boot(r, r->name, "none", r->privileged, e);
}

static void ours_attack(struct audit_run *r, char *const *argv, int timeout_s, struct audit_evidence *ev)
{
	char sb[PATH_MAX + 16];
	char *a[4 + AUDIT_MAX_ARGS + 1] = { sb, "exec", r->name, "/sandbox-attacker" };
	size_t k = 4;
	sb_path(r, sb, sizeof(sb));
	for (size_t i = 0; argv[i] && k < sizeof(a) / sizeof(a[0]) - 1; i++)
		a[k++] = argv[i];
	a[k] = NULL;
	audit_spawn(a, timeout_s, ev);
}

static void ours_rm(struct audit_run *r, const char *name)
{
	char sb[PATH_MAX + 16];
	struct audit_evidence ev;
	sb_path(r, sb, sizeof(sb));
	char *rm[] = { sb, "rm", "-f", (char *)name, NULL };
	audit_spawn(rm, 60, &ev);
}

static void ours_stop(struct audit_run *r)
{
	if (!r->started)
		return;
	ours_rm(r, r->name);
	r->started = false;
}

/* The neighbour holds the secret once `sandbox-attacker held` says so in
 * it (EXEC: the command that runs in the neighbour, up to index K; RUN
 * runs it), polled for up to 15 s. */
int audit_nbr_held(const struct audit_run *r, audit_runner run, char **exec, size_t k, const char *rev, struct err *e)
{
	struct audit_evidence ev;
	exec[k] = "held";
	exec[k + 1] = (char *)rev;
	exec[k + 2] = NULL;
	for (int i = 0; i < 30; i++) {
		run(r, exec, 30, &ev);
		if (audit_ev_has(&ev, "held", "OK"))
			return 0;
		usleep(500 * 1000);
	}
	return err_set(e, "the neighbour does not hold its secret (%.120s%s%.80s)", ev.out[0] ? ev.out : "no answer",
		       ev.err[0] ? ": " : "", ev.err);
}

static void plain_run(const struct audit_run *r, char *const *argv, int timeout_s, struct audit_evidence *ev)
{
	(void)r;
	audit_spawn(argv, timeout_s, ev);
}

/* The neighbour: a second sandbox of the isolation with the holder in
 * it; on a tap network where this host gives one (root), else none. */
static int ours_nbr_start(struct audit_run *r, const char *secret, struct err *e)
{
	char sb[PATH_MAX + 16], rev[96];
	struct audit_evidence ev;
	struct sandbox_state st;
	sb_path(r, sb, sizeof(sb));
	audit_reverse(secret, rev, sizeof(rev));
	snprintf(r->nbr_name, sizeof(r->nbr_name), "%s-nbr", r->name);
	r->nbr_started = true;
	/* container isolation has no network but none */
	const char *net = geteuid() == 0 && r->iso->own_kernel ? "tap" : "none";
	if (ours_boot(r, r->nbr_name, net, false, e)) {
		if (!strcmp(net, "none"))
			return -1;
		ours_rm(r, r->nbr_name);
		net = "none";
		if (ours_boot(r, r->nbr_name, net, false, e))
			return -1;
	}
	snprintf(r->nbr_detail, sizeof(r->nbr_detail), "a second %s sandbox, --network %s", r->iso->name, net);
	char *hold[] = { sb, "exec", "-d", r->nbr_name, "/sandbox-attacker", "hold", rev, NULL };
	if (audit_run_quiet(hold, 60, &ev, e))
		return err_wrap(e, "starting the neighbour's holder");
	char *held[8] = { sb, "exec", r->nbr_name, "/sandbox-attacker" };
	if (audit_nbr_held(r, plain_run, held, 4, rev, e))
		return -1;
	if (!state_find(r->nbr_name, &st, e)) {
		const char *root = state_root(e);
		if (root)
			snprintf(r->nbr_dir, sizeof(r->nbr_dir), "%.*s/%s", PATH_MAX - 32, root, st.id);
		r->nbr_pid = st.vmm_pid;
	}
	pid_t h = audit_secret_pid(secret);
	if (h > 0)
		r->nbr_pid = h;
	return 0;
}

static void ours_nbr_stop(struct audit_run *r)
{
	if (r->nbr_started)
		ours_rm(r, r->nbr_name);
	r->nbr_started = false;
}

static void ours_files(const struct audit_run *r, char files[][PATH_MAX], size_t *n)
{
	static const char *const names[] = { "sandbox", "guest-init", "guest-initramfs.cpio", "guest-vmlinux" };
	*n = 0;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		snprintf(files[*n], PATH_MAX, "%.*s/%s", PATH_MAX - 32, r->self, names[i]);
		if (access(files[*n], R_OK) == 0)
			(*n)++;
	}
	snprintf(files[(*n)++], PATH_MAX, "%s", r->attacker);
}

static void ours_detail(const struct audit_run *r, char *buf, size_t n)
{
	snprintf(buf, n, "%s%s; --network none --pids-limit %d --memory %dm --storage %dm",
		 !strcmp(r->iso->name, "vm") ? "a microVM with its own kernel" : "namespaces on this host's kernel",
		 r->privileged ? "; privileged attacker: every capability, no seccomp" : "", AUDIT_PIDS_LIMIT, AUDIT_MEMORY_MIB, AUDIT_STORAGE_MIB);
}

/* ---- the table ------------------------------------------------------------------------ */
static const struct audit_iso ours[] = {
	{ "vm", true, ours_available, ours_start, ours_attack, ours_stop, ours_files, ours_detail, ours_nbr_start, ours_nbr_stop },
	{ "container", false, ours_available, ours_start, ours_attack, ours_stop, ours_files, ours_detail, ours_nbr_start, ours_nbr_stop },
};
const char *const audit_iso_names[] = { "vm", "container", "runc", "crun", "runsc", NULL };

const struct audit_iso *audit_iso_find(const char *name)
{
	for (size_t i = 0; i < sizeof(ours) / sizeof(ours[0]); i++)
		if (!strcmp(ours[i].name, name))
			return &ours[i];
	for (size_t i = 0; i < audit_oci_nisos; i++)
		if (!strcmp(audit_oci_isos[i].name, name))
			return &audit_oci_isos[i];
	return NULL;
}
