/* sandbox-runtime: pods on the host (pod.h, docs/kubernetes.md).
 *
 * Every container that boots a VM (a pod's sandbox, or any container
 * another may join) has its virtiofsd serve ROOT/<pod>/pod, the pod's
 * share: a mount of its own
 * with shared propagation, holding <pod>/rootfs (a bind of the sandbox's
 * root). The daemon's mount namespace is a slave of it (cli/run_fs.c),
 * so a member's root bound at <member>/rootfs later (by the member's
 * create) appears in the running daemon, and so in the guest, as Kata's
 * shared directory does; its delete unmounts it again, which reaches the
 * daemon the same way. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exec.h"
#include "pod.h"
#include "state.h"

void oci_pod_share(char *buf, size_t len, const char *pod)
{
	oci_path(buf, len, pod, "pod");
}

static int member_dir(char *buf, size_t len, const char *pod, const char *id, bool root)
{
	char share[PATH_MAX];
	oci_pod_share(share, sizeof(share), pod);
	if ((size_t)snprintf(buf, len, "%s/%s%s", share, id, root ? "/rootfs" : "") >= len)
		return -1;
	return 0;
}

/* SRC bound at DST (an empty directory or file), read-only if RO: made
 * detached and read-only first, then attached, so that the copy the
 * share's propagation gives the daemon's mount namespace is read-only
 * too (a remount after the bind would reach ours alone). */
static int bind_ro_aware(const char *src, const char *dst, bool ro, struct err *e)
{
	int t = open_tree(AT_FDCWD, src, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_RECURSIVE);
	if (t < 0)
		return err_sys(e, "bind %s: open_tree", src);
	struct mount_attr a = { .attr_set = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV };
	if (ro && mount_setattr(t, "", AT_EMPTY_PATH | AT_RECURSIVE, &a, sizeof(a))) {
		err_sys(e, "bind %s: read-only", src);
		close(t);
		return -1;
	}
	if (move_mount(t, "", AT_FDCWD, dst, MOVE_MOUNT_F_EMPTY_PATH)) {
		err_sys(e, "bind %s at %s", src, dst);
		close(t);
		return -1;
	}
	close(t);
	return 0;
}

int oci_pod_root_add(const char *pod, const char *id, const char *root, bool ro, struct err *e)
{
	char dir[PATH_MAX], rdir[PATH_MAX];
	if (member_dir(dir, sizeof(dir), pod, id, false) || member_dir(rdir, sizeof(rdir), pod, id, true))
		return err_set(e, "the pod's directory: path too long");
	if (mkdir(dir, 0700) || mkdir(rdir, 0755)) {
		err_sys(e, "the pod's directory: mkdir %s", rdir);
		rmdir(dir);
		return -1;
	}
	/* read-only on the host (the daemon cannot remount it), as the
	 * daemon's own bind of a root alone is */
	if (bind_ro_aware(root, rdir, ro, e)) {
		err_wrap(e, "the root %s into the pod's directory", root);
		rmdir(rdir);
		rmdir(dir);
		return -1;
	}
	return 0;
}

/* DIR/NAME unmounted (gone already with the share: EINVAL, ENOENT) and
 * removed, a directory or a file. */
static void unbind(const char *dir, const char *name)
{
	char path[PATH_MAX + 16];
	if ((size_t)snprintf(path, sizeof(path), "%s/%s", dir, name) >= sizeof(path))
		return;
	umount2(path, MNT_DETACH);
	if (rmdir(path) && errno == ENOTDIR)
		unlink(path);
}

/* A member's directory DIR in the share: its binds, root and itself. */
static void member_dir_remove(const char *dir)
{
	for (unsigned i = 0; i < CSPEC_MAX_BINDS; i++) {
		char name[16];
		snprintf(name, sizeof(name), "v%u", i);
		unbind(dir, name);
	}
	unbind(dir, "rootfs");
	rmdir(dir);
}

void oci_pod_root_remove(const char *pod, const char *id)
{
	char dir[PATH_MAX];
	if (!member_dir(dir, sizeof(dir), pod, id, false))
		member_dir_remove(dir);
}

int oci_pod_binds_add(const char *pod, const char *id, const struct oci_config *c, struct err *e)
{
	char dir[PATH_MAX];
	if (member_dir(dir, sizeof(dir), pod, id, false))
		return err_set(e, "the pod's directory: path too long");
	const struct oci_mount *m;
	for (unsigned i = 0; (m = oci_member_bind(c, i)); i++) {
		char at[PATH_MAX + 16];
		snprintf(at, sizeof(at), "%s/v%u", dir, i);
		bool file = m->kind == OCI_MOUNT_BIND_FILE;
		int r = file ? open(at, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600) : mkdir(at, 0700);
		if (r < 0) {
			err_sys(e, "the pod's directory: create %s", at);
		} else {
			if (file)
				close(r);
			if (!bind_ro_aware(m->source, at, m->ro, e))
				continue;
			err_wrap(e, "config.json: mounts: %s", m->dest);
		}
		/* none left: the binds made so far undone */
		for (unsigned k = 0; k <= i; k++) {
			char name[16];
			snprintf(name, sizeof(name), "v%u", k);
			unbind(dir, name);
		}
		return -1;
	}
	return 0;
}

int oci_pod_share_create(const char *pod, const char *root, bool ro, struct err *e)
{
	char share[PATH_MAX];
	oci_pod_share(share, sizeof(share), pod);
	if (mkdir(share, 0700))
		return err_sys(e, "mkdir %s", share);
	/* a mount of its own, in a peer group of its own */
	if (mount(share, share, NULL, MS_BIND, NULL) || mount(NULL, share, NULL, MS_PRIVATE, NULL) ||
	    mount(NULL, share, NULL, MS_SHARED, NULL)) {
		err_sys(e, "make %s a shared mount", share);
		umount2(share, MNT_DETACH);
		rmdir(share);
		return -1;
	}
	if (oci_pod_root_add(pod, pod, root, ro, e)) {
		umount2(share, MNT_DETACH);
		rmdir(share);
		return -1;
	}
	return 0;
}

void oci_pod_share_remove(const char *pod)
{
	char share[PATH_MAX];
	oci_pod_share(share, sizeof(share), pod);
	oci_pod_root_remove(pod, pod);
	/* members still bound (a forced delete): their mounts go with it */
	umount2(share, MNT_DETACH);
	DIR *d = opendir(share);
	struct dirent *de;
	while (d && (de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		char sub[PATH_MAX + 300];
		if ((size_t)snprintf(sub, sizeof(sub), "%s/%s", share, de->d_name) < sizeof(sub))
			member_dir_remove(sub);
	}
	if (d)
		closedir(d);
	rmdir(share);
}

int oci_pod_find(const struct oci_pod_ref *r, struct oci_state *pod, struct err *e)
{
	if (r->sandbox_id) {
		if (oci_state_read(r->sandbox_id, pod, e))
			return e->errnum == ENOENT ? err_set(e, "pod sandbox \"%s\" does not exist", r->sandbox_id) : -1;
	}
	if (r->ns_pid) {
		/* the container whose stand-in (its pid-file's pid) it is */
		bool found = false;
		if (r->sandbox_id) {
			found = pod->pid == r->ns_pid;
		} else {
			DIR *d = opendir(oci_root);
			struct dirent *de;
			struct err e2;
			while (d && !found && (de = readdir(d)))
				if (de->d_name[0] != '.' && !oci_state_read(de->d_name, pod, &e2) && pod->pid == r->ns_pid &&
				    oci_owner_alive(pod))
					found = true;
			if (d)
				closedir(d);
		}
		if (!found)
			return err_set(e, "the namespaces of process %d: not a container of this runtime (--root %s)%s",
				       (int)r->ns_pid, oci_root,
				       r->sandbox_id ? " that is the pod's sandbox" : "");
	}
	if (!oci_owner_alive(pod) || !pod->started)
		return err_set(e, "pod sandbox \"%s\" is not running", pod->id);
	if (pod->pod[0])
		return err_set(e, "\"%s\" is a pod's container, not its sandbox", pod->id);
	if (!pod->pod_share)
		return err_set(e, "container \"%s\" has no pod share (made by an older sandbox-runtime): its VM "
			       "holds no other container", pod->id);
	return 0;
}

int oci_pod_members(const char *pod, char (*ids)[OCI_ID_MAX + 1], int max)
{
	int n = 0;
	DIR *d = opendir(oci_root);
	struct dirent *de;
	struct oci_state s;
	struct err e;
	while (d && n < max && (de = readdir(d)))
		if (de->d_name[0] != '.' && !oci_state_read(de->d_name, &s, &e) && !strcmp(s.pod, pod))
			snprintf(ids[n++], OCI_ID_MAX + 1, "%s", s.id);
	if (d)
		closedir(d);
	return n;
}

void oci_member_standin(const struct cspec *x, bool tty, const char *pod_sid, int gate)
{
	char c;
	ssize_t n;
	do
		n = read(gate, &c, 1);
	while (n < 0 && errno == EINTR);
	close(gate);
	struct sandbox_state ss;
	struct err e = { 0 };
	int status = -1;
	if (n == 1 && !state_read(pod_sid, &ss, &e))
		status = exec_run_spec(&ss, x, true, tty, &e);
	else if (n != 1)
		err_set(&e, "start: the gate closed");
	if (status < 0) {
		fprintf(stderr, "sandbox-runtime: %s\n", e.msg);
		status = 125;
	}
	fflush(NULL);
	_exit(status);
}
