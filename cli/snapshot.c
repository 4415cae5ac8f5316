/* `sandbox snapshot` and `clone` (snapshot.h; pause and resume: pause.c). The
 * machine itself is saved by the VMM (vmm/snapshot/), asked through its
 * control socket (vmm/control.h) with the files to write passed as fds:
 * the jailed VMM opens no path. */
#include "snapshot.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "control.h"
#include "lifecycle.h"
#include "run.h"
#include "state.h"
#include "storage.h"
#include "snapshot/workingset.h"

#define EXIT_ERR 125
#define SNAP_NAME_MAX 63
#define SNAPSHOT_TIMEOUT_S 120

void snapshot_usage(FILE *f)
{
	fprintf(f,
		"  pause ID                  stop a sandbox's vCPUs (memory kept; ps shows paused)\n"
		"  resume ID                 let a paused sandbox run on\n"
		"  snapshot [--leave-running] ID NAME\n"
		"                            save a running sandbox (VM, memory, writable layer) as\n"
		"                            snapshot NAME, then stop it (or let it run on)\n"
		"  snapshot ls | rm NAME...  list or remove snapshots\n"
		"  clone [-n N] [--name PREFIX] NAME\n"
		"                            N sandboxes (default 1) continuing from snapshot NAME,\n"
		"                            detached; also: sandbox run --rm --from NAME CMD...\n");
}

/* ------------------------------------------------------------------ */
/* the snapshot directory */

static char snaproot[512];

static const char *snap_root(struct err *e)
{
	if (snaproot[0])
		return snaproot;
	const char *d = getenv("SANDBOX_SNAPSHOT_DIR");
	char path[sizeof(snaproot)];
	int n;
	if (d && *d)
		n = snprintf(path, sizeof(path), "%s", d);
	else if (geteuid() == 0)
		n = snprintf(path, sizeof(path), "/var/lib/sandbox/snapshots");
	else if ((d = getenv("XDG_DATA_HOME")) && *d)
		n = snprintf(path, sizeof(path), "%s/sandbox/snapshots", d);
	else if ((d = getenv("HOME")) && *d)
		n = snprintf(path, sizeof(path), "%s/.local/share/sandbox/snapshots", d);
	else
		n = -1;
	if (n < 0 || (size_t)n >= sizeof(path)) {
		err_set(e, "no directory for snapshots: set SANDBOX_SNAPSHOT_DIR (or HOME)");
		return NULL;
	}
	if (state_mkdir_p(path, 0700)) {
		err_sys(e, "snapshot directory %s", path);
		return NULL;
	}
	int fd = state_trusted_dir(AT_FDCWD, path, path, "snapshot directory",
				   "remove it (or set SANDBOX_SNAPSHOT_DIR to a directory of your own)", e);
	if (fd < 0)
		return NULL;
	close(fd);
	memcpy(snaproot, path, strlen(path) + 1);
	return snaproot;
}

static int check_name(const char *name, struct err *e)
{
	size_t n = strlen(name);
	bool ok = n > 0 && n <= SNAP_NAME_MAX && isalnum((unsigned char)name[0]);
	for (size_t i = 0; ok && i < n; i++)
		ok = isalnum((unsigned char)name[i]) || name[i] == '_' || name[i] == '-' || name[i] == '.';
	if (!ok)
		return err_set(e, "snapshot name '%s': want letters, digits, '_', '-' or '.' (at most %d, "
			       "starting with a letter or digit)", name, SNAP_NAME_MAX);
	return 0;
}

/* Remove directory DIR and the files in it (no subdirectories). */
static void remove_dir(const char *dir)
{
	DIR *d = opendir(dir);
	if (d) {
		struct dirent *de;
		while ((de = readdir(d)))
			if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
				unlinkat(dirfd(d), de->d_name, 0);
		closedir(d);
	}
	rmdir(dir);
}

/* Open FILE in the snapshot directory DIR: ours, a regular file, 0600. */
static int open_owned(const char *dir, const char *file, struct err *e)
{
	char path[PATH_MAX + 16];
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return err_sys(e, "snapshot file %s", path);
	struct stat st;
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 077)) {
		close(fd);
		return err_set(e, "snapshot file %s is not a private file of this user (uid %u): refused", path,
			       (unsigned)geteuid());
	}
	return fd;
}

static long long mem_total_bytes(void)
{
	FILE *f = fopen("/proc/meminfo", "re");
	if (!f)
		return -1;
	char line[256];
	long long kib = -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "MemTotal: %lld kB", &kib) == 1)
			break;
	fclose(f);
	return kib < 0 ? -1 : kib * 1024;
}

static bool ws_note_said;      /* clone -n: said once, before its clones */

/* F's working set, if it has a usable one (workingset.h). One that is
 * not (cut short, edited, another build's) is said once (for all the
 * clones of clone -n) and recorded again by a clone. */
static void ws_open(struct snap_from *f)
{
	char path[PATH_MAX + 16];
	snprintf(path, sizeof(path), "%s/workingset", f->dir);
	struct err e = { 0 };
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		return;
	size_t cap = ws_file_size(f->rec.mem_bytes) + 1, n = 0;
	uint8_t *buf = fd >= 0 ? malloc(cap) : NULL;
	struct stat st;
	struct ws w;
	if (fd < 0 || fstat(fd, &st)) {
		err_sys(&e, "%s", path);
	} else if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 077)) {
		err_set(&e, "not a private file of this user");
	} else if (!buf) {
		err_oom(&e, "working set");
	} else {
		ssize_t r;
		while (n < cap && ((r = pread(fd, buf + n, cap - n, (off_t)n)) > 0 || (r < 0 && errno == EINTR)))
			n += r > 0 ? (size_t)r : 0;
		if (ws_parse(buf, n, f->rec.mem_bytes, &w, &e) == 0) {
			f->ws_fd = fd;
			f->ws_scope = w.scope;
			free(buf);
			return;
		}
	}
	free(buf);
	if (fd >= 0)
		close(fd);
	if (!ws_note_said)
		fprintf(stderr, "sandbox: note: snapshot '%s': its working set is not used (%s); a clone records it again\n",
			f->name, e.msg);
	ws_note_said = true;
}

void snap_ws_record(const struct snap_from *f, const struct sandbox_state *s, uint32_t scope)
{
	if (f->ws_scope >= scope)
		return;
	char tmp[PATH_MAX + 32], path[PATH_MAX + 16], ctl[700], req[32];
	snprintf(tmp, sizeof(tmp), "%s/.workingset.%d", f->dir, (int)getpid());
	snprintf(path, sizeof(path), "%s/workingset", f->dir);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	snap_ctl_path(s, ctl, sizeof(ctl));
	snprintf(req, sizeof(req), "workingset %u", scope);
	struct err e = { 0 };
	/* a clone recording at the same time: the last rename wins, whole */
	if (control_request(ctl, req, &fd, 1, 10, &e) || fsync(fd) || rename(tmp, path))
		unlink(tmp);
	close(fd);
}

int snap_from_open(const char *name, struct snap_from *f, struct err *e)
{
	memset(f, 0, sizeof(*f));
	f->state_fd = f->mem_fd = f->layer_fd = f->ws_fd = -1;
	if (check_name(name, e))
		return -1;
	const char *root = snap_root(e);
	if (!root)
		return -1;
	snprintf(f->name, sizeof(f->name), "%s", name);
	snprintf(f->dir, sizeof(f->dir), "%s/%s", root, name);
	struct stat st;
	if (lstat(f->dir, &st)) {
		if (errno == ENOENT)
			return err_set(e, "no snapshot '%s' (sandbox snapshot ls)", name);
		return err_sys(e, "snapshot %s", f->dir);
	}
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 077))
		return err_set(e, "snapshot %s is not a private directory of this user (uid %u): refused", f->dir,
			       (unsigned)geteuid());
	char meta[PATH_MAX + 8];
	snprintf(meta, sizeof(meta), "%s/meta", f->dir);
	int fd = open_owned(f->dir, "meta", e);
	if (fd < 0)
		return -1;
	close(fd);
	if (vm_record_read(meta, &f->rec, e))
		return -1;
	if (f->rec.uid != geteuid())
		return err_set(e, "snapshot '%s' was made by uid %u: refused", name, f->rec.uid);
	struct stat d;
	if (stat(f->rec.disk, &d))
		return err_sys(e, "snapshot '%s': its image disk %s", name, f->rec.disk);
	if ((unsigned long long)d.st_dev != f->rec.disk_dev || (unsigned long long)d.st_ino != f->rec.disk_ino ||
	    (unsigned long long)d.st_size != f->rec.disk_size || (long long)d.st_mtime != f->rec.disk_mtime)
		return err_set(e, "snapshot '%s': its image disk %s changed since (the image was imported again?): "
			       "the snapshot's memory would not match it", name, f->rec.disk);
	long long total = mem_total_bytes();
	if (total > 0 && f->rec.mem_bytes > (unsigned long long)total)
		return err_set(e, "snapshot '%s' needs %llu MiB of memory; this host has %lld MiB", name,
			       f->rec.mem_bytes / MIB, total / (long long)MIB);
	if ((f->state_fd = open_owned(f->dir, "vm.state", e)) < 0 || (f->mem_fd = open_owned(f->dir, "memory", e)) < 0)
		return -1;
	if (f->rec.layer && (f->layer_fd = open_owned(f->dir, "layer", e)) < 0)
		return -1;
	ws_open(f);
	return 0;
}

void snap_from_close(struct snap_from *f)
{
	int *fds[] = { &f->state_fd, &f->mem_fd, &f->layer_fd, &f->ws_fd };
	for (size_t i = 0; i < 4; i++)
		if (*fds[i] >= 0) {
			close(*fds[i]);
			*fds[i] = -1;
		}
}

/* ------------------------------------------------------------------ */
/* a running VM sandbox (for pause.c too) */

int snap_vm_sandbox(const char *ref, struct sandbox_state *s, struct err *e)
{
	if (lifecycle_find_running(ref, s, e))
		return -1;
	if (!strcmp(s->isolation, "container"))
		return err_set(e, "%s runs with --isolation container: only VM sandboxes can be paused or "
			       "snapshotted", ref);
	return 0;
}

void snap_ctl_path(const struct sandbox_state *s, char *buf, size_t len)
{
	state_path(buf, len, s->id, "sock/ctl");
}

/* ------------------------------------------------------------------ */
/* snapshot */

static int snapshot_ls(void)
{
	struct err e = { 0 };
	const char *root = snap_root(&e);
	if (!root)
		return cli_report(&e);
	DIR *d = opendir(root);
	if (!d)
		return cli_fail("%s: %s", root, strerror(errno));
	printf("%-24s %-20s %-8s %s\n", "NAME", "IMAGE", "MEMORY", "CREATED");
	struct dirent *de;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		char meta[PATH_MAX];
		struct vm_record r;
		struct err me;
		snprintf(meta, sizeof(meta), "%s/%s/meta", root, de->d_name);
		if (vm_record_read(meta, &r, &me)) {
			printf("%-24s (damaged: %s)\n", de->d_name, me.msg);
			continue;
		}
		char when[32];
		time_t t = (time_t)r.created;
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M:%S", localtime(&t));
		printf("%-24s %-20s %-8llu %s\n", de->d_name, r.image, r.mem_bytes / MIB, when);
	}
	closedir(d);
	return 0;
}

static int snapshot_rm(int argc, char **argv)
{
	struct err e = { 0 };
	const char *root = snap_root(&e);
	if (!root)
		return cli_report(&e);
	if (argc < 3)
		return cli_fail("usage: sandbox snapshot rm NAME...");
	int status = 0;
	for (int i = 2; i < argc; i++) {
		char dir[PATH_MAX];
		struct stat st;
		if (check_name(argv[i], &e)) {
			status = cli_report(&e);
			continue;
		}
		snprintf(dir, sizeof(dir), "%s/%s", root, argv[i]);
		if (lstat(dir, &st) || !S_ISDIR(st.st_mode)) {
			status = cli_fail("no snapshot '%s'", argv[i]);
			continue;
		}
		remove_dir(dir);
		printf("%s\n", argv[i]);
	}
	return status;
}

/* The source sandbox's record (ROOT/<id>/vm), checked for a snapshot. */
static int source_record(const struct sandbox_state *s, struct vm_record *r, struct err *e)
{
	char path[700];
	state_path(path, sizeof(path), s->id, "vm");
	if (vm_record_read(path, r, e))
		return err_wrap(e, "%s", s->name);
	if (r->volumes)
		return err_set(e, "%s has volumes (-v): a snapshot holds the VM and its writable layer only, and "
			       "clones cannot share a volume", s->name);
	return 0;
}

int cmd_snapshot(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "ls"))
		return snapshot_ls();
	if (argc >= 2 && !strcmp(argv[1], "rm"))
		return snapshot_rm(argc, argv);
	static const struct option lopts[] = { { "leave-running", no_argument, 0, 'l' },
					       { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 } };
	bool leave = false;
	opterr = 0;
	optind = 1;
	int c;
	while ((c = getopt_long(argc, argv, "+h", lopts, NULL)) != -1) {
		if (c == 'l') {
			leave = true;
		} else if (c == 'h') {
			printf("usage: sandbox snapshot [--leave-running] ID|NAME SNAPSHOT\n"
			       "       sandbox snapshot ls | rm NAME...\n");
			return 0;
		} else {
			return cli_fail("snapshot: unknown option '%s'", argv[optind - 1]);
		}
	}
	if (argc - optind != 2)
		return cli_fail("usage: sandbox snapshot [--leave-running] ID|NAME SNAPSHOT");
	const char *ref = argv[optind], *name = argv[optind + 1];
	struct err e = { 0 };
	struct sandbox_state s;
	struct vm_record r;
	const char *root;
	if (check_name(name, &e) || !(root = snap_root(&e)) || snap_vm_sandbox(ref, &s, &e) || source_record(&s, &r, &e))
		return cli_report(&e);
	char dir[PATH_MAX], tmp[PATH_MAX], path[PATH_MAX + 16];
	snprintf(dir, sizeof(dir), "%s/%s", root, name);
	snprintf(tmp, sizeof(tmp), "%s/.%s.tmp-%d", root, name, (int)getpid());
	struct stat st;
	if (!lstat(dir, &st))
		return cli_fail("snapshot '%s' exists (sandbox snapshot rm %s)", name, name);
	if (mkdir(tmp, 0700))
		return cli_fail("%s: %s", tmp, strerror(errno));
	int fds[2] = { -1, -1 }, layer_in = -1, layer_out = -1, status = EXIT_ERR;
	bool paused = false;
	const char *files[2] = { "vm.state", "memory" };
	for (int i = 0; i < 2; i++) {
		snprintf(path, sizeof(path), "%s/%s", tmp, files[i]);
		fds[i] = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fds[i] < 0) {
			err_sys(&e, "%s", path);
			goto fail;
		}
	}
	char ctl[700];
	snap_ctl_path(&s, ctl, sizeof(ctl));
	if (control_request(ctl, "snapshot", fds, 2, SNAPSHOT_TIMEOUT_S, &e)) {
		err_wrap(&e, "snapshot of %s", s.name);
		goto fail;
	}
	paused = true;      /* and quiesced, until resume */
	if (r.layer) {
		/* the VM is paused: its layer is as its memory expects it */
		char layer[700];
		if (storage_path(s.id, layer, sizeof(layer), &e))
			goto fail;
		layer_in = open(layer, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
		snprintf(path, sizeof(path), "%s/layer", tmp);
		layer_out = open(path, O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (layer_in < 0 || layer_out < 0) {
			err_sys(&e, "the writable layer");
			goto fail;
		}
		if (storage_copy(layer_in, layer_out, &e) || fsync(layer_out)) {
			err_wrap(&e, "snapshot");
			goto fail;
		}
	}
	r.created = (long long)time(NULL);
	r.uid = (unsigned)geteuid();
	snprintf(path, sizeof(path), "%s/meta", tmp);
	if (vm_record_write(path, &r, &e))
		goto fail;
	if (rename(tmp, dir)) {
		err_sys(&e, "snapshot %s", dir);
		goto fail;
	}
	status = 0;
	if (leave) {
		if (control_request(ctl, "resume", NULL, 0, 30, &e))
			status = cli_report(&e);
	} else if (state_vmm_alive(&s)) {
		kill(s.vmm_pid, SIGKILL);   /* paused, its channel quiet: nothing to lose */
	}
	printf("%s\n", name);
	goto out;
fail:
	if (paused) {
		struct err re;
		control_request(ctl, "resume", NULL, 0, 30, &re);
	}
	status = cli_report(&e);
	remove_dir(tmp);
out:
	for (int i = 0; i < 2; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	if (layer_in >= 0)
		close(layer_in);
	if (layer_out >= 0)
		close(layer_out);
	return status;
}

/* ------------------------------------------------------------------ */
/* clone: N times `sandbox run -d --from NAME [--name PREFIX-i]`, each in a
 * child of ours (forked, not exec'd: no loader, no start-up per clone) */

int cmd_clone(int argc, char **argv)
{
	static const struct option lopts[] = { { "name", required_argument, 0, 'N' },
					       { "help", no_argument, 0, 'h' }, { 0, 0, 0, 0 } };
	long n = 1;
	const char *prefix = NULL;
	opterr = 0;
	optind = 1;
	int c;
	char *end;
	while ((c = getopt_long(argc, argv, "+n:h", lopts, NULL)) != -1) {
		switch (c) {
		case 'n':
			n = strtol(optarg, &end, 10);
			if (*end || n < 1 || n > 1000)
				return cli_fail("clone -n: '%s' is not a count from 1 to 1000", optarg);
			break;
		case 'N': prefix = optarg; break;
		case 'h':
			printf("usage: sandbox clone [-n N] [--name PREFIX] SNAPSHOT\n");
			return 0;
		default: return cli_fail("clone: unknown or incomplete option '%s'", argv[optind - 1]);
		}
	}
	if (argc - optind != 1)
		return cli_fail("usage: sandbox clone [-n N] [--name PREFIX] SNAPSHOT");
	const char *snap = argv[optind];
	struct err e = { 0 };
	struct snap_from f;
	int r = snap_from_open(snap, &f, &e);    /* one clear error before any clone starts */
	snap_from_close(&f);
	if (r)
		return cli_report(&e);
	/* as many at once as there are CPUs: each restore is CPU work */
	long par = sysconf(_SC_NPROCESSORS_ONLN);
	if (par < 1)
		par = 1;
	int status = 0;
	long running = 0, next = 1;
	while (next <= n || running > 0) {
		if (next <= n && running < par && status == 0) {
			char name[128];
			char *av[12];
			int k = 0;
			av[k++] = "run";
			av[k++] = "-d";
			av[k++] = "--from";
			av[k++] = (char *)snap;
			if (prefix) {
				snprintf(name, sizeof(name), n == 1 ? "%s" : "%s-%ld", prefix, next);
				av[k++] = "--name";
				av[k++] = name;
			}
			av[k] = NULL;
			fflush(NULL);
			pid_t pid = fork();
			if (pid < 0)
				return cli_fail("fork: %s", strerror(errno));
			if (pid == 0) {
				/* `sandbox run` in this process: no exec, no loader */
				int st = cmd_run(k, av, now_ns());
				fflush(NULL);
				_exit(st);
			}
			running++;
			next++;
			continue;
		}
		if (running == 0)
			break;      /* a clone failed: start no more */
		int st;
		pid_t w = wait(&st);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		running--;
		if ((!WIFEXITED(st) || WEXITSTATUS(st)) && status == 0)
			status = WIFEXITED(st) ? WEXITSTATUS(st) : EXIT_ERR;
	}
	return status;
}
