/* cgroup v2 limits (memory, pids, cpu). The runtime creates the
 * container's cgroup, writes the limits and moves the child into it before
 * the child unshares its cgroup namespace. Limits are applied only where a
 * writable cgroup2 hierarchy offers the controller; otherwise the runtime
 * says "not applied" on stderr and goes on (host mode on a cgroup v1 host).
 * In the VM, init mounts cgroup2 at /sys/fs/cgroup with every controller,
 * and PID 1 makes the container's group itself (cgroup_container), limits
 * or not, so that it can watch its OOM kills (oom.c); cgroup_update
 * (sandbox-runtime update, an exec connection's UPDATE action) changes
 * its limits while it runs. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>
#include <linux/magic.h>

#include "container.h"

static const char *cgroup2_root(void)
{
	static const char *const roots[] = { "/sys/fs/cgroup", "/sys/fs/cgroup/unified" };
	struct statfs sf;
	for (size_t i = 0; i < 2; i++)
		if (statfs(roots[i], &sf) == 0 && sf.f_type == CGROUP2_SUPER_MAGIC &&
		    access(roots[i], W_OK) == 0)
			return roots[i];
	return NULL;
}

static bool has_controller(const char *root, const char *name)
{
	char path[512], buf[512];
	snprintf(path, sizeof(path), "%s/cgroup.controllers", root);
	FILE *f = fopen(path, "re");
	if (!f)
		return false;
	bool found = false;
	while (!found && fscanf(f, "%511s", buf) == 1)
		found = !strcmp(buf, name);
	fclose(f);
	return found;
}

static int write_file(const char *dir, const char *file, const char *val, struct err *err)
{
	char path[512];
	snprintf(path, sizeof(path), "%s/%s", dir, file);
	SB_AUTOCLOSE int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, val, strlen(val)) < 0)
		return err_errno(err, errno, "write %s to %s", val, path);
	return 0;
}

int cgroup_setup(const struct sb_spec *spec, pid_t child, char *path, size_t pathlen, struct err *err)
{
	struct { const char *ctl, *file; long long v; char val[64]; } lim[] = {
		{ "memory", "memory.max", spec->memory_max, "" },
		{ "pids", "pids.max", spec->pids_max, "" },
		{ "cpu", "cpu.max", spec->cpu_quota_us, "" },
	};
	const char *root = cgroup2_root();
	bool any = false;
	path[0] = '\0';
	for (size_t i = 0; i < 3; i++) {
		if (!lim[i].v)
			continue;
		if (!root || !has_controller(root, lim[i].ctl)) {
			fprintf(stderr, "sandbox-init: %s limit not applied (no writable cgroup2 %s controller)\n",
				lim[i].ctl, lim[i].ctl);
			lim[i].v = 0;
			continue;
		}
		snprintf(lim[i].val, sizeof(lim[i].val), i == 2 ? "%lld 100000" : "%lld", lim[i].v);
		any = true;
	}
	if (spec->cgroup_dir) {
		snprintf(path, pathlen, "%s", spec->cgroup_dir);
	} else {
		if (!any)
			return 0;
		snprintf(path, pathlen, "%s/sandbox-%d", root, (int)child);
		if (mkdir(path, 0755))
			return err_errno(err, errno, "mkdir %s", path);
	}
	for (size_t i = 0; i < 3; i++) {
		if (!lim[i].v)
			continue;
		char ctl[32];
		snprintf(ctl, sizeof(ctl), "+%s", lim[i].ctl);
		write_file(root, "cgroup.subtree_control", ctl, err);    /* may already be on */
		if (write_file(path, lim[i].file, lim[i].val, err) < 0)
			return -1;
		if (i == 0)     /* past the limit means OOM, not swap */
			write_file(path, "memory.swap.max", "0", err);
	}
	char pid[32];
	snprintf(pid, sizeof(pid), "%d", (int)child);
	if (write_file(path, "cgroup.procs", pid, err) < 0)
		return -1;
	err->errnum = 0;
	err->status = 0;
	return 0;
}

void cgroup_cleanup(const struct sb_spec *spec, const char *path)
{
	if (path && path[0] && !spec->cgroup_dir)
		rmdir(path);
}

int cgroup_container(char *path, size_t pathlen, struct err *err)
{
	const char *root = cgroup2_root();
	if (!root || !has_controller(root, "memory"))
		return err_errno(err, 0, "no writable cgroup2 hierarchy with the memory controller");
	/* memory.events needs the memory controller; pids and cpu are
	 * turned on by cgroup_setup where a limit asks for them. */
	if (write_file(root, "cgroup.subtree_control", "+memory", err) < 0)
		return -1;
	snprintf(path, pathlen, "%s/container", root);
	if (mkdir(path, 0755) && errno != EEXIST)
		return err_errno(err, errno, "mkdir %s", path);
	return 0;
}

void cgroup_report(const char *path, const struct sb_spec *spec)
{
	char file[512], key[64];
	long long n;
	if (!path || !path[0] || !spec->memory_max)
		return;
	snprintf(file, sizeof(file), "%s/memory.events", path);
	FILE *f = fopen(file, "re");
	if (!f)
		return;
	while (fscanf(f, "%63s %lld", key, &n) == 2)
		if (!strcmp(key, "oom_kill") && n > 0)
			fprintf(stderr, "sandbox: the container ran out of memory (limit %lld MiB): "
				"%lld process(es) killed\n", spec->memory_max >> 20, n);
	fclose(f);
}

/* PID's own cgroup v2 group, relative to the hierarchy's root ("/..."),
 * into REL: 0, 1 if it has none of its own (not in the v2 hierarchy, or
 * in its root group), -1 with ERR filled if /proc says nothing. */
static int own_cgroup(pid_t pid, char *rel, size_t len, struct err *err)
{
	char file[64], line[600];
	snprintf(file, sizeof(file), "/proc/%d/cgroup", (int)pid);
	FILE *f = fopen(file, "re");
	if (!f)
		return err_errno(err, errno, "open %s", file);
	bool found = false;
	while (!found && fgets(line, sizeof(line), f))
		found = !strncmp(line, "0::/", 4);
	fclose(f);
	line[strcspn(line, "\n")] = '\0';
	if (!found || !strcmp(line + 3, "/") || strstr(line + 3, "/.."))
		return 1;
	if (snprintf(rel, len, "%s", line + 3) >= (int)len)
		return err_errno(err, 0, "cgroup path too long");
	return 0;
}

int cgroup_procs_of(pid_t pid, struct err *err)
{
	const char *root = cgroup2_root();
	if (!root)
		return -2;
	char rel[600], path[1024];
	int r = own_cgroup(pid, rel, sizeof(rel), err);
	if (r)
		return r > 0 ? -2 : -1;  /* none: no limits to share, nothing to join */
	if (snprintf(path, sizeof(path), "%s%s/cgroup.procs", root, rel) >= (int)sizeof(path))
		return err_errno(err, 0, "cgroup path too long");
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return err_errno(err, errno, "open %s", path);
	return fd;
}

/* PID's cgroup v2 directory under ROOT into PATH; -1 with ERR filled if
 * it has none of its own (the root group). */
static int cgroup_dir_of(const char *root, pid_t pid, char *path, size_t len, struct err *err)
{
	char rel[600];
	int r = own_cgroup(pid, rel, sizeof(rel), err);
	if (r < 0)
		return -1;
	if (r > 0)
		return err_errno(err, 0, "the container has no cgroup of its own");
	if (snprintf(path, len, "%s%s", root, rel) >= (int)len)
		return err_errno(err, 0, "cgroup path too long");
	return 0;
}

static unsigned long long mem_total(void)
{
	FILE *f = fopen("/proc/meminfo", "re");
	unsigned long long kb = 0;
	char key[64];
	if (!f)
		return 0;
	while (fscanf(f, "%63s %llu kB ", key, &kb) == 2 && strcmp(key, "MemTotal:"))
		kb = 0;
	fclose(f);
	return kb * 1024;
}

int cgroup_update(pid_t pid, const struct cspec *x, struct err *err)
{
	const char *root = cgroup2_root();
	char dir[1024], val[64];
	if (!root)
		return err_errno(err, 0, "no writable cgroup2 hierarchy in the guest");
	unsigned long long total = mem_total();
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	if (x->memory && (x->memory < 4 << 20 || (total && x->memory > total)))
		return err_errno(err, 0, "memory %llu MiB: want 4 MiB to this VM's %llu MiB",
				 (unsigned long long)(x->memory >> 20), total >> 20);
	if (x->pids > 4194304)
		return err_errno(err, 0, "pids %llu: at most 4194304", (unsigned long long)x->pids);
	if (x->cpu_quota_us && (x->cpu_quota_us < 1000 || x->cpu_quota_us > (uint64_t)(cpus > 0 ? cpus : 1) * 100000))
		return err_errno(err, 0, "cpu quota %llu us per 100 ms: want 1000 to this VM's %ld CPU(s) x 100000",
				 (unsigned long long)x->cpu_quota_us, cpus);
	if (cgroup_dir_of(root, pid, dir, sizeof(dir), err) < 0)
		return -1;
	struct { const char *ctl, *file; uint64_t v; } lim[] = {
		{ "memory", "memory.max", x->memory },
		{ "pids", "pids.max", x->pids },
		{ "cpu", "cpu.max", x->cpu_quota_us },
	};
	for (size_t i = 0; i < 3; i++) {
		if (!lim[i].v)
			continue;
		if (!has_controller(root, lim[i].ctl))
			return err_errno(err, 0, "no cgroup2 %s controller in the guest", lim[i].ctl);
		char ctl[32];
		snprintf(ctl, sizeof(ctl), "+%s", lim[i].ctl);
		write_file(root, "cgroup.subtree_control", ctl, err);    /* may already be on */
		snprintf(val, sizeof(val), i == 2 ? "%llu 100000" : "%llu", (unsigned long long)lim[i].v);
		if (write_file(dir, lim[i].file, val, err) < 0)
			return -1;
		if (i == 0)
			write_file(dir, "memory.swap.max", "0", err);
	}
	err->errnum = 0;
	return 0;
}
