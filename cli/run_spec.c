/* `sandbox run`: the container's spec for guest-init (common/spec.h). */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "audit.h"
#include "run_impl.h"


/* ------------------------------------------------------------------ */
/* the container's spec */


static bool env_overridden(const struct run_opts *o, const char *kv)
{
	size_t klen = strcspn(kv, "=");
	for (int i = 0; i < o->nenv; i++)
		if (!strncmp(o->env[i], kv, klen) && o->env[i][klen] == '=')
			return true;
	return false;
}

static int add_env(struct run_spec *s, const char *kv, struct err *e)
{
	if (s->c.nenv == CSPEC_MAX_ENV)
		return err_set(e, "more than %d environment variables (the image's and -e/--env-file)", CSPEC_MAX_ENV);
	s->c.env[s->c.nenv++] = kv;
	return 0;
}

static int add_arg(struct run_spec *s, const char *arg, struct err *e)
{
	if (s->c.nargv == CSPEC_MAX_ARGS)
		return err_set(e, "more than %d arguments in the command (with the image's Entrypoint)",
			       CSPEC_MAX_ARGS);
	s->c.argv[s->c.nargv++] = arg;
	return 0;
}

/* What both isolation modes share. */
int spec_fill(const struct run_opts *o, const struct runconf *rc, const char *id, struct run_spec *s,
	      struct err *e)
{
	struct cspec *c = &s->c;
	memset(s, 0, sizeof(*s));
	c->audit_privileged = audit_privileged_attacker;   /* never set by run's options */
	snprintf(s->hostname, sizeof(s->hostname), "%.12s", id);
	c->hostname = o->hostname ? o->hostname : s->hostname;
	c->cwd = o->workdir ? o->workdir : rc->workdir && *rc->workdir ? rc->workdir : "/";
	c->user = o->user ? o->user : rc->user && *rc->user ? rc->user : NULL;
	for (int i = 0; i < rc->nenv; i++)
		if (!env_overridden(o, rc->env[i]) && add_env(s, rc->env[i], e))
			return -1;
	for (int i = 0; i < o->nenv; i++)
		if (add_env(s, o->env[i], e))
			return -1;
	if (o->tty && !env_overridden(o, "TERM=")) {
		const char *t = getenv("TERM");
		if ((size_t)snprintf(s->term, sizeof(s->term), "TERM=%s", t && *t ? t : "xterm") >= sizeof(s->term))
			return err_set(e, "$TERM is longer than %zu bytes", sizeof(s->term) - 6);
		if (add_env(s, s->term, e))
			return -1;
	}
	c->memory = (uint64_t)o->memory;
	c->pids = (uint64_t)o->pids;
	/* run_opts.c took only a number above 0 (and at most the vCPUs) */
	c->cpu_quota_us = o->cpus ? (uint64_t)(strtod(o->cpus, NULL) * 100000) : 0;
	c->read_only = o->read_only;
	memcpy(c->rlimits, o->rlimits, sizeof(c->rlimits));
	c->nrlimits = o->nrlimits;
	c->caps_given = o->caps_given;
	c->cap_bounding = o->cap_bounding;
	c->cap_effective = o->cap_effective;
	c->no_seccomp = o->no_seccomp;
	c->paths_given = o->paths_given;
	memcpy(c->masked, o->masked, sizeof(c->masked));
	c->nmasked = o->nmasked;
	memcpy(c->ro_paths, o->ro_paths, sizeof(c->ro_paths));
	c->nro_paths = o->nro_paths;
	c->upper_scratch = o->rm;       /* the layer goes with the sandbox: no need to sync it */
	c->init = o->init;
	c->network = strcmp(o->network, "tap") ? CSPEC_NET_NONE : CSPEC_NET_HOST;
	for (int i = 0; i < rc->nentry; i++)
		if (add_arg(s, rc->entrypoint[i], e))
			return -1;
	if (o->ncmd) {
		for (int i = 0; i < o->ncmd; i++)
			if (add_arg(s, o->cmd[i], e))
				return -1;
	} else {
		for (int i = 0; i < rc->ncmd; i++)
			if (add_arg(s, rc->cmd[i], e))
				return -1;
	}
	if (!c->nargv)
		return err_set(e, "no command given and the image has no Cmd or Entrypoint");
	struct cspec_err ce;
	if (cspec_check(c, &ce))
		return err_set(e, "%s", ce.msg);
	return 0;
}

int spec_volume(struct run_spec *s, unsigned disk, const char *path, size_t len, bool ro, struct err *e)
{
	struct cspec *c = &s->c;
	unsigned i = c->nvolumes;
	if (i == CSPEC_MAX_VOLUMES)
		return err_set(e, "more than %d volumes", CSPEC_MAX_VOLUMES);
	if (disk > 25)     /* 0 (vda) with the image on virtio-pmem */
		return err_set(e, "volume disk %u: no vdX name", disk);
	if (len > CSPEC_MAX_PATH)
		return err_set(e, "-v %.*s: the path is longer than %d bytes", (int)(len > 60 ? 60 : len), path,
			       CSPEC_MAX_PATH);
	snprintf(s->vol_dev[i], sizeof(s->vol_dev[i]), "vd%c", 'a' + disk);
	memcpy(s->vol_path[i], path, len);
	s->vol_path[i][len] = '\0';
	c->volumes[i] = (struct cspec_volume){ .dev = s->vol_dev[i], .path = s->vol_path[i], .ro = ro };
	c->nvolumes++;
	return 0;
}

int spec_volume_fs(struct run_spec *s, const char *tag, const char *path, size_t len, bool ro, struct err *e)
{
	struct cspec *c = &s->c;
	unsigned i = c->nvolumes;
	if (i == CSPEC_MAX_VOLUMES)
		return err_set(e, "more than %d volumes", CSPEC_MAX_VOLUMES);
	if (len > CSPEC_MAX_PATH)
		return err_set(e, "-v %.*s: the path is longer than %d bytes", (int)(len > 60 ? 60 : len), path,
			       CSPEC_MAX_PATH);
	snprintf(s->vol_dev[i], sizeof(s->vol_dev[i]), "%s", tag);
	memcpy(s->vol_path[i], path, len);
	s->vol_path[i][len] = '\0';
	c->volumes[i] = (struct cspec_volume){ .dev = s->vol_dev[i], .path = s->vol_path[i], .ro = ro, .fs = true };
	c->nvolumes++;
	return 0;
}
