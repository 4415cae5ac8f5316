/* The isolations of `sandbox audit` (audit_iso.h). */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
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

static int run_quiet(char *const *argv, int timeout_s, struct audit_evidence *ev, struct err *e)
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

static int ours_start(struct audit_run *r, struct err *e)
{
	char sb[PATH_MAX + 16], pids[16], mem[16], sto[16], dst[96];
	struct audit_evidence ev;
	sb_path(r, sb, sizeof(sb));
	snprintf(r->name, sizeof(r->name), "audit-%d-%s", (int)getpid(), r->iso->name);
	snprintf(pids, sizeof(pids), "%d", AUDIT_PIDS_LIMIT);
	snprintf(mem, sizeof(mem), "%dm", AUDIT_MEMORY_MIB);
	snprintf(sto, sizeof(sto), "%dm", AUDIT_STORAGE_MIB);
	char *run[] = { sb, "run", "-d", "--name", r->name, "--isolation", (char *)r->iso->name, "--network", "none",
			"--pids-limit", pids, "--memory", mem, "--storage", sto, (char *)r->image, "sleep", "86400", NULL };
	r->started = true;   /* from here, stop removes whatever run left */
	if (r->privileged) {
		inproc_run = r;
		audit_spawn_fn(run_privileged, run, 180, &ev);
		if (ev.timed_out || ev.status != 0)
			return err_set(e, "starting the privileged %s sandbox: status %d%s%s", r->iso->name, ev.status,
				       ev.err[0] ? ": " : "", ev.err);
	} else if (run_quiet(run, 180, &ev, e)) {
		return err_wrap(e, "starting the %s sandbox", r->iso->name);
	}
	snprintf(dst, sizeof(dst), "%s:/sandbox-attacker", r->name);
	/* A sandbox just started by run -d may not be found by name yet: a
	 * few tries, bounded. */
	char *cp[] = { sb, "cp", r->attacker, dst, NULL };
	for (int i = 0;; i++) {
		if (!run_quiet(cp, 120, &ev, e))
			return 0;
		if (i == 20 || strstr(e->msg, "is not running")) {
			/* ended at once: its log says why */
			char *logs[] = { sb, "logs", r->name, NULL };
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

static void ours_stop(struct audit_run *r)
{
	char sb[PATH_MAX + 16];
	struct audit_evidence ev;
	if (!r->started)
		return;
	sb_path(r, sb, sizeof(sb));
	char *rm[] = { sb, "rm", "-f", r->name, NULL };
	audit_spawn(rm, 60, &ev);
	r->started = false;
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

/* ---- OCI runtimes on a bundle of the same image ---------------------------------------- */
static int find_in_path(const char *prog, char *out, size_t n)
{
	const char *path = getenv("PATH");
	if (!path || !*path)
		path = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	while (*path) {
		size_t l = strcspn(path, ":");
		snprintf(out, n, "%.*s/%s", (int)l, path, prog);
		if (l && access(out, X_OK) == 0)
			return 0;
		path += l + (path[l] == ':');
	}
	return -1;
}

static int oci_available(struct audit_run *r, struct err *e)
{
	char tool[PATH_MAX];
	if (find_in_path(r->iso->name, r->runtime, sizeof(r->runtime)))
		return err_set(e, "%s is not installed (apt-get install %s)", r->iso->name, r->iso->name);
	if (geteuid() != 0)
		return err_set(e, "needs root (a rootful bundle of the image)");
	if (find_in_path("fsck.erofs", tool, sizeof(tool)))
		return err_set(e, "fsck.erofs (erofs-utils) is needed to unpack the image into a bundle");
	return 0;
}

/* Docker's default capabilities (ours too), as an OCI list. */
#define DOCKER_CAPS                                                                                            \
	"\"CAP_CHOWN\",\"CAP_DAC_OVERRIDE\",\"CAP_FSETID\",\"CAP_FOWNER\",\"CAP_MKNOD\",\"CAP_NET_RAW\","      \
	"\"CAP_SETGID\",\"CAP_SETUID\",\"CAP_SETFCAP\",\"CAP_SETPCAP\",\"CAP_NET_BIND_SERVICE\","           \
	"\"CAP_SYS_CHROOT\",\"CAP_KILL\",\"CAP_AUDIT_WRITE\""

/* The bundle's config: what `runc spec` writes, with Docker's default
 * capabilities, a writable root, the audit's limits and ARGV. No seccomp
 * profile: runc and crun apply none unless the config carries one. */
static int write_config(const struct audit_run *r, char *const *argv, struct err *e)
{
	char path[PATH_MAX + 16];
	snprintf(path, sizeof(path), "%s/config.json", r->bundle);
	FILE *f = fopen(path, "w");
	if (!f)
		return err_sys(e, "%s", path);
	fprintf(f, "{\"ociVersion\":\"1.0.2\",\"process\":{\"terminal\":false,\"user\":{\"uid\":0,\"gid\":0},"
		   "\"args\":[\"/sandbox-attacker\"");
	for (size_t i = 0; argv[i]; i++)
		fprintf(f, ",\"%s\"", argv[i]);   /* catalogue words and numbers: nothing to escape */
	fprintf(f, "],\"env\":[\"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\"],\"cwd\":\"/\","
		   "\"capabilities\":{\"bounding\":[" DOCKER_CAPS "],\"effective\":[" DOCKER_CAPS "],\"permitted\":["
		   DOCKER_CAPS "]},"
		   "\"noNewPrivileges\":true},\"root\":{\"path\":\"rootfs\",\"readonly\":false},\"hostname\":\"audit\","
		   "\"mounts\":["
		   "{\"destination\":\"/proc\",\"type\":\"proc\",\"source\":\"proc\"},"
		   "{\"destination\":\"/dev\",\"type\":\"tmpfs\",\"source\":\"tmpfs\",\"options\":[\"nosuid\",\"strictatime\",\"mode=755\",\"size=65536k\"]},"
		   "{\"destination\":\"/dev/pts\",\"type\":\"devpts\",\"source\":\"devpts\",\"options\":[\"nosuid\",\"noexec\",\"newinstance\",\"ptmxmode=0666\",\"mode=0620\",\"gid=5\"]},"
		   "{\"destination\":\"/dev/shm\",\"type\":\"tmpfs\",\"source\":\"shm\",\"options\":[\"nosuid\",\"noexec\",\"nodev\",\"mode=1777\",\"size=65536k\"]},"
		   "{\"destination\":\"/dev/mqueue\",\"type\":\"mqueue\",\"source\":\"mqueue\",\"options\":[\"nosuid\",\"noexec\",\"nodev\"]},"
		   "{\"destination\":\"/sys\",\"type\":\"sysfs\",\"source\":\"sysfs\",\"options\":[\"nosuid\",\"noexec\",\"nodev\",\"ro\"]},"
		   "{\"destination\":\"/sys/fs/cgroup\",\"type\":\"cgroup\",\"source\":\"cgroup\",\"options\":[\"nosuid\",\"noexec\",\"nodev\",\"relatime\",\"ro\"]}],"
		   "\"linux\":{\"resources\":{\"devices\":[{\"allow\":false,\"access\":\"rwm\"}],"
		   "\"memory\":{\"limit\":%d},\"pids\":{\"limit\":%d}},"
		   "\"namespaces\":[{\"type\":\"pid\"},{\"type\":\"network\"},{\"type\":\"ipc\"},{\"type\":\"uts\"},{\"type\":\"mount\"},{\"type\":\"cgroup\"}],"
		   "\"maskedPaths\":[\"/proc/acpi\",\"/proc/asound\",\"/proc/kcore\",\"/proc/keys\",\"/proc/latency_stats\",\"/proc/timer_list\","
		   "\"/proc/timer_stats\",\"/proc/sched_debug\",\"/sys/firmware\",\"/proc/scsi\"],"
		   "\"readonlyPaths\":[\"/proc/bus\",\"/proc/fs\",\"/proc/irq\",\"/proc/sys\",\"/proc/sysrq-trigger\"]}}\n",
		AUDIT_MEMORY_MIB << 20, AUDIT_PIDS_LIMIT);
	if (fclose(f))
		return err_sys(e, "%s", path);
	return 0;
}

static int oci_start(struct audit_run *r, struct err *e)
{
	struct audit_evidence ev;
	const char *tmp = getenv("TMPDIR");
	snprintf(r->bundle, sizeof(r->bundle), "%s/sandbox-audit-%s.XXXXXX", tmp && *tmp ? tmp : "/tmp", r->iso->name);
	if (!mkdtemp(r->bundle))
		return err_sys(e, "mkdtemp %s", r->bundle);
	r->started = true;
	char ex[PATH_MAX + 32], dst[PATH_MAX + 32];
	snprintf(ex, sizeof(ex), "--extract=%s/rootfs", r->bundle);
	char *fsck[] = { "fsck.erofs", ex, r->disk, NULL };
	if (run_quiet(fsck, 120, &ev, e))
		return err_wrap(e, "unpacking the image into a bundle");
	snprintf(dst, sizeof(dst), "%s/rootfs/sandbox-attacker", r->bundle);
	char *cp[] = { "cp", r->attacker, dst, NULL };
	if (run_quiet(cp, 30, &ev, e))
		return err_wrap(e, "copying the attacker in");
	snprintf(r->name, sizeof(r->name), "sandbox-audit-%d-%s", (int)getpid(), r->iso->name);
	return 0;
}

static void oci_attack(struct audit_run *r, char *const *argv, int timeout_s, struct audit_evidence *ev)
{
	struct err e = { 0 };
	char id[96];
	snprintf(id, sizeof(id), "%s-%d", r->name, r->seq++);
	if (write_config(r, argv, &e)) {
		memset(ev, 0, sizeof(*ev));
		ev->status = -1;
		snprintf(ev->err, sizeof(ev->err), "%s", e.msg);
		return;
	}
	if (!strcmp(r->iso->name, "runsc")) {
		char *a[] = { r->runtime, "--network=none", "run", "--bundle", r->bundle, id, NULL };
		audit_spawn(a, timeout_s, ev);
	} else {
		char *a[] = { r->runtime, "run", "--bundle", r->bundle, id, NULL };
		audit_spawn(a, timeout_s, ev);
	}
	struct audit_evidence del;
	char *d[] = { r->runtime, "delete", "-f", id, NULL };
	audit_spawn(d, 30, &del);
}

static int rm_entry(const char *p, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st, (void)flag, (void)ftw;
	remove(p);
	return 0;
}

static void oci_stop(struct audit_run *r)
{
	if (r->started && r->bundle[0])
		nftw(r->bundle, rm_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
	r->started = false;
}

static void oci_files(const struct audit_run *r, char files[][PATH_MAX], size_t *n)
{
	*n = 0;
	snprintf(files[(*n)++], PATH_MAX, "%s", r->runtime);
	snprintf(files[(*n)++], PATH_MAX, "%s", r->attacker);
}

static void oci_detail(const struct audit_run *r, char *buf, size_t n)
{
	struct audit_evidence ev;
	char *a[] = { (char *)r->runtime, "--version", NULL };
	audit_spawn(a, 20, &ev);
	char *nl = strchr(ev.out, '\n');
	if (nl)
		*nl = '\0';
	snprintf(buf, n, "%.120s; a bundle of the same image: Docker's capabilities, no seccomp profile, pids %d, memory %dm",
		 ev.out[0] ? ev.out : r->iso->name, AUDIT_PIDS_LIMIT, AUDIT_MEMORY_MIB);
}

/* ---- the table ------------------------------------------------------------------------ */
static const struct audit_iso isos[] = {
	{ "vm", true, ours_available, ours_start, ours_attack, ours_stop, ours_files, ours_detail },
	{ "container", false, ours_available, ours_start, ours_attack, ours_stop, ours_files, ours_detail },
	{ "runc", false, oci_available, oci_start, oci_attack, oci_stop, oci_files, oci_detail },
	{ "crun", false, oci_available, oci_start, oci_attack, oci_stop, oci_files, oci_detail },
	{ "runsc", true, oci_available, oci_start, oci_attack, oci_stop, oci_files, oci_detail },
};
const char *const audit_iso_names[] = { "vm", "container", "runc", "crun", "runsc", NULL };

const struct audit_iso *audit_iso_find(const char *name)
{
	for (size_t i = 0; i < sizeof(isos) / sizeof(isos[0]); i++)
		if (!strcmp(isos[i].name, name))
			return &isos[i];
	return NULL;
}
