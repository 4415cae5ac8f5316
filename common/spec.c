/* The container spec (see spec.h): the check both sides make of a struct
 * cspec, the owner's before it encodes (spec_enc.c) and guest-init's after
 * it decodes one (spec_dec.c) or fills one from its host mode's options.
 * Built into the sandbox binary and the static guest-init: no allocation,
 * no libc beyond string functions, nothing that prints. */
#include <string.h>

#include "spec_int.h"

static bool devname_ok(const char *s)
{
	size_t n = strlen(s);
	if (!n || n > CSPEC_MAX_DEVNAME)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9')))
			return false;
	return true;
}

/* A string field: NULL (unset) allowed if OPTIONAL, else 1..MAX bytes. */
static int str_ok(const char *s, size_t max, bool optional, const char *what, struct cspec_err *e)
{
	if (!s)
		return optional ? 0 : fail(e, "spec: no %s", what);
	size_t n = strnlen(s, max + 1);
	if (!n)
		return fail(e, "spec: empty %s", what);
	if (n > max)
		return fail(e, "spec: %s longer than %zu bytes", what, max);
	return 0;
}

bool cspec_member_ok(const char *s)
{
	size_t n = s ? strnlen(s, CSPEC_MAX_MEMBER + 1) : 0;
	if (!n || n > CSPEC_MAX_MEMBER || s[0] == '.')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= '0' && s[i] <= '9') ||
		      strchr("_+.-", s[i])))
			return false;
	return true;
}

static int check_pod(const struct cspec *s, struct cspec_err *e)
{
	if (s->pod_member && !cspec_member_ok(s->pod_member))
		return fail(e, "spec: pod member %.40s: want [A-Za-z0-9_+.-]{1,%d}, not starting with '.'",
			    s->pod_member, CSPEC_MAX_MEMBER);
	if (s->action == CSPEC_ACT_CONTAINER && !s->pod_member)
		return fail(e, "spec: a pod's container without its name");
	if (s->pod_member && s->action != CSPEC_ACT_NONE && s->action != CSPEC_ACT_CONTAINER)
		return fail(e, "spec: a pod member with a copy or an update");
	if (s->pod_share_pid && s->action != CSPEC_ACT_CONTAINER)
		return fail(e, "spec: sharing the pod's PID namespace outside a pod's container");
	if (s->nbinds > CSPEC_MAX_BINDS)
		return fail(e, "spec: too many binds (%u, at most %d)", s->nbinds, CSPEC_MAX_BINDS);
	if (s->nbinds && s->action != CSPEC_ACT_CONTAINER)
		return fail(e, "spec: binds of host paths outside a pod's container");
	for (unsigned i = 0; i < s->nbinds; i++) {
		const char *p = s->binds[i].path;
		if (str_ok(p, CSPEC_MAX_PATH, false, "bind path", e))
			return -1;
		if (p[0] != '/' || !p[strspn(p, "/")] || strstr(p, "/.."))
			return fail(e, "spec: bind path %.40s: want an absolute path other than / without ..", p);
	}
	return 0;
}

static int check_lists(const struct cspec *s, struct cspec_err *e)
{
	if (s->nargv > CSPEC_MAX_ARGS)
		return fail(e, "spec: too many arguments (%u, at most %d)", s->nargv, CSPEC_MAX_ARGS);
	if (!s->nargv)
		return fail(e, "spec: no command");
	for (unsigned i = 0; i < s->nargv; i++) {
		if (!s->argv[i])
			return fail(e, "spec: argument %u missing", i);
		if (strnlen(s->argv[i], CSPEC_MAX_STR + 1) > CSPEC_MAX_STR)
			return fail(e, "spec: argument %u longer than %d bytes", i, CSPEC_MAX_STR);
	}
	if (s->nenv > CSPEC_MAX_ENV)
		return fail(e, "spec: too many environment variables (%u, at most %d)", s->nenv, CSPEC_MAX_ENV);
	for (unsigned i = 0; i < s->nenv; i++) {
		if (!s->env[i])
			return fail(e, "spec: environment variable %u missing", i);
		if (strnlen(s->env[i], CSPEC_MAX_STR + 1) > CSPEC_MAX_STR)
			return fail(e, "spec: environment variable %u longer than %d bytes", i, CSPEC_MAX_STR);
		const char *eq = strchr(s->env[i], '=');
		if (!eq || eq == s->env[i])
			return fail(e, "spec: environment variable %.40s is not KEY=VALUE", s->env[i]);
	}
	if (s->nmasked > CSPEC_MAX_PATHS || s->nro_paths > CSPEC_MAX_PATHS)
		return fail(e, "spec: too many masked or read-only paths (at most %d each)", CSPEC_MAX_PATHS);
	if ((s->nmasked || s->nro_paths) && !s->paths_given)
		return fail(e, "spec: masked or read-only paths without the flag that gives them");
	for (unsigned i = 0; i < s->nmasked + s->nro_paths; i++) {
		const char *p = i < s->nmasked ? s->masked[i] : s->ro_paths[i - s->nmasked];
		if (str_ok(p, CSPEC_MAX_PATH, false, "masked or read-only path", e))
			return -1;
		if (p[0] != '/' || strstr(p, "/.."))
			return fail(e, "spec: masked or read-only path %.40s: want an absolute path without ..", p);
	}
	if (s->nrlimits > CSPEC_MAX_RLIMITS)
		return fail(e, "spec: too many rlimits (%u, at most %d)", s->nrlimits, CSPEC_MAX_RLIMITS);
	for (unsigned i = 0; i < s->nrlimits; i++) {
		const struct cspec_rlimit *r = &s->rlimits[i];
		if (r->resource >= 16 || r->soft > r->hard)
			return fail(e, "spec: rlimit %u: resource %u, %llu > %llu", i, r->resource,
				    (unsigned long long)r->soft, (unsigned long long)r->hard);
		for (unsigned j = 0; j < i; j++)
			if (s->rlimits[j].resource == r->resource)
				return fail(e, "spec: rlimit %u given twice", r->resource);
	}
	return 0;
}

static int check_vm(const struct cspec *s, struct cspec_err *e)
{
	if (!s->tty && (s->rows || s->cols))
		return fail(e, "spec: a terminal size without a terminal");
	if (!s->image_dev != !s->image_fs)
		return fail(e, "spec: an image needs a device and a file system type");
	if (s->image_dev && (!devname_ok(s->image_dev) || !devname_ok(s->image_fs)))
		return fail(e, "spec: image %.40s:%.40s: want [a-z0-9]{1,%d} names", s->image_dev, s->image_fs,
			    CSPEC_MAX_DEVNAME);
	if (s->image_dax && !s->image_dev)
		return fail(e, "spec: DAX without an image");
	if (s->nvolumes > CSPEC_MAX_VOLUMES)
		return fail(e, "spec: too many volumes (%u, at most %d)", s->nvolumes, CSPEC_MAX_VOLUMES);
	for (unsigned i = 0; i < s->nvolumes; i++) {
		const struct cspec_volume *v = &s->volumes[i];
		if (!v->dev || !devname_ok(v->dev))
			return fail(e, "spec: volume %u: bad device name", i);
		if (str_ok(v->path, CSPEC_MAX_PATH, false, "volume path", e))
			return -1;
		if (v->path[0] != '/')
			return fail(e, "spec: volume path %.40s is not absolute", v->path);
	}
	if (s->upper_dev && !devname_ok(s->upper_dev))
		return fail(e, "spec: writable layer %.40s: want a [a-z0-9]{1,%d} device name", s->upper_dev,
			    CSPEC_MAX_DEVNAME);
	if (s->upper_dev && s->upper_size)
		return fail(e, "spec: a writable layer on a disk and a tmpfs size");
	if (s->eth) {
		if (!s->eth_addr || s->eth_prefix < 1 || s->eth_prefix > 32)
			return fail(e, "spec: eth0 needs an address and a prefix of 1 to 32");
	} else if (s->eth_addr || s->eth_gw || s->eth_dns || s->eth_prefix) {
		return fail(e, "spec: eth0 addresses without eth0");
	}
	return 0;
}

int cspec_check(const struct cspec *s, struct cspec_err *e)
{
	if (str_ok(s->hostname, CSPEC_MAX_HOSTNAME, true, "hostname", e) ||
	    str_ok(s->cwd, CSPEC_MAX_PATH, true, "working directory", e) ||
	    str_ok(s->user, CSPEC_MAX_PATH, true, "user", e))
		return -1;
	if (check_lists(s, e))
		return -1;
	if (s->memory > INT64_MAX || s->pids > INT64_MAX || s->cpu_quota_us > INT64_MAX ||
	    s->upper_size > INT64_MAX)
		return fail(e, "spec: a limit above 2^63");
	if (s->network != CSPEC_NET_NONE && s->network != CSPEC_NET_HOST)
		return fail(e, "spec: network mode %d", (int)s->network);
	if (s->action != CSPEC_ACT_NONE && s->action != CSPEC_ACT_TAR_OUT && s->action != CSPEC_ACT_TAR_IN &&
	    s->action != CSPEC_ACT_UPDATE && s->action != CSPEC_ACT_CONTAINER)
		return fail(e, "spec: action %d", (int)s->action);
	if (s->cp_flags & ~CSPEC_CP_FLAGS ||
	    (s->cp_flags && s->action != CSPEC_ACT_TAR_OUT && s->action != CSPEC_ACT_TAR_IN))
		return fail(e, "spec: bad copy flags %#x", s->cp_flags);
	if (s->caps_given && (s->cap_bounding >> CSPEC_CAP_BITS || s->cap_effective & ~s->cap_bounding))
		return fail(e, "spec: capabilities: a bit above %d, or effective outside bounding", CSPEC_CAP_BITS - 1);
	if (!s->caps_given && (s->cap_bounding || s->cap_effective))
		return fail(e, "spec: capability sets without the flag that gives them");
	if (s->action == CSPEC_ACT_UPDATE && (!(s->memory || s->pids || s->cpu_quota_us) || s->nargv != 1 ||
					      strcmp(s->argv[0], "update")))
		return fail(e, "spec: an update sets memory, pids or cpu and has the one argument \"update\"");
	if (check_pod(s, e))
		return -1;
	if ((s->action == CSPEC_ACT_TAR_OUT || s->action == CSPEC_ACT_TAR_IN) &&
	    (s->nargv != 1 || s->argv[0][0] != '/' || strnlen(s->argv[0], CSPEC_MAX_PATH + 1) > CSPEC_MAX_PATH))
		return fail(e, "spec: a copy takes one absolute path of at most %d bytes", CSPEC_MAX_PATH);
	return check_vm(s, e);
}
