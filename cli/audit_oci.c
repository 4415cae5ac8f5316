/* `sandbox audit`'s OCI runtimes (audit_iso.h): runc, crun and runsc on a
 * bundle of the same image, one container per attack, and a second
 * bundle for the neighbour. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "audit_iso.h"

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
static int write_config(const char *bundle, char *const *argv, struct err *e)
{
	char path[PATH_MAX + 16];
	snprintf(path, sizeof(path), "%s/config.json", bundle);
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

/* crun refuses a host whose cgroup v1 hierarchies sit beside a cgroup2
 * mount that holds a controller ("cgroups in hybrid mode not supported":
 * this host's /sys/fs/cgroup/unified has hugetlb). It runs when that
 * mount is not in its view: each crun command runs in a mount namespace
 * of its own without it (the host's mounts are untouched), on cgroup v1
 * alone, which enforces the bundle's limits as runc's do. */
#define CGROUP2_HYBRID "/sys/fs/cgroup/unified"
static bool hide_cgroup2(const struct audit_run *r)
{
	struct stat a, b;
	return !strcmp(r->iso->name, "crun") && !stat(CGROUP2_HYBRID, &a) && !stat("/sys/fs/cgroup", &b) &&
	       a.st_dev != b.st_dev;
}

/* The runtime's command in a child: its stdout and stderr to a log file
 * (a detached container keeps them: never our pipes), and without the
 * hybrid cgroup2 mount for crun. Set just before audit_spawn_fn. */
static struct {
	bool hide_cgroup2, detach;
	const char *log;
} rt;
static int runtime_exec(int argc, char **argv)
{
	(void)argc;
	if (rt.log) {
		int fd = open(rt.log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
			return 127;
	}
	if (rt.hide_cgroup2 && (unshare(CLONE_NEWNS) || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
				umount2(CGROUP2_HYBRID, MNT_DETACH))) {
		fprintf(stderr, "hiding %s from %s: %s\n", CGROUP2_HYBRID, argv[0], strerror(errno));
		return 127;
	}
	/* A detached container must outlive the process group audit_spawn
	 * kills at the end (runsc's sandbox stays in its starter's group): the
	 * runtime runs in a session of its own, waited for here. */
	pid_t pid = rt.detach ? fork() : 0;
	if (pid == 0) {
		if (rt.detach)
			setsid();
		execvp(argv[0], argv);
		fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	int st = 0;
	if (pid < 0 || waitpid(pid, &st, 0) < 0)
		return 127;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void oci_spawn(const struct audit_run *r, char *const *argv, int timeout_s, const char *log,
		      struct audit_evidence *ev)
{
	rt.hide_cgroup2 = hide_cgroup2(r);
	rt.log = log;
	rt.detach = log != NULL;   /* only a detached start keeps a log */
	audit_spawn_fn(runtime_exec, argv, timeout_s, ev);
}

static void oci_run(const struct audit_run *r, char *const *argv, int timeout_s, struct audit_evidence *ev)
{
	oci_spawn(r, argv, timeout_s, NULL, ev);
}

/* The image's disk unpacked into DIR/rootfs, the attacker in it. */
static int make_bundle(struct audit_run *r, char *dir, size_t n, const char *what, struct err *e)
{
	struct audit_evidence ev;
	const char *tmp = getenv("TMPDIR");
	snprintf(dir, n, "%s/sandbox-audit-%s%s.XXXXXX", tmp && *tmp ? tmp : "/tmp", r->iso->name, what);
	if (!mkdtemp(dir))
		return err_sys(e, "mkdtemp %s", dir);
	char ex[PATH_MAX + 32], dst[PATH_MAX + 32];
	snprintf(ex, sizeof(ex), "--extract=%s/rootfs", dir);
	char *fsck[] = { "fsck.erofs", ex, r->disk, NULL };
	if (audit_run_quiet(fsck, 120, &ev, e))
		return err_wrap(e, "unpacking the image into a bundle");
	snprintf(dst, sizeof(dst), "%s/rootfs/sandbox-attacker", dir);
	char *cp[] = { "cp", r->attacker, dst, NULL };
	if (audit_run_quiet(cp, 30, &ev, e))
		return err_wrap(e, "copying the attacker in");
	return 0;
}

static int oci_start(struct audit_run *r, struct err *e)
{
	r->started = true;
	if (make_bundle(r, r->bundle, sizeof(r->bundle), "", e))
		return -1;
	snprintf(r->name, sizeof(r->name), "sandbox-audit-%d-%s", (int)getpid(), r->iso->name);
	return 0;
}

static void oci_attack(struct audit_run *r, char *const *argv, int timeout_s, struct audit_evidence *ev)
{
	struct err e = { 0 };
	char id[96];
	snprintf(id, sizeof(id), "%s-%d", r->name, r->seq++);
	if (write_config(r->bundle, argv, &e)) {
		memset(ev, 0, sizeof(*ev));
		ev->status = -1;
		snprintf(ev->err, sizeof(ev->err), "%s", e.msg);
		return;
	}
	if (!strcmp(r->iso->name, "runsc")) {
		char *a[] = { r->runtime, "--network=none", "run", "--bundle", r->bundle, id, NULL };
		oci_spawn(r, a, timeout_s, NULL, ev);
	} else {
		char *a[] = { r->runtime, "run", "--bundle", r->bundle, id, NULL };
		oci_spawn(r, a, timeout_s, NULL, ev);
	}
	struct audit_evidence del;
	char *d[] = { r->runtime, "delete", "--force", id, NULL };
	oci_spawn(r, d, 30, NULL, &del);
}

/* The neighbour: a second bundle of the image (a root of its own), its
 * holder run detached. */
static int oci_nbr_start(struct audit_run *r, const char *secret, struct err *e)
{
	char rev[96], log[PATH_MAX + 16];
	struct audit_evidence ev;
	audit_reverse(secret, rev, sizeof(rev));
	r->nbr_started = true;
	snprintf(r->nbr_name, sizeof(r->nbr_name), "%s-nbr", r->name);
	if (make_bundle(r, r->nbr_bundle, sizeof(r->nbr_bundle), "-nbr", e))
		return -1;
	snprintf(r->nbr_dir, sizeof(r->nbr_dir), "%s", r->nbr_bundle);
	char *hold[] = { "hold", rev, NULL };
	if (write_config(r->nbr_bundle, hold, e))
		return -1;
	snprintf(log, sizeof(log), "%s/run.log", r->nbr_bundle);
	if (!strcmp(r->iso->name, "runsc")) {
		char *a[] = { r->runtime, "--network=none", "run", "--detach", "--bundle", r->nbr_bundle, r->nbr_name, NULL };
		oci_spawn(r, a, 120, log, &ev);
	} else {
		char *a[] = { r->runtime, "run", "--detach", "--bundle", r->nbr_bundle, r->nbr_name, NULL };
		oci_spawn(r, a, 120, log, &ev);
	}
	if (ev.status != 0 || ev.timed_out) {
		char first[200] = "";
		FILE *f = fopen(log, "r");
		if (f && fgets(first, sizeof(first), f))
			first[strcspn(first, "\n")] = '\0';
		if (f)
			fclose(f);
		return err_set(e, "starting the neighbour: %s run --detach: status %d%s%s", r->iso->name, ev.status,
			       first[0] ? ": " : "", first);
	}
	snprintf(r->nbr_detail, sizeof(r->nbr_detail), "a second bundle of the image, run --detach");
	char *held[8] = { r->runtime, "exec", r->nbr_name, "/sandbox-attacker" };
	if (audit_nbr_held(r, oci_run, held, 4, rev, e))
		return -1;
	r->nbr_pid = audit_secret_pid(secret);
	if (!r->nbr_pid) {   /* gVisor: the holder lives in the Sentry; its sandbox's pid */
		char *st[] = { r->runtime, "state", r->nbr_name, NULL };
		oci_spawn(r, st, 30, NULL, &ev);
		const char *p = strstr(ev.out, "\"pid\":");
		if (p)
			r->nbr_pid = (pid_t)atoi(p + 6 + strspn(p + 6, " "));
	}
	return 0;
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

static void oci_nbr_stop(struct audit_run *r)
{
	struct audit_evidence ev;
	if (!r->nbr_started)
		return;
	char *d[] = { r->runtime, "delete", "--force", r->nbr_name, NULL };
	oci_spawn(r, d, 30, NULL, &ev);
	if (r->nbr_bundle[0])
		nftw(r->nbr_bundle, rm_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
	r->nbr_started = false;
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
	snprintf(buf, n, "%.100s; a bundle of the same image: Docker's capabilities, no seccomp profile, pids %d, memory %dm%s",
		 ev.out[0] ? ev.out : r->iso->name, AUDIT_PIDS_LIMIT, AUDIT_MEMORY_MIB,
		 hide_cgroup2(r) ? "; on cgroup v1 alone (the hybrid cgroup2 mount hidden from it)" : "");
}

const struct audit_iso audit_oci_isos[] = {
	{ "runc", false, oci_available, oci_start, oci_attack, oci_stop, oci_files, oci_detail, oci_nbr_start, oci_nbr_stop },
	{ "crun", false, oci_available, oci_start, oci_attack, oci_stop, oci_files, oci_detail, oci_nbr_start, oci_nbr_stop },
	{ "runsc", true, oci_available, oci_start, oci_attack, oci_stop, oci_files, oci_detail, oci_nbr_start, oci_nbr_stop },
};
const size_t audit_oci_nisos = sizeof(audit_oci_isos) / sizeof(audit_oci_isos[0]);
