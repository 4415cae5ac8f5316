/* The VMM's jail (see jail.h for what and in which order). Runs once,
 * single-threaded, as root; every step that fails ends the start-up with
 * a message (status 125), except the cgroup, which is best effort. */
#include "jail/jail.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <linux/capability.h>
#include <linux/magic.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/file.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vm.h"

#ifndef SECBIT_NOROOT
#define SECBIT_NOROOT (1 << 0)
#define SECBIT_NOROOT_LOCKED (1 << 1)
#define SECBIT_NO_SETUID_FIXUP (1 << 2)
#define SECBIT_NO_SETUID_FIXUP_LOCKED (1 << 3)
#define SECBIT_KEEP_CAPS_LOCKED (1 << 5)
#define SECBIT_NO_CAP_AMBIENT_RAISE (1 << 6)
#define SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED (1 << 7)
#endif

/* Where the jail's tmpfs is mounted (inside our private mount namespace
 * only) before we pivot into it: the first of these that exists. */
static const char *const base_candidates[] = { "/tmp", "/run", "/mnt", "/var/tmp" };

/* Guest memory plus this much may be charged to the VMM's cgroup. */
#define CGROUP_OVERHEAD (128 * MIB)
/* File descriptors beyond those open at start: vsock connections (at most
 * 256, one socket each) and slack for a refused accept or two. */
#define NOFILE_EXTRA (256 + 32)
#define NPROC_LIMIT 4096

bool jail_wanted(const struct vm *vm)
{
	return vm->cfg.jail > 0 || (vm->cfg.jail == 0 && geteuid() == 0);
}

/* ------------------------------------------------------------------ */
/* helpers */

static int write_file(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	size_t n = strlen(s);
	ssize_t w = write(fd, s, n);
	int saved = errno;
	close(fd);
	errno = saved;
	return w == (ssize_t)n ? 0 : -1;
}

static int read_small(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return 0;
}

/* mkdir -p PATH (absolute), 0755. */
static int mkdir_p(const char *path)
{
	char p[PATH_MAX];
	if (snprintf(p, sizeof(p), "%s", path) >= (int)sizeof(p))
		return errno = ENAMETOOLONG, -1;
	for (char *s = p + 1;; s++) {
		if (*s == '/' || *s == '\0') {
			char c = *s;
			*s = '\0';
			if (mkdir(p, 0755) && errno != EEXIST)
				return -1;
			*s = c;
			if (!c)
				break;
		}
	}
	return 0;
}

/* "CWD/PATH" or PATH if absolute. */
static int absolute(const char *cwd, const char *path, char *out, size_t len)
{
	int n = path[0] == '/' ? snprintf(out, len, "%s", path)
			       : snprintf(out, len, "%s/%s", strcmp(cwd, "/") ? cwd : "", path);
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

/* ------------------------------------------------------------------ */
/* the jail uid: a slot of JAIL_UID_BASE.. per VMM (see jail.h) */

/* Whether a live process has UID as its real uid (a VMM's real uid is
 * its jail uid for good: it has no capability to change it). The kernel's
 * getpriority(PRIO_USER) answers by a lookup of the uid's accounting
 * record, then one pass over the process list when there is one; reading
 * every /proc/PID/status for it cost each VMM start ~5 ms with 20
 * sandboxes up in the emulated test host, more with more. */
static int uid_taken(unsigned uid, bool *taken, struct err *e)
{
	errno = 0;
	int r = getpriority(PRIO_USER, (id_t)uid);
	if (r == -1 && errno && errno != ESRCH)
		return err_sys(e, "jail: is uid %u in use (getpriority)", uid);
	*taken = !(r == -1 && errno == ESRCH);
	return 0;
}

/* JAIL_LOCK_DIR, made if missing, as an fd; refused unless it is a real
 * directory of root's that no one else may write to. */
static int lock_dir(struct err *e)
{
	if (mkdir(JAIL_LOCK_DIR, 0700) && errno != EEXIST)
		return err_sys(e, "jail: mkdir %s", JAIL_LOCK_DIR);
	int fd = open(JAIL_LOCK_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return err_sys(e, "jail: %s", JAIL_LOCK_DIR);
	struct stat st;
	if (fstat(fd, &st) || st.st_uid != 0 || (st.st_mode & 022)) {
		close(fd);
		return err_set(e, "jail: %s is not root's alone (owner %u, mode %03o): remove it, or give --jail-uid",
			       JAIL_LOCK_DIR, (unsigned)st.st_uid, (unsigned)(st.st_mode & 0777));
	}
	return fd;
}

int jail_pick_uid(const struct vm *vm, unsigned *uid, struct err *e)
{
	static unsigned picked;    /* one per process: the lock stays ours */
	if (vm->cfg.jail_uid) {
		*uid = vm->cfg.jail_uid;
		return 0;
	}
	if (picked) {
		*uid = picked;
		return 0;
	}
	int dir = lock_dir(e);
	if (dir < 0)
		return -1;
	for (unsigned s = 0; s < JAIL_UID_SLOTS; s++) {
		char name[32];
		snprintf(name, sizeof(name), "uid.%u", s);
		int fd = openat(dir, name, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0) {
			err_sys(e, "jail: %s/%s", JAIL_LOCK_DIR, name);
			close(dir);
			return -1;
		}
		/* A slot is free when its lock is and no process has its uid
		 * (a VMM that closed its lock fd still keeps its uid). */
		bool taken = true;
		int r = 0;
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			r = uid_taken(JAIL_UID_BASE + s, &taken, e);
		if (!r && !taken) {
			/* Held (fd left open) until we exit. */
			close(dir);
			picked = *uid = JAIL_UID_BASE + s;
			return 0;
		}
		close(fd);
		if (r) {
			close(dir);
			return -1;
		}
	}
	close(dir);
	return err_set(e, "jail: all %u jail uids (from %u) are in use: give --jail-uid", JAIL_UID_SLOTS,
		       JAIL_UID_BASE);
}

/* ------------------------------------------------------------------ */
/* the socket directory */

int jail_socket_dir(const char *dir, struct err *e)
{
	/* mkdir refuses whatever is already there, a symlink included. */
	if (mkdir(dir, 0700))
		return err_sys(e, "mkdir %s", dir);
	struct stat st;
	if (lstat(dir, &st) || !S_ISDIR(st.st_mode) || st.st_uid != geteuid())
		return err_set(e, "%s: not the directory just made", dir);
	return 0;
}

/* ------------------------------------------------------------------ */
/* cgroup v2 */

/* Remove empty groups left by VMMs that are gone (DIR: their parent). */
static void cgroup_reap(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d))) {
		unsigned long pid;
		char *end;
		if (strncmp(de->d_name, "sandbox-vmm.", 12))
			continue;
		pid = strtoul(de->d_name + 12, &end, 10);
		if (*end || !pid || pid > INT_MAX || kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		char p[PATH_MAX];
		if (snprintf(p, sizeof(p), "%s/%s", dir, de->d_name) < (int)sizeof(p))
			rmdir(p); /* fails harmlessly if something still lives there */
	}
	closedir(d);
}

/* Put the VMM in its own cgroup v2 group with memory and pids limits.
 * Returns 0, or -1 with a reason in E (not fatal). */
static int cgroup_setup(struct vm *vm, struct err *e)
{
	const char *root = "/sys/fs/cgroup";
	struct statfs sf;
	if (statfs(root, &sf) || sf.f_type != CGROUP2_SUPER_MAGIC)
		return err_set(e, "%s is not a cgroup v2 hierarchy", root);
	char self[512];
	if (read_small("/proc/self/cgroup", self, sizeof(self)) || strncmp(self, "0::/", 4))
		return err_set(e, "not in a cgroup v2 group (/proc/self/cgroup)");
	char *nl = strchr(self, '\n');
	if (nl)
		*nl = '\0';
	const char *cur = self + 3; /* "/..." */
	char parent[1024], p[PATH_MAX], grp[1100], v[64], ctl[256];
	/* Our group goes beside the one we are in (cgroup v2 allows
	 * processes only in leaves, and controllers are enabled for a
	 * group's children by its parent), or under the root if we are
	 * there (the root is exempt). */
	snprintf(parent, sizeof(parent), "%s%s", root, cur);
	char *slash = strrchr(parent, '/');
	if (strcmp(cur, "/") && slash && slash > parent + strlen(root))
		*slash = '\0';
	else
		snprintf(parent, sizeof(parent), "%s", root);
	snprintf(p, sizeof(p), "%s/cgroup.controllers", parent);
	if (read_small(p, ctl, sizeof(ctl)))
		return err_sys(e, "%s", p);
	bool memory = strstr(ctl, "memory") != NULL, pids = strstr(ctl, "pids") != NULL;
	if (!memory && !pids)
		return err_set(e, "cgroup %s has neither the memory nor the pids controller",
			       parent + strlen(root));
	/* Enabled already (by the first VMM): no write, which would take
	 * the cgroup lock and wait for the groups of VMMs that just ended
	 * to be torn down (the kernel drains them first). */
	snprintf(p, sizeof(p), "%s/cgroup.subtree_control", parent);
	char on[256];
	if (read_small(p, on, sizeof(on)))
		on[0] = '\0';
	bool need = (memory && !strstr(on, "memory")) || (pids && !strstr(on, "pids"));
	if (need && write_file(p, memory && pids ? "+memory +pids" : memory ? "+memory" : "+pids"))
		return err_sys(e, "enabling the memory and pids controllers in %s", p);
	cgroup_reap(parent);
	snprintf(grp, sizeof(grp), "%s/sandbox-vmm.%d", parent, (int)getpid());
	if (mkdir(grp, 0755) && errno != EEXIST)
		return err_sys(e, "mkdir %s", grp);
	uint64_t max = memory ? vm->cfg.mem_bytes + CGROUP_OVERHEAD : 0;
#if defined(__SANITIZE_ADDRESS__)
	max = 0; /* ASan's shadow memory and quarantine: no memory limit */
#endif
	snprintf(p, sizeof(p), "%s/memory.max", grp);
	if (max) {
		snprintf(v, sizeof(v), "%llu", (unsigned long long)max);
		if (write_file(p, v))
			goto fail;
		snprintf(p, sizeof(p), "%s/memory.swap.max", grp);
		if (write_file(p, "0") && errno != ENOENT)
			goto fail;
	}
	snprintf(p, sizeof(p), "%s/pids.max", grp);
	snprintf(v, sizeof(v), "%u", vm->ncpus + 8);
	if (pids && write_file(p, v))
		goto fail;
	snprintf(p, sizeof(p), "%s/cgroup.procs", grp);
	if (write_file(p, "0"))
		goto fail;
	return 0;
fail:
	err_sys(e, "%s", p);
	rmdir(grp);
	return -1;
}

/* ------------------------------------------------------------------ */
/* the uds directory: a bind mount with an idmap (host uid/gid 0 shown as
 * the jail's) */

/* A user namespace mapping 0 to UID/GID, as an fd (for MOUNT_ATTR_IDMAP):
 * a child unshares it and waits while we write its maps. */
static int idmap_userns(unsigned uid, unsigned gid)
{
	int sync[2];
	if (pipe2(sync, O_CLOEXEC))
		return -1;
	pid_t pid = fork();
	if (pid < 0) {
		close(sync[0]);
		close(sync[1]);
		return -1;
	}
	if (pid == 0) {
		char c = 0;
		close(sync[0]);
		if (unshare(CLONE_NEWUSER))
			_exit(1);
		if (write(sync[1], &c, 1) != 1)
			_exit(1);
		close(sync[1]);
		pause(); /* until killed */
		_exit(0);
	}
	close(sync[1]);
	char c, path[64], map[64];
	int fd = -1;
	if (read(sync[0], &c, 1) == 1) {
		snprintf(map, sizeof(map), "0 %u 1\n", uid);
		snprintf(path, sizeof(path), "/proc/%d/uid_map", (int)pid);
		bool ok = write_file(path, map) == 0;
		snprintf(map, sizeof(map), "0 %u 1\n", gid);
		snprintf(path, sizeof(path), "/proc/%d/gid_map", (int)pid);
		ok = ok && write_file(path, map) == 0;
		snprintf(path, sizeof(path), "/proc/%d/ns/user", (int)pid);
		if (ok)
			fd = open(path, O_RDONLY | O_CLOEXEC);
	}
	close(sync[0]);
	kill(pid, SIGKILL);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	return fd;
}

/* A detached copy of the mount at DIR (open_tree), nosuid/nodev/noexec,
 * idmapped if the filesystem allows it (*idmapped says). */
static int clone_dir(const char *dir, unsigned uid, unsigned gid, bool *idmapped, struct err *e)
{
	int tree = (int)syscall(SYS_open_tree, AT_FDCWD, dir, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC);
	if (tree < 0)
		return err_sys(e, "open_tree %s", dir);
	struct mount_attr attr = {
		.attr_set = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC,
	};
	*idmapped = false;
	int ns = idmap_userns(uid, gid);
	if (ns >= 0) {
		attr.attr_set |= MOUNT_ATTR_IDMAP;
		attr.userns_fd = (uint64_t)ns;
		*idmapped = syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH, &attr, sizeof(attr)) == 0;
		close(ns);
		attr.attr_set &= ~(uint64_t)MOUNT_ATTR_IDMAP;
		attr.userns_fd = 0;
	}
	if (!*idmapped && syscall(SYS_mount_setattr, tree, "", AT_EMPTY_PATH, &attr, sizeof(attr))) {
		err_sys(e, "mount_setattr %s", dir);
		close(tree);
		return -1;
	}
	return tree;
}

/* ------------------------------------------------------------------ */
/* the root */

/* Lazily detach every mount of our (private) namespace except / and
 * KEEP with what is under it, deepest first. Errors are ignored: what
 * cannot be detached stays below the jail, out of reach by path. */
static void detach_all_but(const char *keep)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return;
	char line[4096], *points[512];
	size_t n = 0, klen = strlen(keep);
	while (n < ARRAY_SIZE(points) && fgets(line, sizeof(line), f)) {
		char mp[4096];
		/* ID PARENT MAJ:MIN ROOT MOUNTPOINT ... */
		if (sscanf(line, "%*s %*s %*s %*s %4095s", mp) != 1)
			continue;
		/* Undo mountinfo's octal escapes (\040 for a space...). */
		char *w = mp;
		for (char *r = mp; *r; r++) {
			if (r[0] == '\\' && r[1] >= '0' && r[1] <= '3' && r[2] >= '0' && r[2] <= '7' &&
			    r[3] >= '0' && r[3] <= '7') {
				*w++ = (char)((r[1] - '0') * 64 + (r[2] - '0') * 8 + (r[3] - '0'));
				r += 3;
			} else {
				*w++ = *r;
			}
		}
		*w = '\0';
		if (!strcmp(mp, "/") || (!strncmp(mp, keep, klen) && (mp[klen] == '\0' || mp[klen] == '/')))
			continue;
		points[n++] = strdup(mp);
	}
	fclose(f);
	while (n--) {
		if (points[n])
			umount2(points[n], MNT_DETACH);
		free(points[n]);
	}
}

/* ------------------------------------------------------------------ */
/* capabilities */

static int drop_privileges(unsigned uid, unsigned gid, struct err *e)
{
	/* The bounding set (needs CAP_SETPCAP, so before the uid change). */
	for (int c = 0; c <= 63; c++)
		if (prctl(PR_CAPBSET_DROP, c, 0, 0, 0) && errno != EINVAL)
			return err_sys(e, "dropping capability %d from the bounding set", c);
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) && errno != EINVAL)
		return err_sys(e, "clearing the ambient capabilities");
	/* Root gets nothing back by exec or a uid change. */
	if (prctl(PR_SET_SECUREBITS, SECBIT_NOROOT | SECBIT_NOROOT_LOCKED | SECBIT_NO_SETUID_FIXUP_LOCKED |
					     SECBIT_KEEP_CAPS_LOCKED | SECBIT_NO_CAP_AMBIENT_RAISE |
					     SECBIT_NO_CAP_AMBIENT_RAISE_LOCKED, 0, 0, 0))
		return err_sys(e, "securebits");
	if (setgroups(0, NULL))
		return err_sys(e, "setgroups");
	if (setresgid(gid, gid, gid))
		return err_sys(e, "setresgid %u", gid);
	/* Changing every uid away from 0 clears permitted and effective. */
	if (setresuid(uid, uid, uid))
		return err_sys(e, "setresuid %u", uid);
	struct __user_cap_header_struct h = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct d[2];
	memset(d, 0, sizeof(d));
	if (syscall(SYS_capset, &h, d))
		return err_sys(e, "capset");
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0))
		return err_sys(e, "no_new_privs");
	/* Check: nothing is left. */
	if (syscall(SYS_capget, &h, d))
		return err_sys(e, "capget");
	for (int i = 0; i < 2; i++)
		if (d[i].effective || d[i].permitted || d[i].inheritable)
			return err_set(e, "capabilities left after the uid change");
	if (prctl(PR_CAPBSET_READ, CAP_SYS_ADMIN, 0, 0, 0) != 0)
		return err_set(e, "CAP_SYS_ADMIN still in the bounding set");
	return 0;
}

static int set_limits(struct err *e)
{
	int maxfd = 2;
	DIR *d = opendir("/proc/self/fd");
	if (d) {
		struct dirent *de;
		while ((de = readdir(d)))
			if (atoi(de->d_name) > maxfd)
				maxfd = atoi(de->d_name);
		closedir(d);
	} else {
		maxfd = 1024; /* no /proc: be generous */
	}
	struct rlimit nofile = { (rlim_t)maxfd + 1 + NOFILE_EXTRA, (rlim_t)maxfd + 1 + NOFILE_EXTRA };
	struct rlimit zero = { 0, 0 }, nproc = { NPROC_LIMIT, NPROC_LIMIT };
	if (setrlimit(RLIMIT_NOFILE, &nofile))
		return err_sys(e, "RLIMIT_NOFILE");
	if (setrlimit(RLIMIT_CORE, &zero))
		return err_sys(e, "RLIMIT_CORE");
	if (setrlimit(RLIMIT_NPROC, &nproc))
		return err_sys(e, "RLIMIT_NPROC");
	return 0;
}

/* ------------------------------------------------------------------ */

int jail_enter(struct vm *vm, struct err *e)
{
	if (!jail_wanted(vm))
		return 0;
	if (geteuid() != 0)
		return err_set(e, "--jail needs root (it sets up namespaces and drops to --jail-uid)");
	unsigned uid;
	if (jail_pick_uid(vm, &uid, e))
		return -1;
	unsigned gid = uid;

	char cwd[PATH_MAX], uds_abs[PATH_MAX], uds_dir[PATH_MAX];
	if (!getcwd(cwd, sizeof(cwd)))
		snprintf(cwd, sizeof(cwd), "/");
	bool have_uds = vm->cfg.has_vsock && vm->cfg.vsock.uds[0];
	if (have_uds) {
		if (absolute(cwd, vm->cfg.vsock.uds, uds_abs, sizeof(uds_abs)))
			return err_set(e, "jail: --vsock path too long");
		snprintf(uds_dir, sizeof(uds_dir), "%s", uds_abs);
		char *slash = strrchr(uds_dir, '/');
		if (slash == uds_dir)
			return err_set(e, "jail: --vsock socket %s: put it in a directory of its own, not in / "
				       "(the directory is mounted into the jail)", uds_abs);
		*slash = '\0';
	}

	/* 1. cgroup (best effort), before the namespaces hide it. */
	struct err ce;
	if (cgroup_setup(vm, &ce) && vm->cfg.jail > 0)
		fprintf(stderr, "sandbox: note: jail: no cgroup limits (%s)\n", ce.msg);

	/* 2. namespaces */
	if (unshare(CLONE_NEWNS | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP | CLONE_NEWNET))
		return err_sys(e, "jail: unshare");

	/* 3. the root */
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
		return err_sys(e, "jail: making / private");
	int uds_tree = -1, proc_tree = -1;
	bool idmapped = false;
	if (have_uds && (uds_tree = clone_dir(uds_dir, uid, gid, &idmapped, e)) < 0)
		return err_wrap(e, "jail: --vsock directory");
	/* The host's /proc as a fallback if a fresh one cannot be mounted. */
	proc_tree = (int)syscall(SYS_open_tree, AT_FDCWD, "/proc",
				 OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
	const char *base = NULL;
	struct stat st;
	for (unsigned i = 0; i < ARRAY_SIZE(base_candidates) && !base; i++)
		if (!stat(base_candidates[i], &st) && S_ISDIR(st.st_mode))
			base = base_candidates[i];
	int rc = -1;
	if (!base) {
		err_set(e, "jail: no directory to build the root in (/tmp, /run, /mnt)");
		goto out;
	}
	if (mount("sandbox-jail", base, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=64k,nr_inodes=1024,mode=0755")) {
		err_sys(e, "jail: tmpfs on %s", base);
		goto out;
	}
	if (chdir(base)) {
		err_sys(e, "jail: chdir %s", base);
		goto out;
	}
	/* Paths inside the new root are built relative to it: "." + path. */
	char p[PATH_MAX + 2];
	if (have_uds) {
		snprintf(p, sizeof(p), ".%s", uds_dir);
		if (mkdir_p(p) ||
		    syscall(SYS_move_mount, uds_tree, "", AT_FDCWD, p, MOVE_MOUNT_F_EMPTY_PATH)) {
			err_sys(e, "jail: mounting %s in the jail", uds_dir);
			goto out;
		}
	}
	if (mkdir("proc", 0555) && errno != EEXIST) {
		err_sys(e, "jail: mkdir /proc");
		goto out;
	}
	if (mount("proc", "proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, "subset=pid,hidepid=invisible") &&
	    (proc_tree < 0 || syscall(SYS_move_mount, proc_tree, "", AT_FDCWD, "proc", MOVE_MOUNT_F_EMPTY_PATH))) {
		err_sys(e, "jail: /proc");
		goto out;
	}
	snprintf(p, sizeof(p), ".%s", cwd);
	if (strcmp(cwd, "/") && mkdir_p(p) && errno != EEXIST) {
		err_sys(e, "jail: mkdir %s", cwd);
		goto out;
	}
	if (syscall(SYS_pivot_root, ".", ".") == 0) {
		if (umount2(".", MNT_DETACH)) {
			err_sys(e, "jail: detaching the old root");
			goto out;
		}
	} else if (errno == EINVAL) {
		/* The root is the initramfs (rootfs), which pivot_root refuses
		 * (it has no parent mount): detach every other mount, move the
		 * jail over / and chroot into it, as switch_root does. rootfs
		 * stays below, out of reach by path; getting out of a chroot
		 * takes CAP_SYS_CHROOT, dropped below. */
		detach_all_but(base);
		if (mount(".", "/", NULL, MS_MOVE, NULL) || chroot(".")) {
			err_sys(e, "jail: moving the root (no pivot_root from an initramfs)");
			goto out;
		}
	} else {
		err_sys(e, "jail: pivot_root");
		goto out;
	}
	if (mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL)) {
		err_sys(e, "jail: read-only root");
		goto out;
	}
	if (chdir(cwd) && chdir("/")) {
		err_sys(e, "jail: chdir");
		goto out;
	}

	/* 4, 5 */
	if (set_limits(e) || drop_privileges(uid, gid, e)) {
		err_wrap(e, "jail");
		goto out;
	}
	/* The uid change already made us undumpable unless fs.suid_dumpable
	 * is set: make sure of it. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)) {
		err_sys(e, "jail: PR_SET_DUMPABLE");
		goto out;
	}
	if (have_uds && !idmapped) /* a real change of behaviour: always say so */
		fprintf(stderr, "sandbox: note: jail: %s cannot be idmapped: guest-initiated vsock "
				"connects need listeners uid %u may write to\n", uds_dir, uid);
	rc = 0;
out:
	if (uds_tree >= 0)
		close(uds_tree);
	if (proc_tree >= 0)
		close(proc_tree);
	return rc;
}
