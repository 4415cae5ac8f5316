/* sandbox-runtime: a parsed config.json into sandbox run's options, so
 * that the owner, the VMM and guest-init run it as they run `sandbox run`
 * (cli/run.c's run_main). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "map.h"
#include "arch/x86/layout.h"
#include "vm.h"

int oci_map(const struct oci_config *c, const char *id, struct run_opts *o, struct err *e)
{
	static char user[32], cpus[32], vols[VM_MAX_DISKS][2 * 4096 + 8];
	memset(o, 0, sizeof(*o));
	o->ready_fd = o->gate_fd = o->booted_fd = -1;
	o->network = "none";
	o->isolation = "vm";
	o->image = id;                  /* shown by sandbox ps */
	o->rootfs = c->root;
	o->netns = c->netns;
	o->rootfs_ro = c->root_ro;
	o->read_only = c->root_ro;
	o->interactive = true;          /* the engine's stdin (maybe /dev/null) is relayed */
	o->tty = c->terminal;
	o->hostname = c->hostname;
	o->workdir = c->cwd;
	snprintf(user, sizeof(user), "%u:%u", c->uid, c->gid);
	o->user = user;
	if ((size_t)c->nenv > sizeof(o->env) / sizeof(o->env[0]))
		return err_set(e, "config.json: more than %zu environment variables", sizeof(o->env) / sizeof(o->env[0]));
	for (unsigned i = 0; i < c->nenv; i++)
		o->env[i] = (char *)c->env[i];
	o->nenv = (int)c->nenv;
	o->cmd = (char **)c->args;
	o->ncmd = (int)c->nargs;
	o->memory = c->memory;
	o->pids = c->pids;
	if (c->cpu_quota && c->cpu_period) {
		double n = (double)c->cpu_quota / (double)c->cpu_period;
		if (n > MAX_VCPUS)
			n = MAX_VCPUS;
		if (n < 0.01)
			n = 0.01;
		snprintf(cpus, sizeof(cpus), "%.3f", n);
		o->cpus = cpus;
	}
	/* the walls as config.json asks (guest-init applies them) */
	o->caps_given = true;
	o->cap_bounding = c->cap_bounding;
	o->cap_effective = c->cap_effective;
	o->no_seccomp = !c->seccomp;
	o->paths_given = true;
	memcpy(o->masked, c->masked, sizeof(o->masked));
	o->nmasked = c->nmasked;
	memcpy(o->ro_paths, c->ro_paths, sizeof(o->ro_paths));
	o->nro_paths = c->nro_paths;
	memcpy(o->rlimits, c->rlimits, sizeof(o->rlimits));
	o->nrlimits = c->nrlimits;
	for (unsigned i = 0; i < c->nmounts; i++) {
		const struct oci_mount *m = &c->mounts[i];
		if (m->kind == OCI_MOUNT_BIND_FILE && !m->engine)
			return err_set(e, "config.json: mounts[%u]: a bind mount of a file (%.80s) is supported in a pod's "
				       "container only", i, m->dest);
		if (m->kind != OCI_MOUNT_BIND_DIR)
			continue;
		if (o->nvol == (int)(sizeof(o->volumes) / sizeof(o->volumes[0])))
			return err_set(e, "config.json: more than %zu bind mounts of directories",
				       sizeof(o->volumes) / sizeof(o->volumes[0]));
		/* run_opts' form, DIR:PATH[:ro] (config.c refused ':' in either) */
		snprintf(vols[o->nvol], sizeof(vols[0]), "%s:%s%s", m->source, m->dest, m->ro ? ":ro" : "");
		o->volumes[o->nvol] = vols[o->nvol];
		o->nvol++;
	}
	return 0;
}
