/* sandbox-runtime's config.json parser (config_int.h): the process object,
 * config.json's or an exec's --process: args, env, cwd, user, terminal,
 * rlimits and capabilities. */
#include <stdint.h>
#include <string.h>
#include <sys/resource.h>

#include "config_int.h"

static const struct { const char *name; int res; } rlimit_names[] = {
	{ "RLIMIT_NOFILE", RLIMIT_NOFILE }, { "RLIMIT_NPROC", RLIMIT_NPROC }, { "RLIMIT_CORE", RLIMIT_CORE },
	{ "RLIMIT_STACK", RLIMIT_STACK }, { "RLIMIT_AS", RLIMIT_AS }, { "RLIMIT_FSIZE", RLIMIT_FSIZE },
	{ "RLIMIT_CPU", RLIMIT_CPU }, { "RLIMIT_MEMLOCK", RLIMIT_MEMLOCK }, { "RLIMIT_DATA", RLIMIT_DATA },
	{ "RLIMIT_LOCKS", RLIMIT_LOCKS }, { "RLIMIT_MSGQUEUE", RLIMIT_MSGQUEUE }, { "RLIMIT_NICE", RLIMIT_NICE },
	{ "RLIMIT_RTPRIO", RLIMIT_RTPRIO }, { "RLIMIT_RTTIME", RLIMIT_RTTIME }, { "RLIMIT_SIGPENDING", RLIMIT_SIGPENDING },
	{ "RLIMIT_RSS", RLIMIT_RSS },
};

static int parse_rlimits(struct oci_config *c, json_object *v, struct err *e)
{
	if (!json_object_is_type(v, json_type_array))
		return err_set(e, "config.json: process.rlimits must be an array");
	size_t n = json_object_array_length(v);
	if (n > CSPEC_MAX_RLIMITS)
		return err_set(e, "config.json: process.rlimits: more than %d", CSPEC_MAX_RLIMITS);
	static const struct key keys[] = { { "type", HONOUR }, { "soft", HONOUR }, { "hard", HONOUR } };
	for (size_t i = 0; i < n; i++) {
		json_object *r = json_object_array_get_idx(v, i), *t, *s, *h;
		const char *type;
		int64_t soft, hard;
		if (cfg_keys(c, r, "process.rlimits[]", keys, 3, e))
			return -1;
		if (!json_object_object_get_ex(r, "type", &t) || !json_object_object_get_ex(r, "soft", &s) ||
		    !json_object_object_get_ex(r, "hard", &h))
			return err_set(e, "config.json: process.rlimits[%zu]: want type, soft and hard", i);
		if (cfg_str(t, "process.rlimits[].type", &type, e) ||
		    cfg_int(s, "process.rlimits[].soft", 0, INT64_MAX, &soft, e) ||
		    cfg_int(h, "process.rlimits[].hard", 0, INT64_MAX, &hard, e))
			return -1;
		size_t k = 0;
		while (k < sizeof(rlimit_names) / sizeof(rlimit_names[0]) && strcmp(rlimit_names[k].name, type))
			k++;
		if (k == sizeof(rlimit_names) / sizeof(rlimit_names[0]))
			return err_set(e, "config.json: process.rlimits: unknown type '%.40s'", type);
		if (soft > hard)
			return err_set(e, "config.json: process.rlimits: %s: soft above hard", type);
		for (unsigned j = 0; j < c->nrlimits; j++)
			if (c->rlimits[j].resource == (uint32_t)rlimit_names[k].res)
				return err_set(e, "config.json: process.rlimits: %s twice", type);
		c->rlimits[c->nrlimits++] = (struct cspec_rlimit){ .resource = (uint32_t)rlimit_names[k].res,
								   .soft = (uint64_t)soft, .hard = (uint64_t)hard };
	}
	return 0;
}

/* Linux's capability numbers (linux/capability.h), by name. */
static const char *const cap_names[CSPEC_CAP_BITS] = {
	"CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_DAC_READ_SEARCH", "CAP_FOWNER", "CAP_FSETID", "CAP_KILL",
	"CAP_SETGID", "CAP_SETUID", "CAP_SETPCAP", "CAP_LINUX_IMMUTABLE", "CAP_NET_BIND_SERVICE",
	"CAP_NET_BROADCAST", "CAP_NET_ADMIN", "CAP_NET_RAW", "CAP_IPC_LOCK", "CAP_IPC_OWNER", "CAP_SYS_MODULE",
	"CAP_SYS_RAWIO", "CAP_SYS_CHROOT", "CAP_SYS_PTRACE", "CAP_SYS_PACCT", "CAP_SYS_ADMIN", "CAP_SYS_BOOT",
	"CAP_SYS_NICE", "CAP_SYS_RESOURCE", "CAP_SYS_TIME", "CAP_SYS_TTY_CONFIG", "CAP_MKNOD", "CAP_LEASE",
	"CAP_AUDIT_WRITE", "CAP_AUDIT_CONTROL", "CAP_SETFCAP", "CAP_MAC_OVERRIDE", "CAP_MAC_ADMIN", "CAP_SYSLOG",
	"CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_READ", "CAP_PERFMON", "CAP_BPF",
	"CAP_CHECKPOINT_RESTORE",
};

/* A list of capability names into a mask. */
static int cap_set(json_object *v, const char *path, uint64_t *mask, struct err *e)
{
	const char *names[CSPEC_CAP_BITS * 2];
	unsigned n;
	*mask = 0;
	if (cfg_strs(v, path, names, &n, CSPEC_CAP_BITS * 2, e))
		return -1;
	for (unsigned i = 0; i < n; i++) {
		unsigned k = 0;
		while (k < CSPEC_CAP_BITS && strcmp(cap_names[k], names[i]))
			k++;
		if (k == CSPEC_CAP_BITS)
			return err_set(e, "config.json: %s: unknown capability '%.40s'", path, names[i]);
		*mask |= 1ULL << k;
	}
	return 0;
}

static int parse_caps(struct oci_config *c, json_object *o, struct err *e)
{
	static const struct key keys[] = {
		{ "bounding", HONOUR }, { "effective", HONOUR }, { "permitted", HONOUR },
		{ "inheritable", NOTE_IF_SET }, { "ambient", NOTE_IF_SET },
	};
	if (cfg_keys(c, o, "process.capabilities", keys, sizeof(keys) / sizeof(keys[0]), e))
		return -1;
	json_object *v;
	uint64_t eff = 0, perm = 0;
	if (json_object_object_get_ex(o, "bounding", &v) &&
	    cap_set(v, "process.capabilities.bounding", &c->cap_bounding, e))
		return -1;
	if (json_object_object_get_ex(o, "effective", &v) && cap_set(v, "process.capabilities.effective", &eff, e))
		return -1;
	if (json_object_object_get_ex(o, "permitted", &v) && cap_set(v, "process.capabilities.permitted", &perm, e))
		return -1;
	/* what a process can hold: effective within permitted, both within bounding */
	c->cap_effective = eff & perm & c->cap_bounding;
	return 0;
}

static int parse_user(struct oci_config *c, json_object *u, struct err *e)
{
	static const struct key keys[] = {
		{ "uid", HONOUR }, { "gid", HONOUR }, { "umask", NOTE_IF_SET }, { "additionalGids", NOTE_IF_SET },
		{ "username", REFUSE_IF_SET },
	};
	if (cfg_keys(c, u, "process.user", keys, sizeof(keys) / sizeof(keys[0]), e))
		return -1;
	json_object *v;
	int64_t x;
	if (json_object_object_get_ex(u, "uid", &v)) {
		if (cfg_int(v, "process.user.uid", 0, UINT32_MAX - 1, &x, e))
			return -1;
		c->uid = (uint32_t)x;
	}
	if (json_object_object_get_ex(u, "gid", &v)) {
		if (cfg_int(v, "process.user.gid", 0, UINT32_MAX - 1, &x, e))
			return -1;
		c->gid = (uint32_t)x;
	}
	return 0;
}

int cfg_process(struct oci_config *c, json_object *p, struct err *e)
{
	static const struct key keys[] = {
		{ "terminal", HONOUR }, { "consoleSize", HONOUR }, { "user", HONOUR }, { "args", HONOUR },
		{ "env", HONOUR }, { "cwd", HONOUR }, { "rlimits", HONOUR },
		{ "noNewPrivileges", HONOUR },  /* always on in the guest */
		{ "capabilities", HONOUR }, { "apparmorProfile", NOTE_IF_SET }, { "selinuxLabel", NOTE_IF_SET },
		{ "oomScoreAdj", NOTE_IF_SET }, { "commandLine", REFUSE_IF_SET }, { "ioPriority", NOTE_IF_SET },
		{ "scheduler", REFUSE_IF_SET },
	};
	if (cfg_keys(c, p, "process", keys, sizeof(keys) / sizeof(keys[0]), e))
		return -1;
	json_object *v;
	if (json_object_object_get_ex(p, "terminal", &v) && cfg_bool(v, "process.terminal", &c->terminal, e))
		return -1;
	if (json_object_object_get_ex(p, "user", &v) && parse_user(c, v, e))
		return -1;
	if (!json_object_object_get_ex(p, "args", &v))
		return err_set(e, "config.json: process.args is missing");
	if (cfg_strs(v, "process.args", c->args, &c->nargs, CSPEC_MAX_ARGS, e))
		return -1;
	if (!c->nargs)
		return err_set(e, "config.json: process.args is empty");
	if (json_object_object_get_ex(p, "env", &v) && cfg_strs(v, "process.env", c->env, &c->nenv, CSPEC_MAX_ENV, e))
		return -1;
	for (unsigned i = 0; i < c->nenv; i++)
		if (!strchr(c->env[i], '=') || c->env[i][0] == '=')
			return err_set(e, "config.json: process.env[%u]: want KEY=VALUE", i);
	if (!json_object_object_get_ex(p, "cwd", &v))
		return err_set(e, "config.json: process.cwd is missing");
	if (cfg_str(v, "process.cwd", &c->cwd, e))
		return -1;
	if (c->cwd[0] != '/' || strlen(c->cwd) > CSPEC_MAX_PATH)
		return err_set(e, "config.json: process.cwd must be an absolute path");
	bool nnp;
	if (json_object_object_get_ex(p, "noNewPrivileges", &v) && cfg_bool(v, "process.noNewPrivileges", &nnp, e))
		return -1;
	if (json_object_object_get_ex(p, "rlimits", &v) && parse_rlimits(c, v, e))
		return -1;
	if (json_object_object_get_ex(p, "capabilities", &v) && !json_object_is_type(v, json_type_null) &&
	    parse_caps(c, v, e))
		return -1;
	return 0;
}
