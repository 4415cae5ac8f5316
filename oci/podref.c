/* sandbox-runtime: a config's place in a pod, and a member's guest spec
 * (pod.h). Pure: no file system, no processes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pod.h"

pid_t oci_ns_path_pid(const char *path, const char *type)
{
	if (!path || strncmp(path, "/proc/", 6))
		return 0;
	const char *p = path + 6;
	if (*p < '1' || *p > '9')
		return 0;
	char *end;
	long pid = strtol(p, &end, 10);
	if (pid <= 0 || pid > 4194304 || strncmp(end, "/ns/", 4) || strcmp(end + 4, type))
		return 0;
	return (pid_t)pid;
}

static const char *annotation(const struct oci_config *c, const char *key)
{
	for (unsigned i = 0; i < c->nannot; i++)
		if (!strcmp(c->annot_key[i], key))
			return c->annot_val[i];
	return NULL;
}

int oci_pod_role_of(const struct oci_config *c, struct oci_pod_ref *r, struct err *e)
{
	memset(r, 0, sizeof(*r));
	/* containerd's CRI names; CRI-O's (which podman may set too) are
	 * taken for the type only: a member of theirs is found by its
	 * namespace paths */
	const char *type = annotation(c, CRI_CONTAINER_TYPE), *sid = annotation(c, CRI_SANDBOX_ID);
	bool crio = !type;
	if (crio)
		type = annotation(c, CRIO_CONTAINER_TYPE);
	/* the namespace paths: each /proc/PID/ns/TYPE of one PID */
	static const char *const names[] = { "ipc", "uts", "pid" };
	const char *paths[] = { c->ns_ipc, c->ns_uts, c->ns_pid };
	for (size_t i = 0; i < 3; i++) {
		if (!paths[i])
			continue;
		pid_t pid = oci_ns_path_pid(paths[i], names[i]);
		if (!pid)
			return err_set(e, "config.json: linux.namespaces: %s path %.80s: only another container's "
				       "(/proc/PID/ns/%s, a pod's) can be joined", names[i], paths[i], names[i]);
		if (r->ns_pid && pid != r->ns_pid)
			return err_set(e, "config.json: linux.namespaces: the paths name two processes (%d, %d): a pod's "
				       "containers join one", (int)r->ns_pid, (int)pid);
		r->ns_pid = pid;
	}
	r->share_pid = c->ns_pid != NULL;
	if (type && !strcmp(type, "sandbox")) {
		if (r->ns_pid)
			return err_set(e, "config.json: a pod's sandbox container joining another's namespaces");
		r->role = OCI_POD_SANDBOX;
		r->share_pid = false;
		return 0;
	}
	if (type && strcmp(type, "container"))
		return err_set(e, "config.json: annotations: %s '%.40s': want sandbox or container",
			       crio ? CRIO_CONTAINER_TYPE : CRI_CONTAINER_TYPE, type);
	if (type && !crio) {
		if (!sid || !oci_id_valid(sid))
			return err_set(e, "config.json: annotations: a pod's container without a valid %s", CRI_SANDBOX_ID);
		r->sandbox_id = sid;
	}
	if (r->sandbox_id || r->ns_pid)
		r->role = OCI_POD_MEMBER;
	else
		r->share_pid = false;
	return 0;
}

const struct oci_mount *oci_member_bind(const struct oci_config *c, unsigned i)
{
	for (unsigned k = 0; k < c->nmounts; k++)
		if ((c->mounts[k].kind == OCI_MOUNT_BIND_DIR || c->mounts[k].kind == OCI_MOUNT_BIND_FILE) && !i--)
			return &c->mounts[k];
	return NULL;
}

int oci_member_spec(const struct oci_config *c, const char *id, bool share_pid, struct cspec *x, char *user,
		    struct err *e)
{
	memset(x, 0, sizeof(*x));
	x->action = CSPEC_ACT_CONTAINER;
	x->pod_member = id;
	x->pod_share_pid = share_pid;
	if (c->nargs > CSPEC_MAX_ARGS || c->nenv > CSPEC_MAX_ENV)
		return err_set(e, "config.json: too many arguments or environment variables");
	memcpy(x->argv, c->args, c->nargs * sizeof(x->argv[0]));
	x->nargv = c->nargs;
	memcpy(x->env, c->env, c->nenv * sizeof(x->env[0]));
	x->nenv = c->nenv;
	x->cwd = c->cwd;
	snprintf(user, 32, "%u:%u", c->uid, c->gid);
	x->user = user;
	memcpy(x->rlimits, c->rlimits, sizeof(x->rlimits));
	x->nrlimits = c->nrlimits;
	x->memory = (uint64_t)c->memory;
	x->pids = (uint64_t)c->pids;
	if (c->cpu_quota > 0 && c->cpu_period) {
		x->cpu_quota_us = (uint64_t)c->cpu_quota * 100000 / c->cpu_period;
		if (!x->cpu_quota_us)
			x->cpu_quota_us = 1;
	}
	x->read_only = c->root_ro;
	x->caps_given = true;
	x->cap_bounding = c->cap_bounding;
	x->cap_effective = c->cap_effective;
	x->no_seccomp = !c->seccomp;
	x->paths_given = true;
	memcpy(x->masked, c->masked, sizeof(x->masked));
	x->nmasked = c->nmasked;
	memcpy(x->ro_paths, c->ro_paths, sizeof(x->ro_paths));
	x->nro_paths = c->nro_paths;
	for (const struct oci_mount *m; (m = oci_member_bind(c, x->nbinds));) {
		if (x->nbinds == CSPEC_MAX_BINDS)
			return err_set(e, "config.json: mounts: a pod's container binds at most %d host paths",
				       CSPEC_MAX_BINDS);
		struct cspec_bind *b = &x->binds[x->nbinds++];
		b->path = m->dest;
		b->ro = m->ro;
		b->file = m->kind == OCI_MOUNT_BIND_FILE;
	}
	x->stdin_open = true;           /* the engine's stdin (maybe /dev/null) is relayed */
	x->tty = c->terminal;
	struct cspec_err ce;
	if (cspec_check(x, &ce))
		return err_set(e, "config.json: %s", ce.msg);
	return 0;
}
